/* test_sq8_ds.c: a strided 1x1 CONV2D run inside the strided 3x3 before it, on that op's phase planes (ops_q8.c
 * ds_next: ResNet's downsampling shortcut beside its block's first 3x3), through the loader and the engine. A basic
 * block of 64 -> 40 channels (40: a ragged tile of rows) with stride 2 on a 23x21 map (12x11 out) and on a 14x14 one
 * (7x7 out), against the same model unfused (the 1x1 reads a copy of the input made by an ACT that changes nothing,
 * so it is not the 3x3's input) and against FORMAT.md's naive arithmetic, on every kernel table this machine runs, at
 * batch 1, 2 and 3 on 1, 2 and 3 threads (with and without lanes): the same bytes everywhere. It also checks that
 * the fusion is made where the best table is AMX's and takes the 3x3 as an implicit convolution, and not in the
 * unfused model. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "engine_impl.h"
#include "util_ref.h"
#include "util_run.h"
#include "util_writer.h"

enum { NIMG = 3, C = 64, E = 40 };

static uint64_t seed = 777;
static int8_t wa[E * C * 9], wb[E * E * 9], wd[E * C];
static int32_t ba[E], ma[E], sa[E], bb[E], mb[E], sb[E], bd[E], md[E], sd[E];
/* scales and zero points: the input's, the first 3x3's, the second's, the 1x1's, the ADD's */
static const float sc[] = { 0.03f, 0.05f, 0.04f, 0.045f, 0.06f };
static const int32_t zp[] = { 3, -20, 5, -7, 11 };
static const int32_t add_m[16] = { 1288490189, 1073741824, 31 };   /* m_a, m_b, shift (about 0.6 and 0.5); an op's 16 attributes */

static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static void fill_q(int8_t *w, int n) { for (int i = 0; i < n; i++) w[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127); }
static int out_len(int n, int k, int s, int p) { return (n + 2 * p - k) / s + 1; }

static uint32_t conv(MW *m, uint32_t x, uint32_t y, int cin, int k, int st, int pad, int8_t *w, int32_t *b, int32_t *mu, int32_t *sh,
                     int32_t qmin) {
  uint32_t p[8] = { mw_param2(m, DT_I8, E, (uint32_t)(cin * k * k), w), mw_param2(m, DT_I32, E, 0, b), mw_param2(m, DT_I32, E, 0, mu),
                    mw_param2(m, DT_I32, E, 0, sh), TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  int32_t a[16] = { E, cin, k, k, st, st, pad, pad, 1, 1, 1 };
  uint32_t o = mw_op(m, OP_CONV2D, 0, 1, &x, y, a, p);
  mw_op_ptr(m, o)->qmin = qmin, mw_op_ptr(m, o)->qmax = 127;
  return o;
}

/* QUANTIZE, CONV 3x3 stride 2 (a ReLU), CONV 3x3, CONV 1x1 stride 2 of the quantized input (unfused: of its copy by
   an ACT), ADD, FLATTEN, DEQUANTIZE */
static unsigned char *model(int H, int W, int unfused, size_t *size) {
  int oh = out_len(H, 3, 2, 1), ow = out_len(W, 3, 2, 1);
  uint32_t n = (uint32_t)(E * oh * ow);
  MW *m = mw_new(KIND_SQ8, C, (uint32_t)H, (uint32_t)W, n);
  uint32_t v0 = 0, v1 = mw_value_q(m, C, (uint32_t)H, (uint32_t)W, DT_I8, sc[0], zp[0]);
  uint32_t v2 = mw_value_q(m, E, (uint32_t)oh, (uint32_t)ow, DT_I8, sc[1], zp[1]);
  uint32_t v3 = mw_value_q(m, E, (uint32_t)oh, (uint32_t)ow, DT_I8, sc[2], zp[2]);
  uint32_t v4 = mw_value_q(m, E, (uint32_t)oh, (uint32_t)ow, DT_I8, sc[3], zp[3]);
  uint32_t v5 = mw_value_q(m, E, (uint32_t)oh, (uint32_t)ow, DT_I8, sc[4], zp[4]);
  int32_t none[16] = { 0 };
  uint32_t o = mw_op(m, OP_QUANTIZE, 0, 1, &v0, v1, none, NULL);
  mw_op_ptr(m, o)->qmin = -128, mw_op_ptr(m, o)->qmax = 127;
  uint32_t src = v1;
  if (unfused) {
    src = mw_value_q(m, C, (uint32_t)H, (uint32_t)W, DT_I8, sc[0], zp[0]);
    o = mw_op(m, OP_ACT, 0, 1, &v1, src, NULL, NULL);
    mw_op_ptr(m, o)->qmin = -128, mw_op_ptr(m, o)->qmax = 127;
  }
  conv(m, v1, v2, C, 3, 2, 1, wa, ba, ma, sa, zp[1]);
  conv(m, v2, v3, E, 3, 1, 1, wb, bb, mb, sb, -128);
  conv(m, src, v4, C, 1, 2, 0, wd, bd, md, sd, -128);
  uint32_t in[2] = { v3, v4 };
  o = mw_op(m, OP_ADD, 0, 2, in, v5, (int32_t *)add_m, NULL);
  mw_op_ptr(m, o)->qmin = zp[4], mw_op_ptr(m, o)->qmax = 127;
  mw_sq8_output(m, v5);
  return mw_finish(m, size);
}

/* the naive outputs of image x, dequantized as the model's DEQUANTIZE does */
static void naive(const float *x, int H, int W, float *out) {
  int oh = out_len(H, 3, 2, 1), ow = out_len(W, 3, 2, 1), n = E * oh * ow;
  int8_t *q = malloc((size_t)C * H * W), *a = malloc((size_t)n), *b = malloc((size_t)n), *d = malloc((size_t)n);
  for (int i = 0; i < C * H * W; i++) q[i] = (int8_t)clampl((int64_t)nearbyintf(x[i] / sc[0]) + zp[0], -128, 127);
  ref_sq8_conv(q, C, H, W, E, 3, 2, 1, 1, wa, ba, ma, sa, zp[0], zp[1], zp[1], 127, a, NULL, NULL);
  ref_sq8_conv(a, E, oh, ow, E, 3, 1, 1, 1, wb, bb, mb, sb, zp[1], zp[2], -128, 127, b, NULL, NULL);
  ref_sq8_conv(q, C, H, W, E, 1, 2, 0, 1, wd, bd, md, sd, zp[0], zp[3], -128, 127, d, NULL, NULL);
  for (int i = 0; i < n; i++) {
    int64_t v = ((int64_t)(b[i] - zp[2]) * add_m[0] + (int64_t)(d[i] - zp[3]) * add_m[1] + ((int64_t)1 << (add_m[2] - 1))) >> add_m[2];
    out[i] = sc[4] * (float)(clampl(zp[4] + v, zp[4], 127) - zp[4]);
  }
  free(q), free(a), free(b), free(d);
}

static int ds_op(const Engine *e, unsigned i, int arg) { (void)arg; return e->st[i].ds_in != 0; }

int main(void) {
  fill_q(wa, E * C * 9), fill_q(wb, E * E * 9), fill_q(wd, E * C);
  rng_requant(&seed, ba, ma, sa, E), rng_requant(&seed, bb, mb, sb, E), rng_requant(&seed, bd, md, sd, E);
  const int geo[2][2] = { { 23, 21 }, { 14, 14 } };
  int tables = 0;
  for (int g = 0; g < 2; g++) {
    int H = geo[g][0], W = geo[g][1], oh = out_len(H, 3, 2, 1), ow = out_len(W, 3, 2, 1);
    size_t sf, su, nout = (size_t)E * oh * ow;
    float *x = malloc(sizeof(float) * NIMG * C * H * W);
    rng_fill(&seed, x, (size_t)NIMG * C * H * W, -2, 2);
    unsigned char *bf = model(H, W, 0, &sf), *bu = model(H, W, 1, &su);
    const Q8Kernels *k = q8_kernels(KIND_SQ8);
    /* the best table's implicit convolution takes the 3x3 (a map above its conv_gemm_hw), and it is AMX's (tiles of 32 rows) */
    int want_fused = k->sq8_conv && oh * ow > k->conv_gemm_hw && k->mr >= 32;
    CHECK(count_ops(bf, sf, 0, ds_op, 0) == want_fused, "%dx%d: %d 1x1s run in the 3x3's op, want %d", H, W,
          count_ops(bf, sf, 0, ds_op, 0), want_fused);
    CHECK(count_ops(bu, su, 0, ds_op, 0) == 0, "%dx%d unfused: %d 1x1s run in the 3x3's op, want 0", H, W, count_ops(bu, su, 0, ds_op, 0));
    want_len = (size_t)NIMG * nout, want_vary = 3;
    want_out = malloc(sizeof(float) * want_len);
    for (int i = 0; i < NIMG; i++) naive(x + (size_t)i * C * H * W, H, W, want_out + (size_t)i * nout);
    char what[32];
    snprintf(what, sizeof what, "%dx%d", H, W);
    tables = fused_unfused_tables(what, bf, sf, bu, su, x, NIMG, nout, judge_want);
    free(want_out), free(bf), free(bu), free(x);
  }
  if (g_failures) {
    fprintf(stderr, "test_sq8_ds: %d failures\n", g_failures);
    return 1;
  }
  printf("test_sq8_ds: ok (%d kernel tables)\n", tables);
  return 0;
}
