/* de_summary.c — the shared JSON summary (see de_summary.h). */
#include "de_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_outputs.h"
#include "de_util.h"

cJSON *de_summary_num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static void add_num(cJSON *o, const char *k, double v)
{
    cJSON_AddItemToObject(o, k, de_summary_num(v));
}

cJSON *de_summary_plan(const de_plan *p, const de_state *st)
{
    const de_scenario *s = st->scen;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policy", de_policy_name(p->policy));
    cJSON_AddBoolToObject(o, "feasible", p->feasible);
    cJSON *sh = cJSON_AddArrayToObject(o, "shares");
    for (int i = 0; i < p->n_shares; i++) {
        const de_plan_share *x = &p->shares[i];
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "device", s->devices[x->device].name);
        cJSON_AddStringToObject(d, "type", s->catalog->types[s->devices[x->device].type].name);
        cJSON_AddNumberToObject(d, "batch", x->batch);
        add_num(d, "step_time_s", x->step_time_s);
        add_num(d, "duty_cycle", x->duty_cycle);
        cJSON_AddItemToArray(sh, d);
    }
    add_num(o, "iteration_time_s", p->n_shares ? p->iteration_time_s : NAN);
    add_num(o, "compute_time_s", p->n_shares ? p->compute_time_s : NAN);
    add_num(o, "allreduce_time_s", p->n_shares ? p->allreduce_time_s : NAN);
    cJSON_AddNumberToObject(o, "iterations", (double)p->iterations);
    add_num(o, "retraining_time_s", p->n_shares ? p->retraining_time_s : NAN);
    cJSON_AddNumberToObject(o, "lc_tasks_over_deadline", p->violations);
    cJSON_AddNumberToObject(o, "lc_tasks_over_margin", p->over_margin);
    cJSON_AddNumberToObject(o, "planning_time_s", p->planning_time_s);
    if (p->verdict)
        cJSON_AddStringToObject(o, "verdict", p->verdict);
    else
        cJSON_AddNullToObject(o, "verdict");
    return o;
}

static cJSON *job_json(const de_summary_job *J, const de_state *st)
{
    const de_scenario *s = st->scen;
    const de_job *j = &s->jobs[J->job];
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "name", j->name);
    cJSON_AddStringToObject(x, "network", s->catalog->networks[j->network].name);
    cJSON_AddNumberToObject(x, "global_batch", j->global_batch);
    cJSON_AddStringToObject(x, "status", J->status);
    cJSON_AddNumberToObject(x, "iterations_total", (double)J->iterations_total);
    int m = J->measured;
    add_num(x, "iterations_done", m ? (double)J->iterations_done : NAN);
    add_num(x, "iterations_run", m ? (double)J->iterations_run : NAN);
    add_num(x, "retraining_time_s", J->retraining_time_s);
    add_num(x, "iteration_time_s", J->iteration_time_s);
    add_num(x, "compute_time_s", J->compute_time_s);
    add_num(x, "allreduce_time_s", J->allreduce_time_s);
    add_num(x, "lost_iterations", m ? (double)J->lost_iterations : NAN);
    add_num(x, "lost_time_s", m ? J->lost_time_s : NAN);
    add_num(x, "checkpoint_time_s", m ? J->checkpoint_time_s : NAN);
    add_num(x, "planning_time_s", m ? J->planning_time_s : NAN);
    add_num(x, "restart_time_s", m ? J->restart_time_s : NAN);
    add_num(x, "failures", m ? J->failures : NAN);
    add_num(x, "plan_switches", m ? J->plan_switches : NAN);
    if (J->plan)
        cJSON_AddItemToObject(x, "plan", de_summary_plan(J->plan, st));
    else
        cJSON_AddNullToObject(x, "plan");
    return x;
}

/* The plan's prediction for task ti (NAN when the plan does not cover it). */
static double predicted(const de_plan *p, int ti)
{
    for (int k = 0; p && k < p->n_tasks; k++)
        if (p->tasks[k].task == ti)
            return p->tasks[k].latency_s;
    return NAN;
}

/* One decision line (key=value ...) as an object; numbers where they parse. */
static cJSON *decision_json(double t, const char *line)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "time_s", t);
    const char *p = line;
    while (*p) {
        size_t kl = strcspn(p, "="), vl;
        if (!p[kl])
            break;
        char key[64], val[1024];
        snprintf(key, sizeof key, "%.*s", (int)(kl < 63 ? kl : 63), p);
        p += kl + 1;
        vl = strcspn(p, " ");
        snprintf(val, sizeof val, "%.*s", (int)(vl < 1023 ? vl : 1023), p);
        p += vl;
        p += strspn(p, " ");
        char *end;
        double v = strtod(val, &end);
        if (strcmp(val, "nan") == 0 || strcmp(val, "-nan") == 0)
            cJSON_AddNullToObject(o, key);
        else if (end != val && !*end && strcmp(key, "target") && strcmp(key, "plan"))
            cJSON_AddNumberToObject(o, key, v);
        else
            cJSON_AddStringToObject(o, key, val);
    }
    return o;
}

cJSON *de_summary_json(const de_summary *sm, const de_state *st)
{
    const de_scenario *s = st->scen;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "schema_version", DE_SUMMARY_VERSION);
    cJSON_AddStringToObject(o, "command", sm->command);
    cJSON_AddStringToObject(o, "scenario", s->name);
    cJSON_AddStringToObject(o, "scenario_file", s->path);
    cJSON_AddStringToObject(o, "policy", de_policy_name(sm->policy));
    /* the verdict */
    char text[4096] = "";
    size_t len = 0;
    int ok = 1;
    for (int i = 0; i < sm->n_jobs; i++) {
        const de_summary_job *J = &sm->jobs[i];
        int good = J->measured ? strcmp(J->status, "finished") == 0 : J->plan && J->plan->feasible;
        if (!good && len < sizeof text)
            len += (size_t)snprintf(text + len, sizeof text - len, "%sjob %s %s", len ? "; " : "",
                                    s->jobs[J->job].name,
                                    J->measured ? J->status : J->plan && J->plan->n_shares ? "not feasible" : "has no plan");
        ok &= good;
    }
    for (int t = 0; t < s->n_tasks; t++) {
        const de_summary_task *T = &sm->tasks[t];
        double lat = T->measured ? T->latency_s : T->predicted_latency_s;
        double limit = s->tasks[t].deadline_s;
        if (lat > limit && len < sizeof text) { /* NAN (nothing served) is not a miss */
            len += (size_t)snprintf(text + len, sizeof text - len, "%sLC task %s p%g %.1f ms > deadline %.1f ms",
                                    len ? "; " : "", s->tasks[t].name, 100 * s->tasks[t].percentile, 1e3 * lat,
                                    1e3 * limit);
            ok = 0;
        }
    }
    cJSON *v = cJSON_AddObjectToObject(o, "verdict");
    cJSON_AddBoolToObject(v, "ok", ok);
    if (len)
        cJSON_AddStringToObject(v, "text", text);
    else
        cJSON_AddNullToObject(v, "text");
    cJSON *jobs = cJSON_AddArrayToObject(o, "jobs");
    for (int i = 0; i < sm->n_jobs; i++)
        cJSON_AddItemToArray(jobs, job_json(&sm->jobs[i], st));
    const de_plan *last = sm->n_jobs ? sm->jobs[0].plan : NULL;
    cJSON *tasks = cJSON_AddArrayToObject(o, "lc_tasks");
    for (int t = 0; t < s->n_tasks; t++) {
        const de_summary_task *T = &sm->tasks[t];
        const de_lc_task *lt = &s->tasks[t];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", lt->name);
        cJSON_AddStringToObject(x, "device", s->devices[lt->device].name);
        cJSON_AddStringToObject(x, "model", s->catalog->lc_models[lt->model].name);
        cJSON_AddNumberToObject(x, "percentile", 100 * lt->percentile);
        cJSON_AddNumberToObject(x, "deadline_s", lt->deadline_s);
        add_num(x, "rate_rps", T->rate_rps);
        add_num(x, "predicted_latency_s", isfinite(T->predicted_latency_s) ? T->predicted_latency_s : predicted(last, t));
        int m = T->measured;
        add_num(x, "latency_s", m ? T->latency_s : NAN);
        add_num(x, "p50_s", m ? T->p50_s : NAN);
        add_num(x, "p95_s", m ? T->p95_s : NAN);
        add_num(x, "p99_s", m ? T->p99_s : NAN);
        add_num(x, "mean_s", m ? T->mean_s : NAN);
        add_num(x, "requests", m ? (double)T->requests : NAN);
        add_num(x, "requests_dropped", m ? (double)T->dropped : NAN);
        add_num(x, "requests_over_deadline", m ? (double)T->late : NAN);
        double lat = m ? T->latency_s : T->predicted_latency_s;
        cJSON_AddBoolToObject(x, "deadline_met", !(lat > lt->deadline_s));
        cJSON_AddItemToArray(tasks, x);
    }
    cJSON *devs = cJSON_AddArrayToObject(o, "devices");
    for (int d = 0; d < s->n_devices; d++) {
        const de_summary_device *D = &sm->devices[d];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->devices[d].name);
        cJSON_AddStringToObject(x, "type", s->catalog->types[s->devices[d].type].name);
        cJSON_AddStringToObject(x, "link", s->links[s->devices[d].link].name);
        cJSON_AddNumberToObject(x, "batch", D->batch);
        add_num(x, "iterations", D->time_s ? (double)D->iterations : NAN);
        add_num(x, "mean_batch", D->time_s && D->iterations ? D->mean_batch : NAN);
        if (D->time_s) {
            cJSON *ts = cJSON_AddObjectToObject(x, "time_s");
            for (int k = 0; k < DE_TL_COUNT; k++)
                cJSON_AddNumberToObject(ts, de_tl_name((de_tl_state)k), D->time_s[k]);
        } else {
            cJSON_AddNullToObject(x, "time_s");
        }
        cJSON_AddItemToArray(devs, x);
    }
    cJSON *dec = cJSON_AddArrayToObject(o, "decisions");
    for (int i = 0; i < sm->n_decisions; i++)
        cJSON_AddItemToArray(dec, decision_json(sm->decision_time_s[i], sm->decision_line[i]));
    return o;
}

cJSON *de_summary_of_plan(const de_plan *p, const de_state *st)
{
    const de_scenario *s = st->scen;
    de_summary_job J;
    memset(&J, 0, sizeof J);
    J.job = p->job;
    J.status = "planned";
    J.plan = p;
    const de_job *j = &s->jobs[p->job];
    J.iterations_total = (long long)ceil((double)j->dataset_size * j->epochs / j->global_batch);
    J.retraining_time_s = p->n_shares ? p->retraining_time_s : NAN;
    J.iteration_time_s = p->n_shares ? p->iteration_time_s : NAN;
    J.compute_time_s = p->n_shares ? p->compute_time_s : NAN;
    J.allreduce_time_s = p->n_shares ? p->allreduce_time_s : NAN;
    de_summary_task *T = de_calloc((size_t)s->n_tasks + 1, sizeof *T);
    de_summary_device *D = de_calloc((size_t)s->n_devices + 1, sizeof *D);
    for (int t = 0; t < s->n_tasks; t++) {
        T[t].rate_rps = st->rate[t];
        T[t].predicted_latency_s = predicted(p, t);
    }
    for (int i = 0; i < p->n_shares; i++)
        D[p->shares[i].device].batch = p->shares[i].batch;
    de_summary sm = {"plan", p->policy, 1, &J, T, D, 0, NULL, NULL};
    cJSON *o = de_summary_json(&sm, st);
    free(T);
    free(D);
    return o;
}
