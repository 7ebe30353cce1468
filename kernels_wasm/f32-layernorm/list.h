/* f32-layernorm WASM SIMD128 kernels: SB_UKERNEL(f32_layernorm, fn, 0, 0). */
SB_UKERNEL(f32_layernorm, sb_f32_layernorm_ukernel__wasmsimd, 0, 0)
