#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_daemon_jack.sh: musicvaed against a real JACK server (jackd -d dummy, private name): exact frames with
# the internal clock, following external clock (steady, jittered, tempo changes, dropped ticks), call and
# response, stop/SPP/continue, garbage input, and no allocation on the process thread.
set -u
. "${top_srcdir:-.}/tests/jackenv.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}
D=$build/musicvaed
CHECK="node $src/tests/daemon_check.js"
. "$src/tests/daemon_lib.sh"
command -v node >/dev/null 2>&1 || { echo "1..0 # SKIP node missing (run scripts/install-deps)"; exit 0; }
command -v jack_midi_clock >/dev/null 2>&1 || { echo "1..0 # SKIP jack_midi_clock missing (jack-midi-clock)"; exit 0; }
echo "1..57"
jackenv_start
W=$JACKENV_DIR
MUSICVAED_SOCKET=$W/ctl; export MUSICVAED_SOCKET
"$build/tests/mkmodel" mel "$W/mel" 7 || jackenv_bail "mkmodel failed"
S=$JACKENV_SERVER

# conf NAME SETTINGS...: a configuration file with the test's server and model
conf() {
	f=$W/$1.conf; shift
	{
		echo "model = { path = \"${MODEL:-$W/mel}\"; seed = 11; temperature = ${TEMP:-0.5}; };"
		echo "backend = { type = \"jack\"; server_name = \"$S\"; connect_output = [ \"^rec:in\$\" ];"
		echo "  connect_input = [ \"^(play|clk|jack_midi_clock):\" ]; };"
		for l in "$@"; do echo "$l"; done
	} > "$f"
	echo "$f"
}
# record: start the recorder (port rec:in) before the daemon so that it sees the daemon's first event
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
}
# frames_wait N: sleep until the server has run about N frames (the dummy driver runs in real time)
frames_wait() {
	sleep "$(awk -v n="$1" -v r="$JACKENV_RATE" 'BEGIN { printf "%.2f", n / r + 0.3 }')"
}
# mclk ARGS...: jack_midi_clock, started before the daemon (whose connect_input pattern takes its port)
# and connected to the recorder; the transport is started later by the clockmaster, so it sends Start
mclk() {
	jackenv_bg jack_midi_clock "$@"
	MC=$JACKENV_LASTPID
	i=0
	until jack_connect -s "$S" jack_midi_clock:mclk_out rec:in >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 50 ] && jackenv_bail "cannot connect jack_midi_clock to the recorder"
		sleep 0.1
	done
}
# ext_run RUN MODEL SCRIPT: recorded as $W/RUN.rec, the player plays SCRIPT (external clock) to the daemon with
# $W/MODEL; st is the daemon's status line at the end
ext_run() {
	record "$1"
	daemon "$(MODEL=$W/$2 conf "$1" 'clock = { source = "external"; };')"
	jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' 'rec:in' --script "$3" --delay 512
	frames_wait "$(tail -n 1 "$3" | cut -d' ' -f1)"
	st=$(status)
	finish
}
# bars_ok NAME: test NAME, that ext_run's status shows no bar repeated or missing and no resync
bars_ok() {
	echo "$st" | grep -q 'repeated 0, missing 0,.* resyncs 0,'
	jackenv_ok $? "$1"
	echo "# $(echo "$st" | sed -n 's/.*\(bars played.*stale [0-9]*\).*\(resyncs [0-9]*\).*/\1, \2/p')"
}
# trim FILE: the events of whole bars before the run's last one (its end is cut by SIGTERM's note-offs)
trim() {
	awk 'NR == FNR { if ($2 == "on" && $1 > m) m = $1; next } $1 < 16 * int(m / 16)' "$1" "$1"
}
status() {
	kill -USR1 "$DPID"; sleep 0.3
	grep 'status:' "$DLOG" | tail -n 1
}
finish() {
	jackenv_kill "$DPID"; DSTAT=$JACKENV_STATUS
	sleep 0.2
	jackenv_kill "$REC" INT
}

# 1-4. Internal clock, generate mode: every note-on on its step's exact frame for 16 bars.
for bpm in 120 173; do
	record grid$bpm
	daemon "$(conf grid$bpm "clock = { bpm = $bpm; send_transport = true; send_clock = true; };")"
	frames_wait $((48000 * 60 * 4 * 17 / bpm))
	finish
	$CHECK grid "$W/grid$bpm.rec" $bpm 16 > "$W/out" 2>&1; jackenv_ok $? "internal clock $bpm BPM: every note-on at its step's frame for 16 bars, every 0xF8 sent on its tick"
	cat "$W/out"
	$CHECK held "$W/grid$bpm.rec" > "$W/out" 2>&1; jackenv_ok $? "internal clock $bpm BPM: no note left sounding after SIGTERM"
	cat "$W/out"
done
$CHECK steps "$W/grid120.rec" 120 | awk '$1 < 256' > "$W/ref.steps"

# 5-9. External clock from jack_midi_clock at 123 BPM (timebase master publishes BBT).
record ext
mclk
daemon "$(conf ext 'clock = { source = "external"; };')"
sleep 1
jackenv_bg "$JACK_PROBE" clockmaster --server "$S" --client clk --bpm 123 --seconds 12
CLK=$JACKENV_LASTPID
frames_wait $((48000 * 60 * 4 * 2 / 123 + 48000))
st=$(status); bpm=$(echo "$st" | sed -n 's/.*tempo \([0-9.]*\) BPM.*/\1/p')
awk -v b="$bpm" 'BEGIN { exit !(b > 122.9 && b < 123.1) }'; jackenv_ok $? "external clock: tempo estimate $bpm BPM within 0.1 of 123 after 2 bars"
frames_wait $((48000 * 6))
jackenv_kill "$MC" INT; jackenv_kill "$CLK"
finish
$CHECK ticks "$W/ext.rec" 0 > "$W/out" 2>&1; jackenv_ok $? "external clock: every note-on exactly on the frame of its step's tick"
grep '^#' "$W/out"
grep -v '^#' "$W/out" | awk '$1 < 256' > "$W/ext.all"; trim "$W/ext.all" > "$W/ext.steps"
n=$(wc -l < "$W/ext.steps")
head -n "$n" "$W/ref.steps" | cmp -s - "$W/ext.steps"; jackenv_ok $? "external clock: the same notes on the same steps as the internal-clock run ($n events)"
$CHECK held "$W/ext.rec" > /dev/null 2>&1; jackenv_ok $? "external clock: no stuck note"
jackenv_ok $DSTAT "external clock: daemon exited cleanly"

# 10-12. jack_midi_clock -J 10: each interval jittered by up to 10 %.
record jit
mclk -b 123 -J 10
daemon "$(conf jit 'clock = { source = "external"; };')"
sleep 1
jackenv_bg "$JACK_PROBE" clockmaster --server "$S" --client clk --no-bbt --seconds 10
CLK=$JACKENV_LASTPID
frames_wait $((48000 * 9))
jackenv_kill "$MC" INT; jackenv_kill "$CLK"
st=$(status)
finish
$CHECK ticks "$W/jit.rec" 1 > "$W/out" 2>&1; jackenv_ok $? "jittered clock: every note-on within 1 ms of its step's tick"
grep '^#' "$W/out"
grep -v '^#' "$W/out" | awk '$1 < 256' > "$W/jit.all"; trim "$W/jit.all" > "$W/jit.steps"
n=$(wc -l < "$W/jit.steps")
[ "$n" -gt 20 ] && head -n "$n" "$W/ref.steps" | cmp -s - "$W/jit.steps"; jackenv_ok $? "jittered clock: no step skipped or doubled ($n events equal the reference)"
echo "$st" | grep -q 'missed ticks 0,'; jackenv_ok $? "jittered clock: no tick taken for missing"

# 13-14. Tempo change 123 -> 90 BPM from the timebase master, followed within one bar.
record tempo
mclk
daemon "$(conf tempo 'clock = { source = "external"; };')"
sleep 1
jackenv_bg "$JACK_PROBE" clockmaster --server "$S" --client clk --bpm 123 --change-at 4 --to 90 --seconds 12
CLK=$JACKENV_LASTPID
frames_wait $((48000 * 4 + 48000 * 60 * 4 / 90))
st=$(status); bpm=$(echo "$st" | sed -n 's/.*tempo \([0-9.]*\) BPM.*/\1/p')
awk -v b="$bpm" 'BEGIN { exit !(b > 89.5 && b < 90.5) }'; jackenv_ok $? "tempo change 123 -> 90: estimate $bpm one bar after the change"
jackenv_kill "$MC" INT; jackenv_kill "$CLK"
finish
$CHECK ticks "$W/tempo.rec" 0 > "$W/out" 2>&1; jackenv_ok $? "tempo change: every note-on still on its step's tick"
grep '^#' "$W/out"

# A tick dropped on a tempo rise: jack_midi_clock, 120 -> 140 BPM at transport frame 240896, sends no tick 241
# (a 1714-frame gap where two 857-frame intervals belong); the intervals after it show the loss.
record rise
mclk
daemon "$(conf rise 'clock = { source = "external"; };')"
sleep 1
jackenv_bg "$JACK_PROBE" clockmaster --server "$S" --client clk --bpm 120 --change-at 5.01867 --to 140 --seconds 10
CLK=$JACKENV_LASTPID
frames_wait $((48000 * 10))
st=$(status)
jackenv_kill "$MC" INT; jackenv_kill "$CLK"
finish
echo "$st" | grep -q 'missed ticks 1,'; jackenv_ok $? "tick dropped on a 120 -> 140 rise: counted ($(echo "$st" | sed -n 's/.*\(missed ticks [0-9]*\).*/\1/p'))"
$CHECK ticks "$W/rise.rec" 0 > "$W/out" 2>&1; jackenv_ok $? "tick dropped on a 120 -> 140 rise: every note-on still on its step's tick"
grep '^#' "$W/out"

# 15-17. Dropped ticks: a scripted clock at 123 BPM with two ticks left out (one begins a step).
awk 'BEGIN { f = 48000 * 60 / (123 * 24); print 0, "FA";
	for (i = 0; i < 24 * 4 * 6; i++) if (i != 200 && i != 300) printf "%d F8\n", int(f * i + 0.5) + 256 }' > "$W/drop.script"
record drop
daemon "$(conf drop 'clock = { source = "external"; };')"
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' 'rec:in' --script "$W/drop.script" --delay 512
frames_wait $((48000 * 60 * 4 * 6 / 123 + 4800))
st=$(status)
finish
echo "$st" | grep -q 'missed ticks 2, late steps 1,'; jackenv_ok $? "dropped ticks: both detected and counted, the step on one reported late"
echo "# $(echo "$st" | sed -n 's/.*\(ticks [0-9]*, missed ticks [0-9]*, late steps [0-9]*\).*/\1/p')"
$CHECK ticks "$W/drop.rec" 0 > "$W/out" 2>&1; jackenv_ok $? "dropped ticks: every note-on on its step's tick (the step whose tick was dropped at the next one)"
grep '^#' "$W/out"
grep -v '^#' "$W/out" | awk '$1 < 96' > "$W/drop.all"; trim "$W/drop.all" > "$W/drop.steps"
head -n "$(wc -l < "$W/drop.steps")" "$W/ref.steps" | cmp -s - "$W/drop.steps"; jackenv_ok $? "dropped ticks: step phase kept (notes equal the reference by step)"
$CHECK held "$W/drop.rec" > /dev/null 2>&1; jackenv_ok $? "dropped ticks: no stuck note"

# 18-19. Stop mid-bar, then Song Position Pointer 40 (bar 2, step 8) and Continue.
awk 'BEGIN { f = 48000 * 60 / (123 * 24); print 0, "FA";
	for (i = 0; i < 24 * 4 * 3 + 40; i++) printf "%d F8\n", int(f * i + 0.5) + 256;
	stop = int(f * i + 0.5) + 256; print stop, "FC"; print stop + 24000, "F2 28 00"; print stop + 24100, "FB";
	for (j = 0; j < 24 * 4 * 2; j++) printf "%d F8\n", stop + 24100 + int(f * (j + 1) + 0.5) }' > "$W/spp.script"
record spp
daemon "$(conf spp 'clock = { source = "external"; };')"
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' 'rec:in' --script "$W/spp.script" --delay 512
frames_wait $((48000 * 60 * 4 * 6 / 123 + 48000))
finish
$CHECK stop "$W/spp.rec" > "$W/out" 2>&1; jackenv_ok $? "Stop mid-bar: every sounding note gets its note-off in the same period"
cat "$W/out"
$CHECK ticks "$W/spp.rec" 0 continue 2>&1 | grep -v '^#' | grep ' on ' | awk '$1 < 64' > "$W/spp.steps"
awk '$1 >= 40 && $1 < 64 && $2 == "on"' "$W/ref.steps" | head -n "$(wc -l < "$W/spp.steps")" | cmp -s - "$W/spp.steps" &&
	[ "$(head -n 1 "$W/spp.steps" | cut -d' ' -f1)" = 40 ]
jackenv_ok $? "SPP 40 + Continue: resumes on step 40 with that step's notes"

# Relocation to odd and even bars: after Stop, SPP and Continue, every step plays what continuous play gave
# at that song position (windows stay on the grid of bar 0, so a window never starts on an odd bar).
# One external-clock run per model: steps 0-111 continuously (the reference), then four relocations
# "SPP_STEP LAST_STEP": bar 5 step 8 (odd), bar 3 step 8 (odd; across bar 4), bar 6 (even, mid 4-bar window),
# bar 1 step 4 (odd).
RELOC="88 111 56 79 96 111 20 40"
awk -v segs="$RELOC" 'function run(n,  i) { for (i = 0; i < n; i++) printf "%d F8\n", int(t + f * i + 0.5); t += f * n }
BEGIN { f = 48000 * 60 / (200 * 24); t = 256; print 0, "FA"; run(6 * 111 + 3); n = split(segs, s, " ");
	for (k = 1; k < n; k += 2) { p = s[k]; print int(t), "FC"; printf "%d F2 %02X %02X\n", int(t) + 12000, p % 128, int(p / 128);
		print int(t) + 24000, "FB"; t = int(t) + 24000 + f; run(6 * (s[k + 1] - p) + 3) } }' > "$W/reloc.script"
"$build/tests/mkmodel" melhier "$W/hier" 7 || jackenv_bail "mkmodel melhier failed"
for m in mel:2 hier:4; do
	name=${m%:*}; bars=${m#*:}
	record "reloc-$name"
	daemon "$(MODEL=$W/$name conf "reloc-$name" 'clock = { source = "external"; };')"
	jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' 'rec:in' --script "$W/reloc.script" --delay 512
	frames_wait "$(tail -n 1 "$W/reloc.script" | cut -d' ' -f1)"
	finish
	seg_checks reloc "$W/reloc-$name.rec" 5 jackenv_ok "$bars-bar model" $RELOC
done

# Start after a Stop mid-bar is song position 0: it plays from bar 0 exactly what the first continuous run from
# Start played (bar 0 included, not the bar it stopped in), and a Song Position Pointer sent before it does not
# count (Start wins). One run per model: steps 0-103 from Start (the reference; Stop in bar 6), then segments
# "SPP LAST" (-1: no SPP) of Stop, SPP, Start and steps 0 to LAST, each stopped 3 ticks into step LAST: Start
# after a Stop in bar 6 (beyond the first window of both models), SPP bar 5 step 8 then Start (after a Stop in
# bar 2), Start after a Stop in bar 3, SPP bar 1 step 4 (inside the first window) then Start.
RESTART="-1 40 88 56 -1 50 20 40"
awk -v segs="$RESTART" 'function run(n,  i) { for (i = 0; i < n; i++) printf "%d F8\n", int(t + f * i + 0.5); t += f * n }
BEGIN { f = 48000 * 60 / (200 * 24); t = 256; print 0, "FA"; run(6 * 103 + 3); n = split(segs, s, " ");
	for (k = 1; k < n; k += 2) { p = s[k]; print int(t), "FC";
		if (p >= 0) printf "%d F2 %02X %02X\n", int(t) + 12000, p % 128, int(p / 128);
		print int(t) + 24000, "FA"; t = int(t) + 24000 + f; run(6 * s[k + 1] + 3) } }' > "$W/restart.script"
for m in mel:2 hier:4; do
	name=${m%:*}; bars=${m#*:}
	ext_run "restart-$name" "$name" "$W/restart.script"
	bars_ok "$bars-bar model, Stop then Start: bar 0's window was queued in time (no bar repeated or missing, no resync)"
	seg_checks restart "$W/restart-$name.rec" 5 jackenv_ok "$bars-bar model" $RESTART
done

# Many Song Position Pointers while stopped: each one moves where a Continue resumes, so the daemon queues again
# (a flush); the bars it queued before must leave the bar queue then, or a few dozen SPPs fill it and the bars a
# Start or a Continue needs cannot be queued. One run per model: steps 0-103 from Start (the reference), then
# segments "KIND SPP LAST": Stop, 30 SPPs 50 ms apart to bars all over the first 8 (the last one to SPP), then
# KIND (FA Start, FB Continue) and play to step LAST.
MANYSPP="FA 88 40 FB 56 79"
awk -v segs="$MANYSPP" 'function run(n,  i) { for (i = 0; i < n; i++) printf "%d F8\n", int(t + f * i + 0.5); t += f * n }
function spp(at, p) { printf "%d F2 %02X %02X\n", at, p % 128, int(p / 128) }
BEGIN { f = 48000 * 60 / (200 * 24); t = 256; print 0, "FA"; run(6 * 103 + 3); n = split(segs, s, " ");
	for (k = 1; k < n; k += 3) { p = s[k + 1]; print int(t), "FC";
		for (j = 0; j < 29; j++) spp(int(t) + 12000 + 2400 * j, (j * 29 + 7 * k) % 120);
		spp(int(t) + 12000 + 2400 * 29, p);
		print int(t) + 12000 + 2400 * 30 + 12000, s[k]; t = int(t) + 24000 + 2400 * 30 + f;
		run(6 * (s[k] == "FA" ? s[k + 2] : s[k + 2] - p) + 3) } }' > "$W/manyspp.script"
for m in mel:2 hier:4; do
	name=${m%:*}; bars=${m#*:}
	ext_run "manyspp-$name" "$name" "$W/manyspp.script"
	bars_ok "$bars-bar model, 30 SPPs while stopped, then Start or Continue: no bar repeated or missing, no resync"
	grep 'bar queue full' "$DLOG" | head -n 3 | sed 's/^/# /'
	R=$W/manyspp-$name.rec
	seg_ons "$R" 0 5 start > "$W/manyspp.ref"
	set -- $MANYSPP
	seg_start "$R" 1 5 "$W/manyspp.ref" "$3"
	jackenv_ok $? "$bars-bar model, Stop, 30 SPPs (the last $2: bar $(($2 / 16)) step $(($2 % 16))), Start: steps 0-$3 play what continuous play gave ($n note-ons)"
	seg_diff
	seg_continue "$R" 2 5 "$W/manyspp.ref" "$5" "$6"
	jackenv_ok $? "$bars-bar model, Stop, 30 SPPs (the last $5: bar $(($5 / 16)) step $(($5 % 16))), Continue: steps $5-$6 play what continuous play gave ($n note-ons)"
	seg_diff
done

# 22-24. Continue mode: the player plays examples/phrase-a.mid (2 bars, onsets up to 0.3 step early or late)
# from bar 3; the answer must start at bar 5 and equal `musicvae decode` of `musicvae encode` of that file.
"$build/musicvae" encode "$W/mel" "$src/examples/phrase-a.mid" > "$W/a.json" 2>/dev/null &&
	"$build/musicvae" decode "$W/mel" "$W/a.json" --json 2>/dev/null > "$W/a.ns.json"
node -e '
const ns = require(process.argv[1])[0];
for (const n of ns.notes) console.log(`${n.quantizedStartStep || 0} on ${n.pitch}`);' "$W/a.ns.json" | sort -n > "$W/cont.want"
record cont
TEMP=0 daemon "$(TEMP=0 conf cont 'mode = "continue";' 'continue = { candidates = 1; };' 'capture = { rest_seconds = 10.0; };' 'clock = { send_transport = true; };')"
i=0; until grep -q ' FA$' "$W/cont.rec" 2>/dev/null; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
origin=$(awk '$2 == "FA" { print $1; exit }' "$W/cont.rec")
# phrase-a: step, length, pitch, velocity (as examples/ has it); 6000 frames per step at 120 BPM
printf '0 2 60 90\n2 2 62 80\n4 2 64 90\n6 2 67 80\n8 4 72 100\n12 2 71 80\n14 2 67 80\n16 3 69 90\n19 1 67 70\n20 2 65 80\n22 2 64 80\n24 6 60 100\n' |
awk '{ j = (NR % 5 - 2) * 900; on = (48 + $1) * 6000 + j; off = (48 + $1 + $2) * 6000 - 100;
	printf "%d 90 %X %X\n%d 80 %X 40\n", on, $3, $4, off, $3 }' | sort -n -k1,1 -s > "$W/cont.script"
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' --script "$W/cont.script" --at "$origin"
frames_wait $((6000 * 16 * 8))
st=$(status)
finish
node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) { const f = l.split(" ");
	if (/^9/.test(f[1] || "") && f[3] !== "00") { const s = (f[0] - process.argv[2]) / 6000;
	if (s >= 80 && s < 112) console.log(`${s - 80} on ${parseInt(f[2], 16)}`); } }' "$W/cont.rec" "$origin" | sort -n > "$W/cont.got"
echo "$st" | grep -q 'phrases 1,'; jackenv_ok $? "continue: the phrase was captured and encoded once"
first=$(awk -v o="$origin" '$2 ~ /^9/ && $4 != "00" { print ($1 - o) / 6000; exit }' "$W/cont.rec")
want_first=$((80 + $(head -n 1 "$W/cont.want" | cut -d' ' -f1)))
[ "$first" = "$want_first" ]; jackenv_ok $? "continue: the answer starts on the next downbeat (bar 5 = step 80; first note-on at step $first, expected $want_first)"
cmp -s "$W/cont.want" "$W/cont.got" && [ -s "$W/cont.got" ]; jackenv_ok $? "continue: the answer equals musicvae's argmax decode of the phrase ($(wc -l < "$W/cont.got") notes)"
diff "$W/cont.want" "$W/cont.got" | head -n 10 | sed 's/^/# /'

# Garbage on the input (10,000 events/s) in continue mode for 30 s of real time, with the process
# thread's allocator calls counted by an LD_PRELOAD wrapper around jack_set_process_callback.
record garbage
daemon "$(conf garbage 'mode = "continue";' 'capture = { rest_seconds = 0.5; };')"
jackenv_kill "$DPID"
JACKENV_NBG=$((JACKENV_NBG + 1)); DLOG=$W/bg$JACKENV_NBG.log
if [ "${MVD_ASAN:-no}" = yes ]; then      # AddressSanitizer owns the allocator: run without the counter
	"$D" -c "$W/garbage.conf" > "$DLOG" 2>&1 &
else
	RTALLOC_OUT=$W/rtalloc.txt LD_PRELOAD=$build/tests/rtalloc.so "$D" -c "$W/garbage.conf" > "$DLOG" 2>&1 &
fi
DPID=$!; JACKENV_PIDS="$JACKENV_PIDS $DPID"
sleep 1
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' --garbage 10000 --seconds 30 --seed 7
GP=$JACKENV_LASTPID
sleep 30
jackenv_kill "$GP"
st=$(status)
alive=1; jackenv_alive "$DPID" || alive=0
finish
[ $alive = 1 ] && [ "$DSTAT" = 0 ]; jackenv_ok $? "garbage input: the daemon kept running and exited cleanly"
echo "# $(echo "$st" | sed -n 's/.*\(in events.*capture overflow [0-9]*\).*/\1/p')"
$CHECK held "$W/garbage.rec" > "$W/out" 2>&1; jackenv_ok $? "garbage input: no stuck note"
allocs=$(awk '{ print $4 + $6 }' "$W/rtalloc.txt" 2>/dev/null)
echo "# process thread: $(cat "$W/rtalloc.txt" 2>/dev/null)"
if [ "${MVD_ASAN:-no}" = yes ]; then
	JACKENV_N=$((JACKENV_N + 1)); echo "ok $JACKENV_N # SKIP allocation count: sanitizer build (MVD_ASAN=yes: it owns malloc)"
else
	[ "${allocs:-x}" = 0 ] && awk '{ exit !($2 > 1000) }' "$W/rtalloc.txt"
	jackenv_ok $? "no malloc or free on the JACK process thread during 30 s"
fi

# 27-31. The server goes away and comes back under the same name: the daemon reconnects and plays again. A
# control client asks for the status every 10 ms meanwhile: the engine reads the clock's counters while the main
# thread resets the RT state for the new server (a data race under ThreadSanitizer when rt_reset overwrote them).
# The daemon is stopped (SIGSTOP) while the new server and the recorder come up, so that its retry finds the
# recorder there: autostart's Start and bar 0 must reach it (they were played before the connection was made).
# Then the same for a daemon started before its server: the first open fails, a retry succeeds.
# from_start REC WHAT: the recording begins with the Start, the only one, and bars 0-1 are on the grid
from_start() {
	first=$(grep -v '^#' "$W/$1.rec" | head -n 1) starts=$(grep -c ' FA$' "$W/$1.rec")
	case "$first" in *" FA") r=0 ;; *) r=1; echo "# first recorded event: $first" ;; esac
	[ "$starts" = 1 ] || { r=1; echo "# $starts Starts recorded"; }
	[ $r = 0 ] && $CHECK grid "$W/$1.rec" 120 2 > "$W/out" 2>&1; r=$?
	jackenv_ok $r "$2: the recorder connected at start got the Start first, once, and bars 0-1, every note-on at its step's frame"
	cat "$W/out"
}
TRANSPORT='clock = { bpm = 120; send_transport = true; send_clock = true; };'
record before
daemon "$(conf restart "$TRANSPORT")"
sleep 2
(while sleep 0.01; do echo status; done | socat -u - UNIX-CONNECT:"$W/ctl" > /dev/null 2>&1) &
FLOOD=$!
jackenv_kill "$REC"
kill -TERM "$JACKENV_PID"; wait "$JACKENV_PID" 2>/dev/null
sleep 1.5
kill -0 "$DPID"; alive=$?
kill -STOP "$DPID"
jackenv_server "$W/jackd2.log"
record after
kill -CONT "$DPID"
i=0; until grep -q 'connected again' "$DLOG"; do i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.1; done
sleep 4
kill "$FLOOD" 2>/dev/null; wait "$FLOOD" 2>/dev/null
finish
[ $alive = 0 ] && grep -q 'server gone; reconnecting' "$DLOG" && grep -q 'connected again' "$DLOG"
jackenv_ok $? "JACK server restarted: the daemon survived, reconnected"
n_on=$(grep -c ' 9[0-9A-F] [0-9A-F]* [1-9A-F]' "$W/after.rec")
[ "$n_on" -gt 5 ]; jackenv_ok $? "and plays again on the new server ($n_on note-ons in 4 s)"
from_start after "after the restart"
kill -TERM "$JACKENV_PID"; wait "$JACKENV_PID" 2>/dev/null
daemon "$(conf early "$TRANSPORT")"
i=0; until grep -q 'retrying every second' "$DLOG"; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
kill -STOP "$DPID"
jackenv_server "$W/jackd3.log"
record early
kill -CONT "$DPID"
i=0; until grep -q 'connected again' "$DLOG"; do i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.1; done
frames_wait $((48000 * 3))
finish
grep -q 'retrying every second' "$DLOG" && grep -q 'connected again' "$DLOG" && [ "$DSTAT" = 0 ]
jackenv_ok $? "started before its server: the first open failed, a retry connected, the daemon exited cleanly"
from_start early "started before its server"
