"""Activation functions that exporters write out as several nodes, folded back into one IR node before
passes/fuse_activation (which then fuses them into the producing Conv/FC/Add):

- SiLU / Swish: x * Sigmoid(x) -> Activation SILU.
- HardSwish written out: x * Clip(x + 3, 0, 6) / 6 (the /6 on the product or on the Clip; Div by a constant is
  already a Mul by its reciprocal here) -> Activation HARDSWISH. (x * HardSigmoid(x), Paddle's form, is
  fuse_activation's.)
- GELU, as torch exports F.gelu: x * 0.5 * (1 + Erf(x / sqrt(2))) with the 0.5 on x, on the sum or on the
  product -> Activation GELU; the tanh approximation x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 x^3))), x^3 as
  two Muls or Pow(x, 3) -> Activation GELU_TANH.

- LayerNorm written out (opsets before 17): ReduceMean, Sub, Pow 2 (or d * d), ReduceMean, Add epsilon, Sqrt, Div, then
  optionally Mul by a scale and Add of a bias (constants over the normalized axes) -> LayerNorm.

A pattern is replaced only when every inner value has the one use inside the pattern, so nothing else reads them.
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Node

_TOL = 1e-5  # constants as exporters write them (float32 1/6, 1/sqrt(2))


def _scalar(graph: Graph, name: str) -> float | None:
    """The value of a constant whose entries are all equal (a scalar however shaped), else None."""
    c = graph.const(name)
    if c is None or c.size == 0 or not np.issubdtype(c.dtype, np.floating):
        return None
    flat = c.reshape(-1)
    return float(flat[0]) if np.all(flat == flat[0]) else None


def _close(value: float | None, want: float) -> bool:
    return value is not None and abs(value - want) <= _TOL * max(1.0, abs(want))


def _only_use(graph: Graph, value: str) -> bool:
    return graph.use_count(value) == 1


def _split_const(graph: Graph, node: Node) -> tuple[str, float | None]:
    """For a binary node with one scalar-constant operand: (the other operand, the constant); else ("", None).
    The constant must not change the output shape (a scalar broadcast only)."""
    for i in (0, 1):
        k = _scalar(graph, node.inputs[i])
        other = node.inputs[1 - i]
        if k is not None and graph.const(other) is None and graph.shape(node.output) == graph.shape(other):
            return other, k
    return "", None


def _producer(graph: Graph, value: str, op: str, act: str | None = None) -> Node | None:
    n = graph.producer(value)
    if n is None or n.op != op or (act is not None and n.act[0] != act) or (act is None and n.act[0] != "NONE"):
        return None
    return n


def _replace(graph: Graph, final: Node, x: str, kind: str, inner: list[Node]) -> None:
    """final becomes Activation `kind` of x; the inner nodes and their outputs go."""
    for n in inner:
        graph.nodes.remove(n)
        del graph.values[n.output]
    final.op, final.inputs, final.attrs, final.act = "Activation", [x], {}, (kind, 0.0, 0.0)


def _silu(graph: Graph, mul: Node) -> bool:
    for i in (0, 1):
        gate = _producer(graph, mul.inputs[i], "Activation", "SIGMOID")
        x = mul.inputs[1 - i]
        if gate is not None and gate.inputs[0] == x and _only_use(graph, gate.output) and mul.act[0] == "NONE":
            _replace(graph, mul, x, "SILU", [gate])
            return True
    return False


def _relu6_of_x_plus_3(graph: Graph, value: str) -> tuple[str, list[Node]] | None:
    """value = Clip(x + 3, 0, 6) (the Clip standalone or fused into the Add): (x, [the nodes])."""
    clip = _producer(graph, value, "Activation", "CLIP")
    if clip is not None and clip.act[1:] == (0.0, 6.0) and _only_use(graph, clip.inputs[0]):
        add = _producer(graph, clip.inputs[0], "Add")
        nodes = [clip]
    else:
        add = graph.producer(value)
        if add is None or add.op != "Add" or add.act != ("CLIP", 0.0, 6.0):
            return None
        nodes = []
    if add is None:
        return None
    x, k = _split_const(graph, add)
    if not _close(k, 3.0):
        return None
    return x, [add, *nodes]


def _hardswish(graph: Graph, final: Node) -> bool:
    """final = Mul(Mul(x, r), 1/6) or Mul(x, Mul(r, 1/6)) with r = relu6(x + 3)."""
    if final.act[0] != "NONE":
        return False
    prod, k = _split_const(graph, final)
    if _close(k, 1 / 6):  # (x * r) / 6
        inner = _producer(graph, prod, "Mul")
        if inner is None or not _only_use(graph, prod):
            return False
        for i in (0, 1):
            found = _relu6_of_x_plus_3(graph, inner.inputs[i])
            if found and found[0] == inner.inputs[1 - i] and _only_use(graph, inner.inputs[i]):
                _replace(graph, final, found[0], "HARDSWISH", [*found[1], inner])
                return True
        return False
    for i in (0, 1):  # x * (r / 6)
        scaled = _producer(graph, final.inputs[i], "Mul")
        if scaled is None or not _only_use(graph, scaled.output):
            continue
        r, k = _split_const(graph, scaled)
        found = _relu6_of_x_plus_3(graph, r) if _close(k, 1 / 6) and r and _only_use(graph, r) else None
        if found and found[0] == final.inputs[1 - i]:
            _replace(graph, final, found[0], "HARDSWISH", [*found[1], scaled])
            return True
    return False


def _cube_of(graph: Graph, value: str) -> tuple[str, list[Node]] | None:
    """value = x * x * x (two Muls, either order) or Pow(x, 3): (x, [the nodes])."""
    n = graph.producer(value)
    if n is None or n.act[0] != "NONE":
        return None
    if n.op == "Pow" and _close(_scalar(graph, n.inputs[1]), 3.0) and graph.const(n.inputs[0]) is None:
        return n.inputs[0], [n]
    if n.op != "Mul":
        return None
    for i in (0, 1):
        sq = _producer(graph, n.inputs[i], "Mul")
        x = n.inputs[1 - i]
        if sq is not None and sq.inputs == [x, x] and _only_use(graph, sq.output):
            return x, [sq, n]
    return None


def _tanh_arg(graph: Graph, value: str) -> tuple[str, list[Node]] | None:
    """value = sqrt(2/pi) * (x + 0.044715 * x^3): (x, [the nodes])."""
    scale = _producer(graph, value, "Mul")
    if scale is None:
        return None
    s, k = _split_const(graph, scale)
    add = _producer(graph, s, "Add") if _close(k, math.sqrt(2 / math.pi)) and _only_use(graph, s) else None
    if add is None:
        return None
    for i in (0, 1):
        x, term = add.inputs[1 - i], _producer(graph, add.inputs[i], "Mul")
        if term is None or not _only_use(graph, term.output):
            continue
        cube, c = _split_const(graph, term)
        found = _cube_of(graph, cube) if _close(c, 0.044715) and _only_use(graph, cube) else None
        if found and found[0] == x:
            return x, [*found[1], term, add, scale]
    return None


def _one_plus(graph: Graph, value: str) -> tuple[str, list[Node], str] | None:
    """value = 1 + Erf(x / sqrt(2)) or 1 + Tanh(sqrt(2/pi) * (x + 0.044715 x^3)): (x, [the nodes], GELU kind)."""
    add = _producer(graph, value, "Add")
    if add is None:
        return None
    e, one = _split_const(graph, add)
    if not _close(one, 1.0) or not _only_use(graph, e):
        return None
    erf = _producer(graph, e, "Activation", "ERF")
    if erf is not None and _only_use(graph, erf.inputs[0]):
        scale = _producer(graph, erf.inputs[0], "Mul")
        if scale is None:
            return None
        x, k = _split_const(graph, scale)
        return (x, [scale, erf, add], "GELU") if _close(k, 1 / math.sqrt(2)) else None
    tanh = _producer(graph, e, "Activation", "TANH")
    if tanh is not None and _only_use(graph, tanh.inputs[0]):
        found = _tanh_arg(graph, tanh.inputs[0])
        return (found[0], [*found[1], tanh, add], "GELU_TANH") if found else None
    return None


def _gelu(graph: Graph, final: Node) -> bool:
    """final is the last Mul of x * (1 + erf(..) or tanh(..)) * 0.5, the 0.5 applied to any of the three."""
    if final.act[0] != "NONE":
        return False
    prod, half = _split_const(graph, final)
    if _close(half, 0.5):  # (x * p) * 0.5
        inner = _producer(graph, prod, "Mul")
        if inner is None or not _only_use(graph, prod):
            return False
        for i in (0, 1):
            found = _one_plus(graph, inner.inputs[i])
            if found and found[0] == inner.inputs[1 - i] and _only_use(graph, inner.inputs[i]):
                _replace(graph, final, found[0], found[2], [*found[1], inner])
                return True
        return False
    for i in (0, 1):  # x * (p * 0.5)  or  (x * 0.5) * p
        found = None
        scaled = _producer(graph, final.inputs[i], "Mul")
        if scaled is None or not _only_use(graph, scaled.output):
            continue
        a, k = _split_const(graph, scaled)
        if not _close(k, 0.5):
            continue
        other = final.inputs[1 - i]
        found = _one_plus(graph, a) if _only_use(graph, a) else None
        if found and found[0] == other:  # x * (p * 0.5)
            _replace(graph, final, other, found[2], [*found[1], scaled])
            return True
        found = _one_plus(graph, other) if _only_use(graph, other) else None
        if found and found[0] == a:  # (x * 0.5) * p
            _replace(graph, final, a, found[2], [*found[1], scaled])
            return True
    return False


def _trailing_mean(graph: Graph, value: str) -> tuple[str, int] | None:
    """value = ReduceMean(x) over axes axis..rank-1, kept: (x, axis). (Over H, W of NCHW it is GlobalAveragePool.)"""
    gap = _producer(graph, value, "GlobalAveragePool")
    if gap is not None:
        return gap.inputs[0], 2
    n = _producer(graph, value, "ReduceMean")
    if n is None or not n.attrs["keepdims"]:
        return None
    rank, mask = len(graph.shape(n.inputs[0])), n.attrs["axes_mask"]
    for axis in range(rank):
        if mask == ((1 << rank) - 1) ^ ((1 << axis) - 1):
            return n.inputs[0], axis
    return None


def _normalized(graph: Graph, div: Node) -> tuple[str, int, int, list[Node]] | None:
    """div = (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps): (x, axis, epsilon bits, [the nodes but div])."""
    if div.op != "Div" or div.act[0] != "NONE":
        return None
    d, s = div.inputs
    sqrt = _producer(graph, s, "Activation", "SQRT")
    sub = _producer(graph, d, "Sub")
    if sqrt is None or sub is None or not _only_use(graph, s) or not _only_use(graph, sqrt.inputs[0]):
        return None
    mean = _trailing_mean(graph, sub.inputs[1])
    if mean is None or mean[0] != sub.inputs[0] or not _only_use(graph, sub.inputs[1]):
        return None
    x, axis = mean
    add = _producer(graph, sqrt.inputs[0], "Add")
    if add is None:
        return None
    v, eps = _split_const(graph, add)
    var = _trailing_mean(graph, v) if v and eps is not None and eps > 0 and _only_use(graph, v) else None
    if var is None or var[1] != axis:
        return None
    sq = graph.producer(var[0])
    if sq is None or sq.act[0] != "NONE" or not _only_use(graph, var[0]):
        return None
    square = (sq.op == "Pow" and sq.inputs[0] == d and _close(_scalar(graph, sq.inputs[1]), 2.0)) or \
        (sq.op == "Mul" and sq.inputs == [d, d])
    uses = 2 if sq.op == "Pow" else 3  # d feeds the square (once or twice) and the Div
    if not square or graph.use_count(d) != uses or var[0] != sq.output:
        return None
    bits = int(np.array([eps], np.float32).view(np.int32)[0])
    return x, axis, bits, [graph.producer(sub.inputs[1]), sub, sq, graph.producer(v), add, sqrt]  # type: ignore[list-item]


def _affine_const(graph: Graph, node: Node, op: str, value: str, norm: tuple[int, ...]) -> np.ndarray | None:
    """node = value op k with k a constant over the normalized dims `norm`: k broadcast to `norm`, else None."""
    if node.op != op or node.act[0] != "NONE" or value not in node.inputs:
        return None
    k = graph.const(node.inputs[1 - node.inputs.index(value)])
    if k is None or not np.issubdtype(k.dtype, np.floating):
        return None
    k = k.reshape(k.shape[next((i for i, s in enumerate(k.shape) if s != 1), k.ndim):])  # drop leading 1s
    if k.ndim > len(norm):
        return None
    try:
        return np.ascontiguousarray(np.broadcast_to(k.astype(np.float32), norm))
    except ValueError:
        return None


def _layer_norm(graph: Graph, div: Node) -> bool:
    found = _normalized(graph, div)
    if found is None:
        return False
    x, axis, bits, inner = found
    norm = graph.shape(x)[axis:]
    final, scale, bias = div, np.ones(norm, np.float32), None
    users = graph.consumers(div.output)
    if len(users) == 1 and _only_use(graph, div.output):
        k = _affine_const(graph, users[0], "Mul", div.output, norm)
        if k is not None:
            inner, final, scale = [*inner, div], users[0], k
            users = graph.consumers(final.output)
            if len(users) == 1 and _only_use(graph, final.output):
                k = _affine_const(graph, users[0], "Add", final.output, norm)
                if k is not None:
                    inner, final, bias = [*inner, final], users[0], k
    _become_layer_norm(graph, final, x, axis, bits, inner, scale, bias)
    return True


def _become_layer_norm(graph: Graph, final: Node, x: str, axis: int, bits: int, inner: list[Node],
                       scale: np.ndarray, bias: np.ndarray | None) -> None:
    """The matched pattern's inner nodes go; its last node becomes LayerNorm(x, scale[, bias])."""
    for n in inner:
        graph.nodes.remove(n)
        del graph.values[n.output]
    inputs = [x, graph.unique_name(f"{final.name}.scale")]
    graph.add_const(inputs[1], scale)
    if bias is not None:
        inputs.append(graph.unique_name(f"{final.name}.bias"))
        graph.add_const(inputs[2], bias)
    final.op, final.inputs, final.attrs = "LayerNorm", inputs, {"axis": axis, "epsilon_bits": bits}


# ---- LayerNorm as tf2onnx writes it (Keras LayerNormalization through tf.nn.moments / tf.nn.batch_normalization):
#   mean = ReduceMean(x); d = x - mean; var = ReduceMean(d * d or d ^ 2); r = rsqrt(var + eps), rsqrt being
#   Reciprocal(Sqrt(.)), 1 / Sqrt(.) or Pow(., -0.5); then either
#   (B) d * r [* gamma] [+ beta], or d * (r * gamma) [+ beta];
#   (C) x * inv + (beta - mean * inv) with inv = r or r * gamma (tf.nn.batch_normalization), -(mean * inv) without
#       beta.

def _rsqrt_of(graph: Graph, value: str) -> tuple[str, float, list[Node]] | None:
    """value = 1 / sqrt(v + eps): (v, eps, [the nodes])."""
    n = graph.producer(value)
    if n is None or n.act[0] != "NONE" and not (n.op == "Activation" and n.act[0] == "RECIPROCAL"):
        return None
    if n.op == "Pow" and _close(_scalar(graph, n.inputs[1]), -0.5) and _only_use(graph, n.inputs[0]):
        add, nodes = _producer(graph, n.inputs[0], "Add"), [n]
    else:
        if n.op == "Activation" and n.act[0] == "RECIPROCAL":
            s = n.inputs[0]
        elif n.op == "Div" and _close(_scalar(graph, n.inputs[0]), 1.0):
            s = n.inputs[1]
        else:
            return None
        sqrt = _producer(graph, s, "Activation", "SQRT")
        if sqrt is None or not _only_use(graph, s) or not _only_use(graph, sqrt.inputs[0]):
            return None
        add, nodes = _producer(graph, sqrt.inputs[0], "Add"), [sqrt, n]
    if add is None:
        return None
    v, eps = _split_const(graph, add)
    if not v or eps is None or eps <= 0:
        return None
    return v, eps, [add, *nodes]


def _moments(graph: Graph, var_value: str) -> tuple[str, int, str, str, list[Node]] | None:
    """var_value = mean((x - mean(x))^2) over trailing axes: (x, axis, the mean value, d = x - mean, [the nodes])."""
    var = _trailing_mean(graph, var_value)
    if var is None or not _only_use(graph, var_value) or not _only_use(graph, var[0]):
        return None
    sq = graph.producer(var[0])
    if sq is None or sq.act[0] != "NONE":
        return None
    if sq.op == "Pow" and _close(_scalar(graph, sq.inputs[1]), 2.0):
        d = sq.inputs[0]
    elif sq.op == "Mul" and sq.inputs[0] == sq.inputs[1]:
        d = sq.inputs[0]
    else:
        return None
    sub = _producer(graph, d, "Sub")
    if sub is None:
        return None
    mean = _trailing_mean(graph, sub.inputs[1])
    if mean is None or mean[0] != sub.inputs[0] or mean[1] != var[1]:
        return None
    nodes = [graph.producer(sub.inputs[1]), sub, sq, graph.producer(var_value)]
    return mean[0], mean[1], sub.inputs[1], d, [n for n in nodes if n is not None]


def _times_const(graph: Graph, value: str, norm: tuple[int, ...]) -> tuple[str, np.ndarray] | None:
    """value = a * k with k a constant over the normalized dims: (a, k broadcast to them)."""
    n = _producer(graph, value, "Mul")
    if n is None:
        return None
    for i in (0, 1):
        a = n.inputs[1 - i]
        if graph.const(a) is None and graph.const(n.inputs[i]) is not None:
            k = _affine_const(graph, n, "Mul", a, norm)
            return (a, k) if k is not None else None
    return None


def _fuse_rsqrt_ln(graph: Graph, final: Node, x: str, axis: int, eps: float, inner: list[Node],
                   scale: np.ndarray | None, bias: np.ndarray | None) -> None:
    norm = graph.shape(x)[axis:]
    scale = np.ones(norm, np.float32) if scale is None else scale
    if bias is None:  # an Add of a constant over the normalized dims right after is the bias
        users = graph.consumers(final.output)
        if len(users) == 1 and _only_use(graph, final.output):
            k = _affine_const(graph, users[0], "Add", final.output, norm)
            if k is not None:
                inner, final, bias = [*inner, final], users[0], k
    bits = int(np.array([eps], np.float32).view(np.int32)[0])
    _become_layer_norm(graph, final, x, axis, bits, inner, scale, bias)
    final.act = ("NONE", 0.0, 0.0)


def _layer_norm_rsqrt_mul(graph: Graph, mul: Node) -> bool:
    """Form (B): mul = d * r or d * (r * gamma), r = rsqrt(var(d) + eps); then optionally * gamma, + beta."""
    if mul.act[0] != "NONE":
        return False
    for i in (0, 1):
        d, other = mul.inputs[1 - i], mul.inputs[i]
        if not _only_use(graph, other):
            continue
        gamma_of_r = None
        r = _rsqrt_of(graph, other)
        if r is None:
            n = _producer(graph, other, "Mul")
            if n is None:
                continue
            found = None
            for j in (0, 1):
                if graph.const(n.inputs[j]) is not None and _only_use(graph, n.inputs[1 - j]):
                    found = _rsqrt_of(graph, n.inputs[1 - j])
                    if found is not None:
                        gamma_of_r = n
                        break
            r = found
        if r is None:
            continue
        v, eps, r_nodes = r
        m = _moments(graph, v)
        if m is None or m[3] != d or graph.use_count(d) != m[4][2].inputs.count(d) + 1:  # the square and mul
            continue
        x, axis, mean, _, m_nodes = m
        if not _only_use(graph, mean):
            continue
        norm = graph.shape(x)[axis:]
        inner = [*m_nodes, *r_nodes]
        scale = None
        if gamma_of_r is not None:
            scale = _affine_const(graph, gamma_of_r, "Mul", gamma_of_r.inputs[0]
                                  if graph.const(gamma_of_r.inputs[1]) is not None else gamma_of_r.inputs[1], norm)
            if scale is None:
                continue
            inner.append(gamma_of_r)
        final = mul
        if scale is None:
            users = graph.consumers(mul.output)
            if len(users) == 1 and _only_use(graph, mul.output):
                k = _affine_const(graph, users[0], "Mul", mul.output, norm)
                if k is not None:
                    inner, final, scale = [*inner, mul], users[0], k
        _fuse_rsqrt_ln(graph, final, x, axis, eps, inner, scale, None)
        return True
    return False


def _layer_norm_batchnorm_form(graph: Graph, add: Node) -> bool:
    """Form (C): add = x * inv + (beta - mean * inv) (or + -(mean * inv)), inv = r or r * gamma."""
    if add.op != "Add" or add.act[0] != "NONE":
        return False
    for i in (0, 1):
        xm, b = _producer(graph, add.inputs[i], "Mul"), graph.producer(add.inputs[1 - i])
        if xm is None or b is None or b.act[0] not in ("NONE", "NEG") or not _only_use(graph, xm.output) \
                or not _only_use(graph, b.output):
            continue
        if b.op == "Sub" and graph.const(b.inputs[0]) is not None:  # beta - mean * inv
            mi_value, beta_value = b.inputs[1], b.inputs[0]
        elif b.op == "Activation" and b.act[0] == "NEG":
            mi_value, beta_value = b.inputs[0], None
        else:
            continue
        mi = _producer(graph, mi_value, "Mul")
        if mi is None or not _only_use(graph, mi_value):
            continue
        for j in (0, 1):
            x, inv = xm.inputs[j], xm.inputs[1 - j]
            if mi.inputs.count(inv) != 1 or xm.inputs.count(inv) != 1 or graph.use_count(inv) != 2:
                continue
            mean = mi.inputs[1 - mi.inputs.index(inv)]
            r = _rsqrt_of(graph, inv)
            gamma_node = None
            if r is None:
                n = _producer(graph, inv, "Mul")
                if n is None:
                    continue
                for k in (0, 1):
                    if graph.const(n.inputs[k]) is not None and _only_use(graph, n.inputs[1 - k]):
                        r = _rsqrt_of(graph, n.inputs[1 - k])
                        if r is not None:
                            gamma_node = n
                            break
            if r is None:
                continue
            v, eps, r_nodes = r
            m = _moments(graph, v)
            if m is None or m[0] != x or m[2] != mean or graph.use_count(mean) != 2:
                continue
            if graph.use_count(m[3]) != m[4][2].inputs.count(m[3]):  # d = x - mean feeds the square only
                continue
            axis, m_nodes = m[1], m[4]
            norm = graph.shape(x)[axis:]
            inner = [*m_nodes, *r_nodes, xm, mi, b]
            scale = bias = None
            if gamma_node is not None:
                a = gamma_node.inputs[0] if graph.const(gamma_node.inputs[1]) is not None else gamma_node.inputs[1]
                scale = _affine_const(graph, gamma_node, "Mul", a, norm)
                if scale is None:
                    continue
                inner.append(gamma_node)
            if beta_value is not None:
                c = graph.const(beta_value)
                try:
                    c2 = c.reshape(c.shape[next((q for q, s in enumerate(c.shape) if s != 1), c.ndim):])  # type: ignore[union-attr]
                    bias = np.ascontiguousarray(np.broadcast_to(c2.astype(np.float32), norm))
                except ValueError:
                    continue
            _fuse_rsqrt_ln(graph, add, x, axis, eps, inner, scale, bias if bias is not None else np.zeros(
                norm, np.float32))
            return True
    return False


def fuse_patterns(graph: Graph) -> None:
    changed = True
    while changed:
        changed = False
        for node in list(graph.nodes):
            if node not in graph.nodes:
                continue
            if node.op == "Mul" and (_silu(graph, node) or _hardswish(graph, node) or _gelu(graph, node)):
                changed = True
            elif node.op == "Div" and _layer_norm(graph, node):
                changed = True
            elif node.op == "Mul" and _layer_norm_rsqrt_mul(graph, node):
                changed = True
            elif node.op == "Add" and _layer_norm_batchnorm_form(graph, node):
                changed = True
