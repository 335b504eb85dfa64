/* limits.h: what a validated model will cost, computed before anything is allocated, and the
 * refusal of files beyond documented limits (c/README.md, "Resource limits").
 *
 * A hostile file can pass every bounds check of the loader and still ask for gigabytes of
 * activations, packed weights or im2col scratch, or for hours of arithmetic. model_check_limits
 * prices it first: cli.c calls it after model_load (and before engine_build), so does every fuzz
 * target. Limits come from the environment (TINYRUNTIME_MAX_MEMORY_MB, TINYRUNTIME_MAX_GMAC,
 * TINYRUNTIME_MAX_OPS) or the defaults below. */
#ifndef TINYRUNTIME_LIMITS_H
#define TINYRUNTIME_LIMITS_H
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define LIMIT_DEFAULT_MEMORY_MB 4096u /* activations + packed weights + scratch + file, whole batch;
                                         lowered to 3/4 of the machine's memory when that is less */
#define LIMIT_DEFAULT_GMAC 100.0      /* multiply-accumulates (and comparisons) per image, x 1e9 */
#define LIMIT_DEFAULT_OPS 16384u      /* operations in the graph (the planner is quadratic in them) */

typedef struct {
  uint64_t act_bytes;     /* the activation arena for the batch (the planner's exact size) + input + logits */
  uint64_t weight_bytes;  /* packed weights and biases (upper estimate: panel padding included) */
  uint64_t scratch_bytes; /* the largest im2col / quantized-activation buffer of any op (upper estimate) */
  uint64_t file_bytes;    /* the model file's mapping (0 for a caller's buffer): resident once read */
  uint64_t total_bytes;   /* the four together */
  uint64_t macs;          /* per image: conv/linear MACs, pool window taps, elementwise ops */
} ModelCost;

/* Fills c for model m (validated by model_load) at batch size `batch`; sizes saturate at UINT64_MAX.
   Returns 0, or -1 with err when the graph has more ops than the limit (pricing would be too slow)
   or memory for the estimate itself is short. */
int model_cost(const Model *m, int batch, ModelCost *c, char *err, size_t errlen);

/* 0 when m at `batch` is within the limits; else -1 and a one-line err saying what it would need
   and which variable raises the limit (also for a malformed variable). */
int model_check_limits(const Model *m, int batch, char *err, size_t errlen);
#endif
