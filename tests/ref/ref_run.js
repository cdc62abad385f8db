#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Run magenta.js MusicVAE (@magenta/music 1.23.1, tfjs 2.8.6) on a test case
// and write the reference outputs: encode() z, raw decoder output tensors for
// the given z (temperature undefined = argmax / thresholds) and for the
// linear interpolation between inputs[0] and inputs[1].
//
//   node ref_run.js CASE.json OUT.json [CASE2.json OUT2.json ...] [--backend cpu|wasm]
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs, die, loadTf, loadModel } = require('./lib/common');

const USAGE = 'usage: ref_run.js CASE.json OUT.json [CASE.json OUT.json ...] [--backend cpu|wasm]';

// Protobuf defaults for note fields a case may omit. startTime/endTime stay
// undefined when absent: GrooveConverter then uses offset 0 (a protobuf
// Note object would report 0.0 instead and give a huge offset).
const NOTE_DEFAULTS = {
  pitch: 0, velocity: 0, program: 0, isDrum: false, instrument: 0, quantizedStartStep: 0, quantizedEndStep: 0,
};

/** Deep copy of a case NoteSequence with defaults filled (converters sort notes in place). */
function toNoteSequence(ns) {
  const copy = structuredClone(ns);
  copy.notes = (copy.notes || []).map((n) => ({ ...NOTE_DEFAULTS, ...n }));
  return copy;
}

/** Case "controls" -> magenta controlArgs (extra controls become [T, depth] tensors). */
function toControlArgs(tf, controls) {
  if (!controls) return undefined;
  const args = {};
  if (controls.chordProgression) args.chordProgression = [...controls.chordProgression];
  if (controls.key != null) args.key = controls.key;
  if (controls.extraControls) {
    args.extraControls = {};
    for (const [name, rows] of Object.entries(controls.extraControls)) {
      args.extraControls[name] = tf.tensor2d(rows, undefined, 'float32');
    }
  }
  return args;
}

/**
 * Output column layout: one entry per base decoder, in output order.
 * kind: 'onehot' (categorical), 'binary' (boolean / NADE multi-hot, groove
 * hits) or 'float' (groove velocities and offsets).
 */
function columnLayout(model) {
  const dec = model.decoder;
  const bases = dec.splitDecoder ? dec.splitDecoder.coreDecoders : dec.coreDecoders || [dec];
  const layout = [];
  let offset = 0;
  for (const b of bases) {
    const w = b.outputDims;
    if (b.nade) {
      layout.push({ offset, width: w, kind: 'binary', decoder: 'nade' });
    } else if (model.spec.dataConverter.type === 'GrooveConverter') {
      const n = w / 3;
      layout.push({ offset, width: n, kind: 'binary', decoder: 'groove', part: 'hits' });
      layout.push({ offset: offset + n, width: n, kind: 'float', decoder: 'groove', part: 'velocities' });
      layout.push({ offset: offset + 2 * n, width: n, kind: 'float', decoder: 'groove', part: 'offsets' });
    } else if (model.spec.useBooleanDecoder) {
      layout.push({ offset, width: w, kind: 'binary', decoder: 'boolean' });
    } else {
      layout.push({ offset, width: w, kind: 'onehot', decoder: 'categorical' });
    }
    offset += w;
  }
  return layout;
}

/** Argmax token per step per one-hot split (for the meta summary). */
function tokens(rows, layout) {
  return rows.map((row) => layout.filter((c) => c.kind === 'onehot').map((c) => {
    let best = 0;
    for (let j = 1; j < c.width; j++) if (row[c.offset + j] > row[c.offset + best]) best = j;
    return best;
  }));
}

/** Fraction of steps whose output row differs from the previous step's. */
function changeRate(rows) {
  let n = 0;
  for (let t = 1; t < rows.length; t++) if (rows[t].join() !== rows[t - 1].join()) n++;
  return rows.length > 1 ? n / (rows.length - 1) : 0;
}

async function runCase(tf, mvae, models, casePath, outPath, backend) {
  const kase = JSON.parse(fs.readFileSync(casePath, 'utf8'));
  const modelDir = path.resolve(path.dirname(casePath), kase.model);
  if (!models.has(modelDir)) models.set(modelDir, await loadModel(mvae, modelDir));
  const { model } = models.get(modelDir);
  const timing = {};
  let t0 = performance.now();
  const lap = (k) => { const t = performance.now(); timing[k] = +(t - t0).toFixed(2); t0 = t; };

  const inputs = kase.inputs.map(toNoteSequence);
  const ctrl = toControlArgs(tf, kase.controls);
  const out = {};

  // encode(): z = mu of the encoder, batch of all inputs.
  const zT = await model.encode(inputs.map(toNoteSequence), ctrl);
  out.z = await zT.array();
  zT.dispose();
  lap('encode_ms');

  // decode(z, temperature undefined): the raw tensor decode() converts to NoteSequences.
  if (kase.z && kase.z.length) {
    const zIn = tf.tensor2d(kase.z, undefined, 'float32');
    const d = await model.decodeTensors(zIn, undefined, ctrl);
    out.decode = await d.array();
    d.dispose();
    zIn.dispose();
  } else {
    out.decode = [];
  }
  lap('decode_ms');

  // interpolate(inputs[0..1], N): encode both, z_i = r_i*(z1-z0)+z0, decode.
  const n = kase.interpolate | 0;
  if (n > 0) {
    if (inputs.length < 2) throw new Error(`${casePath}: interpolate needs 2 inputs`);
    const z01 = await model.encode(inputs.slice(0, 2).map(toNoteSequence), ctrl);
    const zi = tf.tidy(() => model.getInterpolatedZs(z01, n));
    const d = await model.decodeTensors(zi, undefined, ctrl);
    out.interpolate = await d.array();
    out.interpolate_z = await zi.array();
    [z01, zi, d].forEach((t) => t.dispose());
  } else {
    out.interpolate = [];
  }
  lap('interpolate_ms');

  // Debug aids for the C side: the converter tensors and the control tensor.
  out.input_tensors = await Promise.all(inputs.map(async (ns) => {
    const t = model.dataConverter.toTensor(toNoteSequence(ns));
    const a = await t.toFloat().array();
    t.dispose();
    return a;
  }));
  const ct = model.controlArgsToTensor(ctrl);
  out.controls_tensor = ct ? await ct.array() : null;
  if (ct) ct.dispose();
  if (ctrl && ctrl.extraControls) Object.values(ctrl.extraControls).forEach((t) => t.dispose());

  const layout = columnLayout(model);
  const conv = model.dataConverter;
  out.meta = {
    backend,
    magenta: '1.23.1',
    tfjs: tf.version_core,
    converter: model.spec.dataConverter.type,
    zDims: model.zDims,
    numSteps: conv.numSteps,
    numSegments: conv.numSegments || 0,
    inputDepth: out.input_tensors[0] ? out.input_tensors[0][0].length : 0,
    controlDepth: out.controls_tensor ? out.controls_tensor[0].length : 0,
    outputDepth: model.decoder.outputDims,
    columns: layout,
    decode_tokens: out.decode.map((rows) => tokens(rows, layout)),
    change_rate: out.decode.map(changeRate),
    timing,
  };
  fs.mkdirSync(path.dirname(path.resolve(outPath)), { recursive: true });
  fs.writeFileSync(outPath, JSON.stringify(out) + '\n');
  return out;
}

async function main() {
  const { opts, rest } = parseArgs(process.argv.slice(2));
  const backend = opts.backend || 'cpu';
  if (!['cpu', 'wasm'].includes(backend)) die(`bad --backend ${backend}`);
  if (rest.length < 2 || rest.length % 2) die(USAGE);
  const { tf, mvae } = await loadTf(backend);
  const models = new Map();
  let status = 0;
  for (let i = 0; i < rest.length; i += 2) {
    const t = performance.now();
    try {
      await runCase(tf, mvae, models, rest[i], rest[i + 1], backend);
      process.stderr.write(`ref_run: ${rest[i]} -> ${rest[i + 1]} (${(performance.now() - t).toFixed(0)} ms)\n`);
    } catch (e) {
      process.stderr.write(`ref_run: ${rest[i]}: ${e.stack || e}\n`);
      status = 1;
    }
  }
  for (const m of models.values()) {
    m.model.dispose();
    await m.close();
  }
  process.exitCode = status;
}

main();
