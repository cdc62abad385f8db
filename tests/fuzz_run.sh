#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# fuzz_run.sh: when clang and its fuzzer runtime are installed, builds the libFuzzer target for the control
# protocol's parser (tests/fuzz_proto.c with src/ctl/proto.c, AddressSanitizer and UBSan on) and runs it from
# the seed corpus tests/corpus/proto for a bounded time (FUZZ_SECONDS, default 20). TAP.
set -u
src=${top_srcdir:-.}
secs=${FUZZ_SECONDS:-20}
W=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_run.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
command -v clang >/dev/null 2>&1 || { echo "1..0 # SKIP clang missing (apt-get install clang libclang-rt-14-dev)"; exit 0; }
echo "1..2"
if clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$src/src/ctl" "$src/tests/fuzz_proto.c" "$src/src/ctl/proto.c" -lm -o "$W/fuzz_proto" > "$W/cc.log" 2>&1; then
	echo "ok 1 - clang builds the protocol fuzzer"
else
	echo "not ok 1 - clang builds the protocol fuzzer"; sed 's/^/# /' "$W/cc.log" | tail -n 10
	echo "not ok 2 - the fuzzer ran # SKIP not built"; exit 0
fi
mkdir -p "$W/corpus"
cp "$src"/tests/corpus/proto/* "$W/corpus/"
if "$W/fuzz_proto" -max_total_time="$secs" -max_len=512 -print_final_stats=1 -artifact_prefix="$W/" "$W/corpus" > "$W/run.log" 2>&1; then
	echo "ok 2 - $secs s of fuzzing the command parser: no crash"
else
	echo "not ok 2 - the command parser crashed under the fuzzer"; grep -A20 'ERROR\|==ERROR' "$W/run.log" | head -n 30 | sed 's/^/# /'
fi
grep -E 'stat::number_of_executed_units|stat::peak_rss|cov:' "$W/run.log" | tail -n 3 | sed 's/^/# /'
