/* f32_wino43__avx512f: the transforms of Winograd's F(4x4, 3x3) (Lavin and Gray, 2015) for 3x3 stride-1
 * convolutions, 16 tiles (or 16 channels) a vector; src/ops_f32.c (conv_wino) runs the 36 products between
 * them with the GEMM's gemm_u, as for F(2x2, 3x3) (f32_wino23__avx512f.c, the same layouts with 36 matrices
 * for 16). An output tile of 4x4 pixels is Y = A^T [(G g G^T) . (B^T d B)] A of its 6x6 input patch d and
 * each 3x3 filter g: 36 multiplies per tile and channel, 2.25 an output (F(2x2, 3x3): 4; direct: 9).
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * Its constants are not all powers of two, so its rounding is larger than F(2x2, 3x3)'s (test_f32_kernels
 * bounds it against the direct sum); each transform is still one fixed sequence of operations for every
 * lane, so a result does not depend on which lane, block or thread computes it. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "../../src/kernels_f32.h"
#include "../../src/act.h"
#include "f32_taps9__avx512.h"

/* G x of the three values x0, x1, x2 (a filter's column, or a row of G g) */
static inline __attribute__((always_inline)) void g6(__m512 x0, __m512 x1, __m512 x2, __m512 y[6]) {
  const __m512 q = _mm512_set1_ps(0.25f), s = _mm512_set1_ps(1.0f / 6.0f), t = _mm512_set1_ps(1.0f / 12.0f),
               u = _mm512_set1_ps(1.0f / 24.0f);
  __m512 a = _mm512_add_ps(x0, x2), b = _mm512_fmadd_ps(u, x0, _mm512_mul_ps(s, x2)), c = _mm512_mul_ps(t, x1);
  y[0] = _mm512_mul_ps(q, x0);
  y[1] = _mm512_mul_ps(s, _mm512_sub_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), x1));
  y[2] = _mm512_mul_ps(s, _mm512_sub_ps(x1, a));
  y[3] = _mm512_add_ps(b, c);
  y[4] = _mm512_sub_ps(b, c);
  y[5] = x2;
}

/* U = G g G^T of rows r < m of the weights w (row r at w + 9 C r: (C, 3, 3)), channels 16 a vector
   (f32_taps9__avx512.h): u[xi * uxs + r * C + c], xi = 6 i + j for U[i][j]; rows m..ks - 1 zero */
static void wino4_weights(const float *w, size_t C, int m, int ks, float *u, size_t uxs) {
  Taps9 T;
  taps9_init(&T);
  for (int r = 0; r < m; r++)
    for (size_t c0 = 0; c0 < C; c0 += 16) {
      __mmask16 k = C - c0 >= 16 ? 0xffff : (__mmask16)((1u << (C - c0)) - 1);
      const float *p = w + (size_t)r * 9 * C + 9 * c0;
      __m512 g[9], t[3][6], v[6];
      f32_taps9__avx512f(&T, p, C - c0 >= 16 ? 16 : (int)(C - c0), g);
#pragma GCC unroll 1
      for (int j = 0; j < 3; j++) g6(g[j], g[3 + j], g[6 + j], t[j]);   /* G g: column j (t[j][i] = (G g)[i][j]) */
#pragma GCC unroll 1
      for (int i = 0; i < 6; i++) {   /* (G g) G^T: row i */
        g6(t[0][i], t[1][i], t[2][i], v);
#pragma GCC unroll 6
        for (int j = 0; j < 6; j++) _mm512_mask_storeu_ps(u + (size_t)(6 * i + j) * uxs + (size_t)r * C + c0, k, v[j]);
      }
    }
  for (int xi = 0; xi < 36; xi++)
    for (int r = m; r < ks; r++) {
      float *z = u + (size_t)xi * uxs + (size_t)r * C;
      for (size_t c = 0; c < C; c++) z[c] = 0.0f;
    }
}

/* the lanes of columns [s, s + 16) of a row of W that lie inside it */
static inline __mmask16 cols16(long s, long W) {
  long lo = s < 0 ? -s : 0, hi = W - s;
  if (hi > 16) hi = 16;
  if (lo > 16) lo = 16;
  return hi <= lo ? 0 : (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* B^T x of six values (a patch's column, or a row of B^T d) */
static inline __attribute__((always_inline)) void bt6(const __m512 x[6], __m512 y[6]) {
  const __m512 f4 = _mm512_set1_ps(4.0f), f5 = _mm512_set1_ps(5.0f), f2 = _mm512_set1_ps(2.0f);
  __m512 a = _mm512_fnmadd_ps(f4, x[2], x[4]), b = _mm512_fnmadd_ps(f4, x[1], x[3]);
  __m512 c = _mm512_sub_ps(x[4], x[2]), e = _mm512_mul_ps(f2, _mm512_sub_ps(x[3], x[1]));
  y[0] = _mm512_fmadd_ps(f4, x[0], _mm512_fnmadd_ps(f5, x[2], x[4]));
  y[1] = _mm512_add_ps(a, b);
  y[2] = _mm512_sub_ps(a, b);
  y[3] = _mm512_add_ps(c, e);
  y[4] = _mm512_sub_ps(c, e);
  y[5] = _mm512_fmadd_ps(f4, x[1], _mm512_fnmadd_ps(f5, x[3], x[5]));
}

/* V = B^T d B of tiles [t0, t1) (tile t = ty * tw + tx: its 6x6 patch at input row 4 ty - 1, column
   4 tx - 1; outside the H x W input, zeros) of channels [0, C) (plane c at x + c H W), 16 tiles of one
   tile row a vector: a patch row's 66 columns by masked loads (no lane outside the input is read), the six
   columns of every fourth by permutes: v[xi * vxs + c * ldv + t - t0] */
static void wino4_input(const float *x, size_t H, size_t W, size_t C, size_t tw, size_t t0, size_t t1, float *v, size_t ldv,
                        size_t vxs) {
  __m512i sel[4];   /* lanes 4 l + j of a 32-float pair, l < 8, in lanes l and 8 + l */
  for (int j = 0; j < 4; j++)
    sel[j] = _mm512_add_epi32(_mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0), _mm512_set1_epi32(j));
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 16) n = 16;
    __mmask16 k = n == 16 ? 0xffff : (__mmask16)((1u << n) - 1), mk[6];
    long s0 = 4 * (long)tx - 1, iy0 = 4 * (long)ty - 1;
    for (int q = 0; q < 4; q++) mk[q] = cols16(s0 + 16 * q, (long)W);
    mk[4] = cols16(s0 + 64, (long)W) & 1, mk[5] = cols16(s0 + 65, (long)W) & 1;
    float *vo = v + (t - t0);
    for (size_t c = 0; c < C; c++) {
      const float *pl = x + c * H * W + s0;
      __m512 d[6][6], sv[6][6], col[6];
#pragma GCC unroll 6
      for (int i = 0; i < 6; i++) {   /* columns 4 tx - 1 + j, j < 6, of the patch's row i */
        long iy = iy0 + i;
        if (iy < 0 || iy >= (long)H) {
#pragma GCC unroll 6
          for (int j = 0; j < 6; j++) d[i][j] = _mm512_setzero_ps();
          continue;
        }
        const float *q = pl + iy * (long)W;
        __m512 a0 = _mm512_maskz_loadu_ps(mk[0], q), a1 = _mm512_maskz_loadu_ps(mk[1], q + 16);
        __m512 a2 = _mm512_maskz_loadu_ps(mk[2], q + 32), a3 = _mm512_maskz_loadu_ps(mk[3], q + 48);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
          d[i][j] = _mm512_mask_blend_ps(0xff00, _mm512_permutex2var_ps(a0, sel[j], a1), _mm512_permutex2var_ps(a2, sel[j], a3));
        __m512 e4 = _mm512_maskz_loadu_ps(mk[4], q + 64), e5 = _mm512_maskz_loadu_ps(mk[5], q + 65);
        d[i][4] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(e4), _mm512_castps_si512(d[i][0]), 1));
        d[i][5] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(e5), _mm512_castps_si512(d[i][1]), 1));
      }
#pragma GCC unroll 6
      for (int j = 0; j < 6; j++) {   /* B^T d: column j */
        __m512 y[6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) col[i] = d[i][j];
        bt6(col, y);
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) sv[i][j] = y[i];
      }
#pragma GCC unroll 6
      for (int i = 0; i < 6; i++) {   /* (B^T d) B: row i */
        __m512 y[6];
        bt6(sv[i], y);
#pragma GCC unroll 6
        for (int j = 0; j < 6; j++) _mm512_mask_storeu_ps(vo + (size_t)(6 * i + j) * vxs + c * ldv, k, y[j]);
      }
    }
    t += n;
  }
}

/* A^T x of six values: four */
static inline __attribute__((always_inline)) void at6(const __m512 x[6], __m512 y[4]) {
  const __m512 f2 = _mm512_set1_ps(2.0f), f4 = _mm512_set1_ps(4.0f), f8 = _mm512_set1_ps(8.0f);
  __m512 p = _mm512_add_ps(x[1], x[2]), q = _mm512_sub_ps(x[1], x[2]), r = _mm512_add_ps(x[3], x[4]), s = _mm512_sub_ps(x[3], x[4]);
  y[0] = _mm512_add_ps(_mm512_add_ps(x[0], p), r);
  y[1] = _mm512_fmadd_ps(f2, s, q);
  y[2] = _mm512_fmadd_ps(f4, r, p);
  y[3] = _mm512_add_ps(_mm512_fmadd_ps(f8, s, q), x[5]);
}

/* Y = A^T M A + bias, then act (ACT_NONE, ACT_RELU or ACT_RELU6), of rows r < m and tiles [t0, t1) (mm[xi * mxs
   + r * ldm + t - t0]) into the output planes (row r's at out + r * ohw, OH x OW): a tile's pixels past the plane's
   edge dropped; res: the output's values added before the activation */
static void wino4_output(const float *mm, size_t ldm, size_t mxs, int m, size_t tw, size_t t0, size_t t1, size_t OH, size_t OW,
                         const float *bias, int act, int res, float *out, size_t ohw) {
  const __m512i lo2 = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi2 = _mm512_add_epi32(lo2, _mm512_set1_epi32(8));
  const __m512i lo4 = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), hi4 = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 16) n = 16;
    __mmask16 k = n == 16 ? 0xffff : (__mmask16)((1u << n) - 1), ko[4];
    long cols = (long)OW - 4 * (long)tx < 4 * (long)n ? (long)OW - 4 * (long)tx : 4 * (long)n;   /* this piece's output columns */
    for (int q = 0; q < 4; q++) ko[q] = cols16(16 * q, cols);
    size_t rows = OH - 4 * ty < 4 ? OH - 4 * ty : 4;
    for (int r = 0; r < m; r++) {
      const float *p = mm + (size_t)r * ldm + (t - t0);
      __m512 s[4][6], x[6], y[4];
#pragma GCC unroll 1
      for (int j = 0; j < 6; j++) {   /* A^T M: column j */
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) x[i] = _mm512_maskz_loadu_ps(k, p + (size_t)(6 * i + j) * mxs);
        at6(x, y);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) s[i][j] = y[i];
      }
      __m512 b = _mm512_set1_ps(bias[r]), z = _mm512_setzero_ps(), hi6 = _mm512_set1_ps(act == ACT_RELU6 ? 6.0f : INFINITY);
      float *o = out + (size_t)r * ohw + 4 * ty * OW + 4 * tx;
      for (size_t i = 0; i < rows; i++) {   /* (A^T M) A: output row 4 ty + i, the 4 x 16 values interleaved */
        at6(s[i], y);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) y[q] = _mm512_add_ps(y[q], b);
        __m512 u0 = _mm512_permutex2var_ps(y[0], lo2, y[1]), u1 = _mm512_permutex2var_ps(y[0], hi2, y[1]);
        __m512 w0 = _mm512_permutex2var_ps(y[2], lo2, y[3]), w1 = _mm512_permutex2var_ps(y[2], hi2, y[3]);
        __m512 row[4] = {
            _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(u0), lo4, _mm512_castps_pd(w0))),
            _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(u0), hi4, _mm512_castps_pd(w0))),
            _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(u1), lo4, _mm512_castps_pd(w1))),
            _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(u1), hi4, _mm512_castps_pd(w1)))};
        float *oi = o + i * OW;
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
          if (!ko[q]) break;
          __m512 vq = row[q];
          if (res) vq = _mm512_add_ps(vq, _mm512_maskz_loadu_ps(ko[q], oi + 16 * q));
          if (act != ACT_NONE)   /* ReLU, ReLU6: max(y, 0) (NaN -> 0), then min(., 6): act_f32's values */
            vq = _mm512_min_ps(_mm512_max_ps(vq, z), hi6);
          _mm512_mask_storeu_ps(oi + 16 * q, ko[q], vq);
        }
      }
    }
    t += n;
  }
}

const F32WinoDesc f32_wino43__avx512f_desc = {"f32_wino43__avx512f", 4, wino4_weights, wino4_input, wino4_output};
