"""Links a model-specific engine runner with its TVM kernels (the .sbn stays the same file):
  aarch64: static sparsebyte-run (make aarch64's library and tool objects + glue + tvm_host.c + kernel object)
  wasm32:  sparsebyte-run.js for node (emcc, NODERAWFS: reads the model from disk) with the SIMD128 kernels.
A runner built with `glue_only_hand=True`-style empty glue is the hand-written baseline of the same build.
Sources come from resources.source_root() (the checkout or the wheel's copy), objects from resources.build_root()."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sparsebyte import resources
from sparsebyte.devices.tools import runner

INCLUDES = ["-Iengine/include", "-Iengine/kernels", "-Iengine/tvm", "-I."]
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2"]


def _run(cmd: list[str], env: dict | None = None) -> None:
    proc = subprocess.run(cmd, cwd=resources.source_root(), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... failed:\n{proc.stderr[-4000:]}")


def _make_lists() -> dict[str, list[str]]:
    """ENGINE_SRCS / REF_KERNEL_SRCS / TOOL_SRCS / WASM_KERNEL_SRCS as make expands them."""
    script = ("include engine/sources.mk\ninclude kernels_wasm/kernels.mk\nall:\n"
              "\t@echo $(ENGINE_SRCS)\n\t@echo $(REF_KERNEL_SRCS)\n\t@echo $(TOOL_SRCS)\n\t@echo $(WASM_KERNEL_SRCS)\n")
    out = subprocess.run(["make", "-s", "-f", "-"], input=script, cwd=resources.source_root(), capture_output=True,
                         text=True,
                         check=True).stdout.splitlines()
    return dict(zip(["engine", "ref", "tool", "wasm"], [line.split() for line in out], strict=True))


def build_aarch64(glue: Path, kernel_object: Path, out: Path) -> Path:
    """Static aarch64 runner at `out` (NEON hand kernels + the TVM kernels the glue routes)."""
    build = resources.build_root() / "aarch64"
    (build / "obj/engine/kernels/registry.o").unlink(missing_ok=True)  # lists seen by __has_include
    runner("aarch64")  # make aarch64: the library and the tool objects
    tools = [str(build / "obj" / Path(src).with_suffix(".o")) for src in _make_lists()["tool"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(["aarch64-linux-gnu-gcc", *CFLAGS, "-march=armv8-a", "-DSB_ARCH_NEON", *INCLUDES, "-static",
          "-o", str(out.resolve()), *tools, str(glue.resolve()), "engine/tvm/tvm_host.c", str(kernel_object.resolve()),
          str(build / "libsparsebyte.a"), "-lm", "-lpthread"])
    return out


def build_wasm(glue: Path, kernel_object: Path, out: Path) -> Path:
    """Node runner `out` (.js with the .wasm inlined): the engine with SIMD128 kernels and the TVM kernels."""
    lists = _make_lists()
    env = dict(os.environ, NODE_PATH=os.environ.get("NODE_PATH", "/usr/share/nodejs"))
    out.parent.mkdir(parents=True, exist_ok=True)
    srcs = lists["engine"] + lists["ref"] + lists["wasm"] + lists["tool"]
    srcs += [str(glue.resolve()), "engine/tvm/tvm_host.c"]
    _run(["emcc", *CFLAGS, "-O3", "-msimd128", "-DSB_ARCH_WASMSIMD", "-DSB_NO_THREADS", *INCLUDES,
          "-sNODERAWFS=1", "-sALLOW_MEMORY_GROWTH=1", "-sSINGLE_FILE=1", "-sENVIRONMENT=node",
          "-o", str(out.resolve()), *srcs, str(kernel_object.resolve()), "-lm"], env=env)
    return out
