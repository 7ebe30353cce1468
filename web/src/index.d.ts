// Type declarations of the ES-module API in index.js (checked by web/test/types.test.mjs with `tsc --noEmit`).

/** A .sbn model: its bytes, a URL (fetched), or in node a file path or file: URL. */
export type ModelSource = ArrayBuffer | ArrayBufferView | URL | string;

/** The engine's status names (engine/include/sparsebyte.h); "SB_ERR_IO" also for a missing file or URL. */
export type StatusName =
  | 'SB_ERR_IO'
  | 'SB_ERR_FORMAT'
  | 'SB_ERR_VERSION'
  | 'SB_ERR_UNSUPPORTED'
  | 'SB_ERR_NOMEM'
  | 'SB_ERR_ARGUMENT';

export interface EngineOptions {
  /** Where sparsebyte.wasm is read from (default: dist/sparsebyte.wasm next to this package's src/). */
  wasmUrl?: string | URL;
  /** Where the pthreads build's sparsebyte-mt.wasm is read from (default: dist/sparsebyte-mt.wasm). */
  threadsWasmUrl?: string | URL;
}

export interface LoadEngineOptions extends EngineOptions {
  /** The pthreads build (rejects with SB_ERR_UNSUPPORTED where threadsSupported() is false). Default false. */
  threads?: boolean;
  /** Workers the pthreads build starts when it loads (at least 1). */
  poolSize?: number;
}

export interface LoadModelOptions extends EngineOptions {
  /**
   * Threads to run on, 1..MAX_THREADS, or 'auto' (the machine's cores: navigator.hardwareConcurrency, node's os
   * module). Default 1. Above 1 the pthreads
   * build runs the model when threadsSupported(), else the single-thread build does (Model.threads says which).
   * Anything else rejects with a SparsebyteError SB_ERR_ARGUMENT.
   */
  threads?: number | 'auto';
}

/** Most threads a model may ask for (each is a web worker, in node a worker thread). */
export const MAX_THREADS: 64;

/** Whether the pthreads build can run here: a cross-origin-isolated page (COOP + COEP headers), or node. */
export function threadsSupported(): boolean;

export interface TensorInfo {
  readonly name: string;
  readonly dims: number[];
  /** Number of float32 elements. */
  readonly count: number;
}

/** An output tensor: its values, plus the output's name and dims. */
export type Output = Float32Array & { readonly name: string; readonly dims: number[] };

/** One input for single-input models, an array in input order, or an object keyed by input name. */
export type Inputs = Float32Array | readonly Float32Array[] | Readonly<Record<string, Float32Array>>;

export interface RunOptions {
  /** Time every op; read the times with Model.profile(). */
  profile?: boolean;
}

export interface NodeProfile {
  name: string;
  op: string;
  kernel: string;
  /** Registry family of the kernel ("f32_spmm", ...); "" for built-in code. */
  kernelFamily: string;
  timeMs: number;
  macs: number;
  denseMacs: number;
}

export interface EngineInfo {
  version: string;
  backend: string;
}

/** An engine call failed, or the model could not be read. */
export class SparsebyteError extends Error {
  constructor(message: string, status: StatusName | string, options?: { cause?: unknown });
  readonly name: 'SparsebyteError';
  readonly status: StatusName | string;
}

/** A loaded .sbn model. Create with loadModel(); call free() when done (wasm memory is not garbage collected). */
export class Model {
  private constructor();
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  /** Name of the kernel set the engine runs ("wasm-simd128"). */
  readonly backend: string;
  /** Threads the model runs on: 1 on the single-thread build, else its pool's size (the calling thread included). */
  readonly threads: number;
  readonly arenaBytes: number;
  readonly weightBytes: number;
  run(inputs: Inputs, options?: RunOptions): Output[];
  /** Per-op profile of the last run made with {profile: true}; all but timeMs are known right after load. */
  profile(): NodeProfile[];
  /** The converter's METADATA (producer, source, per-layer notes), parsed; {} when the file has none. */
  metadata(): Record<string, unknown>;
  /** Releases the model's wasm memory. Safe to call twice. */
  free(): void;
}

/** The shared engine instance (the emscripten module), created on first use. */
export function loadEngine(options?: LoadEngineOptions): Promise<object>;

/** Loads and validates a .sbn model; rejects with a SparsebyteError naming the problem. */
export function loadModel(source: ModelSource, options?: LoadModelOptions): Promise<Model>;

export function engineInfo(options?: EngineOptions): Promise<EngineInfo>;
