#!/usr/bin/env node
// Threads in the browser: headless Chromium (Debian's /usr/bin/chromium through playwright-core), one
// cross-origin-isolated page (web/tools/serve-static.mjs, COOP/COEP), MobileNet-v1 and MobileNetV2 from prepare.py:
//   - sparsebyte, 1 thread (the single-thread build, what loadModel gives by default) and 2 threads (the pthreads
//     build, loadModel(.., {threads: 2})), dense and every group-sparse variant;
//   - onnxruntime-web, 2 threads (env.wasm.numThreads = 2, wasm SIMD), on the dense .onnx of the same weights.
// Interleaved: every round times each contender in turn (WARMUP runs, then --runs timed runs, median), a 100 ms pause
// between contenders (onnxruntime's pool spins after a run); the table gives the median over rounds and the median of
// the per-round (paired) ratios. Load averages (`uptime`) before and after go into the output: on a shared machine the
// figures mean something only at low load.
//   python benchmarks/wasm/prepare.py && node benchmarks/wasm/threads.mjs [--rounds 5] [--runs 7] [--models DIR]
//                                                                         [--only mobilenet_v2] [--out FILE.json]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { serveStatic } from '../../web/tools/serve-static.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');
const require = createRequire(join(repo, 'web/package.json'));
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const ROUNDS = Number(opt('--rounds', 5));
const RUNS = Number(opt('--runs', 7));
const WARMUP = 2;
const modelDir = opt('--models', join(here, 'models'));
const outFile = opt('--out', join(here, 'threads_results.json'));
const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));
const names = opt('--only', manifest.models.join(',')).split(',');
const variants = ['dense', ...manifest.sparsities.map((s) => `s${s}`)];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

// ---- in the page ----
async function setup({ names, variants, shapes }) {
  const { loadModel } = await import('/web/src/index.js');
  const ort = await import('/web/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/web/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 2;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const contenders = {};
  const check = {};
  for (const name of names) {
    const count = shapes[name].reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37));
    const session = await ort.InferenceSession.create(`/models/${name}.onnx`, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, shapes[name]) };
    contenders[`${name} ort-web t2`] = async () => (await session.run(feeds))[session.outputNames[0]].data;
    for (const variant of variants) {
      for (const threads of [1, 2]) {
        const model = await loadModel(`/models/${name}_${variant}.sbn`, { threads });
        if (model.threads !== threads) throw new Error(`${name}_${variant}: asked ${threads} threads, got ${model.threads}`);
        contenders[`${name} ${variant} t${threads}`] = () => model.run(x)[0];
      }
    }
    const dense = contenders[`${name} dense t1`]();
    const dense2 = contenders[`${name} dense t2`]();
    const ortOut = await contenders[`${name} ort-web t2`]();
    const diff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    check[name] = { ortVsOursDense: diff(ortOut, dense), t2VsT1Dense: diff(dense2, dense) };
  }
  self.sbBench = contenders;
  return { isolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, check,
    contenders: Object.keys(contenders) };
}

async function round({ order, warmup, runs }) {
  const out = {};
  for (const key of order) {
    const fn = self.sbBench[key];
    await new Promise((ok) => setTimeout(ok, 100));
    for (let i = 0; i < warmup; i++) await fn();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out[key] = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  }
  return out;
}

// ---- driver ----
const server = await serveStatic({ mounts: { '/web/': join(repo, 'web'), '/models/': modelDir }, isolated: true });
const browser = await chromium.launch({
  executablePath: process.env.SB_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const loadBefore = uptime();
const chromiumVersion = browser.version();
const perRound = [];
let info;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e}`));
  await page.goto(`${server.url}/`);
  info = await page.evaluate(setup, { names, variants, shapes: manifest.input_shapes });
  if (!info.isolated) throw new Error('the page is not cross-origin isolated');
  for (let r = 0; r < ROUNDS; r++) {
    // rotate the order each round so no contender always runs right after the same one
    const order = info.contenders.map((_, i) => info.contenders[(i + r) % info.contenders.length]);
    perRound.push(await page.evaluate(round, { order, warmup: WARMUP, runs: RUNS }));
    process.stderr.write(`round ${r + 1}/${ROUNDS} done (${uptime()})\n`);
  }
} finally {
  await browser.close();
  await server.close();
}
const loadAfter = uptime();

const rows = [];
const results = { rounds: ROUNDS, runs: RUNS, warmup: WARMUP, loadBefore, loadAfter, chromium: chromiumVersion, check: info.check, models: {} };
for (const name of names) {
  const ortKey = `${name} ort-web t2`;
  const ortMs = median(perRound.map((r) => r[ortKey]));
  results.models[name] = { ortWebT2Ms: ortMs, variants: {} };
  for (const variant of variants) {
    const k1 = `${name} ${variant} t1`;
    const k2 = `${name} ${variant} t2`;
    const t1 = median(perRound.map((r) => r[k1]));
    const t2 = median(perRound.map((r) => r[k2]));
    const speedup = median(perRound.map((r) => r[k1] / r[k2]));
    const vsOrt = median(perRound.map((r) => r[ortKey] / r[k2]));
    results.models[name].variants[variant] = { t1Ms: t1, t2Ms: t2, speedup2v1: speedup, vsOrtWebT2: vsOrt };
    rows.push({ model: name, variant, '1 thread ms': t1.toFixed(2), '2 threads ms': t2.toFixed(2),
      '2 vs 1 (paired)': `${speedup.toFixed(2)}x`, 'ort-web 2t ms (dense)': ortMs.toFixed(2),
      'ours 2t vs ort-web 2t': `${vsOrt.toFixed(2)}x` });
  }
}
console.table(rows);
console.log(`checks (max |diff|): ${JSON.stringify(info.check)}`);
console.log(`${ROUNDS} rounds x ${RUNS} runs (after ${WARMUP} warm-up), medians; load before: ${loadBefore}; after: ${loadAfter}`);
results.perRound = perRound;
writeFileSync(outFile, JSON.stringify(results, null, 2));
