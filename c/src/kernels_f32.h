/* kernels_f32.h: float32 kernels. Each kernel file (kernels/{ref,x86,arm}/f32_*__ISA.c) defines one
 * descriptor: its function, its tile sizes and its packer; src/dispatch.c groups them into one table
 * per instruction set and picks the best once at start-up (TINYRUNTIME_KERNELS=ref forces the
 * reference). The dq8 kind runs its non-GEMM ops with these too. */
#ifndef TINYRUNTIME_KERNELS_F32_H
#define TINYRUNTIME_KERNELS_F32_H
#include <stddef.h>

#define F32_MAX_MR 16  /* the largest tile any descriptor may declare (engine scratch tiles) */
#define F32_MAX_NR 64

/* C[MR x NR] = act(A·B + bias): a is a packed A panel (the descriptor's pack_a layout), k x MR;
   b a packed B panel, k x NR (b[kk*NR + j]); row r of C is at c + r*ldc; bias has MR entries; act is
   ACT_*. Every element is one sum over kk in increasing order, then + bias, then the activation.
   With acc nonzero the sum starts from C's value instead of 0: so a sum over K done in chunks (the
   first with acc 0, each with a zero bias and ACT_NONE but the last) adds the same terms in the same
   order as one call, and gives the same result (but for the sign of a zero sum). */
typedef void (*f32_gemm_fn)(size_t k, const float *a, const float *b, float *c, size_t ldc, const float *bias,
                            int act, int acc);
/* a tile of gemm on rows [0, m) and columns [0, n) only (C's other rows and columns neither read nor
   written), A read where it lies, packed or in place, B in place (an activation, or padded planes): C rows
   [0, m), columns [0, n) = act(sum + bias), the sum over kk < k, then taps t < nt (in that order), of
   a[r*lda + (kk*nt + t)*ks] * b[kk*ldb + boff[t] + j], started from C's value when acc is 1; each
   element one sum in that order (fused multiply-adds), then + bias, then the activation. Two layouts:
   - in place (lda = K, ks = 1): the op's weights as the model file holds them, (O, C, kh, kw) row-major:
     column kk*nt + t is channel kk, tap t (an implicit convolution: taps by channel);
   - packed (lda = 1, ks = f32_tail_rows(m, mr), the panel's rows as packed; nt = 1): a panel of pack_a /
     f32_pack_a_tail; or (ks = 32) rows r0.. of a version-4 file's panel of 32 rows, read in place (ops_f32.c
     a_tile). (A kernel may take ks != 1 to mean this layout, and ks == 1 the other.)
   Rows [0, f32_tail_rows(m, mr)) of a must be readable and no other row is read; B only at columns j < n.
   Chunks of kk (a + kk0*nt*ks, b + kk0*ldb, acc) add the same terms in the same order. acc F32_ACC_RES: the
   sum starts from 0 and C = act((sum + bias) + C): a residual ADD fused into the convolution before it (C
   holds the ADD's other input), the same value as the ADD of the unfused output. */
enum { F32_ACC_RES = 2 };
typedef void (*f32_gemm_u_fn)(size_t k, size_t nt, const ptrdiff_t *boff, const float *a, size_t lda, size_t ks,
                              const float *b, size_t ldb, float *c, size_t ldc, int m, int n, const float *bias, int act,
                              int acc);
/* the transposed tile (optional): pixels in rows, channels in columns, for a convolution whose map's pixels are
   not a multiple of nr (a 7x7 or 14x14 map: no tile of nr columns mostly empty). The tile's tm pixels are two
   runs of tm / 2: pixel r at xr = (r < tm / 2 ? x : x + x2off) + r % (tm / 2) (x2off = tm / 2: one run of tm).
   C's element (r, j) is c[j*ldc + r] = act(sum + bias[j]) (with res: act((sum + bias[j]) + c[j*ldc + r])), the
   sum over kk < k, then taps t < nt, in that order (fused multiply-adds, from 0) of
   xr[kk*ldx + boff[t]] * w[(kk*nt + t)*tn + j]: gemm_u's value for that output, bit for bit. w: a panel of
   pack_a with mr = tn (tn columns, the rows past n zero); all tm pixels are read, but for a tile whose pm has
   none of the first run's: only the second run's, and for pm == 1 (one pixel: a LINEAR's one image) only x[kk*ldx +
   boff[t]]; only the pixels r of bits r of pm (r < tm) and the channels
   j < n are written (a map's last tile shifted back onto the one before stores only its new pixels); bias: n
   entries. pf: NULL, or k*nt lines of 64 bytes from pf, which the kernel fetches into L2 (a line a k step), for a
   later tile (ops_f32.c conv_t_block: the next panel's weights); they do not change C. */
typedef void (*f32_gemm_t_fn)(size_t k, size_t nt, const ptrdiff_t *boff, const float *w, const float *x, size_t ldx,
                              ptrdiff_t x2off, float *c, size_t ldc, unsigned pm, int n, const float *bias, int act, int res,
                              const float *pf);
/* packs rows [0, M) of the row-major M x K weights w into ceil(M/mr) panels, zero padded, at ap */
typedef void (*f32_pack_a_fn)(const float *w, size_t M, size_t K, int mr, float *ap);
/* a version-4+ file's panels of 32 rows, row r's column k at w[r / 32 * 32 K + 32 k + r % 32] (a last panel's rows past
   M neither present nor read), to the kernel's panels of mr rows (tail as f32_pack_a_tail's), or with mr 1 to M x K
   row-major rows, at ap: f32_pack_a_tail(w, M, K, mr, tail, 32, ap), the same floats */
typedef void (*f32_unpanel_fn)(const float *w, size_t M, size_t K, int mr, int tail, float *ap);

/* the column tail (optional): gemm_u's tile for n <= 2 columns (n < 1 or > 2: nothing) of np whole panels of mr rows
   packed by pack_a (ks = mr floats a k step), panel q at a + q*ps, its rows' outputs at c + q*mr*ldc (row r of it
   r*ldc on), its bias at bias + q*mr (bias NULL: + 0.0f, as gemm_u's with a zero bias); B, acc (0, 1, F32_ACC_RES)
   and the values as gemm_u's for m = mr, nt = 1, bit for bit. A map whose pixels leave a few columns past the last
   whole tile (49 = 3 x 16 + 1), a LINEAR's one image: ops_f32.c gemm_block */
typedef void (*f32_gemm_cols_fn)(size_t k, const float *a, size_t ps, size_t np, const float *b, size_t ldb, float *c,
                                 size_t ldc, int n, const float *bias, int act, int acc);

typedef struct {
  const char *name;       /* "f32_gemm_6x16__avx2" */
  int mr, nr;             /* tile: rows (output channels) x columns (pixels x images) */
  f32_gemm_fn gemm;
  f32_pack_a_fn pack_a;
  int tail;               /* 1: gemm_u reads a panel of m < mr rows as k x f32_tail_rows(m, mr) (its
                             rows, rounded up to 4: the packed weights keep no rows of padding), as
                             f32_pack_a_tail packs the last panel (pack_a must be f32_pack_a_panels); 0: mr */
  f32_gemm_u_fn gemm_u;   /* NULL: the kernel has gemm only (im2col, full tiles; edges through a temporary);
                             else every conv and LINEAR goes through it (gemm is then NULL): 1x1 convolutions
                             read their activations in place, the others as implicit convolutions (no im2col)
                             with their weights in place, the 1x1s' and LINEAR's packed by pack_a */
  f32_gemm_t_fn gemm_t;   /* NULL, or the transposed tile (f32_gemm_t_fn) of tm pixels x tn channels */
  int tm, tn;
  int panels_in_place;    /* 1: a version-4+ file's panels of 32 rows (1x1 convolutions, LINEAR) are read where they lie by
                             gemm_u's tiles (ks 32; ops_f32.c fpu) or gemm_t; 0: packed at start-up into the kernel's own
                             panels (pack_a). AVX2: 0 (its tiles of 6 rows use 24 bytes of each 64-byte line they read, a
                             line a k step; measured slower per image, ops_f32.c a_tiles) */
  f32_unpanel_fn unpanel; /* NULL, or the table's f32_unpanel_fn: a version-4+ file's panels of 32 rows to (M, K) rows for
                             the implicit convolutions and Winograd that read rows, or to pack_a's panels for the 1x1s and
                             LINEARs the table does not read in place (NULL: f32_pack_a_tail with pr 32) */
  f32_gemm_cols_fn gemm_cols; /* NULL, or the column tail (f32_gemm_cols_fn) */
  int taps_pack;          /* 1: ops_f32.c's strided implicit convolutions of K >= 256 (ResNets' 3x3 stride-2 layers) copy each
                             column tile's K x nr floats from the phase planes and run gemm_u on the copy (taps_packs;
                             measured faster on AVX2); 0: gemm_u on the planes in place */
} F32GemmDesc;

/* the rows a panel of m <= mr rows is packed with under F32GemmDesc.tail: m rounded up to 4, at most mr */
static inline int f32_tail_rows(int m, int mr) { int r = (m + 3) / 4 * 4; return r < mr ? r : mr; }
/* the floats of M x K weights packed in panels of mr rows (tail: the last as f32_tail_rows of its rows) */
static inline size_t f32_packed_floats(size_t M, size_t K, int mr, int tail) {
  size_t P = (M + (size_t)mr - 1) / (size_t)mr, last = M - (P ? P - 1 : 0) * (size_t)mr;
  return P == 0 ? 0 : ((P - 1) * (size_t)mr + (tail ? (size_t)f32_tail_rows((int)last, mr) : (size_t)mr)) * K;
}

/* one channel plane of a depthwise convolution: out[OH x OW] = act(bias + sum w[ky*kw+kx] * in[...]),
   zero padding, PyTorch's stride / padding / dilation. Each output is one sum over ky, then kx, in
   increasing order (a kernel may add w * 0 for a tap in the padding, and may fuse the multiply-adds),
   then + bias, then the activation; the result depends on nothing else (not on the plane's other
   outputs nor on which rows or columns a kernel does together). */
typedef struct { int H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, act; } F32DwShape;
typedef void (*f32_dwconv_fn)(const float *in, const float *w, float bias, float *out, const F32DwShape *s);
typedef struct { const char *name; f32_dwconv_fn dwconv; } F32DwDesc;

/* elementwise activation in place (the ISA's vector helper over act_f32) */
typedef void (*f32_act_fn)(float *y, size_t n, int act);
/* y[i] = act_f32(a[i] + b[i], act), i < n (y may be a or b itself, not overlap them otherwise) */
typedef void (*f32_add_fn)(const float *a, const float *b, float *y, size_t n, int act);

/* one channel plane of a max pool, its geometry in F32DwShape's fields (act unused): out[OH x OW], each the
   max over the window's taps inside the input in order (ky, then kx), a tap taken only when greater than
   the max so far (ties keep the earlier one), -inf for a window with no tap inside, NaN (the canonical
   one) when any tap is NaN: the plain C pool's values (src/ops_f32.c). Returns 0, having written nothing,
   for a shape it does not take (the plain C pool runs). */
typedef int (*f32_maxpool_fn)(const float *in, float *out, const F32DwShape *s);

/* Winograd's F(2x2, 3x3) for 3x3 stride-1 convolutions (src/ops_f32.c conv_wino runs the 16 products of its
   transforms with gemm_u): a 2x2 output tile's 16 values per channel are xi = 4 i + j, i, j < 4, each in
   its own matrix, xs floats after the one before (pad xs past a multiple of 4 KiB: 16 stores of one vector
   to the same cache set were the transforms' bottleneck).
   weights: U = G g G^T of rows r < m of the weights w (row r at w + 9 C r, the file's (C, 3, 3)), to
            u[xi * uxs + r * C + c] (16 matrices of ks x C, row-major: gemm_u's in-place A with lda C); rows
            m..ks - 1 zero;
   input:   V = B^T d B of tiles [t0, t1) (tile t = ty * tw + tx: its 4x4 patch at input row 2 ty - 1, column
            2 tx - 1, zero outside the H x W plane; channel c's plane at x + c H W), to v[xi * vxs + c * ldv +
            t - t0] (16 matrices of C x ldv);
   output:  Y = A^T M A + bias[r], then act (ACT_NONE, ACT_RELU or ACT_RELU6), of rows r < m of M
            (mm[xi * mxs + r * ldm + t - t0]) and tiles [t0, t1), to the output planes (row r's at out + r *
            ohw, OH x OW): pixels past OH or OW dropped; res: act((Y + bias[r]) + out), out holding a fused
            residual ADD's other input (as gemm_u's F32_ACC_RES).
   (So for tile 2; tile 4: a 4x4 tile's 36 values, xi = 6 i + j, from its 6x6 patch at 4 ty - 1, 4 tx - 1.)
   B^T, G, A^T: in each kernel file; each value a fixed sequence of operations (F(2x2, 3x3): adds, subtracts
   and exact halvings), so it does not depend on the lane, the block or the thread that computes it. */
typedef struct {
  const char *name;
  int tile;   /* the output tile's side: 2 (F(2x2, 3x3): 16 matrices) or 4 (F(4x4, 3x3): 36) */
  void (*weights)(const float *w, size_t C, int m, int ks, float *u, size_t uxs);
  void (*input)(const float *x, size_t H, size_t W, size_t C, size_t tw, size_t t0, size_t t1, float *v, size_t ldv,
                size_t vxs);
  void (*output)(const float *mm, size_t ldm, size_t mxs, int m, size_t tw, size_t t0, size_t t1, size_t OH, size_t OW,
                 const float *bias, int act, int res, float *out, size_t ohw);
} F32WinoDesc;

/* the kernels of one instruction set */
typedef struct {
  const char *isa;              /* "ref", "avx2", "neon", ... */
  const F32GemmDesc *gemm;
  const F32DwDesc *dw;
  f32_act_fn act;
  f32_maxpool_fn maxpool;       /* NULL: the plain C pool */
  f32_add_fn add;
  const F32WinoDesc *wino;      /* F(2x2, 3x3), or NULL; either Winograd needs gemm->gemm_u */
  const F32WinoDesc *wino4;     /* F(4x4, 3x3): every Winograd-shaped layer where set; NULL: wino's, or (both NULL)
                                   every 3x3 convolution direct */
} F32Kernels;

/* the kernel descriptors (one per file) */
extern const F32GemmDesc f32_gemm_6x16__ref_desc;
extern const F32DwDesc f32_dwconv__ref_desc;
void f32_pack_a_panels(const float *w, size_t M, size_t K, int mr, float *ap); /* ap[p][k][r] (kernels/ref) */
/* f32_pack_a_panels, with tail: the last panel (if partial) as K x f32_tail_rows(its rows, mr), at ap + (P - 1) mr K
   (f32_packed_floats in all); w's rows in panels of pr (row r, column k at w[r / pr * pr * K + k * pr + r % pr]): pr 1,
   row-major; 32, a version-4 file's 1x1 (model_f32_panels). mr at most F32_PANEL_MAX */
enum { F32_PANEL_MAX = 32 };
void f32_pack_a_tail(const float *w, size_t M, size_t K, int mr, int tail, size_t pr, float *ap);
#if defined(__x86_64__)
void f32_unpanel__avx2(const float *w, size_t M, size_t K, int mr, int tail, float *ap);   /* the AVX2 and AVX-512 tables' unpanel */
#endif
void f32_act__ref(float *y, size_t n, int act);
void f32_add__ref(const float *a, const float *b, float *y, size_t n, int act);
#if defined(__x86_64__)
extern const F32GemmDesc f32_gemm_6x16__avx2_desc;
extern const F32DwDesc f32_dwconv__avx2_desc;
extern const F32GemmDesc f32_gemm_12x32__avx512f_desc;
extern const F32DwDesc f32_dwconv__avx512f_desc;
extern const F32WinoDesc f32_wino23__avx2_desc;
extern const F32WinoDesc f32_wino23__avx512f_desc;
extern const F32WinoDesc f32_wino43__avx512f_desc;
extern const F32WinoDesc f32_wino43__avx2_desc;
int f32_maxpool__avx2(const float *in, float *out, const F32DwShape *s);
int f32_maxpool__avx512f(const float *in, float *out, const F32DwShape *s);
void f32_act__avx2(float *y, size_t n, int act);
void f32_add__avx2(const float *a, const float *b, float *y, size_t n, int act);
#endif
#if defined(__aarch64__)
extern const F32GemmDesc f32_gemm_8x8__neon_desc;
extern const F32DwDesc f32_dwconv__neon_desc;
void f32_act__neon(float *y, size_t n, int act);
#endif
#endif
