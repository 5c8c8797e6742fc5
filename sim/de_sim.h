/* de_sim.h — the edge cluster simulated on the engine: LC request streams served
 * per request, synchronous data-parallel update jobs, checkpoints, faults and
 * re-planning with the same planner the executor calls.
 *
 * The world:
 *  - LC tasks: Poisson arrivals at the task's current rate (constant, or from its
 *    rate trace), served FIFO per device (Lindley's recursion, advanced lazily up
 *    to each change of the device's training state). A request's service time is
 *    gamma(mean s0/speed, scv) alone; when it starts while the device computes a
 *    training step it is x (1 + lc_inflation) plus a uniform wait for the running
 *    kernel of mean blocking_fraction * per_sample_s * b — the expectation of the
 *    planner's model (de_model.h). Requests to a device that is down are dropped
 *    (and count as deadline misses).
 *  - Update jobs, first come first served: the planner (de_plan_compute) chooses
 *    devices and local batches; each iteration every device computes its share for
 *    a step time drawn around the model's (lognormal, coefficient of variation
 *    step_cv; exact when 0), then the ring all-reduce; every checkpoint_interval
 *    iterations a checkpoint of checkpoint_cost_s.
 *  - Faults from the scenario: a crash of a training device loses the work since
 *    the last checkpoint, then the job re-plans on the devices left and restarts
 *    (replan_cost_s + restart_cost_s); repairs, slowdowns, link degradation and
 *    LC rate changes call the planner too, and the job switches plans (at the end
 *    of an iteration, after a checkpoint) when the current plan would break a
 *    deadline or the new one is predicted faster by more than switch_gain.
 * Randomness: one GSL stream per LC task and per device (de_rng.h); the same seed
 * gives the same output files byte for byte. */
#ifndef DE_SIM_H
#define DE_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "de_plan.h"
#include "de_scenario.h"

typedef struct de_sim_opts {
    int policy;             /* a de_policy, or -1 for the scenario's planner.policy */
    unsigned long seed;
    double until_s;         /* > 0: simulate [0, until); 0: until every job is done */
    double window_s;        /* metrics window (> 0) */
    double step_cv;         /* step-time variability (>= 0) */
    double replan_cost_s;   /* time to compute and distribute a plan */
    double restart_cost_s;  /* time to restart from a checkpoint; < 0: the job's checkpoint_cost_s */
    double switch_gain;     /* switch plans when predicted >= this fraction faster */
    const char *out_dir;    /* CSV time series and the event log; NULL: none */
    const de_plan *plan;    /* a plan file's plan (de_plan_read) for its job's first start; NULL: plan */
    FILE *progress;         /* progress bar (a terminal), or NULL */
} de_sim_opts;

void de_sim_opts_default(de_sim_opts *o);

typedef struct de_sim_job {
    double arrival_s, start_s, end_s;  /* start: first iteration; end: NAN if unfinished */
    int finished;
    long long iterations;              /* completed, redone ones included */
    double samples_done, lost_samples, lost_time_s;
    double recovery_s;                 /* re-plans, restarts and checkpoints */
    double compute_s, allreduce_s;     /* summed over iterations (max step, all-reduce) */
    int planner_calls, switches, failures;
    de_plan plan;                      /* the last plan used (predictions under the state then) */
} de_sim_job;

typedef struct de_sim_task {
    uint64_t requests, dropped, violations;   /* violations: latency > deadline, or dropped */
    double mean_s, p50_s, p95_s, p99_s, pct_s; /* pct: at the task's own percentile */
} de_sim_task;

typedef struct de_sim_device {
    double train_s, sync_s, recovery_s, down_s, lc_busy_s;
    double batch_sum;   /* sum over iterations of its local batch */
    long long iterations;
} de_sim_device;

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
} de_sim_result;

/* Runs the simulation; *res is filled (free with de_sim_result_free, also after an
 * error: it is then empty). Errors: bad options (DE_EINVAL), output files that
 * cannot be written (DE_EIO). */
int de_sim_run(const de_scenario *s, const de_sim_opts *o, de_sim_result *res, de_err *err);
void de_sim_result_free(de_sim_result *res);

/* Every job done and every LC task's served requests within its deadline at its
 * percentile (requests dropped while a device was down are counted, not judged). */
int de_sim_result_ok(const de_sim_result *res);

#endif
