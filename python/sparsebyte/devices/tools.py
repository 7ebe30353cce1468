"""The programs the devices need, built from the repository on demand: the static aarch64 runner (`make aarch64`)
and the qemu instruction-counting plugin (tools/qemu-insn-count), plus symbol addresses of the runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .base import DeviceError

REPO = Path(__file__).resolve().parents[3]
PLUGIN_DIR = REPO / "tools" / "qemu-insn-count"
NM = "aarch64-linux-gnu-nm"


def aarch64_runner() -> Path:
    """build/aarch64/sparsebyte-run (or $SPARSEBYTE_AARCH64_RUNNER), rebuilt by `make aarch64` when stale."""
    from ..qemu import QemuError, runner_path

    try:
        return runner_path()
    except QemuError as e:
        raise DeviceError(str(e)) from e


def insn_count_plugin() -> Path:
    """tools/qemu-insn-count/libinsn_count.so, built with the host compiler when missing or older than its source."""
    if not (PLUGIN_DIR / "Makefile").is_file():
        raise DeviceError(f"no instruction-counting plugin source in {PLUGIN_DIR} (needs a source checkout)")
    for tool, hint in (("make", "apt-get install -y make"), ("gcc", "apt-get install -y gcc")):
        if shutil.which(tool) is None:
            raise DeviceError(f"`{tool}` not found (needed to build the qemu plugin): {hint}")
    result = subprocess.run(["make", "-s", "-C", str(PLUGIN_DIR)], capture_output=True, text=True)
    if result.returncode != 0:
        raise DeviceError(f"building the qemu plugin in {PLUGIN_DIR} failed:\n{result.stderr[-2000:]}")
    return PLUGIN_DIR / "libinsn_count.so"


def symbol_addresses(binary: Path, names: tuple[str, ...]) -> dict[str, int]:
    """Addresses of defined text symbols of an aarch64 binary (nm); DeviceError naming any that is missing."""
    if shutil.which(NM) is None:
        raise DeviceError(f"`{NM}` not found: apt-get install -y binutils-aarch64-linux-gnu")
    out = subprocess.run([NM, "--defined-only", str(binary)], capture_output=True, text=True, check=True).stdout
    found: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in names and parts[1] in "tTwW":
            found.setdefault(parts[2], int(parts[0], 16))
    missing = [n for n in names if n not in found]
    if missing:
        raise DeviceError(f"{binary}: no symbol {', '.join(missing)} (a stripped runner? rebuild with make aarch64)")
    return found
