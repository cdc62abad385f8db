#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_systemd.sh: the service side, on the null backend: the units pass systemd-analyze verify; with
# NOTIFY_SOCKET READY=1 comes once the control socket answers, WATCHDOG=1 keeps coming and stops when the engine
# thread hangs (test hook), RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM; socket activation through
# systemd-socket-activate.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
D=$build/musicvaed
CC=$build/musicvaectl
W=$(mktemp -d "${TMPDIR:-/tmp}/test_systemd.XXXXXX")
PIDS=
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$W"' EXIT INT TERM
command -v socat >/dev/null 2>&1 || { echo "1..0 # SKIP socat missing"; exit 0; }
n=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
echo "1..11"
"$build/tests/mkmodel" mel "$W/mel" 3 || { echo "Bail out! mkmodel"; exit 1; }
printf 'model = { path = "%s"; seed = 1; };\nbackend = { type = "null"; };\ncontrol = { socket = "%s"; };\n' \
	"$W/mel" "$W/ctl" > "$W/d.conf"
# the datagrams arrive back to back: one assignment a line
msgs() { sed 's/\(READY=1\|WATCHDOG=1\|RELOADING=1\|STOPPING=1\|STATUS=\)/\n\1/g' "$W/notify.log" 2>/dev/null; }
count() { msgs | grep -c "^$1"; }
wait_for() { # wait_for PATTERN TENTHS
	i=0; until msgs | grep -q "^$1"; do i=$((i + 1)); [ $i -gt "$2" ] && return 1; sleep 0.1; done
}

# 1-2. systemd-analyze verify on every unit (ExecStart pointed at this build's binary).
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$W/units"
	for u in musicvaed.service musicvaed.socket; do
		sed "s|^ExecStart=[^ ]*musicvaed |ExecStart=$(cd "$build" && pwd)/musicvaed |" "$build/systemd/$u" > "$W/units/$u"
	done
	systemd-analyze verify --man=no "$W/units/musicvaed.service" "$W/units/musicvaed.socket" > "$W/verify" 2>&1 &&
		[ ! -s "$W/verify" ]
	ok $? "systemd-analyze verify: musicvaed.service and musicvaed.socket"
	sed 's/^/# /' "$W/verify"
	sed "s|^ExecStart=[^ ]*musicvaed |ExecStart=$(cd "$build" && pwd)/musicvaed |" "$build/systemd/user/musicvaed.service" \
		> "$W/units/user.service"
	mkdir -p "$W/xdg"; chmod 700 "$W/xdg"
	XDG_RUNTIME_DIR=$W/xdg systemd-analyze verify --man=no --user "$W/units/user.service" > "$W/verify" 2>&1
	grep -v 'Failed to .*user\|bus\|XDG_RUNTIME_DIR' "$W/verify" > "$W/verify2"
	[ ! -s "$W/verify2" ]; ok $? "systemd-analyze verify --user: the user unit"
	sed 's/^/# /' "$W/verify2"
else
	skip "systemd-analyze missing"; skip "systemd-analyze missing"
fi

# 3-7. The notify protocol against a datagram socket.
socat -u UNIX-RECV:"$W/notify",unlink-early - > "$W/notify.log" 2>/dev/null &
SOC=$!; PIDS="$PIDS $SOC"
sleep 0.3
NOTIFY_SOCKET=$W/notify WATCHDOG_USEC=1000000 MUSICVAED_TEST_HANG_ENGINE=6 "$D" -c "$W/d.conf" > "$W/log" 2>&1 &
P=$!; PIDS="$PIDS $P"
wait_for READY=1 50; r=$?
"$CC" -s "$W/ctl" ping > /dev/null 2>&1; r2=$?
[ $r = 0 ] && [ $r2 = 0 ] && msgs | grep -q '^STATUS=mode generate'
ok $? "READY=1 with STATUS=mode generate..., and the control socket answers when it arrives"
sleep 2.2
w1=$(count WATCHDOG=1)
[ "$w1" -ge 3 ]; ok $? "WATCHDOG=1 keeps coming while the threads run ($w1 in about 2.5 s, interval 1 s)"
kill -HUP $P; sleep 0.5
msgs | awk '/^RELOADING=1/ { r = NR } /^READY=1/ && r && NR > r { ok = 1 } END { exit !ok }'
ok $? "SIGHUP: RELOADING=1, then READY=1"
sleep 4.5        # the engine hangs 6 s after start
w2=$(count WATCHDOG=1); sleep 3; w3=$(count WATCHDOG=1)
[ "$w3" = "$w2" ]; ok $? "the engine thread hung (test hook): WATCHDOG=1 stopped ($w2 then $w3 after 3 s)"
kill -TERM $P
i=0; while kill -0 $P 2>/dev/null; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
kill -9 $P 2>/dev/null; wait $P 2>/dev/null
msgs | grep -q '^STOPPING=1'; ok $? "SIGTERM: STOPPING=1"
kill $SOC 2>/dev/null; wait $SOC 2>/dev/null
msgs | grep -v '^WATCHDOG\|^$' | sed 's/^/# notify: /' | head -n 8

# 8-9. Logging: syslog priorities when stderr is the journal's stream ($JOURNAL_STREAM), plain otherwise.
: > "$W/j.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$W/j.log") "$D" -t -c /dev/null -o model.path="$W/none" 2>> "$W/j.log"
grep -q '^<3>checkpoint .*none' "$W/j.log"; ok $? "under the journal: <3> before an error, no program name"
"$D" -t -c /dev/null -o model.path="$W/none" 2> "$W/p.log"
grep -q '^musicvaed: error: checkpoint' "$W/p.log"; ok $? "on a terminal or file: musicvaed: error: ..."

# 10-11. Socket activation: systemd-socket-activate makes the listening socket, the daemon takes it.
if command -v systemd-socket-activate >/dev/null 2>&1; then
	printf 'model = { path = "%s"; seed = 1; };\nbackend = { type = "null"; };\n' "$W/mel" > "$W/a.conf"
	systemd-socket-activate -l "$W/act" "$D" -c "$W/a.conf" > "$W/act.log" 2>&1 &
	A=$!; PIDS="$PIDS $A"
	i=0; until [ -S "$W/act" ]; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
	"$CC" -s "$W/act" status > "$W/act.st" 2>&1; r=$?
	[ $r = 0 ] && grep -q '^mode: generate' "$W/act.st"; ok $? "socket activation: the first connection starts the daemon and gets its reply"
	grep -q 'control socket from the service manager' "$W/act.log"; ok $? "the daemon took the socket it was given"
	kill -TERM $A 2>/dev/null; wait $A 2>/dev/null
else
	skip "systemd-socket-activate missing"; skip "systemd-socket-activate missing"
fi
