/* de_sim.h — the edge cluster simulated on the engine: LC request streams served
 * per request, synchronous data-parallel update jobs, checkpoints, and every change
 * of the world (core/de_change.h) handled by the same rule as in `deepedge run`
 * (core/de_replan.h).
 *
 * The world:
 *  - LC tasks: Poisson arrivals at the task's current rate (constant, or from its
 *    rate trace), served FIFO per device (Lindley's recursion, advanced lazily up
 *    to each change of the device's training state). A request's service time is
 *    gamma(mean s0/speed, scv) alone; when it starts while the device computes a
 *    training step it is x (1 + lc_inflation) plus a uniform wait for the running
 *    kernel of mean blocking_fraction * per_sample_s * b — the expectation of the
 *    planner's model (models/de_model.h). Requests to a device that is down are
 *    dropped (counted apart, and as violations in the windows).
 *  - Update jobs, first come first served: each iteration every device of the plan
 *    computes its share for a step time drawn around the model's (lognormal,
 *    coefficient of variation step_cv; exact when 0), then the ring all-reduce;
 *    every checkpoint_interval iterations a checkpoint of checkpoint_cost_s.
 *  - Changes: the scenario's faults (at their times or iterations), --inject, rate
 *    trace rows and job arrivals go through de_change_apply and de_replan_decide.
 *    The decision is carried out as the executor does it: a loss goes back to the
 *    last checkpoint and restarts on the new plan (replan_cost_s + restart_cost_s);
 *    a switch waits for the iteration in flight, checkpoints (checkpoint_cost_s),
 *    re-plans and restarts. The timeline shows those phases as checkpoint, plan
 *    and recover.
 * Randomness: one GSL stream per LC task and per device (de_rng.h); the same seed
 * gives the same output files byte for byte. */
#ifndef DE_SIM_H
#define DE_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "de_change.h"
#include "de_plan.h"
#include "de_scenario.h"

/* The most LC requests a run may have to draw (the sum of the tasks' peak rates times the
 * horizon): beyond it de_sim_run refuses with DE_ERANGE before simulating. */
#define DE_SIM_MAX_REQUESTS 1e11

typedef struct de_sim_opts {
    int policy;             /* a de_policy, or -1 for the scenario's planner.policy */
    unsigned long seed;
    double until_s;         /* > 0: simulate [0, until); 0: until every job is done */
    double window_s;        /* metrics window (> 0) */
    double step_cv;         /* step-time variability (>= 0) */
    /* The re-plan rule's parameters; NAN: the scenario's planner group. */
    double replan_cost_s, restart_cost_s, switch_gain;
    const de_change *inject; /* changes added to the scenario's (deepedge sim --inject) */
    int n_inject;
    const char *out_dir;    /* the output files (record/de_outputs.h); NULL: none */
    const de_plan *plan;    /* a plan file's plan (de_plan_read) for its job's first start; NULL: plan */
    FILE *progress;         /* progress bar (a terminal), or NULL */
    int correction;         /* the online correction (de_correct.h): 1 on, 0 off, -1 planner.correction */
    double stall_timeout_s; /* a device whose step cannot end (infinite model step time) is taken as
                             * lost after this long, as run's --stall-timeout (DE_STALL_TIMEOUT_S) */
} de_sim_opts;

void de_sim_opts_default(de_sim_opts *o);

typedef struct de_sim_job {
    double arrival_s, start_s, end_s;  /* start: first iteration; end: NAN if unfinished */
    int finished;
    long long iterations;              /* completed, redone ones included */
    long long iterations_total;        /* the job's iterations (ceil(E D / B)) */
    double samples_done;
    long long lost_iterations;         /* redone after losses */
    double lost_time_s;
    double checkpoint_s, planning_s, restart_s; /* time in checkpoints, planning, restarts */
    double compute_s, allreduce_s;     /* summed over iterations (max step, all-reduce) */
    int planner_calls, switches, failures;
    int reshares;                      /* plans taken in place (same devices, other shares) */
    de_plan plan;                      /* the last plan used (predictions under the state then) */
} de_sim_job;

typedef struct de_sim_task {
    uint64_t requests, dropped, late;  /* late: served over the deadline */
    double mean_s, p50_s, p95_s, p99_s, pct_s; /* pct: at the task's own percentile */
} de_sim_task;

typedef struct de_sim_device {
    double time_s[8];   /* seconds in each timeline state (record/de_outputs.h: de_tl_state) */
    double lc_busy_s;
    double batch_sum;   /* sum over iterations of its local batch */
    long long iterations;
} de_sim_device;

/* One decision of the re-plan rule, as logged. */
typedef struct de_sim_decision {
    double time_s;
    char line[512];     /* de_decision_describe */
} de_sim_decision;

typedef struct de_sim_result {
    const de_scenario *scen;
    int policy;
    unsigned long seed;
    double end_s;
    uint64_t events, requests;
    double wall_s;
    size_t queue_bytes;
    int n_jobs, n_tasks, n_devices;
    de_sim_job *jobs;
    de_sim_task *tasks;
    de_sim_device *devices;
    de_sim_decision *decisions;
    int n_decisions;
    /* the online correction (de_correct.h) */
    int correction;                    /* it was on */
    long corrections, warnings;        /* factors applied; windows that crossed deadline x (1 - margin/2) */
    double *step_corr, *lc_corr;       /* [n_devices], [n_tasks]: the factors believed at the end */
} de_sim_result;

/* Runs the simulation; *res is filled (free with de_sim_result_free, also after an
 * error: it is then empty). Errors: bad options (DE_EINVAL), output files that
 * cannot be written (DE_EIO), a plan the policy could not compute (an external policy
 * that failed: the simulation stops there, the event log ends with a plan_error). */
int de_sim_run(const de_scenario *s, const de_sim_opts *o, de_sim_result *res, de_err *err);
void de_sim_result_free(de_sim_result *res);

/* Every job done and every LC task's served requests within its deadline at its
 * percentile (requests dropped while a device was down are counted, not judged). */
int de_sim_result_ok(const de_sim_result *res);

#endif
