# SPDX-License-Identifier: GPL-3.0-or-later
# jackenv.sh: sourced by the JACK tests: a private `jackd -d dummy` per test, background clients, cleanup, TAP.
#
#   jackenv_start              start jackd (JACKENV_RATE 48000, JACKENV_PERIOD 256), export JACK_DEFAULT_SERVER;
#                              prints "1..0 # SKIP" and exits 0 only when jackd is not installed
#   jackenv_bg CMD...          run CMD in the background (stdout/stderr to $JACKENV_DIR/bgN.log), stopped by
#                              jackenv_stop; its pid in $JACKENV_LASTPID
#   jackenv_kill PID [SIG]     SIG (TERM), SIGKILL after 3 s; reaps; exit status in $JACKENV_STATUS
#   jackenv_wait_file FILE [S] wait up to S seconds (10) for FILE; returns 1 on timeout
#   jackenv_ok STATUS DESC     one TAP line ("ok N - DESC" when STATUS is 0); jackenv_diag MSG: "# MSG"
#   jackenv_stop               stop every jackenv_bg process, then jackd; remove $JACKENV_DIR (EXIT trap)
# Variables: JACKENV_SERVER, JACKENV_DIR (temp dir, logs; JACKENV_KEEP=1 keeps it), JACK_PROBE (tests/jack_probe).

JACKENV_RATE=${JACKENV_RATE:-48000}
JACKENV_PERIOD=${JACKENV_PERIOD:-256}
# --sync: a period ends when every client has run, however late, instead of an xrun that drops the late
# client's MIDI: a test machine under load (parallel make check, no realtime scheduling) stays exact.
# JACKENV_SYNC= (empty) gives the asynchronous default that real setups run.
JACKENV_SYNC=${JACKENV_SYNC---sync}
JACKENV_PIDS=
JACKENV_PID=
JACKENV_DIR=
JACKENV_N=0
JACKENV_NBG=0
JACK_PROBE=${JACK_PROBE:-${top_builddir:-.}/tests/jack_probe}
# never let a client auto-start a server with ~/.jackdrc settings; no D-Bus device reservation
JACK_NO_START_SERVER=1
JACK_NO_AUDIO_RESERVATION=1
export JACK_NO_START_SERVER JACK_NO_AUDIO_RESERVATION

jackenv_ok() {
	JACKENV_N=$((JACKENV_N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $JACKENV_N - $2"; else echo "not ok $JACKENV_N - $2"; fi
}

jackenv_diag() {
	echo "# $*"
}

# Shows a log file as TAP diagnostics.
jackenv_show() {
	[ -f "$1" ] && sed 's/^/#   /' "$1"
}

jackenv_alive() {
	kill -0 "$1" 2>/dev/null
}

jackenv_bail() {
	echo "Bail out! $*"
	echo "jackenv: $*" >&2
	exit 1
}

jackenv_start() {
	if ! command -v jackd >/dev/null 2>&1; then
		echo "1..0 # SKIP jackd not installed (Debian: apt-get install jackd2)"
		exit 0
	fi
	command -v jack_lsp >/dev/null 2>&1 || jackenv_bail "jackd is installed but jack_lsp is not (package jackd2)"
	[ -x "$JACK_PROBE" ] || jackenv_bail "$JACK_PROBE not built (make tests/jack_probe)"
	# one JACK test at a time (make -j check): their timing checks assume the CPU is not fought over
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${TMPDIR:-/tmp}/musicvaed-jack-tests.lock"
		flock 9
	fi
	JACKENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/musicvaed-jack.XXXXXX") || jackenv_bail "mktemp failed"
	JACKENV_SERVER=musicvaed-test-$$
	JACK_DEFAULT_SERVER=$JACKENV_SERVER
	export JACK_DEFAULT_SERVER
	trap 'jackenv_stop' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	jackenv_server "$JACKENV_DIR/jackd.log"
}

# jackenv_server LOG: starts jackd -d dummy as $JACKENV_SERVER (again, once the last one is gone: a test of a
# server restart) and waits until it answers; its pid in JACKENV_PID.
jackenv_server() {
	# --no-realtime: root without rtprio here; the dummy driver's -r is the rate, -p the period
	# JACKENV_WAIT: microseconds between periods (dummy -w); below rate/period it runs faster than real time
	jackd --no-realtime $JACKENV_SYNC -n "$JACKENV_SERVER" -d dummy -r "$JACKENV_RATE" -p "$JACKENV_PERIOD" \
		${JACKENV_WAIT:+-w "$JACKENV_WAIT"} \
		>"$1" 2>&1 &
	JACKENV_PID=$!
	i=0
	while ! jack_lsp -s "$JACKENV_SERVER" >/dev/null 2>&1; do
		i=$((i + 1))
		if ! jackenv_alive "$JACKENV_PID" || [ $i -ge 100 ]; then
			echo "# jackd -n $JACKENV_SERVER failed to start within 10 s; its log:"
			jackenv_show "$1"
			jackenv_show "$1" >&2
			jackenv_bail "jackd -d dummy did not start"
		fi
		sleep 0.1
	done
}

jackenv_bg() {
	JACKENV_NBG=$((JACKENV_NBG + 1))
	"$@" >"$JACKENV_DIR/bg$JACKENV_NBG.log" 2>&1 &
	JACKENV_LASTPID=$!
	JACKENV_PIDS="$JACKENV_PIDS $JACKENV_LASTPID"
}

# Waits up to $2 tenths of a second for $1 to exit; returns 1 if it is still running.
jackenv_reap() {
	i=0
	while jackenv_alive "$1"; do
		i=$((i + 1))
		[ $i -gt "$2" ] && return 1
		sleep 0.1
	done
	return 0
}

jackenv_kill() {
	JACKENV_STATUS=0
	if jackenv_alive "$1"; then
		kill -"${2:-TERM}" "$1" 2>/dev/null
		jackenv_reap "$1" 30 || { kill -KILL "$1" 2>/dev/null; jackenv_reap "$1" 10; }
	fi
	wait "$1" 2>/dev/null
	JACKENV_STATUS=$?
	return 0
}

jackenv_wait_file() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt $((${2:-10} * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

jackenv_stop() {
	for p in $JACKENV_PIDS; do
		jackenv_kill "$p"
	done
	JACKENV_PIDS=
	if [ -n "$JACKENV_PID" ]; then
		if jackenv_alive "$JACKENV_PID"; then
			kill -TERM "$JACKENV_PID" 2>/dev/null
			jackenv_reap "$JACKENV_PID" 50 || { kill -KILL "$JACKENV_PID" 2>/dev/null; jackenv_reap "$JACKENV_PID" 10; }
		fi
		wait "$JACKENV_PID" 2>/dev/null
		# a killed server leaves its shm segments and semaphores behind
		rm -rf /dev/shm/jack_"$JACKENV_SERVER"_* /dev/shm/jack_sem.*_"$JACKENV_SERVER"_* 2>/dev/null
		JACKENV_PID=
	fi
	if [ -n "${JACKENV_KEEP:-}" ]; then echo "# logs kept in $JACKENV_DIR"; elif [ -n "$JACKENV_DIR" ]; then rm -rf "$JACKENV_DIR"; fi
	JACKENV_DIR=
}
