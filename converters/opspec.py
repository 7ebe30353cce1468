"""The operator spec: every .sbn operator and activation kind, declared once.

Everything else is generated from this table or checked against it by ``python3 tools/gen_opspec.py`` (``--write``
regenerates, ``--check`` (the default) fails on drift; tests/opspec runs the check):
- engine/src/ops/op_spec.h (committed, so C builds never need Python): the op enum, each op's arity and used attrs[]
  slots, the ``SB_OP_LIST`` X-macro that builds the validator's tables and the ops' extern declarations, the attribute
  slot enums and named accessors (``sb_attr_conv_G(node)``), SB_ACT_COUNT and compile-time checks of the activation
  codes in sb_kernels.h;
- the operator and activation tables of docs/format.md (between the GENERATED marker comments);
- checked copies: the activation enum of engine/kernels/sb_kernels.h, the op/activation codes of the independent
  numpy interpreter tests/converter/sbn_numpy.py.
The .sbn reader/writer (sparsebyte/sbnformat.py) and the converter (passes/to_sbn.py) import their tables from here.

Adding an operator: an ``Op`` entry below (a new code at the end; codes are the file format and never change), then
``python3 tools/gen_opspec.py --write``, the converter lowering, the shape rule, the reference op in
engine/src/ops/<name>.c (``const sb_op_def sb_op_<name> = SB_OP_DEF(NAME, prepare, run, fuses)``), tests.

Only the standard library is used, so the generator runs on a bare Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NUM_ATTRS = 22  # i32 attrs per node entry (docs/format.md, NODES)
MAX_RANK = 6
MAX_NODE_INPUTS = 64


@dataclass(frozen=True)
class Slot:
    """``length`` consecutive attrs[] entries. An empty name is reserved: always written as 0."""

    name: str
    length: int = 1
    doc: str = ""


@dataclass(frozen=True)
class Layout:
    """A named attribute layout; ops that share one (CONV, CONV_SPARSE) share its accessors."""

    name: str
    slots: tuple[Slot, ...]
    doc: str = ""  # shown after the operator table when several ops share the layout

    def offsets(self) -> list[tuple[Slot, int]]:
        out, pos = [], 0
        for s in self.slots:
            out.append((s, pos))
            pos += s.length
        return out

    @property
    def size(self) -> int:
        return sum(s.length for s in self.slots)


@dataclass(frozen=True)
class Op:
    code: int
    name: str  # SB_OP_<name> in C, the op string in Python and in sb_layer_info
    ir: str  # the IR op (converters/ir.py) that to_sbn lowers to it
    min_inputs: int
    max_inputs: int
    inputs_doc: str
    layout: Layout | None = None
    attrs_doc: str = ""  # docs column; default: the layout's name or its slots

    @property
    def c_name(self) -> str:
        """The sb_op_def symbol: sb_op_<lower name>."""
        return "sb_op_" + self.name.lower()


@dataclass(frozen=True)
class Activation:
    code: int
    name: str
    doc: str


_WINDOW = (Slot("kh"), Slot("kw"), Slot("stride_h"), Slot("stride_w"), Slot("pad_top"), Slot("pad_left"),
           Slot("pad_bottom"), Slot("pad_right"))
CONV = Layout("conv", (*_WINDOW, Slot("dilation_h"), Slot("dilation_w"), Slot("groups"), Slot("G")),
              "G = 0 for dense CONV")
POOL = Layout("pool", (*_WINDOW, Slot("count_include_pad")),
              "count_include_pad is 0 or 1 (AVG_POOL; 0 for MAX_POOL). The output shape in the tensor table is "
              "authoritative (it encodes ceil_mode); windows are clipped to the input (and, for AVG_POOL without "
              "count_include_pad, divided by the clipped size)")
# FC_SPARSE keeps G where the conv layout has it (slot 11): files written since 1.0 rely on it.
FC_SPARSE = Layout("fc_sparse", (Slot("", 11), Slot("G")))
AXIS = Layout("axis", (Slot("axis", doc=">= 0"),))
TRANSPOSE = Layout("transpose", (Slot("perm", MAX_RANK, "a permutation of 0..rank-1, unused slots 0"),))
PAD = Layout("pad", (Slot("mode", doc="0 constant, 1 reflect (pads < dim), 2 edge"),
                     Slot("begin", MAX_RANK, ">= 0 elements added before each axis, unused slots 0"),
                     Slot("end", MAX_RANK, ">= 0 elements added after each axis, unused slots 0"),
                     Slot("value_bits", doc="the constant's f32 bit pattern (mode 0)")),
             "PAD: output dim d = X's dim d + begin[d] + end[d]; reflect mirrors without repeating the edge "
             "(numpy 'reflect'), edge repeats it")
RESIZE = Layout("resize", (Slot("mode", doc="0 nearest, 1 linear"),
                           Slot("coord", doc="0 half_pixel, 1 pytorch_half_pixel, 2 align_corners, 3 asymmetric, "
                                             "4 tf_half_pixel_for_nn"),
                           Slot("nearest_mode", doc="0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil"),
                           Slot("scale_h_bits", doc="f32 bits of the scale of the first resized axis (> 0)"),
                           Slot("scale_w_bits", doc="f32 bits of the scale of the second resized axis (> 0)"),
                           Slot("inner_axes", doc="axes after the two resized ones (0: the last two; 1: H, W of "
                                                  "NHWC), 0..rank-2")),
                "RESIZE (ONNX Resize/Upsample) resizes two adjacent axes of X (rank 2..6; the last two unless "
                "inner_axes; the others keep their size); the output shape in the tensor table gives the resized "
                "sizes, the scales the coordinate transform (ONNX's formulas in f32); linear is bilinear with "
                "clamped edges")
CONV_TRANSPOSE = Layout("conv_transpose", (*_WINDOW, Slot("dilation_h"), Slot("dilation_w"), Slot("groups"),
                                           Slot("output_pad_h"), Slot("output_pad_w")),
                        "CONV_TRANSPOSE: OH = (H - 1) * stride_h - pad_top - pad_bottom + dilation_h * (kh - 1) + "
                        "output_pad_h + 1 (OW alike); 0 <= output_pad < stride")
SLICE = Layout("slice", (Slot("start", MAX_RANK, "first input index of each axis, 0 <= start < dim"),
                         Slot("step", MAX_RANK, "input step of each axis, != 0 (negative walks backwards)")),
               "SLICE: output index i of axis d reads input index start[d] + i * step[d] (in range for every "
               "output index); the output shape in the tensor table gives the counts; unused slots 0")
REDUCE = Layout("reduce", (Slot("axes_mask", doc="bit d set: axis d is reduced (at least one)"),
                           Slot("keepdims", doc="0 or 1: reduced axes stay as size 1")))
NORM = Layout("norm", (Slot("axis", doc="LAYER_NORM: normalizes axes axis..rank-1; INSTANCE_NORM: 0"),
                       Slot("epsilon_bits", doc="epsilon's f32 bit pattern, > 0")))
ARGMAX = Layout("argmax", (Slot("axis", doc=">= 0"), Slot("keepdims", doc="0 or 1"),
                           Slot("select_last_index", doc="0 or 1: the last of equal maxima")))

OPERATORS: tuple[Op, ...] = (
    Op(1, "CONV", "Conv", 2, 3, "X [N,Cin,H,W], W [Cout, Cin/groups, kh, kw], B [Cout] (opt.)", CONV),
    Op(2, "CONV_SPARSE", "ConvSparse", 4, 5,
       "X, nnz i32 [ng], index i32 [T], values f32 [T, kh*kw, G], B [Cout] (opt.)", CONV, "conv attrs, groups = 1"),
    Op(3, "FC", "FC", 2, 3, "X [N,Cin], W [Cout,Cin], B [Cout] (opt.)"),
    Op(4, "FC_SPARSE", "FCSparse", 4, 5,
       "X [N,Cin], nnz i32 [ng], index i32 [T], values f32 [T, 1, G], B [Cout] (opt.)", FC_SPARSE),
    Op(5, "ADD", "Add", 2, 2, "A, B (numpy broadcasting, rank <= 6; either may be constant)"),
    Op(6, "MUL", "Mul", 2, 2, "A, B (as ADD)"),
    Op(7, "CONCAT", "Concat", 1, MAX_NODE_INPUTS, "1..64 inputs, same rank, equal except on the axis", AXIS),
    Op(8, "GLOBAL_AVG_POOL", "GlobalAveragePool", 1, 1, "X [N,C,H,W] -> [N,C,1,1]"),
    Op(9, "AVG_POOL", "AveragePool", 1, 1, "X [N,C,H,W]", POOL),
    Op(10, "MAX_POOL", "MaxPool", 1, 1, "X [N,C,H,W]", POOL),
    Op(11, "RESHAPE", "Reshape", 1, 1,
       "X (element count equals the output's; Flatten, Reshape, Squeeze, Unsqueeze)"),
    Op(12, "SOFTMAX", "Softmax", 1, 1, "X", AXIS),
    Op(13, "ACTIVATION", "Activation", 1, 1, "X; the node's act_kind is the function"),
    Op(14, "CHANNEL_AFFINE", "ChannelAffine", 3, 3,
       "X [N,C,...], scale [C], shift [C]: y = x * scale[c] + shift[c] (standalone BatchNormalization)"),
    Op(15, "TRANSPOSE", "Transpose", 1, 1, "X (an activation, rank 1..6); output dim d is X's dim perm[d]",
       TRANSPOSE),
    # 16..39: structural ops.
    Op(16, "PAD", "Pad", 1, 1, "X (an activation, rank 1..6)", PAD),
    Op(17, "RESIZE", "Resize", 1, 1, "X (an activation, rank 2..6)", RESIZE),
    Op(18, "CONV_TRANSPOSE", "ConvTranspose", 2, 3,
       "X [N,Cin,H,W], W [Cin, Cout/groups, kh, kw] (constant), B [Cout] (opt.)", CONV_TRANSPOSE),
    Op(19, "SLICE", "Slice", 1, 1, "X (an activation, rank 1..6; ONNX Slice and each output of Split)", SLICE),
    Op(20, "GATHER", "Gather", 2, 2,
       "X (an activation), indices i32 constant (0 <= index < X's dim on the axis); output shape X[:axis] + "
       "indices + X[axis+1:], rank <= 6", AXIS),
    Op(21, "EXPAND", "Expand", 1, 1,
       "X (an activation) broadcast (numpy rules, X's dims aligned to the right) to the output's shape, rank <= 6; "
       "ONNX Expand and Tile"),
    # 40..69: math ops. The binary ops broadcast like ADD; either input may be a constant.
    Op(40, "SUB", "Sub", 2, 2, "A, B (as ADD): A - B"),
    Op(41, "DIV", "Div", 2, 2, "A, B (as ADD): A / B"),
    Op(42, "MAXIMUM", "Max", 2, 2, "A, B (as ADD): max(A, B) (MAX would clash with SB_OP_MAX)"),
    Op(43, "MINIMUM", "Min", 2, 2, "A, B (as ADD): min(A, B)"),
    Op(44, "POW", "Pow", 2, 2, "A, B (as ADD): powf(A, B)"),
    Op(45, "PRELU", "PRelu", 2, 2, "X, slope (broadcasts to X): x < 0 ? slope * x : x"),
    Op(46, "REDUCE_MEAN", "ReduceMean", 1, 1, "X (an activation, rank 1..6); any set of axes", REDUCE),
    Op(47, "REDUCE_SUM", "ReduceSum", 1, 1, "X (as REDUCE_MEAN)", REDUCE),
    Op(48, "REDUCE_MAX", "ReduceMax", 1, 1, "X (as REDUCE_MEAN)", REDUCE),
    Op(49, "REDUCE_MIN", "ReduceMin", 1, 1, "X (as REDUCE_MEAN)", REDUCE),
    Op(50, "LAYER_NORM", "LayerNorm", 2, 3,
       "X, scale, bias (opt.; scale and bias constants of X's dims axis..rank-1): "
       "(x - mean) / sqrt(var + epsilon) * scale + bias over those axes", NORM),
    Op(51, "INSTANCE_NORM", "InstanceNorm", 3, 3,
       "X [N,C,...], scale [C], bias [C]: per (n, c), (x - mean) / sqrt(var + epsilon) * scale + bias", NORM),
    Op(52, "MATMUL", "MatMul", 2, 2,
       "A [..., M, K], B [..., K, N] (rank 2..6, batch dims broadcast; either may be constant) -> [..., M, N]"),
    Op(53, "LOG_SOFTMAX", "LogSoftmax", 1, 1, "X: x - max - log(sum(exp(x - max))) along the axis", AXIS),
    Op(54, "ARGMAX", "ArgMax", 1, 1,
       "X (an activation, rank 1..6) -> the index of the maximum along the axis, as f32 (exact below 2^24)", ARGMAX),
)

ACTIVATION_KINDS: tuple[Activation, ...] = (
    Activation(0, "NONE", "x"),
    Activation(1, "CLIP", "min(max(x, param0), param1); Relu is CLIP(0, +inf), Relu6 CLIP(0, 6)"),
    Activation(2, "HARDSIGMOID", "max(0, min(1, param0 * x + param1))"),
    Activation(3, "HARDSWISH", "x * max(0, min(1, x / 6 + 1/2))"),
    Activation(4, "SIGMOID", "1 / (1 + exp(-x))"),
    Activation(5, "LEAKYRELU", "x < 0 ? param0 * x : x (LeakyRelu; PRelu with one slope)"),
    Activation(6, "ELU", "x < 0 ? param0 * (exp(x) - 1) : x"),
    Activation(7, "SILU", "x / (1 + exp(-x)) (SiLU, Swish)"),
    Activation(8, "GELU", "x / 2 * (1 + erf(x / sqrt(2)))"),
    Activation(9, "GELU_TANH", "x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))"),
    Activation(10, "SQRT", "sqrt(x)"),
    Activation(11, "EXP", "exp(x)"),
    Activation(12, "TANH", "tanh(x)"),
    Activation(13, "ABS", "abs(x)"),
    Activation(14, "NEG", "-x"),
    Activation(15, "RECIPROCAL", "1 / x"),
    Activation(16, "ERF", "erf(x)"),
    Activation(17, "LOG", "log(x)"),
    Activation(18, "SOFTPLUS", "log(1 + exp(x))"),
)

# ---- tables derived from the spec (what the writer, the reader and the converter use) ----
OPS: dict[str, int] = {op.name: op.code for op in OPERATORS}
OP_NAMES: dict[int, str] = {op.code: op.name for op in OPERATORS}
BY_NAME: dict[str, Op] = {op.name: op for op in OPERATORS}
SBN_OP_FOR_IR: dict[str, str] = {op.ir: op.name for op in OPERATORS}
ACTIVATIONS: dict[str, int] = {a.name: a.code for a in ACTIVATION_KINDS}
ACTIVATION_NAMES: dict[int, str] = {a.code: a.name for a in ACTIVATION_KINDS}


def slot_names(layout: Layout | None) -> tuple[str, ...]:
    """One name per attrs[] entry: array slots are name0, name1, ...; reserved entries are ''."""
    if layout is None:
        return ()
    names: list[str] = []
    for s in layout.slots:
        if s.length == 1 or not s.name:
            names += [s.name] * s.length
        else:
            names += [f"{s.name}{i}" for i in range(s.length)]
    return tuple(names)


ATTR_NAMES: dict[str, tuple[str, ...]] = {op.name: slot_names(op.layout) for op in OPERATORS if op.layout}

AttrValue = int | Sequence[int]


def pack_attrs(op: str, attrs: Mapping[str, AttrValue] | Sequence[int] | None, node: str = "") -> list[int]:
    """The NUM_ATTRS i32 attrs of a node. A mapping names slots of the op's layout (an array slot takes a sequence of
    at most its length, the rest is 0); a sequence is taken as raw attrs[] values (tests of malformed files)."""
    where = f"node {node!r} ({op})"
    if op not in BY_NAME:
        raise ValueError(f"node {node!r}: unknown op {op!r}")
    if attrs is None or not isinstance(attrs, Mapping):
        vec = [int(v) for v in (attrs or [])]
        if len(vec) > NUM_ATTRS:
            raise ValueError(f"node {node!r}: more than {NUM_ATTRS} attributes")
        return vec + [0] * (NUM_ATTRS - len(vec))
    layout = BY_NAME[op].layout
    slots = {s.name: (s, off) for s, off in layout.offsets() if s.name} if layout else {}
    unknown = set(attrs) - set(slots)
    if unknown:
        raise ValueError(f"{where}: unknown attributes {sorted(unknown)}")
    vec = [0] * NUM_ATTRS
    for key, value in attrs.items():
        slot, off = slots[key]
        if slot.length == 1:
            if hasattr(value, "__iter__"):
                raise ValueError(f"{where}: attribute {key!r} takes one integer, got {value!r}")
            vec[off] = int(value)  # type: ignore[arg-type]
        else:
            if not hasattr(value, "__iter__"):
                raise ValueError(f"{where}: attribute {key!r} takes a sequence of integers, got {value!r}")
            values = [int(v) for v in value]  # type: ignore[union-attr]
            if len(values) > slot.length:
                raise ValueError(f"{where}: attribute {key!r} takes at most {slot.length} values, got {len(values)}")
            vec[off:off + len(values)] = values
    return vec


def _check_spec() -> None:
    """Invariants of the table itself, checked at import so a bad entry fails every user at once."""
    codes = [op.code for op in OPERATORS]
    # gaps are fine (blocks of codes are reserved per area); codes are the file format
    if codes[0] < 1 or any(b <= a for a, b in zip(codes, codes[1:], strict=False)):
        raise AssertionError(f"op codes must be >= 1 and increasing, are {codes}")
    if len(OPS) != len(OPERATORS) or len(SBN_OP_FOR_IR) != len(OPERATORS):
        raise AssertionError("op names and IR names must be unique")
    if [a.code for a in ACTIVATION_KINDS] != list(range(len(ACTIVATION_KINDS))):
        raise AssertionError("activation codes must be 0..n-1 in order")
    for op in OPERATORS:
        if not 1 <= op.min_inputs <= op.max_inputs <= MAX_NODE_INPUTS:
            raise AssertionError(f"{op.name}: arity {op.min_inputs}..{op.max_inputs}")
        if op.layout and op.layout.size > NUM_ATTRS:
            raise AssertionError(f"{op.name}: layout {op.layout.name} needs {op.layout.size} > {NUM_ATTRS} attrs")


_check_spec()
