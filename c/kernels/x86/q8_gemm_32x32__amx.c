/* q8_gemm_32x32__amx.c: the sq8 GEMM on AMX tiles (TDPBSSD: s8 x s8 dot products of four, exact in
 * int32), and its own "tile" layout and packers. dq8 keeps the AVX2 kernel.
 *
 * Weights and activations both stay signed int8, so there is no correction term: C = W . X exactly
 * (|sum| <= 65536 * 128 * 128 = 2^30 for the K <= 65536 a reader allows). K is padded to kr = 64,
 * one tile's depth; pad k and pad rows of the weights are zero, so whatever the pad rows and pad
 * columns of X hold, they add nothing (the im2col leaves pad rows unwritten).
 * Layout (kb = K rounded up to 64, / 64):
 *  - A: per tile of 32 rows: [kb][2 halves of 16 rows][16 rows][64 k] int8: for each k block, two
 *    16 x 64 tiles (A operand, row stride 64 bytes) one after the other.
 *  - X: per panel of 32 columns: [kb][2 halves of 16 columns][16 k quads][16 columns][4 k] int8:
 *    for each k block two 16 x 64 B tiles in the VNNI layout (a row is 16 columns x 4 k).
 *    Element (k, p) at byte (p / 32) * 2 * pstride + (k / 64) * 2048 + (p / 16 % 2) * 1024 +
 *    (k / 4 % 16) * 64 + (p % 16) * 4 + k % 4.
 * Micro-kernel 32 x 32: four int32 C tiles (tmm0-3), A tiles tmm4-5, B tiles tmm6-7 (a ragged edge of
 * at most 16 rows or columns skips the tiles it does not need). Each call configures the tiles unless
 * the thread's tiles already are configured so (amx_tiles.h), and leaves them configured. The C tiles
 * are stored to a 4 KB buffer and requantized with AVX-512 exactly as FORMAT.md writes it:
 * acc * m = dot * m + bias * m, where dot (int32) * m is one vpmuldq and bias * m + rounding one
 * int64 per row, so the int64 sum equals the reference's (acc * m + (1 << (shift - 1))). */
#include <immintrin.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "q8_im2col4__avx512.h"
#include "q8_requant__avx512.h"
#include "amx_tiles.h"

enum { MR = 32, NR = 32, KR = 64, TB = 1024 /* bytes per 16 x 64 tile */ };
/* ops of K < 64 run the AVX-512 VNNI descriptor (Q8Kernels.min_k): their k step of 64 is mostly padding (K = 16, 24
   and 32: MobileNetV2's expansions and first projection, 4x, 2.7x and 2x the products), and their tiles' epilogues
   have nothing to hide behind. MobileNetV2 sq8 (2 threads, batch 1, 60 images, per op, fastest of 7 runs alternated):
   the 112x112 projection of K = 32 0.81x its time, the blocks by bands with expansions of K = 16, 24 and 32 (run_sq8_irb)
   0.87x, 0.95-0.98x and 0.96x, the stride-2 28x28 block 1.12x (sq8_dwf is the AMX table's), the sum of all ops 0.96x */
enum { AMX_SQ8_MIN_K = 64 };

static size_t kb_of(int gs) { return (size_t)(gs + KR - 1) / KR; }

static size_t a_elems(int M, int G, int gs) {
  size_t tiles = (size_t)(M + MR - 1) / MR;
  return tiles * (size_t)G * kb_of(gs) * (MR * KR) / 2;
}

/* (start-up: built for size; a row's 64 bytes one masked load and one store, the bytes past gs zero) */
__attribute__((cold)) static void pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  (void)wz; /* sq8 weights are symmetric */
  size_t kb = kb_of(gs), tiles = (size_t)(M + MR - 1) / MR, K = (size_t)G * gs;
  int8_t *a = (int8_t *)A;
  for (size_t t = 0; t < tiles; t++)
    for (size_t g = 0; g < (size_t)G; g++)
      for (size_t b = 0; b < kb; b++)
        for (int r = 0; r < MR; r++, a += KR) {
          size_t o = t * MR + (size_t)r, n = (size_t)gs - b * KR < KR ? (size_t)gs - b * KR : KR;
          __mmask64 m = o >= (size_t)M ? 0 : n >= KR ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
          _mm512_storeu_si512(a, _mm512_maskz_loadu_epi8(m, w + (o < (size_t)M ? o : 0) * K + g * (size_t)gs + b * KR));
        }
}

static size_t xbyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + (size_t)(k / KR) * 2 * TB + (size_t)(p / 16 % 2) * TB +
         (size_t)(k / 4 % 16) * 64 + (size_t)(p % 16) * 4 + (size_t)(k % 4);
}
static void put_x(int16_t *X, size_t pstride, int k, int p, int v) { ((int8_t *)X)[xbyte(pstride, k, p)] = (int8_t)v; }
static int get_x(const int16_t *X, size_t pstride, int k, int p) { return ((const int8_t *)X)[xbyte(pstride, k, p)]; }

/* ---------------------------------------------------------------- im2col (q8_im2col4__avx512.h) */

static void im2col(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                   int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  q8_q4_im2col(Q4_AMX, x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, k0, k1, X, pstride);
}

static void im2col_cols(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH, int OW,
                        int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  q4_im2col_cols(Q4_AMX, xp, Hp, Wp, kh, kw, sh, sw, dh, dw, OH, OW, zx, K, p0, p1, X, pstride);
}

static int im2col_kxq(const Q8Kxq *g, int p0, int p1, int16_t *X, ptrdiff_t pstride) {   /* (cpu.c: AMX is used only with AVX-512 VBMI) */
  if (!q8_vbmi_on()) return 0;
  if (X) q8_im2col_kxq__avx512vbmi(Q4_AMX, g, p0, p1, X, pstride);
  return 1;
}

/* ---------------------------------------------------------------- the GEMM */

_Thread_local TileCfg amx_tiles_cur;   /* (amx_tiles.h) */

/* C tiles (i, j) of the 32 x 32 micro-tile, i over row halves (A tiles 4, 5), j over column halves
   (B tiles 6, 7); only the tiles a ragged edge needs (R row halves, C column halves) */
#define TILE_LOOP(R, C)                                                                  \
  do {                                                                                   \
    _tile_zero(0);                                                                       \
    if (C > 1) _tile_zero(1);                                                            \
    if (R > 1) _tile_zero(2);                                                            \
    if (R > 1 && C > 1) _tile_zero(3);                                                   \
    for (size_t b = 0; b < kb; b++) {                                                    \
      const int8_t *ab = A + b * 2 * TB, *xb = X + b * 2 * TB;                           \
      _tile_loadd(4, ab, 64);                                                            \
      _tile_loadd(6, xb, 64);                                                            \
      _tile_dpbssd(0, 4, 6);                                                             \
      if (C > 1) { _tile_loadd(7, xb + TB, 64); _tile_dpbssd(1, 4, 7); }                 \
      if (R > 1) { _tile_loadd(5, ab + TB, 64); _tile_dpbssd(2, 5, 6); }                 \
      if (R > 1 && C > 1) _tile_dpbssd(3, 5, 7);                                         \
    }                                                                                    \
    _tile_stored(0, acc[0], 4 * NR);                                                     \
    if (C > 1) _tile_stored(1, acc[0] + 16, 4 * NR);                                     \
    if (R > 1) _tile_stored(2, acc[16], 4 * NR);                                         \
    if (R > 1 && C > 1) _tile_stored(3, acc[16] + 16, 4 * NR);                           \
  } while (0)

/* the epilogue of one micro-tile: rows [o0, o0 + nr), columns [j, j + nc) from acc, rk its rows' constants: two
   big rows at a time (q8_rows2: the second row's 32 bytes stored from the vector's high half by a masked store
   addressed 32 bytes before them), else (and with ys_p != 1) one output at a time. conv_epi (below) with one
   segment does the same; written through it (inlined here or not) ResNet50 sq8's K = 64 1x1s were 4-9% slower and
   the model 2% at batch 1 on two threads (11 runs alternated): kept apart */
static inline void gemm_epi(const int32_t (*acc)[NR], int o0, int nr, int j, int nc, const Q8Sq8Epi *e, const EpiQ *pq,
                            const RowC *rk) {
  int8_t *y = e->y + o0 * e->ys_o + j * e->ys_p;
  uint64_t m = nc >= 32 ? 0xFFFFFFFFu : ((uint64_t)1 << nc) - 1;
  for (int r = 0; r < nr; r += 2, y += 2 * e->ys_o) {
    int r1 = r + 1 < nr ? r + 1 : r;
    if (e->ys_p == 1 && rk[r].cnt >= 0 && rk[r1].cnt >= 0) {
      __m512i v = q8_rows2(acc[r], acc[r1], rk + r, rk + r1, pq);
      _mm512_mask_storeu_epi8(y, m, v);
      _mm512_mask_storeu_epi8(y + e->ys_o - 32, r1 > r ? m << 32 : 0, v);
    } else
      for (int i = r; i <= r1; i++)
        for (int c = 0; c < nc; c++) y[(i - r) * e->ys_o + c * e->ys_p] = q8_rowc1(acc[i][c], rk + i, e);
  }
}

enum { RB = 64 };   /* rows of requantization constants per pass (the engine's calls have at most 64) */

/* Micro-tiles in turn, rows in passes of RB; each one's epilogue runs after the next one's tiles are
   computed and stored (two accumulator buffers): vector loads right after the tile stores of the same lines stall. */
static void sq8_gemm(const Q8Gemm *g, const Q8Sq8Epi *e) {
  amx_tiles_use_16x64();
  _Alignas(64) int32_t accs[2][MR][NR];
  size_t kb = (size_t)g->G * (size_t)g->kp, tile_bytes = kb * MR * KR;
  const EpiQ pq = epi_q(e);
  RowC rk[RB];
  for (int ob = 0; ob < g->M; ob += RB) {
    int mb = g->M - ob < RB ? g->M - ob : RB;
    q8_rowc(e, ob, mb, rk);
    int n = 0, pj = 0, po = 0, pnr = 0, pnc = 0;   /* micro-tiles done; the last one's place */
    for (int j = 0; j < g->N; j += NR) {
      int nc = g->N - j < NR ? g->N - j : NR;
      const int8_t *X = (const int8_t *)g->X + (size_t)(j / NR) * 2 * (size_t)g->pstride;
      for (int o0 = ob; o0 < ob + mb; o0 += MR, n++) {
        int nr = ob + mb - o0 < MR ? ob + mb - o0 : MR;
        const int8_t *A = (const int8_t *)g->A + (size_t)(o0 / MR) * tile_bytes;
        int32_t (*acc)[NR] = accs[n & 1];
        if (nr > 16 && nc > 16) TILE_LOOP(2, 2);
        else if (nr > 16) TILE_LOOP(2, 1);
        else if (nc > 16) TILE_LOOP(1, 2);
        else TILE_LOOP(1, 1);
        if (n) gemm_epi((const int32_t (*)[NR])accs[(n - 1) & 1], po, pnr, pj, pnc, e, &pq, rk + (po - ob));
        pj = j, po = o0, pnr = nr, pnc = nc;
      }
    }
    if (n) gemm_epi((const int32_t (*)[NR])accs[(n - 1) & 1], po, pnr, pj, pnc, e, &pq, rk + (po - ob));
  }
}

/* ---------------------------------------------------------------- implicit stride-1 convolution */

/* Weights of the implicit convolution: k blocks in (tap, 64-channel block) order, each block two
   16 x 64 A tiles per 32 rows as above: byte (r, 4 qq + j) of block (t, cb) is w[o][64 cb + 4 qq + j][t]
   (0 past C or M). The quad planes give the B tiles in place: rows 16 quads at a stride of a plane,
   a row 16 pixels x 4 channels. */
static size_t conv_kb(int C, int kh, int kw) { return (size_t)kh * (size_t)kw * (size_t)((C + 63) / 64); }

static size_t conv_a_bytes(int M, int C, int kh, int kw) {
  return (size_t)((M + MR - 1) / MR) * conv_kb(C, kh, kw) * 2 * TB;
}

/* one row's weights (C x taps, in order) to their taps' blocks, a byte at a time (any taps) */
static void pack_row(const int8_t *src, int C, int taps, size_t tstep, int8_t *dr) {
  for (int ci = 0; ci < C; ci++, src += taps) {
    int8_t *d = dr + (size_t)(ci / 64) * 2 * TB + (size_t)(ci % 64);
    for (int t = 0; t < taps; t++) d[(size_t)t * tstep] = src[t];
  }
}

__attribute__((cold)) static void pack_conv(int M, int C, int kh, int kw, const int8_t *w, int8_t *A) {
  int taps = kh * kw, ncb = (C + 63) / 64;
  size_t K = (size_t)C * (size_t)taps, tile = conv_kb(C, kh, kw) * 2 * TB, tstep = (size_t)ncb * 2 * TB;
  Q8Taps9 T;   /* 3x3: q8_taps9 (cpu.c: AMX is used only with AVX-512 VBMI) */
  if (taps == 9) q8_taps9_init(&T);
  for (int o0 = 0; o0 < M; o0 += MR) {
    int8_t *at = A + (size_t)(o0 / MR) * tile;
    if (M % MR || C % 64) memset(at, 0, tile);   /* (else every byte is written below: no second pass over fresh pages) */
    for (int r = 0; r < MR && o0 + r < M; r++) {   /* row o's weights in order, each to its tap's block */
      const int8_t *src = w + (size_t)(o0 + r) * K;
      int8_t *dr = at + (size_t)(r / 16) * TB + (size_t)(r % 16) * KR;
      if (taps != 9) {
        pack_row(src, C, taps, tstep, dr);
        continue;
      }
      for (int c0 = 0; c0 < C; c0 += 64) {
        int8_t tv[9][64];
        q8_taps9__avx512vbmi(&T, src + 9 * (size_t)c0, C - c0, tv);
        for (int t = 0; t < 9; t++) memcpy(dr + (size_t)c0 / 64 * 2 * TB + (size_t)t * tstep, tv[t], 64);
      }
    }
  }
}

/* pack_conv from the file's blocked weights: row o's 64 bytes of block (t, cb) are its 16 quads cb * 16 .. of tap t, at a
   stride of taps x 4R bytes in o's tile of R rows: one gather (the quads past C masked off, the rows past M zero). For
   the engines that pack (this table) the rows had been unblocked into (O, K) order first, then packed back by tap:
   ResNet18 sq8's start-up spent a fifth of its CPU time unblocking */
__attribute__((cold)) static void pack_conv_blk(int M, int C, int kh, int kw, const int8_t *w, int R, int8_t *A) {
  int taps = kh * kw, ncb = (C + 63) / 64, nq = (C + 3) / 4;
  size_t qstep = (size_t)taps * 4 * (size_t)R, ftile = (size_t)nq * qstep, tile = conv_kb(C, kh, kw) * 2 * TB;
  const __m512i vi = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm512_set1_epi32((int)qstep));
  for (int o0 = 0; o0 < M; o0 += MR) {
    int8_t *at = A + (size_t)(o0 / MR) * tile;
    for (int r = 0; r < MR; r++) {
      int o = o0 + r;
      int8_t *dr = at + (size_t)(r / 16) * TB + (size_t)(r % 16) * KR;
      const int8_t *src = o < M ? w + (size_t)(o / R) * ftile + (size_t)(o % R) * 4 : NULL;
      for (int t = 0; t < taps; t++)
        for (int cb = 0; cb < ncb; cb++) {
          __m512i v = _mm512_setzero_si512();
          if (src) {
            int left = nq - 16 * cb;
            __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            v = _mm512_mask_i32gather_epi32(v, m, vi, src + (size_t)cb * 16 * qstep + (size_t)t * 4 * (size_t)R, 1);
          }
          _mm512_storeu_si512(dr + ((size_t)t * (size_t)ncb + (size_t)cb) * 2 * TB, v);
        }
    }
  }
}

/* pack_w from the file's blocks: one group's layout is a 1x1's pack_conv (C = K) */
__attribute__((cold)) static int pack_w_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
  if (G != 1 || wz || T != 1) return 0;
  pack_conv_blk(M, gs, 1, 1, w, R, (int8_t *)A);
  return 1;
}

/* the C tiles of one 32 x 32 micro-tile over all k blocks: R row halves, both column halves; B tiles
   straight from the quad planes (row stride pb bytes) */
#define CONV_LOOP(R)                                                                      \
  do {                                                                                    \
    _tile_zero(0);                                                                        \
    _tile_zero(1);                                                                        \
    if (R > 1) { _tile_zero(2); _tile_zero(3); }                                          \
    const int8_t *ab = A;                                                                 \
    for (int t = 0; t < taps; t++)                                                        \
      for (int cb = 0; cb < ncb; cb++, ab += 2 * TB) {                                    \
        const int8_t *xb = xf + off[t] + (size_t)cb * 16 * pb;                            \
        _tile_loadd(4, ab, 64);                                                           \
        _tile_loadd(6, xb, (long)pb);                                                     \
        _tile_loadd(7, xb + 64, (long)pb);                                                \
        _tile_dpbssd(0, 4, 6);                                                            \
        _tile_dpbssd(1, 4, 7);                                                            \
        if (R > 1) {                                                                      \
          _tile_loadd(5, ab + TB, 64);                                                    \
          _tile_dpbssd(2, 5, 6);                                                          \
          _tile_dpbssd(3, 5, 7);                                                          \
        }                                                                                 \
      }                                                                                   \
    _tile_stored(0, acc[0], 4 * NR);                                                      \
    _tile_stored(1, acc[0] + 16, 4 * NR);                                                 \
    if (R > 1) { _tile_stored(2, acc[16], 4 * NR); _tile_stored(3, acc[16] + 16, 4 * NR); } \
  } while (0)

/* the epilogue of one micro-tile of the implicit convolution: rows [o0, o0 + nr), its ns segments, as gemm_epi:
   each segment straight from the register, lanes [sa, sa + sn) to y + so (the store addressed sa bytes before
   it, the lanes outside the mask not written; a stack copy read back at offset sa waited on its stores) */
static inline void conv_epi(const int32_t (*acc)[NR], int o0, int nr, int ns, const int *sa, const int *sn, const size_t *so,
                            const Q8Sq8Epi *e, const EpiQ *pq, const RowC *rk) {
  for (int r = 0; r < nr; r += 2) {
    int r1 = r + 1 < nr ? r + 1 : r;
    int8_t *y = e->y + (ptrdiff_t)(o0 + r) * e->ys_o;
    if (rk[r].cnt >= 0 && rk[r1].cnt >= 0) {
      __m512i v = q8_rows2(acc[r], acc[r1], rk + r, rk + r1, pq);
      for (int i = 0; i < ns; i++) {   /* row r1's lanes 32 on */
        uint64_t m = (sn[i] >= 32 ? 0xFFFFFFFFu : ((uint64_t)1 << sn[i]) - 1) << sa[i];
        _mm512_mask_storeu_epi8(y + so[i] - sa[i], m, v);
        _mm512_mask_storeu_epi8(y + e->ys_o - 32 + so[i] - sa[i], r1 > r ? m << 32 : 0, v);
      }
    } else
      for (int i = r; i <= r1; i++)
        for (int t = 0; t < ns; t++)
          for (int l = 0; l < sn[t]; l++) y[(i - r) * e->ys_o + (ptrdiff_t)so[t] + l] = q8_rowc1(acc[i][sa[t] + l], rk + i, e);
  }
}

static void sq8_conv(const Q8Conv *c, const Q8Sq8Epi *e, int f0, int f1) {
  ptrdiff_t off[Q8_CONV_MAXTAPS];
  int taps = q8_conv_offsets(c, off), ncb = (c->C + 63) / 64, Wp = c->Wp, OW = c->OW;
  if (!taps) return;   /* the engine takes this path for windows of at most Q8_CONV_MAXTAPS only */
  amx_tiles_use_16x64();
  _Alignas(64) int32_t accs[2][MR][NR];   /* as sq8_gemm: each epilogue one micro-tile late */
  size_t pb = c->plane * 4, tile_bytes = conv_kb(c->C, c->kh, c->kw) * 2 * TB;
  const EpiQ pq = epi_q(e);
  RowC rk[RB];
  enum { GT = 4 };   /* micro-tiles of columns per pass over the weights (one pass at batch 1's 7x7 layers) */
  for (int ob = 0; ob < c->M; ob += RB) {   /* (the engine's tasks have at most RB rows: one pass) */
    int mb = c->M - ob < RB ? c->M - ob : RB;
    q8_rowc(e, ob, mb, rk);
    for (int fg = f0; fg < f1; fg += GT * NR) {
      /* the stored columns of each micro-tile: segments of consecutive outputs */
      int sa[GT][NR], sn[GT][NR], ns[GT], nt = 0;
      size_t so[GT][NR];
      for (int f = fg; f < f1 && nt < GT; f += NR, nt++) ns[nt] = q8_conv_runs(f, f1 - f < NR ? f1 : f + NR, Wp, OW, sa[nt], sn[nt], so[nt]);
      int n = 0, po = 0, pnr = 0, pti = 0;   /* micro-tiles of this group done; the last one's rows and tile */
      for (int o0 = ob; o0 < ob + mb; o0 += MR) {
        int nr = ob + mb - o0 < MR ? ob + mb - o0 : MR;
        const int8_t *A = c->A + (size_t)(o0 / MR) * tile_bytes;
        for (int ti = 0; ti < nt; ti++, n++) {
          const int8_t *xf = c->xq + (size_t)(fg + ti * NR) * 4;
          int32_t (*acc)[NR] = accs[n & 1];
          if (nr > 16) CONV_LOOP(2);
          else CONV_LOOP(1);
          if (n) conv_epi((const int32_t (*)[NR])accs[(n - 1) & 1], po, pnr, ns[pti], sa[pti], sn[pti], so[pti], e, &pq, rk + (po - ob));
          po = o0, pnr = nr, pti = ti;
        }
      }
      if (n) conv_epi((const int32_t (*)[NR])accs[(n - 1) & 1], po, pnr, ns[pti], sa[pti], sn[pti], so[pti], e, &pq, rk + (po - ob));
    }
  }
}
#undef CONV_LOOP

const Q8Kernels q8_gemm_32x32__amx_desc = {"q8_gemm_32x32__amx", "amx", MR, NR, KR, 1, a_elems,
                                           pack_w, put_x, get_x, im2col, NULL, sq8_gemm, NULL,
                                           im2col_cols, conv_a_bytes, pack_conv, sq8_conv, 16, 0, NULL, NULL, AMX_SQ8_MIN_K, im2col_kxq, 0, NULL, NULL, NULL,
                                           pack_conv_blk, pack_w_blk, 0};
