/* The activation forms of common/act.inc at the avx2 level. */
#define SB_X86_LEVEL SB_X86_AVX2
#include "kernels_x86/common/vec.h"
#include "kernels_x86/common/act.inc"
