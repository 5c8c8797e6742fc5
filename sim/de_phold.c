/* de_phold.c — PHOLD on the engine (see de_phold.h). */
#include "de_phold.h"

#include <math.h>
#include <stdlib.h>

#include "de_engine.h"
#include "de_rng.h"
#include "de_util.h"

typedef struct phold {
    const de_phold_opts *o;
    de_rng_pool rng;
    int type;
    double delay_mean; /* mean - lookahead */
    uint64_t count, remote;
} phold;

static void on_event(de_engine *e, void *ctx, uint32_t lp, uint64_t b)
{
    (void)b;
    phold *p = ctx;
    p->count++;
    uint32_t dest = lp;
    if (de_rng_pool_uniform(&p->rng, lp) <= p->o->remote) {
        dest = (uint32_t)de_rng_pool_uniform_int(&p->rng, lp, p->o->lps);
        p->remote += dest != lp;
    }
    /* Exp(delay_mean) by inversion (1 - u is in (0, 1]) */
    double t = de_engine_now(e) + p->o->lookahead - p->delay_mean * log(1.0 - de_rng_pool_uniform(&p->rng, lp));
    if (t < p->o->end)
        de_engine_schedule(e, t, p->type, dest, 0);
}

void de_phold_defaults(de_phold_opts *o)
{
    o->lps = 1024;
    o->events_per_lp = 1;
    o->end = 20000;
    o->lookahead = 0.1;
    o->mean = 1.0;
    o->remote = 0.25;
    o->seed = 1;
}

int de_phold_run(const de_phold_opts *o, de_phold_result *res, de_err *err)
{
    if (o->lps < 1 || o->events_per_lp < 1 || !(o->end > 0) || !(o->lookahead >= 0) || !(o->mean > o->lookahead) ||
        !(o->remote >= 0 && o->remote <= 1))
        return de_err_set(err, DE_EINVAL,
                          "phold: need lps >= 1, events per LP >= 1, end > 0, 0 <= lookahead < mean, remote in [0,1]");
    double t0 = de_now_s();
    phold p = {.o = o, .delay_mean = o->mean - o->lookahead};
    de_rng_pool_init(&p.rng, o->lps, o->seed, "phold-lp");
    de_engine *e = de_engine_create();
    p.type = de_engine_register(e, on_event, &p);
    for (uint32_t lp = 0; lp < o->lps; lp++)
        for (uint32_t k = 0; k < o->events_per_lp; k++) {
            double t = o->lookahead - p.delay_mean * log(1.0 - de_rng_pool_uniform(&p.rng, lp));
            if (t < o->end)
                de_engine_schedule(e, t, p.type, lp, 0);
        }
    double t1 = de_now_s();
    de_engine_run(e, INFINITY);
    double t2 = de_now_s();
    res->events = p.count;
    res->remote_events = p.remote;
    res->setup_s = t1 - t0;
    res->wall_s = t2 - t1;
    res->queue_bytes = de_engine_bytes(e);
    de_rng_pool_free(&p.rng);
    de_engine_destroy(e);
    return DE_OK;
}
