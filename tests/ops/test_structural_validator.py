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


def _resize_attrs(**kw):
    one = int(np.array([1.0], np.float32).view(np.int32)[0])
    return {"mode": 0, "coord": 0, "nearest_mode": 0, "scale_h_bits": one, "scale_w_bits": one, **kw}


@pytest.mark.parametrize("attrs, x_shape, y_shape, message", [
    (_resize_attrs(mode=2), (1, 2, 3, 3), (1, 2, 3, 3), "mode 2 is not 0 (nearest) or 1 (linear)"),
    (_resize_attrs(coord=5), (1, 2, 3, 3), (1, 2, 3, 3), "coord 5 is not a coordinate transform of mode 0"),
    (_resize_attrs(mode=1, coord=4), (1, 2, 3, 3), (1, 2, 3, 3), "coord 4 is not a coordinate transform of mode 1"),
    (_resize_attrs(mode=1, nearest_mode=2), (1, 2, 3, 3), (1, 2, 3, 3), "nearest_mode 2 is not valid for mode 1"),
    (_resize_attrs(scale_h_bits=0), (1, 2, 3, 3), (1, 2, 3, 3), "scales 0 x 1 must be finite and > 0"),
    (_resize_attrs(), (3,), (3,), "input 'x' has rank 1; RESIZE needs rank 2..6"),
    (_resize_attrs(inner_axes=3), (1, 2, 3, 3), (1, 2, 3, 3), "inner_axes 3 is outside 0..2 for input 'x' of rank 4"),
    (_resize_attrs(inner_axes=1), (1, 2, 3, 3), (1, 2, 6, 6), "output 'y' has shape [1,2,6,6], the operator computes"),
    (_resize_attrs(), (1, 2, 3, 3), (1, 4, 6, 6), "output 'y' has shape [1,4,6,6], the operator computes [1,2,6,6]"),
])
def test_resize_bad_attrs(attrs, x_shape, y_shape, message: str) -> None:
    _rejects(_one_node("RESIZE", x_shape, y_shape, attrs), "node 'nd' (RESIZE)", message)


@pytest.mark.parametrize("threads", [1, 2])
def test_resize_bilinear_large_in_parallel(threads: int) -> None:
    """Align-corners x2 upsampling of a ramp is exact: every output is the ramp at its source coordinate."""
    h, w = 33, 70
    x = np.add.outer(np.arange(h, dtype=np.float32) * 3, np.arange(w, dtype=np.float32))[None, None]
    two = int(np.array([2.0], np.float32).view(np.int32)[0])
    data = _one_node("RESIZE", x.shape, (1, 1, 2 * h, 2 * w), _resize_attrs(mode=1, coord=2, scale_h_bits=two,
                                                                            scale_w_bits=two))
    got = sparsebyte.Model(data, threads=threads).run(x)
    ys = np.arange(2 * h) * (h - 1) / (2 * h - 1)
    xs = np.arange(2 * w) * (w - 1) / (2 * w - 1)
    np.testing.assert_allclose(got[0, 0], np.add.outer(ys * 3, xs), rtol=1e-5, atol=1e-4)


def _convt_model(attrs, w_shape=(2, 3, 3, 3), y_shape=(1, 3, 5, 5)) -> bytes:
    w = SbnWriter()
    x = w.add_tensor("x", (1, 2, 3, 3))
    k = w.add_constant("k", np.ones(w_shape, np.float32))
    y = w.add_tensor("y", y_shape)
    base = {"kh": 3, "kw": 3, "stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1, "groups": 1}
    w.add_node("CONV_TRANSPOSE", "nd", [x, k], [y], {**base, **attrs})
    w.set_graph([x], [y])
    return w.to_bytes()


@pytest.mark.parametrize("attrs, w_shape, y_shape, message", [
    ({"stride_h": 0}, (2, 3, 3, 3), (1, 3, 5, 5), "strides 0x1"),
    ({"output_pad_h": 1}, (2, 3, 3, 3), (1, 3, 6, 5), "output padding 1x0 must be >= 0 and smaller than the strides"),
    ({"groups": 4}, (2, 3, 3, 3), (1, 3, 5, 5), "input 'x' has 2 channels, not a multiple of groups 4"),
    ({}, (3, 3, 3, 3), (1, 3, 5, 5), "weight 'k' must be [Cin=2, Cout/groups, 3, 3]"),
    ({"kh": 2}, (2, 3, 3, 3), (1, 3, 4, 5), "input W 'k' has shape [2,3,3,3], expected [2,3,2,3]"),
    ({"pad_top": 5}, (2, 3, 3, 3), (1, 3, 5, 5), "pads [5,0,0,0] leave no output of input 'x'"),
    ({}, (2, 3, 3, 3), (1, 3, 5, 6), "output 'y' has shape [1,3,5,6], the operator computes [1,3,5,5]"),
])
def test_conv_transpose_bad_attrs(attrs, w_shape, y_shape, message: str) -> None:
    _rejects(_convt_model(attrs, w_shape, y_shape), "node 'nd' (CONV_TRANSPOSE)", message)


@pytest.mark.parametrize("attrs, y_shape, message", [
    ({"start": [0, 0], "step": [1, 0]}, (2, 3), "axis 1: start 0, step 0 and output size 3"),
    ({"start": [0, 1], "step": [1, 1]}, (2, 3), "axis 1: start 1, step 1 and output size 3 (output 'y') leave input "
                                                "'x' of size 3"),
    ({"start": [0, 0], "step": [1, -1]}, (2, 2), "axis 1: start 0, step -1 and output size 2"),
    ({"start": [0, 0, 1], "step": [1, 1]}, (2, 3), "start/step of axis 2 (1, 0) lie past the rank 2 of input 'x'"),
])
def test_slice_bad_attrs(attrs, y_shape, message: str) -> None:
    _rejects(_one_node("SLICE", (2, 3), y_shape, attrs), "node 'nd' (SLICE)", message)


@pytest.mark.parametrize("threads", [1, 2])
def test_slice_reversed_strided_rows_in_parallel(threads: int) -> None:
    x = np.random.default_rng(9).standard_normal((4, 50, 300)).astype(np.float32)
    want = x[3:0:-2, 1::3, ::-1]
    data = _one_node("SLICE", x.shape, want.shape, {"start": [3, 1, 299], "step": [-2, 3, -1]})
    np.testing.assert_array_equal(sparsebyte.Model(data, threads=threads).run(x), want)


def _gather_model(indices: np.ndarray, axis: int, y_shape: tuple[int, ...]) -> bytes:
    w = SbnWriter()
    x = w.add_tensor("x", (2, 3))
    i = w.add_constant("i", indices)
    y = w.add_tensor("y", y_shape)
    w.add_node("GATHER", "nd", [x, i], [y], {"axis": axis})
    w.set_graph([x], [y])
    return w.to_bytes()


@pytest.mark.parametrize("indices, axis, y_shape, message", [
    (np.array([0, 3], np.int32), 1, (2, 2), "indices 'i'[1] = 3 is out of range for axis 1 of input 'x' (size 3)"),
    (np.array([-1], np.int32), 1, (2, 1), "indices 'i'[0] = -1 is out of range"),
    (np.array([0], np.int32), 2, (2, 1), "axis 2 out of range for input 'x' of rank 2"),
    (np.array([0.0], np.float32), 1, (2, 1), "indices 'i' must be an i32 constant"),
    (np.array([0, 1], np.int32), 0, (3, 3), "output 'y' has shape [3,3], the operator computes [2,3]"),
])
def test_gather_bad_inputs(indices: np.ndarray, axis: int, y_shape, message: str) -> None:
    _rejects(_gather_model(indices, axis, y_shape), "node 'nd' (GATHER)", message)


@pytest.mark.parametrize("x_shape, y_shape", [((2, 3), (2, 4)), ((2, 3), (3,)), ((1, 3, 2), (3, 3, 3))])
def test_expand_that_does_not_broadcast_is_rejected(x_shape, y_shape) -> None:
    _rejects(_one_node("EXPAND", x_shape, y_shape, None), "node 'nd' (EXPAND)", "does not broadcast to output 'y'")


@pytest.mark.parametrize("threads", [1, 2])
def test_expand_large_in_parallel(threads: int) -> None:
    x = np.random.default_rng(4).standard_normal((3, 1, 500)).astype(np.float32)
    got = sparsebyte.Model(_one_node("EXPAND", x.shape, (2, 3, 40, 500), None), threads=threads).run(x)
    np.testing.assert_array_equal(got, np.broadcast_to(x, (2, 3, 40, 500)))
