#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_daemon_groove.sh: a GrooVAE (GrooveConverter) model in musicvaed on a private `jackd -d dummy`: every
# note-on leaves at its step's frame plus its micro-timing offset (internal clock: exactly, rounded to the
# nearest frame; steady external clock: within one frame), with the model's velocity; output.groove_timing = 0
# (by SIGHUP) puts every note back on its step; continue mode humanizes a quantized beat the player feeds in.
# The expected notes come from `musicvae encode` + `musicvae decode --json` of the same input, not from the
# daemon: the daemon loads examples/beat.mid into slots A and B (`load`) and morphs A to B (every window
# decodes the same z: a lerp between equal vectors is exact), or encodes the phrase it captured.
set -u
. "${top_srcdir:-.}/tests/jackenv.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}
D=$build/musicvaed
MV=$build/musicvae
CC=$build/musicvaectl
CHECK="node $src/tests/daemon_check.js"
command -v node >/dev/null 2>&1 || { echo "1..0 # SKIP node missing (run scripts/install-deps)"; exit 0; }
[ -d "$src/tests/ref/node_modules/@tensorflow" ] || [ -d "$src/tests/ref/node_modules/@magenta" ] ||
	{ echo "1..0 # SKIP tests/ref/node_modules missing (cd tests/ref && npm ci): no synthetic groove checkpoint"; exit 0; }
echo "1..14"
jackenv_start
W=$JACKENV_DIR
S=$JACKENV_SERVER
MUSICVAED_SOCKET=$W/ctl; export MUSICVAED_SOCKET
node "$src/tests/ref/gen_ckpt.js" --arch groove --dtype float32 --seed 1 --out "$W/groove" > "$W/gen.log" 2>&1 ||
	{ jackenv_show "$W/gen.log"; jackenv_bail "gen_ckpt.js --arch groove failed"; }
mkdir -p "$W/midi"
cp "$src/examples/beat.mid" "$W/midi/"
"$MV" encode "$W/groove" "$src/examples/beat.mid" > "$W/beat.z" 2>/dev/null &&
	"$MV" decode "$W/groove" "$W/beat.z" --json > "$W/beat.ns.json" 2>/dev/null || jackenv_bail "musicvae encode/decode"

# conf NAME SETTINGS...: the groove model at temperature 0, output to the recorder, input from `play`/`clk`
conf() {
	f=$W/$1.conf; shift
	{
		echo "model = { path = \"$W/groove\"; seed = 5; temperature = 0.0; };"
		echo "backend = { type = \"jack\"; server_name = \"$S\"; connect_output = [ \"^rec:in\$\" ];"
		echo "  connect_input = [ \"^(play|clk):\" ]; };"
		echo "control = { midi_dir = \"$W/midi\"; };"
		for l in "$@"; do echo "$l"; done
	} > "$f"
	echo "$f"
}
record() {
	rm -f "$W/rec.ready"
	jackenv_bg "$JACK_PROBE" record --server "$S" --client rec --out "$W/$1.rec" --ready "$W/rec.ready"
	REC=$JACKENV_LASTPID
	jackenv_wait_file "$W/rec.ready" 10 || jackenv_bail "recorder did not start"
}
daemon() {
	jackenv_bg "$D" -c "$@"
	DPID=$JACKENV_LASTPID
	DLOG=$W/bg$JACKENV_NBG.log
	i=0; until "$CC" ping >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 100 ] && jackenv_bail "no control socket"; sleep 0.1; done
}
finish() {
	jackenv_kill "$DPID"; DSTAT=$JACKENV_STATUS
	sleep 0.2
	jackenv_kill "$REC" INT
}
ctl() { "$CC" "$@"; }
field() { sed -n "s/^$1: //p"; }
# bar_wait N [SECONDS_PER_BAR]: until the daemon's clock is in bar N or later
bar_wait() {
	deadline=$(($(date +%s) + ${2:-2} * $1 + 20))
	while :; do
		b=$(ctl status 2>/dev/null | sed -n 's/^bar: //p')
		[ "${b:--1}" -ge "$1" ] && return 0
		[ "$(date +%s)" -gt "$deadline" ] && return 1
		sleep 0.05
	done
}

# gcheck.js MODE REC NS.json FIRST_BAR NBARS [FALLBACK_STEP]: the recorded note-ons of bars FIRST_BAR ..
# FIRST_BAR + NBARS - 1 against NS.json (one window of the model, repeated from FIRST_BAR on). A note at
# startTime x is on step t = round(x / 0.125) with offset x / 0.125 - t steps, q = round(offset * 32768) (half
# away from zero, as the daemon rounds). MODE internal: frame = Start's frame + step * 6000 (120 BPM at 48 kHz)
# + round(q * 6000 / 32768), exactly; external: within one frame of the frame of the step's 0xF8 (the 6 k-th
# after the Start) + q * fps / 32768, fps from the ticks' mean interval; quantized: on the step's frame. Early
# notes of FALLBACK_STEP (the first of an answer: its bar is decided after the step before it) on the step.
cat > "$W/gcheck.js" <<'EOF'
'use strict';
const fs = require('fs');
const [mode, recf, nsf, first, nbars, fallback] = process.argv.slice(2);
const rnd = (v) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
const ev = fs.readFileSync(recf, 'utf8').split('\n').filter((l) => l && l[0] !== '#').map((l) => l.trim().split(/\s+/));
const fa = ev.findIndex((f) => f[1] === 'FA');
if (fa < 0) { console.log('# no Start recorded'); process.exit(1); }
const origin = +ev[fa][0];
const ticks = ev.slice(fa).filter((f) => f[1] === 'F8').map((f) => +f[0]);
const fps = mode === 'external' ? 6 * (ticks[ticks.length - 1] - ticks[0]) / (ticks.length - 1) : 6000;
const stepFrame = (s) => (mode === 'external' ? ticks[6 * s] : origin + s * 6000);
const ons = ev.filter((f) => /^9/.test(f[1]) && f[3] !== '00').map((f) => ({ frame: +f[0], pitch: parseInt(f[2], 16),
  vel: parseInt(f[3], 16), used: false }));
const win = JSON.parse(fs.readFileSync(nsf, 'utf8'))[0];
const W = Math.round(win.totalTime / 2) || 2;   /* bars per window (2 s a bar at the codec's 120 qpm) */
const want = [];
for (let b = +first; b < +first + +nbars; b++) {
  const k = (b - +first) % W;
  for (const n of win.notes) {
    const x = n.startTime / 0.125, t = Math.round(x);
    if (t < 16 * k || t >= 16 * (k + 1)) continue;
    const q = rnd((x - t) * 32768), step = 16 * (b - k) + t;
    let f;
    if (mode === 'quantized' || (fallback !== undefined && step === +fallback && q < 0)) f = stepFrame(step);
    else if (mode === 'internal') f = stepFrame(step) + rnd(q * fps / 32768);
    else f = stepFrame(step) + q * fps / 32768;
    want.push({ step, pitch: n.pitch, vel: n.velocity > 0 ? n.velocity : 1, q, f });
  }
}
const lo = stepFrame(16 * +first) - fps / 2, hi = stepFrame(16 * (+first + +nbars)) - fps / 2;
let bad = 0, worst = 0, early = 0, late = 0;
for (const w of want) {
  let best = null;
  for (const o of ons)
    if (!o.used && o.pitch === w.pitch && Math.abs(o.frame - w.f) < fps / 4 && (!best || Math.abs(o.frame - w.f) < Math.abs(best.frame - w.f)))
      best = o;
  const tol = mode === 'external' ? 1 : 0;
  if (!best || Math.abs(best.frame - w.f) > tol || best.vel !== w.vel) {
    if (bad++ < 8) console.log(`# step ${w.step} pitch ${w.pitch} q ${w.q}: want frame ${w.f} vel ${w.vel}, got ` +
      (best ? `${best.frame} vel ${best.vel}` : 'none'));
    continue;
  }
  best.used = true;
  worst = Math.max(worst, Math.abs(best.frame - w.f));
  if (w.q < 0 && best.frame < stepFrame(w.step)) early++;
  if (w.q > 0 && best.frame > stepFrame(w.step)) late++;
}
const extra = ons.filter((o) => !o.used && o.frame >= lo && o.frame < hi).length;
console.log(`# ${mode}: ${want.length} note-ons expected in bars ${first}..${+first + +nbars - 1}, ${want.length - bad} ` +
  `matched (${early} before their step, ${late} after it; largest error ${worst.toFixed(3)} frames), ${extra} unexpected`);
process.exit(bad === 0 && extra === 0 && want.length > 0 ? 0 : 1);
EOF
G="node $W/gcheck.js"

# 1-5. Internal clock, 120 BPM: `load A beat.mid`, `load B beat.mid`, `morph A B 2 lerp hold`: from the
# morph's bar on, every note-on at its step's frame + its offset, with the model's velocity.
record int
daemon "$(conf int 'mode = "morph";' 'clock = { bpm = 120.0; send_transport = true; send_clock = true; };')"
bar_wait 0
ctl load A beat.mid > "$W/cl" 2>&1 && ctl load B beat.mid >> "$W/cl" 2>&1; rl=$?
ctl morph A B 2 lerp hold > "$W/cm" 2>&1; rm_=$?
M=$(field applied_bar < "$W/cm")
[ $rl = 0 ] && [ $rm_ = 0 ] && [ -n "$M" ]; jackenv_ok $? "load A and B beat.mid, morph A B 2 lerp hold: accepted (from bar ${M:-?})"
[ -n "$M" ] || { cat "$W/cl" "$W/cm" | sed 's/^/# /'; M=4; }
bar_wait $((M + 4))
# groove_timing 0: the bars already queued (up to 3 past the current one) keep their offsets; the windows
# decoded after the reload have every note on its step (mode stays morph: the file says so too)
conf int 'mode = "morph";' 'clock = { bpm = 120.0; send_transport = true; send_clock = true; };' \
	'output = { groove_timing = 0.0; };' > /dev/null
kill -HUP "$DPID"
R=$(($(ctl status | sed -n 's/^bar: //p') + 4))
bar_wait $((R + 2))
finish
$G internal "$W/int.rec" "$W/beat.ns.json" "$M" 4 > "$W/out" 2>&1; jackenv_ok $? "internal clock: every groove note-on exactly at its step's frame + round(offset x 6000 / 32768), velocity the model's (4 bars)"
cat "$W/out"
grep -q ' 0 before their step\| 0 after it' "$W/out"; [ $? != 0 ]; jackenv_ok $? "and some are early, some late (the pattern has both)"
$G quantized "$W/int.rec" "$W/beat.ns.json" "$R" 2 > "$W/out" 2>&1; jackenv_ok $? "output.groove_timing = 0 by SIGHUP: bars $R-$((R + 1)) on their steps, same notes and velocities"
cat "$W/out"
$CHECK held "$W/int.rec" > "$W/out" 2>&1; jackenv_ok $? "no note left sounding"
cat "$W/out"

# 6-9. External clock: a steady scripted 0xF8 at 125 BPM (960 frames a tick). A clock whose period is not a
# whole number of frames (123 BPM: 975.61) puts each tick up to half a frame off the tempo line; the early notes,
# placed from the tempo estimate (unrounded, then rounded once with the offset), are then up to about one frame
# off the tick that comes (measured at 123 BPM: 350 of 351 within one frame, largest 0.968 among them; with the
# prediction rounded before the offset was added, 5 of 351 were over one frame, at most 1.47).
awk 'BEGIN { f = 48000 * 60 / (125 * 24); print 0, "FA"; for (i = 0; i < 24 * 4 * 16; i++) printf "%d F8\n", int(f * i + 0.5) + 256 }' > "$W/ext.script"
record ext
daemon "$(conf ext 'mode = "morph";' 'clock = { source = "external"; };')"
jackenv_bg "$JACK_PROBE" play --server "$S" --client clk --connect 'musicvaed:midi_in' 'rec:in' --script "$W/ext.script" --delay 4800
CLK=$JACKENV_LASTPID
bar_wait 0
ctl load A beat.mid > "$W/cl" 2>&1 && ctl load B beat.mid >> "$W/cl" 2>&1; rl=$?
ctl morph A B 2 lerp hold > "$W/cm" 2>&1; rm_=$?
M=$(field applied_bar < "$W/cm")
[ $rl = 0 ] && [ $rm_ = 0 ] && [ -n "$M" ]; jackenv_ok $? "external clock: load and morph accepted (from bar ${M:-?})"
[ -n "$M" ] || M=4
bar_wait $((M + 6))
jackenv_kill "$CLK"
finish
$G external "$W/ext.rec" "$W/beat.ns.json" "$M" 6 > "$W/out" 2>&1; jackenv_ok $? "steady external clock: every groove note-on within one frame of its step's tick + offset x frames per step (6 bars)"
cat "$W/out"
$CHECK held "$W/ext.rec" > "$W/out" 2>&1; jackenv_ok $? "external clock: no note left sounding"
jackenv_ok "$DSTAT" "external clock: daemon exited cleanly"

# 10-14. Humanize (continue mode): the player plays a quantized 2-bar beat (steps 48-79) with its velocities;
# the answer (bars 5-8: answer_bars 4, two windows of the same z at temperature 0) equals `musicvae decode` of
# `musicvae encode` of that beat, micro-timing and velocities included.
# beat: step pitch velocity (kick 36, snare 38, closed hat 42, open hat 46)
BEAT='0 36 110
0 42 80
2 42 60
4 38 100
4 42 80
6 42 60
7 36 70
8 36 105
8 42 80
10 42 60
12 38 100
12 42 80
14 46 70
16 36 110
16 42 80
18 42 60
20 38 100
20 42 80
22 42 60
24 36 100
26 36 90
26 42 60
28 38 110
28 42 80
30 46 75'
echo "$BEAT" | node -e '
const notes = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number))
  .map(([s, p, v]) => ({ pitch: p, velocity: v, isDrum: true, startTime: s * 0.125, endTime: (s + 1) * 0.125 }));
console.log(JSON.stringify({ ticksPerQuarter: 220, tempos: [{ time: 0, qpm: 120 }], totalTime: 4, notes }));' > "$W/hbeat.json"
"$MV" encode "$W/groove" "$W/hbeat.json" > "$W/hbeat.z" 2>/dev/null &&
	"$MV" decode "$W/groove" "$W/hbeat.z" --json > "$W/hbeat.ns.json" 2>/dev/null || jackenv_bail "musicvae encode/decode of the beat"
record hum
daemon "$(conf hum 'mode = "continue";' 'continue = { answer_bars = 4; candidates = 1; };' 'capture = { rest_seconds = 10.0; };' \
	'clock = { bpm = 120.0; send_transport = true; };')"
i=0; until grep -q ' FA$' "$W/hum.rec" 2>/dev/null; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
origin=$(awk '$2 == "FA" { print $1; exit }' "$W/hum.rec")
echo "$BEAT" | awk '{ on = (48 + $1) * 6000; printf "%d 99 %X %X\n%d 89 %X 40\n", on, $2, $3, on + 3000, $2 }' |
	sort -n -k1,1 -s > "$W/hum.script"
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' --script "$W/hum.script" --at "$origin"
bar_wait 9
kill -USR1 "$DPID"; sleep 0.3
sl=$(grep 'status:' "$DLOG" | tail -n 1)
finish
echo "$sl" | grep -q 'phrases 1,'; jackenv_ok $? "humanize: the beat was captured and encoded once"
$G internal "$W/hum.rec" "$W/hbeat.ns.json" 5 4 80 > "$W/out" 2>&1
jackenv_ok $? "humanize: the answer is the groove's decode of the beat, each note-on at its step's frame + its offset (the first step's early ones on it), with its velocity"
cat "$W/out"
echo "$BEAT" | awk '{ print $3 }' | sort -u > "$W/v.in"
node -e 'for (const n of require(process.argv[1])[0].notes) console.log(n.velocity)' "$W/hbeat.ns.json" | sort -u > "$W/v.out"
node -e 'let n = 0; for (const x of require(process.argv[1])[0].notes) { const o = x.startTime / 0.125 - Math.round(x.startTime / 0.125); if (Math.abs(o) > 0.01) n++; } console.log(n)' \
	"$W/hbeat.ns.json" > "$W/n.off"
! cmp -s "$W/v.in" "$W/v.out" && [ "$(cat "$W/n.off")" -gt 0 ]
jackenv_ok $? "humanize: what was checked is a groove (velocities not the player's: $(wc -l < "$W/v.out") distinct; $(cat "$W/n.off") notes off their step by more than 1 % of a step)"
$CHECK held "$W/hum.rec" > "$W/out" 2>&1; jackenv_ok $? "humanize: no note left sounding"
jackenv_ok "$DSTAT" "humanize: daemon exited cleanly"
