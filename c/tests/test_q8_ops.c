/* test_q8_ops.c: the non-GEMM sq8 ops (kernels/ref/q8_ops.c) against naive implementations of
 * FORMAT.md's formulas (exact), on awkward shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "dispatch.h"
#include "kernels_q8.h"
#include "util_writer.h"

static uint64_t seed = 12345;
static int ri(int lo, int hi) { return lo + (int)(rng_next(&seed) % (uint64_t)(hi - lo + 1)); }
static int8_t *rand_i8(size_t n) {
  int8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)ri(-128, 127);
  return p;
}
static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
/* floor((2a + n) / (2n)) with exact floor for negatives, written differently from q8_divr */
static int64_t divr_naive(int64_t a, int64_t n) { return (int64_t)floorl((long double)(2 * a + n) / (long double)(2 * n)); }

static void elementwise(void) {
  size_t n = 1003;
  int8_t *a = rand_i8(n), *b = rand_i8(n + 7), *y = malloc(n);
  float *f = malloc(4 * n), *g = malloc(4 * n);
  for (int rep = 0; rep < 50; rep++) {
    int32_t za = ri(-128, 127), zb = ri(-128, 127), zy = ri(-128, 127), sh = ri(1, 62);
    int32_t ma = (int32_t)(rng_next(&seed) & 0x7FFFFFFF), mb = rep % 5 ? (int32_t)(rng_next(&seed) & 0x7FFFFFFF) : 0;
    int32_t qmin = ri(-128, 0), qmax = ri(qmin, 127);
    if (rep % 3 == 0) sh = ri(28, 34);
    if (rep < 8) sh = (int32_t[]){ 1, 16, 17, 18, 46, 47, 48, 62 }[rep];   /* each side of add's int32 range */
    if (rep % 4 == 1) ma = 2147483647, mb = rep % 8 == 1 ? 2147483647 : mb;
    q8_sq8_add(a, b, n, za, zb, zy, ma, mb, sh, qmin, qmax, y);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
      int64_t acc = (int64_t)(a[i] - za) * ma + (int64_t)(b[i] - zb) * mb;
      bad += y[i] != clampl(zy + ((acc + ((int64_t)1 << (sh - 1))) >> sh), qmin, qmax);
    }
    CHECK(bad == 0, "add rep %d: %d differ", rep, bad);
    if (rep < 12) {   /* every (a, b) pair, multipliers near 2^(s-2) so that roundings show through the clamp */
      int32_t s2 = (int32_t[]){ 16, 17, 18, 20, 24, 29, 31, 33, 40, 46, 47, 48 }[rep];
      int64_t top = ((int64_t)1 << (s2 - 2)) < 2147483647 ? ((int64_t)1 << (s2 - 2)) : 2147483647;
      int32_t m1 = (int32_t)(top - (int64_t)(rng_next(&seed) % (uint64_t)(top / 3 + 1)));
      int32_t m2 = (int32_t)(top - (int64_t)(rng_next(&seed) % (uint64_t)(top / 2 + 1)));
      int8_t ea[256], eb[256], ey[256];
      int bad2 = 0;
      for (int i = 0; i < 256; i++) {
        for (int j = 0; j < 256; j++) ea[j] = (int8_t)(i - 128), eb[j] = (int8_t)(j - 128);
        q8_sq8_add(ea, eb, 256, za, zb, zy, m1, m2, s2, -128, 127, ey);
        for (int j = 0; j < 256; j++) {
          int64_t acc = (int64_t)(ea[j] - za) * m1 + (int64_t)(eb[j] - zb) * m2;
          bad2 += ey[j] != clampl(zy + ((acc + ((int64_t)1 << (s2 - 1))) >> s2), -128, 127);
        }
      }
      CHECK(bad2 == 0, "add all pairs shift %d: %d differ", s2, bad2);
    }
    q8_sq8_requant_copy(a, n, za, zy, ma, sh, y);
    bad = 0;
    for (size_t i = 0; i < n; i++)
      bad += y[i] != clampl(zy + (((int64_t)(a[i] - za) * ma + ((int64_t)1 << (sh - 1))) >> sh), -128, 127);
    CHECK(bad == 0, "concat requant rep %d: %d differ", rep, bad);
    q8_sq8_clamp(a, n, qmin, qmax, y);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += y[i] != clampl(a[i], qmin, qmax);
    CHECK(bad == 0, "act clamp: %d differ", bad);
    /* LUT (sigmoid .. hardsigmoid) and MUL, same shape and channel broadcast (bstride 0) */
    int8_t lut[256];
    for (int i = 0; i < 256; i++) lut[i] = (int8_t)ri(-128, 127);
    q8_sq8_lut(a, n, lut, y);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += y[i] != lut[a[i] + 128];
    CHECK(bad == 0, "lut: %d differ", bad);
    for (int bc = 0; bc < 2; bc++) {
      q8_sq8_mul(a, b + 7, n, bc ? 0 : 1, za, zb, zy, ma, sh, qmin, qmax, y);
      bad = 0;
      for (size_t i = 0; i < n; i++) {
        int64_t p = (int64_t)(a[i] - za) * (b[7 + (bc ? 0 : i)] - zb);
        bad += y[i] != clampl(zy + ((p * ma + ((int64_t)1 << (sh - 1))) >> sh), qmin, qmax);
      }
      CHECK(bad == 0, "mul (broadcast %d) rep %d: %d differ", bc, rep, bad);
    }
    /* quantize / dequantize */
    float s = rng_unif(&seed, 0.001f, 0.5f);
    for (size_t i = 0; i < n; i++) f[i] = rng_unif(&seed, -80.0f, 80.0f);
    f[0] = 2.5f * s, f[1] = -3.5f * s, f[2] = 0.5f * s, f[3] = 1e30f, f[4] = -1e30f;   /* ties, overflow */
    q8_sq8_quantize(f, n, s, zy, y);
    bad = 0;
    for (size_t i = 0; i < n; i++) {
      float r = rintf(f[i] / s);   /* default rounding mode: half to even */
      double v = (double)r + zy;
      bad += y[i] != (v < -128 ? -128 : v > 127 ? 127 : (int)v);
    }
    CHECK(bad == 0, "quantize: %d differ", bad);
#if defined(__x86_64__)
    if (cpu_has("avx512f")) {   /* the AVX-512 one: the same bytes, from odd offsets and lengths too */
      size_t off = (size_t)ri(0, 15), len = n - off - (size_t)ri(0, 15);
      int8_t *y2 = malloc(n);
      f[5] = NAN, f[6] = -NAN;   /* NaN: -128 in both */
      q8_sq8_quantize(f + off, len, s, zy, y);
      q8_sq8_quantize__avx512f(f + off, len, s, zy, y2);
      CHECK(memcmp(y, y2, len) == 0, "quantize avx512f rep %d differs", rep);
      q8_sq8_quantize__avx512f(f, n, s, 1 << 22, y2);   /* a zero point the scalar path takes */
      q8_sq8_quantize(f, n, s, 1 << 22, y);
      CHECK(memcmp(y, y2, n) == 0, "quantize avx512f (big zero point) rep %d differs", rep);
      free(y2);
    }
#endif
    q8_sq8_dequantize(a, n, s, za, g);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += g[i] != s * (float)(a[i] - za);
    CHECK(bad == 0, "dequantize: %d differ", bad);
  }
  CHECK(q8_divr(-3, 2) == divr_naive(-3, 2) && q8_divr(3, 2) == 2 && q8_divr(-1, 2) == 0 && q8_divr(-5, 2) == -2,
        "divr rounding");
  for (int i = 0; i < 2000; i++) {
    int64_t x = ri(-100000, 100000), d = ri(1, 300);
    CHECK(q8_divr(x, d) == divr_naive(x, d), "divr(%lld, %lld)", (long long)x, (long long)d);
  }
  free(a), free(b), free(y), free(f), free(g);
}

/* pools: sq8 against the naive integer rule (dq8's are the f32 ops: test_f32_ops) */
static void pools(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int cm,
                  int cip, int dov) {
  int8_t *x = rand_i8((size_t)C * H * W);
  int32_t zx = ri(-128, 127);
  int OH = pt_out_len(H, kh, sh, ph, dh, cm), OW = pt_out_len(W, kw, sw, pw, dw, cm);
  int AH = pt_out_len(H, kh, sh, ph, 1, cm), AW = pt_out_len(W, kw, sw, pw, 1, cm);
  size_t cap = 2 * (size_t)C * (H + 8) * (W + 8);   /* every output below fits */
  int8_t *y = malloc(cap);
  Q8Pool p = { kh, kw, sh, sw, ph, pw, dh, dw, cm, cip, dov };
  int bad = 0;
  if (OH > 0 && OW > 0) {
    q8_sq8_maxpool(x, C, H, W, &p, OH, OW, y);
    for (int c = 0; c < C; c++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          int m = -1000;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int ih = oh * sh - ph + ky * dh, iw = ow * sw - pw + kx * dw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W && x[(c * H + ih) * W + iw] > m) m = x[(c * H + ih) * W + iw];
            }
          bad += y[(c * OH + oh) * OW + ow] != (m == -1000 ? -128 : m);
        }
  }
  CHECK(bad == 0, "maxpool C=%d %dx%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d ceil=%d: %d differ", C, H, W, kh, kw, sh, sw, ph,
        pw, dh, dw, cm, bad);
#if defined(__x86_64__)
  if (OH > 0 && OW > 0 && cpu_has("avx512f")) {   /* the AVX-512 one: the same bytes */
    int8_t *y2 = malloc(cap);
    memset(y2, 0x55, cap);
    q8_sq8_maxpool__avx512f(x, C, H, W, &p, OH, OW, y2);
    CHECK(memcmp(y, y2, (size_t)C * OH * OW) == 0, "maxpool avx512f C=%d %dx%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d ceil=%d differs",
          C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, cm);
    int past = 0;   /* nothing written after the planes (its planes' line touches) */
    for (size_t i = (size_t)C * OH * OW; i < (size_t)C * OH * OW + 64; i++) past += y2[i] != 0x55;
    CHECK(past == 0, "maxpool avx512f C=%d %dx%d: %d bytes written past the output", C, H, W, past);
    free(y2);
  }
  if (OH > 0 && OW > 0 && cpu_has("avx2")) {   /* the AVX2 one: the same bytes, none written past them */
    int8_t *y2 = malloc(cap);
    memset(y2, 0x55, cap);
    q8_sq8_maxpool__avx2(x, C, H, W, &p, OH, OW, y2);
    CHECK(memcmp(y, y2, (size_t)C * OH * OW) == 0, "maxpool avx2 C=%d %dx%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d ceil=%d differs",
          C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, cm);
    int past = 0;
    for (size_t i = (size_t)C * OH * OW; i < (size_t)C * OH * OW + 64; i++) past += y2[i] != 0x55;
    CHECK(past == 0, "maxpool avx2 C=%d %dx%d: %d bytes written past the output", C, H, W, past);
    free(y2);
  }
#endif
  bad = 0;
  if (AH > 0 && AW > 0) {
    Q8Pool pa = p;
    pa.dh = pa.dw = 1;
    q8_sq8_avgpool(x, C, H, W, &pa, AH, AW, zx, y);
    for (int c = 0; c < C; c++)
      for (int oh = 0; oh < AH; oh++)
        for (int ow = 0; ow < AW; ow++) {
          int64_t sum = 0, cnt = 0, tot = 0;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int ih = oh * sh - ph + ky, iw = ow * sw - pw + kx;
              if (ih < H + ph && iw < W + pw) tot++;      /* inside the padded input */
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) sum += x[(c * H + ih) * W + iw] - zx, cnt++;
            }
          int64_t n = dov ? dov : cip ? tot : cnt;
          bad += y[(c * AH + oh) * AW + ow] != clampl(zx + divr_naive(sum, n), -128, 127);
        }
  }
  CHECK(bad == 0, "avgpool C=%d %dx%d k=%dx%d s=%d,%d p=%d,%d ceil=%d cip=%d dov=%d: %d differ", C, H, W, kh, kw, sh, sw,
        ph, pw, cm, cip, dov, bad);
  /* adaptive pools to a few output sizes */
  int outs[][2] = { { 1, 1 }, { 2, 3 }, { H, W }, { H + 1, W > 1 ? W - 1 : 1 }, { 5, 7 } };
  for (int t = 0; t < 5; t++) {
    int oh_ = outs[t][0], ow_ = outs[t][1];
    bad = 0;
    q8_sq8_adaptive_avgpool(x, C, H, W, oh_, ow_, zx, y);
    q8_sq8_adaptive_maxpool(x, C, H, W, oh_, ow_, y + (size_t)C * oh_ * ow_);
    for (int c = 0; c < C; c++)
      for (int i = 0; i < oh_; i++)
        for (int j = 0; j < ow_; j++) {
          int h0 = (int)floor((double)i * H / oh_), h1 = (int)ceil((double)(i + 1) * H / oh_);
          int w0 = (int)floor((double)j * W / ow_), w1 = (int)ceil((double)(j + 1) * W / ow_);
          int64_t sum = 0, m = -128;
          for (int a = h0; a < h1; a++)
            for (int b = w0; b < w1; b++) {
              sum += x[(c * H + a) * W + b] - zx;
              if (x[(c * H + a) * W + b] > m) m = x[(c * H + a) * W + b];
            }
          bad += y[(c * oh_ + i) * ow_ + j] != clampl(zx + divr_naive(sum, (int64_t)(h1 - h0) * (w1 - w0)), -128, 127);
          bad += y[(size_t)C * oh_ * ow_ + (c * oh_ + i) * ow_ + j] != m;
        }
    CHECK(bad == 0, "adaptive pools C=%d %dx%d -> %dx%d: %d differ", C, H, W, oh_, ow_, bad);
  }
  free(x), free(y);
}

/* each x86 table's own ADD (AVX2, AVX-512) equals q8_sq8_add (checked above against the int64 formula) on every shift
   range, odd lengths and offsets */
static void add_variants(void) {
#if defined(__x86_64__)
  const char *isas[] = {"avx2", "avx512f"};
  for (int t = 0; t < 2; t++) {
    const Q8EwKernels *ew = q8_ew_for(isas[t]);
    if (!ew) continue;   /* not on this CPU */
    size_t n = 1003;
    int8_t *a = rand_i8(n + 64), *b = rand_i8(n + 64), *y0 = malloc(n), *y1 = malloc(n);
    int bad = 0;
    for (int rep = 0; rep < 300; rep++) {
      int32_t za = ri(-128, 127), zb = ri(-128, 127), zy = ri(-128, 127), sh = rep < 62 ? rep + 1 : ri(1, 62);
      int32_t ma = (int32_t)(rng_next(&seed) & 0x7FFFFFFF), mb = rep % 5 ? (int32_t)(rng_next(&seed) & 0x7FFFFFFF) : 0;
      if (rep % 4 == 1) ma = 2147483647, mb = rep % 8 == 1 ? 2147483647 : mb;
      int32_t qmin = ri(-128, 0), qmax = ri(qmin, 127);
      size_t off = (size_t)ri(0, 63), len = (size_t)ri(0, (int)n);
      q8_sq8_add(a + off, b + 63 - off, len, za, zb, zy, ma, mb, sh, qmin, qmax, y0);
      ew->add(a + off, b + 63 - off, len, za, zb, zy, ma, mb, sh, qmin, qmax, y1);
      bad += memcmp(y0, y1, len) != 0;
    }
    CHECK(bad == 0, "add %s (%s): %d of 300 runs differ", isas[t], ew->name, bad);
    free(a); free(b); free(y0); free(y1);
  }
#endif
}

int main(void) {
  elementwise();
  add_variants();
  pools(3, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, 0);
  pools(2, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 1, 0, 0);
  pools(4, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0);
  pools(1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0);
  pools(2, 11, 6, 3, 2, 3, 1, 1, 1, 2, 1, 1, 1, 0);
  pools(3, 13, 13, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 0);
  pools(3, 6, 7, 3, 3, 1, 2, 1, 1, 1, 1, 0, 0, 5);
  pools(2, 17, 4, 4, 3, 4, 3, 2, 1, 1, 2, 1, 0, 0);
  /* rows of more than 64 bytes (ResNet's stem pool, odd widths, stride 1, dilation, ceil mode) */
  pools(2, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0);
  pools(2, 6, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0);   /* the stem pool's register path: one vector, two, ceil */
  pools(2, 7, 65, 3, 3, 2, 2, 1, 1, 2, 1, 0, 0, 0);
  pools(3, 5, 127, 2, 3, 3, 2, 0, 1, 1, 1, 1, 0, 0);
  pools(3, 9, 131, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0);
  pools(2, 7, 200, 2, 5, 1, 1, 1, 2, 1, 2, 0, 0, 0);
  pools(1, 5, 129, 3, 4, 2, 2, 0, 2, 2, 1, 1, 0, 0);
  pools(1, 3, 2000, 1, 3, 1, 2, 0, 1, 1, 1, 0, 0, 0);
  pools(3, 30, 1500, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0);   /* rows wider than the max pool's column chunk */
  pools(2, 9, 700, 3, 5, 1, 1, 1, 2, 1, 2, 0, 0, 0);
  pools(2, 12, 700, 2, 600, 1, 1, 0, 0, 1, 1, 0, 0, 0);   /* a window wider than the chunk */
  if (g_failures) { fprintf(stderr, "test_q8_ops: %d failures\n", g_failures); return 1; }
  printf("test_q8_ops: ok\n");
  return 0;
}
