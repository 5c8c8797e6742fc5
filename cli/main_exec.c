/* main_exec.c — `deepedge-exec`: the commands of deepedge that train or execute (cli.h says
 * why they are a program of their own). `deepedge` hands them over unchanged; the
 * coordinator of `run` starts this program again for its workers and LC services. */
#include <stdio.h>
#include <string.h>

#include "cli_calib.h"
#include "cli_exec.h"

static const de_cli_command commands[] = {
    {"train", NULL, NULL, de_cmd_train},
    {"dataset", NULL, NULL, de_cmd_dataset},
    {"run", NULL, NULL, de_cmd_run},
    {"profile", NULL, NULL, de_cmd_profile},
    {"calibrate", NULL, NULL, de_cmd_calibrate},
    {"bench", NULL, NULL, de_cmd_bench_heavy},
    {"_worker", NULL, NULL, de_cmd_worker},
    {"_lc", NULL, NULL, de_cmd_lc},
    {"_allreduce", NULL, NULL, de_cmd_allreduce},
    {"_bench-exec", NULL, NULL, de_cmd_bench_exec_rank},
    {"_sweep-mpi", NULL, NULL, de_cmd_sweep_mpi},
};

int main(int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : "";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    return de_cli_fail("deepedge-exec runs train, dataset, run, profile, calibrate and bench train|exec for deepedge; "
                       "'%s' is not one of them (see deepedge help)", cmd);
}
