/* test_sq8_irb.c: sq8's inverted residual blocks by bands of rows (ops_q8.c run_sq8_irb: a 1x1 expansion, the
 * depthwise convolution after it and the 1x1 projection after that, as one op), through the loader and the engine.
 * A model of four blocks on a 57x57 map (odd: the last band of each thread's rows is short, and the bottom band's
 * window runs past the map): A, a stride-1 block of 72 channels (a block of 64 rows and a ragged one), then
 * ADD(A's projection, its input); B, a stride-2 one of 40 (29x29 out, 64 channels); D, a stride-1 one of 72 on that
 * map; C, a depthwise op on D's output and a 1x1. D's projection feeds C's depthwise op, so D is not run by bands
 * (irb_graph: that 1x1 may run the depthwise op after it, as the AMX table's sq8_dwf does with D's 1x1s of K = 64 and
 * 72 on this 29x29 map) and C is, with D's projection as its expansion: three blocks on every table. Against the same
 * model unfused (each depthwise output also read by an ADD) and against FORMAT.md's naive arithmetic, on every kernel
 * table this machine runs, at batch 1, 2 and 3 on 1, 2 and 3 threads (with and without lanes): the same bytes
 * everywhere. It checks which ops run by bands, and that the ops of K under the best descriptor's min_k run the table
 * below's. A band's padding taken as the map's, its input rows copied one short, or D taken into bands, fail it. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "engine_impl.h"
#include "util_ref.h"
#include "util_run.h"
#include "util_writer.h"

enum { NIMG = 3, C = 8, H = 57, H2 = 29, NCONV = 11 };

static uint64_t seed = 9191;
/* the convolutions in model order: out channels, in channels, window, stride, groups, output scale and zero point, qmin */
typedef struct { int O, cin, k, st, groups; float sc; int32_t zp, qmin; } Conv;
static const Conv cv[NCONV] = {
  { 72, C, 1, 1, 1, 0.05f, -20, -20 }, { 72, 72, 3, 1, 72, 0.04f, 5, 5 }, { C, 72, 1, 1, 1, 0.045f, -7, -128 },       /* A */
  { 40, C, 1, 1, 1, 0.05f, 9, 9 }, { 40, 40, 3, 2, 40, 0.04f, -3, -3 }, { 64, 40, 1, 1, 1, 0.05f, 2, -128 },          /* B */
  { 72, 64, 1, 1, 1, 0.06f, -11, -11 }, { 72, 72, 3, 1, 72, 0.03f, 4, 4 }, { 64, 72, 1, 1, 1, 0.05f, -5, -128 },      /* D */
  { 64, 64, 3, 1, 64, 0.04f, 6, 6 }, { C, 64, 1, 1, 1, 0.07f, 1, -128 },                                              /* C */
};
/* their weights, biases, multipliers and shifts */
static int8_t *cw[NCONV];
static int32_t *cb[NCONV], *cm[NCONV], *cs[NCONV];
static const float sc_in = 0.03f, sc_add = 0.06f;
static const int32_t zp_in = 3, zp_add = 11;
static const int32_t add_m[16] = { 1288490189, 1073741824, 31 };   /* m_a, m_b, shift (about 0.6 and 0.5) */

static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static void fill_q(int8_t *w, int n) { for (int i = 0; i < n; i++) w[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127); }

static uint32_t conv(MW *m, uint32_t x, int i, int h) {
  const Conv *c = &cv[i];
  int oh = (h + 2 * (c->k / 2) - c->k) / c->st + 1;
  uint32_t y = mw_value_q(m, (uint32_t)c->O, (uint32_t)oh, (uint32_t)oh, DT_I8, c->sc, c->zp);
  uint32_t p[8] = { mw_param2(m, DT_I8, (uint32_t)c->O, (uint32_t)(c->cin / c->groups * c->k * c->k), cw[i]),
                    mw_param2(m, DT_I32, (uint32_t)c->O, 0, cb[i]), mw_param2(m, DT_I32, (uint32_t)c->O, 0, cm[i]),
                    mw_param2(m, DT_I32, (uint32_t)c->O, 0, cs[i]), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  int32_t a[16] = { c->O, c->cin, c->k, c->k, c->st, c->st, c->k / 2, c->k / 2, 1, 1, c->groups };
  uint32_t o = mw_op(m, OP_CONV2D, 0, 1, &x, y, a, p);
  mw_op_ptr(m, o)->qmin = c->qmin, mw_op_ptr(m, o)->qmax = 127;
  return y;
}
static uint32_t add(MW *m, uint32_t a, uint32_t b, int c, int h) {
  uint32_t y = mw_value_q(m, (uint32_t)c, (uint32_t)h, (uint32_t)h, DT_I8, sc_add, zp_add), in[2] = { a, b };
  uint32_t o = mw_op(m, OP_ADD, 0, 2, in, y, (int32_t *)add_m, NULL);
  mw_op_ptr(m, o)->qmin = zp_add, mw_op_ptr(m, o)->qmax = 127;
  return y;
}
/* a depthwise op (conv i) on x; unfused: its output also read by an ADD whose output nothing reads */
static uint32_t dw(MW *m, uint32_t x, int i, int h, int unfused) {
  uint32_t y = conv(m, x, i, h);
  if (unfused) add(m, y, y, cv[i].O, (h + 2 - 3) / cv[i].st + 1);
  return y;
}

/* QUANTIZE; A (57x57, stride 1), ADD(A, the input); B (stride 2, to 29x29); D (stride 1); C (depthwise, 1x1);
   FLATTEN; DEQUANTIZE */
static unsigned char *model(int unfused, size_t *size) {
  uint32_t n = (uint32_t)(C * H2 * H2);
  MW *m = mw_new(KIND_SQ8, C, H, H, n);
  uint32_t v0 = 0, q = mw_value_q(m, C, H, H, DT_I8, sc_in, zp_in);
  int32_t none[16] = { 0 };
  uint32_t o = mw_op(m, OP_QUANTIZE, 0, 1, &v0, q, none, NULL);
  mw_op_ptr(m, o)->qmin = -128, mw_op_ptr(m, o)->qmax = 127;
  uint32_t a = add(m, conv(m, dw(m, conv(m, q, 0, H), 1, H, unfused), 2, H), q, C, H);
  uint32_t b = conv(m, dw(m, conv(m, a, 3, H), 4, H, unfused), 5, H2);
  uint32_t d = conv(m, dw(m, conv(m, b, 6, H2), 7, H2, unfused), 8, H2);
  mw_sq8_output(m, conv(m, dw(m, d, 9, H2, unfused), 10, H2));
  return mw_finish(m, size);
}

/* conv i (FORMAT.md's arithmetic) of x (h x h, zero point zx) into a new buffer */
static int8_t *rconv(const int8_t *x, int i, int h, int32_t zx) {
  const Conv *c = &cv[i];
  int oh = (h + 2 * (c->k / 2) - c->k) / c->st + 1;
  int8_t *y = malloc((size_t)c->O * oh * oh);
  ref_sq8_conv(x, c->cin, h, h, c->O, c->k, c->st, c->k / 2, c->groups, cw[i], cb[i], cm[i], cs[i], zx, c->zp, c->qmin, 127, y,
               NULL, NULL);
  return y;
}

/* FORMAT.md's sq8 ADD of a (zero point za) and b (zb), into a */
static void radd(int8_t *a, int32_t za, const int8_t *b, int32_t zb, int n) {
  for (int i = 0; i < n; i++) {
    int64_t v = ((int64_t)(a[i] - za) * add_m[0] + (int64_t)(b[i] - zb) * add_m[1] + ((int64_t)1 << (add_m[2] - 1))) >> add_m[2];
    a[i] = (int8_t)clampl(zp_add + v, zp_add, 127);
  }
}

/* the naive outputs of image x, dequantized as the model's DEQUANTIZE does */
static void naive(const float *x, float *out) {
  int8_t *q = malloc((size_t)C * H * H), *t[NCONV];
  for (int i = 0; i < C * H * H; i++) q[i] = (int8_t)clampl((int64_t)nearbyintf(x[i] / sc_in) + zp_in, -128, 127);
  t[0] = rconv(q, 0, H, zp_in), t[1] = rconv(t[0], 1, H, cv[0].zp), t[2] = rconv(t[1], 2, H, cv[1].zp);
  radd(t[2], cv[2].zp, q, zp_in, C * H * H);   /* ADD(A's output, the input), in place of A's output */
  t[3] = rconv(t[2], 3, H, zp_add), t[4] = rconv(t[3], 4, H, cv[3].zp), t[5] = rconv(t[4], 5, H2, cv[4].zp);
  t[6] = rconv(t[5], 6, H2, cv[5].zp), t[7] = rconv(t[6], 7, H2, cv[6].zp), t[8] = rconv(t[7], 8, H2, cv[7].zp);
  t[9] = rconv(t[8], 9, H2, cv[8].zp), t[10] = rconv(t[9], 10, H2, cv[9].zp);
  for (int i = 0; i < C * H2 * H2; i++) out[i] = cv[10].sc * (float)(t[10][i] - cv[10].zp);
  for (int i = 0; i < NCONV; i++) free(t[i]);
  free(q);
}

static int irb_op(const Engine *e, unsigned i, int kind) { return e->st[i].irb == kind; }
/* a GEMM op of K under its best descriptor's min_k that runs that descriptor anyway (want none: the table below's) */
static int below_min_k(const Engine *e, unsigned i, int arg) {
  (void)arg;
  return e->st[i].kq && e->kq->min_k && e->st[i].K < e->kq->min_k && e->st[i].kq == e->kq;
}

int main(void) {
  for (int i = 0; i < NCONV; i++) {
    const Conv *c = &cv[i];
    int nw = c->O * (c->cin / c->groups) * c->k * c->k;
    cw[i] = malloc((size_t)nw), cb[i] = malloc(4 * (size_t)c->O), cm[i] = malloc(4 * (size_t)c->O), cs[i] = malloc(4 * (size_t)c->O);
    fill_q(cw[i], nw), rng_requant(&seed, cb[i], cm[i], cs[i], c->O);
  }
  size_t sf, su, nout = (size_t)C * H2 * H2;
  float *x = malloc(sizeof(float) * NIMG * C * H * H);
  rng_fill(&seed, x, (size_t)NIMG * C * H * H, -2, 2);
  unsigned char *bf = model(0, &sf), *bu = model(1, &su);
  for (int t = 1; t <= 2; t++) {   /* A, B and C by bands, on one thread or two */
    int ex = count_ops(bf, sf, t, irb_op, IRB_EXP), pr = count_ops(bf, sf, t, irb_op, IRB_PROJ), dw = count_ops(bf, sf, t, irb_op, IRB_DW);
    CHECK(ex == 3 && pr == 3 && dw == 0, "%d thread(s): %d, %d and %d ops by bands as expansion, projection and "
          "depthwise input (want 3, 3, 0)", t, ex, pr, dw);
  }
  CHECK(count_ops(bu, su, 2, irb_op, IRB_PROJ) == 0, "the unfused model: blocks by bands");
  CHECK(count_ops(bf, sf, 2, below_min_k, 0) == 0, "%d ops of K under min_k on the best table's descriptor",
        count_ops(bf, sf, 2, below_min_k, 0));
  want_len = (size_t)NIMG * nout, want_vary = 3;
  want_out = malloc(sizeof(float) * want_len);
  for (int i = 0; i < NIMG; i++) naive(x + (size_t)i * C * H * H, want_out + (size_t)i * nout);
  int tables = fused_unfused_tables("blocks", bf, sf, bu, su, x, NIMG, nout, judge_want);
  CHECK(tables > 0, "no kernel table ran");
  free(want_out), free(bf), free(bu), free(x);
  for (int i = 0; i < NCONV; i++) free(cw[i]), free(cb[i]), free(cm[i]), free(cs[i]);
  if (g_failures) {
    fprintf(stderr, "test_sq8_irb: %d failures\n", g_failures);
    return 1;
  }
  printf("test_sq8_irb: ok (%d kernel tables)\n", tables);
  return 0;
}
