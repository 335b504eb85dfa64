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
   or on lanes (engine_forward_fill). */
float  *engine_input(Engine *e);
/* an engine on lanes (a batch of 2+ on 2+ threads, engine.c) splits each batch over them by their speed, and each lane
   reads its images into its own memory itself: engine_forward_fill. 0 when it has none (then engine_forward) */
int     engine_lanes(const Engine *e);
/* put images [i0, i0 + k) of the batch at dst (k x in_c*in_h*in_w floats); 0, or -1 with err set. Called from the lanes'
   threads, each for its own images, side by side */
typedef int (*engine_fill_fn)(void *ctx, int i0, int k, float *dst, char *err, size_t errlen);
/* engine_forward on lanes, the n images put in place by fill (lane by lane, as the split gives them); -1 with err set
   (the first fill's error, else a forward's) */
int     engine_forward_fill(Engine *e, int n, engine_fill_fn fill, void *ctx, float *logits, char *err, size_t errlen);
void    engine_free(Engine *e);
#endif
