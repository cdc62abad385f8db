#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_ctl_client.sh: musicvaectl against a scripted fake daemon (socat + sh on a Unix socket): one-shot
# replies and exit statuses, quoting, scripts on stdin, command lists, socket selection, errors, and watch.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
ctl="$build/musicvaectl"
if ! command -v socat >/dev/null 2>&1; then
	echo "1..0 # SKIP socat is not installed (Debian: apt-get install socat)"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/test_ctl.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
. "$src/tests/taplib.sh"
mkdir -p "$work/xdg/musicvaed" "$work/empty"
sock="$work/xdg/musicvaed/ctl"
log="$work/log"

# The fake daemon: one sh per connection, canned replies, every line it gets appended to $log.
cat > "$work/fake.sh" <<EOF
log='$log'
EOF
cat >> "$work/fake.sh" <<'EOF'
echo "OK MUSICVAED 1.0"
bar=11 idles=0 list=
while IFS= read -r line; do
	printf '%s\n' "$line" >> "$log"
	if [ -n "$list" ] && [ "$line" != command_list_end ]; then
		[ "$list" = ok ] && nok=$((nok + 1))
		continue
	fi
	case $line in
	ping) echo OK ;;
	status) printf 'mode: generate\nclock: internal\ntempo: 120.0000\nrunning: 1\nbar: %d\nstep: 0\n' "$bar"
		printf 'model: /m/mel_2bar\ntemperature: 0.5\nseed: 7\nwalk: 0\nattr: note_density 0.8\n'
		printf 'attr: pitch_range 0\nmorph: A B 8 slerp pingpong\nmorph_position: 0.375\nchords: C G Am F\n'
		printf 'key: none\nlisten: listening\nperiods: 1234\nbars_played: %d\nfuture_counter: 5\nOK\n' "$bar" ;;
	bars) printf 'bar: %d\nin: 0 60 4 100\nin: 4 64 2 90\nout: 0 72 4 80\nout: 8 67 8 80\nOK\n' "$bar" ;;
	"attr "*) echo OK ;;
	"tempo 999") echo 'ACK [2@0] {tempo} "999": expected a tempo 20..400 BPM' ;;
	'""') echo 'ACK [5@0] {} empty command (try: commands)' ;;
	idle*) idles=$((idles + 1))
		[ $idles -gt 3 ] && exit 0
		bar=$((bar + 1))
		printf 'changed: bar\nOK\n' ;;
	command_list_begin) list=plain nok=0 ;;
	command_list_ok_begin) list=ok nok=0 ;;
	command_list_end) while [ "$nok" -gt 0 ]; do echo list_OK; nok=$((nok - 1)); done
		list= ; echo OK ;;
	die) printf 'partial: reply\n'; exit 0 ;;
	close) exit 0 ;;
	*) echo "ACK [5@0] {${line%% *}} unknown command \"${line%% *}\" (try: commands)" ;;
	esac
done
EOF
serve() { # serve SOCKET SOCAT-ADDRESS: a listener in the background, waited for
	socat "UNIX-LISTEN:$1,fork,unlink-early" "$2" 2>/dev/null &
	pids="$pids $!"
	i=0
	while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$1" ] || { echo "Bail out! socat did not listen on $1"; exit 1; }
}
serve "$sock" "EXEC:sh $work/fake.sh"
serve "$work/other" "SYSTEM:echo HELLO; sleep 2"
unset MUSICVAED_SOCKET
export XDG_RUNTIME_DIR="$work/empty"
c() { "$ctl" -s "$sock" "$@"; }
has() { # has FILE PATTERN: fixed string in FILE
	grep -qF -- "$2" "$1" || { echo "# '$2' not in $1:"; sed 's/^/#   /' "$1" | tail -n 20; return 1; }
}
sent() { # sent LINE: the fake daemon got exactly this line
	grep -qxF -- "$1" "$log" || { echo "# not sent: $1"; sed 's/^/#   got: /' "$log" | tail -n 5; return 1; }
}
echo "1..38"

: > "$log"
t "one-shot status exits 0" sh -c "'$ctl' -s '$sock' status > '$work/st'"
st_ok() { has "$work/st" 'tempo: 120.0000' && has "$work/st" 'attr: note_density 0.8' && has "$work/st" 'future_counter: 5'; }
t "status: key/value lines as they are" st_ok
t "status: no OK line" sh -c "! grep -qx OK '$work/st' && [ \$(wc -l < '$work/st') -eq 20 ]"
t "ping prints nothing and exits 0" sh -c "[ -z \"\$('$ctl' -s '$sock' ping)\" ]"
fails "an ACK: {command} message on stderr, exit 1" 1 'musicvaectl: {tempo} "999": expected a tempo 20..400 BPM' \
	"$ctl" -s "$sock" tempo 999
fails "an unknown command is the daemon's ACK" 1 'musicvaectl: {frobnicate} unknown command' c frobnicate
fails "an ACK with an empty {} is still an ACK" 1 'musicvaectl: {} empty command' c ""
: > "$log"
t "a word with a blank is sent quoted" c attr set "my attr" 0.5
t "... as one argument" sent 'attr set "my attr" 0.5'
t "quotes and backslashes are escaped" c attr set 'a"b\c' 1
t "... with backslash escapes" sent 'attr set "a\"b\\c" 1'
fails "a newline in an argument is refused (exit 2), not sent as a second command" 2 'control character' \
	c attr set "a
ping" 1
t "a negative number after the command is not an option" c attr nudge x -0.5
t "... and is sent as it is" sent 'attr nudge x -0.5'

: > "$log"
printf 'ping\n\n# a comment\ntempo 999\nstatus\n' > "$work/script"
fails "a script stops at the first ACK (exit 1)" 1 'line 4: {tempo}' sh -c "'$ctl' -s '$sock' - < '$work/script'"
t "... and sends nothing after it" sh -c "! grep -q status '$log' && grep -qx ping '$log'"
t "stdin that is not a terminal is a script too" sh -c "printf 'ping\nbars\n' | '$ctl' -s '$sock' | grep -qx 'out: 8 67 8 80'"
: > "$log"
fails "-k goes on after an ACK and still exits 1" 1 '{tempo}' sh -c "'$ctl' -s '$sock' -k < '$work/script' > '$work/k'"
t "... the commands after the ACK ran" sh -c "grep -qx status '$log' && grep -q '^bar: 11' '$work/k'"
printf 'command_list_ok_begin\nping\nattr reset\ncommand_list_end\nping\n' > "$work/list"
t "a command list: one reply, list_OK per command" sh -c "'$ctl' -s '$sock' - < '$work/list' > '$work/l' &&
	[ \$(grep -cx list_OK '$work/l') -eq 2 ] && [ \$(wc -l < '$work/l') -eq 2 ]"
fails "a script that ends inside a command list exits 2" 2 'inside a command list' \
	sh -c "printf 'command_list_begin\nping\n' | '$ctl' -s '$sock' -"
fails "a command list is refused as a one-shot command" 2 'spans several lines' c command_list_begin

t "MUSICVAED_SOCKET names the socket" env MUSICVAED_SOCKET="$sock" "$ctl" ping
t "else \$XDG_RUNTIME_DIR/musicvaed/ctl when it exists" env XDG_RUNTIME_DIR="$work/xdg" "$ctl" ping
fails "MUSICVAED_SOCKET comes before XDG_RUNTIME_DIR" 3 "cannot connect to $work/nope" \
	env MUSICVAED_SOCKET="$work/nope" XDG_RUNTIME_DIR="$work/xdg" "$ctl" ping
t "--socket comes before MUSICVAED_SOCKET" env MUSICVAED_SOCKET="$work/nope" "$ctl" --socket "$sock" ping
fails "no daemon: a clear message and exit 3" 3 \
	"musicvaectl: cannot connect to $work/nope: No such file or directory (is musicvaed running? --socket or MUSICVAED_SOCKET)" \
	"$ctl" --socket "$work/nope" ping
if [ -e /run/musicvaed/ctl ]; then
	n=$((n + 1)); echo "ok $n # SKIP /run/musicvaed/ctl exists on this machine"
else
	fails "nothing set: /run/musicvaed/ctl" 3 "cannot connect to /run/musicvaed/ctl" "$ctl" ping
fi
fails "a socket that does not greet like musicvaed: exit 3" 3 'not a musicvaed control socket (greeting "HELLO")' \
	"$ctl" -s "$work/other" ping
fails "the daemon going away mid-reply: exit 3" 3 'musicvaed closed the connection' c die
t "close ends the session with exit 0" c close
fails "an unknown option is a usage error (exit 2)" 2 'usage: musicvaectl' "$ctl" --frobnicate
fails "watch --bars 0 is a usage error" 2 'expected 1..64' "$ctl" -s "$sock" watch --bars 0
t "--version" sh -c "'$ctl' --version | grep -q '^musicvaectl [0-9]'"
t "--help lists the daemon's commands" sh -c "'$ctl' --help | grep -q 'morph A B BARS'"

: > "$log"
fails "watch (not a terminal) exits 3 when the daemon goes away" 3 'musicvaed closed the connection' \
	sh -c "'$ctl' -s '$sock' watch --bars 2 > '$work/w'"
t "watch: a frame at the start and one per changed: bar" sh -c "[ \$(grep -c '^bar ' '$work/w') -eq 4 ] &&
	grep -qx 'idle bar mode tempo attr slot options transport' '$log' && grep -q '^bar 14.0 | generate | 120.0 BPM | running' '$work/w'"
t "watch: header with attribute offsets and temperature, roll with player and daemon notes" sh -c "
	grep -q 'running | temp 0.5 | note_density +0.80\$' '$work/w' &&
	grep -qxF 'C5   |#===:...:...:...|#===:...:...:...|' '$work/w' &&
	grep -qxF 'C4   |+---:...:...:...|+---:...:...:...|' '$work/w' &&
	grep -qxF 'G4   |:...:...#=======|:...:...#=======|' '$work/w' &&
	grep -qxF '     |13              |14              |' '$work/w'"
