/* q8_dw16__vbmivnni.c: sq8 depthwise convolution of small planes, 16 channels at a time with the
 * channels in the lanes (AVX-512 VNNI + VBMI; q8_dwconv__avx512vnni.c's dwconv_n calls it). That
 * kernel puts one plane's outputs in the lanes, so a 7x7 plane is one block of a few vpdpbusd wrapped
 * in a plane's worth of setup and copies; here the setup and the copies are shared by 16 planes.
 *
 * For each padded input row iy, the 16 channels' rows go to buf[iy] (16 bytes each, u8 = x + 128,
 * the pad bytes zx + 128). Lane c's dword of the vector Q(iy, ox) holds bytes ox*sw .. ox*sw + 3 of
 * channel c's row: one vpermi2b over channels 0-7 and one over 8-15 (the same index: byte
 * 16 c + ox*sw + k, of which vpermi2b reads the low 7 bits), blended. The weights of kernel row ky are
 * one vector of 16 dwords (channel c's taps kx = 0..kw-1, 0 past kw), so output (oy, ox) of the 16
 * channels is b0 + sum over ky of vpdpbusd(Q(oy*sh + ky, ox), W[ky]): FORMAT.md's acc, exact in int32
 * (the caller's bound on b0, as in the per-plane kernel). The requantization is per lane (each
 * channel's multiplier and shift, 64-bit products; with every shift >= 32, the high halves shifted in
 * 32-bit lanes and clamped in int8 ones, as q8_requant__avx512.h) and each output row goes back to the
 * 16 planes through a byte transpose (vpermi2b again).
 * Q is built row by row (a padded row's four vectors loaded once for all its columns, not once per column:
 * the two-source permutes then read registers) and a 3-row kernel's three vpdpbusd are unrolled; on one
 * thread (Sapphire Rapids) a 14x14 plane of 16 channels 1.57 -> 1.40 us, 7x7 0.62 -> 0.58, 14x14 stride 2
 * 0.83 -> 0.72; MobileNetV2's depthwise layers at batch 1 on 2 threads 7-13% faster (2026-12-02).
 * Shapes (q8_dw16_fits): dilation 1, stride 1 or 2 both ways, kw <= 4, kh <= 16, a padded row of at
 * most 16 bytes whose windows stay in it ((OW - 1) * sw + kw <= 16), OW <= 16, OH <= 16, and at most 32
 * rows read. */
#include <immintrin.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "q8_requant__avx512.h"

int q8_dw16_fits(const Q8DwShape *s) {
  return s->dh == 1 && s->dw == 1 && s->sh == s->sw && (s->sw == 1 || s->sw == 2) && s->kw <= 4 && s->kh <= 16 &&
         s->W + 2 * s->pw <= 16 && (s->OW - 1) * s->sw + s->kw <= 16 && s->OW <= 16 && s->OH <= 16 &&
         s->H + 2 * s->ph <= 32 && (s->OH - 1) * s->sh + s->kh <= 32;
}

/* channels [0, n) (n <= 16) of planes x (H x W each, consecutive), weights w (kh x kw each), into y
   (OH x OW each); b0: each channel's bias - 128 * sum of its weights, checked by the caller to keep every
   partial sum in int32 */
void q8_dw16(const int8_t *x, const int8_t *w, const int32_t *b0, const int32_t *mult, const int32_t *shift, int8_t *y,
             const Q8DwShape *s, int n) {
  const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw, sw = s->sw, ph = s->ph, pw = s->pw;
  /* the rows the windows read: the padded rows, and past them when a window is taller than the padded
     plane (a 4-row kernel on a 1-row plane padded by 1: the rows below read zx too) */
  const int Hp = H + 2 * ph > (OH - 1) * s->sh + kh ? H + 2 * ph : (OH - 1) * s->sh + kh;
  const size_t HW = (size_t)H * W, OHW = (size_t)OH * OW;
  _Alignas(64) uint8_t buf[32][256];   /* padded row iy of channel c at buf[iy][16 c] */
  _Alignas(64) uint8_t out[16][16];    /* an output row: out[ox][c] */
  const __m128i padv = _mm_set1_epi8((char)(s->zx ^ 0x80)), flip = _mm_set1_epi8((char)0x80);
  const __mmask16 rowm = (__mmask16)(((1u << W) - 1) << pw);
  for (int iy = 0; iy < Hp; iy++) {
    int sy = iy - ph;
    for (int c = 0; c < 16; c++) {
      __m128i v = padv;
      if (sy >= 0 && sy < H && c < n)   /* the row's W bytes at pw; masked-off bytes are not read */
        v = _mm_xor_si128(_mm_mask_loadu_epi8(_mm_set1_epi8((char)s->zx), rowm, x + (size_t)c * HW + (size_t)sy * W - pw), flip);
      _mm_store_si128((__m128i *)&buf[iy][16 * c], v);
    }
  }
  /* weights: W[ky] lane c = channel c's taps of row ky */
  __m512i wv[16];
  for (int ky = 0; ky < kh; ky++) {
    _Alignas(64) int32_t t[16];
    for (int c = 0; c < 16; c++) {
      uint32_t v = 0;
      for (int kx = 0; kx < kw && c < n; kx++) v |= (uint32_t)(uint8_t)w[(size_t)c * kh * kw + (size_t)ky * kw + kx] << (8 * kx);
      t[c] = (int32_t)v;
    }
    wv[ky] = _mm512_load_si512(t);
  }
  /* per-lane requantization: even and odd channels' multipliers and rounding in 64-bit lanes, shifts */
  _Alignas(64) int64_t me[8], mo[8], re[8], ro[8], se[8], so[8];
  _Alignas(64) int32_t bb[16];
  for (int i = 0; i < 8; i++) {
    int c0 = 2 * i < n ? 2 * i : 0, c1 = 2 * i + 1 < n ? 2 * i + 1 : 0;
    me[i] = mult[c0], mo[i] = mult[c1], se[i] = shift[c0], so[i] = shift[c1];
    re[i] = (int64_t)1 << (shift[c0] - 1), ro[i] = (int64_t)1 << (shift[c1] - 1);
  }
  for (int c = 0; c < 16; c++) bb[c] = c < n ? b0[c] : 0;
  const __m512i vme = _mm512_load_si512(me), vmo = _mm512_load_si512(mo), vre = _mm512_load_si512(re),
                vro = _mm512_load_si512(ro), vse = _mm512_load_si512(se), vso = _mm512_load_si512(so),
                vb0 = _mm512_load_si512(bb);
  const EpiQ pq = epi_q_of(s->zy, s->qmin, s->qmax);
  /* every channel's shift >= 32 (the common case): q8_requant__avx512.h's big rows per lane (the high halves
     shifted by each lane's shift - 32) */
  _Alignas(64) int32_t s32[16];
  int big = 1;
  for (int c = 0; c < 16; c++) s32[c] = c < n ? shift[c] - 32 : 0, big &= c >= n || shift[c] >= 32;
  const __m512i vs32 = _mm512_load_si512(s32);
  /* Q's index for ox = 0 (lane 4 c + k: byte 16 c + k), and the output transpose's (see below) */
  _Alignas(64) int8_t bi[64], ti[64];
  for (int l = 0; l < 64; l++) bi[l] = (int8_t)(16 * (l / 4) + l % 4), ti[l] = (int8_t)(16 * (l % 16) + l / 16);
  const __m512i qidx = _mm512_load_si512(bi), tidx = _mm512_load_si512(ti);
  /* Q(iy, ox) for every row read and output column, once (each is read by up to kh / sh outputs) */
  _Alignas(64) __m512i Q[32][16];
  for (int iy = 0; iy < Hp; iy++) {   /* a row's four vectors loaded once for all its columns */
    const uint8_t *r = buf[iy];
    const __m512i r0 = _mm512_load_si512(r), r1 = _mm512_load_si512(r + 64), r2 = _mm512_load_si512(r + 128),
                  r3 = _mm512_load_si512(r + 192);
    __m512i idx = qidx;
    for (int ox = 0; ox < OW; ox++, idx = _mm512_add_epi8(idx, _mm512_set1_epi8((char)sw)))
      Q[iy][ox] = _mm512_mask_blend_epi8(0xFFFFFFFF00000000ull, _mm512_permutex2var_epi8(r0, idx, r1),
                                         _mm512_permutex2var_epi8(r2, idx, r3));
  }
  for (int oy = 0; oy < OH; oy++) {
    for (int ox = 0; ox < OW; ox++) {
      __m512i acc = vb0;
      if (kh == 3)   /* (unrolled: the loop's copies and counters were half of an output's instructions) */
        acc = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc, Q[oy * sw][ox], wv[0]), Q[oy * sw + 1][ox],
                                                      wv[1]),
                                  Q[oy * sw + 2][ox], wv[2]);
      else
        for (int ky = 0; ky < kh; ky++) acc = _mm512_dpbusd_epi32(acc, Q[oy * sw + ky][ox], wv[ky]);
      __m512i ev = _mm512_add_epi64(_mm512_mul_epi32(acc, vme), vre);
      __m512i od = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), vmo), vro);
      __m128i b = big ? q8_narrow32(_mm512_srav_epi32(q8_hi32(ev, od), vs32), &pq)
                      : q8_narrow64(_mm512_srav_epi64(ev, vse), _mm512_srav_epi64(od, vso), &pq);
      _mm_store_si128((__m128i *)out[ox], b);
    }
    /* out[ox][c] -> channel c's row: 4 channels a vector, lane 16 q + ox = byte 16 ox + c0 + q */
    for (int c0 = 0; c0 < n; c0 += 4) {
      const __m512i i4 = _mm512_add_epi8(tidx, _mm512_set1_epi8((char)c0));
      __m512i a = _mm512_permutex2var_epi8(_mm512_load_si512(out[0]), i4, _mm512_load_si512(out[4]));
      __m512i b = _mm512_permutex2var_epi8(_mm512_load_si512(out[8]), i4, _mm512_load_si512(out[12]));
      /* bytes 16 ox + c with ox >= 8 lie in the second pair: lanes whose ox (l % 16) >= 8 */
      _Alignas(64) int8_t rows[64];
      _mm512_store_si512(rows, _mm512_mask_blend_epi8(0xFF00FF00FF00FF00ull, a, b));
      const __mmask16 om = (__mmask16)((1u << OW) - 1);
      for (int q = 0; q < 4 && c0 + q < n; q++)
        _mm_mask_storeu_epi8(y + (size_t)(c0 + q) * OHW + (size_t)oy * OW, om, _mm_load_si128((const __m128i *)(rows + 16 * q)));
    }
  }
}
