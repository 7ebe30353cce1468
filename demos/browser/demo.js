// The demo page: loads the wasm engine and the dense and sparse MobileNetV2 (.sbn), preprocesses an image like
// sparsebyte.images.preprocess (short side 256, centre crop 224, ImageNet mean/std, NCHW) and shows top-5 and latency.
import { engineInfo, loadModel } from '/web/src/index.js';
import { pageThreads, threadsLabel } from './options.js';
import { setupPoseTab } from './pose.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const TIMED_RUNS = 5;

const $ = (id) => document.getElementById(id);
const status = (text, isError = false) => {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
};

function preprocess(image) {
  const canvas = $('preview');
  const ctx = canvas.getContext('2d');
  const w = image.naturalWidth || image.width;
  const h = image.naturalHeight || image.height;
  const scale = 256 / Math.min(w, h);
  const rw = Math.max(224, Math.round(w * scale));
  const rh = Math.max(224, Math.round(h * scale));
  // Draw the resized image shifted so that its centre 224x224 crop fills the canvas.
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(image, -Math.floor((rw - 224) / 2), -Math.floor((rh - 224) / 2), rw, rh);
  const { data } = ctx.getImageData(0, 0, 224, 224);
  const x = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < 224 * 224; i++) {
    for (let c = 0; c < 3; c++) x[c * 224 * 224 + i] = (data[4 * i + c] / 255 - MEAN[c]) / STD[c];
  }
  return x;
}

function top5(logits, labels) {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps
    .map((e, i) => ({ index: i, label: labels[i], p: e / sum }))
    .sort((a, b) => b.p - a.p)
    .slice(0, 5);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function classify(model, x) {
  model.run(x); // warm-up
  const times = [];
  let logits;
  for (let i = 0; i < TIMED_RUNS; i++) {
    const t0 = performance.now();
    [logits] = model.run(x);
    times.push(performance.now() - t0);
  }
  return { logits, ms: median(times) };
}

function show(section, result, labels) {
  const el = $(section);
  el.querySelector('[data-role=latency]').textContent = `${result.ms.toFixed(1)} ms`;
  const rows = top5(result.logits, labels);
  el.querySelector('[data-role=top5]').innerHTML = rows
    .map((r, i) => `<tr data-rank="${i + 1}"><td class="label">${r.label}</td><td class="p">${(100 * r.p).toFixed(1)}%</td></tr>`)
    .join('');
  el.dataset.top1 = rows[0].label;
}

function setupTabs() {
  const buttons = [...document.querySelectorAll('[role=tab]')];
  for (const button of buttons) {
    button.onclick = () => {
      for (const b of buttons) {
        b.setAttribute('aria-selected', String(b === button));
        $(b.dataset.tab).hidden = b !== button;
      }
    };
  }
}

async function main() {
  setupTabs();
  const manifest = await (await fetch('/assets/manifest.json')).json();
  if (manifest.pose) {
    setupPoseTab(manifest).catch((e) => {
      $('pose-status').textContent = `error: ${e.message}`;
      document.body.dataset.poseState = 'error';
    });
  }
  if (!manifest.dense) {
    status('this build has only the pose detector (see the second tab)');
    document.body.dataset.state = 'ready';
    $('tab-pose-button').click();
    return;
  }
  const [labels, dense, sparse, info] = await Promise.all([
    fetch(`/assets/${manifest.labels}`).then((r) => r.json()),
    loadModel(`/assets/${manifest.dense}`, { threads: pageThreads() }),
    loadModel(`/assets/${manifest.sparse}`, { threads: pageThreads() }),
    engineInfo(),
  ]);
  $('backend').textContent = `${info.version}, kernels: ${info.backend}, ${threadsLabel(dense)}`;
  const sizes = await Promise.all(
    [manifest.dense, manifest.sparse].map(async (f) => (await fetch(`/assets/${f}`, { method: 'HEAD' })).headers.get('content-length')),
  );
  $('dense').querySelector('[data-role=info]').textContent = `${(sizes[0] / 1e6).toFixed(1)} MB .sbn`;
  $('sparse').querySelector('[data-role=info]').textContent = `${manifest.sparse_label}, ${(sizes[1] / 1e6).toFixed(1)} MB .sbn`;

  const run = (image, name) => {
    status(`classifying ${name}...`);
    // Let the status paint before the synchronous runs.
    setTimeout(() => {
      try {
        const x = preprocess(image);
        const d = classify(dense, x);
        const s = classify(sparse, x);
        show('dense', d, labels);
        show('sparse', s, labels);
        $('speedup').textContent = `sparse is ${(d.ms / s.ms).toFixed(2)}x the speed of dense (median of ${TIMED_RUNS} runs each)`;
        status(`done: ${name}`);
        document.body.dataset.state = 'done';
      } catch (e) {
        status(`error: ${e.message}`, true);
        document.body.dataset.state = 'error';
      }
    }, 0);
  };
  const loadImage = (src) =>
    new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`could not decode image ${src}`));
      img.src = src;
    });

  $('bundled').onclick = async () => run(await loadImage(`/assets/${manifest.photo}`), 'bundled photo (chelsea)');
  $('file').onchange = async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const url = URL.createObjectURL(file);
    try {
      run(await loadImage(url), file.name);
    } catch (e) {
      status(`error: ${e.message}`, true);
    }
  };
  $('bundled').disabled = false;
  $('file').disabled = false;
  status('ready');
  document.body.dataset.state = 'ready';
}

main().catch((e) => {
  status(`error: ${e.message}`, true);
  document.body.dataset.state = 'error';
});
