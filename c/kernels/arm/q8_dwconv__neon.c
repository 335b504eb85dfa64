/* q8_dwconv__neon.c: one output plane of an sq8 depthwise convolution with NEON (armv8.0 Advanced SIMD,
 * src/kernels_q8.h). Outputs lie across the lanes, 16 per block (four int32x4 sums): tap (ky, kx) of a
 * block reads the 16 bytes p[sw * i + kx], i < 16, of one padded input row p (vld1q at stride 1, vld2q's
 * even bytes at stride 2), smull/smull2 multiply them by the tap's weight into int16 (exact: |w x| <=
 * 2^14; two taps summed in int16, smlal, when no weight of the plane is -128: |sum| <= 2 * 127 * 128)
 * and saddw/saddw2 add those into the int32 sums, which start at the bias. Padded rows come from a
 * buffer: either a ring of the kernel's input rows (each copied once per plane between columns of zx,
 * rows outside the plane one row of zx), one output row per run of blocks (a row's last block overlaps
 * the one before, rows under 16 stored in pieces); or, when sh == sw and it takes no more blocks, the whole
 * plane padded (phase planes at stride 2, as q8_dwconv__avx512vnni.c's flat layout: output (oy, ox) at flat
 * index q = oy * R + ox, the R - OW extra per row dropped), so a 7x7 plane is 4 blocks, not 7 part-empty ones.
 * Every read lies in the plane's rows or the zx-filled buffers; nothing is written past the plane.
 * acc = bias + sum w x is FORMAT.md's int64 acc, exact in int32 when the bias is at least K * 2^14 from
 * the int32 limits (checked per plane; else the reference). The requantization is FORMAT.md's: in int64
 * lanes (smlal of acc * m onto the rounding constant, |acc * m| + rnd < 2^63; sshl by -shift, arithmetic),
 * or for shift >= 32 (most planes) exactly the same in int32 lanes (sqdmulh, srshl: see rq4), narrowed with
 * saturation (monotone, so the clamp to [qmin, qmax] inside int8 is unchanged): the results equal the
 * reference's bit for bit. (q8_requant__neon.h's requant4 takes an int64 acc + bias, 64 x 32-bit products in
 * two halves; with the bias folded in int32 one smlal does, so this file has its own.)
 * 3x3 at stride 1 and 2 is unrolled (weights in registers); other kernels up to 16x16 (and 3x3 with a -128
 * weight) in loops; any stride along y and dilation along y; stride 1 or 2 and dilation 1 along x. Other
 * shapes, rows too wide for the buffer ((kernel rows + 1) * row bytes > 16 KB) and extreme biases go to
 * the reference. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "../../src/kernels_q8.h"

#define AI static inline __attribute__((always_inline))

enum { MAXK = 16, MAXSPAN = 32, BUF = 16384, TMP = 4096 };

/* a plane's requantization constants; big: shift >= 32 */
typedef struct { int32x4_t m, zy, nsh32; int64x2_t rnd, nsh; int8x16_t lo, hi; int big; } Rq;

/* zy + ((a * m + rnd) >> shift) of 4 lanes, saturated to int32. shift >= 32 in int32 lanes: sqdmulh gives
   h = floor(a * m / 2^31) (exact: no saturation as m >= 0) and floor((a m + 2^(shift-1)) / 2^shift) =
   floor((h + 2^(shift-32)) / 2^(shift-31)), srshl's rounding shift by shift - 31; else in int64 lanes */
AI int32x4_t rq4(int32x4_t a, const Rq *q) {
  if (q->big) return vqaddq_s32(vrshlq_s32(vqdmulhq_s32(a, q->m), q->nsh32), q->zy);
  int64x2_t l = vshlq_s64(vmlal_s32(q->rnd, vget_low_s32(a), vget_low_s32(q->m)), q->nsh);
  int64x2_t h = vshlq_s64(vmlal_high_s32(q->rnd, a, q->m), q->nsh);
  return vqaddq_s32(vqmovn_high_s64(vqmovn_s64(l), h), q->zy);
}

AI int8x16_t rq16(const int32x4_t a[4], const Rq *q) {
  int16x8_t s0 = vqmovn_high_s32(vqmovn_s32(rq4(a[0], q)), rq4(a[1], q));
  int16x8_t s1 = vqmovn_high_s32(vqmovn_s32(rq4(a[2], q)), rq4(a[3], q));
  return vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(s0), s1), q->lo), q->hi);
}

/* a += widened products: of one tap (v * w), or of two (v * w + u * z, exact in int16 without -128 weights) */
AI void add16(int32x4_t a[4], int16x8_t l, int16x8_t h) {
  a[0] = vaddw_s16(a[0], vget_low_s16(l)), a[1] = vaddw_high_s16(a[1], l);
  a[2] = vaddw_s16(a[2], vget_low_s16(h)), a[3] = vaddw_high_s16(a[3], h);
}
AI void mac1(int32x4_t a[4], int8x16_t v, int8x16_t w) {
  add16(a, vmull_s8(vget_low_s8(v), vget_low_s8(w)), vmull_high_s8(v, w));
}
AI void mac2(int32x4_t a[4], int8x16_t v, int8x16_t w, int8x16_t u, int8x16_t z) {
  add16(a, vmlal_s8(vmull_s8(vget_low_s8(v), vget_low_s8(w)), vget_low_s8(u), vget_low_s8(z)),
        vmlal_high_s8(vmull_high_s8(v, w), u, z));
}

/* p[sw * i], i < 16 */
AI int8x16_t ld(const int8_t *p, const int sw) { return sw == 1 ? vld1q_s8(p) : vld2q_s8(p).val[0]; }

/* the first n < 16 bytes of v to p, in pieces of 8, 4, 2, 1 (no call: a call would spill the vector registers) */
AI void store_part(int8_t *p, int8x16_t v, int n) {
  uint64_t d = vgetq_lane_u64(vreinterpretq_u64_s8(v), 0), e = vgetq_lane_u64(vreinterpretq_u64_s8(v), 1);
  if (n & 8) memcpy(p, &d, 8), p += 8, d = e;
  if (n & 4) memcpy(p, &d, 4), p += 4, d >>= 32;
  if (n & 2) memcpy(p, &d, 2), p += 2, d >>= 16;
  if (n & 1) *p = (int8_t)d;
}

/* n bytes from src to dst, reading and writing only those (no call either) */
AI void copy(int8_t *dst, const int8_t *src, int n) {
  if (n >= 16) {
    for (int c = 0; c < n - 16; c += 16) vst1q_s8(dst + c, vld1q_s8(src + c));
    vst1q_s8(dst + n - 16, vld1q_s8(src + n - 16));   /* the last 16, overlapping */
    return;
  }
  int k = 0;
  if (n & 8) memcpy(dst, src, 8), k = 8;
  if (n & 4) memcpy(dst + k, src + k, 4), k += 4;
  if (n & 2) memcpy(dst + k, src + k, 2), k += 2;
  if (n & 1) dst[k] = src[k];
}

/* the shape's path, the same for every plane: 0 reference, 1 ring of rows, 2 flat */
typedef struct { int mode, span, Wb, Wp, R, nb; size_t pb, bytes; } Plan;

/* one plane's work: rows of n outputs to out (ldo apart), output i of a row reading rb[ky][sw * i + kx] for tap
   (ky, kx); ring: the OH output rows, their input rows from the ring (tag[i]: the row slot i holds, -1 none);
   flat: one row, rb given */
typedef struct {
  const int8_t *x;
  const Q8DwShape *s;
  const Plan *pl;
  int8_t *buf, *out;
  const int8x16_t *wv;
  const Rq *q;
  int32_t b0;
  int n, nrows, ldo;
  const int8_t *rb[MAXK];
} Job;

/* 3x3 unrolled, its taps in pairs (k3: no weight -128), at stride sw; else kh x kw in loops, s->sw */
AI void rows(Job *g, const int k3, const int sw) {
  const Rq q = *g->q;   /* locals: the int8 stores below would make the compiler reload what pointers reach */
  const Q8DwShape *s = g->s;
  const int8x16_t *wv = g->wv;
  const int kh = s->kh, kw = s->kw, n = g->n, ring = g->pl->mode == 1, span = g->pl->span, H = s->H, W = s->W;
  const int sh = s->sh, ph = s->ph, dh = s->dh, pw = s->pw, nrows = g->nrows, ldo = g->ldo;
  const size_t Wb = (size_t)g->pl->Wb;
  const int32_t b0 = g->b0;
  const int8_t *const x = g->x;
  int8_t *const buf = g->buf, *const out0 = g->out;
  int8x16_t w[9];
  int tag[MAXSPAN];
  if (k3) {
    #pragma GCC unroll 9
    for (int t = 0; t < 9; t++) w[t] = wv[t];
  }
  for (int i = 0; i < span; i++) tag[i] = -1;
  for (int oy = 0; oy < nrows; oy++) {
    int8_t *out = out0 + (size_t)oy * ldo;
    for (int ky = 0; ring && ky < kh; ky++) {
      long iy = (long)oy * sh - ph + (long)ky * dh;
      int j = iy < 0 || iy >= H ? span : (int)(iy % span);   /* span: the row of zx; one output row's rows lie
                                                                within span rows: distinct slots */
      int8_t *slot = buf + (size_t)j * Wb;
      if (j < span && tag[j] != iy) copy(slot + pw, x + (size_t)iy * W, W), tag[j] = (int)iy;
      g->rb[ky] = slot;
    }
    const int8_t *r[3] = {g->rb[0], g->rb[1], g->rb[2]};
    for (int i0 = 0; i0 < n; i0 += 16) {
      const int i = n >= 16 && i0 > n - 16 ? n - 16 : i0;   /* a row's last 16 outputs: overlapping the block before */
      int32x4_t a[4] = {vdupq_n_s32(b0), vdupq_n_s32(b0), vdupq_n_s32(b0), vdupq_n_s32(b0)};
      const size_t o = (size_t)(sw ? sw : s->sw) * (size_t)i;
      if (k3) {
        int8x16_t v[9];
        #pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++) {
          const int8_t *p = r[ky] + o;
          if (sw == 1) v[3 * ky] = vld1q_s8(p), v[3 * ky + 1] = vld1q_s8(p + 1), v[3 * ky + 2] = vld1q_s8(p + 2);
          else {
            int8x16x2_t e = vld2q_s8(p);
            v[3 * ky] = e.val[0], v[3 * ky + 1] = e.val[1], v[3 * ky + 2] = vld2q_s8(p + 2).val[0];
          }
        }
        #pragma GCC unroll 4
        for (int t = 0; t < 8; t += 2) mac2(a, v[t], w[t], v[t + 1], w[t + 1]);
        mac1(a, v[8], w[8]);
      } else
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) mac1(a, ld(g->rb[ky] + o + kx, s->sw), wv[ky * kw + kx]);
      int8x16_t y = rq16(a, &q);
      if (n >= 16) vst1q_s8(out + i, y);
      else store_part(out, y, n);
    }
  }
}

static void r33s1(Job *g) { rows(g, 1, 1); }
static void r33s2(Job *g) { rows(g, 1, 2); }
static void rkk(Job *g) { rows(g, 0, 0); }   /* sw at run time (1.3 KB less) */

static Plan plan_of(const Q8DwShape *s) {
  Plan p = {0, 0, 0, 0, 0, 0, 0, 0};
  if (s->dw != 1 || (s->sw != 1 && s->sw != 2) || s->kh > MAXK || s->kw > MAXK || s->sh < 1 || s->dh < 1 ||
      s->qmin < -128 || s->qmax > 127 || s->qmin > s->qmax)
    return p;
  const long sw = s->sw, OW = s->OW, L = (OW - 1) / 16 * 16;
  long span = (long)(s->kh - 1) * s->dh + 1, need = sw * L + s->kw - 1 + 16 * sw;
  long Wb = ((need > s->pw + (long)s->W ? need : s->pw + (long)s->W) + 15) & ~15L;
  if (span <= MAXSPAN && (span + 1) * Wb <= BUF) p.mode = 1, p.span = (int)span, p.Wb = (int)Wb, p.bytes = (size_t)((span + 1) * Wb);
  if (s->sh == s->sw) {   /* flat when it takes no more blocks (and no ring per row) and fits */
    long Wp = ((long)s->W + 2 * s->pw + sw - 1) / sw * sw, R = Wp / sw, nb = ((long)s->OH * R + 15) / 16;
    long rows = (long)s->OH * ((OW + 15) / 16);
    long pb = ((long)s->H + 2 * s->ph + sw - 1) / sw * Wp;
    long reach = (long)(s->kh - 1) * s->dh / sw * Wp + sw * 16 * nb + s->kw + 16 * sw;
    if (reach > pb) pb = reach;
    if (nb <= rows && sw * pb <= BUF && 16 * nb <= TMP)
      p.mode = 2, p.Wp = (int)Wp, p.R = (int)R, p.nb = (int)nb, p.pb = (size_t)pb, p.bytes = (size_t)(sw * pb);
  }
  return p;
}

/* n planes (Q8DwDesc.dwconv_n): the path chosen and the buffer's padding set once for all */
static void dwconv_n(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                     int8_t *y, const Q8DwShape *s, int n) {
  const Plan pl = plan_of(s);
  const size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW;
  const int K = s->kh * s->kw, k3 = s->kh == 3 && s->kw == 3, sw = s->sw;
  const int64_t bound = (int64_t)K * 128 * 128;   /* |sum w x| */
  int8_t buf[BUF], tmp[TMP];
  int padded = 0;
  for (int c = 0; c < n; c++, x += HW, w += K, y += OHW) {
    if (!pl.mode || bias[c] > INT32_MAX - bound || bias[c] < INT32_MIN + bound) {
      q8_dwconv_ref(x, w, bias[c], mult[c], shift[c], y, s);
      continue;
    }
    if (!padded) memset(buf, s->zx, pl.bytes), padded = 1;
    int8x16_t wv[MAXK * MAXK];
    int pair = 1;
    for (int t = 0; t < K; t++) wv[t] = vdupq_n_s8(w[t]), pair &= w[t] != -128;
    const Rq q = {vdupq_n_s32(mult[c]), vdupq_n_s32(s->zy), vdupq_n_s32(31 - shift[c]), vdupq_n_s64((int64_t)1 << (shift[c] - 1)),
                  vdupq_n_s64(-shift[c]), vdupq_n_s8((int8_t)s->qmin), vdupq_n_s8((int8_t)s->qmax), shift[c] >= 32};
    Job g = {x, s, &pl, buf, y, wv, &q, bias[c], s->OW, s->OH, s->OW, {0}};
    if (pl.mode == 2) {   /* the plane into its padded phase planes, one flat run of blocks, its rows out */
      for (int iy = 0; iy < s->H; iy++) {
        int r = iy + s->ph;
        copy(buf + (size_t)(r % sw) * pl.pb + (size_t)(r / sw) * pl.Wp + s->pw, x + (size_t)iy * s->W, s->W);
      }
      for (int ky = 0; ky < s->kh; ky++) {
        int kr = ky * s->dh;
        g.rb[ky] = buf + (size_t)(kr % sw) * pl.pb + (size_t)(kr / sw) * pl.Wp;
      }
      g.out = tmp, g.n = 16 * pl.nb, g.nrows = 1;
    }
    (k3 && pair ? (sw == 1 ? r33s1 : r33s2) : rkk)(&g);   /* -128: one tap at a time */
    if (pl.mode == 2)
      for (int oy = 0; oy < s->OH; oy++) copy(y + (size_t)oy * s->OW, tmp + (size_t)oy * pl.R, s->OW);
  }
}

static void dwconv(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s) {
  dwconv_n(x, w, &bias, &mult, &shift, y, s, 1);
}

const Q8DwDesc q8_dwconv__neon_desc = {"q8_dwconv__neon", "neon", dwconv, dwconv_n};
