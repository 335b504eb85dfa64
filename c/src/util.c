/* util.c: the small helpers every part of the runtime shares (see util.h). */
#define _POSIX_C_SOURCE 200112L
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

void *rt_alloc64(size_t bytes) {
  if (bytes == 0) bytes = 64;
  if (bytes > SIZE_MAX - 64) return NULL;
  bytes = (bytes + 63) / 64 * 64;
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0) return NULL;
  memset(p, 0, bytes);
  return p;
}

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32), slicing by 8: eight
   256-entry tables, built on first use, consume 8 bytes per step (about 1-2 GB/s). */
static uint32_t crc_tab[8][256];
static int crc_ready;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_tab[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
  crc_ready = 1;
}

uint32_t rt_crc32(uint32_t crc, const void *buf, size_t n) {
  if (!crc_ready) crc_init();
  const unsigned char *p = buf;
  uint32_t c = ~crc;
  for (; n && ((uintptr_t)p & 7); n--) c = crc_tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    c = crc_tab[7][lo & 0xFF] ^ crc_tab[6][(lo >> 8) & 0xFF] ^ crc_tab[5][(lo >> 16) & 0xFF] ^ crc_tab[4][lo >> 24] ^
        crc_tab[3][hi & 0xFF] ^ crc_tab[2][(hi >> 8) & 0xFF] ^ crc_tab[1][(hi >> 16) & 0xFF] ^ crc_tab[0][hi >> 24];
  }
  while (n--) c = crc_tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}
