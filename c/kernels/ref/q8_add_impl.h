/* q8_add_impl.h: the body of sq8 ADD, compiled by kernels/ref/q8_ops.c (q8_sq8_add) and, with wider
 * vectors, kernels/x86/q8_ew__avx512f.c (q8_sq8_add__avx512f: vpmulld, where baseline x86-64 SSE2
 * has no 32-bit multiply). The includer sets the optimization level (it needs -O3's vectorizer). */
#ifndef TINYRUNTIME_Q8_ADD_IMPL_H
#define TINYRUNTIME_Q8_ADD_IMPL_H
#include <stddef.h>
#include <stdint.h>
#include "../../src/kernels_q8.h"

/* ADD in int32 lanes, exactly FORMAT.md's int64 formula (so that the compiler vectorizes it): with
   A = a - za, B = b - zb in [-255, 255] and m = mh * 2^16 + ml, the sum is H * 2^16 + L + 2^(s-1),
   H = A*mah + B*mbh (|H| < 2^24), L = A*mal + B*mbl (|L| < 2^25). For 17 <= s <= 47,
   floor(sum / 2^s) = (H + 2^(s-17) + (L >> 16)) >> (s - 16) (nested floors; all below 2^31 in
   magnitude); for s >= 48 the sum lies in (0, 2^s), so the result is 0; s <= 16 takes int64. */
static inline void q8_sq8_add_impl(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy,
                int32_t ma, int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  if (shift <= 16) {
    int64_t rnd = (int64_t)1 << (shift - 1);
    for (size_t i = 0; i < n; i++) {
      int64_t v = ((int64_t)(a[i] - za) * ma + (int64_t)(b[i] - zb) * mb + rnd) >> shift;
      y[i] = (int8_t)q8_clamp(zy + v, qmin, qmax);
    }
    return;
  }
  int32_t v0 = shift >= 48 ? q8_clamp(zy, qmin, qmax) : 0;
  if (shift >= 48) {
    for (size_t i = 0; i < n; i++) y[i] = (int8_t)v0;
    return;
  }
  int32_t mah = ma >> 16, mal = ma & 0xFFFF, mbh = mb >> 16, mbl = mb & 0xFFFF, r = 1 << (shift - 17), s2 = shift - 16;
  for (size_t i = 0; i < n; i++) {
    int32_t A = a[i] - za, B = b[i] - zb;
    int32_t v = zy + ((A * mah + B * mbh + r + ((A * mal + B * mbl) >> 16)) >> s2);
    v = v < qmin ? qmin : v;
    y[i] = (int8_t)(v > qmax ? qmax : v);
  }
}
#endif
