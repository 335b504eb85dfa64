/* pool.h: the runtime's threads: one persistent pool of worker threads, made on first use.
 *
 * pool_run(fn, ctx) runs fn(ctx, id, nth) once on each of nth threads (the caller is id 0) and
 * returns when all have returned. pool_for / pool_for_dyn split [0, n) over them. Between jobs the
 * workers spin a little (ops are short), then sleep on a futex: an idle pool burns no core.
 * One caller at a time (the runtime runs one forward at a time); a pool_* call from inside a job runs
 * serially on that thread. With one thread no worker is ever made. */
#ifndef TINYRUNTIME_POOL_H
#define TINYRUNTIME_POOL_H

typedef void (*pool_fn)(void *ctx, int id, int nth);
typedef void (*pool_range_fn)(void *ctx, long begin, long end);

/* the thread count from the next job on (n < 1: the default, the CPUs this process may run on);
   fewer than the workers already made stops the extra ones. Not from inside a job. */
void pool_set_threads(int n);
/* the thread count a job gets (the workers actually made can be fewer if the system refused one) */
int pool_threads(void);

/* fn(ctx, id, nth) on each thread, id in [0, nth); returns when all are done */
void pool_run(pool_fn fn, void *ctx);

/* static split: thread id calls fn(ctx, n*id/nth, n*(id+1)/nth) once (if not empty); n <= 1 or one
   thread: fn(ctx, 0, n) on the caller */
void pool_for(long n, pool_range_fn fn, void *ctx);

/* dynamic split: the threads take i = 0, 1, .. n-1 in turn from a shared counter, fn(ctx, i, i+1)
   (the replacement of schedule(dynamic, 1): for items of uneven cost) */
void pool_for_dyn(long n, pool_range_fn fn, void *ctx);
#endif
