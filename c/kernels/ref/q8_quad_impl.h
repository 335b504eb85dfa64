/* q8_quad_impl.h: the body of q8_quad_planes (kernels_q8.h), compiled by kernels/ref/q8_pack.c with an SSE2
 * interleave and by kernels/x86/q8_ew__avx512f.c with a 512-bit one (q8_quad_planes__avx512f): the same bytes. */
#ifndef TINYRUNTIME_Q8_QUAD_IMPL_H
#define TINYRUNTIME_Q8_QUAD_IMPL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 4 rows of n bytes (r[j][i]) -> d[4i + j] ^ xr */
typedef void (*Q8Interleave4)(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int n, int xr, int8_t *d);

static inline void q8_quad_planes_impl(const int8_t *x, int C, int H, int W, int ph, int pw, int32_t zx, int xr, size_t plane,
                                       int q0, int q1, int8_t *xq, Q8Interleave4 interleave4) {
  size_t Hp = (size_t)H + 2 * (size_t)ph, Wp = (size_t)W + 2 * (size_t)pw;
  static const int8_t zrow[1];
  for (int q = q0; q < q1; q++) {
    int8_t *d = xq + (size_t)(q - q0) * plane * 4;
    int live = C - 4 * q < 4 ? C - 4 * q : 4;   /* channels of this quad (<= 0: none) */
    uint32_t pv = 0;                            /* the pad pixel: zx in the live channels, 0 past C */
    for (int j = 0; j < live; j++) pv |= (uint32_t)(uint8_t)((int8_t)zx ^ xr) << (8 * j);
    if (live <= 0) {
      memset(d, 0, plane * 4);
      continue;
    }
    uint32_t *d32 = (uint32_t *)(void *)d;   /* the planes are 4-byte aligned (engine scratch) */
    for (size_t i = 0; i < (size_t)ph * Wp; i++) d32[i] = pv;
    const int8_t *r[4];
    for (int ih = 0; ih < H; ih++) {
      uint32_t *row = d32 + ((size_t)ph + ih) * Wp;
      for (int i = 0; i < pw; i++) row[i] = pv, row[pw + W + i] = pv;
      for (int j = 0; j < 4; j++) r[j] = j < live ? x + ((size_t)(4 * q + j) * H + ih) * W : zrow;
      if (live == 4) interleave4(r[0], r[1], r[2], r[3], W, xr, (int8_t *)(row + pw));
      else
        for (int i = 0; i < W; i++)
          for (int j = 0; j < 4; j++) ((int8_t *)(row + pw))[4 * i + j] = j < live ? (int8_t)(r[j][i] ^ xr) : 0;
    }
    for (size_t i = ((size_t)ph + H) * Wp; i < Hp * Wp; i++) d32[i] = pv;
    memset(d32 + Hp * Wp, 0, (plane - Hp * Wp) * 4);
  }
}

#endif
