/* util_writer.h: a small in-memory writer of FORMAT.md model files, for the C tests (not shipped).
 * Build a model value by value and op by op, then mw_finish() returns the file bytes. Helpers compute
 * output shapes with PyTorch's formulas (written independently of the loader). Also tiny utilities
 * shared by the tests: a seeded RNG, temp files, a check macro. */
#ifndef TINYRUNTIME_UTIL_WRITER_H
#define TINYRUNTIME_UTIL_WRITER_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

typedef struct MW MW;
MW *mw_new(uint32_t kind, uint32_t c, uint32_t h, uint32_t w, uint32_t n_classes);
uint32_t mw_value(MW *w, uint32_t c, uint32_t h, uint32_t wd);                       /* f32 value */
uint32_t mw_value_q(MW *w, uint32_t c, uint32_t h, uint32_t wd, uint32_t dtype, float scale, int32_t zp);
Value   *mw_value_ptr(MW *w, uint32_t v);                                               /* to edit */
uint32_t mw_param(MW *w, uint32_t dtype, uint32_t ndim, const uint32_t dims[4], const void *data);
/* a parameter of d0 values (d1 == 0) or d0 x d1 */
uint32_t mw_param2(MW *w, uint32_t dtype, uint32_t d0, uint32_t d1, const void *data);
/* attr may be NULL (all 0); params may be NULL (all none) */
uint32_t mw_op(MW *w, uint32_t type, uint32_t act, uint32_t n_in, const uint32_t *in, uint32_t out,
               const int32_t *attr, const uint32_t *params);
Op      *mw_op_ptr(MW *w, uint32_t i);                                                  /* to edit */
void     mw_output(MW *w, uint32_t v);
void     mw_classes(MW *w, uint32_t n_classes);
void     mw_version(MW *w, uint32_t version);   /* default TR_VERSION; 1 writes a version-1 file (no checksum) */
/* an sq8 weight w, G groups of M rows of cig x T (PyTorch's (O, K) order), blocked as FORMAT.md's version 3 stores it
   into d (G * ceil(M/8) * ceil(cig/4) * T * 32 bytes, padding zero); mw_finish does it for sq8 files */
void     mw_block_sq8(const int8_t *w, size_t G, size_t M, size_t cig, size_t T, int8_t *d);
/* a dq8 weight (G * M, K) blocked as version 5 stores it (FORMAT.md), quantization groups of gs: G * ceil(M/4) * (K/gs) *
   ceil(gs/4) * 16 bytes */
void     mw_block_dq8(const int8_t *w, size_t G, size_t M, size_t K, size_t gs, int8_t *d);
/* (re)computes the version-2 checksum of file bytes b (after editing them) */
void     mw_seal(unsigned char *b, size_t size);
/* the file bytes (malloc'ed, caller frees); frees w */
unsigned char *mw_finish(MW *w, size_t *size);

/* op helpers: add the output value and the op, return the output value. w and b are copied. */
uint32_t mw_conv(MW *m, uint32_t x, int out_c, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                 int groups, int act, const float *w, const float *b);
uint32_t mw_linear(MW *m, uint32_t x, int out_f, int act, const float *w, const float *b);
uint32_t mw_maxpool(MW *m, uint32_t x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ceil_mode);
uint32_t mw_avgpool(MW *m, uint32_t x, int kh, int kw, int sh, int sw, int ph, int pw, int ceil_mode, int cip, int dov);
uint32_t mw_adaptive(MW *m, uint32_t x, int is_max, int oh, int ow);
uint32_t mw_add(MW *m, uint32_t a, uint32_t b, int act);
uint32_t mw_concat(MW *m, int n, const uint32_t *xs, int act);
uint32_t mw_flatten(MW *m, uint32_t x);
/* an sq8 model's end: x (int8, its scale and zero point) flattened, dequantized, and the model's output */
void     mw_sq8_output(MW *m, uint32_t x);
uint32_t mw_act(MW *m, uint32_t x, int act);

/* PyTorch's conv/pool output length (floor or ceil mode) */
int pt_out_len(int in, int k, int s, int p, int d, int ceil_mode);

/* deterministic RNG */
uint64_t rng_next(uint64_t *s);
float    rng_unif(uint64_t *s, float lo, float hi);
void     rng_fill(uint64_t *s, float *x, size_t n, float lo, float hi);
/* n sq8 output channels' requantization: bias in [-1000, 1000], multiplier in [2^30, 2^31), shift 38..41 */
void     rng_requant(uint64_t *s, int32_t *bias, int32_t *mult, int32_t *shift, int n);

int  write_file(const char *path, const void *buf, size_t size); /* 0 ok */
void make_tmpdir(char *out, size_t len);                         /* mkdtemp under $TMPDIR or /tmp */

extern int g_failures;
#define CHECK(cond, ...)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      g_failures++;                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
      fprintf(stderr, __VA_ARGS__);                                             \
      fputc('\n', stderr);                                                      \
    }                                                                           \
  } while (0)
int test_quick(void); /* TINYRUNTIME_TEST_QUICK set: the sanitizer run, fewer cases */

/* Runs `cd dir && env $TEST_EXEC bin args` with stdout and stderr captured into out/err (each may be NULL);
   returns the exit status (128 when the command did not exit normally). */
int run_capture(const char *dir, const char *env, const char *bin, const char *args, char *out, size_t outlen,
                char *err, size_t errlen);
#endif
