/* bin_run.c: the kinds the `run` binary accepts (the executor runs every kind). */
#include "engine.h"

const char *ENGINE_BINARY = "run";
int engine_supports(uint32_t kind) { return kind == KIND_F32; }
