// SPDX-License-Identifier: GPL-3.0-or-later
// daemon_check.js: reads jack_probe recordings of musicvaed's output (and of the clock it followed) and
// checks timing and content. Prints TAP-friendly "# ..." diagnostics; exit status 1 on failure.
//
//   grid  REC BPM BARS            internal clock: every note-on exactly on origin + round(k*60*rate/(bpm*4))
//   steps REC BPM                 internal clock: prints "step on|off pitch" lines (content of a run)
//   ticks REC TOL_MS [continue]   external clock: every note-on within TOL_MS of the tick that begins its
//                                 step (or, when that tick never came, of the tick that revealed the gap);
//                                 prints "step on|off pitch" lines numbered by those ticks ("continue": only
//                                 those after the last Continue)
//   stop  REC                     after each 0xFC, every sounding note is off in the same period
//   held  REC                     every note-on has its note-off by the end
//   show  REC SCRIPT BPM          prints the played phrase (a jack_probe script relative to the Start) and the
//                                 recorded answer as one line of note names per bar
'use strict';
const fs = require('fs');

function read(path) {
  const ev = [];
  let rate = 48000, period = 256;
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^# rate (\d+) period (\d+)/);
    if (m) { rate = +m[1]; period = +m[2]; continue; }
    if (!line || line[0] === '#') continue;
    const f = line.trim().split(/\s+/);
    ev.push({ frame: +f[0], bytes: f.slice(1).map((h) => parseInt(h, 16)) });
  }
  return { ev, rate, period };
}

const isOn = (b) => (b[0] & 0xf0) === 0x90 && b[2] > 0;
const isOff = (b) => (b[0] & 0xf0) === 0x80 || ((b[0] & 0xf0) === 0x90 && b[2] === 0);
const fail = (msg) => { console.log(`# FAIL: ${msg}`); process.exitCode = 1; };

function origin(r) {
  const s = r.ev.find((e) => e.bytes[0] === 0xfa);
  if (!s) { fail('no Start (0xFA) in the recording'); process.exit(1); }
  return s.frame;
}

function grid(r, bpm, bars) {
  const o = origin(r), fps = (60 * r.rate) / (bpm * 4);
  let worst = 0, n = 0;
  const perBar = new Map();
  for (const e of r.ev) {
    if (!isOn(e.bytes)) continue;
    const k = Math.round((e.frame - o) / fps), want = o + Math.round(k * fps), err = e.frame - want;
    if (Math.abs(err) > Math.abs(worst)) worst = err;
    if (err !== 0 && n < 1e9) fail(`note-on at frame ${e.frame} is ${err} frames off step ${k} (frame ${want})`);
    n++;
    perBar.set(Math.floor(k / 16), (perBar.get(Math.floor(k / 16)) || 0) + 1);
  }
  // when leading with send_clock: tick k at origin + round(k * 60 * rate / (bpm * 24)), none missing
  const ticks = r.ev.filter((e) => e.bytes[0] === 0xf8 && e.frame >= o).map((e) => e.frame);
  let tickErr = 0;
  ticks.forEach((f, k) => { const d = f - (o + Math.round((k * 60 * r.rate) / (bpm * 24))); if (Math.abs(d) > Math.abs(tickErr)) tickErr = d; });
  if (ticks.length) {
    console.log(`# ${ticks.length} clock ticks sent, worst error ${tickErr} frames`);
    if (tickErr !== 0) fail(`clock ticks off the grid by up to ${tickErr} frames`);
  }
  const covered = [...Array(bars).keys()].filter((b) => perBar.get(b) > 0).length;
  console.log(`# ${n} note-ons, ${covered}/${bars} bars with notes, worst error ${worst} frames (${bpm} BPM)`);
  if (covered < bars) fail(`only ${covered} of the first ${bars} bars have notes`);
}

function steps(r, bpm) {
  const o = origin(r), fps = (60 * r.rate) / (bpm * 4);
  for (const e of r.ev) {
    if (!isOn(e.bytes) && !isOff(e.bytes)) continue;
    console.log(`${Math.round((e.frame - o) / fps)} ${isOn(e.bytes) ? 'on' : 'off'} ${e.bytes[1]}`);
  }
}

// Tick i (0 = the first 0xF8 after the latest Start, or SPP*6 after a Continue) begins step i/6.
function ticks(r, tolMs, afterContinue) {
  const tol = (tolMs * r.rate) / 1000, tickAt = new Map(), seen = new Set();
  let tick = null, worst = 0, late = 0, from = -1, last = null, dropped = 0;
  const out = [];
  // the typical tick interval, to see ticks the sender dropped (a gap of about two intervals)
  const f8 = r.ev.filter((e) => e.bytes[0] === 0xf8).map((e) => e.frame);
  const gaps = f8.slice(1).map((f, i) => f - f8[i]).sort((a, b) => a - b);
  const typical = gaps.length ? gaps[gaps.length >> 1] : Infinity;
  for (const e of r.ev) {
    const b = e.bytes;
    if (b[0] === 0xfa) { tick = 0; last = null; }
    else if (b[0] === 0xf2) { tick = (b[1] | (b[2] << 7)) * 6; last = null; }
    else if (b[0] === 0xfb) { if (tick === null) tick = 0; last = null; }
    else if (b[0] === 0xfc) last = null;
    else if (b[0] === 0xf8 && tick !== null) {
      if (last !== null && e.frame - last > 1.5 * typical) {
        const n = Math.round((e.frame - last) / typical) - 1;
        tick += n;
        dropped += n;
      }
      tickAt.set(e.frame, tick); seen.add(tick); tick++; last = e.frame;
    }
    if (b[0] === 0xfb && afterContinue) from = e.frame;
  }
  const frames = [...tickAt.keys()].sort((a, b) => a - b);
  for (const e of r.ev) {
    if (!isOn(e.bytes) && !isOff(e.bytes)) continue;
    let lo = 0, hi = frames.length - 1;         // nearest tick frame
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (frames[mid] <= e.frame) lo = mid; else hi = mid; }
    const f = Math.abs(frames[lo] - e.frame) <= Math.abs(frames[hi] - e.frame) ? frames[lo] : frames[hi];
    let i = tickAt.get(f);
    const err = e.frame - f;
    if (i % 6 !== 0 && !seen.has(i - (i % 6))) { i -= i % 6; late++; }  // its tick was dropped: late
    if (isOn(e.bytes)) {
      if (Math.abs(err) > Math.abs(worst)) worst = err;
      if (Math.abs(err) > tol) fail(`note-on at frame ${e.frame}: nearest tick ${i} is ${err} frames away`);
      if (i % 6 !== 0) fail(`note-on at frame ${e.frame} on tick ${i}, which begins no step`);
    }
    if (e.frame > from) out.push(`${Math.round(i / 6)} ${isOn(e.bytes) ? 'on' : 'off'} ${e.bytes[1]}`);
  }
  console.log(`# ${out.length} note events on ${frames.length} ticks, worst note-on error ${worst} frames ` +
    `(${((worst * 1000) / r.rate).toFixed(3)} ms), ${dropped} ticks dropped by the sender, ` +
    `${late} note events at the tick after a dropped one`);
  for (const l of out) console.log(l);
}

function sounding(r, upto) {
  const on = new Map();
  for (const e of r.ev) {
    if (e.frame > upto) break;
    const k = `${e.bytes[0] & 15}:${e.bytes[1]}`;
    if (isOn(e.bytes)) on.set(k, (on.get(k) || 0) + 1);
    else if (isOff(e.bytes) && on.get(k)) on.set(k, on.get(k) - 1);
  }
  return [...on.entries()].filter(([, v]) => v > 0).map(([k]) => k);
}

function stop(r) {
  let stops = 0;
  for (const e of r.ev) {
    if (e.bytes[0] !== 0xfc) continue;
    stops++;
    const end = e.frame - (e.frame % r.period) + r.period - 1;
    const left = sounding(r, end);
    console.log(`# Stop at frame ${e.frame}: ${left.length} notes still sounding at the end of its period`);
    if (left.length) fail(`notes ${left.join(', ')} still sounding after the Stop at ${e.frame}`);
  }
  if (!stops) fail('no Stop (0xFC) in the recording');
}

function held(r) {
  const left = sounding(r, Infinity);
  console.log(`# ${left.length} notes left sounding at the end`);
  if (left.length) fail(`stuck notes: ${left.join(', ')}`);
}

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
function showLine(label, ons, bar) {
  const cells = [];
  for (let s = 0; s < 16; s++) {
    const n = ons.get(bar * 16 + s);
    cells.push((n === undefined ? '.' : NAMES[n % 12] + (Math.floor(n / 12) - 1)).padEnd(4));
  }
  console.log(`${label.padEnd(10)} bar ${bar} |${cells.join('')}|`);
}
function show(r, script, bpm) {
  const o = origin(r), fps = (60 * r.rate) / (bpm * 4), played = new Map(), answered = new Map();
  for (const l of fs.readFileSync(script, 'utf8').split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length === 4 && f[1] === '90') played.set(Math.round(+f[0] / fps), parseInt(f[2], 16));
  }
  for (const e of r.ev) if (isOn(e.bytes)) answered.set(Math.round((e.frame - o) / fps), e.bytes[1]);
  const bars = new Set([...played.keys(), ...answered.keys()].map((s) => Math.floor(s / 16)));
  for (const bar of [...bars].sort((x, y) => x - y)) {
    if ([...played.keys()].some((s) => Math.floor(s / 16) === bar)) showLine('you', played, bar);
    if ([...answered.keys()].some((s) => Math.floor(s / 16) === bar)) showLine('musicvaed', answered, bar);
  }
}

const [cmd, rec, a, b] = process.argv.slice(2);
const r = read(rec);
if (cmd === 'grid') grid(r, +a, +b);
else if (cmd === 'steps') steps(r, +a);
else if (cmd === 'ticks') ticks(r, +a, b === 'continue');
else if (cmd === 'stop') stop(r);
else if (cmd === 'held') held(r);
else if (cmd === 'show') show(r, a, +b);
else { console.error('usage: daemon_check.js grid|steps|ticks|stop|held REC ...'); process.exit(2); }
