/* engine.h: the forward pass of a model (engine.c, one executor for every kind); cli.c drives it.
 * Each binary says which kinds it accepts in its own file (bin_run.c, bin_runq.c). */
#ifndef TINYRUNTIME_ENGINE_H
#define TINYRUNTIME_ENGINE_H
#include "model.h"

typedef struct Engine Engine;
extern const char *ENGINE_BINARY;            /* "run" or "runq" */
int     engine_supports(uint32_t kind);      /* 1 when this binary runs that kind */
Engine *engine_build(const Model *m, int batch, char *err, size_t errlen); /* plans + allocates once */
/* in: n <= batch images, each in_c*in_h*in_w float32 (CHW); out: n * n_classes float32 logits. in NULL: the
   images are where engine_input put them */
int     engine_forward(Engine *e, const float *in, int n, float *logits, char *err, size_t errlen);
/* room for a batch's input (batch images) inside the engine's activation memory, planned with the
   input's lifetime (until its last reader), so no buffer of its own is needed: fill it and pass it to
   engine_forward (any other buffer works too). NULL when the engine runs a batch one image at a time,
   or on lanes (they claim a batch's images as they go: the caller's buffer holds them all). */
float  *engine_input(Engine *e);
void    engine_free(Engine *e);
#endif
