// The pthreads build in node (driven by test_wasm_threads.py): outputs against the single-thread build for threads
// 1..4, which build each threads value picks, the worker pool's bookkeeping, bad threads values. Prints JSON.
//   node tests/wasm/test_wasm_threads_node.mjs MODEL_DIR NAME...
import { MAX_THREADS, loadEngine, loadModel, threadsSupported } from '../../web/src/index.js';

const [dir, ...names] = process.argv.slice(2);
const input = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 2);
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const out = { supported: threadsSupported(), models: {}, picks: {}, errors: {} };

for (const name of names) {
  const ref = await loadModel(`${dir}/${name}.sbn`);
  const x = input(ref.inputs[0].count);
  const want = ref.run(x)[0];
  const rows = {};
  for (const threads of [1, 2, 3, 4]) {
    const m = await loadModel(`${dir}/${name}.sbn`, { threads });
    let diff = 0;
    for (let r = 0; r < 3; r++) diff = Math.max(diff, maxDiff(want, m.run(x)[0])); // the pool survives runs
    rows[threads] = { threads: m.threads, diff };
    m.free();
  }
  out.models[name] = rows;
  ref.free();
}

// Which build: default and threads 1 -> the single-thread engine; 2 -> the pthreads one, one worker per extra thread,
// workers back to the idle pool on free (and reused, not created again).
const path = `${dir}/${names[0]}.sbn`;
const single = await loadEngine();
const mt = await loadEngine({ threads: true });
const workers = () => ({ running: mt.PThread.runningWorkers.length, idle: mt.PThread.unusedWorkers.length });
const dflt = await loadModel(path);
const one = await loadModel(path, { threads: 1 });
out.picks.default = { threads: dflt.threads, single: dflt._mod === single };
out.picks.one = { threads: one.threads, single: one._mod === single };
const before = workers();
const a = await loadModel(path, { threads: 3 });
const b = await loadModel(path, { threads: 2 });
out.picks.three = { threads: a.threads, threaded: a._mod === mt };
out.picks.two = { threads: b.threads, threaded: b._mod === mt };
const during = workers();
a.free();
b.free();
const after = workers();
const c = await loadModel(path, { threads: 4 });
const reused = workers();
c.free();
out.workers = { before, during, after, reused };
const auto = await loadModel(path, { threads: 'auto' });
out.picks.auto = { threads: auto.threads, cores: Math.min((await import('node:os')).availableParallelism(), MAX_THREADS) };
auto.free();
dflt.free();
one.free();

for (const bad of [0, -1, 1.5, MAX_THREADS + 1, '2', null, true, NaN, 'all']) {
  try {
    (await loadModel(path, { threads: bad })).free();
    out.errors[String(bad)] = null;
  } catch (e) {
    out.errors[String(bad)] = { name: e.name, status: e.status, message: e.message };
  }
}
console.log(JSON.stringify(out));
