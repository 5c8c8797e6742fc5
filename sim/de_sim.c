/* de_sim.c — the simulated edge cluster (see de_sim.h for the model). */
#include "de_sim.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "de_engine.h"
#include "de_hist.h"
#include "de_model.h"
#include "de_outputs.h"
#include "de_planner.h"
#include "de_predictor.h"
#include "de_replan.h"
#include "de_rng.h"
#include "de_state.h"
#include "de_correct.h"
#include "de_util.h"

enum {
    EV_JOB_ARRIVE,
    EV_ITER_START,
    EV_STEP_DONE,
    EV_ITER_END,
    EV_CHANGE,
    EV_RATE,
    EV_PHASE,
    EV_WINDOW,
    EV_CORRECT,
    EV_STALL,
    EV_COUNT
};

typedef struct sdev {
    int training;         /* computing a training step now */
    int batch;            /* local batch while training */
    de_tl_state state;    /* timeline state */
    double since;         /* ... since */
    double lc_free_at;    /* LC server busy until */
    double bud_period;    /* an emulated type's CPU budget: the period (index) the LC last spent in, */
    double bud_used;      /* ... and what it spent there */
    gsl_rng *rng;         /* step-time noise */
    uint64_t ev_step;     /* pending step-done (or stall) event, 0 if none */
} sdev;

typedef struct stask {
    gsl_rng *rng;
    const de_infer_params *ip;   /* its service model on its device */
    double next_arrival;
    de_hist all, win;
    uint64_t win_requests, win_dropped, win_late;
    de_hist cor;          /* the online correction's observation: latencies since its last one, */
    double cor_svc;       /* ... their service times, */
    long cor_n;           /* ... how many (an observation needs DE_CORRECT_MIN_REQUESTS) */
} stask;

typedef struct sim {
    const de_scenario *s;
    const de_sim_opts *o;
    de_sim_result *r;
    de_engine *e;
    int ty[EV_COUNT];
    de_state st;          /* the world as the scheduler believes it (the catalog, corrected) */
    de_state truth;       /* the world the simulator draws from: st with the scenario's model_error */
    de_corrector cor;     /* the online correction */
    de_predictor pred;
    de_planner_opts popt;
    sdev *dev;
    stask *task;
    /* every change: the scenario's, then the injected ones; fired[] for iteration triggers */
    de_change *changes;
    int n_changes;
    unsigned char *fired;
    /* the job queue and the running job */
    int *queue, qhead, qtail;
    int cur;              /* running job, -1 if none */
    int waiting;          /* the running job has no plan yet */
    int phase_iter;       /* an iteration is in flight */
    de_plan plan;         /* the running job's plan */
    de_plan pending;      /* a plan to switch to at the next iteration boundary */
    int has_pending;
    int pending_in_place; /* the pending plan is a RESHARE: taken at the boundary, without stopping */
    long done_it, ckpt_it; /* iterations completed, and at the last checkpoint */
    int ckpt_written;     /* the checkpoint at ckpt_it has been paid for (its cost spent) */
    double ckpt_time;
    uint64_t ev_iter_end, ev_iter_start, ev_phase[3];
    double iter_start, iter_compute, iter_allreduce;
    int jobs_done, decisions_cap;
    /* outputs */
    FILE *f_events, *f_iters, *f_timeline, *f_windows;
    double horizon;
    de_err plan_err;      /* a plan that could not be computed (an external policy failed): the run stops */
} sim;

/* ------------------------------------------------------------------ output */

static void logev(sim *m, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void logev(sim *m, const char *kind, const char *fmt, ...)
{
    if (!m->f_events)
        return;
    char detail[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    de_output_event(m->f_events, de_engine_now(m->e), kind, detail);
}

static void set_state(sim *m, int d, de_tl_state state)
{
    sdev *D = &m->dev[d];
    double now = de_engine_now(m->e);
    if (D->state == state)
        return;
    if (D->state != DE_TL_OFF) {
        m->r->devices[d].time_s[D->state] += now - D->since;
        de_output_timeline(m->f_timeline, m->s->devices[d].name, d, D->since, now, D->state);
    }
    D->state = state;
    D->since = now;
}

/* ------------------------------------------------------------------ LC requests */

/* Exp(rate) by inversion; gsl_rng_uniform_pos is in (0, 1). */
static double exp_draw(gsl_rng *r, double rate)
{
    return rate > 0 ? -log(gsl_rng_uniform_pos(r)) / rate : INFINITY;
}

/* Service time of one request of task ti on device d that starts at `start`, given its
 * training state: its work (the catalog's model, the truth's factors), and on an
 * emulated type the wall time its CPU budget makes of that work (de_model_budget_wall,
 * with what earlier requests spent of the period: the predictor's form, drawn). */
static double service(sim *m, int d, int ti, double start)
{
    const de_scenario *s = m->s;
    const de_catalog *cat = s->catalog;
    int type = s->devices[d].type;
    const de_infer_params *ip = m->task[ti].ip;
    double speed = m->truth.speed[d], cores = cat->types[type].emulation_cpu_cores;
    double s0 = ip->service_s * m->truth.lc_corr[ti] / (cores > 0 ? 1.0 : speed);
    gsl_rng *r = m->task[ti].rng;
    double x = ip->scv > 0 ? gsl_ran_gamma(r, 1.0 / ip->scv, s0 * ip->scv) : s0;
    sdev *D = &m->dev[d];
    const de_interference *in = &cat->types[type].interference;
    if (D->training) {
        const de_train_params *tp = de_catalog_train(cat, type, s->jobs[m->cur].network);
        x = x * (cores > 0 ? 1.0 : 1.0 + in->lc_inflation) + gsl_rng_uniform(r) * 2.0 * in->blocking_fraction *
                                                                  tp->per_sample_s * m->truth.step_corr[d] / speed *
                                                                  D->batch;
    }
    if (!(cores > 0))
        return x;
    de_budget b = {cores * speed, DE_EMU_PERIOD_S};
    double period = floor(start / b.period_s), used = period == D->bud_period ? D->bud_used : 0.0, end_used;
    double w = de_model_budget_wall(x, start, used, &b, D->training ? 1.0 / (1.0 + in->lc_inflation) : 0.0,
                                    &end_used);
    D->bud_period = floor((start + w) / b.period_s);
    D->bud_used = end_used;
    return w;
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
        T->win_dropped++;
        return;
    }
    de_hist_add(&T->all, latency);
    de_hist_add(&T->win, latency);
    if (latency > m->s->tasks[ti].deadline_s) {
        R->late++;
        T->win_late++;
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
            double x = service(m, d, k, start);
            D->lc_free_at = start + x;
            if (m->cor.enabled) {
                T->cor_svc += x;
                T->cor_n++;
                de_hist_add(&T->cor, D->lc_free_at - a);
            }
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

static double restart_cost(const sim *m)
{
    return de_scenario_restart_cost(m->s, &m->popt, m->cur);
}

static void log_plan_error(sim *m, const de_err *err)
{
    logev(m, "plan_error", "%s", err->msg);
    if (m->plan_err.code == DE_OK) { /* the simulation ends with it: de_sim_run returns it */
        m->plan_err = *err;
        de_engine_stop(m->e);
    }
}

/* All devices of the running plan that are up enter state st. */
static void plan_state(sim *m, de_tl_state state)
{
    for (int i = 0; i < m->plan.n_shares; i++) {
        int d = m->plan.shares[i].device;
        if (m->st.up[d])
            set_state(m, d, state);
    }
}

static void cancel(sim *m, uint64_t *ev)
{
    if (*ev)
        de_engine_cancel(m->e, *ev);
    *ev = 0;
}

/* The next iteration of the running job starts after a checkpoint, planning and a
 * restart, in that order (any of them 0); each is a state of the timeline. */
static void start_after(sim *m, double ckpt_s, double plan_s, double restart_s)
{
    de_sim_job *J = &m->r->jobs[m->cur];
    J->checkpoint_s += ckpt_s;
    J->planning_s += plan_s;
    J->restart_s += restart_s;
    const double len[3] = {ckpt_s, plan_s, restart_s};
    const de_tl_state st[3] = {DE_TL_CHECKPOINT, DE_TL_PLAN, DE_TL_RECOVER}; /* ev_phase[k]: st[k] */
    double t = de_engine_now(m->e);
    for (int k = 0; k < 3; k++) {
        if (!(len[k] > 0))
            continue;
        if (t == de_engine_now(m->e))
            plan_state(m, st[k]);
        else
            m->ev_phase[k] = de_engine_schedule(m->e, t, m->ty[EV_PHASE], (uint32_t)m->cur, (uint64_t)st[k]);
        t += len[k];
    }
    m->ev_iter_start = de_engine_schedule(m->e, t, m->ty[EV_ITER_START], (uint32_t)m->cur, 0);
}

static void ev_phase(de_engine *e, void *ctx, uint32_t job, uint64_t state)
{
    (void)e;
    sim *m = ctx;
    m->ev_phase[state - DE_TL_CHECKPOINT] = 0;
    if ((int)job == m->cur)
        plan_state(m, (de_tl_state)state);
}

static void fire_iteration_changes(sim *m, long iteration);
static void decide(sim *m, const de_change *c);

static void try_start_job(sim *m)
{
    if (m->cur >= 0 || m->qhead == m->qtail)
        return;
    m->cur = m->queue[m->qhead++];
    m->waiting = 1;
    m->has_pending = m->pending_in_place = 0;
    m->done_it = m->ckpt_it = 0;
    m->ckpt_written = 1; /* the start is a checkpoint of nothing done */
    m->ckpt_time = de_engine_now(m->e);
    m->st.samples_done[m->cur] = 0;
    logev(m, "job_start", "job=%s", m->s->jobs[m->cur].name);
    const de_plan *given = m->o->plan && m->o->plan->job == m->cur ? m->o->plan : NULL;
    if (given) { /* the plan file, as deployed: evaluated, not recomputed */
        de_plan_copy(&m->plan, given);
        de_plan_evaluate(&m->plan, &m->st, &m->pred, m->popt.safety_margin);
        logev(m, "plan", "from the plan file: %d devices, predicted iteration %.4f s", m->plan.n_shares,
              m->plan.iteration_time_s);
        m->waiting = 0;
        start_after(m, 0, m->popt.replan_cost_s, 0);
    } else {
        decide(m, NULL);
    }
    fire_iteration_changes(m, 0);
}

static double step_noise(sim *m, int d)
{
    double cv = m->o->step_cv;
    if (cv <= 0)
        return 1.0;
    double s2 = log(1.0 + cv * cv);
    return exp(gsl_ran_gaussian(m->dev[d].rng, sqrt(s2)) - 0.5 * s2); /* lognormal, mean 1 */
}

/* Graceful switch to the pending plan at an iteration boundary: a checkpoint (unless
 * one was just written there), then the new plan's workers restart from it. */
static void switch_plan(sim *m)
{
    const de_job *j = &m->s->jobs[m->cur];
    if (m->pending_in_place) { /* RESHARE: the same devices take their new shares, nothing stops */
        de_plan_copy(&m->plan, &m->pending);
        m->has_pending = m->pending_in_place = 0;
        m->r->jobs[m->cur].reshares++;
        logev(m, "reshare", "job=%s iteration=%ld in place", j->name, m->done_it);
        m->ev_iter_start = de_engine_schedule(m->e, de_engine_now(m->e), m->ty[EV_ITER_START], (uint32_t)m->cur, 0);
        return;
    }
    double ckpt = m->ckpt_it == m->done_it && m->ckpt_written ? 0 : j->checkpoint_cost_s;
    m->ckpt_it = m->done_it;
    m->ckpt_written = 1;
    m->ckpt_time = de_engine_now(m->e) + ckpt;
    plan_state(m, DE_TL_OFF);
    de_plan_copy(&m->plan, &m->pending);
    m->has_pending = 0;
    m->r->jobs[m->cur].switches++;
    start_after(m, ckpt, m->popt.replan_cost_s, restart_cost(m));
}

static void ev_iter_start(de_engine *e, void *ctx, uint32_t job, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    m->ev_iter_start = 0;
    memset(m->ev_phase, 0, sizeof m->ev_phase);
    if ((int)job != m->cur)
        return;
    if (m->has_pending) { /* a switch decided while this start was pending */
        switch_plan(m);
        return;
    }
    double now = de_engine_now(e);
    int network = m->s->jobs[job].network;
    double tmax = 0;
    if (m->s->n_model_errors)
        de_correct_truth(m->s, now, &m->truth); /* a drift moves the true world */
    int *devs = de_calloc((size_t)m->plan.n_shares + 1, sizeof(int));
    for (int i = 0; i < m->plan.n_shares; i++) {
        int d = m->plan.shares[i].device, bi = m->plan.shares[i].batch;
        devs[i] = d;
        double t = m->pred.ops->step_time(m->pred.ctx, &m->truth, d, network, bi) * step_noise(m, d);
        int stalls = !isfinite(t);
        if (stalls)
            logev(m, "stall", "device=%s cannot train next to its LC load (the model's step time is infinite: the LC "
                  "queue is unstable); taken as lost after %g s without progress, as run does",
                  m->s->devices[d].name, m->o->stall_timeout_s);
        else
            de_correct_step(&m->cor, &m->st, &m->pred, network, d, bi, t);
        lc_advance(m, d, now);
        m->dev[d].training = 1;
        m->dev[d].batch = bi;
        set_state(m, d, DE_TL_TRAIN);
        m->dev[d].ev_step = stalls ? de_engine_schedule(e, now + m->o->stall_timeout_s, m->ty[EV_STALL], (uint32_t)d, 0)
                                   : de_engine_schedule(e, now + t, m->ty[EV_STEP_DONE], (uint32_t)d, 0);
        m->r->devices[d].batch_sum += bi;
        m->r->devices[d].iterations++;
        if (t > tmax)
            tmax = t;
    }
    double bytes = m->s->catalog->networks[network].gradient_bytes;
    double A = m->pred.ops->allreduce_time(m->pred.ctx, &m->truth, devs, m->plan.n_shares, bytes);
    de_correct_allreduce(&m->cor, &m->st, &m->pred, devs, m->plan.n_shares, bytes, A);
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

static void on_change(sim *m, const de_change *c);

/* A device whose step could not end: lost, as run's stall detection takes it (a crash
 * through the re-plan rule). */
static void ev_stall(de_engine *e, void *ctx, uint32_t d, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    m->dev[d].ev_step = 0;
    de_change c;
    de_change_init(&c, DE_CHANGE_CRASH, (int)d, 0, "stall");
    c.time_s = de_engine_now(e);
    on_change(m, &c);
}

static void ev_step_done(de_engine *e, void *ctx, uint32_t d, uint64_t b)
{
    (void)b;
    sim *m = ctx;
    m->dev[d].ev_step = 0;
    lc_advance(m, (int)d, de_engine_now(e));
    m->dev[d].training = 0;
    set_state(m, (int)d, DE_TL_SYNC);
}

static void job_done(sim *m)
{
    de_sim_job *J = &m->r->jobs[m->cur];
    J->finished = 1;
    J->end_s = de_engine_now(m->e);
    de_plan_copy(&J->plan, &m->plan);
    logev(m, "job_done", "job=%s iterations=%lld lost_iterations=%lld", m->s->jobs[m->cur].name, J->iterations,
          J->lost_iterations);
    plan_state(m, DE_TL_OFF);
    m->cur = -1;
    m->phase_iter = 0;
    m->jobs_done++;
    try_start_job(m);
    if (m->jobs_done == m->s->n_jobs && !(m->o->until_s > 0))
        de_engine_stop(m->e);
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
    m->done_it++;
    J->samples_done = fmin((double)m->done_it * j->global_batch, total_samples(j));
    m->st.samples_done[job] = J->samples_done;
    de_output_iteration(m->f_iters, j->name, m->done_it, m->iter_start, m->iter_compute, m->iter_allreduce, now,
                        J->samples_done);
    if (J->samples_done >= total_samples(j)) {
        job_done(m);
        return;
    }
    int ckpt = m->done_it % j->checkpoint_interval == 0;
    if (ckpt) {
        m->ckpt_it = m->done_it;
        m->ckpt_written = 0;
        m->ckpt_time = now + j->checkpoint_cost_s;
        logev(m, "checkpoint", "job=%s iteration=%ld", j->name, m->done_it);
    }
    /* Changes due after this iteration (after its checkpoint, as in `run`). */
    long it = m->done_it;
    fire_iteration_changes(m, it);
    if (m->cur != (int)job || m->waiting || m->ev_iter_start)
        return; /* a loss re-planned (or the job waits) */
    if (m->has_pending) { /* the switch writes this iteration's checkpoint (a reshare: none) */
        if (m->pending_in_place && ckpt) {
            m->ckpt_written = 1;
            de_plan_copy(&m->plan, &m->pending); /* the checkpoint is due anyway: it is paid as usual */
            m->has_pending = m->pending_in_place = 0;
            m->r->jobs[m->cur].reshares++;
            logev(m, "reshare", "job=%s iteration=%ld in place", j->name, m->done_it);
            start_after(m, j->checkpoint_cost_s, 0, 0);
            return;
        }
        switch_plan(m);
        return;
    }
    if (ckpt) {
        m->ckpt_written = 1;
        start_after(m, j->checkpoint_cost_s, 0, 0);
        return;
    }
    m->ev_iter_start = de_engine_schedule(e, now, m->ty[EV_ITER_START], job, 0);
}

/* A device of the running plan is lost: the iteration in flight and the work since
 * the last checkpoint are lost; the job continues as the decision says. */
static void job_failure(sim *m, int dead, const de_decision *d)
{
    de_sim_job *J = &m->r->jobs[m->cur];
    const de_job *j = &m->s->jobs[m->cur];
    double now = de_engine_now(m->e);
    cancel(m, &m->ev_iter_end);
    cancel(m, &m->ev_iter_start);
    for (int k = 0; k < 3; k++)
        cancel(m, &m->ev_phase[k]);
    for (int i = 0; i < m->plan.n_shares; i++) {
        int dv = m->plan.shares[i].device;
        cancel(m, &m->dev[dv].ev_step);
        if (m->dev[dv].training) {
            lc_advance(m, dv, now);
            m->dev[dv].training = 0;
        }
        if (dv != dead)
            set_state(m, dv, DE_TL_OFF);
    }
    long lost = m->done_it - m->ckpt_it;
    double lost_t = now - m->ckpt_time;
    J->lost_iterations += lost;
    J->lost_time_s += lost_t > 0 ? lost_t : 0;
    J->failures++;
    m->done_it = m->ckpt_it;
    m->ckpt_written = 1;
    J->samples_done = fmin((double)m->done_it * j->global_batch, total_samples(j));
    m->st.samples_done[m->cur] = J->samples_done;
    m->phase_iter = 0;
    m->has_pending = m->pending_in_place = 0;
    logev(m, "failure", "job=%s device=%s lost_iterations=%ld lost_time_s=%.6f back_to_iteration=%ld", j->name,
          m->s->devices[dead].name, lost, lost_t > 0 ? lost_t : 0, m->done_it);
    if (d->action == DE_ACTION_RESTART) {
        de_plan_copy(&m->plan, &d->plan);
        m->waiting = 0;
        start_after(m, 0, m->popt.replan_cost_s, restart_cost(m));
    } else {
        m->waiting = 1;
    }
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

/* The re-plan rule (core/de_replan.h) on the change c (NULL: the waiting job asks to
 * start), carried out as the executor carries it out. */
static void decide(sim *m, const de_change *c)
{
    if (m->cur < 0)
        return;
    de_replan_view v = {m->cur, m->waiting ? NULL : &m->plan, m->has_pending ? &m->pending : NULL, m->done_it,
                        m->ckpt_it};
    de_decision d;
    de_decision_init(&d);
    de_err err;
    m->r->jobs[m->cur].planner_calls++;
    if (de_replan_decide(&m->st, c, &v, (de_policy)m->r->policy, &m->popt, &m->pred, &d, &err)) {
        log_plan_error(m, &err);
        de_decision_free(&d);
        return;
    }
    char line[512];
    de_decision_describe(&d, c, m->s, line, sizeof line);
    logev(m, "decision", "%s", line);
    de_sim_result *R = m->r;
    if (R->n_decisions == m->decisions_cap) {
        m->decisions_cap = m->decisions_cap ? 2 * m->decisions_cap : 16;
        R->decisions = de_realloc(R->decisions, (size_t)m->decisions_cap * sizeof *R->decisions);
    }
    R->decisions[R->n_decisions].time_s = de_engine_now(m->e);
    snprintf(R->decisions[R->n_decisions++].line, sizeof R->decisions[0].line, "%s", line);
    if (d.lost) {
        job_failure(m, c->target, &d);
    } else if (d.action == DE_ACTION_SWITCH || d.action == DE_ACTION_RESHARE) {
        de_plan_copy(&m->pending, &d.plan);
        m->has_pending = 1; /* carried out at the next iteration boundary */
        m->pending_in_place = d.action == DE_ACTION_RESHARE;
    } else if (d.action == DE_ACTION_START) {
        de_plan_copy(&m->plan, &d.plan);
        m->waiting = 0;
        start_after(m, 0, m->popt.replan_cost_s, m->ckpt_it > 0 ? restart_cost(m) : 0);
    } else if (d.action == DE_ACTION_WAIT) {
        m->waiting = 1;
    }
    de_decision_free(&d);
}

/* A change of the world: LC requests are served up to now under the old state, the
 * state changes (core), the simulated devices follow, and the rule decides. */
static void on_change(sim *m, const de_change *c)
{
    const de_scenario *s = m->s;
    double now = de_engine_now(m->e);
    int d = -1;
    if (de_change_target_kind(c->kind) == DE_TARGET_DEVICE)
        d = c->target;
    else if (c->kind == DE_CHANGE_LC_RATE)
        d = s->tasks[c->target].device;
    if (d >= 0)
        lc_advance(m, d, now);
    char what[256];
    de_change_describe(c, s, what, sizeof what);
    logev(m, "change", "%s (%s)", what, c->origin);
    if (c->kind == DE_CHANGE_JOB_ARRIVAL) {
        m->queue[m->qtail++] = c->target;
        try_start_job(m);
        return;
    }
    int hit = c->kind == DE_CHANGE_CRASH && in_plan(m, d);
    de_change_apply(&m->truth, c); /* the world changes as the scheduler sees it change */
    if (!de_change_apply(&m->st, c))
        return; /* nothing changed: nothing to decide */
    switch (c->kind) {
    case DE_CHANGE_CRASH:
        if (!hit)
            m->dev[d].training = 0;
        set_state(m, d, DE_TL_DOWN);
        break;
    case DE_CHANGE_REPAIR:
        set_state(m, d, DE_TL_OFF);
        if (m->dev[d].lc_free_at < now)
            m->dev[d].lc_free_at = now;
        break;
    case DE_CHANGE_LC_RATE: {
        stask *T = &m->task[c->target];
        if (T->next_arrival >= now) /* memoryless: redraw from now at the new rate */
            T->next_arrival = now + exp_draw(T->rng, m->st.rate[c->target]);
        break;
    }
    default: break;
    }
    decide(m, c);
}

/* The iteration-triggered changes due once the running job has done `iteration`. */
static void fire_iteration_changes(sim *m, long iteration)
{
    for (int i = 0; i < m->n_changes; i++)
        if (!m->fired[i] && m->changes[i].iteration >= 0 && m->changes[i].iteration <= iteration && m->cur >= 0) {
            m->fired[i] = 1;
            on_change(m, &m->changes[i]);
        }
}

static void ev_job_arrive(de_engine *e, void *ctx, uint32_t job, uint64_t b)
{
    (void)e;
    (void)b;
    sim *m = ctx;
    de_change c;
    de_change_init(&c, DE_CHANGE_JOB_ARRIVAL, (int)job, 0, "jobs.arrival_s");
    c.time_s = de_engine_now(e);
    on_change(m, &c);
}

static void ev_change(de_engine *e, void *ctx, uint32_t i, uint64_t b)
{
    (void)e;
    (void)b;
    sim *m = ctx;
    on_change(m, &m->changes[i]);
}

static void ev_rate(de_engine *e, void *ctx, uint32_t ti, uint64_t row)
{
    sim *m = ctx;
    const de_rate_trace *tr = m->s->tasks[ti].trace;
    de_change c;
    de_change_init(&c, DE_CHANGE_LC_RATE, (int)ti, tr->rate[row], "rate trace");
    c.time_s = de_engine_now(e);
    if (row + 1 < (uint64_t)tr->n)
        de_engine_schedule(e, tr->time_s[row + 1], m->ty[EV_RATE], ti, row + 1);
    on_change(m, &c);
}

/* ------------------------------------------------------------------ windows */

/* The requests since the last call into the online correction (de_correct.h); when a factor
 * moved, or a percentile crossed deadline x (1 - margin/2), a `model` change goes through
 * the re-plan rule. */
static void correct(sim *m)
{
    if (!m->cor.enabled || m->cur < 0)
        return;
    const de_plan *p = m->waiting ? NULL : &m->plan;
    int network = m->s->jobs[m->cur].network, warned = 0;
    for (int ti = 0; ti < m->s->n_tasks; ti++) {
        stask *T = &m->task[ti];
        if (T->cor_n < DE_CORRECT_MIN_REQUESTS)
            continue; /* the percentile of fewer requests is noise */
        warned |= de_correct_window(&m->cor, &m->st, &m->pred, p, network, ti, T->cor_n, T->cor_svc / (double)T->cor_n,
                                    de_hist_quantile(&T->cor, m->s->tasks[ti].percentile), m->popt.safety_margin);
        de_hist_reset(&T->cor);
        T->cor_svc = 0;
        T->cor_n = 0;
    }
    int dev;
    char what[512];
    if (!de_correct_apply(&m->cor, &m->st, &dev, what, sizeof what) && !warned)
        return;
    if (dev < 0) /* a crossing the factors already cover: the plan is reconsidered on them */
        dev = m->plan.n_shares ? m->plan.shares[0].device : 0;
    logev(m, "correction", "%s%s", warned ? "a window crossed deadline x (1 - margin/2); " : "",
          what[0] ? what : "no factor moved");
    de_change c;
    de_change_init(&c, DE_CHANGE_MODEL, dev, 0, "correction");
    c.time_s = de_engine_now(m->e);
    on_change(m, &c);
}

static void flush_window(sim *m, double t0, double t1)
{
    for (int d = 0; d < m->s->n_devices; d++)
        lc_advance(m, d, t1);
    static const double ps[3] = {0.5, 0.95, 0.99};
    for (int ti = 0; ti < m->s->n_tasks; ti++) {
        stask *T = &m->task[ti];
        const de_lc_task *t = &m->s->tasks[ti];
        if (m->f_windows && T->win_requests) {
            double q[3] = {NAN, NAN, NAN};
            if (T->win.n)
                de_hist_quantiles(&T->win, ps, 3, q);
            de_window_row w = {t0,   t1,   t->name, T->win_requests, T->win_dropped, T->win_late + T->win_dropped,
                               q[0], q[1], q[2],    de_hist_quantile(&T->win, t->percentile), 100 * t->percentile,
                               t->deadline_s};
            de_output_window(m->f_windows, &w);
        }
        de_hist_reset(&T->win);
        T->win_requests = T->win_dropped = T->win_late = 0;
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

/* Every DE_CORRECT_PERIOD_S, as run does: the requests served so far into the correction. */
static void ev_correct(de_engine *e, void *ctx, uint32_t a, uint64_t b)
{
    (void)a;
    (void)b;
    sim *m = ctx;
    double now = de_engine_now(e);
    for (int d = 0; d < m->s->n_devices; d++)
        lc_advance(m, d, now);
    correct(m);
    de_engine_schedule(e, now + DE_CORRECT_PERIOD_S, m->ty[EV_CORRECT], 0, 0);
}

/* ------------------------------------------------------------------ setup */

void de_sim_opts_default(de_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->policy = -1;
    o->seed = 1;
    o->window_s = 60.0;
    o->step_cv = 0.05;
    o->replan_cost_s = o->restart_cost_s = o->switch_gain = NAN;
    o->correction = -1;
    o->stall_timeout_s = DE_STALL_TIMEOUT_S;
}

static int open_outputs(sim *m, de_err *err)
{
    const char *dir = m->o->out_dir;
    if (!dir)
        return DE_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return de_err_set(err, DE_EIO, "%s: cannot create the output folder: %s", dir, strerror(errno));
    if (!(m->f_events = de_output_open(dir, DE_OUT_EVENTS, err)) ||
        !(m->f_iters = de_output_open(dir, DE_OUT_ITERATIONS, err)) ||
        !(m->f_timeline = de_output_open(dir, DE_OUT_TIMELINE, err)) ||
        !(m->f_windows = de_output_open(dir, DE_OUT_LC_WINDOWS, err)))
        return DE_EIO;
    return DE_OK;
}

static int close_outputs(sim *m, de_err *err)
{
    const char *dir = m->o->out_dir;
    int rc = de_output_close(m->f_events, dir, DE_OUT_EVENTS, err);
    rc |= de_output_close(m->f_iters, dir, DE_OUT_ITERATIONS, rc ? NULL : err);
    rc |= de_output_close(m->f_timeline, dir, DE_OUT_TIMELINE, rc ? NULL : err);
    rc |= de_output_close(m->f_windows, dir, DE_OUT_LC_WINDOWS, rc ? NULL : err);
    m->f_events = m->f_iters = m->f_timeline = m->f_windows = NULL;
    if (rc || !dir)
        return rc ? DE_EIO : DE_OK;
    /* The latency CDF of every task (from its histogram). */
    FILE *f = de_output_open(dir, DE_OUT_LC_CDF, err);
    if (!f)
        return DE_EIO;
    for (int ti = 0; ti < m->s->n_tasks; ti++)
        de_hist_write_cdf(f, m->s->tasks[ti].name, &m->task[ti].all, m->s->tasks[ti].deadline_s,
                          m->s->tasks[ti].percentile * 100);
    return de_output_close(f, dir, DE_OUT_LC_CDF, err);
}

/* The scenario's changes and the injected ones, time-triggered ones scheduled. */
static void setup_changes(sim *m)
{
    const de_scenario *s = m->s;
    m->n_changes = s->n_changes + m->o->n_inject;
    m->changes = de_calloc((size_t)m->n_changes + 1, sizeof *m->changes);
    m->fired = de_calloc((size_t)m->n_changes + 1, 1);
    for (int i = 0; i < s->n_changes; i++)
        m->changes[i] = s->changes[i];
    for (int i = 0; i < m->o->n_inject; i++)
        m->changes[s->n_changes + i] = m->o->inject[i];
    for (int i = 0; i < m->n_changes; i++)
        if (m->changes[i].iteration < 0)
            de_engine_schedule(m->e, m->changes[i].time_s, m->ty[EV_CHANGE], (uint32_t)i, 0);
}

static void setup(sim *m, const de_scenario *s, const de_sim_opts *o, de_sim_result *res)
{
    m->e = de_engine_create();
    m->ty[EV_JOB_ARRIVE] = de_engine_register(m->e, ev_job_arrive, m);
    m->ty[EV_ITER_START] = de_engine_register(m->e, ev_iter_start, m);
    m->ty[EV_STEP_DONE] = de_engine_register(m->e, ev_step_done, m);
    m->ty[EV_STALL] = de_engine_register(m->e, ev_stall, m);
    m->ty[EV_ITER_END] = de_engine_register(m->e, ev_iter_end, m);
    m->ty[EV_CHANGE] = de_engine_register(m->e, ev_change, m);
    m->ty[EV_RATE] = de_engine_register(m->e, ev_rate, m);
    m->ty[EV_PHASE] = de_engine_register(m->e, ev_phase, m);
    m->ty[EV_WINDOW] = de_engine_register(m->e, ev_window, m);
    m->ty[EV_CORRECT] = de_engine_register(m->e, ev_correct, m);
    de_state_init(&m->st, s, 0.0);
    de_state_init(&m->truth, s, 0.0);
    de_correct_truth(s, 0.0, &m->truth);
    de_correct_init(&m->cor, s);
    if (o->correction >= 0)
        m->cor.enabled = o->correction;
    res->correction = m->cor.enabled;
    m->pred = de_predictor_model();
    m->popt = s->planner;
    m->popt.policy = (de_policy)res->policy;
    if (!isnan(o->replan_cost_s))
        m->popt.replan_cost_s = o->replan_cost_s;
    if (!isnan(o->restart_cost_s))
        m->popt.restart_cost_s = o->restart_cost_s;
    if (!isnan(o->switch_gain))
        m->popt.switch_gain = o->switch_gain;
    m->cur = -1;
    de_plan_init(&m->plan);
    de_plan_init(&m->pending);
    m->queue = de_calloc((size_t)s->n_jobs + 1, sizeof(int));
    m->dev = de_calloc((size_t)s->n_devices + 1, sizeof *m->dev);
    m->task = de_calloc((size_t)s->n_tasks + 1, sizeof *m->task);
    for (int d = 0; d < s->n_devices; d++) {
        m->dev[d].rng = de_rng_stream(o->seed, "device", s->devices[d].name);
        m->dev[d].state = DE_TL_OFF;
    }
    for (int t = 0; t < s->n_tasks; t++) {
        stask *T = &m->task[t];
        T->rng = de_rng_stream(o->seed, "lc-task", s->tasks[t].name);
        T->ip = de_catalog_infer(s->catalog, s->devices[s->tasks[t].device].type, s->tasks[t].model);
        de_hist_init(&T->all);
        de_hist_init(&T->win);
        de_hist_init(&T->cor);
        T->next_arrival = exp_draw(T->rng, m->st.rate[t]);
        const de_rate_trace *tr = s->tasks[t].trace;
        if (tr) { /* rows after time 0 become rate-change events */
            int row = 0;
            while (row < tr->n && tr->time_s[row] <= 0)
                row++;
            if (row < tr->n)
                de_engine_schedule(m->e, tr->time_s[row], m->ty[EV_RATE], (uint32_t)t, (uint64_t)row);
        }
    }
    for (int j = 0; j < s->n_jobs; j++)
        de_engine_schedule(m->e, s->jobs[j].arrival_s, m->ty[EV_JOB_ARRIVE], (uint32_t)j, 0);
    setup_changes(m);
    de_engine_schedule(m->e, o->window_s, m->ty[EV_WINDOW], 0, 0);
    if (m->cor.enabled)
        de_engine_schedule(m->e, DE_CORRECT_PERIOD_S, m->ty[EV_CORRECT], 0, 0);
}

/* Closes the books at the end of the run. */
static void finish(sim *m, de_sim_result *res)
{
    const de_scenario *s = m->s;
    double end = de_engine_now(m->e);
    res->end_s = end;
    double wstart = floor(end / m->o->window_s) * m->o->window_s;
    flush_window(m, wstart < end ? wstart : end - m->o->window_s, end);
    for (int d = 0; d < s->n_devices; d++)
        set_state(m, d, DE_TL_OFF);
    for (int j = 0; j < s->n_jobs; j++)
        if (!res->jobs[j].finished && j == m->cur)
            de_plan_copy(&res->jobs[j].plan, &m->plan);
    static const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < s->n_tasks; t++) {
        de_sim_task *R = &res->tasks[t];
        double q[3];
        de_hist_quantiles(&m->task[t].all, ps, 3, q);
        R->p50_s = q[0];
        R->p95_s = q[1];
        R->p99_s = q[2];
        R->mean_s = de_hist_mean(&m->task[t].all);
        R->pct_s = de_hist_quantile(&m->task[t].all, s->tasks[t].percentile);
    }
    if (m->o->progress) {
        progress(m, end);
        fputc('\n', m->o->progress);
    }
    res->queue_bytes = de_engine_bytes(m->e);
    res->corrections = m->cor.changes;
    res->warnings = m->cor.warnings;
    res->step_corr = de_calloc((size_t)s->n_devices + 1, sizeof(double));
    res->lc_corr = de_calloc((size_t)s->n_tasks + 1, sizeof(double));
    memcpy(res->step_corr, m->st.step_corr, (size_t)s->n_devices * sizeof(double));
    memcpy(res->lc_corr, m->st.lc_corr, (size_t)s->n_tasks * sizeof(double));
}

static void teardown(sim *m)
{
    for (int d = 0; m->dev && d < m->s->n_devices; d++)
        gsl_rng_free(m->dev[d].rng);
    for (int t = 0; m->task && t < m->s->n_tasks; t++) {
        gsl_rng_free(m->task[t].rng);
        de_hist_free(&m->task[t].all);
        de_hist_free(&m->task[t].win);
        de_hist_free(&m->task[t].cor);
    }
    free(m->dev);
    free(m->task);
    free(m->queue);
    free(m->changes);
    free(m->fired);
    de_plan_free(&m->plan);
    de_plan_free(&m->pending);
    if (m->st.scen)
        de_state_free(&m->st);
    if (m->truth.scen)
        de_state_free(&m->truth);
    de_correct_free(&m->cor);
    de_engine_destroy(m->e);
}

int de_sim_run(const de_scenario *s, const de_sim_opts *o, de_sim_result *res, de_err *err)
{
    memset(res, 0, sizeof *res);
    if (!(o->window_s > 0) || !(o->step_cv >= 0) || o->replan_cost_s < 0 || o->switch_gain < 0 ||
        o->switch_gain > 1 || !(o->until_s >= 0) || (o->policy >= 0 && !de_policy_valid((de_policy)o->policy)))
        return de_err_set(err, DE_EINVAL,
                          "sim: invalid options (window > 0, step_cv >= 0, costs >= 0, switch gain in [0, 1], until >= 0)");
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
        const de_job *J = &s->jobs[j];
        res->jobs[j].arrival_s = J->arrival_s;
        res->jobs[j].start_s = res->jobs[j].end_s = NAN;
        res->jobs[j].iterations_total = (long long)ceil(total_samples(J) / J->global_batch);
        de_plan_init(&res->jobs[j].plan);
    }
    if (!de_policy_accepts((de_policy)res->policy, s->n_devices)) {
        de_sim_result_free(res);
        return de_err_set(err, DE_EINVAL, "sim: policy %s accepts at most %d devices (scenario has %d)",
                          de_policy_name((de_policy)res->policy), de_policy_max_devices((de_policy)res->policy),
                          s->n_devices);
    }
    /* A horizon the simulator can serve: it draws every LC request (about 8 million a second
     * on one core, `deepedge bench sim-scale`), so rates x horizon beyond 1e11 requests would
     * take hours; said before anything runs. */
    double last_arrival = 0, reqs = 0;
    for (int j = 0; j < s->n_jobs; j++)
        last_arrival = fmax(last_arrival, s->jobs[j].arrival_s);
    double horizon = o->until_s > 0 ? o->until_s : last_arrival + 86400.0;
    for (int t = 0; t < s->n_tasks; t++)
        reqs += (s->tasks[t].trace ? de_rate_trace_peak(s->tasks[t].trace) : s->tasks[t].rate) * horizon;
    if (reqs > DE_SIM_MAX_REQUESTS) {
        de_sim_result_free(res);
        return de_err_set(err, DE_ERANGE,
                          "sim: about %.3g LC requests in %.3g simulated s (rates x horizon), above the %.0e this "
                          "simulator serves in a few hours; shorten --until or lower the rates",
                          reqs, horizon, DE_SIM_MAX_REQUESTS);
    }
    int rc = open_outputs(&m, err);
    if (rc) {
        close_outputs(&m, NULL);
        de_sim_result_free(res);
        return rc;
    }
    setup(&m, s, o, res);
    /* Without --until: until every job is done, at most 24 h after the last arrival. */
    m.horizon = o->until_s > 0 ? o->until_s : INFINITY;
    res->events = de_engine_run(m.e, horizon);
    finish(&m, res);
    rc = close_outputs(&m, err);
    teardown(&m);
    if (rc == DE_OK && m.plan_err.code != DE_OK) {
        de_sim_result_free(res);
        if (err)
            *err = m.plan_err;
        return m.plan_err.code;
    }
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
    free(res->decisions);
    free(res->step_corr);
    free(res->lc_corr);
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
