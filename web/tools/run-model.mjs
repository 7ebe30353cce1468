#!/usr/bin/env node
// Runs a .sbn model in the wasm engine (web/dist) with the command line and JSON report of the native runner
// engine/tools/sparsebyte_run.c, so one device layer (sparsebyte.devices.NodeDevice) drives both:
//   node web/tools/run-model.mjs MODEL.sbn [--input X.npy]... [--output OUT.npy]... [--random-seed N]
//                                [--warmup N] [--repeat N] [--threads N] [--profile] [--json]
// Inputs and outputs are float32 .npy files; without --input the inputs are the runner's seeded splitmix64 values
// in [-1, 1). --json prints {backend, threads, latency_ms: {median, min, max}, arena_bytes, weight_bytes, peak_rss_kb,
// ops: [{name, op, kernel, time_ms, macs, dense_macs}], outputs: [{name, shape}]}; time_ms per op is the mean over
// the timed runs. --threads N > 1 runs the pthreads build (web/dist/sparsebyte-mt.*, node worker threads); the report
// says the threads the model got.
import { readFile, writeFile } from 'node:fs/promises';
import { MAX_THREADS, loadModel } from '../src/index.js';

const USAGE = 'usage: run-model.mjs MODEL.sbn [--input X.npy]... [--output OUT.npy]... [--random-seed N]\n' +
  '                     [--warmup N] [--repeat N] [--threads N] [--profile] [--json]';

function parseArgs(argv) {
  const o = { inputs: [], outputs: [], seed: 1n, warmup: 1, repeat: 1, threads: 1, profile: false, json: false };
  const int = (flag, text, min, max) => {
    const v = Number(text);
    if (!/^-?\d+$/.test(text ?? '') || v < min || v > max) {
      throw new Error(`${flag} expects an integer in ${min}..${max}, got '${text}'`);
    }
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const valued = ['--input', '--output', '--random-seed', '--warmup', '--repeat', '--threads'].includes(a);
    if (valued && i + 1 >= argv.length) throw new Error(`${a} needs a value`);
    if (a === '--profile') o.profile = true;
    else if (a === '--json') o.json = true;
    else if (a === '--input') o.inputs.push(argv[++i]);
    else if (a === '--output') o.outputs.push(argv[++i]);
    else if (a === '--random-seed') o.seed = BigInt(int(a, argv[++i], 0, 2147483647));
    else if (a === '--warmup') o.warmup = int(a, argv[++i], 0, 100000);
    else if (a === '--repeat') o.repeat = int(a, argv[++i], 1, 1000000);
    else if (a === '--threads') o.threads = int(a, argv[++i], 1, MAX_THREADS);
    else if (a.startsWith('-')) throw new Error(`unknown option '${a}'`);
    else if (o.model === undefined) o.model = a;
    else throw new Error(`unexpected argument '${a}'`);
  }
  if (o.model === undefined) throw new Error('no model given');
  return o;
}

// .npy (versions 1-3), float32 little-endian, C order: what numpy writes for np.save(path, arr.astype(np.float32))
async function readNpy(path) {
  const b = await readFile(path);
  if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file (bad magic)`);
  const major = b[6];
  const headerLength = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLength);
  if (!/'descr':\s*'<f4'/.test(header)) {
    throw new Error(`${path}: dtype must be float32 ('<f4'); convert with arr.astype(np.float32)`);
  }
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran-ordered arrays are not supported`);
  const data = b.subarray(start + headerLength);
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

async function writeNpy(path, values, dims) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  await writeFile(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]));
}

// splitmix64, as engine/tools/sparsebyte_run.c: the same inputs for a seed on every runner
function randomInputs(model, seed) {
  const mask = (1n << 64n) - 1n;
  let state = seed;
  return model.inputs.map((info) => {
    const values = new Float32Array(info.count);
    for (let k = 0; k < info.count; k++) {
      state = (state + 0x9e3779b97f4a7c15n) & mask;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
      z ^= z >> 31n;
      values[k] = (Number(z >> 40n) / 16777216) * 2 - 1;
    }
    return values;
  });
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`run-model: ${e.message}\n${USAGE}`);
    return 2;
  }
  const model = await loadModel(o.model, { threads: o.threads });
  try {
    if (o.inputs.length && o.inputs.length !== model.inputs.length) {
      throw new Error(`the model has ${model.inputs.length} inputs, ${o.inputs.length} --input files given`);
    }
    if (o.outputs.length > model.outputs.length) {
      throw new Error(`the model has ${model.outputs.length} outputs, ${o.outputs.length} --output files given`);
    }
    const inputs = o.inputs.length ? await Promise.all(o.inputs.map(readNpy)) : randomInputs(model, o.seed);
    inputs.forEach((values, i) => {
      if (values.length !== model.inputs[i].count) {
        throw new Error(`${o.inputs[i]} has ${values.length} elements, input '${model.inputs[i].name}' needs ${model.inputs[i].count}`);
      }
    });
    for (let i = 0; i < o.warmup; i++) model.run(inputs);
    const profile = o.profile || o.json;
    const times = [];
    let opMs = null;
    let outputs = null;
    for (let r = 0; r < o.repeat; r++) {
      const start = performance.now();
      outputs = model.run(inputs, { profile });
      times.push(performance.now() - start);
      if (profile) {
        const rows = model.profile();
        opMs = opMs ?? rows.map(() => 0);
        rows.forEach((row, i) => { opMs[i] += row.timeMs / o.repeat; });
      }
    }
    await Promise.all(o.outputs.map((path, i) => writeNpy(path, outputs[i], outputs[i].dims)));
    times.sort((x, y) => x - y);
    const n = times.length;
    const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    const latency = { median, min: times[0], max: times[n - 1] };
    const ops = profile
      ? model.profile().map((row, i) => ({ name: row.name, op: row.op, kernel: row.kernel, time_ms: opMs[i], macs: row.macs, dense_macs: row.denseMacs }))
      : [];
    const shapes = model.outputs.map((info) => ({ name: info.name, shape: info.dims }));
    if (o.json) {
      console.log(JSON.stringify({ backend: model.backend, threads: model.threads, latency_ms: latency, arena_bytes: model.arenaBytes,
        weight_bytes: model.weightBytes, peak_rss_kb: process.resourceUsage().maxRSS, ops, outputs: shapes }));
    } else {
      console.log(`backend ${model.backend}, threads ${model.threads}, arena ${model.arenaBytes} bytes, weights ${model.weightBytes} bytes`);
      console.log(`latency over ${n} runs: median ${median.toFixed(3)} ms, min ${latency.min.toFixed(3)} ms, max ${latency.max.toFixed(3)} ms`);
      for (const s of shapes) console.log(`output ${s.name} [${s.shape.join(', ')}]`);
      if (o.profile) console.table(ops);
    }
    return 0;
  } finally {
    model.free();
  }
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(`run-model: ${e.message}`);
  process.exitCode = 1;
});
