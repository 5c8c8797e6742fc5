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
 *                (clusters of at most DE_PLAN_EXACT_MAX available devices).
 *  all-uniform, proportional, fastest-k
 *                LC-oblivious baselines: they respect memory limits but not LC
 *                deadlines; their predicted violations are reported, not repaired.
 * A plan that meets no deadline set is still returned, feasible = 0, with a verdict
 * naming the tasks and devices responsible and the best plan on the safe devices. */
#ifndef DE_PLANNER_H
#define DE_PLANNER_H

#include "de_plan.h"
#include "de_predictor.h"
#include "de_scenario.h"
#include "de_state.h"

#define DE_PLAN_EXACT_MAX 20

/* Returns DE_OK with *out filled (feasible or not), or DE_EINVAL for bad input
 * (job out of range, exact on too many devices). *out must be initialised
 * (de_plan_init) and is overwritten. */
int de_plan_compute(const de_state *st, int job, de_policy policy, const de_planner_opts *opt,
                    const de_predictor *pred, de_plan *out, de_err *err);

#endif
