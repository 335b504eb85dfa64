/* q8_asm4x16__avx2.h: the asm loop of the AVX2 4 x 16 integer tiles, q8_gemm_4x16__avx2.c's uq_tile (unsigned quads)
 * and q8_i16x2__avx2.h's tile_4x16 (int16 pairs): 4 steps a turn, then the rest one at a time; a step reads 16 bytes
 * of A (4 rows' 4 bytes: ROW(i, r, ...) broadcasts row r's, Q8_ASM_ROW with the tile's multiplies) and 64 of X (16
 * columns), into 8 accumulators c0l..c3h (row r, columns 0-7 and 8-15); Q8_ASM_RUN is the whole asm statement. The accumulators, the two X vectors, the broadcast and one scratch are named
 * registers: written as intrinsics, GCC kept a test and branch in every step (for a prefetch every 4th) or, 4 steps a
 * turn, re-associated the accumulators' vpaddd across the steps and spilled every one of them. */
#ifndef TINYRUNTIME_Q8_ASM4X16_AVX2_H
#define TINYRUNTIME_Q8_ASM4X16_AVX2_H

#define Q8_ASM_STEP(ROW, i) \
  "vmovdqu " #i "*64(%[x]), %[lo]\n\t" "vmovdqu " #i "*64+32(%[x]), %[hi]\n\t" \
  ROW(i, 0, c0l, c0h) ROW(i, 1, c1l, c1h) ROW(i, 2, c2l, c2h) ROW(i, 3, c3l, c3h)
/* the loop over %[k] steps from %[a] and %[x], PF (an instruction, or "") once a turn */
#define Q8_ASM_LOOP(ROW, PF) \
  "sub $4, %[k]\n\t" "jb 2f\n\t" \
  "1:\n\t" PF Q8_ASM_STEP(ROW, 0) Q8_ASM_STEP(ROW, 1) Q8_ASM_STEP(ROW, 2) Q8_ASM_STEP(ROW, 3) \
  "add $64, %[a]\n\t" "add $256, %[x]\n\t" "sub $4, %[k]\n\t" "jae 1b\n\t" \
  "2:\n\t" "add $4, %[k]\n\t" "jz 4f\n\t" \
  "3:\n\t" Q8_ASM_STEP(ROW, 0) "add $16, %[a]\n\t" "add $64, %[x]\n\t" "dec %[k]\n\t" "jnz 3b\n\t" \
  "4:\n\t"
/* a step's row r: its 4 bytes broadcast to %[b], MUL (the products of %[lo] and %[hi] by %[b], as int32 sums, into %[t]
   and %[b]), then added to accumulators L and H */
#define Q8_ASM_ROW(i, r, L, H, MUL) \
  "vpbroadcastd " #i "*16+" #r "*4(%[a]), %[b]\n\t" MUL \
  "vpaddd %[t], %[" #L "], %[" #L "]\n\t" "vpaddd %[b], %[" #H "], %[" #H "]\n\t"
/* the loop on the accumulators c0l..c3h in scope: KC steps from A and X, each row by ROW, PF once a turn; after KC the
   input operands ROW and PF name (none: an empty argument) */
#define Q8_ASM_RUN(ROW, PF, A, X, KC, ...) \
  do { \
    const void *q8a_ = (A), *q8x_ = (X); \
    size_t q8k_ = (KC); \
    __m256i q8lo_, q8hi_, q8b_, q8t_; \
    __asm__(Q8_ASM_LOOP(ROW, PF) \
            : [c0l] "+x"(c0l), [c0h] "+x"(c0h), [c1l] "+x"(c1l), [c1h] "+x"(c1h), [c2l] "+x"(c2l), [c2h] "+x"(c2h), \
              [c3l] "+x"(c3l), [c3h] "+x"(c3h), [lo] "=&x"(q8lo_), [hi] "=&x"(q8hi_), [b] "=&x"(q8b_), [t] "=&x"(q8t_), \
              [a] "+r"(q8a_), [x] "+r"(q8x_), [k] "+r"(q8k_) \
            : __VA_ARGS__ \
            : "memory", "cc"); \
  } while (0)
#endif
