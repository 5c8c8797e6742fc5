/* de_probe.h — the profiler's measurements (`deepedge profile`, `deepedge bench exec`).
 *
 * Three measurements feed the performance models' fits (traces/README.md formats
 * step, lc and allreduce):
 *   - training step time vs local batch under a CPU budget;
 *   - LC latency percentiles vs request rate, with a training process co-located in
 *     the same CPU budget at a duty cycle;
 *   - MPI_Allreduce time vs bytes and ranks.
 * Every CPU measurement runs in a forked child process that joins the budget's cgroup
 * (de_emulate.h) or throttles itself (duty cycle) and exits when done: the calling
 * process never computes, never joins a cgroup and never starts an OpenMP pool, so it
 * can fork cleanly again and remove the cgroup afterwards. Children die with their
 * parent (PR_SET_PDEATHSIG). Times are wall clock (CLOCK_MONOTONIC), in seconds. */
#ifndef DE_PROBE_H
#define DE_PROBE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "de_emulate.h"
#include "de_error.h"

/* ---- statistics (sort v in place) ---- */

/* Quantile p in [0, 1] of n >= 1 values, linear interpolation between order statistics
 * (h = (n - 1) p; the usual "type 7"). NAN when n < 1. */
double de_probe_quantile(double *v, int n, double p);
double de_probe_median(double *v, int n);
/* Robust standard deviation: interquartile range / 1.349 (= sd for normal data); 0 when n < 2. */
double de_probe_robust_sd(double *v, int n);

/* Least-squares slope of y over t (n points; 0 when n < 3 or t is constant); *t_stat (may
 * be NULL) gets slope / its standard error (residual scale from the fit). */
double de_probe_drift(const double *t, const double *y, int n, double *t_stat);

/* ---- names, lists, CSV ---- */

/* The catalog name of an emulated CPU budget: "emu-cpu-%03d" of 100 x cores rounded
 * (1 -> emu-cpu-100, 0.5 -> emu-cpu-050, 0.25 -> emu-cpu-025). */
void de_probe_emu_name(double cores, char *buf, size_t n);

/* Parses a comma-separated list of numbers in [lo, hi] (integers only when integer != 0)
 * into v (capacity cap); *n gets the count. Errors name the option and the bad item:
 * empty items, non-numbers, out of range, too many, duplicates. */
int de_probe_parse_list(const char *opt, const char *s, double lo, double hi, int integer, double *v, int cap,
                        int *n, de_err *err);

/* Writes s as one CSV cell (quoted when it holds a comma, quote, or leading/trailing space). */
void de_probe_csv_cell(FILE *f, const char *s);

/* The trace headers (traces/README.md (a) step, (b) lc, (c) allreduce) and one row each. */
void de_probe_step_header(FILE *f);
void de_probe_step_row(FILE *f, const char *device, const char *network, int batch, double step_s, double sd_s,
                       const char *source);
/* A step row measured under LC load: lc_util = request rate x the service time alone. */
void de_probe_step_row_lc(FILE *f, const char *device, const char *network, int batch, double lc_util, double step_s,
                          double sd_s, const char *source);
void de_probe_lc_header(FILE *f);
/* train_network NULL or "" (alone): empty cell, train_batch and train_duty 0. */
void de_probe_lc_row(FILE *f, const char *device, const char *model, double rate, double percentile,
                     double latency_s, const char *train_network, int train_batch, double train_duty,
                     const char *source);
void de_probe_allreduce_header(FILE *f);
void de_probe_allreduce_row(FILE *f, const char *link, int n_devices, double bytes, double time_s, double sd_s,
                            const char *source);

/* ---- CPU budgets ---- */

typedef struct de_probe_budget {
    double cores;           /* <= 0: no budget (a physical device) */
    de_budget_mode mode;    /* NONE, CGROUP_V1/V2 or DUTY */
    char *cgroup;           /* the group's directory (CGROUP_*), owned */
} de_probe_budget;

/* Sets up a budget of `cores` for device `device` of run `run`: emulate "auto" (a cgroup
 * when one can be created, else duty cycle), "cgroup" (a cgroup or an error), "duty" or
 * "none". note (may be NULL) gets why auto fell back to duty cycle. */
int de_probe_budget_open(const char *run, const char *device, double cores, const char *emulate,
                         de_probe_budget *b, char *note, size_t note_n, de_err *err);
/* Removes the cgroup (its processes must have exited). NULL / no group: no-op. */
void de_probe_budget_close(de_probe_budget *b);
/* The cores a child throttles itself to (DUTY mode), else 0. */
double de_probe_budget_throttle(const de_probe_budget *b);

/* ---- measurements ---- */

/* Set from a signal handler by the caller: the measurements stop early and return
 * DE_EIO ("interrupted"), after killing and reaping their children. */
extern volatile int de_probe_interrupted;

typedef struct de_probe_step_opts {
    const char *network;    /* built-in network (de_net_builtin) */
    int threads;            /* kernel threads */
    const int *batches;
    int n_batches;
    int steps, warmup;      /* timed steps (median), untimed warm-up steps, per batch */
    uint64_t seed;
} de_probe_step_opts;

/* Median and robust sd of the step time (gradient + SGD update) at each batch, measured
 * in a child inside budget b. median_s, sd_s: n_batches each. */
int de_probe_steps(const de_probe_step_opts *o, const de_probe_budget *b, double *median_s, double *sd_s,
                   de_err *err);

typedef struct de_probe_lc_opts {
    const char *model;          /* LC model: a built-in network served at batch 1 */
    int threads;
    double rate;                /* Poisson requests per second (> 0) */
    double duration_s;          /* measured window */
    double warmup_s;            /* served before the window, not recorded */
    const double *percentiles;  /* in % (50, 95, ...) */
    int n_percentiles;
    const char *train_network;  /* co-located training (duty > 0) */
    int train_batch;
    double duty;                /* 0: LC alone; (0, 1): step, then sleep step x (1 - d) / d; 1: continuous */
    uint64_t seed;
} de_probe_lc_opts;

#define DE_PROBE_MAX_PCT 8

typedef struct de_probe_lc_result {
    double latency_s[DE_PROBE_MAX_PCT];  /* at each percentile */
    double mean_s, service_s;            /* mean latency; mean forward time (service alone) */
    long requests;                       /* in the window */
    double drift_s;                      /* latency trend over the window: slope of latency vs
                                          * arrival time x duration */
    double drift_t;                      /* the slope's t statistic */
    int overloaded;                      /* drift_s > mean_s and drift_t > 5: the queue grows
                                          * (arrivals beyond capacity), no stationary percentile */
    double train_duty;                   /* achieved by the training process (busy / elapsed) */
    double train_step_s;                 /* its mean step time */
    long train_steps;
    double train_step_med_s;             /* median and robust sd of its steps wholly inside the LC
                                          * window (after the LC warm-up): the step time under */
    double train_step_sd_s;              /* the LC load (0 when none) */
    int train_window_steps;              /* how many */
} de_probe_lc_result;

/* One cell: the training process (when duty > 0) starts first in budget b, warms up,
 * then the LC service runs in b for warmup + duration; then training is stopped.
 * r->overloaded flags a cell whose latency keeps growing through the window (an
 * unstable queue: the models predict unbounded latency there, so such a cell is no
 * point to fit). */
int de_probe_lc(const de_probe_lc_opts *o, const de_probe_budget *b, de_probe_lc_result *r, de_err *err);

/* Times MPI_Allreduce(MPI_IN_PLACE, count floats, MPI_SUM) over comm: per repetition a
 * barrier, then the call; the repetition's time is the slowest rank's. Median and robust
 * sd over reps after warmup untimed calls, the same on every rank. */
int de_probe_allreduce(MPI_Comm comm, size_t count, int reps, int warmup, double *median_s, double *sd_s,
                       de_err *err);

/* ---- running local MPI jobs ---- */

/* mpiexec to use: $DEEPEDGE_MPIEXEC, else the one found at build time. */
const char *de_probe_mpiexec(void);
/* This program's path (/proc/self/exe), owned by the caller. */
char *de_probe_self_exe(void);
/* Runs `mpiexec -n ranks --oversubscribe --bind-to none -x OMP_NUM_THREADS EXE args...`
 * (OMP_NUM_THREADS=1; root allowed where we are root), stdout captured into *out
 * (caller frees), stderr inherited. Fails unless every rank exits 0. */
int de_probe_mpirun(int ranks, char *const args[], char **out, de_err *err);

#endif
