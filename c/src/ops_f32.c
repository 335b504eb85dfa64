/* ops_f32.c: the float32 op table (the f32 kind, and every op of dq8 but its GEMMs).
 *
 * Convolutions are GEMMs: packed weights (O x K, in panels of the GEMM descriptor's MR rows, packed
 * by its own packer) times an im2col matrix packed in panels of NR columns, where the columns are
 * the output pixels of all images of the batch (K x BS*OH*OW), so the images share one GEMM. A
 * convolution with one input channel per group (depthwise) is a direct kernel. LINEAR is a 1x1
 * convolution on a 1x1 image. Every output element is computed by one thread with one sum in a
 * fixed order, so the results depend neither on the thread count nor on the batch size. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "engine_impl.h"
#include "pool.h"
#include "util.h"

#define ECHUNK 16384 /* elementwise ops: elements per task */

/* ---------------------------------------------------------------- CONV2D, LINEAR */

static int build_conv(Engine *e, const Op *op, OpState *s) {
  const Param *wp = op_param(e->m, op, P_F32_WEIGHT), *bp = op_param(e->m, op, P_F32_BIAS);
  if (s->depthwise) return 0;
  const F32GemmDesc *d = e->kf->gemm;
  size_t MR = (size_t)d->mr, P = rt_cdiv((size_t)s->M, MR);
  size_t alen = rt_mul_sat(rt_mul_sat((size_t)s->groups, P * MR), (size_t)s->K);
  if (alen == SIZE_MAX || !(s->apack = rt_alloc64(alen * sizeof(float)))) return -1;
  if (!(s->bias = rt_alloc64((size_t)s->groups * P * MR * sizeof(float)))) return -1;
  const float *w = wp->data, *b = bp ? bp->data : NULL;
  for (int g = 0; g < s->groups; g++) {
    d->pack_a(w + (size_t)g * s->M * s->K, (size_t)s->M, (size_t)s->K, d->mr, s->apack + (size_t)g * P * MR * s->K);
    for (size_t r = 0; r < P * MR; r++) s->bias[(size_t)g * P * MR + r] = (b && r < (size_t)s->M) ? b[(size_t)g * s->M + r] : 0.0f;
  }
  size_t N = rt_mul_sat((size_t)e->batch, (size_t)s->OH * s->OW);
  engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat(rt_mul_sat(rt_cdiv(N, (size_t)d->nr), (size_t)d->nr), (size_t)s->K), sizeof(float)));
  return 0;
}

/* im2col of one packed panel: bp[t][kk][j] for column t*NR + j of the K x N matrix (N = n*OH*OW,
   column = image * OH*OW + pixel), channels c0.. of the input; zero for padding and for j >= N. */
static void pack_tile(const OpState *s, int nr_, const float *in, int n, int c0, size_t t, float *bp) {
  const size_t NR = (size_t)nr_;
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, N = (size_t)n * OHW;
  size_t K = (size_t)s->K, img = (size_t)s->C * HW;
  int cg = s->C / s->groups;
  int direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0;
  {
    float *dst = bp + t * K * NR;
    size_t j0 = t * NR;
    if (direct && j0 + NR <= N && j0 / OHW == (j0 + NR - 1) / OHW) {
      const float *src = in + (j0 / OHW) * img + (size_t)c0 * HW + j0 % OHW;
      if (NR == 16) /* the common tiles as constant-size copies (inlined), not memcpy calls */
        for (size_t kk = 0; kk < K; kk++) memcpy(dst + kk * 16, src + kk * HW, 16 * sizeof(float));
      else if (NR == 8)
        for (size_t kk = 0; kk < K; kk++) memcpy(dst + kk * 8, src + kk * HW, 8 * sizeof(float));
      else
        for (size_t kk = 0; kk < K; kk++) memcpy(dst + kk * NR, src + kk * HW, NR * sizeof(float));
      return;
    }
    /* split the tile into runs of columns on one output row of one image; per (ci, ky, kx) a run
       reads one input row at stride sw: a memcpy when it lies inside the row, else checked */
    const float *rbase[F32_MAX_NR];
    long riy[F32_MAX_NR], rix[F32_MAX_NR];
    int rj[F32_MAX_NR], rlen[F32_MAX_NR], nr = 0, cols = N - j0 < NR ? (int)(N - j0) : (int)NR;
    for (int j = 0; j < cols;) {
      size_t col = j0 + (size_t)j, p = col % OHW, oy = p / s->OW, ox = p % s->OW;
      int len = s->OW - (int)ox < cols - j ? s->OW - (int)ox : cols - j;
      rbase[nr] = in + (col / OHW) * img + (size_t)c0 * HW;
      riy[nr] = (long)oy * s->sh - s->ph, rix[nr] = (long)ox * s->sw - s->pw, rj[nr] = j, rlen[nr] = len;
      nr++, j += len;
    }
    size_t kk = 0;
    for (int ci = 0; ci < cg; ci++)
      for (int ky = 0; ky < s->kh; ky++)
        for (int kx = 0; kx < s->kw; kx++, kk++) {
          float *d = dst + kk * NR;
          for (int r = 0; r < nr; r++) {
            float *dr = d + rj[r];
            long iy = riy[r] + (long)ky * s->dh, ix = rix[r] + (long)kx * s->dw;
            if (iy < 0 || iy >= s->H) {
              memset(dr, 0, (size_t)rlen[r] * sizeof(float));
              continue;
            }
            const float *row = rbase[r] + (size_t)ci * HW + (size_t)iy * s->W;
            if (s->sw == 1 && ix >= 0 && ix + rlen[r] <= s->W) {
              memcpy(dr, row + ix, (size_t)rlen[r] * sizeof(float));
              continue;
            }
            for (int j = 0; j < rlen[r]; j++, ix += s->sw) dr[j] = (ix >= 0 && ix < s->W) ? row[ix] : 0.0f;
          }
          if ((size_t)cols < NR) memset(d + cols, 0, (NR - (size_t)cols) * sizeof(float));
        }
  }
}

/* C = act(A·B + bias) for row panels [p0, p1) x column tiles [t0, t1) of one group (see gemm_group) */
static void gemm_block(const Engine *e, const OpState *s, int g, int n, float *out, uint32_t act, size_t p0,
                       size_t p1, size_t t0, size_t t1) {
  size_t OHW = (size_t)s->OH * s->OW, N = (size_t)n * OHW, K = (size_t)s->K;
  const size_t MR = (size_t)e->kf->gemm->mr, NR = (size_t)e->kf->gemm->nr;
  size_t P = rt_cdiv((size_t)s->M, MR), img = (size_t)s->O * OHW;
  const float *ap = s->apack + (size_t)g * P * MR * K, *bias = s->bias + (size_t)g * P * MR;
  f32_gemm_fn gemm = e->kf->gemm->gemm;
  float tmp[F32_MAX_MR * F32_MAX_NR];
  for (size_t p = p0; p < p1; p++) {
    size_t r0 = p * MR, rows = (size_t)s->M - r0 < MR ? (size_t)s->M - r0 : MR;
    for (size_t t = t0; t < t1; t++) {
      size_t j0 = t * NR, cols = N - j0 < NR ? N - j0 : NR;
      const float *a = ap + p * K * MR, *b = (const float *)e->scratch[SCRATCH_0] + t * K * NR;
      if (rows == MR && cols == NR && j0 / OHW == (j0 + NR - 1) / OHW) {
        float *c = out + (j0 / OHW) * img + ((size_t)g * s->M + r0) * OHW + j0 % OHW;
        gemm(K, a, b, c, OHW, bias + r0, (int)act);
        continue;
      }
      gemm(K, a, b, tmp, NR, bias + r0, (int)act);
      for (size_t j = 0; j < cols; j++) {
        size_t col = j0 + j;
        float *c = out + (col / OHW) * img + ((size_t)g * s->M + r0) * OHW + col % OHW;
        for (size_t r = 0; r < rows; r++) c[r * OHW] = tmp[r * NR + j];
      }
    }
  }
}

/* one group's GEMM over threads (gemm_group): its arguments and its split */
typedef struct {
  const Engine *e;
  const OpState *s;
  const float *in;
  float *out;
  int g, n, c0;
  uint32_t act;
  size_t T, P, TB, PB, nbp; /* column tiles, row panels, tiles per block, panels per item, items per block */
} GemmJob;

static void pack_tiles(void *arg, long t0, long t1) {
  const GemmJob *j = arg;
  for (long t = t0; t < t1; t++) pack_tile(j->s, j->e->kf->gemm->nr, j->in, j->n, j->c0, (size_t)t, j->e->scratch[SCRATCH_0]);
}

/* a thread's contiguous range of column tiles: block by block of TB, pack them, then every panel */
static void tiles_all_panels(void *arg, long tb, long tz) {
  const GemmJob *j = arg;
  for (size_t t0 = (size_t)tb; t0 < (size_t)tz; t0 += j->TB) {
    size_t t1 = t0 + j->TB < (size_t)tz ? t0 + j->TB : (size_t)tz;
    pack_tiles(arg, (long)t0, (long)t1);
    gemm_block(j->e, j->s, j->g, j->n, j->out, j->act, 0, j->P, t0, t1);
  }
}

/* item it: tile block it / nbp times panel block it % nbp (B packed before) */
static void gemm_item(void *arg, long it, long end) {
  (void)end;
  const GemmJob *j = arg;
  size_t tb = (size_t)it / j->nbp, pb = (size_t)it % j->nbp, P = j->P, T = j->T;
  size_t p1 = (pb + 1) * j->PB < P ? (pb + 1) * j->PB : P, t1 = (tb + 1) * j->TB < T ? (tb + 1) * j->TB : T;
  gemm_block(j->e, j->s, j->g, j->n, j->out, j->act, pb * j->PB, p1, tb * j->TB, t1);
}

/* out[img][g*M + o][pix] = act(A·B + bias) for one group, all n images. With enough column tiles,
   each thread takes a contiguous range of them (ceil or floor of T/threads) and, block by block of
   TB tiles, packs them and multiplies every row panel by them while they are in its cache; so each
   thread also computes the same share of the pixels in every layer and mostly reads (im2col) what it
   wrote itself, which matters when the cores share no cache (on the 2-vCPU dev VM, at times: ResNet18
   at 2 threads ~50 -> ~42 ms/image then). With few tiles, all are packed first and the items are
   blocks of tiles times ranges of row panels. */
static void gemm_group(const Engine *e, const OpState *s, const float *in, int g, int n, float *out, uint32_t act) {
  GemmJob j = {e, s, in, out, g, n, g * (s->C / s->groups), act, 0, 0, 8, 0, 0};
  size_t N = (size_t)n * s->OH * s->OW;
  j.T = rt_cdiv(N, (size_t)e->kf->gemm->nr), j.P = rt_cdiv((size_t)s->M, (size_t)e->kf->gemm->mr);
  size_t nbt = rt_cdiv(j.T, j.TB), threads = (size_t)pool_threads(); /* TB: 8 x NR columns of B stay in cache */
  j.PB = j.P;
  while (j.PB > 1 && nbt * rt_cdiv(j.P, j.PB) < threads * 4) j.PB = rt_cdiv(j.PB, 2);
  j.nbp = rt_cdiv(j.P, j.PB);
  if (j.nbp == 1) {
    pool_for((long)j.T, tiles_all_panels, &j);
    return;
  }
  pool_for((long)j.T, pack_tiles, &j);
  pool_for_dyn((long)(nbt * j.nbp), gemm_item, &j);
}

typedef struct {
  const OpState *s;
  const float *x, *w, *b;
  float *y;
  const F32DwShape *sh;
  f32_dwconv_fn dw;
} DwJob;

static void dw_planes(void *arg, long q0, long q1) {
  const DwJob *j = arg;
  const OpState *s = j->s;
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, mult = (size_t)(s->O / s->groups);
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    size_t img = q / s->O, o = q % s->O;
    j->dw(j->x + (img * s->C + o / mult) * HW, j->w + o * (size_t)s->kh * s->kw, j->b ? j->b[o] : 0.0f, j->y + q * OHW, j->sh);
  }
}

static void conv_dw(const Engine *e, const Op *op, const OpState *s, const float *x, float *y, int n) {
  const Param *wp = op_param(e->m, op, P_F32_WEIGHT), *bp = op_param(e->m, op, P_F32_BIAS);
  F32DwShape sh = {s->H, s->W, s->OH, s->OW, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, (int)op->act};
  DwJob j = {s, x, wp->data, bp ? bp->data : NULL, y, &sh, e->kf->dw->dwconv};
  pool_for((long)n * s->O, dw_planes, &j);
}

static void run_conv(Engine *e, const Op *op, const OpState *s, int n) {
  const float *x = engine_val(e, op->in[0]);
  float *y = engine_val(e, op->out);
  if (s->depthwise) {
    conv_dw(e, op, s, x, y, n);
    return;
  }
  for (int g = 0; g < s->groups; g++) gemm_group(e, s, x, g, n, y, op->act);
}

/* ---------------------------------------------------------------- elementwise */

/* an elementwise op's arguments (EwJob) and its pieces over threads */
typedef struct {
  const float *a, *b;
  float *y;
  size_t count, HW; /* elements (ECHUNK pieces); MUL: plane size */
  int bcast, act;   /* MUL: b has one value per plane; the activation */
  f32_act_fn f;
} EwJob;

static void act_chunks(void *arg, long t0, long t1) {
  const EwJob *j = arg;
  for (size_t a = (size_t)t0 * ECHUNK; a < (size_t)t1 * ECHUNK && a < j->count; a += ECHUNK)
    j->f(j->y + a, j->count - a < ECHUNK ? j->count - a : ECHUNK, j->act);
}

/* the activation over the whole output of an op, in chunks over threads */
static void act_all(const Engine *e, float *y, size_t count, uint32_t act) {
  if (act == ACT_NONE) return;
  EwJob j = {NULL, NULL, y, count, 0, 0, (int)act, e->kf->act};
  pool_for((long)rt_cdiv(count, ECHUNK), act_chunks, &j);
}

static size_t out_count(const Engine *e, const Op *op, int n) { return (size_t)n * value_elems(&e->m->values[op->out]); }

/* add, then the activation while the chunk is in cache */
static void add_chunks(void *arg, long t0, long t1) {
  const EwJob *j = arg;
  for (size_t k0 = (size_t)t0 * ECHUNK; k0 < (size_t)t1 * ECHUNK && k0 < j->count; k0 += ECHUNK) {
    size_t k1 = j->count - k0 < ECHUNK ? j->count : k0 + ECHUNK;
    for (size_t k = k0; k < k1; k++) j->y[k] = j->a[k] + j->b[k];
    j->f(j->y + k0, k1 - k0, j->act);
  }
}

static void run_add(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  size_t count = out_count(e, op, n);
  EwJob j = {engine_val(e, op->in[0]), engine_val(e, op->in[1]), engine_val(e, op->out), count, 0, 0, (int)op->act, e->kf->act};
  pool_for((long)rt_cdiv(count, ECHUNK), add_chunks, &j);
}

/* one channel plane of one image per step */
static void mul_planes(void *arg, long q0, long q1) {
  const EwJob *j = arg;
  size_t HW = j->HW;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *ap = j->a + q * HW, *bp = j->bcast ? j->b + q : j->b + q * HW;
    float *yp = j->y + q * HW;
    if (j->bcast)
      for (size_t k = 0; k < HW; k++) yp[k] = ap[k] * bp[0];
    else
      for (size_t k = 0; k < HW; k++) yp[k] = ap[k] * bp[k];
    j->f(yp, HW, j->act);
  }
}

/* MUL: b is a's shape, or (C, 1, 1): one value per channel of each image */
static void run_mul(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Value *va = &e->m->values[op->in[0]], *vb = &e->m->values[op->in[1]];
  EwJob j = {engine_val(e, op->in[0]), engine_val(e, op->in[1]), engine_val(e, op->out), 0, (size_t)va->h * va->w,
             value_elems(vb) != value_elems(va), (int)op->act, e->kf->act};
  pool_for((long)n * va->c, mul_planes, &j);
}

static void run_concat(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Value *vy = &e->m->values[op->out];
  float *y = engine_val(e, op->out);
  size_t HW = (size_t)vy->h * vy->w, off = 0;
  for (uint32_t k = 0; k < op->n_in; k++) {
    const float *xk = engine_val(e, op->in[k]);
    size_t len = (size_t)e->m->values[op->in[k]].c * HW;
    for (int img = 0; img < n; img++)
      memcpy(y + (size_t)img * value_elems(vy) + off, xk + (size_t)img * len, len * sizeof(float));
    off += len;
  }
  act_all(e, y, out_count(e, op, n), op->act);
}

static void run_copy_act(Engine *e, const Op *op, const OpState *s, int n) {   /* FLATTEN, ACT */
  (void)s;
  float *y = engine_val(e, op->out);
  size_t count = out_count(e, op, n);
  memcpy(y, engine_val(e, op->in[0]), count * sizeof(float));
  act_all(e, y, count, op->act);
}

/* ---------------------------------------------------------------- pools */

/* a pool op's arguments; each function below computes the channel planes [q0, q1) of the batch */
typedef struct {
  const Op *op;
  const Value *vx, *vy;
  const float *x;
  float *y;
} PoolJob;

/* PyTorch's max pool: padding never chosen, NaN propagates; an empty window gives -inf */
static void maxpool(void *arg, long q0, long q1) {
  const PoolJob *j = arg;
  const Op *op = j->op;
  const Value *vx = j->vx, *vy = j->vy;
  const float *x = j->x;
  float *y = j->y;
  int kh = op->attr[0], kw = op->attr[1], sh = op->attr[2], sw = op->attr[3], ph = op->attr[4], pw = op->attr[5];
  int dh = op->attr[6], dw = op->attr[7], H = (int)vx->h, W = (int)vx->w, OH = (int)vy->h, OW = (int)vy->w;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *xp = x + q * H * W;
    float *yp = y + q * OH * OW;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        float mx = -INFINITY;
        int nan = 0;
        long iy0 = (long)oy * sh - ph, ix0 = (long)ox * sw - pw;
        /* the window's taps inside the input: k in [lo, hi) */
        long ylo = iy0 < 0 ? (dh == 1 ? -iy0 : (-iy0 + dh - 1) / dh) : 0;
        long yhi = iy0 > H - 1 ? 0 : (dh == 1 ? H - iy0 : (H - 1 - iy0) / dh + 1);
        long xlo = ix0 < 0 ? (dw == 1 ? -ix0 : (-ix0 + dw - 1) / dw) : 0;
        long xhi = ix0 > W - 1 ? 0 : (dw == 1 ? W - ix0 : (W - 1 - ix0) / dw + 1);
        if (yhi > kh) yhi = kh;
        if (xhi > kw) xhi = kw;
        for (long ky = ylo; ky < yhi; ky++) {
          const float *row = xp + (iy0 + ky * dh) * W;
          for (long kx = xlo; kx < xhi; kx++) {
            float v = row[ix0 + kx * dw];
            mx = v > mx ? v : mx; /* branch-free (maxss); NaN tracked apart */
            nan |= v != v;
          }
        }
        if (nan) mx = NAN;
        yp[oy * OW + ox] = mx;
      }
  }
}

/* PyTorch's avg pool: the window is clipped to the padded input for count_include_pad, to the
   input for the sum and otherwise; divisor_override wins */
static void avgpool(void *arg, long q0, long q1) {
  const PoolJob *j = arg;
  const Op *op = j->op;
  const Value *vx = j->vx, *vy = j->vy;
  const float *x = j->x;
  float *y = j->y;
  int kh = op->attr[0], kw = op->attr[1], sh = op->attr[2], sw = op->attr[3], ph = op->attr[4], pw = op->attr[5];
  int cip = op->attr[7], dov = op->attr[8], H = (int)vx->h, W = (int)vx->w, OH = (int)vy->h, OW = (int)vy->w;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *xp = x + q * H * W;
    float *yp = y + q * OH * OW;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        long hs = (long)oy * sh - ph, ws = (long)ox * sw - pw;
        long he = hs + kh < (long)H + ph ? hs + kh : (long)H + ph, we = ws + kw < (long)W + pw ? ws + kw : (long)W + pw;
        long pool = (he - hs) * (we - ws);
        if (hs < 0) hs = 0;
        if (ws < 0) ws = 0;
        if (he > H) he = H;
        if (we > W) we = W;
        float sum = 0.0f;
        for (long iy = hs; iy < he; iy++)
          for (long ix = ws; ix < we; ix++) sum += xp[iy * W + ix];
        long div = dov ? dov : cip ? pool : (he - hs) * (we - ws);
        yp[oy * OW + ox] = div > 0 ? sum / (float)div : 0.0f;
      }
  }
}

static void adaptive(void *arg, long q0, long q1) {
  const PoolJob *j = arg;
  const Value *vx = j->vx, *vy = j->vy;
  const float *x = j->x;
  float *y = j->y;
  int is_max = j->op->type == OP_ADAPTIVE_MAXPOOL2D;
  long H = vx->h, W = vx->w, OH = vy->h, OW = vy->w;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *xp = x + q * H * W;
    float *yp = y + q * OH * OW;
    for (long oy = 0; oy < OH; oy++)
      for (long ox = 0; ox < OW; ox++) {
        long hs = oy * H / OH, he = ((oy + 1) * H + OH - 1) / OH;
        long ws = ox * W / OW, we = ((ox + 1) * W + OW - 1) / OW;
        float acc = is_max ? -INFINITY : 0.0f;
        for (long iy = hs; iy < he; iy++)
          for (long ix = ws; ix < we; ix++) {
            float v = xp[iy * W + ix];
            if (is_max) {
              if (v > acc || isnan(v)) acc = v;
            } else
              acc += v;
          }
        yp[oy * OW + ox] = is_max ? acc : acc / (float)((he - hs) * (we - ws));
      }
  }
}

static void run_pool(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Value *vx = &e->m->values[op->in[0]], *vy = &e->m->values[op->out];
  const float *x = engine_val(e, op->in[0]);
  float *y = engine_val(e, op->out);
  PoolJob j = {op, vx, vy, x, y};
  pool_for((long)n * vx->c, op->type == OP_MAXPOOL2D ? maxpool : op->type == OP_AVGPOOL2D ? avgpool : adaptive, &j);
  act_all(e, y, out_count(e, op, n), op->act);
}

/* ---------------------------------------------------------------- the table */

const OpImpl f32_ops[OP_COUNT] = {
    [OP_CONV2D] = {build_conv, run_conv},
    [OP_LINEAR] = {build_conv, run_conv},
    [OP_ADD] = {NULL, run_add},
    [OP_CONCAT] = {NULL, run_concat},
    [OP_MAXPOOL2D] = {NULL, run_pool},
    [OP_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_MAXPOOL2D] = {NULL, run_pool},
    [OP_FLATTEN] = {NULL, run_copy_act},
    [OP_ACT] = {NULL, run_copy_act},
    [OP_MUL] = {NULL, run_mul},
};
