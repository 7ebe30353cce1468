// Drives Debian's headless Chromium (playwright-core from web/node_modules) through the demo page: classify the
// bundled photo and print what the page shows as JSON. Usage: node tests/wasm/browser_demo.mjs URL [SCREENSHOT.png]
import { launchChromium } from '../../web/tools/chromium.mjs';

const [url, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-state=ready], body[data-state=error]', { timeout: 120000 });
  await page.click('#bundled');
  await page.waitForSelector('body[data-state=done], body[data-state=error]', { timeout: 120000 });
  const result = await page.evaluate(() => {
    const section = (id) => ({
      top1: document.getElementById(id).dataset.top1 ?? null,
      labels: [...document.querySelectorAll(`#${id} td.label`)].map((td) => td.textContent),
      latency: document.querySelector(`#${id} [data-role=latency]`).textContent,
    });
    return { state: document.body.dataset.state, status: document.getElementById('status').textContent,
      backend: document.getElementById('backend').textContent, dense: section('dense'), sparse: section('sparse') };
  });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...result, consoleErrors }));
} finally {
  await browser.close();
}
