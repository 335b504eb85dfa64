/* q8_requant__neon.h: FORMAT.md's sq8 requantization, clamp(zy + requant(acc + bias, m, shift), qmin, qmax),
 * in NEON int64 lanes, exact (equal to q8_requant for every acc = int32 dot + int32 bias and the m, shift the
 * format allows: |acc * m| + rnd < 2^63, so nothing wraps): the q8 NEON kernels' epilogue. */
#ifndef TINYRUNTIME_Q8_REQUANT_NEON_H
#define TINYRUNTIME_Q8_REQUANT_NEON_H
#include <arm_neon.h>

#include "../../src/kernels_q8.h"

/* one output row's constants */
typedef struct { int64x2_t b, rnd, nsh; uint32x2_t m; int32x4_t zy, lo, hi; } Requant;

static inline Requant requant_of(const Q8Sq8Epi *e, int o) {
  Requant q = { vdupq_n_s64(e->bias[o]), vdupq_n_s64((int64_t)1 << (e->shift[o] - 1)), vdupq_n_s64(-e->shift[o]),
                vdup_n_u32((uint32_t)e->mult[o]), vdupq_n_s32(e->zy), vdupq_n_s32(e->qmin), vdupq_n_s32(e->qmax) };
  return q;
}

/* (a * m + rnd) >> shift of 2 int64 lanes, wrapping as the scalar int64 formula, saturated to int32 */
static inline int32x2_t requant2(int64x2_t a, const Requant *q) {
  uint64x2_t plo = vmull_u32(vmovn_u64(vreinterpretq_u64_s64(a)), q->m);                /* low half (unsigned) * m */
  int64x2_t phi = vreinterpretq_s64_u64(vmull_u32(vshrn_n_u64(vreinterpretq_u64_s64(a), 32), q->m));
  /* the high half is signed: hi * m mod 2^32 is all that survives the << 32, signed or not */
  int64x2_t p = vaddq_s64(vaddq_s64(vreinterpretq_s64_u64(plo), vshlq_n_s64(phi, 32)), q->rnd);
  return vqmovn_s64(vshlq_s64(p, q->nsh));    /* arithmetic shift right; saturation keeps the clamp exact */
}

/* clamp(zy + requant(c + bias, m, shift), qmin, qmax) of 4 int32 lanes */
static inline int32x4_t requant4(int32x4_t c, const Requant *q) {
  int32x2_t l = requant2(vaddq_s64(vmovl_s32(vget_low_s32(c)), q->b), q);
  int32x2_t h = requant2(vaddq_s64(vmovl_high_s32(c), q->b), q);
  int32x4_t r = vqaddq_s32(vcombine_s32(l, h), q->zy);   /* saturated: beyond +-2^31 it is clamped anyway */
  return vminq_s32(vmaxq_s32(r, q->lo), q->hi);
}

#endif
