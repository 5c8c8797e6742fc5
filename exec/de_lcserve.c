/* de_lcserve.c — open-loop load generator + FIFO inference server (de_lcserve.h). */
#include "de_lcserve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_emulate.h"
#include "de_hist.h"
#include "de_prng.h"
#include "de_train.h"
#include "de_util.h"
#include "de_wire.h"

void de_lc_serve_opts_default(de_lc_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->task = "lc";
    o->threads = 1;
    o->deadline_s = INFINITY;
    o->fd = -1;
}

/* Exponential gap at rate r (INFINITY when r <= 0). */
static double gap(uint64_t *rng, double r)
{
    if (!(r > 0))
        return INFINITY;
    return -log1p(-de_prng_uniform(rng)) / r;
}

double de_lc_next_arrival(const de_rate_trace *trace, double trace_t0_s, uint64_t *rng, double rate, double t,
                          double t_start)
{
    if (!trace)
        return t + gap(rng, rate);
    double peak = de_rate_trace_peak(trace);
    for (int guard = 0; guard < 1000000; guard++) {
        t += gap(rng, peak);
        if (!isfinite(t))
            return t;
        double r = de_rate_trace_at(trace, trace_t0_s + (t - t_start));
        if (de_prng_uniform(rng) * peak < r)
            return t;
    }
    return INFINITY;
}

static double next_arrival(const de_lc_serve_opts *o, uint64_t *rng, double rate, double t, double t_start)
{
    return de_lc_next_arrival(o->trace, o->trace_t0_s, rng, rate, t, t_start);
}

int de_lc_serve(const de_lc_serve_opts *o, de_lc_serve_stats *st, de_err *err)
{
    memset(st, 0, sizeof *st);
    int c, h, w;
    de_net_input(o->net, &c, &h, &w);
    de_train_opts to;
    de_train_opts_default(&to);
    to.max_batch = 1;
    to.threads = o->threads;
    de_trainer *tr = NULL;
    int rc = de_train_create(o->net, &to, &tr, err);
    if (rc)
        return rc;
    size_t px = (size_t)c * h * w;
    float *x = de_calloc(px, sizeof(float));
    uint64_t rng = de_prng_seed(o->seed, 0x1c5e77e5), in_rng = de_prng_seed(o->seed, 0x1a9a7);
    de_hist all;
    de_hist_init(&all);
    de_throttle thr = {o->cpu_cores, 0};
    double rate = o->rate, service_sum = 0;
    double t_start = de_now_s(), end = o->duration_s > 0 ? t_start + o->duration_s : INFINITY;
    double next = next_arrival(o, &rng, rate, t_start, t_start);
    double last_stat = t_start;
    int stopped = 0;
    de_wire_reader rd;
    de_wire_reader_init(&rd);
    while (!rc && !stopped) {
        if (o->stop && *o->stop)
            break;
        if (o->fd >= 0) {
            char *line;
            de_msg m;
            double v;
            int r;
            while ((r = de_wire_next(&rd, o->fd, &line)) == DE_WIRE_LINE || r == DE_WIRE_LONG) {
                if (r == DE_WIRE_LONG || de_wire_control(line, &m, &v))
                    continue; /* not a control line: ignored */
                if (m == DE_MSG_RATE && !o->trace) {
                    rate = v;
                    next = next_arrival(o, &rng, rate, de_now_s(), t_start);
                } else if (m == DE_MSG_CORES && thr.cores > 0 && v > 0) {
                    thr.cores = v; /* a slowdown under duty-cycle throttling */
                } else if (m == DE_MSG_STOP) {
                    stopped = 1;
                }
            }
            if (r == DE_WIRE_CLOSED)
                stopped = 1; /* the coordinator is gone */
        }
        double now = de_now_s();
        if (now >= end)
            break;
        if (now - last_stat >= 1.0 && o->fd >= 0) {
            de_wire_send(o->fd, DE_MSG_LCSTAT, "task=%s n=%ld cpu_s=%.3f rss_kb=%ld rate=%.4g", o->task, st->requests,
                         de_proc_cpu_s(), de_proc_rss_kb(), rate);
            last_stat = now;
        }
        if (now < next) {
            double wait = fmin(next, end) - now;
            de_sleep_s(fmin(wait, 0.02), o->stop);
            continue;
        }
        /* Serve the request that arrived at `next` (it may have waited behind earlier ones). */
        for (size_t i = 0; i < px; i++)
            x[i] = (float)de_prng_normal(&in_rng);
        int label = 0;
        double s0 = de_now_s();
        rc = de_train_eval(tr, x, &label, 1, NULL, NULL, NULL, err);
        double s1 = de_now_s();
        de_throttle_after(&thr, s1 - s0);
        double done = de_now_s(), lat = done - next;
        service_sum += done - s0;
        de_hist_add(&all, lat);
        st->requests++;
        st->violations += lat > o->deadline_s;
        st->max_s = fmax(st->max_s, lat);
        if (o->fd >= 0)
            de_wire_send(o->fd, DE_MSG_LCREQ, "task=%s lat=%.6f svc=%.6f", o->task, lat, done - s0);
        if (o->on_request)
            o->on_request(o->ud, next - t_start, lat);
        next = next_arrival(o, &rng, rate, next, t_start);
    }
    st->elapsed_s = de_now_s() - t_start;
    if (st->requests) {
        const double ps[3] = {0.5, 0.95, 0.99};
        double q[3];
        de_hist_quantiles(&all, ps, 3, q);
        st->p50_s = q[0];
        st->p95_s = q[1];
        st->p99_s = q[2];
        st->mean_s = de_hist_mean(&all);
        st->service_mean_s = service_sum / (double)st->requests;
    }
    de_hist_free(&all);
    free(x);
    de_train_destroy(tr);
    return rc;
}
