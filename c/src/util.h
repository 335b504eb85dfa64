/* util.h: the small helpers every part of the runtime shares. */
#ifndef TINYRUNTIME_UTIL_H
#define TINYRUNTIME_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Formats a one-line reason into err (when given) and returns -1, for `return rt_fail(...)`. */
int rt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Zeroed memory aligned to 64 bytes (at least 64 bytes); NULL when `bytes` is SIZE_MAX-close or
   memory is short. Release with free(). */
void *rt_alloc64(size_t bytes);

/* CLOCK_MONOTONIC in milliseconds (start-up and profile timings) */
double rt_now_ms(void);

/* a*b, saturating at SIZE_MAX (callers treat SIZE_MAX as "too large") */
static inline size_t rt_mul_sat(size_t a, size_t b) { return (a && b > SIZE_MAX / a) ? SIZE_MAX : a * b; }
/* a+b, saturating at SIZE_MAX */
static inline size_t rt_add_sat(size_t a, size_t b) { return b > SIZE_MAX - a ? SIZE_MAX : a + b; }

/* ceil(a / b) for b > 0 */
static inline size_t rt_cdiv(size_t a, size_t b) { return (a + b - 1) / b; }

/* an implicit convolution's tap at window offset (y, x) (dilation applied) on phase planes (stride sh x sw: the
   padded input split into sh * sw planes of `phase` elements, rows of wq; phase (a, b) holds padded pixels
   (r sh + a, c sw + b) at r wq + c): its offset from the output's flat column, in elements. Stride 1: y wq + x.
   The f32 implicit convolution's (ops_f32.c) and sq8's (q8_conv_offsets) */
static inline ptrdiff_t rt_phase_offset(size_t y, size_t x, size_t sh, size_t sw, size_t phase, size_t wq) {
  return (ptrdiff_t)((y % sh * sw + x % sw) * phase + y / sh * wq + x / sw);
}
/* n floats of a short piece of a row (small maps' rows, padding) copied or zeroed in a loop, not a call each: the amd64
   binaries' musl has no short path in memcpy / memset (the pipeline's ResNet18 at 32x32, rows of 2-16 floats, spent
   6-8% of its f32 time and its dq8 4x4 layers a third of theirs in the calls); longer ones by the library */
static inline void rt_fcopy(float *d, const float *x, size_t n) {
  if (n > 16) memcpy(d, x, n * sizeof(float));
  else for (size_t i = 0; i < n; i++) d[i] = x[i];
}
static inline void rt_fzero(float *d, size_t n) {
  if (n > 16) memset(d, 0, n * sizeof(float));
  else for (size_t i = 0; i < n; i++) d[i] = 0.0f;
}

/* errno e in words: strerror's English text without its message catalogs (glibc's strerrordesc_np: 680 B less of
   each static binary), or strerror's where the C library has no such call */
const char *rt_strerror(int e);

#endif
