#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Write a random-weight magenta.js MusicVAE checkpoint directory:
// config.json, weights_manifest.json and shards group1-shard<i>of<N>.
//
//   node gen_ckpt.js --arch NAME --dtype float32|uint8|uint16|float16 --seed N --out DIR
//                    [--shard-bytes N] [--gain G] [--rec-gain G]
//   node gen_ckpt.js --list [--all]      (--all adds the benchmark-only archs)
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs, die, Rng } = require('./lib/common');
const archs = require('./lib/archs');

const USAGE = 'usage: gen_ckpt.js --arch NAME --dtype float32|uint8|uint16|float16 --seed N --out DIR ' +
  '[--shard-bytes N] [--gain G] [--rec-gain G] | --list [--all]';

// Kernel entries are uniform in ±GAIN/sqrt(fan-in), biases in ±BIAS_RANGE.
// GAIN 2 keeps LSTM pre-activations at std ~0.5-1 for our input mixes (one-hot
// rows + N(0,1) z + |h|<1): gates neither saturate nor die. Decoder LSTMs
// use REC_GAIN/sqrt(units) on their recurrent (h) rows: with 2 the decoders
// settle into a fixed point after a few steps (argmax constant); with 6 the
// argmax changes every ~3 steps while tokens stay stable under 1e-5 relative
// perturbations of z (selfcheck.js --wasm checks tokens against tfjs-wasm).
const DEFAULT_GAIN = 2.0;
const DEFAULT_REC_GAIN = 6.0;
// encoder/mu (and sigma) get a larger gain so encoded z are not squeezed
// near 0 (rms ~0.3-1 instead of ~0.1).
const MU_GAIN = 8.0;
const BIAS_RANGE = 0.1;

/** Random float32 values for one variable. */
function randomTensor(rng, v, gain, recGain) {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const g = /^encoder\/(mu|sigma)\/kernel$/.test(v.name) ? MU_GAIN : gain;
  const r = v.fanIn ? g / Math.sqrt(v.fanIn) : BIAS_RANGE;
  // LSTM recurrent rows (the last recRows rows) get their own scale.
  const cols = v.shape[v.shape.length - 1];
  const recStart = v.recRows ? (v.shape[0] - v.recRows) * cols : n;
  // Encoder-side LSTMs keep the plain gain: a strongly recurrent encoder
  // amplifies rounding differences into z (seen as ~3e-5 z errors between
  // tfjs cpu and wasm); decoders need it so their argmax keeps moving.
  const encSide = /^(encoder|control_preprocessing)\//.test(v.name);
  const rr = v.recRows ? (encSide ? gain : recGain) / Math.sqrt(v.recRows) : r;
  for (let i = 0; i < n; i++) out[i] = (rng.u32() / 4294967296 * 2 - 1) * (i < recStart ? r : rr);
  return out;
}

/**
 * Per-tensor affine quantisation as tfjs-converter did for magenta's hosted
 * checkpoints: scale = (max-min)/(2^bits-1), q = round((v-min)/scale).
 * scale and min are stored as float32-representable numbers (the converter
 * wrote numpy float32s); tfjs dequantises as q*scale+min in double.
 */
function quantizeAffine(values, bits) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const qmax = 2 ** bits - 1;
  min = Math.fround(min);
  const scale = Math.fround((max - min) / qmax);
  const q = bits === 8 ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = scale > 0 ? Math.round((values[i] - min) / scale) : 0;
    q[i] = Math.min(qmax, Math.max(0, x));
  }
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype: bits === 8 ? 'uint8' : 'uint16', scale, min } };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE float32 -> binary16 bits, round to nearest even, with subnormals. */
function toHalf(value) {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++; // a carry may roll into the exponent: correct
  return sign | r;
}

/** Encode one tensor for the manifest dtype. */
function encodeTensor(values, dtype) {
  switch (dtype) {
    case 'float32':
      return { bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), quantization: null };
    case 'uint8':
      return quantizeAffine(values, 8);
    case 'uint16':
      return quantizeAffine(values, 16);
    case 'float16': {
      const h = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) h[i] = toHalf(values[i]);
      return { bytes: new Uint8Array(h.buffer), quantization: { dtype: 'float16' } };
    }
    default:
      throw new Error(`bad dtype ${dtype}`);
  }
}

/**
 * Streams bytes into fixed-size shard files; the final name needs the shard
 * count, so files are written as .tmp and renamed at the end.
 */
class ShardWriter {
  constructor(dir, shardBytes) {
    this.dir = dir;
    this.shardBytes = shardBytes;
    this.files = [];
    this.fd = -1;
    this.used = 0;
    this.total = 0;
  }

  write(bytes) {
    let off = 0;
    while (off < bytes.length) {
      if (this.fd < 0 || this.used === this.shardBytes) this.openNext();
      const n = Math.min(bytes.length - off, this.shardBytes - this.used);
      fs.writeSync(this.fd, bytes, off, n);
      off += n;
      this.used += n;
      this.total += n;
    }
  }

  openNext() {
    if (this.fd >= 0) fs.closeSync(this.fd);
    const tmp = path.join(this.dir, `.shard${this.files.length + 1}.tmp`);
    this.files.push(tmp);
    this.fd = fs.openSync(tmp, 'w');
    this.used = 0;
  }

  /** Close and rename; returns the manifest paths in order. */
  finish() {
    if (this.fd >= 0) fs.closeSync(this.fd);
    const n = this.files.length;
    return this.files.map((tmp, i) => {
      const name = `group1-shard${i + 1}of${n}`;
      fs.renameSync(tmp, path.join(this.dir, name));
      return name;
    });
  }
}

function main() {
  const { opts } = parseArgs(process.argv.slice(2), new Set(['list', 'all', 'help']));
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (opts.list) {
    process.stdout.write(archs.archNames(!!opts.all).join('\n') + '\n');
    return;
  }
  if (!opts.arch || !opts.out) die(USAGE);
  const dtype = opts.dtype || 'float32';
  if (!['float32', 'uint8', 'uint16', 'float16'].includes(dtype)) die(`bad --dtype ${dtype}`);
  const seed = Number(opts.seed ?? 1);
  const gain = Number(opts.gain ?? DEFAULT_GAIN);
  const recGain = Number(opts['rec-gain'] ?? DEFAULT_REC_GAIN);
  let arch;
  try {
    arch = archs.getArch(opts.arch);
  } catch (e) {
    die(e.message);
  }
  const vars = archs.variables(arch);
  const elemSize = dtype === 'float32' ? 4 : dtype === 'uint8' ? 1 : 2;
  const totalBytes = vars.reduce((s, v) => s + elemSize * v.shape.reduce((a, b) => a * b, 1), 0);
  // Default: a prime shard size so cuts fall inside tensors and at odd
  // offsets; 4 MiB (tfjs's default) for big benchmark checkpoints.
  const shardBytes = Number(opts['shard-bytes'] ?? (totalBytes > 64 << 20 ? 4 << 20 : 99991));
  if (!(shardBytes > 0)) die('bad --shard-bytes');

  fs.mkdirSync(opts.out, { recursive: true });
  for (const f of fs.readdirSync(opts.out)) {
    if (/^group\d+-shard\d+of\d+$/.test(f)) fs.unlinkSync(path.join(opts.out, f));
  }
  // Values depend on (seed, variable name) only; the manifest order is a
  // seeded shuffle (real manifests are in TF checkpoint-reader order, so
  // readers must look weights up by name).
  const order = new Rng(seed ^ 0x5eed).shuffle([...vars]);
  const writer = new ShardWriter(opts.out, shardBytes);
  const weights = [];
  for (const v of order) {
    let h = seed >>> 0;
    for (const ch of v.name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
    const values = randomTensor(new Rng(h), v, gain, recGain);
    const { bytes, quantization } = encodeTensor(values, dtype);
    writer.write(bytes);
    const w = { name: v.name, shape: v.shape, dtype: 'float32' };
    if (quantization) w.quantization = quantization;
    weights.push(w);
  }
  const paths = writer.finish();
  fs.writeFileSync(path.join(opts.out, 'weights_manifest.json'), JSON.stringify([{ paths, weights }]) + '\n');
  fs.writeFileSync(path.join(opts.out, 'config.json'), JSON.stringify(archs.configOf(arch), null, 1) + '\n');
  process.stderr.write(`${opts.arch}: ${vars.length} tensors, ${totalBytes} bytes in ${paths.length} shards ` +
    `(${dtype}) -> ${opts.out}\n`);
}

module.exports = { toHalf, quantizeAffine };
if (require.main === module) main();
