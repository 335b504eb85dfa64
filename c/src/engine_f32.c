/* engine_f32.c: the float32 forward pass (the `run` binary).
 *
 * Sections: kernel table, build (per-op state, packed weights, memory plan), operations, forward.
 * Convolutions are GEMMs: packed weights (O x K, in panels of F32_MR rows) times an im2col matrix
 * packed in panels of F32_NR columns, where the columns are the output pixels of all images of the
 * batch (K x BS*OH*OW), so the images share one GEMM. A convolution with one input channel per group
 * (depthwise) is a direct kernel. LINEAR is a 1x1 convolution on a 1x1 image. Every output element is
 * computed by one thread with one sum in a fixed order, so the results depend neither on the thread
 * count nor on the batch size. The forward pass never allocates. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"
#include "engine.h"
#include "kernels_f32.h"
#include "plan.h"
#include "util.h"

const char *ENGINE_BINARY = "run";

int engine_supports(uint32_t kind) { return kind == KIND_F32; }

/* ---------------------------------------------------------------- kernel table */

static const F32Kernels k_ref = {"ref", "f32_gemm_6x16__ref", f32_gemm_6x16__ref, "f32_dwconv__ref", f32_dwconv__ref};
#if defined(__x86_64__)
static const F32Kernels k_avx2 = {"avx2", "f32_gemm_6x16__avx2", f32_gemm_6x16__avx2, "f32_dwconv__avx2",
                                  f32_dwconv__avx2};
#endif
static const F32Kernels *k_forced;

const F32Kernels *f32_kernels_for(const char *isa) {
  if (strcmp(isa, "ref") == 0) return &k_ref;
#if defined(__x86_64__)
  if (strcmp(isa, "avx2") == 0 && cpu_info()->avx2) return &k_avx2;
#endif
  return NULL;
}

void f32_kernels_force(const F32Kernels *k) { k_forced = k; }

const F32Kernels *f32_kernels(void) {
  static const F32Kernels *chosen;
  if (k_forced) return k_forced;
  if (!chosen) {
    chosen = &k_ref;
#if defined(__x86_64__)
    if (cpu_use("avx2")) chosen = &k_avx2;
#endif
  }
  return chosen;
}

/* ---------------------------------------------------------------- engine state */

enum { EX_GEMM = 1, EX_DW, EX_OTHER };

typedef struct {
  int exec;           /* EX_* */
  int groups, M, K;   /* GEMM per group: M = out channels per group, K = reduction length */
  float *apack;       /* groups x ceil(M/MR) panels x K x MR, zero padded */
  float *bias;        /* groups x ceil(M/MR)*MR (zeros when the op has no bias) */
  /* convolution geometry (LINEAR: a 1x1 conv on a 1x1 image) */
  int C, H, W, O, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
} OpState;

struct Engine {
  const Model *m;
  int batch;
  const F32Kernels *k;
  OpState *st;
  size_t *offs;       /* byte offset of each value in the arena */
  float *arena;
  float *bpack;       /* packed im2col panels, the largest any op needs */
  size_t bpack_elems;
};





void engine_free(Engine *e) {
  if (!e) return;
  if (e->st)
    for (uint32_t i = 0; i < e->m->n_ops; i++) free(e->st[i].apack), free(e->st[i].bias);
  free(e->st);
  free(e->offs);
  free(e->arena);
  free(e->bpack);
  free(e);
}

/* pack the weights of one group into panels of MR rows: ap[p][kk][r] = W[g*M + p*MR + r][kk] */
static void pack_a(const float *w, int M, int K, int g, float *ap) {
  size_t P = rt_cdiv((size_t)M, F32_MR);
  for (size_t p = 0; p < P; p++)
    for (size_t kk = 0; kk < (size_t)K; kk++)
      for (int r = 0; r < F32_MR; r++) {
        size_t row = p * F32_MR + (size_t)r;
        ap[(p * (size_t)K + kk) * F32_MR + (size_t)r] = row < (size_t)M ? w[((size_t)g * M + row) * K + kk] : 0.0f;
      }
}

Engine *engine_build(const Model *m, int batch, char *err, size_t errlen) {
  if (batch < 1) { rt_fail(err, errlen, "batch size %d must be >= 1", batch); return NULL; }
  if (!engine_supports(m->kind)) {
    rt_fail(err, errlen, "this is a %s model; use runq", kind_name(m->kind));
    return NULL;
  }
  Engine *e = calloc(1, sizeof *e);
  if (!e) { rt_fail(err, errlen, "out of memory"); return NULL; }
  e->m = m, e->batch = batch, e->k = f32_kernels();
  e->st = calloc(m->n_ops, sizeof *e->st);
  e->offs = calloc(m->n_values, sizeof *e->offs);
  if (!e->st || !e->offs) goto oom;

  size_t bmax = 0;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    OpState *s = &e->st[i];
    const Value *x = &m->values[op->in[0]], *y = &m->values[op->out];
    s->exec = EX_OTHER;
    if (op->type != OP_CONV2D && op->type != OP_LINEAR) continue;
    const Param *wp = op_param(m, op, 0), *bp = op_param(m, op, 1);
    if (op->type == OP_CONV2D) {
      s->C = (int)x->c, s->H = (int)x->h, s->W = (int)x->w, s->O = (int)y->c, s->OH = (int)y->h, s->OW = (int)y->w;
      s->kh = op->attr[2], s->kw = op->attr[3], s->sh = op->attr[4], s->sw = op->attr[5];
      s->ph = op->attr[6], s->pw = op->attr[7], s->dh = op->attr[8], s->dw = op->attr[9], s->groups = op->attr[10];
    } else {
      s->C = (int)x->c, s->H = s->W = 1, s->O = (int)y->c, s->OH = s->OW = 1;
      s->kh = s->kw = s->sh = s->sw = s->dh = s->dw = 1, s->ph = s->pw = 0, s->groups = 1;
    }
    s->M = s->O / s->groups;
    s->K = s->C / s->groups * s->kh * s->kw;
    if (s->C / s->groups == 1 && s->groups > 1) { /* depthwise (with any channel multiplier) */
      s->exec = EX_DW;
      continue;
    }
    s->exec = EX_GEMM;
    size_t P = rt_cdiv((size_t)s->M, F32_MR);
    size_t alen = rt_mul_sat(rt_mul_sat((size_t)s->groups, P * F32_MR), (size_t)s->K);
    if (alen == SIZE_MAX || !(s->apack = rt_alloc64(alen * sizeof(float)))) goto oom;
    if (!(s->bias = rt_alloc64((size_t)s->groups * P * F32_MR * sizeof(float)))) goto oom;
    for (int g = 0; g < s->groups; g++) {
      pack_a(wp->data, s->M, s->K, g, s->apack + (size_t)g * P * F32_MR * s->K);
      for (size_t r = 0; r < P * F32_MR; r++)
        s->bias[(size_t)g * P * F32_MR + r] =
            (bp && r < (size_t)s->M) ? ((const float *)bp->data)[(size_t)g * s->M + r] : 0.0f;
    }
    size_t N = rt_mul_sat((size_t)batch, (size_t)s->OH * s->OW);
    size_t need = rt_mul_sat(rt_mul_sat(rt_cdiv(N, F32_NR), F32_NR), (size_t)s->K);
    if (need > bmax) bmax = need;
  }
  e->bpack_elems = bmax;
  if (bmax && (bmax == SIZE_MAX || !(e->bpack = rt_alloc64(rt_mul_sat(bmax, sizeof(float)))))) goto oom;

  /* the input (value 0) is read where the caller keeps it: no bytes in the arena */
  if (!(e->arena = plan_arena(m, batch, e->offs))) goto oom;
  return e;
oom:
  engine_free(e);
  rt_fail(err, errlen, "out of memory building the engine (batch %d)", batch);
  return NULL;
}

/* ---------------------------------------------------------------- operations */

static inline float act1(float y, uint32_t act) {
  if (act == ACT_RELU || act == ACT_RELU6) y = y > 0.0f ? y : 0.0f;
  if (act == ACT_RELU6) y = y < 6.0f ? y : 6.0f;
  return y;
}

/* im2col of one packed panel: bp[t][kk][j] for column t*NR + j of the K x N matrix (N = n*OH*OW,
   column = image * OH*OW + pixel), channels c0.. of the input; zero for padding and for j >= N. */
static void pack_tile(const OpState *s, const float *in, int n, int c0, size_t t, float *bp) {
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, N = (size_t)n * OHW;
  size_t K = (size_t)s->K, img = (size_t)s->C * HW;
  int cg = s->C / s->groups;
  int direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0;
  {
    float *dst = bp + t * K * F32_NR;
    size_t j0 = t * F32_NR;
    if (direct && j0 + F32_NR <= N && j0 / OHW == (j0 + F32_NR - 1) / OHW) {
      const float *src = in + (j0 / OHW) * img + (size_t)c0 * HW + j0 % OHW;
      for (size_t kk = 0; kk < K; kk++) memcpy(dst + kk * F32_NR, src + kk * HW, F32_NR * sizeof(float));
      return;
    }
    /* split the tile into runs of columns on one output row of one image; per (ci, ky, kx) a run
       reads one input row at stride sw: a memcpy when it lies inside the row, else checked */
    const float *rbase[F32_NR];
    long riy[F32_NR], rix[F32_NR];
    int rj[F32_NR], rlen[F32_NR], nr = 0, cols = N - j0 < F32_NR ? (int)(N - j0) : F32_NR;
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
          float *d = dst + kk * F32_NR;
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
          if (cols < F32_NR) memset(d + cols, 0, (size_t)(F32_NR - cols) * sizeof(float));
        }
  }
}

/* C = act(A·B + bias) for row panels [p0, p1) x column tiles [t0, t1) of one group (see gemm_group) */
static void gemm_block(const Engine *e, const OpState *s, int g, int n, float *out, uint32_t act, size_t p0,
                       size_t p1, size_t t0, size_t t1) {
  size_t OHW = (size_t)s->OH * s->OW, N = (size_t)n * OHW, K = (size_t)s->K;
  size_t P = rt_cdiv((size_t)s->M, F32_MR), img = (size_t)s->O * OHW;
  const float *ap = s->apack + (size_t)g * P * F32_MR * K, *bias = s->bias + (size_t)g * P * F32_MR;
  f32_gemm_fn gemm = e->k->gemm;
  float tmp[F32_MR * F32_NR];
  for (size_t p = p0; p < p1; p++) {
    size_t r0 = p * F32_MR, rows = (size_t)s->M - r0 < F32_MR ? (size_t)s->M - r0 : F32_MR;
    for (size_t t = t0; t < t1; t++) {
      size_t j0 = t * F32_NR, cols = N - j0 < F32_NR ? N - j0 : F32_NR;
      const float *a = ap + p * K * F32_MR, *b = e->bpack + t * K * F32_NR;
      if (rows == F32_MR && cols == F32_NR && j0 / OHW == (j0 + F32_NR - 1) / OHW) {
        float *c = out + (j0 / OHW) * img + ((size_t)g * s->M + r0) * OHW + j0 % OHW;
        gemm(K, a, b, c, OHW, bias + r0, (int)act);
        continue;
      }
      gemm(K, a, b, tmp, F32_NR, bias + r0, (int)act);
      for (size_t j = 0; j < cols; j++) {
        size_t col = j0 + j;
        float *c = out + (col / OHW) * img + ((size_t)g * s->M + r0) * OHW + col % OHW;
        for (size_t r = 0; r < rows; r++) c[r * OHW] = tmp[r * F32_NR + j];
      }
    }
  }
}

/* out[img][g*M + o][pix] = act(A·B + bias) for one group, all n images. With enough column tiles,
   each thread takes a contiguous range of them (ceil or floor of T/threads) and, block by block of
   TB tiles, packs them and multiplies every row panel by them while they are in its cache; so each
   thread also computes the same share of the pixels in every layer and mostly reads (im2col) what it
   wrote itself, which matters when the cores share no cache (on the 2-vCPU dev VM, at times: ResNet18
   at 2 threads ~50 -> ~42 ms/image then). With few tiles, all are packed first and the items are
   blocks of tiles times ranges of row panels. */
static void gemm_group(const Engine *e, const OpState *s, const float *in, int g, int n, float *out, uint32_t act) {
  size_t N = (size_t)n * s->OH * s->OW, T = rt_cdiv(N, F32_NR), P = rt_cdiv((size_t)s->M, F32_MR);
  int c0 = g * (s->C / s->groups);
  size_t TB = 8; /* tiles per column block: 8 x NR columns of B stay in cache across the panels */
  size_t nbt = rt_cdiv(T, TB), PB = P;
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  while (PB > 1 && nbt * rt_cdiv(P, PB) < (size_t)threads * 4) PB = rt_cdiv(PB, 2);
  size_t nbp = rt_cdiv(P, PB), items = nbt * nbp;
  if (nbp == 1) {
#pragma omp parallel
    {
      size_t id = 0, nth = 1;
#ifdef _OPENMP
      id = (size_t)omp_get_thread_num(), nth = (size_t)omp_get_num_threads();
#endif
      for (size_t t0 = T * id / nth, tz = T * (id + 1) / nth; t0 < tz; t0 += TB) {
        size_t t1 = t0 + TB < tz ? t0 + TB : tz;
        for (size_t t = t0; t < t1; t++) pack_tile(s, in, n, c0, t, e->bpack);
        gemm_block(e, s, g, n, out, act, 0, P, t0, t1);
      }
    }
    return;
  }
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (size_t t = 0; t < T; t++) pack_tile(s, in, n, c0, t, e->bpack);
#pragma omp for schedule(dynamic, 1)
    for (size_t it = 0; it < items; it++) {
      size_t tb = it / nbp, pb = it % nbp;
      size_t p1 = (pb + 1) * PB < P ? (pb + 1) * PB : P, t1 = (tb + 1) * TB < T ? (tb + 1) * TB : T;
      gemm_block(e, s, g, n, out, act, pb * PB, p1, tb * TB, t1);
    }
  }
}

static void op_conv_dw(const Engine *e, const Op *op, const OpState *s, const float *x, float *y, int n) {
  const Param *wp = op_param(e->m, op, 0), *bp = op_param(e->m, op, 1);
  const float *w = wp->data, *b = bp ? bp->data : NULL;
  F32DwShape sh = {s->H, s->W, s->OH, s->OW, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, (int)op->act};
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, mult = (size_t)(s->O / s->groups);
  size_t planes = (size_t)n * s->O;
  f32_dwconv_fn dw = e->k->dwconv;
#pragma omp parallel for schedule(static)
  for (size_t q = 0; q < planes; q++) {
    size_t img = q / s->O, o = q % s->O;
    dw(x + (img * s->C + o / mult) * HW, w + o * (size_t)s->kh * s->kw, b ? b[o] : 0.0f, y + q * OHW, &sh);
  }
}

/* PyTorch's max pool: padding never chosen, NaN propagates; an empty window gives -inf */
static void op_maxpool(const Op *op, const Value *vx, const Value *vy, const float *x, float *y, int n) {
  int kh = op->attr[0], kw = op->attr[1], sh = op->attr[2], sw = op->attr[3], ph = op->attr[4], pw = op->attr[5];
  int dh = op->attr[6], dw = op->attr[7], H = (int)vx->h, W = (int)vx->w, OH = (int)vy->h, OW = (int)vy->w;
  size_t planes = (size_t)n * vx->c;
#pragma omp parallel for schedule(static)
  for (size_t q = 0; q < planes; q++) {
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
static void op_avgpool(const Op *op, const Value *vx, const Value *vy, const float *x, float *y, int n) {
  int kh = op->attr[0], kw = op->attr[1], sh = op->attr[2], sw = op->attr[3], ph = op->attr[4], pw = op->attr[5];
  int cip = op->attr[7], dov = op->attr[8], H = (int)vx->h, W = (int)vx->w, OH = (int)vy->h, OW = (int)vy->w;
  size_t planes = (size_t)n * vx->c;
#pragma omp parallel for schedule(static)
  for (size_t q = 0; q < planes; q++) {
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

static void op_adaptive(int is_max, const Value *vx, const Value *vy, const float *x, float *y, int n) {
  long H = vx->h, W = vx->w, OH = vy->h, OW = vy->w;
  size_t planes = (size_t)n * vx->c;
#pragma omp parallel for schedule(static)
  for (size_t q = 0; q < planes; q++) {
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

static void apply_act(float *y, size_t count, uint32_t act) {
  if (act == ACT_NONE) return;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < count; i++) y[i] = act1(y[i], act);
}

/* ---------------------------------------------------------------- forward */

int engine_forward(Engine *e, const float *in, int n, float *logits, char *err, size_t errlen) {
  const Model *m = e->m;
  if (n < 1 || n > e->batch) return rt_fail(err, errlen, "%d images for a batch of %d", n, e->batch);
#define VAL(v) ((v) == 0 ? (float *)in : (float *)((char *)e->arena + e->offs[v]))
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    const OpState *s = &e->st[i];
    const Value *vx = &m->values[op->in[0]], *vy = &m->values[op->out];
    const float *x = VAL(op->in[0]);
    float *y = VAL(op->out);
    size_t ycount = (size_t)n * value_elems(vy);
    switch (op->type) {
    case OP_CONV2D:
    case OP_LINEAR:
      if (s->exec == EX_DW) {
        op_conv_dw(e, op, s, x, y, n);
        break;
      }
      for (int g = 0; g < s->groups; g++) {
        gemm_group(e, s, x, g, n, y, op->act);
      }
      break;
    case OP_ADD: {
      const float *b = VAL(op->in[1]);
      uint32_t act = op->act;
#pragma omp parallel for schedule(static)
      for (size_t k = 0; k < ycount; k++) y[k] = act1(x[k] + b[k], act);
      break;
    }
    case OP_CONCAT: {
      size_t HW = (size_t)vy->h * vy->w, off = 0;
      for (uint32_t k = 0; k < op->n_in; k++) {
        const Value *vk = &m->values[op->in[k]];
        const float *xk = VAL(op->in[k]);
        size_t len = (size_t)vk->c * HW;
        for (int img = 0; img < n; img++)
          memcpy(y + (size_t)img * value_elems(vy) + off, xk + (size_t)img * len, len * sizeof(float));
        off += len;
      }
      apply_act(y, ycount, op->act);
      break;
    }
    case OP_MAXPOOL2D:
      op_maxpool(op, vx, vy, x, y, n);
      apply_act(y, ycount, op->act);
      break;
    case OP_AVGPOOL2D:
      op_avgpool(op, vx, vy, x, y, n);
      apply_act(y, ycount, op->act);
      break;
    case OP_ADAPTIVE_AVGPOOL2D:
    case OP_ADAPTIVE_MAXPOOL2D:
      op_adaptive(op->type == OP_ADAPTIVE_MAXPOOL2D, vx, vy, x, y, n);
      apply_act(y, ycount, op->act);
      break;
    case OP_FLATTEN:
      memcpy(y, x, ycount * sizeof(float));
      apply_act(y, ycount, op->act);
      break;
    case OP_ACT: {
      uint32_t act = op->act;
#pragma omp parallel for schedule(static)
      for (size_t k = 0; k < ycount; k++) y[k] = act1(x[k], act);
      break;
    }
    default:
      return rt_fail(err, errlen, "op %u: %s is not supported by %s", i, tr_op_name(op->type), ENGINE_BINARY);
    }
  }
  memcpy(logits, VAL(m->output), (size_t)n * m->n_classes * sizeof(float));
#undef VAL
  return 0;
}
