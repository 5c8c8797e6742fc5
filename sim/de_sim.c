/* de_sim.c — the simulated edge cluster (see de_sim.h for the model). */
#include "de_sim.h"

#include "de_csv.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "de_engine.h"
#include "de_hist.h"
#include "de_planner.h"
#include "de_predictor.h"
#include "de_rng.h"
#include "de_state.h"
#include "de_util.h"

enum { EV_JOB_ARRIVE, EV_ITER_START, EV_STEP_DONE, EV_ITER_END, EV_FAULT, EV_REPAIR, EV_RATE, EV_WINDOW, EV_COUNT };

/* Device timeline states. */
enum { ST_OFF, ST_TRAIN, ST_SYNC, ST_RECOVER, ST_DOWN };
static const char *const state_name[] = {"off", "train", "sync", "recover", "down"};

typedef struct sdev {
    int training;         /* computing a training step now */
    int batch;            /* local batch while training */
    int state;            /* timeline state */
    double since;         /* ... since */
    double lc_free_at;    /* LC server busy until */
    gsl_rng *rng;         /* step-time noise */
    uint64_t ev_step;     /* pending step-done event, 0 if none */
} sdev;

typedef struct stask {
    gsl_rng *rng;
    const de_infer_params *ip;   /* its service model on its device */
    double next_arrival;
    de_hist all, win;
    uint64_t win_requests, win_dropped, win_viol;
} stask;

typedef struct sim {
    const de_scenario *s;
    const de_sim_opts *o;
    de_sim_result *r;
    de_engine *e;
    int ty[EV_COUNT];
    de_state st;
    de_predictor pred;
    de_planner_opts popt;
    sdev *dev;
    stask *task;
    /* the job queue and the running job */
    int *queue, qhead, qtail;
    int cur;              /* running job, -1 if none */
    int waiting;          /* the running job has no plan yet */
    int phase_iter;       /* an iteration is in flight */
    de_plan plan;         /* the running job's plan */
    de_plan pending;      /* a plan to switch to at the end of the iteration */
    int has_pending;
    double ckpt_samples, ckpt_time;
    uint64_t ev_iter_end, ev_iter_start;
    double iter_start, iter_compute, iter_allreduce;
    int jobs_done;
    /* outputs */
    FILE *f_events, *f_iters, *f_timeline, *f_windows;
    double horizon;
} sim;

/* ------------------------------------------------------------------ output */

static void logev(sim *m, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void logev(sim *m, const char *kind, const char *fmt, ...)
{
    if (!m->f_events)
        return;
    fprintf(m->f_events, "%.6f,%s,\"", de_engine_now(m->e), kind);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(m->f_events, fmt, ap);
    va_end(ap);
    fputs("\"\n", m->f_events);
}

static void set_state(sim *m, int d, int state)
{
    sdev *D = &m->dev[d];
    double now = de_engine_now(m->e);
    if (D->state == state)
        return;
    double dt = now - D->since;
    de_sim_device *R = &m->r->devices[d];
    switch (D->state) {
    case ST_TRAIN: R->train_s += dt; break;
    case ST_SYNC: R->sync_s += dt; break;
    case ST_RECOVER: R->recovery_s += dt; break;
    case ST_DOWN: R->down_s += dt; break;
    default: break;
    }
    if (m->f_timeline && D->state != ST_OFF && dt > 0)
        fprintf(m->f_timeline, "%s,%d,%.6f,%.6f,%s\n", m->s->devices[d].name, d, D->since, now, state_name[D->state]);
    D->state = state;
    D->since = now;
}

/* ------------------------------------------------------------------ LC requests */

/* Exp(rate) by inversion; gsl_rng_uniform_pos is in (0, 1). */
static double exp_draw(gsl_rng *r, double rate)
{
    return rate > 0 ? -log(gsl_rng_uniform_pos(r)) / rate : INFINITY;
}

/* Service time of one request of task ti on device d, given its training state. */
static double service(sim *m, int d, int ti)
{
    const de_scenario *s = m->s;
    const de_catalog *cat = s->catalog;
    int type = s->devices[d].type;
    const de_infer_params *ip = m->task[ti].ip;
    double speed = m->st.speed[d], s0 = ip->service_s / speed;
    gsl_rng *r = m->task[ti].rng;
    double x = ip->scv > 0 ? gsl_ran_gamma(r, 1.0 / ip->scv, s0 * ip->scv) : s0;
    if (m->dev[d].training) {
        const de_interference *in = &cat->types[type].interference;
        const de_train_params *tp = de_catalog_train(cat, type, s->jobs[m->cur].network);
        x = x * (1.0 + in->lc_inflation) +
            gsl_rng_uniform(r) * 2.0 * in->blocking_fraction * tp->per_sample_s / speed * m->dev[d].batch;
    }
    return x;
}

static void record(sim *m, int ti, double latency, int dropped)
{
    stask *T = &m->task[ti];
    de_sim_task *R = &m->r->tasks[ti];
    R->requests++;
    T->win_requests++;
    m->r->requests++;
    if (dropped) {
        R->dropped++;
        R->violations++;
        T->win_dropped++;
        T->win_viol++;
        return;
    }
    de_hist_add(&T->all, latency);
    de_hist_add(&T->win, latency);
    if (latency > m->s->tasks[ti].deadline_s) {
        R->violations++;
        T->win_viol++;
    }
}

/* Serves device d's LC requests whose service starts before t (its training state
 * is constant until then). */
static void lc_advance(sim *m, int d, double t)
{
    const de_scenario *s = m->s;
    int first = s->dev_task_start[d], last = s->dev_task_start[d + 1];
    if (first == last)
        return;
    sdev *D = &m->dev[d];
    int single = last - first == 1; /* the common case: no merging of streams */
    for (;;) {
        int k = -1;
        double a = INFINITY;
        if (single) {
            k = s->dev_tasks[first];
            a = m->task[k].next_arrival;
        } else {
            for (int j = first; j < last; j++) {
                int ti = s->dev_tasks[j];
                if (m->task[ti].next_arrival < a) {
                    a = m->task[ti].next_arrival;
                    k = ti;
                }
            }
        }
        if (k < 0 || !(a < t))
            break;
        stask *T = &m->task[k];
        if (!m->st.up[d]) {
            record(m, k, 0, 1);
        } else {
            double start = a > D->lc_free_at ? a : D->lc_free_at;
            if (!(start < t))
                break; /* starts under the next state */
            double x = service(m, d, k);
            D->lc_free_at = start + x;
            m->r->devices[d].lc_busy_s += x;
            record(m, k, D->lc_free_at - a, 0);
        }
        T->next_arrival = a + exp_draw(T->rng, m->st.rate[k]);
    }
}

/* ------------------------------------------------------------------ jobs */

static double total_samples(const de_job *j)
{
    return (double)j->dataset_size * j->epochs;
}

static double restart_cost(const sim *m, int job)
{
    return m->o->restart_cost_s >= 0 ? m->o->restart_cost_s : m->s->jobs[job].checkpoint_cost_s;
}

/* Plans the running job on the current state into *p; returns its shares. */
static int compute_plan(sim *m, de_plan *p)
{
    de_err err;
    de_sim_job *J = &m->r->jobs[m->cur];
    J->planner_calls++;
    if (de_plan_compute(&m->st, m->cur, (de_policy)m->r->policy, &m->popt, &m->pred, p, &err) != DE_OK) {
        logev(m, "plan_error", "%s", err.msg);
        p->n_shares = 0;
    }
    return p->n_shares;
}

static void log_plan(sim *m, const de_plan *p, const char *why)
{
    if (!m->f_events)
        return;
    char buf[4096];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->n_shares && len < sizeof buf - 64; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%d", i ? " " : "",
                                m->s->devices[p->shares[i].device].name, p->shares[i].batch);
    logev(m, "plan", "%s job=%s policy=%s predicted_iteration_s=%.6f predicted_violations=%d shares: %s", why,
          m->s->jobs[m->cur].name, de_policy_name(p->policy), p->iteration_time_s, p->violations, buf);
}

/* All devices of the running plan enter state st. */
static void plan_state(sim *m, int state)
{
    for (int i = 0; i < m->plan.n_shares; i++) {
        int d = m->plan.shares[i].device;
        if (m->st.up[d])
            set_state(m, d, state);
    }
}

/* The next iteration of the running job starts after `delay` (recovery). */
static void start_after(sim *m, double delay)
{
    plan_state(m, ST_RECOVER);
    m->r->jobs[m->cur].recovery_s += delay;
    m->ev_iter_start = de_engine_schedule(m->e, de_engine_now(m->e) + delay, m->ty[EV_ITER_START], (uint32_t)m->cur, 0);
}

static void try_start_job(sim *m)
{
    if (m->cur >= 0 || m->qhead == m->qtail)
        return;
    m->cur = m->queue[m->qhead++];
    m->waiting = 1;
    m->has_pending = 0;
    m->ckpt_samples = 0;
    m->ckpt_time = de_engine_now(m->e);
    logev(m, "job_start", "job=%s", m->s->jobs[m->cur].name);
    const de_plan *given = m->o->plan && m->o->plan->job == m->cur ? m->o->plan : NULL;
    if (given) { /* the plan file, as deployed: evaluated, not recomputed */
        de_plan_copy(&m->plan, given);
        de_plan_evaluate(&m->plan, &m->st, &m->pred, m->popt.safety_margin);
        log_plan(m, &m->plan, "from-file");
        m->waiting = 0;
        start_after(m, m->o->replan_cost_s);
    } else if (compute_plan(m, &m->plan)) {
        log_plan(m, &m->plan, "initial");
        m->waiting = 0;
        start_after(m, m->o->replan_cost_s);
    } else {
        logev(m, "job_wait", "job=%s no device can take it: %s", m->s->jobs[m->cur].name,
              m->plan.verdict ? m->plan.verdict : "");
    }
}

static void ev_job_arrive(de_engine *e, void *ctx, uint32_t job, uint64_t b)
{
    (void)e;
    (void)b;
    sim *m = ctx;
    m->queue[m->qtail++] = (int)job;
    logev(m, "job_arrival", "job=%s", m->s->jobs[job].name);
    try_start_job(m);
}

static double step_noise(sim *m, int d)
{
    double cv = m->o->step_cv;
    if (cv <= 0)
        return 1.0;
    double s2 = log(1.0 + cv * cv);
    return exp(gsl_ran_gaussian(m->dev[d].rng, sqrt(s2)) - 0.5 * s2); /* lognormal, mean 1 */
}

static void ev_iter_start(de_engine *e, void *ctx, uint32_t job, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    m->ev_iter_start = 0;
    if ((int)job != m->cur)
        return;
    double now = de_engine_now(e);
    int network = m->s->jobs[job].network;
    double tmax = 0;
    int *devs = de_calloc((size_t)m->plan.n_shares + 1, sizeof(int));
    for (int i = 0; i < m->plan.n_shares; i++) {
        int d = m->plan.shares[i].device, bi = m->plan.shares[i].batch;
        devs[i] = d;
        double t = m->pred.ops->step_time(m->pred.ctx, &m->st, d, network, bi) * step_noise(m, d);
        lc_advance(m, d, now);
        m->dev[d].training = 1;
        m->dev[d].batch = bi;
        set_state(m, d, ST_TRAIN);
        m->dev[d].ev_step = de_engine_schedule(e, now + t, m->ty[EV_STEP_DONE], (uint32_t)d, 0);
        m->r->devices[d].batch_sum += bi;
        m->r->devices[d].iterations++;
        if (t > tmax)
            tmax = t;
    }
    double A = m->pred.ops->allreduce_time(m->pred.ctx, &m->st, devs, m->plan.n_shares,
                                           m->s->catalog->networks[network].gradient_bytes);
    free(devs);
    de_sim_job *J = &m->r->jobs[job];
    if (isnan(J->start_s))
        J->start_s = now;
    m->iter_start = now;
    m->iter_compute = tmax;
    m->iter_allreduce = A;
    m->phase_iter = 1;
    m->ev_iter_end = de_engine_schedule(e, now + tmax + A, m->ty[EV_ITER_END], job, 0);
}

static void ev_step_done(de_engine *e, void *ctx, uint32_t d, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    m->dev[d].ev_step = 0;
    lc_advance(m, (int)d, de_engine_now(e));
    m->dev[d].training = 0;
    set_state(m, (int)d, ST_SYNC);
}

static int same_shares(const de_plan *a, const de_plan *b)
{
    if (a->n_shares != b->n_shares)
        return 0;
    for (int i = 0; i < a->n_shares; i++)
        if (a->shares[i].device != b->shares[i].device || a->shares[i].batch != b->shares[i].batch)
            return 0;
    return 1;
}

static void job_done(sim *m)
{
    de_sim_job *J = &m->r->jobs[m->cur];
    J->finished = 1;
    J->end_s = de_engine_now(m->e);
    de_plan_copy(&J->plan, &m->plan);
    logev(m, "job_done", "job=%s iterations=%lld lost_samples=%.0f", m->s->jobs[m->cur].name, J->iterations,
          J->lost_samples);
    plan_state(m, ST_OFF);
    m->cur = -1;
    m->phase_iter = 0;
    m->jobs_done++;
    try_start_job(m);
    if (m->jobs_done == m->s->n_jobs && !(m->o->until_s > 0))
        de_engine_stop(m->e);
}

/* Graceful switch to the pending plan between iterations: checkpoint, then
 * restart with the new plan (a new set of workers restarts from a checkpoint). */
static void switch_plan(sim *m)
{
    const de_job *j = &m->s->jobs[m->cur];
    de_sim_job *J = &m->r->jobs[m->cur];
    m->ckpt_samples = J->samples_done;
    m->ckpt_time = de_engine_now(m->e) + j->checkpoint_cost_s;
    plan_state(m, ST_OFF);
    de_plan_copy(&m->plan, &m->pending);
    m->has_pending = 0;
    J->switches++;
    log_plan(m, &m->plan, "switch");
    start_after(m, j->checkpoint_cost_s + m->o->replan_cost_s + restart_cost(m, m->cur));
}

static void ev_iter_end(de_engine *e, void *ctx, uint32_t job, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    m->ev_iter_end = 0;
    if ((int)job != m->cur)
        return;
    const de_job *j = &m->s->jobs[job];
    de_sim_job *J = &m->r->jobs[job];
    double now = de_engine_now(e);
    m->phase_iter = 0;
    J->iterations++;
    J->compute_s += m->iter_compute;
    J->allreduce_s += m->iter_allreduce;
    J->samples_done += j->global_batch;
    if (J->samples_done > total_samples(j))
        J->samples_done = total_samples(j);
    m->st.samples_done[job] = J->samples_done;
    long long index = (long long)llround(J->samples_done / j->global_batch);
    if (m->f_iters)
        fprintf(m->f_iters, "%s,%lld,%.6f,%.6f,%.6f,%.6f,%.0f\n", j->name, index, m->iter_start, m->iter_compute,
                m->iter_allreduce, now, J->samples_done);
    if (J->samples_done >= total_samples(j)) {
        job_done(m);
        return;
    }
    if (m->has_pending) {
        switch_plan(m);
        return;
    }
    if (index % j->checkpoint_interval == 0) {
        m->ckpt_samples = J->samples_done;
        m->ckpt_time = now + j->checkpoint_cost_s;
        logev(m, "checkpoint", "job=%s iteration=%lld samples=%.0f", j->name, index, J->samples_done);
        start_after(m, j->checkpoint_cost_s);
        return;
    }
    m->ev_iter_start = de_engine_schedule(e, now, m->ty[EV_ITER_START], job, 0);
}

/* A failure hit a device of the running plan: the iteration in flight and the work
 * since the last checkpoint are lost; re-plan on what is left and restart. */
static void job_failure(sim *m, int dead)
{
    de_sim_job *J = &m->r->jobs[m->cur];
    double now = de_engine_now(m->e);
    if (m->ev_iter_end)
        de_engine_cancel(m->e, m->ev_iter_end);
    if (m->ev_iter_start)
        de_engine_cancel(m->e, m->ev_iter_start);
    m->ev_iter_end = m->ev_iter_start = 0;
    for (int i = 0; i < m->plan.n_shares; i++) {
        int d = m->plan.shares[i].device;
        if (m->dev[d].ev_step) {
            de_engine_cancel(m->e, m->dev[d].ev_step);
            m->dev[d].ev_step = 0;
        }
        if (m->dev[d].training) {
            lc_advance(m, d, now);
            m->dev[d].training = 0;
        }
        if (d != dead)
            set_state(m, d, ST_OFF);
    }
    double lost = J->samples_done - m->ckpt_samples;
    double lost_t = now - m->ckpt_time;
    J->lost_samples += lost;
    J->lost_time_s += lost_t > 0 ? lost_t : 0;
    J->failures++;
    J->samples_done = m->ckpt_samples;
    m->st.samples_done[m->cur] = J->samples_done;
    m->phase_iter = 0;
    m->has_pending = 0;
    logev(m, "failure", "job=%s device=%s lost_samples=%.0f lost_time_s=%.6f back_to_samples=%.0f",
          m->s->jobs[m->cur].name, m->s->devices[dead].name, lost, lost_t > 0 ? lost_t : 0, J->samples_done);
    if (compute_plan(m, &m->plan)) {
        log_plan(m, &m->plan, "after-failure");
        m->waiting = 0;
        start_after(m, m->o->replan_cost_s + restart_cost(m, m->cur));
    } else {
        m->waiting = 1;
        logev(m, "job_wait", "job=%s no plan after the failure", m->s->jobs[m->cur].name);
    }
}

/* The world changed (not a failure of the running plan): re-plan, and switch at the
 * end of the iteration if that pays off, or start a waiting job. */
static void world_changed(sim *m, const char *why)
{
    if (m->cur < 0)
        return;
    if (m->waiting) {
        if (compute_plan(m, &m->plan)) {
            log_plan(m, &m->plan, why);
            m->waiting = 0;
            start_after(m, m->o->replan_cost_s + (m->ckpt_samples > 0 ? restart_cost(m, m->cur) : 0));
        }
        return;
    }
    de_plan cand, now_plan;
    de_plan_init(&cand);
    de_plan_init(&now_plan);
    if (compute_plan(m, &cand) && !same_shares(&cand, &m->plan)) {
        de_plan_copy(&now_plan, &m->plan);
        de_plan_evaluate(&now_plan, &m->st, &m->pred, m->popt.safety_margin);
        const de_job *j = &m->s->jobs[m->cur];
        double cost = j->checkpoint_cost_s + m->o->replan_cost_s + restart_cost(m, m->cur);
        int better = cand.feasible && (!now_plan.feasible || cand.retraining_time_s + cost <
                                                                  now_plan.retraining_time_s * (1.0 - m->o->switch_gain));
        if (better) {
            de_plan_copy(&m->pending, &cand);
            m->has_pending = 1;
            logev(m, "replan", "%s: switch at the end of the iteration (now %.3f s/it%s, new %.3f s/it)", why,
                  now_plan.iteration_time_s, now_plan.feasible ? "" : ", breaks a deadline", cand.iteration_time_s);
            if (!m->phase_iter && m->ev_iter_start) { /* between iterations: switch right away */
                de_engine_cancel(m->e, m->ev_iter_start);
                m->ev_iter_start = 0;
                switch_plan(m);
            }
        }
    }
    de_plan_free(&cand);
    de_plan_free(&now_plan);
}

static int in_plan(const sim *m, int d)
{
    if (m->cur < 0 || m->waiting)
        return 0;
    for (int i = 0; i < m->plan.n_shares; i++)
        if (m->plan.shares[i].device == d)
            return 1;
    return 0;
}

static void ev_fault(de_engine *e, void *ctx, uint32_t fi, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    const de_fault *f = &m->s->faults[fi];
    int d = f->device;
    double now = de_engine_now(e);
    lc_advance(m, d, now);
    logev(m, "fault", "%s device=%s factor=%g", de_fault_kind_name(f->kind), m->s->devices[d].name, f->factor);
    if (f->kind == DE_FAULT_CRASH) {
        int hit = in_plan(m, d);
        m->dev[d].training = 0;
        m->st.up[d] = 0;
        set_state(m, d, ST_DOWN);
        if (hit)
            job_failure(m, d);
        else
            world_changed(m, "device down");
    } else {
        if (f->kind == DE_FAULT_SLOWDOWN)
            m->st.speed[d] = f->factor;
        else
            m->st.link_factor[m->s->devices[d].link] = f->factor;
        world_changed(m, f->kind == DE_FAULT_SLOWDOWN ? "slowdown" : "link degraded");
    }
    if (isfinite(f->repair_s))
        de_engine_schedule(e, now + f->repair_s, m->ty[EV_REPAIR], fi, 0);
}

static void ev_repair(de_engine *e, void *ctx, uint32_t fi, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    const de_fault *f = &m->s->faults[fi];
    int d = f->device;
    lc_advance(m, d, de_engine_now(e));
    logev(m, "repair", "%s device=%s", de_fault_kind_name(f->kind), m->s->devices[d].name);
    if (f->kind == DE_FAULT_CRASH) {
        m->st.up[d] = 1;
        set_state(m, d, ST_OFF);
        if (m->dev[d].lc_free_at < de_engine_now(e))
            m->dev[d].lc_free_at = de_engine_now(e);
    } else if (f->kind == DE_FAULT_SLOWDOWN) {
        m->st.speed[d] = 1.0;
    } else {
        m->st.link_factor[m->s->devices[d].link] = 1.0;
    }
    world_changed(m, "repair");
}

static void ev_rate(de_engine *e, void *ctx, uint32_t ti, uint64_t row)
{
    sim *m = ctx;
    const de_lc_task *t = &m->s->tasks[ti];
    double now = de_engine_now(e);
    lc_advance(m, t->device, now);
    double old = m->st.rate[ti];
    m->st.rate[ti] = t->trace->rate[row];
    stask *T = &m->task[ti];
    if (T->next_arrival >= now) /* memoryless: redraw from now at the new rate */
        T->next_arrival = now + exp_draw(T->rng, m->st.rate[ti]);
    if (row + 1 < (uint64_t)t->trace->n)
        de_engine_schedule(e, t->trace->time_s[row + 1], m->ty[EV_RATE], ti, row + 1);
    logev(m, "rate", "task=%s %.3f -> %.3f req/s", t->name, old, m->st.rate[ti]);
    if (old != m->st.rate[ti])
        world_changed(m, "LC rate change");
}

/* ------------------------------------------------------------------ windows */

static void flush_window(sim *m, double t0, double t1)
{
    for (int d = 0; d < m->s->n_devices; d++)
        lc_advance(m, d, t1);
    static const double ps[3] = {0.5, 0.95, 0.99};
    for (int ti = 0; ti < m->s->n_tasks; ti++) {
        stask *T = &m->task[ti];
        if (m->f_windows && T->win_requests) {
            double q[3];
            de_hist_quantiles(&T->win, ps, 3, q);
            fprintf(m->f_windows, "%.6f,%.6f,%s,%llu,%llu,%llu,%.6g,%.6g,%.6g,%.6g\n", t0, t1, m->s->tasks[ti].name,
                    (unsigned long long)T->win_requests, (unsigned long long)T->win_dropped,
                    (unsigned long long)T->win_viol, q[0], q[1], q[2], m->s->tasks[ti].deadline_s);
        }
        de_hist_reset(&T->win);
        T->win_requests = T->win_dropped = T->win_viol = 0;
    }
}

static void progress(sim *m, double now)
{
    if (!m->o->progress)
        return;
    double frac;
    if (isfinite(m->horizon) && m->horizon > 0)
        frac = now / m->horizon;
    else {
        double done = 0, total = 0;
        for (int j = 0; j < m->s->n_jobs; j++) {
            done += m->r->jobs[j].samples_done;
            total += total_samples(&m->s->jobs[j]);
        }
        frac = total > 0 ? done / total : 0;
    }
    if (frac > 1)
        frac = 1;
    int w = 40, k = (int)(frac * w);
    fprintf(m->o->progress, "\r[%.*s%*s] %5.1f%%  t=%.0f s", k, "########################################", w - k, "",
            100 * frac, now);
    fflush(m->o->progress);
}

static void ev_window(de_engine *e, void *ctx, uint32_t a, uint64_t b)
{
    (void)a;
    (void)b;
    sim *m = ctx;
    double now = de_engine_now(e);
    flush_window(m, now - m->o->window_s, now);
    progress(m, now);
    de_engine_schedule(e, now + m->o->window_s, m->ty[EV_WINDOW], 0, 0);
}

/* ------------------------------------------------------------------ setup */

void de_sim_opts_default(de_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->policy = -1;
    o->seed = 1;
    o->window_s = 60.0;
    o->step_cv = 0.05;
    o->replan_cost_s = 0.5;
    o->restart_cost_s = -1;
    o->switch_gain = 0.05;
}

static int open_outputs(sim *m, de_err *err)
{
    const char *dir = m->o->out_dir;
    if (!dir)
        return DE_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return de_err_set(err, DE_EIO, "%s: cannot create output directory: %s", dir, strerror(errno));
    int rc = DE_OK;
    m->f_events = de_csv_create(dir, "events.csv", "time_s,event,detail", err, &rc);
    if (!rc)
        m->f_iters = de_csv_create(dir, "iterations.csv", "job,iteration,start_s,compute_s,allreduce_s,end_s,samples_done",
                              err, &rc);
    if (!rc)
        m->f_timeline = de_csv_create(dir, "timeline.csv", "device,device_index,start_s,end_s,state", err, &rc);
    if (!rc)
        m->f_windows = de_csv_create(dir, "lc_windows.csv",
                                "start_s,end_s,task,requests,dropped,violations,p50_s,p95_s,p99_s,deadline_s", err, &rc);
    return rc;
}

static int close_outputs(sim *m, de_err *err)
{
    int rc = DE_OK;
    FILE **fs[] = {&m->f_events, &m->f_iters, &m->f_timeline, &m->f_windows};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        if (*fs[i]) {
            if (ferror(*fs[i]) | fclose(*fs[i]))
                rc = de_err_set(err, DE_EIO, "%s: write failed", m->o->out_dir);
            *fs[i] = NULL;
        }
    if (rc || !m->o->out_dir)
        return rc;
    /* The latency CDF of every task (from its histogram). */
    int orc = DE_OK;
    FILE *f = de_csv_create(m->o->out_dir, "lc_cdf.csv", "task,latency_s,cdf,deadline_s,percentile", err, &orc);
    if (!f)
        return orc;
    for (int ti = 0; ti < m->s->n_tasks; ti++)
        de_hist_write_cdf(f, m->s->tasks[ti].name, &m->task[ti].all, m->s->tasks[ti].deadline_s,
                          m->s->tasks[ti].percentile * 100);
    if (ferror(f) | fclose(f))
        return de_err_set(err, DE_EIO, "%s/lc_cdf.csv: write failed", m->o->out_dir);
    return DE_OK;
}

int de_sim_run(const de_scenario *s, const de_sim_opts *o, de_sim_result *res, de_err *err)
{
    memset(res, 0, sizeof *res);
    if (!(o->window_s > 0) || !(o->step_cv >= 0) || !(o->replan_cost_s >= 0) || !(o->switch_gain >= 0) ||
        !(o->until_s >= 0) || (o->policy >= DE_POLICY_COUNT))
        return de_err_set(err, DE_EINVAL, "sim: invalid options (window > 0, step_cv >= 0, costs >= 0, until >= 0)");
    double t_wall = de_now_s();
    sim m;
    memset(&m, 0, sizeof m);
    m.s = s;
    m.o = o;
    m.r = res;
    res->scen = s;
    res->policy = o->policy >= 0 ? o->policy : (int)s->planner.policy;
    res->seed = o->seed;
    res->n_jobs = s->n_jobs;
    res->n_tasks = s->n_tasks;
    res->n_devices = s->n_devices;
    res->jobs = de_calloc((size_t)s->n_jobs + 1, sizeof *res->jobs);
    res->tasks = de_calloc((size_t)s->n_tasks + 1, sizeof *res->tasks);
    res->devices = de_calloc((size_t)s->n_devices + 1, sizeof *res->devices);
    for (int j = 0; j < s->n_jobs; j++) {
        res->jobs[j].arrival_s = s->jobs[j].arrival_s;
        res->jobs[j].start_s = res->jobs[j].end_s = NAN;
        de_plan_init(&res->jobs[j].plan);
    }
    if (!de_policy_accepts((de_policy)res->policy, s->n_devices)) {
        de_sim_result_free(res);
        return de_err_set(err, DE_EINVAL, "sim: policy %s accepts at most %d devices (scenario has %d)",
                          de_policy_name((de_policy)res->policy), de_policy_max_devices((de_policy)res->policy),
                          s->n_devices);
    }
    int rc = open_outputs(&m, err);
    if (rc) {
        de_err ignore;
        close_outputs(&m, &ignore);
        de_sim_result_free(res);
        return rc;
    }
    m.e = de_engine_create();
    m.ty[EV_JOB_ARRIVE] = de_engine_register(m.e, ev_job_arrive, &m);
    m.ty[EV_ITER_START] = de_engine_register(m.e, ev_iter_start, &m);
    m.ty[EV_STEP_DONE] = de_engine_register(m.e, ev_step_done, &m);
    m.ty[EV_ITER_END] = de_engine_register(m.e, ev_iter_end, &m);
    m.ty[EV_FAULT] = de_engine_register(m.e, ev_fault, &m);
    m.ty[EV_REPAIR] = de_engine_register(m.e, ev_repair, &m);
    m.ty[EV_RATE] = de_engine_register(m.e, ev_rate, &m);
    m.ty[EV_WINDOW] = de_engine_register(m.e, ev_window, &m);
    de_state_init(&m.st, s, 0.0);
    m.pred = de_predictor_model();
    m.popt = s->planner;
    m.popt.policy = (de_policy)res->policy;
    m.cur = -1;
    de_plan_init(&m.plan);
    de_plan_init(&m.pending);
    m.queue = de_calloc((size_t)s->n_jobs + 1, sizeof(int));
    m.dev = de_calloc((size_t)s->n_devices + 1, sizeof *m.dev);
    m.task = de_calloc((size_t)s->n_tasks + 1, sizeof *m.task);
    for (int d = 0; d < s->n_devices; d++)
        m.dev[d].rng = de_rng_stream(o->seed, "device", s->devices[d].name);
    for (int t = 0; t < s->n_tasks; t++) {
        stask *T = &m.task[t];
        T->rng = de_rng_stream(o->seed, "lc-task", s->tasks[t].name);
        T->ip = de_catalog_infer(s->catalog, s->devices[s->tasks[t].device].type, s->tasks[t].model);
        de_hist_init(&T->all);
        de_hist_init(&T->win);
        T->next_arrival = exp_draw(T->rng, m.st.rate[t]);
        const de_rate_trace *tr = s->tasks[t].trace;
        if (tr) { /* rows after time 0 become rate-change events */
            int row = 0;
            while (row < tr->n && tr->time_s[row] <= 0)
                row++;
            if (row < tr->n)
                de_engine_schedule(m.e, tr->time_s[row], m.ty[EV_RATE], (uint32_t)t, (uint64_t)row);
        }
    }
    for (int j = 0; j < s->n_jobs; j++)
        de_engine_schedule(m.e, s->jobs[j].arrival_s, m.ty[EV_JOB_ARRIVE], (uint32_t)j, 0);
    for (int f = 0; f < s->n_faults; f++)
        de_engine_schedule(m.e, s->faults[f].time_s, m.ty[EV_FAULT], (uint32_t)f, 0);
    de_engine_schedule(m.e, o->window_s, m.ty[EV_WINDOW], 0, 0);

    /* Without --until: until every job is done, at most 24 h after the last arrival. */
    double last_arrival = 0;
    for (int j = 0; j < s->n_jobs; j++)
        if (s->jobs[j].arrival_s > last_arrival)
            last_arrival = s->jobs[j].arrival_s;
    m.horizon = o->until_s > 0 ? o->until_s : INFINITY;
    double until = o->until_s > 0 ? o->until_s : last_arrival + 86400.0;
    res->events = de_engine_run(m.e, until);
    double end = de_engine_now(m.e);
    res->end_s = end;

    /* Close the books at `end`. */
    double wstart = floor(end / o->window_s) * o->window_s;
    flush_window(&m, wstart < end ? wstart : end - o->window_s, end);
    for (int d = 0; d < s->n_devices; d++)
        set_state(&m, d, ST_OFF);
    for (int j = 0; j < s->n_jobs; j++)
        if (!res->jobs[j].finished && j == m.cur)
            de_plan_copy(&res->jobs[j].plan, &m.plan);
    static const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < s->n_tasks; t++) {
        de_sim_task *R = &res->tasks[t];
        double q[3];
        de_hist_quantiles(&m.task[t].all, ps, 3, q);
        R->p50_s = q[0];
        R->p95_s = q[1];
        R->p99_s = q[2];
        R->mean_s = de_hist_mean(&m.task[t].all);
        R->pct_s = de_hist_quantile(&m.task[t].all, s->tasks[t].percentile);
    }
    if (m.o->progress) {
        progress(&m, end);
        fputc('\n', m.o->progress);
    }
    res->queue_bytes = de_engine_bytes(m.e);
    rc = close_outputs(&m, err);
    for (int d = 0; d < s->n_devices; d++)
        gsl_rng_free(m.dev[d].rng);
    for (int t = 0; t < s->n_tasks; t++) {
        gsl_rng_free(m.task[t].rng);
        de_hist_free(&m.task[t].all);
        de_hist_free(&m.task[t].win);
    }
    free(m.dev);
    free(m.task);
    free(m.queue);
    de_plan_free(&m.plan);
    de_plan_free(&m.pending);
    de_state_free(&m.st);
    de_engine_destroy(m.e);
    res->wall_s = de_now_s() - t_wall;
    return rc;
}

void de_sim_result_free(de_sim_result *res)
{
    if (!res)
        return;
    for (int j = 0; j < res->n_jobs; j++)
        de_plan_free(&res->jobs[j].plan);
    free(res->jobs);
    free(res->tasks);
    free(res->devices);
    memset(res, 0, sizeof *res);
}

int de_sim_result_ok(const de_sim_result *res)
{
    for (int j = 0; j < res->n_jobs; j++)
        if (!res->jobs[j].finished)
            return 0;
    for (int t = 0; t < res->n_tasks; t++)
        if (res->tasks[t].pct_s > res->scen->tasks[t].deadline_s)
            return 0;
    return 1;
}
