/* util.c: the small helpers every part of the runtime shares (see util.h). */
#define _GNU_SOURCE   /* strerrordesc_np */
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rt_fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

void *rt_alloc64(size_t bytes) {
  if (bytes == 0) bytes = 64;
  if (bytes > SIZE_MAX - 64) return NULL;
  bytes = (bytes + 63) / 64 * 64;
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0) return NULL;
  memset(p, 0, bytes);
  return p;
}

double rt_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

const char *rt_strerror(int e) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *s = strerrordesc_np(e);
  return s ? s : "Unknown error";
#else
  return strerror(e);
#endif
}
