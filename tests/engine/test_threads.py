"""Results with N engine threads equal 1 thread's (to 1e-5; by design bit for bit) for every N in 1..8, on a model whose
layers are large enough that the partitioning of engine/src/ops/conv_common.c and threadpool.c really splits them:
pixel chunks (a 30x30 plane), output-channel blocks (8x8 planes), sparse blocks cut at equal shares of very uneven
group nnz, depthwise channel blocks and rows, direct and sparse kxk convs (a small-plane direct one in channel
blocks), pools, FC, FC_SPARSE at batch 1 (output groups split). Built two ways: the host build (x86 SIMD kernels
where the CPU has them: vector tiles and tails) and ASan+UBSan; the NEON-through-SIMDe build (`make host-neon`, 54 s
of CPU to build, too much for CI) gives the same bits (docs/threads.md). TSan: tests/fuzz/test_stress_threads.py runs
the same model through every count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_support import run_binary
from models import CONV1, CONV3, RELU, Case, conv_ref, pack_group_sparse, rng

from sparsebyte.sbnformat import SbnWriter

THREAD_COUNTS = range(1, 9)


def uneven_sparse_weight(cout: int, cin: int, k: int, group: int, seed: int) -> np.ndarray:
    """Group-sparse weights whose groups keep from all to none of the inputs (nnz falls along Cout), so equal
    channel blocks would cost very differently."""
    r = rng(seed)
    w = r.standard_normal((cout, cin, k, k)).astype(np.float32)
    groups = -(-cout // group)
    for g in range(groups):
        keep = 1.0 - g / max(groups - 1, 1)
        w[g * group:(g + 1) * group, r.random(cin) >= keep] = 0.0
    return w


def threads_model() -> Case:
    r = rng(20)
    w1 = r.standard_normal((24, 16, 3, 3)).astype(np.float32) * 0.2
    b1 = r.standard_normal(24).astype(np.float32)
    w2 = uneven_sparse_weight(70, 24, 1, 4, seed=21) * 0.3
    b2 = r.standard_normal(70).astype(np.float32)
    wd1 = r.standard_normal((70, 1, 3, 3)).astype(np.float32)
    wd2 = r.standard_normal((70, 1, 3, 3)).astype(np.float32)
    w5 = r.standard_normal((100, 70, 1, 1)).astype(np.float32) * 0.1
    b5 = r.standard_normal(100).astype(np.float32)
    w6 = uneven_sparse_weight(90, 100, 1, 8, seed=22) * 0.1
    w7 = uneven_sparse_weight(36, 90, 3, 4, seed=23) * 0.05
    w8 = r.standard_normal((40, 36, 3, 3)).astype(np.float32) * 0.05
    b8 = r.standard_normal(40).astype(np.float32)
    wf = r.standard_normal((200, 40)).astype(np.float32)
    bf = r.standard_normal(200).astype(np.float32)
    ws = uneven_sparse_weight(600, 200, 1, 4, seed=24)[:, :, 0, 0] * 0.1
    addend = r.standard_normal((1, 70, 30, 30)).astype(np.float32)
    s = SbnWriter()
    x = s.add_tensor("x", (1, 16, 30, 30))
    t1b = s.add_constant("addend", addend)
    t1 = s.add_tensor("conv3", (1, 24, 30, 30))
    t2 = s.add_tensor("sp1x1_big", (1, 70, 30, 30))
    t2a = s.add_tensor("add_pixels", (1, 70, 30, 30))
    t3 = s.add_tensor("dw_s2", (1, 70, 15, 15))
    t4 = s.add_tensor("dw_s2b", (1, 70, 8, 8))
    t5 = s.add_tensor("pw_small", (1, 100, 8, 8))
    t6 = s.add_tensor("sp1x1_small", (1, 90, 8, 8))
    t7 = s.add_tensor("spconv", (1, 36, 8, 8))
    t7b = s.add_tensor("conv3_small", (1, 40, 8, 8))
    t8 = s.add_tensor("maxpool", (1, 40, 4, 4))
    t9 = s.add_tensor("gap", (1, 40, 1, 1))
    t10 = s.add_tensor("flat", (1, 40))
    t11 = s.add_tensor("fc", (1, 200))
    y = s.add_tensor("fc_sparse", (1, 600))
    s.add_node("CONV", "conv3", [x, s.add_constant("w1", w1), s.add_constant("b1", b1)], [t1], CONV3, act=RELU)
    nnz, idx, val = pack_group_sparse(w2, 4)
    s.add_node("CONV_SPARSE", "sp1x1_big", [t1, s.add_constant("nnz2", nnz), s.add_constant("idx2", idx),
                                            s.add_constant("val2", val), s.add_constant("b2", b2)], [t2],
               {**CONV1, "G": 4}, act=RELU)
    s.add_node("ADD", "add_pixels", [t2, t1b], [t2a])  # split by pixels of every channel (binary.c)
    dw = {**CONV3, "stride_h": 2, "stride_w": 2, "groups": 70}
    s.add_node("CONV", "dw_s2", [t2a, s.add_constant("wd1", wd1)], [t3], dw, act=("CLIP", 0.0, 6.0))
    s.add_node("CONV", "dw_s2b", [t3, s.add_constant("wd2", wd2)], [t4], dw)
    s.add_node("CONV", "pw_small", [t4, s.add_constant("w5", w5), s.add_constant("b5", b5)], [t5], CONV1, act=RELU)
    nnz, idx, val = pack_group_sparse(w6, 8)
    s.add_node("CONV_SPARSE", "sp1x1_small", [t5, s.add_constant("nnz6", nnz), s.add_constant("idx6", idx),
                                              s.add_constant("val6", val)], [t6], {**CONV1, "G": 8})
    nnz, idx, val = pack_group_sparse(w7, 4)
    s.add_node("CONV_SPARSE", "spconv", [t6, s.add_constant("nnz7", nnz), s.add_constant("idx7", idx),
                                         s.add_constant("val7", val)], [t7], {**CONV3, "G": 4}, act=RELU)
    # a dense 3x3 conv whose row chunks would be too narrow: 16-channel blocks (a partial last one) and rows
    s.add_node("CONV", "conv3_small", [t7, s.add_constant("w8", w8), s.add_constant("b8", b8)], [t7b], CONV3,
               act=RELU)
    s.add_node("MAX_POOL", "maxpool", [t7b], [t8], dict(kh=2, kw=2, stride_h=2, stride_w=2))
    s.add_node("GLOBAL_AVG_POOL", "gap", [t8], [t9])
    s.add_node("RESHAPE", "flatten", [t9], [t10])
    s.add_node("FC", "fc", [t10, s.add_constant("wf", wf), s.add_constant("bf", bf)], [t11], act=RELU)
    nnz, idx, val = pack_group_sparse(ws[:, :, None, None], 4)
    s.add_node("FC_SPARSE", "fc_sparse", [t11, s.add_constant("nnzs", nnz), s.add_constant("idxs", idx),
                                          s.add_constant("vals", val)], [y], [0] * 11 + [4])
    s.set_graph([x], [y])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        h = np.maximum(conv_ref(ins[0], w1, b1, pad=1), 0)
        h = np.maximum(conv_ref(h, w2, b2), 0) + addend
        h = np.clip(conv_ref(h, wd1, np.zeros(70, np.float32), stride=2, pad=1, groups=70), 0, 6)
        h = conv_ref(h, wd2, np.zeros(70, np.float32), stride=2, pad=1, groups=70)
        h = np.maximum(conv_ref(h, w5, b5), 0)
        h = conv_ref(h, w6, np.zeros(90, np.float32))
        h = np.maximum(conv_ref(h, w7, np.zeros(36, np.float32), pad=1), 0)
        h = np.maximum(conv_ref(h, w8, b8, pad=1), 0)
        h = h.reshape(1, 40, 4, 2, 4, 2).max((3, 5)).mean((2, 3))
        return [(np.maximum(h @ wf.T + bf, 0) @ ws.T).astype(np.float32)]

    return Case("threads", s, [r.standard_normal((1, 16, 30, 30)).astype(np.float32)], ref)


def inverted_residuals_model() -> Case:
    """Two MobileNetV2 blocks that engine/src/fuse.c runs fused with 2-4 threads: dense expand 1x1 -> depthwise 3x3 ->
    project 1x1 -> ADD of the block input (160 hidden channels on 8x8), then a sparse one with a stride-2 depthwise
    conv and no ADD (136 hidden channels, 8x8 -> 4x4; the projection's groups keep from all to none of its inputs,
    so some parts hold no weight of a group)."""
    r = rng(30)
    we = r.standard_normal((160, 24, 1, 1)).astype(np.float32) * 0.3
    be = r.standard_normal(160).astype(np.float32)
    wd = r.standard_normal((160, 1, 3, 3)).astype(np.float32) * 0.5
    bd = r.standard_normal(160).astype(np.float32)
    wp = r.standard_normal((24, 160, 1, 1)).astype(np.float32) * 0.1
    bp = r.standard_normal(24).astype(np.float32)
    we2 = uneven_sparse_weight(136, 24, 1, 4, seed=31) * 0.3
    be2 = r.standard_normal(136).astype(np.float32)
    wd2 = r.standard_normal((136, 1, 3, 3)).astype(np.float32) * 0.5
    wp2 = uneven_sparse_weight(40, 136, 1, 4, seed=32) * 0.1
    s = SbnWriter()
    x = s.add_tensor("x", (1, 24, 8, 8))
    h1, h2, h3 = (s.add_tensor(n, shape) for n, shape in
                  (("expand", (1, 160, 8, 8)), ("dw", (1, 160, 8, 8)), ("project", (1, 24, 8, 8))))
    h4 = s.add_tensor("residual", (1, 24, 8, 8))
    h5, h6 = s.add_tensor("expand_sparse", (1, 136, 8, 8)), s.add_tensor("dw_s2", (1, 136, 4, 4))
    y = s.add_tensor("project_sparse", (1, 40, 4, 4))
    relu6 = ("CLIP", 0.0, 6.0)
    s.add_node("CONV", "expand", [x, s.add_constant("we", we), s.add_constant("be", be)], [h1], CONV1, act=relu6)
    s.add_node("CONV", "dw", [h1, s.add_constant("wd", wd), s.add_constant("bd", bd)], [h2], {**CONV3, "groups": 160},
               act=relu6)
    s.add_node("CONV", "project", [h2, s.add_constant("wp", wp), s.add_constant("bp", bp)], [h3], CONV1)
    s.add_node("ADD", "residual", [h3, x], [h4])
    nnz, idx, val = pack_group_sparse(we2, 4)
    s.add_node("CONV_SPARSE", "expand_sparse", [h4, s.add_constant("nnze", nnz), s.add_constant("idxe", idx),
                                                s.add_constant("vale", val), s.add_constant("be2", be2)], [h5],
               {**CONV1, "G": 4}, act=RELU)
    s.add_node("CONV", "dw_s2", [h5, s.add_constant("wd2", wd2)], [h6],
               {**CONV3, "stride_h": 2, "stride_w": 2, "groups": 136}, act=relu6)
    nnz, idx, val = pack_group_sparse(wp2, 4)
    s.add_node("CONV_SPARSE", "project_sparse", [h6, s.add_constant("nnzp", nnz), s.add_constant("idxp", idx),
                                                 s.add_constant("valp", val)], [y], {**CONV1, "G": 4})
    s.set_graph([x], [y])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        h = np.clip(conv_ref(ins[0], we, be), 0, 6)
        h = np.clip(conv_ref(h, wd, bd, pad=1, groups=160), 0, 6)
        h = conv_ref(h, wp, bp) + ins[0]
        h = np.maximum(conv_ref(h, we2, be2), 0)
        h = np.clip(conv_ref(h, wd2, np.zeros(136, np.float32), stride=2, pad=1, groups=136), 0, 6)
        return [conv_ref(h, wp2, np.zeros(40, np.float32))]

    return Case("inverted_residuals", s, [r.standard_normal((1, 24, 8, 8)).astype(np.float32)], ref)


def write_case(directory: Path, case: Case) -> tuple[Path, Path, Case]:
    model, x = directory / f"{case.name}.sbn", directory / f"{case.name}_x.npy"
    model.write_bytes(case.bytes())
    np.save(x, case.inputs[0])
    return model, x, case


def write_model(directory: Path) -> tuple[Path, Path, Case]:
    return write_case(directory, threads_model())


def write_fused_model(directory: Path) -> tuple[Path, Path, Case]:
    return write_case(directory, inverted_residuals_model())


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Case]:
    return write_model(tmp_path_factory.mktemp("threads"))


@pytest.fixture(scope="module")
def runners(engine_build: Path) -> dict[str, Path]:
    return {config: engine_build / config / "sparsebyte-run" for config in ("host", "asan")}


def run_threads(runner: Path, model: Path, x: Path, out: Path, threads: int, fuse: bool = True) -> np.ndarray:
    # --repeat 2: the second run reuses the pool the first one woke (workers spinning or asleep). The cost rule, so
    # that every run splits: the adaptive rule may run the last one inline, whose output would hide a wrong split.
    proc = run_binary(runner, model, "--input", x, "--output", out, "--threads", str(threads), "--repeat", "2",
                      env={"SPARSEBYTE_SPLIT": "cost", "SPARSEBYTE_FUSE": "1" if fuse else "0"})
    assert proc.returncode == 0, proc.stderr
    return np.load(out)


def every_count(runner: Path, model: tuple[Path, Path, Case], tmp_path: Path) -> dict[int, np.ndarray]:
    """Outputs for every thread count: 1 thread's against the numpy reference, the others to 1e-5 of 1 thread's."""
    path, x, case = model
    out = {1: run_threads(runner, path, x, tmp_path / "out1.npy", 1)}
    np.testing.assert_allclose(out[1], case.reference(case.inputs)[0], rtol=1e-3, atol=1e-3)
    for threads in THREAD_COUNTS[1:]:
        out[threads] = run_threads(runner, path, x, tmp_path / f"out{threads}.npy", threads)
        np.testing.assert_allclose(out[threads], out[1], rtol=1e-5, atol=1e-5, err_msg=f"{runner}, {threads} threads")
    return out


@pytest.mark.parametrize("config", ["host", "asan"])
def test_every_thread_count_equals_one_thread(runners: dict[str, Path], model: tuple[Path, Path, Case],
                                              config: str, tmp_path: Path) -> None:
    every_count(runners[config], model, tmp_path)


@pytest.fixture(scope="module")
def fused_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Case]:
    return write_fused_model(tmp_path_factory.mktemp("fused"))


@pytest.mark.parametrize("config", ["host", "asan"])
def test_fused_inverted_residuals_every_thread_count(runners: dict[str, Path], fused_model: tuple[Path, Path, Case],
                                                     config: str, tmp_path: Path) -> None:
    """engine/src/fuse.c: with 2..4 threads both blocks run fused, their projections summed in one part per thread,
    so results equal 1 thread's to rounding (1e-5), not bit for bit; 5..8 threads and SPARSEBYTE_FUSE=0 give 1
    thread's bits."""
    out = every_count(runners[config], fused_model, tmp_path)
    assert not np.array_equal(out[2], out[1])  # other bits: the chains did run fused (a sum in parts)
    for threads in range(5, 9):  # fused with 2-4 threads only (fuse.c's SB_FUSE_MAX_PARTS)
        np.testing.assert_array_equal(out[threads], out[1])
    path, x, _ = fused_model
    one = out[1]
    unfused = run_threads(runners[config], path, x, tmp_path / "unfused.npy", 2, fuse=False)
    np.testing.assert_array_equal(unfused, one)


def test_fused_runs_give_the_same_bits(fused_model: tuple[Path, Path, Case], monkeypatch: pytest.MonkeyPatch) -> None:
    """With a given thread count every run gives the same bits, whether the adaptive rule runs it split or inline
    (inline runs the fused chains' parts one after another), and after the thread count changes and changes back."""
    from sparsebyte import Model

    path, _, case = fused_model
    x = case.inputs[0]
    monkeypatch.delenv("SPARSEBYTE_SPLIT", raising=False)
    monkeypatch.delenv("SPARSEBYTE_FUSE", raising=False)
    shared = Model(path, threads=2)
    first = np.asarray(shared.run(x))
    for run in range(40):
        np.testing.assert_array_equal(np.asarray(shared.run(x)), first, err_msg=f"run {run}")
    shared.set_threads(3)
    np.testing.assert_allclose(np.asarray(shared.run(x)), first, rtol=1e-5, atol=1e-5)
    shared.set_threads(2)
    np.testing.assert_array_equal(np.asarray(shared.run(x)), first)
    shared.keep_intermediates = True  # every tensor kept: nothing fused, 1 thread's bits
    np.testing.assert_array_equal(np.asarray(shared.run(x)), np.asarray(Model(path, threads=1).run(x)))


def test_profile_reports_every_node_with_threads(runners: dict[str, Path], model: tuple[Path, Path, Case]) -> None:
    path, x, _ = model
    proc = run_binary(runners["host"], path, "--input", x, "--threads", "3", "--profile")
    assert proc.returncode == 0, proc.stderr
    assert "threads 3" in proc.stdout
    for node in ("sp1x1_big", "dw_s2b", "pw_small", "spconv", "conv3_small", "fc_sparse"):
        assert node in proc.stdout


def test_python_model_every_thread_count(model: tuple[Path, Path, Case]) -> None:
    """Model(path, threads=N) and set_threads on one model (the pool is replaced, then reused by many runs)."""
    from sparsebyte import Model

    path, _, case = model
    x = case.inputs[0]
    one = np.asarray(Model(path, threads=1).run(x))
    for threads in THREAD_COUNTS[1:]:
        got = np.asarray(Model(path, threads=threads).run(x))
        np.testing.assert_allclose(got, one, rtol=1e-5, atol=1e-5, err_msg=f"Model(threads={threads})")
    shared = Model(path)
    for threads in (*THREAD_COUNTS, 3, 1, 8):
        shared.set_threads(threads)
        for _ in range(3):
            np.testing.assert_allclose(np.asarray(shared.run(x)), one, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rule", ["adaptive", "cost"])
def test_split_rule_every_run_equals_one_thread(model: tuple[Path, Path, Case], rule: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """SPARSEBYTE_SPLIT (executor.c): the adaptive rule runs its first runs in pairs split / inline (every node on
    the 1-thread code), then the cheaper mode with re-probes of the other; every run of it, like every run of the
    fixed cost rule, gives 1 thread's bits (40 runs cover the warm-up of both modes and the first probe)."""
    from sparsebyte import Model

    path, _, case = model
    x = case.inputs[0]
    one = np.asarray(Model(path, threads=1).run(x))
    monkeypatch.setenv("SPARSEBYTE_SPLIT", rule)
    for threads in (2, 3):
        shared = Model(path, threads=threads)
        for run in range(40):
            np.testing.assert_array_equal(np.asarray(shared.run(x)), one, err_msg=f"{rule}, {threads}t, run {run}")


def test_adaptive_split_times_a_mode_only_after_a_run_of_it(model: tuple[Path, Path, Case],
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capfd: pytest.CaptureFixture[str]) -> None:
    """The adaptive split's warm-up (SPARSEBYTE_SPLIT_TRACE, one stderr line per run): an untimed first run, then
    pairs split split / inline inline / ... of which only the second run counts (a run inherits the caches of the run
    before it), 3 counted runs of each mode, then the choice; every later switch of mode (a probe and the way back)
    is not counted either."""
    import re

    from sparsebyte import Model

    path, _, case = model
    monkeypatch.delenv("SPARSEBYTE_SPLIT", raising=False)
    monkeypatch.setenv("SPARSEBYTE_SPLIT_TRACE", "1")
    shared = Model(path, threads=2)
    capfd.readouterr()
    for _ in range(40):
        shared.run(case.inputs[0])
    runs = re.findall(r"sb split: run (\d+) (split|inline) [\d.]+ ms( \(not counted\))?;.* best (\S+)",
                      capfd.readouterr().err)
    assert [int(r[0]) for r in runs] == list(range(40))
    modes = "".join("S" if r[1] == "split" else "I" for r in runs)
    assert modes[:12] == "SSIISSIISSII"
    for i, (_, _, not_counted, best) in enumerate(runs):
        assert bool(not_counted) == (i == 0 or modes[i] != modes[i - 1]), f"run {i}: {modes}"
        assert (best == "-") == (i < 11), f"run {i}: best {best}"
    blocks = re.findall(r"S+|I+", modes[12:])
    assert all(len(b) >= 2 for b in blocks[:-1]), modes  # a mode is always run again after its untimed first run
