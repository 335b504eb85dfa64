/* q8_dwconv__ref.c: one output plane of an sq8 depthwise convolution (src/kernels_q8.h), scalar
 * reference: the oracle of the SIMD kernels' tests and the fallback for every shape they leave out.
 * Per output row, int32 sums of a run of columns are built tap by tap (pad taps add w * zx), then
 * requantized exactly as FORMAT.md writes it. The dot is exact in int32: the format's K <= 65536. */
#include "../../src/kernels_q8.h"

/* plain loops that GCC vectorizes with its vectorizer on (the dynamic cost model; the build's -O2 has only the
   very cheap one, which does not; -O3 until 2026-12-04: 434 bytes more) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O2", "tree-vectorize", "vect-cost-model=dynamic")
#endif

#define RUN 256   /* output columns per run */

void q8_dwconv_ref(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s) {
  int32_t acc[RUN];
  for (int oy = 0; oy < s->OH; oy++)
    for (int ox0 = 0; ox0 < s->OW; ox0 += RUN) {
      int n = s->OW - ox0 < RUN ? s->OW - ox0 : RUN;
      for (int i = 0; i < n; i++) acc[i] = 0;
      for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh, in_row = iy >= 0 && iy < s->H;
        const int8_t *xr = x + (in_row ? (size_t)iy * s->W : 0);
        for (int kx = 0; kx < s->kw; kx++) {
          int32_t wv = w[ky * s->kw + kx], pad = wv * s->zx;
          /* input column of output i: c = (ox0 + i) * sw + off; valid i: [lo, hi) */
          long off = (long)kx * s->dw - s->pw, c0 = (long)ox0 * s->sw + off;
          long lo = c0 >= 0 ? 0 : (-c0 + s->sw - 1) / s->sw;
          long hi = s->W - c0 <= 0 ? 0 : (s->W - c0 + s->sw - 1) / s->sw;
          if (!in_row) lo = hi = 0;
          if (hi > n) hi = n;
          if (lo > hi) lo = hi;
          for (int i = 0; i < (int)lo; i++) acc[i] += pad;
          if (hi > lo) {
            int32_t *a = acc + lo;
            const int8_t *src = xr + (c0 + lo * s->sw);
            int m = (int)(hi - lo), sw = s->sw;
            if (sw == 1)
              for (int t = 0; t < m; t++) a[t] += wv * src[t];
            else if (sw == 2)
              for (int t = 0; t < m; t++) a[t] += wv * src[2 * t];
            else
              for (int t = 0; t < m; t++) a[t] += wv * src[t * sw];
          }
          for (int i = (int)hi; i < n; i++) acc[i] += pad;
        }
      }
      int8_t *yr = y + (size_t)oy * s->OW + ox0;
      for (int i = 0; i < n; i++)
        yr[i] = (int8_t)q8_clamp(s->zy + q8_requant((int64_t)acc[i] + bias, mult, shift), s->qmin, s->qmax);
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

const Q8DwDesc q8_dwconv__ref_desc = {"q8_dwconv__ref", "ref", q8_dwconv_ref, NULL};
