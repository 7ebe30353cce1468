# NEON kernels (aarch64, or x86 through SIMDe with -DSB_NEON_SIMDE -mfma). Paths relative to the repository root;
# compile with -DSB_ARCH_NEON -Iengine/include -Iengine/kernels -I.
NEON_KERNEL_SRCS := $(sort $(wildcard kernels_arm/*/*.c))
