/* NEON f32-transpose: 4x4 register tiles (trn1/trn2 on 32- then 64-bit lanes). Two shapes get NEON's interleaving
 * loads and stores instead: a contiguous output block of 2..4 columns (channel-first -> channel-last with C <= 4,
 * DepthToSpace with block 2 or 4: st2/st3/st4 of 2..4 input rows), and a contiguous input block of 2..4 rows
 * (channel-last -> channel-first with C <= 4: ld2/ld3/ld4). Edges element by element. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-transpose/list.h"
#undef SB_UKERNEL

/* output[a * b_count + b] for b < B (2..4): one interleaving store per 4 values of a */
static void interleave(size_t a_count, size_t B, const float* in, size_t is, float* out) {
  size_t a = 0;
  if (B == 2) {
    for (; a + 4 <= a_count; a += 4) {
      const float32x4x2_t v = {{vld1q_f32(in + a), vld1q_f32(in + is + a)}};
      vst2q_f32(out + a * 2, v);
    }
  } else if (B == 3) {
    for (; a + 4 <= a_count; a += 4) {
      const float32x4x3_t v = {{vld1q_f32(in + a), vld1q_f32(in + is + a), vld1q_f32(in + 2 * is + a)}};
      vst3q_f32(out + a * 3, v);
    }
  } else {
    for (; a + 4 <= a_count; a += 4) {
      const float32x4x4_t v = {{vld1q_f32(in + a), vld1q_f32(in + is + a), vld1q_f32(in + 2 * is + a),
                                vld1q_f32(in + 3 * is + a)}};
      vst4q_f32(out + a * 4, v);
    }
  }
  for (; a < a_count; a++)
    for (size_t b = 0; b < B; b++) out[a * B + b] = in[b * is + a];
}

/* input[b * a_count + a] for a < A (2..4): one de-interleaving load per 4 values of b */
static void deinterleave(size_t A, size_t b_count, const float* in, float* out, size_t os) {
  size_t b = 0;
  if (A == 2) {
    for (; b + 4 <= b_count; b += 4) {
      const float32x4x2_t v = vld2q_f32(in + b * 2);
      vst1q_f32(out + b, v.val[0]);
      vst1q_f32(out + os + b, v.val[1]);
    }
  } else if (A == 3) {
    for (; b + 4 <= b_count; b += 4) {
      const float32x4x3_t v = vld3q_f32(in + b * 3);
      vst1q_f32(out + b, v.val[0]);
      vst1q_f32(out + os + b, v.val[1]);
      vst1q_f32(out + 2 * os + b, v.val[2]);
    }
  } else {
    for (; b + 4 <= b_count; b += 4) {
      const float32x4x4_t v = vld4q_f32(in + b * 4);
      vst1q_f32(out + b, v.val[0]);
      vst1q_f32(out + os + b, v.val[1]);
      vst1q_f32(out + 2 * os + b, v.val[2]);
      vst1q_f32(out + 3 * os + b, v.val[3]);
    }
  }
  for (; b < b_count; b++)
    for (size_t a = 0; a < A; a++) out[a * os + b] = in[b * A + a];
}

void sb_f32_transpose_ukernel__neon(size_t a_count, size_t b_count, const float* input, size_t in_stride,
                                    float* output, size_t out_stride) {
  if (out_stride == b_count && b_count >= 2 && b_count <= 4) {
    interleave(a_count, b_count, input, in_stride, output);
    return;
  }
  if (in_stride == a_count && a_count >= 2 && a_count <= 4) {
    deinterleave(a_count, b_count, input, output, out_stride);
    return;
  }
  size_t a = 0;
  for (; a + 4 <= a_count; a += 4) {
    const float* in = input + a;
    float* out = output + a * out_stride;
    size_t b = 0;
    for (; b + 4 <= b_count; b += 4) {
      const float32x4_t r0 = vld1q_f32(in + b * in_stride), r1 = vld1q_f32(in + (b + 1) * in_stride);
      const float32x4_t r2 = vld1q_f32(in + (b + 2) * in_stride), r3 = vld1q_f32(in + (b + 3) * in_stride);
      const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
      const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
      vst1q_f32(out + b, vcombine_f32(vget_low_f32(t0), vget_low_f32(t2)));
      vst1q_f32(out + out_stride + b, vcombine_f32(vget_low_f32(t1), vget_low_f32(t3)));
      vst1q_f32(out + 2 * out_stride + b, vcombine_f32(vget_high_f32(t0), vget_high_f32(t2)));
      vst1q_f32(out + 3 * out_stride + b, vcombine_f32(vget_high_f32(t1), vget_high_f32(t3)));
    }
    for (; b < b_count; b++) {
      const float32x4_t c = vld1q_f32(in + b * in_stride);
      out[b] = vgetq_lane_f32(c, 0);
      out[out_stride + b] = vgetq_lane_f32(c, 1);
      out[2 * out_stride + b] = vgetq_lane_f32(c, 2);
      out[3 * out_stride + b] = vgetq_lane_f32(c, 3);
    }
  }
  for (; a < a_count; a++) {
    float* out = output + a * out_stride;
    for (size_t b = 0; b < b_count; b++) out[b] = input[b * in_stride + a];
  }
}
