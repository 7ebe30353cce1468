/* MAX_POOL through f32_maxpool (checks and loop in pool.c). */
#include "pool.h"

static sb_status prepare(sb_model* m, sb_node* n) { return sb_pool_prepare(m, n, SB_FAMILY_F32_MAXPOOL); }

const sb_op_def sb_op_max_pool = SB_OP_DEF(MAX_POOL, prepare, sb_pool_run, 1);
