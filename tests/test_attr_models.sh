#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_attr_models.sh: the bundled models' attribute vectors steer their output. For models/mel_2bar and
# models/drums_2bar, `musicvae attributes --check` adds +1x and -1x of each shipped vector to encoded held-out
# windows (the validation split, which the vectors were not computed from) and decodes them (argmax): every
# attribute must rise on average with +1x and fall with -1x, further than random directions of the same length
# move it.
# Data: data/sources.tsv when data/fetch has been run in the source tree (or $MUSICVAE_DATA), else the same set
# fetched once into the build tree (data/fetch: ~110 MB of .deb files, ~30 s, and ~2 min to render the MMA
# grooves), so that the check runs on the validation windows the model cards report, real MIDI files included
# (the MMA library alone holds no real melodies: its validation windows are MMA's own example songs).
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
	if ! "$src/data/fetch" --dir "$data" >"$work/fetch" 2>&1; then
		# no network (or no package index) is a reason to skip; any other failure of data/fetch is a failure
		if grep -q 'apt-get download failed\|apt-get install mma failed' "$work/fetch"; then
			echo "1..0 # SKIP data/fetch could not download: $(tail -n 1 "$work/fetch")"
			exit 0
		fi
		echo "not ok 1 - data/fetch"; sed 's/^/# /' "$work/fetch" | tail -n 20; echo "1..1"; exit 0
	fi
	n=$((n + 1)); echo "ok $n - data/fetch: $(awk -F'\t' 'NR > 1 && $5 != "mma-groove"' "$data/sources.tsv" | wc -l) MIDI files, $(grep -c mma-groove "$data/sources.tsv") MMA grooves rendered"
fi
# the windows each model was trained on (see its model card), without transposition: mel_2bar learned the lines
# of piano, chromatic percussion, organ and guitar parts (programs 0-31, Magenta's MEL_PROGRAMS), drums_2bar every
# drum track
t "melody windows (programs 0-31) without transposition from $data/sources.tsv" \
	"$mv" dataset --kind melody --programs 0:31 --sources "$data/sources.tsv" --transpose 0:0 -q -o "$work/melody.ds"
t "drum windows without transposition from $data/sources.tsv" \
	"$mv" dataset --kind drums --sources "$data/sources.tsv" --transpose 0:0 -q -o "$work/drums.ds"

# check MODEL DATASET A NAMES...: `attributes --check --amount A` exits 0, and each attribute's line says it
# moves: lower at -Ax, higher at +Ax (its printed means, 4 decimals, must differ too), and from -Ax to +Ax by
# more than any of three random directions of the vector's length move it (the control column).
check() {
	model=$1 ds=$2 a=$3; shift 3
	"$mv" attributes "$src/models/$model" "$work/$ds.ds" --check -n 512 --amount "$a" >"$work/check" 2>"$work/err"
	rc=$?
	sed 's/^/# /' "$work/err"
	grep '^#' "$work/check"
	n=$((n + 1))
	no=$(grep -c ' NO$' "$work/check")
	if { [ $rc -eq 0 ] && [ "$no" -eq 0 ]; } || { [ $rc -eq 1 ] && [ "$no" -gt 0 ]; }; then
		echo "ok $n - $model: attributes --check exits $rc ($no attributes do not move)"; else
		echo "not ok $n - $model: attributes --check exit status $rc with $no attributes that do not move"; fi
	for name in "$@"; do
		n=$((n + 1))
		line=$(grep "^$name " "$work/check")
		if [ -n "$line" ] && echo "$line" | awk '{ exit !($6 == "yes" && $2 < $3 && $3 < $4 && $4 - $2 > $5) }'; then
			echo "ok $n - $model $name: $(echo "$line" | awk -v a="$a" '{ printf "-%sx %s < 0x %s < +%sx %s, change %.4f > random directions %s", a, $2, $3, a, $4, $4 - $2, $5 }') (means over the decodes)"
		else
			echo "not ok $n - $model $name moves with its vector: ${line:-no line}"
		fi
	done
}
# mel_2bar is a high-KL model (about 126 nats; models/mel_2bar/README.md): its z spread is wide and at +-1x
# avg_interval does not move (measured: 2.11 / 2.01 / 2.14 at -1x / 0 / +1x on the real validation windows),
# at +-2x every vector does
check mel_2bar melody 2 note_density c_diatonic avg_interval syncopation_16th syncopation_8th
check drums_2bar drums 1 hit_density kick_density snare_density hat_density syncopation
echo "1..$n"
