/* test_plan.c: the activation memory planner: values alive at the same time never overlap, memory is
 * reused (the arena is smaller than the sum of the values), offsets are aligned. */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "util_writer.h"

static void check_plan(const char *name, const unsigned char *buf, size_t size, int expect_reuse) {
  Model m;
  char err[256];
  if (model_load_buffer(buf, size, &m, err, sizeof err)) { CHECK(0, "%s: load: %s", name, err); return; }
  size_t *bytes = malloc(m.n_values * sizeof *bytes), *offs = malloc(m.n_values * sizeof *offs), total = 0;
  int *first = malloc(m.n_values * sizeof *first), *last = malloc(m.n_values * sizeof *last);
  for (uint32_t v = 0; v < m.n_values; v++) bytes[v] = value_elems(&m.values[v]) * 4 * 3, total += bytes[v];
  size_t arena = plan_memory(&m, bytes, offs);
  plan_lifetimes(&m, first, last);
  CHECK(last[m.output] == (int)m.n_ops, "%s: the output lives to the end", name);
  CHECK(first[0] == -1, "%s: the input lives from the start", name);
  for (uint32_t v = 0; v < m.n_values; v++) {
    CHECK(offs[v] % PLAN_ALIGN == 0, "%s: value %u offset %zu unaligned", name, v, offs[v]);
    CHECK(offs[v] + bytes[v] <= arena, "%s: value %u outside the arena", name, v);
    for (uint32_t u = v + 1; u < m.n_values; u++) {
      int live = first[u] <= last[v] && first[v] <= last[u];
      int overlap = offs[u] < offs[v] + bytes[v] && offs[v] < offs[u] + bytes[u];
      CHECK(!(live && overlap), "%s: values %u [%d,%d] and %u [%d,%d] are alive together and overlap", name, v,
            first[v], last[v], u, first[u], last[u]);
    }
  }
  /* every op's inputs and output are alive at that op */
  for (uint32_t i = 0; i < m.n_ops; i++)
    for (uint32_t k = 0; k < m.ops[i].n_in; k++) {
      uint32_t x = m.ops[i].in[k], y = m.ops[i].out;
      CHECK(first[x] < (int)i && last[x] >= (int)i && first[y] == (int)i, "%s: lifetimes at op %u", name, i);
    }
  if (expect_reuse) CHECK(arena < total, "%s: no reuse (arena %zu, total %zu)", name, arena, total);
  free(bytes), free(offs), free(first), free(last);
  model_free(&m);
}

int main(void) {
  static float w[64 * 64 * 9], b[64];
  /* a chain of 12 convs: at most two values alive at once, so the arena must be about two values */
  MW *m = mw_new(KIND_F32, 8, 16, 16, 10);
  uint32_t v = 0;
  for (int i = 0; i < 12; i++) v = mw_conv(m, v, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, w, b);
  v = mw_adaptive(m, v, 0, 1, 1), v = mw_flatten(m, v), mw_linear(m, v, 10, 0, w, b);
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  check_plan("chain", buf, size, 1);
  {
    Model mm;
    char err[256];
    model_load_buffer(buf, size, &mm, err, sizeof err);
    size_t *bytes = calloc(mm.n_values, sizeof *bytes), *offs = calloc(mm.n_values, sizeof *offs);
    for (uint32_t k = 0; k < mm.n_values; k++) bytes[k] = value_elems(&mm.values[k]) * 4;
    size_t arena = plan_memory(&mm, bytes, offs);
    CHECK(arena <= 3 * bytes[1], "chain: arena %zu > 3 values (%zu)", arena, 3 * bytes[1]);
    free(bytes), free(offs);
    model_free(&mm);
  }
  free(buf);

  /* residual blocks and a concat with a long-lived skip: random graphs */
  uint64_t r = 5;
  for (int t = 0; t < 200; t++) {
    m = mw_new(KIND_F32, 4, 8, 8, 3);
    uint32_t vals[64], nv = 1;
    vals[0] = 0;
    int nops = 3 + (int)(rng_next(&r) % 20);
    for (int i = 0; i < nops; i++) {
      uint32_t a = vals[rng_next(&r) % nv], bb = vals[rng_next(&r) % nv];
      switch (rng_next(&r) % 3) {
      case 0: vals[nv++] = mw_conv(m, a, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, w, NULL); break;
      case 1: vals[nv++] = mw_add(m, a, bb, 1); break;
      default: { uint32_t c[2] = {a, bb}; uint32_t y = mw_concat(m, 2, c, 0); vals[nv++] = mw_conv(m, y, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, w, NULL); } break;
      }
    }
    v = mw_adaptive(m, vals[nv - 1], 1, 1, 1), v = mw_flatten(m, v), mw_linear(m, v, 3, 0, w, b);
    buf = mw_finish(m, &size);
    check_plan("random graph", buf, size, 0);
    free(buf);
  }
  /* plan_memory_lives on random blocks and lifetimes (the engine's scratch blocks, alive at one op):
     blocks alive together never overlap; blocks of disjoint lifetimes may share */
  for (int t = 0; t < 200; t++) {
    enum { NB = 24 };
    size_t bytes[NB], offs[NB];
    int first[NB], last[NB];
    for (int i = 0; i < NB; i++) {
      bytes[i] = rng_next(&r) % 5 ? (size_t)(rng_next(&r) % 5000) : 0;
      first[i] = (int)(rng_next(&r) % 10), last[i] = first[i] + (int)(rng_next(&r) % 3);
    }
    size_t arena = plan_memory_lives(NB, bytes, first, last, offs), sum = 0;
    for (int i = 0; i < NB; i++) {
      sum += bytes[i] ? (bytes[i] + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN : 0;
      CHECK(offs[i] % PLAN_ALIGN == 0 && offs[i] + bytes[i] <= arena, "lives: block %d outside the arena", i);
      for (int u = i + 1; u < NB; u++) {
        int live = first[u] <= last[i] && first[i] <= last[u];
        int overlap = offs[u] < offs[i] + bytes[i] && offs[i] < offs[u] + bytes[u];
        CHECK(!(live && overlap), "lives: blocks %d and %d alive together overlap", i, u);
      }
    }
    CHECK(arena <= sum, "lives: arena %zu > the sum %zu", arena, sum);
  }
  if (g_failures) fprintf(stderr, "test_plan: %d FAILED\n", g_failures);
  else printf("test_plan: ok\n");
  return g_failures != 0;
}
