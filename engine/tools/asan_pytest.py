"""Run Python-level tests against an ASan + UBSan build of the engine extension.

    python3 engine/tools/asan_pytest.py [pytest args...]      (default: tests/python tests/ops -q)
    make asan-python PYTEST_ARGS="tests/python -q"

How: the cffi extension is compiled with clang -fsanitize=address,undefined into build/asan-python/, next to an
overlay package `sparsebyte` whose entries are symlinks to python/sparsebyte/* (and converters/), except
_engine.abi3.so which is the sanitized build. PYTHONPATH puts the overlay first (the editable install's finder comes
after the path finder), LD_PRELOAD loads the ASan runtime before Python, and any sanitizer report aborts the test
process with exit code 99. Leak detection is off: CPython and torch keep allocations alive until exit by design.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "python" / "sparsebyte"
OUT = REPO / "build" / "asan-python"
SANITIZE = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"


def asan_runtime() -> str:
    path = subprocess.run(["clang", "-print-file-name=libclang_rt.asan-x86_64.so"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if not os.path.isfile(path):
        raise SystemExit(f"ASan runtime not found ({path!r}): apt-get install libclang-rt-14-dev")
    return path


def build_extension() -> Path:
    """Compiles the engine into a sanitized _engine.abi3.so (cffi, clang) and returns its path."""
    # Scalar kernels: the x86 kernels enable their ISA with `#pragma GCC target`, which clang lacks; they run under
    # ASan + UBSan in the kernel harness instead (tests/kernels, configuration x86-asan, gcc).
    env = {**os.environ, "CC": "clang", "CFLAGS": f"{SANITIZE} -O1 -g", "LDSHARED": "clang -shared",
           "LDFLAGS": f"{SANITIZE} -shared-libasan", "SPARSEBYTE_BUILD_KERNELS": "scalar"}
    code = (f"import sys; sys.path.insert(0, {str(PACKAGE)!r}); from _build_ffi import make_builder; "
            f"print(make_builder(relative=False).compile(tmpdir={str(OUT / 'cffi')!r}, verbose=False))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"sanitized extension build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def make_overlay(extension: Path) -> Path:
    overlay = OUT / "site" / "sparsebyte"
    if overlay.exists():
        shutil.rmtree(overlay)
    overlay.mkdir(parents=True)
    for entry in PACKAGE.iterdir():
        if entry.name.startswith("_engine") or entry.name == "__pycache__":
            continue
        (overlay / entry.name).symlink_to(entry)
    (overlay / "converters").symlink_to(REPO / "converters")
    shutil.copyfile(extension, overlay / "_engine.abi3.so")
    return overlay.parent


def sanitizer_env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(":"),
            "LD_PRELOAD": asan_runtime(),
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99:allocator_may_return_null=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=99",
            "SPARSEBYTE_ASAN": "1"}


def prepare() -> dict[str, str]:
    """Builds everything and returns the environment under which `import sparsebyte` gets the sanitized engine."""
    env = sanitizer_env(make_overlay(build_extension()))
    check = subprocess.run([sys.executable, "-c", "import sparsebyte._engine as e; print(e.__file__)"],
                           capture_output=True, text=True, env=env, cwd=REPO)
    if check.returncode != 0 or str(OUT) not in check.stdout:
        raise SystemExit(f"the overlay does not take effect: {check.stdout} {check.stderr[-2000:]}")
    return env


def main(argv: list[str]) -> int:
    env = prepare()
    args = argv or ["tests/python", "tests/ops", "-q"]
    print(f"running pytest {' '.join(args)} against {OUT}/site/sparsebyte/_engine.abi3.so (ASan+UBSan)", flush=True)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], env=env,
                          cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
