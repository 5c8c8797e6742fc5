/* main.c — the `deepedge` command: one program, its subcommands in one table (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* Every subcommand: name, what it does (the usage text), its function. Internal ones
 * (no help line) are the processes that `run`, `profile` and `bench exec` start. */
static const de_cli_command commands[] = {
    {"plan", "SCENARIO", "compute a plan (which devices, which local batches) and print it", de_cmd_plan},
    {"scenario", "...", "generate random scenarios, show one resolved, print the key tables", de_cmd_scenario},
    {"fit", "TRACE --model K", "fit a performance model to a trace; fit --all rebuilds the catalog", de_cmd_fit},
    {"sim", "SCENARIO", "simulate: LC requests, update jobs, faults, re-planning; metrics + figures", de_cmd_sim},
    {"sweep", "SCENARIO", "what-if grid of simulations (--vary KEY=V1,V2,...) in parallel", de_cmd_sweep},
    {"train", "--data DIR|--synthetic", "train a CNN (CPU or CUDA): loss/accuracy per epoch, checkpoints",
     de_cmd_train},
    {"dataset", "synth|cache DIR", "generate a Caltech-layout folder / decode one into a cache", de_cmd_dataset},
    {"run", "SCENARIO|PLAN", "execute a plan: MPI workers train the CNN next to real LC services", de_cmd_run},
    {"profile", "--out PREFIX", "measure this host under emulated CPU budgets into step/lc/allreduce traces",
     de_cmd_profile},
    {"bench", "plan|sim-engine|sim-scale|train|exec", "benchmarks (planning, PHOLD, 1,000-device day, training, "
                                                      "executor overhead)", de_cmd_bench},
    {"help", "", "this text", cmd_help},
    {"version", "", "the version", cmd_version},
    /* internal */
    {"_worker", NULL, NULL, de_cmd_worker},
    {"_lc", NULL, NULL, de_cmd_lc},
    {"_allreduce", NULL, NULL, de_cmd_allreduce},
    {"_bench-exec", NULL, NULL, de_cmd_bench_exec_rank},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "deepedge %s — plans and runs DNN re-training on a heterogeneous edge cluster\n"
            "next to latency-critical applications.\n\n"
            "usage: deepedge COMMAND [ARGS]   (deepedge COMMAND --help for details)\n\n"
            "commands:\n",
            DE_VERSION);
    for (int i = 0; i < N_COMMANDS; i++) {
        const de_cli_command *c = &commands[i];
        if (!c->help)
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s %s", c->name, c->args);
        if (strlen(head) <= 22)
            fprintf(out, "  %-22s %s\n", head, c->help);
        else
            fprintf(out, "  %s\n  %-22s %s\n", head, "", c->help);
    }
    fprintf(out, "\nExit status: 0 success, 1 error (message on stderr), 2 no plan meets every deadline.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return DE_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("deepedge %s\n", DE_VERSION);
    return DE_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DE_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        cmd = "help";
    else if (strcmp(cmd, "--version") == 0)
        cmd = "version";
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    de_cli_fail("unknown command '%s'", cmd);
    usage(stderr);
    return DE_EXIT_ERROR;
}
