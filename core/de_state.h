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
    /* How far the world is from the catalog's models (1: as the catalog says). In the
     * scheduler's state: what the online correction estimated from measurements
     * (de_correct.h); in the simulator's true world: the scenario's model_error. */
    double *step_corr;         /* [n_devices] step time x this */
    double *lc_corr;           /* [n_tasks] LC service time x (lc_corr + lc_corr_duty x the device's duty cycle): */
    double *lc_corr_duty;      /* [n_tasks] ... the model's error may grow with the training next to it */
    double *link_corr;         /* [n_links] bandwidth x this */
} de_state;

/* All devices up, nominal speeds and links, rates at time t (traces evaluated at t),
 * no progress. */
void de_state_init(de_state *st, const de_scenario *scen, double time_s);
void de_state_free(de_state *st);

/* Re-evaluates rate traces at time t (constant rates stay as they are). */
void de_state_set_time(de_state *st, double time_s);

/* A copy of src into dst (dst initialised for the same scenario). */
void de_state_copy(de_state *dst, const de_state *src);

/* The LC service factor of task t at duty cycle duty: lc_corr + lc_corr_duty x duty (at
 * least 0.05). */
double de_state_lc_factor(const de_state *st, int t, double duty);

/* Number of devices up. */
int de_state_n_up(const de_state *st);

#endif
