/* web/src/index.js reads sb_tensor_info and sb_node_profile straight from wasm memory at these offsets; this file
 * makes the build fail if the C layout ever moves. */
#include <stddef.h>

#include "sparsebyte.h"

_Static_assert(sizeof(void*) == 4, "wasm32 expected");
_Static_assert(offsetof(sb_tensor_info, name) == 0 && offsetof(sb_tensor_info, rank) == 4 &&
                   offsetof(sb_tensor_info, dims) == 8 && offsetof(sb_tensor_info, count) == 32 &&
                   sizeof(sb_tensor_info) == 36,
               "sb_tensor_info layout changed: update TENSOR_INFO in web/src/index.js");
_Static_assert(offsetof(sb_node_profile, name) == 0 && offsetof(sb_node_profile, op) == 4 &&
                   offsetof(sb_node_profile, kernel) == 8 && offsetof(sb_node_profile, time_ms) == 16 &&
                   offsetof(sb_node_profile, macs) == 24 && offsetof(sb_node_profile, dense_macs) == 32 &&
                   offsetof(sb_node_profile, kernel_family) == 40 && sizeof(sb_node_profile) == 48,
               "sb_node_profile layout changed: update NODE_PROFILE in web/src/index.js");

/* An object file needs at least one definition. */
int sb_web_layout_checked(void) { return 1; }
