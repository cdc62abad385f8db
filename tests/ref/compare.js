#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Compare our outputs against a magenta.js reference (both in ref_run.js's
// OUT.json format) and print TAP. Exit status 1 if any test fails.
//
//   node compare.js REF.json OURS.json [--z-tol 1e-4] [--z-floor 1e-3] [--z-scale component|norm]
//                   [--float-tol 1e-4]
//
// encode z: per component |a-b| <= z-tol*max(|ref|, z-floor) (--z-scale component, the default), or
// relative to the vector's largest component, |a-b| <= z-tol*max_j|ref_j| (--z-scale norm: the
// infinity-norm relative error, for sums taken in another order than tfjs's).
// interpolate_z (when both files have it): |a-b| <= z-tol*max(|z0_k|, |z1_k|, z-floor).
// decode / interpolate rows: columns of kind 'onehot' and 'binary' (from
// REF meta.columns) must be equal exactly; 'float' columns (groove
// velocities/offsets) within |a-b| <= float-tol.
// input_tensors / controls_tensor are compared (|a-b| <= 1e-6) only when OURS
// has them too.
'use strict';

const fs = require('node:fs');
const { parseArgs, die } = require('./lib/common');

const USAGE = 'usage: compare.js REF.json OURS.json [--z-tol T] [--z-floor F] [--z-scale component|norm] ' +
  '[--float-tol T]';

/** Per-component scales: the reference itself, or each vector's largest magnitude. */
function zScale(z, how) {
  if (how !== 'norm') return z;
  return z.map((v) => { const m = Math.max(...v.map(Math.abs)); return v.map(() => m); });
}

class Tap {
  constructor() {
    this.n = 0;
    this.failed = 0;
    this.lines = [];
  }

  ok(pass, name, details = []) {
    this.n++;
    if (!pass) this.failed++;
    const d = details.length && !pass ? ` # ${details[0]}` : '';
    this.lines.push(`${pass ? 'ok' : 'not ok'} ${this.n} - ${name}${d}`);
    for (const x of details.slice(pass ? 0 : 1)) this.lines.push(`# ${x}`);
  }

  diag(msg) {
    this.lines.push(`# ${msg}`);
  }

  print() {
    process.stdout.write(`1..${this.n}\n${this.lines.join('\n')}\n`);
  }
}

const fmt = (x) => (Number.isFinite(x) ? x.toExponential(3) : String(x));

/**
 * Compare two lists of z vectors; returns [pass, detail lines, stats].
 * Component k of vector i passes if |a-b| <= tol*max(|scale[i][k]|, floor);
 * scale defaults to the reference value itself.
 */
function compareZ(ref, ours, tol, floor, scale = ref) {
  let maxRel = 0;
  let maxAbs = 0;
  let worst = null;
  if (!Array.isArray(ours) || ours.length !== ref.length) {
    return [false, [`expected ${ref.length} vectors, got ${Array.isArray(ours) ? ours.length : typeof ours}`], null];
  }
  for (let i = 0; i < ref.length; i++) {
    if (!Array.isArray(ours[i]) || ours[i].length !== ref[i].length) {
      return [false, [`vector ${i}: expected ${ref[i].length} components, got ${ours[i] && ours[i].length}`], null];
    }
    for (let k = 0; k < ref[i].length; k++) {
      const b = ref[i][k];
      const a = ours[i][k];
      const abs = Math.abs(a - b);
      const rel = abs / Math.max(Math.abs(scale[i][k]), floor);
      if (!(rel <= maxRel)) {
        maxRel = Number.isNaN(rel) ? Infinity : rel;
        worst = { i, k, a, b };
      }
      if (abs > maxAbs) maxAbs = abs;
    }
  }
  const pass = maxRel <= tol;
  const details = [`max rel err ${fmt(maxRel)}, max abs err ${fmt(maxAbs)}` +
    (worst ? ` (worst: vector ${worst.i} component ${worst.k}: ours ${worst.a} ref ${worst.b})` : '')];
  return [pass, details, { maxRel, maxAbs }];
}

/** Index of the max (first on ties) within row[off, off+w). */
function argmax(row, off, w) {
  let best = 0;
  for (let j = 1; j < w; j++) if (row[off + j] > row[off + best]) best = j;
  return best;
}

/** Columns of a row set to 1 (>0.5) within a layout entry. */
function onCols(row, c) {
  const on = [];
  for (let j = 0; j < c.width; j++) if (row[c.offset + j] > 0.5) on.push(j);
  return on;
}

/**
 * Compare one output tensor [T][D] against the reference using the column
 * layout. Returns detail lines describing the first mismatching steps.
 */
function compareRows(ref, ours, layout, floatTol) {
  if (!Array.isArray(ours) || ours.length !== ref.length) {
    return [`expected ${ref.length} steps, got ${Array.isArray(ours) ? ours.length : typeof ours}`];
  }
  const problems = [];
  let maxFloatErr = 0;
  for (let t = 0; t < ref.length; t++) {
    if (!Array.isArray(ours[t]) || ours[t].length !== ref[t].length) {
      return [`step ${t}: expected ${ref[t].length} columns, got ${ours[t] && ours[t].length}`];
    }
    layout.forEach((c, ci) => {
      const label = layout.length > 1 ? `split ${ci} (${c.part || c.decoder}) ` : '';
      if (c.kind === 'float') {
        for (let j = 0; j < c.width; j++) {
          const e = Math.abs(ours[t][c.offset + j] - ref[t][c.offset + j]);
          if (!(e <= maxFloatErr)) maxFloatErr = Number.isNaN(e) ? Infinity : e;
          if (!(e <= floatTol)) {
            problems.push(`step ${t} ${label}col ${j}: ours ${ours[t][c.offset + j]} ref ${ref[t][c.offset + j]}`);
          }
        }
        return;
      }
      let same = true;
      for (let j = 0; j < c.width; j++) if (ours[t][c.offset + j] !== ref[t][c.offset + j]) same = false;
      if (same) return;
      if (c.kind === 'onehot') {
        problems.push(`step ${t} ${label}token: ours ${argmax(ours[t], c.offset, c.width)} ` +
          `ref ${argmax(ref[t], c.offset, c.width)}`);
      } else {
        problems.push(`step ${t} ${label}columns on: ours [${onCols(ours[t], c)}] ref [${onCols(ref[t], c)}]`);
      }
    });
  }
  if (problems.length > 6) problems.splice(6, problems.length - 6, `... ${problems.length - 6} more`);
  if (layout.some((c) => c.kind === 'float')) problems.maxFloatErr = maxFloatErr;
  return problems;
}

/** Element-wise compare of nested numeric arrays; returns first mismatch or null. */
function firstMismatch(a, b, tol, where = []) {
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) return `${where.join(',') || 'top'}: shape differs`;
    for (let i = 0; i < b.length; i++) {
      const m = firstMismatch(a[i], b[i], tol, [...where, i]);
      if (m) return m;
    }
    return null;
  }
  return Math.abs(a - b) <= tol ? null : `[${where.join(',')}]: ours ${a} ref ${b}`;
}

function main() {
  const { opts, rest } = parseArgs(process.argv.slice(2));
  if (rest.length !== 2) die(USAGE);
  const zTol = Number(opts['z-tol'] ?? 1e-4);
  const floatTol = Number(opts['float-tol'] ?? 1e-4);
  const zFloor = Number(opts['z-floor'] ?? 1e-3);
  const zHow = opts['z-scale'] ?? 'component';
  if (zHow !== 'component' && zHow !== 'norm') die(USAGE);
  const ref = JSON.parse(fs.readFileSync(rest[0], 'utf8'));
  let ours;
  const tap = new Tap();
  try {
    ours = JSON.parse(fs.readFileSync(rest[1], 'utf8'));
  } catch (e) {
    tap.ok(false, `read ${rest[1]}`, [String(e.message || e)]);
    tap.print();
    process.exit(1);
  }
  const layout = ref.meta.columns;

  // z per input.
  ref.z.forEach((zr, i) => {
    const [pass, details] = compareZ([zr], ours.z ? [ours.z[i]] : undefined, zTol, zFloor, zScale([zr], zHow));
    tap.ok(pass, `encode z[${i}]`, pass ? [] : details);
  });
  const [, zDetails] = compareZ(ref.z, ours.z, zTol, zFloor, zScale(ref.z, zHow));
  tap.diag(`z ${zDetails[0]} (${zHow}-relative)`);

  // decode rows per z.
  (ref.decode || []).forEach((rows, j) => {
    const problems = compareRows(rows, ours.decode && ours.decode[j], layout, floatTol);
    const extra = problems.maxFloatErr !== undefined ? [`max float err ${fmt(problems.maxFloatErr)}`] : [];
    tap.ok(problems.length === 0, `decode z ${j}`, [...problems, ...extra]);
  });

  // interpolation: z_i when provided, then rows per point.
  // z_i = r_i*(z1-z0)+z0 inherits the encoder's error in z0 and z1, so its
  // components are judged relative to max(|z0_k|, |z1_k|), not to |z_i,k|.
  if (ref.interpolate_z && ours.interpolate_z && ref.z.length >= 2) {
    const s = ref.z[0].map((v, k) => Math.max(Math.abs(v), Math.abs(ref.z[1][k])));
    const [pass, details] = compareZ(ref.interpolate_z, ours.interpolate_z, zTol, zFloor,
      ref.interpolate_z.map(() => s));
    tap.ok(pass, 'interpolate z', details);
  }
  (ref.interpolate || []).forEach((rows, j) => {
    const problems = compareRows(rows, ours.interpolate && ours.interpolate[j], layout, floatTol);
    tap.ok(problems.length === 0, `interpolate point ${j}`, problems);
  });

  // Optional debug tensors.
  if (ref.input_tensors && ours.input_tensors) {
    ref.input_tensors.forEach((t, i) => {
      const m = firstMismatch(ours.input_tensors[i], t, 1e-6);
      tap.ok(!m, `input tensor ${i}`, m ? [m] : []);
    });
  }
  if (ref.controls_tensor && ours.controls_tensor) {
    const m = firstMismatch(ours.controls_tensor, ref.controls_tensor, 1e-6);
    tap.ok(!m, 'controls tensor', m ? [m] : []);
  }
  tap.print();
  process.exitCode = tap.failed ? 1 : 0;
}

main();
