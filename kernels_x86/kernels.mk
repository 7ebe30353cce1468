# x86-64 kernels (SSE4.1, AVX2+FMA, AVX-512F in one build; the CPU is asked at load which level runs:
# engine/kernels/registry.h). Every kernels_x86/<family>/*.c, common/*.c and config/x86.c (the choice table). Each
# level's file enables its instruction set itself (common/vec.h: #pragma GCC target), so the build needs no per-file
# flags. Paths are relative to the repository root; compile with gcc and -DSB_ARCH_X86.
X86_KERNEL_SRCS := $(sort $(wildcard kernels_x86/*/*.c))
