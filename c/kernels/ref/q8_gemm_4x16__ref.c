/* q8_gemm_4x16__ref.c: reference (scalar) int8 kernels, the oracle of the tests and the fallback on
 * any CPU, on the i16x2 layout (src/kernels_q8.h), and their descriptor. */
#include <math.h>
#include "../../src/act.h"
#include "../../src/kernels_q8.h"

/* packed weight (row o of the block, group g, index i in the group) */
static inline int32_t a_at(const Q8Gemm *g, int o, int grp, int i) {
  size_t t = (size_t)o / Q8_MR, r = (size_t)o % Q8_MR;
  size_t j = (size_t)grp * g->kp + (size_t)(i / 2);
  return g->A[((t * (size_t)g->G * g->kp + j) * Q8_MR + r) * 2 + (size_t)(i & 1)];
}

/* int32 sum of group grp for output (o, p); |terms| <= 255*255 and the engine keeps gs small
   enough (<= 32768) that no group sum overflows */
static int32_t group_sum(const Q8Gemm *g, int o, int p, int grp) {
  int32_t s = 0;
  int gsp = 2 * g->kp;
  for (int i = 0; i < gsp; i++)
    s += a_at(g, o, grp, i) * (int32_t)g->X[q8_xidx((size_t)g->pstride, grp * gsp + i, p)];
  return s;
}

void q8_sq8_gemm_ref(const Q8Gemm *g, const Q8Sq8Epi *e) {
  for (int o = 0; o < g->M; o++)
    for (int p = 0; p < g->N; p++) {
      int64_t acc = (int64_t)group_sum(g, o, p, 0) + e->bias[o];
      int64_t y = e->zy + q8_requant(acc, e->mult[o], e->shift[o]);
      e->y[o * e->ys_o + p * e->ys_p] = (int8_t)q8_clamp(y, e->qmin, e->qmax);
    }
}

void q8_dq8_gemm_ref(const Q8Gemm *g, const Q8Dq8Epi *e) {
  for (int o = 0; o < g->M; o++)
    for (int p = 0; p < g->N; p++) {
      float acc = 0.0f;
      for (int grp = 0; grp < g->G; grp++) {
        float sc = e->ws[(size_t)o * g->G + grp] * e->xs[grp * e->ldxs + p];
        acc = acc + sc * (float)group_sum(g, o, p, grp);
      }
      if (e->bias) acc = e->bias[o] + acc;
      if (e->res) acc = acc + e->y[o * e->ys_o + p * e->ys_p];
      e->y[o * e->ys_o + p * e->ys_p] = act_f32(acc, e->act);
    }
}

void q8_dq8_quant_cols_ref(int G, int gs, int p0, int N, const float *xf, ptrdiff_t ldxf, int asym,
                           int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  int gsp = q8_gsp(gs);
  size_t ps = (size_t)pstride;
  for (int g = 0; g < G; g++)
    for (int p = p0; p < N; p++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      int32_t z;
      float s = q8_dq8_group_params(v, ldxf, gs, asym, &z);
      xs[g * ldxs + p] = s;
      for (int i = 0; i < gs; i++)
        xq[q8_xidx(ps, g * gsp + i, p)] = (int16_t)(q8_dq8_quant1(v[i * ldxf], s, z, asym) - z);
      if (gsp != gs) xq[q8_xidx(ps, g * gsp + gs, p)] = 0;
    }
}

void q8_dq8_quant_ref(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
                      int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  q8_dq8_quant_cols_ref(G, gs, 0, N, xf, ldxf, asym, xq, pstride, xs, ldxs);
}

const Q8Kernels q8_gemm_4x16__ref_desc = {"q8_gemm_4x16__ref", "ref", Q8_MR, Q8_NR, 2, 2, q8_packed_size,
                                          q8_pack_weights, q8_put_x_i16x2, q8_get_x_i16x2, q8_im2col_i8,
                                          q8_dq8_quant_ref, q8_sq8_gemm_ref, q8_dq8_gemm_ref, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, q8_pack_weights_blk, 0};
