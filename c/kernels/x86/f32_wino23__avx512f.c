/* f32_wino23__avx512f: the transforms of Winograd's F(2x2, 3x3) (Lavin and Gray, 2015) for 3x3 stride-1
 * convolutions, 16 tiles (or 16 channels) a vector; src/ops_f32.c (conv_wino) runs the 16 products
 * between them with the GEMM's gemm_u. An output tile of 2x2 pixels is Y = A^T [(G g G^T) . (B^T d B)] A
 * of its 4x4 input patch d and each 3x3 filter g, summed over the channels: 16 multiplies per tile and
 * channel where the direct sum takes 36. The matrices (kernels_f32.h F32WinoDesc has the layouts):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * Each transform is a fixed sequence of adds and subtracts (and exact halvings), the same for every
 * lane, so a result does not depend on which lane, block or thread computes it. */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "../../src/act.h"
#include "f32_taps9__avx512.h"

__attribute__((noinline)) void f32_taps9__avx512f(const Taps9 *t, const float *p, int n, __m512 g[9]) {
  __m512 l[10];
  for (int j = 0; j < 9; j++) {
    int v = 9 * n - 16 * j;   /* floats of load j that are the n channels' */
    _mm_prefetch((const char *)(p + 16 * j) + TAPS9_PF, _MM_HINT_T0);
    l[j] = _mm512_maskz_loadu_ps(v >= 16 ? 0xffff : v > 0 ? (__mmask16)((1u << v) - 1) : 0, p + 16 * j);
  }
  l[9] = l[8];   /* (the fifth pair's second half: no lane reads it) */
  for (int q = 0; q < 9; q++) {
    __m512 a = _mm512_maskz_permutex2var_ps(t->mk[q][0], l[0], t->idx[q][0], l[1]);
#pragma GCC unroll 4
    for (int i = 1; i < 5; i++) a = _mm512_mask_mov_ps(a, t->mk[q][i], _mm512_permutex2var_ps(l[2 * i], t->idx[q][i], l[2 * i + 1]));
    g[q] = a;
  }
}

/* U = G g G^T of rows r < m of the weights w (row r at w + 9 C r: (C, 3, 3)), channels 16 a vector
   (f32_taps9__avx512.h): u[xi * uxs + r * C + c], xi = 4 i + j for U[i][j]; rows m..ks - 1 zero */
static void wino_weights(const float *w, size_t C, int m, int ks, float *u, size_t uxs) {
  Taps9 T;
  taps9_init(&T);
  const __m512 half = _mm512_set1_ps(0.5f);
  for (int r = 0; r < m; r++)
    for (size_t c0 = 0; c0 < C; c0 += 16) {
      __mmask16 k = C - c0 >= 16 ? 0xffff : (__mmask16)((1u << (C - c0)) - 1);
      const float *p = w + (size_t)r * 9 * C + 9 * c0;
      __m512 g[9], t[4][3];
      f32_taps9__avx512f(&T, p, C - c0 >= 16 ? 16 : (int)(C - c0), g);
#pragma GCC unroll 3
      for (int j = 0; j < 3; j++) {   /* G g: the filter's columns */
        __m512 s = _mm512_add_ps(g[j], g[6 + j]);
        t[0][j] = g[j];
        t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(s, g[3 + j]));
        t[2][j] = _mm512_mul_ps(half, _mm512_sub_ps(s, g[3 + j]));
        t[3][j] = g[6 + j];
      }
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {   /* (G g) G^T */
        __m512 s = _mm512_add_ps(t[i][0], t[i][2]), v[4];
        v[0] = t[i][0];
        v[1] = _mm512_mul_ps(half, _mm512_add_ps(s, t[i][1]));
        v[2] = _mm512_mul_ps(half, _mm512_sub_ps(s, t[i][1]));
        v[3] = t[i][2];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) _mm512_mask_storeu_ps(u + (size_t)(4 * i + j) * uxs + (size_t)r * C + c0, k, v[j]);
      }
    }
  for (int xi = 0; xi < 16; xi++)
    for (int r = m; r < ks; r++) {
      float *z = u + (size_t)xi * uxs + (size_t)r * C;
      for (size_t c = 0; c < C; c++) z[c] = 0.0f;
    }
}

/* columns [s, s + 32) of a row of W: the lanes of the two 16-float halves that lie inside it */
static inline void cols_in(long s0, long W, __mmask16 *lo, __mmask16 *hi) {
  uint32_t m = 0;
  for (int e = 0; e < 32; e++) m |= (uint32_t)(s0 + e >= 0 && s0 + e < W) << e;
  *lo = (__mmask16)m, *hi = (__mmask16)(m >> 16);
}

/* V = B^T d B of tiles [t0, t1) (tile t = ty * tw + tx: its 4x4 patch at input row 2 ty - 1, column
   2 tx - 1; outside the H x W input, zeros) of channels [0, C) (plane c at x + c H W), 16 tiles of one
   tile row a vector, by masked loads (no lane outside the input is read): v[xi * vxs + c * ldv + t - t0] */
static void wino_input(const float *x, size_t H, size_t W, size_t C, size_t tw, size_t t0, size_t t1, float *v, size_t ldv,
                       size_t vxs) {
  const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 16) n = 16;
    __mmask16 k = n == 16 ? 0xffff : (__mmask16)((1u << n) - 1), m0, m1, m2, m3;
    long s0 = 2 * (long)tx - 1, iy0 = 2 * (long)ty - 1;
    cols_in(s0, (long)W, &m0, &m1), cols_in(s0 + 2, (long)W, &m2, &m3);
    float *vo = v + (t - t0);
    for (size_t c = 0; c < C; c++) {
      const float *pl = x + c * H * W + s0;
      __m512 d[4][4], sv[4][4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {   /* columns 2 tx - 1 + j, j < 4, of the patch's row i */
        long iy = iy0 + i;
        if (iy < 0 || iy >= (long)H) {
          d[i][0] = d[i][1] = d[i][2] = d[i][3] = _mm512_setzero_ps();
          continue;
        }
        const float *q = pl + iy * (long)W;
        __m512 a0 = _mm512_maskz_loadu_ps(m0, q), a1 = _mm512_maskz_loadu_ps(m1, q + 16);
        __m512 b0 = _mm512_maskz_loadu_ps(m2, q + 2), b1 = _mm512_maskz_loadu_ps(m3, q + 18);
        d[i][0] = _mm512_permutex2var_ps(a0, ev, a1), d[i][1] = _mm512_permutex2var_ps(a0, od, a1);
        d[i][2] = _mm512_permutex2var_ps(b0, ev, b1), d[i][3] = _mm512_permutex2var_ps(b0, od, b1);
      }
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {   /* B^T d */
        sv[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
        sv[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
        sv[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
        sv[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
      }
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {   /* (B^T d) B */
        float *o = vo + (size_t)(4 * i) * vxs + c * ldv;
        _mm512_mask_storeu_ps(o, k, _mm512_sub_ps(sv[i][0], sv[i][2]));
        _mm512_mask_storeu_ps(o + vxs, k, _mm512_add_ps(sv[i][1], sv[i][2]));
        _mm512_mask_storeu_ps(o + 2 * vxs, k, _mm512_sub_ps(sv[i][2], sv[i][1]));
        _mm512_mask_storeu_ps(o + 3 * vxs, k, _mm512_sub_ps(sv[i][1], sv[i][3]));
      }
    }
    t += n;
  }
}

/* Y = A^T M A + bias, then act (ACT_NONE, ACT_RELU or ACT_RELU6), of rows r < m and tiles [t0, t1) (mm[xi * mxs + r * ldm + t - t0]) into
   the output planes (row r's at out + r * ohw, OH x OW): a tile's pixels past the plane's edge dropped; res: the
   output's values added before the activation */
static void wino_output(const float *mm, size_t ldm, size_t mxs, int m, size_t tw, size_t t0, size_t t1, size_t OH, size_t OW,
                        const float *bias, int act, int res, float *out, size_t ohw) {
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 16) n = 16;
    __mmask16 k = n == 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    size_t cols = OW - 2 * tx < 2 * n ? OW - 2 * tx : 2 * n;   /* the output columns of these tiles */
    __mmask16 k0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 k1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
    int two = 2 * ty + 1 < OH;
    for (int r = 0; r < m; r++) {
      const float *p = mm + (size_t)r * ldm + (t - t0);
      __m512 a[2][4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {   /* A^T M */
        __m512 m0 = _mm512_maskz_loadu_ps(k, p + (size_t)(0 + j) * mxs), m1 = _mm512_maskz_loadu_ps(k, p + (size_t)(4 + j) * mxs);
        __m512 m2 = _mm512_maskz_loadu_ps(k, p + (size_t)(8 + j) * mxs), m3 = _mm512_maskz_loadu_ps(k, p + (size_t)(12 + j) * mxs);
        a[0][j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        a[1][j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
      }
      __m512 b = _mm512_set1_ps(bias[r]), z = _mm512_setzero_ps(), hi6 = _mm512_set1_ps(act == ACT_RELU6 ? 6.0f : INFINITY);
      float *o = out + (size_t)r * ohw + 2 * ty * OW + 2 * tx;
#pragma GCC unroll 2
      for (int i = 0; i < 2; i++) {   /* (A^T M) A: output row 2 ty + i */
        if (i == 1 && !two) break;
        __m512 y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[i][0], a[i][1]), a[i][2]), b);
        __m512 y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(a[i][1], a[i][2]), a[i][3]), b);
        float *oi = o + (size_t)i * OW;
        __m512 v0 = _mm512_permutex2var_ps(y0, lo, y1), v1 = _mm512_permutex2var_ps(y0, hi, y1);   /* in column order */
        if (res) v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, oi)), v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, oi + 16));
        if (act != ACT_NONE)   /* ReLU, ReLU6: max(y, 0) (NaN -> 0), then min(., 6): act_f32's values */
          v0 = _mm512_min_ps(_mm512_max_ps(v0, z), hi6), v1 = _mm512_min_ps(_mm512_max_ps(v1, z), hi6);
        _mm512_mask_storeu_ps(oi, k0, v0);
        _mm512_mask_storeu_ps(oi + 16, k1, v1);
      }
    }
    t += n;
  }
}

const F32WinoDesc f32_wino23__avx512f_desc = {"f32_wino23__avx512f", 2, wino_weights, wino_input, wino_output};
