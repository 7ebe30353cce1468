"""One test per limit against hostile files: every cap, cycle and dangling reference gets a named error (exit 1) from
the ASan/UBSan runner, never a crash, a sanitizer report or a giant allocation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fuzz_support import ASAN_RUNNER, CRASHES, assert_no_sanitizer_report, make, run
from sbn_bytes import SbnBytes

from sparsebyte import sbnformat as fmt
from sparsebyte.sbnformat import SbnWriter

CAP_DIM = 1 << 24
CONV1 = dict(kh=1, kw=1, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, groups=1)


@pytest.fixture(scope="module", autouse=True)
def asan_build() -> None:
    make("asan")


def expect_error(tmp_path: Path, data: bytes, message: str, status: str = "SB_ERR_FORMAT") -> None:
    path = tmp_path / "hostile.sbn"
    path.write_bytes(data)
    proc = run(ASAN_RUNNER, path, "--warmup", "0")
    assert_no_sanitizer_report(proc)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert message in proc.stderr, proc.stderr
    assert status in proc.stderr, proc.stderr


def relu_chain(shape: tuple[int, ...]) -> SbnWriter:
    """x -> ACTIVATION -> y with the given activation shape."""
    s = SbnWriter()
    x, y = s.add_tensor("x", shape), s.add_tensor("y", shape)
    s.add_node("ACTIVATION", "act", [x], [y], act=("CLIP", 0.0, 6.0))
    s.set_graph([x], [y])
    return s


def dim_over_cap() -> bytes:
    return relu_chain((1, CAP_DIM + 1)).to_bytes()


def tensor_over_byte_cap() -> bytes:
    return relu_chain((2, CAP_DIM, 32)).to_bytes()  # 2^30 elements = 2^32 bytes > 2^31


def arena_over_cap() -> bytes:
    """Three graph inputs of 2^31 bytes each (each under the tensor cap) alive at once: a 6 GiB arena."""
    s = SbnWriter()
    shape = (32, CAP_DIM)
    a, b, c = (s.add_tensor(n, shape) for n in "abc")
    t, y = s.add_tensor("t", shape), s.add_tensor("y", shape)
    s.add_node("ADD", "add1", [a, b], [t])
    s.add_node("ADD", "add2", [t, c], [y])
    s.set_graph([a, b, c], [y])
    return s.to_bytes()


def sparse_conv(kh: int, kw: int, pad: int, values_area: int = 1) -> bytes:
    """CONV_SPARSE with an empty weight set (T = 0) and a kernel of kh x kw over a padded 1x1 input; values is
    [0, values_area, 1] (consistent when values_area = kh * kw)."""
    s = SbnWriter()
    x, y = s.add_tensor("x", (1, 1, 1, 1)), s.add_tensor("y", (1, 1, 2, 2))
    ins = [x, s.add_constant("nnz", np.array([0], np.int32)), s.add_constant("idx", np.zeros(0, np.int32)),
           s.add_constant("val", np.zeros((0, values_area, 1), np.float32))]
    s.add_node("CONV_SPARSE", "huge", ins, [y], dict(CONV1, kh=kh, kw=kw, pad_top=pad, pad_left=pad,
                                                       pad_bottom=pad, pad_right=pad, G=1))
    s.set_graph([x], [y])
    return s.to_bytes()


def dense_conv_kernel_over_cap() -> bytes:
    s = SbnWriter()
    x, y = s.add_tensor("x", (1, 1, 4, 4)), s.add_tensor("y", (1, 1, 4, 4))
    w = s.add_constant("w", np.ones((1, 1, 1, 1), np.float32))
    s.add_node("CONV", "conv", [x, w], [y], dict(CONV1, kh=CAP_DIM + 1))
    s.set_graph([x], [y])
    return s.to_bytes()


def concat_axis_over_cap() -> bytes:
    s = SbnWriter()
    a, b = s.add_tensor("a", (1, CAP_DIM)), s.add_tensor("b", (1, 1))
    y = s.add_tensor("y", (1, CAP_DIM))
    s.add_node("CONCAT", "cat", [a, b], [y], {"axis": 1})
    s.set_graph([a, b], [y])
    return s.to_bytes()


def self_cycle() -> bytes:
    """A node that reads its own output."""
    s = SbnWriter()
    x, h, y = s.add_tensor("x", (1, 4)), s.add_tensor("h", (1, 4)), s.add_tensor("y", (1, 4))
    s.add_node("ADD", "loop", [x, h], [h])
    s.add_node("ACTIVATION", "act", [h], [y], act=("SIGMOID", 0.0, 0.0))
    s.set_graph([x], [y])
    return s.to_bytes()


def two_node_cycle() -> bytes:
    """a = x + b; b = relu(a): each node needs the other's output first."""
    s = SbnWriter()
    x, a, b = s.add_tensor("x", (1, 4)), s.add_tensor("a", (1, 4)), s.add_tensor("b", (1, 4))
    s.add_node("ADD", "first", [x, b], [a])
    s.add_node("ACTIVATION", "second", [a], [b], act=("CLIP", 0.0, 6.0))
    s.set_graph([x], [b])
    return s.to_bytes()


def dangling_node_input() -> bytes:
    s = relu_chain((1, 4))
    s.nodes[0].inputs[0] = 7  # only 2 tensors
    return s.to_bytes()


def dangling_graph_output() -> bytes:
    s = relu_chain((1, 4))
    s.outputs = [5]
    return s.to_bytes()


def unproduced_tensor() -> bytes:
    """A node reads a tensor that is neither a constant, a graph input nor any node's output."""
    s = SbnWriter()
    x, ghost, y = s.add_tensor("x", (1, 4)), s.add_tensor("ghost", (1, 4)), s.add_tensor("y", (1, 4))
    s.add_node("ADD", "add", [x, ghost], [y])
    s.set_graph([x], [y])
    return s.to_bytes()


def too_many_node_inputs() -> bytes:
    s = SbnWriter()
    xs = [s.add_tensor(f"x{i}", (1, 1)) for i in range(16)]
    y = s.add_tensor("y", (1, 65))
    s.add_node("CONCAT", "cat", [xs[i % 16] for i in range(65)], [y], {"axis": 1})
    s.set_graph(xs, [y])
    return s.to_bytes()


def too_many_graph_inputs() -> bytes:
    s = SbnWriter()
    xs = [s.add_tensor(f"x{i}", (1, 1)) for i in range(17)]
    y = s.add_tensor("y", (1, 17))
    s.add_node("CONCAT", "cat", xs, [y], {"axis": 1})
    s.set_graph(xs, [y])
    return s.to_bytes()


def name_too_long() -> bytes:
    b = SbnBytes(relu_chain((1, 4)).to_bytes())
    b.put("I", b.tensor_field(0, fmt.TENSOR_NAME_LENGTH), 256)
    return b.fix_crcs()


def rank_over_cap() -> bytes:
    b = SbnBytes(relu_chain((1, 4)).to_bytes())
    b.put("I", b.tensor_field(0, fmt.TENSOR_RANK), 7)
    return b.fix_crcs()


def entry_count_over_section() -> bytes:
    b = SbnBytes(relu_chain((1, 4)).to_bytes())
    b.put_in("NODES", "I", 0, 0x7FFFFFFF)  # 2^31 nodes would need 256 GiB: never allocated
    return b.fix_crcs()


LIMITS: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("dim_cap", dim_over_cap, "exceeds the cap 2^24", "SB_ERR_FORMAT"),
    ("tensor_bytes_cap", tensor_over_byte_cap, "more than 2^31 bytes", "SB_ERR_NOMEM"),
    ("arena_cap", arena_over_cap, "activation arena of", "SB_ERR_NOMEM"),
    ("sparse_kernel_area_cap", lambda: sparse_conv(65536, 65536, 32768), "area exceeds the cap 2^24", "SB_ERR_FORMAT"),
    ("conv_kernel_cap", dense_conv_kernel_over_cap, "exceed the cap 2^24", "SB_ERR_FORMAT"),
    ("concat_axis_cap", concat_axis_over_cap, "concatenated axis is 16777217 long", "SB_ERR_FORMAT"),
    ("self_cycle", self_cycle, "not topological order", "SB_ERR_FORMAT"),
    ("two_node_cycle", two_node_cycle, "not topological order", "SB_ERR_FORMAT"),
    ("dangling_node_input", dangling_node_input, "tensor index 7 out of range", "SB_ERR_FORMAT"),
    ("dangling_graph_output", dangling_graph_output, "graph output 0: tensor index 5 out of range", "SB_ERR_FORMAT"),
    ("unproduced_tensor", unproduced_tensor, "'ghost' is neither a constant, a graph input, nor produced",
     "SB_ERR_FORMAT"),
    ("node_inputs_cap", too_many_node_inputs, "input_count 65 out of range 1..64", "SB_ERR_FORMAT"),
    ("graph_io_cap", too_many_graph_inputs, "17 inputs and 1 outputs, each must be 1..16", "SB_ERR_FORMAT"),
    ("name_length_cap", name_too_long, "name length 256 out of range 1..255", "SB_ERR_FORMAT"),
    ("rank_cap", rank_over_cap, "rank 7 > 6", "SB_ERR_FORMAT"),
    ("entry_count_vs_section", entry_count_over_section, "section NODES: count 2147483647 needs", "SB_ERR_FORMAT"),
]


@pytest.mark.parametrize("name,build,message,status", LIMITS, ids=[case[0] for case in LIMITS])
def test_limit(tmp_path: Path, name: str, build: Callable[[], bytes], message: str,
               status: str) -> None:
    expect_error(tmp_path, build(), message, status)


def test_sparse_kernel_area_reproducer_matches() -> None:
    """The checked-in reproducer is the file that overflowed int32 kh*kw (UBSan) before the kernel-area cap."""
    assert (CRASHES / "conv_sparse_kernel_area_overflow.sbn").read_bytes() == sparse_conv(65536, 65536, 32768)


def test_largest_kernel_area_under_cap_loads(tmp_path: Path) -> None:
    """At the cap (4096 x 4096 = 2^24) the same hostile shape is valid and runs: the cap is not off by one."""
    path = tmp_path / "edge.sbn"
    path.write_bytes(sparse_conv(4096, 4096, 2048, values_area=4096 * 4096))
    proc = run(ASAN_RUNNER, path, "--warmup", "0")
    assert_no_sanitizer_report(proc)
    assert proc.returncode == 0, proc.stderr
