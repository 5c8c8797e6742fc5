/* cli_sweep.h — what the two ways of running `deepedge sweep` share: deepedge's own
 * (cmd_sweep.c: runs in forked processes, -j at a time) and deepedge-exec's `_sweep-mpi`
 * (cmd_sweep_mpi.c: the ranks of an mpiexec). Both build and check the grid here, run a
 * grid point with the same function (de_sweep_run) and write the same files
 * (de_sweep_write), so that they give the same sweep.csv byte for byte. Compiled into
 * both programs (cli_sweep.c). */
#ifndef DE_CLI_SWEEP_H
#define DE_CLI_SWEEP_H

#include <stdio.h>

#include "cli.h"
#include "de_conf.h"

/* One key an axis moves: KEY=V1,V2,... (the values themselves) or KEY*=F1,F2,... (the
 * value in the file, or the key's default, times each factor). */
typedef struct de_sweep_member {
    const char *spec; /* as typed, for messages */
    const char *opt;  /* "--vary" or "--link" */
    char *key;        /* KEY, without the * */
    int scale;        /* KEY*= */
    char **values;
    int n_values;
    const de_key *k;  /* the scenario key table's entry */
} de_sweep_member;

/* One axis of the grid: a --vary and the --link options after it, moving together. */
typedef struct de_sweep_axis {
    de_sweep_member *m;
    int n_members;
    int n; /* values of each member */
} de_sweep_axis;

typedef struct de_sweep {
    const de_cli_sim_args *a;
    const char *path; /* the scenario file */
    char *name;       /* the scenario's name */
    de_sweep_axis *ax;
    int n_axes;
    long long n_points, n_runs; /* runs: point-major, then seed 1..seeds, then policy */
    int pol[DE_POLICY_COUNT];   /* the policies run on each point (-1: the point's planner.policy) */
    int n_pol;
    char *header;               /* sweep.csv's first line */
} de_sweep;

/* sweep's usage and help: every option, its default, the exit codes. */
void de_sweep_usage(FILE *out);

/* Builds the grid from a's --vary/--link and checks every key against the scenario's key
 * tables and every grid point's scenario (loaded), before anything runs: an error names
 * the file and line, the key, the option that produced the value and what the key takes.
 * Returns DE_EXIT_OK or DE_EXIT_ERROR (message printed). sw is freed with de_sweep_free
 * in both cases. */
int de_sweep_init(de_sweep *sw, const de_cli_sim_args *a, const char *path);
void de_sweep_free(de_sweep *sw);

/* Runs run r (0 <= r < n_runs): its CSV row (newline-terminated, malloc'd) in *row, or
 * *row NULL when its policy does not take a cluster that large (skipped). Returns
 * DE_EXIT_OK or DE_EXIT_ERROR (message printed). */
int de_sweep_run(const de_sweep *sw, long long r, char **row);

/* The output folder (created): --out, else out/sweep; malloc'd, NULL on error (message). */
char *de_sweep_out_dir(const de_sweep *sw);

/* Writes DIR/sweep.csv (header, then rows[0..n_runs) in order, skipping NULL ones) to a
 * temporary file renamed over it (a failed or killed sweep leaves the previous file), and
 * DIR/sweep_summary.csv (mean, min and max over the seeds per grid point and policy);
 * prints the rows; plots when the grid has one numeric axis and plots are on. */
int de_sweep_write(const de_sweep *sw, char *const *rows, const char *dir);

#endif
