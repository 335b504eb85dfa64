/* test_pool.c: the thread pool (src/pool.h). pool_for and pool_for_dyn must call fn on every index of
 * [0, n) exactly once (pool_for: at most 8 contiguous ranges a thread, and a sleeping thread's share taken over by
 * the other; pool_for_grain: ranges of at least the
 * grain, inner boundaries multiples of 64) for awkward n and thread
 * counts, many jobs in a row (a lost wake-up hangs here, a data race shows under TSan); a pool call
 * from inside a job runs on that thread; the count can shrink and grow between jobs. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "util_writer.h"

#define MAXN 1000

typedef struct {
  _Atomic int hits[MAXN];
  _Atomic int calls;
  _Atomic int bad; /* an empty or (grain) short or unaligned range, or a nested job that was not serial */
  long n;
} Count;

static void count_range(void *arg, long b, long e) {
  Count *c = arg;
  atomic_fetch_add(&c->calls, 1);
  if (b >= e) atomic_fetch_add(&c->bad, 1);
  for (long i = b; i < e; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void count_grain(void *arg, long b, long e) {
  Count *c = arg;
  if (e - b < 100 - 63 && !(b == 0 && e == c->n)) atomic_fetch_add(&c->bad, 1); /* grain 100, less the alignment */
  if (b % 64 || (e % 64 && e != c->n)) atomic_fetch_add(&c->bad, 1);
  count_range(arg, b, e);
}
static void grain_loop(long n, pool_range_fn fn, void *ctx) { pool_for_grain(n, 100, fn == count_range ? count_grain : fn, ctx); }

/* every index once, and (pool_for) at most 8 calls a thread (its share's chunks), (grain) one; kind 0: pool_for, 1: dyn,
   2: grain */
static void check_loop(int kind, long n, int threads) {
  static Count c;
  memset(&c, 0, sizeof c);
  c.n = n;
  (kind == 0 ? pool_for : kind == 1 ? pool_for_dyn : grain_loop)(n, count_range, &c);
  int dyn = kind == 1;
  int once = 1;
  for (long i = 0; i < n; i++) once &= c.hits[i] == 1;
  CHECK(once, "%s n=%ld threads=%d: an index was not run exactly once", dyn ? "pool_for_dyn" : "pool_for", n, threads);
  CHECK(!c.bad, "n=%ld threads=%d: an empty, short or unaligned range", n, threads);
  if (kind == 0) CHECK(c.calls <= (8 * threads < n ? 8 * threads : n), "pool_for n=%ld threads=%d: %d calls", n, threads, (int)c.calls);
  if (kind == 2) CHECK(c.calls <= (n / 100 > 1 ? (threads < n / 100 ? threads : n / 100) : 1), "pool_for_grain n=%ld threads=%d: %d calls", n, threads, (int)c.calls);
  if (dyn) CHECK(c.calls == n, "pool_for_dyn n=%ld: %d calls", n, (int)c.calls);
}

/* pool_for's shares are stealable: the thread that takes share 1's first item sleeps there, and the rest of share 1
   must then be run by the other thread, which is done with share 0 (checked where both threads took part) */
typedef struct {
  _Atomic unsigned long who[64];
  long first1;
} Steal;
static void sleepy(void *arg, long b, long e) {
  Steal *st = arg;
  for (long i = b; i < e; i++) atomic_store(&st->who[i], (unsigned long)pthread_self());
  if (b == st->first1) nanosleep(&(struct timespec){0, 30 * 1000 * 1000}, NULL);
  for (int w = 0; b == 0 && w < 2000 && !atomic_load(&st->who[st->first1]); w++)   /* share 0 waits (up to 200 ms) for */
    nanosleep(&(struct timespec){0, 100 * 1000}, NULL);                          /* share 1 to start elsewhere */
}
static void check_steal(void) {
  static Steal st;
  memset(&st, 0, sizeof st);
  st.first1 = 32;   /* share 1 of 2 over 64 items: [32, 64) in chunks of 4 */
  pool_for(64, sleepy, &st);
  unsigned long t0 = st.who[0], t1 = st.who[32];
  int others = 0;
  for (int i = 33; i < 64; i++) others += st.who[i] != t1;
  if (t0 != t1) CHECK(others > 0, "pool_for: share 1's rest was not taken while its thread slept");
}

/* a job whose shares start another: it must run serially on the calling thread */
static void inner(void *arg, long b, long e) { atomic_fetch_add((_Atomic int *)arg, (int)(e - b)); }
static void outer(void *arg, int id, int nth) {
  (void)id, (void)nth;
  _Atomic int sum = 0;
  pool_for(100, inner, &sum);
  if (sum != 100) atomic_fetch_add(&((Count *)arg)->bad, 1);
}

int main(void) {
  const int counts[] = {1, 2, 3, 7, 2, 1};
  const long sizes[] = {0, 1, 2, 3, 5, 16, 17, 199, 200, 333, 999};
  int reps = test_quick() ? 200 : 2000;
  for (size_t t = 0; t < sizeof counts / sizeof *counts; t++) {
    pool_set_threads(counts[t]);
    CHECK(pool_threads() == counts[t], "pool_threads %d after pool_set_threads(%d)", pool_threads(), counts[t]);
    for (int r = 0; r < reps; r++)
      for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) check_loop(r % 3, sizes[s], counts[t]);
    static Count c;
    memset(&c, 0, sizeof c);
    pool_run(outer, &c);
    CHECK(!c.bad, "threads=%d: a pool call inside a job was not serial", counts[t]);
    /* idle long enough for the workers to sleep, then a job must still wake them */
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    check_loop(0, 999, counts[t]);
  }
  pool_set_threads(2);
  for (int r = 0; r < 3; r++) check_steal();
  pool_set_threads(0);
  CHECK(pool_threads() >= 1, "default thread count %d", pool_threads());
  check_loop(1, 999, pool_threads());
  if (g_failures) {
    fprintf(stderr, "test_pool: %d failure(s)\n", g_failures);
    return 1;
  }
  printf("test_pool: ok\n");
  return 0;
}
