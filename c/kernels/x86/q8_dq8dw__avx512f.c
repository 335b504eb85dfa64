/* q8_dq8dw__avx512f.c: one output plane of a dq8 depthwise convolution with AVX-512F
 * (src/kernels_q8.h): 16 output pixels of a row per vector, each window tap one vector (a masked
 * load: padded taps and the lanes past the row read 0.0f, as the im2col path's pads). Stride 2
 * loads 32 columns and keeps the even ones. Per group: s and z from the taps' min / max (or |max|)
 * with the same operations as the dq8 quantization kernels (q8_dq8gemm_4x32__avx512vnni.c), q =
 * clamp(rne(v / s) + z) by an exact IEEE division per tap, then isum = sum (q - z)(w - zw) summed in
 * float: every product and partial sum is an integer below 64 * 255 * 255 < 2^24, so exact, and
 * equal to the int32 sum. The epilogue is the reference's order: acc + (ws * s) * isum from 0.0f
 * per group, bias last, the activation. Strides other than 1 and 2 go to the reference. */
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

/* the 16 taps x[r + a + sw * i], i < 16, of one input row r (NULL: a pad row), pads 0 */
static inline __attribute__((always_inline)) __m512 tap(const float *r, long a, int W, const int sw) {
  if (!r) return _mm512_setzero_ps();
  if (sw == 1) return _mm512_maskz_loadu_ps(lanes(-a, (long)W - a), r + a);
  /* sw == 2: columns a .. a + 31, the even ones */
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  __m512 lo = _mm512_maskz_loadu_ps(lanes(-a, (long)W - a), r + a);
  __m512 hi = _mm512_maskz_loadu_ps(lanes(-a - 16, (long)W - a - 16), r + a + 16);
  return _mm512_permutex2var_ps(lo, even, hi);
}

static inline __attribute__((always_inline)) void plane(const float *x, const float *wf, const float *ws,
                                                        const float *bias, float *y, const Q8Dq8DwShape *s, int asym,
                                                        const int sw) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), c127 = _mm512_set1_ps(127.0f);
  const __m512 qlo = _mm512_set1_ps(asym ? -128.0f : -127.0f), m128 = _mm512_set1_ps(-128.0f), c255 = _mm512_set1_ps(255.0f);
  const int gs = s->gs, G = s->G;
  __m512 v[Q8_DQ8DW_MAXK];
  for (int oy = 0; oy < s->OH; oy++)
    for (int ox0 = 0; ox0 < s->OW; ox0 += 16) {
      for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh;
        const float *r = iy >= 0 && iy < s->H ? x + (size_t)iy * s->W : NULL;
        for (int kx = 0; kx < s->kw; kx++)
          v[ky * s->kw + kx] = tap(r, (long)ox0 * sw - s->pw + (long)kx * s->dw, s->W, sw);
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
        __m512 is = zero;
        for (int i = 0; i < gs; i++) {
          __m512 t = _mm512_roundscale_ps(_mm512_div_ps(vg[i], sx), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          t = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(t, zf), qlo), c127);
          is = _mm512_fmadd_ps(_mm512_sub_ps(t, zf), _mm512_set1_ps(wg[i]), is);   /* exact: integers < 2^24 */
        }
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ws[g]), sx), is));
      }
      if (bias) acc = _mm512_add_ps(_mm512_set1_ps(*bias), acc);
      __m256 a0 = act_avx2(_mm512_castps512_ps256(acc), s->act);
      __m256 a1 = act_avx2(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)), s->act);
      acc = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(a0)), _mm256_castps_pd(a1), 1));
      _mm512_mask_storeu_ps(y + (size_t)oy * s->OW + ox0, lanes(0, (long)s->OW - ox0), acc);
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
  if (s->sw == 1) plane(x, wf, ws, bias, y, s, wz != NULL, 1);
  else plane(x, wf, ws, bias, y, s, wz != NULL, 2);
}

const Q8Dq8DwDesc q8_dq8dw__avx512f_desc = {"q8_dq8dw__avx512f", "avx512f", dq8dw};
