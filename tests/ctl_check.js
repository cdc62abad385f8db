// SPDX-License-Identifier: GPL-3.0-or-later
// ctl_check.js: reads jack_probe recordings of musicvaed's output for tests/test_ctl_jack.sh (changes made over
// the control socket) and prints what the shell test compares. Exit status 1 on a failed check.
//
//   notes REC BPM [BPM2 AT_BAR]   "step pitch" of every note-on on the internal clock's grid (a tempo change to
//                                 BPM2 at bar AT_BAR: the grid continues from that bar line); fails on any
//                                 note-on off its step's exact frame
//   ticks REC BPM BPM2 AT_BAR     every 0xF8 on its tick's frame: BPM before bar AT_BAR, BPM2 from its first tick
//   window NS.JSON BAR            "step pitch" of a NoteSequence JSON (musicvae decode --json, first result)
//                                 shifted to start at bar BAR
'use strict';
const fs = require('fs');

function read(path) {
  const ev = [];
  let rate = 48000;
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^# rate (\d+)/);
    if (m) { rate = +m[1]; continue; }
    if (!line || line[0] === '#') continue;
    const f = line.trim().split(/\s+/);
    ev.push({ frame: +f[0], bytes: f.slice(1).map((h) => parseInt(h, 16)) });
  }
  const start = ev.find((e) => e.bytes[0] === 0xfa);
  if (!start) { console.log('# FAIL: no Start (0xFA) in the recording'); process.exit(1); }
  return { ev, rate, origin: start.frame };
}

// Frame of step k: bpm up to bar atBar, bpm2 after it (the bar line keeps its frame).
function stepFrame(r, k, bpm, bpm2, atBar) {
  const f1 = (60 * r.rate) / (bpm * 4);
  if (!(bpm2 > 0) || k <= atBar * 16) return r.origin + Math.round(k * f1);
  const pivot = r.origin + Math.round(atBar * 16 * f1);
  return pivot + Math.round((k - atBar * 16) * ((60 * r.rate) / (bpm2 * 4)));
}

function notes(r, bpm, bpm2, atBar) {
  let bad = 0;
  for (const e of r.ev) {
    if ((e.bytes[0] & 0xf0) !== 0x90 || e.bytes[2] === 0) continue;
    let k = 0;
    while (stepFrame(r, k + 1, bpm, bpm2, atBar) <= e.frame) k++;
    if (stepFrame(r, k + 1, bpm, bpm2, atBar) - e.frame < e.frame - stepFrame(r, k, bpm, bpm2, atBar)) k++;
    const want = stepFrame(r, k, bpm, bpm2, atBar);
    if (want !== e.frame) {
      if (bad++ < 5) console.log(`# FAIL: note-on at frame ${e.frame} is ${e.frame - want} frames off step ${k}`);
      process.exitCode = 1;
    }
    console.log(`${k} ${e.bytes[1]}`);
  }
}

function ticks(r, bpm, bpm2, atBar) {
  const t = r.ev.filter((e) => e.bytes[0] === 0xf8 && e.frame >= r.origin).map((e) => e.frame);
  const pivotTick = atBar * 96, f1 = (60 * r.rate) / (bpm * 24), f2 = (60 * r.rate) / (bpm2 * 24);
  const pivot = r.origin + Math.round(pivotTick * f1);
  let worst = 0;
  t.forEach((f, k) => {
    const want = k <= pivotTick ? r.origin + Math.round(k * f1) : pivot + Math.round((k - pivotTick) * f2);
    if (Math.abs(f - want) > Math.abs(worst)) worst = f - want;
  });
  console.log(`# ${t.length} ticks, ${t.length > pivotTick ? 'through' : 'NOT reaching'} the change at tick ` +
    `${pivotTick}; worst error ${worst} frames`);
  if (worst !== 0 || t.length <= pivotTick + 24) process.exitCode = 1;
}

function window(path, bar) {
  const ns = JSON.parse(fs.readFileSync(path, 'utf8'));
  const seq = Array.isArray(ns) ? ns[0] : ns;
  const out = seq.notes.map((n) => [(n.quantizedStartStep || 0) + bar * 16, n.pitch]);
  out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [s, p] of out) console.log(`${s} ${p}`);
}

const [cmd, a, b, c, d] = process.argv.slice(2);
if (cmd === 'notes') notes(read(a), +b, +c, +d);
else if (cmd === 'ticks') ticks(read(a), +b, +c, +d);
else if (cmd === 'window') window(a, +b);
else { console.error('usage: ctl_check.js notes|ticks|window ...'); process.exit(2); }
