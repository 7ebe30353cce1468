"""Channel coupling from the traced graph (torch.fx): which tensors must share one channel permutation.

Every channel-carrying tensor gets a layout: a list of segments, each (space, length). A dense conv or Linear starts
a new space with its output channels. Per-channel ops (BatchNorm, activations, depthwise convs, pooling, flatten of a
[N, C, 1, 1] tensor) keep the layout. Add/Mul/Sub of two channel tensors joins their spaces (segment by segment);
Concat along channels concatenates layouts. Model inputs and outputs, and anything the analysis does not understand,
freeze the spaces they touch (identity permutation): correctness never depends on recognising an op.

For each space the analysis records its producers (layers whose output channels it holds: permute weight dim 0 and
bias), per-channel modules (BN, depthwise: permute dim 0 of every per-channel tensor) and, per consumer (a dense conv
or Linear reading the tensor), the layout it reads (permute weight dim 1 segment by segment).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

Layout = list[tuple[int, int]]  # [(space id, channels)]

_ELEMENTWISE_MODULES = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.GELU,
                        nn.LeakyReLU, nn.ELU, nn.Dropout, nn.Identity, nn.MaxPool2d, nn.AvgPool2d,
                        nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Mish, nn.Softplus)
_ELEMENTWISE_FUNCTIONS = {torch.relu, torch.sigmoid, torch.tanh, nn.functional.relu, nn.functional.relu6,
                          nn.functional.hardswish, nn.functional.hardsigmoid, nn.functional.silu, nn.functional.gelu,
                          nn.functional.dropout, nn.functional.max_pool2d, nn.functional.avg_pool2d,
                          nn.functional.adaptive_avg_pool2d, nn.functional.adaptive_max_pool2d,
                          nn.functional.leaky_relu, torch.clamp}
_ELEMENTWISE_METHODS = {"relu", "sigmoid", "tanh", "clamp", "contiguous", "relu_", "clamp_"}
_BINARY = {operator.add, operator.mul, operator.sub, operator.truediv, torch.add, torch.mul, torch.sub,
           operator.iadd, operator.imul}
_BINARY_METHODS = {"add", "mul", "sub", "div", "add_", "mul_"}
_RESHAPES_FUNCTIONS = {torch.flatten, torch.mean, torch.squeeze}
_RESHAPE_METHODS = {"flatten", "view", "reshape", "mean", "squeeze"}


@dataclass
class Space:
    producers: list[str] = field(default_factory=list)  # dense conv / Linear names: permute output channels
    channelwise: list[str] = field(default_factory=list)  # BN / depthwise conv names: permute every dim-0 tensor
    frozen: list[str] = field(default_factory=list)  # reasons the space keeps its order
    size: int = 0


@dataclass
class ChannelGraph:
    spaces: dict[int, Space]  # root space id -> Space
    consumers: list[tuple[str, Layout]]  # (dense conv / Linear name, the layout of its input)
    module_layout: dict[str, Layout]  # channelwise module -> the layout of its channels

    def space_of(self, layout: Layout) -> list[int]:
        return [s for s, _ in layout]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def make(self) -> int:
        i = len(self.parent)
        self.parent[i] = i
        return i

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _shape(node: object) -> tuple[int, ...] | None:
    if not isinstance(node, fx.Node):
        return None
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def analyze(model: nn.Module, example_input: torch.Tensor) -> ChannelGraph:
    """Trace `model` and return its channel spaces (see the module docstring)."""
    try:
        traced = fx.symbolic_trace(model)
    except Exception as e:  # fx raises many types on untraceable control flow
        raise ValueError(f"rearrangement needs a torch.fx-traceable model; tracing {type(model).__name__} failed: "
                         f"{type(e).__name__}: {e}") from e
    was_training = model.training
    traced.eval()
    with torch.no_grad():
        ShapeProp(traced).propagate(example_input)
    model.train(was_training)
    modules = dict(traced.named_modules())
    uf = _UnionFind()
    layouts: dict[fx.Node, Layout] = {}
    frozen: dict[int, list[str]] = {}
    producers: dict[int, list[str]] = {}
    channelwise: dict[str, Layout] = {}
    consumers: list[tuple[str, Layout]] = []
    calls: dict[str, int] = {}
    sizes: dict[int, int] = {}

    def new_space(channels: int) -> Layout:
        s = uf.make()
        sizes[s] = channels
        return [(s, channels)]

    def freeze(layout: Layout | None, why: str) -> None:
        for s, _ in layout or []:
            frozen.setdefault(s, []).append(why)

    def tensor_layouts(args: object) -> list[Layout]:
        found: list[Layout] = []
        if isinstance(args, (tuple, list)):
            for a in args:
                found.extend(tensor_layouts(a))
        elif isinstance(args, dict):
            for a in args.values():
                found.extend(tensor_layouts(a))
        elif isinstance(args, fx.Node) and args in layouts:
            found.append(layouts[args])
        return found

    def join(a: Layout, b: Layout, why: str) -> Layout | None:
        if [n for _, n in a] != [n for _, n in b]:
            freeze(a, why)
            freeze(b, why)
            return None
        for (sa, _), (sb, _) in zip(a, b, strict=True):
            uf.union(sa, sb)
        return a

    for node in traced.graph.nodes:
        shape = _shape(node)
        ins = tensor_layouts(node.args) + tensor_layouts(node.kwargs)
        out: Layout | None = None
        if node.op == "placeholder":
            if shape is not None and len(shape) >= 2:
                out = new_space(shape[1])
                freeze(out, "model input")
        elif node.op == "output":
            for lay in ins:
                freeze(lay, "model output")
        elif node.op == "call_module":
            name = str(node.target)
            mod = modules[name]
            calls[name] = calls.get(name, 0) + 1
            src = layouts.get(node.args[0]) if node.args and isinstance(node.args[0], fx.Node) else None
            if isinstance(mod, (nn.Conv2d, nn.Linear)) and shape is not None:
                in_shape = _shape(node.args[0])
                depthwise = isinstance(mod, nn.Conv2d) and mod.groups > 1 and \
                    mod.groups == mod.in_channels == mod.out_channels
                if depthwise and src is not None:
                    out = src
                    channelwise[name] = src
                elif isinstance(mod, nn.Linear) and (in_shape is None or len(in_shape) != 2):
                    freeze(src, f"{name}: Linear on a {len(in_shape or ())}-d input")
                    out = new_space(shape[-1])
                    freeze(out, f"{name}: Linear on a non-2-d input")
                elif isinstance(mod, nn.Conv2d) and mod.groups != 1:
                    freeze(src, f"{name}: grouped conv")
                    out = new_space(shape[1])
                    freeze(out, f"{name}: grouped conv")
                else:
                    if src is not None:
                        consumers.append((name, src))
                    elif ins:
                        freeze(ins[0], f"{name}: input layout unknown")
                    out = new_space(shape[1])
                    producers.setdefault(out[0][0], []).append(name)
            elif isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)) and src is not None:
                out = src
                channelwise[name] = src
            elif isinstance(mod, _ELEMENTWISE_MODULES) and src is not None:
                out = src
            elif isinstance(mod, nn.Flatten) and src is not None and _flatten_keeps_channels(node):
                out = src
            else:
                for lay in ins:
                    freeze(lay, f"{name}: {type(mod).__name__} not understood")
                if shape is not None and len(shape) >= 2:
                    out = new_space(shape[1])
                    freeze(out, f"{name}: {type(mod).__name__} not understood")
        elif node.op in ("call_function", "call_method"):
            target = node.target
            first = node.args[0] if node.args else None
            src = layouts.get(first) if isinstance(first, fx.Node) else None
            is_binary = target in _BINARY if node.op == "call_function" else target in _BINARY_METHODS
            is_elementwise = target in _ELEMENTWISE_FUNCTIONS if node.op == "call_function" \
                else target in _ELEMENTWISE_METHODS
            is_reshape = target in _RESHAPES_FUNCTIONS if node.op == "call_function" else target in _RESHAPE_METHODS
            channel_args = [a for a in node.args[:2] if isinstance(a, fx.Node) and a in layouts]
            if is_binary and len(channel_args) == 2:
                a, b = (layouts[x] for x in channel_args)
                sa, sb = _shape(channel_args[0]), _shape(channel_args[1])
                if sa is not None and sb is not None and sa[1] != sb[1] and 1 in (sa[1], sb[1]):
                    out = a if sa[1] != 1 else b  # broadcast over channels: layout of the wide one
                else:
                    out = join(a, b, f"{node.name}: operands of different layouts")
            elif is_binary and len(channel_args) == 1 and _shape(node) == _shape(channel_args[0]):
                out = layouts[channel_args[0]]  # tensor op scalar/broadcast constant
            elif is_elementwise and src is not None and _same_channels(node, first):
                out = src
            elif is_reshape and src is not None and _reshape_keeps_channels(first, node):
                out = src
            elif node.op == "call_function" and target in (torch.cat, torch.concat) and _cat_on_channels(node):
                out = [seg for lay in tensor_layouts(node.args[0]) for seg in lay]
                if sum(n for _, n in out) != (shape[1] if shape else -1):
                    freeze(out, f"{node.name}: concat of unknown layouts")
                    out = None
            else:
                for lay in ins:
                    freeze(lay, f"{node.name}: {getattr(target, '__name__', target)} not understood")
        elif node.op == "get_attr":
            pass  # constants: a binary op with one channel tensor handles them
        if out is None and node.op not in ("output", "get_attr") and shape is not None and len(shape) >= 2:
            out = new_space(shape[1])
            freeze(out, f"{node.name}: output layout unknown")
        if out is not None:
            layouts[node] = out

    for name, count in calls.items():
        if count > 1:  # a module called twice would be permuted twice: keep everything around it
            for consumer, lay in consumers:
                if consumer == name:
                    freeze(lay, f"{name}: called {count} times")
            if name in channelwise:
                freeze(channelwise[name], f"{name}: called {count} times")
            for s, names in producers.items():
                if name in names:
                    freeze([(s, 0)], f"{name}: called {count} times")

    spaces: dict[int, Space] = {}
    for s in range(len(uf.parent)):
        root = uf.find(s)
        space = spaces.setdefault(root, Space(size=sizes[s]))
        space.producers.extend(producers.get(s, []))
        space.frozen.extend(frozen.get(s, []))
    for space in spaces.values():
        if not space.producers:
            space.frozen.append("no producing layer")

    def resolve(layout: Layout) -> Layout:
        return [(uf.find(s), n) for s, n in layout]

    for name, lay in channelwise.items():
        for s, _ in resolve(lay):
            spaces[s].channelwise.append(name)
    return ChannelGraph(spaces, [(n, resolve(lay)) for n, lay in consumers],
                        {n: resolve(lay) for n, lay in channelwise.items()})


def _same_channels(node: fx.Node, src: fx.Node) -> bool:
    a, b = _shape(node), _shape(src)
    return a is not None and b is not None and len(a) == len(b) and a[:2] == b[:2]


def _flatten_keeps_channels(node: fx.Node) -> bool:
    src, out = _shape(node.args[0]), _shape(node)
    return src is not None and out is not None and len(out) == 2 and out[1] == src[1] and \
        all(d == 1 for d in src[2:])


def _reshape_keeps_channels(src_node: fx.Node, node: fx.Node) -> bool:
    """[N, C, ...] -> [N, C] or [N, C, 1, 1] where the channel values do not mix (mean over spatial dims, or a
    reshape of a tensor whose spatial dims are all 1)."""
    src, out = _shape(src_node), _shape(node)
    if src is None or out is None or len(src) < 2 or len(out) < 2 or out[:2] != src[:2]:
        return False
    if any(d != 1 for d in out[2:]):
        return False
    if node.target in (torch.mean, "mean"):
        dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
        return len(dims) > 0 and all(d % len(src) >= 2 for d in dims)
    return all(d == 1 for d in src[2:])


def _cat_on_channels(node: fx.Node) -> bool:
    dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
    shape = _shape(node)
    return shape is not None and isinstance(dim, int) and dim % len(shape) == 1
