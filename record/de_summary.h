/* de_summary.h — the one JSON schema of `plan --json`, `sim --json` (and sim's
 * summary.json) and `run`'s summary.json.
 *
 * The same names mean the same things in all three; what a command cannot know is
 * null (a plan has no measured latency; sim has no validation accuracy). The fields,
 * one by one, are documented in README.md, "JSON output"; schema_version changes
 * whenever a field changes meaning or goes away.
 *
 *   schema_version, command ("plan" | "sim" | "run"), scenario, scenario_file, policy
 *   verdict    {ok, text}: ok when every job is planned feasible (plan) or finished
 *              (sim, run) and every LC task met its deadline at its percentile
 *   jobs[]     name, network, global_batch, status, iterations_total, iterations_done,
 *              iterations_run, retraining_time_s, iteration_time_s, compute_time_s,
 *              allreduce_time_s, lost_iterations, lost_time_s, checkpoint_time_s,
 *              planning_time_s, restart_time_s, failures, plan_switches, plan{...}
 *   plan       policy, feasible, shares[] {device, type, batch, step_time_s, duty_cycle},
 *              iteration_time_s, compute_time_s, allreduce_time_s, iterations,
 *              retraining_time_s, lc_tasks_over_deadline, lc_tasks_over_margin,
 *              planning_time_s, verdict
 *   lc_tasks[] name, device, model, percentile, deadline_s, rate_rps, predicted_latency_s,
 *              latency_s, p50_s, p95_s, p99_s, mean_s, requests, requests_dropped,
 *              requests_over_deadline, deadline_met
 *   devices[]  name, type, link, batch, iterations, mean_batch, time_s{train, sync,
 *              checkpoint, plan, recover, down}
 *   decisions[] time_s, change, target, iteration, action, from, plan, predicted_iteration_s,
 *              cost_s (de_decision_describe's fields)
 * and one object for what only one command has: "sim" {...} or "run" {...}. */
#ifndef DE_SUMMARY_H
#define DE_SUMMARY_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "de_plan.h"
#include "de_state.h"

#define DE_SUMMARY_VERSION 1

/* A job: predictions only (measured = 0: every measured field is null) or a run's. */
typedef struct de_summary_job {
    int job;
    const char *status;          /* planned | finished | unfinished | stopped | failed */
    const de_plan *plan;         /* the plan (plan), the last plan used (sim, run); may be NULL */
    int measured;
    long long iterations_total, iterations_done, iterations_run;
    double retraining_time_s, iteration_time_s, compute_time_s, allreduce_time_s; /* NAN: null */
    long long lost_iterations;
    double lost_time_s, checkpoint_time_s, planning_time_s, restart_time_s;
    int failures, plan_switches;
} de_summary_job;

/* An LC task: the plan's prediction, and what was served (measured = 0: nothing). */
typedef struct de_summary_task {
    int measured;
    double rate_rps, predicted_latency_s;
    double latency_s, p50_s, p95_s, p99_s, mean_s; /* latency_s: at the task's percentile */
    uint64_t requests, dropped, late;
} de_summary_task;

/* A device: its share in the final plan, and its time (time_s NULL: none). */
typedef struct de_summary_device {
    int batch;
    long long iterations;
    double mean_batch;
    const double *time_s;        /* [DE_TL_COUNT] seconds per timeline state (de_outputs.h), or NULL */
} de_summary_device;

typedef struct de_summary {
    const char *command;
    de_policy policy;
    int n_jobs;
    const de_summary_job *jobs;
    const de_summary_task *tasks;     /* [scenario's n_tasks] */
    const de_summary_device *devices; /* [scenario's n_devices] */
    int n_decisions;
    const double *decision_time_s;    /* [n_decisions] */
    const char *const *decision_line; /* [n_decisions] de_decision_describe lines */
} de_summary;

/* The summary as JSON (caller frees). st: the state of the predictions (its scenario
 * names everything). The verdict is computed here from the jobs and tasks. */
cJSON *de_summary_json(const de_summary *sm, const de_state *st);

/* The plan object alone (the `plan` field of a job). */
cJSON *de_summary_plan(const de_plan *p, const de_state *st);

/* A summary of plan p alone, as `deepedge plan --json` prints it. */
cJSON *de_summary_of_plan(const de_plan *p, const de_state *st);

/* A number, or null when not finite. */
cJSON *de_summary_num(double v);

#endif
