/* q8_gemm_4x16__avx2.c: AVX2 int8 kernels on the i16x2 layout. int8 (or dq8's q - z) values travel as int16 and
 * _mm256_madd_epi16 multiplies pairs of k exactly into int32 (no maddubs: it saturates).
 * Micro-tile: Q8_MR = 4 output channels x Q8_NR = 16 columns, 8 int32 accumulators.
 * Results equal the reference kernels' bit for bit (same integer sums, same float order). */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "../../src/kernels_q8.h"
#include "act__avx2.h"
#include "q8_requant__avx2.h"

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

/* The sq8 epilogue (q8_requant__avx2.h): a row's constants (m, c, the shift's count) made once per call for a pass of
   up to RB rows, before the panels, and used by every panel's tiles. A row of shift >= 32 (big) is ~10 vector ops per
   8 outputs where the int64 path takes ~40: a 64 x 64 call of 256 columns at K = 64 (ResNet50's first 1x1s) 33.3 ->
   20.1 us, fastest of 20 rounds of 100 calls (Zen 3, one thread), when it was made in place of the int64 path */
enum { RB = 64 };
typedef struct { __m256i m, c; __m128i cnt; int big; } RowQ;
typedef struct { __m256i zy16, zy32, lo64, hi64; __m128i lo8, hi8; } EpiK;

static inline RowQ row_q(const Q8Sq8Epi *e, int o) {
  int32_t sh = e->shift[o];
  RowQ q = { _mm256_set1_epi64x(e->mult[o]), _mm256_set1_epi64x((int64_t)e->bias[o] * e->mult[o] + ((int64_t)1 << (sh - 1))),
             _mm_cvtsi32_si128(sh >= 32 ? sh - 32 : sh), sh >= 32 };
  return q;
}

/* one row's 16 outputs of the tile (two vectors of 8 int32 dots, columns 0-7 and 8-15) as int8 in column order */
static inline __m128i row16(__m256i v0, __m256i v1, const RowQ *q, const EpiK *k) {
  __m256i y16;
  if (q->big)
    y16 = _mm256_adds_epi16(_mm256_packs_epi32(q8_big8_avx2(v0, q->m, q->c, q->cnt), q8_big8_avx2(v1, q->m, q->c, q->cnt)), k->zy16);
  else   /* clamped to [qmin - zy, qmax - zy] in int64, + zy: within [-128, 127] */
    y16 = _mm256_packs_epi32(_mm256_add_epi32(q8_small8_avx2(v0, q->m, q->c, q->cnt, k->lo64, k->hi64), k->zy32),
                             _mm256_add_epi32(q8_small8_avx2(v1, q->m, q->c, q->cnt, k->lo64, k->hi64), k->zy32));
  /* int16 lanes [0-3, 8-11 | 4-7, 12-15] -> column order, then int8 (saturating: the clamp to [-128, 127]) */
  y16 = _mm256_permute4x64_epi64(y16, 0xD8);
  __m128i y8 = _mm_packs_epi16(_mm256_castsi256_si128(y16), _mm256_extracti128_si256(y16, 1));
  return _mm_min_epi8(_mm_max_epi8(y8, k->lo8), k->hi8);
}

/* the last panel's nc <= 2 columns (a 7x7 map's 49th: tile_4x16 multiplied all 16 columns for it, a quarter of a
   7x7 layer's products), rows [ob, oe) of a pass: 4 row tiles at once, a tile's 4 rows x 2 k pairs (32 bytes of A) by
   one vpmaddwd against a column's pair k in lanes 0-3 and pair k + 1 in lanes 4-7; the two halves added at the end. The
   same int32 sums (integers: in any order), then row16 on lane c = column c: the same bytes */
static inline __attribute__((always_inline)) void sq8_cols_nc(int nc, const Q8Gemm *g, const Q8Sq8Epi *e, const int16_t *X,
                                                               int j, int ob, int oe, const RowQ *rq, const EpiK *k) {
  const size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  const int kp = g->kp;
  for (int o0 = ob; o0 < oe; o0 += 4 * Q8_MR) {
    const int16_t *At[4];
    __m256i s[4][2];
    int nt = oe - o0 >= 4 * Q8_MR ? 4 : (oe - o0 + Q8_MR - 1) / Q8_MR;   /* tiles of this group (others: tile 0, not stored) */
#pragma GCC unroll 4
    for (int t = 0; t < 4; t++) At[t] = g->A + (size_t)(o0 / Q8_MR + (t < nt ? t : 0)) * tile_elems, s[t][0] = s[t][1] = _mm256_setzero_si256();
    int q = 0;
    for (; q + 2 <= kp; q += 2) {
      __m256i xv[2];
#pragma GCC unroll 2
      for (int c = 0; c < nc; c++)
        xv[c] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi32(*(const int32_t *)(const void *)(X + 32 * q + 2 * c))),
                                        _mm_set1_epi32(*(const int32_t *)(const void *)(X + 32 * (q + 1) + 2 * c)), 1);
#pragma GCC unroll 4
      for (int t = 0; t < 4; t++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(At[t] + 8 * q));
#pragma GCC unroll 2
        for (int c = 0; c < nc; c++) s[t][c] = _mm256_add_epi32(s[t][c], _mm256_madd_epi16(a, xv[c]));
      }
    }
    if (q < kp)   /* an odd last pair: its 16 bytes of A, lanes 4-7 zero */
#pragma GCC unroll 4
      for (int t = 0; t < 4; t++) {
        __m256i a = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(At[t] + 8 * q)));
#pragma GCC unroll 2
        for (int c = 0; c < nc; c++)
          s[t][c] = _mm256_add_epi32(s[t][c], _mm256_madd_epi16(a, _mm256_set1_epi32(*(const int32_t *)(const void *)(X + 32 * q + 2 * c))));
      }
    for (int t = 0; t < nt; t++) {
      __m128i r4[2];   /* column c's sums of the tile's 4 rows */
      for (int c = 0; c < nc; c++) r4[c] = _mm_add_epi32(_mm256_castsi256_si128(s[t][c]), _mm256_extracti128_si256(s[t][c], 1));
      if (nc == 1) r4[1] = _mm_setzero_si128();
      /* row r's columns in lanes 0 and 1: (r4[0][r], r4[1][r]) */
      __m128i lo = _mm_unpacklo_epi32(r4[0], r4[1]), hi = _mm_unpackhi_epi32(r4[0], r4[1]);   /* rows 0, 1 | rows 2, 3 */
      for (int r = 0; r < Q8_MR && o0 + t * Q8_MR + r < oe; r++) {
        int o = o0 + t * Q8_MR + r;
        __m128i pr = r < 2 ? lo : hi;
        pr = (r & 1) ? _mm_srli_si128(pr, 8) : pr;
        __m128i y8 = row16(_mm256_zextsi128_si256(_mm_move_epi64(pr)), _mm256_setzero_si256(), &rq[o - ob], k);
        int8_t *y = e->y + o * e->ys_o + j * e->ys_p;
        y[0] = (int8_t)_mm_extract_epi8(y8, 0);
        if (nc == 2) y[e->ys_p] = (int8_t)_mm_extract_epi8(y8, 1);
      }
    }
  }
}

static void sq8_gemm_avx2(const Q8Gemm *g, const Q8Sq8Epi *e) {
  __m256i c[4][2];
  RowQ rq[RB];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  const EpiK k = { _mm256_set1_epi16((short)e->zy), _mm256_set1_epi32(e->zy), _mm256_set1_epi64x((int64_t)e->qmin - e->zy),
                   _mm256_set1_epi64x((int64_t)e->qmax - e->zy), _mm_set1_epi8((char)e->qmin), _mm_set1_epi8((char)e->qmax) };
  for (int ob = 0; ob < g->M; ob += RB) {   /* (RB a multiple of Q8_MR: passes start at a tile) */
    int oe = g->M - ob < RB ? g->M : ob + RB;
    for (int o = ob; o < oe; o++) rq[o - ob] = row_q(e, o);
    for (int j = 0; j < g->N; j += Q8_NR) {
      int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
      const int16_t *X = g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride;
      if (nc <= 2) {
        if (nc == 1) sq8_cols_nc(1, g, e, X, j, ob, oe, rq, &k);
        else sq8_cols_nc(2, g, e, X, j, ob, oe, rq, &k);
        continue;
      }
      for (int o0 = ob; o0 < oe; o0 += Q8_MR) {
        int nr = oe - o0 < Q8_MR ? oe - o0 : Q8_MR;
        tile_4x16(g->kp, g->A + (size_t)(o0 / Q8_MR) * tile_elems, X, c);
        for (int r = 0; r < nr; r++) {
          int o = o0 + r;
          __m128i y8 = row16(c[r][0], c[r][1], &rq[o - ob], &k);
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

/* dq8_quant of groups [g0, g1) only (Q8Kernels.dq8_quant_g): dq8_quant of g1 - g0 groups with X and the scales
   moved to group g0's (its rows start at pair row g0 * gsp / 2 of each panel), so that a convolution's im2col floats
   are made and quantized a group at a time, in L1 (ops_q8.c dq8_quant_cols), not all of a column block's K rows first */
static void dq8_quant_g_avx2(int g0, int g1, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                             ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  dq8_quant_avx2(g1 - g0, gs, N, xf, ldxf, asym, xq + (size_t)g0 * (size_t)q8_gsp(gs) * Q8_NR, pstride, xs + (ptrdiff_t)g0 * ldxs, ldxs);
}

/* dq8 CONV2D straight from the image (Q8Kernels.dq8_conv_quant), as q8_dq8v_conv_quant (the AVX-512 table's) does it
   in 8 lanes: per block of 16 columns its pieces of output rows (at most CQ_MAXP) are found once, with each kernel
   column's load masks and each kernel row's input row; then per group its gs rows of the im2col, 16 columns each by
   masked loads per piece (padding and the columns past N read 0.0f, as the im2col's; stride 2 loads 32 columns and
   keeps the even ones), into an L1 buffer, quantized by dq8_quant_avx2: the same bytes and scales as the im2col
   floats then dq8_quant. Until 2026-12-06 the AVX2 table made the im2col floats (q8_im2col_f32_cols, plain C, and
   its memcpy: ~24% of ResNet18 dq8 on one thread, Zen 3) */
enum { CQ_MAXP = 4, CQ_MAXK = 16, CQ_MAXGS = 256 };
typedef struct {
  int np;
  __m256i mk[CQ_MAXP][CQ_MAXK][4];   /* kernel column kx's load masks: elements 8e..8e+7 of the 16 (stride 2: 32) */
  ptrdiff_t pc[CQ_MAXP][CQ_MAXK];    /* element 0 of the load, from the row's start */
  ptrdiff_t pr[CQ_MAXP][CQ_MAXK];    /* kernel row ky's input row's start in the plane, or -1 (padding) */
} CqPieces;

/* the 32 bits of m as four masks of 8 int32 lanes */
static inline void mask_bits(uint32_t m, __m256i mk[4]) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (int e = 0; e < 4; e++) mk[e] = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)(m >> (8 * e))), bit), bit);
}

/* the even floats of a, b (16 consecutive floats) */
static inline __m256 even8(__m256 a, __m256 b) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

static inline __attribute__((always_inline)) void cq_rows(const Q8Dq8Conv *c, const CqPieces *pc, int k, int gs, float *buf,
                                                          const int sw) {
  int kk = c->kh * c->kw, ci = k / kk, ky = k % kk / c->kw, kx = k % c->kw;
  size_t HW = (size_t)c->H * c->W;
  const float *xc = c->x + (size_t)ci * HW;
  for (int i = 0; i < gs; i++) {
    __m256 r0 = _mm256_setzero_ps(), r1 = r0;   /* pieces' lanes are disjoint, the others 0.0f: or */
    for (int pi = 0; pi < pc->np; pi++) {
      if (pc->pr[pi][ky] < 0) continue;
      const float *src = xc + pc->pr[pi][ky] + pc->pc[pi][kx];
      const __m256i *m = pc->mk[pi][kx];
      if (sw == 1) {
        r0 = _mm256_or_ps(r0, _mm256_maskload_ps(src, m[0]));
        r1 = _mm256_or_ps(r1, _mm256_maskload_ps(src + 8, m[1]));
      } else {
        r0 = _mm256_or_ps(r0, even8(_mm256_maskload_ps(src, m[0]), _mm256_maskload_ps(src + 8, m[1])));
        r1 = _mm256_or_ps(r1, even8(_mm256_maskload_ps(src + 16, m[2]), _mm256_maskload_ps(src + 24, m[3])));
      }
    }
    _mm256_store_ps(buf + i * 16, r0);
    _mm256_store_ps(buf + i * 16 + 8, r1);
    if (++kx == c->kw && (kx = 0, ++ky == c->kh)) ky = 0, xc += HW;
  }
}

static int dq8_conv_quant_avx2(const Q8Dq8Conv *c, int g0, int g1, int gs, int N, int asym, int16_t *xq, ptrdiff_t pstride,
                               float *xs, ptrdiff_t ldxs) {
  if ((c->sw != 1 && c->sw != 2) || gs > CQ_MAXGS || c->kw > CQ_MAXK || c->kh > CQ_MAXK) return 0;
  /* 16 columns are at most 4 pieces of output rows where OW >= 5, or on a map of at most 16 pixels in at most 4 rows */
  if (c->OW < 5 && !(c->OH <= CQ_MAXP && c->OH * c->OW <= 16)) return 0;
  int sw = c->sw;
  _Alignas(32) float buf[CQ_MAXGS * 16];
  CqPieces pc;
  for (int v0 = 0; v0 < N; v0 += 16) {
    int nl = N - v0 < 16 ? N - v0 : 16;
    pc.np = 0;
    for (int a = 0, q = c->p0 + v0; a < nl; pc.np++) {
      int np = pc.np, oh = q / c->OW, ow = q % c->OW, len = c->OW - ow < nl - a ? c->OW - ow : nl - a;
      for (int kx = 0; kx < c->kw; kx++) {
        /* lane i (a <= i < a + len) reads input column base + sw * i; element j of the load is column base + j */
        long base = (long)ow * sw - c->pw + (long)kx * c->dw - (long)sw * a;
        uint32_t m = 0;
        for (int i = a; i < a + len; i++) {
          long col = base + (long)sw * i;
          if (col >= 0 && col < c->W) m |= (uint32_t)1 << (sw * i);
        }
        mask_bits(m, pc.mk[np][kx]);
        pc.pc[np][kx] = (ptrdiff_t)base;
      }
      for (int ky = 0; ky < c->kh; ky++) {
        long ih = (long)oh * c->sh - c->ph + (long)ky * c->dh;
        pc.pr[np][ky] = ih >= 0 && ih < c->H ? (ptrdiff_t)ih * c->W : -1;
      }
      a += len, q += len;
    }
    int16_t *panel = xq + (size_t)(v0 / Q8_NR) * (size_t)pstride;
    for (int g = g0; g < g1; g++) {
      if (sw == 1) cq_rows(c, &pc, g * gs, gs, buf, 1);   /* a copy per stride */
      else cq_rows(c, &pc, g * gs, gs, buf, 2);
      dq8_quant_g_avx2(g, g + 1, gs, 16, buf, 16, asym, panel, pstride, xs + v0, ldxs);
    }
  }
  return 1;
}

/* 16 int8 of rows a and b (columns 0-15) -> the i16x2 panel's 64 bytes of their pair: columns 0-7 then 8-15, each
   as (a, b) sign-extended */
static inline void pair16(__m128i a, __m128i b, int16_t *d) {
  _mm256_storeu_si256((__m256i *)d, _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b)));
  _mm256_storeu_si256((__m256i *)(d + 16), _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, b)));
}

/* the 16 bytes s[0], s[2], ..., s[30] (two loads that read no byte past s[30]) */
static inline __m128i even16(const int8_t *s) {
  const __m128i lo = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, 1, 3, 5, 7, 9, 11, 13, 15);
  return _mm_or_si128(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)s), lo),
                      _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(s + 15)), hi));
}

/* The fused im2col (Q8Kernels.im2col_cols) into the i16x2 panels: columns [p0, p1) of all K rows from the padded
   planes xp (Hp x Wp each, no tap outside them), X's first panel column p0's (p0 % 16 == 0). Row k = (c, ky, kx)
   of output (oh, ow) reads xp[c * Hp * Wp + (oh * sh + ky * dh) * Wp + ow * sw + kx * dw]. A panel of 16 columns
   on one output row (most of them: 56x56 maps have 3 of 4 so) is one load per row of the matrix (stride 2: two
   loads and shuffles), one across a row's end (stride 1, padded rows of at least 16) two loads and a blend; the
   others (maps under 16 wide, stride 2 across a row's end, the last one's columns past p1, which get zx) gather
   their bytes through per-column offsets. A 1x1 stride-1 unpadded convolution's image is one row (every panel
   whole). Rows in pairs (a pair's two rows read together, sign-extended and
   interleaved: two 32-byte stores), panels in blocks of up to PB (each row's bytes of neighbouring panels share
   lines); an odd K's last pair's second row repeats its first (its weights are zero). Until 2026-12-06 the AVX2
   table had no fused im2col: the whole image's matrix was made first (q8_im2col_i8, 3.6 MB for a 56x56 3x3 layer
   of 64 channels), then multiplied: ~31% of ResNet18 sq8's time on one thread, Zen 3. */
static void im2col_cols_avx2(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH,
                             int OW, int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  enum { PB = 16 };
  size_t plane = (size_t)Hp * (size_t)Wp;
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && OW == Wp && OH == Hp) OW = OH * OW, OH = 1, Wp = OW;   /* one row */
  const __m128i idx = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int pa = p0; pa < p1; pa += PB * Q8_NR) {
    int np = (p1 - pa + Q8_NR - 1) / Q8_NR;
    if (np > PB) np = PB;
    ptrdiff_t o0[PB], o1[PB];  /* a panel on one output row: its column 0's offset, o1 -1; on two (stride 1): o1 the
                                  next row's start less the lanes before it, which the blend mask m1 takes */
    __m128i m1[PB];
    ptrdiff_t off[PB][Q8_NR];  /* the others (o0 -1): each column's offset (columns past p1: -1, zx) */
    for (int b = 0; b < np; b++) {
      int p = pa + b * Q8_NR, oh = p / OW, ow = p % OW, l0 = OW - ow;
      o0[b] = (ptrdiff_t)oh * sh * Wp + (ptrdiff_t)ow * sw, o1[b] = -1;
      if (p + Q8_NR <= p1 && ow + Q8_NR <= OW) continue;
      /* two loads that read only bytes the panel's taps read (Wp >= 16: the second starts inside the padded planes) */
      if (p + Q8_NR <= p1 && sw == 1 && Wp >= Q8_NR && Q8_NR - l0 <= OW) {
        o1[b] = (ptrdiff_t)(oh + 1) * sh * Wp - l0;
        m1[b] = _mm_cmpgt_epi8(idx, _mm_set1_epi8((char)(l0 - 1)));
        continue;
      }
      o0[b] = -1;
      for (int i = 0; i < Q8_NR; i++, p++, ow++) {
        if (ow == OW) ow = 0, oh++;
        off[b][i] = p < p1 ? (ptrdiff_t)oh * sh * Wp + (ptrdiff_t)ow * sw : -1;
      }
    }
    int16_t *Xa = X + (size_t)((pa - p0) / Q8_NR) * (size_t)pstride;
    size_t cb = 0;   /* row k = (c, ky, kx) counted up without divisions: cb = c * plane */
    int ky = 0, kx = 0;
    for (int k = 0; k < K; k += 2) {
      const int8_t *ra = xp + cb + (size_t)ky * dh * Wp + (size_t)kx * dw, *rb = ra;
      if (++kx == kw && (kx = 0, ++ky == kh)) ky = 0, cb += plane;
      if (k + 1 < K) {
        rb = xp + cb + (size_t)ky * dh * Wp + (size_t)kx * dw;
        if (++kx == kw && (kx = 0, ++ky == kh)) ky = 0, cb += plane;
      }
      int16_t *d = Xa + (size_t)(k / 2) * (2 * Q8_NR);
      for (int b = 0; b < np; b++, d += pstride) {
        __m128i va, vb;
        if (o0[b] >= 0) {
          if (sw == 1) va = _mm_loadu_si128((const __m128i *)(ra + o0[b])), vb = _mm_loadu_si128((const __m128i *)(rb + o0[b]));
          else va = even16(ra + o0[b]), vb = even16(rb + o0[b]);
          if (o1[b] >= 0) {
            va = _mm_blendv_epi8(va, _mm_loadu_si128((const __m128i *)(ra + o1[b])), m1[b]);
            vb = _mm_blendv_epi8(vb, _mm_loadu_si128((const __m128i *)(rb + o1[b])), m1[b]);
          }
        } else {
          _Alignas(16) int8_t ta[Q8_NR], tb[Q8_NR];
          for (int i = 0; i < Q8_NR; i++) {
            ptrdiff_t o = off[b][i];
            ta[i] = o >= 0 ? ra[o] : (int8_t)zx, tb[i] = o >= 0 ? rb[o] : (int8_t)zx;
          }
          va = _mm_load_si128((const __m128i *)ta), vb = _mm_load_si128((const __m128i *)tb);
        }
        pair16(va, vb, d);
      }
    }
  }
}

/* The whole image's im2col (Q8Kernels.im2col_i8: rows [k0, k1) of every column; the paths that relayout first: a 1x1 on
   one thread, a strided 1x1 on two, ops_q8.c): unpadded, stride 1 or 2, from a whole tap block and whole pairs of
   rows, im2col_cols_avx2 of all the columns (the same layout); else the plain C one. ResNet50 sq8's 1x1s on one thread,
   Zen 3: q8_im2col_i8 was ~10% of the time */
static void im2col_i8_avx2(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                           int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  int taps = kh * kw;
  if (ph == 0 && pw == 0 && (sw == 1 || sw == 2) && k0 % 2 == 0 && (k1 - k0) % 2 == 0 && k0 % taps == 0 && k1 > k0)
    im2col_cols_avx2(x + (size_t)(ci0 + k0 / taps) * (size_t)H * (size_t)W, H, W, kh, kw, sh, sw, dh, dw, OH, OW, zx, k1 - k0, 0,
                     OH * OW, X + (size_t)(k0 / 2) * (2 * Q8_NR), pstride);
  else
    q8_im2col_i8(x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, k0, k1, X, pstride);
}

/* pack_w_blk of several taps (sq8's implicit layers: one group, no z): pair j of a 4-row tile is values 2j and 2j + 1 of
   each row, each one channel c of one tap's 16 bytes (4 rows x 4 channels): one vpshufb takes a value's 4 rows (bytes c,
   c + 4, c + 8, c + 12), one vpunpcklbw interleaves the pair's two, widened to the 8 int16 of the pair. An odd gs's last
   pair takes 0 as its second value (the pad). The scalar loop was ~16 ms of ResNet18 sq8's start-up on two threads */
__attribute__((cold)) static void pack_taps(int M, int gs, int T, const int8_t *w, int R, int16_t *A) {
  size_t C = (size_t)gs / (size_t)T, R4 = 4 * (size_t)R, tbytes = (C + 3) / 4 * (size_t)T * R4, tiles = ((size_t)M + 3) / 4;
  size_t kp = (size_t)q8_gsp(gs) / 2;
  const __m128i sel[4] = {_mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
                          _mm_setr_epi8(1, 5, 9, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
                          _mm_setr_epi8(2, 6, 10, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
                          _mm_setr_epi8(3, 7, 11, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)};
  for (size_t t = 0; t < tiles; t++) {
    const int8_t *tile = w + t * 4 / (size_t)R * tbytes + t * 4 % (size_t)R * 4;
    int16_t *d = A + t * kp * Q8_MR * 2;
    size_t c = 0, tp = 0;   /* value v's channel and tap */
    for (size_t v = 0; v < (size_t)gs; v += 2, d += Q8_MR * 2) {
      __m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(tile + (c / 4 * (size_t)T + tp) * R4)), sel[c % 4]);
      if (++tp == (size_t)T) tp = 0, c++;
      __m128i b = _mm_setzero_si128();
      if (v + 1 < (size_t)gs) {
        b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(tile + (c / 4 * (size_t)T + tp) * R4)), sel[c % 4]);
        if (++tp == (size_t)T) tp = 0, c++;
      }
      _mm_storeu_si128((__m128i *)(void *)d, _mm_cvtepi8_epi16(_mm_unpacklo_epi8(a, b)));
    }
  }
}

/* pack_w_blk: several taps by pack_taps (above); one tap and groups of whole quads (dq8's weights, sq8's 1x1s and
   LINEARs) by vectors: a quad's 4 rows x 4 channels (16 bytes of the file's tile) widened to int16, less each row's z,
   its 32-bit pairs put in the packed order (rows 0-3 of channels 0-1, then of channels 2-3) by one vpermd: pairs 2q and
   2q + 1 of the 4-row tile, 32 bytes. Else q8_pack_weights_blk. ResNet18 dq8's 11 M weights took ~24 ms of CPU in the
   scalar loop (Zen 3) */
__attribute__((cold)) static int pack_w_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
  if (T > 1 && G == 1 && !wz && R % 4 == 0) {
    pack_taps(M, gs, T, w, R, A);
    return 1;
  }
  if (T != 1 || gs % 4 || R % 4) return q8_pack_weights_blk(M, G, gs, T, w, R, wz, A);
  size_t NQ = (size_t)gs / 4, R4 = 4 * (size_t)R, gbytes = NQ * R4, tiles = ((size_t)M + 3) / 4;
  const __m256i perm = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  for (size_t t = 0; t < tiles; t++) {
    size_t o0 = t * 4;
    const int8_t *tile = w + o0 / (size_t)R * (size_t)G * gbytes + o0 % (size_t)R * 4;   /* (R a multiple of 4) */
    for (size_t g = 0; g < (size_t)G; g++) {
      int16_t z[4];
      for (size_t r = 0; r < 4; r++) z[r] = wz && o0 + r < (size_t)M ? (int16_t)wz[(o0 + r) * (size_t)G + g] : 0;
      const __m256i zv = _mm256_setr_epi16(z[0], z[0], z[0], z[0], z[1], z[1], z[1], z[1], z[2], z[2], z[2], z[2], z[3], z[3], z[3], z[3]);
      const int8_t *src = tile + g * gbytes;
      int16_t *d = A + (t * (size_t)G + g) * NQ * 16;
      for (size_t q = 0; q < NQ; q++) {
        __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + q * R4)));
        _mm256_storeu_si256((__m256i *)(void *)(d + q * 16), _mm256_permutevar8x32_epi32(_mm256_sub_epi16(x, zv), perm));
      }
    }
  }
  return 1;
}

const Q8Kernels q8_gemm_4x16__avx2_desc = {"q8_gemm_4x16__avx2", "avx2", Q8_MR, Q8_NR, 2, 2, q8_packed_size,
                                           q8_pack_weights, q8_put_x_i16x2, q8_get_x_i16x2, im2col_i8_avx2,
                                           dq8_quant_avx2, sq8_gemm_avx2, dq8_gemm_avx2, im2col_cols_avx2, NULL, NULL, NULL, 0, 0, dq8_quant_g_avx2, dq8_conv_quant_avx2, 0, NULL, 0, NULL, NULL, NULL, NULL, pack_w_blk};
