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

/* a * b modulo the polynomial (reflected: bit 31 is x^0), zlib's multmodp */
static uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t m = (uint32_t)1 << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = b & 1 ? (b >> 1) ^ 0xEDB88320u : b >> 1;
  }
  return p;
}

uint32_t rt_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  /* crc(a b) = crc_a * x^(8 len_b) + crc_b: the power by squaring, sq = x^(8 * 2^k) for bit k of len_b */
  uint32_t p = (uint32_t)1 << 31, sq = (uint32_t)1 << 30;   /* x^0, x^1 */
  for (int i = 0; i < 3; i++) sq = multmodp(sq, sq);          /* x^8 */
  for (uint64_t n = len_b; n; n >>= 1) {
    if (n & 1) p = multmodp(sq, p);
    sq = multmodp(sq, sq);
  }
  return multmodp(p, crc_a) ^ crc_b;
}
