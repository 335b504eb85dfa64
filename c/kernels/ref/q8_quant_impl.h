/* q8_quant_impl.h: the body of sq8 QUANTIZE (FORMAT.md: clamp(rne(x / s) + z)), compiled by
 * kernels/ref/q8_ops.c (q8_sq8_quantize) and, with wider vectors, kernels/x86/q8_ew__avx512f.c
 * (q8_sq8_quantize__avx512f: 16 divisions a vector): the same IEEE operations, so the same bytes.
 * -O2's vectorizer takes its blocks of 16. */
#ifndef TINYRUNTIME_Q8_QUANT_IMPL_H
#define TINYRUNTIME_Q8_QUANT_IMPL_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

static inline void q8_quantize_scalar(const float *x, size_t n, float s, int32_t z, int8_t *y) {
  for (size_t i = 0; i < n; i++) {
    float t = nearbyintf(x[i] / s) + (float)z;
    y[i] = (int8_t)fminf(fmaxf(t, -128.0f), 127.0f);   /* a NaN becomes -128, never UB */
  }
}

/* The same in blocks of 16 the compiler vectorizes: t = x / s is first clamped to [lo, hi] =
   [-129 - z, 128 - z] (integers; rne is monotone, so a t below lo gives rne(t) + z <= -129 like lo
   does, above hi >= 128 like hi; a NaN becomes lo: -128), then rne(t) = (t + 1.5 * 2^23) - 1.5 * 2^23
   exactly (|t| < 2^22, round to nearest even), and rne(t) + z is exact. |z| >= 2^21: the scalar loop. */
static inline int32_t q8_quantize1(float v, float s, float lo, float hi, float zf) {
  const float magic = 12582912.0f;
  float t = v / s;
  t = t >= lo ? t : lo;
  t = t <= hi ? t : hi;
  t = (t + magic) - magic + zf;
  t = t >= -128.0f ? t : -128.0f;
  t = t <= 127.0f ? t : 127.0f;
  return (int32_t)t;
}

static inline void q8_sq8_quantize_impl(const float *x, size_t n, float s, int32_t z, int8_t *y) {
  if (z >= (1 << 21) || z <= -(1 << 21)) {
    q8_quantize_scalar(x, n, s, z, y);
    return;
  }
  float zf = (float)z, lo = -129.0f - zf, hi = 128.0f - zf;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int32_t q[16];
    for (int l = 0; l < 16; l++) q[l] = q8_quantize1(x[i + l], s, lo, hi, zf);
    for (int l = 0; l < 16; l++) y[i + l] = (int8_t)q[l];
  }
  for (; i < n; i++) y[i] = (int8_t)q8_quantize1(x[i], s, lo, hi, zf);
}

#endif
