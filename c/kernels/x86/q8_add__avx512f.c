/* q8_add__avx512f.c: sq8 ADD (kernels/ref/q8_add_impl.h) vectorized with AVX-512 F/BW/VL (vpmulld,
 * byte widening): the same integer formula, so the same values as q8_sq8_add. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include "../ref/q8_add_impl.h"

void q8_sq8_add__avx512f(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy,
                         int32_t ma, int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  q8_sq8_add_impl(a, b, n, za, zb, zy, ma, mb, shift, qmin, qmax, y);
}
