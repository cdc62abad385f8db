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
ref_same() { # ref_same LABEL CKPT SEED [GEN_CASE_ARGS...]: the checkpoint decodes and encodes in @magenta/music
	# as in musicvae (tests/ref: a seeded case, ref_run.js, parity_run --exact, compare.js); needs $ref, $build
	lab=$1; ck=$2; sd=$3; shift 3; n=$((n + 1)); cs="$work/$lab"
	if node "$ref/gen_case.js" "$@" --seed "$sd" --ckpt "$ck" --out "$cs-case.json" >"$work/log" 2>&1 &&
	   node "$ref/ref_run.js" "$cs-case.json" "$cs-ref.json" >>"$work/log" 2>&1 &&
	   "$build/tests/parity_run" "$cs-case.json" "$cs-ours.json" --exact >>"$work/log" 2>&1 &&
	   node "$ref/compare.js" "$cs-ref.json" "$cs-ours.json" >"$work/cmp" 2>&1; then
		echo "ok $n - trained $lab checkpoint: @magenta/music decodes and encodes as musicvae"
	else
		echo "not ok $n - trained $lab checkpoint vs @magenta/music"
		cat "$work/log" "$work/cmp" 2>/dev/null | grep -v '^ok' | sed 's/^/# /' | tail -n 20
	fi
}
