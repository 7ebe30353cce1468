// Test models for the node tests: the directory in SB_WASM_TEST_MODELS (the pytest wrapper in tests/wasm/ makes it),
// else made once here with the team's converter (python3 tests/wasm/wasm_models.py).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

export function testModelDir() {
  let dir = process.env.SB_WASM_TEST_MODELS;
  if (dir && existsSync(join(dir, 'small_g4.sbn'))) return dir;
  dir = mkdtempSync(join(tmpdir(), 'sb-wasm-models-'));
  const r = spawnSync('python3', [join(repo, 'tests/wasm/wasm_models.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wasm_models.py failed:\n${r.stdout}\n${r.stderr}`);
  process.env.SB_WASM_TEST_MODELS = dir;
  return dir;
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomInput(count, seed = 1) {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}
