/* q8_pack.c: portable helpers of the int8 kernels: weight packing, im2col, the dq8 quantization
 * rule of one value / one group. Plain C, no ISA flags. */
#include <math.h>
#include <string.h>
#include "../../src/kernels_q8.h"
#if defined(__SSE2__)
#include <emmintrin.h>   /* x86-64's baseline: q8_quad_planes' interleave */
#endif

size_t q8_packed_size(int M, int G, int gs) {
  return q8_round_up((size_t)M, Q8_MR) * (size_t)G * (size_t)q8_gsp(gs);
}

__attribute__((cold)) void q8_pack_weights(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  size_t kp = (size_t)q8_gsp(gs) / 2, K = (size_t)G * (size_t)gs, step = Q8_MR * 2;
  size_t tiles = q8_round_up((size_t)M, Q8_MR) / Q8_MR;
  /* row by row (reads in order), each group's pairs at a stride of MR pairs: A[t][g][j][r][h] */
  for (size_t t = 0; t < tiles; t++)
    for (size_t r = 0; r < Q8_MR; r++) {
      size_t o = t * Q8_MR + r;
      for (size_t g = 0; g < (size_t)G; g++) {
        int16_t *d = A + ((t * (size_t)G + g) * kp * Q8_MR + r) * 2;
        if (o >= (size_t)M) {
          for (size_t j = 0; j < kp; j++) d[j * step] = 0, d[j * step + 1] = 0;
          continue;
        }
        const int8_t *src = w + o * K + g * (size_t)gs;
        int z = wz ? wz[o * (size_t)G + g] : 0;
        size_t pairs = (size_t)gs / 2;
        for (size_t j = 0; j < pairs; j++) d[j * step] = (int16_t)(src[2 * j] - z), d[j * step + 1] = (int16_t)(src[2 * j + 1] - z);
        if (pairs < kp) d[pairs * step] = (int16_t)(src[2 * pairs] - z), d[pairs * step + 1] = 0;   /* odd gs: pad */
      }
    }
}

/* q8_pack_weights's int16 read from the file's tiles: row o of tile o / R, its group g's channel c, tap t at byte
   ((g * NQ + c / 4) * T + t) * 4R + 4 (o % R) + c % 4 of the tile (the rows past M are zero: their z is 0). One pass in
   the packed order, no rows unblocked first (ResNet18 sq8 spent ~27 ms of CPU of its start-up unblocking into buffers
   of its own, and ~13 more packing those) */
int q8_pack_weights_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
  if (T < 1 || gs % T) return 0;
  size_t kp = (size_t)q8_gsp(gs) / 2, step = Q8_MR * 2, cig = (size_t)gs / (size_t)T, NQ = (cig + 3) / 4, R4 = 4 * (size_t)R;
  size_t tiles = q8_round_up((size_t)M, Q8_MR) / Q8_MR, gbytes = NQ * (size_t)T * R4;
  for (size_t t = 0; t < tiles; t++)
    for (size_t r = 0; r < Q8_MR; r++) {
      size_t o = t * Q8_MR + r;
      const int8_t *tile = w + o / (size_t)R * (size_t)G * gbytes + o % (size_t)R * 4;
      for (size_t g = 0; g < (size_t)G; g++) {
        int16_t *d = A + ((t * (size_t)G + g) * kp * Q8_MR + r) * 2;
        int z = wz && o < (size_t)M ? wz[o * (size_t)G + g] : 0;
        const int8_t *src = tile + g * gbytes;
        size_t v = 0;
        for (size_t c = 0; c < cig; c++)
          for (size_t tp = 0; tp < (size_t)T; tp++, v++)
            d[v / 2 * step + v % 2] = o < (size_t)M ? (int16_t)(src[(c / 4 * (size_t)T + tp) * R4 + c % 4] - z) : 0;
        if (v % 2) d[v / 2 * step + 1] = 0;   /* odd gs: the pair's pad */
      }
    }
  return 1;
}

float q8_dq8_group_params(const float *v, ptrdiff_t stride, int n, int asym, int32_t *z) {
  *z = 0;
  if (!asym) {
    float m = 0.0f;
    for (int i = 0; i < n; i++) {
      float a = fabsf(v[i * stride]);
      m = a > m ? a : m;                  /* a NaN is skipped, as fmaxf did */
    }
    return m == 0.0f ? 1.0f : m / 127.0f;
  }
  float lo = 0.0f, hi = 0.0f;
  for (int i = 0; i < n; i++) {
    float x = v[i * stride];
    lo = x < lo ? x : lo, hi = x > hi ? x : hi;
  }
  if (hi == lo) return 1.0f;
  float s = (hi - lo) / 255.0f;
  float t = q8_rne(-128.0f - lo / s);
  t = t >= -128.0f ? t : -128.0f;
  *z = (int32_t)(t <= 127.0f ? t : 127.0f);
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

/* The im2col loops are plain C that GCC vectorizes with its vectorizer on (the dynamic cost model; not at the
   build's -O2, whose very cheap one does not): on ResNet18 sq8 this took the int8 im2col from ~30% of the run to
   ~15%. At -O3 until 2026-12-04: 1.2 KB more, no faster (dq8 ResNet18 on one thread the same, ABBA). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O2", "tree-vectorize", "vect-cost-model=dynamic")
#endif

/* values of im2col row k for output row oh, columns ow in [ow0, ow0 + n), into b (pad: padv) */
static void im2col_i8_seg(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                          int pw, int dh, int dw, int oh, int ow0, int n, int16_t padv, int k, int16_t *b) {
  int kx = k % kw, ky = (k / kw) % kh, ci = ci0 + k / (kw * kh);
  int ih = oh * sh - ph + ky * dh;
  if (ih < 0 || ih >= H) { for (int i = 0; i < n; i++) b[i] = padv; return; }
  const int8_t *xr = x + ((size_t)ci * H + (size_t)ih) * W;
  int off = kx * dw - pw;
  int lo = off >= 0 ? 0 : (-off + sw - 1) / sw;       /* valid ow: 0 <= ow*sw + off < W */
  int hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
  lo -= ow0, hi -= ow0;                                 /* relative to ow0 */
  if (hi > n) hi = n;
  if (lo > hi) lo = hi;
  if (lo < 0) lo = 0;
  if (hi < lo) hi = lo;
  int i = 0;
  for (; i < lo; i++) b[i] = padv;
  const int8_t *src = xr + (ptrdiff_t)ow0 * sw + off;
  if (sw == 1) for (; i < hi; i++) b[i] = src[i];
  else for (; i < hi; i++) b[i] = src[(ptrdiff_t)i * sw];
  for (; i < n; i++) b[i] = padv;
}

/* Rows k of the sq8 im2col go to packed X: column p at X[(p / NR) * pstride + (k / 2) * 2NR +
   (p % NR) * 2 + (k & 1)]. Both rows of a pair are made a run of output columns at a time into
   small buffers, then interleaved into the panels. */
#define SEG 256
void q8_im2col_i8(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                  int pw, int dh, int dw, int OH, int OW, int32_t zx, int k0, int k1,
                  int16_t *X, ptrdiff_t pstride) {
  int16_t padv = (int16_t)zx, b0[SEG], b1[SEG];
  for (int k = k0; k < k1;) {
    int pair = (k & 1) == 0 && k + 1 < k1;   /* both rows of pair k/2 here */
    int h = k & 1;
    int16_t *row = X + (size_t)(k / 2) * (2 * Q8_NR);
    for (int oh = 0; oh < OH; oh++)
      for (int ow0 = 0; ow0 < OW; ow0 += SEG) {
        int n = OW - ow0 < SEG ? OW - ow0 : SEG;
        im2col_i8_seg(x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow0, n, padv, k, b0);
        if (pair) im2col_i8_seg(x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow0, n, padv, k + 1, b1);
        size_t p = (size_t)oh * OW + (size_t)ow0;
        for (int c = 0; c < n;) {
          size_t pp = p + (size_t)c;
          int m = Q8_NR - (int)(pp % Q8_NR);
          if (m > n - c) m = n - c;
          int16_t *d = row + (pp / Q8_NR) * (size_t)pstride + (pp % Q8_NR) * 2;
          if (pair) for (int i = 0; i < m; i++) d[2 * i] = b0[c + i], d[2 * i + 1] = b1[c + i];
          else for (int i = 0; i < m; i++) d[2 * i + h] = b0[c + i];
          c += m;
        }
      }
    k += pair ? 2 : 1;
  }
}
#undef SEG

void q8_im2col_f32_cols(const float *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw,
                        int dh, int dw, int OW, int k0, int k1, int p0, int p1, float *X, ptrdiff_t ldx) {
  /* the columns in runs of at most MAXSEG pieces of output rows: a run's pieces are found once, then every
     row k = (ci, ky, kx) walks them, counting (ci, ky, kx) up without divisions */
  enum { MAXSEG = 64 };
  int soh[MAXSEG], sow[MAXSEG], sn[MAXSEG];
  for (int pa = p0, pb; pa < p1; pa = pb) {
    int ns = 0;
    for (pb = pa; pb < p1 && ns < MAXSEG; ns++) {
      int oh = pb / OW, ow0 = pb % OW, n = OW - ow0 < p1 - pb ? OW - ow0 : p1 - pb;
      soh[ns] = oh, sow[ns] = ow0, sn[ns] = n;
      pb += n;
    }
    int ci = ci0 + k0 / (kh * kw), ky = k0 % (kh * kw) / kw, kx = k0 % kw;
    for (int k = k0; k < k1; k++) {
      const float *xc = x + (size_t)ci * H * W;
      int off = kx * dw - pw;
      float *r = X + (ptrdiff_t)(k - k0) * ldx + (pa - p0);
      for (int sg = 0; sg < ns; sg++) {
        int n = sn[sg], ih = soh[sg] * sh - ph + ky * dh;
        if (ih < 0 || ih >= H) {
          rt_fzero(r, (size_t)n);
          r += n;
          continue;
        }
        int c0 = sow[sg] * sw + off;   /* input column of piece element i: c0 + i*sw */
        const float *src = xc + (size_t)ih * W + c0;
        int lo = c0 >= 0 ? 0 : (-c0 + sw - 1) / sw;                /* valid i: 0 <= c0 + i*sw < W */
        int hi = W - c0 <= 0 ? 0 : (W - c0 + sw - 1) / sw;
        if (hi > n) hi = n;
        if (lo > hi) lo = hi;
        rt_fzero(r, (size_t)lo);
        if (sw == 1) rt_fcopy(r + lo, src + lo, (size_t)(hi - lo));
        else for (int i = lo; i < hi; i++) r[i] = src[(ptrdiff_t)i * sw];
        rt_fzero(r + hi, (size_t)(n - hi));
        r += n;
      }
      if (++kx == kw && (kx = 0, ++ky == kh)) ky = 0, ci++;
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

void q8_im2col_f32(const float *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                   int pw, int dh, int dw, int OH, int OW, int k0, int k1, float *X, ptrdiff_t ldx) {
  IM2COL_BODY(0.0f)
}

void q8_put_x_i16x2(int16_t *X, size_t pstride, int k, int p, int v) { X[q8_xidx(pstride, k, p)] = (int16_t)v; }
int q8_get_x_i16x2(const int16_t *X, size_t pstride, int k, int p) { return X[q8_xidx(pstride, k, p)]; }

void q8_pad_planes(const int8_t *x, int H, int W, int ph, int pw, int32_t zx, int c0, int c1, int8_t *xp) {
  size_t Hp = (size_t)H + 2 * (size_t)ph, Wp = (size_t)W + 2 * (size_t)pw;
  for (int c = c0; c < c1; c++) {
    const int8_t *src = x + (size_t)c * H * W;
    int8_t *d = xp + (size_t)(c - c0) * Hp * Wp;
    memset(d, (int8_t)zx, (size_t)ph * Wp);
    for (int ih = 0; ih < H; ih++) {
      int8_t *row = d + ((size_t)ph + ih) * Wp;
      memset(row, (int8_t)zx, (size_t)pw);
      memcpy(row + pw, src + (size_t)ih * W, (size_t)W);
      memset(row + pw + W, (int8_t)zx, (size_t)pw);
    }
    memset(d + ((size_t)ph + H) * Wp, (int8_t)zx, (size_t)ph * Wp);
  }
}

/* 4 rows of n bytes (r[j][i]) -> d[4i + j] ^ xr */
static void interleave4(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int n, int xr, int8_t *d) {
  int i = 0;
#if defined(__SSE2__)
  __m128i f = _mm_set1_epi8((char)xr);
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r0 + i)), f);
    __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r1 + i)), f);
    __m128i c = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r2 + i)), f);
    __m128i e = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r3 + i)), f);
    __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
    __m128i ce0 = _mm_unpacklo_epi8(c, e), ce1 = _mm_unpackhi_epi8(c, e);
    _mm_storeu_si128((__m128i *)(d + 4 * i), _mm_unpacklo_epi16(ab0, ce0));
    _mm_storeu_si128((__m128i *)(d + 4 * i + 16), _mm_unpackhi_epi16(ab0, ce0));
    _mm_storeu_si128((__m128i *)(d + 4 * i + 32), _mm_unpacklo_epi16(ab1, ce1));
    _mm_storeu_si128((__m128i *)(d + 4 * i + 48), _mm_unpackhi_epi16(ab1, ce1));
  }
#endif
  for (; i < n; i++)
    d[4 * i] = (int8_t)(r0[i] ^ xr), d[4 * i + 1] = (int8_t)(r1[i] ^ xr), d[4 * i + 2] = (int8_t)(r2[i] ^ xr),
    d[4 * i + 3] = (int8_t)(r3[i] ^ xr);
}

#include "q8_quad_impl.h"
/* the body with the caller's row functions, one copy in the binary (noipa: no specialized clone for the call
   below; q8_ew__avx512f.c's rows call it with theirs) */
__attribute__((noipa)) void q8_quad_planes_with(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx,
                                                int xr, size_t plane, int q0, int q1, int8_t *xq, Q8Interleave4 interleave4,
                                                Q8Gather gather, Q8Interleave4 interleave4s2) {
  q8_quad_planes_impl(x, C, H, W, ph, pw, sh, sw, zx, xr, plane, q0, q1, xq, interleave4, gather, interleave4s2);
}
void q8_quad_planes(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr, size_t plane,
                    int q0, int q1, int8_t *xq) {
  q8_quad_planes_with(x, C, H, W, ph, pw, sh, sw, zx, xr, plane, q0, q1, xq, interleave4, q8_gather_c, NULL);
}
