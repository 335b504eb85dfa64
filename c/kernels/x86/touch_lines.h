/* touch_lines.h: a plain store into each cache line of a small output before a kernel's masked stores write it.
 *
 * On Zen 4 at two threads, masked stores (`vmovdqu8` / `vmovups` with a mask) into lines that the core did not
 * already hold written were slow: MobileNetV2's 14x14 and 7x7 depthwise layers and ResNet's sq8 stem max pool ran
 * as slow on two threads as on one. A plain store into each line first (of 0: the kernel's stores then overwrite
 * it) made them 1.3-2.9x faster there; a `prefetchw`, a load or a `prefetcht0` of the same lines did not help
 * (c/README.md, "The depthwise kernels' masked stores"). Only outputs of at most TOUCH_MAX bytes (a plane:
 * MobileNetV2's 28x28 f32 planes and ResNet's 56x56 sq8 pool planes are 3,136 bytes): larger planes' rows are
 * whole vectors but the last, and MobileNetV2's 112x112 f32 depthwise layer was slower with the touch. Only the
 * bytes [p, p + n) are written: the first, and each one that starts a line, so a neighbour's bytes in a shared
 * line stay as they are. */
#ifndef TINYRUNTIME_TOUCH_LINES_H
#define TINYRUNTIME_TOUCH_LINES_H
#include <stddef.h>
#include <stdint.h>

enum { TOUCH_MAX = 4096 };

static inline void touch_lines(void *p, size_t n) {
  if (!n || n > TOUCH_MAX) return;
  char *a = (char *)p, *end = (char *)p + n;
  *(volatile char *)a = 0;
  for (a = (char *)(((uintptr_t)a + 64) & ~(uintptr_t)63); a < end; a += 64) *(volatile char *)a = 0;
}
#endif
