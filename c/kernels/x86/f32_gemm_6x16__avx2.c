/* f32_gemm_6x16__avx2: 6x16 GEMM micro-kernel, AVX2 + FMA, 12 accumulators (see kernels_f32.h); one entry,
 * gemm_u, as the AVX-512 kernel's: A read where it lies (the weights in the model file's map, an implicit
 * convolution's taps by channel; or a panel packed by f32_pack_a_tail for 1x1 convolutions and LINEAR), B in place.
 * Until 2026-12-05 this table had gemm only (packed A and B panels): every convolution went through im2col, and
 * every weight was packed at start-up. */
#include <immintrin.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"
#include "store8__avx2.h"
#include "f32_gemm_u_taps.h"

enum { MR = 6, NR = 16 };

/* ---- gemm_u (kernels_f32.h): a tile of rows [0, m) and columns [0, n) with A read where it lies (the weights in
   the model file's map, K floats a row, or a panel packed by f32_pack_a_tail, ks floats a k step) and B in place
   (an activation, padded planes, a Winograd matrix). The loop of the gemm it replaced, 12 accumulators: per k step one or
   two 8-wide B loads and one broadcast a row. The sum over (kk, tap) in that order, fused multiply-adds from 0
   (or from C: acc 1), then + bias, (+ C: F32_ACC_RES), then the activation: the values of the reference and of
   the AVX-512 kernel, bit for bit. Columns past n by masked loads (vmaskmovps: none read) and st8_n's stores;
   rows past m never stored, and only rows < rr read: m rounded up to 2 (a file's panel of 32 rows read by tiles of
   6 ends with one of 2 rows at row 30; f32_tail_rows(2, 6) would be 4). */
enum { PF_B = 16 };   /* packed A: B's prefetch distance in k steps (as the AVX-512 kernel's) */
/* packed A: A's own prefetch distance in k steps (64 x 6 floats: 1.5 KiB on, a line a k step). At batch 1 a layer's
   weights come from memory or L3, a panel's K chunk at a time; alone, with the weights flushed, a 320 x 960 layer on
   49 columns took ~1.6x its time with them in L3. Zen 3, one thread (per-op minima of 12 processes alternated,
   2026-12-07): MobileNetV2's 7x7 1x1 layers 0.90-0.97x their time, its 14x14 ones 0.95-0.99x, ResNet50's 7x7 1x1
   layers 0.90-0.97x; 128 steps on no better, 32 worse; the same prefetch for the in-place 3x3 taps' six rows
   1.01-1.07x slower (ResNet18): not there */
enum { PF_A = 64 };

static inline __attribute__((always_inline)) __m256 ld8(const float *p, __m256i mk, int full) {
  return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mk);
}

/* row r's halves: act((x + bias) [+ c]) stored on its columns < n (the masks' for the loads of c) */
static inline __attribute__((always_inline)) void store_row_u(float *c, __m256 x0, __m256 x1, float bias, int act, int nv,
                                                              int full, __m256i mk0, __m256i mk1, int res, int n) {
  __m256 bb = _mm256_set1_ps(bias), x[2] = {_mm256_add_ps(x0, bb), _mm256_add_ps(x1, bb)};
  for (int h = 0; h < nv; h++) {
    __m256i mk = h ? mk1 : mk0;
    if (res) x[h] = _mm256_add_ps(x[h], ld8(c + 8 * h, mk, full || (h == 0 && nv == 2)));
    x[h] = act8_avx2(x[h], act);
    if (full) _mm256_storeu_ps(c + 8 * h, x[h]);
    else st8_n(c + 8 * h, x[h], n - 8 * h);   /* (h 1: n > 8) */
  }
}

/* nv (1 or 2) 8-wide halves of B, full (all 16 columns: plain loads and stores), rr (2, 4 or 6) rows of A read: all
   constants once inlined. Rows of A in place by two pointers (rows 0-2, 3-5) and offsets of 0, 1 and 2 rows */
static inline __attribute__((always_inline)) void gemm_u_nv(int nv, int full, int rr, size_t k, size_t nt, const ptrdiff_t *boff,
                                                            const float *a, size_t lda, size_t ks, const float *b, size_t ldb,
                                                            float *c, size_t ldc, int m, int n, __m256i mk0, __m256i mk1,
                                                            const float *bias, int act, int acc) {
  /* two halves (n > 8): the first whole, by plain loads. With both masks live, a k step of the masked tile needed 17
     vector registers (12 sums, 2 masks, 2 of B, a broadcast) and GCC spilled: a call on 9-15 columns took ~3x one
     on 16 (Winograd's blocks of 28 and 25 tiles: its products at 14-15 flop a TSC cycle, 30-34 on 32 columns) */
  const int full0 = full || nv == 2;
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm256_setzero_ps();
  if (acc == 1)
#pragma GCC unroll 6
    for (int r = 0; r < rr; r++)
      if (r < m) {
        c0[r] = ld8(c + r * ldc, mk0, full0);
        if (nv == 2) c1[r] = ld8(c + r * ldc + 8, mk1, full);
      }
  const float *ap[2] = {a, rr > 3 ? a + 3 * lda : a};
#define KSTEP(BT)                                                                    \
  do {                                                                               \
    __m256 b0 = ld8(BT, mk0, full0), b1 = nv == 2 ? ld8((BT) + 8, mk1, full) : b0;   \
    _Pragma("GCC unroll 6") for (int r = 0; r < rr; r++) {                           \
      __m256 ar = _mm256_broadcast_ss(ap[r / 3] + (size_t)(r % 3) * lda);            \
      c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);                                        \
      if (nv == 2) c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);                           \
    }                                                                                \
    ap[0]++, ap[1]++;                                                                \
  } while (0)
  if (ks != 1) {   /* packed (nt 1): one stream of ks floats a k step */
    const float *pa = a;
    /* B's row PF_B steps on, past the last row the caller's next tile's (NR columns on) */
    const size_t wrap = ldb == NR || k * ldb < NR ? 0 : k * ldb - NR;
    for (const float *bk = b, *be = b + k * ldb; bk != be; bk += ldb, pa += ks) {
      const float *pf = bk + PF_B * ldb;
      if (pf >= be) pf -= wrap;
      _mm_prefetch((const char *)pf, _MM_HINT_T0);
      _mm_prefetch((const char *)(pa + PF_A * ks), _MM_HINT_T0);
      if (nv == 2) _mm_prefetch((const char *)(pf + 15), _MM_HINT_T0);
      __m256 b0 = ld8(bk, mk0, full0), b1 = nv == 2 ? ld8(bk + 8, mk1, full) : b0;
#pragma GCC unroll 6
      for (int r = 0; r < rr; r++) {
        __m256 ar = _mm256_broadcast_ss(pa + r);
        c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);
        if (nv == 2) c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);
      }
    }
  } else   /* in place (the 3x3 taps unrolled on whole tiles) */
    F32_GEMM_U_TAPS(nt == 9 && nv == 2 && full && rr == MR, nt == 1);
#undef KSTEP
  int res = acc == F32_ACC_RES;
#pragma GCC unroll 6
  for (int r = 0; r < rr; r++)
    if (r < m) store_row_u(c + r * ldc, c0[r], c1[r], bias[r], act, nv, full, mk0, mk1, res, n);
}

static void gemm_u(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, size_t lda, size_t ks, const float *b, size_t ldb,
                   float *c, size_t ldc, int m, int n, const float *bias, int act, int acc) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mk0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx), mk1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), idx);
#define RR(nv, full)                                                                                      \
  do {                                                                                                    \
    if (m <= 2)                                                                                           \
      gemm_u_nv(nv, full, 2, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, mk0, mk1, bias, act, acc);    \
    else if (m <= 4)                                                                                      \
      gemm_u_nv(nv, full, 4, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, mk0, mk1, bias, act, acc);    \
    else                                                                                                  \
      gemm_u_nv(nv, full, MR, k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, mk0, mk1, bias, act, acc);   \
  } while (0)
  if (n >= NR)
    RR(2, 1);
  else if (n > 8)
    RR(2, 0);
  else
    RR(1, 0);
#undef RR
}

/* ---- gemm_cols (kernels_f32.h): a map's last n <= 2 columns (a 7x7 map's 49th, a LINEAR's one) for whole packed
   panels, the panel's 6 rows in one vector's lanes 0-5 and each (panel, column) one chain of fused multiply-adds over
   k: NP panels at once, NP * n = 8 chains, so the chains' latency is covered. gemm_u's
   tile of 8-wide halves takes such a tail as 6 chains of one FMA a k step (4 cycles a step on Zen 3, FMA latency) for
   n of its 8 lanes; here a step is NP loads of 8 floats (a panel's k step and 2 of the next; the last step masked), n
   broadcasts and NP * n FMAs. Each output the same fused multiply-adds in the same order as gemm_u's, then + bias,
   [+ C], act: the same floats */
/* a column's 6 rows ld apart, in lanes 0-5 */
static inline __attribute__((always_inline)) __m256 col_ld6(const float *p, size_t ld) {
  return _mm256_setr_ps(p[0], p[ld], p[2 * ld], p[3 * ld], p[4 * ld], p[5 * ld], 0.0f, 0.0f);
}
static inline __attribute__((always_inline)) void cols_np(int n, int np, int npv, size_t k, const float *a, size_t ps,
                                                           const float *b, size_t ldb, float *c, size_t ldc, const float *bias,
                                                           int act, int acc) {
  /* np panels computed (the vectors' count, constant), npv of them valid and stored: the others repeat panel 0 */
  const __m256i m6 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
  const float *ap[8];
  __m256 s[8];
#pragma GCC unroll 8
  for (int q = 0; q < np; q++) ap[q] = a + (q < npv ? (size_t)q * ps : 0);
#pragma GCC unroll 8
  for (int q = 0; q < np; q++)
#pragma GCC unroll 4
    for (int j = 0; j < n; j++)
      s[q * n + j] = acc == 1 && q < npv ? col_ld6(c + (size_t)q * MR * ldc + j, ldc) : _mm256_setzero_ps();
  size_t kk = 0;
  for (; kk + 1 < k; kk++) {
    __m256 av[8];
#pragma GCC unroll 8
    for (int q = 0; q < np; q++) av[q] = _mm256_loadu_ps(ap[q] + kk * MR);
#pragma GCC unroll 4
    for (int j = 0; j < n; j++) {
      __m256 bj = _mm256_broadcast_ss(b + kk * ldb + j);
#pragma GCC unroll 8
      for (int q = 0; q < np; q++) s[q * n + j] = _mm256_fmadd_ps(av[q], bj, s[q * n + j]);
    }
  }
  if (k) {   /* the last step: a panel's last 6 floats, none past them */
#pragma GCC unroll 8
    for (int q = 0; q < np; q++) {
      __m256 av = _mm256_maskload_ps(ap[q] + kk * MR, m6);
#pragma GCC unroll 4
      for (int j = 0; j < n; j++) s[q * n + j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + kk * ldb + j), s[q * n + j]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < npv; q++) {
    __m256 bb = bias ? _mm256_maskload_ps(bias + (size_t)q * MR, m6) : _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int j = 0; j < n; j++) {
      float *cq = c + (size_t)q * MR * ldc + j, t[8];
      __m256 x = _mm256_add_ps(s[q * n + j], bb);
      if (acc == F32_ACC_RES) x = _mm256_add_ps(x, col_ld6(cq, ldc));
      _mm256_storeu_ps(t, act8_avx2(x, act));
      for (int r = 0; r < MR; r++) cq[(size_t)r * ldc] = t[r];
    }
  }
}

/* NP panels a group by n: 8 and 4 (8 chains). Standalone (K = 480, panels in L2, Zen 3): a panel's k step 0.92 TSC
   cycles for one column and 1.60 for two, where gemm_u's half tile took 4.9 and its whole tile of 16 columns 5.8; four
   columns took 3.2, and a 14x14 map's last 4 were not measurably faster in the network: not taken */
static void gemm_cols(size_t k, const float *a, size_t ps, size_t np, const float *b, size_t ldb, float *c, size_t ldc, int n,
                      const float *bias, int act, int acc) {
  size_t NP = n == 1 ? 8 : 4;
  for (size_t q = 0; q < np && (n == 1 || n == 2); q += NP) {
    int v = np - q < NP ? (int)(np - q) : (int)NP;
    const float *bq = bias ? bias + q * MR : NULL;
    if (n == 1) cols_np(1, 8, v, k, a + q * ps, ps, b, ldb, c + q * MR * ldc, ldc, bq, act, acc);
    else cols_np(2, 4, v, k, a + q * ps, ps, b, ldb, c + q * MR * ldc, ldc, bq, act, acc);
  }
}

/* the file's panels to rows: each panel's 8 x 8 blocks (8 k steps of 8 rows, 8 loads) transposed in registers and
   stored as 8 rows' 8 columns; the rows past a multiple of 8 and the columns past one of 8, one float at a time (the
   reference's scalar transposition: a line of 32 floats read for each float it took; ResNet18's 3x3 layers are 33 MiB
   of such rows) */
static void unpanel_rows(const float *w, size_t M, size_t K, float *ap) {
  size_t K8 = K / 8 * 8;
  for (size_t r0 = 0; r0 < M; r0 += 32) {
    size_t n = M - r0 < 32 ? M - r0 : 32, n8 = n / 8 * 8;
    const float *pw = w + r0 * K;
    float *d = ap + r0 * K;
    for (size_t kb = 0; kb < K8; kb += 8)
      for (size_t r = 0; r < n8; r += 8) {
        const float *s = pw + kb * 32 + r;
        __m256 t0 = _mm256_unpacklo_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 32));
        __m256 t1 = _mm256_unpackhi_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 32));
        __m256 t2 = _mm256_unpacklo_ps(_mm256_loadu_ps(s + 64), _mm256_loadu_ps(s + 96));
        __m256 t3 = _mm256_unpackhi_ps(_mm256_loadu_ps(s + 64), _mm256_loadu_ps(s + 96));
        __m256 t4 = _mm256_unpacklo_ps(_mm256_loadu_ps(s + 128), _mm256_loadu_ps(s + 160));
        __m256 t5 = _mm256_unpackhi_ps(_mm256_loadu_ps(s + 128), _mm256_loadu_ps(s + 160));
        __m256 t6 = _mm256_unpacklo_ps(_mm256_loadu_ps(s + 192), _mm256_loadu_ps(s + 224));
        __m256 t7 = _mm256_unpackhi_ps(_mm256_loadu_ps(s + 192), _mm256_loadu_ps(s + 224));
        /* t0 = k0r0 k1r0 k0r1 k1r1 | k0r4 k1r4 k0r5 k1r5; 4-element groups of two k pairs each */
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        /* u0 = row 0's k 0-3 | row 4's k 0-3, u1 rows 1 | 5, u2 rows 2 | 6, u3 rows 3 | 7; u4-u7 the same for k 4-7 */
        float *o = d + r * K + kb;
        _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(o + K, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(o + 2 * K, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(o + 3 * K, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(o + 4 * K, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(o + 5 * K, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(o + 6 * K, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(o + 7 * K, _mm256_permute2f128_ps(u3, u7, 0x31));
      }
    for (size_t r = 0; r < n; r++)
      for (size_t kk = r < n8 ? K8 : 0; kk < K; kk++) d[r * K + kk] = pw[kk * 32 + r];
  }
}

/* f32_unpanel_fn (the AVX-512 table's too). Panels of mr <= 8 rows: a panel's R rows (f32_tail_rows for a last one)
   are R consecutive floats of a k step of the file's panel, or of two where they straddle a multiple of 32, and the
   panel's k steps are consecutive runs of R floats. A k step but the last is one or two plain loads of 8 floats (a k
   step's 32 floats and the next's: all there, as k + 1 < K) with the lanes of other rows and of rows past M cleared,
   and one plain store of 8 floats (the 8 - R past the step's R are the next step's, which its store writes after);
   the last is masked loads (lanes past M read nothing) and a masked store of R floats. The reference's gather read
   one float at a time, ResNet50's 1x1 layers 17 MiB of them. Zen 3, two threads, medians of 10: ResNet50 f32's build
   63 -> 34 ms so, 64 -> 46 with a masked load and store (vmaskmovps) on every step */
void f32_unpanel__avx2(const float *w, size_t M, size_t K, int mr, int tail, float *ap) {
  if (mr == 1) { unpanel_rows(w, M, K, ap); return; }
  if (mr > 8) { f32_pack_a_tail(w, M, K, mr, tail, 32, ap); return; }
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t row0 = 0; row0 < M; row0 += (size_t)mr) {
    int R = row0 + (size_t)mr >= M && tail ? f32_tail_rows((int)(M - row0), mr) : mr;   /* the panel's stride */
    int n = M - row0 < (size_t)mr ? (int)(M - row0) : mr, a = 32 - (int)(row0 % 32);   /* rows in M; in the first file panel */
    const float *p1 = w + row0 / 32 * 32 * K + row0 % 32, *p2 = p1 + 32 * K - 32;   /* lane l's float: p1[l] or p2[l] */
    __m256i st = _mm256_cmpgt_epi32(_mm256_set1_epi32(R), idx);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n < a ? n : a), idx);
    __m256i m2 = _mm256_andnot_si256(m1, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx));
    __m256 f1 = _mm256_castsi256_ps(m1), f2 = _mm256_castsi256_ps(m2);
    float *o = ap + row0 * K;   /* (the panels before it are mr rows each) */
    size_t kk = 0;
    if (n <= a)
      for (; kk + 1 < K; kk++) _mm256_storeu_ps(o + kk * (size_t)R, _mm256_and_ps(_mm256_loadu_ps(p1 + kk * 32), f1));
    else
      for (; kk + 1 < K; kk++)
        _mm256_storeu_ps(o + kk * (size_t)R, _mm256_or_ps(_mm256_and_ps(_mm256_loadu_ps(p1 + kk * 32), f1),
                                                          _mm256_and_ps(_mm256_loadu_ps(p2 + kk * 32), f2)));
    _mm256_maskstore_ps(o + kk * (size_t)R, st,
                        _mm256_or_ps(_mm256_maskload_ps(p1 + kk * 32, m1), _mm256_maskload_ps(p2 + kk * 32, m2)));
  }
}

const F32GemmDesc f32_gemm_6x16__avx2_desc = {"f32_gemm_6x16__avx2", MR, NR, NULL, f32_pack_a_panels, 1, gemm_u, NULL, 0, 0, 0,
                                              f32_unpanel__avx2, gemm_cols, 1};
