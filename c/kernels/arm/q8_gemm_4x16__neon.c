/* q8_gemm_4x16__neon.c: NEON (armv8.0 Advanced SIMD) int8 kernels for sq8 and dq8 on the reference's
 * i16x2 layout (src/kernels_q8.h), with the reference's packers for the weights and the sq8 im2col.
 *
 * Micro-tile Q8_MR = 4 rows x Q8_NR = 16 columns, 16 int32x4 accumulators. Per pair of k, vld2q_s16
 * splits a panel's (x[2k], x[2k+1]) pairs into one register of even-k and one of odd-k values (8
 * columns each), and smlal/smlal2 by element (vmlal_laneq_s16: int16 x int16 widened into int32,
 * exact) multiply them by one weight each: 32 smlal per 128 multiply-adds. int32 sums are exact
 * (sq8: |sum| <= 65536 * 128 * 128 = 2^30; a dq8 group: <= 32768 * 255 * 255 < 2^31).
 * sq8's requantization is FORMAT.md's, in int64 lanes; dq8's float epilogue runs in the reference's
 * order (sum over groups from 0.0f, multiply then add, never fused; bias last; then act), so both
 * equal the reference bit for bit. dq8's run-time quantization is vectorized over 4 columns with
 * the reference's rounding (frintn = round half to even, maxnm/minnm as fmaxf/fminf). */
#include <arm_neon.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "act__neon.h"
#include "q8_dq8quant__neon.h"
#include "q8_requant__neon.h"

#if Q8_MR != 4 || Q8_NR != 16
#error "the NEON micro-kernel is written for a 4x16 tile"
#endif

/* c[r][q] (row r, columns 4q..4q+3) = A tile (kp pairs) . X panel (kp pairs of 16 columns) */
static inline __attribute__((always_inline)) void tile_4x16(int kp, const int16_t *A, const int16_t *X,
                                                            int32x4_t c[4][4]) {
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  int32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  for (int k = 0; k < kp; k++, A += 8, X += 32) {
    int16x8_t a = vld1q_s16(A);                   /* r0k0 r0k1 r1k0 r1k1 r2k0 r2k1 r3k0 r3k1 */
    int16x8x2_t xl = vld2q_s16(X), xh = vld2q_s16(X + 16);   /* .val[0]: even k, .val[1]: odd k */
    int16x4_t e0 = vget_low_s16(xl.val[0]), o0 = vget_low_s16(xl.val[1]);
    int16x4_t e2 = vget_low_s16(xh.val[0]), o2 = vget_low_s16(xh.val[1]);
#define ROW(r, d0, d1, d2, d3)                                                                     \
  d0 = vmlal_laneq_s16(d0, e0, a, 2 * (r)), d0 = vmlal_laneq_s16(d0, o0, a, 2 * (r) + 1);            \
  d1 = vmlal_high_laneq_s16(d1, xl.val[0], a, 2 * (r)), d1 = vmlal_high_laneq_s16(d1, xl.val[1], a, 2 * (r) + 1); \
  d2 = vmlal_laneq_s16(d2, e2, a, 2 * (r)), d2 = vmlal_laneq_s16(d2, o2, a, 2 * (r) + 1);            \
  d3 = vmlal_high_laneq_s16(d3, xh.val[0], a, 2 * (r)), d3 = vmlal_high_laneq_s16(d3, xh.val[1], a, 2 * (r) + 1);
    ROW(0, c00, c01, c02, c03)
    ROW(1, c10, c11, c12, c13)
    ROW(2, c20, c21, c22, c23)
    ROW(3, c30, c31, c32, c33)
#undef ROW
  }
  c[0][0] = c00, c[0][1] = c01, c[0][2] = c02, c[0][3] = c03;
  c[1][0] = c10, c[1][1] = c11, c[1][2] = c12, c[1][3] = c13;
  c[2][0] = c20, c[2][1] = c21, c[2][2] = c22, c[2][3] = c23;
  c[3][0] = c30, c[3][1] = c31, c[3][2] = c32, c[3][3] = c33;
}

/* ---------------------------------------------------------------- sq8 */

static void sq8_gemm(const Q8Gemm *g, const Q8Sq8Epi *e) {
  int32x4_t c[4][4];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    const int16_t *X = g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      tile_4x16(g->G * g->kp, g->A + (size_t)(o0 / Q8_MR) * tile_elems, X, c);
      for (int r = 0; r < nr; r++) {
        Requant q = requant_of(e, o0 + r);
        int16x8_t lo = vcombine_s16(vmovn_s32(requant4(c[r][0], &q)), vmovn_s32(requant4(c[r][1], &q)));
        int16x8_t hi = vcombine_s16(vmovn_s32(requant4(c[r][2], &q)), vmovn_s32(requant4(c[r][3], &q)));
        int8x16_t y8 = vcombine_s8(vmovn_s16(lo), vmovn_s16(hi));
        int8_t *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->ys_p == 1 && nc == Q8_NR) vst1q_s8(y, y8);
        else {
          int8_t tmp[16];
          vst1q_s8(tmp, y8);
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = tmp[cc];
        }
      }
    }
  }
}

/* ---------------------------------------------------------------- dq8 */

static void dq8_gemm(const Q8Gemm *g, const Q8Dq8Epi *e) {
  int32x4_t c[4][4];
  size_t tile_elems = (size_t)g->G * g->kp * Q8_MR * 2;
  for (int j = 0; j < g->N; j += Q8_NR) {
    int nc = g->N - j < Q8_NR ? g->N - j : Q8_NR;
    const int16_t *X = g->X + (size_t)(j / Q8_NR) * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += Q8_MR) {
      int nr = g->M - o0 < Q8_MR ? g->M - o0 : Q8_MR;
      const int16_t *A = g->A + (size_t)(o0 / Q8_MR) * tile_elems;
      float32x4_t f[4][4];
      for (int r = 0; r < 4; r++)
        for (int q = 0; q < 4; q++) f[r][q] = vdupq_n_f32(0.0f);
      for (int grp = 0; grp < g->G; grp++) {
        tile_4x16(g->kp, A + (size_t)grp * g->kp * Q8_MR * 2, X + (size_t)grp * g->kp * 2 * Q8_NR, c);
        const float *xs = e->xs + grp * e->ldxs + j;
        float32x4_t x[4];
        if (nc == Q8_NR)
          for (int q = 0; q < 4; q++) x[q] = vld1q_f32(xs + 4 * q);
        else {   /* xs has ldxs >= N columns only: no reads past the block's last column */
          float t[16] = { 0 };
          memcpy(t, xs, sizeof *t * (size_t)nc);
          for (int q = 0; q < 4; q++) x[q] = vld1q_f32(t + 4 * q);
        }
        for (int r = 0; r < nr; r++) {
          float32x4_t w = vdupq_n_f32(e->ws[(size_t)(o0 + r) * g->G + grp]);
          for (int q = 0; q < 4; q++)
            f[r][q] = vaddq_f32(f[r][q], vmulq_f32(vmulq_f32(w, x[q]), vcvtq_f32_s32(c[r][q])));
        }
      }
      for (int r = 0; r < nr; r++) {
        float32x4_t b = vdupq_n_f32(e->bias ? e->bias[o0 + r] : 0.0f);
        float out[16] = { 0 };
        float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->res) memcpy(out, y, sizeof *out * (size_t)nc);   /* (ys_p 1) */
        for (int q = 0; q < 4; q++) {
          float32x4_t v = e->bias ? vaddq_f32(b, f[r][q]) : f[r][q];
          if (e->res) v = vaddq_f32(v, vld1q_f32(out + 4 * q));
          vst1q_f32(out + 4 * q, act_neon(v, e->act));
        }
        if (e->ys_p == 1) memcpy(y, out, sizeof *out * (size_t)nc);
        else
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = out[cc];
      }
    }
  }
}

static void dq8_quant(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                      ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  int gsp = q8_gsp(gs), p = 0;
  const float32x4_t qlo = vdupq_n_f32(asym ? -128.0f : -127.0f);
  for (; p + 4 <= N; p += 4)
    for (int g = 0; g < G; g++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      float32x4_t s, zf;
      dq8_params4(v, ldxf, gs, asym, &s, &zf);
      vst1q_f32(xs + g * ldxs + p, s);
      int32x4_t zi = vcvtq_s32_f32(zf);
      /* rows (i, i+1) interleaved: 4 columns x 2 int16 = 16 bytes of one pair of a panel */
      int16_t *dst = xq + (size_t)(p / Q8_NR) * (size_t)pstride + (size_t)(g * gsp / 2) * (2 * Q8_NR) +
                     (size_t)(p % Q8_NR) * 2;
      for (int i = 0; i < gs; i += 2, dst += 2 * Q8_NR) {
        int16x4_t qa = vmovn_s32(vsubq_s32(dq8_q4(v + i * ldxf, s, zf, qlo), zi));
        int16x4_t qb = i + 1 < gs ? vmovn_s32(vsubq_s32(dq8_q4(v + (i + 1) * ldxf, s, zf, qlo), zi)) : vdup_n_s16(0);
        int16x4x2_t z = { { qa, qb } };
        vst2_s16(dst, z);
      }
    }
  if (p < N) q8_dq8_quant_cols_ref(G, gs, p, N, xf, ldxf, asym, xq, pstride, xs, ldxs);
}

const Q8Kernels q8_gemm_4x16__neon_desc = {"q8_gemm_4x16__neon", "neon", Q8_MR, Q8_NR, 2, 2, q8_packed_size,
                                           q8_pack_weights, q8_put_x_i16x2, q8_get_x_i16x2, q8_im2col_i8,
                                           dq8_quant, sq8_gemm, dq8_gemm, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, q8_pack_weights_blk, 0};
