/* f32_dwconv__avx2: one channel plane of a depthwise convolution. Output columns whose whole window
 * lies inside the input are done 8 at a time (stride 1 or 2 along x: stride 2 loads 16 inputs and
 * keeps the even ones); the border falls back to scalar. Every output is the same sum, in the same
 * order (ky, kx, fused multiply-adds), on either path. */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"

static float one(const float *in, const float *w, float bias, const F32DwShape *s, int oy, int ox) {
  float acc = 0.0f;
  for (int ky = 0; ky < s->kh; ky++) {
    int iy = oy * s->sh - s->ph + ky * s->dh;
    if (iy < 0 || iy >= s->H) continue;
    for (int kx = 0; kx < s->kw; kx++) {
      int ix = ox * s->sw - s->pw + kx * s->dw;
      if (ix < 0 || ix >= s->W) continue;
      acc = fmaf(w[ky * s->kw + kx], in[(size_t)iy * s->W + ix], acc);
    }
  }
  return act_f32(acc + bias, s->act);
}

/* act: the shape's activation, a constant where dwconv calls it (so act_avx2 reduces to its instructions) */
static inline __attribute__((always_inline)) void body(const float *in, const float *w, float bias, float *out,
                                                       const F32DwShape *s, int act) {
  /* interior columns: ox*sw - pw >= 0 and ox*sw - pw + (kw-1)*dw <= W-1 */
  int x0 = (s->pw + s->sw - 1) / s->sw, x1 = s->OW; /* [x0, x1) */
  int lim = s->W - 1 + s->pw - (s->kw - 1) * s->dw;  /* ox*sw <= lim */
  x1 = lim < 0 ? 0 : lim / s->sw + 1;
  if (x1 > s->OW) x1 = s->OW;
  if (x0 > x1) x0 = x1;
  /* stride 2 reads one input past the last window's (the odd one it drops): its columns must keep
     ox*2 - pw + (kw-1)*dw + 1 <= W-1 */
  int x2 = lim - 1 < 0 ? 0 : (lim - 1) / 2 + 1;
  if (x2 > x1) x2 = x1;
  __m256 vb = _mm256_set1_ps(bias);
  for (int oy = 0; oy < s->OH; oy++) {
    float *o = out + (size_t)oy * s->OW;
    int ox = 0;
    for (; ox < x0; ox++) o[ox] = one(in, w, bias, s, oy, ox);
    if (s->sw == 1)
      for (; ox + 8 <= x1; ox += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int ky = 0; ky < s->kh; ky++) {
          int iy = oy * s->sh - s->ph + ky * s->dh;
          if (iy < 0 || iy >= s->H) continue;
          const float *row = in + (size_t)iy * s->W + (ox - s->pw);
          for (int kx = 0; kx < s->kw; kx++)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(w[ky * s->kw + kx]), _mm256_loadu_ps(row + kx * s->dw), acc);
        }
        _mm256_storeu_ps(o + ox, act_avx2(_mm256_add_ps(acc, vb), act));
      }
    else if (s->sw == 2)
      for (; ox + 8 <= x2; ox += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int ky = 0; ky < s->kh; ky++) {
          int iy = oy * s->sh - s->ph + ky * s->dh;
          if (iy < 0 || iy >= s->H) continue;
          const float *row = in + (size_t)iy * s->W + (2 * ox - s->pw);
          for (int kx = 0; kx < s->kw; kx++) {
            const float *p = row + kx * s->dw;
            __m256 ev = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
            ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(w[ky * s->kw + kx]), ev, acc);
          }
        }
        _mm256_storeu_ps(o + ox, act_avx2(_mm256_add_ps(acc, vb), act));
      }
    for (; ox < s->OW; ox++) o[ox] = one(in, w, bias, s, oy, ox);
  }
}

static void dwconv(const float *in, const float *w, float bias, float *out, const F32DwShape *s) {
  switch (s->act) {
  case ACT_NONE: body(in, w, bias, out, s, ACT_NONE); break;
  case ACT_RELU: body(in, w, bias, out, s, ACT_RELU); break;
  case ACT_RELU6: body(in, w, bias, out, s, ACT_RELU6); break;
  default: body(in, w, bias, out, s, s->act); break;
  }
}

const F32DwDesc f32_dwconv__avx2_desc = {"f32_dwconv__avx2", dwconv};
