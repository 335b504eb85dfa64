/* f32_wino23__avx2: the transforms of Winograd's F(2x2, 3x3) for 3x3 stride-1 convolutions with AVX2, 8 tiles (or 8
 * channels) a vector: f32_wino23__avx512f's (the matrices, the layouts of kernels_f32.h F32WinoDesc, and the same
 * sequence of adds, subtracts and exact halvings, so the same values bit for bit) in 8 lanes. src/ops_f32.c
 * (conv_wino) runs the 16 products between the transforms with the table's gemm_u (f32_gemm_6x16__avx2). The AVX2
 * table had no Winograd until 2026-12-06: every 3x3 stride-1 convolution ran direct, 36 multiplies per 2x2 outputs
 * and channel where F(2x2, 3x3) takes 16. */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "../../src/act.h"
#include "f32_wino__avx2.h"

/* U = G g G^T of rows r < m of the weights w (row r at w + 9 C r: (C, 3, 3)), channels 8 a vector:
   u[xi * uxs + r * C + c], xi = 4 i + j for U[i][j]; rows m..ks - 1 zero */
static void wino_weights(const float *w, size_t C, int m, int ks, float *u, size_t uxs) {
  const __m256 half = _mm256_set1_ps(0.5f);
  for (int r = 0; r < m; r++)
    for (size_t c0 = 0; c0 < C; c0 += 8) {
      int n = C - c0 >= 8 ? 8 : (int)(C - c0);
      const float *p = w + (size_t)r * 9 * C + 9 * c0;
      _mm_prefetch((const char *)(p + 72) + 1024, _MM_HINT_T0);
      _mm_prefetch((const char *)(p + 72) + 1024 + 64, _MM_HINT_T0);
      _mm_prefetch((const char *)(p + 72) + 1024 + 128, _MM_HINT_T0);
      __m256 g[9], t[4][3];
      taps9(p, n, g);
#pragma GCC unroll 3
      for (int j = 0; j < 3; j++) {   /* G g: the filter's columns */
        __m256 s = _mm256_add_ps(g[j], g[6 + j]);
        t[0][j] = g[j];
        t[1][j] = _mm256_mul_ps(half, _mm256_add_ps(s, g[3 + j]));
        t[2][j] = _mm256_mul_ps(half, _mm256_sub_ps(s, g[3 + j]));
        t[3][j] = g[6 + j];
      }
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {   /* (G g) G^T */
        __m256 s = _mm256_add_ps(t[i][0], t[i][2]), v[4];
        v[0] = t[i][0];
        v[1] = _mm256_mul_ps(half, _mm256_add_ps(s, t[i][1]));
        v[2] = _mm256_mul_ps(half, _mm256_sub_ps(s, t[i][1]));
        v[3] = t[i][2];
        float *o = u + (size_t)(4 * i) * uxs + (size_t)r * C + c0;
        if (n == 8) {
#pragma GCC unroll 4
          for (int j = 0; j < 4; j++) _mm256_storeu_ps(o + (size_t)j * uxs, v[j]);
        } else {
#pragma GCC unroll 4
          for (int j = 0; j < 4; j++) st8_n(o + (size_t)j * uxs, v[j], (int)n);
        }
      }
    }
  for (int xi = 0; xi < 16; xi++)
    for (int r = m; r < ks; r++) {
      float *z = u + (size_t)xi * uxs + (size_t)r * C;
      for (size_t c = 0; c < C; c++) z[c] = 0.0f;
    }
}

/* the even and the odd floats of a, b (16 consecutive floats) */
static inline __m256 evens(__m256 a, __m256 b) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}
static inline __m256 odds(__m256 a, __m256 b) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

/* V = B^T d B of tiles [t0, t1) (tile t = ty * tw + tx: its 4x4 patch at input row 2 ty - 1, column
   2 tx - 1; outside the H x W input, zeros) of channels [0, C) (plane c at x + c H W), 8 tiles of one
   tile row a vector, by masked loads (no float outside the input is read): v[xi * vxs + c * ldv + t - t0] */
static void wino_input(const float *x, size_t H, size_t W, size_t C, size_t tw, size_t t0, size_t t1, float *v, size_t ldv,
                       size_t vxs) {
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 8) n = 8;
    __m256i m[4];
    long s0 = 2 * (long)tx - 1, iy0 = 2 * (long)ty - 1;
    for (int q = 0; q < 4; q++) {   /* the 8 floats from s0 + {0, 8, 2, 10}[q] that lie inside the row */
      long s = s0 + (q & 1) * 8 + (q >> 1) * 2;
      m[q] = lanes(-s, (long)W - s);
    }
    int inside = s0 >= 0 && s0 + 18 <= (long)W;   /* every load whole */
    float *vo = v + (t - t0);
    for (size_t c = 0; c < C; c++) {
      const float *pl = x + c * H * W + s0;
      __m256 d[4][4], sv[4][4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {   /* columns 2 tx - 1 + j, j < 4, of the patch's row i */
        long iy = iy0 + i;
        if (iy < 0 || iy >= (long)H) {
          d[i][0] = d[i][1] = d[i][2] = d[i][3] = _mm256_setzero_ps();
          continue;
        }
        const float *q = pl + iy * (long)W;
        __m256 a0, a1, b0, b1;
        if (inside) a0 = _mm256_loadu_ps(q), a1 = _mm256_loadu_ps(q + 8), b0 = _mm256_loadu_ps(q + 2), b1 = _mm256_loadu_ps(q + 10);
        else
          a0 = _mm256_maskload_ps(q, m[0]), a1 = _mm256_maskload_ps(q + 8, m[1]), b0 = _mm256_maskload_ps(q + 2, m[2]),
          b1 = _mm256_maskload_ps(q + 10, m[3]);
        d[i][0] = evens(a0, a1), d[i][1] = odds(a0, a1), d[i][2] = evens(b0, b1), d[i][3] = odds(b0, b1);
      }
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {   /* B^T d */
        sv[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
        sv[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
        sv[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
        sv[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
      }
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {   /* (B^T d) B */
        float *o = vo + (size_t)(4 * i) * vxs + c * ldv;
        __m256 y[4] = {_mm256_sub_ps(sv[i][0], sv[i][2]), _mm256_add_ps(sv[i][1], sv[i][2]), _mm256_sub_ps(sv[i][2], sv[i][1]),
                       _mm256_sub_ps(sv[i][1], sv[i][3])};
        if (n == 8) {
#pragma GCC unroll 4
          for (int j = 0; j < 4; j++) _mm256_storeu_ps(o + (size_t)j * vxs, y[j]);
        } else {
#pragma GCC unroll 4
          for (int j = 0; j < 4; j++) st8_n(o + (size_t)j * vxs, y[j], (int)n);
        }
      }
    }
    t += n;
  }
}

/* Y = A^T M A + bias, then act (ACT_NONE, ACT_RELU or ACT_RELU6), of rows r < m and tiles [t0, t1) (mm[xi * mxs + r *
   ldm + t - t0]) into the output planes (row r's at out + r * ohw, OH x OW): a tile's pixels past the plane's edge
   dropped; res: the output's values added before the activation */
static void wino_output(const float *mm, size_t ldm, size_t mxs, int m, size_t tw, size_t t0, size_t t1, size_t OH, size_t OW,
                        const float *bias, int act, int res, float *out, size_t ohw) {
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 8) n = 8;
    __m256i k = lanes(0, (long)n);
    long cols = OW - 2 * tx < 2 * n ? (long)(OW - 2 * tx) : (long)(2 * n);   /* the output columns of these tiles */
    __m256i k0 = lanes(0, cols), k1 = lanes(0, cols - 8);
    int full = n == 8 && cols == 16, two = 2 * ty + 1 < OH;
    for (int r = 0; r < m; r++) {
      const float *p = mm + (size_t)r * ldm + (t - t0);
      __m256 a[2][4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {   /* A^T M */
        __m256 m0, m1, m2, m3;
        if (n == 8)
          m0 = _mm256_loadu_ps(p + (size_t)j * mxs), m1 = _mm256_loadu_ps(p + (size_t)(4 + j) * mxs),
          m2 = _mm256_loadu_ps(p + (size_t)(8 + j) * mxs), m3 = _mm256_loadu_ps(p + (size_t)(12 + j) * mxs);
        else
          m0 = _mm256_maskload_ps(p + (size_t)j * mxs, k), m1 = _mm256_maskload_ps(p + (size_t)(4 + j) * mxs, k),
          m2 = _mm256_maskload_ps(p + (size_t)(8 + j) * mxs, k), m3 = _mm256_maskload_ps(p + (size_t)(12 + j) * mxs, k);
        a[0][j] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
        a[1][j] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
      }
      __m256 b = _mm256_set1_ps(bias[r]), z = _mm256_setzero_ps(), hi6 = _mm256_set1_ps(act == ACT_RELU6 ? 6.0f : INFINITY);
      float *o = out + (size_t)r * ohw + 2 * ty * OW + 2 * tx;
#pragma GCC unroll 2
      for (int i = 0; i < 2; i++) {   /* (A^T M) A: output row 2 ty + i */
        if (i == 1 && !two) break;
        __m256 y0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[i][0], a[i][1]), a[i][2]), b);
        __m256 y1 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(a[i][1], a[i][2]), a[i][3]), b);
        float *oi = o + (size_t)i * OW;
        __m256 lo = _mm256_unpacklo_ps(y0, y1), hi = _mm256_unpackhi_ps(y0, y1);   /* in column order: */
        __m256 v0 = _mm256_permute2f128_ps(lo, hi, 0x20), v1 = _mm256_permute2f128_ps(lo, hi, 0x31);
        if (res) {
          if (full) v0 = _mm256_add_ps(v0, _mm256_loadu_ps(oi)), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(oi + 8));
          else v0 = _mm256_add_ps(v0, _mm256_maskload_ps(oi, k0)), v1 = _mm256_add_ps(v1, _mm256_maskload_ps(oi + 8, k1));
        }
        if (act != ACT_NONE)   /* ReLU, ReLU6: max(y, 0) (NaN -> 0), then min(., 6): act_f32's values */
          v0 = _mm256_min_ps(_mm256_max_ps(v0, z), hi6), v1 = _mm256_min_ps(_mm256_max_ps(v1, z), hi6);
        if (full) _mm256_storeu_ps(oi, v0), _mm256_storeu_ps(oi + 8, v1);
        else {
          st8_n(oi, v0, (int)cols);
          if (cols > 8) st8_n(oi + 8, v1, (int)cols - 8);
        }
      }
    }
    t += n;
  }
}

const F32WinoDesc f32_wino23__avx2_desc = {"f32_wino23__avx2", 2, wino_weights, wino_input, wino_output};
