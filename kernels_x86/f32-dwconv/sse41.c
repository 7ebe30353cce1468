/* kernels_x86/f32-dwconv/dwconv.inc at the sse41 level (common/vec.h). */
#define SB_X86_LEVEL SB_X86_SSE41
#include "kernels_x86/common/vec.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_x86/f32-dwconv/list.h"
#undef SB_UKERNEL

#include "kernels_x86/f32-dwconv/dwconv.inc"
