/* util_writer.c: see util_writer.h */
#define _XOPEN_SOURCE 700
#include "util_writer.h"
#include "crc32.h"
#include "util.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>

int g_failures;

typedef struct { uint32_t dtype, ndim, dims[4]; unsigned char *data; uint64_t nbytes; } WParam;
struct MW {
  uint32_t version, kind, c, h, w, n_classes, output;
  Value *v; uint32_t nv, cv;
  Op *o; uint32_t no, co;
  WParam *p; uint32_t np, cp;
};

static void *grow(void *p, uint32_t *cap, uint32_t n, size_t sz) {
  if (n < *cap) return p;
  *cap = *cap ? *cap * 2 : 16;
  p = realloc(p, *cap * sz);
  if (!p) abort();
  return p;
}

MW *mw_new(uint32_t kind, uint32_t c, uint32_t h, uint32_t w, uint32_t n_classes) {
  MW *m = calloc(1, sizeof *m);
  m->version = TR_VERSION, m->kind = kind, m->c = c, m->h = h, m->w = w, m->n_classes = n_classes;
  mw_value(m, c, h, w);
  return m;
}

uint32_t mw_value_q(MW *m, uint32_t c, uint32_t h, uint32_t wd, uint32_t dtype, float scale, int32_t zp) {
  m->v = grow(m->v, &m->cv, m->nv, sizeof *m->v);
  Value *v = &m->v[m->nv];
  v->c = c, v->h = h, v->w = wd, v->dtype = dtype, v->scale = scale, v->zero_point = zp;
  m->output = m->nv;
  return m->nv++;
}
uint32_t mw_value(MW *m, uint32_t c, uint32_t h, uint32_t wd) { return mw_value_q(m, c, h, wd, DT_F32, 0, 0); }
Value *mw_value_ptr(MW *m, uint32_t v) { return &m->v[v]; }

uint32_t mw_param(MW *m, uint32_t dtype, uint32_t ndim, const uint32_t dims[4], const void *data) {
  m->p = grow(m->p, &m->cp, m->np, sizeof *m->p);
  WParam *p = &m->p[m->np];
  memset(p, 0, sizeof *p);
  p->dtype = dtype, p->ndim = ndim;
  uint64_t n = dtype == DT_I8 ? 1 : 4;
  for (uint32_t d = 0; d < ndim; d++) p->dims[d] = dims[d], n *= dims[d];
  p->nbytes = n;
  p->data = malloc(n ? n : 1);
  memcpy(p->data, data, n);
  return m->np++;
}

uint32_t mw_op(MW *m, uint32_t type, uint32_t act, uint32_t n_in, const uint32_t *in, uint32_t out,
               const int32_t *attr, const uint32_t *params) {
  m->o = grow(m->o, &m->co, m->no, sizeof *m->o);
  Op *o = &m->o[m->no];
  memset(o, 0, sizeof *o);
  o->type = type, o->act = act, o->n_in = n_in, o->out = out;
  for (uint32_t k = 0; k < n_in && k < 8; k++) o->in[k] = in[k];
  if (attr) memcpy(o->attr, attr, sizeof o->attr);
  for (int k = 0; k < 8; k++) o->param[k] = params ? params[k] : TR_NONE;
  m->output = out;
  return m->no++;
}
Op *mw_op_ptr(MW *m, uint32_t i) { return &m->o[i]; }
void mw_output(MW *m, uint32_t v) { m->output = v; }
void mw_classes(MW *m, uint32_t n) { m->n_classes = n; }
void mw_version(MW *m, uint32_t version) { m->version = version; }

static void put32(unsigned char *b, uint64_t off, uint32_t v) {
  for (int k = 0; k < 4; k++) b[off + k] = (unsigned char)(v >> (8 * k));
}
static void put64(unsigned char *b, uint64_t off, uint64_t v) { put32(b, off, (uint32_t)v), put32(b, off + 4, (uint32_t)(v >> 32)); }
static uint64_t al(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* FORMAT.md's blocked int8 layouts, written out naively (model.h's WBlocks): rows of KG runs of cig channels x T taps,
   tiles of R rows, quads of 4 channels */
static void block(const int8_t *w, size_t G, size_t M, size_t R, size_t KG, size_t cig, size_t T, int8_t *d) {
  size_t TM = (M + R - 1) / R, NQ = (cig + 3) / 4, K = KG * cig * T;
  memset(d, 0, G * TM * KG * NQ * T * 4 * R);
  for (size_t o = 0; o < G * M; o++)
    for (size_t k = 0; k < K; k++) {
      size_t kg = k / (cig * T), c = k % (cig * T) / T, t = k % T;
      d[(((o / M * TM + o % M / R) * KG + kg) * NQ + c / 4) * T * 4 * R + t * 4 * R + (o % M % R) * 4 + c % 4] = w[o * K + k];
    }
}
void mw_block_sq8(const int8_t *w, size_t G, size_t M, size_t cig, size_t T, int8_t *d) { block(w, G, M, 8, 1, cig, T, d); }
void mw_block_dq8(const int8_t *w, size_t G, size_t M, size_t K, size_t gs, int8_t *d) { block(w, G, M, 4, K / gs, gs, 1, d); }

/* the weights a version stores in its own layout (FORMAT.md), each given (O, K), laid out as the file holds them, as
   the Python writer does: sq8 CONV2D/LINEAR weights blocked from version 3, f32 1x1 CONV2D weights of one group in
   panels of 32 rows from version 4 (from version 6 more taps too, from 7 LINEAR weights: model_f32_panels), dq8 CONV2D/LINEAR weights blocked from version 5; a weight of another shape is
   left for the loader to refuse */
static void file_layout(MW *m) {
  unsigned char *done = calloc(m->np + 1, 1);
  for (uint32_t k = 0; k < m->no; k++) {
    const Op *op = &m->o[k];
    Model mm = { 0 };
    mm.kind = m->kind, mm.version = m->version, mm.values = m->v, mm.n_values = m->nv;
    WBlocks b;
    int blk = model_blocks(&mm, op, &b);
    if ((!blk && !(op->out < m->nv && model_f32_panels(&mm, op))) || op->param[0] >= m->np || done[op->param[0]]) continue;
    WParam *p = &m->p[op->param[0]];
    size_t O = (size_t)op->attr[0], P = (O + 31) / 32;
    size_t K = blk ? b.KG * b.cig * b.T
               : op->type == OP_LINEAR ? (size_t)op->attr[A_LINEAR_IN_F] : (size_t)op->attr[1] * (size_t)op->attr[2] * (size_t)op->attr[3];
    size_t n = blk ? b.G * b.TM * b.KG * b.NQ * b.T * 4 * b.R : P * K * 128;
    if (p->dtype != (blk ? DT_I8 : DT_F32) || p->ndim != 2 || p->dims[0] != O || p->dims[1] != K) continue;
    unsigned char *d = calloc(n, 1);
    if (blk && b.R == 8) {
      mw_block_sq8((const int8_t *)p->data, b.G, b.M, b.cig, b.T, (int8_t *)d);
      p->ndim = 4, p->dims[0] = (uint32_t)(b.G * b.TM), p->dims[1] = (uint32_t)b.NQ, p->dims[2] = (uint32_t)b.T, p->dims[3] = 32;
    } else if (blk) {
      mw_block_dq8((const int8_t *)p->data, b.G, b.M, K, b.cig, (int8_t *)d);
      p->ndim = 4, p->dims[0] = (uint32_t)(b.G * b.TM), p->dims[1] = (uint32_t)b.KG, p->dims[2] = (uint32_t)b.NQ, p->dims[3] = 16;
    } else {
      for (size_t o = 0; o < O; o++)
        for (size_t c = 0; c < K; c++) memcpy(d + (o / 32 * 32 * K + c * 32 + o % 32) * 4, p->data + (o * K + c) * 4, 4);
      p->ndim = 3, p->dims[0] = (uint32_t)P, p->dims[1] = (uint32_t)K, p->dims[2] = 32;
    }
    free(p->data);
    p->data = d, p->nbytes = n, done[op->param[0]] = 1;
  }
  free(done);
}

unsigned char *mw_finish(MW *m, size_t *size) {
  char name[32];
  file_layout(m);
  uint64_t names_size = 0;
  for (uint32_t k = 0; k < m->n_classes; k++) names_size += 4 + (uint64_t)snprintf(name, sizeof name, "class%u", k);
  uint64_t names_off = TR_HEADER_SIZE, values_off = al(names_off + names_size, 8);
  uint64_t ops_off = values_off + (uint64_t)TR_VALUE_SIZE * m->nv, params_off = ops_off + (uint64_t)TR_OP_SIZE * m->no;
  uint64_t data_off = al(params_off + (uint64_t)TR_PARAM_SIZE * m->np, 64), d = data_off;
  for (uint32_t k = 0; k < m->np; k++) d = al(d + m->p[k].nbytes, 64);
  uint64_t data_size = d - data_off, fsize = d;
  unsigned char *b = calloc(1, fsize);
  memcpy(b + TR_HDR_MAGIC, TR_MAGIC, 8);
  put32(b, TR_HDR_VERSION, m->version), put32(b, TR_HDR_KIND, m->kind);
  put32(b, TR_HDR_IN_C, m->c), put32(b, TR_HDR_IN_H, m->h), put32(b, TR_HDR_IN_W, m->w);
  put32(b, TR_HDR_N_CLASSES, m->n_classes), put32(b, TR_HDR_N_VALUES, m->nv), put32(b, TR_HDR_N_OPS, m->no);
  put32(b, TR_HDR_N_PARAMS, m->np), put32(b, TR_HDR_OUTPUT, m->output);
  put64(b, TR_HDR_NAMES_OFF, names_off), put64(b, TR_HDR_NAMES_SIZE, names_size);
  put64(b, TR_HDR_VALUES_OFF, values_off), put64(b, TR_HDR_OPS_OFF, ops_off), put64(b, TR_HDR_PARAMS_OFF, params_off);
  put64(b, TR_HDR_DATA_OFF, data_off), put64(b, TR_HDR_DATA_SIZE, data_size), put64(b, TR_HDR_FILE_SIZE, fsize);
  uint64_t q = names_off;
  for (uint32_t k = 0; k < m->n_classes; k++) {
    uint32_t len = (uint32_t)snprintf(name, sizeof name, "class%u", k);
    put32(b, q, len), memcpy(b + q + 4, name, len), q += 4 + len;
  }
  for (uint32_t k = 0; k < m->nv; k++) {
    uint64_t o = values_off + (uint64_t)TR_VALUE_SIZE * k;
    Value *v = &m->v[k];
    uint32_t s, z;
    memcpy(&s, &v->scale, 4), memcpy(&z, &v->zero_point, 4);
    put32(b, o + TR_VAL_C, v->c), put32(b, o + TR_VAL_H, v->h), put32(b, o + TR_VAL_W, v->w);
    put32(b, o + TR_VAL_DTYPE, v->dtype), put32(b, o + TR_VAL_SCALE, s), put32(b, o + TR_VAL_ZERO_POINT, z);
  }
  for (uint32_t k = 0; k < m->no; k++) {
    uint64_t o = ops_off + (uint64_t)TR_OP_SIZE * k;
    Op *p = &m->o[k];
    put32(b, o + TR_OP_TYPE, p->type), put32(b, o + TR_OP_ACT, p->act), put32(b, o + TR_OP_N_IN, p->n_in);
    put32(b, o + TR_OP_OUT, p->out);
    for (int j = 0; j < TR_MAX_IN; j++) put32(b, o + TR_OP_IN + 4 * j, p->in[j]);
    for (int j = 0; j < TR_N_ATTR; j++) put32(b, o + TR_OP_ATTR + 4 * j, (uint32_t)p->attr[j]);
    for (int j = 0; j < TR_N_PARAM; j++) put32(b, o + TR_OP_PARAM + 4 * j, p->param[j]);
    put32(b, o + TR_OP_QMIN, (uint32_t)p->qmin), put32(b, o + TR_OP_QMAX, (uint32_t)p->qmax);
  }
  d = data_off;
  for (uint32_t k = 0; k < m->np; k++) {
    uint64_t o = params_off + (uint64_t)TR_PARAM_SIZE * k;
    WParam *p = &m->p[k];
    put32(b, o + TR_PAR_DTYPE, p->dtype), put32(b, o + TR_PAR_NDIM, p->ndim);
    for (int j = 0; j < 4; j++) put32(b, o + TR_PAR_DIMS + 4 * j, p->dims[j]);
    put64(b, o + TR_PAR_OFFSET, d), put64(b, o + TR_PAR_NBYTES, p->nbytes);
    memcpy(b + d, p->data, p->nbytes); /* test hosts are little-endian */
    d = al(d + p->nbytes, 64);
    free(p->data);
  }
  if (m->version >= 2) mw_seal(b, fsize);
  free(m->v), free(m->o), free(m->p), free(m);
  *size = fsize;
  return b;
}

void mw_seal(unsigned char *b, size_t size) {
  static const unsigned char zero[4];
  uint32_t c = rt_crc32(0, b, TR_HDR_CHECKSUM);
  c = rt_crc32(c, zero, 4);
  put32(b, TR_HDR_CHECKSUM, rt_crc32(c, b + TR_HDR_CHECKSUM + 4, size - TR_HDR_CHECKSUM - 4));
}

int pt_out_len(int in, int k, int s, int p, int d, int ceil_mode) {
  int span = in + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + p) o--;
  return o;
}

static uint32_t wparams(MW *m, int O, int K, const float *w, const float *b, uint32_t *pr) {
  for (int k = 0; k < 8; k++) pr[k] = TR_NONE;
  uint32_t dw[4] = {(uint32_t)O, (uint32_t)K, 0, 0}, db[4] = {(uint32_t)O, 0, 0, 0};
  pr[0] = mw_param(m, DT_F32, 2, dw, w);
  if (b) pr[1] = mw_param(m, DT_F32, 1, db, b);
  return pr[0];
}

uint32_t mw_conv(MW *m, uint32_t x, int out_c, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                 int groups, int act, const float *w, const float *b) {
  Value in = m->v[x];
  uint32_t y = mw_value(m, (uint32_t)out_c, (uint32_t)pt_out_len((int)in.h, kh, sh, ph, dh, 0),
                        (uint32_t)pt_out_len((int)in.w, kw, sw, pw, dw, 0));
  int32_t a[16] = {out_c, (int32_t)in.c, kh, kw, sh, sw, ph, pw, dh, dw, groups};
  uint32_t pr[8];
  wparams(m, out_c, (int)in.c / groups * kh * kw, w, b, pr);
  mw_op(m, OP_CONV2D, (uint32_t)act, 1, &x, y, a, pr);
  return y;
}

uint32_t mw_linear(MW *m, uint32_t x, int out_f, int act, const float *w, const float *b) {
  Value in = m->v[x];
  uint32_t y = mw_value(m, (uint32_t)out_f, 1, 1);
  int32_t a[16] = {out_f, (int32_t)in.c};
  uint32_t pr[8];
  wparams(m, out_f, (int)in.c, w, b, pr);
  mw_op(m, OP_LINEAR, (uint32_t)act, 1, &x, y, a, pr);
  return y;
}

uint32_t mw_maxpool(MW *m, uint32_t x, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ceil_mode) {
  Value in = m->v[x];
  uint32_t y = mw_value(m, in.c, (uint32_t)pt_out_len((int)in.h, kh, sh, ph, dh, ceil_mode),
                        (uint32_t)pt_out_len((int)in.w, kw, sw, pw, dw, ceil_mode));
  int32_t a[16] = {kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode};
  mw_op(m, OP_MAXPOOL2D, 0, 1, &x, y, a, NULL);
  return y;
}

uint32_t mw_avgpool(MW *m, uint32_t x, int kh, int kw, int sh, int sw, int ph, int pw, int ceil_mode, int cip, int dov) {
  Value in = m->v[x];
  uint32_t y = mw_value(m, in.c, (uint32_t)pt_out_len((int)in.h, kh, sh, ph, 1, ceil_mode),
                        (uint32_t)pt_out_len((int)in.w, kw, sw, pw, 1, ceil_mode));
  int32_t a[16] = {kh, kw, sh, sw, ph, pw, ceil_mode, cip, dov};
  mw_op(m, OP_AVGPOOL2D, 0, 1, &x, y, a, NULL);
  return y;
}

uint32_t mw_adaptive(MW *m, uint32_t x, int is_max, int oh, int ow) {
  uint32_t y = mw_value(m, m->v[x].c, (uint32_t)oh, (uint32_t)ow);
  int32_t a[16] = {oh, ow};
  mw_op(m, is_max ? OP_ADAPTIVE_MAXPOOL2D : OP_ADAPTIVE_AVGPOOL2D, 0, 1, &x, y, a, NULL);
  return y;
}

uint32_t mw_add(MW *m, uint32_t a, uint32_t b, int act) {
  uint32_t in[2] = {a, b}, y = mw_value(m, m->v[a].c, m->v[a].h, m->v[a].w);
  mw_op(m, OP_ADD, (uint32_t)act, 2, in, y, NULL, NULL);
  return y;
}

uint32_t mw_concat(MW *m, int n, const uint32_t *xs, int act) {
  uint32_t c = 0;
  for (int k = 0; k < n; k++) c += m->v[xs[k]].c;
  uint32_t y = mw_value(m, c, m->v[xs[0]].h, m->v[xs[0]].w);
  mw_op(m, OP_CONCAT, (uint32_t)act, (uint32_t)n, xs, y, NULL, NULL);
  return y;
}

uint32_t mw_flatten(MW *m, uint32_t x) {
  Value in = m->v[x];
  uint32_t y = mw_value(m, in.c * in.h * in.w, 1, 1);
  mw_op(m, OP_FLATTEN, 0, 1, &x, y, NULL, NULL);
  return y;
}

void mw_sq8_output(MW *m, uint32_t x) {
  Value in = m->v[x];
  uint32_t n = in.c * in.h * in.w, f = mw_value_q(m, n, 1, 1, DT_I8, in.scale, in.zero_point), out = mw_value(m, n, 1, 1);
  uint32_t o = mw_op(m, OP_FLATTEN, 0, 1, &x, f, NULL, NULL);
  m->o[o].qmin = -128, m->o[o].qmax = 127;
  o = mw_op(m, OP_DEQUANTIZE, 0, 1, &f, out, NULL, NULL);
  m->o[o].qmin = 0, m->o[o].qmax = 0;
  mw_output(m, out);
}

uint32_t mw_act(MW *m, uint32_t x, int act) {
  uint32_t y = mw_value(m, m->v[x].c, m->v[x].h, m->v[x].w);
  mw_op(m, OP_ACT, (uint32_t)act, 1, &x, y, NULL, NULL);
  return y;
}

uint32_t mw_param2(MW *m, uint32_t dtype, uint32_t d0, uint32_t d1, const void *data) {
  uint32_t dims[4] = {d0, d1, 0, 0};
  return mw_param(m, dtype, d1 ? 2 : 1, dims, data);
}

void rng_requant(uint64_t *s, int32_t *bias, int32_t *mult, int32_t *shift, int n) {
  for (int i = 0; i < n; i++) {
    bias[i] = (int32_t)(rng_next(s) % 2001) - 1000;
    mult[i] = 1073741824 + (int32_t)(rng_next(s) % 1073741823);
    shift[i] = 38 + (int)(rng_next(s) % 4);
  }
}

uint64_t rng_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
float rng_unif(uint64_t *s, float lo, float hi) { return lo + (hi - lo) * (float)((rng_next(s) >> 40) / 16777216.0); }
void rng_fill(uint64_t *s, float *x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) x[i] = rng_unif(s, lo, hi);
}

int write_file(const char *path, const void *buf, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(buf, 1, size, f);
  return (fclose(f) != 0 || w != size) ? -1 : 0;
}

void make_tmpdir(char *out, size_t len) {
  const char *t = getenv("TMPDIR");
  snprintf(out, len, "%s/tinyrt_test_XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(out)) {
    perror("mkdtemp");
    exit(1);
  }
}

int test_quick(void) { return getenv("TINYRUNTIME_TEST_QUICK") != NULL; }

int run_capture(const char *dir, const char *env, const char *bin, const char *args, char *out, size_t outlen,
                char *err, size_t errlen) {
  char cmd[2048], po[300], pe[300];
  snprintf(po, sizeof po, "%s/stdout", dir), snprintf(pe, sizeof pe, "%s/stderr", dir);
  const char *wrap = getenv("TEST_EXEC");   /* e.g. qemu-aarch64-static for a cross build */
  snprintf(cmd, sizeof cmd, "cd %s && %s %s %s %s >%s 2>%s", dir, env ? env : "", wrap ? wrap : "", bin, args, po, pe);
  int st = system(cmd);
  FILE *f;
  if (out) { out[0] = 0; if ((f = fopen(po, "r"))) { size_t n = fread(out, 1, outlen - 1, f); out[n] = 0; fclose(f); } }
  if (err) { err[0] = 0; if ((f = fopen(pe, "r"))) { size_t n = fread(err, 1, errlen - 1, f); err[n] = 0; fclose(f); } }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
