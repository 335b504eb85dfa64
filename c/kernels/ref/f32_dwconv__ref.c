/* f32_dwconv__ref: one channel plane of a depthwise convolution, scalar reference. */
#include "../../src/kernels_f32.h"
#include "../../src/model.h"

void f32_dwconv__ref(const float *in, const float *w, float bias, float *out, const F32DwShape *s) {
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
      float y = acc + bias;
      if (s->act == ACT_RELU || s->act == ACT_RELU6) y = y > 0.0f ? y : 0.0f;
      if (s->act == ACT_RELU6) y = y < 6.0f ? y : 6.0f;
      out[(size_t)oy * s->OW + ox] = y;
    }
}
