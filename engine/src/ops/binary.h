/* ADD and MUL share one implementation: same-shape, per-channel broadcast, and a generic broadcast loop. */
#ifndef SB_OPS_BINARY_H
#define SB_OPS_BINARY_H

#include "ops.h"

sb_status sb_binary_prepare(sb_model* m, sb_node* n, int is_mul);
void sb_binary_run(sb_model* m, sb_node* n);

#endif
