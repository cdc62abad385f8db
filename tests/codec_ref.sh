#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# codec_ref.sh: golden data from magenta.js (tests/ref/codec_ref.js) compared with src/infer/codec*.c and src/infer/ctrl*.c by
# tests/test_codec --ref. CODEC_REF_SEED=N replays a seed; the JSON is kept when a comparison fails.
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
ref=$srcdir/tests/ref
seed=${CODEC_REF_SEED:-1}
out=$builddir/tests/codec_ref.json
log=$builddir/tests/codec_ref.node.log

if [ ! -d "$ref/node_modules" ]; then
	echo "1..0 # SKIP node_modules missing (run: cd tests/ref && npm ci)"
	exit 0
fi
if ! node "$ref/codec_ref.js" --seed "$seed" --out "$out" 2>"$log"; then
	echo "1..1"
	echo "not ok 1 - node tests/ref/codec_ref.js --seed $seed failed"
	sed 's/^/# /' "$log"
	exit 1
fi
"$builddir/tests/test_codec" --ref "$out"
rc=$?
echo "# seed $seed (CODEC_REF_SEED=$seed to replay)"
[ $rc -eq 0 ] && rm -f "$out" "$log"
exit $rc
