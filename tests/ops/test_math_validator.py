"""The math ops (codes 40..) in hand-built .sbn files: the engine's validator rejects what the converter never writes
with an error naming the node, the operator and the value."""

from __future__ import annotations

import numpy as np
import pytest

import sparsebyte
from sparsebyte.runtime import FormatError
from sparsebyte.sbnformat import SbnWriter


def _bits(value: float) -> int:
    return int(np.array([value], np.float32).view(np.int32)[0])


def _one_node(op: str, x_shape: tuple[int, ...], y_shape: tuple[int, ...], attrs: dict,
              consts: dict[str, np.ndarray] | None = None, second: tuple[int, ...] | None = None) -> bytes:
    w = SbnWriter()
    x = w.add_tensor("x", x_shape)
    ins = [x]
    graph_in = [x]
    if second is not None:
        ins.append(w.add_tensor("x2", second))
        graph_in.append(ins[-1])
    ins += [w.add_constant(k, v) for k, v in (consts or {}).items()]
    y = w.add_tensor("y", y_shape)
    w.add_node(op, "n1", ins, [y], attrs)
    w.set_graph(graph_in, [y])
    return w.to_bytes()


@pytest.mark.parametrize("op, x, y, attrs, consts, second, message", [
    ("SUB", (2, 3), (2, 3), {}, None, (2, 4),
     "node 'n1' (SUB): inputs 'x' [2,3] and 'x2' [2,4] do not broadcast (dim 1)"),
    ("PRELU", (2, 3), (2, 3), {}, None, (4, 2, 3), "node 'n1' (PRELU): slope 'x2' [4,2,3] does not broadcast to "
     "input X 'x' [2,3]"),
    ("POW", (2, 3), (2, 2), {}, None, (1, 3), "node 'n1' (POW): output 'y'"),
    ("REDUCE_MEAN", (2, 3, 4), (2, 3, 4), {"axes_mask": 0, "keepdims": 1}, None, None,
     "node 'n1' (REDUCE_MEAN): axes_mask 0x0 names no axis or an axis past the rank 3 of input 'x'"),
    ("REDUCE_SUM", (2, 3, 4), (2, 3, 4), {"axes_mask": 8, "keepdims": 1}, None, None,
     "node 'n1' (REDUCE_SUM): axes_mask 0x8 names no axis"),
    ("REDUCE_MAX", (2, 3, 4), (2, 3, 1), {"axes_mask": 4, "keepdims": 2}, None, None,
     "node 'n1' (REDUCE_MAX): keepdims = 2 (must be 0 or 1)"),
    ("REDUCE_MIN", (2, 3, 4), (2, 3, 1), {"axes_mask": 4, "keepdims": 0}, None, None,
     "node 'n1' (REDUCE_MIN): output 'y' has shape [2,3,1], the operator computes [2,3]"),
    ("LAYER_NORM", (2, 5), (2, 5), {"axis": 1, "epsilon_bits": 0}, {"s": np.ones(5, np.float32)}, None,
     "node 'n1' (LAYER_NORM): epsilon 0 (bits 0x00000000) must be finite and > 0"),
    ("LAYER_NORM", (2, 5), (2, 5), {"axis": 2, "epsilon_bits": _bits(1e-5)}, {"s": np.ones(5, np.float32)}, None,
     "node 'n1' (LAYER_NORM): axis 2 out of range for input 'x' of rank 2"),
    ("MATMUL", (2, 3), (2, 5), {}, None, (4, 5),
     "node 'n1' (MATMUL): inputs 'x' [2,3] and 'x2' [4,5]: inner dims 3 and 4 differ"),
    ("MATMUL", (3,), (5,), {}, None, (3, 5), "node 'n1' (MATMUL): inputs 'x' [3] and 'x2' [3,5]: MATMUL needs rank 2"),
    ("MATMUL", (2, 4, 3), (2, 4, 5), {}, None, (3, 3, 5),
     "node 'n1' (MATMUL): batch dims of 'x' [2,4,3] and 'x2' [3,3,5] do not broadcast"),
    ("ARGMAX", (2, 3), (2, 1), {"axis": 2, "keepdims": 1}, None, None,
     "node 'n1' (ARGMAX): axis 2 out of range for input 'x' of rank 2"),
    ("ARGMAX", (2, 3), (2, 1), {"axis": 1, "keepdims": 1, "select_last_index": 2}, None, None,
     "node 'n1' (ARGMAX): keepdims = 1, select_last_index = 2 (each must be 0 or 1)"),
    ("ARGMAX", (2, 3), (2, 1), {"axis": 1, "keepdims": 0}, None, None,
     "node 'n1' (ARGMAX): output 'y' has shape [2,1], the operator computes [2]"),
    ("LOG_SOFTMAX", (2, 3), (2, 3), {"axis": 5}, None, None, "node 'n1' (LOG_SOFTMAX): axis 5 out of range for rank 2"),
    ("INSTANCE_NORM", (2, 5), (2, 5), {"axis": 0, "epsilon_bits": _bits(1e-5)},
     {"s": np.ones(5, np.float32), "b": np.ones(5, np.float32)}, None,
     "node 'n1' (INSTANCE_NORM): input 'x' has rank 2; INSTANCE_NORM needs [N,C,...]"),
])
def test_bad_math_node_is_rejected(op: str, x: tuple[int, ...], y: tuple[int, ...], attrs: dict,
                                   consts: dict | None, second: tuple[int, ...] | None, message: str) -> None:
    with pytest.raises(FormatError) as e:
        sparsebyte.Model(_one_node(op, x, y, attrs, consts, second))
    assert message in str(e.value)


def test_layer_norm_scale_of_the_wrong_shape_names_the_scale() -> None:
    with pytest.raises(FormatError) as e:
        sparsebyte.Model(_one_node("LAYER_NORM", (2, 5), (2, 5), {"axis": 1, "epsilon_bits": _bits(1e-5)},
                                   {"s": np.ones(4, np.float32)}))
    assert "'s'" in str(e.value) and "scale" in str(e.value)


@pytest.mark.parametrize("threads", [1, 2])
def test_reduce_every_axis_subset_of_a_rank4_input(threads: int) -> None:
    """All 15 axis sets, keepdims both ways, against numpy (the engine sums in double)."""
    x = np.random.default_rng(9).standard_normal((3, 1, 4, 5)).astype(np.float32)
    for mask in range(1, 16):
        axes = tuple(d for d in range(4) if mask >> d & 1)
        for keep in (0, 1):
            want = x.astype(np.float64).mean(axis=axes, keepdims=bool(keep))
            got = sparsebyte.Model(_one_node("REDUCE_MEAN", x.shape, want.shape, {"axes_mask": mask, "keepdims": keep}),
                                   threads=threads).run(x)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"axes {axes} keepdims {keep}")
