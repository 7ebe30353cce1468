"""Microkernel benchmark: every registry kernel on the MobileNet-v1/v2 layer shapes, MobileViT-XS-like transformer
and decoder ConvTranspose shapes (benchmarks/kernels/kernel_bench.c).

Builds the driver three times and runs it:
  aarch64  static -no-pie NEON build under qemu-aarch64 with tools/qemu-insn-count: executed instructions per call,
           counted between two marks around the call (the kernel and everything it calls); deterministic
  host     x86 build of the NEON kernels through SIMDe (-mfma), plus the scalar kernels: ns per call, medians of
           ROUNDS samples with the kernels of a case interleaved round by round
  x86      the x86-64 build (kernels_x86: every ISA level this CPU runs, SSE4.1 / AVX2+FMA / AVX-512F, plus the
           scalar kernels; the choice table's pick is the CPU's best level's): ns per call, as host
  node     emscripten build of the WASM SIMD128 kernels plus the scalar ones, in node: ns per call, as host
and prints per case and kernel: instructions per MAC (aarch64), ns per MAC (host, node), the best kernel per target
and the choice table's pick, then a per-kernel summary. MACs: kept MACs (T * G * pixels) for the sparse families,
elements for elementwise/pooling. Timing on a shared machine is noisy: compare kernels of one case (interleaved),
not runs.

    python3 benchmarks/kernels/bench.py [--targets aarch64 host node x86] [--rounds 5] [--family f32_spmm]
                                        [--json out.json] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DRIVER = "benchmarks/kernels/kernel_bench.c"
PLUGIN_DIR = REPO / "tools" / "qemu-insn-count"
FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Iengine/include", "-Iengine/kernels", "-I."]


def make_var(makefile: str, var: str) -> list[str]:
    out = subprocess.run(["make", "-s", "--no-print-directory", "-f", makefile, "--eval", f"p: ; @echo $({var})", "p"],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.split()


def sources(arch_mk: str, arch_var: str) -> list[str]:
    return [DRIVER, *make_var("engine/kernels/kernels.mk", "SCALAR_KERNEL_SRCS"), *make_var(arch_mk, arch_var)]


def build(target: str, out: Path) -> Path:
    if target == "aarch64":
        cmd = ["aarch64-linux-gnu-gcc", *FLAGS, "-O2", "-march=armv8-a", "-static", "-no-pie", "-DSB_ARCH_NEON",
               *sources("kernels_arm/kernels.mk", "NEON_KERNEL_SRCS"), "-o", str(out / "kb_aarch64"), "-lm"]
        binary = out / "kb_aarch64"
    elif target == "host":
        cmd = ["gcc", *FLAGS, "-O2", "-mfma", "-DSB_ARCH_NEON", "-DSB_NEON_SIMDE",
               *sources("kernels_arm/kernels.mk", "NEON_KERNEL_SRCS"), "-o", str(out / "kb_host"), "-lm"]
        binary = out / "kb_host"
    elif target == "x86":
        cmd = ["gcc", *FLAGS, "-O2", "-DSB_ARCH_X86", *sources("kernels_x86/kernels.mk", "X86_KERNEL_SRCS"),
               "-o", str(out / "kb_x86"), "-lm"]
        binary = out / "kb_x86"
    else:
        cmd = [str(REPO / "kernels_wasm/emcc.sh"), *FLAGS, "-O3", "-msimd128", "-DSB_ARCH_WASMSIMD",
               "-sALLOW_MEMORY_GROWTH=1", "-sEXIT_RUNTIME=1", "-sSINGLE_FILE=1", "-sENVIRONMENT=node",
               *sources("kernels_wasm/kernels.mk", "WASM_KERNEL_SRCS"), "-o", str(out / "kb_node.js"), "-lm"]
        binary = out / "kb_node.js"
    subprocess.run(cmd, cwd=REPO, check=True)
    return binary


def parse_header(lines: list[str]) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Cases (id -> (family, label)) and the choice table's pick per case."""
    cases, chosen = {}, {}
    for line in lines:
        f = line.split()
        if f[0] == "S":
            cases[int(f[1])] = (f[2], f[3])
        elif f[0] == "C":
            chosen[int(f[1])] = f[3]
    return cases, chosen


def run_count(binary: Path, args: list[str], work: Path) -> tuple[list[str], dict[tuple[int, str], tuple[int, float]]]:
    """(driver lines, (case, kernel) -> (MACs, instructions)) from one qemu run."""
    subprocess.run(["make", "-s", "-C", str(PLUGIN_DIR)], check=True)
    nm = subprocess.run(["aarch64-linux-gnu-nm", str(binary)], capture_output=True, text=True, check=True).stdout
    mark = next(int(line.split()[0], 16) for line in nm.splitlines() if line.split()[-1] == "bench_mark")
    out_file = work / "counts.txt"
    plugin = f"{PLUGIN_DIR / 'libinsn_count.so'},out={out_file},marks={mark:x}"
    proc = subprocess.run(["qemu-aarch64", "-plugin", plugin, str(binary), "count", *args], capture_output=True,
                          text=True, check=True)
    lines = proc.stdout.splitlines()
    totals = [int(line.split()[2]) for line in out_file.read_text().splitlines() if line.startswith("mark ")]
    calls = [line.split() for line in lines if line.startswith("K ")]
    if len(totals) != 2 * len(calls):
        raise RuntimeError(f"{len(calls)} calls but {len(totals)} marks")
    overhead = totals[1] - totals[0]  # the calibration pair comes first
    result = {}
    for i, f in enumerate(calls[1:], start=1):
        result[(int(f[1]), f[3])] = (int(f[5]), totals[2 * i + 1] - totals[2 * i] - overhead)
    return lines, result


def run_time(binary: Path, args: list[str], node: bool) -> tuple[list[str], dict[tuple[int, str], tuple[int, float]]]:
    cmd = (["node", str(binary)] if node else [str(binary)]) + ["time", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    result = {}
    for line in lines:
        f = line.split()
        if f[0] == "T":
            result[(int(f[1]), f[3])] = (int(f[5]), float(f[6]))
    return lines, result


METRIC = {"aarch64": "insn/MAC", "host": "ns/MAC host", "node": "ns/MAC node", "x86": "ns/MAC x86"}


def arch_of(kernel: str) -> str:
    return kernel.split("__")[1].split("_")[0] if "__" in kernel else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", nargs="+", default=["aarch64", "host", "node"], choices=list(METRIC))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--family", help="only this family (f32_spmm, ...)")
    parser.add_argument("--kernel", help="only kernels whose name contains this")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--markdown", action="store_true", help="print the summary as a markdown table")
    ns = parser.parse_args()
    args = [*(["--family", ns.family] if ns.family else []), *(["--kernel", ns.kernel] if ns.kernel else [])]

    cases: dict[int, tuple[str, str]] = {}
    chosen: dict[str, dict[int, str]] = {}
    values: dict[str, dict[tuple[int, str], tuple[int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for target in ns.targets:
            if target == "node" and shutil.which("node") is None:
                print("node: not installed, skipped", file=sys.stderr)
                continue
            binary = build(target, work)
            if target == "aarch64":
                lines, vals = run_count(binary, args, work)
            else:
                lines, vals = run_time(binary, [str(ns.rounds), *args], node=target == "node")
            c, pick = parse_header(lines)
            cases.update(c)  # the same cases in every build (the driver's sweep does not depend on the target)
            # the aarch64 build's table is the NEON one; host (SIMDe) uses it too, node uses the WASM one
            chosen[target] = pick
            values[target] = vals
            print(f"{target}: {len(vals)} measurements over {len(c)} cases", file=sys.stderr)

    targets = [t for t in ns.targets if t in values]
    # per case: figures per kernel
    print(f"{'case':<44} {'kernel':<44} " + " ".join(f"{METRIC[t]:>12}" for t in targets))
    summary: dict[str, dict] = defaultdict(lambda: {"family": "", "cases": 0,
                                                    **{t: [0.0, 0, 0, 0] for t in targets}})  # sum, macs, best, chosen
    mismatches: list[str] = []
    for cid in sorted(cases):
        family, label = cases[cid]
        kernels = sorted({k for t in targets for (c, k) in values[t] if c == cid})
        best = {}
        for t in targets:
            per = {k: v / m for (c, k), (m, v) in values[t].items() if c == cid and m > 0}
            if per:
                best[t] = min(per, key=per.__getitem__)
                pick = chosen[t].get(cid)
                if pick in per and pick != best[t] and per[pick] > 1.02 * per[best[t]]:
                    mismatches.append(f"{t}: {label}: table picks {pick} ({per[pick]:.3f}), best {best[t]} "
                                      f"({per[best[t]]:.3f})")
        for k in kernels:
            s = summary[k]
            s["family"] = family
            s["cases"] += 1
            cells = []
            for t in targets:
                if (cid, k) in values[t]:
                    m, v = values[t][(cid, k)]
                    s[t][0] += v
                    s[t][1] += m
                    s[t][2] += best.get(t) == k
                    s[t][3] += chosen[t].get(cid) == k
                    mark = ("*" if best.get(t) == k else " ") + ("c" if chosen[t].get(cid) == k else " ")
                    cells.append(f"{v / m:>10.3f}{mark}" if m else f"{'-':>12}")
                else:
                    cells.append(f"{'':>12}")
            print(f"{label[-44:]:<44} {k[-44:]:<44} " + " ".join(cells))
    print("(* best of the case on that target, c = the choice table's pick)\n")

    header = ["family", "kernel", "cases"] + [f"{METRIC[t]} (best/chosen)" for t in targets]
    rows = []
    for k, s in sorted(summary.items(), key=lambda kv: (kv[1]["family"], kv[0])):
        cells = []
        for t in targets:
            total, macs, nbest, nchosen = s[t]
            cells.append(f"{total / macs:.3f} ({nbest}/{nchosen})" if macs else "")
        rows.append([s["family"], k.replace("sb_", "").replace("_ukernel_", ""), str(s["cases"]), *cells])
    if ns.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print("\nper kernel: MAC-weighted over its cases; (cases where it is best / where the table picks it)")
    if mismatches:
        print(f"\nchoice table vs measured best (> 2% apart): {len(mismatches)}")
        for m in mismatches:
            print("  " + m)
    if ns.json:
        ns.json.write_text(json.dumps({"cases": {str(c): v for c, v in cases.items()},
                                       "chosen": {t: {str(c): k for c, k in p.items()} for t, p in chosen.items()},
                                       "values": {t: [[c, k, m, v] for (c, k), (m, v) in vals.items()]
                                                  for t, vals in values.items()}}, indent=0))
    return 0


if __name__ == "__main__":
    os.nice(5)
    sys.exit(main())
