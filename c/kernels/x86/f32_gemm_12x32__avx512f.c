/* f32_gemm_12x32__avx512f: 12x32 GEMM micro-kernel, AVX-512F, 24 zmm accumulators (see kernels_f32.h);
 * per k: two 16-wide B loads and 12 broadcast A elements feed 24 FMAs (the loops are fully unrolled
 * and the accumulators stay in registers: no spill in the k loop at -O2). The epilogue (bias, then the
 * activation) runs on 8-wide quarters with the AVX2 helper, so it computes what the AVX2 kernel does.
 * 12 rows, not 8: on ResNet18's 3x3 layers (one thread, Sapphire Rapids) 5-9% faster overall, as
 * each B panel is streamed half as often as with 8; 8 wastes no rows on 64 channels (conv1, layer1).
 * The k loops prefetch A 64 steps ahead: a 7x7 layer's panels (512 x 9 x 12 floats) come from memory
 * once per image, and the prefetch made ResNet18's 512-channel 3x3 layers ~1.2x faster (one thread). */
#include <immintrin.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"

enum { MR = 12, NR = 32 };

static inline __attribute__((always_inline)) void store_row(float *c, __m512 x0, __m512 x1, float bias, int act) {
  /* row = act(x + bias), as four 8-wide stores */
  __m512 bb = _mm512_set1_ps(bias);
  x0 = _mm512_add_ps(x0, bb), x1 = _mm512_add_ps(x1, bb);
  __m256 y[4] = {_mm512_castps512_ps256(x0), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x0), 1)),
                 _mm512_castps512_ps256(x1), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x1), 1))};
  for (int h = 0; h < 4; h++) _mm256_storeu_ps(c + 8 * h, act_avx2(y[h], act));
}

static void gemm(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act,
                 int acc) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  if (acc) /* the sum so far, from C */
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) c0[r] = _mm512_loadu_ps(c + r * ldc), c1[r] = _mm512_loadu_ps(c + r * ldc + 16);
  for (size_t kk = 0; kk < k; kk++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      __m512 ar = _mm512_set1_ps(a[r]);
      c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]), c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
    }
    _mm_prefetch((const char *)(a + 64 * MR), _MM_HINT_T0);
    a += MR, b += NR;
  }
  /* one switch per tile: act_avx2 inlined with a constant code reduces to its instructions; the rarer
     activations: bias first, then one (not unrolled) pass of the activation, which keeps the code small */
#define STORE_ALL(A)                                                        \
  _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) store_row(c + r * ldc, c0[r], c1[r], bias[r], A)
  switch (act) {
  case ACT_NONE: STORE_ALL(ACT_NONE); break;
  case ACT_RELU: STORE_ALL(ACT_RELU); break;
  case ACT_RELU6: STORE_ALL(ACT_RELU6); break;
  default:
    STORE_ALL(ACT_NONE);
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j += 8) _mm256_storeu_ps(c + r * ldc + j, act_avx2(_mm256_loadu_ps(c + r * ldc + j), act));
    break;
  }
#undef STORE_ALL
}

/* gemm_ex's row r < m: act(x + bias) on the columns of masks k0 (0..15) and k1 (16..31), by 8-wide quarters
   with the AVX2 helper as store_row (the same values); nv: the 16-wide halves that hold columns */
static inline __attribute__((always_inline)) void store_row_mask(float *c, __m512 x0, __m512 x1, float bias, int act, int nv,
                                                                 __mmask16 k0, __mmask16 k1) {
  __m512 bb = _mm512_set1_ps(bias);
  __m512 x[2] = {_mm512_add_ps(x0, bb), _mm512_add_ps(x1, bb)};
  for (int h = 0; h < nv; h++) {
    __m256 lo = act_avx2(_mm512_castps512_ps256(x[h]), act);
    __m256 hi = act_avx2(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x[h]), 1)), act);
    __m512 y = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
    _mm512_mask_storeu_ps(c + 16 * h, h ? k1 : k0, y);
  }
}

/* the row store of edge tiles, out of line, one per common activation (a constant code reduces act_avx2
   to its instructions) and one for the rest: inlined per (halves, rows, activation) the stores were ~50 KB */
typedef void (*store_fn)(float *c, __m512 x0, __m512 x1, float bias, int act, int nv, __mmask16 k0, __mmask16 k1);
#define STORE_FN(NAME, A)                                                                                   \
  static __attribute__((noinline)) void NAME(float *c, __m512 x0, __m512 x1, float bias, int act, int nv,  \
                                             __mmask16 k0, __mmask16 k1) {                                 \
    (void)act;                                                                                             \
    store_row_mask(c, x0, x1, bias, A, nv, k0, k1);                                                        \
  }
STORE_FN(store_none, ACT_NONE)
STORE_FN(store_relu, ACT_RELU)
STORE_FN(store_relu6, ACT_RELU6)
STORE_FN(store_any, act)
#undef STORE_FN

/* gemm_ex (and gemm_taps: nt taps, B of tap t at b + boff[t], the panel's rows run on) with nv (1 or 2)
   16-wide halves of B and the first rr (4, 8 or 12) rows of the panel (both constants once inlined; rr >= m;
   the panel's stride: a partial panel is packed k x rr, F32GemmDesc.tail):
   the k loop of gemm on those rows only, with masked loads of B (the lanes past n read as 0, as the packer's
   zero padding) */
static inline __attribute__((always_inline)) void gemm_ex_nv(int nv, int rr, size_t k, size_t nt, const ptrdiff_t *boff,
                                                             const float *a, const float *b0_, size_t ldb, float *c, size_t ldc,
                                                             int m, __mmask16 k0, __mmask16 k1, const float *bias, int act,
                                                             int acc) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  if (acc)
#pragma GCC unroll 16
    for (int r = 0; r < rr; r++)
      if (r < m) {
        c0[r] = _mm512_maskz_loadu_ps(k0, c + r * ldc);
        if (nv == 2) c1[r] = _mm512_maskz_loadu_ps(k1, c + r * ldc + 16);
      }
  for (size_t t = 0; t < nt; t++)
    for (const float *b = b0_ + boff[t], *be = b + k * ldb; b != be; b += ldb) {
      __m512 b0 = _mm512_maskz_loadu_ps(k0, b), b1 = nv == 2 ? _mm512_maskz_loadu_ps(k1, b + 16) : b0;
#pragma GCC unroll 16
      for (int r = 0; r < rr; r++) {
        __m512 ar = _mm512_set1_ps(a[r]);
        c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);
        if (nv == 2) c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
      }
      _mm_prefetch((const char *)(a + 64 * MR), _MM_HINT_T0);
      a += rr;   /* a panel of m < MR rows is packed with rr of them (F32GemmDesc.tail) */
    }
  if (nv == 2 && rr == MR) {   /* whole tiles (the common case): the stores inlined per activation */
#define STORE_ALL(A)                                                                                  \
  _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) if (r < m)                                    \
      store_row_mask(c + r * ldc, c0[r], c1[r], bias[r], A, 2, k0, k1)
    switch (act) {
    case ACT_NONE: STORE_ALL(ACT_NONE); break;
    case ACT_RELU: STORE_ALL(ACT_RELU); break;
    case ACT_RELU6: STORE_ALL(ACT_RELU6); break;
    default: STORE_ALL(act); break;
    }
#undef STORE_ALL
    return;
  }
  store_fn st = act == ACT_NONE ? store_none : act == ACT_RELU ? store_relu : act == ACT_RELU6 ? store_relu6 : store_any;
#pragma GCC unroll 16
  for (int r = 0; r < rr; r++)   /* edge tiles: one out-of-line store per row */
    if (r < m) st(c + r * ldc, c0[r], c1[r], bias[r], act, nv, k0, k1);
}

static __attribute__((noinline)) void gemm_exn(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, const float *b, size_t ldb, float *c,
                     size_t ldc, int m, int n, const float *bias, int act, int acc) {
  __mmask16 k0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1), k1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
#define NV(rr)                                                                 \
  do {                                                                         \
    if (n > 16)                                                                \
      gemm_ex_nv(2, rr, k, nt, boff, a, b, ldb, c, ldc, m, k0, k1, bias, act, acc);      \
    else                                                                       \
      gemm_ex_nv(1, rr, k, nt, boff, a, b, ldb, c, ldc, m, k0, k1, bias, act, acc);      \
  } while (0)
  if (m <= 4)
    NV(4);
  else if (m <= 8)
    NV(8);
  else
    NV(MR);
#undef NV
}

static void gemm_ex(size_t k, const float *a, const float *b, size_t ldb, float *c, size_t ldc, int m, int n,
                    const float *bias, int act, int acc) {
  static const ptrdiff_t off0[1];
  gemm_exn(k, 1, off0, a, b, ldb, c, ldc, m, n, bias, act, acc);
}

static void gemm_taps(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, const float *b, size_t ldb, float *c,
                      size_t ldc, int m, int n, const float *bias, int act) {
  gemm_exn(k, nt, boff, a, b, ldb, c, ldc, m, n, bias, act, 0);
}

const F32GemmDesc f32_gemm_12x32__avx512f_desc = {"f32_gemm_12x32__avx512f", MR, NR, gemm, f32_pack_a_panels, gemm_ex,
                                                  gemm_taps, 1};
