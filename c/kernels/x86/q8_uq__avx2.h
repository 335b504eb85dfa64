/* q8_uq__avx2.h: sq8's unsigned-quad layout on AVX2-class CPUs, shared by q8_gemm_4x16__avx2.c (vpmaddubsw, which
 * saturates: its tiles carry corrections) and q8_gemm_4x16__avxvnni.c (vpdpbusd on ymm, which does not: "whole" tiles,
 * the quads as they are). X: each activation as x ^ 0x80 = x + 128 (0..255), 4 consecutive k of a column in one
 * 32-bit lane, a panel of 16 columns 64 bytes a quad. A tile: 4 rows x kq quads of 4 weight bytes, after a header of
 * int32 comp[4] (-128 x each row's weight sum: the sum of w (x + 128) less 128 x the row's sum is the sum of w x) and
 * int32 n[4] (the rows' correction entries: always 0 in a whole tile). Defined in q8_gemm_4x16__avx2.c (built for
 * AVX2; every AVX-VNNI CPU runs AVX2). */
#ifndef TINYRUNTIME_Q8_UQ_AVX2_H
#define TINYRUNTIME_Q8_UQ_AVX2_H
#include <stddef.h>
#include <stdint.h>

enum { UQ_HDR = 32 };
/* a tile's bytes: with room for corrections (2 bytes a weight, as the i16x2 layout's), or whole (1 byte a weight) */
static inline size_t uq_tile_bytes(size_t kq) { return UQ_HDR + 32 * kq; }
static inline size_t uqw_tile_bytes(size_t kq) { return UQ_HDR + 16 * kq; }

size_t q8_uq_a_elems__avx2(int M, int G, int gs);
size_t q8_uqw_a_elems__avx2(int M, int G, int gs);
/* whole tiles from rows (pack_w) or from the file's blocks (pack_w_blk) */
void q8_uqw_pack_w__avx2(int M, int G, int gs, const int8_t *w, const int8_t *wz, int16_t *A);
int q8_uqw_pack_w_blk__avx2(int M, int G, int gs, int T, const int8_t *w, int R, const int8_t *wz, int16_t *A);
/* X: one value, a column range's im2col, an image's (the descriptor's put_x, get_x, im2col_cols, im2col_i8) */
void q8_uq_put_x__avx2(int16_t *X, size_t pstride, int k, int p, int v);
int q8_uq_get_x__avx2(const int16_t *X, size_t pstride, int k, int p);
void q8_uq_im2col_cols__avx2(const int8_t *xp, int Hp, int Wp, int kh, int kw, int sh, int sw, int dh, int dw, int OH, int OW,
                             int32_t zx, int K, int p0, int p1, int16_t *X, ptrdiff_t pstride);
void q8_uq_im2col_i8__avx2(const int8_t *x, int H, int W, int ci0, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                           int OH, int OW, int32_t zx, int k0, int k1, int16_t *X, ptrdiff_t pstride);
#endif
