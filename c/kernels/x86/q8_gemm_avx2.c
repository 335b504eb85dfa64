/* q8_gemm_avx2.c: AVX2 int8 kernels. int8 (or dq8's q - z) values travel as int16 and
 * _mm256_madd_epi16 multiplies pairs of k exactly into int32 (no maddubs: it saturates).
 * Micro-tile: Q8_MR = 4 output channels x Q8_NR = 16 columns, 8 int32 accumulators.
 * Results equal the reference kernels' bit for bit (same integer sums, same float order). */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "../../src/model.h"
#include "../../src/kernels_q8.h"

#if Q8_MR != 4 || Q8_NR != 16
#error "the AVX2 micro-kernel is written for a 4x16 tile"
#endif

/* int32 tile t[4][16] = A-tile (kp pairs) . X (2*kp rows of ldx, 16 columns) */
static inline void tile_4x16(int kp, const int16_t *A, const int16_t *X, ptrdiff_t ldx,
                             int32_t t[4][16]) {
  __m256i c0l = _mm256_setzero_si256(), c0h = c0l, c1l = c0l, c1h = c0l;
  __m256i c2l = c0l, c2h = c0l, c3l = c0l, c3h = c0l;
  for (int k = 0; k < kp; k++) {
    __m256i r0 = _mm256_loadu_si256((const __m256i *)(X + 2 * k * ldx));
    __m256i r1 = _mm256_loadu_si256((const __m256i *)(X + (2 * k + 1) * ldx));
    /* lo: pairs of columns 0-3 | 8-11, hi: 4-7 | 12-15 */
    __m256i lo = _mm256_unpacklo_epi16(r0, r1), hi = _mm256_unpackhi_epi16(r0, r1);
    const int16_t *a = A + 8 * k;   /* 4 rows x (w[2k], w[2k+1]) */
    __m256i a0 = _mm256_broadcastd_epi32(_mm_loadu_si32(a)), a1 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 2));
    __m256i a2 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 4)), a3 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 6));
    c0l = _mm256_add_epi32(c0l, _mm256_madd_epi16(a0, lo));
    c0h = _mm256_add_epi32(c0h, _mm256_madd_epi16(a0, hi));
    c1l = _mm256_add_epi32(c1l, _mm256_madd_epi16(a1, lo));
    c1h = _mm256_add_epi32(c1h, _mm256_madd_epi16(a1, hi));
    c2l = _mm256_add_epi32(c2l, _mm256_madd_epi16(a2, lo));
    c2h = _mm256_add_epi32(c2h, _mm256_madd_epi16(a2, hi));
    c3l = _mm256_add_epi32(c3l, _mm256_madd_epi16(a3, lo));
    c3h = _mm256_add_epi32(c3h, _mm256_madd_epi16(a3, hi));
  }
#define STORE_ROW(r, l, h)                                                                 \
  _mm256_storeu_si256((__m256i *)t[r], _mm256_permute2x128_si256(l, h, 0x20));             \
  _mm256_storeu_si256((__m256i *)(t[r] + 8), _mm256_permute2x128_si256(l, h, 0x31));
  STORE_ROW(0, c0l, c0h) STORE_ROW(1, c1l, c1h) STORE_ROW(2, c2l, c2h) STORE_ROW(3, c3l, c3h)
#undef STORE_ROW
}

static void sq8_gemm_avx2(const Q8Gemm *g, const Q8Sq8Epi *e) {
  int32_t t[4][16];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      tile_4x16(g->kp, g->A + (size_t)(o0 / Q8_MR) * tile_elems, g->X + j, g->ldx, t);
      for (int r = 0; r < nr; r++) {
        int o = o0 + r;
        int64_t b = e->bias[o], m = e->mult[o];
        int sh = e->shift[o];
        int64_t rnd = (int64_t)1 << (sh - 1);
        int8_t *y = e->y + o * e->ys_o + j * e->ys_p;
        for (int c = 0; c < nc; c++) {
          int64_t v = e->zy + ((((int64_t)t[r][c] + b) * m + rnd) >> sh);
          y[c * e->ys_p] = (int8_t)q8_clamp(v, e->qmin, e->qmax);
        }
      }
    }
  }
}

static void dq8_gemm_avx2(const Q8Gemm *g, const Q8Dq8Epi *e) {
  int32_t t[4][16];
  float acc[4][16];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      const int16_t *A = g->A + (size_t)(o0 / Q8_MR) * tile_elems;
      __m256 f[4][2];
      for (int r = 0; r < 4; r++) f[r][0] = f[r][1] = zero;
      for (int grp = 0; grp < g->G; grp++) {
        tile_4x16(g->kp, A + (size_t)grp * g->kp * Q8_MR * 2,
                  g->X + (ptrdiff_t)grp * 2 * g->kp * g->ldx + j, g->ldx, t);
        const float *xs = e->xs + grp * e->ldxs + j;
        __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8);
        for (int r = 0; r < nr; r++) {
          __m256 w = _mm256_set1_ps(e->ws[(size_t)(o0 + r) * g->G + grp]);
          __m256 s0 = _mm256_mul_ps(w, x0), s1 = _mm256_mul_ps(w, x1);
          __m256 i0 = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)t[r]));
          __m256 i1 = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(t[r] + 8)));
          f[r][0] = _mm256_add_ps(f[r][0], _mm256_mul_ps(s0, i0));
          f[r][1] = _mm256_add_ps(f[r][1], _mm256_mul_ps(s1, i1));
        }
      }
      for (int r = 0; r < nr; r++) {
        __m256 v0 = f[r][0], v1 = f[r][1];
        if (e->bias) {
          __m256 b = _mm256_set1_ps(e->bias[o0 + r]);
          v0 = _mm256_add_ps(b, v0); v1 = _mm256_add_ps(b, v1);
        }
        if (e->act != ACT_NONE) {   /* max(x, 0) like fmaxf for non-NaN */
          v0 = _mm256_max_ps(v0, zero); v1 = _mm256_max_ps(v1, zero);
          if (e->act == ACT_RELU6) { v0 = _mm256_min_ps(v0, six); v1 = _mm256_min_ps(v1, six); }
        }
        _mm256_storeu_ps(acc[r], v0);
        _mm256_storeu_ps(acc[r] + 8, v1);
        float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->ys_p == 1 && nc == Q8_NR) memcpy(y, acc[r], sizeof acc[r]);
        else for (int c = 0; c < nc; c++) y[c * e->ys_p] = acc[r][c];
      }
    }
  }
}

static void dq8_quant_avx2(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
                           int16_t *xq, ptrdiff_t ldx, float *xs, ptrdiff_t ldxs) {
  int gsp = q8_gsp(gs), p = 0;
  const __m256 signmask = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 qlo = _mm256_set1_ps(asym ? -128.0f : -127.0f), qhi = _mm256_set1_ps(127.0f);
  const __m256 m128 = _mm256_set1_ps(-128.0f), c255 = _mm256_set1_ps(255.0f), c127 = _mm256_set1_ps(127.0f);
  for (; p + 8 <= N; p += 8)
    for (int g = 0; g < G; g++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      __m256 s, zf = zero;
      if (!asym) {
        __m256 m = zero;
        for (int i = 0; i < gs; i++) m = _mm256_max_ps(m, _mm256_andnot_ps(signmask, _mm256_loadu_ps(v + i * ldxf)));
        __m256 allz = _mm256_cmp_ps(m, zero, _CMP_EQ_OQ);
        s = _mm256_blendv_ps(_mm256_div_ps(m, c127), one, allz);
      } else {
        __m256 lo = zero, hi = zero;
        for (int i = 0; i < gs; i++) {
          __m256 x = _mm256_loadu_ps(v + i * ldxf);
          lo = _mm256_min_ps(lo, x); hi = _mm256_max_ps(hi, x);
        }
        __m256 eq = _mm256_cmp_ps(hi, lo, _CMP_EQ_OQ);
        s = _mm256_blendv_ps(_mm256_div_ps(_mm256_sub_ps(hi, lo), c255), one, eq);
        __m256 t = _mm256_round_ps(_mm256_sub_ps(m128, _mm256_div_ps(lo, s)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        t = _mm256_min_ps(_mm256_max_ps(t, m128), qhi);
        zf = _mm256_blendv_ps(t, zero, eq);
      }
      _mm256_storeu_ps(xs + g * ldxs + p, s);
      __m256i zi = _mm256_cvttps_epi32(zf);
      for (int i = 0; i < gs; i++) {
        __m256 t = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(v + i * ldxf), s),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, zf), qlo), qhi);
        __m256i q = _mm256_sub_epi32(_mm256_cvttps_epi32(t), zi);
        __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storeu_si128((__m128i *)(xq + (ptrdiff_t)(g * gsp + i) * ldx + p), q16);
      }
      if (gsp != gs) _mm_storeu_si128((__m128i *)(xq + (ptrdiff_t)(g * gsp + gs) * ldx + p), _mm_setzero_si128());
    }
  if (p < N) q8_dq8_quant_ref(G, gs, N - p, xf + p, ldxf, asym, xq + p, ldx, xs + p, ldxs);
}

const Q8Kernels q8_kernels_avx2 = { "avx2", sq8_gemm_avx2, dq8_gemm_avx2, dq8_quant_avx2 };
