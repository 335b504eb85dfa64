/* act__neon.h: the NEON vector helper of the activations (src/act.h is the definition): the same
 * values as act_f32, lane for lane (maxnm: max(NaN, 0) = 0 as act_f32's ReLU). */
#ifndef TINYRUNTIME_ACT_NEON_H
#define TINYRUNTIME_ACT_NEON_H
#include <arm_neon.h>

#include "../../src/act.h"

static inline float32x4_t act_neon(float32x4_t v, int act) {
  const float32x4_t zero = vdupq_n_f32(0.0f), six = vdupq_n_f32(6.0f), three = vdupq_n_f32(3.0f);
  switch (act) {
  case ACT_NONE: return v;
  case ACT_RELU: return vmaxnmq_f32(v, zero);
  case ACT_RELU6: return vminq_f32(vmaxnmq_f32(v, zero), six);
  case ACT_HARDSWISH: return vdivq_f32(vmulq_f32(v, vminq_f32(vmaxnmq_f32(vaddq_f32(v, three), zero), six)), six);
  case ACT_HARDSIGMOID: return vdivq_f32(vminq_f32(vmaxnmq_f32(vaddq_f32(v, three), zero), six), six);
  default: {
    float t[4];
    vst1q_f32(t, v);
    for (int i = 0; i < 4; i++) t[i] = act_f32(t[i], act);
    return vld1q_f32(t);
  }
  }
}
#endif
