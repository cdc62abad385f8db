#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_jackprobe.sh: the JACK test tooling end to end, no daemon: jack_probe play -> record with exact frames,
# jack_midi_clock (following jack_probe clockmaster) -> record at 123 BPM, with and without -J jitter.
set -u
. "${top_srcdir:-.}/tests/jackenv.sh"

jackenv_start
echo "1..14"
D=$JACKENV_DIR
S=$JACKENV_SERVER
jackenv_diag "server $S: jackd -d dummy -r $JACKENV_RATE -p $JACKENV_PERIOD"

# ---- scripted playback, recorded: every event at its exact frame ----------------------------------------
# 100 note on/off pairs over one second: offsets land anywhere in a period, on/off pairs share frames (i % 3 == 0).
awk 'BEGIN { for (i = 0; i < 100; i++) {
	on = i * 480 + (i * 37) % 200; off = on + (i % 3 ? 1 + (i * 53) % 255 : 0)
	printf "%d %02X %02X %02X\n", on, 0x90 + i % 16, 36 + i % 48, 1 + (i * 7) % 127
	printf "%d %02X %02X 00\n", off, 0x80 + i % 16, 36 + i % 48 } }' >"$D/script.txt"

jackenv_bg "$JACK_PROBE" record --server "$S" --client rec --out "$D/notes.txt" --ready "$D/notes.ready"
rec=$JACKENV_LASTPID
jackenv_wait_file "$D/notes.ready" || jackenv_diag "record never became ready"
"$JACK_PROBE" play --server "$S" --client ply --connect 'rec:in' --script "$D/script.txt" --delay 100 \
	>"$D/play.log" 2>&1
st=$?
jackenv_ok $st "play --script exits 0"
[ $st -eq 0 ] || jackenv_show "$D/play.log"
jackenv_kill "$rec"
jackenv_ok $JACKENV_STATUS "record exits 0 on SIGTERM"

# "n err bad first": events, largest |frame error| against the script, events with other bytes, first frame
set -- $(awk 'BEGIN { n = m = 0 }
	FNR == NR { off[n] = $1; $1 = ""; want[n++] = $0; next }
	/^#/ { next }
	{ if (m == 0) f0 = $1; e = $1 - f0 - off[m]; if (e < 0) e = -e; if (e > err) err = e
	  $1 = ""; if ($0 != want[m]) bad++; m++ }
	END { printf "%d %d %d %d\n", m, err, bad, f0 }' "$D/script.txt" "$D/notes.txt")
jackenv_ok $([ "$1" -eq 200 ]; echo $?) "200 events recorded (got $1)"
jackenv_ok $([ "$1" -eq 200 ] && [ "$2" -eq 0 ]; echo $?) "every event at its scripted frame offset"
jackenv_ok $([ "$1" -eq 200 ] && [ "$3" -eq 0 ]; echo $?) "every event's bytes intact"
jackenv_diag "notes: $1 events, max frame error $2, byte mismatches $3, first at frame $4 ($(($4 % JACKENV_PERIOD)) into its period)"

# ---- MIDI clock from jack_midi_clock -----------------------------------------------------------------------
# clock_run MIDI_CLOCK_ARGS -- CLOCKMASTER_ARGS: records jack_midi_clock for the clockmaster's run into $D/clk.txt
clock_run() {
	mc=
	while [ "$1" != "--" ]; do mc="$mc $1"; shift; done
	shift
	rm -f "$D/clk.ready"
	jackenv_bg jack_midi_clock $mc
	mcpid=$JACKENV_LASTPID
	jackenv_bg "$JACK_PROBE" record --server "$S" --client rec --connect 'jack_midi_clock:mclk_out' \
		--out "$D/clk.txt" --ready "$D/clk.ready"
	rec=$JACKENV_LASTPID
	jackenv_wait_file "$D/clk.ready" || jackenv_diag "clock record never became ready"
	sleep 0.2       # jack_midi_clock starts acting a moment after its port appears
	"$JACK_PROBE" clockmaster --server "$S" "$@" >"$D/cm.log" 2>&1 || { jackenv_diag "clockmaster failed:"; jackenv_show "$D/cm.log"; }
	sleep 0.1
	jackenv_kill "$rec"
	jackenv_kill "$mcpid" INT
}

# clock_stats T: "n mean min max sd fa fc" over the F8 intervals of $D/clk.txt: extremes as % off T; fa/fc 1 when
# Start came before the first clock and Stop after the last
clock_stats() {
	awk -v T="$1" '/^#/ { next }
	$2 == "FA" && n == 0 { fa = 1 }  $2 == "FC" && n > 0 { fc = 1 }  $2 == "F8" && fc { fc = 0 }
	$2 == "F8" { if (n) { d = $1 - l; s += d; ss += d * d; if (n == 1 || d < mn) mn = d; if (d > mx) mx = d }
		l = $1; n++ }
	END { if (n < 3) { print "0 0 0 0 0 0 0"; exit }
		m = s / (n - 1); printf "%d %.3f %.2f %.2f %.2f %d %d\n", n - 1, m, (mn - T) / T * 100, (mx - T) / T * 100,
		sqrt(ss / (n - 1) - m * m), fa, fc }' "$D/clk.txt"
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (a - b) / b * 100 }'; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !((a < 0 ? -a : a) <= b) }'; }

T=$(awk "BEGIN { printf \"%.4f\", $JACKENV_RATE * 60 / (123 * 24) }")

clock_run -- --bpm 123 --seconds 3
set -- $(clock_stats "$T")
jackenv_diag "clock 123 BPM (BBT from clockmaster): $1 intervals, mean $2 frames (want $T, $(pct "$2" "$T") %), extremes $3 % .. $4 %, sd $5"
jackenv_diag "clock: $(grep -v ' F8$' "$D/clk.txt" | grep -v '^#' | tr '\n' ' ')(Start/Stop/Song Position lines)"
jackenv_ok $([ "$1" -gt 100 ] && [ "$6" -eq 1 ] && [ "$7" -eq 1 ]; echo $?) "jack_midi_clock: Start before the first clock, Stop after the last"
jackenv_ok $([ "$1" -gt 100 ] && within "$(pct "$2" "$T")" 0.5; echo $?) "123 BPM: mean F8 interval within 0.5 % of $T frames"
# rounding to whole frames: 975 or 976
jackenv_ok $([ "$1" -gt 100 ] && within "$3" 0.11 && within "$4" 0.11; echo $?) "123 BPM: every interval within a frame of $T"

clock_run -b 123 -J 10 -- --no-bbt --seconds 3
set -- $(clock_stats "$T")
# -J jitters each interval, and the clock goes on from the jittered tick: the phase wanders like a random walk,
# so the mean of N intervals is off by about sd / sqrt(N) (0.5 % for 3 s at 10 %) -- allow 4 of those
tol=$(awk -v sd="$5" -v n="$1" -v T="$T" 'BEGIN { if (n < 1) n = 1; printf "%.2f", 4 * sd / sqrt(n) / T * 100 }')
jackenv_diag "clock -b 123 -J 10 (transport only): $1 intervals, mean $2 frames ($(pct "$2" "$T") %, allowed $tol %), extremes $3 % .. $4 %, sd $5"
jackenv_ok $([ "$1" -gt 100 ] && within "$3" 10.11 && within "$4" 10.11; echo $?) "-J 10: every interval within 10 % of $T frames"
jackenv_ok $([ "$1" -gt 100 ] && ! within "$3" 5 && ! within "$4" 5; echo $?) "-J 10: intervals do vary (beyond +-5 % both ways)"
jackenv_ok $([ "$1" -gt 100 ] && within "$(pct "$2" "$T")" "$tol"; echo $?) "-J 10: mean interval holds (within 4 standard errors)"

clock_run -- --bpm 120 --change-at 1 --to 140 --seconds 2
set -- $(awk '/^#/ { next } $2 == "F8" { if (n) { d = $1 - l; if (d == 1000) a++; else if (d >= 857 && d <= 858) b++; else o++
	if (d != 1000 && !sw) sw = l - f0 } else f0 = $1; l = $1; n++ } END { printf "%d %d %d %d\n", a, b, o, sw }' "$D/clk.txt")
jackenv_diag "tempo change 120 -> 140 BPM at 1 s: $1 intervals of 1000 frames, $2 of 857/858, $3 others, switch at frame $4"
jackenv_ok $([ "$1" -eq 48 ] && [ "$2" -ge 50 ] && [ "$3" -eq 0 ] && [ "$4" -eq 48000 ]; echo $?) "clockmaster --change-at switches tempo at 48000 frames"

# ---- garbage: what the player sends, the recorder gets -----------------------------------------------------
rm -f "$D/g.ready"
jackenv_bg "$JACK_PROBE" record --server "$S" --client rec --out "$D/g.txt" --ready "$D/g.ready"
rec=$JACKENV_LASTPID
jackenv_wait_file "$D/g.ready"
"$JACK_PROBE" play --server "$S" --client ply --connect 'rec:in' --garbage 2000 --seconds 1 --seed 42 \
	>"$D/g.out" 2>"$D/g.err"
sleep 0.1
jackenv_kill "$rec"
sent=$(sed -n 's/.* sent \([0-9]*\) events.*/\1/p' "$D/g.out")
got=$(grep -vc '^#' "$D/g.txt")
jackenv_diag "garbage --seed 42 at 2000/s for 1 s: $(cat "$D/g.out" | tr -d '#'), recorded $got; $(grep -c ' F0' "$D/g.txt") with F0, longest $(awk '{ if (NF - 1 > m) m = NF - 1 } END { print m }' "$D/g.txt") bytes"
jackenv_ok $([ -n "$sent" ] && [ "$sent" -gt 1500 ] && [ "$got" -eq "$sent" ]; echo $?) "garbage: every event sent is recorded"

# ---- nothing left behind ---------------------------------------------------------------------------------
left=
for p in $JACKENV_PIDS; do jackenv_alive "$p" && left="$left $p"; done
clients=$(jack_lsp -s "$S" 2>/dev/null | grep -v '^system:' | tr '\n' ' ')
jackenv_ok $([ -z "$left" ] && [ -z "$clients" ]; echo $?) "no client left running (pids:${left:- none}, ports: ${clients:-none})"
