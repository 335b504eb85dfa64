/* kernels_f32.h: float32 kernels, one reference (kernels/ref) and per-ISA versions (kernels/x86,
 * kernels/arm), all with the same signature and the same packed layouts. The engine picks the best
 * once at start-up into an F32Kernels table; TINYRUNTIME_KERNELS=ref forces the reference. */
#ifndef TINYRUNTIME_KERNELS_F32_H
#define TINYRUNTIME_KERNELS_F32_H
#include <stddef.h>

#define F32_MR 6  /* GEMM micro-tile rows (output channels) */
#define F32_NR 16 /* GEMM micro-tile columns (output pixels x images) */

/* C[MR x NR] = act(A·B + bias): a is a packed A panel, k x MR (a[kk*MR + r]); b a packed B panel,
   k x NR (b[kk*NR + j]); row r of C is at c + r*ldc; bias has MR entries; act is ACT_*.
   Every element is one sum over kk in increasing order, then + bias, then the activation. */
typedef void (*f32_gemm_fn)(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias,
                            int act);

/* one channel plane of a depthwise convolution: out[OH x OW] = act(bias + sum w[ky*kw+kx] * in[...]),
   zero padding, PyTorch's stride / padding / dilation. */
typedef struct { int H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, act; } F32DwShape;
typedef void (*f32_dwconv_fn)(const float *in, const float *w, float bias, float *out, const F32DwShape *s);

typedef struct {
  const char *isa;              /* "ref", "avx2", "neon" */
  const char *gemm_name;
  f32_gemm_fn gemm;
  const char *dwconv_name;
  f32_dwconv_fn dwconv;
} F32Kernels;

void f32_gemm_6x16__ref(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act);
void f32_dwconv__ref(const float *in, const float *w, float bias, float *out, const F32DwShape *s);
#if defined(__x86_64__)
void f32_gemm_6x16__avx2(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act);
void f32_dwconv__avx2(const float *in, const float *w, float bias, float *out, const F32DwShape *s);
#endif
#if defined(__aarch64__)
void f32_gemm_6x16__neon(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias, int act);
#endif

/* engine_f32.c: the table in use (chosen on first call from cpu.h), and for tests: the table of one
   ISA (NULL when this CPU or build lacks it) and a way to force one. */
const F32Kernels *f32_kernels(void);
const F32Kernels *f32_kernels_for(const char *isa);
void f32_kernels_force(const F32Kernels *k);
#endif
