/* model.h: the tinyruntime model file (FORMAT.md, versions 1 to 6), memory-mapped and validated.
 * model_load is the one validator of the runtime: it checks every count, index, offset, size, dtype,
 * shape, attribute and limit against the file (and, from version 2, its checksum) and recomputes each
 * op's output shape; after it succeeds, every pointer in Model is safe to use and the engines trust it.
 * The format's names and numbers (op codes, slots, offsets, limits) come from the generated ops.h. */
#ifndef TINYRUNTIME_MODEL_H
#define TINYRUNTIME_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "ops.h"

/* one activation tensor of one image, shape (c, h, w), CHW */
typedef struct { uint32_t c, h, w, dtype; float scale; int32_t zero_point; } Value;
/* one parameter tensor; data points into the map (64-byte aligned in the file) */
typedef struct { uint32_t dtype, ndim, dims[4]; const void *data; uint64_t nbytes; } Param;
/* one operation; attr[] per FORMAT.md (A_* slots), param[] indices into params or TR_NONE */
typedef struct { uint32_t type, act, n_in, out, in[TR_MAX_IN]; int32_t attr[TR_N_ATTR]; uint32_t param[TR_N_PARAM];
                 int32_t qmin, qmax; } Op;
typedef struct {
  uint32_t version, kind, in_c, in_h, in_w, n_classes, n_values, n_ops, n_params, output;
  Value *values; Op *ops; Param *params; char **class_names;
  void *map; size_t map_size;                 /* the read-only mmap of the file */
  double crc_ms;                              /* time the checksum took (TINYRUNTIME_PROFILE's start-up line) */
} Model;

int  model_load(const char *path, Model *m, char *err, size_t errlen); /* 0 ok, else err = reason */
void model_free(Model *m);
const Param *op_param(const Model *m, const Op *op, int slot);        /* NULL when none */
const char *kind_name(uint32_t kind);                                  /* "f32", "dq8", "sq8" */

/* Additions (not in the fixed API list, stable): */
/* Same as model_load, but validates a caller-owned buffer (not copied, must outlive m; model_free
 * does not free it). Used by tests to feed malformed bytes without touching the disk. */
int  model_load_buffer(const void *buf, size_t size, Model *m, char *err, size_t errlen);
size_t value_elems(const Value *v);                                    /* c*h*w */
/* The bytes [p, p + n) of the model's mapping will not be read again (a build has copied or packed
 * them): give their pages back (madvise MADV_DONTNEED), all but the last when the range ends inside it,
 * so that consecutive calls over one array give each page back once. The mapping is a read-only
 * MAP_PRIVATE file map, so a page given back is read from the file again if it is ever touched:
 * correctness does not depend on the caller. No-op for a caller's buffer (model_load_buffer) and
 * for bytes outside the map. */
void model_release(const Model *m, const void *p, size_t n);

/* An int8 CONV2D/LINEAR weight blocked in the file (FORMAT.md "sq8 weights, blocked", version 3; "dq8 weights,
   blocked", version 5): G conv groups of M outputs, each output's K values as KG runs of cig channels x T taps
   ((ci, ky, kx) order); TM tiles of R outputs a group, NQ quads of 4 channels a run. Byte
   (((g * TM + tm) * KG + kg) * NQ + q) * T * 4R + t * 4R + 4 * r + j of the param is output g * M + R * tm + r, value
   kg * cig * T + (4 * q + j) * T + t (zero in the padding: the loader checks). sq8: R = 8, KG = 1, cig the input
   channels a group, T the taps; dq8: R = 4, KG = K / gs runs of cig = gs values, T = 1 (each quantization group's
   values padded to quads). The param's dims: sq8 (G * TM, NQ, T, 32), dq8 (G * TM, KG, NQ, 16) */
typedef struct { size_t G, M, cig, T, TM, NQ, KG, R; } WBlocks;
/* 1 and *b filled when op's weight is blocked (an sq8 file of version 3+ or a dq8 one of version 5+, a CONV2D of more
   than one input channel a group or a LINEAR), else 0. The op's attributes as the loader checked them (or raw: only
   sizes, no reads) */
int model_blocks(const Model *m, const Op *op, WBlocks *b);
/* 1 when op's weight is stored in panels of 32 rows (FORMAT.md "f32 1x1 weights in panels", version 4): an f32 file's
   CONV2D of one group and a 1x1 kernel, from version 6 also one of more taps, K >= 64, that is not Winograd-shaped (3x3,
   stride 1, padding 1, dilation 1, an output of 14x14 or more: op->out must be a valid value), from version 7 only where
   its output has 16 pixels or less, or a width that is a multiple of 7 and 14+ pixels; from version 7 also a LINEAR, unless the last panel's
   padding rows would be more than O / 8; dims (ceil(O / 32), K, 32), row r of panel p, column k at p * 32 * K + k * 32 + r
   (gemm_t's packed layout; the last panel's rows past O: any value, never read into an output; writers write 0) */
int model_f32_panels(const Model *m, const Op *op);
#endif
