/* q8_quad_impl.h: the body of q8_quad_planes (kernels_q8.h; stride 1, or a strided convolution's phase
 * planes), compiled once, by kernels/ref/q8_pack.c, as q8_quad_planes_with: called with an SSE2 interleave and a
 * plain gather by q8_quad_planes, with a 512-bit interleave, also of stride-2 rows, by kernels/x86/q8_ew__avx512f.c
 * (q8_quad_planes__avx512f's rows): the same bytes. One copy: a copy in each file was 2.6 KB of the binary. */
#ifndef TINYRUNTIME_Q8_QUAD_IMPL_H
#define TINYRUNTIME_Q8_QUAD_IMPL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "../../src/kernels_q8.h"   /* q8_conv_wq, q8_conv_phase: the plane layout */

/* 4 rows of n bytes (r[j][i]) -> d[4i + j] ^ xr */
typedef void (*Q8Interleave4)(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int n, int xr, int8_t *d);
/* d[i] = x[i * sw], i < n (reading no byte past x[(n - 1) * sw]) */
typedef void (*Q8Gather)(const int8_t *x, int sw, int n, int8_t *d);
static inline void q8_gather_c(const int8_t *x, int sw, int n, int8_t *d) {
  for (int i = 0; i < n; i++) d[i] = x[(size_t)i * sw];
}
void q8_quad_planes_with(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr,
                         size_t plane, int q0, int q1, int8_t *xq, Q8Interleave4 interleave4, Q8Gather gather,
                         Q8Interleave4 interleave4s2);

/* stride sh x sw > 1: quad q's plane is sh * sw phase planes of Hq x Wq pixels (Hq = ceil(Hp / sh), Wq =
   ceil(Wp / sw)), phase (a, b) at pixel (a * sw + b) * Hq * Wq, its pixel (r, c) the padded input's (r * sh + a,
   c * sw + b) (pv past the padded image); the rest of the plane 0. A row's input pixels are gathered a chunk
   at a time into g (4 rows of GCH bytes, `gather`), then interleaved; at stride 2 with 4 live channels, where
   the kernel has one, `interleave4s2` reads the 4 rows at stride 2 itself (as interleave4 of their even bytes:
   no bytes stored to g and loaded back) */
enum { Q8_QUAD_GCH = 256 };
static inline void q8_quad_phases(const int8_t *x, int H, int W, int ph, int pw, int sh, int sw, int xr, size_t plane,
                                  int q, int live, uint32_t pv, int8_t *d, Q8Interleave4 interleave4, Q8Gather gather,
                                  Q8Interleave4 interleave4s2) {
  int Hq = (H + 2 * ph + sh - 1) / sh, Wq = (W + 2 * pw + sw - 1) / sw;
  uint32_t *d32 = (uint32_t *)(void *)d;
  int8_t g[4][Q8_QUAD_GCH];
  for (int a = 0; a < sh; a++)
    for (int b = 0; b < sw; b++) {
      int clo = pw > b ? (pw - b + sw - 1) / sw : 0, chi = (W + pw - b + sw - 1) / sw;   /* columns inside the input */
      if (chi > Wq) chi = Wq;
      if (clo > chi) clo = chi;
      for (int r = 0; r < Hq; r++, d32 += Wq) {
        int iy = r * sh + a - ph;
        if (iy < 0 || iy >= H) {
          for (int c = 0; c < Wq; c++) d32[c] = pv;
          continue;
        }
        for (int c = 0; c < clo; c++) d32[c] = pv;
        for (int c = chi; c < Wq; c++) d32[c] = pv;
        for (int c0 = clo; c0 < chi; c0 += Q8_QUAD_GCH) {
          int n = chi - c0 < Q8_QUAD_GCH ? chi - c0 : Q8_QUAD_GCH;
          const int8_t *x0 = x + ((size_t)(4 * q) * H + iy) * W + (size_t)c0 * sw + b - pw;   /* channel 4q's */
          size_t hw = (size_t)H * W;
          if (live == 4 && sw == 2 && interleave4s2) {
            interleave4s2(x0, x0 + hw, x0 + 2 * hw, x0 + 3 * hw, n, xr, (int8_t *)(d32 + c0));
            continue;
          }
          for (int j = 0; j < live; j++) gather(x0 + (size_t)j * hw, sw, n, g[j]);
          int8_t *o = (int8_t *)(d32 + c0);
          if (live == 4) interleave4(g[0], g[1], g[2], g[3], n, xr, o);
          else
            for (int i = 0; i < n; i++)
              for (int j = 0; j < 4; j++) o[4 * i + j] = j < live ? (int8_t)(g[j][i] ^ xr) : 0;
        }
      }
    }
  size_t used = (size_t)sh * sw * Hq * Wq;
  memset(d + used * 4, 0, (plane - used) * 4);
}

static inline void q8_quad_planes_impl(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr,
                                       size_t plane, int q0, int q1, int8_t *xq, Q8Interleave4 interleave4, Q8Gather gather,
                                       Q8Interleave4 interleave4s2) {
  size_t Wp = (size_t)q8_conv_wq(W, pw, 1, 1), n = q8_conv_phase(H, W, ph, pw, 1, 1);
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
    if (sh > 1 || sw > 1) {
      q8_quad_phases(x, H, W, ph, pw, sh, sw, xr, plane, q, live, pv, d, interleave4, gather, interleave4s2);
      continue;
    }
    uint32_t *d32 = (uint32_t *)(void *)d;   /* the planes are 4-byte aligned (engine scratch) */
    for (size_t i = 0; i < (size_t)ph * Wp; i++) d32[i] = pv;
    const int8_t *r[4];
    for (int ih = 0; ih < H; ih++) {
      uint32_t *row = d32 + ((size_t)ph + ih) * Wp;
      for (int i = 0; i < pw; i++) row[i] = pv;   /* (its right pads: the next row's) */
      for (int j = 0; j < 4; j++) r[j] = j < live ? x + ((size_t)(4 * q + j) * H + ih) * W : zrow;
      if (live == 4) interleave4(r[0], r[1], r[2], r[3], W, xr, (int8_t *)(row + pw));
      else
        for (int i = 0; i < W; i++)
          for (int j = 0; j < 4; j++) ((int8_t *)(row + pw))[4 * i + j] = j < live ? (int8_t)(r[j][i] ^ xr) : 0;
    }
    for (size_t i = ((size_t)ph + H) * Wp; i < n; i++) d32[i] = pv;
    memset(d32 + n, 0, (plane - n) * 4);
  }
}

#endif
