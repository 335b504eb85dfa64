/* f32_gemm_6x16__ref: the scalar reference GEMM micro-kernel (see kernels_f32.h). */
#include "../../src/kernels_f32.h"
#include "../../src/model.h"

void f32_gemm_6x16__ref(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act) {
  float acc[F32_MR][F32_NR] = {{0}};
  for (size_t kk = 0; kk < k; kk++)
    for (int r = 0; r < F32_MR; r++)
      for (int j = 0; j < F32_NR; j++) acc[r][j] += a[kk * F32_MR + r] * b[kk * F32_NR + j];
  for (int r = 0; r < F32_MR; r++)
    for (int j = 0; j < F32_NR; j++) {
      float y = acc[r][j] + bias[r];
      if (act == ACT_RELU || act == ACT_RELU6) y = y > 0.0f ? y : 0.0f;
      if (act == ACT_RELU6) y = y < 6.0f ? y : 6.0f;
      c[r * ldc + j] = y;
    }
}
