/* test_sq8_fused.c: sq8's 1x1 expansion and the depthwise convolution after it run as one op (ops_q8.c sq8_dwf: row
 * panels of the 1x1's output channels, each panel's depthwise planes straight after it; by the AMX table, whose tiles
 * are 32 rows), through the loader and the engine: two models, a stride-1 and a stride-2 depthwise op on a 28x28 map
 * (40 channels: a panel of 32 rows and a ragged one), each against the same model unfused (an extra reader of the
 * 1x1's output stops the fusion) and against the naive arithmetic of FORMAT.md, on every kernel table this machine
 * runs, at batch 1, 2 and 3 on 1, 2 and 3 threads (with and without lanes): the same bytes everywhere. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "engine_impl.h"
#include "util_run.h"
#include "util_writer.h"

enum { NIMG = 3, C = 64, H = 28, E = 40 };   /* (C: the 1x1's K, at least the AMX table's min_k) */

static uint64_t seed = 4242;
static int8_t w1[E * C], wd[E * 9];
static int32_t b1[E], m1[E], s1[E], bd[E], md[E], sd[E];
static const float sc[] = { 0.03f, 0.05f, 0.04f };   /* the input's, the 1x1's and the depthwise op's outputs' */
static const int32_t zp[] = { 3, -20, 5 };

static int64_t clampl(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static int64_t rq(int64_t a, int64_t m, int s) { return (a * m + ((int64_t)1 << (s - 1))) >> s; }
static void fill_q(int8_t *w, int n) { for (int i = 0; i < n; i++) w[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127); }

/* QUANTIZE, CONV 1x1 (C -> E, its output clamped at its zero point: a ReLU), CONV 3x3 depthwise (stride st, pad 1),
   FLATTEN, DEQUANTIZE; unfused: an ADD that also reads the 1x1's output */
static unsigned char *model(int st, int unfused, size_t *size) {
  int oh = (H + 2 - 3) / st + 1;
  MW *m = mw_new(KIND_SQ8, C, H, H, (uint32_t)(E * oh * oh));
  uint32_t v0 = 0, v1 = mw_value_q(m, C, H, H, DT_I8, sc[0], zp[0]), v2 = mw_value_q(m, E, H, H, DT_I8, sc[1], zp[1]);
  uint32_t v3 = mw_value_q(m, E, (uint32_t)oh, (uint32_t)oh, DT_I8, sc[2], zp[2]);
  uint32_t v4 = mw_value_q(m, (uint32_t)(E * oh * oh), 1, 1, DT_I8, sc[2], zp[2]), out = mw_value(m, (uint32_t)(E * oh * oh), 1, 1);
  uint32_t p1[8] = { mw_param2(m, DT_I8, E, C, w1), mw_param2(m, DT_I32, E, 0, b1), mw_param2(m, DT_I32, E, 0, m1), mw_param2(m, DT_I32, E, 0, s1),
                     TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  uint32_t p2[8] = { mw_param2(m, DT_I8, E, 9, wd), mw_param2(m, DT_I32, E, 0, bd), mw_param2(m, DT_I32, E, 0, md), mw_param2(m, DT_I32, E, 0, sd),
                     TR_NONE, TR_NONE, TR_NONE, TR_NONE };
  int32_t aq[16] = { 0 }, a1[16] = { E, C, 1, 1, 1, 1, 0, 0, 1, 1, 1 }, a2[16] = { E, E, 3, 3, st, st, 1, 1, 1, 1, E };
  uint32_t ops[5];
  ops[0] = mw_op(m, OP_QUANTIZE, 0, 1, &v0, v1, aq, NULL);
  ops[1] = mw_op(m, OP_CONV2D, 0, 1, &v1, v2, a1, p1);
  ops[2] = mw_op(m, OP_CONV2D, 0, 1, &v2, v3, a2, p2);
  ops[3] = mw_op(m, OP_FLATTEN, 0, 1, &v3, v4, NULL, NULL);
  ops[4] = mw_op(m, OP_DEQUANTIZE, 0, 1, &v4, out, NULL, NULL);
  int32_t lo[5] = { -128, zp[1], -128, -128, 0 }, hi[5] = { 127, 127, 127, 127, 0 };
  for (int i = 0; i < 5; i++) mw_op_ptr(m, ops[i])->qmin = lo[i], mw_op_ptr(m, ops[i])->qmax = hi[i];
  if (unfused) {
    uint32_t v5 = mw_value_q(m, E, H, H, DT_I8, sc[1], zp[1]), in[2] = { v2, v2 };
    int32_t aadd[16] = { 1073741824, 1073741824, 31 };
    uint32_t o = mw_op(m, OP_ADD, 0, 2, in, v5, aadd, NULL);
    mw_op_ptr(m, o)->qmin = -128, mw_op_ptr(m, o)->qmax = 127;
  }
  mw_output(m, out);
  return mw_finish(m, size);
}

/* the naive outputs (FORMAT.md's int64 arithmetic) of image x, dequantized as the model's DEQUANTIZE does */
static void naive(const float *x, int st, float *y) {
  int oh = (H + 2 - 3) / st + 1;
  static int8_t q[C * H * H], a[E * H * H];
  for (int i = 0; i < C * H * H; i++) q[i] = (int8_t)clampl((int64_t)nearbyintf(x[i] / sc[0]) + zp[0], -128, 127);
  for (int o = 0; o < E; o++)
    for (int p = 0; p < H * H; p++) {
      int64_t acc = b1[o];
      for (int c = 0; c < C; c++) acc += (int64_t)w1[o * C + c] * q[c * H * H + p];
      a[o * H * H + p] = (int8_t)clampl(zp[1] + rq(acc, m1[o], s1[o]), zp[1], 127);
    }
  for (int o = 0; o < E; o++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < oh; j++) {
        int64_t acc = bd[o];
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++) {
            int ih = i * st - 1 + ky, iw = j * st - 1 + kx;
            int v = ih >= 0 && ih < H && iw >= 0 && iw < H ? a[(o * H + ih) * H + iw] : zp[1];
            acc += (int64_t)wd[o * 9 + ky * 3 + kx] * v;
          }
        int8_t r = (int8_t)clampl(zp[2] + rq(acc, md[o], sd[o]), -128, 127);
        y[(o * oh + i) * oh + j] = sc[2] * (float)(r - zp[2]);
      }
}

static int dwf_op(const Engine *e, unsigned i, int arg) { (void)arg; return e->st[i].dwf; }

int main(void) {
  fill_q(w1, E * C), fill_q(wd, E * 9), rng_requant(&seed, b1, m1, s1, E), rng_requant(&seed, bd, md, sd, E);
  float *x = malloc(sizeof(float) * NIMG * C * H * H);
  rng_fill(&seed, x, (size_t)NIMG * C * H * H, -2, 2);
  int tables = 0;
  for (int st = 1; st <= 2; st++) {
    int oh = (H + 2 - 3) / st + 1;
    size_t sf, su, nout = (size_t)E * oh * oh;
    unsigned char *bf = model(st, 0, &sf), *bu = model(st, 1, &su);
    const Q8Kernels *k = q8_kernels(KIND_SQ8);
    int want_fused = k->mr >= 32 && C >= k->min_k;   /* (the best table here AMX's, and its descriptor the 1x1's: fused) */
    CHECK(count_ops(bf, sf, 0, dwf_op, 0) == want_fused, "stride %d: %d pairs fused, want %d", st,
          count_ops(bf, sf, 0, dwf_op, 0), want_fused);
    CHECK(count_ops(bu, su, 0, dwf_op, 0) == 0, "stride %d unfused: %d pairs fused, want 0", st, count_ops(bu, su, 0, dwf_op, 0));
    want_len = (size_t)NIMG * nout, want_vary = 2;
    want_out = malloc(sizeof(float) * want_len);
    for (int i = 0; i < NIMG; i++) naive(x + (size_t)i * C * H * H, st, want_out + (size_t)i * nout);
    char what[32];
    snprintf(what, sizeof what, "stride %d", st);
    tables = fused_unfused_tables(what, bf, sf, bu, su, x, NIMG, nout, judge_want);
    free(want_out), free(bf), free(bu);
  }
  free(x);
  if (g_failures) {
    fprintf(stderr, "test_sq8_fused: %d failures\n", g_failures);
    return 1;
  }
  printf("test_sq8_fused: ok (%d kernel tables)\n", tables);
  return 0;
}
