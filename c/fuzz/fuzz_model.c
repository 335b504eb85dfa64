/* fuzz_model.c: libFuzzer target (1): the whole input is a model file. The loader validates it; when
 * it loads and this build's engine runs its kind, the resource limits price it, the engine is built for
 * a batch of 1 and runs one forward pass on a tiny deterministic input. Built once per engine
 * (fuzz_model_<engine>). Any sanitizer report, leak, crash or non-finite-unsafe read is a finding;
 * a refusal with a message is not. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz_common.h"
#include "limits.h"
#include "model.h"

int fuzz_model_one(const uint8_t *data, size_t size) {
  Model m;
  char err[512] = "";
  if (model_load_buffer(data, size, &m, err, sizeof err)) {
    if (!err[0]) abort(); /* every refusal says why */
    return 0;
  }
  if (engine_supports(m.kind) && model_check_limits(&m, 1, err, sizeof err) == 0) {
    Engine *e = engine_build(&m, 1, err, sizeof err);
    if (e) {
      size_t n = value_elems(&m.values[0]);
      float *x = malloc(n * sizeof *x), *y = malloc((size_t)m.n_classes * sizeof *y);
      if (x && y) {
        fuzz_fill_input(x, n, fuzz_crc32(0, data, size < 256 ? size : 256));
        engine_forward(e, x, 1, y, err, sizeof err);
      }
      free(x), free(y);
      engine_free(e);
    } else if (!err[0])
      abort();
  }
  model_free(&m);
  return 0;
}

#ifndef FUZZ_NO_ENTRY
void fuzz_model_span(const uint8_t *data, size_t size, size_t *off, size_t *len) {
  (void)data;
  *off = 0, *len = size;
}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_model_one(data, size); }
#endif
