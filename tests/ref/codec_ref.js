// SPDX-License-Identifier: GPL-3.0-or-later
// Golden data for the converters and control encoders: random quantized NoteSequences, decoder rows, chord
// symbols and control arguments run through @magenta/music 1.23.1 itself (toTensor, toNoteSequence,
// ChordEncoder.encode, MusicVAE.controlArgsToTensor). tests/test_codec --ref FILE compares src/codec.c and
// src/ctrl.c with the result.
//
// usage: node codec_ref.js [--seed N] [--cases N] [--out FILE]     (default: seed 1, 200 cases, stdout)
'use strict';

const fs = require('node:fs');
const { parseArgs, Rng, loadTf } = require('./lib/common');

const MEL = { minPitch: 21, maxPitch: 108 };
const TRIO = (numSteps, extra = {}) => ({
  numSteps, melArgs: { ...MEL }, bassArgs: { ...MEL }, drumsArgs: {}, ...extra,
});
const SMALL_CLASSES = [[36], [38, 40], [42, 44, 46], [49, 57]];

/** Converters under test: name, config.json dataConverter, and the kind of input the generator makes. */
const CONVERTERS = [
  { name: 'melody', kind: 'mel', spec: { type: 'MelodyConverter', args: { numSteps: 32, ...MEL } } },
  { name: 'melody_strict', kind: 'mel',
    spec: { type: 'MelodyConverter', args: { numSteps: 16, minPitch: 48, maxPitch: 83, ignorePolyphony: false } } },
  { name: 'melody_hier', kind: 'mel',
    spec: { type: 'MelodyConverter', args: { numSteps: 64, numSegments: 4, ...MEL } } },
  { name: 'drums', kind: 'drums', spec: { type: 'DrumsConverter', args: { numSteps: 32 } } },
  { name: 'drums_classes', kind: 'drums',
    spec: { type: 'DrumsConverter', args: { numSteps: 16, pitchClasses: SMALL_CLASSES } } },
  { name: 'drumroll', kind: 'drums', spec: { type: 'DrumRollConverter', args: { numSteps: 32 } } },
  { name: 'drums_onehot', kind: 'drums', spec: { type: 'DrumsOneHotConverter', args: { numSteps: 32 } } },
  { name: 'trio', kind: 'trio', spec: { type: 'TrioConverter', args: TRIO(32) } },
  { name: 'trio_small', kind: 'trio', spec: { type: 'TrioConverter', args: {
    numSteps: 16, numSegments: 2, melArgs: { minPitch: 48, maxPitch: 84, ignorePolyphony: false },
    bassArgs: { minPitch: 28, maxPitch: 60 }, drumsArgs: { pitchClasses: SMALL_CLASSES } } } },
  { name: 'trio_rhythm', kind: 'trio', spec: { type: 'TrioRhythmConverter', args: TRIO(32) } },
  { name: 'groove', kind: 'groove', spec: { type: 'GrooveConverter', args: { numSteps: 32 } } },
  { name: 'groove_humanize', kind: 'groove',
    spec: { type: 'GrooveConverter', args: { numSteps: 32, humanize: true } } },
  { name: 'groove_tapify', kind: 'groove', spec: { type: 'GrooveConverter', args: { numSteps: 16, tapify: true } } },
  { name: 'groove_split', kind: 'groove',
    spec: { type: 'GrooveConverter', args: { numSteps: 16, splitInstruments: true, stepsPerQuarter: 4 } } },
  { name: 'melody_rhythm', kind: 'mel', spec: { type: 'MelodyRhythmConverter', args: { numSteps: 32, ...MEL } } },
  { name: 'melody_shape', kind: 'mel', spec: { type: 'MelodyShapeConverter', args: { numSteps: 32, ...MEL } } },
  { name: 'melody_shape_narrow', kind: 'mel',
    spec: { type: 'MelodyShapeConverter', args: { numSteps: 16, minPitch: 60, maxPitch: 65 } } },
];

const DEFAULT_CLASSES = [
  [36, 35], [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
  [42, 44, 54, 68, 69, 70, 71, 73, 78, 80], [46, 67, 72, 74, 79, 81], [45, 29, 41, 61, 64, 84],
  [48, 47, 60, 63, 77, 86, 87], [50, 30, 43, 62, 76, 83], [49, 55, 57, 58], [51, 52, 53, 59, 82],
];

// ---- random inputs -------------------------------------------------------------------------------

function note(rng, pitch, start, dur, fields = {}) {
  return {
    pitch, velocity: rng.int(1, 127), program: 0, instrument: 0, isDrum: false,
    quantizedStartStep: start, quantizedEndStep: start + dur,
    startTime: start * 0.125, endTime: (start + dur) * 0.125, ...fields,
  };
}

function quantized(notes, T) {
  return { notes, quantizationInfo: { stepsPerQuarter: 4 }, tempos: [{ time: 0, qpm: 120 }],
    totalQuantizedSteps: T, totalTime: T * 0.125 };
}

/** Melody-ish notes: some past the end, some polyphonic, a few out of range. */
function melNotes(rng, T, lo, hi, fields = {}) {
  const notes = [];
  const n = rng.int(0, 12);
  for (let i = 0; i < n; i++) {
    const start = notes.length && rng.chance(0.05) ? notes[notes.length - 1].quantizedStartStep : rng.int(0, T + 3);
    const pitch = rng.chance(0.01) ? rng.pick([lo - 1, hi + 1, rng.int(0, 127)]) : rng.int(lo, hi);
    notes.push(note(rng, Math.max(0, Math.min(127, pitch)), start, rng.int(1, 6), fields));
  }
  return notes;
}

function drumPitch(rng, classes) {
  return rng.chance(0.85) ? rng.pick(rng.pick(classes)) : rng.int(0, 127);
}

function drumNotes(rng, T, classes, maxStart) {
  const notes = [];
  const n = rng.int(0, 20);
  for (let i = 0; i < n; i++) {
    notes.push(note(rng, drumPitch(rng, classes), rng.int(0, maxStart), 1, { isDrum: rng.chance(0.8) }));
  }
  return notes;
}

function trioNotes(rng, T, args) {
  const classes = args.drumsArgs.pitchClasses || DEFAULT_CLASSES;
  const late = rng.chance(0.05) ? T + 1 : T - 1;
  const mel = melNotes(rng, T, args.melArgs.minPitch, args.melArgs.maxPitch)
    .map((n) => ({ ...n, program: rng.chance(0.9) ? rng.int(0, 31) : rng.int(40, 127) }));
  const bass = melNotes(rng, T, args.bassArgs.minPitch, args.bassArgs.maxPitch)
    .map((n) => ({ ...n, program: rng.int(32, 39), isDrum: rng.chance(0.05) }));
  const drums = drumNotes(rng, T, classes, late).map((n) => ({ ...n, isDrum: true, program: rng.int(0, 127) }));
  return rng.shuffle([...mel, ...bass, ...drums]);
}

function grooveSeq(rng, T, args) {
  const qpm = rng.pick([120, 90, 100.5, 137]);
  const stepLen = 60 / qpm / (args.stepsPerQuarter || 4);
  const classes = args.pitchClasses || DEFAULT_CLASSES;
  const notes = [];
  const n = rng.int(0, 24);
  for (let i = 0; i < n; i++) {
    const start = rng.chance(0.01) ? T : rng.int(0, T - 1);
    const t0 = Math.max(0, (start + rng.uniform() * 0.98 - 0.49) * stepLen);
    const vel = notes.length && rng.chance(0.1) ? notes[notes.length - 1].velocity : rng.int(1, 127);
    notes.push({ pitch: drumPitch(rng, classes), velocity: vel, program: 0, instrument: 0, isDrum: true,
      quantizedStartStep: start, quantizedEndStep: start + 1, startTime: t0, endTime: t0 + stepLen });
  }
  if (rng.chance(0.1)) {        // unquantized input: the converter quantizes it
    notes.forEach((x) => { delete x.quantizedStartStep; delete x.quantizedEndStep; });
    return { notes: notes.filter((x) => x.startTime < (T - 0.5) * stepLen), tempos: [{ time: 0, qpm }],
      totalTime: T * stepLen };
  }
  return { ...quantized(notes, T), tempos: [{ time: 0, qpm }] };
}

function inputSeq(rng, conv) {
  const a = conv.spec.args;
  const T = a.numSteps;
  switch (conv.kind) {
    case 'mel': return quantized(melNotes(rng, T, a.minPitch, a.maxPitch), T);
    case 'drums': return quantized(drumNotes(rng, T, a.pitchClasses || DEFAULT_CLASSES,
      conv.spec.type === 'DrumsOneHotConverter' && !rng.chance(0.05) ? T - 1 : T + 1), T);
    case 'trio': return quantized(trioNotes(rng, T, a), T);
    default: return grooveSeq(rng, T, a);
  }
}

// ---- random decoder outputs ----------------------------------------------------------------------

const f32 = Math.fround;

/** One categorical row: one-hot (biased to small tokens), or sparse ties and negatives. */
function catRow(rng, D, row) {
  if (rng.chance(0.75)) {
    row[rng.chance(0.5) ? rng.int(0, Math.min(2, D - 1)) : rng.int(0, D - 1)] = 1;
    return;
  }
  const k = rng.int(0, 4);
  for (let i = 0; i < k; i++) row[rng.int(0, D - 1)] = f32(rng.int(-2, 2) / 4);
}

function decoderRows(rng, conv, c) {
  const T = conv.spec.args.numSteps;
  const D = c.outDepth;
  const y = new Array(T * D).fill(0);
  for (let t = 0; t < T; t++) {
    const row = y.slice(t * D, (t + 1) * D);
    if (c.kind === 'multi') {
      for (let j = 0; j < D; j++) row[j] = rng.chance(0.3) ? (rng.chance(0.8) ? 1 : f32(rng.uniform() - 0.5)) : 0;
    } else if (c.kind === 'groove') {
      for (let j = 0; j < D; j++) row[j] = rng.int(-300, 300) / 256;   // exact in float32, short in JSON
    } else {
      let off = 0;
      for (const d of c.parts) {
        const part = new Array(d).fill(0);
        catRow(rng, d, part);
        part.forEach((v, j) => { row[off + j] = v; });
        off += d;
      }
    }
    row.forEach((v, j) => { y[t * D + j] = v; });
  }
  return y;
}

/** Output layout of each converter: categorical parts, multi-hot, or groove floats. */
function layout(conv, dc) {
  const a = conv.spec.args;
  switch (conv.spec.type) {
    case 'TrioConverter': return { kind: 'cat', parts: [dc.melConverter.depth, dc.bassConverter.depth,
      dc.drumsConverter.depth], outDepth: dc.depth };
    case 'TrioRhythmConverter': return { kind: 'multi', outDepth: 3 };
    case 'DrumRollConverter': return { kind: 'multi', outDepth: dc.pitchClasses.length };
    case 'MelodyRhythmConverter': return { kind: 'multi', outDepth: 1 };
    case 'GrooveConverter': return { kind: 'groove', outDepth: 3 * dc.pitchClasses.length };
    case 'DrumsConverter': case 'DrumsOneHotConverter':
      return { kind: 'cat', parts: [1 << dc.pitchClasses.length], outDepth: 1 << dc.pitchClasses.length };
    default: return { kind: 'cat', parts: [dc.depth], outDepth: dc.depth, T: a.numSteps };
  }
}

// ---- running magenta.js --------------------------------------------------------------------------

function sparse(flat) {
  const out = [];
  flat.forEach((v, i) => { if (v !== 0) out.push([i, v]); });
  return out;
}

/** A decoded note; zero and false fields (protobuf defaults) are left out. */
function noteJson(n) {
  const out = {};
  for (const k of ['pitch', 'velocity', 'program', 'instrument', 'isDrum', 'quantizedStartStep',
    'quantizedEndStep', 'startTime', 'endTime']) {
    if (n[k]) out[k] = n[k];
  }
  return out;
}

function encodeCase(tf, dc, ns, T) {
  const input = JSON.parse(JSON.stringify(ns));     // Melody.fromNoteSequence sorts notes in place
  try {
    const x = dc.toTensor(input);
    const rows = x.shape[0];
    const flat = Array.from(x.dataSync());
    x.dispose();
    if (rows !== T && !(dc.splitInstruments && rows === T * dc.pitchClasses.length)) {
      return { ns, error: `tensor has ${rows} rows instead of ${T}` };
    }
    return { ns, x: sparse(flat) };
  } catch (e) {
    return { ns, error: e.message };
  }
}

async function decodeCase(tf, dc, conv, c, y) {
  const T = conv.spec.args.numSteps;
  const shape = dc.splitInstruments ? [T * dc.pitchClasses.length, 3] : [T, c.outDepth];
  const t = tf.tensor2d(y, shape, 'float32');
  const ns = await dc.toNoteSequence(t, 4, 120);
  t.dispose();
  return {
    y: sparse(y), notes: ns.notes.map(noteJson),
    totalQuantizedSteps: ns.totalQuantizedSteps || 0, totalTime: ns.totalTime || 0,
    stepsPerQuarter: ns.quantizationInfo ? ns.quantizationInfo.stepsPerQuarter : 0,
  };
}

async function codecCases(tf, mvae, rng, nCases) {
  const out = [];
  for (const conv of CONVERTERS) {
    const m = new mvae.MusicVAE('unused', { type: 'MusicVAE', dataConverter: JSON.parse(JSON.stringify(conv.spec)) });
    m.instantiateFromSpec();
    const dc = m.dataConverter;
    const c = layout(conv, dc);
    const T = conv.spec.args.numSteps;
    const encode = [];
    const decode = [];
    for (let i = 0; i < nCases; i++) encode.push(encodeCase(tf, dc, inputSeq(rng, conv), T));
    const nDec = conv.kind === 'groove' ? nCases / 8 : nCases / 2;
    for (let i = 0; i < nDec; i++) decode.push(await decodeCase(tf, dc, conv, c, decoderRows(rng, conv, c)));
    out.push({ name: conv.name, converter: conv.spec, drums_js: 1, encode, decode });
  }
  return out;
}

// ---- chords and controls -------------------------------------------------------------------------

const ENCODERS = ['MajorMinorChordEncoder', 'TriadChordEncoder', 'PitchChordEncoder'];
const ROOTS = ['C', 'F#', 'Bb', 'e', 'Cb', 'B#', 'Dx', 'Ebb', 'g#'];
const ODD = ['N.C.', 'H', '', 'Aug', 'aug', 'A#ug', 'C-', 'C-m', 'C5', 'C5m', 'C611', 'C 7', 'C\nm', 'Cm\n',
  'Cbbbbbbbbbbbbb', 'C maj7', 'Cmaj7 ', 'n.c.', 'NC', 'Cfoo', 'Clength', 'Cmap', 'Cconstructor', 'C#', 'c',
  'A', 'Am', 'Ab', 'Abm', 'Abug', 'B', 'b', 'bb', 'bbm', 'Bbb', 'C/E', 'C7/G', 'F#m7b5', 'Gsus', 'Dadd9', 'E+',
  'Edim', 'Eo', 'Eo7', 'Ehalf', 'Cm/ma7', 'C69', 'C64', 'C13', 'C11', 'C9', 'C6', 'C7', 'C-7', 'C\tm', 'Cx'];

function chordSymbols(tonalDict) {
  const syms = [...ODD];
  for (const name of tonalDict.names(true)) {
    for (const r of ROOTS) syms.push(r + name);
  }
  return syms;
}

function chordCases(tf, mvae, syms) {
  const out = [];
  for (const enc of ENCODERS) {
    const m = new mvae.MusicVAE('unused', { type: 'MusicVAE', chordEncoder: enc,
      dataConverter: { type: 'MelodyConverter', args: { numSteps: 4, ...MEL } } });
    m.instantiateFromSpec();
    for (const s of syms) {
      try {
        const t = m.chordEncoder.encode(s);
        out.push({ encoder: enc, symbol: s, row: Array.from(t.dataSync()) });
        t.dispose();
      } catch (e) {
        out.push({ encoder: enc, symbol: s, error: e.message });
      }
    }
  }
  return out;
}

function controlSpec(rng) {
  const spec = { type: 'MusicVAE' };
  if (rng.chance(0.85)) spec.chordEncoder = rng.pick(ENCODERS);
  if (rng.chance(0.4)) spec.conditionOnKey = true;
  if (rng.chance(0.3)) spec.extraControls = [{ name: 'a', depth: rng.int(1, 3) }, { name: 'b', depth: rng.int(1, 4) }];
  return spec;
}

function controlCase(tf, mvae, rng, pool) {
  const spec = controlSpec(rng);
  const T = rng.pick([8, 16, 32, 33, 7]);
  spec.dataConverter = { type: 'MelodyConverter', args: { numSteps: T, ...MEL } };
  const m = new mvae.MusicVAE('unused', spec);
  m.instantiateFromSpec();
  const chords = spec.chordEncoder || rng.chance(0.05)
    ? Array.from({ length: rng.chance(0.03) ? 0 : rng.int(1, 9) }, () => rng.pick(pool)) : [];
  const key = (spec.conditionOnKey ? !rng.chance(0.03) : rng.chance(0.03)) ? rng.int(0, 11) : -1;
  const depth = (spec.extraControls || []).reduce((s, c) => s + c.depth, 0);
  const extra = depth ? Array.from({ length: T * depth }, () => f32(rng.normal())) : null;
  const args = {};
  if (chords.length) args.chordProgression = chords;
  if (key >= 0) args.key = key;
  if (extra) {
    args.extraControls = {};
    let off = 0;
    for (const c of spec.extraControls) {
      const cols = [];
      for (let t = 0; t < T; t++) cols.push(extra.slice(t * depth + off, t * depth + off + c.depth));
      args.extraControls[c.name] = tf.tensor2d(cols, [T, c.depth]);
      off += c.depth;
    }
  }
  const cfg = { ...spec };
  delete cfg.dataConverter;
  const rec = { config: cfg, numSteps: T, chords, key, extra };
  try {
    m.checkControlArgs(args);
    const t = m.controlArgsToTensor(args);
    rec.out = t ? Array.from(t.dataSync()) : [];
  } catch (e) {
    rec.error = e.message;
  }
  return rec;
}

async function main() {
  const { opts } = parseArgs(process.argv.slice(2));
  const seed = Number(opts.seed || 1);
  const nCases = Number(opts.cases || 200);
  const { tf, mvae } = await loadTf('cpu');
  const rng = new Rng(seed);
  const tonalDict = require('tonal-dictionary').chord;
  const syms = chordSymbols(tonalDict);
  const pool = [...ODD.slice(0, 12), ...syms.filter(() => rng.chance(0.1))];
  const result = {
    seed,
    codecs: await codecCases(tf, mvae, rng, nCases),
    chords: chordCases(tf, mvae, syms),
    controls: Array.from({ length: nCases }, () => controlCase(tf, mvae, rng, pool)),
  };
  const text = JSON.stringify(result);
  if (opts.out) fs.writeFileSync(opts.out, text);
  else process.stdout.write(text);
}

main().catch((e) => {
  process.stderr.write(`codec_ref.js: ${e.stack || e}\n`);
  process.exit(1);
});
