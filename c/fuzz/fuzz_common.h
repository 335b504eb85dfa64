/* fuzz_common.h: what the fuzz targets share (fuzz_common.c): limits small enough that one input
 * costs milliseconds, the model-file fix-ups of the custom mutator (file_size, the version-2 CRC-32),
 * and scratch files. Each target file defines fuzz_<name>_one() and, unless FUZZ_NO_ENTRY is
 * defined (the plain C test that replays c/fuzz/regress/ includes the target files), libFuzzer's
 * LLVMFuzzerTestOneInput. */
#ifndef TINYRUNTIME_FUZZ_COMMON_H
#define TINYRUNTIME_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>

/* environment of every target: small resource limits (kept if already set), one thread */
void fuzz_setup(void);
/* zlib's CRC-32 (IEEE), continuing from crc (0 to start), as Python's zlib.crc32 */
uint32_t fuzz_crc32(uint32_t crc, const uint8_t *p, size_t n);
/* make a model file in buf[0..len) consistent where a fuzzer cannot: the file_size field = len and,
   for version >= 2, the checksum at offset 112 (FORMAT_V2). Does nothing to a buffer without the magic. */
void fuzz_fix_model(uint8_t *buf, size_t len);
/* a fresh private folder (made once per process), its path */
const char *fuzz_tmpdir(void);
/* writes n bytes to path (0 ok) */
int fuzz_write(const char *path, const void *p, size_t n);
/* removes everything under dir (dir stays) */
void fuzz_clear(const char *dir);
/* a deterministic input batch for a model: n floats from seed, with special values (0, +-inf, NaN,
   huge, tiny) mixed in when seed says so */
void fuzz_fill_input(float *x, size_t n, uint32_t seed);
#endif
