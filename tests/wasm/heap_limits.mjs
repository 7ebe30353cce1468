// Loads byte buffers too large for the wasm32 heap (2 GiB) while another model is loaded, and prints JSON: per size
// the error (name, status, message) and whether the loaded model still gives its first output. The first sizes fit
// the heap (the engine's own copy of them does not) and grow it to its maximum, so that a later failed _malloc (0)
// would be written over address 0 (the other model's data) rather than give a RangeError.
//   node tests/wasm/heap_limits.mjs MODEL.sbn
import { loadModel } from '../../web/src/index.js';

const SIZES = [1_000_000_000, 2_097_283_072, 2_140_000_000, 3_000_000_000, 2 ** 32 - 1];

const model = await loadModel(process.argv[2]);
const x = new Float32Array(model.inputs[0].count).map((_, i) => Math.sin(i));
const [want] = model.run(x);
const results = [];
for (const size of SIZES) {
  const row = { size };
  try {
    await loadModel(new Uint8Array(size)); // zero pages: not resident until written
    row.loaded = true;
  } catch (e) {
    Object.assign(row, { error: e.name, status: e.status ?? null, message: e.message });
  }
  try {
    const [got] = model.run(x);
    row.sameOutput = got.length === want.length && got.every((v, i) => Object.is(v, want[i]));
  } catch (e) {
    row.runError = `${e.name}: ${e.message}`;
  }
  results.push(row);
}
const again = await loadModel(process.argv[2]); // the heap still serves new models
const [fresh] = again.run(x);
console.log(JSON.stringify({ results, reloadSame: fresh.every((v, i) => Object.is(v, want[i])) }));
