/* test_q8_engine.c: the `runq` binary (RUNQ_BIN, default build/runq) on small sq8 and dq8 models
 * written byte by byte: probabilities against a naive C implementation of FORMAT.md's arithmetic,
 * identical output for every batch size, thread count and kernel table, and the errors of the int8
 * checks (each one line naming the model and the op, exit 1). */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util_ref.h"
#include "util_writer.h"

static char dir[256];
static const char *bin;
enum { C0 = 3, H0 = 9, W0 = 11, NCLS = 4, NF = 5 };

static int sh(const char *env, const char *args, char *out, size_t outlen, char *err, size_t errlen) {
  return run_capture(dir, env, bin, args, out, outlen, err, errlen);
}

static uint64_t seed = 7;
static float xs[NF][C0 * H0 * W0];
static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static int64_t rq(int64_t a, int64_t m, int s) { return (a * m + ((int64_t)1 << (s - 1))) >> s; }

/* ---------------- sq8: QUANTIZE, CONV 3x3/1 (ReLU; on AMX and AVX-512 VNNI the implicit convolution), depthwise
   CONV, ADD, MAXPOOL, ADAPTIVE_AVG, FLATTEN, LINEAR, DEQUANTIZE */
#define O1 5
static int8_t w1[O1 * C0 * 9], w2[O1 * 9], w3[NCLS * O1];
static int32_t b1[O1], m1[O1], s1[O1], b2[O1], m2[O1], s2[O1], b3[NCLS], m3[NCLS], s3[NCLS];
static const float sc[] = { 0, 0.03f, 0.05f, 0.04f, 0.06f, 0.06f, 0.06f, 0.06f, 0.02f };
static const int32_t zp[] = { 0, 3, -20, 5, -7, -7, -7, -7, 1 };

static void sq8_naive(const float *x, double *logits) {
  int8_t q[C0 * H0 * W0], a[O1 * 25 * 25], b[O1 * 25 * 25], c[O1 * 25 * 25], d[O1 * 25 * 25], e[O1], f[NCLS];
  for (int i = 0; i < C0 * H0 * W0; i++) q[i] = (int8_t)clampl((int64_t)nearbyintf(x[i] / sc[1]) + zp[1], -128, 127);
  int h, w, h2, w2_;
  ref_sq8_conv(q, C0, H0, W0, O1, 3, 1, 1, 1, w1, b1, m1, s1, zp[1], zp[2], zp[2], 127, a, &h, &w);
  ref_sq8_conv(a, O1, h, w, O1, 3, 1, 1, O1, w2, b2, m2, s2, zp[2], zp[3], -128, 127, b, &h2, &w2_);
  for (int i = 0; i < O1 * h * w; i++)   /* ADD: m_a = 2^30 * sa/sy, m_b = 2^30 * sb/sy, shift 30 */
    c[i] = (int8_t)clampl(zp[4] + (((int64_t)(a[i] - zp[2]) * 894784853 + (int64_t)(b[i] - zp[3]) * 715827883 +
                                    ((int64_t)1 << 29)) >> 30), -128, 127);
  int ph = (h - 2 + 1) / 2 + 1, pw = (w - 2 + 1) / 2 + 1;   /* maxpool 2, stride 2, ceil_mode */
  if ((ph - 1) * 2 >= h) ph--;
  if ((pw - 1) * 2 >= w) pw--;
  for (int o = 0; o < O1; o++)
    for (int i = 0; i < ph; i++)
      for (int j = 0; j < pw; j++) {
        int mx = -128;
        for (int u = 2 * i; u < 2 * i + 2 && u < h; u++)
          for (int v = 2 * j; v < 2 * j + 2 && v < w; v++) mx = c[(o * h + u) * w + v] > mx ? c[(o * h + u) * w + v] : mx;
        d[(o * ph + i) * pw + j] = (int8_t)mx;
      }
  for (int o = 0; o < O1; o++) {
    int64_t s = 0, n = (int64_t)ph * pw;
    for (int i = 0; i < ph * pw; i++) s += d[o * ph * pw + i] - zp[5];
    e[o] = (int8_t)(zp[5] + (int64_t)floorl((long double)(2 * s + n) / (2 * n)));
  }
  for (int o = 0; o < NCLS; o++) {
    int64_t acc = b3[o];
    for (int k = 0; k < O1; k++) acc += (int64_t)w3[o * O1 + k] * e[k];
    f[o] = (int8_t)clampl(zp[8] + rq(acc, m3[o], s3[o]), -128, 127);
    logits[o] = (double)(sc[8] * (float)(f[o] - zp[8]));
  }
}

static void fill_q(int8_t *w, int n, int8_t lo, int8_t hi) { for (int i = 0; i < n; i++) w[i] = (int8_t)(lo + (int)(rng_next(&seed) % (uint64_t)(hi - lo + 1))); }
static void fill_mq(int32_t *b, int32_t *m, int32_t *s, int n) { rng_requant(&seed, b, m, s, n); }

/* the sq8 model; bad = 1: value 2's scale is 0 (runq must refuse it naming op 1); version: the file's (3: the
   convolution's and the LINEAR's weights blocked, FORMAT.md; 2: (O, K)) */
static unsigned char *sq8_model(size_t *size, int bad, uint32_t version) {
  MW *m = mw_new(KIND_SQ8, C0, H0, W0, NCLS);
  mw_version(m, version);
  int h = H0 + 2 - 3 + 1, w = W0 + 2 - 3 + 1, ph = (h + 1) / 2, pw = (w + 1) / 2;
  uint32_t v[9];
  v[0] = 0;
  v[1] = mw_value_q(m, C0, H0, W0, DT_I8, sc[1], zp[1]);
  v[2] = mw_value_q(m, O1, (uint32_t)h, (uint32_t)w, DT_I8, bad ? 0.0f : sc[2], zp[2]);
  v[3] = mw_value_q(m, O1, (uint32_t)h, (uint32_t)w, DT_I8, sc[3], zp[3]);
  v[4] = mw_value_q(m, O1, (uint32_t)h, (uint32_t)w, DT_I8, sc[4], zp[4]);
  v[5] = mw_value_q(m, O1, (uint32_t)ph, (uint32_t)pw, DT_I8, sc[5], zp[5]);
  v[6] = mw_value_q(m, O1, 1, 1, DT_I8, sc[6], zp[6]);
  v[7] = mw_value_q(m, O1, 1, 1, DT_I8, sc[7], zp[7]);
  v[8] = mw_value_q(m, NCLS, 1, 1, DT_I8, sc[8], zp[8]);
  uint32_t out = mw_value(m, NCLS, 1, 1);
  uint32_t p1[8] = { mw_param2(m, DT_I8, O1, C0 * 9, w1), mw_param2(m, DT_I32, O1, 0, b1), mw_param2(m, DT_I32, O1, 0, m1),
                     mw_param2(m, DT_I32, O1, 0, s1), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  uint32_t p2[8] = { mw_param2(m, DT_I8, O1, 9, w2), mw_param2(m, DT_I32, O1, 0, b2), mw_param2(m, DT_I32, O1, 0, m2),
                     mw_param2(m, DT_I32, O1, 0, s2), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  uint32_t p3[8] = { mw_param2(m, DT_I8, NCLS, O1, w3), mw_param2(m, DT_I32, NCLS, 0, b3), mw_param2(m, DT_I32, NCLS, 0, m3),
                     mw_param2(m, DT_I32, NCLS, 0, s3), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  int32_t aq[16] = { 0 }, ac1[16] = { O1, C0, 3, 3, 1, 1, 1, 1, 1, 1, 1 }, ac2[16] = { O1, O1, 3, 3, 1, 1, 1, 1, 1, 1, O1 };
  int32_t aadd[16] = { 894784853, 715827883, 30 }, amp[16] = { 2, 2, 2, 2, 0, 0, 1, 1, 1 }, aad[16] = { 1, 1 };
  int32_t alin[16] = { NCLS, O1 };
  uint32_t i01 = v[0], i1 = v[1], i2 = v[2], i3 = v[3], i23[2] = { v[2], v[3] }, i4 = v[4], i5 = v[5], i6 = v[6], i7 = v[7], i8 = v[8];
  uint32_t ops[10];
  ops[0] = mw_op(m, OP_QUANTIZE, 0, 1, &i01, v[1], aq, NULL);
  ops[1] = mw_op(m, OP_CONV2D, 0, 1, &i1, v[2], ac1, p1);
  ops[2] = mw_op(m, OP_CONV2D, 0, 1, &i2, v[3], ac2, p2);
  ops[3] = mw_op(m, OP_ADD, 0, 2, i23, v[4], aadd, NULL);
  ops[4] = mw_op(m, OP_MAXPOOL2D, 0, 1, &i4, v[5], amp, NULL);
  ops[5] = mw_op(m, OP_ADAPTIVE_AVGPOOL2D, 0, 1, &i5, v[6], aad, NULL);
  ops[6] = mw_op(m, OP_FLATTEN, 0, 1, &i6, v[7], NULL, NULL);
  ops[7] = mw_op(m, OP_LINEAR, 0, 1, &i7, v[8], alin, p3);
  ops[8] = mw_op(m, OP_DEQUANTIZE, 0, 1, &i8, out, NULL, NULL);
  int32_t qlo[9] = { -128, zp[2], -128, -128, -128, -128, -128, -128, 0 }, qhi[9] = { 127, 127, 127, 127, 127, 127, 127, 127, 0 };
  for (int i = 0; i < 9; i++) mw_op_ptr(m, ops[i])->qmin = qlo[i], mw_op_ptr(m, ops[i])->qmax = qhi[i];
  (void)i3;
  mw_output(m, out);
  return mw_finish(m, size);
}

/* ---------------- sq8, wide: QUANTIZE, CONV 3x3 p1 (3 -> O4), CONV 3x3 p1 (O4 -> O5: on AMX and AVX-512 VNNI the
   implicit convolution, enough work to split over the threads at batch 1, and its tasks split by rows there, so that
   on two or three threads each thread makes its own copy of the quad planes, ops_q8.c's own_planes), FLATTEN, LINEAR
   (K = O5 x 99), DEQUANTIZE */
#define O4 64
#define O5 256
static int8_t w4[O4 * C0 * 9], w5[O5 * O4 * 9], w6[NCLS * O5 * H0 * W0];
static int32_t b4[O4], m4[O4], s4[O4], b5[O5], m5[O5], s5[O5], b6[NCLS], m6[NCLS], s6[NCLS];
static const float scw[] = { 0, 0.03f, 0.05f, 0.04f, 0.04f, 0.02f };
static const int32_t zpw[] = { 0, 3, -20, 5, 5, 1 };

static void wide_naive(const float *x, double *logits) {
  static int8_t q[C0 * H0 * W0], a[O4 * H0 * W0], b[O5 * H0 * W0];
  for (int i = 0; i < C0 * H0 * W0; i++) q[i] = (int8_t)clampl((int64_t)nearbyintf(x[i] / scw[1]) + zpw[1], -128, 127);
  int h, w;
  ref_sq8_conv(q, C0, H0, W0, O4, 3, 1, 1, 1, w4, b4, m4, s4, zpw[1], zpw[2], -128, 127, a, &h, &w);
  ref_sq8_conv(a, O4, h, w, O5, 3, 1, 1, 1, w5, b5, m5, s5, zpw[2], zpw[3], -128, 127, b, &h, &w);
  for (int o = 0; o < NCLS; o++) {
    int64_t acc = b6[o];
    for (int k = 0; k < O5 * H0 * W0; k++) acc += (int64_t)w6[o * O5 * H0 * W0 + k] * b[k];
    logits[o] = (double)(scw[5] * (float)(clampl(zpw[5] + rq(acc, m6[o], s6[o]), -128, 127) - zpw[5]));
  }
}

static unsigned char *wide_model(size_t *size) {
  MW *m = mw_new(KIND_SQ8, C0, H0, W0, NCLS);
  uint32_t v[7], K = O5 * H0 * W0;
  v[0] = 0;
  v[1] = mw_value_q(m, C0, H0, W0, DT_I8, scw[1], zpw[1]);
  v[2] = mw_value_q(m, O4, H0, W0, DT_I8, scw[2], zpw[2]);
  v[3] = mw_value_q(m, O5, H0, W0, DT_I8, scw[3], zpw[3]);
  v[4] = mw_value_q(m, K, 1, 1, DT_I8, scw[4], zpw[4]);
  v[5] = mw_value_q(m, NCLS, 1, 1, DT_I8, scw[5], zpw[5]);
  v[6] = mw_value(m, NCLS, 1, 1);
  uint32_t p4[8] = { mw_param2(m, DT_I8, O4, C0 * 9, w4), mw_param2(m, DT_I32, O4, 0, b4), mw_param2(m, DT_I32, O4, 0, m4),
                     mw_param2(m, DT_I32, O4, 0, s4), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  uint32_t p5[8] = { mw_param2(m, DT_I8, O5, O4 * 9, w5), mw_param2(m, DT_I32, O5, 0, b5), mw_param2(m, DT_I32, O5, 0, m5),
                     mw_param2(m, DT_I32, O5, 0, s5), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  uint32_t p6[8] = { mw_param2(m, DT_I8, NCLS, K, w6), mw_param2(m, DT_I32, NCLS, 0, b6), mw_param2(m, DT_I32, NCLS, 0, m6),
                     mw_param2(m, DT_I32, NCLS, 0, s6), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  int32_t aq[16] = { 0 }, ac4[16] = { O4, C0, 3, 3, 1, 1, 1, 1, 1, 1, 1 }, ac5[16] = { O5, O4, 3, 3, 1, 1, 1, 1, 1, 1, 1 };
  int32_t alin[16] = { NCLS, (int32_t)K };
  uint32_t ops[6];
  ops[0] = mw_op(m, OP_QUANTIZE, 0, 1, &v[0], v[1], aq, NULL);
  ops[1] = mw_op(m, OP_CONV2D, 0, 1, &v[1], v[2], ac4, p4);
  ops[2] = mw_op(m, OP_CONV2D, 0, 1, &v[2], v[3], ac5, p5);
  ops[3] = mw_op(m, OP_FLATTEN, 0, 1, &v[3], v[4], NULL, NULL);
  ops[4] = mw_op(m, OP_LINEAR, 0, 1, &v[4], v[5], alin, p6);
  ops[5] = mw_op(m, OP_DEQUANTIZE, 0, 1, &v[5], v[6], NULL, NULL);
  for (int i = 0; i < 5; i++) mw_op_ptr(m, ops[i])->qmin = -128, mw_op_ptr(m, ops[i])->qmax = 127;
  mw_op_ptr(m, ops[5])->qmin = 0, mw_op_ptr(m, ops[5])->qmax = 0;
  mw_output(m, v[6]);
  return mw_finish(m, size);
}

/* ---------------- dq8: CONV 3x3 p1 (K = 27, gs 9, asymmetric, ReLU), ADAPTIVE_AVG, FLATTEN, LINEAR (gs 3, bias) */
#define O2 6
static int8_t dw1[O2 * 27], dz1[O2 * 3], dw2[NCLS * O2], dz2[NCLS * 2];
static float ds1[O2 * 3], ds2[NCLS * 2], db2[NCLS];

static float qgroup(const float *v, int n, int32_t *q, int32_t *z) {   /* FORMAT.md's asymmetric rule */
  float lo = 0, hi = 0;
  for (int i = 0; i < n; i++) lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
  float s = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  *z = hi == lo ? 0 : (int32_t)clampl((int64_t)nearbyintf(-128.0f - lo / s), -128, 127);
  for (int i = 0; i < n; i++) q[i] = (int32_t)clampl((int64_t)nearbyintf(v[i] / s) + *z, -128, 127);
  return s;
}

static void dq8_naive(const float *x, double *logits) {
  float y1[O2 * H0 * W0], y2[O2];
  for (int o = 0; o < O2; o++)
    for (int i = 0; i < H0; i++)
      for (int j = 0; j < W0; j++) {
        float col[27];
        for (int ci = 0; ci < C0; ci++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
              int ih = i - 1 + ky, iw = j - 1 + kx;
              col[(ci * 3 + ky) * 3 + kx] = ih >= 0 && ih < H0 && iw >= 0 && iw < W0 ? x[(ci * H0 + ih) * W0 + iw] : 0.0f;
            }
        float acc = 0;
        for (int g = 0; g < 3; g++) {
          int32_t q[9], z;
          float s = qgroup(col + 9 * g, 9, q, &z);
          int32_t isum = 0;
          for (int k = 0; k < 9; k++) isum += (dw1[o * 27 + 9 * g + k] - dz1[o * 3 + g]) * (q[k] - z);
          acc += (ds1[o * 3 + g] * s) * (float)isum;
        }
        y1[(o * H0 + i) * W0 + j] = acc > 0 ? acc : 0;
      }
  for (int o = 0; o < O2; o++) {
    double s = 0;
    for (int i = 0; i < H0 * W0; i++) s += y1[o * H0 * W0 + i];
    y2[o] = (float)(s / (H0 * W0));
  }
  for (int o = 0; o < NCLS; o++) {
    float acc = 0;
    for (int g = 0; g < 2; g++) {
      int32_t q[3], z;
      float s = qgroup(y2 + 3 * g, 3, q, &z);
      int32_t isum = 0;
      for (int k = 0; k < 3; k++) isum += (dw2[o * O2 + 3 * g + k] - dz2[o * 2 + g]) * (q[k] - z);
      acc += (ds2[o * 2 + g] * s) * (float)isum;
    }
    logits[o] = db2[o] + acc;
  }
}

/* the dq8 model (its weights blocked from version 5: FORMAT.md); big_gs: a LINEAR of too large a group (refused) */
static unsigned char *dq8_model(size_t *size, int big_gs, uint32_t version) {
  MW *m = mw_new(KIND_DQ8, C0, H0, W0, NCLS);
  mw_version(m, version);
  uint32_t v1 = mw_value(m, O2, H0, W0), v2 = mw_value(m, O2, 1, 1), v3 = mw_value(m, O2, 1, 1);
  uint32_t p1[8] = { mw_param2(m, DT_I8, O2, 27, dw1), mw_param2(m, DT_F32, O2, 3, ds1), mw_param2(m, DT_I8, O2, 3, dz1),
                     TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  int32_t ac[16] = { O2, C0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 9 }, aad[16] = { 1, 1 }, alin[16] = { NCLS, O2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
  uint32_t x0 = 0;
  mw_op(m, OP_CONV2D, ACT_RELU, 1, &x0, v1, ac, p1);
  mw_op(m, OP_ADAPTIVE_AVGPOOL2D, 0, 1, &v1, v2, aad, NULL);
  mw_op(m, OP_FLATTEN, 0, 1, &v2, v3, NULL, NULL);
  uint32_t out;
  if (!big_gs) {
    out = mw_value(m, NCLS, 1, 1);
    uint32_t p2[8] = { mw_param2(m, DT_I8, NCLS, O2, dw2), mw_param2(m, DT_F32, NCLS, 2, ds2), mw_param2(m, DT_I8, NCLS, 2, dz2),
                       mw_param2(m, DT_F32, NCLS, 0, db2), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
    mw_op(m, OP_LINEAR, 0, 1, &v3, out, alin, p2);
  } else {   /* LINEAR 6 -> 40000 (one group of 40000), then 40000 -> NCLS in one group: too large a group */
    int K = 40000;
    int8_t *w = calloc((size_t)NCLS * K, 1), *z = calloc(NCLS, 1), *wa = calloc((size_t)K * O2, 1), *za = calloc(K, 1);
    float *s = calloc(NCLS, 4), *sa = calloc(K, 4);
    uint32_t v4 = mw_value(m, (uint32_t)K, 1, 1);
    uint32_t pa[8] = { mw_param2(m, DT_I8, (uint32_t)K, O2, wa), mw_param2(m, DT_F32, (uint32_t)K, 1, sa), mw_param2(m, DT_I8, (uint32_t)K, 1, za),
                       TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE };
    int32_t a1[16] = { K, O2, 0, 0, 0, 0, 0, 0, 0, 0, 0, O2 }, a2[16] = { NCLS, K, 0, 0, 0, 0, 0, 0, 0, 0, 0, K };
    mw_op(m, OP_LINEAR, 0, 1, &v3, v4, a1, pa);
    out = mw_value(m, NCLS, 1, 1);
    uint32_t p2[8] = { mw_param2(m, DT_I8, NCLS, (uint32_t)K, w), mw_param2(m, DT_F32, NCLS, 1, s), mw_param2(m, DT_I8, NCLS, 1, z),
                       TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE };
    mw_op(m, OP_LINEAR, 0, 1, &v4, out, a2, p2);
    free(w), free(z), free(wa), free(za), free(s), free(sa);
  }
  mw_output(m, out);
  return mw_finish(m, size);
}

/* runq's probabilities for the NF files against softmax(naive logits) */
static void check_probs(const char *what, const char *out, void (*naive)(const float *, double *), double tol) {
  const char *p = out;
  for (int i = 0; i < NF; i++) {
    double lg[NCLS], mx = -1e300, sum = 0;
    naive(xs[i], lg);
    for (int c = 0; c < NCLS; c++) mx = lg[c] > mx ? lg[c] : mx;
    for (int c = 0; c < NCLS; c++) sum += exp(lg[c] - mx);
    for (int c = 0; c < NCLS; c++) {
      char *end;
      double got = strtod(p, &end), want = exp(lg[c] - mx) / sum;
      CHECK(end != p, "%s: file %d: unparsable output", what, i);
      if (end == p) return;
      CHECK(fabs(got - want) <= tol, "%s: file %d class %d: %.9g, naive %.9g", what, i, c, got, want);
      p = end;
    }
  }
}

static void run_model(const char *name, unsigned char *buf, size_t size, void (*naive)(const float *, double *), double tol) {
  char path[300], out[8192], ref[8192], err[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  CHECK(write_file(path, buf, size) == 0, "write %s", path);
  int rc = sh(NULL, "--threads 1 test m.bin data", ref, sizeof ref, err, sizeof err);
  CHECK(rc == 0, "%s: exit %d: %s", name, rc, err);
  check_probs(name, ref, naive, tol);
  /* batches of 2+ on 2+ threads run on lanes (engine.c), TINYRUNTIME_LANES=0 with the ops over the threads */
  const char *envs[] = { "BS=2", "BS=3", "BS=5", "BS=4 TINYRUNTIME_KERNELS=ref", "BS=1 TINYRUNTIME_KERNELS=ref",
                         "BS=3 TINYRUNTIME_LANES=0", "BS=1", "BS=1" };
  const char *args[] = { "--threads 2 test m.bin data", "--threads 3 test m.bin data", "test m.bin data",
                         "--threads 2 test m.bin data", "--threads 1 test m.bin data", "--threads 2 test m.bin data",
                         "--threads 2 test m.bin data", "--threads 3 test m.bin data" };
  for (int i = 0; i < 8; i++) {
    rc = sh(envs[i], args[i], out, sizeof out, err, sizeof err);
    CHECK(rc == 0 && strcmp(out, ref) == 0, "%s: %s %s: output differs from BS=1, 1 thread", name, envs[i], args[i]);
  }
}

int main(void) {
  const char *b = getenv("RUNQ_BIN");
  char absbin[512], path[400], err[1024];
  if (!b) b = "build/runq";
  if (!realpath(b, absbin)) { fprintf(stderr, "test_q8_engine: %s not found (set RUNQ_BIN)\n", b); return 1; }
  bin = absbin;
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/data", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/data/2", dir);
  mkdir(path, 0700);
  for (int i = 0; i < NF; i++) {
    rng_fill(&seed, xs[i], C0 * H0 * W0, -2.0f, 2.0f);
    if (i == 1) for (int k = 0; k < C0 * H0 * W0; k++) xs[1][k] = 0.0f;          /* all-zero groups */
    if (i == 2) for (int k = 0; k < C0 * H0 * W0; k++) xs[2][k] = fabsf(xs[2][k]); /* no negatives */
    snprintf(path, sizeof path, "%s/data/2/%d.bin", dir, i);
    CHECK(write_file(path, xs[i], sizeof xs[i]) == 0, "write %s", path);
  }
  fill_q(w1, O1 * C0 * 9, -127, 127), fill_q(w2, O1 * 9, -127, 127), fill_q(w3, NCLS * O1, -127, 127);
  fill_mq(b1, m1, s1, O1), fill_mq(b2, m2, s2, O1), fill_mq(b3, m3, s3, NCLS);
  for (int i = 0; i < NCLS; i++) s3[i] = 31;
  fill_q(dw1, O2 * 27, -128, 127), fill_q(dz1, O2 * 3, -20, 20), fill_q(dw2, NCLS * O2, -128, 127), fill_q(dz2, NCLS * 2, -9, 9);
  for (int i = 0; i < O2 * 3; i++) ds1[i] = rng_unif(&seed, 0.001f, 0.01f);
  for (int i = 0; i < NCLS * 2; i++) ds2[i] = rng_unif(&seed, 0.01f, 0.1f);
  for (int i = 0; i < NCLS; i++) db2[i] = rng_unif(&seed, -1, 1);

  size_t size;
  unsigned char *buf = sq8_model(&size, 0, TR_VERSION);
  run_model("m.bin", buf, size, sq8_naive, 1e-7);   /* sq8: exact logits; the slack is %.9g printing */
  free(buf);
  buf = sq8_model(&size, 0, 2);   /* a version-2 file: the weights (O, K), packed at build */
  run_model("m.bin", buf, size, sq8_naive, 1e-7);
  free(buf);
  fill_q(w4, O4 * C0 * 9, -127, 127), fill_q(w5, O5 * O4 * 9, -16, 16), fill_q(w6, NCLS * O5 * H0 * W0, -8, 8);
  fill_mq(b4, m4, s4, O4), fill_mq(b5, m5, s5, O5), fill_mq(b6, m6, s6, NCLS);
  for (int i = 0; i < NCLS; i++) s6[i] = 43;   /* the LINEAR's sums (~2^14) to about +-100 */
  buf = wide_model(&size);
  run_model("m.bin", buf, size, wide_naive, 1e-7);
  free(buf);
  buf = dq8_model(&size, 0, TR_VERSION);
  run_model("m.bin", buf, size, dq8_naive, 1e-6);
  free(buf);
  buf = dq8_model(&size, 0, 4);   /* a version-4 file: the weights (O, K), packed at build */
  run_model("m.bin", buf, size, dq8_naive, 1e-6);
  free(buf);

  /* errors: one line naming the model file and the op, exit 1 */
  struct { unsigned char *buf; size_t size; const char *want; } bad[9];
  bad[0].buf = sq8_model(&bad[0].size, 1, TR_VERSION), bad[0].want = "scale";   /* the loader refuses it before the engine */
  bad[1].buf = dq8_model(&bad[1].size, 1, TR_VERSION), bad[1].want = "group size";
  MW *mf = mw_new(KIND_F32, C0, H0, W0, NCLS);
  uint32_t fx = mw_flatten(mf, 0);
  float fw[NCLS * C0 * H0 * W0] = { 0 };
  mw_linear(mf, fx, NCLS, 0, fw, NULL);
  bad[2].buf = mw_finish(mf, &bad[2].size), bad[2].want = "use run";
  /* version 3 with the weights (O, K) (a version-2 file relabelled); a nonzero byte in a block's padding (the
     convolution's 5 rows in a tile of 8: row 5 of its first block) */
  bad[3].buf = sq8_model(&bad[3].size, 0, 2), bad[3].want = "not blocked";
  bad[3].buf[TR_HDR_VERSION] = (unsigned char)TR_VERSION, mw_seal(bad[3].buf, bad[3].size);
  bad[4].buf = sq8_model(&bad[4].size, 0, TR_VERSION), bad[4].want = "padding";
  {
    const unsigned char *pt = bad[4].buf + *(const uint64_t *)(const void *)(bad[4].buf + TR_HDR_PARAMS_OFF);
    bad[4].buf[*(const uint64_t *)(const void *)(pt + TR_PAR_OFFSET) + 5 * 4] = 1;   /* param 0: the convolution's weight */
    mw_seal(bad[4].buf, bad[4].size);
  }
  /* dq8 the same: version 5 with the weights (O, K) (a version-4 file relabelled); a nonzero byte in the padding of a
     quantization group's last quad (the convolution's gs = 9: value 9 of row 0 of its first tile, its quad 2's byte 1) */
  bad[5].buf = dq8_model(&bad[5].size, 0, 4), bad[5].want = "not blocked";
  bad[5].buf[TR_HDR_VERSION] = (unsigned char)TR_VERSION, mw_seal(bad[5].buf, bad[5].size);
  bad[6].buf = dq8_model(&bad[6].size, 0, TR_VERSION), bad[6].want = "padding";
  {
    const unsigned char *pt = bad[6].buf + *(const uint64_t *)(const void *)(bad[6].buf + TR_HDR_PARAMS_OFF);
    bad[6].buf[*(const uint64_t *)(const void *)(pt + TR_PAR_OFFSET) + 2 * 16 + 1] = 1;   /* param 0: the convolution's weight */
    mw_seal(bad[6].buf, bad[6].size);
  }
  /* and in later runs: K = 27 is three groups of 9 (KG 3, NQ 3 quads of 16 bytes a run), O2 = 6 rows two tiles of 4
     (the last with 2 rows): the padding of group 2's last quad in tile 0 (run 2, quad 2, byte 1), and row 3 of tile 1
     in group 2 (run 5, quad 0, byte 12) */
  for (int v = 0; v < 2; v++) {
    bad[7 + v].buf = dq8_model(&bad[7 + v].size, 0, TR_VERSION), bad[7 + v].want = "padding";
    const unsigned char *pt = bad[7 + v].buf + *(const uint64_t *)(const void *)(bad[7 + v].buf + TR_HDR_PARAMS_OFF);
    bad[7 + v].buf[*(const uint64_t *)(const void *)(pt + TR_PAR_OFFSET) + (v ? (5 * 3 + 0) * 16 + 12 : (2 * 3 + 2) * 16 + 1)] = 1;
    mw_seal(bad[7 + v].buf, bad[7 + v].size);
  }
  for (int i = 0; i < 9; i++) {
    snprintf(path, sizeof path, "%s/m.bin", dir);
    write_file(path, bad[i].buf, bad[i].size);
    int rc = sh(NULL, "test m.bin data", NULL, 0, err, sizeof err);
    CHECK(rc == 1, "bad model %d: exit %d", i, rc);
    CHECK(strstr(err, "m.bin") && strstr(err, bad[i].want) && strchr(err, '\n') == err + strlen(err) - 1,
          "bad model %d: message %s lacks '%s' or is not one line", i, err, bad[i].want);
    free(bad[i].buf);
  }
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  if (g_failures) { fprintf(stderr, "test_q8_engine: %d failures\n", g_failures); return 1; }
  printf("test_q8_engine: ok\n");
  return 0;
}
