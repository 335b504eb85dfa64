/* model.h: the tinyruntime model file (FORMAT.md, version 1), memory-mapped and validated.
 * model_load checks every count, index, offset, size, dtype and shape against the file and
 * recomputes each op's output shape; after it succeeds, every pointer in Model is safe to use. */
#ifndef TINYRUNTIME_MODEL_H
#define TINYRUNTIME_MODEL_H
#include <stddef.h>
#include <stdint.h>

#define MODEL_MAGIC "TINYRTM"
#define MODEL_VERSION 1u
#define MODEL_NONE 0xFFFFFFFFu            /* "no param" in Op.param[] */
#define MODEL_MAX_ELEMS (1ull << 31)      /* largest c*h*w accepted for one value */

enum { KIND_F32 = 1, KIND_DQ8 = 2, KIND_SQ8 = 3 };
enum { OP_CONV2D = 1, OP_LINEAR, OP_ADD, OP_CONCAT, OP_MAXPOOL2D, OP_AVGPOOL2D, OP_ADAPTIVE_AVGPOOL2D,
       OP_ADAPTIVE_MAXPOOL2D, OP_FLATTEN, OP_ACT, OP_QUANTIZE, OP_DEQUANTIZE };
enum { DT_F32 = 0, DT_I8 = 1, DT_I32 = 2 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2 };

/* one activation tensor of one image, shape (c, h, w), CHW */
typedef struct { uint32_t c, h, w, dtype; float scale; int32_t zero_point; } Value;
/* one parameter tensor; data points into the map (64-byte aligned in the file) */
typedef struct { uint32_t dtype, ndim, dims[4]; const void *data; uint64_t nbytes; } Param;
/* one operation; attr[] per FORMAT.md, param[] indices into params or MODEL_NONE */
typedef struct { uint32_t type, act, n_in, out, in[8]; int32_t attr[16]; uint32_t param[8];
                 int32_t qmin, qmax; } Op;
typedef struct {
  uint32_t version, kind, in_c, in_h, in_w, n_classes, n_values, n_ops, n_params, output;
  Value *values; Op *ops; Param *params; char **class_names;
  void *map; size_t map_size;                 /* the read-only mmap of the file */
} Model;

int  model_load(const char *path, Model *m, char *err, size_t errlen); /* 0 ok, else err = reason */
void model_free(Model *m);
const Param *op_param(const Model *m, const Op *op, int slot);        /* NULL when none */
const char *kind_name(uint32_t kind);                                  /* "f32", "dq8", "sq8" */

/* Additions (not in the fixed API list, stable): */
/* Same as model_load, but validates a caller-owned buffer (not copied, must outlive m; model_free
 * does not free it). Used by tests to feed malformed bytes without touching the disk. */
int  model_load_buffer(const void *buf, size_t size, Model *m, char *err, size_t errlen);
const char *op_name(uint32_t type);                                    /* "CONV2D", ... or "?" */
size_t value_elems(const Value *v);                                    /* c*h*w */
#endif
