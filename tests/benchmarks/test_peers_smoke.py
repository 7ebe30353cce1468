"""The cheap pieces of benchmarks/arm/peers.py (XNNPACK under qemu-aarch64) that fail before a long count would:
the guest /proc/cpuinfo that qemu -L serves (read back by a static aarch64 program under qemu, as XNNPACK's cpuinfo
reads it), the wheel tags that make pip pick ai-edge-litert's manylinux_2_27 aarch64 wheel, and the kernel-family
names of both engines. No counts, no timings."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("arm_peers", REPO / "benchmarks" / "arm" / "peers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["arm_peers"] = module
    spec.loader.exec_module(module)
    return module


READ_CPUINFO = r"""
#include <stdio.h>
int main(void) {
  FILE* f = fopen("/proc/cpuinfo", "r");
  if (!f) return 1;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fputs(buf, stdout);
  return 0;
}
"""


def test_the_guest_reads_the_sysroot_cpuinfo(peers: ModuleType, tmp_path: Path) -> None:
    for tool in ("qemu-aarch64", "aarch64-linux-gnu-gcc"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: .ci/install installs qemu-user and gcc-aarch64-linux-gnu")
    root = tmp_path / "sysroot"
    peers.write_cpuinfo(root)
    src, prog = tmp_path / "cpuinfo.c", tmp_path / "cpuinfo"
    src.write_text(READ_CPUINFO)
    subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O1", str(src), "-o", str(prog)], check=True)
    got = subprocess.run(["qemu-aarch64", "-cpu", peers.CPU, "-L", str(root), str(prog)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    fields: dict[str, str] = {}
    for line in got.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields.setdefault(key.strip(), value.strip())
    # what XNNPACK's cpuinfo needs to take its NEON (dot-product) path on a Cortex-A76, not the x86 host's file
    assert fields.get("CPU part") == "0xd0b", got[:300]
    assert fields.get("CPU implementer") == "0x41", got[:300]
    assert fields.get("CPU architecture") == "8", got[:300]
    assert {"fp", "asimd", "asimddp", "fphp", "asimdhp"} <= set(fields.get("Features", "").split()), got[:300]
    assert "vendor_id" not in fields and "flags" not in fields, "the guest read the x86 host's /proc/cpuinfo"


def test_the_wheel_tags_select_the_pinned_aarch64_litert(peers: ModuleType, tmp_path: Path) -> None:
    """pip resolves the pinned ai-edge-litert for aarch64 CPython 3.11 (metadata only, no wheel download)."""
    requirement = peers.WHEELS[0]
    assert requirement.startswith("ai-edge-litert==")
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
                           *peers.pip_args(), "--target", str(tmp_path / "t"), "--report", str(report),
                           requirement], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (item,) = json.loads(report.read_text())["install"]
    wheel = item["download_info"]["url"].rsplit("/", 1)[-1]
    assert item["metadata"]["version"] == requirement.split("==")[1], wheel
    assert "-cp311-" in wheel and wheel.endswith("_aarch64.whl"), wheel
    tags = wheel.removesuffix(".whl").split("-")[-1].split(".")
    assert set(tags) & set(peers.PLATFORMS), (wheel, peers.PLATFORMS)


def test_kernel_families(peers: ModuleType) -> None:
    assert peers._family("xnn_f32_spmm_minmax_ukernel_32x1__aarch64_neonfma") == "f32_spmm_minmax"
    assert peers.kernel_family("sb_f32_spmm_ukernel__neon_g1_32x") == "f32_spmm"
    assert peers.kernel_family("ref_pad_constant") == "ref_pad_constant"
    kernels = {"sb_f32_dwconv_ukernel__neon_3x3s1": 5, "sb_f32_dwconv_ukernel__neon_5x5s2": 7, "ref_concat": 1}
    assert peers.by_family(kernels) == {"f32_dwconv": 12, "ref_concat": 1}
    assert list(peers.by_family(kernels)) == ["f32_dwconv", "ref_concat"]  # largest first
