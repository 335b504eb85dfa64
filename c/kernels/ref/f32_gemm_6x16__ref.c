/* f32_gemm_6x16__ref: the scalar reference GEMM micro-kernel (see kernels_f32.h), its descriptor, and
 * the panel packer of the weights that the 6x16 kernels share. */
#include "../../src/act.h"
#include "../../src/kernels_f32.h"

enum { MR = 6, NR = 16 };

void f32_pack_a_tail(const float *w, size_t M, size_t K, int mr, int tail, size_t pr, float *ap) {
  if (mr == 1 && pr > 1) {   /* a file's panels to (O, K) rows: by blocks of 16 k steps of a panel (2 KB, in L1) for its
                                rows in turn; row by row, each row's K floats came from K lines 32 floats apart (ResNet18's
                                33 MiB of 3x3 weights for the AVX2 and NEON tables: 19 ms of start-up on two threads
                                on AVX2) */
    for (size_t r0 = 0; r0 < M; r0 += pr) {
      size_t n = M - r0 < pr ? M - r0 : pr;
      const float *pw = w + r0 * K;   /* (r0 a multiple of pr: the panel's start) */
      for (size_t kb = 0; kb < K; kb += 16)
        for (size_t r = 0, ke = K - kb < 16 ? K : kb + 16; r < n; r++)
          for (size_t kk = kb; kk < ke; kk++) ap[(r0 + r) * K + kk] = pw[kk * pr + r];
    }
    return;
  }
  size_t P = (M + (size_t)mr - 1) / (size_t)mr;
  const float *src[F32_PANEL_MAX];
  for (size_t p = 0; p < P; p++) {
    size_t R = p + 1 == P && tail ? (size_t)f32_tail_rows((int)(M - p * (size_t)mr), mr) : (size_t)mr;   /* its stride */
    float *a = ap + p * K * (size_t)mr;
    for (size_t r = 0, row = p * (size_t)mr; r < R && row < M; r++, row++) src[r] = w + row / pr * pr * K + row % pr;
    for (size_t kk = 0; kk < K; kk++)
      for (size_t r = 0; r < R; r++) a[kk * R + r] = p * (size_t)mr + r < M ? src[r][kk * pr] : 0.0f;
  }
}

void f32_pack_a_panels(const float *w, size_t M, size_t K, int mr, float *ap) { f32_pack_a_tail(w, M, K, mr, 0, 1, ap); }

static void gemm(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act,
                 int from_c) {
  float acc[MR][NR] = {{0}};
  if (from_c)
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) acc[r][j] = c[r * ldc + j];
  for (size_t kk = 0; kk < k; kk++)
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) acc[r][j] += a[kk * MR + r] * b[kk * NR + j];
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) c[r * ldc + j] = act_f32(acc[r][j] + bias[r], act);
}

const F32GemmDesc f32_gemm_6x16__ref_desc = {"f32_gemm_6x16__ref", MR, NR, gemm, f32_pack_a_panels, 0, NULL, NULL, 0, 0, 0, NULL, NULL, 0};
