/* cpu.c: CPU feature detection, once. TINYRUNTIME_KERNELS=ref forces the reference kernels. */
#define _GNU_SOURCE
#include "cpu.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

static CpuInfo g_info;
static int g_done;

#if defined(__x86_64__)
/* AMX: CPUID.(7,0):EDX bits 24 (tile), 25 (int8); XCR0 bits 17, 18 (tile config, tile data) enabled
   by the OS; and, on Linux, the process must ask for the tile data state once. */
static int amx_ok(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & (3u << 17)) != (3u << 17)) return 0;
#ifdef SYS_arch_prctl
  return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
#else
  return 0;
#endif
}
#endif

/* a small file's text, NUL-terminated; -1 when it cannot be read */
static int read_small(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, n - 1);
  close(fd);
  if (r <= 0) return -1;
  buf[r] = 0;
  return 0;
}
/* from /sys/devices/system/cpu/cpu0/cache/index<i>/{level,size} ("32768K") */
static unsigned long l3_bytes(void) {
  char path[80], buf[32];
  for (int i = 0; i < 8; i++) {
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    if (read_small(path, buf, sizeof buf)) return 0;
    if (atoi(buf) != 3) continue;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    if (read_small(path, buf, sizeof buf)) return 0;
    char *end;
    unsigned long v = strtoul(buf, &end, 10);
    return *end == 'K' ? v << 10 : *end == 'M' ? v << 20 : v;
  }
  return 0;
}

unsigned long cpu_l3_bytes(void) {
  static int done;
  static unsigned long l3;
  if (!done) l3 = l3_bytes(), done = 1;
  return l3;
}

const CpuInfo *cpu_info(void) {
  if (g_done) return &g_info;
  CpuInfo c;
  memset(&c, 0, sizeof c);
#if defined(__x86_64__)
  __builtin_cpu_init(); /* libgcc checks OSXSAVE/XCR0, i.e. that the OS saves YMM/ZMM state */
  c.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  c.avx512f = c.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  c.avx512vnni = c.avx512f && __builtin_cpu_supports("avx512vnni");
  unsigned a, b, cx, d;
  c.avxvnni = c.avx2 && __get_cpuid_count(7, 1, &a, &b, &cx, &d) && (a & (1u << 4));
  c.amx_int8 = c.avx512f && __builtin_cpu_supports("avx512vbmi") && amx_ok();   /* VBMI: the AMX file's packing */
  c.pclmul = __get_cpuid(1, &a, &b, &cx, &d) && (cx & (1u << 1)) && (cx & (1u << 19)); /* PCLMULQDQ, SSE4.1 */
  c.vpclmul = c.avx512f && c.pclmul && __get_cpuid_count(7, 0, &a, &b, &cx, &d) && (cx & (1u << 10));
  c.amd = __builtin_cpu_is("amd");
#elif defined(__aarch64__)
  c.neon = 1;
#ifdef HWCAP_CRC32
  c.armcrc = (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#endif
#ifdef HWCAP_ASIMDDP
  c.neondot = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
#endif
  const char *k = getenv("TINYRUNTIME_KERNELS");
  c.force_ref = k && strcmp(k, "ref") == 0;
  g_info = c;
  g_done = 1;
  return &g_info;
}

int cpu_has(const char *isa) {
  const CpuInfo *c = cpu_info();
  if (strcmp(isa, "ref") == 0) return 1;
  if (strcmp(isa, "avx2") == 0) return c->avx2;
  if (strcmp(isa, "avx512f") == 0) return c->avx512f;
  if (strcmp(isa, "avx512vnni") == 0) return c->avx512vnni;
  if (strcmp(isa, "avxvnni") == 0) return c->avxvnni;
  if (strcmp(isa, "amx") == 0) return c->amx_int8;
  if (strcmp(isa, "neon") == 0) return c->neon;
  if (strcmp(isa, "neondot") == 0) return c->neondot;
  if (strcmp(isa, "pclmul") == 0) return c->pclmul;
  if (strcmp(isa, "vpclmul") == 0) return c->vpclmul;
  if (strcmp(isa, "armcrc") == 0) return c->armcrc;
  return 0;
}

int cpu_use(const char *isa) { return !cpu_info()->force_ref && cpu_has(isa); }
