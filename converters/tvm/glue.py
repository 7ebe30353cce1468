"""Writes <model>_tvm.c: one adapter per generated kernel with the engine family's signature, and sb_tvm_lookup().

An adapter runs its TVM kernel only for the call it was generated for (whole node, same shapes, same activation);
any other call (a thread's slice, another model with the same node name) goes to the kernel dispatch chose."""

from __future__ import annotations

import math

from .layers import CONV, DWCONV, GEMM, SPMM, Layer

FAMILY_ENUM = {GEMM: "SB_FAMILY_F32_GEMM", SPMM: "SB_FAMILY_F32_SPMM", DWCONV: "SB_FAMILY_F32_DWCONV",
               CONV: "SB_FAMILY_F32_CONV"}


def _c_float(v: float) -> str:
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return f"{v!r}f"


def _c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _act_check(layer: Layer) -> str:
    return (f"act->kind == {layer.act_kind} && act->p0 == {_c_float(layer.act_p0)} && "
            f"act->p1 == {_c_float(layer.act_p1)}")


def _shape_check(layer: Layer) -> str:
    return (f"s->in_c == {layer.in_c} && s->in_h == {layer.in_h} && s->in_w == {layer.in_w} && "
            f"s->out_c == {layer.out_c} && s->out_h == {layer.out_h} && s->out_w == {layer.out_w} && "
            f"s->kh == {layer.kh} && s->kw == {layer.kw} && s->stride_h == {layer.stride} && "
            f"s->stride_w == {layer.stride} && s->pad_top == {layer.pad_top} && s->pad_left == {layer.pad_left} && "
            f"s->dil_h == 1 && s->dil_w == 1 && oy_begin == 0 && oy_end == {layer.out_h}")


def _adapter(layer: Layer, symbol: str) -> str:
    fb = f"fallback_{symbol}"
    p, k = layer.pixels, layer.kh
    if layer.kind == GEMM:
        return f"""static void (*{fb})(void);
static void adapter_{symbol}(size_t pixels, size_t plane_stride, size_t out_channels, size_t in_channels,
                             const float* weights, const float* bias, const float* input, float* output,
                             const sb_activation* act) {{
  static const int64_t sx[] = {{{layer.in_c}, {p}}}, sw[] = {{{layer.out_c}, {layer.in_c}}}, sb[] = {{{layer.out_c}}},
                       sy[] = {{{layer.out_c}, {p}}};
  static const int64_t* const shapes[] = {{sx, sw, sb, sy}};
  static const int32_t ndims[] = {{2, 2, 1, 2}};
  void* data[] = {{(void*)input, (void*)weights, (void*)bias, output}};
  if (pixels == {p} && plane_stride == {p} && out_channels == {layer.out_c} && in_channels == {layer.in_c} &&
      {_act_check(layer)} && __tvm_ffi_{symbol} && sb_tvm_call_f32(__tvm_ffi_{symbol}, 4, data, shapes, ndims) == 0)
    return;
  ((sb_f32_gemm_ukernel*){fb})(pixels, plane_stride, out_channels, in_channels, weights, bias, input, output, act);
}}
"""
    if layer.kind == SPMM:
        g, ng, t = layer.group, layer.out_c // layer.group, max(layer.kept, 1)
        return f"""static void (*{fb})(void);
static void adapter_{symbol}(size_t pixels, size_t plane_stride, const sb_sparse_weights* w, const float* input,
                             float* output, const sb_activation* act) {{
  static const int64_t sx[] = {{{layer.in_c}, {p}}}, sv[] = {{{t * g}}}, sb[] = {{{layer.out_c}}}, si[] = {{{t}}},
                       ss[] = {{{ng + 1}}}, sy[] = {{{layer.out_c}, {p}}};
  static const int64_t* const shapes[] = {{sx, sv, sb, si, ss, sy}};
  static const int32_t ndims[] = {{2, 1, 1, 1, 1, 2}};
  static const uint8_t is_i32[] = {{0, 0, 0, 1, 1, 0}};
  void* data[] = {{(void*)input, (void*)w->values, (void*)w->bias, (void*)w->index, (void*)w->group_start, output}};
  if (pixels == {p} && plane_stride == {p} && w->out_channels == {layer.out_c} && w->in_channels == {layer.in_c} &&
      w->kernel_size == 1 && w->group == {g} && w->num_groups == {ng} && w->group_start[{ng}] == {layer.kept} &&
      {_act_check(layer)} && __tvm_ffi_{symbol} &&
      sb_tvm_call(__tvm_ffi_{symbol}, 6, data, shapes, ndims, is_i32) == 0)
    return;
  ((sb_f32_spmm_ukernel*){fb})(pixels, plane_stride, w, input, output, act);
}}
"""
    cin_w = 1 if layer.kind == DWCONV else layer.in_c
    w_shape = f"{layer.out_c}, {k}, {k}" if layer.kind == DWCONV else f"{layer.out_c}, {cin_w}, {k}, {k}"
    w_ndim = 3 if layer.kind == DWCONV else 4
    groups = layer.in_c if layer.kind == DWCONV else 1
    return f"""static void (*{fb})(void);
static void adapter_{symbol}(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                             float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {{
  static const int64_t sx[] = {{{layer.in_c}, {layer.in_h}, {layer.in_w}}}, sw[] = {{{w_shape}}},
                       sb[] = {{{layer.out_c}}}, sy[] = {{{layer.out_c}, {layer.out_h}, {layer.out_w}}};
  static const int64_t* const shapes[] = {{sx, sw, sb, sy}};
  static const int32_t ndims[] = {{3, {w_ndim}, 1, 3}};
  void* data[] = {{(void*)input, (void*)weights, (void*)bias, output}};
  if ({_shape_check(layer)} && s->groups == {groups} &&
      {_act_check(layer)} && __tvm_ffi_{symbol} && sb_tvm_call_f32(__tvm_ffi_{symbol}, 4, data, shapes, ndims) == 0)
    return;
  ((sb_f32_conv_ukernel*){fb})(s, weights, bias, input, output, act, oy_begin, oy_end);
}}
"""


def write_glue(path, model_name: str, chosen: list[tuple[Layer, str]]) -> None:
    """`chosen`: (layer, kernel symbol) pairs whose TVM kernel the runner uses."""
    parts = [f"""/* Generated by sparsebyte.converters.tvm for {model_name}: do not edit.
 * Adapters from the engine's kernel families to the TVM kernels of this model's layers,
 * and the sb_tvm_lookup() hook (engine/tvm/sb_tvm.h). */
#include <math.h>
#include <string.h>

#include "sb_kernels.h"
#include "sb_tvm.h"
"""]
    for _layer, symbol in chosen:
        parts.append(f"extern sb_tvm_packed_fn __tvm_ffi_{symbol} __attribute__((weak));\n")
    for layer, symbol in chosen:
        parts.append("\n/* " + layer.name.replace("*/", "* /") + " */\n" + _adapter(layer, symbol))
    rows = []
    for layer, symbol in chosen:
        rows.append(f"  {{{_c_string(layer.name)}, {FAMILY_ENUM[layer.kind]}, "
                    f"{{\"tvm_{symbol}\", \"tvm\", (void (*)(void))adapter_{symbol}, 0, 0}}, "
                    f"&fallback_{symbol}}},")
    table = "\n".join(rows) if rows else '  {"", SB_FAMILY_COUNT, {"", "tvm", NULL, 0, 0}, NULL},'
    parts.append(f"""
typedef struct tvm_node_kernel {{
  const char* node;
  sb_kernel_family family;
  sb_kernel_entry entry;
  void (**fallback)(void);
}} tvm_node_kernel;

static const tvm_node_kernel table[] = {{
{table}
}};

const sb_kernel_entry* sb_tvm_lookup(const char* node_name, sb_kernel_family family, const sb_kernel_entry* chosen) {{
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].fallback && table[i].family == family && strcmp(table[i].node, node_name) == 0) {{
      *table[i].fallback = chosen->fn;
      return &table[i].entry;
    }}
  return NULL;
}}
""")
    with open(path, "w") as f:
        f.write("".join(parts))
