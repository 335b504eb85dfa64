/* limits.c: price a validated model before anything is allocated (limits.h). The sizes follow the
 * engines' allocations: the activation arena is the planner's own answer (plan_memory, exact); packed
 * weights and scratch are upper estimates that include the engines' panel padding; MACs count what
 * the loops do per image (pool windows clipped to the input as the kernels clip them). */
#define _POSIX_C_SOURCE 200809L
#include "limits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "util.h"

#define MIB (1024.0 * 1024.0)

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t mul_sat(uint64_t a, uint64_t b) { return (a && b > UINT64_MAX / a) ? UINT64_MAX : a * b; }
static uint64_t mul3(uint64_t a, uint64_t b, uint64_t c) { return mul_sat(mul_sat(a, b), c); }
static uint64_t umax(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t cdiv(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* a plain decimal: digits, optionally a point and digits, optionally e or E, a sign and up to 3 digits
   (not strtod: it and its bignum helpers were ~12 KB of each static binary, DESIGN's 1 MiB bound); -1 when
   s is not one (a limit needs no more precision than this sum's) */
static double decimal(const char *s) {
  double v = 0, f = 1;
  int digits = 0, e = 0, es = 1, ed = 0;
  for (; *s >= '0' && *s <= '9'; s++, digits++) v = v * 10 + (*s - '0');
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++, digits++) v += (*s - '0') * (f /= 10);
  if (digits && (*s == 'e' || *s == 'E')) {
    if (*++s == '-' || *s == '+') es = *s++ == '-' ? -1 : 1;
    for (; *s >= '0' && *s <= '9' && ed < 3; s++, ed++) e = e * 10 + (*s - '0');
    if (!ed) return -1;
  }
  if (!digits || *s) return -1;
  for (; e > 0; e--) v = es > 0 ? v * 10 : v / 10;
  return v;
}

/* a limit from the environment: a finite number > 0 (decimals allowed), else the default; -1 when set
   but malformed */
static int env_limit(const char *name, double def, double *out, char *err, size_t errlen) {
  const char *s = getenv(name);
  *out = def;
  if (!s) return 0;
  double v = decimal(s);
  if (!isfinite(v) || !(v > 0))
    return rt_fail(err, errlen, "%s: '%s' is not a positive number", name, s);
  *out = v;
  return 0;
}

int model_cost(const Model *m, int batch, ModelCost *c, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  if (batch < 1) return rt_fail(err, errlen, "batch size %d must be >= 1", batch);
  double max_ops;
  if (env_limit("TINYRUNTIME_MAX_OPS", LIMIT_DEFAULT_OPS, &max_ops, err, errlen)) return -1;
  if ((double)m->n_ops > max_ops)
    return rt_fail(err, errlen, "the graph has %u operations; the limit is %.0f (TINYRUNTIME_MAX_OPS)", m->n_ops,
                   max_ops);
  uint64_t B = (uint64_t)batch;

  /* activations: the arena exactly as the engines plan it, plus the caller's input and logits */
  size_t *bytes = calloc(m->n_values, sizeof *bytes), *offs = calloc(m->n_values, sizeof *offs);
  if (!bytes || !offs) {
    free(bytes), free(offs);
    return rt_fail(err, errlen, "out of memory pricing the model");
  }
  int huge = 0;
  for (uint32_t v = 1; v < m->n_values; v++) {
    uint64_t b = mul3(value_elems(&m->values[v]), B, m->values[v].dtype == DT_I8 ? 1 : 4);
    if (b > SIZE_MAX / 4) huge = 1;
    bytes[v] = huge ? 0 : (size_t)b;
  }
  size_t arena = huge ? (size_t)-1 : plan_memory(m, bytes, offs);
  free(bytes), free(offs);
  c->act_bytes = arena == (size_t)-1 ? UINT64_MAX : (uint64_t)arena;
  c->act_bytes = add_sat(c->act_bytes, mul3(value_elems(&m->values[0]), B, 4));
  c->act_bytes = add_sat(c->act_bytes, mul3(m->n_classes, B, 4));

  /* per op: packed weights, scratch (the largest), MACs per image */
  uint64_t scratch_per = m->kind == KIND_F32 ? 4 : m->kind == KIND_DQ8 ? 10 : 2; /* bytes per im2col element */
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    const Value *x = &m->values[op->in[0]], *y = &m->values[op->out];
    uint64_t out_el = value_elems(y), macs = out_el;
    switch (op->type) {
    case OP_CONV2D:
    case OP_LINEAR: {
      int conv = op->type == OP_CONV2D;
      uint64_t O = (uint64_t)op->attr[0], groups = conv ? (uint64_t)op->attr[10] : 1;
      uint64_t K = conv ? (uint64_t)op->attr[1] / groups * (uint64_t)op->attr[2] * (uint64_t)op->attr[3]
                        : (uint64_t)op->attr[1];
      uint64_t M = O / groups, N = mul_sat(B, (uint64_t)y->h * y->w);
      /* dq8's G groups per row: 4 bytes of scale each, and a kernel may pad each group to a multiple
         of 4 and keep 8 bytes of zero-point corrections beside it (q8_gemm_8x12__neondot_dq8: with
         gs = 1, 16 bytes per weight in all; test_limits checks every dq8 kernel against this) */
      uint64_t G = m->kind == KIND_DQ8 && op->attr[conv ? A_CONV2D_GS : A_LINEAR_GS] > 0
                       ? K / (uint64_t)op->attr[conv ? A_CONV2D_GS : A_LINEAR_GS] : 0;
      /* panels of up to 16 rows and an even K, 4 bytes per element at most, + 16 bytes per dq8 group;
         biases alike. sq8's AMX kernel pads rows to 32 and K to 64 (one byte each), more than that for
         a small K */
      uint64_t w = mul3(groups, M + 15, add_sat(mul_sat(K + 1, 4), mul_sat(G, 16)));
      /* + 2 bytes for up to 3 pad rows per dq8 group */
      uint64_t s = mul_sat(add_sat(N, 63), add_sat(mul_sat(K + 1, scratch_per), mul_sat(G, 6)));
      if (m->kind == KIND_SQ8) {
        w = umax(w, mul3(groups, M + 31, K + 63));
        s = umax(s, mul_sat(add_sat(N, 63), K + 63));
      }
      c->weight_bytes = add_sat(c->weight_bytes, add_sat(w, mul3(groups, M + 15, 16)));
      if (s > c->scratch_bytes) c->scratch_bytes = s;
      macs = mul_sat(out_el, K);
      break;
    }
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D: /* the kernels visit the window's taps inside the input only */
      macs = mul3(out_el, umin((uint64_t)op->attr[0], x->h), umin((uint64_t)op->attr[1], x->w));
      break;
    case OP_ADAPTIVE_AVGPOOL2D:
    case OP_ADAPTIVE_MAXPOOL2D: /* windows of at most ceil(H/OH) + 1 rows and ceil(W/OW) + 1 columns */
      macs = mul3(out_el, cdiv(x->h, y->h) + 1, cdiv(x->w, y->w) + 1);
      break;
    default: /* elementwise, concat, flatten, (de)quantize: one pass over the output */
      break;
    }
    c->macs = add_sat(c->macs, macs);
  }
  c->file_bytes = m->map_size; /* mapped and read in full by the checksum (the build gives the packed
                                   weights' pages back as it goes, so this is an upper bound) */
  c->total_bytes = add_sat(add_sat(add_sat(c->act_bytes, c->weight_bytes), c->scratch_bytes), c->file_bytes);
  return 0;
}

/* the default memory limit: LIMIT_DEFAULT_MEMORY_MB, or 3/4 of the machine's memory when that is less
   (*ram says which) */
static double default_memory_mb(int *ram) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  double phys = pages > 0 && page > 0 ? (double)pages * (double)page / MIB : 0;
  *ram = phys > 0 && 0.75 * phys < LIMIT_DEFAULT_MEMORY_MB;
  return *ram ? floor(0.75 * phys) : LIMIT_DEFAULT_MEMORY_MB;
}

int model_check_limits(const Model *m, int batch, char *err, size_t errlen) {
  double max_mb, max_gmac;
  int ram = 0;
  double def_mb = default_memory_mb(&ram);
  if (getenv("TINYRUNTIME_MAX_MEMORY_MB")) ram = 0;
  if (env_limit("TINYRUNTIME_MAX_MEMORY_MB", def_mb, &max_mb, err, errlen)) return -1;
  if (env_limit("TINYRUNTIME_MAX_GMAC", LIMIT_DEFAULT_GMAC, &max_gmac, err, errlen)) return -1;
  ModelCost c;
  if (model_cost(m, batch, &c, err, errlen)) return -1;
  if ((double)c.total_bytes > max_mb * MIB)
    return rt_fail(err, errlen,
                   "the model needs %.0f MB at batch size %d (activations %.0f MB, packed weights %.0f MB, scratch "
                   "%.0f MB, model file %.0f MB); the limit is %.0f MB%s (TINYRUNTIME_MAX_MEMORY_MB)",
                   ceil((double)c.total_bytes / MIB), batch, ceil((double)c.act_bytes / MIB),
                   ceil((double)c.weight_bytes / MIB), ceil((double)c.scratch_bytes / MIB),
                   ceil((double)c.file_bytes / MIB), max_mb, ram ? ", 3/4 of this machine's memory" : "");
  if ((double)c.macs > max_gmac * 1e9)
    return rt_fail(err, errlen,
                   "the model needs %.3g GMAC per image; the limit is %g GMAC (TINYRUNTIME_MAX_GMAC)",
                   (double)c.macs / 1e9, max_gmac);
  return 0;
}
