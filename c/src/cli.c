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
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine.h"
#include "model.h"

static void die(int code, const char *path, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", ENGINE_BINARY);
  if (path) fprintf(stderr, "%s: ", path);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(code);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: %s [--threads N] [test] MODEL DATA...\n"
          "\n"
          "Runs a tinyruntime model file (%s kind) on raw tensor files.\n"
          "\n"
          "  MODEL        model file written by tinyruntime.export (see c/FORMAT.md)\n"
          "  DATA         .bin files (little-endian float32, C x H x W, already normalized) or folders,\n"
          "               walked recursively for *.bin (each folder's entries sorted by name, depth first)\n"
          "  test         print one line per file: the softmax probabilities, tab-separated (%%.9g),\n"
          "               in the order the files were given/found\n"
          "               without it: print one line, the top-1 accuracy in percent (%%.4f); each file's\n"
          "               label is its parent folder's name, a decimal integer < the number of classes\n"
          "  --threads N  OpenMP threads (default: all cores)\n"
          "  --help       this text\n"
          "\n"
          "Environment:\n"
          "  BS=n                     batch size, a positive integer (default 1); results do not depend on it\n"
          "  TINYRUNTIME_KERNELS=ref  use the scalar reference kernels (default: the best for this CPU)\n"
          "  TINYRUNTIME_PROFILE=1    after the run, print each op's total time (and GFLOP/s) to stderr\n"
          "\n"
          "Errors print one line \"%s: PATH: problem\" on stderr and exit 1 (usage errors exit 2).\n",
          ENGINE_BINARY, ENGINE_BINARY[3] == 'q' ? "dq8 or sq8" : "f32", ENGINE_BINARY);
}

/* ---------------------------------------------------------------- data files */

typedef struct { char **path; size_t n, cap; } List;

static void push(List *l, const char *p) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    char **np = realloc(l->path, l->cap * sizeof *np);
    if (!np) die(1, p, "out of memory");
    l->path = np;
  }
  if (!(l->path[l->n++] = strdup(p))) die(1, p, "out of memory");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

static void walk(List *out, const char *dir, int depth) {
  if (depth > 64) die(1, dir, "folders nested too deep");
  DIR *d = opendir(dir);
  if (!d) die(1, dir, "%s", strerror(errno));
  List names = {0};
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) push(&names, de->d_name);
  closedir(d);
  if (names.n) qsort(names.path, names.n, sizeof *names.path, cmp_str);
  for (size_t i = 0; i < names.n; i++) {
    size_t len = strlen(dir) + strlen(names.path[i]) + 2;
    char *p = malloc(len);
    if (!p) die(1, dir, "out of memory");
    snprintf(p, len, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", names.path[i]);
    struct stat st;
    if (stat(p, &st) != 0) die(1, p, "%s", strerror(errno));
    if (S_ISDIR(st.st_mode)) walk(out, p, depth + 1);
    else if (S_ISREG(st.st_mode) && ends_with(names.path[i], ".bin")) push(out, p);
    free(p);
    free(names.path[i]);
  }
  free(names.path);
}

/* the label of a data file: its parent folder's name, a decimal integer < n_classes; -1 if not */
static long label_of(const char *path, uint32_t n_classes) {
  const char *end = strrchr(path, '/');
  if (!end) return -1; /* no parent folder in the path: resolve "." */
  const char *start = end;
  while (start > path && start[-1] != '/') start--;
  if (start == end || end - start > 9) return -1;
  long v = 0;
  for (const char *c = start; c < end; c++) {
    if (*c < '0' || *c > '9') return -1;
    v = v * 10 + (*c - '0');
  }
  return v < (long)n_classes ? v : -1;
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

static void read_tensor(const char *path, float *dst, size_t elems) {
  FILE *f = fopen(path, "rb");
  if (!f) die(1, path, "%s", strerror(errno));
  size_t got = fread(dst, sizeof(float), elems, f);
  int extra = fgetc(f);
  int bad = ferror(f);
  fclose(f);
  if (bad) die(1, path, "read error");
  if (got != elems || extra != EOF)
    die(1, path, "wrong size: expected %zu bytes (float32 x %zu)", elems * sizeof(float), elems);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
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
#ifdef _OPENMP
  if (threads) omp_set_num_threads((int)threads);
#endif

  const char *mpath = argv[a++];
  Model m;
  char err[512];
  if (model_load(mpath, &m, err, sizeof err)) die(1, mpath, "%s", err);
  if (!engine_supports(m.kind))
    die(1, mpath, "this is a %s model; use %s", kind_name(m.kind), engine_supports(KIND_F32) ? "runq" : "run");

  /* every data file, checked before any output */
  List files = {0};
  for (; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) die(1, argv[a], "%s", strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      size_t before = files.n;
      walk(&files, argv[a], 0);
      if (files.n == before) die(1, argv[a], "no .bin files in this folder");
    } else
      push(&files, argv[a]);
  }
  size_t elems = (size_t)m.in_c * m.in_h * m.in_w, fbytes = elems * sizeof(float);
  long *labels = malloc(files.n * sizeof *labels);
  if (!labels) die(1, mpath, "out of memory");
  for (size_t i = 0; i < files.n; i++) {
    struct stat st;
    if (stat(files.path[i], &st) != 0) die(1, files.path[i], "%s", strerror(errno));
    if (!S_ISREG(st.st_mode)) die(1, files.path[i], "not a regular file");
    if ((size_t)st.st_size != fbytes)
      die(1, files.path[i], "wrong size: %lld bytes, expected %zu (float32 x %u x %u x %u)", (long long)st.st_size,
          fbytes, m.in_c, m.in_h, m.in_w);
    labels[i] = -1;
    if (!test) {
      char *real = realpath(files.path[i], NULL); /* so "7/a.bin" run from inside works too */
      labels[i] = label_of(real ? real : files.path[i], m.n_classes);
      free(real);
      if (labels[i] < 0)
        die(1, files.path[i], "the parent folder's name is not a class label (an integer 0..%u)", m.n_classes - 1);
    }
  }

  if (bs > (long)files.n) bs = (long)files.n; /* no need to plan for more */
  Engine *e = engine_build(&m, (int)bs, err, sizeof err);
  if (!e) die(1, mpath, "%s", err);
  float *in = malloc((size_t)bs * fbytes), *logits = malloc((size_t)bs * m.n_classes * sizeof(float));
  if (!in || !logits) die(1, mpath, "out of memory for a batch of %ld", bs);

  size_t correct = 0;
  for (size_t i0 = 0; i0 < files.n; i0 += (size_t)bs) {
    int n = (int)(files.n - i0 < (size_t)bs ? files.n - i0 : (size_t)bs);
    for (int k = 0; k < n; k++) read_tensor(files.path[i0 + k], in + (size_t)k * elems, elems);
    if (engine_forward(e, in, n, logits, err, sizeof err)) die(1, mpath, "%s", err);
    for (int k = 0; k < n; k++) {
      const float *z = logits + (size_t)k * m.n_classes;
      uint32_t best = 0;
      for (uint32_t c = 1; c < m.n_classes; c++)
        if (z[c] > z[best]) best = c;
      if (!test) {
        correct += (long)best == labels[i0 + k];
        continue;
      }
      double sum = 0;
      for (uint32_t c = 0; c < m.n_classes; c++) sum += exp((double)z[c] - (double)z[best]);
      for (uint32_t c = 0; c < m.n_classes; c++)
        printf("%s%.9g", c ? "\t" : "", (double)(float)(exp((double)z[c] - (double)z[best]) / sum));
      putchar('\n');
    }
  }
  if (!test) printf("%.4f\n", 100.0 * (double)correct / (double)files.n);
  if (fflush(stdout) != 0 || ferror(stdout)) die(1, "stdout", "write error");

  engine_free(e);
  free(in), free(logits), free(labels);
  for (size_t i = 0; i < files.n; i++) free(files.path[i]);
  free(files.path);
  model_free(&m);
  return 0;
}
