/* q8_dq8gemm_4x32__avx512vnni.c: the dq8 GEMM with AVX-512 VNNI (vpdpbusd: u8 x s8, four products
 * per int32 lane), its run-time activation quantization and its own layout. A dq8-only descriptor
 * (the sq8 one is q8_gemm_8x32__avx512vnni.c).
 *
 * dq8 activations are q in [-128, 127] with a zero point z per column and group, weights w (int8)
 * with a zero point zw per row and group (0 when symmetric). Activations travel as u = q + 128 (u8),
 * so per group isum = sum (q - z)(w - zw) = sum u w - (128 + z) sum w - zw sum (q - z), all int32 and
 * exact (a group's true isum fits int32, FORMAT.md; the int32 wrap of the partial terms cancels).
 * sum w and zw come from the packer, c1 = 128 + z and c2 = sum (q - z) from the quantization.
 * The float epilogue is the reference's: acc = 0, per group acc + (ws * xs) * isum, bias last, act.
 * Layout (kr = 4: a group of gs values pads to gsp = gs rounded up to 4, with weight 0 and u = c1):
 *  - A: per tile of 4 rows: [G][gsp / 4][4 rows][4] int8, then [G][4] int32 sum w, [G][4] int32 zw. A version-5 file
 *    holds the tiles' weights in that order (FORMAT.md "dq8 weights, blocked"): read in place, the sums and zero
 *    points apart (Q8Gemm.comp, dq8_blocked_sums).
 *  - X: per panel of 32 columns (x_esize 2: a panel is twice the u8 values): [G * gsp / 4][32][4] u8 u
 *    (k = 4j + i of column p at byte j * 128 + p * 4 + i), then at the same place in the second half
 *    of the panel, per quad and column, the int32 slot c1 | c2 << 16 of its group (gsp <= 128: both
 *    fit int16, one vpmaddwd takes c1 * sum w + c2 * zw), else c1 | c2 << 8 (|c2| < 2^23). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "act__avx2.h"
#include "q8_dq8scale__avx512.h"

enum { MR = 4, NR = 32, KR = 4 };

static size_t gsp_of(int gs) { return (size_t)(gs + KR - 1) / KR * KR; }

size_t q8_dq8v_a_elems(int M, int G, int gs) {
  size_t tiles = (size_t)(M + MR - 1) / MR;
  return tiles * ((size_t)G * gsp_of(gs) * MR + (size_t)G * MR * 8) / 2;
}

/* sum of n int8: sum(u8(x ^ 0x80)) - 128 n by vpsadbw, 64 bytes a step, the tail zero-masked (its
   zeroed lanes count 128 each, taken off with the rest); also the sq8 VNNI packers' (kernels_q8.h) */
int32_t q8_sum_i8__avx512(const int8_t *x, size_t n) {
  const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
  __m512i acc = zero;
  size_t i = 0;
  for (; i < n; i += 64) {
    __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - i)) - 1);
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), flip), zero));
  }
  return (int32_t)(_mm512_reduce_add_epi64(acc) - 128 * (int64_t)i);
}

__attribute__((cold)) void q8_dq8v_pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  size_t gsp = gsp_of(gs), K = (size_t)G * gs, tiles = (size_t)(M + MR - 1) / MR;
  size_t wbytes = (size_t)G * gsp * MR;
  for (size_t t = 0; t < tiles; t++) {
    int8_t *a = (int8_t *)A + t * (wbytes + (size_t)G * MR * 8);
    int32_t *sums = (int32_t *)(void *)(a + wbytes), *zws = sums + (size_t)G * MR;
    for (int g = 0; g < G; g++)
      for (int r = 0; r < MR; r++) {
        size_t o = t * MR + (size_t)r;
        int32_t sum = 0;
        size_t k = 0;
        if (o < (size_t)M) {   /* whole quads: 4 bytes a copy (g * gsp is a multiple of 4) */
          const int8_t *src = w + o * K + (size_t)g * gs;
          int8_t *dst = a + ((size_t)g * gsp / 4 * MR + (size_t)r) * 4;
          sum = q8_sum_i8__avx512(src, (size_t)gs);
          for (; k + 4 <= (size_t)gs; k += 4) memcpy(dst + k / 4 * MR * 4, src + k, 4);
        }
        for (; k < gsp; k++) {   /* the last partial quad: its bytes past gs are 0 */
          int8_t v = o < (size_t)M && k < (size_t)gs ? w[o * K + (size_t)g * gs + k] : 0;
          a[(((size_t)g * gsp + k) / 4 * MR + (size_t)r) * 4 + k % 4] = v;
        }
        int32_t z = o < (size_t)M && wz ? wz[o * (size_t)G + (size_t)g] : 0;
        memcpy(&sums[g * MR + r], &sum, 4);
        memcpy(&zws[g * MR + r], &z, 4);
      }
  }
}

/* byte of element (k, p) and of its quad's correction slot (pstride: int16 units per panel) */
static size_t ubyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + (size_t)(k / 4) * (NR * 4) + (size_t)(p % NR) * 4 + (size_t)(k % 4);
}
static size_t slotbyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + pstride + (size_t)(k / 4) * (NR * 4) + (size_t)(p % NR) * 4;
}
/* element (k, p) as q - z (the test's view); put_x stores v with z = 0 */
int q8_dq8v_get_x(const int16_t *X, size_t pstride, int k, int p) {
  int32_t slot;
  memcpy(&slot, (const uint8_t *)X + slotbyte(pstride, k, p), 4);
  return (int)((const uint8_t *)X)[ubyte(pstride, k, p)] - (slot & 0xFF);
}
void q8_dq8v_put_x(int16_t *X, size_t pstride, int k, int p, int v) {
  int32_t slot = 128;
  ((uint8_t *)X)[ubyte(pstride, k, p)] = (uint8_t)(v + 128);
  memcpy((uint8_t *)X + slotbyte(pstride, k, p), &slot, 4);
}

/* the correction slot of a group's columns: c1 = 128 + z in the low byte, c2 = sum (q - z) above it, at
   bit 16 when the group has at most 128 values (|c2| <= 255 * 128 fits int16: the GEMM's epilogue then
   takes c1 * sum w + zw * c2 in one vpmaddwd), else at bit 8 (|c2| < 2^23) */
static int32_t slot_of(int gsp, int32_t c1, int32_t c2) {
  return (int32_t)((uint32_t)c1 | (uint32_t)c2 << (gsp <= 128 ? 16 : 8));
}

/* columns [p0, N) of groups [g0, g1) one at a time (FORMAT.md's rule through the reference's helpers) */
static void quant_cols(int g0, int g1, int gs, int p0, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                       size_t ps, float *xs, ptrdiff_t ldxs) {
  int gsp = (int)gsp_of(gs);
  uint8_t *xb = (uint8_t *)xq;
  for (int p = p0; p < N; p++)
    for (int g = g0; g < g1; g++) {
      const float *v = xf + (ptrdiff_t)(g - g0) * gs * ldxf + p;
      int32_t z, c2 = 0;
      float s = q8_dq8_group_params(v, ldxf, gs, asym, &z);
      xs[g * ldxs + p] = s;
      for (int i = 0; i < gsp; i++) {
        int32_t q = i < gs ? q8_dq8_quant1(v[i * ldxf], s, z, asym) : z;
        c2 += q - z;
        xb[ubyte(ps, g * gsp + i, p)] = (uint8_t)(q + 128);
      }
      int32_t slot = slot_of(gsp, 128 + z, c2);
      for (int i = 0; i < gsp; i += 4) memcpy(xb + slotbyte(ps, g * gsp + i, p), &slot, 4);
    }
}

#define RNE Q8_RNE

/* u = q + 128 = clamp(rne(v / s) + c1, ulo, 255) of 16 columns of row v as int32, c1 = 128 + z (float,
   exact: every term is a small integer, or the clamp decides). fast: rne(v / s) without a division where it
   cannot change the result (a vdivps is ~10x a multiply): with r within 1.1 * 2^-24 of 1 / s (s in [2^-100,
   2^100], so r is a normal float), y = v * r is within 2.1 * 2^-24 |v / s| < 2^-14.9 of v / s (|v / s| <=
   256 here: s comes from the group's own min / max), so when y is farther than 2^-14 from every
   half-integer, rne(y) = rne(v / s); t = rne(y) = y - reduce(y), and *e keeps the largest |reduce(y)|
   (vrangeps keeps a NaN, which fails the caller's check). clamp 0: the caller has shown that no u can
   clip (see quant_group16). */
static inline __attribute__((always_inline)) __m512i quant16(const float *v, __m512 s, __m512 r, const int fast,
                                                             const int clamp, __m512 c1f, __m512 ulo, __m512 *e) {
  const __m512 x = _mm512_loadu_ps(v), c255 = _mm512_set1_ps(255.0f);
  __m512 t;
  if (fast) {
    __m512 y = _mm512_mul_ps(x, r), ey = _mm512_reduce_ps(y, RNE);
    *e = _mm512_range_ps(*e, ey, Q8_MAXABS);
    t = _mm512_sub_ps(y, ey);
  } else t = _mm512_roundscale_ps(_mm512_div_ps(x, s), RNE);
  t = _mm512_add_ps(t, c1f);
  return _mm512_cvttps_epi32(clamp ? _mm512_min_ps(_mm512_max_ps(t, ulo), c255) : t);
}

/* 4 rows x 16 columns of u (bytes in int32 lanes) -> 16 columns x 4 bytes, stored; returns them */
static inline __m512i put_quad(uint8_t *quad, __m512i u0, __m512i u1, __m512i u2, __m512i u3) {
  __m512i w = _mm512_ternarylogic_epi32(u0, _mm512_slli_epi32(u1, 8), _mm512_slli_epi32(u2, 16), 0xFE);
  w = _mm512_or_si512(w, _mm512_slli_epi32(u3, 24));
  _mm512_storeu_si512(quad, w);
  return w;
}

/* one quad: rows v[j * ldxf], j < n (1..4; the others c1), by the reciprocal (fast) or by divisions;
   returns 0 for a fast one with a lane near a tie or a NaN (nothing is stored then) */
static inline __attribute__((always_inline)) int quad16(const float *v, ptrdiff_t ldxf, int n, __m512 s, __m512 r,
                                                        const int fast, const int clamp, __m512 c1f, __m512i c1,
                                                        __m512 ulo, uint8_t *quad, __m512i *w) {
  __m512 e = _mm512_setzero_ps();
  __m512i u0 = quant16(v, s, r, fast, clamp, c1f, ulo, &e);
  __m512i u1 = n > 1 ? quant16(v + ldxf, s, r, fast, clamp, c1f, ulo, &e) : c1;
  __m512i u2 = n > 2 ? quant16(v + 2 * ldxf, s, r, fast, clamp, c1f, ulo, &e) : c1;
  __m512i u3 = n > 3 ? quant16(v + 3 * ldxf, s, r, fast, clamp, c1f, ulo, &e) : c1;
  if (fast && _mm512_cmp_ps_mask(e, _mm512_set1_ps(0.5f - 0x1p-14f), _CMP_NLT_UQ)) return 0;
  *w = put_quad(quad, u0, u1, u2, u3);
  return 1;
}

/* a quad by exact divisions (the reference's): a near tie (~1 quad in 100), or a scale out of range */
static __attribute__((noinline)) __m512i quad_exact(const float *v, ptrdiff_t ldxf, int n, __m512 s, __m512 c1f,
                                                     __m512i c1, __m512 ulo, uint8_t *quad) {
  __m512i w;
  quad16(v, ldxf, n, s, s, 0, 1, c1f, c1, ulo, quad, &w);
  return w;
}

/* the u of rows [0, gsp) of 16 columns (rows past gs: c1) into their quads; returns their sum */
static inline __attribute__((always_inline)) __m512i quant_rows(const float *v, ptrdiff_t ldxf, int gs, int gsp, __m512 s,
                                                                __m512 rs, int fast, const int clamp, __m512 c1f, __m512i c1,
                                                                __m512 ulo, uint8_t *quad) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i acc = _mm512_setzero_si512();
  int i = 0;
  for (; i + 4 <= gs; i += 4, quad += NR * 4, v += 4 * ldxf) {
    __m512i w;
    if (!fast || !quad16(v, ldxf, 4, s, rs, 1, clamp, c1f, c1, ulo, quad, &w)) w = quad_exact(v, ldxf, 4, s, c1f, c1, ulo, quad);
    acc = _mm512_dpbusd_epi32(acc, w, ones);
  }
  if (i < gsp) {   /* the last quad: gs % 4 rows, then c1 */
    __m512i w;
    if (!fast || !quad16(v, ldxf, gs - i, s, rs, 1, clamp, c1f, c1, ulo, quad, &w)) w = quad_exact(v, ldxf, gs - i, s, c1f, c1, ulo, quad);
    acc = _mm512_dpbusd_epi32(acc, w, ones);
  }
  return acc;
}

/* a row's 16 floats QPF rows on: both lines (a 14x14 map's rows of 16 columns cross one). At batch 1 on two threads
   the rows are often the other core's (a depthwise op's output, split by channels). This Xeon (2026-12-06, MobileNetV2
   dq8, per op, fastest of 6 alternated): its 14x14 projections 0.88-0.93x their time, its 28x28 ones 0.85-0.89x; 16
   rows on about the same */
enum { QPF = 32 };
static inline __attribute__((always_inline)) void pf_row(const float *p) {
  _mm_prefetch((const char *)p, _MM_HINT_T0);
  _mm_prefetch((const char *)(p + 15), _MM_HINT_T0);
}

/* one group of 16 columns: rows v[i * ldxf] (i < gs) to u in its quads (quad0: the group's first one, in
   the column's panel), its slots and scales xsp[0..16), the same s, z and q as the reference. No division
   on the common path: s and 1 / s by q8_dq8scale__avx512.h. The zero
   point: symmetric 0; asymmetric with no value below 0 in any column (a ReLU's outputs: lo = 0) -128, or 0
   where hi = lo = 0; else by a division (the rare asymmetric case). The clamp of u: symmetric, |v / s| <=
   127 (1 + 2^-23) so |rne| <= 127 and u = rne + 128 in [1, 255]; asymmetric with lo = 0, v / s in [0,
   255 (1 + 2^-23)], so u = rne in [0, 255] (or c1 = 128, u = 128 where all are 0): no u clips, the clamp
   goes; kept for the other asymmetric groups. A scale out of [2^-100, 2^100] (inf and NaN included):
   every quad by divisions. */
static void quant_group16(const float *v, ptrdiff_t ldxf, int gs, int asym, uint8_t *quad0, size_t ps, float *xsp) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), c127 = _mm512_set1_ps(127.0f);
  const __m512 m128 = _mm512_set1_ps(-128.0f), c128 = _mm512_set1_ps(128.0f);
  const __m512 ulo = _mm512_set1_ps(asym ? 0.0f : 1.0f);
  int gsp = (int)gsp_of(gs), i = 0;
  __m512 d, l = zero, zf = zero;
  if (!asym) {   /* four running maxima: the max of a set does not depend on the order */
    __m512 m[4] = {zero, zero, zero, zero};
    for (; i + 4 <= gs; i += 4)
      #pragma GCC unroll 4
      for (int u = 0; u < 4; u++) {
        pf_row(v + (i + u + QPF) * ldxf);
        m[u] = _mm512_max_ps(m[u], _mm512_abs_ps(_mm512_loadu_ps(v + (i + u) * ldxf)));
      }
    for (; i < gs; i++) m[0] = _mm512_max_ps(m[0], _mm512_abs_ps(_mm512_loadu_ps(v + i * ldxf)));
    d = _mm512_max_ps(_mm512_max_ps(m[0], m[1]), _mm512_max_ps(m[2], m[3]));
  } else {
    __m512 lo[4] = {zero, zero, zero, zero}, hi[4] = {zero, zero, zero, zero};
    for (; i + 4 <= gs; i += 4)
      #pragma GCC unroll 4
      for (int u = 0; u < 4; u++) {
        pf_row(v + (i + u + QPF) * ldxf);
        __m512 x = _mm512_loadu_ps(v + (i + u) * ldxf);
        lo[u] = _mm512_min_ps(lo[u], x), hi[u] = _mm512_max_ps(hi[u], x);
      }
    for (; i < gs; i++) {
      __m512 x = _mm512_loadu_ps(v + i * ldxf);
      lo[0] = _mm512_min_ps(lo[0], x), hi[0] = _mm512_max_ps(hi[0], x);
    }
    l = _mm512_min_ps(_mm512_min_ps(lo[0], lo[1]), _mm512_min_ps(lo[2], lo[3]));
    d = _mm512_sub_ps(_mm512_max_ps(_mm512_max_ps(hi[0], hi[1]), _mm512_max_ps(hi[2], hi[3])), l);
  }
  __mmask16 eq = _mm512_cmp_ps_mask(d, zero, _CMP_EQ_OQ);   /* hi == lo (asym) or all 0 (sym): s = 1, z = 0 */
  __m512 s, rs;
  int fast = q8_dq8_scale16(d, asym, &s, &rs) == 0xFFFF;
  if (!fast) s = _mm512_mask_blend_ps(eq, _mm512_div_ps(d, _mm512_set1_ps(asym ? 255.0f : 127.0f)), one);   /* d = inf */
  int clamp = 0;
  if (asym) {
    if (_mm512_cmp_ps_mask(l, zero, _CMP_EQ_OQ) == 0xFFFF) zf = _mm512_mask_blend_ps(eq, m128, zero);   /* lo = 0 */
    else {
      __m512 t = _mm512_roundscale_ps(_mm512_sub_ps(m128, _mm512_div_ps(l, s)), RNE);
      zf = _mm512_mask_blend_ps(eq, _mm512_min_ps(_mm512_max_ps(t, m128), c127), zero);
      clamp = 1;
    }
  }
  _mm512_storeu_ps(xsp, s);
  __m512 c1f = _mm512_add_ps(zf, c128);
  __m512i c1 = _mm512_cvttps_epi32(c1f);
  __m512i sum = fast && !clamp ? quant_rows(v, ldxf, gs, gsp, s, rs, 1, 0, c1f, c1, ulo, quad0)
                               : quant_rows(v, ldxf, gs, gsp, s, rs, fast, 1, c1f, c1, ulo, quad0);
  /* c2 = sum (q - z) = sum (u - c1) over the gsp values (a padded one is u = c1) */
  __m512i c2 = _mm512_sub_epi32(sum, _mm512_mullo_epi32(c1, _mm512_set1_epi32(gsp)));
  __m512i slot = _mm512_or_si512(c1, gsp <= 128 ? _mm512_slli_epi32(c2, 16) : _mm512_slli_epi32(c2, 8));
  uint8_t *sl = quad0 + ps;
  for (i = 0; i < gsp; i += 4, sl += NR * 4) _mm512_storeu_si512(sl, slot);
}

/* the first quad of group g of column p (p % 16 == 0) */
static uint8_t *quad_of(int16_t *xq, size_t ps, int gsp, int g, int p) {
  return (uint8_t *)xq + (size_t)(p / NR) * 2 * ps + (size_t)(g * gsp / 4) * (NR * 4) + (size_t)(p % NR) * 4;
}

/* groups [g0, g1), 16 columns at a time, the rest by quant_cols */
void q8_dq8v_quant_g(int g0, int g1, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                     ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  int gsp = (int)gsp_of(gs), p = 0;
  size_t ps = (size_t)pstride;
  for (; p + 16 <= N; p += 16)
    for (int g = g0; g < g1; g++)
      quant_group16(xf + (ptrdiff_t)(g - g0) * gs * ldxf + p, ldxf, gs, asym, quad_of(xq, ps, gsp, g, p), ps,
                    xs + g * ldxs + p);
  if (p < N) quant_cols(g0, g1, gs, p, N, xf, ldxf, asym, xq, ps, xs, ldxs);
}

static inline __mmask16 lanes(long lo, long hi) {   /* lanes [lo, hi) of 16 */
  if (lo < 0) lo = 0;
  if (hi > 16) hi = 16;
  if (hi <= lo) return 0;
  return (__mmask16)((((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1));
}

/* Convolutions of stride 1 or 2 straight from the image: per 16 columns, their pieces of output rows (at
   most 4: OW >= 5, or a small map below), and per piece the input columns each kernel column reads (as load masks) and the
   input row each kernel row reads; then per group its gs rows, a row of 16 columns by masked loads per
   piece (padding and the lanes past N read 0.0f, as the im2col's; stride 2 loads 32 columns and keeps
   the even ones), into an L1 buffer, quantized as dq8_quant_g's. */
enum { CQ_MAXP = 4, CQ_MAXK = 16, CQ_MAXGS = 256 };
typedef struct {
  int np;
  uint32_t m[CQ_MAXP][CQ_MAXK];    /* load mask (stride 2: 32 elements) */
  __mmask16 lane[CQ_MAXP];         /* the piece's lanes */
  ptrdiff_t pc[CQ_MAXP][CQ_MAXK];  /* element 0 of the load, from the row's start */
  ptrdiff_t pr[CQ_MAXP][CQ_MAXK];  /* the row's start in the plane, or -1 (padding) */
} Pieces;

static inline __attribute__((always_inline)) void conv_rows(const Q8Dq8Conv *c, const Pieces *pc, int k, int gs,
                                                            float *buf, const int sw) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  int kk = c->kh * c->kw, ci = k / kk, ky = k % kk / c->kw, kx = k % c->kw;
  size_t HW = (size_t)c->H * c->W;
  const float *xc = c->x + (size_t)ci * HW;
  for (int i = 0; i < gs; i++) {
    __m512 r = _mm512_setzero_ps();
    for (int pi = 0; pi < pc->np; pi++) {
      if (pc->pr[pi][ky] < 0) continue;
      const float *src = xc + pc->pr[pi][ky] + pc->pc[pi][kx];
      uint32_t m = pc->m[pi][kx];
      if (sw == 1) r = _mm512_mask_loadu_ps(r, (__mmask16)m, src);
      else {
        __m512 v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)m, src), even,
                                          _mm512_maskz_loadu_ps((__mmask16)(m >> 16), src + 16));
        r = _mm512_mask_mov_ps(r, pc->lane[pi], v);
      }
    }
    _mm512_store_ps(buf + i * 16, r);
    if (++kx == c->kw && (kx = 0, ++ky == c->kh)) ky = 0, xc += HW;
  }
}

int q8_dq8v_conv_quant(const Q8Dq8Conv *c, int g0, int g1, int gs, int N, int asym, int16_t *xq, ptrdiff_t pstride,
                       float *xs, ptrdiff_t ldxs) {
  if ((c->sw != 1 && c->sw != 2) || gs > CQ_MAXGS || c->kw > CQ_MAXK || c->kh > CQ_MAXK) return 0;
  /* 16 columns are at most 4 pieces of output rows where OW >= 5, or on a map of at most 16 pixels in at most 4 rows
     (one block from column 0: an image's N <= 16 columns are one call, p0 a multiple of NR). Such maps (2x2, 3x3,
     4x4: the pipeline's ResNet18 at 32x32) had gone through the im2col floats and, for N < 16, the scalar quantizer */
  if (c->OW < 5 && !(c->OH <= CQ_MAXP && c->OH * c->OW <= 16)) return 0;
  int gsp = (int)gsp_of(gs), sw = c->sw;
  size_t ps = (size_t)pstride;
  float buf[CQ_MAXGS * 16] __attribute__((aligned(64)));
  Pieces pc;
  for (int v0 = 0; v0 < N; v0 += 16) {
    int nl = N - v0 < 16 ? N - v0 : 16;
    pc.np = 0;
    for (int a = 0, q = c->p0 + v0; a < nl; pc.np++) {
      int np = pc.np, oh = q / c->OW, ow = q % c->OW, len = c->OW - ow < nl - a ? c->OW - ow : nl - a;
      pc.lane[np] = lanes(a, a + len);
      for (int kx = 0; kx < c->kw; kx++) {
        /* lane i (a <= i < a + len) reads input column base + sw * i; element j of the load is column base + j */
        long base = (long)ow * sw - c->pw + (long)kx * c->dw - (long)sw * a;
        uint32_t m = 0;
        for (int i = a; i < a + len; i++) {
          long col = base + (long)sw * i;
          if (col >= 0 && col < c->W) m |= (uint32_t)1 << (sw * i);
        }
        pc.m[np][kx] = m, pc.pc[np][kx] = (ptrdiff_t)base;
      }
      for (int ky = 0; ky < c->kh; ky++) {
        long ih = (long)oh * c->sh - c->ph + (long)ky * c->dh;
        pc.pr[np][ky] = ih >= 0 && ih < c->H ? (ptrdiff_t)ih * c->W : -1;
      }
      a += len, q += len;
    }
    for (int g = g0; g < g1; g++) {
      if (sw == 1) conv_rows(c, &pc, g * gs, gs, buf, 1);   /* a copy per stride */
      else conv_rows(c, &pc, g * gs, gs, buf, 2);
      quant_group16(buf, 16, gs, asym, quad_of(xq, ps, gsp, g, v0), ps, xs + g * ldxs + v0);
    }
  }
  return 1;
}

void q8_dq8v_quant(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq, ptrdiff_t pstride,
                   float *xs, ptrdiff_t ldxs) {
  q8_dq8v_quant_g(0, G, gs, N, xf, ldxf, asym, xq, pstride, xs, ldxs);
}

/* the output of rows [o0, o0 + nr) (nr <= MR), columns [j, j + nc): f (bias, act) to y; the activation
   a loop over 8-float pieces (one copy of its code) */
static void store_rows(const Q8Dq8Epi *e, int o0, int nr, int j, int nc, __m512 f[MR][2]) {
  for (int r = 0; r < nr; r++) {
    float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
    __m512 v0 = f[r][0], v1 = f[r][1];
    if (e->bias) {
      __m512 b = _mm512_set1_ps(e->bias[o0 + r]);
      v0 = _mm512_add_ps(b, v0), v1 = _mm512_add_ps(b, v1);
    }
    int n0 = nc < 16 ? nc : 16, n1 = nc - n0;
    __mmask16 k0 = (__mmask16)((1u << n0) - 1), k1 = n1 > 0 ? (__mmask16)((1u << n1) - 1) : 0;
    if (e->res)   /* (ys_p 1) */
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(k0, y)), v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(k1, y + 16));
    v0 = act16_avx512(v0, e->act), v1 = act16_avx512(v1, e->act);
    if (e->ys_p == 1) {   /* straight to y */
      _mm512_mask_storeu_ps(y, k0, v0);
      if (n1 > 0) _mm512_mask_storeu_ps(y + 16, k1, v1);
    } else {
      float out[NR];
      _mm512_storeu_ps(out, v0), _mm512_storeu_ps(out + 16, v1);
      for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = out[cc];
    }
  }
}

/* the int32 sums of one 4 x 32 micro-tile over one group's kq quads: per quad 2 loads of X, 4 broadcasts of A,
   8 vpdpbusd; with half (a tile of at most 16 columns, a map's last: 196 = 6 x 32 + 4, 784 = 24 x 32 + 16) only the
   first 16 columns' X, 4 vpdpbusd, the other half's sums 0 (its outputs are not stored). A 14x14 map's 4-column tile
   had cost a whole 32-column one, and on two threads one thread had 4 tiles against 3: ResNet18 dq8's 14x14 layers at
   batch 1 0.95x their time on one thread, 0.89-0.92x on two, its 28x28 ones 0.98x (Zen 4, 60 images, ABBA, fastest of
   6-8). Not inlined (group_acc, group_acc16: one copy each): inline (or written in gemm_t's loop, as it was) GCC's
   registers for the 8 sums were a rotation of 16 copies every quad; the call stores them once a group (kq quads) */
static inline __attribute__((always_inline)) void group_sums(const int8_t *ap, const uint8_t *xp, size_t kq, __m512i acc[MR][2],
                                                             const int half) {
  __m512i c[MR][2];
#pragma GCC unroll 4
  for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
  for (size_t q = 0; q < kq; q++, xp += NR * 4, ap += MR * 4) {
    __m512i x0 = _mm512_loadu_si512(xp), x1 = half ? x0 : _mm512_loadu_si512(xp + 64);
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
      int32_t w4;
      memcpy(&w4, ap + r * 4, 4);
      __m512i a = _mm512_set1_epi32(w4);
      c[r][0] = _mm512_dpbusd_epi32(c[r][0], x0, a);
      if (!half) c[r][1] = _mm512_dpbusd_epi32(c[r][1], x1, a);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < MR; r++) acc[r][0] = c[r][0], acc[r][1] = c[r][1];
}
static __attribute__((noinline)) void group_acc(const int8_t *ap, const uint8_t *xp, size_t kq, __m512i acc[MR][2]) {
  group_sums(ap, xp, kq, acc, 0);
}
static __attribute__((noinline)) void group_acc16(const int8_t *ap, const uint8_t *xp, size_t kq, __m512i acc[MR][2]) {
  group_sums(ap, xp, kq, acc, 1);
}

/* tile o0's weights, its groups' weight sums and zero points ([G][4] each: from comp when the file's blocked weights
   are read in place, else after the packed tile's quads), and each row's scales (a padded row's: the last real one's) */
typedef struct {
  const int8_t *A;
  const int32_t *sums, *zws;
  const float *wsr[MR];
} TileW;
static inline __attribute__((always_inline)) TileW tile_w(const Q8Gemm *g, const Q8Dq8Epi *e, int o0, int nr, size_t tile,
                                                          size_t wbytes) {
  TileW t;
  t.A = (const int8_t *)g->A + (size_t)(o0 / MR) * tile;
  t.sums = g->comp ? g->comp + (size_t)(o0 / MR) * g->G * MR * 2 : (const int32_t *)(const void *)(t.A + wbytes);
  t.zws = t.sums + (size_t)g->G * MR;
  for (int r = 0; r < MR; r++) t.wsr[r] = e->ws + (size_t)(o0 + (r < nr ? r : nr - 1)) * g->G;
  return t;
}

/* Every row of the tile is computed (a padded one has weights 0 and is not stored; its scale is read from
   the last real row), all in registers. isum = c - (c1 * sum w + c2 * zw): for groups of at most 128
   values (slot c1 | c2 << 16) one vpmaddwd, else (c1 | c2 << 8) two vpmulld. */
static inline __attribute__((always_inline)) void gemm_t(const Q8Gemm *g, const Q8Dq8Epi *e, const int pair) {
  int G = g->G;
  size_t gsp = (size_t)g->kp * KR, kq = gsp / 4, wbytes = (size_t)G * gsp * MR, tile = wbytes + (g->comp ? 0 : (size_t)G * MR * 8);
  size_t ps = (size_t)g->pstride;
  const __m512i lowbyte = _mm512_set1_epi32(0xFF);
  for (int j = 0; j < g->N; j += NR) {
    int nc = g->N - j < NR ? g->N - j : NR;
    const uint8_t *X = (const uint8_t *)g->X + (size_t)(j / NR) * 2 * ps;
    for (int o0 = 0; o0 < g->M; o0 += MR) {
      int nr = g->M - o0 < MR ? g->M - o0 : MR;
      TileW tw = tile_w(g, e, o0, nr, tile, wbytes);
      const int8_t *A = tw.A;
      const int32_t *sums = tw.sums, *zws = tw.zws;
      const float *const *wsr = tw.wsr;
      __m512 f00 = _mm512_setzero_ps(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00, f30 = f00, f31 = f00;
      const uint8_t *xp = X;
      const int8_t *ap = A;
      for (int grp = 0; grp < G; grp++) {
        _Alignas(64) __m512i c[MR][2];
        if (nc > 16) group_acc(ap, xp, kq, c);
        else group_acc16(ap, xp, kq, c);
        xp += kq * NR * 4, ap += kq * MR * 4;
        const uint8_t *sl = X + ps + (size_t)grp * kq * (NR * 4);
        __m512i s0 = _mm512_loadu_si512(sl), s1 = _mm512_loadu_si512(sl + 64);
        __m512i c1a = _mm512_and_si512(s0, lowbyte), c1b = _mm512_and_si512(s1, lowbyte);
        __m512i c2a = _mm512_srai_epi32(s0, 8), c2b = _mm512_srai_epi32(s1, 8);
        const float *xs = e->xs + grp * e->ldxs + j;
        __m512 xv0 = _mm512_loadu_ps(xs), xv1 = _mm512_loadu_ps(xs + 16);
        /* f + (ws * xs) * isum, the reference's order */
#define DQ8_ROW(r, fa, fb, ca, cb)                                                                                       \
  do {                                                                                                                   \
    int32_t sw_ = sums[grp * MR + r], zw_ = zws[grp * MR + r];                                                           \
    __m512i ka, kb;                                                                                                      \
    if (pair) {                                                                                                          \
      __m512i cw = _mm512_set1_epi32((int32_t)(((uint32_t)sw_ & 0xFFFF) | (uint32_t)zw_ << 16));                         \
      ka = _mm512_madd_epi16(s0, cw), kb = _mm512_madd_epi16(s1, cw);                                                    \
    } else {                                                                                                             \
      __m512i sw = _mm512_set1_epi32(sw_), zw = _mm512_set1_epi32(zw_);                                                  \
      ka = _mm512_add_epi32(_mm512_mullo_epi32(c1a, sw), _mm512_mullo_epi32(zw, c2a));                                   \
      kb = _mm512_add_epi32(_mm512_mullo_epi32(c1b, sw), _mm512_mullo_epi32(zw, c2b));                                   \
    }                                                                                                                    \
    __m512 wsc = _mm512_set1_ps(wsr[r][grp]);                                                                            \
    fa = _mm512_add_ps(fa, _mm512_mul_ps(_mm512_mul_ps(wsc, xv0), _mm512_cvtepi32_ps(_mm512_sub_epi32(ca, ka))));         \
    fb = _mm512_add_ps(fb, _mm512_mul_ps(_mm512_mul_ps(wsc, xv1), _mm512_cvtepi32_ps(_mm512_sub_epi32(cb, kb))));         \
  } while (0)
        DQ8_ROW(0, f00, f01, c[0][0], c[0][1]);
        DQ8_ROW(1, f10, f11, c[1][0], c[1][1]);
        DQ8_ROW(2, f20, f21, c[2][0], c[2][1]);
        DQ8_ROW(3, f30, f31, c[3][0], c[3][1]);
#undef DQ8_ROW
      }
      __m512 f[MR][2] = {{f00, f01}, {f10, f11}, {f20, f21}, {f30, f31}};
      store_rows(e, o0, nr, j, nc, f);
    }
  }
}

/* one quad of gemm_n4: the tile's 4 rows (16 bytes) in every 128-bit lane, the 4 columns' x quads spread so that
   lane 4c + r holds column c's */
#define N4_QUAD(acc, qq)                                                                                              \
  acc = _mm512_dpbusd_epi32(                                                                                          \
      acc,                                                                                                            \
      _mm512_permutexvar_epi32(colx, _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)(xp + (qq) * NR * 4)))), \
      _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(ap + (qq) * MR * 4))))

/* one column (one: a LINEAR at batch 1): lane 4j + r takes row r of quad q + j, four quads a vpdpbusd (one 64-byte
   load of the tile's weights; the column's four x quads spread by vpermd), the four quads' sums added at the end of
   the group (two 128-bit-lane shuffles) into every 128-bit lane, as the 4-column loop leaves them: 4x fewer
   vpdpbusd for a single column */
#define N1_QUADS(acc, qq)                                                                                             \
  do {                                                                                                                \
    int32_t x0_, x1_, x2_, x3_;                                                                                       \
    memcpy(&x0_, xp + (qq) * NR * 4, 4), memcpy(&x1_, xp + ((qq) + 1) * NR * 4, 4);                                   \
    memcpy(&x2_, xp + ((qq) + 2) * NR * 4, 4), memcpy(&x3_, xp + ((qq) + 3) * NR * 4, 4);                             \
    acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi32(colx, _mm512_castsi128_si512(_mm_setr_epi32(x0_, x1_, x2_, x3_))), \
                              _mm512_loadu_si512(ap + (qq) * MR * 4));                                                \
  } while (0)

/* A block of at most 4 columns (a LINEAR at batch 1 to 4, a map of 2x2 or less, a map's last 4: 196 = 3 x 64 + 4).
   gemm_t's tile spent 16 lanes a row on them, its 4 sums a chain each (bound by vpdpbusd's latency), and its
   epilogue 32 columns a group: the pipeline's ResNet18 at 32x32 ran its dq8 2x2 layers at ~60 GOP/s, its LINEARs at
   ~16. Here one zmm holds the tile's 4 rows x 4 columns, lane 4c + r, one vpdpbusd a quad into 4 sums (q mod 4) added
   per group, and the group's epilogue is gemm_t's operations in the same order on those 16 lanes (its pair slots'
   vpmaddwd is the same exact c1 * sum w + c2 * zw). Lanes past N read columns not stored (their slots and scales
   0 here) and rows past nr the tile's zero weights. One column alone (a LINEAR at batch 1) sums by N1_QUADS */
static inline __attribute__((always_inline)) void gemm_small(const Q8Gemm *g, const Q8Dq8Epi *e, const int one) {
  int G = g->G, N = g->N;
  size_t gsp = (size_t)g->kp * KR, kq = gsp / 4, wbytes = (size_t)G * gsp * MR, tile = wbytes + (g->comp ? 0 : (size_t)G * MR * 8);
  size_t ps = (size_t)g->pstride;
  const int c2shift = gsp <= 128 ? 16 : 8;   /* slot_of's */
  const __m512i colx = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), lowbyte = _mm512_set1_epi32(0xFF);
  const __mmask8 cm = (__mmask8)((1u << N) - 1);
  const uint8_t *X = (const uint8_t *)g->X;
  for (int o0 = 0; o0 < g->M; o0 += MR) {
    int nr = g->M - o0 < MR ? g->M - o0 : MR;
    TileW t = tile_w(g, e, o0, nr, tile, wbytes);
    __m512 f = _mm512_setzero_ps();
    const uint8_t *xp = X;
    const int8_t *ap = t.A;
    for (int grp = 0; grp < G; grp++, xp += kq * NR * 4, ap += kq * MR * 4) {
      __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, isum;
      size_t q = 0;
      if (one) {
        for (; q + 8 <= kq; q += 8) {
          N1_QUADS(c0, q);
          N1_QUADS(c1, q + 4);
        }
        for (; q + 4 <= kq; q += 4) N1_QUADS(c0, q);
        if (q < kq) {   /* the last 1 to 3 quads: lanes past them 0 in both */
          int rem = (int)(kq - q);
          int32_t xq[4] = {0, 0, 0, 0};
          for (int i = 0; i < rem; i++) memcpy(&xq[i], xp + (q + (size_t)i) * NR * 4, 4);
          c1 = _mm512_dpbusd_epi32(c1, _mm512_permutexvar_epi32(colx, _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)xq))),
                                   _mm512_maskz_loadu_epi32((__mmask16)((1u << (4 * rem)) - 1), ap + q * MR * 4));
        }
        isum = _mm512_add_epi32(c0, c1);
        isum = _mm512_add_epi32(isum, _mm512_shuffle_i64x2(isum, isum, _MM_SHUFFLE(1, 0, 3, 2)));
        isum = _mm512_add_epi32(isum, _mm512_shuffle_i64x2(isum, isum, _MM_SHUFFLE(2, 3, 0, 1)));
      } else {
        for (; q + 4 <= kq; q += 4) {
          N4_QUAD(c0, q);
          N4_QUAD(c1, q + 1);
          N4_QUAD(c2, q + 2);
          N4_QUAD(c3, q + 3);
        }
        for (; q < kq; q++) N4_QUAD(c0, q);
        isum = _mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3));
      }
      const uint8_t *sl = X + ps + (size_t)grp * kq * (NR * 4);
      __m512i sv = _mm512_permutexvar_epi32(colx, _mm512_castsi128_si512(_mm_maskz_loadu_epi32(cm, sl)));
      __m512i sw = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(t.sums + (size_t)grp * MR)));
      __m512i zw = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(t.zws + (size_t)grp * MR)));
      __m512i k = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_and_si512(sv, lowbyte), sw),
                                   _mm512_mullo_epi32(zw, _mm512_srai_epi32(sv, c2shift)));
      __m512 wsc = _mm512_broadcast_f32x4(_mm_setr_ps(t.wsr[0][grp], t.wsr[1][grp], t.wsr[2][grp], t.wsr[3][grp]));
      __m512 xv = _mm512_permutexvar_ps(colx, _mm512_castps128_ps512(_mm_maskz_loadu_ps(cm, e->xs + grp * e->ldxs)));
      f = _mm512_add_ps(f, _mm512_mul_ps(_mm512_mul_ps(wsc, xv), _mm512_cvtepi32_ps(_mm512_sub_epi32(isum, k))));
    }
    /* store_rows' order: bias + sum, + y (res), act */
    if (e->bias) f = _mm512_add_ps(_mm512_broadcast_f32x4(_mm_maskz_loadu_ps((__mmask8)((1u << nr) - 1), e->bias + o0)), f);
    _Alignas(64) float out[16];
    if (e->res) {
      for (int c = 0; c < 4; c++)
        for (int r = 0; r < MR; r++) out[4 * c + r] = c < N && r < nr ? e->y[(o0 + r) * e->ys_o + c * e->ys_p] : 0.0f;
      f = _mm512_add_ps(f, _mm512_load_ps(out));
    }
    _mm512_store_ps(out, act16_avx512(f, e->act));
    for (int c = 0; c < N; c++)
      for (int r = 0; r < nr; r++) e->y[(o0 + r) * e->ys_o + c * e->ys_p] = out[4 * c + r];
  }
}
static void gemm_n4(const Q8Gemm *g, const Q8Dq8Epi *e) {
  if (g->N == 1) gemm_small(g, e, 1);
  else gemm_small(g, e, 0);
}
#undef N4_QUAD
#undef N1_QUADS

void q8_dq8v_gemm(const Q8Gemm *g, const Q8Dq8Epi *e) {
  if (g->N <= 4) gemm_n4(g, e);
  else if ((size_t)g->kp * KR <= 128) gemm_t(g, e, 1);   /* a copy per slot format: the common one's loop stays lean */
  else gemm_t(g, e, 0);
}

/* Q8Kernels.dq8_blocked_sums: per tile and group, its nq 16-byte quads (4 rows x 4) summed by vpdpbusd with ones, four
   quads a load (the group's last load masked), the four 128-bit lanes added: each row's sum */
__attribute__((cold)) static void dq8_blocked_sums(const int8_t *w, size_t tiles, int G, int nq, int32_t *comp) {
  const __m512i ones = _mm512_set1_epi8(1);
  size_t n = (size_t)nq * 16;
  for (size_t t = 0; t < tiles; t++, comp += (size_t)G * MR * 2)
    for (int g = 0; g < G; g++, w += n) {
      __m512i s = _mm512_setzero_si512();
      for (size_t i = 0; i < n; i += 64) {
        __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - i)) - 1);
        s = _mm512_dpbusd_epi32(s, ones, _mm512_maskz_loadu_epi8(m, w + i));
      }
      __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
      _mm_storeu_si128((__m128i *)(void *)(comp + 4 * g), _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
    }
}

const Q8Kernels q8_dq8gemm_4x32__avx512vnni_desc = {"q8_dq8gemm_4x32__avx512vnni", "avx512vnni", MR, NR, KR, 2,
                                                    q8_dq8v_a_elems, q8_dq8v_pack_w, q8_dq8v_put_x, q8_dq8v_get_x, NULL, q8_dq8v_quant, NULL, q8_dq8v_gemm, NULL, NULL, NULL, NULL, 0, 0,
                                                    q8_dq8v_quant_g, q8_dq8v_conv_quant, 0, NULL, 0, NULL, NULL, dq8_blocked_sums, NULL, NULL, 0};
