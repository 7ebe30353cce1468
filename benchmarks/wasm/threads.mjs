#!/usr/bin/env node
// Threads in the browser: headless Chromium (Debian's /usr/bin/chromium through playwright-core), one
// cross-origin-isolated page (web/tools/serve-static.mjs, COOP/COEP), MobileNet-v1 and MobileNetV2 from prepare.py:
//   - sparsebyte, 1 thread (the single-thread build, what loadModel gives by default) and N threads (the pthreads
//     build, loadModel(.., {threads: N}); N = --threads, 2 by default), dense and every group-sparse variant;
//   - onnxruntime-web, N threads (env.wasm.numThreads = N, wasm SIMD), on the dense .onnx of the same weights.
// Interleaved: every round times each contender in turn (--warmup runs, then --runs timed runs, median), a 100 ms
// pause between contenders (onnxruntime's pool spins after a run), the order rotated each round; the table gives the
// median over rounds and the median of the per-round (paired) ratios. Load averages (`uptime`) before and after go
// into the output: on a shared machine the figures mean something only at low load. Run with --help for the options.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { launchChromium } from '../../web/tools/chromium.mjs';
import { serveStatic } from '../../web/tools/serve-static.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');

const USAGE = `usage: node benchmarks/wasm/threads.mjs [options]   (after: python benchmarks/wasm/prepare.py)

Our wasm engine on 1 thread vs N threads, and onnxruntime-web on N threads, in one cross-origin-isolated headless
Chromium page; interleaved rounds, medians over rounds, paired per-round ratios.

options:
  --rounds N        rounds (default 5); each times every contender once, in a rotated order
  --runs N          timed runs per contender per round, their median is the round's figure (default 7)
  --warmup N        untimed runs before them (default 2)
  --learn N         untimed runs of each model right after loading (default 16): our N-thread models' adaptive
                    split (docs/threads.md) chooses split or inline over the first 12 runs
  --threads N       the thread count compared with 1, for ours and onnxruntime-web (default 2)
  --only M1,M2      models of the manifest (default: all, e.g. mobilenet_v1,mobilenet_v2)
  --variants V,...  dense and/or sN (N % sparsity, as in the manifest: s90); default: dense and every sparsity
  --models DIR      prepare.py's output (default benchmarks/wasm/models)
  --out FILE        JSON results (default benchmarks/wasm/threads_results.json)
  --chromium PATH   the browser (default $SB_CHROMIUM or /usr/bin/chromium)
  -h, --help        this text`;

function fail(message) {
  console.error(`threads.mjs: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      runs: { type: 'string', default: '7' },
      warmup: { type: 'string', default: '2' },
      learn: { type: 'string', default: '16' },
      threads: { type: 'string', default: '2' },
      only: { type: 'string' },
      variants: { type: 'string' },
      models: { type: 'string', default: join(here, 'models') },
      out: { type: 'string', default: join(here, 'threads_results.json') },
      chromium: { type: 'string', default: process.env.SB_CHROMIUM ?? '/usr/bin/chromium' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  fail(e.message);
}
if (parsed.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name, min) => {
  const v = Number(parsed[name]);
  if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer >= ${min}, got '${parsed[name]}'`);
  return v;
};
const ROUNDS = count('rounds', 1);
const RUNS = count('runs', 1);
const WARMUP = count('warmup', 0);
const LEARN = count('learn', 0);
const THREADS = count('threads', 2);
const modelDir = parsed.models;
const outFile = parsed.out;
let manifest;
try {
  manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));
} catch (e) {
  fail(`no models in ${modelDir} (${e.code ?? e.message}): run python benchmarks/wasm/prepare.py first`);
}
const names = parsed.only ? parsed.only.split(',') : manifest.models;
const allVariants = ['dense', ...manifest.sparsities.map((s) => `s${s}`)];
const variants = parsed.variants ? parsed.variants.split(',') : allVariants;
for (const n of names) if (!manifest.models.includes(n)) fail(`--only: no model '${n}' (have ${manifest.models})`);
for (const v of variants) if (!allVariants.includes(v)) fail(`--variants: no variant '${v}' (have ${allVariants})`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

// ---- in the page ----
async function setup({ names, variants, shapes, threadsN, learn }) {
  const { loadModel } = await import('/web/src/index.js');
  const ort = await import('/web/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/web/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = threadsN;
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
    contenders[`${name} ort-web t${threadsN}`] = async () => (await session.run(feeds))[session.outputNames[0]].data;
    for (const variant of variants) {
      for (const threads of [1, threadsN]) {
        const model = await loadModel(`/models/${name}_${variant}.sbn`, { threads });
        if (model.threads !== threads) throw new Error(`${name}_${variant}: asked ${threads} threads, got ${model.threads}`);
        contenders[`${name} ${variant} t${threads}`] = () => model.run(x)[0];
        for (let i = 0; i < learn; i++) model.run(x);
      }
    }
    const first = variants[0];
    const dense = contenders[`${name} ${first} t1`]();
    const dense2 = contenders[`${name} ${first} t${threadsN}`]();
    const ortOut = await contenders[`${name} ort-web t${threadsN}`]();
    const diff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    check[name] = { variant: first, ortVsOurs: diff(ortOut, dense), tNVsT1: diff(dense2, dense) };
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
process.env.SB_CHROMIUM = parsed.chromium; // launchChromium (the launcher every test and benchmark uses) reads it
const browser = await launchChromium();
const loadBefore = uptime();
const chromiumVersion = browser.version();
const perRound = [];
let info;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e}`));
  await page.goto(`${server.url}/`);
  info = await page.evaluate(setup, { names, variants, shapes: manifest.input_shapes, threadsN: THREADS, learn: LEARN });
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
const results = { rounds: ROUNDS, runs: RUNS, warmup: WARMUP, learn: LEARN, threads: THREADS, loadBefore, loadAfter, chromium: chromiumVersion, check: info.check, models: {} };
for (const name of names) {
  const ortKey = `${name} ort-web t${THREADS}`;
  const ortMs = median(perRound.map((r) => r[ortKey]));
  results.models[name] = { ortWebTNMs: ortMs, variants: {} };
  for (const variant of variants) {
    const k1 = `${name} ${variant} t1`;
    const k2 = `${name} ${variant} t${THREADS}`;
    const t1 = median(perRound.map((r) => r[k1]));
    const t2 = median(perRound.map((r) => r[k2]));
    const speedup = median(perRound.map((r) => r[k1] / r[k2]));
    const vsOrt = median(perRound.map((r) => r[ortKey] / r[k2]));
    results.models[name].variants[variant] = { t1Ms: t1, tNMs: t2, speedupNv1: speedup, vsOrtWebTN: vsOrt };
    rows.push({ model: name, variant, '1 thread ms': t1.toFixed(2), [`${THREADS} threads ms`]: t2.toFixed(2),
      [`${THREADS} vs 1 (paired)`]: `${speedup.toFixed(2)}x`, [`ort-web ${THREADS}t ms (dense)`]: ortMs.toFixed(2),
      [`ours ${THREADS}t vs ort-web ${THREADS}t`]: `${vsOrt.toFixed(2)}x` });
  }
}
console.table(rows);
console.log(`checks (max |diff|): ${JSON.stringify(info.check)}`);
console.log(`${ROUNDS} rounds x ${RUNS} runs (after ${WARMUP} warm-up), medians; load before: ${loadBefore}; after: ${loadAfter}`);
results.perRound = perRound;
writeFileSync(outFile, JSON.stringify(results, null, 2));
