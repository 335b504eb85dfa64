/* test_crc32.c: every CRC-32 path this machine runs (crc32.h) against the bytewise reference on
 * random buffers of every length 0..4096 at every offset 0..63 (quick mode: a subset), continued
 * from random CRCs, on split buffers, and on a large buffer; plus the standard check value.
 * `test_crc32 bench` prints each path's speed over a 64 MiB buffer instead (no test asserts a time). */
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "util.h"
#include "util_writer.h"

#define LEN 4096
#define OFF 64

/* GB/s of each path: 1 MiB in cache (64 passes), and 64 MiB from memory; the best of 5 */
static void bench(void) {
  size_t n = (size_t)64 << 20, small = (size_t)1 << 20;
  unsigned char *b = malloc(n);
  uint64_t s = 7;
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)rng_next(&s);
  for (int i = 0; crc32_path(i); i++) {
    crc32_fn f = crc32_for(crc32_path(i));
    if (!f) continue;
    double best[2] = {1e30, 1e30};
    uint32_t c = 0;
    for (int r = 0; r < 5; r++) {
      double t0 = rt_now_ms();
      for (int k = 0; k < 64; k++) c ^= f(0, b, small);
      double t1 = rt_now_ms();
      c ^= f(0, b, n);
      double t2 = rt_now_ms();
      if (t1 - t0 < best[0]) best[0] = t1 - t0;
      if (t2 - t1 < best[1]) best[1] = t2 - t1;
    }
    printf("crc32 %-9s %8.2f GB/s in cache, %8.2f GB/s from memory (%08x)\n", crc32_path(i),
           (double)(64 * small) / best[0] / 1e6, (double)n / best[1] / 1e6, c);
  }
  free(b);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "bench")) { bench(); return 0; }
  int quick = getenv("TINYRUNTIME_TEST_QUICK") != NULL;
  CHECK(crc32_bytewise(0, "123456789", 9) == 0xCBF43926u, "the reference's check value");
  unsigned char *buf = malloc(LEN + OFF);
  uint64_t s = 12345;
  for (int i = 0; i < LEN + OFF; i++) buf[i] = (unsigned char)rng_next(&s);
  size_t big_n = ((size_t)1 << 20) + 77;
  unsigned char *big = malloc(big_n + 64);
  for (size_t i = 0; i < big_n + 64; i++) big[i] = (unsigned char)rng_next(&s);
  int paths = 0;
  for (int i = 0; crc32_path(i); i++) {
    const char *name = crc32_path(i);
    crc32_fn f = crc32_for(name);
    if (!f) { printf("test_crc32: %s: not on this machine\n", name); continue; }
    paths++;
    int bad = 0;
    CHECK(f(0, "123456789", 9) == 0xCBF43926u, "%s: check value", name);
    for (int off = 0; off < OFF && bad < 5; off += quick ? 7 : 1) {
      uint32_t init = off & 1 ? (uint32_t)rng_next(&s) : 0, want = init;   /* want: the reference, byte by byte */
      for (int len = 0; len <= LEN && bad < 5; want = crc32_bytewise(want, buf + off + len, 1), len++) {
        if (quick && len > 300 && len % 29) continue;
        uint32_t got = f(init, buf + off, (size_t)len);
        if (got != want) bad++;
        CHECK(got == want, "%s: length %d offset %d init %08x: %08x, want %08x", name, len, off, init, got, want);
      }
    }
    /* continuation: the CRC of a buffer split at random points */
    for (int t = 0; t < (quick ? 50 : 500); t++) {
      size_t a = (size_t)(rng_next(&s) % (LEN + 1)), b = (size_t)(rng_next(&s) % (LEN + 1));
      if (a > b) { size_t x = a; a = b; b = x; }
      uint32_t got = f(f(f(0, buf, a), buf + a, b - a), buf + b, LEN - b);
      CHECK(got == crc32_bytewise(0, buf, LEN), "%s: split at %zu, %zu", name, a, b);
    }
    for (int off = 0; off < 64; off += 13) {
      uint32_t want = crc32_bytewise(0, big + off, big_n - (size_t)off);
      CHECK(f(0, big + off, big_n - (size_t)off) == want, "%s: 1 MiB buffer at offset %d", name, off);
    }
    printf("test_crc32: %s ok\n", name);
  }
  CHECK(paths >= 2, "the reference and the portable path at least");
  /* combine: the CRC of a buffer from those of its two parts (empty parts included) */
  for (int t = 0; t < (quick ? 50 : 500); t++) {
    size_t a = t == 0 ? 0 : t == 1 ? LEN : (size_t)(rng_next(&s) % (LEN + 1));
    uint32_t got = rt_crc32_combine(crc32_bytewise(0, buf, a), crc32_bytewise(0, buf + a, LEN - a), LEN - a);
    CHECK(got == crc32_bytewise(0, buf, LEN), "combine at %zu: %08x", a, got);
  }
  for (size_t a = 0; a <= big_n; a += big_n / 3 + 1)
    CHECK(rt_crc32_combine(rt_crc32(0, big, a), rt_crc32(0, big + a, big_n - a), big_n - a) == rt_crc32(0, big, big_n),
          "combine of 1 MiB at %zu", a);
  CHECK(rt_crc32(0, big, big_n) == crc32_bytewise(0, big, big_n), "rt_crc32 (%s)", crc32_isa());
  free(buf), free(big);
  if (g_failures) { fprintf(stderr, "test_crc32: %d failure(s)\n", g_failures); return 1; }
  printf("test_crc32: ok (in use: %s)\n", crc32_isa());
  return 0;
}
