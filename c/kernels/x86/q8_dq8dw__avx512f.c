/* q8_dq8dw__avx512f.c: one output plane of a dq8 depthwise convolution with AVX-512F and DQ
 * (src/kernels_q8.h): 16 output pixels of a row per vector, each window tap one vector (a masked
 * load: padded taps and the lanes past the row read 0.0f, as the im2col path's pads). Stride 2
 * loads 32 columns and keeps the even ones. Per group: s and z from the taps' min / max (or |max|),
 * q = clamp(rne(v / s) + z), isum = sum (q - z)(w - zw) summed in float: every product and partial
 * sum is an integer below 64 * 255 * 255 < 2^24, so exact, and equal to the int32 sum. The epilogue
 * is the reference's order: acc + (ws * s) * isum from 0.0f per group, bias last, the activation.
 * Strides other than 1 and 2 go to the reference.
 *
 * No division on the common path (three a group before: the scale, the zero point, the reciprocal;
 * their throughput bounded the kernel):
 * - s, bit for bit the reference's, and r = 1/s within 1.1 * 2^-24 (s in [2^-100, 2^100]) without a
 *   division: q8_dq8scale__avx512.h.
 * - rne(v / s) is rne(y), y = fl(v * r): |y - v / s| <= |v / s| * 2.1 * 2^-24 < 2^-14.9 (|v / s| <= 256:
 *   |v| <= 127 s or |v| <= hi - lo = 255 s), so the two round alike unless y is that close to a
 *   half-integer; every y of the group is checked farther than 2^-14 (|y - rne(y)| = |reduce(y)| <
 *   1/2 - 2^-14). The zero point: -128 - fl(lo * r) and the reference's -128 - fl(lo / s) differ by
 *   < 5 * 2^-16, checked 2^-13 from a half-integer.
 * - The clamp: symmetric, |y| <= 127 (1 + 3 * 2^-24) < 127.5, so |rne(y)| <= 127 and it never clips;
 *   asymmetric, y is monotone in v and lo <= v <= hi, so every rne(y) lies in [rne(lo r), rne(hi r)],
 *   and when that lies in [qmin, qmax] no tap clips. With no tap negative (the outputs of a ReLU, the
 *   usual input), lo = 0: z = -128 (or 0 when hi = 0) exactly, qmin = 0 <= rne(y) <= rne(hi r) = 255 =
 *   qmax (hi r <= 255 (1 + 2.1 * 2^-24)), so these checks are left out.
 * A group that fails any check in any lane (a few in a thousand; s out of range, inf and NaN included)
 * is done again, all 16 lanes, by exact divisions and clamps (group_exact). */
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_q8.h"
#include "act__avx2.h"
#include "q8_dq8scale__avx512.h"

#define RNE Q8_RNE
#define MAXABS Q8_MAXABS

static inline __mmask16 lanes(long lo, long hi) {   /* lanes [lo, hi) of 16 */
  if (lo < 0) lo = 0;
  if (hi > 16) hi = 16;
  if (hi <= lo) return 0;
  return (__mmask16)((((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1));
}

/* bias, activation and the store of 16 outputs (out: the lanes inside the row); inlined in plane9 (~5%) */
static inline __attribute__((always_inline)) void finish(__m512 acc, const float *bias, int act, float *dst, __mmask16 out) {
  if (bias) acc = _mm512_add_ps(_mm512_set1_ps(*bias), acc);
  _mm512_mask_storeu_ps(dst, out, act16_avx512(acc, act));
}

/* one group of gs taps by the definition's operations (divisions, clamps) in every lane: the rare path */
static __attribute__((noinline)) __m512 group_exact(const __m512 *v, int gs, const float *wf, int asym, __m512 *sxo) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), c127 = _mm512_set1_ps(127.0f);
  const __m512 m128 = _mm512_set1_ps(-128.0f);
  __m512 sx, zf = zero, is = zero;
  if (!asym) {
    __m512 m = zero;
    for (int i = 0; i < gs; i++) m = _mm512_max_ps(m, _mm512_abs_ps(v[i]));
    sx = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m, zero, _CMP_EQ_OQ), _mm512_div_ps(m, c127), one);
  } else {
    __m512 lo = zero, hi = zero;
    for (int i = 0; i < gs; i++) lo = _mm512_min_ps(lo, v[i]), hi = _mm512_max_ps(hi, v[i]);
    __mmask16 eq = _mm512_cmp_ps_mask(hi, lo, _CMP_EQ_OQ);
    sx = _mm512_mask_blend_ps(eq, _mm512_div_ps(_mm512_sub_ps(hi, lo), _mm512_set1_ps(255.0f)), one);
    __m512 t = _mm512_roundscale_ps(_mm512_sub_ps(m128, _mm512_div_ps(lo, sx)), RNE);
    zf = _mm512_mask_blend_ps(eq, _mm512_min_ps(_mm512_max_ps(t, m128), c127), zero);
  }
  /* q - z = clamp(rne(v / s) + z, qlo, 127) - z = clamp(rne(v / s), qlo - z, 127 - z): all small
     integers, exact (a NaN quotient gives qlo - z both ways, max_ps returning its second operand) */
  __m512 qmin = _mm512_sub_ps(asym ? m128 : _mm512_set1_ps(-127.0f), zf), qmax = _mm512_sub_ps(c127, zf);
  for (int i = 0; i < gs; i++) {
    __m512 t = _mm512_roundscale_ps(_mm512_div_ps(v[i], sx), RNE);
    is = _mm512_fmadd_ps(_mm512_min_ps(_mm512_max_ps(t, qmin), qmax), _mm512_set1_ps(wf[i]), is);
  }
  *sxo = sx;
  return is;
}

/* a group's s and 1/s without divisions (see the top), in stages (plane9 runs each stage over NR
   vectors side by side, where one vector's chain alone would wait on itself) */
/* the taps' |max| (asym 1: min and max with 0, *lo and *hi; 2, no tap negative: the max, lo = 0);
   returns d = |max| or hi - lo */
static inline __attribute__((always_inline)) __m512 range_of(const __m512 *v, int gs, int asym, __m512 *lo, __m512 *hi) {
  const __m512 zero = _mm512_setzero_ps();
  if (!asym) {
    __m512 mc[3] = {zero, zero, zero};
#pragma GCC unroll 9
    for (int i = 0; i < gs; i++) mc[i % 3] = _mm512_range_ps(mc[i % 3], v[i], MAXABS);
    return _mm512_max_ps(_mm512_max_ps(mc[0], mc[1]), mc[2]);
  }
  __m512 lc[3] = {zero, zero, zero}, hc[3] = {zero, zero, zero};
#pragma GCC unroll 9
  for (int i = 0; i < gs; i++) {
    if (asym == 1) lc[i % 3] = _mm512_min_ps(lc[i % 3], v[i]);
    hc[i % 3] = _mm512_max_ps(hc[i % 3], v[i]);
  }
  *hi = _mm512_max_ps(_mm512_max_ps(hc[0], hc[1]), hc[2]);
  if (asym == 2) return *lo = zero, *hi;   /* no tap negative: lo = 0 */
  *lo = _mm512_min_ps(_mm512_min_ps(lc[0], lc[1]), lc[2]);
  return _mm512_sub_ps(*hi, *lo);
}
/* the lanes where some of the 9 taps has its sign bit set (a negative value, -0.0, a NaN) */
static inline __attribute__((always_inline)) __mmask16 any_sign9(const __m512 *v) {
  __m512i o[3];
  for (int i = 0; i < 3; i++)   /* 0xFE: a | b | c */
    o[i] = _mm512_ternarylogic_epi32(_mm512_castps_si512(v[3 * i]), _mm512_castps_si512(v[3 * i + 1]), _mm512_castps_si512(v[3 * i + 2]), 0xFE);
  return _mm512_movepi32_mask(_mm512_ternarylogic_epi32(o[0], o[1], o[2], 0xFE));
}
/* asym: the lanes where the zero point through r is the reference's and no tap clips (see the top) */
static inline __attribute__((always_inline)) __mmask16 zero_ok(__m512 lo, __m512 hi, __m512 r) {
  /* z = clamp(rne(-128 - lo / s)) (0 when hi == lo, where lo = hi = 0 and the rest holds with z = -128 too) */
  const __m512 m128 = _mm512_set1_ps(-128.0f), c127 = _mm512_set1_ps(127.0f);
  __m512 a = _mm512_mul_ps(lo, r), u = _mm512_sub_ps(m128, a), eu = _mm512_reduce_ps(u, RNE);
  __m512 zf = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(hi, lo, _CMP_EQ_OQ), _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(u, eu), m128), c127),
                                   _mm512_setzero_ps());
  __m512 hr = _mm512_mul_ps(hi, r);
  return _mm512_cmp_ps_mask(_mm512_abs_ps(eu), _mm512_set1_ps(0.5f - 0x1p-13f), _CMP_LT_OQ) &
         _mm512_cmp_ps_mask(_mm512_sub_ps(a, _mm512_reduce_ps(a, RNE)), _mm512_sub_ps(m128, zf), _CMP_GE_OQ) &
         _mm512_cmp_ps_mask(_mm512_sub_ps(hr, _mm512_reduce_ps(hr, RNE)), _mm512_sub_ps(c127, zf), _CMP_LE_OQ);
}
/* a group's isum from its taps and 1/s (see the top); the lanes whose y all pass the check */
static inline __attribute__((always_inline)) __mmask16 quant(const __m512 *v, int gs, const float *wf, __m512 r, __m512 *iso) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 ec[3] = {zero, zero, zero}, ic[3] = {zero, zero, zero};
#pragma GCC unroll 9
  for (int i = 0; i < gs; i++) {
    __m512 yv = _mm512_mul_ps(v[i], r), e = _mm512_reduce_ps(yv, RNE);
    ec[i % 3] = _mm512_range_ps(ec[i % 3], e, MAXABS);
    ic[i % 3] = _mm512_fmadd_ps(_mm512_sub_ps(yv, e), _mm512_set1_ps(wf[i]), ic[i % 3]);   /* exact: integers < 2^24 */
  }
  *iso = _mm512_add_ps(_mm512_add_ps(ic[0], ic[1]), ic[2]);
  /* range_ps keeps a NaN (max_ps may drop one): it fails the check */
  return _mm512_cmp_ps_mask(_mm512_range_ps(_mm512_range_ps(ec[0], ec[1], MAXABS), ec[2], MAXABS), _mm512_set1_ps(0.5f - 0x1p-14f),
                            _CMP_LT_OQ);
}

/* one group of gs taps (any window; plane()): isum and s as plane9 computes them, in plain loops (one
   chain each: the rarer shapes, compact), or group_exact's when a check fails */
static __attribute__((noinline)) __m512 group(const __m512 *v, int gs, const float *wf, int asym, __m512 *sxo) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 lo = zero, hi = zero, r, e = zero, is = zero;
  for (int i = 0; i < gs; i++)
    if (asym) lo = _mm512_min_ps(lo, v[i]), hi = _mm512_max_ps(hi, v[i]);
    else hi = _mm512_range_ps(hi, v[i], MAXABS);
  __mmask16 ok = q8_dq8_scale16(asym ? _mm512_sub_ps(hi, lo) : hi, asym, sxo, &r);
  if (asym) ok &= zero_ok(lo, hi, r);
  for (int i = 0; i < gs; i++) {
    __m512 yv = _mm512_mul_ps(v[i], r), ei = _mm512_reduce_ps(yv, RNE);
    e = _mm512_range_ps(e, ei, MAXABS), is = _mm512_fmadd_ps(_mm512_sub_ps(yv, ei), _mm512_set1_ps(wf[i]), is);
  }
  ok &= _mm512_cmp_ps_mask(e, _mm512_set1_ps(0.5f - 0x1p-14f), _CMP_LT_OQ);
  return ok == 0xFFFF ? is : group_exact(v, gs, wf, asym, sxo);
}

/* the taps of one 16-pixel vector of output row oy into v (kh x kw, row-major); a row of the window
   outside the input loads with an empty mask (zeros, nothing read) */
static void taps(const float *x, const Q8Dq8DwShape *s, int oy, const long *at, const __mmask16 *m0,
                 const __mmask16 *m1, __m512 *v) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int ky = 0; ky < s->kh; ky++) {
    int iy = oy * s->sh - s->ph + ky * s->dh, in = (unsigned)iy < (unsigned)s->H;
    const float *r = x + (size_t)(in ? iy : 0) * s->W;
    __mmask16 rm = in ? 0xFFFF : 0;
    for (int kx = 0; kx < s->kw; kx++) {
      __m512 lo = _mm512_maskz_loadu_ps(m0[kx] & rm, r + at[kx]);
      v[ky * s->kw + kx] = s->sw == 1 ? lo : _mm512_permutex2var_ps(lo, even, _mm512_maskz_loadu_ps(m1[kx] & rm, r + at[kx] + 16));
    }
  }
}

/* per kernel column kx: its first input column for output column ox0 and the masks of its 32 lanes */
static void columns(const Q8Dq8DwShape *s, int ox0, int kw, long *at, __mmask16 *m0, __mmask16 *m1) {
  for (int kx = 0; kx < kw; kx++) {
    long a = (long)ox0 * s->sw - s->pw + (long)kx * s->dw;
    at[kx] = a, m0[kx] = lanes(-a, (long)s->W - a), m1[kx] = lanes(-a - 16, (long)s->W - a - 16);
  }
}

/* any window, any groups (stride 1 or 2): one vector at a time */
static __attribute__((noinline)) void plane(const float *x, const float *wf, const float *ws, const float *bias, float *y,
                                            const Q8Dq8DwShape *s, int asym) {
  const int gs = s->gs, G = s->G, kw = s->kw;
  __m512 v[Q8_DQ8DW_MAXK];
  for (int ox0 = 0; ox0 < s->OW; ox0 += 16) {
    long at[Q8_DQ8DW_MAXK];
    __mmask16 m0[Q8_DQ8DW_MAXK], m1[Q8_DQ8DW_MAXK];
    columns(s, ox0, kw, at, m0, m1);
    __mmask16 out = lanes(0, (long)s->OW - ox0);
    for (int oy = 0; oy < s->OH; oy++) {
      taps(x, s, oy, at, m0, m1, v);
      __m512 acc = _mm512_setzero_ps(), sx;
      for (int g = 0; g < G; g++) {
        __m512 is = group(v + g * gs, gs, wf + g * gs, asym, &sx);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ws[g]), sx), is));
      }
      finish(acc, bias, s->act, y + (size_t)oy * s->OW + ox0, out);
    }
  }
}

/* the 3x3 window of one group (K = gs = 9; any padding, dilation), NR output rows at a time, each stage
   of their computation side by side: one vector's chain of operations alone would wait on itself. The
   taps unrolled, the chains of maxima and sums split in 3 (exact in any order: maxima, and integer sums
   below 2^24); a row of the window outside the input reads zrow (zeros), so the taps
   keep the column masks (no per-row mask: ~4%). */
#define NR 2
typedef struct { const float *row[3]; } Rows9;
/* the row a window row outside the input reads: zeros (bss, never written), ZPAD floats either side
   of any row of at most ZROW floats; plane9 takes rows of at most that */
enum { ZROW = 2048, ZPAD = 64 };
static float zrow[ZROW + 2 * ZPAD];
typedef struct { long at[3]; __mmask16 m0[3], m1[3]; } Cols9;

static inline __attribute__((always_inline)) void taps9(const Rows9 *R, const Cols9 *C, const int sw, __m512 *v) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++) {
      const float *p = R->row[ky] + C->at[kx];
      __m512 lo = _mm512_maskz_loadu_ps(C->m0[kx], p);
      v[ky * 3 + kx] = sw == 1 ? lo : _mm512_permutex2var_ps(lo, even, _mm512_maskz_loadu_ps(C->m1[kx], p + 16));
    }
}

/* a vector whose checks failed: its taps again, group_exact (out of line: the fast loop keeps its taps in registers) */
static __attribute__((noinline)) __m512 redo9(const Rows9 *R, const Cols9 *C, int sw, const float *wf, int asym, __m512 *sxo) {
  __m512 v[9];
  if (sw == 1) taps9(R, C, 1, v);
  else taps9(R, C, 2, v);
  return group_exact(v, 9, wf, asym, sxo);
}

static __attribute__((noinline)) void plane9(const float *x, const float *wf, float ws0, const float *bias, float *y,
                                             const Q8Dq8DwShape *s, int asym, int sw) {
  const int H = s->H, OH = s->OH, OW = s->OW, sh = s->sh, ph = s->ph, dh = s->dh, act = s->act;
  const __m512 wsv = _mm512_set1_ps(ws0);
  for (int ox0 = 0; ox0 < OW; ox0 += 16) {
    Cols9 C;
    columns(s, ox0, 3, C.at, C.m0, C.m1);
    __mmask16 out = lanes(0, (long)OW - ox0);
    for (int oy = 0; oy < OH; oy += NR) {
      __m512 v[NR][9], sx[NR], rc[NR], d[NR], lo[NR], hi[NR], is[NR];
      __mmask16 ok[NR];
      Rows9 R[NR];
      for (int j = 0; j < NR; j++) {
        int oyj = oy + j < OH ? oy + j : oy;   /* past the last row: computed again, not stored */
        for (int ky = 0; ky < 3; ky++) {
          int iy = oyj * sh - ph + ky * dh;
          R[j].row[ky] = (unsigned)iy < (unsigned)H ? x + (size_t)iy * s->W : zrow + ZPAD;
        }
        taps9(&R[j], &C, sw, v[j]);
      }
      __mmask16 neg = 0;
      if (asym)
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++) neg |= any_sign9(v[j]);
      if (!asym) {
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++) d[j] = range_of(v[j], 9, 0, &lo[j], &hi[j]);
      } else if (!neg) {   /* no tap negative (the inputs of ReLUs' outputs): lo = 0, z = -128, zero_ok holds */
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++) d[j] = range_of(v[j], 9, 2, &lo[j], &hi[j]);
      } else {
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++) d[j] = range_of(v[j], 9, 1, &lo[j], &hi[j]);
      }
#pragma GCC unroll 4
      for (int j = 0; j < NR; j++) ok[j] = q8_dq8_scale16(d[j], asym, &sx[j], &rc[j]);
      if (asym && neg)
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++) ok[j] &= zero_ok(lo[j], hi[j], rc[j]);
#pragma GCC unroll 4
      for (int j = 0; j < NR; j++) ok[j] &= quant(v[j], 9, wf, rc[j], &is[j]);
      for (int j = 0; j < NR && oy + j < OH; j++) {
        if (ok[j] != 0xFFFF) is[j] = redo9(&R[j], &C, sw, wf, asym, &sx[j]);
        finish(_mm512_add_ps(_mm512_setzero_ps(), _mm512_mul_ps(_mm512_mul_ps(wsv, sx[j]), is[j])), bias, act,
               y + (size_t)(oy + j) * OW + ox0, out);
      }
    }
  }
}

static void dq8dw(const float *x, const int8_t *w, const float *ws, const int8_t *wz, const float *bias, float *y,
                  const Q8Dq8DwShape *s) {
  int K = s->kh * s->kw;
  if (K > Q8_DQ8DW_MAXK || (s->sw != 1 && s->sw != 2)) {
    q8_dq8dw_ref(x, w, ws, wz, bias, y, s);
    return;
  }
  float wf[Q8_DQ8DW_MAXK];   /* w - zw, exact in float */
  for (int k = 0; k < K; k++) wf[k] = (float)((int32_t)w[k] - (wz ? wz[k / s->gs] : 0));
  if (s->G == 1 && s->kh == 3 && s->kw == 3 && s->W <= ZROW)   /* MobileNet's 3x3 windows */
    plane9(x, wf, ws[0], bias, y, s, wz != NULL, s->sw);
  else plane(x, wf, ws, bias, y, s, wz != NULL);
}

const Q8Dq8DwDesc q8_dq8dw__avx512f_desc = {"q8_dq8dw__avx512f", "avx512f", dq8dw};
