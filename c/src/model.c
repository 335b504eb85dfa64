/* model.c: load and validate a tinyruntime model file (FORMAT.md, versions 1 to 6): the one
 * validator of the runtime.
 *
 * The file is untrusted: every count, index, offset, size, dtype and shape is checked against the
 * file before it is used, every op's attributes and limits are checked, and every op's output shape
 * is recomputed from its inputs; from version 2 the CRC-32 of the whole file must match the header's; from
 * version 3 an sq8 weight stored blocked (from version 5 a dq8 one too) has its blocks' dims and a zero padding; from
 * version 4 an f32 1x1 convolution's weight (from version 6 also one of more taps, K >= 64, not Winograd-shaped; from version 7
 * those only on maps of 16 pixels or less or of runs of 7, and a LINEAR's) has the dims of
 * its panels of 32 rows (model_f32_panels). The checksum is skipped only in a
 * fuzz build (-DTR_FUZZ_NO_CHECKSUM). The engines rely on all of it and check nothing again. Reads go through
 * rd_u32/rd_u64 on bounds-checked offsets only. */
#define _DEFAULT_SOURCE /* madvise */
#define _POSIX_C_SOURCE 200809L
#include "model.h"
#include "crc32.h"
#include "pool.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22   /* Linux 5.14's value; musl 1.2.3's headers predate it */
#endif


/* ---------------------------------------------------------------- little helpers */

static const unsigned char *g_base; /* the bytes being validated (set per load, single-threaded) */

static uint32_t rd_u32(uint64_t off) {
  const unsigned char *p = g_base + off;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static int32_t rd_i32(uint64_t off) { uint32_t u = rd_u32(off); int32_t i; memcpy(&i, &u, 4); return i; }
static float rd_f32(uint64_t off) { uint32_t u = rd_u32(off); float f; memcpy(&f, &u, 4); return f; }
static uint64_t rd_u64(uint64_t off) { return (uint64_t)rd_u32(off) | (uint64_t)rd_u32(off + 4) << 32; }


const char *kind_name(uint32_t kind) {
  switch (kind) {
  case KIND_F32: return "f32";
  case KIND_DQ8: return "dq8";
  case KIND_SQ8: return "sq8";
  default: return "unknown";
  }
}

size_t value_elems(const Value *v) { return (size_t)v->c * v->h * v->w; }

const Param *op_param(const Model *m, const Op *op, int slot) {
  if (slot < 0 || slot >= TR_N_PARAM || op->param[slot] == TR_NONE || op->param[slot] >= m->n_params) return NULL;
  return &m->params[op->param[slot]];
}

void model_free(Model *m) {
  if (!m) return;
  if (m->class_names) {
    for (uint32_t i = 0; i < m->n_classes; i++) free(m->class_names[i]);
    free(m->class_names);
  }
  free(m->values);
  free(m->ops);
  free(m->params);
  if (m->map && m->map_size) munmap(m->map, m->map_size);
  memset(m, 0, sizeof *m);
}

void model_release(const Model *m, const void *p, size_t n) {
  uintptr_t base = (uintptr_t)m->map, a = (uintptr_t)p;
  if (!m->map || !n || a < base || a - base >= m->map_size) return;
  if (n > m->map_size - (a - base)) n = m->map_size - (a - base);
  long ps = sysconf(_SC_PAGESIZE);   /* no cached copy: the builds call this from several threads */
  uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
  /* only the pages wholly inside: a page shared with the next or last param may be read still (another thread's
     block of the same weights, or weights read in place), and a fault on it maps its whole folio again */
  uintptr_t lo = (a + page - 1) / page * page, hi = a + n == base + m->map_size ? a + n : (a + n) / page * page;
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* the checksum's parts over the pool's threads: part i of nth is bytes [n*i/nth, n*(i+1)/nth) of p */
enum { CRC_PARTS = 64, CRC_SPLIT_MIN = 1 << 20 };
typedef struct {
  const unsigned char *p;
  size_t n;
  uint32_t crc[CRC_PARTS];
} CrcJob;

/* where part i of nth starts (n*i/nth without overflow) */
static size_t part_at(size_t n, int i, int nth) {
  return n / (size_t)nth * (size_t)i + n % (size_t)nth * (size_t)i / (size_t)nth;
}

/* model_load's file: its pages still to be read in, by the checksum's parts (each its own, at once: the page
   cache's pages mapped by one call, not a fault per 16) or by model_load after the parse */
static int g_populate;
static void populate(const unsigned char *p, size_t n) {
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
  if (g_populate && n) madvise((void *)a, n + ((uintptr_t)p - a), MADV_POPULATE_READ);   /* (before 5.14: faulted in by the reads) */
}

static void crc_part(void *arg, int id, int nth) {
  CrcJob *j = arg;
  if (nth > CRC_PARTS) { if (id) return; nth = 1; }
  size_t a = part_at(j->n, id, nth), b = part_at(j->n, id + 1, nth);
  populate(j->p + a, b - a);
  j->crc[id] = rt_crc32(0, j->p + a, b - a);
}

/* zlib's CRC-32 of the file with the checksum field taken as zero (FORMAT.md); the bulk after the
   field in one part per thread, combined (rt_crc32_combine) */
static uint32_t file_checksum(uint64_t fsize) {
  static const unsigned char zero[4];
  uint32_t c = rt_crc32(0, g_base, TR_HDR_CHECKSUM);
  c = rt_crc32(c, zero, 4);
  const unsigned char *p = g_base + TR_HDR_CHECKSUM + 4;
  size_t n = (size_t)(fsize - TR_HDR_CHECKSUM - 4);
  int nth = pool_threads();
  if (nth < 2 || n < CRC_SPLIT_MIN) {
    populate(p, n);
    g_populate = 0;
    return rt_crc32(c, p, n);
  }
  CrcJob j = {p, n, {0}};
  pool_run(crc_part, &j);
  g_populate = 0;
  if (nth > CRC_PARTS) nth = 1;
  for (int i = 0; i < nth; i++) c = rt_crc32_combine(c, j.crc[i], part_at(n, i + 1, nth) - part_at(n, i, nth));
  return c;
}

/* ---------------------------------------------------------------- sections */

typedef struct { uint64_t off, size; const char *name; } Section;

/* [off, off+size) inside [0, file) without overflow */
static int in_file(uint64_t off, uint64_t size, uint64_t file) { return off <= file && size <= file - off; }

/* ---------------------------------------------------------------- params */

static size_t dt_size(uint32_t dt) { return dt == DT_F32 ? 4 : dt == DT_I8 ? 1 : dt == DT_I32 ? 4 : 0; }
static const char *dt_name(uint32_t dt) { return dt == DT_F32 ? "f32" : dt == DT_I8 ? "i8" : dt == DT_I32 ? "i32" : "?"; }

/* the param in slot `slot` of op `i` must exist (or may be none when optional) with dtype dt, first dim
   d0 and the product of the remaining dims d1 (d1 == 0: a 1-d tensor of d0). */
static int check_param(const Model *m, uint32_t i, int slot, int optional, uint32_t dt, uint64_t d0, uint64_t d1,
                       const char *what, char *err, size_t errlen) {
  const Op *op = &m->ops[i];
  uint32_t pi = op->param[slot];
  if (pi == TR_NONE) {
    if (optional) return 0;
    return rt_fail(err, errlen, "op %u (%s): %s (param[%d]) is missing", i, tr_op_name(op->type), what, slot);
  }
  if (pi >= m->n_params)
    return rt_fail(err, errlen, "op %u (%s): param[%d] = %u is out of range (n_params %u)", i, tr_op_name(op->type), slot,
                pi, m->n_params);
  const Param *p = &m->params[pi];
  if (p->dtype != dt)
    return rt_fail(err, errlen, "op %u (%s): %s (param %u) has dtype %s, expected %s", i, tr_op_name(op->type), what, pi,
                dt_name(p->dtype), dt_name(dt));
  uint64_t rest = 1;
  for (uint32_t d = 1; d < p->ndim; d++) rest *= p->dims[d];
  int ok = d1 == 0 ? (p->ndim == 1 && p->dims[0] == d0) : (p->ndim >= 2 && p->dims[0] == d0 && rest == d1);
  if (!ok) {
    if (d1 == 0)
      return rt_fail(err, errlen, "op %u (%s): %s (param %u) shape mismatch, expected (%llu)", i, tr_op_name(op->type),
                  what, pi, (unsigned long long)d0);
    return rt_fail(err, errlen, "op %u (%s): %s (param %u) shape mismatch, expected (%llu, %llu)", i,
                tr_op_name(op->type), what, pi, (unsigned long long)d0, (unsigned long long)d1);
  }
  return 0;
}

int model_blocks(const Model *m, const Op *op, WBlocks *b) {
  int sq8 = m->kind == KIND_SQ8 && m->version >= 3, dq8 = m->kind == KIND_DQ8 && m->version >= 5;
  if (!(sq8 || dq8) || (op->type != OP_CONV2D && op->type != OP_LINEAR)) return 0;
  int conv = op->type == OP_CONV2D;
  int64_t G = conv ? op->attr[A_CONV2D_GROUPS] : 1, O = op->attr[0], C = op->attr[1];
  int64_t T = conv ? (int64_t)op->attr[A_CONV2D_KH] * op->attr[A_CONV2D_KW] : 1;
  int64_t gs = op->attr[conv ? A_CONV2D_GS : A_LINEAR_GS];
  if (G < 1 || O < 1 || C < 1 || T < 1 || O % G || C % G || C / G == 1) return 0;
  if (dq8 && (gs < 1 || C / G * T % gs)) return 0;
  b->G = (size_t)G, b->M = (size_t)(O / G), b->R = sq8 ? 8 : 4;
  b->cig = sq8 ? (size_t)(C / G) : (size_t)gs, b->T = sq8 ? (size_t)T : 1, b->KG = sq8 ? 1 : (size_t)(C / G * T / gs);
  b->TM = (b->M + b->R - 1) / b->R, b->NQ = (b->cig + 3) / 4;
  return 1;
}

int model_f32_panels(const Model *m, const Op *op) {
  if (m->kind != KIND_F32 || m->version < 4) return 0;
  const int32_t *a = op->attr;
  if (op->type == OP_LINEAR)   /* version 7: unless the last panel's padding rows would pass an eighth of O */
    return m->version >= 7 && (int64_t)(32 - a[A_LINEAR_OUT_F] % 32) % 32 * 8 <= a[A_LINEAR_OUT_F];
  if (op->type != OP_CONV2D || a[A_CONV2D_GROUPS] != 1) return 0;
  static const int32_t wino[8] = {3, 3, 1, 1, 1, 1, 1, 1};   /* Winograd-shaped: kh kw sh sw ph pw dh dw, output 14x14+ */
  int64_t taps = (int64_t)a[A_CONV2D_KH] * a[A_CONV2D_KW];
  const Value *y = &m->values[op->out];
  return taps == 1 || (m->version >= 6 && a[A_CONV2D_IN_C] * taps >= 64 &&
                       (memcmp(a + A_CONV2D_KH, wino, sizeof wino) || y->h < 14 || y->w < 14) &&
                       (m->version < 7 || (uint64_t)y->h * y->w <= 16 ||   /* version 7: maps of 16 pixels or less, */
                        (y->w % 7 == 0 && (uint64_t)y->h * y->w >= 14)));   /* or of rows of runs of 7 */
}

/* a blocked weight (model_blocks): its dims (sq8 (G * TM, NQ, T, 32), dq8 (G * TM, KG, NQ, 16)) and its padding rows
   and channels zero (only the blocks of a last tile or a last quad have any) */
static int check_blocked(const Model *m, uint32_t i, const WBlocks *b, char *err, size_t errlen) {
  const Op *op = &m->ops[i];
  const Param *p = op->param[0] < m->n_params ? &m->params[op->param[0]] : NULL;
  size_t R = b->R, tb = b->T * 4 * R, d1 = R == 4 ? b->KG : b->NQ, d2 = R == 4 ? b->NQ : b->T;
  if (!p || p->dtype != DT_I8 || p->ndim != 4 || p->dims[0] != b->G * b->TM || p->dims[1] != d1 || p->dims[2] != d2 || p->dims[3] != 4 * R)
    return rt_fail(err, errlen, "op %u (%s): weight (param[0]) is not blocked as version %u stores it (FORMAT.md)", i,
                   tr_op_name(op->type), m->version);
  size_t rows = b->M - (b->TM - 1) * R, chans = b->cig - (b->NQ - 1) * 4;
  if (rows == R && chans == 4) return 0;   /* no block has padding */
  /* run u = (group, tile) * KG + k-group (no division a run: two per run had cost ResNet50 dq8's load ~0.5 ms) */
  for (size_t gt = 0, u = 0; gt < b->G * b->TM; gt++) {
    size_t nr = gt % b->TM + 1 == b->TM ? rows : R;   /* a group's last tile: its rows */
    if (nr == R && chans == 4) {
      u += b->KG;
      continue;
    }
    for (size_t kg = 0; kg < b->KG; kg++, u++)
      for (size_t q = nr < R ? 0 : b->NQ - 1; q < b->NQ; q++) {
        size_t nc = q + 1 < b->NQ ? 4 : chans;
        const uint8_t *blk = (const uint8_t *)p->data + (u * b->NQ + q) * tb;   /* dims checked: inside the file */
        for (size_t k = 0; k < tb; k++)
          if (blk[k] && (k % (4 * R) / 4 >= nr || k % 4 >= nc))
            return rt_fail(err, errlen, "op %u (%s): weight (param[0]) has a nonzero byte in its blocks' padding", i, tr_op_name(op->type));
      }
  }
  return 0;
}

/* params of CONV2D / LINEAR per kind; O outputs, K reduction length, gs the dq8 group size */
static int check_weights(Model *m, uint32_t i, uint64_t O, uint64_t K, int32_t gs, int *dq8_asym, char *err,
                         size_t errlen) {
  const Op *op = &m->ops[i];
  for (int s = 4; s < 8; s++)
    if (op->param[s] != TR_NONE)
      return rt_fail(err, errlen, "op %u (%s): param[%d] must be none", i, tr_op_name(op->type), s);
  switch (m->kind) {
  case KIND_F32:
    if (op->param[2] != TR_NONE || op->param[3] != TR_NONE)
      return rt_fail(err, errlen, "op %u (%s): param[2], param[3] must be none in an f32 model", i, tr_op_name(op->type));
    int pn = model_f32_panels(m, op);   /* in panels: dims (ceil(O / 32), K, 32) */
    if (check_param(m, i, 0, 0, DT_F32, pn ? (O + 31) / 32 : O, pn ? K * 32 : K, "weight", err, errlen)) return -1;
    if (check_param(m, i, 1, 1, DT_F32, O, 0, "bias", err, errlen)) return -1;
    return 0;
  case KIND_DQ8: {
    if (gs < 1 || (uint64_t)gs > K || K % (uint64_t)gs)
      return rt_fail(err, errlen, "op %u (%s): group size %d does not divide K = %llu", i, tr_op_name(op->type), gs,
                  (unsigned long long)K);
    if ((uint64_t)gs > TR_DQ8_MAX_GS)
      return rt_fail(err, errlen, "op %u (%s): group size %d > %u (its int32 group sums could overflow)", i,
                     tr_op_name(op->type), gs, TR_DQ8_MAX_GS);
    uint64_t G = K / (uint64_t)gs;
    WBlocks b;
    if (model_blocks(m, op, &b) ? check_blocked(m, i, &b, err, errlen) : check_param(m, i, 0, 0, DT_I8, O, K, "weight", err, errlen))
      return -1;
    if (check_param(m, i, 1, 0, DT_F32, O, G, "scales", err, errlen)) return -1;
    if (check_param(m, i, 2, 1, DT_I8, O, G, "zero points", err, errlen)) return -1;
    if (check_param(m, i, 3, 1, DT_F32, O, 0, "bias", err, errlen)) return -1;
    int asym = op->param[2] != TR_NONE;
    if (*dq8_asym < 0) *dq8_asym = asym;
    else if (*dq8_asym != asym)
      return rt_fail(err, errlen, "op %u (%s): zero points present in some layers but not in others", i,
                  tr_op_name(op->type));
    return 0;
  }
  case KIND_SQ8: {
    if (K > TR_SQ8_MAX_K)
      return rt_fail(err, errlen, "op %u (%s): K = %llu exceeds %u for sq8", i, tr_op_name(op->type),
                  (unsigned long long)K, TR_SQ8_MAX_K);
    WBlocks b;
    if (model_blocks(m, op, &b) ? check_blocked(m, i, &b, err, errlen) : check_param(m, i, 0, 0, DT_I8, O, K, "weight", err, errlen))
      return -1;
    if (check_param(m, i, 1, 0, DT_I32, O, 0, "bias", err, errlen)) return -1;
    if (check_param(m, i, 2, 0, DT_I32, O, 0, "multiplier", err, errlen)) return -1;
    if (check_param(m, i, 3, 0, DT_I32, O, 0, "shift", err, errlen)) return -1;
    const int32_t *mul = m->params[op->param[2]].data, *sh = m->params[op->param[3]].data;
    for (uint64_t o = 0; o < O; o++) {
      int32_t mv, sv; /* data may be unaligned in a caller buffer: copy */
      memcpy(&mv, mul + o, 4);
      memcpy(&sv, sh + o, 4);
      if (mv < 0) return rt_fail(err, errlen, "op %u (%s): multiplier[%llu] = %d is negative", i, tr_op_name(op->type), (unsigned long long)o, mv);
      if (sv < TR_SHIFT_MIN || sv > TR_SHIFT_MAX) return rt_fail(err, errlen, "op %u (%s): shift[%llu] = %d not in [1, 62]", i, tr_op_name(op->type), (unsigned long long)o, sv);
    }
    return 0;
  }
  }
  return rt_fail(err, errlen, "bad kind");
}

/* ---------------------------------------------------------------- shapes */

/* PyTorch's pooling / conv output length; ceil_mode per PyTorch (the last window must start inside
   the input or the left padding). Returns -1 when the output would be empty. */
static int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, int ceil_mode) {
  int64_t span = in + 2 * p - d * (k - 1) - 1;
  if (span < 0) return -1;
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + p) o--;
  return o >= 1 ? o : -1;
}

#define A(k) ((int64_t)op->attr[k])
#define BAD(...) return rt_fail(err, errlen, __VA_ARGS__)
#define LIMIT 0x7FFFFFFF

static int check_op(Model *m, uint32_t i, int *dq8_asym, char *err, size_t errlen) {
  Op *op = &m->ops[i];
  const char *nm = tr_op_name(op->type);
  const Value *x = &m->values[op->in[0]], *y = &m->values[op->out];
  uint64_t oc = x->c, oh = x->h, ow = x->w; /* expected output shape */
  int is_sq8 = m->kind == KIND_SQ8;
  uint32_t want_in = is_sq8 ? DT_I8 : DT_F32, want_out = want_in;

  /* the fused / standalone activation: version 1 knows none, relu, relu6; sq8 fuses none (its
     clamps are qmin/qmax) and runs sigmoid .. hardsigmoid as an ACT with a lookup table */
  uint32_t n_act = m->version >= 2 ? ACT_COUNT : ACT_RELU6 + 1;
  if (op->act >= n_act) BAD("op %u (%s): bad activation %u (version %u)", i, nm, op->act, m->version);
  int lut = is_sq8 && op->type == OP_ACT && op->act > ACT_RELU6;
  if (is_sq8 && op->type != OP_ACT && op->act != ACT_NONE)
    BAD("op %u (%s): activation %s fused in an sq8 model (sq8 clamps with qmin/qmax)", i, nm, tr_act_name(op->act));
  if (op->type != OP_CONV2D && op->type != OP_LINEAR)
    for (int s = lut ? 1 : 0; s < TR_N_PARAM; s++)
      if (op->param[s] != TR_NONE) BAD("op %u (%s): param[%d] must be none", i, nm, s);

  switch (op->type) {
  case OP_CONV2D: {
    for (int k = 0; k < 11; k++)
      if (A(k) < (k == 6 || k == 7 ? 0 : 1) || A(k) > LIMIT) BAD("op %u (%s): attr[%d] = %d out of range", i, nm, k, op->attr[k]);
    int64_t O = A(0), C = A(1), kh = A(2), kw = A(3), g = A(10);
    if (C != x->c) BAD("op %u (%s): in_c %lld but the input has %u channels", i, nm, (long long)C, x->c);
    if (C % g || O % g) BAD("op %u (%s): groups %lld do not divide in_c %lld and out_c %lld", i, nm, (long long)g, (long long)C, (long long)O);
    int64_t h = out_len(x->h, kh, A(4), A(6), A(8), 0), w = out_len(x->w, kw, A(5), A(7), A(9), 0);
    if (h < 0 || w < 0) BAD("op %u (%s): the kernel does not fit the %ux%u input", i, nm, x->h, x->w);
    uint64_t K = (uint64_t)(C / g) * (uint64_t)kh * (uint64_t)kw;
    if (K > LIMIT) BAD("op %u (%s): reduction length too large", i, nm);
    if (m->kind != KIND_DQ8 && op->attr[11] != 0) BAD("op %u (%s): attr[11] (group size) must be 0", i, nm);
    if (check_weights(m, i, (uint64_t)O, K, op->attr[11], dq8_asym, err, errlen)) return -1;
    oc = (uint64_t)O, oh = (uint64_t)h, ow = (uint64_t)w;
    break;
  }
  case OP_LINEAR: {
    if (A(0) < 1 || A(1) < 1) BAD("op %u (%s): out_f %d, in_f %d must be >= 1", i, nm, op->attr[0], op->attr[1]);
    if (x->h != 1 || x->w != 1 || x->c != (uint32_t)A(1))
      BAD("op %u (%s): input (%u, %u, %u) is not (in_f = %d, 1, 1)", i, nm, x->c, x->h, x->w, op->attr[1]);
    if (m->kind != KIND_DQ8 && op->attr[11] != 0) BAD("op %u (%s): attr[11] (group size) must be 0", i, nm);
    if (check_weights(m, i, (uint64_t)A(0), (uint64_t)A(1), op->attr[11], dq8_asym, err, errlen)) return -1;
    oc = (uint64_t)A(0), oh = 1, ow = 1;
    break;
  }
  case OP_ADD: {
    const Value *b = &m->values[op->in[1]];
    if (b->c != x->c || b->h != x->h || b->w != x->w)
      BAD("op %u (%s): input shapes (%u, %u, %u) and (%u, %u, %u) differ", i, nm, x->c, x->h, x->w, b->c, b->h, b->w);
    if (is_sq8) {
      if (A(0) < 0 || A(1) < 0) BAD("op %u (%s): negative multiplier", i, nm);
      if (A(A_ADD_SHIFT) < TR_SHIFT_MIN || A(A_ADD_SHIFT) > TR_SHIFT_MAX) BAD("op %u (%s): shift %d not in [1, 62]", i, nm, op->attr[2]);
    }
    break;
  }
  case OP_MUL: {
    const Value *b = &m->values[op->in[1]];
    int same = b->c == x->c && b->h == x->h && b->w == x->w, chan = b->c == x->c && b->h == 1 && b->w == 1;
    if (!same && !chan)
      BAD("op %u (%s): input 1 is (%u, %u, %u), expected (%u, %u, %u) or (%u, 1, 1)", i, nm, b->c, b->h, b->w, x->c,
          x->h, x->w, x->c);
    if (is_sq8) {
      if (A(A_MUL_M) < 0) BAD("op %u (%s): negative multiplier", i, nm);
      if (A(A_MUL_SHIFT) < TR_SHIFT_MIN || A(A_MUL_SHIFT) > TR_SHIFT_MAX)
        BAD("op %u (%s): shift %d not in [1, 62]", i, nm, op->attr[A_MUL_SHIFT]);
    }
    break;
  }
  case OP_CONCAT: {
    uint64_t c = 0;
    for (uint32_t k = 0; k < op->n_in; k++) {
      const Value *v = &m->values[op->in[k]];
      if (v->h != x->h || v->w != x->w) BAD("op %u (%s): input %u is %ux%u, input 0 is %ux%u", i, nm, k, v->h, v->w, x->h, x->w);
      c += v->c;
      if (is_sq8) {
        if (A(2 * k) < 0) BAD("op %u (%s): negative multiplier for input %u", i, nm, k);
        if (A(A_CONCAT_SHIFT(k)) < TR_SHIFT_MIN || A(A_CONCAT_SHIFT(k)) > TR_SHIFT_MAX) BAD("op %u (%s): shift for input %u not in [1, 62]", i, nm, k);
      }
    }
    oc = c;
    break;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D: {
    int mx = op->type == OP_MAXPOOL2D;
    int64_t kh = A(0), kw = A(1), sh = A(2), sw = A(3), ph = A(4), pw = A(5);
    int64_t dh = mx ? A(6) : 1, dw = mx ? A(7) : 1, cm = mx ? A(8) : A(6);
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh > LIMIT || kw > LIMIT)
      BAD("op %u (%s): kernel, stride and dilation must be >= 1", i, nm);
    if (ph < 0 || pw < 0 || ph > kh / 2 || pw > kw / 2) BAD("op %u (%s): padding must be in [0, kernel/2]", i, nm);
    if (cm != 0 && cm != 1) BAD("op %u (%s): ceil_mode must be 0 or 1", i, nm);
    if (!mx && ((A(7) != 0 && A(7) != 1) || A(8) < 0)) BAD("op %u (%s): bad count_include_pad / divisor_override", i, nm);
    int64_t h = out_len(x->h, kh, sh, ph, dh, (int)cm), w = out_len(x->w, kw, sw, pw, dw, (int)cm);
    if (h < 0 || w < 0) BAD("op %u (%s): the window does not fit the %ux%u input", i, nm, x->h, x->w);
    oh = (uint64_t)h, ow = (uint64_t)w;
    break;
  }
  case OP_ADAPTIVE_AVGPOOL2D:
  case OP_ADAPTIVE_MAXPOOL2D:
    if (A(0) < 1 || A(1) < 1) BAD("op %u (%s): output size %dx%d must be >= 1", i, nm, op->attr[0], op->attr[1]);
    oh = (uint64_t)A(0), ow = (uint64_t)A(1);
    break;
  case OP_FLATTEN:
    oc = (uint64_t)x->c * x->h * x->w, oh = 1, ow = 1;
    break;
  case OP_ACT:
    if (lut) {
      if (check_param(m, i, P_SQ8_ACT_LUT, 0, DT_I8, TR_LUT_SIZE, 0, "lookup table", err, errlen)) return -1;
      if (op->qmin != -128 || op->qmax != 127) BAD("op %u (%s): qmin/qmax must be -128/127 with a lookup table", i, nm);
    }
    break;
  case OP_QUANTIZE:
  case OP_DEQUANTIZE:
    if (!is_sq8) BAD("op %u (%s): only allowed in an sq8 model", i, nm);
    want_in = op->type == OP_QUANTIZE ? DT_F32 : DT_I8;
    want_out = op->type == OP_QUANTIZE ? DT_I8 : DT_F32;
    break;
  default:
    BAD("op %u: unknown type %u", i, op->type);
  }

  if (oc != y->c || oh != y->h || ow != y->w)
    BAD("op %u (%s): output value %u is (%u, %u, %u) but the op gives (%llu, %llu, %llu)", i, nm, op->out, y->c, y->h,
        y->w, (unsigned long long)oc, (unsigned long long)oh, (unsigned long long)ow);
  for (uint32_t k = 0; k < op->n_in; k++)
    if (m->values[op->in[k]].dtype != want_in)
      BAD("op %u (%s): input %u (value %u) has dtype %s, expected %s", i, nm, k, op->in[k],
          dt_name(m->values[op->in[k]].dtype), dt_name(want_in));
  if (y->dtype != want_out)
    BAD("op %u (%s): output value %u has dtype %s, expected %s", i, nm, op->out, dt_name(y->dtype), dt_name(want_out));

  if (is_sq8 && want_out == DT_I8) {
    if (op->qmin < -128 || op->qmax > 127 || op->qmin > op->qmax)
      BAD("op %u (%s): qmin %d / qmax %d not within [-128, 127]", i, nm, op->qmin, op->qmax);
    int same = op->type == OP_MAXPOOL2D || op->type == OP_AVGPOOL2D || op->type == OP_ADAPTIVE_AVGPOOL2D ||
               op->type == OP_ADAPTIVE_MAXPOOL2D || op->type == OP_FLATTEN || (op->type == OP_ACT && !lut);
    if (same && (y->scale != x->scale || y->zero_point != x->zero_point))
      BAD("op %u (%s): output scale/zero point must equal the input's", i, nm);
  }
  return 0;
}

/* ---------------------------------------------------------------- the loader */

static int parse(Model *m, uint64_t fsize, char *err, size_t errlen) {
  if (fsize < TR_HEADER_SIZE) BAD("file too small for the header (%llu bytes, need %u)", (unsigned long long)fsize, TR_HEADER_SIZE);
  if (memcmp(g_base + TR_HDR_MAGIC, TR_MAGIC, 8) != 0) BAD("bad magic (not a tinyruntime model file)");
  m->version = rd_u32(TR_HDR_VERSION);
  if (m->version > TR_VERSION) BAD("version %u is newer than this runtime (%u)", m->version, TR_VERSION);
  if (m->version < TR_MIN_VERSION) BAD("bad version %u", m->version);
  m->kind = rd_u32(TR_HDR_KIND);
  if (m->kind < KIND_F32 || m->kind > KIND_SQ8) BAD("unknown model kind %u", m->kind);
  m->in_c = rd_u32(TR_HDR_IN_C), m->in_h = rd_u32(TR_HDR_IN_H), m->in_w = rd_u32(TR_HDR_IN_W);
  m->n_classes = rd_u32(TR_HDR_N_CLASSES), m->n_values = rd_u32(TR_HDR_N_VALUES), m->n_ops = rd_u32(TR_HDR_N_OPS);
  m->n_params = rd_u32(TR_HDR_N_PARAMS), m->output = rd_u32(TR_HDR_OUTPUT);
  uint64_t names_off = rd_u64(TR_HDR_NAMES_OFF), names_size = rd_u64(TR_HDR_NAMES_SIZE);
  uint64_t values_off = rd_u64(TR_HDR_VALUES_OFF), ops_off = rd_u64(TR_HDR_OPS_OFF);
  uint64_t params_off = rd_u64(TR_HDR_PARAMS_OFF), data_off = rd_u64(TR_HDR_DATA_OFF);
  uint64_t data_size = rd_u64(TR_HDR_DATA_SIZE), file_size = rd_u64(TR_HDR_FILE_SIZE);
  if (file_size != fsize)
    BAD("file_size field says %llu bytes but the file has %llu (truncated or corrupt)", (unsigned long long)file_size,
        (unsigned long long)fsize);
#ifndef TR_FUZZ_NO_CHECKSUM
  if (m->version >= 2) {
    double t0 = rt_now_ms();
    uint32_t crc = file_checksum(fsize);
    m->crc_ms = rt_now_ms() - t0;
    if (crc != rd_u32(TR_HDR_CHECKSUM)) BAD("checksum mismatch (file is corrupt)");
  }
#endif
  if (!m->in_c || !m->in_h || !m->in_w) BAD("input shape (%u, %u, %u) has a zero dim", m->in_c, m->in_h, m->in_w);
  if ((uint64_t)m->in_c * m->in_h * m->in_w > TR_MAX_ELEMS) BAD("input shape too large");
  if (m->n_classes < 1) BAD("n_classes is 0");
  if (m->n_values < 2) BAD("n_values %u < 2", m->n_values);
  if (m->n_ops < 1) BAD("n_ops is 0");
  if (m->output == 0 || m->output >= m->n_values) BAD("output value %u out of range (n_values %u)", m->output, m->n_values);

  Section s[6] = {{0, TR_HEADER_SIZE, "header"},
                  {names_off, names_size, "class names"},
                  {values_off, (uint64_t)m->n_values * TR_VALUE_SIZE, "value table"},
                  {ops_off, (uint64_t)m->n_ops * TR_OP_SIZE, "op table"},
                  {params_off, (uint64_t)m->n_params * TR_PARAM_SIZE, "param table"},
                  {data_off, data_size, "param data"}};
  for (int k = 1; k < 6; k++)
    if (!in_file(s[k].off, s[k].size, fsize))
      BAD("%s section (offset %llu, %llu bytes) lies outside the file (%llu bytes)", s[k].name,
          (unsigned long long)s[k].off, (unsigned long long)s[k].size, (unsigned long long)fsize);
  for (int a = 0; a < 6; a++)
    for (int b = a + 1; b < 6; b++)
      if (s[a].size && s[b].size && s[a].off < s[b].off + s[b].size && s[b].off < s[a].off + s[a].size)
        BAD("%s and %s sections overlap", s[a].name, s[b].name);
  if (data_off % 64) BAD("param data offset %llu is not 64-byte aligned", (unsigned long long)data_off);

  /* class names */
  if (names_size < (uint64_t)m->n_classes * 4) BAD("class names section too small for %u names", m->n_classes);
  if (!(m->class_names = calloc(m->n_classes, sizeof *m->class_names))) BAD("out of memory");
  uint64_t p = names_off, end = names_off + names_size;
  for (uint32_t k = 0; k < m->n_classes; k++) {
    if (end - p < 4) BAD("class name %u runs past the names section", k);
    uint32_t len = rd_u32(p);
    p += 4;
    if (len > end - p) BAD("class name %u (%u bytes) runs past the names section", k, len);
    if (!(m->class_names[k] = malloc((size_t)len + 1))) BAD("out of memory");
    memcpy(m->class_names[k], g_base + p, len);
    m->class_names[k][len] = 0;
    p += len;
  }
  if (p != end) BAD("class names take %llu bytes but names_size is %llu", (unsigned long long)(p - names_off), (unsigned long long)names_size);

  /* values */
  if (!(m->values = calloc(m->n_values, sizeof *m->values))) BAD("out of memory");
  for (uint32_t v = 0; v < m->n_values; v++) {
    uint64_t o = values_off + (uint64_t)v * TR_VALUE_SIZE;
    Value *x = &m->values[v];
    x->c = rd_u32(o + TR_VAL_C), x->h = rd_u32(o + TR_VAL_H), x->w = rd_u32(o + TR_VAL_W);
    x->dtype = rd_u32(o + TR_VAL_DTYPE), x->scale = rd_f32(o + TR_VAL_SCALE), x->zero_point = rd_i32(o + TR_VAL_ZERO_POINT);
    if (!x->c || !x->h || !x->w) BAD("value %u has shape (%u, %u, %u) with a zero dim", v, x->c, x->h, x->w);
    if ((uint64_t)x->c * x->h * x->w > TR_MAX_ELEMS)
      BAD("value %u shape (%u, %u, %u) has more than 2^31 elements", v, x->c, x->h, x->w);
    if (x->dtype != DT_F32 && !(x->dtype == DT_I8 && m->kind == KIND_SQ8))
      BAD("value %u has dtype %u, not allowed in a %s model", v, x->dtype, kind_name(m->kind));
    if (x->dtype == DT_I8) {
      if (!(x->scale > 0) || !isfinite(x->scale)) BAD("value %u: scale %g must be finite and > 0", v, (double)x->scale);
      if (x->zero_point < -128 || x->zero_point > 127) BAD("value %u: zero point %d not in [-128, 127]", v, x->zero_point);
    }
  }
  const Value *in = &m->values[0], *out = &m->values[m->output];
  if (in->c != m->in_c || in->h != m->in_h || in->w != m->in_w || in->dtype != DT_F32)
    BAD("value 0 (%u, %u, %u) does not match the input shape (%u, %u, %u) f32", in->c, in->h, in->w, m->in_c, m->in_h, m->in_w);
  if (out->c != m->n_classes || out->h != 1 || out->w != 1 || out->dtype != DT_F32)
    BAD("output value %u is (%u, %u, %u), expected (%u, 1, 1) f32", m->output, out->c, out->h, out->w, m->n_classes);

  /* params */
  if (m->n_params && !(m->params = calloc(m->n_params, sizeof *m->params))) BAD("out of memory");
  for (uint32_t k = 0; k < m->n_params; k++) {
    uint64_t o = params_off + (uint64_t)k * TR_PARAM_SIZE;
    Param *q = &m->params[k];
    q->dtype = rd_u32(o + TR_PAR_DTYPE), q->ndim = rd_u32(o + TR_PAR_NDIM);
    for (int d = 0; d < 4; d++) q->dims[d] = rd_u32(o + TR_PAR_DIMS + 4 * d);
    uint64_t off = rd_u64(o + TR_PAR_OFFSET);
    q->nbytes = rd_u64(o + TR_PAR_NBYTES);
    if (!dt_size(q->dtype)) BAD("param %u: bad dtype %u", k, q->dtype);
    if (q->ndim < 1 || q->ndim > 4) BAD("param %u: ndim %u not in 1..4", k, q->ndim);
    uint64_t n = dt_size(q->dtype);
    for (uint32_t d = 0; d < 4; d++) {
      if (d < q->ndim && q->dims[d] < 1) BAD("param %u: dim %u is 0", k, d);
      if (d >= q->ndim && q->dims[d] != 0) BAD("param %u: unused dim %u is not 0", k, d);
      if (d < q->ndim) {
        if (q->dims[d] > fsize / n) BAD("param %u: dims larger than the file", k);
        n *= q->dims[d]; /* n <= fsize: no overflow */
      }
    }
    if (q->nbytes != n) BAD("param %u: nbytes %llu, but its dims give %llu", k, (unsigned long long)q->nbytes, (unsigned long long)n);
    if (off % 64) BAD("param %u: data offset %llu is not 64-byte aligned", k, (unsigned long long)off);
    if (off < data_off || !in_file(off - data_off, q->nbytes, data_size))
      BAD("param %u: data (offset %llu, %llu bytes) lies outside the data section", k, (unsigned long long)off,
          (unsigned long long)q->nbytes);
    q->data = g_base + off;
  }

  /* ops: indices and topological order first, then shapes */
  if (!(m->ops = calloc(m->n_ops, sizeof *m->ops))) BAD("out of memory");
  unsigned char *written = calloc(m->n_values, 1);
  if (!written) BAD("out of memory");
  written[0] = 1;
  int rc = 0, dq8_asym = -1;
  for (uint32_t i = 0; i < m->n_ops && !rc; i++) {
    uint64_t o = ops_off + (uint64_t)i * TR_OP_SIZE;
    Op *op = &m->ops[i];
    op->type = rd_u32(o + TR_OP_TYPE), op->act = rd_u32(o + TR_OP_ACT), op->n_in = rd_u32(o + TR_OP_N_IN);
    op->out = rd_u32(o + TR_OP_OUT);
    for (int k = 0; k < TR_MAX_IN; k++) op->in[k] = rd_u32(o + TR_OP_IN + 4 * k);
    for (int k = 0; k < TR_N_ATTR; k++) op->attr[k] = rd_i32(o + TR_OP_ATTR + 4 * k);
    for (int k = 0; k < TR_N_PARAM; k++) op->param[k] = rd_u32(o + TR_OP_PARAM + 4 * k);
    op->qmin = rd_i32(o + TR_OP_QMIN), op->qmax = rd_i32(o + TR_OP_QMAX);
    if (op->type < OP_CONV2D || op->type >= OP_COUNT || (op->type == OP_MUL && m->version < 2)) { rc = rt_fail(err, errlen, "op %u: unknown type %u", i, op->type); break; }
    if (op->n_in < tr_op_min_in(op->type) || op->n_in > tr_op_max_in(op->type)) {   /* the spec's arity */
      rc = rt_fail(err, errlen, "op %u (%s): n_in %u not in %u..%u", i, tr_op_name(op->type), op->n_in,
                   tr_op_min_in(op->type), tr_op_max_in(op->type));
      break;
    }
    for (uint32_t k = 0; k < op->n_in && !rc; k++) {
      if (op->in[k] >= m->n_values)
        rc = rt_fail(err, errlen, "op %u (%s): input %u = value %u out of range (n_values %u)", i, tr_op_name(op->type), k, op->in[k], m->n_values);
      else if (!written[op->in[k]])
        rc = rt_fail(err, errlen, "op %u (%s): reads value %u before any op writes it", i, tr_op_name(op->type), op->in[k]);
    }
    if (rc) break;
    for (int k = 0; k < TR_N_PARAM && !rc; k++)
      if (op->param[k] != TR_NONE && op->param[k] >= m->n_params)
        rc = rt_fail(err, errlen, "op %u (%s): param[%d] = %u out of range (n_params %u)", i, tr_op_name(op->type), k, op->param[k], m->n_params);
    if (rc) break;
    if (op->out == 0 || op->out >= m->n_values) { rc = rt_fail(err, errlen, "op %u (%s): output value %u out of range", i, tr_op_name(op->type), op->out); break; }
    if (written[op->out]) { rc = rt_fail(err, errlen, "op %u (%s): value %u is written twice", i, tr_op_name(op->type), op->out); break; }
    written[op->out] = 1;
    rc = check_op(m, i, &dq8_asym, err, errlen);
  }
  for (uint32_t v = 1; v < m->n_values && !rc; v++)
    if (!written[v]) rc = rt_fail(err, errlen, "value %u is never written by an op", v);
  free(written);
  return rc;
}

int model_load_buffer(const void *buf, size_t size, Model *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m); /* m->map stays NULL: model_free must not unmap a caller's buffer */
  g_base = buf;
  if (!buf) return rt_fail(err, errlen, "no data");
  if (parse(m, size, err, errlen)) {
    model_free(m);
    return -1;
  }
  return 0;
}

int model_load(const char *path, Model *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return rt_fail(err, errlen, "%s", rt_strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) { int e = errno; close(fd); return rt_fail(err, errlen, "%s", rt_strerror(e)); }
  if (!S_ISREG(st.st_mode)) { close(fd); return rt_fail(err, errlen, "not a regular file"); }
  if ((uint64_t)st.st_size < TR_HEADER_SIZE) {
    close(fd);
    return rt_fail(err, errlen, "file too small for the header (%llu bytes, need %u)", (unsigned long long)st.st_size, TR_HEADER_SIZE);
  }
  /* mapped in 4 KiB pages (MADV_NOHUGEPAGE, before any is mapped), then populated: the page cache holds the file
     in 2 MiB folios, and mapped whole, the pages of packed weights (released by model_release) that share one with
     weights read in place came back with them: ResNet50 f32 kept 7 MiB of such pages, peak RSS 1.17x its file */
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return rt_fail(err, errlen, "mmap: %s", rt_strerror(errno));
  madvise(map, (size_t)st.st_size, MADV_NOHUGEPAGE);
  g_base = map;
  g_populate = 1;   /* read in by the checksum's threads, each its part: on 2 threads (Zen 4, the file idle for 1 s)
                       ResNet18 f32's 45 MB took 5.3-11.4 ms to load (one thread's populate, then the parse and the
                       checksum), now 3.4-4.8; ResNet18 sq8's 11 MB 1.4-2.7 -> 1.1-1.9 */
  int bad = parse(m, (uint64_t)st.st_size, err, errlen);
  if (!bad) populate(map, (size_t)st.st_size);   /* (no checksum: a version 1 file) */
  g_populate = 0;
  if (bad) {
    model_free(m); /* map not yet recorded */
    munmap(map, (size_t)st.st_size);
    return -1;
  }
  m->map = map;
  m->map_size = (size_t)st.st_size;
  return 0;
}
