#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# parity.sh: every synthetic architecture x weight dtype through @magenta/music (Node, tfjs CPU backend) and
# through musicvae's model code, compared by tests/ref/compare.js: identical output tokens, and z within 1e-4
# relative: per component in exact mode (tfjs's summation order), of the vector's largest component in the
# default OpenBLAS mode.
# Env: PARITY_ARCHS / PARITY_DTYPES narrow the matrix; PARITY_SEED changes the random weights and inputs.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
ref="$src/tests/ref"
seed=${PARITY_SEED:-1}

if ! command -v node >/dev/null 2>&1 || [ ! -d "$ref/node_modules/@magenta/music" ]; then
	echo "1..0 # SKIP node or tests/ref/node_modules missing (run scripts/install-deps)"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/parity.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
archs=${PARITY_ARCHS:-$(node "$ref/gen_ckpt.js" --list | grep -v '^mel_2bar_big$\|^mel_2bar_small$')}
dtypes=${PARITY_DTYPES:-float32 uint8 uint16 float16}

n=0
for a in $archs; do for d in $dtypes; do n=$((n + 2)); done; done
bundled="mel_2bar:mel_flat drums_2bar:drums_flat"     # the models in models/, with a case generator each
[ -n "${PARITY_ARCHS:-}" ] && bundled=
for b in $bundled; do [ -f "$src/models/${b%%:*}/config.json" ] && n=$((n + 2)); done
echo "1..$n"
echo "# seed $seed (set PARITY_SEED to replay another)"

# check_case NAME DIR: our side of one case in both modes, compared with the reference. Exact mode must
# hold z per component; OpenBLAS sums in its own order, so its z is held to the infinity-norm relative error
# (1e-4 of the vector's largest component); output tokens must be identical in both.
check_case() {
	for mode in fast exact; do
		i=$((i + 1))
		flag=; [ $mode = exact ] && flag=--exact
		if ! "$build/tests/parity_run" "$2/case.json" "$2/ours-$mode.json" $flag >"$work/log" 2>&1; then
			echo "not ok $i - $1 $mode: parity_run failed"
			sed 's/^/# /' "$work/log" | tail -n 20
			continue
		fi
		# fast: OpenBLAS's summation order; a groove decoder feeds its float outputs back every step, so
		# over 64 steps its velocities and offsets drift by up to ~2e-4 from tfjs's (exact mode: 1e-4)
		scale=component ftol=1e-4; [ $mode = fast ] && scale=norm ftol=1e-3
		if node "$ref/compare.js" "$2/ref.json" "$2/ours-$mode.json" --z-scale $scale --float-tol $ftol >"$work/cmp" 2>&1; then
			echo "ok $i - $1 $mode"
			grep '^# z max' "$work/cmp"
		else
			echo "not ok $i - $1 $mode"
			grep -v '^ok\|^1\.\.' "$work/cmp" | sed 's/^\([^#]\)/# \1/' | head -n 30
		fi
	done
}

# reference NAME DIR CMD...: runs the reference side; on failure both modes fail with its log
reference() {
	name=$1; dir=$2; shift 2
	if ! "$@" >>"$work/log" 2>&1 || ! node "$ref/ref_run.js" "$dir/case.json" "$dir/ref.json" >>"$work/log" 2>&1; then
		for mode in fast exact; do i=$((i + 1)); echo "not ok $i - $name $mode: reference side failed"; done
		sed 's/^/# /' "$work/log" | tail -n 20
		return 1
	fi
}

i=0
for a in $archs; do
	for d in $dtypes; do
		dir="$work/$a-$d"
		if ! node "$ref/gen_ckpt.js" --arch "$a" --dtype "$d" --seed "$seed" --out "$dir" >"$work/log" 2>&1; then
			for mode in fast exact; do i=$((i + 1)); echo "not ok $i - $a $d $mode: gen_ckpt failed"; done
			sed 's/^/# /' "$work/log" | tail -n 20
			continue
		fi
		reference "$a $d" "$dir" node "$ref/gen_case.js" --arch "$a" --seed "$seed" --ckpt "$dir" \
			--out "$dir/case.json" && check_case "$a $d" "$dir"
	done
done
for b in $bundled; do
	m=${b%%:*}
	[ -f "$src/models/$m/config.json" ] || continue
	dir="$work/bundled-$m"
	mkdir -p "$dir"
	: > "$work/log"
	reference "bundled $m" "$dir" node "$ref/gen_case.js" --arch "${b##*:}" --seed "$seed" \
		--ckpt "$(cd "$src/models/$m" && pwd)" --out "$dir/case.json" && check_case "bundled model $m" "$dir"
done
