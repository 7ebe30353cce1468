#!/usr/bin/env node
// Runs a .sbn model in the wasm engine on raw little-endian float32 inputs and writes the outputs the same way.
//   node web/tools/run-model.mjs MODEL.sbn OUT_PREFIX INPUT.f32 [INPUT2.f32 ...]
// Writes OUT_PREFIX.<i>.f32 per output and prints JSON: {backend, outputs: [{name, dims}], profile: [...]}.
import { readFile, writeFile } from 'node:fs/promises';
import { loadModel } from '../src/index.js';

const [modelPath, outPrefix, ...inputPaths] = process.argv.slice(2);
if (!modelPath || !outPrefix) {
  console.error('usage: run-model.mjs MODEL.sbn OUT_PREFIX INPUT.f32 [INPUT2.f32 ...]');
  process.exit(2);
}
try {
  const model = await loadModel(modelPath);
  const inputs = await Promise.all(
    inputPaths.map(async (p) => {
      const b = await readFile(p);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }),
  );
  const outputs = model.run(inputs, { profile: true });
  await Promise.all(outputs.map((o, i) => writeFile(`${outPrefix}.${i}.f32`, new Uint8Array(o.buffer))));
  console.log(JSON.stringify({ backend: model.backend, outputs: outputs.map((o) => ({ name: o.name, dims: o.dims })), profile: model.profile() }));
  model.free();
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
