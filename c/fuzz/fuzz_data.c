/* fuzz_data.c: libFuzzer target (2): the data side of the CLI (c/src/data.c): the folder walker, the
 * labels parsed from folder names and the tensor file reader, on folder trees the input describes.
 *
 * Input: byte 0 = elements per tensor (0..63); byte 1 = number of classes; then a text up to the first
 * NUL: one entry per line, a relative path made under a fresh folder (a trailing '/' makes a folder,
 * "a>b" makes a symlink a -> b, anything else a file); the rest is every file's content. Each line is
 * also parsed as a label on its own. The walk must return regular files inside the folder, whose labels
 * are in range, and the reader must take exactly the files of the right size. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "pool.h"
#include "fuzz_common.h"

/* makes dir/entry's parent folders; 0 when the entry's path is usable (no "..", not absolute, short) */
static int make_parents(const char *dir, const char *entry, char *path, size_t len) {
  if (!*entry || *entry == '/' || strlen(entry) > 200 || strstr(entry, "..")) return -1;
  snprintf(path, len, "%s/%s", dir, entry);
  for (char *p = path + strlen(dir) + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(path, 0700);
      *p = '/';
    }
  return 0;
}

int fuzz_data_one(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t elems = data[0] & 63;
  uint32_t n_classes = data[1];
  const uint8_t *text = data + 2, *nul = memchr(text, 0, size - 2);
  size_t tlen = nul ? (size_t)(nul - text) : size - 2;
  const uint8_t *content = nul ? nul + 1 : data + size;
  size_t clen = (size_t)(data + size - content);
  const char *dir = fuzz_tmpdir();
  fuzz_clear(dir);

  char *t = malloc(tlen + 1), path[1024];
  memcpy(t, text, tlen), t[tlen] = 0;
  int lines = 0;
  for (char *line = t, *next; line && lines < 16; line = next, lines++) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    long lab = data_label(line, n_classes);
    if (lab < -1 || lab >= (long)n_classes) abort();
    char *arrow = strchr(line, '>');
    if (arrow) *arrow = 0;
    if (make_parents(dir, line, path, sizeof path)) continue;
    size_t pl = strlen(path);
    if (arrow) { /* relative targets inside the folder only: /proc files would lie about their size */
      if (arrow[1] == '/' || strstr(arrow + 1, "..") || symlink(arrow + 1, path) != 0) continue;
    } else if (path[pl - 1] == '/')
      mkdir(path, 0700);
    else
      fuzz_write(path, content, clen);
  }
  free(t);

  DataList files = {0};
  char err[512] = "";
  if (data_walk(&files, dir, err, sizeof err) == 0) {
    float *x = malloc((elems ? elems : 1) * sizeof *x);
    for (size_t i = 0; i < files.n; i++) {
      struct stat st;
      if (strncmp(files.path[i], dir, strlen(dir)) != 0 || stat(files.path[i], &st) != 0 || !S_ISREG(st.st_mode)) abort();
      long lab = data_label(files.path[i], n_classes);
      if (lab < -1 || lab >= (long)n_classes) abort();
      int bad = -1, rc = data_read_batch(files.path + i, 1, x, elems, POOL_GRAIN, &bad, err, sizeof err);
      if ((rc == 0) != (bad == -1) || bad > 0) abort();   /* *bad set exactly on a failure, to the file's index */
      if (rc == 0 && (size_t)st.st_size != elems * sizeof(float)) abort(); /* read a file of another size */
      if (rc != 0 && (size_t)st.st_size == elems * sizeof(float)) abort(); /* refused the right size */
    }
    free(x);
  } else if (!err[0])
    abort();
  data_list_free(&files);
  return 0;
}

#ifndef FUZZ_NO_ENTRY
void fuzz_model_span(const uint8_t *data, size_t size, size_t *off, size_t *len) {
  (void)data;
  *off = size, *len = 0;
}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_data_one(data, size); }
#endif
