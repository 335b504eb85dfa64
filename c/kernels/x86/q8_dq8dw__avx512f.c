/* q8_dq8dw__avx512f.c: one output plane of a dq8 depthwise convolution with AVX-512F
 * (src/kernels_q8.h): 16 output pixels of a row per vector, each window tap one vector (a masked
 * load: padded taps and the lanes past the row read 0.0f, as the im2col path's pads). Stride 2
 * loads 32 columns and keeps the even ones. Per group: s and z from the taps' min / max (or |max|)
 * with the same operations as the dq8 quantization kernels (q8_dq8gemm_4x32__avx512vnni.c), q =
 * clamp(rne(v / s) + z), then isum = sum (q - z)(w - zw) summed in
 * float: every product and partial sum is an integer below 64 * 255 * 255 < 2^24, so exact, and
 * equal to the int32 sum. The epilogue is the reference's order: acc + (ws * s) * isum from 0.0f
 * per group, bias last, the activation. Strides other than 1 and 2 go to the reference.
 *
 * rne(v / s) without a division per tap: with r = 1/s (IEEE, one division per group) and y = v * r,
 * |y - fl(v / s)| <= |v / s| * 3 * 2^-24 (three roundings by at most 2^-24 relative each, while s is in
 * [2^-100, 2^100] so that r and y are normal or y is far below 1/2), and |v / s| <= 256 (s comes from
 * the group's own min / max: |v| <= max |v| = 127 s, or |v| <= hi - lo = 255 s), so the two differ by
 * at most 3 * 2^-16. rne gives them different integers only when a half-integer lies between them, that
 * is when y is within 3 * 2^-16 of one; so when every y of a group is farther than 2^-14 from every
 * half-integer (|y - rne(y)| < 1/2 - 2^-14, y - rne(y) exact), rne(y) = rne(v / s) exactly. Otherwise (a few groups in a thousand), or for s out of that range (NaN included), the group is divided exactly. */
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_q8.h"
#include "act__avx2.h"

static inline __mmask16 lanes(long lo, long hi) {   /* lanes [lo, hi) of 16 */
  if (lo < 0) lo = 0;
  if (hi > 16) hi = 16;
  if (hi <= lo) return 0;
  return (__mmask16)((((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1));
}

/* bias, activation and the store of 16 outputs (out: the lanes inside the row): out of line, shared */
static __attribute__((noinline)) void finish(__m512 acc, const float *bias, int act, float *dst, __mmask16 out) {
  if (bias) acc = _mm512_add_ps(_mm512_set1_ps(*bias), acc);
  _mm512_mask_storeu_ps(dst, out, act16_avx512(acc, act));
}

/* isum of one 3x3 window group by exact division (plane9's rare path, see the top): out of line */
static __attribute__((noinline)) __m512 exact9(const __m512 *v, __m512 sx, __m512 qmin, __m512 qmax, const float *wf) {
  __m512 is = _mm512_setzero_ps();
  for (int i = 0; i < 9; i++) {
    __m512 t = _mm512_roundscale_ps(_mm512_div_ps(v[i], sx), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    t = _mm512_min_ps(_mm512_max_ps(t, qmin), qmax);
    is = _mm512_fmadd_ps(t, _mm512_set1_ps(wf[i]), is);
  }
  return is;
}

static inline __attribute__((always_inline)) void plane(const float *x, const float *wf, const float *ws,
                                                        const float *bias, float *y, const Q8Dq8DwShape *s, int asym,
                                                        const int sw) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), c127 = _mm512_set1_ps(127.0f);
  const __m512 qlo = _mm512_set1_ps(asym ? -128.0f : -127.0f), m128 = _mm512_set1_ps(-128.0f), c255 = _mm512_set1_ps(255.0f);
  const __m512 smin = _mm512_set1_ps(0x1p-100f), smax = _mm512_set1_ps(0x1p100f), near_half = _mm512_set1_ps(0.5f - 0x1p-14f);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const int gs = s->gs, G = s->G, kw = s->kw;
  __m512 v[Q8_DQ8DW_MAXK];
  for (int ox0 = 0; ox0 < s->OW; ox0 += 16) {
    /* per kernel column: its first input column and the masks of its lanes (they depend on ox0 only) */
    long at[Q8_DQ8DW_MAXK];
    __mmask16 m0[Q8_DQ8DW_MAXK], m1[Q8_DQ8DW_MAXK];
    for (int kx = 0; kx < kw; kx++) {
      long a = (long)ox0 * sw - s->pw + (long)kx * s->dw;
      at[kx] = a, m0[kx] = lanes(-a, (long)s->W - a), m1[kx] = lanes(-a - 16, (long)s->W - a - 16);
    }
    __mmask16 out = lanes(0, (long)s->OW - ox0);
    for (int oy = 0; oy < s->OH; oy++) {
      for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh;
        __m512 *vr = v + ky * kw;
        if (iy < 0 || iy >= s->H) {
          for (int kx = 0; kx < kw; kx++) vr[kx] = zero;
          continue;
        }
        const float *r = x + (size_t)iy * s->W;
        for (int kx = 0; kx < kw; kx++) {
          __m512 lo = _mm512_maskz_loadu_ps(m0[kx], r + at[kx]);
          if (sw == 1) vr[kx] = lo;
          else vr[kx] = _mm512_permutex2var_ps(lo, even, _mm512_maskz_loadu_ps(m1[kx], r + at[kx] + 16));
        }
      }
      __m512 acc = zero;
      for (int g = 0; g < G; g++) {
        const __m512 *vg = v + g * gs;
        const float *wg = wf + g * gs;
        __m512 sx, zf = zero;
        if (!asym) {
          __m512 m = zero;
          for (int i = 0; i < gs; i++) m = _mm512_max_ps(m, _mm512_abs_ps(vg[i]));
          sx = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m, zero, _CMP_EQ_OQ), _mm512_div_ps(m, c127), one);
        } else {
          __m512 lo = zero, hi = zero;
          for (int i = 0; i < gs; i++) lo = _mm512_min_ps(lo, vg[i]), hi = _mm512_max_ps(hi, vg[i]);
          __mmask16 eq = _mm512_cmp_ps_mask(hi, lo, _CMP_EQ_OQ);
          sx = _mm512_mask_blend_ps(eq, _mm512_div_ps(_mm512_sub_ps(hi, lo), c255), one);
          __m512 t = _mm512_roundscale_ps(_mm512_sub_ps(m128, _mm512_div_ps(lo, sx)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          t = _mm512_min_ps(_mm512_max_ps(t, m128), c127);
          zf = _mm512_mask_blend_ps(eq, t, zero);
        }
        /* q - z = clamp(rne(v / s) + z, qlo, 127) - z = clamp(rne(v / s), qlo - z, 127 - z): all small
           integers, exact (a NaN quotient gives qlo - z both ways, max_ps returning its second operand) */
        __m512 qmin = _mm512_sub_ps(qlo, zf), qmax = _mm512_sub_ps(c127, zf), is = zero;
        __mmask16 fast = _mm512_cmp_ps_mask(sx, smin, _CMP_GE_OQ) & _mm512_cmp_ps_mask(sx, smax, _CMP_LE_OQ);
        if (fast == 0xFFFF) {   /* through the reciprocal (see the top) */
          __m512 r = _mm512_div_ps(one, sx), e = zero;
          for (int i = 0; i < gs; i++) {
            __m512 yv = _mm512_mul_ps(vg[i], r);
            __m512 t = _mm512_roundscale_ps(yv, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            e = _mm512_max_ps(e, _mm512_abs_ps(_mm512_sub_ps(yv, t)));
            t = _mm512_min_ps(_mm512_max_ps(t, qmin), qmax);
            is = _mm512_fmadd_ps(t, _mm512_set1_ps(wg[i]), is);   /* exact: integers < 2^24 */
          }
          fast = _mm512_cmp_ps_mask(e, near_half, _CMP_LT_OQ);
        }
        if (fast != 0xFFFF) {   /* exactly divided */
          is = zero;
          for (int i = 0; i < gs; i++) {
            __m512 t = _mm512_roundscale_ps(_mm512_div_ps(vg[i], sx), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            t = _mm512_min_ps(_mm512_max_ps(t, qmin), qmax);
            is = _mm512_fmadd_ps(t, _mm512_set1_ps(wg[i]), is);
          }
        }
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ws[g]), sx), is));
      }
      finish(acc, bias, s->act, y + (size_t)oy * s->OW + ox0, out);
    }
  }
}

/* the 3x3 window of one group (K = gs = 9; any padding, dilation): two output rows at a time, each
   step of the two windows' quantization side by side (two independent chains of divisions: one row
   alone waits on its own), every loop over the 9 taps unrolled with 3 partial sums / maxima each
   (exact in any order: maxima, and integer sums below 2^24). The same operations per output as plane(). */
static __attribute__((noinline)) void plane9(const float *x, const float *wf, float ws0, const float *bias, float *y,
                                             const Q8Dq8DwShape *s, int asym, int sw) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), c127 = _mm512_set1_ps(127.0f);
  const __m512 qlo = _mm512_set1_ps(asym ? -128.0f : -127.0f), m128 = _mm512_set1_ps(-128.0f), c255 = _mm512_set1_ps(255.0f);
  const __m512 smin = _mm512_set1_ps(0x1p-100f), smax = _mm512_set1_ps(0x1p100f), near_half = _mm512_set1_ps(0.5f - 0x1p-14f);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int ox0 = 0; ox0 < s->OW; ox0 += 16) {
    long at[3];
    __mmask16 m0[3], m1[3];
    for (int kx = 0; kx < 3; kx++) {
      long a = (long)ox0 * sw - s->pw + (long)kx * s->dw;
      at[kx] = a, m0[kx] = lanes(-a, (long)s->W - a), m1[kx] = lanes(-a - 16, (long)s->W - a - 16);
    }
    __mmask16 out = lanes(0, (long)s->OW - ox0);
    for (int oy = 0; oy < s->OH; oy += 2) {
      int oys[2] = {oy, oy + 1 < s->OH ? oy + 1 : oy};   /* a last odd row: computed twice, stored once */
      __m512 v[2][9], sx[2], zf[2], is[2], acc[2];
      __mmask16 fast[2];
#pragma GCC unroll 2
      for (int r = 0; r < 2; r++)
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++) {
          int iy = oys[r] * s->sh - s->ph + ky * s->dh;
          const float *row = x + (size_t)iy * s->W;
#pragma GCC unroll 3
          for (int kx = 0; kx < 3; kx++) {
            if (iy < 0 || iy >= s->H) {
              v[r][ky * 3 + kx] = zero;
              continue;
            }
            __m512 lo = _mm512_maskz_loadu_ps(m0[kx], row + at[kx]);
            v[r][ky * 3 + kx] = sw == 1 ? lo : _mm512_permutex2var_ps(lo, even, _mm512_maskz_loadu_ps(m1[kx], row + at[kx] + 16));
          }
        }
#pragma GCC unroll 2
      for (int r = 0; r < 2; r++) {
        zf[r] = zero;
        if (!asym) {
          __m512 mc[3] = {zero, zero, zero};
#pragma GCC unroll 9
          for (int i = 0; i < 9; i++) mc[i % 3] = _mm512_max_ps(mc[i % 3], _mm512_abs_ps(v[r][i]));
          __m512 m = _mm512_max_ps(_mm512_max_ps(mc[0], mc[1]), mc[2]);
          sx[r] = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m, zero, _CMP_EQ_OQ), _mm512_div_ps(m, c127), one);
        } else {
          __m512 lc[3] = {zero, zero, zero}, hc[3] = {zero, zero, zero};
#pragma GCC unroll 9
          for (int i = 0; i < 9; i++) lc[i % 3] = _mm512_min_ps(lc[i % 3], v[r][i]), hc[i % 3] = _mm512_max_ps(hc[i % 3], v[r][i]);
          __m512 lo = _mm512_min_ps(_mm512_min_ps(lc[0], lc[1]), lc[2]), hi = _mm512_max_ps(_mm512_max_ps(hc[0], hc[1]), hc[2]);
          __mmask16 eq = _mm512_cmp_ps_mask(hi, lo, _CMP_EQ_OQ);
          sx[r] = _mm512_mask_blend_ps(eq, _mm512_div_ps(_mm512_sub_ps(hi, lo), c255), one);
          __m512 t = _mm512_roundscale_ps(_mm512_sub_ps(m128, _mm512_div_ps(lo, sx[r])), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          t = _mm512_min_ps(_mm512_max_ps(t, m128), c127);
          zf[r] = _mm512_mask_blend_ps(eq, t, zero);
        }
      }
#pragma GCC unroll 2
      for (int r = 0; r < 2; r++) {
        __m512 qmin = _mm512_sub_ps(qlo, zf[r]), qmax = _mm512_sub_ps(c127, zf[r]);
        fast[r] = _mm512_cmp_ps_mask(sx[r], smin, _CMP_GE_OQ) & _mm512_cmp_ps_mask(sx[r], smax, _CMP_LE_OQ);
        __m512 rc = _mm512_div_ps(one, sx[r]), ec[3] = {zero, zero, zero}, ic[3] = {zero, zero, zero};
#pragma GCC unroll 9
        for (int i = 0; i < 9; i++) {
          __m512 yv = _mm512_mul_ps(v[r][i], rc);
          __m512 t = _mm512_roundscale_ps(yv, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          ec[i % 3] = _mm512_max_ps(ec[i % 3], _mm512_abs_ps(_mm512_sub_ps(yv, t)));
          t = _mm512_min_ps(_mm512_max_ps(t, qmin), qmax);
          ic[i % 3] = _mm512_fmadd_ps(t, _mm512_set1_ps(wf[i]), ic[i % 3]);
        }
        is[r] = _mm512_add_ps(_mm512_add_ps(ic[0], ic[1]), ic[2]);
        fast[r] &= _mm512_cmp_ps_mask(_mm512_max_ps(_mm512_max_ps(ec[0], ec[1]), ec[2]), near_half, _CMP_LT_OQ);
      }
#pragma GCC unroll 2
      for (int r = 0; r < 2; r++) {
        if (fast[r] != 0xFFFF) is[r] = exact9(v[r], sx[r], _mm512_sub_ps(qlo, zf[r]), _mm512_sub_ps(c127, zf[r]), wf);
        acc[r] = _mm512_add_ps(zero, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ws0), sx[r]), is[r]));
      }
      finish(acc[0], bias, s->act, y + (size_t)oys[0] * s->OW + ox0, out);
      if (oys[1] != oys[0]) finish(acc[1], bias, s->act, y + (size_t)oys[1] * s->OW + ox0, out);
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
  if (s->G == 1 && s->kh == 3 && s->kw == 3)   /* MobileNet's 3x3 windows; one copy for both strides */
    plane9(x, wf, ws[0], bias, y, s, wz != NULL, s->sw);
  else if (s->sw == 1) plane(x, wf, ws, bias, y, s, wz != NULL, 1);
  else plane(x, wf, ws, bias, y, s, wz != NULL, 2);
}

const Q8Dq8DwDesc q8_dq8dw__avx512f_desc = {"q8_dq8dw__avx512f", "avx512f", dq8dw};
