"""WebAssembly side by side: sparsebyte's wasm build (web/dist) on each MediaPipe model converted to .sbn vs LiteRT.js
(npm @litertjs/core, XNNPACK, 1 thread) on the same .tflite, in one node process, interleaved rounds
(benchmarks/tflite/web_peers.mjs does the timing; this converts the models and prints the table).

    python3 benchmarks/tflite/web_peers.py                       # every zoo TFLite model, plain-SIMD LiteRT.js
    python3 benchmarks/tflite/web_peers.py --relaxed-simd        # LiteRT.js's relaxed-SIMD build (as in Chromium)
    python3 benchmarks/tflite/web_peers.py --models mediapipe-pose-detection --rounds 50 --markdown

node 20 has no relaxed SIMD unless given --experimental-wasm-relaxed-simd, so LiteRT.js loads its "compat" build
there; Chromium has it and LiteRT.js then takes its relaxed-SIMD build. sparsebyte uses plain SIMD128 either way.
Ratios are sparsebyte / LiteRT.js per round, medians (< 1: sparsebyte faster), of wall time and of the node
process's CPU time (user + system; both engines run on its one thread): on a loaded machine read the CPU figures."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sparsebyte.converters import convert  # noqa: E402
from zoo import model_file  # noqa: E402
from zoo.registry import TFLITE_MODELS, get  # noqa: E402

SCRIPT = Path(__file__).with_name("web_peers.mjs")
RESULTS = Path(__file__).with_name("web_peers_results.json")


def run(names: list[str], rounds: int, warmup: int, relaxed: bool, work: Path) -> dict:
    manifest = []
    for name in names:
        print(f"converting {name}", file=sys.stderr, flush=True)
        source = model_file(get(name))
        sbn = work / f"{name}.sbn"
        convert(source, sbn)
        manifest.append({"name": name, "tflite": str(source), "sbn": str(sbn)})
    (work / "manifest.json").write_text(json.dumps(manifest))
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node not found (the web benchmarks need node >= 18)")
    if not (REPO / "web" / "node_modules" / "@litertjs" / "core").is_dir():
        raise SystemExit("@litertjs/core missing: run `npm ci` in web/ (as .ci/install does)")
    cmd = [node, *(["--experimental-wasm-relaxed-simd"] if relaxed else []), str(SCRIPT), "--manifest",
           str(work / "manifest.json"), "--rounds", str(rounds), "--warmup", str(warmup)]
    # LiteRT.js logs its environment setup (no WebGPU in node) on stderr: pass on only the per-model lines, live
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "NODE_PATH": "/usr/share/nodejs"}) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        noise = []
        for line in proc.stderr:
            if line.startswith("mediapipe"):
                print(line, end="", file=sys.stderr, flush=True)
            else:
                noise.append(line)
        out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"web_peers.mjs failed (exit {proc.returncode}):\n{''.join(noise)[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def markdown(result: dict) -> str:
    lines = [f"LiteRT.js {result['litertjs']} ({result['litertjs_build']}), node {result['node']}, 1 thread, "
             f"{result['rows'][0]['rounds']} interleaved rounds, medians; CPU = the process's user + system time",
             "", "| model | sparsebyte CPU ms | LiteRT.js CPU ms | ratio (CPU) | rounds faster (CPU) | wall ms | "
             "ratio (wall) | sparsebyte's top families (ms) |", "|---|---:|---:|---:|---:|---|---:|---|"]
    for r in result["rows"]:
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(r["sparsebyte_families_ms"].items())[:3])
        lines.append(f"| {r['model']} | {r['sparsebyte_cpu_ms']:.2f} | {r['litertjs_cpu_ms']:.2f} | "
                     f"{r['cpu_ratio']:.3f} | {r['cpu_faster_rounds']}/{r['rounds']} | "
                     f"{r['sparsebyte_ms']:.1f} / {r['litertjs_ms']:.1f} | {r['ratio']:.3f} | {top} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=[m.name for m in TFLITE_MODELS], help="zoo model names")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--relaxed-simd", action="store_true", help="let LiteRT.js load its relaxed-SIMD build")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS.name})")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table too")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-web-peers-") as tmp:
        result = run(ns.models, ns.rounds, ns.warmup, ns.relaxed_simd, Path(tmp))
    previous = json.loads(ns.json.read_text()) if ns.json.is_file() else {}
    previous[result["litertjs_build"]] = result  # compat and relaxed-SIMD runs side by side
    ns.json.write_text(json.dumps(previous, indent=1) + "\n")
    if ns.markdown:
        print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
