"""Builds and runs the C kernel test harness (tests/kernels/kernel_test.c) for one build configuration.

A configuration names a compiler, flags, extra kernel sources (from a make variable of an architecture's kernels.mk)
and how to run the result (natively, under qemu-aarch64, under node). tests/kernels/test_kernels.py runs every
configuration; add one to CONFIGS to test another architecture's kernels.

    python3 tests/kernels/build_harness.py --config scalar [-- --family f32_spmm --quick]
"""

from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HARNESS_DIR = REPO / "tests" / "kernels"
SCALAR_MK = "engine/kernels/kernels.mk"
NEON_MK = "kernels_arm/kernels.mk"
WASM_MK = "kernels_wasm/kernels.mk"
X86_MK = "kernels_x86/kernels.mk"


def common_flags(kernels_dir: str = "engine/kernels") -> list[str]:
    """The project's C flags; kernels_dir replaces engine/kernels on the include path."""
    return ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Iengine/include", f"-I{kernels_dir}", "-I."]


@dataclass(frozen=True)
class Config:
    name: str
    cc: str
    flags: tuple[str, ...]
    # (kernels.mk path relative to the repo, make variable listing sources relative to the repo)
    source_lists: tuple[tuple[str, str], ...] = ((SCALAR_MK, "SCALAR_KERNEL_SRCS"),)
    runner: tuple[str, ...] = ()  # prefix of the command that runs the binary
    output_name: str = "kernel_test"
    # Present only once an architecture has kernels; without it the configuration has nothing to test.
    requires_file: str | None = None
    tools: tuple[str, ...] = field(default=())  # executables that must be on PATH
    # x86 ISA levels: one binary carries every level; a configuration runs it at one level (SPARSEBYTE_KERNELS) on
    # that level's kernels (kernel_test --arch), if this CPU has the cpuinfo flags listed
    env: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ()
    cpu_flags: tuple[str, ...] = ()

    def missing_requirement(self) -> str | None:
        """Why this configuration cannot run here (its kernels do not exist, or the CPU lacks its level), or None."""
        if self.requires_file is not None and not (REPO / self.requires_file).is_file():
            return f"{self.requires_file} does not exist yet: no kernels for config {self.name}"
        lacking = [f for f in self.cpu_flags if f not in cpu_flags()]
        if lacking:
            return f"config {self.name}: this CPU lacks {', '.join(lacking)}"
        return None

    def build_key(self) -> tuple[object, ...]:
        """Configurations with equal keys share one binary (the x86 levels)."""
        return (self.cc, self.flags, self.source_lists, self.output_name)


def cpu_flags() -> set[str]:
    """The x86 feature flags of this machine (/proc/cpuinfo), empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    m = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return set(m.group(1).split()) if m else set()


X86_SOURCES = ((SCALAR_MK, "SCALAR_KERNEL_SRCS"), (X86_MK, "X86_KERNEL_SRCS"))
# -g1 (line tables: reports still name file:line) compiles the intrinsic-heavy x86 kernels in ~0.65x the time of -g
SANITIZE = ("-O1", "-g1", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def x86_level(level: str, env_name: str, flags: tuple[str, ...]) -> Config:
    """The x86 build (every level, one compile) run on one level's kernels."""
    return Config(f"x86-{level}", "gcc", ("-O2", "-DSB_ARCH_X86"), source_lists=X86_SOURCES, requires_file=X86_MK,
                  env=(("SPARSEBYTE_KERNELS", env_name),), args=("--arch", level), cpu_flags=flags)


CONFIGS: dict[str, Config] = {
    c.name: c
    for c in [
        Config("scalar", "gcc", ("-O2",)),
        x86_level("sse41", "sse4.1", ("sse4_1",)),
        x86_level("avx2", "avx2", ("avx2", "fma")),
        x86_level("avx512", "avx512", ("avx2", "fma", "avx512f")),
        # every level this CPU runs, and the scalar kernels (so no scalar-only ASan build), under ASan + UBSan
        Config("x86-asan", "gcc", (*SANITIZE, "-DSB_ARCH_X86"), source_lists=X86_SOURCES, requires_file=X86_MK,
               cpu_flags=("sse4_1",)),
        # The NEON kernels through SIMDe on x86, under ASan + UBSan (the optimised NEON code runs as real aarch64
        # under qemu: aarch64-qemu; an -O2 SIMDe build would check nothing that these two do not)
        Config(
            "neon-simde-asan",
            "gcc",
            (
                *SANITIZE,
                # SIMDe emulates each NEON register as a union on the stack: instrumenting those made
                # f32-spconv/neon.c alone take 285 s of CPU to compile (59 s without); heap and global accesses, where
                # the kernels' inputs, weights and outputs live, stay checked (x86-asan checks stacks too)
                "--param=asan-stack=0",
                "-DSB_ARCH_NEON",
                "-DSB_NEON_SIMDE",
                "-mfma",
            ),
            source_lists=((SCALAR_MK, "SCALAR_KERNEL_SRCS"), (NEON_MK, "NEON_KERNEL_SRCS")),
            requires_file=NEON_MK,
        ),
        Config(
            "aarch64-qemu",
            "aarch64-linux-gnu-gcc",
            ("-O2", "-march=armv8-a", "-static", "-DSB_ARCH_NEON"),
            source_lists=((SCALAR_MK, "SCALAR_KERNEL_SRCS"), (NEON_MK, "NEON_KERNEL_SRCS")),
            runner=("qemu-aarch64",),
            requires_file=NEON_MK,
            tools=("qemu-aarch64",),
        ),
        # WASM SIMD128 kernels built with emscripten and run in node (kernels_wasm/emcc.sh sets NODE_PATH for emcc).
        Config(
            "wasm-node",
            str(REPO / "kernels_wasm" / "emcc.sh"),
            (
                "-O3",
                "-msimd128",
                "-DSB_ARCH_WASMSIMD",
                "-sALLOW_MEMORY_GROWTH=1",
                "-sEXIT_RUNTIME=1",
                "-sSINGLE_FILE=1",
            ),
            source_lists=((SCALAR_MK, "SCALAR_KERNEL_SRCS"), (WASM_MK, "WASM_KERNEL_SRCS")),
            runner=("node",),
            output_name="kernel_test.js",
            requires_file=WASM_MK,
            tools=("emcc", "node"),
        ),
    ]
}


class BuildError(RuntimeError):
    pass


def make_variable(makefile: str, variable: str) -> list[str]:
    """Words of a make variable. Plain `VAR = a b \\` lists are parsed here; anything using make syntax ($(...))
    is evaluated by make itself, run from the repo root so paths and wildcards resolve as in the build."""
    path = REPO / makefile
    if not path.is_file():
        raise BuildError(f"{makefile}: not found (needed for {variable})")
    text = path.read_text()
    joined = re.sub(r"\\\n", " ", text)
    words: list[str] = []
    found = False
    for line in joined.splitlines():
        line = line.split("#", 1)[0]
        m = re.match(rf"^\s*{re.escape(variable)}\s*(\+=|:=|::=|\?=|=)(.*)$", line)
        if m is None:
            continue
        found = True
        if m.group(1) != "+=":
            words = []
        words += m.group(2).split()
    if not found:
        raise BuildError(f"{makefile}: variable {variable} is not defined")
    if any("$" in w for w in words):
        if shutil.which("make") is None:
            raise BuildError(f"{makefile}: {variable} uses make syntax and `make` is not installed")
        out = subprocess.run(
            [
                "make",
                "-s",
                "--no-print-directory",
                "-f",
                makefile,
                "--eval",
                f"sb-print-var: ; @echo $({variable})",
                "sb-print-var",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise BuildError(f"make could not evaluate {variable} in {makefile}:\n{out.stderr}")
        words = out.stdout.split()
    return words


def harness_sources(config: Config, kernels_dir: str = "engine/kernels") -> list[str]:
    """Harness sources plus the configuration's kernel sources, relative to the repo root. `kernels_dir` lets a test
    build against a modified copy of the scalar kernels (an absolute path)."""
    sources = sorted(str(p.relative_to(REPO)) for p in HARNESS_DIR.glob("*.c"))
    for makefile, variable in config.source_lists:
        for src in make_variable(makefile, variable):
            if kernels_dir != "engine/kernels" and src.startswith("engine/kernels/"):
                src = str(Path(kernels_dir) / src[len("engine/kernels/") :])
            sources.append(src)
    return sources


def build(config: Config, out_dir: Path, kernels_dir: str = "engine/kernels") -> Path:
    """Compiles the harness for `config` into out_dir; raises BuildError with the compiler's output on failure."""
    for tool in (config.cc, *config.tools):
        if shutil.which(tool) is None:
            raise BuildError(f"config {config.name}: `{tool}` is not installed (see .ci/install)")
    out_dir.mkdir(parents=True, exist_ok=True)
    binary = out_dir / config.output_name
    flags = [*common_flags(kernels_dir), *config.flags]
    sources = harness_sources(config, kernels_dir)
    if Path(config.cc).name.endswith("gcc"):  # one object per source, compiled on every core, then one link
        sources = _compile_objects(config, flags, sources, out_dir / "obj")
    cmd = [config.cc, *flags, *sources, "-o", str(binary), "-lm"]
    _run_compiler(config, cmd)
    return binary


_BUILT: dict[tuple[object, ...], Path] = {}


def built(config: Config) -> Path:
    """The harness of `config`, built once per process and build key (the x86 levels share one binary; tests/kernels
    and tests/arm share these) into a temporary directory removed at exit."""
    key = config.build_key()
    if key not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix=f"sb-harness-{config.name}-"))
        atexit.register(shutil.rmtree, root, True)
        _BUILT[key] = build(config, root)
    return _BUILT[key]


def relinked(config: Config, replacements: dict[str, Path], out_dir: Path) -> Path:
    """The harness of `config` (gcc configurations) with some sources replaced by other files: only those are
    compiled, the rest are built()'s objects; e.g. a test's modified copy of a choice table."""
    binary = built(config)
    assert Path(config.cc).name.endswith("gcc"), f"{config.name}: relinked() reuses gcc's per-source objects"
    flags = [*common_flags(), *config.flags]
    sources = harness_sources(config)
    unknown = set(replacements) - set(sources)
    assert not unknown, f"{config.name} does not compile {sorted(unknown)}"
    objects = _object_names(sources, binary.parent / "obj")
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(sources):
        if src in replacements:
            objects[i] = str(out_dir / Path(objects[i]).name)
            _run_compiler(config, [config.cc, *flags, "-c", str(replacements[src]), "-o", objects[i]])
    relinked_binary = out_dir / config.output_name
    _run_compiler(config, [config.cc, *flags, *objects, "-o", str(relinked_binary), "-lm"])
    return relinked_binary


def _object_names(sources: list[str], obj_dir: Path) -> list[str]:
    """Each source's object, named after its whole path (kernel files share base names)."""
    return [str(obj_dir / (re.sub(r"[^\w.-]", "_", src) + ".o")) for src in sources]


def _run_compiler(config: Config, cmd: list[str]) -> None:
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BuildError(f"config {config.name}: compile failed\n$ {' '.join(cmd)}\n{out.stdout}{out.stderr}")


def _compile_objects(config: Config, flags: list[str], sources: list[str], obj_dir: Path) -> list[str]:
    """Compiles each source to its own object in parallel; returns the objects in source order."""
    obj_dir.mkdir(parents=True, exist_ok=True)
    objects = _object_names(sources, obj_dir)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = [pool.submit(_run_compiler, config, [config.cc, *flags, "-c", src, "-o", obj])
                for src, obj in zip(sources, objects, strict=True)]
        for job in jobs:
            job.result()  # the first failure's BuildError, with its compiler output
    return objects


def run(
    config: Config, binary: Path, args: list[str] | tuple[str, ...] = (), timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Runs the harness binary (through the configuration's runner) and returns the finished process."""
    env = {**os.environ, **dict(config.env)} if config.env else None
    return subprocess.run(
        [*config.runner, str(binary), *config.args, *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, check=False, env=env,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="scalar", choices=sorted(CONFIGS))
    parser.add_argument("--out", type=Path, help="build directory (default: a temporary one)")
    parser.add_argument("harness_args", nargs="*", help="arguments for kernel_test (after --)")
    ns = parser.parse_args()
    config = CONFIGS[ns.config]
    reason = config.missing_requirement()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        try:
            binary = build(config, ns.out or Path(tmp))
        except BuildError as e:
            print(e, file=sys.stderr)
            return 2
        result = run(config, binary, ns.harness_args)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
