/* q8_ops.c: the non-GEMM ops of sq8, plain C: FORMAT.md's integer formulas, exact. (dq8 runs the
 * f32 ops.) One image per call. The ADD and the max pool are built with GCC's vectorizer on (its dynamic cost
 * model; the build's -O2 has only the very cheap one), not at -O3 as they were: the same vector loops (x86-64
 * and arm64) in 2.5 KB less code (DESIGN's 1 MiB bound), ResNet18 sq8's max pool by this table (AVX2 CPUs,
 * arm64) 0.89x its time (Zen 4, one thread, TINYRUNTIME_KERNELS=avx2). */
#include <math.h>
#include <string.h>
#include "../../src/model.h"
#include "../../src/kernels_q8.h"

#include "q8_quant_impl.h"
void q8_sq8_quantize(const float *x, size_t n, float s, int32_t z, int8_t *y) { q8_sq8_quantize_impl(x, n, s, z, y); }

void q8_sq8_dequantize(const int8_t *x, size_t n, float s, int32_t z, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = s * (float)((int32_t)x[i] - z);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O2", "tree-vectorize", "vect-cost-model=dynamic")
#endif
#include "q8_add_impl.h"
void q8_sq8_add(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy,
                int32_t ma, int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  q8_sq8_add_impl(a, b, n, za, zb, zy, ma, mb, shift, qmin, qmax, y);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

void q8_sq8_requant_copy(const int8_t *x, size_t n, int32_t zx, int32_t zy, int32_t m, int32_t shift,
                         int8_t *y) {
  for (size_t i = 0; i < n; i++)
    y[i] = (int8_t)q8_clamp(zy + q8_requant((int64_t)x[i] - zx, m, shift), -128, 127);
}

void q8_sq8_clamp(const int8_t *x, size_t n, int32_t qmin, int32_t qmax, int8_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = (int8_t)q8_clamp(x[i], qmin, qmax);
}

/* avg-pool window [*a, *b) along one axis and PyTorch's pool size (padding included) */
static int avg_window(int o, int k, int s, int p, int n, int *a, int *b) {
  int st = o * s - p, en = st + k;
  if (en > n + p) en = n + p;
  int size = en - st;
  *a = st < 0 ? 0 : st;
  *b = en > n ? n : en;
  return size;
}
static int adaptive_start(int i, int n, int out) { return (int)((int64_t)i * n / out); }
static int adaptive_end(int i, int n, int out) { return (int)(((int64_t)(i + 1) * n + out - 1) / out); }

#define MAXPOOL_BODY(T, LOWEST)                                                             \
  for (int c = 0; c < C; c++) {                                                             \
    const T *xc = x + (size_t)c * H * W;                                                    \
    for (int oh = 0; oh < OH; oh++)                                                         \
      for (int ow = 0; ow < OW; ow++) {                                                     \
        T m = LOWEST;                                                                       \
        for (int ky = 0; ky < p->kh; ky++) {                                                \
          int ih = oh * p->sh - p->ph + ky * p->dh;                                         \
          if (ih < 0 || ih >= H) continue;                                                  \
          for (int kx = 0; kx < p->kw; kx++) {                                              \
            int iw = ow * p->sw - p->pw + kx * p->dw;                                       \
            if (iw < 0 || iw >= W) continue;                                                \
            T v = xc[(size_t)ih * W + iw];                                                  \
            if (v > m || isnan((double)v)) m = v;                                           \
          }                                                                                 \
        }                                                                                   \
        y[((size_t)c * OH + oh) * OW + ow] = m;                                             \
      }                                                                                     \
  }

/* Max pool by rows (so that the compiler vectorizes it): per output row and chunk of output columns,
   the elementwise max of the window's input rows over the columns the chunk reads (columns outside
   the input: -128, which never wins over a real value and is the answer when no tap is inside,
   as MAXPOOL_BODY gives), then the max over the window's columns. Windows wider than the buffer
   take MAXPOOL_BODY. */
#define MPBUF 1024
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O2", "tree-vectorize", "vect-cost-model=dynamic")
#endif
void q8_sq8_maxpool(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y) {
  int span1 = (p->kw - 1) * p->dw + 1, sw = p->sw;
  if (span1 > MPBUF / 2 || sw > MPBUF / 4) {
    MAXPOOL_BODY(int8_t, -128)
    return;
  }
  int nmax = (MPBUF - span1) / sw + 1;   /* output columns per chunk */
  int8_t t[MPBUF];
  for (int c = 0; c < C; c++) {
    const int8_t *xc = x + (size_t)c * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow0 = 0; ow0 < OW; ow0 += nmax) {
        int n = OW - ow0 < nmax ? OW - ow0 : nmax;
        int c0 = ow0 * sw - p->pw, cn = (n - 1) * sw + span1;   /* input columns [c0, c0 + cn) */
        int lo = c0 < 0 ? 0 : c0, hi = c0 + cn < W ? c0 + cn : W;
        memset(t, -128, (size_t)cn);
        for (int ky = 0; ky < p->kh; ky++) {
          int ih = oh * p->sh - p->ph + ky * p->dh;
          if (ih < 0 || ih >= H) continue;
          const int8_t *r = xc + (size_t)ih * W;
          for (int i = lo; i < hi; i++) t[i - c0] = r[i] > t[i - c0] ? r[i] : t[i - c0];
        }
        int8_t *yo = y + ((size_t)c * OH + oh) * OW + ow0;
        memset(yo, -128, (size_t)n);
        for (int kx = 0; kx < p->kw; kx++) {
          const int8_t *tk = t + kx * p->dw;
          if (sw == 1)
            for (int j = 0; j < n; j++) yo[j] = tk[j] > yo[j] ? tk[j] : yo[j];
          else if (sw == 2)
            for (int j = 0; j < n; j++) yo[j] = tk[2 * j] > yo[j] ? tk[2 * j] : yo[j];
          else
            for (int j = 0; j < n; j++) yo[j] = tk[j * sw] > yo[j] ? tk[j * sw] : yo[j];
        }
      }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#undef MPBUF

#define ADAPTIVE_MAX_BODY(T, LOWEST)                                                        \
  for (int c = 0; c < C; c++) {                                                             \
    const T *xc = x + (size_t)c * H * W;                                                    \
    for (int oh = 0; oh < OH; oh++)                                                         \
      for (int ow = 0; ow < OW; ow++) {                                                     \
        int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);                   \
        int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);                   \
        T m = LOWEST;                                                                       \
        for (int ih = h0; ih < h1; ih++)                                                    \
          for (int iw = w0; iw < w1; iw++) {                                                \
            T v = xc[(size_t)ih * W + iw];                                                  \
            if (v > m || isnan((double)v)) m = v;                                           \
          }                                                                                 \
        y[((size_t)c * OH + oh) * OW + ow] = m;                                             \
      }                                                                                     \
  }

/* the sq8 adaptive max pool and the plain average pool: built cold (for size, the 1 MiB bound; no model of the
   bench has one) */
__attribute__((cold)) void q8_sq8_adaptive_maxpool(const int8_t *x, int C, int H, int W, int OH, int OW, int8_t *y) {
  ADAPTIVE_MAX_BODY(int8_t, -128)
}

__attribute__((cold)) void q8_sq8_avgpool(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int32_t zx,
                                          int8_t *y) {
  for (int c = 0; c < C; c++) {
    const int8_t *xc = x + (size_t)c * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int h0, h1, w0, w1;
        int size = avg_window(oh, p->kh, p->sh, p->ph, H, &h0, &h1) *
                   avg_window(ow, p->kw, p->sw, p->pw, W, &w0, &w1);
        int64_t sum = 0;
        for (int ih = h0; ih < h1; ih++)
          for (int iw = w0; iw < w1; iw++) sum += xc[(size_t)ih * W + iw] - zx;
        int64_t n = p->divisor ? p->divisor : p->count_include_pad ? size
                                                                  : (int64_t)(h1 - h0) * (w1 - w0);
        if (n <= 0) n = 1;
        y[((size_t)c * OH + oh) * OW + ow] = (int8_t)q8_clamp(zx + q8_divr(sum, n), -128, 127);
      }
  }
}


void q8_sq8_adaptive_avgpool(const int8_t *x, int C, int H, int W, int OH, int OW, int32_t zx, int8_t *y) {
  if (OH == 1 && OW == 1 && (int64_t)H * W < (1 << 23)) {   /* global: a plain sum (int32 holds it), in four
                                                                 (exact: MobileNetV2's 1280 x 7 x 7 0.66x its time) */
    int n = H * W;
    for (int c = 0; c < C; c++) {
      const int8_t *xc = x + (size_t)c * (size_t)n;
      int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int i = 0;
      for (; i + 4 <= n; i += 4) s0 += xc[i], s1 += xc[i + 1], s2 += xc[i + 2], s3 += xc[i + 3];
      for (; i < n; i++) s0 += xc[i];
      y[c] = (int8_t)q8_clamp(zx + q8_divr((int64_t)s0 + s1 + s2 + s3 - (int64_t)n * zx, n), -128, 127);
    }
    return;
  }
  for (int c = 0; c < C; c++) {
    const int8_t *xc = x + (size_t)c * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
        int64_t sum = 0;
        for (int ih = h0; ih < h1; ih++)
          for (int iw = w0; iw < w1; iw++) sum += xc[(size_t)ih * W + iw] - zx;
        int64_t n = (int64_t)(h1 - h0) * (w1 - w0);
        y[((size_t)c * OH + oh) * OW + ow] = (int8_t)q8_clamp(zx + q8_divr(sum, n), -128, 127);
      }
  }
}

void q8_sq8_lut(const int8_t *x, size_t n, const int8_t *lut, int8_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = lut[(int)x[i] + 128];
}

void q8_sq8_mul(const int8_t *a, const int8_t *b, size_t n, int bstride, int32_t za, int32_t zb, int32_t zy,
                int32_t m, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  for (size_t i = 0; i < n; i++) {
    int64_t p = (int64_t)(a[i] - za) * (b[i * (size_t)bstride] - zb);
    y[i] = (int8_t)q8_clamp(zy + q8_requant(p, m, shift), qmin, qmax);
  }
}

const Q8EwKernels q8_ew__ref = {"q8_ew__ref", q8_sq8_quantize, q8_sq8_add, q8_sq8_maxpool, q8_quad_planes};
