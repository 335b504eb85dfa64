/* util_run.h: what the engine-level C tests share: running a model held in memory through the loader
 * and the executor on several images in batches, and setting the thread count. */
#ifndef TINYRUNTIME_UTIL_RUN_H
#define TINYRUNTIME_UTIL_RUN_H
#include <stddef.h>
/* run the model in buf on nimg images (in: nimg x input elements) with batch `batch` (in chunks),
   into out (nimg x n_classes); 0 ok, else err says which step failed ("load: ...", "build: ...",
   "forward: ...") */
int run_model_batches(const unsigned char *buf, size_t size, int batch, int nimg, const float *in, float *out,
                      char *err, size_t errlen);
void set_threads(int t); /* the thread pool's thread count (pool_set_threads) */
struct Engine;
/* builds the engine of the model in buf (batch 1; on `threads` threads, then one again; 0: the count as set) and returns
   the sum of count(e, i, arg) over its ops i (what a test asks of the plan: the fusions made), -1 where it does not load
   or build */
int count_ops(const unsigned char *buf, size_t size, int threads, int (*count)(const struct Engine *e, unsigned i, int arg),
              int arg);
/* a fusion's check: the fused model bf and the unfused bu (nout floats an image) on nimg images x, on every kernel table
   this machine runs (TINYRUNTIME_KERNELS), batch 1 on one thread: the same bytes, which judge (if not NULL) also checks;
   then the fused one at batch 1, 2 and 3 on 1, 2 and 3 threads, with and without lanes: the same bytes again (CHECK
   failures name `what` and the table). Returns the tables run */
typedef void (*judge_fn)(const char *isa, const float *out);
int fused_unfused_tables(const char *what, const unsigned char *bf, size_t sf, const unsigned char *bu, size_t su,
                         const float *x, int nimg, size_t nout, judge_fn judge);
/* a judge_fn against the naive outputs: want_out[0..want_len) bit for bit, and outputs that vary (more than want_len /
   want_vary changes from one to the next); the test sets the three before fused_unfused_tables */
extern float *want_out;
extern size_t want_len;
extern int want_vary;
void judge_want(const char *isa, const float *out);
#endif
