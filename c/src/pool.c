/* pool.c: see pool.h.
 *
 * A job is nth shares; share i is fn(ctx, i, nth), run once by whichever thread claims it first
 * (P.taken[i]): each thread claims the share of its own id first, then any share left (P.next), so
 * a worker that is late (asleep, or descheduled on a busy machine) costs the job nothing but its
 * share, which the others take; joining a job is optional for a worker.
 *
 * P.state is the job's word: odd while a job is open, even once it is closed; every change makes it
 * a new value. The caller writes the job, opens it (release), runs shares until none is left,
 * closes it, and waits until no worker is inside (P.active == 0). A worker enters by incrementing
 * P.active and then reading P.state: if it is open, the job's fields stay as they are until it
 * leaves (the caller closes first and then waits for P.active == 0; all seq_cst, so either the caller
 * sees the worker inside or the worker sees the job closed). Waiting is a short spin, then a futex
 * sleep: a sleeper announces itself (P.sleepers, P.caller_sleeps) before it re-checks the word it
 * sleeps on, and the waker checks the announcement after its change, so no wake-up is lost and none is
 * a needless system call while everyone spins. pool_set_threads stops extra workers with P.limit. */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* the futex ABI's two calls (linux/futex.h's values: the release build's musl headers leave out the kernel's) */
#define FUTEX_WAIT_PRIVATE 128   /* FUTEX_WAIT 0 | FUTEX_PRIVATE_FLAG 128 */
#define FUTEX_WAKE_PRIVATE 129   /* FUTEX_WAKE 1 | FUTEX_PRIVATE_FLAG */

#define MAX_THREADS 4096 /* the CLI's --threads limit */
#define SPIN_NS 200000   /* spin this long before sleeping: longer than the gaps between ops */

static struct {
  pool_fn fn; /* the job: written only while it is closed and no worker is inside */
  void *ctx;
  int nth;
  _Atomic uint32_t state;   /* odd: a job is open; each open / close / stop makes a new value */
  _Atomic uint32_t active;  /* workers inside the job */
  _Atomic int next;         /* shares not yet offered to stealers: next..nth-1 */
  _Atomic int limit;        /* workers with id >= limit stop */
  _Atomic int sleepers;     /* workers asleep (or about to be) on state */
  _Atomic int caller_sleeps;
  int want;   /* threads asked for; 0: the default */
  int made;   /* workers running: ids 1..made */
  int failed; /* pthread_create refused: do not retry until the count changes */
  _Atomic unsigned char taken[MAX_THREADS]; /* share i claimed */
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

/* a waiter's spin budget: polls(&s) is 1 (after a pause) until SPIN_NS have passed since its first call */
typedef struct {
  unsigned polls;
  int64_t t0;
} Spin;

static int polls(Spin *s) {
  if (s->polls++ % 256 == 0) { /* the clock every 256 polls (a pause is 1-150 cycles, by CPU) */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (s->polls == 1) s->t0 = t;
    else if (t - s->t0 > SPIN_NS) return 0;
  }
  cpu_relax();
  return 1;
}

static void futex_wait(_Atomic uint32_t *w, uint32_t val) {
  syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *w, int n) { syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0); }

/* the shares this thread can claim: its own (id < nth), then any left; each run once */
static void run_shares(int id) {
  pool_fn fn = P.fn;
  void *ctx = P.ctx;
  int nth = P.nth;
  if (id < nth && !atomic_exchange_explicit(&P.taken[id], 1, memory_order_relaxed)) fn(ctx, id, nth);
  for (int i; (i = atomic_fetch_add_explicit(&P.next, 1, memory_order_relaxed)) < nth;)
    if (!atomic_exchange_explicit(&P.taken[i], 1, memory_order_relaxed)) fn(ctx, i, nth);
}

/* ---------------------------------------------------------------- workers */

/* the next open job's state after `seen` (spin, then sleep); 0 when this worker must stop */
static uint32_t wait_open(uint32_t seen, int id) {
  for (Spin sp = {0, 0};;) {
    if (id >= atomic_load_explicit(&P.limit, memory_order_relaxed)) return 0;
    uint32_t st = atomic_load_explicit(&P.state, memory_order_relaxed);
    if (st != seen && (st & 1)) return st;
    if (polls(&sp)) continue;
    atomic_fetch_add(&P.sleepers, 1);
    if (atomic_load(&P.state) == st && id < atomic_load(&P.limit)) futex_wait(&P.state, st);
    atomic_fetch_sub(&P.sleepers, 1);
  }
}

static void *worker(void *arg) {
  int id = (int)(intptr_t)arg;
  in_job = 1;
  for (uint32_t seen = 0;;) {
    if (!wait_open(seen, id)) return NULL;
    atomic_fetch_add(&P.active, 1);
    uint32_t st = atomic_load(&P.state); /* acquire: the job's fields */
    if (st & 1) run_shares(id);
    seen = st;
    if (atomic_fetch_sub(&P.active, 1) == 1 && atomic_load(&P.caller_sleeps)) futex_wake(&P.active, 1);
  }
}

/* ---------------------------------------------------------------- the caller's side */

/* a new value of P.state (odd: open), and the sleepers woken */
static void set_state(int open) {
  uint32_t st = atomic_load_explicit(&P.state, memory_order_relaxed) + 1;
  if ((st & 1) != (uint32_t)open) st++;
  atomic_store(&P.state, st);
  if (open && atomic_load(&P.sleepers)) futex_wake(&P.state, P.made);
}

/* close the open job and wait until no worker is inside */
static void close_job(void) {
  set_state(0);
  for (Spin sp = {0, 0}; atomic_load(&P.active);) {
    if (polls(&sp)) continue;
    atomic_store(&P.caller_sleeps, 1);
    uint32_t v = atomic_load(&P.active);
    if (v) futex_wait(&P.active, v);
    atomic_store(&P.caller_sleeps, 0);
  }
}

/* workers up to ids 1..n-1 (as many as the system gives) */
static void grow(int n) {
  if (atomic_load_explicit(&P.limit, memory_order_relaxed) != n) atomic_store(&P.limit, n); /* the spinners' line */
  /* each worker's stack 1 MiB whichever libc links (glibc's default 8 MiB, musl's 128 KiB): the kernels' largest
     frames are ~22 KB, and only the pages touched count */
  pthread_attr_t attr;
  int init = pthread_attr_init(&attr) == 0, sized = init && pthread_attr_setstacksize(&attr, (size_t)1 << 20) == 0;
  while (!P.failed && P.made < n - 1) {
    int id = P.made + 1;
    if (pthread_create(&P.tid[id], sized ? &attr : NULL, worker, (void *)(intptr_t)id)) P.failed = 1;
    else P.made = id;
  }
  if (init) pthread_attr_destroy(&attr);
}

static int default_threads(void) {
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n;
}

int pool_threads(void) {
  if (in_job) return 1;   /* a job's pool_* calls run serially on its thread */
  if (!P.want) P.want = default_threads();
  return P.want < MAX_THREADS ? P.want : MAX_THREADS;
}

void pool_set_threads(int n) {
  if (in_job) return;
  P.want = n < 1 ? 0 : n, P.failed = 0;
  int keep = pool_threads() - 1;
  if (P.made <= keep) return;
  atomic_store(&P.limit, keep + 1); /* workers with id > keep return */
  set_state(0);                     /* a new value: wakes the sleepers' futex_wait */
  futex_wake(&P.state, P.made);
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
  P.fn = fn, P.ctx = ctx, P.nth = P.made + 1;
  atomic_store_explicit(&P.next, 0, memory_order_relaxed);
  for (int i = 0; i < P.nth; i++) atomic_store_explicit(&P.taken[i], 0, memory_order_relaxed);
  set_state(1);
  in_job = 1;
  run_shares(0);
  in_job = 0;
  close_job();
}

/* ---------------------------------------------------------------- loops */

typedef struct {
  long n, pieces; /* pool_for_grain: n in this many ranges */
  pool_range_fn fn;
  void *ctx;
  _Atomic long next; /* pool_for_dyn: the next item to take */
} Loop;

static void static_share(void *arg, int id, int nth) {
  Loop *l = arg;
  long b = l->n * id / nth, e = l->n * (id + 1) / nth;
  if (b < e) l->fn(l->ctx, b, e);
}

static void grain_share(void *arg, int id, int nth) {
  (void)nth;
  Loop *l = arg;
  if (id >= l->pieces) return;
  long b = (l->n * id / l->pieces) & ~63L, e = id + 1 == l->pieces ? l->n : (l->n * (id + 1) / l->pieces) & ~63L;
  if (b < e) l->fn(l->ctx, b, e);
}

static void dynamic_share(void *arg, int id, int nth) {
  (void)id, (void)nth;
  Loop *l = arg;
  for (long i; (i = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed)) < l->n;) l->fn(l->ctx, i, i + 1);
}

/* pool_for's shares, stealable: share i's range [n i / nth, n (i + 1) / nth) in STEAL_CHUNKS chunks, which its own
   thread takes from the front and a thread done with its own share takes from the back (one 64-bit word a share,
   front | back << 32, changed by compare-and-swap), so that a thread that runs slower than the others (a vCPU
   whose host core is busy, a little core) gives up the end of its share instead of holding the job up. Threads
   that keep pace run their own share whole, as a static split. */
enum { STEAL_MAX = POOL_STEAL_MAX, STEAL_CHUNKS = 8 };

void pool_share_set(PoolShare *s, long b, long e) {
  long k = e - b < STEAL_CHUNKS ? e - b : STEAL_CHUNKS;
  s->b = b, s->e = e;
  atomic_store_explicit(&s->w, (unsigned long long)(k > 0 ? k : 0) << 32, memory_order_relaxed);
}
/* a chunk of s from its front (own) or its back (stolen): its index, or -1 when none is left */
static long share_claim(PoolShare *s, int back) {
  unsigned long long w = atomic_load_explicit(&s->w, memory_order_relaxed);
  for (;;) {
    uint32_t lo = (uint32_t)w, hi = (uint32_t)(w >> 32);
    if (lo >= hi) return -1;
    unsigned long long nw = back ? (unsigned long long)lo | (unsigned long long)(hi - 1) << 32
                                 : (unsigned long long)(lo + 1) | (unsigned long long)hi << 32;
    if (atomic_compare_exchange_weak_explicit(&s->w, &w, nw, memory_order_relaxed, memory_order_relaxed))
      return back ? (long)hi - 1 : (long)lo;
  }
}
int pool_share_next(PoolShare *s, int n, int id, int *d, long *b, long *e) {
  int own = id < n, first = own ? id : 0;
  for (; *d < n; ++*d) {   /* its own share, then the others' ends */
    PoolShare *sh = &s[(first + *d) % n];
    long j = share_claim(sh, *d > 0 || !own);
    if (j < 0) continue;
    long len = sh->e - sh->b, k = len < STEAL_CHUNKS ? len : STEAL_CHUNKS;
    *b = sh->b + len * j / k, *e = sh->b + len * (j + 1) / k;
    return 1;
  }
  return 0;
}

int pool_share_own(PoolShare *s, int n, int id, int *d, long *b, long *e) {
  return s ? pool_share_next(s, n, id, d, b, e) : (*d)++ == 0;
}

int pool_shares_even(PoolShare *s, long n, int nth) {
  if (nth < 2 || nth > STEAL_MAX) return 0;
  for (int i = 0; i < nth; i++) pool_share_set(&s[i], n * i / nth, n * (i + 1) / nth);
  return nth;
}

typedef struct {
  int nth;
  pool_range_fn fn;
  void *ctx;
  PoolShare sh[STEAL_MAX];
} Steal;

static void steal_share(void *arg, int id, int nth) {
  (void)nth;   /* (pool_run's, which is l->nth: both P.made + 1 once grown) */
  Steal *l = arg;
  long b, e;
  for (int d = 0; pool_share_next(l->sh, l->nth, id, &d, &b, &e);) l->fn(l->ctx, b, e);
}

void pool_for(long n, pool_range_fn fn, void *ctx) {
  if (n <= 0) return;
  int th = in_job ? 1 : pool_threads();
  if (n == 1 || th == 1) {
    fn(ctx, 0, n);
    return;
  }
  if (th > STEAL_MAX) {
    Loop l = {n, 0, fn, ctx, 0};
    pool_run(static_share, &l);
    return;
  }
  grow(th);
  Steal l;
  l.nth = P.made + 1 < th ? P.made + 1 : th, l.fn = fn, l.ctx = ctx;
  if (!pool_shares_even(l.sh, n, l.nth)) {   /* (no worker could be made) */
    fn(ctx, 0, n);
    return;
  }
  pool_run(steal_share, &l);
}

void pool_for_grain(long n, long grain, pool_range_fn fn, void *ctx) {
  if (n <= 0) return;
  long pieces = n / (grain > 0 ? grain : 1), threads = in_job ? 1 : pool_threads();
  if (pieces > threads) pieces = threads;
  if (pieces <= 1) {
    fn(ctx, 0, n);
    return;
  }
  Loop l = {n, pieces, fn, ctx, 0};
  pool_run(grain_share, &l);
}

void pool_for_dyn(long n, pool_range_fn fn, void *ctx) {
  if (n <= 0) return;
  Loop l = {n, 0, fn, ctx, 0};
  if (n == 1 || in_job || pool_threads() == 1) dynamic_share(&l, 0, 1);
  else pool_run(dynamic_share, &l);
}
