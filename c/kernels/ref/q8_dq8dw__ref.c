/* q8_dq8dw__ref.c: one output plane of a dq8 depthwise convolution (src/kernels_q8.h), scalar
 * reference: the oracle of the SIMD kernels' tests and the fallback for the shapes they leave out.
 * Per output pixel its window is gathered as one im2col column (pads 0.0f), each group quantized
 * with the format's helpers (q8_dq8_group_params, q8_dq8_quant1), then the integer sums and the
 * float epilogue in the dq8 GEMM reference's order (q8_dq8_gemm_ref). */
#include "../../src/act.h"
#include "../../src/kernels_q8.h"

void q8_dq8dw_ref(const float *x, const int8_t *w, const float *ws, const int8_t *wz, const float *bias, float *y,
                  const Q8Dq8DwShape *s) {
  int K = s->kh * s->kw, asym = wz != NULL;
  float col[Q8_DQ8DW_MAXK];
  if (K > Q8_DQ8DW_MAXK) return;   /* the engine never asks (kernels_q8.h) */
  for (int oy = 0; oy < s->OH; oy++)
    for (int ox = 0; ox < s->OW; ox++) {
      for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh;
        for (int kx = 0; kx < s->kw; kx++) {
          int ix = ox * s->sw - s->pw + kx * s->dw;
          col[ky * s->kw + kx] = iy >= 0 && iy < s->H && ix >= 0 && ix < s->W ? x[(size_t)iy * s->W + ix] : 0.0f;
        }
      }
      float acc = 0.0f;
      for (int g = 0; g < s->G; g++) {
        const float *v = col + (size_t)g * s->gs;
        int32_t z, zw = asym ? wz[g] : 0, isum = 0;
        float sx = q8_dq8_group_params(v, 1, s->gs, asym, &z);
        for (int i = 0; i < s->gs; i++)
          isum += ((int32_t)w[g * s->gs + i] - zw) * (q8_dq8_quant1(v[i], sx, z, asym) - z);
        float sc = ws[g] * sx;
        acc = acc + sc * (float)isum;
      }
      if (bias) acc = *bias + acc;
      y[(size_t)oy * s->OW + ox] = act_f32(acc, s->act);
    }
}

const Q8Dq8DwDesc q8_dq8dw__ref_desc = {"q8_dq8dw__ref", "ref", q8_dq8dw_ref};
