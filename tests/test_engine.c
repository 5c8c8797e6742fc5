/* test_engine.c — the discrete-event engine, the random streams and PHOLD. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_engine.h"
#include "de_phold.h"
#include "de_rng.h"
#include "de_test.h"
#include "de_util.h"

typedef struct rec {
    double t[200000];
    uint32_t a[200000];
    int n;
} rec;

static void record(de_engine *e, void *ctx, uint32_t a, uint64_t b)
{
    (void)b;
    rec *r = ctx;
    r->t[r->n] = de_engine_now(e);
    r->a[r->n++] = a;
}

static void test_order_and_ties(void)
{
    static rec r;
    r.n = 0;
    de_engine *e = de_engine_create();
    int ty = de_engine_register(e, record, &r);
    de_engine_schedule(e, 2.0, ty, 0, 0);
    de_engine_schedule(e, 1.0, ty, 1, 0);
    de_engine_schedule(e, 1.0, ty, 2, 0); /* same time: after a=1 (scheduled later) */
    de_engine_schedule(e, 0.5, ty, 3, 0);
    de_engine_schedule(e, 1.0, ty, 4, 0);
    CU_ASSERT_EQUAL(de_engine_pending(e), 5);
    CU_ASSERT_EQUAL(de_engine_run(e, INFINITY), 5);
    uint32_t want[] = {3, 1, 2, 4, 0};
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(r.a[i], want[i]);
    CU_ASSERT_EQUAL(de_engine_now(e), 2.0);
    CU_ASSERT_EQUAL(de_engine_pending(e), 0);
    de_engine_destroy(e);
}

/* Random schedules from inside handlers: the engine's order must equal a sort by
 * (time, scheduling order). */
typedef struct chain {
    gsl_rng *r;
    int type, left;
    double *times;
    int n;
} chain;

static void on_chain(de_engine *e, void *ctx, uint32_t a, uint64_t b)
{
    (void)b;
    chain *c = ctx;
    c->times[c->n++] = de_engine_now(e);
    if (c->left > 0) {
        c->left--;
        /* mix of near, far, identical and zero delays */
        double u = gsl_rng_uniform(c->r), d = u < 0.1 ? 0.0 : (u < 0.2 ? 1e6 * u : -log(1 - gsl_rng_uniform(c->r)));
        de_engine_schedule(e, de_engine_now(e) + d, c->type, a, 0);
        if (u > 0.95 && c->left > 0) {
            c->left--;
            de_engine_schedule(e, de_engine_now(e) + d, c->type, a + 1, 0);
        }
    }
}

static void test_monotone_random(void)
{
    chain c = {gsl_rng_alloc(gsl_rng_mt19937), 0, 150000, de_calloc(200000, sizeof(double)), 0};
    de_engine *e = de_engine_create();
    c.type = de_engine_register(e, on_chain, &c);
    for (int i = 0; i < 2000; i++)
        de_engine_schedule(e, 10 * gsl_rng_uniform(c.r), c.type, (uint32_t)i, 0);
    uint64_t n = de_engine_run(e, INFINITY);
    CU_ASSERT_EQUAL(n, (uint64_t)c.n);
    CU_ASSERT_EQUAL(c.n, 2000 + 150000);
    int sorted = 1;
    for (int i = 1; i < c.n; i++)
        sorted &= c.times[i] >= c.times[i - 1];
    CU_ASSERT(sorted);
    free(c.times);
    gsl_rng_free(c.r);
    de_engine_destroy(e);
}

static void test_run_until_and_cancel(void)
{
    static rec r;
    r.n = 0;
    de_engine *e = de_engine_create();
    int ty = de_engine_register(e, record, &r);
    uint64_t id[10];
    for (int i = 0; i < 10; i++)
        id[i] = de_engine_schedule(e, i + 1.0, ty, (uint32_t)i, 0);
    CU_ASSERT_EQUAL(de_engine_cancel(e, id[2]), 1);
    CU_ASSERT_EQUAL(de_engine_cancel(e, id[2]), 0); /* already cancelled */
    CU_ASSERT_EQUAL(de_engine_run(e, 5.0), 3);     /* t = 1, 2, 4 (3 cancelled; 5 is not < 5) */
    CU_ASSERT_EQUAL(de_engine_now(e), 5.0);
    CU_ASSERT_EQUAL(r.a[2], 3);
    CU_ASSERT_EQUAL(de_engine_cancel(e, id[0]), 0); /* already ran */
    CU_ASSERT_EQUAL(de_engine_cancel(e, 12345), 0); /* never existed */
    CU_ASSERT_EQUAL(de_engine_cancel(e, id[9]), 1);
    /* an event scheduled in the past runs now, after what was already due then */
    de_engine_schedule(e, 1.0, ty, 77, 0);
    CU_ASSERT_EQUAL(de_engine_run(e, INFINITY), 6); /* 4 at 5, 77 at 5, then 5..8 (9 cancelled) */
    CU_ASSERT_EQUAL(r.a[3], 4);
    CU_ASSERT_EQUAL(r.a[4], 77);
    CU_ASSERT_EQUAL(r.t[4], 5.0);
    CU_ASSERT_EQUAL(de_engine_now(e), 9.0);
    CU_ASSERT_EQUAL(de_engine_processed(e), 9);
    de_engine_destroy(e);
    de_engine_destroy(NULL);
}

static void stopper(de_engine *e, void *ctx, uint32_t a, uint64_t b)
{
    (void)b;
    int *count = ctx;
    (*count)++;
    if (a == 1)
        de_engine_stop(e);
}

static void test_stop(void)
{
    int count = 0;
    de_engine *e = de_engine_create();
    int ty = de_engine_register(e, stopper, &count);
    de_engine_schedule(e, 1, ty, 0, 0);
    de_engine_schedule(e, 2, ty, 1, 0);
    de_engine_schedule(e, 3, ty, 0, 0);
    CU_ASSERT_EQUAL(de_engine_run(e, INFINITY), 2);
    CU_ASSERT_EQUAL(de_engine_now(e), 2.0);
    CU_ASSERT_EQUAL(de_engine_run(e, INFINITY), 1);
    CU_ASSERT_EQUAL(count, 3);
    de_engine_destroy(e);
}

static void test_streams(void)
{
    /* Same (seed, kind, name): same numbers; any difference: different numbers. */
    gsl_rng *a = de_rng_stream(7, "lc", "cam"), *b = de_rng_stream(7, "lc", "cam"), *c = de_rng_stream(8, "lc", "cam"),
            *d = de_rng_stream(7, "lc", "cam2"), *f = de_rng_stream(7, "device", "cam");
    int same = 1, dc = 0, dd = 0, df = 0;
    for (int i = 0; i < 100; i++) {
        unsigned long x = gsl_rng_get(a), y = gsl_rng_get(b);
        same &= x == y;
        dc += gsl_rng_get(c) != x;
        dd += gsl_rng_get(d) != x;
        df += gsl_rng_get(f) != x;
    }
    CU_ASSERT(same);
    CU_ASSERT(dc > 90 && dd > 90 && df > 90);
    /* The pool draws exactly what the individual streams draw. */
    de_rng_pool p;
    de_rng_pool_init(&p, 5, 7, "lp");
    gsl_rng *s3 = de_rng_stream_i(7, "lp", 3);
    int eq = 1;
    for (int i = 0; i < 50; i++) {
        eq &= de_rng_pool_uniform(&p, 3) == gsl_rng_uniform(s3);
        eq &= de_rng_pool_uniform_int(&p, 3, 10) == gsl_rng_uniform_int(s3, 10);
    }
    CU_ASSERT(eq);
    de_rng_pool_free(&p);
    gsl_rng_free(a);
    gsl_rng_free(b);
    gsl_rng_free(c);
    gsl_rng_free(d);
    gsl_rng_free(f);
    gsl_rng_free(s3);
}

static void test_phold(void)
{
    /* Each LP chain fires at rate 1/mean: about N P end / mean events. */
    de_phold_opts o;
    de_phold_defaults(&o);
    o.lps = 256;
    o.events_per_lp = 4;
    o.end = 200;
    de_phold_result r1, r2;
    de_err err;
    CU_ASSERT_EQUAL(de_phold_run(&o, &r1, &err), DE_OK);
    double expect = 256.0 * 4 * 200 / 1.0;
    CU_ASSERT(fabs((double)r1.events - expect) < 0.01 * expect);
    /* remote fraction ~ 0.25 * (N-1)/N */
    double frac = (double)r1.remote_events / (double)r1.events;
    CU_ASSERT(fabs(frac - 0.25 * 255 / 256) < 0.01);
    CU_ASSERT_EQUAL(de_phold_run(&o, &r2, &err), DE_OK);
    CU_ASSERT_EQUAL(r1.events, r2.events); /* deterministic */
    o.seed = 2;
    CU_ASSERT_EQUAL(de_phold_run(&o, &r2, &err), DE_OK);
    CU_ASSERT_NOT_EQUAL(r1.events, r2.events);
    o.remote = 1.5;
    CU_ASSERT_EQUAL(de_phold_run(&o, &r2, &err), DE_EINVAL);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"order by (time, seq)", test_order_and_ties},
        {"random schedules come out sorted", test_monotone_random},
        {"run until, cancel", test_run_until_and_cancel},
        {"stop", test_stop},
        {"per-entity random streams", test_streams},
        {"PHOLD counts and determinism", test_phold},
        {NULL, NULL}};
    de_test_suite("engine", cases);
    return de_test_run();
}
