/* de_planner.c — the planning policies (see de_planner.h for the contract).
 *
 * Vocabulary. A candidate is a device that is up. For a device set S, A(S) is its
 * all-reduce time and the iteration time is T = tau + A(S), tau = max step time.
 * Device i's capacity at tau is the largest local batch b with t_i(b) <= tau whose
 * LC tasks meet their limits at duty cycle t_i(b) / (tau + A(S)); it is
 * nondecreasing in tau, so the smallest feasible tau is found by bisection, then
 * moved up to the first step-time breakpoint some device actually attains
 * (otherwise the real iteration would be shorter, the duty cycles higher, and the
 * LC check made at tau would not hold). That split is optimal for S. */
#include "de_planner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

typedef struct cand {
    int dev;          /* scenario device index */
    int cap;          /* min(memory limit, B) */
    double *t;        /* t[b] for b = 0..cap (t[0] = 0), NULL until first use */
    double *tmin;     /* tmin[b]: see tmin(); NAN until computed */
    int hint;         /* last LC-limited capacity (search start) */
    int bfree;        /* largest b whose LC limits hold at duty 1; -1 until computed */
    int n_tasks;      /* LC tasks on the device */
    double bw, lat;   /* its link */
    double speed;     /* samples/s at cap (ranking key) */
    double t1, tcap;  /* step times at batch 1 and at cap */
} cand;

typedef struct ctx {
    const de_state *st;
    const de_predictor *pred;
    int job, network, B;
    double margin, bytes;
    int use_lc;       /* 0: LC-oblivious (baselines) */
    int n;
    cand *c;
    double *lat;      /* scratch: latencies (or probabilities) of one device's tasks */
    double *limit;    /* scratch: their limits */
    int *devs;        /* scratch: device indices of a set */
    int *bm;          /* scratch: capacities of a set's members */
    int *capx;        /* scratch: per-member caps */
    long long evals;  /* solve() calls, for statistics */
} ctx;

/* ---------------------------------------------------------------- basics */

static const double *times(ctx *x, cand *c)
{
    if (!c->t) {
        c->t = de_calloc((size_t)c->cap + 1, sizeof(double));
        c->tmin = de_calloc((size_t)c->cap + 1, sizeof(double));
        for (int b = 0; b <= c->cap; b++)
            c->tmin[b] = NAN;
        for (int b = 1; b <= c->cap; b++)
            c->t[b] = x->pred->ops->step_time(x->pred->ctx, x->st, c->dev, x->network, b);
    }
    return c->t;
}

/* Largest b in [0, cap] with t[b] <= tau. */
static int time_bound(ctx *x, cand *c, double tau, int cap)
{
    const double *t = times(x, c);
    if (cap < 1 || !(t[1] <= tau))
        return 0;
    if (t[cap] <= tau)
        return cap;
    int lo = 1, hi = cap; /* t[lo] <= tau < t[hi] */
    /* Step times are close to linear in b: interpolate, then gallop to a bracket. */
    int g = 1 + (int)((tau - t[1]) / (t[cap] - t[1]) * (cap - 1));
    g = g < 1 ? 1 : (g > cap - 1 ? cap - 1 : g);
    if (t[g] <= tau) {
        lo = g;
        for (int step = 1; lo + step < hi; step *= 2) {
            if (t[lo + step] > tau) {
                hi = lo + step;
                break;
            }
            lo += step;
        }
    } else {
        hi = g;
        for (int step = 1; hi - step > lo; step *= 2) {
            if (t[hi - step] <= tau) {
                lo = hi - step;
                break;
            }
            hi -= step;
        }
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (t[mid] <= tau)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* How far c's LC tasks are from their limits with local batch b at duty cycle
 * duty; <= 0 means every task is within its limit. With the predictor's lc_within:
 * max over tasks of (percentile - probability within the limit), with a 1e-9
 * guard so that the latency it implies is inside the limit, not on it; otherwise
 * max of (latency - limit) / limit. Nondecreasing in b and duty. */
static double lc_excess(ctx *x, cand *c, int b, double duty)
{
    const de_scenario *s = x->st->scen;
    int first = s->dev_task_start[c->dev];
    double worst = -INFINITY;
    if (x->pred->ops->lc_within) {
        for (int k = 0; k < c->n_tasks; k++)
            x->limit[k] = s->tasks[s->dev_tasks[first + k]].deadline_s * (1.0 - x->margin);
        x->pred->ops->lc_within(x->pred->ctx, x->st, c->dev, x->network, b, duty, x->limit, x->lat);
        for (int k = 0; k < c->n_tasks; k++) {
            double e = s->tasks[s->dev_tasks[first + k]].percentile + 1e-9 - x->lat[k];
            if (!(e <= worst))
                worst = isnan(e) ? INFINITY : e;
        }
        return worst;
    }
    x->pred->ops->lc_latency(x->pred->ctx, x->st, c->dev, x->network, b, duty, x->lat);
    for (int k = 0; k < c->n_tasks; k++) {
        double limit = s->tasks[s->dev_tasks[first + k]].deadline_s * (1.0 - x->margin);
        double e = (x->lat[k] - limit) / limit;
        if (!(e <= worst)) /* NaN and +inf count as the worst */
            worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

/* Latencies of c's LC tasks (into x->lat), for messages. */
static void lc_latencies(ctx *x, cand *c, int b, double duty)
{
    x->pred->ops->lc_latency(x->pred->ctx, x->st, c->dev, x->network, b, duty, x->lat);
}

static int lc_ok_duty(ctx *x, cand *c, int b, double duty)
{
    return lc_excess(x, c, b, duty) <= 0.0;
}

/* Shortest iteration time at which local batch b on c keeps its LC tasks within
 * their limits: t(b) / dmax(b), dmax the largest admissible duty cycle. The root of
 * the (nondecreasing) excess in the duty cycle is bracketed and found by the
 * Illinois variant of regula falsi, keeping the admissible end of the bracket, so
 * the answer is never optimistic. Computed once per (device, b); nondecreasing in b. */
static double tmin(ctx *x, cand *c, int b)
{
    if (b == 0)
        return 0.0;
    if (!isnan(c->tmin[b]))
        return c->tmin[b];
    double t = times(x, c)[b], v;
    if (c->bfree < 0) {
        /* Largest batch whose LC limits hold even at duty cycle 1 (found once:
         * below it no latency needs computing). */
        int lo = 0, hi = c->cap + 1; /* ok(lo) at duty 1, !ok(hi) */
        if (lc_excess(x, c, c->cap, 1.0) <= 0.0)
            lo = c->cap;
        else
            hi = c->cap;
        while (hi - lo > 1) {
            int mid = lo + (hi - lo) / 2;
            if (lc_excess(x, c, mid, 1.0) <= 0.0)
                lo = mid;
            else
                hi = mid;
        }
        c->bfree = lo;
    }
    if (b <= c->bfree)
        return c->tmin[b] = t; /* any iteration is at least as long as this step */
    /* Here excess(b, 1) > 0. Bracket dmax(b) by the neighbours already computed:
     * dmax is nonincreasing in b, so dmax(b_above) <= dmax(b) <= dmax(b_below). */
    double lo = 0.0, hi = 1.0, flo, fhi;
    for (int k = b - 1; k > c->bfree; k--)
        if (!isnan(c->tmin[k])) {
            if (isinf(c->tmin[k]))
                return c->tmin[b] = INFINITY; /* no duty cycle was admissible for less */
            double d = c->t[k] / c->tmin[k] * (1.0 + 1e-5); /* slack: stored values are conservative */
            hi = d < 1.0 ? d : 1.0;
            break;
        }
    for (int k = b + 1; k <= c->cap; k++)
        if (!isnan(c->tmin[k])) {
            if (isfinite(c->tmin[k]))
                lo = c->t[k] / c->tmin[k];
            break;
        }
    flo = lc_excess(x, c, b, lo);
    if (flo > 0.0) {
        if (lo == 0.0)
            return c->tmin[b] = INFINITY;
        lo = 0.0; /* numerical disagreement: restart from the safe end */
        flo = lc_excess(x, c, b, 0.0);
        if (flo > 0.0)
            return c->tmin[b] = INFINITY;
    }
    fhi = lc_excess(x, c, b, hi);
    if (fhi <= 0.0) {
        lo = hi;
        flo = fhi;
        hi = 1.0;
        fhi = lc_excess(x, c, b, 1.0);
    }
    /* excess(lo) <= 0 < excess(hi): Illinois regula falsi. */
    int side = 0;
    for (int it = 0; it < 100 && hi - lo > 1e-6 * lo; it++) {
        double mid;
        if (isfinite(fhi) && fhi > flo)
            mid = lo + (hi - lo) * (-flo) / (fhi - flo);
        else
            mid = 0.5 * (lo + hi);
        if (!(mid > lo && mid < hi) || it % 8 == 7)
            mid = 0.5 * (lo + hi); /* keep shrinking even when the secant stalls */
        double f = lc_excess(x, c, b, mid);
        if (f <= 0.0) {
            lo = mid;
            flo = f;
            if (side == -1)
                fhi *= 0.5;
            side = -1;
        } else {
            hi = mid;
            fhi = f;
            if (side == 1)
                flo *= 0.5;
            side = 1;
        }
    }
    v = lo > 0.0 ? t / lo : INFINITY;
    c->tmin[b] = v;
    return v;
}

/* Do c's LC tasks meet their limits with local batch b in an iteration of T seconds? */
static int lc_ok(ctx *x, cand *c, int b, double T)
{
    if (!x->use_lc || c->n_tasks == 0)
        return 1;
    return tmin(x, c, b) <= T;
}

/* Capacity: largest b in [0, cap] with t[b] <= tau and the LC limits met at T.
 * tmin is nondecreasing in b; the search gallops from the device's previous answer
 * (successive calls differ little), so few new tmin entries are computed. */
static int capacity(ctx *x, cand *c, double tau, double T, int cap)
{
    int b = time_bound(x, c, tau, cap);
    if (b == 0 || lc_ok(x, c, b, T))
        return b;
    int lo = 0, hi = b; /* ok(lo), !ok(hi) */
    int h = c->hint < b ? c->hint : b - 1;
    if (h > 0) {
        if (lc_ok(x, c, h, T)) {
            lo = h;
            for (int step = 1; lo + step < hi; step *= 2) {
                if (!lc_ok(x, c, lo + step, T)) {
                    hi = lo + step;
                    break;
                }
                lo += step;
            }
        } else {
            hi = h;
            for (int step = 1; hi - step > 0; step *= 2) {
                if (lc_ok(x, c, hi - step, T)) {
                    lo = hi - step;
                    break;
                }
                hi -= step;
            }
        }
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (lc_ok(x, c, mid, T))
            lo = mid;
        else
            hi = mid;
    }
    c->hint = lo;
    return lo;
}

static double allreduce(ctx *x, const int *m, int n)
{
    for (int i = 0; i < n; i++)
        x->devs[i] = x->c[m[i]].dev;
    return x->pred->ops->allreduce_time(x->pred->ctx, x->st, x->devs, n, x->bytes);
}

/* Sum of capacities of members m at tau (into x->bm), or -1 if one member has none. */
static long long cap_sum(ctx *x, const int *m, int n, double tau, double A)
{
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        x->bm[i] = capacity(x, &x->c[m[i]], tau, tau + A, x->capx[i]);
        if (x->bm[i] == 0)
            return -1;
        sum += x->bm[i];
    }
    return sum;
}

/* Smallest step-time breakpoint of the members strictly above tau; INFINITY if none. */
static double next_breakpoint(ctx *x, const int *m, int n, double tau)
{
    double nb = INFINITY;
    for (int i = 0; i < n; i++) {
        cand *c = &x->c[m[i]];
        int b = time_bound(x, c, tau, x->capx[i]);
        if (b < x->capx[i]) {
            double t = times(x, c)[b + 1];
            if (t > tau && t < nb)
                nb = t;
        }
    }
    return nb;
}

/* Optimal split of B over members m[0..n-1] (all must take >= 1 sample).
 * Returns 1 and fills batch[] (per member) and *T_out, or 0 if no split meets the
 * LC limits. */
static int solve(ctx *x, const int *m, int n, int *batch, double *T_out)
{
    x->evals++;
    if (n <= 0 || n > x->B)
        return 0;
    double A = allreduce(x, m, n);
    double lo = 0.0, hi = 0.0;
    for (int i = 0; i < n; i++) {
        cand *c = &x->c[m[i]];
        x->capx[i] = c->cap < x->B - n + 1 ? c->cap : x->B - n + 1;
        const double *t = times(x, c);
        if (!isfinite(t[1]))
            return 0;
        if (t[1] > lo)
            lo = t[1];
        if (t[x->capx[i]] > hi)
            hi = t[x->capx[i]];
    }
    if (cap_sum(x, m, n, hi, A) < x->B)
        return 0;
    double tau;
    if (cap_sum(x, m, n, lo, A) >= x->B) {
        tau = lo;
    } else {
        /* Invariant: infeasible at lo, feasible at hi. */
        /* To 1e-4 relative: few breakpoints are left in the window, and the walk
         * below visits them exactly. */
        for (int it = 0; it < 200 && hi - lo > 1e-4 * hi; it++) {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi)
                break;
            if (cap_sum(x, m, n, mid, A) >= x->B)
                hi = mid;
            else
                lo = mid;
        }
        tau = next_breakpoint(x, m, n, lo);
    }
    /* Move up to the first breakpoint that is feasible and attained. */
    for (int guard = 0; isfinite(tau) && guard < 1000000; guard++) {
        long long sum = cap_sum(x, m, n, tau, A);
        if (sum >= x->B) {
            int att = -1;
            for (int i = 0; i < n && att < 0; i++)
                if (times(x, &x->c[m[i]])[x->bm[i]] == tau)
                    att = i;
            if (att >= 0) {
                long long surplus = sum - x->B;
                for (int i = 0; i < n; i++)
                    batch[i] = x->bm[i];
                /* Take the surplus from LC hosts first (more slack), then from the
                 * largest shares; the attaining device keeps the iteration time. */
                for (int pass = 0; pass < 2 && surplus > 0; pass++)
                    for (int i = 0; i < n && surplus > 0; i++) {
                        if (i == att || (pass == 0) != (x->c[m[i]].n_tasks > 0 && x->use_lc))
                            continue;
                        long long take = batch[i] - 1 < surplus ? batch[i] - 1 : surplus;
                        batch[i] -= (int)take;
                        surplus -= take;
                    }
                if (surplus > 0)
                    return 0; /* cannot happen: caps keep room for n-1 ones */
                *T_out = tau + A;
                return 1;
            }
        }
        tau = next_breakpoint(x, m, n, tau);
    }
    return 0;
}

/* Iteration time of a set (INFINITY when infeasible). */
static double set_time(ctx *x, const int *m, int n, int *batch)
{
    double T;
    return solve(x, m, n, batch, &T) ? T : INFINITY;
}

/* ---------------------------------------------------------------- context */

static void ctx_init(ctx *x, const de_state *st, int job, const de_planner_opts *opt, const de_predictor *pred,
                     int use_lc, const unsigned char *allowed)
{
    const de_scenario *s = st->scen;
    memset(x, 0, sizeof *x);
    x->st = st;
    x->pred = pred;
    x->job = job;
    x->network = s->jobs[job].network;
    x->B = s->jobs[job].global_batch;
    x->margin = opt->safety_margin;
    x->bytes = s->catalog->networks[x->network].gradient_bytes;
    x->use_lc = use_lc;
    x->c = de_calloc((size_t)s->n_devices + 1, sizeof *x->c);
    int max_tasks = 1;
    for (int d = 0; d < s->n_devices; d++) {
        if (!st->up[d] || (allowed && !allowed[d]))
            continue;
        cand *c = &x->c[x->n++];
        const de_train_params *tp = de_catalog_train(s->catalog, s->devices[d].type, x->network);
        int li = s->devices[d].link;
        c->dev = d;
        c->bfree = -1;
        c->cap = tp->max_batch < x->B ? tp->max_batch : x->B;
        c->n_tasks = s->dev_task_start[d + 1] - s->dev_task_start[d];
        c->bw = s->links[li].bandwidth_Bps * st->link_factor[li];
        c->lat = s->links[li].latency_s;
        c->tcap = pred->ops->step_time(pred->ctx, st, d, x->network, c->cap);
        c->t1 = pred->ops->step_time(pred->ctx, st, d, x->network, 1);
        c->speed = isfinite(c->tcap) && c->tcap > 0 ? c->cap / c->tcap : 0.0;
        if (c->n_tasks > max_tasks)
            max_tasks = c->n_tasks;
    }
    x->lat = de_calloc((size_t)max_tasks, sizeof(double));
    x->limit = de_calloc((size_t)max_tasks, sizeof(double));
    x->devs = de_calloc((size_t)x->n + 1, sizeof(int));
    x->bm = de_calloc((size_t)x->n + 1, sizeof(int));
    x->capx = de_calloc((size_t)x->n + 1, sizeof(int));
}

static void ctx_free(ctx *x)
{
    for (int i = 0; i < x->n; i++) {
        free(x->c[i].t);
        free(x->c[i].tmin);
    }
    free(x->c);
    free(x->lat);
    free(x->limit);
    free(x->devs);
    free(x->bm);
    free(x->capx);
}

static ctx *sort_ctx; /* qsort has no user pointer in C11 */

static int cmp_speed(const void *a, const void *b)
{
    const cand *x = &sort_ctx->c[*(const int *)a], *y = &sort_ctx->c[*(const int *)b];
    if (x->speed != y->speed)
        return x->speed > y->speed ? -1 : 1;
    if (x->lat != y->lat)
        return x->lat < y->lat ? -1 : 1;
    return x->dev - y->dev;
}

/* Indices of the candidates in decreasing speed order. */
static int *by_speed(ctx *x, const int *idx, int n)
{
    int *o = de_calloc((size_t)n + 1, sizeof(int));
    memcpy(o, idx, (size_t)n * sizeof(int));
    sort_ctx = x;
    qsort(o, (size_t)n, sizeof(int), cmp_speed);
    sort_ctx = NULL;
    return o;
}

/* Writes the shares of members m with batches b into the plan. */
static void set_plan(ctx *x, de_plan *p, const int *m, const int *b, int n)
{
    int *devs = de_calloc((size_t)n + 1, sizeof(int));
    for (int i = 0; i < n; i++)
        devs[i] = x->c[m[i]].dev;
    de_plan_set_shares(p, devs, b, n);
    free(devs);
}

/* ---------------------------------------------------------------- safety */

/* Splits candidates into safe ones (can take one sample without breaking an LC
 * limit, at the most favourable duty cycle any plan could give) and the rest,
 * noting the reasons in the plan's verdict. Returns the number of safe ones. */
static int classify(ctx *x, de_plan *p, int *safe, int *overloaded)
{
    const de_scenario *s = x->st->scen;
    *overloaded = 0;
    /* Longest possible iteration: every candidate at full capacity. */
    double tmax = 0.0;
    for (int i = 0; i < x->n; i++)
        if (isfinite(x->c[i].tcap) && x->c[i].tcap > tmax)
            tmax = x->c[i].tcap;
    int *all = de_calloc((size_t)x->n + 1, sizeof(int));
    for (int i = 0; i < x->n; i++)
        all[i] = i;
    double Tmax = tmax + allreduce(x, all, x->n);
    free(all);
    int ns = 0;
    for (int i = 0; i < x->n; i++) {
        cand *c = &x->c[i];
        int first = s->dev_task_start[c->dev];
        if (!isfinite(c->t1)) {
            de_plan_note(p, "device '%s' is saturated by its LC load: left out", s->devices[c->dev].name);
            if (c->n_tasks > 0 && !lc_ok_duty(x, c, 0, 0.0))
                (*overloaded)++;
            continue;
        }
        double d1 = c->t1 / Tmax < 1.0 ? c->t1 / Tmax : 1.0;
        if (c->n_tasks == 0 || lc_ok_duty(x, c, 1, d1)) {
            safe[ns++] = i; /* ok with one sample, hence with none */
            continue;
        }
        if (!lc_ok_duty(x, c, 0, 0.0)) {
            lc_latencies(x, c, 0, 0.0);
            for (int k = 0; k < c->n_tasks; k++) {
                const de_lc_task *t = &s->tasks[s->dev_tasks[first + k]];
                if (!(x->lat[k] <= t->deadline_s * (1 - x->margin)))
                    de_plan_note(p,
                                 "LC task '%s' on device '%s' misses its limit even with no training there "
                                 "(p%g %.1f ms > %.1f ms = deadline %.1f ms - %g%% margin): no plan can meet it",
                                 t->name, s->devices[c->dev].name, t->percentile * 100, x->lat[k] * 1e3,
                                 t->deadline_s * (1 - x->margin) * 1e3, t->deadline_s * 1e3, x->margin * 100);
            }
            (*overloaded)++;
            continue;
        }
        lc_latencies(x, c, 1, d1);
        for (int k = 0; k < c->n_tasks; k++) {
            const de_lc_task *t = &s->tasks[s->dev_tasks[first + k]];
            if (!(x->lat[k] <= t->deadline_s * (1 - x->margin)))
                de_plan_note(p, "device '%s' left out: even one sample of training would push LC task '%s' to %.1f ms "
                                "(limit %.1f ms)",
                             s->devices[c->dev].name, t->name, x->lat[k] * 1e3, t->deadline_s * (1 - x->margin) * 1e3);
        }
    }
    return ns;
}

/* Explains why the safe devices admit no split. */
static void explain_infeasible(ctx *x, de_plan *p, const int *safe, int ns)
{
    const de_scenario *s = x->st->scen;
    long long mem = 0;
    for (int i = 0; i < ns; i++)
        mem += x->c[safe[i]].cap;
    if (ns == 0)
        de_plan_note(p, "no plan: no device can train without breaking an LC deadline");
    else if (mem < x->B)
        de_plan_note(p, "no plan: the %d safe devices hold at most %lld samples per iteration in memory; global batch is %d",
                     ns, mem, x->B);
    else {
        de_plan_note(p, "no plan: the safe devices cannot absorb global batch %d without an LC task exceeding its limit; "
                        "LC-limited devices:", x->B);
        for (int i = 0; i < ns; i++)
            if (x->c[safe[i]].n_tasks > 0)
                de_plan_note(p, "  %s", s->devices[x->c[safe[i]].dev].name);
    }
}

/* ---------------------------------------------------------------- exact */

static int exact_search(ctx *x, const int *safe, int ns, int *best_m, int *best_b, int *best_n)
{
    int *m = de_calloc((size_t)ns + 1, sizeof(int)), *b = de_calloc((size_t)ns + 1, sizeof(int));
    double best = INFINITY;
    *best_n = 0;
    for (unsigned long mask = 1; mask < (1UL << ns); mask++) {
        int n = 0;
        double lb = 0.0;
        for (int i = 0; i < ns; i++)
            if (mask & (1UL << i)) {
                m[n++] = safe[i];
                double t1 = times(x, &x->c[safe[i]])[1];
                if (t1 > lb)
                    lb = t1;
            }
        if (n > x->B)
            continue;
        if (lb + allreduce(x, m, n) >= best)
            continue; /* cannot beat the best: tau >= max t_i(1) */
        double T = set_time(x, m, n, b);
        if (T < best) {
            best = T;
            *best_n = n;
            memcpy(best_m, m, (size_t)n * sizeof(int));
            memcpy(best_b, b, (size_t)n * sizeof(int));
        }
    }
    free(m);
    free(b);
    return isfinite(best);
}

/* ---------------------------------------------------------------- deep-edge */

/* Local search state: membership flags and the current set. */
typedef struct lsearch {
    ctx *x;
    char *in;
    int *m, n;
    int *tmp, *b;
    double T;
} lsearch;

static double try_set(lsearch *ls, const int *m, int n)
{
    return set_time(ls->x, m, n, ls->b);
}

/* One round of best-improvement moves (drop, add, swap). Returns 1 if improved. */
static ctx *weak_ctx;
static const int *weak_m;

static int cmp_weak(const void *a, const void *b)
{
    double x = weak_ctx->c[weak_m[*(const int *)a]].speed, y = weak_ctx->c[weak_m[*(const int *)b]].speed;
    if (x != y)
        return x < y ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* One round of best-improvement moves: drop a member, add an outsider (the
 * add_limit fastest), swap a member for an outsider (swap_limit fastest). Drops and
 * swaps consider the member_limit slowest members (all of them in small sets).
 * Returns 1 if the set improved. */
static int improve(lsearch *ls, const int *order, int norder, int add_limit, int swap_limit, int member_limit)
{
    ctx *x = ls->x;
    double best = ls->T * (1.0 - 1e-12);
    int kind = 0, bi = -1, bj = -1;
    int *t = ls->tmp;
    /* members, slowest first */
    int nm = ls->n < member_limit ? ls->n : member_limit;
    int *weak = de_calloc((size_t)ls->n + 1, sizeof(int));
    for (int i = 0; i < ls->n; i++)
        weak[i] = i;
    if (nm < ls->n) {
        weak_ctx = x;
        weak_m = ls->m;
        qsort(weak, (size_t)ls->n, sizeof(int), cmp_weak);
        weak_ctx = NULL;
        weak_m = NULL;
    }
    /* drop */
    if (ls->n > 1)
        for (int wi = 0; wi < nm; wi++) {
            int i = weak[wi], k = 0;
            for (int j = 0; j < ls->n; j++)
                if (j != i)
                    t[k++] = ls->m[j];
            double T = try_set(ls, t, k);
            if (T < best) {
                best = T;
                kind = 1;
                bi = i;
            }
        }
    /* add: the fastest candidates not in the set */
    if (ls->n < x->B) {
        int tried = 0;
        for (int o = 0; o < norder && tried < add_limit; o++) {
            int c = order[o];
            if (ls->in[c])
                continue;
            tried++;
            memcpy(t, ls->m, (size_t)ls->n * sizeof(int));
            t[ls->n] = c;
            double T = try_set(ls, t, ls->n + 1);
            if (T < best) {
                best = T;
                kind = 2;
                bj = c;
            }
        }
    }
    /* swap: one member for one outsider */
    int tried_out = 0;
    for (int o = 0; o < norder && tried_out < swap_limit; o++) {
        int c = order[o];
        if (ls->in[c])
            continue;
        tried_out++;
        for (int wi = 0; wi < nm; wi++) {
            int i = weak[wi];
            memcpy(t, ls->m, (size_t)ls->n * sizeof(int));
            t[i] = c;
            double T = try_set(ls, t, ls->n);
            if (T < best) {
                best = T;
                kind = 3;
                bi = i;
                bj = c;
            }
        }
    }
    free(weak);
    if (kind == 0)
        return 0;
    if (kind == 1) {
        ls->in[ls->m[bi]] = 0;
        ls->m[bi] = ls->m[--ls->n];
    } else if (kind == 2) {
        ls->in[bj] = 1;
        ls->m[ls->n++] = bj;
    } else {
        ls->in[ls->m[bi]] = 0;
        ls->in[bj] = 1;
        ls->m[bi] = bj;
    }
    ls->T = best;
    return 1;
}

static int cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* A pool of starting sets for the local search, kept sorted by iteration time. */
#define DE_STARTS 24
typedef struct start_pool {
    int n;
    int len[DE_STARTS];
    int *set[DE_STARTS];
    double T[DE_STARTS];
} start_pool;

static int same_set(const int *a, int na, const int *b, int nb)
{
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int j = 0; j < nb && !found; j++)
            found = a[i] == b[j];
        if (!found)
            return 0;
    }
    return 1;
}

static void pool_add(start_pool *p, const int *m, int n, double T)
{
    if (!isfinite(T) || n == 0)
        return;
    for (int i = 0; i < p->n; i++)
        if (same_set(p->set[i], p->len[i], m, n))
            return;
    if (p->n == DE_STARTS && T >= p->T[DE_STARTS - 1])
        return;
    int pos = p->n < DE_STARTS ? p->n++ : DE_STARTS - 1;
    free(p->set[pos]);
    p->set[pos] = de_calloc((size_t)n, sizeof(int));
    memcpy(p->set[pos], m, (size_t)n * sizeof(int));
    p->len[pos] = n;
    p->T[pos] = T;
    for (int i = pos; i > 0 && p->T[i] < p->T[i - 1]; i--) { /* insertion sort by T */
        int *ts = p->set[i], tl = p->len[i];
        double tt = p->T[i];
        p->set[i] = p->set[i - 1];
        p->len[i] = p->len[i - 1];
        p->T[i] = p->T[i - 1];
        p->set[i - 1] = ts;
        p->len[i - 1] = tl;
        p->T[i - 1] = tt;
    }
}

/* Single devices that can hold the whole batch: the fastest few at batch B. */
static void starts_single(ctx *x, const int *safe, int ns, start_pool *pool, int *b)
{
    int best[8], nb = 0;
    double bt[8];
    for (int i = 0; i < ns; i++) {
        cand *c = &x->c[safe[i]];
        if (c->cap < x->B)
            continue;
        double t = c->t ? c->t[x->B] : x->pred->ops->step_time(x->pred->ctx, x->st, c->dev, x->network, x->B);
        if (!isfinite(t))
            continue;
        if (nb == 8 && t >= bt[7])
            continue;
        int pos = nb < 8 ? nb++ : 7;
        best[pos] = safe[i];
        bt[pos] = t;
        for (int k = pos; k > 0 && bt[k] < bt[k - 1]; k--) {
            double tt = bt[k];
            int ti = best[k];
            bt[k] = bt[k - 1];
            best[k] = best[k - 1];
            bt[k - 1] = tt;
            best[k - 1] = ti;
        }
    }
    for (int k = 0; k < nb; k++)
        pool_add(pool, &best[k], 1, set_time(x, &best[k], 1, b));
}

/* For each bandwidth level (at most 12, by quantile when there are more), the
 * devices on links at least that fast in speed order: the best prefix. */
static void starts_prefix(ctx *x, const int *safe, const int *order, int ns, start_pool *pool, int *m, int *b)
{
    double *bws = de_calloc((size_t)ns + 1, sizeof(double));
    for (int i = 0; i < ns; i++)
        bws[i] = x->c[safe[i]].bw;
    qsort(bws, (size_t)ns, sizeof(double), cmp_double_desc);
    int nlev = 0;
    double levels[12];
    for (int i = 0; i < ns && nlev < 13; i++)
        if (i == 0 || bws[i] != bws[i - 1]) {
            if (nlev == 12) { /* many distinct bandwidths: use quantiles */
                for (int q = 0; q < 12; q++)
                    levels[q] = bws[(size_t)((double)(ns - 1) * q / 11.0)];
                break;
            }
            levels[nlev++] = bws[i];
        }
    free(bws);
    for (int l = 0; l < nlev; l++) {
        int cnt = 0;
        for (int o = 0; o < ns && cnt < x->B; o++)
            if (x->c[order[o]].bw >= levels[l])
                m[cnt++] = order[o];
        if (cnt == 0)
            continue;
        /* Prefix sizes: all up to 16, then a geometric grid, then a scan between the
         * neighbours of the best grid point. */
        int grid[64], ng = 0;
        for (int k = 1; k <= cnt && k <= 16; k++)
            grid[ng++] = k;
        for (double k = 20; k < cnt && ng < 60; k *= 1.25)
            grid[ng++] = (int)k;
        if (cnt > 16)
            grid[ng++] = cnt;
        double lbest = INFINITY;
        int lk = 0, lgi = 0;
        for (int g = 0; g < ng; g++) {
            double T = set_time(x, m, grid[g], b);
            if (T < lbest) {
                lbest = T;
                lk = grid[g];
                lgi = g;
            } else if (grid[g] > 16 && T > 1.5 * lbest) {
                ng = g + 1; /* far past the best: larger prefixes only add all-reduce */
                break;
            }
        }
        if (lk > 16) {
            int from = grid[lgi - 1] + 1, to = lgi + 1 < ng ? grid[lgi + 1] - 1 : cnt;
            for (int k = from; k <= to; k++) {
                if (k == lk)
                    continue;
                double T = set_time(x, m, k, b);
                if (T < lbest) {
                    lbest = T;
                    lk = k;
                }
            }
        }
        pool_add(pool, m, lk, lbest);
    }
}

static int deep_edge_search(ctx *x, const int *safe, int ns, int *best_m, int *best_b, int *best_n)
{
    *best_n = 0;
    if (ns == 0)
        return 0;
    int *order = by_speed(x, safe, ns);
    int *m = de_calloc((size_t)ns + 1, sizeof(int));
    int *b = de_calloc((size_t)ns + 1, sizeof(int));
    start_pool pool;
    memset(&pool, 0, sizeof pool);

    /* 1. Starting sets: single devices that hold the whole batch, and the best
     *    speed-ordered prefix per link class. */
    starts_single(x, safe, ns, &pool, b);
    starts_prefix(x, safe, order, ns, &pool, m, b);
    if (pool.n == 0) { /* nothing feasible yet: start from the fastest device */
        pool.set[0] = de_calloc(1, sizeof(int));
        pool.set[0][0] = order[0];
        pool.len[0] = 1;
        pool.T[0] = INFINITY;
        pool.n = 1;
    }

    /* 2. Local search (drop / add / swap, best improvement) from the best starts. */
    int small = ns <= 32;
    int add_limit = small ? ns : 8, swap_limit = small ? ns : 4, member_limit = small ? ns : 8;
    int nstarts = small ? 4 : 2, rounds = small ? 64 : 16;
    lsearch ls = {x, de_calloc((size_t)x->n + 1, 1), de_calloc((size_t)x->n + 2, sizeof(int)), 0,
                  de_calloc((size_t)x->n + 2, sizeof(int)), de_calloc((size_t)x->n + 2, sizeof(int)), 0};
    double best = INFINITY;
    int bestn = 0;
    int *bestset = de_calloc((size_t)ns + 1, sizeof(int));
    for (int st = 0; st < pool.n && st < nstarts; st++) {
        memset(ls.in, 0, (size_t)x->n + 1);
        ls.n = 0;
        for (int i = 0; i < pool.len[st]; i++) {
            ls.m[ls.n++] = pool.set[st][i];
            ls.in[pool.set[st][i]] = 1;
        }
        ls.T = pool.T[st];
        for (int round = 0; round < rounds; round++)
            if (!improve(&ls, order, ns, add_limit, swap_limit, member_limit))
                break;
        if (ls.T < best) {
            best = ls.T;
            bestn = ls.n;
            memcpy(bestset, ls.m, (size_t)ls.n * sizeof(int));
        }
    }
    int ok = bestn > 0 && solve(x, bestset, bestn, best_b, &best);
    if (ok) {
        *best_n = bestn;
        memcpy(best_m, bestset, (size_t)bestn * sizeof(int));
    }
    for (int i = 0; i < pool.n; i++)
        free(pool.set[i]);
    free(ls.in);
    free(ls.m);
    free(ls.tmp);
    free(ls.b);
    free(order);
    free(m);
    free(b);
    free(bestset);
    return ok;
}

/* ---------------------------------------------------------------- baselines */

/* Round-robin: one sample at a time to each member with room, in order. */
static int fill_round_robin(const int *cap, int n, int B, int *b)
{
    memset(b, 0, (size_t)n * sizeof(int));
    int left = B;
    while (left > 0) {
        int gave = 0;
        for (int i = 0; i < n && left > 0; i++)
            if (b[i] < cap[i]) {
                b[i]++;
                left--;
                gave = 1;
            }
        if (!gave)
            return 0;
    }
    return 1;
}

/* Largest-remainder split proportional to w, each >= 1 and <= cap. */
static int fill_proportional(const double *w, const int *cap, int n, int B, int *b)
{
    double sw = 0;
    long long mem = 0;
    for (int i = 0; i < n; i++) {
        sw += w[i];
        mem += cap[i];
    }
    if (mem < B || n > B)
        return 0;
    double *frac = de_calloc((size_t)n + 1, sizeof(double));
    int left = B;
    for (int i = 0; i < n; i++) {
        double ideal = sw > 0 ? B * w[i] / sw : (double)B / n;
        b[i] = (int)floor(ideal);
        if (b[i] < 1)
            b[i] = 1;
        if (b[i] > cap[i])
            b[i] = cap[i];
        frac[i] = ideal - floor(ideal);
        left -= b[i];
    }
    while (left < 0) { /* the minimum of one sample overshot: take from the largest */
        int k = 0;
        for (int i = 1; i < n; i++)
            if (b[i] > b[k])
                k = i;
        b[k]--;
        left++;
    }
    while (left > 0) {
        int k = -1;
        for (int i = 0; i < n; i++)
            if (b[i] < cap[i] && (k < 0 || frac[i] > frac[k] || (frac[i] == frac[k] && w[i] > w[k])))
                k = i;
        b[k]++;
        frac[k] -= 1.0;
        left--;
    }
    free(frac);
    return 1;
}

static int baseline(ctx *x, de_policy pol, const de_planner_opts *opt, de_plan *p)
{
    const de_scenario *s = x->st->scen;
    int n = x->n, ok = 0;
    if (n == 0) {
        de_plan_note(p, "no plan: no device is up");
        return 0;
    }
    int *idx = de_calloc((size_t)n + 1, sizeof(int)), *cap = de_calloc((size_t)n + 1, sizeof(int)),
        *b = de_calloc((size_t)n + 1, sizeof(int));
    for (int i = 0; i < n; i++)
        idx[i] = i;
    int *order = by_speed(x, idx, n); /* speeds are isolated here: x is oblivious */
    if (pol == DE_POLICY_ALL_UNIFORM) {
        int k = n < x->B ? n : x->B;
        if (k < n)
            de_plan_note(p, "all-uniform: %d devices but global batch %d: the first %d devices (scenario order) train", n,
                         x->B, k);
        for (int i = 0; i < k; i++)
            cap[i] = x->c[i].cap;
        ok = fill_round_robin(cap, k, x->B, b);
        if (ok)
            set_plan(x, p, idx, b, k);
    } else if (pol == DE_POLICY_PROPORTIONAL) {
        int k = n < x->B ? n : x->B;
        if (k < n)
            de_plan_note(p, "proportional: %d devices but global batch %d: the %d fastest train", n, x->B, k);
        double *w = de_calloc((size_t)k + 1, sizeof(double));
        for (int i = 0; i < k; i++) {
            cap[i] = x->c[order[i]].cap;
            w[i] = x->c[order[i]].speed;
        }
        ok = fill_proportional(w, cap, k, x->B, b);
        if (ok)
            set_plan(x, p, order, b, k);
        free(w);
    } else { /* fastest-k */
        int kmax = n < x->B ? n : x->B;
        int k0 = 1, k1 = kmax;
        if (opt->fastest_k > 0) {
            k0 = k1 = opt->fastest_k < kmax ? opt->fastest_k : kmax;
        }
        double best = INFINITY;
        int bestk = 0;
        int *bb = de_calloc((size_t)n + 1, sizeof(int));
        for (int k = k0; k <= k1; k++) {
            double T = set_time(x, order, k, b);
            if (T < best) {
                best = T;
                bestk = k;
                memcpy(bb, b, (size_t)k * sizeof(int));
            }
        }
        ok = bestk > 0;
        if (ok)
            set_plan(x, p, order, bb, bestk);
        free(bb);
    }
    if (!ok) {
        long long mem = 0;
        for (int i = 0; i < n; i++)
            mem += x->c[i].cap;
        de_plan_note(p, "no plan: the %d devices up hold at most %lld samples per iteration; global batch is %d", n, mem,
                     x->B);
    }
    (void)s;
    free(order);
    free(idx);
    free(cap);
    free(b);
    return ok;
}

/* ---------------------------------------------------------------- the policies */

void de_planner_search(const de_policy_call *c, const unsigned char *allowed, int exhaustive, de_plan *out)
{
    ctx x;
    ctx_init(&x, c->st, c->job, c->opt, c->pred, 1, allowed);
    int *safe = de_calloc((size_t)x.n + 1, sizeof(int));
    int *bm = de_calloc((size_t)x.n + 1, sizeof(int)), *bb = de_calloc((size_t)x.n + 1, sizeof(int));
    int overloaded, bn = 0;
    int ns = classify(&x, out, safe, &overloaded);
    int ok = exhaustive ? exact_search(&x, safe, ns, bm, bb, &bn) : deep_edge_search(&x, safe, ns, bm, bb, &bn);
    if (ok)
        set_plan(&x, out, bm, bb, bn);
    else
        explain_infeasible(&x, out, safe, ns);
    free(safe);
    free(bm);
    free(bb);
    ctx_free(&x);
}

void de_policy_deep_edge(const de_policy_call *c, de_plan *out)
{
    de_planner_search(c, NULL, 0, out);
}

void de_policy_exact(const de_policy_call *c, de_plan *out)
{
    de_planner_search(c, NULL, 1, out);
}

static void run_baseline(const de_policy_call *c, de_policy pol, de_plan *out)
{
    ctx x;
    ctx_init(&x, c->st, c->job, c->opt, c->pred, 0, NULL);
    baseline(&x, pol, c->opt, out);
    ctx_free(&x);
}

void de_policy_all_uniform(const de_policy_call *c, de_plan *out)
{
    run_baseline(c, DE_POLICY_ALL_UNIFORM, out);
}

void de_policy_proportional(const de_policy_call *c, de_plan *out)
{
    run_baseline(c, DE_POLICY_PROPORTIONAL, out);
}

void de_policy_fastest_k(const de_policy_call *c, de_plan *out)
{
    run_baseline(c, DE_POLICY_FASTEST_K, out);
}

/* ---------------------------------------------------------------- entry */

typedef void (*policy_fn)(const de_policy_call *c, de_plan *out);
static const policy_fn policy_fns[] = {
#define DE_X_FN(id, fn, name, lc, maxdev, help) de_policy_##fn,
    DE_POLICY_TABLE(DE_X_FN)
#undef DE_X_FN
};

int de_plan_compute(const de_state *st, int job, de_policy policy, const de_planner_opts *opt,
                    const de_predictor *pred, de_plan *out, de_err *err)
{
    return de_plan_compute_after(st, job, policy, opt, pred, NULL, out, err);
}

int de_plan_compute_after(const de_state *st, int job, de_policy policy, const de_planner_opts *opt,
                          const de_predictor *pred, const de_change *change, de_plan *out, de_err *err)
{
    const de_scenario *s = st->scen;
    if (job < 0 || job >= s->n_jobs)
        return de_err_set(err, DE_EINVAL, "job index %d out of range (scenario has %d jobs)", job, s->n_jobs);
    if (!de_policy_valid(policy))
        return de_err_set(err, DE_EINVAL, "unknown policy %d (known: %s)", (int)policy, de_policy_list());
    int up = de_state_n_up(st);
    if (!de_policy_accepts(policy, up))
        return de_err_set(err, DE_EINVAL, "policy %s accepts at most %d devices up; %d are", de_policy_name(policy),
                          de_policy_max_devices(policy), up);
    double t0 = de_now_s();
    de_state seen = *st;
    if (!de_policy_respects_lc(policy)) /* an LC-oblivious policy sees no LC load */
        seen.rate = de_calloc((size_t)s->n_tasks + 1, sizeof(double));
    unsigned char *avail = de_calloc((size_t)s->n_devices + 1, 1);
    memcpy(avail, st->up, (size_t)s->n_devices);
    seen.up = avail;
    de_err perr;
    de_err_clear(&perr);
    /* A device whose step cannot end next to its LC load (the model's step time is
     * infinite: its LC queue alone saturates it) is of no use to any plan, whatever the
     * policy sees: plan again without it while the plan cannot progress. */
    for (int round = 0; round <= s->n_devices; round++) {
        de_plan_free(out);
        out->policy = policy;
        out->job = job;
        de_policy_call call = {&seen, job, opt, pred, change, &perr};
        if (de_policy_is_external(policy))
            de_policy_external(&call, out);
        else
            policy_fns[policy](&call, out);
        if (perr.code != DE_OK)
            break;
        de_plan_evaluate(out, st, pred, opt->safety_margin);
        if (isfinite(out->iteration_time_s))
            break;
        int dropped = 0, left = 0;
        for (int i = 0; i < out->n_shares; i++)
            if (!isfinite(out->shares[i].step_time_s) && avail[out->shares[i].device]) {
                avail[out->shares[i].device] = 0;
                dropped++;
            }
        for (int d = 0; d < s->n_devices; d++)
            left += avail[d];
        if (!dropped || !left)
            break;
    }
    if (seen.rate != st->rate)
        free(seen.rate);
    free(avail);
    if (perr.code != DE_OK) {
        de_plan_free(out);
        out->policy = policy;
        out->job = job;
        if (err)
            *err = perr;
        return perr.code;
    }
    out->planning_time_s = de_now_s() - t0;
    return DE_OK;
}
