/* data.c: raw tensor files, the folder walker and folder-name labels (data.h). */
#define _XOPEN_SOURCE 700
#include "data.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"
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
  if (!d) return rt_fail(err, errlen, "%s: %s", dir, rt_strerror(errno));
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
    if (stat(p, &st) != 0) rc = rt_fail(err, errlen, "%s: %s", p, rt_strerror(errno));
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

/* data_read_batch's job: elements [a, b) of the batch (file a / elems from element a % elems on) by
   pread; a failure is recorded in code[file] (errno, or -1 for a short read: the file shrank) */
typedef struct {
  const int *fd;
  _Atomic int *code;
  float *dst;
  size_t elems;
} ReadJob;

static void read_range(void *arg, long a, long b) {
  ReadJob *j = arg;
  for (size_t i = (size_t)a; i < (size_t)b;) {
    size_t k = i / j->elems, off = i % j->elems, len = j->elems - off;
    if (len > (size_t)b - i) len = (size_t)b - i;
    char *p = (char *)(j->dst + i);
    size_t want = len * sizeof(float);
    off_t at = (off_t)(off * sizeof(float));
    while (want > 0) {
      ssize_t r = pread(j->fd[k], p, want, at);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        atomic_store(&j->code[k], r < 0 ? (errno ? errno : EIO) : -1);
        break;
      }
      p += r, want -= (size_t)r, at += r;
    }
    i += len;
  }
}

int data_read_batch(char *const *paths, int n, float *dst, size_t elems, long grain, int *bad, char *err, size_t errlen) {
  enum { MAXF = 64 };   /* files open at a time */
  const size_t bytes = elems * sizeof(float);
  for (int k0 = 0; k0 < n; k0 += MAXF) {
    int m = n - k0 < MAXF ? n - k0 : MAXF, fd[MAXF], opened = 0, rc = 0;
    _Atomic int code[MAXF];
    for (; opened < m && !rc; opened++) {
      struct stat st;
      atomic_init(&code[opened], 0);
      fd[opened] = open(paths[k0 + opened], O_RDONLY | O_CLOEXEC);
      if (fd[opened] < 0) {
        *bad = k0 + opened;
        rc = rt_fail(err, errlen, "%s", rt_strerror(errno));
        break;
      }
      if (fstat(fd[opened], &st) != 0) rc = rt_fail(err, errlen, "%s", rt_strerror(errno));
      else if (!S_ISREG(st.st_mode)) rc = rt_fail(err, errlen, "not a regular file");
      else if ((size_t)st.st_size != bytes)
        rc = rt_fail(err, errlen, "wrong size: expected %zu bytes (float32 x %zu)", bytes, elems);
      if (rc) *bad = k0 + opened;
    }
    if (!rc && m > 0) {
      ReadJob j = {fd, code, dst + (size_t)k0 * elems, elems};
      pool_for_grain((long)((size_t)m * elems), grain, read_range, &j);
      for (int k = 0; k < m && !rc; k++) {
        int c = atomic_load(&code[k]);
        if (!c) continue;
        *bad = k0 + k;
        rc = c < 0 ? rt_fail(err, errlen, "wrong size: expected %zu bytes (float32 x %zu)", bytes, elems)
                   : rt_fail(err, errlen, "read error: %s", rt_strerror(c));
      }
    }
    for (int k = 0; k < opened; k++) close(fd[k]);
    if (rc) return rc;
  }
  return 0;
}
