"""TRANSPOSE in hand-built .sbn files: the engine runs any permutation, and its validator rejects a bad permutation
or output shape with an error naming the node and the tensor (the converter never writes these)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import sparsebyte
from sparsebyte.runtime import FormatError, UnsupportedError
from sparsebyte.sbnformat import SbnWriter


def _transpose_model(x_shape: tuple[int, ...], perm: list[int], y_shape: tuple[int, ...] | None = None,
                     act: tuple[str, float, float] = ("NONE", 0.0, 0.0)) -> bytes:
    w = SbnWriter()
    x = w.add_tensor("x", x_shape)
    y = w.add_tensor("y", y_shape if y_shape is not None else tuple(x_shape[p] for p in perm))
    w.add_node("TRANSPOSE", "tr", [x], [y], {"perm": perm}, act)
    w.set_graph([x], [y])
    return w.to_bytes()


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))), ids=str)
def test_every_rank4_permutation(perm: tuple[int, ...]) -> None:
    x = np.random.default_rng(sum(perm)).standard_normal((2, 3, 1, 5)).astype(np.float32)
    got = sparsebyte.Model(_transpose_model(x.shape, list(perm))).run(x)
    np.testing.assert_array_equal(got, np.transpose(x, perm))


@pytest.mark.parametrize("threads", [1, 2])
def test_rank6_with_fused_activation(threads: int) -> None:
    x = np.random.default_rng(6).standard_normal((3, 2, 4, 1, 5, 2)).astype(np.float32)
    perm = [4, 0, 5, 2, 1, 3]
    model = sparsebyte.Model(_transpose_model(x.shape, perm, act=("CLIP", 0.0, 0.5)), threads=threads)
    np.testing.assert_array_equal(model.run(x), np.clip(np.transpose(x, perm), 0.0, 0.5))


@pytest.mark.parametrize("perm, message", [
    ([0, 0, 1], "node 'tr' (TRANSPOSE): perm [0,0,1] repeats axis 0 (input 'x' of rank 3)"),
    ([2, 1, 2], "perm [2,1,2] repeats axis 2"),
    ([0, 3, 1], "node 'tr' (TRANSPOSE): perm [0,3,1]: perm[1] = 3 is out of range for input 'x' of rank 3"),
    ([-1, 0, 1], "perm [-1,0,1]: perm[0] = -1 is out of range for input 'x' of rank 3"),
    ([1, 0, 2, 0, 0, 5], "perm [1,0,2,0,0,5]: perm[5] = 5 lies past the rank 3 of input 'x' (must be 0)"),
])
def test_bad_permutation_is_rejected(perm: list[int], message: str) -> None:
    data = _transpose_model((2, 3, 4), perm, y_shape=(2, 3, 4))
    with pytest.raises(FormatError) as e:
        sparsebyte.Model(data)
    assert message in str(e.value)


def test_output_shape_mismatch_is_rejected() -> None:
    with pytest.raises(FormatError) as e:
        sparsebyte.Model(_transpose_model((2, 3, 4), [2, 0, 1], y_shape=(4, 3, 2)))
    assert "node 'tr' (TRANSPOSE): output 'y' has shape [4,3,2], the operator computes [4,2,3]" in str(e.value)


def test_constant_input_is_rejected() -> None:
    w = SbnWriter()
    k = w.add_constant("k", np.zeros((2, 3), np.float32))
    x = w.add_tensor("x", (1,))
    y = w.add_tensor("y", (3, 2))
    w.add_node("TRANSPOSE", "tr", [k], [y], {"perm": [1, 0]})
    w.set_graph([x], [y])
    with pytest.raises((FormatError, UnsupportedError)) as e:
        sparsebyte.Model(w.to_bytes())
    assert "node 'tr' (TRANSPOSE): input X 'k' is a constant" in str(e.value)


def test_writer_rejects_a_perm_longer_than_the_max_rank() -> None:
    with pytest.raises(ValueError, match="'perm' takes at most 6 values, got 7"):
        _transpose_model((1,) * 6, list(range(7)), y_shape=(1,) * 6)
