/* test_lcserve.c — the LC service of `deepedge run`: an open-loop load generator and a
 * FIFO server whose latency is completion minus ARRIVAL time.
 *
 * Checked on a tiny network (a forward pass of microseconds): the number of requests
 * follows the rate (Poisson, 6-sigma bounds), a rate trace switches the load on and off,
 * latency includes the queueing behind a stalled server (open loop: a stall does not
 * slow the arrivals), deadline violations are counted, and the wire protocol carries
 * every request and a rate change to the coordinator. Bounds are generous: the
 * machine is shared. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_emulate.h"
#include "de_lcserve.h"
#include "de_lcwatch.h"
#include "de_test.h"
#include "de_trace.h"
#include "de_util.h"
#include "de_wire.h"

static const char TINY[] = "input 3 8 8; c1: conv 4 3 1 1; relu; gap; fc: fc 2";

typedef struct seen {
    long n;
    double first_arrival, max_lat;
    double stall_s;
} seen;

static void on_req(void *ud, double arrival_s, double latency_s)
{
    seen *s = ud;
    if (s->n == 0) {
        s->first_arrival = arrival_s;
        if (s->stall_s > 0)
            de_sleep_s(s->stall_s, NULL); /* the server stalls after its first request */
    }
    s->n++;
    s->max_lat = fmax(s->max_lat, latency_s);
}

static de_net *tiny(void)
{
    de_net *net = NULL;
    de_err err;
    CU_ASSERT_FATAL(de_net_parse("tiny", TINY, &net, &err) == DE_OK);
    de_net_init(net, 1);
    return net;
}

/* Options for a 1 s run at `rate` reporting to s. */
static de_lc_serve_opts opts(de_net *net, double rate, uint64_t seed, seen *s)
{
    de_lc_serve_opts o;
    de_lc_serve_opts_default(&o);
    o.net = net;
    o.rate = rate;
    o.duration_s = 1.0;
    o.seed = seed;
    o.on_request = on_req;
    o.ud = s;
    return o;
}

static void test_poisson_count(void)
{
    de_net *net = tiny();
    seen s = {0};
    de_lc_serve_opts o = opts(net, 200, 5, &s);
    o.deadline_s = 1.0;
    de_lc_serve_stats st;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_lc_serve(&o, &st, &err), DE_OK);
    /* Poisson(200): 6 sigma = 85 */
    CU_ASSERT(st.requests >= 115 && st.requests <= 285);
    CU_ASSERT_EQUAL(st.requests, s.n);
    CU_ASSERT(st.p50_s > 0 && st.p50_s <= st.p95_s && st.p95_s <= st.p99_s && st.p99_s <= st.max_s * 1.01);
    CU_ASSERT(st.service_mean_s > 0 && st.mean_s >= st.service_mean_s * 0.99);
    CU_ASSERT_EQUAL(st.violations, 0);
    de_net_destroy(net);
}

static void test_queueing_open_loop(void)
{
    de_net *net = tiny();
    seen s = {0};
    s.stall_s = 0.2;
    de_lc_serve_opts o = opts(net, 200, 6, &s);
    o.deadline_s = 0.05;
    de_lc_serve_stats st;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_lc_serve(&o, &st, &err), DE_OK);
    /* ~40 requests arrived during the 0.2 s stall: they were served late, the first of
     * them after waiting most of it, and the arrivals did not slow down. */
    CU_ASSERT(s.max_lat >= 0.15);
    CU_ASSERT(st.violations >= 10);
    CU_ASSERT(st.requests >= 100);
    de_net_destroy(net);
}

static void test_rate_trace(void)
{
    char *path = de_test_tmpfile("time_s,rate_rps\n0,0\n0.5,300\n", ".csv");
    de_rate_trace *tr = NULL;
    de_err err;
    CU_ASSERT_FATAL(de_rate_trace_load(path, &tr, &err) == DE_OK);
    de_net *net = tiny();
    seen s = {0};
    de_lc_serve_opts o = opts(net, 0, 7, &s);
    o.trace = tr;
    de_lc_serve_stats st;
    CU_ASSERT_EQUAL_FATAL(de_lc_serve(&o, &st, &err), DE_OK);
    CU_ASSERT(s.first_arrival >= 0.5);           /* nothing while the rate is 0 */
    CU_ASSERT(st.requests >= 80 && st.requests <= 230); /* Poisson(150) over the last 0.5 s */
    de_rate_trace_destroy(tr);
    de_net_destroy(net);
    de_test_unlink(path);
}

/* The wire: every request is reported, and a "rate" line changes the load. */
static void test_wire(void)
{
    int sv[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    de_net *net = tiny();
    de_wire_send(sv[0], DE_MSG_RATE, "0"); /* the coordinator silences the service at once */
    de_lc_serve_opts o;
    de_lc_serve_opts_default(&o);
    o.task = "cam";
    o.net = net;
    o.rate = 500;
    o.duration_s = 0.5;
    o.seed = 8;
    o.fd = sv[1];
    de_lc_serve_stats st;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_lc_serve(&o, &st, &err), DE_OK);
    CU_ASSERT(st.requests <= 5); /* at most what arrived before the line was read */
    /* Each request went out as one lcreq line with its latency. */
    char buf[65536];
    ssize_t n = recv(sv[0], buf, sizeof buf - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    long lines = 0;
    for (char *p = buf; (p = strstr(p, "lcreq task=cam lat=")); p++)
        lines++;
    CU_ASSERT_EQUAL(lines, st.requests);
    CU_ASSERT_EQUAL(de_wire_num("lcreq task=cam lat=0.25 svc=0.1", "lat", -1), 0.25);
    char v[16];
    CU_ASSERT(de_wire_get("iter rank=3 dev=edge-a", "dev", v, sizeof v) && strcmp(v, "edge-a") == 0);
    CU_ASSERT(!de_wire_get("iter rank=3", "dev", v, sizeof v));
    close(sv[0]);
    close(sv[1]);
    de_net_destroy(net);
}

/* A Prometheus exposition: every label set of a bound summed, bounds sorted, +Inf last,
 * other series (NAME_count, NAME_sum, another histogram whose name extends it) ignored. */
static void test_prom_histogram(void)
{
    const char *text = "# HELP app_seconds latency\n# TYPE app_seconds histogram\n"
                       "app_seconds_bucket{path=\"/a\",le=\"0.1\"} 3\n"
                       "app_seconds_bucket{path=\"/b\",le=\"0.1\"} 2\n"
                       "app_seconds_bucket{path=\"/a\",le=\"+Inf\"} 4\n"
                       "app_seconds_bucket{path=\"/b\",le=\"+Inf\"} 2\n"
                       "app_seconds_bucket{path=\"/a\",le=\"0.01\"} 1\n"
                       "app_seconds_bucket{path=\"/b\",le=\"0.01\"} 0\n"
                       "app_seconds_count 6\napp_seconds_sum 0.4\n"
                       "app_seconds_total_bucket{le=\"0.1\"} 99\n";
    double le[8], c[8];
    int n = de_prom_histogram(text, "app_seconds", le, c, 8);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_DOUBLE_EQUAL(le[0], 0.01, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c[0], 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(le[1], 0.1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c[1], 5, 0);
    CU_ASSERT(isinf(le[2]));
    CU_ASSERT_DOUBLE_EQUAL(c[2], 6, 0);
    CU_ASSERT_EQUAL(de_prom_histogram(text, "absent", le, c, 8), 0);
    CU_ASSERT_EQUAL(de_prom_histogram("garbage\n{}}\nle=\"\n", "app_seconds", le, c, 8), 0);
}

/* A latency log read as it grows: lines written before the watcher started do not count,
 * a truncated and a rotated file are followed, a line without a number is skipped. */
static void test_watch_log(void)
{
    char dir[] = "/tmp/de-watch-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char *log = de_path_join(dir, "lat.log"), *moved = de_path_join(dir, "lat.log.1");
    FILE *f = fopen(log, "w");
    fputs("old 999\n", f); /* before the watcher: not counted */
    fclose(f);
    pid_t w = fork();
    if (w == 0) { /* the application: 3 lines, a truncation, 2 lines, a rotation, 1 line */
        de_sleep_s(0.3, NULL);
        FILE *g = fopen(log, "a");
        fputs("t 10\nt 20\nt nope\nt 30\n", g);
        fclose(g);
        de_sleep_s(0.3, NULL);
        g = fopen(log, "w");
        fputs("t 40\nt 50\n", g);
        fclose(g);
        de_sleep_s(0.3, NULL);
        rename(log, moved);
        g = fopen(log, "w");
        fputs("t 60\n", g);
        fclose(g);
        _exit(0);
    }
    de_lc_service v = {.kind = DE_LC_SVC_LOG, .log = log, .column = 2, .unit_s = 1e-3, .interval_s = 0.05};
    de_lc_watch_opts o;
    memset(&o, 0, sizeof o);
    o.task = "t";
    o.svc = &v;
    o.deadline_s = 0.045;
    o.duration_s = 1.4;
    o.fd = -1;
    de_lc_serve_stats st;
    de_err err;
    CU_ASSERT_EQUAL(de_lc_watch(&o, &st, &err), DE_OK);
    waitpid(w, NULL, 0);
    CU_ASSERT_EQUAL(st.requests, 6);   /* 10 20 30 | 40 50 | 60 */
    CU_ASSERT_EQUAL(st.violations, 2); /* 50 and 60 ms over 45 */
    CU_ASSERT_DOUBLE_EQUAL(st.max_s, 0.060, 1e-9);
    unlink(log), unlink(moved), rmdir(dir);
    free(log), free(moved);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"Poisson arrivals at the rate", test_poisson_count},
        {"open loop: queueing behind a stall is latency", test_queueing_open_loop},
        {"rate trace switches the load", test_rate_trace},
        {"wire: requests reported, rate changed", test_wire},
        {"an observed service: Prometheus histogram", test_prom_histogram},
        {"an observed service: latency log, truncated and rotated", test_watch_log},
        {NULL, NULL}};
    de_test_suite("lcserve", cases);
    return de_test_run();
}
