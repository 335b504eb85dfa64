/* f32_dwconv__ref: one channel plane of a depthwise convolution, scalar reference. */
#include "../../src/act.h"
#include "../../src/kernels_f32.h"

static void dwconv(const float *in, const float *w, float bias, float *out, const F32DwShape *s) {
  for (int oy = 0; oy < s->OH; oy++)
    for (int ox = 0; ox < s->OW; ox++) {
      float acc = 0.0f;
      for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh;
        if (iy < 0 || iy >= s->H) continue;
        for (int kx = 0; kx < s->kw; kx++) {
          int ix = ox * s->sw - s->pw + kx * s->dw;
          if (ix < 0 || ix >= s->W) continue;
          acc += w[ky * s->kw + kx] * in[(size_t)iy * s->W + ix];
        }
      }
      out[(size_t)oy * s->OW + ox] = act_f32(acc + bias, s->act);
    }
}

const F32DwDesc f32_dwconv__ref_desc = {"f32_dwconv__ref", dwconv};
