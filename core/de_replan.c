/* de_replan.c — applying changes and the re-plan rule (see de_replan.h). */
#include "de_replan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_planner.h"
#include "de_util.h"

static const char *const action_names[] = {
#define DE_X_NAME(id, name, help) name,
    DE_ACTION_TABLE(DE_X_NAME)
#undef DE_X_NAME
};

const char *de_action_name(de_action a)
{
    return (unsigned)a < DE_ACTION_COUNT ? action_names[a] : "?";
}

int de_change_apply(de_state *st, const de_change *c)
{
    double *slot = NULL;
    double v = c->value;
    switch (c->kind) {
    case DE_CHANGE_CRASH:
    case DE_CHANGE_REPAIR: {
        unsigned char up = c->kind == DE_CHANGE_REPAIR;
        int changed = st->up[c->target] != up;
        st->up[c->target] = up;
        return changed;
    }
    case DE_CHANGE_SLOWDOWN: slot = &st->speed[c->target]; break;
    case DE_CHANGE_LINK_DEGRADE: slot = &st->link_factor[c->target]; break;
    case DE_CHANGE_LC_RATE: slot = &st->rate[c->target]; break;
    case DE_CHANGE_MODEL: return 1; /* the correction wrote its factors into st (de_correct_apply) */
    default: return 0;
    }
    int changed = *slot != v;
    *slot = v;
    return changed;
}

void de_decision_init(de_decision *d)
{
    memset(d, 0, sizeof *d);
    de_plan_init(&d->plan);
    d->now_retraining_s = d->new_retraining_s = NAN;
}

void de_decision_free(de_decision *d)
{
    de_plan_free(&d->plan);
}

/* The same devices (and, with batches, the same local batches) in the same order. */
static int same_plan(const de_plan *a, const de_plan *b, int batches)
{
    if (a->n_shares != b->n_shares)
        return 0;
    for (int i = 0; i < a->n_shares; i++)
        if (a->shares[i].device != b->shares[i].device || (batches && a->shares[i].batch != b->shares[i].batch))
            return 0;
    return 1;
}

static int in_plan(const de_plan *p, int d)
{
    for (int i = 0; p && i < p->n_shares; i++)
        if (p->shares[i].device == d)
            return 1;
    return 0;
}

int de_replan_decide(de_state *st, const de_change *c, const de_replan_view *v, de_policy policy,
                     const de_planner_opts *opt, const de_predictor *pred, de_decision *out, de_err *err)
{
    const de_scenario *s = st->scen;
    de_plan_free(&out->plan);
    de_decision_init(out);
    out->action = DE_ACTION_KEEP;
    out->iteration = out->from_iteration = v->iteration;
    if (v->job < 0)
        return DE_OK;
    if (v->job >= s->n_jobs)
        return de_err_set(err, DE_EINVAL, "re-plan: job %d out of range", v->job);
    const de_job *j = &s->jobs[v->job];
    double restart = de_scenario_restart_cost(s, opt, v->job);
    out->lost = v->running && c && c->kind == DE_CHANGE_CRASH && in_plan(v->running, c->target);
    if (out->lost)
        out->from_iteration = v->ckpt_iteration;
    st->samples_done[v->job] = fmin((double)out->from_iteration * j->global_batch, (double)j->dataset_size * j->epochs);
    if (!v->running || out->lost) {
        int rc = de_plan_compute_after(st, v->job, policy, opt, pred, c, &out->plan, err);
        if (rc)
            return rc;
        if (out->plan.n_shares == 0) {
            out->action = DE_ACTION_WAIT;
            return DE_OK;
        }
        out->new_retraining_s = out->plan.retraining_time_s;
        if (out->lost) {
            out->action = DE_ACTION_RESTART;
            out->cost_s = opt->replan_cost_s + restart;
        } else {
            out->action = DE_ACTION_START;
            out->cost_s = opt->replan_cost_s + (v->ckpt_iteration > 0 ? restart : 0);
        }
        return DE_OK;
    }
    /* A voluntary change: is a new plan worth a checkpoint and a restart? */
    de_plan now;
    de_plan_init(&now);
    de_plan_copy(&now, v->next ? v->next : v->running);
    de_plan_evaluate(&now, st, pred, opt->safety_margin);
    out->now_retraining_s = now.retraining_time_s;
    out->now_feasible = now.feasible;
    int rc = de_plan_compute_after(st, v->job, policy, opt, pred, c, &out->plan, err);
    if (!rc && out->plan.n_shares > 0 && !same_plan(&out->plan, &now, 1)) {
        out->new_retraining_s = out->plan.retraining_time_s;
        int in_place = !v->next && same_plan(&out->plan, v->running, 0);
        double cost = in_place ? opt->replan_cost_s : j->checkpoint_cost_s + opt->replan_cost_s + restart;
        const de_plan *p = &out->plan;
        int better;
        if (!isfinite(p->iteration_time_s))
            better = 0; /* it could not even progress */
        else if (p->feasible != now.feasible)
            better = p->feasible; /* keeping every deadline comes first */
        else if (p->over_margin != now.over_margin)
            better = p->over_margin < now.over_margin; /* both break some: fewer */
        else
            better = p->retraining_time_s + cost < now.retraining_time_s * (1.0 - opt->switch_gain);
        if (better) {
            out->action = in_place ? DE_ACTION_RESHARE : DE_ACTION_SWITCH;
            out->cost_s = cost;
        }
    }
    if (out->action == DE_ACTION_KEEP) /* the plan that stays, with its predictions on the new state */
        de_plan_copy(&out->plan, &now);
    de_plan_free(&now);
    return rc;
}

void de_decision_describe(const de_decision *d, const de_change *c, const de_scenario *s, char *buf, size_t n)
{
    char shares[1024] = "-";
    size_t len = 0;
    if (d->action != DE_ACTION_WAIT && d->plan.n_shares > 0) {
        shares[0] = '\0';
        for (int i = 0; i < d->plan.n_shares && len + 1 < sizeof shares; i++)
            len += (size_t)snprintf(shares + len, sizeof shares - len, "%s%s:%d", i ? "," : "",
                                    s->devices[d->plan.shares[i].device].name, d->plan.shares[i].batch);
    }
    snprintf(buf, n, "change=%s target=%s iteration=%ld action=%s from=%ld plan=%s predicted_iteration_s=%.4f cost_s=%.3f",
             c ? de_change_kind_name(c->kind) : "none", c ? de_change_target_name(c, s) : "-", d->iteration,
             de_action_name(d->action), d->from_iteration, shares,
             d->plan.n_shares ? d->plan.iteration_time_s : NAN, d->cost_s);
}
