/* test_fuzz_regress.c: replays, without libFuzzer, every input the fuzzers keep: the seed corpora
 * (c/fuzz/corpus/) and every finding ever made (c/fuzz/regress/<target>/, one file each, added once
 * fixed). In a child process each: the three fuzz targets' own code (included below), the model ones with this
 * build's f32 engine; then each regression model through both binaries (RUN_BIN, RUNQ_BIN), which must
 * exit 0 or 1 with at most one line on stderr and no sanitizer report. Run under ASan+UBSan by
 * `make test`. TINYRUNTIME_FUZZ_DIR overrides the folder (default fuzz, from c/). */
#define _GNU_SOURCE
#define FUZZ_NO_ENTRY
#define TR_NO_MAIN
#include "../fuzz/fuzz_common.c"
#include "../fuzz/fuzz_model.c"
#include "../fuzz/fuzz_data.c"
#include "../fuzz/fuzz_cli.c"
#include "../src/cli.c"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util_writer.h"

typedef int (*Target)(const uint8_t *, size_t);

static unsigned char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  *size = b ? fread(b, 1, (size_t)n, f) : 0;
  fclose(f);
  return b;
}

/* a model file through a binary: `bin test model data` with a data file of the model's input size */
static void through_binary(const char *bin, const unsigned char *model, size_t size, const char *what) {
  Model m;
  char err[512];
  size_t elems = 1;
  if (model_load_buffer(model, size, &m, err, sizeof err) == 0) {
    elems = value_elems(&m.values[0]);
    model_free(&m);
    if (elems > (1u << 22)) return; /* a data file of more than 16 MB: the in-process replay covers it */
  }
  char dir[256], p[512], out[4096], e[4096];
  make_tmpdir(dir, sizeof dir);
  snprintf(p, sizeof p, "%s/model.bin", dir);
  CHECK(write_file(p, model, size) == 0, "write %s", p);
  float *x = calloc(elems, sizeof *x);
  fuzz_fill_input(x, elems, 1);
  snprintf(p, sizeof p, "%s/x.bin", dir);
  CHECK(write_file(p, x, elems * sizeof *x) == 0, "write %s", p);
  free(x);
  int rc = run_capture(dir, "TINYRUNTIME_MAX_GMAC=1 TINYRUNTIME_MAX_MEMORY_MB=512", bin, "test model.bin x.bin", out,
                       sizeof out, e, sizeof e);
  CHECK((rc == 0 && !e[0]) || (rc == 1 && strchr(e, '\n') == e + strlen(e) - 1), "%s through %s: exit %d, stderr '%s'",
        what, bin, rc, e);
  CHECK(!strstr(e, "Sanitizer") && !strstr(e, "runtime error"), "%s through %s: %s", what, bin, e);
  snprintf(p, sizeof p, "rm -rf '%s'", dir);
  CHECK(system(p) == 0, "cleanup");
}

/* every file in dir (not dot files) through target; returns how many; binaries too when bins */
static int replay(const char *root, const char *sub, Target target, int bins) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/%s", root, sub);
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *de;
  int n = 0;
  const char *run_bin = getenv("RUN_BIN"), *runq_bin = getenv("RUNQ_BIN");
  char rb[512], rqb[512];
  if (run_bin && !realpath(run_bin, rb)) run_bin = NULL;
  if (runq_bin && !realpath(runq_bin, rqb)) runq_bin = NULL;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
    size_t size;
    unsigned char *b = slurp(p, &size);
    CHECK(b != NULL, "read %s", p);
    if (!b) continue;
    /* in a child with its output in a file: shown when the child does not exit 0 (a finding aborts) */
    char log[600];
    snprintf(log, sizeof log, "%s.log", fuzz_tmpdir());
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      FILE *f = freopen(log, "w", stdout);
      if (!f || dup2(fileno(stdout), 2) < 0) _exit(3);
      target(b, size);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      size_t ln;
      char *text = (char *)slurp(log, &ln);
      CHECK(0, "%s: the %s target failed on it:\n%.*s", p, sub, text ? (int)ln : 0, text ? text : "");
      free(text);
    }
    remove(log);
    if (bins) {
      const unsigned char *model = b;
      size_t msize = size;
      if (target == fuzz_cli_one) model = size >= 5 ? b + 5 : b, msize = model_len(b, size);
      if (run_bin) through_binary(rb, model, msize, p);
      if (runq_bin) through_binary(rqb, model, msize, p);
    }
    free(b);
    n++;
  }
  closedir(d);
  return n;
}

int main(void) {
  fuzz_setup();
  /* the mutator's fix-ups: zlib's CRC-32 (check value of "123456789"), file_size and checksum fields */
  CHECK(fuzz_crc32(0, (const uint8_t *)"123456789", 9) == 0xCBF43926u, "crc32 check value");
  {
    uint8_t b[200] = "TINYRTM";
    b[8] = 2;
    fuzz_fix_model(b, sizeof b);
    uint32_t stored = get32(b + 112), size = get32(b + 104);
    memset(b + 112, 0, 4);
    CHECK(size == sizeof b && stored == fuzz_crc32(0, b, sizeof b), "fix-up: size %u, crc %08x", size, stored);
  }
  const char *root = getenv("TINYRUNTIME_FUZZ_DIR");
  if (!root) root = "fuzz";
  int seeds = 0, found = 0, k;
  k = replay(root, "corpus/model", fuzz_model_one, 0);
  CHECK(k > 0, "no seeds in %s/corpus/model", root);
  seeds += k > 0 ? k : 0;
  k = replay(root, "corpus/cli", fuzz_cli_one, 0);
  CHECK(k > 0, "no seeds in %s/corpus/cli", root);
  seeds += k > 0 ? k : 0;
  k = replay(root, "corpus/data", fuzz_data_one, 0);
  CHECK(k > 0, "no seeds in %s/corpus/data", root);
  seeds += k > 0 ? k : 0;
  k = replay(root, "regress/model", fuzz_model_one, 1), found += k > 0 ? k : 0;
  k = replay(root, "regress/cli", fuzz_cli_one, 1), found += k > 0 ? k : 0;
  k = replay(root, "regress/data", fuzz_data_one, 0), found += k > 0 ? k : 0;
  fuzz_clear(fuzz_tmpdir());
  rmdir(fuzz_tmpdir());
  if (g_failures) {
    fprintf(stderr, "test_fuzz_regress: %d failure(s)\n", g_failures);
    return 1;
  }
  printf("test_fuzz_regress: ok (%d seeds, %d regression inputs)\n", seeds, found);
  return 0;
}
