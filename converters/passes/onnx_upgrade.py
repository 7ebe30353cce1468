"""ONNX opsets 7..12 -> 13 before import, through onnx's version_converter, with its known traps handled.

The importer reads opsets 13..21 natively. Older models are upgraded node by node by ``onnx.version_converter``;
what it gets wrong or cannot do is dealt with here:
- Softmax/LogSoftmax/Hardmax before 13 coerce the input to 2-D at ``axis``: the adapter wraps them in
  Flatten/Reshape (with a Shape of the input), which the importer folds once shapes are static. Correct as is.
- Upsample (7..9) and Resize-10 become Resize-13 with the new defaults (half_pixel, round_prefer_floor), but the old
  operators compute ``asymmetric`` coordinates, and nearest rounds down when upsampling (onnxruntime rounds up when
  downsampling): the mode attributes are set explicitly here, from the constant scales.
- BatchNormalization ``spatial=0`` (per-activation statistics) has no opset-9 equivalent: refused by node.
- Ops without an adapter (or not defined at the model's opset): refused naming the opset and the node.
"""

from __future__ import annotations

from typing import Any

import onnx
from onnx import helper, numpy_helper, version_converter

from ..ir import ConversionError

TARGET_OPSET = 13
OLDEST_OPSET = 7


def _node_label(index: int, node: onnx.NodeProto) -> str:
    return f"node {node.name or f'{node.op_type}_{index}'!r} ({node.op_type})"


def _fail(opset: int, index: int, node: onnx.NodeProto, why: str) -> ConversionError:
    return ConversionError(f"opset {opset}: {_node_label(index, node)}: {why}")


def _constants(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    out = {t.name: t for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant" and n.output and n.attribute and n.attribute[0].name == "value":
            out[n.output[0]] = n.attribute[0].t
    return out


def _locate_failure(model: onnx.ModelProto, opset: int, error: Exception) -> ConversionError:
    """version_converter's messages name no node: retry each distinct op alone to find the one it cannot upgrade."""
    tried: set[tuple[str, tuple[str, ...]]] = set()
    for index, node in enumerate(model.graph.node):
        key = (node.op_type, tuple(sorted(a.name for a in node.attribute)))
        if node.domain not in ("", "ai.onnx") or key in tried:
            continue
        tried.add(key)
        single = onnx.NodeProto()
        single.CopyFrom(node)
        inputs = [helper.make_tensor_value_info(i, onnx.TensorProto.FLOAT, None)
                  for i in dict.fromkeys(node.input) if i]
        outputs = [helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in node.output if o]
        graph = helper.make_graph([single], "one", inputs, outputs)
        try:
            version_converter.convert_version(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
                                              TARGET_OPSET)
        except Exception as e:  # the converter raises RuntimeError/ConvertError with C++ assertion text
            return _fail(opset, index, node, f"cannot be upgraded to opset {TARGET_OPSET} by onnx.version_converter "
                                             f"({str(e).splitlines()[0][:200]}); re-export with opset_version=17")
    return ConversionError(f"opset {opset}: onnx.version_converter cannot upgrade the model to opset {TARGET_OPSET} "
                           f"({str(error).splitlines()[0][:200]}); re-export with opset_version=17")


def _legacy_modes(model: onnx.ModelProto, consts: dict[str, onnx.TensorProto], opset: int, index: int,
                  node: onnx.NodeProto) -> tuple[str, str]:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if opset < 9:  # Upsample-7: scales attribute
        if "scales" not in attrs or not node.input:
            raise _fail(opset, index, node, "missing scales attribute")
        scales = [float(s) for s in attrs["scales"]]
    elif len(node.input) > 1 and node.input[1] in consts:
        try:
            scales = [float(s) for s in numpy_helper.to_array(consts[node.input[1]]).reshape(-1)]
        except Exception as e:  # a malformed tensor: onnx raises ValueError/TypeError
            raise _fail(opset, index, node, f"scales {node.input[1]!r} cannot be read ({e})") from None
    else:
        raise _fail(opset, index, node, "scales must be a constant input to upgrade this operator")
    changed = [s for s in scales if s != 1.0]
    mode = attrs.get("mode", b"nearest")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "nearest" or all(s > 1.0 for s in changed):
        nearest = "floor"
    elif all(s < 1.0 for s in changed):
        nearest = "ceil"
    else:
        raise _fail(opset, index, node, f"scales {scales} both up- and downsample; the legacy nearest rounding "
                                        "of such a resize is not supported")
    return "asymmetric", nearest


def _legacy_resize_modes(model: onnx.ModelProto, opset: int) -> dict[str, tuple[str, str]]:
    """Output name -> (coordinate_transformation_mode, nearest_mode) of each Upsample / Resize-10 node."""
    consts = _constants(model)
    modes: dict[str, tuple[str, str]] = {}
    for index, node in enumerate(model.graph.node):
        if node.op_type not in ("Upsample", "Resize") or node.op_type == "Resize" and opset >= 11:
            continue
        try:
            modes[node.output[0]] = _legacy_modes(model, consts, opset, index, node)
        except ConversionError:
            raise
        except Exception as e:  # malformed attributes (wrong types, undecodable strings)
            raise _fail(opset, index, node, f"malformed attributes ({type(e).__name__}: {e})") from None
    return modes


def _set_modes(node: onnx.NodeProto, ctm: str, nearest: str) -> None:
    kept = [a for a in node.attribute if a.name not in ("coordinate_transformation_mode", "nearest_mode")]
    del node.attribute[:]
    node.attribute.extend(kept)
    node.attribute.extend([helper.make_attribute("coordinate_transformation_mode", ctm),
                           helper.make_attribute("nearest_mode", nearest)])


def attribute_type_problem(node: onnx.NodeProto, opset: int) -> str | None:
    """Why an attribute does not have the type the operator's schema declares (strides=3 where [3, 3] belongs), or
    None; ops onnx does not know are left to the caller."""
    try:
        declared = onnx.defs.get_schema(node.op_type, opset, node.domain).attributes
    except onnx.defs.SchemaError:
        return None
    for a in node.attribute:
        want = declared.get(a.name)
        kind: Any = want.type if want is not None else None  # a pybind enum: its stub has no value/name
        if kind is not None and a.type != int(kind.value):
            return (f"attribute {a.name!r} is {onnx.AttributeProto.AttributeType.Name(a.type)}, the "
                    f"{node.op_type} schema declares {kind.name}")
    return None


def upgrade_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """`model` (default-domain opset `opset`, 7..21) with opsets 7..12 upgraded to 13 and every Upsample (deprecated
    since 10, still found in opset 10..12 exports) as an equivalent Resize; ConversionError naming the opset and the
    node where that cannot be done faithfully. Models of opset 13+ without Upsample come back unchanged."""
    resize_modes = _legacy_resize_modes(model, opset)
    if opset >= TARGET_OPSET and not resize_modes:
        return model
    for index, node in enumerate(model.graph.node):
        if node.domain not in ("", "ai.onnx"):
            continue
        try:
            onnx.defs.get_schema(node.op_type, opset, "")
        except onnx.defs.SchemaError:
            raise _fail(opset, index, node, "not an operator of this opset") from None
        problem = attribute_type_problem(node, opset)
        if problem:  # before the version converter: a mistyped attribute crashes it (SIGSEGV)
            raise _fail(opset, index, node, problem)
        if node.op_type == "BatchNormalization":
            spatial = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "spatial"), 1)
            if spatial != 1:
                raise _fail(opset, index, node, f"unsupported attribute spatial={spatial} (per-activation "
                                                "statistics have no opset-9+ equivalent; only spatial=1)")
    if opset < TARGET_OPSET:
        try:
            upgraded = version_converter.convert_version(model, TARGET_OPSET)
        except Exception as e:
            raise _locate_failure(model, opset, e) from e
    else:
        upgraded = onnx.ModelProto()
        upgraded.CopyFrom(model)
    for node in upgraded.graph.node:
        if node.output and node.output[0] in resize_modes:
            if node.op_type == "Upsample":  # opset 10+: Upsample(X, scales) is Resize(X, roi="", scales)
                node.op_type = "Resize"
                node.input[:] = [node.input[0], "", node.input[1]]
            if node.op_type == "Resize":
                _set_modes(node, *resize_modes[node.output[0]])
    return upgraded
