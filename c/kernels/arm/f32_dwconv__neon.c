/* f32_dwconv__neon: one channel plane of a float32 depthwise convolution with NEON (armv8.0 Advanced SIMD,
 * src/kernels_f32.h), for the 3x3 window at dilation 1 and the same stride 1 or 2 both ways (MobileNets').
 * Outputs lie across the lanes: a block is RB output rows x 8 columns (two float32x4 per row, 8 sums in
 * registers with the 9 weights), or x 4 for planes under 8 wide; a row's last block overlaps the one before
 * (a 7, 14 or 28 wide row is 2, 2 or 4 blocks' worth), one under 4 wide is stored lane by lane. The block's
 * (RB - 1) * st + 3 input rows come from a ring of zero-padded rows (each plane row copied once, between
 * pw zeros on the left and zeros to the buffer's end; a row outside the plane is one row of zeros), and each
 * is loaded once per block for all the (up to 3) output rows it feeds, as in f32_dwconv__avx512f.c's block3:
 * at stride 1 three loads at columns +0, +1, +2; at stride 2 vld2q's even and odd columns and the even ones
 * shifted by one (ext with the next even column). Nothing is read outside the plane or the buffer, nothing
 * written outside the plane. Each output is one sum over ky, then kx, in increasing order, of fused
 * multiply-adds from 0 (a tap in the padding adds w * 0, which leaves the sum as it is), then + bias, then
 * the activation (act__neon.h's act_neon: act_f32's values): the x86 kernels' sum bit for bit, and within
 * the test's bound of the plain C reference's (kernels/ref, unfused under -std=c11). The value of an output
 * depends on nothing else, so overlapping blocks rewrite the same values. Other shapes, and planes whose
 * ring exceeds BUF floats (wider than ~800 columns), go to the reference. */
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "../../src/kernels_f32.h"
#include "act__neon.h"
#include "lanes__neon.h"

#define AI static inline __attribute__((always_inline))

enum { RB = 4, SPAN_MAX = (RB - 1) * 2 + 3, BUF = 8192 };

/* a += x * lane l of w, fused (vfmaq_laneq_f32): in asm, or GCC turns the 9 taps into 9 dup'd weight registers
   and spills (~12% fewer instructions an output at stride 1) */
#define FMLA_LANE(a, x, w, l) __asm__("fmla %0.4s, %1.4s, %2.s[%3]" : "+w"(a) : "w"(x), "w"(w), "i"(l))

/* rows r < rows of the block, 4V columns (n lanes when V = 1 and n < 4) = act(acc + bias), the activation in
   registers by act__neon.h (act_f32's values) */
AI void store(float *o, size_t OW, float32x4_t acc[RB][2], float32x4_t vb, int rows, int n, const int V, int act) {
#pragma GCC unroll 4
  for (int r = 0; r < RB; r++)
    if (r < rows)
#pragma GCC unroll 2
      for (int v = 0; v < V; v++) st_n(o + (size_t)r * OW + 4 * v, act_neon(vaddq_f32(acc[r][v], vb), act), n);
}

/* RB output rows x 4V columns: output (r, i) = sum over ky, kx of w[3 ky + kx] * rp[st r + ky][off + st i + kx] */
AI void block(const float *const *rp, size_t off, const float32x4_t wv[3], float32x4_t vb, float *o, size_t OW, int rows,
              int n, int act, const int st, const int V) {
  float32x4_t acc[RB][2];
#pragma GCC unroll 4
  for (int r = 0; r < RB; r++) acc[r][0] = acc[r][1] = vdupq_n_f32(0.0f);
#pragma GCC unroll 9
  for (int j = 0; j < (RB - 1) * st + 3; j++) {   /* input row j feeds output rows (j - ky) / st */
    const float *p = rp[j] + off;
    float32x4_t x[2][3];
    if (st == 1) {
#pragma GCC unroll 2
      for (int v = 0; v < V; v++) x[v][0] = vld1q_f32(p + 4 * v), x[v][1] = vld1q_f32(p + 4 * v + 1), x[v][2] = vld1q_f32(p + 4 * v + 2);
    } else {
      float32x4x2_t e0 = vld2q_f32(p), e1 = V == 2 ? vld2q_f32(p + 8) : e0;
      float32x4_t next = vld1q_dup_f32(p + 8 * V);   /* the even column after the last */
      x[0][0] = e0.val[0], x[0][1] = e0.val[1], x[0][2] = vextq_f32(e0.val[0], V == 2 ? e1.val[0] : next, 1);
      x[1][0] = e1.val[0], x[1][1] = e1.val[1], x[1][2] = vextq_f32(e1.val[0], next, 1);
    }
#pragma GCC unroll 2
    for (int v = 0; v < V; v++)
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++)
          if (j - ky >= 0 && (j - ky) % st == 0 && (j - ky) / st < RB)
            FMLA_LANE(acc[(j - ky) / st][v], x[v][kx], wv[(3 * ky + kx) / 4], (3 * ky + kx) % 4);
  }
  store(o, OW, acc, vb, rows, V == 2 ? 4 : n, V, act);
}

/* one band of RB output rows (rows of them stored), the whole width: blocks of 8 columns, a row's last one
   overlapping the one before; under 8 wide, blocks of 4 (the first n = OW lanes when OW < 4) */
AI void band(const float *const *rp, const float *w, float bias, float *o, int OW, int rows, int act, const int st) {
  const float32x4_t wv[3] = {vld1q_f32(w), vld1q_f32(w + 4), vld1q_dup_f32(w + 8)};   /* tap t: lane t % 4 of wv[t / 4] */
  const float32x4_t vb = vdupq_n_f32(bias);
  if (OW >= 8)
    for (int ox = 0;; ox += 8) {
      int x0 = ox < OW - 8 ? ox : OW - 8;
      block(rp, (size_t)(st * x0), wv, vb, o + x0, (size_t)OW, rows, 4, act, st, 2);
      if (x0 == OW - 8) break;
    }
  else {
    block(rp, 0, wv, vb, o, (size_t)OW, rows, OW < 4 ? OW : 4, act, st, 1);
    if (OW > 4) block(rp, (size_t)(st * (OW - 4)), wv, vb, o + OW - 4, (size_t)OW, rows, 4, act, st, 1);
  }
}

static __attribute__((noinline)) void band1(const float *const *rp, const float *w, float bias, float *o, int OW, int rows, int act) {
  band(rp, w, bias, o, OW, rows, act, 1);
}
static __attribute__((noinline)) void band2(const float *const *rp, const float *w, float bias, float *o, int OW, int rows, int act) {
  band(rp, w, bias, o, OW, rows, act, 2);
}

/* the plane at stride st; buf: (span + 1) * Wb floats, Wb >= pw + W and >= st * max(OW, 4) + 2 (every column read) */
static void plane(const float *in, const float *w, float bias, float *out, const F32DwShape *s, float *buf, size_t Wb) {
  const int st = s->sw, span = (RB - 1) * st + 3, OW = s->OW;
  float *zero = buf + (size_t)span * Wb;
  const float *rp[SPAN_MAX];
  long next = 0;   /* rows [0, next) copied so far: bands only move down, so a band's new rows are those from next on, and
                      a row copied before still holds its slot (the rows between it and the band, fewer than span) */
  memset(buf, 0, (size_t)(span + 1) * Wb * sizeof(float));
  for (int oy0 = 0; oy0 < s->OH; oy0 += RB) {
    int rows = s->OH - oy0 < RB ? s->OH - oy0 : RB;
    long iy0 = (long)oy0 * st - s->ph;
    int k = (int)((iy0 % span + span) % span);   /* row iy's slot: iy mod span */
    for (int j = 0; j < span; j++, k = k + 1 < span ? k + 1 : 0) {
      long iy = iy0 + j;
      if (iy < 0 || iy >= s->H) { rp[j] = zero; continue; }
      float *slot = buf + (size_t)k * Wb;
      if (iy >= next) memcpy(slot + s->pw, in + (size_t)iy * s->W, (size_t)s->W * sizeof(float)), next = iy + 1;
      rp[j] = slot;
    }
    (st == 1 ? band1 : band2)(rp, w, bias, out + (size_t)oy0 * OW, OW, rows, s->act);
  }
}

static void dwconv(const float *in, const float *w, float bias, float *out, const F32DwShape *s) {
  const int st = s->sw, ow4 = s->OW < 4 ? 4 : s->OW;
  long Wb = (long)st * ow4 + 2;
  if (Wb < (long)s->pw + s->W) Wb = (long)s->pw + s->W;
  Wb = (Wb + 3) & ~3L;
  if (s->kh != 3 || s->kw != 3 || s->dh != 1 || s->dw != 1 || s->sh != st || (st != 1 && st != 2) || s->ph < 0 ||
      s->pw < 0 || s->H < 1 || s->W < 1 || ((RB - 1) * st + 4) * Wb > BUF) {
    f32_dwconv__ref_desc.dwconv(in, w, bias, out, s);
    return;
  }
  float buf[BUF];
  plane(in, w, bias, out, s, buf, (size_t)Wb);
}

const F32DwDesc f32_dwconv__neon_desc = {"f32_dwconv__neon", dwconv};
