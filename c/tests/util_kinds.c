/* util_kinds.c: the C tests link the executor for every kind (the binaries: bin_run.c, bin_runq.c). */
#include "engine.h"

const char *ENGINE_BINARY = "test";
int engine_supports(uint32_t kind) { return kind >= KIND_F32 && kind <= KIND_SQ8; }
