/* main.c — the `deepedge` command: its subcommands in one table (cli.h); those of
 * deepedge-exec are handed to it (main_exec.c). */
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
    {"reproduce", "[--out DIR]", "the Deep-Edge case study's evaluation as one report (figures, 95% CIs)", de_cmd_reproduce},
    {"train", "--data DIR|--synthetic", "train a CNN (CPU or CUDA): loss/accuracy per epoch, checkpoints", NULL},
    {"dataset", "synth|cache DIR", "generate a Caltech-layout folder / decode one into a cache", NULL},
    {"run", "SCENARIO|PLAN", "execute a plan: MPI workers train the CNN next to real LC services", NULL},
    {"inject", "SPEC... [--out DIR]", "tell a run that is going on about a change (repair:DEV, lc-rate:TASK=R, ...)",
     de_cmd_inject},
    {"admit", "DEVICE... [--out DIR]", "re-admit repaired devices into a run that is going on", de_cmd_inject},
    {"profile", "--out PREFIX", "measure this host under emulated CPU budgets into step/lc/allreduce traces", NULL},
    {"calibrate", "[--quick]", "measure this host and fit every emulated type's parameters into the catalog", NULL},
    {"bench", "plan|sim-engine|sim-scale|startup|fidelity|train|exec",
     "benchmarks (planning, PHOLD, 1,000-device day, start-up, sim vs run, training, executor overhead)", de_cmd_bench},
    {"help", "", "this text", cmd_help},
    {"version", "", "the version", cmd_version},
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
            return commands[i].run ? commands[i].run(argc - 1, argv + 1) : de_cli_companion(argc - 1, argv + 1, cmd);
    de_cli_fail("unknown command '%s'", cmd);
    usage(stderr);
    return DE_EXIT_ERROR;
}
