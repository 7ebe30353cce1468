"""Group-pattern detection, G choice, dense-or-sparse choice and the packed layout (docs/format.md)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_helpers import model, node, rand, sparse_weight
from sbn_numpy import SbnFile, unpack_dense

from sparsebyte.converters import convert
from sparsebyte.converters.passes.sparsify import choose_group, group_compute, group_mask, pack, unpack


def _check_layout(w: np.ndarray, g: int) -> None:
    nnz, index, values = pack(w, g)
    w4 = w.reshape(w.shape[0], w.shape[1], 1, 1) if w.ndim == 2 else w
    cout, cin, kh, kw = w4.shape
    ng = -(-cout // g)
    assert nnz.dtype == np.int32 and index.dtype == np.int32 and values.dtype == np.float32
    assert nnz.shape == (ng,) and values.shape == (int(nnz.sum()), kh * kw, g) and index.shape == (int(nnz.sum()),)
    start = 0
    for n in nnz:
        chunk = index[start:start + n]
        assert np.all(np.diff(chunk) > 0) and (n == 0 or (chunk[0] >= 0 and chunk[-1] < cin))
        start += n
    # lanes of the last group past Cout are zero
    if cout % g:
        last = values[int(nnz[:-1].sum()):, :, cout % g:]
        assert not np.any(last)
    # both unpackers (the converter's and the independent one of the test interpreter) give W back exactly
    np.testing.assert_array_equal(unpack(nnz, index, values, cout, cin, kh, kw), w4)
    np.testing.assert_array_equal(unpack_dense(nnz, index, values, cout, cin, kh, kw), w4)
    # a group keeps exactly the inputs where one of its channels has a nonzero
    np.testing.assert_array_equal(nnz, group_mask(w, g).sum(axis=1))


@pytest.mark.parametrize("seed", range(40))
def test_pack_unpack_round_trip_random_patterns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cout, cin = int(rng.integers(1, 21)), int(rng.integers(1, 18))
    k = int(rng.choice([1, 3, 5]))
    density = float(rng.choice([0.0, 0.1, 0.5, 0.9, 1.0]))
    pattern_g = int(rng.choice([1, 2, 4, 8]))
    w = sparse_weight(rng, cout, cin, k, k, pattern_g, density)
    for g in (1, 2, 4, 8):  # also packing at a G other than the pattern's
        _check_layout(w, g)
        _check_layout(w[:, :, 0, 0] if k == 1 else w, g)


def test_empty_groups_and_all_zero_weight() -> None:
    w = np.zeros((10, 6, 3, 3), np.float32)
    w[4:8, 2, 1, 1] = 1.5  # only group 1 (G=4) keeps input 2
    nnz, index, values = pack(w, 4)
    assert nnz.tolist() == [0, 1, 0] and index.tolist() == [2]
    assert values.shape == (1, 9, 4) and values[0, 4].tolist() == [1.5] * 4
    _check_layout(w, 4)
    nnz, index, values = pack(np.zeros((5, 3), np.float32), 8)
    assert nnz.tolist() == [0] and index.shape == (0,) and values.shape == (0, 1, 8)


def test_kernel_level_pattern_counts_whole_kernels() -> None:
    w = np.zeros((4, 3, 3, 3), np.float32)
    w[0, 1, 2, 2] = 1.0  # one nonzero in the kernel keeps the whole 3x3 kernel for the whole group
    assert group_compute(w, 4) == 1 * 4 * 9
    assert group_compute(w, 1) == 1 * 1 * 9


def _group_pattern_weight(rng, cout, cin, g, density=0.5):
    return sparse_weight(rng, cout, cin, 1, 1, g, density, kernel_holes=False)


@pytest.mark.parametrize("g", [1, 2, 4, 8])
def test_auto_group_recovers_the_pattern_group(g: int) -> None:
    rng = np.random.default_rng(g)
    w = _group_pattern_weight(rng, 64, 48, g, 0.4)
    assert choose_group(w) == g


def test_auto_group_counts_zeros_inside_kept_groups() -> None:
    # Zeros inside kept G-vectors are computed anyway: with 20 % holes G=1 is > 5 % cheaper in MACs than G=4.
    rng = np.random.default_rng(1)
    w = _group_pattern_weight(rng, 64, 48, 4, 0.4)
    w *= rng.random(w.shape) < 0.8
    assert group_compute(w, 4) > 1.05 * group_compute(w, 1)
    assert choose_group(w) in (1, 2)


def test_auto_group_slack() -> None:
    # 8 groups of 8 over 10 inputs at G=8; splitting changes nothing except where one channel is alone
    w = np.zeros((64, 100), np.float32)
    w[:, :50] = 1.0  # 50 of 100 inputs kept by every channel: all G equal -> G = 8
    assert choose_group(w) == 8
    # one extra nonzero in 1 channel: G=8 pays 7 extra MACs over G=1's 3201 (0.2 %) -> still 8
    w[0, 60] = 1.0
    assert choose_group(w) == 8
    # 200 scattered extra nonzeros, each alone in its group: G=8 costs +1400 over 3400 (41 %), G=1 wins
    for k in range(200):
        w[(k * 8) % 64, 50 + k % 50] = 1.0
    assert group_compute(w, 8) > 1.05 * group_compute(w, 1)
    assert choose_group(w) == 1
    assert choose_group(w, slack=1.0) == 8


def test_forced_group() -> None:
    w = _group_pattern_weight(np.random.default_rng(0), 16, 16, 4)
    assert choose_group(w, 2) == 2
    with pytest.raises(ValueError):
        choose_group(w, 3)


def _conv_model(w: np.ndarray, x_shape=(1, 16, 6, 6), group: int = 1):
    return model([node("Conv", ["x", "W"], ["y"], group=group, pads=[1, 1, 1, 1] if w.shape[2] == 3 else [0] * 4)],
                 {"x": x_shape}, ["y"], {"W": w})


def _sbn_ops(path) -> list[tuple[str, int]]:
    return [(n.op, n.attrs[11]) for n in SbnFile.load(str(path)).nodes]


def test_threshold_decides_dense_or_sparse(tmp_path) -> None:
    rng = np.random.default_rng(3)
    half = sparse_weight(rng, 16, 16, 1, 1, 4, 0.5, kernel_holes=False)
    dense_ish = sparse_weight(rng, 16, 16, 1, 1, 4, 0.9, kernel_holes=False)
    p = tmp_path / "m.sbn"
    r = convert(_conv_model(half), p)
    assert _sbn_ops(p) == [("CONV_SPARSE", 4)] and r.layers[0].choice == "sparse"
    assert r.layers[0].density == pytest.approx(group_mask(half, 4).mean())
    r = convert(_conv_model(dense_ish), p)
    assert r.layers[0].density > 0.75 and _sbn_ops(p) == [("CONV", 0)] and r.layers[0].choice == "dense"
    convert(_conv_model(dense_ish), p, sparse_threshold=1.0)
    assert _sbn_ops(p) == [("CONV_SPARSE", choose_group(dense_ish))]
    convert(_conv_model(half), p, force_dense=True)
    assert _sbn_ops(p) == [("CONV", 0)]
    convert(_conv_model(half), p, group=2)
    assert _sbn_ops(p) == [("CONV_SPARSE", 2)]


def test_depthwise_and_grouped_stay_dense(tmp_path) -> None:
    p = tmp_path / "m.sbn"
    w = np.zeros((16, 1, 3, 3), np.float32)
    w[::3, 0, 1, 1] = 1.0
    r = convert(_conv_model(w, group=16), p, sparse_threshold=1.0)
    assert _sbn_ops(p) == [("CONV", 0)] and r.layers[0].choice.startswith("dense")
    w = np.zeros((8, 4, 3, 3), np.float32)
    w[0, 0] = 1
    convert(_conv_model(w, group=4), p, sparse_threshold=1.0)
    assert _sbn_ops(p) == [("CONV", 0)]


def test_report_macs_and_bytes(tmp_path) -> None:
    rng = np.random.default_rng(5)
    w = sparse_weight(rng, 16, 16, 3, 3, 4, 0.5)
    r = convert(_conv_model(w), tmp_path / "m.sbn")
    (row,) = r.layers
    kept = int(group_mask(w, 4).sum())
    assert row.group == 4 and row.choice == "sparse"
    assert row.dense_macs == 16 * 16 * 9 * 36 and row.macs == kept * 4 * 9 * 36
    assert row.weight_bytes == 4 * (4 + kept + kept * 9 * 4)
    assert row.sparsity == pytest.approx(float(np.mean(w == 0)))
    assert r.macs == row.macs and r.dense_macs == row.dense_macs
    assert r.file_size == (tmp_path / "m.sbn").stat().st_size


def test_sparse_fc_from_gemm(tmp_path) -> None:
    rng = np.random.default_rng(9)
    w = _group_pattern_weight(rng, 24, 40, 8, 0.3)[:, :, 0, 0]
    m = model([node("Gemm", ["x", "W", "B"], ["y"], transB=1)], {"x": (1, 40)}, ["y"], {"W": w, "B": rand(rng, 24)})
    p = tmp_path / "m.sbn"
    convert(m, p)
    assert _sbn_ops(p) == [("FC_SPARSE", 8)]
