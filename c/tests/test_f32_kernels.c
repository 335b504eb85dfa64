/* test_f32_kernels.c: every float32 kernel this machine runs (each ISA table of src/dispatch.c),
 * through its own descriptor (tile, packer), against a plain reference on awkward sizes (1, tile +- 1,
 * primes), within a bound derived from the reduction length; the activation helpers bit for bit. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "dispatch.h"
#include "model.h"
#include "util_writer.h"

/* the same tile summed over K in three chunks (acc: from C) equals the one call c bit for bit */
static void gemm_chunked(const F32GemmDesc *d, size_t k, const float *a, const float *b, const float *c, size_t ldc,
                         const float *bias, int act) {
  int MR = d->mr, NR = d->nr;
  size_t k1 = k / 3, k2 = k1 + (k - k1) / 2;
  float *c2 = malloc(MR * ldc * sizeof(float)), zero[F32_MAX_MR] = {0};
  d->gemm(k1, a, b, c2, ldc, zero, ACT_NONE, 0);
  d->gemm(k2 - k1, a + k1 * MR, b + k1 * NR, c2, ldc, zero, ACT_NONE, 1);
  d->gemm(k - k2, a + k2 * MR, b + k2 * NR, c2, ldc, bias, act, 1);
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      float x = c[i * ldc + j], y = c2[i * ldc + j];
      CHECK(x == y || (x != x && y != y), "%s k=%zu act=%d in chunks: c[%d][%d] = %.9g, one call %.9g", d->name, k, act, i, j, y, x);
    }
  free(c2);
}

/* the GEMM of descriptor d on M <= mr rows of row-major weights packed by d->pack_a */
static void test_gemm(const F32GemmDesc *d, uint64_t *r) {
  size_t ks[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 64, 97, 255, 256, 257, 1021, 4608};
  int MR = d->mr, NR = d->nr;
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++)
    for (int act = 0; act < ACT_COUNT; act++) {
      size_t k = ks[t], ldc = (size_t)NR + 3;
      int M = (t % 2) ? MR : MR - 1 > 0 ? MR - 1 : 1;   /* a full panel, or one padded row */
      float *w = calloc(k * MR, sizeof(float)), *a = malloc(k * MR * sizeof(float)), *b = malloc(k * NR * sizeof(float));
      float *bias = calloc((size_t)MR, sizeof(float)), *c = malloc(MR * ldc * sizeof(float));   /* rows >= M: zero */
      rng_fill(r, w, k * M, -1, 1), rng_fill(r, b, k * NR, -1, 1), rng_fill(r, bias, (size_t)M, -2, 2);
      d->pack_a(w, (size_t)M, k, MR, a);
      for (size_t i = 0; i < MR * ldc; i++) c[i] = 12345.0f; /* the gap columns must stay */
      d->gemm(k, a, b, c, ldc, bias, act, 0);
      gemm_chunked(d, k, a, b, c, ldc, bias, act);
      for (int i = 0; i < MR; i++)
        for (size_t j = 0; j < ldc; j++) {
          if (j >= (size_t)NR) {
            CHECK(c[i * ldc + j] == 12345.0f, "%s wrote past its tile", d->name);
            continue;
          }
          if (i >= M) continue;   /* padded rows: any value */
          double sum = bias[i], abs = fabs(bias[i]);
          for (size_t kk = 0; kk < k; kk++) sum += (double)w[i * k + kk] * b[kk * NR + j], abs += fabs((double)w[i * k + kk] * b[kk * NR + j]);
          double tol = 2.0 * (k + 2) * FLT_EPSILON * abs, want = act_f32((float)sum, act);
          double dd = fabs((double)c[i * ldc + j] - want);
          CHECK(dd <= 2 * tol + 4 * FLT_EPSILON * fabs(want) + 1e-30, "%s k=%zu act=%d c[%d][%zu] = %.9g, want %.9g", d->name, k,
                act, i, j, c[i * ldc + j], want);
        }
      free(w), free(a), free(b), free(bias), free(c);
    }
}

/* d->gemm_u against the sum it defines, computed here with fmaf in its order (kk, then taps), + bias, then
   act_f32: bit for bit. Both layouts (in place: lda = K + 3, ks = 1; packed, nt = 1: lda = 1, ks = f32_tail_rows(m), or
   ks = 32: a file's panel of 32 rows, from row 32 - f32_tail_rows(m) on, as ops_f32.c a_tile reads it),
   taps with offsets that overlap, every m and the n around the vector edges (every n for a tile of at most 16 columns:
   NEON's 8 are two vectors of 4). A holds exactly the rows the
   kernel may read (ASan: no other), rows m.. and each row's slack NaN (they must not reach C); C's other rows
   and columns must stay; in two chunks of kk (acc) the same floats; with F32_ACC_RES (a fused residual ADD)
   act((sum + bias) + C's value), bit for bit. */
static void test_gemm_u(const F32GemmDesc *d, uint64_t *r) {
  size_t ks_[] = {1, 2, 7, 64, 97}, nts[] = {1, 4, 9};
  int MR = d->mr, NR = d->nr, calls = 0;
  for (size_t ki = 0; ki < sizeof ks_ / sizeof *ks_; ki++)
    for (size_t ti = 0; ti < sizeof nts / sizeof *nts; ti++)
      for (int lay = 0; lay <= 2; lay++)   /* in place, packed, a file's panel */
        for (int m = 1, packed = lay > 0; m <= MR && !(packed && nts[ti] > 1); m += (m < 4 || m > MR - 3) ? 1 : 3)
          for (int n = 1; n <= NR; n += (NR <= 16 || n < 3 || n > NR - 3 || n % 16 >= 15 || n % 16 <= 1) ? 1 : 6) {
            size_t k = ks_[ki], nt = nts[ti], K = k * nt, rr = (size_t)f32_tail_rows(m, MR), lda = packed ? 1 : K + 3;
            size_t ks = lay == 2 ? F32_PANEL_MAX : packed ? rr : 1, na = packed ? ks * K : rr * lda, ldb = (size_t)NR + 5 + nt,
                   ldc = (size_t)NR + 2, a0 = lay == 2 ? F32_PANEL_MAX - rr : 0;   /* a = abuf + a0 */
            int act = (int)((ki + ti + (size_t)m + (size_t)n) % ACT_COUNT);
            ptrdiff_t boff[9] = {0, 1, 2, 5, (ptrdiff_t)ldb / 2, 3, 4, 6, 7};
            float *abuf = malloc(na * sizeof(float)), *a = abuf + a0, *b = malloc((k * ldb + NR) * sizeof(float));
            float *c = malloc((size_t)MR * ldc * sizeof(float)), *c2 = malloc((size_t)MR * ldc * sizeof(float));
            float *c3 = malloc((size_t)MR * ldc * sizeof(float)), *res = malloc((size_t)MR * ldc * sizeof(float));
            float bias[F32_MAX_MR], zero[F32_MAX_MR] = {0};
            memset(abuf, 0xff, na * sizeof(float));   /* NaN */
            for (int i = 0; i < m; i++)
              for (size_t q = 0; q < K; q++) a[packed ? q * ks + (size_t)i : (size_t)i * lda + q] = rng_unif(r, -1, 1);
            rng_fill(r, b, k * ldb + NR, -1, 1), rng_fill(r, bias, F32_MAX_MR, -2, 2);
            for (size_t i = 0; i < (size_t)MR * ldc; i++) c[i] = c2[i] = 12345.0f;
            for (size_t i = 0; i < (size_t)MR * ldc; i++) /* the residual: C's values inside the tile */
              c3[i] = res[i] = i / ldc < (size_t)m && i % ldc < (size_t)n ? rng_unif(r, -3, 3) : 12345.0f;
            d->gemm_u(k, nt, boff, a, lda, ks, b, ldb, c, ldc, m, n, bias, act, 0);
            d->gemm_u(k, nt, boff, a, lda, ks, b, ldb, c3, ldc, m, n, bias, act, F32_ACC_RES);
            size_t k1 = k / 2;   /* in two chunks: the first from zero, the second from C */
            d->gemm_u(k1, nt, boff, a, lda, ks, b, ldb, c2, ldc, m, n, zero, ACT_NONE, 0);
            d->gemm_u(k - k1, nt, boff, a + k1 * nt * ks, lda, ks, b + k1 * ldb, ldb, c2, ldc, m, n, bias, act, 1);
            for (int i = 0; i < MR; i++)
              for (size_t j = 0; j < ldc; j++) {
                float x = c[i * ldc + j], y = c2[i * ldc + j], z = c3[i * ldc + j];
                if (i >= m || j >= (size_t)n) {
                  CHECK(x == 12345.0f && y == 12345.0f && z == 12345.0f, "%s gemm_u wrote row %d col %zu outside m=%d n=%d",
                        d->name, i, j, m, n);
                  continue;
                }
                float sum = 0.0f;
                for (size_t kk = 0; kk < k; kk++)
                  for (size_t t = 0; t < nt; t++) {
                    size_t q = kk * nt + t;
                    sum = fmaf(a[packed ? q * ks + (size_t)i : (size_t)i * lda + q], b[kk * ldb + (size_t)boff[t] + j], sum);
                  }
                float want = act_f32(sum + bias[i], act);
                CHECK(x == want || (x != x && want != want), "%s gemm_u k=%zu nt=%zu %s m=%d n=%d act=%d: c[%d][%zu] = %.9g, want %.9g",
                      d->name, k, nt, packed ? "packed" : "in place", m, n, act, i, j, x, want);
                CHECK(x == y || (x != x && y != y), "%s gemm_u k=%zu nt=%zu in chunks: c[%d][%zu] = %.9g, one call %.9g", d->name, k,
                      nt, i, j, y, x);
                want = act_f32((sum + bias[i]) + res[i * ldc + j], act);
                CHECK(z == want || (z != z && want != want), "%s gemm_u k=%zu nt=%zu m=%d n=%d act=%d residual: c[%d][%zu] = %.9g, want %.9g",
                      d->name, k, nt, m, n, act, i, j, z, want);
              }
            free(abuf), free(b), free(c), free(c2), free(c3), free(res);
            calls++;
          }
  CHECK(calls > 0, "%s: no gemm_u case ran", d->name);
}

/* d->gemm_cols against the sum it defines (fmaf over k in order, + bias, [+ C], act): bit for bit, so gemm_u's floats.
   n 1 and 2 columns, np panels around the kernel's groups (8 for one column, 4 for two), B with a
   row stride (a map's) or NR (packed); A exactly np panels of mr rows x k (ASan: nothing past them), C's rows of other
   columns untouched; in two chunks of k (acc 1) the same floats; F32_ACC_RES; a NULL bias as a zero one. */
static void test_gemm_cols(const F32GemmDesc *d, uint64_t *r) {
  size_t ks_[] = {1, 2, 7, 64, 97}, nps[] = {1, 2, 3, 5, 8, 9, 17};
  int MR = d->mr, calls = 0;
  for (size_t ki = 0; ki < sizeof ks_ / sizeof *ks_; ki++)
    for (size_t pi = 0; pi < sizeof nps / sizeof *nps; pi++)
      for (int n = 1; n <= 2; n++) {
        size_t k = ks_[ki], np = nps[pi], ps = (size_t)MR * k, M = np * (size_t)MR, ldb = (pi + (size_t)n) % 2 ? 49 : 16,
               ldc = 11, j0 = 5;
        int act = (int)((ki + pi + (size_t)n) % ACT_COUNT), nob = (ki + pi) % 3 == 0;
        float *a = malloc(np * ps * sizeof(float)), *b = malloc((k * ldb) * sizeof(float)), *bias = malloc(M * sizeof(float));
        float *c[3], *res = malloc(M * ldc * sizeof(float));
        for (int v = 0; v < 3; v++) c[v] = malloc(M * ldc * sizeof(float));
        rng_fill(r, a, np * ps, -1, 1), rng_fill(r, b, k * ldb, -1, 1), rng_fill(r, bias, M, -2, 2);
        for (size_t i = 0; i < M * ldc; i++) {
          c[0][i] = c[1][i] = 12345.0f;
          c[2][i] = res[i] = i % ldc >= j0 && i % ldc < j0 + (size_t)n ? rng_unif(r, -3, 3) : 12345.0f;
        }
        const float *bb = nob ? NULL : bias;
        d->gemm_cols(k, a, ps, np, b, ldb, c[0] + j0, ldc, n, bb, act, 0);
        size_t k1 = k / 2;   /* two chunks: the first from zero, no bias; the second from C */
        d->gemm_cols(k1, a, ps, np, b, ldb, c[1] + j0, ldc, n, NULL, ACT_NONE, 0);
        d->gemm_cols(k - k1, a + k1 * (size_t)MR, ps, np, b + k1 * ldb, ldb, c[1] + j0, ldc, n, bb, act, 1);
        d->gemm_cols(k, a, ps, np, b, ldb, c[2] + j0, ldc, n, bb, act, F32_ACC_RES);
        for (size_t o = 0; o < M; o++)
          for (size_t j = 0; j < ldc; j++) {
            float x = c[0][o * ldc + j], y = c[1][o * ldc + j], z = c[2][o * ldc + j];
            if (j < j0 || j >= j0 + (size_t)n) {
              CHECK(x == 12345.0f && y == 12345.0f && z == 12345.0f, "%s gemm_cols wrote row %zu col %zu outside n=%d", d->name, o,
                    j, n);
              continue;
            }
            float sum = 0.0f, bo = nob ? 0.0f : bias[o];
            for (size_t kk = 0; kk < k; kk++) sum = fmaf(a[o / (size_t)MR * ps + kk * (size_t)MR + o % (size_t)MR], b[kk * ldb + j - j0], sum);
            float want = act_f32(sum + bo, act);
            CHECK(x == want || (x != x && want != want), "%s gemm_cols k=%zu np=%zu n=%d act=%d: c[%zu][%zu] = %.9g, want %.9g",
                  d->name, k, np, n, act, o, j, x, want);
            CHECK(x == y || (x != x && y != y), "%s gemm_cols k=%zu np=%zu n=%d in chunks: c[%zu][%zu] = %.9g, one call %.9g",
                  d->name, k, np, n, o, j, y, x);
            want = act_f32((sum + bo) + res[o * ldc + j], act);
            CHECK(z == want || (z != z && want != want), "%s gemm_cols k=%zu np=%zu n=%d residual: c[%zu][%zu] = %.9g, want %.9g",
                  d->name, k, np, n, o, j, z, want);
          }
        free(a), free(b), free(bias), free(res);
        for (int v = 0; v < 3; v++) free(c[v]);
        calls++;
      }
  CHECK(calls > 0, "%s: no gemm_cols case ran", d->name);
}

/* d->gemm_t against the sum it defines (fmaf over kk, then taps, in order, + bias, + C's value with res, then
   act_f32): bit for bit, so the same floats as gemm_u's. One tap and nine (offsets that overlap), the two runs
   contiguous or apart, every n around the vector edges, store masks of all pixels, the second run's (a lone
   last run: only it computed), the last one, scattered ones and the first alone (a LINEAR's one image, ops_f32.c
   lin_t: only it computed, its k steps one float apart as lin_t calls it); x holds exactly the pixels the kernel may
   read (ASan), the weights past n NaN (they must not reach C), C's other channels and pixels must stay. */
static void test_gemm_t(const F32GemmDesc *d, uint64_t *r) {
  size_t ks_[] = {1, 2, 7, 64, 97, 300}, nts[] = {1, 9};
  int TM = d->tm, TN = d->tn, H = TM / 2, calls = 0;
  for (size_t ki = 0; ki < sizeof ks_ / sizeof *ks_; ki++)
    for (size_t ti = 0; ti < 2; ti++)
      for (int pmk = 0; pmk < 5; pmk++)
        for (int n = 1; n <= TN; n += (n < 3 || n > TN - 3 || n % 16 >= 15 || n % 16 <= 1) ? 1 : 5)
          for (int res = 0; res <= 1; res++) {
            size_t k = ks_[ki], nt = nts[ti], ldx = pmk == 4 ? 1 : (size_t)TM + 13 + ki, ldc = (size_t)TM + 5;
            ptrdiff_t boff[9] = {0, 1, 2, 5, 9, 10, 11, 3, 4}, x2off = (n % 2) ? H : H + 5 + (ptrdiff_t)ki;
            size_t nx = (k - 1) * ldx + (nt > 1 ? 11 : 0) + (pmk == 4 ? 1 : (size_t)x2off + (size_t)H), K = k * nt;
            unsigned pm = pmk == 0 ? (1u << TM) - 1 : pmk == 1 ? ((1u << H) - 1) << H : pmk == 2 ? 1u << (TM - 1) : pmk == 3 ? 0x2a5u : 1u;
            int act = (int)((ki + (size_t)n + (size_t)pmk) % ACT_COUNT);
            float *w = malloc(K * (size_t)TN * sizeof(float)), *x = malloc(nx * sizeof(float));
            float *c = malloc((size_t)TN * ldc * sizeof(float)), *c0 = malloc((size_t)TN * ldc * sizeof(float));
            float bias[F32_MAX_NR];
            memset(w, 0xff, K * (size_t)TN * sizeof(float));   /* NaN past n */
            for (size_t q = 0; q < K; q++)
              for (int j = 0; j < n; j++) w[q * (size_t)TN + (size_t)j] = rng_unif(r, -1, 1);
            rng_fill(r, x, nx, -1, 1), rng_fill(r, bias, F32_MAX_NR, -2, 2);
            for (size_t i = 0; i < (size_t)TN * ldc; i++) c[i] = c0[i] = res ? rng_unif(r, -3, 3) : 12345.0f;
            /* pf (lines to fetch, ops_f32.c conv_t_block's next panel) must not change C: given in half the cases */
            d->gemm_t(k, nt, boff, w, x, ldx, x2off, c, ldc, pm, n, bias, act, res, (n + res) % 2 ? w : NULL);
            for (int j = 0; j < TN; j++)
              for (size_t q = 0; q < ldc; q++) {
                float got = c[(size_t)j * ldc + q], old = c0[(size_t)j * ldc + q];
                if (j >= n || q >= (size_t)TM || !(pm >> q & 1)) {
                  CHECK(memcmp(&got, &old, 4) == 0, "%s gemm_t wrote channel %d pixel %zu outside n=%d pm=%x", d->name, j, q, n, pm);
                  continue;
                }
                size_t xq = (q < (size_t)H ? 0 : (size_t)x2off) + q % (size_t)H;
                float sum = 0.0f;
                for (size_t kk = 0; kk < k; kk++)
                  for (size_t t = 0; t < nt; t++)
                    sum = fmaf(x[kk * ldx + (size_t)boff[t] + xq], w[(kk * nt + t) * (size_t)TN + (size_t)j], sum);
                float want = act_f32(res ? (sum + bias[j]) + old : sum + bias[j], act);
                CHECK(memcmp(&got, &want, 4) == 0 || (got != got && want != want),
                      "%s gemm_t k=%zu nt=%zu x2off=%td n=%d pm=%x act=%d res=%d: c[%d][%zu] = %.9g, want %.9g", d->name, k, nt, x2off,
                      n, pm, act, res, j, q, got, want);
              }
            free(w), free(x), free(c), free(c0);
            calls++;
          }
  CHECK(calls > 0, "%s: no gemm_t case ran", d->name);
}

/* one plane of shape sh (OH, OW derived; false when empty) through d and the reference */
static int dw_case(const F32DwDesc *d, const F32DwDesc *ref, F32DwShape sh, uint64_t *r) {
  sh.OH = pt_out_len(sh.H, sh.kh, sh.sh, sh.ph, sh.dh, 0), sh.OW = pt_out_len(sh.W, sh.kw, sh.sw, sh.pw, sh.dw, 0);
  if (sh.OH < 1 || sh.OW < 1) return 0;
  size_t n = (size_t)sh.H * sh.W, no = (size_t)sh.OH * sh.OW;
  enum { GUARD = 32 };   /* floats after the plane: nothing may be written there (f32_dwconv__avx512f's line touches) */
  float *x = malloc(n * sizeof(float)), w[49], *y = malloc((no + GUARD) * sizeof(float)), *yr = malloc(no * sizeof(float));
  memset(y + no, 0x5A, GUARD * sizeof(float));   /* no zero byte: a stray byte store of 0 shows */
  /* every other case inputs in [-8, 8]: sums past 6, so the activations' upper bounds (ReLU6) are exercised */
  float sc = rng_next(r) & 1 ? 8.0f : 1.0f;
  rng_fill(r, x, n, -sc, sc), rng_fill(r, w, 49, -1, 1);
  float bias = rng_unif(r, -1, 1);
  d->dwconv(x, w, bias, y, &sh);
  ref->dwconv(x, w, bias, yr, &sh);
  int K = sh.kh * sh.kw;
  for (size_t i = 0; i < no; i++)
    CHECK(fabs((double)y[i] - yr[i]) <= 4.0 * (K + 2) * FLT_EPSILON * (K + 1) * sc, "%s %dx%d k%dx%d s%dx%d p%dx%d d%d act %d: y[%zu] %.9g ref %.9g",
          d->name, sh.H, sh.W, sh.kh, sh.kw, sh.sh, sh.sw, sh.ph, sh.pw, sh.dh, sh.act, i, y[i], yr[i]);
  for (int g = 0; g < GUARD * (int)sizeof(float); g++)
    CHECK(((const unsigned char *)(y + no))[g] == 0x5A, "%s %dx%d k%dx%d s%dx%d: wrote past the plane's %zu outputs (byte %d)", d->name,
          sh.H, sh.W, sh.kh, sh.kw, sh.sh, sh.sw, no, g);
  free(x), free(y), free(yr);
  return 1;
}

static void test_dw(const F32DwDesc *d, const F32DwDesc *ref, uint64_t *r) {
  int sizes[][2] = {{1, 1}, {1, 9}, {7, 7}, {8, 8}, {9, 9}, {5, 17}, {13, 31}, {56, 56}, {3, 23}, {4, 70}, {14, 14}, {16, 16}, {15, 17}, {2, 2}};
  int kers[][6] = {/* kh kw sh sw ph pw */ {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {5, 5, 1, 1, 2, 2}, {1, 1, 1, 1, 0, 0},
                   {3, 5, 1, 2, 0, 2}, {7, 7, 1, 1, 3, 3}, {3, 3, 1, 1, 0, 0}, {3, 3, 3, 3, 1, 1}, {3, 3, 2, 1, 1, 1}};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (size_t q = 0; q < sizeof kers / sizeof *kers; q++)
      for (int d_ = 1; d_ <= 2; d_++)
        dw_case(d, ref, (F32DwShape){sizes[s][0], sizes[s][1], 0, 0, kers[q][0], kers[q][1], kers[q][2], kers[q][3], kers[q][4],
                                     kers[q][5], d_, d_, (int)((s + q) % ACT_COUNT)}, r);
  /* every width 1..33 (one or more vectors, every tail), a few heights (row blocks and their tails),
     kernels 3 and 5, strides 1 and 2, pads 0..2, dilation 1 and 2 */
  int heights[] = {1, 2, 7, 9, 16, 17};
  for (int W = 1; W <= 33; W++)
    for (int k = 3; k <= 5; k += 2)
      for (int st = 1; st <= 2; st++)
        for (int pad = 0; pad <= 2; pad++)
          for (int dil = 1; dil <= 2; dil++) {
            int H = heights[(W + k + st + pad + dil) % 6];
            dw_case(d, ref, (F32DwShape){H, W, 0, 0, k, k, st, st, pad, pad, dil, dil, (W + pad) % ACT_COUNT}, r);
          }
}

/* the ISA's activation helper equals act_f32 bit for bit, on every length's tail */
/* add: act(a + b) against act_f32 of the scalar sum, bit for bit, also in place (y = a, and y = b: a fused
   residual ADD without gemm_u, ops_f32.c gemm_tile) */
static void test_add(const F32Kernels *kt, uint64_t *r) {
  for (int act = 0; act < ACT_COUNT; act++)
    for (size_t n = 0; n < 40; n += 3)
      for (int inplace = 0; inplace < 3; inplace++) {
        float a[40], b[40], y[40], a0[40], b0[40];
        rng_fill(r, a, n, -9, 9), rng_fill(r, b, n, -9, 9);
        if (n > 4) a[0] = NAN, a[1] = -INFINITY, b[2] = INFINITY, a[3] = -0.0f, b[3] = -0.0f;
        memcpy(a0, a, sizeof a), memcpy(b0, b, sizeof b);
        float *out = inplace == 1 ? a : inplace == 2 ? b : y;
        kt->add(a, b, out, n, act);
        for (size_t i = 0; i < n; i++) {
          float want = act_f32(a0[i] + b0[i], act);
          CHECK(memcmp(&want, &out[i], 4) == 0 || (isnan(want) && isnan(out[i])), "add %s %d: %g + %g = %g, want %g", kt->isa,
                act, a0[i], b0[i], out[i], want);
        }
      }
}

/* the ISA's max pool against the plain C pool's order (ops_f32.c maxpool_row: per column the window's rows inside the
   input in ky order, then the columns in kx order, a value taken only when greater: ties keep the earlier one, the
   sign of a zero), bit for bit; NaN anywhere in the window: NaN; an empty window: -inf. Inputs of small integers
   (many ties), +-0, -inf and NaN; every shape it takes (it may decline one: 0, nothing written); nothing written
   past the plane */
static void test_maxpool(const F32Kernels *kt, uint64_t *r) {
  if (!kt->maxpool) return;
  enum { HM = 9, WM = 41 };
  float x[HM * WM], y[HM * WM + 8], want;
  int shapes = 0, taken = 0;
  for (int kw = 2; kw <= 3; kw++)
    for (int sw = 1; sw <= 2; sw++)
      for (int pw = 0; pw <= 1; pw++)
        for (int kh = 1; kh <= 3; kh++)
          for (int H = 1; H <= HM; H += 4)
            for (int W = 1; W <= WM; W += (W < 20 ? 1 : 7))
              for (int cm = 0; cm <= 1; cm++)
                for (int dh = 1; dh <= 2; dh++) {
                  int sh = 2, ph = kh > 1, dw = 1, spanh = dh * (kh - 1) + 1;
                  int OH = (H + 2 * ph - spanh + (cm ? sh - 1 : 0)) / sh + 1, OW = (W + 2 * pw - kw + (cm ? sw - 1 : 0)) / sw + 1;
                  if (cm && (OH - 1) * sh >= H + ph) OH--;   /* PyTorch: the last window starts inside */
                  if (cm && (OW - 1) * sw >= W + pw) OW--;
                  if (OH < 1 || OW < 1) continue;
                  for (int i = 0; i < H * W; i++) {
                    uint32_t u = (uint32_t)(rng_next(r) >> 32);
                    x[i] = u % 13 == 0 ? -0.0f : u % 17 == 0 ? NAN : u % 19 == 0 ? -INFINITY : (float)((int)(u % 5) - 2);
                  }
                  for (int i = 0; i < OH * OW + 8; i++) y[i] = 12345.0f;
                  F32DwShape sp = {H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, 0};
                  shapes++;
                  if (!kt->maxpool(x, y, &sp)) continue;
                  taken++;
                  for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                      float cols[8];
                      int nan = 0;
                      want = -INFINITY;
                      for (int kx = 0; kx < kw; kx++) {
                        int ix = ow * sw - pw + kx * dw;
                        float c = -INFINITY;
                        for (int ky = 0; ky < kh; ky++) {
                          int iy = oh * sh - ph + ky * dh;
                          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                          float v = x[iy * W + ix];
                          nan |= v != v;
                          if (v > c) c = v;
                        }
                        cols[kx] = c;
                      }
                      for (int kx = 0; kx < kw; kx++) if (cols[kx] > want) want = cols[kx];
                      float got = y[oh * OW + ow];
                      CHECK(nan ? got != got : memcmp(&got, &want, 4) == 0, "maxpool %s %dx%d k%dx%d s%d,%d p%d,%d d%d: y[%d][%d] = %g, want %g%s",
                            kt->isa, H, W, kh, kw, sh, sw, ph, pw, dh, oh, ow, got, want, nan ? " (NaN)" : "");
                    }
                  for (int i = OH * OW; i < OH * OW + 8; i++)
                    CHECK(y[i] == 12345.0f, "maxpool %s %dx%d k%dx%d s%d,%d: wrote past the plane", kt->isa, H, W, kh, kw, sh, sw);
                }
  CHECK(taken > shapes / 2, "maxpool %s took %d of %d shapes", kt->isa, taken, shapes);
}

static void test_act(const F32Kernels *kt, uint64_t *r) {
  for (int act = 0; act < ACT_COUNT; act++)
    for (size_t n = 0; n < 40; n += 3) {
      float x[40], y[40];
      rng_fill(r, x, n, -9, 9);
      if (n > 4) x[0] = NAN, x[1] = -INFINITY, x[2] = INFINITY, x[3] = -0.0f;
      memcpy(y, x, sizeof x);
      kt->act(y, n, act);
      for (size_t i = 0; i < n; i++) {
        float want = act_f32(x[i], act);
        CHECK(memcmp(&want, &y[i], 4) == 0 || (isnan(want) && isnan(y[i])), "act %s %d x=%g: %g, want %g", kt->isa, act, x[i], y[i], want);
      }
    }
}

/* the engine packs a weight matrix a few panels at a time (rows r0.. at panel r0 / mr) into memory it
   has not zeroed: one panel per call must give the same floats as one call over all rows, and both
   must write every float (padding included), whatever the memory held before */
static void test_pack_rows(const F32GemmDesc *d, uint64_t *r) {
  size_t Ms[] = {1, (size_t)d->mr, (size_t)d->mr + 1, 3 * (size_t)d->mr - 1, 37}, K = 13;
  for (size_t t = 0; t < sizeof Ms / sizeof *Ms; t++) {
    size_t M = Ms[t], P = (M + (size_t)d->mr - 1) / (size_t)d->mr, n = P * (size_t)d->mr * K;
    float *w = malloc(M * K * sizeof(float)), *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    rng_fill(r, w, M * K, -1, 1);
    memset(a, 0xa5, n * sizeof(float)), memset(b, 0x5a, n * sizeof(float));
    d->pack_a(w, M, K, d->mr, a);
    for (size_t r0 = 0; r0 < M; r0 += (size_t)d->mr)
      d->pack_a(w + r0 * K, M - r0 < (size_t)d->mr ? M - r0 : (size_t)d->mr, K, d->mr, b + r0 * K);
    CHECK(memcmp(a, b, n * sizeof(float)) == 0, "%s: packing %zu rows panel by panel differs from one call", d->name, M);
    if (d->tail) {   /* the tail layout: panel by panel as one call, every float of f32_packed_floats written, each
                        float where its layout puts it */
      size_t nf = f32_packed_floats(M, K, d->mr, 1);
      memset(a, 0xa5, n * sizeof(float)), memset(b, 0x5a, n * sizeof(float));
      f32_pack_a_tail(w, M, K, d->mr, 1, 1, a);
      for (size_t r0 = 0; r0 < M; r0 += (size_t)d->mr)
        f32_pack_a_tail(w + r0 * K, M - r0 < (size_t)d->mr ? M - r0 : (size_t)d->mr, K, d->mr, 1, 1, b + r0 * K);
      CHECK(memcmp(a, b, nf * sizeof(float)) == 0, "%s: tail packing of %zu rows panel by panel differs", d->name, M);
      size_t bad = 0, R = (size_t)f32_tail_rows((int)(M - (P - 1) * (size_t)d->mr), d->mr);
      for (size_t row = 0; row < M; row++)
        for (size_t kk = 0; kk < K; kk++) {
          size_t p = row / (size_t)d->mr, st = p + 1 == P ? R : (size_t)d->mr;
          bad += a[p * (size_t)d->mr * K + kk * st + row % (size_t)d->mr] != w[row * K + kk];
        }
      CHECK(bad == 0 && nf <= n, "%s: tail packing of %zu rows misplaces %zu floats", d->name, M, bad);
    }
    free(w), free(a), free(b);
  }
}

/* The Winograd transforms (F32WinoDesc) against their definitions, written here as scalar C in the same
   order of operations: bit for bit. Then a whole F(2x2, 3x3) convolution (the transforms and gemm_u, as
   ops_f32.c conv_wino runs them, on odd sizes and a tile range that starts and ends inside tile rows)
   against the direct sum in double: within a few ulps of the terms' magnitude. */
static void wino_u_def(const float *g, float *u) {   /* one filter: u[4i + j] */
  float t[4][3];
  for (int j = 0; j < 3; j++) {
    float s = g[j] + g[6 + j];
    t[0][j] = g[j], t[1][j] = 0.5f * (s + g[3 + j]), t[2][j] = 0.5f * (s - g[3 + j]), t[3][j] = g[6 + j];
  }
  for (int i = 0; i < 4; i++) {
    float s = t[i][0] + t[i][2];
    u[4 * i] = t[i][0], u[4 * i + 1] = 0.5f * (s + t[i][1]), u[4 * i + 2] = 0.5f * (s - t[i][1]), u[4 * i + 3] = t[i][2];
  }
}

/* a Winograd case's data (tiles of ts x ts, tw a row; res: the tiles [t0, t1) of y hold a residual, copied to
   yr; elsewhere y is 12345, which must stay) */
static void wino_data(uint64_t *r, size_t ts, size_t C, size_t H, size_t W, size_t O, size_t tw, size_t t0, size_t t1, int res,
                      float *x, float *w, float *bias, float *y, float *yr) {
  rng_fill(r, x, C * H * W, -1, 1), rng_fill(r, w, O * C * 9, -1, 1), rng_fill(r, bias, 64, -1, 1);
  for (size_t i = 0; i < O * H * W; i++) {
    size_t oy = i / W % H, ox = i % W, t = oy / ts * tw + ox / ts;
    y[i] = yr[i] = res && t >= t0 && t < t1 ? rng_unif(r, -2, 2) : 12345.0f;
  }
}

/* a Winograd case: C channels of H x W, O outputs, tiles of ts x ts (tw a row), tiles [t0, t1) of the image (a range
   that starts and ends inside tile rows when there are more than 8), nx = (ts + 2)^2 matrices each of V (C x ldv),
   U (MR x C) and M (MR x ldv), uxs/vxs/mxs floats apart; its data by wino_data, V's bytes 0xff */
typedef struct {
  size_t C, H, W, O, tw, t0, t1, nb, ldv, vxs, mxs, uxs;
  float *x, *w, *yr, *v, *u, *mm, *y, bias[64];
} WinoCase;

static void wino_case(WinoCase *k, uint64_t *r, size_t ts, int MR, const size_t shape[4], int res) {
  size_t nx = (ts + 2) * (ts + 2), C = shape[0], H = shape[1], W = shape[2], O = shape[3], tw = (W + ts - 1) / ts;
  size_t T = (H + ts - 1) / ts * tw, t0 = T > 8 ? tw / 2 : 0, t1 = T > 8 ? T - 1 : T, nb = t1 - t0, ldv = nb + 3;
  *k = (WinoCase){.C = C, .H = H, .W = W, .O = O, .tw = tw, .t0 = t0, .t1 = t1, .nb = nb, .ldv = ldv, .vxs = C * ldv + 16,
                  .mxs = (size_t)MR * ldv + 16, .uxs = (size_t)MR * C + 16};
  k->x = malloc(C * H * W * sizeof(float)), k->w = malloc(O * C * 9 * sizeof(float)), k->yr = malloc(O * H * W * sizeof(float));
  k->v = malloc(nx * k->vxs * sizeof(float)), k->u = malloc(nx * k->uxs * sizeof(float));
  k->mm = malloc(nx * k->mxs * sizeof(float)), k->y = malloc(O * H * W * sizeof(float));
  wino_data(r, ts, C, H, W, O, tw, t0, t1, res, k->x, k->w, k->bias, k->y, k->yr);
  memset(k->v, 0xff, nx * k->vxs * sizeof(float));
}

static void wino_case_free(WinoCase *k) { free(k->x), free(k->w), free(k->v), free(k->u), free(k->mm), free(k->y), free(k->yr); }

/* the nx products M = U V of m rows and nb tiles by gemm_u, as ops_f32.c wino_block runs them */
static void wino_products(const F32GemmDesc *d, size_t nx, size_t C, int m, const float *u, size_t uxs, const float *v, size_t vxs,
                          size_t ldv, size_t nb, float *mm, size_t mxs) {
  for (size_t xi = 0; xi < nx; xi++)
    for (size_t j0 = 0; j0 < nb; j0 += (size_t)d->nr)
      d->gemm_u(C, 1, (const ptrdiff_t[]){0}, u + xi * uxs, C, 1, v + xi * vxs + j0, ldv, mm + xi * mxs + j0, ldv, m,
                (int)(nb - j0 < (size_t)d->nr ? nb - j0 : (size_t)d->nr), (const float[F32_MAX_MR]){0}, ACT_NONE, 0);
}

/* a Winograd convolution's outputs y (O planes of H x W, tiles of ts x ts, tw a row) against the direct sum in
   double: inside tiles [t0, t1) within tol of its terms' magnitude (with the fused residual yr when res), outside
   untouched (12345); returns the worst error as a share of the magnitude */
static double wino_vs_direct(const char *name, size_t ts, size_t C, size_t H, size_t W, size_t O, size_t tw, size_t t0, size_t t1,
                             const float *x, const float *w, const float *bias, const float *yr, int res, int act, const float *y,
                             double tol) {
  double worst = 0;
  for (size_t o = 0; o < O; o++)
    for (size_t oy = 0; oy < H; oy++)
      for (size_t ox = 0; ox < W; ox++) {
        size_t t = oy / ts * tw + ox / ts;
        float got = y[(o * H + oy) * W + ox];
        if (t < t0 || t >= t1) {
          CHECK(got == 12345.0f, "%s %zux%zu: wrote y[%zu][%zu][%zu] outside its tiles", name, H, W, o, oy, ox);
          continue;
        }
        double sum = bias[o], mag = fabs(bias[o]);
        if (res) sum += yr[(o * H + oy) * W + ox], mag += fabs(yr[(o * H + oy) * W + ox]);
        for (size_t c = 0; c < C; c++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
              long iy = (long)oy + ky - 1, ix = (long)ox + kx - 1;
              if (iy < 0 || ix < 0 || iy >= (long)H || ix >= (long)W) continue;
              double term = (double)w[((o * C + c) * 3 + (size_t)ky) * 3 + (size_t)kx] * x[(c * H + (size_t)iy) * W + (size_t)ix];
              sum += term, mag += fabs(term);
            }
        float want = act_f32((float)sum, act);
        double err = fabs((double)got - want) / (mag + 1e-30);
        if (err > worst) worst = err;
        CHECK(fabs((double)got - want) <= tol * mag + 1e-6, "%s %zux%zu C=%zu: y[%zu][%zu][%zu] = %.9g, direct %.9g", name, H, W, C, o, oy,
              ox, got, want);
      }
  return worst;
}

static void test_wino(const F32Kernels *kt, uint64_t *r) {
  const F32WinoDesc *wd = kt->wino;
  const F32GemmDesc *d = kt->gemm;
  int MR = d->mr;
  /* weights: C of 1, 16 and 37 (a partial vector), every m */
  size_t cs[] = {1, 16, 37};
  for (size_t ci = 0; ci < 3; ci++)
    for (int m = 1; m <= MR; m++) {
      size_t C = cs[ci];
      int ks = f32_tail_rows(m, MR);
      size_t uxs = (size_t)ks * C + 5;   /* rows of a matrix then 5 floats that must stay */
      float *w = malloc((size_t)m * 9 * C * sizeof(float)), *u = malloc(16 * uxs * sizeof(float)), ud[16];
      rng_fill(r, w, (size_t)m * 9 * C, -1, 1);
      memset(u, 0xff, 16 * uxs * sizeof(float));
      wd->weights(w, C, m, ks, u, uxs);
      for (int xi = 0; xi < 16; xi++)
        for (size_t q = (size_t)ks * C; q < uxs; q++)
          CHECK(u[(size_t)xi * uxs + q] != u[(size_t)xi * uxs + q], "%s weights C=%zu m=%d wrote between matrices", wd->name, C, m);
      for (int row = 0; row < ks; row++)
        for (size_t c = 0; c < C; c++) {
          if (row < m) wino_u_def(w + ((size_t)row * C + c) * 9, ud);
          for (int xi = 0; xi < 16; xi++) {
            float x = u[(size_t)xi * uxs + (size_t)row * C + c], want = row < m ? ud[xi] : 0.0f;
            CHECK(x == want, "%s weights C=%zu m=%d: u[%d][%d][%zu] = %.9g, want %.9g", wd->name, C, m, xi, row, c, x, want);
          }
        }
      free(w), free(u);
    }
  /* a convolution: C channels of H x W, O outputs, tiles [t0, t1) of the image */
  size_t shapes[][4] = {{3, 5, 7, 13}, {17, 14, 14, 12}, {5, 9, 35, 25}};   /* C, H, W, O */
  for (size_t si = 0; si < 3; si++) {
    int act = (int[]){ACT_RELU, ACT_NONE, ACT_RELU6}[si], res = si == 2;   /* res: a fused residual ADD, y's values added */
    WinoCase k;
    wino_case(&k, r, 2, MR, shapes[si], res);
    size_t C = k.C, H = k.H, W = k.W, O = k.O, tw = k.tw, t0 = k.t0, t1 = k.t1, nb = k.nb, ldv = k.ldv, vxs = k.vxs, mxs = k.mxs, uxs = k.uxs;
    float *x = k.x, *w = k.w, *yr = k.yr, *v = k.v, *u = k.u, *mm = k.mm, *y = k.y, *bias = k.bias;
    wd->input(x, H, W, C, tw, t0, t1, v, ldv, vxs);
    for (size_t t = t0; t < t1; t++)   /* V against B^T d B */
      for (size_t c = 0; c < C; c++) {
        float dd[4][4], sv[4][4], want[16];
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++) {   /* the patch at input row 2 ty - 1, column 2 tx - 1: zero outside */
            long iy = 2 * (long)(t / tw) - 1 + i, ix = 2 * (long)(t % tw) - 1 + j;
            dd[i][j] = iy < 0 || ix < 0 || iy >= (long)H || ix >= (long)W ? 0.0f : x[(c * H + (size_t)iy) * W + (size_t)ix];
          }
        for (int j = 0; j < 4; j++)
          sv[0][j] = dd[0][j] - dd[2][j], sv[1][j] = dd[1][j] + dd[2][j], sv[2][j] = dd[2][j] - dd[1][j], sv[3][j] = dd[1][j] - dd[3][j];
        for (int i = 0; i < 4; i++)
          want[4 * i] = sv[i][0] - sv[i][2], want[4 * i + 1] = sv[i][1] + sv[i][2], want[4 * i + 2] = sv[i][2] - sv[i][1],
          want[4 * i + 3] = sv[i][1] - sv[i][3];
        for (int xi = 0; xi < 16; xi++) {
          float got = v[(size_t)xi * vxs + c * ldv + t - t0];
          CHECK(got == want[xi], "%s input C=%zu %zux%zu: tile %zu channel %zu xi %d = %.9g, want %.9g", wd->name, C, H, W, t, c, xi, got,
                want[xi]);
        }
      }
    for (size_t r0 = 0; r0 < O; r0 += (size_t)MR) {   /* M = U V by gemm_u, then Y; Y's values against A^T M A */
      int m = O - r0 < (size_t)MR ? (int)(O - r0) : MR, ks = f32_tail_rows(m, MR);
      wd->weights(w + r0 * 9 * C, C, m, ks, u, uxs);
      wino_products(d, 16, C, m, u, uxs, v, vxs, ldv, nb, mm, mxs);
      wd->output(mm, ldv, mxs, m, tw, t0, t1, H, W, bias + r0, act, res, y + r0 * H * W, H * W);
      for (int rr = 0; rr < m; rr++)
        for (size_t t = t0; t < t1; t++) {
          const float *p = mm + (size_t)rr * ldv + t - t0;
          float a[2][4];
          for (int j = 0; j < 4; j++) {
            float m0 = p[(size_t)j * mxs], m1 = p[(size_t)(4 + j) * mxs], m2 = p[(size_t)(8 + j) * mxs], m3 = p[(size_t)(12 + j) * mxs];
            a[0][j] = (m0 + m1) + m2, a[1][j] = (m1 - m2) - m3;
          }
          for (size_t i = 0; i < 2; i++)
            for (size_t j = 0; j < 2; j++) {
              size_t oy = 2 * (t / tw) + i, ox = 2 * (t % tw) + j;
              if (oy >= H || ox >= W) continue;
              size_t at = ((r0 + (size_t)rr) * H + oy) * W + ox;
              float want = (j ? (a[i][1] - a[i][2]) - a[i][3] : (a[i][0] + a[i][1]) + a[i][2]) + bias[r0 + (size_t)rr];
              want = act_f32(res ? want + yr[at] : want, act);
              float got = y[at];
              CHECK(got == want || (got != got && want != want), "%s output %zux%zu: y[%zu][%zu][%zu] = %.9g, want %.9g", wd->name, H, W,
                    r0 + (size_t)rr, oy, ox, got, want);
            }
        }
    }
    /* the convolution: inside the tiles, the direct sum; outside, untouched */
    wino_vs_direct(wd->name, 2, C, H, W, O, tw, t0, t1, x, w, bias, yr, res, act, y, 1e-5);
    wino_case_free(&k);
  }
}

/* F(4x4, 3x3) (kt->wino4): its constants round, so each transform is checked against its definition in
   double (a bound on its rounding), then a whole convolution (the transforms and gemm_u, odd sizes, a
   tile range that starts and ends inside tile rows, with and without a fused residual) against the direct
   sum in double, as test_wino does for F(2x2, 3x3) */
static const double BT4[6][6] = {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                  {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double G4[6][3] = {{0.25, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
static const double AT4[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

static void test_wino4(const F32Kernels *kt, uint64_t *r) {
  const F32WinoDesc *wd = kt->wino4;
  const F32GemmDesc *d = kt->gemm;
  int MR = d->mr;
  CHECK(wd->tile == 4, "%s: tile %d, want 4", wd->name, wd->tile);
  size_t shapes[][4] = {{3, 7, 9, 13}, {17, 28, 28, 12}, {5, 13, 37, 25}, {20, 30, 70, 5}};   /* C, H, W, O */
  for (size_t si = 0; si < 4; si++) {
    int act = (int[]){ACT_RELU, ACT_NONE, ACT_RELU6, ACT_RELU}[si], res = si >= 2;
    WinoCase k;
    wino_case(&k, r, 4, MR, shapes[si], res);
    size_t C = k.C, H = k.H, W = k.W, O = k.O, tw = k.tw, t0 = k.t0, t1 = k.t1, nb = k.nb, ldv = k.ldv, vxs = k.vxs, mxs = k.mxs, uxs = k.uxs;
    float *x = k.x, *w = k.w, *yr = k.yr, *v = k.v, *u = k.u, *mm = k.mm, *y = k.y, *bias = k.bias;
    wd->input(x, H, W, C, tw, t0, t1, v, ldv, vxs);
    for (size_t t = t0; t < t1; t++)   /* V against B^T d B in double */
      for (size_t c = 0; c < C; c++) {
        double dd[6][6], sv[6][6], sa[6][6];
        for (int i = 0; i < 6; i++)
          for (int j = 0; j < 6; j++) {
            long iy = 4 * (long)(t / tw) - 1 + i, ix = 4 * (long)(t % tw) - 1 + j;
            dd[i][j] = iy < 0 || ix < 0 || iy >= (long)H || ix >= (long)W ? 0.0 : x[(c * H + (size_t)iy) * W + (size_t)ix];
          }
        for (int i = 0; i < 6; i++)
          for (int j = 0; j < 6; j++) {
            sv[i][j] = sa[i][j] = 0;
            for (int k = 0; k < 6; k++) sv[i][j] += BT4[i][k] * dd[k][j], sa[i][j] += fabs(BT4[i][k] * dd[k][j]);
          }
        for (int i = 0; i < 6; i++)
          for (int j = 0; j < 6; j++) {
            double want = 0, mag = 0;
            for (int k = 0; k < 6; k++) want += sv[i][k] * BT4[j][k], mag += sa[i][k] * fabs(BT4[j][k]);
            float got = v[(size_t)(6 * i + j) * vxs + c * ldv + t - t0];
            CHECK(fabs(got - want) <= 4e-7 * mag + 1e-30, "%s input C=%zu %zux%zu: tile %zu channel %zu xi %d = %.9g, want %.9g", wd->name,
                  C, H, W, t, c, 6 * i + j, got, want);
          }
      }
    for (size_t r0 = 0; r0 < O; r0 += (size_t)MR) {
      int m = O - r0 < (size_t)MR ? (int)(O - r0) : MR, ks = f32_tail_rows(m, MR);
      memset(u, 0xff, 36 * uxs * sizeof(float));
      wd->weights(w + r0 * 9 * C, C, m, ks, u, uxs);
      for (int row = 0; row < ks; row++)   /* U against G g G^T in double; rows past m zero */
        for (size_t c = 0; c < C; c++)
          for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
              double want = 0, mag = 0;
              for (int a = 0; a < 3 && row < m; a++)
                for (int b = 0; b < 3; b++) {
                  double term = G4[i][a] * w[((r0 + (size_t)row) * C + c) * 9 + (size_t)(3 * a + b)] * G4[j][b];
                  want += term, mag += fabs(term);
                }
              float got = u[(size_t)(6 * i + j) * uxs + (size_t)row * C + c];
              CHECK(row < m ? fabs(got - want) <= 4e-7 * mag + 1e-30 : got == 0.0f, "%s weights C=%zu m=%d: u[%d][%d][%zu] = %.9g, want %.9g",
                    wd->name, C, m, 6 * i + j, row, c, got, want);
            }
      wino_products(d, 36, C, m, u, uxs, v, vxs, ldv, nb, mm, mxs);
      wd->output(mm, ldv, mxs, m, tw, t0, t1, H, W, bias + r0, act, res, y + r0 * H * W, H * W);
      for (int rr = 0; rr < m; rr++)   /* Y against A^T M A in double */
        for (size_t t = t0; t < t1; t++)
          for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
              size_t oy = 4 * (t / tw) + (size_t)i, ox = 4 * (t % tw) + (size_t)j;
              if (oy >= H || ox >= W) continue;
              double want = bias[r0 + (size_t)rr], mag = fabs(want);
              for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {
                  double term = AT4[i][a] * mm[(size_t)(6 * a + b) * mxs + (size_t)rr * ldv + t - t0] * AT4[j][b];
                  want += term, mag += fabs(term);
                }
              size_t at = ((r0 + (size_t)rr) * H + oy) * W + ox;
              if (res) want += yr[at], mag += fabs(yr[at]);
              want = act_f32((float)want, act);
              float got = y[at];
              CHECK(fabs(got - want) <= 4e-7 * mag + 1e-30, "%s output %zux%zu: y[%zu][%zu][%zu] = %.9g, want %.9g", wd->name, H, W,
                    r0 + (size_t)rr, oy, ox, got, want);
            }
    }
    /* the convolution: inside the tiles, the direct sum; outside, untouched */
    double worst = wino_vs_direct(wd->name, 4, C, H, W, O, tw, t0, t1, x, w, bias, yr, res, act, y, 2e-5);
    if (getenv("WINO_WORST")) fprintf(stderr, "%s %zux%zu C=%zu: worst error %.3g of the terms' magnitude\n", wd->name, H, W, C, worst);
    wino_case_free(&k);
  }
}

/* f32_pack_a_panels against its definition, ap[p][k][r] = w[p*mr + r][k] (0 past M), padding rows
   included. (It was the check of f32_pack_a_taps, the (tap, channel) packer no op has used since the
   implicit convolutions read their weights in place; the same shapes and the same every-element-written
   check.) */
static void test_pack_panels(uint64_t *r) {
  size_t shapes[][4] = {{1, 1, 1, 12}, {13, 3, 9, 12}, {25, 7, 4, 6}, {5, 64, 9, 12}, {17, 2, 49, 8}};   /* M, cg, nt, mr */
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    size_t M = shapes[i][0], cg = shapes[i][1], nt = shapes[i][2], K = cg * nt, P = (M + shapes[i][3] - 1) / shapes[i][3];
    int mr = (int)shapes[i][3];
    float *w = malloc(M * K * sizeof(float)), *a = malloc(P * mr * K * sizeof(float)), *b = malloc(P * mr * K * sizeof(float));
    rng_fill(r, w, M * K, -1, 1);
    for (size_t p = 0; p < P; p++)
      for (size_t kk = 0; kk < K; kk++)
        for (size_t rr = 0; rr < (size_t)mr; rr++)
          b[(p * K + kk) * (size_t)mr + rr] = p * (size_t)mr + rr < M ? w[(p * (size_t)mr + rr) * K + kk] : 0.0f;
    memset(a, 0xff, P * mr * K * sizeof(float));   /* NaN: every element must be written */
    f32_pack_a_panels(w, M, K, mr, a);
    CHECK(memcmp(a, b, P * mr * K * sizeof(float)) == 0, "f32_pack_a_panels M=%zu K=%zu mr=%d differs", M, K, mr);
    free(w), free(a), free(b);
  }
  /* a file's panels of 32 rows (row r, column k at r / 32 * 32 K + 32 k + r % 32; a last panel's rows past M absent) back
     to (M, K) rows: f32_pack_a_tail with mr 1 (its blocked transposition, 16 columns at a time) */
  size_t rk[][2] = {{1, 1}, {31, 13}, {32, 16}, {45, 17}, {64, 40}, {70, 3}};
  for (size_t i = 0; i < sizeof rk / sizeof *rk; i++) {
    size_t M = rk[i][0], K = rk[i][1], Mp = (M + 31) / 32 * 32;
    float *w = malloc(M * K * sizeof(float)), *pn = malloc(Mp * K * sizeof(float)), *a = malloc(M * K * sizeof(float));
    rng_fill(r, w, M * K, -1, 1);
    memset(pn, 0xff, Mp * K * sizeof(float)), memset(a, 0xff, M * K * sizeof(float));   /* NaN: rows past M must not be read */
    for (size_t row = 0; row < M; row++)
      for (size_t kk = 0; kk < K; kk++) pn[row / 32 * 32 * K + kk * 32 + row % 32] = w[row * K + kk];
    f32_pack_a_tail(pn, M, K, 1, 0, 32, a);
    CHECK(memcmp(a, w, M * K * sizeof(float)) == 0, "f32_pack_a_tail: %zu x %zu from panels of 32 rows to rows differs", M, K);
    free(w), free(pn), free(a);
  }
}

/* the table's unpanel (the file's panels of 32 rows to rows, or to the kernel's panels) against f32_pack_a_tail with pr 32
   (itself checked against its definition in test_pack_panels), on shapes with rows and columns past multiples of 8, of
   mr and of 32 (panels straddling two of the file's), a last file panel of fewer rows whose absent rows are NaN (never
   read), and every element written (the output starts as NaN) */
static void test_unpanel(const F32GemmDesc *d, uint64_t *r) {
  size_t rk[][2] = {{1, 1}, {7, 9}, {8, 8}, {31, 13}, {32, 16}, {45, 17}, {64, 40}, {70, 3}, {96, 576}, {37, 147}, {100, 9}};
  int mrs[] = {1, d->mr};
  for (size_t i = 0; i < sizeof rk / sizeof *rk; i++)
    for (int t = 0; t < 4; t++) {
      int mr = mrs[t / 2], tail = t % 2;
      if (mr == 1 && tail) continue;
      size_t M = rk[i][0], K = rk[i][1], Mp = (M + 31) / 32 * 32, n = f32_packed_floats(M, K, mr, tail);
      float *pn = malloc(Mp * K * sizeof(float)), *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
      memset(pn, 0xff, Mp * K * sizeof(float)), memset(a, 0xff, n * sizeof(float)), memset(b, 0, n * sizeof(float));
      for (size_t row = 0; row < M; row++) rng_fill(r, pn + row / 32 * 32 * K + row % 32, 1, -1, 1);
      for (size_t row = 0; row < M; row++)
        for (size_t kk = 1; kk < K; kk++) pn[row / 32 * 32 * K + kk * 32 + row % 32] = pn[row / 32 * 32 * K + row % 32] + (float)kk;
      d->unpanel(pn, M, K, mr, tail, a);
      f32_pack_a_tail(pn, M, K, mr, tail, 32, b);
      CHECK(memcmp(a, b, n * sizeof(float)) == 0, "%s unpanel: %zu x %zu from panels of 32 rows to mr %d (tail %d) differs",
            d->name, M, K, mr, tail);
      free(pn), free(a), free(b);
    }
}

int main(void) {
  uint64_t r = 42;
  int tested = 0;
  const F32Kernels *ref = f32_kernels_for("ref");
  for (int i = 0; dispatch_isa(i); i++) {
    if (!f32_kernels_own(i)) continue;   /* not on this CPU, or only another table's kernels */
    const F32Kernels *kt = f32_kernels_for(dispatch_isa(i));
    tested++;
    if (kt->gemm->gemm) test_gemm(kt->gemm, &r);
    if (kt->gemm->gemm_u) test_gemm_u(kt->gemm, &r);
    if (kt->gemm->gemm_t) test_gemm_t(kt->gemm, &r);
    if (kt->gemm->gemm_cols) test_gemm_cols(kt->gemm, &r);
    test_pack_rows(kt->gemm, &r);
    if (kt->gemm->unpanel) test_unpanel(kt->gemm, &r);
    test_dw(kt->dw, ref->dw, &r);
    test_act(kt, &r);
    test_add(kt, &r);
    test_maxpool(kt, &r);
    if (kt->wino) test_wino(kt, &r);
    if (kt->wino4) test_wino4(kt, &r);
    printf("test_f32_kernels: %s: %s%s%s%s, %s, act, add%s%s%s%s%s\n", kt->isa, kt->gemm->name,
           kt->gemm->gemm_t ? " (gemm_u: in place and packed; gemm_t)" : kt->gemm->gemm_u ? " (gemm_u: in place and packed)" : "",
           kt->gemm->gemm_cols ? ", gemm_cols" : "", kt->gemm->unpanel ? ", unpanel" : "",
           kt->dw->name, kt->maxpool ? ", max pool" : "", kt->wino ? ", " : "", kt->wino ? kt->wino->name : "", kt->wino4 ? ", " : "",
           kt->wino4 ? kt->wino4->name : "");
  }
  test_pack_panels(&r);
  const F32Kernels *best = f32_kernels();
  printf("test_f32_kernels: %s (%d ISA table(s) tested; in use: %s, %s)\n", g_failures ? "FAILED" : "ok", tested,
         best->gemm->name, best->dw->name);
  return g_failures != 0;
}
