/* cli.h: the whole `run` / `runq` command as a function (cli.c). cli_main returns the exit status
 * (0, 1 for a bad input, 2 for a usage error) after printing what main() would print; every error
 * path frees what it took, so it may be called many times in one process (the CLI fuzz target). */
#ifndef TINYRUNTIME_CLI_H
#define TINYRUNTIME_CLI_H
int cli_main(int argc, char **argv);
#endif
