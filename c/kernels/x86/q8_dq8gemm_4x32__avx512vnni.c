/* q8_dq8gemm_4x32__avx512vnni.c: the dq8 GEMM with AVX-512 VNNI (vpdpbusd: u8 x s8, four products
 * per int32 lane), its run-time activation quantization and its own layout. A dq8-only descriptor
 * (the sq8 one is q8_gemm_8x32__avx512vnni.c).
 *
 * dq8 activations are q in [-128, 127] with a zero point z per column and group, weights w (int8)
 * with a zero point zw per row and group (0 when symmetric). Activations travel as u = q + 128 (u8),
 * so per group isum = sum (q - z)(w - zw) = sum u w - (128 + z) sum w - zw sum (q - z), all int32 and
 * exact (a group's true isum fits int32, FORMAT.md; the int32 wrap of the partial terms cancels).
 * sum w and zw come from the packer, c1 = 128 + z and c2 = sum (q - z) from the quantization.
 * The float epilogue is the reference's: acc = 0, per group acc + (ws * xs) * isum, bias last, act.
 * Layout (kr = 4: a group of gs values pads to gsp = gs rounded up to 4, with weight 0 and u = c1):
 *  - A: per tile of 4 rows: [G][gsp / 4][4 rows][4] int8, then [G][4] int32 sum w, [G][4] int32 zw.
 *  - X: per panel of 32 columns (x_esize 2: a panel is twice the u8 values): [G * gsp / 4][32][4] u8 u
 *    (k = 4j + i of column p at byte j * 128 + p * 4 + i), then at the same place in the second half
 *    of the panel, per quad and column, the int32 c1 | c2 << 8 of its group (|c2| < 2^23). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "act__avx2.h"

enum { MR = 4, NR = 32, KR = 4 };

static size_t gsp_of(int gs) { return (size_t)(gs + KR - 1) / KR * KR; }

static size_t a_elems(int M, int G, int gs) {
  size_t tiles = (size_t)(M + MR - 1) / MR;
  return tiles * ((size_t)G * gsp_of(gs) * MR + (size_t)G * MR * 8) / 2;
}

static void pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  size_t gsp = gsp_of(gs), K = (size_t)G * gs, tiles = (size_t)(M + MR - 1) / MR;
  size_t wbytes = (size_t)G * gsp * MR;
  for (size_t t = 0; t < tiles; t++) {
    int8_t *a = (int8_t *)A + t * (wbytes + (size_t)G * MR * 8);
    int32_t *sums = (int32_t *)(void *)(a + wbytes), *zws = sums + (size_t)G * MR;
    for (int g = 0; g < G; g++)
      for (int r = 0; r < MR; r++) {
        size_t o = t * MR + (size_t)r;
        int32_t sum = 0;
        size_t k = 0;
        if (o < (size_t)M) {   /* whole quads: 4 bytes a copy (g * gsp is a multiple of 4) */
          const int8_t *src = w + o * K + (size_t)g * gs;
          int8_t *dst = a + ((size_t)g * gsp / 4 * MR + (size_t)r) * 4;
          for (; k + 4 <= (size_t)gs; k += 4) {
            memcpy(dst + k / 4 * MR * 4, src + k, 4);
            sum += src[k] + src[k + 1] + src[k + 2] + src[k + 3];
          }
        }
        for (; k < gsp; k++) {
          int8_t v = o < (size_t)M && k < (size_t)gs ? w[o * K + (size_t)g * gs + k] : 0;
          a[(((size_t)g * gsp + k) / 4 * MR + (size_t)r) * 4 + k % 4] = v;
          sum += v;
        }
        int32_t z = o < (size_t)M && wz ? wz[o * (size_t)G + (size_t)g] : 0;
        memcpy(&sums[g * MR + r], &sum, 4);
        memcpy(&zws[g * MR + r], &z, 4);
      }
  }
}

/* byte of element (k, p) and of its quad's correction slot (pstride: int16 units per panel) */
static size_t ubyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + (size_t)(k / 4) * (NR * 4) + (size_t)(p % NR) * 4 + (size_t)(k % 4);
}
static size_t slotbyte(size_t pstride, int k, int p) {
  return (size_t)(p / NR) * 2 * pstride + pstride + (size_t)(k / 4) * (NR * 4) + (size_t)(p % NR) * 4;
}
/* element (k, p) as q - z (the test's view); put_x stores v with z = 0 */
static int get_x(const int16_t *X, size_t pstride, int k, int p) {
  int32_t slot;
  memcpy(&slot, (const uint8_t *)X + slotbyte(pstride, k, p), 4);
  return (int)((const uint8_t *)X)[ubyte(pstride, k, p)] - (slot & 0xFF);
}
static void put_x(int16_t *X, size_t pstride, int k, int p, int v) {
  int32_t slot = 128;
  ((uint8_t *)X)[ubyte(pstride, k, p)] = (uint8_t)(v + 128);
  memcpy((uint8_t *)X + slotbyte(pstride, k, p), &slot, 4);
}

/* columns [p0, N) one at a time (FORMAT.md's rule through the reference's helpers) */
static void quant_cols(int G, int gs, int p0, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                       size_t ps, float *xs, ptrdiff_t ldxs) {
  int gsp = (int)gsp_of(gs);
  uint8_t *xb = (uint8_t *)xq;
  for (int p = p0; p < N; p++)
    for (int g = 0; g < G; g++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      int32_t z, c2 = 0;
      float s = q8_dq8_group_params(v, ldxf, gs, asym, &z);
      xs[g * ldxs + p] = s;
      for (int i = 0; i < gsp; i++) {
        int32_t q = i < gs ? q8_dq8_quant1(v[i * ldxf], s, z, asym) : z;
        c2 += q - z;
        xb[ubyte(ps, g * gsp + i, p)] = (uint8_t)(q + 128);
      }
      int32_t slot = (int32_t)((uint32_t)(128 + z) | (uint32_t)c2 << 8);
      for (int i = 0; i < gsp; i += 4) memcpy(xb + slotbyte(ps, g * gsp + i, p), &slot, 4);
    }
}

/* q of 16 columns of row v (clamped, z included) as int32 */
static inline __m512i quant16(const float *v, __m512 s, __m512 zf, __m512 qlo, __m512 qhi) {
  __m512 t = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(v), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  t = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(t, zf), qlo), qhi);
  return _mm512_cvttps_epi32(t);
}

/* 16 columns at a time, the same operations as the AVX2 kernel's (so the same s, z and q), the rest
   by quant_cols */
static void dq8_quant(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq, ptrdiff_t pstride,
                      float *xs, ptrdiff_t ldxs) {
  int gsp = (int)gsp_of(gs), p = 0;
  size_t ps = (size_t)pstride;
  uint8_t *xb = (uint8_t *)xq;
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), c127 = _mm512_set1_ps(127.0f);
  const __m512 qlo = _mm512_set1_ps(asym ? -128.0f : -127.0f), m128 = _mm512_set1_ps(-128.0f), c255 = _mm512_set1_ps(255.0f);
  const __m512i k128 = _mm512_set1_epi32(128);
  for (; p + 16 <= N; p += 16)
    for (int g = 0; g < G; g++) {
      const float *v = xf + (ptrdiff_t)g * gs * ldxf + p;
      __m512 s, zf = zero;
      if (!asym) {
        __m512 m = zero;
        for (int i = 0; i < gs; i++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(v + i * ldxf)));
        s = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(m, zero, _CMP_EQ_OQ), _mm512_div_ps(m, c127), one);
      } else {
        __m512 lo = zero, hi = zero;
        for (int i = 0; i < gs; i++) {
          __m512 x = _mm512_loadu_ps(v + i * ldxf);
          lo = _mm512_min_ps(lo, x), hi = _mm512_max_ps(hi, x);
        }
        __mmask16 eq = _mm512_cmp_ps_mask(hi, lo, _CMP_EQ_OQ);
        s = _mm512_mask_blend_ps(eq, _mm512_div_ps(_mm512_sub_ps(hi, lo), c255), one);
        __m512 t = _mm512_roundscale_ps(_mm512_sub_ps(m128, _mm512_div_ps(lo, s)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        t = _mm512_min_ps(_mm512_max_ps(t, m128), c127);
        zf = _mm512_mask_blend_ps(eq, t, zero);
      }
      _mm512_storeu_ps(xs + g * ldxs + p, s);
      __m512i zi = _mm512_cvttps_epi32(zf), c2 = _mm512_setzero_si512(), c1 = _mm512_add_epi32(zi, k128);
      uint8_t *quad = xb + (size_t)(p / NR) * 2 * ps + (size_t)(g * gsp / 4) * (NR * 4) + (size_t)(p % NR) * 4;
      for (int i = 0; i < gsp; i += 4, quad += NR * 4) {
        __m128i r[4];
        for (int j = 0; j < 4; j++) {
          __m512i q = i + j < gs ? quant16(v + (i + j) * ldxf, s, zf, qlo, c127) : zi;
          c2 = _mm512_add_epi32(c2, _mm512_sub_epi32(q, zi));
          r[j] = _mm512_cvtepi32_epi8(_mm512_add_epi32(q, k128));
        }
        /* 4 rows x 16 columns -> 16 columns x 4 bytes */
        __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpackhi_epi8(r[0], r[1]);
        __m128i t2 = _mm_unpacklo_epi8(r[2], r[3]), t3 = _mm_unpackhi_epi8(r[2], r[3]);
        _mm_storeu_si128((__m128i *)quad, _mm_unpacklo_epi16(t0, t2));
        _mm_storeu_si128((__m128i *)(quad + 16), _mm_unpackhi_epi16(t0, t2));
        _mm_storeu_si128((__m128i *)(quad + 32), _mm_unpacklo_epi16(t1, t3));
        _mm_storeu_si128((__m128i *)(quad + 48), _mm_unpackhi_epi16(t1, t3));
      }
      __m512i slot = _mm512_or_si512(c1, _mm512_slli_epi32(c2, 8));
      uint8_t *sl = xb + (size_t)(p / NR) * 2 * ps + ps + (size_t)(g * gsp / 4) * (NR * 4) + (size_t)(p % NR) * 4;
      for (int i = 0; i < gsp; i += 4, sl += NR * 4) _mm512_storeu_si512(sl, slot);
    }
  if (p < N) quant_cols(G, gs, p, N, xf, ldxf, asym, xq, ps, xs, ldxs);
}

static void dq8_gemm(const Q8Gemm *g, const Q8Dq8Epi *e) {
  int G = g->G;
  size_t gsp = (size_t)g->kp * KR, kq = gsp / 4, wbytes = (size_t)G * gsp * MR, tile = wbytes + (size_t)G * MR * 8;
  size_t ps = (size_t)g->pstride;
  const __m512i lowbyte = _mm512_set1_epi32(0xFF);
  for (int j = 0; j < g->N; j += NR) {
    int nc = g->N - j < NR ? g->N - j : NR;
    const uint8_t *X = (const uint8_t *)g->X + (size_t)(j / NR) * 2 * ps;
    for (int o0 = 0; o0 < g->M; o0 += MR) {
      int nr = g->M - o0 < MR ? g->M - o0 : MR;
      const int8_t *A = (const int8_t *)g->A + (size_t)(o0 / MR) * tile;
      const int32_t *sums = (const int32_t *)(const void *)(A + wbytes), *zws = sums + (size_t)G * MR;
      __m512 f[MR][2];
      #pragma GCC unroll 4
      for (int r = 0; r < MR; r++) f[r][0] = f[r][1] = _mm512_setzero_ps();
      for (int grp = 0; grp < G; grp++) {
        __m512i c[MR][2];
        #pragma GCC unroll 4
        for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
        const uint8_t *xp = X + (size_t)grp * kq * (NR * 4);
        const int8_t *ap = A + (size_t)grp * kq * (MR * 4);
        for (size_t q = 0; q < kq; q++, xp += NR * 4, ap += MR * 4) {
          __m512i x0 = _mm512_loadu_si512(xp), x1 = _mm512_loadu_si512(xp + 64);
          #pragma GCC unroll 4
          for (int r = 0; r < MR; r++) {
            int32_t w4;
            memcpy(&w4, ap + r * 4, 4);
            __m512i a = _mm512_set1_epi32(w4);
            c[r][0] = _mm512_dpbusd_epi32(c[r][0], x0, a), c[r][1] = _mm512_dpbusd_epi32(c[r][1], x1, a);
          }
        }
        const uint8_t *sl = X + ps + (size_t)grp * kq * (NR * 4);
        __m512i s0 = _mm512_loadu_si512(sl), s1 = _mm512_loadu_si512(sl + 64);
        __m512i c1[2] = { _mm512_and_si512(s0, lowbyte), _mm512_and_si512(s1, lowbyte) };
        __m512i c2[2] = { _mm512_srai_epi32(s0, 8), _mm512_srai_epi32(s1, 8) };
        const float *xs = e->xs + grp * e->ldxs + j;
        __m512 xv[2] = { _mm512_loadu_ps(xs), _mm512_loadu_ps(xs + 16) };
        for (int r = 0; r < nr; r++) {
          __m512i sw = _mm512_set1_epi32(sums[grp * MR + r]), zw = _mm512_set1_epi32(zws[grp * MR + r]);
          __m512 wsc = _mm512_set1_ps(e->ws[(size_t)(o0 + r) * G + grp]);
          #pragma GCC unroll 4
          for (int h = 0; h < 2; h++) {
            __m512i is = _mm512_sub_epi32(_mm512_sub_epi32(c[r][h], _mm512_mullo_epi32(c1[h], sw)),
                                          _mm512_mullo_epi32(zw, c2[h]));
            f[r][h] = _mm512_add_ps(f[r][h], _mm512_mul_ps(_mm512_mul_ps(wsc, xv[h]), _mm512_cvtepi32_ps(is)));
          }
        }
      }
      for (int r = 0; r < nr; r++) {
        float out[NR];
        #pragma GCC unroll 4
        for (int h = 0; h < 2; h++) {
          __m512 v = f[r][h];
          if (e->bias) v = _mm512_add_ps(_mm512_set1_ps(e->bias[o0 + r]), v);
          _mm256_storeu_ps(out + 16 * h, act_avx2(_mm512_castps512_ps256(v), e->act));
          _mm256_storeu_ps(out + 16 * h + 8, act_avx2(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)), e->act));
        }
        float *y = e->y + (o0 + r) * e->ys_o + j * e->ys_p;
        if (e->ys_p == 1) memcpy(y, out, (size_t)nc * sizeof(float));
        else
          for (int cc = 0; cc < nc; cc++) y[cc * e->ys_p] = out[cc];
      }
    }
  }
}

const Q8Kernels q8_dq8gemm_4x32__avx512vnni_desc = {"q8_dq8gemm_4x32__avx512vnni", "avx512vnni", MR, NR, KR, 2,
                                                    a_elems, pack_w, put_x, get_x, NULL, dq8_quant, NULL, dq8_gemm, NULL, NULL, NULL, NULL, 0, 0};
