// Prepended to dist/sparsebyte-mt.js by web/wasm.mk: emscripten 3.1.6's node code calls require() and reads
// __dirname, which an ES module does not have. Browsers skip the imports (no process object).
const isNodeShim = typeof process == 'object' && typeof process.versions == 'object' && typeof process.versions.node == 'string';
const require = isNodeShim ? (await import('node:module')).createRequire(import.meta.url) : undefined;
const __dirname = isNodeShim ? (await import('node:path')).dirname((await import('node:url')).fileURLToPath(import.meta.url)) : '';
