/* util.h: the small helpers every part of the runtime shares. */
#ifndef TINYRUNTIME_UTIL_H
#define TINYRUNTIME_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* Formats a one-line reason into err (when given) and returns -1, for `return rt_fail(...)`. */
int rt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Zeroed memory aligned to 64 bytes (at least 64 bytes); NULL when `bytes` is SIZE_MAX-close or
   memory is short. Release with free(). */
void *rt_alloc64(size_t bytes);

/* CLOCK_MONOTONIC in milliseconds (start-up and profile timings) */
double rt_now_ms(void);

/* a*b, saturating at SIZE_MAX (callers treat SIZE_MAX as "too large") */
static inline size_t rt_mul_sat(size_t a, size_t b) { return (a && b > SIZE_MAX / a) ? SIZE_MAX : a * b; }

/* ceil(a / b) for b > 0 */
static inline size_t rt_cdiv(size_t a, size_t b) { return (a + b - 1) / b; }

/* an implicit convolution's tap at window offset (y, x) (dilation applied) on phase planes (stride sh x sw: the
   padded input split into sh * sw planes of `phase` elements, rows of wq; phase (a, b) holds padded pixels
   (r sh + a, c sw + b) at r wq + c): its offset from the output's flat column, in elements. Stride 1: y wq + x.
   The f32 implicit convolution's (ops_f32.c) and sq8's (q8_conv_offsets) */
static inline ptrdiff_t rt_phase_offset(size_t y, size_t x, size_t sh, size_t sw, size_t phase, size_t wq) {
  return (ptrdiff_t)((y % sh * sw + x % sw) * phase + y / sh * wq + x / sw);
}
/* errno e in words: strerror's English text without its message catalogs (glibc's strerrordesc_np: 680 B less of
   each static binary), or strerror's where the C library has no such call */
const char *rt_strerror(int e);

#endif
