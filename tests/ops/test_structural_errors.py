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


def test_pad_negative_pads_crop(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [0, 0, -1, 0, 0, 0, 0, 0]), tmp_path, "node 'pd' (Pad)",
           "unsupported pads [0, 0, -1, 0, 0, 0, 0, 0] (negative pads crop")


def test_pad_dynamic_pads(tmp_path) -> None:
    m = model([node("Pad", ["x", "p"], ["y"], name="pd")], {"x": (1, 3), "p": (4,)}, ["y"], check=False)
    _fails(m, tmp_path, "node 'pd' (Pad)")


def test_pad_wrong_pads_length(tmp_path) -> None:
    _fails(_pad((1, 3, 4, 5), [1, 1, 1, 1], check=False), tmp_path, "node 'pd' (Pad)",
           "pads [1, 1, 1, 1] must have 8 entries")


def test_pad_nan_value(tmp_path) -> None:
    _fails(_pad((1, 3), [0, 1, 0, 1], extra={"cv": np.array(np.nan, np.float32)}), tmp_path, "node 'pd' (Pad)",
           "constant_value is NaN")
