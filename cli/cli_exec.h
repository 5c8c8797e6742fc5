/* cli_exec.h — the commands of `deepedge-exec` (main_exec.c): those that train or execute,
 * linking the training engine, MPI and CUDA (cli.h says why they are apart). */
#ifndef DE_CLI_EXEC_H
#define DE_CLI_EXEC_H

#include "cli.h"
#include "de_train.h"

int de_cmd_train(int argc, char **argv);
int de_cmd_dataset(int argc, char **argv);
int de_cmd_run(int argc, char **argv);
int de_cmd_worker(int argc, char **argv);          /* internal: one MPI rank of `run` */
int de_cmd_lc(int argc, char **argv);              /* internal: one LC service of `run` */
int de_cmd_profile(int argc, char **argv);
int de_cmd_allreduce(int argc, char **argv);       /* internal: one rank of profile's all-reduce timing */
int de_cmd_bench_heavy(int argc, char **argv);     /* `bench train|exec` (cmd_bench_train.c) */
int de_bench_exec(int argc, char **argv);          /* `bench exec` (cmd_bench_exec.c) */
void de_bench_exec_help(FILE *out);                /* its usage lines */
int de_cmd_bench_exec_rank(int argc, char **argv); /* internal: one rank of `bench exec` */
int de_cmd_sweep_mpi(int argc, char **argv);       /* internal: one rank of `sweep` under mpiexec */

/* --device cpu|cuda; otherwise a message and -1 (cmd_train.c). */
int de_cli_backend(const char *s, de_backend *out);

#endif
