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
/* reads exactly elems float32 into dst; -1 with err (the problem, without the path) when the file
   cannot be read or has another size */
int  data_read_tensor(const char *path, float *dst, size_t elems, char *err, size_t errlen);
#endif
