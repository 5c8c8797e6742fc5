/* de_sim_report.c — the summary of a simulation run: tables, JSON, policy comparison
 * (see de_sim_report.h). */
#include "de_sim_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_outputs.h"
#include "de_summary.h"
#include "de_util.h"

static double mean_iteration(const de_sim_job *J)
{
    return J->iterations ? (J->compute_s + J->allreduce_s) / (double)J->iterations : NAN;
}

static double retraining(const de_sim_job *J)
{
    return J->finished ? J->end_s - J->arrival_s : NAN;
}

/* Requests served over their deadline or dropped, over every task. */
static double violation_rate(const de_sim_result *r)
{
    uint64_t n = 0, v = 0;
    for (int t = 0; t < r->n_tasks; t++) {
        n += r->tasks[t].requests;
        v += r->tasks[t].late + r->tasks[t].dropped;
    }
    return n ? (double)v / (double)n : 0.0;
}

/* Tasks whose served requests' latency at the task's percentile exceeded the
 * deadline. Requests dropped while a device was down are counted apart. */
int de_report_tasks_missed(const de_sim_result *r)
{
    int k = 0;
    for (int t = 0; t < r->n_tasks; t++)
        k += r->tasks[t].pct_s > r->scen->tasks[t].deadline_s;
    return k;
}

double de_report_violation_rate(const de_sim_result *r)
{
    return violation_rate(r);
}

void de_report_print(const de_sim_result *r, FILE *out)
{
    const de_scenario *s = r->scen;
    fprintf(out, "simulation  scenario %s  policy %s  seed %lu  simulated %.1f s  %llu events  %llu LC requests  %.2f s wall\n\n",
            s->name, de_policy_name((de_policy)r->policy), r->seed, r->end_s, (unsigned long long)r->events,
            (unsigned long long)r->requests, r->wall_s);
    fprintf(out, "%-16s %9s %9s %12s %10s %10s %9s %9s %9s %9s %9s %8s\n", "job", "arrival_s", "end_s", "retraining_s",
            "iterations", "iter_s", "lost_it", "ckpt_s", "plan_s", "restart_s", "failures", "switches");
    for (int j = 0; j < r->n_jobs; j++) {
        const de_sim_job *J = &r->jobs[j];
        char end[32], rt[32];
        snprintf(end, sizeof end, J->finished ? "%.1f" : "unfinished", J->end_s);
        snprintf(rt, sizeof rt, J->finished ? "%.1f" : "-", retraining(J));
        fprintf(out, "%-16s %9.1f %9s %12s %10lld %10.4f %9lld %9.1f %9.1f %9.1f %9d %8d\n", s->jobs[j].name,
                J->arrival_s, end, rt, J->iterations, mean_iteration(J), J->lost_iterations, J->checkpoint_s,
                J->planning_s, J->restart_s, J->failures, J->switches);
    }
    fprintf(out, "\n%-16s %-14s %10s %8s %9s %9s %9s %9s %10s %9s\n", "LC task", "device", "requests", "dropped", "p50_ms",
            "p95_ms", "p99_ms", "pctl_ms", "deadline", "late_%");
    for (int t = 0; t < r->n_tasks; t++) {
        const de_sim_task *T = &r->tasks[t];
        const de_lc_task *st = &s->tasks[t];
        fprintf(out, "%-16s %-14s %10llu %8llu %9.2f %9.2f %9.2f %9.2f %7.1f ms %8.3f%s\n", st->name,
                s->devices[st->device].name, (unsigned long long)T->requests, (unsigned long long)T->dropped,
                T->p50_s * 1e3, T->p95_s * 1e3, T->p99_s * 1e3, T->pct_s * 1e3, st->deadline_s * 1e3,
                T->requests ? 100.0 * (double)T->late / (double)T->requests : 0.0,
                T->pct_s > st->deadline_s ? "  MISSED" : (T->dropped ? "  (device down)" : ""));
    }
    fprintf(out, "\n%-14s %-18s %10s %8s %8s %8s %8s %8s %8s %9s %9s\n", "device", "type", "mean_batch", "train_%",
            "sync_%", "ckpt_%", "plan_%", "recov_%", "down_%", "lc_util_%", "iters");
    for (int d = 0; d < r->n_devices; d++) {
        const de_sim_device *D = &r->devices[d];
        if (D->iterations == 0 && D->time_s[DE_TL_DOWN] == 0 && s->dev_task_start[d + 1] == s->dev_task_start[d])
            continue; /* never used, never down, no LC: nothing to say */
        double T = r->end_s > 0 ? r->end_s : 1;
        char mb[16] = "-";
        if (D->iterations)
            snprintf(mb, sizeof mb, "%.1f", D->batch_sum / (double)D->iterations);
        fprintf(out, "%-14s %-18s %10s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %9.1f %9lld\n", s->devices[d].name,
                s->catalog->types[s->devices[d].type].name, mb, 100 * D->time_s[DE_TL_TRAIN] / T,
                100 * D->time_s[DE_TL_SYNC] / T, 100 * D->time_s[DE_TL_CHECKPOINT] / T, 100 * D->time_s[DE_TL_PLAN] / T,
                100 * D->time_s[DE_TL_RECOVER] / T, 100 * D->time_s[DE_TL_DOWN] / T, 100 * D->lc_busy_s / T,
                D->iterations);
    }
    fprintf(out, "\nLC tasks over their deadline: %d of %d; requests over deadline or dropped: %.3f%%\n",
            de_report_tasks_missed(r), r->n_tasks, 100 * violation_rate(r));
}

cJSON *de_report_json(const de_sim_result *r)
{
    const de_scenario *s = r->scen;
    de_state st; /* names and the rates at time 0, for the plan's predictions */
    de_state_init(&st, s, 0);
    de_summary_job *J = de_calloc((size_t)s->n_jobs + 1, sizeof *J);
    for (int j = 0; j < s->n_jobs; j++) {
        const de_sim_job *R = &r->jobs[j];
        de_summary_job *x = &J[j];
        x->job = j;
        x->status = R->finished ? "finished" : "unfinished";
        x->plan = R->plan.n_shares ? &R->plan : NULL;
        x->measured = 1;
        x->iterations_total = R->iterations_total;
        x->iterations_done = (long long)ceil(R->samples_done / s->jobs[j].global_batch);
        x->iterations_run = R->iterations;
        x->retraining_time_s = retraining(R);
        x->iteration_time_s = mean_iteration(R);
        x->compute_time_s = R->iterations ? R->compute_s / (double)R->iterations : NAN;
        x->allreduce_time_s = R->iterations ? R->allreduce_s / (double)R->iterations : NAN;
        x->lost_iterations = R->lost_iterations;
        x->lost_time_s = R->lost_time_s;
        x->checkpoint_time_s = R->checkpoint_s;
        x->planning_time_s = R->planning_s;
        x->restart_time_s = R->restart_s;
        x->failures = R->failures;
        x->plan_switches = R->switches;
    }
    de_summary_task *T = de_calloc((size_t)s->n_tasks + 1, sizeof *T);
    for (int t = 0; t < s->n_tasks; t++) {
        const de_sim_task *R = &r->tasks[t];
        T[t] = (de_summary_task){1,        st.rate[t], NAN,       R->pct_s,     R->p50_s, R->p95_s,
                                 R->p99_s, R->mean_s, R->requests, R->dropped, R->late};
    }
    de_summary_device *D = de_calloc((size_t)s->n_devices + 1, sizeof *D);
    const de_plan *last = s->n_jobs ? &r->jobs[0].plan : NULL;
    for (int d = 0; d < s->n_devices; d++) {
        const de_sim_device *R = &r->devices[d];
        D[d].iterations = R->iterations;
        D[d].mean_batch = R->iterations ? R->batch_sum / (double)R->iterations : NAN;
        D[d].time_s = R->time_s;
        for (int i = 0; last && i < last->n_shares; i++)
            if (last->shares[i].device == d)
                D[d].batch = last->shares[i].batch;
    }
    double *dt = de_calloc((size_t)r->n_decisions + 1, sizeof *dt);
    const char **dl = de_calloc((size_t)r->n_decisions + 1, sizeof *dl);
    for (int i = 0; i < r->n_decisions; i++) {
        dt[i] = r->decisions[i].time_s;
        dl[i] = r->decisions[i].line;
    }
    de_summary sm = {"sim", (de_policy)r->policy, s->n_jobs, J, T, D, r->n_decisions, dt, dl};
    cJSON *o = de_summary_json(&sm, &st);
    cJSON *x = cJSON_AddObjectToObject(o, "sim");
    cJSON_AddNumberToObject(x, "seed", (double)r->seed);
    cJSON_AddNumberToObject(x, "simulated_s", r->end_s);
    cJSON_AddNumberToObject(x, "events", (double)r->events);
    cJSON_AddNumberToObject(x, "lc_requests", (double)r->requests);
    cJSON_AddNumberToObject(x, "lc_tasks_missed", de_report_tasks_missed(r));
    cJSON_AddNumberToObject(x, "lc_violation_rate", violation_rate(r));
    cJSON_AddNumberToObject(x, "wall_s", r->wall_s);
    int reshares = 0;
    for (int j = 0; j < s->n_jobs; j++)
        reshares += r->jobs[j].reshares;
    cJSON_AddNumberToObject(x, "reshares", reshares); /* plans taken in place (same devices, other shares) */
    cJSON *c = cJSON_AddObjectToObject(x, "correction"); /* the online correction (core/de_correct.h) */
    cJSON_AddBoolToObject(c, "enabled", r->correction);
    cJSON_AddNumberToObject(c, "model_errors", s->n_model_errors);
    cJSON_AddNumberToObject(c, "factors_applied", (double)r->corrections);
    cJSON_AddNumberToObject(c, "crossings", (double)r->warnings);
    if (r->step_corr) {
        cJSON *sf = cJSON_AddObjectToObject(c, "step"), *lf = cJSON_AddObjectToObject(c, "lc");
        for (int d = 0; d < s->n_devices; d++)
            cJSON_AddNumberToObject(sf, s->devices[d].name, r->step_corr[d]);
        for (int t = 0; t < s->n_tasks; t++)
            cJSON_AddNumberToObject(lf, s->tasks[t].name, r->lc_corr[t]);
    }
    free(dt);
    free(dl);
    free(J);
    free(T);
    free(D);
    de_state_free(&st);
    return o;
}

void de_report_compare_header(FILE *out)
{
    fprintf(out, "%-14s %12s %12s %10s %12s %12s %14s %12s\n", "policy", "retraining_s", "iteration_s", "devices",
            "lost_iters", "tasks_missed", "requests_viol_%", "worst_pctl/dl");
}

void de_report_compare_row(const de_sim_result *r, FILE *out)
{
    double rt = 0, it = 0;
    int unfinished = 0, devices = 0;
    long long lost = 0;
    for (int j = 0; j < r->n_jobs; j++) {
        const de_sim_job *J = &r->jobs[j];
        if (J->finished)
            rt += retraining(J);
        else
            unfinished++;
        it += mean_iteration(J);
        lost += J->lost_iterations;
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
    fprintf(out, "%-14s %12s %12.4f %10d %12lld %12d %14.3f %12.2f\n", de_policy_name((de_policy)r->policy), rts,
            r->n_jobs ? it / r->n_jobs : 0.0, devices, lost, de_report_tasks_missed(r), 100 * violation_rate(r), worst);
}
