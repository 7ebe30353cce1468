import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { Model, SparsebyteError, engineInfo, loadModel } from '../src/index.js';
import { randomInput, testModelDir } from './helpers.mjs';

const dir = testModelDir();
const sparsePath = join(dir, 'small_g4.sbn');
const densePath = join(dir, 'small_dense.sbn');
const x = randomInput(3 * 37 * 29);

describe('engine', () => {
  test('reports the SIMD128 kernel set', async () => {
    const info = await engineInfo();
    assert.equal(info.backend, 'wasm-simd128');
    assert.match(info.version, /\d+\.\d+/);
  });
});

describe('loading', () => {
  let server;
  let baseUrl;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/small.sbn') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(readFileSync(sparsePath));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => server.close());

  test('every source kind gives the same model and outputs', async () => {
    const bytes = readFileSync(sparsePath);
    const sources = [
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      new Uint8Array(bytes),
      sparsePath,
      pathToFileURL(sparsePath),
      `${baseUrl}/small.sbn`,
    ];
    let first = null;
    for (const source of sources) {
      const model = await loadModel(source);
      assert.ok(model instanceof Model);
      assert.deepEqual(model.inputs.map((i) => i.dims), [[1, 3, 37, 29]]);
      assert.deepEqual(model.outputs.map((o) => o.dims), [[1, 13]]);
      const [y] = model.run(x);
      first ??= y;
      assert.deepEqual(Array.from(y), Array.from(first));
      model.free();
    }
  });

  test('a missing URL names the HTTP status', async () => {
    await assert.rejects(loadModel(`${baseUrl}/nope.sbn`), (e) => {
      assert.ok(e instanceof SparsebyteError);
      assert.equal(e.status, 'SB_ERR_IO');
      assert.match(e.message, /nope\.sbn: HTTP 404/);
      return true;
    });
  });

  test('a missing file (path or file: URL) is a SparsebyteError naming it', async () => {
    const missing = join(dir, 'no-such-model.sbn');
    for (const source of [missing, pathToFileURL(missing), pathToFileURL(missing).href]) {
      await assert.rejects(loadModel(source), (e) => {
        assert.ok(e instanceof SparsebyteError, `${e}`);
        assert.equal(e.status, 'SB_ERR_IO');
        assert.match(e.message, /no-such-model\.sbn: ENOENT/);
        assert.equal(e.cause.code, 'ENOENT');
        return true;
      });
    }
    await assert.rejects(loadModel(dir), (e) => e instanceof SparsebyteError && /EISDIR/.test(e.message));
  });

  test('bytes that are not a .sbn give a format error, not a crash', async () => {
    await assert.rejects(loadModel(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), (e) => {
      assert.ok(e instanceof SparsebyteError);
      assert.equal(e.status, 'SB_ERR_FORMAT');
      assert.match(e.message, /load model: .+/);
      return true;
    });
    const truncated = readFileSync(sparsePath).subarray(0, 300);
    await assert.rejects(loadModel(truncated), SparsebyteError);
  });

  test('a source of the wrong type is refused', async () => {
    await assert.rejects(loadModel(42), TypeError);
  });
});

describe('running', () => {
  test('outputs carry name and dims, are finite and repeatable', async () => {
    const model = await loadModel(densePath);
    const [y] = model.run(x);
    assert.ok(y instanceof Float32Array);
    assert.equal(y.length, 13);
    assert.equal(y.name, model.outputs[0].name);
    assert.ok(y.every(Number.isFinite));
    assert.ok(y.some((v) => v !== 0));
    const [again] = model.run(x);
    assert.deepEqual(Array.from(again), Array.from(y));
    const [other] = model.run(randomInput(x.length, 7));
    assert.notDeepEqual(Array.from(other), Array.from(y));
    model.free();
  });

  test('inputs by name, by array and alone agree', async () => {
    const model = await loadModel(sparsePath);
    const a = model.run(x)[0];
    const b = model.run([x])[0];
    const c = model.run({ [model.inputs[0].name]: x })[0];
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual(Array.from(c), Array.from(a));
    model.free();
  });

  test('bad inputs get errors that name the problem', async () => {
    const model = await loadModel(sparsePath);
    assert.throws(() => model.run(new Float32Array(5)), /has 5 floats, the model expects 3219 \(shape \[1,3,37,29\]\)/);
    assert.throws(() => model.run(new Float64Array(x.length)), TypeError);
    assert.throws(() => model.run({ nope: x }), /unknown input name\(s\) nope/);
    assert.throws(() => model.run([x, x]), /got 2 inputs, the model has 1/);
    model.free();
    model.free(); // twice is fine
    assert.throws(() => model.run(x), /freed/);
  });

  test('profile lists every op with its SIMD128 kernel, and sparse ops do fewer MACs', async () => {
    const model = await loadModel(sparsePath);
    model.run(x, { profile: true });
    const rows = model.profile();
    assert.ok(rows.length >= 10);
    const sparse = rows.filter((r) => r.op === 'CONV_SPARSE' || r.op === 'FC_SPARSE');
    assert.ok(sparse.length >= 3);
    for (const r of sparse) {
      assert.match(r.kernel, /wasmsimd/);
      assert.ok(r.macs > 0 && r.macs < r.denseMacs, `${r.name}: ${r.macs} vs ${r.denseMacs}`);
    }
    assert.ok(sparse.every((r) => r.kernelFamily === 'f32_spmm' || r.kernelFamily === 'f32_spconv'));
    const dw = rows.find((r) => /dwconv/.test(r.kernel));
    assert.equal(dw.kernelFamily, 'f32_dwconv');
    assert.match(dw.kernel, /wasmsimd_3x3s1/);
    assert.ok(rows.every((r) => r.timeMs >= 0));
    assert.ok(rows.reduce((s, r) => s + r.timeMs, 0) > 0);
    assert.ok(model.weightBytes > 0 && model.arenaBytes > 0);
    model.free();
  });

  test('metadata is the converter\'s JSON, and the kernel choice is known before any run', async () => {
    const model = await loadModel(sparsePath);
    const meta = model.metadata();
    assert.match(meta.producer, /^sparsebyte /);
    const layers = new Set(meta.layers.map((l) => l.node));
    const rows = model.profile(); // no run yet: times are 0, everything else is decided at load
    assert.ok(rows.every((r) => r.timeMs === 0 && r.kernel !== ''));
    assert.ok([...layers].every((name) => rows.some((r) => r.name === name)));
    model.free();
  });
});
