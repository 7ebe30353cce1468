"""The engine side of the spec: the op names the engine reports and the generic check that every attrs[] slot an
operator does not use (per its spec layout) is 0."""

from __future__ import annotations

import numpy as np
import pytest

import sparsebyte
from sparsebyte.converters.opspec import BY_NAME, NUM_ATTRS, slot_names
from sparsebyte.runtime import FormatError
from sparsebyte.sbnformat import SbnWriter


def _model(op: str, attrs: list[int]) -> bytes:
    """A one-node model of op (SOFTMAX, FC, TRANSPOSE or FC_SPARSE's G-only layout) with raw attrs."""
    w = SbnWriter()
    x = w.add_tensor("x", (2, 3))
    if op == "FC":
        ins, y = [x, w.add_constant("W", np.ones((4, 3), np.float32))], w.add_tensor("y", (2, 4))
    elif op == "TRANSPOSE":
        ins, y = [x], w.add_tensor("y", (3, 2))
    else:
        ins, y = [x], w.add_tensor("y", (2, 3))
    w.add_node(op, "n0", ins, [y], attrs)
    w.set_graph([x], [y])
    return w.to_bytes()


@pytest.mark.parametrize("op, attrs", [("SOFTMAX", [1]), ("FC", []), ("TRANSPOSE", [1, 0])])
def test_valid_attrs_load(op: str, attrs: list[int]) -> None:
    model = sparsebyte.Model(_model(op, attrs))
    assert [n.op for n in model.nodes] == [op]


@pytest.mark.parametrize("op, attrs, slot", [
    ("SOFTMAX", [1, 5], 1),
    ("FC", [0] * 21 + [-1], 21),
    ("TRANSPOSE", [1, 0, 0, 0, 0, 0, 9], 6),
])
def test_nonzero_unused_slot_is_rejected(op: str, attrs: list[int], slot: int) -> None:
    with pytest.raises(FormatError) as e:
        sparsebyte.Model(_model(op, attrs))
    value = attrs[slot]
    assert f"node 'n0' ({op}): attrs[{slot}] = {value}, but {op} does not use that slot (must be 0)" in str(e.value)


def test_used_slots_follow_the_layouts() -> None:
    """FC_SPARSE's eleven reserved slots are unused; CONV uses twelve; every op fits the attrs array."""
    assert slot_names(BY_NAME["FC_SPARSE"].layout) == ("",) * 11 + ("G",)
    assert len(slot_names(BY_NAME["CONV"].layout)) == 12
    assert all(len(slot_names(op.layout)) <= NUM_ATTRS for op in BY_NAME.values())


def test_engine_op_names_are_the_spec_names_for_every_code() -> None:
    """A node of every op code: the name the C engine reports (SB_OP_DEF's #NAME, looked up by code) must be the
    spec's name for that code. Nodes are malformed on purpose past format.c, so only models that load are compared;
    the load error must still name the op."""
    from sparsebyte.converters.opspec import OPERATORS

    for spec in OPERATORS:
        w = SbnWriter()
        x = w.add_tensor("x", (1, 2, 3, 3))
        y = w.add_tensor("y", (1, 2, 3, 3))
        w.add_node(spec.name, "probe", [x] * spec.min_inputs, [y], [])
        w.set_graph([x], [y])
        try:
            names = [n.op for n in sparsebyte.Model(w.to_bytes()).nodes]
        except sparsebyte.SparsebyteError as e:
            assert f"node 'probe' ({spec.name})" in str(e), str(e)
        else:
            assert names == [spec.name]
