#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_cli.sh: the musicvae tool end to end on small random checkpoints: every command, seeded replay,
# MIDI written and read back, and clear errors (naming file and place) for bad models, MIDI, z and options.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
mv="$build/musicvae"
work=$(mktemp -d "${TMPDIR:-/tmp}/test_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
. "$src/tests/taplib.sh"
echo "1..26"
"$build/tests/mkmodel" mel "$work/mel" 3 && "$build/tests/mkmodel" drums "$work/drums" 4 &&
	"$build/tests/mkmodel" melhier "$work/hier" 5 || { echo "Bail out! mkmodel failed"; exit 1; }

t "info describes the model" sh -c "'$mv' info '$work/mel' | grep -q 'MelodyConverter, 32 steps, z 24'"
t "encode prints one z of 24 numbers" sh -c "'$mv' encode '$work/mel' '$src/examples/phrase-a.mid' > '$work/a.json' &&
	node -e 'const j=require(process.argv[1]); process.exit(j.z.length===1&&j.z[0].length===24?0:1)' '$work/a.json'"
t "encode two files gives two z" sh -c "'$mv' encode '$work/mel' '$src/examples/phrase-a.mid' '$src/examples/phrase-b.mid' > '$work/ab.json' &&
	node -e 'const j=require(process.argv[1]); process.exit(j.z.length===2&&j.z[1].length===24&&j.inputs.length===2?0:1)' '$work/ab.json'"
t "decode writes a MIDI file" "$mv" decode "$work/mel" "$work/a.json" "$work/a.mid"
t "the decoded MIDI file reads back" "$mv" encode "$work/mel" "$work/a.mid"
t "decode prints a step grid" sh -c "'$mv' decode '$work/mel' '$work/a.json' | grep -q '^  melody *|'"
t "sample with a seed" "$mv" sample "$work/mel" -n 3 -t 0.9 --seed 11 -o "$work/s1.mid"
"$mv" sample "$work/mel" -n 3 -t 0.9 --seed 11 -o "$work/s2.mid" >/dev/null 2>&1
"$mv" sample "$work/mel" -n 3 -t 0.9 --seed 12 -o "$work/s3.mid" >/dev/null 2>&1
t "the same seed replays the same notes" cmp -s "$work/s1.mid" "$work/s2.mid"
t "another seed gives other notes" sh -c "! cmp -s '$work/s1.mid' '$work/s3.mid'"
t "a sample without a seed prints the one it used" sh -c "'$mv' sample '$work/mel' 2>&1 >/dev/null | grep -q 'seed [0-9]'"
t "interpolate 4 points (linear)" "$mv" interpolate "$work/mel" "$src/examples/phrase-a.mid" "$src/examples/phrase-b.mid" -n 4 -o "$work/i.mid"
t "interpolate writes 4 x 2 bars" sh -c "'$mv' interpolate '$work/mel' '$src/examples/phrase-a.mid' '$src/examples/phrase-b.mid' -n 4 -o '$work/i.mid' 2>&1 | grep -q '8 bars'"
t "interpolate --slerp" "$mv" interpolate "$work/mel" "$src/examples/phrase-a.mid" "$src/examples/phrase-b.mid" -n 3 --slerp
t "similar" "$mv" similar "$work/mel" "$src/examples/phrase-a.mid" -n 2 --similarity 0.9 --seed 1
t "--json prints NoteSequences" sh -c "'$mv' sample '$work/mel' -n 1 --seed 2 --json | grep -q quantizedStartStep"
t "hierarchical model: encode and decode" sh -c "'$mv' encode '$work/hier' '$src/examples/phrase-a.mid' > '$work/h.json' && '$mv' decode '$work/hier' '$work/h.json'"
t "drums model: encode a beat, decode a drum grid" sh -c "'$mv' encode '$work/drums' '$src/examples/beat.mid' > '$work/d.json' && '$mv' decode '$work/drums' '$work/d.json' | grep -q '^  kick'"
t "a melody model ignores drum notes and says so" sh -c "'$mv' encode '$work/mel' '$src/examples/beat.mid' 2>&1 >/dev/null | grep -q 'ignored .* drum notes'"

printf 'MThd\000\000\000\006\000\001\000\001\001\340MTrk\000\000\001\000\000\220' > "$work/trunc.mid"
head -c 300 /dev/urandom > "$work/garbage.mid"
printf '{"z": [[1, 2, 3]]}' > "$work/short.json"
printf '{"z": [[1, 2,' > "$work/bad.json"
fails "a truncated MIDI file: error names file and track" 1 "trunc.mid: at byte 18" "$mv" encode "$work/mel" "$work/trunc.mid"
fails "a garbage MIDI file is refused with its name" 1 "garbage.mid" "$mv" encode "$work/mel" "$work/garbage.mid"
fails "a missing model directory names config.json" 1 "config.json" "$mv" info "$work/nothing"
fails "a z of the wrong size names z[0]" 1 "z\[0\]: expected an array of 24" "$mv" decode "$work/mel" "$work/short.json"
fails "broken z JSON names file, line and column" 1 "bad.json:1:" "$mv" decode "$work/mel" "$work/bad.json"
fails "a bad temperature is a usage error" 2 "temperature" "$mv" sample "$work/mel" -t hot
fails "an unknown command is a usage error" 2 "unknown command" "$mv" frobnicate "$work/mel"
rm "$work/mel/group1-shard1of1"
fails "a missing shard is named" 1 "group1-shard1of1" "$mv" info "$work/mel"
