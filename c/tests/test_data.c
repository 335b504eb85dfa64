/* test_data.c: data_read_batch (src/data.h), the CLI's reader of a batch of tensor files, against the
 * bytes written: batches of 1 to 70 files (more than the 64 it opens at a time) of sizes below, at and
 * well above the pool's grain, on 1, 2 and 3 threads (the files then split between the threads, a file
 * read by two of them); then each failure names the first bad file by its index and leaves the error:
 * a missing file, a folder, a file one float short or one byte long, and a bad file behind good ones. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "pool.h"
#include "util_writer.h"

#define NF 70

static char dir[512], *paths[NF];

/* file k of a batch of elems floats: values from seed k, so every file and position differs */
static void fill(float *x, size_t elems, int k) {
  uint64_t s = 1000 + (uint64_t)k * 7919 + elems;
  rng_fill(&s, x, elems, -4.0f, 4.0f);
}

static void write_files(int n, size_t elems, float *buf) {
  for (int k = 0; k < n; k++) {
    fill(buf, elems, k);
    CHECK(write_file(paths[k], buf, elems * sizeof(float)) == 0, "write %s", paths[k]);
  }
}

int main(void) {
  make_tmpdir(dir, sizeof dir);
  for (int k = 0; k < NF; k++) {
    paths[k] = malloc(strlen(dir) + 32);
    sprintf(paths[k], "%s/%02d.bin", dir, k);
  }
  const size_t sizes[] = {1, 100, POOL_GRAIN, 3 * 224 * 224 + 5};
  const int counts[] = {1, 2, 3, 8, NF};
  size_t most = 3 * 224 * 224 + 5;
  float *want = malloc(most * sizeof(float)), *got = malloc(((size_t)NF * most + 1) * sizeof(float));   /* + the guard after a batch */
  char err[256];
  for (int th = 1; th <= 3; th++) {
    pool_set_threads(th);
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
      size_t elems = sizes[si];
      write_files(NF, elems, want);
      for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
        int n = counts[ci], bad = -1;
        if (test_quick() && n == NF && elems > POOL_GRAIN) continue;
        memset(got, 0xAB, (size_t)n * elems * sizeof(float) + sizeof(float));
        err[0] = 0;
        int rc = data_read_batch(paths, n, got, elems, POOL_GRAIN, &bad, err, sizeof err);
        CHECK(rc == 0 && bad == -1, "%d threads, %d files of %zu: rc %d, bad %d, %s", th, n, elems, rc, bad, err);
        for (int k = 0; k < n; k++) {
          fill(want, elems, k);
          CHECK(!memcmp(got + (size_t)k * elems, want, elems * sizeof(float)), "%d threads, %d files of %zu: file %d differs",
                th, n, elems, k);
        }
        unsigned char *after = (unsigned char *)(got + (size_t)n * elems);
        CHECK(after[0] == 0xAB && after[3] == 0xAB, "%d threads, %d files of %zu: wrote past the batch", th, n, elems);
      }
    }
  }

  /* failures: file 5 of 8 (or of all 70: its index past the first 64 too) is bad */
  size_t elems = POOL_GRAIN + 3;
  pool_set_threads(2);
  for (int where = 5; where < NF; where += 60) {
    int n = where < 8 ? 8 : NF;
    struct { const char *what, *msg; } cases[] = {
      {"missing", "No such file"}, {"folder", "not a regular file"}, {"short", "wrong size"}, {"long", "wrong size"}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
      write_files(n, elems, want);
      if (c == 0) remove(paths[where]);
      else if (c == 1) remove(paths[where]), mkdir(paths[where], 0700);
      else write_file(paths[where], want, elems * sizeof(float) + (c == 2 ? -sizeof(float) : 1));
      int bad = -1;
      err[0] = 0;
      int rc = data_read_batch(paths, n, got, elems, POOL_GRAIN, &bad, err, sizeof err);
      CHECK(rc == -1 && bad == where && strstr(err, cases[c].msg), "%s file %d of %d: rc %d, bad %d, err '%s'",
            cases[c].what, where, n, rc, bad, err);
      if (c == 1) rmdir(paths[where]);
    }
  }
  for (int k = 0; k < NF; k++) remove(paths[k]), free(paths[k]);
  rmdir(dir);
  free(want), free(got);
  if (g_failures) return 1;
  printf("test_data: ok\n");
  return 0;
}
