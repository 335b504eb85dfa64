/* ops_q8.c: the int8 op tables: sq8's (every op) and dq8's GEMM (its other ops are the f32 ones).
 *
 * CONV2D and LINEAR are int8 GEMMs through the kernel descriptor in use (src/kernels_q8.h): packed
 * weights (per conv group) times an im2col matrix of one image (CONV2D) or of the batch's feature
 * vectors (LINEAR, one column per image), both packed by the descriptor's packers. sq8 stays in
 * integers from QUANTIZE to DEQUANTIZE, exactly as FORMAT.md writes it; dq8 quantizes each im2col
 * column group at run time. Every output element is computed by one thread in one fixed order, so
 * sq8 results do not depend on the batch size or the thread count at all, nor do dq8's. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "util.h"

#define KCHUNK 16             /* im2col rows per task */
#define ECHUNK 16384          /* elementwise ops: elements per task */

static int imin(int a, int b) { return a < b ? a : b; }

/* ---------------------------------------------------------------- CONV2D, LINEAR */

/* a group of gs values padded to the kernel's k step */
static int gsp_of(const Q8Kernels *k, int gs) { return (int)q8_round_up((size_t)gs, (size_t)k->kr); }
/* columns of the GEMM of op s for a batch: a row stride that is a multiple of the kernel's NR */
static size_t gemm_ldx(const Q8Kernels *k, const OpState *s, int batch) {
  return q8_round_up(s->linear ? (size_t)batch : (size_t)s->OH * s->OW, (size_t)k->nr);
}
/* int16 units per NR-column panel of packed X */
static size_t gemm_pstride(const Q8Kernels *k, const OpState *s) { return q8_pstride(k, s->G, s->gs); }

static int build_gemm(Engine *e, const Op *op, OpState *s) {
  const Model *m = e->m;
  const Q8Kernels *k = e->kq;
  int sq8 = m->kind == KIND_SQ8;
  s->gs = sq8 ? s->K : op->attr[s->linear ? A_LINEAR_GS : A_CONV2D_GS];
  s->G = s->K / s->gs;
  s->kp = gsp_of(k, s->gs) / k->kr;
  s->asym = !sq8 && op_param(m, op, P_DQ8_ZERO_POINTS) != NULL;
  s->direct = !sq8 && !s->linear && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 &&
              s->pw == 0 && s->groups == 1;
  s->a_elems = k->a_elems(s->M, s->G, s->gs);
  size_t O = (size_t)s->O;
  if (sq8 && s->depthwise) {   /* the direct kernel reads the weights in place: nothing to pack */
    if (!(s->qbias = rt_alloc64(4 * O)) || !(s->mult = rt_alloc64(4 * O)) || !(s->shift = rt_alloc64(4 * O))) return -1;
    memcpy(s->qbias, op_param(m, op, P_SQ8_BIAS)->data, 4 * O);
    memcpy(s->mult, op_param(m, op, P_SQ8_MULT)->data, 4 * O);
    memcpy(s->shift, op_param(m, op, P_SQ8_SHIFT)->data, 4 * O);
    return 0;
  }
  if (!(s->A = rt_alloc64(rt_mul_sat(rt_mul_sat(s->a_elems, (size_t)s->groups), 2)))) return -1;
  const int8_t *w = op_param(m, op, P_SQ8_WEIGHT)->data;
  if (sq8) {
    if (!(s->qbias = rt_alloc64(4 * O)) || !(s->mult = rt_alloc64(4 * O)) || !(s->shift = rt_alloc64(4 * O))) return -1;
    memcpy(s->qbias, op_param(m, op, P_SQ8_BIAS)->data, 4 * O);   /* copies: the data may be unaligned in a buffer */
    memcpy(s->mult, op_param(m, op, P_SQ8_MULT)->data, 4 * O);
    memcpy(s->shift, op_param(m, op, P_SQ8_SHIFT)->data, 4 * O);
    for (int g = 0; g < s->groups; g++)
      k->pack_w(s->M, 1, s->K, w + (size_t)g * s->M * s->K, NULL, s->A + (size_t)g * s->a_elems);
  } else {
    size_t nsc = O * (size_t)s->G;
    if (!(s->ws = rt_alloc64(4 * nsc))) return -1;
    memcpy(s->ws, op_param(m, op, P_DQ8_SCALES)->data, 4 * nsc);
    const Param *bp = op_param(m, op, P_DQ8_BIAS), *zp = op_param(m, op, P_DQ8_ZERO_POINTS);
    if (bp) {
      if (!(s->bf = rt_alloc64(4 * O))) return -1;
      memcpy(s->bf, bp->data, 4 * O);
    }
    const int8_t *wz = zp ? zp->data : NULL;
    for (int g = 0; g < s->groups; g++)
      k->pack_w(s->M, s->G, s->gs, w + (size_t)g * s->M * s->K, wz ? wz + (size_t)g * s->M * s->G : NULL,
                      s->A + (size_t)g * s->a_elems);
  }
  size_t ldx = gemm_ldx(k, s, e->batch);
  engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat(gemm_pstride(k, s), ldx / (size_t)k->nr), 2));   /* xq */
  if (!sq8) {
    engine_need(e, SCRATCH_1, s->direct ? 0 : rt_mul_sat(rt_mul_sat((size_t)s->K, ldx), 4));   /* xf */
    engine_need(e, SCRATCH_2, rt_mul_sat(rt_mul_sat((size_t)s->G, ldx), 4));                   /* xs */
  }
  return 0;
}

/* the GEMM of one conv group (or of the batch for LINEAR), split in MB x NB tasks over threads */
static void run_gemm(const Engine *e, const OpState *s, int gi, int N, size_t ldx, void *y, ptrdiff_t ys_o,
                     ptrdiff_t ys_p, const Op *op) {
  int sq8 = e->m->kind == KIND_SQ8;
  const Q8Kernels *k = e->kq;
  int MB = (int)q8_round_up(64, (size_t)k->mr), NB = (int)q8_round_up(64, (size_t)k->nr);
  int mt = (s->M + MB - 1) / MB, nt = (N + NB - 1) / NB;
  const int16_t *A = s->A + (size_t)gi * s->a_elems, *xq = e->scratch[SCRATCH_0];
  const float *xs = e->scratch[SCRATCH_2];
  size_t ps = gemm_pstride(k, s);
  int32_t zy = e->m->values[op->out].zero_point;
#pragma omp for schedule(dynamic, 1)
  for (int t = 0; t < mt * nt; t++) {
    int o0 = (t / nt) * MB, p0 = (t % nt) * NB;
    int oc = gi * s->M + o0;                        /* first output channel of the task */
    Q8Gemm g = { imin(MB, s->M - o0), imin(NB, N - p0), s->G, s->kp, A + k->a_elems(o0, s->G, s->gs),
                 xq + (size_t)(p0 / k->nr) * ps, (ptrdiff_t)ps };
    if (sq8) {
      Q8Sq8Epi ep = { s->qbias + oc, s->mult + oc, s->shift + oc, zy, op->qmin, op->qmax,
                      (int8_t *)y + (ptrdiff_t)oc * ys_o + (ptrdiff_t)p0 * ys_p, ys_o, ys_p };
      k->sq8_gemm(&g, &ep);
    } else {
      Q8Dq8Epi ep = { s->ws + (size_t)oc * s->G, xs + p0, (ptrdiff_t)ldx, s->bf ? s->bf + oc : NULL, (int)op->act,
                      (float *)y + (ptrdiff_t)oc * ys_o + (ptrdiff_t)p0 * ys_p, ys_o, ys_p };
      k->dq8_gemm(&g, &ep);
    }
  }
}

/* dq8: quantize the float columns [0, N) of xf (row stride ldxf) into the xq / xs scratch */
static void run_quant(const Engine *e, const OpState *s, const float *xf, ptrdiff_t ldxf, int N, size_t ldx) {
  const Q8Kernels *k = e->kq;
  int NB = (int)q8_round_up(64, (size_t)k->nr), nt = (N + NB - 1) / NB;
  int16_t *xq = e->scratch[SCRATCH_0];
  float *xs = e->scratch[SCRATCH_2];
  size_t ps = gemm_pstride(k, s);
#pragma omp for schedule(static)
  for (int t = 0; t < nt; t++) {
    int p0 = t * NB;
    k->dq8_quant(s->G, s->gs, imin(NB, N - p0), xf + p0, ldxf, s->asym, xq + (size_t)(p0 / k->nr) * ps,
                 (ptrdiff_t)ps, xs + p0, (ptrdiff_t)ldx);
  }
}

/* sq8 depthwise: one task per (image, output channel) plane; output channel o reads input channel
   o / M (M = the channel multiplier) */
static void run_dw(const Engine *e, const Op *op, const OpState *s, int n) {
  const Model *m = e->m;
  const int8_t *x = engine_val(e, op->in[0]), *w = op_param(m, op, P_SQ8_WEIGHT)->data;
  int8_t *y = engine_val(e, op->out);
  Q8DwShape sh = {s->H, s->W, s->OH, s->OW, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw,
                  m->values[op->in[0]].zero_point, m->values[op->out].zero_point, op->qmin, op->qmax};
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, K = (size_t)s->kh * s->kw;
  long planes = (long)n * s->O;
  q8_dwconv_fn dw = e->kdw->dwconv;
#pragma omp parallel for schedule(static)
  for (long q = 0; q < planes; q++) {
    size_t img = (size_t)q / (size_t)s->O, o = (size_t)q % (size_t)s->O;
    dw(x + (img * (size_t)s->C + o / (size_t)s->M) * HW, w + o * K, s->qbias[o], s->mult[o], s->shift[o],
       y + (size_t)q * OHW, &sh);
  }
}

static void run_gemm_op(Engine *e, const Op *op, const OpState *s, int n) {
  int sq8 = e->m->kind == KIND_SQ8;
  if (sq8 && s->depthwise) {
    run_dw(e, op, s, n);
    return;
  }
  const Q8Kernels *k = e->kq;
  const void *x = engine_val(e, op->in[0]);
  void *y = engine_val(e, op->out);
  int16_t *xq = e->scratch[SCRATCH_0];
  float *xf = e->scratch[SCRATCH_1];
  size_t ldx = gemm_ldx(k, s, e->batch), ps = gemm_pstride(k, s);
  if (s->linear) {   /* one column per image: X[k][img] */
    int K = s->K;
#pragma omp parallel
    {
      if (sq8) {
#pragma omp for schedule(static)
        for (int kk = 0; kk < K; kk++)
          for (int i = 0; i < n; i++) k->put_x(xq, ps, kk, i, ((const int8_t *)x)[(size_t)i * K + kk]);
      } else {
#pragma omp for schedule(static)
        for (int kk = 0; kk < K; kk++)
          for (int i = 0; i < n; i++) xf[(size_t)kk * ldx + i] = ((const float *)x)[(size_t)i * K + kk];
        run_quant(e, s, xf, (ptrdiff_t)ldx, n, ldx);
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
            k->im2col_i8(xi, s->H, s->W, gi * cig, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH,
                         s->OW, zx, t * KCHUNK, imin(s->K, (t + 1) * KCHUNK), xq, (ptrdiff_t)ps);
          run_gemm(e, s, gi, N, ldx, (int8_t *)y + i * out_img, N, 1, op);
        } else {
          const float *xi = (const float *)x + i * in_img;
          if (s->direct) {
            run_quant(e, s, xi, N, N, ldx);
          } else {
#pragma omp for schedule(static)
            for (int t = 0; t < kt; t++)
              q8_im2col_f32(xi, s->H, s->W, gi * cig, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH,
                            s->OW, t * KCHUNK, imin(s->K, (t + 1) * KCHUNK), xf, (ptrdiff_t)ldx);
            run_quant(e, s, xf, (ptrdiff_t)ldx, N, ldx);
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

/* ---------------------------------------------------------------- the other sq8 ops */

static size_t in_count(const Engine *e, const Op *op, int n) { return (size_t)n * value_elems(&e->m->values[op->in[0]]); }

/* BODY over the n images' elements in ECHUNK pieces [a, a + len), over threads */
#define CHUNKS(total, BODY)                                                             \
  do {                                                                                  \
    size_t total_ = (total);                                                            \
    long chunks_ = (long)rt_cdiv(total_, ECHUNK);                                       \
    _Pragma("omp parallel for schedule(static)")                                        \
    for (long t_ = 0; t_ < chunks_; t_++) {                                             \
      size_t a = (size_t)t_ * ECHUNK, len = total_ - a < ECHUNK ? total_ - a : ECHUNK;  \
      BODY;                                                                             \
    }                                                                                   \
  } while (0)

static void run_quantize(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const float *x = engine_val(e, op->in[0]);
  int8_t *y = engine_val(e, op->out);
  const Value *yv = &e->m->values[op->out];
  CHUNKS(in_count(e, op, n), q8_sq8_quantize(x + a, len, yv->scale, yv->zero_point, y + a));
}

static void run_dequantize(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const int8_t *x = engine_val(e, op->in[0]);
  float *y = engine_val(e, op->out);
  const Value *xv = &e->m->values[op->in[0]];
  CHUNKS(in_count(e, op, n), q8_sq8_dequantize(x + a, len, xv->scale, xv->zero_point, y + a));
}

static void run_add(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Model *m = e->m;
  const int8_t *x = engine_val(e, op->in[0]), *b = engine_val(e, op->in[1]);
  int8_t *y = engine_val(e, op->out);
  int32_t za = m->values[op->in[0]].zero_point, zb = m->values[op->in[1]].zero_point, zy = m->values[op->out].zero_point;
  CHUNKS(in_count(e, op, n), q8_sq8_add(x + a, b + a, len, za, zb, zy, op->attr[A_ADD_M_A], op->attr[A_ADD_M_B],
                                        op->attr[A_ADD_SHIFT], op->qmin, op->qmax, y + a));
}

/* MUL: b is a's shape, or (C, 1, 1): one value per channel plane of each image */
static void run_mul(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Model *m = e->m;
  const Value *va = &m->values[op->in[0]], *vb = &m->values[op->in[1]];
  const int8_t *x = engine_val(e, op->in[0]), *b = engine_val(e, op->in[1]);
  int8_t *y = engine_val(e, op->out);
  int32_t za = va->zero_point, zb = vb->zero_point, zy = m->values[op->out].zero_point;
  int32_t mm = op->attr[A_MUL_M], sh = op->attr[A_MUL_SHIFT];
  if (value_elems(vb) == value_elems(va)) {
    CHUNKS(in_count(e, op, n), q8_sq8_mul(x + a, b + a, len, 1, za, zb, zy, mm, sh, op->qmin, op->qmax, y + a));
    return;
  }
  size_t HW = (size_t)va->h * va->w;
  long planes = (long)n * va->c;
#pragma omp parallel for schedule(static)
  for (long q = 0; q < planes; q++)
    q8_sq8_mul(x + (size_t)q * HW, b + q, HW, 0, za, zb, zy, mm, sh, op->qmin, op->qmax, y + (size_t)q * HW);
}

static void run_concat(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Model *m = e->m;
  const Value *yv = &m->values[op->out];
  int8_t *y = engine_val(e, op->out);
  size_t ye = value_elems(yv);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; i++) {
    size_t off = 0;
    for (uint32_t k = 0; k < op->n_in; k++) {
      const Value *kv = &m->values[op->in[k]];
      size_t ke = value_elems(kv);
      const int8_t *src = (const int8_t *)engine_val(e, op->in[k]) + (size_t)i * ke;
      q8_sq8_requant_copy(src, ke, kv->zero_point, yv->zero_point, op->attr[A_CONCAT_M(k)], op->attr[A_CONCAT_SHIFT(k)],
                          y + (size_t)i * ye + off);
      off += ke;
    }
  }
}

static void run_flatten(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  memcpy(engine_val(e, op->out), engine_val(e, op->in[0]), in_count(e, op, n));
}

/* ACT: relu / relu6 clamp to qmin/qmax; sigmoid .. hardsigmoid read the op's 256-entry table */
static void run_act(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const int8_t *x = engine_val(e, op->in[0]);
  int8_t *y = engine_val(e, op->out);
  if (op->act > ACT_RELU6) {
    const int8_t *lut = op_param(e->m, op, P_SQ8_ACT_LUT)->data;
    CHUNKS(in_count(e, op, n), q8_sq8_lut(x + a, len, lut, y + a));
  } else
    CHUNKS(in_count(e, op, n), q8_sq8_clamp(x + a, len, op->qmin, op->qmax, y + a));
}

/* pools: one task per (image, channel) */
static void run_pool(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Model *m = e->m;
  const Value *xv = &m->values[op->in[0]], *yv = &m->values[op->out];
  const int8_t *x = engine_val(e, op->in[0]);
  int8_t *y = engine_val(e, op->out);
  int H = (int)xv->h, W = (int)xv->w, OH = (int)yv->h, OW = (int)yv->w;
  int32_t zx = xv->zero_point;
  Q8Pool pool = pool_of(op);
  long tasks = (long)n * xv->c;
#pragma omp parallel for schedule(static)
  for (long t = 0; t < tasks; t++) {
    const int8_t *xs = x + (size_t)t * H * W;
    int8_t *ys = y + (size_t)t * OH * OW;
    switch (op->type) {
    case OP_MAXPOOL2D: q8_sq8_maxpool(xs, 1, H, W, &pool, OH, OW, ys); break;
    case OP_AVGPOOL2D: q8_sq8_avgpool(xs, 1, H, W, &pool, OH, OW, zx, ys); break;
    case OP_ADAPTIVE_AVGPOOL2D: q8_sq8_adaptive_avgpool(xs, 1, H, W, OH, OW, zx, ys); break;
    default: q8_sq8_adaptive_maxpool(xs, 1, H, W, OH, OW, ys); break;
    }
  }
}

/* ---------------------------------------------------------------- the tables */

const OpImpl dq8_gemm_op = {build_gemm, run_gemm_op};

const OpImpl sq8_ops[OP_COUNT] = {
    [OP_CONV2D] = {build_gemm, run_gemm_op},
    [OP_LINEAR] = {build_gemm, run_gemm_op},
    [OP_ADD] = {NULL, run_add},
    [OP_CONCAT] = {NULL, run_concat},
    [OP_MAXPOOL2D] = {NULL, run_pool},
    [OP_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_MAXPOOL2D] = {NULL, run_pool},
    [OP_FLATTEN] = {NULL, run_flatten},
    [OP_ACT] = {NULL, run_act},
    [OP_QUANTIZE] = {NULL, run_quantize},
    [OP_DEQUANTIZE] = {NULL, run_dequantize},
    [OP_MUL] = {NULL, run_mul},
};
