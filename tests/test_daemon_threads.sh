#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_daemon_threads.sh: what the daemon's threads may meet, seen from /proc: every thread (OpenBLAS's pool,
# started by a library constructor before main, included) blocks the signals the main loop reads from its
# signalfd, and SIGUSR1/SIGHUP/SIGTERM still work; memory locked when the memlock limit allows it (VmLck), and
# said when it does not; the engine's wait does not follow a stepped wall clock (an LD_PRELOAD shift of
# CLOCK_REALTIME must not make it spin).
set -u
build=${top_builddir:-.}
D=$build/musicvaed
W=$(mktemp -d "${TMPDIR:-/tmp}/test_daemon_threads.XXXXXX")
MUSICVAED_SOCKET=$W/ctl; export MUSICVAED_SOCKET
JACK_NO_START_SERVER=1; export JACK_NO_START_SERVER
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$W"' EXIT INT TERM
n=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; sed 's/^/# /' "$W/log" 2>/dev/null | tail -n 8; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
echo "1..8"
"$build/tests/mkmodel" mel "$W/mel" 3 || { echo "Bail out! mkmodel"; exit 1; }
printf 'model = { path = "%s"; seed = 1; };\nbackend = { type = "null"; };\n' "$W/mel" > "$W/null.conf"
printf 'model = { path = "%s"; seed = 1; };\nbackend = { type = "jack"; server_name = "musicvaed-none-%s"; };\n' \
	"$W/mel" $$ > "$W/jack.conf"
# start LOG CMD...: CMD in the background until its log says it runs
start() {
	log=$1; shift
	"$@" > "$W/$log" 2>&1 &
	PID=$!
	i=0; until grep -q 'running:' "$W/$log" 2>/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
}
# stop: SIGTERM, the exit status in $RC (124 when it did not end within 5 s)
stop() {
	kill -TERM $PID
	i=0; while kill -0 $PID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 $PID 2>/dev/null; then kill -9 $PID; wait $PID; RC=124; else wait $PID; RC=$?; fi
	PID=
}
# cpu PID: the process's user + system time so far, in clock ticks
cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# 1-2. null backend, allowed to lock its memory (a raised limit, or CAP_IPC_LOCK): signals blocked in every
# thread, memory locked
canlock=1
if prlimit --memlock=unlimited true 2> /dev/null; then
	start log prlimit --memlock=unlimited "$D" -v -c "$W/null.conf"
else
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	[ $((0x${eff#"${eff%????}"} & 0x4000)) != 0 ] || canlock=0     # CAP_IPC_LOCK (14)
	start log "$D" -v -c "$W/null.conf"
fi
sleep 0.5
nt=0 bad=
for t in /proc/$PID/task/*; do
	blk=$(sed -n 's/^SigBlk:[[:space:]]*//p' "$t/status")
	low=${blk#"${blk%????}"}                        # SIGHUP 1, SIGINT 2, SIGUSR1 10, SIGTERM 15: bits 0x4203
	nt=$((nt + 1))
	[ $((0x$low & 0x4203)) = $((0x4203)) ] || bad="$bad ${t##*/}:$(cat "$t/comm"):$blk"
done
[ $nt -ge 3 ] && [ -z "$bad" ]
ok $? "all $nt threads block SIGHUP, SIGINT, SIGTERM and SIGUSR1${bad:+ (not:$bad)}"
lck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$PID/status)
if [ $canlock = 1 ]; then
	grep -q 'memory locked (mlockall)' "$W/log" && [ "${lck:-0}" -gt 1000 ]
	ok $? "allowed to lock memory: 'memory locked' logged, VmLck ${lck:-?} kB"
else
	skip "the memlock limit cannot be raised here (no CAP_SYS_RESOURCE nor CAP_IPC_LOCK)"
fi
# 3-5. the main loop still takes them, from its signalfd
kill -USR1 $PID; sleep 0.5
grep -q 'status: mode generate' "$W/log"; ok $? "SIGUSR1: a status line"
printf 'mode = "morph";\n' >> "$W/null.conf"
kill -HUP $PID; sleep 1
grep -q 'configuration reloaded' "$W/log" && grep -q 'mode morph' "$W/log"; ok $? "SIGHUP: configuration reloaded (mode morph)"
stop
[ $RC = 0 ] && grep -q 'stopping' "$W/log"; ok $? "SIGTERM: stops cleanly (exit $RC)"

# 6. without the right to lock memory the daemon says so and runs
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null 2>&1; then
	start log2 setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock prlimit --memlock=0 "$D" -c "$W/null.conf"
	lck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$PID/status)
	grep -q 'mlockall: memory not locked (raise the memlock limit' "$W/log2" && [ "${lck:-x}" = 0 ] &&
		grep -q 'running:' "$W/log2"
	ok $? "memlock 0, no CAP_IPC_LOCK: 'memory not locked' with the hint, VmLck ${lck:-?} kB, running"
	stop
else
	prlimit --memlock=0 "$D" -c "$W/null.conf" > "$W/log2" 2>&1 &
	PID=$!; sleep 2; stop
	grep -q 'mlockall: memory not locked (raise the memlock limit' "$W/log2"
	ok $? "memlock 0: 'memory not locked' with the hint"
fi

# 7-8. no JACK server: the engine has no period to wake it and waits out its 20 ms timeouts; with the wall
# clock an hour behind (LD_PRELOAD) a wall-clock deadline would lie in the past and the engine would spin
if "$D" -t -c "$W/jack.conf" > "$W/log3" 2>&1 && [ -e "$build/tests/clockshift.so" ]; then
	start log3 env LD_PRELOAD="$build/tests/clockshift.so" CLOCKSHIFT_SECONDS=-3600 "$D" -c "$W/jack.conf"
	sleep 1
	c0=$(cpu $PID); sleep 3; c1=$(cpu $PID)
	hz=$(getconf CLK_TCK)
	[ $(((c1 - c0) * 1000 / hz)) -lt 500 ]
	ok $? "wall clock 1 h behind, no JACK server: $(((c1 - c0) * 1000 / hz)) ms of CPU in 3 s (the engine does not spin)"
	stop
	[ $RC = 0 ]; ok $? "and it stops cleanly (exit $RC)"
else
	skip "no JACK backend in this build, or tests/clockshift.so missing"
	skip "no JACK backend in this build"
fi
