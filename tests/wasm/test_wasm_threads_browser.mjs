// Headless Chromium (driven by test_wasm_threads.py): a cross-origin-isolated page runs a model on 2 threads (the
// pthreads build, workers from the page) with the single-thread build's outputs; the same page served without
// COOP/COEP falls back to the single-thread build. Prints JSON.
//   node tests/wasm/test_wasm_threads_browser.mjs MODEL.sbn
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium } from '../../web/tools/chromium.mjs';
import { serveStatic } from '../../web/tools/serve-static.mjs';

const model = process.argv[2];
const repo = fileURLToPath(new URL('../../', import.meta.url));
const mounts = { '/web/': `${repo}/web`, '/models/': dirname(model) };
const servers = { isolated: await serveStatic({ mounts, isolated: true }), plain: await serveStatic({ mounts, isolated: false }) };
const browser = await launchChromium();
const result = {};
try {
  for (const [kind, server] of Object.entries(servers)) {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${server.url}/`);
    result[kind] = await page.evaluate(async (url) => {
      const { loadModel } = await import('/web/src/index.js');
      const single = await loadModel(url);
      const x = Float32Array.from({ length: single.inputs[0].count }, (_, i) => Math.sin(i * 0.37) * 2);
      const want = single.run(x)[0];
      const two = await loadModel(url, { threads: 2 });
      let diff = 0;
      for (let r = 0; r < 3; r++) {
        const got = two.run(x)[0];
        for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - got[i]));
      }
      const out = { isolated: self.crossOriginIsolated, threads: two.threads, diff };
      single.free();
      two.free();
      return out;
    }, `/models/${basename(model)}`);
    result[kind].errors = errors;
    await page.close();
  }
} finally {
  await browser.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
}
console.log(JSON.stringify(result));
