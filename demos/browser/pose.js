// The pose tab: MediaPipe's sparse pose detector (pose_detection.tflite converted by sparsebyte, dense and sparse),
// decoded as MediaPipe's graph does, on the bundled photo or the user's image. Every option and the anchors come from pose_detection.json, which build.py
// writes from sparsebyte.ssd (the Python decoder): no constant is repeated here.
import { loadModel } from '/web/src/index.js';
import { pageThreads, threadsLabel } from './options.js';

/** Letterboxes `image` into the model input (keep aspect ratio, centred on black) on `canvas`; returns the NHWC tensor
 * in the graph's float range and the letterbox padding (fractions left, top, right, bottom). A 224x224 image is
 * copied pixel for pixel, so the bundled input equals Python's. */
export function letterbox(image, canvas, params) {
  const opts = params.image_to_tensor;
  const W = opts.output_tensor_width;
  const H = opts.output_tensor_height;
  const iw = image.naturalWidth || image.width;
  const ih = image.naturalHeight || image.height;
  const scale = Math.min(W / iw, H / ih);
  const rw = Math.max(1, Math.round(iw * scale));
  const rh = Math.max(1, Math.round(ih * scale));
  const x0 = Math.floor((W - rw) / 2);
  const y0 = Math.floor((H - rh) / 2);
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, W, H);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(image, x0, y0, rw, rh);
  const { data } = ctx.getImageData(0, 0, W, H);
  const [lo, hi] = opts.output_tensor_float_range;
  const x = new Float32Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    for (let c = 0; c < 3; c++) x[3 * i + c] = data[4 * i + c] * ((hi - lo) / 255) + lo;
  }
  return { x, padding: [x0 / W, y0 / H, (W - rw - x0) / W, (H - rh - y0) / H] };
}

/** TensorsToDetectionsCalculator (one class): decoded boxes [xmin, ymin, w, h] and keypoints, scores >= threshold. */
export function decode(params, rawBoxes, rawScores) {
  const o = params.decoder;
  const anchors = params.anchor_values;
  const out = [];
  for (let i = 0; i < o.num_boxes; i++) {
    let score = rawScores[i * o.num_classes];
    for (let c = 1; c < o.num_classes; c++) score = Math.max(score, rawScores[i * o.num_classes + c]);
    if (o.sigmoid_score) {
      const clip = o.score_clipping_thresh;
      if (clip !== undefined && clip !== null) score = Math.min(clip, Math.max(-clip, score));
      score = 1 / (1 + Math.exp(-score));
    }
    if (score < o.min_score_thresh) continue;
    const b = i * o.num_coords + o.box_coord_offset;
    const [axc, ayc, aw, ah] = anchors[i];
    const [x, y, w, h] = o.reverse_output_order
      ? [rawBoxes[b], rawBoxes[b + 1], rawBoxes[b + 2], rawBoxes[b + 3]]
      : [rawBoxes[b + 1], rawBoxes[b], rawBoxes[b + 3], rawBoxes[b + 2]];
    const xc = (x / o.x_scale) * aw + axc;
    const yc = (y / o.y_scale) * ah + ayc;
    const bw = (w / o.w_scale) * aw;
    const bh = (h / o.h_scale) * ah;
    if (!(bw >= 0 && bh >= 0)) continue;
    const keypoints = [];
    for (let k = 0; k < o.num_keypoints; k++) {
      const p = i * o.num_coords + o.keypoint_coord_offset + k * o.num_values_per_keypoint;
      const [kx, ky] = o.reverse_output_order ? [rawBoxes[p], rawBoxes[p + 1]] : [rawBoxes[p + 1], rawBoxes[p]];
      keypoints.push([(kx / o.x_scale) * aw + axc, (ky / o.y_scale) * ah + ayc]);
    }
    out.push({ box: [xc - bw / 2, yc - bh / 2, bw, bh], keypoints, score, anchor: i, merged: 1 });
  }
  return out;
}

function iou(a, b) {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (ix < 0 || iy < 0) return 0;
  const inter = ix * iy;
  const norm = a[2] * a[3] + b[2] * b[3] - inter;
  return norm > 0 ? inter / norm : 0;
}

/** NonMaxSuppressionCalculator's WEIGHTED algorithm (IoU): score-weighted mean of each cluster's boxes/keypoints. */
export function weightedNms(params, detections) {
  const { min_suppression_threshold: threshold } = params.nms;
  let remaining = detections.map((d, i) => i).sort((a, b) => detections[b].score - detections[a].score || a - b);
  const out = [];
  while (remaining.length) {
    const best = detections[remaining[0]];
    const candidates = [];
    const rest = [];
    for (const i of remaining) (iou(detections[i].box, best.box) > threshold ? candidates : rest).push(i);
    const result = { ...best, merged: 1 };
    if (candidates.length) {
      let total = 0;
      const c = [0, 0, 0, 0];
      const kp = best.keypoints.map(() => [0, 0]);
      for (const i of candidates) {
        const d = detections[i];
        total += d.score;
        c[0] += d.box[0] * d.score;
        c[1] += d.box[1] * d.score;
        c[2] += (d.box[0] + d.box[2]) * d.score;
        c[3] += (d.box[1] + d.box[3]) * d.score;
        d.keypoints.forEach(([x, y], k) => {
          kp[k][0] += x * d.score;
          kp[k][1] += y * d.score;
        });
      }
      const [x0, y0, x1, y1] = c.map((v) => v / total);
      result.box = [x0, y0, x1 - x0, y1 - y0];
      result.keypoints = kp.map(([x, y]) => [x / total, y / total]);
      result.merged = candidates.length;
    }
    out.push(result);
    if (rest.length === remaining.length) break;
    remaining = rest;
  }
  return out;
}

/** DetectionLetterboxRemovalCalculator: relative to the model input -> relative to the image. */
export function removeLetterbox(detections, [left, top, right, bottom]) {
  const sx = 1 - left - right;
  const sy = 1 - top - bottom;
  return detections.map((d) => ({
    ...d,
    box: [(d.box[0] - left) / sx, (d.box[1] - top) / sy, d.box[2] / sx, d.box[3] / sy],
    keypoints: d.keypoints.map(([x, y]) => [(x - left) / sx, (y - top) / sy]),
  }));
}

const TIMED_RUNS = 5;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of TIMED_RUNS runs of each model, interleaved run by run after one warm-up each; the last outputs. */
function timeBoth(models, x) {
  const times = models.map(() => []);
  const outputs = models.map((m) => m.run(x));
  for (let r = 0; r < TIMED_RUNS; r++) {
    models.forEach((m, k) => {
      const t0 = performance.now();
      outputs[k] = m.run(x);
      times[k].push(performance.now() - t0);
    });
  }
  return { ms: times.map(median), outputs };
}

/** Wires the pose tab: manifest.pose names the models, the params JSON, the bundled photo and its exact input. */
export async function setupPoseTab(manifest) {
  const $ = (id) => document.getElementById(id);
  const status = (text, isError = false) => {
    $('pose-status').textContent = text;
    $('pose-status').className = isError ? 'error' : '';
  };
  const files = manifest.pose;
  const [params, dense, sparse] = await Promise.all([
    fetch(`/assets/${files.params}`).then((r) => r.json()),
    loadModel(`/assets/${files.dense}`, { threads: pageThreads() }),
    loadModel(`/assets/${files.sparse}`, { threads: pageThreads() }),
  ]);
  document.body.dataset.poseThreads = String(dense.threads);
  $('pose-info').textContent = `${files.label}; ${params.anchor_values.length} SSD anchors, weighted NMS ` +
    `(options: ${params.source}); ${threadsLabel(dense)}`;
  const loadImage = (src) =>
    new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`could not decode image ${src}`));
      img.src = src;
    });
  const run = (shown, input, name) => {
    status(`detecting in ${name}...`);
    setTimeout(() => {
      try {
        const { x, padding } = letterbox(input.image, $('pose-input'), params);
        const { ms, outputs } = timeBoth([dense, sparse], x);
        const pad = input.padding ?? padding;
        const found = outputs.map((o) => removeLetterbox(detect(params, o), pad));
        draw($('pose-canvas'), shown, found[1]);
        $('pose-dense-ms').textContent = `${ms[0].toFixed(1)} ms`;
        $('pose-sparse-ms').textContent = `${ms[1].toFixed(1)} ms`;
        $('pose-speedup').textContent = `sparse is ${(ms[0] / ms[1]).toFixed(2)}x the speed of dense ` +
          `(median of ${TIMED_RUNS} interleaved runs each)`;
        $('pose-detections').textContent = JSON.stringify({ dense: found[0], sparse: found[1] });
        $('pose-list').innerHTML = found[1].map((d) => `<li>score ${d.score.toFixed(3)}, box x ${d.box[0].toFixed(3)} ` +
          `y ${d.box[1].toFixed(3)} w ${d.box[2].toFixed(3)} h ${d.box[3].toFixed(3)}</li>`).join('') ||
          '<li>no person found</li>';
        status(`done: ${name}, ${found[1].length} detection(s)`);
        document.body.dataset.poseState = 'done';
      } catch (e) {
        status(`error: ${e.message}`, true);
        document.body.dataset.poseState = 'error';
      }
    }, 0);
  };
  $('pose-bundled').onclick = async () => {
    // The photo as Python letterboxed it (a lossless 224x224 PNG), so the page's input equals Python's.
    const [shown, image] = await Promise.all([loadImage(`/assets/${files.photo}`), loadImage(`/assets/${files.input}`)]);
    run(shown, { image, padding: files.padding }, `the bundled photo (${files.photo_name})`);
  };
  $('pose-file').onchange = async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    try {
      const img = await loadImage(URL.createObjectURL(file));
      run(img, { image: img }, file.name);
    } catch (e) {
      status(`error: ${e.message}`, true);
    }
  };
  $('pose-bundled').disabled = false;
  $('pose-file').disabled = false;
  status('ready');
  document.body.dataset.poseState = 'ready';
}

/** The model's two outputs -> kept detections (relative to the model input). */
export function detect(params, outputs) {
  const boxes = outputs.find((o) => o.dims[o.dims.length - 1] === params.decoder.num_coords);
  const scores = outputs.find((o) => o.dims[o.dims.length - 1] === params.decoder.num_classes);
  return weightedNms(params, decode(params, boxes, scores));
}

/** The image with boxes, keypoints and the body circles (centre: keypoint 0/2, radius: to keypoint 1/3). */
function draw(canvas, image, detections, maxSide = 448) {
  const iw = image.naturalWidth || image.width;
  const ih = image.naturalHeight || image.height;
  const s = maxSide / Math.max(iw, ih);
  canvas.width = Math.round(iw * s);
  canvas.height = Math.round(ih * s);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  const W = canvas.width;
  const H = canvas.height;
  const colors = ['#ff3b30', '#ffcc00', '#34c759', '#0a84ff'];
  for (const d of detections) {
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#ff3b30';
    ctx.strokeRect(d.box[0] * W, d.box[1] * H, d.box[2] * W, d.box[3] * H);
    ctx.fillStyle = '#ff3b30';
    ctx.font = '14px system-ui';
    ctx.fillText(d.score.toFixed(2), d.box[0] * W + 3, d.box[1] * H + 15);
    const pts = d.keypoints.map(([x, y]) => [x * W, y * H]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#0a84ff';
    for (const [c, e] of [[pts[0], pts[1]], [pts[2], pts[3]]]) {
      ctx.beginPath();
      ctx.arc(c[0], c[1], Math.hypot(e[0] - c[0], e[1] - c[1]), 0, 2 * Math.PI);
      ctx.moveTo(c[0], c[1]);
      ctx.lineTo(e[0], e[1]);
      ctx.stroke();
    }
    pts.forEach(([x, y], k) => {
      ctx.beginPath();
      ctx.arc(x, y, 5, 0, 2 * Math.PI);
      ctx.fillStyle = colors[k % colors.length];
      ctx.fill();
    });
  }
}
