/* q8_ew__avx2.c: sq8 elementwise ops with AVX2 (the avx2 table's Q8EwKernels; the members left NULL are the plain C
 * ones), the same values as their plain C versions in kernels/ref (tests/test_q8_ops.c, test_q8_kernels.c compare
 * them):
 * - ADD: q8_ew__avx512f.c's vpmaddwd form of kernels/ref/q8_add_impl.h's formula, 32 outputs a step. The plain C
 *   ADD (built for baseline x86-64: no 32-bit multiply, so not vectorized) was ~6% of ResNet50 sq8 on one thread
 *   and ~2% of ResNet18's (Zen 3). */
#include <immintrin.h>
#include <string.h>

#include "../ref/q8_add_impl.h"

static void add_generic(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy, int32_t ma,
                        int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  q8_sq8_add_impl(a, b, n, za, zb, zy, ma, mb, shift, qmin, qmax, y);   /* shifts and multipliers below: -O2 (rare) */
}

/* q8_ew__avx512f.c's AddK and add32 (the formula, the split of the multipliers, the zero point folded into the
   rounding term where s <= 38, the saturating packs as the clamp) on 16 outputs a vector: the unpack puts each
   128-bit lane's words 0-3 in one register and 4-7 in the other, vpackssdw of the two results restores the order */
typedef struct { __m256i mh, ml, za, zb, zy, c, t; int fold; } AddK;
/* 16 outputs as int16 (before + zy where it is not folded in c) from a and b's 16 bytes */
static inline __m256i add16(const int8_t *a, const int8_t *b, const AddK *k) {
  __m256i A = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a)), k->za);
  __m256i B = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b)), k->zb);
  __m256i p0 = _mm256_unpacklo_epi16(A, B), p1 = _mm256_unpackhi_epi16(A, B);
  __m256i v0 = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(p0, k->mh), k->c), _mm256_srai_epi32(_mm256_madd_epi16(p0, k->ml), 16));
  __m256i v1 = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(p1, k->mh), k->c), _mm256_srai_epi32(_mm256_madd_epi16(p1, k->ml), 16));
  __m256i r = _mm256_packs_epi32(_mm256_srav_epi32(v0, k->t), _mm256_srav_epi32(v1, k->t));
  return k->fold ? r : _mm256_adds_epi16(r, k->zy);
}
/* 32 outputs in order (two halves of 16 interleaved by 128-bit lane by vpacksswb, one vpermq), clamped to [qmin, qmax] */
static inline __m256i add_narrow(__m256i r0, __m256i r1, int32_t qmin, int32_t qmax, __m256i lo, __m256i hi) {
  __m256i o = _mm256_permute4x64_epi64(_mm256_packs_epi16(r0, r1), 0xD8);
  if (qmin > -128) o = _mm256_max_epi8(o, lo);
  if (qmax < 127) o = _mm256_min_epi8(o, hi);
  return o;
}
static void add_avx2(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy, int32_t ma, int32_t mb,
                     int32_t shift, int32_t qmin, int32_t qmax, int8_t *y) {
  int32_t mah = (int32_t)(((int64_t)ma + 32768) >> 16), mbh = (int32_t)(((int64_t)mb + 32768) >> 16);
  if (shift < 17 || shift > 47 || ma < 0 || mb < 0 || mah > 32767 || mbh > 32767) {
    add_generic(a, b, n, za, zb, zy, ma, mb, shift, qmin, qmax, y);
    return;
  }
  int32_t mal = ma - mah * 65536, mbl = mb - mbh * 65536;   /* in [-2^15, 2^15) */
  const int fold = shift <= 38;
  const AddK k = { _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)mah | (uint32_t)(uint16_t)mbh << 16)),
                   _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)mal | (uint32_t)(uint16_t)mbl << 16)),
                   _mm256_set1_epi16((short)za), _mm256_set1_epi16((short)zb), _mm256_set1_epi16((short)zy),
                   _mm256_set1_epi32((1 << (shift - 17)) + (fold ? zy * (1 << (shift - 16)) : 0)), _mm256_set1_epi32(shift - 16), fold };
  const __m256i lo = _mm256_set1_epi8((char)qmin), hi = _mm256_set1_epi8((char)qmax);
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256((__m256i *)(y + i), add_narrow(add16(a + i, b + i, &k), add16(a + i + 16, b + i + 16, &k), qmin, qmax, lo, hi));
  if (i < n) {   /* the last outputs through a buffer */
    int8_t ta[32] = {0}, tb[32] = {0}, ty[32];
    memcpy(ta, a + i, n - i), memcpy(tb, b + i, n - i);
    _mm256_storeu_si256((__m256i *)ty, add_narrow(add16(ta, tb, &k), add16(ta + 16, tb + 16, &k), qmin, qmax, lo, hi));
    memcpy(y + i, ty, n - i);
  }
}

/* Max pool, horizontal stride 1 or 2, by output rows, as q8_ew__avx512f.c's general path: the max of the window's input
   rows inside the input goes to r[pw + i] (column i), with -128 in r's other bytes (the padding and past the input: -128
   never wins over a real value and is the answer of a window with no tap inside, as in q8_sq8_maxpool); then per 32
   outputs from ow0 the max over kx of r[ow * sw + kx * dw]. At stride 2 as int16 lanes: 64 bytes of r from 2 ow0 plus
   kx * dw rounded down to even, each lane's low byte (vpsllw, vpsraw: kx * dw even) or high byte (vpsraw: odd), the 32
   maxima narrowed by vpacksswb and one vpermq (int8 values: nothing saturates). Reads only the input's bytes (a row's
   last W % 32 by a vector ending at W, over bytes already done; rows under 32 one byte at a time). Other strides, and rows wider than the buffer allows: q8_sq8_maxpool. The plain C one
   (by bytes, through a chunk buffer) was ~1.1% of ResNet18 sq8 on one thread and ~1.5% on two (Zen 3, perf) */
enum { MP_BUF = 4096 };
void q8_sq8_maxpool__avx2(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y) {
  int sw = p->sw, span = (p->kw - 1) * p->dw + 1, ob = (OW + 31) / 32 * 32;
  long need = (sw == 1 ? (long)ob : 2L * ob) + span + 32;   /* past the bytes of r the loads reach */
  if ((long)p->pw + W > need) need = (long)p->pw + W;
  if ((sw != 1 && sw != 2) || W < 1 || OW < 1 || need > MP_BUF) {
    q8_sq8_maxpool(x, C, H, W, p, OH, OW, y);
    return;
  }
  _Alignas(32) int8_t r[MP_BUF];
  memset(r, -128, (size_t)need);
  int8_t *rw = r + p->pw;
  const __m256i lowest = _mm256_set1_epi8(-128), low16 = _mm256_set1_epi16(-128);
  for (int c = 0; c < C; c++) {
    const int8_t *xc = x + (size_t)c * H * W;
    for (int oh = 0; oh < OH; oh++) {
      int8_t *yo = y + ((size_t)c * OH + oh) * OW;
      for (int i0 = 0; i0 < W && W >= 32; i0 += 32) {   /* the rows' max into rw; a last piece ending at W */
        int i = i0 + 32 > W ? W - 32 : i0;
        __m256i v = lowest;
        for (int ky = 0; ky < p->kh; ky++) {
          int ih = oh * p->sh - p->ph + ky * p->dh;
          if (ih >= 0 && ih < H) v = _mm256_max_epi8(v, _mm256_loadu_si256((const __m256i *)(const void *)(xc + (size_t)ih * W + i)));
        }
        _mm256_storeu_si256((__m256i *)(void *)(rw + i), v);
      }
      for (int i = W < 32 ? 0 : W; i < W; i++) {
        int8_t v = -128;
        for (int ky = 0; ky < p->kh; ky++) {
          int ih = oh * p->sh - p->ph + ky * p->dh;
          if (ih >= 0 && ih < H && xc[(size_t)ih * W + i] > v) v = xc[(size_t)ih * W + i];
        }
        rw[i] = v;
      }
      for (int ow0 = 0; ow0 < OW; ow0 += 32) {
        __m256i acc;
        if (sw == 1) {
          acc = lowest;
          for (int kx = 0; kx < p->kw; kx++)
            acc = _mm256_max_epi8(acc, _mm256_loadu_si256((const __m256i *)(const void *)(r + ow0 + kx * p->dw)));
        } else {
          __m256i a0 = low16, a1 = low16;
          for (int kx = 0; kx < p->kw; kx++) {
            int off = kx * p->dw;
            const int8_t *t = r + 2 * ow0 + (off & ~1);
            __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)t), v1 = _mm256_loadu_si256((const __m256i *)(const void *)(t + 32));
            if (!(off & 1)) v0 = _mm256_slli_epi16(v0, 8), v1 = _mm256_slli_epi16(v1, 8);
            a0 = _mm256_max_epi16(a0, _mm256_srai_epi16(v0, 8)), a1 = _mm256_max_epi16(a1, _mm256_srai_epi16(v1, 8));
          }
          acc = _mm256_permute4x64_epi64(_mm256_packs_epi16(a0, a1), 0xD8);
        }
        if (OW - ow0 >= 32) _mm256_storeu_si256((__m256i *)(void *)(yo + ow0), acc);
        else {
          int8_t t[32];
          _mm256_storeu_si256((__m256i *)(void *)t, acc);
          memcpy(yo + ow0, t, (size_t)(OW - ow0));
        }
      }
    }
  }
}

const Q8EwKernels q8_ew__avx2 = {"q8_ew__avx2", NULL, add_avx2, q8_sq8_maxpool__avx2, NULL};
