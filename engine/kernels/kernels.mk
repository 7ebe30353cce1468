# Portable scalar kernels and the kernel registry, for every build (engine, tests, Python package).
# Paths are relative to the repository root. Compile with -Iengine/include -Iengine/kernels -I.
SCALAR_KERNEL_SRCS = \
	engine/kernels/f32-spmm/scalar.c \
	engine/kernels/f32-gemm/scalar.c \
	engine/kernels/f32-conv/scalar.c \
	engine/kernels/f32-dwconv/scalar.c \
	engine/kernels/f32-spconv/scalar.c \
	engine/kernels/f32-pool/scalar.c \
	engine/kernels/f32-gavgpool/scalar.c \
	engine/kernels/f32-vbinary/scalar.c \
	engine/kernels/f32-vunary/scalar.c \
	engine/kernels/f32-layernorm/scalar.c \
	engine/kernels/f32-softmax/scalar.c \
	engine/kernels/f32-resize/scalar.c \
	engine/kernels/f32-transpose/scalar.c \
	engine/kernels/config/scalar.c \
	engine/kernels/registry.c
