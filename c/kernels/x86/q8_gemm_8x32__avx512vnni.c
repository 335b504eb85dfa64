/* q8_gemm_8x32__avx512vnni.c: the sq8 GEMM with AVX-512 VNNI (vpdpbusd: u8 x s8 products, four per
 * int32 lane, exact), and its own "u8x4" layout and packers. dq8 has its own descriptor
 * (q8_dq8gemm_4x32__avx512vnni.c: zero-point corrections per group).
 *
 * Activations travel as u8 = x + 128, so sum_k w*x = sum_k w*(x + 128) - 128 * sum_k w: the packer
 * stores comp[o] = -128 * sum_k w[o][k] after each tile's weights and the epilogue adds it with the
 * bias (all exact: |sum_k w*(x+128)| <= 65536 * 128 * 255 < 2^31 for the K <= 65536 a reader allows).
 * Layout (kr = 4, gsp = K rounded up to 4, kq = gsp / 4):
 *  - A: per tile of 8 rows: [kq][8 rows][4] int8 (pad rows and pad k: 0), then [8] int32 comp. A version-3 sq8
 *    file's blocked weights (FORMAT.md) are these tiles without the comp: where the engine reads them in place
 *    (1x1 convolutions and LINEAR; the implicit convolution's, below, are the same with the taps inside each
 *    quad), comp comes apart (Q8Gemm.comp, Q8Conv.comp; blocked_comp at the end computes it).
 *  - X: per panel of 32 columns: [kq][32 columns][4] u8, element (k, p) at byte
 *    (p / 32) * 2 * pstride + (k / 4) * 128 + (p % 32) * 4 + k % 4 (pstride in int16 units).
 * Micro-tile 8 x 32: 16 zmm accumulators; per k quad, 2 loads of X and 8 broadcasts of A. The
 * requantization is FORMAT.md's, by q8_requant__avx512.h (int64 products; the GEMM folds comp into each row's
 * constant, the implicit convolution adds it to the int32 dot), so results equal the reference's.
 * The implicit stride-1 convolution (sq8_conv, below) is the same micro-tile with X read in place from
 * the quad planes (conv_xor 0x80: u8 = x + 128, the same correction), weights in (quad, tap) order. */
#include <immintrin.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#define Q4_IM2COL_IMPL   /* the shared im2col is compiled here (see the header) */
#include "q8_im2col4__avx512.h"
#include "q8_requant__avx512.h"

enum { MR = 8, NR = 32, KR = 4 };

static size_t kq_of(int gs) { return (size_t)(gs + KR - 1) / KR; }

static size_t a_elems(int M, int G, int gs) {
  size_t tiles = (size_t)(M + MR - 1) / MR;
  return tiles * ((size_t)G * kq_of(gs) * MR * KR + MR * 4) / 2;
}

__attribute__((cold)) static void pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  (void)wz; /* sq8 weights are symmetric */
  size_t kqg = kq_of(gs), kq = (size_t)G * kqg, tiles = (size_t)(M + MR - 1) / MR, K = (size_t)G * gs;
  size_t full = (size_t)gs / KR;   /* whole quads per group; a last partial one is zero padded */
  static const int8_t zero[KR];
  for (size_t t = 0; t < tiles; t++) {
    int8_t *a = (int8_t *)A + t * (kq * MR * KR + MR * 4);
    const int8_t *src[MR];
    int32_t comp[MR];
    for (int r = 0; r < MR; r++) {   /* a padding row (src NULL) packs zeros */
      size_t o = t * MR + (size_t)r;
      src[r] = o < (size_t)M ? w + o * K : NULL;
      comp[r] = src[r] ? -128 * q8_sum_i8__avx512(src[r], K) : 0;
    }
    for (size_t g = 0; g < (size_t)G; g++) {
      int8_t *d = a + g * kqg * MR * KR;
      for (size_t q = 0; q < full; q++, d += MR * KR)   /* one quad of the 8 rows: 32 bytes in a row */
        for (int r = 0; r < MR; r++) memcpy(d + r * KR, src[r] ? src[r] + g * (size_t)gs + q * KR : zero, KR);
      if (full < kqg) {
        for (int r = 0; r < MR; r++) {
          int8_t last[KR] = {0};
          if (src[r]) memcpy(last, src[r] + g * (size_t)gs + full * KR, (size_t)gs - full * KR);
          memcpy(d + r * KR, last, KR);
        }
      }
    }
    memcpy(a + kq * MR * KR, comp, sizeof comp);
  }
}

static size_t xbyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + (size_t)(k / KR) * (NR * KR) + (size_t)(p % NR) * KR + (size_t)(k % KR);
}
static void put_x(int16_t *X, size_t pstride, int k, int p, int v) {
  ((uint8_t *)X)[xbyte(pstride, k, p)] = (uint8_t)(v + 128);
}
static int get_x(const int16_t *X, size_t pstride, int k, int p) {
  return (int)((const uint8_t *)X)[xbyte(pstride, k, p)] - 128;
}

/* the im2col of q8_im2col4__avx512.h: its u8x4 layout is this kernel's */
static void im2col(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                   int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  q8_q4_im2col(Q4_VNNI, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, k0, k1, X, pstride);
}
static void im2col_cols(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH, int OW,
                        int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  if (p0 == 0 && p1 <= 64 && kh * kw > 1 && kh * kw <= 64 && Hp * Wp <= 256 && q8_vbmi_on()) {   /* a small map (7x7), VBMI */
    q8_im2col_small__avx512vbmi(Q4_VNNI, xp, Hp, Wp, kh, kw, sh, sw, dh, dw, OW, K, p1, X, pstride);
    return;
  }
  q4_im2col_cols(Q4_VNNI, xp, Hp, Wp, kh, kw, sh, sw, dh, dw, OH, OW, zx, K, p0, p1, X, pstride);
}

static int im2col_kxq(const Q8Kxq *g, int p0, int p1, int16_t *X, ptrdiff_t pstride) {   /* with AVX-512 VBMI */
  if (!q8_vbmi_on()) return 0;
  if (X) q8_im2col_kxq__avx512vbmi(Q4_VNNI, g, p0, p1, X, pstride);
  return 1;
}

/* A's bytes ahead of the one read that each k quad asks for: where a layer's weights come from memory (ResNet's
   7x7 layers at batch 1, 2.4 MB of them for 49 columns, read once an image) the hardware's prefetch left the
   kernel waiting on them. The GEMM alone, 512 x 49 x 4608, caches flushed before each call: 580 -> 506 us (warm:
   500); 2048 x 49 x 512 278 -> 253; 256 x 3136 x 64 (weights in L1) the same */
enum { A_PREFETCH = 2048 };

/* nb = 0: the extra columns alone (a GEMM of at most 4 columns: a LINEAR at batch 1 to 4, a map of 2x2 or less). One
   vpdpbusd on ymm a column and quad chained each through one accumulator was bound by its latency (5 cycles on Zen 4):
   ResNet18's LINEARs at 32x32 ran at 43-46 GOP/s on one thread, its 2x2 layers at ~200. Here two quads a zmm (the
   tile's 8 rows of quad q in the low lanes, q + 1 in the high: one 64-byte load of A; each column's two x quads
   broadcast into the halves) and P independent sums a column (4 for one column, 2 for more), folded at the end */
static inline __attribute__((always_inline)) void cols_acc(const int8_t *ap, const uint8_t *xe, size_t kq, const int ne,
                                                           __m256i acce[4]) {
  enum { P = 4 };
  const int np = ne == 1 ? P : 2;   /* sums a column */
  __m512i c[4][P];
#pragma GCC unroll 4
  for (int cc = 0; cc < 4; cc++)
#pragma GCC unroll 4
    for (int u = 0; u < P; u++) c[cc][u] = _mm512_setzero_si512();
  size_t q = 0;
  for (; q + 2 * (size_t)np <= kq; q += 2 * (size_t)np, ap += 2 * np * MR * KR, xe += 2 * np * NR * KR) {
    _mm_prefetch((const char *)ap + A_PREFETCH, _MM_HINT_T0);
    _mm_prefetch((const char *)ap + A_PREFETCH + 64, _MM_HINT_T0);
#pragma GCC unroll 4
    for (int u = 0; u < np; u++) {
      __m512i a = _mm512_loadu_si512(ap + u * 2 * MR * KR);
      const uint8_t *x = xe + u * 2 * NR * KR;
      if (ne == 1) {
        int32_t x0, x1;
        memcpy(&x0, x, 4), memcpy(&x1, x + NR * KR, 4);
        c[0][u] = _mm512_dpbusd_epi32(c[0][u], _mm512_mask_set1_epi32(_mm512_set1_epi32(x0), 0xFF00, x1), a);
        continue;
      }
      /* the 4 columns' quads q in 128-bit lanes 0 and 1, q + 1 in lanes 2 and 3: column cc's by one in-lane vpshufd
         (two loads a pair of quads, not eight broadcasts) */
      __m512i xx = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)x))),
          _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(x + NR * KR))), 1);
      c[0][u] = _mm512_dpbusd_epi32(c[0][u], _mm512_shuffle_epi32(xx, _MM_PERM_AAAA), a);
      if (ne > 1) c[1][u] = _mm512_dpbusd_epi32(c[1][u], _mm512_shuffle_epi32(xx, _MM_PERM_BBBB), a);
      if (ne > 2) c[2][u] = _mm512_dpbusd_epi32(c[2][u], _mm512_shuffle_epi32(xx, _MM_PERM_CCCC), a);
      if (ne > 3) c[3][u] = _mm512_dpbusd_epi32(c[3][u], _mm512_shuffle_epi32(xx, _MM_PERM_DDDD), a);
    }
  }
  for (; q < kq; q += 2, ap += 2 * MR * KR, xe += 2 * NR * KR) {   /* the last pairs; an odd last quad alone (low lanes) */
    int two = q + 1 < kq;
    __m512i a = _mm512_maskz_loadu_epi32(two ? 0xFFFF : 0x00FF, ap);
#pragma GCC unroll 4
    for (int cc = 0; cc < ne; cc++) {
      int32_t x0, x1 = 0;
      memcpy(&x0, xe + 4 * cc, 4);
      if (two) memcpy(&x1, xe + NR * KR + 4 * cc, 4);
      c[cc][0] = _mm512_dpbusd_epi32(c[cc][0], _mm512_mask_set1_epi32(_mm512_set1_epi32(x0), 0xFF00, x1), a);
    }
  }
#pragma GCC unroll 4
  for (int cc = 0; cc < ne; cc++) {
    __m512i t = c[cc][0];
#pragma GCC unroll 4
    for (int u = 1; u < np; u++) t = _mm512_add_epi32(t, c[cc][u]);
    acce[cc] = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
  }
}

/* the int32 sums of one 8 x (16 nb + ne) micro-tile over kq quads, nb 0 to 3, ne 0, 1 or 4: per quad nb loads of
   X (the third one's 16 columns from the next panel, xn) and 8 broadcasts of A, 8 nb vpdpbusd; and for ne extra
   columns (from xe: the last 1 to 4 of a map, 49 = 48 + 1, 196 = 6 x 32 + 4) one load of the quad's 8 rows and a
   broadcast of each column's quad, vpdpbusd on ymm, the 8 rows in the lanes (ne = 4 for 2 to 4 of them: the
   columns past them are computed and not stored; nb = 0: those alone, by cols_acc above, for a GEMM of at most 4
   columns, a LINEAR at batch 1 or a last block of 4; nb = 1: 5 to 16 columns). So a tail's columns cost their share
   of the tile's vpdpbusd,
   where a micro-tile of 32 computed 32 for them, and the weights are read once for them all. Its own function
   with local accumulators, copied out once: written inline in sq8_gemm's loops (whose epilogue indexes the rows
   by a variable), GCC kept the 16 sums in a rotation of register copies and two stack stores every quad */
static inline __attribute__((always_inline)) void gemm_tile_acc(const int8_t *ap, const uint8_t *xp, const uint8_t *xn,
                                                                 const uint8_t *xe, size_t kq, const int nb, const int ne,
                                                                 __m512i acc[MR][3], __m256i acce[4]) {
  if (!nb) {
    cols_acc(ap, xe, kq, ne, acce);
    return;
  }
  __m512i c[MR][3];
  __m256i ce[4];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = c[r][2] = _mm512_setzero_si512();
  for (int cc = 0; cc < 4; cc++) ce[cc] = _mm256_setzero_si256();
  for (size_t q = 0; q < kq; q++, xp += NR * KR, xn += NR * KR, xe += NR * KR, ap += MR * KR) {
    __m512i x0 = nb ? _mm512_loadu_si512(xp) : _mm512_setzero_si512(), x1 = nb > 1 ? _mm512_loadu_si512(xp + 64) : x0;
    __m512i x2 = nb > 2 ? _mm512_loadu_si512(xn) : x0;
    _mm_prefetch((const char *)ap + A_PREFETCH, _MM_HINT_T0);
    if (ne) {
      __m256i a8 = _mm256_loadu_si256((const __m256i *)(const void *)ap);
#pragma GCC unroll 4
      for (int cc = 0; cc < ne; cc++) {
        int32_t x4;
        memcpy(&x4, xe + 4 * cc, 4);
        ce[cc] = _mm256_dpbusd_epi32(ce[cc], _mm256_set1_epi32(x4), a8);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR && nb; r++) {
      int32_t w4;
      memcpy(&w4, ap + r * KR, 4);
      __m512i a = _mm512_set1_epi32(w4);
      c[r][0] = _mm512_dpbusd_epi32(c[r][0], x0, a);
      if (nb > 1) c[r][1] = _mm512_dpbusd_epi32(c[r][1], x1, a);
      if (nb > 2) c[r][2] = _mm512_dpbusd_epi32(c[r][2], x2, a);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
    for (int n = 0; n < nb; n++) acc[r][n] = c[r][n];
#pragma GCC unroll 4
  for (int cc = 0; cc < ne; cc++) acce[cc] = ce[cc];
}

enum { RB = 64 };   /* rows of requantization constants per pass (the engine's calls have at most 64) */

/* Rows' requantization constants, computed once per pass (row_consts) instead of per tile: FORMAT.md's
   x = (dot + comp) * m + bias * m + (1 << (shift - 1)) = dot * m + c, the tile's comp folded into c (each product
   below 2^62, their sum within a valid model's |x| < 2^62.6); cnt = shift - 32 (q8_requant__avx512.h's big rows:
   cnt >= 0) */
typedef struct { int64_t m[RB], c[RB]; int32_t cnt[RB]; } RowsK;

/* row i of k as the two-row narrowing takes it */
static inline RowC rows_at(const RowsK *k, int i) {
  RowC r = { k->m[i], k->c[i], k->cnt[i] };
  return r;
}

/* RowsK's rows [0, n) from the output rows [oa, oa + n), 8 (one tile) at a time, in int64 lanes */
static void row_consts(const Q8Sq8Epi *e, const int8_t *A, size_t tile_bytes, size_t comp_at, int oa, int n, RowsK *k) {
  for (int i = 0; i < n; i += MR) {
    int o = oa + i;
    __mmask8 mk = (__mmask8)((1u << (n - i < MR ? n - i : MR)) - 1);
    __m512i m = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mk, e->mult + o));
    __m512i sh = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mk, e->shift + o));
    __m512i b = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mk, e->bias + o));
    __m512i cp = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(const void *)(A + (size_t)(o / MR) * tile_bytes + comp_at)));
    __m512i c = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epi32(b, m), _mm512_mul_epi32(cp, m)),
                                 _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(sh, _mm512_set1_epi64(1))));
    _mm512_storeu_si512(k->m + i, m);
    _mm512_storeu_si512(k->c + i, c);
    _mm256_storeu_si256((__m256i *)(void *)(k->cnt + i), _mm512_cvtepi64_epi32(_mm512_sub_epi64(sh, _mm512_set1_epi64(32))));
  }
}

/* rows [o0, o0 + nr) x columns [j, j + nc) of the output (nc <= 16 nb) from a micro-tile's sums, row o0's constants
   at index i of k */
static inline __attribute__((always_inline)) void gemm_tile_store_t(const Q8Sq8Epi *e, const EpiQ *pq, const RowsK *k,
                                                                    int i, int o0, int nr, int j, int nc, const int nb,
                                                                    __m512i c[MR][3]) {
  int8_t *y0 = e->y + o0 * e->ys_o + j * e->ys_p;
  for (int r = 0; r < nr; r++) {
    int8_t *y = y0 + r * e->ys_o, out[48];
    RowC ka = rows_at(k, i + r);
    if (nb == 2 && e->ys_p == 1 && nc == 32 && r + 1 < nr && ka.cnt >= 0 && k->cnt[i + r + 1] >= 0) {
      /* two big rows at once: q8_rows2v's packs, 4 shuffles for 64 outputs where vpmovsdb takes 4 (2 uops each) */
      RowC kb = rows_at(k, i + r + 1);
      __m512i v = q8_rows2v(c[r][0], c[r][1], c[r + 1][0], c[r + 1][1], &ka, &kb, pq);
      _mm256_storeu_si256((__m256i *)(void *)y, _mm512_castsi512_si256(v));
      _mm256_storeu_si256((__m256i *)(void *)(y + e->ys_o), _mm512_extracti64x4_epi64(v, 1));
      r++;
      continue;
    }
    RowQ rq = q8_rowq_c(&ka);
    int direct = e->ys_p == 1 && nc == 16 * nb;
#pragma GCC unroll 3
    for (int n = 0; n < nb; n++) _mm_storeu_si128((__m128i *)(direct ? y + 16 * n : out + 16 * n), requant16(c[r][n], &rq, pq));
    if (direct) continue;
    if (e->ys_p == 1) memcpy(y, out, (size_t)nc);
    else
      for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = out[cc];
  }
}
/* the same, one copy out of line for the tail tiles (inlined in each, the tiles' copies took the runtime binaries
   past 1 MiB); the 8 x 32 tile's own inlined (out of line, MobileNetV2's expansions, K = 16 to 32, ran 11-16% slower) */
static __attribute__((noinline)) void gemm_tile_store(const Q8Sq8Epi *e, const EpiQ *pq, const RowsK *k, int i, int o0,
                                                      int nr, int j, int nc, int nb, __m512i c[MR][3]) {
  gemm_tile_store_t(e, pq, k, i, o0, nr, j, nc, nb, c);
}

/* rows [o0, o0 + nr) x columns [j, j + nc), nc <= 4, from sums with the 8 rows in the lanes, row o0's constants at
   index i of k: FORMAT.md's requantization with the 8 rows in int64 lanes, each its own multiplier and shift
   (vpmuldq, vpsravq), then + zy, the clamp, one byte a row (one at a time, q8_rowc1 per output, was 2.8% of
   MobileNetV2 sq8's time on one thread) */
static void gemm_cols_store(const Q8Sq8Epi *e, const RowsK *k, int i, int o0, int nr, int j, int nc, const __m256i *c) {
  __m512i m = _mm512_loadu_si512(k->m + i), cst = _mm512_loadu_si512(k->c + i);
  __m512i sh = _mm512_cvtepi32_epi64(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(k->cnt + i)),
                                                      _mm256_set1_epi32(32)));
  __m512i zy = _mm512_set1_epi64(e->zy), lo = _mm512_set1_epi64(e->qmin), hi = _mm512_set1_epi64(e->qmax);
  for (int cc = 0; cc < nc; cc++) {
    __m512i x = _mm512_add_epi64(_mm512_mul_epi32(_mm512_cvtepi32_epi64(c[cc]), m), cst);
    __m512i y = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(_mm512_srav_epi64(x, sh), zy), lo), hi);
    int8_t out[16];
    _mm_storeu_si128((__m128i *)out, _mm512_cvtepi64_epi8(y));
    int8_t *yp = e->y + o0 * e->ys_o + (j + cc) * e->ys_p;
    for (int r = 0; r < nr; r++) yp[r * e->ys_o] = out[r];
  }
}

/* bytes per tile of A: its quads, then its comp (none when read in place: Q8Gemm.comp) */
static size_t tile_of(const Q8Gemm *g) { return (size_t)g->G * (size_t)g->kp * MR * KR + (g->comp ? 0 : MR * 4); }

/* byte of X where column j's quad 0 is (its panel, then 4 bytes a column) */
static const uint8_t *x_col(const Q8Gemm *g, int j) {
  return (const uint8_t *)g->X + (size_t)(j / NR) * 2 * (size_t)g->pstride + (size_t)(j % NR) * KR;
}

/* rows [oa, ob) x columns [j, j + nc), nc <= 16 nb (the third 16 from the start of the next panel), and the
   nce <= ne extra columns after them (nb = 0: nc = 0, the extra columns from j); k: the rows' constants from oa */
static inline __attribute__((always_inline)) void gemm_cols(const Q8Gemm *g, const Q8Sq8Epi *e, const EpiQ *pq,
                                                            const RowsK *k, int j, int nc, const int nb, int nce,
                                                            const int ne, int oa, int ob, size_t tile_bytes) {
  const uint8_t *X = x_col(g, j), *Xn = X + 2 * (size_t)g->pstride, *Xe = ne ? x_col(g, j + nc) : X;
  for (int o0 = oa; o0 < ob; o0 += MR) {
    int nr = ob - o0 < MR ? ob - o0 : MR;
    const int8_t *A = (const int8_t *)g->A + (size_t)(o0 / MR) * tile_bytes;
    _Alignas(64) __m512i c[MR][3];
    _Alignas(32) __m256i ce[4];
    gemm_tile_acc(A, X, Xn, Xe, (size_t)g->G * (size_t)g->kp, nb, ne, c, ce);
    if (nb == 2 && !ne) gemm_tile_store_t(e, pq, k, o0 - oa, o0, nr, j, nc, 2, c);
    else if (nb) gemm_tile_store(e, pq, k, o0 - oa, o0, nr, j, nc, nb, c);
    if (ne) gemm_cols_store(e, k, o0 - oa, o0, nr, j + nc, nce, ce);
  }
}

/* Panels of 32 columns by the 8 x 32 micro-tile, columns outer (each panel of X, K x 32 bytes, stays in L1 or L2
   while every row tile passes over it), rows in passes of RB with their constants computed once (row_consts). The
   last r = N % 32 (a map's pixels are rarely a multiple of 32): r <= 4 as
   the extra columns of the last panel's tile (14x14 maps: 196 = 6 x 32 + 4; alone when N <= 4), r = 17 with the
   last panel by the 8 x 48 tile and one extra column (7x7 maps: 49), other r by an 8 x 32 tile of which r columns
   are stored. Each kind a copy of the tile's loop (~1 KB): these are what ResNet's and MobileNetV2's maps take, and
   the runtime binaries stay under DESIGN's 1 MiB */
static void sq8_gemm(const Q8Gemm *g, const Q8Sq8Epi *e) {
  const EpiQ pq = epi_q(e);
  int N = g->N, full = N / NR, r = N % NR;
  int with_last = r && full && (r <= 4 || r == 17);   /* the last whole panel goes with the rest */
  int alone = r && r <= 4 && !full;                    /* at most 4 columns: extra columns only */
  int half = r > 4 && r <= 16 && !full;                /* 5 to 16 columns (3x3 and 4x4 maps): the 8 x 16 tile */
  int np = full - with_last + (r && !with_last && !alone && !half);   /* by the 8 x 32 tile (the last one maybe partial) */
  size_t tile_bytes = tile_of(g), wb = g->comp ? 0 : tile_bytes - MR * 4;
  const int8_t *cp = g->comp ? (const int8_t *)g->comp : (const int8_t *)g->A;
  _Alignas(64) RowsK k;
  for (int oa = 0; oa < g->M; oa += RB) {
    int ob = g->M - oa < RB ? g->M : oa + RB;
    row_consts(e, cp, g->comp ? MR * 4 : tile_bytes, wb, oa, ob - oa, &k);
    for (int p = 0; p < np; p++) gemm_cols(g, e, &pq, &k, p * NR, N - p * NR < NR ? N - p * NR : NR, 2, 0, 0, oa, ob, tile_bytes);
    if (alone && r == 1) gemm_cols(g, e, &pq, &k, 0, 0, 0, 1, 1, oa, ob, tile_bytes);   /* (batch 1's LINEARs, 1x1 maps) */
    else if (alone) gemm_cols(g, e, &pq, &k, 0, 0, 0, r, 4, oa, ob, tile_bytes);
    else if (half) gemm_cols(g, e, &pq, &k, 0, r, 1, 0, 0, oa, ob, tile_bytes);
    else if (with_last && r <= 4) gemm_cols(g, e, &pq, &k, np * NR, NR, 2, r, 4, oa, ob, tile_bytes);
    else if (with_last) gemm_cols(g, e, &pq, &k, np * NR, 48, 3, 1, 1, oa, ob, tile_bytes);
  }
}

/* ---------------------------------------------------------------- implicit stride-1 convolution */

/* q8_conv_offsets, one copy for sq8_conv and im2col_qt (the 1 MiB bound) */
static __attribute__((noinline)) int conv_offsets(const Q8Conv *c, ptrdiff_t *off) { return q8_conv_offsets(c, off); }

/* Weights of the implicit convolution, per tile of CR rows: [nq quads][taps][CR rows][4] int8, byte
   (q, t, r, j) = w[o0 + r][4q + j][t] (0 past C or M), then [CR] int32 comp = -128 * sum of the row's
   weights (the quad planes hold u8 = x ^ 0x80 = x + 128; channels past C are 0 against 0 weights).
   Micro-tile CR rows x CN flat columns: per (quad, tap) CNB zmm loads straight from the quad planes
   (16 pixels x 4 channels each) and CR broadcasts of one row's 4 weights, CR * CNB vpdpbusd. A quad's
   taps one after another: the lines of its plane that a micro-tile reads are read again by the next taps
   from L1 (taps outer, a tap's reads of the 128 planes of a 512-channel 7x7 layer, ~24 KB, with the 37 KB
   of the tile's weights between, came from L2 each time). */
enum { CR = 8, CNB = 2, CN = 16 * CNB };
_Static_assert(CNB >= 1 && CNB <= 4, "sq8_conv's row store takes up to 4 pieces of 16");

static size_t conv_tile(int C, int kh, int kw) {
  return (size_t)kh * (size_t)kw * (size_t)((C + 3) / 4) * CR * 4 + CR * 4;
}

static size_t conv_a_bytes(int M, int C, int kh, int kw) { return (size_t)((M + CR - 1) / CR) * conv_tile(C, kh, kw); }

__attribute__((cold)) static void pack_conv(int M, int C, int kh, int kw, const int8_t *w, int8_t *A) {
  int taps = kh * kw, nq = (C + 3) / 4;
  size_t K = (size_t)C * (size_t)taps, tb = conv_tile(C, kh, kw), ts = CR * 4, qs = (size_t)taps * ts;   /* per tap, per quad */
  /* 3x3 with AVX-512 VBMI (Zen 4, Ice Lake and later; not Skylake-X or Cascade Lake): q8_taps9 */
  int taps9 = taps == 9 && q8_vbmi_on();
  Q8Taps9 T;
  if (taps9) q8_taps9_init(&T);
  for (int o0 = 0; o0 < M; o0 += CR, A += tb) {
    int32_t comp[CR] = {0};
    if (M % CR || C % 4) memset(A, 0, tb - sizeof comp);   /* pad rows and pad channels (none: every byte is written) */
    for (int r = 0; r < CR && o0 + r < M; r++) {
      const int8_t *src = w + (size_t)(o0 + r) * K;
      comp[r] = -128 * q8_sum_i8__avx512(src, K);
      if (taps9) {   /* 64 channels (16 quads) of the 9 taps at a time; tv is 0 past C */
        for (int c0 = 0; c0 < C; c0 += 64) {
          int8_t tv[9][64];
          q8_taps9__avx512vbmi(&T, src + 9 * (size_t)c0, C - c0, tv);
          for (int q = c0 / 4; q < nq && q < c0 / 4 + 16; q++)
            for (int t = 0; t < 9; t++) memcpy(A + (size_t)q * qs + r * 4 + t * ts, &tv[t][4 * q - c0], 4);
        }
        continue;
      }
      for (int q = 0; q < nq; q++) {   /* quad q's taps: 4 channels of taps weights each, in a row */
        const uint8_t *s = (const uint8_t *)src + (size_t)4 * q * taps;
        int8_t *d = A + (size_t)q * qs + r * 4;
        if (C - 4 * q >= 4)
          for (int t = 0; t < taps; t++) {
            uint32_t v = s[t] | (uint32_t)s[taps + t] << 8 | (uint32_t)s[2 * taps + t] << 16 | (uint32_t)s[3 * taps + t] << 24;
            memcpy(d + t * ts, &v, 4);
          }
        else
          for (int t = 0; t < taps; t++)
            for (int j = 0; j < C - 4 * q; j++) d[t * ts + j] = (int8_t)s[j * taps + t];
      }
    }
    memcpy(A + tb - sizeof comp, comp, sizeof comp);
  }
}

/* the int32 sums of one micro-tile, CR rows x CN columns: weights from ap (the tile's), column 0 at xf */
static inline void conv_tile_acc(const int8_t *ap, const uint8_t *xf, const ptrdiff_t *off, int taps, int nq, size_t pb,
                                 __m512i acc[CR][CNB]) {
  __m512i c[CR][CNB];
#pragma GCC unroll 16
  for (int r = 0; r < CR; r++)
#pragma GCC unroll 4
    for (int n = 0; n < CNB; n++) c[r][n] = _mm512_setzero_si512();
  for (int q = 0; q < nq; q++, xf += pb) {
    for (int t = 0; t < taps; t++, ap += CR * 4) {
      const uint8_t *xb = xf + off[t];
      _mm_prefetch((const char *)ap + A_PREFETCH, _MM_HINT_T0);   /* as the GEMM's */
      __m512i x[CNB];
#pragma GCC unroll 4
      for (int n = 0; n < CNB; n++) x[n] = _mm512_loadu_si512(xb + 64 * n);
#pragma GCC unroll 16
      for (int r = 0; r < CR; r++) {
        int32_t w4;
        memcpy(&w4, ap + r * 4, 4);
        __m512i a = _mm512_set1_epi32(w4);
#pragma GCC unroll 4
        for (int n = 0; n < CNB; n++) c[r][n] = _mm512_dpbusd_epi32(c[r][n], x[n], a);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < CR; r++)
#pragma GCC unroll 4
    for (int n = 0; n < CNB; n++) acc[r][n] = c[r][n];
}

/* Rows in passes of RB with their constants computed once (row_consts, as the GEMM's), two big rows' outputs
   narrowed together (q8_rows2v) */
static void sq8_conv(const Q8Conv *c, const Q8Sq8Epi *e, int f0, int f1) {
  ptrdiff_t off[Q8_CONV_MAXTAPS];
  int taps = conv_offsets(c, off), nq = (c->C + 3) / 4, Wp = c->Wp, OW = c->OW;
  if (!taps) return;   /* the engine takes this path for windows of at most Q8_CONV_MAXTAPS only */
  size_t pb = c->plane * 4, tb = conv_tile(c->C, c->kh, c->kw) - (c->comp ? CR * 4 : 0), wb = c->comp ? 0 : tb - CR * 4;
  const EpiQ pq = epi_q(e);
  _Alignas(64) __m512i acc[CR][CNB];
  _Alignas(64) RowsK k;
  for (int oa = 0; oa < c->M; oa += RB) {
    int ob = c->M - oa < RB ? c->M : oa + RB;
    row_consts(e, c->comp ? (const int8_t *)c->comp : c->A, c->comp ? CR * 4 : tb, wb, oa, ob - oa, &k);
    for (int f = f0; f < f1; f += CN) {
      /* the stored columns of this micro-tile: segments of consecutive outputs */
      int sa[CN], sn[CN];
      size_t so[CN];
      int ns = q8_conv_runs(f, f1 - f < CN ? f1 : f + CN, Wp, OW, sa, sn, so);
      if (!ns) continue;
      const uint8_t *xf = (const uint8_t *)c->xq + (size_t)f * 4;
      for (int o0 = oa; o0 < ob; o0 += CR) {
        int nr = ob - o0 < CR ? ob - o0 : CR;
        conv_tile_acc(c->A + (size_t)(o0 / CR) * tb, xf, off, taps, nq, pb, acc);
        for (int r = 0; r < nr; r++) {
          int o = o0 + r, i = o - oa;
          RowC ka = rows_at(&k, i);
          uintptr_t y = (uintptr_t)(e->y + (ptrdiff_t)o * e->ys_o);
          if (CNB == 2 && r + 1 < nr && ka.cnt >= 0 && k.cnt[i + 1] >= 0) {
            /* two big rows: the second row's bytes from the vector's high half, its stores addressed 32 before */
            RowC kb = rows_at(&k, i + 1);
            __m512i v = q8_rows2v(acc[r][0], acc[r][CNB > 1], acc[r + 1][0], acc[r + 1][CNB > 1], &ka, &kb, &pq);
            for (int s = 0; s < ns; s++) {
              __mmask64 m = (((__mmask64)1 << sn[s]) - 1) << sa[s];
              _mm512_mask_storeu_epi8((void *)(y + so[s] - (uintptr_t)sa[s]), m, v);
              _mm512_mask_storeu_epi8((void *)(y + (uintptr_t)e->ys_o + so[s] - (uintptr_t)sa[s] - 32), m << 32, v);
            }
            r++;
            continue;
          }
          RowQ q = q8_rowq_c(&ka);
          /* the lane indices constants (-O1 too) */
          __m512i v = _mm512_castsi128_si512(requant16(acc[r][0], &q, &pq));
          if (CNB > 1) v = _mm512_inserti32x4(v, requant16(acc[r][CNB > 1], &q, &pq), 1);
          if (CNB > 2) v = _mm512_inserti32x4(v, requant16(acc[r][CNB > 2 ? 2 : 0], &q, &pq), 2);
          if (CNB > 3) v = _mm512_inserti32x4(v, requant16(acc[r][CNB > 3 ? 3 : 0], &q, &pq), 3);
          /* each segment straight from the register: lanes [sa, sa + sn) to y + so (the store addressed sa
             bytes before it, the lanes outside the mask not written). A stack copy read back at offset sa
             waited on its 16-byte stores (a load across several stores is not forwarded) */
          for (int s = 0; s < ns; s++) {
            __mmask64 m = (sn[s] >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << sn[s]) - 1) << sa[s];
            _mm512_mask_storeu_epi8((void *)(y + so[s] - (uintptr_t)sa[s]), m, v);
          }
        }
      }
    }
  }
}

/* Q8Kernels.im2col_qt: quad (q, t) of column p is plane q's 4 bytes at p's flat column (oh * Wq + ow) plus tap t's
   offset; 16 columns (a zmm of X) one vpermt2d of the 32 pixels from the first one's flat column, where 16 outputs
   span at most 32 flat columns (7x7 maps: 20 at stride 1, Wq 9). Maps of at most 64 outputs (4 groups of 16: the
   last written whole, columns past N computed by the GEMM and not stored) */
/* im2col_qt's permutes: group g's first flat column f0[g] and its 16 columns' from it, ix[g]; 0 where they span more
   than 32 (-Os: the 1 MiB bound) */
__attribute__((optimize("Os"))) static int qt_index(int N, int OW, int Wq, size_t *f0, int32_t ix[4][16]) {
  for (int g = 0; g < (N + 15) / 16; g++) {
    f0[g] = (size_t)(16 * g / OW * Wq + 16 * g % OW);
    for (int l = 0; l < 16; l++) {
      int p = 16 * g + l < N ? 16 * g + l : N - 1;
      if ((ix[g][l] = p / OW * Wq + p % OW - (int)f0[g]) > 31) return 0;
    }
  }
  return 1;
}

static int im2col_qt(const Q8Conv *c, int q0, int q1, int N, int16_t *X, ptrdiff_t pstride) {
  ptrdiff_t off[Q8_CONV_MAXTAPS];
  int taps = conv_offsets(c, off), ng = (N + 15) / 16;
  size_t f0[4];
  int32_t ix[4][16];
  if (!taps || N < 1 || N > 64 || !qt_index(N, c->OW, c->Wp, f0, ix)) return 0;
  if (!X) return 1;
  __m512i idx[4];
  for (int g = 0; g < ng; g++) idx[g] = _mm512_loadu_si512(ix[g]);
  for (int q = q0; q < q1; q++)
    for (int t = 0; t < taps; t++) {
      const uint8_t *src = (const uint8_t *)c->xq + (size_t)q * c->plane * 4 + off[t];
      uint8_t *x = (uint8_t *)X + ((size_t)q * (size_t)taps + (size_t)t) * (NR * KR);
      for (int g = 0; g < ng; g++) {
        __m512i lo = _mm512_loadu_si512(src + 4 * f0[g]), hi = _mm512_loadu_si512(src + 4 * f0[g] + 64);
        _mm512_storeu_si512(x + (size_t)(g / 2) * 2 * (size_t)pstride + (size_t)(g % 2) * 64, _mm512_permutex2var_epi32(lo, idx[g], hi));
      }
    }
  return 1;
}

/* Q8Kernels.blocked_comp: -128 x each row's sum (the correction of u8 = x + 128 above), one vpdpbusd of ones per
   32-byte block (8 rows x 4) */
__attribute__((cold)) static void blocked_comp(const int8_t *w, size_t tiles, size_t steps, int32_t *comp) {
  const __m256i ones = _mm256_set1_epi8(1);
  for (size_t t = 0; t < tiles; t++, comp += MR) {
    __m256i sum = _mm256_setzero_si256();
    for (size_t k = 0; k < steps; k++, w += MR * KR)
      sum = _mm256_dpbusd_epi32(sum, ones, _mm256_loadu_si256((const __m256i *)(const void *)w));
    _mm256_storeu_si256((__m256i *)(void *)comp, _mm256_mullo_epi32(sum, _mm256_set1_epi32(-128)));
  }
}

const Q8Kernels q8_gemm_8x32__avx512vnni_desc = {"q8_gemm_8x32__avx512vnni", "avx512vnni", MR, NR, KR, 1, a_elems,
                                                 pack_w, put_x, get_x, im2col, NULL, sq8_gemm, NULL,
                                                 im2col_cols, conv_a_bytes, pack_conv, sq8_conv, 1, 0x80, NULL, NULL, 0, im2col_kxq, 64, blocked_comp, im2col_qt, NULL, NULL, NULL, 0};
