/* q8_requant__avx512.h: FORMAT.md's sq8 requantization of 16 int32 dots with AVX-512, for the kernels
 * that keep int32 dots (q8_gemm_32x32__amx.c, q8_gemm_8x32__avx512vnni.c's implicit convolution,
 * q8_dwconv__avx512vnni.c, q8_dwsmall__vbmivnni.c):
 * acc * m = dot * m + bias * m, where dot (int32) * m is one vpmuldq and c = bias * m + (1 << (shift - 1))
 * one int64 per row, so the int64 sum equals the reference's (acc * m + rounding). */
#ifndef TINYRUNTIME_Q8_REQUANT_AVX512_H
#define TINYRUNTIME_Q8_REQUANT_AVX512_H
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_q8.h"

/* One output row's requantization: x = dot * m + (bias * m + (1 << (shift - 1))) in int64 lanes, then
   x >> shift. With shift >= 32 (big) that is (high half of x) >> (shift - 32) in int32 (a floor of a floor
   is the floor): the high halves gathered by one masked vpshufd, one 32-bit shift. Then + zy, narrowed to
   int8 with saturation (vpmovsdb: the clamp to [-128, 127]), and the clamp to [qmin, qmax] in int8 lanes
   only where qmin > -128 (lo) or qmax < 127 (hi): a plain conv, a ReLU's, needs none or one. Exact: a valid
   model's |x| < 2^62.6 (K <= 2^16 products of |.| <= 2^14, an int32 bias, m < 2^31), so |r| < 2^30.6 and r
   + zy does not wrap. Below 32 (small), in int64 lanes clamped to [qmin - zy, qmax - zy], then + zy. */
typedef struct { __m512i m, c; __m128i cnt; int big; } RowQ;
typedef struct { __m512i zy, zy16, lo64, hi64, lo8, hi8; int lo, hi; } EpiQ;   /* zy16: zy in every int16; lo8, hi8: qmin, qmax in every byte */

/* the output's zero point and bounds */
static inline EpiQ epi_q_of(int32_t zy, int32_t qmin, int32_t qmax) {
  EpiQ q = { _mm512_set1_epi32(zy), _mm512_set1_epi16((short)zy), _mm512_set1_epi64((int64_t)qmin - zy), _mm512_set1_epi64((int64_t)qmax - zy),
             _mm512_set1_epi8((char)qmin), _mm512_set1_epi8((char)qmax), qmin > -128, qmax < 127 };
  return q;
}
static inline EpiQ epi_q(const Q8Sq8Epi *e) { return epi_q_of(e->zy, e->qmin, e->qmax); }

/* a row's multiplier and shift, c: what x adds to dot * m (bias * m + (1 << (shift - 1))) */
static inline RowQ row_q_of(int32_t mult, int32_t shift, int64_t c) {
  RowQ q = { _mm512_set1_epi64(mult), _mm512_set1_epi64(c), _mm_cvtsi32_si128(shift >= 32 ? shift - 32 : shift), shift >= 32 };
  return q;
}
/* row o's c: bias * m + (1 << (shift - 1)) */
static inline int64_t q8_row_c(const Q8Sq8Epi *e, int o) {
  return (int64_t)e->bias[o] * e->mult[o] + ((int64_t)1 << (e->shift[o] - 1));
}
static inline RowQ row_q(const Q8Sq8Epi *e, int o) { return row_q_of(e->mult[o], e->shift[o], q8_row_c(e, o)); }

/* the high halves of x, 16 int32: ev holds the even lanes' int64 x, od the odd lanes' (one masked vpshufd) */
static inline __m512i q8_hi32(__m512i ev, __m512i od) { return _mm512_mask_shuffle_epi32(od, 0x5555, ev, _MM_PERM_DDBB); }
/* big rows: clamp(zy + r, qmin, qmax) as int8, r = (high half of x) >> (shift - 32) */
static inline __m128i q8_narrow32(__m512i r, const EpiQ *p) {
  __m128i b = _mm512_cvtsepi32_epi8(_mm512_add_epi32(r, p->zy));
  if (p->lo) b = _mm_max_epi8(b, _mm512_castsi512_si128(p->lo8));
  if (p->hi) b = _mm_min_epi8(b, _mm512_castsi512_si128(p->hi8));
  return b;
}
/* small rows: clamp(zy + (x >> shift), qmin, qmax) as int8, ev and od the even and odd lanes' x >> shift */
static inline __m128i q8_narrow64(__m512i ev, __m512i od, const EpiQ *p) {
  ev = _mm512_min_epi64(_mm512_max_epi64(ev, p->lo64), p->hi64);
  od = _mm512_min_epi64(_mm512_max_epi64(od, p->lo64), p->hi64);
  return _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, ev, _mm512_slli_epi64(od, 32)), p->zy));
}

/* x = dot * m + c of 16 int32 dots (m, c: int64 in every lane): the even lanes' int64 in ev, the odd lanes' in od */
static inline void q8_x64(__m512i v, __m512i m, __m512i c, __m512i *ev, __m512i *od) {
  *ev = _mm512_add_epi64(_mm512_mul_epi32(v, m), c);
  *od = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), m), c);
}
/* big rows: x >> shift in int32 lanes from q8_x64's halves, before zy and the clamp */
static inline __m512i q8_big32_of(__m512i ev, __m512i od, const RowQ *q) { return _mm512_sra_epi32(q8_hi32(ev, od), q->cnt); }
/* the same of 16 dots (q8_dwsmall narrows four such vectors at once) */
static inline __m512i q8_big32(__m512i v, const RowQ *q) {
  __m512i ev, od;
  q8_x64(v, q->m, q->c, &ev, &od);
  return q8_big32_of(ev, od, q);
}

/* Two rows at a time (the AMX kernel's epilogues, the VNNI GEMM's 8 x 32 tile): a row's constants computed once
   per call (RowC: m and c as row_q, cnt = shift - 32), each broadcast from memory; two big rows' 32 outputs each
   are x >> shift as in q8_big32_of (the count by vpsravd, one uop), narrowed together by two vpackssdw (+ zy then,
   saturating in int16) and one vpacksswb (int32 -> int16 -> int8, each saturating: vpmovsdb's clamp) and put in
   order by one vpermd: 4 shuffles for 64 outputs where vpmovsdb takes 8. ResNet50 sq8 on one thread 3%,
   MobileNetV2 2%. A row that is not big (cnt < 0) is requantized one output at a time (q8_rowc1) */
typedef struct { int64_t m, c; int32_t cnt; } RowC;
/* the same row's constants as requant16 takes them (m and c broadcast from the RowC, any shift) */
static inline RowQ q8_rowq_c(const RowC *k) {
  RowQ q = { _mm512_set1_epi64(k->m), _mm512_set1_epi64(k->c), _mm_cvtsi32_si128(k->cnt >= 0 ? k->cnt : k->cnt + 32), k->cnt >= 0 };
  return q;
}
static inline void q8_rowc(const Q8Sq8Epi *e, int o0, int n, RowC *k) {   /* rows [o0, o0 + n) of e */
  for (int i = 0; i < n; i++) {
    int o = o0 + i;
    k[i].m = e->mult[o], k[i].c = q8_row_c(e, o), k[i].cnt = e->shift[o] - 32;
  }
}
/* clamp(zy + requant(dot + bias, m, shift), qmin, qmax) of one dot of row k, any shift (FORMAT.md's int64) */
static inline int8_t q8_rowc1(int32_t dot, const RowC *k, const Q8Sq8Epi *e) {
  int64_t r = ((int64_t)dot * k->m + k->c) >> (k->cnt + 32);
  return (int8_t)q8_clamp(e->zy + r, e->qmin, e->qmax);
}
/* x >> shift of 16 dots of a big row, int32 */
static inline __m512i q8_big16k(__m512i v, const RowC *k) {
  __m512i ev, od;
  q8_x64(v, _mm512_set1_epi64(k->m), _mm512_set1_epi64(k->c), &ev, &od);
  return _mm512_srav_epi32(q8_hi32(ev, od), _mm512_set1_epi32(k->cnt));
}
/* big rows a and b's 32 dots each (a0, a1: a's first and last 16) as clamped int8: a's in the low 32 bytes, b's
   in the high 32 */
static inline __m512i q8_rows2v(__m512i a0, __m512i a1, __m512i b0, __m512i b1, const RowC *ka, const RowC *kb,
                                const EpiQ *p) {
  /* + zy after the narrowing to int16, saturating: where r is outside int16, r + zy is far outside int8 either way */
  __m512i pa = _mm512_adds_epi16(_mm512_packs_epi32(q8_big16k(a0, ka), q8_big16k(a1, ka)), p->zy16);
  __m512i pb = _mm512_adds_epi16(_mm512_packs_epi32(q8_big16k(b0, kb), q8_big16k(b1, kb)), p->zy16);
  /* per 128-bit lane L: dwords a[4L..], a[16 + 4L..], b[4L..], b[16 + 4L..] */
  __m512i v = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15),
                                       _mm512_packs_epi16(pa, pb));
  if (p->lo) v = _mm512_max_epi8(v, p->lo8);
  if (p->hi) v = _mm512_min_epi8(v, p->hi8);
  return v;
}
/* the same from int32 dots in memory: a's 32, b's 32 */
static inline __m512i q8_rows2(const int32_t *a, const int32_t *b, const RowC *ka, const RowC *kb, const EpiQ *p) {
  return q8_rows2v(_mm512_loadu_si512(a), _mm512_loadu_si512(a + 16), _mm512_loadu_si512(b), _mm512_loadu_si512(b + 16),
                   ka, kb, p);
}

/* clamp(zy + requant(dot + bias, m, shift), qmin, qmax) of 16 int32 dots, as int8 */
static inline __m128i requant16(__m512i v, const RowQ *q, const EpiQ *p) {
  __m512i ev, od;
  q8_x64(v, q->m, q->c, &ev, &od);
  if (q->big) return q8_narrow32(q8_big32_of(ev, od, q), p);
  return q8_narrow64(_mm512_sra_epi64(ev, q->cnt), _mm512_sra_epi64(od, q->cnt), p);
}

#endif
