/* crc32.h: zlib's CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as Python's zlib.crc32), the
 * model file's checksum (FORMAT.md). One function per instruction set, each giving the same result
 * on every input; rt_crc32 is the best this CPU runs, chosen once (cpu.h; TINYRUNTIME_KERNELS=ref
 * takes the portable one). Each takes and returns the zlib value: crc32(crc32(0, a), b) = crc32(0, ab).
 *
 *   bytewise   kernels/ref/crc32__ref.c   one table step per byte: the oracle of the tests
 *   slice16    kernels/ref/crc32__ref.c   portable, 16 bytes per step (16 tables)
 *   pclmul     kernels/x86/crc32__pclmul.c    SSE4.1 + PCLMULQDQ folding (Intel's "Fast CRC Computation
 *                                             for Generic Polynomials Using PCLMULQDQ", 2009)
 *   vpclmul    kernels/x86/crc32__vpclmul.c   the same folding on 4 zmm (AVX-512 + VPCLMULQDQ)
 *   armcrc     kernels/arm/crc32__armcrc.c    the ARMv8 CRC32 instructions (same polynomial) */
#ifndef TINYRUNTIME_CRC32_H
#define TINYRUNTIME_CRC32_H
#include <stddef.h>
#include <stdint.h>

typedef uint32_t (*crc32_fn)(uint32_t crc, const void *buf, size_t n);

uint32_t rt_crc32(uint32_t crc, const void *buf, size_t n);   /* the best for this CPU */
const char *crc32_isa(void);                                  /* its name: "slice16", "vpclmul", ... */
/* zlib's crc32_combine: the CRC of a followed by b from crc_a = crc32(0, a), crc_b = crc32(0, b) and
   len_b, b's length (so parts of a buffer can be summed on different threads) */
uint32_t rt_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
/* the function of a path ("bytewise", "slice16", "pclmul", "vpclmul", "armcrc"), or NULL when this
   build or CPU has none; crc32_path(i) names them in order (NULL past the end), for the tests */
crc32_fn crc32_for(const char *name);
const char *crc32_path(int i);

/* the kernels (crc32_slice16 also finishes the SIMD paths' tails) */
uint32_t crc32_bytewise(uint32_t crc, const void *buf, size_t n);
uint32_t crc32_slice16(uint32_t crc, const void *buf, size_t n);
#if defined(__x86_64__)
uint32_t crc32_pclmul(uint32_t crc, const void *buf, size_t n);
uint32_t crc32_vpclmul(uint32_t crc, const void *buf, size_t n);
#endif
#if defined(__aarch64__)
uint32_t crc32_armcrc(uint32_t crc, const void *buf, size_t n);
#endif
#endif
