"""The operator spec (converters/opspec.py) against everything generated from it or checked against it.

The checker is tools/gen_opspec.py; these tests run it on the checkout (no drift) and on temporary copies with one
op code, one docs row or one activation code changed (each must be reported, naming the file)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_opspec", ROOT / "tools" / "gen_opspec.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
SPEC = gen.load_spec()


def _copy_tree(tmp: Path) -> Path:
    """The files the checker reads, copied so one of them can be broken."""
    root = tmp / "repo"
    for rel in ("converters/opspec.py", gen.DOCS, gen.KERNELS_H, gen.NUMPY_INTERP):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, root / rel)
    shutil.copytree(ROOT / "engine" / "src", root / "engine" / "src")
    return root


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found exactly once in {path}"
    path.write_text(text.replace(old, new))


def test_checkout_has_no_drift() -> None:
    assert [str(p) for p in gen.check(ROOT)] == []


def test_command_line_check_passes_on_checkout() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_opspec.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_changed_op_code_in_header_copy_fails(tmp_path: Path) -> None:
    header = tmp_path / "op_spec.h"
    shutil.copy(ROOT / gen.HEADER, header)
    _replace_once(header, "SB_OP_SOFTMAX = 12,", "SB_OP_SOFTMAX = 13,")
    problems = gen.check(ROOT, header=header)
    assert [p.path for p in problems] == [str(header)]
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_opspec.py"), "--header", str(header)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert str(header) in r.stderr and "--write" in r.stderr


def test_changed_accessor_slot_in_header_copy_fails(tmp_path: Path) -> None:
    header = tmp_path / "op_spec.h"
    shutil.copy(ROOT / gen.HEADER, header)
    _replace_once(header, "SB_ATTR_CONV_G = 11", "SB_ATTR_CONV_G = 10")
    assert [p.path for p in gen.check(ROOT, header=header)] == [str(header)]


def test_changed_docs_row_fails(tmp_path: Path) -> None:
    docs = tmp_path / "format.md"
    shutil.copy(ROOT / gen.DOCS, docs)
    _replace_once(docs, "| 10 | MAX_POOL |", "| 11 | MAX_POOL |")
    assert [p.path for p in gen.check(ROOT, docs=docs)] == [str(docs)]


def test_missing_docs_markers_fail(tmp_path: Path) -> None:
    docs = tmp_path / "format.md"
    shutil.copy(ROOT / gen.DOCS, docs)
    _replace_once(docs, "<!-- END GENERATED operators -->", "")
    problems = gen.check(ROOT, docs=docs)
    assert len(problems) == 1 and "markers" in problems[0].message


def test_changed_spec_makes_generated_files_drift(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    spec = root / "converters" / "opspec.py"
    _replace_once(spec, 'Op(6, "MUL", "Mul", 2, 2,', 'Op(6, "MUL", "Mul", 2, 3,')
    assert [p.path for p in gen.check(root)] == [gen.HEADER]  # arity is in the header only
    _replace_once(spec, '"SOFTMAX", "Softmax"', '"SOFT_MAX", "Softmax"')
    problems = gen.check(root)
    assert {gen.HEADER, gen.DOCS} <= {p.path for p in problems}
    assert any("SB_OP_DEF(SOFT_MAX" in p.message for p in problems)  # and there is no reference op of that name


def test_write_then_check_is_clean(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    _replace_once(root / "converters" / "opspec.py", 'Op(6, "MUL", "Mul", 2, 2,', 'Op(6, "MUL", "Mul", 2, 3,')
    assert gen.write(root) == [gen.HEADER]
    assert gen.check(root) == []
    assert "SB_OP_MUL_MAX_INPUTS = 3," in (root / gen.HEADER).read_text()


def test_changed_activation_code_in_kernels_header_fails(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    _replace_once(root / gen.KERNELS_H, "SB_ACT_SIGMOID = 4", "SB_ACT_SIGMOID = 5")
    problems = gen.check(root)
    assert [p.path for p in problems] == [gen.KERNELS_H]
    assert "SIGMOID" in problems[0].message


def test_changed_code_in_numpy_interpreter_fails(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    _replace_once(root / gen.NUMPY_INTERP, '12: "SOFTMAX"', '12: "SOFTMAXX"')
    problems = gen.check(root)
    assert [p.path for p in problems] == [gen.NUMPY_INTERP]


def test_raw_attr_index_in_op_file_fails(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    _replace_once(root / "engine/src/ops/softmax.c", "int32_t axis = sb_attr_axis(n);\n  if",
                  "int32_t axis = n->attrs[0];\n  if")
    problems = gen.check(root)
    assert len(problems) == 1 and problems[0].path.startswith("engine/src/ops/softmax.c:")


def test_writer_and_converter_tables_are_the_spec() -> None:
    from sparsebyte.converters import opspec
    from sparsebyte.converters.passes import to_sbn

    writer = sys.modules[to_sbn.SbnWriter.__module__]  # the .sbn writer, wherever it lives
    assert writer.OPS is opspec.OPS and writer.ACTIVATIONS is opspec.ACTIVATIONS
    assert writer.NUM_ATTRS == opspec.NUM_ATTRS
    assert to_sbn.SBN_OP_FOR_IR is opspec.SBN_OP_FOR_IR
    assert sorted(opspec.SBN_OP_FOR_IR.values()) == sorted(opspec.OPS)


def test_pack_attrs() -> None:
    from sparsebyte.converters.opspec import NUM_ATTRS, pack_attrs

    vec = pack_attrs("CONV", {"kh": 3, "kw": 3, "G": 4})
    assert len(vec) == NUM_ATTRS and vec[:2] == [3, 3] and vec[11] == 4 and sum(vec) == 10
    assert pack_attrs("FC_SPARSE", {"G": 2})[11] == 2
    assert pack_attrs("SOFTMAX", [1]) == [1] + [0] * (NUM_ATTRS - 1)
    with pytest.raises(ValueError, match="unknown attributes"):
        pack_attrs("FC_SPARSE", {"kh": 1}, "fc")
    with pytest.raises(ValueError, match="unknown op"):
        pack_attrs("NOPE", None, "x")
    with pytest.raises(ValueError, match="more than"):
        pack_attrs("CONV", [0] * (NUM_ATTRS + 1), "x")
    with pytest.raises(ValueError, match="takes one integer"):
        pack_attrs("CONCAT", {"axis": [1, 2]}, "x")
