/* kernels_q8.h: the int8 kernels of runq (dq8 and sq8) and their descriptors.
 *
 * The convolution and linear layers are one GEMM: Y(M x N) = W(M x K) . X(K x N), with M the
 * output channels, K the reduction (ci, ky, kx) and N the output positions (or, for LINEAR, the
 * images of the batch). Integer products go through int16 (sign-extended int8, or for dq8 the
 * zero-point-corrected q - z in [-255, 255]) so that AVX2's madd_epi16 is exact in int32.
 *
 * Each kernel's descriptor (Q8Kernels) carries its tile (mr x nr, kr values of k per packed step)
 * and its own packers (weights, im2col, dq8 activation quantization, one element), so a kernel may
 * choose another layout (q8_gemm_8x32__avx512vnni.c: u8 x s8 groups of 4 for vpdpbusd;
 * q8_gemm_8x12__neondot.c: s8 groups of 4 for sdot, and for dq8 int8 q with zero-point corrections
 * beside them); the engine
 * only calls through the descriptor, and a table per ISA may take different descriptors for sq8
 * and dq8. Packed buffers are int16_t arrays whatever the element (x_esize bytes): panel strides
 * and offsets count int16 units. The "i16x2" layout below is the reference's and AVX2's:
 *  - K is split in G groups of gs (sq8: G = 1, gs = K); each group is padded to an even length
 *    gsp = gs + (gs & 1) with zeros, so a group is kp = gsp / 2 pairs of k.
 *  - A, the packed weights: M rounded up to Q8_MR rows (zero rows), layout
 *    [M/MR tiles][G * kp pairs][MR rows][2] int16 (a tile's pairs are contiguous).
 *  - X, the activations: G * gsp rows (pad rows zero) by N columns, packed in panels of Q8_NR
 *    columns: [N/NR panels][G * kp pairs][NR columns][2] int16, element (k, p) at q8_xidx below;
 *    a panel is pstride = G * gsp * Q8_NR elements. A kernel reads its panels in order, and the
 *    two int16 of one pair of k for one column are adjacent (madd needs no shuffle). Columns up
 *    to the next multiple of Q8_NR past N are readable (their values do not matter).
 * Kernels compute a block of outputs single-threaded; the engine splits blocks over threads, so
 * each output is computed by exactly one call in the same order whatever the thread count.
 */
#ifndef TINYRUNTIME_KERNELS_Q8_H
#define TINYRUNTIME_KERNELS_Q8_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define Q8_MR 4   /* output channels per micro-tile */
#define Q8_NR 16  /* output columns per micro-tile */

/* index of element (k, p) in packed X (panel stride pstride) */
static inline size_t q8_xidx(size_t pstride, int k, int p) {
  return (size_t)(p / Q8_NR) * pstride + (size_t)(k / 2) * (2 * Q8_NR) + (size_t)(p % Q8_NR) * 2 + (size_t)(k & 1);
}

/* One block of the GEMM. A points at the block's first tile, X at the panel of its first column
   (a block starts at a multiple of Q8_NR columns). */
typedef struct {
  int M, N;            /* rows and columns of this block (M may end inside a tile) */
  int G, kp;           /* groups, k pairs per group */
  const int16_t *A;    /* packed weights, see above */
  const int16_t *X;    /* activations in panels, see above */
  ptrdiff_t pstride;   /* int16 elements per panel of X: G * 2 * kp * Q8_NR */
  /* a descriptor with blocked_comp (sq8) or dq8_blocked_sums (dq8) only: NULL, or A is the file's blocked weights read in
     place (FORMAT.md, no sums in them: sq8 tiles of 8 rows x kp quads of 32 bytes, dq8 tiles of 4 rows x G groups x kp
     quads of 16 bytes) and comp their rows' sums (sq8: blocked_comp's, from the block's first row; dq8: per tile
     dq8_blocked_sums' [G][4] sums then [G][4] weight zero points, from the block's first tile) */
  const int32_t *comp;
} Q8Gemm;

/* sq8 epilogue: y[o*ys_o + p*ys_p] = clamp(zy + requant(dot + bias[o], mult[o], shift[o]), qmin, qmax)
   requant(a, m, s) = (a * m + (1 << (s - 1))) >> s in int64 (FORMAT.md). */
typedef struct {
  const int32_t *bias, *mult, *shift;   /* per row, pointing at the block's first row */
  int32_t zy, qmin, qmax;
  int8_t *y; ptrdiff_t ys_o, ys_p;
} Q8Sq8Epi;

/* dq8 epilogue: y = bias[o] + sum_g (ws[o*G + g] * xs[g*ldxs + p]) * (float)isum_g, then act.
   The float sum runs over g in order starting from 0.0f; bias is added last (bias may be NULL).
   res (a residual ADD fused, ys_p 1): y = act((bias[o] + sum) + y), y's value before the store added
   after the bias, as the f32 ADD of the unfused output would (one rounding: bit for bit the same). */
typedef struct {
  const float *ws;      /* (M, G) weight scales, block's first row */
  const float *xs;      /* (G, ldxs) activation scales, block's first column */
  ptrdiff_t ldxs;
  const float *bias;    /* M or NULL */
  int act;              /* ACT_* (act.h) */
  float *y; ptrdiff_t ys_o, ys_p;
  int res;
} Q8Dq8Epi;

typedef void (*q8_sq8_gemm_fn)(const Q8Gemm *g, const Q8Sq8Epi *e);
typedef void (*q8_dq8_gemm_fn)(const Q8Gemm *g, const Q8Dq8Epi *e);
/* dq8 run-time activation quantization of columns [0, N) of xf (K rows of ldxf floats, K = G*gs):
   per column and group, s and z per FORMAT.md (asym != 0: asymmetric rule), packed X element
   (g*gsp + i, p) = q - z as int16 (pad row of an odd gs: 0), xs[g*ldxs + p] = s. xq points at a
   panel start. */
typedef void (*q8_dq8_quant_fn)(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
                                int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs);
/* the same for groups [g0, g1) only: xf is their rows (row g0 * gs first), xq and xs as above (the
   whole panel, group 0's scales); dq8_quant(G, ...) is dq8_quant_g(0, G, ...) */
typedef void (*q8_dq8_quant_g_fn)(int g0, int g1, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
                                  int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs);
/* dq8 CONV2D columns [p0, p0 + N) of one image and conv group straight from the image (no float im2col),
   quantization groups [g0, g1) (as dq8_quant_g: xq the panel of column p0, xs at column p0 and group 0's
   scales): the same bytes and scales as q8_im2col_f32_cols then dq8_quant of those N columns; columns past N
   up to a multiple of 16 may be written too (the scratch has them). Returns 0, writing nothing, for a geometry
   it does not take (N = 0: only that answer). */
typedef struct {
  const float *x;   /* the group's first input channel, C planes of H x W */
  int H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, p0;
} Q8Dq8Conv;
typedef int (*q8_dq8_conv_quant_fn)(const Q8Dq8Conv *c, int g0, int g1, int gs, int N, int asym, int16_t *xq, ptrdiff_t pstride,
                                    float *xs, ptrdiff_t ldxs);

/* sq8 im2col into packed X (panels, the descriptor's layout): for one image x (C, H, W) int8,
   writes rows k in [k0, k1) of the (cig*kh*kw) x OH*OW matrix for the channel group starting at
   ci0 (pad: zx). */
typedef void (*q8_im2col_fn)(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                             int pw, int dh, int dw, int OH, int OW, int32_t zx, int k0, int k1,
                             int16_t *X, ptrdiff_t pstride);

/* sq8 im2col fused with the GEMM (optional): columns [p0, p1) (p0 a multiple of nr) of all K rows,
   into packed X whose first panel is column p0's. xp holds the group's input channels already padded
   (q8_pad_planes): planes of Hp x Wp, no tap outside them. Rows past K in the last k step, and pad
   rows, hold anything (their weights are zero). Only strides sw 1 and 2. */
typedef void (*q8_im2col_cols_fn)(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw,
                                  int OH, int OW, int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride);

/* sq8 fused im2col in the kx-quad order (optional): as q8_im2col_cols_fn (xp: the C input channels padded,
   planes of Hp x Wp; dilation 1; strides 1 and 2), but row k of the matrix is (c, ky, kx) with k = (c * kh + ky)
   * kq + kx, kq = kw rounded up to a multiple of 4 (K = C * kh * kq, rows with kx >= kw hold anything: the op packs
   their weights as zero), so that a quad's four rows are four consecutive taps of one input row; OW a multiple
   of 16 (p0, p1 then multiples of 16: no group of 16 columns spans two output rows). Returns 0,
   writing nothing, where this CPU cannot run it (X NULL: only asks; g may be NULL then). */
typedef struct {
  const int8_t *xp;
  int Hp, Wp, C, kh, kw, sh, sw, OW;
} Q8Kxq;
typedef int (*q8_im2col_kxq_fn)(const Q8Kxq *g, int p0, int p1, int16_t *X, ptrdiff_t pstride);

/* sq8 implicit convolution (optional): a convolution straight from the input, no im2col.
   The group's input channels are laid out as quad planes (q8_quad_planes): plane q holds channels
   4q..4q+3 of the padded input (Hp = H + 2ph rows, pad value zx) as 4 bytes per pixel, rows Wp = W + pw
   pixels apart (q8_conv_wq): each row its pw left pads and W pixels, its right pads the next row's left
   ones (a 3x3's flat columns 1 in W + 1 wasted, not 2 in W + 2), padded pixel (iy, ix) at iy * Wp + ix,
   pw pads after the last row (q8_conv_phase: Hp * Wp + pw pixels), each plane `plane` pixels long
   (that + Q8_CONV_SLACK, the slack zero) and nq planes in all (a multiple of the kernel's conv_cq, quads
   past the channels zero). Output (oh, ow) is "flat" column f = oh * Wp + ow, whose tap (ky, kx) reads
   pixel f + ky*dh*Wp + kx*dw (a window's columns past the input's right edge are the pads at the next
   row's start: OW = W + 2pw - (kw-1)dw must be at most Wp, pw <= (kw-1)dw); columns with f % Wp >= OW
   are computed (reading within the slack) and never stored.
   Stride sh x sw > 1: each quad plane is sh * sw phase planes of `phase` = Hq x Wq pixels (phase (a, b)
   holds the padded input's pixels (r * sh + a, c * sw + b) at r * Wq + c), and Wp is Wq: output f =
   oh * Wq + ow reads, at tap (ky, kx), pixel f + (ky*dh / sh) * Wq + kx*dw / sw of phase (ky*dh % sh,
   kx*dw % sw), a stride-1 convolution again (q8_conv_offsets); the plane is sh * sw * phase +
   Q8_CONV_SLACK pixels. The kernels see only the offsets. */
#define Q8_CONV_SLACK 64
/* the quad planes' row (Q8Conv's Wp): stride 1 W + pw, else a phase plane's row Wq = ceil((W + 2pw) / sw) */
static inline int q8_conv_wq(int W, int pw, int sh, int sw) {
  return sh == 1 && sw == 1 ? W + pw : (W + 2 * pw + sw - 1) / sw;
}
/* the pixels of a quad plane before its slack (stride 1: Hp * Wp + pw), or of one phase plane (Hq * Wq) */
static inline size_t q8_conv_phase(int H, int W, int ph, int pw, int sh, int sw) {
  return (size_t)((H + 2 * ph + sh - 1) / sh) * (size_t)q8_conv_wq(W, pw, sh, sw) + (size_t)(sh == 1 && sw == 1 ? pw : 0);
}
#define Q8_CONV_MAXTAPS 49   /* windows of at most this many taps (7 x 7) */
typedef struct {
  int M, C, kh, kw, dh, dw;   /* output rows, input channels of the group, window, dilation */
  int OH, OW, Wp;             /* output size; the flat columns' row: the padded input width (stride 1), Wq */
  size_t plane;               /* pixels per quad plane */
  const int8_t *A;            /* packed by the descriptor's pack_conv */
  const int8_t *xq;           /* the quad planes (4 * plane bytes each) */
  int sh, sw;                 /* stride (0 reads as 1) */
  size_t phase;               /* strided: pixels per phase plane (Hq * Wq) */
  const int32_t *comp;        /* as Q8Gemm's: A the file's blocked weights, comp their sums (a descriptor with blocked_comp) */
} Q8Conv;
/* outputs of rows [0, M), flat columns [f0, f1) (f0 a multiple of nr), epilogue as sq8_gemm's with
   e->y at output (channel 0, pixel 0) and e->ys_o the output plane (OH * OW); e->ys_p is 1 */
typedef void (*q8_sq8_conv_fn)(const Q8Conv *c, const Q8Sq8Epi *e, int f0, int f1);
/* the byte offset in the quad planes of each tap (ky, kx) of c's window from its output's flat column:
   (ky*dh*Wp + kx*dw) * 4 at stride 1, else in its phase plane (above); returns the taps, 0 when more than
   Q8_CONV_MAXTAPS (off's length) */
static inline int q8_conv_offsets(const Q8Conv *c, ptrdiff_t *off) {
  int taps = c->kh * c->kw;
  size_t sh = c->sh > 1 ? (size_t)c->sh : 1, sw = c->sw > 1 ? (size_t)c->sw : 1;
  if (taps > Q8_CONV_MAXTAPS) return 0;
  for (int t = 0; t < taps; t++)
    off[t] = rt_phase_offset((size_t)(t / c->kw * c->dh), (size_t)(t % c->kw * c->dw), sh, sw, c->phase, (size_t)c->Wp) * 4;
  return taps;
}
/* the outputs of flat columns [f, end) as runs of consecutive ones (the columns past OW in a row skipped):
   run i is columns f + sa[i] .., sn[i] long, output pixel so[i] on; returns the runs (at most end - f) */
static inline int q8_conv_runs(int f, int end, int Wp, int OW, int *sa, int *sn, size_t *so) {
  int ns = 0;
  for (int g = f; g < end;) {
    int oh = g / Wp, ow = g % Wp;
    if (ow >= OW) { g = (oh + 1) * Wp; continue; }
    int n = OW - ow < end - g ? OW - ow : end - g;
    sa[ns] = g - f, sn[ns] = n, so[ns++] = (size_t)oh * (size_t)OW + (size_t)ow;
    g += n;
  }
  return ns;
}

typedef struct {
  const char *name;           /* "q8_gemm_4x16__avx2" */
  const char *isa;            /* "ref", "avx2", ... */
  int mr, nr, kr;             /* tile rows x columns; k values per packed step (a group pads to kr) */
  int x_esize;                /* bytes per packed activation element (2: int16, 1: int8/uint8) */
  size_t (*a_elems)(int M, int G, int gs);     /* int16 units of packed weights for M rows (M % mr == 0 or all) */
  void (*pack_w)(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A);
  /* element (k, p) of packed X (pstride in int16 units): set to v / read back (sq8: an int8 value) */
  void (*put_x)(int16_t *X, size_t pstride, int k, int p, int v);
  int (*get_x)(const int16_t *X, size_t pstride, int k, int p);
  q8_im2col_fn im2col_i8;     /* sq8 (NULL in a dq8-only descriptor) */
  q8_dq8_quant_fn dq8_quant;  /* dq8 (NULL in an sq8-only descriptor) */
  q8_sq8_gemm_fn sq8_gemm;
  q8_dq8_gemm_fn dq8_gemm;
  q8_im2col_cols_fn im2col_cols;   /* sq8, optional (NULL: im2col_i8 of the whole matrix first) */
  /* sq8 implicit stride-1 convolution, optional (NULL: none): its weight size and packer (w: M rows
     of C*kh*kw, PyTorch's order), its kernel, its quad planes' quads multiple and byte xor (0x80: u8) */
  size_t (*conv_a_bytes)(int M, int C, int kh, int kw);
  void (*pack_conv)(int M, int C, int kh, int kw, const int8_t *w, int8_t *A);
  q8_sq8_conv_fn sq8_conv;
  int conv_cq, conv_xor;
  /* dq8, optional (NULL: none): dq8_quant of a range of groups, so that a conv's im2col can be made
     and quantized a group at a time, in L1 */
  q8_dq8_quant_g_fn dq8_quant_g;
  q8_dq8_conv_quant_fn dq8_conv_quant;   /* dq8, optional (NULL: none) */
  /* the smallest K for which this descriptor is the one to run (0: any); an op of less K runs the descriptor
     of its kind of the table below (q8_kernels_below) */
  int min_k;
  q8_im2col_kxq_fn im2col_kxq;   /* sq8, optional (NULL: none) */
  /* sq8: a convolution sq8_conv would run whose output has at most this many pixels runs as im2col and GEMM
     instead (0: never): where the implicit convolution's flat columns (rows of the padded width) waste more than
     the GEMM's column tiles do (7x7 maps: 61 flat columns at stride 1, 55 at stride 2, in tiles of 32 for 49
     outputs) */
  int conv_gemm_hw;
  /* sq8, optional (NULL: none): the descriptor's GEMM and implicit convolution read the file's blocked weights (FORMAT.md,
     version 3) in place, given comp (Q8Gemm.comp, Q8Conv.comp): comp[8 i + r] = the kernel's correction for row r of tile
     i of w (tiles of steps 32-byte blocks; VNNI: -128 x the row's sum; NEON sdot: 0), computed once at build. The engine
     reads in place the weights of the implicit convolutions (a descriptor with sq8_conv) and of one-tap GEMMs (1x1
     convolutions, LINEARs) */
  void (*blocked_comp)(const int8_t *w, size_t tiles, size_t steps, int32_t *comp);
  /* sq8, optional (NULL: none), with blocked_comp: the X of a convolution whose weights are read in place, for its GEMM
     (the quads in the blocked weights' (quad, tap) order), from c's quad planes: quads [q0, q1) of every tap for the N
     outputs of c; X NULL: whether it takes c's geometry and N (0: no) */
  int (*im2col_qt)(const Q8Conv *c, int q0, int q1, int N, int16_t *X, ptrdiff_t pstride);
  /* dq8, optional (NULL: none): the descriptor's GEMM reads the file's blocked weights (FORMAT.md, version 5) in place,
     given comp (Q8Gemm.comp): for each of the tiles (4 rows x G groups x nq quads of 16 bytes) the 4 rows' sums of each
     group at comp[8 G t + 4 g + r] (the caller puts the weight zero points at comp[8 G t + 4 G + 4 g + r]) */
  void (*dq8_blocked_sums)(const int8_t *w, size_t tiles, int G, int nq, int32_t *comp);
  /* sq8, optional (NULL: pack_conv on rows unblocked first): pack_conv's packing straight from the file's blocked weights
     (FORMAT.md, version 3): M rows from the tile at w (tiles of R rows, each (C + 3) / 4 quads x kh * kw taps x 4R bytes) */
  void (*pack_conv_blk)(int M, int C, int kh, int kw, const int8_t *w, int R, int8_t *A);
  /* optional (NULL: pack_w on rows unblocked first): pack_w straight from the file's blocked weights (FORMAT.md, sq8
     version 3, dq8 version 5): M rows from the tile at w (tiles of R rows, each G groups x (gs / T + 3) / 4 quads x T taps
     x 4R bytes; gs = channels x T values a group, in (channel, tap) order; T > 1 only for sq8, G 1); returns 0, having
     written nothing, where it does not take that G, gs and T */
  int (*pack_w_blk)(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A);
  /* 1: pack_w and pack_w_blk write only some of a_elems' bytes (the rest is never read) and the kernels read no more:
     the op does not map the buffer's pages ahead of the packer (engine_populate), so the pages no tile writes stay
     unmapped (the AVX2 unsigned-quad tiles' room for corrections) */
  int pack_sparse;
} Q8Kernels;

/* int16 units of one panel of NR columns of packed X: G groups of gsp (gs padded to kr) rows */
static inline size_t q8_pstride(const Q8Kernels *k, int G, int gs) {
  size_t gsp = (size_t)(gs + k->kr - 1) / (size_t)k->kr * (size_t)k->kr;
  return ((size_t)G * gsp * (size_t)k->nr * (size_t)k->x_esize + 1) / 2;
}

extern const Q8Kernels q8_gemm_4x16__ref_desc;
#if defined(__x86_64__)
extern const Q8Kernels q8_gemm_4x16__avx2_desc;
extern const Q8Kernels q8_gemm_4x16u__avx2_desc;   /* sq8 on unsigned quads (vpmaddubsw) */
extern const Q8Kernels q8_gemm_4x16u__avxvnni_desc;   /* sq8 on the same quads, AVX-VNNI (whole tiles) */
extern const Q8Kernels q8_gemm_4x16__avxvnni_dq8_desc;   /* dq8 on the i16x2 layout, AVX-VNNI (vpdpwssd) */
extern const Q8Kernels q8_gemm_8x32__avx512vnni_desc;
extern const Q8Kernels q8_dq8gemm_4x32__avx512vnni_desc;
/* its layout, quantization and GEMM, shared with the AMX dq8 descriptor (same X layout; the AMX one
   packs its own A for groups of at most 64 values and takes these for larger ones) */
size_t q8_dq8v_a_elems(int M, int G, int gs);
void q8_dq8v_pack_w(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A);
void q8_dq8v_put_x(int16_t *X, size_t pstride, int k, int p, int v);
int q8_dq8v_get_x(const int16_t *X, size_t pstride, int k, int p);
void q8_dq8v_quant(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq, ptrdiff_t pstride,
                   float *xs, ptrdiff_t ldxs);
void q8_dq8v_quant_g(int g0, int g1, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym, int16_t *xq,
                     ptrdiff_t pstride, float *xs, ptrdiff_t ldxs);
int q8_dq8v_conv_quant(const Q8Dq8Conv *c, int g0, int g1, int gs, int N, int asym, int16_t *xq, ptrdiff_t pstride, float *xs,
                       ptrdiff_t ldxs);
void q8_dq8v_gemm(const Q8Gemm *g, const Q8Dq8Epi *e);
extern const Q8Kernels q8_dq8gemm_16x32__amx_desc;
extern const Q8Kernels q8_gemm_32x32__amx_desc;
#endif

/* ---- sq8 depthwise convolution (kernels/{ref,x86,arm}/q8_dwconv__ISA.c) ----
   One output channel plane of a convolution with one input channel per group (groups == C, any
   channel multiplier): y[oy*OW + ox] = clamp(zy + requant(acc, mult, shift), qmin, qmax) with
   acc = bias + sum over the kh x kw window of w[ky*kw + kx] * x[iy*W + ix], a padded x reading zx
   (FORMAT.md's sq8 conv; bias already holds -zx * sum w). x is the plane (H x W int8), w its kh*kw
   weights. A kernel may leave shapes it does not cover to the reference (q8_dwconv_ref). */
typedef struct { int H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw; int32_t zx, zy, qmin, qmax; } Q8DwShape;
typedef void (*q8_dwconv_fn)(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift,
                             int8_t *y, const Q8DwShape *s);
/* n planes of consecutive channels in one call (x, w and y advance a plane, kh * kw weights and an output
   plane each; bias, mult and shift one each): the same bytes as n dwconv calls. NULL: dwconv per plane */
typedef void (*q8_dwconv_n_fn)(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                               const int32_t *shift, int8_t *y, const Q8DwShape *s, int n);
typedef struct { const char *name; const char *isa; q8_dwconv_fn dwconv; q8_dwconv_n_fn dwconv_n; } Q8DwDesc;
void q8_dwconv_ref(const int8_t *x, const int8_t *w, int32_t bias, int32_t mult, int32_t shift, int8_t *y,
                   const Q8DwShape *s);
extern const Q8DwDesc q8_dwconv__ref_desc;
#if defined(__x86_64__)
extern const Q8DwDesc q8_dwconv__avx2_desc;
extern const Q8DwDesc q8_dwconv__avx512vnni_desc;
#endif
#if defined(__aarch64__)
extern const Q8DwDesc q8_dwconv__neon_desc;
extern const Q8Kernels q8_gemm_4x16__neon_desc;
extern const Q8Kernels q8_gemm_8x12__neondot_desc;       /* sq8 */
extern const Q8Kernels q8_gemm_8x12__neondot_dq8_desc;   /* dq8 */
#endif

/* ---- reference kernels (kernels/ref/q8_gemm.c) ---- */
void q8_sq8_gemm_ref(const Q8Gemm *g, const Q8Sq8Epi *e);
void q8_dq8_gemm_ref(const Q8Gemm *g, const Q8Dq8Epi *e);
void q8_dq8_quant_ref(int G, int gs, int N, const float *xf, ptrdiff_t ldxf, int asym,
                      int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs);
/* the same for columns [p0, N) only (SIMD kernels finish their tails with it) */
void q8_dq8_quant_cols_ref(int G, int gs, int p0, int N, const float *xf, ptrdiff_t ldxf, int asym,
                           int16_t *xq, ptrdiff_t pstride, float *xs, ptrdiff_t ldxs);

/* ---- portable helpers (kernels/ref/q8_pack.c), used by the engine and the tests ---- */
static inline int q8_gsp(int gs) { return gs + (gs & 1); }
static inline size_t q8_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }
/* int16 elements of packed A for M rows, G groups of gs */
size_t q8_packed_size(int M, int G, int gs);
/* Packs w (M rows of K = G*gs int8, row stride K) minus its zero points: wz == NULL (0) or
   wz[o*G + g] (dq8 asymmetric). */
void q8_pack_weights(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A);
/* the same int16 from the file's blocked weights (Q8Kernels.pack_w_blk, every G, gs and T): the i16x2 tables' pack_w_blk */
int q8_pack_weights_blk(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A);
/* sq8 requantization and the rounding divisions, exactly as FORMAT.md writes them */
static inline int64_t q8_requant(int64_t acc, int32_t m, int32_t shift) {
  return (acc * m + ((int64_t)1 << (shift - 1))) >> shift;
}
static inline int32_t q8_clamp(int64_t v, int32_t lo, int32_t hi) {
  return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}
/* divr(a, n) = floor((2a + n) / (2n)), n > 0 */
static inline int64_t q8_divr(int64_t a, int64_t n) {
  int64_t num = 2 * a + n, den = 2 * n;
  int64_t q = num / den;
  return (num % den != 0 && num < 0) ? q - 1 : q;
}
/* dq8 quantization of one group of n values v[i*stride] (FORMAT.md), returns s and sets *z */
float q8_dq8_group_params(const float *v, ptrdiff_t stride, int n, int asym, int32_t *z);
/* rne(t): nearbyintf in the default rounding mode, without its call where (t + 1.5 * 2^23) - 1.5 * 2^23 is
   exact (|t| < 2^22); the rest (larger, or a NaN) still call it (musl's is plain C that saves and restores the
   floating-point environment) */
static inline float q8_rne(float t) {
  if (!(fabsf(t) < 4194304.0f)) return nearbyintf(t);
  return (t + 12582912.0f) - 12582912.0f;
}
/* q = clamp(rne(v / s) + z, lo, hi) with lo/hi = -128/127 (asym) or -127/127 (sym); inline, one call less per
   value of dq8's scalar columns. The comparisons take the bound on a NaN, as fmaxf / fminf do, without a call */
static inline int32_t q8_dq8_quant1(float v, float s, int32_t z, int asym) {
  float lo = asym ? -128.0f : -127.0f;
  float t = q8_rne(v / s) + (float)z;
  t = t >= lo ? t : lo;   /* first: a NaN becomes lo, never UB */
  t = t <= 127.0f ? t : 127.0f;
  return (int32_t)t;
}

/* the i16x2 layout's packers (kernels/ref/q8_pack.c) */
void q8_put_x_i16x2(int16_t *X, size_t pstride, int k, int p, int v);
int q8_get_x_i16x2(const int16_t *X, size_t pstride, int k, int p);
void q8_im2col_i8(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                  int pw, int dh, int dw, int OH, int OW, int32_t zx, int k0, int k1,
                  int16_t *X, ptrdiff_t pstride);
/* channels [c0, c1) of x (planes of H x W) padded by ph rows and pw columns of zx on each side, into
   xp (planes of (H + 2ph) x (W + 2pw), channel c0 first) */
void q8_pad_planes(const int8_t *x, int H, int W, int ph, int pw, int32_t zx, int c0, int c1, int8_t *xp);
/* quads [q0, q1) of Q8Conv's quad planes from channels [0, C) of x (planes of H x W): padded by ph
   rows and pw columns of zx, channels past C and each plane's slack 0, every byte ^ xr; xq: quad 0's
   plane (each `plane` pixels of 4 bytes); stride sh x sw > 1: as sh * sw phase planes (Q8Conv) */
void q8_quad_planes(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr, size_t plane,
                    int q0, int q1, int8_t *xq);
#if defined(__x86_64__)
/* a 3x3 convolution's weights for one output channel, channels [0, n) of 64 (9 n bytes, channel-major:
   byte 9 c + t), to out[t][c] (tap-major; 0 for c >= n), AVX-512 VBMI (kernels/x86/q8_taps9__avx512vbmi.c);
   T from q8_taps9_init, once */
typedef struct { int8_t idx[9][64]; uint64_t mk[9][9]; } Q8Taps9;
/* whether the VNNI table's VBMI helpers (q8_taps9, q8_dwsmall) run: -1 (the default) asks the CPU once;
   the tests set 0 to check the paths of CPUs without VBMI (Skylake-X, Cascade Lake) on one that has it */
extern int q8_vbmi;
static inline int q8_vbmi_on(void) {
  if (q8_vbmi < 0) q8_vbmi = __builtin_cpu_supports("avx512vbmi") ? 1 : 0;
  return q8_vbmi;
}
/* the sum of n int8 (AVX-512 BW, kernels/x86/q8_dq8gemm_4x32__avx512vnni.c): the VNNI packers' */
int32_t q8_sum_i8__avx512(const int8_t *x, size_t n);
/* sq8 depthwise of small planes, one plane's outputs in the lanes (kernels/x86/q8_dwsmall__vbmivnni.c, AVX-512
   VNNI + VBMI): the shapes it takes (0: none; 1, 2: its two layouts), and planes [0, n), b0 each plane's bias
   - 128 * sum of its weights (every partial sum must stay in int32) */
int q8_dwsmall_fits(const Q8DwShape *s);
void q8_dwsmall(const int8_t *x, const int8_t *w, const int32_t *b0, const int32_t *mult, const int32_t *shift, int8_t *y,
                const Q8DwShape *s, int n);
void q8_taps9_init(Q8Taps9 *T);
void q8_taps9__avx512vbmi(const Q8Taps9 *T, const int8_t *w, int n, int8_t out[9][64]);
/* Q8Kernels.im2col_kxq's work in layout lay (q8_im2col4__avx512.h's Q4_AMX or Q4_VNNI), AVX-512 VBMI
   (kernels/x86/q8_im2colkxq__avx512vbmi.c) */
void q8_im2col_kxq__avx512vbmi(int lay, const Q8Kxq *g, int p0, int p1, int16_t *X, ptrdiff_t pstride);
/* Q8Kernels.im2col_cols's work for columns [0, N), N <= 64, on padded planes of at most 256 bytes, windows of at most
   64 taps, AVX-512 VBMI
   (the same file) */
void q8_im2col_small__avx512vbmi(int lay, const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh,
                                 int dw, int OW, int K, int N, int16_t *X, ptrdiff_t pstride);
void q8_quad_planes__avx512f(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr,
                             size_t plane, int q0, int q1, int8_t *xq);   /* the same bytes, AVX-512 (kernels/x86/q8_ew__avx512f.c) */
#endif
/* dq8 im2col into float rows of ldx (row-major, pad: 0) */
void q8_im2col_f32(const float *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph,
                   int pw, int dh, int dw, int OH, int OW, int k0, int k1, float *X, ptrdiff_t ldx);
/* the same for output positions [p0, p1) only (the row-major index oh * OW + ow), rows [k0, k1):
   X[(k - k0) * ldx + p - p0] (dq8's im2col one column panel at a time, fused with its quantization) */
void q8_im2col_f32_cols(const float *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw,
                        int dh, int dw, int OW, int k0, int k1, int p0, int p1, float *X, ptrdiff_t ldx);
/* ---- the other ops of both int8 kinds, on one image (kernels/ref/q8_ops.c) ----
   sq8 ops follow FORMAT.md's integer formulas (dq8 runs the f32 ops). C, H, W are the
   input's; OH, OW the output's (from the value table, checked by the loader). */
typedef struct { int kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode, count_include_pad, divisor; } Q8Pool;
void q8_sq8_quantize(const float *x, size_t n, float s, int32_t z, int8_t *y);
void q8_sq8_dequantize(const int8_t *x, size_t n, float s, int32_t z, float *y);
void q8_sq8_add(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy,
                int32_t ma, int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y);
#if defined(__x86_64__)
void q8_sq8_add__avx512f(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy, int32_t ma,
                         int32_t mb, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y);   /* the same, AVX-512 */
void q8_sq8_quantize__avx512f(const float *x, size_t n, float s, int32_t z, int8_t *y);             /* the same, AVX-512 */
#endif
void q8_sq8_requant_copy(const int8_t *x, size_t n, int32_t zx, int32_t zy, int32_t m, int32_t shift,
                         int8_t *y);
void q8_sq8_clamp(const int8_t *x, size_t n, int32_t qmin, int32_t qmax, int8_t *y);
void q8_sq8_lut(const int8_t *x, size_t n, const int8_t *lut, int8_t *y);    /* y = lut[x + 128] */
/* MUL: y = clamp(zy + requant((a - za) * (b - zb), m, shift), qmin, qmax); b has n values, or one
   (bstride 0: the channel broadcast) */
void q8_sq8_mul(const int8_t *a, const int8_t *b, size_t n, int bstride, int32_t za, int32_t zb, int32_t zy,
                int32_t m, int32_t shift, int32_t qmin, int32_t qmax, int8_t *y);
void q8_sq8_maxpool(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y);
#if defined(__x86_64__)
void q8_sq8_maxpool__avx512f(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y); /* the same */
void q8_sq8_maxpool__avx2(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y);   /* the same */
#endif
void q8_sq8_avgpool(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int32_t zx,
                    int8_t *y);
void q8_sq8_adaptive_maxpool(const int8_t *x, int C, int H, int W, int OH, int OW, int8_t *y);
void q8_sq8_adaptive_avgpool(const int8_t *x, int C, int H, int W, int OH, int OW, int32_t zx, int8_t *y);

/* sq8's elementwise kernels of one instruction set, in src/dispatch.c's tables (a NULL member takes the
   table below's): each writes the bytes of the plain C function it stands for (q8_ew__ref's) */
typedef struct {
  const char *name;
  void (*quantize)(const float *x, size_t n, float s, int32_t z, int8_t *y);
  void (*add)(const int8_t *a, const int8_t *b, size_t n, int32_t za, int32_t zb, int32_t zy, int32_t ma, int32_t mb,
              int32_t shift, int32_t qmin, int32_t qmax, int8_t *y);
  void (*maxpool)(const int8_t *x, int C, int H, int W, const Q8Pool *p, int OH, int OW, int8_t *y);
  void (*quad_planes)(const int8_t *x, int C, int H, int W, int ph, int pw, int sh, int sw, int32_t zx, int xr,
                      size_t plane, int q0, int q1, int8_t *xq);
} Q8EwKernels;
extern const Q8EwKernels q8_ew__ref;       /* kernels/ref/q8_ops.c: the plain C functions above */
#if defined(__x86_64__)
extern const Q8EwKernels q8_ew__avx2;      /* kernels/x86/q8_ew__avx2.c (ADD) */
extern const Q8EwKernels q8_ew__avx512f;   /* kernels/x86/q8_ew__avx512f.c */
#endif
#endif
