/* q8_im2col4__avx512.h: the sq8 im2col of the layouts that keep four k per 32-bit group, 16 columns
 * of a k quad as 64 contiguous bytes (AVX-512 BW/VL; included by the kernels that use it):
 *  - Q4_AMX (q8_gemm_32x32__amx.c): per panel of 32 columns, [k block of 64][2 halves of 16 columns]
 *    [16 quads][16 columns][4], int8;
 *  - Q4_VNNI (q8_gemm_8x32__avx512vnni.c): per panel of 32 columns, [quad][32 columns][4], stored as
 *    u8 = x + 128 (x ^ 0x80).
 * The packed X is byte addressed; pbytes is the bytes per panel of 32 columns. */
#ifndef TINYRUNTIME_Q8_IM2COL4_AVX512_H
#define TINYRUNTIME_Q8_IM2COL4_AVX512_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "q8_quad64__avx512.h"

enum { Q4_AMX = 0, Q4_VNNI = 1 };

/* 16 columns of four k rows r0..r3 -> 64 bytes: column c at d[4c .. 4c+3], each byte ^ flip */
static inline void quad16v(__m128i a, __m128i b, __m128i c, __m128i e, int8_t *d, int flip) {
  if (flip) {
    __m128i f = _mm_set1_epi8((char)0x80);
    a = _mm_xor_si128(a, f), b = _mm_xor_si128(b, f), c = _mm_xor_si128(c, f), e = _mm_xor_si128(e, f);
  }
  __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
  __m128i ce0 = _mm_unpacklo_epi8(c, e), ce1 = _mm_unpackhi_epi8(c, e);
  _mm_storeu_si128((__m128i *)d, _mm_unpacklo_epi16(ab0, ce0));
  _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(ab0, ce0));
  _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(ab1, ce1));
  _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(ab1, ce1));
}
static inline void quad16(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3, int8_t *d, int flip) {
  quad16v(_mm_loadu_si128((const __m128i *)r0), _mm_loadu_si128((const __m128i *)r1),
          _mm_loadu_si128((const __m128i *)r2), _mm_loadu_si128((const __m128i *)r3), d, flip);
}

/* the start of the 64 bytes of columns [p, p + 16) (p % 16 == 0) of k quad q in layout lay */
static inline int8_t *group_at(int lay, int8_t *X, size_t pbytes, int q, int p) {
  int8_t *b = X + (size_t)(p / 32) * pbytes;
  if (lay == Q4_VNNI) return b + (size_t)q * 128 + (size_t)(p % 32) * 4;
  return b + (size_t)(q / 16) * 2048 + (size_t)(p / 16 % 2) * 1024 + (size_t)(q % 16) * 64;
}

/* The functions below are compiled once, in q8_gemm_8x32__avx512vnni.c (which defines Q4_IM2COL_IMPL),
   and shared with the AMX kernel (~7 KB less of each static binary than a copy per kernel). */
void q8_q4_im2col_planes(int lay, const int8_t *planes, size_t Wp, int sh, int sw, int OH, int OW, int8_t pad, int nq,
                         const int *qs, ptrdiff_t (*base)[4], int8_t *xb, size_t pbytes, int pa, int pb);
void q8_q4_im2col(int lay, const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw,
                  int dh, int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride);

#ifdef Q4_IM2COL_IMPL
/* One im2col row k = (ci - ci0, ky, kx), what its pieces need: the input plane, the input column
   offset of output column 0 and the output columns [lo, hi) that land inside the input row. */
typedef struct { const int8_t *plane; int ky, off, lo, hi; } RowK;

static RowK row_k(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sw, int pw, int dw, int OW, int k) {
  RowK r;
  int kx = k % kw;
  r.ky = (k / kw) % kh;
  r.plane = x + (size_t)(ci0 + k / (kw * kh)) * (size_t)H * (size_t)W;
  r.off = kx * dw - pw;
  r.lo = r.off >= 0 ? 0 : (-r.off + sw - 1) / sw;                   /* first ow with ow*sw + off >= 0 */
  r.hi = W - r.off <= 0 ? 0 : (W - r.off + sw - 1) / sw;             /* first ow with ow*sw + off >= W */
  if (r.hi > OW) r.hi = OW;
  if (r.lo > r.hi) r.lo = r.hi;
  return r;
}

/* n bytes of v at d (n <= 64) */
static inline void put64(int8_t *d, __m512i v, int n) {
  _mm512_mask_storeu_epi8(d, n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1), v);
}

/* dst[i] = src[i * sw] for i < m */
static inline void copy_strided(const int8_t *src, int sw, int m, int8_t *dst) {
  if (sw == 1) {
    for (int i = 0; i < m; i += 64) {
      int c = m - i < 64 ? m - i : 64;
      __mmask64 k = c >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << c) - 1);
      _mm512_mask_storeu_epi8(dst + i, k, _mm512_maskz_loadu_epi8(k, src + i));
    }
  } else if (sw == 2) {   /* the even bytes of 2c - 1: the low bytes of 16-bit words */
    for (int i = 0; i < m; i += 32) {
      int c = m - i < 32 ? m - i : 32, nb = 2 * c - 1;
      __mmask64 k = nb >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << nb) - 1);
      __m256i v = _mm512_cvtepi16_epi8(_mm512_maskz_loadu_epi8(k, src + 2 * (ptrdiff_t)i));
      _mm256_mask_storeu_epi8(dst + i, c >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << c) - 1), v);
    }
  } else
    for (int i = 0; i < m; i++) dst[i] = src[(ptrdiff_t)i * sw];
}

/* the values of row r for output row oh, columns [ow0, ow0 + n), into d (pad: outside the input) */
static void piece(const RowK *r, int H, int W, int sh, int sw, int ph, int dh, int oh, int ow0, int n, __m512i padv,
                  int8_t *d) {
  int ih = oh * sh - ph + r->ky * dh;
  int lo = r->lo - ow0, hi = r->hi - ow0;
  if (lo < 0) lo = 0;
  if (hi > n) hi = n;
  if (ih < 0 || ih >= H || hi <= lo) {
    for (int i = 0; i < n; i += 64) put64(d + i, padv, n - i);
    return;
  }
  for (int i = 0; i < lo; i += 64) put64(d + i, padv, lo - i);
  for (int i = hi; i < n; i += 64) put64(d + i, padv, n - i);
  copy_strided(r->plane + (size_t)ih * W + (ptrdiff_t)(ow0 + lo) * sw + r->off, sw, hi - lo, d + lo);
}

/* bit i of m -> bit 2i, 64 bits */
static inline uint64_t spread2_64(uint32_t m) {
  uint64_t x = m;
  x = (x | x << 16) & 0x0000FFFF0000FFFFull;
  x = (x | x << 8) & 0x00FF00FF00FF00FFull;
  x = (x | x << 4) & 0x0F0F0F0F0F0F0F0Full;
  x = (x | x << 2) & 0x3333333333333333ull;
  return (x | x << 1) & 0x5555555555555555ull;
}

/* 64 columns of four k rows a, b, c, e -> the first ng of their four groups of 64 bytes (columns 16g..16g+15 at
   d[g], as quad16 does them) */
static inline void quad64(__m512i a, __m512i b, __m512i c, __m512i e, int8_t *const *d, int ng, int flip) {
  __m512i g[4];
  quad64v(a, b, c, e, flip, g);
  for (int i = 0; i < ng; i++) _mm512_storeu_si512(d[i], g[i]);
}

/* The whole quads qs[0..nq) from padded planes (stride sw = 1 or 2): row i of quad j reads
   planes + base[j][i] + (oh * sh) * Wp + ow * sw for output (oh, ow). Block by block of 64 columns: the
   block's pieces of output rows (segments) are found once, then each row of each quad is one 512-bit
   masked load per segment (stride 2: per half of 32 columns, the even bytes), merged into pad values,
   which the columns past N keep up to the next multiple of 16 (the last block stores only its groups). */
void q8_q4_im2col_planes(int lay, const int8_t *planes, size_t Wp, int sh, int sw, int OH, int OW, int8_t pad, int nq,
                          const int *qs, ptrdiff_t (*base)[4], int8_t *xb, size_t pbytes, int pa, int pb) {
  int N = pb, oh = pa / OW, ow = pa % OW;   /* columns [pa, pb), written from xb's first panel (pa % 32 == 0) */
  (void)OH;
  const __m512i padz = _mm512_set1_epi8(pad);
  for (int p = pa; p < N; p += 64) {
    int lim = N - p < 64 ? N - p : 64;   /* the block's columns */
    __mmask64 mk[2][66];
    ptrdiff_t at[2][66];
    int ns[2] = { 0, 0 };
    for (int lane = 0; lane < lim;) {
      int c = OW - ow < lim - lane ? OW - ow : lim - lane;
      ptrdiff_t off = (ptrdiff_t)oh * sh * (ptrdiff_t)Wp + (ptrdiff_t)(ow - lane) * sw;   /* lane l reads off + l * sw */
      if (sw == 1) {
        mk[0][ns[0]] = (c == 64 ? ~(__mmask64)0 : (((__mmask64)1 << c) - 1)) << lane, at[0][ns[0]++] = off;
      } else   /* per half of 32 lanes, the even bytes of 64 from off + 64h */
        for (int h = 0; h < 2; h++) {
          int lo = lane > 32 * h ? lane : 32 * h, hi = lane + c < 32 * h + 32 ? lane + c : 32 * h + 32;
          if (lo >= hi) continue;
          uint32_t wm = (hi - lo == 32 ? ~0u : (1u << (hi - lo)) - 1) << (lo - 32 * h);
          mk[h][ns[h]] = spread2_64(wm), at[h][ns[h]++] = off + 64 * h;
        }
      lane += c, ow += c;
      if (ow == OW) ow = 0, oh++;
    }
    if (sw == 1 && ns[0] == 1 && mk[0][0] == ~(__mmask64)0) {
      /* one whole segment of 64 columns (a 1x1's image as one row): plain loads and four plain stores, no mask or
         offset loaded per row and no vector through the stack (through the general loop below ResNet50's
         256 x 3136 took 54-59 us, 28-33 so; 512 x 784 30 -> 13-14; hot, one thread) */
      ptrdiff_t o = at[0][0];
      for (int j = 0; j < nq; j++) {
        const int8_t *s0 = planes + base[j][0] + o, *s1 = planes + base[j][1] + o, *s2 = planes + base[j][2] + o,
                     *s3 = planes + base[j][3] + o;
        _mm_prefetch((const char *)(s0 + 64), _MM_HINT_T0), _mm_prefetch((const char *)(s1 + 64), _MM_HINT_T0);
        _mm_prefetch((const char *)(s2 + 64), _MM_HINT_T0), _mm_prefetch((const char *)(s3 + 64), _MM_HINT_T0);
        __m512i g[4];
        quad64v(_mm512_loadu_si512(s0), _mm512_loadu_si512(s1), _mm512_loadu_si512(s2), _mm512_loadu_si512(s3), lay == Q4_VNNI, g);
        _mm512_storeu_si512(group_at(lay, xb, pbytes, qs[j], p - pa), g[0]);   /* (a loop of 4 here: 1.3-1.6x slower) */
        _mm512_storeu_si512(group_at(lay, xb, pbytes, qs[j], p + 16 - pa), g[1]);
        _mm512_storeu_si512(group_at(lay, xb, pbytes, qs[j], p + 32 - pa), g[2]);
        _mm512_storeu_si512(group_at(lay, xb, pbytes, qs[j], p + 48 - pa), g[3]);
      }
      continue;
    }
    for (int j = 0; j < nq; j++) {
      __m512i v[4];
      for (int i = 0; i < 4; i++) {
        const int8_t *src = planes + base[j][i];
        /* the next block's line of this plane, ahead: the blocks go over up to 4 x 256 planes, more
           streams than the hardware prefetchers follow */
        _mm_prefetch((const char *)(src + at[0][0] + 64 * sw), _MM_HINT_T0);
        if (sw == 1) {
          __m512i a = padz;
          for (int t = 0; t < ns[0]; t++) a = _mm512_mask_loadu_epi8(a, mk[0][t], src + at[0][t]);
          v[i] = a;
        } else {
          __m512i a = padz, b = padz;
          for (int t = 0; t < ns[0]; t++) a = _mm512_mask_loadu_epi8(a, mk[0][t], src + at[0][t]);
          for (int t = 0; t < ns[1]; t++) b = _mm512_mask_loadu_epi8(b, mk[1][t], src + at[1][t]);
          v[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(a)), _mm512_cvtepi16_epi8(b), 1);
        }
      }
      int8_t *d[4] = { NULL, NULL, NULL, NULL };
      int ng = (lim + 15) / 16;   /* the groups that hold columns */
      for (int g = 0; g < ng; g++) d[g] = group_at(lay, xb, pbytes, qs[j], p + 16 * g - pa);
      quad64(v[0], v[1], v[2], v[3], d, ng, lay == Q4_VNNI);
    }
  }
}

/* Rows k in [k0, k1) of the im2col matrix (k = (ci - ci0, ky, kx)), quad by quad. A whole quad: its
   four rows are written piece by piece (output rows, in segments of at most SEGW columns) into line
   buffers, and each complete group of 16 columns becomes 64 contiguous bytes (quad16); the columns
   past N up to the next multiple of 16 get pad values. A 1x1 stride-1 unpadded convolution's whole
   quads go to q8_q4_im2col_planes, read in place, the image as one row. A quad that [k0, k1) holds only in
   part is written byte by byte (its other rows belong to another call). */
#define SEGW 1024
#define PADBUF 16384
static void im2col_rows(int lay, const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                        int dw, int OH, int OW, int8_t pad, int k0, int k1, int8_t *xb, size_t pbytes,
                        const int8_t *planes, int cfirst, size_t Hp, size_t Wp, int padded);
void q8_q4_im2col(int lay, const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw,
                      int dh, int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  int8_t *xb = (int8_t *)X, pad = (int8_t)zx;
  size_t pbytes = 2 * (size_t)pstride;
  int direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && OH == H && OW == W;
  size_t Hp = (size_t)H + 2 * (size_t)ph, Wp = (size_t)W + 2 * (size_t)pw;
  int qa = (k0 + 3) / 4 * 4, qb = k1 / 4 * 4;   /* the whole quads: rows [qa, qb) */
  if (direct && qa < qb) {   /* the image as one row of N = H W columns: q8_q4_im2col_planes' plain blocks of 64
                                (ResNet50's 256 x 3136, hot, one thread: 58-68 us by rows of 16 columns, 27-33 so).
                                Its own loop: the padded path's below, given this one-row geometry, measured
                                1.1-1.2x slower on 1024 x 196 and 2048 x 49, with or without its per-row divisions */
    enum { BATCH = 64 };
    int qs[BATCH], N = H * W;
    ptrdiff_t base[BATCH][4];
    for (int q0 = qa; q0 < qb;) {
      int nq = 0;
      for (; q0 < qb && nq < BATCH; q0 += 4, nq++) {
        qs[nq] = q0 / 4;
        for (int i = 0; i < 4; i++) base[nq][i] = (ptrdiff_t)(q0 + i) * N;
      }
      q8_q4_im2col_planes(lay, x + (size_t)ci0 * N, (size_t)N, 1, 1, 1, N, pad, nq, qs, base, xb, pbytes, 0, N);
    }
    if (k0 < qa) q8_q4_im2col(lay, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, k0, qa, X, pstride);
    if (qb < k1) q8_q4_im2col(lay, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, qb, k1, X, pstride);
    return;
  }
  if (!direct && (ph > 0 || pw > 0) && (sw == 1 || sw == 2) && Hp * Wp <= PADBUF / 2) {
    /* many rows (a thread's whole share): pieces of at most R rows, whose channels fit PADBUF padded */
    int R = (int)(PADBUF / (Hp * Wp) - 1) * kh * kw / 4 * 4;
    if (R >= 4 && k1 - k0 > R) {
      for (int ka = k0, kb; ka < k1; ka = kb) {
        kb = ka / 4 * 4 + R < k1 ? ka / 4 * 4 + R : k1;
        q8_q4_im2col(lay, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, ka, kb, X, pstride);
      }
      return;
    }
  }
  /* When the call's input channels fit PADBUF once padded (rows [-ph, H + ph), columns [-pw, W + pw)
     hold every tap), they are copied there first (unpadded: read in place), and every row is read
     from them without bounds checks. */
  _Alignas(64) int8_t pbuf[PADBUF];
  int cfirst = k0 / (kh * kw), nch = (k1 - 1) / (kh * kw) - cfirst + 1;
  int nopad = ph == 0 && pw == 0;   /* the input itself serves, whatever its size */
  int padded = !direct && k1 > k0 && (sw == 1 || sw == 2) && (nopad || Hp * Wp <= PADBUF / (size_t)nch);
  const int8_t *planes = nopad ? x + (size_t)(ci0 + cfirst) * H * W : pbuf;
  if (padded && !nopad)
    for (int c = 0; c < nch; c++) {
      const int8_t *src = x + (size_t)(ci0 + cfirst + c) * H * W;
      int8_t *d = pbuf + (size_t)c * Hp * Wp;
      memset(d, pad, (size_t)ph * Wp);
      for (int ih = 0; ih < H; ih++) {
        int8_t *row = d + ((size_t)ph + ih) * Wp;
        memset(row, pad, (size_t)pw);
        copy_strided(src + (size_t)ih * W, 1, W, row + pw);
        memset(row + pw + W, pad, (size_t)pw);
      }
      memset(d + ((size_t)ph + H) * Wp, pad, (size_t)ph * Wp);
    }
  if (padded && qa < qb) {
    enum { BATCH = 64 };
    int qs[BATCH];
    ptrdiff_t base[BATCH][4];
    for (int q0 = qa; q0 < qb;) {
      int nq = 0;
      for (; q0 < qb && nq < BATCH; q0 += 4, nq++) {
        qs[nq] = q0 / 4;
        for (int i = 0; i < 4; i++) {
          int k = q0 + i, c = k / (kw * kh) - cfirst, ky = (k / kw) % kh, kx = k % kw;
          base[nq][i] = (ptrdiff_t)((size_t)c * Hp * Wp + (size_t)ky * dh * Wp + (size_t)kx * dw);
        }
      }
      q8_q4_im2col_planes(lay, planes, Wp, sh, sw, OH, OW, pad, nq, qs, base, xb, pbytes, 0, OH * OW);
    }
    if (k0 < qa) im2col_rows(lay, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, pad, k0, qa, xb, pbytes, planes, cfirst, Hp, Wp, 1);
    if (qb < k1) im2col_rows(lay, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, pad, qb, k1, xb, pbytes, planes, cfirst, Hp, Wp, 1);
    return;
  }
  im2col_rows(lay, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, pad, k0, k1, xb, pbytes, planes, cfirst, Hp, Wp, padded);
}

/* im2col's quads of rows [k0, k1) one by one (see im2col); planes: when padded */
static void im2col_rows(int lay, const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                        int dw, int OH, int OW, int8_t pad, int k0, int k1, int8_t *xb, size_t pbytes,
                        const int8_t *planes, int cfirst, size_t Hp, size_t Wp, int padded) {
  _Alignas(64) int8_t line[4][16 + SEGW + 64];
  __m512i padv = _mm512_set1_epi8(pad);
  for (int q0 = k0 / 4 * 4; q0 < k1; q0 += 4) {
    int lo = q0 > k0 ? q0 : k0, hi = q0 + 4 < k1 ? q0 + 4 : k1;   /* this call's rows of the quad */
    int q = q0 / 4;
    RowK rk[4];
    const int8_t *pk[4];   /* padded planes: row k's values of output row oh start at pk + oh * sh * Wp */
    for (int k = lo; k < hi; k++) {
      rk[k - q0] = row_k(x, H, W, ci0, kh, kw, sw, pw, dw, OW, k);
      if (padded) {
        int c = k / (kw * kh) - cfirst, ky = (k / kw) % kh, kx = k % kw;
        pk[k - q0] = planes + (size_t)c * Hp * Wp + (size_t)ky * dh * Wp + (size_t)kx * dw;
      }
    }
    int fill = 0, p0 = 0;   /* columns in the line buffers; the column of their first byte */
    for (int oh = 0; oh < OH; oh++)
      for (int ow0 = 0; ow0 < OW; ow0 += SEGW) {
        int n = OW - ow0 < SEGW ? OW - ow0 : SEGW;
        if (padded)
          for (int k = lo; k < hi; k++)
            copy_strided(pk[k - q0] + (size_t)oh * sh * Wp + (size_t)ow0 * sw, sw, n, line[k - q0] + fill);
        else
          for (int k = lo; k < hi; k++) piece(&rk[k - q0], H, W, sh, sw, ph, dh, oh, ow0, n, padv, line[k - q0] + fill);
        fill += n;
        int last = oh == OH - 1 && ow0 + n == OW, done = fill / 16 * 16;
        if (last && fill > done) {   /* the last group: pad columns */
          for (int k = lo; k < hi; k++) memset(line[k - q0] + fill, pad, (size_t)(done + 16 - fill));
          done += 16;
        }
        for (int c = 0; c < done; c += 16) {
          int8_t *d = group_at(lay, xb, pbytes, q, p0 + c);
          if (lo == q0 && hi == q0 + 4) quad16(line[0] + c, line[1] + c, line[2] + c, line[3] + c, d, lay == Q4_VNNI);
          else
            for (int i = 0; i < 16; i++)
              for (int k = lo; k < hi; k++) d[4 * i + k - q0] = (int8_t)(line[k - q0][c + i] ^ (lay == Q4_VNNI ? 0x80 : 0));
        }
        if (!last && done)
          for (int k = lo; k < hi; k++) memcpy(line[k - q0], line[k - q0] + done, 16);
        fill -= done, p0 += done;
      }
  }
}
#undef SEGW
#undef PADBUF
#endif /* Q4_IM2COL_IMPL */

/* The fused im2col (Q8Kernels.im2col_cols): columns [p0, p1) of all K rows from padded planes xp
   (Hp x Wp each, no tap outside them), into X whose first panel is column p0's (p0 % 32 == 0). The
   last quad's rows past K read row 0's values (their weights are zero). Strides 1 and 2 only. */
static inline void q4_im2col_cols(int lay, const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw,
                           int OH, int OW, int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  enum { BATCH = 64 };
  int qs[BATCH];
  ptrdiff_t base[BATCH][4];
  size_t plane = (size_t)Hp * (size_t)Wp;
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && OW == Wp && OH == Hp) OW = OH * OW, OH = 1, Wp = OW;   /* one row */
  ptrdiff_t cb = 0;   /* row k = (c, ky, kx) counted up without divisions; cb = c * plane */
  int ky = 0, kx = 0;
  for (int q0 = 0; q0 < K;) {
    int nq = 0;
    for (; q0 < K && nq < BATCH; q0 += 4, nq++) {
      qs[nq] = q0 / 4;
      for (int i = 0; i < 4; i++) {
        if (q0 + i >= K) {
          base[nq][i] = 0;
          continue;
        }
        base[nq][i] = cb + (ptrdiff_t)ky * dh * (ptrdiff_t)Wp + (ptrdiff_t)kx * dw;
        if (++kx == kw && (kx = 0, ++ky == kh)) ky = 0, cb += (ptrdiff_t)plane;
      }
    }
    q8_q4_im2col_planes(lay, xp, (size_t)Wp, sh, sw, OH, OW, (int8_t)zx, nq, qs, base, (int8_t *)X, 2 * (size_t)pstride, p0, p1);
  }
}

#endif
