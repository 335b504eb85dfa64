/* f32_gemm_8x8__neon: 8x8 tiles, NEON (AArch64 Advanced SIMD), 16 accumulators of 4 floats (see kernels_f32.h); one
 * entry, gemm_u, as the x86 kernels': A read where it lies (the weights in the model file's map, an implicit
 * convolution's taps by channel; or a panel packed by f32_pack_a_tail for 1x1 convolutions and LINEAR, or a
 * version-4 file's panel of 32 rows), B in place. Until 2026-12-05 this table had gemm only (packed A and B panels):
 * every convolution went through im2col, every weight was packed at start-up, and nothing was fused by bands. */
#include <arm_neon.h>

#include "../../src/kernels_f32.h"
#include "act__neon.h"
#include "lanes__neon.h"

enum { MR = 8, NR = 8 };

/* ---- gemm_u (kernels_f32.h): rows [0, m) and columns [0, n) of a tile. Each element is one sum over (kk, tap) in
   that order, fused multiply-adds from 0 (or from C: acc 1), then + bias, (+ C: F32_ACC_RES), then the activation:
   the reference's values bit for bit, whatever the lane or the tile. Rows read: only rows < rr (m rounded up to 4,
   f32_tail_rows); stored: rows < m. Columns: only j < n read or written (an edge vector by lanes).
   Two ways to read A, each 4 multiply-adds a loaded float:
   - packed (ks != 1: a panel's rows side by side, ks floats a column, one tap): rows 0-3 and 4-7 of a column in
     two vectors, each row's multiply-add by lane (the gemm this table had before);
   - in place (ks == 1: row r at a + r lda, its K = k nt floats in (kk, tap) order): four consecutive (kk, tap)
     columns of each row in one vector, the step's multiply-add by the lane of its column; the columns past the last
     multiple of 4 one float at a time (nothing past a row's K is read). */

/* act((x + bias) [+ c]) on the c lanes at p */
static inline __attribute__((always_inline)) void store_v(float *p, float32x4_t x, float32x4_t bb, int act, int res, int c) {
  x = vaddq_f32(x, bb);
  if (res) x = vaddq_f32(x, ld_n(p, c));
  st_n(p, act_neon(x, act), c);
}

/* row r's multiply-adds of one k step: B's vectors b0 (and b1) times lane L of v */
#define FMA_LANE(r, v, L)                                         \
  do {                                                            \
    c0[r] = vfmaq_laneq_f32(c0[r], b0, v, L);                     \
    if (nv == 2) c1[r] = vfmaq_laneq_f32(c1[r], b1, v, L);        \
  } while (0)
/* B's row at p: nv vectors, the last of nl lanes */
#define LDB(p)                                                     \
  do {                                                             \
    if (nv == 2) b0 = vld1q_f32(p), b1 = ld_n((p) + 4, nl);        \
    else b0 = ld_n(p, nl), b1 = b0;                                \
  } while (0)
/* one in-place step: B's row at p times lane L of each row's vector av[r] (rows < rr) */
#define STEP_IN(p, L)                                                                        \
  do {                                                                                       \
    LDB(p);                                                                                  \
    FMA_LANE(0, av[0], L); FMA_LANE(1, av[1], L); FMA_LANE(2, av[2], L); FMA_LANE(3, av[3], L);    \
    if (rr == 8) { FMA_LANE(4, av[4], L); FMA_LANE(5, av[5], L); FMA_LANE(6, av[6], L); FMA_LANE(7, av[7], L); } \
  } while (0)

/* nv (1 or 2) vectors of B a row, full (all 8 columns: plain loads and stores), rr (4 or 8) rows of A read, nt1 (one
   tap, in place): constants once inlined */
static inline __attribute__((always_inline)) void gemm_u_nv(int nv, int full, int rr, int nt1, size_t k, size_t nt,
                                                            const ptrdiff_t *boff, const float *a, size_t lda, size_t ks,
                                                            const float *b, size_t ldb, float *c, size_t ldc, int m, int n,
                                                            const float *bias, int act, int acc) {
  const int nl = full ? 4 : n - 4 * (nv - 1);   /* the last vector's lanes */
  float32x4_t c0[MR], c1[MR], b0, b1;
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = vdupq_n_f32(0.0f);
  if (acc == 1)
    for (int r = 0; r < rr; r++)
      if (r < m) {
        if (nv == 2) c0[r] = vld1q_f32(c + r * ldc), c1[r] = ld_n(c + r * ldc + 4, nl);
        else c0[r] = ld_n(c + r * ldc, nl);
      }
  /* B's row of column q = kk nt + t: at bk + boff[t] (bk: row kk) */
  const size_t Q = k * nt;
  size_t t = 0;
  const float *bk = nt1 ? b + boff[0] : b;
#define NEXT_B(p)                          \
  do {                                     \
    if (nt1) p = bk, bk += ldb;            \
    else {                                 \
      p = bk + boff[t];                    \
      if (++t == nt) t = 0, bk += ldb;     \
    }                                      \
  } while (0)
  if (ks != 1) {   /* packed: rows 0-3 and 4-7 of a column side by side, ks floats a column */
    for (const float *pa = a, *pe = a + Q * ks; pa != pe; pa += ks) {
      const float *p;
      NEXT_B(p);
      LDB(p);
      float32x4_t a0 = vld1q_f32(pa), a1 = rr == 8 ? vld1q_f32(pa + 4) : a0;
      FMA_LANE(0, a0, 0); FMA_LANE(1, a0, 1); FMA_LANE(2, a0, 2); FMA_LANE(3, a0, 3);
      if (rr == 8) { FMA_LANE(4, a1, 0); FMA_LANE(5, a1, 1); FMA_LANE(6, a1, 2); FMA_LANE(7, a1, 3); }
    }
  } else {   /* in place: columns q of each row, four at a time */
    size_t q = 0;
    float32x4_t av[MR];
    for (; q + 4 <= Q; q += 4) {
      const float *p;
      for (int r = 0; r < rr; r++) av[r] = vld1q_f32(a + (size_t)r * lda + q);
      NEXT_B(p);
      STEP_IN(p, 0);
      NEXT_B(p);
      STEP_IN(p, 1);
      NEXT_B(p);
      STEP_IN(p, 2);
      NEXT_B(p);
      STEP_IN(p, 3);
    }
    for (; q < Q; q++) {   /* the last K % 4 columns */
      const float *p;
      for (int r = 0; r < rr; r++) av[r] = vld1q_dup_f32(a + (size_t)r * lda + q);
      NEXT_B(p);
      STEP_IN(p, 0);
    }
  }
#undef NEXT_B
  for (int r = 0; r < rr; r++)
    if (r < m) {
      float32x4_t bb = vdupq_n_f32(bias[r]);
      int res = acc == F32_ACC_RES;
      if (nv == 2) store_v(c + r * ldc, c0[r], bb, act, res, 4), store_v(c + r * ldc + 4, c1[r], bb, act, res, nl);
      else store_v(c + r * ldc, c0[r], bb, act, res, nl);
    }
}
#undef FMA_LANE
#undef LDB
#undef STEP_IN

static void gemm_u(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, size_t lda, size_t ks, const float *b, size_t ldb,
                   float *c, size_t ldc, int m, int n, const float *bias, int act, int acc) {
  int nt1 = ks != 1 || nt == 1;   /* (packed: one tap) */
#define RR(nv, full)                                                                                          \
  do {                                                                                                        \
    if (m <= 4) {                                                                                             \
      if (nt1) gemm_u_nv(nv, full, 4, 1, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, bias, act, acc);       \
      else gemm_u_nv(nv, full, 4, 0, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, bias, act, acc);          \
    } else {                                                                                                  \
      if (nt1) gemm_u_nv(nv, full, MR, 1, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, bias, act, acc);      \
      else gemm_u_nv(nv, full, MR, 0, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, bias, act, acc);         \
    }                                                                                                         \
  } while (0)
  if (n >= NR)
    RR(2, 1);
  else if (n > 4)
    RR(2, 0);
  else if (n == 4)
    RR(1, 1);
  else
    RR(1, 0);
#undef RR
}

const F32GemmDesc f32_gemm_8x8__neon_desc = {"f32_gemm_8x8__neon", MR, NR, NULL, f32_pack_a_panels, 1, gemm_u, NULL, 0, 0, 1, NULL, NULL, 0};
