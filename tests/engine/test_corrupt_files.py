"""Every class of corrupt or inconsistent .sbn gets a clear error (exit 1) from the ASan/UBSan runner, never a crash.
Checks behind the CRCs are reached by patching a field and recomputing the CRCs (SbnBytes.fix_crcs)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from engine_support import run_binary
from models import CONV1, CONV3, sparse_conv_model
from sbn_bytes import SbnBytes

from sparsebyte import sbnformat as fmt
from sparsebyte.sbnformat import NODE_ENTRY_SIZE, SbnWriter

# sparse_conv_model tensors: x=0 h=1 y=2 nnz1=3 idx1=4 val1=5 b1=6 nnz2=7 idx2=8 val2=9; nodes: sp1x1=0 sp3x3=1
BASE = sparse_conv_model(4).bytes()
NNZ1, IDX1 = 3, 4


def expect_error(runner: Path, tmp_path: Path, data: bytes, message: str, status: str = "SB_ERR_FORMAT") -> None:
    model = tmp_path / "bad.sbn"
    model.write_bytes(data)
    proc = run_binary(runner, model, "--warmup", "0")
    assert "AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert message in proc.stderr, proc.stderr
    assert status in proc.stderr, proc.stderr
    assert str(model) in proc.stderr  # the file is named


def patched(edit: Callable[[SbnBytes], object], fix: bool = True) -> bytes:
    b = SbnBytes(BASE)
    edit(b)
    return b.fix_crcs() if fix else bytes(b.data)


def test_base_model_loads(asan_runner: Path, tmp_path: Path) -> None:
    model = tmp_path / "ok.sbn"
    model.write_bytes(BASE)
    proc = run_binary(asan_runner, model)
    assert proc.returncode == 0, proc.stderr


def truncation_lengths() -> list[int]:
    n = len(BASE)
    return sorted({0, 1, 4, 8, 31, 59, 63, 64, 65, 95, 96, 128, 200, 300, n // 3, n // 2, n - 65, n - 64, n - 1})


@pytest.mark.parametrize("length", truncation_lengths())
def test_truncated(asan_runner: Path, tmp_path: Path, length: int) -> None:
    expect_error(asan_runner, tmp_path, BASE[:length], "truncated")


def test_trailing_bytes(asan_runner: Path, tmp_path: Path) -> None:
    expect_error(asan_runner, tmp_path, BASE + b"\0" * 64, "file size mismatch")


# (id, edit on the image, expected message, status); the CRCs are fixed after the edit unless the id says crc.
def u32(section: str, offset: int, value: int) -> Callable[[SbnBytes], object]:
    return lambda b: b.put_in(section, "I", offset, value)


def tensor_u32(index: int, field: int, value: int) -> Callable[[SbnBytes], object]:
    return lambda b: b.put("I", b.tensor_field(index, field), value)


def tensor_u64(index: int, field: int, value: int) -> Callable[[SbnBytes], object]:
    return lambda b: b.put("Q", b.tensor_field(index, field), value)


def node_u32(index: int, field: int, value: int) -> Callable[[SbnBytes], object]:
    return lambda b: b.put("I", b.node_field(index, field), value)


def swap_nodes(b: SbnBytes) -> None:
    a, c = b.node_field(0, 0), b.node_field(1, 0)
    first, second = bytes(b.data[a:a + NODE_ENTRY_SIZE]), bytes(b.data[c:c + NODE_ENTRY_SIZE])
    b.data[a:a + NODE_ENTRY_SIZE], b.data[c:c + NODE_ENTRY_SIZE] = second, first


def sparse_index(position: int, value: int) -> Callable[[SbnBytes], object]:
    return lambda b: b.put("i", b.constant_offset(IDX1) + 4 * position, value)


def first_group_with(b: SbnBytes, predicate: Callable[[int], bool]) -> tuple[int, int]:
    """(group, first index position) of the first group of sp1x1 whose nnz satisfies predicate."""
    nnz = np.frombuffer(bytes(b.data[b.constant_offset(NNZ1):b.constant_offset(NNZ1) + 12]), "<i4")
    start = 0
    for g, k in enumerate(nnz):
        if predicate(int(k)):
            return g, start
        start += int(k)
    raise AssertionError("no such group")


def unsorted_index(b: SbnBytes) -> None:
    _, start = first_group_with(b, lambda k: k >= 2)
    first = b.get("i", b.constant_offset(IDX1) + 4 * start)[0]
    b.put("i", b.constant_offset(IDX1) + 4 * (start + 1), first)


def nnz_sum_mismatch(b: SbnBytes) -> None:
    g, _ = first_group_with(b, lambda k: k < 8)
    off = b.constant_offset(NNZ1) + 4 * g
    b.put("i", off, b.get("i", off)[0] + 1)


def sections_overlap(b: SbnBytes) -> None:
    b.set_section_entry("NODE_IO", offset=b.section("NODES")[0])


BYTE_CASES: list[tuple[str, Callable[[SbnBytes], object], str, str]] = [
    ("magic", lambda b: b.put("4s", fmt.HDR_MAGIC, b"SBX\0"), "bad magic", "SB_ERR_FORMAT"),
    ("major_version", lambda b: b.put("H", fmt.HDR_VERSION_MAJOR, 2),
     "unsupported format version 2.0", "SB_ERR_VERSION"),
    ("minor_version", lambda b: b.put("H", fmt.HDR_VERSION_MINOR, 1),
     "unsupported format version 1.1", "SB_ERR_VERSION"),
    ("header_size", lambda b: b.put("I", fmt.HDR_HEADER_SIZE, 128), "header_size is 128", "SB_ERR_FORMAT"),
    ("section_count_zero", lambda b: b.put("I", fmt.HDR_SECTION_COUNT, 0),
     "section_count 0 out of range", "SB_ERR_FORMAT"),
    ("section_count_huge", lambda b: b.put("I", fmt.HDR_SECTION_COUNT, 65),
     "section_count 65 out of range", "SB_ERR_FORMAT"),
    ("table_offset", lambda b: b.put("Q", fmt.HDR_TABLE_OFFSET, 128), "section_table_offset is 128", "SB_ERR_FORMAT"),
    ("padding_not_zero", lambda b: b.put("B", b.section("STRINGS")[0] + b.section("STRINGS")[1], 7),
     "padding byte at offset", "SB_ERR_FORMAT"),
    ("file_size_small", lambda b: b.put("Q", fmt.HDR_FILE_SIZE, 64), "file size mismatch", "SB_ERR_FORMAT"),
    ("unknown_section_type", lambda b: b.put("I", b.table_entry_offset("METADATA"), 9), "unknown section type 9",
     "SB_ERR_FORMAT"),
    ("duplicate_section", lambda b: b.put("I", b.table_entry_offset("METADATA"), 1), "STRINGS appears more than once",
     "SB_ERR_FORMAT"),
    ("missing_section", lambda b: b.put("I", b.table_entry_offset("WEIGHTS"), 7), "METADATA appears more than once",
     "SB_ERR_FORMAT"),
    ("section_offset_unaligned", lambda b: b.set_section_entry("GRAPH", offset=b.section("GRAPH")[0] + 4),
     "section GRAPH: offset", "SB_ERR_FORMAT"),
    ("section_past_end", lambda b: b.set_section_entry("WEIGHTS", offset=1 << 40), "lie outside the file",
     "SB_ERR_FORMAT"),
    ("section_size_overflow", lambda b: b.set_section_entry("WEIGHTS", size=(1 << 64) - 1), "lie outside the file",
     "SB_ERR_FORMAT"),
    ("section_in_header", lambda b: b.set_section_entry("STRINGS", offset=0), "overlaps the header", "SB_ERR_FORMAT"),
    ("sections_overlap", sections_overlap, "overlap", "SB_ERR_FORMAT"),
    ("tensor_count", u32("TENSORS", 0, 11), "section TENSORS: count 11 needs", "SB_ERR_FORMAT"),
    ("tensor_count_huge", u32("TENSORS", 0, 0xFFFFFFFF), "section TENSORS: count 4294967295", "SB_ERR_FORMAT"),
    ("node_count", u32("NODES", 0, 3), "section NODES: count 3 needs", "SB_ERR_FORMAT"),
    ("node_io_count", u32("NODE_IO", 0, 1), "section NODE_IO: count 1 needs", "SB_ERR_FORMAT"),
    ("graph_counts", u32("GRAPH", 0, 2), "section GRAPH: 2 inputs + 1 outputs need", "SB_ERR_FORMAT"),
    ("graph_no_inputs", u32("GRAPH", 0, 0), "each must be 1..16", "SB_ERR_FORMAT"),
    ("name_slice", tensor_u32(0, fmt.TENSOR_NAME_OFFSET, 1 << 20), "tensor 0: name slice", "SB_ERR_FORMAT"),
    ("name_length_zero", tensor_u32(2, fmt.TENSOR_NAME_LENGTH, 0), "tensor 2: name length 0", "SB_ERR_FORMAT"),
    ("node_name_slice", node_u32(1, fmt.NODE_NAME_OFFSET, 0xFFFFFFF0), "node 1: name slice", "SB_ERR_FORMAT"),
    ("dtype", tensor_u32(5, fmt.TENSOR_DTYPE, 3), "tensor 'val1': unknown dtype 3", "SB_ERR_FORMAT"),
    ("rank", tensor_u32(0, fmt.TENSOR_RANK, 7), "tensor 'x': rank 7 > 6", "SB_ERR_FORMAT"),
    ("dim_zero", tensor_u32(1, fmt.TENSOR_DIMS, 0), "tensor 'h': dims[0] is 0", "SB_ERR_FORMAT"),
    ("dim_huge", tensor_u32(1, fmt.TENSOR_DIMS + 4, (1 << 24) + 1), "exceeds the cap 2^24", "SB_ERR_FORMAT"),
    ("dim_beyond_rank", tensor_u32(3, fmt.TENSOR_DIMS + 4, 5),
     "tensor 'nnz1': dims[1]=5 beyond rank 1", "SB_ERR_FORMAT"),
    ("tensor_too_big", lambda b: [b.put("I", b.tensor_field(2, fmt.TENSOR_DIMS + 4 * d), 1 << 12) for d in range(4)],
     "more than 2^31 bytes", "SB_ERR_NOMEM"),
    ("tensor_flags", tensor_u32(0, fmt.TENSOR_FLAGS, 6), "tensor 'x': unknown flags", "SB_ERR_FORMAT"),
    ("activation_with_data", tensor_u64(1, fmt.TENSOR_DATA_SIZE, 64), "not a constant but has data", "SB_ERR_FORMAT"),
    ("activation_i32", tensor_u32(1, fmt.TENSOR_DTYPE, 2), "activations must be f32", "SB_ERR_FORMAT"),
    ("constant_offset_range", tensor_u64(5, fmt.TENSOR_DATA_OFFSET, 1 << 30), "tensor 'val1': data [", "SB_ERR_FORMAT"),
    ("constant_offset_unaligned", tensor_u64(5, fmt.TENSOR_DATA_OFFSET, 4),
     "data_offset 4 is not a multiple of 64", "SB_ERR_FORMAT"),
    ("constant_size", tensor_u64(6, fmt.TENSOR_DATA_SIZE, 36),
     "tensor 'b1': data_size 36, but 10 elements need 40", "SB_ERR_FORMAT"),
    ("node_io_index", lambda b: b.put("I", b.node_io_offset(2), 999), "NODE_IO[2]: tensor index 999 out of range",
     "SB_ERR_FORMAT"),
    ("graph_input_index", u32("GRAPH", fmt.TABLE_HEADER_SIZE, 77),
     "graph input 0: tensor index 77 out of range", "SB_ERR_FORMAT"),
    ("graph_output_constant", u32("GRAPH", fmt.TABLE_HEADER_SIZE + 4, 5),
     "graph output 0 'val1' is a constant", "SB_ERR_FORMAT"),
    ("unknown_op", node_u32(0, fmt.NODE_OP, 99), "node 'sp1x1': unknown operator code 99", "SB_ERR_UNSUPPORTED"),
    ("input_count_zero", node_u32(0, fmt.NODE_INPUT_COUNT, 0), "input_count 0 out of range", "SB_ERR_FORMAT"),
    ("output_count", node_u32(0, fmt.NODE_OUTPUT_COUNT, 2), "output_count 2, expected 1", "SB_ERR_FORMAT"),
    ("io_slice", node_u32(1, fmt.NODE_IO_START, 0xFFFFFFFF), "io slice", "SB_ERR_FORMAT"),
    ("activation_kind", node_u32(0, fmt.NODE_ACT_KIND, 250), "unknown activation kind 250", "SB_ERR_FORMAT"),
    ("arity", node_u32(0, fmt.NODE_INPUT_COUNT, 3),
     "node 'sp1x1' (CONV_SPARSE): 3 inputs, expects 4..5", "SB_ERR_FORMAT"),
    ("not_topological", swap_nodes, "not topological order", "SB_ERR_FORMAT"),
    ("produced_twice", lambda b: b.put("I", b.node_io_offset(5), 2), "'y' is already produced by node 'sp1x1'",
     "SB_ERR_FORMAT"),
    ("writes_graph_input", lambda b: b.put("I", b.node_io_offset(5), 0), "output 'x' is a graph input",
     "SB_ERR_FORMAT"),
    ("writes_constant", lambda b: b.put("I", b.node_io_offset(5), 3), "output 'nnz1' is a constant", "SB_ERR_FORMAT"),
    ("sparse_index_range", sparse_index(0, 40), "node 'sp1x1' (CONV_SPARSE): index[0]=40 >= Cin=8", "SB_ERR_FORMAT"),
    ("sparse_index_negative", sparse_index(1, -3), "index[1]=-3 >= Cin=8", "SB_ERR_FORMAT"),
    ("sparse_index_unsorted", unsorted_index, "not strictly ascending", "SB_ERR_FORMAT"),
    ("sparse_nnz_sum", nnz_sum_mismatch, "node 'sp1x1' (CONV_SPARSE): sum(nnz)=", "SB_ERR_FORMAT"),
    ("sparse_group_size", lambda b: b.put("i", b.node_attr(0, 11), 3), "group size G=3", "SB_ERR_FORMAT"),
    ("conv_stride_zero", lambda b: b.put("i", b.node_attr(1, 2), 0), "each must be >= 1", "SB_ERR_FORMAT"),
    ("conv_padding", lambda b: b.put("i", b.node_attr(1, 4), 3),
     "output 'y' has shape [2,8,4,4], the operator computes [2,8,5,4]", "SB_ERR_FORMAT"),
]


@pytest.mark.parametrize(("edit", "message", "status"), [c[1:] for c in BYTE_CASES], ids=[c[0] for c in BYTE_CASES])
def test_corrupt_field(asan_runner: Path, tmp_path: Path, edit: Callable[[SbnBytes], object], message: str,
                       status: str) -> None:
    expect_error(asan_runner, tmp_path, patched(edit), message, status)


CRC_CASES = [
    ("header_crc", lambda b: b.put("B", fmt.HDR_RESERVED + 5, 1), "header CRC mismatch"),
    ("table_crc", lambda b: b.put("I", fmt.HDR_TABLE_CRC, b.get("I", fmt.HDR_TABLE_CRC)[0] ^ 1),
     "section table CRC mismatch"),
    ("weights_crc", lambda b: b.put("B", b.section("WEIGHTS")[0], b.data[b.section("WEIGHTS")[0]] ^ 0x40),
     "section WEIGHTS CRC mismatch"),
    ("metadata_crc", lambda b: b.put("B", b.section("METADATA")[0], ord("[")), "section METADATA CRC mismatch"),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CRC_CASES], ids=[c[0] for c in CRC_CASES])
def test_bad_crc(asan_runner: Path, tmp_path: Path, edit: Callable[[SbnBytes], object], message: str) -> None:
    b = SbnBytes(BASE)
    edit(b)
    if "header" not in message:  # keep the header CRC valid so the deeper CRC is what fails
        b.put("I", fmt.HDR_CRC, zlib.crc32(bytes(b.data[:fmt.HDR_CRC])))
    expect_error(asan_runner, tmp_path, bytes(b.data), message)


# ---- semantic errors built with the writer (it does not check shapes or graph structure) ----
def one_node(op: str, in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...], attrs: object = None,
             consts: dict[str, np.ndarray] | None = None) -> bytes:
    s = SbnWriter()
    ins = [s.add_tensor(f"in{i}", shape) for i, shape in enumerate(in_shapes)]
    ids = ins + [s.add_constant(k, v) for k, v in (consts or {}).items()]
    y = s.add_tensor("y", out_shape)
    s.add_node(op, "n1", ids, [y], attrs)
    s.set_graph(ins, [y])
    return s.to_bytes()


F = np.float32
SHAPE_CASES = [
    ("conv_weight_shape", one_node("CONV", [(1, 3, 8, 8)], (1, 4, 8, 8), CONV3, {"w": np.zeros((4, 3, 5, 5), F)}),
     "node 'n1' (CONV): input W 'w' has shape [4,3,5,5], expected [4,3,3,3]"),
    ("conv_cin", one_node("CONV", [(1, 2, 8, 8)], (1, 4, 8, 8), CONV3, {"w": np.zeros((4, 3, 3, 3), F)}),
     "expected [4,2,3,3]"),
    ("conv_output_shape", one_node("CONV", [(1, 3, 8, 8)], (1, 4, 7, 8), CONV3, {"w": np.zeros((4, 3, 3, 3), F)}),
     "output 'y' has shape [1,4,7,8], the operator computes [1,4,8,8]"),
    ("conv_bias_shape", one_node("CONV", [(1, 3, 8, 8)], (1, 4, 8, 8), CONV1 | {"kh": 3, "kw": 3, "pad_top": 1,
                                 "pad_left": 1, "pad_bottom": 1, "pad_right": 1},
                                 {"w": np.zeros((4, 3, 3, 3), F), "b": np.zeros(5, F)}),
     "input bias 'b' has shape [5], expected [4]"),
    ("conv_groups", one_node("CONV", [(1, 3, 8, 8)], (1, 4, 8, 8), CONV3 | {"groups": 2},
                             {"w": np.zeros((4, 1, 3, 3), F)}), "groups=2 does not divide Cin=3"),
    ("conv_rank3", one_node("CONV", [(1, 3, 8)], (1, 4, 8), CONV3, {"w": np.zeros((4, 3, 3, 3), F)}),
     "expected rank 4"),
    ("conv_i32_weight", one_node("CONV", [(1, 3, 8, 8)], (1, 4, 8, 8), CONV3, {"w": np.zeros((4, 3, 3, 3), np.int32)}),
     "input W 'w' must be f32"),
    ("fc_shape", one_node("FC", [(2, 5)], (2, 3), None, {"w": np.zeros((3, 4), F)}),
     "node 'n1' (FC): input W 'w' has shape [3,4], expected [3,5]"),
    ("fc_sparse_values", one_node("FC_SPARSE", [(1, 6)], (1, 4), [0] * 11 + [4],
                                  {"nnz": np.array([2], np.int32), "idx": np.array([0, 3], np.int32),
                                   "val": np.zeros((2, 1, 2), F)}),
     "input values 'val' has shape [2,1,2], expected [2,1,4]"),
    ("sparse_padding_lane", one_node("FC_SPARSE", [(1, 6)], (1, 3), [0] * 11 + [4],
                                     {"nnz": np.array([1], np.int32), "idx": np.array([2], np.int32),
                                      "val": np.ones((1, 1, 4), F)}),
     "padding lane past Cout=3 but not zero"),
    ("broadcast", one_node("ADD", [(1, 3, 4, 4), (1, 2, 4, 4)], (1, 3, 4, 4)), "do not broadcast"),
    ("add_output", one_node("ADD", [(1, 3, 4, 4), (3, 1, 1)], (1, 3, 4, 5)), "the operator computes [1,3,4,4]"),
    ("concat_mismatch", one_node("CONCAT", [(1, 3, 4, 4), (1, 2, 4, 5)], (1, 5, 4, 4), [1]),
     "input 1 'in1' [1,2,4,5] does not match input 0 [1,3,4,4] except on axis 1"),
    ("concat_axis", one_node("CONCAT", [(1, 3), (1, 2)], (1, 5), [2]), "axis 2 out of range for rank 2"),
    ("concat_output", one_node("CONCAT", [(1, 3), (1, 2)], (1, 6), [1]), "the operator computes [1,5]"),
    ("pool_output", one_node("MAX_POOL", [(1, 2, 8, 8)], (1, 2, 3, 4), [2, 2, 2, 2]),
     "output height is 3, the pooling computes 4 (floor) or 4 (ceil)"),
    ("pool_window_in_padding", one_node("MAX_POOL", [(1, 2, 4, 4)], (1, 2, 7, 3), [2, 2, 1, 1, 2, 0, 2, 0]),
     "window lies entirely in the padding"),
    ("gap_output", one_node("GLOBAL_AVG_POOL", [(1, 2, 4, 4)], (1, 2, 1, 2)), "the operator computes [1,2,1,1]"),
    ("reshape_count", one_node("RESHAPE", [(2, 3, 4)], (2, 13)), "has 24 elements, output 'y' [2,13] has 26"),
    ("softmax_axis", one_node("SOFTMAX", [(2, 3)], (2, 3), [2]), "axis 2 out of range for rank 2"),
    ("affine_scale", one_node("CHANNEL_AFFINE", [(1, 3, 2, 2)], (1, 3, 2, 2), None,
                              {"s": np.ones(4, F), "t": np.ones(3, F)}), "input scale 's' has shape [4], expected [3]"),
    ("activation_shape", one_node("ACTIVATION", [(1, 3)], (1, 4)), "the operator computes [1,3]"),
    ("reshape_arity", one_node("RESHAPE", [(2, 3), (2, 3)], (2, 3)), "2 inputs, expects 1..1"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES])
def test_shape_errors(asan_runner: Path, tmp_path: Path, data: bytes, message: str) -> None:
    status = "SB_ERR_UNSUPPORTED" if "rank 4" in message else "SB_ERR_FORMAT"
    expect_error(asan_runner, tmp_path, data, message, status)


def test_duplicate_and_unproduced_tensors(asan_runner: Path, tmp_path: Path) -> None:
    s = SbnWriter()
    x = s.add_tensor("x", (1, 4))
    ghost = s.add_tensor("ghost", (1, 4))
    y = s.add_tensor("y", (1, 4))
    s.add_node("ADD", "add", [x, ghost], [y])
    s.set_graph([x], [y])
    expect_error(asan_runner, tmp_path, s.to_bytes(), "tensor 'ghost' is neither a constant, a graph input, nor")
    # give "ghost" the name of "x" by pointing its name slice at x's
    b = SbnBytes(s.to_bytes())
    b.put("II", b.tensor_field(1, fmt.TENSOR_NAME_OFFSET), *b.get("II", b.tensor_field(0, fmt.TENSOR_NAME_OFFSET)))
    expect_error(asan_runner, tmp_path, b.fix_crcs(), "tensor name 'x' is used twice")


def test_every_single_byte_flip_is_caught(asan_runner: Path, tmp_path: Path) -> None:
    """Without CRC repair, any flipped byte (header, table, sections, zero padding) is refused."""
    size = len(BASE)
    for pos in sorted({0, 5, 13, 30, 61, 70, 100, size // 2, size - 1} | set(range(64, size, 97))):
        b = bytearray(BASE)
        b[pos] ^= 0x10
        model = tmp_path / "flip.sbn"
        model.write_bytes(bytes(b))
        proc = run_binary(asan_runner, model, "--warmup", "0")
        assert proc.returncode == 1, (pos, proc.stderr)
        assert "sparsebyte-run: load failed" in proc.stderr
        assert "AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr


def test_struct_helpers_roundtrip() -> None:
    b = SbnBytes(BASE)
    assert b.fix_crcs() == BASE
    assert struct.unpack_from("<4s", BASE, fmt.HDR_MAGIC)[0] == fmt.MAGIC
