/* de_lcserve.h — a latency-critical inference service with an open-loop load generator.
 *
 * One process per LC task of the scenario, next to its device's worker (in the same
 * CPU budget, so interference with training is real). Requests arrive open-loop at the
 * task's rate: a Poisson process, or a non-homogeneous one following the rate trace
 * (thinning against the trace's peak); arrival times are fixed in advance of service,
 * so a slow server builds a queue instead of slowing the load. One FIFO server runs
 * the model's forward pass (batch 1, inference mode) per request; a request's latency
 * is completion time minus arrival time (queueing + service), measured with the
 * monotonic clock and compared with the task's deadline. */
#ifndef DE_LCSERVE_H
#define DE_LCSERVE_H

#include <stdint.h>

#include "de_error.h"
#include "de_net.h"
#include "de_trace.h"

typedef struct de_lc_serve_opts {
    const char *task;             /* name, for reports */
    de_net *net;                  /* the model served (borrowed) */
    int threads;                  /* kernel threads */
    double rate;                  /* req/s when trace is NULL (0: no requests) */
    const de_rate_trace *trace;   /* or a rate trace, evaluated at trace_t0_s + elapsed */
    double trace_t0_s;
    double deadline_s;
    double duration_s;            /* 0: until *stop or a "stop" control line */
    uint64_t seed;                /* arrival process and request inputs */
    double cpu_cores;             /* duty-cycle throttle to this many cores (0: none) */
    int fd;                       /* coordinator socket (-1: none): sends lcreq/lcstat, reads "rate R"/"stop" */
    volatile const int *stop;     /* may be NULL */
    /* Called for every request served (may be NULL). */
    void (*on_request)(void *ud, double arrival_s, double latency_s);
    void *ud;
} de_lc_serve_opts;

void de_lc_serve_opts_default(de_lc_serve_opts *o);

typedef struct de_lc_serve_stats {
    long requests, violations;
    double p50_s, p95_s, p99_s, mean_s, max_s;
    double service_mean_s;        /* forward pass alone (no queueing) */
    double elapsed_s;
} de_lc_serve_stats;

/* Serves until the duration ends or it is stopped. */
int de_lc_serve(const de_lc_serve_opts *o, de_lc_serve_stats *st, de_err *err);

/* The open-loop arrival after t: Poisson at rate, or (trace != NULL) the trace's rate at
 * trace_t0_s + (t - t_start) by thinning against its peak. INFINITY when none comes. */
double de_lc_next_arrival(const de_rate_trace *trace, double trace_t0_s, uint64_t *rng, double rate, double t,
                          double t_start);

#endif
