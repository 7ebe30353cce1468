// Drives Debian's headless Chromium (playwright-core from web/node_modules) through the demo page's pose tab: detect
// in the bundled photo and print what the page decoded as JSON. Usage: node tests/wasm/browser_pose.mjs URL [SHOT.png]
import { launchChromium } from '../../web/tools/chromium.mjs';

const [url, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(url);
  await page.click('#tab-pose-button');
  await page.waitForSelector('body[data-pose-state=ready], body[data-pose-state=error]', { timeout: 120000 });
  await page.click('#pose-bundled');
  await page.waitForSelector('body[data-pose-state=done], body[data-pose-state=error]', { timeout: 120000 });
  const result = await page.evaluate(() => ({
    state: document.body.dataset.poseState,
    status: document.getElementById('pose-status').textContent,
    detections: JSON.parse(document.getElementById('pose-detections').textContent || 'null'),
    dense: document.getElementById('pose-dense-ms').textContent,
    sparse: document.getElementById('pose-sparse-ms').textContent,
    tabHidden: document.getElementById('tab-pose').hidden,
    threads: Number(document.body.dataset.poseThreads),
  }));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...result, consoleErrors }));
} finally {
  await browser.close();
}
