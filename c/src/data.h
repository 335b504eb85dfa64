/* data.h: the CLI's data side (DESIGN.md, contract 1): raw tensor files, folders walked for them,
 * and labels from folder names. Untrusted input like the model file; every function reports a
 * problem through err (one line) instead of exiting, so cli.c and the fuzz targets share them. */
#ifndef TINYRUNTIME_DATA_H
#define TINYRUNTIME_DATA_H
#include <stddef.h>
#include <stdint.h>

typedef struct { char **path; size_t n, cap; } DataList;

/* appends a copy of p; -1 (err "PATH: out of memory") when memory is short */
int  data_push(DataList *l, const char *p, char *err, size_t errlen);
void data_list_free(DataList *l);
/* appends every *.bin regular file under dir, recursively: each folder's entries sorted by byte-wise
   name, depth first, at most 64 folders deep. -1 with err "PATH: problem" on the first problem. */
int  data_walk(DataList *out, const char *dir, char *err, size_t errlen);
/* the label of a data file: its parent folder's name, a decimal integer < n_classes (at most 9
   digits); -1 when it is not one, or the path has no parent folder */
long data_label(const char *path, uint32_t n_classes);
/* reads n files of exactly elems float32 each into dst (file k at dst + k * elems). The bytes are
   split over the pool's threads as an elementwise op splits the batch's elements (pool_for_grain with
   `grain`), so each thread reads (by pread) the part its share of such a first op reads next: a
   batch-1 image was ~0.12 ms of fread on one thread. -1 with *bad (the file's index) and err (the
   problem, without the path) when a file cannot be opened or read, or has another size. */
int  data_read_batch(char *const *paths, int n, float *dst, size_t elems, long grain, int *bad, char *err, size_t errlen);
#endif
