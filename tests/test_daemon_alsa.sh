#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_daemon_alsa.sh: musicvaed on the ALSA sequencer of a real kernel, booted by tests/vm/alsa-vm (one VM per
# group of scenarios): the internal clock's grid and ticks, SysEx and garbage input, a port that appears later,
# aconnect; the external clock steady, jittered, changing tempo, with dropped ticks, Stop/SPP/Continue, Stop
# then Start; call and response. tests/alsa_probe records with its own queue's clock and plays scripts on the recorder's queue,
# so recordings and scripts share one timeline (microseconds). Recordings come back over the VM's stdout and
# are checked here, on the host. The guest part is this script run with --guest GROUP WORKDIR.
set -u
src=$(cd "${top_srcdir:-.}" && pwd)
build=$(cd "${top_builddir:-.}" && pwd)
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
D=$build/musicvaed
P=$build/tests/alsa_probe
# The backend's timing (src/daemon/backend_alsa.c): input reaches the rt core DELAY us after it arrived, so a
# note that follows an external tick leaves DELAY after it; the queue timer ticks every TICK us.
DELAY=3000
TICK=250

# ==== guest side: runs the scenarios of one group inside the VM, prints every file it made =====================
if [ "${1:-}" = --guest ]; then
	group=$2 W=$3 G=/tmp/mvd-alsa-$2
	mkdir -p "$G" && cd "$G" || exit 125
	MUSICVAED_SOCKET=$G/ctl; export MUSICVAED_SOCKET
	PIDS=
	bg() { # bg NAME CMD...: CMD in the background, output in NAME.log, pid in $LAST
		n=$1; shift
		"$@" > "$G/$n.log" 2>&1 &
		LAST=$!; PIDS="$PIDS $LAST"
	}
	wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
		t=$(($1 * 20)); shift
		until "$@" 2>/dev/null; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 0.05; done
	}
	stop() { # stop PID [SIG]: signal, wait; the exit status in $ST
		kill -"${2:-TERM}" "$1" 2>/dev/null
		wait "$1"; ST=$?
	}
	rec() { # rec NAME [CLIENT]: a recorder (port CLIENT:in, default rec) writing NAME.rec
		bg "rec-$1" "$P" record --client "${2:-rec}" --out "$G/$1.rec" --ready "$G/$1.ready"
		REC=$LAST
		wait_for 10 test -e "$G/$1.ready" || echo "recorder $1 did not start" >> "$G/errors"
	}
	daemon() { # daemon NAME [CONF]: musicvaed -c W/CONF.conf (default NAME), log in d-NAME.log
		bg "d-$1" "$D" -c "$W/${2:-$1}.conf"
		DPID=$LAST DLOG=$G/d-$1.log DNAME=$1
		wait_for 20 grep -q 'running:' "$DLOG" || echo "daemon $1 did not start" >> "$G/errors"
	}
	status() { # status NAME: one SIGUSR1 status line into NAME.status
		kill -USR1 "$DPID"; sleep 0.3
		grep 'status:' "$DLOG" | tail -n 1 > "$G/$1.status"
	}
	finish() { # the daemon (its exit status in NAME.exit), then the recorder
		stop "$DPID"; echo "$ST" > "$G/$DNAME.exit"
		sleep 0.2
		stop "$REC" INT
	}
	play() { # play NAME SCRIPT [ARGS]: a script on the recorder's queue, to musicvaed and the recorder
		pn=$1 ps=$2; shift 2
		bg "play-$pn" "$P" play --client play --connect '^musicvaed:midi_in$' '^rec:in$' --script "$ps" \
			--queue alsa_probe:rec "$@"
		PLAY=$LAST
	}
	case $group in
	internal)
		for bpm in 120 173; do
			rec "grid$bpm"
			daemon "grid$bpm"
			sleep "$(awk -v b=$bpm 'BEGIN { print 17 * 240 / b }')"
			finish
		done
		# SysEx: 1000 bytes through a virtual raw MIDI port (the kernel cuts it into events of 256 bytes) and
		# 3000 bytes in one event, while nothing else arrives; then garbage at 2000 events a second for 6 s
		rec garbage
		daemon garbage
		sleep 1.5; status sx0
		{ printf '\360'; head -c 1000 /dev/zero | tr '\0' A; printf '\367'; } > /dev/snd/midiC0D0
		bg sx "$P" play --client sx --connect '^musicvaed:midi_in$' --script "$W/sysex.script"
		wait "$LAST"; sleep 0.3; status sx1
		bg junk "$P" play --client junk --connect '^musicvaed:midi_in$' --garbage 2000 --seconds 6 --seed 7
		wait "$LAST"; status sx2
		sleep 2
		finish
		# A recorder that appears after the daemon, goes away and comes back; aconnect's view of it all
		daemon late
		sleep 1.5
		rec late late
		sleep 3
		aconnect -l > "$G/aconnect-l.txt"; aconnect -i > "$G/aconnect-i.txt"; aconnect -o > "$G/aconnect-o.txt"
		stop "$REC" INT
		sleep 1
		rec late2 late
		sleep 2
		# a keyboard connected by hand, as README shows: aconnect 'CLIENT:PORT' 'musicvaed:0'
		bg kbd "$P" play --client kbd --connect '^late:in$' --script "$W/kbd.script" --delay 1500000
		wait_for 10 sh -c "aconnect -l | grep -q \"'kbd'\"" && aconnect 'kbd:0' 'mvd-test:0' 2> "$G/aconnect-kbd.err"
		wait "$LAST"; sleep 0.3; status kbd
		# a reload that adds a pattern: the port it names, there already, is connected
		stop "$REC" INT
		rec other other
		sleep 1
		cp "$W/late-reload.conf" "$W/late.conf" && kill -HUP "$DPID"
		sleep 2
		finish
		;;
	external)
		for s in ext jit tempo drop spp reloc-mel reloc-hier restart-mel restart-hier; do
			rec "$s"
			case $s in *-hier) daemon "$s" ext4 ;; *) daemon "$s" ext ;; esac
			case $s in
			reloc-*) play "$s" "$W/reloc.script" --delay 500000 ;;
			restart-*) play "$s" "$W/restart.script" --delay 500000 ;;
			*) play "$s" "$W/$s.script" --delay 500000 ;;
			esac
			case $s in
			ext) sleep 5.5; status ext ;;
			tempo) sleep 7.3; status tempo ;;
			esac
			wait "$PLAY"
			sleep 0.5; status "$s.end"
			finish
		done
		;;
	continue)
		rec cont
		daemon cont
		wait_for 10 grep -q ' FA$' "$G/cont.rec"
		origin=$(awk '$2 == "FA" { print $1; exit }' "$G/cont.rec")
		play cont "$W/cont.script" --at "$origin"
		sleep 17; status cont
		finish
		;;
	esac
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	uptime=$(cut -d' ' -f1 /proc/uptime)
	for f in "$G"/*; do
		echo "=== FILE ${f##*/}"
		cat "$f"; [ -z "$(tail -c 1 "$f")" ] || echo
	done
	echo "=== FILE uptime"; echo "$uptime"
	exit 0
fi

# ==== host side ==================================================================================================
skip() { echo "1..0 # SKIP $*"; exit 0; }
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot (apt-get install linux-image-amd64)"
[ -x /bin/busybox ] || skip "no /bin/busybox for the VM's initramfs (apt-get install busybox-static)"
command -v aconnect >/dev/null 2>&1 || skip "aconnect missing (apt-get install alsa-utils)"
command -v node >/dev/null 2>&1 || skip "node missing (run scripts/install-deps)"
[ -x "$P" ] || { echo "Bail out! $P not built"; exit 1; }
echo "1..51"
W=$(mktemp -d "${TMPDIR:-/tmp}/test_daemon_alsa.XXXXXX") || exit 1
trap '[ -n "${ALSA_TEST_KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
CHECK="node $src/tests/daemon_check.js"
. "$src/tests/daemon_lib.sh"
N=0
ok() { N=$((N + 1)); if [ "$1" -eq 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; fi; }
diag() { sed 's/^/# /' "$@"; }
"$build/tests/mkmodel" mel "$W/mel" 7 || { echo "Bail out! mkmodel failed"; exit 1; }
"$build/tests/mkmodel" melhier "$W/hier" 7 || { echo "Bail out! mkmodel melhier failed"; exit 1; }

# conf NAME SETTINGS...: the model and an ALSA backend; CIN/COUT are the connect lists, BACKEND more settings
conf() {
	f=$W/$1.conf; shift
	{
		echo "model = { path = \"${MODEL:-$W/mel}\"; seed = 11; temperature = ${TEMP:-0.5}; };"
		echo "backend = { type = \"alsa\"; connect_output = [ ${COUT:-\"^rec:in\$\"} ]; connect_input = [ ${CIN:-} ];"
		echo "  ${BACKEND:-} };"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}
conf grid120 'clock = { bpm = 120; send_transport = true; send_clock = true; };'
conf grid173 'clock = { bpm = 173; send_transport = true; send_clock = true; };'
CIN='"^Virtual Raw MIDI 0-0:"' conf garbage 'clock = { bpm = 120; send_transport = true; };'
COUT='"^late:"' BACKEND='client_name = "mvd-test"; input_port = "keys_in"; output_port = "notes_out";' conf late
COUT='"^late:", "^other:in$"' BACKEND='client_name = "mvd-test"; input_port = "keys_in"; output_port = "notes_out";' \
	conf late-reload
conf ext 'clock = { source = "external"; };'
MODEL=$W/hier conf ext4 'clock = { source = "external"; };'
TEMP=0 conf cont 'mode = "continue";' 'continue = { candidates = 1; };' 'capture = { rest_seconds = 10.0; };' 'clock = { send_transport = true; };'

# scripts ("USEC HEX...", after the start): a 3000-byte SysEx; eight notes for the aconnect'ed keyboard
awk 'BEGIN { printf "0 F0"; for (i = 0; i < 3000; i++) printf " %02X", i % 128; print " F7" }' > "$W/sysex.script"
awk 'BEGIN { for (i = 0; i < 8; i++) printf "%d 90 %X 64\n%d 80 %X 00\n", i * 100000, 60 + i, i * 100000 + 50000, 60 + i }' \
	> "$W/kbd.script"
# external clock at 123 BPM for 6 bars; jittered (each interval +-10 %, a random walk like jack_midi_clock -J);
# 123 -> 90 BPM at 4 s; two ticks dropped (the second begins a step); Stop, SPP 40, Continue
awk 'BEGIN { f = 60e6 / (123 * 24); print 0, "FA"; for (i = 0; i < 24 * 4 * 6; i++) printf "%d F8\n", int(f * i + 0.5) + 5000 }' \
	> "$W/ext.script"
awk 'BEGIN { srand(7); f = 60e6 / (123 * 24); print 0, "FA"; t = 5000;
	for (i = 0; i < 24 * 4 * 5; i++) { printf "%d F8\n", int(t + 0.5); t += f * (1 + (2 * rand() - 1) * 0.1) } }' > "$W/jit.script"
awk 'BEGIN { print 0, "FA"; t = 5000; while (t < 11e6) { printf "%d F8\n", int(t + 0.5); t += 60e6 / ((t < 4e6 ? 123 : 90) * 24) } }' \
	> "$W/tempo.script"
awk 'BEGIN { f = 60e6 / (123 * 24); print 0, "FA";
	for (i = 0; i < 24 * 4 * 6; i++) if (i != 200 && i != 300) printf "%d F8\n", int(f * i + 0.5) + 5000 }' > "$W/drop.script"
awk 'BEGIN { f = 60e6 / (123 * 24); print 0, "FA";
	for (i = 0; i < 24 * 4 * 3 + 40; i++) printf "%d F8\n", int(f * i + 0.5) + 5000;
	stop = int(f * i + 0.5) + 5000; print stop, "FC"; print stop + 500000, "F2 28 00"; print stop + 502000, "FB";
	for (j = 0; j < 24 * 4 * 2; j++) printf "%d F8\n", stop + 502000 + int(f * (j + 1) + 0.5) }' > "$W/spp.script"
# relocations (as in test_daemon_jack.sh), 200 BPM: steps 0-111 continuously, then Stop, SPP_STEP, Continue and
# play to LAST_STEP, for each pair: bar 5 step 8 (odd), bar 3 step 8 (odd; across bar 4), bar 6, bar 1 step 4
RELOC="88 111 56 79 96 111 20 40"
awk -v segs="$RELOC" 'function run(n,  i) { for (i = 0; i < n; i++) printf "%d F8\n", int(t + f * i + 0.5); t += f * n }
BEGIN { f = 60e6 / (200 * 24); t = 5000; print 0, "FA"; run(6 * 111 + 3); n = split(segs, s, " ");
	for (k = 1; k < n; k += 2) { p = s[k]; print int(t), "FC"; printf "%d F2 %02X %02X\n", int(t) + 250000, p % 128, int(p / 128);
		print int(t) + 500000, "FB"; t = int(t) + 500000 + f; run(6 * (s[k + 1] - p) + 3) } }' > "$W/reloc.script"
# Start after Stop (as in test_daemon_jack.sh), 200 BPM: steps 0-103 from Start, then Stop, SPP_STEP (-1: none),
# Start and play to LAST_STEP, for each pair: after a Stop in bar 6; SPP bar 5 step 8; after a Stop in bar 3;
# SPP bar 1 step 4
RESTART="-1 40 88 56 -1 50 20 40"
awk -v segs="$RESTART" 'function run(n,  i) { for (i = 0; i < n; i++) printf "%d F8\n", int(t + f * i + 0.5); t += f * n }
BEGIN { f = 60e6 / (200 * 24); t = 5000; print 0, "FA"; run(6 * 103 + 3); n = split(segs, s, " ");
	for (k = 1; k < n; k += 2) { p = s[k]; print int(t), "FC";
		if (p >= 0) printf "%d F2 %02X %02X\n", int(t) + 250000, p % 128, int(p / 128);
		print int(t) + 500000, "FA"; t = int(t) + 500000 + f; run(6 * s[k + 1] + 3) } }' > "$W/restart.script"
# continue: the player plays examples/phrase-a.mid (2 bars, onsets up to 0.3 step early or late) from bar 3
printf '0 2 60 90\n2 2 62 80\n4 2 64 90\n6 2 67 80\n8 4 72 100\n12 2 71 80\n14 2 67 80\n16 3 69 90\n19 1 67 70\n20 2 65 80\n22 2 64 80\n24 6 60 100\n' |
awk '{ j = (NR % 5 - 2) * 18750; on = (48 + $1) * 125000 + j; off = (48 + $1 + $2) * 125000 - 2000;
	printf "%d 90 %X %X\n%d 80 %X 40\n", on, $3, $4, off, $3 }' | sort -n -k1,1 -s > "$W/cont.script"
"$build/musicvae" encode "$W/mel" "$src/examples/phrase-a.mid" > "$W/a.json" 2>/dev/null &&
	"$build/musicvae" decode "$W/mel" "$W/a.json" --json 2>/dev/null > "$W/a.ns.json"
node -e '
const ns = require(process.argv[1])[0];
for (const n of ns.notes) console.log(`${n.quantizedStartStep || 0} on ${n.pitch}`);' "$W/a.ns.json" | sort -n > "$W/cont.want"

# 1. -t knows the backend now
"$D" -t -c "$W/grid120.conf" > "$W/t.out" 2>&1; ok $? "musicvaed -t accepts backend.type = \"alsa\""

# boot GROUP: one VM runs the group; its files land in W/GROUP/
boot() {
	t0=$(date +%s.%N)
	"$src/tests/vm/alsa-vm" --timeout 600 -- sh "$self" --guest "$1" "$W" > "$W/$1.out" 2> "$W/$1.err"
	rc=$?
	t1=$(date +%s.%N)
	mkdir -p "$W/$1"
	awk -v d="$W/$1" '/^=== FILE / { f = d "/" $3; printf "" > f; next } f { print >> f }' "$W/$1.out"
	[ $rc = 0 ] && [ -s "$W/$1/uptime" ] && [ ! -s "$W/$1/errors" ]
	ok $? "VM for the $1 scenarios: booted and ran them ($(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s wall, guest clock $(cat "$W/$1/uptime" 2>/dev/null) s)"
	[ $rc = 0 ] || tail -n 20 "$W/$1.err" | diag
	[ -s "$W/$1/errors" ] && diag "$W/$1/errors"
}
# grid REC BPM BARS: every note-on on origin + round(k * step) and every 0xF8 on origin + round(k * tick), in us
grid() {
	awk -v bpm="$2" -v bars="$3" '
	$1 !~ /^[0-9]+$/ { next }
	$2 == "FA" && o == "" { o = $1 }
	o == "" { next }
	$2 ~ /^9/ && $4 != "00" { fps = 60e6 / (bpm * 4); k = int(($1 - o) / fps + 0.5); e = $1 - (o + int(k * fps + 0.5))
		n++; s += e; if (e * e > m * m) m = e; if (k < bars * 16) cov[int(k / 16)] = 1 }
	$2 == "F8" { e = $1 - (o + int(t * 60e6 / (bpm * 24) + 0.5)); t++; ts += e; if (e * e > tm * tm) tm = e }
	END { for (b in cov) c++
		printf "%d note-ons, %d/%d bars with notes: error max %d us, mean %.1f us\n", n, c, bars, m, n ? s / n : 0
		if (t) printf "%d clock ticks: error max %d us, mean %.1f us\n", t, tm, ts / t
		exit !(n > 0 && c == bars && m * m < 1e6 && tm * tm < 1e6) }' "$1"
}
# delay REC LO HI: each note-on after the latest 0xF8 before it; all within [DELAY + LO, DELAY + HI] us
delay() {
	awk -v lo="$2" -v hi="$3" -v d="$DELAY" '
	$2 == "F8" { last = $1 }
	$2 ~ /^9/ && $4 != "00" && last != "" { x = $1 - last - d; n++; s += x
		if (n == 1 || x < mn) mn = x; if (n == 1 || x > mx) mx = x }
	END { printf "%d note-ons %d us after their tick, then %+d..%+d us (mean %+.1f)\n", n, d, mn, mx, n ? s / n : 0
		exit !(n > 0 && mn >= lo && mx <= hi) }' "$1"
}
# stop REC: after each 0xFC every sounding note is off within DELAY + 1 ms
stop_check() {
	awk -v d="$DELAY" '$1 ~ /^[0-9]+$/ { t[++n] = $1; b1[n] = $2; b2[n] = $3; b3[n] = $4; if ($2 == "FC") s[++ns] = $1 }
	END { bad = 0
		for (i = 1; i <= ns; i++) { split("", on); left = 0; last = 0
			for (k = 1; k <= n && t[k] <= s[i] + d + 1000; k++) {
				key = substr(b1[k], 2) ":" b2[k]
				if (b1[k] ~ /^9/ && b3[k] != "00") on[key]++
				else if ((b1[k] ~ /^8/ || b1[k] ~ /^9/) && on[key] > 0) { on[key]--; if (t[k] > s[i]) last = t[k] - s[i] } }
			for (key in on) left += on[key]
			printf "Stop at %d us: notes off %d us after it, %d still sounding %d us after it\n", s[i], last, left, d + 1000
			bad += left > 0 }
		exit !(ns > 0 && bad == 0) }' "$1"
}
# trim FILE: the events of whole bars before the run's last one
trim() {
	awk 'NR == FNR { if ($2 == "on" && $1 > m) m = $1; next } $1 < 16 * int(m / 16)' "$1" "$1"
}
field() { # field STATUSFILE NAME: a counter of a status line (0 when missing)
	v=$(sed -n "s/.*[:,] $2 \([0-9.]*\).*/\1/p" "$1" 2>/dev/null | head -n 1)
	echo "${v:-0}"
}

# ---- internal clock, SysEx and garbage, a late port, aconnect ---------------------------------------------------
boot internal
I=$W/internal
grep -q 'on the HR timer, period 250 us' "$I/d-grid120.log" && grep -q 'SCHED_FIFO' "$I/d-grid120.log" &&
	grep -q 'connected mvd\|connected musicvaed:midi_out -> rec:in' "$I/d-grid120.log"
ok $? "start-up: queue on the HR timer at 250 us, I/O thread SCHED_FIFO, connected to the recorder"
grep 'ALSA: client' "$I/d-grid120.log" | diag
for bpm in 120 173; do
	grid "$I/grid$bpm.rec" $bpm 16 > "$W/out"; ok $? "internal clock $bpm BPM: every note-on and 0xF8 within 1 ms of its ideal time for 16 bars"
	diag "$W/out"
	$CHECK held "$I/grid$bpm.rec" > "$W/out" 2>&1 && [ "$(cat "$I/grid$bpm.exit")" = 0 ]
	ok $? "internal clock $bpm BPM: exit 0 after SIGTERM, no note left sounding"
done
$CHECK steps "$I/grid120.rec" 120 | awk '$1 < 256' > "$W/ref.steps"
o0=$(field "$I/sx0.status" other) o1=$(field "$I/sx1.status" other)
b0=$(($(field "$I/sx0.status" 'bad status') + $(field "$I/sx0.status" 'bad length') + $(field "$I/sx0.status" 'bad data')))
b1=$(($(field "$I/sx1.status" 'bad status') + $(field "$I/sx1.status" 'bad length') + $(field "$I/sx1.status" 'bad data')))
[ "$((o1 - o0))" = 2 ] && [ "$b1" = "$b0" ]
ok $? "SysEx of 1000 bytes (cut into events by the kernel) and of 3000 bytes (one event): 2 well-formed, 0 malformed (got $((o1 - o0)), $((b1 - b0)))"
sent=$(sed -n 's/.*sent \([0-9]*\) events.*/\1/p' "$I/junk.log")
delta() { echo $(($(field "$I/sx2.status" "$1") - $(field "$I/sx1.status" "$1"))); }
d_bad_status=$(delta 'bad status') d_bad_length=$(delta 'bad length') d_bad_data=$(delta 'bad data')
d_other=$(delta other) d_in_events=$(delta 'in events')
[ "$d_bad_status" -gt 0 ] && [ "$d_bad_length" -gt 0 ] && [ "$d_bad_data" -gt 0 ] && [ "$d_other" -gt 0 ] &&
	[ "$d_in_events" -ge $((${sent:-0} * 9 / 10)) ] && [ "${sent:-0}" -gt 5000 ]
ok $? "garbage: $d_in_events of $sent events counted: bad status $d_bad_status, bad length $d_bad_length, bad data $d_bad_data, other $d_other"
grid "$I/garbage.rec" 120 4 > "$W/out"; ok $? "garbage and SysEx input: the grid is undisturbed"
diag "$W/out"
$CHECK held "$I/garbage.rec" > /dev/null 2>&1 && [ "$(cat "$I/garbage.exit")" = 0 ]
ok $? "garbage input: exit 0, no note left sounding"
n1=$(grep -c ' 9[0-9A-F] [0-9A-F]* [1-9A-F]' "$I/late.rec") n2=$(grep -c ' 9[0-9A-F] [0-9A-F]* [1-9A-F]' "$I/late2.rec")
[ "$(grep -c 'connected mvd-test:notes_out -> late:in' "$I/d-late.log")" = 2 ] && [ "$n1" -gt 5 ] && [ "$n2" -gt 5 ]
ok $? "a port that appears after start-up is connected, and again when it comes back ($n1 and $n2 note-ons)"
grep 'ALSA: connected\|disconnected' "$I/d-late.log" | diag
grep -q 'disconnected from mvd-test.*1 disconnections so far' "$I/d-late.log" && [ "$(cat "$I/late.exit")" = 0 ]
ok $? "its going away is noticed and counted, not fatal"
c=$(sed -n "s/^client \([0-9]*\): 'mvd-test'.*/\1/p" "$I/aconnect-l.txt")
[ -n "$c" ] && grep -q "^    0 'keys_in" "$I/aconnect-l.txt" && grep -q "^    1 'notes_out" "$I/aconnect-l.txt" &&
	grep -q "Connecting To: .*:0" "$I/aconnect-l.txt" && grep -q "notes_out" "$I/aconnect-i.txt" &&
	grep -q "keys_in" "$I/aconnect-o.txt" && ! grep -q announce "$I/aconnect-i.txt" "$I/aconnect-o.txt"
ok $? "aconnect -l lists client $c 'mvd-test' with ports 0 'keys_in' and 1 'notes_out'; -i and -o show only those"
sed -n "/'mvd-test'/,/^client/p" "$I/aconnect-l.txt" | grep -v '^client [0-9]*: .late' | diag
n1=$(grep -c ' 9[0-9A-F] [0-9A-F]* [1-9A-F]' "$I/other.rec")
grep -q 'configuration reloaded' "$I/d-late.log" && grep -q 'connected mvd-test:notes_out -> other:in' "$I/d-late.log" &&
	[ "$n1" -gt 3 ]
ok $? "SIGHUP with a new connect_output pattern connects the port it names ($n1 note-ons)"
kn=$(field "$I/kbd.status" 'in notes')
[ "${kn:-0}" -ge 16 ] && [ ! -s "$I/aconnect-kbd.err" ]
ok $? "aconnect 'kbd:0' 'mvd-test:0' connects a keyboard: its 16 note events counted as input (got $kn)"

# ---- external clock ---------------------------------------------------------------------------------------------
boot external
E=$W/external
bpm=$(field "$E/ext.status" tempo)
awk -v b="$bpm" 'BEGIN { exit !(b > 122.9 && b < 123.1) }'; ok $? "external clock: tempo estimate $bpm BPM within 0.1 of 123 after 2 bars"
# a note-on leaves DELAY after its tick, on the queue timer's next tick: within [-100 us, two ticks] of that
for s in ext jit tempo drop; do
	$CHECK ticks "$E/$s.rec" 4 > "$W/$s.ticks" 2>&1 && delay "$E/$s.rec" -100 $((2 * TICK)) > "$W/out"
	case $s in
	ext) what="steady 123 BPM" ;; jit) what="jittered (+-10 % intervals)" ;; tempo) what="123 -> 90 BPM" ;;
	drop) what="two ticks dropped" ;;
	esac
	ok $? "external clock, $what: every note-on on its step's tick, $DELAY us later"
	grep '^#' "$W/$s.ticks"; diag "$W/out"
	grep -v '^#' "$W/$s.ticks" | awk '$1 < 256' > "$W/$s.all"; trim "$W/$s.all" > "$W/$s.steps"
done
n=$(wc -l < "$W/ext.steps")
[ "$n" -gt 20 ] && head -n "$n" "$W/ref.steps" | cmp -s - "$W/ext.steps" && $CHECK held "$E/ext.rec" > /dev/null &&
	[ "$(cat "$E/ext.exit")" = 0 ]
ok $? "external clock: the same notes on the same steps as the internal-clock run ($n events), none stuck, exit 0"
n=$(wc -l < "$W/jit.steps")
[ "$n" -gt 20 ] && head -n "$n" "$W/ref.steps" | cmp -s - "$W/jit.steps" && grep -q 'missed ticks 0,' "$E/jit.end.status"
ok $? "jittered clock: no step skipped or doubled ($n events equal the reference), no tick taken for missing"
bpm=$(field "$E/tempo.status" tempo)
awk -v b="$bpm" 'BEGIN { exit !(b > 89.5 && b < 90.5) }'; ok $? "tempo change 123 -> 90: estimate $bpm one bar after the change"
grep -q 'missed ticks 2, late steps 1,' "$E/drop.end.status" && n=$(wc -l < "$W/drop.steps") &&
	head -n "$n" "$W/ref.steps" | cmp -s - "$W/drop.steps"
ok $? "dropped ticks: both counted, one step late; step phase kept (notes equal the reference)"
stop_check "$E/spp.rec" > "$W/out"; ok $? "Stop mid-bar: every sounding note is off within $((DELAY + 1000)) us"
diag "$W/out"
$CHECK ticks "$E/spp.rec" 4 continue 2>&1 | grep -v '^#' | grep ' on ' | awk '$1 < 64' > "$W/spp.steps"
awk '$1 >= 40 && $1 < 64 && $2 == "on"' "$W/ref.steps" | head -n "$(wc -l < "$W/spp.steps")" | cmp -s - "$W/spp.steps" &&
	[ "$(head -n 1 "$W/spp.steps" | cut -d' ' -f1)" = 40 ]
ok $? "SPP 40 + Continue: resumes on step 40 with that step's notes"
# relocations to odd and even bars: each segment plays what continuous play gave at those steps
for m in mel:2 hier:4; do
	seg_checks reloc "$E/reloc-${m%:*}.rec" 4 ok "${m#*:}-bar model" $RELOC
done
# Start after Stop: song position 0, whatever the Stop or an SPP left; each segment plays what the first run from
# Start gave, bar 0 included
for m in mel:2 hier:4; do
	grep -q 'repeated 0, missing 0,.* resyncs 0,' "$E/restart-${m%:*}.end.status"
	ok $? "${m#*:}-bar model, Stop then Start: bar 0's window was queued in time (no bar repeated or missing, no resync)"
	seg_checks restart "$E/restart-${m%:*}.rec" 4 ok "${m#*:}-bar model" $RESTART
done

# ---- call and response ------------------------------------------------------------------------------------------
boot continue
C=$W/continue
origin=$(awk '$2 == "FA" { print $1; exit }' "$C/cont.rec" 2>/dev/null)
# "STEP on PITCH ERROR": note-ons of the answer (steps 80..111) and how far (in steps) each is from its step
awk -v o="${origin:-0}" 'function hex(h,  i, v) { for (i = 1; i <= length(h); i++)
		v = v * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1; return v }
	$2 ~ /^9/ && $4 != "00" { s = ($1 - o) / 125000; k = int(s + 0.5)
		if (k >= 80 && k < 112) printf "%d on %d %.4f\n", k - 80, hex($3), s - k }' "$C/cont.rec" > "$W/cont.raw" 2>/dev/null
cut -d' ' -f1-3 "$W/cont.raw" | sort -n > "$W/cont.got"
grep -q 'phrases 1,' "$C/cont.status"; ok $? "continue: the phrase was captured and encoded once"
first=$(head -n 1 "$W/cont.got" | cut -d' ' -f1)
want_first=$(head -n 1 "$W/cont.want" | cut -d' ' -f1)
[ -n "$first" ] && [ "$first" = "$want_first" ]
ok $? "continue: the answer starts on the next downbeat (bar 5 = step 80; first note-on at step $((80 + ${first:-0})), expected $((80 + want_first)))"
cmp -s "$W/cont.want" "$W/cont.got" && [ -s "$W/cont.got" ] &&
	awk '{ if ($4 * 125000 > 1000 || $4 * 125000 < -1000) exit 1 }' "$W/cont.raw"
ok $? "continue: the answer equals musicvae's argmax decode of the phrase ($(wc -l < "$W/cont.got") notes, each within 1 ms of its step)"
diff "$W/cont.want" "$W/cont.got" | head -n 10 | diag

# ---- all runs ---------------------------------------------------------------------------------------------------
# A period computed after its time delays the events due in it; what the listener hears is the events sent late.
# With a busy host, 2 of 6 runs of this test had one period computed 2.1-2.8 ms (of guest time) after its time, in
# both within 0.2 s of a daemon's start, before any clock came: nothing was due in it.
cat "$W"/*/d-*.log 2>/dev/null | sed -n 's/.*ALSA: closed after \([0-9]*\) periods (\([0-9]*\) late, \([0-9]*\) events sent late; wake-ups at most \([0-9]*\) us.*/\1 \2 \3 \4/p' |
	awk '{ n++; p += $1; l += $2; e += $3; if ($4 > w) w = $4 }
	     END { printf "%d runs, %d periods, %d events sent late; %d periods computed late, wake-ups at most %d us after their time\n", n, p, e, l, w
		   exit !(n == 14 && e == 0) }' > "$W/out"
ok $? "the I/O thread sent every event on time (periods computed 2000 us ahead): $(cat "$W/out")"
grep -H 'ALSA: closed after\|computed after their time' "$W"/*/d-*.log | grep -v ' (0 late' | sed "s|^$W/||" | diag
[ $N = 51 ] || echo "# planned 51 tests, ran $N"
