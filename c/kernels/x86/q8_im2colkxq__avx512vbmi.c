/* q8_im2colkxq__avx512vbmi.c: the sq8 fused im2col in the kx-quad row order (Q8Kernels.im2col_kxq), for
 * the AMX and the AVX-512 VNNI layouts (q8_im2col4__avx512.h), AVX-512 VBMI; and, below, the whole-quad order's
 * fused im2col of small maps (q8_im2col_small__avx512vbmi, the VNNI descriptor's im2col_cols for 7x7 layers).
 *
 * Row k of the kx-quad order is (c, ky, kx) with k = (c * kh + ky) * kq + kx, kq = kw rounded up to 4 (rows
 * with kx >= kw: the op packs their weights as zero). A quad's four rows are then four consecutive taps of
 * one input row, so a column's 4 bytes are 4 consecutive input bytes, and 16 columns of a quad (64 bytes of
 * the layout, 16 x 4; OW a multiple of 16: one output row's) are 15 * sw + 4 bytes of one padded input row:
 * one masked load and one `vpermb` (lane 4i + j <- byte i * sw + j). In the whole-quad order
 * (q8_q4_im2col_planes) a quad's rows are four taps that lie anywhere, loaded one by one and interleaved. */
#include <immintrin.h>

#include "../../src/kernels_q8.h"
#include "q8_im2col4__avx512.h"

void q8_im2col_kxq__avx512vbmi(int lay, const Q8Kxq *g, int p0, int p1, int16_t *X, ptrdiff_t pstride) {
  int kh = g->kh, sw = g->sw, OW = g->OW, kq = (g->kw + 3) / 4, nq = g->C * kh * kq;   /* quads */
  size_t plane = (size_t)g->Hp * (size_t)g->Wp, pbytes = 2 * (size_t)pstride;
  /* lane l = 4i + j reads byte i * sw + j (sw 1 or 2) */
  const __m512i l = _mm512_set_epi64(0x3f3e3d3c3b3a3938, 0x3736353433323130, 0x2f2e2d2c2b2a2928, 0x2726252423222120,
                                     0x1f1e1d1c1b1a1918, 0x1716151413121110, 0x0f0e0d0c0b0a0908, 0x0706050403020100);
  const __m512i i = _mm512_and_si512(_mm512_srli_epi16(l, 2), _mm512_set1_epi8(15));
  const __m512i ix = _mm512_add_epi8(_mm512_add_epi8(_mm512_and_si512(l, _mm512_set1_epi8(3)), i), sw == 2 ? i : _mm512_setzero_si512());
  const __m512i flip = _mm512_set1_epi8((char)(lay == Q4_VNNI ? 0x80 : 0));
  /* the bytes a quad's 16 columns read; a row's last quad: those up to the window's last tap */
  const __mmask64 full = ((__mmask64)1 << (15 * sw + 4)) - 1, last = full >> (4 * kq - g->kw);
  for (int p = p0; p < p1; p += 16) {
    const int8_t *at = g->xp + (size_t)(p / OW) * (size_t)g->sh * (size_t)g->Wp + (size_t)(p % OW) * (size_t)sw;
    for (int q = 0, c = 0, ky = 0, kx = 0; q < nq; q++) {
      __m512i v = _mm512_maskz_loadu_epi8(kx == kq - 1 ? last : full, at + (size_t)c * plane + (size_t)ky * (size_t)g->Wp + 4 * kx);
      _mm512_storeu_si512(group_at(lay, (int8_t *)X, pbytes, q, p - p0), _mm512_xor_si512(_mm512_permutexvar_epi8(ix, v), flip));
      if (++kx == kq && (kx = 0, ++ky == kh)) ky = 0, c++;
    }
  }
}

/* The fused im2col (Q8Kernels.im2col_cols) of a small map: columns [0, N), N <= 64, from padded planes of at most
   256 bytes (ResNet's 7x7 layers, which go by the GEMM: 9x9 planes at stride 1, 16x16 at stride 2). Each channel's
   plane is held in two or four registers (loaded once for its kh x kw rows, ^ flip), and row (c, ky, kx) is one
   vpermi2b of it (two and a blend past 128 bytes): lane l reads byte off[l] + ky dh Wp + kx dw, off[l] = the
   window's corner of column l. In q8_q4_im2col_planes a 7x7 map's row took one masked load per output row (7),
   ~140 cycles a quad: 512 x 9 channels' 49 columns 45 us, hot, one thread (Zen 4) */
void q8_im2col_small__avx512vbmi(int lay, const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh,
                                 int dw, int OW, int K, int N, int16_t *X, ptrdiff_t pstride) {
  size_t plane = (size_t)Hp * (size_t)Wp, pbytes = 2 * (size_t)pstride;
  uint8_t o[64] = {0};
  for (int l = 0; l < N; l++) o[l] = (uint8_t)((l / OW) * sh * Wp + (l % OW) * sw);
  const __m512i off = _mm512_loadu_si512(o), flip = _mm512_set1_epi8((char)(lay == Q4_VNNI ? 0x80 : 0));
  const int two = plane > 128, ng = (N + 15) / 16, taps = kh * kw;
  __m512i t[4] = {flip, flip, flip, flip}, r[4] = {flip, flip, flip, flip}, ix[256 / 4];
  for (int ky = 0, a = 0; ky < kh; ky++)   /* each tap's lane indices (a window inside a plane of 256 bytes: < 64 taps) */
    for (int kx = 0; kx < kw; kx++) ix[a++] = _mm512_add_epi8(off, _mm512_set1_epi8((char)(ky * dh * Wp + kx * dw)));
  for (int q = 0, k = 0, c = 0, a = 0; q < (K + 3) / 4; q++) {
    for (int i = 0; i < 4 && k < K; i++, k++) {
      if (a == 0) {   /* channel c's plane: bytes [0, plane) */
        const int8_t *src = xp + (size_t)c * plane;
        for (int j = 0; j < (two ? 4 : 2); j++) {
          size_t n = plane > 64 * (size_t)j ? plane - 64 * (size_t)j : 0;
          __mmask64 m = n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
          t[j] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + 64 * j), flip);
        }
      }
      r[i] = _mm512_permutex2var_epi8(t[0], ix[a], t[1]);
      if (two) r[i] = _mm512_mask_blend_epi8(_mm512_movepi8_mask(ix[a]), r[i], _mm512_permutex2var_epi8(t[2], ix[a], t[3]));
      if (++a == taps) a = 0, c++;
    }
    __m512i g[4];
    quad64v(r[0], r[1], r[2], r[3], 0, g);   /* (rows past K: the last ones again; their weights are 0) */
    for (int j = 0; j < ng; j++) _mm512_storeu_si512(group_at(lay, (int8_t *)X, pbytes, q, 16 * j), g[j]);
  }
}
