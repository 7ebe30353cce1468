"""Structural operators the converter refuses (helper F's ops): each error names the node, the operator and the
value, and no file is written."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx_helpers import model, node

from sparsebyte.converters import ConversionError, convert


def _fails(m: onnx.ModelProto, tmp_path, *fragments: str) -> None:
    out = tmp_path / "out.sbn"
    with pytest.raises(ConversionError) as info:
        convert(m, out)
    for f in fragments:
        assert f in str(info.value), f"{f!r} not in {str(info.value)!r}"
    assert not out.exists()


def _pad(x_shape, pads, mode="constant", extra=None, opset=17, check=True):
    inits = {"pads": np.array(pads, np.int64), **(extra or {})}
    ins = ["x", "pads", *(["cv"] if "cv" in inits else [])]
    return model([node("Pad", ins, ["y"], name="pd", mode=mode)], {"x": x_shape}, ["y"], inits, opset=opset,
                 check=check)


def test_pad_reflect_wider_than_the_dim(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [0, 0, 4, 0, 0, 0, 0, 0], "reflect"), tmp_path, "node 'pd' (Pad)",
           "mode 'reflect' pads [4, 0] on axis 2", "smaller than the dim (4)")


def test_pad_wrap_mode(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [0, 0, 1, 0, 0, 0, 0, 0], "wrap", opset=19), tmp_path, "node 'pd' (Pad)",
           "unsupported attribute mode='wrap'")


def test_pad_negative_pads_crop_all(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [0, 0, -2, 0, 0, 0, -2, 0], check=False), tmp_path, "node 'pd' (Pad)",
           "pads [0, 0, -2, 0, 0, 0, -2, 0] crop all of axis 2 of input 'x' [1, 3, 4, 5]")


def test_pad_crop_and_reflect_on_one_axis(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [0, 0, -1, 0, 0, 0, 1, 0], "reflect"), tmp_path, "node 'pd' (Pad)",
           "both crop and pad axis 2 in mode 'reflect' (only in constant mode)")


def test_pad_dynamic_pads(tmp_path) -> None:
    m = model([node("Pad", ["x", "p"], ["y"], name="pd")], {"x": (1, 3), "p": (4,)}, ["y"], check=False)
    _fails(m, tmp_path, "node 'pd' (Pad)")


def test_pad_wrong_pads_length(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [1, 1, 1, 1], check=False), tmp_path, "node 'pd' (Pad)",
           "pads [1, 1, 1, 1] must have 8 entries")


def test_pad_nan_value(tmp_path) -> None:
    _fails(_pad((1, 3), [0, 1, 0, 1], extra={"cv": np.array(np.nan, np.float32)}), tmp_path, "node 'pd' (Pad)",
           "constant_value is NaN")


def _resize(x_shape, scales, check=True, opset=17, **attrs):
    return model([node("Resize", ["x", "", "scales"], ["y"], name="rs", **attrs)], {"x": x_shape}, ["y"],
                 {"scales": np.array(scales, np.float32)}, opset=opset, check=check)


@pytest.mark.parametrize("attrs, fragment", [
    ({"mode": "cubic"}, "unsupported attribute mode='cubic' (supported: nearest, linear; cubic is not supported)"),
    ({"coordinate_transformation_mode": "tf_crop_and_resize"},
     "unsupported attribute coordinate_transformation_mode='tf_crop_and_resize'"),
    ({"nearest_mode": "banker"}, "unsupported attribute nearest_mode='banker'"),
    ({"mode": "linear", "antialias": 1}, "unsupported attribute antialias=1"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_half_pixel_for_nn"},
     "'tf_half_pixel_for_nn' is for mode 'nearest' only"),
])
def test_resize_unsupported_attribute(tmp_path, attrs, fragment: str) -> None:
    _fails(_resize((1, 3, 4, 4), [1, 1, 2, 2], check=False, opset=18, **attrs), tmp_path, "node 'rs' (Resize)",
           fragment)


def test_resize_of_the_channel_axis(tmp_path) -> None:
    _fails(_resize((1, 3, 4, 4), [1, 2, 2, 2]), tmp_path, "node 'rs' (Resize)",
           "resizes axes [1, 2, 3] of input [1, 3, 4, 4] (scales [1.0, 2.0, 2.0, 2.0], sizes [1, 6, 8, 8]); at most "
           "two adjacent axes may be resized")


def test_resize_bad_scale(tmp_path) -> None:
    _fails(_resize((1, 3, 4, 4), [1, 1, 0, 2], check=False), tmp_path, "node 'rs' (Resize)",
           "scale 0.0 on axis 2 must be finite and > 0")


def test_resize_keep_aspect_ratio(tmp_path) -> None:
    m = model([node("Resize", ["x", "", "", "sizes"], ["y"], name="rs", keep_aspect_ratio_policy="not_larger")],
              {"x": (1, 3, 4, 4)}, ["y"], {"sizes": np.array([1, 3, 8, 6], np.int64)}, opset=18)
    _fails(m, tmp_path, "node 'rs' (Resize)", "keep_aspect_ratio_policy='not_larger' (only stretch)")


def test_resize_dynamic_scales(tmp_path) -> None:
    m = model([node("Resize", ["x", "", "s"], ["y"], name="rs")], {"x": (1, 3, 4, 4), "s": (4,)}, ["y"], check=False)
    _fails(m, tmp_path, "node 'rs' (Resize)", "scales 's' is not constant")


def _convt(x_shape, w_shape, check=True, **attrs):
    return model([node("ConvTranspose", ["x", "W"], ["y"], name="ct", **attrs)], {"x": x_shape}, ["y"],
                 {"W": np.ones(w_shape, np.float32)}, check=check)


@pytest.mark.parametrize("x_shape, w_shape, attrs, fragment", [
    ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "output_padding": [2, 0]},
     "output_padding [2, 0] must be >= 0 and smaller than the strides [2, 2]"),
    ((1, 2, 3, 3, 3), (2, 2, 3, 3, 3), {}, "only 2-D ConvTranspose on NCHW is supported"),
    ((1, 3, 3, 3), (2, 2, 3, 3), {}, "weight [2, 2, 3, 3] does not match input channels 3 with group=1"),
    ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "output_shape": [9, 9]},
     "output_shape [9, 9] needs negative padding -2 on axis 2"),
])
def test_conv_transpose_refused(tmp_path, x_shape, w_shape, attrs, fragment: str) -> None:
    _fails(_convt(x_shape, w_shape, check=False, **attrs), tmp_path, "node 'ct' (ConvTranspose)", fragment)


def test_conv_transpose_weight_must_be_constant(tmp_path) -> None:
    m = model([node("ConvTranspose", ["x", "w"], ["y"], name="ct")], {"x": (1, 2, 3, 3), "w": (2, 2, 3, 3)}, ["y"])
    _fails(m, tmp_path, "node 'ct' (ConvTranspose)", "non-constant weight 'w'")


@pytest.mark.parametrize("op, x_shape, attrs, fragment", [
    ("DepthToSpace", (1, 8, 2, 2), {"blocksize": 3}, "blocksize 3: 9 does not divide the 8 channels"),
    ("DepthToSpace", (1, 8, 2, 2), {"blocksize": 2, "mode": "XYZ"}, "unsupported attribute mode='XYZ' (DCR or CRD)"),
    ("SpaceToDepth", (1, 2, 5, 4), {"blocksize": 2}, "blocksize 2 does not divide the spatial dims 5x4"),
    ("SpaceToDepth", (2, 5, 4), {"blocksize": 2}, "input shape [2, 5, 4] is not 4-D NCHW"),
])
def test_space_depth_refused(tmp_path, op: str, x_shape, attrs, fragment: str) -> None:
    m = model([node(op, ["x"], ["y"], name="sd", **attrs)], {"x": x_shape}, ["y"], check=False)
    _fails(m, tmp_path, f"node 'sd' ({op})", fragment)


def _slice_model(x_shape, starts, ends, axes, steps, check=True):
    inits = {"starts": np.array(starts, np.int64), "ends": np.array(ends, np.int64), "axes": np.array(axes, np.int64),
             "steps": np.array(steps, np.int64)}
    return model([node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="sl")], {"x": x_shape}, ["y"],
                 inits, check=check)


@pytest.mark.parametrize("args, fragment", [
    (([2], [2], [1], [1]), "slice [2:2:1] of axis 1 (size 4) is empty; empty tensors are not supported"),
    (([0], [3], [1], [0]), "step 0 on axis 1"),
    (([0], [3], [5], [1]), "axis 5 out of range for rank 2"),
    (([0, 1], [3], [1], [1]), "differ in length"),
])
def test_slice_refused(tmp_path, args, fragment: str) -> None:
    _fails(_slice_model((3, 4), *args, check=False), tmp_path, "node 'sl' (Slice)", fragment)


def test_slice_dynamic_starts(tmp_path) -> None:
    m = model([node("Slice", ["x", "s", "e"], ["y"], name="sl")], {"x": (3, 4), "s": (1,), "e": (1,)}, ["y"],
              check=False)
    _fails(m, tmp_path, "node 'sl' (Slice)")


def test_split_sizes_that_do_not_add_up(tmp_path) -> None:
    m = model([node("Split", ["x", "split"], ["a", "b"], name="sp", axis=1), node("Add", ["a", "b"], ["y"])],
              {"x": (1, 5)}, ["y"], {"split": np.array([2, 2], np.int64)}, check=False)
    _fails(m, tmp_path, "node 'sp' (Split)", "split [2, 2] does not cut axis 1 of size 5 into 2 non-empty parts")


@pytest.mark.parametrize("indices, fragment", [
    (np.array([0, 3], np.int64), "index 3 out of range for axis 1 of input [1, 3, 2]"),
    (np.array([0.0], np.float32), "have dtype float32, expected integers"),
    (np.zeros((1, 1, 1, 1, 1), np.int64), "output rank 7 (input [1, 3, 2], indices [1, 1, 1, 1, 1]) is outside 1..6"),
])
def test_gather_refused(tmp_path, indices: np.ndarray, fragment: str) -> None:
    m = model([node("Gather", ["x", "i"], ["y"], name="ga", axis=1)], {"x": (1, 3, 2)}, ["y"], {"i": indices},
              check=False)
    _fails(m, tmp_path, "node 'ga' (Gather)", fragment)


def test_gather_dynamic_indices(tmp_path) -> None:
    m = model([node("Cast", ["j"], ["i"], to=7), node("Gather", ["x", "i"], ["y"], name="ga")],
              {"x": (4, 3), "j": (2,)}, ["y"], check=False)
    _fails(m, tmp_path, "node")


def test_expand_to_a_shape_that_does_not_broadcast(tmp_path) -> None:
    m = model([node("Expand", ["x", "s"], ["y"], name="ex")], {"x": (2, 3)}, ["y"], {"s": np.array([4, 3, 2])},
              check=False)
    _fails(m, tmp_path, "node 'ex' (Expand)", "shape [4, 3, 2] does not broadcast with input shape [2, 3]")


@pytest.mark.parametrize("x_shape, repeats, fragment", [
    ((2, 3), [2], "repeats [2] must be 2 integers >= 1"),
    ((2, 3), [0, 1], "repeats [0, 1] must be 2 integers >= 1"),
    ((2, 3, 4, 5), [2, 2, 2, 1], "need rank 7 > 6 inside (repeat at most 2 axes)"),
])
def test_tile_refused(tmp_path, x_shape, repeats, fragment: str) -> None:
    m = model([node("Tile", ["x", "r"], ["y"], name="ti")], {"x": x_shape}, ["y"], {"r": np.array(repeats)},
              check=False)
    _fails(m, tmp_path, "node 'ti' (Tile)", fragment)
