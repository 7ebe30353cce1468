// A small consumer of the package's declarations: `tsc -p test/types` (web/test/types.test.mjs) must accept it.
// It imports the package by name, through package.json's "exports" and "types", as a user's code would.
import { MAX_THREADS, Model, SparsebyteError, engineInfo, loadModel, threadsSupported } from 'sparsebyte-wasm';
import type { NodeProfile, Output, TensorInfo } from 'sparsebyte-wasm';

export async function classify(source: ArrayBuffer | string | URL): Promise<number> {
  const info = await engineInfo({ wasmUrl: new URL('https://example.invalid/sparsebyte.wasm') });
  const backend: string = info.backend;
  let model: Model;
  try {
    model = await loadModel(source);
  } catch (e) {
    if (e instanceof SparsebyteError) {
      const status: string = e.status;
      throw new Error(`${backend}: ${status}: ${e.message}`);
    }
    throw e;
  }
  const input: TensorInfo = model.inputs[0];
  const x = new Float32Array(input.count);
  const [logits]: Output[] = model.run(x, { profile: true });
  model.run([x]);
  model.run({ [input.name]: x });
  const rows: NodeProfile[] = model.profile();
  const slowest = rows.reduce((a, b) => (b.timeMs > a.timeMs ? b : a));
  console.log(logits.name, logits.dims.join('x'), slowest.kernel, model.arenaBytes + model.weightBytes);
  // The declarations are not `any`: each line below is a type error that tsc must report.
  // @ts-expect-error inputs are Float32Arrays, not plain number arrays
  model.run([[1, 2, 3]]);
  // @ts-expect-error profile is a boolean option
  model.run(x, { profile: 'yes' });
  // @ts-expect-error a model source is bytes, a URL or a path
  await loadModel(42);
  // @ts-expect-error models come from loadModel, not the constructor
  new Model();
  const fast = await loadModel(source, { threads: threadsSupported() ? Math.min(4, MAX_THREADS) : 'auto' });
  const threads: number = fast.threads;
  console.log(threads);
  fast.free();
  // @ts-expect-error threads is a count or 'auto'
  await loadModel(source, { threads: 'many' });
  model.free();
  return logits.indexOf(Math.max(...logits));
}
