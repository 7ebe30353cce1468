"""cffi API-mode build of the engine: compiles the C sources straight into the `sparsebyte._engine` extension.

Sources are globbed at build time so the extension follows the engine as files are added:
engine/src/**/*.c, engine/kernels/*/scalar.c, engine/kernels/registry.c; on an aarch64 host also the NEON kernels
listed by kernels_arm/kernels.mk (with -DSB_ARCH_NEON); on x86-64 the x86 kernels of kernels_x86/kernels.mk (with
-DSB_ARCH_X86: SSE4.1, AVX2+FMA and AVX-512F in one extension, the level picked at load from cpuid; each level's
file enables its instruction set itself, so no per-file flags; docs/x86.md). SPARSEBYTE_NEON_SIMDE=1 builds the
NEON sources on x86 through SIMDe instead (with -mfma so vfmaq_f32 rounds like ARM);
SPARSEBYTE_BUILD_KERNELS=scalar builds the scalar reference kernels only.

The sources are found through sparsebyte.resources: the checkout or unpacked sdist this file sits in (setup.py),
or the sources an installed wheel ships. A cross build (crossenv and the like set _PYTHON_HOST_PLATFORM, e.g.
linux-aarch64) picks the target's kernels, not the build machine's.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import sys
from pathlib import Path
from types import ModuleType

from cffi import FFI


def _resources() -> ModuleType:
    """sparsebyte.resources; loaded by path when cffi's setuptools hook executes this file outside the package."""
    if globals().get("__package__"):
        from . import resources

        return resources
    spec = importlib.util.spec_from_file_location("_sparsebyte_resources", Path(__file__).with_name("resources.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


REPO = _resources().source_root()
HEADER = REPO / "engine" / "include" / "sparsebyte.h"


def target_machine() -> str:
    """The machine the extension is built for: _PYTHON_HOST_PLATFORM's (cross builds), else this one's."""
    host = os.environ.get("_PYTHON_HOST_PLATFORM")
    return host.rpartition("-")[2] if host else platform.machine()


def _rel(path: Path) -> str:
    """Paths relative to the working directory when possible: setuptools keeps object files inside build/ then."""
    try:
        return os.path.relpath(path, Path.cwd()) if Path.cwd() in path.parents else str(path)
    except ValueError:
        return str(path)


def public_cdef(header_text: str) -> str:
    """The declarations of sparsebyte.h in a form cffi's cdef parser accepts (no preprocessor, no extern "C")."""
    text = re.sub(r"/\*.*?\*/", "", header_text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    lines = []
    skip_brace = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            # Keep integer #defines (cffi can read their values from the compiled module).
            m = re.match(r"#define\s+(SB_\w+)\s+(\d+)\s*$", stripped)
            if m:
                lines.append(f"#define {m.group(1)} {m.group(2)}")
            continue
        if stripped == 'extern "C" {':
            skip_brace = True
            continue
        if skip_brace and stripped == "}":
            skip_brace = False
            continue
        lines.append(line)
    return "\n".join(lines)


def _arm_sources() -> list[Path]:
    """NEON kernel sources: kernels_arm/*/*.c, the wildcard kernels_arm/kernels.mk uses for NEON_KERNEL_SRCS."""
    return sorted((REPO / "kernels_arm").glob("*/*.c"))


def _x86_sources() -> list[Path]:
    """x86 kernel sources: kernels_x86/*/*.c, the wildcard kernels_x86/kernels.mk uses for X86_KERNEL_SRCS."""
    return sorted((REPO / "kernels_x86").glob("*/*.c"))


def engine_sources_and_flags(relative: bool = True) -> tuple[list[str], list[str], list[tuple[str, str | None]]]:
    sources = sorted((REPO / "engine" / "src").rglob("*.c"))
    sources += sorted((REPO / "engine" / "kernels").glob("*/scalar.c"))
    registry = REPO / "engine" / "kernels" / "registry.c"
    if registry.exists():
        sources.append(registry)
    flags = ["-O2", "-std=c11", "-pthread"]
    macros: list[tuple[str, str | None]] = []
    if os.environ.get("SPARSEBYTE_BUILD_KERNELS") == "scalar":
        pass  # scalar reference kernels only (engine/tools/asan_pytest.py's clang build)
    elif target_machine().lower() in ("aarch64", "arm64"):
        sources += _arm_sources()
        macros.append(("SB_ARCH_NEON", None))
    elif os.environ.get("SPARSEBYTE_NEON_SIMDE") == "1":
        sources += _arm_sources()
        macros += [("SB_ARCH_NEON", None), ("SB_NEON_SIMDE", None)]
        flags.append("-mfma")
    elif target_machine().lower() in ("x86_64", "amd64") and _x86_sources():
        sources += _x86_sources()
        macros.append(("SB_ARCH_X86", None))
    return [_rel(s) if relative else str(s) for s in sources], flags, macros


def make_builder(relative: bool = True) -> FFI:
    """relative=True for setuptools (objects land under build/); False for a standalone compile in a temp dir."""
    builder = FFI()
    builder.cdef(public_cdef(HEADER.read_text()))
    sources, flags, macros = engine_sources_and_flags(relative)
    includes = [REPO / "engine" / "include", REPO / "engine" / "kernels", REPO]
    builder.set_source(
        "sparsebyte._engine",
        '#include "sparsebyte.h"\n',
        sources=sources,
        include_dirs=[str(p) for p in includes],
        define_macros=macros,
        extra_compile_args=flags,
        extra_link_args=["-pthread"],
        libraries=["m"],
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    # Standalone build into the source tree (what `pip install -e .` produces), for quick rebuilds while the engine
    # changes: python python/sparsebyte/_build_ffi.py
    import shutil

    built = make_builder(relative=False).compile(tmpdir=str(_resources().build_root() / "cffi"), verbose=False)
    target = Path(__file__).parent / "_engine.abi3.so"
    shutil.copyfile(built, target.with_suffix(".tmp"))
    os.replace(target.with_suffix(".tmp"), target)
    print(f"built {target}")
