/* plan.h: activation memory planner. One arena; values whose lifetimes overlap never share bytes. */
#ifndef TINYRUNTIME_PLAN_H
#define TINYRUNTIME_PLAN_H
#include <stddef.h>
#include <stdint.h>
#include "model.h"

#define PLAN_ALIGN 64
/* bytes[v]: bytes value v needs for the whole batch; fills offs[v]; returns the arena size.
   Values alive at the same time (from the op that writes them to the last op that reads them;
   the model output lives to the end) never overlap. Value 0 (the input) lives from the start.
   Offsets are multiples of PLAN_ALIGN. A value with bytes[v] == 0 gets offset 0 and no space
   (an engine that does not keep a value in the arena, e.g. an alias, passes 0). */
size_t plan_memory(const Model *m, const size_t *bytes, size_t *offs);
/* plan_memory's placement of n blocks of bytes[i] alive over ops [first[i], last[i]] (returns
   (size_t)-1 when memory is short) */
size_t plan_memory_lives(uint32_t n, const size_t *bytes, const int *first, const int *last, size_t *offs);

/* Addition: first[v] = index of the op writing v (-1 for the input), last[v] = index of the last op
   reading v (n_ops for the output; -1 when never read). Arrays of m->n_values. */
void plan_lifetimes(const Model *m, int *first, int *last);

/* The arena of a batch: every value but the input (value 0, which engines read from the caller's
   buffer) gets batch x its elements x its element size (4 for f32, 1 for i8), planned with
   plan_memory into offs[] (n_values entries). Returns the zeroed, 64-byte aligned arena (free()
   it), or NULL when a size overflows or memory is short; *size (when not NULL) gets its size in bytes. */
void *plan_arena(const Model *m, int batch, size_t *offs, size_t *size);
/* plan_arena's plan without the allocation: fills offs[], returns the arena size (SIZE_MAX: overflow
   or memory short); with_input: the input (value 0) gets its bytes in the arena too */
size_t plan_arena_size(const Model *m, int batch, int with_input, size_t *offs);
#endif
