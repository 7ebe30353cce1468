"""The package where users install it: the sdist is built from this tree, the wheel is built from the sdist (so the
sdist builds), and the wheel is pip-installed into a fresh virtual environment in a temporary directory. Every CLI
command then runs there from a directory outside the checkout: convert, info, run (host, qemu, node), check,
profile --device qemu (the runner and the qemu plugin built from the package's own sources into its cache), bench,
and the one-line exit-2 messages for a missing optional dependency or device tool. Outputs are compared with the
checkout's engine."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from packaging_support import INPUT_SHAPE, REPO, clean_env, make_venv, pip_install, write_onnx_model

from sparsebyte import Model

# `pip install x.tar.gz` builds a wheel from the sdist and installs it: the wheel here is that build (artifacts), so
# one fresh environment with it covers both (a second one repeated every install-time build, about 4 CI minutes).
KINDS = ("wheel",)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sdist of this tree and the wheel pip builds from it (web/dist brought up to date first when emscripten
    is here, so the wheel ships it)."""
    out = tmp_path_factory.mktemp("dist")
    if shutil.which("emcc") and shutil.which("make"):
        built = subprocess.run(["sh", str(REPO / "web" / "build.sh")], cwd=REPO, capture_output=True, text=True,
                               timeout=900)
        assert built.returncode == 0, built.stderr[-3000:]
    sdist = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                            "print(b.build_sdist(sys.argv[1]))", str(out)], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
    assert sdist.returncode == 0, sdist.stderr[-3000:]
    sdist_path = out / sdist.stdout.split()[-1]
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(sdist_path)],
                           capture_output=True, text=True, timeout=900, cwd=out, env=clean_env())
    assert wheel.returncode == 0, wheel.stdout + wheel.stderr[-4000:]
    (wheel_path,) = out.glob("sparsebyte-*.whl")
    return {"sdist": sdist_path, "wheel": wheel_path, "web_dist": (REPO / "web/dist/sparsebyte.wasm").is_file()}


class Env:
    """A virtual environment with sparsebyte installed; run() calls its `sparsebyte` from a work directory outside
    the checkout, with its own build cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = make_venv(root / "venv")
        self.work = root / "work"
        self.cache = root / "cache"
        self.work.mkdir()

    def run(self, *args: str | Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        bin_dir = self.python.parent
        env = clean_env(SPARSEBYTE_CACHE=str(self.cache), PATH=f"{bin_dir}:{clean_env()['PATH']}")
        return subprocess.run([str(bin_dir / "sparsebyte"), *map(str, args)], cwd=self.work, capture_output=True,
                              text=True, timeout=timeout, env=env)

    def python_out(self, code: str) -> str:
        result = subprocess.run([str(self.python), "-c", code], cwd=self.work, capture_output=True, text=True,
                                env=clean_env(SPARSEBYTE_CACHE=str(self.cache)), timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="module", params=KINDS)
def env(request: pytest.FixtureRequest, artifacts: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp(f"venv-{request.param}")
    assert REPO not in root.parents
    installed = Env(root)
    pip_install(installed.python, str(artifacts[request.param]))  # an sdist: pip builds the extension here
    write_onnx_model(installed.work / "model.onnx")
    np.save(installed.work / "x.npy", np.random.default_rng(3).standard_normal(INPUT_SHAPE, dtype=np.float32))
    return installed


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparsebyte: error: "), result.stderr
    return lines[0]


def test_the_sdist_carries_what_the_extension_and_the_devices_build_from(artifacts: dict[str, Any]) -> None:
    with tarfile.open(artifacts["sdist"]) as tar:
        names = {name.partition("/")[2] for name in tar.getnames()}
    for needed in ("setup.py", "pyproject.toml", "MANIFEST.in", "Makefile", "engine/include/sparsebyte.h",
                   "engine/sources.mk", "engine/src/internal.h", "engine/kernels/registry.c", "kernels_arm/kernels.mk",
                   "tools/qemu-insn-count/insn_count.c", "python/sparsebyte/_build_ffi.py", "web/src/index.js"):
        assert needed in names, needed
    assert any(n.startswith("kernels_arm/f32-spmm/") and n.endswith(".c") for n in names)
    # the x86-64 build's kernels (every ISA level, their templates and the choice table)
    for needed in ("kernels_x86/kernels.mk", "kernels_x86/config/x86.c", "kernels_x86/common/vec.h",
                   "kernels_x86/f32-spmm/spmm.inc", "kernels_x86/f32-spmm/list.h"):
        assert needed in names, needed
    assert not any(n.endswith((".so", ".o")) for n in names)


def test_the_wheel_ships_the_device_sources_under_native(artifacts: dict[str, Any]) -> None:
    from sparsebyte import resources

    with zipfile.ZipFile(artifacts["wheel"]) as whl:
        names = set(whl.namelist())
    shipped = {n.removeprefix("sparsebyte/_native/") for n in names if n.startswith("sparsebyte/_native/")}
    expected = {str(p.relative_to(REPO)) for p in resources.native_files(REPO)}
    assert shipped == expected
    assert {"Makefile", "engine/include/sparsebyte.h", "tools/qemu-insn-count/Makefile"} <= shipped
    assert "sparsebyte/_engine" in " ".join(names) and "sparsebyte/data/imagenet_labels.txt" in names
    assert ("web/dist/sparsebyte.wasm" in shipped) == artifacts["web_dist"]
    assert ("web/dist/mt-worker/sparsebyte-mt.worker.js" in shipped) == artifacts["web_dist"]  # threads > 1


def test_installed_outside_the_checkout(env: Env) -> None:
    location = Path(env.python_out("import sparsebyte, sparsebyte.resources as r; print(sparsebyte.__file__); "
                                   "print(r.in_checkout(), r.source_root())").splitlines()[0])
    assert env.root in location.parents and REPO not in location.parents
    assert "exit status:" in env.run("--help").stdout and "2    bad usage" in env.run("run", "--help").stdout


def test_convert_info_run_match_the_checkout_engine(env: Env) -> None:
    result = env.run("convert", "model.onnx", "-o", "model.sbn")
    assert result.returncode == 0, result.stderr
    assert "sparse" in result.stdout and (env.work / "model.sbn").is_file()
    info = env.run("info", "model.sbn")
    assert info.returncode == 0, info.stderr
    assert "input  input [1, 3, 20, 20]" in info.stdout and "CONV_SPARSE" in info.stdout
    run = env.run("run", "model.sbn", "--input", "x.npy", "--output", "y.npy")
    assert run.returncode == 0, run.stderr
    expected = Model(env.work / "model.sbn").run(np.load(env.work / "x.npy"))
    np.testing.assert_allclose(np.load(env.work / "y.npy"), expected, atol=1e-6, rtol=0)
    assert "logits: shape [1, 10]" in run.stdout


def test_check_names_the_missing_extra_then_passes(env: Env) -> None:
    env.run("convert", "model.onnx", "-o", "model.sbn")
    line = _one_error_line(env.run("check", "model.sbn", "--reference", "model.onnx", "-n", "3"))
    assert "onnxruntime" in line and "pip install onnxruntime" in line
    pip_install(env.python, "onnxruntime")
    check = env.run("check", "model.sbn", "--reference", "model.onnx", "-n", "3")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout
    bench = env.run("bench", "model.sbn", "--onnx", "model.onnx", "--repeat", "3", "--warmup", "1")
    assert bench.returncode == 0, bench.stderr
    assert "median" in bench.stdout and "onnxruntime" in bench.stdout


def test_profile_and_run_under_qemu_build_from_the_package(env: Env) -> None:
    if not (shutil.which("qemu-aarch64") and shutil.which("aarch64-linux-gnu-gcc")):
        pytest.fail("qemu-user and gcc-aarch64-linux-gnu are needed (.ci/install installs them)")
    env.run("convert", "model.onnx", "-o", "model.sbn")
    profile = env.run("profile", "model.sbn", "--device", "qemu", "--plot", "prof", "--repeat", "1")
    assert profile.returncode == 0, profile.stderr
    assert "CONV_SPARSE" in profile.stdout and "insns" in profile.stdout and "neon" in profile.stdout
    assert (env.work / "prof.png").stat().st_size > 1000 and "CONV_SPARSE" in (env.work / "prof.html").read_text()
    assert (env.cache / "aarch64" / "sparsebyte-run").is_file()  # built into the cache, not into site-packages
    site = Path(env.python_out("import sparsebyte.resources as r; print(r.source_root())"))
    assert not (site / "build").exists()
    run = env.run("run", "model.sbn", "--device", "qemu", "--input", "x.npy", "--output", "yq.npy")
    assert run.returncode == 0, run.stderr
    expected = Model(env.work / "model.sbn").run(np.load(env.work / "x.npy"))
    np.testing.assert_allclose(np.load(env.work / "yq.npy"), expected, atol=1e-4, rtol=1e-4)


def test_run_in_node_uses_the_packaged_wasm_build(env: Env, artifacts: dict[str, Any]) -> None:
    env.run("convert", "model.onnx", "-o", "model.sbn")
    run = env.run("run", "model.sbn", "--device", "node", "--input", "x.npy", "--output", "yw.npy")
    demo_wasm = env.python_out("from sparsebyte.demo import wasm_unavailable; print(wasm_unavailable())")
    if not artifacts["web_dist"]:  # built without web/dist: one line saying how to get it
        assert "web/build.sh" in _one_error_line(run) and "web/build.sh" in demo_wasm
        return
    assert demo_wasm == "None"  # the demo's wasm step runs on the packaged web/dist
    assert run.returncode == 0, run.stderr
    expected = Model(env.work / "model.sbn").run(np.load(env.work / "x.npy"))
    np.testing.assert_allclose(np.load(env.work / "yw.npy"), expected, atol=1e-4, rtol=1e-4)


def test_missing_extras_and_tools_are_one_line_exit_2(env: Env) -> None:
    env.run("convert", "model.onnx", "-o", "model.sbn")
    assert "pip install torch==2.13.0" in _one_error_line(env.run("demo", "--classifier", "--out", "demo", "--no-qemu"))
    assert "pip install torch==2.13.0" in _one_error_line(env.run("sparsify", "--model", "mnist", "-o", "sp"))
    assert "pip install apache-tvm" in _one_error_line(env.run("convert", "model.onnx", "-o", "t.sbn", "--kernels",
                                                                "tvm"))
    (env.work / "factory.py").write_text("import torch\n\ndef make():\n    return torch.nn.Identity()\n")
    assert "pip install torch==2.13.0" in _one_error_line(env.run("convert", "--torch", "factory:make", "-o", "f.sbn",
                                                                  "--input-shape", "x=1,3,8,8"))
    # no cross compiler / qemu / make on PATH: one line naming the Debian package
    for device in ("qemu", "adb"):
        bare = subprocess.run([str(env.python.parent / "sparsebyte"), "run", "model.sbn", "--device", device],
                              cwd=env.work, capture_output=True, text=True, timeout=300,
                              env=clean_env(SPARSEBYTE_CACHE=str(env.cache), PATH=str(env.python.parent)))
        assert "not found" in (line := _one_error_line(bare)) and "apt-get install -y " in line, line
    # adb: not installed here, or no phone attached; ssh: a closed port on this machine
    assert "adb" in _one_error_line(env.run("run", "model.sbn", "--device", "adb"))
    ssh = env.run("run", "model.sbn", "--device", "ssh:127.0.0.1:9", "--device-dir", "/tmp/sb-none")
    assert ssh.returncode == 2 and "Traceback" not in ssh.stderr, ssh.stderr


def test_the_demo_runs_from_the_wheel(env: Env, artifacts: dict[str, Any]) -> None:
    """The whole demo (host, qemu, the packaged web/dist in node) from the installed wheel. torch, onnxruntime,
    scikit-image and the weights wheel are this interpreter's (a path entry appended to the venv, not its site
    processing, so the checkout's editable install stays invisible): installing torch per run would take minutes."""
    import sysconfig

    site = Path(env.python_out("import sysconfig; print(sysconfig.get_paths()['purelib'])"))
    (site / "zz_host_site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    try:
        where = env.python_out("import sparsebyte, torch; print(sparsebyte.__file__)")
        assert Path(where).is_relative_to(site)
        demo = env.run("demo", "--classifier", "--out", "demo", timeout=1800)
    finally:
        (site / "zz_host_site.pth").unlink()
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "dense: Egyptian cat" in demo.stdout and "demo passed" in demo.stdout
    assert "qemu-aarch64 (neon)" in demo.stdout
    wasm = [line for line in demo.stdout.splitlines() if " wasm (wasm-simd128): " in line]
    if artifacts["web_dist"]:
        assert len(wasm) == 2 and all(line.endswith("OK") for line in wasm), demo.stdout
    else:
        assert "skipped: this installation has no WebAssembly build" in demo.stdout
