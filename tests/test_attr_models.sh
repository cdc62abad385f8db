#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_attr_models.sh: the bundled models' attribute vectors steer their output. For models/mel_2bar and
# models/drums_2bar, `musicvae attributes --check` adds +1x and -1x of each shipped vector to encoded held-out
# windows (the validation split, which the vectors were not computed from) and decodes them (argmax): every
# attribute must rise on average with +1x and fall with -1x.
# Data: data/sources.tsv when data/fetch has been run in the source tree (or $MUSICVAE_DATA), else the MMA
# groove library alone, fetched once into the build tree (data/fetch --only mma: a 4 MB .deb, ~2 min to render).
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
mv="$build/musicvae"
work=$(mktemp -d "${TMPDIR:-/tmp}/test_attr.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
. "$src/tests/taplib.sh"

data=${MUSICVAE_DATA:-$src/data}
if [ ! -s "$data/sources.tsv" ]; then
	command -v apt-get >/dev/null || { echo "1..0 # SKIP no apt-get: cannot fetch the data (set MUSICVAE_DATA)"; exit 0; }
	data="$build/tests/data"
	t "data/fetch --only mma renders the groove library" "$src/data/fetch" --only mma --dir "$data"
fi
for kind in melody drums; do
	t "$kind windows without transposition from $data/sources.tsv" \
		"$mv" dataset --kind $kind --sources "$data/sources.tsv" --transpose 0:0 -q -o "$work/$kind.ds"
done

# check MODEL DATASET: one TAP line per attribute of `attributes --check`
check() {
	"$mv" attributes "$src/models/$1" "$work/$2.ds" --check -n 512 >"$work/check" 2>"$work/err"
	sed 's/^/# /' "$work/err"
	grep '^#' "$work/check"
	lines=$(grep -c -v '^#' "$work/check")
	n=$((n + 1))
	if [ "$lines" -eq 5 ]; then echo "ok $n - $1: --check prints 5 attributes"; else
		echo "not ok $n - $1: --check prints 5 attributes (got $lines)"; fi
	grep -v '^#' "$work/check" | while read -r name lo mid hi moves; do
		n=$((n + 1))
		if [ "$moves" = yes ] && awk "BEGIN { exit !($lo < $mid && $mid < $hi) }"; then st=ok; else st="not ok"; fi
		echo "$st $n - $1 $name: -1x $lo < 0x $mid < +1x $hi (means over the decodes)"
	done
	n=$((n + 5))
}
check mel_2bar melody
check drums_2bar drums
echo "1..$n"
