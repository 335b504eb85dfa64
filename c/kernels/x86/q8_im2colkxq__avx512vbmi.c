/* q8_im2colkxq__avx512vbmi.c: the sq8 fused im2col in the kx-quad row order (Q8Kernels.im2col_kxq), for
 * the AMX and the AVX-512 VNNI layouts (q8_im2col4__avx512.h), AVX-512 VBMI.
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
