# SPDX-License-Identifier: GPL-3.0-or-later
# taplib.sh: TAP helpers for the shell tests that run the tools; sourced after setting $work (a scratch dir).
n=0
t() { # t DESCRIPTION COMMAND...: passes when the command succeeds
	d=$1; shift; n=$((n + 1))
	if "$@" >"$work/out" 2>"$work/err"; then echo "ok $n - $d"; else
		echo "not ok $n - $d"; sed 's/^/# /' "$work/out" "$work/err" | tail -n 15; fi
}
fails() { # fails DESCRIPTION STATUS PATTERN COMMAND...: exits STATUS and stderr matches PATTERN
	d=$1; st=$2; pat=$3; shift 3; n=$((n + 1))
	"$@" >"$work/out" 2>"$work/err"; rc=$?
	if [ $rc -eq "$st" ] && grep -q -- "$pat" "$work/err"; then echo "ok $n - $d"; else
		echo "not ok $n - $d (exit $rc, want $st; stderr must match '$pat')"; sed 's/^/# /' "$work/err" | tail -n 5; fi
}
