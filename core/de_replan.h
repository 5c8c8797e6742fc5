/* de_replan.h — what a change does to the cluster state, and what the scheduler does
 * about it: the re-plan rule shared by the simulator and the executor.
 *
 * For every change (de_change.h) a driver calls, in this order:
 *   1. de_change_apply(st, c): the state moves (device down or up, speed, link
 *      bandwidth, LC rate);
 *   2. de_replan_decide(st, c, view, ...): one decision, by this rule:
 *      - no job running: KEEP (nothing to decide);
 *      - the job waits for a plan (it just arrived, or no device could take it):
 *        START with a plan if the policy finds one, else WAIT;
 *      - a crash of a device the running plan trains on (a loss): RESTART from the
 *        job's last checkpoint with a new plan on the devices left (cost: re-plan +
 *        restart), or WAIT (progress still goes back) when no device can take it;
 *      - otherwise (a voluntary change): the policy plans again. When the new plan
 *        differs from the one the job is heading for (the running plan, or the
 *        pending switch's) and is better, RESHARE when it trains on the same devices
 *        as the running plan (and no switch is pending): the workers take the new
 *        shares at the next iteration boundary, in place (cost: a re-plan); else
 *        SWITCH: the job checkpoints at the next iteration boundary and continues on
 *        the new plan (cost: a checkpoint + re-plan + restart); else KEEP. Better, in this
 *        order: it can progress at all (finite iteration time); it keeps every
 *        deadline and the current one does not; both break some, it fewer (tasks over
 *        deadline x (1 - margin)); it is predicted faster by more than switch_gain,
 *        the cost of switching included.
 *   3. the driver carries the action out: the simulator with the costs of the
 *      scenario's planner group (replan_cost_s, restart_cost_s, the job's
 *      checkpoint_cost_s), the executor for real (it stops the workers at a
 *      checkpoint or after the loss, and relaunches them with the new plan), and
 *      both log the decision with de_decision_describe, so that the decisions of
 *      `sim` and `run` on the same scenario can be compared line by line. */
#ifndef DE_REPLAN_H
#define DE_REPLAN_H

#include <stddef.h>

#include "de_change.h"
#include "de_plan.h"
#include "de_predictor.h"
#include "de_state.h"

/* Applies c to the state: crash (up = 0), repair (up = 1), slowdown (speed), link
 * degradation (link factor), LC rate (rate); a job arrival changes nothing here (the
 * driver queues the job). Returns 1 when the state changed. */
int de_change_apply(de_state *st, const de_change *c);

/* A device of the running plan that reports no progress for this long is taken as lost
 * (a crash, through the rule): deepedge run's --stall-timeout default, and what deepedge
 * sim does when the model's step time is infinite (training cannot progress next to the
 * device's LC load); sim --stall-timeout sets it there. */
#define DE_STALL_TIMEOUT_S 120.0

#define DE_ACTION_TABLE(X)                                                                              \
    X(KEEP, "keep", "the running plan stays")                                                           \
    X(SWITCH, "switch", "checkpoint at the next iteration boundary, then continue on the new plan")      \
    X(RESHARE, "reshare", "the same devices with other shares: applied in place at the next iteration "  \
      "boundary (no checkpoint, no restart)")                                                              \
    X(RESTART, "restart", "a device of the plan is lost: back to the last checkpoint, on the new plan") \
    X(START, "start", "a waiting job starts on its first plan")                                          \
    X(WAIT, "wait", "no device can take the job: it waits for the next change")

typedef enum de_action {
#define DE_X_ACT(id, name, help) DE_ACTION_##id,
    DE_ACTION_TABLE(DE_X_ACT)
#undef DE_X_ACT
    DE_ACTION_COUNT
} de_action;

const char *de_action_name(de_action a);

/* What the driver knows of the job the decision is about. */
typedef struct de_replan_view {
    int job;                 /* index into the scenario's jobs; -1: no job running */
    const de_plan *running;  /* the plan its workers run; NULL: it waits for one */
    const de_plan *next;     /* a SWITCH decided and not yet carried out, else NULL */
    long iteration;          /* global iterations it has completed */
    long ckpt_iteration;     /* iteration of its last checkpoint (0: none yet) */
} de_replan_view;

typedef struct de_decision {
    de_action action;
    int lost;                /* 1: the change cost work (a loss: back to the checkpoint) */
    long iteration;          /* iterations completed when decided */
    long from_iteration;     /* where the job continues: the checkpoint after a loss, else iteration */
    de_plan plan;            /* SWITCH, RESTART, START: the plan to run (evaluated on the new state) */
    double cost_s;           /* predicted cost of the action (checkpoint, re-plan, restart) */
    double now_retraining_s; /* SWITCH/KEEP: the running plan's predicted remaining time on the new state */
    double new_retraining_s; /* the new plan's, when one was computed */
    int now_feasible;        /* the running plan keeps every deadline on the new state */
} de_decision;

void de_decision_init(de_decision *d);
void de_decision_free(de_decision *d);

/* The rule above. st: the state after the change (its samples_done is set here for
 * the job from view->iteration, or from the checkpoint after a loss). c: the change
 * (NULL: a waiting job asks to start). Errors only for bad input (DE_EINVAL). */
int de_replan_decide(de_state *st, const de_change *c, const de_replan_view *view, de_policy policy,
                     const de_planner_opts *opt, const de_predictor *pred, de_decision *out, de_err *err);

/* The decision as one line of key=value fields, the same in sim's and run's event logs:
 *   change=crash target=edge-b iteration=30 action=restart from=20 plan=edge-a:21,edge-c:11
 *   predicted_iteration_s=0.2291 cost_s=1.52
 * (change=none target=- for a job asking to start; plan=- when there is none). */
void de_decision_describe(const de_decision *d, const de_change *c, const de_scenario *s, char *buf, size_t n);

#endif
