/* RESHAPE (Flatten, Reshape, Squeeze, Unsqueeze): same elements, new shape. Without a fused activation the output
 * shares its input's storage (plan.c extends the storage's lifetime); otherwise it copies. */
#include <string.h>

#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  sb_status st = sb_check_f32(m, n, 0, "X");
  if (st != SB_OK) return st;
  if (x->count != y->count) {
    char a[96], b[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' %s has %zu elements, output '%s' %s has %zu", x->name,
                        sb_shape_str(x, a, sizeof a), x->count, y->name, sb_shape_str(y, b, sizeof b), y->count);
  }
  n->aliases_input = !x->is_constant && n->act.kind == SB_ACT_NONE;
  n->kernel_name = n->aliases_input ? "alias" : "ref_copy";
  return SB_OK;
}

static void run(sb_model* m, sb_node* n) {
  sb_tensor* y = sb_output(m, n);
  const float* x = sb_f32(sb_input(m, n, 0));
  if (x != y->data) memcpy(y->data, x, y->count * sizeof(float));
}

const sb_op_def sb_op_reshape = SB_OP_DEF(RESHAPE, prepare, run, 0);
