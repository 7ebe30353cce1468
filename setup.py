"""Metadata lives in pyproject.toml; this file declares what setuptools has no TOML key for: the cffi extension,
and the copy of the C sources the devices build on demand (sparsebyte.resources.NATIVE_FILES, plus web/dist when
it is built) into the wheel as sparsebyte/_native/, same relative paths as the checkout."""

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent  # the checkout, or the unpacked sdist


def _resources() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_sparsebyte_resources", ROOT / "python/sparsebyte/resources.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithNative(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout itself
            return
        resources = _resources()
        target = Path(self.build_lib) / "sparsebyte" / resources.NATIVE_DIR
        shutil.rmtree(target, ignore_errors=True)  # no stale web/dist from an earlier build
        for source in resources.native_files(ROOT):
            destination = target / source.relative_to(ROOT)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


setup(cffi_modules=["python/sparsebyte/_build_ffi.py:ffibuilder"], cmdclass={"build_py": BuildPyWithNative})
