/* de_phold.c — PHOLD on the engine (see de_phold.h). */
#include "de_phold.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "de_engine.h"
#include "de_rng.h"
#include "de_util.h"

typedef struct phold {
    const de_phold_opts *o;
    gsl_rng **rng;
    int type;
    double delay_mean; /* mean - lookahead */
    uint64_t count, remote;
} phold;

static void on_event(de_engine *e, void *ctx, uint32_t lp, uint64_t b)
{
    (void)b;
    phold *p = ctx;
    gsl_rng *r = p->rng[lp];
    p->count++;
    uint32_t dest = lp;
    if (gsl_rng_uniform(r) <= p->o->remote) {
        dest = (uint32_t)gsl_rng_uniform_int(r, p->o->lps);
        p->remote += dest != lp;
    }
    double t = de_engine_now(e) + p->o->lookahead + gsl_ran_exponential(r, p->delay_mean);
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
    phold p = {o, de_calloc(o->lps, sizeof(gsl_rng *)), 0, o->mean - o->lookahead, 0, 0};
    de_engine *e = de_engine_create();
    p.type = de_engine_register(e, on_event, &p);
    for (uint32_t lp = 0; lp < o->lps; lp++)
        p.rng[lp] = de_rng_stream_i(o->seed, "phold-lp", lp);
    for (uint32_t lp = 0; lp < o->lps; lp++)
        for (uint32_t k = 0; k < o->events_per_lp; k++) {
            double t = o->lookahead + gsl_ran_exponential(p.rng[lp], p.delay_mean);
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
    for (uint32_t lp = 0; lp < o->lps; lp++)
        gsl_rng_free(p.rng[lp]);
    free(p.rng);
    de_engine_destroy(e);
    return DE_OK;
}
