#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Time magenta.js MusicVAE (tfjs 2.8.6) on a checkpoint, as the baseline for
// bench/ numbers of musicvaed. Uses the packages installed in tests/ref
// (cd tests/ref && npm ci --ignore-scripts).
//
//   node bench/tfjs_bench.js --ckpt DIR [--backend cpu|wasm] [--reps N]
//
// Prints one JSON line: {backend, ckpt, zDims, numSteps, reps, load_ms,
// encode_ms (1 sequence), decode_ms (1 z, argmax), decode8_ms (8 z at once)},
// each a median over --reps runs after one warm-up run.
'use strict';

const path = require('node:path');
const { parseArgs, die, loadTf, loadModel, Rng, median } = require('../tests/ref/lib/common');

const USAGE = 'usage: tfjs_bench.js --ckpt DIR [--backend cpu|wasm] [--reps N]';

/** A quantized monophonic NoteSequence filling numSteps (one note per 2 steps). */
function melody(numSteps, rng) {
  const notes = [];
  for (let s = 0; s + 2 <= numSteps; s += 2) {
    notes.push({ pitch: rng.int(60, 72), velocity: 80, program: 0, isDrum: false, instrument: 0,
      quantizedStartStep: s, quantizedEndStep: s + 2 });
  }
  return { notes, quantizationInfo: { stepsPerQuarter: 4 }, tempos: [{ qpm: 120 }], totalQuantizedSteps: numSteps };
}

/** Median wall time (ms) of fn over reps runs after one warm-up run. */
async function time(fn, reps) {
  await fn();
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return +median(ts).toFixed(2);
}

async function main() {
  const { opts } = parseArgs(process.argv.slice(2));
  if (!opts.ckpt) die(USAGE);
  const backend = opts.backend || 'cpu';
  if (!['cpu', 'wasm'].includes(backend)) die(`bad --backend ${backend}`);
  const reps = Math.max(1, Number(opts.reps ?? 5));
  const { tf, mvae } = await loadTf(backend);

  let t = performance.now();
  const { model, close } = await loadModel(mvae, path.resolve(opts.ckpt));
  const loadMs = +(performance.now() - t).toFixed(1);
  const conv = model.dataConverter;
  if (!/^Melody/.test(model.spec.dataConverter.type)) {
    die('tfjs_bench.js expects a MelodyConverter checkpoint (e.g. gen_ckpt.js --arch mel_2bar_big)');
  }
  const rng = new Rng(1);
  const seq = melody(conv.numSteps, rng);
  const z1 = tf.tensor2d([Array.from({ length: model.zDims }, () => rng.normal())]);
  const z8 = tf.tensor2d(Array.from({ length: 8 }, () => Array.from({ length: model.zDims }, () => rng.normal())));

  // Each timed call reads the result back (await data()) so lazy work is included.
  const encodeMs = await time(async () => {
    const z = await model.encode([structuredClone(seq)]);
    await z.data();
    z.dispose();
  }, reps);
  const decodeOf = (z) => async () => {
    const out = await model.decodeTensors(z, undefined);
    const tokens = out.argMax(2);
    await tokens.data();
    tokens.dispose();
    out.dispose();
  };
  const decodeMs = await time(decodeOf(z1), reps);
  const decode8Ms = await time(decodeOf(z8), reps);

  process.stdout.write(JSON.stringify({
    backend, ckpt: opts.ckpt, zDims: model.zDims, numSteps: conv.numSteps, reps, load_ms: loadMs,
    encode_ms: encodeMs, decode_ms: decodeMs, decode8_ms: decode8Ms,
  }) + '\n');
  model.dispose();
  await close();
}

main().catch((e) => {
  process.stderr.write(`tfjs_bench: ${e.stack || e}\n`);
  process.exit(1);
});
