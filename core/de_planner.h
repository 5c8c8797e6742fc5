/* de_planner.h — the planning policies behind one call.
 *
 * de_plan_compute(state, job, policy, options, predictor) chooses the devices that
 * train `job` and splits its global batch B among them (integer b_i > 0, sum = B),
 * then evaluates the plan (de_plan_evaluate) so that every policy is judged by the
 * same predictions. Re-planning is the same call on an updated state (devices
 * down or back, LC rates changed, job progress advanced): the plan covers the
 * samples the job has left.
 *
 * Policies (de_policy.h):
 *  deep-edge     minimises the predicted iteration time (max step time + all-reduce)
 *                subject to every LC task's predicted latency percentile staying
 *                <= deadline * (1 - safety_margin), with each device's duty cycle
 *                (its step time over the iteration time) coupling it to the whole
 *                plan. For a fixed device set the split is optimal (bisection on the
 *                compute time over monotone per-device capacities); the set is
 *                chosen by a link-class / throughput prefix search followed by
 *                add/drop/swap local search.
 *  exact         the same objective and constraints, every device set enumerated
 *                (the policy table's largest cluster, de_policy.h).
 *  all-uniform, proportional, fastest-k
 *                LC-oblivious baselines: they respect memory limits but not LC
 *                deadlines; their predicted violations are reported, not repaired.
 *  ext:COMMAND   a program (policies/README.md, core/policy_ext.c): it is sent the
 *                state, may query this predictor, and replies with shares, which are
 *                checked (devices known and up, batches within memory, summing to B).
 * A plan that meets no deadline set is still returned, feasible = 0, with a verdict
 * naming the tasks and devices responsible and the best plan on the safe devices. */
#ifndef DE_PLANNER_H
#define DE_PLANNER_H

#include "de_plan.h"
#include "de_predictor.h"
#include "de_scenario.h"
#include "de_state.h"

/* Returns DE_OK with *out filled (feasible or not), or DE_EINVAL for bad input (job
 * or policy out of range, a cluster larger than the policy accepts). *out must be
 * initialised (de_plan_init) and is overwritten. The policy sees st (or, when it is
 * LC-oblivious, st without LC load); the plan is then evaluated on st. */
int de_plan_compute(const de_state *st, int job, de_policy policy, const de_planner_opts *opt,
                    const de_predictor *pred, de_plan *out, de_err *err);

/* The same, told which change of the world led to it (NULL: none, a first plan): the
 * re-plan rule (de_replan.c) calls this; an external policy is sent the change. Both
 * also fail when an external policy cannot be started, exits or times out (DE_EIO), or
 * sends a bad message (DE_ESYNTAX; DE_EINVAL for shares no plan may have), the message
 * naming what was wrong and the line received. */
int de_plan_compute_after(const de_state *st, int job, de_policy policy, const de_planner_opts *opt,
                          const de_predictor *pred, const de_change *change, de_plan *out, de_err *err);

/* ---- writing a policy (de_policy.h) ---- */

/* What a policy function is given. */
typedef struct de_policy_call {
    const de_state *st;          /* the world it plans for (without LC load for an LC-oblivious policy) */
    int job;                     /* index into st->scen->jobs */
    const de_planner_opts *opt;  /* safety margin, fastest_k */
    const de_predictor *pred;    /* step times, LC latencies, all-reduce */
    const de_change *change;     /* the change of the world that led to this plan; NULL: none */
    de_err *err;                 /* a policy that can fail (an external one) sets it: the call fails */
} de_policy_call;

/* Every policy's function, declared from the table: it sets out's shares
 * (de_plan_set_shares: devices up, local batches > 0 summing to the job's global
 * batch) or leaves none and says why (de_plan_note). The caller evaluates the plan. */
#define DE_X_DECL(id, fn, name, lc, maxdev, help) void de_policy_##fn(const de_policy_call *c, de_plan *out);
DE_POLICY_TABLE(DE_X_DECL)
#undef DE_X_DECL

/* Building blocks for policies. The deep-edge search restricted to the devices that
 * are up and allowed (allowed[d] != 0; NULL: all): the device set with the shortest
 * predicted iteration whose split keeps every LC limit (the split is optimal for the
 * set; exhaustive: every set is enumerated, as `exact` does, else prefix and local
 * search). Sets out's shares, or none with a verdict naming the tasks and devices
 * responsible. */
void de_planner_search(const de_policy_call *c, const unsigned char *allowed, int exhaustive, de_plan *out);

/* ---- external policies (core/policy_ext.c; the protocol: policies/README.md) ---- */

/* The function of every external policy (de_policy_is_external): talks to its program,
 * started at its first plan and kept for the next ones (one per command and process). A
 * failure (the program cannot start, exits, times out after opt->ext_timeout_s, or sends
 * a bad message) sets c->err naming the message and the line received; the program is
 * then stopped and every later plan of that policy fails with the same message. */
void de_policy_external(const de_policy_call *c, de_plan *out);

/* Ends every external policy's program this process started (closes its input, waits
 * a moment, then signals it). Registered with atexit at the first start; callable
 * before. */
void de_policy_ext_shutdown(void);

#endif
