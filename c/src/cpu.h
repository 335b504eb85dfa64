/* cpu.h: CPU feature detection, done once. TINYRUNTIME_KERNELS=ref forces the reference kernels. */
#ifndef TINYRUNTIME_CPU_H
#define TINYRUNTIME_CPU_H

typedef struct {
  int avx2;      /* AVX2 + FMA + OS support for YMM state (x86-64) */
  int avx512;    /* AVX-512F/BW/VL + OS support for ZMM state (x86-64); no kernels use it yet */
  int neon;      /* arm64 Advanced SIMD (always on aarch64) */
  int force_ref; /* TINYRUNTIME_KERNELS=ref */
} CpuInfo;

const CpuInfo *cpu_info(void);      /* detected on first call, then cached */
/* 1 when kernels for that ISA may be used: detected and not forced to ref. isa: "avx2", "neon" */
int cpu_use(const char *isa);
#endif
