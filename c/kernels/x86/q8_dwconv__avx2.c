/* q8_dwconv__avx2.c: one output plane of an sq8 depthwise convolution with AVX2 (src/kernels_q8.h).
 * Strips of output rows at a time, the input rows they read are copied as int16 into a buffer, padded
 * with zx, rows of Wp = s*R values (Wp >= W + 2pw, s = sh = sw in {1, 2}), padded row r going to row
 * r / s of phase plane r % s: output (oy, ox) at flat index q = oy*R + ox of the strip reads value
 * s*q + kx of row (ky*dh) / s of phase plane (ky*dh) % s, so a strip is one row of outputs (the R - OW
 * extra per row are computed and dropped), with no borders. _mm256_madd_epi16 multiplies a pair of
 * taps (kx = 2j, 2j + 1) exactly: int32 lane m of a 32-byte load at value a holds the pair of the
 * output whose window starts at a + 2m, every P-th output (P = 2 / s), so P loads ("phases") at
 * s*(q0 + f) + 2j cover the 8P outputs q0 + f + P*m of a block. acc = bias + sum x w is FORMAT.md's
 * int64 acc, exact in int32 when the bias is not extreme (checked; else the reference); the
 * requantization is FORMAT.md's in int64 lanes, so results equal the reference's. Other shapes (sh !=
 * sw, stride > 2, dilation along x, kw > 16) go to the reference. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../../src/kernels_q8.h"

enum { MAXK = 16, MAXJ = MAXK / 2, BUF = 8192 /* int16 values */, OUTBUF = 4096 };

typedef struct { __m256i m, rnd, lo, hi, zy; __m128i cnt; } Rq;

/* int64 lanes: (p >> cnt) arithmetic, then clamped to [lo, hi] */
static inline __m256i shift_clamp(__m256i p, const Rq *q) {
  __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);
  __m256i r = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(p, sign), q->cnt), sign);
  r = _mm256_blendv_epi8(r, q->lo, _mm256_cmpgt_epi64(q->lo, r));
  return _mm256_blendv_epi8(r, q->hi, _mm256_cmpgt_epi64(r, q->hi));
}

/* 8 int32 sums -> 8 int32 in [qmin, qmax]: clamp(zy + ((acc * m + rnd) >> shift), qmin, qmax) */
static inline __m256i requant8(__m256i acc, const Rq *q) {
  __m256i ev = _mm256_add_epi64(_mm256_mul_epi32(acc, q->m), q->rnd);
  __m256i od = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q->m), q->rnd);
  ev = shift_clamp(ev, q), od = shift_clamp(od, q);
  return _mm256_add_epi32(_mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xAA), q->zy);
}

/* 8 int32 in [-128, 127] -> 8 int8 in the low half */
static inline __m128i to_i8(__m256i v) {
  __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_packs_epi16(w, w);
}

static inline __attribute__((always_inline)) void strips(const int8_t *x, const int32_t *wq, int J, int32_t b0,
                                                         const Rq *q, int8_t *y, const Q8DwShape *s, const int P,
                                                         int Wp, int R, int ns, size_t pvals) {
  int16_t buf[BUF];
  int8_t tmp[OUTBUF + 16];
  const int sw = s->sw, B = 8 * P;
  for (int oy0 = 0; oy0 < s->OH; oy0 += ns) {
    int rows = s->OH - oy0 < ns ? s->OH - oy0 : ns, r0 = oy0 * sw;   /* first padded row of the strip */
    int nb = (rows * R + B - 1) / B;
    for (size_t i = 0; i < pvals * (size_t)sw; i++) buf[i] = (int16_t)s->zx;
    int rlast = (rows - 1) * sw + (s->kh - 1) * s->dh;   /* local padded rows [0, rlast] */
    for (int lr = 0; lr <= rlast; lr++) {
      int iy = r0 + lr - s->ph;
      if (iy < 0 || iy >= s->H) continue;
      const int8_t *src = x + (size_t)iy * s->W;
      int16_t *dst = buf + (size_t)(lr % sw) * pvals + (size_t)(lr / sw) * Wp + s->pw;
      int c = 0;
      for (; c + 16 <= s->W; c += 16)
        _mm256_storeu_si256((__m256i *)(dst + c), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + c))));
      for (; c < s->W; c++) dst[c] = src[c];
    }
    for (int b = 0; b < nb; b++) {
      int q0 = b * B;
      __m256i acc[2];
      for (int f = 0; f < P; f++) acc[f] = _mm256_set1_epi32(b0);
      for (int ky = 0; ky < s->kh; ky++) {
        int kr = ky * s->dh;
        const int16_t *r = buf + (size_t)(kr % sw) * pvals + (size_t)(kr / sw) * Wp + (size_t)sw * q0;
        const int32_t *wr = wq + ky * J;
        for (int j = 0; j < J; j++) {
          __m256i wv = _mm256_set1_epi32(wr[j]);
          for (int f = 0; f < P; f++)
            acc[f] = _mm256_add_epi32(acc[f], _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(r + sw * f + 2 * j)), wv));
        }
      }
      if (P == 1) _mm_storel_epi64((__m128i *)(tmp + q0), to_i8(requant8(acc[0], q)));
      else   /* output 2m + f = phase f's lane m */
        _mm_storeu_si128((__m128i *)(tmp + q0), _mm_unpacklo_epi8(to_i8(requant8(acc[0], q)), to_i8(requant8(acc[1], q))));
    }
    for (int i = 0; i < rows; i++) memcpy(y + (size_t)(oy0 + i) * s->OW, tmp + (size_t)i * R, (size_t)s->OW);
  }
}

static void dwconv(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s) {
  int J = (s->kw + 1) / 2, sw = s->sw;
  int ok = s->dw == 1 && s->sh == sw && (sw == 1 || sw == 2) && s->kw <= MAXK && s->kh <= MAXK;
  /* strips: ns output rows read (ns - 1)*s + (kh - 1)*dh + 1 padded rows; a phase plane holds its
     rows or what the last block reads past its start (pvals values); ns as large as the buffers allow */
  int Wp = (s->W + 2 * s->pw + sw - 1) / sw * sw, R = Wp / sw, P = 2 / sw, ns = 0;
  size_t pvals = 0;
  for (int n = s->OH < 64 ? s->OH : 64; ok && n >= 1; n = n > 8 ? n * 3 / 4 : n - 1) {
    long nb = ((long)n * R + 8 * P - 1) / (8 * P);
    size_t rowsp = (size_t)(((n - 1) * sw + (s->kh - 1) * s->dh) / sw + 1) * (size_t)Wp;
    size_t reach = (size_t)(nb * 8 * P * sw) + (size_t)((s->kh - 1) * s->dh / sw) * Wp + 2 * (size_t)J + 32;
    if (reach > rowsp) rowsp = reach;
    if (rowsp * (size_t)sw <= BUF && nb * 8 * P <= OUTBUF) { ns = n, pvals = rowsp; break; }
  }
  int32_t wq[MAXK * MAXJ];
  int64_t b0 = bias, bound = (int64_t)s->kh * s->kw * 128 * 128;
  if (!ns || b0 > INT32_MAX - bound || b0 < INT32_MIN + bound) {
    q8_dwconv_ref(x, w, bias, mult, shift, y, s);
    return;
  }
  for (int ky = 0; ky < s->kh; ky++)
    for (int j = 0; j < J; j++) {
      int16_t w0 = w[ky * s->kw + 2 * j], w1 = 2 * j + 1 < s->kw ? w[ky * s->kw + 2 * j + 1] : 0;
      wq[ky * J + j] = (int32_t)((uint32_t)(uint16_t)w0 | (uint32_t)(uint16_t)w1 << 16);
    }
  Rq q = { _mm256_set1_epi64x(mult), _mm256_set1_epi64x((int64_t)1 << (shift - 1)),
           _mm256_set1_epi64x((int64_t)s->qmin - s->zy), _mm256_set1_epi64x((int64_t)s->qmax - s->zy),
           _mm256_set1_epi32(s->zy), _mm_cvtsi32_si128(shift) };
  if (sw == 1) strips(x, wq, J, (int32_t)b0, &q, y, s, 2, Wp, R, ns, pvals);
  else strips(x, wq, J, (int32_t)b0, &q, y, s, 1, Wp, R, ns, pvals);
}

const Q8DwDesc q8_dwconv__avx2_desc = {"q8_dwconv__avx2", "avx2", dwconv, NULL};
