/* run_report.c — what `deepedge run` records: the output files of record/de_outputs.h
 * (the simulator's, plus ranks.csv), the decisions, the summary in the schema shared with
 * plan and sim (record/de_summary.h), the table on stdout and the figures
 * (run_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_net.h"
#include "de_plot.h"
#include "de_summary.h"
#include "de_util.h"
#include "run_internal.h"

int run_open_outputs(run *r, de_err *err)
{
    const char *dir = r->o->out_dir;
    if (de_mkdir_p(dir) != 0)
        return de_err_set(err, DE_EIO, "%s: cannot create the output folder", dir);
    /* followed live (tail -f, the live display, tests), and whole rows only if killed */
    if (!(r->f_events = de_output_open_live(dir, DE_OUT_EVENTS, err)) ||
        !(r->f_ranks = de_output_open_live(dir, DE_OUT_RANKS, err)) ||
        !(r->f_timeline = de_output_open_live(dir, DE_OUT_TIMELINE, err)) ||
        !(r->f_windows = de_output_open_live(dir, DE_OUT_LC_WINDOWS, err)))
        return DE_EIO;
    /* the operator's inbox (run_read_inbox), empty at each start; only its owner writes it */
    r->inbox = de_path_join(dir, "inbox");
    int fd = open(r->inbox, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return de_err_set(err, DE_EIO, "%s: cannot create the run's inbox: %s", r->inbox, strerror(errno));
    close(fd);
    return DE_OK;
}

void run_close_outputs(run *r)
{
    FILE **fs[] = {&r->f_ranks, &r->f_timeline, &r->f_windows, &r->f_events};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        if (*fs[i])
            fclose(*fs[i]);
        *fs[i] = NULL;
    }
}

/* A segment of device d's timeline, counted in its time per state. */
void run_timeline(run *r, int d, double t0, double t1, de_tl_state st)
{
    if (!(t1 > t0) || st == DE_TL_OFF)
        return;
    r->devs[d].time_s[st] += t1 - t0;
    de_output_timeline(r->f_timeline, r->s->devices[d].name, d, t0, t1, st);
}

/* Requests of LC task ti that arrived while its device was down, up to now: its rate
 * times the time (the service is stopped, nothing arrives to be counted). */
void run_account_dropped(run *r, int ti, double now)
{
    run_task *T = &r->tasks[ti];
    if (!T->down || !(now > T->dropped_until))
        return;
    double x = r->st.rate[ti] * (now - T->dropped_until);
    T->dropped += x;
    T->win_dropped += x;
    T->dropped_until = now;
}

void run_window_flush(run *r, double now)
{
    const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < r->s->n_tasks; t++) {
        run_task *T = &r->tasks[t];
        const de_lc_task *lt = &r->s->tasks[t];
        run_account_dropped(r, t, now);
        double q[3] = {NAN, NAN, NAN};
        if (T->win.n)
            de_hist_quantiles(&T->win, ps, 3, q);
        uint64_t dropped = (uint64_t)llround(T->win_dropped);
        if (T->win.n || dropped) {
            de_window_row w = {r->win_start,
                               now,
                               lt->name,
                               T->win.n + dropped,
                               dropped,
                               (uint64_t)T->win_late + dropped,
                               q[0],
                               q[1],
                               q[2],
                               T->win.n ? de_hist_quantile(&T->win, lt->percentile) : NAN,
                               100 * lt->percentile,
                               lt->deadline_s};
            de_output_window(r->f_windows, &w);
        }
        de_hist_reset(&T->win);
        T->win_late = 0;
        T->win_dropped -= (double)dropped; /* the fraction left counts in the next window */
    }
    if (r->f_windows)
        fflush(r->f_windows);
    r->win_start = now;
}

void run_record_decision(run *r, const de_decision *d, const de_change *c)
{
    char line[512];
    de_decision_describe(d, c, r->s, line, sizeof line);
    run_event(r, "decision", "%s", line);
    r->decision_t = de_realloc(r->decision_t, (size_t)(r->n_decisions + 1) * sizeof *r->decision_t);
    r->decision_line = de_realloc(r->decision_line, (size_t)(r->n_decisions + 1) * sizeof *r->decision_line);
    r->decision_t[r->n_decisions] = run_rel(r);
    r->decision_line[r->n_decisions++] = de_strdup(line);
}

static void write_iterations(run *r)
{
    de_err err;
    FILE *f = de_output_open(r->o->out_dir, DE_OUT_ITERATIONS, &err);
    const de_job *j = &r->s->jobs[r->job];
    for (long k = 0; f && k < r->g_total; k++)
        if (r->it_ranks[k])
            de_output_iteration(f, j->name, k + 1, r->it_start[k], r->it_compute[k],
                                r->it_end[k] - r->it_start[k] - r->it_compute[k], r->it_end[k],
                                fmin((double)(k + 1) * j->global_batch, (double)j->dataset_size * j->epochs));
    de_output_close(f, r->o->out_dir, DE_OUT_ITERATIONS, &err);
}

static void write_cdf(run *r)
{
    de_err err;
    FILE *f = de_output_open(r->o->out_dir, DE_OUT_LC_CDF, &err);
    for (int ti = 0; f && ti < r->s->n_tasks; ti++)
        de_hist_write_cdf(f, r->s->tasks[ti].name, &r->tasks[ti].all, r->s->tasks[ti].deadline_s,
                          r->s->tasks[ti].percentile * 100);
    de_output_close(f, r->o->out_dir, DE_OUT_LC_CDF, &err);
}

/* The run's own fields, beside the shared schema. */
static cJSON *run_fields(run *r)
{
    const de_scenario *s = r->s;
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "cpu_budget", de_budget_mode_name(r->budget));
    cJSON_AddStringToObject(x, "links", r->o->hostfile || r->o->use_hosts ? "hosts" : r->o->links);
    if (r->ns_prefix[0])
        cJSON_AddStringToObject(x, "netns_prefix", r->ns_prefix);
    cJSON_AddItemToObject(x, "final_loss", de_summary_num(r->last_loss));
    cJSON_AddItemToObject(x, "val_accuracy", de_summary_num(r->val_acc));
    cJSON_AddItemToObject(x, "predicted_iteration_time_s", de_summary_num(r->plan.iteration_time_s));
    cJSON_AddNumberToObject(x, "restarts", r->restarts);
    cJSON_AddNumberToObject(x, "lines_refused", (double)r->refused);
    cJSON_AddNumberToObject(x, "auth_refused", (double)r->auth_refused);
    cJSON *cor = cJSON_AddObjectToObject(x, "correction"); /* the online correction (core/de_correct.h) */
    cJSON_AddBoolToObject(cor, "enabled", r->cor.enabled);
    cJSON_AddNumberToObject(cor, "factors_applied", (double)r->cor.changes);
    cJSON_AddNumberToObject(cor, "crossings", (double)r->cor.warnings);
    if (r->st.step_corr) {
        cJSON *sf = cJSON_AddObjectToObject(cor, "step"), *lf = cJSON_AddObjectToObject(cor, "lc");
        for (int d = 0; d < s->n_devices; d++)
            cJSON_AddNumberToObject(sf, s->devices[d].name, r->st.step_corr[d]);
        for (int t = 0; t < s->n_tasks; t++)
            cJSON_AddNumberToObject(lf, s->tasks[t].name, de_state_lc_factor(&r->st, t, 0));
    }
    if (r->o->stage_dir) { /* --stage: what went to the hosts and came back */
        cJSON *g = cJSON_AddObjectToObject(x, "stage");
        cJSON_AddStringToObject(g, "dir", r->o->stage_dir);
        cJSON_AddNumberToObject(g, "manifests_sent", (double)r->staged.manifests);
        cJSON_AddNumberToObject(g, "files_sent", (double)r->staged.sent);
        cJSON_AddNumberToObject(g, "bytes_sent", (double)r->staged.sent_bytes);
        cJSON_AddNumberToObject(g, "files_received", (double)r->staged.received);
        cJSON_AddNumberToObject(g, "bytes_received", (double)r->staged.received_bytes);
        cJSON_AddNumberToObject(g, "transfers_failed", (double)r->staged.failed);
    }
    cJSON_AddNumberToObject(x, "recovery_time_s", r->recovery_s_sum);
    /* how long each kind of re-plan took: in place (decision to taken), and a restart */
    cJSON_AddNumberToObject(x, "reshares", (double)r->reshares);
    cJSON_AddItemToObject(x, "reshare_mean_s", de_summary_num(r->reshares ? r->reshare_s_sum / (double)r->reshares : NAN));
    cJSON_AddNumberToObject(x, "switches", r->switches);
    cJSON_AddItemToObject(x, "recoveries", cJSON_Duplicate(r->recoveries, 1));
    cJSON *devs = cJSON_AddArrayToObject(x, "devices");
    for (int d = 0; d < s->n_devices; d++) {
        const run_dev *D = &r->devs[d];
        cJSON *y = cJSON_CreateObject();
        cJSON_AddStringToObject(y, "name", s->devices[d].name);
        cJSON_AddNumberToObject(y, "cpu_budget_cores", s->catalog->types[s->devices[d].type].emulation_cpu_cores);
        cJSON_AddStringToObject(y, "backend", D->backend[0] ? D->backend : "-");
        cJSON_AddItemToObject(y, "compute_mean_s", de_summary_num(D->iters ? D->sum_compute / D->iters : NAN));
        cJSON_AddItemToObject(y, "sync_mean_s", de_summary_num(D->iters ? D->sum_sync / D->iters : NAN));
        cJSON_AddNumberToObject(y, "duty_cycle", D->sum_step > 0 ? D->sum_compute / D->sum_step : 0);
        cJSON_AddItemToObject(y, "cpu_s", de_summary_num(D->cpu_s));
        cJSON_AddNumberToObject(y, "rss_kb", (double)D->rss_kb);
        cJSON_AddBoolToObject(y, "down", !isnan(D->down_since));
        cJSON_AddItemToArray(devs, y);
    }
    cJSON *tasks = cJSON_AddArrayToObject(x, "lc_tasks");
    for (int ti = 0; ti < s->n_tasks; ti++) {
        const run_task *T = &r->tasks[ti];
        cJSON *y = cJSON_CreateObject();
        cJSON_AddStringToObject(y, "name", s->tasks[ti].name);
        cJSON_AddItemToObject(y, "alone_latency_s",
                              de_summary_num(T->alone.n ? de_hist_quantile(&T->alone, s->tasks[ti].percentile) : NAN));
        cJSON_AddNumberToObject(y, "alone_requests", (double)T->alone.n);
        cJSON_AddItemToObject(y, "service_mean_s", de_summary_num(T->n ? T->svc_sum / (double)T->n : NAN));
        cJSON_AddItemToObject(y, "alone_service_mean_s",
                              de_summary_num(T->alone.n ? T->svc_alone_sum / (double)T->alone.n : NAN));
        cJSON_AddItemToObject(y, "cpu_s", de_summary_num(T->cpu_s));
        cJSON_AddBoolToObject(y, "stopped_with_device", T->down);
        cJSON_AddNumberToObject(y, "restarts", T->restarts);
        cJSON_AddItemToArray(tasks, y);
    }
    cJSON_AddItemToObject(x, "events", cJSON_Duplicate(r->events, 1));
    return x;
}

static cJSON *summarize(run *r, double train_s, const char *status)
{
    const de_scenario *s = r->s;
    long iters = 0;
    double it_sum = 0, comp_sum = 0;
    for (long k = 0; k < r->g_total; k++)
        if (r->it_ranks[k]) {
            iters++;
            it_sum += r->it_end[k] - r->it_start[k];
            comp_sum += r->it_compute[k];
        }
    de_summary_job J = {r->job,
                        status,
                        &r->plan,
                        1,
                        r->g_total,
                        r->g_done,
                        r->iters_run,
                        strcmp(status, "finished") == 0 ? train_s : NAN,
                        iters ? it_sum / (double)iters : NAN,
                        iters ? comp_sum / (double)iters : NAN,
                        iters ? (it_sum - comp_sum) / (double)iters : NAN,
                        r->lost_iters,
                        r->lost_s,
                        r->ckpt_s_sum,
                        r->planning_s_sum,
                        r->recovery_s_sum,
                        r->failures,
                        r->switches};
    de_summary_task *T = de_calloc((size_t)s->n_tasks + 1, sizeof *T);
    const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < s->n_tasks; t++) {
        const run_task *R = &r->tasks[t];
        double q[3] = {NAN, NAN, NAN};
        if (R->all.n)
            de_hist_quantiles(&R->all, ps, 3, q);
        T[t] = (de_summary_task){1,
                                 r->st.rate[t],
                                 NAN,
                                 R->all.n ? de_hist_quantile(&R->all, s->tasks[t].percentile) : NAN,
                                 q[0],
                                 q[1],
                                 q[2],
                                 R->all.n ? de_hist_mean(&R->all) : NAN,
                                 (uint64_t)R->n + (uint64_t)llround(R->dropped),
                                 (uint64_t)llround(R->dropped),
                                 (uint64_t)R->late};
    }
    de_summary_device *D = de_calloc((size_t)s->n_devices + 1, sizeof *D);
    for (int d = 0; d < s->n_devices; d++) {
        D[d].iterations = r->devs[d].iters;
        D[d].time_s = r->devs[d].time_s;
    }
    for (int k = 0; k < r->plan.n_shares; k++)
        D[r->plan.shares[k].device].batch = r->plan.shares[k].batch;
    for (int d = 0; d < s->n_devices; d++) /* the mean local batch over its iterations */
        D[d].mean_batch = r->devs[d].iters ? r->devs[d].batch_sum / (double)r->devs[d].iters : NAN;
    de_summary sm = {"run", r->plan.policy, 1, &J, T, D, r->n_decisions, r->decision_t,
                     (const char *const *)r->decision_line};
    cJSON *o = de_summary_json(&sm, &r->st);
    cJSON *tasks = cJSON_GetObjectItem(o, "lc_tasks");
    for (int t = 0; t < s->n_tasks && tasks; t++) { /* run only: what served the task */
        cJSON *it = cJSON_GetArrayItem(tasks, t);
        const de_lc_service *v = &s->tasks[t].svc;
        if (!it)
            continue;
        cJSON_AddStringToObject(it, "served_by", v->kind == DE_LC_SVC_NONE ? "deepedge" : de_lc_service_kind_name(v->kind));
        cJSON_AddNumberToObject(it, "failed", (double)r->tasks[t].failed);
    }
    cJSON_AddItemToObject(o, "run", run_fields(r));
    free(T);
    free(D);
    return o;
}

static void print_summary(run *r, const cJSON *sum, FILE *out, const char *status)
{
    const de_scenario *s = r->s;
    const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "jobs"), 0);
#define NUM(o, k) cJSON_GetNumberValue(cJSON_GetObjectItem((o), (k)))
    fprintf(out, "\nrun %s: job %s %s — %ld of %ld iterations, re-training %.1f s (%d restart%s)\n", s->name,
            s->jobs[r->job].name, status, r->g_done, r->g_total, NUM(job, "retraining_time_s"), r->restarts,
            r->restarts == 1 ? "" : "s");
    fprintf(out, "  iteration %.1f ms measured (compute %.1f ms) vs %.1f ms predicted; final loss %.4f, val accuracy "
                 "%.1f%%\n",
            1e3 * NUM(job, "iteration_time_s"), 1e3 * NUM(job, "compute_time_s"), 1e3 * r->plan.iteration_time_s,
            r->last_loss, 100 * r->val_acc);
    fprintf(out, "  CPU budgets: %s; links: %s\n", de_budget_mode_name(r->budget),
            r->o->hostfile || r->o->use_hosts ? "hosts" : r->o->links);
    if (r->restarts)
        fprintf(out, "  %d failure(s), %d switch(es): lost work %ld iterations (%.1f s); recovery %.1f s in total\n",
                r->failures, r->switches, r->lost_iters, r->lost_s, r->recovery_s_sum);
    fprintf(out, "\n  %-14s %-12s %6s %9s %9s %6s\n", "device", "type", "iters", "compute", "sync", "duty");
    for (int d = 0; d < s->n_devices; d++) {
        const run_dev *D = &r->devs[d];
        const char *type = s->catalog->types[s->devices[d].type].name, *down = isnan(D->down_since) ? "" : "  down";
        if (!D->iters)
            fprintf(out, "  %-14s %-12s %6d %10s %10s %6s%s\n", s->devices[d].name, type, 0, "-", "-", "-",
                    *down ? down : "  not in the plan");
        else
            fprintf(out, "  %-14s %-12s %6ld %7.1f ms %7.1f ms %6.2f%s\n", s->devices[d].name, type, D->iters,
                    1e3 * D->sum_compute / D->iters, 1e3 * D->sum_sync / D->iters,
                    D->sum_step > 0 ? D->sum_compute / D->sum_step : 0, down);
    }
    fprintf(out, "\n  %-12s %-12s %7s %7s %9s %9s %9s %12s %9s %9s %9s %6s\n", "LC task", "device", "reqs", "dropped",
            "p50", "p95", "p99", "at pct", "alone", "predicted", "deadline", "met");
    const cJSON *it;
    int ti = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "lc_tasks"))
    {
        const run_task *T = &r->tasks[ti];
        char pct[32];
        snprintf(pct, sizeof pct, "p%g %.1f", NUM(it, "percentile"), 1e3 * NUM(it, "latency_s"));
        double alone = T->alone.n ? de_hist_quantile(&T->alone, s->tasks[ti].percentile) : NAN, pred = NAN;
        for (int k = 0; k < r->plan.n_tasks; k++)
            if (r->plan.tasks[k].task == ti)
                pred = r->plan.tasks[k].latency_s;
        fprintf(out, "  %-12s %-12s %7.0f %7.0f %6.1f ms %6.1f ms %6.1f ms %9s ms %6.1f ms %6.1f ms %6.1f ms %6s\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")),
                cJSON_GetStringValue(cJSON_GetObjectItem(it, "device")), NUM(it, "requests"),
                NUM(it, "requests_dropped"), 1e3 * NUM(it, "p50_s"), 1e3 * NUM(it, "p95_s"), 1e3 * NUM(it, "p99_s"),
                pct, 1e3 * alone, 1e3 * pred, 1e3 * NUM(it, "deadline_s"),
                cJSON_IsTrue(cJSON_GetObjectItem(it, "deadline_met")) ? "yes" : "NO");
        ti++;
    }
#undef NUM
    fprintf(out, "\n  outputs in %s: summary.json, plan-*.cfg, iterations.csv, ranks.csv, timeline.csv, "
                 "lc_windows.csv, lc_cdf.csv, events.csv, figures\n",
            r->o->out_dir);
}

int run_finish(run *r, double train_s, int completed, int interrupted, int failed, cJSON **summary, de_err *err)
{
    const de_scenario *s = r->s;
    double now = run_rel(r);
    run_event_tally(r);
    if (r->refused)
        run_event(r, "intake", "%ld lines refused in all (see the first ones above)", r->refused);
    run_window_flush(r, now);
    for (int d = 0; d < s->n_devices; d++)
        if (!isnan(r->devs[d].down_since))
            run_timeline(r, d, r->devs[d].down_since, now, DE_TL_DOWN);
    run_close_outputs(r);
    write_iterations(r);
    write_cdf(r);
    const char *status = completed ? "finished" : failed ? "failed" : "stopped";
    cJSON *sum = summarize(r, train_s, status);
    char *txt = cJSON_Print(sum);
    char *p = de_path_join(r->o->out_dir, "summary.json");
    de_err werr;
    if (de_file_write_atomic(p, txt, strlen(txt), &werr))
        fprintf(stderr, "deepedge run: %s\n", werr.msg);
    free(p);
    free(txt);
    if (r->out)
        print_summary(r, sum, r->out, status);
    if (r->o->plots) {
        de_err perr;
        char *label = de_sprintf("%s, %s (run)", s->name, de_policy_name(r->plan.policy));
        if (de_plot_run_figures(s, r->o->out_dir, "wall-clock", label, &perr))
            fprintf(stderr, "deepedge run: figures not rendered: %s\n", perr.msg);
        free(label);
    }
    *summary = sum;
    if (!completed && !failed)
        return de_err_set(err, DE_EIO, "run %s at iteration %ld of %ld", interrupted ? "interrupted" : "stopped",
                          r->g_done, r->g_total);
    return DE_OK;
}
