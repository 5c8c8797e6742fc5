/* de_sim_report.c — the summary of a simulation run: tables, JSON, policy comparison
 * (see de_sim_report.h). */
#include "de_sim_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

static cJSON *num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static double mean_iteration(const de_sim_job *J)
{
    return J->iterations ? (J->compute_s + J->allreduce_s) / (double)J->iterations : NAN;
}

static double retraining(const de_sim_job *J)
{
    return J->finished ? J->end_s - J->arrival_s : NAN;
}

/* Overall LC violation rate (dropped included) over every task. */
static double violation_rate(const de_sim_result *r)
{
    uint64_t n = 0, v = 0;
    for (int t = 0; t < r->n_tasks; t++) {
        n += r->tasks[t].requests;
        v += r->tasks[t].violations;
    }
    return n ? (double)v / (double)n : 0.0;
}

/* Tasks whose served requests' latency at the task's percentile exceeded the
 * deadline. Requests dropped while a device was down are counted apart. */
static int tasks_missed(const de_sim_result *r)
{
    int k = 0;
    for (int t = 0; t < r->n_tasks; t++)
        k += r->tasks[t].pct_s > r->scen->tasks[t].deadline_s;
    return k;
}

void de_report_print(const de_sim_result *r, FILE *out)
{
    const de_scenario *s = r->scen;
    fprintf(out, "simulation  scenario %s  policy %s  seed %lu  simulated %.1f s  %llu events  %llu LC requests  %.2f s wall\n\n",
            s->name, de_policy_name((de_policy)r->policy), r->seed, r->end_s, (unsigned long long)r->events,
            (unsigned long long)r->requests, r->wall_s);
    fprintf(out, "%-16s %9s %9s %12s %10s %10s %12s %11s %9s %8s %8s\n", "job", "arrival_s", "end_s", "retraining_s",
            "iterations", "iter_s", "lost_samples", "recovery_s", "failures", "switches", "planner");
    for (int j = 0; j < r->n_jobs; j++) {
        const de_sim_job *J = &r->jobs[j];
        char end[32], rt[32];
        snprintf(end, sizeof end, J->finished ? "%.1f" : "unfinished", J->end_s);
        snprintf(rt, sizeof rt, J->finished ? "%.1f" : "-", retraining(J));
        fprintf(out, "%-16s %9.1f %9s %12s %10lld %10.4f %12.0f %11.1f %9d %8d %8d\n", s->jobs[j].name, J->arrival_s, end, rt,
                J->iterations, mean_iteration(J), J->lost_samples, J->recovery_s, J->failures, J->switches,
                J->planner_calls);
    }
    fprintf(out, "\n%-16s %-14s %10s %8s %9s %9s %9s %9s %10s %9s\n", "LC task", "device", "requests", "dropped", "p50_ms",
            "p95_ms", "p99_ms", "pctl_ms", "deadline", "viol_%");
    for (int t = 0; t < r->n_tasks; t++) {
        const de_sim_task *T = &r->tasks[t];
        const de_lc_task *st = &s->tasks[t];
        fprintf(out, "%-16s %-14s %10llu %8llu %9.2f %9.2f %9.2f %9.2f %7.1f ms %8.3f%s\n", st->name,
                s->devices[st->device].name, (unsigned long long)T->requests, (unsigned long long)T->dropped,
                T->p50_s * 1e3, T->p95_s * 1e3, T->p99_s * 1e3, T->pct_s * 1e3, st->deadline_s * 1e3,
                T->requests ? 100.0 * (double)T->violations / (double)T->requests : 0.0,
                T->pct_s > st->deadline_s ? "  MISSED" : (T->dropped ? "  (device down)" : ""));
    }
    fprintf(out, "\n%-14s %-18s %10s %9s %9s %9s %9s %9s %9s\n", "device", "type", "mean_batch", "train_%", "sync_%",
            "recov_%", "down_%", "lc_util_%", "iters");
    for (int d = 0; d < r->n_devices; d++) {
        const de_sim_device *D = &r->devices[d];
        if (D->iterations == 0 && D->down_s == 0 && s->dev_task_start[d + 1] == s->dev_task_start[d])
            continue; /* never used, never down, no LC: nothing to say */
        double T = r->end_s > 0 ? r->end_s : 1;
        char mb[16] = "-";
        if (D->iterations)
            snprintf(mb, sizeof mb, "%.1f", D->batch_sum / (double)D->iterations);
        fprintf(out, "%-14s %-18s %10s %9.1f %9.1f %9.1f %9.1f %9.1f %9lld\n", s->devices[d].name,
                s->catalog->types[s->devices[d].type].name, mb, 100 * D->train_s / T, 100 * D->sync_s / T,
                100 * D->recovery_s / T, 100 * D->down_s / T, 100 * D->lc_busy_s / T, D->iterations);
    }
    fprintf(out, "\nLC tasks over their deadline: %d of %d; requests over deadline or dropped: %.3f%%\n", tasks_missed(r),
            r->n_tasks, 100 * violation_rate(r));
}

cJSON *de_report_json(const de_sim_result *r)
{
    const de_scenario *s = r->scen;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "scenario", s->name);
    cJSON_AddStringToObject(o, "policy", de_policy_name((de_policy)r->policy));
    cJSON_AddNumberToObject(o, "seed", (double)r->seed);
    cJSON_AddBoolToObject(o, "feasible", tasks_missed(r) == 0);
    cJSON_AddNumberToObject(o, "simulated_s", r->end_s);
    cJSON_AddNumberToObject(o, "events", (double)r->events);
    cJSON_AddNumberToObject(o, "lc_requests", (double)r->requests);
    cJSON_AddNumberToObject(o, "wall_s", r->wall_s);
    cJSON_AddNumberToObject(o, "lc_tasks_missed", tasks_missed(r));
    cJSON_AddNumberToObject(o, "lc_violation_rate", violation_rate(r));
    cJSON *jobs = cJSON_AddArrayToObject(o, "jobs");
    for (int j = 0; j < r->n_jobs; j++) {
        const de_sim_job *J = &r->jobs[j];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->jobs[j].name);
        cJSON_AddStringToObject(x, "policy", de_policy_name((de_policy)r->policy));
        cJSON_AddBoolToObject(x, "finished", J->finished);
        cJSON_AddNumberToObject(x, "global_batch", s->jobs[j].global_batch);
        cJSON_AddNumberToObject(x, "arrival_s", J->arrival_s);
        cJSON_AddItemToObject(x, "start_s", num(J->start_s));
        cJSON_AddItemToObject(x, "end_s", num(J->end_s));
        cJSON_AddItemToObject(x, "retraining_time_s", num(retraining(J)));
        cJSON_AddItemToObject(x, "iteration_time_s", num(mean_iteration(J)));
        cJSON_AddNumberToObject(x, "iterations", (double)J->iterations);
        cJSON_AddNumberToObject(x, "samples_done", J->samples_done);
        cJSON_AddNumberToObject(x, "epochs_done", J->samples_done / (double)s->jobs[j].dataset_size);
        cJSON_AddNumberToObject(x, "lost_samples", J->lost_samples);
        cJSON_AddNumberToObject(x, "lost_time_s", J->lost_time_s);
        cJSON_AddNumberToObject(x, "recovery_s", J->recovery_s);
        cJSON_AddNumberToObject(x, "failures", J->failures);
        cJSON_AddNumberToObject(x, "plan_switches", J->switches);
        cJSON_AddNumberToObject(x, "planner_calls", J->planner_calls);
        cJSON_AddNumberToObject(x, "predicted_violations", J->plan.violations);
        cJSON *devs = cJSON_AddArrayToObject(x, "devices");
        for (int i = 0; i < J->plan.n_shares; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", s->devices[J->plan.shares[i].device].name);
            cJSON_AddNumberToObject(d, "batch", J->plan.shares[i].batch);
            cJSON_AddItemToObject(d, "step_time_s", num(J->plan.shares[i].step_time_s));
            cJSON_AddItemToObject(d, "duty_cycle", num(J->plan.shares[i].duty_cycle));
            cJSON_AddItemToArray(devs, d);
        }
        cJSON_AddItemToArray(jobs, x);
    }
    cJSON *tasks = cJSON_AddArrayToObject(o, "lc_tasks");
    for (int t = 0; t < r->n_tasks; t++) {
        const de_sim_task *T = &r->tasks[t];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->tasks[t].name);
        cJSON_AddStringToObject(x, "device", s->devices[s->tasks[t].device].name);
        cJSON_AddNumberToObject(x, "requests", (double)T->requests);
        cJSON_AddNumberToObject(x, "dropped", (double)T->dropped);
        cJSON_AddNumberToObject(x, "violations", (double)T->violations);
        cJSON_AddItemToObject(x, "mean_s", num(T->mean_s));
        cJSON_AddItemToObject(x, "p50_s", num(T->p50_s));
        cJSON_AddItemToObject(x, "p95_s", num(T->p95_s));
        cJSON_AddItemToObject(x, "p99_s", num(T->p99_s));
        cJSON_AddNumberToObject(x, "percentile", s->tasks[t].percentile * 100);
        cJSON_AddItemToObject(x, "latency_s", num(T->pct_s));
        cJSON_AddNumberToObject(x, "deadline_s", s->tasks[t].deadline_s);
        cJSON_AddBoolToObject(x, "violated", T->pct_s > s->tasks[t].deadline_s);
        cJSON_AddItemToArray(tasks, x);
    }
    cJSON *devs = cJSON_AddArrayToObject(o, "devices");
    for (int d = 0; d < r->n_devices; d++) {
        const de_sim_device *D = &r->devices[d];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->devices[d].name);
        cJSON_AddNumberToObject(x, "train_s", D->train_s);
        cJSON_AddNumberToObject(x, "sync_s", D->sync_s);
        cJSON_AddNumberToObject(x, "recovery_s", D->recovery_s);
        cJSON_AddNumberToObject(x, "down_s", D->down_s);
        cJSON_AddNumberToObject(x, "lc_busy_s", D->lc_busy_s);
        cJSON_AddNumberToObject(x, "iterations", (double)D->iterations);
        cJSON_AddItemToArray(devs, x);
    }
    return o;
}

void de_report_compare_header(FILE *out)
{
    fprintf(out, "%-14s %12s %12s %10s %12s %12s %14s %12s\n", "policy", "retraining_s", "iteration_s", "devices",
            "lost_samples", "tasks_missed", "requests_viol_%", "worst_pctl/dl");
}

void de_report_compare_row(const de_sim_result *r, FILE *out)
{
    double rt = 0, it = 0;
    int unfinished = 0, devices = 0;
    double lost = 0;
    for (int j = 0; j < r->n_jobs; j++) {
        const de_sim_job *J = &r->jobs[j];
        if (J->finished)
            rt += retraining(J);
        else
            unfinished++;
        it += mean_iteration(J);
        lost += J->lost_samples;
        devices += J->plan.n_shares;
    }
    double worst = 0;
    for (int t = 0; t < r->n_tasks; t++) {
        double q = r->tasks[t].pct_s / r->scen->tasks[t].deadline_s;
        if (q > worst)
            worst = q;
    }
    char rts[32];
    if (unfinished)
        snprintf(rts, sizeof rts, "%d unfinished", unfinished);
    else
        snprintf(rts, sizeof rts, "%.1f", rt);
    fprintf(out, "%-14s %12s %12.4f %10d %12.0f %12d %14.3f %12.2f\n", de_policy_name((de_policy)r->policy), rts,
            r->n_jobs ? it / r->n_jobs : 0.0, devices, lost, tasks_missed(r), 100 * violation_rate(r), worst);
}
