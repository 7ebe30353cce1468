/* f32-pool WASM SIMD128 kernels: SB_UKERNEL(f32_maxpool | f32_avgpool, fn, kernel_size (0 = any), stride (0 = any)). */
SB_UKERNEL(f32_maxpool, sb_f32_maxpool_ukernel__wasmsimd, 0, 0)
SB_UKERNEL(f32_avgpool, sb_f32_avgpool_ukernel__wasmsimd, 0, 0)
SB_UKERNEL(f32_avgpool, sb_f32_avgpool_ukernel__wasmsimd_global, 0, 0)
