/* q8_gemm_4x16__avx2.c: AVX2 int8 kernels on the i16x2 layout. int8 (or dq8's q - z) values travel as int16 and
 * _mm256_madd_epi16 multiplies pairs of k exactly into int32 (no maddubs: it saturates).
 * Micro-tile: Q8_MR = 4 output channels x Q8_NR = 16 columns, 8 int32 accumulators.
 * Results equal the reference kernels' bit for bit (same integer sums, same float order). */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "../../src/kernels_q8.h"
#include "act__avx2.h"

#if Q8_MR != 4 || Q8_NR != 16
#error "the AVX2 micro-kernel is written for a 4x16 tile"
#endif

/* int32 tile c[r][h] (row r, columns 8h..8h+7) = A-tile (kp pairs) . X panel (kp pairs of 16 columns).
   A panel's pair k is 64 contiguous bytes: columns 0-7 then 8-15, each as (x[2k], x[2k+1]). */
static inline __attribute__((always_inline)) void tile_4x16(int kp, const int16_t *A, const int16_t *X,
                                                            __m256i c[4][2]) {
  __m256i c0l = _mm256_setzero_si256(), c0h = c0l, c1l = c0l, c1h = c0l;
  __m256i c2l = c0l, c2h = c0l, c3l = c0l, c3h = c0l;
  for (int k = 0; k < kp; k++) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(X + 32 * k));
    __m256i hi = _mm256_loadu_si256((const __m256i *)(X + 32 * k + 16));
    const int16_t *a = A + 8 * k;   /* 4 rows x (w[2k], w[2k+1]) */
    __m256i a0 = _mm256_broadcastd_epi32(_mm_loadu_si32(a)), a1 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 2));
    c0l = _mm256_add_epi32(c0l, _mm256_madd_epi16(a0, lo));
    c0h = _mm256_add_epi32(c0h, _mm256_madd_epi16(a0, hi));
    c1l = _mm256_add_epi32(c1l, _mm256_madd_epi16(a1, lo));
    c1h = _mm256_add_epi32(c1h, _mm256_madd_epi16(a1, hi));
    __m256i a2 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 4)), a3 = _mm256_broadcastd_epi32(_mm_loadu_si32(a + 6));
    c2l = _mm256_add_epi32(c2l, _mm256_madd_epi16(a2, lo));
    c2h = _mm256_add_epi32(c2h, _mm256_madd_epi16(a2, hi));
    c3l = _mm256_add_epi32(c3l, _mm256_madd_epi16(a3, lo));
    c3h = _mm256_add_epi32(c3h, _mm256_madd_epi16(a3, hi));
  }
  c[0][0] = c0l, c[0][1] = c0h, c[1][0] = c1l, c[1][1] = c1h;
  c[2][0] = c2l, c[2][1] = c2h, c[3][0] = c3l, c[3][1] = c3h;
}

/* FORMAT.md's requant of one row's constants, vectorized in int64 lanes (exact, as the scalar
   formula: acc * m wraps the same way two's complement does, and the right shift is arithmetic) */
typedef struct { __m256i b, m, rnd, zy, lo, hi; __m128i cnt; } Requant;

static inline __m256i requant4(__m128i v32, const Requant *q) {
  __m256i a = _mm256_add_epi64(_mm256_cvtepi32_epi64(v32), q->b);
  __m256i plo = _mm256_mul_epu32(a, q->m);                               /* low half (unsigned) * m */
  __m256i phi = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), q->m);        /* high half (signed) * m */
  __m256i p = _mm256_add_epi64(_mm256_add_epi64(plo, _mm256_slli_epi64(phi, 32)), q->rnd);
  __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);
  __m256i r = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(p, sign), q->cnt), sign);
  r = _mm256_add_epi64(r, q->zy);
  r = _mm256_blendv_epi8(r, q->lo, _mm256_cmpgt_epi64(q->lo, r));
  return _mm256_blendv_epi8(r, q->hi, _mm256_cmpgt_epi64(r, q->hi));
}

/* 8 int32 accumulators -> 8 clamped int32 results */
static inline __m256i requant8(__m256i v, const Requant *q) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  __m256i a = _mm256_permutevar8x32_epi32(requant4(_mm256_castsi256_si128(v), q), even);
  __m256i b = _mm256_permutevar8x32_epi32(requant4(_mm256_extracti128_si256(v, 1), q), even);
  return _mm256_permute2x128_si256(a, b, 0x20);
}

static void sq8_gemm_avx2(const Q8Gemm *g, const Q8Sq8Epi *e) {
  __m256i c[4][2];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    const int16_t *X = g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      tile_4x16(g->kp, g->A + (size_t)(o0 / Q8_MR) * tile_elems, X, c);
      for (int r = 0; r < nr; r++) {
        int o = o0 + r;
        Requant q = { _mm256_set1_epi64x(e->bias[o]), _mm256_set1_epi64x(e->mult[o]),
                      _mm256_set1_epi64x((int64_t)1 << (e->shift[o] - 1)), _mm256_set1_epi64x(e->zy),
                      _mm256_set1_epi64x(e->qmin), _mm256_set1_epi64x(e->qmax), _mm_cvtsi32_si128(e->shift[o]) };
        __m256i y0 = requant8(c[r][0], &q), y1 = requant8(c[r][1], &q);
        /* 16 int32 in [-128, 127] -> 16 int8 in column order */
        __m256i y16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(y0, y1), 0xD8);
        __m128i y8 = _mm_packs_epi16(_mm256_castsi256_si128(y16), _mm256_extracti128_si256(y16, 1));
        int8_t *y = e->y + o * e->ys_o + j * e->ys_p;
        if (e->ys_p == 1 && nc == Q8_NR) _mm_storeu_si128((__m128i *)y, y8);
        else {
          int8_t tmp[16];
          _mm_storeu_si128((__m128i *)tmp, y8);
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = tmp[cc];
        }
      }
    }
  }
}

static void dq8_gemm_avx2(const Q8Gemm *g, const Q8Dq8Epi *e) {
  __m256i c[4][2];
  float acc[4][16];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  const __m256 zero = _mm256_setzero_ps();
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    const int16_t *X = g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      const int16_t *A = g->A + (size_t)(o0 / Q8_MR) * tile_elems;
      __m256 f[4][2];
      for (int r = 0; r < 4; r++) f[r][0] = f[r][1] = zero;
      for (int grp = 0; grp < g->G; grp++) {
        tile_4x16(g->kp, A + (size_t)grp * g->kp * Q8_MR * 2, X + (size_t)grp * g->kp * 2 * Q8_NR, c);
        const float *xs = e->xs + grp * e->ldxs + j;
        __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8);
        for (int r = 0; r < nr; r++) {
          __m256 w = _mm256_set1_ps(e->ws[(size_t)(o0 + r) * g->G + grp]);
          __m256 s0 = _mm256_mul_ps(w, x0), s1 = _mm256_mul_ps(w, x1);
          __m256 i0 = _mm256_cvtepi32_ps(c[r][0]), i1 = _mm256_cvtepi32_ps(c[r][1]);
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
        float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->res) {   /* (ys_p 1) */
          memset(acc[r], 0, sizeof acc[r]);
          memcpy(acc[r], y, sizeof *y * (size_t)nc);
          v0 = _mm256_add_ps(v0, _mm256_loadu_ps(acc[r])), v1 = _mm256_add_ps(v1, _mm256_loadu_ps(acc[r] + 8));
        }
        v0 = act_avx2(v0, e->act), v1 = act_avx2(v1, e->act);
        if (e->ys_p == 1 && nc == Q8_NR) {
          _mm256_storeu_ps(y, v0);
          _mm256_storeu_ps(y + 8, v1);
        } else {
          _mm256_storeu_ps(acc[r], v0);
          _mm256_storeu_ps(acc[r] + 8, v1);
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = acc[r][cc];
        }
      }
    }
  }
}

/* q - z of 8 columns of row v, as int16 */
static inline __m128i quant8(const float *v, __m256 s, __m256 zf, __m256i zi, __m256 qlo, __m256 qhi) {
  __m256 t = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(v), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, zf), qlo), qhi);
  __m256i q = _mm256_sub_epi32(_mm256_cvttps_epi32(t), zi);
  return _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
}

static void dq8_quant_avx2(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
                           int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
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
      /* pairs of rows (i, i+1) interleaved: 8 columns x 2 int16 = 32 bytes of one panel pair */
      int16_t *dst = xq + (size_t)(p / Q8_NR) * (size_t)pstride + (size_t)(g * gsp / 2) * (2 * Q8_NR) + (size_t)(p % Q8_NR) * 2;
      for (int i = 0; i < gs; i += 2, dst += 2 * Q8_NR) {
        __m128i qa = quant8(v + i * ldxf, s, zf, zi, qlo, qhi);
        __m128i qb = i + 1 < gs ? quant8(v + (i + 1) * ldxf, s, zf, zi, qlo, qhi) : _mm_setzero_si128();
        _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(qa, qb));
        _mm_storeu_si128((__m128i *)(dst + 8), _mm_unpackhi_epi16(qa, qb));
      }
    }
  if (p < N) q8_dq8_quant_cols_ref(G, gs, p, N, xf, ldxf, asym, xq, pstride, xs, ldxs);
}

const Q8Kernels q8_gemm_4x16__avx2_desc = {"q8_gemm_4x16__avx2", "avx2", Q8_MR, Q8_NR, 2, 2, q8_packed_size,
                                           q8_pack_weights, q8_put_x_i16x2, q8_get_x_i16x2, q8_im2col_i8,
                                           dq8_quant_avx2, sq8_gemm_avx2, dq8_gemm_avx2, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL};
