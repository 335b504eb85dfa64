/* engine.c: the one executor of every kind. Build: the conv geometry and each op's state (through
 * the kind's op table), the scratch the ops asked for, the activation arena (plan.c). Forward: the
 * op list in order, each op through its table entry. The model was validated by model_load; nothing
 * here checks it again. The forward pass never allocates. Which kinds a binary accepts is not decided
 * here but in its own tiny file (bin_run.c, bin_runq.c).
 * TINYRUNTIME_PROFILE=1: each op's wall time is summed over the forwards and printed to stderr by
 * engine_free (one line per op, then the total); off, it costs one branch per op. The first forward is summed
 * apart (its page faults and cold caches: ResNet18's stem 3x its later time) and left out of the lines when later
 * ones ran. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu.h"
#include "engine_impl.h"
#include "plan.h"
#include "pool.h"
#include "util.h"

static OpImpl g_dq8_ops[OP_COUNT];

static const OpImpl *table_of(uint32_t kind) {
  if (kind == KIND_F32) return f32_ops;
  if (kind == KIND_SQ8) return sq8_ops;
  memcpy(g_dq8_ops, f32_ops, sizeof g_dq8_ops);   /* dq8: the f32 ops, but int8 GEMMs */
  g_dq8_ops[OP_CONV2D] = g_dq8_ops[OP_LINEAR] = dq8_gemm_op;
  return g_dq8_ops;
}


void *engine_alloc(Engine *e, size_t bytes) {
  void *p = rt_alloc64(bytes);
  if (p) e->packed_bytes += bytes;
  return p;
}

void *engine_alloc_packed(Engine *e, size_t bytes) {
  /* no huge-page hint (it was one, on 2 MiB aligned blocks): a huge page the kernel has to find whole can be
     one the hypervisor took back while free (this VM's: its first touch then faults on the host), and after
     2.5 s idle ResNet50 f32 took 109-120 ms from exec to its first output with the hint, 77-82 without
     (dq8 62 -> 49, sq8 34 -> 26); back to back, the hint saved 1-2.5 ms; inference the same either way */
  if (bytes == 0) bytes = 64;
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0) return NULL;
  e->packed_bytes += bytes;
  return p;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14's value; musl 1.2.3's headers predate it */
#endif
/* A fresh page's first store is a fault taken by the packer: ~5,800 of them for ResNet50 sq8's 22.7 MiB of packed
   weights. One call maps a task's span in a loop in the kernel, without a trap a page: that model's build on one
   thread 12 -> 9.9 ms, and its bench-style start-up (fork to the first forward's end, less one forward) on two
   threads 11.3 -> 10.1 ms, medians of 10 (c/README.md) */
void engine_populate(void *p, size_t n) {
  if (n < ENGINE_POPULATE_MIN) return;
  long ps = sysconf(_SC_PAGESIZE);   /* (arm64 kernels may use 16 or 64 KiB pages) */
  uintptr_t pg = ps > 0 ? (uintptr_t)ps : 4096, a = (uintptr_t)p / pg * pg, b = ((uintptr_t)p + n + pg - 1) / pg * pg;
  madvise((void *)a, b - a, MADV_POPULATE_WRITE);   /* (the allocation's own pages: a failure changes nothing) */
}

void engine_release(Engine *e, const void *p, size_t n) {
  uintptr_t a = (uintptr_t)p;
  if (!e->m->map || !n || e->inplace_bytes) return;
  if (!e->rel_hi) e->rel_lo = a, e->rel_hi = a + n;
  else {
    if (a < e->rel_lo) e->rel_lo = a;
    if (a + n > e->rel_hi) e->rel_hi = a + n;
  }
  if (e->rel_hi - e->rel_lo >= ENGINE_RELEASE_BYTES) {
    model_release(e->m, (const void *)e->rel_lo, e->rel_hi - e->rel_lo);
    e->rel_hi = 0;
  }
}

/* zeroed memory for the scratch and the arena: a large block is a fresh anonymous map, which the
   kernel gives zeroed as each page is first touched (a memset first would touch every page twice:
   the kernel's zeroing, then ours); a small one rt_alloc64. Release with zfree(p, the same bytes). */
enum { ZMAP_MIN = 256 << 10 };

/* A model whose activations take more than this for one image (its arena at batch 1, as plan.c plans it:
   without the f32 residual ADDs' fusion) runs a batch one image at a time through all the ops, with an
   arena for one image: batched, each layer's tensors for all the images left the caches between layers.
   Measured (Sapphire Rapids, 2 threads, batch 8 against 1): ResNet50 dq8 (9.2 MiB an image) 0.92 -> 1.0x
   throughput; ResNet18 f32 (3.8 MiB) and MobileNetV2 f32 (5.7 MiB) gain from batching (1.03x, 1.06x:
   weights reused across images) and keep it. ResNet50 f32 (9.2 MiB; 6.6 with its ADDs fused) ran one
   image at a time under the first bound of 8 MiB (batched 0.95x, then); with the ADDs fused, batched is
   better: 27.5 -> 25.8 ms/image at batch 8 (its batch 1: 27.3), peak RSS 121 -> 151 MiB: f32 from 12 MiB.
   dq8 from 3 MiB (CHUNK_ARENA_DQ8): its quantization reads each input value kh x kw times, so
   ResNet18's (3.8 MiB) and MobileNetV2's (5.7 MiB) batch of 8 went 8.2-9.0 -> 7.8 and 9.1-10.4 -> 8.1-8.4
   ms/image one image at a time (their batch 1: 7.0-7.5 and 8.0). f32 one image at a time on each lane (CHUNK_ARENA 1
   MiB; Zen 4, 2026-12-05, batch 8 on two threads, 6 processes of 32 images each alternated) would lower peak RSS
   (ResNet18 75 -> 55 MiB, ResNet50 133 -> 108, MobileNetV2 20.7 -> 16.4) but ResNet18 ran 1.065x its time (ResNet50
   and MobileNetV2 1.005x) and the start-up by the bench's measure was the same (13, 19, 8 ms medians either way): kept. */
#define CHUNK_ARENA ((size_t)12 << 20)
#define CHUNK_ARENA_DQ8 ((size_t)3 << 20)
/* sq8 from 1 MiB (2026-12-04, Zen 4: its 1 MiB L2 a core): at batch 8 on two threads each lane (below) ran its 4 images
   through each op together; one at a time, ResNet50 sq8 (2.3 MiB an image) 0.97-0.98x its time and MobileNetV2's
   (1.44 MiB) 0.97x, on one thread both 0.964x (ABBA, fastest of 4-6); ResNet18's (0.96 MiB) batched, as one at a
   time was no faster (1.006x). Not measured with AMX's kernels */
#define CHUNK_ARENA_SQ8 ((size_t)1 << 20)

/* whether a batch runs one image at a time, arena1 the model's arena for one image (as plan.c plans it): above its kind's
   bound, and f32 also where the batch's arenas exceed twice the level-3 cache (cpu_l3_bytes; unknown: CHUNK_ARENA
   alone). On the Zen 5 (32 MiB of L3 for both cores), batch 8 on two threads, each lane's 4 images together had run
   the stem's max pool at 387 us an image against 108 at batch 1, its outputs gone to memory; one image at a time on
   each lane ResNet50 f32 (9.2 MiB an image) took 0.91-0.92x its time (6-8 processes each alternated, 32 images, three
   sets), ResNet18 (3.8 MiB) 1.00-1.01x and MobileNetV2 (5.7 MiB) 1.01-1.03x (kept batched by this rule) */
static int one_at_a_time(const Model *m, size_t arena1, int batch) {
  if (m->kind == KIND_DQ8) return arena1 > CHUNK_ARENA_DQ8;
  if (m->kind == KIND_SQ8) return arena1 > CHUNK_ARENA_SQ8;
  if (arena1 > CHUNK_ARENA) return 1;
  unsigned long l3 = cpu_l3_bytes();
  return l3 && arena1 > 2 * (size_t)l3 / (size_t)batch;
}

/* huge: a huge-page hint from 2 MiB (THP "madvise"), for the f32 arena of a batch of 2+ only. Its implicit
   convolutions' padded planes are read by a tile from 64+ planes at once, and at batch 8 the hint made
   MobileNetV2 f32 13%, ResNet50 6% and ResNet18 4.5% faster (median batch after the first, 64 images, 5
   processes alternated). But this VM's fresh huge pages fault on the host at first touch: with the hint a
   process 2 s after the last spent 30-40 ms more before its first output, and a batch of 8's first forward
   100-300 ms more (ResNet50 f32 batch 1 start-up 77 -> 55 ms without it; the first batch of MobileNetV2 f32
   at batch 8 378 -> 52 ms, ResNet50's 496 -> 223); at batch 1 (arenas of 4-7 MiB) inference is the same
   either way (MobileNetV2 3.54 and 3.56 ms), and so are the int8 kinds' at batch 8 (ResNet18 sq8 1.45 and
   1.45): there, none */
static void *zalloc(size_t bytes, int huge) {
  if (bytes < ZMAP_MIN) return rt_alloc64(bytes);
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
  if (huge && bytes >= ((size_t)2 << 20)) madvise(p, bytes, MADV_HUGEPAGE);
#else
  (void)huge;
#endif
  return p;
}
static void zfree(void *p, size_t bytes) {
  if (!p) return;
  if (bytes < ZMAP_MIN) free(p);
  else munmap(p, bytes);
}

/* multiply-adds x 2 per image of a CONV2D / LINEAR (its geometry), else 0 */
static double op_flops(const Op *op, const OpState *s) {
  if (op->type != OP_CONV2D && op->type != OP_LINEAR) return 0;
  return 2.0 * s->O * s->OH * s->OW * s->K;
}

/* the first forward's times per op: prof_ms's second half */
static double *prof_first(const Engine *e) { return e->prof_ms + e->m->n_ops; }

static void profile_print(const Engine *e) {
  const Model *m = e->m;
  const char *unit = m->kind == KIND_F32 ? "GFLOP/s" : "GOP/s";
  double total = 0, flops = 0, first = 0;
  /* the later forwards' times; the first's only when it was the one */
  int later = e->prof_images > 0;
  const double *pm = later ? e->prof_ms : prof_first(e);
  uint64_t images = later ? e->prof_images : e->prof_first_n;
  for (uint32_t i = 0; i < m->n_ops; i++) first += prof_first(e)[i];
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    const Value *y = &m->values[op->out];
    double f = op_flops(op, &e->st[i]) * (double)images, ms = pm[i];
    char rate[32] = "", shape[40];
    if (e->st[i].fused) snprintf(rate, sizeof rate, " (in another op)");   /* (its time is that op's) */
    else if (f > 0 && ms > 0) snprintf(rate, sizeof rate, " %9.2f %s", f / ms * 1e-6, unit);
    snprintf(shape, sizeof shape, "%ux%ux%u", y->c, y->h, y->w);
    fprintf(stderr, "profile: %4u %-18s %-14s %10.3f ms%s\n", i, tr_op_name(op->type), shape, ms, rate);
    total += ms, flops += f;
  }
  fprintf(stderr, "profile: total %.3f ms, %llu image(s), %.3f ms/image", total, (unsigned long long)images,
          images ? total / (double)images : 0.0);
  if (flops > 0 && total > 0) fprintf(stderr, ", %.2f %s", flops / total * 1e-6, unit);
  fputc('\n', stderr);
  if (later)
    fprintf(stderr, "profile: first forward %.3f ms, %llu image(s), %.3f ms/image (not in the lines above: its page faults, "
            "cold caches)\n", first, (unsigned long long)e->prof_first_n, e->prof_first_n ? first / (double)e->prof_first_n : 0.0);
  size_t scratch = 0;
  for (int k = 0; k < N_SCRATCH; k++) scratch += e->scratch_bytes[k];
  if (e->op_soff) scratch = 0;
  fprintf(stderr, "profile: memory: packed weights %.2f MiB, weights read in place %.2f MiB, activation arena %.2f MiB, "
          "scratch %.2f MiB%s\n", (double)e->packed_bytes / 1048576.0, (double)e->inplace_bytes / 1048576.0,
          (double)e->arena_bytes / 1048576.0, (double)scratch / 1048576.0,
          e->op_soff || (e->nlanes && e->lanes[0]->op_soff) ? " (in the arena)" : "");
}

/* an engine's (or a lane's) own memory: its arena, its scratch (f32's in the arena), their plans */
static void mem_free(Engine *e) {
  free(e->offs);
  zfree(e->arena, e->arena_bytes);
  if (!e->op_soff)
    for (int k = 0; k < N_SCRATCH; k++) zfree(e->scratch[k], e->scratch_bytes[k]);
  free(e->op_soff), free(e->prof_ms);
}

void engine_free(Engine *e) {
  if (!e) return;
  if (e->prof_ms && e->nlanes) {   /* the lanes' times: their mean (they run side by side), their images */
    for (int i = 0; i < e->nlanes; i++) {
      Engine *l = e->lanes[i];
      if (!l || !l->prof_ms) continue;
      for (uint32_t k = 0; k < 2 * e->m->n_ops; k++) e->prof_ms[k] += l->prof_ms[k] / e->nlanes;   /* (and the first's) */
      e->prof_images += l->prof_images, e->prof_first_n += l->prof_first_n, e->arena_bytes += l->arena_bytes;
      l->prof_images = l->prof_first_n = 0;
    }
    for (int k = 0; k < N_SCRATCH; k++) e->scratch_bytes[k] *= (size_t)e->nlanes;
  }
  if (e->prof_ms && (e->prof_images || e->prof_first_n)) profile_print(e);
  for (int i = 0; i < e->nlanes; i++)
    if (e->lanes[i]) mem_free(e->lanes[i]), free(e->lanes[i]);
  free(e->lanes), free(e->lane_lo);
  if (e->st)
    for (uint32_t i = 0; i < e->m->n_ops; i++) {
      OpState *s = &e->st[i];
      free(s->apack), free(s->bias), free(s->A), free(s->qbias), free(s->mult), free(s->shift), free(s->ws_own), free(s->bf), free(s->boff),
          free(s->aconv), free(s->wdq), free(s->wcomp);
    }
  free(e->st);
  mem_free(e);
  free(e->op_need);
  free(e);
}

static void geometry(const Model *m, const Op *op, OpState *s) {
  const Value *x = &m->values[op->in[0]], *y = &m->values[op->out];
  s->C = (int)x->c, s->H = (int)x->h, s->W = (int)x->w, s->O = (int)y->c, s->OH = (int)y->h, s->OW = (int)y->w;
  s->linear = op->type == OP_LINEAR;
  if (!s->linear) {
    s->kh = op->attr[A_CONV2D_KH], s->kw = op->attr[A_CONV2D_KW], s->sh = op->attr[A_CONV2D_SH];
    s->sw = op->attr[A_CONV2D_SW], s->ph = op->attr[A_CONV2D_PH], s->pw = op->attr[A_CONV2D_PW];
    s->dh = op->attr[A_CONV2D_DH], s->dw = op->attr[A_CONV2D_DW], s->groups = op->attr[A_CONV2D_GROUPS];
  } else {
    s->H = s->W = s->OH = s->OW = 1;
    s->kh = s->kw = s->sh = s->sw = s->dh = s->dw = 1, s->ph = s->pw = 0, s->groups = 1;
  }
  s->M = s->O / s->groups;
  s->K = s->C / s->groups * s->kh * s->kw;
  s->depthwise = s->C / s->groups == 1 && s->groups > 1;
}

/* the arena, an f32 engine's with each op's SCRATCH_0 as one more block, alive during that op only (op_need;
   the int8 engines' scratch is apart): fills e->offs (and e->op_soff); returns the arena size, SIZE_MAX on
   overflow or when memory is short. A 1x1 CONV2D with the depthwise one after it fused (OpState.dwf, any
   kind) gives its own output no bytes, and the depthwise op's output lives from the 1x1 on. A CONV2D with its
   residual ADD fused (OpState.res) writes the ADD's output z onto the ADD's other input r: z takes r's block
   (r's root's, when r is itself such a z: ResNet's identity shortcuts), alive until z's last reader, and the
   conv's own output takes no bytes; but a projection fused into its block's expansion (OpState.irb) writes z on
   a block of its own. */
static size_t plan_with_scratch(Engine *e, int with_input) {
  const Model *m = e->m;
  uint32_t nv = m->n_values, n = nv + m->n_ops;
  size_t *bytes = calloc(n, sizeof *bytes), *offs = calloc(n, sizeof *offs), size = SIZE_MAX;
  int *first = calloc(n, sizeof *first), *last = calloc(n, sizeof *last);
  uint32_t *root = calloc(nv, sizeof *root);   /* the value whose block a value takes (itself, or a fused z's r's) */
  if ((e->op_need && !(e->op_soff = calloc(m->n_ops, sizeof *e->op_soff))) || !bytes || !offs || !first || !last || !root) goto done;
  for (uint32_t v = 0; v < nv; v++) root[v] = v;
  for (uint32_t v = with_input ? 0 : 1; v < nv; v++) {   /* with_input: the input too (engine_input) */
    size_t el = m->values[v].dtype == DT_I8 ? 1 : 4;
    if ((bytes[v] = rt_mul_sat(rt_mul_sat(value_elems(&m->values[v]), (size_t)e->batch), el)) == SIZE_MAX) goto done;
  }
  plan_lifetimes(m, first, last);
  for (uint32_t i = 0; i < m->n_ops; i++) {
    bytes[nv + i] = e->op_need ? e->op_need[(size_t)i * N_SCRATCH + SCRATCH_0] : 0;
    first[nv + i] = last[nv + i] = (int)i;
    if (e->st[i].dwf) {   /* its output never stored whole (a panel at a time in its scratch); the depthwise op's
                             output written during op i, beside its input and scratch */
      bytes[m->ops[i].out] = 0;
      if (first[m->ops[i + 1].out] > (int)i) first[m->ops[i + 1].out] = (int)i;
    }
    if (irb_runs(&e->st[i])) {   /* the projection (and its fused ADD) computed during op i too (the expansion or the
                                    depthwise op): the depthwise op's output never stored whole; the projection's (or its
                                    ADD's: then on a block of its own, not on r, which op i may still read around each
                                    band) from op i on */
      uint32_t b = i + (e->st[i].irb != IRB_DW);   /* the depthwise op */
      const OpState *sc = &e->st[b + 1];
      uint32_t y = sc->res ? m->ops[b + 2].out : m->ops[b + 1].out;
      bytes[m->ops[b].out] = 0;
      if (e->st[i].irb == IRB_STEM) bytes[m->ops[i].out] = 0;   /* (a stem's output: a band at a time in its scratch) */
      if (sc->res) bytes[m->ops[b + 1].out] = 0;
      if (first[y] > (int)i) first[y] = (int)i;
    }
    if (e->st[i].ds_op) {   /* the strided 1x1's output written during op i, on op i's phase planes */
      uint32_t o = m->ops[e->st[i].ds_op - 1].out;
      if (first[o] > (int)i) first[o] = (int)i;
    }
    if (e->st[i].res && e->st[i].irb != IRB_PROJ) {   /* (in op order: r's root is final before z's) */
      const Op *add = &m->ops[i + 1];
      uint32_t r = root[e->st[i].res_in];
      if (last[add->out] > last[r]) last[r] = last[add->out];
      bytes[add->out] = bytes[m->ops[i].out] = 0;
      root[add->out] = root[m->ops[i].out] = r;
    }
  }
  if ((size = plan_memory_lives(n, bytes, first, last, offs)) == (size_t)-1) size = SIZE_MAX;
  for (uint32_t v = 0; v < nv; v++) offs[v] = offs[root[v]];
  memcpy(e->offs, offs, nv * sizeof *offs);
  if (e->op_soff) memcpy(e->op_soff, offs + nv, m->n_ops * sizeof *offs);
done:
  free(bytes), free(offs), free(first), free(last), free(root);
  return size;
}

/* plans the arena (plan_with_scratch), the input too when with_input: fills e->offs
   (and e->op_soff), returns its size (SIZE_MAX on overflow or when memory is short) */
static size_t plan_once(Engine *e, int with_input) {
  if (e->op_soff) free(e->op_soff), e->op_soff = NULL;
  if (e->op_need && (e->scratch_bytes[SCRATCH_1] || e->scratch_bytes[SCRATCH_2]))   /* (no f32 op asks for them) */
    return plan_arena_size(e->m, e->batch, with_input, e->offs);
  return plan_with_scratch(e, with_input);
}

/* the arena: with the input in it (e->in_arena) when that takes no more bytes than without plus the input's own
   buffer, which the caller allocates otherwise (cli.c: a batch of floats). (It had been: no more than without. Once
   MobileNetV2 f32's peak moved off its first op, the planner's placement made the arena with the input 0.3 MiB
   larger, so the input went apart: 0.57 MiB more at batch 1, peak RSS 12.04 -> 12.30 MiB) */
static size_t plan_arena_bytes(Engine *e) {
  size_t without = plan_once(e, 0), with = without == SIZE_MAX ? SIZE_MAX : plan_once(e, 1);
  size_t in = rt_mul_sat(rt_mul_sat(value_elems(&e->m->values[0]), (size_t)e->batch), sizeof(float));
  if (with != SIZE_MAX && with <= (without > SIZE_MAX - in ? SIZE_MAX : without + in)) return e->in_arena = 1, with;
  return without == SIZE_MAX ? SIZE_MAX : plan_once(e, 0);
}

float *engine_input(Engine *e) {
  return e->in_arena && e->batch == e->max_n ? (float *)(void *)(e->arena + e->offs[0]) : NULL;
}

/* Lanes (2+ threads, a batch of 2+): a batch's images split over the threads, each thread running
   its images through every op on its own (the ops' pool_* calls inside a job run serially, and
   pool_threads() is 1 there, so each op takes its one-thread path), on its lane: a copy of the engine
   with its own arena and scratch, planned for its share of a batch, the ops' state shared (read only
   in a forward). No fork/join per op, and each image's activations stay in one core's caches. The
   results are those of any split (no kind's depend on the batch or the threads). One image
   (a batch of one, or a last batch of one) runs on lane 0 with the ops over the threads. The ops are built for a
   lane's share of the batch (engine_build). f32 too since 2026-12-04 (it had kept its split within the ops, whose
   layers scale ~2x on two threads): at batch 8 on two threads (Zen 4, 60 images, ABBA, 10 runs of
   each) a little faster at best (fastest: MobileNetV2 0.96x, ResNet18 0.975x, ResNet50 0.99x) and much
   steadier on this busy host, where a late thread had held up every op of the batch (medians 0.73-0.95x,
   0.86-0.99x, 0.91x in two sessions). Since 2026-12-06 a batch is split over the lanes by their speed
   (lane_split), so a lane on a slower core runs fewer of its images, each lane reading its own into its arena
   (engine_forward_fill). TINYRUNTIME_LANES=0: no lanes. */
static int lanes_wanted(const Engine *e) {
  const char *v = getenv("TINYRUNTIME_LANES");
  return e->max_n > 1 && pool_threads() > 1 && !(v && strcmp(v, "0") == 0);
}
static int lanes_build(Engine *e) {
  int nl = pool_threads(), bl = e->batch;   /* (engine_build: at most an equal share of a batch) */
  if (!(e->lanes = calloc((size_t)nl, sizeof *e->lanes)) || !(e->lane_lo = calloc(2 * ((size_t)nl + 1), sizeof *e->lane_lo))) return -1;
  e->nlanes = nl;
  for (int i = 0; i < nl; i++) {
    Engine *l = e->lanes[i] = malloc(sizeof *l);
    if (!l) return -1;
    *l = *e;
    l->lanes = NULL, l->nlanes = 0, l->batch = bl, l->max_n = e->max_n, l->in_arena = 0, l->op_soff = NULL;
    l->lane_lo = NULL, l->rate = 0;   /* (max_n: a lane may run more than its equal share, bl at a time) */
    l->arena = NULL, l->arena_bytes = 0, l->prof_images = l->prof_first_n = 0;
    for (int k = 0; k < N_SCRATCH; k++) l->scratch[k] = NULL;
    l->prof_ms = NULL, l->offs = calloc(e->m->n_values, sizeof *l->offs);
    if (!l->offs || (e->prof_ms && !(l->prof_ms = calloc(2 * (size_t)e->m->n_ops, sizeof *l->prof_ms)))) return -1;
    size_t asize = plan_once(l, 1);   /* room for its images' input in its arena (engine_forward_fill) */
    l->in_arena = 1;
    if (asize == SIZE_MAX || !(l->arena = zalloc(asize, e->m->kind == KIND_F32 && bl > 1))) return -1;
    l->arena_bytes = asize;
    if (!l->op_soff)   /* (f32: its scratch in the arena) */
      for (int k = 0; k < N_SCRATCH; k++)
        if (l->scratch_bytes[k] && !(l->scratch[k] = zalloc(l->scratch_bytes[k], 0))) return -1;
  }
  return 0;
}

typedef struct {
  Engine *e;
  const float *in;       /* the batch, or NULL: */
  engine_fill_fn fill;   /* each lane's images put in its arena's room by fill(ctx, ...) */
  void *ctx;
  float *logits;
  int n;
  _Atomic int rc;        /* 0, or the first failure's: 1 */
  char err[256];         /* its message */
} LaneJob;

/* the split of a batch of n over the lanes (e->lane_lo): equal shares, the first lanes the larger, unless every lane
   has a rate (images per ms of its forwards so far) and shares in proportion to the rates (each lane at least one
   image) would take at most 0.9x as long as the equal ones by those rates (so that the noise of even lanes does not
   move an image: 5 and 3 of 8 where 4 and 4 were right costs a batch 1.25x). Before 2026-12-06 the shares were
   always equal, and the batch waited for the slower lane: on a host whose second vCPU ran at half speed (ResNet18 sq8
   on one thread 3.2-3.8 ms an image on one, 6.7-7.4 on the other) a batch of 8 took the slow lane's 4 images.
   Claiming images one at a time instead (each lane the next unclaimed ones) ran each lane's forwards on fewer images
   at once: ResNet18 f32 at batch 8 on two even threads 5-15% slower, its layers' weights read once per image
   instead of once per 4 */
static double lane_time(const Engine *e, const int *lo) {   /* a split's time by the rates: its slowest lane's */
  double t = 0;
  for (int l = 0; l < e->nlanes; l++) {
    double tl = (lo[l + 1] - lo[l]) / e->lanes[l]->rate;
    t = tl > t ? tl : t;
  }
  return t;
}
static void lane_split(Engine *e, int n) {
  int nl = e->nlanes, *lo = e->lane_lo, *eq = lo + nl + 1;   /* (lane_lo: room for two splits) */
  double sum = 0, before = 0;
  int rated = 1;
  for (int l = 0; l < nl; l++) rated &= e->lanes[l]->rate > 0, sum += e->lanes[l]->rate;
  lo[0] = 0, lo[nl] = n;
  for (int l = 1; l < nl; l++) lo[l] = (n * l + nl - 1) / nl;
  if (!rated || n < nl) return;
  double t_eq = lane_time(e, lo);
  memcpy(eq, lo, sizeof *lo * ((size_t)nl + 1));
  for (int l = 1; l < nl; l++) {
    before += e->lanes[l - 1]->rate;
    int v = (int)(n * before / sum + 0.5);
    lo[l] = v < lo[l - 1] + 1 ? lo[l - 1] + 1 : v > n - (nl - l) ? n - (nl - l) : v;
  }
  if (lane_time(e, lo) > 0.9 * t_eq) memcpy(lo, eq, sizeof *lo * ((size_t)nl + 1));
}

/* lane l's images of the split; its rate updated (a mean of the last one and its forward's) */
static int lane_run(const LaneJob *j, int l, char *err, size_t errlen) {
  Engine *ln = j->e->lanes[l];
  size_t in_el = value_elems(&j->e->m->values[0]), cls = j->e->m->n_classes;
  int i0 = j->e->lane_lo[l], k = j->e->lane_lo[l + 1] - i0;
  if (k <= 0) return 0;
  float *room = (float *)(void *)(ln->arena + ln->offs[0]);
  double t0 = rt_now_ms();
  for (int i = i0, p; i < i0 + k; i += p) {   /* in passes of the images its arena has room for */
    p = i0 + k - i < ln->batch ? i0 + k - i : ln->batch;
    const float *in = j->in ? j->in + (size_t)i * in_el : room;
    if ((!j->in && j->fill(j->ctx, i, p, room, err, errlen)) || engine_forward(ln, in, p, j->logits + (size_t)i * cls, err, errlen))
      return -1;
  }
  double dt = rt_now_ms() - t0, r = k / (dt > 1e-6 ? dt : 1e-6);
  ln->rate = ln->rate > 0 ? 0.5 * (ln->rate + r) : r;
  return 0;
}

/* share id runs lanes id, id + nth, ... (each lane once, whatever the threads the pool gives) */
static void lane_share(void *arg, int id, int nth) {
  LaneJob *j = arg;
  char err[256];
  for (int l = id; l < j->e->nlanes; l += nth) {
    int none = 0;
    if (lane_run(j, l, err, sizeof err) && atomic_compare_exchange_strong(&j->rc, &none, 1))
      memcpy(j->err, err, sizeof err);
  }
}

/* a forward on lanes, its images at j->in or put in place by j->fill: one image on lane 0 with its ops over the
   threads (no lane's rate), else the split's shares side by side */
static int lanes_forward(LaneJob *j, char *err, size_t errlen) {
  Engine *e = j->e;
  if (j->n == 1) {
    float *room = (float *)(void *)(e->lanes[0]->arena + e->lanes[0]->offs[0]);
    if (!j->in && j->fill(j->ctx, 0, 1, room, err, errlen)) return -1;
    return engine_forward(e->lanes[0], j->in ? j->in : room, 1, j->logits, err, errlen);
  }
  lane_split(e, j->n);
  pool_run(lane_share, j);
  return j->rc ? rt_fail(err, errlen, "%s", j->err) : 0;
}

int engine_lanes(const Engine *e) { return e->nlanes; }

int engine_forward_fill(Engine *e, int n, engine_fill_fn fill, void *ctx, float *logits, char *err, size_t errlen) {
  if (!e->nlanes) return rt_fail(err, errlen, "this engine has no lanes: engine_forward");
  if (n < 1 || n > e->max_n) return rt_fail(err, errlen, "batch of %d images, engine built for 1..%d", n, e->max_n);
  LaneJob j = { .e = e, .fill = fill, .ctx = ctx, .logits = logits, .n = n };
  return lanes_forward(&j, err, errlen);
}

Engine *engine_build(const Model *m, int batch, char *err, size_t errlen) {
  if (batch < 1) { rt_fail(err, errlen, "batch size %d must be >= 1", batch); return NULL; }
  if (!engine_supports(m->kind)) {
    rt_fail(err, errlen, "this is a %s model; use %s", kind_name(m->kind), m->kind == KIND_F32 ? "run" : "runq");
    return NULL;
  }
  Engine *e = calloc(1, sizeof *e);
  if (!e) { rt_fail(err, errlen, "out of memory"); return NULL; }
  e->m = m, e->batch = e->max_n = batch, e->ops = table_of(m->kind), e->kf = f32_kernels(), e->kq = q8_kernels(m->kind);
  e->kdw = q8_dw(), e->kew = q8_ew();
  e->kq_below = e->kq && e->kq->min_k ? q8_kernels_below(m->kind) : NULL;
  e->st = calloc(m->n_ops, sizeof *e->st);
  const char *prof = getenv("TINYRUNTIME_PROFILE");
  if (prof && *prof && strcmp(prof, "0") != 0 && !(e->prof_ms = calloc(2 * (size_t)m->n_ops, sizeof *e->prof_ms))) goto oom;
  e->offs = calloc(m->n_values, sizeof *e->offs);
  if (!e->st || !e->offs) goto oom;
  /* large activations: a batch goes through the ops one image at a time (CHUNK_ARENA; offs is planned
     again below) */
  if (batch > 1 && one_at_a_time(m, plan_arena_size(m, 1, 0, e->offs), batch)) e->batch = 1;
  /* on lanes the ops are built for a lane's share of a batch, the images each lane runs at once (their blocking,
     paths and scratch follow the batch: f32's Winograd blocks and slots and implicit convolutions' images, sq8's
     batched implicit convolutions, LINEAR's columns) */
  if (lanes_wanted(e)) {
    int share = (e->max_n + pool_threads() - 1) / pool_threads();
    if (e->batch > share) e->batch = share;
  }
  if (m->kind == KIND_F32 && !(e->op_need = calloc((size_t)m->n_ops * N_SCRATCH, sizeof *e->op_need))) goto oom;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const Op *op = &m->ops[i];
    e->cur_op = i;
    if (op->type == OP_CONV2D || op->type == OP_LINEAR) geometry(m, op, &e->st[i]);
    if (e->ops[op->type].build && e->ops[op->type].build(e, op, &e->st[i])) goto oom;
  }
  for (int k = 0; k < N_SCRATCH; k++)
    if (e->scratch_bytes[k] == SIZE_MAX) goto oom;
  /* the input (value 0) is read where the caller keeps it, which may be a block of the arena that costs
     it no bytes (engine_input: the bytes of values that come later, beside the first op's output) */
  if (lanes_wanted(e)) {   /* every forward runs on the lanes, each with its own arena and scratch */
    if (lanes_build(e)) goto oom;
  } else {
    size_t asize = plan_arena_bytes(e);
    if (asize == SIZE_MAX || !(e->arena = zalloc(asize, m->kind == KIND_F32 && e->batch > 1))) goto oom;
    e->arena_bytes = asize;
    if (!e->op_soff)
      for (int k = 0; k < N_SCRATCH; k++)
        if (e->scratch_bytes[k] && !(e->scratch[k] = zalloc(e->scratch_bytes[k], 0))) goto oom;
  }
  /* the rest of the file's pages back too (the tables, the partial pages at the ends of the packed
     blocks, biases): what the run still reads from the map (depthwise weights, lookup tables) is
     faulted in again from the page cache on first use */
  if (!e->inplace_bytes) model_release(m, m->map, m->map_size);
  return e;
oom:
  engine_free(e);
  rt_fail(err, errlen, "out of memory building the engine (batch %d)", batch);
  return NULL;
}

int engine_forward(Engine *e, const float *in, int n, float *logits, char *err, size_t errlen) {
  if (n < 1 || n > e->max_n) return rt_fail(err, errlen, "batch of %d images, engine built for 1..%d", n, e->max_n);
  const Model *m = e->m;
  if (e->nlanes) {
    LaneJob j = { .e = e, .in = in, .logits = logits, .n = n };
    return in ? lanes_forward(&j, err, errlen) : rt_fail(err, errlen, "no input: on lanes, engine_forward_fill");
  }
  if (!in && !(in = engine_input(e))) return rt_fail(err, errlen, "no input: this engine has no room for it");
  if (n > e->batch) {   /* one image (e->batch) at a time: the same ops on each, so the same results */
    size_t in_el = value_elems(&m->values[0]), cls = m->n_classes;
    for (int i = 0; i < n; i += e->batch) {
      int k = n - i < e->batch ? n - i : e->batch;
      if (engine_forward(e, in + (size_t)i * in_el, k, logits + (size_t)i * cls, err, errlen)) return -1;
    }
    return 0;
  }
  e->in = in;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    if (e->op_soff) {
      e->scratch[SCRATCH_0] = e->arena + e->op_soff[i];
      e->scratch_bytes[SCRATCH_0] = e->op_need[(size_t)i * N_SCRATCH + SCRATCH_0];
    }
    if (e->prof_ms) {
      double t0 = rt_now_ms();
      e->ops[m->ops[i].type].run(e, &m->ops[i], &e->st[i], n);
      (e->prof_first_n ? e->prof_ms : prof_first(e))[i] += rt_now_ms() - t0;
    } else
      e->ops[m->ops[i].type].run(e, &m->ops[i], &e->st[i], n);
  }
  if (!e->prof_first_n) e->prof_first_n = (uint64_t)n;
  else e->prof_images += (uint64_t)n;
  memcpy(logits, engine_val(e, m->output), (size_t)n * m->n_classes * sizeof(float));
  e->in = NULL;
  return 0;
}
