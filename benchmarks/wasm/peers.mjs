// The peers of the wasm benchmarks in node, one thread each, used by benchmarks/wasm/bench.mjs and
// benchmarks/zoo/bench_node.mjs:
// - onnxruntime-web (wasm SIMD backend) on the .onnx file;
// - @tensorflow/tfjs-backend-wasm (XNNPACK) running the ONNX graph rebuilt from tfjs-core ops, NHWC: the op list and
//   weights written by benchmarks/wasm/prepare.py onnx_to_tfjs (tfjs-layers is not needed: its layers call the same
//   fused conv/matMul ops).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '../../web');
const require = createRequire(join(webDir, 'package.json'));

let tf = null;

/** A runner {run: async () => {output name: Float32Array}, inputNames, outputNames} over onnxruntime-web, 1 thread;
 *  `feeds` maps input name -> {data: Float32Array, dims}. */
export async function ortWebRunner(onnxPath, feeds) {
  const ort = require('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create(readFileSync(onnxPath), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: async () => {
      const out = await session.run(tensors);
      return Object.fromEntries(session.outputNames.map((n) => [n, out[n].data]));
    },
    dispose: () => session.release(),
  };
}

/** tfjs-core on the wasm backend, one thread (set before the backend starts). */
export async function tfjsWasm() {
  if (tf) return tf;
  tf = require('@tensorflow/tfjs-core');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out')}/`);
  if (wasm.setThreadsCount) wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  return tf;
}

/** A runner {run: async () => Float32Array, dispose} for graph JSON + weights .bin on NCHW input `x` of `shape`. */
export async function tfjsGraphRunner(jsonPath, binPath, x, shape) {
  const tf = await tfjsWasm();
  const graph = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const bin = readFileSync(binPath);
  const blob = (ref) => {
    const count = ref.shape.reduce((a, b) => a * b, 1);
    const start = bin.byteOffset + ref.offset;
    return tf.tensor(new Float32Array(bin.buffer.slice(start, start + 4 * count)), ref.shape);
  };
  const weights = graph.ops.map((op) =>
    op.op === 'conv' ? { filter: blob(op.filter), bias: blob(op.bias) } : op.op === 'dense' ? { w: blob(op.weight), b: blob(op.bias) } : null,
  );
  const nhwc = tf.transpose(tf.tensor(x, shape), [0, 2, 3, 1]);
  const binary = { add: tf.add, mul: tf.mul, sub: tf.sub, div: tf.div };
  const forward = () =>
    tf.tidy(() => {
      const env = new Map([[graph.input, nhwc]]);
      graph.ops.forEach((op, i) => {
        const w = weights[i];
        const x0 = op.input === undefined ? null : env.get(op.input);
        let y;
        if (op.op === 'conv') {
          const common = { x: x0, filter: w.filter, strides: op.strides, pad: op.pads, dilations: op.dilations, bias: w.bias, activation: op.activation };
          y = op.depthwise ? tf.fused.depthwiseConv2d(common) : tf.fused.conv2d(common);
        } else if (op.op === 'alias') y = x0;
        else if (op.op === 'relu') y = tf.relu(x0);
        else if (op.op === 'sigmoid') y = tf.sigmoid(x0);
        else if (op.op === 'tanh') y = tf.tanh(x0);
        else if (op.op === 'clip') y = op.min === 0 && op.max === 6 ? tf.relu6(x0) : tf.clipByValue(x0, op.min, op.max);
        else if (op.op === 'hardsigmoid') y = tf.clipByValue(tf.add(tf.mul(x0, op.alpha), op.beta), 0, 1);
        // how Keras' MobileNetV3 writes hard-swish: x * relu6(x + 3) / 6
        else if (op.op === 'hardswish') y = tf.mul(x0, tf.div(tf.relu6(tf.add(x0, 3)), 6));
        else if (op.op in binary) {
          const [a, b] = op.inputs.map((name, k) => (name === null ? op.constants[k] : env.get(name)));
          y = binary[op.op](a, b);
        } else if (op.op === 'gap') y = tf.mean(x0, [1, 2], op.keep !== false);
        else if (op.op === 'maxpool') y = tf.maxPool(x0, op.kernel, op.strides, op.pads);
        else if (op.op === 'avgpool') y = tf.avgPool(x0, op.kernel, op.strides, op.pads);
        else if (op.op === 'concat') y = tf.concat(op.inputs.map((n) => env.get(n)), op.axis);
        else if (op.op === 'flatten') y = tf.reshape(x0, [x0.shape[0], -1]);
        else if (op.op === 'dense') y = tf.fused.matMul({ a: x0, b: w.w, bias: w.b });
        else throw new Error(`tfjs graph: unknown op ${op.op}`);
        env.set(op.output, y);
      });
      return env.get(graph.output);
    });
  return {
    run: async () => {
      const y = forward();
      const data = await y.data();
      y.dispose();
      return data;
    },
    dispose: () => {
      nhwc.dispose();
      for (const w of weights) if (w) Object.values(w).forEach((t) => t.dispose());
    },
  };
}
