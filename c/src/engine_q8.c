/* engine_q8.c: the int8 forward passes (the `runq` binary): dq8 (dynamic) and sq8 (static).
 *
 * Sections: checks, build (per-op state, packed weights, scratch, memory plan), operations,
 * forward. CONV2D and LINEAR are int16-pair GEMMs (src/kernels_q8.h): packed weights (per conv
 * group) times an im2col matrix of one image (CONV2D) or of the batch's feature vectors (LINEAR,
 * one column per image). sq8 stays in integers from QUANTIZE to DEQUANTIZE, exactly as FORMAT.md
 * writes it; dq8 quantizes each im2col column group at run time and keeps everything that is not a
 * GEMM in float32. Every output element is computed by one thread in one fixed order, so sq8
 * results do not depend on the batch size or the thread count at all, nor do dq8's. The forward
 * pass never allocates. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "kernels_q8.h"
#include "plan.h"
#include "util.h"

const char *ENGINE_BINARY = "runq";

int engine_supports(uint32_t kind) { return kind == KIND_DQ8 || kind == KIND_SQ8; }

#define MB 64                 /* GEMM task: rows (multiple of Q8_MR) */
#define NB 64                 /* GEMM task: columns (multiple of Q8_NR) */
#define KCHUNK 16             /* im2col rows per task */
#define ECHUNK 16384          /* elementwise ops: elements per task */

typedef struct {
  int gemm;                   /* CONV2D or LINEAR */
  int linear;
  int C, H, W, O, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  int M, K;                   /* per conv group: outputs, reduction length */
  int G, gs, kp;              /* dq8: G groups of gs along K (sq8: G = 1, gs = K); kp pairs per group */
  int direct;                 /* dq8 1x1 stride-1 unpadded single-group conv: no float im2col */
  int asym;                   /* dq8: zero points present */
  int16_t *A;                 /* groups x a_elems int16: packed weights */
  size_t a_elems;
  int32_t *bias, *mult, *shift;   /* sq8: O each */
  float *ws, *bf;                 /* dq8: scales (O, G); bias (O) or NULL */
} OpState;

struct Engine {
  const Model *m;
  int batch;
  const Q8Kernels *k;
  OpState *st;
  size_t *offs;               /* byte offset of each value in the arena */
  unsigned char *arena;
  int16_t *xq;                /* im2col / quantized activations, int16 */
  float *xf, *xs;             /* dq8: float im2col; activation scales */
  const float *in;            /* the current forward's input (value 0) */
};



static size_t el_size(uint32_t dtype) { return dtype == DT_I8 ? 1 : 4; }
static int imin(int a, int b) { return a < b ? a : b; }

void engine_free(Engine *e) {
  if (!e) return;
  if (e->st)
    for (uint32_t i = 0; i < e->m->n_ops; i++) {
      OpState *s = &e->st[i];
      free(s->A), free(s->bias), free(s->mult), free(s->shift), free(s->ws), free(s->bf);
    }
  free(e->st);
  free(e->offs);
  free(e->arena);
  free(e->xq);
  free(e->xf);
  free(e->xs);
  free(e);
}

/* ---------------------------------------------------------------- build */

static int build_gemm(const Model *m, const Op *op, OpState *s) {
  const Value *x = &m->values[op->in[0]], *y = &m->values[op->out];
  s->gemm = 1;
  s->linear = op->type == OP_LINEAR;
  s->C = (int)x->c, s->H = (int)x->h, s->W = (int)x->w, s->O = (int)y->c, s->OH = (int)y->h, s->OW = (int)y->w;
  if (!s->linear) {
    s->kh = op->attr[2], s->kw = op->attr[3], s->sh = op->attr[4], s->sw = op->attr[5];
    s->ph = op->attr[6], s->pw = op->attr[7], s->dh = op->attr[8], s->dw = op->attr[9], s->groups = op->attr[10];
  } else {
    s->kh = s->kw = s->sh = s->sw = s->dh = s->dw = 1, s->ph = s->pw = 0, s->groups = 1;
  }
  s->M = s->O / s->groups;
  s->K = s->C / s->groups * s->kh * s->kw;
  int sq8 = m->kind == KIND_SQ8;
  s->gs = sq8 ? s->K : op->attr[11];
  s->G = s->K / s->gs;
  s->kp = q8_gsp(s->gs) / 2;
  s->asym = !sq8 && op_param(m, op, 2) != NULL;
  s->direct = !sq8 && !s->linear && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 &&
              s->pw == 0 && s->groups == 1;
  s->a_elems = q8_packed_size(s->M, s->G, s->gs);
  size_t O = (size_t)s->O;
  if (!(s->A = rt_alloc64(rt_mul_sat(rt_mul_sat(s->a_elems, (size_t)s->groups), 2)))) return -1;
  const int8_t *w = op_param(m, op, 0)->data;
  if (sq8) {
    if (!(s->bias = rt_alloc64(4 * O)) || !(s->mult = rt_alloc64(4 * O)) || !(s->shift = rt_alloc64(4 * O))) return -1;
    memcpy(s->bias, op_param(m, op, 1)->data, 4 * O);   /* copies: the data may be unaligned in a buffer */
    memcpy(s->mult, op_param(m, op, 2)->data, 4 * O);
    memcpy(s->shift, op_param(m, op, 3)->data, 4 * O);
    for (int g = 0; g < s->groups; g++)
      q8_pack_weights(s->M, 1, s->K, w + (size_t)g * s->M * s->K, NULL, s->A + (size_t)g * s->a_elems);
  } else {
    size_t nsc = O * (size_t)s->G;
    if (!(s->ws = rt_alloc64(4 * nsc))) return -1;
    memcpy(s->ws, op_param(m, op, 1)->data, 4 * nsc);
    const Param *bp = op_param(m, op, 3), *zp = op_param(m, op, 2);
    if (bp) {
      if (!(s->bf = rt_alloc64(4 * O))) return -1;
      memcpy(s->bf, bp->data, 4 * O);
    }
    const int8_t *wz = zp ? zp->data : NULL;
    for (int g = 0; g < s->groups; g++)
      q8_pack_weights(s->M, s->G, s->gs, w + (size_t)g * s->M * s->K, wz ? wz + (size_t)g * s->M * s->G : NULL,
                      s->A + (size_t)g * s->a_elems);
  }
  return 0;
}

/* columns of the GEMM of op s for a batch: a row stride that is a multiple of Q8_NR */
static size_t gemm_ldx(const OpState *s, int batch) {
  return q8_round_up(s->linear ? (size_t)batch : (size_t)s->OH * s->OW, Q8_NR);
}
/* int16 elements per Q8_NR-column panel of packed X */
static size_t gemm_pstride(const OpState *s) { return (size_t)s->G * (size_t)q8_gsp(s->gs) * Q8_NR; }

Engine *engine_build(const Model *m, int batch, char *err, size_t errlen) {
  if (batch < 1) { rt_fail(err, errlen, "batch size %d must be >= 1", batch); return NULL; }
  if (!engine_supports(m->kind)) {
    rt_fail(err, errlen, "this is a %s model; use run", kind_name(m->kind));
    return NULL;
  }
  Engine *e = calloc(1, sizeof *e);
  if (!e) { rt_fail(err, errlen, "out of memory"); return NULL; }
  e->m = m, e->batch = batch, e->k = q8_kernels();
  e->st = calloc(m->n_ops, sizeof *e->st);
  e->offs = calloc(m->n_values, sizeof *e->offs);
  if (!e->st || !e->offs) goto oom;

  size_t xq = 0, xf = 0, xs = 0;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    OpState *s = &e->st[i];
    if (op->type != OP_CONV2D && op->type != OP_LINEAR) continue;
    if (build_gemm(m, op, s)) goto oom;
    size_t ldx = gemm_ldx(s, batch);
    size_t q = rt_mul_sat((size_t)s->G * (size_t)q8_gsp(s->gs), ldx);
    if (q > xq) xq = q;
    if (m->kind == KIND_DQ8) {
      size_t f = s->direct ? 0 : rt_mul_sat((size_t)s->K, ldx), g = rt_mul_sat((size_t)s->G, ldx);
      if (f > xf) xf = f;
      if (g > xs) xs = g;
    }
  }
  if (xq && !(e->xq = rt_alloc64(rt_mul_sat(xq, 2)))) goto oom;
  if (xf && !(e->xf = rt_alloc64(rt_mul_sat(xf, 4)))) goto oom;
  if (xs && !(e->xs = rt_alloc64(rt_mul_sat(xs, 4)))) goto oom;

  /* the input (value 0) is read where the caller keeps it: no bytes in the arena */
  if (!(e->arena = plan_arena(m, batch, e->offs))) goto oom;
  return e;
oom:
  engine_free(e);
  rt_fail(err, errlen, "out of memory building the engine (batch %d)", batch);
  return NULL;
}

/* ---------------------------------------------------------------- operations */

static void *val(Engine *e, uint32_t v) {
  return v == 0 ? (void *)(uintptr_t)e->in : (void *)(e->arena + e->offs[v]);
}

/* the GEMM of one conv group (or of the batch for LINEAR), split in MB x NB tasks over threads */
static void run_gemm(Engine *e, const OpState *s, int gi, int N, size_t ldx, void *y, ptrdiff_t ys_o,
                     ptrdiff_t ys_p, const Op *op) {
  int sq8 = e->m->kind == KIND_SQ8;
  int mt = (s->M + MB - 1) / MB, nt = (N + NB - 1) / NB;
  const int16_t *A = s->A + (size_t)gi * s->a_elems;
  size_t ps = gemm_pstride(s);
  int32_t zy = e->m->values[op->out].zero_point;
#pragma omp for schedule(dynamic, 1)
  for (int t = 0; t < mt * nt; t++) {
    int o0 = (t / nt) * MB, p0 = (t % nt) * NB;
    int oc = gi * s->M + o0;                        /* first output channel of the task */
    Q8Gemm g = { imin(MB, s->M - o0), imin(NB, N - p0), s->G, s->kp, A + q8_packed_size(o0, s->G, s->gs),
                 e->xq + (size_t)(p0 / Q8_NR) * ps, (ptrdiff_t)ps };
    if (sq8) {
      Q8Sq8Epi ep = { s->bias + oc, s->mult + oc, s->shift + oc, zy, op->qmin, op->qmax,
                      (int8_t *)y + (ptrdiff_t)oc * ys_o + (ptrdiff_t)p0 * ys_p, ys_o, ys_p };
      e->k->sq8_gemm(&g, &ep);
    } else {
      Q8Dq8Epi ep = { s->ws + (size_t)oc * s->G, e->xs + p0, (ptrdiff_t)ldx, s->bf ? s->bf + oc : NULL, (int)op->act,
                      (float *)y + (ptrdiff_t)oc * ys_o + (ptrdiff_t)p0 * ys_p, ys_o, ys_p };
      e->k->dq8_gemm(&g, &ep);
    }
  }
}

/* dq8: quantize the float columns [0, N) of xf (row stride ldxf) into e->xq / e->xs */
static void run_quant(Engine *e, const OpState *s, const float *xf, ptrdiff_t ldxf, int N, size_t ldx) {
  int nt = (N + NB - 1) / NB;
  size_t ps = gemm_pstride(s);
#pragma omp for schedule(static)
  for (int t = 0; t < nt; t++) {
    int p0 = t * NB;
    e->k->dq8_quant(s->G, s->gs, imin(NB, N - p0), xf + p0, ldxf, s->asym, e->xq + (size_t)(p0 / Q8_NR) * ps,
                    (ptrdiff_t)ps, e->xs + p0, (ptrdiff_t)ldx);
  }
}

static void op_gemm(Engine *e, const Op *op, const OpState *s, int n) {
  int sq8 = e->m->kind == KIND_SQ8;
  const void *x = val(e, op->in[0]);
  void *y = val(e, op->out);
  size_t ldx = gemm_ldx(s, e->batch), ps = gemm_pstride(s);
  if (s->linear) {   /* one column per image: X[k][img] */
    int K = s->K;
#pragma omp parallel
    {
      if (sq8) {
#pragma omp for schedule(static)
        for (int k = 0; k < K; k++)
          for (int i = 0; i < n; i++) e->xq[q8_xidx(ps, k, i)] = ((const int8_t *)x)[(size_t)i * K + k];
      } else {
#pragma omp for schedule(static)
        for (int k = 0; k < K; k++)
          for (int i = 0; i < n; i++) e->xf[(size_t)k * ldx + i] = ((const float *)x)[(size_t)i * K + k];
        run_quant(e, s, e->xf, (ptrdiff_t)ldx, n, ldx);
      }
      run_gemm(e, s, 0, n, ldx, y, 1, s->O, op);
    }
    return;
  }
  size_t in_img = (size_t)s->C * s->H * s->W, out_img = (size_t)s->O * s->OH * s->OW;
  int N = s->OH * s->OW, cig = s->C / s->groups;
  int32_t zx = e->m->values[op->in[0]].zero_point;
  for (int i = 0; i < n; i++)
    for (int gi = 0; gi < s->groups; gi++) {
#pragma omp parallel
      {
        int kt = (s->K + KCHUNK - 1) / KCHUNK;
        if (sq8) {
          const int8_t *xi = (const int8_t *)x + i * in_img;
#pragma omp for schedule(static)
          for (int t = 0; t < kt; t++)
            q8_im2col_i8(xi, s->H, s->W, gi * cig, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH,
                         s->OW, zx, t * KCHUNK, imin(s->K, (t + 1) * KCHUNK), e->xq, (ptrdiff_t)ps);
          run_gemm(e, s, gi, N, ldx, (int8_t *)y + i * out_img, N, 1, op);
        } else {
          const float *xi = (const float *)x + i * in_img;
          if (s->direct) {
            run_quant(e, s, xi, N, N, ldx);
          } else {
#pragma omp for schedule(static)
            for (int t = 0; t < kt; t++)
              q8_im2col_f32(xi, s->H, s->W, gi * cig, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH,
                            s->OW, t * KCHUNK, imin(s->K, (t + 1) * KCHUNK), e->xf, (ptrdiff_t)ldx);
            run_quant(e, s, e->xf, (ptrdiff_t)ldx, N, ldx);
          }
          run_gemm(e, s, gi, N, ldx, (float *)y + i * out_img, N, 1, op);
        }
      }
    }
}

static Q8Pool pool_of(const Op *op) {
  Q8Pool p = { op->attr[0], op->attr[1], op->attr[2], op->attr[3], op->attr[4], op->attr[5], 1, 1, 0, 0, 0 };
  if (op->type == OP_MAXPOOL2D) p.dh = op->attr[6], p.dw = op->attr[7], p.ceil_mode = op->attr[8];
  else p.ceil_mode = op->attr[6], p.count_include_pad = op->attr[7], p.divisor = op->attr[8];
  return p;
}

/* every op that is not a GEMM; the batch of n images */
static void op_other(Engine *e, const Op *op, int n) {
  const Model *m = e->m;
  int sq8 = m->kind == KIND_SQ8;
  const Value *xv = &m->values[op->in[0]], *yv = &m->values[op->out];
  const void *x = val(e, op->in[0]);
  void *y = val(e, op->out);
  size_t xe = value_elems(xv), ye = value_elems(yv);
  size_t total = xe * (size_t)n;
  long chunks = (long)((total + ECHUNK - 1) / ECHUNK);
  int C = (int)xv->c, H = (int)xv->h, W = (int)xv->w, OH = (int)yv->h, OW = (int)yv->w;
  Q8Pool pool = pool_of(op);
  switch (op->type) {
  case OP_QUANTIZE:
#pragma omp parallel for schedule(static)
    for (long t = 0; t < chunks; t++) {
      size_t a = (size_t)t * ECHUNK, len = total - a < ECHUNK ? total - a : ECHUNK;
      q8_sq8_quantize((const float *)x + a, len, yv->scale, yv->zero_point, (int8_t *)y + a);
    }
    return;
  case OP_DEQUANTIZE:
#pragma omp parallel for schedule(static)
    for (long t = 0; t < chunks; t++) {
      size_t a = (size_t)t * ECHUNK, len = total - a < ECHUNK ? total - a : ECHUNK;
      q8_sq8_dequantize((const int8_t *)x + a, len, xv->scale, xv->zero_point, (float *)y + a);
    }
    return;
  case OP_ADD: {
    const Value *bv = &m->values[op->in[1]];
    const void *b = val(e, op->in[1]);
#pragma omp parallel for schedule(static)
    for (long t = 0; t < chunks; t++) {
      size_t a = (size_t)t * ECHUNK, len = total - a < ECHUNK ? total - a : ECHUNK;
      if (sq8)
        q8_sq8_add((const int8_t *)x + a, (const int8_t *)b + a, len, xv->zero_point, bv->zero_point, yv->zero_point,
                   op->attr[0], op->attr[1], op->attr[2], op->qmin, op->qmax, (int8_t *)y + a);
      else {
        q8_f32_add((const float *)x + a, (const float *)b + a, len, (float *)y + a);
        q8_f32_act((float *)y + a, len, (int)op->act);
      }
    }
    return;
  }
  case OP_CONCAT: {
    size_t es = el_size(yv->dtype);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
      size_t off = 0;
      for (uint32_t k = 0; k < op->n_in; k++) {
        const Value *kv = &m->values[op->in[k]];
        size_t ke = value_elems(kv);
        const unsigned char *src = (const unsigned char *)val(e, op->in[k]) + (size_t)i * ke * es;
        unsigned char *dst = (unsigned char *)y + ((size_t)i * ye + off) * es;
        if (sq8) q8_sq8_requant_copy((const int8_t *)src, ke, kv->zero_point, yv->zero_point, op->attr[2 * k],
                                     op->attr[2 * k + 1], (int8_t *)dst);
        else {
          memcpy(dst, src, ke * es);
          q8_f32_act((float *)dst, ke, (int)op->act);
        }
        off += ke;
      }
    }
    return;
  }
  case OP_FLATTEN:
  case OP_ACT:
#pragma omp parallel for schedule(static)
    for (long t = 0; t < chunks; t++) {
      size_t a = (size_t)t * ECHUNK, len = total - a < ECHUNK ? total - a : ECHUNK;
      if (sq8) {
        if (op->type == OP_ACT) q8_sq8_clamp((const int8_t *)x + a, len, op->qmin, op->qmax, (int8_t *)y + a);
        else memcpy((int8_t *)y + a, (const int8_t *)x + a, len);
      } else {
        memcpy((float *)y + a, (const float *)x + a, len * 4);
        q8_f32_act((float *)y + a, len, (int)op->act);
      }
    }
    return;
  default: break;
  }
  /* pools: one task per (image, channel) */
  long tasks = (long)n * C;
#pragma omp parallel for schedule(static)
  for (long t = 0; t < tasks; t++) {
    size_t xo = (size_t)t * H * W, yo = (size_t)t * OH * OW;
    if (sq8) {
      const int8_t *xs = (const int8_t *)x + xo;
      int8_t *ys = (int8_t *)y + yo;
      int32_t zx = xv->zero_point;
      switch (op->type) {
      case OP_MAXPOOL2D: q8_sq8_maxpool(xs, 1, H, W, &pool, OH, OW, ys); break;
      case OP_AVGPOOL2D: q8_sq8_avgpool(xs, 1, H, W, &pool, OH, OW, zx, ys); break;
      case OP_ADAPTIVE_AVGPOOL2D: q8_sq8_adaptive_avgpool(xs, 1, H, W, OH, OW, zx, ys); break;
      case OP_ADAPTIVE_MAXPOOL2D: q8_sq8_adaptive_maxpool(xs, 1, H, W, OH, OW, ys); break;
      default: break;
      }
    } else {
      const float *xs = (const float *)x + xo;
      float *ys = (float *)y + yo;
      switch (op->type) {
      case OP_MAXPOOL2D: q8_f32_maxpool(xs, 1, H, W, &pool, OH, OW, ys); break;
      case OP_AVGPOOL2D: q8_f32_avgpool(xs, 1, H, W, &pool, OH, OW, ys); break;
      case OP_ADAPTIVE_AVGPOOL2D: q8_f32_adaptive_avgpool(xs, 1, H, W, OH, OW, ys); break;
      case OP_ADAPTIVE_MAXPOOL2D: q8_f32_adaptive_maxpool(xs, 1, H, W, OH, OW, ys); break;
      default: break;
      }
      q8_f32_act(ys, (size_t)OH * OW, (int)op->act);
    }
  }
}

/* ---------------------------------------------------------------- forward */

int engine_forward(Engine *e, const float *in, int n, float *logits, char *err, size_t errlen) {
  if (n < 1 || n > e->batch) return rt_fail(err, errlen, "batch of %d images, engine built for 1..%d", n, e->batch);
  const Model *m = e->m;
  e->in = in;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    if (e->st[i].gemm) op_gemm(e, op, &e->st[i], n);
    else op_other(e, op, n);
  }
  memcpy(logits, val(e, m->output), (size_t)n * m->n_classes * sizeof(float));
  e->in = NULL;
  return 0;
}
