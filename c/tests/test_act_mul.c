/* test_act_mul.c: the operations of format version 2 through the loader and the executor, every kind:
 * the activations sigmoid, silu, hardswish, hardsigmoid (standalone and fused into ADD and MUL), and MUL
 * with the same shape and with the (C, 1, 1) channel broadcast of squeeze-and-excite, on odd sizes.
 * f32 and dq8 (whose non-GEMM ops are f32's: bit-identical) against a plain double reference; sq8
 * (the 256-entry lookup table, the integer MUL) against FORMAT.md's integer arithmetic written out,
 * exactly, for every batch size and thread count; and the validator's v2 rules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util_ref.h"
#include "util_run.h"
#include "util_writer.h"

#define NIMG 3

/* runs buf on NIMG images at batch `batch`; 0 ok */
static int run(const unsigned char *buf, size_t size, int batch, const float *in, float *out, char *err, size_t errlen) {
  return run_model_batches(buf, size, batch, NIMG, in, out, err, errlen);
}

/* the same output for batch 1 and NIMG, 1 and 2 threads; returns the batch-NIMG, 1-thread output */
static float *run_all(const char *name, const unsigned char *buf, size_t size, const float *in, size_t nout) {
  char err[256] = "";
  float *out = malloc(NIMG * nout * sizeof(float)), *o2 = malloc(NIMG * nout * sizeof(float));
  set_threads(1);
  CHECK(run(buf, size, NIMG, in, out, err, sizeof err) == 0, "%s: %s", name, err);
  int cfg[3][2] = {{1, 1}, {1, 2}, {NIMG, 2}};
  for (int c = 0; c < 3; c++) {
    set_threads(cfg[c][1]);
    memset(o2, 0, NIMG * nout * sizeof(float));
    CHECK(run(buf, size, cfg[c][0], in, o2, err, sizeof err) == 0 && memcmp(out, o2, NIMG * nout * sizeof(float)) == 0,
          "%s: batch %d, %d threads differ from batch %d, 1 thread", name, cfg[c][0], cfg[c][1], NIMG);
  }
  set_threads(1);
  free(o2);
  return out;
}

static uint32_t mul_op(MW *m, uint32_t a, uint32_t b, int act, uint32_t out) {
  uint32_t in[2] = {a, b};
  mw_op(m, OP_MUL, (uint32_t)act, 2, in, out, NULL, NULL);
  return out;
}

/* ---------------------------------------------------------------- f32 and dq8 */

/* x -> silu -> global avg (C,1,1) -> sigmoid -> x' * s (broadcast, hardswish) -> * x (hardsigmoid)
     -> relu6 -> + (sigmoid) -> flatten */
static unsigned char *float_model(uint32_t kind, int C, int H, int W, size_t *size) {
  MW *m = mw_new(kind, (uint32_t)C, (uint32_t)H, (uint32_t)W, (uint32_t)(C * H * W));
  uint32_t v1 = mw_act(m, 0, ACT_SILU);
  uint32_t v2 = mw_adaptive(m, v1, 0, 1, 1);
  uint32_t v3 = mw_act(m, v2, ACT_SIGMOID);
  uint32_t v4 = mul_op(m, v1, v3, ACT_HARDSWISH, mw_value(m, (uint32_t)C, (uint32_t)H, (uint32_t)W));
  uint32_t v5 = mul_op(m, v4, 0, ACT_HARDSIGMOID, mw_value(m, (uint32_t)C, (uint32_t)H, (uint32_t)W));
  uint32_t v6 = mw_act(m, v5, ACT_RELU6);
  uint32_t v7 = mw_add(m, v6, v4, ACT_SIGMOID);
  mw_flatten(m, v7);
  return mw_finish(m, size);
}

static void float_ref(const float *x, int C, int H, int W, double *y) {
  int HW = H * W;
  double *v1 = malloc(sizeof(double) * C * HW), s[64];
  for (int i = 0; i < C * HW; i++) v1[i] = ref_act(x[i], ACT_SILU);
  for (int c = 0; c < C; c++) {
    double sum = 0;
    for (int k = 0; k < HW; k++) sum += v1[c * HW + k];
    s[c] = ref_act(sum / HW, ACT_SIGMOID);
  }
  for (int c = 0; c < C; c++)
    for (int k = 0; k < HW; k++) {
      int i = c * HW + k;
      double v4 = ref_act(v1[i] * s[c], ACT_HARDSWISH), v5 = ref_act(v4 * x[i], ACT_HARDSIGMOID);
      y[i] = ref_act(ref_act(v5, ACT_RELU6) + v4, ACT_SIGMOID);
    }
  free(v1);
}

static void test_float(int C, int H, int W, uint64_t *rng) {
  size_t n = (size_t)C * H * W, size;
  float *x = malloc(NIMG * n * sizeof(float));
  rng_fill(rng, x, NIMG * n, -6, 6);
  double *ref = malloc(n * sizeof(double));
  float *out[2];
  for (int k = 0; k < 2; k++) {
    uint32_t kind = k ? KIND_DQ8 : KIND_F32;
    unsigned char *buf = float_model(kind, C, H, W, &size);
    char name[64];
    snprintf(name, sizeof name, "%s act/mul %dx%dx%d", kind_name(kind), C, H, W);
    out[k] = run_all(name, buf, size, x, n);
    free(buf);
    int bad = 0;
    for (int i = 0; i < NIMG; i++) {
      float_ref(x + i * n, C, H, W, ref);
      for (size_t j = 0; j < n; j++) bad += !(fabs(out[k][i * n + j] - ref[j]) <= 1e-5 * (1 + fabs(ref[j])));
    }
    CHECK(bad == 0, "%s: %d of %zu outputs off the double reference", name, bad, NIMG * n);
  }
  CHECK(memcmp(out[0], out[1], NIMG * n * sizeof(float)) == 0, "dq8's non-GEMM ops differ from f32's");
  free(out[0]), free(out[1]), free(x), free(ref);
}

/* ---------------------------------------------------------------- sq8 */

static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static int64_t rq(int64_t a, int64_t m, int s) { return (a * m + ((int64_t)1 << (s - 1))) >> s; }
static int64_t divr(int64_t a, int64_t n) { return (int64_t)floorl((long double)(2 * a + n) / (long double)(2 * n)); }

typedef struct { float s[9]; int32_t z[9]; int8_t lut1[256], lut2[256]; int32_t m4, sh4, m5, sh5, qmin4, qmax4; } Sq8P;

/* x -> QUANTIZE (1) -> LUT act (2) -> global avg (3) -> MUL (2) x (3) broadcast (4) -> MUL (4) x (2) (5)
     -> LUT act (6) -> FLATTEN (7) -> DEQUANTIZE */
static unsigned char *sq8_model(const Sq8P *p, int C, int H, int W, size_t *size, int mutate) {
  MW *m = mw_new(KIND_SQ8, (uint32_t)C, (uint32_t)H, (uint32_t)W, (uint32_t)(C * H * W));
  uint32_t c = (uint32_t)C, h = (uint32_t)H, w = (uint32_t)W, v[8];
  v[1] = mw_value_q(m, c, h, w, DT_I8, p->s[1], p->z[1]);
  v[2] = mw_value_q(m, c, h, w, DT_I8, p->s[2], p->z[2]);
  v[3] = mw_value_q(m, c, 1, 1, DT_I8, p->s[2], p->z[2]);
  v[4] = mw_value_q(m, c, h, w, DT_I8, p->s[4], p->z[4]);
  v[5] = mw_value_q(m, c, h, w, DT_I8, p->s[5], p->z[5]);
  v[6] = mw_value_q(m, c, h, w, DT_I8, p->s[6], p->z[6]);
  v[7] = mw_value_q(m, c * h * w, 1, 1, DT_I8, p->s[6], p->z[6]);
  uint32_t out = mw_value(m, c * h * w, 1, 1), dims[4] = {mutate == 2 ? 255u : 256u, 0, 0, 0};
  uint32_t none[8] = {TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE}, l1[8], l2[8];
  memcpy(l1, none, sizeof none), memcpy(l2, none, sizeof none);
  l1[P_SQ8_ACT_LUT] = mw_param(m, DT_I8, 1, dims, p->lut1);
  l2[P_SQ8_ACT_LUT] = mw_param(m, DT_I8, 1, dims, p->lut2);
  uint32_t x0 = 0;
  Op *o = mw_op_ptr(m, mw_op(m, OP_QUANTIZE, 0, 1, &x0, v[1], NULL, NULL));
  o->qmin = -128, o->qmax = 127;
  o = mw_op_ptr(m, mw_op(m, OP_ACT, ACT_SIGMOID, 1, &v[1], v[2], NULL, l1));
  o->qmin = mutate == 3 ? -127 : -128, o->qmax = 127;
  int32_t a3[16] = {1, 1};
  o = mw_op_ptr(m, mw_op(m, OP_ADAPTIVE_AVGPOOL2D, 0, 1, &v[2], v[3], a3, NULL));
  o->qmin = -128, o->qmax = 127;
  uint32_t in4[2] = {v[2], v[3]}, in5[2] = {v[4], v[2]};
  int32_t a4[16] = {p->m4, p->sh4}, a5[16] = {p->m5, p->sh5};
  o = mw_op_ptr(m, mw_op(m, OP_MUL, mutate == 1 ? ACT_SILU : 0, 2, in4, v[4], a4, NULL));
  o->qmin = p->qmin4, o->qmax = p->qmax4;
  o = mw_op_ptr(m, mw_op(m, OP_MUL, 0, 2, in5, v[5], a5, NULL));
  o->qmin = -128, o->qmax = 127;
  o = mw_op_ptr(m, mw_op(m, OP_ACT, ACT_HARDSWISH, 1, &v[5], v[6], NULL, l2));
  o->qmin = -128, o->qmax = 127;
  o = mw_op_ptr(m, mw_op(m, OP_FLATTEN, 0, 1, &v[6], v[7], NULL, NULL));
  o->qmin = -128, o->qmax = 127;
  mw_op(m, OP_DEQUANTIZE, 0, 1, &v[7], out, NULL, NULL);
  return mw_finish(m, size);
}

static void sq8_naive(const Sq8P *p, const float *x, int C, int HW, float *y) {
  int n = C * HW;
  int8_t *q1 = malloc((size_t)n), *q2 = malloc((size_t)n), *q4 = malloc((size_t)n), q3[64];
  for (int i = 0; i < n; i++) q1[i] = (int8_t)clampl((int64_t)nearbyintf(x[i] / p->s[1]) + p->z[1], -128, 127);
  for (int i = 0; i < n; i++) q2[i] = p->lut1[q1[i] + 128];
  for (int c = 0; c < C; c++) {
    int64_t sum = 0;
    for (int k = 0; k < HW; k++) sum += q2[c * HW + k] - p->z[2];
    q3[c] = (int8_t)clampl(p->z[2] + divr(sum, HW), -128, 127);
  }
  for (int i = 0; i < n; i++)
    q4[i] = (int8_t)clampl(p->z[4] + rq((int64_t)(q2[i] - p->z[2]) * (q3[i / HW] - p->z[2]), p->m4, p->sh4), p->qmin4, p->qmax4);
  for (int i = 0; i < n; i++) {
    int8_t q5 = (int8_t)clampl(p->z[5] + rq((int64_t)(q4[i] - p->z[4]) * (q2[i] - p->z[2]), p->m5, p->sh5), -128, 127);
    int8_t q6 = p->lut2[q5 + 128];
    y[i] = p->s[6] * (float)(q6 - p->z[6]);
  }
  free(q1), free(q2), free(q4);
}

static void mult_of(double r, int32_t *m, int32_t *shift) {
  int e;
  double f = frexp(r, &e);   /* r = f * 2^e, f in [0.5, 1) */
  *shift = 31 - e;
  *m = (int32_t)llround(ldexp(f, 31));
  if (*m == INT32_MIN) *m = INT32_MAX;   /* f rounded up to 1.0 */
}

static void test_sq8(int C, int H, int W, uint64_t *rng) {
  Sq8P p;
  for (int k = 0; k < 9; k++) p.s[k] = rng_unif(rng, 0.01f, 0.1f), p.z[k] = (int32_t)(rng_next(rng) % 101) - 50;
  for (int i = 0; i < 256; i++) p.lut1[i] = (int8_t)(rng_next(rng) % 256), p.lut2[i] = (int8_t)(rng_next(rng) % 256);
  /* m * 2^-shift = sa * sb / sy with m in [2^30, 2^31), as the exporter computes it */
  mult_of((double)p.s[2] * p.s[2] / p.s[4], &p.m4, &p.sh4);
  mult_of((double)p.s[4] * p.s[2] / p.s[5], &p.m5, &p.sh5);
  p.qmin4 = p.z[4], p.qmax4 = 127;   /* a ReLU-like clamp */
  size_t n = (size_t)C * H * W, size;
  float *x = malloc(NIMG * n * sizeof(float)), *want = malloc(n * sizeof(float));
  rng_fill(rng, x, NIMG * n, -4, 4);
  unsigned char *buf = sq8_model(&p, C, H, W, &size, 0);
  char name[64];
  snprintf(name, sizeof name, "sq8 lut/mul %dx%dx%d", C, H, W);
  float *out = run_all(name, buf, size, x, n);
  int bad = 0;
  for (int i = 0; i < NIMG; i++) {
    sq8_naive(&p, x + i * n, C, H * W, want);
    bad += memcmp(out + i * n, want, n * sizeof(float)) != 0;
  }
  CHECK(bad == 0, "%s: %d images differ from FORMAT.md's arithmetic", name, bad);
  free(out), free(buf);
  /* the validator's sq8 rules */
  const char *want_err[] = {NULL, "fused in an sq8 model", "lookup table", "qmin/qmax"};
  for (int mut = 1; mut <= 3; mut++) {
    Model m;
    char err[256] = "";
    buf = sq8_model(&p, C, H, W, &size, mut);
    int rc = model_load_buffer(buf, size, &m, err, sizeof err);
    CHECK(rc != 0 && strstr(err, want_err[mut]), "sq8 mutation %d: loaded or said '%s'", mut, err);
    if (!rc) model_free(&m);
    free(buf);
  }
  free(x), free(want);
}

/* ---------------------------------------------------------------- the validator's other v2 rules */

static void expect_refused(const char *what, MW *w, const char *want) {
  size_t size;
  unsigned char *buf = mw_finish(w, &size);
  Model m;
  char err[256] = "";
  int rc = model_load_buffer(buf, size, &m, err, sizeof err);
  CHECK(rc != 0 && strstr(err, want), "%s: loaded or said '%s' (want '%s')", what, err, want);
  if (!rc) model_free(&m);
  free(buf);
}

static void test_refusals(void) {
  /* MUL's second input neither a's shape nor (C, 1, 1) */
  MW *m = mw_new(KIND_F32, 3, 4, 5, 60);
  uint32_t p = mw_adaptive(m, 0, 0, 1, 2);
  uint32_t y = mul_op(m, 0, p, 0, mw_value(m, 3, 4, 5));
  mw_flatten(m, y);
  expect_refused("MUL (3,4,5) x (3,1,2)", m, "expected (3, 4, 5) or (3, 1, 1)");
  /* a v2 act code in a version-1 file */
  m = mw_new(KIND_F32, 3, 4, 5, 60);
  mw_version(m, 1);
  mw_flatten(m, mw_act(m, 0, ACT_HARDSWISH));
  expect_refused("hardswish in v1", m, "bad activation");
  /* dq8 group size above 32768 (its int32 sums could overflow): one LINEAR of K = 65536 */
  enum { K = 65536 };
  int8_t *wq = calloc(K, 1);
  float sc = 1.0f;
  m = mw_new(KIND_DQ8, K, 1, 1, 1);
  uint32_t d0[4] = {1, K, 0, 0}, d1[4] = {1, 1, 0, 0}, pr[8] = {0, 0, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE};
  pr[P_DQ8_WEIGHT] = mw_param(m, DT_I8, 2, d0, wq), pr[P_DQ8_SCALES] = mw_param(m, DT_F32, 2, d1, &sc);
  int32_t a[16] = {1, K};
  a[A_LINEAR_GS] = K;
  uint32_t x0 = 0;
  mw_op(m, OP_LINEAR, 0, 1, &x0, mw_value(m, 1, 1, 1), a, pr);
  expect_refused("dq8 gs 65536", m, "group size 65536 > 32768");
  free(wq);
}

int main(void) {
  uint64_t rng = 2024;
  int shapes[][3] = {{1, 1, 1}, {5, 7, 9}, {3, 1, 13}, {16, 4, 4}, {7, 11, 5}};
  for (int i = 0; i < 5; i++) test_float(shapes[i][0], shapes[i][1], shapes[i][2], &rng);
  for (int i = 0; i < 5; i++) test_sq8(shapes[i][0], shapes[i][1], shapes[i][2], &rng);
  test_refusals();
  if (g_failures) fprintf(stderr, "test_act_mul: %d FAILED\n", g_failures);
  else printf("test_act_mul: ok\n");
  return g_failures != 0;
}
