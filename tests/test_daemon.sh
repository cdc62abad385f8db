#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_daemon.sh: musicvaed's life cycle on the null backend (no server needed): -t checks, start-up errors
# that name what is wrong, SIGHUP reloads that are applied or refused without losing state, SIGUSR1 status,
# clean SIGTERM.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
D=$build/musicvaed
W=$(mktemp -d "${TMPDIR:-/tmp}/test_daemon.XXXXXX")
MUSICVAED_SOCKET=$W/ctl; export MUSICVAED_SOCKET        # each daemon of the test: its own control socket
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$W"' EXIT INT TERM
n=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; sed 's/^/# /' "$W/log" 2>/dev/null | tail -n 8; fi; }
echo "1..15"
"$build/tests/mkmodel" mel "$W/mel" 3 && "$build/tests/mkmodel" drums "$W/drums" 3 || { echo "Bail out! mkmodel"; exit 1; }
conf() { # conf FILE MODE MODEL
	printf 'mode = "%s";\nmodel = { path = "%s"; seed = 1; };\nbackend = { type = "null"; };\n' "$2" "$3" > "$1"
}
conf "$W/good.conf" generate "$W/mel"
"$D" -t -c "$W/good.conf" > "$W/log" 2>&1; ok $? "-t accepts a good configuration and loads its model"
printf 'clock = { bpm = 500.0; };\n' > "$W/bad.conf"
"$D" -t -c "$W/bad.conf" > "$W/log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'bad.conf:1: clock.bpm' "$W/log"; ok $? "-t refuses bpm 500 naming file, line and setting"
printf 'clock = { bmp = 100.0; };\n' > "$W/typo.conf"
"$D" -t -c "$W/typo.conf" > "$W/log" 2>&1
grep -q 'typo.conf:1: clock.bmp' "$W/log"; ok $? "-t names a misspelt setting"
"$D" -t -c "$W/good.conf" -o clock.bpm=0 > "$W/log" 2>&1
grep -q 'command line: clock.bpm' "$W/log"; ok $? "-o overrides are validated too"
cp -r "$W/mel" "$W/broken"; truncate -s 100 "$W/broken/group1-shard1of1"
conf "$W/broken.conf" generate "$W/broken"
"$D" -c "$W/broken.conf" > "$W/log" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'group1-shard1of1' "$W/log"; ok $? "a truncated checkpoint stops start-up with the shard named"

"$D" -c "$W/good.conf" > "$W/log" 2>&1 &
PID=$!
sleep 1.5
kill -USR1 $PID; sleep 0.3
grep 'status:' "$W/log" | tail -n 1 | grep -q 'mode generate, tempo 120.0000 BPM.*running 1'; ok $? "running: SIGUSR1 reports generate mode at 120 BPM"
played=$(grep 'status:' "$W/log" | tail -n 1 | sed -n 's/.*bars played \([0-9]*\).*/\1/p')
[ "${played:-0}" -ge 1 ]; ok $? "bars are being played ($played so far)"
printf 'mode = "morph";\nclock = { bpm = 10.0; };\n' > "$W/good.conf.new"; cp "$W/good.conf" "$W/keep.conf"
cat "$W/good.conf" "$W/good.conf.new" | grep -v '^mode = "generate"' > "$W/good.conf"
kill -HUP $PID; sleep 0.5
kill -0 $PID && grep -q 'reload refused.*clock.bpm' "$W/log"; ok $? "SIGHUP with a bad config: refused with the reason, still running"
kill -USR1 $PID; sleep 0.3
grep 'status:' "$W/log" | tail -n 1 | grep -q 'mode generate, tempo 120.0000'; ok $? "the running configuration is kept"
mkdir "$W/conf.d"; cp "$W/keep.conf" "$W/good.conf"; printf '@include "conf.d"\n' >> "$W/good.conf"
kill -HUP $PID; sleep 0.5
kill -0 $PID && grep -q 'reload refused.*good.conf:4: @include "conf.d": .*conf.d is a directory' "$W/log"
ok $? "SIGHUP with an @include of a directory: refused naming file and line, still running"
conf "$W/good.conf" morph "$W/drums"
kill -HUP $PID; sleep 1
kill -USR1 $PID; sleep 0.3
grep -q 'configuration reloaded' "$W/log" && grep 'status:' "$W/log" | tail -n 1 | grep -q 'mode morph'; ok $? "SIGHUP with a good config: morph mode and a drum model"
grep -q 'model .*drums loaded' "$W/log"; ok $? "the model was swapped"
conf "$W/good.conf" generate "$W/nowhere"
kill -HUP $PID; sleep 0.5
kill -0 $PID && grep -q 'reload refused.*nowhere' "$W/log"; ok $? "SIGHUP naming a missing model: refused, still running"
kill -TERM $PID
i=0; while kill -0 $PID 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
wait $PID; rc=$?; PID=
[ $rc = 0 ]; ok $? "SIGTERM: exits 0 within 3 s"
grep -q 'stopping' "$W/log"; ok $? "and says so"
