/* f32_dwconv__avx512f: one channel plane of a depthwise convolution, AVX-512F (see kernels_f32.h).
 * Output rows are done RB at a time and each row 16 columns at a time, the last vector masked, so a
 * 7, 14 or 28 wide plane is one or two vectors per row and RB independent accumulators hide the FMA
 * latency. Every input vector is a masked load: lanes outside the row (the padding) or past the
 * output read nothing and give 0, and a window row outside the input reads a row of zeros, so one
 * branch-free path serves the interior and the border. Stride 2 loads the 32 inputs of 16 outputs as
 * two vectors and keeps the even ones (one permute); in the 3x3 window a row's three windows are its even
 * columns, its odd ones and the even ones shifted by one (33 inputs in three loads, two permutes and an
 * align: 1.3-1.4x faster than a load pair and a permute per window, 0.62 -> 0.45 ns an output on a
 * 112-wide plane in cache; MobileNetV2's 96x112x112 layer, reading its input from memory, ~8%). The 3x3 window (dilation 1, the same stride both
 * ways: MobileNet's) loads each input row once per kx for all the outputs it feeds (block3: 2x faster
 * than block on 14..112 wide planes, one thread, Sapphire Rapids). Each output is one sum over ky
 * then kx in increasing order of fused multiply-adds (the reference's order; a tap in the padding adds
 * w * 0), then + bias, then the activation. Other strides, and planes over ZW wide, go through the
 * scalar path. */
#include <immintrin.h>
#include <math.h>

#include "../../src/kernels_f32.h"
#include "act__avx2.h"
#include "touch_lines.h"

enum { RB = 8 };     /* output rows per block: 8 accumulators keep both FMA ports busy */
enum { ZW = 4096 };  /* a window row outside the input reads this row of zeros (planes up to ZW wide) */
static float g_zeros[ZW]; /* read only; not const, so it is zero-filled .bss rather than 16 KB of file */

/* lanes i of a 16-wide window at input column p with 0 <= p + i < lim */
static inline __mmask16 span(long p, long lim) {
  long lo = p < 0 ? -p : 0, hi = lim - p;
  if (hi > 16) hi = 16;
  if (lo > 16) lo = 16;
  if (hi <= lo) return 0;
  return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* the lanes to load for cnt outputs whose first input is column p: m[0] (stride 1: columns p..),
   or m[0], m[1] (stride 2: the two vectors at p and p + 16, of which the even columns are kept) */
static inline void masks(long p, long W, int cnt, int sw, __mmask16 m[2]) {
  long need = sw == 1 ? cnt : 2 * cnt - 1, lim = p + need < W ? p + need : W;
  m[0] = span(p, lim), m[1] = sw == 1 ? 0 : span(p + 16, lim);
}

/* the inputs of one row (x = row + p) under the masks m */
static inline __m512 load_x(const float *x, const __mmask16 m[2], int sw) {
  if (sw == 1) return _mm512_maskz_loadu_ps(m[0], x);
  __m512 a = _mm512_maskz_loadu_ps(m[0], x), b = _mm512_maskz_loadu_ps(m[1], x + 16);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_ps(a, even, b);
}

static inline __m512 act512(__m512 v, int act) {
  __m256 lo = act_avx2(_mm512_castps512_ps256(v), act);
  __m256 hi = act_avx2(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)), act);
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

/* out rows [oy0, oy0 + RB) (those < OH), columns [ox, ox + cnt) = act(acc + bias) */
static inline __attribute__((always_inline)) void store_rows(float *out, const F32DwShape *s, int oy0, int ox, int cnt,
                                                             const __m512 acc[RB], float bias, int act) {
  __mmask16 m = (__mmask16)((1u << cnt) - 1u);
  __m512 vb = _mm512_set1_ps(bias);
  int rows = s->OH - oy0 < RB ? s->OH - oy0 : RB;
  float *o = out + (size_t)oy0 * s->OW + ox;
  if (act == ACT_NONE || act == ACT_RELU || act == ACT_RELU6) {   /* in 512 bits: max(v, 0) takes NaN to 0, as act_f32 */
    const __m512 hi = _mm512_set1_ps(act == ACT_RELU6 ? 6.0f : INFINITY);
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) {
      __m512 v = _mm512_add_ps(acc[r], vb);
      if (act != ACT_NONE) v = _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), hi);
      if (r < rows) _mm512_mask_storeu_ps(o + (size_t)r * s->OW, m, v);
    }
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++)
    if (r < rows) _mm512_mask_storeu_ps(o + (size_t)r * s->OW, m, act512(_mm512_add_ps(acc[r], vb), act));
}

/* rows [oy0, oy0 + RB) (those < OH) x columns [ox, ox + cnt), cnt <= 16. A row of the window outside
   the input reads the row of zeros (w * 0 added), so the RB accumulators need no branch and every
   row of one tap takes the same column mask. */
static __attribute__((noinline)) void block(const float *in, const float *w, float bias, float *out,
                                                        const F32DwShape *s, int oy0, int ox, int cnt, int sw, int act) {
  __m512 acc[RB];
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) acc[r] = _mm512_setzero_ps();
  for (int ky = 0; ky < s->kh; ky++) {
    const float *row[RB];
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) {
      long iy = (long)(oy0 + r) * s->sh - s->ph + (long)ky * s->dh;
      row[r] = oy0 + r < s->OH && iy >= 0 && iy < s->H ? in + iy * s->W : g_zeros;
    }
    for (int kx = 0; kx < s->kw; kx++) {
      __m512 wv = _mm512_set1_ps(w[ky * s->kw + kx]);
      long p = (long)ox * sw - s->pw + (long)kx * s->dw;
      __mmask16 m[2];
      masks(p, s->W, cnt, sw, m);
#pragma GCC unroll 8
      for (int r = 0; r < RB; r++) acc[r] = _mm512_fmadd_ps(wv, load_x(row[r] + p, m, sw), acc[r]);
    }
  }
  store_rows(out, s, oy0, ox, cnt, acc, bias, act);
}

/* the 3x3 window, dilation 1, stride st both ways: each input row of the block is loaded once per kx
   and feeds the (up to 3) output rows whose window holds it. For each output the taps still come in
   the order ky, then kx (input row j of output r is ky = j - r*st). Loads: (RB-1)*st + 3 per kx. */
static inline __attribute__((always_inline)) void block3(const float *in, const float *w, float bias, float *out,
                                                         const F32DwShape *s, int oy0, int ox, int cnt, int st, int act) {
  __m512 acc[RB], wv[9];
  __mmask16 m[3][2];
#pragma GCC unroll 9
  for (int k = 0; k < 9; k++) wv[k] = _mm512_set1_ps(w[k]);
#pragma GCC unroll 8
  for (int r = 0; r < RB; r++) acc[r] = _mm512_setzero_ps();
  long p = (long)ox * st - s->pw, iy0 = (long)oy0 * st - s->ph;
#pragma GCC unroll 3
  for (int kx = 0; kx < 3; kx++) masks(p + kx, s->W, cnt, st, m[kx]);
  /* stride 2: the row's columns p .. p + 2 cnt in three loads (32 + 1), the three windows' inputs by two
     permutes (even, odd columns) and one shift of the even ones (the same values as load_x's) */
  long lim = p + 2 * (long)cnt + 1 < s->W ? p + 2 * (long)cnt + 1 : s->W;
  __mmask16 ma = span(p, lim), mb = span(p + 16, lim), mc = span(p + 32, lim) & 1;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
#pragma GCC unroll 17
  for (int j = 0; j < (RB - 1) * st + 3; j++) {
    long iy = iy0 + j;
    const float *row = (iy >= 0 && iy < s->H ? in + iy * s->W : g_zeros) + p;
    __m512 xs[3];
    if (st == 2) {
      __m512 a = _mm512_maskz_loadu_ps(ma, row), b = _mm512_maskz_loadu_ps(mb, row + 16), c = _mm512_maskz_loadu_ps(mc, row + 32);
      xs[0] = _mm512_permutex2var_ps(a, even, b), xs[1] = _mm512_permutex2var_ps(a, odd, b);
      xs[2] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(c), _mm512_castps_si512(xs[0]), 1));
    }
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++) {
      __m512 x = st == 2 ? xs[kx] : load_x(row + kx, m[kx], st);
#pragma GCC unroll 3
      for (int ky = 0; ky < 3; ky++)
        if (j - ky >= 0 && (j - ky) % st == 0 && (j - ky) / st < RB)
          acc[(j - ky) / st] = _mm512_fmadd_ps(wv[ky * 3 + kx], x, acc[(j - ky) / st]);
    }
  }
  store_rows(out, s, oy0, ox, cnt, acc, bias, act);
}

static inline __attribute__((always_inline)) void body(const float *in, const float *w, float bias, float *out,
                                                       const F32DwShape *s, int sw, int act) {
  int k3 = s->kh == 3 && s->kw == 3 && s->dh == 1 && s->dw == 1 && s->sh == sw;
  touch_lines(out, (size_t)s->OH * s->OW * sizeof(float));   /* a small plane's lines written first (touch_lines.h) */
  for (int oy = 0; oy < s->OH; oy += RB)
    for (int ox = 0; ox < s->OW; ox += 16) {
      int cnt = s->OW - ox < 16 ? s->OW - ox : 16;
      if (k3)
        block3(in, w, bias, out, s, oy, ox, cnt, sw, act);
      else
        block(in, w, bias, out, s, oy, ox, cnt, sw, act);
    }
}

#define DWCONV_ONE_BODY   /* the activation a run-time argument: store_rows clamps in 512 bits for ReLU6 all the same */
#include "f32_dwconv_tail.h"   /* scalar(), dwconv(): the same in both kernels */

const F32DwDesc f32_dwconv__avx512f_desc = {"f32_dwconv__avx512f", dwconv};
