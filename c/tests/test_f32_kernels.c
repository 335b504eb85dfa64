/* test_f32_kernels.c: each ISA kernel against the reference kernel on awkward sizes (1, tile +- 1,
 * primes), within a bound derived from the reduction length. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_f32.h"
#include "model.h"
#include "util_writer.h"

static void test_gemm(const F32Kernels *kt, uint64_t *r) {
  size_t ks[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 64, 97, 255, 256, 257, 1021, 4608};
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++)
    for (int act = 0; act <= 2; act++) {
      size_t k = ks[t], ldc = F32_NR + 3;
      float *a = malloc(k * F32_MR * sizeof(float)), *b = malloc(k * F32_NR * sizeof(float)), bias[F32_MR];
      float *c = malloc(F32_MR * ldc * sizeof(float)), *cr = malloc(F32_MR * ldc * sizeof(float));
      rng_fill(r, a, k * F32_MR, -1, 1), rng_fill(r, b, k * F32_NR, -1, 1), rng_fill(r, bias, F32_MR, -2, 2);
      for (size_t i = 0; i < F32_MR * ldc; i++) c[i] = cr[i] = 12345.0f; /* the gap columns must stay */
      kt->gemm(k, a, b, c, ldc, bias, act);
      f32_gemm_6x16__ref(k, a, b, cr, ldc, bias, act);
      for (int i = 0; i < F32_MR; i++)
        for (size_t j = 0; j < ldc; j++) {
          double abs = fabs(bias[i]);
          if (j < F32_NR)
            for (size_t kk = 0; kk < k; kk++) abs += fabs((double)a[kk * F32_MR + i] * b[kk * F32_NR + j]);
          double tol = 2.0 * (k + 2) * FLT_EPSILON * abs, d = fabs((double)c[i * ldc + j] - cr[i * ldc + j]);
          CHECK(d <= tol, "%s k=%zu act=%d c[%d][%zu] = %.9g, ref %.9g", kt->gemm_name, k, act, i, j, c[i * ldc + j],
                cr[i * ldc + j]);
        }
      free(a), free(b), free(c), free(cr);
    }
}

static void test_dw(const F32Kernels *kt, uint64_t *r) {
  int sizes[][2] = {{1, 1}, {1, 9}, {7, 7}, {8, 8}, {9, 9}, {5, 17}, {13, 31}, {56, 56}, {3, 23}};
  int kers[][6] = {/* kh kw sh sw ph pw */ {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {5, 5, 1, 1, 2, 2}, {1, 1, 1, 1, 0, 0},
                   {3, 5, 1, 2, 0, 2}, {7, 7, 1, 1, 3, 3}, {3, 3, 1, 1, 0, 0}};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (size_t q = 0; q < sizeof kers / sizeof *kers; q++)
      for (int d = 1; d <= 2; d++) {
        F32DwShape sh = {sizes[s][0], sizes[s][1], 0, 0, kers[q][0], kers[q][1], kers[q][2], kers[q][3], kers[q][4],
                         kers[q][5], d, d, (int)(s % 3)};
        sh.OH = pt_out_len(sh.H, sh.kh, sh.sh, sh.ph, sh.dh, 0), sh.OW = pt_out_len(sh.W, sh.kw, sh.sw, sh.pw, sh.dw, 0);
        if (sh.OH < 1 || sh.OW < 1) continue;
        size_t n = (size_t)sh.H * sh.W, no = (size_t)sh.OH * sh.OW;
        float *x = malloc(n * sizeof(float)), w[49], *y = malloc(no * sizeof(float)), *yr = malloc(no * sizeof(float));
        rng_fill(r, x, n, -1, 1), rng_fill(r, w, 49, -1, 1);
        float bias = rng_unif(r, -1, 1);
        kt->dwconv(x, w, bias, y, &sh);
        f32_dwconv__ref(x, w, bias, yr, &sh);
        int K = sh.kh * sh.kw;
        for (size_t i = 0; i < no; i++)
          CHECK(fabs((double)y[i] - yr[i]) <= 2.0 * (K + 2) * FLT_EPSILON * (K + 1), "%s %dx%d k%dx%d s%d p%d d%d: y[%zu] %.9g ref %.9g",
                kt->dwconv_name, sh.H, sh.W, sh.kh, sh.kw, sh.sw, sh.pw, d, i, y[i], yr[i]);
        free(x), free(y), free(yr);
      }
}

int main(void) {
  uint64_t r = 42;
  const char *isas[] = {"avx2", "neon"};
  int tested = 0;
  for (int i = 0; i < 2; i++) {
    const F32Kernels *kt = f32_kernels_for(isas[i]);
    if (!kt) continue;
    tested++;
    test_gemm(kt, &r);
    test_dw(kt, &r);
  }
  test_gemm(f32_kernels_for("ref"), &r); /* the reference against itself: exercises the harness */
  const F32Kernels *best = f32_kernels();
  printf("test_f32_kernels: %s (%d ISA table(s) tested; in use: %s, %s)\n", g_failures ? "FAILED" : "ok", tested,
         best->gemm_name, best->dwconv_name);
  return g_failures != 0;
}
