/* f32_wino43__avx2: the transforms of Winograd's F(4x4, 3x3) for 3x3 stride-1 convolutions with AVX2, 8 tiles (or 8
 * channels) a vector: f32_wino43__avx512f's (the matrices, the layouts of kernels_f32.h F32WinoDesc, and the same
 * sequence of multiplies, fused multiply-adds, adds and subtracts in g6, bt6 and at6, so the same values bit for
 * bit) in 8 lanes. src/ops_f32.c (conv_wino) runs the 36 products between the transforms with the table's gemm_u
 * (f32_gemm_6x16__avx2). A patch row's columns are 4 tiles' to a 128-bit lane, so the input and output transforms
 * reorder them by in-lane shuffles (a 4x4 transpose in each lane) and 128-bit permutes, no vpermps. The AVX2 table
 * ran F(2x2, 3x3) on every Winograd layer until 2026-12-06: ResNet18 f32 batch 1, one thread, this Zen 3 (a shared,
 * noisy host), 12 runs of 10 images alternated, F(2x2) -> F(4x4): min 480.7 -> 397.8 ms, median 547.4 -> 427.2; the
 * layers' fastest times 56x56 24.0 -> 19.0 ms, 28x28 28.4 -> 16.0, 14x14 25.5 -> 17.9. The transforms are then ~15%
 * of the run (perf: input 6.9%, weights 4.3%, output 4.0%; gemm_u 66%). */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "../../src/act.h"
#include "f32_wino__avx2.h"

/* G x of the three values x0, x1, x2 (a filter's column, or a row of G g): f32_wino43__avx512f's g6 */
static inline __attribute__((always_inline)) void g6(__m256 x0, __m256 x1, __m256 x2, __m256 y[6]) {
  const __m256 q = _mm256_set1_ps(0.25f), s = _mm256_set1_ps(1.0f / 6.0f), t = _mm256_set1_ps(1.0f / 12.0f),
               u = _mm256_set1_ps(1.0f / 24.0f);
  __m256 a = _mm256_add_ps(x0, x2), b = _mm256_fmadd_ps(u, x0, _mm256_mul_ps(s, x2)), c = _mm256_mul_ps(t, x1);
  y[0] = _mm256_mul_ps(q, x0);
  y[1] = _mm256_mul_ps(s, _mm256_sub_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), x1));
  y[2] = _mm256_mul_ps(s, _mm256_sub_ps(x1, a));
  y[3] = _mm256_add_ps(b, c);
  y[4] = _mm256_sub_ps(b, c);
  y[5] = x2;
}

/* U = G g G^T of rows r < m of the weights w (row r at w + 9 C r: (C, 3, 3)), channels 8 a vector:
   u[xi * uxs + r * C + c], xi = 6 i + j for U[i][j]; rows m..ks - 1 zero. The weights come from memory
   (f32_taps9__avx512.h): each block of 8 filters (288 bytes) prefetches five lines from 1312 bytes ahead, every
   line of the stream (f32_wino23__avx2 fetches three of a block's 4.5) */
static void wino4_weights(const float *w, size_t C, int m, int ks, float *u, size_t uxs) {
  for (int r = 0; r < m; r++)
    for (size_t c0 = 0; c0 < C; c0 += 8) {
      int n = C - c0 >= 8 ? 8 : (int)(C - c0);
      const float *p = w + (size_t)r * 9 * C + 9 * c0;
#pragma GCC unroll 5
      for (int l = 0; l < 5; l++) _mm_prefetch((const char *)(p + 72) + 1024 + 64 * l, _MM_HINT_T0);
      __m256 g[9], t[3][6], v[6];
      taps9(p, n, g);   /* (unrolled, as the two loops below: a U of 6 x 256 filters 181-202 -> 138-141 TSC cycles per 8) */
#pragma GCC unroll 3
      for (int j = 0; j < 3; j++) g6(g[j], g[3 + j], g[6 + j], t[j]);   /* G g: column j (t[j][i] = (G g)[i][j]) */
#pragma GCC unroll 6
      for (int i = 0; i < 6; i++) {   /* (G g) G^T: row i */
        g6(t[0][i], t[1][i], t[2][i], v);
        float *o = u + (size_t)(6 * i) * uxs + (size_t)r * C + c0;
        if (n == 8) {
#pragma GCC unroll 6
          for (int j = 0; j < 6; j++) _mm256_storeu_ps(o + (size_t)j * uxs, v[j]);
        } else {
#pragma GCC unroll 6
          for (int j = 0; j < 6; j++) st8_n(o + (size_t)j * uxs, v[j], (int)n);
        }
      }
    }
  for (int xi = 0; xi < 36; xi++)
    for (int r = m; r < ks; r++) {
      float *z = u + (size_t)xi * uxs + (size_t)r * C;
      for (size_t c = 0; c < C; c++) z[c] = 0.0f;
    }
}

/* B^T x of six values (a patch's column, or a row of B^T d): f32_wino43__avx512f's bt6 */
static inline __attribute__((always_inline)) void bt6(const __m256 x[6], __m256 y[6]) {
  const __m256 f4 = _mm256_set1_ps(4.0f), f5 = _mm256_set1_ps(5.0f), f2 = _mm256_set1_ps(2.0f);
  __m256 a = _mm256_fnmadd_ps(f4, x[2], x[4]), b = _mm256_fnmadd_ps(f4, x[1], x[3]);
  __m256 c = _mm256_sub_ps(x[4], x[2]), e = _mm256_mul_ps(f2, _mm256_sub_ps(x[3], x[1]));
  y[0] = _mm256_fmadd_ps(f4, x[0], _mm256_fnmadd_ps(f5, x[2], x[4]));
  y[1] = _mm256_add_ps(a, b);
  y[2] = _mm256_sub_ps(a, b);
  y[3] = _mm256_add_ps(c, e);
  y[4] = _mm256_sub_ps(c, e);
  y[5] = _mm256_fmadd_ps(f4, x[1], _mm256_fnmadd_ps(f5, x[3], x[5]));
}

/* V = B^T d B of tiles [t0, t1) (tile t = ty * tw + tx: its 6x6 patch at input row 4 ty - 1, column
   4 tx - 1; outside the H x W input, zeros) of channels [0, C) (plane c at x + c H W), 8 tiles of one
   tile row a vector: v[xi * vxs + c * ldv + t - t0]. A patch row's 34 floats s0 + 4 l + j (l < 8, j < 6)
   by four loads of 8 and one of 2, masked where they pass the row's ends (no float outside the input is
   read); 128-bit permutes pair tiles l and l + 4 in one vector, and a 4x4 transpose in each 128-bit lane
   gives columns 0-3 in tile order; columns 4 and 5 are the next tile's 0 and 1, the same way from tiles
   1-8 */
static void wino4_input(const float *x, size_t H, size_t W, size_t C, size_t tw, size_t t0, size_t t1, float *v, size_t ldv,
                        size_t vxs) {
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 8) n = 8;
    __m256i mk[4];
    long s0 = 4 * (long)tx - 1, iy0 = 4 * (long)ty - 1, e0 = (long)W - (s0 + 32);
    for (int q = 0; q < 4; q++) mk[q] = lanes(-(s0 + 8 * q), (long)W - (s0 + 8 * q));
    __m128i mk4 = _mm256_castsi256_si128(lanes(-(s0 + 32), e0 < 2 ? e0 : 2));   /* floats s0 + 32, s0 + 33 */
    int inside = s0 >= 0 && s0 + 34 <= (long)W;   /* every load whole */
    float *vo = v + (t - t0);
    for (size_t c = 0; c < C; c++) {
      const float *pl = x + c * H * W + s0;
      __m256 d[6][6], sv[6][6], col[6];
#pragma GCC unroll 6
      for (int i = 0; i < 6; i++) {   /* columns 4 tx - 1 + j, j < 6, of the patch's row i */
        long iy = iy0 + i;
        if (iy < 0 || iy >= (long)H) {
#pragma GCC unroll 6
          for (int j = 0; j < 6; j++) d[i][j] = _mm256_setzero_ps();
          continue;
        }
        const float *q = pl + iy * (long)W;
        __m256 a0, a1, a2, a3;   /* tiles 2q and 2q + 1 */
        __m128 e;                /* tile 8's columns 0 and 1 */
        if (inside)
          a0 = _mm256_loadu_ps(q), a1 = _mm256_loadu_ps(q + 8), a2 = _mm256_loadu_ps(q + 16), a3 = _mm256_loadu_ps(q + 24),
          e = _mm_castsi128_ps(_mm_loadu_si64(q + 32));
        else
          a0 = _mm256_maskload_ps(q, mk[0]), a1 = _mm256_maskload_ps(q + 8, mk[1]), a2 = _mm256_maskload_ps(q + 16, mk[2]),
          a3 = _mm256_maskload_ps(q + 24, mk[3]), e = _mm_maskload_ps(q + 32, mk4);
        __m256 b0 = _mm256_permute2f128_ps(a0, a2, 0x20), b1 = _mm256_permute2f128_ps(a0, a2, 0x31);   /* tiles l, l + 4 */
        __m256 b2 = _mm256_permute2f128_ps(a1, a3, 0x20), b3 = _mm256_permute2f128_ps(a1, a3, 0x31);
        __m256 b4 = _mm256_insertf128_ps(a2, e, 1);
        __m256 u0 = _mm256_unpacklo_ps(b0, b1), u1 = _mm256_unpacklo_ps(b2, b3), u2 = _mm256_unpackhi_ps(b0, b1);
        __m256 u3 = _mm256_unpackhi_ps(b2, b3), w0 = _mm256_unpacklo_ps(b1, b2), w1 = _mm256_unpacklo_ps(b3, b4);
        d[i][0] = _mm256_shuffle_ps(u0, u1, 0x44), d[i][1] = _mm256_shuffle_ps(u0, u1, 0xEE);
        d[i][2] = _mm256_shuffle_ps(u2, u3, 0x44), d[i][3] = _mm256_shuffle_ps(u2, u3, 0xEE);
        d[i][4] = _mm256_shuffle_ps(w0, w1, 0x44), d[i][5] = _mm256_shuffle_ps(w0, w1, 0xEE);
      }
#pragma GCC unroll 6
      for (int j = 0; j < 6; j++) {   /* B^T d: column j */
        __m256 y[6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) col[i] = d[i][j];
        bt6(col, y);
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) sv[i][j] = y[i];
      }
#pragma GCC unroll 6
      for (int i = 0; i < 6; i++) {   /* (B^T d) B: row i */
        __m256 y[6];
        bt6(sv[i], y);
        float *o = vo + (size_t)(6 * i) * vxs + c * ldv;
        if (n == 8) {
#pragma GCC unroll 6
          for (int j = 0; j < 6; j++) _mm256_storeu_ps(o + (size_t)j * vxs, y[j]);
        } else {
#pragma GCC unroll 6
          for (int j = 0; j < 6; j++) st8_n(o + (size_t)j * vxs, y[j], (int)n);
        }
      }
    }
    t += n;
  }
}

/* A^T x of six values: four (f32_wino43__avx512f's at6) */
static inline __attribute__((always_inline)) void at6(const __m256 x[6], __m256 y[4]) {
  const __m256 f2 = _mm256_set1_ps(2.0f), f4 = _mm256_set1_ps(4.0f), f8 = _mm256_set1_ps(8.0f);
  __m256 p = _mm256_add_ps(x[1], x[2]), q = _mm256_sub_ps(x[1], x[2]), r = _mm256_add_ps(x[3], x[4]), s = _mm256_sub_ps(x[3], x[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(x[0], p), r);
  y[1] = _mm256_fmadd_ps(f2, s, q);
  y[2] = _mm256_fmadd_ps(f4, r, p);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(f8, s, q), x[5]);
}

/* Y = A^T M A + bias, then act (ACT_NONE, ACT_RELU or ACT_RELU6), of rows r < m and tiles [t0, t1) (mm[xi * mxs + r *
   ldm + t - t0]) into the output planes (row r's at out + r * ohw, OH x OW): a tile's pixels past the plane's edge
   dropped; res: the output's values added before the activation. An output row's 4 x 8 values (column q of tile l in
   lane l of y[q]) interleaved into its 32 floats by a 4x4 transpose in each 128-bit lane and 128-bit permutes */
static void wino4_output(const float *mm, size_t ldm, size_t mxs, int m, size_t tw, size_t t0, size_t t1, size_t OH, size_t OW,
                         const float *bias, int act, int res, float *out, size_t ohw) {
  for (size_t t = t0; t < t1;) {
    size_t ty = t / tw, tx = t % tw, n = tw - tx < t1 - t ? tw - tx : t1 - t;
    if (n > 8) n = 8;
    __m256i k = lanes(0, (long)n), ko[4];
    long cols = (long)OW - 4 * (long)tx < 4 * (long)n ? (long)OW - 4 * (long)tx : 4 * (long)n;   /* these tiles' output columns */
    for (int q = 0; q < 4; q++) ko[q] = lanes(0, cols - 8 * q);
    int full = cols == 32;
    size_t rows = OH - 4 * ty < 4 ? OH - 4 * ty : 4;
    for (int r = 0; r < m; r++) {
      const float *p = mm + (size_t)r * ldm + (t - t0);
      __m256 s[4][6], x[6], y[4];
#pragma GCC unroll 1
      for (int j = 0; j < 6; j++) {   /* A^T M: column j */
        if (n == 8) {
#pragma GCC unroll 6
          for (int i = 0; i < 6; i++) x[i] = _mm256_loadu_ps(p + (size_t)(6 * i + j) * mxs);
        } else {
#pragma GCC unroll 6
          for (int i = 0; i < 6; i++) x[i] = _mm256_maskload_ps(p + (size_t)(6 * i + j) * mxs, k);
        }
        at6(x, y);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) s[i][j] = y[i];
      }
      __m256 b = _mm256_set1_ps(bias[r]), z = _mm256_setzero_ps(), hi6 = _mm256_set1_ps(act == ACT_RELU6 ? 6.0f : INFINITY);
      float *o = out + (size_t)r * ohw + 4 * ty * OW + 4 * tx;
      for (size_t i = 0; i < rows; i++) {   /* (A^T M) A: output row 4 ty + i */
        at6(s[i], y);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) y[q] = _mm256_add_ps(y[q], b);
        __m256 u0 = _mm256_unpacklo_ps(y[0], y[1]), u1 = _mm256_unpacklo_ps(y[2], y[3]);
        __m256 u2 = _mm256_unpackhi_ps(y[0], y[1]), u3 = _mm256_unpackhi_ps(y[2], y[3]);
        __m256 p04 = _mm256_shuffle_ps(u0, u1, 0x44), p15 = _mm256_shuffle_ps(u0, u1, 0xEE);   /* tiles l | l + 4 */
        __m256 p26 = _mm256_shuffle_ps(u2, u3, 0x44), p37 = _mm256_shuffle_ps(u2, u3, 0xEE);
        __m256 row[4] = {_mm256_permute2f128_ps(p04, p15, 0x20), _mm256_permute2f128_ps(p26, p37, 0x20),
                         _mm256_permute2f128_ps(p04, p15, 0x31), _mm256_permute2f128_ps(p26, p37, 0x31)};
        float *oi = o + i * OW;
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
          if (cols <= 8 * q) break;
          __m256 vq = row[q];
          if (res) vq = _mm256_add_ps(vq, full ? _mm256_loadu_ps(oi + 8 * q) : _mm256_maskload_ps(oi + 8 * q, ko[q]));
          if (act != ACT_NONE)   /* ReLU, ReLU6: max(y, 0) (NaN -> 0), then min(., 6): act_f32's values */
            vq = _mm256_min_ps(_mm256_max_ps(vq, z), hi6);
          if (full) _mm256_storeu_ps(oi + 8 * q, vq);
          else st8_n(oi + 8 * q, vq, (int)cols - 8 * q);
        }
      }
    }
    t += n;
  }
}

const F32WinoDesc f32_wino43__avx2_desc = {"f32_wino43__avx2", 4, wino4_weights, wino4_input, wino4_output};
