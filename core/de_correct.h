/* de_correct.h — the online correction of the catalog's models, and the model error of a
 * what-if: one concept for the simulator and the executor.
 *
 * The planner predicts with the catalog's fitted models. When the world differs from
 * them (another host, a model that was fitted on too few cells, a drift), a plan that was
 * predicted feasible can miss deadlines. The correction estimates, from what is measured
 * while a plan runs, a factor per model that brings the catalog to the world — the
 * scheduler state's step_corr (a device's step time), lc_corr (an LC task's service time)
 * and link_corr (a link's bandwidth, from the all-reduce times) — and asks for a re-plan
 * through the shared re-plan rule (a change of kind `model`, de_change.h) when a factor
 * moved by more than `threshold`, or at once when a window's measured percentile crosses
 * deadline x (1 - margin/2): then the LC factor becomes at least what that window implies,
 * so that the re-plan moves training away before the deadline is missed.
 *
 * Each factor is a recursive least-squares estimate with forgetting of
 *     measured = f x predicted-by-the-catalog
 * over the observations: f = sum l^(n-i) m_i p_i / sum l^(n-i) p_i^2 (l = forget; the
 * weight of an observation halves every ln 2 / -ln l observations).
 * Observations: each device's step time of each iteration (`iter` lines in run; the
 * drawn step in sim), each all-reduce, and per LC window each task's mean service time
 * and its measured percentile (`lcreq` lines in run; the drawn requests in sim). An LC
 * task's factor is the one at which the model predicts the measured percentiles (solved
 * per observation of at least DE_CORRECT_MIN_REQUESTS requests, by bisection: queueing
 * the model does not capture is corrected too) as a line in the device's duty cycle,
 * a + b duty (the error often grows with the training next to the task, and a factor
 * fitted at one duty would otherwise make the planner swing between plans); else the
 * service times' ratio.
 *
 * The simulator's true world is a second state whose factors are the scenario's
 * `model_error` (de_correct_truth), so that planning with the believed models while the
 * world differs — with or without the correction — is measured offline. */
#ifndef DE_CORRECT_H
#define DE_CORRECT_H

#include <stddef.h>

#include "de_plan.h"
#include "de_predictor.h"
#include "de_state.h"

/* An LC observation is made of at least this many requests (the drivers gather them over
 * correction periods): the 95th percentile of 100 requests is their 5th largest. */
#define DE_CORRECT_MIN_REQUESTS 100
/* The drivers hand the LC requests served so far to the correction every this many
 * seconds (simulated in sim, real in run), whatever their metrics window: the same
 * observations, and so the same decisions, in both. */
#define DE_CORRECT_PERIOD_S 1.0
/* What a crossing implied stays the least LC factor for this many observations (fast up,
 * slow down: a plan is not switched back on the next, noisier, estimate). */
#define DE_CORRECT_HOLD 10

typedef struct de_corrector {
    const de_scenario *s;
    int enabled;              /* planner.correction */
    double forget;            /* planner.correction_forget */
    double threshold;         /* planner.correction_threshold */
    double *step_mp, *step_pp; /* [n_devices] sums of m p and p^2, with forgetting */
    double *lc_mp, *lc_pp;     /* [n_tasks] from the mean service times */
    double *q;                 /* [5 n_tasks] from the percentiles: the factor each observation implies
                                * against the duty cycle, f = a + b duty (sums w, x, xx, y, xy) */
    double *lc_urgent, *urgent_duty; /* [n_tasks] what a crossing implied, at which duty: applied at once */
    double *hold_a;            /* [n_tasks] ... and held as the least `a` for hold_n more observations */
    long *hold_n;
    double *link_mp, *link_pp; /* [n_links] */
    long *step_n, *lc_n, *q_n, *link_n;
    long changes;             /* corrections applied so far */
    long warnings;            /* windows that crossed deadline x (1 - margin/2) */
} de_corrector;

/* From the scenario's planner group (disabled: every call below does nothing). */
void de_correct_init(de_corrector *c, const de_scenario *s);
void de_correct_free(de_corrector *c);

/* A measured step time of device d at local batch b of `network`; st is the scheduler's
 * state (its prediction without d's step factor is the reference). */
void de_correct_step(de_corrector *c, const de_state *st, const de_predictor *pred, int network, int d, int batch,
                     double measured_s);
/* A measured all-reduce of `bytes` over devs[0..n-1]: one observation per link used. */
void de_correct_allreduce(de_corrector *c, const de_state *st, const de_predictor *pred, const int *devs, int n,
                          double bytes, double measured_s);
/* An LC observation of task ti (at least DE_CORRECT_MIN_REQUESTS requests): n requests served, their mean service time (<= 0: unknown, an
 * observed service), their measured percentile (the task's own), under the running plan p
 * of `network` (NULL: no training). Returns 1 when the percentile crossed deadline x
 * (1 - margin/2): de_correct_apply then applies at least what the window implied. */
int de_correct_window(de_corrector *c, de_state *st, const de_predictor *pred, const de_plan *p, int network, int ti,
                      long n, double svc_mean_s, double pctl_s, double margin);
/* Writes the estimates into st where one moved by more than the threshold from what st
 * holds (a crossing's at once). Returns how many factors changed; *dev: the device
 * (or the device of the task, or of the link's first device) of the largest change, for
 * the `model` change; what: one line ("dev-a step x1.31, cam LC x1.28"). */
int de_correct_apply(de_corrector *c, de_state *st, int *dev, char *what, size_t n);

/* The true world of a what-if: the factors of the scenario's model_error at time t (s)
 * written into st's corrections (1 where it says nothing). */
void de_correct_truth(const de_scenario *s, double t, de_state *st);

#endif
