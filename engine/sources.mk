# Engine source lists, for the top-level Makefile and any other build (Python extension, wasm).
# Paths are relative to the repository root.
ENGINE_SRCS := $(sort $(wildcard engine/src/*.c) $(wildcard engine/src/ops/*.c))
REF_KERNEL_SRCS := $(sort $(wildcard engine/kernels/*/scalar.c)) $(wildcard engine/kernels/registry.c)
TOOL_SRCS := engine/tools/sparsebyte_run.c engine/tools/npy.c
