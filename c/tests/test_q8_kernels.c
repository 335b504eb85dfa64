/* test_q8_kernels.c: every int8 kernel descriptor this machine runs (each ISA table of
 * src/dispatch.c), through its own packers and tile, against a naive implementation of FORMAT.md's
 * formulas, on awkward sizes (1, tile +- 1, primes). Integer results must be equal exactly; dq8
 * floats too (same operation order by contract). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "act.h"
#include "cpu.h"
#include "dispatch.h"
#include "model.h"

static int fails = 0;
#define CHECK(cond, ...) do { if (!(cond)) { fails++; if (fails < 20) { \
  fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
  fputc('\n', stderr); } } } while (0)

/* the engine packs a weight matrix a few tiles at a time (rows r0.. at a_elems(r0)) into memory it has
   not zeroed: one tile per call must give the same bytes as one call over all rows, and both must
   write every byte (padding included), whatever the memory held before */
static void check_pack_rows(const Q8Kernels *T, int M, int G, int gs, const int8_t *w, const int8_t *wz,
                            const int16_t *A) {
  size_t n = T->a_elems(M, G, gs), K = (size_t)G * (size_t)gs;
  int16_t *B = malloc(n * 2);
  memset(B, 0x5a, n * 2);
  for (int r0 = 0; r0 < M; r0 += T->mr) {
    int rows = M - r0 < T->mr ? M - r0 : T->mr;
    T->pack_w(rows, G, gs, w + (size_t)r0 * K, wz ? wz + (size_t)r0 * G : NULL, B + T->a_elems(r0, G, gs));
  }
  int16_t *C = malloc(n * 2);
  memset(C, T->pack_sparse ? 0x5a : 0xa5, n * 2);   /* (a pack_sparse table leaves some bytes: A's were 0x5a too) */
  T->pack_w(M, G, gs, w, wz, C);
  CHECK(memcmp(A, B, n * 2) == 0 && memcmp(A, C, n * 2) == 0,
        "%s: packing %d rows (G %d, gs %d) tile by tile, or over other bytes, differs from one call", T->name, M, G, gs);
  free(B), free(C);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }
static int rint_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rfloat(float a) { return ((float)(rnd() % 2000001u) / 1000000.0f - 1.0f) * a; }

static const Q8Kernels *sq8_tables[16], *dq8_tables[16];   /* distinct descriptors per kind */
static int n_sq8 = 0, n_dq8 = 0;
static const Q8DwDesc *dw_tables[16];                      /* distinct sq8 depthwise kernels */
static int n_dw = 0;

/* ---------------- sq8 GEMM ---------------- */
/* ext: 0 random values; 1 every weight and input -128 (the largest dot, 2^30 at K = 65536); 2 weights
   -128 and inputs 127 (the most negative) */
/* tests/util_writer.c's blocker, the one the test writer stores sq8 files with (util_writer.h's CHECK is not this file's) */
void mw_block_sq8(const int8_t *w, size_t G, size_t M, size_t cig, size_t T, int8_t *d);
void mw_block_dq8(const int8_t *w, size_t G, size_t M, size_t K, size_t gs, int8_t *d);

/* w (M rows of C * taps, PyTorch's (c, tap) order) in FORMAT.md's blocked layout (version 3): tiles of 8 rows, quads of
   4 channels, taps, 8 x 4 bytes, zero padded (aligned_alloc'ed; *tiles set) */
static int8_t *blocked_w(const int8_t *w, int M, int C, int taps, int *tiles) {
  int TM = (M + 7) / 8, NQ = (C + 3) / 4;
  int8_t *b = aligned_alloc(64, q8_round_up((size_t)TM * NQ * taps * 32, 64));
  mw_block_sq8(w, 1, (size_t)M, (size_t)C, (size_t)taps, b);
  *tiles = TM;
  return b;
}

/* pack_w_blk on the file's blocks of several taps (sq8 implicit layers, version 3; the i16x2 tables take them) against
   pack_w on the rows, (channel, tap) order, both outputs first 0x5A (every element written, or by a pack_sparse table
   the same bytes written and the same left) */
static void test_pack_w_blk_taps(void) {
  int shapes[][3] = {{5, 3, 9}, {8, 4, 9}, {13, 7, 9}, {16, 64, 9}, {3, 2, 49}, {9, 5, 1}, {4, 1, 9}, {12, 6, 3}};   /* M, C, T */
  for (int t = 0; t < n_sq8; t++) {
    const Q8Kernels *T = sq8_tables[t];
    if (!T->pack_w_blk) continue;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
      int M = shapes[i][0], C = shapes[i][1], taps = shapes[i][2], K = C * taps, tiles;
      size_t n = T->a_elems(M, 1, K) * 2;
      int8_t *w = malloc((size_t)M * K), *A = malloc(n), *A2 = malloc(n);
      for (int k = 0; k < M * K; k++) w[k] = (int8_t)rint_in(-128, 127);
      int8_t *B = blocked_w(w, M, C, taps, &tiles);
      memset(A, 0x5A, n);
      T->pack_w(M, 1, K, w, NULL, (int16_t *)(void *)A);
      memset(A2, 0x5A, n);
      if (T->pack_w_blk(M, 1, K, taps, B, 8, NULL, (int16_t *)(void *)A2))
        CHECK(memcmp(A, A2, n) == 0, "pack_w_blk %s M=%d C=%d T=%d: not pack_w's bytes", T->name, M, C, taps);
      else
        CHECK(taps > 1, "pack_w_blk %s M=%d C=%d T=1: not taken", T->name, M, C);
      free(w), free(A), free(A2), free(B);
    }
  }
}

static void test_sq8_gemm_ext(int M, int N, int K, int ext) {
  int8_t *w = malloc((size_t)M * K), *x = malloc((size_t)K * N);
  int32_t *bias = malloc(4 * (size_t)M), *mult = malloc(4 * (size_t)M), *shift = malloc(4 * (size_t)M);
  int8_t *want = malloc((size_t)M * N), *got = malloc((size_t)M * N);
  for (int i = 0; i < M * K; i++) w[i] = (int8_t)rint_in(-128, 127);
  for (int i = 0; i < K * N; i++) x[i] = (int8_t)rint_in(-128, 127);
  if (ext) {
    memset(w, -128, (size_t)M * K);
    memset(x, ext == 1 ? -128 : 127, (size_t)K * N);
  }
  static int calls = 0;   /* every third call: an extreme output zero point and no clamp */
  int32_t zy = rint_in(-128, 127), qmin = rint_in(-128, 0), qmax = rint_in(0, 127);
  if (calls % 3 == 1) zy = calls % 2 ? 127 : -128, qmin = -128, qmax = 127;
  calls++;
  for (int o = 0; o < M; o++) {
    bias[o] = (int32_t)(rnd() % 2000001u) - 1000000;
    mult[o] = (int32_t)(rnd() & 0x7FFFFFFF);
    shift[o] = rint_in(1, 62);
    if (o % 7 == 3) { bias[o] = 2147483647; mult[o] = 2147483647; shift[o] = 62; } /* extremes */
    if (o % 7 == 4) { bias[o] = -2147483647 - 1; mult[o] = 2147483647; shift[o] = 1; }
    if (o % 7 == 5) shift[o] = rint_in(28, 40);
  }
  /* naive FORMAT.md */
  for (int o = 0; o < M; o++)
    for (int p = 0; p < N; p++) {
      int64_t acc = bias[o];
      for (int k = 0; k < K; k++) acc += (int64_t)w[o * K + k] * x[k * N + p];
      int64_t r = (acc * mult[o] + ((int64_t)1 << (shift[o] - 1))) >> shift[o];
      int64_t y = zy + r;
      want[o * N + p] = (int8_t)(y < qmin ? qmin : y > qmax ? qmax : y);
    }
  for (int t = 0; t < n_sq8; t++) {
    const Q8Kernels *T = sq8_tables[t];
    int gsp = (int)q8_round_up((size_t)K, (size_t)T->kr), kp = gsp / T->kr;
    size_t panels = q8_round_up((size_t)N, (size_t)T->nr) / (size_t)T->nr;
    size_t ps = q8_pstride(T, 1, K);   /* packed X: panels of NR columns */
    int16_t *A = malloc(T->a_elems(M, 1, K) * 2), *X = calloc(ps * panels, 2);
    memset(A, 0x5A, T->a_elems(M, 1, K) * 2);   /* (what a pack_sparse table leaves: the kernels must not read it) */
    T->pack_w(M, 1, K, w, NULL, A);
    check_pack_rows(T, M, 1, K, w, NULL, A);
    if (T->pack_w_blk) {   /* one group's rows straight from the file's blocked weights: pack_w's bytes */
      int tiles;
      int8_t *B = blocked_w(w, M, K, 1, &tiles), *A2 = malloc(T->a_elems(M, 1, K) * 2);
      memset(A2, 0x5A, T->a_elems(M, 1, K) * 2);
      CHECK(T->pack_w_blk(M, 1, K, 1, B, 8, NULL, (int16_t *)(void *)A2), "pack_w_blk %s M=%d K=%d: not taken", T->name, M, K);
      CHECK(memcmp(A, A2, T->a_elems(M, 1, K) * 2) == 0, "pack_w_blk %s M=%d K=%d: not pack_w's bytes", T->name, M, K);
      free(A2);
      free(B);
    }
    for (int k = 0; k < K; k++)
      for (int p = 0; p < N; p++) T->put_x(X, ps, k, p, x[k * N + p]);
    memset(got, 0x55, (size_t)M * N);
    /* split into blocks the way the engine does: rows by tiles, columns by NR */
    int mb = M > 2 * T->mr ? 2 * T->mr : M, nb = N > 2 * T->nr ? 2 * T->nr : N;
    for (int o0 = 0; o0 < M; o0 += mb)
      for (int p0 = 0; p0 < N; p0 += nb) {
        Q8Gemm g = { M - o0 < mb ? M - o0 : mb, N - p0 < nb ? N - p0 : nb, 1, kp,
                     A + T->a_elems(o0, 1, K), X + (size_t)(p0 / T->nr) * ps, (ptrdiff_t)ps, NULL };
        Q8Sq8Epi e = { bias + o0, mult + o0, shift + o0, zy, qmin, qmax, got + (size_t)o0 * N + p0, N, 1 };
        T->sq8_gemm(&g, &e);
      }
    int bad = 0;
    for (int i = 0; i < M * N; i++) bad += want[i] != got[i];
    CHECK(bad == 0, "sq8_gemm %s M=%d N=%d K=%d: %d of %d differ", T->name, M, N, K, bad, M * N);
    /* transposed output strides (LINEAR over a batch): y[p*M + o] */
    Q8Gemm g = { M, N, 1, kp, A, X, (ptrdiff_t)ps, NULL };
    Q8Sq8Epi e = { bias, mult, shift, zy, qmin, qmax, got, 1, M };
    T->sq8_gemm(&g, &e);
    bad = 0;
    for (int o = 0; o < M; o++)
      for (int p = 0; p < N; p++) bad += want[o * N + p] != got[p * M + o];
    CHECK(bad == 0, "sq8_gemm strided %s M=%d N=%d K=%d: %d differ", T->name, M, N, K, bad);
    if (T->blocked_comp) {   /* the file's blocked weights read in place, their sums apart (Q8Gemm.comp) */
      int tiles;
      int8_t *B = blocked_w(w, M, K, 1, &tiles);
      int32_t *comp = malloc((size_t)tiles * 8 * sizeof *comp);
      T->blocked_comp(B, (size_t)tiles, (size_t)kp, comp);
      memset(got, 0x55, (size_t)M * N);
      for (int o0 = 0; o0 < M; o0 += mb)
        for (int p0 = 0; p0 < N; p0 += nb) {
          Q8Gemm gi = { M - o0 < mb ? M - o0 : mb, N - p0 < nb ? N - p0 : nb, 1, kp,
                        (const int16_t *)(const void *)(B + (size_t)(o0 / 8) * kp * 32), X + (size_t)(p0 / T->nr) * ps, (ptrdiff_t)ps,
                        comp + o0 };
          Q8Sq8Epi ei = { bias + o0, mult + o0, shift + o0, zy, qmin, qmax, got + (size_t)o0 * N + p0, N, 1 };
          T->sq8_gemm(&gi, &ei);
        }
      bad = 0;
      for (int i = 0; i < M * N; i++) bad += want[i] != got[i];
      CHECK(bad == 0, "sq8_gemm in place %s M=%d N=%d K=%d: %d of %d differ", T->name, M, N, K, bad, M * N);
      free(B); free(comp);
    }
    free(A); free(X);
  }
  free(w); free(x); free(bias); free(mult); free(shift); free(want); free(got);
}
static void test_sq8_gemm(int M, int N, int K) { test_sq8_gemm_ext(M, N, K, 0); }

/* ---------------- dq8 quantization + GEMM ---------------- */
/* naive FORMAT.md group quantization of n values */
static float naive_group(const float *v, ptrdiff_t st, int n, int asym, int32_t *q, int32_t *z) {
  float s; *z = 0;
  if (!asym) {
    float m = 0;
    for (int i = 0; i < n; i++) if (fabsf(v[i * st]) > m) m = fabsf(v[i * st]);
    s = m == 0 ? 1.0f : m / 127.0f;
    for (int i = 0; i < n; i++) {
      float r = nearbyintf(v[i * st] / s);
      q[i] = r < -127 ? -127 : r > 127 ? 127 : (int32_t)r;
    }
    return s;
  }
  float lo = 0, hi = 0;
  for (int i = 0; i < n; i++) { if (v[i * st] < lo) lo = v[i * st]; if (v[i * st] > hi) hi = v[i * st]; }
  s = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  if (hi != lo) {
    float r = nearbyintf(-128.0f - lo / s);
    *z = r < -128 ? -128 : r > 127 ? 127 : (int32_t)r;
  }
  for (int i = 0; i < n; i++) {
    float r = nearbyintf(v[i * st] / s);
    int32_t t = (int32_t)r + *z;
    q[i] = t < -128 ? -128 : t > 127 ? 127 : t;
  }
  return s;
}

static int dq8_extreme;   /* constant positive weights and activations: every q - z is 255 (asym) */
static void test_dq8(int M, int N, int G, int gs, int asym, int act, int with_bias) {
  int K = G * gs;
  ptrdiff_t ldx = (ptrdiff_t)q8_round_up((size_t)N, 64);   /* the stride of xs (>= N) */
  float *wf = malloc(4 * (size_t)M * K), *xf = malloc(4 * (size_t)K * N);
  int8_t *wq = malloc((size_t)M * K), *wz = malloc((size_t)M * G);
  float *ws = malloc(4 * (size_t)M * G), *bias = malloc(4 * (size_t)M);
  int32_t *q = malloc(4 * (size_t)(K > M ? K : M) * N + 4 * (size_t)K);
  int32_t *qx = malloc(4 * (size_t)K * N), *zx = malloc(4 * (size_t)G * N);
  float *sx = malloc(4 * (size_t)G * N), *want = malloc(4 * (size_t)M * N), *got = malloc(4 * (size_t)M * N);
  float *rsd = malloc(4 * (size_t)M * N), *wantr = malloc(4 * (size_t)M * N);   /* a fused residual: y's values, the result */
  for (int i = 0; i < M * N; i++) rsd[i] = rfloat(4.0f);
  float *xs2 = calloc((size_t)G * ldx, 4);
  for (int i = 0; i < M * K; i++) wf[i] = rfloat(1.0f);
  for (int i = 0; i < K * N; i++) xf[i] = rfloat(3.0f) + 0.5f;
  if (dq8_extreme) {
    for (int i = 0; i < M * K; i++) wf[i] = 0.5f;
    for (int i = 0; i < K * N; i++) xf[i] = 1.0f;
  }
  /* special groups: all zero, all positive, all negative, a single non-zero */
  for (int p = 0; p < N && !dq8_extreme; p++)
    for (int g = 0; g < G; g++) {
      int kind = (p * 7 + g * 3) % 11;
      for (int i = 0; i < gs; i++) {
        float *v = &xf[(size_t)(g * gs + i) * N + p];
        if (kind == 0) *v = 0.0f;
        else if (kind == 1) *v = fabsf(*v) + 0.25f;
        else if (kind == 2) *v = -fabsf(*v) - 1.0f;
        else if (kind == 3) *v = i == gs / 2 ? -2.5f : 0.0f;
        else if (kind == 4) *v = (float)(i % 5) * 0.5f - 1.0f;   /* exact halves: ties */
      }
    }
  for (int o = 0; o < M; o++) {
    bias[o] = rfloat(2.0f);
    for (int g = 0; g < G; g++) {
      int32_t z;
      ws[o * G + g] = naive_group(wf + (size_t)o * K + g * gs, 1, gs, asym, q, &z);
      wz[o * G + g] = (int8_t)z;
      for (int i = 0; i < gs; i++) wq[(size_t)o * K + g * gs + i] = (int8_t)q[i];
    }
  }
  for (int g = 0; g < G; g++)
    for (int p = 0; p < N; p++) {
      int32_t z;
      sx[g * N + p] = naive_group(xf + (size_t)g * gs * N + p, N, gs, asym, q, &z);
      zx[g * N + p] = z;
      for (int i = 0; i < gs; i++) qx[(size_t)(g * gs + i) * N + p] = q[i];
    }
  for (int o = 0; o < M; o++)
    for (int p = 0; p < N; p++) {
      float acc = 0.0f;
      for (int g = 0; g < G; g++) {
        int32_t isum = 0;
        for (int i = 0; i < gs; i++)
          isum += (wq[(size_t)o * K + g * gs + i] - (asym ? wz[o * G + g] : 0)) *
                  (qx[(size_t)(g * gs + i) * N + p] - zx[g * N + p]);
        acc += (ws[o * G + g] * sx[g * N + p]) * (float)isum;
      }
      if (with_bias) acc = bias[o] + acc;
      want[o * N + p] = act_f32(acc, act);
      wantr[o * N + p] = act_f32(acc + rsd[o * N + p], act);
    }
  for (int t = 0; t < n_dq8; t++) {
    const Q8Kernels *T = dq8_tables[t];
    int gsp = (int)q8_round_up((size_t)gs, (size_t)T->kr), kp = gsp / T->kr;
    size_t ps = q8_pstride(T, G, gs), xbytes = 2 * ps * (q8_round_up((size_t)N, (size_t)T->nr) / (size_t)T->nr);
    int16_t *A = malloc(T->a_elems(M, G, gs) * 2), *X2 = calloc(xbytes, 1);
    T->pack_w(M, G, gs, wq, asym ? wz : NULL, A);
    check_pack_rows(T, M, G, gs, wq, asym ? wz : NULL, A);
    if (T->pack_w_blk) {   /* straight from the file's blocked weights (version 5): pack_w's bytes, where it takes gs */
      size_t n = T->a_elems(M, G, gs) * 2, nq = (size_t)(gs + 3) / 4;
      int8_t *B = malloc((size_t)(M + 3) / 4 * (size_t)G * nq * 16), *A2 = malloc(n);
      mw_block_dq8(wq, 1, (size_t)M, (size_t)K, (size_t)gs, B);
      memset(A2, 0x5A, n);
      if (T->pack_w_blk(M, G, gs, 1, B, 4, asym ? wz : NULL, (int16_t *)(void *)A2))
        CHECK(memcmp(A, A2, n) == 0, "pack_w_blk %s M=%d G=%d gs=%d asym=%d: not pack_w's bytes", T->name, M, G, gs, asym);
      else
        CHECK(gs > 64, "pack_w_blk %s M=%d G=%d gs=%d: not taken", T->name, M, G, gs);
      free(A2);
      free(B);
    }
    /* quantization: against the naive rule */
    memset(X2, 0x7f, xbytes);
    T->dq8_quant(G, gs, N, xf, N, asym, X2, (ptrdiff_t)ps, xs2, ldx);
    int bad = 0;
    for (int g = 0; g < G; g++)
      for (int p = 0; p < N; p++) {
        if (memcmp(&xs2[g * ldx + p], &sx[g * N + p], 4) != 0) bad++;
        for (int i = 0; i < gsp; i++) {
          int32_t e = i < gs ? qx[(size_t)(g * gs + i) * N + p] - zx[g * N + p] : 0;
          bad += T->get_x(X2, ps, g * gsp + i, p) != e;
        }
      }
    CHECK(bad == 0, "dq8_quant %s N=%d G=%d gs=%d asym=%d: %d differ", T->name, N, G, gs, asym, bad);
    if (T->dq8_quant_g) {   /* a group (or the last two) at a time: the same bytes and scales */
      int16_t *X3 = malloc(xbytes);
      float *xs3 = calloc((size_t)G * ldx, 4);
      memset(X3, 0x7f, xbytes);
      for (int g0 = 0; g0 < G;) {
        int g1 = g0 + (g0 == G - 2 ? 2 : 1);
        T->dq8_quant_g(g0, g1, gs, N, xf + (size_t)g0 * gs * N, N, asym, X3, (ptrdiff_t)ps, xs3, ldx);
        g0 = g1;
      }
      bad = 0;
      for (int g = 0; g < G; g++)
        for (int p = 0; p < N; p++) bad += memcmp(&xs3[g * ldx + p], &xs2[g * ldx + p], 4) != 0;
      for (int p = 0; p < N; p += T->nr) bad += memcmp(X3 + (size_t)(p / T->nr) * ps, X2 + (size_t)(p / T->nr) * ps, 2 * ps) != 0;
      CHECK(bad == 0, "dq8_quant_g %s N=%d G=%d gs=%d asym=%d: %d differ", T->name, N, G, gs, asym, bad);
      free(X3); free(xs3);
    }
    int mb = M > 2 * T->mr ? 2 * T->mr : M, nb = N > 2 * T->nr ? 2 * T->nr : N;
    for (int res = 0; res < 2; res++) {   /* res: a fused residual ADD, y's values (rsd) added after the bias */
      if (res) memcpy(got, rsd, 4 * (size_t)M * N);
      else memset(got, 0, 4 * (size_t)M * N);
      for (int o0 = 0; o0 < M; o0 += mb)
        for (int p0 = 0; p0 < N; p0 += nb) {
          Q8Gemm g = { M - o0 < mb ? M - o0 : mb, N - p0 < nb ? N - p0 : nb, G, kp,
                       A + T->a_elems(o0, G, gs), X2 + (size_t)(p0 / T->nr) * ps, (ptrdiff_t)ps, NULL };
          Q8Dq8Epi e = { ws + (size_t)o0 * G, xs2 + p0, ldx, with_bias ? bias + o0 : NULL, act,
                         got + (size_t)o0 * N + p0, N, 1, res };
          T->dq8_gemm(&g, &e);
        }
      const float *w = res ? wantr : want;
      bad = 0;
      for (int i = 0; i < M * N; i++) bad += memcmp(&w[i], &got[i], 4) != 0;
      CHECK(bad == 0, "dq8_gemm %s res=%d M=%d N=%d G=%d gs=%d asym=%d act=%d: %d of %d differ (e.g. %g vs %g)",
            T->name, res, M, N, G, gs, asym, act, bad, M * N, w[0], got[0]);
    }
    if (T->dq8_blocked_sums) {   /* the file's blocked weights (version 5) read in place, sums and zero points apart */
      size_t tiles = (size_t)(M + 3) / 4, nq = (size_t)(gs + 3) / 4, ct = 8 * (size_t)G;
      int8_t *B = malloc(tiles * (size_t)G * nq * 16);
      int32_t *comp = calloc(tiles * ct, sizeof *comp);
      mw_block_dq8(wq, 1, (size_t)M, (size_t)K, (size_t)gs, B);
      T->dq8_blocked_sums(B, tiles, G, (int)nq, comp);
      for (int o = 0; o < M; o++)
        for (int g = 0; g < G && asym; g++) comp[(size_t)o / 4 * ct + 4 * (size_t)G + 4 * (size_t)g + (size_t)o % 4] = wz[o * G + g];
      memset(got, 0x55, 4 * (size_t)M * N);
      for (int o0 = 0; o0 < M; o0 += mb)
        for (int p0 = 0; p0 < N; p0 += nb) {
          Q8Gemm g = { M - o0 < mb ? M - o0 : mb, N - p0 < nb ? N - p0 : nb, G, kp,
                       (const int16_t *)(const void *)(B + (size_t)(o0 / 4) * (size_t)G * nq * 16), X2 + (size_t)(p0 / T->nr) * ps,
                       (ptrdiff_t)ps, comp + (size_t)(o0 / 4) * ct };
          Q8Dq8Epi e = { ws + (size_t)o0 * G, xs2 + p0, ldx, with_bias ? bias + o0 : NULL, act,
                         got + (size_t)o0 * N + p0, N, 1, 0 };
          T->dq8_gemm(&g, &e);
        }
      bad = 0;
      for (int i = 0; i < M * N; i++) bad += memcmp(&want[i], &got[i], 4) != 0;
      CHECK(bad == 0, "dq8_gemm in place %s M=%d N=%d G=%d gs=%d asym=%d act=%d: %d of %d differ", T->name, M, N, G, gs,
            asym, act, bad, M * N);
      free(B); free(comp);
    }
    free(A); free(X2);
  }
  free(wf); free(xf); free(wq); free(wz); free(ws); free(bias); free(q); free(qx); free(zx); free(sx);
  free(want); free(got); free(xs2); free(rsd); free(wantr);
}


/* ---------------- dq8 convolution columns straight from the image (dq8_conv_quant) ----------------
   Against q8_im2col_f32_cols then the same descriptor's dq8_quant, panel (64 columns) by panel: the same
   bytes for every real column and the same scales; a geometry the kernel declines must write nothing.
   Values: mode 0 random, 1 halves (ties), 2 with whole zero rows. */
static void test_dq8_conv_quant(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                                int gs, int asym, int mode) {
  int OH = (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  if (OH < 1 || OW < 1) return;
  int K = C * kh * kw, N = OH * OW, NB = 64;
  if (K % gs) return;
  int G = K / gs;
  ptrdiff_t ldx = (ptrdiff_t)q8_round_up((size_t)N, 64);
  float *x = malloc(4 * (size_t)C * H * W), *P = malloc(4 * (size_t)K * NB);
  for (int i = 0; i < C * H * W; i++) {
    x[i] = mode == 1 ? (float)rint_in(-6, 6) * 0.5f : rfloat(2.0f) + 0.3f;
    if (mode == 2 && (i / W) % 4 == 1) x[i] = 0.0f;
  }
  for (int t = 0; t < n_dq8; t++) {
    const Q8Kernels *T = dq8_tables[t];
    if (!T->dq8_conv_quant) continue;
    size_t ps = q8_pstride(T, G, gs), xbytes = 2 * ps * ((size_t)ldx / (size_t)T->nr);
    int16_t *X1 = malloc(xbytes), *X2 = malloc(xbytes);
    float *xs1 = calloc((size_t)G * ldx, 4), *xs2 = calloc((size_t)G * ldx, 4);
    memset(X1, 0x5a, xbytes), memset(X2, 0x5a, xbytes);
    int took = -1, bad = 0;
    for (int p0 = 0; p0 < N; p0 += NB) {
      int n = N - p0 < NB ? N - p0 : NB;
      int16_t *panel1 = X1 + (size_t)(p0 / T->nr) * ps, *panel2 = X2 + (size_t)(p0 / T->nr) * ps;
      q8_im2col_f32_cols(x, H, W, 0, kh, kw, sh, sw, ph, pw, dh, dw, OW, 0, K, p0, p0 + n, P, NB);
      T->dq8_quant(G, gs, n, P, NB, asym, panel1, (ptrdiff_t)ps, xs1 + p0, ldx);
      Q8Dq8Conv cv = { x, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, p0 };
      int gm = (p0 / NB) % 2 ? G / 2 : 0;   /* odd panels in two calls, groups [0, gm) and [gm, G): the same bytes */
      int r = T->dq8_conv_quant(&cv, 0, gm ? gm : G, gs, n, asym, panel2, (ptrdiff_t)ps, xs2 + p0, ldx);
      if (gm && r) r = T->dq8_conv_quant(&cv, gm, G, gs, n, asym, panel2, (ptrdiff_t)ps, xs2 + p0, ldx);
      if (took >= 0 && r != took) bad++;
      took = r;
    }
    if (took) {
      for (int g = 0; g < G; g++)
        for (int p = 0; p < N; p++) {
          bad += memcmp(&xs1[g * ldx + p], &xs2[g * ldx + p], 4) != 0;
          for (int i = 0; i < (int)q8_round_up((size_t)gs, (size_t)T->kr); i++) {
            int k = g * (int)q8_round_up((size_t)gs, (size_t)T->kr) + i;
            bad += T->get_x(X1, ps, k, p) != T->get_x(X2, ps, k, p);
          }
        }
    } else
      for (size_t i = 0; i < xbytes / 2; i++) bad += X2[i] != 0x5a5a;
    CHECK(bad == 0, "dq8_conv_quant %s C=%d %dx%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d gs=%d asym=%d mode=%d (took %d): %d differ",
          T->name, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, gs, asym, mode, took, bad);
    free(X1); free(X2); free(xs1); free(xs2);
  }
  free(x); free(P);
}

/* ---------------- im2col ---------------- */
static void test_im2col(int C, int H, int W, int groups, int kh, int kw, int sh, int sw, int ph, int pw,
                        int dh, int dw) {
  int OH = (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  if (OH < 1 || OW < 1) return;
  int cig = C / groups, K = cig * kh * kw, N = OH * OW;
  ptrdiff_t ldx = (ptrdiff_t)q8_round_up((size_t)N, 64);
  int8_t *x = malloc((size_t)C * H * W);
  float *xf = malloc(4 * (size_t)C * H * W), *Xf = malloc(4 * (size_t)K * ldx);
  for (int i = 0; i < C * H * W; i++) { x[i] = (int8_t)rint_in(-128, 127); xf[i] = rfloat(1.0f); }
  static int calls = 0;   /* the padding value: the extreme zero points too */
  int32_t zx = calls % 3 == 0 ? -128 : calls % 3 == 1 ? 127 : rint_in(-128, 127);
  calls++;
  int bad = 0;
  for (int t = 0; t < n_sq8; t++)
  for (int gi = 0; gi < groups; gi++) {
    const Q8Kernels *T = sq8_tables[t];
    size_t ps = q8_pstride(T, 1, K);
    int16_t *X = malloc(2 * ps * (q8_round_up((size_t)N, (size_t)T->nr) / (size_t)T->nr));   /* NR need not divide 64 */
    int ci0 = gi * cig, split = K / 3;
    T->im2col_i8(x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, 0, split, X, (ptrdiff_t)ps);
    T->im2col_i8(x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, zx, split, K, X, (ptrdiff_t)ps);
    q8_im2col_f32(xf, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, 0, K, Xf, ldx);
    for (int ci = 0; ci < cig; ci++)
      for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++)
          for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
              int k = (ci * kh + ky) * kw + kx, ih = oh * sh - ph + ky * dh, iw = ow * sw - pw + kx * dw;
              int in = ih >= 0 && ih < H && iw >= 0 && iw < W;
              size_t src = ((size_t)(ci0 + ci) * H + (in ? ih : 0)) * W + (in ? iw : 0);
              bad += T->get_x(X, ps, k, oh * OW + ow) != (in ? x[src] : zx);
              bad += Xf[k * ldx + oh * OW + ow] != (in ? xf[src] : 0.0f);
            }
    /* the fused im2col: column blocks of 1, 2 and 3 panels from the padded planes equal the whole */
    if (T->im2col_cols && (sw == 1 || sw == 2)) {
      int Hp = H + 2 * ph, Wp = W + 2 * pw;
      int8_t *xp = malloc((size_t)cig * Hp * Wp);
      q8_pad_planes(x, H, W, ph, pw, zx, ci0, ci0 + cig, xp);
      for (int nb = 1; nb <= 3; nb++) {
        int B = nb * T->nr;
        int16_t *P = malloc(2 * ps * (size_t)nb);
        for (int p0 = 0; p0 < N; p0 += B) {
          int p1 = p0 + B < N ? p0 + B : N;
          T->im2col_cols(xp, Hp, Wp, kh, kw, sh, sw, dh, dw, OH, OW, zx, K, p0, p1, P, (ptrdiff_t)ps);
          for (int k = 0; k < K; k++)
            for (int p = p0; p < p1; p++) bad += T->get_x(P, ps, k, p - p0) != T->get_x(X, ps, k, p);
        }
        free(P);
      }
      /* the kx-quad order (dilation 1): row (ci, ky, kx) at (ci * kh + ky) * kq + kx, kq = kw rounded up to 4,
         the same values; rows with kx >= kw are not looked at */
      if (T->im2col_kxq && dh == 1 && dw == 1 && OW % 16 == 0 && T->im2col_kxq(NULL, 0, 0, NULL, 0)) {
        const Q8Kxq g = { xp, Hp, Wp, cig, kh, kw, sh, sw, OW };
        int kq = (kw + 3) / 4 * 4, Kq = cig * kh * kq;
        size_t psq = q8_pstride(T, 1, Kq);
        for (int nb = 1; nb <= 3; nb += 2) {
          int B = nb * T->nr;
          int16_t *P = malloc(2 * psq * (size_t)nb);
          for (int p0 = 0; p0 < N; p0 += B) {
            int p1 = p0 + B < N ? p0 + B : N;
            CHECK(T->im2col_kxq(&g, p0, p1, P, (ptrdiff_t)psq) == 1, "im2col_kxq ran");
            for (int ci = 0; ci < cig; ci++)
              for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                  for (int p = p0; p < p1; p++)
                    bad += T->get_x(P, psq, (ci * kh + ky) * kq + kx, p - p0) != T->get_x(X, ps, (ci * kh + ky) * kw + kx, p);
          }
          free(P);
        }
      }
      free(xp);
    }
    free(X);
    /* dq8's column panels: q8_im2col_f32_cols over runs of 1, 5, 64 and 100 positions, and row ranges
       (all K; from 0, 1 and 7 on, in slices of 5 rows), equals the whole */
    int runs[] = { 1, 5, 64, 100 };
    for (int r = 0; r < 4; r++) {
      float *P = malloc(4 * (size_t)K * runs[r]);
      for (int p0 = 0; p0 < N; p0 += runs[r]) {
        int p1 = p0 + runs[r] < N ? p0 + runs[r] : N;
        for (int kr = 0; kr < 4; kr++) {
          int start = kr == 0 ? 0 : kr == 1 ? 1 : 7, step = kr == 0 ? K : 5;
          for (int k0 = start < K ? start : 0; k0 < K; k0 += step) {
            int k1 = k0 + step < K ? k0 + step : K;
            q8_im2col_f32_cols(xf, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, OW, k0, k1, p0, p1, P, runs[r]);
            for (int k = k0; k < k1; k++)
              for (int p = p0; p < p1; p++)
                bad += memcmp(&P[(size_t)(k - k0) * runs[r] + p - p0], &Xf[k * ldx + p], 4) != 0;
          }
        }
      }
      free(P);
    }
  }
  CHECK(bad == 0, "im2col C=%d H=%d W=%d g=%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d: %d differ", C, H, W, groups,
        kh, kw, sh, sw, ph, pw, dh, dw, bad);
  free(x); free(xf); free(Xf);
}

/* ---------------- sq8 depthwise ---------------- */
/* One plane per (bias, mult, shift) case, against FORMAT.md written out (pads read zx), for every
   depthwise kernel this machine runs; mode 0: random, 1: extreme zero points / weights, 2: extreme
   biases (int32 limits: kernels that sum in int32 must notice), 3: as 0 with every shift >= 32 */
static void test_dw(int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int mode) {
  int OH = (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  if (OH < 1 || OW < 1) return;
  enum { cases = 9 };   /* planes: each its own input, weights, bias, multiplier and shift */
  int K = kh * kw, HW = H * W, OHW = OH * OW;
  int8_t *x = malloc((size_t)cases * HW), *w = malloc((size_t)cases * K), *want = malloc((size_t)cases * OHW);
  int8_t *got = malloc((size_t)cases * OHW + 64);
  int32_t bias[cases], mult[cases], shift[cases];
  for (int i = 0; i < cases * HW; i++) x[i] = (int8_t)(mode == 1 ? (rnd() & 1 ? 127 : -128) : rint_in(-128, 127));
  for (int i = 0; i < cases * K; i++) w[i] = (int8_t)(mode == 1 ? (rnd() & 1 ? 127 : -128) : rint_in(-128, 127));
  Q8DwShape s = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, rint_in(-128, 127), rint_in(-128, 127),
                 rint_in(-128, 0), rint_in(0, 127)};
  if (mode == 1) s.zx = rnd() & 1 ? 127 : -128, s.zy = rnd() & 1 ? 127 : -128, s.qmin = -128, s.qmax = 127;
  for (int c = 0; c < cases; c++) {
    const int8_t *xc = x + (size_t)c * HW, *wc = w + (size_t)c * K;
    bias[c] = (int32_t)(rnd() % 200001u) - 100000, mult[c] = (int32_t)(rnd() & 0x7FFFFFFF), shift[c] = rint_in(1, 62);
    if (c % 3 == 1) shift[c] = rint_in(20, 40);
    if (mode == 3) shift[c] = rint_in(32, 62);   /* every plane's shift >= 32 (q8_dw16's 32-bit path) */
    if (mode == 2) bias[c] = c % 2 ? 2147483647 - c : -2147483647 - 1 + c;
    if (c == cases - 1) mult[c] = 2147483647, shift[c] = mode == 2 || mode == 3 ? 62 : 1;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        int64_t acc = bias[c];
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) {
            int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
            int v = iy >= 0 && iy < H && ix >= 0 && ix < W ? xc[iy * W + ix] : s.zx;
            acc += (int64_t)wc[ky * kw + kx] * v;
          }
        int64_t y = s.zy + ((acc * mult[c] + ((int64_t)1 << (shift[c] - 1))) >> shift[c]);
        want[(size_t)c * OHW + oy * OW + ox] = (int8_t)(y < s.qmin ? s.qmin : y > s.qmax ? s.qmax : y);
      }
    for (int t = 0; t < n_dw; t++) {
      memset(got, 0x55, (size_t)OHW + 64);
      dw_tables[t]->dwconv(xc, wc, bias[c], mult[c], shift[c], got, &s);
      int bad = 0;
      for (int i = 0; i < OHW; i++) bad += want[(size_t)c * OHW + i] != got[i];
      for (int i = 0; i < 64; i++) bad += got[OHW + i] != 0x55;   /* nothing written past the plane */
      CHECK(bad == 0, "dwconv %s %dx%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d mode=%d case=%d: %d of %d differ",
            dw_tables[t]->name, H, W, kh, kw, sh, sw, ph, pw, dh, dw, mode, c, bad, OHW);
    }
  }
  /* the descriptors' runs of planes: all the cases in one call, and in runs of 1, 2, 3, ... */
  for (int t = 0; t < n_dw; t++) {
    if (!dw_tables[t]->dwconv_n) continue;
    for (int split = 0; split < 2; split++) {
      memset(got, 0x55, (size_t)cases * OHW + 64);
      for (int c0 = 0, r = split ? 1 : cases; c0 < cases; c0 += r, r += split) {
        int nc = cases - c0 < r ? cases - c0 : r;
        dw_tables[t]->dwconv_n(x + (size_t)c0 * HW, w + (size_t)c0 * K, bias + c0, mult + c0, shift + c0, got + (size_t)c0 * OHW, &s, nc);
      }
      int bad = 0;
      for (int i = 0; i < cases * OHW; i++) bad += want[i] != got[i];
      for (int i = 0; i < 64; i++) bad += got[cases * OHW + i] != 0x55;
      CHECK(bad == 0, "dwconv_n %s %dx%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d mode=%d split=%d: %d of %d differ",
            dw_tables[t]->name, H, W, kh, kw, sh, sw, ph, pw, dh, dw, mode, split, bad, cases * OHW);
    }
  }
  free(x); free(w); free(want); free(got);
}

/* ---------------- sq8 implicit convolution ---------------- */
/* every descriptor with sq8_conv against a naive sq8 convolution (FORMAT.md: acc = bias + sum w * x over
   the window, a padded tap reading zx; clamp(zy + requant(acc))), bit for bit; also by column ranges
   that are not the whole (as the engine splits them over threads); strided (sh x sw > 1), on the phase planes;
   the quad planes' bytes (stride 1 and phase planes) are also checked against their definition (kernels_q8.h:
   Q8Conv) */
static int qt_cases;   /* convolutions im2col_qt took */
static void test_conv_s(int M, int C, int H, int W, int kh, int kw, int ph, int pw, int dh, int dw, int sh, int sw) {
  int Hp = H + 2 * ph, Wp = W + 2 * pw;
  if (Hp - dh * (kh - 1) < 1 || Wp - dw * (kw - 1) < 1) return;
  int OH = (Hp - dh * (kh - 1) - 1) / sh + 1, OW = (Wp - dw * (kw - 1) - 1) / sw + 1;
  int K = C * kh * kw, Wq = q8_conv_wq(W, pw, sh, sw), F = (OH - 1) * Wq + OW;
  size_t phase = q8_conv_phase(H, W, ph, pw, sh, sw);
  if ((sh == 1 && sw == 1 && pw > (kw - 1) * dw)) return;   /* (the engine's implicit_sq8 takes none such) */
  int8_t *x = malloc((size_t)C * H * W + 1), *w = malloc((size_t)M * K), *want = malloc((size_t)M * OH * OW),
         *got = malloc((size_t)M * OH * OW);
  int32_t *bias = malloc(4 * (size_t)M), *mult = malloc(4 * (size_t)M), *shift = malloc(4 * (size_t)M);
  int32_t zx = rint_in(-128, 127), zy = rint_in(-128, 127), qmin = rint_in(-128, -1), qmax = rint_in(0, 127);
  for (int i = 0; i < C * H * W; i++) x[i] = (int8_t)rint_in(-128, 127);
  for (int i = 0; i < M * K; i++) w[i] = (int8_t)rint_in(-127, 127);
  for (int o = 0; o < M; o++)
    bias[o] = rint_in(-100000, 100000), mult[o] = (int32_t)(rnd() | 0x40000000u) & 0x7FFFFFFF,
    shift[o] = o % 3 ? rint_in(36, 44) : rint_in(1, 62);   /* the kernels' shift >= 32 path and the other */
  for (int o = 0; o < M; o++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int64_t acc = bias[o];
        for (int ci = 0; ci < C; ci++)
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int ih = oh * sh - ph + ky * dh, iw = ow * sw - pw + kx * dw;
              int v = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[((size_t)ci * H + ih) * W + iw] : zx;
              acc += (int64_t)w[(size_t)o * K + (ci * kh + ky) * kw + kx] * v;
            }
        want[((size_t)o * OH + oh) * OW + ow] = (int8_t)q8_clamp(zy + q8_requant(acc, mult[o], shift[o]), qmin, qmax);
      }
  for (int t = 0; t < n_sq8; t++) {
    const Q8Kernels *T = sq8_tables[t];
    if (!T->sq8_conv) continue;
    size_t plane = (size_t)sh * sw * phase + Q8_CONV_SLACK;
    int nq = (int)q8_round_up((size_t)(C + 3) / 4, (size_t)T->conv_cq);
    int8_t *xq = aligned_alloc(64, q8_round_up(4 * plane * nq, 64)), *A = aligned_alloc(64, q8_round_up(T->conv_a_bytes(M, C, kh, kw), 64));
    memset(xq, 0x3C, 4 * plane * nq);
    q8_quad_planes(x, C, H, W, ph, pw, sh, sw, zx, T->conv_xor, plane, 0, nq / 2, xq);   /* in two calls */
    q8_quad_planes(x, C, H, W, ph, pw, sh, sw, zx, T->conv_xor, plane, nq / 2, nq, xq + (size_t)(nq / 2) * plane * 4);
    {   /* the planes' bytes: the padded input's, pv past it, the slack and quads past C 0; stride 1 rows of W + pw,
           a row's right pads the next one's left ones, pw pads after the last row */
      int bad = 0;
      for (int q = 0; q < nq; q++)
        for (size_t i = 0; i < plane; i++)
          for (int j = 0; j < 4; j++) {
            int c = 4 * q + j, want_b = 0;
            if (c < C && i < (size_t)sh * sw * phase) {
              int pa = (int)(i / phase), a = pa / sw, b = pa % sw, r = (int)(i % phase) / Wq, cc = (int)(i % phase) % Wq;
              int y = r * sh + a - ph, xx = cc * sw + b - pw;
              if (sh == 1 && sw == 1 && r >= Hp) y = -1;   /* the pads after the last row */
              want_b = (int8_t)((y >= 0 && y < H && xx >= 0 && xx < W ? x[((size_t)c * H + y) * W + xx] : zx) ^ T->conv_xor);
            }
            bad += xq[((size_t)q * plane + i) * 4 + j] != (int8_t)want_b;
          }
      CHECK(bad == 0, "q8_quad_planes %s C=%d %dx%d p=%d,%d s=%d,%d: %d plane bytes differ", T->name, C, H, W, ph, pw, sh,
            sw, bad);
    }
#if defined(__x86_64__)
    if (cpu_has("avx512f")) {   /* the AVX-512 quad planes: the same bytes (over other garbage) */
      int8_t *xq2 = aligned_alloc(64, q8_round_up(4 * plane * nq, 64));
      memset(xq2, 0x3C, 4 * plane * nq);
      q8_quad_planes__avx512f(x, C, H, W, ph, pw, sh, sw, zx, T->conv_xor, plane, 0, 1, xq2);
      q8_quad_planes__avx512f(x, C, H, W, ph, pw, sh, sw, zx, T->conv_xor, plane, 1, nq, xq2 + plane * 4);
      CHECK(memcmp(xq, xq2, 4 * plane * nq) == 0, "q8_quad_planes__avx512f %s C=%d %dx%d p=%d,%d s=%d,%d differs", T->name, C, H,
            W, ph, pw, sh, sw);
      free(xq2);
    }
#endif
    memset(A, 0xA5, T->conv_a_bytes(M, C, kh, kw));   /* as the engine may give it: not zeroed */
    T->pack_conv(M, C, kh, kw, w, A);
    if (T->pack_conv_blk) {   /* straight from the file's blocked weights: the same bytes */
      int tiles;
      size_t ab = T->conv_a_bytes(M, C, kh, kw);
      int8_t *B = blocked_w(w, M, C, kh * kw, &tiles), *A2 = aligned_alloc(64, q8_round_up(ab, 64));
      memset(A2, 0x5A, ab);
      T->pack_conv_blk(M, C, kh, kw, B, 8, A2);
      CHECK(memcmp(A, A2, ab) == 0, "pack_conv_blk %s M=%d C=%d k=%dx%d: not pack_conv's bytes", T->name, M, C, kh, kw);
      free(A2);
      free(B);
    }
    Q8Conv cv = { M, C, kh, kw, dh, dw, OH, OW, Wq, plane, A, xq, sh, sw, phase, NULL };
    for (int split = 0; split < 2; split++) {
      memset(got, 0x5A, (size_t)M * OH * OW);
      Q8Sq8Epi ep = { bias, mult, shift, zy, qmin, qmax, got, OH * OW, 1 };
      if (!split) T->sq8_conv(&cv, &ep, 0, F);
      else   /* column ranges of 1, 2, 3, ... tiles */
        for (int f0 = 0, n = 1; f0 < F; f0 += n * T->nr, n++) T->sq8_conv(&cv, &ep, f0, f0 + n * T->nr < F ? f0 + n * T->nr : F);
      int bad = 0, first = -1;
      for (int i = 0; i < M * OH * OW; i++)
        if (got[i] != want[i] && bad++ == 0) first = i;
      CHECK(bad == 0, "sq8_conv %s M=%d C=%d %dx%d k=%dx%d p=%d,%d d=%d,%d s=%d,%d split=%d: %d of %d differ (first %d: %d vs %d)",
            T->name, M, C, H, W, kh, kw, ph, pw, dh, dw, sh, sw, split, bad, M * OH * OW, first, first < 0 ? 0 : got[first],
            first < 0 ? 0 : want[first]);
    }
    if (T->blocked_comp) {   /* the file's blocked weights read in place: the implicit convolution, and the GEMM on im2col_qt's X */
      int tiles, taps = kh * kw, nqw = (C + 3) / 4, N = OH * OW;
      int8_t *B = blocked_w(w, M, C, taps, &tiles);
      int32_t *comp = malloc((size_t)tiles * 8 * sizeof *comp);
      T->blocked_comp(B, (size_t)tiles, (size_t)nqw * taps, comp);
      Q8Conv ci = cv;
      ci.A = B, ci.comp = comp;
      memset(got, 0x5A, (size_t)M * OH * OW);
      Q8Sq8Epi ep = { bias, mult, shift, zy, qmin, qmax, got, OH * OW, 1 };
      T->sq8_conv(&ci, &ep, 0, F);
      int bad = 0;
      for (int i = 0; i < M * OH * OW; i++) bad += got[i] != want[i];
      CHECK(bad == 0, "sq8_conv in place %s M=%d C=%d %dx%d k=%dx%d p=%d,%d s=%d,%d: %d differ", T->name, M, C, H, W, kh, kw, ph,
            pw, sh, sw, bad);
      if (T->im2col_qt && T->im2col_qt(&ci, 0, 0, N, NULL, 0)) {
        size_t kq = (size_t)nqw * taps, ps = kq * 64;   /* int16 units a panel of 32 columns */
        size_t panels = q8_round_up((size_t)N, (size_t)T->nr) / (size_t)T->nr;
        int16_t *X = aligned_alloc(64, q8_round_up(ps * 2 * panels, 64));
        memset(X, 0x77, ps * 2 * panels);
        T->im2col_qt(&ci, 0, nqw / 2, N, X, (ptrdiff_t)ps);   /* in two calls, as the engine's tasks */
        T->im2col_qt(&ci, nqw / 2, nqw, N, X, (ptrdiff_t)ps);
        Q8Gemm gq = { M, N, 1, (int)kq, (const int16_t *)(const void *)B, X, (ptrdiff_t)ps, comp };
        memset(got, 0x5A, (size_t)M * N);
        T->sq8_gemm(&gq, &ep);
        bad = 0;
        for (int i = 0; i < M * N; i++) bad += got[i] != want[i];
        CHECK(bad == 0, "im2col_qt + sq8_gemm in place %s M=%d C=%d %dx%d k=%dx%d p=%d,%d d=%d,%d s=%d,%d: %d differ", T->name, M, C,
              H, W, kh, kw, ph, pw, dh, dw, sh, sw, bad);
        free(X);
        qt_cases++;
      }
      free(B); free(comp);
    }
    free(xq); free(A);
  }
  free(x); free(w); free(want); free(got); free(bias); free(mult); free(shift);
}
static void test_conv(int M, int C, int H, int W, int kh, int kw, int ph, int pw, int dh, int dw) {
  test_conv_s(M, C, H, W, kh, kw, ph, pw, dh, dw, 1, 1);
}

/* the sq8 depthwise and implicit convolution kernels of every table, on awkward shapes */
static void test_dw_conv(void) {
  /* depthwise: 1x1 planes, odd widths, the 7- and 14-wide planes of MobileNet, long rows, strides
     1..5, padding 0..2 (and more than the kernel), kernels 1..7 (and 17: past the SIMD limit),
     dilation 2 */
  int dwsz[][2] = { { 1, 1 }, { 1, 7 }, { 7, 7 }, { 14, 14 }, { 5, 13 }, { 3, 65 }, { 9, 130 }, { 112, 112 } };
  int dwk[][2] = { { 3, 3 }, { 5, 5 }, { 1, 1 }, { 3, 5 }, { 7, 2 }, { 2, 7 }, { 4, 4 } };
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 7; b++)
      for (int st = 1; st <= 4; st++)
        for (int pd = 0; pd <= 2; pd++) {
          if (a == 7 && (b > 1 || pd == 2)) continue;   /* the big plane: fewer cases */
          int mode = (a + b + st + pd) % 5 == 0 ? 1 : (a + b + st + pd) % 7 == 0 ? 2 : 0;
          test_dw(dwsz[a][0], dwsz[a][1], dwk[b][0], dwk[b][1], st == 3 ? 2 : st, st == 3 ? 1 : st, pd, pd, 1, 1, mode);
          if (a < 5) test_dw(dwsz[a][0], dwsz[a][1], dwk[b][0], dwk[b][1], st == 3 ? 2 : st, st == 3 ? 1 : st, pd, pd, 1, 1, 3);
        }
  for (int mode = 0; mode < 3; mode++) {
    test_dw(9, 17, 3, 3, 1, 1, 2, 2, 2, 2, mode);      /* dilation 2 */
    test_dw(11, 23, 3, 3, 2, 2, 1, 2, 1, 2, mode);     /* dilation along x only */
    test_dw(10, 40, 5, 5, 1, 5, 2, 2, 1, 1, mode);     /* stride 5 */
    test_dw(8, 37, 3, 3, 3, 3, 1, 1, 1, 1, mode);      /* stride 3 */
    test_dw(6, 50, 2, 17, 1, 1, 0, 8, 1, 1, mode);     /* kw 17 */
    test_dw(20, 9, 17, 2, 1, 1, 8, 0, 1, 1, mode);     /* kh 17 */
    test_dw(5, 6, 3, 3, 1, 1, 4, 5, 1, 1, mode);       /* padding past the kernel: all-pad windows */
    test_dw(4, 300, 3, 16, 1, 1, 1, 7, 1, 1, mode);    /* kw 16: four weight quads */
  }
  /* the bounds of q8_dwsmall's layouts (VBMI): flat's widest plane (15 + (kh - 1) W + kw - 1 < 64) and one
     wider, its most vectors (64) and more, rows' widest output row at stride 2, its tallest kernel (8) and one taller */
  for (int mode = 0; mode < 4; mode++) {
    test_dw(23, 23, 3, 3, 1, 1, 1, 1, 1, 1, mode);
    test_dw(24, 24, 3, 3, 1, 1, 1, 1, 1, 1, mode);
    test_dw(44, 23, 3, 3, 1, 1, 1, 1, 1, 1, mode);
    test_dw(45, 23, 3, 3, 1, 1, 1, 1, 1, 1, mode);
    test_dw(32, 32, 3, 3, 2, 2, 1, 1, 1, 1, mode);
    test_dw(30, 9, 8, 3, 1, 1, 4, 1, 1, 1, mode);
    test_dw(12, 12, 9, 3, 1, 1, 4, 1, 1, 1, mode);
  }
  /* implicit convolution: channels around the quads and 64-channel blocks, rows around the 32-row
     tiles, widths around 16 and 32 columns, kernels 2x2..7x7, uneven padding, dilation, all-pad rows */
  {
    int cs[] = { 1, 3, 4, 5, 63, 64, 65, 130 }, ms[] = { 1, 16, 17, 31, 32, 33, 64, 70 };
    int sz[][2] = { { 1, 1 }, { 3, 5 }, { 7, 7 }, { 14, 14 }, { 9, 31 }, { 5, 40 }, { 2, 65 } };
    int ks[][2] = { { 3, 3 }, { 1, 3 }, { 2, 2 }, { 5, 5 }, { 3, 1 }, { 7, 7 } };
    for (int a = 0; a < 8; a++)
      for (int b = 0; b < 7; b++) {
        int k = (a + 2 * b) % 6, pd = (a + b) % 3;
        test_conv(ms[(a * 3 + b) % 8], cs[a], sz[b][0], sz[b][1], ks[k][0], ks[k][1], pd, ks[k][1] > 1 ? (pd + 1) % 3 : 0, 1, 1);
      }
    test_conv(64, 64, 56, 56, 3, 3, 1, 1, 1, 1);     /* ResNet18's layer1 */
    test_conv(40, 20, 11, 13, 3, 3, 2, 2, 2, 2);     /* dilation 2 */
    test_conv(33, 9, 10, 17, 3, 3, 1, 2, 1, 2);      /* dilation along x */
    test_conv(5, 6, 4, 5, 3, 3, 4, 5, 1, 1);         /* padding past the window: all-pad outputs */
    test_conv(9, 8, 1, 32, 1, 3, 0, 1, 1, 1);        /* AVX-512 VNNI's 8 x 32 tile: one whole tile of columns, 9 rows */
    test_conv(8, 7, 2, 30, 3, 3, 1, 1, 1, 1);        /* Wp 32: rows of flat columns on the tiles, 8 rows */
    test_conv(10, 5, 5, 60, 1, 3, 0, 0, 1, 25);      /* 50 unstored columns a row: 32-column tiles with none stored */
    test_conv(6, 7, 3, 131, 3, 3, 1, 1, 1, 1);       /* rows of over 64 pixels (the AVX-512 quad planes' tail), 7 channels */
    /* stride 2 (and 3, 2x1) on phase planes: even and odd sizes and paddings, windows wider than the stride
       and not, dilation, channels around the quads and 64-channel blocks, ResNet's 3x3 stride-2 layers */
    int s2[][6] = { { 64, 56, 56, 3, 1, 2 }, { 65, 9, 13, 3, 1, 2 }, { 5, 7, 7, 3, 0, 2 }, { 70, 14, 15, 1, 0, 2 },
                    { 3, 23, 24, 7, 3, 2 }, { 130, 6, 5, 5, 2, 2 }, { 8, 4, 1, 2, 0, 2 }, { 17, 11, 300, 3, 1, 2 },
                    { 64, 10, 12, 3, 1, 3 } };
    for (int i = 0; i < 9; i++)
      test_conv_s(17 + 15 * i, s2[i][0], s2[i][1], s2[i][2], s2[i][3], s2[i][3] == 1 ? 3 : s2[i][3], s2[i][4], s2[i][4],
                  1, 1, s2[i][5], s2[i][5]);
    test_conv_s(33, 64, 28, 28, 3, 3, 1, 1, 1, 1, 2, 2);   /* ResNet's 3x3 stride-2, a 28x28 input */
    test_conv_s(20, 12, 15, 17, 3, 3, 2, 2, 2, 2, 2, 2);   /* dilation 2 with stride 2: every tap in phase 0 */
    test_conv_s(9, 10, 12, 19, 3, 3, 1, 1, 1, 1, 2, 1);    /* stride 2 by rows only */
    test_conv_s(31, 66, 7, 7, 3, 3, 1, 1, 1, 1, 2, 2);     /* ResNet's layer4 stride-2 input, 2 channel blocks */
    test_conv_s(5, 4, 3, 600, 3, 3, 1, 1, 1, 1, 2, 2);     /* phase rows of over 256 pixels: the gather's chunks */
    test_conv_s(7, 8, 5, 131, 3, 3, 1, 1, 1, 1, 2, 2);     /* phase rows of 65-66 pixels: a 64-pixel step and a 1-2 pixel tail */
    /* AVX-512's phase rows of 17-32 pixels, two vectors each: 32 (two whole vectors), 17 (a second one of one lane),
       23-24 with pads 2 and 3 (phases of different interiors), 31 with an interior from lane 8 */
    test_conv_s(41, 12, 9, 62, 3, 3, 1, 1, 1, 1, 2, 2);
    test_conv_s(43, 8, 6, 31, 3, 3, 1, 1, 1, 1, 2, 2);
    test_conv_s(47, 20, 7, 40, 5, 5, 2, 3, 1, 1, 2, 2);
    test_conv_s(53, 4, 5, 30, 3, 3, 16, 16, 1, 1, 2, 2);
    /* small maps (im2col_qt, the GEMM on the blocked weights): ResNet's 7x7 layers at stride 1 and 2, an 8x8 map (64
       outputs: 4 whole groups of 16), a 1x1 map, dilation 2, channels not a multiple of 4, a 5x5 window */
    test_conv(24, 64, 7, 7, 3, 3, 1, 1, 1, 1);
    test_conv_s(40, 64, 14, 14, 3, 3, 1, 1, 1, 1, 2, 2);
    test_conv(16, 8, 8, 8, 3, 3, 1, 1, 1, 1);
    test_conv(9, 12, 1, 1, 3, 3, 1, 1, 1, 1);
    test_conv(11, 6, 5, 9, 3, 3, 2, 2, 2, 2);
    test_conv(19, 13, 7, 7, 5, 5, 2, 2, 1, 1);
  }
}

int main(void) {
  for (int i = 0; dispatch_isa(i); i++) {   /* every distinct descriptor this machine runs, per kind */
    const Q8Kernels *k = q8_kernels_for(dispatch_isa(i), KIND_SQ8);
    int seen = !k;
    for (int t = 0; t < n_sq8; t++) seen |= sq8_tables[t] == k;
    if (!seen) sq8_tables[n_sq8++] = k, printf("test_q8_kernels: sq8 %s\n", k->name);
    k = q8_kernels_for(dispatch_isa(i), KIND_DQ8);
    seen = !k;
    for (int t = 0; t < n_dq8; t++) seen |= dq8_tables[t] == k;
    if (!seen) dq8_tables[n_dq8++] = k, printf("test_q8_kernels: dq8 %s\n", k->name);
    seen = !k || !k->sq8_gemm;   /* a dq8 descriptor's sq8 GEMM too (AVX2's i16x2 one, the table's sq8 before its unsigned quads) */
    for (int t = 0; t < n_sq8; t++) seen |= sq8_tables[t] == k;
    if (!seen) sq8_tables[n_sq8++] = k, printf("test_q8_kernels: sq8 %s\n", k->name);
    const Q8DwDesc *d = q8_dw_for(dispatch_isa(i));
    seen = !d;
    for (int t = 0; t < n_dw; t++) seen |= dw_tables[t] == d;
    if (!seen) dw_tables[n_dw++] = d, printf("test_q8_kernels: sq8 depthwise %s\n", d->name);
  }
#if defined(__x86_64__)
  /* the implicit convolutions' 3x3 weight transposer (pack_conv) against its definition: channels
     1..64, the bytes past the 9 n it may read set to 0x7F (a read of them shows in the zero lanes) */
  if (__builtin_cpu_supports("avx512vbmi")) {
    Q8Taps9 T;
    q8_taps9_init(&T);
    int8_t w[9 * 64 + 64], out[9][64];
    for (int n = 1; n <= 64; n++) {
      for (int i = 0; i < (int)sizeof w; i++) w[i] = i < 9 * n ? (int8_t)rint_in(-128, 127) : (int8_t)0x7F;
      memset(out, 0x5A, sizeof out);
      q8_taps9__avx512vbmi(&T, w, n, out);
      int bad = 0;
      for (int t = 0; t < 9; t++)
        for (int c = 0; c < 64; c++) bad += out[t][c] != (c < n ? w[9 * c + t] : 0);
      CHECK(bad == 0, "q8_taps9__avx512vbmi n=%d: %d of 576 bytes wrong", n, bad);
    }
    printf("test_q8_kernels: q8_taps9__avx512vbmi\n");
  }
#endif
  test_dw_conv();
  test_pack_w_blk_taps();
#if defined(__x86_64__)
  if (q8_vbmi_on()) {   /* again as a CPU without AVX-512 VBMI runs the VNNI table (its packers' byte loops, per-plane depthwise) */
    q8_vbmi = 0;
    test_dw_conv();
    q8_vbmi = -1;
    printf("test_q8_kernels: sq8 depthwise and implicit convolutions without VBMI\n");
  }
#endif
  int Ms[] = { 1, 3, 4, 5, 7, 8, 13, 33 }, Ns[] = { 1, 2, 15, 16, 19, 20, 33, 49 };   /* tails of 1-4 and 15 columns (4x16 kernels: 3 and 4 by two column paths) */
  int Ks[] = { 1, 2, 3, 9, 27, 64, 65, 147 };
  for (int a = 0; a < 8; a++)
    for (int b = 0; b < 8; b++)
      for (int c = 0; c < 8; c++)
        if ((a + b + c) % 3 == 0 || Ms[a] * Ns[b] * Ks[c] < 2000) test_sq8_gemm(Ms[a], Ns[b], Ks[c]);
  test_sq8_gemm(5, 7, 4608);
  test_sq8_gemm(3, 17, 65536);           /* the largest K a reader accepts: no overflow */
  test_sq8_gemm_ext(9, 13, 65536, 1);
  test_sq8_gemm_ext(17, 25, 1, 1);
  test_sq8_gemm_ext(9, 5, 65536, 2);
  test_sq8_gemm_ext(40, 37, 300, 1);
  /* extreme weights in a last panel of 1 to 4 columns: every pair of the unsigned-quad kernel's tiles split (dense), a
     tile alone (M <= 4) or in a group */
  test_sq8_gemm_ext(3, 18, 300, 1), test_sq8_gemm_ext(4, 1, 65, 2), test_sq8_gemm_ext(6, 17, 65, 2), test_sq8_gemm_ext(20, 34, 9, 1);
  test_sq8_gemm_ext(3, 19, 300, 1), test_sq8_gemm_ext(6, 20, 65, 2), test_sq8_gemm_ext(20, 36, 9, 2);   /* 3 and 4: two paths of 2 and 1-2 */
  /* sizes around the larger tiles (AMX: 32 x 32 of 16 x 16 tiles, k blocks of 64) */
  int Mb[] = { 16, 17, 32, 47, 64, 65, 100 }, Nb[] = { 15, 32, 47, 64, 100 }, Kb[] = { 63, 128, 129, 576 };
  for (int a = 0; a < 7; a++)
    for (int b = 0; b < 5; b++)
      for (int c = 0; c < 4; c++)
        if ((a + b + c) % 2 == 0) test_sq8_gemm(Mb[a], Nb[b], Kb[c]);
  test_sq8_gemm(70, 45, 4608);
  /* column tails of the VNNI GEMM (1 to 4 extra columns of the last panel's tile, 17 by an 8 x 48 tile with
     one extra, other remainders a tile of 32): blocks of 64 columns above, the whole N in the transposed call */
  /* at most 4 columns alone (the VNNI GEMM's cols_acc: two quads a zmm, 4 or 2 sums a column): 1 to 4 columns,
     1 to 24 quads (every count modulo 8 of them, the odd last quad) */
  for (int kq = 1; kq <= 24; kq++) test_sq8_gemm(kq % 2 ? 13 : 8, 1 + kq % 4, 4 * kq - kq % 3);
  test_sq8_gemm(16, 1, 4608);
  for (int n = 5; n <= 16; n++) test_sq8_gemm(n % 2 ? 13 : 8, n, 4 * n + n % 3);   /* 5 to 16 alone: the 8 x 16 tile */
  int Nt[] = { 34, 35, 50, 52, 53, 60, 84, 196 };
  for (int b = 0; b < 8; b++) test_sq8_gemm(b % 2 ? 13 : 8, Nt[b], b % 3 ? 65 : 300);
  /* the AVX2 GEMM's last 1 or 2 columns (sq8_cols_nc: 4 row tiles at once) past a pass of 64 rows, odd and even pairs */
  test_sq8_gemm(100, 49, 65), test_sq8_gemm(70, 34, 147), test_sq8_gemm(71, 17, 64), test_sq8_gemm(66, 2, 9);
  int gcfg[][2] = { { 1, 1 }, { 1, 27 }, { 2, 9 }, { 3, 64 }, { 1, 64 }, { 5, 13 }, { 4, 32 }, { 2, 65 } };
  for (int a = 0; a < 8; a++)
    for (int asym = 0; asym < 2; asym++)
      for (int i = 0; i < 3; i++) {
        int M = Ms[(a + i * 3) % 8], N = Ns[(a * 5 + i + asym) % 8];
        test_dq8(M, N, gcfg[a][0], gcfg[a][1], asym, (a + i + asym) % ACT_COUNT, (a + asym + i) % 2);
      }
  /* blocks of at most 4 columns (gemm_n4 on VNNI): 1 to 4 of them, slots of both formats (groups up to 128 values
     and over), the last block of 68 columns */
  for (int i = 0; i < 8; i++) test_dq8(i % 2 ? 5 : 8, 1 + i % 4, 1 + i % 3, i < 4 ? 36 + 8 * i : 130 + 25 * i, i % 2, i % ACT_COUNT, i / 2 % 2);
  test_dq8(9, 68, 2, 64, 1, 1, 1);
  test_dq8(17, 64, 9, 64, 1, 1, 1);
  test_dq8(4, 23, 1, 1000, 0, 0, 1);
  dq8_extreme = 1;   /* the largest group a reader allows, every product 255 * 255: isum near 2^31 */
  test_dq8(9, 14, 1, 32768, 1, 0, 1);
  test_dq8(9, 14, 2, 32767, 0, 0, 0);
  dq8_extreme = 0;
  /* dq8 columns straight from the image: widths around the 16-lane pieces (OW 5..9, 14, 16, 17, 56),
     pads, dilations, group sizes (odd, not a multiple of 4, > 128, declined > 256), declined strides */
  {
    int cfg[][12] = { { 7, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 63 }, { 2, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 9 },
                      { 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 27 },   { 4, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 12 },
                      { 3, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 3 },  { 2, 8, 16, 3, 5, 1, 1, 0, 2, 1, 1, 30 },
                      { 5, 17, 17, 3, 3, 1, 1, 2, 2, 2, 2, 45 }, { 16, 8, 9, 1, 1, 1, 1, 0, 0, 1, 1, 16 },
                      { 20, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 180 }, { 40, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 360 },
                      { 3, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 27 }, { 3, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 9 },
                      { 1, 12, 40, 7, 7, 1, 1, 3, 3, 1, 1, 49 }, { 2, 6, 30, 2, 17, 1, 1, 0, 8, 1, 1, 34 },
                      { 3, 40, 40, 7, 7, 2, 2, 3, 3, 1, 1, 49 }, { 8, 15, 15, 1, 1, 2, 2, 0, 0, 1, 1, 8 },
                      { 4, 11, 23, 3, 3, 2, 2, 1, 1, 1, 1, 36 }, { 3, 12, 19, 3, 3, 1, 2, 0, 1, 1, 2, 9 },
                      { 2, 9, 13, 3, 3, 3, 3, 1, 1, 1, 1, 18 }, { 4, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 36 },
                      /* maps of at most 16 pixels in at most 4 rows (2x2, 1x1, 3x3, 4x4, stride 2), and 5x2 (declined) */
                      { 8, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 72 },   { 4, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 36 },
                      { 16, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 48 },  { 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 27 },
                      { 2, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 18 },   { 2, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 6 },
                      { 4, 2, 3, 1, 1, 1, 1, 0, 0, 1, 1, 4 } };
    for (int c = 0; c < (int)(sizeof cfg / sizeof *cfg); c++)
      for (int asym = 0; asym < 2; asym++)
        for (int mode = 0; mode < 3; mode++) {
          int *f = cfg[c];
          test_dq8_conv_quant(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], asym, mode);
        }
  }
  test_im2col(3, 7, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1);
  test_im2col(4, 8, 8, 1, 7, 7, 2, 2, 3, 3, 1, 1);
  test_im2col(6, 5, 11, 3, 3, 2, 2, 3, 1, 0, 2, 1);
  test_im2col(4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1);
  test_im2col(2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1);
  test_im2col(2, 5, 5, 2, 1, 1, 2, 2, 0, 0, 1, 1);
  test_im2col(3, 13, 4, 1, 3, 3, 3, 1, 4, 4, 2, 3);
  test_im2col(2, 3, 600, 1, 3, 3, 1, 1, 1, 1, 1, 1);   /* output rows longer than im2col's runs */
  test_im2col(2, 3, 613, 1, 3, 5, 1, 2, 1, 2, 1, 1);
  test_im2col(8, 7, 9, 1, 1, 1, 1, 1, 0, 0, 1, 1);     /* 1x1 stride 1: whole quads of channels */
  test_im2col(12, 6, 6, 3, 1, 1, 1, 1, 0, 0, 1, 1);
  test_im2col(10, 20, 30, 1, 1, 1, 1, 1, 0, 0, 1, 1);  /* N = 600: several column chunks */
  test_im2col(24, 16, 17, 2, 1, 1, 1, 1, 0, 0, 1, 1);  /* the fused im2col's one-row path, 64 columns a step */
  test_im2col(3, 1, 200, 1, 3, 3, 1, 1, 1, 1, 1, 1);   /* one output row, padded: the same path */
  test_im2col(8, 30, 30, 1, 3, 3, 1, 1, 1, 1, 1, 1);
  test_im2col(5, 17, 19, 1, 3, 3, 2, 2, 1, 1, 1, 1);
  test_im2col(16, 9, 11, 1, 1, 1, 2, 2, 0, 0, 1, 1);   /* unpadded: read in place */
  test_im2col(8, 9, 10, 2, 3, 3, 1, 1, 0, 0, 1, 1);
  test_im2col(8, 12, 13, 1, 3, 3, 2, 2, 0, 0, 2, 2);
  test_im2col(4, 40, 150, 1, 3, 3, 1, 1, 1, 1, 1, 1);  /* padded planes too large for the stack buffer */
  test_im2col(12, 60, 58, 1, 3, 3, 1, 1, 1, 1, 1, 1);  /* many rows per call: done in pieces of channels */
  test_im2col(12, 61, 59, 1, 3, 3, 2, 2, 1, 1, 1, 1);
  /* the kx-quad order (output rows of whole 16-column groups): the 3-channel stems (7x7 and 3x3 stride 2, OW 32
     and 16), windows that leave 1, 2 or 4 taps in a row's last quad, stride 1 */
  test_im2col(3, 13, 64, 1, 7, 7, 2, 2, 3, 3, 1, 1);
  test_im2col(3, 9, 32, 1, 3, 3, 2, 2, 1, 1, 1, 1);
  test_im2col(2, 9, 16, 1, 5, 5, 1, 1, 2, 2, 1, 1);
  test_im2col(3, 10, 34, 1, 2, 6, 2, 2, 0, 1, 1, 1);
  test_im2col(1, 12, 19, 1, 4, 8, 1, 1, 1, 2, 1, 1);
  test_im2col(3, 5, 48, 1, 3, 3, 1, 1, 1, 1, 1, 1);
  test_im2col(2, 130, 1, 1, 3, 1, 1, 1, 1, 0, 1, 1);   /* one-column rows: dq8's column runs of over 64 row pieces */
  for (int t = 0; t < n_sq8; t++)   /* the small maps above took the GEMM on im2col_qt's X where a table has it */
    CHECK(!sq8_tables[t]->im2col_qt || qt_cases >= 6, "im2col_qt took %d convolutions", qt_cases);
  if (fails) { fprintf(stderr, "test_q8_kernels: %d failures\n", fails); return 1; }
  printf("test_q8_kernels: ok (im2col_qt: %d convolutions)\n", qt_cases);
  return 0;
}
