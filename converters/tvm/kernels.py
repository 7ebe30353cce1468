"""TVM kernels for one layer each, with the layer's exact shapes, fused bias and activation, and a schedule.

Every kernel is a PrimFunc named by `symbol` taking compact f32 tensors (the engine's NCHW buffers of one image):
  f32_gemm    X[Cin,P], W[Cout,Cin], B[Cout] -> Y[Cout,P]
  f32_spmm    X[Cin,P], V[T*G], B[Cout], IDX[T] (i32), START[NG+1] (i32) -> Y[Cout,P]
  f32_dwconv  X[C,H,W], W[C,K,K], B[C] -> Y[C,OH,OW]
  f32_conv    X[Cin,H,W], W[Cout,Cin,K,K], B[Cout] -> Y[Cout,OH,OW]
Dense kinds are TE computes scheduled with s_tir (channel tile unrolled, pixel tile vectorised, accumulators in a
stack tile so LLVM keeps them in registers, epilogue computed at the tile). The sparse kind is written as TIR: its
loop bounds are the layer's group count and shapes, the per-group trip counts come from START."""

from __future__ import annotations

import math

from .layers import CONV, DWCONV, GEMM, SPMM, Layer

SB_ACT_CLIP = 1


def _activation(layer: Layer, value):
    """The node's fused activation on a TIR expression. Only CLIP (ReLU, ReLU6) is generated; anything else is
    refused by `supported`."""
    from tvm import tirx

    if layer.act_kind == SB_ACT_CLIP:
        if math.isfinite(layer.act_p0):
            value = tirx.max(value, tirx.const(layer.act_p0, "float32"))
        if math.isfinite(layer.act_p1):
            value = tirx.min(value, tirx.const(layer.act_p1, "float32"))
    return value


def supported(layer: Layer) -> str | None:
    """None if a kernel can be generated for the layer, else the reason."""
    if layer.act_kind not in (0, SB_ACT_CLIP):
        return f"activation kind {layer.act_kind} is not generated (only none/clip)"
    if layer.kind == SPMM and layer.group not in (1, 2, 4, 8):
        return f"group {layer.group}"
    return None


def _pixel_tile(extent: int, widest: int) -> int:
    """Widest vector tile (multiple of 4 lanes) dividing the extent, so no tile needs a tail guard; else the whole
    extent when it is short (LLVM splits it into vectors and a remainder; 7x7 planes), else `widest` (TVM then
    guards every lane of the last tile, which is slow)."""
    for tile in (widest, widest // 2, 8, 4):
        if tile >= 4 and extent % tile == 0:
            return tile
    return extent if extent <= 64 else widest


def _channel_tile(channels: int, pixel_tile: int) -> int:
    """Output channels per tile so that the tile holds about 16 accumulator vectors (of 4 lanes)."""
    want = max(1, 64 // pixel_tile)
    for tile in (16, 8, 4, 2, 1):
        if tile <= want and channels % tile == 0:
            return tile
    return 1


def _schedule_tiled(func, symbol: str, acc_name: str, out_name: str, channel_tile: int, pixel_tile: int,
                    spatial_axes: int):
    """Common dense schedule: [c, <rows>, p] spatial loops then reductions; tiles c and the innermost spatial loop,
    moves reductions inside the tile, keeps the accumulator tile on the stack and computes the epilogue at it."""
    import tvm
    from tvm import s_tir

    sch = s_tir.Schedule(tvm.IRModule({symbol: func}))
    sch.work_on(symbol)
    acc, out = sch.get_sblock(acc_name), sch.get_sblock(out_name)
    loops = sch.get_loops(acc)
    spatial, reduce = loops[:spatial_axes], loops[spatial_axes:]
    c, rows, p = spatial[0], spatial[1:-1], spatial[-1]
    co, ci = sch.split(c, [None, channel_tile])
    po, pi = sch.split(p, [None, pixel_tile])
    sch.reorder(co, *rows, po, *reduce, ci, pi)
    sch.reverse_compute_at(out, po)
    sch.vectorize(pi)
    sch.unroll(ci)
    for r in reduce[1:]:  # kernel taps (kxk): unrolled; the channel reduction stays a loop
        if sch.get(r).extent.value <= 7:
            sch.unroll(r)
    init = sch.decompose_reduction(acc, reduce[0])
    sch.set_scope(acc, 0, "global")  # a compacted tile: stack-allocated, promoted to registers by LLVM
    for blk in (init, out):
        inner = sch.get_loops(blk)
        sch.vectorize(inner[-1])
        sch.unroll(inner[-2])
    return sch.mod[symbol]


def gemm(layer: Layer, symbol: str):
    from tvm import te

    cin, cout, p = layer.in_c, layer.out_c, layer.pixels
    x = te.placeholder((cin, p), "float32", name="X")
    w = te.placeholder((cout, cin), "float32", name="W")
    b = te.placeholder((cout,), "float32", name="B")
    k = te.reduce_axis((0, cin), name="k")
    acc = te.compute((cout, p), lambda c, q: te.sum(w[c, k] * x[k, q], axis=k), name="acc")
    y = te.compute((cout, p), lambda c, q: _activation(layer, acc[c, q] + b[c]), name="Y")
    func = te.create_prim_func([x, w, b, y]).with_attr("global_symbol", symbol)
    pixel_tile = _pixel_tile(p, 16)
    return _schedule_tiled(func, symbol, "acc", "Y", _channel_tile(cout, pixel_tile), pixel_tile, 2)


def _padded_input(layer: Layer, x, channels: int):
    """Zero-padded copy of the input (a workspace): keeps the inner loops free of border tests."""
    from tvm import te, tirx

    pad_h = (layer.out_h - 1) * layer.stride + layer.kh
    pad_w = (layer.out_w - 1) * layer.stride + layer.kw
    if layer.pad_top == 0 and layer.pad_left == 0 and pad_h <= layer.in_h and pad_w <= layer.in_w:
        return x

    def value(c, i, j):
        yy, xx = i - layer.pad_top, j - layer.pad_left
        inside = tirx.all(yy >= 0, yy < layer.in_h, xx >= 0, xx < layer.in_w)
        return tirx.if_then_else(inside, x[c, yy, xx], tirx.const(0.0, "float32"))

    return te.compute((channels, pad_h, pad_w), value, name="Xpad")


def dwconv(layer: Layer, symbol: str):
    from tvm import te

    c, k, s = layer.in_c, layer.kh, layer.stride
    x = te.placeholder((c, layer.in_h, layer.in_w), "float32", name="X")
    w = te.placeholder((c, k, k), "float32", name="W")
    b = te.placeholder((c,), "float32", name="B")
    xp = _padded_input(layer, x, c)
    ky, kx = te.reduce_axis((0, k), name="ky"), te.reduce_axis((0, k), name="kx")
    acc = te.compute((c, layer.out_h, layer.out_w),
                     lambda ch, i, j: te.sum(w[ch, ky, kx] * xp[ch, i * s + ky, j * s + kx], axis=[ky, kx]), name="acc")
    y = te.compute(acc.shape, lambda ch, i, j: _activation(layer, acc[ch, i, j] + b[ch]), name="Y")
    func = te.create_prim_func([x, w, b, y]).with_attr("global_symbol", symbol)
    return _schedule_tiled(func, symbol, "acc", "Y", 1, _pixel_tile(layer.out_w, 8), 3)


def conv(layer: Layer, symbol: str):
    from tvm import te

    cin, cout, k, s = layer.in_c, layer.out_c, layer.kh, layer.stride
    x = te.placeholder((cin, layer.in_h, layer.in_w), "float32", name="X")
    w = te.placeholder((cout, cin, k, k), "float32", name="W")
    b = te.placeholder((cout,), "float32", name="B")
    xp = _padded_input(layer, x, cin)
    rc = te.reduce_axis((0, cin), name="rc")
    ky, kx = te.reduce_axis((0, k), name="ky"), te.reduce_axis((0, k), name="kx")
    acc = te.compute((cout, layer.out_h, layer.out_w),
                     lambda o, i, j: te.sum(w[o, rc, ky, kx] * xp[rc, i * s + ky, j * s + kx], axis=[rc, ky, kx]),
                     name="acc")
    y = te.compute(acc.shape, lambda o, i, j: _activation(layer, acc[o, i, j] + b[o]), name="Y")
    func = te.create_prim_func([x, w, b, y]).with_attr("global_symbol", symbol)
    pixel_tile = _pixel_tile(layer.out_w, 8)
    return _schedule_tiled(func, symbol, "acc", "Y", min(4, _channel_tile(cout, pixel_tile)), pixel_tile, 3)


def spmm(layer: Layer, symbol: str):
    """Group-sparse 1x1 conv: per group of G output channels and pixel tile of VT, G x VT accumulators (G*VT = 64
    floats, 16 vector registers) updated by every kept input row; a scalar loop takes the pixel tail."""
    import tvm

    g, ng, p, t = layer.group, layer.out_c // layer.group, layer.pixels, layer.kept
    vt = max(4, 64 // g)
    full = p // vt * vt
    act = _activation_text(layer)
    tail = ""
    if full < p:
        tail = f"""
        for q in range({full}, {p}):
            for l in T.unroll({g}):
                acc1[l] = B[gi * {g} + l]
            for j in range(START[gi], START[gi + 1]):
                for l in T.unroll({g}):
                    acc1[l] = acc1[l] + V[j * {g} + l] * X[IDX[j], q]
            for l in T.unroll({g}):
                Y[gi * {g} + l, q] = {act.format(v="acc1[l]")}"""
    source = f"""
# from tvm.script import tirx as T
@T.prim_func
def {symbol}(X: T.Buffer(({layer.in_c}, {p}), "float32"), V: T.Buffer(({max(t, 1) * g},), "float32"),
        B: T.Buffer(({layer.out_c},), "float32"), IDX: T.Buffer(({max(t, 1)},), "int32"),
        START: T.Buffer(({ng + 1},), "int32"), Y: T.Buffer(({layer.out_c}, {p}), "float32")):
    T.func_attr({{"global_symbol": "{symbol}", "tirx.noalias": True}})
    acc = T.decl_buffer(({g}, {vt}), "float32", scope="global")
    acc1 = T.decl_buffer(({g},), "float32", scope="global")
    for gi in range({ng}):
        for pt in range({full // vt}):
            for l in T.unroll({g}):
                for v in T.vectorized({vt}):
                    acc[l, v] = B[gi * {g} + l]
            for j in range(START[gi], START[gi + 1]):
                for l in T.unroll({g}):
                    for v in T.vectorized({vt}):
                        acc[l, v] = acc[l, v] + V[j * {g} + l] * X[IDX[j], pt * {vt} + v]
            for l in T.unroll({g}):
                for v in T.vectorized({vt}):
                    Y[gi * {g} + l, pt * {vt} + v] = {act.format(v="acc[l, v]")}{tail}
"""
    return tvm.script.from_source(source)


def _activation_text(layer: Layer) -> str:
    expr = "{v}"
    if layer.act_kind == SB_ACT_CLIP:
        if math.isfinite(layer.act_p0):
            expr = f"T.max({expr}, T.float32({layer.act_p0!r}))"
        if math.isfinite(layer.act_p1):
            expr = f"T.min({expr}, T.float32({layer.act_p1!r}))"
    return expr


BUILDERS = {GEMM: gemm, SPMM: spmm, DWCONV: dwconv, CONV: conv}


def build(layer: Layer, symbol: str):
    """The scheduled PrimFunc for a layer (ValueError if unsupported)."""
    reason = supported(layer)
    if reason:
        raise ValueError(f"node '{layer.name}' ({layer.kind}): {reason}")
    return BUILDERS[layer.kind](layer, symbol)
