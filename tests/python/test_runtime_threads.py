"""One Model shared by threads, close() racing a run, use after close, and the argument checks of run/threads
(issue 17, items 1, 2 and 8). The thread tests run in a subprocess with a timeout: on a broken engine they deadlock
in the thread pool or crash, and must fail instead of hanging or killing pytest."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from sparsebyte import ArgumentError, Model, ModelClosedError, SparsebyteError
from sparsebyte.sbnformat import SbnWriter


def run_script(code: str, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung for {timeout} s (deadlock?): {e.stdout!r} {e.stderr!r}")


SHARED_RUNS = """
    import sys, threading
    import numpy as np
    from sparsebyte import Model
    path, threads = sys.argv[1], int(sys.argv[2])
    m = Model(path, threads=threads)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(m.inputs[0].shape, dtype=np.float32) for _ in range(4)]
    want = [m.run(x) for x in xs]
    wrong = [0] * 4
    def work(k):
        for _ in range(100):
            wrong[k] += not np.array_equal(m.run(xs[k]), want[k])
    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in workers: t.start()
    for t in workers: t.join()
    print("wrong", sum(wrong), "of 400")
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_one_model_shared_by_four_threads_gives_every_thread_its_own_result(tiny_files: dict[str, Path],
                                                                           threads: int) -> None:
    proc = run_script(SHARED_RUNS, tiny_files["tiny_sparse.sbn"], str(threads))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "wrong 0 of 400" in proc.stdout, proc.stdout


CLOSE_DURING_RUN = """
    import sys, threading
    import numpy as np
    from sparsebyte import Model, ModelClosedError
    m = Model(sys.argv[1], threads=2)
    x = np.random.default_rng(1).standard_normal(m.inputs[0].shape, dtype=np.float32)
    want = m.run(x)
    results, errors, started = [], [], threading.Event()
    def work():
        try:
            while True:
                results.append(np.array_equal(m.run(x), want))
                started.set()
        except ModelClosedError as e:
            errors.append(str(e))
    workers = [threading.Thread(target=work) for _ in range(3)]
    for t in workers: t.start()
    started.wait(30)
    m.close()
    for t in workers: t.join(30)
    print("runs", len(results), "correct", sum(results), "closed errors", len(errors))
    print(errors[0])
"""


def test_close_while_other_threads_run_waits_and_they_get_model_closed_error(tiny_files: dict[str, Path]) -> None:
    proc = run_script(CLOSE_DURING_RUN, tiny_files["tiny_sparse.sbn"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, message = proc.stdout.splitlines()[:2]
    runs = int(first.split()[1])
    assert runs > 0 and first == f"runs {runs} correct {runs} closed errors 3", proc.stdout
    assert "closed" in message and "tiny_sparse.sbn" in message


def test_every_use_after_close_raises_model_closed_error(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny.sbn"])
    m.run(tiny_input)
    m.close()
    m.close()  # twice is fine
    assert m.closed and "closed" in repr(m)
    uses = [lambda: m.run(tiny_input), lambda: m.run(), m.profile, lambda: m.nodes, lambda: m.metadata,
            lambda: m.num_nodes, lambda: m.arena_bytes, lambda: m.weight_bytes, lambda: m.format_version,
            m.tensor_names, lambda: m.tensor("input"), lambda: m.set_threads(2)]
    for use in uses:
        with pytest.raises(ModelClosedError, match="the model is closed"):
            use()
    with pytest.raises(ModelClosedError):
        m.keep_intermediates = True
    with pytest.raises(ModelClosedError):
        m.profiling = True
    assert issubclass(ModelClosedError, SparsebyteError)
    with Model(tiny_files["tiny.sbn"]) as scoped:
        scoped.run(tiny_input)
    with pytest.raises(ModelClosedError):
        scoped.run(tiny_input)


def test_separate_models_run_in_parallel_threads(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    """The GIL is released in engine calls and each model has its own lock: separate models in threads agree."""
    want = Model(tiny_files["tiny_sparse.sbn"]).run(tiny_input)
    models = [Model(tiny_files["tiny_sparse.sbn"], threads=2) for _ in range(3)]
    same: list[bool] = []

    def work(m: Model) -> None:
        same.extend(np.array_equal(m.run(tiny_input), want) for _ in range(50))

    workers = [threading.Thread(target=work, args=(m,)) for m in models]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    assert len(same) == 150 and all(same)


def two_input_model() -> bytes:
    """y = a + b over [1, 2, 3, 3]."""
    w = SbnWriter()
    a, b, y = w.add_tensor("a", (1, 2, 3, 3)), w.add_tensor("b", (1, 2, 3, 3)), w.add_tensor("y", (1, 2, 3, 3))
    w.add_node("ADD", "add", [a, b], [y])
    w.set_graph([a, b], [y])
    return w.to_bytes()


def test_a_bad_input_leaves_every_input_as_it_was() -> None:
    m = Model(two_input_model())
    rng = np.random.default_rng(2)
    a1, b1, a2 = (rng.standard_normal((1, 2, 3, 3), dtype=np.float32) for _ in range(3))
    first = m.run({"a": a1, "b": b1})
    np.testing.assert_array_equal(first, a1 + b1)
    with pytest.raises(ArgumentError, match=r"input 'b': expected shape \(1, 2, 3, 3\), got \(1, 2, 3\)"):
        m.run({"a": a2, "b": b1[..., 0]})
    with pytest.raises(ArgumentError, match="input 'b': expected a float32 array"):
        m.run({"a": a2, "b": b1.astype(np.float64)})
    np.testing.assert_array_equal(m.run(), first)  # 'a' was not replaced by a2


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_])
def test_inputs_that_are_not_float32_are_refused_naming_the_expected_type(tiny_files: dict[str, Path],
                                                                        tiny_input: np.ndarray, dtype: type) -> None:
    """As onnxruntime does for a float input: no silent cast (float64 pixels or unscaled uint8 images)."""
    m = Model(tiny_files["tiny.sbn"])
    with pytest.raises(ArgumentError, match=rf"expected a float32 array \(tensor\(float\)\), got dtype "
                                            rf"{np.dtype(dtype).name}; convert it with \.astype\(np\.float32\)"):
        m.run(tiny_input.astype(dtype))
    with pytest.raises(ArgumentError, match="got dtype float64"):
        m.run(tiny_input.tolist())


@pytest.mark.parametrize("threads", [0, -1, 257, 2**31, 2**63, 2**70, True, 2.0, "2"])
def test_thread_counts_outside_1_to_256_are_argument_errors(tiny_files: dict[str, Path], threads: object) -> None:
    with pytest.raises(ArgumentError, match=r"threads must be an integer in 1\.\.256"):
        Model(tiny_files["tiny.sbn"], threads=threads)  # type: ignore[arg-type]
    m = Model(tiny_files["tiny.sbn"], threads=256)
    assert m.threads == 256
    with pytest.raises(ArgumentError, match=r"1\.\.256"):
        m.set_threads(threads)  # type: ignore[arg-type]
    assert m.threads == 256
