#!/usr/bin/env node
// The node half of benchmarks/zoo/bench.py, one model per process, 1 thread: sparsebyte's wasm build (web/dist,
// the JS API) vs onnxruntime-web (wasm backend) and, when bench.py wrote a tfjs port of the graph, tfjs-backend-wasm
// (XNNPACK), interleaved round by round in this one process.
//   node benchmarks/zoo/bench_node.mjs JOB.json RESULT.json
// JOB: {name, web (a copy of web/src/index.js beside its dist/), sbn, onnx, tfjs: {json, bin} | null, inputs: [{name, dims, file}], outdir, rounds, warmup, minRoundMs}
// (input files: raw little-endian float32). Each contender's first outputs go to OUTDIR/<contender>.<k>.f32 for
// bench.py to compare with onnxruntime on the host. RESULT: {contenders: {label: {times, outputs, error}}, profile}.
// A contender that fails to load or run gets an "error" and the others go on. Progress on stderr.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { ortWebRunner, tfjsGraphRunner } from '../wasm/peers.mjs';

const [jobPath, resultPath] = process.argv.slice(2);
if (!jobPath || !resultPath) {
  console.error('usage: bench_node.mjs JOB.json RESULT.json');
  process.exit(2);
}
const job = JSON.parse(readFileSync(jobPath, 'utf8'));
// bench.py's copy of web/src + web/dist (one build for the whole run)
const { loadModel } = await import(pathToFileURL(job.web).href);
const log = (msg) => process.stderr.write(`[node ${job.name}] ${msg}\n`);

const readF32 = (file) => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const inputs = job.inputs.map((i) => ({ ...i, data: readF32(i.file) }));
const message = (e) => (e && e.message ? e.message : String(e)).split('\n')[0].slice(0, 400);

// label -> {run: async () => Float32Array[] (in a fixed order), names, free}
async function sparsebyte() {
  const model = await loadModel(job.sbn);
  const byName = Object.fromEntries(inputs.map((i) => [i.name, i.data]));
  const feeds = model.inputs.map((info) => {
    if (!(info.name in byName)) throw new Error(`the .sbn's input ${info.name} has no feed`);
    return byName[info.name];
  });
  return {
    model,
    feeds,
    names: model.outputs.map((o) => o.name),
    run: async () => model.run(feeds),
    free: () => model.free(),
  };
}

async function ortWeb() {
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, { data: i.data, dims: i.dims }]));
  const peer = await ortWebRunner(job.onnx, feeds);
  return {
    names: peer.outputNames,
    run: async () => {
      const out = await peer.run();
      return peer.outputNames.map((n) => out[n]);
    },
    free: peer.dispose,
  };
}

async function tfjs() {
  if (inputs.length !== 1) throw new Error(`the tfjs port takes one input, the model has ${inputs.length}`);
  const peer = await tfjsGraphRunner(job.tfjs.json, job.tfjs.bin, inputs[0].data, inputs[0].dims);
  return { names: ['output'], run: async () => [await peer.run()], free: peer.dispose };
}

const makers = [['sparsebyte', sparsebyte], ['ort-web', ortWeb]];
if (job.tfjs) makers.push(['tfjs-wasm', tfjs]);

const result = { node: process.version, contenders: {}, profile: null };
const live = [];
for (const [label, make] of makers) {
  const entry = (result.contenders[label] = { times: [], outputs: [], error: null });
  try {
    const c = await make();
    const outs = await c.run();
    entry.outputs = outs.map((o, k) => {
      const file = join(job.outdir, `${label}.${k}.f32`);
      writeFileSync(file, Buffer.from(o.buffer, o.byteOffset, o.byteLength));
      return { name: c.names[k] ?? `output${k}`, file, count: o.length };
    });
    live.push([label, c, entry]);
  } catch (e) {
    entry.error = message(e);
    log(`${label}: ${entry.error}`);
  }
}

// per-op profile: the median of 3 profiled runs per node (one run on this shared machine can catch a load spike)
const ours = live.find(([label]) => label === 'sparsebyte');
if (ours) {
  const model = ours[1].model;
  const runs = [];
  for (let i = 0; i < 3; i++) {
    model.run(ours[1].feeds, { profile: true });
    runs.push(model.profile());
  }
  const median3 = (xs) => [...xs].sort((a, b) => a - b)[1];
  result.profile = runs[0].map((p, k) => ({ name: p.name, op: p.op, kernel: p.kernel, ms: median3(runs.map((r) => r[k].timeMs)), macs: p.macs }));
}

// warm-up, then enough runs per round that a round of one contender takes >= minRoundMs (a 1 ms model timed once
// is mostly timer and scheduler noise); the rounds rotate the contenders' order
const inner = new Map();
for (const [label, c, entry] of live) {
  try {
    for (let i = 0; i < job.warmup; i++) await c.run();
    const t0 = performance.now();
    await c.run();
    const ms = performance.now() - t0;
    inner.set(label, Math.max(1, Math.min(50, Math.ceil(job.minRoundMs / Math.max(ms, 1e-3)))));
  } catch (e) {
    entry.error = message(e);
  }
}
const timed = live.filter(([, , entry]) => !entry.error);
for (let r = 0; r < job.rounds; r++) {
  const order = timed.map((_, k) => timed[(k + r) % timed.length]);
  for (const [label, c, entry] of order) {
    const n = inner.get(label);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await c.run();
    entry.times.push((performance.now() - t0) / n);
  }
  log(`round ${r + 1}/${job.rounds}: ${order.map(([label, , e]) => `${label} ${e.times.at(-1).toFixed(2)} ms`).join(', ')}`);
}
for (const [label, , entry] of live) entry.runsPerRound = inner.get(label) ?? 0;
for (const [, c] of live) c.free?.();
writeFileSync(resultPath, JSON.stringify(result));
