/* de_run.h — the coordinator of `deepedge run`: deploys a plan on real processes.
 *
 *   1. loads the scenario and the plan (a plan file, read and checked exactly as sim
 *      reads it, or computed by the same planner call), prepares the dataset cache;
 *   2. gives every emulated device its CPU budget (de_emulate.h) and starts one LC
 *      service per LC task (de_lcserve.h), which run for the whole run, first alone
 *      (a warm-up that measures each service without training next to it);
 *   3. starts the workers with mpiexec, one rank per plan device (de_worker.h), and
 *      collects every metric line (de_wire.h): live progress on stderr, time series
 *      CSV in the output folder (the simulator's file names and columns), and the
 *      simulator's gnuplot figures;
 *   4. hands every change of the world — the scenario's faults, --inject, rate trace
 *      rows, a worker that dies or hangs — to core's change table and re-plan rule
 *      (core/de_replan.h), the same calls `deepedge sim` makes, and carries out the
 *      decision: keep the plan; switch (the workers checkpoint at the next iteration
 *      and restart on the new plan); or, after a loss, restart from the last
 *      checkpoint on the new plan (OpenMPI has no ULFM: restart is the mechanism);
 *   5. at the end, stops the LC services, reaps every child, removes the cgroups and
 *      prints measured re-training time and LC percentiles next to the predictions.
 * SIGINT/SIGTERM: the workers checkpoint and stop (a second signal kills them); the
 * checkpoint is kept for `--resume`. */
#ifndef DE_RUN_H
#define DE_RUN_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "de_error.h"

typedef struct de_run_opts {
    const char *scenario;      /* scenario file (required) */
    const char *plan;          /* plan file for it (NULL: computed with the scenario's policy) */
    const char *out_dir;       /* outputs, checkpoints (created) */
    const char *hostfile;      /* mpiexec --hostfile (NULL: every rank on this host) */
    int ranks_per_host;        /* mpiexec --map-by ppr:N:node (0: mpiexec's default) */
    int use_hosts;             /* place rank and LC services of each device on its devices.[i].host */
    const char *report_host;   /* address workers use to reach the coordinator (default 127.0.0.1, or this
                                * host's name with a hostfile) */
    const char *mpi_args;      /* extra mpiexec arguments, space-separated (NULL: none) */
    const char *emulate;       /* CPU budgets: auto | cgroup | duty | none */
    const char *links;         /* link emulation on one host: pad | none | netns (one network namespace per
                                * device as its host, links shaped with tc: scripts/netns-hosts.sh; root) */
    const char *resume;        /* start from this checkpoint */
    const char *const *inject; /* --inject values (de_change_parse_spec), checked against the scenario */
    int n_inject;
    double lc_warmup_s;        /* LC services alone before training starts */
    double window_s;           /* LC metrics window */
    int max_restarts;          /* restarts after failures before giving up (default 3) */
    double stall_timeout_s;    /* no iteration for this long: the least recent device is lost (0: never) */
    double auth_timeout_s;     /* a connection that has not proved the run secret by then is closed (10) */
    int quiet;                 /* no live progress */
    int metrics_port;          /* > 0: Prometheus text-format metrics on metrics_listen:PORT (/metrics) */
    const char *metrics_listen; /* the metrics endpoint's address (NULL: 127.0.0.1) */
    const char *listen;        /* the address the coordinator listens on for its processes (NULL: 127.0.0.1,
                                * or 0.0.0.0 with hosts, a hostfile or a report host) */
    const char *stage_dir;     /* the hosts share no storage with the coordinator: its processes fetch the files
                                * they read into this folder on their host, rank 0 sends its checkpoints back
                                * (de_stage.h); NULL: the files are at the same paths everywhere */
    int correction;            /* the online correction (core/de_correct.h): 1 on, 0 off, -1 planner.correction */
    int plots;                 /* render the gnuplot figures */
    const char *exe;           /* the deepedge binary (NULL: /proc/self/exe) */
} de_run_opts;

void de_run_opts_default(de_run_opts *o);

/* Runs the job to completion (or interruption). *summary (caller frees) is the JSON
 * summary also written to OUT/summary.json; the table goes to out (NULL: none).
 * Returns DE_OK when the job completed, DE_EINTR-like DE_EIO with a message when it
 * was interrupted or failed beyond max_restarts. */
int de_run(const de_run_opts *o, FILE *out, cJSON **summary, de_err *err);

/* What coordinators that died left behind — cgroups (run-PID groups with no process PID),
 * network namespaces (dr<PID>x<i>), temporary files of interrupted writes in o->out_dir —
 * removed; every run does it at its start. One line on out says what was removed. */
int de_run_cleanup(const de_run_opts *o, FILE *out, de_err *err);

#endif
