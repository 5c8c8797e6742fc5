/* main.c — the `deepedge` command: one program, subcommands (see README.md). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "deepedge %s — plans and runs DNN re-training on a heterogeneous edge cluster\n"
            "next to latency-critical applications.\n\n"
            "usage: deepedge COMMAND [ARGS]   (deepedge COMMAND --help for details)\n\n"
            "commands:\n"
            "  plan SCENARIO       compute a plan (which devices, which local batches) and print it\n"
            "  scenario ...        generate random scenarios, show one resolved, print the key tables\n"
            "  fit TRACE --model K fit a performance model to a trace; fit --all rebuilds the catalog\n"
            "  sim SCENARIO        simulate: LC requests, update jobs, faults, re-planning; metrics + figures\n"
            "  sweep SCENARIO      what-if grid of simulations (--vary KEY=V1,V2,...) in parallel\n"
            "  train --data DIR|--synthetic   train a CNN (CPU or CUDA): loss/accuracy per epoch, checkpoints\n"
            "  dataset synth|cache DIR        generate a Caltech-layout folder / decode one into a cache\n"
            "  run SCENARIO|PLAN   execute a plan: MPI workers train the CNN next to real LC services\n"
            "  profile --out PREFIX  measure this host under emulated CPU budgets into step/lc/allreduce traces\n"
            "  bench plan|sim-engine|sim-scale|train|exec   benchmarks (planning, PHOLD, 1,000-device day,\n"
            "                      training, data-parallel executor overhead)\n"
            "  help                this text\n"
            "  version             the version\n\n"
            "Exit status: 0 success, 1 error (message on stderr), 2 no plan meets every deadline.\n",
            DE_VERSION);
}

int de_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("deepedge: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return DE_EXIT_ERROR;
}

int de_cli_int(const char *opt, const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max) {
        de_cli_fail("%s: '%s' is not an integer in [%lld, %lld]", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int de_cli_float(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max) {
        de_cli_fail("%s: '%s' is not a number in [%g, %g]", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DE_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "plan") == 0)
        return de_cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "scenario") == 0)
        return de_cmd_scenario(argc - 1, argv + 1);
    if (strcmp(cmd, "sim") == 0)
        return de_cmd_sim(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return de_cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "fit") == 0)
        return de_cmd_fit(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0)
        return de_cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "dataset") == 0)
        return de_cmd_dataset(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return de_cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return de_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "profile") == 0)
        return de_cmd_profile(argc - 1, argv + 1);
    /* internal: the processes `deepedge run` starts (not for direct use) */
    if (strcmp(cmd, "_worker") == 0)
        return de_cmd_worker(argc - 1, argv + 1);
    if (strcmp(cmd, "_lc") == 0)
        return de_cmd_lc(argc - 1, argv + 1);
    /* internal: the MPI programs `profile` and `bench exec` start */
    if (strcmp(cmd, "_allreduce") == 0)
        return de_cmd_allreduce(argc - 1, argv + 1);
    if (strcmp(cmd, "_bench-exec") == 0)
        return de_cmd_bench_exec_rank(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return DE_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("deepedge %s\n", DE_VERSION);
        return DE_EXIT_OK;
    }
    de_cli_fail("unknown command '%s'", cmd);
    usage(stderr);
    return DE_EXIT_ERROR;
}
