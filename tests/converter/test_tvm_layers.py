"""converters/tvm/layers.py: the layers TVM kernels replace take their kind from the engine's kernel choice and their
shapes and weights from sparsebyte.sbnformat (no TVM needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsebyte import Model
from sparsebyte.converters.tvm.layers import CONV, DWCONV, GEMM, KINDS, SPMM, read_layers
from sparsebyte.sbnformat import read_model

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"


@pytest.mark.parametrize("name", ["mobilenetish_dense", "mobilenetish_sparse"])
def test_layer_kinds_are_the_engines_kernel_families(name: str) -> None:
    path = CORPUS / f"{name}.sbn"
    layers = read_layers(path)
    engine = {n.name: n for n in Model(path).nodes}
    assert layers
    for layer in layers:
        node = engine[layer.name]
        assert layer.kind == node.kernel_family and node.op in ("CONV", "CONV_SPARSE")
        assert layer.macs == node.macs  # the same work the engine counts
    covered = {n.name for n in engine.values() if n.op in ("CONV", "CONV_SPARSE") and n.kernel_family in KINDS}
    assert {layer.name for layer in layers} == covered  # batch 1, square kernels: every such conv is listed
    kinds = {layer.kind for layer in layers}
    assert kinds == ({CONV, DWCONV, GEMM} if name.endswith("dense") else {DWCONV, SPMM})


def test_layer_weights_and_attributes_come_from_the_file() -> None:
    path = CORPUS / "mobilenetish_sparse.sbn"
    model = read_model(path)
    nodes = {n.name: n for n in model.nodes}
    for layer in read_layers(path):
        node = nodes[layer.name]
        x, y = (model.tensors[node.inputs[0]].shape, model.tensors[node.outputs[0]].shape)
        assert (layer.in_c, layer.in_h, layer.in_w, layer.out_c, layer.out_h, layer.out_w) == (*x[1:], *y[1:])
        assert (layer.kh, layer.stride, layer.pad_top) == (node.attrs[0], node.attrs[2], node.attrs[4])
        weights = model.tensors[node.inputs[3 if layer.kind == SPMM else 1]].data
        np.testing.assert_array_equal(layer.weights, weights)
        if layer.kind == SPMM:
            assert layer.group == node.attrs[11] and layer.kept == int(layer.nnz.sum())
