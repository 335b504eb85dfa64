/* ops_f32.c: the float32 op table (the f32 kind, and every op of dq8 but its GEMMs).
 *
 * Convolutions are GEMMs: packed weights (O x K, in panels of the GEMM descriptor's MR rows, packed
 * by its own packer) times an im2col matrix packed in panels of NR columns, where the columns are
 * the output pixels of all images of the batch (K x BS*OH*OW), so the images share one GEMM. A
 * convolution with one input channel per group (depthwise) is a direct kernel. LINEAR is a 1x1
 * convolution on a 1x1 image. A stride-1 convolution is an implicit one where the kernel has gemm_u
 * (conv_implicit): the GEMM reads its B tiles as shifted windows of a zero-padded copy of the input,
 * no im2col; a 3x3 stride-1 one of maps at least 14 wide runs on the table's Winograd transforms where it
 * has them (conv_wino). A residual ADD right after a convolution is fused into it where the conv's path
 * can take it (residual_of). Every output element is computed by one thread with one sum in a
 * fixed order, so the results depend neither on the thread count nor on the batch size. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "act.h"
#include "engine_impl.h"
#include "pool.h"
#include "util.h"

/* ---------------------------------------------------------------- CONV2D, LINEAR */

enum { TB = 8 };        /* tiles per column block: TB x NR columns of B stay in cache across the panels */
enum { KC_MAX = 512 }; /* K is done in chunks of at most this: a chunk of the B block (TB x KC x NR) stays
                          in L2 and one of an A panel (KC x MR) in L1, whatever K (ResNet's 2304, 4608) */

/* the chunk length: K in ceil(K / KC_MAX) chunks as equal as can be */
static size_t k_chunk(size_t K) { return K ? rt_cdiv(K, rt_cdiv(K, KC_MAX)) : 1; }

/* how gemm_group splits T column tiles x P row panels over `threads` (returns the packed tiles the
   plan holds at once, the size of its scratch). *PB == P: each thread its own contiguous range of tiles
   (gemm_by_thread, TB at a time in its own TB slots), when each gets at least TB tiles and the ranges are
   within 10% of each other: each thread packs and reads only its own im2col, in its own cache, and reads
   all the weights. Else (few tiles, or an uneven split of them) *PB = 1: each thread its own contiguous range of row
   panels times all the tiles (gemm_by_panels, T slots per thread): each packs every tile itself (the
   packing done once per thread) but reads only its part of the weights, and the op is one fork/join,
   not two per K chunk (the tiles packed once and shared; on a busy machine each fork/join waits for a
   late worker). ResNet18's 7x7 layers at batch 1 (2 tiles): panels, measured better than a tile each
   (each thread reading all the weights). One row panel: tiles per thread. */
static size_t gemm_plan(size_t T, size_t P, int threads, size_t *PB) {
  size_t th = threads > 1 ? (size_t)threads : 1, lo = T / th, hi = rt_cdiv(T, th);
  if (th == 1 || P == 1 || (lo >= TB && hi * 10 <= lo * 11)) {
    *PB = P;
    return th * TB;
  }
  *PB = 1;
  return th * T;
}

/* a 1x1 stride-1 unpadded convolution on a map of NR to PACK_1X1 pixels whose kernel has gemm_u but no gemm_t (AVX2,
   NEON): its B packed in K chunks (im2col's copy, pack_tile), not read in place. In place, a tile's K rows lie a
   plane apart (196 bytes on a 7x7 map), each 16 floats across two lines, and all K of them are read again for each
   row panel. On the Zen 3 (one thread, per-op minima of 8 processes alternated, 2026-12-07) ResNet50's 7x7 1x1 layers
   took 0.78-0.83x their time so (two threads 0.87-0.97x), MobileNetV2's 0.83-0.92x (two threads); the outputs the
   same bytes. Standalone, K = 2048, M = 512 on 49 columns: 50 -> 77 GFLOP/s. At 14x14 and more it was no faster */
enum { PACK_1X1 = 64 };
/* a 1x1 stride-1 unpadded convolution on gemm_u of at least NR pixels: the shape conv_direct and pack_1x1 share */
static int plain_1x1(const Engine *e, const OpState *s) {
  return e->kf->gemm->gemm_u && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0 &&
         (size_t)s->OH * s->OW >= (size_t)e->kf->gemm->nr;
}
static int pack_1x1(const Engine *e, const OpState *s) {
  return plain_1x1(e, s) && !e->kf->gemm->gemm_t && !s->linear && (size_t)s->OH * s->OW <= PACK_1X1;
}

/* a 1x1 stride-1 unpadded convolution whose kernel has gemm_u (not pack_1x1): its K x N matrix is the input itself
   (row kk of image i: channel c0 + kk's plane), so the kernel reads it in place at row stride H*W,
   in tiles of NR columns within one image (the last tile of each image narrower) */
static int conv_direct(const Engine *e, const OpState *s) { return plain_1x1(e, s) && !pack_1x1(e, s); }

/* a 1x1 unpadded convolution of stride > 1 whose kernel has gemm_u, its output at least NR pixels: its input
   subsampled once into a compact copy (C planes of OH x OW, sub_planes: a quarter of the input at stride 2),
   which the GEMM then reads in place as conv_direct's. With im2col, every thread packed every tile it
   multiplied (ResNet's downsampling 1x1 layers on 2 threads: 1.1-1.5x faster than on one) */
static int conv_sub(const Engine *e, const OpState *s) {
  return e->kf->gemm->gemm_u && !s->linear && s->kh == 1 && s->kw == 1 && (s->sh > 1 || s->sw > 1) && s->ph == 0 &&
         s->pw == 0 && (size_t)s->OH * s->OW >= (size_t)e->kf->gemm->nr;
}

/* the GEMM reads B in place: the input itself (conv_direct) or its subsampled copy (conv_sub) */
static int b_in_place(const Engine *e, const OpState *s) { return conv_direct(e, s) || conv_sub(e, s); }

/* a 1x1 convolution read in place (b_in_place) runs on the kernel's transposed tile (gemm_t: pixels x channels)
   where its map's pixels (at least tm) are more than 5% short of a multiple of nr: gemm_u's last tile of each
   image would be mostly empty (a 7x7 map: 64 columns computed for 49; 14x14: 224 for 196). At batch 1 only
   where 20% short (7x7), and also on 14x14 maps where K >= 128: on Zen 4 (one thread, 2026-12-04)
   ResNet50's 14x14 1x1 layers (K >= 256) take 0.91-0.95x their gemm_u time on gemm_t and MobileNetV2's
   projections (K = 384, 576) 0.94-0.95x, its expansions (K = 64, 96) 1.02-1.06x (the transposing stores against
   few sums); on Sapphire Rapids ResNet50's had been 4-9% slower on gemm_t (2026-12-02, c/README.md), but on
   2026-12-06 (gemm_t's tiles by then on stealable shares, gemm_u's on its own) 0.84-0.91x on two threads and
   0.86-0.90x on one (fastest of 3-5 alternated runs), so the rule no longer asks for the vendor. gemm_t's tiles
   of tm pixels cover a map, its last shifted back onto the one before (storing only its new pixels). One pass over K (K <= KC_DIRECT, defined below). The same
   sums as gemm_u's, bit for bit, so the rule may depend on the batch. */
static int conv_t(const Engine *e, const OpState *s);

/* the K chunk of a GEMM: k_chunk; but B read in place (b_in_place) packs no chunk, and up to
   KC_DIRECT takes K whole: one pass, each output written once (not a first chunk's sum written, read back and
   added to), and a residual ADD after it fused (residual_of). ResNet50's 1x1 layers of K = 1024 and 2048 at
   batch 1 (2 threads, Sapphire Rapids) 4-12% faster, its total 3%; MobileNetV2's of K = 576 and 960 4-7%,
   their ADDs fused; batch 8 the same (one thread, cold caches: 157 -> 184 GFLOP/s on 256 x 1024 x 196) */
enum { KC_DIRECT = 4096 };
static size_t kc_direct(size_t K) { return K <= KC_DIRECT ? (K ? K : 1) : k_chunk(K); }
/* the packed K chunk: k_chunk, but pack_1x1's K whole up to PACK_KC (its B, at most 4 tiles x 1024 x 16 floats, 256 KiB,
   in L2): the weights then read in one stream, panel after panel, not a panel's half and then the next panel's, and a
   residual ADD after it fused (residual_of). Zen 3 (2026-12-07, per-op minima of 12 processes ABBA): MobileNetV2's
   7x7 projections (K 576 and 960) 0.90-0.94x their time on one thread, 0.94-1.00x on two; the same bytes */
enum { PACK_KC = 1024 };
static size_t pack_kc(const Engine *e, const OpState *s) {
  return pack_1x1(e, s) && (size_t)s->K <= PACK_KC ? kc_direct((size_t)s->K) : k_chunk((size_t)s->K);   /* (K whole) */
}
static size_t gemm_kc(const Engine *e, const OpState *s) { return b_in_place(e, s) ? kc_direct((size_t)s->K) : pack_kc(e, s); }

static int conv_t(const Engine *e, const OpState *s) {
  const F32GemmDesc *d = e->kf->gemm;
  size_t OHW = (size_t)s->OH * s->OW, NR = (size_t)d->nr;
  size_t waste = e->batch > 1 || s->K >= 128 ? 21 : 24;   /* in twentieths */
  return d->gemm_t && b_in_place(e, s) && (size_t)s->K <= KC_DIRECT && OHW >= (size_t)d->tm &&
         rt_cdiv(OHW, NR) * NR * 20 > OHW * waste;
}

/* an implicit convolution (conv_implicit) of more than one tap and one group on gemm_t (conv_taps_t): its outputs
   in runs of tm / 2 within a row (OW a multiple of it), a tile two runs (of one row or two), no flat column
   computed and dropped, its weights in panels of tn rows (the taps of a channel in turn). The same sums as
   gemm_u's, bit for bit. At batch 8 ResNet50's 7x7 3x3 layers are 22-27% faster, its stride-2 ones 5-22%, the
   stem 11% (the model 4.3%; ResNet18 5.6%, MobileNetV2 3.5%), at batch 1 5-9% on those layers. A version-6 file
   holds those weights in the panels (fpn, model_f32_panels: read in place); an older one's are packed at
   start-up, so at batch 1 only where they are at most TAPS_T_SMALL floats (ResNet's stems): the rest would
   cost start-up what in place costs nothing (ResNet18 7-8 -> 20-36 ms from exec to the first output, ResNet50
   +12 ms). Not for K < 64 (the transposing stores outweigh the sums: MobileNetV2's stem, K = 27, 15% slower) */
enum { TAPS_T_SMALL = 64 << 10 };
/* on gemm_t (of tm <= 16, tn <= 32: taps_flat_tile's tmp), a map of at most TAPS_FLAT pixels whose rows are not
   runs of tm / 2 (4x4, 2x2, ...): its tiles are tm flat columns of the padded planes (taps_flat_tile). On the
   pipeline's ResNet18 at 32x32 (Zen 4, one thread, 2026-12-05) its 2x2 layers ran 2.1x faster so than on gemm_u, its
   4x4 ones 1.3-1.5x; its 8x8 ones and its 16x16 stem were 0-20% slower (version 7 keeps their weights in rows:
   c/FORMAT.md) */
enum { TAPS_FLAT = 16 };
static int taps_flat(const OpState *s, const F32GemmDesc *d) {
  return s->OW % (d->tm / 2) || (size_t)s->OH * s->OW < (size_t)d->tm;
}
static int taps_t(const Engine *e, const OpState *s, int fpn) {
  const F32GemmDesc *d = e->kf->gemm;
  return d->gemm_t && (e->batch > 1 || fpn || (size_t)s->M * s->K <= TAPS_T_SMALL) && s->kh * s->kw > 1 && s->K >= 64 && s->groups == 1 &&
         (!taps_flat(s, d) || ((size_t)s->OH * s->OW <= TAPS_FLAT && d->tm <= 16 && d->tn <= 32));
}

/* the bias's floats per group: padded to the row panels (gemm_t: of tn channels) */
static size_t bias_group(const Engine *e, const OpState *s) {
  size_t mr = (size_t)(s->tpath ? e->kf->gemm->tn : e->kf->gemm->mr);
  return rt_cdiv((size_t)s->M, mr) * mr;
}

/* a convolution of stride 1, or a strided one of more than one tap (not depthwise, not one conv_direct
   reads in place), whose kernel has gemm_u: an implicit convolution (conv_taps), no im2col. Stride 1:
   the input's planes are copied once, zero padded, with
   rows of Wp = max(W + pw, OW) (a row's right padding is the next row's left: a window past a row's end
   reads the next row's left padding), so that output (oh, ow) at "flat" column f = oh*Wp + ow reads
   padded pixel f + ky*dh*Wp + kx*dw at tap (ky, kx): per tap, a cg x NR tile of B is the padded input
   read in place, row stride one plane. The weights are read in place, K in the file's (channel, tap)
   order (a padded 1x1's packed); a tile is one gemm_u call, its columns with ow >= OW computed and
   dropped. Strided:
   the same on phase planes (taps_geo). The rule depends on the shape only (never on batch or threads:
   results do not change with them). Measured on ResNet18/50 (one thread, Sapphire Rapids), faster than
   im2col on every stride-1 3x3 layer: 56x56 maps 1.3x, 28x28 1.2x, 14x14 1.1x, 7x7 1.1x (the last two
   waste as many columns as im2col's tiles do); the 7x7 stride-2 stem 1.3x, 3x3 stride-2 layers 1.02-1.14x;
   but a 1x1 stride-2 one 0.7x (its phase planes copy 4x the input it reads): conv_sub. */
static int conv_implicit(const Engine *e, const OpState *s) {
  return e->kf->gemm->gemm_u && !s->linear && !s->depthwise &&
         ((s->sh == 1 && s->sw == 1) || s->kh * s->kw > 1) && !conv_direct(e, s) && !pack_1x1(e, s) && s->OH > 0 && s->OW > 0;
}

/* the implicit convolution's padded planes. Stride 1: one plane per channel, rows of Wp (above), Hp =
   H + 2ph rows, then pw zeros that the last row's wrap reads. Stride sh x sw > 1: the padded image split
   into sh*sw phase planes per channel (phase (a, b): padded rows a, a + sh, .., columns b, b + sw, ..),
   rows of Wq = ceil((W + 2pw) / sw), Hq = ceil((H + 2ph) / sh) rows (no wrap: a window never leaves its
   row), so that output (oh, ow) at flat column f = oh*Wq + ow reads, at tap (ky, kx), pixel
   f + (ky*dh / sh)*Wq + kx*dw / sw of phase (ky*dh % sh, kx*dw % sw): a stride-1 convolution again.
   A channel's planes (TapsGeo.chan floats: an odd number of 64-byte lines, so the same column of successive
   channels falls in different cache sets) are one B row apart. With outputs of at least two tiles (2 NR) a
   row, the rows are rounded up to whole tiles: no tile spans two output rows, so none goes through
   taps_tile's temporary (the stems: ResNet18's 4.5% and MobileNetV2's 6% faster at batch 1, ResNet50's 11% at
   batch 8, 2 threads; the planes 11-13% larger, within the arena). */
typedef struct {
  size_t wq, hq;   /* row length (Wp or Wq), rows of a phase plane (strided) */
  size_t flat;     /* an image's flat columns: (OH - 1) * wq + OW */
  size_t phase;    /* floats of one (phase) plane, a multiple of 16 */
  size_t chan;     /* floats of a channel's planes: a B row's stride */
  int images;      /* images padded (and computed) at a time (taps_geo's batch) */
} TapsGeo;
static size_t taps_planes(const Engine *e, const OpState *s, const TapsGeo *g);
static int taps_packs(const Engine *e, const OpState *s);

/* images whose padded planes are made (and used) at a time: as many as fit TAPS_BYTES, at least one (the
   scratch does not grow with the batch beyond that; ResNet's 7x7 and 14x14 layers still share their
   weights' pass among 7+ images) */
enum { TAPS_BYTES = 2 << 20 };
static __attribute__((noinline)) TapsGeo taps_geo(const OpState *s, int batch, size_t nr) {
  TapsGeo g;
  size_t Hp = (size_t)s->H + 2 * (size_t)s->ph, Wp = (size_t)s->W + 2 * (size_t)s->pw, sh = (size_t)s->sh, sw = (size_t)s->sw;
  int strided = sh > 1 || sw > 1;
  if (strided) {
    g.wq = rt_cdiv(Wp, sw), g.hq = rt_cdiv(Hp, sh);
  } else {
    g.wq = (size_t)s->W + (size_t)s->pw; /* at least the row and one side's padding, and at least OW */
    if (g.wq < (size_t)s->OW) g.wq = (size_t)s->OW;
    g.hq = Hp;
  }
  if ((size_t)s->OW >= 2 * nr) g.wq = rt_cdiv(g.wq, nr) * nr; /* rows of whole tiles: none across two rows */
  g.phase = rt_cdiv(g.hq * g.wq + (strided ? 0 : (size_t)s->pw), 16) * 16; /* stride 1: + the last row's wrap */
  g.flat = ((size_t)s->OH - 1) * g.wq + (size_t)s->OW;
  g.chan = (rt_cdiv(sh * sw * g.phase, 16) | 1) * 16;
  size_t img = rt_mul_sat(rt_mul_sat((size_t)s->C, g.chan), sizeof(float)), k = TAPS_BYTES / (img ? img : 1);
  g.images = k < 1 ? 1 : k < (size_t)batch ? (int)k : batch;
  return g;
}

/* the column tiles of n images: in direct mode per image, else over the batch's N = n*OH*OW columns */
static size_t col_tiles(const OpState *s, int direct, size_t NR, int n) {
  size_t OHW = (size_t)s->OH * s->OW;
  return direct ? (size_t)n * rt_cdiv(OHW, NR) : rt_cdiv((size_t)n * OHW, NR);
}

/* build_conv's packing: blocks [b0, b1) of `step` rows (block b: group b / nb, rows from b % nb * step) */
typedef struct {
  const Engine *e;
  const OpState *s;
  const F32GemmDesc *d;
  const float *w;
  size_t nb, step;
  int mr, tail;   /* the panels' rows (d->mr, or d->tn for gemm_t), d->tail (0 for gemm_t) */
  int fpn;        /* w in the file's panels of 32 rows (model_f32_panels; one group; each block's rows whole panels,
                     bytes as contiguous as (O, K) rows') */
} PackJob;

/* where block b's packed rows start (b = the blocks' count: the end of the buffer) */
static float *pack_dst(const PackJob *j, size_t b) {
  return j->s->apack + b / j->nb * j->s->a_group + b % j->nb * j->step * (size_t)j->s->K;
}

__attribute__((cold)) static void pack_blocks(void *arg, long b0, long b1) {
  const PackJob *j = arg;
  size_t K = (size_t)j->s->K, M = (size_t)j->s->M;
  float *first = pack_dst(j, (size_t)b0);
  engine_populate(first, (size_t)(pack_dst(j, (size_t)b1) - first) * sizeof *first);   /* the chunk's pages */
  for (size_t bk = (size_t)b0; bk < (size_t)b1; bk++) {
    size_t g = bk / j->nb, r0 = bk % j->nb * j->step, rows = M - r0 < j->step ? M - r0 : j->step;
    const float *wg = j->w + g * M * K;
    float *ap = pack_dst(j, bk);   /* r0 / mr whole panels before it */
    if (j->fpn && j->d->unpanel)   /* from the file's panels (one group, r0 a multiple of 32) */
      j->d->unpanel(wg + r0 * K, rows, K, j->mr, j->tail, ap);
    else if (j->tail || j->fpn) /* a last panel of its own rows; from the file's panels (one group, r0 a multiple of 32) */
      f32_pack_a_tail(wg + r0 * K, rows, K, j->mr, j->tail, j->fpn ? 32 : 1, ap);
    else
      j->d->pack_a(wg + r0 * K, rows, K, j->mr, ap);
    model_release(j->e->m, wg + r0 * K, rows * K * sizeof(float));
  }
}

/* gemm_u: the weights w read as (O, K) rows where they are (the file's map, or rows made from its panels); where M is
   not a multiple of 4, each group's last panel is copied with zero rows up to one (the kernel reads rows up to
   f32_tail_rows; Winograd reads only a panel's rows, its U has the zero rows) */
__attribute__((cold, optimize("Os"))) static int build_inplace(Engine *e, OpState *s, const float *w) {
  size_t MR = (size_t)e->kf->gemm->mr, M = (size_t)s->M, K = (size_t)s->K, r0 = (M - 1) / MR * MR;
  size_t rr = (size_t)f32_tail_rows((int)(M - r0), (int)MR);
  s->wu = w;
  if (M % 4 == 0 || s->wino) return 0;
  s->a_group = rr * K;
  if (!(s->apack = engine_alloc(e, rt_mul_sat((size_t)s->groups, s->a_group) * sizeof(float)))) return -1;
  for (size_t g = 0; g < (size_t)s->groups; g++) {
    memcpy(s->apack + g * s->a_group, w + (g * M + r0) * K, (M - r0) * K * sizeof(float));
    memset(s->apack + g * s->a_group + (M - r0) * K, 0, (rr - (M - r0)) * K * sizeof(float));
  }
  return 0;
}

/* ---- Winograd's F(2x2, 3x3) and F(4x4, 3x3) (conv_wino)
   A 3x3 stride-1 convolution (padding 1, dilation 1, one group, no activation or ReLU or ReLU6) whose
   output is at least WINO_MIN_HW pixels a side runs on the kernels' Winograd transforms (F32WinoDesc),
   16 multiplies per 2x2 output tile and channel instead of 36 (F(4x4, 3x3), where the table has it: 36 per 4x4
   tile instead of 144; nx = 16 or 36 matrices below). Each thread takes its own tiles (all the
   row panels) or, with fewer than WINO_SPLIT (F(4x4): WINO4_SPLIT) tiles a thread, its own row panels (all the
   tiles); per block
   of its tiles: V = B^T d B of the block straight from the input (nx matrices of C x tiles, kept in its L2
   over the panels), then per row panel of 12 outputs the nx products M = U V (gemm_u, A in place, B read
   in place) and Y = A^T M A with the bias and the activation, straight into the output. U = G g G^T of a
   panel's weights (read in place, from the file's map): with one block a thread and one image a batch,
   made in its slot just before the panel's products; else once per forward for every panel, by each thread
   into its own slot (read from the other core's cache, a U made half by each thread cost ResNet18's 56x56
   layers ~20% more GEMM time on 2 threads than made whole by each). Blocks hold at most WINO_VBYTES of V,
   or all a thread's tiles when that is at most twice as much (one block, no shared U): the scratch stays within what the arena already holds around these
   layers (ResNet18's peak RSS unchanged). The sums differ from the direct ones by their rounding (the
   transforms'), not by batch or threads: every output's operations are fixed by its tile and the
   shape. */
enum { WINO_MIN_HW = 14, WINO_SPLIT = 64, WINO_VBYTES = 384 << 10 };
/* F(4x4, 3x3) (the table's wino4) wherever the table has it: ResNet's 56x56 and 28x28 maps (4x4 tiles cover
   them exactly) and, since 2026-12-06, its 14x14 ones (until then F(2x2), from a bound of 28 a side): in 4x4 tiles those compute 256 outputs for 196, but 16 tiles
   x 36 = 576 products a channel pair against F(2x2)'s 49 x 16 = 784, whose 49 tiles fill four 16-wide vectors of
   columns (64 lanes) and F(4x4)'s 16 one. ResNet18's 14x14 stride-1 3x3 layers at batch 1 (this Xeon, 20 images,
   fastest of 5 alternated) 0.86-0.92x their time on 2 threads and 0.89-0.90x on one (with the block of 16 tiles,
   wino_geo), ResNet50's 0.85-0.88x and 0.86-0.91x; at batch 8 0.84-1.05x (the first such layer pays the first touch
   of a larger scratch: every panel's U of 36 matrices, ResNet18's peak RSS at batch 8 75 -> 83 MiB, at batch 1 the
   same). So a table with wino4 runs no F(2x2); a table with wino and no wino4 (none yet) would */
/* F(4x4, 3x3) splits by tiles from WINO4_SPLIT tiles a thread: by rows each thread makes the whole V, and
   F(4x4)'s input transform costs 2.25x F(2x2)'s an output; ResNet's 28x28 maps at batch 1 (49 tiles) 13-17%
   faster on 2 threads by tiles (each thread making every panel's U); their 14x14 ones (then F(2x2), 49 tiles) were
   no faster so, and stay by rows (now F(4x4), 16 tiles) */
enum { WINO4_SPLIT = 24 };

typedef struct {
  size_t nx;          /* the transforms' matrices: 16 (F(2x2, 3x3)) or 36 (F(4x4, 3x3)) */
  size_t th, tw, T;   /* tile rows, tiles a row, tiles an image */
  size_t N;           /* tiles of the forward's images (image i's tile t is tile i T + t) */
  size_t tb;          /* tiles in a block: a multiple of 16, the kernels' vector of columns (F(4x4) on a 14x14 map at
                         batch 1: 16, V's rows 64 bytes apart, not 128 with half unused as in a block rounded to 32:
                         those layers 0.90-0.96x their time so); 32 where U is shared */
  int by_tiles;       /* threads split the tiles (else the row panels) */
  int shared;         /* U of every panel made once per forward, in each thread's slot (a thread has more than
                         one block, or a batch has more than one image) */
  size_t uxs, vxs, mxs; /* floats from one of the nx matrices of U (MR x C), V (C x tb), M (MR x tb) to the next:
                           each padded by 16 (a multiple of 4 KiB apart, the nx put one vector each in one set) */
  size_t per;         /* floats of a thread's slot: V (nx vxs), M (nx mxs), U of one panel (nx uxs) or, shared,
                         of every panel (P nx uxs) */
} WinoGeo;

/* 0: not Winograd; 1: F(2x2, 3x3) (the table's wino); 2: F(4x4, 3x3) (wino4) */
static int conv_wino(const Engine *e, const OpState *s, uint32_t act) {
  int ok = (e->kf->wino || e->kf->wino4) && e->kf->gemm->gemm_u && !s->linear && !s->depthwise && s->groups == 1 && s->kh == 3 && s->kw == 3 &&
           s->sh == 1 && s->sw == 1 && s->dh == 1 && s->dw == 1 && s->ph == 1 && s->pw == 1 && s->OH >= WINO_MIN_HW &&
           s->OW >= WINO_MIN_HW && (act == ACT_NONE || act == ACT_RELU || act == ACT_RELU6);
  return !ok ? 0 : e->kf->wino4 ? 2 : 1;
}
static const F32WinoDesc *wino_of(const Engine *e, const OpState *s) { return s->wino == 2 ? e->kf->wino4 : e->kf->wino; }

/* the geometry of a forward of n images (its blocks and slots as the build sized them for e->batch) */
static int wino_by_tiles(const OpState *s, size_t N, int nth) {
  return nth > 1 && N >= (size_t)nth * (s->wino == 2 ? WINO4_SPLIT : WINO_SPLIT);
}

static WinoGeo wino_geo(const Engine *e, const OpState *s, int nth, int n) {
  WinoGeo g;
  size_t C = (size_t)s->C, MR = (size_t)e->kf->gemm->mr;
  size_t ts = (size_t)wino_of(e, s)->tile;
  g.nx = (ts + 2) * (ts + 2);
  g.th = rt_cdiv((size_t)s->OH, ts), g.tw = rt_cdiv((size_t)s->OW, ts), g.T = g.th * g.tw;
  size_t Nb = g.T * (size_t)e->batch;   /* the blocks and slots: for a full batch */
  size_t t0 = wino_by_tiles(s, Nb, nth) ? rt_cdiv(Nb, (size_t)nth) : Nb, tt = rt_cdiv(t0, 16) * 16, tmax = WINO_VBYTES / (4 * g.nx * C) / 32 * 32;
  if (tmax < 32) tmax = 32;
  g.tb = tt <= 2 * tmax ? tt : tmax;
  g.shared = tt > g.tb || e->batch > 1;
  if (g.shared) g.tb = 32;   /* (block, panel) units of at most one GEMM pass each: an even split is balanced */
  g.uxs = MR * C + 16, g.vxs = C * g.tb + 16, g.mxs = MR * g.tb + 16;
  g.per = g.nx * (g.vxs + g.mxs + (g.shared ? rt_cdiv((size_t)s->M, MR) : 1) * g.uxs);
  g.N = g.T * (size_t)n, g.by_tiles = wino_by_tiles(s, g.N, nth);   /* this forward's tiles */
  return g;
}

/* the weights of row panel p, group g: packed (apack), or in place (s->wu: row stride K) */
static const float *panel_a(const Engine *e, const OpState *s, size_t g, size_t p) {
  size_t MR = (size_t)e->kf->gemm->mr, K = (size_t)s->K;
  if (!s->wu) return s->apack + g * s->a_group + p * MR * K;
  if (s->apack && (p + 1) * MR >= (size_t)s->M) return s->apack + g * s->a_group;
  return s->wu + (g * (size_t)s->M + p * MR) * K;
}

/* A GEMM's row tiles on gemm_u (output channels of a group): its panels of mr rows (panel_a), or with fpu a version-4+
   file's panels of 32 rows read in place, each as tiles of mr rows and the rest (12, 12 and 8 on AVX-512: a third of
   the tiles on the kernel's 8 rows), at ks = 32 floats a k step. No packing at start-up (ResNet50's 56x56 and
   28x28 1x1 layers: 3.3 MiB, 2.7 ms of build at batch 1 and 8 on Zen 4). Not on AVX2 (F32GemmDesc.panels_in_place
   0, 2026-12-07, Zen 3): its tiles of 6 rows (6, 6, 6, 6, 6 and 2 a panel) read 24 bytes of a 64-byte line a k step,
   where its own packed panels use whole lines. Packed, those layers ran 1.13-1.44x faster (20 images, fastest per op
   of 4-6 alternated processes, one thread): ResNet50 f32 0.94x its time on one thread and 0.96x on two, MobileNetV2
   0.96x and 0.88x (the totals carry this host's noise: another run of MobileNetV2 on one thread gave 1.10x, its other
   layers slower by chance). The packing costs start-up: a one-image process 7-15 ms more on two threads (MobileNetV2 ~23 ->
   30-36 ms, ResNet50 145-164 -> 178-195 ms, fastest of 7) */
enum { FPU_ROWS = 32 };
typedef struct { size_t r0, rows, ks; const float *a; } ATile;
static __attribute__((noinline)) size_t a_tiles(const Engine *e, const OpState *s) {
  size_t MR = (size_t)e->kf->gemm->mr, R = s->fpu ? FPU_ROWS : MR;
  return (size_t)s->M / R * rt_cdiv(R, MR) + rt_cdiv((size_t)s->M % R, MR);
}
static __attribute__((noinline)) ATile a_tile(const Engine *e, const OpState *s, size_t g, size_t p) {
  const F32GemmDesc *d = e->kf->gemm;
  size_t MR = (size_t)d->mr, R = s->fpu ? FPU_ROWS : MR, per = rt_cdiv(R, MR), q = p / per, u = p % per;
  size_t n = R - u * MR < MR ? R - u * MR : MR, r0 = q * R + u * MR, left = (size_t)s->M - r0;
  ATile t = {r0, left < n ? left : n, FPU_ROWS, NULL};
  if (s->fpu) t.a = s->tw + q * R * (size_t)s->K + u * MR;   /* (one group) */
  else t.ks = d->tail ? (size_t)f32_tail_rows((int)t.rows, (int)MR) : MR, t.a = panel_a(e, s, g, q);   /* as packed */
  return t;
}

/* A CONV2D without activation whose output only the next op reads, an ADD with another input r that no later op
   reads (not the model's input or output, not the conv's input, the same shape, float): the ADD is fused into the
   conv, which computes act_ADD((sum + bias) + r) into the ADD's output, laid on r (engine.c plans it there), as the
   ADD of the unfused output would (bit for bit), without the ADD's pass over three tensors (ResNets' every block).
   residual_next is the graph's side, both kinds' (r or TR_NONE); f32 (residual_of) where the conv's path can:
   Winograd with the ADD's activation none, ReLU or ReLU6; the implicit convolution; a GEMM of one group and one K
   chunk (one pass: the partial sums of chunks would need C). dq8: ops_q8.c build_gemm. */
/* whether an op from `from` on, other than op `except`, reads value v (the fusions' checks: residual_of, dw_fusable) */
__attribute__((cold, optimize("Os"))) static int read_elsewhere(const Model *m, uint32_t v, uint32_t from, uint32_t except) {
  for (uint32_t k = from; k < m->n_ops; k++)
    for (uint32_t q = 0; q < m->ops[k].n_in; q++)
      if (m->ops[k].in[q] == v && k != except) return 1;
  return 0;
}

__attribute__((cold, optimize("Os"))) uint32_t residual_next(const Engine *e, const Op *op, const OpState *s, int plain) {
  const Model *m = e->m;
  uint32_t i = e->cur_op;
  if (op->type != OP_CONV2D || op->act != ACT_NONE || s->depthwise || i + 1 >= m->n_ops || m->ops[i + 1].type != OP_ADD ||
      m->ops[i + 1].n_in != 2)
    return TR_NONE;
  const Op *add = &m->ops[i + 1];
  uint32_t r = add->in[0] == op->out ? add->in[1] : add->in[0], z = add->out;
  if ((add->in[0] != op->out && add->in[1] != op->out) || r == op->out || r == 0 || r == op->in[0] || op->out == m->output ||
      r == m->output || r >= m->n_values || z >= m->n_values || (plain && add->act > ACT_RELU6))
    return TR_NONE;
  const Value *vr = &m->values[r], *vz = &m->values[z], *vy = &m->values[op->out];
  if (vr->c != vy->c || vr->h != vy->h || vr->w != vy->w || vz->c != vy->c || vz->h != vy->h || vz->w != vy->w ||
      vr->dtype != DT_F32 || vz->dtype != DT_F32)
    return TR_NONE;
  if (read_elsewhere(m, op->out, 0, i + 1) || read_elsewhere(m, r, i + 2, i + 1))   /* the conv's output read by the ADD only; r
                                                                                      by no op after it */
    return TR_NONE;
  return r;
}
__attribute__((cold, optimize("Os"))) static uint32_t residual_of(const Engine *e, const Op *op, const OpState *s) {
  uint32_t r = residual_next(e, op, s, s->wino);
  if (r == TR_NONE || s->taps || s->wino) return r;
  return s->groups == 1 && gemm_kc(e, s) >= (size_t)s->K ? r : TR_NONE;
}

/* A 1x1 CONV2D on gemm_u reading its input in place (conv_direct, not gemm_t), of one group and no fused ADD, whose
   output only the next op reads, a depthwise CONV2D of channel multiplier 1 (MobileNetV2's expansions): the two run
   as one (run_dwf). Each thread takes row panels (MR output channels of one image): their planes go to its slot
   (MR planes: 602 KB at 112x112, in its L2), and the depthwise convolution of those planes follows at once, into
   that op's output. The expansion's output (MobileNetV2's 96 x 112 x 112 floats, 4.8 MB) is never stored whole:
   it had been written through L3 and read back by the depthwise op. The same kernel calls on the same values
   (gemm_u's tiles of NR columns within one image, the whole K; the depthwise kernel per plane), so the same
   outputs bit for bit. The depthwise op's output is written during the 1x1's op: engine.c's plan_with_scratch
   starts its life there, so it takes no block the 1x1 reads. dq8's and sq8's expansions too (ops_q8.c dq8_dwf, sq8_dwf). */
enum { DWF_MIN_HW = 784 };   /* maps of at least 28x28 (14x14 ones: as fast on one thread, 5-10% slower on two) */
/* the graph's side of it, every kind's: op (the one being built, of one group) writes a map of at least DWF_MIN_HW
   pixels (float; sq8: int8), not the model's output, that only the next op reads, a depthwise CONV2D of multiplier 1 */
__attribute__((cold, optimize("Os"))) int dw_next(const Engine *e, const Op *op, const OpState *s) {
  const Model *m = e->m;
  uint32_t i = e->cur_op;
  if (op->type != OP_CONV2D || s->groups != 1 || (size_t)s->OH * s->OW < DWF_MIN_HW || op->out == m->output || !dw_reads(e, op))
    return 0;
  return !read_elsewhere(m, op->out, 0, i + 1);   /* the conv's output read by the depthwise op only */
}
/* the op after op (the one being built) is a depthwise CONV2D of multiplier 1 reading op's output, both maps of the
   kind's element type (float; sq8: int8) */
__attribute__((cold, optimize("Os"))) int dw_reads(const Engine *e, const Op *op) {
  const Model *m = e->m;
  uint32_t i = e->cur_op;
  if (i + 1 >= m->n_ops || op->out >= m->n_values) return 0;
  const Op *dw = &m->ops[i + 1];
  if (dw->type != OP_CONV2D || dw->n_in < 1 || dw->in[0] != op->out || dw->out >= m->n_values) return 0;
  const Value *vx = &m->values[op->out], *vy = &m->values[dw->out];
  uint32_t dt = m->kind == KIND_SQ8 ? DT_I8 : DT_F32;   /* (sq8's maps int8) */
  return vx->dtype == dt && vy->dtype == dt && (uint32_t)dw->attr[A_CONV2D_GROUPS] == vx->c && vy->c == vx->c && vx->c >= 2;
}
__attribute__((cold, optimize("Os"))) static int dw_fusable(const Engine *e, const Op *op, const OpState *s) {
  return e->m->kind == KIND_F32 && conv_direct(e, s) && !s->tpath && !s->res && !s->wino && !s->taps && dw_next(e, op, s);
}

__attribute__((cold, optimize("Os"))) static int build_conv_own(Engine *e, const Op *op, OpState *s) {
  const Param *wp = op_param(e->m, op, P_F32_WEIGHT), *bp = op_param(e->m, op, P_F32_BIAS);
  if (s->depthwise) return 0;
  const F32GemmDesc *d = e->kf->gemm;
  size_t MR = (size_t)d->mr, PB;
  const float *w = wp->data, *b = bp ? bp->data : NULL;
  int fpn = model_f32_panels(e->m, op);   /* (one group; never Winograd-shaped, so never Winograd) */
  s->wino = conv_wino(e, s, op->act);
  s->taps = !s->wino && conv_implicit(e, s);
  if ((s->res_in = residual_of(e, op, s)) != TR_NONE) s->res = e->st[e->cur_op + 1].fused = 1;
  s->tpath = s->wino ? 0 : s->taps ? taps_t(e, s, fpn) : conv_t(e, s);
  if (dw_fusable(e, op, s)) s->dwf = e->st[e->cur_op + 1].fused = 1;
  /* implicit, not on gemm_t, from the file's panels (a map's width not a multiple of tm / 2): packed into (O, K) rows,
     which gemm_u then reads as it reads the file's */
  int inpl = s->wino || (s->taps && s->kh * s->kw > 1 && !s->tpath), rows = fpn && inpl;   /* (a 1x1 one, padded, is packed:
                                                                                               the GEMM loop) */
  /* the file's panels of 32 rows in place where the table reads them so (panels_in_place): gemm_t's (the AVX-512 table's,
     tn 32), or gemm_u's tiles (a_tile; not conv_taps') */
  s->fpu = fpn && !inpl && d->gemm_u && d->panels_in_place && (s->tpath || !s->taps);
  if ((inpl && !rows) || s->fpu) {   /* the file's rows (gemm_u) or panels, in place */
    if (s->fpu) s->tw = w;
    e->inplace_bytes += wp->nbytes;
  } else {
    int pmr = rows ? 1 : s->tpath ? d->tn : d->mr, ptail = rows || s->tpath ? 0 : d->tail;
    s->a_group = f32_packed_floats((size_t)s->M, (size_t)s->K, pmr, ptail);
    size_t alen = rt_mul_sat((size_t)s->groups, s->a_group);
    if (alen == SIZE_MAX || !(s->tw = s->apack = engine_alloc_packed(e, alen * sizeof(float)))) return -1;
    /* blocks of panels (about 256 KiB of weights each) over the pool's threads (each thread its own
       contiguous blocks), each given back to the file (model_release) once packed: the file's pages and
       the packed copy are never both resident */
    size_t K = (size_t)s->K, M = (size_t)s->M, step = rt_cdiv(rt_cdiv((size_t)1 << 16, K), (size_t)pmr) * (size_t)pmr;
    if (fpn) step = rt_cdiv(step, 96) * 96;   /* from the file's panels: blocks of whole ones (96: a multiple of 32 and of mr) */
    PackJob pj = {e, s, d, w, rt_cdiv(M, step), step, pmr, ptail, fpn};
    pool_for((long)rt_mul_sat((size_t)s->groups, pj.nb), pack_blocks, &pj);
    model_release(e->m, w, wp->nbytes);   /* the pages two blocks shared (and the panels' padding rows) */
    if (rows) w = s->wdq = s->apack, s->apack = NULL;   /* (wdq owns the rows: engine_free) */
  }
  if (inpl && build_inplace(e, s, w)) return -1;
  size_t bg = bias_group(e, s);
  if (!(s->bias = engine_alloc(e, (size_t)s->groups * bg * sizeof(float)))) return -1;
  for (int g = 0; g < s->groups; g++)
    for (size_t r = 0; r < bg; r++) s->bias[(size_t)g * bg + r] = (b && r < (size_t)s->M) ? b[(size_t)g * s->M + r] : 0.0f;
  if (b) engine_release(e, b, (size_t)s->O * sizeof(float));
  /* the packed tiles of one K chunk that gemm_group holds at once (not the whole K x N matrix) */
  if (s->wino) { /* a slot per thread; or one, larger, for a run on one thread (a lane, engine.c) */
    WinoGeo wg = wino_geo(e, s, pool_threads(), e->batch), w1 = wino_geo(e, s, 1, e->batch);
    size_t slots = rt_mul_sat((size_t)pool_threads(), wg.per);
    engine_need(e, SCRATCH_0, rt_mul_sat(slots > w1.per ? slots : w1.per, sizeof(float)));
    return 0;
  }
  if (s->dwf) { /* a slot of MR planes per thread */
    engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat((size_t)pool_threads() * MR, (size_t)s->OH * s->OW), sizeof(float)));
    return 0;
  }
  if (conv_direct(e, s)) return 0; /* the kernel reads the input in place: no scratch */
  if (conv_sub(e, s)) { /* the batch's subsampled input */
    size_t el = rt_mul_sat(rt_mul_sat((size_t)e->batch, (size_t)s->C), (size_t)s->OH * s->OW);
    engine_need(e, SCRATCH_0, rt_mul_sat(el, sizeof(float)));
    return 0;
  }
  if (s->taps) { /* the taps' offsets; the padded planes of the batch */
    size_t nt = (size_t)s->kh * s->kw;
    if (!(s->boff = engine_alloc(e, nt * sizeof *s->boff))) return -1;
    TapsGeo tg = taps_geo(s, e->batch, (size_t)e->kf->gemm->nr);
    for (size_t t = 0; t < nt; t++)
      s->boff[t] = rt_phase_offset(t / (size_t)s->kw * (size_t)s->dh, t % (size_t)s->kw * (size_t)s->dw, (size_t)s->sh,
                                   (size_t)s->sw, tg.phase, tg.wq);
    size_t f = taps_planes(e, s, &tg);   /* and taps_packs' slot per thread */
    if (taps_packs(e, s)) f = rt_add_sat(f, rt_mul_sat((size_t)pool_threads(), rt_mul_sat((size_t)s->K, (size_t)d->nr)));
    engine_need(e, SCRATCH_0, rt_mul_sat(f, sizeof(float)));
    return 0;
  }
  size_t T = rt_cdiv(rt_mul_sat((size_t)e->batch, (size_t)s->OH * s->OW), (size_t)d->nr);
  size_t tiles = gemm_plan(T, a_tiles(e, s), pool_threads(), &PB);
  engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat(tiles, pack_kc(e, s) * (size_t)d->nr), sizeof(float)));
  return 0;
}

typedef struct {  /* one K chunk of one group's GEMM */
  int g, n, c0;   /* the group, the images, the group's first input channel */
  size_t k0, kc;  /* rows [k0, k0 + kc) of the K x N matrix */
  uint32_t act;   /* the op's activation (the last chunk applies it, and the bias) */
  int res;        /* a residual ADD fused (one chunk): act((sum + bias) + out) */
  const float *in; /* direct: the input, read in place by the kernel's gemm_u (no packing); else NULL */
} Chunk;

/* im2col rows [k0, k0 + kc) of the tile from column j0 on that is not one copy per row: the tile in
   runs of columns on one output row of one image; per (ci, ky, kx) a run reads one input row at
   stride sw: a memcpy when it lies inside the row, else checked */
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
static void pack_runs(const OpState *s, size_t NR, const float *in, const Chunk *ck, size_t j0, float *dst) {
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, N = (size_t)ck->n * OHW, img = (size_t)s->C * HW;
  const float *rbase[F32_MAX_NR];
  long riy[F32_MAX_NR], rix[F32_MAX_NR];
  int rj[F32_MAX_NR], rlen[F32_MAX_NR], nr = 0, cols = N - j0 < NR ? (int)(N - j0) : (int)NR, khw = s->kh * s->kw;
  for (int j = 0; j < cols;) {
    size_t col = j0 + (size_t)j, p = col % OHW, oy = p / s->OW, ox = p % s->OW;
    int len = s->OW - (int)ox < cols - j ? s->OW - (int)ox : cols - j;
    rbase[nr] = in + (col / OHW) * img + (size_t)ck->c0 * HW;
    riy[nr] = (long)oy * s->sh - s->ph, rix[nr] = (long)ox * s->sw - s->pw, rj[nr] = j, rlen[nr] = len;
    nr++, j += len;
  }
  for (size_t kk = ck->k0; kk < ck->k0 + ck->kc; kk++) {
    int ci = (int)(kk / (size_t)khw), ky = (int)(kk % (size_t)khw) / s->kw, kx = (int)(kk % (size_t)khw) % s->kw;
    float *d = dst + (kk - ck->k0) * NR;
    for (int r = 0; r < nr; r++) {
      float *dr = d + rj[r];
      long iy = riy[r] + (long)ky * s->dh, ix = rix[r] + (long)kx * s->dw;
      if (iy < 0 || iy >= s->H) {
        rt_fzero(dr, (size_t)rlen[r]);
        continue;
      }
      const float *row = rbase[r] + (size_t)ci * HW + (size_t)iy * s->W;
      if (ix >= 0 && ix + (long)(rlen[r] - 1) * s->sw < s->W) { /* inside the row: no check per element */
        if (s->sw == 1) rt_fcopy(dr, row + ix, (size_t)rlen[r]);
        else if (s->sw == 2) /* a constant stride: vectorised */
          for (int j = 0; j < rlen[r]; j++) dr[j] = row[ix + 2 * j];
        else
          for (int j = 0; j < rlen[r]; j++) dr[j] = row[ix + (long)j * s->sw];
        continue;
      }
      /* across an edge (padding): zeros, the columns inside [jlo, jhi), zeros */
      long n = rlen[r], jlo = ix < 0 ? (-ix + s->sw - 1) / s->sw : 0, jhi = ix >= s->W ? 0 : (s->W - 1 - ix) / s->sw + 1;
      if (jlo > n) jlo = n;
      if (jhi > n) jhi = n;
      if (jhi < jlo) jhi = jlo;
      for (long j = 0; j < jlo; j++) dr[j] = 0.0f;
      if (s->sw == 1 && jhi > jlo)
        rt_fcopy(dr + jlo, row + ix + jlo, (size_t)(jhi - jlo));
      else if (s->sw == 2)
        for (long j = jlo; j < jhi; j++) dr[j] = row[ix + 2 * j];
      else
        for (long j = jlo; j < jhi; j++) dr[j] = row[ix + j * s->sw];
      for (long j = jhi; j < n; j++) dr[j] = 0.0f;
    }
    if ((size_t)cols < NR) memset(d + cols, 0, (NR - (size_t)cols) * sizeof(float));
  }
}

/* im2col of rows [k0, k0 + kc) of one tile: dst[kk - k0][j] for column t*NR + j of the K x N matrix
   (N = n*OH*OW, column = image * OH*OW + pixel), channels c0.. of the input; zero for padding and
   for j >= N. A 1x1 convolution's full tile within one image is one copy per row. */
static void pack_tile(const OpState *s, int nr_, const float *in, const Chunk *ck, size_t t, float *dst) {
  const size_t NR = (size_t)nr_, HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, j0 = t * NR;
  int direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0;
  if (!direct || j0 + NR > (size_t)ck->n * OHW || j0 / OHW != (j0 + NR - 1) / OHW) {
    pack_runs(s, NR, in, ck, j0, dst);
    return;
  }
  const float *src = in + (j0 / OHW) * s->C * HW + ((size_t)ck->c0 + ck->k0) * HW + j0 % OHW;
  if (NR == 32) /* the common tiles as constant-size copies (inlined), not memcpy calls */
    for (size_t kk = 0; kk < ck->kc; kk++) memcpy(dst + kk * 32, src + kk * HW, 32 * sizeof(float));
  else if (NR == 16)
    for (size_t kk = 0; kk < ck->kc; kk++) memcpy(dst + kk * 16, src + kk * HW, 16 * sizeof(float));
  else
    for (size_t kk = 0; kk < ck->kc; kk++) memcpy(dst + kk * NR, src + kk * HW, NR * sizeof(float));
}

static const float g_zero_bias[F32_MAX_MR];
static const ptrdiff_t g_off0[1];

/* column tile t of a chunk: its B (direct: the input in place, ldb OHW; else its packed chunk bpt, ldb NR), its columns,
   and where they start, column j of image im's planes (one: all of them in image im) */
typedef struct { const float *b; size_t ldb, cols, im, j; int one; } TileB;
static TileB tile_b(const OpState *s, const Chunk *ck, size_t NR, size_t t, const float *bpt) {
  size_t OHW = (size_t)s->OH * s->OW, N = (size_t)ck->n * OHW;
  TileB r;
  if (ck->in) { /* direct: tile t is columns j.. of one image */
    size_t tpi = rt_cdiv(OHW, NR);
    r.im = t / tpi, r.j = t % tpi * NR, r.cols = OHW - r.j < NR ? OHW - r.j : NR, r.ldb = OHW, r.one = 1;
    r.b = ck->in + (r.im * (size_t)s->C + (size_t)ck->c0 + ck->k0) * OHW + r.j;
  } else {
    size_t j0 = t * NR;
    r.cols = N - j0 < NR ? N - j0 : NR, r.im = j0 / OHW, r.j = j0 % OHW, r.ldb = NR, r.b = bpt;
    r.one = r.im == (j0 + r.cols - 1) / OHW;
  }
  return r;
}

/* the chunk's epilogue: the last chunk adds the bias and applies the activation; acc as gemm_u's */
typedef struct { int last, act, acc; } ChunkEpi;
static ChunkEpi chunk_epi(const OpState *s, const Chunk *ck) {
  int last = ck->k0 + ck->kc >= (size_t)s->K;
  ChunkEpi r = {last, last ? (int)ck->act : ACT_NONE, ck->res ? F32_ACC_RES : ck->k0 > 0};
  return r;
}

/* C (+)= the chunk's A·B for row panel p x column tile t (b: its packed chunk, or in direct mode the
   input in place); the first chunk starts the sum, the last adds the bias and applies the activation.
   A tile within one image goes straight to C through the kernel's gemm_u when it has one (edge tiles
   computing only their rows and columns); one across two images (or any edge tile without gemm_u)
   through tmp, and between chunks its sum lives in C. A fused residual ADD (ck->res, one chunk): gemm_u's
   F32_ACC_RES; without gemm_u, the sum + bias in tmp, then act(tmp + C) (the ADD kernel's, within one image). */
static void gemm_tile(const Engine *e, const OpState *s, const Chunk *ck, float *out, const ATile *at_, const TileB *tb_,
                      ChunkEpi ep, const float *bias) {
  size_t OHW = (size_t)s->OH * s->OW, img = (size_t)s->O * OHW;
  const F32GemmDesc *d = e->kf->gemm;
  const size_t MR = (size_t)d->mr, NR = (size_t)d->nr;
  const ATile at = *at_;
  const TileB tb = *tb_;
  size_t r0 = at.r0, rows = at.rows, cols = tb.cols, ldb = tb.ldb, im = tb.im, j0 = im * OHW + tb.j;
  const float *a = at.a + ck->k0 * at.ks;
  int act = ep.act, acc = ep.acc, one = tb.one;
  float *c = out + im * img + ((size_t)ck->g * s->M + r0) * OHW + tb.j;
  const float *b = tb.b;
  if (one && d->gemm_u) { /* within one image */
    d->gemm_u(ck->kc, 1, g_off0, a, 1, at.ks, b, ldb, c, OHW, (int)rows, (int)cols, bias, act, acc);
    return;
  }
  if (one && rows == MR && cols == NR && !ck->res) {   /* (without gemm_u, B is always packed: ldb NR) */
    d->gemm(ck->kc, a, b, c, OHW, bias, act, acc);
    return;
  }
  /* gemm only, a fused ADD: the sum + bias in tmp, then out = act(tmp + out), by rows within one image */
  int late = ck->res && !d->gemm_u;
  float tmp[F32_MAX_MR * F32_MAX_NR] = {0};
  for (size_t j = 0; j < cols && acc && !late; j++) {
    const float *cj = out + ((j0 + j) / OHW) * img + ((size_t)ck->g * s->M + r0) * OHW + (j0 + j) % OHW;
    for (size_t r = 0; r < rows; r++) tmp[r * NR + j] = cj[r * OHW];
  }
  if (d->gemm_u)
    d->gemm_u(ck->kc, 1, g_off0, a, 1, at.ks, b, ldb, tmp, NR, (int)rows, (int)cols, bias, act, acc);
  else
    d->gemm(ck->kc, a, b, tmp, NR, bias, late ? ACT_NONE : act, late ? 0 : acc);
  if (late && one) {
    for (size_t r = 0; r < rows; r++) e->kf->add(tmp + r * NR, c + r * OHW, c + r * OHW, cols, act);
    return;
  }
  for (size_t j = 0; j < cols; j++) {
    float *cj = out + ((j0 + j) / OHW) * img + ((size_t)ck->g * s->M + r0) * OHW + (j0 + j) % OHW;
    for (size_t r = 0; r < rows; r++) cj[r * OHW] = late ? act_f32(tmp[r * NR + j] + cj[r * OHW], act) : tmp[r * NR + j];
  }
}

/* row panels [p0, p1) x column tiles [t0, t1) of one chunk; bp holds the tiles' packed chunks from t0 on. A tile of at
   most 2 columns within one image (each image's last in direct mode, the batch's last packed: a 7x7 map's 49th, a
   LINEAR's one image) goes to the kernel's gemm_cols where it has one: per CP panels, their other tiles, then those
   tails over the whole panels among them (a last panel of fewer rows by gemm_tile). gemm_u's half tile took such a tail
   as 6 chains of one FMA a k step: on Zen 3 (FMA latency 4 cycles) 4.9 TSC cycles a panel's k step for one column,
   where 16 columns took 5.8; gemm_cols 0.9 */
static int tail_of(TileB tb) { return tb.cols <= 2 && tb.one; }
static void gemm_block(const Engine *e, const OpState *s, const Chunk *ck, float *out, size_t p0, size_t p1, size_t t0,
                       size_t t1, const float *bp) {
  enum { CP = 8 };
  const F32GemmDesc *d = e->kf->gemm;
  size_t NR = (size_t)d->nr, MR = (size_t)d->mr, P = rt_cdiv((size_t)s->M, MR), g = (size_t)ck->g, OHW = (size_t)s->OH * s->OW;
  if (t1 - t0 > TB) {   /* (the callers' blocks are at most TB tiles) */
    gemm_block(e, s, ck, out, p0, p1, t0, t0 + TB, bp);
    gemm_block(e, s, ck, out, p0, p1, t0 + TB, t1, bp ? bp + TB * ck->kc * NR : NULL);
    return;
  }
  /* the block's tiles (tile_b), the chunk's epilogue and the group's bias once, each panel's rows (a_tile) once a panel:
     not per (panel, tile), their divisions (a tile's image and column, a panel's rows, the panels) in the loop of tiles of
     ~400 cycles (K 64) */
  TileB tbs[TB];
  int tails = 0;
  for (size_t t = t0; t < t1; t++) {
    tbs[t - t0] = tile_b(s, ck, NR, t, ck->in ? NULL : bp + (t - t0) * ck->kc * NR);
    tails |= d->gemm_cols && !s->fpu && !s->wu && tail_of(tbs[t - t0]);
  }
  const ChunkEpi ep = chunk_epi(s, ck);
  const float *bias = s->bias + g * P * MR;   /* the group's (the last chunk's; the others add zeros) */
  for (size_t q0 = p0; q0 < p1; q0 += CP) {
    size_t q1 = q0 + CP < p1 ? q0 + CP : p1, qf = !tails ? q0 : q1 < P || (size_t)s->M % MR == 0 ? q1 : q1 - 1;   /* [q0, qf): whole */
    for (size_t p = q0; p < q1; p++) {
      const ATile at = a_tile(e, s, g, p);
      const float *bp_ = ep.last ? bias + at.r0 : g_zero_bias;
      for (size_t t = t0; t < t1; t++)
        if (p >= qf || !tail_of(tbs[t - t0])) gemm_tile(e, s, ck, out, &at, &tbs[t - t0], ep, bp_);
    }
    for (size_t t = t0; t < t1 && qf > q0; t++) {
      const TileB tb = tbs[t - t0];
      if (!tail_of(tb)) continue;
      const ATile at = a_tile(e, s, g, q0);
      d->gemm_cols(ck->kc, at.a + ck->k0 * MR, MR * (size_t)s->K, qf - q0, tb.b, tb.ldb,
                   out + tb.im * (size_t)s->O * OHW + (g * (size_t)s->M + at.r0) * OHW + tb.j, OHW, (int)tb.cols,
                   ep.last ? bias + at.r0 : NULL, ep.act, ep.acc);
    }
  }
}

/* one group's GEMM over the threads (gemm_group): its arguments and its split */
typedef struct {
  const Engine *e;
  const OpState *s;
  const float *in;
  float *out;
  Chunk ck;             /* the group, images, activation */
  size_t T, P, PB, kc;  /* column tiles, row panels, PB == P: split by tiles (else by panels), the chunk length */
  int threads;          /* the threads that work (the scratch has their slots) */
  PoolShare *sh;        /* gemm_by_thread's tile ranges as stealable shares (threads of them), or NULL */
} GemmJob;

/* tiles [t0, tz) of every row panel, TB at a time (and per K chunk: packed into bp unless B is read in place) */
static void gemm_tiles(const GemmJob *j, float *bp, size_t t0, size_t tz) {
  size_t K = (size_t)j->s->K, NR = (size_t)j->e->kf->gemm->nr;
  Chunk ck = j->ck;
  for (; t0 < tz; t0 += TB) {
    size_t t1 = t0 + TB < tz ? t0 + TB : tz;
    for (ck.k0 = 0; ck.k0 < K; ck.k0 += j->kc) {
      ck.kc = K - ck.k0 < j->kc ? K - ck.k0 : j->kc;
      for (size_t t = t0; t < t1 && !ck.in; t++) pack_tile(j->s, (int)NR, j->in, &ck, t, bp + (t - t0) * ck.kc * NR);
      gemm_block(j->e, j->s, &ck, j->out, 0, j->P, t0, t1, bp);
    }
  }
}

/* each thread its own contiguous range of tiles (ceil or floor of T/threads), TB at a time; per block
   and K chunk it packs the tiles into its own TB slots and multiplies every row panel by them while
   they are in its cache. So each thread also computes the same share of the pixels in every layer and
   mostly reads (im2col) what it wrote itself, which matters when the cores share no cache. The ranges are
   stealable shares (j->sh, pool.h): each in up to 8 chunks taken in order, and a thread done with its own takes
   chunks from the end of the others' (into its own slots), so a thread slower than the other (a vCPU whose host
   core is busy, a little core) gives up the end of its range instead of holding the op up; each tile is the same
   kernel calls whichever thread makes it (c/README.md, "Stealable tiles at batch 1") */
static void gemm_by_thread(void *arg, int id_, int nth_) {
  const GemmJob *j = arg;
  (void)nth_;
  if (id_ >= j->threads) return;
  size_t id = (size_t)id_, nth = (size_t)j->threads, NR = (size_t)j->e->kf->gemm->nr;
  float *bp = j->ck.in ? NULL : (float *)j->e->scratch[SCRATCH_0] + id * TB * j->kc * NR;
  long b = (long)(j->T * id / nth), e = (long)(j->T * (id + 1) / nth);
  for (int d = 0; pool_share_own(j->sh, j->threads, id_, &d, &b, &e);) gemm_tiles(j, bp, (size_t)b, (size_t)e);
}

/* few tiles: each thread its own contiguous range of row panels times all the tiles; per K chunk it
   packs all T tiles itself, into its own T slots (see gemm_plan) */
static void gemm_by_panels(void *arg, int id_, int nth_) {
  const GemmJob *j = arg;
  (void)nth_;
  if (id_ >= j->threads) return;
  size_t id = (size_t)id_, nth = (size_t)j->threads, K = (size_t)j->s->K, NR = (size_t)j->e->kf->gemm->nr;
  size_t p0 = j->P * id / nth, p1 = j->P * (id + 1) / nth;
  float *bp = j->ck.in ? NULL : (float *)j->e->scratch[SCRATCH_0] + id * j->T * j->kc * NR;
  Chunk ck = j->ck;
  if (p0 >= p1) return;
  for (ck.k0 = 0; ck.k0 < K; ck.k0 += j->kc) {
    ck.kc = K - ck.k0 < j->kc ? K - ck.k0 : j->kc;
    for (size_t t = 0; t < j->T && !ck.in; t++) pack_tile(j->s, (int)NR, j->in, &ck, t, bp + t * ck.kc * NR);
    for (size_t t0 = 0; t0 < j->T; t0 += TB)
      gemm_block(j->e, j->s, &ck, j->out, p0, p1, t0, t0 + TB < j->T ? t0 + TB : j->T, bp ? bp + t0 * ck.kc * NR : NULL);
  }
}

/* out[img][g*M + o][pix] = act(A·B + bias) for one group, all n images, K in chunks of at most KC_MAX (B read
   in place: kc_direct). The plan is that of the most threads (up to the pool's) whose packed tiles fit the scratch
   the build sized (the thread count may have grown since). A LINEAR of one image reads its input in place too
   (the K x 1 matrix B is the input, row stride one float, one column: gemm_u's masked loads; it depends on the
   forward's n, so the build sizes the packed path's scratch all the same): packed, its one tile of NR columns
   wrote K x NR floats a call (MobileNetV2's 1280 x 10 took 23-28 us an image on one thread, now 6-7; the same
   sums, bit for bit) */
static void gemm_group(const Engine *e, const OpState *s, const float *in, int g, int n, float *out, uint32_t act, int res) {
  int direct = b_in_place(e, s) || (s->linear && n == 1 && e->kf->gemm->gemm_u);
  size_t NR = (size_t)e->kf->gemm->nr, kc = direct ? kc_direct((size_t)s->K) : pack_kc(e, s);
  GemmJob j = {.e = e, .s = s, .in = in, .out = out, .ck = {g, n, g * (s->C / s->groups), 0, 0, act, res, direct ? in : NULL},
               .T = col_tiles(s, direct, NR, n), .P = a_tiles(e, s), .kc = kc,
               .threads = pool_threads()};
  size_t slots = e->scratch_bytes[SCRATCH_0] / (kc * NR * sizeof(float));
  if (j.T * j.P == 1) j.threads = 1; /* one tile (a LINEAR at batch 1): no fork/join */
  while (!direct && j.threads > 1 && gemm_plan(j.T, j.P, j.threads, &j.PB) > slots) j.threads--;
  gemm_plan(j.T, j.P, j.threads, &j.PB);
  if (j.threads == 1)
    gemm_by_thread(&j, 0, 1);
  else if (j.PB == j.P) {
    PoolShare sh[POOL_STEAL_MAX];   /* thread i's tiles [T i / threads, T (i + 1) / threads), stealable */
    if (pool_shares_even(sh, (long)j.T, j.threads)) j.sh = sh;
    pool_run(gemm_by_thread, &j);
  } else
    pool_run(gemm_by_panels, &j);
}

/* ---- the implicit convolution (conv_implicit) */

typedef struct {
  const Engine *e;
  const OpState *s;
  const float *in; /* the op's input; its padded planes are xp (SCRATCH_0), g.chan floats per channel */
  float *xp, *out;
  TapsGeo g;
  int n;
  uint32_t act;
  int res;         /* a residual ADD fused (gemm_u's F32_ACC_RES) */
  size_t T, P, PB; /* column tiles (per image: ceil(flat / NR)), row panels, the split (gemm_plan) */
  int threads;
  float *bp;       /* taps_packs with the split by tiles: thread i's tile of K x NR floats at bp + i K NR; else NULL */
  PoolShare *sh;   /* then thread i's tiles [T i / threads, T (i + 1) / threads) as stealable shares, or NULL */
} TapsJob;

/* d[i] = x[i * sw], i < n (stride 2, the common one, a constant: vectorised); taps_pad's phase rows and
   sub_planes' rows */
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
static void copy_strided(float *d, const float *x, size_t n, size_t sw) {
  if (sw == 2)
    for (size_t i = 0; i < n; i++) d[i] = x[2 * i];
  else
    for (size_t i = 0; i < n; i++) d[i] = x[i * sw];
}

/* row i of channel x's phase plane ph (phase (ph / sw, ph % sw): padded rows a, a + sh, .., columns b, b + sw, ..) into
   r, Wq floats: the input row's columns copied, its pads zeroed, all zeros for a row outside the input; each float
   written once (a memset of the whole plane first: MobileNetV2's stem's 12 planes 43 -> 33 us on one thread) */
static inline void phase_row(const OpState *s, const float *x, size_t ph, size_t i, size_t Wq, float *r) {
  long a = (long)(ph / (size_t)s->sw), ix0 = (long)(ph % (size_t)s->sw) - s->pw, sw = s->sw, W = s->W;
  long lo = ix0 < 0 ? (-ix0 + sw - 1) / sw : 0, hi = W - ix0 <= 0 ? 0 : (W - ix0 + sw - 1) / sw;   /* inside: [lo, hi) */
  long iy = (long)i * s->sh + a - s->ph;   /* the input row */
  if (hi > (long)Wq) hi = (long)Wq;
  if (iy < 0 || iy >= s->H || lo >= hi) {
    rt_fzero(r, Wq);
    return;
  }
  rt_fzero(r, (size_t)lo);
  copy_strided(r + lo, x + iy * W + ix0 + lo * sw, (size_t)(hi - lo), (size_t)sw);   /* from lo */
  rt_fzero(r + hi, Wq - (size_t)hi);
}

/* padded planes [q0, q1). Stride 1: channels (q: image q / C, channel q % C), zeros around the input's
   rows. Strided: a channel's phase planes in sh*sw bands of rows (q / (sh*sw) = image * C + channel, band
   q % (sh*sw): the band's rows of every phase plane), the last band with the planes' tails and the channel's
   slack. By bands, a thread's share reads a contiguous run of the input: the one the CLI's reader (split the
   same way) or the op before it wrote on that core. By phase planes, each thread read rows from the whole
   channel: MobileNetV2's stem's planes took 32 us a share on two threads and 35 us on one (on two threads,
   70 us all on one of them: half of the image in the other core's cache) */
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
static void taps_pad(void *arg, long q0, long q1) {
  const TapsJob *j = arg;
  const OpState *s = j->s;
  const TapsGeo *g = &j->g;
  size_t Wq = g->wq, W = (size_t)s->W, HW = (size_t)s->H * W, pw = (size_t)s->pw, nph = (size_t)s->sh * s->sw;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    size_t ch = q / nph, band = q % nph;
    float *d = j->xp + ch * g->chan;
    const float *x = j->in + ch * HW;
    if (nph == 1) {
      size_t top = (size_t)s->ph * Wq;
      rt_fzero(d, top + pw); /* the top rows and the first row's left padding */
      d += top + pw;
      for (size_t y = 0; y < (size_t)s->H; y++, d += Wq, x += W) {
        rt_fcopy(d, x, W);
        rt_fzero(d + W, Wq - W); /* this row's right padding and the next row's left */
      }
      /* the bottom rows (less the left padding written above), the wrap and the slack */
      memset(d, 0, (g->chan - top - pw - (size_t)s->H * Wq) * sizeof(float));
      continue;
    }
    size_t i0 = g->hq * band / nph, i1 = g->hq * (band + 1) / nph;   /* the band's rows of each phase plane */
    for (size_t ph = 0; ph < nph; ph++) {
      float *pl = d + ph * g->phase;
      for (size_t i = i0; i < i1; i++) phase_row(s, x, ph, i, Wq, pl + i * Wq);
      if (band + 1 == nph) memset(pl + g->hq * Wq, 0, (g->phase - g->hq * Wq) * sizeof(float));
    }
    if (band + 1 == nph) memset(d + nph * g->phase, 0, (g->chan - nph * g->phase) * sizeof(float));
  }
}

/* the valid columns (ow < OW) of a tile's flat columns [f0, f0 + cols), rows < rows, in runs of consecutive
   outputs: from tmp (ldc NR) to the output planes o, or (in) from o to tmp */
static void taps_runs(const OpState *s, size_t Wp, size_t NR, size_t rows, size_t f0, size_t cols, float *o, float *tmp, int in) {
  size_t OHW = (size_t)s->OH * s->OW;
  for (size_t f = f0; f < f0 + cols;) {
    size_t oh = f / Wp, ow = f % Wp;
    if (ow >= (size_t)s->OW) { /* padding columns: to the next row */
      f = (oh + 1) * Wp;
      continue;
    }
    size_t len = (size_t)s->OW - ow < f0 + cols - f ? (size_t)s->OW - ow : f0 + cols - f;
    for (size_t r = 0; r < rows; r++) {
      float *po = o + r * OHW + oh * s->OW + ow, *pt = tmp + r * NR + (f - f0);
      rt_fcopy(in ? pt : po, in ? po : pt, len);
    }
    f += len;
  }
}

/* column tile t's geometry (all of it the same for every row panel and group): image im, its flat columns from f0, of
   which cols are computed; x: where its B starts in the batch's padded planes (less the group's channels); o: its
   first output in an image's plane (oh * OW + ow); inrow: within one output row (computed in place, else through
   taps_tile's temporary); skip: padding columns only (rows of whole tiles) */
typedef struct { size_t im, f0, cols, x, o; int inrow, skip; } TapsCol;
static TapsCol taps_col(const TapsJob *j, size_t t) {
  const OpState *s = j->s;
  const size_t NR = (size_t)j->e->kf->gemm->nr, Wp = j->g.wq, F = j->g.flat, OW = (size_t)s->OW, Ti = rt_cdiv(F, NR);
  TapsCol c = {.im = t / Ti, .f0 = t % Ti * NR};
  size_t ow = c.f0 % Wp;
  c.cols = F - c.f0 < NR ? F - c.f0 : NR;
  if (Wp % NR == 0) {   /* rows of whole tiles (taps_geo): a tile is one row's, its columns up to OW */
    c.skip = ow >= OW;
    if (!c.skip && ow + c.cols > OW) c.cols = OW - ow;
  }
  c.x = c.im * (size_t)s->C * j->g.chan + c.f0, c.o = c.f0 / Wp * OW + ow, c.inrow = ow + c.cols <= OW;
  return c;
}

/* a tile's B: in place on the padded planes (k channels of nt taps at boff, rows ldb apart), or its packed copy
   (taps_pack: k = K rows of NR, one tap) */
typedef struct { const float *x; size_t k, nt, ldb; const ptrdiff_t *boff; } TapsB;
static TapsB taps_b(const TapsJob *j, size_t g, size_t cg, const TapsCol *tc) {
  TapsB b = {j->xp + tc->x + g * cg * j->g.chan, cg, (size_t)j->s->kh * j->s->kw, j->g.chan, j->s->boff};
  return b;
}

/* a tile across output rows (taps_tile's): the sum into an aligned temporary (ldc NR) whose valid columns (ow < OW)
   are copied out in runs of consecutive outputs (and in first, with a fused ADD: the other input). Its own function:
   the temporary (4 KiB) and the copies kept out of the in-place tiles' frame */
static __attribute__((noinline)) void taps_tile_tmp(const TapsJob *j, const float *a, size_t lda, size_t ks, const TapsB *tb,
                                                    float *o, size_t rows, const TapsCol *tc, const float *bias) {
  const OpState *s = j->s;
  const F32GemmDesc *d = j->e->kf->gemm;
  const size_t NR = (size_t)d->nr;
  float tmp[F32_MAX_MR * F32_MAX_NR] __attribute__((aligned(64)));
  if (j->res) taps_runs(s, j->g.wq, NR, rows, tc->f0, tc->cols, o, tmp, 1);
  d->gemm_u(tb->k, tb->nt, tb->boff, a, lda, ks, tb->x, tb->ldb, tmp, NR, (int)rows, (int)tc->cols, bias, (int)j->act,
            j->res ? F32_ACC_RES : 0);
  taps_runs(s, j->g.wq, NR, rows, tc->f0, tc->cols, o, tmp, 0);
}

/* output tile (row panel p of group g, column tile tc, its B tb): the sum over taps (gemm_u) with the bias and the
   activation, in place when the tile lies within one output row, else through taps_tile_tmp. The weights in place
   (K in the file's (channel, tap) order), or a padded 1x1's packed */
static inline void taps_tile(const TapsJob *j, size_t g, size_t p, const TapsCol *tc, const TapsB *tb) {
  const OpState *s = j->s;
  const F32GemmDesc *d = j->e->kf->gemm;
  const size_t MR = (size_t)d->mr, OHW = (size_t)s->OH * s->OW;
  size_t r0 = p * MR, rows = (size_t)s->M - r0 < MR ? (size_t)s->M - r0 : MR;
  size_t lda = s->wu ? (size_t)s->K : 1, ks = s->wu ? 1 : (size_t)f32_tail_rows((int)rows, (int)MR);
  const float *a = panel_a(j->e, s, g, p), *bias = s->bias + g * j->P * MR + r0;
  float *o = j->out + (tc->im * (size_t)s->O + g * (size_t)s->M + r0) * OHW;
  if (!tc->inrow) {
    taps_tile_tmp(j, a, lda, ks, tb, o, rows, tc, bias);
    return;
  }
  d->gemm_u(tb->k, tb->nt, tb->boff, a, lda, ks, tb->x, tb->ldb, o + tc->o, OHW, (int)rows, (int)tc->cols, bias, (int)j->act,
            j->res ? F32_ACC_RES : 0);
}

/* row panels [p0, p1) x column tiles [t0, t1) of every group, TB tiles at a time (a row panel's
   weights are read once per TB tiles, which stay in cache across the panels). But a strided one of K >= TAPS_T_K
   (ResNets' 3x3 stride-2 layers) tile by tile, each over all the panels: its tile reads 4 phase planes of each
   channel (~0.8 KiB a channel: 100-400 KiB at 128-512 channels), which so stays in L2 across the panels, where TB
   tiles (0.8-3 MiB) were read again for each panel. Zen 3 (2026-12-07, each op's time over the same process's other
   ops, median of 14 processes alternated): ResNet50's 0.96x, 0.85-0.91x and 1.00x their time (28x28, 14x14 and 7x7
   outputs; one and two threads), ResNet18's 0.97-0.98x, 0.93x and 0.97-0.99x; its stem (K 147) 1.11-1.22x: not there.
   Chunks of K (16-64 channels, the sums kept between them) were no faster than K whole; stride 1 (7x7 maps) no faster */
enum { TAPS_T_K = 256 };
static int taps_by_tile(const OpState *s) { return (s->sh > 1 || s->sw > 1) && s->K >= TAPS_T_K; }

/* such a layer's tiles packed (the table's taps_pack, one group, weights in place): each tile's K rows of NR columns
   copied from the phase planes (a channel's taps, 64 bytes each from 4 planes) into the thread's slot, then every
   panel's gemm_u on that copy as on a 1x1's packed tile (one tap: the same sums in the same order, the same floats).
   In place, a k step's 16 floats straddle two lines at each tap's offset; packed, they are one aligned line */
static int taps_packs(const Engine *e, const OpState *s) {
  return e->kf->gemm->taps_pack && taps_by_tile(s) && s->groups == 1 && s->wu && !s->tpath;
}

/* tile tc's K x NR packed B (taps_packs) at bp: row (c, t) = its cols columns at tap t's offset in channel c's planes */
static void taps_pack(const TapsJob *j, const TapsCol *tc, float *bp) {
  const OpState *s = j->s;
  size_t nt = (size_t)s->kh * s->kw, cg = (size_t)s->K / nt, NR = (size_t)j->e->kf->gemm->nr, n = tc->cols;
  const float *x = j->xp + tc->x;
  for (size_t c = 0; c < cg; c++, x += j->g.chan)
    for (size_t t = 0; t < nt; t++, bp += NR)
      if (n == 16) memcpy(bp, x + s->boff[t], 16 * sizeof(float));   /* (AVX2's whole tile: two moves, not a call) */
      else memcpy(bp, x + s->boff[t], n * sizeof(float));
}

/* bp: this thread's packed tile (taps_packs: by tiles), or NULL (B in place) */
static void taps_block(const TapsJob *j, size_t p0, size_t p1, size_t t0, size_t t1, float *bp) {
  const OpState *s = j->s;
  int by_tile = taps_by_tile(s);
  size_t cg = (size_t)s->K / ((size_t)s->kh * s->kw);
  for (size_t tb = t0; tb < t1; tb += TB) {
    size_t te = tb + TB < t1 ? tb + TB : t1;
    TapsCol tcs[TB];   /* the block's tiles once, not per (panel, tile): their divisions */
    for (size_t t = tb; t < te; t++) tcs[t - tb] = taps_col(j, t);
    for (size_t g = 0; g < (size_t)s->groups; g++)
      if (by_tile)
        for (size_t t = tb; t < te; t++) {
          const TapsCol *tc = &tcs[t - tb];
          if (tc->skip) continue;
          TapsB b = taps_b(j, g, cg, tc);
          if (bp) {
            taps_pack(j, tc, bp);
            b = (TapsB){bp, (size_t)s->K, 1, (size_t)j->e->kf->gemm->nr, g_off0};
          }
          for (size_t p = p0; p < p1; p++) taps_tile(j, g, p, tc, &b);
        }
      else
        for (size_t p = p0; p < p1; p++)
          for (size_t t = tb; t < te; t++) {
            const TapsCol *tc = &tcs[t - tb];
            TapsB b = taps_b(j, g, cg, tc);
            if (!tc->skip) taps_tile(j, g, p, tc, &b);
          }
  }
}

/* the split of gemm_plan as pool_for's units (its stealable shares: a thread done with its own range takes the end of
   a slower one's): units [b, e) of column tiles (all the row panels) or of row panels (all the tiles) */
static void taps_range(void *arg, long b, long e) {
  const TapsJob *j = arg;
  if (j->PB == j->P) taps_block(j, 0, j->P, (size_t)b, (size_t)e, NULL);
  else taps_block(j, (size_t)b, (size_t)e, 0, j->T, NULL);
}

/* taps_packs split by tiles: thread id's tiles (stealable, as gemm_by_thread's), each packed into its own slot. Not
   split by panels (few tiles: ResNet18's 14x14 and 7x7 outputs on two threads): there each thread would pack every
   tile for its panels, and again for the panels it steals */
static void taps_by_thread(void *arg, int id_, int nth_) {
  const TapsJob *j = arg;
  (void)nth_;
  if (id_ >= j->threads) return;
  size_t id = (size_t)id_, nth = (size_t)j->threads;
  float *bp = j->bp + id * (size_t)j->s->K * (size_t)j->e->kf->gemm->nr;
  long b = (long)(j->T * id / nth), e = (long)(j->T * (id + 1) / nth);
  for (int d = 0; pool_share_own(j->sh, j->threads, id_, &d, &b, &e);) taps_block(j, 0, j->P, (size_t)b, (size_t)e, bp);
}

/* SCRATCH_0's floats for the padded planes of TapsGeo.images images (+ tm: taps_flat's last tile reads up to tm - 1
   columns past the last plane's), rounded up to a line: taps_packs' slots follow */
static size_t taps_planes(const Engine *e, const OpState *s, const TapsGeo *g) {
  size_t f = rt_mul_sat(rt_mul_sat((size_t)g->images, (size_t)s->C), g->chan);
  return rt_cdiv(rt_add_sat(f, (size_t)e->kf->gemm->tm), 16) * 16;
}

static void conv_taps_t(const TapsJob *tj);

/* the batch TapsGeo.images at a time: their padded planes (over the threads), then their tiles */
static void conv_taps(const Engine *e, const OpState *s, const float *x, float *y, int n, uint32_t act, int res) {
  const F32GemmDesc *d = e->kf->gemm;
  TapsGeo g = taps_geo(s, e->batch, (size_t)d->nr);
  size_t pl = taps_planes(e, s, &g), slot = (size_t)s->K * (size_t)d->nr;
  size_t slots = e->scratch_bytes[SCRATCH_0] / sizeof(float) > pl ? (e->scratch_bytes[SCRATCH_0] / sizeof(float) - pl) / slot : 0;
  for (int i0 = 0; i0 < n; i0 += g.images) {
    int k = n - i0 < g.images ? n - i0 : g.images;
    TapsJob j = {.e = e, .s = s, .in = x + (size_t)i0 * s->C * s->H * s->W, .xp = e->scratch[SCRATCH_0],
                 .out = y + (size_t)i0 * s->O * s->OH * s->OW, .g = g, .n = k, .act = act, .res = res,
                 .T = (size_t)k * rt_cdiv(g.flat, (size_t)d->nr), .P = rt_cdiv((size_t)s->M, (size_t)d->mr),
                 .threads = pool_threads()};
    pool_for((long)k * s->C * s->sh * s->sw, taps_pad, &j);
    if (s->tpath) {
      conv_taps_t(&j);
      continue;
    }
    if (j.T * j.P == 1) j.threads = 1;
    gemm_plan(j.T, j.P, j.threads, &j.PB);
    if (j.PB == j.P && taps_packs(e, s) && slots >= (size_t)j.threads) {
      PoolShare sh[POOL_STEAL_MAX];
      j.bp = (float *)e->scratch[SCRATCH_0] + pl;
      if (j.threads == 1)
        taps_by_thread(&j, 0, 1);
      else {
        if (pool_shares_even(sh, (long)j.T, j.threads)) j.sh = sh;
        pool_run(taps_by_thread, &j);
      }
    } else if (j.threads == 1)
      taps_range(&j, 0, (long)(j.PB == j.P ? j.T : j.P));
    else
      pool_for((long)(j.PB == j.P ? j.T : j.P), taps_range, &j);
  }
}

typedef struct {
  const Engine *e;
  const OpState *s;
  const float *in;   /* the forward's images */
  float *out;        /* their outputs */
  float *u;          /* SCRATCH_0: a slot per thread (WinoGeo.per floats) */
  WinoGeo g;
  uint32_t act;
  int res;           /* a residual ADD fused: the output's values added before the activation */
  PoolShare *sh;     /* thread i's row panels as stealable units, or NULL: by tiles [i P, (i + 1) P), by rows
                        [poff[i], poff[i + 1]) (the panels of its rows, wino_rows) */
  const long *poff;
} WinoJob;

/* by rows: thread id of nth's rows [*r_lo, *r_hi), equal shares in multiples of 4 (ResNet's 128 rows: 64 each, as
   five panels of 12 and one of 4, not five and six panels of 12 or 8; the last panel of a share is f32_tail_rows of
   its rows) */
static void wino_rows(size_t M, int id, int nth, size_t *r_lo, size_t *r_hi) {
  *r_lo = M * (size_t)id / (size_t)nth / 4 * 4, *r_hi = id + 1 == nth ? M : M * (size_t)(id + 1) / (size_t)nth / 4 * 4;
}

/* U of the panel of rows [r0, r0 + rows) (rows <= MR; the weights read in place) into u */
static void wino_panel_u(const WinoJob *j, size_t r0, size_t rows, float *u) {
  size_t C = (size_t)j->s->C, MR = (size_t)j->e->kf->gemm->mr;
  wino_of(j->e, j->s)->weights(j->s->wu + r0 * 9 * C, C, (int)rows, f32_tail_rows((int)rows, (int)MR), u, j->g.uxs);
}

/* the end of image t / T's piece of the tiles [t, b1) */
static inline size_t wino_piece(size_t t, size_t T, size_t b1) { return (t / T + 1) * T < b1 ? (t / T + 1) * T : b1; }

/* block b's tiles (of every image's tiles, tb a block): V, then for rows [r_lo, r_hi) in panels of MR from
   r_lo the products and the outputs; U of every panel made already at up (all; r_lo a multiple of MR) or made
   per panel in up */
static void wino_block(const WinoJob *j, float *v, float *mm, float *up, int all, size_t b0, size_t b1, size_t r_lo,
                       size_t r_hi, int mkv) {
  const OpState *s = j->s;
  const F32GemmDesc *d = j->e->kf->gemm;
  const F32WinoDesc *wd = wino_of(j->e, s);
  const WinoGeo *g = &j->g;
  size_t C = (size_t)s->C, MR = (size_t)d->mr, NR = (size_t)d->nr, OHW = (size_t)s->OH * s->OW;
  size_t T = g->T, img = (size_t)s->C * s->H * s->W, oimg = (size_t)s->O * OHW, nb = b1 - b0;
  for (size_t t = b0, te; mkv && t < b1; t = te) {   /* each image's piece of the block (mkv: V not in v yet) */
    te = wino_piece(t, T, b1);
    wd->input(j->in + t / T * img, (size_t)s->H, (size_t)s->W, C, g->tw, t % T, t % T + (te - t), v + (t - b0), g->tb, g->vxs);
  }
  for (size_t r0 = r_lo; r0 < r_hi; r0 += MR) {
    size_t rows = r_hi - r0 < MR ? r_hi - r0 : MR;
    const float *u = up;
    if (all)
      u = up + r0 / MR * g->nx * g->uxs;
    else
      wino_panel_u(j, r0, rows, up);
    for (size_t xi = 0; xi < g->nx; xi++)
      for (size_t j0 = 0; j0 < nb; j0 += NR)
        d->gemm_u(C, 1, g_off0, u + xi * g->uxs, C, 1, v + xi * g->vxs + j0, g->tb, mm + xi * g->mxs + j0, g->tb, (int)rows,
                  (int)(nb - j0 < NR ? nb - j0 : NR), g_zero_bias, ACT_NONE, 0);
    for (size_t t = b0, te; t < b1; t = te) {
      te = wino_piece(t, T, b1);
      wd->output(mm + (t - b0), g->tb, g->mxs, (int)rows, g->tw, t % T, t % T + (te - t), (size_t)s->OH, (size_t)s->OW,
                 s->bias + r0, (int)j->act, j->res, j->out + t / T * oimg + r0 * OHW, OHW);
    }
  }
}

/* a thread's share. U shared: the forward's tiles in ceil(N / tb) blocks of sizes within one of each other
   (a 56x56 map's 196 F(4x4) tiles: 7 of 28, not 6 of 32 and one of 4, whose GEMM passes cost a full one:
   one thread had 57% of the work; ResNet18's 56x56 layers 7-10% faster on 2 threads with equal blocks), the
   (block, row panel) pairs split evenly, each thread its contiguous run (a block's V made by each thread that
   has some of its panels, and U of every panel its run takes made first in its own slot); else one block a
   thread: its tiles (all the rows) or its rows (all the tiles), U made per panel in its slot. (By rows each thread makes the whole V: made once, split by tiles, and then
   read by both threads, ResNet18's 28x28 layers ran 1.3x slower.) */
static void wino_share(void *arg, int id, int nth) {
  const WinoJob *j = arg;
  const WinoGeo *g = &j->g;
  size_t M = (size_t)j->s->M, MR = (size_t)j->e->kf->gemm->mr, P = rt_cdiv(M, MR);
  float *v = j->u + (size_t)id * g->per, *mm = v + g->nx * g->vxs, *up = mm + g->nx * g->mxs;   /* the thread's slot */
  if (g->shared) {
    size_t nblk = rt_cdiv(g->N, g->tb), units = nblk * P, ua = units * (size_t)id / (size_t)nth, uz = units * (size_t)(id + 1) / (size_t)nth;
    for (size_t p = 0; p < P; p++)   /* U of the panels its units take */
      if ((p + P - ua % P) % P < uz - ua) wino_panel_u(j, p * MR, M - p * MR < MR ? M - p * MR : MR, up + p * g->nx * g->uxs);
    for (size_t un = ua; un < uz;) {
      size_t bk = un / P, p0 = un % P, p1 = P - p0 < uz - un ? P : p0 + (uz - un);
      wino_block(j, v, mm, up, 1, g->N * bk / nblk, g->N * (bk + 1) / nblk, p0 * MR, p1 * MR < M ? p1 * MR : M, 1);
      un += p1 - p0;
    }
    return;
  }
  if (g->by_tiles && j->sh) {   /* panels of its own tiles, then of the other's (their V made again in its slot) */
    long b, e;
    size_t vt = SIZE_MAX;   /* whose tiles' V the slot holds */
    for (int d = 0; pool_share_next(j->sh, nth, id, &d, &b, &e);) {
      size_t who = (size_t)b / P, p0 = (size_t)b % P, p1 = p0 + (size_t)(e - b);
      wino_block(j, v, mm, up, 0, g->N * who / (size_t)nth, g->N * (who + 1) / (size_t)nth, p0 * MR, p1 * MR < M ? p1 * MR : M, who != vt);
      vt = who;
    }
    return;
  }
  if (g->by_tiles) {
    wino_block(j, v, mm, up, 0, g->N * (size_t)id / (size_t)nth, g->N * (size_t)(id + 1) / (size_t)nth, 0, M, 1);
    return;
  }
  size_t r_lo, r_hi;
  if (j->sh) {   /* by rows: panels of its own rows, then of the other's (each thread makes the whole V, once) */
    long b, e;
    int vmade = 0;
    for (int d = 0; pool_share_next(j->sh, nth, id, &d, &b, &e);) {
      int who = 0;
      while (b >= j->poff[who + 1]) who++;
      wino_rows(M, who, nth, &r_lo, &r_hi);
      size_t p0 = (size_t)(b - j->poff[who]), p1 = (size_t)(e - j->poff[who]);
      wino_block(j, v, mm, up, 0, 0, g->N, r_lo + p0 * MR, r_lo + p1 * MR < r_hi ? r_lo + p1 * MR : r_hi, !vmade);
      vmade = 1;
    }
    return;
  }
  wino_rows(M, id, nth, &r_lo, &r_hi);
  if (r_lo < r_hi) wino_block(j, v, mm, up, 0, 0, g->N, r_lo, r_hi, 1);
}

/* the tiles of every image (a block may hold tiles of several) over the threads */
static void conv_wino_run(const Engine *e, const OpState *s, const float *x, float *y, int n, uint32_t act, int res) {
  int nth = pool_threads();
  WinoJob j = {.e = e, .s = s, .in = x, .out = y, .u = e->scratch[SCRATCH_0], .g = wino_geo(e, s, nth, n), .act = act, .res = res};
  PoolShare sh[POOL_STEAL_MAX];
  long poff[POOL_STEAL_MAX + 1];
  if (nth == 1)
    wino_share(&j, 0, 1);
  else {
    size_t M = (size_t)s->M, MR = (size_t)e->kf->gemm->mr, P = rt_cdiv(M, MR);
    if (!j.g.shared && nth <= POOL_STEAL_MAX) {
      poff[0] = 0;
      for (int i = 0; i < nth; i++) {
        size_t r_lo, r_hi;
        wino_rows(M, i, nth, &r_lo, &r_hi);
        poff[i + 1] = j.g.by_tiles ? (long)P * (i + 1) : poff[i] + (long)rt_cdiv(r_hi - r_lo, MR);   /* its units */
        pool_share_set(&sh[i], poff[i], poff[i + 1]);
      }
      j.sh = sh, j.poff = poff;
    }
    pool_run(wino_share, &j);
  }
}

typedef struct {
  const OpState *s;
  const float *x, *w, *b;
  float *y;
  const F32DwShape *sh;
  f32_dwconv_fn dw;
} DwJob;

static void dw_planes(void *arg, long q0, long q1) {
  const DwJob *j = arg;
  const OpState *s = j->s;
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    size_t o = q % s->O;
    j->dw(j->x + dw_in_plane(s, q) * HW, j->w + o * (size_t)s->kh * s->kw, j->b ? j->b[o] : 0.0f, j->y + q * OHW, j->sh);
  }
}

void f32_conv_dw(const Engine *e, const OpState *s, const float *w, const float *b, const float *x, float *y, int n,
                 uint32_t act) {
  F32DwShape sh = {s->H, s->W, s->OH, s->OW, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, (int)act};
  DwJob j = {s, x, w, b, y, &sh, e->kf->dw->dwconv};
  pool_for((long)n * s->O, dw_planes, &j);
}

typedef struct {
  const OpState *s;
  const float *x;
  float *xs;
} SubJob;

/* ---- conv_t: 1x1 convolutions on gemm_t. Each thread takes its own pixel tiles (all the channel panels) or its
   own panels (all the tiles), whichever gives the busiest thread less work, or at equal work reads fewer bytes,
   the pixels a thread reads from the other core's cache (the previous layer's output) counted 2.5x; its
   tiles in blocks of TT_BYTES of pixels, which stay in its L2 across the panels (each panel's weights read once
   per block). Measured on ResNet50 (2 threads, Sapphire Rapids) against gemm_u: batch 8, the 7x7 layers
   21-25% faster, the 14x14 ones 10-11%; batch 1, the 7x7 ones 2-6%.
   A block's first tile of a panel reads the panel's weights from memory (at batch 1 a 7x7 layer's, 2.4-9.4 MB, are
   read once an image), the others from L2: while its second and third tiles run, the kernel fetches the next
   panel's two halves into L2 (gemm_t's pf, a line a k step), so that the stream from memory overlaps the
   arithmetic instead of stalling one tile in four. The next panel is the thread's next chunk (pool_for's chunks
   are a panel or a few), or the other thread's first. This Xeon (2026-12-06, night, one binary switched by the
   environment, per op, fastest of 4-5 alternated, batch 1): ResNet50's 7x7 layers 0.86-0.89x their time on two
   threads and 0.80-0.84x on one (its 512x14x14 1x1 0.88x on one), ResNet18's 0.94-0.98x (its weights stay in
   L3: 0.85x ResNet50's time before); batch 8 the same, MobileNetV2 the same. */
enum { TT_BYTES = 512 << 10 };

typedef struct {
  const Engine *e;
  const OpState *s;
  const float *x; /* the input (or conv_sub's subsampled copy): n images of C planes of OH x OW */
  float *y;
  int n, act, res;
  size_t tpi, T, P, PB; /* pixel tiles an image, of the batch; channel panels (of every group); the split */
  int threads;
  const TapsJob *tj;    /* an implicit convolution (conv_taps_t): its padded planes and geometry; else NULL */
} TJob;

/* panel p's weights: an implicit convolution's (one group) at p, a 1x1's at panel p % Pg of group p / Pg */
static const float *t_panel_w(const TJob *j, size_t p) {
  const OpState *s = j->s;
  size_t TNc = (size_t)j->e->kf->gemm->tn, K = (size_t)s->K;
  if (j->tj) return s->tw + p * TNc * K;
  size_t Pg = rt_cdiv((size_t)s->M, TNc);
  return s->tw + p / Pg * s->a_group + p % Pg * TNc * K;
}

/* what tile i (of a block, or of panel p's tiles in turn) of panel p fetches into L2 for later (gemm_t's pf): the
   second and third tiles the next panel's two halves (a line a k step, tn 32), the others nothing */
static const float *t_next_pf(const TJob *j, size_t i, size_t p) {
  if ((i != 1 && i != 2) || p + 1 >= j->P) return NULL;
  return t_panel_w(j, p + 1) + (i - 1) * ((size_t)j->s->K * (size_t)j->e->kf->gemm->tn / 2);
}

/* taps_flat's tile t (image t / tpi): flat columns f0.. (f0 = tm (t % tpi)) of the image's padded planes, two runs of
   tm / 2 (all in the first: the second alone, the kernel computing only it), through tmp (the valid columns, those
   within a row's OW outputs, gathered from C for a fused ADD and scattered to it): the same sums as gemm_u's */
static void taps_flat_tile(const TJob *j, size_t t, size_t p, const float *pf) {
  const OpState *s = j->s;
  const TapsJob *tj = j->tj;
  const F32GemmDesc *d = j->e->kf->gemm;
  size_t TMp = (size_t)d->tm, TNc = (size_t)d->tn, OHW = (size_t)s->OH * s->OW, K = (size_t)s->K, wq = tj->g.wq;
  size_t im = t / j->tpi, f0 = t % j->tpi * TMp, at[F32_MAX_NR];
  int cols = (size_t)s->M - p * TNc < TNc ? (int)((size_t)s->M - p * TNc) : (int)TNc, sh = 0;
  unsigned pm = 0;
  for (size_t r = 0; r < TMp; r++) {
    size_t f = f0 + r;
    at[r] = f / wq * (size_t)s->OW + f % wq;   /* the output pixel of column r */
    if (f < tj->g.flat && f % wq < (size_t)s->OW) pm |= 1u << r;
  }
  ptrdiff_t x2off = (ptrdiff_t)TMp / 2;
  if (pm > 1 && pm >> (TMp / 2) == 0) pm <<= TMp / 2, x2off = 0, sh = (int)TMp / 2;   /* (pm 1: one pixel, computed alone) */
  float tmp[16 * 32], *c = j->y + (im * (size_t)s->O + p * TNc) * OHW;
  for (int pass = 0; pass < 2; pass++) {
    if (pass) d->gemm_t(K / ((size_t)s->kh * s->kw), (size_t)s->kh * s->kw, s->boff, t_panel_w(j, p),
                        tj->xp + im * (size_t)s->C * tj->g.chan + f0, tj->g.chan, x2off, tmp, TMp, pm, cols, s->bias + p * TNc, j->act, j->res, pf);
    for (int q = 0; q < cols && (pass || j->res); q++)
      for (size_t r = 0; r < TMp; r++)
        if (pm >> r & 1) {
          float *o = c + (size_t)q * OHW + at[r - (size_t)sh], *m = tmp + (size_t)q * TMp + r;
          if (pass) *o = *m; else *m = *o;
        }
  }
}

/* an implicit convolution's tile t (image t / tpi): runs u = 2 (t % tpi) and u + 1 of tm / 2 outputs (run u: output
   row u / (OW / H), columns from u % (OW / H) * H), their pixels in the padded planes at flat column f(u) of the
   image's planes; a lone last run as the tile's second (the kernel computes only it) */
static void taps_t_tile(const TJob *j, size_t t, size_t p, const float *pf) {
  const OpState *s = j->s;
  const TapsJob *tj = j->tj;
  const F32GemmDesc *d = j->e->kf->gemm;
  if (taps_flat(s, d)) {
    taps_flat_tile(j, t, p, pf);
    return;
  }
  size_t H = (size_t)d->tm / 2, TNc = (size_t)d->tn, OHW = (size_t)s->OH * s->OW, rpr = (size_t)s->OW / H, U = OHW / H;
  size_t im = t / j->tpi, u = t % j->tpi * 2, wq = tj->g.wq, K = (size_t)s->K;
  size_t f1 = u / rpr * wq + u % rpr * H, f2 = (u + 1) / rpr * wq + (u + 1) % rpr * H;
  int cols = (size_t)s->M - p * TNc < TNc ? (int)((size_t)s->M - p * TNc) : (int)TNc;
  const float *x = tj->xp + im * (size_t)s->C * tj->g.chan + f1;
  float *c = j->y + (im * (size_t)s->O + p * TNc) * OHW + u * H;
  unsigned pm = (1u << (2 * H)) - 1;
  ptrdiff_t x2off = (ptrdiff_t)f2 - (ptrdiff_t)f1;
  if (u + 1 == U) /* a lone run: the second (c - H: the run before's outputs, never written) */
    pm = (unsigned)((1u << H) - 1) << H, x2off = 0, c -= H;
  d->gemm_t(K / ((size_t)s->kh * s->kw), (size_t)s->kh * s->kw, s->boff, t_panel_w(j, p), x, tj->g.chan, x2off, c, OHW, pm,
            cols, s->bias + p * TNc, j->act, j->res, pf);
}

/* pixel tile t (image t / tpi) x channel panel p (group p / Pg) */
static void conv_t_tile(const TJob *j, size_t t, size_t p, const float *pf) {
  if (j->tj) {
    taps_t_tile(j, t, p, pf);
    return;
  }
  const OpState *s = j->s;
  const F32GemmDesc *d = j->e->kf->gemm;
  size_t TMp = (size_t)d->tm, TNc = (size_t)d->tn, OHW = (size_t)s->OH * s->OW, K = (size_t)s->K, M = (size_t)s->M;
  size_t Pg = rt_cdiv(M, TNc), g = p / Pg, pg = p % Pg, im = t / j->tpi, q = t % j->tpi * TMp, left = OHW - q;
  size_t keep = left < TMp ? left : TMp, q0 = q + keep - TMp;   /* the last tile shifted back (TMp <= OHW) */
  unsigned pm = ((1u << keep) - 1) << (TMp - keep);
  int cols = M - pg * TNc < TNc ? (int)(M - pg * TNc) : (int)TNc;
  const float *x = j->x + (im * (size_t)s->C + g * K) * OHW + q0;
  float *c = j->y + (im * (size_t)s->O + g * M + pg * TNc) * OHW + q0;
  d->gemm_t(K, 1, g_off0, t_panel_w(j, p), x, OHW, (ptrdiff_t)TMp / 2, c, OHW, pm, cols,
            s->bias + g * Pg * TNc + pg * TNc, j->act, j->res, pf);
}

/* pixel tiles [t0, t1) x channel panels [p0, p1): the tiles in blocks of TT_BYTES of pixels, each block times the panels */
static void conv_t_block(const TJob *j, size_t t0, size_t t1, size_t p0, size_t p1) {
  size_t blk = TT_BYTES / ((size_t)j->e->kf->gemm->tm * (size_t)j->s->K / (j->tj ? (size_t)j->s->kh * j->s->kw : 1) *
                           sizeof(float));
  if (blk < 1) blk = 1;
  for (size_t tb = t0; tb < t1; tb += blk)
    for (size_t p = p0; p < p1; p++)
      for (size_t t = tb; t < t1 && t < tb + blk; t++) conv_t_tile(j, t, p, t_next_pf(j, t - tb, p));
}

/* pool_for's units (its stealable shares) of the split conv_t_go chose: [b, e) of pixel tiles (all panels; PB == P),
   of panels (all tiles), or (PB 0) of (panel, tile) pairs, panel u / T and tile u % T, each panel's tiles in order
   (the second and third fetching the next panel, as conv_t_block's) */
static void conv_t_range(void *arg, long b, long e) {
  const TJob *j = arg;
  if (j->PB == 0)
    for (size_t u = (size_t)b; u < (size_t)e; u++) conv_t_tile(j, u % j->T, u / j->T, t_next_pf(j, u % j->T, u / j->T));
  else if (j->PB == j->P)
    conv_t_block(j, (size_t)b, (size_t)e, 0, j->P);
  else
    conv_t_block(j, 0, j->T, (size_t)b, (size_t)e);
}

/* the work of tiles [a, b) in halves of a tile: 2 a tile, but 1 for an image's last tile (t % tpi == tpi - 1) where it
   computes only its second run (a 1x1's map of pixels past a multiple of tm at most tm / 2, an implicit convolution's
   lone run; taps_flat's tiles all whole) */
static size_t t_work(const TJob *j, size_t a, size_t b) {
  const OpState *s = j->s;
  size_t tm = (size_t)j->e->kf->gemm->tm, OHW = (size_t)s->OH * s->OW;
  int half = !j->tj ? OHW - (j->tpi - 1) * tm <= tm / 2 : !taps_flat(s, j->e->kf->gemm) && OHW / (tm / 2) % 2;
  return 2 * (b - a) - (half ? b / j->tpi - a / j->tpi : 0);   /* (the last tiles in [a, b): b / tpi - a / tpi) */
}

static __attribute__((noinline)) void conv_t_go(TJob j) {   /* (one copy for both callers) */
  const OpState *s = j.s;
  int n = j.n;
  size_t th = (size_t)j.threads, wt = rt_cdiv(j.T, th) * j.P, wp = rt_cdiv(j.P, th) * j.T;   /* the busiest's tiles */
  double W = (double)s->groups * s->M * s->K, X = (double)n * s->C * s->OH * s->OW;         /* floats */
  j.PB = wt * 10 < wp * 9 || (wp * 10 >= wt * 9 && W + X / (double)th < W / (double)th + 2.5 * X) ? j.P : 1;
  if (th > 1) {
    /* by halves of a tile: the busiest thread's work under that split (pool_for's even shares), and that of every
       (panel, tile) pair apart, whose stealable shares even out; the pairs where they take a tenth less (MobileNetV2's
       7x7 projections: 3.5 tiles, 2 against 1.5 by tiles, 3 panels against 2 of 5 by panels). This Xeon (2026-12-06,
       night, batch 1, two threads, per op, fastest of 5 alternated): those four 0.87-0.88x their time, the sum of
       MobileNetV2's ops 0.98x. Not everywhere: the pairs in panel order for MobileNetV2's 14x14 projections (2-3
       panels, a tile split even) took 1.04-1.21x (each thread then reads the other's pixels), in tile order its
       7x7 expansions and the depthwise ops after them 1.16-1.26x (the next op's channels in the other core) */
    size_t all = t_work(&j, 0, j.T), busy = 0;
    for (size_t i = 0; i < th; i++) {
      size_t w = j.PB == j.P ? t_work(&j, j.T * i / th, j.T * (i + 1) / th) * j.P : (j.P * (i + 1) / th - j.P * i / th) * all;
      if (w > busy) busy = w;
    }
    if (all * j.P * 10 < busy * th * 9) j.PB = 0;
  }
  long units = j.PB == 0 ? (long)(j.P * j.T) : (long)(j.PB == j.P ? j.T : j.P);
  if (j.threads == 1)
    conv_t_range(&j, 0, units);
  else
    pool_for(units, conv_t_range, &j);
}

static void conv_t_run(const Engine *e, const OpState *s, const float *x, float *y, int n, uint32_t act, int res) {
  const F32GemmDesc *d = e->kf->gemm;
  size_t tpi = rt_cdiv((size_t)s->OH * s->OW, (size_t)d->tm);
  conv_t_go((TJob){.e = e, .s = s, .x = x, .y = y, .n = n, .act = (int)act, .res = res, .tpi = tpi, .T = (size_t)n * tpi,
                   .P = (size_t)s->groups * rt_cdiv((size_t)s->M, (size_t)d->tn), .threads = pool_threads()});
}

/* conv_taps' images on gemm_t (taps_t) */
static void conv_taps_t(const TapsJob *tj) {
  const OpState *s = tj->s;
  const F32GemmDesc *d = tj->e->kf->gemm;
  size_t tpi = taps_flat(s, d) ? rt_cdiv(tj->g.flat, (size_t)d->tm) : rt_cdiv((size_t)s->OH * s->OW / ((size_t)d->tm / 2), 2);
  conv_t_go((TJob){.e = tj->e, .s = s, .y = tj->out, .n = tj->n, .act = (int)tj->act, .res = tj->res, .tpi = tpi,
                   .T = (size_t)tj->n * tpi, .P = rt_cdiv((size_t)s->M, (size_t)d->tn), .threads = pool_threads(), .tj = tj});
}

/* conv_sub's compact input: planes [q0, q1) (q: image q / C, channel q % C), pixel (oy, ox) of the input's
   (oy sh, ox sw) */
static void sub_planes(void *arg, long q0, long q1) {
  const SubJob *j = arg;
  const OpState *s = j->s;
  size_t W = (size_t)s->W, OW = (size_t)s->OW, sh = (size_t)s->sh, sw = (size_t)s->sw;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *x = j->x + q * s->H * W;
    float *d = j->xs + q * s->OH * OW;
    for (size_t oy = 0; oy < (size_t)s->OH; oy++, d += OW) copy_strided(d, x + oy * sh * W, OW, sw);
  }
}

/* run_dwf's job: the 1x1 conv (op, s) and the depthwise one after it (op + 1, s + 1) */
typedef struct {
  const Engine *e;
  const Op *op;
  const OpState *s;
  int n, threads;
} DwfJob;

/* a thread's share: contiguous (image, row panel) units, each its panel's planes into the slot, then their
   depthwise convolution */
static void dwf_share(void *arg, int id, int nth) {
  const DwfJob *j = arg;
  if (id >= j->threads) return;   /* (threads past the slots or the units) */
  const Engine *e = j->e;
  const Op *op = j->op;
  const OpState *s = j->s, *sd = s + 1;
  const F32GemmDesc *d = e->kf->gemm;
  const size_t MR = (size_t)d->mr, NR = (size_t)d->nr, P = a_tiles(e, s), HW = (size_t)s->OH * s->OW;
  const size_t OHW = (size_t)sd->OH * sd->OW, units = (size_t)j->n * P;
  const Param *bp = op_param(e->m, op + 1, P_F32_BIAS);
  const float *wd = op_param(e->m, op + 1, P_F32_WEIGHT)->data, *bd = bp ? bp->data : NULL;
  const F32DwShape sh = {sd->H, sd->W, sd->OH, sd->OW, sd->kh, sd->kw, sd->sh, sd->sw, sd->ph, sd->pw, sd->dh, sd->dw, (int)op[1].act};
  const float *x = engine_val(e, op->in[0]);
  float *y = engine_val(e, op[1].out), *slot = (float *)e->scratch[SCRATCH_0] + (size_t)id * MR * HW;
  (void)nth;
  for (size_t u = units * (size_t)id / (size_t)j->threads, uz = units * (size_t)(id + 1) / (size_t)j->threads; u < uz; u++) {
    const ATile at = a_tile(e, s, 0, u % P);   /* (at most MR rows) */
    size_t im = u / P, r0 = at.r0, rows = at.rows;
    const float *xi = x + im * (size_t)s->C * HW;
    for (size_t j0 = 0; j0 < HW; j0 += NR)   /* gemm_tile's call for these columns, into the slot */
      d->gemm_u((size_t)s->K, 1, g_off0, at.a, 1, at.ks, xi + j0, HW, slot + j0, HW, (int)rows, (int)(HW - j0 < NR ? HW - j0 : NR),
                s->bias + r0, (int)op->act, 0);
    for (size_t r = 0; r < rows; r++)
      e->kf->dw->dwconv(slot + r * HW, wd + (r0 + r) * sd->kh * sd->kw, bd ? bd[r0 + r] : 0.0f,
                        y + (im * (size_t)sd->O + r0 + r) * OHW, &sh);
  }
}

/* a 1x1 CONV2D and the depthwise one after it (dw_fusable), over the threads whose slots the scratch holds */
__attribute__((noinline)) static void run_dwf(const Engine *e, const Op *op, const OpState *s, int n) {
  DwfJob j = {e, op, s, n, pool_threads()};
  size_t slot = (size_t)e->kf->gemm->mr * s->OH * s->OW * sizeof(float), units = (size_t)n * a_tiles(e, s);
  if ((size_t)j.threads > e->scratch_bytes[SCRATCH_0] / slot) j.threads = (int)(e->scratch_bytes[SCRATCH_0] / slot);
  if ((size_t)j.threads > units) j.threads = (int)units;
  if (j.threads <= 1)
    dwf_share(&j, 0, 1);
  else
    pool_run(dwf_share, &j);
}

/* ---- irb: MobileNetV2's inverted residual block (a 1x1 expansion with dwf, its depthwise op, and the 1x1 projection
   after that, with its residual ADD where that is fused) as one op, by bands of the depthwise op's output rows. Per
   band, each of the expansion's row panels (MR channels) is computed on the input rows the band's windows read, into
   the thread's slot; the depthwise convolution of those planes goes to the band's buffer, which holds every channel
   of the band (IRB_DWB bytes at most: in L2 with the rest); then the projection of the band's columns, into the
   output. Neither the expansion's output nor the depthwise op's is stored whole, and the projection reads the
   depthwise output from the core that wrote it: the blocks' two large tensors (MobileNetV2's 144 x 56 x 56 floats,
   1.8 MB) no longer go through L3 and over to the other core. The rows two bands' windows share (kh - sh of them)
   are kept from one band to the next (halo), not computed again; a thread's first band computes its own. Each
   thread takes whole bands of contiguous rows (images x chunks of rows, in order), then bands from the end of a slower
   thread's share (BandRun: the thief computes its first band's halo itself). The same kernel calls on the same
   values as run_dwf and the projection's own op (gemm_u per column, the whole K; the depthwise kernel per output;
   with a residual the projection's C starts as r, F32_ACC_RES), so the same outputs bit for bit; with a residual the
   output is not laid on r (engine.c), which the expansion still reads around each band. */
/* IRB_STEM_RB: a stem's bands at most 8 rows (MobileNetV2's: 16 measured no faster, their scratch 0.4 MiB more) */
enum { IRB_DWB = 288 << 10, IRB_RB = 8, IRB_STEM_RB = 8 };
typedef struct { size_t R, keep, inmax, bp, slot, halo, dwb, wq, phase, chan, planes, per; } IrbGeo;   /* rows; floats */
/* the bands of expansion sa (NULL: none, the depthwise op's input is stored; stem: sa is an implicit convolution)
   and depthwise op sb */
static IrbGeo irb_geo(const Engine *e, const OpState *sa, const OpState *sb, int stem) {
  IrbGeo g;
  size_t MR = (size_t)e->kf->gemm->mr, E = (size_t)sb->O, W = (size_t)sb->W, OW = (size_t)sb->OW;
  g.R = IRB_DWB / (E * OW * sizeof(float));
  if (g.R >= IRB_RB) g.R = g.R / IRB_RB * IRB_RB;   /* whole blocks of the depthwise kernels' rows */
  if (stem && g.R > IRB_STEM_RB) g.R = IRB_STEM_RB;
  if (g.R < 1) g.R = 1;
  if (g.R > (size_t)sb->OH) g.R = (size_t)sb->OH;
  g.keep = sa ? (size_t)(sb->kh - sb->sh) : 0, g.inmax = (g.R - 1) * (size_t)sb->sh + (size_t)sb->kh;
  /* stem: a band's phase planes (taps_geo's rows of wq, the band's rows of the stem and the rows its taps reach below
     them), each channel's an odd number of cache lines (+ NR floats: a last tile's columns past its row) */
  g.wq = g.phase = g.chan = g.planes = 0;
  if (stem) {
    g.wq = taps_geo(sa, 1, (size_t)e->kf->gemm->nr).wq;
    g.phase = rt_cdiv((g.inmax + (size_t)(sa->kh - 1) * sa->dh / sa->sh) * g.wq, 16) * 16;
    g.chan = (rt_cdiv((size_t)sa->sh * sa->sw * g.phase, 16) | 1) * 16;
    g.planes = (size_t)sa->C * g.chan + (size_t)e->kf->gemm->nr;
  }
  /* the band's planes an odd number of cache lines apart: the projection's K rows of a column tile (18 KB at K = 144)
     then fall in all of L1's sets (448 floats apart, 28 lines, they fell in 16 of its 64 and were read from L2) */
  g.bp = (g.R * OW + 15) / 16 * 16;
  if (g.bp / 16 % 2 == 0) g.bp += 16;
  g.slot = sa ? MR * g.inmax * W : 0, g.halo = sa ? a_tiles(e, sa) * MR * g.keep * W : 0, g.dwb = E * g.bp;
  g.per = (g.slot + g.halo + g.dwb + g.planes + 15) / 16 * 16;
  return g;
}

typedef struct {
  const Engine *e;
  const Op *ob;          /* the depthwise op; ob - 1 the expansion (sa), ob + 1 the projection, ob + 2 its ADD (res) */
  const OpState *sa, *sb;
  const float *wd, *bd;  /* the depthwise op's weights (E x kh*kw) and bias (or NULL) */
  int stem;              /* sa is a stem (IRB_STEM: an implicit convolution, strided, its band's phase planes made per band) */
  IrbGeo g;
  BandRun r;             /* the bands over the threads */
} IrbJob;

/* a stem's (IRB_STEM) phase planes for its output rows [y0, y1) of image xi: their rows and those its taps reach below
   them, row q of each the phase plane's row y0 + q (phase_row, as taps_pad makes them whole) */
static void irb_stem_planes(const IrbJob *j, float *pl, const float *xi, size_t y0, size_t y1) {
  const OpState *sa = j->sa;
  size_t nph = (size_t)sa->sh * sa->sw, HW = (size_t)sa->H * sa->W, wq = j->g.wq;
  size_t n = y1 - y0 + (size_t)(sa->kh - 1) * sa->dh / sa->sh;
  for (size_t c = 0; c < (size_t)sa->C; c++)
    for (size_t ph = 0; ph < nph; ph++)
      for (size_t q = 0; q < n; q++) phase_row(sa, xi + c * HW, ph, y0 + q, wq, pl + c * j->g.chan + ph * j->g.phase + q * wq);
}

/* one band: the depthwise op's output rows [r0, r1) of image im, and their projection; *pb, *lo: the rows [*lo, *pb)
   of the expansion the last band kept in the halo (*pb 0: none) */
static void irb_band(const IrbJob *j, float *buf, size_t im, size_t r0, size_t r1, size_t *lo, size_t *pb) {
  const Engine *e = j->e;
  const Op *ob = j->ob;
  const OpState *sa = j->sa, *sb = j->sb, *sc = sb + 1;
  const F32GemmDesc *d = e->kf->gemm;
  const IrbGeo *g = &j->g;
  const size_t NR = (size_t)d->nr, MR = (size_t)d->mr, W = (size_t)sb->W, H = (size_t)sb->H, OW = (size_t)sb->OW;
  const size_t OHWb = (size_t)sb->OH * OW, SP = g->inmax * W, BP = g->bp, E = (size_t)sb->O, Pc = a_tiles(e, sc);
  const float *wd = j->wd, *bd = j->bd;
  float *slot = buf, *halo = buf + g->slot, *dwb = halo + g->halo, *pl = dwb + g->dwb;
  long a0 = (long)r0 * sb->sh - sb->ph, b0 = (long)(r1 - 1) * sb->sh - sb->ph + sb->kh;
  size_t ia = a0 < 0 ? 0 : (size_t)a0, ib = b0 > (long)H ? H : (size_t)b0, rows = ib - ia;
  const F32DwShape sh = {(int)rows, sb->W, (int)(r1 - r0), sb->OW, sb->kh, sb->kw, sb->sh, sb->sw,
                         (int)((long)sb->ph + (long)ia - (long)r0 * sb->sh), sb->pw, sb->dh, sb->dw, (int)ob->act};
  size_t ks = (size_t)sb->kh * sb->kw;
  if (!sa) {   /* the depthwise op's input stored: its planes' rows [ia, ib) read in place */
    const float *xb = (const float *)engine_val(e, ob->in[0]) + (im * E * H + ia) * W;
    for (size_t c = 0; c < E; c++) e->kf->dw->dwconv(xb + c * H * W, wd + c * ks, bd ? bd[c] : 0.0f, dwb + c * BP, &sh);
  } else {
    const Op *oa = ob - 1;
    const float *xi = (const float *)engine_val(e, oa->in[0]) + im * (size_t)sa->C * sa->H * sa->W;
    size_t k = *pb > ia && ia >= *lo ? *pb - ia : 0;   /* rows from the halo */
    int save = g->keep && rows >= g->keep;
    if (j->stem && rows > k) irb_stem_planes(j, pl, xi, ia + k, ib);
    for (size_t p = 0, Pa = a_tiles(e, sa); p < Pa; p++) {
      const ATile at = a_tile(e, sa, 0, p);
      float *hp = halo + p * MR * g->keep * W;
      for (size_t r = 0; r < at.rows && k; r++) rt_fcopy(slot + r * SP, hp + (r * g->keep + ia - *lo) * W, k * W);
      if (rows > k && j->stem) {   /* taps_tile's calls (rows of whole tiles), on the band's planes, into the slot: */
        size_t nt = (size_t)sa->kh * sa->kw, cg = (size_t)sa->K / nt;   /* by output rows, no division a tile */
        for (size_t y = 0; y < rows - k; y++)
          for (size_t x0 = 0; x0 < W; x0 += NR)
            d->gemm_u(cg, nt, sa->boff, at.a, (size_t)sa->K, 1, pl + y * g->wq + x0, g->chan, slot + (k + y) * W + x0, SP,
                      (int)at.rows, (int)(W - x0 < NR ? W - x0 : NR), sa->bias + at.r0, (int)oa->act, 0);
      } else   /* the expansion (no column, nor for a stem, when every row came from the halo) */
        for (size_t j0 = 0, cols = (rows - k) * W; j0 < cols; j0 += NR)
          d->gemm_u((size_t)sa->K, 1, g_off0, at.a, 1, at.ks, xi + (ia + k) * W + j0, H * W, slot + k * W + j0, SP, (int)at.rows,
                    (int)(cols - j0 < NR ? cols - j0 : NR), sa->bias + at.r0, (int)oa->act, 0);
      for (size_t r = 0; r < at.rows && save; r++) rt_fcopy(hp + r * g->keep * W, slot + r * SP + (rows - g->keep) * W, g->keep * W);
      for (size_t r = 0; r < at.rows; r++)
        e->kf->dw->dwconv(slot + r * SP, wd + (at.r0 + r) * ks, bd ? bd[at.r0 + r] : 0.0f, dwb + (at.r0 + r) * BP, &sh);
    }
    *lo = save ? ib - g->keep : 0, *pb = save ? ib : 0;
  }
  int res = sc->res, act = (int)(res ? ob[2].act : ob[1].act);
  float *oi = (float *)engine_val(e, res ? ob[2].out : ob[1].out) + im * (size_t)sc->O * OHWb + r0 * OW;
  const float *ri = res ? (const float *)engine_val(e, sc->res_in) + im * (size_t)sc->O * OHWb + r0 * OW : NULL;
  size_t bpx = (r1 - r0) * OW;
  for (size_t o = 0; o < (size_t)sc->O && res; o++) memcpy(oi + o * OHWb, ri + o * OHWb, bpx * sizeof(float));   /* C starts as r */
  for (size_t j0 = 0; j0 < bpx; j0 += NR)   /* (a column tile's K x NR floats of the band stay in L1 for every row tile) */
    for (size_t q = 0; q < Pc; q++) {
      const ATile ct = a_tile(e, sc, 0, q);
      size_t cols = bpx - j0 < NR ? bpx - j0 : NR;
      float *c = oi + ct.r0 * OHWb + j0;
      d->gemm_u((size_t)sc->K, 1, g_off0, ct.a, 1, ct.ks, dwb + j0, BP, c, OHWb, (int)ct.rows, (int)cols, sc->bias + ct.r0, act,
                res ? F32_ACC_RES : 0);
    }
}

/* a thread's share: the bands of contiguous (image, chunk of rows) units in order (Bands, from each unit's start), then
   bands from the ends of the others' shares (BandRun: a slower thread gives up its last bands); the halo only from a
   thread's band just before in the same unit */
static void irb_share(void *arg, int id, int nth) {
  const IrbJob *j = arg;
  (void)nth;
  if (id >= j->r.threads) return;
  float *buf = (float *)j->e->scratch[SCRATCH_0] + (size_t)id * j->g.per;
  size_t lo = 0, pb = 0, last = SIZE_MAX, end = 0;
  long b0, b1;
  for (int d = 0; band_next(&j->r, id, &d, &b0, &b1);)
    for (long b = b0; b < b1; b++) {
      size_t r0, r1, u = band_at(&j->r.g, (size_t)b, &r0, &r1);
      if (u != last || r0 != end) lo = pb = 0;
      irb_band(j, buf, u / j->r.g.chunks, r0, r1, &lo, &pb);
      last = u, end = r1;
    }
}

/* op (s): the expansion (IRB_EXP), the stem (IRB_STEM) or the depthwise op (IRB_DW) */
__attribute__((noinline)) static void run_irb(const Engine *e, const Op *op, const OpState *s, int n) {
  int x = s->irb == IRB_EXP || s->irb == IRB_STEM, stem = s->irb == IRB_STEM;
  const Param *bp = op_param(e->m, op + x, P_F32_BIAS);
  IrbJob j = {e, op + x, x ? s : NULL, s + x, op_param(e->m, op + x, P_F32_WEIGHT)->data, bp ? bp->data : NULL, stem,
              irb_geo(e, x ? s : NULL, s + x, stem), {{0, 1, 1, 0}, 0, 0, NULL}};
  int threads = (int)engine_slots(e, SCRATCH_0, j.g.per * sizeof(float), pool_threads());
  PoolShare sh[POOL_STEAL_MAX];
  j.r = band_run(n, (size_t)j.sb->OH, j.g.R, 0, threads, sh);
  if (threads <= 1) irb_share(&j, 0, 1);
  else pool_run(irb_share, &j);
}

/* op a: a stem whose bands the depthwise op after it may make (IRB_STEM): an implicit convolution on gemm_u (conv_taps, not
   gemm_t), strided, of one group, its weights read in place, no ADD fused, rows of whole column tiles (taps_geo: OW >= 2
   NR), its output read by the depthwise op only (MobileNetV2's stem: its 32 x 112 x 112 output, 1.6 MB, is not
   stored) */
__attribute__((cold, optimize("Os"))) static int stem_fusable(const Engine *e, uint32_t a) {
  const Model *m = e->m;
  const Op *op = &m->ops[a];
  const OpState *sa = &e->st[a];
  size_t NR = (size_t)e->kf->gemm->nr;
  return op->type == OP_CONV2D && sa->taps && !sa->tpath && !sa->wino && !sa->res && !sa->dwf && !sa->fused && !sa->irb &&
         sa->groups == 1 && sa->wu && sa->boff && (sa->sh > 1 || sa->sw > 1) && op->out != m->output &&
         op->out == m->ops[a + 1].in[0] && !read_elsewhere(m, op->out, 0, a + 1) && taps_geo(sa, 1, NR).wq % NR == 0;
}
/* the projection being built (op, s: a 1x1 CONV2D, one group, read in place on gemm_u in one K chunk, not the model's
   output nor its ADD's), reading a depthwise op's output of channel multiplier 1, of dilation 1, on a map of at least
   DWF_MIN_HW output pixels, which nothing else reads: IRB_EXP where that depthwise op is fused into the 1x1 expansion
   before it (dwf), IRB_STEM where it is not and its input is a stem's (stem_fusable: MobileNetV2's first block), IRB_DW
   where its input is stored, else 0. Not a projection whose own output a depthwise op reads (dw_next): that 1x1 may run
   it (dwf), which it cannot from inside a band, and it may be the next block's expansion. MobileNetV2
   f32 (Zen 4, 2026-12-05, 60 images, ABBA, 6-10 runs each): batch 1 on 2 threads 0.98x its time, batch 8 on lanes
   0.98-0.99x, peak RSS 12.8 -> 11.8 MiB. On one thread its first block (3) took 0.80x its time and the stride-2 ones
   0.95-1.01x, but the stride-1 ones 1.10x (two halo rows a band copied out and back, 8-row bands: ~600 short calls a
   band, 7x the depthwise kernel's): there, on one thread, those are not fused (irb_fusable) */
__attribute__((cold, optimize("Os"))) int irb_graph(const Engine *e, const Op *op, const OpState *s) {
  const Model *m = e->m;
  uint32_t i = e->cur_op;
  if (i < 1 || op->type != OP_CONV2D || s->linear || s->groups != 1 || s->kh != 1 || s->kw != 1 || s->sh != 1 || s->sw != 1 ||
      s->ph != 0 || s->pw != 0 || op->out == m->output || (s->res && m->ops[i + 1].out == m->output) || dw_next(e, op, s))
    return 0;
  const Op *dw = &m->ops[i - 1];
  const OpState *sb = &e->st[i - 1];
  if (dw->type != OP_CONV2D || !sb->depthwise || sb->O != sb->C || op->n_in < 1 || op->in[0] != dw->out || sb->dh != 1 ||
      sb->dw != 1 || sb->kh < sb->sh || sb->sh < 1 || (size_t)sb->OH * sb->OW < DWF_MIN_HW || read_elsewhere(m, dw->out, 0, i))
    return 0;
  return i >= 2 && e->st[i - 2].dwf ? IRB_EXP : sb->fused ? 0 : IRB_DW;
}
/* f32's blocks by bands (irb_graph's, on gemm_u in one K chunk, read in place). Not a stride-1 block on one thread
   (irb_graph's note), nor on any thread count one of less than IRB_S1_MIN_HW pixels (MobileNetV2's 28x28 blocks): on
   two threads each thread's 14 rows make bands of 8 and 6, each with its halo's fixed costs (rows copied out and back)
   over fewer rows than at 56x56, and the 2 rows at the threads' boundary expanded by both; on lanes (batch 8) it runs
   on one thread. Zen 3 (2026-12-07, each op over the same process's other ops, medians of 12-20 processes ABBA): the
   two 28x28 blocks 0.90x their time unfused on two threads and 0.89x at batch 8; the 56x56 block unfused 1.13x (kept) */
enum { IRB_S1_MIN_HW = 3136 };
__attribute__((cold, optimize("Os"))) static int irb_fusable(const Engine *e, const Op *op, const OpState *s) {
  uint32_t i = e->cur_op;
  if (e->m->kind != KIND_F32 || !conv_direct(e, s) || s->wino || s->taps || s->tpath || gemm_kc(e, s) < (size_t)s->K)
    return 0;
  int kind = irb_graph(e, op, s);
  if (kind == IRB_DW && i >= 2 && stem_fusable(e, i - 2)) kind = IRB_STEM;
  const OpState *sb = &e->st[i - 1];   /* (a stride-1 block: not on one thread, nor on a small map) */
  return kind == IRB_EXP && sb->sh == 1 && (pool_threads() < 2 || (size_t)sb->OH * sb->OW < IRB_S1_MIN_HW) ? 0 : kind;
}
/* after the projection's own build: fused into the expansion or the stem two ops back, or the depthwise op before it (a
   slot, the halo and the band's buffer per thread, with a stem its band's phase planes, in that op's scratch) */
__attribute__((cold, optimize("Os"))) static void build_conv_irb(Engine *e, const Op *op, OpState *s) {
  int kind = irb_fusable(e, op, s);
  if (!kind) return;
  uint32_t a = e->cur_op - (kind == IRB_EXP || kind == IRB_STEM ? 2 : 1);
  OpState *sa = &e->st[a];
  IrbGeo g = irb_geo(e, kind != IRB_DW ? sa : NULL, &e->st[e->cur_op - 1], kind == IRB_STEM);
  size_t need = rt_mul_sat(rt_mul_sat((size_t)pool_threads(), g.per), sizeof(float));
  s->fused = 1, s->irb = IRB_PROJ, sa->irb = kind;
  if (kind == IRB_STEM) {   /* the depthwise op runs in the stem's op; the taps' offsets on the band's planes */
    e->st[a + 1].fused = 1;
    for (size_t t = 0, nt = (size_t)sa->kh * sa->kw; t < nt; t++)
      sa->boff[t] = rt_phase_offset(t / (size_t)sa->kw * (size_t)sa->dh, t % (size_t)sa->kw * (size_t)sa->dw, (size_t)sa->sh,
                                    (size_t)sa->sw, g.phase, g.wq);
  }
  if (need > e->scratch_bytes[SCRATCH_0]) e->scratch_bytes[SCRATCH_0] = need;
  if (e->op_need) e->op_need[(size_t)a * N_SCRATCH + SCRATCH_0] = need;   /* (in place of run_dwf's slots) */
}

/* ---- lin_t: a LINEAR of one image whose weights are the file's panels (fpu, version 7) on gemm_t, one pixel (pm 1):
   per k step two loads of a panel's 32 weights and two FMAs, where gemm_u multiplies a column of 12 rows (the same
   sums, bit for bit); its panels over the threads */
typedef struct {
  const Engine *e;
  const OpState *s;
  const float *x;
  float *y;
  int act, res;
} LinJob;

static void lin_t_range(void *arg, long b, long e_) {
  const LinJob *j = arg;
  const OpState *s = j->s;
  const F32GemmDesc *d = j->e->kf->gemm;
  size_t TNc = (size_t)d->tn, K = (size_t)s->K, M = (size_t)s->M;
  for (size_t p = (size_t)b; p < (size_t)e_; p++)
    d->gemm_t(K, 1, g_off0, s->tw + p * TNc * K, j->x, 1, 0, j->y + p * TNc, 1, 1u,
              M - p * TNc < TNc ? (int)(M - p * TNc) : (int)TNc, s->bias + p * TNc, j->act, j->res, NULL);
}

static void run_conv(Engine *e, const Op *op, const OpState *s, int n) {   /* (the op's plan) */
  if (s->fused) return;   /* a depthwise conv done by the 1x1 CONV2D before it (run_dwf), or a projection (run_irb) */
  if (irb_runs(s)) {
    run_irb(e, op, s, n);
    return;
  }
  if (s->dwf) {
    run_dwf(e, op, s, n);
    return;
  }
  const float *x = engine_val(e, op->in[0]);
  float *y = engine_val(e, s->res ? op[1].out : op->out);   /* a fused ADD (the next op): its output, its activation */
  uint32_t act = s->res ? op[1].act : op->act;
  if (s->depthwise) {
    const Param *bp = op_param(e->m, op, P_F32_BIAS);
    f32_conv_dw(e, s, op_param(e->m, op, P_F32_WEIGHT)->data, bp ? bp->data : NULL, x, y, n, op->act);
    return;
  }
  if (s->wino) {
    conv_wino_run(e, s, x, y, n, act, s->res);
    return;
  }
  if (s->taps) {
    conv_taps(e, s, x, y, n, act, s->res);
    return;
  }
  if (conv_sub(e, s)) {
    SubJob sj = {s, x, e->scratch[SCRATCH_0]};
    pool_for((long)n * s->C, sub_planes, &sj);
    x = sj.xs;
  }
  if (s->tpath) {
    conv_t_run(e, s, x, y, n, act, s->res);
    return;
  }
  if (s->linear && n == 1 && s->fpu && e->kf->gemm->gemm_t) {
    LinJob lj = {e, s, x, y, (int)act, s->res};
    pool_for((long)rt_cdiv((size_t)s->M, (size_t)e->kf->gemm->tn), lin_t_range, &lj);
    return;
  }
  for (int g = 0; g < s->groups; g++) gemm_group(e, s, x, g, n, y, act, s->res);
}

/* ---------------------------------------------------------------- elementwise */

/* an elementwise op's arguments (EwJob) and its pieces over threads */
typedef struct {
  const float *a, *b;
  float *y;
  size_t count, HW; /* elements; MUL: plane size */
  int bcast, act;   /* MUL: b has one value per plane; the activation */
  f32_act_fn f;
  f32_add_fn add;   /* ADD */
} EwJob;

static void act_range(void *arg, long b, long e) {
  const EwJob *j = arg;
  j->f(j->y + b, (size_t)(e - b), j->act);
}

/* the activation over the whole output of an op, in chunks over threads */
static void act_all(const Engine *e, float *y, size_t count, uint32_t act) {
  if (act == ACT_NONE) return;
  EwJob j = {NULL, NULL, y, count, 0, 0, (int)act, e->kf->act, NULL};
  pool_for_grain((long)count, POOL_GRAIN, act_range, &j);
}

static size_t out_count(const Engine *e, const Op *op, int n) { return (size_t)n * value_elems(&e->m->values[op->out]); }

/* add with its activation: the kernel table's */
static void add_range(void *arg, long b, long e) {
  const EwJob *j = arg;
  j->add(j->a + b, j->b + b, j->y + b, (size_t)(e - b), j->act);
}

static void run_add(Engine *e, const Op *op, const OpState *s, int n) {
  if (s->fused) return;   /* done by the CONV2D before it */
  size_t count = out_count(e, op, n);
  EwJob j = {engine_val(e, op->in[0]), engine_val(e, op->in[1]), engine_val(e, op->out), count, 0, 0, (int)op->act, NULL,
             e->kf->add};
  pool_for_grain((long)count, POOL_GRAIN, add_range, &j);
}

/* one channel plane of one image per step */
static void mul_planes(void *arg, long q0, long q1) {
  const EwJob *j = arg;
  size_t HW = j->HW;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *ap = j->a + q * HW, *bp = j->bcast ? j->b + q : j->b + q * HW;
    float *yp = j->y + q * HW;
    if (j->bcast)
      for (size_t k = 0; k < HW; k++) yp[k] = ap[k] * bp[0];
    else
      for (size_t k = 0; k < HW; k++) yp[k] = ap[k] * bp[k];
    j->f(yp, HW, j->act);
  }
}

/* MUL: b is a's shape, or (C, 1, 1): one value per channel of each image */
static void run_mul(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Value *va = &e->m->values[op->in[0]], *vb = &e->m->values[op->in[1]];
  EwJob j = {engine_val(e, op->in[0]), engine_val(e, op->in[1]), engine_val(e, op->out), 0, (size_t)va->h * va->w,
             value_elems(vb) != value_elems(va), (int)op->act, e->kf->act, NULL};
  pool_for((long)n * va->c, mul_planes, &j);
}

__attribute__((cold)) static void run_concat(Engine *e, const Op *op, const OpState *s, int n) {   /* (cold: the 1 MiB bound) */
  (void)s;
  const Value *vy = &e->m->values[op->out];
  float *y = engine_val(e, op->out);
  size_t HW = (size_t)vy->h * vy->w, off = 0;
  for (uint32_t k = 0; k < op->n_in; k++) {
    const float *xk = engine_val(e, op->in[k]);
    size_t len = (size_t)e->m->values[op->in[k]].c * HW;
    for (int img = 0; img < n; img++)
      memcpy(y + (size_t)img * value_elems(vy) + off, xk + (size_t)img * len, len * sizeof(float));
    off += len;
  }
  act_all(e, y, out_count(e, op, n), op->act);
}

static void run_copy_act(Engine *e, const Op *op, const OpState *s, int n) {   /* FLATTEN, ACT */
  (void)s;
  float *y = engine_val(e, op->out);
  size_t count = out_count(e, op, n);
  memcpy(y, engine_val(e, op->in[0]), count * sizeof(float));
  act_all(e, y, count, op->act);
}

/* ---------------------------------------------------------------- pools */

/* a pool op's arguments; each function below computes the channel planes [q0, q1) of the batch */
typedef struct {
  const Op *op;
  const Value *vx, *vy;
  const float *x;
  float *y;
  f32_maxpool_fn mp; /* the kernel table's max pool, or NULL */
} PoolJob;

/* max with NaN propagation (a NaN of a or b wins), branch-free so that loops of it vectorise */
static inline float max_nan(float a, float b) { return ((a > b) | (a != a)) ? a : b; }

/* the plain C max pool: vectorised; on x86-64 built for size (DESIGN's 1 MiB bound): every x86 table there has
   its own pool (one plane, stride 1 or 2: ResNet's; AVX2's since 2026-12-06), so only other shapes take this one */
#ifdef __x86_64__
#define MAXPOOL_OPT optimize("Os")
#else
#define MAXPOOL_OPT optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

/* yrow[ox] = the max over kx of rm[ox*sw - pw + kx] inside [0, W): the outputs whose window lies
   inside go kx by kx over all of them (vectorised), the others one by one */
__attribute__((MAXPOOL_OPT))
static void maxpool_cols(const float *rm, int W, int OW, int kw, int sw, int pw, float *yrow) {
  long a = (pw + sw - 1) / sw, b = W - kw + pw < 0 ? 0 : (W - kw + pw) / sw + 1; /* inside: [a, b) */
  if (b > OW) b = OW;
  if (a > b) a = b;
  for (long ox = a; ox < b; ox++) yrow[ox] = -INFINITY;
  for (int kx = 0; kx < kw; kx++) {
    const float *r = rm - pw + kx;
    for (long ox = a; ox < b; ox++) yrow[ox] = max_nan(r[ox * sw], yrow[ox]);
  }
  for (long ox = 0; ox < OW; ox++) {
    if (ox == a) ox = b;
    if (ox >= OW) break;
    long ix0 = ox * sw - pw, x0 = ix0 < 0 ? 0 : ix0, x1 = ix0 + kw < W ? ix0 + kw : W;
    float mx = -INFINITY;
    for (long ix = x0; ix < x1; ix++) mx = max_nan(rm[ix], mx);
    yrow[ox] = mx;
  }
  for (long ox = 0; ox < OW; ox++) yrow[ox] = yrow[ox] != yrow[ox] ? NAN : yrow[ox];
}

/* one output row of a max pool of dilation 1 (plane xp, W <= MAXPOOL_ROW): first the max over the
   window's rows inside the input, column by column (contiguous: vectorised), then over the columns
   (maxpool_cols). Any NaN in the window gives NaN (the canonical one), an empty window -inf, as the
   generic loop. */
enum { MAXPOOL_ROW = 4096 };
__attribute__((MAXPOOL_OPT))
static void maxpool_row(const Op *op, int H, int W, int OW, const float *xp, int oy, float *yrow) {
  int kh = op->attr[0], sh = op->attr[2], ph = op->attr[4];
  float rm[MAXPOOL_ROW];
  long iy0 = (long)oy * sh - ph, y0 = iy0 < 0 ? 0 : iy0, y1 = iy0 + kh < H ? iy0 + kh : H;
  for (int x = 0; x < W; x++) rm[x] = -INFINITY;
  for (long iy = y0; iy < y1; iy++) {
    const float *row = xp + iy * W;
    for (int x = 0; x < W; x++) rm[x] = max_nan(row[x], rm[x]);
  }
  maxpool_cols(rm, W, OW, op->attr[1], op->attr[3], op->attr[5], yrow);
}

/* one output of the generic max pool (any dilation): the window's taps inside the input (cold: built for size, the
   1 MiB bound; ResNet's pool, dilation 1, goes by rows) */
__attribute__((cold)) static float maxpool_one(const Op *op, int H, int W, const float *xp, int oy, int ox) {
  int kh = op->attr[0], kw = op->attr[1], sh = op->attr[2], sw = op->attr[3], ph = op->attr[4], pw = op->attr[5];
  int dh = op->attr[6], dw = op->attr[7];
  float mx = -INFINITY;
  int nan = 0;
  long iy0 = (long)oy * sh - ph, ix0 = (long)ox * sw - pw;
  /* the window's taps inside the input: k in [lo, hi) */
  long ylo = iy0 < 0 ? (dh == 1 ? -iy0 : (-iy0 + dh - 1) / dh) : 0;
  long yhi = iy0 > H - 1 ? 0 : (dh == 1 ? H - iy0 : (H - 1 - iy0) / dh + 1);
  long xlo = ix0 < 0 ? (dw == 1 ? -ix0 : (-ix0 + dw - 1) / dw) : 0;
  long xhi = ix0 > W - 1 ? 0 : (dw == 1 ? W - ix0 : (W - 1 - ix0) / dw + 1);
  if (yhi > kh) yhi = kh;
  if (xhi > kw) xhi = kw;
  for (long ky = ylo; ky < yhi; ky++) {
    const float *row = xp + (iy0 + ky * dh) * W;
    for (long kx = xlo; kx < xhi; kx++) {
      float v = row[ix0 + kx * dw];
      mx = v > mx ? v : mx; /* branch-free (maxss); NaN tracked apart */
      nan |= v != v;
    }
  }
  return nan ? NAN : mx;
}

/* PyTorch's max pool: padding never chosen, NaN propagates; an empty window gives -inf. Dilation 1
   (ResNet's stem pool) goes row by row (maxpool_row), any other through maxpool_one. */
__attribute__((MAXPOOL_OPT)) static void maxpool(void *arg, long q0, long q1) {
  const PoolJob *j = arg;
  const Op *op = j->op;
  int H = (int)j->vx->h, W = (int)j->vx->w, OH = (int)j->vy->h, OW = (int)j->vy->w;
  int rows = op->attr[6] == 1 && op->attr[7] == 1 && W <= MAXPOOL_ROW;
  F32DwShape sh = {H, W, OH, OW, op->attr[0], op->attr[1], op->attr[2], op->attr[3], op->attr[4], op->attr[5], op->attr[6],
                   op->attr[7], 0};
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *xp = j->x + q * H * W;
    float *yp = j->y + q * OH * OW;
    if (j->mp && j->mp(xp, yp, &sh)) continue;
    for (int oy = 0; oy < OH; oy++)
      if (rows)
        maxpool_row(op, H, W, OW, xp, oy, yp + (size_t)oy * OW);
      else
        for (int ox = 0; ox < OW; ox++) yp[oy * OW + ox] = maxpool_one(op, H, W, xp, oy, ox);
  }
}

/* PyTorch's avg pool: the window is clipped to the padded input for count_include_pad, to the
   input for the sum and otherwise; divisor_override wins (cold: built for size, no model of the bench has one) */
__attribute__((cold)) static void avgpool(void *arg, long q0, long q1) {
  const PoolJob *j = arg;
  const Op *op = j->op;
  const Value *vx = j->vx, *vy = j->vy;
  const float *x = j->x;
  float *y = j->y;
  int kh = op->attr[0], kw = op->attr[1], sh = op->attr[2], sw = op->attr[3], ph = op->attr[4], pw = op->attr[5];
  int cip = op->attr[7], dov = op->attr[8], H = (int)vx->h, W = (int)vx->w, OH = (int)vy->h, OW = (int)vy->w;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *xp = x + q * H * W;
    float *yp = y + q * OH * OW;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        long hs = (long)oy * sh - ph, ws = (long)ox * sw - pw;
        long he = hs + kh < (long)H + ph ? hs + kh : (long)H + ph, we = ws + kw < (long)W + pw ? ws + kw : (long)W + pw;
        long pool = (he - hs) * (we - ws);
        if (hs < 0) hs = 0;
        if (ws < 0) ws = 0;
        if (he > H) he = H;
        if (we > W) we = W;
        float sum = 0.0f;
        for (long iy = hs; iy < he; iy++)
          for (long ix = ws; ix < we; ix++) sum += xp[iy * W + ix];
        long div = dov ? dov : cip ? pool : (he - hs) * (we - ws);
        yp[oy * OW + ox] = div > 0 ? sum / (float)div : 0.0f;
      }
  }
}

/* the general adaptive pool of planes [q0, q1) (built cold, for the 1 MiB bound: the global average's planes
   take adaptive's loop below) */
__attribute__((cold)) static void adaptive_planes(const PoolJob *j, long q0, long q1) {
  const Value *vx = j->vx, *vy = j->vy;
  const float *x = j->x;
  float *y = j->y;
  int is_max = j->op->type == OP_ADAPTIVE_MAXPOOL2D;
  long H = vx->h, W = vx->w, OH = vy->h, OW = vy->w;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) {
    const float *xp = x + q * H * W;
    float *yp = y + q * OH * OW;
    for (long oy = 0; oy < OH; oy++)
      for (long ox = 0; ox < OW; ox++) {
        long hs = oy * H / OH, he = ((oy + 1) * H + OH - 1) / OH;
        long ws = ox * W / OW, we = ((ox + 1) * W + OW - 1) / OW;
        float acc = is_max ? -INFINITY : 0.0f;
        for (long iy = hs; iy < he; iy++)
          for (long ix = ws; ix < we; ix++) {
            float v = xp[iy * W + ix];
            if (is_max) {
              if (v > acc || isnan(v)) acc = v;
            } else
              acc += v;
          }
        yp[oy * OW + ox] = is_max ? acc : acc / (float)((he - hs) * (we - ws));
      }
  }
}

/* (built for speed: at -Os, for the 1 MiB bound, the 16 sums of the global average lived on the stack, each add a
   load and a store: MobileNetV2's 1280 x 7 x 7 took 67 us an image on one thread, at -O2 22 us, for 272 bytes) */
static void adaptive(void *arg, long q0, long q1) {
  const PoolJob *j = arg;
  long HW = (long)j->vx->h * j->vx->w;
  if (j->op->type == OP_ADAPTIVE_AVGPOOL2D && j->vy->h == 1 && j->vy->w == 1)   /* global average: 16 planes side by
                                          side, each summed in order (the same sums; one plane's chain of adds waited on itself) */
    for (; q0 + 16 <= q1; q0 += 16) {
      float acc[16] = {0};
      for (long i = 0; i < HW; i++)
        for (int c = 0; c < 16; c++) acc[c] += j->x[(size_t)(q0 + c) * HW + i];
      for (int c = 0; c < 16; c++) j->y[q0 + c] = acc[c] / (float)HW;
    }
  if (q0 < q1) adaptive_planes(j, q0, q1);
}

static void run_pool(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Value *vx = &e->m->values[op->in[0]], *vy = &e->m->values[op->out];
  const float *x = engine_val(e, op->in[0]);
  float *y = engine_val(e, op->out);
  PoolJob j = {op, vx, vy, x, y, e->kf->maxpool};
  pool_for((long)n * vx->c, op->type == OP_MAXPOOL2D ? maxpool : op->type == OP_AVGPOOL2D ? avgpool : adaptive, &j);
  act_all(e, y, out_count(e, op, n), op->act);
}

/* ---------------------------------------------------------------- the table */

__attribute__((cold, optimize("Os"))) static int build_conv(Engine *e, const Op *op, OpState *s) {
  if (build_conv_own(e, op, s)) return -1;
  build_conv_irb(e, op, s);
  return 0;
}

const OpImpl f32_ops[OP_COUNT] = {
    [OP_CONV2D] = {build_conv, run_conv},
    [OP_LINEAR] = {build_conv, run_conv},
    [OP_ADD] = {NULL, run_add},
    [OP_CONCAT] = {NULL, run_concat},
    [OP_MAXPOOL2D] = {NULL, run_pool},
    [OP_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_MAXPOOL2D] = {NULL, run_pool},
    [OP_FLATTEN] = {NULL, run_copy_act},
    [OP_ACT] = {NULL, run_copy_act},
    [OP_MUL] = {NULL, run_mul},
};
