#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Self-check of the reference tooling: for every architecture and dtype,
// gen_ckpt + gen_case + ref_run (one process each, timed), then check that
// outputs have the right shapes and are not degenerate, and that compare.js
// accepts a reference against itself. Optionally cross-checks the wasm
// backend (a float-accumulating implementation, like BLAS) against cpu.
//
//   node selfcheck.js [--work DIR] [--archs a,b] [--dtypes float32,uint8,...] [--seed N] [--wasm]
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('./lib/common');
const { archNames } = require('./lib/archs');
const { toHalf } = require('./gen_ckpt');

const here = __dirname;
const node = (script, args) => spawnSync(process.execPath, [path.join(here, script), ...args], { encoding: 'utf8' });

/** Exact binary16 -> number, for checking toHalf. */
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** toHalf must pick the nearest half (ties to even) for float32 inputs. */
function checkHalf() {
  let bad = 0;
  const vals = [0, -0, 1, -1, 65504, 65519.99, 65520, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9, 0.3, 1 / 3];
  let x = 12345;
  for (let i = 0; i < 200000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    vals.push((x / 2 ** 32 - 0.5) * 2 ** ((i % 40) - 30));
  }
  for (const v0 of vals) {
    const v = Math.fround(v0);
    const h = toHalf(v);
    const got = fromHalf(h);
    // Nearest-even by brute force over the neighbours of h.
    let best = null;
    for (const c of [h - 1, h, h + 1].filter((c) => c >= 0 && (c & 0x7fff) <= 0x7c00 && (c & 0x8000) === (h & 0x8000))) {
      const d = Math.abs(fromHalf(c) - v);
      if (best === null || d < best.d || (d === best.d && (c & 1) === 0)) best = { c, d };
    }
    if (Math.abs(v) >= 65520) {
      if (Math.abs(got) !== Infinity) bad++;
    } else if (best.c !== h) {
      bad++;
    }
  }
  return bad;
}

function main() {
  const { opts } = parseArgs(process.argv.slice(2), new Set(['wasm']));
  const work = opts.work || fs.mkdtempSync(path.join(os.tmpdir(), 'mvae-ref-'));
  const archs = opts.archs ? opts.archs.split(',') : archNames();
  const dtypes = (opts.dtypes || 'float32,uint8,uint16,float16').split(',');
  const seed = opts.seed || '1';
  let failures = 0;
  const fail = (msg) => {
    failures++;
    process.stdout.write(`FAIL ${msg}\n`);
  };

  const badHalf = checkHalf();
  if (badHalf) fail(`toHalf: ${badHalf} wrong roundings`);
  else process.stdout.write('toHalf: ok (200k values)\n');

  const times = {};
  const t0 = Date.now();
  for (const dtype of dtypes) {
    for (const arch of archs) {
      const ckpt = path.join(work, dtype, arch);
      const kase = path.join(work, dtype, 'cases', `${arch}.json`);
      const out = path.join(work, dtype, 'out', `${arch}.json`);
      let r = node('gen_ckpt.js', ['--arch', arch, '--dtype', dtype, '--seed', seed, '--out', ckpt]);
      if (r.status) { fail(`${arch}/${dtype} gen_ckpt: ${r.stderr}`); continue; }
      r = node('gen_case.js', ['--arch', arch, '--seed', seed, '--ckpt', ckpt, '--out', kase]);
      if (r.status) { fail(`${arch}/${dtype} gen_case: ${r.stderr}`); continue; }
      const t = Date.now();
      r = node('ref_run.js', [kase, out]);
      const ms = Date.now() - t;
      (times[arch] ||= {})[dtype] = ms;
      if (r.status) { fail(`${arch}/${dtype} ref_run: ${r.stderr}`); continue; }

      const o = JSON.parse(fs.readFileSync(out, 'utf8'));
      const c = JSON.parse(fs.readFileSync(kase, 'utf8'));
      const { numSteps, outputDepth, zDims } = o.meta;
      const shapeOk = (t, n) => t.length === n && t.every((rows) => rows.length === numSteps &&
        rows.every((row) => row.length === outputDepth && row.every(Number.isFinite)));
      if (o.z.length !== c.inputs.length || o.z.some((z) => z.length !== zDims || !z.every(Number.isFinite))) {
        fail(`${arch}/${dtype}: z shape`);
      }
      if (!shapeOk(o.decode, c.z.length) || !shapeOk(o.interpolate, c.interpolate)) fail(`${arch}/${dtype}: output shape`);
      // Non-degenerate: every decoded sequence changes at least once, z differ
      // between inputs, interpolation endpoints differ.
      const constant = o.meta.change_rate.filter((x) => x === 0).length;
      if (constant) fail(`${arch}/${dtype}: ${constant} decoded sequence(s) constant over time`);
      if (JSON.stringify(o.z[0]) === JSON.stringify(o.z[1])) fail(`${arch}/${dtype}: z[0] == z[1]`);
      if (JSON.stringify(o.interpolate[0]) === JSON.stringify(o.interpolate[c.interpolate - 1])) {
        fail(`${arch}/${dtype}: interpolation endpoints decode identically`);
      }
      r = node('compare.js', [out, out]);
      if (r.status) fail(`${arch}/${dtype}: compare.js self-compare failed\n${r.stdout}`);

      if (opts.wasm) {
        const wout = path.join(work, dtype, 'wasm', `${arch}.json`);
        r = node('ref_run.js', [kase, wout, '--backend', 'wasm']);
        if (r.status) { fail(`${arch}/${dtype} ref_run wasm: ${r.stderr}`); continue; }
        r = node('compare.js', [out, wout]);
        const zline = (r.stdout.match(/^# z max rel err .*$/m) || [''])[0].replace(/ \(worst.*/, '');
        const bad = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
        process.stdout.write(`wasm vs cpu ${arch}/${dtype}: ${bad.length ? bad.length + ' not ok' : 'all ok'} ${zline}\n`);
        bad.forEach((l) => process.stdout.write(`    ${l}\n`));
      }
    }
  }

  process.stdout.write(`\nref_run wall time per arch (ms, one node process each; ${dtypes.join(' / ')}):\n`);
  for (const [arch, t] of Object.entries(times)) {
    process.stdout.write(`  ${arch.padEnd(18)} ${dtypes.map((d) => String(t[d] ?? '-').padStart(6)).join(' ')}\n`);
  }
  process.stdout.write(`total ${((Date.now() - t0) / 1000).toFixed(1)} s, work dir ${work}\n`);
  process.stdout.write(failures ? `${failures} FAILURES\n` : 'selfcheck: all ok\n');
  process.exitCode = failures ? 1 : 0;
}

main();
