/* fuzz_common.c: see fuzz_common.h */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

void fuzz_setup(void) {
  /* ~5 M multiply-accumulates, 128 MB and 256 ops at most: every input runs in milliseconds under
     ASan, and a model beyond them is refused by model_check_limits like a hostile file */
  setenv("TINYRUNTIME_MAX_MEMORY_MB", "128", 0);
  setenv("TINYRUNTIME_MAX_GMAC", "0.005", 0);
  setenv("TINYRUNTIME_MAX_OPS", "256", 0);
  pool_set_threads(1);
}

uint32_t fuzz_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  static uint32_t table[256];
  if (!table[1])
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

static void put32(uint8_t *b, uint32_t v) { for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> 8 * k); }
static uint32_t get32(const uint8_t *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }

void fuzz_fix_model(uint8_t *buf, size_t len) {
  if (len < 128 || memcmp(buf, "TINYRTM", 7) != 0) return;
  put32(buf + 104, (uint32_t)len), put32(buf + 108, (uint32_t)((uint64_t)len >> 32));
  if (get32(buf + 8) >= 2) {
    static const uint8_t zero[4];
    uint32_t c = fuzz_crc32(0, buf, 112);
    c = fuzz_crc32(c, zero, 4);
    c = fuzz_crc32(c, buf + 116, len - 116);
    put32(buf + 112, c);
  }
}

static char g_dir[256];
static void remove_tmpdir(void) {
  fuzz_clear(g_dir);
  rmdir(g_dir);
}

const char *fuzz_tmpdir(void) {
  char *dir = g_dir;
  if (!dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof g_dir, "%s/tinyruntime-fuzz-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) {
      perror("fuzz: mkdtemp");
      abort();
    }
    atexit(remove_tmpdir); /* a finding aborts: then the folder stays, with the input that made it */
  }
  return dir;
}

int fuzz_write(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int bad = n && fwrite(p, 1, n, f) != n;
  return fclose(f) != 0 || bad ? -1 : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag;
  if (ftw->level > 0) remove(path);
  return 0;
}

void fuzz_clear(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

void fuzz_fill_input(float *x, size_t n, uint32_t seed) {
  static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 3.0e38f, -3.0e38f, 1e-40f, 1e-30f};
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  int mode = (int)(seed % 8); /* 0..5 plain values, 6 sprinkled specials, 7 all one special */
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    float v = (float)((s >> 40) & 0xFFFF) / 8192.0f - 4.0f;
    if (mode == 6 && (s & 15) == 0) v = special[(s >> 8) % 9];
    if (mode == 7) v = special[(seed / 8) % 9];
    x[i] = v;
  }
}

#ifndef FUZZ_NO_ENTRY
/* ---------------------------------------------------------------- the custom mutator */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
/* where the model file lies in an input of this target (fuzz_<name>.c) */
void fuzz_model_span(const uint8_t *data, size_t size, size_t *off, size_t *len);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_setup();
  return 0;
}

/* libFuzzer's own mutations (dictionary included), or a u32 field of the model set to a boundary
   value; then the file_size and checksum fix-ups, so the search gets past those two checks (1 input
   in 32 keeps them as mutated, so their refusals stay covered) */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  static const uint32_t interesting[] = {0,  1,  2,   3,   4,    7,      8,      15,         16,         31,
                                         32, 63, 64,  127, 128,  255,    256,    0x7FFF,     0x8000,     0xFFFF,
                                         0x10000, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFF80u, 12, 13, 160, 48};
  uint64_t r = seed * 0x9E3779B97F4A7C15ull + 7;
  r ^= r >> 29;
  size_t off, len;
  if (r % 4 != 0 || size < 8) size = LLVMFuzzerMutate(data, size, max_size);
  fuzz_model_span(data, size, &off, &len);
  if ((r % 4 == 0 || r % 7 == 0) && len >= 8) {
    size_t at = off + ((r >> 8) % (len / 4)) * 4;
    uint32_t v = interesting[(r >> 32) % (sizeof interesting / sizeof *interesting)];
    if ((r >> 40) % 3 == 0) v = get32(data + at) + ((r >> 44) & 1 ? 1u : -1u);
    put32(data + at, v);
  }
  if ((r >> 16) % 32 != 0) {
    fuzz_model_span(data, size, &off, &len);
    fuzz_fix_model(data + off, len);
  }
  return size;
}
#endif
