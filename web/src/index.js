// sparsebyte for the web: the engine and its WebAssembly SIMD128 kernels behind a small ES-module API.
// Works in node (>= 18) and in browsers with wasm SIMD.
//
//   import { loadModel } from 'sparsebyte-wasm';
//   const model = await loadModel('mobilenet_v2.sbn');      // ArrayBuffer, typed array, URL or (node) file path
//   const fast = await loadModel(bytes, { threads: 2 });     // pthreads build when the page is cross-origin isolated
//   const [probs] = model.run(new Float32Array(model.inputs[0].count));
//   console.table(model.profile());                          // per-op time of the last run
//   model.free();
import createSparsebyteModule from '../dist/sparsebyte.js';

const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

// Most threads a model may ask for: each is a web worker (node: a worker thread) kept for the model's life.
export const MAX_THREADS = 64;

// Byte offsets of the C structs in wasm32 memory; web/src/layout_check.c fails the build if they change.
const TENSOR_INFO = { size: 36, name: 0, rank: 4, dims: 8, count: 32 };
const NODE_PROFILE = { size: 48, name: 0, op: 4, kernel: 8, timeMs: 16, macs: 24, denseMacs: 32, kernelFamily: 40 };

/**
 * An engine call failed, or the model could not be read: `status` is the engine's status name (e.g. "SB_ERR_FORMAT";
 * "SB_ERR_IO" for a missing file or URL).
 */
export class SparsebyteError extends Error {
  constructor(message, status, options) {
    super(message, options);
    this.name = 'SparsebyteError';
    this.status = status;
  }
}

// The two builds (web/wasm.mk): 'single' (dist/sparsebyte.js, no SharedArrayBuffer needed) and 'threads'
// (dist/sparsebyte-mt.js, pthreads over shared memory), each created on first use.
const enginePromises = { single: null, threads: null };

/**
 * Whether the pthreads build can run here: SharedArrayBuffer and shared wasm memory need a cross-origin-isolated page
 * (COOP same-origin + COEP require-corp headers); node always has them.
 */
export function threadsSupported() {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  return isNode || globalThis.crossOriginIsolated === true;
}

// Cores for threads: 'auto': navigator.hardwareConcurrency (browsers, node >= 21), else node's os module.
async function hardwareThreads() {
  let n = globalThis.navigator?.hardwareConcurrency;
  if (!Number.isInteger(n) && isNode) {
    const os = await import('node:os');
    n = os.availableParallelism?.() ?? os.cpus().length;
  }
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** `threads` as given to loadModel (undefined, 'auto' or 1..MAX_THREADS) -> the count asked; SB_ERR_ARGUMENT if bad. */
async function threadsAsked(threads) {
  if (threads === undefined) return 1;
  if (threads === 'auto') return Math.min(await hardwareThreads(), MAX_THREADS);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    const shown = typeof threads === 'string' ? `'${threads}'` : String(threads);
    throw new SparsebyteError(
      `threads must be an integer in 1..${MAX_THREADS} or 'auto', got ${shown} (${typeof threads})`,
      'SB_ERR_ARGUMENT',
    );
  }
  return threads;
}

async function readBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const isUrlObject = typeof URL !== 'undefined' && source instanceof URL;
  if (typeof source !== 'string' && !isUrlObject) {
    throw new TypeError('model source must be an ArrayBuffer, a typed array, a URL or a path string');
  }
  const text = String(source);
  if (isNode && !/^(https?|data|blob):/i.test(text)) {
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(isUrlObject ? source : text.startsWith('file:') ? new URL(text) : text));
    } catch (e) {
      throw new SparsebyteError(`could not read ${text}: ${e.code ?? e.message}`, 'SB_ERR_IO', { cause: e });
    }
  }
  let response;
  try {
    response = await fetch(source);
  } catch (e) {
    throw new SparsebyteError(`could not fetch ${text}: ${e.message}`, 'SB_ERR_IO', { cause: e });
  }
  if (!response.ok) throw new SparsebyteError(`could not fetch ${text}: HTTP ${response.status}`, 'SB_ERR_IO');
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The shared engine instance of one build (created on first use): the single-thread one, or with `threads: true` the
 * pthreads one (throws SB_ERR_UNSUPPORTED where threadsSupported() is false). `wasmUrl` / `threadsWasmUrl` override
 * where sparsebyte.wasm / sparsebyte-mt.wasm are read from. `poolSize`: workers the pthreads build starts with.
 */
export function loadEngine({ wasmUrl, threadsWasmUrl, threads = false, poolSize = 1 } = {}) {
  const kind = threads ? 'threads' : 'single';
  if (enginePromises[kind] === null) {
    enginePromises[kind] = kind === 'single' ? loadSingle(wasmUrl) : loadThreaded(threadsWasmUrl, poolSize);
    enginePromises[kind].catch(() => {
      enginePromises[kind] = null; // let a later call retry
    });
  }
  return enginePromises[kind];
}

async function loadSingle(wasmUrl) {
  const url = wasmUrl ?? new URL('../dist/sparsebyte.wasm', import.meta.url);
  const wasmBinary = await readBytes(url);
  return createSparsebyteModule({ wasmBinary });
}

async function loadThreaded(wasmUrl, poolSize) {
  if (!threadsSupported()) {
    throw new SparsebyteError(
      'the threads build needs SharedArrayBuffer: serve the page cross-origin isolated (Cross-Origin-Opener-Policy: ' +
        'same-origin, Cross-Origin-Embedder-Policy: require-corp)',
      'SB_ERR_UNSUPPORTED',
    );
  }
  const script = new URL('../dist/sparsebyte-mt.js', import.meta.url);
  const url = wasmUrl ?? new URL('../dist/sparsebyte-mt.wasm', import.meta.url);
  let factory;
  try {
    factory = (await import(script.href)).default;
  } catch (e) {
    throw new SparsebyteError(`could not load ${script.href}: ${e.message} (run web/build.sh)`, 'SB_ERR_IO', { cause: e });
  }
  const wasmBinary = await readBytes(url);
  // sbPoolSize: workers started (and loaded) before the module resolves (wasm.mk: PTHREAD_POOL_SIZE); emscripten
  // 3.1.6 never resolves with 0. The workers import the main script from mainScriptUrlOrBlob.
  const mod = await factory({ wasmBinary, sbPoolSize: Math.max(1, poolSize), mainScriptUrlOrBlob: script.href });
  mod.sbQueue = Promise.resolve();
  unrefWorkers(mod);
  return mod;
}

// node: idle pool workers must not keep the process alive.
function unrefWorkers(mod) {
  if (!isNode) return;
  for (const w of [...mod.PThread.unusedWorkers, ...mod.PThread.runningWorkers]) w.unref?.();
}

/** Starts and loads workers until `count` are idle: pthread_create (wasm.mk: PTHREAD_POOL_SIZE_STRICT=2) only takes
 * loaded ones, since a worker started during a blocking call could never load (it needs the event loop). */
async function ensureIdleWorkers(mod, count) {
  const pthread = mod.PThread;
  const loading = [];
  while (pthread.unusedWorkers.length < count) {
    pthread.allocateUnusedWorker();
    const worker = pthread.unusedWorkers[pthread.unusedWorkers.length - 1];
    loading.push(new Promise((resolve) => pthread.loadWasmModuleToWorker(worker, resolve)));
  }
  await Promise.all(loading);
  unrefWorkers(mod);
}

/** Gives a model of the pthreads build its thread pool; returns the threads it really got (workers may be missing). */
function startThreads(mod, handle, threads) {
  const running = mod.PThread.runningWorkers.length;
  check(mod, mod._sb_model_set_threads(handle, threads), `threads=${threads}`);
  return 1 + mod.PThread.runningWorkers.length - running;
}

// Typed-array views of the wasm memory. The pthreads build's memory is a growable SharedArrayBuffer: when another
// thread grows it, this thread's old views keep the old length, so views are rebuilt whenever the buffer changed.
function heap(mod) {
  const buffer = mod.wasmMemory ? mod.wasmMemory.buffer : mod.HEAPU8.buffer;
  if (mod.sbViews?.buffer !== buffer) {
    mod.sbViews = {
      buffer,
      U8: new Uint8Array(buffer),
      I32: new Int32Array(buffer),
      U32: new Uint32Array(buffer),
      F32: new Float32Array(buffer),
      F64: new Float64Array(buffer),
    };
  }
  return mod.sbViews;
}

// emscripten's default MAXIMUM_MEMORY (web/wasm.mk sets no other): no allocation can be larger. _malloc returns 0
// when the heap cannot grow; writing there would overwrite the start of memory, other models' data included.
const HEAP_MAX_BYTES = 2 ** 31;

/** `bytes` bytes of wasm heap, or a SparsebyteError SB_ERR_NOMEM naming the size; free with mod._free(). */
function alloc(mod, bytes, what) {
  const fits = Number.isSafeInteger(bytes) && bytes >= 0 && bytes < HEAP_MAX_BYTES;
  const ptr = fits ? mod._malloc(Math.max(1, bytes)) >>> 0 : 0;
  if (ptr === 0) {
    const size = `${heap(mod).U8.length} bytes now, at most ${HEAP_MAX_BYTES}`;
    throw new SparsebyteError(`${what}: cannot allocate ${bytes} bytes in the wasm heap (${size})`, 'SB_ERR_NOMEM');
  }
  return ptr;
}

function check(mod, status, what) {
  if (status !== 0) {
    const name = mod.UTF8ToString(mod._sb_status_name(status));
    const detail = mod.UTF8ToString(mod._sb_last_error());
    throw new SparsebyteError(`${what}: ${detail || name}`, name);
  }
}

function readTensorInfo(mod, ptr) {
  const base = ptr >> 2;
  const h = heap(mod);
  const rank = h.I32[(ptr + TENSOR_INFO.rank) >> 2];
  const dims = Array.from(h.I32.subarray(base + TENSOR_INFO.dims / 4, base + TENSOR_INFO.dims / 4 + rank));
  return {
    name: mod.UTF8ToString(h.U32[(ptr + TENSOR_INFO.name) >> 2]),
    dims,
    count: h.U32[(ptr + TENSOR_INFO.count) >> 2],
  };
}

function readInt64(mod, ptr) {
  const h = heap(mod);
  return h.I32[(ptr >> 2) + 1] * 4294967296 + h.U32[ptr >> 2];
}

/** A loaded .sbn model. Create with loadModel(); call free() when done (wasm memory is not garbage collected). */
export class Model {
  constructor(mod, handle, threads = 1) {
    this._mod = mod;
    this._handle = handle;
    /** Threads the model runs on: 1 for the single-thread build, else the pthreads build's pool (caller included). */
    this.threads = threads;
    this.inputs = this._infos(mod._sb_model_num_inputs, mod._sb_model_input_info, 'input');
    this.outputs = this._infos(mod._sb_model_num_outputs, mod._sb_model_output_info, 'output');
    this._profiling = false;
  }

  _live() {
    if (this._handle === 0) throw new SparsebyteError('the model was freed', 'SB_ERR_ARGUMENT');
    return this._handle;
  }

  _infos(countFn, infoFn, what) {
    const mod = this._mod;
    const n = countFn(this._handle);
    const ptr = alloc(mod, TENSOR_INFO.size, `${what} info`);
    try {
      const infos = [];
      for (let i = 0; i < n; i++) {
        check(mod, infoFn(this._handle, i, ptr), `${what} ${i}`);
        infos.push(readTensorInfo(mod, ptr));
      }
      return infos;
    } finally {
      mod._free(ptr);
    }
  }

  /** Name of the kernel set the engine runs ("wasm-simd128"). */
  get backend() {
    return this._mod.UTF8ToString(this._mod._sb_backend_name());
  }

  /** Bytes of the planned activation arena and of the constant weights. */
  get arenaBytes() {
    return this._mod._sb_model_arena_bytes(this._live()) >>> 0;
  }

  get weightBytes() {
    return this._mod._sb_model_weight_bytes(this._live()) >>> 0;
  }

  /**
   * Runs the model. `inputs`: one Float32Array (single-input models), an array of them in input order, or an object
   * keyed by input name. Options: {profile: true} times every op (read with profile()). Returns the outputs as
   * Float32Arrays in output order; each array also carries `name` and `dims` properties.
   */
  run(inputs, { profile = false } = {}) {
    const mod = this._mod;
    const handle = this._live();
    const list = this._inputList(inputs);
    if (profile !== this._profiling) {
      check(mod, mod._sb_model_set_profiling(handle, profile ? 1 : 0), 'set profiling');
      this._profiling = profile;
    }
    for (let i = 0; i < list.length; i++) {
      const data = list[i];
      const info = this.inputs[i];
      if (!(data instanceof Float32Array)) {
        throw new TypeError(`input '${info.name}' must be a Float32Array, got ${Object.prototype.toString.call(data)}`);
      }
      if (data.length !== info.count) {
        throw new SparsebyteError(
          `input '${info.name}' has ${data.length} floats, the model expects ${info.count} (shape [${info.dims}])`,
          'SB_ERR_ARGUMENT',
        );
      }
      const ptr = alloc(mod, data.length * 4, `input '${info.name}'`);
      try {
        heap(mod).F32.set(data, ptr >> 2);
        check(mod, mod._sb_model_set_input(handle, i, ptr, data.length), `set input '${info.name}'`);
      } finally {
        mod._free(ptr);
      }
    }
    check(mod, mod._sb_model_run(handle), 'run');
    return this.outputs.map((info, i) => {
      const ptr = alloc(mod, info.count * 4, `output '${info.name}'`);
      try {
        check(mod, mod._sb_model_get_output(handle, i, ptr, info.count), `get output '${info.name}'`);
        const out = heap(mod).F32.slice(ptr >> 2, (ptr >> 2) + info.count); // slice: a plain (unshared) copy
        return Object.assign(out, { name: info.name, dims: info.dims.slice() });
      } finally {
        mod._free(ptr);
      }
    });
  }

  _inputList(inputs) {
    if (ArrayBuffer.isView(inputs) || !(typeof inputs === 'object' && inputs !== null)) {
      if (this.inputs.length !== 1) {
        throw new SparsebyteError(`the model has ${this.inputs.length} inputs: pass an array or an object`, 'SB_ERR_ARGUMENT');
      }
      return [inputs];
    }
    if (Array.isArray(inputs)) {
      if (inputs.length !== this.inputs.length) {
        throw new SparsebyteError(`got ${inputs.length} inputs, the model has ${this.inputs.length}`, 'SB_ERR_ARGUMENT');
      }
      return inputs;
    }
    const unknown = Object.keys(inputs).filter((k) => !this.inputs.some((info) => info.name === k));
    if (unknown.length > 0) {
      throw new SparsebyteError(
        `unknown input name(s) ${unknown.join(', ')}; the model's inputs are ${this.inputs.map((i) => i.name).join(', ')}`,
        'SB_ERR_ARGUMENT',
      );
    }
    return this.inputs.map((info) => {
      if (!(info.name in inputs)) throw new SparsebyteError(`missing input '${info.name}'`, 'SB_ERR_ARGUMENT');
      return inputs[info.name];
    });
  }

  /** Per-op profile of the last run made with {profile: true}: [{name, op, kernel, kernelFamily, timeMs, macs,
   * denseMacs}]; all but timeMs are known right after load. */
  profile() {
    const mod = this._mod;
    const handle = this._live();
    const n = mod._sb_model_num_nodes(handle);
    const ptr = alloc(mod, NODE_PROFILE.size, 'profile');
    try {
      const rows = [];
      for (let i = 0; i < n; i++) {
        check(mod, mod._sb_model_node_profile(handle, i, ptr), `profile of node ${i}`);
        const str = (off) => {
          const p = heap(mod).U32[(ptr + off) >> 2];
          return p === 0 ? '' : mod.UTF8ToString(p);
        };
        rows.push({
          name: str(NODE_PROFILE.name),
          op: str(NODE_PROFILE.op),
          kernel: str(NODE_PROFILE.kernel),
          kernelFamily: str(NODE_PROFILE.kernelFamily),
          timeMs: heap(mod).F64[(ptr + NODE_PROFILE.timeMs) >> 3],
          macs: readInt64(mod, ptr + NODE_PROFILE.macs),
          denseMacs: readInt64(mod, ptr + NODE_PROFILE.denseMacs),
        });
      }
      return rows;
    } finally {
      mod._free(ptr);
    }
  }

  /**
   * The METADATA the converter stored in the file (producer, source, per-layer sparsity, G and dense/sparse choice),
   * parsed; {} when the file has none. Throws SparsebyteError SB_ERR_FORMAT when it is not a JSON object.
   */
  metadata() {
    const mod = this._mod;
    const sizePtr = alloc(mod, 4, 'metadata');
    try {
      const ptr = mod._sb_model_metadata(this._live(), sizePtr);
      if (ptr === 0) return {};
      const h = heap(mod);
      // slice: TextDecoder refuses views of a SharedArrayBuffer (the pthreads build)
      const text = new TextDecoder().decode(h.U8.slice(ptr, ptr + h.U32[sizePtr >> 2]));
      let value;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw new SparsebyteError(`METADATA is not JSON: ${e.message}`, 'SB_ERR_FORMAT');
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new SparsebyteError('METADATA is not a JSON object', 'SB_ERR_FORMAT');
      }
      return value;
    } finally {
      mod._free(sizePtr);
    }
  }

  /** Releases the model's wasm memory (and its worker threads, which go back to the idle pool). Safe to call twice. */
  free() {
    if (this._handle !== 0) {
      this._mod._sb_model_free(this._handle);
      this._handle = 0;
    }
  }
}

/**
 * Loads and validates a .sbn model. `source`: ArrayBuffer or typed array of the file's bytes, a URL (fetched), or in
 * node a file path. Throws SparsebyteError naming the problem when the bytes are not a valid model.
 * `threads` (default 1): an integer 1..MAX_THREADS or 'auto' (the machine's cores). Above 1 the model runs
 * on the pthreads build when threadsSupported(), else on the single-thread build (model.threads says which).
 */
export async function loadModel(source, options = {}) {
  const threads = await threadsAsked(options.threads);
  const threaded = threads > 1 && threadsSupported();
  const engineOptions = { ...options, threads: threaded, poolSize: threads - 1 };
  const [mod, bytes] = await Promise.all([loadEngine(engineOptions), readBytes(source)]);
  if (!threaded) return loadInto(mod, bytes, 1);
  // One load at a time per engine: a second load must not count the workers the first is about to take.
  const result = mod.sbQueue.then(async () => {
    await ensureIdleWorkers(mod, threads - 1);
    return loadInto(mod, bytes, threads);
  });
  mod.sbQueue = result.catch(() => {});
  return result;
}

function loadInto(mod, bytes, threads) {
  const dataPtr = alloc(mod, bytes.length, 'load model');
  let outPtr = 0;
  let handle = 0;
  try {
    outPtr = alloc(mod, 4, 'load model');
    heap(mod).U8.set(bytes, dataPtr);
    heap(mod).U32[outPtr >> 2] = 0;
    check(mod, mod._sb_model_load_memory(dataPtr, bytes.length, outPtr), 'load model');
    handle = heap(mod).U32[outPtr >> 2];
    const got = threads > 1 ? startThreads(mod, handle, threads) : 1;
    const model = new Model(mod, handle, got);
    handle = 0;
    return model;
  } finally {
    if (handle !== 0) mod._sb_model_free(handle);
    if (outPtr !== 0) mod._free(outPtr);
    mod._free(dataPtr); // load_memory copies the bytes
  }
}

/** Engine version and kernel set, e.g. {version: "1.0.0", backend: "wasm-simd128"}. */
export async function engineInfo(options = {}) {
  const mod = await loadEngine({ ...options, threads: false });
  return { version: mod.UTF8ToString(mod._sb_version_string()), backend: mod.UTF8ToString(mod._sb_backend_name()) };
}
