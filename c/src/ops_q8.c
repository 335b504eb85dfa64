/* ops_q8.c: the int8 op tables: sq8's (every op) and dq8's GEMM (its other ops are the f32 ones).
 *
 * CONV2D and LINEAR are int8 GEMMs through the kernel descriptor in use (src/kernels_q8.h): packed
 * weights (per conv group; or, where the descriptor reads them so, the file's blocked weights in place: sq8 from
 * format version 3, dq8 from version 5, read_in_place) times an im2col matrix of one image (CONV2D) or of the batch's feature
 * vectors (LINEAR, one column per image), both packed by the descriptor's packers. sq8 stays in
 * integers from QUANTIZE to DEQUANTIZE, exactly as FORMAT.md writes it; dq8 quantizes each im2col
 * column group at run time. An sq8 depthwise CONV2D (one input channel per group) is instead one direct
 * kernel call per (image, output channel) plane (the dispatch's Q8DwDesc), on the model's weights
 * as they are. A dq8 depthwise one is float (FORMAT.md): its weights dequantized at build, then the f32
 * table's depthwise kernel (f32_conv_dw). Every output element is computed by one thread in one fixed
 * order, so sq8 results do not depend on the batch size or the thread count at all, nor do dq8's. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "pool.h"
#include "util.h"

#define KSTEP 4               /* im2col rows: a thread's range is whole quads of rows (the kernels' widest k step) */
#define PAR_MIN 32768         /* a GEMM phase of less work (multiply-adds, or elements moved) runs on the calling
                                 thread: a fork/join costs ~1-2 us (MobileNetV2's depthwise groups: 9 x 49 each) */

static int imin(int a, int b) { return a < b ? a : b; }

/* ---------------------------------------------------------------- CONV2D, LINEAR */

/* a group of gs values padded to the kernel's k step */
static int gsp_of(const Q8Kernels *k, int gs) { return (int)q8_round_up((size_t)gs, (size_t)k->kr); }
/* columns of the GEMM of op s for a batch: a row stride that is a multiple of the kernel's NR */
static size_t gemm_ldx(const Q8Kernels *k, const OpState *s, int batch) {
  return q8_round_up(s->linear ? (size_t)batch : (size_t)s->OH * s->OW, (size_t)k->nr);
}
/* int16 units per NR-column panel of packed X */
static size_t gemm_pstride(const Q8Kernels *k, const OpState *s) { return q8_pstride(k, s->G, s->gs); }

/* sq8 CONV2D with the descriptor's fused im2col: each thread im2cols the columns it multiplies. A 1x1
   stride-1 unpadded one (its im2col a plain relayout of the image) takes it only with more than one
   thread: on one the whole-matrix relayout measured faster (MobileNetV2 sq8 3.1 vs 3.5 ms an image),
   on two the fused path (2.3 vs 2.6: no relayout split by rows over the threads and read by the other,
   one fork/join instead of two). But not a 1x1 that narrows (M < K) a map of 14x14 to 28x28 pixels
   (RELAYOUT_MIN_HW..RELAYOUT_MAX_HW): the fused path's blocks of 256 columns were one task on a 14x14 map
   (one thread worked), two and two uneven ones on 28x28; by the relayout path's blocks of 64, taken in
   turn, MobileNetV2's projections there ran 1.15-1.4x faster on 2 threads at batch 1 and ResNet50's 28x28
   and 14x14 first 1x1s 1.1-1.25x (the widening 1x1s, and the narrowing ones on 56x56 maps, were 1.4-1.8x
   slower that way; on 7x7 maps the same at batch 1 and 1.25-1.55x slower at batch 8). The build sizes
   both paths' scratch for such a 1x1. */
enum { RELAYOUT_MIN_HW = 14 * 14, RELAYOUT_MAX_HW = 28 * 28 };
static int plain1x1(const OpState *s) {
  return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0;
}
/* a strided unpadded 1x1 of at most RELAYOUT_MAX_HW output pixels (ResNet's downsampling layers): on two or more
   threads the relayout path too. Fused, each thread gathered its columns' strided pixels from an input half in
   the other core's cache, and where the weights outweigh the columns (N < M: 14x14 and 7x7) every column
   itself: ResNet50's 14x14 one (1024 x 512) took 43 us a thread for that gather against 29 us for the whole of
   it on one thread, of 108 us in all. By the relayout path (each thread gathers its share of the channels,
   then the GEMM), 60 images at batch 1 on two threads (9 runs alternated): that layer 6.77 -> 4.89 ms, the
   7x7 one 6.74 -> 6.19, the model 277.5 -> 271.0; ResNet18's 28x28 and 14x14 ones 1.70 -> 1.48 and 1.14 ->
   1.06, the model 96.2 -> 95.0; batch 8 within 1% (both models a little faster). Not one in kx-quad order
   (s->kxq, set before this is asked: its weights are packed for that im2col) */
static int strided1x1(const OpState *s) {
  return s->kh == 1 && s->kw == 1 && (s->sh > 1 || s->sw > 1) && s->ph == 0 && s->pw == 0 && !s->kxq &&
         s->OH * s->OW <= RELAYOUT_MAX_HW;
}
static int fused_sq8(const Q8Kernels *k, const OpState *s) {
  return k->im2col_cols && !s->linear && (s->sw == 1 || s->sw == 2);
}
static int use_fused(const Q8Kernels *k, const OpState *s) {
  int hw = s->OH * s->OW, narrow_small = s->M < s->K && hw >= RELAYOUT_MIN_HW && hw <= RELAYOUT_MAX_HW;
  if (pool_threads() > 1 && strided1x1(s)) return 0;
  return fused_sq8(k, s) && (!plain1x1(s) || (pool_threads() > 1 && !narrow_small));
}
/* the fused path's columns per block: 256 when K <= 256 (the stem's 147, a 1x1's 64 or 256: each block's
   fixed costs, the im2col's setup and the kernel call, over more columns; its slot stays at most 64 KiB),
   else 64. Measured (2 threads, 60 images): ResNet18's sq8 stem 17.7 -> 14.2 ms, MobileNetV2 sq8 ~7% */
static int fused_nb(const Q8Kernels *k, const OpState *s) { return (int)q8_round_up(s->K <= 256 ? 256 : 64, (size_t)k->nr); }

/* sq8 CONV2D by the descriptor's implicit convolution (no im2col): a window of at most Q8_CONV_MAXTAPS
   taps that is not 1x1 (a 1x1's im2col is a plain relayout of the image), stride 1, or stride 2 on at least
   64 channels a group (on phase planes, Q8Conv). Stride 2 took the fused im2col path before (each column
   block's 9 x C rows gathered, then multiplied): ResNet's 3x3 stride-2 layers ran at a third to a half of
   the stride-1 layers' GOP/s. Fewer channels (the 3-channel stems) stay there: the AMX kernel's k blocks
   are 64 channels of one tap, 21x the work of the stem's K = 147 in blocks of 64. Nor one whose
   output has at most the descriptor's conv_gemm_hw pixels: the VNNI GEMM's tiles compute a 7x7 map's 49 columns
   and no more, its implicit convolution 64 (61 flat columns in tiles of 32); ResNet18's 7x7 3x3 layers, Zen 4,
   60 images on two threads, 5 runs alternated: 0.91-0.94x. The stride-2 ones too (their 55 flat columns on phase
   planes fill 64), since the tiles' prefetch: ResNet18's 0.88x on one thread and at batch 8 on two, 1.01x at batch 1
   on two; ResNet50's 0.85x, 0.91x and 0.99x (fastest of 4-5 runs alternated; 1.06x before the prefetch). The
   VNNI table's bound is 64 since 2026-12-05: an 8x8 map's 64 columns are two whole tiles of the GEMM, where the
   implicit convolution computed 72 flat columns (rows of 9) in tiles of 32, 96; the pipeline's ResNet18 at 32x32,
   its 8x8 3x3 layers 268-284 -> 352-386 GOP/s on one thread, the model 0.93-0.95x at batch 1 and 8, one thread or
   two (4 runs alternated, Zen 4). */
static int implicit_sq8(const Q8Kernels *k, const OpState *s) {
  int strided = s->sh == 2 && s->sw == 2 && s->C / s->groups >= 64;
  if (s->OH * s->OW <= k->conv_gemm_hw && !s->wtm) return 0;   /* (read in place: GEMM on im2col_qt, OpState.qt) */
  return k->sq8_conv && !s->linear && !s->depthwise && ((s->sh == 1 && s->sw == 1 && s->pw <= (s->kw - 1) * s->dw) || strided) &&
         s->kh * s->kw > 1 && s->kh * s->kw <= Q8_CONV_MAXTAPS;
}
/* sq8 CONV2D by the descriptor's fused im2col in the kx-quad order (Q8Kernels.im2col_kxq: a quad's four rows
   four consecutive taps of one input row, each 16 columns of it one load and one permute), its weights packed
   in that order with zeros for the taps past kw: where the fused path runs it (not an implicit convolution,
   not a plain 1x1), the output rows are whole groups of 16 columns, and K in that order (C * kh * kw rounded
   up to 4) takes at most 15% more of the kernel's k steps than K does: the 3-channel stems (7x7: K = 147 -> 168,
   of 192 either way by AMX's blocks of 64, 1.135x by VNNI's quads; 3x3: 27 -> 36 of 64 by AMX's, 1.29x by VNNI's:
   not there). The same int32 sums (exact), so the same outputs. ResNet18 sq8's stem (60 images, 7 runs
   alternated, AMX table) 24.2 -> 18.3 ms on one thread, 13.3 -> 10.9 on two at batch 1, 13.4 -> 10.1 at batch
   8 (the model 6%); MobileNetV2 sq8's 4.9 -> 4.6. By the AVX-512 VNNI table (Zen 4, 2026-12-04, ABBA, fastest
   of 6-8) the 7x7 stem's 13.5% more vpdpbusd cost less than its im2col saves (0.93x its time on one thread,
   0.96x on two); MobileNetV2's 3x3 stem came out the same either way (1.01x, 0.99x) and stays */
static int kxq_k(const OpState *s) { return s->C * s->kh * ((s->kw + 3) / 4 * 4); }
static int kxq_sq8(const Q8Kernels *k, const OpState *s) {
  return k->im2col_kxq && fused_sq8(k, s) && !implicit_sq8(k, s) && !s->depthwise && s->groups == 1 && !plain1x1(s) &&
         s->dh == 1 && s->dw == 1 && s->OW % 16 == 0 && gsp_of(k, kxq_k(s)) * 20 <= gsp_of(k, s->K) * 23 &&
         k->im2col_kxq(NULL, 0, 0, NULL, 0);
}

/* the flat columns' row (Q8Conv's Wp: W + pw, or Wq: a phase plane's row at stride 2; q8_conv_wq) */
static __attribute__((noinline)) int conv_wq(const OpState *s) { return q8_conv_wq(s->W, s->pw, s->sh, s->sw); }
/* pixels per phase plane (stride 1: the padded image, q8_conv_phase) */
static __attribute__((noinline)) size_t conv_phase(const OpState *s) { return q8_conv_phase(s->H, s->W, s->ph, s->pw, s->sh, s->sw); }
/* quad planes of the group's input: pixels per plane, planes */
static size_t conv_plane(const OpState *s) { return (size_t)s->sh * (size_t)s->sw * conv_phase(s) + Q8_CONV_SLACK; }
/* the flat columns of the output (Q8Conv: oh * Wp + ow, the last row's padding columns left out) */
static int conv_flat(const OpState *s) { return (s->OH - 1) * conv_wq(s) + s->OW; }
static int conv_quads(const Q8Kernels *k, const OpState *s) {
  return (int)q8_round_up((size_t)(s->C / s->groups + 3) / 4, (size_t)k->conv_cq);
}
/* the kernels' view of op s's implicit convolution, its rows, weights and planes not set */
static Q8Conv conv_geo(const OpState *s) {
  Q8Conv c = { 0, s->C / s->groups, s->kh, s->kw, s->dh, s->dw, s->OH, s->OW, conv_wq(s), conv_plane(s), NULL, NULL, s->sh, s->sw,
               conv_phase(s), NULL };
  return c;
}

/* implicit convolution tasks: CONV_RB rows x about CONV_CT micro-tiles of flat columns (conv_tasks). The column
   blocks a multiple of the threads, their micro-tiles as even as can be (3 or 4 for 3.85), so that each thread's
   share is the same: in blocks of 128 columns, ResNet18 sq8's 56x56 layers' 100 micro-tiles (25 blocks) went 52 and
   48, the 28x28 ones' 26 (7 blocks) 16 and 10 */
enum { CONV_RB = 64, CONV_CT = 4 };

/* an implicit convolution of one group runs a batch in one pass: its quad planes, then its tasks over all
   the images (conv_tasks: with few column blocks, ResNet's 14x14 and 7x7 layers, each thread's row blocks
   run over all the images, its share of the weights read once per batch). Two fork/joins per batch
   instead of per image, and more tasks to share: ResNet18 sq8 batch 8, 2 threads, 1.85-1.94 -> 1.76-1.82
   ms/image once the 56x56 and 28x28 layers were in it too. The rule depends on the shape only (the build
   sizes the batch's quad planes), and the weights' place: a small map on im2col_qt's GEMM (OpState.qt) runs one
   image at a time. */
static int conv_batched(const Q8Kernels *k, const OpState *s) { return implicit_sq8(k, s) && s->groups == 1 && !s->qt; }

/* the kernel tables whose tiles are 32 rows (AMX's): what sq8_dwf, ds_next and conv_ncb's row split were measured
   faster with; by the AVX-512 VNNI table (8 rows) each was no faster on the same Xeon */
static int amx_rows(const Q8Kernels *k) { return k->mr >= 32; }

/* conv_tasks' column blocks on th threads: a multiple of th (CONV_CT micro-tiles each, about), at most the micro-tiles.
   By the AMX table a stride-1 map of at most OWN_MAX_HW pixels takes one column block a thread, so
   that its tasks split by rows and each thread makes its own planes (own_planes, below): ResNet18 sq8's 28x28 3x3
   layers (by columns before: each thread's outputs in every channel, on lines the other core had held) 0.83-0.94x their
   time on two threads at batch 1, the ADDs after them 0.67-0.72x (each thread now adds the channels it wrote), the sum
   of ops 0.98x (60 images, fastest of 7 alternated, two sets of runs). ResNet50 sq8 the same (its 28x28 3x3s 0.89-0.94x,
   the 1x1s after them, split by columns, 1.03x), 56x56 maps slower (ResNet18's 1.11-1.18x), and by the VNNI table no
   gain (1.01x) */
enum { OWN_MAX_HW = 28 * 28 };
/* By the AMX table a map of at least CONV_BIG_NT micro-tiles (ResNet's 56x56: 102) takes column blocks of about
   CONV_BIG_CT micro-tiles, fewer calls: ResNet18 sq8's 56x56 3x3 layers 0.95-0.97x their time on two threads at batch 1
   (the sum of ops 0.99x; 30 images, fastest of 5 alternated). Measured once the kernel calls kept the tile
   configuration (amx_tiles.h); what a call still costs is its last micro-tile's epilogue, which reads that micro-tile's
   tile stores right away (the others' run one micro-tile late) */
enum { CONV_BIG_NT = 64, CONV_BIG_CT = 16 };
static long conv_ncb(const OpState *s, long th) {
  long nt = (conv_flat(s) + s->kq->nr - 1) / s->kq->nr, ct = amx_rows(s->kq) && nt >= CONV_BIG_NT ? CONV_BIG_CT : CONV_CT;
  long ncb = th * ((nt + ct * th - 1) / (ct * th));
  if (th > 1 && s->sh == 1 && s->sw == 1 && amx_rows(s->kq) && s->OH * s->OW <= OWN_MAX_HW && ncb > th) ncb = th;
  return ncb > nt ? nt : ncb;   /* (a 7x7 map's 2 micro-tiles: 1 or 2 blocks) */
}
/* An implicit convolution at stride 1 whose tasks the threads split by rows (conv_ncb < 2 th: maps of 14x14 and less,
   ResNet's 14x14 and 7x7 3x3 layers, and by the AMX table 28x28 too) reads all of its quad planes on every thread.
   Made once and shared, half of them came from the other core's cache, a tile row of 16 quads at a time, and on two
   threads each thread's tiles took 1.2-1.3x their one-thread time (Sapphire Rapids, AMX; a copy in each thread's own
   buffer: 0.97-1.05x). Here each thread makes the whole planes in its own slot of SCRATCH_2 (the input read once, in
   order) and runs its tasks on them, in one fork, no join between (own_planes_job). Not at stride 2: its phase planes
   are made from an input 4x the output, and making them twice was slower (ResNet50's 28x28 -> 14x14 layer 1.15x) */
static int own_planes(const OpState *s, long th) { return th > 1 && s->sh == 1 && s->sw == 1 && conv_ncb(s, th) < 2 * th; }

/* weights read in place (OpState.wblk): the tile of group gi's row r0 (a multiple of the tile's wtr rows) and its sums */
static const int8_t *blk_tile(const OpState *s, int gi, int r0, const int32_t **comp) {
  size_t tile = (size_t)gi * (size_t)s->wtm + (size_t)r0 / (size_t)s->wtr;
  *comp = s->wcomp + tile * s->wct;
  return s->wblk + tile * s->wtile;
}
/* a GEMM's weights from row o0 of group gi (o0 a multiple of the kernel's mr and of the tile's rows): the packed ones,
   or the file's read in place with their sums (Q8Gemm.comp) */
static void gemm_a(const OpState *s, int gi, int o0, Q8Gemm *g) {
  if (s->wblk)
    g->A = (const int16_t *)(const void *)blk_tile(s, gi, o0, &g->comp);
  else
    g->A = s->A + (size_t)gi * s->a_elems + s->kq->a_elems(o0, s->G, s->gs), g->comp = NULL;
}

/* sq8 version 3, dq8 version 5: rows [o0, o0 + n) (over the groups) of a weight blocked in the file (model_blocks) in
   (O, K) order, into d */
__attribute__((cold)) static void unblock_rows(const WBlocks *b, const int8_t *w, size_t o0, size_t n, int8_t *d) {
  size_t T = b->T, R = b->R, K = b->KG * b->cig * T, step = T * 4 * R, cells = b->KG * b->NQ;
  for (size_t o = o0; o < o0 + n; o++, d += K) {
    const int8_t *src = w + (o / b->M * b->TM + o % b->M / R) * cells * step + o % b->M % R * 4;
    if (T == 1 && o % b->M % R == 0 && o + R <= o0 + n && o % b->M + R <= b->M) {   /* a whole tile of one tap: read in order */
      for (size_t kg = 0; kg < b->KG; kg++)
        for (size_t q = 0; q < b->NQ; q++, src += step) {
          size_t nc = b->cig - 4 * q < 4 ? b->cig - 4 * q : 4;
          int8_t *dq = d + kg * b->cig + 4 * q;
          for (size_t r = 0; r < R; r++, dq += K) {
            uint32_t v;
            if (nc == 4) memcpy(&v, src + 4 * r, 4), memcpy(dq, &v, 4);
            else memcpy(dq, src + 4 * r, nc);
          }
        }
      o += R - 1, d += (R - 1) * K;
      continue;
    }
    for (size_t kg = 0; kg < b->KG; kg++)   /* one row (a partial tile, or taps): each quad's taps */
    for (size_t q = 0; q < b->NQ; q++, src += step) {
      size_t nc = b->cig - 4 * q < 4 ? b->cig - 4 * q : 4;
      int8_t *dq = d + kg * b->cig * T + 4 * q * T;
      for (size_t t = 0; t < T; t++) {   /* a tap's 4 channels in one load */
        uint32_t v;
        memcpy(&v, src + t * 4 * R, 4);
        if (nc == 4)
          dq[t] = (int8_t)v, dq[T + t] = (int8_t)(v >> 8), dq[2 * T + t] = (int8_t)(v >> 16), dq[3 * T + t] = (int8_t)(v >> 24);
        else
          for (size_t j = 0; j < nc; j++) dq[j * T + t] = (int8_t)(v >> 8 * j);
      }
    }
  }
}
/* the file's tile of blocked weight w (model_blocks' b) that holds row r0 (a multiple of b->R) of group g */
static const int8_t *file_tile(const WBlocks *b, const int8_t *w, size_t g, size_t r0) {
  return w + (g * b->TM + r0 / b->R) * b->KG * b->NQ * b->T * 4 * b->R;
}
/* the packers' rows [o0, o0 + n) of weight w, (O, K): w's own, or (bl: blocked in the file) unblocked into *tmp, a
   buffer of the block's (malloc'ed; NULL when out of memory): each pack task unblocks its rows, ~64 KiB, in cache */
__attribute__((cold)) static const int8_t *rows_of(const WBlocks *bl, const int8_t *w, size_t K, size_t o0, size_t n, int8_t **tmp) {
  *tmp = NULL;
  if (!bl) return w + o0 * K;
  if ((*tmp = malloc(n * K + 1))) unblock_rows(bl, w, o0, n, *tmp);
  return *tmp;
}

/* the implicit convolution's weights, packed in blocks of CONV_RB rows over the pool's threads (block b:
   group b / nb, rows from b % nb * CONV_RB; a block's packed bytes start at conv_a_bytes(r0)) */
typedef struct {
  const Q8Kernels *k;
  const OpState *s;
  const int8_t *w;
  size_t nb;   /* blocks per group */
  const WBlocks *bl;   /* w blocked (rows_of), else NULL */
  int *failed;           /* set when a block's buffer could not be had */
} ConvPackJob;

/* where block b's packed rows start (b = the blocks' count: the end of the buffer) */
static int8_t *conv_dst(const ConvPackJob *j, long b) {
  const OpState *s = j->s;
  int g = (int)((size_t)b / j->nb), r0 = (int)((size_t)b % j->nb) * CONV_RB;
  return s->aconv + (size_t)g * s->aconv_bytes + j->k->conv_a_bytes(r0, s->C / s->groups, s->kh, s->kw);
}

__attribute__((cold)) static void conv_pack_blocks(void *arg, long b0, long b1) {
  const ConvPackJob *j = arg;
  const OpState *s = j->s;
  int cig = s->C / s->groups;
  int8_t *first = conv_dst(j, b0);
  engine_populate(first, (size_t)(conv_dst(j, b1) - first));   /* the chunk's pages */
  for (long b = b0; b < b1; b++) {
    int g = (int)((size_t)b / j->nb), r0 = (int)((size_t)b % j->nb) * CONV_RB, rows = imin(CONV_RB, s->M - r0);
    int8_t *tmp, *dst = conv_dst(j, b);
    const WBlocks *b = j->bl;
    if (b && j->k->pack_conv_blk && b->KG == 1) {   /* straight from the file's tiles (r0 a multiple of CONV_RB, of R) */
      j->k->pack_conv_blk(rows, cig, s->kh, s->kw, file_tile(b, j->w, (size_t)g, (size_t)r0), (int)b->R, dst);
      continue;
    }
    const int8_t *src = rows_of(b, j->w, (size_t)s->K, (size_t)g * s->M + (size_t)r0, (size_t)rows, &tmp);
    if (!src) {
      __atomic_store_n(j->failed, 1, __ATOMIC_RELAXED);
      continue;
    }
    j->k->pack_conv(rows, cig, s->kh, s->kw, src, dst);
    free(tmp);
  }
}

/* packs the weights w (and dq8 zero points wz) of every group, rows of about 64 KiB at a time (a
   multiple of the kernel's mr: a_elems(r0) is where row r0's tile starts), the blocks over the pool's
   threads (each thread its own contiguous blocks), giving the packed rows back to the file
   (model_release) in runs of ENGINE_RELEASE_BYTES (engine_impl.h) */
typedef struct {
  const Engine *e;
  const OpState *s;
  const int8_t *w, *wz;
  size_t nb, step;   /* blocks per group, rows per block */
  const WBlocks *bl;   /* w blocked (rows_of; the file's pages then given back after the op), else NULL */
  int *failed;
} PackJob;

/* where block bk's packed rows start (bk = the blocks' count: the end of the buffer) */
static int16_t *pack_dst(const PackJob *j, size_t bk) {
  const OpState *s = j->s;
  size_t g = bk / j->nb, r0 = bk % j->nb * j->step;
  return s->A + g * s->a_elems + s->kq->a_elems((int)r0, s->G, s->gs);
}

__attribute__((cold)) static void pack_blocks(void *arg, long b0, long b1) {
  const PackJob *j = arg;
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  size_t K = (size_t)s->K, M = (size_t)s->M, G = (size_t)s->G;
  const int8_t *done = NULL;   /* this thread's packed rows not yet given back start here (contiguous) */
  int16_t *first = pack_dst(j, (size_t)b0);
  if (!k->pack_sparse) engine_populate(first, (size_t)(pack_dst(j, (size_t)b1) - first) * sizeof *first);   /* the chunk's pages */
  for (size_t bk = (size_t)b0; bk < (size_t)b1; bk++) {
    size_t g = bk / j->nb, r0 = bk % j->nb * j->step, rows = M - r0 < j->step ? M - r0 : j->step;
    const int8_t *wg = j->w + g * M * K, *zg = j->wz ? j->wz + g * M * G : NULL;
    int16_t *dst = pack_dst(j, bk);
    const WBlocks *b = j->bl;
    if (b && k->pack_w_blk && b->KG == G &&   /* straight from the file's tiles, where the descriptor can */
        k->pack_w_blk((int)rows, s->G, s->gs, (int)b->T, file_tile(b, j->w, g, r0), (int)b->R, zg ? zg + r0 * G : NULL, dst))
      continue;
    int8_t *tmp;
    const int8_t *src = rows_of(b, j->w, K, g * M + r0, rows, &tmp);
    if (!src) {
      __atomic_store_n(j->failed, 1, __ATOMIC_RELAXED);
      continue;
    }
    k->pack_w((int)rows, s->G, s->gs, src, zg ? zg + r0 * G : NULL, dst);
    free(tmp);
    if (j->bl) continue;
    if (!done) done = wg + r0 * K;
    const int8_t *end = wg + (r0 + rows) * K;
    if ((size_t)(end - done) >= ENGINE_RELEASE_BYTES) {   /* a shorter last run: pack_release's engine_release */
      model_release(j->e->m, done, (size_t)(end - done));
      done = NULL;
    }
  }
}

__attribute__((cold, optimize("Os"))) static int pack_release(Engine *e, OpState *s, const int8_t *w, const int8_t *wz, const WBlocks *bl, size_t bytes) {
  size_t K = (size_t)s->K, M = (size_t)s->M, mr = (size_t)s->kq->mr;
  size_t step = rt_cdiv(rt_cdiv((size_t)1 << 16, K), mr) * mr;
  if (bl) step = rt_cdiv(step, bl->R) * bl->R;   /* blocks of whole file tiles (file_tile; mr and R powers of two) */
  int failed = 0;
  PackJob j = {e, s, w, wz, rt_cdiv(M, step), step, bl, &failed};
  pool_for((long)rt_mul_sat((size_t)s->groups, j.nb), pack_blocks, &j);
  engine_release(e, w, bytes);   /* the threads' last runs (blocked: all of them) */
  return failed ? -1 : 0;
}

/* sq8, the kx-quad order (kxq_sq8): the weights, rows of K = C * kh * kw, laid out as rows of gs = C * kh * kq
   (kq: kw rounded up to 4, the taps past kw zero), packed, the file's given back */
__attribute__((cold, optimize("Os"))) static int pack_kxq(Engine *e, OpState *s, const int8_t *wf, const WBlocks *bl, size_t bytes) {
  size_t M = (size_t)s->M, K = (size_t)s->K, gs = (size_t)s->gs, kq = gs / ((size_t)s->C * (size_t)s->kh);
  int8_t *wq = calloc(M, gs), *tmp;
  const int8_t *w = rows_of(bl, wf, K, 0, M, &tmp);
  if (wq && w) {
    for (size_t o = 0; o < M; o++)
      for (size_t r = 0; r < (size_t)s->C * (size_t)s->kh; r++)   /* r = c * kh + ky: one row of taps */
        memcpy(wq + o * gs + r * kq, w + o * K + r * (size_t)s->kw, (size_t)s->kw);
    s->kq->pack_w(s->M, 1, s->gs, wq, NULL, s->A);
  }
  free(tmp);
  free(wq);
  engine_release(e, wf, bytes);
  return wq && w ? 0 : -1;
}

/* a descriptor with blocked_comp (sq8, version 3) or dq8_blocked_sums (dq8, version 5): the GEMM or the implicit
   convolution reads the blocked weights w where the file's map holds them (nothing packed: no fresh pages to fill at
   start-up), their rows' sums (and dq8's weight zero points wz, (O, KG), or none) computed once */
__attribute__((cold, optimize("Os"))) static int read_in_place(Engine *e, OpState *s, const int8_t *w, const WBlocks *b, const int8_t *wz) {
  size_t tiles = b->G * b->TM, KG = b->KG;
  if (!(s->wcomp = engine_alloc(e, tiles * s->wct * sizeof(int32_t)))) return -1;
  if (b->R == 8)
    s->kq->blocked_comp(w, tiles, b->NQ * b->T, s->wcomp);
  else {
    s->kq->dq8_blocked_sums(w, tiles, (int)KG, (int)b->NQ, s->wcomp);
    size_t R = b->R;   /* each tile's [KG][R] zero points after its sums (padding rows: 0) */
    for (size_t t = 0; t < tiles && wz; t++)
      for (size_t r = 0, o0 = t / b->TM * b->M + t % b->TM * R; r < R && t % b->TM * R + r < b->M; r++)
        for (size_t g = 0; g < KG; g++) s->wcomp[t * s->wct + R * KG + R * g + r] = wz[(o0 + r) * KG + g];
  }
  s->wblk = w;
  e->inplace_bytes += tiles * s->wtile;
  return 0;
}

/* sq8: the op's per-channel bias, multiplier and shift copied out of the file (its data may be
   unaligned in a buffer), the file's pages of them given back */
__attribute__((cold, optimize("Os"))) static int sq8_requant_params(Engine *e, const Op *op, OpState *s) {
  const Model *m = e->m;
  size_t O = (size_t)s->O;
  if (!(s->qbias = engine_alloc(e, 4 * O)) || !(s->mult = engine_alloc(e, 4 * O)) || !(s->shift = engine_alloc(e, 4 * O))) return -1;
  memcpy(s->qbias, op_param(m, op, P_SQ8_BIAS)->data, 4 * O);
  memcpy(s->mult, op_param(m, op, P_SQ8_MULT)->data, 4 * O);
  memcpy(s->shift, op_param(m, op, P_SQ8_SHIFT)->data, 4 * O);
  for (int sl = P_SQ8_BIAS; sl <= P_SQ8_SHIFT; sl++) engine_release(e, op_param(m, op, sl)->data, 4 * O);
  return 0;
}

/* dq8_dwf's row panels: output channels per slot (SCRATCH_1, a slot per thread) */
static size_t dwf_rows(const Q8Kernels *k) { return q8_round_up(8, (size_t)k->mr); }
/* sq8_dwf: on maps of at most 32x32, by kernel tables of 32-row tiles (AMX's). MobileNetV2's 112x112 expansion (K =
   16) took 1.29x the pair's time on AMX: each panel reads the image's whole X (800 KB with AMX's K padded to 64), where
   the fused path reads each column block once. Its 56x56 pairs took 0.93-0.95x (stride 1) and 1.01-1.03x (stride 2) on
   AMX, its 28x28 ones 0.76-0.84x (2 threads, batch 1). By the AVX-512 VNNI table (on the same Xeon; its GEMM slower,
   so less of its time is lines crossing between the cores) the 56x56 pairs took 1.06x and 1.17x, the 28x28 ones
   0.89-0.96x but the projections after them 1.07-1.11x, the model no faster: that table keeps the two ops. Where a
   projection follows on a map of at least DWF_MIN_HW, the three run by bands instead (run_sq8_irb, below) */
enum { SQ8_DWF_MAX_HW = 32 * 32 };
static size_t sq8_dwf_rows(const Q8Kernels *k) { return (size_t)k->mr; }   /* (amx_rows: one tile) */

/* dq8 CONV2D: columns per block, and a thread's slot of SCRATCH_1: the block's im2col floats (none when
   the image is read in place: 1x1, or the descriptor's dq8_conv_quant), then when fused (dq8_fused) its
   quantized X (NB / nr panels) and its scales (G rows of NB), each 64-byte aligned. Fused when the
   group's weights (M x K bytes) are at most its quantized image (2 x K x N bytes): the fused order
   reads the weights again per column block, the two phases the quantized image per row block. */
static size_t dq8_nb(const Q8Kernels *k) { return q8_round_up(64, (size_t)k->nr); }   /* = the job's NB */
static size_t al64(size_t n) { return q8_round_up(n, 64); }
static int dq8_fuse(const OpState *s) { return (size_t)s->M <= 2 * (size_t)s->OH * (size_t)s->OW; }
/* the slot's layout: its bytes, and where its quantized X (*oq) and scales (*os) start */
static size_t dq8_slot_layout(const Q8Kernels *k, const OpState *s, size_t *oq, size_t *os) {
  size_t nb = dq8_nb(k), floats = s->direct || s->dq8cq ? 0 : (size_t)s->K * nb;
  *oq = al64(4 * floats);
  if (!dq8_fuse(s)) return *os = *oq;
  *os = *oq + al64(2 * q8_pstride(k, s->G, s->gs) * (nb / (size_t)k->nr));
  return *os + al64(4 * (size_t)s->G * nb);
}
static size_t dq8_slot_bytes(const Q8Kernels *k, const OpState *s) {
  size_t oq, os;
  return dq8_slot_layout(k, s, &oq, &os);
}

static void build_dq8_irb(Engine *e, const Op *op, OpState *s);
static void build_sq8_irb(Engine *e, const Op *op, OpState *s);

/* A strided sq8 implicit convolution (one group) makes its input's phase planes; a later 1x1 CONV2D of one group on
   the same input, of the same stride, no padding, whose output has the same size (ResNet's downsampling shortcut
   beside its block's first 3x3) reads only the pixels of one phase plane: pixel (sh oy, sw ox) is the padded
   (sh oy + ph, sw ox + pw), phase (ph % sh, pw % sw) at (oy + ph / sh, ox + pw / sw). So that 1x1 runs inside the
   3x3's op as an implicit convolution of one tap on those planes (implicit_pass), its weights packed for it, with the
   3x3's kernels: no strided gather of its own, no relayout, no phases of its own (at batch 1 on two threads it had
   run no faster than on one, its input half in the other core's cache). Its output is written from the 3x3's op
   on (engine.c's plan_with_scratch). The same integer sums, so the same bytes. By the AMX table only (tiles of 32 rows):
   ResNet18 sq8 on this Xeon, 60 images, fastest of 5-7 alternated, per op: on two threads its 28x28, 14x14 and 7x7 1x1s
   (2.09, 1.51 and 1.05 ms) cost 1.43, 0.79 and 0.64 ms more in their 3x3s' ops, the sum of all ops 0.95-0.98x; on one
   0.97x. By the AVX-512 VNNI table the 1x1s cost as much inside the 3x3s' ops as alone (the sum 1.00-1.01x); Zen 4 was
   not measured. Returns 1 + that op's index, or 0 */
__attribute__((cold, optimize("Os"))) static uint32_t ds_next(const Engine *e, const Op *op, const OpState *s) {
  const Model *m = e->m;
  if (s->groups != 1 || (s->sh == 1 && s->sw == 1) || !amx_rows(s->kq)) return 0;
  for (uint32_t i = e->cur_op + 1; i < m->n_ops; i++) {
    const Op *d = &m->ops[i];
    if (d->type != OP_CONV2D || d->n_in < 1 || d->in[0] != op->in[0]) continue;
    const int32_t *a = d->attr;
    const Value *y = &m->values[d->out];
    if (a[A_CONV2D_KH] == 1 && a[A_CONV2D_KW] == 1 && a[A_CONV2D_SH] == s->sh && a[A_CONV2D_SW] == s->sw &&
        a[A_CONV2D_PH] == 0 && a[A_CONV2D_PW] == 0 && a[A_CONV2D_GROUPS] == 1 && (int)y->h == s->OH && (int)y->w == s->OW &&
        !e->st[i].ds_in)
      return i + 1;
  }
  return 0;
}

__attribute__((cold, optimize("Os"))) static int build_gemm(Engine *e, const Op *op, OpState *s) {
  const Model *m = e->m;
  const Q8Kernels *k = s->kq = s->ds_in ? e->st[s->ds_in - 1].kq : e->kq_below && s->K < e->kq->min_k ? e->kq_below : e->kq;
  int sq8 = m->kind == KIND_SQ8;
  WBlocks bl;
  int blocked = model_blocks(m, op, &bl);   /* (then the descriptor reads them in place, or a copy (O, K)) */
  if (blocked && (sq8 ? k->blocked_comp != NULL : k->dq8_blocked_sums != NULL))
    s->wtm = (int)bl.TM, s->wtr = (int)bl.R, s->wtile = bl.KG * bl.NQ * bl.T * 4 * bl.R, s->wct = sq8 ? 8 : 8 * bl.KG;
  s->gs = sq8 ? s->K : op->attr[s->linear ? A_LINEAR_GS : A_CONV2D_GS];
  s->G = s->K / s->gs;
  if ((s->kxq = sq8 && !s->ds_in && kxq_sq8(k, s))) s->gs = kxq_k(s);
  s->kp = gsp_of(k, s->gs) / k->kr;
  s->asym = !sq8 && op_param(m, op, P_DQ8_ZERO_POINTS) != NULL;
  s->direct = !sq8 && !s->linear && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 &&
              s->pw == 0 && s->groups == 1;
  s->a_elems = k->a_elems(s->M, s->G, s->gs);
  size_t O = (size_t)s->O;
  if (sq8 && s->depthwise) {   /* the direct kernel reads the weights in place: nothing to pack */
    if (sq8_requant_params(e, op, s)) return -1;
    return 0;
  }
  if (!sq8 && s->depthwise) {   /* float (FORMAT.md): the weights dequantized once, the f32 depthwise kernel */
    size_t K = (size_t)s->K, G = (size_t)s->G, gs = (size_t)s->gs, nsc = O * G;
    const Param *bp = op_param(m, op, P_DQ8_BIAS), *zp = op_param(m, op, P_DQ8_ZERO_POINTS);
    const int8_t *wq = op_param(m, op, P_DQ8_WEIGHT)->data, *zq = zp ? zp->data : NULL;
    const float *sc = op_param(m, op, P_DQ8_SCALES)->data;
    if (!(s->wdq = engine_alloc(e, 4 * O * K)) || (bp && !(s->bf = engine_alloc(e, 4 * O)))) return -1;
    for (size_t g = 0; g < nsc; g++)   /* group g of output g / G: s (q - z), one rounding (as sq8's DEQUANTIZE) */
      q8_sq8_dequantize(wq + g * gs, gs, sc[g], zq ? zq[g] : 0, s->wdq + g * gs);
    if (bp) memcpy(s->bf, bp->data, 4 * O);
    engine_release(e, wq, O * K);
    engine_release(e, sc, 4 * nsc);
    if (zq) engine_release(e, zq, nsc);
    if (bp) engine_release(e, bp->data, 4 * O);
    return 0;
  }
  const Param *wp = op_param(m, op, P_SQ8_WEIGHT);
  const int8_t *w = wp->data;
  int implicit = sq8 && (s->ds_in || implicit_sq8(k, s)), in_place = s->wtm && (!sq8 || implicit || (s->kh * s->kw == 1 && !s->kxq));
  const WBlocks *blk = blocked && !in_place ? &bl : NULL;   /* the packers unblock their rows (rows_of) */
  const Param *zpp = sq8 ? NULL : op_param(m, op, P_DQ8_ZERO_POINTS);
  if (in_place && read_in_place(e, s, w, &bl, zpp ? zpp->data : NULL)) return -1;
  if (implicit) {   /* packed per group for the implicit convolution (or read in place); no GEMM */
    int cig = s->C / s->groups;
    if (in_place && !s->ds_in) {
      /* a small map (the descriptor's conv_gemm_hw, where its GEMM wastes fewer columns): its GEMM, on X from the quad
         planes in the weights' order (im2col_qt), one image at a time */
      Q8Conv c = conv_geo(s);
      s->qt = s->OH * s->OW <= k->conv_gemm_hw && k->im2col_qt && s->groups == 1 && s->C % 4 == 0 &&
              k->im2col_qt(&c, 0, 0, s->OH * s->OW, NULL, 0);
    } else {
      s->aconv_bytes = k->conv_a_bytes(s->M, cig, s->kh, s->kw);
      if (!(s->aconv = engine_alloc_packed(e, rt_mul_sat(s->aconv_bytes, (size_t)s->groups)))) return -1;
      int failed = 0;
      ConvPackJob pj = { k, s, w, (size_t)(s->M + CONV_RB - 1) / CONV_RB, blk, &failed };
      pool_for((long)rt_mul_sat((size_t)s->groups, pj.nb), conv_pack_blocks, &pj);
      engine_release(e, w, wp->nbytes);
      if (failed) return -1;
    }
    if (sq8_requant_params(e, op, s)) return -1;
    if (s->ds_in) return 0;   /* (run on the planes of the op before it) */
    if (!s->qt && (s->ds_op = ds_next(e, op, s))) e->st[s->ds_op - 1].ds_in = e->cur_op + 1, e->st[s->ds_op - 1].fused = 1;
    size_t planes = rt_mul_sat(rt_mul_sat(conv_plane(s), (size_t)conv_quads(k, s)), 4);
    engine_need(e, SCRATCH_2, rt_mul_sat(planes, conv_batched(k, s) ? (size_t)e->batch : 1));
    if (implicit_sq8(k, s) && own_planes(s, pool_threads()))   /* (a slot a thread) */
      engine_need(e, SCRATCH_2, rt_mul_sat(planes, (size_t)pool_threads()));
    if (s->qt) engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat(gemm_pstride(k, s), gemm_ldx(k, s, 1) / (size_t)k->nr), 2));
    return 0;
  }
  if (!in_place && !(s->A = engine_alloc_packed(e, rt_mul_sat(rt_mul_sat(s->a_elems, (size_t)s->groups), 2)))) return -1;
  if (sq8) {
    if (sq8_requant_params(e, op, s) ||
        (!in_place && (s->kxq ? pack_kxq(e, s, w, blk, wp->nbytes) : pack_release(e, s, w, NULL, blk, wp->nbytes))))
      return -1;
  } else {
    size_t nsc = O * (size_t)s->G;
    const float *sc = op_param(m, op, P_DQ8_SCALES)->data;
    if (in_place && (uintptr_t)sc % 4 == 0)   /* the map is kept whole (Engine.inplace_bytes): read in place too */
      s->ws = sc;
    else if ((s->ws = s->ws_own = engine_alloc(e, 4 * nsc)))
      memcpy(s->ws_own, sc, 4 * nsc);
    else
      return -1;
    const Param *bp = op_param(m, op, P_DQ8_BIAS), *zp = op_param(m, op, P_DQ8_ZERO_POINTS);
    if (bp) {
      if (!(s->bf = engine_alloc(e, 4 * O))) return -1;
      memcpy(s->bf, bp->data, 4 * O);
    }
    engine_release(e, op_param(m, op, P_DQ8_SCALES)->data, 4 * nsc);
    if (bp) engine_release(e, bp->data, 4 * O);
    if (!in_place && pack_release(e, s, w, zp ? zp->data : NULL, blk, wp->nbytes)) return -1;
    if (zp) engine_release(e, zp->data, nsc);
  }
  size_t ldx = gemm_ldx(k, s, e->batch);
  if (sq8 && fused_sq8(k, s)) {
    /* one slot of NB columns per thread (SCRATCH_1), the group's padded input channels (SCRATCH_2) */
    size_t slot = rt_mul_sat(rt_mul_sat(gemm_pstride(k, s), (size_t)fused_nb(k, s) / (size_t)k->nr), 2);
    int nth = pool_threads() > 0 ? pool_threads() : 1;
    engine_need(e, SCRATCH_1, rt_mul_sat(slot, (size_t)nth));
    if (s->ph || s->pw)
      engine_need(e, SCRATCH_2, rt_mul_sat(rt_mul_sat((size_t)(s->C / s->groups), (size_t)s->H + 2 * (size_t)s->ph),
                                           (size_t)s->W + 2 * (size_t)s->pw));
    if (!plain1x1(s) && !strided1x1(s)) return 0;   /* (those two: the relayout path's scratch too) */
  }
  if (sq8 && plain1x1(s) && s->groups == 1 && amx_rows(k) && (size_t)s->OH * s->OW <= SQ8_DWF_MAX_HW && dw_next(e, op, s)) {
    s->dwf = e->st[e->cur_op + 1].fused = 1;   /* sq8_dwf: X in SCRATCH_2, a slot of planes a thread */
    engine_need(e, SCRATCH_1, rt_mul_sat(rt_mul_sat(sq8_dwf_rows(k), (size_t)s->OH * s->OW), (size_t)(pool_threads() > 0 ? pool_threads() : 1)));
    engine_need(e, SCRATCH_2, rt_mul_sat(rt_mul_sat(gemm_pstride(k, s), gemm_ldx(k, s, 1) / (size_t)k->nr), 2));
  }
  if (sq8 && !s->linear) build_sq8_irb(e, op, s);
  if (!sq8 && !s->linear) {
    /* dq8 CONV2D: per thread a slot (dq8_slot_bytes); the two phases also the whole image's X and scales */
    Q8Dq8Conv probe = { NULL, s->H, s->W, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH, s->OW, 0 };
    s->dq8cq = k->dq8_conv_quant && k->dq8_conv_quant(&probe, 0, s->G, s->gs, 0, s->asym, NULL, 0, NULL, 0);
    int nth = pool_threads() > 0 ? pool_threads() : 1;
    engine_need(e, SCRATCH_1, rt_mul_sat(dq8_slot_bytes(k, s), (size_t)nth));
    /* its residual ADD fused (residual_next), where that ADD's activation is none, ReLU or ReLU6 (the f32 table's ADD
       and the dq8 kernels' epilogues agree on those bit for bit): every tile of the GEMM adds the ADD's other input, on
       which it writes the ADD's output, after the bias (Q8Dq8Epi.res), as the ADD would. Each output is stored once, in
       each path (dq8_fused, the two phases). ResNet50 dq8 0.94-0.96x its time, ResNet18 0.975x (Zen 4, two threads,
       batch 1 and 8: c/README.md) */
    if ((s->res_in = residual_next(e, op, s, 1)) != TR_NONE) s->res = e->st[e->cur_op + 1].fused = 1;
    build_dq8_irb(e, op, s);
    if (s->direct && dw_next(e, op, s)) {   /* dq8_dwf: the two phases' X and scales, a slot of planes per thread */
      s->dwf = e->st[e->cur_op + 1].fused = 1;
      engine_need(e, SCRATCH_1, rt_mul_sat(rt_mul_sat(dwf_rows(k), (size_t)s->OH * s->OW * 4), (size_t)nth));
    } else {
      s->dq8rows = dw_reads(e, op);   /* (that op's threads split by channels) */
      if (dq8_fuse(s)) return 0;
    }
    engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat(gemm_pstride(k, s), ldx / (size_t)k->nr), 2));   /* xq */
    engine_need(e, SCRATCH_2, rt_mul_sat(rt_mul_sat((size_t)s->G, ldx), 4));                          /* xs */
    return 0;
  }
  engine_need(e, SCRATCH_0, rt_mul_sat(rt_mul_sat(gemm_pstride(k, s), ldx / (size_t)k->nr), 2));   /* xq */
  if (!sq8) {   /* dq8 LINEAR: the batch's feature vectors as float columns (xf), their scales (xs) */
    engine_need(e, SCRATCH_1, rt_mul_sat(rt_mul_sat((size_t)s->K, ldx), 4));
    engine_need(e, SCRATCH_2, rt_mul_sat(rt_mul_sat((size_t)s->G, ldx), 4));
  }
  return 0;
}

/* one GEMM op's run (one image and conv group, or LINEAR's batch): its phases, each split over threads */
typedef struct {
  const Engine *e;
  const OpState *s;
  const Op *op;
  const void *x;          /* CONV2D: the image; LINEAR: the batch */
  const float *xf;        /* dq8: the float columns to quantize, row stride ldxf */
  ptrdiff_t ldxf;
  void *y;                /* the output of channel o, column p: y + o * ys_o + p * ys_p (elements) */
  ptrdiff_t ys_o, ys_p;
  int sq8, gi, N, n;      /* group; GEMM columns; LINEAR: images */
  int MB, NB, nt;         /* GEMM tasks: MB x NB, nt per row of tasks */
  size_t ldx, ps;         /* columns of the X scratch; int16 units per NR-column panel */
  const int8_t *xp;       /* sq8 fused im2col: the group's input channels, padded: planes of Hp x Wp */
  int Hp, Wp;
  int nimg;               /* sq8 implicit convolution: images in one pass (conv_batched), else 1 */
  size_t in_img, out_img, qimg;   /* their strides: input and output elements, quad-plane bytes */
  int rows_first;         /* sq8 implicit convolution: conv_tasks' order (implicit_pass decides it) */
  long ncb;               /* sq8 implicit convolution: its column blocks (implicit_pass) */
  int cols_first;         /* gemm_tasks' order: column blocks (b * mt + r), else row blocks (r * nt + b) */
  PoolShare *sh;          /* im2col_gemm's column tasks, or dq8_fused's units, as nsh stealable shares, else NULL */
  int nsh;
  int by_rows;            /* im2col_gemm's shares are of rows_task's order (each thread its rows over every column block) */
  int8_t *xq;             /* sq8 implicit convolution: the quad planes conv_tasks reads (NULL: SCRATCH_2's) */
  int16_t *xb;            /* sq8: the X im2col_rows writes (NULL: SCRATCH_0; sq8_dwf's: SCRATCH_2) */
  int8_t *yds;            /* sq8, OpState.ds_op: that 1x1's output, as y */
} Q8Job;

/* one GEMM task: rows [o0, o0 + MB), columns [p0, p0 + NB), X the panel of column p0 */
static void gemm_one(const Q8Job *j, int o0, int p0, const int16_t *X) {
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  const float *xs = j->e->scratch[SCRATCH_2];
  const Op *op = j->op;
  int32_t zy = j->e->m->values[op->out].zero_point;
  {
    int oc = j->gi * s->M + o0;                        /* first output channel of the task */
    Q8Gemm g = { imin(j->MB, s->M - o0), imin(j->NB, j->N - p0), s->G, s->kp, NULL, X, (ptrdiff_t)j->ps, NULL };
    gemm_a(s, j->gi, o0, &g);   /* (o0 a multiple of MB, of the kernel's mr and the tile's rows) */
    if (j->sq8) {
      Q8Sq8Epi ep = { s->qbias + oc, s->mult + oc, s->shift + oc, zy, op->qmin, op->qmax,
                      (int8_t *)j->y + (ptrdiff_t)oc * j->ys_o + (ptrdiff_t)p0 * j->ys_p, j->ys_o, j->ys_p };
      k->sq8_gemm(&g, &ep);
    } else {
      Q8Dq8Epi ep = { s->ws + (size_t)oc * s->G, xs + p0, (ptrdiff_t)j->ldx, s->bf ? s->bf + oc : NULL, (int)op[s->res].act,
                      (float *)j->y + (ptrdiff_t)oc * j->ys_o + (ptrdiff_t)p0 * j->ys_p, j->ys_o, j->ys_p, s->res };
      k->dq8_gemm(&g, &ep);
    }
  }
}

/* GEMM tasks [t0, t1) of MB x NB: row block t / nt, column block t % nt; cols_first: t % mt, t / mt */
static void gemm_tasks(void *arg, long t0, long t1) {
  const Q8Job *j = arg;
  const int16_t *xq = j->e->scratch[SCRATCH_0];
  long mt = (j->s->M + j->MB - 1) / j->MB;
  for (long t = t0; t < t1; t++) {
    long r = j->cols_first ? t % mt : t / j->nt, b = j->cols_first ? t / mt : t % j->nt;
    int o0 = (int)r * j->MB, p0 = (int)b * j->NB;
    gemm_one(j, o0, p0, xq + (size_t)(p0 / j->s->kq->nr) * j->ps);
  }
}

/* sq8 fused im2col and GEMM: tasks (column block b, row block r) in the order b * mt + r, a contiguous share of
   about equal weight per thread (task_share: ResNet50's 28x28 layers' 4 blocks of 256, 256, 256 and 16 columns went
   2 to each thread: their 1x1s 1.25x faster on two threads); where the weights outweigh the columns (N < M) and
   there are at least two row blocks per thread, each thread its share of the row blocks over every column block,
   so it reads only its share of the weights (ResNet50's 14x14 1x1 stride-2 layer, 1024 x 512 weights, 4 blocks of
   64, 64, 64 and 4 columns: 7.1 -> 5.9 ms per 60 images). A thread im2cols column block b into its slot of
   SCRATCH_1 (NB columns, cache-resident) when its share reaches b, then multiplies it. Threads past the scratch's
   slots sit out; each output is one kernel call over all of K whichever thread makes it. */
static void task_share(const Q8Job *j, long mt, long T, int id, int step, long *t0, long *t1);
/* im2col_gemm's task t (column block t / mt, row block t % mt) into buf, whose column block is *have (im2col'ed
   again when t's differs) */
static void im2col_task(const Q8Job *j, long t, long mt, int16_t *buf, long *have) {
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  long b = t / mt;
  int p0 = (int)b * j->NB;
  if (b != *have) {
    if (s->kxq) {
      const Q8Kxq g = { j->xp, j->Hp, j->Wp, s->C, s->kh, s->kw, s->sh, s->sw, s->OW };
      k->im2col_kxq(&g, p0, imin(j->N, p0 + j->NB), buf, (ptrdiff_t)j->ps);
    } else
      k->im2col_cols(j->xp, j->Hp, j->Wp, s->kh, s->kw, s->sh, s->sw, s->dh, s->dw, s->OH, s->OW,
                     j->e->m->values[j->op->in[0]].zero_point, s->K, p0, imin(j->N, p0 + j->NB), buf, (ptrdiff_t)j->ps);
    *have = b;
  }
  gemm_one(j, (int)(t % mt) * j->MB, p0, buf);
}

/* im2col_gemm's slots of SCRATCH_1 (one per share that runs) */
static int im2col_slots(const Q8Job *j) {
  return (int)(j->e->scratch_bytes[SCRATCH_1] / (2 * j->ps * (size_t)(j->NB / j->s->kq->nr)));
}

/* im2col_gemm's split by rows: where the weights outweigh the columns (N < M) and there are at least two row blocks per
   thread (task_share, above) */
static int by_rows(const Q8Job *j, long mt, int step) { return j->N < j->s->M && mt >= 2 * step; }
/* the split by rows as stealable shares: thread i's tasks u in [nt r0, nt r1) (its rows [r0, r1) = [mt i / step,
   mt (i + 1) / step) over the nt column blocks), each share column block after column block, so that its run im2cols
   each block once and a thief takes the last block's last rows (im2col'ing that block into its own slot). Task u
   is (column block b, row block r): t = b * mt + r. Split once, without stealing, a busy host's slow vCPU held the
   other up: ResNet18 sq8's 14x14 and 7x7 3x3 layers scaled 1.53-1.58x from one thread to two where its 56x56 ones
   (column shares, stealable) scaled 1.70-1.73x (Zen 3, 2026-12-08; c/README.md, "Threads") */
static long rows_task(const Q8Job *j, long mt, int step, long u) {
  int i = 0;
  while (i + 1 < step && u >= j->nt * (mt * (i + 1) / step)) i++;
  long r0 = mt * i / step, n = mt * (i + 1) / step - r0, v = u - j->nt * r0;
  return v / n * mt + r0 + v % n;
}

static void im2col_gemm(void *arg, int id, int nth) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  size_t per = 2 * j->ps * (size_t)(j->NB / s->kq->nr);
  int step = j->sh ? j->nsh : nth < im2col_slots(j) ? nth : im2col_slots(j);
  if (id >= step) return;
  int16_t *buf = (int16_t *)((char *)j->e->scratch[SCRATCH_1] + (size_t)id * per);
  long mt = (s->M + j->MB - 1) / j->MB, t0 = 0, t1 = mt * j->nt, r0 = 0, r1 = mt, have = -1;
  if (j->sh) {   /* its own tasks, then the ends of the others' (im2col_shares) */
    for (int d = 0; pool_share_next(j->sh, j->nsh, id, &d, &t0, &t1);)
      for (long u = t0; u < t1; u++) im2col_task(j, j->by_rows ? rows_task(j, mt, j->nsh, u) : u, mt, buf, &have);
    return;
  }
  if (by_rows(j, mt, step)) r0 = mt * id / step, r1 = mt * (id + 1) / step;   /* by rows: every block */
  else task_share(j, mt, t1, id, step, &t0, &t1);
  for (long t = t0; t < t1; t++)
    if (t % mt >= r0 && t % mt < r1) im2col_task(j, t, mt, buf, &have);
}

/* im2col_gemm's tasks as stealable shares in sh (task_share's split over the pool's threads and the slots, or by rows:
   rows_task), so that a thread done with its own takes the end of a slower one's (each into its own slot); NULL over
   more than POOL_STEAL_MAX threads */
static PoolShare *im2col_shares(Q8Job *j, PoolShare *sh) {
  int slots = im2col_slots(j), th = pool_threads(), step = th < slots ? th : slots;
  long mt = (j->s->M + j->MB - 1) / j->MB, T = mt * j->nt;
  if (step < 2 || step > POOL_STEAL_MAX) return NULL;
  j->by_rows = by_rows(j, mt, step);
  for (int id = 0; id < step; id++) {
    long t0, t1;
    if (j->by_rows) t0 = j->nt * (mt * id / step), t1 = j->nt * (mt * (id + 1) / step);
    else task_share(j, mt, T, id, step, &t0, &t1);
    pool_share_set(&sh[id], t0, t1);
  }
  j->nsh = step;
  return sh;
}

/* sq8 implicit convolution: quad planes [t0, t1) of the group's input into SCRATCH_2, t = image * quads + quad
   (nimg > 1: each image's planes qimg bytes apart) */
static int8_t *conv_xq(const Q8Job *j) { return j->xq ? j->xq : (int8_t *)j->e->scratch[SCRATCH_2]; }

static void quad_tasks(void *arg, long t0, long t1) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  int cig = s->C / s->groups;
  long nq = conv_quads(s->kq, s);
  size_t plane = conv_plane(s);
  for (long t = t0; t < t1;) {
    long img = t / nq, q0 = t % nq, q1 = nq - q0 < t1 - t ? nq : q0 + (t1 - t);
    j->e->kew->quad_planes((const int8_t *)j->x + (size_t)img * j->in_img + (size_t)j->gi * cig * s->H * s->W, cig, s->H,
                           s->W, s->ph, s->pw, s->sh, s->sw, j->e->m->values[j->op->in[0]].zero_point, s->kq->conv_xor, plane, (int)q0,
                           (int)q1, conv_xq(j) + (size_t)img * j->qimg + (size_t)q0 * plane * 4);
    t += q1 - q0;
  }
}

/* sq8 implicit convolution: tasks [t0, t1) of CONV_RB rows x a column block (j->ncb), t = column block *
   row blocks + row block, so the threads split the columns; with fewer than two column blocks per
   thread, t = row block * column blocks + column block, so they split the rows (each then reads only its
   share of the weights: ResNet's 14x14 and 7x7 layers at batch 1) */
static void conv_tasks(void *arg, long t0, long t1) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  int F = conv_flat(s), mt = (s->M + CONV_RB - 1) / CONV_RB, cig = s->C / s->groups, nr = k->nr;
  size_t rb_bytes = k->conv_a_bytes(CONV_RB, cig, s->kh, s->kw);
  long ncb = j->ncb, ni = j->nimg, nt = (F + nr - 1) / nr;
  int rows_first = j->rows_first;
  Q8Conv c = conv_geo(s);
  for (long t = t0; t < t1; t++) {
    /* rows first: (row block, image, column block), so a thread's tasks of one row block (its weights) run
       over all the images in a row; else (image, column block, row block) */
    long rbk = rows_first ? t / (ni * ncb) : t % mt, img = rows_first ? t / ncb % ni : t / (ncb * mt);
    long cbk = rows_first ? t % ncb : t / mt % ncb;
    int r0 = (int)rbk * CONV_RB, oc = j->gi * s->M + r0;
    c.M = imin(CONV_RB, s->M - r0);
    if (s->wblk)
      c.A = blk_tile(s, j->gi, r0, &c.comp);
    else
      c.A = s->aconv + (size_t)j->gi * s->aconv_bytes + (size_t)rbk * rb_bytes;
    c.xq = conv_xq(j) + (size_t)img * j->qimg;
    Q8Sq8Epi ep = { s->qbias + oc, s->mult + oc, s->shift + oc, j->e->m->values[j->op->out].zero_point, j->op->qmin,
                    j->op->qmax, (int8_t *)j->y + (size_t)img * j->out_img + (ptrdiff_t)oc * j->N, j->N, 1 };
    k->sq8_conv(&c, &ep, (int)(nt * cbk / ncb) * nr, imin(F, (int)(nt * (cbk + 1) / ncb) * nr));
  }
}

/* sq8, OpState.qt: the image's quad planes [q0, q1) into SCRATCH_2, then their quads of X (SCRATCH_0) */
static void qt_tasks(void *arg, long q0, long q1) {
  const Q8Job *j = arg;
  quad_tasks(arg, q0, q1);
  Q8Conv c = conv_geo(j->s);
  c.xq = j->e->scratch[SCRATCH_2];
  j->s->kq->im2col_qt(&c, (int)q0, (int)q1, j->N, j->e->scratch[SCRATCH_0], (ptrdiff_t)j->ps);
}

/* sq8 fused: channels [c0, c1) of the group padded into SCRATCH_2 */
static void pad_channels(void *arg, long c0, long c1) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  int8_t *xp = j->e->scratch[SCRATCH_2];
  q8_pad_planes((const int8_t *)j->x + (size_t)(j->gi * (s->C / s->groups)) * s->H * s->W, s->H, s->W, s->ph, s->pw,
                j->e->m->values[j->op->in[0]].zero_point, (int)c0, (int)c1, xp + (size_t)c0 * j->Hp * j->Wp);
}

/* dq8: quantize column tasks [t0, t1) (NB columns each) of xf into the xq / xs scratch */
static void quant_tasks(void *arg, long t0, long t1) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  int16_t *xq = j->e->scratch[SCRATCH_0];
  float *xs = j->e->scratch[SCRATCH_2];
  for (long t = t0; t < t1; t++) {
    int p0 = (int)t * j->NB;
    k->dq8_quant(s->G, s->gs, imin(j->NB, j->N - p0), j->xf + p0, j->ldxf, s->asym, xq + (size_t)(p0 / k->nr) * j->ps,
                 (ptrdiff_t)j->ps, xs + p0, (ptrdiff_t)j->ldx);
  }
}

/* sq8 depthwise: one task per (image, output channel) plane; output channel o reads input channel
   o / M (M = the channel multiplier) */
typedef struct {
  const OpState *s;
  const int8_t *x, *w;
  int8_t *y;
  const Q8DwShape *sh;
  q8_dwconv_fn dw;
  q8_dwconv_n_fn dwn;   /* or NULL */
} Q8DwJob;

static void dw_planes(void *arg, long q0, long q1) {
  const Q8DwJob *j = arg;
  const OpState *s = j->s;
  size_t HW = (size_t)s->H * s->W, OHW = (size_t)s->OH * s->OW, K = (size_t)s->kh * s->kw;
  for (long q = q0; q < q1; q++) {
    size_t o = (size_t)q % (size_t)s->O;
    if (j->dwn && s->O == s->C) {   /* one input plane per output plane: a run of them up to the image's end */
      long r = (long)((size_t)s->O - o) < q1 - q ? (long)((size_t)s->O - o) : q1 - q;
      j->dwn(j->x + (size_t)q * HW, j->w + o * K, s->qbias + o, s->mult + o, s->shift + o, j->y + (size_t)q * OHW,
             j->sh, (int)r);
      q += r - 1;
      continue;
    }
    j->dw(j->x + dw_in_plane(s, (size_t)q) * HW, j->w + o * K, s->qbias[o], s->mult[o], s->shift[o],
          j->y + (size_t)q * OHW, j->sh);
  }
}

static void run_dw(const Engine *e, const Op *op, const OpState *s, int n) {
  const Model *m = e->m;
  Q8DwShape sh = {s->H, s->W, s->OH, s->OW, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw,
                  m->values[op->in[0]].zero_point, m->values[op->out].zero_point, op->qmin, op->qmax};
  Q8DwJob j = {s, engine_val(e, op->in[0]), op_param(m, op, P_SQ8_WEIGHT)->data, engine_val(e, op->out), &sh,
               e->kdw->dwconv, e->kdw->dwconv_n};
  pool_for((long)n * s->O, dw_planes, &j);
}

/* LINEAR: rows [k0, k1) of X, one column per image: X[k][img] */
static void linear_rows(void *arg, long k0, long k1) {
  const Q8Job *j = arg;
  int K = j->s->K;
  int16_t *xq = j->e->scratch[SCRATCH_0];
  float *xf = j->e->scratch[SCRATCH_1];
  for (int kk = (int)k0; kk < (int)k1; kk++)
    for (int i = 0; i < j->n; i++)
      if (j->sq8) j->s->kq->put_x(xq, j->ps, kk, i, ((const int8_t *)j->x)[(size_t)i * K + kk]);
      else xf[(size_t)kk * j->ldx + i] = ((const float *)j->x)[(size_t)i * K + kk];
}

/* sq8 CONV2D: im2col rows [t0 * KSTEP, t1 * KSTEP) of the image's group gi into xq */
static void im2col_rows(void *arg, long t0, long t1) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  int c0 = j->gi * (s->C / s->groups), r0 = (int)t0 * KSTEP, r1 = imin(s->K, (int)t1 * KSTEP);
  s->kq->im2col_i8(j->x, s->H, s->W, c0, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH, s->OW,
                      j->e->m->values[j->op->in[0]].zero_point, r0, r1, j->xb ? j->xb : j->e->scratch[SCRATCH_0], (ptrdiff_t)j->ps);
}

/* fn over [0, n) on the calling thread when `work` is small, else over threads (dyn: dynamically) */
static void phase(long n, pool_range_fn fn, Q8Job *j, double work, int dyn) {
  if (work < PAR_MIN) fn(j, 0, n);
  else (dyn ? pool_for_dyn : pool_for)(n, fn, j);
}

/* dq8 CONV2D: quantizes the n <= NB columns from p0 (a multiple of nr) of the image's group, its quantization
   groups [g0, g1) (all of them unless the descriptor has dq8_quant_g), into xq (their first panel) and xs (row
   stride ldxs): straight from the image by the descriptor's dq8_conv_quant, from the image itself when 1x1, else
   through the columns' im2col floats in buf */
static void dq8_quant_cols(const Q8Job *j, int p0, int n, int g0, int g1, float *buf, int16_t *xq, float *xs,
                           ptrdiff_t ldxs) {
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  int c0 = j->gi * (s->C / s->groups);
  const float *x = (const float *)j->x + (size_t)c0 * s->H * s->W;
  Q8Dq8Conv cv = { x, s->H, s->W, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OH, s->OW, p0 };
  if (s->direct) {
    if (g1 - g0 < s->G) k->dq8_quant_g(g0, g1, s->gs, n, x + (size_t)g0 * s->gs * j->N + p0, j->N, s->asym, xq, (ptrdiff_t)j->ps, xs, ldxs);
    else k->dq8_quant(s->G, s->gs, n, x + p0, j->N, s->asym, xq, (ptrdiff_t)j->ps, xs, ldxs);
  } else if (!s->dq8cq || !k->dq8_conv_quant(&cv, g0, g1, s->gs, n, s->asym, xq, (ptrdiff_t)j->ps, xs, ldxs)) {
    if (k->dq8_quant_g)   /* a group of rows at a time: gs x NB floats, in L1 */
      for (int g = g0; g < g1; g++) {
        q8_im2col_f32_cols(j->x, s->H, s->W, c0, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OW,
                           g * s->gs, (g + 1) * s->gs, p0, p0 + n, buf, j->NB);
        k->dq8_quant_g(g, g + 1, s->gs, n, buf, j->NB, s->asym, xq, (ptrdiff_t)j->ps, xs, ldxs);
      }
    else {
      q8_im2col_f32_cols(j->x, s->H, s->W, c0, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->OW, 0, s->K,
                         p0, p0 + n, buf, j->NB);
      k->dq8_quant(s->G, s->gs, n, buf, j->NB, s->asym, xq, (ptrdiff_t)j->ps, xs, ldxs);
    }
  }
}

/* this thread's slot of SCRATCH_1 and the threads that have one (*step); 0: this one sits out, past the
   slots (a slot of no bytes: every thread has one) */
static int dq8_slot(const Q8Job *j, int id, int nth, int *step, char **slot) {
  size_t per = dq8_slot_bytes(j->s->kq, j->s);
  int slots = per ? (int)(j->e->scratch_bytes[SCRATCH_1] / per) : nth;
  *step = nth < slots ? nth : slots;
  *slot = per ? (char *)j->e->scratch[SCRATCH_1] + (size_t)id * per : NULL;
  return id < *step;
}

/* share id of step of T tasks, the first tl weighing wf each and the rest wl: [t0, t1), ending at the task
   boundary nearest its share of the weight */
static void weighed_share(long T, long tl, long wf, long wl, int id, int step, long *t0, long *t1) {
  long W = tl * wf + (T - tl) * wl, at[2];
#define CUM(t) ((t) <= tl ? (t) * wf : tl * wf + ((t) - tl) * wl)   /* the weight of tasks [0, t) */
  for (int i = 0; i < 2; i++) {
    long w = W * (id + i) / step, t = 0;
    while (t < T && CUM(t) < w) t++;
    if (t > 0 && CUM(t) - w > w - CUM(t - 1)) t--;
    at[i] = t;
  }
#undef CUM
  *t0 = at[0], *t1 = at[1];
}

/* thread id's contiguous run [t0, t1) of the T tasks t = b * mt + r (column block b of NB columns, row
   block r): runs of about equal weight, a task weighing its block's micro-tiles of nr columns, so that a
   last block of few columns counts for little (ResNet18's 14x14 layers: 4 blocks of 64, 64, 64 and 4
   columns went 2 to one thread and 1 and the 4-column one to the other). Each run ends at the task boundary
   nearest its share of the weight (the first one past it gave one thread 7 of ResNet50's 13 blocks of 256
   columns at 56x56, 1,792 columns against 1,344) */
static void task_share(const Q8Job *j, long mt, long T, int id, int step, long *t0, long *t1) {
  long nr = j->s->kq->nr, wf = (j->NB + nr - 1) / nr, wl = (j->N - (long)(j->nt - 1) * j->NB + nr - 1) / nr;
  weighed_share(T, (long)(j->nt - 1) * mt, wf, wl, id, step, t0, t1);
}

/* thread id's run of whole column blocks [b0, b1): about N / step columns each, each run ending at the block
   boundary nearest its share of the columns (the last block's few columns count as few) */
static void block_share(const Q8Job *j, int id, int step, long *b0, long *b1) {
  weighed_share(j->nt, j->nt - 1, j->NB, j->N - (long)(j->nt - 1) * j->NB, id, step, b0, b1);
}

/* the dq8 GEMM of rows [o0, o0 + MB) and the n columns from p0, quantized in xq / xs (row stride nb) */
static void dq8_block_gemm(const Q8Job *j, int o0, int p0, int n, const int16_t *xq, const float *xs, size_t nb) {
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  int oc = j->gi * s->M + o0;
  Q8Gemm g = { imin(j->MB, s->M - o0), n, s->G, s->kp, NULL, xq, (ptrdiff_t)j->ps, NULL };
  gemm_a(s, j->gi, o0, &g);
  Q8Dq8Epi ep = { s->ws + (size_t)oc * s->G, xs, (ptrdiff_t)nb, s->bf ? s->bf + oc : NULL, (int)j->op[s->res].act,
                  (float *)j->y + (ptrdiff_t)oc * j->ys_o + p0, j->ys_o, 1, s->res };
  k->dq8_gemm(&g, &ep);
}

/* dq8 CONV2D fused, one image and conv group: tasks (column block b, row block r) in the order b * mt + r,
   a contiguous share per thread; a thread quantizes column block b into its slot when its share
   reaches b, then multiplies it, so the block is still in its cache and the op has no barrier between
   quantization and GEMM. A block two shares meet in is quantized by both, the same bytes. With at least
   DQ8_BLOCKS_SPLIT column blocks a thread, the shares are whole blocks (block_share), weighed by their
   columns: quantization costs about what the GEMM does (ResNet18 dq8's 28x28 layers at batch 1 on two
   threads: 44-56% of a thread's time), and a share of the GEMM's weight gave one thread 6.5 blocks of 64
   columns and the other 5.5 and the 16-column one, the middle block quantized by both: the thread times
   apart by 15%. ResNet18's 3x3 28x28 layers 7-10% faster (13 blocks), the model 1-3% (7-11 runs alternated).
   With fewer blocks (14x14 maps: 64, 64, 64 and 4 columns) an im2col convolution's shares are columns, whole
   micro-tiles of nr, each thread's in blocks of up to NB over all the rows (col_share), so that no columns
   are quantized twice: 98 columns each instead of two blocks of 64 (one shared) and the 4-column one, and at
   batch 1 on two threads ResNet18's 14x14 3x3s 4-11% and ResNet50's 4-14% faster, the models 0.7% and 1.3%
   (60 images, 5-9 runs alternated; by whole blocks, 128 columns against 68, 3-11% slower). Not for the 1x1s
   (their quantization is a plain pass over the image): there, a last block of 32 or 36 columns costs the
   tiles' loop more than the split saves (ResNet50's 14x14 1x1s 4% and MobileNetV2's 7-20% slower), and they
   keep the weighted shares, ending inside a block. */
enum { DQ8_BLOCKS_SPLIT = 6 };
static int col_share(const Q8Job *j, int step) {
  return !j->s->direct && step > 1 && j->nt < (long)DQ8_BLOCKS_SPLIT * step && j->N >= 2 * j->s->kq->nr * step;
}
/* dq8_fused's units of share id of step: micro-tiles of columns (col_share), else tasks (column block b, row block r) as
   b * mt + r, whole blocks (block_share) or weighed (task_share) */
static void dq8_fused_share(const Q8Job *j, int id, int step, long *t0, long *t1) {
  const OpState *s = j->s;
  long mt = (s->M + j->MB - 1) / j->MB;
  if (col_share(j, step)) {
    long units = (j->N + s->kq->nr - 1) / s->kq->nr;
    *t0 = units * id / step, *t1 = units * (id + 1) / step;
  } else if (j->nt >= (long)DQ8_BLOCKS_SPLIT * step) {
    block_share(j, id, step, t0, t1);
    *t0 *= mt, *t1 *= mt;
  } else
    task_share(j, mt, mt * j->nt, id, step, t0, t1);
}

/* units [t0, t1) of dq8_fused_share's kind (cols: micro-tiles, each run of them in blocks of up to NB columns over all
   the rows; else tasks), quantized into the slot's xq / xs as the run reaches each column block (tasks: *have, the
   block the slot holds, kept from one run to the next) */
static void dq8_fused_units(const Q8Job *j, int cols, long t0, long t1, char *slot, int16_t *xq, float *xs, size_t nb, long *have) {
  const OpState *s = j->s;
  if (cols) {
    int nr = s->kq->nr, c0 = (int)t0 * nr, c1 = imin(j->N, (int)t1 * nr);
    for (int p0 = c0; p0 < c1; p0 += j->NB) {
      int n = imin(j->NB, c1 - p0);
      dq8_quant_cols(j, p0, n, 0, s->G, (float *)(void *)slot, xq, xs, (ptrdiff_t)nb);
      for (int o0 = 0; o0 < s->M; o0 += j->MB) dq8_block_gemm(j, o0, p0, n, xq, xs, nb);
    }
    return;
  }
  long mt = (s->M + j->MB - 1) / j->MB;
  for (long t = t0; t < t1; t++) {
    long b = t / mt;
    int p0 = (int)b * j->NB;
    if (b != *have) dq8_quant_cols(j, p0, imin(j->NB, j->N - p0), 0, s->G, (float *)(void *)slot, xq, xs, (ptrdiff_t)nb), *have = b;
    dq8_block_gemm(j, (int)(t % mt) * j->MB, p0, imin(j->NB, j->N - p0), xq, xs, nb);
  }
}

/* dq8_fused by rows (OpState.dq8rows, at least two row blocks a thread): each thread its row blocks over every column
   block, so the depthwise op after it (split by channels) reads what its own core wrote; the column split left each
   thread every channel of its pixels, half of what the depthwise op then read in the other core. Each thread
   quantizes every column (a few thousand values: an expansion's K is small). MobileNetV2 dq8 (this Xeon, 2026-12-06,
   night, batch 1, two threads, per op, fastest of 5 alternated, two binaries): its 14x14 expansions 0.75-0.88x their
   time and the depthwise ops after them 0.78-0.79x, the sum of its ops 0.98x. The same sums (each output one kernel
   call over all of K), so the same bytes. Static shares: no stealing. (On the two-phase path the same mark hands the
   GEMM's tasks out in runs, not one at a time: run_gemm_op; c/README.md) */
static int dq8_by_rows(const Q8Job *j, int step) {
  return j->s->dq8rows && step > 1 && (j->s->M + j->MB - 1) / j->MB >= 2L * step;
}

static void dq8_fused(void *arg, int id, int nth) {
  const Q8Job *j = arg;
  const OpState *s = j->s;
  const Q8Kernels *k = s->kq;
  int step;
  char *slot;
  if (!dq8_slot(j, id, nth, &step, &slot)) return;
  size_t nb = dq8_nb(k), oq, os;
  dq8_slot_layout(k, s, &oq, &os);
  int16_t *xq = (int16_t *)(void *)(slot + oq);
  float *xs = (float *)(void *)(slot + os);
  long t0, t1, have = -1;   /* (have: the column block quantized in the slot) */
  if (dq8_by_rows(j, step)) {   /* its row blocks, every column block quantized once in its slot */
    long mt = (s->M + j->MB - 1) / j->MB, r0 = mt * id / step, r1 = mt * (id + 1) / step;
    for (long b = 0; b < j->nt; b++) {
      int p0 = (int)b * j->NB, n = imin(j->NB, j->N - p0);
      dq8_quant_cols(j, p0, n, 0, s->G, (float *)(void *)slot, xq, xs, (ptrdiff_t)nb);
      for (long r = r0; r < r1; r++) dq8_block_gemm(j, (int)r * j->MB, p0, n, xq, xs, nb);
    }
    return;
  }
  int cols = col_share(j, j->sh ? j->nsh : step);   /* (the shares' kind of unit, made for nsh threads) */
  if (!j->sh) dq8_fused_share(j, id, step, &t0, &t1);
  for (int d = 0; pool_share_own(j->sh, j->nsh, id, &d, &t0, &t1);) dq8_fused_units(j, cols, t0, t1, slot, xq, xs, nb, &have);
}

/* dq8_fused's shares as stealable PoolShares in sh (the same ranges: a thief quantizes the stolen units' columns in its
   own slot), or NULL (one share, or more than POOL_STEAL_MAX) */
static PoolShare *dq8_fused_shares(Q8Job *j, PoolShare *sh) {
  int step;
  char *slot;
  dq8_slot(j, 0, pool_threads(), &step, &slot);
  if (step < 2 || step > POOL_STEAL_MAX || dq8_by_rows(j, step)) return NULL;
  for (int id = 0; id < step; id++) {
    long t0, t1;
    dq8_fused_share(j, id, step, &t0, &t1);
    pool_share_set(&sh[id], t0, t1);
  }
  j->nsh = step;
  return sh;
}

/* the two phases' quantization split by groups (each thread its groups of every column block), not by blocks:
   with fewer blocks than threads (a 7x7 map's 49 columns are one) one thread quantized the whole image while the
   others waited. ResNet18 dq8 at batch 1 (Zen 4, 60 images, ABBA, fastest of 10): its 7x7 3x3 layers on two
   threads 0.55-0.57x their one-thread time instead of 0.64-0.67x, 0.87-0.93x the time they took; ResNet50's 7x7
   layers 0.85-0.97x; one thread the same (1.001x). The bytes are the same either way */
static int dq8_split_groups(const Q8Job *j, int step) {
  return step > 1 && j->nt < step && j->s->G >= step && j->s->kq->dq8_quant_g;
}

/* dq8 CONV2D in two phases, first: column blocks id, id + step, ... of the whole image into the xq / xs
   scratch (then gemm_tasks); with fewer column blocks than threads (dq8_split_groups), every block, each thread
   its share of the quantization groups */
static void dq8_quant_blocks(void *arg, int id, int nth) {
  const Q8Job *j = arg;
  int step;
  char *slot;
  if (!dq8_slot(j, id, nth, &step, &slot)) return;
  int16_t *xq = j->e->scratch[SCRATCH_0];
  float *xs = j->e->scratch[SCRATCH_2];
  int G = j->s->G, split = dq8_split_groups(j, step), g0 = split ? G * id / step : 0, g1 = split ? G * (id + 1) / step : G;
  for (long b = split ? 0 : id; b < j->nt; b += split ? 1 : step)   /* (split: every block, its groups; else its blocks) */
    dq8_quant_cols(j, (int)b * j->NB, imin(j->NB, j->N - (int)b * j->NB), g0, g1, (float *)(void *)slot,
                   xq + (size_t)(b * j->NB / j->s->kq->nr) * j->ps, xs + b * j->NB, (ptrdiff_t)j->ldx);
}

/* dq8_dwf's and sq8_dwf's row panels of R channels, a slot of per bytes of SCRATCH_1 a thread: as stealable shares in sh
   (the same ranges: a thief's panels go to its own slot), or NULL (one slot, or more than POOL_STEAL_MAX) */
static PoolShare *panel_shares(Q8Job *j, PoolShare *sh, size_t R, size_t per) {
  long step = engine_slots(j->e, SCRATCH_1, per, pool_threads());
  return (j->nsh = pool_shares_even(sh, (j->s->M + (long)R - 1) / (long)R, (int)step)) ? sh : NULL;
}

/* dq8 1x1 CONV2D and the depthwise one after it (dw_next), as f32's run_dwf: once the image's columns are
   quantized (dq8_quant_blocks, SCRATCH_0 and 2), each thread takes row panels of dwf_rows(k) output channels over
   all the columns into its slot of SCRATCH_1 (8 planes: 401 KB at 112x112, in a Zen 4's 1 MiB L2 beside the
   quantized image's 392 KB; 4, 12, 16 and 24 measured no different), then their depthwise
   planes into j->y, that op's output (float: its wdq and bf, the f32 kernel, as run_gemm_op's f32_conv_dw). The
   same kernel calls per output as unfused (the dq8 GEMM's output does not depend on its blocking), so the same
   outputs bit for bit; the 1x1's output (96 x 112 x 112 floats at MobileNetV2's first) is never stored. */
static void dq8_dwf(void *arg, int id, int nth) {
  const Q8Job *j = arg;
  const OpState *s = j->s, *sd = s + 1;
  const Q8Kernels *k = s->kq;
  size_t R = dwf_rows(k), HW = (size_t)j->N, OHW = (size_t)sd->OH * sd->OW, per = R * HW * 4;
  long step = engine_slots(j->e, SCRATCH_1, per, nth), P = (s->M + (long)R - 1) / (long)R;
  if (id >= step) return;
  float *slot = (float *)(void *)((char *)j->e->scratch[SCRATCH_1] + (size_t)id * per), *y = j->y;
  const F32DwShape sh = {sd->H, sd->W, sd->OH, sd->OW, sd->kh, sd->kw, sd->sh, sd->sw, sd->ph, sd->pw, sd->dh, sd->dw, (int)j->op[1].act};
  long u0 = P * id / step, uz = P * (id + 1) / step;
  for (int d = 0; pool_share_own(j->sh, j->nsh, id, &d, &u0, &uz);) {
    for (long u = u0; u < uz; u++) {
      int o0 = (int)u * (int)R, rows = imin((int)R, s->M - o0);
      Q8Gemm g = { rows, j->N, s->G, s->kp, NULL, j->e->scratch[SCRATCH_0], (ptrdiff_t)j->ps, NULL };
      gemm_a(s, 0, o0, &g);
      Q8Dq8Epi ep = { s->ws + (size_t)o0 * s->G, j->e->scratch[SCRATCH_2], (ptrdiff_t)j->ldx, s->bf ? s->bf + o0 : NULL,
                      (int)j->op->act, slot, (ptrdiff_t)HW, 1, 0 };
      k->dq8_gemm(&g, &ep);
      for (int r = 0; r < rows; r++)
        j->e->kf->dw->dwconv(slot + (size_t)r * HW, sd->wdq + (size_t)(o0 + r) * sd->K, sd->bf ? sd->bf[o0 + r] : 0.0f,
                             y + (size_t)(o0 + r) * OHW, &sh);
    }
  }
}

/* rows [o0, o0 + M) of op s's GEMM on X (n columns, packed for s->kq) with its epilogue into y (rows ys_o apart) */
static void sq8_rows(const Model *m, const Op *op, const OpState *s, const int16_t *X, int n, int o0, int M, int8_t *y,
                     ptrdiff_t ys_o) {
  Q8Gemm g = { M, n, s->G, s->kp, NULL, X, (ptrdiff_t)gemm_pstride(s->kq, s), NULL };
  gemm_a(s, 0, o0, &g);
  Q8Sq8Epi ep = { s->qbias + o0, s->mult + o0, s->shift + o0, m->values[op->out].zero_point, op->qmin, op->qmax, y, ys_o, 1 };
  s->kq->sq8_gemm(&g, &ep);
}

/* depthwise op sd (weights wd) on its n planes from channel o0: x's planes xs bytes apart, y's ys apart, shape sh */
static void sq8_dw_rows(const Engine *e, const OpState *sd, const int8_t *wd, int o0, int n, const int8_t *x, size_t xs,
                        int8_t *y, size_t ys, const Q8DwShape *sh) {
  size_t K = (size_t)sd->kh * sd->kw;
  if (e->kdw->dwconv_n && xs == (size_t)sh->H * sh->W && ys == (size_t)sh->OH * sh->OW)
    e->kdw->dwconv_n(x, wd + (size_t)o0 * K, sd->qbias + o0, sd->mult + o0, sd->shift + o0, y, sh, n);
  else
    for (int r = 0; r < n; r++)
      e->kdw->dwconv(x + (size_t)r * xs, wd + (size_t)(o0 + r) * K, sd->qbias[o0 + r], sd->mult[o0 + r], sd->shift[o0 + r],
                     y + (size_t)r * ys, sh);
}

/* sq8 1x1 CONV2D and the depthwise one after it (dw_next; maps of 28x28 to SQ8_DWF_MAX_HW), as dq8_dwf: once the
   image's X is laid out (im2col_rows, split by its rows), each thread takes row panels of sq8_dwf_rows(k) output channels
   over all the columns into its slot of SCRATCH_1 (int8 planes, the 1x1's output), then their depthwise planes into
   j->y, that op's output. Unfused, on two threads the 1x1 split its columns over the threads (the fused path) and the
   depthwise op its planes, so half of each plane it read came from the other core's cache (MobileNetV2's 144 x 56 x
   56: 452 KB). X is laid out in SCRATCH_2, not SCRATCH_0 where the projection after the pair lays out its own: there
   the two threads' rows of X fall on different lines, and the projections' layouts of a 28x28 map were 1.06-1.19x
   slower for the lines the other core had written last. The same kernel calls per output (an sq8 output depends on
   its own sums only), so the same outputs bit for bit. */
static void sq8_dwf(void *arg, int id, int nth) {
  const Q8Job *j = arg;
  const OpState *s = j->s, *sd = s + 1;
  const Op *dop = j->op + 1;
  const Model *m = j->e->m;
  const Q8Kernels *k = s->kq;
  size_t R = sq8_dwf_rows(k), HW = (size_t)j->N, OHW = (size_t)sd->OH * sd->OW, per = R * HW;
  long step = engine_slots(j->e, SCRATCH_1, per, nth), P = (s->M + (long)R - 1) / (long)R;
  if (id >= step) return;
  int8_t *slot = (int8_t *)j->e->scratch[SCRATCH_1] + (size_t)id * per, *y = j->y;
  const Q8DwShape sh = {sd->H, sd->W, sd->OH, sd->OW, sd->kh, sd->kw, sd->sh, sd->sw, sd->ph, sd->pw, sd->dh, sd->dw,
                        m->values[j->op->out].zero_point, m->values[dop->out].zero_point, dop->qmin, dop->qmax};
  const int8_t *wd = op_param(m, dop, P_SQ8_WEIGHT)->data;
  long u0 = P * id / step, uz = P * (id + 1) / step;
  for (int d = 0; pool_share_own(j->sh, j->nsh, id, &d, &u0, &uz);) {
    for (long u = u0; u < uz; u++) {
      int o0 = (int)u * (int)R, rows = imin((int)R, s->M - o0);
      sq8_rows(m, j->op, s, j->xb, j->N, o0, rows, slot, (ptrdiff_t)HW);
      sq8_dw_rows(j->e, sd, wd, o0, rows, slot, HW, y + (size_t)o0 * OHW, OHW, &sh);
    }
  }
}

/* X is in place (sq8) or in j->xf (dq8): quantize it (dq8), then the GEMM, each over threads. sq8's tasks in
   contiguous runs (dq8's taken in turn, dynamically), by column blocks where there are more than two per
   thread, else by row blocks: ResNet50 sq8's narrowing 1x1s at batch 1 on two threads (the relayout path,
   use_fused), 60 images: 28x28 4.4 -> 2.8 ms, 14x14 3.6 -> 2.7, 7x7 the same (taken in turn, both threads
   read every panel at once; by column blocks the 14x14 maps' 4 blocks of 64, 64, 64 and 4 split unevenly) */
static void quant_gemm(Q8Job *j) {
  double kn = (double)j->s->K * j->N;
  if (!j->sq8) phase(j->nt, quant_tasks, j, kn, 0);
  j->cols_first = j->sq8 && j->nt > 2 * (long)pool_threads();
  phase((long)((j->s->M + j->MB - 1) / j->MB) * j->nt, gemm_tasks, j, kn * j->s->M, !j->sq8);
}

/* conv_tasks' tasks of one image: column blocks x row blocks of CONV_RB */
static long conv_ntasks(const Q8Job *j) { return j->ncb * ((j->s->M + CONV_RB - 1) / CONV_RB); }

/* own_planes' job, on j->nsh slots of SCRATCH_2: thread id's slot of quad planes made whole, then its share of
   conv_tasks' tasks (stealable: j->sh), on its slot */
static void own_planes_job(void *arg, int id, int nth) {
  (void)nth;
  Q8Job jj = *(const Q8Job *)arg;
  long T = conv_ntasks(&jj), t0 = T * id / jj.nsh, t1 = T * (id + 1) / jj.nsh;
  if (id >= jj.nsh) return;
  jj.xq = (int8_t *)jj.e->scratch[SCRATCH_2] + (size_t)id * jj.qimg;
  quad_tasks(&jj, 0, conv_quads(jj.s->kq, jj.s));
  for (int d = 0; pool_share_own(jj.sh, jj.nsh, id, &d, &t0, &t1);) conv_tasks(&jj, t0, t1);
}

/* sq8 implicit convolution of nimg images from j->x (in_img elements apart): their quad planes, then their
   tasks, each phase over the threads; or, one image where own_planes, each thread its planes and then its tasks */
static void implicit_pass(Q8Job *j, int nimg) {   /* (a plan, then two phases or one job) */
  const OpState *s = j->s;
  int F = conv_flat(s);
  long nq = conv_quads(s->kq, s);
  j->nimg = nimg, j->qimg = conv_plane(s) * (size_t)nq * 4;
  /* conv_tasks' order decided here, by the pool's threads: inside the job pool_threads() is 1, and deciding it
     there split batch 1's 14x14 layers (two column blocks) by columns, 128 against 94 of them */
  long th = pool_threads() > 1 ? pool_threads() : 1;
  j->ncb = conv_ncb(s, th);
  j->rows_first = j->ncb < 2 * th;
  double work = (double)s->K * F * s->M * nimg;
  long step = engine_slots(j->e, SCRATCH_2, j->qimg, th);
  if (nimg == 1 && own_planes(s, th) && work >= PAR_MIN && step > 1) {
    PoolShare sh[POOL_STEAL_MAX];
    j->nsh = (int)step;
    j->sh = pool_shares_even(sh, conv_ntasks(j), (int)step) ? sh : NULL;
    pool_run(own_planes_job, j);
    j->sh = NULL, j->nsh = 0;
    return;
  }
  phase(nimg * nq, quad_tasks, j, (double)conv_plane(s) * (s->C / s->groups) * nimg, 0);
  phase(conv_ntasks(j) * nimg, conv_tasks, j, work, 0);
  if (s->ds_op) {   /* the strided 1x1 on these planes (ds_next): one tap, from the phase its pixels are in */
    OpState sd = j->e->st[s->ds_op - 1];
    sd.ph = s->ph, sd.pw = s->pw;   /* (the planes' geometry: conv_wq, conv_phase, conv_plane, conv_flat) */
    Q8Job d = *j;
    d.s = &sd, d.op = &j->e->m->ops[s->ds_op - 1], d.y = j->yds, d.out_img = (size_t)sd.O * sd.OH * sd.OW;
    d.xq = conv_xq(j) + (((size_t)(s->ph % s->sh) * (size_t)s->sw + (size_t)(s->pw % s->sw)) * conv_phase(s) +
                         (size_t)(s->ph / s->sh) * (size_t)conv_wq(s) + (size_t)(s->pw / s->sw)) * 4;
    d.ncb = conv_ncb(&sd, th), d.rows_first = d.ncb < 2 * th;
    phase(conv_ntasks(&d) * nimg, conv_tasks, &d, (double)sd.K * F * sd.M * nimg, 0);
  }
}

/* sq8, OpState.qt: the image's quad planes and X in one phase (qt_tasks), then the GEMM */
static void qt_pass(Q8Job *j) {
  j->nimg = 1, j->qimg = 0;
  phase(conv_quads(j->s->kq, j->s), qt_tasks, j, (double)j->s->K * j->N, 0);
  quant_gemm(j);
}

/* sq8 GEMM tasks of the AMX table: 128 rows (two kernel passes of 64), not 64, and a strided 1x1's relayout path
   (strided1x1) 256 columns a task, not 64: fewer calls, as CONV_BIG_CT (above). Per op (2 threads, batch 1, 30 images,
   fastest of 4-5 alternated): ResNet50's 56x56 widening 1x1s 0.94-0.96x their time by 128 rows, its
   strided 1x1s 0.78-0.85x by 256 columns (the narrowing 28x28 ones on the same path 1.11-1.15x that way: not them).
   With CONV_BIG_CT (above), the sums of ops: ResNet18 0.99x at batch 1 on two threads, 0.98x on one and at batch 8;
   ResNet50 0.99x at batch 1 on two and one, 1.00x at batch 8; MobileNetV2 1.00x */
enum { SQ8_AMX_MB = 128, SQ8_STRIDED_NB = 256 };
/* sq8 CONV2D's and LINEAR's columns per GEMM task: the fused path's (fused_nb), else 64 or SQ8_STRIDED_NB */
static int sq8_nb(const Q8Kernels *k, const OpState *s) {
  if (use_fused(k, s)) return fused_nb(k, s);
  return (int)q8_round_up(amx_rows(k) && strided1x1(s) ? SQ8_STRIDED_NB : 64, (size_t)k->nr);
}

/* sq8 CONV2D's rows per GEMM task: 64 (SQ8_AMX_MB by the AMX table), but with fewer column blocks than twice the
   threads (maps of 14x14 and less: 196 columns in blocks of 64, 64, 64 and 4; 49 in one), blocks of about an eighth
   of a thread's share of the rows, whole micro-tiles: split by rows, a 7x7 layer's 160 rows in blocks of 64, 64 and
   32 went 128 to one thread and 32 to the other, and a 14x14 one's 64 rows were one block (its columns split 128
   against 68) */
static int sq8_mb(const Q8Kernels *k, const OpState *s, long nt) {
  long th = pool_threads();
  int mb = (int)q8_round_up(amx_rows(k) ? SQ8_AMX_MB : 64, (size_t)k->mr);
  if (th < 2 || nt >= 2 * th) return mb;
  int want = (int)q8_round_up((size_t)((s->M + 8 * th - 1) / (8 * th)), (size_t)k->mr);
  return want < mb ? want : mb;
}

/* ---- dq8's inverted residual blocks by bands of rows (as f32's run_irb, ops_f32.c; the graph's side irb_graph): the
   1x1 expansion (dq8_dwf's, IRB_EXP) or a stored depthwise input (IRB_DW), the depthwise op, and the 1x1 projection
   after it (with its residual ADD where that is fused), as one op. Each thread takes whole bands of the depthwise
   op's output rows (images x chunks of rows, in order; then bands from the end of a slower thread's share, as f32's);
   per band it quantizes the expansion's input rows that the
   band's windows read, multiplies them panel by panel into its slot (dwf_rows(k) channels), convolves each panel's
   planes into the band's buffer (every channel of the band), then quantizes the band's columns and multiplies them
   by the projection's weights into the output. Nothing of the block but its output is stored, and the projection
   reads the band from the core that wrote it: unfused, MobileNetV2 dq8's projections quantized their 1.2-1.8 MB
   inputs from L3, half of them written by the other core. The rows two bands' windows share (kh - sh) are computed
   by both (no halo kept). Quantization is per column (pixel) and group, and every kernel's output depends only on its
   own column's values, so the same outputs bit for bit as unfused. */
enum { DQ8_IRB_DWB = 512 << 10 };   /* the band's buffer: at most this many bytes of depthwise output (then R = 1) */
enum { DQ8_IRB_MIN_HW = 56 * 56 };   /* depthwise inputs of at least this many pixels */
typedef struct { size_t R, c1, c2, bp, oxs1, oslot, odwb, oxq2, oxs2, per; } Dq8IrbGeo;   /* rows; columns; bytes */
static Dq8IrbGeo dq8_irb_geo(const OpState *sa, const OpState *sb, const OpState *sc) {
  Dq8IrbGeo g;
  size_t E = (size_t)sb->O, OW = (size_t)sb->OW, R = DQ8_IRB_DWB / (E * OW * 4), in;
  g.R = R < 1 ? 1 : R > (size_t)sb->OH ? (size_t)sb->OH : R;
  in = (g.R - 1) * (size_t)sb->sh + (size_t)sb->kh;
  if (in > (size_t)sb->H) in = (size_t)sb->H;
  g.c1 = sa ? q8_round_up(in * (size_t)sb->W, 64) : 0, g.c2 = q8_round_up(g.R * OW, 64);
  g.bp = g.c2 / 16 % 2 ? g.c2 : g.c2 + 16;   /* (the band's planes an odd number of lines apart, as f32's) */
  size_t xq1 = sa ? al64(2 * q8_pstride(sa->kq, sa->G, sa->gs) * (g.c1 / (size_t)sa->kq->nr)) : 0;
  g.oxs1 = xq1, g.oslot = g.oxs1 + (sa ? al64(4 * (size_t)sa->G * g.c1) : 0);
  g.odwb = g.oslot + (sa ? al64(4 * dwf_rows(sa->kq) * g.c1) : 0);
  g.oxq2 = g.odwb + al64(4 * E * g.bp);
  g.oxs2 = g.oxq2 + al64(2 * q8_pstride(sc->kq, sc->G, sc->gs) * (g.c2 / (size_t)sc->kq->nr));
  g.per = g.oxs2 + al64(4 * (size_t)sc->G * g.c2);
  return g;
}

typedef struct {
  const Engine *e;
  const Op *ob;                 /* the depthwise op; ob - 1 the expansion (sa), ob + 1 the projection, ob + 2 its ADD */
  const OpState *sa, *sb, *sc;  /* sa NULL: IRB_DW */
  Dq8IrbGeo g;
} Dq8IrbJob;

/* one band: the depthwise op's output rows [r0, r1) of image im, and their projection, through buf (the thread's) */
static void dq8_irb_band(const void *job, char *buf, size_t im, size_t r0, size_t r1) {
  const Dq8IrbJob *j = job;
  const Engine *e = j->e;
  const Op *ob = j->ob;
  const OpState *sa = j->sa, *sb = j->sb, *sc = j->sc;
  const Dq8IrbGeo *g = &j->g;
  size_t W = (size_t)sb->W, H = (size_t)sb->H, OW = (size_t)sb->OW, OHW = (size_t)sb->OH * OW, E = (size_t)sb->O;
  long a0 = (long)r0 * sb->sh - sb->ph, b0 = (long)(r1 - 1) * sb->sh - sb->ph + sb->kh;
  size_t ia = a0 < 0 ? 0 : (size_t)a0, ib = b0 > (long)H ? H : (size_t)b0, rows = ib - ia, cols = rows * W, bc = (r1 - r0) * OW;
  const F32DwShape sh = {(int)rows, sb->W, (int)(r1 - r0), sb->OW, sb->kh, sb->kw, sb->sh, sb->sw,
                         (int)((long)sb->ph + (long)ia - (long)r0 * sb->sh), sb->pw, sb->dh, sb->dw, (int)ob->act};
  float *dwb = (float *)(void *)(buf + g->odwb);
  if (sa) {
    const Q8Kernels *k = sa->kq;
    const Op *oa = ob - 1;
    const float *xi = (const float *)engine_val(e, oa->in[0]) + im * (size_t)sa->C * H * W;
    int16_t *xq = (int16_t *)(void *)buf;
    float *xs = (float *)(void *)(buf + g->oxs1), *slot = (float *)(void *)(buf + g->oslot);
    ptrdiff_t ps = (ptrdiff_t)q8_pstride(k, sa->G, sa->gs);
    k->dq8_quant(sa->G, sa->gs, (int)cols, xi + ia * W, (ptrdiff_t)(H * W), sa->asym, xq, ps, xs, (ptrdiff_t)g->c1);
    for (int o0 = 0, R = (int)dwf_rows(k); o0 < sa->M; o0 += R) {
      int nr = imin(R, sa->M - o0);
      Q8Gemm gm = { nr, (int)cols, sa->G, sa->kp, NULL, xq, ps, NULL };
      gemm_a(sa, 0, o0, &gm);
      Q8Dq8Epi ep = { sa->ws + (size_t)o0 * sa->G, xs, (ptrdiff_t)g->c1, sa->bf ? sa->bf + o0 : NULL, (int)oa->act, slot,
                      (ptrdiff_t)cols, 1, 0 };
      k->dq8_gemm(&gm, &ep);
      for (int r = 0; r < nr; r++)
        e->kf->dw->dwconv(slot + (size_t)r * cols, sb->wdq + (size_t)(o0 + r) * sb->K, sb->bf ? sb->bf[o0 + r] : 0.0f,
                          dwb + (size_t)(o0 + r) * g->bp, &sh);
    }
  } else {   /* the depthwise op's input stored: its planes' rows [ia, ib) read in place */
    const float *xb = (const float *)engine_val(e, ob->in[0]) + (im * E * H + ia) * W;
    for (size_t c = 0; c < E; c++)
      e->kf->dw->dwconv(xb + c * H * W, sb->wdq + c * (size_t)sb->K, sb->bf ? sb->bf[c] : 0.0f, dwb + c * g->bp, &sh);
  }
  const Q8Kernels *k = sc->kq;
  int16_t *xq = (int16_t *)(void *)(buf + g->oxq2);
  float *xs = (float *)(void *)(buf + g->oxs2);
  ptrdiff_t ps = (ptrdiff_t)q8_pstride(k, sc->G, sc->gs);
  k->dq8_quant(sc->G, sc->gs, (int)bc, dwb, (ptrdiff_t)g->bp, sc->asym, xq, ps, xs, (ptrdiff_t)g->c2);
  int res = sc->res, act = (int)(res ? ob[2].act : ob[1].act);
  float *y = (float *)engine_val(e, res ? ob[2].out : ob[1].out) + im * (size_t)sc->O * OHW + r0 * OW;
  if (res) {   /* the output starts as r (not laid on r: the expansion reads r around each band) */
    const float *ri = (const float *)engine_val(e, sc->res_in) + im * (size_t)sc->O * OHW + r0 * OW;
    for (size_t o = 0; o < (size_t)sc->O; o++) memcpy(y + o * OHW, ri + o * OHW, bc * sizeof(float));
  }
  for (int o0 = 0, MB = (int)q8_round_up(64, (size_t)k->mr); o0 < sc->M; o0 += MB) {
    Q8Gemm gm = { imin(MB, sc->M - o0), (int)bc, sc->G, sc->kp, NULL, xq, ps, NULL };
    gemm_a(sc, 0, o0, &gm);
    Q8Dq8Epi ep = { sc->ws + (size_t)o0 * sc->G, xs, (ptrdiff_t)g->c2, sc->bf ? sc->bf + o0 : NULL, act, y + (size_t)o0 * OHW,
                    (ptrdiff_t)OHW, 1, res };
    k->dq8_gemm(&gm, &ep);
  }
}

/* the bands of a block by bands (dq8's or sq8's) over the threads: each thread's share the bands of contiguous (image,
   chunk of rows) units (Bands, as equal as can be), then bands from the ends of the others' shares (BandRun); each
   band by `band` through the thread's buffer (per bytes of SCRATCH_1 a thread) */
typedef struct {
  const Engine *e;
  const void *job;
  void (*band)(const void *job, char *buf, size_t im, size_t r0, size_t r1);
  size_t per;
  BandRun r;
} IrbBands;
static void irb_share(void *arg, int id, int nth) {
  const IrbBands *j = arg;
  (void)nth;
  if (id >= j->r.threads) return;
  char *buf = (char *)j->e->scratch[SCRATCH_1] + (size_t)id * j->per;
  long b0, b1;
  for (int d = 0; band_next(&j->r, id, &d, &b0, &b1);)
    for (long b = b0; b < b1; b++) {
      size_t r0, r1, u = band_at(&j->r.g, (size_t)b, &r0, &r1);
      j->band(j->job, buf, u / j->r.g.chunks, r0, r1);
    }
}
/* n images' blocks by bands of R of the OH rows, each band by `band` on a buffer of `per` bytes a thread */
static void irb_run(const Engine *e, const void *job, void (*band)(const void *, char *, size_t, size_t, size_t), size_t per,
                    int n, size_t OH, size_t R) {
  int threads = (int)engine_slots(e, SCRATCH_1, per, pool_threads());
  PoolShare sh[POOL_STEAL_MAX];
  IrbBands b = {e, job, band, per, band_run(n, OH, R, 1, threads, sh)};
  if (threads <= 1) irb_share(&b, 0, 1);
  else pool_run(irb_share, &b);
}

/* op (s): the expansion (IRB_EXP) or the depthwise op (IRB_DW) */
__attribute__((noinline)) static void run_dq8_irb(const Engine *e, const Op *op, const OpState *s, int n) {
  int x = s->irb == IRB_EXP;
  const OpState *sb = s + x;
  Dq8IrbJob j = {e, op + x, x ? s : NULL, sb, sb + 1, dq8_irb_geo(x ? s : NULL, sb, sb + 1)};
  irb_run(e, &j, dq8_irb_band, j.g.per, n, (size_t)sb->OH, j.g.R);
}

/* after a dq8 projection's own build (s, op): fused with the depthwise op before it and that op's expansion or
   stored input (irb_graph), a band's buffers per thread in SCRATCH_1 */
__attribute__((cold, optimize("Os"))) static void build_dq8_irb(Engine *e, const Op *op, OpState *s) {
  int kind = irb_graph(e, op, s);
  uint32_t i = e->cur_op;
  const OpState *sb = &e->st[i - 1];
  if (!kind || !s->direct || !sb->wdq || pool_threads() < 2 || e->max_n > 1 || (size_t)sb->H * sb->W < DQ8_IRB_MIN_HW) return;
  OpState *sa = kind == IRB_EXP ? &e->st[i - 2] : NULL;
  if (sa && !sa->direct) return;
  Dq8IrbGeo g = dq8_irb_geo(sa, sb, s);
  engine_need(e, SCRATCH_1, rt_mul_sat(g.per, (size_t)(pool_threads() > 0 ? pool_threads() : 1)));
  s->fused = 1, s->irb = IRB_PROJ, e->st[kind == IRB_EXP ? i - 2 : i - 1].irb = kind;
}

/* ---- sq8's inverted residual blocks by bands of rows, as dq8's (above): a 1x1 expansion, the depthwise op after it
   and the 1x1 projection after that, as one op (the expansion's), where the depthwise op's output is a map of at least
   DWF_MIN_HW pixels (irb_graph: MobileNetV2's 112x112, 56x56 and 28x28 blocks; the AMX table's sq8_dwf gives way to
   it on 28x28 maps). Each thread takes whole bands of SQ8_IRB_R rows of the depthwise op's output (as dq8's: images x
   chunks of rows, then bands from the end of a slower thread's share: irb_run); per band it copies the expansion's
   input rows that the band's windows read (their C planes made contiguous), lays them out for the GEMM and multiplies
   them, 64 rows at a time, into its slot, whose planes the depthwise kernel convolves straight away into the band's
   buffer (every channel of the band's output rows); then it lays out the band's columns and multiplies them by the
   projection's weights into the output. The rows two bands' windows share (kh - sh) are computed by both. An sq8
   output depends only on its own sums, so the outputs are the unfused ones bit for bit. Unfused on two threads, the
   1x1s split their columns over the threads and the depthwise ops their planes, so half of every plane a depthwise op
   read, and half of the columns a projection read, came from the other core's cache (96 x 112 x 112 bytes, 1.2 MB,
   at MobileNetV2's second block). Measured (MobileNetV2 sq8, Sapphire Rapids, 60 images, 2 threads, batch 1, per op,
   fastest of 7 runs alternated): its blocks of 112x112, 56x56 and 28x28 inputs 0.72-0.88x their time by the AMX table,
   0.87-0.99x by the AVX-512 VNNI table; the model's median 1.61 -> 1.49 ms an image, on one thread 2.49 -> 2.32 (8 runs
   alternated; c/README.md). Bands of 14 rows (a thread's 28 rows of a 56x56 output in two) measured faster than 10
   (three) and 28 (one). Not for a depthwise op on a stored input (no expansion: MobileNetV2's first block took 1.03-1.05x
   its time by bands, the depthwise kernel called per plane). */
enum { SQ8_IRB_R = 14 };
typedef struct { size_t R, ca, cb, oxa, oslot, odwb, oxc, per; } Sq8IrbGeo;   /* rows; columns; bytes */
static size_t sq8_panels(const Q8Kernels *k, size_t n) { return (n + (size_t)k->nr - 1) / (size_t)k->nr; }   /* (NEON's nr: 12) */
static Sq8IrbGeo sq8_irb_geo(const OpState *sa, const OpState *sb, const OpState *sc) {
  Sq8IrbGeo g;
  size_t in, MB = q8_round_up(64, (size_t)sa->kq->mr);
  g.R = (size_t)sb->OH < SQ8_IRB_R ? (size_t)sb->OH : SQ8_IRB_R;
  in = (g.R - 1) * (size_t)sb->sh + (size_t)sb->kh;
  if (in > (size_t)sb->H) in = (size_t)sb->H;
  g.ca = q8_round_up(in * (size_t)sb->W, 64), g.cb = q8_round_up(g.R * (size_t)sb->OW, 64);
  g.oxa = al64((size_t)sa->C * g.ca);                                                       /* the input rows' copy */
  g.oslot = g.oxa + al64(2 * gemm_pstride(sa->kq, sa) * sq8_panels(sa->kq, g.ca));          /* their X */
  g.odwb = g.oslot + al64(MB * g.ca);                                                       /* 64 planes of the 1x1 */
  g.oxc = g.odwb + al64((size_t)sb->O * g.cb);                                              /* the band's planes */
  g.per = g.oxc + al64(2 * gemm_pstride(sc->kq, sc) * sq8_panels(sc->kq, g.cb));            /* their X */
  return g;
}

typedef struct {
  const Engine *e;
  const Op *ob;                 /* the depthwise op; ob - 1 the expansion (sa), ob + 1 the projection (sc) */
  const OpState *sa, *sb, *sc;
  Sq8IrbGeo g;
} Sq8IrbJob;

/* n columns of x (s->K planes of n bytes) into packed X for op s's GEMM (a 1x1's im2col: a relayout) */
static void sq8_lay(const OpState *s, const int8_t *x, int n, int32_t zx, int16_t *X) {
  const Q8Kernels *k = s->kq;
  if (k->im2col_cols) k->im2col_cols(x, 1, n, 1, 1, 1, 1, 1, 1, 1, n, zx, s->K, 0, n, X, (ptrdiff_t)gemm_pstride(k, s));
  else k->im2col_i8(x, 1, n, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, n, zx, 0, s->K, X, (ptrdiff_t)gemm_pstride(k, s));
}

/* one band: the depthwise op's output rows [r0, r1) of image im, and their projection, through buf (the thread's) */
static void sq8_irb_band(const void *job, char *buf, size_t im, size_t r0, size_t r1) {
  const Sq8IrbJob *j = job;
  const Engine *e = j->e;
  const Model *m = e->m;
  const Op *oa = j->ob - 1, *ob = j->ob, *oc = j->ob + 1;
  const OpState *sa = j->sa, *sb = j->sb, *sc = j->sc;
  size_t W = (size_t)sb->W, H = (size_t)sb->H, OW = (size_t)sb->OW, OHW = (size_t)sb->OH * OW;
  long a0 = (long)r0 * sb->sh - sb->ph, b0 = (long)(r1 - 1) * sb->sh - sb->ph + sb->kh;
  size_t ia = a0 < 0 ? 0 : (size_t)a0, ib = b0 > (long)H ? H : (size_t)b0, cols = (ib - ia) * W, bc = (r1 - r0) * OW;
  /* the depthwise op on the band's input rows [ia, ib): its padding above them, and below where the map ends */
  const Q8DwShape sh = {(int)(ib - ia), sb->W, (int)(r1 - r0), sb->OW, sb->kh, sb->kw, sb->sh, sb->sw,
                        (int)((long)sb->ph + (long)ia - (long)r0 * sb->sh), sb->pw, sb->dh, sb->dw,
                        m->values[ob->in[0]].zero_point, m->values[ob->out].zero_point, ob->qmin, ob->qmax};
  const int8_t *xi = (const int8_t *)engine_val(e, oa->in[0]) + im * (size_t)sa->C * H * W + ia * W;
  const int8_t *wd = op_param(m, ob, P_SQ8_WEIGHT)->data;
  int8_t *xc = (int8_t *)buf, *slot = (int8_t *)(buf + j->g.oslot), *dwb = (int8_t *)(buf + j->g.odwb);
  int16_t *X = (int16_t *)(void *)(buf + j->g.oxa);
  for (size_t c = 0; c < (size_t)sa->C; c++) memcpy(xc + c * cols, xi + c * H * W, cols);
  sq8_lay(sa, xc, (int)cols, m->values[oa->in[0]].zero_point, X);
  for (int o0 = 0, MB = (int)q8_round_up(64, (size_t)sa->kq->mr); o0 < sa->M; o0 += MB) {
    int nr = imin(MB, sa->M - o0);
    sq8_rows(m, oa, sa, X, (int)cols, o0, nr, slot, (ptrdiff_t)cols);
    sq8_dw_rows(e, sb, wd, o0, nr, slot, cols, dwb + (size_t)o0 * bc, bc, &sh);
  }
  X = (int16_t *)(void *)(buf + j->g.oxc);
  sq8_lay(sc, dwb, (int)bc, m->values[ob->out].zero_point, X);
  int8_t *y = (int8_t *)engine_val(e, oc->out) + im * (size_t)sc->O * OHW + r0 * OW;
  for (int o0 = 0, MB = (int)q8_round_up(64, (size_t)sc->kq->mr); o0 < sc->M; o0 += MB)
    sq8_rows(m, oc, sc, X, (int)bc, o0, imin(MB, sc->M - o0), y + (size_t)o0 * OHW, (ptrdiff_t)OHW);
}

/* op (s): the expansion (IRB_EXP) */
__attribute__((noinline)) static void run_sq8_irb(const Engine *e, const Op *op, const OpState *s, int n) {
  Sq8IrbJob j = {e, op + 1, s, s + 1, s + 2, sq8_irb_geo(s, s + 1, s + 2)};
  irb_run(e, &j, sq8_irb_band, j.g.per, n, (size_t)s[1].OH, j.g.R);
}

/* the 1x1 two ops before the projection: a plain 1x1 of one group whose output only the depthwise op between them
   reads (dw_next, asked as that op's own build would), not fused with anything */
__attribute__((cold, optimize("Os"))) static int sq8_irb_exp(Engine *e, uint32_t a) {
  const OpState *sa = &e->st[a];
  if (e->m->ops[a].type != OP_CONV2D || sa->linear || !plain1x1(sa) || sa->groups != 1 || sa->fused || sa->dwf || sa->irb ||
      sa->ds_op || sa->qt || sa->res)
    return 0;
  uint32_t cur = e->cur_op;
  e->cur_op = a;
  int ok = dw_next(e, &e->m->ops[a], sa);
  e->cur_op = cur;
  return ok;
}

/* after an sq8 projection's own build (s, op): run by bands in its expansion's op where the graph allows (irb_graph;
   IRB_EXP there: the expansion already took the depthwise op, sq8_dwf; IRB_DW: sq8_irb_exp finds the expansion), a
   band's buffers per thread in SCRATCH_1 */
__attribute__((cold, optimize("Os"))) static void build_sq8_irb(Engine *e, const Op *op, OpState *s) {
  int kind = irb_graph(e, op, s);
  uint32_t i = e->cur_op;
  if (!kind || i < 2 || !e->st[i - 1].depthwise || !e->st[i - 1].qbias || (kind == IRB_DW && !sq8_irb_exp(e, i - 2))) return;
  OpState *sa = &e->st[i - 2];
  engine_need(e, SCRATCH_1, rt_mul_sat(sq8_irb_geo(sa, sa + 1, s).per, (size_t)(pool_threads() > 0 ? pool_threads() : 1)));
  s->fused = 1, s->irb = IRB_PROJ, sa->irb = IRB_EXP, sa->dwf = sa[1].fused = 1;   /* (dwf: the plan stores no 1x1 output) */
}

static void run_gemm_op(Engine *e, const Op *op, const OpState *s, int n) {
  if (s->fused) return;   /* a depthwise CONV2D done by the 1x1 before it (dq8_dwf, sq8_dwf), or a projection by bands */
  if (irb_runs(s)) {
    if (e->m->kind == KIND_SQ8) run_sq8_irb(e, op, s, n);
    else run_dq8_irb(e, op, s, n);
    return;
  }
  if (e->m->kind == KIND_SQ8 && s->depthwise) {
    run_dw(e, op, s, n);
    return;
  }
  if (s->wdq) {
    f32_conv_dw(e, s, s->wdq, s->bf, engine_val(e, op->in[0]), engine_val(e, op->out), n, op->act);
    return;
  }
  const Q8Kernels *k = s->kq;
  int sq8 = e->m->kind == KIND_SQ8;
  Q8Job j = { e, s, op, engine_val(e, op->in[0]), e->scratch[SCRATCH_1], 0, engine_val(e, op->out), 1, s->O, sq8, 0, n, n,
              (int)q8_round_up(64, (size_t)k->mr), sq8 ? sq8_nb(k, s) : (int)q8_round_up(64, (size_t)k->nr),
              0, gemm_ldx(k, s, e->batch), gemm_pstride(k, s), NULL, 0, 0, 1, 0, 0, 0, 0, 0, 0, NULL, 0, 0, NULL, NULL, NULL };
  j.ldxf = (ptrdiff_t)j.ldx;
  if (s->linear) {
    j.nt = (n + j.NB - 1) / j.NB;
    phase(s->K, linear_rows, &j, (double)s->K * n, 0);
    quant_gemm(&j);
    return;
  }
  size_t in_img = (size_t)s->C * s->H * s->W, out_img = (size_t)s->O * s->OH * s->OW, es = j.sq8 ? 1 : 4;
  j.N = s->OH * s->OW, j.nt = (j.N + j.NB - 1) / j.NB, j.ys_o = j.N, j.ys_p = 1;
  if (j.sq8) j.MB = sq8_mb(k, s, j.nt);
  j.in_img = in_img, j.out_img = out_img;
  int8_t *yds = s->ds_op ? engine_val(e, e->m->ops[s->ds_op - 1].out) : NULL;   /* (the image's: + i * its O x OH x OW) */
  j.yds = yds;
  if (j.sq8 && conv_batched(k, s)) {   /* the whole batch in one pass */
    implicit_pass(&j, n);
    return;
  }
  for (int i = 0; i < n; i++)
    for (j.gi = 0; j.gi < s->groups; j.gi++) {
      j.x = (const char *)engine_val(e, op->in[0]) + i * in_img * es;
      j.y = (char *)engine_val(e, op[s->res].out) + i * out_img * es;   /* (a fused ADD: its output) */
      if (yds) j.yds = yds + (size_t)i * e->st[s->ds_op - 1].O * s->OH * s->OW;
      if (j.sq8 && s->qt) {
        qt_pass(&j);
        continue;
      }
      if (j.sq8 && implicit_sq8(k, s)) {   /* grouped: per image and group */
        implicit_pass(&j, 1);
        continue;
      }
      if (j.sq8 && s->dwf) {   /* the image's X, then the 1x1's panels and their depthwise planes (sq8_dwf) */
        j.xb = e->scratch[SCRATCH_2];
        phase((s->K + KSTEP - 1) / KSTEP, im2col_rows, &j, (double)s->K * j.N, 0);
        j.y = (int8_t *)engine_val(e, op[1].out) + (size_t)i * s->O * s[1].OH * s[1].OW;
        PoolShare sh[POOL_STEAL_MAX];
        j.sh = panel_shares(&j, sh, sq8_dwf_rows(k), sq8_dwf_rows(k) * (size_t)j.N);
        pool_run(sq8_dwf, &j);
        j.sh = NULL;
        continue;
      }
      if (j.sq8 && use_fused(k, s)) {
        int cig = s->C / s->groups;
        j.Hp = s->H + 2 * s->ph, j.Wp = s->W + 2 * s->pw;
        if (s->ph || s->pw) {
          phase(cig, pad_channels, &j, (double)cig * j.Hp * j.Wp, 0);
          j.xp = e->scratch[SCRATCH_2];
        } else j.xp = (const int8_t *)j.x + (size_t)j.gi * cig * s->H * s->W;
        double work = (double)s->K * j.N * s->M;
        if (work < PAR_MIN) im2col_gemm(&j, 0, 1);
        else {
          PoolShare sh[POOL_STEAL_MAX];
          j.sh = im2col_shares(&j, sh);
          pool_run(im2col_gemm, &j);
          j.sh = NULL;
        }
        continue;
      }
      if (!j.sq8) {   /* quantization and GEMM per column block (dq8_fused), or in two phases */
        double work = (double)s->K * j.N * s->M;
        if (s->dwf) {   /* the depthwise op's output, its image */
          j.y = (float *)engine_val(e, op[1].out) + (size_t)i * s->O * s[1].OH * s[1].OW;
          if (work < PAR_MIN) dq8_quant_blocks(&j, 0, 1);
          else pool_run(dq8_quant_blocks, &j);
          PoolShare sh[POOL_STEAL_MAX];
          j.sh = panel_shares(&j, sh, dwf_rows(k), dwf_rows(k) * (size_t)j.N * 4);
          pool_run(dq8_dwf, &j);
          j.sh = NULL;
        } else if (dq8_fuse(s)) {
          if (work < PAR_MIN) dq8_fused(&j, 0, 1);
          else {
            PoolShare sh[POOL_STEAL_MAX];
            j.sh = dq8_fused_shares(&j, sh);
            pool_run(dq8_fused, &j);
            j.sh = NULL;
          }
        } else {
          if (work < PAR_MIN) dq8_quant_blocks(&j, 0, 1);
          else pool_run(dq8_quant_blocks, &j);
          phase((long)((s->M + j.MB - 1) / j.MB) * j.nt, gemm_tasks, &j, work, !s->dq8rows);   /* (dq8rows: row blocks in runs) */
        }
        continue;
      }
      phase((s->K + KSTEP - 1) / KSTEP, im2col_rows, &j, (double)s->K * j.N, 0);
      quant_gemm(&j);
    }
}

static Q8Pool pool_of(const Op *op) {
  Q8Pool p = { op->attr[0], op->attr[1], op->attr[2], op->attr[3], op->attr[4], op->attr[5], 1, 1, 0, 0, 0 };
  if (op->type == OP_MAXPOOL2D) p.dh = op->attr[6], p.dw = op->attr[7], p.ceil_mode = op->attr[8];
  else p.ceil_mode = op->attr[6], p.count_include_pad = op->attr[7], p.divisor = op->attr[8];
  return p;
}

/* ---------------------------------------------------------------- the other sq8 ops */

static size_t in_count(const Engine *e, const Op *op, int n) { return (size_t)n * value_elems(&e->m->values[op->in[0]]); }

/* an elementwise sq8 op: x (and b) to y, by `body` on one range [a, a + len) per thread */
typedef struct Ew Ew;
struct Ew {
  Engine *e;
  const Op *op;
  const void *x, *b;
  void *y;
  size_t total, HW; /* elements of the batch; MUL by plane and CONCAT: elements per plane / image */
  void (*body)(const Ew *w, size_t a, size_t len);
};

static void ew_range(void *arg, long b, long e) {
  const Ew *w = arg;
  w->body(w, (size_t)b, (size_t)(e - b));
}

static Ew ew_of(Engine *e, const Op *op, int n, void (*body)(const Ew *, size_t, size_t)) {
  Ew w = { e, op, engine_val(e, op->in[0]), op->n_in > 1 ? engine_val(e, op->in[1]) : NULL, engine_val(e, op->out),
           in_count(e, op, n), 0, body };
  return w;
}

static void chunks(Engine *e, const Op *op, int n, void (*body)(const Ew *, size_t, size_t)) {
  Ew w = ew_of(e, op, n, body);
  pool_for_grain((long)w.total, POOL_GRAIN, ew_range, &w);
}

static int32_t zp(const Ew *w, uint32_t v) { return w->e->m->values[v].zero_point; }

static void quantize_body(const Ew *w, size_t a, size_t len) {
  const Value *yv = &w->e->m->values[w->op->out];
  w->e->kew->quantize((const float *)w->x + a, len, yv->scale, yv->zero_point, (int8_t *)w->y + a);
}

static void dequantize_body(const Ew *w, size_t a, size_t len) {
  const Value *xv = &w->e->m->values[w->op->in[0]];
  q8_sq8_dequantize((const int8_t *)w->x + a, len, xv->scale, xv->zero_point, (float *)w->y + a);
}

static void add_body(const Ew *w, size_t a, size_t len) {
  const Op *op = w->op;
  w->e->kew->add((const int8_t *)w->x + a, (const int8_t *)w->b + a, len, zp(w, op->in[0]), zp(w, op->in[1]), zp(w, op->out),
                 op->attr[A_ADD_M_A], op->attr[A_ADD_M_B], op->attr[A_ADD_SHIFT], op->qmin, op->qmax, (int8_t *)w->y + a);
}

/* MUL of same-shape tensors: pieces [a, a + len); by plane (b has one value per channel plane): planes */
static void mul_span(const Ew *w, size_t a, size_t len, size_t b_at, int b_step) {
  const Op *op = w->op;
  q8_sq8_mul((const int8_t *)w->x + a, (const int8_t *)w->b + b_at, len, b_step, zp(w, op->in[0]), zp(w, op->in[1]),
             zp(w, op->out), op->attr[A_MUL_M], op->attr[A_MUL_SHIFT], op->qmin, op->qmax, (int8_t *)w->y + a);
}
static void mul_body(const Ew *w, size_t a, size_t len) { mul_span(w, a, len, a, 1); }
static void mul_planes(void *arg, long q0, long q1) {
  const Ew *w = arg;
  for (size_t q = (size_t)q0; q < (size_t)q1; q++) mul_span(w, q * w->HW, w->HW, q, 0);
}

static void lut_body(const Ew *w, size_t a, size_t len) {
  q8_sq8_lut((const int8_t *)w->x + a, len, op_param(w->e->m, w->op, P_SQ8_ACT_LUT)->data, (int8_t *)w->y + a);
}

static void clamp_body(const Ew *w, size_t a, size_t len) {
  q8_sq8_clamp((const int8_t *)w->x + a, len, w->op->qmin, w->op->qmax, (int8_t *)w->y + a);
}

static void run_quantize(Engine *e, const Op *op, const OpState *s, int n) { (void)s, chunks(e, op, n, quantize_body); }
static void run_dequantize(Engine *e, const Op *op, const OpState *s, int n) { (void)s, chunks(e, op, n, dequantize_body); }
static void run_add(Engine *e, const Op *op, const OpState *s, int n) { (void)s, chunks(e, op, n, add_body); }

/* MUL: b is a's shape, or (C, 1, 1): one value per channel plane of each image */
static void run_mul(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  const Value *va = &e->m->values[op->in[0]], *vb = &e->m->values[op->in[1]];
  if (value_elems(vb) == value_elems(va)) {
    chunks(e, op, n, mul_body);
    return;
  }
  Ew w = ew_of(e, op, n, NULL);
  w.HW = (size_t)va->h * va->w;
  pool_for((long)n * va->c, mul_planes, &w);
}

/* CONCAT of images [i0, i1): each input requantized to the output's scale, one after another */
static void concat_images(void *arg, long i0, long i1) {
  const Ew *w = arg;
  const Op *op = w->op;
  const Value *yv = &w->e->m->values[op->out];
  size_t ye = value_elems(yv);
  for (size_t i = (size_t)i0; i < (size_t)i1; i++)
    for (size_t k = 0, off = 0; k < op->n_in; k++) {
      const Value *kv = &w->e->m->values[op->in[k]];
      size_t ke = value_elems(kv);
      const int8_t *src = (const int8_t *)engine_val(w->e, op->in[k]) + i * ke;
      q8_sq8_requant_copy(src, ke, kv->zero_point, yv->zero_point, op->attr[A_CONCAT_M(k)], op->attr[A_CONCAT_SHIFT(k)],
                          (int8_t *)w->y + i * ye + off);
      off += ke;
    }
}

static void run_concat(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  Ew w = ew_of(e, op, n, NULL);
  pool_for(n, concat_images, &w);
}

static void run_flatten(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  memcpy(engine_val(e, op->out), engine_val(e, op->in[0]), in_count(e, op, n));
}

/* ACT: relu / relu6 clamp to qmin/qmax; sigmoid .. hardsigmoid read the op's 256-entry table */
static void run_act(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  chunks(e, op, n, op->act > ACT_RELU6 ? lut_body : clamp_body);
}

/* pools: one task per (image, channel) plane; planes [t0, t1) */
static void pool_planes(void *arg, long t0, long t1) {
  const Ew *w = arg;
  const Op *op = w->op;
  const Value *xv = &w->e->m->values[op->in[0]], *yv = &w->e->m->values[op->out];
  int H = (int)xv->h, W = (int)xv->w, OH = (int)yv->h, OW = (int)yv->w;
  int32_t zx = xv->zero_point;
  if (op->type == OP_ADAPTIVE_AVGPOOL2D && OH == 1 && OW == 1) {   /* a global average: all the planes in one call */
    q8_sq8_adaptive_avgpool((const int8_t *)w->x + (size_t)t0 * H * W, (int)(t1 - t0), H, W, 1, 1, zx, (int8_t *)w->y + t0);
    return;
  }
  Q8Pool pool = pool_of(op);
  for (size_t t = (size_t)t0; t < (size_t)t1; t++) {
    const int8_t *xs = (const int8_t *)w->x + t * H * W;
    int8_t *ys = (int8_t *)w->y + t * OH * OW;
    switch (op->type) {
    case OP_MAXPOOL2D: w->e->kew->maxpool(xs, 1, H, W, &pool, OH, OW, ys); break;
    case OP_AVGPOOL2D: q8_sq8_avgpool(xs, 1, H, W, &pool, OH, OW, zx, ys); break;
    case OP_ADAPTIVE_AVGPOOL2D: q8_sq8_adaptive_avgpool(xs, 1, H, W, OH, OW, zx, ys); break;
    default: q8_sq8_adaptive_maxpool(xs, 1, H, W, OH, OW, ys); break;
    }
  }
}

static void run_pool(Engine *e, const Op *op, const OpState *s, int n) {
  (void)s;
  Ew w = ew_of(e, op, n, NULL);
  pool_for((long)n * e->m->values[op->in[0]].c, pool_planes, &w);
}

/* ---------------------------------------------------------------- the tables */

const OpImpl dq8_gemm_op = {build_gemm, run_gemm_op};

const OpImpl sq8_ops[OP_COUNT] = {
    [OP_CONV2D] = {build_gemm, run_gemm_op},
    [OP_LINEAR] = {build_gemm, run_gemm_op},
    [OP_ADD] = {NULL, run_add},
    [OP_CONCAT] = {NULL, run_concat},
    [OP_MAXPOOL2D] = {NULL, run_pool},
    [OP_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_AVGPOOL2D] = {NULL, run_pool},
    [OP_ADAPTIVE_MAXPOOL2D] = {NULL, run_pool},
    [OP_FLATTEN] = {NULL, run_flatten},
    [OP_ACT] = {NULL, run_act},
    [OP_QUANTIZE] = {NULL, run_quantize},
    [OP_DEQUANTIZE] = {NULL, run_dequantize},
    [OP_MUL] = {NULL, run_mul},
};
