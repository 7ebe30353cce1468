"""LiteRT's XNNPACK delegate next to sparsebyte on aarch64, same metric: instructions per inference under qemu-aarch64
-cpu cortex-a76 with the project's counting plugin (tools/qemu-insn-count), 1 thread, on the MediaPipe models.

XNNPACK runs in an aarch64 CPython unpacked from Debian's arm64 packages (never installed) with ai-edge-litert's
aarch64 wheel on PYTHONPATH; see ../shared/toolchain.md for the recipe and its traps (a guest /proc/cpuinfo, one
OpenBLAS thread, -cpu cortex-a76 so XNNPACK takes its NEON kernels, not SME). Loading the interpreter costs ~2G
instructions, so each model is counted at N=1 and N=3 invocations and the difference halved. sparsebyte-run is
counted by QemuDevice on the same .tflite converted (sparse, and --dense).

    python3 benchmarks/arm/peers.py                                   # pose_detection, face_detection_short_range
    python3 benchmarks/arm/peers.py --models mediapipe-pose-detection --markdown

sparsebyte-run gets the same -cpu. Per kernel family: XNNPACK's from nm -S ranges of libpywrap_litert_common.so (the
microkernels' names up to "_ukernel"), sparsebyte's from the runner's per-node report (kernel names, same cut).
Progress on stderr; the table on stdout; --json (default peers_results.json beside this file).

Everything downloaded is cached under ~/.cache/sparsebyte-test/arm64-litert (debs, sysroot, site)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sparsebyte.converters import convert  # noqa: E402
from sparsebyte.devices import QemuDevice, RunOptions  # noqa: E402
from sparsebyte.devices.tools import insn_count_plugin, qemu_binary  # noqa: E402
from zoo import model_file  # noqa: E402
from zoo.registry import get  # noqa: E402

CACHE = Path(os.environ.get("SPARSEBYTE_TEST_CACHE") or Path.home() / ".cache" / "sparsebyte-test") / "arm64-litert"
CPU = "cortex-a76"
DEBS = ("python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11 libc6 libexpat1 zlib1g libffi8 "
        "libssl3 libstdc++6 libgcc-s1 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8 "
        "libcrypt1").split()
WHEELS = ("ai-edge-litert==2.3.0", "numpy", "flatbuffers", "protobuf", "ml_dtypes", "tqdm", "typing-extensions",
          "backports.strenum")
# explicit manylinux_2_xx tags up to Debian 12's glibc 2.36: with manylinux2014_aarch64 alone pip silently takes
# ai-edge-litert 1.4.0 (2.3.0 is tagged manylinux_2_27)
PLATFORMS = [f"manylinux_2_{v}_aarch64" for v in (17, 27, 28, 31, 34, 35, 36)] + ["manylinux2014_aarch64"]
# what XNNPACK's cpuinfo reads: a Cortex-A76-like core (qemu-user passes the x86 host's file through otherwise)
CPUINFO = ("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp "
           "asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: "
           "0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n")
GUEST = """
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
it = Interpreter(model_path=sys.argv[1], num_threads=1)
it.allocate_tensors()
maps = [l.split() for l in open("/proc/self/maps") if l.rstrip().endswith("libpywrap_litert_common.so")]
print("BASE", min(int(m[0].split("-")[0], 16) for m in maps))
d = it.get_input_details()[0]
it.set_tensor(d["index"], np.load(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    it.invoke()
print(float(np.abs(it.get_tensor(it.get_output_details()[0]["index"])).max()))
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pip_args() -> list[str]:
    """The `pip download`/`pip install --dry-run` arguments that select aarch64 CPython 3.11 binary wheels."""
    return ["--only-binary=:all:", "--no-deps", "--python-version", "3.11", "--implementation", "cp",
            *(a for p in PLATFORMS for a in ("--platform", p))]


def write_cpuinfo(root: Path) -> Path:
    """SYSROOT/proc/cpuinfo: qemu -L serves it for the guest's /proc/cpuinfo (XNNPACK's cpuinfo reads it)."""
    (root / "proc").mkdir(parents=True, exist_ok=True)
    path = root / "proc" / "cpuinfo"
    path.write_text(CPUINFO)
    return path


def sysroot() -> Path:
    root = CACHE / "sysroot"
    if (root / "usr" / "bin" / "python3.11").is_file():
        write_cpuinfo(root)
        return root
    log(f"building the arm64 CPython sysroot in {root}")
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in DEBS if not list(debs.glob(f"{p}_*_arm64.deb"))]
    if missing:
        subprocess.run(["apt-get", "download", *[f"{p}:arm64" for p in missing]], cwd=debs, check=True)
    if not list(debs.glob("media-types_*.deb")):
        subprocess.run(["apt-get", "download", "media-types"], cwd=debs, check=True)
    tmp = root.with_name("sysroot.partial")
    tmp.mkdir(parents=True, exist_ok=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
    write_cpuinfo(tmp)
    tmp.rename(root)
    return root


def site() -> Path:
    out = CACHE / "site"
    if (out / "ai_edge_litert").is_dir():
        return out
    log(f"fetching the aarch64 wheels into {out}")
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for req in WHEELS:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", *pip_args(), "-d", str(wheels), req],
                       check=True)
    tmp = out.with_name("site.partial")
    tmp.mkdir(parents=True, exist_ok=True)
    for whl in wheels.glob("*.whl"):
        with zipfile.ZipFile(whl) as z:
            z.extractall(tmp)
    tmp.rename(out)
    return out


def _family(symbol: str) -> str:
    """xnn_f32_spmm_minmax_ukernel_32x1__aarch64_neonfma -> f32_spmm_minmax"""
    return symbol.removeprefix("xnn_").split("_ukernel")[0]


def _guest(source: Path, x: Path, n: int, work: Path, plugin: str | None) -> str:
    root, lib = sysroot(), site()
    script = work / "guest.py"
    script.write_text(GUEST)
    # one OpenBLAS thread (a spinning one makes counts drift), fixed str hashes (same dict layouts run to run)
    cmd = [qemu_binary(), "-cpu", CPU, "-L", str(root), "-E", f"PYTHONPATH={lib}", "-E", "OPENBLAS_NUM_THREADS=1",
           "-E", "PYTHONHASHSEED=0",
           *(["-plugin", plugin] if plugin else []), str(root / "usr" / "bin" / "python3.11"), str(script),
           str(source), str(x), str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"LiteRT under qemu failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def litert_insns(source: Path, x: Path, work: Path) -> tuple[int, dict[str, int]]:
    """(instructions per inference, per XNNPACK microkernel family): N=3 minus N=1 invocations, halved. The
    families are nm -S ranges of libpywrap_litert_common.so at its load base (fixed for a given -cpu)."""
    base = int(next(line.split()[1] for line in _guest(source, x, 0, work, None).splitlines()
                    if line.startswith("BASE")))
    nm = subprocess.run(["aarch64-linux-gnu-nm", "-S", "--defined-only", str(site() / "ai_edge_litert" /
                         "libpywrap_litert_common.so")], capture_output=True, text=True, check=True).stdout
    ranges = work / "ranges.txt"
    with ranges.open("w") as f:
        for line in nm.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2] in "tT" and "_ukernel" in parts[3]:
                f.write(f"{base + int(parts[0], 16):x} {parts[1]} T {_family(parts[3])}\n")
    totals, families = [], []
    for n in (1, 3):
        counts = work / f"counts{n}.txt"
        out = _guest(source, x, n, work, f"{insn_count_plugin()},out={counts},ranges={ranges}")
        if f"BASE {base}" not in out:
            raise RuntimeError(f"libpywrap_litert_common.so moved between runs ({out.strip()[:200]}, first {base})")
        fam: dict[str, int] = {}
        for line in counts.read_text().splitlines():
            kind, *rest = line.split()
            if kind == "total":
                totals.append(int(rest[0]))
            elif kind == "range":
                fam[rest[0]] = fam.get(rest[0], 0) + int(rest[1])
        families.append(fam)
    per_family = {k: (families[1].get(k, 0) - families[0].get(k, 0)) // 2 for k in families[1]}
    return (totals[1] - totals[0]) // 2, dict(sorted(((k, v) for k, v in per_family.items() if v), key=lambda kv:
                                                    -kv[1]))


def sparsebyte_kernels(report: dict) -> dict[str, int]:
    """Instructions per kernel (the runner's per-node report: "kernel" is the microkernel or ref_<op>)."""
    fam: dict[str, int] = {}
    for op in report["ops"]:
        key = op.get("kernel") or op.get("op", "?")
        fam[key] = fam.get(key, 0) + int(op.get("insns", 0))
    return dict(sorted(fam.items(), key=lambda kv: -kv[1]))


def kernel_family(kernel: str) -> str:
    """sb_f32_spmm_ukernel__neon_g1_32x -> f32_spmm; ref_pad_constant stays (no SIMD kernel: the reference op)."""
    return kernel.removeprefix("sb_").split("_ukernel")[0]


def by_family(kernels: dict[str, int]) -> dict[str, int]:
    fam: dict[str, int] = {}
    for k, v in kernels.items():
        fam[kernel_family(k)] = fam.get(kernel_family(k), 0) + v
    return dict(sorted(fam.items(), key=lambda kv: -kv[1]))


class SameCpuQemu(QemuDevice):
    """QemuDevice with qemu's -cpu set as for the LiteRT guest (qemu's default, max, differs from cortex-a76)."""

    def command(self, work: Path) -> list[str]:
        cmd = super().command(work)
        return [cmd[0], "-cpu", CPU, *cmd[1:]]


def measure(name: str, work: Path, runner: Path | None = None) -> dict:
    m = get(name)
    source = model_file(m)
    x = work / f"{name}.npy"
    np.save(x, next(iter(m.feeds().values())))
    row: dict = {"model": name, "cpu": CPU}
    log(f"{name}: LiteRT XNNPACK under qemu (N=1 and N=3 invocations)")
    row["xnnpack"], row["xnnpack_families"] = litert_insns(source, x, work)
    for key, dense in (("sparsebyte", False), ("sparsebyte_dense", True)):
        log(f"{name}: sparsebyte-run{' --dense' if dense else ''} under qemu")
        sbn = work / f"{name}{'.dense' if dense else ''}.sbn"
        convert(source, sbn, force_dense=dense)
        run = SameCpuQemu(count_insns=True, runner=runner).run(sbn, [x], options=RunOptions(warmup=0, repeat=1))
        row[key] = int(run.report["run_insns"])
        row[f"{key}_kernels"] = sparsebyte_kernels(run.report)
        row[f"{key}_families"] = by_family(row[f"{key}_kernels"])
    return row


def markdown(rows: list[dict]) -> str:
    """The table for kernels_arm/README.md: both engines per model, then the families that make up each count."""
    out = [f"qemu-aarch64 -cpu {CPU}, 1 thread, instructions per inference (LiteRT {WHEELS[0].split('==')[1]} "
           "XNNPACK delegate: N=3 minus N=1 invocations, halved)", "",
           "| model | XNNPACK | sparsebyte | sparsebyte / XNNPACK | sparsebyte --dense |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['model']} | {r['xnnpack'] / 1e6:.1f}M | {r['sparsebyte'] / 1e6:.1f}M | "
                   f"{r['sparsebyte'] / r['xnnpack']:.3f} | {r['sparsebyte_dense'] / 1e6:.1f}M |")
    for r in rows:
        out += ["", f"{r['model']}, per kernel family (M instructions):", "",
                "| XNNPACK family | M | sparsebyte family | M |", "|---|---:|---|---:|"]
        xs, ss = list(r["xnnpack_families"].items()), list(r["sparsebyte_families"].items())
        for i in range(min(8, max(len(xs), len(ss)))):
            a = f"{xs[i][0]} | {xs[i][1] / 1e6:.2f}" if i < len(xs) else " | "
            b = f"{ss[i][0]} | {ss[i][1] / 1e6:.2f}" if i < len(ss) else " | "
            out.append(f"| {a} | {b} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", "--only", nargs="+", action="extend", help="zoo model names")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("peers_results.json"))
    parser.add_argument("--markdown", action="store_true", help="print the kernels_arm/README.md table")
    parser.add_argument("--runner", type=Path, help="another static aarch64 sparsebyte-run (default: make aarch64's)")
    ns = parser.parse_args()
    names = ns.models or ["mediapipe-pose-detection", "mediapipe-face-detection-short"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="sb-peers-") as tmp:
        for name in names:
            r = measure(name, Path(tmp), ns.runner)
            rows.append(r)
            print(f"{name:<32} XNNPACK {r['xnnpack'] / 1e6:7.1f}M  sparsebyte {r['sparsebyte'] / 1e6:7.1f}M "
                  f"({r['xnnpack'] / r['sparsebyte']:.2f}x)  --dense {r['sparsebyte_dense'] / 1e6:7.1f}M", flush=True)
            for engine in ("xnnpack", "sparsebyte"):
                top = list(r[f"{engine}_families"].items())[:6]
                print(f"  {engine:<11}" + "  ".join(f"{k} {v / 1e6:.1f}M" for k, v in top), flush=True)
    ns.json.write_text(json.dumps(rows, indent=1) + "\n")
    if ns.markdown:
        print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
