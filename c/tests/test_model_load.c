/* test_model_load.c: the loader against good and malformed files. Every malformed file must be
 * refused with a message, never read outside the buffer (run under ASan/UBSan by `make test`). */
#define _XOPEN_SOURCE 700
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "util_writer.h"


static uint32_t get32(const unsigned char *b, size_t o) { return b[o] | b[o + 1] << 8 | b[o + 2] << 16 | (uint32_t)b[o + 3] << 24; }
static uint64_t get64(const unsigned char *b, size_t o) { return get32(b, o) | (uint64_t)get32(b, o + 4) << 32; }
static void set32(unsigned char *b, size_t o, uint32_t v) { for (int k = 0; k < 4; k++) b[o + k] = (unsigned char)(v >> 8 * k); }
static void set64(unsigned char *b, size_t o, uint64_t v) { set32(b, o, (uint32_t)v), set32(b, o + 4, (uint32_t)(v >> 32)); }

/* a small valid model: conv(3x3, bias) -> relu maxpool -> adaptive avg -> flatten -> linear(5) */
static unsigned char *good(size_t *size) {
  static float w1[4 * 3 * 9], b1[4], w2[5 * 4], b2[5];
  uint64_t r = 7;
  rng_fill(&r, w1, 108, -1, 1), rng_fill(&r, b1, 4, -1, 1), rng_fill(&r, w2, 20, -1, 1), rng_fill(&r, b2, 5, -1, 1);
  MW *m = mw_new(KIND_F32, 3, 10, 8, 5);
  uint32_t v = mw_conv(m, 0, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, w1, b1);
  v = mw_maxpool(m, v, 2, 2, 2, 2, 0, 0, 1, 1, 0);
  v = mw_adaptive(m, v, 0, 1, 1);
  v = mw_flatten(m, v);
  mw_linear(m, v, 5, 0, w2, b2);
  return mw_finish(m, size);
}

/* load a copy of b (exactly size bytes, so ASan sees reads past the end); expect failure mentioning want */
static void expect_fail(const char *what, const unsigned char *b, size_t size, const char *want) {
  unsigned char *copy = malloc(size ? size : 1);
  memcpy(copy, b, size);
  Model m;
  char err[256] = "";
  int rc = model_load_buffer(copy, size, &m, err, sizeof err);
  CHECK(rc != 0, "%s: loaded a malformed file", what);
  if (rc == 0) model_free(&m);
  CHECK(rc == 0 || strlen(err) > 0, "%s: no message", what);
  if (rc != 0 && want) CHECK(strstr(err, want) != NULL, "%s: message '%s' lacks '%s'", what, err, want);
  free(copy);
}

static size_t op_off(const unsigned char *b, uint32_t i) { return get64(b, TR_HDR_OPS_OFF) + (uint64_t)TR_OP_SIZE * i; }
static size_t val_off(const unsigned char *b, uint32_t i) { return get64(b, TR_HDR_VALUES_OFF) + (uint64_t)TR_VALUE_SIZE * i; }
static size_t par_off(const unsigned char *b, uint32_t i) { return get64(b, TR_HDR_PARAMS_OFF) + (uint64_t)TR_PARAM_SIZE * i; }

/* a copy of the good file g, changed by stmt, its checksum recomputed (so the validator, not the
   checksum, has to catch it), must fail with a message containing want */
#define MUTATE(what, want, stmt)                   \
  do {                                             \
    unsigned char *b = malloc(size);               \
    memcpy(b, g, size);                            \
    stmt;                                          \
    mw_seal(b, size);                              \
    expect_fail(what, b, size, want);              \
    free(b);                                       \
  } while (0)

int main(void) {
  size_t size;
  unsigned char *g = good(&size);
  Model m;
  char err[256];

  /* the good model loads, from memory and from a file (mmap) */
  CHECK(model_load_buffer(g, size, &m, err, sizeof err) == 0, "good model: %s", err);
  CHECK(m.kind == KIND_F32 && m.n_classes == 5 && m.in_c == 3 && m.in_h == 10 && m.in_w == 8, "header fields");
  CHECK(m.n_ops == 5 && m.n_values == 6 && m.n_params == 4, "counts %u %u %u", m.n_ops, m.n_values, m.n_params);
  CHECK(strcmp(m.class_names[4], "class4") == 0, "class name '%s'", m.class_names[4]);
  CHECK(op_param(&m, &m.ops[0], 1) != NULL && op_param(&m, &m.ops[1], 0) == NULL, "op_param");
  model_free(&m);
  char dir[256], path[300];
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/m.bin", dir);
  CHECK(write_file(path, g, size) == 0, "write");
  CHECK(model_load(path, &m, err, sizeof err) == 0, "model_load: %s", err);
  CHECK(((uintptr_t)m.params[0].data & 63) == 0, "param data 64-byte aligned in the map");
  model_free(&m);
  /* a truncated file on disk: file_size disagrees */
  CHECK(write_file(path, g, size - 64) == 0, "write");
  CHECK(model_load(path, &m, err, sizeof err) != 0 && strstr(err, "truncated"), "truncated file: '%s'", err);
  CHECK(write_file(path, g, 100) == 0, "write");
  CHECK(model_load(path, &m, err, sizeof err) != 0 && strstr(err, "too small"), "tiny file: '%s'", err);
  snprintf(path, sizeof path, "%s/none.bin", dir);
  CHECK(model_load(path, &m, err, sizeof err) != 0 && strstr(err, "No such file"), "missing file: '%s'", err);
  CHECK(model_load(dir, &m, err, sizeof err) != 0, "a folder is not a model");
  snprintf(path, sizeof path, "%s/m.bin", dir);
  unlink(path), rmdir(dir);

  /* truncated at every offset (the header's file_size no longer matches), and with file_size patched
     to match the truncation (then the sections stick out) */
  for (size_t cut = 0; cut < size; cut += (cut < 1024 ? 1 : 61)) {
    expect_fail("truncated", g, cut, NULL);
    if (cut >= TR_HEADER_SIZE) MUTATE("truncated, file_size patched", NULL, set64(b, TR_HDR_FILE_SIZE, cut); expect_fail("patched", b, cut, NULL));
  }

  MUTATE("bad magic", "bad magic", b[TR_HDR_MAGIC] = 'X');
  MUTATE("newer version", "is newer", set32(b, TR_HDR_VERSION, TR_VERSION + 1));
  MUTATE("version 0", "version", set32(b, TR_HDR_VERSION, 0));
  MUTATE("bad kind", "kind", set32(b, TR_HDR_KIND, 9));
  MUTATE("in_c mismatch", "value 0", set32(b, TR_HDR_IN_C, 4));
  MUTATE("zero classes", "n_classes", set32(b, TR_HDR_N_CLASSES, 0));
  MUTATE("output out of range", "output", set32(b, TR_HDR_OUTPUT, 99));
  MUTATE("output is the input", "output", set32(b, TR_HDR_OUTPUT, 0));
  MUTATE("n_values huge", "outside the file", set32(b, TR_HDR_N_VALUES, 0x7FFFFFFF));
  MUTATE("n_ops huge", "outside the file", set32(b, TR_HDR_N_OPS, 0xFFFFFFFF));
  MUTATE("n_params huge", "outside the file", set32(b, TR_HDR_N_PARAMS, 0x10000000));
  MUTATE("n_ops zero", "n_ops", set32(b, TR_HDR_N_OPS, 0));
  MUTATE("values_off past end", "outside the file", set64(b, TR_HDR_VALUES_OFF, size));
  MUTATE("values_off wraps", "outside the file", set64(b, TR_HDR_VALUES_OFF, UINT64_MAX - 8));
  MUTATE("ops overlap values", "overlap", set64(b, TR_HDR_OPS_OFF, get64(b, TR_HDR_VALUES_OFF) + TR_VALUE_SIZE));
  MUTATE("data_size too large", "outside the file", set64(b, TR_HDR_DATA_SIZE, size));
  MUTATE("names_size off", "names", set64(b, TR_HDR_NAMES_SIZE, get64(b, TR_HDR_NAMES_SIZE) - 1));
  MUTATE("class name too long", "class name", set32(b, TR_HEADER_SIZE, 1000));
  MUTATE("value dim zero", "zero dim", set32(b, val_off(b, 1) + TR_VAL_H, 0));
  MUTATE("value huge dims", "2^31", set32(b, val_off(b, 1) + TR_VAL_C, 0x10000); set32(b, val_off(b, 1) + TR_VAL_H, 0x10000); set32(b, val_off(b, 1) + TR_VAL_W, 4));
  MUTATE("value i8 in f32 model", "dtype", set32(b, val_off(b, 1) + TR_VAL_DTYPE, 1));
  MUTATE("shape mismatch (conv output)", "but the op gives", set32(b, val_off(b, 1) + TR_VAL_H, 9));
  MUTATE("shape mismatch (linear output)", "output value", set32(b, val_off(b, 5) + TR_VAL_C, 6));
  MUTATE("op type unknown", "unknown type", set32(b, op_off(b, 1) + TR_OP_TYPE, 99));
  MUTATE("op type zero", "unknown type", set32(b, op_off(b, 1) + TR_OP_TYPE, 0));
  MUTATE("op n_in zero", "n_in", set32(b, op_off(b, 1) + TR_OP_N_IN, 0));
  MUTATE("op n_in 9", "n_in", set32(b, op_off(b, 1) + TR_OP_N_IN, 9));
  MUTATE("op input out of range", "out of range", set32(b, op_off(b, 1) + TR_OP_IN, 1000));
  MUTATE("op reads a later value", "before any op writes it", set32(b, op_off(b, 1) + TR_OP_IN, 3));
  MUTATE("op output out of range", "out of range", set32(b, op_off(b, 1) + TR_OP_OUT, 1000));
  MUTATE("op writes the input", "out of range", set32(b, op_off(b, 1) + TR_OP_OUT, 0));
  MUTATE("value written twice", "written twice", set32(b, op_off(b, 2) + TR_OP_OUT, 1));
  MUTATE("op param out of range", "out of range", set32(b, op_off(b, 0) + TR_OP_PARAM, 77));
  MUTATE("weight missing", "missing", set32(b, op_off(b, 0) + TR_OP_PARAM, 0xFFFFFFFF));
  MUTATE("param on a pool", "must be none", set32(b, op_off(b, 1) + TR_OP_PARAM, 0));
  MUTATE("bias used as weight", "shape mismatch", set32(b, op_off(b, 0) + TR_OP_PARAM, 1));
  MUTATE("conv in_c wrong", "in_c", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_IN_C, 4));
  MUTATE("conv groups 0", "out of range", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_GROUPS, 0));
  MUTATE("conv groups 2", "groups", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_GROUPS, 2));
  MUTATE("conv stride 0", "out of range", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_SH, 0));
  MUTATE("conv negative pad", "out of range", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_PH, (uint32_t)-1));
  MUTATE("conv kernel huge", "does not fit", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_KH, 0x7FFFFFFF));
  MUTATE("conv gs in f32", "group size", set32(b, op_off(b, 0) + TR_OP_ATTR + 4 * A_CONV2D_GS, 4));
  MUTATE("pool padding > kernel/2", "padding", set32(b, op_off(b, 1) + TR_OP_ATTR + 4 * A_MAXPOOL2D_PH, 2));
  MUTATE("pool ceil_mode 2", "ceil_mode", set32(b, op_off(b, 1) + TR_OP_ATTR + 4 * A_MAXPOOL2D_CEIL_MODE, 2));
  MUTATE("bad activation", "activation", set32(b, op_off(b, 0) + TR_OP_ACT, ACT_COUNT));
  MUTATE("v2 activation in a v1 file", "activation", set32(b, TR_HDR_VERSION, 1); set32(b, op_off(b, 0) + TR_OP_ACT, ACT_SILU));
  MUTATE("MUL in a v1 file", "unknown type", set32(b, TR_HDR_VERSION, 1); set32(b, op_off(b, 1) + TR_OP_TYPE, OP_MUL));
  /* an f32 1x1 convolution's weight: (O, K) up to version 3, panels of 32 rows from version 4 (FORMAT.md); each
     file relabelled as the other version is refused by the weight's dims */
  for (uint32_t ver = 3; ver <= 4; ver++) {
    float w1x1[40 * 3] = { 0 }, b1x1[40] = { 0 };
    MW *mp = mw_new(KIND_F32, 3, 1, 1, 40);
    mw_version(mp, ver);
    mw_output(mp, mw_conv(mp, 0, 40, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, w1x1, b1x1));
    size_t ps;
    unsigned char *p = mw_finish(mp, &ps);
    int ok = model_load_buffer(p, ps, &m, err, sizeof err) == 0;
    CHECK(ok, "version %u 1x1 model: %s", ver, err);
    if (ok) model_free(&m);
    set32(p, TR_HDR_VERSION, 7 - ver), mw_seal(p, ps);
    expect_fail(ver == 3 ? "1x1 (O, K) weight as version 4" : "1x1 panels as version 3", p, ps, "weight");
    free(p);
  }
  MUTATE("MUL with one input", "n_in", set32(b, op_off(b, 1) + TR_OP_TYPE, OP_MUL));
  MUTATE("QUANTIZE in f32 model", "sq8", set32(b, op_off(b, 3) + TR_OP_TYPE, OP_QUANTIZE));
  MUTATE("param dtype bad", "dtype", set32(b, par_off(b, 0) + TR_PAR_DTYPE, 7));
  MUTATE("param dtype i8 for f32 weight", "dtype", set32(b, par_off(b, 0) + TR_PAR_DTYPE, DT_I8); set64(b, par_off(b, 0) + TR_PAR_NBYTES, 108));
  MUTATE("param ndim 0", "ndim", set32(b, par_off(b, 0) + TR_PAR_NDIM, 0));
  MUTATE("param ndim 5", "ndim", set32(b, par_off(b, 0) + TR_PAR_NDIM, 5));
  MUTATE("param dim zero", "dim", set32(b, par_off(b, 0) + TR_PAR_DIMS, 0));
  MUTATE("param dims huge", "larger than the file", set32(b, par_off(b, 0) + TR_PAR_DIMS, 0xFFFFFFFF); set32(b, par_off(b, 0) + TR_PAR_DIMS + 4, 0xFFFFFFFF));
  MUTATE("param nbytes wrong", "nbytes", set64(b, par_off(b, 0) + TR_PAR_NBYTES, 4));
  MUTATE("param offset unaligned", "aligned", set64(b, par_off(b, 0) + TR_PAR_OFFSET, get64(b, par_off(b, 0) + TR_PAR_OFFSET) + 4));
  MUTATE("param offset outside data", "outside the data section", set64(b, par_off(b, 0) + TR_PAR_OFFSET, 0));
  MUTATE("param offset past end", "outside", set64(b, par_off(b, 3) + TR_PAR_OFFSET, size));
  MUTATE("param offset huge", "outside", set64(b, par_off(b, 3) + TR_PAR_OFFSET, UINT64_MAX - 63));
  MUTATE("linear in_f wrong", "in_f", set32(b, op_off(b, 4) + TR_OP_ATTR + 4 * A_LINEAR_IN_F, 3));

  /* the checksum: any flipped byte is "checksum mismatch"; a version-1 file has none and loads */
  for (size_t at = 0; at < size; at += 37) {
    if (at >= TR_HDR_FILE_SIZE && at < TR_HDR_FILE_SIZE + 8) continue;   /* that is "truncated" */
    unsigned char *b = malloc(size);
    memcpy(b, g, size);
    b[at] ^= 0x10;
    expect_fail("flipped byte", b, size, at < 8 || (at >= 8 && at < 12) ? NULL : "checksum mismatch");
    free(b);
  }
  {
    unsigned char *b = malloc(size);
    memcpy(b, g, size);
    set32(b, TR_HDR_VERSION, 1), set32(b, TR_HDR_CHECKSUM, 0);
    CHECK(model_load_buffer(b, size, &m, err, sizeof err) == 0 && m.version == 1, "version-1 file: %s", err);
    model_free(&m);
    free(b);
  }

  /* random byte corruption in the tables (checksum recomputed): any result is fine as long as it is a clean one */
  uint64_t r = 99;
  size_t tables_end = get64(g, TR_HDR_DATA_OFF);
  int trials = test_quick() ? 2000 : 20000;
  for (int t = 0; t < trials; t++) {
    unsigned char *b = malloc(size);
    memcpy(b, g, size);
    int flips = 1 + (int)(rng_next(&r) % 4);
    for (int f = 0; f < flips; f++) b[rng_next(&r) % tables_end] = (unsigned char)rng_next(&r);
    mw_seal(b, size);
    if (model_load_buffer(b, size, &m, err, sizeof err) == 0) model_free(&m);
    free(b);
  }
  free(g);
  if (g_failures) fprintf(stderr, "test_model_load: %d FAILED\n", g_failures);
  else printf("test_model_load: ok\n");
  return g_failures != 0;
}
