/* cli.c: main() of `run` and `runq` (DESIGN.md, contract 1).
 *
 *   run [--threads N] [test] MODEL DATA...
 *
 * DATA are raw tensor files (.bin: little-endian float32, C x H x W) or folders, walked recursively
 * for *.bin files (each folder's entries sorted by byte-wise name, depth first). Without `test`: the
 * top-1 accuracy in percent, labels from each file's parent folder name. With `test`: per file, the
 * softmax probabilities, tab-separated. BS=n sets the batch size. Errors: "run: PATH: problem" on
 * stderr, exit 1 (usage errors exit 2). Every file is checked (exists, size, label) before any
 * output. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "data.h"
#include "dispatch.h"
#include "engine.h"
#include "limits.h"
#include "model.h"
#include "pool.h"
#include "util.h"

/* What one cli_main call holds, released on every way out (die() jumps back to cli_main). */
static struct {
  jmp_buf out;
  Model m;
  int loaded;
  Engine *e;
  DataList files;
  long *labels;
  float *in, *logits;
  FILE *stamps;
} g;

static void cleanup(void) {
  engine_free(g.e);
  if (g.loaded) model_free(&g.m);
  data_list_free(&g.files);
  free(g.labels), free(g.in), free(g.logits);
  if (g.stamps) fclose(g.stamps);
  g.e = NULL, g.loaded = 0, g.labels = NULL, g.in = g.logits = NULL, g.stamps = NULL;
}

static _Noreturn void die(int code, const char *path, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", ENGINE_BINARY);
  if (path) fprintf(stderr, "%s: ", path);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  longjmp(g.out, code);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s [--threads N] [test] MODEL DATA...\n"
          "\n"
          "Runs a tinyruntime model file (%s kind) on raw tensor files.\n"
          "\n"
          "  MODEL        model file: float32 from tinyruntime_export, dq8/sq8 from tinyruntime_quantize\n"
          "               (a pipeline run writes them to runs/latest/export/; the format is c/FORMAT.md)\n"
          "  DATA         .bin files (little-endian float32, C x H x W, already normalized) or folders,\n"
          "               walked recursively for *.bin (each folder's entries sorted by name, depth first)\n"
          "  test         print one line per file: the softmax probabilities, tab-separated (%%.9g),\n"
          "               in the order the files were given/found\n"
          "               without it: print one line, the top-1 accuracy in percent (%%.4f); each file's\n"
          "               label is its parent folder's name, a decimal integer < the number of classes\n"
          "  --threads N  threads (default: the CPUs this process may use)\n"
          "  --help       this text\n"
          "\n"
          "Environment:\n"
          "  BS=n                     batch size, a positive integer (default 1); results do not depend on it\n"
          "  TINYRUNTIME_KERNELS=ref  use the scalar reference kernels (default: the best for this CPU);\n"
          "                           =ISA (avx2, avx512vnni, amx, neon...): the best up to that ISA's table\n"
          "  TINYRUNTIME_PROFILE=1    after the run, print each op's total time (and GFLOP/s) to stderr\n"
          "  TINYRUNTIME_STAMPS=PATH  write to PATH, per batch, CLOCK_MONOTONIC in ns when its forward ended\n"
          "                           (how the benchmark times batches: from inside, not by when output arrives)\n"
          "  TINYRUNTIME_LANES=0      a batch's images through each op over all threads (default, BS > 1 and\n"
          "                           2+ threads: each thread its own images through every op, the batch split by\n"
          "                           each thread's speed so far)\n"
          "\n"
          "Errors print one line \"%s: PATH: problem\" on stderr and exit 1 (usage errors exit 2).\n",
          ENGINE_BINARY, ENGINE_BINARY[3] == 'q' ? "dq8 or sq8" : "f32", ENGINE_BINARY);
}

static int parse_pos_int(const char *s, long max, long *out) {
  if (!s || !*s) return -1;
  long v = 0;
  for (const char *c = s; *c; c++) {
    if (*c < '0' || *c > '9') return -1;
    v = v * 10 + (*c - '0');
    if (v > max) return -1;
  }
  if (v < 1) return -1;
  *out = v;
  return 0;
}


/* ---------------------------------------------------------------- main */

static int profiling(void) {
  const char *p = getenv("TINYRUNTIME_PROFILE");
  return p && *p && strcmp(p, "0") != 0;
}

/* the process's peak resident size in KiB (Linux: VmHWM), or -1 */
static long peak_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kib = strtol(line + 6, NULL, 10);
  fclose(f);
  return kib;
}

/* engine_forward_fill's reader: images [i0, i0 + k) of the batch from their files, on the lane's thread (its
   data_read_batch runs serially there); the first failure's file and message kept (lanes read side by side) */
typedef struct {
  char *const *paths;
  size_t elems;
  _Atomic int bad;   /* -1, or the batch's first failed file */
  char msg[256];
} ReadLane;
static int read_lane(void *ctx, int i0, int k, float *dst, char *err, size_t errlen) {
  ReadLane *r = ctx;
  int bad = 0, none = -1;
  char e[256];
  if (!data_read_batch(r->paths + i0, k, dst, r->elems, POOL_GRAIN, &bad, e, sizeof e)) return 0;
  if (atomic_compare_exchange_strong(&r->bad, &none, i0 + bad)) memcpy(r->msg, e, sizeof e);
  return rt_fail(err, errlen, "%s", e);
}

static int run(int argc, char **argv) {
  double t_start = rt_now_ms(), t_load = 0, t_build = 0, t_first = -1, cpu_first = -1;
  int test = 0, a = 1;
  long threads = 0;
  for (; a < argc; a++) {
    if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[a], "--threads") || !strncmp(argv[a], "--threads=", 10)) {
      const char *v = argv[a][9] == '=' ? argv[a] + 10 : (a + 1 < argc ? argv[++a] : NULL);
      if (parse_pos_int(v, 4096, &threads)) {
        fprintf(stderr, "%s: --threads: '%s' is not a positive integer\n", ENGINE_BINARY, v ? v : "");
        return 2;
      }
    } else if (!strcmp(argv[a], "test")) {
      test = 1;
    } else if (!strcmp(argv[a], "--")) {
      a++;
      break;
    } else if (argv[a][0] == '-' && argv[a][1]) {
      fprintf(stderr, "%s: %s: unknown option (see --help)\n", ENGINE_BINARY, argv[a]);
      return 2;
    } else
      break;
  }
  if (argc - a < 2) {
    fprintf(stderr, "%s: usage: %s [--threads N] [test] MODEL DATA... (see --help)\n", ENGINE_BINARY, ENGINE_BINARY);
    return 2;
  }
  long bs = 1;
  const char *bss = getenv("BS");
  if (bss && parse_pos_int(bss, 1 << 20, &bs)) {
    fprintf(stderr, "%s: BS: '%s' is not a positive integer\n", ENGINE_BINARY, bss);
    return 2;
  }
  char kerr[256];
  if (dispatch_check_env(kerr, sizeof kerr)) {
    fprintf(stderr, "%s: TINYRUNTIME_KERNELS: %s\n", ENGINE_BINARY, kerr);
    return 2;
  }
  if (threads) pool_set_threads((int)threads);

  const char *mpath = argv[a++];
  Model *m = &g.m;
  char err[512];
  t_load = rt_now_ms();
  if (model_load(mpath, m, err, sizeof err)) die(1, mpath, "%s", err);
  t_load = rt_now_ms() - t_load;
  g.loaded = 1;
  if (!engine_supports(m->kind))
    die(1, mpath, "this is a %s model; use %s", kind_name(m->kind), engine_supports(KIND_F32) ? "runq" : "run");

  /* every data file, checked before any output */
  DataList *files = &g.files;
  for (; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) die(1, argv[a], "%s", rt_strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      size_t before = files->n;
      if (data_walk(files, argv[a], err, sizeof err)) die(1, NULL, "%s", err);
      if (files->n == before) die(1, argv[a], "no .bin files in this folder");
    } else if (data_push(files, argv[a], err, sizeof err))
      die(1, NULL, "%s", err);
  }
  size_t elems = (size_t)m->in_c * m->in_h * m->in_w, fbytes = elems * sizeof(float);
  long *labels = g.labels = malloc(files->n * sizeof *labels);
  if (!labels) die(1, mpath, "out of memory");
  for (size_t i = 0; i < files->n; i++) {
    struct stat st;
    if (stat(files->path[i], &st) != 0) die(1, files->path[i], "%s", rt_strerror(errno));
    if (!S_ISREG(st.st_mode)) die(1, files->path[i], "not a regular file");
    if ((size_t)st.st_size != fbytes)
      die(1, files->path[i], "wrong size: %lld bytes, expected %zu (float32 x %u x %u x %u)", (long long)st.st_size,
          fbytes, m->in_c, m->in_h, m->in_w);
    labels[i] = -1;
    if (!test) {
      char *real = realpath(files->path[i], NULL); /* so "7/a.bin" run from inside works too */
      labels[i] = data_label(real ? real : files->path[i], m->n_classes);
      free(real);
      if (labels[i] < 0)
        die(1, files->path[i], "the parent folder's name is not a class label (an integer 0..%u)", m->n_classes - 1);
    }
  }

  if (bs > (long)files->n) bs = (long)files->n; /* no need to plan for more */
  if (model_check_limits(m, (int)bs, err, sizeof err)) die(1, mpath, "%s", err);
  t_build = rt_now_ms();
  Engine *e = g.e = engine_build(m, (int)bs, err, sizeof err);
  if (!e) die(1, mpath, "%s", err);
  t_build = rt_now_ms() - t_build;
  /* the batch's input goes straight into the engine's memory when it offers room (no buffer of its own); on lanes each
     lane reads its own images into its own memory (engine_forward_fill, read_lane) */
  float *in = NULL, *logits = g.logits = malloc((size_t)bs * m->n_classes * sizeof(float)), *dst = engine_input(e);
  int lanes = engine_lanes(e);
  if (!dst && !lanes) in = g.in = malloc((size_t)bs * fbytes);
  if ((!dst && !lanes && !in) || !logits) die(1, mpath, "out of memory for a batch of %ld", bs);

  /* TINYRUNTIME_STAMPS: a line per batch, the monotonic clock in ns when its forward returned */
  const char *sp = getenv("TINYRUNTIME_STAMPS");
  if (sp && *sp && !(g.stamps = fopen(sp, "w"))) die(1, sp, "%s", rt_strerror(errno));
  size_t correct = 0;
  for (size_t i0 = 0; i0 < files->n; i0 += (size_t)bs) {
    int n = (int)(files->n - i0 < (size_t)bs ? files->n - i0 : (size_t)bs);
    int bad = 0;
    ReadLane rl = { files->path + i0, elems, -1, "" };
    if (!lanes && data_read_batch(files->path + i0, n, in ? in : dst, elems, POOL_GRAIN, &bad, err, sizeof err))
      die(1, files->path[i0 + (size_t)bad], "%s", err);
    if (t_first < 0) {
      t_first = rt_now_ms();
      struct timespec c;
      if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c) == 0) cpu_first = (double)c.tv_sec * 1e3 + (double)c.tv_nsec * 1e-6;
    }
    if (lanes ? engine_forward_fill(e, n, read_lane, &rl, logits, err, sizeof err) : engine_forward(e, in, n, logits, err, sizeof err))
      die(1, rl.bad >= 0 ? files->path[i0 + (size_t)rl.bad] : mpath, "%s", rl.bad >= 0 ? rl.msg : err);
    if (g.stamps) {
      struct timespec c;
      clock_gettime(CLOCK_MONOTONIC, &c);
      fprintf(g.stamps, "%lld%09ld\n", (long long)c.tv_sec, (long)c.tv_nsec);
    }
    for (int k = 0; k < n; k++) {
      const float *z = logits + (size_t)k * m->n_classes;
      uint32_t best = 0;
      for (uint32_t c = 1; c < m->n_classes; c++)
        if (z[c] > z[best]) best = c;
      if (!test) {
        correct += (long)best == labels[i0 + k];
        continue;
      }
      double sum = 0;
      for (uint32_t c = 0; c < m->n_classes; c++) sum += exp((double)z[c] - (double)z[best]);
      for (uint32_t c = 0; c < m->n_classes; c++)
        printf("%s%.9g", c ? "\t" : "", (double)(float)(exp((double)z[c] - (double)z[best]) / sum));
      putchar('\n');
    }
  }
  if (!test) printf("%.4f\n", 100.0 * (double)correct / (double)files->n);
  if (fflush(stdout) != 0 || ferror(stdout)) die(1, "stdout", "write error");
  if (g.stamps) {
    int bad = ferror(g.stamps) | fclose(g.stamps);
    g.stamps = NULL;
    if (bad) die(1, sp, "write error");
  }
  if (profiling()) {   /* from main's start to the first forward; the peak resident size so far */
    fprintf(stderr, "profile: startup: %.3f ms (load %.3f, crc %.3f, build %.3f); CPU time from exec %.3f ms\n",
            t_first - t_start, t_load, m->crc_ms, t_build, cpu_first);
    long kib = peak_rss_kib();
    if (kib >= 0) fprintf(stderr, "profile: peak RSS %.2f MiB (file %.2f MiB)\n", (double)kib / 1024.0,
                          (double)m->map_size / 1048576.0);
  }
  return 0;
}

int cli_main(int argc, char **argv) {
  memset(&g, 0, sizeof g);
  int code = setjmp(g.out);
  if (code == 0) code = run(argc, argv);
  cleanup();
  return code;
}

#ifndef TR_NO_MAIN
int main(int argc, char **argv) { return cli_main(argc, argv); }
#endif
