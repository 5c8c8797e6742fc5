/* de_model.h — the functional forms of the performance models.
 *
 * Pure functions of their parameters (from the catalog, de_catalog.h) and inputs;
 * no state, no I/O. The predictor (core/de_predictor.h) composes them per device.
 *
 *  Training step time of a local batch b under LC utilisation u (0 <= u < 1):
 *      t(b, u) = (overhead + per_sample * b) * (1 + colocation_slowdown [u > 0] + train_slowdown * u / (1 - u))
 *  (colocation_slowdown: what sharing the device with a serving LC task costs at any load,
 *  e.g. a one-thread trainer on a 1-core quota that throttles only once a service shares it).
 *  LC latency: FIFO M/G/1 queue shared by the LC tasks of a device; the sojourn
 *  time T = W + S of a task is approximated by a gamma distribution with T's exact
 *  mean and variance (Pollaczek-Khinchine and Takacs moments; gamma service times),
 *  and the latency percentile is that gamma's quantile. Exact for M/M/1.
 *  LC latency next to training (de_model_lc_latency_train): the device alternates
 *  between training steps of step_s seconds (a fraction `duty` of the time) and
 *  gaps. A request that starts during a step is served in
 *      s' = s (1 + lc_inflation) + U(0, 2 m),  m = blocking_fraction * per_sample * b
 *  (the slowed share plus the wait for the running kernel). Requests see a mixture:
 *  with probability duty the step phase, a queue at the step's utilisation whose
 *  waiting is capped by how much work a step of step_s seconds can pile up (a step
 *  is short next to the queue's relaxation time); otherwise the gap phase, plus
 *  the draining of the backlog the step left. When the gaps cannot drain it, both
 *  phases see the stationary queue at the cycle-average load. Each phase's latency
 *  is a moment-matched gamma; the percentile is the mixture's.
 *  Under a CPU budget (an emulated device's cgroup quota: de_budget) a request's
 *  CPU work is X (gamma, service_s, scv; during a step X + U(0, 2m)) and its own
 *  service the wall time de_model_budget_wall gives for it from a phase uniform over
 *  the budget's period: the throttled waits of a quota, which make the tail while the
 *  median stays near X. During a step the request gets a share 1 / (1 + lc_inflation)
 *  of the budget (lc_inflation 1: an equal split with the trainer). A phase's queue
 *  serves requests in their wall times: the first of a busy period from a uniform
 *  phase, the ones that queued from where the request before them left the period
 *  (its phase, its spending of the quota): an M/G/1 wait with an exceptional first
 *  service (Welch), plus the request's own wall time as weighted points (empty queue
 *  or queued). The simulator draws each request's wall time from the same
 *  function, at its real start and with the budget its predecessors spent in that
 *  period.
 *  All-reduce (ring over n devices): A = 2(n-1) alpha + 2(n-1)/n * bytes / beta. */
#ifndef DE_MODEL_H
#define DE_MODEL_H

/* Step time (s); INFINITY when u >= 1 (LC saturates the device). */
double de_model_step_time(double overhead_s, double per_sample_s, double train_slowdown, double colocation_slowdown,
                          int batch, double lc_util);

/* Mean LC service time (s) over a training cycle (duty in [0,1], batch >= 0):
 * service * (1 + lc_inflation * duty) + duty * blocking_fraction * per_sample * batch. */
double de_model_lc_service(double service_s, double lc_inflation, double blocking_fraction, double per_sample_s,
                           int batch, double duty);

/* One LC class at a FIFO queue: Poisson arrivals, gamma-distributed service. */
typedef struct de_lc_class {
    double rate;        /* arrivals, 1/s (>= 0) */
    double service_s;   /* mean service time, s (> 0) */
    double scv;         /* squared coefficient of variation of the service time (>= 0) */
    double percentile;  /* in (0, 1), e.g. 0.95 */
} de_lc_class;

/* Utilisation sum(rate * service_s) of a set of classes. */
double de_model_utilisation(const de_lc_class *cls, int n);

/* Latency percentile (s) of each class of a shared FIFO M/G/1 queue, into out[n].
 * Utilisation >= 1 gives INFINITY for every class. */
void de_model_lc_latency(const de_lc_class *cls, int n, double *out);

/* Probability that a request of each class is served within limit[i] (s), into
 * prob[n], under the same gamma approximation as de_model_lc_latency: latency <=
 * limit exactly when prob >= percentile. One incomplete-gamma evaluation per class,
 * so planners use it to test limits. Utilisation >= 1 gives 0. */
void de_model_lc_within(const de_lc_class *cls, int n, const double *limit, double *prob);

/* Ring all-reduce time (s) of `bytes` over n devices; 0 for n <= 1. alpha in s,
 * beta in bytes/s. */
double de_model_allreduce(int n, double alpha_s, double beta_Bps, double bytes);

/* A CPU budget: `cores` x period_s seconds of CPU in each period of period_s seconds
 * (periods start at multiples of period_s), as a cgroup's CPU quota gives an emulated
 * device (exec/de_emulate.h). cores 0: no budget (a physical device). */
typedef struct de_budget {
    double cores;
    double period_s;
} de_budget;

/* Wall time (s) for an LC request that needs x s of CPU and starts at time t (its phase in
 * the period is t mod period_s) under budget b, `used` s of this period's budget already
 * spent by earlier LC requests. Alone (share 0) the request may spend what is left of the
 * period's budget, then the whole budget of each later period. Next to a training step
 * (share > 0) a trainer thread has spent the budget since the period's start, and while
 * both run the request gets `share` of what is left and `share` of each later period's
 * budget (1/2: CFS splits the quota between two busy threads on their own cores; 1: the
 * waking LC thread preempts the trainer). Throttled time counts: the request waits for the
 * next period. *used_end (if not NULL): the request's own CPU in the period it ends in
 * (plus `used` when that is its first). No budget, or one that cannot bind
 * (de_model_budget_binds): x. */
double de_model_budget_wall(double x, double t, double used, const de_budget *b, double share, double *used_end);

/* Whether budget b can make a request wait: cores x share < 1 (share 0: alone, 1). */
int de_model_budget_binds(const de_budget *b, double share);

/* Training next to the LC tasks of a device (see the model above). */
typedef struct de_lc_training {
    double duty;          /* fraction of the time computing training steps, [0, 1] */
    double step_s;        /* length of one step, s (> 0 when duty > 0) */
    double lc_inflation;  /* LC service x (1 + lc_inflation) during a step; under a budget the
                           * request's share of it next to the trainer is 1 / (1 + lc_inflation) */
    double blocking_s;    /* mean wait for the running kernel: blocking_fraction * per_sample_s * batch */
    de_budget budget;     /* the device's CPU budget (cores 0: none); then service_s is CPU work */
} de_lc_training;

/* Mean wall time (s) a request of class c is served in over a training cycle: its
 * service alone for (1 - duty) of the time, as a step makes it for duty, each under the
 * budget (see the model above). Without a budget: de_model_lc_service's value. */
double de_model_lc_service_wall(const de_lc_class *c, const de_lc_training *tr);

/* Latency percentile (s) of each class (its service alone in cls) on a device that
 * trains as `tr` says; duty 0 gives de_model_lc_latency. INFINITY when unstable. */
void de_model_lc_latency_train(const de_lc_class *cls, int n, const de_lc_training *tr, double *out);

/* Probability that a request of each class is served within limit[i] (s) under
 * the same model; latency <= limit exactly when prob >= percentile. */
void de_model_lc_within_train(const de_lc_class *cls, int n, const de_lc_training *tr, const double *limit,
                              double *prob);

#endif
