"""The programs the devices run, found or built on demand from the engine sources (resources.source_root(): the
checkout, or the copy shipped in the wheel) into resources.build_root() (the checkout's build/, or a cache
directory: an installed package's source tree may be read-only):

- the runner `sparsebyte-run` of a Makefile configuration (`make BUILD=DIR aarch64`: static, NEON kernels),
- the qemu instruction-counting plugin (tools/qemu-insn-count, `make OUT=DIR`),
- the node runner web/tools/run-model.mjs over the WebAssembly build web/dist,
plus qemu itself and the symbol addresses of a runner. A missing program is a one-line ToolMissing naming the
package to install."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .. import resources
from .base import DeviceError, ToolMissing

RUNNER_ENV = "SPARSEBYTE_AARCH64_RUNNER"  # path of a prebuilt static aarch64 sparsebyte-run (optional)
RUNNER_NAME = "sparsebyte-run"
NM = "aarch64-linux-gnu-nm"
AARCH64_GCC = ("aarch64-linux-gnu-gcc", "apt-get install -y gcc-aarch64-linux-gnu")
HOST_GCC = ("gcc", "apt-get install -y gcc")
SIMDE_GCC = ("gcc", "apt-get install -y gcc libsimde-dev")
COMPILERS = {"aarch64": AARCH64_GCC, "aarch64-scalar": AARCH64_GCC, "host": HOST_GCC, "host-neon": SIMDE_GCC}


def require(program: str, install: str, why: str) -> str:
    """The path of `program`; ToolMissing "`program` not found (why): install" when it is not on PATH."""
    path = shutil.which(program)
    if path is None:
        raise ToolMissing(f"`{program}` not found ({why}): {install}")
    return path


def _directories() -> tuple[Path, Path, str]:
    """(source root, build root, the build root as make's BUILD/OUT argument). Inside the source tree the argument
    stays relative, so these objects (and their .d dependency files) are the ones a plain `make aarch64` uses."""
    try:
        source, build = resources.source_root(), resources.build_root()
    except resources.ResourceError as e:
        raise ToolMissing(str(e)) from e
    try:
        argument = str(build.resolve().relative_to(source.resolve()))
    except ValueError:
        argument = str(build.resolve())
    return source, build, argument


def _make(args: list[str], what: str) -> None:
    require("make", "apt-get install -y make", f"builds the {what}")
    result = subprocess.run(["make", "-s", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise DeviceError(f"building the {what} failed (make {' '.join(args)}):\n{result.stderr[-3000:]}")


def runner(config: str = "aarch64") -> Path:
    """<build root>/<config>/sparsebyte-run of a Makefile configuration (aarch64, aarch64-scalar, host, host-neon),
    built or brought up to date (make is incremental: a runner older than the engine sources is rebuilt)."""
    compiler, install = COMPILERS[config]
    require(compiler, install, f"builds the {config} runner")
    source, build, argument = _directories()
    path = build / config / RUNNER_NAME
    for _ in range(2):  # a second make when another process sharing the build directory was relinking the runner
        _make(["-C", str(source), f"BUILD={argument}", "-j2", config], f"{config} runner")
        if path.is_file():
            return path
    raise DeviceError(f"`make {config}` left no runner at {path}")


def aarch64_runner() -> Path:
    """The static aarch64 runner (NEON kernels): $SPARSEBYTE_AARCH64_RUNNER when set, else runner("aarch64")."""
    if os.environ.get(RUNNER_ENV):
        path = Path(os.environ[RUNNER_ENV])
        if not path.is_file():
            raise DeviceError(f"{RUNNER_ENV}={path}: no such file")
        return path
    return runner("aarch64")


def insn_count_plugin() -> Path:
    """<build root>/qemu-insn-count/libinsn_count.so, built with the host gcc when missing or older than its source."""
    compiler, install = HOST_GCC
    require(compiler, install, "builds the qemu instruction-counting plugin")
    source, build, _ = _directories()
    out = build.resolve() / "qemu-insn-count"
    _make(["-C", str(source / "tools" / "qemu-insn-count"), f"CC={compiler}", f"OUT={out}"],
          "qemu instruction-counting plugin")
    return out / "libinsn_count.so"


def qemu_binary() -> str:
    for name in ("qemu-aarch64", "qemu-aarch64-static"):
        path = shutil.which(name)
        if path:
            return path
    raise ToolMissing("`qemu-aarch64` not found (runs the aarch64 runner): apt-get install -y qemu-user")


def text_symbols(binary: Path) -> list[tuple[str, int, int]]:
    """(name, address, size) of the defined text symbols of an aarch64 binary (`nm -S`; size 0 when nm gives none)."""
    require(NM, "apt-get install -y binutils-aarch64-linux-gnu", "reads the runner's symbols")
    out = subprocess.run([NM, "-S", "--defined-only", str(binary)], capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) in (3, 4) and parts[-2] in "tTwW":
            size = int(parts[1], 16) if len(parts) == 4 else 0
            symbols.append((parts[-1], int(parts[0], 16), size))
    return symbols


def symbol_addresses(binary: Path, names: tuple[str, ...]) -> dict[str, int]:
    """Addresses of named text symbols; DeviceError naming any that is missing."""
    found: dict[str, int] = {}
    for name, address, _ in text_symbols(binary):
        if name in names:
            found.setdefault(name, address)
    missing = [n for n in names if n not in found]
    if missing:
        raise DeviceError(f"{binary}: no symbol {', '.join(missing)} (a stripped runner? rebuild with make aarch64)")
    return found


def node_binary() -> str:
    return require("node", "apt-get install -y nodejs", "runs the WebAssembly engine, node >= 18")


def web_runner() -> Path:
    """web/tools/run-model.mjs over the WebAssembly build web/dist. In a checkout with emscripten installed,
    web/build.sh (incremental) first brings web/dist up to date; otherwise web/dist must exist (a wheel ships it)."""
    web = resources.web_root()
    script = web / "tools" / "run-model.mjs"
    if not script.is_file():
        raise ToolMissing(f"{script}: no node runner in this installation (reinstall sparsebyte)")
    if resources.in_checkout() and shutil.which("emcc") and (web / "build.sh").is_file():
        result = subprocess.run(["sh", str(web / "build.sh")], capture_output=True, text=True)
        if result.returncode != 0:
            raise DeviceError(f"web/build.sh failed:\n{(result.stderr or result.stdout)[-2000:]}")
    try:
        resources.wasm_dist()
    except resources.ResourceError as e:
        raise ToolMissing(str(e)) from e
    return script
