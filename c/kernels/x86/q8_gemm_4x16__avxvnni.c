/* q8_gemm_4x16__avxvnni.c: int8 GEMMs on AVX-VNNI (VEX vpdpbusd and vpdpwssd on ymm: Intel's client and E-core parts
 * such as Alder Lake and the N100, which have them without AVX-512), on the AVX2 table's layouts and with its packers,
 * quantization and im2col (q8_gemm_4x16__avx2.c).
 * sq8: the unsigned quads (q8_uq__avx2.h: X as x + 128, weights in quads, -128 x each row's sum in the tile's header);
 * vpdpbusd adds the four products of a quad into int32 without vpmaddubsw's int16 saturation, so a tile's quads are the
 * weights as they are (whole: no corrections, 1 byte a weight), and one instruction does what vpmaddubsw, vpmaddwd and
 * vpaddd did. The same int32 sums, then the same epilogue (q8_epi4x16__avx2.h): the same bytes as the reference.
 * dq8: the i16x2 layout's tile and GEMM (q8_i16x2__avx2.h) with vpdpwssd for vpmaddwd and vpaddd: the same sums and
 * floats. */
#include <immintrin.h>
#include <string.h>
#include "../../src/kernels_q8.h"
#include "q8_epi4x16__avx2.h"
#define Q8_UQ_DOT(s, x, a) _mm256_dpbusd_avx_epi32(s, x, a)
#include "q8_uq__avx2.h"
#define Q8_I16X2_DOT(c, a, x) _mm256_dpwssd_avx_epi32(c, a, x)
#include "q8_i16x2__avx2.h"

#if Q8_MR != 4 || Q8_NR != 16
#error "the AVX-VNNI micro-kernel is written for a 4x16 tile"
#endif

/* the sums of a whole tile's 4 rows x 16 columns on panel X (kq quads), comp added: 8 accumulators, a quad's 16
   columns in two vectors, each row's quad broadcast; the next tile's quads prefetched a line every 4 quads. Its own
   loop, not one shared with the AVX2 file's uq_tile through Q8_UQ_DOT: shared (with uq_tile's pass loop), GCC kept two
   of the accumulators on the stack, loaded and stored every quad, and ResNet18 sq8 took 1.77x its time on one thread
   (Zen 5, 6 processes each alternated) */
static inline __attribute__((always_inline)) void uqw_tile(size_t kq, const uint8_t *T, const uint8_t *X, __m256i c[4][2]) {
  __m256i c0l = _mm256_setzero_si256(), c0h = c0l, c1l = c0l, c1h = c0l, c2l = c0l, c2h = c0l, c3l = c0l, c3h = c0l;
  const uint8_t *a = T + UQ_HDR;
  for (size_t k = 0; k < kq; k++) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(X + 64 * k)), hi = _mm256_loadu_si256((const __m256i *)(const void *)(X + 64 * k + 32));
    const uint8_t *ak = a + 16 * k;
    if (k % 4 == 0) _mm_prefetch((const char *)(ak + uqw_tile_bytes(kq)), _MM_HINT_T0);
    __m256i a0 = _mm256_set1_epi32(*(const int32_t *)(const void *)ak), a1 = _mm256_set1_epi32(*(const int32_t *)(const void *)(ak + 4));
    c0l = _mm256_dpbusd_avx_epi32(c0l, lo, a0), c0h = _mm256_dpbusd_avx_epi32(c0h, hi, a0);
    c1l = _mm256_dpbusd_avx_epi32(c1l, lo, a1), c1h = _mm256_dpbusd_avx_epi32(c1h, hi, a1);
    __m256i a2 = _mm256_set1_epi32(*(const int32_t *)(const void *)(ak + 8)), a3 = _mm256_set1_epi32(*(const int32_t *)(const void *)(ak + 12));
    c2l = _mm256_dpbusd_avx_epi32(c2l, lo, a2), c2h = _mm256_dpbusd_avx_epi32(c2h, hi, a2);
    c3l = _mm256_dpbusd_avx_epi32(c3l, lo, a3), c3h = _mm256_dpbusd_avx_epi32(c3h, hi, a3);
  }
  c[0][0] = c0l, c[0][1] = c0h, c[1][0] = c1l, c[1][1] = c1h, c[2][0] = c2l, c[2][1] = c2h, c[3][0] = c3l, c[3][1] = c3h;
#pragma GCC unroll 4
  for (int r = 0; r < 4; r++) {
    __m256i cv = _mm256_set1_epi32(*(const int32_t *)(const void *)(T + 4 * r));
    c[r][0] = _mm256_add_epi32(c[r][0], cv), c[r][1] = _mm256_add_epi32(c[r][1], cv);
  }
}

Q8_UQ_SQ8_GEMM(uqw_sq8_gemm, uqw_tile, uq_cols_nc, uqw_tile_bytes)

const Q8Kernels q8_gemm_4x16u__avxvnni_desc = {"q8_gemm_4x16u__avxvnni", "avxvnni", Q8_MR, Q8_NR, 4, 1, q8_uqw_a_elems__avx2,
                                               q8_uqw_pack_w__avx2, q8_uq_put_x__avx2, q8_uq_get_x__avx2, q8_uq_im2col_i8__avx2,
                                               NULL, uqw_sq8_gemm, NULL, q8_uq_im2col_cols__avx2, NULL, NULL, NULL, 0, 0, NULL, NULL, 0,
                                               NULL, 0, NULL, NULL, NULL, NULL, q8_uqw_pack_w_blk__avx2, 0};

static void dq8_gemm_avxvnni(const Q8Gemm *g, const Q8Dq8Epi *e) { dq8_gemm_4x16(g, e); }

/* dq8: the AVX2 table's i16x2 descriptor but for the GEMM (and no sq8 GEMM: sq8 takes the one above) */
const Q8Kernels q8_gemm_4x16__avxvnni_dq8_desc = {"q8_gemm_4x16__avxvnni_dq8", "avxvnni", Q8_MR, Q8_NR, 2, 2, q8_packed_size,
                                                  q8_pack_weights, q8_put_x_i16x2, q8_get_x_i16x2, q8_im2col_i8_i16x2__avx2,
                                                  q8_dq8_quant__avx2, NULL, dq8_gemm_avxvnni, q8_im2col_cols_i16x2__avx2, NULL, NULL,
                                                  NULL, 0, 0, q8_dq8_quant_g__avx2, q8_dq8_conv_quant__avx2, 0, NULL, 0, NULL, NULL,
                                                  NULL, NULL, q8_pack_w_blk_i16x2__avx2, 0};
