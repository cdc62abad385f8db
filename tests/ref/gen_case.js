#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Write a seeded test case (CASE.json) for a checkpoint: 2-4 valid input
// NoteSequences for its data converter, 3 latent vectors, interpolate 5, and
// the control arguments the model requires.
//
//   node gen_case.js --arch NAME --seed N --ckpt DIR --out CASE.json
//                    [--inputs K] [--num-z K] [--interpolate N]
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs, die, Rng } = require('./lib/common');
const { getArch, configOf } = require('./lib/archs');

const USAGE = 'usage: gen_case.js --arch NAME --seed N --ckpt DIR --out CASE.json ' +
  '[--inputs K] [--num-z K] [--interpolate N]';

// magenta.js DEFAULT_DRUM_PITCH_CLASSES (esm/core/constants.js).
const DRUM_CLASSES = [
  [36, 35], [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85], [42, 44, 54, 68, 69, 70, 71, 73, 78, 80],
  [46, 67, 72, 74, 79, 81], [45, 29, 41, 61, 64, 84], [48, 47, 60, 63, 77, 86, 87], [50, 30, 43, 62, 76, 83],
  [49, 55, 57, 58], [51, 52, 53, 59, 82],
];

// Chord symbols each encoder accepts (tonal 2.x). MajorMinor rejects
// aug/dim; Triad rejects sus/other qualities; Pitch takes anything tonal knows.
const CHORDS_MM = ['C', 'Am', 'F', 'G7', 'Dm7', 'E', 'Bbmaj7', 'F#m', 'Abm', 'C#', 'Em7', 'A7', 'N.C.'];
const CHORDS = {
  MajorMinorChordEncoder: CHORDS_MM,
  TriadChordEncoder: [...CHORDS_MM, 'Bdim', 'Caug', 'C+', 'Dm7b5'],
  // No 'N.C.' here: magenta.js 1.23.1 encodes it as an int32 one-hot but real
  // chords as float32, and tf.stack then throws on a mixed progression.
  PitchChordEncoder: [...CHORDS_MM.filter((c) => c !== 'N.C.'), 'Bdim', 'Caug', 'Gsus4', 'Ebdim7', 'Dm7b5'],
};

/** A note with every field set explicitly (protobuf defaults for the rest). */
function note(fields, stepSec) {
  return {
    pitch: fields.pitch,
    velocity: fields.velocity ?? 80,
    program: fields.program ?? 0,
    isDrum: fields.isDrum ?? false,
    instrument: fields.instrument ?? 0,
    quantizedStartStep: fields.start,
    quantizedEndStep: fields.end,
    startTime: fields.startTime ?? fields.start * stepSec,
    endTime: fields.endTime ?? fields.end * stepSec,
  };
}

/**
 * Monophonic line: alternating rests and notes, pitches a random walk inside
 * [lo, hi], touching the range ends now and then. Ends never exceed numSteps.
 */
function monophonic(rng, numSteps, lo, hi, extra, stepSec) {
  const notes = [];
  let t = rng.chance(0.3) ? rng.int(1, 3) : 0;
  let pitch = rng.int(lo + Math.floor((hi - lo) / 3), hi - Math.floor((hi - lo) / 3));
  while (t < numSteps) {
    const dur = Math.min(rng.pick([1, 1, 2, 2, 2, 3, 4, 4, 6, 8]), numSteps - t);
    if (rng.chance(0.04)) pitch = rng.pick([lo, hi]);
    else pitch = Math.min(hi, Math.max(lo, pitch + rng.int(-7, 7)));
    // Sometimes the next note starts right at this note's end (onset
    // overwrites the note-off), sometimes a rest follows.
    notes.push(note({ pitch, start: t, end: t + dur, velocity: rng.int(40, 120), ...extra }, stepSec));
    t += dur + (rng.chance(0.35) ? rng.int(1, 3) : 0);
  }
  return notes;
}

/** Drum hits: at each step with probability p, 1-3 distinct classes. */
function drumHits(rng, numSteps, p, stepSec, withTiming = false) {
  const notes = [];
  for (let s = 0; s < numSteps; s++) {
    if (!rng.chance(p)) continue;
    const classes = rng.shuffle([...Array(9).keys()]).slice(0, rng.int(1, 3));
    for (const c of classes) {
      // Mostly the class's first pitch, sometimes another pitch of the class.
      const pitch = rng.chance(0.7) ? DRUM_CLASSES[c][0] : rng.pick(DRUM_CLASSES[c]);
      const n = { pitch, start: s, end: s + 1, isDrum: true, velocity: rng.int(1, 127), instrument: 9 };
      if (withTiming) {
        const jitter = (rng.uniform() - 0.5) * 0.9; // in steps, |jitter| < 0.45
        n.startTime = (s + jitter) * stepSec;
        n.endTime = n.startTime + stepSec;
      }
      notes.push(note(n, stepSec));
    }
  }
  return notes;
}

/** One input NoteSequence valid for the converter of `config`. */
function makeSequence(rng, config) {
  const { type, args } = config.dataConverter;
  const T = args.numSteps;
  const qpm = type === 'GrooveConverter' ? rng.pick([100, 120, 140]) : 120;
  const stepSec = 60 / qpm / 4;
  let notes;
  switch (type) {
    case 'MelodyConverter':
    case 'MelodyRhythmConverter':
    case 'MelodyShapeConverter':
      notes = monophonic(rng, T, args.minPitch, args.maxPitch, {}, stepSec);
      break;
    case 'DrumsConverter':
    case 'DrumRollConverter':
      notes = drumHits(rng, T, 0.45, stepSec);
      break;
    case 'TrioConverter':
    case 'TrioRhythmConverter': {
      const melProg = rng.int(0, 31);
      const bassProg = rng.int(32, 39);
      notes = [
        ...monophonic(rng, T, Math.max(args.melArgs.minPitch, 55), Math.min(args.melArgs.maxPitch, 96),
          { program: melProg, instrument: 0 }, stepSec),
        ...monophonic(rng, T, Math.max(args.bassArgs.minPitch, 28), Math.min(args.bassArgs.maxPitch, 55),
          { program: bassProg, instrument: 1 }, stepSec),
        ...drumHits(rng, T, 0.4, stepSec),
      ];
      // A note of another instrument family (program 48) that Trio ignores.
      if (rng.chance(0.5)) {
        const s = rng.int(0, T - 2);
        notes.push(note({ pitch: 60, start: s, end: s + 2, program: 48, instrument: 3 }, stepSec));
      }
      break;
    }
    case 'GrooveConverter': {
      notes = drumHits(rng, T, 0.5, stepSec, true);
      // Duplicate hits of one class at one step: the louder one wins.
      for (let k = 0; k < 3 && notes.length; k++) {
        const n = { ...rng.pick(notes) };
        n.velocity = rng.int(1, 127);
        n.startTime += 0.1 * stepSec;
        n.endTime += 0.1 * stepSec;
        notes.push(n);
      }
      break;
    }
    default:
      throw new Error(`gen_case: converter ${type} not supported`);
  }
  rng.shuffle(notes); // converters must not rely on input order
  const ns = {
    notes,
    quantizationInfo: { stepsPerQuarter: 4 },
    tempos: [{ time: 0, qpm }],
    totalQuantizedSteps: T,
  };
  if (type === 'GrooveConverter') ns.totalTime = T * stepSec;
  return ns;
}

/** controlArgs for models that need them (chords, key, extra controls). */
function makeControls(rng, config) {
  const T = config.dataConverter.args.numSteps;
  const c = {};
  if (config.chordEncoder) {
    const n = rng.int(1, 4);
    c.chordProgression = Array.from({ length: n }, () => rng.pick(CHORDS[config.chordEncoder]));
    // An all-'N.C.' progression is fine for every encoder.
    if (rng.chance(0.1)) c.chordProgression = ['N.C.'];
  }
  if (config.conditionOnKey) c.key = rng.int(0, 11);
  if (config.extraControls) {
    c.extraControls = {};
    for (const { name, depth } of config.extraControls) {
      c.extraControls[name] = Array.from({ length: T }, () => {
        if (depth === 1) return [rng.chance(0.4) ? 1 : 0];
        const row = new Array(depth).fill(0);
        row[rng.int(0, depth - 1)] = 1;
        return row;
      });
    }
  }
  return Object.keys(c).length ? c : undefined;
}

/** z size = length of encoder/mu/bias in the manifest. */
function zDimsOf(ckptDir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(ckptDir, 'weights_manifest.json'), 'utf8'));
  for (const g of manifest) {
    for (const w of g.weights) if (w.name === 'encoder/mu/bias') return w.shape[0];
  }
  throw new Error(`no encoder/mu/bias in ${ckptDir}`);
}

function main() {
  const { opts } = parseArgs(process.argv.slice(2));
  if (!opts.ckpt || !opts.out) die(USAGE);
  const config = JSON.parse(fs.readFileSync(path.join(opts.ckpt, 'config.json'), 'utf8'));
  if (opts.arch) {
    const want = configOf(getArch(opts.arch));
    if (JSON.stringify(want.dataConverter) !== JSON.stringify(config.dataConverter)) {
      die(`--arch ${opts.arch} does not match ${opts.ckpt}/config.json`);
    }
  }
  const seed = Number(opts.seed ?? 1);
  const rng = new Rng(seed * 2654435761 + 12345);
  const nInputs = Number(opts.inputs ?? rng.int(2, 4));
  const nZ = Number(opts['num-z'] ?? 3);
  const zDims = zDimsOf(opts.ckpt);

  const inputs = Array.from({ length: nInputs }, () => makeSequence(rng, config));
  // float32-exact values, so every reader rounds them identically.
  const z = Array.from({ length: nZ }, () => Array.from({ length: zDims }, () => Math.fround(rng.normal())));
  const controls = makeControls(rng, config);
  const outDir = path.dirname(path.resolve(opts.out));
  const kase = {
    model: path.relative(outDir, path.resolve(opts.ckpt)) || '.',
    inputs,
    z,
    interpolate: Number(opts.interpolate ?? 5),
    ...(controls ? { controls } : {}),
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(opts.out, JSON.stringify(kase) + '\n');
}

main();
