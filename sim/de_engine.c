/* de_engine.c — discrete-event engine: 4-ary heap ordered by (time, seq), lazy
 * cancellation through a hash set of cancelled ids (see de_engine.h). */
#include "de_engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

typedef struct ev {
    double t;
    uint64_t seq;
    uint64_t b;
    uint32_t type;
    uint32_t a;
} ev;

typedef struct handler {
    de_event_fn fn;
    void *ctx;
} handler;

struct de_engine {
    ev *heap;
    size_t n, cap;
    double now;
    uint64_t next_seq;
    uint64_t processed;
    int stop;
    handler *h;
    int nh, caph;
    /* cancelled ids: open addressing, 0 = empty (ids start at 1) */
    uint64_t *cset;
    size_t cn, ccap;
};

static inline int before(const ev *x, const ev *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

de_engine *de_engine_create(void)
{
    de_engine *e = de_calloc(1, sizeof *e);
    e->cap = 1024;
    e->heap = de_calloc(e->cap, sizeof *e->heap);
    e->next_seq = 1;
    return e;
}

void de_engine_destroy(de_engine *e)
{
    if (!e)
        return;
    free(e->heap);
    free(e->h);
    free(e->cset);
    free(e);
}

int de_engine_register(de_engine *e, de_event_fn fn, void *ctx)
{
    if (e->nh == e->caph) {
        e->caph = e->caph ? 2 * e->caph : 8;
        e->h = de_realloc(e->h, (size_t)e->caph * sizeof *e->h);
    }
    e->h[e->nh].fn = fn;
    e->h[e->nh].ctx = ctx;
    return e->nh++;
}

uint64_t de_engine_schedule(de_engine *e, double time, int type, uint32_t a, uint64_t b)
{
    if (e->n == e->cap) {
        e->cap *= 2;
        e->heap = de_realloc(e->heap, e->cap * sizeof *e->heap);
    }
    ev x = {time < e->now ? e->now : time, e->next_seq++, b, (uint32_t)type, a};
    size_t i = e->n++;
    while (i > 0) { /* sift up */
        size_t p = (i - 1) >> 2;
        if (!before(&x, &e->heap[p]))
            break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i] = x;
    return x.seq;
}

/* Removes the top of the heap. */
static inline void pop(de_engine *e)
{
    ev *h = e->heap;
    ev x = h[--e->n];
    size_t n = e->n, i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t m = c, end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++)
            if (before(&h[k], &h[m]))
                m = k;
        if (!before(&h[m], &x))
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

static size_t cslot(const de_engine *e, uint64_t id)
{
    size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & (e->ccap - 1);
    while (e->cset[i] && e->cset[i] != id)
        i = (i + 1) & (e->ccap - 1);
    return i;
}

static void cset_rebuild(de_engine *e, size_t cap)
{
    uint64_t *old = e->cset;
    size_t oc = e->ccap;
    e->ccap = cap;
    e->cset = de_calloc(cap, sizeof *e->cset);
    e->cn = 0;
    for (size_t i = 0; i < oc; i++)
        if (old[i]) {
            e->cset[cslot(e, old[i])] = old[i];
            e->cn++;
        }
    free(old);
}

/* Removes id from the cancelled set (backward-shift deletion); 1 if it was there. */
static int cset_take(de_engine *e, uint64_t id)
{
    if (e->cn == 0)
        return 0;
    size_t i = cslot(e, id);
    if (!e->cset[i])
        return 0;
    e->cset[i] = 0;
    e->cn--;
    for (size_t j = (i + 1) & (e->ccap - 1); e->cset[j]; j = (j + 1) & (e->ccap - 1)) {
        uint64_t v = e->cset[j];
        e->cset[j] = 0;
        e->cset[cslot(e, v)] = v;
    }
    return 1;
}

int de_engine_cancel(de_engine *e, uint64_t id)
{
    /* Pending? Linear scan of the heap: cancellation is rare (faults, re-plans). */
    int pending = 0;
    for (size_t i = 0; i < e->n && !pending; i++)
        pending = e->heap[i].seq == id;
    if (!pending)
        return 0;
    if (2 * (e->cn + 1) > e->ccap)
        cset_rebuild(e, e->ccap ? 2 * e->ccap : 64);
    size_t s = cslot(e, id);
    if (e->cset[s])
        return 0; /* already cancelled */
    e->cset[s] = id;
    e->cn++;
    return 1;
}

uint64_t de_engine_run(de_engine *e, double until)
{
    uint64_t count = 0;
    e->stop = 0;
    while (e->n > 0 && !e->stop) {
        ev x = e->heap[0];
        if (!(x.t < until))
            break;
        pop(e);
        if (e->cn && cset_take(e, x.seq))
            continue;
        e->now = x.t;
        handler *hd = &e->h[x.type];
        hd->fn(e, hd->ctx, x.a, x.b);
        count++;
    }
    if (!e->stop && isfinite(until) && until > e->now)
        e->now = until;
    e->processed += count;
    return count;
}

void de_engine_stop(de_engine *e)
{
    e->stop = 1;
}

double de_engine_now(const de_engine *e)
{
    return e->now;
}

size_t de_engine_pending(const de_engine *e)
{
    return e->n;
}

uint64_t de_engine_processed(const de_engine *e)
{
    return e->processed;
}

size_t de_engine_bytes(const de_engine *e)
{
    return e->cap * sizeof *e->heap + e->ccap * sizeof *e->cset + (size_t)e->caph * sizeof *e->h;
}
