/* cli.h — the `deepedge` command: its subcommands, one file each (cmd_*.c), one table of
 * them (main.c), the option helpers they share (cli_args.c).
 *
 * Two programs. `deepedge` holds what needs neither MPI nor the training engine (nor
 * CUDA): plan, scenario, fit, sim, sweep, the planning and simulation benchmarks — it
 * starts in milliseconds. The commands that train or execute (train, dataset, run,
 * profile, bench train|exec, and the processes `run` starts) live in `deepedge-exec`
 * (main_exec.c, cli_exec.h), which `deepedge` hands them to, unchanged: the user types
 * `deepedge` for everything. `sweep` is both: in processes in deepedge, over the ranks of
 * mpiexec in deepedge-exec (`_sweep-mpi`); what they share is cli_sweep.c, in both. */
#ifndef DE_CLI_H
#define DE_CLI_H

#include <stdio.h>

#include "de_error.h"
#include "de_sim.h"

/* Exit codes of every subcommand. */
enum { DE_EXIT_OK = 0, DE_EXIT_ERROR = 1, DE_EXIT_INFEASIBLE = 2 };

/* One row of a command table: `deepedge NAME ARGS` runs run(argc, argv) with argv[0] the
 * command's name; help NULL: an internal command, not listed. In deepedge's table a
 * command of deepedge-exec has run NULL (it is handed over). */
typedef struct de_cli_command {
    const char *name;
    const char *args;
    const char *help;
    int (*run)(int argc, char **argv);
} de_cli_command;

/* deepedge's own commands */
int de_cmd_plan(int argc, char **argv);
int de_cmd_scenario(int argc, char **argv);
int de_cmd_bench(int argc, char **argv);
int de_bench_fidelity(int argc, char **argv); /* `bench fidelity`: sim against run (cmd_bench_fidelity.c) */
int de_cmd_sim(int argc, char **argv);
int de_cmd_sweep(int argc, char **argv);
int de_cmd_reproduce(int argc, char **argv);
int de_cmd_fit(int argc, char **argv);
int de_cmd_inject(int argc, char **argv); /* also `admit` */

/* ---- cli_args.c ---- */

/* Prints "deepedge: MESSAGE" to stderr; returns DE_EXIT_ERROR. */
int de_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict integer / float option parsing: the whole string must be a number in
 * [min, max]; otherwise a message naming the option. */
int de_cli_int(const char *opt, const char *s, long long min, long long max, long long *out);
int de_cli_float(const char *opt, const char *s, double min, double max, double *out);

/* The options of sim and sweep (de_cli_sim_parse): sim's, and sweep's grid. */
typedef struct de_cli_vary {
    const char *spec; /* KEY=V1,V2,... or KEY*=F1,F2,... as typed */
    int link;         /* 1: --link (moves with the --vary before it); 0: --vary (an axis of its own) */
} de_cli_vary;

typedef struct de_cli_sim_args {
    de_sim_opts o;
    const char *out, *catalog, *plan;
    int json, plots, all;
    de_policy policies[DE_POLICY_MAX]; /* the policies named by --policy (all: the table's too) */
    int n_policies;
    const char *inject[64]; /* --inject values, parsed once the scenario is loaded */
    int n_inject;
    /* sweep only */
    de_cli_vary *vary; /* --vary and --link in the order given */
    int n_vary;
    long long seeds, jobs;
    int mpi; /* --mpi: started by mpiexec (also detected from its environment) */
} de_cli_sim_args;

/* One value of a repeatable --policy: "all" sets *all (every policy of the table); a
 * name or ext:COMMAND is appended to list[*n] unless there already (list holds
 * DE_POLICY_MAX). Returns 0, or -1 with a message naming the value. */
int de_cli_policy_arg(const char *v, int *all, de_policy *list, int *n);

/* Parses sim's (sweep 0) or sweep's (sweep 1) options into a (zeroed by the caller);
 * usage prints the command's usage, to stderr with the message on a bad option. Returns
 * the index of the SCENARIO argument, 0 when a listing (--policy list, --inject list,
 * --help) was printed and the command is done, -1 on bad usage (message printed). */
int de_cli_sim_parse(int argc, char **argv, de_cli_sim_args *a, const char *cmd, int sweep, void (*usage)(FILE *));
void de_cli_sim_args_free(de_cli_sim_args *a);

/* A warning on stderr for each emulated device type of the scenario whose fitted entries
 * were measured on another host (catalog measured_cpu / measured_cores against this
 * one): its predictions may not hold here. Returns how many were warned about. */
struct de_scenario;
int de_cli_warn_measured_host(const struct de_scenario *s);

/* The path of deepedge-exec: DEEPEDGE_EXEC, else next to this program. */
const char *de_cli_companion_path(void);
/* Hands `deepedge CMD ARGS` to deepedge-exec (argv[0] is CMD, argc counts from it): does
 * not return unless it cannot be started (then a message and DE_EXIT_ERROR). */
int de_cli_companion(int argc, char **argv, const char *cmd);

#endif
