/* f32-softmax WASM SIMD128 kernels: SB_UKERNEL(f32_softmax, fn, 0, 0). */
SB_UKERNEL(f32_softmax, sb_f32_softmax_ukernel__wasmsimd, 0, 0)
