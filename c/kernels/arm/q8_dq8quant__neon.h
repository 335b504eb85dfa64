/* q8_dq8quant__neon.h: dq8's run-time activation quantization of 4 columns in NEON lanes, exactly the
 * reference's q8_dq8_group_params and q8_dq8_quant1 lane for lane (FORMAT.md): the quantizers of both
 * arm64 int8 kernels (q8_gemm_4x16__neon, q8_gemm_8x12__neondot), which differ only in how they pack. */
#ifndef TINYRUNTIME_Q8_DQ8QUANT_NEON_H
#define TINYRUNTIME_Q8_DQ8QUANT_NEON_H
#include <arm_neon.h>
#include <stddef.h>

/* scale *s and zero point *zf (as float) of one group of gs values per column, v[i*ldxf + 0..3] */
static inline void dq8_params4(const float *v, ptrdiff_t ldxf, int gs, int asym, float32x4_t *s, float32x4_t *zf) {
  const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f), m128 = vdupq_n_f32(-128.0f);
  *zf = zero;
  if (!asym) {
    float32x4_t m = zero;
    for (int i = 0; i < gs; i++) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(v + i * ldxf)));
    *s = vbslq_f32(vceqq_f32(m, zero), one, vdivq_f32(m, vdupq_n_f32(127.0f)));
    return;
  }
  float32x4_t lo = zero, hi = zero;
  for (int i = 0; i < gs; i++) {
    float32x4_t x = vld1q_f32(v + i * ldxf);
    lo = vminnmq_f32(lo, x), hi = vmaxnmq_f32(hi, x);
  }
  uint32x4_t eq = vceqq_f32(hi, lo);
  *s = vbslq_f32(eq, one, vdivq_f32(vsubq_f32(hi, lo), vdupq_n_f32(255.0f)));
  float32x4_t t = vrndnq_f32(vsubq_f32(m128, vdivq_f32(lo, *s)));
  *zf = vbslq_f32(eq, zero, vminnmq_f32(vmaxnmq_f32(t, m128), vdupq_n_f32(127.0f)));
}

/* q = clamp(rne(v / s) + z, qlo, 127) of 4 columns, as int32 (fmaxf first: a NaN becomes qlo) */
static inline int32x4_t dq8_q4(const float *v, float32x4_t s, float32x4_t zf, float32x4_t qlo) {
  float32x4_t t = vaddq_f32(vrndnq_f32(vdivq_f32(vld1q_f32(v), s)), zf);
  return vcvtq_s32_f32(vminnmq_f32(vmaxnmq_f32(t, qlo), vdupq_n_f32(127.0f)));
}
#endif
