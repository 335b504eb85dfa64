/* test_release.c: engine_build gives the mapped pages of the weights it packed back to the file
 * (model_release), and keeps those its kernel reads in place (F32GemmDesc.gemm_u: a 3x3 convolution's; gemm_t: from
 * version 4, a 1x1's in panels): the results from a file equal those from a caller's buffer bit for bit, the buffer
 * is never touched, and (on Linux, not under qemu) the mapping's resident size drops by the packed weights' pages
 * only. Versions 3 (the 1x1 packed) and 4. And engine_populate maps a span's pages (MADV_POPULATE_WRITE, where the
 * kernel has it) without changing a byte. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dispatch.h"
#include "engine.h"
#include "engine_impl.h"
#include "util_writer.h"

/* the resident KiB of the mapping that starts at p (/proc/self/smaps), or -1 */
static long mapping_rss_kib(const void *p) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[512], want[32];
  snprintf(want, sizeof want, "%lx-", (unsigned long)(uintptr_t)p);
  long kib = -1;
  int in = 0;
  while (fgets(line, sizeof line, f)) {
    if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' ')) in = !strncmp(line, want, strlen(want));
    else if (in && !strncmp(line, "Rss:", 4)) { kib = strtol(line + 4, NULL, 10); break; }
  }
  fclose(f);
  return kib;
}

static void check(uint32_t version) {
  enum { C = 64, H = 6, W = 6, O = 250, O2 = 256, NCLS = 10 };
  uint64_t rng = 99;
  float *w1 = malloc((size_t)O * C * 9 * sizeof(float)), *b1 = malloc(O * sizeof(float));
  float *w2 = malloc((size_t)O2 * O * sizeof(float)), *b2 = malloc(O2 * sizeof(float));
  float *wd = malloc(O2 * 9 * sizeof(float)), *bd = malloc(O2 * sizeof(float));
  float *wl = malloc((size_t)NCLS * O2 * sizeof(float)), *bl = malloc(NCLS * sizeof(float));
  float *x = malloc((size_t)C * H * W * sizeof(float));
  rng_fill(&rng, w1, (size_t)O * C * 9, -0.1f, 0.1f), rng_fill(&rng, b1, O, -1, 1);
  rng_fill(&rng, w2, (size_t)O2 * O, -0.1f, 0.1f), rng_fill(&rng, b2, O2, -1, 1);
  rng_fill(&rng, wd, O2 * 9, -1, 1), rng_fill(&rng, bd, O2, -1, 1);
  rng_fill(&rng, wl, (size_t)NCLS * O2, -1, 1), rng_fill(&rng, bl, NCLS, -1, 1);
  rng_fill(&rng, x, (size_t)C * H * W, -1, 1);
  MW *m = mw_new(KIND_F32, C, H, W, NCLS);
  mw_version(m, version);
  uint32_t v = mw_conv(m, 0, O, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, w1, b1);   /* 576 KB: packed, or read in place */
  v = mw_conv(m, v, O2, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, w2, b2);          /* 250 KB: packed, or read in place (v4, gemm_t) */
  v = mw_conv(m, v, O2, 3, 3, 1, 1, 1, 1, 1, 1, O2, 2, wd, bd);         /* depthwise: read from the map */
  v = mw_flatten(m, mw_adaptive(m, v, 0, 1, 1));
  mw_output(m, mw_linear(m, v, NCLS, 0, wl, bl));
  size_t size;
  unsigned char *buf = mw_finish(m, &size), *keep = malloc(size);
  memcpy(keep, buf, size);
  char dir[256], path[300], err[512];
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/model.bin", dir);
  CHECK(write_file(path, buf, size) == 0, "write %s", path);

  Model mf, mb;
  float yf[NCLS], yb[NCLS];
  CHECK(model_load(path, &mf, err, sizeof err) == 0, "load the file: %s", err);
  CHECK(model_load_buffer(buf, size, &mb, err, sizeof err) == 0, "load the buffer: %s", err);
  long before = mapping_rss_kib(mf.map);
  Engine *ef = engine_build(&mf, 1, err, sizeof err), *eb = engine_build(&mb, 1, err, sizeof err);
  CHECK(ef && eb, "build: %s", err);
  long after = mapping_rss_kib(mf.map);
  for (int rep = 0; rep < 2 && ef && eb; rep++) {   /* twice: nothing given back is read again */
    CHECK(engine_forward(ef, x, 1, yf, err, sizeof err) == 0, "forward (file): %s", err);
    CHECK(engine_forward(eb, x, 1, yb, err, sizeof err) == 0, "forward (buffer): %s", err);
    CHECK(memcmp(yf, yb, sizeof yf) == 0, "the file's results differ from the buffer's (pass %d)", rep);
  }
  CHECK(memcmp(buf, keep, size) == 0, "a caller's buffer was changed by the build");
  const char *qemu = getenv("TEST_EXEC");
  if (before >= 0 && after >= 0 && !(qemu && *qemu)) {
    printf("test_release: version %u: mapping resident %ld KiB after load, %ld KiB after build (file %zu KiB)\n", version,
           before, after, size / 1024);
    long k3 = (long)((size_t)O * C * 9 * 4 / 1024), k1 = (long)((size_t)O2 * O * 4 / 1024);
    /* v4's 1x1 panels are read in place where the table says so (F32GemmDesc.panels_in_place: AVX-512's and NEON's; AVX2
       and the reference pack them) */
    const F32GemmDesc *gd = f32_kernels()->gemm;
    int inplace = gd->gemm_u != NULL, in1 = version >= 4 && gd->panels_in_place;
    long packed = (inplace ? 0 : k3) + (in1 ? 0 : k1), kept = (inplace ? k3 : 0) + (in1 ? k1 : 0);
    CHECK(before - after >= packed - 16, "the packed weights' pages stay resident: %ld KiB before the build, %ld after",
          before, after);
    CHECK(after >= kept, "the weights the kernels read in place (%ld KiB) were given back: %ld KiB resident", kept, after);
  } else
    printf("test_release: resident size not checked (no /proc/self/smaps entry, or under qemu)\n");
  engine_free(ef), engine_free(eb);
  model_free(&mf), model_free(&mb);
  unlink(path), rmdir(dir);
  free(buf), free(keep), free(w1), free(b1), free(w2), free(b2), free(wd), free(bd), free(wl), free(bl), free(x);
}

/* the resident pages of [p, p + n) (p page-aligned), by mincore; -1 where it fails */
static long resident_pages(void *p, size_t n) {
  size_t pages = (n + 4095) / 4096;
  unsigned char *v = malloc(pages);
  long r = v && mincore(p, n, v) == 0 ? 0 : -1;
  for (size_t i = 0; r >= 0 && i < pages; i++) r += v[i] & 1;
  free(v);
  return r;
}

/* engine_populate on a fresh 1 MiB mapping (three bytes written first, the span starting and ending inside pages):
   the bytes unchanged, every page resident where the kernel populates (probed on a page of its own), none from too
   small a span */
static void check_populate(void) {
  size_t n = (size_t)1 << 20;
  unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED && probe != MAP_FAILED, "mmap");
  if (p == MAP_FAILED || probe == MAP_FAILED) return;
  p[0] = 7, p[n / 2 + 3] = 5, p[n - 1] = 9;
  engine_populate(p + 8192, ENGINE_POPULATE_MIN - 1);   /* too small: nothing */
  long small = resident_pages(p, n);
  engine_populate(p + 100, n - 200);
  int kernel_has = madvise(probe, 4096, 23) == 0;   /* MADV_POPULATE_WRITE */
  CHECK(p[0] == 7 && p[n / 2 + 3] == 5 && p[n - 1] == 9 && p[1] == 0 && p[n - 2] == 0, "populate changed the bytes");
  long res = resident_pages(p, n);
  const char *qemu = getenv("TEST_EXEC");
  if (kernel_has && small >= 0 && res >= 0 && !(qemu && *qemu)) {
    printf("test_release: populate: %ld of %zu pages resident before, %ld after\n", small, n / 4096, res);
    CHECK(small <= 3, "a span under ENGINE_POPULATE_MIN was populated: %ld pages resident", small);
    CHECK(res == (long)(n / 4096), "the span was not populated: %ld of %zu pages resident", res, n / 4096);
  } else
    printf("test_release: populate's pages not checked (no MADV_POPULATE_WRITE or mincore, or under qemu)\n");
  munmap(p, n), munmap(probe, 4096);
}

int main(void) {
  check_populate();
  check(3);
  check(4);
  if (g_failures) fprintf(stderr, "test_release: %d FAILED\n", g_failures);
  else printf("test_release: ok\n");
  return g_failures != 0;
}
