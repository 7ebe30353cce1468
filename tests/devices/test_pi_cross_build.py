"""What `pip install sparsebyte` builds on a Raspberry Pi (aarch64 Linux), shown on this x86 machine: the cffi build's
own source list and flags (sparsebyte._build_ffi, as setup.py uses them) with platform.machine() reporting aarch64,
cross-compiled with aarch64-linux-gnu-gcc into the extension module; and the same engine objects linked with the
Python-free runner, run under qemu-aarch64."""

from __future__ import annotations

import platform
import subprocess
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from device_support import INPUT_SHAPE, make_tiny_models

import sparsebyte._build_ffi as build_ffi
from sparsebyte import Model

CC = "aarch64-linux-gnu-gcc"


@pytest.fixture(scope="module")
def cross_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with mock.patch.object(platform, "machine", return_value="aarch64"):
        sources, flags, macros = build_ffi.engine_sources_and_flags(relative=False)
        builder = build_ffi.make_builder(relative=False)
    work = tmp_path_factory.mktemp("aarch64")
    wrapper = work / "_engine.c"
    builder.emit_c_code(str(wrapper))
    includes = [f"-I{p}" for p in (build_ffi.REPO / "engine" / "include", build_ffi.REPO / "engine" / "kernels",
                                   build_ffi.REPO)]
    defines = [f"-D{name}" if value is None else f"-D{name}={value}" for name, value in macros]

    def compile_one(index_source: tuple[int, str]) -> Path:
        index, source = index_source
        obj = work / f"{index:03d}_{Path(source).stem}.o"
        subprocess.run([CC, *flags, "-fPIC", "-Wall", "-Wextra", "-Werror", *defines, *includes, "-c", source,
                        "-o", str(obj)], check=True, capture_output=True, text=True)
        return obj

    with ThreadPoolExecutor(2) as pool:
        engine_objs = list(pool.map(compile_one, enumerate(sources)))
    # the cffi wrapper is generated code: warnings are cffi's business, so no -Werror there
    wrapper_obj = work / "_engine.o"
    subprocess.run([CC, *flags, "-fPIC", *defines, *includes, f"-I{sysconfig.get_paths()['include']}", "-c",
                    str(wrapper), "-o", str(wrapper_obj)], check=True)
    extension = work / "_engine.abi3.so"
    subprocess.run([CC, "-shared", "-pthread", "-o", str(extension), str(wrapper_obj), *map(str, engine_objs), "-lm"],
                   check=True)
    return {"sources": sources, "macros": macros, "objs": engine_objs, "extension": extension, "work": work}


def test_the_aarch64_source_list_has_the_neon_kernels(cross_build: dict) -> None:
    neon_sources = [s for s in cross_build["sources"] if "/kernels_arm/" in s]
    assert neon_sources == sorted(str(p) for p in (build_ffi.REPO / "kernels_arm").glob("*/*.c"))
    assert len(neon_sources) >= 5 and ("SB_ARCH_NEON", None) in cross_build["macros"]


def test_the_extension_cross_builds_for_aarch64_with_neon_kernels(cross_build: dict) -> None:
    header = subprocess.run(["aarch64-linux-gnu-readelf", "-h", str(cross_build["extension"])], capture_output=True,
                            text=True, check=True).stdout
    assert "AArch64" in header and "DYN" in header
    symbols = subprocess.run(["aarch64-linux-gnu-nm", "-D", "--defined-only", str(cross_build["extension"])],
                             capture_output=True, text=True, check=True).stdout
    assert " T PyInit__engine" in symbols and " T sb_model_run" in symbols
    assert "gemm_ukernel__neon" in symbols and "spmm_ukernel__neon" in symbols


def test_the_same_objects_run_the_python_free_runner_under_qemu(cross_build: dict, tmp_path: Path) -> None:
    work = cross_build["work"]
    tools = [build_ffi.REPO / "engine" / "tools" / name for name in ("sparsebyte_run.c", "npy.c")]
    runner = work / "sparsebyte-run"
    subprocess.run([CC, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-static", "-pthread",
                    f"-I{build_ffi.REPO / 'engine' / 'include'}", *map(str, tools), *map(str, cross_build["objs"]),
                    "-lm", "-o", str(runner)], check=True)
    models = make_tiny_models(tmp_path)
    x = np.random.default_rng(5).standard_normal(INPUT_SHAPE, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    result = subprocess.run(["qemu-aarch64", str(runner), str(models["tiny_sparse"]), "--input",
                             str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy"), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert '"backend": "neon"' in result.stdout and "spmm_ukernel__neon" in result.stdout
    np.testing.assert_allclose(np.load(tmp_path / "y.npy").reshape(1, 10), Model(models["tiny_sparse"]).run(x),
                               atol=1e-5, rtol=0)
