/* gomp_musl_shim.c: the two glibc-only symbols that GCC's libgomp.a (built against glibc) references,
 * for a static musl link of the amd64 device binaries (scripts/devices.sh). Nothing else differs: libgomp's
 * locks are futexes, and musl mirrors glibc's sysconf names. Binding threads through an attribute is not
 * in musl: with OMP_PROC_BIND/OMP_PLACES set, threads simply run unbound (libgomp ignores the error). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

long __sysconf(int name);
int pthread_attr_setaffinity_np(pthread_attr_t *attr, size_t size, const cpu_set_t *set);

long __sysconf(int name) { return sysconf(name); }

int pthread_attr_setaffinity_np(pthread_attr_t *attr, size_t size, const cpu_set_t *set) {
  (void)attr, (void)size, (void)set;
  return ENOSYS;
}
