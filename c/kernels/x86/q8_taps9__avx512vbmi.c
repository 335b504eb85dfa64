/* q8_taps9__avx512vbmi.c: one output channel's 3x3 convolution weights, as the file holds them (input
 * channel-major: byte 9 c + t is channel c, tap t), to tap-major (byte 64 t + c), 64 channels a call:
 * the step of the implicit convolutions' weight packing (pack_conv of q8_gemm_32x32__amx.c and
 * q8_gemm_8x32__avx512vnni.c) that went a byte at a time, ~5 ms of CPU in each ResNet18 sq8 start-up.
 * The 9 x 64 bytes lie in 9 registers; tap t's byte c is byte 9 c + t, in register (9 c + t) / 64 at
 * (9 c + t) mod 64: one merge-masked vpermb per register (lanes c with 64 j <= 9 c + t < 64 (j + 1)
 * from register j; the index 9 c + t mod 256 as a byte, of which vpermb reads the low 6 bits). */
#include <immintrin.h>

#include "../../src/kernels_q8.h"

int q8_vbmi = -1;

__attribute__((cold)) void q8_taps9_init(Q8Taps9 *T) {
  for (int t = 0; t < 9; t++) {
    for (int c = 0; c < 64; c++) T->idx[t][c] = (int8_t)(9 * c + t);
    for (int j = 0; j < 9; j++) {   /* lanes [lo, hi) */
      int lo = 64 * j - t <= 0 ? 0 : (64 * j - t + 8) / 9, hi = (64 * (j + 1) - t + 8) / 9;
      hi = hi > 64 ? 64 : hi;
      T->mk[t][j] = hi <= lo ? 0 : (hi - lo == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (hi - lo)) - 1) << lo);
    }
  }
}

void q8_taps9__avx512vbmi(const Q8Taps9 *T, const int8_t *w, int n, int8_t out[9][64]) {
  size_t nb = 9 * (size_t)(n < 64 ? n : 64);
  __m512i in[9];
  for (int j = 0; j < 9; j++) {   /* zero past n channels: lanes c >= n read only those bytes */
    size_t left = nb > 64 * (size_t)j ? nb - 64 * (size_t)j : 0;
    in[j] = _mm512_maskz_loadu_epi8(left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1), w + 64 * j);
  }
  for (int t = 0; t < 9; t++) {
    __m512i idx = _mm512_loadu_si512(T->idx[t]), v = _mm512_setzero_si512();
#pragma GCC unroll 9
    for (int j = 0; j < 9; j++) v = _mm512_mask_permutexvar_epi8(v, (__mmask64)T->mk[t][j], idx, in[j]);
    _mm512_storeu_si512(out[t], v);
  }
}
