// The TypeScript declarations: tsc accepts the usage file (which also expects five type errors, so the types are
// not `any`), they declare every export of index.js, and package.json points at files that exist.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../', import.meta.url));
const tsc = join(web, 'node_modules', 'typescript', 'bin', 'tsc');

test('tsc --noEmit accepts the usage file against src/index.d.ts', () => {
  assert.ok(existsSync(tsc), 'typescript missing: run `npm ci` in web/ (.ci/install does)');
  const r = spawnSync(process.execPath, [tsc, '-p', join(web, 'test', 'types')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});

test('index.d.ts declares every export of index.js', () => {
  const names = (text, re) => [...text.matchAll(re)].map((m) => m[1]).sort();
  const js = names(readFileSync(join(web, 'src', 'index.js'), 'utf8'), /^export (?:async )?(?:function|class|const|let) (\w+)/gm);
  const dts = names(readFileSync(join(web, 'src', 'index.d.ts'), 'utf8'), /^export (?:declare )?(?:function|class|const) (\w+)/gm);
  assert.ok(js.length >= 4, js.join());
  assert.deepEqual(dts, js);
});

test('package.json names declarations and sources that exist', () => {
  const pkg = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8'));
  assert.equal(pkg.types, './src/index.d.ts');
  assert.equal(pkg.exports['.'].types, pkg.types);
  for (const file of [pkg.types, pkg.exports['.'].default, ...pkg.files.filter((f) => f.startsWith('src/'))]) {
    assert.ok(existsSync(join(web, file)), `${file} is missing`);
  }
  assert.ok(pkg.files.includes('src/index.d.ts'));
});
