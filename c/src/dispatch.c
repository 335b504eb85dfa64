/* dispatch.c: one table of kernels per instruction set, in order of preference (the last one this
 * CPU runs wins; TINYRUNTIME_KERNELS=ISA caps the choice at that table, =ref forces the reference).
 * A table without a kernel of some kind takes the best one below it, so adding a kernel is: its file,
 * its descriptor, one line here. */
#include "dispatch.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#define F32(isa, gemm, dw, act, mp, add, wino, wino4) {isa, gemm, dw, act, mp, add, wino, wino4}
static const struct {
  const char *isa;
  F32Kernels f32;                /* NULL members: inherit from the entry before */
  const Q8Kernels *sq8, *dq8;    /* NULL: inherit */
  const Q8DwDesc *sq8dw;         /* sq8 depthwise convolution; NULL: inherit */
  const Q8EwKernels *ew;         /* sq8 elementwise kernels; NULL: inherit */
} g_tables[] = {
    {"ref", F32("ref", &f32_gemm_6x16__ref_desc, &f32_dwconv__ref_desc, f32_act__ref, NULL, f32_add__ref, NULL, NULL), &q8_gemm_4x16__ref_desc,
     &q8_gemm_4x16__ref_desc, &q8_dwconv__ref_desc, &q8_ew__ref},
#if defined(__x86_64__)
    {"avx2", F32("avx2", &f32_gemm_6x16__avx2_desc, &f32_dwconv__avx2_desc, f32_act__avx2, f32_maxpool__avx2, f32_add__avx2, &f32_wino23__avx2_desc, &f32_wino43__avx2_desc), &q8_gemm_4x16u__avx2_desc,
     &q8_gemm_4x16__avx2_desc, &q8_dwconv__avx2_desc, &q8_ew__avx2},
    /* AVX-VNNI: the int8 GEMMs by vpdpbusd (sq8) and vpdpwssd (dq8) on ymm (CPUs with it and no AVX-512: Alder Lake,
       the N100); the table above it names its GEMMs, not to inherit these on a CPU with AVX-512 and no AVX-VNNI */
    {"avxvnni", F32("avxvnni", NULL, NULL, NULL, NULL, NULL, NULL, NULL), &q8_gemm_4x16u__avxvnni_desc,
     &q8_gemm_4x16__avxvnni_dq8_desc, NULL, NULL},
    {"avx512f", F32("avx512f", &f32_gemm_12x32__avx512f_desc, &f32_dwconv__avx512f_desc, NULL, f32_maxpool__avx512f, NULL,
                                  &f32_wino23__avx512f_desc, &f32_wino43__avx512f_desc), &q8_gemm_4x16u__avx2_desc,
     &q8_gemm_4x16__avx2_desc, NULL, &q8_ew__avx512f},
    {"avx512vnni", F32("avx512vnni", NULL, NULL, NULL, NULL, NULL, NULL, NULL), &q8_gemm_8x32__avx512vnni_desc, &q8_dq8gemm_4x32__avx512vnni_desc,
     &q8_dwconv__avx512vnni_desc, NULL},
    {"amx", F32("amx", NULL, NULL, NULL, NULL, NULL, NULL, NULL), &q8_gemm_32x32__amx_desc, &q8_dq8gemm_16x32__amx_desc, NULL, NULL},
#endif
#if defined(__aarch64__)
    {"neon", F32("neon", &f32_gemm_8x8__neon_desc, &f32_dwconv__neon_desc, f32_act__neon, NULL, NULL, NULL, NULL), &q8_gemm_4x16__neon_desc,
     &q8_gemm_4x16__neon_desc, &q8_dwconv__neon_desc, NULL},
    {"neondot", F32("neondot", NULL, NULL, NULL, NULL, NULL, NULL, NULL), &q8_gemm_8x12__neondot_desc, &q8_gemm_8x12__neondot_dq8_desc, NULL,
     NULL},
#endif
};
enum { N_TABLES = sizeof g_tables / sizeof *g_tables };

static F32Kernels g_f32[N_TABLES];
static const Q8Kernels *g_sq8[N_TABLES], *g_dq8[N_TABLES];
static const Q8DwDesc *g_sq8dw[N_TABLES];
static Q8EwKernels g_ew[N_TABLES];
static int g_ready;
static const F32Kernels *g_f32_forced;

static void resolve(void) {
  if (g_ready) return;
  for (int i = 0; i < N_TABLES; i++) {
    F32Kernels f = g_tables[i].f32;
    if (i > 0) {
      if (!f.gemm) f.gemm = g_f32[i - 1].gemm;
      if (!f.dw) f.dw = g_f32[i - 1].dw;
      if (!f.act) f.act = g_f32[i - 1].act;
      if (!f.maxpool) f.maxpool = g_f32[i - 1].maxpool;
      if (!f.add) f.add = g_f32[i - 1].add;
      if (!f.wino) f.wino = g_f32[i - 1].wino;
      if (!f.wino4) f.wino4 = g_f32[i - 1].wino4;
    }
    g_f32[i] = f;
    g_sq8[i] = g_tables[i].sq8 ? g_tables[i].sq8 : g_sq8[i - 1];
    g_dq8[i] = g_tables[i].dq8 ? g_tables[i].dq8 : g_dq8[i - 1];
    g_sq8dw[i] = g_tables[i].sq8dw ? g_tables[i].sq8dw : g_sq8dw[i - 1];
    Q8EwKernels w = g_tables[i].ew ? *g_tables[i].ew : g_ew[i - 1];
    if (i > 0) {   /* members a table leaves out: the table below's */
      if (!w.quantize) w.quantize = g_ew[i - 1].quantize;
      if (!w.add) w.add = g_ew[i - 1].add;
      if (!w.maxpool) w.maxpool = g_ew[i - 1].maxpool;
      if (!w.quad_planes) w.quad_planes = g_ew[i - 1].quad_planes;
    }
    g_ew[i] = w;
  }
  g_ready = 1;
}

/* the index of the table named k, -1 when this build has none */
static int table_of(const char *k) {
  for (int i = 0; i < N_TABLES; i++)
    if (strcmp(g_tables[i].isa, k) == 0) return i;
  return -1;
}

static int find(const char *isa) {
  int i = table_of(isa);
  return i >= 0 && cpu_has(isa) ? i : -1;
}

/* TINYRUNTIME_KERNELS: the index of the table it names, N_TABLES - 1 when unset or empty, -1 when
   this build knows no such table */
static int env_cap(void) {
  const char *k = getenv("TINYRUNTIME_KERNELS");
  return !k || !*k ? N_TABLES - 1 : table_of(k);
}

static int best(void) {
  int b = 0, cap = env_cap();
  if (cap < 0) cap = N_TABLES - 1;   /* the CLI refuses it first (dispatch_check_env) */
  for (int i = 1; i <= cap; i++)
    if (cpu_use(g_tables[i].isa)) b = i;
  return b;
}

/* unset or empty: the best table this CPU runs, whichever that is (a CPU without AMX, or an arm64 one
   without the dot product, runs a table below the last); else the table it names must be one `has` runs */
int dispatch_check_kernels(const char *k, int (*has)(const char *isa), char *err, size_t errlen) {
  if (!k || !*k) return 0;
  int cap = table_of(k);
  if (cap >= 0 && has(g_tables[cap].isa)) return 0;
  size_t n = (size_t)snprintf(err, errlen, "'%s' is %s (this CPU runs:", k,
                              cap < 0 ? "not an instruction set of this build" : "not run by this CPU");
  for (int i = 0; i < N_TABLES && n < errlen; i++)
    if (has(g_tables[i].isa)) n += (size_t)snprintf(err + n, errlen - n, " %s", g_tables[i].isa);
  if (n < errlen) snprintf(err + n, errlen - n, ")");
  return -1;
}

int dispatch_check_env(char *err, size_t errlen) {
  return dispatch_check_kernels(getenv("TINYRUNTIME_KERNELS"), cpu_has, err, errlen);
}

const char *dispatch_isa(int i) { return i >= 0 && i < N_TABLES ? g_tables[i].isa : NULL; }

const F32Kernels *f32_kernels_for(const char *isa) {
  resolve();
  int i = find(isa);
  return i < 0 ? NULL : &g_f32[i];
}

const Q8Kernels *q8_kernels_for(const char *isa, uint32_t kind) {
  resolve();
  int i = find(isa);
  return i < 0 ? NULL : kind == KIND_SQ8 ? g_sq8[i] : g_dq8[i];
}

const Q8DwDesc *q8_dw_for(const char *isa) {
  resolve();
  int i = find(isa);
  return i < 0 ? NULL : g_sq8dw[i];
}

const Q8EwKernels *q8_ew_for(const char *isa) {
  resolve();
  int i = find(isa);
  return i < 0 ? NULL : &g_ew[i];
}

const F32Kernels *f32_kernels(void) {
  resolve();
  return g_f32_forced ? g_f32_forced : &g_f32[best()];
}

const Q8Kernels *q8_kernels(uint32_t kind) {
  resolve();
  return kind == KIND_SQ8 ? g_sq8[best()] : g_dq8[best()];
}

const Q8Kernels *q8_kernels_below(uint32_t kind) {
  resolve();
  const Q8Kernels *const *t = kind == KIND_SQ8 ? g_sq8 : g_dq8;
  for (int b = best(), i = b - 1; i >= 0; i--)
    if (t[i] != t[b]) return t[i];
  return NULL;
}

const Q8DwDesc *q8_dw(void) {
  resolve();
  return g_sq8dw[best()];
}

const Q8EwKernels *q8_ew(void) {
  resolve();
  return &g_ew[best()];
}

void f32_kernels_force(const F32Kernels *k) { g_f32_forced = k; }

int f32_kernels_own(int i) {
  resolve();
  if (i < 0 || i >= N_TABLES || !cpu_has(g_tables[i].isa)) return 0;
  const F32Kernels *f = &g_tables[i].f32;
  return i == 0 || f->gemm || f->dw || f->act || f->maxpool;
}
