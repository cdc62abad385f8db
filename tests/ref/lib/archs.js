// SPDX-License-Identifier: GPL-3.0-or-later
// Test architectures: config.json spec, layer sizes, and the exact variable
// names/shapes magenta.js 1.23.1 (esm/music_vae/model.js) looks up.
'use strict';

const MEL_RANGE = { minPitch: 21, maxPitch: 108 }; // depth 90
const TRIO_ARGS = (numSteps, numSegments) => ({
  numSteps,
  ...(numSegments ? { numSegments } : {}),
  melArgs: { ...MEL_RANGE },
  bassArgs: { ...MEL_RANGE },
  drumsArgs: {},
});
const mel = (numSteps, extra = {}) => ({ type: 'MelodyConverter', args: { numSteps, ...MEL_RANGE, ...extra } });

/** Chord encoder depths (esm/core/chords.js). */
const CHORD_DEPTH = { MajorMinorChordEncoder: 25, TriadChordEncoder: 49, PitchChordEncoder: 37 };

/**
 * Architecture table. Fields:
 *   converter   config.dataConverter
 *   spec        extra top-level config.json keys (chordEncoder, conditionOnKey, extraControls, useBooleanDecoder)
 *   inDepth     converter tensor width (encoder input before controls)
 *   outDims     output width of each base decoder (NADE: D)
 *   enc         flat: [U] ; hierarchical: [U0, U1]
 *   z           latent size
 *   dec         base decoder LSTM units per layer (same for every split decoder)
 *   cond        conductor LSTM units per layer (hierarchical only)
 *   ctrlPre     control-preprocessing bi-LSTM units (0 = none)
 *   nadeHidden  NADE hidden size H (NADE only)
 *   bench       only for benchmarks, not in the test matrix
 */
const ARCHS = {
  mel_flat: { converter: mel(32), inDepth: 90, outDims: [90], enc: [64], z: 32, dec: [64, 64] },
  mel_3layer: { converter: mel(32), inDepth: 90, outDims: [90], enc: [48], z: 24, dec: [48, 48, 48] },
  mel_hier: {
    converter: mel(64, { numSegments: 4 }), inDepth: 90, outDims: [90],
    enc: [48, 32], z: 32, cond: [48, 48], dec: [48, 48],
  },
  drums_flat: {
    converter: { type: 'DrumsConverter', args: { numSteps: 32 } }, inDepth: 10, outDims: [512],
    enc: [48], z: 32, dec: [64, 64],
  },
  drums_hier: {
    converter: { type: 'DrumsConverter', args: { numSteps: 64, numSegments: 4 } }, inDepth: 10, outDims: [512],
    enc: [48, 32], z: 32, cond: [48], dec: [64],
  },
  drums_nade: {
    converter: { type: 'DrumRollConverter', args: { numSteps: 32 } }, inDepth: 10, outDims: [9],
    enc: [48], z: 24, dec: [64, 64], nadeHidden: 32,
  },
  drums_bool: {
    converter: { type: 'DrumRollConverter', args: { numSteps: 32 } }, spec: { useBooleanDecoder: true },
    inDepth: 10, outDims: [9], enc: [48], z: 24, dec: [48, 48],
  },
  trio_flat: {
    converter: { type: 'TrioConverter', args: TRIO_ARGS(32) }, inDepth: 692, outDims: [90, 90, 512],
    enc: [64], z: 32, dec: [48, 48],
  },
  trio_hier: {
    converter: { type: 'TrioConverter', args: TRIO_ARGS(64, 4) }, inDepth: 692, outDims: [90, 90, 512],
    enc: [48, 32], z: 32, cond: [48, 48], dec: [48],
  },
  groove: {
    converter: { type: 'GrooveConverter', args: { numSteps: 32, humanize: false, tapify: false } },
    inDepth: 27, outDims: [27], enc: [48], z: 32, dec: [64, 64],
  },
  // 4-bar flat models (GrooVAE's groovae_4bar shape family; musicvae train writes these converters)
  groove_4bar: {
    converter: { type: 'GrooveConverter', args: { numSteps: 64, humanize: false, tapify: false } },
    inDepth: 27, outDims: [27], enc: [48], z: 32, dec: [48, 48],
  },
  drums_4bar: {
    converter: { type: 'DrumsConverter', args: { numSteps: 64 } }, inDepth: 10, outDims: [512],
    enc: [48], z: 32, dec: [48, 48],
  },
  mel_chords_mm: {
    converter: mel(32), spec: { chordEncoder: 'MajorMinorChordEncoder' }, inDepth: 90, outDims: [90],
    enc: [48], z: 24, dec: [48, 48],
  },
  mel_chords_triad: {
    converter: mel(32), spec: { chordEncoder: 'TriadChordEncoder', conditionOnKey: true }, inDepth: 90,
    outDims: [90], enc: [48], z: 24, dec: [48, 48],
  },
  mel_chords_pitch: {
    converter: mel(32), spec: { chordEncoder: 'PitchChordEncoder' }, inDepth: 90, outDims: [90],
    enc: [48], z: 24, dec: [48, 48],
  },
  mel_ctrl_pre: {
    converter: mel(32), spec: { chordEncoder: 'MajorMinorChordEncoder' }, inDepth: 90, outDims: [90],
    enc: [48], z: 24, dec: [48, 48], ctrlPre: 24,
  },
  mel_hier_ctrl: {
    converter: mel(64, { numSegments: 4 }), spec: { chordEncoder: 'PitchChordEncoder' }, inDepth: 90,
    outDims: [90], enc: [48, 32], z: 32, cond: [48], dec: [48], ctrlPre: 24,
  },
  mel_extra: {
    converter: mel(32),
    spec: { extraControls: [{ name: 'rhythm', depth: 1 }, { name: 'shape', depth: 3 }] },
    inDepth: 90, outDims: [90], enc: [48], z: 24, dec: [48, 48],
  },
  mel_rhythm: {
    converter: { type: 'MelodyRhythmConverter', args: { numSteps: 32, ...MEL_RANGE } },
    spec: { useBooleanDecoder: true }, inDepth: 1, outDims: [1], enc: [48], z: 16, dec: [48, 48],
  },
  mel_shape: {
    converter: { type: 'MelodyShapeConverter', args: { numSteps: 32, ...MEL_RANGE } },
    inDepth: 3, outDims: [3], enc: [48], z: 16, dec: [48, 48],
  },
  trio_rhythm: {
    converter: { type: 'TrioRhythmConverter', args: TRIO_ARGS(32) }, spec: { useBooleanDecoder: true },
    inDepth: 3, outDims: [1, 1, 1], enc: [48], z: 16, dec: [48],
  },
  // Benchmark-only: dimensions of the hosted cat-mel_2bar_big / mel_2bar_small.
  mel_2bar_big: { converter: mel(32), inDepth: 90, outDims: [90], enc: [2048], z: 512, dec: [2048, 2048, 2048], bench: true },
  mel_2bar_small: { converter: mel(32), inDepth: 90, outDims: [90], enc: [512], z: 256, dec: [256, 256], bench: true },
};

/** Names of the test-matrix architectures (bench-only ones excluded unless all). */
function archNames(all = false) {
  return Object.keys(ARCHS).filter((n) => all || !ARCHS[n].bench);
}

/** Look up an architecture or throw. */
function getArch(name) {
  const a = ARCHS[name];
  if (!a) throw new Error(`unknown arch '${name}' (try --list)`);
  return { name, spec: {}, ctrlPre: 0, ...a };
}

/** config.json contents for an architecture. */
function configOf(arch) {
  return { type: 'MusicVAE', dataConverter: structuredClone(arch.converter), ...structuredClone(arch.spec) };
}

/** Width of the control tensor (chords | key | extra controls), 0 if none. */
function ctrlDepth(arch) {
  let d = 0;
  if (arch.spec.chordEncoder) d += CHORD_DEPTH[arch.spec.chordEncoder];
  if (arch.spec.conditionOnKey) d += 12;
  for (const c of arch.spec.extraControls || []) d += c.depth;
  return d;
}

/** Number of split (core) decoders: 3 for Trio converters. */
function numSplits(arch) {
  return /^Trio/.test(arch.converter.type) ? 3 : 1;
}

/** Decoder variable prefixes, in the order magenta.js builds them. */
function decoderPrefixes(arch) {
  const hier = arch.converter.args.numSegments ? 'core_decoder/' : '';
  const n = numSplits(arch);
  if (n === 1) return [`${hier}decoder/`];
  return Array.from({ length: n }, (_, i) => `${hier}core_decoder_${i}/decoder/`);
}

/** Decoder kind of the base decoders (same rules as model.js). */
function decoderKind(arch) {
  if (arch.nadeHidden) return 'nade';
  if (arch.converter.type === 'GrooveConverter') return 'groove';
  if (arch.spec.useBooleanDecoder) return 'boolean';
  return 'categorical';
}

/**
 * Every variable of the checkpoint as {name, shape, role}; role tells the
 * generator which initialisation scale to use (kernel / bias).
 */
function variables(arch) {
  const vars = [];
  const dense = (prefix, inDim, outDim, recRows = 0) => {
    vars.push({ name: `${prefix}kernel`, shape: [inDim, outDim], fanIn: inDim, recRows });
    vars.push({ name: `${prefix}bias`, shape: [outDim], fanIn: 0 });
  };
  // LSTM kernel rows: [data (inDim) | h (units)]; recRows marks the h rows.
  const lstm = (prefix, inDim, units) => dense(prefix, inDim + units, 4 * units, units);
  const bidi = (prefix, inDim, units) => {
    for (const dir of ['fw', 'bw']) {
      lstm(`${prefix}cell_0/bidirectional_rnn/${dir}/multi_rnn_cell/cell_0/lstm_cell/`, inDim, units);
    }
  };
  const cd = ctrlDepth(arch);
  const hier = !!arch.converter.args.numSegments;

  // Encoder: its input rows are [converter row | controls].
  let encOut;
  if (hier) {
    const [u0, u1] = arch.enc;
    bidi('encoder/hierarchical_level_0/', arch.inDepth + cd, u0);
    bidi('encoder/hierarchical_level_1/', 2 * u0, u1);
    encOut = 2 * u1;
  } else {
    bidi('encoder/', arch.inDepth + cd, arch.enc[0]);
    encOut = 2 * arch.enc[0];
  }
  dense('encoder/mu/', encOut, arch.z);
  dense('encoder/sigma/', encOut, arch.z); // present in real checkpoints, never read

  // Control preprocessing bi-LSTM (decoder side only).
  if (arch.ctrlPre) bidi('control_preprocessing/', cd, arch.ctrlPre);
  const decCtrl = arch.ctrlPre ? 2 * arch.ctrlPre : cd;

  // Conductor.
  let embed = arch.z;
  if (hier) {
    const cu = arch.cond;
    cu.forEach((u, l) => lstm(`decoder/hierarchical_level_0/cell_${l}/lstm_cell/`, l === 0 ? 1 : cu[l - 1], u));
    dense('decoder/hierarchical_level_0/initial_state/', arch.z, 2 * cu.reduce((a, b) => a + b, 0));
    embed = cu[cu.length - 1];
  }

  // Base decoders: input = [previous output | z or conductor embedding | controls].
  decoderPrefixes(arch).forEach((p, k) => {
    const out = arch.outDims[k];
    arch.dec.forEach((u, l) => {
      lstm(`${p}multi_rnn_cell/cell_${l}/lstm_cell/`, l === 0 ? out + embed + decCtrl : arch.dec[l - 1], u);
    });
    dense(`${p}z_to_initial_state/`, embed, 2 * arch.dec.reduce((a, b) => a + b, 0));
    const top = arch.dec[arch.dec.length - 1];
    if (arch.nadeHidden) {
      const H = arch.nadeHidden;
      dense(`${p}output_projection/`, top, H + out);
      vars.push({ name: `${p}nade/w_enc`, shape: [out, 1, H], fanIn: H });
      vars.push({ name: `${p}nade/w_dec_t`, shape: [out, H, 1], fanIn: H });
    } else {
      dense(`${p}output_projection/`, top, out);
    }
  });
  return vars;
}

module.exports = {
  ARCHS, CHORD_DEPTH, archNames, getArch, configOf, ctrlDepth, numSplits, decoderPrefixes, decoderKind, variables,
};
