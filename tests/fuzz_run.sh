#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# fuzz_run.sh: when clang and its fuzzer runtime are installed, builds every libFuzzer target (tests/fuzz_*.c)
# straight from the sources with clang, AddressSanitizer and UBSan (make check runs in a gcc build tree, so the
# objects there cannot be used), and runs each from its seed corpus tests/corpus/<name> for FUZZ_SECONDS
# (default 20) seconds. TAP: per target "builds" and "ran N s, no crash", with libFuzzer's final executions and
# edges covered as a diagnostic. Everything the fuzzers write (new inputs, crash files, the files fuzz_ckpt and
# fuzz_cfg load) stays in a temporary directory. FUZZ_TARGETS="ckpt cfg" runs a subset.
set -u
src=${top_srcdir:-.}
secs=${FUZZ_SECONDS:-20}
targets=${FUZZ_TARGETS:-proto smf ckpt cfg midi}
W=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_run.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
command -v clang >/dev/null 2>&1 || { echo "1..0 # SKIP clang missing (apt-get install clang libclang-rt-14-dev)"; exit 0; }
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' > "$W/probe.c"
clang -fsanitize=fuzzer,address,undefined "$W/probe.c" -o "$W/probe" > /dev/null 2>&1 ||
    { echo "1..0 # SKIP clang's fuzzer runtime missing (apt-get install libclang-rt-14-dev)"; exit 0; }

CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -ffp-contract=off -D_POSIX_C_SOURCE=200809L -w \
-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
S=$src/src
INC="-I$S/util -I$S/midi -I$S/infer -I$S/daemon -I$S/ctl"
jobs=$(nproc 2>/dev/null || echo 2)

# What each target is made of: the layers' archives (top down) and the pkg-config modules they need.
t_srcs() {
	case $1 in
	proto) echo "ctl" ;;
	smf) echo "midi util" ;;
	ckpt) echo "infer midi util" ;;
	cfg) echo "daemon util" ;;
	midi) echo "daemon midi util" ;;
	esac
}
t_pkgs() {
	case $1 in
	smf) echo "jansson" ;;
	ckpt) echo "jansson openblas" ;;
	cfg) echo "libconfig" ;;
	esac
}
# Library sources per layer: of the daemon only what runs without JACK or ALSA (cfg, and the RT path), of ctl
# the protocol without the client.
l_srcs() {
	case $1 in
	daemon) echo "$S/daemon/cfg.c $S/daemon/cfg_file.c $S/daemon/rt.c $S/daemon/clock.c" ;;
	ctl) echo "$S/ctl/proto.c" ;;
	*) echo "$S/$1"/*.c ;;
	esac
}
t_opts() {
	case $1 in
	proto) echo "-max_len=512" ;;
	esac
}

# One archive per layer that some target needs, its objects compiled in parallel.
layers=$(for t in $targets; do t_srcs "$t"; done | tr ' ' '\n' | sort -u)
pkgcflags=$(for t in $targets; do t_pkgs "$t"; done | tr ' ' '\n' | sort -u | while read -r m; do
	[ -n "$m" ] && pkg-config --cflags "$m" 2>/dev/null; done | tr '\n' ' ')
mkdir -p "$W/o"
for l in $layers; do
	for f in $(l_srcs "$l"); do
		echo "$f $W/o/$l-$(basename "$f" .c).o $l"
	done
done > "$W/objs"
# each line "SRC OBJ LAYER" becomes $3 $4 $5 of the inner shell, after the flags ($0), the include dirs ($1) and
# the file listing the layers that failed to compile ($2)
# shellcheck disable=SC2016 # expanded by the inner shell
xargs -P "$jobs" -L 1 sh -c 'clang $0 $1 -c "$3" -o "$4" 2> "$4.log" || echo "$5" >> "$2"' \
    "$CFLAGS $pkgcflags" "$INC" "$W/failed" < "$W/objs"
for l in $layers; do
	ar cr "$W/lib$l.a" "$W/o/$l"-*.o 2>/dev/null
done

n=0
echo "1..$(( 2 * $(echo "$targets" | wc -w) ))"
for t in $targets; do
	n=$((n + 1))
	missing=""
	libs=""
	for m in $(t_pkgs "$t"); do
		if pkg-config --exists "$m" 2>/dev/null; then libs="$libs $(pkg-config --libs "$m")"; else missing="$missing $m"; fi
	done
	if [ -n "$missing" ]; then
		echo "ok $n - fuzz_$t builds # SKIP pkg-config does not know$missing"
		n=$((n + 1)); echo "ok $n - fuzz_$t ran # SKIP not built"; continue
	fi
	archives=""
	broken=""
	for l in $(t_srcs "$t"); do
		archives="$archives $W/lib$l.a"
		grep -qx "$l" "$W/failed" 2>/dev/null && broken="$broken $l"
	done
	# shellcheck disable=SC2086 # word lists
	if [ -z "$broken" ] && clang $CFLAGS $pkgcflags $INC -fsanitize=fuzzer,address,undefined \
	    "$src/tests/fuzz_$t.c" $archives $libs -lm -pthread -o "$W/fuzz_$t" > "$W/cc_$t.log" 2>&1; then
		echo "ok $n - fuzz_$t builds"
	else
		echo "not ok $n - fuzz_$t builds"
		for l in $broken; do cat "$W/o/$l"-*.log; done 2>/dev/null | grep -v '^$' | head -n 10 | sed 's/^/# /'
		tail -n 10 "$W/cc_$t.log" 2>/dev/null | sed 's/^/# /'
		n=$((n + 1)); echo "ok $n - fuzz_$t ran # SKIP not built"; continue
	fi
	n=$((n + 1))
	mkdir -p "$W/corpus_$t" "$W/art_$t"
	[ -d "$src/tests/corpus/$t" ] && cp "$src/tests/corpus/$t"/* "$W/corpus_$t/"
	# shellcheck disable=SC2046 # options
	if (cd "$W" && TMPDIR="$W" "$W/fuzz_$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 $(t_opts "$t") \
	    -artifact_prefix="$W/art_$t/" "$W/corpus_$t") > "$W/run_$t.log" 2>&1; then
		echo "ok $n - fuzz_$t ran $secs s, no crash"
	else
		echo "not ok $n - fuzz_$t ran $secs s: it crashed or an invariant failed"
		grep -E -A25 '==ERROR|ERROR: libFuzzer|deadly signal|runtime error' "$W/run_$t.log" | head -n 40 | sed 's/^/# /'
		for a in "$W/art_$t"/*; do [ -f "$a" ] && printf '# input (%s bytes): %s\n' "$(wc -c < "$a")" \
		    "$(od -An -c "$a" | head -n 4 | tr -s ' \n' ' ')"; done
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/run_$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$W/run_$t.log" | tail -n 1 | cut -d' ' -f2)
	echo "# fuzz_$t: execs ${execs:-?}, cov ${cov:-?} edges"
done
