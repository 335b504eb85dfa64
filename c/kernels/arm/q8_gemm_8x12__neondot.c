/* q8_gemm_8x12__neondot.c: the int8 GEMMs with the ARMv8.2 dot product (sdot: int8 x int8, four
 * products per int32 lane, exact) on one micro-kernel, with their own layouts and packers: two
 * descriptors, q8_gemm_8x12__neondot_desc (sq8, "i8x4") and q8_gemm_8x12__neondot_dq8_desc (dq8,
 * "i8x4+dq", see the dq8 section: its q - z values span [-255, 255], more than int8 holds, so it
 * multiplies the int8 q and corrects for the zero points in the epilogue).
 *
 * sq8 activations are plain int8 (the bias param already holds -zx * sum_k w, FORMAT.md), so unlike
 * vpdpbusd's u8 x s8 nothing is offset or compensated: the int32 dot is the reference's exactly
 * (|sum| <= 65536 * 128 * 128 = 2^30 for the K <= 65536 a reader allows).
 * Layout (kr = 4, gsp = K rounded up to 4, kq = G * gsp / 4):
 *  - A: per tile of 8 rows: [kq][8 rows][4] int8 (pad rows and pad k: 0, so pad rows of X may hold
 *    anything). For a 1x1 convolution or a LINEAR that is how a version-3 file holds the weights (FORMAT.md "sq8
 *    weights, blocked", one tap): the GEMM reads them in place (blocked_comp below).
 *  - X: per panel of 12 columns: [kq][12 columns][4] int8, element (k, p) at byte
 *    (p / 12) * 2 * pstride + (k / 4) * 48 + (p % 12) * 4 + k % 4 (pstride in int16 units).
 * Micro-tile 8 x 12: 24 int32x4 accumulators; per k quad, 3 loads of X (4 columns x 4 k each), 2 of
 * A (4 rows x 4 k each) and 24 sdot by element (vdotq_laneq_s32): 16 multiply-adds per instruction.
 * The requantization is FORMAT.md's in int64 lanes (q8_requant__neon.h), so results equal the
 * reference's. */
#include <arm_neon.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "act__neon.h"
#include "q8_dq8quant__neon.h"
#include "q8_requant__neon.h"

enum { MR = 8, NR = 12, KR = 4 };

static size_t kq_of(int gs) { return (size_t)(gs + KR - 1) / KR; }

static size_t a_elems(int M, int G, int gs) {
  size_t tiles = (size_t)(M + MR - 1) / MR;
  return tiles * ((size_t)G * kq_of(gs) * MR * KR) / 2;
}

static void pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  (void)wz; /* sq8 weights are symmetric */
  size_t per = kq_of(gs) * KR, kq = (size_t)G * kq_of(gs), tiles = (size_t)(M + MR - 1) / MR, K = (size_t)G * gs;
  int8_t *a = (int8_t *)A;
  for (size_t t = 0; t < tiles; t++)
    for (size_t q = 0; q < kq; q++)
      for (int r = 0; r < MR; r++)
        for (int i = 0; i < KR; i++) {
          size_t o = t * MR + (size_t)r, idx = q * KR + (size_t)i, g = idx / per, kg = idx % per;
          *a++ = o < (size_t)M && kg < (size_t)gs ? w[o * K + g * (size_t)gs + kg] : 0;
        }
}

static size_t xbyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + (size_t)(k / KR) * (NR * KR) + (size_t)(p % NR) * KR + (size_t)(k % KR);
}
static void put_x(int16_t *X, size_t pstride, int k, int p, int v) { ((int8_t *)X)[xbyte(pstride, k, p)] = (int8_t)v; }
static int get_x(const int16_t *X, size_t pstride, int k, int p) { return ((const int8_t *)X)[xbyte(pstride, k, p)]; }

/* The im2col loops are plain C that GCC vectorizes at -O3 (not at the build's -O2), as q8_pack.c's. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O3")
#endif

/* im2col row k for output row oh, columns [ow0, ow0 + n), into b (pad: zx) */
static void seg(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                int dw, int oh, int ow0, int n, int8_t pad, int k, int8_t *b) {
  int kx = k % kw, ky = (k / kw) % kh, ci = ci0 + k / (kw * kh), ih = oh * sh - ph + ky * dh, off = kx * dw - pw;
  if (ih < 0 || ih >= H) { memset(b, pad, (size_t)n); return; }
  const int8_t *xr = x + ((size_t)ci * H + (size_t)ih) * W;
  int lo = (off >= 0 ? 0 : (-off + sw - 1) / sw) - ow0, hi = (W - off <= 0 ? 0 : (W - off + sw - 1) / sw) - ow0;
  if (hi > n) hi = n;
  if (lo < 0) lo = 0;
  if (hi < lo) hi = lo;
  if (lo > n) lo = hi = n;
  int i = 0;
  for (; i < lo; i++) b[i] = pad;
  const int8_t *src = xr + (ptrdiff_t)ow0 * sw + off;
  if (sw == 1) memcpy(b + lo, src + lo, (size_t)(hi - lo)), i = hi;
  else for (; i < hi; i++) b[i] = src[(ptrdiff_t)i * sw];
  for (; i < n; i++) b[i] = pad;
}

/* rows k in [k0, k1) of the im2col matrix (k = (ci - ci0, ky, kx)): per quad of k rows and run of
   output columns, the four rows are made into small buffers, then interleaved into the panels'
   4-byte groups (a whole quad at once when [k0, k1) holds it, else byte by byte) */
#define SEG 240   /* a multiple of NR */
static void im2col(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                   int dw, int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride) {
  int8_t *xb = (int8_t *)X, pad = (int8_t)zx, b[KR][SEG + 16];   /* + 16: the 16-byte loads of a 12-column run */
  size_t pbytes = 2 * (size_t)pstride;
  for (int q0 = k0 / KR * KR; q0 < k1; q0 += KR) {
    int lo = q0 > k0 ? q0 : k0, hi = q0 + KR < k1 ? q0 + KR : k1;   /* this call's rows of the quad */
    int8_t *quad = xb + (size_t)(q0 / KR) * (NR * KR);
    for (int oh = 0; oh < OH; oh++)
      for (int ow0 = 0; ow0 < OW; ow0 += SEG) {
        int n = OW - ow0 < SEG ? OW - ow0 : SEG;
        for (int k = lo; k < hi; k++) seg(x, H, W, ci0, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow0, n, pad, k, b[k - q0]);
        size_t p0 = (size_t)oh * OW + (size_t)ow0;
        for (int c = 0; c < n;) {   /* runs of columns inside one panel: contiguous 4-byte groups */
          size_t p = p0 + (size_t)c;
          int m = NR - (int)(p % NR);
          if (m > n - c) m = n - c;
          int8_t *d = quad + (p / NR) * pbytes + (p % NR) * KR;
          if (lo == q0 && hi == q0 + KR) {
            if (m == NR) {   /* a whole panel row: 4 x 12 bytes -> 48 interleaved bytes */
              int8x16x4_t v = { { vld1q_s8(b[0] + c), vld1q_s8(b[1] + c), vld1q_s8(b[2] + c), vld1q_s8(b[3] + c) } };
              int8_t t[64];
              vst4q_s8(t, v);
              memcpy(d, t, NR * KR);
            } else
              for (int i = 0; i < m; i++)
                d[4 * i] = b[0][c + i], d[4 * i + 1] = b[1][c + i], d[4 * i + 2] = b[2][c + i], d[4 * i + 3] = b[3][c + i];
          } else
            for (int i = 0; i < m; i++)
              for (int k = lo; k < hi; k++) d[4 * i + k - q0] = b[k - q0][c + i];
          c += m;
        }
      }
  }
}
#undef SEG
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* c[r][q] (row r, columns 4q..4q+3) = A tile (kq quads of 8 rows) . X panel (kq quads of 12 columns) */
static inline __attribute__((always_inline)) void tile_8x12(size_t kq, const int8_t *ap, const int8_t *xp,
                                                            int32x4_t c[MR][3]) {
  int32x4_t z = vdupq_n_s32(0);
  int32x4_t c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
  int32x4_t c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
  for (size_t q = 0; q < kq; q++, xp += NR * KR, ap += MR * KR) {
    int8x16_t x0 = vld1q_s8(xp), x1 = vld1q_s8(xp + 16), x2 = vld1q_s8(xp + 32);
    int8x16_t a0 = vld1q_s8(ap), a1 = vld1q_s8(ap + 16);
#define ROW(d0, d1, d2, a, l) \
  d0 = vdotq_laneq_s32(d0, x0, a, l), d1 = vdotq_laneq_s32(d1, x1, a, l), d2 = vdotq_laneq_s32(d2, x2, a, l);
    ROW(c00, c01, c02, a0, 0) ROW(c10, c11, c12, a0, 1) ROW(c20, c21, c22, a0, 2) ROW(c30, c31, c32, a0, 3)
    ROW(c40, c41, c42, a1, 0) ROW(c50, c51, c52, a1, 1) ROW(c60, c61, c62, a1, 2) ROW(c70, c71, c72, a1, 3)
#undef ROW
  }
  c[0][0] = c00, c[0][1] = c01, c[0][2] = c02, c[1][0] = c10, c[1][1] = c11, c[1][2] = c12;
  c[2][0] = c20, c[2][1] = c21, c[2][2] = c22, c[3][0] = c30, c[3][1] = c31, c[3][2] = c32;
  c[4][0] = c40, c[4][1] = c41, c[4][2] = c42, c[5][0] = c50, c[5][1] = c51, c[5][2] = c52;
  c[6][0] = c60, c[6][1] = c61, c[6][2] = c62, c[7][0] = c70, c[7][1] = c71, c[7][2] = c72;
}

static void sq8_gemm(const Q8Gemm *g, const Q8Sq8Epi *e) {
  size_t kq = (size_t)g->G * (size_t)g->kp, tile_bytes = kq * MR * KR;
  int32x4_t c[MR][3];
  for (int j = 0; j < g->N; j += NR) {
    int nc = g->N - j < NR ? g->N - j : NR;
    const int8_t *X = (const int8_t *)g->X + (size_t)(j / NR) * 2 * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += MR) {
      int nr = g->M - o0 < MR ? g->M - o0 : MR;
      tile_8x12(kq, (const int8_t *)g->A + (size_t)(o0 / MR) * tile_bytes, X, c);
      for (int r = 0; r < nr; r++) {
        Requant rq = requant_of(e, o0 + r);
        int16x8_t lo = vcombine_s16(vmovn_s32(requant4(c[r][0], &rq)), vmovn_s32(requant4(c[r][1], &rq)));
        int16x4_t hi = vmovn_s32(requant4(c[r][2], &rq));
        int8_t out[16];
        vst1q_s8(out, vcombine_s8(vmovn_s16(lo), vmovn_s16(vcombine_s16(hi, hi))));
        int8_t *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->ys_p == 1) memcpy(y, out, (size_t)nc);
        else
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = out[cc];
      }
    }
  }
}

/* ---------------------------------------------------------------- dq8
 * dq8's q - z spans [-255, 255], so this layout keeps the int8 q of weights and activations and
 * corrects in the epilogue, exactly in int32: with Sw = sum_i qw_i and Tx = sum_i qx_i - gs * zx
 * (over the gs values of a group),
 *   isum = sum_i (qw_i - zw)(qx_i - zx) = sum_i qw_i qx_i - zw * Tx - zx * Sw
 * (|Tx| <= 255 * 32768, |Sw| <= 128 * 32768: every term fits; the sum equals isum mod 2^32 and isum
 * fits, so it is isum). Symmetric models have zw = zx = 0.
 * Layout "i8x4+dq" (kr = 4, kq = gsp / 4 quads per group, x_esize = 2: a panel has room for two
 * bytes per element):
 *  - A: per tile of 8 rows: [G][kq][8 rows][4] int8 qw (pad rows, pad k: 0), then [G][8] int32 Sw,
 *    then [G][8] int32 zw.
 *  - X: per panel of 12 columns (2 * pstride bytes): bytes [0, pstride): [G * kq][12 columns][4]
 *    int8 qx (pad k: zx), as the sq8 layout; bytes [pstride, 2 * pstride): [G * kq][12 columns]
 *    int32 Tx * 256 + (zx + 128), the same for every quad of a group, so one element (k, p) can be
 *    read back as qx - zx from its own quad (get_x, the tests). */
static size_t dq_tile_bytes(int G, int gs) { return (size_t)G * (kq_of(gs) * MR * KR + 2 * MR * 4); }

static size_t dq_a_elems(int M, int G, int gs) { return (size_t)(M + MR - 1) / MR * dq_tile_bytes(G, gs) / 2; }

static void dq_pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  size_t kq = kq_of(gs), tiles = (size_t)(M + MR - 1) / MR, K = (size_t)G * gs;
  for (size_t t = 0; t < tiles; t++) {
    int8_t *a = (int8_t *)A + t * dq_tile_bytes(G, gs);
    int32_t *sw = (int32_t *)(void *)(a + (size_t)G * kq * MR * KR), *zw = sw + (size_t)G * MR;
    for (int g = 0; g < G; g++)
      for (int r = 0; r < MR; r++) {
        size_t o = t * MR + (size_t)r;
        int32_t sum = 0;
        for (size_t q = 0; q < kq; q++)
          for (int i = 0; i < KR; i++) {
            size_t kg = q * KR + (size_t)i;
            int8_t v = o < (size_t)M && kg < (size_t)gs ? w[o * K + (size_t)g * gs + kg] : 0;
            a[(((size_t)g * kq + q) * MR + (size_t)r) * KR + (size_t)i] = v;
            sum += v;
          }
        sw[g * MR + r] = sum;
        zw[g * MR + r] = o < (size_t)M && wz ? wz[o * (size_t)G + (size_t)g] : 0;
      }
  }
}

/* the int32 slot of quad k / 4, column p (bytes [pstride, 2 * pstride) of its panel) */
static int32_t *dq_slot(const int16_t *X, size_t pstride, int k, int p) {
  return (int32_t *)(void *)((char *)(uintptr_t)X + (size_t)(p / NR) * 2 * pstride + pstride +
                             ((size_t)(k / KR) * NR + (size_t)(p % NR)) * 4);
}
static void dq_put_x(int16_t *X, size_t pstride, int k, int p, int v) {   /* v = q - z with z = 0 */
  put_x(X, pstride, k, p, v);
  *dq_slot(X, pstride, k, p) = 128;
}
static int dq_get_x(const int16_t *X, size_t pstride, int k, int p) {
  return get_x(X, pstride, k, p) - ((*dq_slot(X, pstride, k, p) & 255) - 128);
}

static void dq_quant(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                     ptrdiff_t pstride, float *xs, ptrdiff_t ldxs) {
  size_t kq = kq_of(gs), ps = (size_t)pstride;
  int p = 0;
  const float32x4_t qlo = vdupq_n_f32(asym ? -128.0f : -127.0f);
  /* bytes (k0 c0, k0 c1, .., k3 c3) -> (c0 k0, c0 k1, .., c3 k3) */
  const uint8x16_t tr = { 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15 };
  for (; p + 4 <= N; p += 4)   /* 4 columns stay inside one 12-column panel */
    for (int g = 0; g < G; g++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      float32x4_t s, zf;
      dq8_params4(v, ldxf, gs, asym, &s, &zf);
      vst1q_f32(xs + g * ldxs + p, s);
      int32x4_t zi = vcvtq_s32_f32(zf), sum = vdupq_n_s32(0);
      int8_t *qd = (int8_t *)xq + (size_t)(p / NR) * 2 * ps + (size_t)g * kq * (NR * KR) + (size_t)(p % NR) * KR;
      for (size_t q = 0; q < kq; q++, qd += NR * KR) {
        int32x4_t r[KR];
        for (int i = 0; i < KR; i++) {
          int k = (int)q * KR + i;
          r[i] = k < gs ? dq8_q4(v + k * ldxf, s, zf, qlo) : zi;   /* pad: zx, which reads back as 0 */
          if (k < gs) sum = vaddq_s32(sum, r[i]);
        }
        int16x8_t h0 = vcombine_s16(vmovn_s32(r[0]), vmovn_s32(r[1])), h1 = vcombine_s16(vmovn_s32(r[2]), vmovn_s32(r[3]));
        int8x16_t b = vcombine_s8(vmovn_s16(h0), vmovn_s16(h1));
        vst1q_s8(qd, vreinterpretq_s8_u8(vqtbl1q_u8(vreinterpretq_u8_s8(b), tr)));
      }
      /* Tx * 256 + zx + 128 into every quad's slot of the group */
      int32x4_t tx = vsubq_s32(sum, vmulq_n_s32(zi, gs));
      int32x4_t packed = vaddq_s32(vshlq_n_s32(tx, 8), vaddq_s32(zi, vdupq_n_s32(128)));
      int32_t *sd = dq_slot(xq, ps, g * (int)kq * KR, p);
      for (size_t q = 0; q < kq; q++, sd += NR) vst1q_s32(sd, packed);
    }
  for (; p < N; p++)   /* the last columns, one at a time */
    for (int g = 0; g < G; g++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      int32_t z, sum = 0;
      float s = q8_dq8_group_params(v, ldxf, gs, asym, &z);
      xs[g * ldxs + p] = s;
      for (int i = 0; i < (int)kq * KR; i++) {
        int32_t q = i < gs ? q8_dq8_quant1(v[i * ldxf], s, z, asym) : z;
        if (i < gs) sum += q;
        put_x(xq, ps, g * (int)kq * KR + i, p, q);
      }
      int32_t packed = (int32_t)((uint32_t)(sum - gs * z) << 8) + z + 128;
      for (size_t q = 0; q < kq; q++) *dq_slot(xq, ps, g * (int)(kq * KR) + (int)q * KR, p) = packed;
    }
}

static void dq8_gemm(const Q8Gemm *g, const Q8Dq8Epi *e) {
  size_t kq = (size_t)g->kp, tile_bytes = (size_t)g->G * (kq * MR * KR + 2 * MR * 4);
  int32x4_t c[MR][3];
  for (int j = 0; j < g->N; j += NR) {
    int nc = g->N - j < NR ? g->N - j : NR;
    const int8_t *X = (const int8_t *)g->X + (size_t)(j / NR) * 2 * (size_t)g->pstride;
    const int32_t *slots = (const int32_t *)(const void *)(X + g->pstride);
    for (int o0 = 0; o0 < g->M; o0 += MR) {
      int nr = g->M - o0 < MR ? g->M - o0 : MR;
      const int8_t *A = (const int8_t *)g->A + (size_t)(o0 / MR) * tile_bytes;
      const int32_t *sw = (const int32_t *)(const void *)(A + (size_t)g->G * kq * MR * KR), *zw = sw + (size_t)g->G * MR;
      float32x4_t f[MR][3];
      for (int r = 0; r < MR; r++) f[r][0] = f[r][1] = f[r][2] = vdupq_n_f32(0.0f);
      for (int grp = 0; grp < g->G; grp++) {
        tile_8x12(kq, A + (size_t)grp * kq * MR * KR, X + (size_t)grp * kq * NR * KR, c);
        const int32_t *sl = slots + (size_t)grp * kq * NR;
        const float *xs = e->xs + grp * e->ldxs + j;
        float xt[NR] = { 0 };
        memcpy(xt, xs, sizeof *xt * (size_t)nc);   /* xs has >= N columns only */
        int32x4_t tx[3], zx[3];
        float32x4_t x[3];
        for (int q = 0; q < 3; q++) {
          int32x4_t v = vld1q_s32(sl + 4 * q);
          tx[q] = vshrq_n_s32(v, 8), zx[q] = vsubq_s32(vandq_s32(v, vdupq_n_s32(255)), vdupq_n_s32(128));
          x[q] = vld1q_f32(xt + 4 * q);
        }
        for (int r = 0; r < nr; r++) {
          float32x4_t w = vdupq_n_f32(e->ws[(size_t)(o0 + r) * g->G + grp]);
          int32_t zr = zw[grp * MR + r], sr = sw[grp * MR + r];
          for (int q = 0; q < 3; q++) {
            int32x4_t is = vmlsq_n_s32(vmlsq_n_s32(c[r][q], tx[q], zr), zx[q], sr);
            f[r][q] = vaddq_f32(f[r][q], vmulq_f32(vmulq_f32(w, x[q]), vcvtq_f32_s32(is)));
          }
        }
      }
      for (int r = 0; r < nr; r++) {
        float out[NR] = { 0 };
        float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->res) memcpy(out, y, sizeof *out * (size_t)nc);   /* (ys_p 1) */
        for (int q = 0; q < 3; q++) {
          float32x4_t v = e->bias ? vaddq_f32(vdupq_n_f32(e->bias[o0 + r]), f[r][q]) : f[r][q];
          if (e->res) v = vaddq_f32(v, vld1q_f32(out + 4 * q));
          vst1q_f32(out + 4 * q, act_neon(v, e->act));
        }
        if (e->ys_p == 1) memcpy(y, out, sizeof *out * (size_t)nc);
        else
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = out[cc];
      }
    }
  }
}

/* Q8Kernels.blocked_comp: sdot multiplies s8 by s8, so no row needs a correction (zeros, which sq8_gemm does not read);
   with it the engine reads a version-3 file's blocked weights in place where they are this descriptor's A (one tap:
   1x1 convolutions and LINEARs; the 3x3s' (quad, tap) order is not its im2col's (channel, tap): unblocked and packed) */
__attribute__((cold)) static void blocked_comp(const int8_t *w, size_t tiles, size_t steps, int32_t *comp) {
  (void)w, (void)steps;
  memset(comp, 0, tiles * MR * sizeof *comp);
}

const Q8Kernels q8_gemm_8x12__neondot_desc = {"q8_gemm_8x12__neondot", "neondot", MR, NR, KR, 1, a_elems,
                                              pack_w, put_x, get_x, im2col, NULL, sq8_gemm, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, blocked_comp, NULL, NULL, NULL, NULL, 0};
const Q8Kernels q8_gemm_8x12__neondot_dq8_desc = {"q8_gemm_8x12__neondot_dq8", "neondot", MR, NR, KR, 2, dq_a_elems,
                                                  dq_pack_w, dq_put_x, dq_get_x, NULL, dq_quant, NULL, dq8_gemm, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0};
