#!/usr/bin/env node
// WebAssembly benchmark, one run, node, single thread: sparsebyte (wasm SIMD128) dense and group-sparse vs
// onnxruntime-web (wasm SIMD backend) and @tensorflow/tfjs-backend-wasm (XNNPACK) on the dense model, same weights.
// Models come from prepare.py. Prints a table and writes results.json.
//   node benchmarks/wasm/bench.mjs [--runs 15] [--models DIR]
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadModel } from '../../web/src/index.js';
import { ortWebRunner, tfjsGraphRunner } from './peers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = join(here, '../../web');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const RUNS = Number(opt('--runs', 15));
const WARMUP = 3;
const modelDir = opt('--models', join(here, 'models'));
const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timeIt(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function input(shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2147483648 - 1;
  }
  return x;
}

const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// ---- tfjs-backend-wasm: the ONNX graph rebuilt from tfjs ops (NHWC), see prepare.py onnx_to_tfjs ----
const tfjsRunner = (name, x, shape) =>
  tfjsGraphRunner(join(modelDir, `${name}.tfjs.json`), join(modelDir, `${name}.tfjs.bin`), x, shape);

async function ortRunner(name, x, shape) {
  const peer = await ortWebRunner(join(modelDir, `${name}.onnx`), { input: { data: x, dims: shape } });
  return { run: async () => Object.values(await peer.run())[0] };
}

const wasmBytes = statSync(join(webDir, 'dist/sparsebyte.wasm')).size;
const rows = [];
const results = { runs: RUNS, warmup: WARMUP, threads: 1, node: process.version, sparsebyteWasmBytes: wasmBytes, models: {} };
for (const name of manifest.models) {
  const shape = manifest.input_shapes[name];
  const x = input(shape);
  const r = (results.models[name] = { peers: {}, sparsebyte: {} });
  const dense = await loadModel(join(modelDir, `${name}_dense.sbn`));
  const ref = dense.run(x)[0];
  for (const [label, make] of [['tfjs-wasm', tfjsRunner], ['ort-web', ortRunner]]) {
    const peer = await make(name, x, shape);
    const y = await peer.run();
    const ms = await timeIt(peer.run);
    r.peers[label] = { ms, maxAbsDiffVsSparsebyteDense: maxAbsDiff(y, ref) };
  }
  dense.free();
  r.onnxBytes = statSync(join(modelDir, `${name}.onnx`)).size;
  for (const variant of ['dense', ...manifest.sparsities.map((s) => `s${s}`)]) {
    const file = join(modelDir, `${name}_${variant}.sbn`);
    const model = await loadModel(file);
    const ms = await timeIt(() => model.run(x));
    model.run(x, { profile: true });
    const prof = model.profile();
    const macs = prof.reduce((s, p) => s + p.macs, 0);
    r.sparsebyte[variant] = { ms, sbnBytes: statSync(file).size, macs };
    model.free();
  }
  const tfjs = r.peers['tfjs-wasm'].ms;
  const ort = r.peers['ort-web'].ms;
  for (const [variant, v] of Object.entries(r.sparsebyte)) {
    rows.push({
      model: name,
      engine: `sparsebyte ${variant}`,
      'median ms': v.ms.toFixed(2),
      'vs tfjs-wasm dense': `${(tfjs / v.ms).toFixed(2)}x`,
      'vs ort-web dense': `${(ort / v.ms).toFixed(2)}x`,
      'MMACs': (v.macs / 1e6).toFixed(0),
      'model MB': (v.sbnBytes / 1e6).toFixed(2),
    });
  }
  for (const [label, p] of Object.entries(r.peers)) {
    rows.push({ model: name, engine: `${label} dense`, 'median ms': p.ms.toFixed(2), 'vs tfjs-wasm dense': `${(tfjs / p.ms).toFixed(2)}x`, 'vs ort-web dense': `${(ort / p.ms).toFixed(2)}x`, MMACs: '', 'model MB': label === 'ort-web' ? (r.onnxBytes / 1e6).toFixed(2) : '', 'max |diff| vs ours': p.maxAbsDiffVsSparsebyteDense.toExponential(1) });
  }
}
console.table(rows);
console.log(`sparsebyte.wasm: ${(wasmBytes / 1024).toFixed(0)} KiB; ${RUNS} timed runs after ${WARMUP} warm-up, median, 1 thread`);
writeFileSync(join(here, 'results.json'), JSON.stringify(results, null, 2));
