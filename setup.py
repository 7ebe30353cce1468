"""Metadata lives in pyproject.toml; this file declares what setuptools has no TOML key for: the cffi extension,
and the copy of the C sources the devices build on demand (sparsebyte.resources.NATIVE_FILES, plus web/dist when
it is built) into the wheel as sparsebyte/_native/, same relative paths as the checkout; and it compiles the
extension's sources on every core."""

import importlib.util
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

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


def _compile_in_parallel() -> None:
    """Makes CCompiler.compile run one compiler process per core: distutils compiles an extension's sources one after
    the other (build_ext -j only builds whole extensions side by side), and the engine is one extension of ~150
    sources (2-3 minutes on one core; a Pi has four). SPARSEBYTE_BUILD_JOBS=N caps the processes."""
    from distutils.ccompiler import CCompiler  # setuptools' own distutils, now that setuptools is imported

    def compile_sources(self: CCompiler, sources: list[str], output_dir: str | None = None, macros: Any = None,
                        include_dirs: list[str] | None = None, debug: bool = False, extra_preargs: Any = None,
                        extra_postargs: Any = None, depends: Any = None) -> list[str]:
        macros, objects, extra_postargs, pp_opts, build = self._setup_compile(output_dir, macros, include_dirs,
                                                                              sources, depends, extra_postargs)
        cc_args = self._get_cc_args(pp_opts, debug, extra_preargs)
        jobs = int(os.environ.get("SPARSEBYTE_BUILD_JOBS", "0")) or os.cpu_count() or 1

        def one(obj: str) -> None:
            src, ext = build[obj]
            self._compile(obj, src, ext, cc_args, extra_postargs, pp_opts)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for _ in pool.map(one, [o for o in objects if o in build]):  # re-raises the first compile error
                pass
        return objects

    CCompiler.compile = compile_sources  # type: ignore[method-assign]


_compile_in_parallel()
setup(cffi_modules=["python/sparsebyte/_build_ffi.py:ffibuilder"], cmdclass={"build_py": BuildPyWithNative})
