/* dispatch.h: the kernel tables, one per instruction set, chosen once at start-up from cpu.h.
 * TINYRUNTIME_KERNELS=ISA caps the choice at that ISA's table (=ref: the reference). Tests walk dispatch_isa(i) and take each table
 * "for this ISA" (NULL when this CPU or build lacks it) to test every variant the machine runs. */
#ifndef TINYRUNTIME_DISPATCH_H
#define TINYRUNTIME_DISPATCH_H
#include <stddef.h>
#include <stdint.h>

#include "kernels_f32.h"
#include "kernels_q8.h"
#include "ops.h"

const char *dispatch_isa(int i);               /* the ISA names this build knows, NULL past the end */
const F32Kernels *f32_kernels_for(const char *isa);
const Q8Kernels *q8_kernels_for(const char *isa, uint32_t kind);   /* kind: KIND_SQ8 or KIND_DQ8 */
const Q8DwDesc *q8_dw_for(const char *isa);   /* the sq8 depthwise kernel of that table */
const Q8EwKernels *q8_ew_for(const char *isa);      /* the sq8 elementwise kernels of that table */
const F32Kernels *f32_kernels(void);           /* the best for this CPU (or the forced table) */
const Q8Kernels *q8_kernels(uint32_t kind);
const Q8Kernels *q8_kernels_below(uint32_t kind);   /* the nearest table below q8_kernels's with other kernels; NULL: none */
const Q8DwDesc *q8_dw(void);
const Q8EwKernels *q8_ew(void);
void f32_kernels_force(const F32Kernels *k);   /* tests: NULL restores the best */
/* 0 when TINYRUNTIME_KERNELS is unset, empty or names a table this CPU runs; else -1 and a message */
int dispatch_check_env(char *err, size_t errlen);
/* the same for a value k on a CPU that runs what `has` says it runs (tests: other CPUs than this one) */
int dispatch_check_kernels(const char *k, int (*has)(const char *isa), char *err, size_t errlen);
/* 1 when table i (an ISA this machine runs) has f32 kernels of its own, not all inherited */
int f32_kernels_own(int i);
#endif
