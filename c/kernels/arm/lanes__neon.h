/* lanes__neon.h: the first n (1 to 4) lanes of a vector, loaded or stored, for the edges of NEON kernels' tiles (nothing
 * past them read or written): f32_gemm_8x8__neon.c's columns past n, f32_dwconv__neon.c's last output columns. */
#ifndef TINYRUNTIME_LANES_NEON_H
#define TINYRUNTIME_LANES_NEON_H
#include <arm_neon.h>

/* the first n floats at p, the other lanes 0 */
static inline __attribute__((always_inline)) float32x4_t ld_n(const float *p, int n) {
  if (n >= 4) return vld1q_f32(p);
  float32x4_t v = vld1q_lane_f32(p, vdupq_n_f32(0.0f), 0);
  if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
  if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
  return v;
}
/* the first n lanes of v to p */
static inline __attribute__((always_inline)) void st_n(float *p, float32x4_t v, int n) {
  if (n >= 4) {
    vst1q_f32(p, v);
    return;
  }
  vst1q_lane_f32(p, v, 0);
  if (n > 1) vst1q_lane_f32(p + 1, v, 1);
  if (n > 2) vst1q_lane_f32(p + 2, v, 2);
}
#endif
