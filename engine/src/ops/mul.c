/* MUL: elementwise with numpy broadcasting (implementation shared with the other binary op in binary.c). */
#include "binary.h"

static sb_status prepare(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_MUL); }

const sb_op_def sb_op_mul = SB_OP_DEF(MUL, prepare, sb_binary_run, 1);
