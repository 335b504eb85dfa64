/* util_run.c: see util_run.h. */
#include "util_run.h"

#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "pool.h"

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
