/* q8_gemm_4x16__avx2.c: AVX2 int8 kernels. dq8's on the i16x2 layout: q - z values travel as int16 and
 * _mm256_madd_epi16 multiplies pairs of k exactly into int32. sq8's (since 2026-12-07) on unsigned quads
 * (q8_gemm_4x16u__avx2_desc, below): _mm256_maddubs_epi16, its saturating pairs split off into corrections; the
 * i16x2 sq8 GEMM stays in q8_gemm_4x16__avx2_desc (the tests run it against the reference too).
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

#define Q8_I16X2_DOT(c, a, x) _mm256_add_epi32(c, _mm256_madd_epi16(a, x))
#define Q8_I16X2_ASM   /* tile_4x16's loop in asm (q8_i16x2__avx2.h) */
#include "q8_i16x2__avx2.h"
#include "q8_epi4x16__avx2.h"
#define Q8_UQ_DOT(s, x, a) _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(x, a), _mm256_set1_epi16(1)))
#include "q8_uq__avx2.h"

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
        xv[c] = bcast2(X + 32 * q + 2 * c, X + 32 * (q + 1) + 2 * c);
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
      cols_out(nc, r4, o0 + t * Q8_MR, oe, ob, j, e, rq, k);
    }
  }
}

static void sq8_gemm_avx2(const Q8Gemm *g, const Q8Sq8Epi *e) {
  __m256i c[4][2];
  RowQ rq[RB];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  const EpiK k = epi_k(e);
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
        tile_out(c, nr, o0, ob, j, nc, e, rq, &k);
      }
    }
  }
}

static void dq8_gemm_avx2(const Q8Gemm *g, const Q8Dq8Epi *e) { dq8_gemm_4x16(g, e); }

/* q - z of 8 columns of row v, as int16 */
static inline __m128i quant8(const float *v, __m256 s, __m256 zf, __m256i zi, __m256 qlo, __m256 qhi) {
  __m256 t = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(v), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, zf), qlo), qhi);
  __m256i q = _mm256_sub_epi32(_mm256_cvttps_epi32(t), zi);
  return _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
}

void q8_dq8_quant__avx2(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
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
void q8_dq8_quant_g__avx2(int g0, int g1, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                             ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  q8_dq8_quant__avx2(g1 - g0, gs, N, xf, ldxf, asym, xq + (size_t)g0 * (size_t)q8_gsp(gs) * Q8_NR, pstride, xs + (ptrdiff_t)g0 * ldxs, ldxs);
}

/* dq8 CONV2D straight from the image (Q8Kernels.dq8_conv_quant), as q8_dq8v_conv_quant (the AVX-512 table's) does it
   in 8 lanes: per block of 16 columns its pieces of output rows (at most CQ_MAXP) are found once, with each kernel
   column's load masks and each kernel row's input row; then per group its gs rows of the im2col, 16 columns each by
   masked loads per piece (padding and the columns past N read 0.0f, as the im2col's; stride 2 loads 32 columns and
   keeps the even ones), into an L1 buffer, quantized by q8_dq8_quant__avx2: the same bytes and scales as the im2col
   floats then dq8_quant. Until 2026-12-06 the AVX2 table made the im2col floats (q8_im2col_f32_cols, plain C, and
   its memcpy: ~24% of ResNet18 dq8 on one thread, Zen 3) */
enum { CQ_MAXP = 4, CQ_MAXK = 16, CQ_MAXGS = 256 };
typedef struct {
  int np;
  uint8_t full[CQ_MAXK];             /* stride 1: kernel column kx's 16 lanes all piece 0's (np 1) and inside the row:
                                        plain loads, as vmaskmovps took much of the copy on Zen 3 (perf: ResNet18 dq8
                                        0.90x its time on one thread, 0.93x on two; ResNet50 0.90x; 8-10 alternated
                                        processes each) */
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
    if (pc->full[kx] && pc->pr[0][ky] >= 0) {   /* (stride 1: the one piece, 16 columns inside the row) */
      const float *src = xc + pc->pr[0][ky] + pc->pc[0][kx];
      r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + 8);
    } else {
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
    }
    _mm256_store_ps(buf + i * 16, r0);
    _mm256_store_ps(buf + i * 16 + 8, r1);
    if (++kx == c->kw && (kx = 0, ++ky == c->kh)) ky = 0, xc += HW;
  }
}

int q8_dq8_conv_quant__avx2(const Q8Dq8Conv *c, int g0, int g1, int gs, int N, int asym, int16_t *xq, ptrdiff_t pstride,
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
        if (np == 0) pc.full[kx] = sw == 1 && m == 0xFFFFu;   /* (all 16 lanes this piece's, inside the row) */
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
      q8_dq8_quant_g__avx2(g, g + 1, gs, 16, buf, 16, asym, panel, pstride, xs + v0, ldxs);
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

/* 16 int8 of rows a-d (columns 0-15) -> the u8 quad panel's 64 bytes: column c's 4 bytes (a, b, c, d) ^ 0x80, columns
   in order */
static inline void quad16(__m128i a, __m128i b, __m128i c, __m128i d, int16_t *dst) {
  const __m128i f = _mm_set1_epi8((char)0x80);
  __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b), cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
  __m256i q0 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi16(ab0, cd0)), _mm_unpackhi_epi16(ab0, cd0), 1);
  __m256i q1 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi16(ab1, cd1)), _mm_unpackhi_epi16(ab1, cd1), 1);
  _mm256_storeu_si256((__m256i *)(void *)dst, _mm256_xor_si256(q0, _mm256_set_m128i(f, f)));
  _mm256_storeu_si256((__m256i *)(void *)(dst + 16), _mm256_xor_si256(q1, _mm256_set_m128i(f, f)));
}

/* The fused im2col (Q8Kernels.im2col_cols) into the i16x2 panels (ks = 2) or the unsigned quads (ks = 4): columns [p0, p1) of all K rows from the padded
   planes xp (Hp x Wp each, no tap outside them), X's first panel column p0's (p0 % 16 == 0). Row k = (c, ky, kx)
   of output (oh, ow) reads xp[c * Hp * Wp + (oh * sh + ky * dh) * Wp + ow * sw + kx * dw]. A panel of 16 columns
   on one output row (most of them: 56x56 maps have 3 of 4 so) is one load per row of the matrix (stride 2: two
   loads and shuffles), one across a row's end (stride 1, padded rows of at least 16) two loads and a blend; the
   others (maps under 16 wide, stride 2 across a row's end, the last one's columns past p1, which get zx) gather
   their bytes through per-column offsets. A 1x1 stride-1 unpadded convolution's image is one row (every panel
   whole). Rows in k steps of ks (a step's rows read together and interleaved, pair16 or quad16: two 32-byte stores),
   panels in blocks of up to PB (each row's bytes of neighbouring panels share lines); a last step's rows past K
   repeat its first (their weights are zero): either layout's k step is 32 int16 units of a panel. Until 2026-12-06 the AVX2
   table had no fused im2col: the whole image's matrix was made first (q8_im2col_i8, 3.6 MB for a 56x56 3x3 layer
   of 64 channels), then multiplied: ~31% of ResNet18 sq8's time on one thread, Zen 3. */
static inline __attribute__((always_inline)) void im2col_cols_ks(int ks, const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh,
                                                                  int sw, int dh, int dw, int OH, int OW, int32_t zx, int K, int p0,
                                                                  int p1, int16_t *X, ptrdiff_t pstride) {
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
    ptrdiff_t so[PB][4];       /* stride 1, a panel over up to 4 output rows (o0 -2): per row's run of columns one load */
    __m128i sm[PB][4][2];      /* and its vpshufb to the run's lanes (0x80 elsewhere; stride 2: of its second 16 bytes
                                  too); lanes of no run: zx (mask zm) */
    __m128i zm[PB];
    int ns[PB];
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
      /* runs: a run of n columns at st (row oh, column ow; stride sw) loads the 16 sw bytes ending at its last one (they lie
         in its plane where that start is not before it), or, near a plane's start, the 16 sw from its first (where the
         window's last tap keeps them in its plane); one vpshufb a 16 bytes */
      if (sw == 1 || sw == 2) {
        int L = 0, q = p, h = oh, w0 = ow, nr = 0, ok = 1;
        ptrdiff_t W = 16 * sw, tapmax = (ptrdiff_t)(kh - 1) * dh * Wp + (ptrdiff_t)(kw - 1) * dw;
        _Alignas(16) int8_t cov[Q8_NR] = {0};
        for (; L < Q8_NR && q < p1 && ok; nr++) {
          int n = OW - w0 < Q8_NR - L ? OW - w0 : Q8_NR - L;
          if (n > p1 - q) n = p1 - q;
          ptrdiff_t st = (ptrdiff_t)h * sh * Wp + (ptrdiff_t)w0 * sw, at = st + (ptrdiff_t)sw * (n - 1) + 1 - W;
          if (at < 0) at = st;
          if (nr == 4 || (at == st && tapmax + st + W > (ptrdiff_t)plane)) ok = 0;
          else {
            _Alignas(16) int8_t m[2][Q8_NR];
            memset(m, 0x80, sizeof m);
            for (int l = L; l < L + n; l++) {
              ptrdiff_t rel = st - at + (ptrdiff_t)sw * (l - L);
              m[rel >= 16][l] = (int8_t)(rel & 15), cov[l] = -1;
            }
            so[b][nr] = at, sm[b][nr][0] = _mm_load_si128((const __m128i *)(const void *)m[0]);
            sm[b][nr][1] = _mm_load_si128((const __m128i *)(const void *)m[1]);
          }
          L += n, q += n, w0 += n;
          if (w0 == OW) w0 = 0, h++;
        }
        if (ok) {
          o0[b] = -2, ns[b] = nr, zm[b] = _mm_load_si128((const __m128i *)(const void *)cov);
          continue;
        }
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
    for (int k = 0; k < K; k += ks) {
      const int8_t *r[4];
#pragma GCC unroll 4
      for (int i = 0; i < ks; i++) {
        if (k + i < K) {
          r[i] = xp + cb + (size_t)ky * dh * Wp + (size_t)kx * dw;
          if (++kx == kw && (kx = 0, ++ky == kh)) ky = 0, cb += plane;
        } else
          r[i] = r[0];
      }
      int16_t *d = Xa + (size_t)(k / ks) * 32;
      for (int b = 0; b < np; b++, d += pstride) {
        __m128i v[4];
        if (o0[b] >= 0) {
#pragma GCC unroll 4
          for (int i = 0; i < ks; i++) {
            v[i] = sw == 1 ? _mm_loadu_si128((const __m128i *)(r[i] + o0[b])) : even16(r[i] + o0[b]);
            if (o1[b] >= 0) v[i] = _mm_blendv_epi8(v[i], _mm_loadu_si128((const __m128i *)(r[i] + o1[b])), m1[b]);
          }
        } else if (o0[b] == -2) {
#pragma GCC unroll 4
          for (int i = 0; i < ks; i++) {
            v[i] = _mm_setzero_si128();
            for (int g = 0; g < ns[b]; g++) {
              v[i] = _mm_or_si128(v[i], _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(r[i] + so[b][g])), sm[b][g][0]));
              if (sw == 2) v[i] = _mm_or_si128(v[i], _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(r[i] + so[b][g] + 16)), sm[b][g][1]));
            }
            v[i] = _mm_blendv_epi8(_mm_set1_epi8((char)zx), v[i], zm[b]);
          }
        } else {
          _Alignas(16) int8_t t[4][Q8_NR];
          for (int i = 0; i < Q8_NR; i++) {
            ptrdiff_t o = off[b][i];
#pragma GCC unroll 4
            for (int q = 0; q < ks; q++) t[q][i] = o >= 0 ? r[q][o] : (int8_t)zx;
          }
#pragma GCC unroll 4
          for (int q = 0; q < ks; q++) v[q] = _mm_load_si128((const __m128i *)t[q]);
        }
        if (ks == 2) pair16(v[0], v[1], d);
        else quad16(v[0], v[1], v[2], v[3], d);
      }
    }
  }
}
void q8_im2col_cols_i16x2__avx2(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH,
                             int OW, int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  im2col_cols_ks(2, xp, Hp, Wp, kh, kw, sh, sw, dh, dw, OH, OW, zx, K, p0, p1, X, pstride);
}

/* The whole image's im2col (Q8Kernels.im2col_i8: rows [k0, k1) of every column; the paths that relayout first: a 1x1 on
   one thread, a strided 1x1 on two, ops_q8.c): unpadded, stride 1 or 2, from a whole tap block and whole pairs of
   rows, q8_im2col_cols_i16x2__avx2 of all the columns (the same layout); else the plain C one. ResNet50 sq8's 1x1s on one thread,
   Zen 3: q8_im2col_i8 was ~10% of the time */
void q8_im2col_i8_i16x2__avx2(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                           int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  int taps = kh * kw;
  if (ph == 0 && pw == 0 && (sw == 1 || sw == 2) && k0 % 2 == 0 && (k1 - k0) % 2 == 0 && k0 % taps == 0 && k1 > k0)
    q8_im2col_cols_i16x2__avx2(x + (size_t)(ci0 + k0 / taps) * (size_t)H * (size_t)W, H, W, kh, kw, sh, sw, dh, dw, OH, OW, zx, k1 - k0, 0,
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
__attribute__((cold)) int q8_pack_w_blk_i16x2__avx2(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
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
                                           q8_pack_weights, q8_put_x_i16x2, q8_get_x_i16x2, q8_im2col_i8_i16x2__avx2,
                                           q8_dq8_quant__avx2, sq8_gemm_avx2, dq8_gemm_avx2, q8_im2col_cols_i16x2__avx2, NULL, NULL, NULL, 0, 0, q8_dq8_quant_g__avx2, q8_dq8_conv_quant__avx2, 0, NULL, 0, NULL, NULL, NULL, NULL, q8_pack_w_blk_i16x2__avx2, 0};

/* ---- sq8 on unsigned quads (q8_gemm_4x16u__avx2_desc) ----
   vpmaddubsw multiplies 32 unsigned bytes by 32 signed ones and adds adjacent pairs into int16, saturating; then
   vpmaddwd by ones adds those pairs into int32: 32 products in two multiplies, where vpmaddwd on int16 takes 16 in one
   (the i16x2 kernel above). X holds each activation as x ^ 0x80 = x + 128 (0..255), 4 consecutive k of a column in
   one 32-bit lane; a tile's weights are 4 rows x 4 bytes a quad. The sum of w (x + 128) is the sum of w x plus
   128 x the row's sum of w: the tile's header holds -128 x each row's sum (comp), added to the int32 sums.
   A pair's sum saturates only where both weights have one sign and |w0| + |w1| > 128 (255 x 128 = 32640 fits); such
   a pair is packed as the halves w / 2 (truncated) and its rest w - w / 2 goes to a correction (both halves then
   within 64: exact). A tile's corrections: per row, entries of (the quad's byte offset in a panel, the 4 bytes of its
   rests), run after the main loop on the same panel, a row's entry as one quad of one row; more than 2 kq entries in a
   tile (weights far from a bell's shape) and the rests are a second full set of kq quads instead (dense). Every sum is
   an integer: the same int32 as the reference's, then the same epilogue (row16): the same bytes.
   Tile layout (bytes): int32 comp[4], int32 n[4] (the rows' entries; n[0] = -1: dense), then kq quads of 16 bytes,
   then 16 kq bytes (entries of 8 bytes, row 0's first, the bytes after the last never written (pack_sparse: their
   pages stay unmapped); or the dense rests): 2 bytes a weight
   allocated, as the i16x2 layout's, of which the kernel reads the header, the quads and its entries (the bench models'
   seeded weights, per-channel int8: 1.4-3% of a row's quads corrected at K of 1152-4608, 4-7% at 256-960, 8-14% at
   64-160, up to 31% at 16). The main loop prefetches the next tile's quads (a line every 4 quads): the gap of unread
   entries between tiles kept the hardware's prefetcher from streaming them, and MobileNetV2's 1x1 layers on 7x7 maps,
   whose weights come from L3 or memory once per image, ran 1.15-1.37x their i16x2 time without it and 0.73-1.02x
   with it (Zen 3, one thread, each op over the same process's other ops, medians of 12 processes ABBA).
   Against the i16x2 GEMM in the network (the same method): ResNet18 0.80x on one thread, 0.81x on two; ResNet50
   0.89x and 0.78x; MobileNetV2's GEMM ops 0.92x on one thread (its expansions of K <= 160: 0.97-1.02x, their
   corrections 8-31% of the quads). Standalone (hot caches, 64 rows, weights ~ N(0, 38)): 0.67-0.89x the i16x2 time. */
size_t q8_uq_a_elems__avx2(int M, int G, int gs) {
  return ((size_t)M + Q8_MR - 1) / Q8_MR * uq_tile_bytes((size_t)G * (((size_t)gs + 3) / 4)) / 2;
}
size_t q8_uqw_a_elems__avx2(int M, int G, int gs) {
  return ((size_t)M + Q8_MR - 1) / Q8_MR * uqw_tile_bytes((size_t)G * (((size_t)gs + 3) / 4)) / 2;
}

/* 16 weights (4 quads of one row): the quads as packed (a saturating pair's two weights halved, truncated), their rests
   (w - the packed), and a bit per quad with a rest (bits 4i-4i+3 of *bad: quad i) */
static inline __attribute__((always_inline)) __m128i uq_split16(__m128i v, __m128i *rest, int *bad) {
  const __m128i lo8 = _mm_set1_epi16(0xFF);
  __m128i a = _mm_srai_epi16(_mm_slli_epi16(v, 8), 8), b = _mm_srai_epi16(v, 8);   /* each pair's two weights */
  __m128i u = _mm_and_si128(_mm_cmpgt_epi16(_mm_xor_si128(a, b), _mm_set1_epi16(-1)),   /* one sign (or a zero: then not big) */
                            _mm_cmpgt_epi16(_mm_add_epi16(_mm_abs_epi16(a), _mm_abs_epi16(b)), _mm_set1_epi16(128)));
  __m128i ma = _mm_blendv_epi8(a, _mm_srai_epi16(_mm_add_epi16(a, _mm_srli_epi16(a, 15)), 1), u);
  __m128i mb = _mm_blendv_epi8(b, _mm_srai_epi16(_mm_add_epi16(b, _mm_srli_epi16(b, 15)), 1), u);
  *rest = _mm_or_si128(_mm_and_si128(_mm_sub_epi16(a, ma), lo8), _mm_slli_epi16(_mm_sub_epi16(b, mb), 8));
  *bad = _mm_movemask_epi8(u);
  return _mm_or_si128(_mm_and_si128(ma, lo8), _mm_slli_epi16(mb, 8));
}

/* A tile's weights as the packer reads them: quad q (values 4q .. 4q + 3 of a row's K) as 16 bytes, row r's 4 values at
   4r; rows past M and values past K zero. From rows (rows: nrows rows of K values, K apart), or from the file's blocked
   weights (FORMAT.md, sq8 version 3: a tile at blk of R rows, channel quads of T taps of 4R bytes, the tile's rows from
   o0 % R; value v = channel v / T, tap v % T). One tap: the file's quad q itself. Several: each value's 4 rows picked by
   one vpshufb from its (channel quad, tap)'s 16 bytes, the 4 values interleaved (punpcklbw, then punpcklwd); (c, tp)
   count the values on */
typedef struct { const int8_t *rows; size_t nrows; const int8_t *blk; size_t R4, T, K, c, tp, v; int whole; } UqSrc;
static inline __attribute__((always_inline)) __m128i uq_blk_val(UqSrc *b) {   /* value v's 4 rows in bytes 0-3 */
  if (b->v++ >= b->K) return _mm_setzero_si128();
  __m128i x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(b->blk + (b->c / 4 * b->T + b->tp) * b->R4)),
                               _mm_add_epi8(_mm_setr_epi8(0, 4, 8, 12, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128),
                                            _mm_set1_epi8((char)(b->c % 4))));
  if (++b->tp == b->T) b->tp = 0, b->c++;
  return x;
}
static inline __attribute__((always_inline)) __m128i uq_src_next(UqSrc *b) {
  if (b->rows) {
    _Alignas(16) int32_t w4[4] = {0, 0, 0, 0};
    size_t n = b->v < b->K ? (b->K - b->v < 4 ? b->K - b->v : 4) : 0;
    for (size_t r = 0; r < b->nrows; r++) memcpy(&w4[r], b->rows + r * b->K + b->v, n);
    b->v += 4;
    return _mm_load_si128((const __m128i *)(const void *)w4);
  }
  if (b->T == 1) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b->blk + b->v / 4 * b->R4));
    b->v += 4;
    return x;
  }
  __m128i x0 = uq_blk_val(b), x1 = uq_blk_val(b), x2 = uq_blk_val(b), x3 = uq_blk_val(b);
  return _mm_unpacklo_epi16(_mm_unpacklo_epi8(x0, x1), _mm_unpacklo_epi8(x2, x3));
}

/* one tile (at Tt, kq quads) from its weights s0 (uq_src_next): its quads once split (uq_split16: pairs are adjacent
   bytes of a row), row r's sum in lane r, the rows' entries counted; then, where there are rests, the quads again, a
   row's entries in order (or the dense rests). Written: the header, the quads and the entries (or the dense rests),
   nothing after them (pack_sparse). s0->whole (AVX-VNNI's vpdpbusd, which does not saturate): the quads as they are,
   no entries, a tile of uqw_tile_bytes */
static void uq_pack_tile(uint8_t *Tt, size_t kq, const UqSrc *s0) {
  const __m128i one8 = _mm_set1_epi8(1), one16 = _mm_set1_epi16(1);
  uint8_t *mq = Tt + UQ_HDR, *ex = mq + 16 * kq;
  int32_t n[4] = {0, 0, 0, 0}, tot = 0;
  __m128i sum = _mm_setzero_si128(), rest;
  UqSrc b = *s0;
  for (size_t q = 0; q < kq; q++) {
    __m128i v = uq_src_next(&b);
    int bad = 0;
    sum = _mm_add_epi32(sum, _mm_madd_epi16(_mm_maddubs_epi16(one8, v), one16));   /* (1 x w: no pair saturates) */
    _mm_storeu_si128((__m128i *)(void *)(mq + 16 * q), s0->whole ? v : uq_split16(v, &rest, &bad));
    for (int r = 0; r < 4; r++) n[r] += (bad >> (4 * r) & 15) != 0;
  }
  for (int r = 0; r < 4; r++) tot += n[r];
  int dense = tot > 2 * (int32_t)kq;
  uint8_t *er[4] = {ex, ex + 8 * (size_t)n[0], ex + 8 * (size_t)(n[0] + n[1]), ex + 8 * (size_t)(n[0] + n[1] + n[2])};   /* row r's entries */
  b = *s0;
  for (size_t q = 0; q < kq && tot; q++) {
    int bad;
    _Alignas(16) int32_t r4[4];
    uq_split16(uq_src_next(&b), &rest, &bad);
    if (dense) _mm_storeu_si128((__m128i *)(void *)(ex + 16 * q), rest);
    else if (bad) {
      int32_t off = (int32_t)(64 * q);
      _mm_store_si128((__m128i *)(void *)r4, rest);
      for (int r = 0; r < 4; r++)
        if (bad >> (4 * r) & 15) memcpy(er[r], &off, 4), memcpy(er[r] + 4, &r4[r], 4), er[r] += 8;
    }
  }
  if (dense) n[0] = -1;
  _mm_storeu_si128((__m128i *)(void *)Tt, _mm_mullo_epi32(sum, _mm_set1_epi32(-128)));
  memcpy(Tt + 16, n, 16);
}

/* pack_w: rows w (M of K = G gs, K apart), a tile's 4 rows at a time (whole: uq_pack_tile's) */
static void uq_pack_rows(int M, int G, int gs, const int8_t *w, int16_t *A, int whole) {
  size_t K = (size_t)G * (size_t)gs, kq = (K + 3) / 4, tb = whole ? uqw_tile_bytes(kq) : uq_tile_bytes(kq);
  for (size_t t = 0; t < ((size_t)M + Q8_MR - 1) / Q8_MR; t++) {
    size_t o0 = t * Q8_MR;
    const UqSrc s0 = {.rows = w + o0 * K, .nrows = (size_t)M - o0 < Q8_MR ? (size_t)M - o0 : Q8_MR, .K = K, .whole = whole};
    uq_pack_tile((uint8_t *)(void *)A + t * tb, kq, &s0);
  }
}
static void uq_pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  (void)wz;   /* (sq8: no zero points) */
  uq_pack_rows(M, G, gs, w, A, 0);
}
void q8_uqw_pack_w__avx2(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  (void)wz;
  uq_pack_rows(M, G, gs, w, A, 1);
}

/* pack_w_blk (sq8: one group, no z; R a multiple of 4): straight from the file's tiles, not through rows (rows_of then
   pack_w, whose scalar first version took ResNet18's build from 16 to 40 ms, two threads) */
static int uq_pack_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A, int whole) {
  if (G != 1 || wz || R % 4 || T < 1 || gs % T) return 0;
  size_t K = (size_t)gs, kq = (K + 3) / 4, tb = whole ? uqw_tile_bytes(kq) : uq_tile_bytes(kq), R4 = 4 * (size_t)R;
  size_t tbytes = ((K / (size_t)T + 3) / 4) * (size_t)T * R4;   /* a file tile's bytes */
  for (size_t t = 0; t < ((size_t)M + Q8_MR - 1) / Q8_MR; t++) {   /* (rows past M: the file's zero padding) */
    size_t o0 = t * Q8_MR;
    const UqSrc s0 = {.blk = w + o0 / (size_t)R * tbytes + o0 % (size_t)R * 4, .R4 = R4, .T = (size_t)T, .K = K, .whole = whole};
    uq_pack_tile((uint8_t *)(void *)A + t * tb, kq, &s0);
  }
  return 1;
}
static int uq_pack_w_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
  return uq_pack_blk(M, G, gs, T, w, R, wz, A, 0);
}
int q8_uqw_pack_w_blk__avx2(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
  return uq_pack_blk(M, G, gs, T, w, R, wz, A, 1);
}

static inline size_t uq_xidx(size_t pstride, int k, int p) {
  return (size_t)(p / Q8_NR) * pstride * 2 + (size_t)(k / 4) * 64 + (size_t)(p % Q8_NR) * 4 + (size_t)(k & 3);
}
void q8_uq_put_x__avx2(int16_t *X, size_t pstride, int k, int p, int v) {
  ((uint8_t *)(void *)X)[uq_xidx(pstride, k, p)] = (uint8_t)((uint8_t)(int8_t)v ^ 0x80);
}
int q8_uq_get_x__avx2(const int16_t *X, size_t pstride, int k, int p) {
  return (int8_t)(((const uint8_t *)(const void *)X)[uq_xidx(pstride, k, p)] ^ 0x80);
}

/* the sums of a tile's 4 rows x 16 columns on panel X (kq quads): main quads, corrections, comp. The main quads' loop is
   asm (q8_asm4x16__avx2.h), with one prefetch of the next tile's line a turn: the same arithmetic, the same bytes;
   ResNet50's layers (a harness that im2cols and multiplies them as the op does, the two kernels alternated) ran
   0.88-0.95x their time on the Zen 3 */
static inline __attribute__((always_inline)) void uq_tile(size_t kq, const uint8_t *T, const uint8_t *X, __m256i c[4][2]) {
  const __m256i one = _mm256_set1_epi16(1);
  __m256i c0l = _mm256_setzero_si256(), c0h = c0l, c1l = c0l, c1h = c0l, c2l = c0l, c2h = c0l, c3l = c0l, c3h = c0l;
  int32_t n[4];
  memcpy(n, T + 16, 16);
  const uint8_t *a = T + UQ_HDR;
#define UQ_ROW(i, r, L, H) \
  Q8_ASM_ROW(i, r, L, H, "vpmaddubsw %[b], %[lo], %[t]\n\t" "vpmaddubsw %[b], %[hi], %[b]\n\t" \
                         "vpmaddwd %[one], %[t], %[t]\n\t" "vpmaddwd %[one], %[b], %[b]\n\t")
  for (int pass = 0; pass < (n[0] < 0 ? 2 : 1); pass++, a += 16 * kq)
    Q8_ASM_RUN(UQ_ROW, "prefetcht0 (%[a], %[pfo])\n\t", a, X, kq, [one] "x"(one), [pfo] "r"(uq_tile_bytes(kq)));
#undef UQ_ROW
  c[0][0] = c0l, c[0][1] = c0h, c[1][0] = c1l, c[1][1] = c1h, c[2][0] = c2l, c[2][1] = c2h, c[3][0] = c3l, c[3][1] = c3h;
  const uint8_t *e = T + UQ_HDR + 16 * kq;
#pragma GCC unroll 4
  for (int r = 0; r < 4; r++) {
    __m256i l = c[r][0], h = c[r][1];
    for (int32_t i = n[0] < 0 ? 0 : n[r]; i > 0; i--, e += 8) {
      int32_t off;
      memcpy(&off, e, 4);
      __m256i av = _mm256_set1_epi32(*(const int32_t *)(const void *)(e + 4));
      l = _mm256_add_epi32(l, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(X + off)), av), one));
      h = _mm256_add_epi32(h, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(X + off + 32)), av), one));
    }
    __m256i cv = _mm256_set1_epi32(*(const int32_t *)(const void *)(T + 4 * r));
    c[r][0] = _mm256_add_epi32(l, cv), c[r][1] = _mm256_add_epi32(h, cv);
  }
}

Q8_UQ_SQ8_GEMM(uq_sq8_gemm, uq_tile, uq_cols_nc, uq_tile_bytes)

void q8_uq_im2col_cols__avx2(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH, int OW,
                           int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  im2col_cols_ks(4, xp, Hp, Wp, kh, kw, sh, sw, dh, dw, OH, OW, zx, K, p0, p1, X, pstride);
}

/* im2col_i8 in the quad layout: whole quads from a whole tap block by q8_uq_im2col_cols__avx2 (unpadded, stride 1 or 2), the
   rest (a range's last rows short of a quad, or padded inputs) one value at a time */
void q8_uq_im2col_i8__avx2(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                         int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  int taps = kh * kw, kf = k0;
  if (ph == 0 && pw == 0 && (sw == 1 || sw == 2) && k0 % 4 == 0 && k0 % taps == 0 && k1 - k0 >= 4) {
    kf = k0 + (k1 - k0) / 4 * 4;
    im2col_cols_ks(4, x + (size_t)(ci0 + k0 / taps) * (size_t)H * (size_t)W, H, W, kh, kw, sh, sw, dh, dw, OH, OW, zx, kf - k0, 0,
                   OH * OW, X + (size_t)(k0 / 4) * 32, pstride);
  }
  for (int k = kf; k < k1; k++) {
    int c = ci0 + k / taps, ky = k % taps / kw, kx = k % kw;
    for (int p = 0; p < OH * OW; p++) {
      int iy = p / OW * sh - ph + ky * dh, ix = p % OW * sw - pw + kx * dw;
      q8_uq_put_x__avx2(X, (size_t)pstride, k, p, iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((size_t)c * H + iy) * W + ix] : zx);
    }
  }
}

const Q8Kernels q8_gemm_4x16u__avx2_desc = {"q8_gemm_4x16u__avx2", "avx2", Q8_MR, Q8_NR, 4, 1, q8_uq_a_elems__avx2, uq_pack_w,
                                            q8_uq_put_x__avx2, q8_uq_get_x__avx2, q8_uq_im2col_i8__avx2, NULL, uq_sq8_gemm, NULL,
                                            q8_uq_im2col_cols__avx2, NULL, NULL, NULL, 0, 0,
                                            NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, uq_pack_w_blk, 1};
