/* test_dq8_fused.c: dq8's fusions through the loader and the engine, each against the same model unfused (an
 * extra reader of the conv's output stops a fusion), with every kernel table this machine runs, at batch 1, 2 and 3
 * on 1, 2 and 3 threads (with and without lanes):
 * - the 1x1 expansion and the depthwise convolution after it (ops_q8.c dq8_dwf): a model whose two expansions
 *   (stride 1 and stride 2 depthwise) are fused gives exactly what it gives unfused, and both agree with a naive
 *   implementation of FORMAT.md's dq8 arithmetic (the 1x1s' float epilogue exactly, the depthwise sums in double
 *   within their rounding);
 * - inverted residual blocks by bands (ops_q8.c run_dq8_irb, batch 1 on two threads or more): an expansion, a
 *   depthwise op and a projection with its residual ADD, a depthwise op and a projection, and an expansion, a stride-2
 *   depthwise op and a projection, on 56x56 maps: the same bytes as on one thread (not banded) and unfused;
 * - a residual ADD written by the convolution before it (ops_q8.c build_gemm: residual_next, Q8Dq8Epi.res): three residual blocks,
 *   one on each of the dq8 convolution's paths (fused quantization and GEMM; the two phases, a 1x1 read in place and
 *   an im2col 3x3), the ADD's input on either side, ReLU, ReLU6 and none: the same bytes fused and unfused;
 * - expansions whose next op is a depthwise one (OpState.dq8rows: their threads split their row blocks, ops_q8.c
 *   dq8_fused; in two phases, the GEMM's tasks in runs), on 14x14 and 7x7 maps: the same bytes as with an ADD between
 *   them (columns split; tasks one by one). */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "util_run.h"
#include "util_writer.h"

enum { NIMG = 3, C = 8, H = 28, E = 12, GS = 4, G = C / GS, DGS = 3, DG = 9 / DGS, H2 = 14, OUT = E * H2 * H2 };

static uint64_t seed = 99;
static int8_t w1[2][E * C], z1[2][E * G], wd[2][E * 9], zd[2][E * DG];
static float s1[2][E * G], b1[2][E], sd[2][E * DG], bd[2][E];

static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static void fill_i8(int8_t *w, int n, int lo, int hi) {
  for (int i = 0; i < n; i++) w[i] = (int8_t)(lo + (int)(rng_next(&seed) % (uint64_t)(hi - lo + 1)));
}

/* FORMAT.md's asymmetric rule for one group of n values (a column's, stride ld) */
static float qgroup(const float *v, ptrdiff_t ld, int n, int32_t *q, int32_t *z) {
  float lo = 0, hi = 0;
  for (int i = 0; i < n; i++) lo = v[i * ld] < lo ? v[i * ld] : lo, hi = v[i * ld] > hi ? v[i * ld] : hi;
  float s = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  *z = hi == lo ? 0 : (int32_t)clampl((int64_t)nearbyintf(-128.0f - lo / s), -128, 127);
  for (int i = 0; i < n; i++) q[i] = (int32_t)clampl((int64_t)nearbyintf(v[i * ld] / s) + *z, -128, 127);
  return s;
}

/* the 1x1 (pair k) on one image, ReLU6: per pixel and group the quantized column, then in float
   acc = 0, acc + (sw * sx) * isum per group, bias last (the kernels' epilogue, bit for bit) */
static void naive_1x1(int k, const float *x, float *y) {
  for (int p = 0; p < H * H; p++) {
    int32_t q[G][GS], z[G];
    float s[G];
    for (int g = 0; g < G; g++) s[g] = qgroup(x + (size_t)g * GS * H * H + p, H * H, GS, q[g], &z[g]);
    for (int o = 0; o < E; o++) {
      float acc = 0.0f;
      for (int g = 0; g < G; g++) {
        int32_t isum = 0;
        for (int i = 0; i < GS; i++) isum += (w1[k][o * C + g * GS + i] - z1[k][o * G + g]) * (q[g][i] - z[g]);
        acc += (s1[k][o * G + g] * s[g]) * (float)isum;
      }
      float v = b1[k][o] + acc;
      y[(size_t)o * H * H + p] = v < 0 ? 0 : v > 6 ? 6 : v;
    }
  }
}

/* the depthwise 3x3 (pad 1, stride st, no activation) of pair k in double, its weights dequantized as FORMAT.md
   says (float: the integer difference, one product); mag: the sum of its terms' magnitudes */
static void naive_dw(int k, const float *x, int st, double *y, double *mag) {
  int oh = (H + 2 - 3) / st + 1;
  for (int o = 0; o < E; o++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < oh; j++) {
        double acc = bd[k][o], m = fabs(bd[k][o]);
        for (int t = 0; t < 9; t++) {
          int iy = i * st - 1 + t / 3, ix = j * st - 1 + t % 3;
          if (iy < 0 || iy >= H || ix < 0 || ix >= H) continue;
          float w = sd[k][o * DG + t / DGS] * (float)(wd[k][o * 9 + t] - zd[k][o * DG + t / DGS]);
          double v = (double)w * x[((size_t)o * H + iy) * H + ix];
          acc += v, m += fabs(v);
        }
        y[((size_t)o * oh + i) * oh + j] = acc, mag[((size_t)o * oh + i) * oh + j] = m;
      }
}

/* x -> 1x1 (pair 0) -> depthwise stride 1 -> max pool 2x2/2 ----\
   x -> 1x1 (pair 1) -> depthwise stride 2 ---------------------- ADD -> flatten (E x 14 x 14)
   unfused: each 1x1's output also read by an ADD of it with itself, whose output nothing reads */
static unsigned char *model(int unfused, size_t *size) {
  MW *m = mw_new(KIND_DQ8, C, H, H, OUT);
  uint32_t x = 0, br[2];
  for (int k = 0; k < 2; k++) {
    int st = k + 1, oh = (H + 2 - 3) / st + 1;
    uint32_t v1 = mw_value(m, E, H, H), v2 = mw_value(m, E, (uint32_t)oh, (uint32_t)oh);
    uint32_t p1[8] = {mw_param2(m, DT_I8, E, C, w1[k]), mw_param2(m, DT_F32, E, G, s1[k]), mw_param2(m, DT_I8, E, G, z1[k]),
                      mw_param2(m, DT_F32, E, 0, b1[k]), TR_NONE, TR_NONE, TR_NONE, TR_NONE};
    uint32_t p2[8] = {mw_param2(m, DT_I8, E, 9, wd[k]), mw_param2(m, DT_F32, E, DG, sd[k]), mw_param2(m, DT_I8, E, DG, zd[k]),
                      mw_param2(m, DT_F32, E, 0, bd[k]), TR_NONE, TR_NONE, TR_NONE, TR_NONE};
    int32_t a1[16] = {E, C, 1, 1, 1, 1, 0, 0, 1, 1, 1, GS}, a2[16] = {E, E, 3, 3, st, st, 1, 1, 1, 1, E, DGS};
    mw_op(m, OP_CONV2D, ACT_RELU6, 1, &x, v1, a1, p1);
    mw_op(m, OP_CONV2D, ACT_NONE, 1, &v1, v2, a2, p2);
    if (unfused) mw_add(m, v1, v1, ACT_NONE);
    br[k] = v2;
  }
  br[0] = mw_maxpool(m, br[0], 2, 2, 2, 2, 0, 0, 1, 1, 0);
  mw_output(m, mw_flatten(m, mw_add(m, br[0], br[1], ACT_NONE)));
  return mw_finish(m, size);
}

/* the fusions an engine of the model made: the 1x1s' dwf flags, or (res) the convs' residual ADDs */
static int fused_op(const Engine *e, unsigned i, int res) { return res ? e->st[i].res : e->st[i].dwf; }
static int fused_ops(const unsigned char *buf, size_t size, int res) { return count_ops(buf, size, 0, fused_op, res); }

/* ---------------- residual ADDs written by the conv before them (residual_next in build_gemm) */
enum { RC = 8, RH = 14, RO = 104, ROUT = RO * 7 * 7 };

/* a dq8 CONV2D of out_c outputs, kernel k (padding k / 2), stride st, quantization groups of gs, random weights
   (asymmetric: with zero points), bias or none */
static uint32_t dq8_conv(MW *m, uint32_t x, int out_c, int k, int st, int act, int gs, int with_bias) {
  Value in = *mw_value_ptr(m, x);
  int K = (int)in.c * k * k, G = K / gs, oh = pt_out_len((int)in.h, k, st, k / 2, 1, 0);
  int8_t *w = malloc((size_t)out_c * K), *z = malloc((size_t)out_c * G);
  float *sc = malloc(sizeof(float) * (size_t)out_c * G), *b = malloc(sizeof(float) * (size_t)out_c);
  fill_i8(w, out_c * K, -128, 127), fill_i8(z, out_c * G, -30, 30);
  for (int i = 0; i < out_c * G; i++) sc[i] = rng_unif(&seed, 0.0005f, 0.004f);
  rng_fill(&seed, b, (size_t)out_c, -0.5f, 0.5f);
  uint32_t y = mw_value(m, (uint32_t)out_c, (uint32_t)oh, (uint32_t)oh);
  uint32_t p[8] = {mw_param2(m, DT_I8, (uint32_t)out_c, (uint32_t)K, w), mw_param2(m, DT_F32, (uint32_t)out_c, (uint32_t)G, sc),
                   mw_param2(m, DT_I8, (uint32_t)out_c, (uint32_t)G, z),
                   with_bias ? mw_param2(m, DT_F32, (uint32_t)out_c, 0, b) : TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE};
  int32_t a[16] = {out_c, (int32_t)in.c, k, k, st, st, k / 2, k / 2, 1, 1, 1, gs};
  mw_op(m, OP_CONV2D, (uint32_t)act, 1, &x, y, a, p);
  free(w), free(z), free(sc), free(b);
  return y;
}

/* x -> 3x3 (8 -> 16, ReLU) = a -> 3x3 (16 -> 16, ReLU) -> 3x3 (16 -> 16) -> ADD(., a) ReLU = b        quantization and
                                                                                                GEMM fused
   b -> 3x3 /2 (16 -> 104, ReLU6) = c -> 1x1 (104 -> 104, ReLU) -> 1x1 (104 -> 104) -> ADD(c, .) ReLU6 = d
                                                                                 two phases, the 1x1s in place
   d -> 3x3 (104 -> 104, ReLU) -> 3x3 (104 -> 104, no bias) -> ADD(., d) = e -> flatten     two phases, im2col
   unfused: each residual conv's output also read by an ADD of it with itself, whose output nothing reads */
static unsigned char *res_model(int unfused, size_t *size) {
  seed = 7;   /* the same weights in both */
  MW *m = mw_new(KIND_DQ8, RC, RH, RH, ROUT);
  uint32_t a = dq8_conv(m, 0, 16, 3, 1, ACT_RELU, 24, 1), t = dq8_conv(m, a, 16, 3, 1, ACT_RELU, 48, 1);
  t = dq8_conv(m, t, 16, 3, 1, ACT_NONE, 16, 1);
  if (unfused) mw_add(m, t, t, ACT_NONE);
  uint32_t b = mw_add(m, t, a, ACT_RELU), c = dq8_conv(m, b, RO, 3, 2, ACT_RELU6, 48, 1);
  t = dq8_conv(m, dq8_conv(m, c, RO, 1, 1, ACT_RELU, 8, 1), RO, 1, 1, ACT_NONE, 26, 1);
  if (unfused) mw_add(m, t, t, ACT_NONE);
  uint32_t d = mw_add(m, c, t, ACT_RELU6);
  t = dq8_conv(m, dq8_conv(m, d, RO, 3, 1, ACT_RELU, 104, 1), RO, 3, 1, ACT_NONE, 234, 0);
  if (unfused) mw_add(m, t, t, ACT_NONE);
  mw_output(m, mw_flatten(m, mw_add(m, t, d, ACT_NONE)));
  return mw_finish(m, size);
}

/* a model's outputs (g_nout an image) are not mostly zero (ReLU, ReLU6: a skipped residual would change them) */
static size_t g_nout;
static void nonzero_judge(const char *isa, const float *out) {
  size_t nz = 0;
  for (size_t r = 0; r < (size_t)NIMG * g_nout; r++) nz += out[r] != 0;
  CHECK(nz > (size_t)NIMG * g_nout / 4, "[%s] only %zu of %zu outputs nonzero", isa, nz, (size_t)NIMG * g_nout);
}
/* each_table on random images (nin floats each) of the fused model bf and the unfused bu, judged by nonzero_judge; frees
   both models */
static int nonzero_tables(const char *what, unsigned char *bf, size_t sf, unsigned char *bu, size_t su, size_t nin, size_t nout) {
  float *x = malloc(sizeof(float) * NIMG * nin);
  rng_fill(&seed, x, (size_t)NIMG * nin, -2, 2);
  g_nout = nout;
  int tables = fused_unfused_tables(what, bf, sf, bu, su, x, NIMG, nout, nonzero_judge);
  free(x), free(bf), free(bu);
  return tables;
}

static int test_res(void) {
  size_t sf, su;
  unsigned char *bf = res_model(0, &sf), *bu = res_model(1, &su);
  CHECK(fused_ops(bf, sf, 1) == 3, "the fused residual model: %d ADDs fused, want 3", fused_ops(bf, sf, 1));
  CHECK(fused_ops(bu, su, 1) == 0, "the unfused residual model: %d ADDs fused, want 0", fused_ops(bu, su, 1));
  return nonzero_tables("residual", bf, sf, bu, su, (size_t)RC * RH * RH, ROUT);
}

/* the expansions' outputs against the naive ones, within their rounding (ref, tol: main's) */
static double *ref, *tol;
static void dwf_judge(const char *isa, const float *out) {
  size_t bad = 0;
  for (size_t r = 0; r < (size_t)NIMG * OUT; r++)
    if (!(fabs((double)out[r] - ref[r]) <= tol[r])) {
      if (!bad) fprintf(stderr, "  [%s] out[%zu] = %.9g, naive %.9g, tol %.3g\n", isa, r, out[r], ref[r], tol[r]);
      bad++;
    }
  CHECK(bad == 0, "[%s] %zu of %d outputs off the naive ones", isa, bad, NIMG * OUT);
}

/* ---------------- inverted residual blocks by bands (ops_q8.c run_dq8_irb: batch 1 on two threads or more) */
enum { IC = 8, IH = 56, IOUT = IC * 28 * 28 };

/* a dq8 depthwise 3x3 (pad 1) of stride st, quantization groups of 3 taps, random weights with zero points and a bias */
static uint32_t dq8_dw(MW *m, uint32_t x, int st, int act) {
  Value in = *mw_value_ptr(m, x);
  int c = (int)in.c, oh = pt_out_len((int)in.h, 3, st, 1, 1, 0);
  int8_t *w = malloc((size_t)c * 9), *z = malloc((size_t)c * 3);
  float *sc = malloc(sizeof(float) * (size_t)c * 3), *b = malloc(sizeof(float) * (size_t)c);
  fill_i8(w, c * 9, -128, 127), fill_i8(z, c * 3, -30, 30);
  for (int i = 0; i < c * 3; i++) sc[i] = rng_unif(&seed, 0.001f, 0.01f);
  rng_fill(&seed, b, (size_t)c, -0.5f, 0.5f);
  uint32_t y = mw_value(m, (uint32_t)c, (uint32_t)oh, (uint32_t)oh);
  uint32_t p[8] = {mw_param2(m, DT_I8, (uint32_t)c, 9, w), mw_param2(m, DT_F32, (uint32_t)c, 3, sc), mw_param2(m, DT_I8, (uint32_t)c, 3, z),
                   mw_param2(m, DT_F32, (uint32_t)c, 0, b), TR_NONE, TR_NONE, TR_NONE, TR_NONE};
  int32_t a[16] = {c, c, 3, 3, st, st, 1, 1, 1, 1, c, 3};
  mw_op(m, OP_CONV2D, (uint32_t)act, 1, &x, y, a, p);
  free(w), free(z), free(sc), free(b);
  return y;
}

/* x -> 3x3 (8 -> 8) = a -> 1x1 (8 -> 12, ReLU6) -> depthwise /1 (ReLU6) = d1 -> 1x1 (12 -> 8) -> ADD(., a) = b   IRB_EXP
   b -> depthwise /1 (ReLU6) = d2 -> 1x1 (8 -> 8, ReLU) = c                                                  IRB_DW
   c -> 1x1 (8 -> 16, ReLU6) -> depthwise /2 (ReLU6) = d3 -> 1x1 (16 -> 8) -> flatten (8 x 28 x 28)           IRB_EXP
   unfused: each depthwise output also read by an ADD of it with itself, whose output nothing reads */
static unsigned char *irb_model(int unfused, size_t *size) {
  seed = 11;   /* the same weights in both */
  MW *m = mw_new(KIND_DQ8, IC, IH, IH, IOUT);
  uint32_t a = dq8_conv(m, 0, IC, 3, 1, ACT_NONE, 24, 1);
  uint32_t d = dq8_dw(m, dq8_conv(m, a, 12, 1, 1, ACT_RELU6, 4, 1), 1, ACT_RELU6);
  if (unfused) mw_add(m, d, d, ACT_NONE);
  uint32_t b = mw_add(m, dq8_conv(m, d, IC, 1, 1, ACT_NONE, 4, 1), a, ACT_NONE);
  d = dq8_dw(m, b, 1, ACT_RELU6);
  if (unfused) mw_add(m, d, d, ACT_NONE);
  uint32_t c = dq8_conv(m, d, IC, 1, 1, ACT_RELU, 8, 1);
  d = dq8_dw(m, dq8_conv(m, c, 16, 1, 1, ACT_RELU6, 8, 0), 2, ACT_RELU6);
  if (unfused) mw_add(m, d, d, ACT_NONE);
  mw_output(m, mw_flatten(m, dq8_conv(m, d, IC, 1, 1, ACT_NONE, 4, 1)));
  return mw_finish(m, size);
}

/* the ops an engine of the model (batch 1, `threads` threads) runs as inverted residual blocks: kind's */
static int irb_op(const Engine *e, unsigned i, int kind) { return e->st[i].irb == kind; }
static int irb_ops(const unsigned char *buf, size_t size, int threads, int kind) { return count_ops(buf, size, threads, irb_op, kind); }

static int test_irb(void) {
  size_t sf, su;
  unsigned char *bf = irb_model(0, &sf), *bu = irb_model(1, &su);
  int e2 = irb_ops(bf, sf, 2, IRB_EXP), d2 = irb_ops(bf, sf, 2, IRB_DW), p2 = irb_ops(bf, sf, 2, IRB_PROJ);
  CHECK(e2 == 2 && d2 == 1 && p2 == 3, "the irb model on two threads: %d, %d and %d blocks by expansion, depthwise "
        "input and projection (want 2, 1, 3)", e2, d2, p2);
  CHECK(irb_ops(bf, sf, 1, IRB_PROJ) == 0, "the irb model on one thread: blocks by bands");
  CHECK(irb_ops(bu, su, 2, IRB_PROJ) == 0, "the unfused irb model: blocks by bands");
  return nonzero_tables("inverted residual blocks", bf, sf, bu, su, (size_t)IC * IH * IH, IOUT);
}

/* ---------------- a fused-path expansion whose next op is a depthwise one (OpState.dq8rows: ops_q8.c dq8_fused by rows) */
enum { WC = 8, WH = 14, WE = 256, WE2 = 128, WOUT = WC * 7 * 7 };

/* x -> 1x1 (8 -> 256, ReLU6, on the fused path: 256 rows <= 2 x 196 pixels) -> depthwise /1 (ReLU6) -> 1x1 (256 -> 8)
   -> depthwise /2 (14x14 -> 7x7) -> 1x1 (8 -> 128, ReLU6, in two phases: 128 rows > 2 x 49 pixels) -> depthwise /1
   (ReLU6) -> 1x1 (128 -> 8) -> flatten; unfused: an ADD of each expansion's output with itself (nothing reads it)
   between it and its depthwise op, so the first splits its columns and the second's GEMM tasks go out one by one */
static unsigned char *rows_model(int unfused, size_t *size) {
  seed = 13;   /* the same weights in both */
  MW *m = mw_new(KIND_DQ8, WC, WH, WH, WOUT);
  uint32_t e = dq8_conv(m, 0, WE, 1, 1, ACT_RELU6, 8, 1);
  if (unfused) mw_add(m, e, e, ACT_NONE);
  uint32_t d = dq8_dw(m, e, 1, ACT_RELU6);
  d = dq8_dw(m, dq8_conv(m, d, WC, 1, 1, ACT_NONE, 16, 1), 2, ACT_NONE);
  e = dq8_conv(m, d, WE2, 1, 1, ACT_RELU6, 4, 1);
  if (unfused) mw_add(m, e, e, ACT_NONE);
  d = dq8_dw(m, e, 1, ACT_RELU6);
  mw_output(m, mw_flatten(m, dq8_conv(m, d, WC, 1, 1, ACT_NONE, 16, 1)));
  return mw_finish(m, size);
}
static int rows_op(const Engine *e, unsigned i, int unused) { return (void)unused, e->st[i].dq8rows; }

static int test_rows(void) {
  size_t sf, su;
  unsigned char *bf = rows_model(0, &sf), *bu = rows_model(1, &su);
  /* (the projection before the stride-2 depthwise op is marked in both; its 8 rows, one row block, keep the columns
     split at run time) */
  CHECK(count_ops(bf, sf, 2, rows_op, 0) == 3, "the rows model: %d ops marked to split by rows, want 3", count_ops(bf, sf, 2, rows_op, 0));
  CHECK(count_ops(bu, su, 2, rows_op, 0) == 1, "the unfused rows model: %d ops marked to split by rows, want 1", count_ops(bu, su, 2, rows_op, 0));
  return nonzero_tables("expansion by rows", bf, sf, bu, su, (size_t)WC * WH * WH, WOUT);
}

int main(void) {
  for (int k = 0; k < 2; k++) {
    fill_i8(w1[k], E * C, -128, 127), fill_i8(z1[k], E * G, -30, 30), fill_i8(wd[k], E * 9, -128, 127);
    fill_i8(zd[k], E * DG, -30, 30);
    for (int i = 0; i < E * G; i++) s1[k][i] = rng_unif(&seed, 0.002f, 0.02f);
    for (int i = 0; i < E * DG; i++) sd[k][i] = rng_unif(&seed, 0.001f, 0.01f);
    rng_fill(&seed, b1[k], E, -1, 2), rng_fill(&seed, bd[k], E, -0.5f, 0.5f);
  }
  float *x = malloc(sizeof(float) * NIMG * C * H * H), *ya = malloc(sizeof(float) * E * H * H);
  rng_fill(&seed, x, (size_t)NIMG * C * H * H, -2, 2);
  for (int k = 0; k < C * H * H; k++) x[k] = fabsf(x[k]);   /* image 0: no negatives (z at -128) */
  /* the naive outputs and their rounding bounds */
  ref = malloc(sizeof(double) * NIMG * OUT), tol = malloc(sizeof(double) * NIMG * OUT);
  double *d0 = malloc(sizeof(double) * E * H * H), *m0 = malloc(sizeof(double) * E * H * H);
  double *d1 = malloc(sizeof(double) * OUT), *m1 = malloc(sizeof(double) * OUT);
  for (int i = 0; i < NIMG; i++) {
    naive_1x1(0, x + (size_t)i * C * H * H, ya), naive_dw(0, ya, 1, d0, m0);
    naive_1x1(1, x + (size_t)i * C * H * H, ya), naive_dw(1, ya, 2, d1, m1);
    for (int o = 0; o < E; o++)
      for (int p = 0; p < H2 * H2; p++) {
        int py = p / H2, px = p % H2;
        double best = -INFINITY, bm = 0;
        for (int t = 0; t < 4; t++) {
          size_t q = ((size_t)o * H + 2 * py + t / 2) * H + 2 * px + t % 2;
          if (d0[q] > best) best = d0[q];
          if (m0[q] > bm) bm = m0[q];
        }
        size_t r = (size_t)i * OUT + (size_t)o * H2 * H2 + p;
        ref[r] = best + d1[(size_t)o * H2 * H2 + p];
        /* 10 terms' float sum each (bound 10 eps/2 of their magnitude), the max pool exact, the ADD one rounding */
        tol[r] = 12 * (FLT_EPSILON / 2) * (bm + m1[(size_t)o * H2 * H2 + p]) + FLT_EPSILON * fabs(ref[r]) + 1e-30;
      }
  }
  size_t sf, su;
  unsigned char *bf = model(0, &sf), *bu = model(1, &su);
  CHECK(fused_ops(bf, sf, 0) == 2, "the fused model: %d pairs fused, want 2", fused_ops(bf, sf, 0));
  CHECK(fused_ops(bu, su, 0) == 0, "the unfused model: %d pairs fused, want 0", fused_ops(bu, su, 0));
  int tables = fused_unfused_tables("expansions", bf, sf, bu, su, x, NIMG, OUT, dwf_judge);
  CHECK(tables > 0, "no kernel table ran");
  CHECK(test_res() == tables, "the residual test ran on other tables");
  CHECK(test_irb() == tables, "the irb test ran on other tables");
  CHECK(test_rows() == tables, "the rows test ran on other tables");
  free(x), free(ya), free(ref), free(tol), free(d0), free(m0), free(d1), free(m1), free(bf), free(bu);
  if (g_failures) fprintf(stderr, "test_dq8_fused: %d FAILED\n", g_failures);
  else printf("test_dq8_fused: ok (%d kernel tables)\n", tables);
  return g_failures != 0;
}
