/* bin_runq.c: the kinds the `runq` binary accepts (the executor runs every kind). */
#include "engine.h"

const char *ENGINE_BINARY = "runq";
int engine_supports(uint32_t kind) { return kind == KIND_DQ8 || kind == KIND_SQ8; }
