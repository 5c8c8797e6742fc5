/* de_state.h — the changing state of the cluster that the planner plans against.
 *
 * A scenario (de_scenario.h) is immutable; a de_state holds what moves: which
 * devices are up, each device's speed factor (slowdown faults), each link's
 * bandwidth factor (degradation), each LC task's current request rate, and each
 * job's progress. The simulator updates it at simulated events, the executor from
 * measurements; both then call the same planner (de_planner.h) on it.
 * Caller-allocated; de_state_init/de_state_free. */
#ifndef DE_STATE_H
#define DE_STATE_H

#include "de_scenario.h"

typedef struct de_state {
    const de_scenario *scen;   /* borrowed; must outlive the state */
    double time_s;
    unsigned char *up;         /* [n_devices] 1 = available */
    double *speed;             /* [n_devices] compute speed multiplier (1 = nominal) */
    double *link_factor;       /* [n_links] bandwidth multiplier (1 = nominal) */
    double *rate;              /* [n_tasks] current LC request rate, req/s */
    double *samples_done;      /* [n_jobs] samples processed so far */
} de_state;

/* All devices up, nominal speeds and links, rates at time t (traces evaluated at t),
 * no progress. */
void de_state_init(de_state *st, const de_scenario *scen, double time_s);
void de_state_free(de_state *st);

/* Re-evaluates rate traces at time t (constant rates stay as they are). */
void de_state_set_time(de_state *st, double time_s);

/* Number of devices up. */
int de_state_n_up(const de_state *st);

#endif
