#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_ctl_jack.sh: the control socket against a running daemon on a private `jackd -d dummy`, with musicvaectl
# and socat as clients and a JACK MIDI recorder: attribute changes heard from the bar the contract promises,
# capture and morph, tempo and mode on bar lines, chords, 50 clients (one never reads), random bytes, socket
# safety (a live socket is not taken over, a stale one is, paths stay inside their directories).
set -u
. "${top_srcdir:-.}/tests/jackenv.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}
D=$build/musicvaed
MV=$build/musicvae
CC=$build/musicvaectl
CHECK="node $src/tests/ctl_check.js"
command -v node >/dev/null 2>&1 || { echo "1..0 # SKIP node missing (run scripts/install-deps)"; exit 0; }
command -v socat >/dev/null 2>&1 || { echo "1..0 # SKIP socat missing (apt-get install socat)"; exit 0; }
[ -f "$src/models/mel_2bar/config.json" ] || { echo "1..0 # SKIP the bundled model is missing"; exit 0; }
echo "1..31"
jackenv_start
W=$JACKENV_DIR
S=$JACKENV_SERVER
MUSICVAED_SOCKET=$W/ctl; export MUSICVAED_SOCKET
MODEL=$(cd "$src/models/mel_2bar" && pwd)
mkdir -p "$W/midi" "$W/slots" "$W/models"
cp "$src/examples/phrase-a.mid" "$src/examples/phrase-b.mid" "$W/midi/"
cp -r "$src/models/drums_2bar" "$W/models/drums_2bar"

# conf NAME SETTINGS...: the bundled melody model at 120 BPM, output to the recorder, input from `play`
conf() {
	f=$W/$1.conf; shift
	{
		echo "model = { path = \"${CMODEL:-$MODEL}\"; seed = 3; temperature = ${TEMP:-0.5}; };"
		echo "backend = { type = \"jack\"; server_name = \"$S\"; connect_output = [ \"^rec:in\$\" ];"
		echo "  connect_input = [ \"^play:\" ]; };"
		echo "clock = { bpm = 120.0; send_transport = true; send_clock = true; };"
		echo "control = { midi_dir = \"$W/midi\"; slot_dir = \"$W/slots\"; model_dirs = [ \"$W/models\" ]; };"
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
	jackenv_kill "$DPID"
	sleep 0.2
	jackenv_kill "$REC" INT
}
ctl() { "$CC" "$@"; }
# bar_wait N: until the daemon's clock is in bar N or later (2 s a bar at 120 BPM, and some slack)
bar_wait() {
	deadline=$(($(date +%s) + 2 * $1 + 20))
	while :; do
		b=$(ctl status 2>/dev/null | sed -n 's/^bar: //p')
		[ "${b:--1}" -ge "$1" ] && return 0
		[ "$(date +%s)" -gt "$deadline" ] && return 1
		sleep 0.05
	done
}
field() { sed -n "s/^$1: //p"; }
# notes REC [BPM2 BAR]: "step pitch" of every note-on, sorted
notes() { $CHECK notes "$W/$1.rec" 120 "${2:-0}" "${3:-0}" | sort -n -k1,1 -k2,2n; }
bars() { awk -v a="$2" -v b="$3" '$1 >= 16 * a && $1 < 16 * b' "$1"; }
# lat NAME APPLIED_BAR AT_STEP: the first note-on at or after the applied bar, minus the command's position
lat() {
	first=$(awk -v a="$2" '$1 >= 16 * a { print $1; exit }' "$W/$1.notes")
	awk -v f="${first:-0}" -v p="$3" 'BEGIN { printf "%.2f", f - p }'
}
LAT_MAX=0
lat_note() {
	LAT_MAX=$(awk -v a="$LAT_MAX" -v b="$1" 'BEGIN { print (b > a ? b : a) }')
	echo "# latency: $1 steps = $(awk -v s="$1" 'BEGIN { printf "%.0f", s * 125 }') ms from the command to the first changed note"
}

# 1-6. attr set note_density +1.5 then -1.5 against a reference run with the same seed (generate mode plays
# the same bars for the same song position): identical before the applied bar, denser then sparser after it.
record ref
daemon "$(conf ref)"
bar_wait 14 || jackenv_bail "the clock does not run"
finish
notes ref > "$W/ref.notes"
record attr
daemon "$(conf attr)"
bar_wait 2
ctl attr set note_density 1.5 > "$W/c1" 2>&1; rc1=$?
B1=$(field applied_bar < "$W/c1"); P1=$(field at_step < "$W/c1")
bar_wait $((B1 + 4))
ctl attr set note_density -1.5 > "$W/c2" 2>&1; rc2=$?
B2=$(field applied_bar < "$W/c2"); P2=$(field at_step < "$W/c2")
bar_wait $((B2 + 4))
finish
notes attr > "$W/attr.notes"
[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ -n "$B1" ] && [ -n "$B2" ]
jackenv_ok $? "attr set: replies name the bar the change is heard from (bars $B1 and $B2)"
bars "$W/ref.notes" 0 "$B1" > "$W/r0"; bars "$W/attr.notes" 0 "$B1" > "$W/a0"
[ -s "$W/a0" ] && cmp -s "$W/r0" "$W/a0"; jackenv_ok $? "before bar $B1 the output is the reference, note for note ($(wc -l < "$W/a0") notes)"
bars "$W/ref.notes" "$B1" "$((B1 + 2))" > "$W/r1"; bars "$W/attr.notes" "$B1" "$((B1 + 2))" > "$W/a1"
! cmp -s "$W/r1" "$W/a1"; jackenv_ok $? "from bar $B1 on it differs (the change is heard in the promised window)"
up=$(bars "$W/attr.notes" "$B1" "$B2" | wc -l); ref_up=$(bars "$W/ref.notes" "$B1" "$B2" | wc -l)
down=$(bars "$W/attr.notes" "$B2" "$((B2 + 4))" | wc -l); ref_down=$(bars "$W/ref.notes" "$B2" "$((B2 + 4))" | wc -l)
echo "# onsets in bars $B1..$((B2 - 1)): $up (reference $ref_up); in bars $B2..$((B2 + 3)): $down (reference $ref_down)"
[ "$up" -gt "$ref_up" ]; jackenv_ok $? "note_density +1.5: more onsets per bar than the reference"
[ "$down" -lt "$ref_down" ]; jackenv_ok $? "note_density -1.5: fewer onsets per bar than the reference"
l1=$(lat attr "$B1" "$P1"); l2=$(lat attr "$B2" "$P2"); lat_note "$l1"; lat_note "$l2"
awk -v b1="$B1" -v b2="$B2" -v p1="$P1" -v p2="$P2" 'BEGIN { exit !(b1 % 2 == 0 && b2 % 2 == 0 &&
	16 * b1 > p1 && 16 * b1 - p1 <= 48 && 16 * b2 > p2 && 16 * b2 - p2 <= 48) }'
jackenv_ok $? "applied at a window start (2-bar model) after the command, within 3 bars"

# 7-11. capture A after phrase-a, capture B after phrase-b, morph A B 8 slerp hold at temperature 0: the morph's
# first window is `musicvae decode` of A's z, its last window B's, and the ones between move from A to B.
"$MV" encode "$MODEL" "$src/examples/phrase-a.mid" > "$W/a.json" 2>/dev/null &&
	"$MV" encode "$MODEL" "$src/examples/phrase-b.mid" > "$W/b.json" 2>/dev/null &&
	"$MV" decode "$MODEL" "$W/a.json" --json > "$W/a.ns.json" 2>/dev/null &&
	"$MV" decode "$MODEL" "$W/b.json" --json > "$W/b.ns.json" 2>/dev/null || jackenv_bail "musicvae encode/decode"
# phrase: step, length, pitch, velocity (examples/phrase-[ab].mid); 6000 frames per step at 120 BPM
phrase() { # phrase a|b FIRST_BAR
	if [ "$1" = a ]; then
		printf '0 2 60 90\n2 2 62 80\n4 2 64 90\n6 2 67 80\n8 4 72 100\n12 2 71 80\n14 2 67 80\n16 3 69 90\n19 1 67 70\n20 2 65 80\n22 2 64 80\n24 6 60 100\n'
	else
		printf '0 3 57 90\n3 3 60 80\n6 2 64 90\n8 2 62 80\n10 2 60 80\n12 4 57 100\n16 2 64 90\n18 2 65 80\n20 3 64 90\n23 1 62 70\n24 2 60 80\n26 6 57 100\n'
	fi | awk -v b="$2" '{ on = (16 * b + $1) * 6000; off = (16 * b + $1 + $2) * 6000 - 100;
		printf "%d 90 %X %X\n%d 80 %X 40\n", on, $3, $4, off, $3 }' | sort -n -k1,1 -s
}
# origin REC: the frame of the recorded Start (0xFA), once the recorder has written it
origin() {
	i=0; until grep -q ' FA$' "$W/$1.rec" 2>/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05; done
	awk '$2 == "FA" { print $1; exit }' "$W/$1.rec"
}
TEMP=0
record morph
daemon "$(conf morph)"
bar_wait 0; o=$(origin morph)
phrase a 2 > "$W/pa.script"
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' --script "$W/pa.script" --at "$o"
bar_wait 4; ctl capture A > "$W/ca" 2>&1; rca=$?
phrase b 6 > "$W/pb.script"
jackenv_bg "$JACK_PROBE" play --server "$S" --client play --connect 'musicvaed:midi_in' --script "$W/pb.script" --at "$o"
bar_wait 8; ctl capture B > "$W/cb" 2>&1; rcb=$?
ctl morph A B 8 slerp hold > "$W/cm" 2>&1; rcm=$?
M=$(field applied_bar < "$W/cm"); PM=$(field at_step < "$W/cm")
bar_wait $((M + 9))
ctl slot list > "$W/slots.txt" 2>&1
finish
notes morph > "$W/morph.notes"
[ $rca = 0 ] && [ $rcb = 0 ] && [ $rcm = 0 ] && grep -q '^slot: A captured' "$W/slots.txt" &&
	grep -q '^slot: B captured' "$W/slots.txt"
r=$?; jackenv_ok $r "capture A, capture B, morph A B 8 slerp hold: accepted (morph from bar ${M:-?})"
[ $r = 0 ] || cat "$W/ca" "$W/cb" "$W/cm" "$W/slots.txt" "$DLOG" | tail -n 20 | sed 's/^/# /'
$CHECK window "$W/a.ns.json" "$M" > "$W/wa.want"; bars "$W/morph.notes" "$M" "$((M + 2))" > "$W/wa.got"
cmp -s "$W/wa.want" "$W/wa.got"; jackenv_ok $? "the morph's first window is musicvae decode of phrase-a's z ($(wc -l < "$W/wa.got") notes)"
diff "$W/wa.want" "$W/wa.got" | head -n 6 | sed 's/^/# /'
$CHECK window "$W/b.ns.json" "$((M + 6))" > "$W/wb.want"; bars "$W/morph.notes" "$((M + 6))" "$((M + 8))" > "$W/wb.got"
cmp -s "$W/wb.want" "$W/wb.got"; jackenv_ok $? "its last window is musicvae decode of phrase-b's z ($(wc -l < "$W/wb.got") notes)"
diff "$W/wb.want" "$W/wb.got" | head -n 6 | sed 's/^/# /'
# similarity of each window to the two ends: notes shared (step within the window, pitch) / notes in either
for w in 0 1 2 3; do bars "$W/morph.notes" "$((M + 2 * w))" "$((M + 2 * w + 2))" |
	awk -v o="$(((M + 2 * w) * 16))" '{ print $1 - o, $2 }' > "$W/w$w"; done
awk -v o="$((M * 16))" '{ print $1 - o, $2 }' "$W/wa.want" > "$W/end.a"
awk -v o="$((M * 16 + 96))" '{ print $1 - o, $2 }' "$W/wb.want" > "$W/end.b"
jac() { sort "$1" > "$W/j1"; sort "$2" > "$W/j2"; i=$(comm -12 "$W/j1" "$W/j2" | wc -l); u=$(sort -u "$W/j1" "$W/j2" | wc -l)
	awk -v i="$i" -v u="$u" 'BEGIN { printf "%.3f", u ? i / u : 1 }'; }
sa=""; sb=""
for w in 0 1 2 3; do sa="$sa $(jac "$W/w$w" "$W/end.a")"; sb="$sb $(jac "$W/w$w" "$W/end.b")"; done
echo "# similarity of windows 0..3 to A:$sa; to B:$sb"
echo "$sa $sb" | awk '{ exit !($1 >= $2 && $2 >= $3 && $3 >= $4 && $5 <= $6 && $6 <= $7 && $7 <= $8 && $1 > $4 && $8 > $5) }'
jackenv_ok $? "the windows between move from A to B (similarity to A falls, to B rises)"
awk -v m="$M" -v p="$PM" 'BEGIN { exit !(m % 2 == 0 && 16 * m > p) }'; jackenv_ok $? "the morph starts on a window start after the command"
l=$(lat morph "$M" "$PM"); lat_note "$l"
TEMP=0.5

# 12-15. tempo 90 and mode morph by socket: the tempo changes exactly at the applied bar line (that bar's first
# tick keeps its 120 BPM frame, the ticks after it follow 90 BPM); the mode at its bar line, the bars before it
# as in the reference run.
record tm
daemon "$(conf tm)"
bar_wait 2
ctl tempo 90 > "$W/ct" 2>&1; rct=$?
T=$(field applied_bar < "$W/ct")
bar_wait $((T + 2))
ctl mode morph > "$W/cmo" 2>&1; rcmo=$?
Q=$(field applied_bar < "$W/cmo")
bar_wait $((Q + 3))
ctl status > "$W/st.tm" 2>&1
finish
[ $rct = 0 ] && [ $rcmo = 0 ] && [ -n "$T" ] && [ -n "$Q" ] && grep -q '^tempo: 90.0000' "$W/st.tm" && grep -q '^mode: morph' "$W/st.tm"
jackenv_ok $? "tempo 90 (from bar ${T:-?}) and mode morph (from bar ${Q:-?}) accepted; status shows them"
$CHECK ticks "$W/tm.rec" 120 90 "$T" > "$W/out" 2>&1; jackenv_ok $? "every 0xF8 on its tick: 120 BPM up to bar $T's first tick, 90 BPM after it"
cat "$W/out"
notes tm 90 "$T" > "$W/tm.notes" 2>"$W/out"; [ ! -s "$W/out" ] && $CHECK notes "$W/tm.rec" 120 90 "$T" > /dev/null
jackenv_ok $? "every note-on on its step's exact frame across the tempo change"
bars "$W/ref.notes" 0 "$Q" > "$W/r2"; bars "$W/tm.notes" 0 "$Q" > "$W/t2"
bars "$W/ref.notes" "$Q" "$((Q + 2))" > "$W/r3"; bars "$W/tm.notes" "$Q" "$((Q + 2))" > "$W/t3"
[ -s "$W/t2" ] && cmp -s "$W/r2" "$W/t2" && ! cmp -s "$W/r3" "$W/t3"
jackenv_ok $? "mode morph lands on bar $Q: generate's bars up to it, morph's from it"

# 16-17. chords on a chord-conditioned model change its decode from the applied bar; refused by other models.
node "$src/tests/ref/gen_ckpt.js" --arch mel_chords_mm --dtype float32 --seed 5 --out "$W/chordmodel" > /dev/null 2>&1 ||
	jackenv_bail "gen_ckpt.js mel_chords_mm"
CMODEL=$W/chordmodel
record chref
daemon "$(conf chref)"
bar_wait 8
finish
notes chref > "$W/chref.notes"
record ch
daemon "$(conf ch)"
bar_wait 2
ctl chords C G Am F > "$W/cch" 2>&1; rcc=$?
CB=$(field applied_bar < "$W/cch")
bar_wait $((CB + 4))
finish
notes ch > "$W/ch.notes"
bars "$W/chref.notes" 0 "$CB" > "$W/c0r"; bars "$W/ch.notes" 0 "$CB" > "$W/c0"
bars "$W/chref.notes" "$CB" "$((CB + 4))" > "$W/c1r"; bars "$W/ch.notes" "$CB" "$((CB + 4))" > "$W/c1"
[ $rcc = 0 ] && cmp -s "$W/c0r" "$W/c0" && ! cmp -s "$W/c1r" "$W/c1"
r=$?; jackenv_ok $r "chords C G Am F: a chord model plays as before up to bar ${CB:-?} and differently from it"
[ $r = 0 ] || { echo "# chords: exit $rcc; $(tr '\n' ' ' < "$W/cch")"; grep -h '^#' "$W/chref.notes" "$W/ch.notes"
	diff "$W/c0r" "$W/c0" | head -n 6 | sed 's/^/# before: /'; grep ': warn: ' "$DLOG" | grep -v 'conditioned on chords' |
	sed 's/^/# /'; } | head -n 14
CMODEL=
record noch
daemon "$(conf noch)"
ctl chords C G > "$W/cn" 2>&1; rc=$?
ctl key 3 >> "$W/cn" 2>&1; rc2=$?
finish
[ $rc = 1 ] && [ $rc2 = 1 ] && grep -q 'not conditioned on chords' "$W/cn" && grep -q 'not conditioned on a key' "$W/cn"
jackenv_ok $? "chords and key on a model without them: refused (exit 1) with the reason"

# 18-20. 50 clients at once, one of which never reads: notes stay on their frames, the other 49 get every reply.
record many
daemon "$(conf many)"
yes status | socat -u - UNIX-CONNECT:"$W/ctl" > /dev/null 2>&1 &
HOG=$!
for i in $(seq 1 49); do
	(for k in $(seq 1 20); do echo status; sleep 0.2; done | socat -t 10 - UNIX-CONNECT:"$W/ctl" > "$W/many.$i" 2>&1) &
done
bar_wait 9
wait_clients=0
for i in $(seq 1 49); do n=$(grep -c '^OK$' "$W/many.$i"); [ "$n" = 20 ] || wait_clients=$((wait_clients + 1)); done
kill $HOG 2>/dev/null; wait $HOG 2>/dev/null
finish
$CHECK notes "$W/many.rec" 120 > /dev/null 2> "$W/out"; r=$?
[ $r = 0 ] && [ "$(notes many | wc -l)" -gt 20 ]; jackenv_ok $? "50 clients: every note-on on its step's frame"
[ $wait_clients = 0 ]; jackenv_ok $? "the 49 clients that read got all 20 replies each ($wait_clients short)"
grep -q 'dropped: it does not read its replies' "$DLOG"; jackenv_ok $? "the one that never reads was dropped, and the log says why"

# 21-22. Random bytes into the socket for 30 s: no crash, no state change.
record rnd
daemon "$(conf rnd)"
ctl status | grep -v '^[a-z_]*: [0-9.]*$' | grep -v '^bar\|^step\|^position\|^running\|^listen' > "$W/st0"
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt "$end" ]; do head -c 2048 /dev/urandom | socat -u - UNIX-CONNECT:"$W/ctl" 2>/dev/null; done
ctl status | grep -v '^[a-z_]*: [0-9.]*$' | grep -v '^bar\|^step\|^position\|^running\|^listen' > "$W/st1"
alive=1; jackenv_alive "$DPID" || alive=0
finish
[ $alive = 1 ]; jackenv_ok $? "30 s of random bytes: the daemon kept running"
cmp -s "$W/st0" "$W/st1"; jackenv_ok $? "and its settings are unchanged"
diff "$W/st0" "$W/st1" | head -n 5 | sed 's/^/# /'

# 23-27. Socket safety: one daemon per socket, stale sockets replaced, mode 0660, names stay inside their
# directories, slot save/load round trip equal to musicvae encode.
daemon "$(conf safe)"
"$D" -c "$W/safe.conf" > "$W/second.log" 2>&1; rc=$?
[ $rc != 0 ] && grep -q 'another musicvaed is listening' "$W/second.log"
jackenv_ok $? "a second daemon on the same socket is refused with a clear message"
[ "$(stat -c %a "$W/ctl")" = 660 ]; jackenv_ok $? "the socket has mode 0660"
mkdir -p "$W/outside"; cp "$W/a.json" "$W/outside/x.json"; ln -s "$W/outside" "$W/slots/out"
ctl load A ../phrase-a.mid > "$W/p1" 2>&1; r1=$?
ctl load A /etc/passwd > "$W/p2" 2>&1; r2=$?
ctl slot load A out/x > "$W/p3" 2>&1; r3=$?
ctl model ../../etc > "$W/p4" 2>&1; r4=$?
[ $r1 = 1 ] && [ $r2 = 1 ] && [ $r3 = 1 ] && [ $r4 = 1 ] && grep -q 'leads outside' "$W/p3"
jackenv_ok $? "load, slot load and model refuse .., absolute paths and symlinks out of their directories"
cat "$W/p1" "$W/p2" "$W/p3" "$W/p4" | sed 's/^/# /'
ctl load C phrase-a.mid > /dev/null 2>&1 && ctl slot save C a1 > /dev/null 2>&1 && ctl slot load D a1 > /dev/null 2>&1 &&
	ctl slot list > "$W/sl" 2>&1
node -e 'const a = require(process.argv[1]).z[0], b = require(process.argv[2]).z[0];
	let m = 0; a.forEach((x, i) => { m = Math.max(m, Math.abs(x - b[i])); });
	console.log(`# max |z - z_encode| = ${m}`); process.exit(a.length === b.length && m < 1e-5 ? 0 : 1);' \
	"$W/slots/a1.json" "$W/a.json"
r=$?; [ $r = 0 ] && grep -q '^slot: D a1.json' "$W/sl"
jackenv_ok $? "load C phrase-a.mid; slot save C a1; slot load D a1: the saved z is musicvae encode's"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
daemon "$(conf safe)"
ctl ping > /dev/null 2>&1; jackenv_ok $? "after a crash (SIGKILL) the stale socket is replaced by the next daemon"
finish
# 28-30. model drums_2bar: swapped at a bar line while the clock keeps running; idle bar wakes at the next bar.
record swap
daemon "$(conf swap)"
bar_wait 2
ctl model drums_2bar > "$W/cmod" 2>&1; rcm=$?
SB=$(field applied_bar < "$W/cmod")
(printf 'idle bar\n'; sleep 3) | socat -t 4 - UNIX-CONNECT:"$W/ctl" > "$W/idle.out" 2>&1
bar_wait $((SB + 3))
ctl status > "$W/st.swap" 2>&1
finish
notes swap > "$W/swap.notes" 2> "$W/out"
[ $rcm = 0 ] && grep -q '^model: .*drums_2bar' "$W/st.swap" && [ ! -s "$W/out" ] && $CHECK notes "$W/swap.rec" 120 > /dev/null
jackenv_ok $? "model drums_2bar (from bar ${SB:-?}): swapped, every note-on still on its step's frame"
bars "$W/swap.notes" 0 "$SB" > "$W/s0"; bars "$W/ref.notes" 0 "$SB" > "$W/s0r"
[ -s "$W/s0" ] && cmp -s "$W/s0" "$W/s0r" &&
	bars "$W/swap.notes" "$SB" "$((SB + 3))" | awk '{ n++; if ($2 == 36 || $2 == 38 || $2 == 42 || $2 == 46 ||
	$2 == 45 || $2 == 48 || $2 == 50 || $2 == 49 || $2 == 51) d++ } END { exit !(n > 0 && d == n) }'
jackenv_ok $? "the melody model's bars (as in the reference run) before bar $SB, General MIDI drum classes from it"
grep -q '^changed: bar' "$W/idle.out" && grep -q '^OK$' "$W/idle.out"; jackenv_ok $? "idle bar answers changed: bar at the next bar line"
# 31. A port that appears after start-up (the recorder starts after the daemon) is connected by the patterns.
daemon "$(conf late)"
bar_wait 1
record late
bar_wait 4
finish
n_on=$(grep -c ' 9[0-9A-F] [0-9A-F]* [1-9A-F]' "$W/late.rec")
[ "$n_on" -gt 3 ]; jackenv_ok $? "a port registered after start-up is auto-connected ($n_on note-ons recorded)"
echo "# worst latency measured: $LAT_MAX steps = $(awk -v s="$LAT_MAX" 'BEGIN { printf "%.0f", s * 125 }') ms (120 BPM, 2-bar windows)"
jackenv_stop
