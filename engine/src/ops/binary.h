/* The binary elementwise ops share one implementation: same-shape and per-channel broadcast through the ADD/MUL
 * kernels, and a generic broadcast loop for every op. */
#ifndef SB_OPS_BINARY_H
#define SB_OPS_BINARY_H

#include "ops.h"

typedef enum {
  SB_BIN_ADD, SB_BIN_MUL, SB_BIN_SUB, SB_BIN_DIV, SB_BIN_MAX, SB_BIN_MIN, SB_BIN_POW, SB_BIN_PRELU
} sb_binary_kind;

sb_status sb_binary_prepare(sb_model* m, sb_node* n, sb_binary_kind kind);
void sb_binary_run(sb_model* m, sb_node* n);

#endif
