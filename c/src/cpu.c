/* cpu.c: CPU feature detection, once. TINYRUNTIME_KERNELS=ref forces the reference kernels. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

static CpuInfo g_info;
static int g_done;

const CpuInfo *cpu_info(void) {
  if (g_done) return &g_info;
  CpuInfo c = {0, 0, 0, 0};
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init(); /* libgcc checks OSXSAVE/XCR0, i.e. that the OS saves YMM/ZMM state */
  c.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  c.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
#elif defined(__aarch64__)
  c.neon = 1;
#endif
  const char *k = getenv("TINYRUNTIME_KERNELS");
  c.force_ref = k && strcmp(k, "ref") == 0;
  g_info = c;
  g_done = 1;
  return &g_info;
}

int cpu_use(const char *isa) {
  const CpuInfo *c = cpu_info();
  if (c->force_ref) return 0;
  if (strcmp(isa, "avx2") == 0) return c->avx2;
  if (strcmp(isa, "avx512") == 0) return c->avx512;
  if (strcmp(isa, "neon") == 0) return c->neon;
  return 0;
}
