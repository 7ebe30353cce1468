// Debian's headless Chromium through playwright-core (web/node_modules), launched the same way by every test and
// benchmark that drives a page. SB_CHROMIUM overrides the binary.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../package.json', import.meta.url));
const { chromium } = require('playwright-core');

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.SB_CHROMIUM ?? '/usr/bin/chromium',
    // playwright adds --headless and a fresh --user-data-dir; the rest keeps the browser off the network
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
