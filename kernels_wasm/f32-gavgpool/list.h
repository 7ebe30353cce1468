/* f32-gavgpool WASM SIMD128 kernels: SB_UKERNEL(f32_gavgpool, fn, 0, 0). */
SB_UKERNEL(f32_gavgpool, sb_f32_gavgpool_ukernel__wasmsimd_x8, 0, 0)
