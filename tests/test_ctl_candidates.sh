#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_ctl_candidates.sh: continue mode's answer candidates through the control socket, on a private
# `jackd -d dummy`: `candidates N` refused out of 1..8 and shown by status; the player plays
# examples/phrase-a.mid twice; with 8 candidates the answer is one batched decode and status names the
# candidate played; with 1 it is musicvae's argmax decode of the phrase, as before. Prints the daemon's
# decode time per answer window for both.
set -u
. "${top_srcdir:-.}/tests/jackenv.sh"
src=${top_srcdir:-.}
build=${top_builddir:-.}
D=$build/musicvaed
CC=$build/musicvaectl
command -v node >/dev/null 2>&1 || { echo "1..0 # SKIP node missing (run scripts/install-deps)"; exit 0; }
[ -f "$src/models/mel_2bar/config.json" ] || { echo "1..0 # SKIP the bundled model is missing"; exit 0; }
echo "1..7"
jackenv_start
W=$JACKENV_DIR
S=$JACKENV_SERVER
MUSICVAED_SOCKET=$W/ctl; export MUSICVAED_SOCKET
MODEL=$(cd "$src/models/mel_2bar" && pwd)
ctl() { "$CC" "$@"; }
field() { sed -n "s/^$1: //p"; }

cat > "$W/cand.conf" <<EOF2
model = { path = "$MODEL"; seed = 3; temperature = 0.0; };
backend = { type = "jack"; server_name = "$S"; connect_output = [ "^rec:in\$" ]; connect_input = [ "^play:" ]; };
clock = { bpm = 120.0; send_transport = true; };
capture = { rest_seconds = 10.0; };
mode = "continue";
continue = { candidates = 1; };
EOF2
rm -f "$W/rec.ready"
jackenv_bg "$JACK_PROBE" record --server "$S" --client rec --out "$W/cand.rec" --ready "$W/rec.ready"
REC=$JACKENV_LASTPID
jackenv_wait_file "$W/rec.ready" 10 || jackenv_bail "recorder did not start"
jackenv_bg "$D" -c "$W/cand.conf"
DPID=$JACKENV_LASTPID
i=0; until ctl ping >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 100 ] && jackenv_bail "no control socket"; sleep 0.1; done

# 1-2. the command: out of range refused with the range, 8 accepted and shown by status
ctl candidates 9 > "$W/c9" 2>&1; r9=$?
ctl candidates 0 >> "$W/c9" 2>&1; r0=$?
[ $r9 = 1 ] && [ $r0 = 1 ] && grep -q '1\.\.8' "$W/c9"; jackenv_ok $? "candidates 9 and 0: refused (exit 1) naming 1..8"
sed 's/^/# /' "$W/c9"
ctl candidates 8 > /dev/null 2>&1; r8=$?
[ $r8 = 0 ] && [ "$(ctl status | field candidates)" = 8 ]; jackenv_ok $? "candidates 8: accepted, status shows candidates: 8"

# phrase-a at bar B (step, length, pitch, velocity as examples/ has it; 6000 frames per step at 120 BPM)
i=0; until grep -q ' FA$' "$W/cand.rec" 2>/dev/null; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
origin=$(awk '$2 == "FA" { print $1; exit }' "$W/cand.rec")
play() {
	printf '0 2 60 90\n2 2 62 80\n4 2 64 90\n6 2 67 80\n8 4 72 100\n12 2 71 80\n14 2 67 80\n16 3 69 90\n19 1 67 70\n20 2 65 80\n22 2 64 80\n24 6 60 100\n' |
	awk -v b="$1" '{ on = (16 * b + $1) * 6000; off = (16 * b + $1 + $2) * 6000 - 100;
		printf "%d 90 %X %X\n%d 80 %X 40\n", on, $3, $4, off, $3 }' | sort -n -k1,1 -s > "$W/p$1.script"
	jackenv_bg "$JACK_PROBE" play --server "$S" --client "play$1" --connect 'musicvaed:midi_in' --script "$W/p$1.script" --at "$origin"
}
# bar_wait N: until the daemon's clock is in bar N or later
bar_wait() {
	deadline=$(($(date +%s) + 2 * $1 + 20))
	while :; do
		b=$(ctl status 2>/dev/null | field bar)
		[ "${b:--1}" -ge "$1" ] && return 0
		[ "$(date +%s)" -gt "$deadline" ] && return 1
		sleep 0.1
	done
}
# answer FROM_BAR: "step on pitch" of the note-ons of the 2 bars from FROM_BAR, steps from its start
answer() {
	node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) { const f = l.split(" ");
		if (/^9/.test(f[1] || "") && f[3] !== "00") { const s = (f[0] - process.argv[2]) / 6000 - 16 * process.argv[3];
		if (s >= 0 && s < 32) console.log(`${s} on ${parseInt(f[2], 16)}`); } }' "$W/cand.rec" "$origin" "$1" | sort -n
}

# 3-5. eight candidates: phrase at bar 3, answer at bars 5-6
play 3
bar_wait 7
ctl status > "$W/st8"
st8=$(field decode_ms_last < "$W/st8"); pick=$(field candidate_played < "$W/st8")
[ "$(field phrases < "$W/st8")" = 1 ]; jackenv_ok $? "the phrase was captured and encoded once"
echo "$pick" | grep -Eq '^[0-7] -?[0-9]+\.[0-9]+$'; jackenv_ok $? "8 candidates: status names the one played and its score ($pick)"
answer 5 > "$W/a8"
[ -s "$W/a8" ]; jackenv_ok $? "8 candidates: the answer plays at bars 5-6 ($(wc -l < "$W/a8") notes)"

# 6-7. one candidate: phrase at bar 9, answer at bars 11-12 = musicvae's argmax decode of the phrase
ctl candidates 1 > /dev/null 2>&1
play 9
bar_wait 13
ctl status > "$W/st1"
st1=$(field decode_ms_last < "$W/st1")
jackenv_kill "$DPID"
jackenv_kill "$REC" INT
"$build/musicvae" encode "$MODEL" "$src/examples/phrase-a.mid" > "$W/a.json" 2>/dev/null &&
	"$build/musicvae" decode "$MODEL" "$W/a.json" --json 2>/dev/null > "$W/a.ns.json"
node -e 'const ns = require(process.argv[1])[0];
for (const n of ns.notes) console.log(`${n.quantizedStartStep || 0} on ${n.pitch}`);' "$W/a.ns.json" | sort -n > "$W/want1"
answer 11 > "$W/a1"
[ -s "$W/a1" ] && cmp -s "$W/want1" "$W/a1" && [ -z "$(field candidate_played < "$W/st1")" ]
jackenv_ok $? "1 candidate: the answer is musicvae's argmax decode of the phrase ($(wc -l < "$W/a1") notes), no candidate_played"
diff "$W/want1" "$W/a1" | head -n 10 | sed 's/^/# /'
[ -n "$st8" ] && [ -n "$st1" ]; jackenv_ok $? "decode_ms_last per answer window reported for both"
jackenv_diag "decode per 2-bar answer window in the daemon: 8 candidates $st8 ms, 1 candidate $st1 ms"
jackenv_diag "answer with 8 candidates (step on pitch): $(tr '\n' ' ' < "$W/a8")"
jackenv_diag "answer with 1 candidate:               $(tr '\n' ' ' < "$W/a1")"
jackenv_stop
