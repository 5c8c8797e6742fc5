/* de_engine.c — discrete-event engine: a two-tier bucket queue ordered by
 * (time, seq), lazy cancellation through a hash set of cancelled ids (see
 * de_engine.h). */
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

/* An event parked in a bucket or in the far list. */
typedef struct node {
    ev e;
    uint32_t next;
} node;

#define NIL UINT32_MAX
#define FREE_TYPE UINT32_MAX
#define PER_BUCKET 1.0 /* target events per bucket at a rebuild */

typedef struct handler {
    de_event_fn fn;
    void *ctx;
} handler;

/* The queue is a two-tier bucket queue (the idea of calendar and ladder queues):
 *  - `bottom`: a 4-ary heap of the events of the current bucket and earlier;
 *  - `bucket[k]`: unsorted lists of the events whose index
 *    floor((t - base) * inv_w) is k, for k > cur;
 *  - `far`: an unsorted list of the events past the last bucket.
 * When the bottom heap runs dry the next non-empty bucket is moved into it; when
 * the buckets run out, they are rebuilt from the far list, sized to hold about
 * PER_BUCKET events each. The index is monotone in t, so the order is exact:
 * (time, seq), as in a plain heap. Amortised O(1) per event with few cache
 * misses, where a heap of millions of events costs a miss per level. */
struct de_engine {
    ev *heap; /* bottom */
    size_t n, cap;
    node *pool;
    uint32_t pool_cap, free_head;
    size_t parked; /* events in buckets and far */
    uint32_t *bucket;
    size_t nb, nb_cap, cur; /* cur: index of the bucket already in bottom (SIZE_MAX: none) */
    double base, inv_w;
    uint32_t far;
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
    e->free_head = NIL;
    e->far = NIL;
    e->cur = SIZE_MAX;
    return e;
}

void de_engine_destroy(de_engine *e)
{
    if (!e)
        return;
    free(e->heap);
    free(e->pool);
    free(e->bucket);
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

static inline void heap_push(de_engine *e, ev x)
{
    if (e->n == e->cap) {
        e->cap *= 2;
        e->heap = de_realloc(e->heap, e->cap * sizeof *e->heap);
    }
    size_t i = e->n++;
    while (i > 0) { /* sift up */
        size_t p = (i - 1) >> 2;
        if (!before(&x, &e->heap[p]))
            break;
        e->heap[i] = e->heap[p];
        i = p;
    }
    e->heap[i] = x;
}

/* Removes the top of the bottom heap. */
static inline void heap_pop(de_engine *e)
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

static inline uint32_t node_alloc(de_engine *e)
{
    if (e->free_head == NIL) {
        uint32_t old = e->pool_cap, cap = old ? 2 * old : 1024;
        e->pool = de_realloc(e->pool, (size_t)cap * sizeof *e->pool);
        for (uint32_t i = cap; i > old; i--) {
            e->pool[i - 1].next = e->free_head;
            e->pool[i - 1].e.type = FREE_TYPE;
            e->free_head = i - 1;
        }
        e->pool_cap = cap;
    }
    uint32_t k = e->free_head;
    e->free_head = e->pool[k].next;
    return k;
}

static inline void node_free(de_engine *e, uint32_t k)
{
    e->pool[k].e.type = FREE_TYPE;
    e->pool[k].next = e->free_head;
    e->free_head = k;
}

static inline void park(de_engine *e, uint32_t *list, ev x)
{
    uint32_t k = node_alloc(e);
    e->pool[k].e = x;
    e->pool[k].next = *list;
    *list = k;
    e->parked++;
}

static inline void enqueue(de_engine *e, ev x)
{
    if (e->nb) {
        double d = (x.t - e->base) * e->inv_w;
        size_t k = d <= 0 ? 0 : (d >= (double)e->nb ? e->nb : (size_t)d);
        if (e->cur != SIZE_MAX && k <= e->cur)
            heap_push(e, x);
        else if (k < e->nb)
            park(e, &e->bucket[k], x);
        else
            park(e, &e->far, x);
    } else {
        park(e, &e->far, x);
    }
}

uint64_t de_engine_schedule(de_engine *e, double time, int type, uint32_t a, uint64_t b)
{
    ev x = {time >= e->now ? time : e->now, e->next_seq++, b, (uint32_t)type, a}; /* NaN -> now */
    enqueue(e, x);
    return x.seq;
}

/* Rebuilds the buckets from the far list (which must not be empty). */
static void rebuild(de_engine *e)
{
    size_t n = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t k = e->far; k != NIL; k = e->pool[k].next) {
        double t = e->pool[k].e.t;
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
        n++;
    }
    size_t nb = (size_t)((double)n / PER_BUCKET) + 1;
    if (nb > e->nb_cap) {
        e->nb_cap = nb;
        e->bucket = de_realloc(e->bucket, nb * sizeof *e->bucket);
    }
    e->nb = nb;
    for (size_t k = 0; k < nb; k++)
        e->bucket[k] = NIL;
    e->base = lo;
    double span = hi - lo;
    e->inv_w = span > 0 ? (double)nb / (span * (1.0 + 1e-9)) : 0.0;
    e->cur = SIZE_MAX;
    uint32_t k = e->far, left = NIL;
    while (k != NIL) {
        uint32_t next = e->pool[k].next;
        double d = (e->pool[k].e.t - lo) * e->inv_w;
        /* NaN (an event at +inf: a step that cannot end, inv_w 0) and below: the first
         * bucket, where the heap orders it last; the run loop never passes +inf */
        size_t i = d > 0 ? (d < (double)nb ? (size_t)d : nb) : 0;
        if (i < nb) {
            e->pool[k].next = e->bucket[i];
            e->bucket[i] = k;
        } else { /* rounding at the top end: stays far */
            e->pool[k].next = left;
            left = k;
        }
        k = next;
    }
    e->far = left;
}

/* Makes the bottom heap non-empty if any event is pending; 0 when none is. */
static int refill(de_engine *e)
{
    while (e->n == 0) {
        if (e->parked == 0)
            return 0;
        size_t k = e->cur == SIZE_MAX ? 0 : e->cur + 1;
        while (k < e->nb && e->bucket[k] == NIL)
            k++;
        if (k < e->nb) {
            e->cur = k;
            for (uint32_t j = e->bucket[k]; j != NIL;) {
                uint32_t next = e->pool[j].next;
                heap_push(e, e->pool[j].e);
                node_free(e, j);
                e->parked--;
                j = next;
            }
            e->bucket[k] = NIL;
        } else {
            rebuild(e);
        }
    }
    return 1;
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
    for (uint32_t i = 0; i < e->pool_cap && !pending; i++)
        pending = e->pool[i].e.type != FREE_TYPE && e->pool[i].e.seq == id;
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
    while (!e->stop && (e->n > 0 || refill(e))) {
        ev x = e->heap[0];
        if (!(x.t < until))
            break;
        heap_pop(e);
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
    return e->n + e->parked;
}

uint64_t de_engine_processed(const de_engine *e)
{
    return e->processed;
}

size_t de_engine_bytes(const de_engine *e)
{
    return e->cap * sizeof *e->heap + (size_t)e->pool_cap * sizeof *e->pool + e->nb_cap * sizeof *e->bucket +
           e->ccap * sizeof *e->cset + (size_t)e->caph * sizeof *e->h;
}
