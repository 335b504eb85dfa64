/* crc32__ref.c: the portable CRC-32s (src/crc32.h): bytewise (the oracle) and slicing-by-16. The
 * tables are made on first use (the loader calls this before any thread starts). */
#include "../../src/crc32.h"

static uint32_t tab[16][256];
static int ready;

static void init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    tab[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 16; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xFF];
  ready = 1;
}

uint32_t crc32_bytewise(uint32_t crc, const void *buf, size_t n) {
  if (!ready) init();
  const unsigned char *p = buf;
  uint32_t c = ~crc;
  while (n--) c = tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t crc32_slice16(uint32_t crc, const void *buf, size_t n) {
  if (!ready) init();
  const unsigned char *p = buf;
  uint32_t c = ~crc;
  for (; n >= 16; n -= 16, p += 16) {
    uint32_t a = c ^ le32(p), b = le32(p + 4), d = le32(p + 8), e = le32(p + 12);
    c = tab[15][a & 0xFF] ^ tab[14][(a >> 8) & 0xFF] ^ tab[13][(a >> 16) & 0xFF] ^ tab[12][a >> 24] ^
        tab[11][b & 0xFF] ^ tab[10][(b >> 8) & 0xFF] ^ tab[9][(b >> 16) & 0xFF] ^ tab[8][b >> 24] ^
        tab[7][d & 0xFF] ^ tab[6][(d >> 8) & 0xFF] ^ tab[5][(d >> 16) & 0xFF] ^ tab[4][d >> 24] ^
        tab[3][e & 0xFF] ^ tab[2][(e >> 8) & 0xFF] ^ tab[1][(e >> 16) & 0xFF] ^ tab[0][e >> 24];
  }
  while (n--) c = tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}
