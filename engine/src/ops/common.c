/* Checks shared by the operators: input roles, output shape, bias, group-sparse weights. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

sb_status sb_check_activation(const sb_model* m, const sb_node* n, int k, const char* role, int rank) {
  const sb_tensor* t = sb_input(m, n, k);
  char shape[96];
  if (t->is_constant)
    return SB_NODE_FAIL(SB_ERR_UNSUPPORTED, n, "input %s '%s' is a constant; this engine needs an activation", role,
                        t->name);
  if (rank >= 0 && t->rank != rank)
    return SB_NODE_FAIL(rank == 4 || rank == 2 ? SB_ERR_UNSUPPORTED : SB_ERR_FORMAT, n,
                        "input %s '%s' has shape %s, expected rank %d", role, t->name,
                        sb_shape_str(t, shape, sizeof shape), rank);
  return SB_OK;
}

sb_status sb_check_f32(const sb_model* m, const sb_node* n, int k, const char* role) {
  const sb_tensor* t = sb_input(m, n, k);
  if (t->dtype != SB_DTYPE_F32) return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input %s '%s' must be f32", role, t->name);
  return SB_OK;
}

static int dims_equal(const sb_tensor* t, int rank, const int32_t* dims) {
  if (t->rank != rank) return 0;
  for (int d = 0; d < rank; d++)
    if (t->dims[d] != dims[d]) return 0;
  return 1;
}

static const char* dims_str(int rank, const int32_t* dims, char* buf, size_t size) {
  sb_tensor tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.rank = rank;
  memcpy(tmp.dims, dims, (size_t)rank * sizeof *dims);
  return sb_shape_str(&tmp, buf, size);
}

sb_status sb_check_constant(const sb_model* m, const sb_node* n, int k, const char* role, int32_t dtype, int rank,
                            const int32_t* dims) {
  const sb_tensor* t = sb_input(m, n, k);
  char have[96], want[96];
  if (!t->is_constant) return SB_NODE_FAIL(SB_ERR_UNSUPPORTED, n, "input %s '%s' must be a constant", role, t->name);
  if (t->dtype != dtype)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input %s '%s' must be %s", role, t->name,
                        dtype == SB_DTYPE_F32 ? "f32" : "i32");
  if (!dims_equal(t, rank, dims))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input %s '%s' has shape %s, expected %s", role, t->name,
                        sb_shape_str(t, have, sizeof have), dims_str(rank, dims, want, sizeof want));
  return SB_OK;
}

sb_status sb_check_output(const sb_model* m, const sb_node* n, int rank, const int32_t* dims) {
  const sb_tensor* t = sb_output(m, n);
  char have[96], want[96];
  if (!dims_equal(t, rank, dims))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' has shape %s, the operator computes %s", t->name,
                        sb_shape_str(t, have, sizeof have), dims_str(rank, dims, want, sizeof want));
  return SB_OK;
}

sb_status sb_bias_or_zeros(const sb_model* m, const sb_node* n, int k, int32_t cout, const float** bias,
                           float** owned) {
  if (k < n->num_inputs) {
    sb_status st = sb_check_constant(m, n, k, "bias", SB_DTYPE_F32, 1, &cout);
    if (st != SB_OK) return st;
    *bias = (const float*)sb_input(m, n, k)->const_data;
    return SB_OK;
  }
  *owned = calloc((size_t)cout, sizeof(float));
  if (!*owned) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  *bias = *owned;
  return SB_OK;
}

sb_status sb_prepare_sparse(const sb_model* m, const sb_node* n, int first, int32_t cout, int32_t cin,
                            int32_t kernel_size, int32_t group, sb_sparse_weights* w, int32_t** group_start_owned) {
  if (group != 1 && group != 2 && group != 4 && group != 8)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "group size G=%d, must be 1, 2, 4 or 8", group);
  int32_t ng = (cout + group - 1) / group;
  sb_status st = sb_check_constant(m, n, first, "nnz", SB_DTYPE_I32, 1, &ng);
  if (st != SB_OK) return st;
  const sb_tensor* index_t = sb_input(m, n, first + 1);
  const sb_tensor* values_t = sb_input(m, n, first + 2);
  const int32_t* nnz = (const int32_t*)sb_input(m, n, first)->const_data;
  int64_t total = 0;
  for (int32_t g = 0; g < ng; g++) {
    if (nnz[g] < 0 || nnz[g] > cin)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "nnz[%d]=%d out of range 0..Cin=%d", g, nnz[g], cin);
    total += nnz[g];
  }
  if (index_t->rank != 1 || (int64_t)index_t->count != total) {
    char shape[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "sum(nnz)=%lld but index '%s' has shape %s", (long long)total, index_t->name,
                        sb_shape_str(index_t, shape, sizeof shape));
  }
  st = sb_check_constant(m, n, first + 1, "index", SB_DTYPE_I32, 1, &index_t->dims[0]);
  if (st != SB_OK) return st;
  int32_t values_dims[3] = {(int32_t)total, kernel_size, group};
  if ((st = sb_check_constant(m, n, first + 2, "values", SB_DTYPE_F32, 3, values_dims)) != SB_OK) return st;

  const int32_t* index = (const int32_t*)index_t->const_data;
  const float* values = (const float*)values_t->const_data;
  int32_t* group_start = malloc(((size_t)ng + 1) * sizeof *group_start);
  if (!group_start) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  *group_start_owned = group_start;
  group_start[0] = 0;
  for (int32_t g = 0; g < ng; g++) {
    int32_t begin = group_start[g], end = begin + nnz[g];
    group_start[g + 1] = end;
    for (int32_t j = begin; j < end; j++) {
      if (index[j] < 0 || index[j] >= cin)
        return SB_NODE_FAIL(SB_ERR_FORMAT, n, "index[%d]=%d >= Cin=%d (group %d)", j, index[j], cin, g);
      if (j > begin && index[j] <= index[j - 1])
        return SB_NODE_FAIL(SB_ERR_FORMAT, n, "index[%d]=%d after index[%d]=%d: not strictly ascending in group %d", j,
                            index[j], j - 1, index[j - 1], g);
    }
  }
  /* Padding lanes of the last group must be zero: kernels may compute them and rely on it. */
  int32_t live_lanes = cout - (ng - 1) * group;
  for (int32_t j = group_start[ng - 1]; j < group_start[ng]; j++)
    for (int32_t k = 0; k < kernel_size; k++)
      for (int32_t l = live_lanes; l < group; l++)
        if (values[((size_t)j * (size_t)kernel_size + (size_t)k) * (size_t)group + (size_t)l] != 0.0f)
          return SB_NODE_FAIL(SB_ERR_FORMAT, n, "values[%d][%d][%d] is a padding lane past Cout=%d but not zero", j, k,
                              l, cout);
  w->out_channels = cout;
  w->in_channels = cin;
  w->kernel_size = kernel_size;
  w->group = group;
  w->num_groups = ng;
  w->nnz = nnz;
  w->group_start = group_start;
  w->index = index;
  w->values = values;
  w->bias = NULL;
  return SB_OK;
}

int64_t sb_sparse_kept_macs(const sb_sparse_weights* w) {
  int64_t macs = 0;
  for (int32_t g = 0; g < w->num_groups; g++) {
    int32_t lanes = w->out_channels - g * w->group;
    if (lanes > w->group) lanes = w->group;
    macs += (int64_t)w->nnz[g] * lanes * w->kernel_size;
  }
  return macs;
}

void sb_apply_activation(const sb_activation* act, float* data, size_t count) {
  if (act->kind == SB_ACT_NONE) return;
  for (size_t i = 0; i < count; i++) data[i] = sb_activate(act, data[i]);
}
