"""Helper F's structural ops in hand-built .sbn files: the validator rejects bad attributes with an error naming
the node and the tensor (the converter never writes these)."""

from __future__ import annotations

import numpy as np
import pytest

import sparsebyte
from sparsebyte.runtime import FormatError
from sparsebyte.sbnformat import SbnWriter


def _one_node(op: str, x_shape: tuple[int, ...], y_shape: tuple[int, ...], attrs) -> bytes:
    w = SbnWriter()
    x = w.add_tensor("x", x_shape)
    y = w.add_tensor("y", y_shape)
    w.add_node(op, "nd", [x], [y], attrs)
    w.set_graph([x], [y])
    return w.to_bytes()


def _rejects(data: bytes, *fragments: str) -> None:
    with pytest.raises(FormatError) as e:
        sparsebyte.Model(data)
    for f in fragments:
        assert f in str(e.value), f"{f!r} not in {str(e.value)!r}"


@pytest.mark.parametrize("attrs, y_shape, message", [
    ({"mode": 3}, (2, 3), "mode 3 is not 0 (constant), 1 (reflect) or 2 (edge)"),
    ({"mode": 1, "begin": [0, 3]}, (2, 6), "reflect pads (3, 0) on axis 1 of input 'x' must be smaller than its dim 3"),
    ({"begin": [0, -1]}, (2, 2), "pads on axis 1 of input 'x' are (-1, 0); they must be >= 0"),
    ({"begin": [0, 0, 1]}, (2, 3), "pads on axis 2 (1, 0) lie past the rank 2 of input 'x' (must be 0)"),
    ({"mode": 2, "value_bits": 7}, (2, 3), "value_bits is 7; only constant mode (0) has a value"),
    ({"begin": [1, 0], "end": [0, 2]}, (3, 3), "output 'y' has shape [3,3], the operator computes [3,5]"),
])
def test_pad_bad_attrs(attrs, y_shape, message: str) -> None:
    _rejects(_one_node("PAD", (2, 3), y_shape, attrs), "node 'nd' (PAD)", message)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("mode, np_mode", [(0, "constant"), (1, "reflect"), (2, "edge")])
def test_pad_large_rows_in_parallel(mode: int, np_mode: str, threads: int) -> None:
    x = np.random.default_rng(mode).standard_normal((3, 37, 29)).astype(np.float32)
    begin, end = [1, 5, 28], [2, 36, 3]
    data = _one_node("PAD", x.shape, tuple(d + b + e for d, b, e in zip(x.shape, begin, end, strict=True)),
                     {"mode": mode, "begin": begin, "end": end})
    got = sparsebyte.Model(data, threads=threads).run(x)
    np.testing.assert_array_equal(got, np.pad(x, list(zip(begin, end, strict=True)), mode=np_mode))
