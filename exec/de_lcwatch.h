/* de_lcwatch.h — an existing LC application observed instead of deepedge's own service.
 *
 * An LC task with a `service` group (de_scenario.h, de_lc_service) stands for a process
 * deepedge did not start: a camera pipeline, a detector behind HTTP. `deepedge run`
 * starts this watcher in its place (the `_lc` process), which measures the application's
 * request latencies and reports them exactly as the synthetic service does (lcreq,
 * lcstat, lcbye on the wire, de_wire.h), so that the live view, the windows, the CDF,
 * the summary and re-planning use them unchanged:
 *   probe http | tcp  deepedge itself sends the task's requests, open loop at its rate (or
 *                     rate trace; `rate` control lines change it): a GET of the path
 *                     (HTTP/1.0, the reply read to its end) or a request line answered by
 *                     one line. Latency = reply complete - scheduled arrival. A refused
 *                     connection, a reply not 2xx, a closed connection without an answer,
 *                     more than 512 requests outstanding or no answer within 60 s is a
 *                     failed request.
 *   log               the application appends one line per request to a file; the latency
 *                     is a whitespace-separated column, in s, ms or us. Only lines written
 *                     after the watcher starts count; truncation and rotation (a new file
 *                     under the name) are followed.
 *   metrics           the application exports a Prometheus histogram; every interval the
 *                     watcher scrapes it and reports each request counted in a bucket since
 *                     the last scrape at that bucket's upper bound (le, in seconds: a
 *                     pessimistic reading at the histogram's resolution); requests only in
 *                     the +Inf bucket count as later than any deadline.
 * A failed request, and a request later than any bucket, is reported with fail=1: the
 * coordinator counts it as a deadline miss. For log and metrics the load is the
 * application's own: `rate` control lines do not apply, and lcstat reports the rate seen. */
#ifndef DE_LCWATCH_H
#define DE_LCWATCH_H

#include <stdint.h>

#include "de_error.h"
#include "de_lcserve.h"
#include "de_scenario.h"

typedef struct de_lc_watch_opts {
    const char *task;
    const de_lc_service *svc;
    double rate;                  /* probes: req/s when trace is NULL */
    const de_rate_trace *trace;   /* probes: or a rate trace */
    double trace_t0_s;
    double deadline_s;
    double duration_s;            /* 0: until *stop or a "stop" control line */
    uint64_t seed;                /* probes: the arrival process */
    int fd;                       /* coordinator socket (-1: none) */
    volatile const int *stop;     /* may be NULL */
} de_lc_watch_opts;

/* Observes until the duration ends or it is stopped; st as de_lc_serve's (service_mean_s:
 * the mean latency, the application's own service time being unknown). An error names the
 * address, file or URL that cannot be used at the start; later failures are counted. */
int de_lc_watch(const de_lc_watch_opts *o, de_lc_serve_stats *st, de_err *err);

/* The counts of a Prometheus text exposition's histogram NAME: for each distinct `le`
 * bound (ascending, +Inf last as INFINITY), the cumulative count summed over every label
 * set. Returns the number of bounds (<= max), 0 when the histogram is absent. */
int de_prom_histogram(const char *text, const char *name, double *le, double *count, int max);

#endif
