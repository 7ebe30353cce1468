"""`pip install sparsebyte` on a Raspberry Pi (aarch64 Linux), from the sdist, shown on this x86 machine: the sdist's
own PEP 517 build (setuptools + cffi, as pip runs it) cross-compiles the extension with aarch64-linux-gnu-gcc
against Debian's arm64 CPython 3.11 (headers and sysconfig data from the arm64 packages), and the resulting
linux_aarch64 wheel is imported and run by that aarch64 CPython under qemu-aarch64, the Python API and the CLI,
matching the host engine.

Everything comes from apt and PyPI and is cached in ~/.cache/sparsebyte-test/arm64 ($SPARSEBYTE_TEST_CACHE):
Debian's arm64 packages (`apt-get download`, needs `dpkg --add-architecture arm64 && apt-get update`, which
.ci/install does) unpacked into a sysroot, and the aarch64 wheels of numpy and cffi (`pip download`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from packaging_support import INPUT_SHAPE, REPO, clean_env, write_onnx_model

from sparsebyte import Model

PYTHON = "3.11"
DEBS = (f"python{PYTHON}-minimal", f"libpython{PYTHON}-minimal", f"libpython{PYTHON}-stdlib",
        f"libpython{PYTHON}-dev", "libc6", "libexpat1", "zlib1g", "libffi8", "libssl3", "libgcc-s1", "libbz2-1.0",
        "liblzma5", "libuuid1", "libcrypt1", "libstdc++6")
WHEELS = ("numpy", "cffi", "pycparser")
# Debian 12's glibc is 2.36: any manylinux tag up to that runs in the sysroot.
PLATFORMS = ("manylinux2014_aarch64", *(f"manylinux_2_{v}_aarch64" for v in (17, 24, 26, 27, 28, 31, 34, 36)))
SYSCONFIG = "_sysconfigdata__linux_aarch64-linux-gnu"


def _cache() -> Path:
    return Path(os.environ.get("SPARSEBYTE_TEST_CACHE") or Path.home() / ".cache" / "sparsebyte-test") / "arm64"


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(cmd[:4])}...:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def arm64() -> dict[str, Path]:
    """{"sysroot": Debian arm64 CPython unpacked, "python": its interpreter, "wheels": aarch64 wheels}."""
    for tool in ("qemu-aarch64", "aarch64-linux-gnu-gcc", "apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: .ci/install installs qemu-user and gcc-aarch64-linux-gnu")
    cache = _cache()
    debs, wheels, sysroot = cache / "debs", cache / "wheels", cache / "sysroot"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [name for name in DEBS if not list(debs.glob(f"{name}_*_arm64.deb"))]
    if missing:
        got = subprocess.run(["apt-get", "download", "-q", *(f"{name}:arm64" for name in missing)], cwd=debs,
                             capture_output=True, text=True, timeout=600)
        assert got.returncode == 0, (f"apt-get download of arm64 packages failed (needs `dpkg --add-architecture "
                                     f"arm64 && apt-get update`, as .ci/install does):\n{got.stderr[-2000:]}")
    marker = sysroot / ".unpacked"
    deb_files = sorted(debs.glob("*.deb"))
    if not marker.is_file() or marker.read_text() != "\n".join(p.name for p in deb_files):
        shutil.rmtree(sysroot, ignore_errors=True)
        sysroot.mkdir()
        for deb in deb_files:
            _run(["dpkg-deb", "-x", str(deb), str(sysroot)])
        marker.write_text("\n".join(p.name for p in deb_files))
    wheels.mkdir(exist_ok=True)
    if any(not list(wheels.glob(f"{name}-*.whl")) for name in WHEELS):
        _run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--no-deps", "--python-version",
              PYTHON, "--implementation", "cp", "--abi", f"cp{PYTHON.replace('.', '')}",
              *(arg for p in PLATFORMS for arg in ("--platform", p)), "-d", str(wheels), *WHEELS], timeout=600)
    return {"sysroot": sysroot, "python": sysroot / "usr" / "bin" / f"python{PYTHON}", "wheels": wheels}


@pytest.fixture(scope="module")
def aarch64_wheel(arm64: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The linux_aarch64 wheel the sdist's PEP 517 build makes with the cross compiler."""
    work = tmp_path_factory.mktemp("pi")
    sdist = _run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                  "print(b.build_sdist(sys.argv[1]))", str(work)], cwd=REPO, timeout=300).stdout.split()[-1]
    with tarfile.open(work / sdist) as tar:
        tar.extractall(work, filter="data")
    source = work / sdist.removesuffix(".tar.gz")
    sysconfig_dir = work / "sysconfig"  # only the target's sysconfig data on PYTHONPATH, not its stdlib
    sysconfig_dir.mkdir()
    shutil.copy(arm64["sysroot"] / "usr" / "lib" / f"python{PYTHON}" / f"{SYSCONFIG}.py", sysconfig_dir)
    include = arm64["sysroot"] / "usr" / "include"
    env = clean_env(_PYTHON_HOST_PLATFORM="linux-aarch64", _PYTHON_SYSCONFIGDATA_NAME=SYSCONFIG,
                    PYTHONPATH=str(sysconfig_dir), CFLAGS=f"-I{include / f'python{PYTHON}'} -I{include}")
    out = work / "wheel"
    _run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; print(b.build_wheel(sys.argv[1]))",
          str(out)], cwd=source, env=env, timeout=1200)
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def pi_site(arm64: dict[str, Path], aarch64_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site-packages directory for the aarch64 CPython: the cross-built wheel plus numpy and cffi."""
    site = tmp_path_factory.mktemp("pi-site")
    for wheel in [aarch64_wheel, *sorted(arm64["wheels"].glob("*.whl"))]:
        with zipfile.ZipFile(wheel) as z:
            z.extractall(site)
    return site


def _qemu_python(arm64: dict[str, Path], site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = ["qemu-aarch64", "-L", str(arm64["sysroot"]), "-E", f"PYTHONPATH={site}", "-E", "OPENBLAS_NUM_THREADS=1",
           "-E", f"SPARSEBYTE_CACHE={cwd / 'cache'}", str(arm64["python"]), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600, env=clean_env())


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from sparsebyte.converters import convert

    work = tmp_path_factory.mktemp("pi-model")
    convert(write_onnx_model(work / "model.onnx"), work / "model.sbn")
    np.save(work / "x.npy", np.random.default_rng(11).standard_normal(INPUT_SHAPE, dtype=np.float32))
    return {"dir": work, "sbn": work / "model.sbn", "x": work / "x.npy"}


def test_the_sdist_cross_builds_an_aarch64_wheel_with_the_neon_kernels(aarch64_wheel: Path, tmp_path: Path) -> None:
    assert aarch64_wheel.name.endswith("-linux_aarch64.whl")
    with zipfile.ZipFile(aarch64_wheel) as z:
        (ext,) = [n for n in z.namelist() if n.startswith("sparsebyte/_engine") and n.endswith(".so")]
        assert ext.endswith((".abi3.so", ".cpython-311-aarch64-linux-gnu.so"))  # cffi picks the stable ABI
        assert "sparsebyte/_native/kernels_arm/kernels.mk" in z.namelist()
        z.extract(ext, tmp_path)
    header = _run(["aarch64-linux-gnu-readelf", "-h", str(tmp_path / ext)]).stdout
    assert "AArch64" in header and "DYN" in header
    symbols = _run(["aarch64-linux-gnu-nm", "-D", "--defined-only", str(tmp_path / ext)]).stdout
    assert " T PyInit__engine" in symbols and "spmm_ukernel__neon" in symbols


def test_the_aarch64_python_runs_the_model_like_the_host(arm64: dict[str, Path], pi_site: Path,
                                                          model: dict[str, Path]) -> None:
    code = ("import sys, numpy as np, sparsebyte; from sparsebyte import Model; m = Model(sys.argv[1]); "
            "np.save(sys.argv[3], m.run(np.load(sys.argv[2]))); print(m.backend, sparsebyte.__file__)")
    result = _qemu_python(arm64, pi_site, "-c", code, str(model["sbn"]), str(model["x"]), "y_api.npy",
                          cwd=model["dir"])
    assert result.returncode == 0, result.stderr
    backend, location = result.stdout.split()
    assert backend == "neon" and Path(location).is_relative_to(pi_site)
    expected = Model(model["sbn"]).run(np.load(model["x"]))
    np.testing.assert_allclose(np.load(model["dir"] / "y_api.npy"), expected, atol=1e-5, rtol=1e-5)


def test_the_cli_runs_on_the_aarch64_python(arm64: dict[str, Path], pi_site: Path, model: dict[str, Path]) -> None:
    result = _qemu_python(arm64, pi_site, "-m", "sparsebyte", "run", str(model["sbn"]), "--input", str(model["x"]),
                          "--output", "y_cli.npy", cwd=model["dir"])
    assert result.returncode == 0, result.stderr
    assert "logits: shape [1, 10]" in result.stdout and "host (neon" in result.stdout
    expected = Model(model["sbn"]).run(np.load(model["x"]))
    np.testing.assert_allclose(np.load(model["dir"] / "y_cli.npy"), expected, atol=1e-5, rtol=1e-5)
    assert REPO not in Path(model["dir"]).parents
