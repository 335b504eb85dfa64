/* q8_dwsmall__vbmivnni.c: sq8 depthwise convolution of small planes (MobileNet's 14x14 and 7x7), AVX-512
 * VNNI + VBMI; q8_dwconv__avx512vnni.c's dwconv_n calls it for runs of planes. One plane's outputs are in
 * the lanes, 16 a vector, and vpdpbusd sums four bytes a lane: a vector of windows holds, in lane m, the
 * bytes (u8 = x + 128) of one kernel row's kw <= 4 taps of output m, gathered from one 64-byte load by one
 * vpermb (VBMI; 0 weights past kw). Output = b0 + sum over the kernel rows of vpdpbusd(windows, W[ky]),
 * FORMAT.md's acc exact in int32 (the caller's bound on b0, as in the per-plane kernel). Two layouts:
 *
 *  - flat (stride 1, "same" width: OW == W): 16 consecutive outputs of the plane, rows and all (output f =
 *    oy * W + ox), whose tap (ky, kx) reads input byte f + (ky - ph) * W + kx - pw: one load at
 *    16 v - ph * W - pw holds every tap of the 16 (when 15 + (kh - 1) * W + kw - 1 < 64), rows above and
 *    below the plane read zx through the load's mask, and a tap that crosses a row's edge takes zx by the
 *    permute's mask (the same for every kernel row of a vector). kh permutes a vector; no lane wasted but
 *    in the last vector.
 *  - rows (stride 1 or 2, OW <= 16): a vector per output row; the windows of an input row are the same
 *    whichever kernel row reads them, so each input row is loaded (its padding by the load's mask) and
 *    permuted once, and output row oy sums the vectors of input rows oy * sh - ph + ky.
 *
 * Requantization as q8_requant__avx512.h; with the plane's shift >= 32 (the common case) four vectors are
 * narrowed together (two vpackssdw, one vpacksswb, one vpermb into output order) and stored as one: four
 * flat vectors are 64 consecutive outputs, four rows 4 * OW. dwconv_n's runs of planes, one thread, hot
 * (Sapphire Rapids), against q8_dw16 (the 16-channels-in-the-lanes kernel this replaced): 16 planes of 14x14
 * 1.23 -> 0.92 us, 7x7 0.55 -> 0.42, 28x28 to 14x14 2.87 -> 1.41, 14x14 to 7x7 0.69 -> 0.73 (c/README.md). */
#include <immintrin.h>
#include <stdint.h>

#include "../../src/kernels_q8.h"
#include "q8_bytes64__avx512.h"
#include "q8_requant__avx512.h"
#include "touch_lines.h"

enum { KH = 8, NV = 64, NR = 40 };   /* kernel rows; flat vectors; rows' windows (input rows read) */

int q8_dwsmall_fits(const Q8DwShape *s) {
  if (s->dh != 1 || s->dw != 1 || s->sh != s->sw || s->kw > 4 || s->kh > KH || s->OH < 1 || s->OW < 1) return 0;
  if (s->sw == 1 && s->OW == s->W && s->W <= 64 && 15 + (s->kh - 1) * s->W + s->kw - 1 < 64 && (s->OH * s->OW + 15) / 16 <= NV)
    return 1;
  if ((s->sw == 1 || s->sw == 2) && s->OW <= 16 && (s->OW - 1) * s->sw + s->kw <= 64 && s->W + s->pw <= 64 &&
      (s->OH - 1) * s->sh + s->kh <= NR)
    return 2;
  return 0;
}

/* the plane's weights: W[ky] = kernel row ky's taps in each lane's four bytes (0 past kw). Byte by byte: a masked
   64-byte load of them (the file's map) and a permute made the ops after the depthwise layers 9% slower
   (MobileNetV2 sq8, one thread, AMX table; the cause not found), this the layers themselves 4% faster */
static inline void weights(const int8_t *w, int kh, int kw, __m512i *wv) {
  for (int ky = 0; ky < kh; ky++) {
    uint32_t v = 0;
    for (int kx = 0; kx < kw; kx++) v |= (uint32_t)(uint8_t)w[ky * kw + kx] << (8 * kx);
    wv[ky] = _mm512_set1_epi32((int32_t)v);
  }
}

/* 16 sums -> 16 int32 of zy + (sum * m + c) >> shift, shift >= 32 (q8_requant__avx512.h's big rows) */
static inline __m512i big32(__m512i acc, const RowQ *q, const EpiQ *p) { return _mm512_add_epi32(q8_big32(acc, q), p->zy); }

/* four vectors of big32 -> 64 int8 in the order oi gives (r[k] lane j at byte 16 j / 4 + 4 k + j % 4 of the packs),
   clamped to [qmin, qmax] */
static inline __m512i narrow4(const __m512i r[4], __m512i oi, const EpiQ *p) {
  __m512i o = _mm512_permutexvar_epi8(oi, _mm512_packs_epi16(_mm512_packs_epi32(r[0], r[1]), _mm512_packs_epi32(r[2], r[3])));
  if (p->lo) o = _mm512_max_epi8(o, p->lo8);
  if (p->hi) o = _mm512_min_epi8(o, p->hi8);
  return o;
}

/* the plane's windows gathered from the load u by the permutes idx (merging pad bytes where cm says) */
static inline __m512i sums_n(__m512i u, const __m512i *idx, __mmask64 cm, __m512i padu, const __m512i *wv, int kh) {
  __m512i acc = _mm512_setzero_si512();
  for (int ky = 0; ky < kh; ky++) acc = _mm512_dpbusd_epi32(acc, _mm512_mask_permutexvar_epi8(padu, cm, idx[ky], u), wv[ky]);
  return acc;
}
/* the same, unrolled for a 3-row kernel (the common one) */
static inline __m512i sums(__m512i u, const __m512i *idx, __mmask64 cm, __m512i padu, const __m512i *wv, int kh) {
  if (kh != 3) return sums_n(u, idx, cm, padu, wv, kh);
  __m512i acc = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_mask_permutexvar_epi8(padu, cm, idx[0], u), wv[0]);
  return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc, _mm512_mask_permutexvar_epi8(padu, cm, idx[1], u), wv[1]),
                             _mm512_mask_permutexvar_epi8(padu, cm, idx[2], u), wv[2]);
}

/* output row oy's sums from the windows of its input rows q[0 .. kh) */
static inline __m512i row_sums_n(const __m512i *q, const __m512i *wv, int kh) {
  __m512i acc = _mm512_setzero_si512();
  for (int ky = 0; ky < kh; ky++) acc = _mm512_dpbusd_epi32(acc, q[ky], wv[ky]);
  return acc;
}
static inline __m512i row_sums(const __m512i *q, const __m512i *wv, int kh) {
  if (kh != 3) return row_sums_n(q, wv, kh);
  return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q[0], wv[0]), q[1], wv[1]), q[2], wv[2]);
}

/* flat vector v's masks: lm[v] the load's bytes inside the plane, cm[v] the taps inside their row (nibble l: lane
   l's taps; set past kw) */
__attribute__((cold, noinline)) static void flat_masks(const Q8DwShape *s, long a0, int nv, __mmask64 *lm, __mmask64 *cm) {
  const int W = s->W, HW = s->H * W;
  uint8_t nib[64];
  for (int ox = 0; ox < W; ox++) {
    nib[ox] = 0;
    for (int k = 0; k < 4; k++) nib[ox] |= (uint8_t)((k >= s->kw || (ox + k - s->pw >= 0 && ox + k - s->pw < W)) << k);
  }
  for (int v = 0, ox = 0; v < nv; v++) {
    uint64_t m = 0;
    for (int l = 0; l < 16; l++, ox = ox + 1 == W ? 0 : ox + 1) m |= (uint64_t)nib[ox] << (4 * l);
    lm[v] = q8_bytes64(-(16L * v + a0), HW - (16L * v + a0)), cm[v] = (__mmask64)m;
  }
}

/* flat: planes [0, n) */
static void flat(const int8_t *x, const int8_t *w, const int32_t *b0, const int32_t *mult, const int32_t *shift, int8_t *y,
                 const Q8DwShape *s, int n, const __m512i *qi) {
  const int W = s->W, kh = s->kh, kw = s->kw, HW = s->H * W, OHW = s->OH * W, nv = (OHW + 15) / 16, nb = (nv + 3) / 4;
  const long a0 = -(long)s->ph * W - s->pw;   /* vector v's load: x + 16 v + a0 */
  __mmask64 lm[NV], cm[NV];
  flat_masks(s, a0, nv, lm, cm);
  __m512i idx[KH];
  for (int ky = 0; ky < kh; ky++) idx[ky] = _mm512_add_epi8(qi[0], _mm512_set1_epi8((char)(ky * W)));
  const __m512i zxv = _mm512_set1_epi8((char)s->zx), flip = _mm512_set1_epi8((char)0x80), padu = _mm512_xor_si512(zxv, flip);
  const EpiQ eq = epi_q_of(s->zy, s->qmin, s->qmax);
  for (int c = 0; c < n; c++, x += HW, w += kh * kw, y += OHW) {
    __m512i wv[KH];
    touch_lines(y, (size_t)OHW);   /* (touch_lines.h) */
    weights(w, kh, kw, wv);
    const int64_t cc = (int64_t)b0[c] * mult[c] + ((int64_t)1 << (shift[c] - 1));
    const uintptr_t base = (uintptr_t)x + (uintptr_t)a0;   /* (masked-off bytes are not read) */
    const RowQ q = row_q_of(mult[c], shift[c], cc);
    if (q.big) {
      for (int v = 0; v < 4 * nb; v += 4) {
        __m512i r[4];
        for (int k = 0; k < 4; k++) {   /* (a last block's vectors past the plane: not computed) */
          if (v + k >= nv) {
            r[k] = eq.zy;
            continue;
          }
          __m512i u = _mm512_xor_si512(_mm512_mask_loadu_epi8(zxv, lm[v + k], (const void *)(base + 16 * (uintptr_t)(v + k))), flip);
          r[k] = big32(sums(u, idx, cm[v + k], padu, wv, kh), &q, &eq);
        }
        _mm512_mask_storeu_epi8(y + 16 * v, q8_bytes64(0, OHW - 16L * v), narrow4(r, qi[1], &eq));
      }
      continue;
    }
    for (int v = 0; v < nv; v++) {   /* shift < 32: vector by vector, in int64 lanes */
      __m512i u = _mm512_xor_si512(_mm512_mask_loadu_epi8(zxv, lm[v], (const void *)(base + 16 * (uintptr_t)v)), flip);
      _mm_mask_storeu_epi8(y + 16 * v, (__mmask16)q8_bytes64(0, OHW - 16L * v), requant16(sums_n(u, idx, cm[v], padu, wv, kh), &q, &eq));
    }
  }
}

/* rows: planes [0, n) */
static void rows(const int8_t *x, const int8_t *w, const int32_t *b0, const int32_t *mult, const int32_t *shift, int8_t *y,
                 const Q8DwShape *s, int n, const __m512i *qi) {
  const int W = s->W, H = s->H, OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw, sh = s->sh, HW = H * W, OHW = OH * OW;
  const int R = (OH - 1) * sh + kh;   /* input rows read: -ph .. R - ph - 1 */
  const __m512i wi = qi[3];   /* lane m, tap k: byte m sw + k */
  const __mmask64 rowm = q8_bytes64(s->pw, (long)s->pw + W);   /* the load at column -pw: the row's bytes */
  const __m512i zxv = _mm512_set1_epi8((char)s->zx), flip = _mm512_set1_epi8((char)0x80), padu = _mm512_xor_si512(zxv, flip);
  const EpiQ eq = epi_q_of(s->zy, s->qmin, s->qmax);
  __m512i Q[NR];
  for (int c = 0; c < n; c++, x += HW, w += kh * kw, y += OHW) {
    __m512i wv[KH];
    touch_lines(y, (size_t)OHW);   /* (touch_lines.h) */
    weights(w, kh, kw, wv);
    for (int r = 0; r < R; r++) {
      int iy = r - s->ph;
      if (iy < 0 || iy >= H) Q[r] = padu;
      else
        Q[r] = _mm512_permutexvar_epi8(wi, _mm512_xor_si512(_mm512_mask_loadu_epi8(zxv, rowm, (const void *)((uintptr_t)(x + (size_t)iy * W) - (uintptr_t)s->pw)), flip));
    }
    const int64_t cc = (int64_t)b0[c] * mult[c] + ((int64_t)1 << (shift[c] - 1));
    const RowQ q = row_q_of(mult[c], shift[c], cc);
    if (q.big) {
      for (int oy = 0; oy < OH; oy += 4) {   /* (a last block's rows past OH: not computed) */
        __m512i r[4];
        for (int k = 0; k < 4; k++) r[k] = oy + k < OH ? big32(row_sums(Q + (oy + k) * sh, wv, kh), &q, &eq) : eq.zy;
        _mm512_mask_storeu_epi8(y + (size_t)oy * OW, q8_bytes64(0, (long)(OH - oy < 4 ? OH - oy : 4) * OW), narrow4(r, qi[2], &eq));
      }
      continue;
    }
    for (int oy = 0; oy < OH; oy++) {   /* shift < 32: row by row, in int64 lanes */
      _mm_mask_storeu_epi8(y + (size_t)oy * OW, (__mmask16)q8_bytes64(0, OW), requant16(row_sums_n(Q + oy * sh, wv, kh), &q, &eq));
    }
  }
}

/* the permutes' indices: flat's taps (kernel row 0), four flat vectors' and four rows' outputs in order, rows' taps */
__attribute__((cold, noinline)) static void tables(const Q8DwShape *s, int8_t t[4][64]) {
  for (int l = 0; l < 64; l++) {
    int m = l / 4, k = l % 4, j = l % 16, r = l / 16;
    t[0][l] = (int8_t)(m + (k < s->kw ? k : 0));                  /* lane m, tap k */
    t[1][l] = (int8_t)(16 * (j / 4) + 4 * r + j % 4);             /* vector r's lane j at byte 16 r + j */
    int ow = s->OW > 0 ? s->OW : 1, kk = l / ow, jj = l % ow;      /* row kk's lane jj at byte OW kk + jj */
    t[2][l] = (int8_t)(kk < 4 ? 16 * (jj / 4) + 4 * kk + jj % 4 : 0);
    t[3][l] = (int8_t)(m * s->sw + (k < s->kw ? k : 0));          /* lane m, tap k: byte m sw + k of the row */
  }
}

void q8_dwsmall(const int8_t *x, const int8_t *w, const int32_t *b0, const int32_t *mult, const int32_t *shift, int8_t *y,
                const Q8DwShape *s, int n) {
  _Alignas(64) int8_t t[4][64];
  tables(s, t);
  const __m512i qi[4] = { _mm512_load_si512(t[0]), _mm512_load_si512(t[1]), _mm512_load_si512(t[2]), _mm512_load_si512(t[3]) };
  if (q8_dwsmall_fits(s) == 1) flat(x, w, b0, mult, shift, y, s, n, qi);
  else rows(x, w, b0, mult, shift, y, s, n, qi);
}
