/* crc32.c: which CRC-32 runs (crc32.h): the last path of the list this CPU runs, chosen once, or the
 * portable one under TINYRUNTIME_KERNELS=ref. */
#include "crc32.h"

#include <string.h>

#include "cpu.h"

static const struct { const char *name, *isa; crc32_fn fn; } g_paths[] = {
    {"bytewise", NULL, crc32_bytewise},   /* the oracle, never chosen */
    {"slice16", "ref", crc32_slice16},
#if defined(__x86_64__)
    {"pclmul", "pclmul", crc32_pclmul},
    {"vpclmul", "vpclmul", crc32_vpclmul},
#endif
#if defined(__aarch64__)
    {"armcrc", "armcrc", crc32_armcrc},
#endif
};
enum { N_PATHS = sizeof g_paths / sizeof *g_paths };
static int g_best = -1;

const char *crc32_path(int i) { return i >= 0 && i < N_PATHS ? g_paths[i].name : NULL; }

crc32_fn crc32_for(const char *name) {
  for (int i = 0; i < N_PATHS; i++)
    if (strcmp(g_paths[i].name, name) == 0) return !g_paths[i].isa || cpu_has(g_paths[i].isa) ? g_paths[i].fn : NULL;
  return NULL;
}

static int best(void) {
  if (g_best < 0) {
    int b = 1;
    for (int i = 2; i < N_PATHS; i++)
      if (cpu_use(g_paths[i].isa)) b = i;
    g_best = b;
  }
  return g_best;
}

const char *crc32_isa(void) { return g_paths[best()].name; }

uint32_t rt_crc32(uint32_t crc, const void *buf, size_t n) { return g_paths[best()].fn(crc, buf, n); }
