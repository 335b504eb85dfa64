/* test_f32_ops.c: every f32 operation, through the loader and the engine, against the plain
 * references of util_ref.c, with each kernel table this machine runs (src/dispatch.c), at batch
 * sizes 1, 2 and 3 and with 1, 2, 3 and 8 threads (which must give bit-identical results). Batches of 2+ on 2+
 * threads run on lanes (engine.c) and, with TINYRUNTIME_LANES=0, with the ops over the threads. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_impl.h"
#include "dispatch.h"
#include "util_ref.h"
#include "util_run.h"
#include "util_writer.h"

#define NIMG 3

/* run the model in buf on NIMG images with batch `batch` (in chunks), into out (NIMG x n_classes) */
static int run(const unsigned char *buf, size_t size, int batch, const float *in, float *out) {
  char err[512];
  int rc = run_model_batches(buf, size, batch, NIMG, in, out, err, sizeof err);
  if (rc) fprintf(stderr, "%s\n", err);
  return rc;
}

/* runs with every kernel table, batch 1, 2 and 3, threads 1, 2, 3 and 8; compares with ref (yabs: per-output
   rounding scale, n terms per output) */
static void check_model(const char *name, unsigned char *buf, size_t size, const float *in, size_t nout,
                        const double *ref, const double *yabs, double terms) {
  float *out = malloc(NIMG * nout * sizeof(float)), *o2 = malloc(NIMG * nout * sizeof(float));
  const F32Kernels *best = f32_kernels();
  for (int k = 0; dispatch_isa(k); k++) {   /* every kernel table this machine runs */
    const char *isa = dispatch_isa(k);
    if (!f32_kernels_own(k)) continue;
    const F32Kernels *kt = f32_kernels_for(isa);
    f32_kernels_force(kt);
    set_threads(1);
    if (run(buf, size, NIMG, in, out)) { CHECK(0, "%s [%s]: run failed", name, isa); continue; }
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < NIMG * nout; i++) {
      /* the sum's rounding (bounded by its terms), scaled by the activation's slope (<= 1.5), and the
         activation's own rounding */
      double tol = 1.5 * 4.0 * (terms + 2) * (FLT_EPSILON / 2) * yabs[i] + 4 * FLT_EPSILON * fabs(ref[i]) + 1e-30;
      if (isnan(ref[i]) && isnan(out[i])) continue;   /* NaN propagated as the reference's */
      double d = fabs((double)out[i] - ref[i]);
      if (!(d <= tol)) {
        if (!bad) fprintf(stderr, "  %s [%s] out[%zu] = %.9g, ref %.9g, tol %.3g\n", name, isa, i, out[i], ref[i], tol);
        bad++;
      }
      if (d > worst) worst = d;
    }
    CHECK(bad == 0, "%s [%s]: %zu of %zu outputs outside the bound (worst %.3g)", name, isa, bad, NIMG * nout, worst);
    /* quick runs (ASan, qemu): a table below the best this machine runs is checked against the reference only; its
       batches, threads and lanes in the plain run (for the arm64 build under qemu they took 45% of its time) */
    if (test_quick() && kt != best) continue;
    /* batch, threads, lanes (engine.c: a batch of 2+ on 2+ threads runs on lanes, each op on one thread, a last image
       alone on lane 0 with its ops over the threads; without, the ops over the threads): 3 and 8 threads split
       Winograd's (block, panel) units so that a thread's run takes only some of the panels (batch 2 of a 14x14 map,
       8 threads: 4 blocks) and must make their U itself */
    int cfg[8][3] = {{1, 1, 1}, {1, 2, 1}, {2, 2, 1}, {NIMG, 2, 1}, {NIMG, 3, 1}, {2, 2, 0}, {NIMG, 3, 0}, {2, 8, 0}};
    for (int c = 0; c < 8; c++) {
      set_threads(cfg[c][1]);
      setenv("TINYRUNTIME_LANES", cfg[c][2] ? "1" : "0", 1);
      memset(o2, 0, NIMG * nout * sizeof(float));
      CHECK(run(buf, size, cfg[c][0], in, o2) == 0 && memcmp(out, o2, NIMG * nout * sizeof(float)) == 0,
            "%s [%s]: batch %d, %d threads (lanes %d) differ from batch %d, 1 thread", name, isa, cfg[c][0], cfg[c][1],
            cfg[c][2], NIMG);
      unsetenv("TINYRUNTIME_LANES");
    }
  }
  f32_kernels_force(NULL);
  set_threads(1);
  free(out), free(o2), free(buf);
}

typedef struct { int C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, g, act, bias; } ConvCase;

/* the model file of one conv (or LINEAR) and a FLATTEN, format version `version` (0: the current one) */
static unsigned char *conv_model(const ConvCase *t, int linear, const float *w, const float *b, int version, size_t nout,
                                 size_t *size) {
  MW *m = mw_new(KIND_F32, t->C, t->H, t->W, 1);
  if (version) mw_version(m, (uint32_t)version);
  uint32_t y = linear ? mw_linear(m, 0, t->O, t->act, w, t->bias ? b : NULL)
                      : mw_conv(m, 0, t->O, t->kh, t->kw, t->sh, t->sw, t->ph, t->pw, t->dh, t->dw, t->g, t->act, w,
                                t->bias ? b : NULL);
  if (nout > (size_t)t->O || !linear) y = mw_flatten(m, y);
  mw_classes(m, (uint32_t)nout);
  return mw_finish(m, size);
}

static void test_conv(uint64_t *rng, const ConvCase *t, int linear) {
  int cg = t->C / t->g, K = cg * t->kh * t->kw;
  size_t ie = (size_t)t->C * t->H * t->W, nw = (size_t)t->O * K;
  float *x = malloc(NIMG * ie * sizeof(float)), *w = malloc(nw * sizeof(float)), *b = malloc(t->O * sizeof(float));
  rng_fill(rng, x, NIMG * ie, -1, 1), rng_fill(rng, w, nw, -1, 1), rng_fill(rng, b, t->O, -1, 1);
  int OH = pt_out_len(t->H, t->kh, t->sh, t->ph, t->dh, 0), OW = pt_out_len(t->W, t->kw, t->sw, t->pw, t->dw, 0);
  size_t nout = (size_t)t->O * OH * OW, size;
  unsigned char *buf = conv_model(t, linear, w, b, 0, nout, &size);
  double *ref = malloc(NIMG * nout * sizeof(double)), *yabs = malloc(NIMG * nout * sizeof(double));
  for (int i = 0; i < NIMG; i++) {
    int oh, ow;
    ref_conv2d(x + i * ie, t->C, t->H, t->W, w, t->bias ? b : NULL, t->O, t->kh, t->kw, t->sh, t->sw, t->ph, t->pw,
               t->dh, t->dw, t->g, t->act, ref + i * nout, yabs + i * nout, &oh, &ow);
  }
  char name[160];
  snprintf(name, sizeof name, "%s C%d %dx%d O%d k%dx%d s%d,%d p%d,%d d%d,%d g%d act%d bias%d", linear ? "linear" : "conv",
           t->C, t->H, t->W, t->O, t->kh, t->kw, t->sh, t->sw, t->ph, t->pw, t->dh, t->dw, t->g, t->act, t->bias);
  if (linear || (t->g == 1 && (t->kh * t->kw == 1 || K >= 64))) {
    /* version 7 holds this weight in panels unless Winograd-shaped or (more taps) on a map of more than 16 pixels whose
       rows are not runs of 7 (FORMAT.md; a 1x1 from version 4, a LINEAR of little padding from 7): a version-5 (3; a
       LINEAR's 6) file's (O, K) rows give the same bytes, at batch 1 (in place, or packed; a LINEAR's panels on
       gemm_t, ops_f32.c lin_t) and NIMG (batch 2+: packed for gemm_t; a 1x1's panels read in place by gemm_t, or by
       gemm_u as tiles of 12, 12 and 8 rows), on 1 and 2 threads; and so does a version-6 file of more taps (in panels
       on any map: copied into rows at start-up where not on gemm_t) */
    int olds[2] = {linear ? 6 : t->kh * t->kw == 1 ? 3 : 5, linear || t->kh * t->kw == 1 ? 0 : 6};
    for (int v = 0; v < 2 && olds[v]; v++) {
      size_t size5;
      int old = olds[v];
      unsigned char *buf5 = conv_model(t, linear, w, b, old, nout, &size5);
      float *o6 = malloc(NIMG * nout * sizeof(float)), *o5 = malloc(NIMG * nout * sizeof(float));
      for (int c = 0; c < 4; c++) {
        set_threads(1 + c / 2);
        int ok = run(buf, size, c % 2 ? NIMG : 1, x, o6) == 0 && run(buf5, size5, c % 2 ? NIMG : 1, x, o5) == 0;
        CHECK(ok && memcmp(o6, o5, NIMG * nout * sizeof(float)) == 0, "%s: version %u and %d differ (batch %d, %d threads)",
              name, TR_VERSION, old, c % 2 ? NIMG : 1, 1 + c / 2);
      }
      set_threads(1);
      free(buf5), free(o6), free(o5);
    }
  }
  check_model(name, buf, size, x, nout, ref, yabs, K);   /* (frees buf) */
  free(x), free(w), free(b), free(ref), free(yabs);
}

static int g_pool_nans; /* test_pool: this many inputs are NaN (at scattered places) */

/* pools / adaptive pools: kind 0 max, 1 avg, 2 adaptive avg, 3 adaptive max */
static void test_pool(uint64_t *rng, int kind, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                      int dh, int dw, int cm, int cip, int dov) {
  size_t ie = (size_t)C * H * W;
  float *x = malloc(NIMG * ie * sizeof(float));
  rng_fill(rng, x, NIMG * ie, -3, 3);
  for (int k = 0; k < g_pool_nans; k++) x[(size_t)k * 7919 % (NIMG * ie)] = NAN;
  MW *m = mw_new(KIND_F32, C, H, W, 1);
  int OH, OW;
  uint32_t y;
  if (kind == 0) y = mw_maxpool(m, 0, kh, kw, sh, sw, ph, pw, dh, dw, cm), OH = pt_out_len(H, kh, sh, ph, dh, cm), OW = pt_out_len(W, kw, sw, pw, dw, cm);
  else if (kind == 1) y = mw_avgpool(m, 0, kh, kw, sh, sw, ph, pw, cm, cip, dov), OH = pt_out_len(H, kh, sh, ph, 1, cm), OW = pt_out_len(W, kw, sw, pw, 1, cm);
  else y = mw_adaptive(m, 0, kind == 3, kh, kw), OH = kh, OW = kw;
  y = mw_flatten(m, y);
  size_t nout = (size_t)C * OH * OW;
  mw_classes(m, (uint32_t)nout);
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  double *ref = malloc(NIMG * nout * sizeof(double)), *yabs = malloc(NIMG * nout * sizeof(double));
  for (int i = 0; i < NIMG; i++) {
    int oh, ow;
    if (kind == 0) ref_maxpool(x + i * ie, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, cm, ref + i * nout, &oh, &ow);
    else if (kind == 1) ref_avgpool(x + i * ie, C, H, W, kh, kw, sh, sw, ph, pw, cm, cip, dov, ref + i * nout, &oh, &ow);
    else ref_adaptive(x + i * ie, C, H, W, kind == 3, kh, kw, ref + i * nout);
  }
  for (size_t i = 0; i < NIMG * nout; i++) yabs[i] = 3.0; /* |x| <= 3: a mean's rounding is below 3 * n * eps */
  char name[160];
  snprintf(name, sizeof name, "pool%d C%d %dx%d k%dx%d s%d,%d p%d,%d d%d,%d ceil%d cip%d div%d", kind, C, H, W, kh, kw, sh,
           sw, ph, pw, dh, dw, cm, cip, dov);
  check_model(name, buf, size, x, nout, ref, yabs, (double)H * W);
  free(x), free(ref), free(yabs);
}

/* add, concat, act, flatten, and a small residual network of several ops (exercises the planner) */
static void test_graph(uint64_t *rng) {
  int C = 5, H = 9, W = 7;
  size_t ie = (size_t)C * H * W;
  float *x = malloc(NIMG * ie * sizeof(float)), w1[5 * 5 * 9], b1[5], w2[5 * 5], w3[4 * 10 * 4], b3[4];
  rng_fill(rng, x, NIMG * ie, -2, 2), rng_fill(rng, w1, 225, -1, 1), rng_fill(rng, b1, 5, -1, 1);
  rng_fill(rng, w2, 25, -1, 1), rng_fill(rng, w3, 160, -1, 1), rng_fill(rng, b3, 4, -1, 1);
  MW *m = mw_new(KIND_F32, C, H, W, 4);
  uint32_t a = mw_conv(m, 0, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, w1, b1);  /* relu(conv3x3(x)) */
  uint32_t r = mw_add(m, a, 0, 2);                                      /* relu6(a + x) */
  uint32_t c2 = mw_conv(m, r, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, w2, NULL); /* 1x1, no bias */
  uint32_t ng = mw_act(m, c2, 1);
  uint32_t cat_in[2] = {ng, r};
  uint32_t cat = mw_concat(m, 2, cat_in, 0);                            /* 10 channels */
  uint32_t p = mw_maxpool(m, cat, 3, 3, 2, 2, 1, 1, 1, 1, 1);          /* ceil mode: 5x4 */
  uint32_t ap = mw_adaptive(m, p, 0, 2, 2);
  uint32_t f = mw_flatten(m, ap);
  mw_linear(m, f, 4, 0, w3, b3);
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  double *ref = malloc(NIMG * 4 * sizeof(double)), *yabs = malloc(NIMG * 4 * sizeof(double));
  size_t n = (size_t)C * H * W;
  double *ya = malloc(n * sizeof(double)), *yb = malloc(n * sizeof(double)), *tmp = malloc(n * sizeof(double));
  float *fa = malloc(2 * n * sizeof(float)), *fr = malloc(n * sizeof(float));
  for (int i = 0; i < NIMG; i++) {
    int oh, ow;
    const float *xi = x + i * ie;
    ref_conv2d(xi, C, H, W, w1, b1, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, ya, tmp, &oh, &ow);
    for (size_t k = 0; k < n; k++) fr[k] = (float)ref_act(ya[k] + xi[k], 2);
    ref_conv2d(fr, C, H, W, w2, NULL, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, yb, tmp, &oh, &ow);
    for (size_t k = 0; k < n; k++) fa[k] = (float)yb[k], fa[n + k] = fr[k];
    double *pl = malloc(10 * 5 * 4 * sizeof(double)), ad[40];
    ref_maxpool(fa, 10, H, W, 3, 3, 2, 2, 1, 1, 1, 1, 1, pl, &oh, &ow);
    float plf[200];
    for (int k = 0; k < 10 * oh * ow; k++) plf[k] = (float)pl[k];
    ref_adaptive(plf, 10, oh, ow, 0, 2, 2, ad);
    float adf[40];
    for (int k = 0; k < 40; k++) adf[k] = (float)ad[k];
    int o1, o2;
    ref_conv2d(adf, 40, 1, 1, w3, b3, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, ref + i * 4, yabs + i * 4, &o1, &o2);
    for (int k = 0; k < 4; k++) yabs[i * 4 + k] = 100.0; /* intermediate roundings (float vs double) */
    free(pl);
  }
  check_model("graph conv+add+act+concat+maxpool+adaptive+flatten+linear", buf, size, x, 4, ref, yabs, 300);
  free(x), free(ref), free(yabs), free(ya), free(yb), free(tmp), free(fa), free(fr);
}

/* residual blocks whose ADD the engine fuses into the convolution before it (ops_f32.c residual_of), on
   each path that takes one: Winograd (3x3, maps of 14+), the implicit convolution (5x5, stride 1), a 1x1 read
   in place, a 1x1 stride 2 on its subsampled input (conv_sub); the ADD's other input the block's input or another block's fused output
   (the arena lays the ADD's output on it: chains of such), either operand order, the ADD's activation none,
   ReLU, ReLU6 or SiLU. The output is the last block's, flattened: every value checked. */
static void test_residual(uint64_t *rng, int H) {
  enum { C = 16 };
  int W = H, H2 = H / 2, OUT = C * H2 * H2;
  size_t ie = (size_t)C * H * W, n = ie;
  float *x = malloc(NIMG * ie * sizeof(float)), *w[8], b[8][C];
  int ks[8] = {1, 3, 3, 3, 1, 3, 1, 5};
  for (int i = 0; i < 8; i++) {
    w[i] = malloc((size_t)C * C * ks[i] * ks[i] * sizeof(float));
    rng_fill(rng, w[i], (size_t)C * C * ks[i] * ks[i], -1.0f / ks[i] / 4, 1.0f / ks[i] / 4), rng_fill(rng, b[i], C, -0.5f, 0.5f);
  }
  rng_fill(rng, x, NIMG * ie, -1, 1);
  MW *m = mw_new(KIND_F32, C, H, W, OUT);
  uint32_t v1 = mw_conv(m, 0, C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU, w[0], b[0]);
  uint32_t v2 = mw_conv(m, v1, C, 3, 3, 1, 1, 1, 1, 1, 1, 1, ACT_RELU, w[1], b[1]);
  uint32_t v3 = mw_conv(m, v2, C, 3, 3, 1, 1, 1, 1, 1, 1, 1, ACT_NONE, w[2], b[2]);
  uint32_t z1 = mw_add(m, v3, v1, ACT_RELU);                                         /* Winograd */
  uint32_t v4 = mw_conv(m, z1, C, 3, 3, 1, 1, 1, 1, 1, 1, 1, ACT_RELU, w[3], b[3]);
  uint32_t v5 = mw_conv(m, v4, C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, w[4], b[4]);
  uint32_t z2 = mw_add(m, z1, v5, ACT_NONE);                                         /* 1x1 in place, on z1 */
  uint32_t v6 = mw_conv(m, z2, C, 3, 3, 2, 2, 1, 1, 1, 1, 1, ACT_NONE, w[5], b[5]);
  uint32_t v7 = mw_conv(m, z2, C, 1, 1, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, w[6], b[6]);
  uint32_t z3 = mw_add(m, v6, v7, ACT_RELU6);                                        /* 1x1 stride 2 (subsampled), on v6 */
  uint32_t v8 = mw_conv(m, z3, C, 5, 5, 1, 1, 2, 2, 1, 1, 1, ACT_NONE, w[7], b[7]);
  uint32_t z4 = mw_add(m, v8, z3, ACT_SILU);                                         /* implicit 5x5, on z3 */
  mw_output(m, mw_flatten(m, z4));
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  double *ref = malloc(NIMG * OUT * sizeof(double)), *yabs = malloc(NIMG * OUT * sizeof(double));
  double *y = malloc(n * sizeof(double)), *ya = malloc(n * sizeof(double));
  float *f1 = malloc(n * sizeof(float)), *f2 = malloc(n * sizeof(float)), *fz = malloc(n * sizeof(float)), *f6 = malloc(n * sizeof(float));
  for (int i = 0; i < NIMG; i++) {   /* each value rounded to float as the engine stores it */
    int oh, ow;
    ref_conv2d(x + i * ie, C, H, W, w[0], b[0], C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU, y, ya, &oh, &ow);
    for (size_t k = 0; k < n; k++) f1[k] = (float)y[k];
    ref_conv2d(f1, C, H, W, w[1], b[1], C, 3, 3, 1, 1, 1, 1, 1, 1, 1, ACT_RELU, y, ya, &oh, &ow);
    for (size_t k = 0; k < n; k++) f2[k] = (float)y[k];
    ref_conv2d(f2, C, H, W, w[2], b[2], C, 3, 3, 1, 1, 1, 1, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < n; k++) fz[k] = (float)ref_act((double)(float)y[k] + f1[k], ACT_RELU);
    ref_conv2d(fz, C, H, W, w[3], b[3], C, 3, 3, 1, 1, 1, 1, 1, 1, 1, ACT_RELU, y, ya, &oh, &ow);
    for (size_t k = 0; k < n; k++) f2[k] = (float)y[k];
    ref_conv2d(f2, C, H, W, w[4], b[4], C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < n; k++) fz[k] = (float)((double)fz[k] + (float)y[k]);
    ref_conv2d(fz, C, H, W, w[5], b[5], C, 3, 3, 2, 2, 1, 1, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < (size_t)OUT; k++) f6[k] = (float)y[k];
    ref_conv2d(fz, C, H, W, w[6], b[6], C, 1, 1, 2, 2, 0, 0, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < (size_t)OUT; k++) fz[k] = (float)ref_act((double)f6[k] + (float)y[k], ACT_RELU6);
    ref_conv2d(fz, C, H2, H2, w[7], b[7], C, 5, 5, 1, 1, 2, 2, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < (size_t)OUT; k++) {
      ref[i * OUT + k] = ref_act((double)(float)y[k] + fz[k], ACT_SILU);
      yabs[i * OUT + k] = 100.0;   /* the roundings of four blocks (float vs double) */
    }
  }
  check_model(H == 16   ? "residual blocks (ADD fused: Winograd, 1x1 in place, 1x1 stride 2 subsampled, implicit 5x5)"
              : H == 14 ? "residual blocks on 14x14 (the 1x1s on gemm_t where the kernel has it)"
                        : "residual blocks on 8x8 (the stride-1 1x1 packed in one K chunk where the kernel has no gemm_t: "
                          "pack_1x1, its ADD fused)",
              buf, size, x, (size_t)OUT, ref, yabs, 400);
  for (int i = 0; i < 8; i++) free(w[i]);
  free(x), free(ref), free(yabs), free(y), free(ya), free(f1), free(f2), free(fz), free(f6);
}

/* MobileNetV2's inverted residual blocks on 28x28 (ops_f32.c dw_fusable): 1x1 expansions (28 channels: two
   panels of 12 and one of 4) whose depthwise 3x3 after them the engine runs with them, at stride 1 and 2, and
   one whose output an ADD reads too (not fused: its output must be stored whole). Every value checked. */
static void test_dwfused(uint64_t *rng) {
  enum { C = 8, E = 28, H = 28, H2 = 14, OUT = E * H2 * H2 };
  size_t ie = (size_t)C * H * H, ne = (size_t)E * H * H;
  float *x = malloc(NIMG * ie * sizeof(float)), *w1[4], *wd[3], b1[4][E], bd[3][E];
  int o1[4] = {E, C, E, E}, i1[4] = {C, E, C, E};
  for (int i = 0; i < 4; i++) {
    w1[i] = malloc((size_t)o1[i] * i1[i] * sizeof(float));
    rng_fill(rng, w1[i], (size_t)o1[i] * i1[i], -0.5f, 0.5f), rng_fill(rng, b1[i], o1[i], -0.5f, 0.5f);
  }
  for (int i = 0; i < 3; i++) wd[i] = malloc((size_t)E * 9 * sizeof(float)), rng_fill(rng, wd[i], (size_t)E * 9, -0.4f, 0.4f), rng_fill(rng, bd[i], E, -0.5f, 0.5f);
  rng_fill(rng, x, NIMG * ie, -1, 1);
  MW *m = mw_new(KIND_F32, C, H, H, OUT);
  uint32_t v1 = mw_conv(m, 0, E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, w1[0], b1[0]);
  uint32_t v2 = mw_conv(m, v1, E, 3, 3, 1, 1, 1, 1, 1, 1, E, ACT_RELU6, wd[0], bd[0]);   /* fused, stride 1 */
  uint32_t v3 = mw_conv(m, v2, C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, w1[1], b1[1]);
  uint32_t z1 = mw_add(m, v3, 0, ACT_NONE);
  uint32_t v4 = mw_conv(m, z1, E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, w1[2], b1[2]);
  uint32_t v5 = mw_conv(m, v4, E, 3, 3, 1, 1, 1, 1, 1, 1, E, ACT_RELU6, wd[1], bd[1]);   /* not fused: the ADD reads v4 */
  uint32_t z2 = mw_add(m, v5, v4, ACT_NONE);
  uint32_t v6 = mw_conv(m, z2, E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, w1[3], b1[3]);   /* (28 channels in) */
  uint32_t v7 = mw_conv(m, v6, E, 3, 3, 2, 2, 1, 1, 1, 1, E, ACT_NONE, wd[2], bd[2]);    /* fused, stride 2 */
  mw_output(m, mw_flatten(m, v7));
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  double *ref = malloc(NIMG * OUT * sizeof(double)), *yabs = malloc(NIMG * OUT * sizeof(double));
  double *y = malloc(ne * sizeof(double)), *ya = malloc(ne * sizeof(double));
  float *fa = malloc(ne * sizeof(float)), *fb = malloc(ne * sizeof(float)), *fz = malloc(ne * sizeof(float));
  for (int i = 0; i < NIMG; i++) {   /* each stored value rounded to float as the engine stores it */
    int oh, ow;
    ref_conv2d(x + i * ie, C, H, H, w1[0], b1[0], E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < ne; k++) fa[k] = (float)y[k];
    ref_conv2d(fa, E, H, H, wd[0], bd[0], E, 3, 3, 1, 1, 1, 1, 1, 1, E, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < ne; k++) fb[k] = (float)y[k];
    ref_conv2d(fb, E, H, H, w1[1], b1[1], C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < ie; k++) fz[k] = (float)((double)(float)y[k] + x[i * ie + k]);
    ref_conv2d(fz, C, H, H, w1[2], b1[2], E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < ne; k++) fa[k] = (float)y[k];
    ref_conv2d(fa, E, H, H, wd[1], bd[1], E, 3, 3, 1, 1, 1, 1, 1, 1, E, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < ne; k++) fb[k] = (float)((double)(float)y[k] + fa[k]);
    ref_conv2d(fb, E, H, H, w1[3], b1[3], E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < ne; k++) fa[k] = (float)y[k];
    ref_conv2d(fa, E, H, H, wd[2], bd[2], E, 3, 3, 2, 2, 1, 1, 1, 1, E, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < (size_t)OUT; k++) ref[i * OUT + k] = y[k], yabs[i * OUT + k] = 100.0;   /* four blocks' roundings */
  }
  check_model("inverted residual blocks on 28x28 (1x1 expansion and depthwise 3x3 fused, stride 1 and 2; one not)", buf,
              size, x, (size_t)OUT, ref, yabs, 400);
  for (int i = 0; i < 4; i++) free(w1[i]);
  for (int i = 0; i < 3; i++) free(wd[i]);
  free(x), free(ref), free(yabs), free(y), free(ya), free(fa), free(fb), free(fz);
}

/* the inverted residual blocks an engine of the model (on `threads` threads) runs as one op (ops_f32.c run_irb), of
   OpState.irb kind (0: any); -2 where its kernel table has no gemm_u (the reference's: no dwf, so none) */
static int irb_op(const Engine *e, unsigned i, int kind) {
  return (i == 0 && !e->kf->gemm->gemm_u ? -2 : 0) + (kind ? e->st[i].irb == kind : irb_runs(&e->st[i]));
}
static int irb_blocks(const unsigned char *buf, size_t size, int threads, int kind) {
  return count_ops(buf, size, threads, irb_op, kind);
}

/* Inverted residual blocks whose projection runs in the expansion's op (run_irb; on one thread not the stride-1 ones:
   run_dwf and the projection's own op): 256 channels inside, so the depthwise op's 56-wide rows come 5 to a band (several bands, their
   halo rows kept from one to the next; 8 threads: 4 chunks of rows an image); stride 1 without an ADD, stride 1 with
   its ADD fused (the ADD's output on a block of its own: the expansion reads r around each band), stride 2; before them a depthwise op on the model's input and its projection (run_irb from the
   depthwise op: MobileNetV2's first block). check_model compares 2, 3 and 8 threads (other bands and chunks; the
   stride-1 blocks fused) with one, byte for byte */
static void test_irb(uint64_t *rng) {
  enum { C = 8, E = 256, H = 56, H2 = 28, OUT = C * H2 * H2 };
  size_t ie = (size_t)C * H * H, ne = (size_t)E * H * H;
  float *x = malloc(NIMG * ie * sizeof(float)), *we[3], *wp[3], *wd[3], be[3][E], bp[3][C], bd[3][E], w0[C * 9], b0[C], wq[C * C], bq[C];
  rng_fill(rng, w0, C * 9, -0.4f, 0.4f), rng_fill(rng, b0, C, -0.5f, 0.5f), rng_fill(rng, wq, C * C, -0.4f, 0.4f), rng_fill(rng, bq, C, -0.5f, 0.5f);
  for (int i = 0; i < 3; i++) {
    we[i] = malloc((size_t)E * C * sizeof(float)), wp[i] = malloc((size_t)C * E * sizeof(float)), wd[i] = malloc((size_t)E * 9 * sizeof(float));
    rng_fill(rng, we[i], (size_t)E * C, -0.5f, 0.5f), rng_fill(rng, be[i], E, -0.5f, 0.5f);
    rng_fill(rng, wp[i], (size_t)C * E, -0.1f, 0.1f), rng_fill(rng, bp[i], C, -0.5f, 0.5f);
    rng_fill(rng, wd[i], (size_t)E * 9, -0.4f, 0.4f), rng_fill(rng, bd[i], E, -0.5f, 0.5f);
  }
  rng_fill(rng, x, NIMG * ie, -1, 1);
  MW *m = mw_new(KIND_F32, C, H, H, OUT);
  uint32_t z = mw_conv(m, mw_conv(m, 0, C, 3, 3, 1, 1, 1, 1, 1, 1, C, ACT_RELU6, w0, b0), C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, wq, bq);
  for (int b = 0; b < 3; b++) {
    int st = b == 2 ? 2 : 1;
    uint32_t v1 = mw_conv(m, z, E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, we[b], be[b]);
    uint32_t v2 = mw_conv(m, v1, E, 3, 3, st, st, 1, 1, 1, 1, E, ACT_RELU6, wd[b], bd[b]);
    uint32_t v3 = mw_conv(m, v2, C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, wp[b], bp[b]);
    z = b == 1 ? mw_add(m, v3, z, ACT_NONE) : v3;
  }
  mw_output(m, mw_flatten(m, z));
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  int on1 = irb_blocks(buf, size, 1, 0), on2 = irb_blocks(buf, size, 2, 0);
  CHECK((on1 == 2 && on2 == 4) || (on1 == -2 && on2 == -2), "irb: %d of 4 blocks fused on one thread (want 2), %d on two (-2: no gemm_u)",
        on1, on2);
  double *ref = malloc(NIMG * OUT * sizeof(double)), *yabs = malloc(NIMG * OUT * sizeof(double));
  double *y = malloc(ne * sizeof(double)), *ya = malloc(ne * sizeof(double));
  float *fa = malloc(ne * sizeof(float)), *fb = malloc(ne * sizeof(float)), *fz = malloc(ie * sizeof(float));
  for (int i = 0; i < NIMG; i++) {   /* each stored value rounded to float as the engine stores it */
    int oh, ow;
    ref_conv2d(x + i * ie, C, H, H, w0, b0, C, 3, 3, 1, 1, 1, 1, 1, 1, C, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < ie; k++) fa[k] = (float)y[k];
    ref_conv2d(fa, C, H, H, wq, bq, C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < ie; k++) fz[k] = (float)y[k];
    for (int b = 0; b < 3; b++) {
      int st = b == 2 ? 2 : 1;
      ref_conv2d(fz, C, H, H, we[b], be[b], E, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_RELU6, y, ya, &oh, &ow);
      for (size_t k = 0; k < ne; k++) fa[k] = (float)y[k];
      ref_conv2d(fa, E, H, H, wd[b], bd[b], E, 3, 3, st, st, 1, 1, 1, 1, E, ACT_RELU6, y, ya, &oh, &ow);
      for (size_t k = 0; k < (size_t)E * oh * ow; k++) fb[k] = (float)y[k];
      ref_conv2d(fb, E, oh, ow, wp[b], bp[b], C, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
      for (size_t k = 0; k < ie && b < 2; k++) fz[k] = b == 1 ? (float)((double)(float)y[k] + fz[k]) : (float)y[k];
    }
    for (size_t k = 0; k < (size_t)OUT; k++) ref[i * OUT + k] = y[k], yabs[i * OUT + k] = 100.0;   /* three blocks' roundings */
  }
  check_model("inverted residual blocks on 56x56 as one op (run_irb; stride 1 and 2, the ADD fused and not, no expansion)", buf, size, x,
              (size_t)OUT, ref, yabs, 600);
  for (int i = 0; i < 3; i++) free(we[i]), free(wp[i]), free(wd[i]);
  free(x), free(ref), free(yabs), free(y), free(ya), free(fa), free(fb), free(fz);
}

/* A stem (a 3x3 stride-2 implicit convolution of the input's 3 channels), the depthwise op after it and its projection
   as one op by bands (run_irb, IRB_STEM: per band the stem's rows from the band's own phase planes; its output and the
   depthwise op's never stored). 42 channels inside (a last row panel of 6: packed, build_inplace), a 17 x 65 map (bands
   of 8, 8 and 1 rows on one thread; at batch 1 on two an image's chunks of 8 and 9 rows; a last column tile of one
   output). Besides check_model (the double reference, and every batch, thread count and lane split byte for byte
   against one thread): each kernel table's outputs byte for byte those of the stem alone (its output the model's),
   its output given to the depthwise op and the projection as a model of their own (run_irb from the depthwise op) */
static void test_irb_stem(uint64_t *rng) {
  enum { C = 3, H = 33, W = 130, E = 42, P = 8, OH = 17, OW = 65, NS = E * OH * OW, OUT = P * OH * OW };
  size_t ie = (size_t)C * H * W;
  float *x = malloc(NIMG * ie * sizeof(float)), ws[E * C * 9], bs[E], wd[E * 9], bd[E], wp[P * E], bp[P];
  rng_fill(rng, x, NIMG * ie, -1, 1), rng_fill(rng, ws, E * C * 9, -0.4f, 0.4f), rng_fill(rng, bs, E, -0.5f, 0.5f);
  rng_fill(rng, wd, E * 9, -0.4f, 0.4f), rng_fill(rng, bd, E, -0.5f, 0.5f), rng_fill(rng, wp, P * E, -0.3f, 0.3f), rng_fill(rng, bp, P, -0.5f, 0.5f);
  unsigned char *buf[3];
  size_t size[3];
  for (int k = 0; k < 3; k++) {   /* the block; the stem alone; the depthwise op and the projection alone */
    MW *m = k == 2 ? mw_new(KIND_F32, E, OH, OW, OUT) : mw_new(KIND_F32, C, H, W, k ? NS : OUT);
    uint32_t v = k == 2 ? 0 : mw_conv(m, 0, E, 3, 3, 2, 2, 1, 1, 1, 1, 1, ACT_RELU6, ws, bs);
    if (k != 1) v = mw_conv(m, mw_conv(m, v, E, 3, 3, 1, 1, 1, 1, 1, 1, E, ACT_RELU6, wd, bd), P, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, wp, bp);
    mw_output(m, mw_flatten(m, v));
    buf[k] = mw_finish(m, &size[k]);
  }
  int on1 = irb_blocks(buf[0], size[0], 1, IRB_STEM), on2 = irb_blocks(buf[0], size[0], 2, IRB_STEM);
  CHECK((on1 == 1 && on2 == 1) || (on1 == -2 && on2 == -2), "irb stem: %d stems fused on one thread, %d on two (want 1; -2: no gemm_u)",
        on1, on2);
  double *ref = malloc(NIMG * OUT * sizeof(double)), *yabs = malloc(NIMG * OUT * sizeof(double));
  double *y = malloc(NS * sizeof(double)), *ya = malloc(NS * sizeof(double));
  float *fa = malloc(NS * sizeof(float)), *fs = malloc(NIMG * NS * sizeof(float)), *o0 = malloc(NIMG * OUT * sizeof(float)),
        *o2 = malloc(NIMG * OUT * sizeof(float));
  for (int i = 0; i < NIMG; i++) {   /* each stored value rounded to float as the engine stores it */
    int oh, ow;
    ref_conv2d(x + i * ie, C, H, W, ws, bs, E, 3, 3, 2, 2, 1, 1, 1, 1, 1, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < NS; k++) fa[k] = (float)y[k];
    ref_conv2d(fa, E, OH, OW, wd, bd, E, 3, 3, 1, 1, 1, 1, 1, 1, E, ACT_RELU6, y, ya, &oh, &ow);
    for (size_t k = 0; k < NS; k++) fa[k] = (float)y[k];
    ref_conv2d(fa, E, OH, OW, wp, bp, P, 1, 1, 1, 1, 0, 0, 1, 1, 1, ACT_NONE, y, ya, &oh, &ow);
    for (size_t k = 0; k < (size_t)OUT; k++) ref[i * OUT + k] = y[k], yabs[i * OUT + k] = 30.0;   /* three layers' roundings */
  }
  for (int k = 0; dispatch_isa(k); k++) {
    if (!f32_kernels_own(k)) continue;
    f32_kernels_force(f32_kernels_for(dispatch_isa(k)));
    set_threads(2);
    int rc = run(buf[0], size[0], 1, x, o0) || run(buf[1], size[1], 1, x, fs) || run(buf[2], size[2], 1, fs, o2);
    CHECK(!rc && memcmp(o0, o2, NIMG * OUT * sizeof(float)) == 0, "irb stem [%s]: not the stem's and the block's own outputs",
          dispatch_isa(k));
  }
  f32_kernels_force(NULL);
  check_model("a stem, the depthwise op and the projection after it as one op by bands (run_irb, IRB_STEM; 17 x 65)", buf[0],
              size[0], x, (size_t)OUT, ref, yabs, 100);
  for (int k = 1; k < 3; k++) free(buf[k]);   /* (check_model frees buf[0]) */
  free(x), free(ref), free(yabs), free(y), free(ya), free(fa), free(fs), free(o0), free(o2);
}

/* engine_forward_fill's reader for test_lanes: images from x, each image counted; image `fail` refused */
typedef struct { const float *x; size_t ie; int seen[16], fail; } Fill;
static int fill_x(void *ctx, int i0, int k, float *dst, char *err, size_t errlen) {
  Fill *f = ctx;
  for (int i = i0; i < i0 + k; i++) {
    if (i == f->fail) return rt_fail(err, errlen, "image %d refused", i);
    f->seen[i]++;
  }
  memcpy(dst, f->x + (size_t)i0 * f->ie, (size_t)k * f->ie * sizeof(float));
  return 0;
}

/* lanes (engine.c, lane_split): a batch split over the lanes in proportion to their rates where that beats equal shares
   by 10%, each lane at least one image, and more images than a lane runs at once (its batch) in passes: the outputs
   those of one image at a time on one thread, whatever the split. The rates are set here (a lane's forward updates its
   own from the clock) */
static void test_lanes(uint64_t *rng) {
  enum { N = 7 };
  ConvCase t = {6, 12, 12, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  size_t ie = (size_t)t.C * t.H * t.W, nout = (size_t)t.O * t.H * t.W, nw = (size_t)t.O * t.C * 9, size;
  float *x = malloc(N * ie * sizeof(float)), *w = malloc(nw * sizeof(float)), *b = malloc(t.O * sizeof(float));
  float *want = malloc(N * nout * sizeof(float)), *got = malloc(N * nout * sizeof(float));
  rng_fill(rng, x, N * ie, -1, 1), rng_fill(rng, w, nw, -1, 1), rng_fill(rng, b, t.O, -1, 1);
  unsigned char *buf = conv_model(&t, 0, w, b, 0, nout, &size);
  Model m;
  char err[256];
  CHECK(model_load_buffer(buf, size, &m, err, sizeof err) == 0, "lanes: load: %s", err);
  set_threads(1);
  Engine *e1 = engine_build(&m, 1, err, sizeof err);
  for (int i = 0; e1 && i < N; i++) CHECK(engine_forward(e1, x + i * ie, 1, want + i * nout, err, sizeof err) == 0, "lanes: %s", err);
  engine_free(e1);
  set_threads(2);
  Engine *e = engine_build(&m, N, err, sizeof err);
  CHECK(e && e->nlanes == 2, "lanes: a batch of %d on two threads is not on two lanes", N);
  /* rates (lane 0, lane 1) -> lane 0's images: none yet -> 4 (equal, the first the larger); 3:1 -> 5 (round(7 x 3/4);
     equal shares would take 4 / 1 = 4 against max(5/3, 2) = 2); 1:3 -> 2; 1:1.1 -> 4 (round(7 / 2.1) = 3 would take
     max(3, 4 / 1.1) = 3.64, not 0.9x equal's max(4, 3 / 1.1) = 4); 1:1.2 -> 3 (3.33 against 4); 20:1 -> 6 (each lane at
     least one image) */
  double rates[6][2] = {{0, 0}, {3, 1}, {1, 3}, {1, 1.1}, {1, 1.2}, {20, 1}};
  int lane0[6] = {4, 5, 2, 4, 3, 6};
  for (int c = 0; e && e->nlanes == 2 && c < 6; c++) {
    e->lanes[0]->rate = rates[c][0], e->lanes[1]->rate = rates[c][1];
    memset(got, 0, N * nout * sizeof(float));
    CHECK(engine_forward(e, x, N, got, err, sizeof err) == 0, "lanes: %s", err);
    CHECK(e->lane_lo[0] == 0 && e->lane_lo[1] == lane0[c] && e->lane_lo[2] == N, "lanes: rates %g, %g: split %d | %d, want %d | %d",
          rates[c][0], rates[c][1], e->lane_lo[1], N - e->lane_lo[1], lane0[c], N - lane0[c]);
    CHECK(memcmp(got, want, N * nout * sizeof(float)) == 0, "lanes: rates %g, %g: outputs differ from one image at a time",
          rates[c][0], rates[c][1]);
    CHECK(e->lanes[0]->rate > 0 && e->lanes[1]->rate > 0, "lanes: a lane's forward left its rate unset");
    /* the same split with each lane reading its own images into its arena (engine_forward_fill: lane 0's 5 or 6 in
       passes of its batch, 4), each image read once; then one image; then a reader that fails */
    Fill f = { x, ie, {0}, -1 };
    e->lanes[0]->rate = rates[c][0], e->lanes[1]->rate = rates[c][1];
    memset(got, 0, N * nout * sizeof(float));
    CHECK(engine_forward_fill(e, N, fill_x, &f, got, err, sizeof err) == 0, "lanes: fill: %s", err);
    CHECK(e->lane_lo[1] == lane0[c] && memcmp(got, want, N * nout * sizeof(float)) == 0,
          "lanes: fill: rates %g, %g: split %d or outputs differ", rates[c][0], rates[c][1], e->lane_lo[1]);
    for (int i = 0; i < N; i++) CHECK(f.seen[i] == 1, "lanes: fill: image %d read %d times", i, f.seen[i]);
  }
  if (e && e->nlanes == 2) {
    Fill f = { x + 2 * ie, ie, {0}, -1 };
    CHECK(engine_forward_fill(e, 1, fill_x, &f, got, err, sizeof err) == 0 && f.seen[0] == 1 &&
              memcmp(got, want + 2 * nout, nout * sizeof(float)) == 0, "lanes: fill, one image: %s", err);
    Fill bad = { x, ie, {0}, 5 };
    err[0] = 0;
    CHECK(engine_forward_fill(e, N, fill_x, &bad, got, err, sizeof err) == -1 && strcmp(err, "image 5 refused") == 0,
          "lanes: fill: a reader's failure not returned (%s)", err);
  }
  if (e) engine_free(e);
  set_threads(1);
  model_free(&m);
  free(buf), free(x), free(w), free(b), free(want), free(got);
}

int main(void) {
  uint64_t rng = 12345;
  ConvCase convs[] = {
      /* C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, g, act, bias */
      {3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1},     /* 3x3 same */
      {1, 5, 7, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0},     /* K = 1 */
      {7, 9, 11, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1},   /* 1x1 direct pack, odd sizes */
      {16, 4, 4, 17, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1},   /* 16 pixels: full tiles per image */
      {3, 23, 17, 6, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1, 1},   /* resnet stem shape, small */
      {5, 13, 13, 7, 3, 3, 2, 2, 2, 2, 2, 2, 1, 2, 1},   /* dilation 2, stride 2, relu6 */
      {8, 6, 10, 12, 3, 1, 1, 2, 1, 0, 1, 1, 2, 0, 1},   /* groups 2, non-square kernel */
      {60, 13, 13, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 1}, /* K = 540: two K chunks, edge tiles */
      {2, 40, 45, 5, 15, 20, 1, 1, 3, 4, 1, 1, 1, 1, 1}, /* K = 600, many column tiles */
      {6, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, 2, 1},     /* depthwise */
      {6, 9, 12, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6, 1, 0},    /* depthwise stride 2 */
      {4, 21, 19, 8, 5, 5, 1, 1, 2, 2, 1, 1, 4, 0, 1},   /* depthwise multiplier 2, 5x5 */
      {3, 20, 20, 3, 3, 3, 1, 1, 2, 2, 2, 2, 3, 0, 1},   /* depthwise dilated */
      {37, 5, 5, 67, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* primes */
      {2, 3, 3, 5, 3, 3, 1, 1, 0, 0, 1, 1, 1, 0, 1},     /* 1x1 output */
      {64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* a resnet layer, small */
      {5, 9, 7, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 1},    /* fused sigmoid */
      {7, 6, 13, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4, 1},    /* fused silu, 1x1 */
      {6, 11, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6, 5, 1},    /* depthwise, fused hardswish */
      {8, 7, 7, 16, 5, 5, 1, 1, 2, 2, 1, 1, 8, 6, 1},    /* depthwise x2, fused hardsigmoid */
      {9, 5, 5, 9, 3, 3, 1, 1, 1, 1, 1, 1, 9, 4, 0},     /* depthwise silu, no bias */
      /* 1x1 stride 1 with >= 32 pixels: the kernel reads the input in place where it can (gemm_ex) */
      {8, 8, 6, 10, 1, 1, 1, 1, 0, 0, 1, 1, 2, 1, 1},    /* groups 2, 48 pixels: a full tile and a tail */
      {600, 7, 7, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2, 1},  /* K = 600: one pass (in place: KC_DIRECT), 49 pixels */
      {4100, 6, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, /* K = 4100 > KC_DIRECT: chunks, 36 pixels */
      {16, 8, 8, 25, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0},   /* 64 pixels: two full tiles, rows 25 */
      {5, 1, 40, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 3, 1},    /* one row of 40, sigmoid */
      /* stride 1, not 1x1 unpadded: the implicit convolution where the kernel has gemm_ex (padded rows of
         W + pw: a 32-column flat tile spans rows, its padding columns dropped) */
      {37, 33, 31, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* primes, rows of 32 padded, 13 rows: a panel of 1 */
      {5, 7, 32, 25, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1},    /* width 32, 25 rows */
      {6, 5, 33, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 0},    /* width 33, 12 rows, no bias */
      {9, 12, 11, 14, 3, 3, 1, 1, 2, 1, 2, 2, 1, 1, 1},   /* dilation 2, padding 2 x 1 */
      {4, 10, 9, 7, 3, 5, 1, 1, 0, 2, 1, 1, 1, 0, 1},     /* 3x5, no row padding */
      {7, 6, 8, 11, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1},     /* 1x1 padded: one tap, the border = act(bias) */
      {6, 9, 9, 8, 3, 3, 1, 1, 3, 3, 1, 1, 1, 0, 1},      /* padding wider than the window */
      {8, 9, 13, 10, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 1},    /* groups 2 */
      {300, 4, 4, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 300 channels per tap, a map of less than a tile */
      /* maps of at most 16 pixels, K >= 64: on gemm_t in tiles of 14 flat columns (ops_f32.c taps_flat_tile) */
      {64, 2, 2, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* 2x2: one run alone, 40 rows: a panel of 32 and one of 8 */
      {70, 3, 3, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 0},    /* 3x3: 11 flat columns, both runs */
      {65, 8, 8, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3, 1},    /* stride 2 (phase planes) to 4x4: two tiles */
      {64, 1, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1},     /* 1x1: one pixel (the kernel's pm 1) */
      {9, 5, 3, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* 5x3 (15 pixels): 3 columns a row of 4 */
      /* K >= 64, not Winograd-shaped: version 7's weights in panels on maps of at most 16 pixels (above: tiles of 14
         flat columns) or of rows of whole runs of 7 (read in place on gemm_t at any batch), else rows (the 13-wide
         map above: read in place by gemm_u; a version-6 file's panels are copied into rows at start-up) */
      {64, 14, 14, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},  /* stride 2 to 7x7, 40 rows: a panel of 32 and one of 8 */
      {16, 9, 14, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1},   /* 9 rows: not Winograd, 14 wide, 33 rows */
      {8, 28, 21, 70, 7, 7, 2, 2, 3, 3, 1, 1, 1, 2, 1},   /* a stem: K = 392, 14 x 11 out (11: packed) */
      {3, 16, 16, 5, 2, 2, 1, 1, 0, 0, 1, 1, 1, 0, 1},    /* even window, no padding: rows of W */
      {16, 7, 40, 20, 3, 1, 1, 1, 1, 0, 3, 1, 1, 3, 1},   /* 3x1, dilation 3 x 1, no column padding */
      {72, 62, 60, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* an image's planes over 1 MiB: a batch in passes */
      /* strided windows: the implicit convolution on phase planes */
      {3, 37, 35, 13, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1, 1},   /* a stem, odd sizes */
      {17, 15, 16, 25, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2, 1},  /* 3x3 stride 2, rows 25 */
      {6, 20, 19, 7, 3, 3, 3, 3, 0, 2, 1, 1, 1, 0, 1},    /* stride 3, padding 0 x 2 */
      {5, 11, 34, 9, 3, 2, 2, 1, 1, 1, 2, 3, 1, 3, 0},    /* stride 2 x 1, dilation 2 x 3, 3x2 */
      {8, 9, 10, 12, 2, 2, 2, 2, 0, 0, 1, 1, 2, 1, 1},    /* 2x2 stride 2 (phase per tap), groups 2 */
      {4, 6, 6, 6, 3, 3, 2, 2, 4, 4, 1, 1, 1, 0, 1},      /* padding wider than the window */
      /* outputs of >= 2 tiles a row: planes in rows of whole tiles, a row's last tile cut at OW */
      {3, 150, 133, 5, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1, 1},  /* a stem: 67 outputs a row in rows of 96 */
      {3, 5, 64, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* stride 1, 64 a row in rows of 96: a tile all padding */
      {4, 9, 70, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 1},     /* groups 2, 70 a row */
      /* 1x1 strided, unpadded, maps of >= 32 outputs: the input subsampled, then read in place (conv_sub) */
      {20, 15, 17, 9, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1},   /* odd sizes: 8 x 9 outputs, rows 9 */
      {9, 20, 13, 6, 1, 1, 3, 2, 0, 0, 1, 1, 3, 2, 1},    /* stride 3 x 2, groups 3: 7 x 7 */
      {600, 14, 14, 13, 1, 1, 2, 2, 0, 0, 1, 1, 1, 0, 0}, /* K = 600: one pass, no bias */
      {8, 8, 8, 5, 1, 1, 2, 2, 0, 0, 1, 1, 1, 0, 1},      /* 16 outputs, less than a tile: im2col */
      /* 1x1 read in place on maps of pixels short of a multiple of 32: the transposed tile (gemm_t, conv_t) where
         the kernel has it; at batch 1 (the runs check_model compares) gemm_u on all but 7x7-like maps */
      {40, 7, 7, 70, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1},    /* 49 pixels: tiles of 14, 14, 14 and 7; 70 channels: 32, 32, 6 */
      {24, 14, 14, 40, 1, 1, 1, 1, 0, 0, 1, 1, 2, 2, 1},  /* 14x14, groups 2 of 20 channels, relu6 */
      {33, 20, 18, 17, 1, 1, 2, 2, 0, 0, 1, 1, 1, 3, 0},  /* stride 2 (subsampled): 10 x 9, sigmoid, no bias */
      {300, 9, 9, 33, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4, 1},   /* 81 pixels: the last tile shifted back 3, silu */
      {40, 20, 20, 92, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1},  /* 400 pixels (gemm_u at any batch): 92 rows, the file's panels
                                                             of 32 in tiles of 12, 12, 8, 12, 12, 8, 12, 12 and 4 */
      /* implicit convolutions with OW a multiple of 7 and K >= 64 on gemm_t (conv_taps_t; these small weights at batch 1
         too): tiles of two runs of 7 */
      {20, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* 7x7: runs of two rows, a lone last run */
      {9, 27, 28, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2, 1},   /* stride 2 (phase planes): 14 x 14, 33 channels */
      {3, 28, 28, 10, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1, 0},   /* a stem: 14 x 14, no bias */
      {8, 14, 14, 8, 3, 3, 1, 1, 2, 2, 2, 2, 1, 3, 1},    /* dilation 2 (not Winograd): 14 x 14, sigmoid */
      {5, 9, 21, 7, 3, 5, 1, 1, 1, 2, 1, 1, 1, 0, 1},     /* 3x5: 9 x 21, three runs a row */
  };
  for (size_t i = 0; i < sizeof convs / sizeof *convs; i++) test_conv(&rng, &convs[i], 0);
  ConvCase lins[] = {{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1}, {17, 1, 1, 37, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1},
                     {513, 1, 1, 10, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0}, {100, 1, 1, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2, 1},
                     {33, 1, 1, 19, 1, 1, 1, 1, 0, 0, 1, 1, 1, 5, 1}, {20, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 3, 1},
                     /* version 7: in panels (padding rows at most O / 8), at batch 1 on gemm_t (lin_t): two panels,
                        the last of 29 rows; one of 32; sixteen */
                     {65, 1, 1, 61, 1, 1, 1, 1, 0, 0, 1, 1, 1, 3, 0}, {7, 1, 1, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1},
                     {1024, 1, 1, 512, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1}};
  for (size_t i = 0; i < sizeof lins / sizeof *lins; i++) test_conv(&rng, &lins[i], 1);
  /* kind, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil, cip, divisor */
  test_pool(&rng, 0, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0, 0, 0);
  test_pool(&rng, 0, 4, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0); /* resnet stem pool */
  test_pool(&rng, 0, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0);     /* ceil_mode */
  test_pool(&rng, 0, 2, 10, 11, 3, 2, 2, 3, 1, 1, 2, 2, 1, 0, 0);   /* dilation + ceil */
  test_pool(&rng, 0, 3, 9, 33, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0);    /* stride 1, odd width */
  test_pool(&rng, 0, 2, 6, 5, 2, 4, 1, 3, 0, 2, 1, 1, 1, 0, 0);     /* window wider than the stride, ceil */
  g_pool_nans = 9;
  test_pool(&rng, 0, 4, 30, 31, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0);   /* NaN propagates */
  test_pool(&rng, 0, 2, 10, 11, 3, 2, 2, 3, 1, 1, 2, 2, 1, 0, 0);   /* NaN, dilation */
  g_pool_nans = 0;
  test_pool(&rng, 1, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1, 0);
  test_pool(&rng, 1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0);     /* ceil, count_include_pad */
  test_pool(&rng, 1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0);     /* ceil, exclude pad */
  test_pool(&rng, 1, 2, 6, 5, 3, 2, 3, 1, 1, 1, 1, 1, 0, 1, 5);     /* divisor_override */
  test_pool(&rng, 1, 2, 5, 5, 2, 2, 2, 2, 1, 0, 1, 1, 1, 1, 0);     /* ceil, pad on one side only */
  test_pool(&rng, 2, 5, 7, 7, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);     /* global average */
  test_pool(&rng, 2, 37, 7, 7, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);    /* global average, 16 planes at a time and the rest */
  test_pool(&rng, 3, 5, 7, 7, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);     /* global max */
  test_pool(&rng, 2, 3, 10, 7, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0);    /* overlapping windows */
  test_pool(&rng, 3, 3, 5, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0);     /* out > in */
  test_graph(&rng);
  test_residual(&rng, 16);
  test_residual(&rng, 14);   /* 196 and 49 pixels: the 1x1 layers on gemm_t (conv_t), at batch 2+ on 14x14 */
  test_residual(&rng, 8);    /* 64 pixels: pack_1x1 on tables without gemm_t */
  test_dwfused(&rng);
  test_irb(&rng);
  test_irb_stem(&rng);
  test_lanes(&rng);
  if (g_failures) fprintf(stderr, "test_f32_ops: %d FAILED\n", g_failures);
  else printf("test_f32_ops: ok\n");
  return g_failures != 0;
}
