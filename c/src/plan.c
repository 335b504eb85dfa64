/* plan.c: activation memory planner.
 *
 * Each value lives from the op that writes it (value 0: from the start) to the last op that reads it
 * (the model output: to the end). Values are placed greedily, largest first, at the lowest 64-byte
 * aligned offset that does not overlap any already placed value whose lifetime intersects its own
 * (TFLite's "greedy by size"). Two values whose lifetimes touch at one op (that op reads one and
 * writes the other) are alive at the same time, so a kernel never reads and writes the same bytes. */
#include "plan.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>

void plan_lifetimes(const Model *m, int *first, int *last) {
  for (uint32_t v = 0; v < m->n_values; v++) first[v] = -1, last[v] = -1;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    if (op->out < m->n_values) first[op->out] = (int)i;
    for (uint32_t k = 0; k < op->n_in && k < 8; k++)
      if (op->in[k] < m->n_values) last[op->in[k]] = (int)i;
  }
  if (m->output < m->n_values) last[m->output] = (int)m->n_ops;
  for (uint32_t v = 0; v < m->n_values; v++)
    if (last[v] < first[v]) last[v] = first[v]; /* written but never read: still needs its bytes */
}

static size_t align_up(size_t x) { return (x + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN; }

static const size_t *g_bytes;
static int by_size_desc(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (g_bytes[x] != g_bytes[y]) return g_bytes[x] > g_bytes[y] ? -1 : 1;
  return x < y ? -1 : x > y; /* deterministic */
}
static int by_off(const void *a, const void *b, const size_t *offs) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return offs[x] < offs[y] ? -1 : offs[x] > offs[y];
}

size_t plan_memory_lives(uint32_t n, const size_t *bytes, const int *first, const int *last, size_t *offs) {
  uint32_t *order = malloc((n ? n : 1) * sizeof *order), *placed = malloc((n ? n : 1) * sizeof *placed);
  if (!order || !placed) {
    free(order), free(placed);
    return (size_t)-1;
  }
  uint32_t cnt = 0;
  for (uint32_t v = 0; v < n; v++) {
    offs[v] = 0;
    if (bytes[v]) order[cnt++] = v;
  }
  g_bytes = bytes;
  qsort(order, cnt, sizeof *order, by_size_desc);
  size_t arena = 0;
  uint32_t n_placed = 0;
  for (uint32_t k = 0; k < cnt; k++) {
    uint32_t v = order[k];
    /* walk the placed values by offset; take the first gap between lifetime-overlapping ones */
    size_t best = 0, need = align_up(bytes[v]);
    for (uint32_t j = 0; j < n_placed; j++) {
      uint32_t u = placed[j];
      if (!(first[u] <= last[v] && first[v] <= last[u])) continue;
      if (offs[u] >= best + need) break; /* the gap before u fits */
      size_t end = align_up(offs[u] + bytes[u]);
      if (end > best) best = end;
    }
    offs[v] = best;
    if (best + need > arena) arena = best + need;
    /* insert v into placed, sorted by offset */
    uint32_t pos = n_placed++;
    while (pos > 0 && by_off(&placed[pos - 1], &v, offs) > 0) placed[pos] = placed[pos - 1], pos--;
    placed[pos] = v;
  }
  free(order), free(placed);
  return arena;
}

size_t plan_memory(const Model *m, const size_t *bytes, size_t *offs) {
  uint32_t n = m->n_values;
  int *first = malloc((n ? n : 1) * sizeof *first), *last = malloc((n ? n : 1) * sizeof *last);
  size_t arena = (size_t)-1;
  if (first && last) {
    plan_lifetimes(m, first, last);
    arena = plan_memory_lives(n, bytes, first, last, offs);
  }
  free(first), free(last);
  return arena;
}

size_t plan_arena_size(const Model *m, int batch, int with_input, size_t *offs) {
  size_t *bytes = calloc(m->n_values ? m->n_values : 1, sizeof *bytes), size = SIZE_MAX;
  if (!bytes || batch < 1) goto done;
  for (uint32_t v = with_input ? 0 : 1; v < m->n_values; v++) {
    size_t el = m->values[v].dtype == DT_I8 ? 1 : 4;
    bytes[v] = rt_mul_sat(rt_mul_sat(value_elems(&m->values[v]), (size_t)batch), el);
    if (bytes[v] == SIZE_MAX) goto done;
  }
  size = plan_memory(m, bytes, offs);
done:
  free(bytes);
  return size;
}

void *plan_arena(const Model *m, int batch, size_t *offs, size_t *size_out) {
  size_t size = plan_arena_size(m, batch, 0, offs);
  void *arena = size == SIZE_MAX ? NULL : rt_alloc64(size);
  if (arena && size_out) *size_out = size;
  return arena;
}
