/* q8_pack.c: portable helpers of the int8 kernels: weight packing, im2col, the dq8 quantization
 * rule of one value / one group, and the dispatch table choice. Plain C, no ISA flags. */
#include <math.h>
#include <string.h>
#include "../../src/cpu.h"
#include "../../src/kernels_q8.h"

size_t q8_packed_size(int M, int G, int gs) {
  return q8_round_up((size_t)M, Q8_MR) * (size_t)G * (size_t)q8_gsp(gs);
}

void q8_pack_weights(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  int kp = q8_gsp(gs) / 2, K = G * gs;
  size_t tiles = q8_round_up((size_t)M, Q8_MR) / Q8_MR;
  for (size_t t = 0; t < tiles; t++)
    for (int g = 0; g < G; g++)
      for (int j = 0; j < kp; j++)
        for (int r = 0; r < Q8_MR; r++)
          for (int h = 0; h < 2; h++) {
            size_t o = t * Q8_MR + (size_t)r;
            int i = 2 * j + h;                      /* index inside the group */
            int16_t v = 0;
            if (o < (size_t)M && i < gs) {
              int z = wz ? wz[o * (size_t)G + (size_t)g] : 0;
              v = (int16_t)(w[o * (size_t)K + (size_t)g * gs + i] - z);
            }
            A[((t * (size_t)G * kp + (size_t)g * kp + (size_t)j) * Q8_MR + (size_t)r) * 2 + (size_t)h] = v;
          }
}

int32_t q8_dq8_quant1(float v, float s, int32_t z, int asym) {
  float lo = asym ? -128.0f : -127.0f;
  float t = nearbyintf(v / s) + (float)z;
  t = fminf(fmaxf(t, lo), 127.0f);        /* fmaxf first: a NaN becomes lo, never UB */
  return (int32_t)t;
}

float q8_dq8_group_params(const float *v, ptrdiff_t stride, int n, int asym, int32_t *z) {
  *z = 0;
  if (!asym) {
    float m = 0.0f;
    for (int i = 0; i < n; i++) m = fmaxf(m, fabsf(v[i * stride]));
    return m == 0.0f ? 1.0f : m / 127.0f;
  }
  float lo = 0.0f, hi = 0.0f;
  for (int i = 0; i < n; i++) { lo = fminf(lo, v[i * stride]); hi = fmaxf(hi, v[i * stride]); }
  if (hi == lo) return 1.0f;
  float s = (hi - lo) / 255.0f;
  float t = nearbyintf(-128.0f - lo / s);
  *z = (int32_t)fminf(fmaxf(t, -128.0f), 127.0f);
  return s;
}

/* rows k in [k0, k1) of the im2col matrix: k = (ci - ci0, ky, kx) */
#define IM2COL_BODY(PADV)                                                                 \
  for (int k = k0; k < k1; k++) {                                                         \
    int kx = k % kw, ky = (k / kw) % kh, ci = ci0 + k / (kw * kh);                        \
    const __typeof__(*x) *xc = x + (size_t)ci * H * W;                                     \
    __typeof__(*X) *row = X + (ptrdiff_t)k * ldx;                                          \
    for (int oh = 0; oh < OH; oh++) {                                                     \
      __typeof__(*X) *r = row + (size_t)oh * OW;                                           \
      int ih = oh * sh - ph + ky * dh;                                                    \
      if (ih < 0 || ih >= H) { for (int ow = 0; ow < OW; ow++) r[ow] = PADV; continue; }  \
      const __typeof__(*x) *xr = xc + (size_t)ih * W;                                      \
      int off = kx * dw - pw;                                                             \
      /* valid ow: 0 <= ow*sw + off < W */                                                \
      int lo = off >= 0 ? 0 : (-off + sw - 1) / sw;                                       \
      int hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;                                \
      if (hi > OW) hi = OW;                                                               \
      if (lo > hi) lo = hi;                                                               \
      for (int ow = 0; ow < lo; ow++) r[ow] = PADV;                                        \
      if (sw == 1) for (int ow = lo; ow < hi; ow++) r[ow] = xr[ow + off];                 \
      else for (int ow = lo; ow < hi; ow++) r[ow] = xr[ow * sw + off];                    \
      for (int ow = hi; ow < OW; ow++) r[ow] = PADV;                                       \
    }                                                                                     \
  }

void q8_im2col_i8(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                  int pw, int dh, int dw, int OH, int OW, int32_t zx, int k0, int k1,
                  int16_t *X, ptrdiff_t ldx) {
  int16_t padv = (int16_t)zx;
  IM2COL_BODY(padv)
}

void q8_im2col_f32(const float *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                   int pw, int dh, int dw, int OH, int OW, int k0, int k1, float *X, ptrdiff_t ldx) {
  IM2COL_BODY(0.0f)
}

const Q8Kernels *q8_kernels(void) {
#if defined(__x86_64__)
  if (cpu_use("avx2")) return &q8_kernels_avx2;
#endif
  return &q8_kernels_ref;
}
