/* data.c: raw tensor files, the folder walker and folder-name labels (data.h). */
#define _XOPEN_SOURCE 700
#include "data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int data_push(DataList *l, const char *p, char *err, size_t errlen) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    char **np = realloc(l->path, cap * sizeof *np);
    if (!np) return rt_fail(err, errlen, "%s: out of memory", p);
    l->path = np, l->cap = cap;
  }
  if (!(l->path[l->n] = strdup(p))) return rt_fail(err, errlen, "%s: out of memory", p);
  l->n++;
  return 0;
}

void data_list_free(DataList *l) {
  for (size_t i = 0; i < l->n; i++) free(l->path[i]);
  free(l->path);
  memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

static int walk(DataList *out, const char *dir, int depth, char *err, size_t errlen) {
  if (depth > 64) return rt_fail(err, errlen, "%s: folders nested too deep", dir);
  DIR *d = opendir(dir);
  if (!d) return rt_fail(err, errlen, "%s: %s", dir, strerror(errno));
  DataList names = {0};
  struct dirent *de;
  int rc = 0;
  while (!rc && (de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) rc = data_push(&names, de->d_name, err, errlen);
  closedir(d);
  if (!rc && names.n) qsort(names.path, names.n, sizeof *names.path, cmp_str);
  for (size_t i = 0; i < names.n && !rc; i++) {
    size_t len = strlen(dir) + strlen(names.path[i]) + 2;
    char *p = malloc(len);
    if (!p) {
      rc = rt_fail(err, errlen, "%s: out of memory", dir);
      break;
    }
    snprintf(p, len, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", names.path[i]);
    struct stat st;
    if (stat(p, &st) != 0) rc = rt_fail(err, errlen, "%s: %s", p, strerror(errno));
    else if (S_ISDIR(st.st_mode)) rc = walk(out, p, depth + 1, err, errlen);
    else if (S_ISREG(st.st_mode) && ends_with(names.path[i], ".bin")) rc = data_push(out, p, err, errlen);
    free(p);
  }
  data_list_free(&names);
  return rc;
}

int data_walk(DataList *out, const char *dir, char *err, size_t errlen) { return walk(out, dir, 0, err, errlen); }

long data_label(const char *path, uint32_t n_classes) {
  const char *end = strrchr(path, '/');
  if (!end) return -1; /* no parent folder in the path: the caller resolves "." */
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

int data_read_tensor(const char *path, float *dst, size_t elems, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return rt_fail(err, errlen, "%s", strerror(errno));
  size_t got = fread(dst, sizeof(float), elems, f);
  int extra = fgetc(f);
  int bad = ferror(f);
  fclose(f);
  if (bad) return rt_fail(err, errlen, "read error");
  if (got != elems || extra != EOF)
    return rt_fail(err, errlen, "wrong size: expected %zu bytes (float32 x %zu)", elems * sizeof(float), elems);
  return 0;
}
