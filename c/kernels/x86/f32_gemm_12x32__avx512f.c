/* f32_gemm_12x32__avx512f: 12x32 GEMM micro-kernel, AVX-512F, 24 zmm accumulators (see kernels_f32.h);
 * one entry, gemm_u: per k step two 16-wide B loads and 12 broadcast A elements feed 24 FMAs (the loops
 * are fully unrolled and the accumulators stay in registers: no spill in the k loop at -O2). A is read
 * where it lies: the weights in the model file's map (an implicit convolution: each row K floats apart,
 * by four row pointers and offsets of 0, 1, 2 rows) or a panel packed by f32_pack_a_tail (1x1
 * convolutions and LINEAR: one stream). In place, no packing at start-up (ResNet18: 42 MiB fewer copied
 * and zeroed pages, 20-25 -> 4-9 ms from main to the first forward) at the same speed, with the taps
 * taken by channel (the file's order) and a 3x3's nine unrolled. The epilogue (bias, then the activation)
 * runs act16_avx512 (ReLU and ReLU6 in 512 bits, the others by the AVX2 helper on halves): the values of the
 * AVX2 kernel, lane for lane (until 2026-12-02 all by 8-wide quarters: 1 KB more code, no faster).
 * 12 rows, not 8: on ResNet18's 3x3 layers (one thread, Sapphire Rapids) 5-9% faster overall, as
 * each B panel is streamed half as often as with 8; 8 wastes no rows on 64 channels (conv1, layer1).
 * The packed loop prefetches A 64 steps ahead (a 7x7 layer's weights, 512 x 4608 floats, come from memory
 * once per image). The in-place loops do not: the unrolled 3x3 taps prefetched one row of A per k step in
 * turn, 64 steps on, until 2026-12-02 (ResNet18's 7x7 layers ~6% faster with it when it came); re-measured
 * then, without it ResNet18 f32 at batch 1 was 1.6-2.6% faster on two threads and 1.7% on one, ResNet50
 * 2.6% on two (60 images, 5-9 runs alternated; its 7x7 and strided 3x3 layers 3-7%), and in the other loops
 * the rotation's 5-6 instructions a k step had cost the stem 5-7% and the Winograd layers 2-7%.
 * A fused residual ADD (acc F32_ACC_RES) adds C's values before the activation; the tile's lines of C are
 * fetched for writing (PREFETCHW, which every AVX-512 CPU has) before the k loop: they were written layers
 * ago and read since by the other core, and without it ResNet50's 14x14 1x1 layers on 2 threads ran 16%
 * slower fused than unfused (their ADD's cost and more). */
#pragma GCC target("prfchw")
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"
#include "f32_gemm_u_taps.h"

__attribute__((noinline)) __m512 act16_other__avx512f(__m512 v, int act) {   /* (act__avx2.h) */
  __m256 h[2] = {_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))};
  #pragma GCC unroll 1
  for (int c = 0; c < 2; c++) h[c] = act_avx2(h[c], act);
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(h[0])), _mm256_castps_pd(h[1]), 1));
}

enum { MR = 12, NR = 32 };
enum { PF_K = 64 };   /* packed A: the prefetch distance in k steps */
enum { PF_B = 16 };   /* packed A: B's prefetch distance in k steps */

/* row r < m of a tile: act(x + bias) on the columns of masks k0 (0..15) and k1 (16..31) (the values of the
   AVX2 kernel); nv: the 16-wide halves that hold columns; res (acc F32_ACC_RES): act((x + bias) + c) */
static inline __attribute__((always_inline)) void store_row_mask(float *c, __m512 x0, __m512 x1, float bias, int act, int nv,
                                                                 __mmask16 k0, __mmask16 k1, int res) {
  __m512 bb = _mm512_set1_ps(bias);
  __m512 x[2] = {_mm512_add_ps(x0, bb), _mm512_add_ps(x1, bb)};
  for (int h = 0; h < nv; h++) {
    if (res) x[h] = _mm512_add_ps(x[h], _mm512_maskz_loadu_ps(h ? k1 : k0, c + 16 * h));
    _mm512_mask_storeu_ps(c + 16 * h, h ? k1 : k0, act16_avx512(x[h], act));
  }
}

/* the row stores of edge tiles (rows [0, m): row r's halves x[2r], x[2r + 1], spilled by the caller), out of line, one
   per common activation (a constant code reduces act_avx2 to its instructions) and one for the rest: inlined per
   (halves, rows, activation) the stores were ~50 KB. One call a tile, not one a row (4.6 KB less code) */
typedef void (*store_fn)(float *c, size_t ldc, const __m512 *x, const float *bias, int act, int m, int nv, __mmask16 k0,
                         __mmask16 k1, int res);
#define STORE_FN(NAME, A)                                                                                          \
  static __attribute__((noinline)) void NAME(float *c, size_t ldc, const __m512 *x, const float *bias, int act, int m, \
                                             int nv, __mmask16 k0, __mmask16 k1, int res) {                       \
    (void)act;                                                                                                    \
    for (int r = 0; r < m; r++) store_row_mask(c + r * ldc, x[2 * r], x[2 * r + 1], bias[r], A, nv, k0, k1, res); \
  }
STORE_FN(store_none, ACT_NONE)
STORE_FN(store_relu, ACT_RELU)
STORE_FN(store_relu6, ACT_RELU6)
STORE_FN(store_any, act)
#undef STORE_FN

/* gemm_u with nv (1 or 2) 16-wide halves of B and rr (4, 8 or 12) rows of A (both constants once inlined;
   rr >= m): row r of A at a + r*lda, by four pointers (rows 0-2, 3-5, 6-8, 9-11) and offsets of 0, 1 and 2
   rows, so only rows < rr are read; the k loop takes (kk, tap) in order, B of tap t at b + kk*ldb + boff[t]
   by masked loads (the lanes past n read as 0) */
static inline __attribute__((always_inline)) void gemm_u_nv(int nv, int rr, size_t k, size_t nt, const ptrdiff_t *boff,
                                                            const float *a, size_t lda, size_t ks, const float *b, size_t ldb, float *c,
                                                            size_t ldc, int m, __mmask16 k0, __mmask16 k1, const float *bias,
                                                            int act, int acc) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  if (acc == F32_ACC_RES)   /* the residual's lines (2 or 3 a row) owned by the time of the stores */
#pragma GCC unroll 16
    for (int r = 0; r < rr; r++)
      if (r < m) {
        __builtin_prefetch(c + r * ldc, 1, 3), __builtin_prefetch(c + r * ldc + 15, 1, 3);
        if (nv == 2) __builtin_prefetch(c + r * ldc + 16, 1, 3), __builtin_prefetch(c + r * ldc + 31, 1, 3);
      }
  if (acc == 1)
#pragma GCC unroll 16
    for (int r = 0; r < rr; r++)
      if (r < m) {
        c0[r] = _mm512_maskz_loadu_ps(k0, c + r * ldc);
        if (nv == 2) c1[r] = _mm512_maskz_loadu_ps(k1, c + r * ldc + 16);
      }
  const float *ap[4] = {a, a + 3 * lda, rr > 4 ? a + 6 * lda : a, rr > 8 ? a + 9 * lda : a};
/* one k step of the in place loops (A's rows lda apart, one float on) */
#define KSTEP(BT)                                                                     \
  do {                                                                                \
    __m512 b0 = _mm512_maskz_loadu_ps(k0, BT), b1 = nv == 2 ? _mm512_maskz_loadu_ps(k1, (BT) + 16) : b0; \
    _Pragma("GCC unroll 16") for (int r = 0; r < rr; r++) {                           \
      __m512 ar = _mm512_set1_ps(ap[r / 3][(size_t)(r % 3) * lda]);                   \
      c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);                                         \
      if (nv == 2) c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);                            \
    }                                                                                 \
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) ap[i]++;                      \
  } while (0)
  if (ks != 1) {   /* a GEMM on packed panels (nt 1, ks rr: whole, or f32_tail_rows) */
    const float *pa = a;   /* one stream: ks floats a step (lda 1; ks rr, or a file's panel of 32 rows read in place) */
    /* B's row PF_B steps on: in place (a 1x1 convolution's activations) each row is its own channel plane,
       more streams than the hardware prefetchers follow. Past the last row, the next tile's row (the caller's
       next call: the same rows, NR columns on; packed tiles follow each other, ldb NR): with a small K
       (MobileNetV2's K = 16 and 32 at 112x112) most of a tile's rows were not prefetched at all, and those
       layers took 1.15-1.5x their time */
    const size_t wrap = ldb == NR || k * ldb < NR ? 0 : k * ldb - NR;   /* (a LINEAR of one image: ldb 1, maybe k < NR) */
    /* a row's 32 floats off a line's start span three lines: where B's rows are (a 14x14 map's planes, 784
       bytes apart), its third is prefetched too. MobileNetV2's 14x14 1x1 layers 4-11% faster at batch 1 on
       two threads, ResNet50's 3-5% in two runs of three; where the rows are aligned (56x56, 28x28, packed
       tiles) nothing more */
    const int pf3 = nv == 2 && ((ldb & 15) || ((uintptr_t)b & 63));
    for (const float *bk = b, *be = b + k * ldb; bk != be; bk += ldb, pa += ks) {
      const float *pf = bk + PF_B * ldb;
      if (pf >= be) pf -= wrap;
      _mm_prefetch((const char *)pf, _MM_HINT_T0);
      if (nv == 2) _mm_prefetch((const char *)(pf + 16), _MM_HINT_T0);
      if (pf3) _mm_prefetch((const char *)(pf + 31), _MM_HINT_T0);
      __m512 b0 = _mm512_maskz_loadu_ps(k0, bk), b1 = nv == 2 ? _mm512_maskz_loadu_ps(k1, bk + 16) : b0;
#pragma GCC unroll 16
      for (int r = 0; r < rr; r++) {
        __m512 ar = _mm512_set1_ps(pa[r]);
        c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);
        if (nv == 2) c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
      }
      _mm_prefetch((const char *)(pa + PF_K * ks), _MM_HINT_T0);
    }
  } else   /* in place: the 3x3 taps unrolled on whole tiles; one tap (Winograd's products) without a tap loop on whole
              panels (edge panels: the loop over taps, 1.1 KB less code) */
    F32_GEMM_U_TAPS(nt == 9 && nv == 2 && rr == MR, nt == 1 && rr == MR);
#undef KSTEP
  int res = acc == F32_ACC_RES;
  if (nv == 2 && rr >= 8 && (act == ACT_NONE || act == ACT_RELU || act == ACT_RELU6)) {
    /* tiles of 12 and 8 rows (the common case; 8: a third of the tiles on a file's panels, a_tile): the stores inlined
       per common activation (the others, rare, out of line as the edge tiles': inlined, their whole act_avx2 was 8 KB
       of the kernel). Out of line, the 8-row tiles had cost ResNet50's 56x56 and 28x28 1x1 layers 2-7% */
#define STORE_ALL(A)                                                                                  \
  _Pragma("GCC unroll 16") for (int r = 0; r < rr; r++) if (r < m)                                    \
      store_row_mask(c + r * ldc, c0[r], c1[r], bias[r], A, 2, k0, k1, res)
    if (act == ACT_NONE) {
      STORE_ALL(ACT_NONE);
    } else if (act == ACT_RELU) {
      STORE_ALL(ACT_RELU);
    } else {
      STORE_ALL(ACT_RELU6);
    }
#undef STORE_ALL
    return;
  }
  store_fn st = act == ACT_NONE ? store_none : act == ACT_RELU ? store_relu : act == ACT_RELU6 ? store_relu6 : store_any;
  __m512 x[2 * MR];   /* edge tiles, rare activations: the rows spilled, one out-of-line call */
#pragma GCC unroll 16
  for (int r = 0; r < rr; r++) x[2 * r] = c0[r], x[2 * r + 1] = c1[r];
  st(c, ldc, x, bias, act, m, nv, k0, k1, res);
}

static void gemm_u(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, size_t lda, size_t ks, const float *b, size_t ldb,
                   float *c, size_t ldc, int m, int n, const float *bias, int act, int acc) {
  __mmask16 k0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1), k1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
#define NV(rr)                                                                             \
  do {                                                                                     \
    if (n > 16)                                                                            \
      gemm_u_nv(2, rr, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, k0, k1, bias, act, acc);    \
    else                                                                                   \
      gemm_u_nv(1, rr, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, k0, k1, bias, act, acc);    \
  } while (0)
  if (m <= 4)
    NV(4);
  else if (m <= 8)
    NV(8);
  else
    NV(MR);
#undef NV
}

/* ---- gemm_t: the transposed tile, TM pixels x TN channels (kernels_f32.h). Per k step two 16-wide loads of
   the packed weights (32 channels) and one broadcast per pixel feed 28 FMAs (28 accumulators: pixel r's 32
   channels in c0[r], c1[r]); then + bias, a 16x16 transpose per half (4 x 16 shuffles) and per channel one
   masked store of its pixels (+ C's values with a fused ADD, then the activation). Its tiles have no column
   waste where the pixels of a map are not a multiple of 32 (gemm_u computes 64 columns for a 7x7 map's 49, 224
   for 14x14's 196). */
enum { TM = 14, TN = 32 };

/* r[i] <- column i of the 16 x 16 matrix whose rows are r[0..15] */
static inline __attribute__((always_inline)) void transpose16(__m512 *r) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++)
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]), t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44), r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44), r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int q = 0; q < 4; q++) {   /* r[4 i + q], 128-bit lane L: rows 4i..4i+3 of column 4L + q */
    __m512 s0 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88), s1 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);
    __m512 s2 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88), s3 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
    t[q] = _mm512_shuffle_f32x4(s0, s2, 0x88), t[8 + q] = _mm512_shuffle_f32x4(s0, s2, 0xDD);
    t[4 + q] = _mm512_shuffle_f32x4(s1, s3, 0x88), t[12 + q] = _mm512_shuffle_f32x4(s1, s3, 0xDD);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) r[i] = t[i];
}

/* gemm_t's stores (out of line): acc[h][r] holds pixel r's sums of channels 16h..16h+15 (rows past TM zero);
   transposed by halves, per channel its pixels of pm: + bias (+ C's values), the activation; the rare ones by
   the edge tiles' store_any (the same operations) */
static __attribute__((noinline)) void gemm_t_store(__m512 (*acc)[16], float *c, size_t ldc, unsigned pm, int n,
                                                   const float *bias, int act, int res) {
  for (int h = 0; h < 2 && 16 * h < n; h++) {
    transpose16(acc[h]);
    for (int j = 0; j < 16 && 16 * h + j < n; j++) {
      float *cj = c + (size_t)(16 * h + j) * ldc;
      if (act != ACT_NONE && act != ACT_RELU && act != ACT_RELU6) {
        __m512 x[2] = {acc[h][j], acc[h][j]};
        store_any(cj, 0, x, bias + 16 * h + j, act, 1, 1, (__mmask16)pm, 0, res);
        continue;
      }
      __m512 y = _mm512_add_ps(acc[h][j], _mm512_set1_ps(bias[16 * h + j]));
      if (res) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps((__mmask16)pm, cj));
      _mm512_mask_storeu_ps(cj, (__mmask16)pm, act16_avx512(y, act));
    }
  }
}

/* rr pixels from the tile's pixel p0 on (TM from 0; TM / 2 from H when pm has none of the first TM / 2: a map's last
   tile of one run; 1 at 0 when pm is 1: a LINEAR's one image): pixel r of run r / H at (r < H ? x : x + x2off) +
   r % H, per k step (kk, tap t) + kk*ldx + boff[t] (H = TM / 2) */
static inline __attribute__((always_inline)) void gemm_t_rr(int rr, size_t k, size_t nt, const ptrdiff_t *boff, const float *w,
                                                            const float *x, size_t ldx, ptrdiff_t x2off, float *c, size_t ldc,
                                                            unsigned pm, int n, const float *bias, int act, int res,
                                                            const float *pf) {
  enum { H = TM / 2 };
  /* PD: one pixel's steps take 4 cycles (the FMAs' latency), so its weights are fetched 16 KiB on, not 2 (the pipeline
     model's LINEARs, Zen 4, one thread, 4 alternated runs: 128 steps 34-40 ms per 359 images, 16 steps 47-54). A tile's
     steps fetch 4 KiB on, not 2: ResNet18's 7x7 3x3 layers, whose 9.4 MB of weights a layer come from memory at batch 1,
     0.92-0.97x their time on 2 threads and 0.94-0.96x on one (this Xeon, 2026-12-06, per op, fastest of 5-6 alternated;
     8 KiB on: 0.92-0.97x, but its stem 1.04x); the other layers on gemm_t the same (Zen 4 not measured) */
  const int p0 = rr == 1 ? 0 : TM - rr, PD = rr == 1 ? 128 : 32;
  /* the pixels' rows, a plane apart: both lines of a tile's pixels (14 floats at 56-byte steps: 7 of a 14x14 map's 8
     rows cross a line), a 1x1's (nt 1) 32 planes on, an implicit convolution's 8. At batch 1 on two threads these
     planes are often the other core's (a depthwise op's output split by channels). This Xeon (2026-12-06, per op,
     fastest of 4-5 alternated, two threads): MobileNetV2's 14x14 projections 0.70-0.86x their time, its 7x7 ones
     0.88-0.93x, ResNet50's 14x14 1x1 layers 0.89-0.94x, its stride-2 3x3 layers 0.81x and 0.93x; one line (the
     first pixel's, 8 planes on, before; or 32 on) no gain; 16 or 48-64 planes on less (c/README.md) */
  const size_t XD = nt == 1 ? 32 : 8;
  __m512 c0[TM], c1[TM];
#pragma GCC unroll 16
  for (int r = 0; r < TM; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  const float *xk = x, *xk2 = x + x2off;   /* (two pointers: a register each, not 7 indices) */
  /* pf's lines, one a k step into L2 (_MM_HINT_T1); without pf the same line of w, already in L1, each step (one
     prefetch that finds its line: no second copy of the loop) */
  const char *pq = pf ? (const char *)pf : (const char *)w;
  const size_t ps = pf ? 64 : 0;
  for (size_t q = 0, t = 0, nq = k * nt; q < nq; q++, w += TN) {   /* one loop over (kk, t): nested, 1x1s were 10% slower */
    const float *p1 = xk + boff[t], *p2 = xk2 + boff[t];
    __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
    _mm_prefetch((const char *)(p1 + XD * ldx), _MM_HINT_T0);
    _mm_prefetch((const char *)(p2 + XD * ldx + TM / 2 - 1), _MM_HINT_T0);
    _mm_prefetch((const char *)(w + PD * TN), _MM_HINT_T0);    /* the weights PD steps on (from memory: a 7x7 */
    _mm_prefetch((const char *)(w + PD * TN + 16), _MM_HINT_T0);  /* layer's at batch 1, 3-10% faster with it) */
    _mm_prefetch(pq, _MM_HINT_T1);
    pq += ps;
#pragma GCC unroll 16
    for (int r = 0; r < rr; r++) {
      int px = p0 + r;   /* the tile's pixel */
      __m512 xr = _mm512_set1_ps(px < H ? p1[px] : p2[px - H]);
      c0[r] = _mm512_fmadd_ps(xr, w0, c0[r]);
      c1[r] = _mm512_fmadd_ps(xr, w1, c1[r]);
    }
    if (++t == nt) t = 0, xk += ldx, xk2 += ldx;
  }
  __m512 acc[2][16] __attribute__((aligned(64)));
  if (rr == 1) {   /* (a loop: the 1 MiB bound) */
#pragma GCC unroll 1
    for (int r = 1; r < 16; r++) acc[0][r] = acc[1][r] = _mm512_setzero_ps();
    acc[0][0] = c0[0], acc[1][0] = c1[0];
  } else
#pragma GCC unroll 16
  for (int r = 0; r < 16; r++) {   /* pixel r of the tile: c0[r - p0] */
    int i = r - p0;
    acc[0][r] = i >= 0 && i < rr ? c0[i] : _mm512_setzero_ps(), acc[1][r] = i >= 0 && i < rr ? c1[i] : _mm512_setzero_ps();
  }
  gemm_t_store(acc, c, ldc, pm, n, bias, act, res);
}

static void gemm_t(size_t k, size_t nt, const ptrdiff_t *boff, const float *w, const float *x, size_t ldx, ptrdiff_t x2off,
                   float *c, size_t ldc, unsigned pm, int n, const float *bias, int act, int res, const float *pf) {
  /* on maps of 128+ pixels, the lines the stores will write (a tile's 14 pixels of each of its channels, one or
     two lines) fetched for writing before the k loop, not missed at the end: the stems' outputs (112x112, into
     memory no layer has touched yet) were the case. One binary, the prefetch switched by the environment
     (2026-12-04, Zen 4, ABBA, fastest of 6-8): ResNet18 f32's stem at batch 1 0.92x its time on one thread,
     0.96x on two; ResNet50's 14x14 1x1 layers (gemm_t there on AMD) 0.95-0.98x on one thread, within the
     noise on two; 7x7 maps (planes under two lines, shared by the panel's channels) none: no gain there */
  if (ldc >= 128)
#pragma GCC unroll 1
    for (int j = 0; j < n; j++) __builtin_prefetch(c + j * ldc, 1, 3), __builtin_prefetch(c + j * ldc + TM - 1, 1, 3);
  if (pm == 1)   /* one pixel: a LINEAR at batch 1 (ops_f32.c lin_t) */
    gemm_t_rr(1, k, nt, boff, w, x, ldx, x2off, c, ldc, pm, n, bias, act, res, pf);
  else if (pm & ((1u << TM / 2) - 1))
    gemm_t_rr(TM, k, nt, boff, w, x, ldx, x2off, c, ldc, pm, n, bias, act, res, pf);
  else   /* only the last TM / 2 pixels stored: only they computed (ResNet50's 7x7 layers 4-8% faster so) */
    gemm_t_rr(TM / 2, k, nt, boff, w, x, ldx, x2off, c, ldc, pm, n, bias, act, res, pf);
}

const F32GemmDesc f32_gemm_12x32__avx512f_desc = {"f32_gemm_12x32__avx512f", MR, NR, NULL, f32_pack_a_panels, 1,
                                                  gemm_u, gemm_t, TM, TN, 1, f32_unpanel__avx2, NULL, 0};
