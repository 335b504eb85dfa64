/* q8_dwconv__avx512vnni.c: one output plane of an sq8 depthwise convolution with AVX-512 VNNI
 * (src/kernels_q8.h). Inputs travel as u8 = x + 128 and vpdpbusd multiplies four adjacent input
 * bytes by four weights of one kernel row: int32 lane m of a 64-byte load at column a holds the
 * taps kx = 4j..4j+3 of the output whose window starts at a + 4m. With stride sw (1, 2 or 4) those
 * lanes are every P-th output (P = 4 / sw), so P loads ("phases") at columns sw*(ox0 + f) - pw + 4j
 * cover the 16P outputs ox0 + f + P*m of a block. Pads come from masked loads (the masked-off bytes
 * read zx, also out-of-range rows), so one code path covers borders and planes of any width.
 * acc = bias - 128 * sum w + sum (x + 128) w is FORMAT.md's int64 acc, exact in int32 when the
 * bias is not extreme (checked per plane; else the reference); the requantization is FORMAT.md's in
 * int64 lanes (32 x 32 -> 64 products, arithmetic shifts), so results equal the reference's.
 * Other shapes (dilation along x, stride 3 or > 4, kw > 16, kh > 16) go to the reference. */
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_q8.h"

enum { MAXK = 16, MAXJ = MAXK / 4 };

typedef struct { __m512i m, rnd, lo, hi, zy; __m128i cnt; } Rq;

/* 16 int32 sums -> 16 int8: clamp(zy + ((acc * m + rnd) >> shift), qmin, qmax) */
static inline __m128i requant16(__m512i acc, const Rq *q) {
  __m512i ev = _mm512_mul_epi32(acc, q->m);                          /* even lanes, signed */
  __m512i od = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q->m);   /* odd lanes */
  ev = _mm512_sra_epi64(_mm512_add_epi64(ev, q->rnd), q->cnt);
  od = _mm512_sra_epi64(_mm512_add_epi64(od, q->rnd), q->cnt);
  ev = _mm512_min_epi64(_mm512_max_epi64(ev, q->lo), q->hi);         /* [qmin - zy, qmax - zy] */
  od = _mm512_min_epi64(_mm512_max_epi64(od, q->lo), q->hi);
  __m512i r = _mm512_mask_blend_epi32(0xAAAA, ev, _mm512_slli_epi64(od, 32));
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(r, q->zy));
}

/* bytes [lo, hi) of 64 */
static inline __mmask64 range64(long lo, long hi) {
  if (lo < 0) lo = 0;
  if (hi > 64) hi = 64;
  if (hi <= lo) return 0;
  uint64_t h = hi == 64 ? ~(uint64_t)0 : ((uint64_t)1 << hi) - 1;
  return (__mmask64)(h & ~(((uint64_t)1 << lo) - 1));
}

static inline __attribute__((always_inline)) void plane(const int8_t *x, const int32_t *wq, int J, int32_t b0,
                                                        const Rq *q, int8_t *y, const Q8DwShape *s, const int P) {
  const __m512i padx = _mm512_set1_epi8((char)s->zx), flip = _mm512_set1_epi8((char)0x80);
  const __m512i padu = _mm512_xor_si512(padx, flip);
  const int B = 16 * P;   /* outputs per block */
  for (int oy = 0; oy < s->OH; oy++) {
    int8_t *yr = y + (size_t)oy * s->OW;
    for (int ox0 = 0; ox0 < s->OW; ox0 += B) {
      __mmask64 mk[4][MAXJ];
      long at[4][MAXJ];
      for (int f = 0; f < P; f++)
        for (int j = 0; j < J; j++) {
          long a = (long)s->sw * (ox0 + f) - s->pw + 4 * j;
          at[f][j] = a, mk[f][j] = range64(-a, (long)s->W - a);
        }
      __m512i acc[4];
      for (int f = 0; f < P; f++) acc[f] = _mm512_set1_epi32(b0);
      for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh;
        const int32_t *wr = wq + ky * J;
        if (iy < 0 || iy >= s->H) {
          for (int j = 0; j < J; j++) {
            __m512i wv = _mm512_set1_epi32(wr[j]);
            for (int f = 0; f < P; f++) acc[f] = _mm512_dpbusd_epi32(acc[f], padu, wv);
          }
          continue;
        }
        uintptr_t row = (uintptr_t)(x + (size_t)iy * s->W);
        for (int j = 0; j < J; j++) {
          __m512i wv = _mm512_set1_epi32(wr[j]);
          for (int f = 0; f < P; f++) {
            /* masked-off bytes are not read (they may lie outside the plane): they take zx */
            __m512i v = _mm512_mask_loadu_epi8(padx, mk[f][j], (const void *)(row + (uintptr_t)at[f][j]));
            acc[f] = _mm512_dpbusd_epi32(acc[f], _mm512_xor_si512(v, flip), wv);
          }
        }
      }
      __m128i r[4];
      for (int f = 0; f < P; f++) r[f] = requant16(acc[f], q);
      __m512i out;
      if (P == 1) out = _mm512_castsi128_si512(r[0]);
      else if (P == 2) {   /* output 2m + f = r[f][m] */
        out = _mm512_castsi128_si512(_mm_unpacklo_epi8(r[0], r[1]));
        out = _mm512_inserti32x4(out, _mm_unpackhi_epi8(r[0], r[1]), 1);
      } else {             /* output 4m + f = r[f][m] */
        __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpackhi_epi8(r[0], r[1]);
        __m128i t2 = _mm_unpacklo_epi8(r[2], r[3]), t3 = _mm_unpackhi_epi8(r[2], r[3]);
        out = _mm512_castsi128_si512(_mm_unpacklo_epi16(t0, t2));
        out = _mm512_inserti32x4(out, _mm_unpackhi_epi16(t0, t2), 1);
        out = _mm512_inserti32x4(out, _mm_unpacklo_epi16(t1, t3), 2);
        out = _mm512_inserti32x4(out, _mm_unpackhi_epi16(t1, t3), 3);
      }
      _mm512_mask_storeu_epi8(yr + ox0, range64(0, s->OW - ox0), out);
    }
  }
}

static void dwconv(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s) {
  int J = (s->kw + 3) / 4;
  int ok = s->dw == 1 && (s->sw == 1 || s->sw == 2 || s->sw == 4) && s->kw <= MAXK && s->kh <= MAXK;
  int32_t wq[MAXK * MAXJ];
  int64_t sumw = 0;
  if (ok)
    for (int ky = 0; ky < s->kh; ky++)
      for (int j = 0; j < J; j++) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
          int kx = 4 * j + i;
          int8_t t = kx < s->kw ? w[ky * s->kw + kx] : 0;
          v |= (uint32_t)(uint8_t)t << (8 * i);
          sumw += t;
        }
        wq[ky * J + j] = (int32_t)v;
      }
  /* every partial sum b0 + sum (x + 128) w stays in int32 */
  int64_t b0 = (int64_t)bias - 128 * sumw, bound = (int64_t)s->kh * s->kw * 255 * 128;
  if (!ok || b0 > INT32_MAX - bound || b0 < INT32_MIN + bound) {
    q8_dwconv_ref(x, w, bias, mult, shift, y, s);
    return;
  }
  Rq q = { _mm512_set1_epi64(mult), _mm512_set1_epi64((int64_t)1 << (shift - 1)),
           _mm512_set1_epi64((int64_t)s->qmin - s->zy), _mm512_set1_epi64((int64_t)s->qmax - s->zy),
           _mm512_set1_epi32(s->zy), _mm_cvtsi32_si128(shift) };
  switch (s->sw) {
  case 1: plane(x, wq, J, (int32_t)b0, &q, y, s, 4); break;
  case 2: plane(x, wq, J, (int32_t)b0, &q, y, s, 2); break;
  default: plane(x, wq, J, (int32_t)b0, &q, y, s, 1); break;
  }
}

const Q8DwDesc q8_dwconv__avx512vnni_desc = {"q8_dwconv__avx512vnni", "avx512vnni", dwconv};
