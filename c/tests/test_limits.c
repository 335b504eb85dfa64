/* test_limits.c: hostile but well-formed files. Each model below passes every check of the loader yet
 * would need gigabytes (activations, im2col scratch, packed weights, a huge batch) or hours (a pool
 * window of a million taps per output, tens of thousands of ops); model_check_limits must refuse it
 * before anything is allocated, with one line saying how much it would need and which variable raises
 * the limit, and accept it once that variable allows it. The `run` binary (RUN_BIN) refuses the same
 * way. Nothing here builds an engine for a hostile model. */
#define _XOPEN_SOURCE 700
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dispatch.h"
#include "limits.h"
#include "model.h"
#include "util_writer.h"

static unsigned char *g_buf;
static Model g_m;

/* loads a model (must succeed: these files are well formed); free with unload() */
static const Model *load(MW *w) {
  size_t size;
  g_buf = mw_finish(w, &size);
  char err[512];
  int rc = model_load_buffer(g_buf, size, &g_m, err, sizeof err);
  CHECK(rc == 0, "hostile model must load: %s", err);
  if (rc) abort();
  return &g_m;
}
static void unload(void) { model_free(&g_m), free(g_buf); }

/* model_check_limits(m, batch) must fail mentioning every string in want (NULL-terminated) */
static void refused(const char *what, const Model *m, int batch, const char *const *want) {
  char err[512] = "";
  int rc = model_check_limits(m, batch, err, sizeof err);
  CHECK(rc != 0, "%s: accepted", what);
  CHECK(strchr(err, '\n') == NULL && err[0], "%s: not one line: '%s'", what, err);
  for (; *want; want++) CHECK(strstr(err, *want) != NULL, "%s: '%s' lacks '%s'", what, err, *want);
  printf("  %-22s refused: %s\n", what, err);
}
static void accepted(const char *what, const Model *m, int batch) {
  char err[512] = "";
  CHECK(model_check_limits(m, batch, err, sizeof err) == 0, "%s: refused: %s", what, err);
}

int main(void) {
  char err[512];
  unsetenv("TINYRUNTIME_MAX_GMAC"), unsetenv("TINYRUNTIME_MAX_OPS");
  /* the default memory limit depends on the machine (4096 MB, or 3/4 of its memory if less): the
     cases below use 4096 MB explicitly; the default itself is checked at the end */
  setenv("TINYRUNTIME_MAX_MEMORY_MB", "4096", 1);

  /* the cost model on a known case: conv 3 -> 4, 5x5 kernel on 3x5x5 = one output pixel per channel */
  {
    static float w[4 * 75];
    MW *mw = mw_new(KIND_F32, 3, 5, 5, 4);
    mw_conv(mw, 0, 4, 5, 5, 1, 1, 0, 0, 1, 1, 1, 0, w, NULL);
    const Model *m = load(mw);
    ModelCost c;
    CHECK(model_cost(m, 2, &c, err, sizeof err) == 0, "cost: %s", err);
    CHECK(c.macs == 4 * 75, "macs %llu, expected 300", (unsigned long long)c.macs);
    CHECK(c.act_bytes >= 2 * (75 + 4) * 4 && c.act_bytes < 4096, "activation bytes %llu", (unsigned long long)c.act_bytes);
    CHECK(c.weight_bytes >= 4 * 75 * 4 && c.scratch_bytes >= 2 * 75 * 4, "weights %llu scratch %llu",
          (unsigned long long)c.weight_bytes, (unsigned long long)c.scratch_bytes);
    CHECK(c.file_bytes == 0 && c.total_bytes == c.act_bytes + c.weight_bytes + c.scratch_bytes, "total");
    accepted("small conv", m, 1);
    /* huge batch: fine at 1, refused at 2^24 images (naming the batch size) */
    refused("batch of 2^24", m, 1 << 24, (const char *const[]){"batch size 16777216", "TINYRUNTIME_MAX_MEMORY_MB", NULL});
    unload();
  }

  /* huge activations from a tiny file: 1x1x1 -> adaptive avg to 1 x 40000 x 40000 (6.4 GB) -> 1x1x1 */
  {
    MW *mw = mw_new(KIND_F32, 1, 1, 1, 1);
    uint32_t v = mw_adaptive(mw, 0, 0, 40000, 40000);
    mw_adaptive(mw, v, 0, 1, 1);
    const Model *m = load(mw);
    refused("huge activations", m, 1, (const char *const[]){"needs 610", "activations 610", "TINYRUNTIME_MAX_MEMORY_MB", NULL});
    setenv("TINYRUNTIME_MAX_MEMORY_MB", "20000", 1);
    accepted("huge activations, limit raised", m, 1);
    setenv("TINYRUNTIME_MAX_MEMORY_MB", "4096", 1);
    /* the default: at most 4096 MB, so this is refused without the variable too */
    unsetenv("TINYRUNTIME_MAX_MEMORY_MB");
    refused("default memory limit", m, 1, (const char *const[]){"needs 610", "TINYRUNTIME_MAX_MEMORY_MB", NULL});
    setenv("TINYRUNTIME_MAX_MEMORY_MB", "4096", 1);
    /* the CLI refuses it the same way: one line naming the model, exit 1 */
    const char *bin = getenv("RUN_BIN");
    if (bin) {
      char dir[256], p[512], abs[512], out[256], e2[1024];
      make_tmpdir(dir, sizeof dir);
      snprintf(p, sizeof p, "%s/model.bin", dir);
      size_t size;
      MW *again = mw_new(KIND_F32, 1, 1, 1, 1);
      uint32_t a = mw_adaptive(again, 0, 0, 40000, 40000);
      mw_adaptive(again, a, 0, 1, 1);
      unsigned char *b = mw_finish(again, &size);
      CHECK(write_file(p, b, size) == 0, "write model");
      free(b);
      snprintf(p, sizeof p, "%s/0", dir), mkdir(p, 0755);
      float one = 1.0f;
      snprintf(p, sizeof p, "%s/0/a.bin", dir);
      CHECK(write_file(p, &one, 4) == 0, "write data");
      CHECK(realpath(bin, abs) != NULL, "%s not found", bin);
      int rc = run_capture(dir, "TINYRUNTIME_MAX_MEMORY_MB=4096", abs, "model.bin 0", out, sizeof out, e2, sizeof e2);
      CHECK(rc == 1 && strstr(e2, "model.bin: the model needs") && strstr(e2, "TINYRUNTIME_MAX_MEMORY_MB") &&
                strchr(e2, '\n') == e2 + strlen(e2) - 1,
            "run on the huge-activation model: rc %d, stderr '%s'", rc, e2);
      rc = run_capture(dir, "TINYRUNTIME_MAX_GMAC=abc", abs, "model.bin 0", out, sizeof out, e2, sizeof e2);
      CHECK(rc == 1 && strstr(e2, "TINYRUNTIME_MAX_GMAC: 'abc' is not a positive number"), "bad variable: rc %d, '%s'", rc, e2);
      snprintf(p, sizeof p, "rm -rf '%s'", dir);
      CHECK(system(p) == 0, "cleanup");
    }
    unload();
  }

  /* huge im2col scratch from a 14 KB file: conv 16 -> 1, 15x15 "same" on 16 x 1024 x 1024 (~14 GB) */
  {
    static float w[16 * 225];
    MW *mw = mw_new(KIND_F32, 16, 1024, 1024, 1);
    uint32_t v = mw_conv(mw, 0, 1, 15, 15, 1, 1, 7, 7, 1, 1, 1, 0, w, NULL);
    mw_adaptive(mw, v, 0, 1, 1);
    const Model *m = load(mw);
    refused("huge scratch", m, 1, (const char *const[]){"scratch 14", "TINYRUNTIME_MAX_MEMORY_MB", NULL});
    unload();
  }

  /* huge packed weights: one 1024 x 1024 weight (4 MB in the file) shared by 1100 LINEAR ops (~4.7 GB packed) */
  {
    static float w[1024 * 1024];
    MW *mw = mw_new(KIND_F32, 1024, 1, 1, 1024);
    uint32_t p = mw_param(mw, DT_F32, 2, (const uint32_t[4]){1024, 1024}, w), v = 0;
    int32_t attr[16] = {1024, 1024};
    uint32_t params[8] = {p, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE};
    for (int i = 0; i < 1100; i++) {
      uint32_t y = mw_value(mw, 1024, 1, 1);
      mw_op(mw, OP_LINEAR, ACT_RELU, 1, &v, y, attr, params);
      v = y;
    }
    const Model *m = load(mw);
    refused("huge packed weights", m, 1, (const char *const[]){"packed weights 4", "TINYRUNTIME_MAX_MEMORY_MB", NULL});
    unload();
  }

  /* huge time: max pool, 1024 x 1024 window (padding 512, stride 1) on 1 x 2048 x 2048: ~4400 GMAC */
  {
    MW *mw = mw_new(KIND_F32, 1, 2048, 2048, 1);
    uint32_t v = mw_maxpool(mw, 0, 1024, 1024, 1, 1, 512, 512, 1, 1, 0);
    mw_adaptive(mw, v, 1, 1, 1);
    const Model *m = load(mw);
    refused("huge time (pool)", m, 1, (const char *const[]){"GMAC per image", "TINYRUNTIME_MAX_GMAC", NULL});
    setenv("TINYRUNTIME_MAX_GMAC", "1e6", 1);
    accepted("huge time, limit raised", m, 1);
    setenv("TINYRUNTIME_MAX_GMAC", "abc", 1);
    refused("malformed variable", m, 1, (const char *const[]){"TINYRUNTIME_MAX_GMAC: 'abc'", NULL});
    setenv("TINYRUNTIME_MAX_GMAC", "-5", 1);
    refused("negative variable", m, 1, (const char *const[]){"TINYRUNTIME_MAX_GMAC: '-5'", NULL});
    /* the decimal forms (limits.c's own parser): each malformed one refused, each large one accepted */
    static const char *const bad[] = {"", ".", "1e", "1e+", "e5", "1.5x", " 5", "5 ", "0", "0.0", "inf", "nan", "1e999", "1e-999", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      setenv("TINYRUNTIME_MAX_GMAC", bad[i], 1);
      refused(bad[i], m, 1, (const char *const[]){"is not a positive number", NULL});
    }
    static const char *const good[] = {"5000", "5000.", "5e3", "5E+3", "50000e-1", ".5e4", "4800.25"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
      setenv("TINYRUNTIME_MAX_GMAC", good[i], 1);
      accepted(good[i], m, 1);
    }
    setenv("TINYRUNTIME_MAX_GMAC", "4e3", 1);   /* ~4400 GMAC: under 4,000 still refused */
    refused("4e3", m, 1, (const char *const[]){"GMAC per image", NULL});
    unsetenv("TINYRUNTIME_MAX_GMAC");
    unload();
  }

  /* huge time (conv) and the dq8 group size at its maximum: LINEAR K = 32768 in one group, out 256,
     behind a 1x1 conv on 32768 x 64 x 64 (K = 32768 per pixel: ~275 GMAC) */
  {
    MW *mw = mw_new(KIND_DQ8, 32768, 64, 64, 1);
    static int8_t wq[32768];
    float s = 0.01f;
    uint32_t pw = mw_param(mw, DT_I8, 2, (const uint32_t[4]){1, 32768}, wq);
    uint32_t ps = mw_param(mw, DT_F32, 2, (const uint32_t[4]){1, 1}, &s);
    uint32_t y = mw_value(mw, 1, 64, 64);
    int32_t attr[16] = {1, 32768, 1, 1, 1, 1, 0, 0, 1, 1, 1, 32768};
    uint32_t params[8] = {pw, ps, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE};
    mw_op(mw, OP_CONV2D, 0, 1, (const uint32_t[1]){0}, y, attr, params);
    mw_adaptive(mw, y, 0, 1, 1);
    const Model *m = load(mw);
    ModelCost c;
    CHECK(model_cost(m, 1, &c, err, sizeof err) == 0 && c.macs >= 4096ull * 32768, "dq8 macs %llu", (unsigned long long)c.macs);
    /* 134 M MACs: within the default; 0.1 GMAC is not */
    accepted("dq8 gs 32768", m, 1);
    setenv("TINYRUNTIME_MAX_GMAC", "0.1", 1);
    refused("dq8 gs 32768, 0.1 GMAC", m, 1, (const char *const[]){"0.134 GMAC", "limit is 0.1 GMAC", NULL});
    unsetenv("TINYRUNTIME_MAX_GMAC");
    /* ... and its quantized im2col at a batch of 4096: (4096 x 4096 pixels) x 32768 x 10 bytes */
    refused("dq8 scratch, batch 4096", m, 4096, (const char *const[]){"scratch", "batch size 4096", NULL});
    unload();
  }

  /* dq8 with the smallest groups (gs = 1: G = K): the estimate bounds what every dq8 kernel this
     machine runs packs (weights, scales, bias) and needs as scratch (float im2col, scales, packed X) */
  {
    enum { K = 7, O = 64 };
    MW *mw = mw_new(KIND_DQ8, K, 1, 1, O);
    static int8_t wq[O * K], wz[O * K];
    static float ws[O * K], b[O];
    for (int i = 0; i < O * K; i++) ws[i] = 0.01f, wq[i] = (int8_t)(i * 37), wz[i] = (int8_t)(i % 5 - 2);
    uint32_t pw = mw_param(mw, DT_I8, 2, (const uint32_t[4]){O, K}, wq);
    uint32_t ps = mw_param(mw, DT_F32, 2, (const uint32_t[4]){O, K}, ws);
    uint32_t pz = mw_param(mw, DT_I8, 2, (const uint32_t[4]){O, K}, wz);
    uint32_t pb = mw_param(mw, DT_F32, 1, (const uint32_t[4]){O}, b);
    uint32_t y = mw_value(mw, O, 1, 1);
    int32_t attr[16] = {O, K, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    uint32_t params[8] = {pw, ps, pz, pb, TR_NONE, TR_NONE, TR_NONE, TR_NONE};
    mw_op(mw, OP_LINEAR, 0, 1, (const uint32_t[1]){0}, y, attr, params);
    const Model *m = load(mw);
    for (int batch = 1; batch <= 1000; batch += 999) {
      ModelCost c;
      CHECK(model_cost(m, batch, &c, err, sizeof err) == 0, "dq8 gs 1: %s", err);
      for (int i = 0; dispatch_isa(i); i++) {
        const Q8Kernels *k = q8_kernels_for(dispatch_isa(i), KIND_DQ8);
        if (!k) continue;
        size_t ldx = q8_round_up((size_t)batch, (size_t)k->nr);
        size_t wb = 2 * k->a_elems(O, K, 1) + 4 * O * K + 4 * O;
        size_t sb = 2 * q8_pstride(k, K, 1) * (ldx / (size_t)k->nr) + 4 * (size_t)K * ldx + 4 * (size_t)K * ldx;
        CHECK(wb <= c.weight_bytes && sb <= c.scratch_bytes, "dq8 gs 1, batch %d, %s: packs %zu bytes, needs %zu "
              "scratch; estimated %llu, %llu", batch, k->name, wb, sb, (unsigned long long)c.weight_bytes,
              (unsigned long long)c.scratch_bytes);
      }
    }
    unload();
  }

  /* too many ops: 20000 ACTs in a chain (the planner's time grows with their square) */
  {
    MW *mw = mw_new(KIND_F32, 1, 1, 1, 1);
    uint32_t v = 0;
    for (int i = 0; i < 20000; i++) v = mw_act(mw, v, ACT_RELU);
    const Model *m = load(mw);
    refused("20000 ops", m, 1, (const char *const[]){"20000 operations", "TINYRUNTIME_MAX_OPS", NULL});
    setenv("TINYRUNTIME_MAX_OPS", "0", 1);
    refused("zero ops limit", m, 1, (const char *const[]){"TINYRUNTIME_MAX_OPS: '0'", NULL});
    unsetenv("TINYRUNTIME_MAX_OPS");
    unload();
  }

  if (g_failures) {
    fprintf(stderr, "test_limits: %d failure(s)\n", g_failures);
    return 1;
  }
  printf("test_limits: ok\n");
  return 0;
}
