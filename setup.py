# Metadata lives in pyproject.toml; this file only declares the cffi extension (setuptools has no TOML key for it).
from setuptools import setup

setup(cffi_modules=["python/sparsebyte/_build_ffi.py:ffibuilder"])
