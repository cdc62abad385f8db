#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_demo_slots.sh: scripts/demo-live ten times in a row (short), then a fresh jackd must still start: jackd2
# has 8 server slots in /dev/shm, and a demo that killed its server before its clients leaked one each time.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
command -v jackd >/dev/null 2>&1 || { echo "1..0 # SKIP jackd not installed"; exit 0; }
command -v node >/dev/null 2>&1 || { echo "1..0 # SKIP node missing"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/test_demo_slots.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
echo "1..2"
# the demo runs from the source tree with a build in build/: point it at this build
mkdir -p "$W/tree/tests" "$W/tree/scripts"
ln -s "$(cd "$build" && pwd)" "$W/tree/build"
ln -s "$(cd "$src" && pwd)/examples" "$W/tree/examples"
cp "$src/scripts/demo-live" "$W/tree/scripts/"
cp "$src/tests/daemon_check.js" "$W/tree/tests/"
model=$(cd "$src/models/mel_2bar" && pwd)
exec 9>"${TMPDIR:-/tmp}/musicvaed-jack-tests.lock"     # one JACK test at a time (tests/jackenv.sh)
command -v flock >/dev/null 2>&1 && flock 9
fails=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	DEMO_SECONDS=0 sh "$W/tree/scripts/demo-live" "$model" > "$W/demo$i.log" 2>&1 || fails=$((fails + 1))
done
[ $fails = 0 ]; echo "$([ $fails = 0 ] && echo ok || echo not ok) 1 - ten demo runs in a row ($fails failed)"
[ $fails = 0 ] || tail -n 5 "$W/demo1.log" | sed 's/^/# /'
JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -n "slots-$$" -d dummy -r 48000 -p 256 > "$W/jackd.log" 2>&1 &
J=$!
i=0; until jack_lsp -s "slots-$$" >/dev/null 2>&1; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
jack_lsp -s "slots-$$" >/dev/null 2>&1; r=$?
kill $J; wait $J 2>/dev/null
[ $r = 0 ] && ! grep -q 'Too many servers' "$W/jackd.log"
echo "$([ $? = 0 ] && echo ok || echo not ok) 2 - after them a new jackd still starts (no server slot left behind)"
