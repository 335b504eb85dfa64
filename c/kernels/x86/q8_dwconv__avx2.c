/* q8_dwconv__avx2.c: sq8 depthwise convolution with AVX2 (src/kernels_q8.h), one plane (dwconv) or a run of
 * planes (dwconv_n). Strips of output rows at a time, the input rows they read are copied as int16 into a
 * buffer, padded with zx, rows of Wp = s*R values (Wp >= W + 2pw, s = sh = sw in {1, 2}), padded row r going
 * to row r / s of phase plane r % s: output (oy, ox) at flat index q = oy*R + ox of the strip reads value
 * s*q + kx of row (ky*dh) / s of phase plane (ky*dh) % s, so a strip is one row of outputs (the R - OW
 * extra per row are computed and dropped), with no borders. _mm256_madd_epi16 multiplies a pair of
 * taps (kx = 2j, 2j + 1) exactly: int32 lane m of a 32-byte load at value a holds the pair of the
 * output whose window starts at a + s*m. A block is 16 outputs from q0, two vectors of sums: at stride 1 the
 * loads at q0 + f + 2j (f = 0, 1) hold outputs q0 + f + 2m (lanes every other output: "phases"), at stride 2 the
 * loads at 2(q0 + 8f) + 2j outputs q0 + 8f + m. The sums are the taps' only, exact in int32 (|sum| <= 256 *
 * 2^14); the bias goes into the requantization's int64 constant (big8, small8), so results equal the reference's
 * for any bias (the sums used to start at the bias, and planes with a bias near the int32 limits went to the
 * reference). Other shapes (sh != sw, stride > 2, dilation along x, kw or kh > 16, rows too wide for the buffer)
 * go to the reference.
 *
 * Small planes (MobileNetV2's 7x7 and 14x14: 49 and 196 outputs of 9 taps) were mostly set-up, paid per plane:
 * the buffer filled with zx, the rows copied value by value, memcpy calls per output row, and an int64
 * requantization of ~40 ops per 8 outputs. Now per call (dwconv_n) the plan, the pad frame (the buffer filled with
 * zx once: a plane that fits one strip rewrites only its input rows, the same buffer rows for every plane) and the
 * rows' chunk shuffles; per input row one 16-byte load per 16 padded values, shuffled into place (pshufb, pads
 * zeroed, then + zx: the pads), widened and stored; per output row 16-byte moves (the last past the row where the
 * run's next rows write later); shifts >= 32 requantized in int32 lanes (big8, ~10 ops per 8 outputs); the 3x3
 * window unrolled, its six weight pairs in registers. Zen 3 (2026-12-06), this file alone on a run of planes as
 * MobileNetV2's layers have them, valgrind's instructions a plane (old -> new): 7x7 2141 -> 603, 14x14 5368 ->
 * 1321, 56x56 49932 -> 17291, 112x112 196642 -> 66012; time a plane (min of 7 alternated) 7x7 174 -> 57 ns, 14x14
 * 470 -> 108, 56x56 4131 -> 1583; code 4 -> 9 KB. MobileNetV2 sq8 on one thread, 10 images, per-op minima of 6
 * runs alternated: its 960x7x7 layers 2.53-2.57 -> 0.55-0.56 ms, 384x14x14 2.29-2.36 -> 0.42-0.44, 576x14x14 3.53
 * -> 0.63, all its depthwise ops (with the 1x1s fused into them) 85.6 -> 37.4, the whole 150.4 -> 78.1 (medians
 * 152.4 -> 81.4); outputs the same (md5). Two blocks at a time, narrowed together (one vpacksswb, vpermq, pshufb
 * for 32 outputs), took 6% fewer instructions but no less time: dropped. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "q8_requant__avx2.h"

#define AI static inline __attribute__((always_inline))

enum { MAXK = 16, MAXJ = MAXK / 2, BUF = 8192 /* int16 values */, OUTBUF = 4096, NCH = 8 /* chunks in the plan */ };

/* a plane's requantization: m (int64 lanes), rnd = bias * m + (1 << (shift - 1)) (int64 lanes: the bias folded
   in), zy16 = zy (int16 lanes); big (shift >= 32): cnt = shift - 32; else cnt = shift, lo = qmin - zy, hi = qmax -
   zy (int64 lanes), zy (int32 lanes), zy16 = 0 (small8 adds zy). lo8, hi8: qmin, qmax in every byte */
typedef struct { __m256i m, rnd, lo, hi, zy, zy16; __m128i cnt, lo8, hi8; int big; } Rq;

/* shift < 32: 8 int32 sums -> 8 int32 in [qmin, qmax]: clamp(zy + ((sum * m + rnd) >> shift), qmin, qmax);
   shift >= 32 (a real model's usual one): (sum * m + rnd) >> shift in int32 lanes, zy and the clamps after (finish).
   Both q8_requant__avx2.h's (as q8_gemm_4x16__avx2.c's epilogue). Exact: |sum * m| <= 2^22 * 2^31, |bias * m| <= 2^62,
   1 << (shift - 1) <= 2^61, so x is FORMAT.md's (bias + sum) * m + rounding in int64 without a wrap; finish's
   vpackssdw, + zy saturating in int16 and vpacksswb are each monotone (a result past a bound lands on the bound's
   side of [qmin, qmax]), then max/min with qmin/qmax */
AI __m256i small8(__m256i acc, const Rq *q) {
  return _mm256_add_epi32(q8_small8_avx2(acc, q->m, q->rnd, q->cnt, q->lo, q->hi), q->zy);
}
AI __m256i big8(__m256i acc, const Rq *q) { return q8_big8_avx2(acc, q->m, q->rnd, q->cnt); }

/* a block's two vectors of 8 sums -> its 16 outputs in order, stored at o. vpackssdw leaves int16 [a 0-3, b 0-3 |
   a 4-7, b 4-7], vpacksswb of the halves bytes a 0-3, b 0-3, a 4-7, b 4-7, put in order by one pshufb: stride 1
   output 2m + f = vector f's lane m, stride 2 output 8f + m */
AI void finish(const __m256i acc[2], const Rq *q, int P, const int big, int8_t *o) {
  __m256i r0 = big ? big8(acc[0], q) : small8(acc[0], q), r1 = big ? big8(acc[1], q) : small8(acc[1], q);
  __m256i p = _mm256_adds_epi16(_mm256_packs_epi32(r0, r1), q->zy16);
  __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
  b = _mm_shuffle_epi8(b, P == 2 ? _mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15)
                                 : _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15));
  _mm_storeu_si128((__m128i *)o, _mm_min_epi8(_mm_max_epi8(b, q->lo8), q->hi8));
}

/* 16 padded values of a row from one 16-byte load at source column ld: pshufb by ctl (bytes of pads -> 0), widened,
   + pad (zx where a pad is, else 0) */
typedef struct { __m128i ctl; __m256i pad; int ld; } Chunk;

/* the chunk whose first value is source column s0 (columns outside [0, W) are pads): per call (plan_of), or in
   put_row_checked. Value i in [a, b) (column s0 + i in the row) is byte i + s0 - ld of the 16 loaded at ld */
static __attribute__((noinline)) Chunk chunk_of(long s0, int W, int zx) {
  long ld = s0 > 0 && s0 < W ? s0 : 0, a = -s0, b = W - s0, off = s0 - ld;
  a = a < 0 ? 0 : a > 16 ? 16 : a, b = b < 0 ? 0 : b > 16 ? 16 : b, off = off < -16 ? -16 : off;
  const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m128i in = _mm_andnot_si128(_mm_cmpgt_epi8(_mm_set1_epi8((char)a), iota), _mm_cmpgt_epi8(_mm_set1_epi8((char)b), iota));
  __m128i ctl = _mm_or_si128(_mm_add_epi8(iota, _mm_set1_epi8((char)off)), _mm_andnot_si128(in, _mm_set1_epi8((char)0x80)));
  Chunk ch = { ctl, _mm256_cvtepi8_epi16(_mm_andnot_si128(in, _mm_set1_epi8((char)zx))), (int)ld };
  return ch;
}

/* the shape's path, the same for every plane: ns output rows a strip (one: ns >= OH), pvals values a phase plane,
   off[ky] where kernel row ky's values start in the buffer; a padded row's nch chunks of 16 values: [0, ha) with
   pads (the left ones, or all of a row under 16), [ha, hb) plain (16 bytes of the row as they are), [hb, nch) with
   pads (the right ones). ch: every chunk where nch <= 2 NCH (all: rows up to 256 values), else the first and last
   kinds' (ch[ha + i]: chunk hb + i) where they fit (fast); rd: the bytes a row's chunks read */
typedef struct { int ok, J, Wp, R, ns, nch, ha, hb, all, fast; long rd; size_t pvals; size_t off[MAXK]; Chunk ch[2 * NCH]; } Plan;

static void plan_of(const Q8DwShape *s, Plan *p) {
  int sw = s->sw;
  p->ok = 0, p->J = (s->kw + 1) / 2;
  if (!(s->dw == 1 && s->sh == sw && (sw == 1 || sw == 2) && s->kw <= MAXK && s->kh <= MAXK)) return;
  /* strips: ns output rows read (ns - 1)*s + (kh - 1)*dh + 1 padded rows; a phase plane holds its rows and what
     the last row's chunks write past them (16), or what the last block reads past its start (pvals values); ns as
     large as the buffers allow */
  int Wp = (s->W + 2 * s->pw + sw - 1) / sw * sw, R = Wp / sw, ns = 0;
  size_t pvals = 0;
  for (int n = s->OH < 64 ? s->OH : 64; n >= 1; n = n > 8 ? n * 3 / 4 : n - 1) {
    long nb = ((long)n * R + 15) / 16;
    size_t rowsp = (size_t)(((n - 1) * sw + (s->kh - 1) * s->dh) / sw + 1) * (size_t)Wp + 16;
    size_t reach = (size_t)(nb * 16 * sw) + (size_t)((s->kh - 1) * s->dh / sw) * Wp + 2 * (size_t)p->J + 32;
    if (reach > rowsp) rowsp = reach;
    if (rowsp * (size_t)sw <= BUF && nb * 16 <= OUTBUF) { ns = n, pvals = rowsp; break; }
  }
  if (!ns) return;
  p->ok = 1, p->Wp = Wp, p->R = R, p->ns = ns, p->pvals = pvals, p->nch = (Wp + 15) / 16;
  for (int ky = 0; ky < s->kh; ky++) {
    int kr = ky * s->dh;
    p->off[ky] = (size_t)(kr % sw) * pvals + (size_t)(kr / sw) * Wp;
  }
  int k = 0;
  while (k < p->nch && !(16 * k - s->pw >= 0 && 16 * k - s->pw + 16 <= s->W)) k++;
  p->ha = k;
  while (k < p->nch && 16 * k - s->pw + 16 <= s->W) k++;
  p->hb = k;
  p->all = p->nch <= 2 * NCH, p->fast = p->all || p->ha + p->nch - p->hb <= 2 * NCH, p->rd = 16;
  for (int i = 0; p->fast && i < (p->all ? p->nch : p->ha + p->nch - p->hb); i++) {
    int c = p->all || i < p->ha ? i : p->hb + i - p->ha;
    p->ch[i] = chunk_of((long)c * 16 - s->pw, s->W, s->zx);
    if (p->ch[i].ld + 16 > p->rd) p->rd = p->ch[i].ld + 16;
  }
  if (p->hb > p->ha && 16L * p->hb - s->pw > p->rd) p->rd = 16L * p->hb - s->pw;
}

/* 16 padded values by chunk c from the source row src (check: reads stop at end, past it a copy), one store */
AI void put_chunk(int16_t *dst, const int8_t *src, const int8_t *end, const Chunk *c, const int check) {
  const int8_t *a = src + c->ld;
  __m128i v;
  if (!check || end - a >= 16) v = _mm_loadu_si128((const __m128i *)a);
  else {   /* the run's last bytes */
    int8_t b[16] = {0};
    memcpy(b, a, (size_t)(end - a));
    v = _mm_loadu_si128((const __m128i *)b);
  }
  _mm256_storeu_si256((__m256i *)dst, _mm256_add_epi16(_mm256_cvtepi8_epi16(_mm_shuffle_epi8(v, c->ctl)), c->pad));
}

/* padded row from the source row src: chunks of 16 values, the last one's past the row (pads) overwritten by the
   rows after it (a phase plane's rows are written in order). Fast (the plan's fast, and the row's rd bytes before
   end): the chunks from the plan (all; or the first ha and last nch - hb, the rest plain), else each chunk checked
   (reads past end, the run's, only through a copy), made here where the plan has too many */
static __attribute__((noinline)) void put_row_checked(int16_t *dst, const int8_t *src, const int8_t *end, const Plan *p,
                                                      const Q8DwShape *s) {
  for (int k = 0; k < p->nch; k++) {
    Chunk t;
    const Chunk *c = &t;
    if (p->all) c = &p->ch[k];
    else if (p->fast && k < p->ha) c = &p->ch[k];
    else if (p->fast && k >= p->hb) c = &p->ch[p->ha + k - p->hb];
    else t = chunk_of((long)k * 16 - s->pw, s->W, s->zx);
    put_chunk(dst + 16 * k, src, end, c, 1);
  }
}

AI void put_row(int16_t *dst, const int8_t *src, const int8_t *end, const Plan *p, const Q8DwShape *s) {
  const int ha = p->ha, hb = p->hb, nch = p->nch, pw = s->pw;   /* (locals: the stores may alias *p) */
  if (p->fast && end - src >= p->rd) {
    const Chunk *ch = p->ch;
    if (p->all) {   /* one loop (the three below took ~65 instructions for a 58-value row, this ~35) */
      for (int k = 0; k < nch; k++) put_chunk(dst + 16 * k, src, end, &ch[k], 0);
      return;
    }
    for (int k = 0; k < ha; k++) put_chunk(dst + 16 * k, src, end, &ch[k], 0);
    for (int k = ha; k < hb; k++)
      _mm256_storeu_si256((__m256i *)(dst + 16 * k), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + 16 * k - pw))));
    for (int k = hb; k < nch; k++) put_chunk(dst + 16 * k, src, end, &ch[ha + k - hb], 0);
  } else
    put_row_checked(dst, src, end, p, s);
}

/* an output row of n bytes: 16 at a time, the last 16 past the row too (spill: the rows or planes after it write
   those later), or exactly (two overlapping moves) */
AI void copy_row(int8_t *d, const int8_t *s, int n, const int spill) {
  if (spill) {
    for (int i = 0; i < n; i += 16) _mm_storeu_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
  } else if (n >= 16) {
    for (int i = 0; i + 16 < n; i += 16) _mm_storeu_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
    _mm_storeu_si128((__m128i *)(d + n - 16), _mm_loadu_si128((const __m128i *)(s + n - 16)));
  } else if (n >= 8) {
    _mm_storel_epi64((__m128i *)d, _mm_loadl_epi64((const __m128i *)s));
    _mm_storel_epi64((__m128i *)(d + n - 8), _mm_loadl_epi64((const __m128i *)(s + n - 8)));
  } else if (n >= 4) {
    int32_t u, v;
    memcpy(&u, s, 4), memcpy(&v, s + n - 4, 4);
    memcpy(d, &u, 4), memcpy(d + n - 4, &v, 4);
  } else
    for (int i = 0; i < n; i++) d[i] = s[i];
}

/* nb blocks of a strip into tmp: kh x J weight pairs wq. k3: the 3x3 window (kh = 3, J = 2) unrolled, its weights
   in registers, big a constant; else kh, J and big as they come, in loops (the unrolled instances of every window
   and shift kind were ~50 KB of code) */
AI void blocks(const int16_t *buf, const size_t *off, const int32_t *wq, const Rq *qp, int8_t *tmp, int nb, int P,
               const int k3, int kh, int J, int big) {
  const int sw = 2 / P, fo = P == 2 ? 1 : 16;   /* the second vector's loads: fo values on */
  Rq qv, *q = &qv;   /* (locals: the stores to tmp may alias the caller's; only the fields used) */
  qv.m = qp->m, qv.rnd = qp->rnd, qv.zy16 = qp->zy16, qv.cnt = qp->cnt, qv.lo8 = qp->lo8, qv.hi8 = qp->hi8;
  if (!k3) qv.lo = qp->lo, qv.hi = qp->hi, qv.zy = qp->zy;
  __m256i w[MAXK * MAXJ];
  const int16_t *rb[MAXK];
  if (k3) {
    kh = 3, J = 2;
    #pragma GCC unroll 6
    for (int t = 0; t < 6; t++) w[t] = _mm256_set1_epi32(wq[t]);
    #pragma GCC unroll 3
    for (int ky = 0; ky < 3; ky++) rb[ky] = buf + off[ky];
  } else {
    for (int t = 0; t < kh * J; t++) w[t] = _mm256_set1_epi32(wq[t]);
    for (int ky = 0; ky < kh; ky++) rb[ky] = buf + off[ky];
  }
  for (int b = 0; b < nb; b++) {
    int q0 = b * 16;
    __m256i acc[2] = { _mm256_setzero_si256(), _mm256_setzero_si256() };
    if (k3) {
      #pragma GCC unroll 3
      for (int ky = 0; ky < 3; ky++) {
        const int16_t *r = rb[ky] + (size_t)sw * q0;
        #pragma GCC unroll 2
        for (int j = 0; j < 2; j++) {
          #pragma GCC unroll 2
          for (int f = 0; f < 2; f++)
            acc[f] = _mm256_add_epi32(acc[f], _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(r + fo * f + 2 * j)),
                                                                w[ky * 2 + j]));
        }
      }
    } else
      for (int ky = 0; ky < kh; ky++) {
        const int16_t *r = rb[ky] + (size_t)sw * q0;
        for (int j = 0; j < J; j++) {
          #pragma GCC unroll 2
          for (int f = 0; f < 2; f++)
            acc[f] = _mm256_add_epi32(acc[f], _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(r + fo * f + 2 * j)),
                                                                w[ky * J + j]));
        }
      }
    if (big) finish(acc, q, P, 1, tmp + q0);
    else finish(acc, q, P, 0, tmp + q0);
  }
}

/* n planes from x (the plan ok): per plane its weight pairs and requantization, then per strip its input rows into
   buf (the pad frame there since the first plane), its blocks into tmp, its output rows out. (GCC made copy_row's
   loop a memcpy call per output row, musl's: no loop idioms here) */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void planes(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int8_t *y, const Q8DwShape *s, int n, const Plan *p) {
  const int sw = s->sw, H = s->H, W = s->W, OH = s->OH, OW = s->OW, kh = s->kh, ph = s->ph;
  const int Wp = p->Wp, R = p->R, ns = p->ns, J = p->J;
  const size_t pvals = p->pvals, HW = (size_t)H * W, OHW = (size_t)OH * OW, K = (size_t)kh * s->kw;
  const int8_t *end = x + (size_t)n * HW, *yend = y + (size_t)n * OHW;
  const int span = (OW + 15) / 16 * 16;   /* an output row's bytes moved */
  _Alignas(32) int16_t buf[BUF + 16];
  _Alignas(32) int8_t tmp[OUTBUF + 16];
  const __m256i zx16 = _mm256_set1_epi16((short)s->zx), zy16 = _mm256_set1_epi16((short)s->zy);
  for (size_t i = 0; i < pvals * (size_t)sw; i += 16) _mm256_store_si256((__m256i *)(buf + i), zx16);
  Rq q;
  q.lo = _mm256_set1_epi64x((int64_t)s->qmin - s->zy), q.hi = _mm256_set1_epi64x((int64_t)s->qmax - s->zy);
  q.zy = _mm256_set1_epi32(s->zy), q.lo8 = _mm_set1_epi8((char)s->qmin), q.hi8 = _mm_set1_epi8((char)s->qmax);
  for (int c = 0; c < n; c++, x += HW, w += K, y += OHW) {
    _Alignas(32) int32_t wq[MAXK * MAXJ];   /* the weight pairs (kx = 2j, 2j + 1; 0 past kw) as int32 */
    if (kh == 3 && s->kw == 3) {   /* int16 w0 w1 w2 0 w3 w4 w5 0 w6 w7 w8 0: one pshufb, one widening */
      __m128i v = _mm_insert_epi8(_mm_loadl_epi64((const __m128i *)w), w[8], 8);
      v = _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, -128, 3, 4, 5, -128, 6, 7, 8, -128, -128, -128, -128, -128));
      _mm256_store_si256((__m256i *)wq, _mm256_cvtepi8_epi16(v));
    } else
      for (int ky = 0; ky < kh; ky++)
        for (int j = 0; j < J; j++) {
          int16_t w0 = w[ky * s->kw + 2 * j], w1 = 2 * j + 1 < s->kw ? w[ky * s->kw + 2 * j + 1] : 0;
          wq[ky * J + j] = (int32_t)((uint32_t)(uint16_t)w0 | (uint32_t)(uint16_t)w1 << 16);
        }
    q.big = shift[c] >= 32;
    q.m = _mm256_set1_epi64x(mult[c]), q.rnd = _mm256_set1_epi64x((int64_t)bias[c] * mult[c] + ((int64_t)1 << (shift[c] - 1)));
    q.zy16 = q.big ? zy16 : _mm256_setzero_si256();
    q.cnt = _mm_cvtsi32_si128(q.big ? shift[c] - 32 : shift[c]);
    for (int oy0 = 0; oy0 < OH; oy0 += ns) {
      int rows = OH - oy0 < ns ? OH - oy0 : ns, r0 = oy0 * sw;   /* first padded row of the strip */
      int rlast = (rows - 1) * sw + (kh - 1) * s->dh;   /* local padded rows [0, rlast] */
      if (ns >= OH) {   /* one strip: only the input rows it reads, the pad rows never written */
        int nin = H < rlast + 1 - ph ? H : rlast + 1 - ph;
        if (p->nch == 1 && p->fast && end - x >= (long)(nin - 1) * W + p->rd) {   /* one chunk a row, no reads past end */
          const Chunk ch = p->ch[0];
          const int8_t *src = x + ch.ld;
          /* padded row r = iy + ph: row r of the plane at stride 1, at stride 2 row r >> 1 of phase plane r & 1 (d0, d1:
             phase plane 0's and 1's next row, from their first r >= ph) */
          int16_t *d0 = buf + (size_t)(sw == 1 ? ph : (ph + 1) >> 1) * Wp, *d1 = buf + pvals + (size_t)(ph >> 1) * Wp;
          for (int iy = 0; iy < nin; iy++, src += W) {
            __m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)src), ch.ctl);
            __m256i u = _mm256_add_epi16(_mm256_cvtepi8_epi16(v), ch.pad);
            if (sw == 1 || !((iy + ph) & 1)) _mm256_storeu_si256((__m256i *)d0, u), d0 += Wp;
            else _mm256_storeu_si256((__m256i *)d1, u), d1 += Wp;
          }
        } else
          for (int iy = 0; iy < nin; iy++) {
            int r = iy + ph;
            int16_t *dst = buf + (sw == 1 ? (size_t)r * Wp : (size_t)(r & 1) * pvals + (size_t)(r >> 1) * Wp);
            put_row(dst, x + (size_t)iy * W, end, p, s);
          }
      } else
        for (int lr = 0; lr <= rlast; lr++) {
          int iy = r0 + lr - ph;
          int16_t *dst = buf + (size_t)(lr % sw) * pvals + (size_t)(lr / sw) * Wp;
          if (iy >= 0 && iy < H) put_row(dst, x + (size_t)iy * W, end, p, s);
          else   /* a pad row where another strip may have had an input row */
            for (int k = 0; k < p->nch; k++) _mm256_storeu_si256((__m256i *)(dst + 16 * k), zx16);
        }
      int nb = (rows * R + 15) / 16;
      /* the 3x3 window with a shift >= 32 (MobileNetV2's every depthwise plane: 37-39) unrolled, apart from the
         other shift (registers: the small path's constants made the big path's 3x3 loop spill its sums) */
      if (kh == 3 && J == 2 && q.big) {
        if (sw == 1) blocks(buf, p->off, wq, &q, tmp, nb, 2, 1, 3, 2, 1);
        else blocks(buf, p->off, wq, &q, tmp, nb, 1, 1, 3, 2, 1);
      } else
        blocks(buf, p->off, wq, &q, tmp, nb, 2 / sw, 0, kh, J, q.big);
      int8_t *yr = y + (size_t)oy0 * OW;
      int i = 0;
      if (yend - yr >= (long)(rows - 1) * OW + span) {   /* every row 16 bytes at a time, the last one's before yend */
        if (OW <= 16)
          for (const int8_t *t = tmp; i < rows; i++, t += R)
            _mm_storeu_si128((__m128i *)(yr + (size_t)i * OW), _mm_loadu_si128((const __m128i *)t));
        else
          for (; i < rows; i++) copy_row(yr + (size_t)i * OW, tmp + (size_t)i * R, OW, 1);
      }
      for (; i < rows && yend - (yr + (size_t)i * OW) >= span; i++) copy_row(yr + (size_t)i * OW, tmp + (size_t)i * R, OW, 1);
      for (; i < rows; i++) copy_row(yr + (size_t)i * OW, tmp + (size_t)i * R, OW, 0);
    }
  }
}

/* n planes (Q8DwDesc.dwconv_n): the plan, the pad frame, the row chunks and the output's constants once for all */
static void dwconv_n(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                     int8_t *y, const Q8DwShape *s, int n) {
  Plan p;
  plan_of(s, &p);
  if (p.ok) {
    planes(x, w, bias, mult, shift, y, s, n, &p);
    return;
  }
  const size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, K = (size_t)s->kh * s->kw;
  for (int c = 0; c < n; c++) q8_dwconv_ref(x + c * HW, w + c * K, bias[c], mult[c], shift[c], y + c * OHW, s);
}

static void dwconv(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s) {
  dwconv_n(x, w, &bias, &mult, &shift, y, s, 1);
}

const Q8DwDesc q8_dwconv__avx2_desc = {"q8_dwconv__avx2", "avx2", dwconv, dwconv_n};
