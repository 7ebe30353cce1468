/* WASM SIMD128 forms of every activation kind (engine/kernels/sb_vmath.h through common/wasm_act.h): one vector of
 * any kind (the epilogues' path for the transcendental kinds) and whole buffers with the kind dispatched once. */
#include "kernels_wasm/common/wasm_act.h"

v128_t sb_wasm_act_vec(const sb_activation* a, v128_t x) {
#define SB_ONE(K) x = sb_v_activate(K, a, x)
  SB_V_KIND_SWITCH(a->kind, SB_ONE)
#undef SB_ONE
  return x;
}

/* y[i] = act(x[i]) for a compile-time kind; the last n % 4 through a padded vector, so that every element gets the
 * vector result wherever a thread's range starts or ends. */
SB_WASM_INLINE void act_rows(const int kind, const sb_activation* act, const float* x, float* y, size_t n) {
  const sb_activation local = *act; /* the stores to y could alias *act: a copy keeps the parameters in registers */
  const sb_activation* a = &local;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t u = wasm_v128_load(x + i), v = wasm_v128_load(x + i + 4);
    wasm_v128_store(y + i, sb_v_activate(kind, a, u));
    wasm_v128_store(y + i + 4, sb_v_activate(kind, a, v));
  }
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, sb_v_activate(kind, a, wasm_v128_load(x + i)));
  if (i < n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t k = 0; k < n - i; k++) t[k] = x[i + k];
    wasm_v128_store(t, sb_v_activate(kind, a, wasm_v128_load(t)));
    for (size_t k = 0; k < n - i; k++) y[i + k] = t[k];
  }
}

void sb_wasm_act_array(const sb_activation* a, const float* x, float* y, size_t n) {
#define SB_ROWS(K) act_rows(K, a, x, y, n)
  SB_V_KIND_SWITCH(a->kind, SB_ROWS)
#undef SB_ROWS
}
