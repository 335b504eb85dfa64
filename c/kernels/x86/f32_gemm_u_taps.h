/* f32_gemm_u_taps.h: gemm_u's loops over A in place, the same in both x86 kernels (f32_gemm_12x32__avx512f.c,
 * f32_gemm_6x16__avx2.c; each defines KSTEP(B's pointer), one (kk, tap) step of its tile, and has k, nt, boff, b and
 * ldb in scope): the k steps, B's rows ldb apart, and in each the taps t < nt at boff[t], in that order. NINE: the 3x3
 * taps unrolled, their offsets loaded once; ONE: one tap, no tap loop (Winograd's products); else the loop over taps. */
#ifndef TINYRUNTIME_F32_GEMM_U_TAPS_H
#define TINYRUNTIME_F32_GEMM_U_TAPS_H
#define F32_GEMM_U_TAPS(NINE, ONE)                                                      \
  do {                                                                                  \
    if (NINE) {                                                                         \
      ptrdiff_t o_[9];                                                                  \
      _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) o_[t] = boff[t];              \
      for (const float *bk = b, *be = b + k * ldb; bk != be; bk += ldb)                 \
        _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) KSTEP(bk + o_[t]);          \
    } else if (ONE) {                                                                   \
      const float *b0_ = b + boff[0];                                                   \
      for (const float *bk = b0_, *be = b0_ + k * ldb; bk != be; bk += ldb) KSTEP(bk);  \
    } else                                                                              \
      for (const float *bk = b, *be = b + k * ldb; bk != be; bk += ldb)                 \
        for (size_t t = 0; t < nt; t++) KSTEP(bk + boff[t]);                            \
  } while (0)
#endif
