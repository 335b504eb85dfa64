/* util_run.c: see util_run.h. */
#define _POSIX_C_SOURCE 200809L   /* setenv */
#include "util_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "engine.h"
#include "pool.h"
#include "util_writer.h"   /* CHECK */

void set_threads(int t) { pool_set_threads(t); }

/* prefix err with the step that failed */
static int failed(const char *step, char *err, size_t errlen) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", step, err);
  snprintf(err, errlen, "%s", msg);
  return -1;
}

int run_model_batches(const unsigned char *buf, size_t size, int batch, int nimg, const float *in, float *out,
                      char *err, size_t errlen) {
  Model m;
  if (model_load_buffer(buf, size, &m, err, errlen)) return failed("load", err, errlen);
  Engine *e = engine_build(&m, batch, err, errlen);
  if (!e) {
    model_free(&m);
    return failed("build", err, errlen);
  }
  size_t ie = (size_t)m.in_c * m.in_h * m.in_w;
  int rc = 0;
  for (int i = 0; i < nimg && !rc; i += batch) {
    int n = nimg - i < batch ? nimg - i : batch;
    rc = engine_forward(e, in + (size_t)i * ie, n, out + (size_t)i * m.n_classes, err, errlen);
  }
  if (rc) failed("forward", err, errlen);
  engine_free(e);
  model_free(&m);
  return rc;
}

int count_ops(const unsigned char *buf, size_t size, int threads, int (*count)(const struct Engine *e, unsigned i, int arg),
              int arg) {
  Model m;
  char err[512];
  int n = -1;
  if (threads) set_threads(threads);
  if (!model_load_buffer(buf, size, &m, err, sizeof err)) {
    Engine *e = engine_build(&m, 1, err, sizeof err);
    if (e) {
      n = 0;
      for (uint32_t i = 0; i < m.n_ops; i++) n += count(e, i, arg);
      engine_free(e);
    }
    model_free(&m);
  }
  if (threads) set_threads(1);
  return n;
}

int fused_unfused_tables(const char *what, const unsigned char *bf, size_t sf, const unsigned char *bu, size_t su,
                         const float *x, int nimg, size_t nout, judge_fn judge) {
  size_t bytes = sizeof(float) * (size_t)nimg * nout;
  float *of = malloc(bytes), *ou = malloc(bytes), *o2 = malloc(bytes);
  char err[512];
  int tables = 0;
  for (int k = 0; dispatch_isa(k); k++) {
    const char *isa = dispatch_isa(k);
    setenv("TINYRUNTIME_KERNELS", isa, 1);
    if (dispatch_check_env(err, sizeof err)) continue;   /* a table this CPU does not run */
    tables++;
    set_threads(1);
    int rc = run_model_batches(bu, su, 1, nimg, x, ou, err, sizeof err);
    CHECK(rc == 0, "[%s] %s unfused: %s", isa, what, err);
    rc = rc ? rc : run_model_batches(bf, sf, 1, nimg, x, of, err, sizeof err);
    CHECK(rc == 0, "[%s] %s fused: %s", isa, what, err);
    if (rc) continue;
    CHECK(memcmp(of, ou, bytes) == 0, "[%s] %s fused and unfused outputs differ", isa, what);
    if (judge) judge(isa, of);
    int cfg[6][3] = {{1, 2, 1}, {1, 3, 1}, {2, 2, 1}, {3, 3, 1}, {3, 2, 0}, {2, 1, 1}};   /* batch, threads, lanes */
    for (int c = 0; c < 6; c++) {
      set_threads(cfg[c][1]);
      setenv("TINYRUNTIME_LANES", cfg[c][2] ? "1" : "0", 1);
      memset(o2, 0, bytes);
      CHECK(run_model_batches(bf, sf, cfg[c][0], nimg, x, o2, err, sizeof err) == 0 && memcmp(of, o2, bytes) == 0,
            "[%s] %s: batch %d, %d threads (lanes %d): differs from batch 1, 1 thread", isa, what, cfg[c][0], cfg[c][1],
            cfg[c][2]);
      unsetenv("TINYRUNTIME_LANES");
    }
  }
  unsetenv("TINYRUNTIME_KERNELS");
  set_threads(1);
  free(of), free(ou), free(o2);
  return tables;
}

float *want_out;
size_t want_len;
int want_vary = 2;

void judge_want(const char *isa, const float *out) {
  size_t bad = 0, distinct = 0;
  for (size_t i = 0; i < want_len; i++) bad += out[i] != want_out[i];
  for (size_t i = 1; i < want_len; i++) distinct += out[i] != out[i - 1];
  CHECK(bad == 0, "[%s] %zu of %zu outputs differ from the naive ones", isa, bad, want_len);
  CHECK(distinct > want_len / (size_t)want_vary, "[%s] the outputs barely vary (%zu changes in %zu)", isa, distinct, want_len);
}
