/* q8_dq8gemm_16x32__amx.c: the dq8 GEMM on AMX tiles (TDPBSUD: s8 weights x u8 activations, four
 * products a lane, exact in int32). The activations' layout and quantization are the AVX-512 VNNI
 * descriptor's (q8_dq8gemm_4x32__avx512vnni.c: u = q + 128 as u8, panels of 32 columns of k quads,
 * which is the B operand's layout; each group's correction slot c1 | c2 << 16), so only the weights'
 * layout and the GEMM are here.
 *
 * A group of gs <= 64 values (gsp = gs rounded up to 4, the exporter's default gs is 64) is one tile
 * product: C (16 rows x 16 columns, int32) = A (16 rows x gsp bytes) . B (gsp / 4 quads x 16 columns
 * x 4), so isum = C - (c1 * sum w + c2 * zw) per group as in the VNNI kernel (one vpmaddwd with the
 * row's cw = sum w | zw << 16), and f + (ws * xs) * isum in the reference's order. Larger groups
 * keep the VNNI descriptor's layout and GEMM (a_elems, pack_w and the GEMM choose by gs).
 * Layout of A (gsp <= 64): per block of 16 rows: [G][16 rows][gsp] int8 (pad rows and pad k 0), then
 * [G][16] int32 cw (pad rows 0).
 * Micro-tile 16 x 16: groups alternate between two sets of tiles (C, A, B: 0, 2, 3 and 1, 4, 5) so that
 * group g's tile product is computed and stored while group g - 1's epilogue runs (vector loads
 * right after a tile store of the same lines stall, and a tile is not renamed);
 * the 16 rows' float sums stay in registers. Each call configures the tiles unless the thread's
 * tiles already are configured so (amx_tiles.h), and leaves them configured. */
#include <immintrin.h>
#include <string.h>

#include "../../src/kernels_q8.h"
#include "act__avx2.h"
#include "amx_tiles.h"

enum { MR = 16, NR = 32, KR = 4, AMX_MAXGSP = 64 };
/* ops of smaller K run the VNNI descriptor (Q8Kernels.min_k): with a few tile products per output
   tile, each stored and reloaded for its group's epilogue, the tiles cost more than they save.
   Measured per op (MobileNetV2 and ResNet18 dq8, Sapphire Rapids, 2 threads): VNNI 1.1-1.6x faster
   at K 16..147 (the 112x112 and 56x56 layers 1.3-1.6x), AMX 1.15-1.45x faster at K 256 and above */
enum { AMX_DQ8_MIN_K = 192 };


static size_t gsp_of(int gs) { return (size_t)(gs + KR - 1) / KR * KR; }
static size_t block_bytes(int G, int gs) { return (size_t)G * MR * (gsp_of(gs) + 4); }

static size_t a_elems(int M, int G, int gs) {
  if (gsp_of(gs) > AMX_MAXGSP) return q8_dq8v_a_elems(M, G, gs);
  return (size_t)(M + MR - 1) / MR * block_bytes(G, gs) / 2;
}

/* the packing of pack_w (R 0: w is (M, K) rows) and pack_w_blk (w is the file's blocks, tiles of R rows: row o's group
   g its quads at a stride of 4R bytes), gsp <= 64: each row's group one zero-masked 64-byte load (or gather), stored
   whole (gsp bytes), its sum from the same bytes by vpsadbw (the zeroed lanes add nothing; a scalar byte loop here
   was most of ResNet18 dq8's start-up packing) */
__attribute__((cold)) static void pack_groups(int M, int G, int gs, const int8_t *w, size_t K, int R, const int8_t *wz,
                                              int16_t *A) {
  size_t gsp = gsp_of(gs), nq = gsp / 4, qs = 4 * (size_t)R, ftile = (size_t)G * nq * qs, blocks = (size_t)(M + MR - 1) / MR;
  const __mmask64 mg = gs >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << gs) - 1), mp = gsp >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << gsp) - 1);
  const __mmask16 mq = (__mmask16)((1u << nq) - 1);
  const __m512i vi = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm512_set1_epi32((int)qs));
  const __m512i zero = _mm512_setzero_si512(), flip = _mm512_set1_epi8((char)0x80);
  for (size_t b = 0; b < blocks; b++) {
    int8_t *a = (int8_t *)A + b * block_bytes(G, gs);
    int32_t *cw = (int32_t *)(void *)(a + (size_t)G * MR * gsp);
    for (int g = 0; g < G; g++)
      for (int r = 0; r < MR; r++) {
        size_t o = b * MR + (size_t)r;
        int32_t sum = 0, z = 0;
        __m512i v = zero;
        if (o < (size_t)M) {
          if (R) v = _mm512_mask_i32gather_epi32(zero, mq, vi, w + o / (size_t)R * ftile + (size_t)g * nq * qs + o % (size_t)R * 4, 1);
          else v = _mm512_maskz_loadu_epi8(mg, w + o * K + (size_t)g * gs);
          sum = (int32_t)(_mm512_reduce_add_epi64(_mm512_sad_epu8(_mm512_xor_si512(v, flip), zero)) - 128 * 64);
          z = wz ? wz[o * (size_t)G + (size_t)g] : 0;
        }
        _mm512_mask_storeu_epi8(a + ((size_t)g * MR + (size_t)r) * gsp, mp, v);
        /* |sum| <= 64 * 128: both halves fit int16 */
        int32_t v32 = (int32_t)(((uint32_t)sum & 0xFFFF) | (uint32_t)z << 16);
        memcpy(&cw[g * MR + r], &v32, 4);
      }
  }
}

__attribute__((cold)) static void pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A) {
  if (gsp_of(gs) > AMX_MAXGSP) q8_dq8v_pack_w(M, G, gs, w, wz, A);
  else pack_groups(M, G, gs, w, (size_t)G * (size_t)gs, 0, wz, A);
}

/* pack_w from the file's blocked weights (FORMAT.md version 5), groups of at most 64 values (else 0: unblocked first) */
__attribute__((cold)) static int pack_w_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A) {
  if (gsp_of(gs) > AMX_MAXGSP || T != 1) return 0;
  pack_groups(M, G, gs, w, 0, R, wz, A);
  return 1;
}

/* rows [o0, o0 + nr) x columns [p, p + nc) (nc <= 16) of f (16 rows of 16 columns): bias, act, to y */
static void store16(const Q8Dq8Epi *e, int o0, int nr, int p, int nc, const __m512 *f) {
  for (int r = 0; r < nr; r++) {
    __m512 v = f[r];
    if (e->bias) v = _mm512_add_ps(_mm512_set1_ps(e->bias[o0 + r]), v);
    float *y = e->y + (o0 + r) * e->ys_o + p * e->ys_p;
    if (e->res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps((__mmask16)((1u << nc) - 1), y));   /* (ys_p 1) */
    v = act16_avx512(v, e->act);
    if (e->ys_p == 1) _mm512_mask_storeu_ps(y, (__mmask16)((1u << nc) - 1), v);
    else {
      float out[16];
      _mm512_storeu_ps(out, v);
      for (int c = 0; c < nc; c++) y[c * e->ys_p] = out[c];
    }
  }
}

/* one group's epilogue: f[r] + (ws[r] * xs) * (C[r] - madd(slot, cw[r])), the 16 rows */
static inline __attribute__((always_inline)) void epi16(__m512 *f, const int32_t *acc, __m512i slot, __m512 xv,
                                                        const int32_t *cw, const float *const *wsr, int grp) {
  #pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    __m512i is = _mm512_sub_epi32(_mm512_load_si512(acc + r * 16), _mm512_madd_epi16(slot, _mm512_set1_epi32(cw[r])));
    f[r] = _mm512_add_ps(f[r], _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(wsr[r][grp]), xv), _mm512_cvtepi32_ps(is)));
  }
}

static void gemm_amx(const Q8Gemm *g, const Q8Dq8Epi *e) {
  int G = g->G, gsp = g->kp * KR;
  size_t kq = (size_t)gsp / 4, ps = (size_t)g->pstride, bb = (size_t)G * MR * ((size_t)gsp + 4);
  _Alignas(64) TileCfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  cfg.rows[0] = cfg.rows[1] = 16, cfg.colsb[0] = cfg.colsb[1] = 64;                /* C */
  cfg.rows[2] = cfg.rows[4] = 16, cfg.colsb[2] = cfg.colsb[4] = (uint16_t)gsp;    /* A */
  cfg.rows[3] = cfg.rows[5] = (uint8_t)kq, cfg.colsb[3] = cfg.colsb[5] = 64;      /* B */
  amx_tiles_use(&cfg);
  _Alignas(64) int32_t acc[2][MR * 16];
  for (int j = 0; j < g->N; j += 16) {
    int nc = g->N - j < 16 ? g->N - j : 16;
    /* the 16 columns' quads and slots in their 32-column panel */
    const uint8_t *X = (const uint8_t *)g->X + (size_t)(j / NR) * 2 * ps + (size_t)(j % NR) * 4;
    for (int o0 = 0; o0 < g->M; o0 += MR) {
      int nr = g->M - o0 < MR ? g->M - o0 : MR;
      const int8_t *A = (const int8_t *)g->A + (size_t)(o0 / MR) * bb;
      const int32_t *cw = (const int32_t *)(const void *)(A + (size_t)G * MR * gsp);
      const float *wsr[MR];
      for (int r = 0; r < MR; r++) wsr[r] = e->ws + (size_t)(o0 + (r < nr ? r : nr - 1)) * G;
      __m512 f[MR];
      for (int r = 0; r < MR; r++) f[r] = _mm512_setzero_ps();
      for (int grp = 0; grp <= G; grp++) {
        if (grp < G) {   /* group grp's tile product into C tile grp % 2 */
          const int8_t *ab = A + (size_t)grp * MR * gsp;
          const uint8_t *xb = X + (size_t)grp * kq * (NR * 4);
          if (grp & 1) {
            _tile_loadd(4, ab, gsp);
            _tile_loadd(5, xb, NR * 4);
            _tile_zero(1);
            _tile_dpbsud(1, 4, 5);
            _tile_stored(1, acc[1], 64);
          } else {
            _tile_loadd(2, ab, gsp);
            _tile_loadd(3, xb, NR * 4);
            _tile_zero(0);
            _tile_dpbsud(0, 2, 3);
            _tile_stored(0, acc[0], 64);
          }
        }
        if (grp > 0) {   /* group grp - 1's epilogue */
          int p = grp - 1;
          const uint8_t *sl = X + ps + (size_t)p * kq * (NR * 4);
          epi16(f, acc[p & 1], _mm512_loadu_si512(sl), _mm512_loadu_ps(e->xs + p * e->ldxs + j), cw + p * MR, wsr, p);
        }
      }
      store16(e, o0, nr, j, nc, f);
    }
  }
}

static void dq8_gemm(const Q8Gemm *g, const Q8Dq8Epi *e) {
  if (g->kp * KR > AMX_MAXGSP) q8_dq8v_gemm(g, e);
  else gemm_amx(g, e);
}

const Q8Kernels q8_dq8gemm_16x32__amx_desc = {"q8_dq8gemm_16x32__amx", "amx", MR, NR, KR, 2,
                                              a_elems, pack_w, q8_dq8v_put_x, q8_dq8v_get_x, NULL, q8_dq8v_quant, NULL,
                                              dq8_gemm, NULL, NULL, NULL, NULL, 0, 0, q8_dq8v_quant_g, q8_dq8v_conv_quant,
                                              AMX_DQ8_MIN_K, NULL, 0, NULL, NULL, NULL, NULL, pack_w_blk, 0};
