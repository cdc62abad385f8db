#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test_cli.sh: the musicvae tool end to end on small random checkpoints: every command, seeded replay,
# MIDI written and read back, and clear errors (naming file and place) for bad models, MIDI, z and options;
# NoteSequence JSON in, chord models, GrooVAE MIDI against @magenta/music, options before the command, --version
# of all three programs, and musicvaed's start-up words (external clock, no JACK server).
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
mv="$build/musicvae"
work=$(mktemp -d "${TMPDIR:-/tmp}/test_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
. "$src/tests/taplib.sh"
echo "1..44"
"$build/tests/mkmodel" mel "$work/mel" 3 && "$build/tests/mkmodel" drums "$work/drums" 4 &&
	"$build/tests/mkmodel" melhier "$work/hier" 5 || { echo "Bail out! mkmodel failed"; exit 1; }

t "info describes the model" sh -c "'$mv' info '$work/mel' | grep -q 'MelodyConverter, 32 steps, z 24'"
t "info says what the daemon needs: model.path, window, output, continue input" sh -c "'$mv' info '$work/drums' > '$work/info' &&
	grep -q 'daemon: model.path = \"$work/drums\"; windows of 32 steps (2 bars); plays drum notes' '$work/info' &&
	grep -q 'continue mode: encodes the drum hits' '$work/info'"
t "info on a model without attributes.json says how to make them" sh -c "'$mv' info '$work/mel' | grep -q 'attributes: none (.*musicvae attributes $work/mel DATA.ds'"
t "info lists the attribute vectors of a model that has them" sh -c "'$mv' info '$src/models/mel_2bar' | grep -q 'attributes: 5 vectors in attributes.json (note_density, c_diatonic'"
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

# Chord-conditioned models: info needs no controls; the others name the flag they need.
ref=$(cd "$src/tests/ref" && pwd)        # absolute: the node scripts below live in a temporary directory
if [ -d "$ref/node_modules/@magenta/music" ]; then
	node "$ref/gen_ckpt.js" --arch mel_chords_mm --dtype float32 --seed 1 --out "$work/chords" >/dev/null 2>&1 &&
		node "$ref/gen_ckpt.js" --arch groove --dtype float32 --seed 1 --out "$work/groove" >/dev/null 2>&1 ||
		{ echo "Bail out! gen_ckpt.js failed"; exit 1; }
	t "info on a chord model needs no --chords and says it takes them" sh -c "'$mv' info '$work/chords' | grep -q 'controls: chords (--chords \"C G Am F\"; daemon: musicvaectl chords C G Am F)'"
	fails "a chord model without --chords names the flag" 2 'give a progression with --chords "C G Am F"' "$mv" sample "$work/chords" --seed 1
	fails "a bad chord names --chords and the symbol" 1 '--chords "C Xq": .*Xq' "$mv" sample "$work/chords" --seed 1 --chords "C Xq"
	t "a chord model samples with --chords" "$mv" sample "$work/chords" --seed 1 --chords "C G Am F"
else
	for i in 1 2 3 4; do n=$((n + 1)); echo "ok $n # SKIP tests/ref/node_modules missing (scripts/install-deps)"; done
fi

# NoteSequence JSON in (what @magenta/music users have), told from MIDI by content.
"$mv" decode "$work/mel" "$work/a.json" --json > "$work/a.ns.json" 2>/dev/null
node -e 'const [ns] = require(process.argv[1]); const s = 60 / 120 / 4;    // times only, unquantized
	console.log(JSON.stringify({ notes: ns.notes.map((n) => ({ pitch: n.pitch, velocity: n.velocity,
	startTime: n.quantizedStartStep * s, endTime: n.quantizedEndStep * s })), totalTime: 32 * s }));' "$work/a.ns.json" > "$work/a.times.json"
"$mv" encode "$work/mel" "$work/a.mid" > "$work/za.mid.json" 2>"$work/err.mid"
t "encode reads NoteSequence JSON (as --json prints it) and says which form it read" sh -c "'$mv' encode '$work/mel' '$work/a.ns.json' > '$work/za.ns.json' 2>'$work/err.ns' &&
	grep -q 'a.ns.json: NoteSequence JSON, [1-9][0-9]* notes' '$work/err.ns' && grep -q 'a.mid: MIDI, [1-9][0-9]* notes' '$work/err.mid'"
t "the same notes give the same z from MIDI, quantized JSON and unquantized JSON (times only)" sh -c "'$mv' encode '$work/mel' '$work/a.times.json' > '$work/za.times.json' &&
	node -e 'const z = process.argv.slice(1).map((f) => JSON.stringify(require(f).z)); process.exit(z[0] === z[1] && z[1] === z[2] ? 0 : 1)' '$work/za.mid.json' '$work/za.ns.json' '$work/za.times.json'"
t "interpolate and similar take NoteSequence JSON" sh -c "'$mv' interpolate '$work/mel' '$work/a.ns.json' '$src/examples/phrase-b.mid' -n 3 &&
	'$mv' similar '$work/mel' '$work/a.times.json' -n 2 --seed 1"

# Options before the command; versions.
fails "options before the command: musicvae -v train runs train (which names its missing dataset)" 1 "nothing.ds: No such file" "$mv" -v train --data "$work/nothing.ds" -o "$work/tm"
t "musicvae -s 5 sample MODEL: options before the command apply" sh -c "'$mv' -s 5 sample '$work/mel' -o '$work/v1.mid' && '$mv' sample '$work/mel' --seed 5 -o '$work/v2.mid' && cmp -s '$work/v1.mid' '$work/v2.mid'"
ver=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/config.h")
t "--version: musicvae, musicvaed and musicvaectl print $ver" sh -c "'$mv' --version | grep -qx 'musicvae $ver' &&
	'$build/musicvaed' --version | grep -qx 'musicvaed $ver' && '$build/musicvaed' -V | grep -qx 'musicvaed $ver' &&
	'$build/musicvaectl' --version | grep -q '^musicvaectl $ver'"

# GrooVAE: its output is not quantized and an early hit on the first step starts before 0 s (magenta.js's too).
# MIDI at 480 ticks a quarter cannot hold times to 1e-6 s: the NoteSequence JSON (--json) is compared to 1e-6 s,
# the MIDI file (read with @tonejs/midi, @magenta/music's reader) to half a tick, early hits at 0.
if [ -d "$ref/node_modules/@magenta/music" ]; then
	"$mv" encode "$work/groove" "$src/examples/beat.mid" > "$work/gz1.json" 2>/dev/null
	node -e 'const z = require(process.argv[1]).z[0];        // the beat, its mirror image and half of it
		console.log(JSON.stringify({ z: [z, z.map((x) => -x), z.map((x) => x / 2)] }));' "$work/gz1.json" > "$work/gz.json"
	t "GrooVAE: decode writes a MIDI file" "$mv" decode "$work/groove" "$work/gz.json" "$work/g.mid"
	t "GrooVAE: sample -o writes a MIDI file" "$mv" sample "$work/groove" --seed 3 -n 2 -o "$work/gs.mid"
	"$mv" decode "$work/groove" "$work/gz.json" --json > "$work/g.ns.json" 2>/dev/null
	cat > "$work/groove_ref.js" <<'EOF'
// groove_ref.js REF CKPT Z.json OURS.json OURS.mid: musicvae's GrooVAE decode against @magenta/music's.
const path = require('path'), fs = require('fs');
const [ref, ckpt, zfile, oursJson, oursMid] = process.argv.slice(2);
const { loadTf, loadModel } = require(path.join(ref, 'lib/common'));
const { Midi } = require(path.join(ref, 'node_modules/@tonejs/midi'));
const byKey = (a, b) => a.pitch - b.pitch || a.startTime - b.startTime;
(async () => {
  const { tf, mvae } = await loadTf('cpu');
  const { model, close } = await loadModel(mvae, ckpt);
  const zt = tf.tensor2d(JSON.parse(fs.readFileSync(zfile, 'utf8')).z);
  const want = await model.decode(zt);         // temperature undefined, as musicvae decode's default 0
  zt.dispose(); model.dispose(); await close();
  const ours = JSON.parse(fs.readFileSync(oursJson, 'utf8'));
  const bad = [], tick = 60 / 120 / 480, len = 32 * 60 / 120 / 4, all = [];
  let worstJ = 0, worstM = 0, early = 0;
  want.forEach((ns, i) => {
    const w = [...ns.notes].sort(byKey), o = [...ours[i].notes].sort(byKey);
    if (o.length !== w.length) bad.push(`result ${i + 1}: ${o.length} notes, magenta.js ${w.length}`);
    w.forEach((n, k) => {
      const m = o[k] || {}, d = Math.max(Math.abs(m.startTime - n.startTime), Math.abs(m.endTime - n.endTime));
      worstJ = Math.max(worstJ, d || 0);
      if (m.pitch !== n.pitch || m.velocity !== n.velocity || !(d <= 1e-6))
        bad.push(`result ${i + 1} note ${k}: ${JSON.stringify(m)} vs magenta.js ${JSON.stringify(n)}`);
      early += n.startTime < 0;
      all.push({ pitch: n.pitch, velocity: n.velocity, startTime: Math.max(0, n.startTime + i * len) });
    });
  });
  const mid = new Midi(fs.readFileSync(oursMid)).tracks.flatMap((t) => t.notes.map((n) => ({
    pitch: n.midi, velocity: Math.round(n.velocity * 127), startTime: n.time }))).sort(byKey);
  all.sort(byKey);
  if (mid.length !== all.length) bad.push(`MIDI: ${mid.length} notes, magenta.js ${all.length}`);
  all.forEach((n, k) => {
    const m = mid[k] || {}, d = Math.abs(m.startTime - n.startTime);
    worstM = Math.max(worstM, d || 0);
    if (m.pitch !== n.pitch || m.velocity !== n.velocity || !(d <= tick / 2 + 1e-9))
      bad.push(`MIDI note ${k}: ${JSON.stringify(m)} vs magenta.js ${JSON.stringify(n)}`);
  });
  process.stdout.write(`# ${all.length} notes in ${want.length} results, ${early} before 0 s; worst time error: ` +
    `JSON ${worstJ.toExponential(2)} s, MIDI ${(worstM * 1e3).toFixed(3)} ms (a tick: ${(tick * 1e3).toFixed(3)} ms)\n`);
  for (const b of bad.slice(0, 5)) process.stdout.write(`# ${b}\n`);      // (loadTf silences console.log)
  process.exitCode = bad.length ? 1 : 0;
})();
EOF
	node "$work/groove_ref.js" "$ref" "$work/groove" "$work/gz.json" "$work/g.ns.json" "$work/g.mid" > "$work/gref" 2>&1
	st=$?; n=$((n + 1))
	if [ $st = 0 ]; then echo "ok $n - GrooVAE: notes, times (JSON 1e-6 s, MIDI half a tick) and velocities equal @magenta/music's"
	else echo "not ok $n - GrooVAE: notes, times (JSON 1e-6 s, MIDI half a tick) and velocities equal @magenta/music's"; fi
	cat "$work/gref"
else
	for i in 1 2 3; do n=$((n + 1)); echo "ok $n # SKIP tests/ref/node_modules missing (scripts/install-deps)"; done
fi

# The daemon's first words to a new user: no tempo made up for an external clock, and how to get a JACK server.
printf 'model = { path = "%s"; };\nbackend = { type = "null"; };\nclock = { source = "external"; };\ncontrol = { socket = "none"; };\n' "$work/mel" > "$work/ext.conf"
"$build/musicvaed" -c "$work/ext.conf" > "$work/dlog" 2>&1 &
dpid=$!
sleep 1.5; kill -USR1 $dpid; sleep 0.3; kill $dpid; wait $dpid
t "external clock: the start-up line names no BPM, SIGUSR1 says 'tempo unknown' before any tick" sh -c "grep 'running:' '$work/dlog' | grep -q 'external clock' && ! grep 'running:' '$work/dlog' | grep -q BPM &&
	grep 'status:' '$work/dlog' | grep -q 'tempo unknown, step'"
printf 'model = { path = "%s"; };\nbackend = { type = "jack"; server_name = "mvd_none_%s"; };\ncontrol = { socket = "none"; };\n' "$work/mel" "$$" > "$work/nojack.conf"
JACK_NO_START_SERVER=1 "$build/musicvaed" -c "$work/nojack.conf" > "$work/dlog" 2>&1 &
dpid=$!
sleep 2.5; kill $dpid; wait $dpid
t "no JACK server: says once how to start one (jackd -n NAME -d dummy for a test)" sh -c "[ \$(grep -c 'jackd -n mvd_none_$$ -d dummy' '$work/dlog') = 1 ]"

rm "$work/mel/group1-shard1of1"
fails "a missing shard is named" 1 "group1-shard1of1" "$mv" info "$work/mel"
