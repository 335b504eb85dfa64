/* pool.c: see pool.h.
 *
 * A job is published by writing P.fn / P.ctx / P.nth, setting P.pending to the number of workers and
 * then moving the generation counter P.gen (release); a worker that sees a new generation (acquire)
 * reads the job, runs its share and decrements P.pending; the caller runs share 0 and waits for
 * P.pending == 0 (acquire), so the job's fields are never rewritten while a worker may read them and
 * every worker sees every job. Waiting is a short spin, then a futex sleep: a sleeper announces
 * itself (P.sleepers, P.caller_sleeps) before it re-checks the word it sleeps on, and the waker checks
 * the announcement after its change (all seq_cst), so no wake-up is lost and none is a needless
 * system call while everyone spins. A job with fn == NULL and nth below the worker count stops the
 * workers whose id >= nth (pool_set_threads). */
#define _GNU_SOURCE
#include "pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 4096 /* the CLI's --threads limit */
#define SPIN 4096        /* polls (with a pause) before sleeping: ~0.05-0.5 ms, longer than most gaps between ops */

static struct {
  pool_fn fn; /* the job: written only while no worker runs one */
  void *ctx;
  int nth;
  _Atomic uint32_t gen;     /* moves once per job */
  _Atomic uint32_t pending; /* workers not done with the job */
  _Atomic int sleepers;     /* workers asleep (or about to be) on gen */
  _Atomic int caller_sleeps;
  int want;   /* threads asked for; 0: the default */
  int made;   /* workers running: ids 1..made */
  int failed; /* pthread_create refused: do not retry until the count changes */
  uint32_t born_gen[MAX_THREADS]; /* gen when worker id was made (written before pthread_create) */
  pthread_t tid[MAX_THREADS];
} P;

static _Thread_local int in_job; /* this thread is inside a job (or is a worker) */

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void futex_wait(_Atomic uint32_t *w, uint32_t val) {
  syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *w, int n) { syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0); }

/* ---------------------------------------------------------------- workers */

/* the next generation after `seen` (spin, then sleep) */
static uint32_t wait_gen(uint32_t seen) {
  for (int i = 0; i < SPIN; i++) {
    uint32_t g = atomic_load_explicit(&P.gen, memory_order_acquire);
    if (g != seen) return g;
    cpu_relax();
  }
  for (;;) {
    atomic_fetch_add(&P.sleepers, 1);
    if (atomic_load(&P.gen) == seen) futex_wait(&P.gen, seen);
    atomic_fetch_sub(&P.sleepers, 1);
    uint32_t g = atomic_load_explicit(&P.gen, memory_order_acquire);
    if (g != seen) return g;
  }
}

static void *worker(void *arg) {
  int id = (int)(intptr_t)arg;
  uint32_t seen = P.born_gen[id];
  in_job = 1;
  for (;;) {
    seen = wait_gen(seen);
    int nth = P.nth, quit = id >= nth;
    if (!quit) P.fn(P.ctx, id, nth);
    if (atomic_fetch_sub(&P.pending, 1) == 1 && atomic_load(&P.caller_sleeps)) futex_wake(&P.pending, 1);
    if (quit) return NULL;
  }
}

/* ---------------------------------------------------------------- the caller's side */

/* publish a job for every worker (see the top) */
static void publish(pool_fn fn, void *ctx, int nth) {
  P.fn = fn, P.ctx = ctx, P.nth = nth;
  atomic_store_explicit(&P.pending, (uint32_t)P.made, memory_order_relaxed);
  atomic_fetch_add(&P.gen, 1);
  if (atomic_load(&P.sleepers)) futex_wake(&P.gen, P.made);
}

static void wait_done(void) {
  for (int i = 0; i < SPIN; i++) {
    if (!atomic_load_explicit(&P.pending, memory_order_acquire)) return;
    cpu_relax();
  }
  for (;;) {
    atomic_store(&P.caller_sleeps, 1);
    uint32_t v = atomic_load(&P.pending);
    if (v) futex_wait(&P.pending, v);
    atomic_store(&P.caller_sleeps, 0);
    if (!atomic_load_explicit(&P.pending, memory_order_acquire)) return;
  }
}

/* workers up to ids 1..n-1 (as many as the system gives) */
static void grow(int n) {
  while (!P.failed && P.made < n - 1) {
    int id = P.made + 1;
    P.born_gen[id] = atomic_load_explicit(&P.gen, memory_order_relaxed);
    if (pthread_create(&P.tid[id], NULL, worker, (void *)(intptr_t)id)) P.failed = 1;
    else P.made = id;
  }
}

static int default_threads(void) {
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n;
}

int pool_threads(void) {
  if (!P.want) P.want = default_threads();
  return P.want < MAX_THREADS ? P.want : MAX_THREADS;
}

void pool_set_threads(int n) {
  if (in_job) return;
  P.want = n < 1 ? 0 : n, P.failed = 0;
  int keep = pool_threads() - 1;
  if (P.made <= keep) return;
  publish(NULL, NULL, keep + 1); /* workers with id > keep return */
  wait_done();
  for (int id = keep + 1; id <= P.made; id++) pthread_join(P.tid[id], NULL);
  P.made = keep;
}

void pool_run(pool_fn fn, void *ctx) {
  int n = in_job ? 1 : pool_threads();
  if (n > 1) grow(n);
  if (n == 1 || P.made == 0) {
    fn(ctx, 0, 1);
    return;
  }
  publish(fn, ctx, P.made + 1);
  in_job = 1;
  fn(ctx, 0, P.made + 1);
  in_job = 0;
  wait_done();
}

/* ---------------------------------------------------------------- loops */

typedef struct {
  long n;
  pool_range_fn fn;
  void *ctx;
  _Atomic long next; /* pool_for_dyn: the next item to take */
} Loop;

static void static_share(void *arg, int id, int nth) {
  Loop *l = arg;
  long b = l->n * id / nth, e = l->n * (id + 1) / nth;
  if (b < e) l->fn(l->ctx, b, e);
}

static void dynamic_share(void *arg, int id, int nth) {
  (void)id, (void)nth;
  Loop *l = arg;
  for (long i; (i = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed)) < l->n;) l->fn(l->ctx, i, i + 1);
}

void pool_for(long n, pool_range_fn fn, void *ctx) {
  if (n <= 0) return;
  if (n == 1 || in_job || pool_threads() == 1) {
    fn(ctx, 0, n);
    return;
  }
  Loop l = {n, fn, ctx, 0};
  pool_run(static_share, &l);
}

void pool_for_dyn(long n, pool_range_fn fn, void *ctx) {
  if (n <= 0) return;
  Loop l = {n, fn, ctx, 0};
  if (n == 1 || in_job || pool_threads() == 1) dynamic_share(&l, 0, 1);
  else pool_run(dynamic_share, &l);
}
