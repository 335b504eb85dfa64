/* f32_gemm_6x16__avx2: 6x16 GEMM micro-kernel, AVX2 + FMA, 12 accumulators (see kernels_f32.h). */
#include <immintrin.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"

enum { MR = 6, NR = 16 };

static void gemm(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act,
                 int acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (acc) { /* the sum so far, from C */
#define LOAD(r, x0, x1) x0 = _mm256_loadu_ps(c + r * ldc), x1 = _mm256_loadu_ps(c + r * ldc + 8)
    LOAD(0, c00, c01), LOAD(1, c10, c11), LOAD(2, c20, c21), LOAD(3, c30, c31), LOAD(4, c40, c41), LOAD(5, c50, c51);
#undef LOAD
  }
  for (size_t kk = 0; kk < k; kk++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 a0 = _mm256_broadcast_ss(a + 0), a1 = _mm256_broadcast_ss(a + 1);
    c00 = _mm256_fmadd_ps(a0, b0, c00), c01 = _mm256_fmadd_ps(a0, b1, c01);
    c10 = _mm256_fmadd_ps(a1, b0, c10), c11 = _mm256_fmadd_ps(a1, b1, c11);
    a0 = _mm256_broadcast_ss(a + 2), a1 = _mm256_broadcast_ss(a + 3);
    c20 = _mm256_fmadd_ps(a0, b0, c20), c21 = _mm256_fmadd_ps(a0, b1, c21);
    c30 = _mm256_fmadd_ps(a1, b0, c30), c31 = _mm256_fmadd_ps(a1, b1, c31);
    a0 = _mm256_broadcast_ss(a + 4), a1 = _mm256_broadcast_ss(a + 5);
    c40 = _mm256_fmadd_ps(a0, b0, c40), c41 = _mm256_fmadd_ps(a0, b1, c41);
    c50 = _mm256_fmadd_ps(a1, b0, c50), c51 = _mm256_fmadd_ps(a1, b1, c51);
    a += MR, b += NR;
  }
#define STORE(r, x0, x1, A)                                               \
  do {                                                                    \
    __m256 bb = _mm256_broadcast_ss(bias + r);                            \
    __m256 y0 = _mm256_add_ps(x0, bb), y1 = _mm256_add_ps(x1, bb);        \
    y0 = act_avx2(y0, A), y1 = act_avx2(y1, A);                           \
    _mm256_storeu_ps(c + r * ldc, y0), _mm256_storeu_ps(c + r * ldc + 8, y1); \
  } while (0)
  /* one switch per tile: act_avx2 inlined with a constant code reduces to its instructions */
#define STORE_ALL(A)                                                                       \
  STORE(0, c00, c01, A); STORE(1, c10, c11, A); STORE(2, c20, c21, A); STORE(3, c30, c31, A); \
  STORE(4, c40, c41, A); STORE(5, c50, c51, A)
  switch (act) {
  case ACT_NONE: STORE_ALL(ACT_NONE); break;
  case ACT_RELU: STORE_ALL(ACT_RELU); break;
  case ACT_RELU6: STORE_ALL(ACT_RELU6); break;
  default: STORE_ALL(act); break;
  }
#undef STORE_ALL
#undef STORE
}

const F32GemmDesc f32_gemm_6x16__avx2_desc = {"f32_gemm_6x16__avx2", MR, NR, gemm, f32_pack_a_panels, 0, NULL, NULL, 0, 0};
