/* q8_gemm_8x12__neondot.c: the sq8 GEMM with the ARMv8.2 dot product (sdot: int8 x int8, four
 * products per int32 lane, exact), and its own "i8x4" layout and packers. dq8 keeps the NEON kernel
 * (its q - z values span [-255, 255], more than int8 holds).
 *
 * sq8 activations are plain int8 (the bias param already holds -zx * sum_k w, FORMAT.md), so unlike
 * vpdpbusd's u8 x s8 nothing is offset or compensated: the int32 dot is the reference's exactly
 * (|sum| <= 65536 * 128 * 128 = 2^30 for the K <= 65536 a reader allows).
 * Layout (kr = 4, gsp = K rounded up to 4, kq = G * gsp / 4):
 *  - A: per tile of 8 rows: [kq][8 rows][4] int8 (pad rows and pad k: 0, so pad rows of X may hold
 *    anything).
 *  - X: per panel of 12 columns: [kq][12 columns][4] int8, element (k, p) at byte
 *    (p / 12) * 2 * pstride + (k / 4) * 48 + (p % 12) * 4 + k % 4 (pstride in int16 units).
 * Micro-tile 8 x 12: 24 int32x4 accumulators; per k quad, 3 loads of X (4 columns x 4 k each), 2 of
 * A (4 rows x 4 k each) and 24 sdot by element (vdotq_laneq_s32): 16 multiply-adds per instruction.
 * The requantization is FORMAT.md's in int64 lanes (q8_requant__neon.h), so results equal the
 * reference's. */
#include <arm_neon.h>
#include <string.h>

#include "../../src/kernels_q8.h"
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

static void sq8_gemm(const Q8Gemm *g, const Q8Sq8Epi *e) {
  size_t kq = (size_t)g->G * (size_t)g->kp, tile_bytes = kq * MR * KR;
  for (int j = 0; j < g->N; j += NR) {
    int nc = g->N - j < NR ? g->N - j : NR;
    const int8_t *X = (const int8_t *)g->X + (size_t)(j / NR) * 2 * (size_t)g->pstride;
    for (int o0 = 0; o0 < g->M; o0 += MR) {
      int nr = g->M - o0 < MR ? g->M - o0 : MR;
      const int8_t *ap = (const int8_t *)g->A + (size_t)(o0 / MR) * tile_bytes, *xp = X;
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
      int32x4_t c[MR][3] = { { c00, c01, c02 }, { c10, c11, c12 }, { c20, c21, c22 }, { c30, c31, c32 },
                             { c40, c41, c42 }, { c50, c51, c52 }, { c60, c61, c62 }, { c70, c71, c72 } };
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

const Q8Kernels q8_gemm_8x12__neondot_desc = {"q8_gemm_8x12__neondot", "neondot", MR, NR, KR, 1, a_elems,
                                              pack_w, put_x, get_x, im2col, NULL, sq8_gemm, NULL};
