/* f32_maxpool__avx2: one channel plane of a float32 max pool with AVX2, horizontal stride 1 or 2 (see
 * kernels_f32.h), as f32_maxpool__avx512f does it in 8 lanes. Per output row: the max of the window's input rows
 * inside the input goes to r[pw + i] (column i), with -inf in r's other floats (padding, past the input); then per 8
 * outputs the max over kx of r[ow * sw + kx * dw] (stride 2: 16 floats from r + 2 ow + kx dw, their even ones by two
 * vpermps and a blend). Each max takes the new value only when it is greater (max_ps(new, old)), as the plain C
 * pool does, so ties keep the earlier value (the sign of a zero), and a NaN anywhere in the window is tracked apart
 * and gives the canonical NaN; an empty window gives -inf. Masked loads: reads only the input's floats. Until
 * 2026-12-06 AVX2-only CPUs took the plain C pool (built for size): ResNet18's stem pool was ~9% of `run` and dq8
 * on one thread (Zen 3). */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "store8__avx2.h"

enum { MP_BUF = 4096 };   /* floats of the row buffer; wider rows: the plain C pool */

/* lanes [0, n) set (n >= 8: all) */
static inline __m256i lanes(int n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

/* output row oh's window rows inside the input: *r0 the first (in ky order), the others dh rows apart; returns how many */
static inline int window_rows(const float *x, const F32DwShape *s, int oh, const float **r0) {
  long b = (long)oh * s->sh - s->ph, k0 = b < 0 ? (-b + s->dh - 1) / s->dh : 0, k1 = b > s->H - 1 ? 0 : (s->H - 1 - b) / s->dh + 1;
  if (k1 > s->kh) k1 = s->kh;
  if (k1 <= k0) {
    *r0 = x;
    return 0;
  }
  *r0 = x + (b + k0 * s->dh) * s->W;
  return (int)(k1 - k0);
}

/* the max over nr window rows (from r0, rs floats apart, in ky order) of columns [c, c + 8) (those < W; the others
   -inf), and their NaN lanes ORed into *nan. Whole vectors by plain loads */
static inline __m256 col_max(const float *r0, size_t rs, int nr, int c, int W, __m256 *nan) {
  const __m256 lowest = _mm256_set1_ps(-INFINITY);
  __m256 v = lowest, n = _mm256_setzero_ps();
  if (W - c >= 8)
    for (int k = 0; k < nr; k++) {
      __m256 t = _mm256_loadu_ps(r0 + k * rs + c);
      n = _mm256_or_ps(n, _mm256_cmp_ps(t, t, _CMP_UNORD_Q));
      v = _mm256_max_ps(t, v);
    }
  else {
    __m256i m = lanes(W - c);
    for (int k = 0; k < nr; k++) {
      __m256 t = _mm256_blendv_ps(lowest, _mm256_maskload_ps(r0 + k * rs + c, m), _mm256_castsi256_ps(m));
      n = _mm256_or_ps(n, _mm256_cmp_ps(t, t, _CMP_UNORD_Q));
      v = _mm256_max_ps(t, v);
    }
  }
  *nan = n;
  return v;
}

/* a (even, odd) column pair of vectors: the even columns of a, b (a's 8 then b's 8) into e, the odd into o */
static inline void deinterleave(__m256 a, __m256 b, __m256 *e, __m256 *o) {
  *e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  *o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

/* ResNet's stem pool (3 wide, stride 2, padding 1 a side, dilation 1: output j's columns 2j - 1, 2j, 2j + 1) with no
   row buffer: per 8 outputs the rows' max of 16 columns in two vectors, split into even (2j) and odd (2j + 1) columns,
   the odd ones shifted by one lane (2j - 1, the last vector's last lane or the padding's -inf). The row buffer's
   stores had been read back at once by loads across two of them, which cannot forward: 64 planes of 112x112 took
   0.60-0.62 ms alone, 0.26-0.27 ms so (Zen 3, one thread, fastest of 200). The same values, the same order: kx 0, 1, 2 */
static void pool3s2(const float *x, float *y, const F32DwShape *s) {
  const __m256 qnan = _mm256_set1_ps(NAN);
  const __m256i rot = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
  const size_t rs = (size_t)s->dh * (size_t)s->W;
  for (int oh = 0; oh < s->OH; oh++) {
    const float *r0;
    int nr = window_rows(x, s, oh, &r0);
    __m256 prv = _mm256_set1_ps(-INFINITY), prvn = _mm256_setzero_ps();   /* (rotated: lane 0 the last column) */
    float *yo = y + (size_t)oh * (size_t)s->OW;
    for (int ow0 = 0; ow0 < s->OW; ow0 += 8) {
      __m256 n0, n1, e, o, ne, no;
      __m256 v0 = col_max(r0, rs, nr, 2 * ow0, s->W, &n0), v1 = col_max(r0, rs, nr, 2 * ow0 + 8, s->W, &n1);
      deinterleave(v0, v1, &e, &o);
      deinterleave(n0, n1, &ne, &no);
      __m256 ro = _mm256_permutevar8x32_ps(o, rot), rn = _mm256_permutevar8x32_ps(no, rot);
      __m256 acc = _mm256_blend_ps(ro, prv, 1), nan = _mm256_or_ps(_mm256_blend_ps(rn, prvn, 1), _mm256_or_ps(ne, no));
      prv = ro, prvn = rn;
      acc = _mm256_max_ps(e, acc);
      acc = _mm256_max_ps(o, acc);
      st8_n(yo + ow0, _mm256_blendv_ps(acc, qnan, nan), s->OW - ow0);
    }
  }
}

int f32_maxpool__avx2(const float *x, float *y, const F32DwShape *s) {
  if (s->sw == 2 && s->kw == 3 && s->dw == 1 && s->pw == 1 && s->W >= 1 && s->OW >= 1) {
    pool3s2(x, y, s);
    return 1;
  }
  int sw = s->sw, W = s->W, OW = s->OW, span = (s->kw - 1) * s->dw + 1, ob = (OW + 7) / 8 * 8;
  long need = (sw == 1 ? (long)ob + 8 : 2L * ob + 16) + span;   /* the floats of r the loads reach */
  if ((sw != 1 && sw != 2) || W < 1 || OW < 1 || need > MP_BUF || (long)s->pw + W > MP_BUF) return 0;
  _Alignas(32) float r[MP_BUF];
  const __m256 lowest = _mm256_set1_ps(-INFINITY), qnan = _mm256_set1_ps(NAN);
  for (long i = 0; i < need || i < (long)s->pw + W; i += 8) _mm256_store_ps(r + i, lowest);
  float *rw = r + s->pw;
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);   /* a vector's even floats to its low half */
  const size_t rs = (size_t)s->dh * (size_t)W;
  for (int oh = 0; oh < s->OH; oh++) {
    const float *r0;
    int nr = window_rows(x, s, oh, &r0);
    for (int i = 0; i < W; i += 8) {   /* the rows' max into rw */
      __m256 nan, v = col_max(r0, rs, nr, i, W, &nan);
      st8_n(rw + i, _mm256_blendv_ps(v, qnan, nan), W - i);
    }
    float *yo = y + (size_t)oh * OW;
    for (int ow0 = 0; ow0 < OW; ow0 += 8) {
      __m256 acc = lowest, nan = _mm256_setzero_ps();
      for (int kx = 0; kx < s->kw; kx++) {
        const float *t = r + (size_t)ow0 * sw + (size_t)kx * s->dw;
        __m256 v;
        if (sw == 1) v = _mm256_loadu_ps(t);
        else {   /* t[0], t[2], ..., t[14] */
          __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t), even), b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + 8), even);
          v = _mm256_permute2f128_ps(a, b, 0x20);
        }
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        acc = _mm256_max_ps(v, acc);
      }
      st8_n(yo + ow0, _mm256_blendv_ps(acc, qnan, nan), OW - ow0);
    }
  }
  return 1;
}
