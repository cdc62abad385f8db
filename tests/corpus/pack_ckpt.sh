#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# pack_ckpt.sh: packs checkpoint directories into tests/fuzz_ckpt inputs (the format is in that file's header
# comment): config.json and weights_manifest.json verbatim, each shard the manifest lists as a filled section
# "@@ NAME *SIZE" whose 16 pattern bytes are the shard's first 16 bytes modulo 64 (finite as float32 and as
# float16 at any alignment, and never a '@', so a pattern cannot start a header).
#
#   tests/corpus/pack_ckpt.sh DIR > FILE          one checkpoint directory
#   tests/corpus/pack_ckpt.sh --seeds BUILDDIR    regenerates tests/corpus/ckpt/ (needs node, the reference
#                                                 tooling's node_modules and BUILDDIR/tests/mkmodel)
set -eu

pack() {
	dir=$1
	first=1
	for f in config.json weights_manifest.json; do
		[ -f "$dir/$f" ] || continue
		[ $first -eq 1 ] || printf '\n'
		first=0
		printf '@@ %s\n' "$f"
		cat "$dir/$f"
	done
	# the shard names: every string in every "paths" array of the manifest
	tr -d ' \t\r\n' < "$dir/weights_manifest.json" | grep -o '"paths":\[[^]]*\]' | grep -o '"[^"]*"' |
	    grep -v '^"paths"$' | tr -d '"' | while read -r f; do
		[ -f "$dir/$f" ] || continue
		case $f in *[!A-Za-z0-9._-]*) echo "pack_ckpt.sh: skipping '$f' (name not allowed)" >&2; continue ;; esac
		printf '\n@@ %s *%s\n' "$f" "$(wc -c < "$dir/$f" | tr -d ' ')"
		# shellcheck disable=SC2059 # the format is the bytes, as octal escapes
		printf "$(od -An -v -tu1 -N16 "$dir/$f" | awk '{ for (i = 1; i <= NF; i++) printf "\\%03o", $i % 64 }')"
	done
}

if [ $# -eq 1 ] && [ -d "$1" ]; then
	pack "$1"
	exit 0
fi
if [ $# -ne 2 ] || [ "$1" != --seeds ]; then
	echo "usage: pack_ckpt.sh DIR > FILE | pack_ckpt.sh --seeds BUILDDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkmodel=$(cd "$2" && pwd)/tests/mkmodel
out=$here/ckpt
T=$(mktemp -d "${TMPDIR:-/tmp}/pack_ckpt.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
mkdir -p "$out"
rm -f "$out"/gen_* "$out"/mk_*
seed=1
for a in mel_flat drums_flat mel_hier groove mel_chords_mm drums_nade mel_ctrl_pre; do
	for d in float32 uint8 uint16 float16; do
		node "$top/tests/ref/gen_ckpt.js" --arch "$a" --dtype "$d" --seed "$seed" --out "$T/$a.$d" 2> /dev/null
		pack "$T/$a.$d" > "$out/gen_$a.$d"
		seed=$((seed + 1))
	done
done
# mk_mel and mk_drums carry the bundled models' own config.json (models/mel_2bar, models/drums_2bar: the same
# converters; their 8 MB of weights would make every input derived from them 20 times slower to run)
for k in mel melhier drums; do
	"$mkmodel" "$k" "$T/mk_$k" > /dev/null
	real=$top/models/${k}_2bar/config.json
	if [ -f "$real" ]; then
		if [ "$(tr -d ' \n' < "$real")" = "$(tr -d ' \n' < "$T/mk_$k/config.json")" ]; then
			cp "$real" "$T/mk_$k/config.json"
		else
			echo "pack_ckpt.sh: $real is not mkmodel $k's converter: not used" >&2
		fi
	fi
	pack "$T/mk_$k" > "$out/mk_$k"
done
du -sh "$out"
