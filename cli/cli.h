/* cli.h — the subcommands of the `deepedge` program: one file each (cmd_*.c), one table
 * of them (main.c), the option helpers they share (cli_args.c). */
#ifndef DE_CLI_H
#define DE_CLI_H

#include <stdio.h>

#include "de_error.h"
#include "de_scenario.h"
#include "de_train.h"

/* Exit codes of every subcommand. */
enum { DE_EXIT_OK = 0, DE_EXIT_ERROR = 1, DE_EXIT_INFEASIBLE = 2 };

/* One row of the command table: `deepedge NAME ARGS` runs run(argc, argv) with argv[0]
 * the command's name; help NULL: an internal command, not listed. */
typedef struct de_cli_command {
    const char *name;
    const char *args;
    const char *help;
    int (*run)(int argc, char **argv);
} de_cli_command;

int de_cmd_plan(int argc, char **argv);
int de_cmd_scenario(int argc, char **argv);
int de_cmd_bench(int argc, char **argv);
int de_cmd_sim(int argc, char **argv);
int de_cmd_sweep(int argc, char **argv);
int de_cmd_fit(int argc, char **argv);
int de_cmd_train(int argc, char **argv);
int de_cmd_dataset(int argc, char **argv);
int de_cmd_run(int argc, char **argv);
int de_cmd_worker(int argc, char **argv); /* internal: one MPI rank of `run` */
int de_cmd_lc(int argc, char **argv);     /* internal: one LC service of `run` */
int de_cmd_profile(int argc, char **argv);
int de_cmd_allreduce(int argc, char **argv);       /* internal: one rank of profile's all-reduce timing */
int de_bench_exec(int argc, char **argv);          /* `bench exec` (cmd_bench_exec.c) */
void de_bench_exec_help(FILE *out);                /* its usage lines, for `bench --help` */
int de_cmd_bench_exec_rank(int argc, char **argv); /* internal: one rank of `bench exec` */

/* ---- cli_args.c ---- */

/* Prints "deepedge: MESSAGE" to stderr; returns DE_EXIT_ERROR. */
int de_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict integer / float option parsing: the whole string must be a number in
 * [min, max]; otherwise a message naming the option. */
int de_cli_int(const char *opt, const char *s, long long min, long long max, long long *out);
int de_cli_float(const char *opt, const char *s, double min, double max, double *out);
/* --device cpu|cuda; otherwise a message and -1. */
int de_cli_backend(const char *s, de_backend *out);

#endif
