/* engine_impl.h: inside the one executor (engine.c) and its op tables (ops_f32.c, ops_q8.c).
 * The engine runs the model's op list; each op type of each kind is one OpImpl entry of that kind's
 * table: build (once: its state, packed weights, the scratch it needs) and run (a batch of n). */
#ifndef TINYRUNTIME_ENGINE_IMPL_H
#define TINYRUNTIME_ENGINE_IMPL_H
#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"
#include "engine.h"
#include "pool.h"

/* per-op state; the conv geometry is filled by the engine for CONV2D and LINEAR (LINEAR: a 1x1
   convolution of a 1x1 image) */
typedef struct {
  int C, H, W, O, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  int M, K;                  /* per group: outputs, reduction length */
  int linear, depthwise;
  /* f32: weights packed for the GEMM descriptor in use (with gemm_u: NULL, or the last panel's rows padded to a
     multiple of 4 where M is not one, per group); bias padded to the panels */
  float *apack, *bias;
  const float *wu;           /* f32 with gemm_u: the weights read in place, in the file's map */
  size_t a_group;            /* f32: apack's floats per group (f32_packed_floats) */
  const float *tw;           /* f32 on gemm_t (tpath): its panels of tn rows, apack or (fpu) the file's */
  int fpu;                   /* f32 CONV2D or LINEAR whose weights are the file's panels of 32 rows (FORMAT.md "f32 1x1
                                weights in panels", versions 4, 6 and 7; model_f32_panels), read in place at tw: by gemm_t
                                (a LINEAR's at batch 1: ops_f32.c lin_t), or by gemm_u as row tiles of mr rows (12, 12
                                and 8 a panel: ops_f32.c a_tile) */
  int wino;                  /* f32: a Winograd convolution, 1: F(2x2, 3x3), 2: F(4x4, 3x3) (ops_f32.c conv_wino) */
  int taps;                  /* f32: an implicit convolution (ops_f32.c conv_implicit) */
  int tpath;                 /* f32: on the kernel's transposed tile (gemm_t): a 1x1 read in place (ops_f32.c conv_t),
                                or with taps an implicit convolution (taps_t), its weights in panels of tn (tw) */
  ptrdiff_t *boff;           /* its taps' offsets in the padded planes (kh*kw) */
  int res;                   /* f32 or dq8 CONV2D: the residual ADD after it fused (ops_f32.c residual_of, ops_q8.c build_gemm):
                                it writes that ADD's output, which the arena places on the ADD's other input, res_in (engine.c) */
  uint32_t res_in;
  int fused;                 /* an ADD fused into the CONV2D before it, or a depthwise CONV2D (dwf, IRB_STEM), or a strided
                                1x1 (ds_in): nothing to run */
  uint32_t ds_op, ds_in;     /* sq8 strided implicit CONV2D: 1 + the index of a later 1x1 CONV2D of the same input and
                                stride that it runs on its phase planes (ResNet's downsampling shortcut; ops_q8.c ds_next),
                                else 0; on that 1x1, ds_in: 1 + the index of the op that runs it */
  int dq8rows;               /* dq8 CONV2D (not dq8_dwf's) whose output a depthwise CONV2D reads next (ops_f32.c dw_reads):
                                on the fused path its threads split the row blocks, each quantizing every column
                                (dq8_fused); in two phases its GEMM's tasks go out in runs (run_gemm_op) */
  int dwf;                   /* 1x1 CONV2D: the depthwise CONV2D after it fused (ops_f32.c dw_fusable, ops_q8.c dq8_dwf
                                and sq8_dwf): it writes that op's output, its own is never stored whole (the arena
                                gives it no bytes) */
  int irb;                   /* an inverted residual block by bands of rows (f32: ops_f32.c run_irb; dq8: ops_q8.c
                                run_dq8_irb, no IRB_STEM): IRB_EXP on a 1x1
                                CONV2D with dwf whose projection (the 1x1 CONV2D two ops on, and its residual ADD if
                                fused) runs in its op too; IRB_DW on a depthwise CONV2D, not fused, whose projection (the
                                next op) does; IRB_STEM on a strided implicit CONV2D (a stem) whose depthwise CONV2D and
                                its projection (the next two ops) do; IRB_PROJ on that projection (nothing to run); 0 none */
  /* int8 (kernels_q8.h): groups x a_elems packed weights */
  int G, gs, kp, direct, asym;
  int16_t *A;
  size_t a_elems;
  int32_t *qbias, *mult, *shift;   /* sq8: O each */
  const float *ws;                 /* dq8: scales (O, G): ws_own, or with the weights read in place the file's */
  float *ws_own, *bf;              /* dq8: the scales copied, or NULL; bias (O) or NULL */
  float *wdq;                      /* float weights (O x K) made at start-up: dq8 depthwise, dequantized for f32_conv_dw;
                                      f32 CONV2D, from the file's panels for gemm_u (ops_f32.c build_conv) */
  int dq8cq;                       /* dq8 CONV2D: the descriptor's dq8_conv_quant takes its geometry */
  int kxq;                         /* sq8 CONV2D: K in the kx-quad order (Q8Kernels.im2col_kxq; gs its length) */
  const Q8Kernels *kq;             /* int8 GEMM ops: the kernels this op runs (Engine.kq or kq_below) */
  int8_t *aconv;                   /* sq8 implicit convolution (Q8Kernels.sq8_conv): its packed weights, per group */
  size_t aconv_bytes;              /* per group */
  /* sq8 with a descriptor's blocked_comp, dq8 with its dq8_blocked_sums (Q8Kernels): the file's blocked weights read in
     place (FORMAT.md, versions 3 and 5; A and aconv NULL), wtm tiles of wtr rows a group (sq8 8, dq8 4), wtile bytes a
     tile, wcomp the tiles' sums (wct int32 a tile: sq8 8, dq8 8 x its quantization groups) */
  const int8_t *wblk;
  int32_t *wcomp;
  size_t wtile, wct;
  int wtm, wtr;
  int qt;                          /* sq8 weights in place on a small map: a GEMM on Q8Kernels.im2col_qt's X (ops_q8.c) */
} OpState;

enum { SCRATCH_0, SCRATCH_1, SCRATCH_2, N_SCRATCH };

typedef struct Engine Engine;
typedef struct {
  int (*build)(Engine *e, const Op *op, OpState *s);   /* NULL: nothing to build; 0 ok, -1 out of memory */
  void (*run)(Engine *e, const Op *op, const OpState *s, int n);
} OpImpl;

struct Engine {
  const Model *m;
  int batch;                  /* images per pass through the ops (what the builds size for) */
  int max_n;                  /* images per engine_forward: batch, or more run one at a time (CHUNK_ARENA) */
  const OpImpl *ops;          /* the kind's table, by op type */
  const F32Kernels *kf;       /* kernels in use */
  const Q8Kernels *kq;
  const Q8Kernels *kq_below;  /* for ops of K < kq->min_k (kq->min_k > 0), else NULL */
  const Q8DwDesc *kdw;        /* sq8 depthwise convolution */
  const Q8EwKernels *kew;     /* sq8 elementwise kernels */
  OpState *st;                /* one per op */
  size_t *offs;               /* byte offset of each value in the arena */
  unsigned char *arena;
  void *scratch[N_SCRATCH];   /* shared by all ops, the largest any op needs */
  size_t scratch_bytes[N_SCRATCH];
  /* f32: each op's scratch lies in the arena, planned as a block alive during that op only (so it
     reuses the bytes of activations that are dead by then); engine_forward points scratch[SCRATCH_0]
     and scratch_bytes[SCRATCH_0] at the op's own before running it. NULL: scratch[] is its own memory */
  size_t *op_need;            /* build: each op's need per slot (n_ops x N_SCRATCH) */
  size_t *op_soff;            /* its offset in the arena (n_ops), or NULL */
  uint32_t cur_op;            /* the op being built */
  const float *in;            /* the current forward's input (value 0) */
  int in_arena;               /* the arena has a block for the input (engine_input) */
  size_t packed_bytes;        /* weights packed by the builds (engine_alloc) */
  size_t inplace_bytes;       /* weights the ops read where the file's map holds them (f32 gemm_u); nonzero: the
                                 build gives none of the map's pages back */
  uintptr_t rel_lo, rel_hi;   /* engine_release's span not yet given back (rel_hi 0: none) */
  size_t arena_bytes;
  double *prof_ms;            /* TINYRUNTIME_PROFILE: ms per op summed over the forwards after the first, then (n_ops
                                 on) the first's (NULL: off) */
  uint64_t prof_images;       /* images run after the first forward */
  uint64_t prof_first_n;      /* images of the first forward (0: none yet) */
  /* sq8 and dq8 with 2+ threads and a batch of 2+ (engine.c, lanes): one engine per thread, each its own
     arena and scratch for its share of a batch (the ops' state and weights shared, read only), which runs
     its images with the ops on its thread alone; this engine's own arena and scratch are then none */
  struct Engine **lanes;
  int nlanes;
  int *lane_lo;               /* the current batch's split: lane l's images [lane_lo[l], lane_lo[l + 1]) (and room
                                 for another, lane_split's equal one) */
  double rate;                /* a lane's: images per ms of its forwards so far (a running mean; 0: none yet) */
};

/* the bytes of value v for the current forward (value 0: the caller's input) */
static inline void *engine_val(const Engine *e, uint32_t v) {
  return v == 0 ? (void *)(uintptr_t)e->in : (void *)(e->arena + e->offs[v]);
}
/* a depthwise convolution's output plane q (image q / O, channel o = q % O) reads input plane
   (image, o / M), M the channel multiplier (M = O / groups = O / C): its offset in planes */
static inline size_t dw_in_plane(const OpState *s, size_t q) {
  return q / (size_t)s->O * (size_t)s->C + q % (size_t)s->O / (size_t)s->M;
}
enum { IRB_EXP = 1, IRB_PROJ = 2, IRB_DW = 3, IRB_STEM = 4 };   /* OpState.irb */
/* the op (OpState.irb IRB_EXP, IRB_DW or IRB_STEM) that runs an inverted residual block by bands */
static inline int irb_runs(const OpState *s) { return s->irb == IRB_EXP || s->irb == IRB_DW || s->irb == IRB_STEM; }
/* the bands of rows of a block by bands (run_irb, run_dq8_irb): unit u is image u / chunks's rows [oh c / chunks,
   oh (c + 1) / chunks) (c = u % chunks), cut in bands of at most R rows, from its start (the last one shorter) or, eq,
   as equal as can be; the bands are numbered over the units in order */
typedef struct { size_t oh, chunks, R; int eq; } Bands;
static inline size_t bands_of(const Bands *g, size_t u, size_t *ra, size_t *rz) {   /* unit u's rows, and its bands */
  size_t c = u % g->chunks;
  *ra = g->oh * c / g->chunks, *rz = g->oh * (c + 1) / g->chunks;
  return (*rz - *ra + g->R - 1) / g->R;
}
static inline size_t band_at(const Bands *g, size_t b, size_t *r0, size_t *r1) {   /* band b's rows; returns its unit */
  size_t u = 0, ra, rz, nb;
  while (b >= (nb = bands_of(g, u, &ra, &rz))) b -= nb, u++;
  if (g->eq) *r0 = ra + (rz - ra) * b / nb, *r1 = ra + (rz - ra) * (b + 1) / nb;
  else *r0 = ra + b * g->R, *r1 = *r0 + g->R < rz ? *r0 + g->R : rz;
  return u;
}
static inline size_t bands_before(const Bands *g, size_t u) {   /* the bands of units [0, u) */
  size_t n = 0, ra, rz;
  for (size_t i = 0; i < u; i++) n += bands_of(g, i, &ra, &rz);
  return n;
}
/* the bands of n images over `threads` threads (one chunk of rows per thread an image where the images are fewer):
   thread i's share the bands of units [units i / threads, units (i + 1) / threads), as stealable shares in sh (NULL:
   one thread, or more than POOL_STEAL_MAX: each thread its share alone) */
typedef struct {
  Bands g;
  size_t units;
  int threads;
  PoolShare *sh;
} BandRun;
static inline BandRun band_run(int n, size_t oh, size_t R, int eq, int threads, PoolShare *sh) {
  size_t chunks = (size_t)n < (size_t)threads ? ((size_t)threads + (size_t)n - 1) / (size_t)n : 1;
  BandRun r = {{oh, chunks, R, eq}, (size_t)n * chunks, threads, NULL};
  if (threads >= 2 && threads <= POOL_STEAL_MAX) {
    for (int i = 0; i < threads; i++)
      pool_share_set(&sh[i], (long)bands_before(&r.g, r.units * (size_t)i / (size_t)threads),
                     (long)bands_before(&r.g, r.units * (size_t)(i + 1) / (size_t)threads));
    r.sh = sh;
  }
  return r;
}
/* thread id's next run of bands [*b0, *b1): its own share's, then the ends of the others' (pool_share_own; *d 0 before
   the first call) */
static inline int band_next(const BandRun *r, int id, int *d, long *b0, long *b1) {
  if (!*d && !r->sh)
    *b0 = (long)bands_before(&r->g, r->units * (size_t)id / (size_t)r->threads),
    *b1 = (long)bands_before(&r->g, r->units * (size_t)(id + 1) / (size_t)r->threads);
  return pool_share_own(r->sh, r->threads, id, d, b0, b1);
}
/* the threads a job of one slot of `per` bytes of scratch k a thread can run on: at most nth, at most the slots */
static inline long engine_slots(const Engine *e, int k, size_t per, long nth) {
  long slots = (long)(e->scratch_bytes[k] / per);
  return nth < slots ? nth : slots;
}
/* an op's build asks for at least `bytes` of scratch slot k (allocated once after all builds) */
static inline void engine_need(Engine *e, int k, size_t bytes) {
  if (bytes > e->scratch_bytes[k]) e->scratch_bytes[k] = bytes;
  if (e->op_need && bytes > e->op_need[(size_t)e->cur_op * N_SCRATCH + (size_t)k]) e->op_need[(size_t)e->cur_op * N_SCRATCH + (size_t)k] = bytes;
}

/* rt_alloc64 for an op's build, counted in packed_bytes (TINYRUNTIME_PROFILE's memory line) */
void *engine_alloc(Engine *e, size_t bytes);
/* the same, but NOT zeroed, for a buffer the build writes in full (a descriptor's packer writes every
   element, padding included; test_*_kernels check it): no pass over the bytes before the packer's.
   Release with free(). */
void *engine_alloc_packed(Engine *e, size_t bytes);
/* the pages of [p, p + n) of such a buffer mapped at once (MADV_POPULATE_WRITE, Linux 5.14; before, or for a span
   under ENGINE_POPULATE_MIN, nothing: the packer's stores fault them in one at a time), called by the pack tasks for
   the span each is about to write, so the threads map their own pages side by side */
enum { ENGINE_POPULATE_MIN = 32 << 10 };
void engine_populate(void *p, size_t n);

/* a build gives back file bytes it has copied or packed (model_release) in spans of at least
   ENGINE_RELEASE_BYTES: each give-back is a madvise, whose TLB shootdown interrupts the pool's other
   threads (~20-30 us each in a VM; ResNet18 dq8 had ~200 of them, ~4 ms of its start-up CPU). So the
   file's pages and their packed copy are both resident for at most that much per thread.
   engine_release (the build's own thread) merges its bytes into one span, given back once that large
   (and the rest at the end of the build); the span may cover bytes not yet read, which fault in again
   from the page cache. */
enum { ENGINE_RELEASE_BYTES = 1 << 20 };
void engine_release(Engine *e, const void *p, size_t n);

extern const OpImpl f32_ops[OP_COUNT];   /* ops_f32.c */
extern const OpImpl sq8_ops[OP_COUNT];   /* ops_q8.c */
extern const OpImpl dq8_gemm_op;         /* ops_q8.c: dq8's CONV2D / LINEAR; its other ops are f32's */
/* a depthwise CONV2D of multiplier 1 after op (being built) that only it feeds, fusable with it (ops_f32.c) */
int dw_next(const Engine *e, const Op *op, const OpState *s);
int dw_reads(const Engine *e, const Op *op);   /* the next op: a depthwise CONV2D reading op's output (no size bound) */
/* the graph's side of an inverted residual block by bands, both kinds' (ops_f32.c): op (being built) a 1x1 projection
   of one group reading only a depthwise CONV2D's output (multiplier 1, dilation 1, a map of at least DWF_MIN_HW), that
   output read by nothing else, neither the projection's output nor its fused ADD's the model's: IRB_EXP where the
   depthwise op is fused into the 1x1 before it (dwf), IRB_DW where it is not, else 0 */
int irb_graph(const Engine *e, const Op *op, const OpState *s);
/* a CONV2D whose residual ADD (the next op) it may write (ops_f32.c): that ADD's other input, or TR_NONE; plain: only
   where that ADD's activation is none, ReLU or ReLU6 */
uint32_t residual_next(const Engine *e, const Op *op, const OpState *s, int plain);
/* ops_f32.c: a depthwise CONV2D of n images on the f32 table's direct kernel, weights w (O x kh*kw), bias b
   (O) or NULL, activation act: f32's, and dq8's on its dequantized weights (FORMAT.md) */
void f32_conv_dw(const Engine *e, const OpState *s, const float *w, const float *b, const float *x, float *y, int n,
                 uint32_t act);
#endif
