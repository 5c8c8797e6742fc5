/* de_correct.c — the online correction of the models (see de_correct.h). */
#include "de_correct.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

#define F_MIN 0.05 /* a factor stays within [F_MIN, F_MAX] */
#define F_MAX 20.0

void de_correct_init(de_corrector *c, const de_scenario *s)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->enabled = s->planner.correction;
    c->forget = s->planner.correction_forget;
    c->threshold = s->planner.correction_threshold;
    size_t nd = (size_t)s->n_devices + 1, nt = (size_t)s->n_tasks + 1, nl = (size_t)s->n_links + 1;
    c->step_mp = de_calloc(nd, sizeof(double));
    c->step_pp = de_calloc(nd, sizeof(double));
    c->step_n = de_calloc(nd, sizeof(long));
    c->lc_mp = de_calloc(nt, sizeof(double));
    c->lc_pp = de_calloc(nt, sizeof(double));
    c->lc_n = de_calloc(nt, sizeof(long));
    c->lc_urgent = de_calloc(nt, sizeof(double));
    c->urgent_duty = de_calloc(nt, sizeof(double));
    c->hold_a = de_calloc(nt, sizeof(double));
    c->hold_n = de_calloc(nt, sizeof(long));
    c->q = de_calloc(5 * nt, sizeof(double));
    c->q_n = de_calloc(nt, sizeof(long));
    c->link_mp = de_calloc(nl, sizeof(double));
    c->link_pp = de_calloc(nl, sizeof(double));
    c->link_n = de_calloc(nl, sizeof(long));
}

void de_correct_free(de_corrector *c)
{
    free(c->step_mp), free(c->step_pp), free(c->step_n);
    free(c->lc_mp), free(c->lc_pp), free(c->lc_n), free(c->lc_urgent);
    free(c->urgent_duty), free(c->q), free(c->q_n), free(c->hold_a), free(c->hold_n);
    free(c->link_mp), free(c->link_pp), free(c->link_n);
    memset(c, 0, sizeof *c);
}

/* One observation m = f p into the sums of an estimate, with forgetting. */
static void observe(double l, double *mp, double *pp, long *n, double m, double p)
{
    if (!(m > 0) || !(p > 0) || !isfinite(m) || !isfinite(p))
        return;
    *mp = l * *mp + m * p;
    *pp = l * *pp + p * p;
    (*n)++;
}

static double clampf(double f)
{
    return f < F_MIN ? F_MIN : f > F_MAX ? F_MAX : f;
}

void de_correct_step(de_corrector *c, const de_state *st, const de_predictor *pred, int network, int d, int batch,
                     double measured_s)
{
    if (!c->enabled || batch < 1)
        return;
    /* The model predictor's step time is linear in the device's factor: without it. */
    double p = pred->ops->step_time(pred->ctx, st, d, network, batch) / st->step_corr[d];
    observe(c->forget, &c->step_mp[d], &c->step_pp[d], &c->step_n[d], measured_s, p);
}

void de_correct_allreduce(de_corrector *c, const de_state *st, const de_predictor *pred, const int *devs, int n,
                          double bytes, double measured_s)
{
    if (!c->enabled || n < 2)
        return;
    /* The time the catalog predicts (no link factor): the bandwidth term scales with
     * 1/link_corr of the slowest link, so the observation is taken for each link used. */
    double p = pred->ops->allreduce_time(pred->ctx, st, devs, n, bytes);
    double slowest = INFINITY;
    for (int i = 0; i < n; i++)
        slowest = fmin(slowest, st->link_corr[st->scen->devices[devs[i]].link]);
    if (!(slowest > 0))
        return;
    /* p with the corrections; the time the uncorrected model gives is about p * slowest
     * (the bandwidth term dominates at gradient sizes): the factor on the time is
     * measured / that, the bandwidth factor its inverse. */
    double p0 = p * slowest;
    for (int i = 0; i < n; i++) {
        int l = st->scen->devices[devs[i]].link;
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= st->scen->devices[devs[j]].link == l;
        if (!seen)
            observe(c->forget, &c->link_mp[l], &c->link_pp[l], &c->link_n[l], measured_s, p0);
    }
}

/* The device's share in the plan: its batch and duty cycle (0, 0 when it does not train). */
static void share_of(const de_plan *p, int d, int *batch, double *duty)
{
    *batch = 0;
    *duty = 0;
    for (int i = 0; p && i < p->n_shares; i++)
        if (p->shares[i].device == d) {
            *batch = p->shares[i].batch;
            *duty = p->shares[i].duty_cycle;
        }
}

/* The model's percentile of task ti (its place among its device's tasks). */
static double model_pctl(const de_state *st, const de_predictor *pred, int network, int batch, double duty, int ti)
{
    const de_scenario *s = st->scen;
    int d = s->tasks[ti].device, first = s->dev_task_start[d], n = s->dev_task_start[d + 1] - first;
    double out[64];
    if (n > 64)
        return NAN;
    pred->ops->lc_latency(pred->ctx, st, d, network, batch, duty, out);
    for (int k = 0; k < n; k++)
        if (s->dev_tasks[first + k] == ti)
            return out[k];
    return NAN;
}

/* The LC factor at which the model predicts the measured percentile of task ti under
 * the plan's batch and duty: the root of a nondecreasing function, by bisection on log f. */
static double implied_lc(de_state *st, const de_predictor *pred, int network, int batch, double duty, int ti,
                         double pctl_s)
{
    double save = st->lc_corr[ti], save_duty = st->lc_corr_duty[ti], lo = log(F_MIN), hi = log(F_MAX);
    st->lc_corr_duty[ti] = 0; /* the factor at this duty, whatever its slope */
    st->lc_corr[ti] = F_MAX;
    int reach = model_pctl(st, pred, network, batch, duty, ti) >= pctl_s;
    st->lc_corr[ti] = F_MIN;
    int below = model_pctl(st, pred, network, batch, duty, ti) < pctl_s;
    double f = NAN;
    if (reach && below) {
        for (int k = 0; k < 40 && hi - lo > 1e-3; k++) {
            double mid = 0.5 * (lo + hi);
            st->lc_corr[ti] = exp(mid);
            if (model_pctl(st, pred, network, batch, duty, ti) >= pctl_s)
                hi = mid;
            else
                lo = mid;
        }
        f = exp(hi);
    } else if (!reach) {
        f = F_MAX; /* more than any factor explains */
    }
    st->lc_corr[ti] = save;
    st->lc_corr_duty[ti] = save_duty;
    return f;
}

int de_correct_window(de_corrector *c, de_state *st, const de_predictor *pred, const de_plan *p, int network, int ti,
                      long n, double svc_mean_s, double pctl_s, double margin)
{
    if (!c->enabled || n < 1)
        return 0;
    const de_lc_task *t = &c->s->tasks[ti];
    int batch;
    double duty;
    share_of(p, t->device, &batch, &duty);
    if (svc_mean_s > 0) { /* the window's mean service time against the catalog's (no LC factor) */
        double p0 = de_predictor_lc_service_mean(st, ti, network, batch, duty, 0);
        observe(c->forget, &c->lc_mp[ti], &c->lc_pp[ti], &c->lc_n[ti], svc_mean_s, p0);
    }
    int crossed = pctl_s > t->deadline_s * (1.0 - margin / 2.0);
    if (!(pctl_s > 0) || n < DE_CORRECT_MIN_REQUESTS)
        return 0; /* too few requests for a percentile */
    /* The factor the percentile implies: what the deadlines depend on (queueing included). */
    double f = implied_lc(st, pred, network, batch, duty, ti, pctl_s);
    double x = batch > 0 ? duty : 0.0;
    if (isfinite(f)) { /* f = a + b duty, least squares with forgetting */
        double *q = &c->q[5 * ti], l = c->forget;
        q[0] = l * q[0] + 1, q[1] = l * q[1] + x, q[2] = l * q[2] + x * x, q[3] = l * q[3] + f, q[4] = l * q[4] + x * f;
        c->q_n[ti]++;
    }
    if (c->hold_n[ti] > 0)
        c->hold_n[ti]--;
    if (!crossed)
        return 0;
    c->warnings++;
    if (isfinite(f) && f > c->lc_urgent[ti]) {
        c->lc_urgent[ti] = f;
        c->urgent_duty[ti] = x;
    }
    return 1;
}

/* Appends "name kind xF" to what when the factor is written. */
static int take(double *slot, double f, double threshold, const char *name, const char *kind, double *worst,
                int *worst_dev, int dev, char *what, size_t n)
{
    f = clampf(f);
    double rel = fabs(f / *slot - 1.0);
    if (!(rel > threshold))
        return 0;
    *slot = f;
    size_t len = strlen(what);
    if (len + 1 < n)
        snprintf(what + len, n - len, "%s%s %s x%.3g", len ? ", " : "", name, kind, f);
    if (rel > *worst) {
        *worst = rel;
        *worst_dev = dev;
    }
    return 1;
}

/* The LC factor of task t as a + b duty: written when it moved by more than threshold at
 * duty 0 or 1. */
static int take_lc(de_state *st, int t, double a, double b, double threshold, double *worst, int *worst_dev,
                   char *what, size_t n)
{
    a = clampf(a);
    if (a + b < F_MIN) /* at least F_MIN over [0, 1] */
        b = F_MIN - a;
    double rel = 0;
    for (int k = 0; k < 2; k++) {
        double now = de_state_lc_factor(st, t, k), next = a + b * k;
        rel = fmax(rel, fabs(next / now - 1.0));
    }
    if (!(rel > threshold))
        return 0;
    st->lc_corr[t] = a;
    st->lc_corr_duty[t] = b;
    size_t len = strlen(what);
    if (len + 1 < n) {
        if (fabs(b) > 1e-3)
            snprintf(what + len, n - len, "%s%s LC x(%.3g %+.3g duty)", len ? ", " : "", st->scen->tasks[t].name, a, b);
        else
            snprintf(what + len, n - len, "%s%s LC x%.3g", len ? ", " : "", st->scen->tasks[t].name, a);
    }
    if (rel > *worst) {
        *worst = rel;
        *worst_dev = st->scen->tasks[t].device;
    }
    return 1;
}

int de_correct_apply(de_corrector *c, de_state *st, int *dev, char *what, size_t n)
{
    *dev = -1;
    if (n)
        what[0] = '\0';
    if (!c->enabled)
        return 0;
    const de_scenario *s = c->s;
    double worst = 0;
    int changed = 0;
    for (int d = 0; d < s->n_devices; d++)
        if (c->step_n[d] >= 3)
            changed += take(&st->step_corr[d], c->step_mp[d] / c->step_pp[d], c->threshold, s->devices[d].name, "step",
                            &worst, dev, d, what, n);
    for (int t = 0; t < s->n_tasks; t++) {
        /* the percentiles' estimate (a + b duty), else the service times' (a), else as it
         * is; a crossing applies at once what its observation implied (at least) */
        double a = st->lc_corr[t], b = st->lc_corr_duty[t];
        const double *q = &c->q[5 * t];
        if (c->q_n[t] >= 3) {
            double det = q[0] * q[2] - q[1] * q[1];
            b = det > 1e-3 * q[0] * q[0] ? (q[0] * q[4] - q[1] * q[3]) / det : 0.0; /* duties apart: a slope */
            a = (q[3] - b * q[1]) / q[0];
        } else if (c->lc_n[t] >= 3) {
            a = c->lc_mp[t] / c->lc_pp[t];
            b = 0;
        }
        double th = c->threshold;
        if (c->lc_urgent[t] > 0) { /* applied at once, and held for DE_CORRECT_HOLD observations */
            c->hold_a[t] = c->lc_urgent[t] - b * c->urgent_duty[t];
            c->hold_n[t] = DE_CORRECT_HOLD;
            th = 0;
            c->lc_urgent[t] = 0;
        }
        if (c->hold_n[t] > 0)
            a = fmax(a, c->hold_a[t]);
        changed += take_lc(st, t, a, b, th, &worst, dev, what, n);
    }
    for (int l = 0; l < s->n_links; l++)
        if (c->link_n[l] >= 3) {
            int d0 = -1;
            for (int d = 0; d < s->n_devices && d0 < 0; d++)
                if (s->devices[d].link == l)
                    d0 = d;
            /* time x f  <=>  bandwidth x 1/f */
            changed += take(&st->link_corr[l], c->link_pp[l] / c->link_mp[l], c->threshold, s->links[l].name,
                            "bandwidth", &worst, dev, d0, what, n);
        }
    c->changes += changed;
    return changed;
}

void de_correct_truth(const de_scenario *s, double t, de_state *st)
{
    for (int d = 0; d < s->n_devices; d++)
        st->step_corr[d] = 1.0;
    for (int k = 0; k < s->n_tasks; k++) {
        st->lc_corr[k] = 1.0;
        st->lc_corr_duty[k] = 0.0;
    }
    for (int l = 0; l < s->n_links; l++)
        st->link_corr[l] = 1.0;
    for (int i = 0; i < s->n_model_errors; i++) {
        const de_model_error *e = &s->model_errors[i];
        double drift = fmax(0.01, 1.0 + e->drift_per_h * t / 3600.0);
        if (e->link >= 0) {
            st->link_corr[e->link] = e->bandwidth * drift;
            continue;
        }
        for (int d = 0; d < s->n_devices; d++) {
            if (!(d == e->device || s->devices[d].type == e->type))
                continue;
            st->step_corr[d] = e->step * drift;
            for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++)
                st->lc_corr[s->dev_tasks[k]] = e->lc * drift;
        }
    }
}
