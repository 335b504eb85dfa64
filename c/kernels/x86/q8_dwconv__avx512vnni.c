/* q8_dwconv__avx512vnni.c: one output plane of an sq8 depthwise convolution with AVX-512 VNNI
 * (src/kernels_q8.h). Inputs travel as u8 = x + 128 and vpdpbusd multiplies four adjacent input
 * bytes by four weights of one kernel row: int32 lane m of a 64-byte load at column a holds the
 * taps kx = 4j..4j+3 of the output whose window starts at a + 4m. With stride sw (1 or 2) those
 * lanes are every P-th output (P = 4 / sw), so P loads ("phases") at columns sw*(ox0 + f) - pw + 4j
 * cover the 16P outputs ox0 + f + P*m of a block. Pads come from masked loads (the masked-off bytes
 * read zx, also out-of-range rows), so one code path covers borders and planes of any width.
 * acc = bias - 128 * sum w + sum (x + 128) w is FORMAT.md's int64 acc, exact in int32 when the
 * bias is not extreme (checked per plane; else the reference); the requantization is FORMAT.md's in
 * int64 lanes (32 x 32 -> 64 products, arithmetic shifts), so results equal the reference's.
 * Other shapes (dilation along x, stride 3 or more, kw > 16, kh > 16) go to the reference (stride 4 had
 * its own instances, ~3 KB of the binary, until the 1 MiB bound needed the room). Small planes: with VBMI,
 * dwconv_n gives runs of them to q8_dwsmall__vbmivnni.c; without, the flat buffer below or the plain path (a
 * 128-bit variant for narrow rows went, 3 KB, when q8_dwsmall took its shapes; the flat buffer's instances for
 * windows other than 3x3, 2.6 KB, when the VNNI GEMM's two-row epilogue needed the room: such planes take the
 * plain path). */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "q8_bytes64__avx512.h"
#include "q8_requant__avx512.h"

enum { MAXK = 16, MAXJ = MAXK / 4 };

/* the plane's requantization (q8_requant__avx512.h: FORMAT.md's, the shift >= 32 rows in 32-bit lanes) */
typedef struct { RowQ r; EpiQ e; } Rq;

/* 16 int32 sums -> 16 int8: clamp(zy + ((acc * m + rnd) >> shift), qmin, qmax) */
static inline __m128i requant16_dw(__m512i acc, const Rq *q) { return requant16(acc, &q->r, &q->e); }

/* the P phases' 16 results each -> the block's 16P outputs in order (output P*m + f = r[f][m]) */
static inline __attribute__((always_inline)) __m512i in_order(const __m128i r[4], const int P) {
  __m512i out;
  if (P == 1) out = _mm512_castsi128_si512(r[0]);
  else if (P == 2) {
    out = _mm512_castsi128_si512(_mm_unpacklo_epi8(r[0], r[1]));
    out = _mm512_inserti32x4(out, _mm_unpackhi_epi8(r[0], r[1]), 1);
  } else {
    __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpackhi_epi8(r[0], r[1]);
    __m128i t2 = _mm_unpacklo_epi8(r[2], r[3]), t3 = _mm_unpackhi_epi8(r[2], r[3]);
    out = _mm512_castsi128_si512(_mm_unpacklo_epi16(t0, t2));
    out = _mm512_inserti32x4(out, _mm_unpackhi_epi16(t0, t2), 1);
    out = _mm512_inserti32x4(out, _mm_unpacklo_epi16(t1, t3), 2);
    out = _mm512_inserti32x4(out, _mm_unpackhi_epi16(t1, t3), 3);
  }
  return out;
}

/* the P phases' sums -> the block's 16P outputs in order. Stride 1 (P = 4) in a plane whose shift is >= 32 (the
   common case): each phase's r = x >> shift + zy in int32 (q8_requant__avx512.h), the four narrowed together by
   two vpackssdw and one vpacksswb (saturating: vpmovsdb's clamp), which leave 128-bit lane L holding phase f's
   outputs 4L..4L+3 at bytes 4f..4f+3, and one in-lane vpshufb puts them in output order: MobileNetV2 sq8's
   stride-1 depthwise layers ~10% faster on one thread than four vpmovsdb and in_order (stride 2, the same done
   with a vpermq after, measured alike: left as it was). Else requant16 per phase and in_order */
static inline __attribute__((always_inline)) __m512i requant_block(const __m512i acc[4], const Rq *q, const int P) {
  if (!q->r.big || P != 4) {
    __m128i r[4];
    #pragma GCC unroll 4
    for (int f = 0; f < P; f++) r[f] = requant16_dw(acc[f], q);
    return in_order(r, P);
  }
  __m512i v[4];
  #pragma GCC unroll 4
  for (int f = 0; f < 4; f++) {
    __m512i ev, od;
    q8_x64(acc[f], q->r.m, q->r.c, &ev, &od);
    v[f] = _mm512_add_epi32(q8_big32_of(ev, od, &q->r), q->e.zy);
  }
  __m512i o = _mm512_packs_epi16(_mm512_packs_epi32(v[0], v[1]), _mm512_packs_epi32(v[2], v[3]));
  o = _mm512_shuffle_epi8(o, _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)));
  if (q->e.lo) o = _mm512_max_epi8(o, q->e.lo8);
  if (q->e.hi) o = _mm512_min_epi8(o, q->e.hi8);
  return o;
}

static inline __attribute__((always_inline)) void plane(const int8_t *x, const int32_t *wq, const int J, int32_t b0,
                                                        const Rq *q, int8_t *y, const Q8DwShape *s, const int kh,
                                                        const int P) {
  const __m512i padx = _mm512_set1_epi8((char)s->zx), flip = _mm512_set1_epi8((char)0x80);
  const __m512i padu = _mm512_xor_si512(padx, flip);
  const int B = 16 * P;   /* outputs per block */
  for (int ox0 = 0; ox0 < s->OW; ox0 += B) {   /* the loads' masks depend on the column block only */
    __mmask64 mk[4][MAXJ];
    long at[4][MAXJ];
    #pragma GCC unroll 4
    for (int f = 0; f < P; f++)
      for (int j = 0; j < J; j++) {
        long a = (long)s->sw * (ox0 + f) - s->pw + 4 * j;
        at[f][j] = a, mk[f][j] = q8_bytes64(-a, (long)s->W - a);
      }
    for (int oy = 0; oy < s->OH; oy++) {
      int8_t *yr = y + (size_t)oy * s->OW;
      __m512i acc[4];
      #pragma GCC unroll 4
      for (int f = 0; f < P; f++) acc[f] = _mm512_set1_epi32(b0);
      for (int ky = 0; ky < kh; ky++) {
        int iy = oy * s->sh - s->ph + ky * s->dh;
        const int32_t *wr = wq + ky * J;
        if (iy < 0 || iy >= s->H) {
          for (int j = 0; j < J; j++) {
            __m512i wv = _mm512_set1_epi32(wr[j]);
            #pragma GCC unroll 4
            for (int f = 0; f < P; f++) acc[f] = _mm512_dpbusd_epi32(acc[f], padu, wv);
          }
          continue;
        }
        uintptr_t row = (uintptr_t)(x + (size_t)iy * s->W);
        for (int j = 0; j < J; j++) {
          __m512i wv = _mm512_set1_epi32(wr[j]);
          #pragma GCC unroll 4
          for (int f = 0; f < P; f++) {
            /* masked-off bytes are not read (they may lie outside the plane): they take zx */
            __m512i v = _mm512_mask_loadu_epi8(padx, mk[f][j], (const void *)(row + (uintptr_t)at[f][j]));
            acc[f] = _mm512_dpbusd_epi32(acc[f], _mm512_xor_si512(v, flip), wv);
          }
        }
      }
      __m512i out = requant_block(acc, q, P);
      _mm512_mask_storeu_epi8(yr + ox0, q8_bytes64(0, s->OW - ox0), out);
    }
  }
}

/* Small 3x3 planes with sh == sw (s): the plane is copied, as u8 and padded with zx, into a buffer of
   rows of Wp = s*R bytes (Wp >= W + 2pw), padded row r going to row r / s of phase plane r % s
   (pbytes apart), so that output (oy, ox) at flat index q = oy*R + ox reads byte s*q + kx of row
   (ky*dh) / s of plane (ky*dh) % s: the whole output plane is one row of OH*R outputs (the R - OW
   extra per row are computed and dropped), in blocks of 16P with no masks. */
enum { FLATBUF = 8192 };

static inline __attribute__((always_inline)) void plane_flat(const int8_t *x, const int32_t *wq, const int J, int32_t b0,
                                                             const Rq *q, int8_t *y, const Q8DwShape *s, const int kh,
                                                             const int P,
                                                             int Wp, int R, int nb, size_t pbytes, uint8_t *buf,
                                                             uint8_t *tmp) {
  /* buf: its padding set by the caller (the same for every plane of a call), the rows written here */
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  const int sw = s->sw;
  for (int iy = 0; iy < s->H; iy++) {
    const int8_t *src = x + (size_t)iy * s->W;
    int r = iy + s->ph;
    uint8_t *dst = buf + (size_t)(r % sw) * pbytes + (size_t)(r / sw) * Wp + s->pw;
    for (int c = 0; c < s->W; c += 64) {
      __mmask64 mk = q8_bytes64(0, s->W - c);
      _mm512_mask_storeu_epi8(dst + c, mk, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mk, src + c), flip));
    }
  }
  for (int b = 0; b < nb; b++) {
    int q0 = b * 16 * P;
    __m512i acc[4];
    #pragma GCC unroll 4
    for (int f = 0; f < P; f++) acc[f] = _mm512_set1_epi32(b0);
    for (int ky = 0; ky < kh; ky++) {
      int kr = ky * s->dh;
      const uint8_t *r = buf + (size_t)(kr % sw) * pbytes + (size_t)(kr / sw) * Wp + (size_t)sw * q0;
      const int32_t *wr = wq + ky * J;
      for (int j = 0; j < J; j++) {
        __m512i wv = _mm512_set1_epi32(wr[j]);
        #pragma GCC unroll 4
        for (int f = 0; f < P; f++) acc[f] = _mm512_dpbusd_epi32(acc[f], _mm512_loadu_si512(r + sw * f + 4 * j), wv);
      }
    }
    _mm512_storeu_si512(tmp + q0, requant_block(acc, q, P));
  }
  for (int oy = 0; oy < s->OH; oy++)
    for (int c = 0; c < s->OW; c += 64) {
      __mmask64 mk = q8_bytes64(0, s->OW - c);
      _mm512_mask_storeu_epi8(y + (size_t)oy * s->OW + c, mk, _mm512_maskz_loadu_epi8(mk, tmp + (size_t)oy * R + c));
    }
}

/* the shape's path, the same for every plane */
typedef struct { int ok, J, P, flat, Wp, R, nb; size_t pb; } DwPlan;
static DwPlan dw_plan(const Q8DwShape *s) {
  DwPlan p = {0, (s->kw + 3) / 4, 0, 0, 0, 0, 0, 0};
  p.ok = s->dw == 1 && (s->sw == 1 || s->sw == 2) && s->kw <= MAXK && s->kh <= MAXK;
  if (!p.ok) return p;
  p.P = 4 / s->sw;
  if (s->sh == s->sw && p.J == 1 && s->kh == 3) {   /* small 3x3 planes: flat when it saves blocks and fits the buffers */
    p.Wp = (s->W + 2 * s->pw + s->sw - 1) / s->sw * s->sw, p.R = p.Wp / s->sw;
    long nb = ((long)s->OH * p.R + 16 * p.P - 1) / (16 * p.P), rows = (long)s->OH * ((s->OW + 16 * p.P - 1) / (16 * p.P));
    /* bytes per phase plane: its rows, or what the last block reads past its start */
    size_t pb = (size_t)((s->H + 2 * s->ph + s->sw - 1) / s->sw) * (size_t)p.Wp;
    size_t reach = (size_t)(nb * 16 * p.P * s->sw) + (size_t)((s->kh - 1) * s->dh / s->sw) * p.Wp + 4 * (size_t)p.J + 64;
    if (reach > pb) pb = reach;
    p.flat = 10 * nb < 8 * rows && pb * (size_t)s->sw <= FLATBUF && nb * 16 * p.P <= FLATBUF;
    p.nb = (int)nb, p.pb = pb;
  }
  return p;
}

/* a plane's b0 = bias - 128 * sum w (the u8 inputs' offset folded in); 0 when some partial sum
   b0 + sum (x + 128) w could leave int32 (that plane goes to the reference) */
static __attribute__((noinline)) int plane_b0(const int8_t *w, size_t K, int32_t bias, int64_t bound, int32_t *b0) {
  int64_t sumw = 0;
  for (size_t t = 0; t < K; t++) sumw += w[t];
  int64_t b = (int64_t)bias - 128 * sumw;
  *b0 = (int32_t)b;
  return b <= INT32_MAX - bound && b >= INT32_MIN + bound;
}

/* n planes (Q8DwDesc.dwconv_n): the path chosen and the flat buffer's padding set once for all (per
   plane they were ~30% of MobileNetV2's 7x7 and 14x14 layers) */
static void dwconv_n(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                     int8_t *y, const Q8DwShape *s, int n) {
  const DwPlan pl = dw_plan(s);
  const int J = pl.J;
  const size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, K = (size_t)s->kh * s->kw;
  uint8_t buf[FLATBUF], tmp[FLATBUF];
  int padded = 0;   /* buf's padding set */
  const EpiQ eq = epi_q_of(s->zy, s->qmin, s->qmax);
  /* small planes: q8_dwsmall (with VBMI), runs of planes whose sums stay in int32 */
  int small = pl.ok && q8_vbmi_on() && q8_dwsmall_fits(s);
  int64_t bound = (int64_t)s->kh * s->kw * 255 * 128;
  for (int c = 0; c < n; c++, x += HW, w += K, y += OHW) {
    if (small) {
      enum { RUN = 512 };   /* (q8_dwsmall sets its tables up once per call) */
      int32_t b0s[RUN];
      int g = 0;
      while (g < RUN && c + g < n && plane_b0(w + (size_t)g * K, K, bias[c + g], bound, &b0s[g])) g++;
      if (g) {
        q8_dwsmall(x, w, b0s, mult + c, shift + c, y, s, g);
        c += g - 1, x += (size_t)(g - 1) * HW, w += (size_t)(g - 1) * K, y += (size_t)(g - 1) * OHW;
        continue;
      }
    }
    if (pl.ok && pl.flat && !padded) memset(buf, (uint8_t)(s->zx ^ 0x80), pl.pb * (size_t)s->sw), padded = 1;
    int32_t wq[MAXK * MAXJ], b0;
    if (!pl.ok || !plane_b0(w, K, bias[c], bound, &b0)) {
      q8_dwconv_ref(x, w, bias[c], mult[c], shift[c], y, s);
      continue;
    }
    for (int ky = 0; ky < s->kh; ky++)   /* each kernel row's taps in quads, 0 past kw */
      for (int j = 0; j < J; j++) {
        uint32_t v = 0;
        for (int i = 0; i < 4 && 4 * j + i < s->kw; i++) v |= (uint32_t)(uint8_t)w[ky * s->kw + 4 * j + i] << (8 * i);
        wq[ky * J + j] = (int32_t)v;
      }
    Rq q = { row_q_of(mult[c], shift[c], (int64_t)1 << (shift[c] - 1)), eq };
    if (pl.flat) {   /* 3x3 (dw_plan) */
      if (s->sw == 1) plane_flat(x, wq, 1, b0, &q, y, s, 3, 4, pl.Wp, pl.R, pl.nb, pl.pb, buf, tmp);
      else plane_flat(x, wq, 1, b0, &q, y, s, 3, 2, pl.Wp, pl.R, pl.nb, pl.pb, buf, tmp);
      continue;
    }
    if (J == 1 && s->kh == 3) {   /* 3x3: the window's loops unrolled, its masks and offsets in registers */
      if (s->sw == 1) plane(x, wq, 1, b0, &q, y, s, 3, 4);
      else plane(x, wq, 1, b0, &q, y, s, 3, 2);
    } else if (s->sw == 1) plane(x, wq, J, b0, &q, y, s, s->kh, 4);
    else plane(x, wq, J, b0, &q, y, s, s->kh, 2);
  }
}

static void dwconv(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s) {
  dwconv_n(x, w, &bias, &mult, &shift, y, s, 1);
}

const Q8DwDesc q8_dwconv__avx512vnni_desc = {"q8_dwconv__avx512vnni", "avx512vnni", dwconv, dwconv_n};
