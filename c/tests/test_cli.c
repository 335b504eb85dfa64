/* test_cli.c: the `run` binary (RUN_BIN, default build/run) on a tiny generated model and data:
 * accuracy, test output (against the engine in this process), batch / thread invariance, and every
 * error path of the CLI contract (one line naming the path, exit 1; usage errors exit 2). */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"
#include "dispatch.h"
#include "engine.h"
#include "util_writer.h"

static char dir[256];
static const char *bin;

/* runs `env RUN model args` with stdout/stderr captured; returns the exit status */
static int sh(const char *env, const char *args, char *out, size_t outlen, char *err, size_t errlen) {
  return run_capture(dir, env, bin, args, out, outlen, err, errlen);
}

/* a CPU that runs the tables up to index has_top of this build (dispatch_check_kernels' `has`) */
static int has_top;
static int has_upto(const char *isa) {
  for (int i = 0; i <= has_top && dispatch_isa(i); i++)
    if (strcmp(dispatch_isa(i), isa) == 0) return 1;
  return 0;
}

static int count_lines(const char *s) { int n = 0; for (; *s; s++) n += *s == '\n'; return n; }

#define NF 7
#define NC 4

int main(void) {
  const char *b = getenv("RUN_BIN");
  char absbin[512];
  if (!b) b = "build/run";
  if (!realpath(b, absbin)) { fprintf(stderr, "test_cli: %s not found (set RUN_BIN)\n", b); return 1; }
  bin = absbin;
  make_tmpdir(dir, sizeof dir);

  /* model: conv 3x3 (2 -> 3 ch, relu) -> adaptive max 1x1 -> flatten -> linear(4), input 2x5x6 */
  uint64_t r = 3;
  float w1[54], b1[3], w2[12], b2[4];
  rng_fill(&r, w1, 54, -1, 1), rng_fill(&r, b1, 3, -1, 1), rng_fill(&r, w2, 12, -3, 3), rng_fill(&r, b2, 4, -1, 1);
  MW *m = mw_new(KIND_F32, 2, 5, 6, NC);
  uint32_t v = mw_conv(m, 0, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, w1, b1);
  v = mw_adaptive(m, v, 1, 1, 1), v = mw_flatten(m, v), mw_linear(m, v, NC, 0, w2, b2);
  size_t size;
  unsigned char *buf = mw_finish(m, &size);
  char p[512], q[512];
  snprintf(p, sizeof p, "%s/model.bin", dir);
  CHECK(write_file(p, buf, size) == 0, "write model");

  /* in-process logits; file i goes to folder (i % 2 ? predicted : predicted+1) so accuracy is known */
  Model mm;
  char e[256];
  CHECK(model_load_buffer(buf, size, &mm, e, sizeof e) == 0, "load: %s", e);
  setenv("TINYRUNTIME_LANES", "0", 1);   /* engine_input, the room of one arena (on lanes: none) */
  Engine *en = engine_build(&mm, NF, e, sizeof e);
  float x[NF][60], logits[NF][NC];
  for (int i = 0; i < NF; i++) rng_fill(&r, x[i], 60, -2, 2);
  CHECK(en && engine_forward(en, &x[0][0], NF, &logits[0][0], e, sizeof e) == 0, "forward: %s", e);
  /* this model's input would cost the arena bytes (its first op's input and output are its largest pair): no room */
  CHECK(!en || engine_input(en) == NULL, "engine_input: room that costs bytes");
  engine_free(en);
  {   /* one whose second op needs more (conv 1x1 2 -> 8, conv 1x1 8 -> 8): the input gets room for free, and a
         batch run from there gives the logits of one run from a buffer of the caller's */
    float wa[16], wb[64], ba[8], bb[8], w3[8 * NC], b3[NC];
    rng_fill(&r, wa, 16, -1, 1), rng_fill(&r, wb, 64, -1, 1), rng_fill(&r, ba, 8, -1, 1), rng_fill(&r, bb, 8, -1, 1);
    rng_fill(&r, w3, 8 * NC, -1, 1), rng_fill(&r, b3, NC, -1, 1);
    MW *m2 = mw_new(KIND_F32, 2, 5, 6, NC);
    uint32_t u = mw_conv(m2, 0, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, wa, ba);
    u = mw_conv(m2, u, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, wb, bb);
    u = mw_adaptive(m2, u, 1, 1, 1), u = mw_flatten(m2, u), mw_linear(m2, u, NC, 0, w3, b3);
    size_t size2;
    unsigned char *buf2 = mw_finish(m2, &size2);
    Model m3;
    CHECK(model_load_buffer(buf2, size2, &m3, e, sizeof e) == 0, "load: %s", e);
    Engine *e2 = engine_build(&m3, NF, e, sizeof e);
    unsetenv("TINYRUNTIME_LANES");
    float l1[NF][NC], l2[NF][NC], *in = e2 ? engine_input(e2) : NULL;
    CHECK(e2 && engine_forward(e2, &x[0][0], NF, &l1[0][0], e, sizeof e) == 0, "forward: %s", e);
    CHECK(in != NULL, "engine_input: no room for the input");
    if (in) {
      memcpy(in, &x[0][0], sizeof x);
      CHECK(engine_forward(e2, in, NF, &l2[0][0], e, sizeof e) == 0 && memcmp(l1, l2, sizeof l2) == 0,
            "forward from engine_input differs: %s", e);
    }
    engine_free(e2);
    model_free(&m3);
    free(buf2);
  }
  model_free(&mm);
  snprintf(p, sizeof p, "%s/data", dir), mkdir(p, 0755);
  int correct = 0, label0 = 0;
  for (int i = 0; i < NF; i++) {
    int best = 0;
    for (int c = 1; c < NC; c++) if (logits[i][c] > logits[i][best]) best = c;
    int label = i % 2 ? best : (best + 1) % NC;
    correct += label == best;
    if (i == 0) label0 = label;
    snprintf(p, sizeof p, "%s/data/%d", dir, label), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/data/%d/%02d.bin", dir, label, i);
    CHECK(write_file(p, x[i], sizeof x[i]) == 0, "write data");
  }
  char out[8192], err[2048], out1[8192], want[64];

  /* accuracy */
  snprintf(want, sizeof want, "%.4f\n", 100.0 * correct / NF);
  CHECK(sh(NULL, "model.bin data", out, sizeof out, err, sizeof err) == 0, "accuracy run: %s", err);
  CHECK(strcmp(out, want) == 0, "accuracy '%s', want '%s'", out, want);
  CHECK(sh("BS=3", "--threads 2 model.bin data", out, sizeof out, err, sizeof err) == 0 && strcmp(out, want) == 0, "BS=3: '%s' %s", out, err);

  /* test mode, files in the given order: data/<best>/01.bin ... via the folder walk (sorted) */
  CHECK(sh(NULL, "test model.bin data", out1, sizeof out1, err, sizeof err) == 0, "test run: %s", err);
  CHECK(count_lines(out1) == NF, "test: %d lines", count_lines(out1));
  {
    /* parse and check each line sums to 1 and ranks like the logits of some file */
    char *s = out1;
    for (int l = 0; l < NF; l++) {
      double sum = 0, pr[NC];
      for (int c = 0; c < NC; c++) { pr[c] = strtod(s, &s); sum += pr[c]; if (c < NC - 1) CHECK(*s == '\t', "tab"); s++; }
      CHECK(fabs(sum - 1) < 1e-6, "line %d sums to %.9g", l, sum);
      int found = 0;
      for (int i = 0; i < NF && !found; i++) {
        double mx = logits[i][0], z = 0;
        for (int c = 1; c < NC; c++) mx = fmax(mx, logits[i][c]);
        for (int c = 0; c < NC; c++) z += exp(logits[i][c] - mx);
        int ok = 1;
        for (int c = 0; c < NC; c++) ok &= fabs(pr[c] - exp(logits[i][c] - mx) / z) < 1e-6;
        found = ok;
      }
      CHECK(found, "line %d matches no file's softmax", l);
    }
  }
  CHECK(sh("BS=2", "test model.bin data", out, sizeof out, err, sizeof err) == 0 && strcmp(out, out1) == 0, "BS=2 changes test output");
  CHECK(sh("BS=100", "--threads=2 test model.bin data", out, sizeof out, err, sizeof err) == 0 && strcmp(out, out1) == 0, "BS=100 threads 2 changes test output");
  CHECK(sh("TINYRUNTIME_KERNELS=ref", "test model.bin data", out, sizeof out, err, sizeof err) == 0 && count_lines(out) == NF, "ref kernels");
  /* =ISA caps the choice at each table this CPU runs; a name this build or CPU lacks is refused */
  for (int i = 0; dispatch_isa(i); i++) {
    char env[64];
    snprintf(env, sizeof env, "TINYRUNTIME_KERNELS=%s", dispatch_isa(i));
    int rc = sh(env, "test model.bin data", out, sizeof out, err, sizeof err);
    if (cpu_has(dispatch_isa(i)))
      CHECK(rc == 0 && count_lines(out) == NF, "%s: rc %d, %s", env, rc, err);
    else
      CHECK(rc == 2 && count_lines(err) == 1 && strstr(err, "not run by this CPU"), "%s: rc %d, %s", env, rc, err);
  }
  CHECK(sh("TINYRUNTIME_KERNELS=avx9000", "test model.bin data", out, sizeof out, err, sizeof err) == 2 && count_lines(err) == 1 &&
            strstr(err, "TINYRUNTIME_KERNELS: 'avx9000' is not an instruction set of this build") && !out[0],
        "unknown TINYRUNTIME_KERNELS: '%s'", err);
  /* on every CPU, not only this one: unset or empty takes the best table the CPU runs, whatever the last
     table of this build is (a CPU with no table but ref and the first SIMD one, e.g. x86 without AVX-512
     or arm64 without the dot product, included); a table it lacks is refused, naming what it runs */
  for (int top = 0; dispatch_isa(top); top++) {
    has_top = top;
    char ke[256];
    CHECK(dispatch_check_kernels(NULL, has_upto, ke, sizeof ke) == 0, "unset, CPU up to %s: %s", dispatch_isa(top), ke);
    CHECK(dispatch_check_kernels("", has_upto, ke, sizeof ke) == 0, "empty, CPU up to %s: %s", dispatch_isa(top), ke);
    for (int i = 0; dispatch_isa(i); i++) {
      int rc = dispatch_check_kernels(dispatch_isa(i), has_upto, ke, sizeof ke);
      CHECK(i <= top ? rc == 0 : rc == -1 && strstr(ke, "not run by this CPU") && strstr(ke, dispatch_isa(top)),
            "%s on a CPU up to %s: rc %d, %s", dispatch_isa(i), dispatch_isa(top), rc, ke);
    }
  }
  /* the per-op profile: stderr only (one line per op, a total, the first forward apart, memory, start-up, peak RSS),
     stdout unchanged; the lines of the later forwards (7 images), of the first when it is the only one */
  CHECK(sh("TINYRUNTIME_PROFILE=1", "test model.bin data", out, sizeof out, err, sizeof err) == 0 && strcmp(out, out1) == 0 &&
            count_lines(err) == (strstr(err, "profile: peak RSS") ? 9 : 8) && strstr(err, "CONV2D") &&
            strstr(err, "GFLOP/s") && strstr(err, "profile: total") && strstr(err, ", 6 image(s), ") &&
            strstr(err, "profile: first forward ") && strstr(err, "profile: memory: packed weights") &&
            strstr(err, "profile: startup: "),
        "TINYRUNTIME_PROFILE=1: '%s'", err);
  char one[512];
  snprintf(one, sizeof one, "test model.bin data/%d/00.bin", label0);
  CHECK(sh("TINYRUNTIME_PROFILE=1", one, out, sizeof out, err, sizeof err) == 0 && strstr(err, "profile: total") &&
            strstr(err, ", 1 image(s), ") && !strstr(err, "profile: first forward"),
        "TINYRUNTIME_PROFILE=1, one image: '%s'", err);
  /* TINYRUNTIME_STAMPS: one line a batch (7 files at BS=3: 3), the monotonic clock in ns, non-decreasing and between
     this process's clock before and after; stdout unchanged. A path that cannot be written: one line naming it, exit 1 */
  struct timespec c0, c1;
  clock_gettime(CLOCK_MONOTONIC, &c0);
  CHECK(sh("TINYRUNTIME_STAMPS=stamps.txt BS=3", "test model.bin data", out, sizeof out, err, sizeof err) == 0 && strcmp(out, out1) == 0,
        "TINYRUNTIME_STAMPS: %s", err);
  clock_gettime(CLOCK_MONOTONIC, &c1);
  {
    snprintf(p, sizeof p, "%s/stamps.txt", dir);
    FILE *f = fopen(p, "r");
    long long t, prev = (long long)c0.tv_sec * 1000000000LL + c0.tv_nsec, end = (long long)c1.tv_sec * 1000000000LL + c1.tv_nsec;
    int n = 0, ok = f != NULL;
    while (ok && fscanf(f, "%lld", &t) == 1) ok = t >= prev && t <= end, prev = t, n++;
    if (f) fclose(f);
    CHECK(ok && n == (NF + 2) / 3, "TINYRUNTIME_STAMPS: %d stamps in order for %d batches", ok ? n : -1, (NF + 2) / 3);
    remove(p);
  }
  CHECK(sh("TINYRUNTIME_STAMPS=nodir/stamps.txt", "test model.bin data", out, sizeof out, err, sizeof err) == 1 && count_lines(err) == 1 &&
            strstr(err, "nodir/stamps.txt:") && !out[0],
        "TINYRUNTIME_STAMPS, an unwritable path: '%s'", err);
  /* explicit files keep their order */
  snprintf(q, sizeof q, "test model.bin data/*/03.bin data/*/00.bin");
  CHECK(sh(NULL, q, out, sizeof out, err, sizeof err) == 0 && count_lines(out) == 2, "explicit files: %s", err);

  /* help and usage */
  CHECK(sh(NULL, "--help", out, sizeof out, err, sizeof err) == 0 && strstr(out, "BS=") && strstr(out, "--threads"), "--help");
  CHECK(sh(NULL, "", out, sizeof out, err, sizeof err) == 2 && count_lines(err) == 1, "no args: exit 2, one line");
  CHECK(sh(NULL, "model.bin", out, sizeof out, err, sizeof err) == 2, "no data: exit 2");
  CHECK(sh(NULL, "--bogus model.bin data", out, sizeof out, err, sizeof err) == 2 && strstr(err, "--bogus"), "unknown option");
  CHECK(sh(NULL, "--threads 0 model.bin data", out, sizeof out, err, sizeof err) == 2 && strstr(err, "--threads"), "--threads 0");
  CHECK(sh("BS=0", "model.bin data", out, sizeof out, err, sizeof err) == 2 && strstr(err, "BS"), "BS=0");
  CHECK(sh("BS=abc", "model.bin data", out, sizeof out, err, sizeof err) == 2 && strstr(err, "BS"), "BS=abc");

  /* errors naming the file, exit 1 */
  CHECK(sh(NULL, "model.bin nothere.bin", out, sizeof out, err, sizeof err) == 1 && strstr(err, "nothere.bin:") && count_lines(err) == 1, "missing data: %s", err);
  CHECK(sh(NULL, "nomodel.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "nomodel.bin:"), "missing model: %s", err);
  snprintf(p, sizeof p, "%s/data/1", dir), mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/data/1/short.bin", dir);
  CHECK(write_file(p, x[0], 100) == 0, "write");
  CHECK(sh(NULL, "model.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "short.bin: wrong size") && out[0] == 0, "wrong size: %s", err);
  remove(p);
  snprintf(p, sizeof p, "%s/data/cat", dir), mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/data/cat/a.bin", dir), write_file(p, x[0], sizeof x[0]);
  CHECK(sh(NULL, "model.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "cat/a.bin:") && strstr(err, "label"), "bad label: %s", err);
  CHECK(sh(NULL, "test model.bin data", out, sizeof out, err, sizeof err) == 0 && count_lines(out) == NF + 1, "test mode needs no labels");
  remove(p), snprintf(p, sizeof p, "%s/data/cat", dir), rmdir(p);
  snprintf(p, sizeof p, "%s/data/9", dir), mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/data/9/a.bin", dir), write_file(p, x[0], sizeof x[0]);
  CHECK(sh(NULL, "model.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "9/a.bin:"), "label >= n_classes: %s", err);
  remove(p), snprintf(p, sizeof p, "%s/data/9", dir), rmdir(p);
  snprintf(p, sizeof p, "%s/empty", dir), mkdir(p, 0755);
  CHECK(sh(NULL, "model.bin empty", out, sizeof out, err, sizeof err) == 1 && strstr(err, "empty:"), "empty folder: %s", err);
  rmdir(p);

  /* a truncated model, a non-model, and a model of another kind */
  snprintf(p, sizeof p, "%s/trunc.bin", dir), write_file(p, buf, size / 2);
  CHECK(sh(NULL, "trunc.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "trunc.bin:") && count_lines(err) == 1, "truncated model: %s", err);
  remove(p);
  snprintf(p, sizeof p, "%s/data/0/00.bin", dir);
  {
    m = mw_new(KIND_DQ8, 4, 1, 1, 3);
    int8_t wq[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    float sc[3] = {0.1f, 0.2f, 0.3f};
    uint32_t dw[4] = {3, 4, 0, 0}, ds[4] = {3, 1, 0, 0};
    uint32_t pr[8] = {TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE, TR_NONE};
    pr[0] = mw_param(m, DT_I8, 2, dw, wq), pr[1] = mw_param(m, DT_F32, 2, ds, sc);
    int32_t a[16] = {3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4};
    uint32_t in0 = 0, y = mw_value(m, 3, 1, 1);
    mw_op(m, OP_LINEAR, 0, 1, &in0, y, a, pr);
    size_t qs;
    unsigned char *qb = mw_finish(m, &qs);
    snprintf(p, sizeof p, "%s/dq8.bin", dir);
    write_file(p, qb, qs);
    Model t;
    CHECK(model_load_buffer(qb, qs, &t, e, sizeof e) == 0, "the dq8 model is valid: %s", e);
    model_free(&t);
    free(qb);
    CHECK(sh(NULL, "dq8.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "dq8.bin: this is a dq8 model; use runq"), "dq8 model: %s", err);
    remove(p);
  }
  snprintf(p, sizeof p, "%s/garbage.bin", dir), write_file(p, w1, sizeof w1);
  CHECK(sh(NULL, "garbage.bin data", out, sizeof out, err, sizeof err) == 1 && strstr(err, "bad magic"), "garbage model: %s", err);
  remove(p);

  free(buf);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  if (g_failures) fprintf(stderr, "test_cli: %d FAILED (%s)\n", g_failures, bin);
  else printf("test_cli: ok (%s)\n", bin);
  return g_failures != 0;
}
