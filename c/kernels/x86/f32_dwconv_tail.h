/* f32_dwconv_tail.h: what the AVX2 and AVX-512 f32 depthwise kernels share, included after each one's
 * `body(in, w, bias, out, s, SW, act)` and ZW: the scalar path (other strides, planes over ZW wide) and
 * the dispatch by stride and activation. DWCONV_FN names the kernel's function. */
#ifndef TINYRUNTIME_F32_DWCONV_TAIL_H
#define TINYRUNTIME_F32_DWCONV_TAIL_H
#include <math.h>

#include "../../src/kernels_f32.h"

/* strides other than 1 and 2, planes over ZW wide: the reference's sum, with fused multiply-adds */
static void scalar(const float *in, const float *w, float bias, float *out, const F32DwShape *s) {
  for (int oy = 0; oy < s->OH; oy++)
    for (int ox = 0; ox < s->OW; ox++) {
      float acc = 0.0f;
      for (int ky = 0; ky < s->kh; ky++) {
        long iy = (long)oy * s->sh - s->ph + (long)ky * s->dh;
        if (iy < 0 || iy >= s->H) continue;
        for (int kx = 0; kx < s->kw; kx++) {
          long ix = (long)ox * s->sw - s->pw + (long)kx * s->dw;
          if (ix >= 0 && ix < s->W) acc = fmaf(w[ky * s->kw + kx], in[iy * s->W + ix], acc);
        }
      }
      out[(size_t)oy * s->OW + ox] = act_f32(acc + bias, s->act);
    }
}

/* two bodies per stride: ReLU6 (MobileNets' depthwise layers) with the clamp inlined, every other
   activation as a run-time argument (a specialisation per activation costs ~25 KB of code each).
   DWCONV_ONE_BODY (both x86 kernels): only the second, 7-10 KB less of the static binaries (DESIGN's 1 MiB
   bound); the AVX-512 kernel's stores clamp ReLU6 in 512 bits either way, and MobileNetV2 f32 was no
   slower with one body (its outputs byte-identical). */
#ifdef DWCONV_ONE_BODY
#define BODY_ACTS(SW) body(in, w, bias, out, s, SW, s->act);
#else
#define BODY_ACTS(SW)                                          \
  if (s->act == ACT_RELU6)                                     \
    body(in, w, bias, out, s, SW, ACT_RELU6);                  \
  else                                                         \
    body(in, w, bias, out, s, SW, s->act);
#endif

static void dwconv(const float *in, const float *w, float bias, float *out, const F32DwShape *s) {
  if (s->W > ZW)
    scalar(in, w, bias, out, s);
  else if (s->sw == 1) {
    BODY_ACTS(1)
  } else if (s->sw == 2) {
    BODY_ACTS(2)
  } else
    scalar(in, w, bias, out, s);
}
#undef BODY_ACTS
#endif
