"""Every class of bad input gives a ConversionError naming the node, the op and the reason, and leaves no file."""

from __future__ import annotations

import os
import stat

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx_helpers import model, node, rand

from sparsebyte.converters import ConversionError, convert

RNG = np.random.default_rng(0)


def _conv_model(w: np.ndarray | None = None, **attrs) -> onnx.ModelProto:
    w = rand(RNG, 4, 3, 3, 3) if w is None else w
    return model([node("Conv", ["x", "W"], ["c"], name="stem_conv", **attrs), node("Relu", ["c"], ["y"])],
                 {"x": (1, 3, 8, 8)}, ["y"], {"W": w}, check=False)


def _fails(source, tmp_path, *fragments: str, **kwargs) -> ConversionError:
    out = tmp_path / "out.sbn"
    with pytest.raises(ConversionError) as info:
        convert(source, out, **kwargs)
    message = str(info.value)
    for f in fragments:
        assert f in message, f"{f!r} not in {message!r}"
    assert not out.exists()
    assert os.listdir(tmp_path) == [] or all(not p.endswith(".tmp") for p in os.listdir(tmp_path))
    return info.value


def test_unsupported_op(tmp_path) -> None:
    m = model([node("Hardmax", ["x"], ["y"], name="hm1")], {"x": (1, 3, 4, 4)}, ["y"])
    e = _fails(m, tmp_path, "'hm1'", "Hardmax", "unsupported op")
    assert e.node == "hm1" and e.op == "Hardmax"


def test_gelu_with_an_unknown_approximation(tmp_path) -> None:
    m = model([node("Gelu", ["x"], ["y"], name="g1", approximate="exact")], {"x": (1, 3, 4, 4)}, ["y"], opset=20,
              check=False)
    _fails(m, tmp_path, "'g1'", "Gelu", "unsupported attribute approximate='exact' (none or tanh)")


@pytest.mark.parametrize("op, inits, attrs, fragment", [
    ("LeakyRelu", {}, {"alpha": float("inf")}, "unsupported attribute alpha=inf"),
    ("Elu", {}, {"alpha": float("nan")}, "unsupported attribute alpha=nan"),
    ("PRelu", {"s": np.ones((4, 1, 1), np.float32)}, {}, "slope 's' shape [4, 1, 1] does not broadcast to input 'x'"),
    ("PRelu", {"s": np.ones((1, 3, 4, 4, 1), np.float32)}, {}, "slope 's' shape [1, 3, 4, 4, 1] does not broadcast"),
    ("Pow", {"s": np.array([[1.0, 2.0]], np.float32)}, {}, "do not broadcast"),
    ("ReduceMean", {}, {"axes": [1], "keepdims": 2}, "unsupported attribute keepdims=2"),
    ("ReduceMax", {}, {"axes": [1, -3]}, "axes [1, -3] repeat an axis"),
    ("ReduceMin", {}, {"axes": [4]}, "axes [4] out of range for input 'x' of rank 4"),
    ("LayerNormalization", {"s": np.ones(3, np.float32)}, {},
     "scale 's' shape [3] does not broadcast to the normalized dims [4]"),
    ("LayerNormalization", {"s": np.ones(4, np.float32)}, {"epsilon": -1.0}, "unsupported attribute epsilon=-1.0"),
    ("InstanceNormalization", {"s": np.ones(4, np.float32), "b": np.ones(3, np.float32)}, {},
     "scale 's' has shape [4], expected [3]"),
    ("MatMul", {"s": np.ones((2, 3, 5), np.float32)}, {}, "shapes [1, 3, 4, 4] and [2, 3, 5] do not match for MatMul"),
    ("ArgMax", {}, {"axis": 1, "keepdims": 3}, "unsupported attribute keepdims=3 / select_last_index=0 (0 or 1)"),
    ("LogSoftmax", {}, {"axis": 4}, "axis 4 out of range for rank 4"),
])
def test_math_op_errors_name_node_op_and_value(tmp_path, op: str, inits: dict, attrs: dict, fragment: str) -> None:
    ins = ["x", *inits]
    m = model([node(op, ins, ["y"], name="m1", **attrs)], {"x": (1, 3, 4, 4)}, ["y"], inits, check=False)
    _fails(m, tmp_path, "'m1'", op, fragment)


def test_unsupported_op_on_activation_that_only_folds_on_constants(tmp_path) -> None:
    m = model([node("Equal", ["x", "c"], ["e"], name="eq"), node("Where", ["e", "x", "c"], ["y"], name="wh")],
              {"x": (1, 3, 4, 4)}, ["y"], {"c": np.zeros((1,), np.float32)})
    _fails(m, tmp_path, "'eq'", "Equal", "unsupported op")


@pytest.mark.parametrize("perm", [[0, 0, 1, 2], [0, 1, 2], [0, 1, 2, 4]])
def test_transpose_with_a_bad_perm(tmp_path, perm: list[int]) -> None:
    m = model([node("Transpose", ["x"], ["y"], name="tr", perm=perm)], {"x": (1, 3, 4, 4)}, ["y"], check=False)
    _fails(m, tmp_path, "'tr'", "Transpose", f"perm {perm} is not a permutation of the 4 axes of 'x'")


def test_unsupported_op_in_custom_domain(tmp_path) -> None:
    n = helper.make_node("Foo", ["x"], ["y"], name="custom", domain="com.example")
    g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    _fails(m, tmp_path, "'custom'", "Foo", "unsupported op", "com.example")


@pytest.mark.parametrize("op,attrs,what", [
    ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2]}, "dilations"),
    ("MaxPool", {"kernel_shape": [2, 2], "storage_order": 1}, "storage_order"),
    ("AveragePool", {"kernel_shape": [2, 2], "auto_pad": "BOGUS"}, "auto_pad"),
])
def test_unsupported_attribute(tmp_path, op: str, attrs: dict, what: str) -> None:
    m = model([node(op, ["x"], ["y"], name="pool7", **attrs)], {"x": (1, 3, 8, 8)}, ["y"], check=False)
    _fails(m, tmp_path, "'pool7'", op, "unsupported attribute", what)


def test_gemm_transA_unsupported(tmp_path) -> None:
    m = model([node("Gemm", ["x", "W"], ["y"], name="fc", transA=1)], {"x": (5, 1)}, ["y"], {"W": rand(RNG, 5, 3)})
    _fails(m, tmp_path, "'fc'", "Gemm", "transA")


def test_conv_3d_unsupported(tmp_path) -> None:
    m = model([node("Conv", ["x", "W"], ["y"], name="c3d")], {"x": (1, 2, 4, 4, 4)}, ["y"],
              {"W": rand(RNG, 3, 2, 1, 1, 1)})
    _fails(m, tmp_path, "'c3d'", "Conv", "2-D")


def test_dynamic_input_dim(tmp_path) -> None:
    m = model([node("Relu", ["x"], ["y"])], {"x": ("N", 3, "H", "W")}, ["y"])
    _fails(m, tmp_path, "'x'", "dynamic shape", "input_shapes")
    # resolved by the user: converts
    report = convert(m, tmp_path / "ok.sbn", input_shapes={"x": (2, 3, 5, 6)})
    assert report.inputs == {"x": [2, 3, 5, 6]}


def test_dynamic_batch_resolves_to_one(tmp_path) -> None:
    m = model([node("Relu", ["x"], ["y"])], {"x": ("batch", 3, 4, 4)}, ["y"])
    assert convert(m, tmp_path / "ok.sbn").inputs == {"x": [1, 3, 4, 4]}


def test_input_shapes_errors(tmp_path) -> None:
    m = model([node("Relu", ["x"], ["y"])], {"x": ("batch", 3, 4, 4)}, ["y"])
    _fails(m, tmp_path, "'nope'", "not graph inputs", input_shapes={"nope": (1, 3, 4, 4)})
    _fails(m, tmp_path, "'x'", "does not match", input_shapes={"x": (1, 5, 4, 4)})


def test_dynamic_reshape_target(tmp_path) -> None:
    # the target shape comes from a (float) activation cast to int: not constant
    n = [node("Cast", ["x"], ["xi"], name="to_int", to=TensorProto.INT64), node("Reshape", ["x", "xi"], ["y"])]
    m = model(n, {"x": (4,)}, ["y"], check=False)
    _fails(m, tmp_path, "'to_int'", "Cast", "INT64")


def test_reshape_non_constant_shape(tmp_path) -> None:
    g = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
                           helper.make_tensor_value_info("s", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    _fails(m, tmp_path, "'rs'", "Reshape", "dynamic shape")


def test_non_constant_weight(tmp_path) -> None:
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_w_input")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4]),
                           helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 3, 1, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    _fails(m, tmp_path, "'conv_w_input'", "Conv", "non-constant weight", "'w'")


def test_missing_initializer(tmp_path) -> None:
    m = model([node("Conv", ["x", "W_missing"], ["y"], name="c1")], {"x": (1, 3, 4, 4)}, ["y"], check=False)
    _fails(m, tmp_path, "'c1'", "Conv", "'W_missing'", "missing initializer")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_weights(tmp_path, bad: float) -> None:
    w = rand(RNG, 4, 3, 3, 3)
    w[1, 2, 0, 0] = bad
    _fails(_conv_model(w), tmp_path, "'stem_conv'", "Conv", "'W'", "NaN or Inf")


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_a_weight_or_bias_that_is_not_float32(tmp_path, op: str, dtype: type) -> None:
    """Found by fuzz_converter.py (seed 20187): a float64/int32 bias was written and the engine refused the file."""
    for inits, name in (({"W": rand(RNG, 4, 4, 1, 1), "B": np.ones(4, dtype)}, "'B'"),
                        ({"W": rand(RNG, 4, 4, 1, 1).astype(dtype), "B": np.ones(4, np.float32)}, "'W'")):
        m = model([node(op, ["x", "W", "B"], ["y"], name="c")], {"x": (1, 4, 3, 3)}, ["y"], inits)
        _fails(m, tmp_path, "'c'", op, name, f"dtype {np.dtype(dtype)}", "float32")


def test_nan_in_batchnorm(tmp_path) -> None:
    inits = {"s": np.ones(3, np.float32), "b": np.zeros(3, np.float32), "m": np.array([0, np.nan, 0], np.float32),
             "v": np.ones(3, np.float32)}
    m = model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn0")], {"x": (1, 3, 2, 2)}, ["y"],
              inits)
    _fails(m, tmp_path, "'bn0'", "BatchNormalization", "NaN or Inf")


def test_bad_onnx_file(tmp_path) -> None:
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\x08\x07this is not a protobuf\xff\xff\xff")
    out = tmp_path / "out.sbn"
    with pytest.raises(ConversionError, match="bad ONNX file.*garbage.onnx"):
        convert(bad, out)
    assert not out.exists()


def test_truncated_onnx_file(tmp_path) -> None:
    data = _conv_model().SerializeToString()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConversionError, match="bad ONNX file.*cut.onnx"):
        convert(bad, tmp_path / "out.sbn")


def test_missing_onnx_file(tmp_path) -> None:
    with pytest.raises(ConversionError, match="bad ONNX file.*nothere.onnx.*no such file"):
        convert(tmp_path / "nothere.onnx", tmp_path / "out.sbn")


@pytest.mark.parametrize("opset", [5, 6, 22])
def test_unsupported_opset(tmp_path, opset: int) -> None:
    m = model([node("Relu", ["x"], ["y"])], {"x": (1, 3)}, ["y"], opset=opset, check=False)
    _fails(m, tmp_path, f"unsupported opset {opset}", "7..21")


@pytest.mark.parametrize("opset", [7, 12, 13, 18, 21])
def test_supported_opset_edges(tmp_path, opset: int) -> None:
    m = model([node("Relu", ["x"], ["y"])], {"x": (1, 3)}, ["y"], opset=opset)
    convert(m, tmp_path / "ok.sbn")


def test_non_float_input(tmp_path) -> None:
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.INT32, [1, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.INT32, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    _fails(m, tmp_path, "'x'", "INT32", "FLOAT")


def test_shape_mismatch_names_node(tmp_path) -> None:
    m = model([node("Conv", ["x", "W"], ["y"], name="mismatch")], {"x": (1, 3, 4, 4)}, ["y"],
              {"W": rand(RNG, 2, 5, 1, 1)}, check=False)
    _fails(m, tmp_path, "'mismatch'", "Conv", "[2, 5, 1, 1]")


def test_unused_extra_output_ok_but_used_one_fails(tmp_path) -> None:
    nodes = [node("MaxPool", ["x"], ["y", "idx"], name="mp", kernel_shape=[2, 2]), node("Cast", ["idx"], ["z"],
                                                                                        to=TensorProto.FLOAT)]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y", "z"], check=False)
    _fails(m, tmp_path, "'mp'", "MaxPool", "'idx'")


def test_torch_module_needs_example_input(tmp_path) -> None:
    import torch
    _fails(torch.nn.Conv2d(3, 4, 1), tmp_path, "example_input")


def test_unknown_source_type(tmp_path) -> None:
    _fails(12345, tmp_path, "cannot convert a int")


def test_bad_options(tmp_path) -> None:
    _fails(_conv_model(), tmp_path, "group", group=3)
    _fails(_conv_model(), tmp_path, "sparse_threshold", sparse_threshold=1.5)


def test_failed_conversion_keeps_an_existing_output(tmp_path) -> None:
    out = tmp_path / "out.sbn"
    out.write_bytes(b"previous")
    w = rand(RNG, 4, 3, 3, 3)
    w[0, 0, 0, 0] = np.nan
    with pytest.raises(ConversionError):
        convert(_conv_model(w), out)
    assert out.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["out.sbn"]


def test_missing_output_directory(tmp_path) -> None:
    out = tmp_path / "no" / "such" / "dir" / "m.sbn"
    with pytest.raises(ConversionError, match="cannot write.*m.sbn"):
        convert(_conv_model(), out)
    assert not (tmp_path / "no").exists()


def test_read_only_output_directory(tmp_path) -> None:
    # /sys refuses new files even to root; a chmod 0555 directory refuses them to other users.
    with pytest.raises(ConversionError, match="cannot write"):
        convert(_conv_model(), "/sys/sparsebyte-test.sbn")
    assert not os.path.exists("/sys/sparsebyte-test.sbn")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.geteuid() != 0:
            with pytest.raises(ConversionError, match="cannot write"):
                convert(_conv_model(), ro / "m.sbn")
            assert os.listdir(ro) == []
    finally:
        ro.chmod(stat.S_IRWXU)


def test_output_path_is_a_directory(tmp_path) -> None:
    (tmp_path / "d.sbn").mkdir()
    with pytest.raises(ConversionError, match="cannot write"):
        convert(_conv_model(), tmp_path / "d.sbn")
    assert os.listdir(tmp_path / "d.sbn") == [] and sorted(os.listdir(tmp_path)) == ["d.sbn"]


def test_graph_output_that_is_an_input(tmp_path) -> None:
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3]),
                           helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    _fails(m, tmp_path, "graph output 'x' is a graph input")
