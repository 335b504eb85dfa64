/* f32_dwconv__avx2: one channel plane of a depthwise convolution, AVX2 (see kernels_f32.h); the
 * AVX-512F kernel's scheme on 8-wide vectors. Output rows are done RB at a time and each row 8 columns
 * at a time, the last vector masked, so a 7 or 14 wide plane is one or two vectors per row and RB
 * independent accumulators hide the FMA latency. Every input vector is a masked load (vmaskmovps):
 * lanes outside the row (the padding) or past the output read nothing and give 0, and a window row
 * outside the input reads a row of zeros, so one branch-free path serves the interior and the border.
 * Stride 2 loads the 16 inputs of 8 outputs as two vectors and keeps the even ones. The 3x3 window
 * (dilation 1, the same stride both ways) loads each input row once per kx for all the outputs it
 * feeds. Each output is one sum over ky then kx in increasing order of fused multiply-adds (the
 * reference's order; a tap in the padding adds w * 0), then + bias, then the activation. Other
 * strides, and planes over ZW wide, go through the scalar path. The outputs by plain stores (st8_n: a row's last
 * vector of a 7 or 14 wide plane in pieces of 4, 2 and 1 floats): until 2026-12-07 every output vector was a masked
 * store (vmaskmovps), ~11 cycles each on Zen 3, and MobileNetV2's depthwise layers took 1.3-1.4x their time
 * (f32, one thread, 20 images, fastest per op of 8 processes alternated ABBA; the outputs the same bytes). */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"
#include "store8__avx2.h"

enum { RB = 4 };     /* output rows per block: 4 accumulators (block3's register barrier names 4). 6 until 2026-12-06: MobileNetV2's blocks give it bands of 8 rows
                        (IRB_RB, the AVX-512 kernel's block), which 6 computed as 12; Zen 3, MobileNetV2 f32 on one thread,
                        CPU time of 20 images (2 runs each): 302-305 ms, against 359-426 (RB 6) and 338-399 (RB 8) */
_Static_assert(RB == 4, "block3's register barrier names 4 sums");
enum { ZW = 4096 };  /* a window row outside the input reads this row of zeros (planes up to ZW wide) */
static float g_zeros[ZW]; /* read only; not const, so it is zero-filled .bss rather than 16 KB of file */

/* lanes i of an 8-wide window at input column p with 0 <= p + i < lim (all ones where so) */
static inline __m256i span(long p, long lim) {
  long lo = p < 0 ? -p : 0, hi = lim - p;
  if (hi > 8) hi = 8;
  if (lo > 8) lo = 8;
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), iota),
                          _mm256_cmpgt_epi32(iota, _mm256_set1_epi32((int)lo - 1)));
}

/* the lanes to load for cnt outputs whose first input is column p: m[0] (stride 1: columns p..),
   or m[0], m[1] (stride 2: the two vectors at p and p + 8, of which the even columns are kept) */
static inline void masks(long p, long W, int cnt, int sw, __m256i m[2]) {
  long need = sw == 1 ? cnt : 2 * cnt - 1, lim = p + need < W ? p + need : W;
  m[0] = span(p, lim), m[1] = sw == 1 ? _mm256_setzero_si256() : span(p + 8, lim);
}

/* the inputs of one row (x = row + p) under the masks m */
static inline __m256 load_x(const float *x, const __m256i m[2], int sw) {
  if (sw == 1) return _mm256_maskload_ps(x, m[0]);
  __m256 a = _mm256_maskload_ps(x, m[0]), b = _mm256_maskload_ps(x + 8, m[1]);
  __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* out rows [oy0, oy0 + RB) (those < OH), columns [ox, ox + cnt) = act(acc + bias) */
static inline __attribute__((always_inline)) void store_rows(float *out, const F32DwShape *s, int oy0, int ox, int cnt,
                                                             const __m256 acc[RB], float bias, int act) {
  __m256 vb = _mm256_set1_ps(bias);
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++)
    if (oy0 + r < s->OH) st8_n(out + (size_t)(oy0 + r) * s->OW + ox, act8_avx2(_mm256_add_ps(acc[r], vb), act), cnt);
}

/* rows [oy0, oy0 + RB) (those < OH) x columns [ox, ox + cnt), cnt <= 8. A row of the window outside
   the input reads the row of zeros (w * 0 added), so the RB accumulators need no branch and every
   row of one tap takes the same column mask. */
static __attribute__((noinline)) void block(const float *in, const float *w, float bias, float *out,
                                                        const F32DwShape *s, int oy0, int ox, int cnt, int sw, int act) {
  __m256 acc[RB];
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) acc[r] = _mm256_setzero_ps();
  for (int ky = 0; ky < s->kh; ky++) {
    const float *row[RB];
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) {
      long iy = (long)(oy0 + r) * s->sh - s->ph + (long)ky * s->dh;
      row[r] = oy0 + r < s->OH && iy >= 0 && iy < s->H ? in + iy * s->W : g_zeros;
    }
    for (int kx = 0; kx < s->kw; kx++) {
      __m256 wv = _mm256_set1_ps(w[ky * s->kw + kx]);
      long p = (long)ox * sw - s->pw + (long)kx * s->dw;
      __m256i m[2];
      masks(p, s->W, cnt, sw, m);
#pragma GCC unroll 8
      for (int r = 0; r < RB; r++) acc[r] = _mm256_fmadd_ps(wv, load_x(row[r] + p, m, sw), acc[r]);
    }
  }
  store_rows(out, s, oy0, ox, cnt, acc, bias, act);
}

/* the 3x3 window, dilation 1, stride st both ways: each input row of the block is loaded once per kx
   and feeds the (up to 3) output rows whose window holds it. For each output the taps still come in
   the order ky, then kx (input row j of output r is ky = j - r*st). Loads: (RB-1)*st + 3 per kx. */
static inline __attribute__((always_inline)) void block3(const float *in, const float *w, float bias, float *out,
                                                         const F32DwShape *s, int oy0, int ox, int cnt, int st, int act) {
  __m256 acc[RB], wv[9];
  __m256i m[3][2];
#pragma GCC unroll 9
  for (int k = 0; k < 9; k++) wv[k] = _mm256_set1_ps(w[k]);
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) acc[r] = _mm256_setzero_ps();
  long p = (long)ox * st - s->pw, iy0 = (long)oy0 * st - s->ph;
#pragma GCC unroll 3
  for (int kx = 0; kx < 3; kx++) masks(p + kx, s->W, cnt, st, m[kx]);
#pragma GCC unroll 13
  for (int j = 0; j < (RB - 1) * st + 3; j++) {
    long iy = iy0 + j;
    const float *row = (iy >= 0 && iy < s->H ? in + iy * s->W : g_zeros) + p;
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++) {
      __m256 x = load_x(row + kx, m[kx], st);
#pragma GCC unroll 3
      for (int ky = 0; ky < 3; ky++)
        if (j - ky >= 0 && (j - ky) % st == 0 && (j - ky) / st < RB)
          acc[(j - ky) / st] = _mm256_fmadd_ps(wv[ky * 3 + kx], x, acc[(j - ky) / st]);
    }
    /* the 4 sums held in registers from input row to input row: without it GCC ran each output row's 9 FMAs as one
       chain after the other's (each waiting on the last's latency) with the weights and loaded rows on the stack.
       Zen 3 (2026-12-07, one thread, fastest of 30 passes over a layer's planes, two runs): 0.84-1.0x the time
       a plane (56x56 stride 1 0.86x, 112x112 stride 2 0.86x, 7x7 1.0x); MobileNetV2 f32's depthwise layers and the
       fused blocks holding them ~0.88x their time beside its 1x1 layers (20 images, fastest per op of 10 processes,
       ABBA). The same operations in the same order: the same outputs */
    __asm__("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
  }
  store_rows(out, s, oy0, ox, cnt, acc, bias, act);
}

static inline __attribute__((always_inline)) void body(const float *in, const float *w, float bias, float *out,
                                                       const F32DwShape *s, int sw, int act) {
  int k3 = s->kh == 3 && s->kw == 3 && s->dh == 1 && s->dw == 1 && s->sh == sw;
  for (int oy = 0; oy < s->OH; oy += RB)
    for (int ox = 0; ox < s->OW; ox += 8) {
      int cnt = s->OW - ox < 8 ? s->OW - ox : 8;
      if (k3)
        block3(in, w, bias, out, s, oy, ox, cnt, sw, act);
      else
        block(in, w, bias, out, s, oy, ox, cnt, sw, act);
    }
}

#define DWCONV_ONE_BODY
#include "f32_dwconv_tail.h"   /* scalar(), dwconv(): the same in both kernels */

const F32DwDesc f32_dwconv__avx2_desc = {"f32_dwconv__avx2", dwconv};
