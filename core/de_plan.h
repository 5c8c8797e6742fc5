/* de_plan.h — a plan: which devices train a job and with what local batch, plus
 * its predicted consequences; and the plan file that sim and run load unchanged.
 *
 * A plan is decided by its shares (device, local batch b_i > 0, sum b_i = B);
 * everything else (step times, duty cycles, LC latencies, iteration and
 * re-training time) is a prediction filled in by de_plan_evaluate with a
 * predictor, so that the same file means the same thing to every driver.
 *
 * Plan file (libconfig, version 1; documented in scenarios/README.md):
 *   plan = { version = 1; scenario = "..."; scenario_name = "..."; scenario_checksum = "hex";
 *            job = "..."; policy = "..."; global_batch = B;
 *            shares = ( { device = "..."; batch = b; }, ... );
 *            predicted = { feasible = true; violations = 0; iteration_time_s = ..; retraining_time_s = ..; }; };
 * The `predicted` group is informational: readers recompute it. */
#ifndef DE_PLAN_H
#define DE_PLAN_H

#include <stdio.h>

#include "de_error.h"
#include "de_policy.h"
#include "de_predictor.h"
#include "de_state.h"

#define DE_PLAN_VERSION 1

typedef struct de_plan_share {
    int device;
    int batch;
    double step_time_s;   /* predicted, under the device's LC load */
    double duty_cycle;    /* step_time / iteration_time */
} de_plan_share;

typedef struct de_plan_task {
    int task;
    int device;
    double rate;          /* req/s at planning time */
    double latency_s;     /* predicted latency at the task's percentile */
    double deadline_s;
    double limit_s;       /* deadline * (1 - safety margin): what the planner must respect */
    double slack_s;       /* deadline - latency */
    int violated;         /* latency > deadline */
    int over_margin;      /* latency > limit */
} de_plan_task;

typedef struct de_plan {
    de_policy policy;
    int job;
    int global_batch;
    int n_shares;
    de_plan_share *shares;     /* sorted by device index */
    int n_tasks;
    de_plan_task *tasks;       /* every LC task of the scenario */
    double compute_time_s;     /* max step time over the shares */
    double allreduce_time_s;
    double iteration_time_s;   /* compute + all-reduce */
    long long iterations;      /* iterations left for the job */
    double retraining_time_s;  /* iterations * iteration time + checkpoints ((iterations - 1) / interval) */
    int violations;            /* LC tasks predicted over their deadline */
    int over_margin;           /* LC tasks predicted over deadline * (1 - margin) (includes violations) */
    int feasible;              /* shares cover B and every LC task within deadline * (1 - margin) */
    char *verdict;             /* why not feasible / what was left out; NULL if nothing to say */
    double planning_time_s;    /* wall time the policy took */
} de_plan;

void de_plan_init(de_plan *p);
void de_plan_free(de_plan *p);
/* Deep copy (dst must be initialised or freed). */
void de_plan_copy(de_plan *dst, const de_plan *src);

/* Sets the shares (device, batch pairs; batch 0 entries are dropped). */
void de_plan_set_shares(de_plan *p, const int *devices, const int *batches, int n);

/* Fills every prediction of p from its shares: step times, duty cycles, all-reduce,
 * iteration and re-training time (from st's job progress), LC latencies of every
 * task, violations and feasibility. margin: the safety margin. */
void de_plan_evaluate(de_plan *p, const de_state *st, const de_predictor *pred, double margin);

/* Appends a line to the verdict. */
void de_plan_note(de_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Human-readable table on out. */
void de_plan_print(const de_plan *p, const de_state *st, FILE *out);

/* Writes the plan file. */
int de_plan_write(const de_plan *p, const de_state *st, const char *path, de_err *err);

/* Reads a plan file for scenario s: checks version, scenario checksum, job, device
 * names, batches (> 0, sum = global batch). The predictions are not read: call
 * de_plan_evaluate. Errors name file:line:key. */
int de_plan_read(const char *path, const de_scenario *s, de_plan *p, de_err *err);

#endif
