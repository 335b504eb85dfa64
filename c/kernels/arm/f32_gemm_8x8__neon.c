/* f32_gemm_8x8__neon: 8x8 GEMM micro-kernel, NEON (AArch64 Advanced SIMD), 16 accumulators of 4
 * floats; A panels packed 8 rows wide by the shared panel packer (see kernels_f32.h). */
#include <arm_neon.h>

#include "../../src/kernels_f32.h"
#include "act__neon.h"

enum { MR = 8, NR = 8 };

static void gemm(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act,
                 int from_c) {
  float32x4_t acc[MR][2];
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = vdupq_n_f32(0.0f);
  if (from_c) /* the sum so far, from C */
    for (int r = 0; r < MR; r++) acc[r][0] = vld1q_f32(c + r * ldc), acc[r][1] = vld1q_f32(c + r * ldc + 4);
  for (size_t kk = 0; kk < k; kk++, a += MR, b += NR) {
    float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    acc[0][0] = vfmaq_laneq_f32(acc[0][0], b0, a0, 0), acc[0][1] = vfmaq_laneq_f32(acc[0][1], b1, a0, 0);
    acc[1][0] = vfmaq_laneq_f32(acc[1][0], b0, a0, 1), acc[1][1] = vfmaq_laneq_f32(acc[1][1], b1, a0, 1);
    acc[2][0] = vfmaq_laneq_f32(acc[2][0], b0, a0, 2), acc[2][1] = vfmaq_laneq_f32(acc[2][1], b1, a0, 2);
    acc[3][0] = vfmaq_laneq_f32(acc[3][0], b0, a0, 3), acc[3][1] = vfmaq_laneq_f32(acc[3][1], b1, a0, 3);
    acc[4][0] = vfmaq_laneq_f32(acc[4][0], b0, a1, 0), acc[4][1] = vfmaq_laneq_f32(acc[4][1], b1, a1, 0);
    acc[5][0] = vfmaq_laneq_f32(acc[5][0], b0, a1, 1), acc[5][1] = vfmaq_laneq_f32(acc[5][1], b1, a1, 1);
    acc[6][0] = vfmaq_laneq_f32(acc[6][0], b0, a1, 2), acc[6][1] = vfmaq_laneq_f32(acc[6][1], b1, a1, 2);
    acc[7][0] = vfmaq_laneq_f32(acc[7][0], b0, a1, 3), acc[7][1] = vfmaq_laneq_f32(acc[7][1], b1, a1, 3);
  }
  for (int r = 0; r < MR; r++) {
    float32x4_t bb = vdupq_n_f32(bias[r]);
    vst1q_f32(c + r * ldc, act_neon(vaddq_f32(acc[r][0], bb), act));
    vst1q_f32(c + r * ldc + 4, act_neon(vaddq_f32(acc[r][1], bb), act));
  }
}

const F32GemmDesc f32_gemm_8x8__neon_desc = {"f32_gemm_8x8__neon", MR, NR, gemm, f32_pack_a_panels, 0, NULL, NULL, 0, 0};
