/* Operator definitions (one file each) and the checks they share. */
#ifndef SB_OPS_H
#define SB_OPS_H

#include "../internal.h"

/* One sb_op_def per operator of the spec (op_spec.h), named sb_op_<name>, each defined in its own file with
 * SB_OP_DEF, which takes the op's name and arity from the spec. */
#define SB_DECLARE_OP(NAME, name) extern const sb_op_def sb_op_##name;
SB_OP_LIST(SB_DECLARE_OP)
#undef SB_DECLARE_OP
#define SB_OP_DEF(NAME, prepare, run, fuses_activation) \
  {#NAME, SB_OP_##NAME##_MIN_INPUTS, SB_OP_##NAME##_MAX_INPUTS, (prepare), (run), (fuses_activation)}

static inline sb_tensor* sb_input(const sb_model* m, const sb_node* n, int k) { return &m->tensors[n->inputs[k]]; }
static inline sb_tensor* sb_output(const sb_model* m, const sb_node* n) { return &m->tensors[n->output]; }
/* Data of a tensor as f32: constants point into the file copy, activations into the arena. */
static inline const float* sb_f32(const sb_tensor* t) {
  return t->is_constant ? (const float*)t->const_data : t->data;
}

/* Input k is an activation (not a constant) of the given rank (-1: any). */
sb_status sb_check_activation(const sb_model* m, const sb_node* n, int k, const char* role, int rank);
/* Input k is an f32 constant with exactly these dims. */
sb_status sb_check_constant(const sb_model* m, const sb_node* n, int k, const char* role, int32_t dtype, int rank,
                            const int32_t* dims);
/* Any input k is f32 (activation or constant). */
sb_status sb_check_f32(const sb_model* m, const sb_node* n, int k, const char* role);
/* The output tensor has exactly these dims. */
sb_status sb_check_output(const sb_model* m, const sb_node* n, int rank, const int32_t* dims);
/* Optional bias input k ([cout] f32 constant) or a zero buffer owned by *owned. */
sb_status sb_bias_or_zeros(const sb_model* m, const sb_node* n, int k, int32_t cout, const float** bias,
                           float** owned);

/* Group-sparse weights from inputs first..first+2 (nnz, index, values): checks everything in docs/format.md
 * "Group-sparse weights" and derives group_start (owned by *group_start_owned). */
sb_status sb_prepare_sparse(const sb_model* m, const sb_node* n, int first, int32_t cout, int32_t cin,
                            int32_t kernel_size, int32_t group, sb_sparse_weights* w, int32_t** group_start_owned);
int64_t sb_sparse_kept_macs(const sb_sparse_weights* w); /* per output pixel */

/* Conv attrs (docs/format.md) checked against X (input 0, [N,Cin,H,W]) and the output [N,cout,OH,OW]. */
sb_status sb_conv_geometry(const sb_model* m, const sb_node* n, int32_t cout, sb_conv_shape* s);
/* Registry params for conv-like kernels: specialised kernels assume square kernels and strides and dilation 1,
 * so anything else gets -1 and only the generic (0 = any) entries fit. */
int32_t sb_conv_kernel_param(const sb_conv_shape* s);
int32_t sb_conv_stride_param(const sb_conv_shape* s);

/* The sb_parallel_for context of the one-input row loops (resize, slice, expand, gather, reduce, transpose):
 * s is the op's own state (n->state), read back as its type in the row function. */
typedef struct sb_rows_job {
  const void* s;
  const float* x;
  float* y;
} sb_rows_job;

/* Conv execution shared by CONV and CONV_SPARSE. */
typedef enum { SB_CONV_GEMM, SB_CONV_SPMM, SB_CONV_DIRECT, SB_CONV_DIRECT_SPARSE } sb_conv_mode;
typedef struct sb_conv_state {
  sb_conv_mode mode;
  sb_conv_shape shape;
  const float* weights; /* dense modes */
  const float* bias;
  sb_sparse_weights sparse; /* sparse modes */
  void (*fn)(void);
} sb_conv_state;
void sb_conv_run(sb_model* m, sb_node* n);
/* Groups [g0, g1) of sparse weights as weights of their own; *first is their first output channel. The kernels read
 * group_start[g] as absolute offsets into index/values. */
sb_sparse_weights sb_sparse_group_block(const sb_sparse_weights* all, size_t g0, size_t g1, size_t* first);

/* Applies the node's activation in place (ops without a fused epilogue). */
void sb_apply_activation(const sb_activation* act, float* data, size_t count);

#endif /* SB_OPS_H */
