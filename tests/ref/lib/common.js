// SPDX-License-Identifier: GPL-3.0-or-later
// Shared helpers for the reference tooling: argv parsing, a seeded PRNG, a
// loopback HTTP server for checkpoints, and loading magenta.js quietly.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

/**
 * Parse `--key value` / `--flag` style arguments.
 * @param {string[]} argv  process.argv.slice(2)
 * @param {Set<string>} flags  names that take no value
 * @returns {{opts: Object<string,string|boolean>, rest: string[]}}
 */
function parseArgs(argv, flags = new Set()) {
  const opts = {};
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      opts[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (flags.has(a.slice(2))) {
      opts[a.slice(2)] = true;
    } else {
      if (i + 1 >= argv.length) die(`option ${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    }
  }
  return { opts, rest };
}

/** Print a message to stderr and exit with status 2 (usage / setup error). */
function die(msg) {
  process.stderr.write(`${path.basename(process.argv[1])}: ${msg}\n`);
  process.exit(2);
}

/**
 * Seeded PRNG (xoshiro128**, seeded through splitmix32) so every generated
 * file is a pure function of (arch, seed). Not Math.random: reproducible.
 */
class Rng {
  constructor(seed) {
    let x = (Number(seed) >>> 0) ^ 0x9e3779b9;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = Uint32Array.of(next(), next(), next(), next());
  }

  /** Next 32-bit unsigned integer. */
  u32() {
    const s = this.s;
    const rotl = (v, k) => ((v << k) | (v >>> (32 - k))) >>> 0;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform() {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo, hi) {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** Standard normal (Box-Muller). */
  normal() {
    let u = 0;
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** One element of an array. */
  pick(arr) {
    return arr[Math.floor(this.uniform() * arr.length)];
  }

  /** Bernoulli(p). */
  chance(p) {
    return this.uniform() < p;
  }

  /** In-place Fisher-Yates shuffle; returns arr. */
  shuffle(arr) {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [arr[i], arr[j]] = [arr[j], arr[i]];
    }
    return arr;
  }
}

/**
 * Serve `dir` read-only on 127.0.0.1 at a random port. magenta.js loads
 * checkpoints only through fetch(), which in Node means http(s) URLs.
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
function serveDir(dir) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.resolve(root, '.' + rel);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end();
        return;
      }
      const type = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': data.length });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        // closeAllConnections: node-fetch keeps sockets alive otherwise.
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

/**
 * Silence console.log/info/warn (tfjs's "Hi there" banner, magenta.js's
 * "Initialized model" lines; magenta's setVerbosity is a no-op in 1.23.1).
 * Set MVAE_REF_VERBOSE=1 to see them on stderr. Our own output goes through
 * process.stdout.write / process.stderr.write.
 */
function quietConsole() {
  const sink = process.env.MVAE_REF_VERBOSE
    ? (...a) => process.stderr.write(a.map(String).join(' ') + '\n')
    : () => {};
  console.log = sink;
  console.info = sink;
  console.warn = sink;
  console.debug = sink;
}

/**
 * Load tfjs + magenta.js and select a backend.
 * @param {'cpu'|'wasm'} backend
 * @returns {Promise<{tf: object, mvae: object}>}
 */
async function loadTf(backend = 'cpu') {
  quietConsole();
  const tf = require('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    // The Emscripten loader reads the .wasm with fs in Node when given a
    // filesystem prefix; it needs the trailing slash.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';
    wasm.setWasmPaths(dist);
    // Emscripten's loader prefers fetch() whenever a global fetch exists
    // (Node >= 18), which cannot read a filesystem path; hide it during
    // initialisation so the loader falls back to fs.readFileSync.
    const savedFetch = globalThis.fetch;
    delete globalThis.fetch;
    try {
      if (!(await tf.setBackend('wasm'))) die('cannot initialise tfjs backend \'wasm\'');
      await tf.ready();
    } finally {
      globalThis.fetch = savedFetch;
    }
    // tfjs-backend-wasm 2.8.6 has no LinSpace kernel, which interpolate()
    // needs; register the CPU backend's algorithm (float32 accumulation).
    tf.registerKernel({
      kernelName: 'LinSpace',
      backendName: 'wasm',
      kernelFunc: ({ attrs, backend: be }) => {
        const { start, stop, num } = attrs;
        const out = be.makeOutput([num], 'float32');
        const v = be.typedArrayFromHeap(out);
        const step = (stop - start) / (num - 1);
        v[0] = start;
        for (let i = 1; i < num; i++) v[i] = v[i - 1] + step;
        return out;
      },
    });
  }
  if (!(await tf.setBackend(backend))) die(`cannot initialise tfjs backend '${backend}'`);
  await tf.ready();
  const mvae = require('@magenta/music/node/music_vae');
  return { tf, mvae };
}

/**
 * Serve a checkpoint directory and initialise a magenta.js MusicVAE on it.
 * @returns {Promise<{model: object, close: () => Promise<void>}>}
 */
async function loadModel(mvae, dir) {
  const srv = await serveDir(dir);
  const model = new mvae.MusicVAE(srv.url);
  try {
    await model.initialize();
  } catch (e) {
    await srv.close();
    throw e;
  }
  return { model, close: srv.close };
}

/** Median of an array of numbers. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

module.exports = { parseArgs, die, Rng, serveDir, quietConsole, loadTf, loadModel, median };
