#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_alsa_vm.sh: tests/vm/alsa-vm gives a command a real ALSA sequencer (Midi Through, queues on the HR timer)
# and hands back its stdout, stderr, argv, cwd and exit status; a timeout kills the VM. Two boots, one cut short.
set -u
vm=$(cd "$(dirname "$0")" && pwd)/alsa-vm
skip() { echo "1..0 # SKIP $*"; exit 0; }
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not installed"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot (linux-image-amd64)"
[ -x /bin/busybox ] || skip "no /bin/busybox (busybox-static)"
for c in aconnect aplaymidi; do command -v $c >/dev/null 2>&1 || skip "no $c (alsa-utils)"; done

work=$(mktemp -d "${TMPDIR:-/tmp}/test_alsa_vm.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/dir with 'quotes'"
# A 10-second MIDI file (one note of 1920 ticks at 96 ppq, 120 BPM): a queue runs while the guest looks at it.
printf 'MThd\000\000\000\006\000\000\000\001\000\140' >"$work/note.mid"
printf 'MTrk\000\000\000\015\000\220\074\100\217\000\200\074\000\000\377\057\000' >>"$work/note.mid"
cat >"$work/guest.sh" <<'EOF'
echo "uptime $(cat /proc/uptime)"
echo "cwd $(pwd)"
for a in "$@"; do echo "arg [$a]"; done
[ -c /dev/snd/seq ] && echo "seq is a character device"
aconnect -l
grep '^snd_hrtimer ' /proc/modules
aplaymidi -p 14:0 "$NOTE" & p=$!
i=0
while [ $i -lt 500 ] && ! grep -q '^Timer for queue' /proc/asound/seq/timer; do sleep 0.01; i=$((i + 1)); done
sed 's/^/timer: /' /proc/asound/seq/timer
kill $p
echo "to stderr" >&2
exit 3
EOF

echo "1..13"
n=0
ok() { # ok DESCRIPTION COMMAND...: passes when the command succeeds
	d=$1; shift; n=$((n + 1))
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}
has() { grep -q -- "$1" "$work/out"; }
args_intact() { [ "$(grep '^arg ' "$work/out" | tr '\n' '|')" = "arg [a b]|arg [it's]|arg [\$HOME]|arg []|" ]; }
stderr_alone() { [ "$(cat "$work/err")" = "to stderr" ] && ! grep -q 'to stderr' "$work/out"; }
nothing_left() { ! ps -eo args | grep -v grep | grep -qF "$work/alsa-vm." && ! ls -d "$work"/alsa-vm.* 2>/dev/null; }

t0=$(date +%s.%N)
(cd "$work/dir with 'quotes'" && NOTE=$work/note.mid "$vm" -- sh "$work/guest.sh" 'a b' "it's" '$HOME' '') \
	>"$work/out" 2>"$work/err"
st=$?
t1=$(date +%s.%N)
echo "# boot + run + poweroff: $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s wall"
ok "the VM boots and runs the command" has '^uptime'
has '^uptime' || sed 's/^/# /' "$work/err" | tail -n 30
ok "/dev/snd/seq is a character device in the guest" has '^seq is a character device'
ok "aconnect -l lists client 14 'Midi Through'" has "^client 14: 'Midi Through'"
ok "snd-hrtimer is loaded" has '^snd_hrtimer '
ok "a running queue is driven by the HR timer" has '^timer: Timer for queue 0 : HR timer'
ok "... with a 1 ms period" has '^timer:  *Period time : 0.001000000'
ok "argv arrives unchanged" args_intact
ok "the command runs in the host's working directory" has "^cwd $work/dir with 'quotes'\$"
ok "stderr comes back on stderr, alone" stderr_alone
ok "the guest's exit status 3 is alsa-vm's (got $st)" [ $st -eq 3 ]

# Cut short: the guest spins; alsa-vm gives up after 1 s, with 124, and leaves neither qemu nor its files.
TMPDIR=$work "$vm" --timeout 1 -- sh -c 'while :; do :; done' >"$work/out" 2>"$work/err"
st=$?
ok "--timeout 1 exits 124 (got $st)" [ $st -eq 124 ]
ok "... and says it timed out" grep -q 'timed out after 1 s' "$work/err"
ok "... leaving no qemu running and no temporary directory" nothing_left
