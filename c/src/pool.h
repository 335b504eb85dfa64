/* pool.h: the runtime's threads: one persistent pool of worker threads, made on first use.
 *
 * pool_run(fn, ctx) runs the shares fn(ctx, id, nth), id = 0..nth-1 (nth = the thread count), each
 * exactly once, and returns when all have returned. A thread runs the share of its own id (the caller
 * is 0) unless another took it first: a late worker's share is taken by those that are there, so
 * shares must never wait for one another. pool_for / pool_for_dyn split [0, n) over the shares (pool_for's
 * also taken over in part from a thread that is slow to get through its own).
 * Between jobs the workers spin a little (ops are short), then sleep on a futex: an idle pool burns
 * no core.
 * One caller at a time (the runtime runs one forward at a time); a pool_* call from inside a job runs
 * serially on that thread. With one thread no worker is ever made. */
#ifndef TINYRUNTIME_POOL_H
#define TINYRUNTIME_POOL_H
#include <stdatomic.h>

typedef void (*pool_fn)(void *ctx, int id, int nth);
typedef void (*pool_range_fn)(void *ctx, long begin, long end);

/* the thread count from the next job on (n < 1: the default, the CPUs this process may run on);
   fewer than the workers already made stops the extra ones. Not from inside a job. */
void pool_set_threads(int n);
/* the thread count a job gets (the workers actually made can be fewer if the system refused one); 1 inside
   a job */
int pool_threads(void);

/* fn(ctx, id, nth) once for each id in [0, nth), on whichever thread claims it; returns when all are done */
void pool_run(pool_fn fn, void *ctx);

/* static split, stealable: share id is [n*id/nth, n*(id+1)/nth), in up to 8 contiguous chunks that thread id runs in
   order (so a thread gets the same part of every layer), and that a thread done with its own share takes from the
   share's end (so a thread that runs slower gives up the end of its share); fn(ctx, b, e) once per chunk, never
   empty; n <= 1 or one thread: fn(ctx, 0, n) on the caller */
void pool_for(long n, pool_range_fn fn, void *ctx);

/* the most shares pool_for steals among (more threads: its static split) */
#define POOL_STEAL_MAX 64
/* a share's range [b, e) in up to 8 chunks (pool_for's, and a job of explicit shares that wants the same): its own
   thread takes them from the front, a thread done with its own share from the back (w: front | back << 32) */
typedef struct {
  _Alignas(64) _Atomic unsigned long long w;
  long b, e;
} PoolShare;
void pool_share_set(PoolShare *s, long b, long e);
/* the next chunk [*b, *e) for the thread of share id (of n shares s[0..n-1]; an id >= n only steals): its own first,
   then the others' ends; *d is 0 before the first call; 0 when none is left */
int pool_share_next(PoolShare *s, int n, int id, int *d, long *b, long *e);
/* pool_share_next where there are shares (s not NULL); else, once, the range [*b, *e) the caller set (its static
   share): a job's loop over its chunks either way */
int pool_share_own(PoolShare *s, int n, int id, int *d, long *b, long *e);
/* share i of nth the range [n i / nth, n (i + 1) / nth) (pool_for's split); returns nth, or 0 (nothing set) for fewer
   than two threads or more than POOL_STEAL_MAX */
int pool_shares_even(PoolShare *s, long n, int nth);

/* static split of n elements for cheap per-element work: one contiguous range per thread, but at least
   `grain` elements each (fewer threads for small n, none but the caller below 2 x grain); the
   boundaries are multiples of 64 (no cache line is written by two threads) */
void pool_for_grain(long n, long grain, pool_range_fn fn, void *ctx);
/* the grain of the elementwise ops: elements per thread at least (and of the CLI's reads of a batch,
   which split as they do) */
#define POOL_GRAIN 8192

/* dynamic split: the threads take i = 0, 1, .. n-1 in turn from a shared counter, fn(ctx, i, i+1)
   (the replacement of schedule(dynamic, 1): for items of uneven cost) */
void pool_for_dyn(long n, pool_range_fn fn, void *ctx);
#endif
