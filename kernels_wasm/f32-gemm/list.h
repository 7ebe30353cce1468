/* f32-gemm WASM SIMD128 kernels: SB_UKERNEL(f32_gemm, fn, channel_tile, pixel_tile), best first. */
SB_UKERNEL(f32_gemm, sb_f32_gemm_ukernel__wasmsimd_4x8, 4, 8)
