/* q8_ew__avx512f.c: sq8 elementwise ops and max pool with AVX-512 F/BW/VL (the avx512f table's Q8EwKernels),
 * each the same values as its plain C version in kernels/ref (tests/test_q8_ops.c, test_q8_kernels.c compare them):
 * - ADD (kernels/ref/q8_add_impl.h's formula) with vpmaddwd on 16-bit halves of the multipliers;
 * - QUANTIZE (kernels/ref/q8_quant_impl.h's operations) 16 divisions a vector instead of 4 (ResNet18's input:
 *   about 3x faster);
 * - MAXPOOL2D of stride 1 or 2 on 64 outputs a step (ResNet's stem pool: the plain C one gathers its stride-2
 *   columns a byte at a time);
 * - the implicit convolution's quad planes (kernels/ref/q8_quad_impl.h) 64 pixels a step (quad64v). */
#include <immintrin.h>
#include <string.h>

#include "../ref/q8_quad_impl.h"
#include "../ref/q8_quant_impl.h"
#include "q8_quad64__avx512.h"
#include "touch_lines.h"

#include "../ref/q8_add_impl.h"
static void add_generic(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy, int32_t ma,
                        int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  q8_sq8_add_impl(a, b, n, za, zb, zy, ma, mb, shift, qmin, qmax, y);   /* shifts and multipliers below: -O2 (rare) */
}

/* ADD, 64 outputs a step (two halves of 32) with vpmaddwd: q8_add_impl.h's nested floors, with m = mh * 2^16 +
   ml split so that both halves are signed 16-bit (ml in [-2^15, 2^15), so mh = (m + 2^15) >> 16, at most 2^15 - 1
   for m < 2^31 - 2^15): A and B (int16, in [-255, 255]) interleaved in pairs, one vpmaddwd gives H = A*mah +
   B*mbh and one L = A*mal + B*mbl (|H|, |L| < 2^24), then (H + 2^(s-17) + (L >> 16)) >> (s - 16) as there
   (17 <= s <= 47). zy joins the rounding term as zy * 2^(s-16) where that stays below 2^30 (s <= 38: the floor
   of x + zy * 2^t over 2^t is zy more than x's), else it is added after the shift (saturating, in int16). The
   unpack puts the pairs of each 128-bit lane's words 0-3 in one register and 4-7 in the other; vpackssdw of the
   two results restores the order, vpacksswb of the halves interleaves them by 128-bit lane and one vpermq puts
   the 64 bytes in order; the saturating packs and then [qmin, qmax] in int8 lanes clamp as the int32 clamp does.
   The shift is vpsravd (one instruction; by an xmm count it is two). Other shifts and multipliers: the generic
   body. One thread, Sapphire Rapids: 0.136 -> 0.107 ns an output (it was 32 a step with the zero point added in
   int16 and a 16-to-8-bit narrowing per 32); ResNet50 sq8's ADDs (11% of it at batch 1) 15-19% faster. */
typedef struct { __m512i mh, ml, za, zb, zy, c, t; int fold; } AddK;
/* 32 outputs as int16 (before + zy where it is not folded in c) from a and b's 32 bytes (m: those read) */
static inline __m512i add32(const int8_t *a, const int8_t *b, __mmask32 m, const AddK *k) {
  __m512i A = _mm512_sub_epi16(_mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, a)), k->za);
  __m512i B = _mm512_sub_epi16(_mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, b)), k->zb);
  __m512i p0 = _mm512_unpacklo_epi16(A, B), p1 = _mm512_unpackhi_epi16(A, B);
  __m512i v0 = _mm512_add_epi32(_mm512_add_epi32(_mm512_madd_epi16(p0, k->mh), k->c), _mm512_srai_epi32(_mm512_madd_epi16(p0, k->ml), 16));
  __m512i v1 = _mm512_add_epi32(_mm512_add_epi32(_mm512_madd_epi16(p1, k->mh), k->c), _mm512_srai_epi32(_mm512_madd_epi16(p1, k->ml), 16));
  /* |v >> (s - 16)| < 2^15 without zy (|v| < 2^31, s - 16 >= 1 would allow 2^30: the saturating packs clamp, as
     the int32 clamp does; with zy folded |v| < 2^30) */
  __m512i r = _mm512_packs_epi32(_mm512_srav_epi32(v0, k->t), _mm512_srav_epi32(v1, k->t));
  return k->fold ? r : _mm512_adds_epi16(r, k->zy);
}
/* two halves' 64 outputs in order, clamped to [qmin, qmax] */
static inline __m512i add_narrow(__m512i r0, __m512i r1, int32_t qmin, int32_t qmax, __m512i lo, __m512i hi, __m512i order) {
  __m512i o = _mm512_permutexvar_epi64(order, _mm512_packs_epi16(r0, r1));
  if (qmin > -128) o = _mm512_max_epi8(o, lo);
  if (qmax < 127) o = _mm512_min_epi8(o, hi);
  return o;
}
void q8_sq8_add__avx512f(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy,
                         int32_t ma, int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  int32_t mah = (int32_t)(((int64_t)ma + 32768) >> 16), mbh = (int32_t)(((int64_t)mb + 32768) >> 16);
  if (shift < 17 || shift > 47 || ma < 0 || mb < 0 || mah > 32767 || mbh > 32767) {
    add_generic(a, b, n, za, zb, zy, ma, mb, shift, qmin, qmax, y);
    return;
  }
  int32_t mal = ma - mah * 65536, mbl = mb - mbh * 65536;   /* in [-2^15, 2^15) */
  const int fold = shift <= 38;
  const __m512i mh = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)mah | (uint32_t)(uint16_t)mbh << 16));
  const __m512i ml = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)mal | (uint32_t)(uint16_t)mbl << 16));
  const __m512i vza = _mm512_set1_epi16((short)za), vzb = _mm512_set1_epi16((short)zb), vzy = _mm512_set1_epi16((short)zy);
  const __m512i c = _mm512_set1_epi32((1 << (shift - 17)) + (fold ? zy * (1 << (shift - 16)) : 0)), t = _mm512_set1_epi32(shift - 16);
  const __m512i lo = _mm512_set1_epi8((char)qmin), hi = _mm512_set1_epi8((char)qmax), order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
  const AddK k = { mh, ml, vza, vzb, vzy, c, t, fold };
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {   /* (two calls, not a loop over an array: as an array the halves lived on the stack) */
    __m512i r0 = add32(a + i, b + i, ~(__mmask32)0, &k), r1 = add32(a + i + 32, b + i + 32, ~(__mmask32)0, &k);
    _mm512_storeu_si512(y + i, add_narrow(r0, r1, qmin, qmax, lo, hi, order));
  }
  if (i < n) {
    size_t left = n - i;
    __mmask32 m0 = left >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << left) - 1, m1 = left > 32 ? ((__mmask32)1 << (left - 32)) - 1 : 0;
    __m512i r0 = add32(a + i, b + i, m0, &k), r1 = add32(a + i + 32, b + i + 32, m1, &k);
    _mm512_mask_storeu_epi8(y + i, ((__mmask64)1 << left) - 1, add_narrow(r0, r1, qmin, qmax, lo, hi, order));
  }
}

/* QUANTIZE: q8_quant_impl.h's blocks of 16 as one vector each (the same operations in the same order: a
   compare that fails, NaN included, takes the bound), the tail masked; |z| >= 2^21: its scalar loop */
void q8_sq8_quantize__avx512f(const float *x, size_t n, float s, int32_t z, int8_t *y) {
  if (z >= (1 << 21) || z <= -(1 << 21)) {
    q8_quantize_scalar(x, n, s, z, y);
    return;
  }
  const float zf = (float)z;
  const __m512 vs = _mm512_set1_ps(s), lo = _mm512_set1_ps(-129.0f - zf), hi = _mm512_set1_ps(128.0f - zf),
               vz = _mm512_set1_ps(zf), magic = _mm512_set1_ps(12582912.0f), qlo = _mm512_set1_ps(-128.0f),
               qhi = _mm512_set1_ps(127.0f);
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512 t = _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
    t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, lo, _CMP_GE_OQ), lo, t);
    t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, hi, _CMP_LE_OQ), hi, t);
    t = _mm512_add_ps(_mm512_sub_ps(_mm512_add_ps(t, magic), magic), vz);
    t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, qlo, _CMP_GE_OQ), qlo, t);
    t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, qhi, _CMP_LE_OQ), qhi, t);
    _mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(t)));
  }
}

/* Max pool, horizontal stride 1 or 2, by output rows: the max of the window's input rows inside the input
   goes to r[pw + i] (column i), with -128 in r's other bytes (the padding and past the input: -128 never
   wins over a real value and is the answer of a window with no tap inside, as in q8_sq8_maxpool); then
   per 64 outputs from ow0, the max over kx of r[ow * sw + kx * dw] (stride 2: 128 bytes from
   r + 2 ow0 + kx dw, whose even bytes are the low bytes of their int16 lanes, vpmovwb). Rows wider than
   the buffer allows, and other strides: q8_sq8_maxpool. Reads only the input's bytes (masked loads). */
enum { MP_BUF = 4096 };
void q8_sq8_maxpool__avx512f(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y) {
  int sw = p->sw, span = (p->kw - 1) * p->dw + 1, ob = (OW + 63) / 64 * 64;
  long need = (sw == 1 ? (long)ob + 64 : 2L * ob + 128) + span;   /* the bytes of r the loads reach */
  if ((sw != 1 && sw != 2) || W < 1 || OW < 1 || need > MP_BUF || (long)p->pw + W > MP_BUF) {
    q8_sq8_maxpool(x, C, H, W, p, OH, OW, y);
    return;
  }
  /* ResNet's stem pool (3x3, stride 2, padding 1; 112 -> 56): each output row from two vectors of the rows' max, its
     even and odd bytes by vpmovwb and the odd ones shifted by a byte, none stored and loaded back. Through r (the
     general path below) its 64 planes took 79 us on one thread, hot (Sapphire Rapids), now 31 */
  const int s2k3 = p->kw == 3 && sw == 2 && p->dw == 1 && p->pw == 1 && W <= 128 && OW <= 64;
  const __mmask64 m0 = W >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << W) - 1, m1 = W >= 128 ? ~(__mmask64)0 : W > 64 ? ((__mmask64)1 << (W - 64)) - 1 : 0;
  _Alignas(64) int8_t r[MP_BUF];
  memset(r, -128, (size_t)need);
  int8_t *rw = r + p->pw;
  const __m512i lowest = _mm512_set1_epi8(-128);
  for (int c = 0; c < C; c++) {
    const int8_t *xc = x + (size_t)c * H * W;
    touch_lines(y + (size_t)c * OH * OW, (size_t)OH * OW);   /* a small plane's lines written first (touch_lines.h) */
    for (int oh = 0; oh < OH; oh++) {
      int8_t *yo = y + ((size_t)c * OH + oh) * OW;
      if (s2k3) {   /* out[ow] = max(V[2ow - 1], V[2ow], V[2ow + 1]) of the rows' max V, in registers */
        __m512i v0 = lowest, v1 = lowest;   /* (two variables: as an array they lived on the stack, 3x slower) */
        for (int ky = 0; ky < p->kh; ky++) {
          int ih = oh * p->sh - p->ph + ky * p->dh;
          if (ih < 0 || ih >= H) continue;
          v0 = _mm512_max_epi8(v0, _mm512_mask_loadu_epi8(lowest, m0, xc + (size_t)ih * W));
          v1 = _mm512_max_epi8(v1, _mm512_mask_loadu_epi8(lowest, m1, xc + (size_t)ih * W + 64));
        }
        __m512i ev = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(v0)), _mm512_cvtepi16_epi8(v1), 1);
        __m512i od = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_srai_epi16(v0, 8))),
                                        _mm512_cvtepi16_epi8(_mm512_srai_epi16(v1, 8)), 1);
        /* od one byte on (V[2ow - 1]; -128 first): each 128-bit lane after the last byte of the one before it */
        __m512i prev = _mm512_alignr_epi64(od, lowest, 6), sh = _mm512_alignr_epi8(od, prev, 15);
        _mm512_mask_storeu_epi8(yo, OW >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << OW) - 1, _mm512_max_epi8(_mm512_max_epi8(ev, od), sh));
        continue;
      }
      for (int i = 0; i < W; i += 64) {   /* the rows' max into rw */
        __mmask64 m = W - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (W - i)) - 1;
        __m512i v = lowest;
        for (int ky = 0; ky < p->kh; ky++) {
          int ih = oh * p->sh - p->ph + ky * p->dh;
          if (ih >= 0 && ih < H) v = _mm512_max_epi8(v, _mm512_mask_loadu_epi8(lowest, m, xc + (size_t)ih * W + i));
        }
        _mm512_mask_storeu_epi8(rw + i, m, v);
      }
      for (int ow0 = 0; ow0 < OW; ow0 += 64) {
        __m512i acc = lowest;
        for (int kx = 0; kx < p->kw; kx++) {
          const int8_t *t = r + (size_t)ow0 * sw + (size_t)kx * p->dw;
          __m512i v;
          if (sw == 1) v = _mm512_loadu_si512(t);
          else v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_loadu_si512(t))),
                                      _mm512_cvtepi16_epi8(_mm512_loadu_si512(t + 64)), 1);
          acc = _mm512_max_epi8(acc, v);
        }
        __mmask64 m = OW - ow0 >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (OW - ow0)) - 1;
        _mm512_mask_storeu_epi8(yo + ow0, m, acc);
      }
    }
  }
}

/* 64 bytes r[i * s], i < c (c <= 64; s 1 or 2), zero past c, reading no byte past r[(c - 1) * s]: at stride 2 the even
   bytes of 128 (vpmovwb), the loads masked to end there */
static inline __m512i row64(const int8_t *r, int s, int c) {
  if (s == 1) return _mm512_maskz_loadu_epi8(c == 64 ? ~(__mmask64)0 : ((__mmask64)1 << c) - 1, r);
  int e = 2 * c - 1;   /* bytes up to the last one read */
  __mmask64 m0 = e >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << e) - 1, m1 = e > 64 ? ((__mmask64)1 << (e - 64)) - 1 : 0;
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_maskz_loadu_epi8(m0, r))),
                            _mm512_cvtepi16_epi8(_mm512_maskz_loadu_epi8(m1, r + 64)), 1);
}

/* 4 rows of n bytes at stride s (1 or 2) -> d[4i + j] = r_j[i * s] ^ xr, 64 pixels (256 bytes) a step, the tail
   masked (out of line: the quad planes' body calls it once a row; inlined there it made ~10 KB of code) */
static __attribute__((noinline)) void interleave4s(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int s, int n, int xr,
                                                   int8_t *d) {
  for (int i = 0; i < n; i += 64) {
    int c = n - i < 64 ? n - i : 64;
    __m512i g[4], f = _mm512_set1_epi8((char)xr);
    size_t o = (size_t)i * s;
    quad64v(_mm512_xor_si512(row64(r0 + o, s, c), f), _mm512_xor_si512(row64(r1 + o, s, c), f),
            _mm512_xor_si512(row64(r2 + o, s, c), f), _mm512_xor_si512(row64(r3 + o, s, c), f), 0, g);
    for (int k = 0; k < 4 && 16 * k < c; k++)   /* group k: pixels 16k.. (4 bytes each) */
      _mm512_mask_storeu_epi8(d + 4 * i + 64 * k, c - 16 * k >= 16 ? ~(__mmask64)0 : ((__mmask64)1 << (4 * (c - 16 * k))) - 1, g[k]);
  }
}
static void interleave4_512(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int n, int xr, int8_t *d) {
  interleave4s(r0, r1, r2, r3, 1, n, xr, d);
}
/* a stride-2 convolution's phase rows, gathered in registers: through a buffer (bytes stored, then loaded back)
   the masked stores' forwarding stalls made ResNet18's stride-2 3x3 layers' quad planes 3-4x slower than stride 1's */
static void interleave4s2_512(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int n, int xr, int8_t *d) {
  interleave4s(r0, r1, r2, r3, 2, n, xr, d);
}

/* Stride 1, small padded planes (at most QS_MAXV vectors of 16 pixels: ResNet's 28x28, 14x14 and 7x7 inputs): each
   quad's plane written 16 pixels (64 bytes) at a time from its start, a vector's interior pixels expanded
   (vpexpandd) from the next input pixels of the 4 channels, which one vpermd and one vpshufb interleave, the
   others the pad pixel; then the slack zeroed. By rows (a call per row, the pads pixel by pixel) such a plane
   took as long as a 56x56 one: ResNet18's 28x28, 14x14 and 7x7 layers' quad planes 10.2, 9.4 and 10.0 us a
   layer on one thread, hot. The vectors' masks and input offsets depend only on the plane: made once a call. Whole
   quads only (ResNet's channels; quads past C, or part of it, by rows). */
enum { QS_MAXV = 64 };
/* 16 pixels of 4 channels (a, b, c, e: 16 bytes each) -> dword i = pixel i's 4 bytes, ^ f: the 4 channels in the 4
   lanes, dword L of lane j to dword j of lane L (vpermd), then each lane's 4 x 4 bytes transposed (vpshufb) */
static inline __m512i quad16x4(__m128i a, __m128i b, __m128i c, __m128i e, __m512i f) {
  const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i tr = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  __m512i t = _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(a), b, 1), c, 2), e, 3);
  return _mm512_xor_si512(_mm512_shuffle_epi8(_mm512_permutexvar_epi32(perm, t), tr), f);
}
/* the rows' body: q8_quad_impl.h's, its one copy in kernels/ref/q8_pack.c */
static void quad_rows(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr, size_t plane,
                      int q0, int q1, int8_t *xq) {
  q8_quad_planes_with(x, C, H, W, ph, pw, sh, sw, zx, xr, plane, q0, q1, xq, interleave4_512, q8_gather_c, interleave4s2_512);
}
/* dwords [from, plane) of a quad plane d (the slack) zeroed */
static inline void zero_slack(int32_t *d, size_t from, size_t plane) {
  for (size_t i = from; i < plane; i += 16)
    _mm512_mask_storeu_epi32(d + i, plane - i >= 16 ? 0xFFFF : (__mmask16)((1u << (plane - i)) - 1), _mm512_setzero_si512());
}
__attribute__((target("popcnt"))) static void quad_small(const int8_t *x, int H, int W, int ph, int pw, int32_t zx, int xr,
                                                          size_t plane, int q0, int q1, int8_t *xq) {
  int Wp = q8_conv_wq(W, pw, 1, 1), n = (int)q8_conv_phase(H, W, ph, pw, 1, 1), nv = (n + 15) / 16, src[QS_MAXV];
  uint16_t m[QS_MAXV + 1];
  for (int v = 0; v <= nv; v++) m[v] = 0;
  for (int r = 0; r < H; r++)   /* row r's pixels: bits [a, a + W) of the plane */
    for (int p = (ph + r) * Wp + pw, b = p + W; p < b;) {
      int e = b < (p / 16 + 1) * 16 ? b : (p / 16 + 1) * 16;
      m[p / 16] |= (uint16_t)(((1u << (e - p)) - 1) << (p % 16)), p = e;
    }
  for (int v = 0, c = 0; v < nv; c += __builtin_popcount(m[v]), v++) src[v] = c;
  const __m512i f = _mm512_set1_epi8((char)xr);
  const __m512i pv = _mm512_set1_epi32((int)(0x01010101u * (uint8_t)((int8_t)zx ^ xr)));
  const __mmask16 tail = (__mmask16)(n % 16 ? (1u << n % 16) - 1 : 0xFFFF);
  size_t HW = (size_t)H * W;
  for (int q = q0; q < q1; q++) {
    int32_t *d = (int32_t *)(void *)(xq + (size_t)(q - q0) * plane * 4);
    const int8_t *r = x + (size_t)4 * q * HW;
    for (int v = 0; v < nv; v++) {
      __mmask16 k = (__mmask16)((1u << __builtin_popcount(m[v])) - 1);
      const int8_t *s = r + src[v];
      __m512i t = quad16x4(_mm_maskz_loadu_epi8(k, s), _mm_maskz_loadu_epi8(k, s + HW), _mm_maskz_loadu_epi8(k, s + 2 * HW),
                           _mm_maskz_loadu_epi8(k, s + 3 * HW), f);
      _mm512_mask_storeu_epi32(d + 16 * v, v == nv - 1 ? tail : 0xFFFF, _mm512_mask_expand_epi32(pv, m[v], t));
    }
    zero_slack(d, (size_t)n, plane);
  }
}

/* Stride 2, phase rows of at most 32 pixels (inputs up to 64 wide: ResNet's 56x56, 28x28 and 14x14 stride-2 inputs):
   each 16 pixels of a phase row one vector, the 4 channels' input bytes at stride 2 (vpmovwb of one masked 32-byte
   load each) interleaved as in quad_small and expanded into the vector's interior lanes, the pad pixel elsewhere; a
   phase row outside the input all pad. By rows (q8_quad_phases: a 64-pixel interleave call and scalar pads per phase
   row) the stride-2 layers' quad planes took 23-25 us each at 28x28 and 14x14, one thread, hot, and ResNet50's
   128-channel 56x56 one 70 us. Whole quads only. */
static __attribute__((noinline)) void quad_phase_small(const int8_t *x, int H, int W, int ph, int pw, int32_t zx, int xr,
                                                       size_t plane, int q0, int q1, int8_t *xq) {
  int Hq = (H + 2 * ph + 1) / 2, Wq = (W + 2 * pw + 1) / 2, nv = (Wq + 15) / 16;
  const __m512i f = _mm512_set1_epi8((char)xr);
  const __m512i pv = _mm512_set1_epi32((int)(0x01010101u * (uint8_t)((int8_t)zx ^ xr)));
  size_t HW = (size_t)H * W;
  /* per phase (a, b), made once a call: its rows [rlo, rhi) inside the input, their first pixel's input byte at
     off; vector h: lanes m the interior (its columns from l), their bytes up to the last one read (k) at off + o;
     its lanes in the row st[h] */
  int rlo[4], rhi[4], o[4][2];
  ptrdiff_t off[4];
  __mmask16 m[4][2], st[2];
  __mmask32 k[4][2];
  for (int h = 0; h < nv; h++) st[h] = (__mmask16)(Wq - 16 * h >= 16 ? 0xFFFF : (1u << (Wq - 16 * h)) - 1);
  for (int pa = 0; pa < 4; pa++) {
    int a = pa >> 1, b = pa & 1;
    int lo = pw > b ? (pw - b + 1) / 2 : 0, hi = (W + pw - b + 1) / 2 < Wq ? (W + pw - b + 1) / 2 : Wq;
    rlo[pa] = ph > a ? (ph - a + 1) / 2 : 0, rhi[pa] = (H + ph - a + 1) / 2;
    if (lo >= hi) lo = hi, rlo[pa] = rhi[pa] = 0;
    off[pa] = (ptrdiff_t)(2 * rlo[pa] + a - ph) * W + 2 * lo + b - pw;
    for (int h = 0; h < nv; h++) {
      int l = lo > 16 * h ? lo : 16 * h, e = hi < 16 * h + 16 ? hi : 16 * h + 16;
      m[pa][h] = l < e ? (__mmask16)(((1u << (e - l)) - 1) << (l - 16 * h)) : 0;
      k[pa][h] = l < e ? (__mmask32)(((uint64_t)1 << (2 * (e - l) - 1)) - 1) : 0;
      o[pa][h] = 2 * (l - lo);
    }
  }
  for (int q = q0; q < q1; q++) {
    int32_t *d = (int32_t *)(void *)(xq + (size_t)(q - q0) * plane * 4), *d0 = d;
#pragma GCC unroll 1
    for (int pa = 0; pa < 4; pa++) {
      const int8_t *s = x + (size_t)4 * q * HW + off[pa];
      for (int r = 0; r < Hq; r++, d += Wq) {
        int in = r >= rlo[pa] && r < rhi[pa];
        for (int h = 0; h < nv; h++) {
          __m512i v = pv;
          if (in && m[pa][h]) {
            const int8_t *sh = s + o[pa][h];
            __mmask32 kh = k[pa][h];
            v = _mm512_mask_expand_epi32(pv, m[pa][h], quad16x4(_mm256_cvtepi16_epi8(_mm256_maskz_loadu_epi8(kh, sh)),
                                                                _mm256_cvtepi16_epi8(_mm256_maskz_loadu_epi8(kh, sh + HW)),
                                                                _mm256_cvtepi16_epi8(_mm256_maskz_loadu_epi8(kh, sh + 2 * HW)),
                                                                _mm256_cvtepi16_epi8(_mm256_maskz_loadu_epi8(kh, sh + 3 * HW)), f));
          }
          _mm512_mask_storeu_epi32(d + 16 * h, st[h], v);
        }
        if (in) s += 2 * W;
      }
    }
    zero_slack(d0, (size_t)(d - d0), plane);
  }
}

void q8_quad_planes__avx512f(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr,
                             size_t plane, int q0, int q1, int8_t *xq) {
  if (sh == 2 && sw == 2 && W + 2 * pw <= 64 && 4 * q1 <= C) {
    quad_phase_small(x, H, W, ph, pw, zx, xr, plane, q0, q1, xq);
    return;
  }
  if (sh == 1 && sw == 1 && q8_conv_phase(H, W, ph, pw, 1, 1) <= 16 * QS_MAXV && 4 * q1 <= C)   /* (whole quads) */
    quad_small(x, H, W, ph, pw, zx, xr, plane, q0, q1, xq);
  else
    quad_rows(x, C, H, W, ph, pw, sh, sw, zx, xr, plane, q0, q1, xq);
}

const Q8EwKernels q8_ew__avx512f = {"q8_ew__avx512f", q8_sq8_quantize__avx512f, q8_sq8_add__avx512f,
                                    q8_sq8_maxpool__avx512f, q8_quad_planes__avx512f};
