/* MAX_POOL and AVG_POOL share their checks and loop (pool.c). */
#ifndef SB_OPS_POOL_H
#define SB_OPS_POOL_H

#include "ops.h"

sb_status sb_pool_prepare(sb_model* m, sb_node* n, sb_kernel_family family);
void sb_pool_run(sb_model* m, sb_node* n);

#endif
