#!/usr/bin/env node
// WebAssembly, node, 1 thread: sparsebyte (web/dist, SIMD128) on the converted .sbn vs LiteRT.js (npm @litertjs/core,
// XNNPACK inside, accelerator 'wasm', cpuOptions.numThreads 1) on the same .tflite, same input (NHWC at both APIs).
// Interleaved: every round runs each engine once (order alternating round to round); medians and the median of the
// per-round ratios, of wall time and of the process's CPU time (the one to read on a loaded machine). LiteRT.js picks
// its relaxed-SIMD build when the runtime has relaxed SIMD (node 20 needs --experimental-wasm-relaxed-simd) and its
// plain-SIMD "compat" build otherwise; the result names the one it ran.
//   node benchmarks/tflite/web_peers.mjs --manifest m.json [--rounds 30] [--warmup 5] [--json out.json]
// m.json: [{"name": ..., "tflite": path, "sbn": path}, ...]. Progress on stderr, the result JSON on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

import { loadEngine, loadModel } from '../../web/src/index.js';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '../../web');
const require = createRequire(join(webDir, 'package.json'));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const ROUNDS = Number(opt('--rounds', 30));
const WARMUP = Number(opt('--warmup', 5));
const manifest = JSON.parse(readFileSync(opt('--manifest', null) ?? usage(), 'utf8'));

function usage() {
  console.error('usage: web_peers.mjs --manifest m.json [--rounds N] [--warmup N] [--json out.json]');
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** LiteRT.js in node: its loader injects a <script> (or importScripts in a worker), so give it importScripts that
 *  evaluates the emscripten loader in this context, the CommonJS globals that loader reads, and the wasm bytes. */
async function loadLiteRtJs() {
  const coreDir = dirname(dirname(require.resolve('@litertjs/core')));
  const wasmDir = join(coreDir, 'wasm');
  globalThis.self = globalThis;
  globalThis.require = require;
  globalThis.__dirname = wasmDir;
  globalThis.importScripts = (p) => vm.runInThisContext(readFileSync(p, 'utf8'), { filename: p });
  const lrt = await import(join(coreDir, 'dist/index.js'));
  const relaxed = await lrt.supportsFeature('relaxedSimd');
  const build = relaxed ? 'litert_wasm_internal' : 'litert_wasm_compat_internal'; // what loadLiteRt picks
  globalThis.Module = { wasmBinary: readFileSync(join(wasmDir, `${build}.wasm`)) };
  await lrt.loadLiteRt(`${wasmDir}/`);
  delete globalThis.importScripts; // emscripten loaders take it as "running in a worker"
  const version = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')).version;
  return { lrt, build, version };
}

function input(count, seed) {
  const x = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2147483648 - 1;
  }
  return x;
}

const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

async function litertRunner(lrt, tflitePath, xs) {
  const model = await lrt.loadAndCompile(new Uint8Array(readFileSync(tflitePath)),
    { accelerator: 'wasm', cpuOptions: { numThreads: 1 } });
  const details = model.getInputDetails();
  const tensors = details.map((d, i) => new lrt.Tensor(xs[i], Array.from(d.shape)));
  const names = model.getOutputDetails().map((d) => d.name);
  return {
    names,
    run: async () => {
      const outs = await model.run(tensors);
      const arrays = outs.map((t) => t.toTypedArray().slice());
      for (const t of outs) t.delete();
      return arrays;
    },
    dispose: () => {
      for (const t of tensors) t.delete();
      model.delete();
    },
  };
}

async function measure(lrt, entry) {
  const ours = await loadModel(entry.sbn);
  const xs = ours.inputs.map((info, i) => input(info.count, 12345 + i));
  const peer = await litertRunner(lrt, entry.tflite, xs);
  const engines = {
    sparsebyte: async () => ours.run(xs.length === 1 ? xs[0] : xs),
    litertjs: peer.run,
  };
  // same outputs first: by name, else by position
  const got = await engines.sparsebyte();
  const want = await engines.litertjs();
  let err = 0;
  ours.outputs.forEach((info, i) => {
    const j = peer.names.includes(info.name) ? peer.names.indexOf(info.name) : i;
    err = Math.max(err, maxAbsDiff(got[i], want[j]) / Math.max(maxAbs(want[j]), 1e-6));
  });
  for (let i = 0; i < WARMUP; i++) for (const fn of Object.values(engines)) await fn();
  // wall time, and the process's CPU time (user + system): on a loaded machine the wall clock also counts the time
  // the scheduler gave to other processes, the CPU time does not (both engines run on this one thread)
  const times = { sparsebyte: [], litertjs: [] };
  const cpu = { sparsebyte: [], litertjs: [] };
  const order = Object.keys(engines);
  for (let r = 0; r < ROUNDS; r++) {
    for (const key of r % 2 ? [...order].reverse() : order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await engines[key]();
      times[key].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[key].push((c.user + c.system) / 1000);
    }
  }
  // where sparsebyte's time goes (after the timed rounds: profiling adds a clock read per op): each node's median over
  // 9 profiled runs (a preempted op shows up as one outlier), summed per kernel family
  const perNode = [];
  for (let r = 0; r < 9; r++) {
    ours.run(xs.length === 1 ? xs[0] : xs, { profile: true });
    ours.profile().forEach((p, i) => (perNode[i] ??= { family: p.kernelFamily || p.op, ms: [] }).ms.push(p.timeMs));
  }
  const fam = {};
  for (const { family, ms } of perNode) fam[family] = (fam[family] ?? 0) + median(ms);
  const families = Object.fromEntries(Object.entries(fam).sort((a, b) => b[1] - a[1]));
  ours.free();
  peer.dispose();
  const ratios = times.sparsebyte.map((t, i) => t / times.litertjs[i]);
  const cpuRatios = cpu.sparsebyte.map((t, i) => t / cpu.litertjs[i]);
  return {
    model: entry.name,
    sparsebyte_ms: median(times.sparsebyte),
    litertjs_ms: median(times.litertjs),
    ratio: median(ratios), // sparsebyte / LiteRT.js, < 1: sparsebyte faster
    faster_rounds: ratios.filter((q) => q < 1).length,
    sparsebyte_cpu_ms: median(cpu.sparsebyte),
    litertjs_cpu_ms: median(cpu.litertjs),
    cpu_ratio: median(cpuRatios),
    cpu_faster_rounds: cpuRatios.filter((q) => q < 1).length,
    rounds: ROUNDS,
    max_rel_error: err,
    sparsebyte_families_ms: families,
  };
}

await loadEngine(); // before the LiteRT.js globals exist
const { lrt, build, version } = await loadLiteRtJs();
const rows = [];
for (const entry of manifest) {
  const row = await measure(lrt, entry);
  rows.push(row);
  console.error(`${row.model.padEnd(34)} sparsebyte ${row.sparsebyte_ms.toFixed(2).padStart(7)} ms  LiteRT.js `
    + `${row.litertjs_ms.toFixed(2).padStart(7)} ms  ratio ${row.ratio.toFixed(3)} (faster in ${row.faster_rounds}/`
    + `${row.rounds})  CPU ${row.sparsebyte_cpu_ms.toFixed(2)} / ${row.litertjs_cpu_ms.toFixed(2)} ms, ratio `
    + `${row.cpu_ratio.toFixed(3)} (faster in ${row.cpu_faster_rounds}/${row.rounds})  err ${row.max_rel_error.toExponential(1)}`);
  console.error(`  sparsebyte ${Object.entries(row.sparsebyte_families_ms).slice(0, 5).map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join('  ')}`);
}
const result = { litertjs: version, litertjs_build: build, node: process.version, threads: 1, rows };
if (opt('--json', null)) writeFileSync(opt('--json'), `${JSON.stringify(result, null, 1)}\n`);
console.log(JSON.stringify(result));
