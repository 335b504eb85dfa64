/* fuzz_cli.c: libFuzzer target (3): the whole `run` / `runq` command (cli_main) on an in-memory model
 * (a memfd, opened by path as /proc/self/fd/N) and data files in a private folder.
 *
 * Input: byte 0 = options (bit 0: `test`; bits 1-2: BS - 1; bits 3-4: number of data files - 1;
 * bits 5-7: the data folder's name, from `names` below); bytes 1..4: u32 model length L; then L bytes
 * of model file; the rest is the content of every data file. Built once per engine (fuzz_cli_<engine>). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz_common.h"

static size_t model_len(const uint8_t *d, size_t n) {
  if (n < 5) return 0;
  size_t l = d[1] | d[2] << 8 | d[3] << 16 | (size_t)d[4] << 24;
  return l < n - 5 ? l : n - 5;
}

int fuzz_cli_one(const uint8_t *data, size_t size) {
  static const char *names[] = {"0", "1", "3", "", "x", "00", "999999999", "-1"};
  if (size < 5) return 0;
  const char *dir = fuzz_tmpdir();
  size_t L = model_len(data, size);
  int fd = memfd_create("model", 0);
  if (fd < 0 || (L && write(fd, data + 5, L) != (ssize_t)L)) abort();
  char mpath[64], ddir[512], f[600], bs[16];
  snprintf(mpath, sizeof mpath, "/proc/self/fd/%d", fd);
  int test = data[0] & 1, nfiles = 1 + (data[0] >> 3 & 3);
  const char *label = names[data[0] >> 5];
  fuzz_clear(dir);
  snprintf(ddir, sizeof ddir, "%s/%s", dir, label);
  if (*label) mkdir(ddir, 0700);
  for (int k = 0; k < nfiles; k++) {
    snprintf(f, sizeof f, "%s/%d.bin", ddir, k);
    if (fuzz_write(f, data + 5 + L, size - 5 - L)) abort();
  }
  snprintf(bs, sizeof bs, "%d", 1 + (data[0] >> 1 & 3));
  setenv("BS", bs, 1);
  char *argv[6];
  int argc = 0;
  argv[argc++] = (char *)"run";
  if (test) argv[argc++] = (char *)"test";
  argv[argc++] = mpath;
  argv[argc++] = ddir;
  argv[argc] = NULL;
  int rc = cli_main(argc, argv);
  close(fd);
  unsetenv("BS");
  if (rc != 0 && rc != 1) abort(); /* 2 is a usage error: this argv is always well formed */
  return 0;
}

#ifndef FUZZ_NO_ENTRY
void fuzz_model_span(const uint8_t *data, size_t size, size_t *off, size_t *len) {
  *off = size < 5 ? size : 5, *len = model_len(data, size);
}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_cli_one(data, size); }
#endif
