/* amx_tiles.h: the AMX tile configuration, shared by the AMX kernel files (q8_gemm_32x32__amx.c, which holds
 * amx_tiles_cur, and q8_dq8gemm_16x32__amx.c). A kernel call loads its configuration only where the thread's
 * current one differs, and leaves the tiles configured when it returns (no TILERELEASE): every kernel zeroes or
 * loads each tile before it reads it. LDTILECFG with the TILERELEASE before it took ~0.33 us a call (Sapphire
 * Rapids): a 64 x 64 sq8 GEMM of K = 64, four 32 x 32 micro-tiles, took 1.6x the time of the same micro-tiles in
 * one call (standalone loop, one thread, ResNet50's 256 x 64 x 3136 layer: 170 -> 105 us in calls of 64 columns,
 * 113 -> 97 in calls of 256). A thread's AMX state then stays in use until it exits (Linux saves it with the rest of
 * the thread's registers when it switches threads). A new thread's amx_tiles_cur starts zeroed (palette 0, which no
 * kernel loads), so its first call loads the configuration whatever its tiles hold. Nothing else here releases the
 * tiles (a TILERELEASE elsewhere would have to zero amx_tiles_cur too). */
#ifndef TINYRUNTIME_AMX_TILES_H
#define TINYRUNTIME_AMX_TILES_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} TileCfg;

extern _Thread_local TileCfg amx_tiles_cur;   /* the configuration this thread's tiles hold (palette 0: none) */

/* configure the tiles as c (palette 1), unless they already are */
static inline void amx_tiles_use(const TileCfg *c) {
  if (memcmp(c, &amx_tiles_cur, sizeof *c) == 0) return;
  _tile_loadconfig(c);
  amx_tiles_cur = *c;
}

/* all eight tiles 16 rows of 64 bytes (the sq8 GEMM's and implicit convolution's) */
static inline void amx_tiles_use_16x64(void) {
  static _Alignas(64) const TileCfg c = { .palette = 1, .colsb = { 64, 64, 64, 64, 64, 64, 64, 64 },
                                          .rows = { 16, 16, 16, 16, 16, 16, 16, 16 } };
  amx_tiles_use(&c);
}
#endif
