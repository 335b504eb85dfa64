/* cpu.h: CPU feature detection, done once. TINYRUNTIME_KERNELS=ref forces the reference kernels.
 * Each flag means: the CPU has it and the OS saves the registers it needs. */
#ifndef TINYRUNTIME_CPU_H
#define TINYRUNTIME_CPU_H

typedef struct {
  int avx2;        /* AVX2 + FMA (x86-64) */
  int avx512f;     /* AVX-512 F + BW + DQ + VL */
  int avx512vnni;  /* AVX-512 VNNI (vpdpbusd on zmm) */
  int avxvnni;     /* AVX-VNNI (vpdpbusd on ymm, VEX) */
  int amx_int8;    /* AMX-TILE + AMX-INT8 (+ AVX-512 VBMI, which every AMX CPU has), and Linux granted the tile data (arch_prctl) */
  int neon;        /* arm64 Advanced SIMD (always on aarch64) */
  int neondot;     /* arm64 SDOT/UDOT (ARMv8.2 dot product) */
  int pclmul;      /* SSE4.1 + PCLMULQDQ (x86-64) */
  int vpclmul;     /* VPCLMULQDQ on zmm (with avx512f) */
  int armcrc;      /* arm64 CRC32 instructions */
  int force_ref;   /* TINYRUNTIME_KERNELS=ref */
  int amd;         /* the vendor is AMD: for tuning only, where a rule measured opposite ways on Zen 4 and Intel
                      (ops_f32.c conv_t) */
} CpuInfo;

const CpuInfo *cpu_info(void);      /* detected on first call, then cached */
/* the bytes of the level-3 cache CPU 0 sees, by Linux's sysfs, 0 where unknown; read on the first call only (for tuning
   only: engine.c's one image at a time; not at every start-up, as the features are) */
unsigned long cpu_l3_bytes(void);
/* 1 when the CPU runs code for that ISA ("ref", "avx2", "avx512f", "avx512vnni", "avxvnni", "amx",
   "neon", "neondot", "pclmul", "vpclmul", "armcrc"), whether or not the reference is forced */
int cpu_has(const char *isa);
/* 1 when kernels for that ISA may be used by default: cpu_has and not forced to ref */
int cpu_use(const char *isa);
#endif
