// SPDX-License-Identifier: GPL-3.0-or-later
// model-stats.js DATA.ds SAMPLES.json [LABEL]: note density (onsets per bar), pitch range per 2-bar window (melody),
// the share of empty bars (2-bar windows, or the dataset's length) and the off-beat share (onsets on odd 16th
// steps: off the 8th-note grid), for the validation windows of a dataset file (src/train/dataset.h's format) and
// for samples printed by `musicvae sample --json`. Used for the model cards in models/.
'use strict';
const fs = require('fs');

function stats(windows, nbars) {  // windows: [{ onsets: [[step, pitch]...] }]
  let bars = 0, empty = 0, onsets = 0, range = 0, ranged = 0, odd = 0;
  for (const w of windows) {
    odd += w.filter(([s]) => s % 2 === 1).length;
    for (let b = 0; b < nbars; b++) {
      const n = w.filter(([s]) => s >= 16 * b && s < 16 * (b + 1)).length;
      bars++; onsets += n; if (n === 0) empty++;
    }
    const p = w.map(([, q]) => q).filter((q) => q !== null);
    if (p.length) { range += Math.max(...p) - Math.min(...p); ranged++; }
  }
  return { n: windows.length, density: onsets / bars, range: ranged ? range / ranged : 0, empty: empty / bars,
    offbeat: onsets ? odd / onsets : 0 };
}

function readDataset(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 0, 8) !== 'MVAEDSET') throw new Error(`${path}: not a dataset file`);
  const kind = b.readUInt32LE(12), T = b.readUInt32LE(16), minPitch = b.readUInt32LE(24);
  const rec = b.readUInt32LE(28), count = Number(b.readBigUInt64LE(32));
  const out = [];
  for (let i = 0; i < count; i++) {
    const o = 64 + i * rec;
    if (b[o + 2 * T + 4] !== 1) continue;              // validation windows only
    const w = [];
    for (let t = 0; t < T; t++) {
      const tok = b.readUInt16LE(o + 2 * t);
      if (kind === 0 && tok >= 2) w.push([t, minPitch + tok - 2]);
      if (kind !== 0) for (let c = 0; c < 9; c++) if (tok & (1 << c)) w.push([t, null]);  // drums, groove
    }
    out.push(w);
  }
  return { kind, bars: T / 16, windows: out };
}

function readSamples(path) {
  // a groove's notes are not quantized: their step is the nearest to startTime
  return JSON.parse(fs.readFileSync(path, 'utf8')).map((ns) => {
    const perStep = ((ns.tempos && ns.tempos[0] && ns.tempos[0].qpm) || 120) / 15;
    return (ns.notes || []).map((n) => [n.quantizedStartStep !== undefined ? Number(n.quantizedStartStep) :
      Math.max(0, Math.round(Number(n.startTime || 0) * perStep)), n.isDrum ? null : n.pitch]);
  });
}

const [ds, samples, label = 'samples, temperature 0.5'] = process.argv.slice(2);
const d = readDataset(ds), a = stats(d.windows, d.bars), s = stats(readSamples(samples), d.bars);
const row = (name, x) => console.log(`| ${name} | ${x.n} | ${x.density.toFixed(2)} | ` +
  `${d.kind === 0 ? x.range.toFixed(1) : '-'} | ${(100 * x.empty).toFixed(1)} % | ${x.offbeat.toFixed(3)} |`);
console.log('| | windows | onsets per bar | pitch range (semitones) | empty bars | off-beat share |');
console.log('|---|---|---|---|---|---|');
row('validation data', a);
row(label, s);
