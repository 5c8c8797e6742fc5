/* test_planner.c — the policies: invariants over hundreds of random clusters, the
 * optimality of exact against brute force, deep-edge's gap to exact, re-planning
 * and the infeasibility verdict. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_planner.h"
#include "de_test.h"
#include "de_util.h"

static de_predictor PRED;

static void plan(const de_state *st, de_policy pol, de_plan *p)
{
    de_err err;
    de_plan_init(p);
    int rc = de_plan_compute(st, 0, pol, &st->scen->planner, &PRED, p, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == DE_OK);
}

/* Structural invariants of any plan with shares. */
static void check_invariants(const de_state *st, const de_plan *p)
{
    const de_scenario *s = st->scen;
    if (p->n_shares == 0)
        return;
    int sum = 0;
    for (int i = 0; i < p->n_shares; i++) {
        const de_plan_share *sh = &p->shares[i];
        CU_ASSERT(sh->batch > 0);
        CU_ASSERT(st->up[sh->device]);
        const de_train_params *tp = de_catalog_train(s->catalog, s->devices[sh->device].type, s->jobs[0].network);
        CU_ASSERT(sh->batch <= tp->max_batch);
        if (i > 0)
            CU_ASSERT(sh->device > p->shares[i - 1].device);
        sum += sh->batch;
    }
    CU_ASSERT_EQUAL(sum, s->jobs[0].global_batch);
}

/* LC-aware policies: every task on a training device within its limit. */
static void check_lc_safe(const de_state *st, const de_plan *p)
{
    for (int i = 0; i < p->n_tasks; i++)
        for (int k = 0; k < p->n_shares; k++)
            if (p->shares[k].device == p->tasks[i].device)
                CU_ASSERT(p->tasks[i].latency_s <= p->tasks[i].limit_s * (1 + 1e-12));
    (void)st;
}

static void test_invariants_random(void)
{
    for (unsigned long seed = 1; seed <= 150; seed++) {
        int n = 2 + (int)(seed % 39);
        de_scenario *s = de_test_generated(n, -1, seed, NULL, 0);
        de_state st;
        de_state_init(&st, s, 0);
        de_plan p;
        for (int pol = 0; pol < DE_POLICY_COUNT; pol++) {
            if (pol == DE_POLICY_EXACT && n > 12)
                continue;
            plan(&st, (de_policy)pol, &p);
            check_invariants(&st, &p);
            if (de_policy_respects_lc((de_policy)pol)) {
                check_lc_safe(&st, &p);
                /* The generator keeps every deadline reachable without training. */
                if (p.n_shares > 0)
                    CU_ASSERT_EQUAL(p.violations, 0);
                if (p.n_shares > 0)
                    CU_ASSERT(p.feasible);
            }
            de_plan_free(&p);
        }
        de_state_free(&st);
        de_scenario_destroy(s);
    }
}

/* Brute force over every device subset and every integer split (tiny instances):
 * the best iteration time among splits within memory and LC limits. */
static double brute_force(const de_state *st, double margin)
{
    const de_scenario *s = st->scen;
    int n = s->n_devices, B = s->jobs[0].global_batch;
    double best = INFINITY;
    int *b = de_calloc((size_t)n + 1, sizeof(int)), *devs = de_calloc((size_t)n + 1, sizeof(int));
    for (int d = 0; d < n; d++)
        devs[d] = d;
    /* enumerate b in [0, B]^n with sum B (odometer) */
    for (;;) {
        int sum = 0, okmem = 1;
        for (int d = 0; d < n; d++) {
            sum += b[d];
            const de_train_params *tp = de_catalog_train(s->catalog, s->devices[d].type, s->jobs[0].network);
            if (b[d] > tp->max_batch)
                okmem = 0;
        }
        if (sum == B && okmem) {
            de_plan p;
            de_plan_init(&p);
            p.job = 0;
            de_plan_set_shares(&p, devs, b, n);
            de_plan_evaluate(&p, st, &PRED, margin);
            int ok = 1;
            for (int i = 0; i < p.n_tasks; i++)
                if (!(p.tasks[i].latency_s <= p.tasks[i].limit_s))
                    ok = 0;
            if (ok && p.iteration_time_s < best)
                best = p.iteration_time_s;
            de_plan_free(&p);
        }
        int d = 0;
        while (d < n && ++b[d] > B)
            b[d++] = 0;
        if (d == n)
            break;
    }
    free(b);
    free(devs);
    return best;
}

static void test_exact_matches_brute_force(void)
{
    int compared = 0;
    for (unsigned long seed = 1; seed <= 40; seed++) {
        int n = 2 + (int)(seed % 3); /* 2..4 devices */
        int B = 6 + (int)(seed % 7);  /* 6..12 */
        de_scenario *s = de_test_generated(n, n, seed, "resnet50-ft", B);
        de_state st;
        de_state_init(&st, s, 0);
        double bf = brute_force(&st, s->planner.safety_margin);
        de_plan p;
        plan(&st, DE_POLICY_EXACT, &p);
        if (isfinite(bf)) {
            CU_ASSERT(p.n_shares > 0);
            CU_ASSERT_DOUBLE_EQUAL(p.iteration_time_s, bf, 1e-9 * bf);
            if (fabs(p.iteration_time_s - bf) > 1e-9 * bf)
                fprintf(stderr, "\n  seed %lu: exact %.9g, brute force %.9g\n", seed, p.iteration_time_s, bf);
            compared++;
        } else {
            CU_ASSERT_EQUAL(p.n_shares, 0);
        }
        de_plan_free(&p);
        de_state_free(&st);
        de_scenario_destroy(s);
    }
    CU_ASSERT(compared >= 20);
}

static void test_gap_to_exact(void)
{
    int both = 0, within = 0, instances = 0;
    for (unsigned long seed = 1000; seed < 1300; seed++) {
        int n = 2 + (int)(seed % 11); /* 2..12 devices */
        de_scenario *s = de_test_generated(n, -1, seed, NULL, 0);
        de_state st;
        de_state_init(&st, s, 0);
        de_plan he, ex;
        plan(&st, DE_POLICY_DEEP_EDGE, &he);
        plan(&st, DE_POLICY_EXACT, &ex);
        instances++;
        /* exact is never worse than any policy whose plan is feasible */
        for (int pol = 0; pol < DE_POLICY_COUNT; pol++) {
            de_plan q;
            plan(&st, (de_policy)pol, &q);
            if (q.feasible) {
                CU_ASSERT(ex.n_shares > 0);
                CU_ASSERT(ex.iteration_time_s <= q.iteration_time_s * (1 + 1e-12));
            }
            de_plan_free(&q);
        }
        if (ex.n_shares > 0) {
            CU_ASSERT(he.n_shares > 0);
            if (he.n_shares > 0) {
                both++;
                within += he.iteration_time_s <= ex.iteration_time_s * 1.02;
            }
        } else {
            CU_ASSERT_EQUAL(he.n_shares, 0); /* deep-edge cannot find what does not exist */
        }
        de_plan_free(&he);
        de_plan_free(&ex);
        de_state_free(&st);
        de_scenario_destroy(s);
    }
    fprintf(stderr, "\n  deep-edge within 2%% of exact: %d of %d instances with a plan (%d generated)\n", within, both,
            instances);
    CU_ASSERT(both >= instances * 8 / 10);
    CU_ASSERT(within >= 0.95 * both);
}

static void test_caltech_story(void)
{
    /* The case study: deep-edge meets every deadline and beats every baseline that
     * does; the interference-oblivious baselines show violations. */
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_plan p[DE_POLICY_COUNT];
    for (int i = 0; i < DE_POLICY_COUNT; i++)
        plan(&st, (de_policy)i, &p[i]);
    CU_ASSERT(p[DE_POLICY_DEEP_EDGE].feasible);
    CU_ASSERT(p[DE_POLICY_DEEP_EDGE].n_shares < s->n_devices); /* someone is left out */
    int oblivious_violate = 0;
    for (int i = 0; i < DE_POLICY_COUNT; i++) {
        if (p[i].feasible)
            CU_ASSERT(p[DE_POLICY_DEEP_EDGE].retraining_time_s <= p[i].retraining_time_s * (1 + 1e-12));
        if (!de_policy_respects_lc((de_policy)i))
            oblivious_violate += p[i].violations > 0;
    }
    CU_ASSERT(oblivious_violate >= 1);
    for (int i = 0; i < DE_POLICY_COUNT; i++)
        de_plan_free(&p[i]);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_replan_after_failure(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_plan before, after;
    plan(&st, DE_POLICY_DEEP_EDGE, &before);
    CU_ASSERT_FATAL(before.feasible && before.n_shares > 0);
    /* The busiest device fails half-way through the job. */
    int victim = before.shares[0].device;
    for (int i = 1; i < before.n_shares; i++)
        if (before.shares[i].batch > before.shares[0].batch)
            victim = before.shares[i].device;
    const de_job *j = &s->jobs[0];
    st.samples_done[0] = 0.5 * (double)j->dataset_size * j->epochs;
    st.up[victim] = 0;
    plan(&st, DE_POLICY_DEEP_EDGE, &after);
    CU_ASSERT(after.n_shares > 0);
    for (int i = 0; i < after.n_shares; i++)
        CU_ASSERT(after.shares[i].device != victim);
    check_invariants(&st, &after);
    check_lc_safe(&st, &after);
    CU_ASSERT_EQUAL(after.iterations, (long long)ceil(0.5 * (double)j->dataset_size * j->epochs / j->global_batch));
    CU_ASSERT(after.iteration_time_s >= before.iteration_time_s * (1 - 1e-12)); /* lost a device: no faster */
    /* Back up, and an LC load step on a training device: the plan adapts. */
    st.up[victim] = 1;
    de_plan again;
    for (int t = 0; t < s->n_tasks; t++)
        st.rate[t] *= 1.3;
    plan(&st, DE_POLICY_DEEP_EDGE, &again);
    check_invariants(&st, &again);
    check_lc_safe(&st, &again);
    CU_ASSERT_EQUAL(again.violations, 0);
    de_plan_free(&before);
    de_plan_free(&after);
    de_plan_free(&again);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_infeasible_verdict(void)
{
    de_scenario *s = de_test_scenario("scenarios/infeasible.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_plan p;
    plan(&st, DE_POLICY_DEEP_EDGE, &p);
    CU_ASSERT(!p.feasible);
    CU_ASSERT(p.violations > 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.verdict);
    DE_ASSERT_CONTAINS(p.verdict, "overloaded-cam");
    DE_ASSERT_CONTAINS(p.verdict, "busy-tx2");
    DE_ASSERT_CONTAINS(p.verdict, "no plan can meet it");
    /* the best plan on the safe devices still exists and avoids the overloaded one */
    CU_ASSERT(p.n_shares > 0);
    check_invariants(&st, &p);
    for (int i = 0; i < p.n_shares; i++)
        CU_ASSERT_STRING_NOT_EQUAL(s->devices[p.shares[i].device].name, "busy-tx2");
    de_plan_free(&p);

    /* Memory: take every device but the smallest down; B cannot fit. */
    for (int d = 0; d < s->n_devices; d++)
        st.up[d] = strcmp(s->devices[d].name, "nano") == 0;
    plan(&st, DE_POLICY_DEEP_EDGE, &p);
    CU_ASSERT_EQUAL(p.n_shares, 0);
    CU_ASSERT(!p.feasible);
    DE_ASSERT_CONTAINS(p.verdict, "hold at most");
    de_plan_free(&p);
    plan(&st, DE_POLICY_ALL_UNIFORM, &p);
    CU_ASSERT_EQUAL(p.n_shares, 0);
    DE_ASSERT_CONTAINS(p.verdict, "hold at most");
    de_plan_free(&p);
    /* No device up at all. */
    memset(st.up, 0, (size_t)s->n_devices);
    plan(&st, DE_POLICY_DEEP_EDGE, &p);
    CU_ASSERT_EQUAL(p.n_shares, 0);
    CU_ASSERT_PTR_NOT_NULL(p.verdict);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
}

/* A device whose LC queue alone saturates it cannot train (its step never ends): no
 * policy's plan gives it a share, LC-aware or not, and a plan that does (evaluated on
 * that state) counts it as computing all the time instead of a NaN duty cycle. */
static void test_saturated_device_left_out(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    int f1 = de_scenario_device(s, "f1");
    st.rate[0] = 150.0; /* cam on f1: 150 x 10 ms of service a second */
    for (int pol = 0; pol < DE_POLICY_COUNT; pol++) {
        if (!de_policy_accepts((de_policy)pol, de_state_n_up(&st)))
            continue;
        de_plan p;
        plan(&st, (de_policy)pol, &p);
        CU_ASSERT(isfinite(p.iteration_time_s));
        for (int i = 0; i < p.n_shares; i++)
            CU_ASSERT(p.shares[i].device != f1);
        check_invariants(&st, &p);
        de_plan_free(&p);
    }
    de_plan q;
    de_plan_init(&q);
    q.job = 0;
    int devs[2] = {f1, de_scenario_device(s, "s1")}, batches[2] = {16, 16};
    de_plan_set_shares(&q, devs, batches, 2);
    de_plan_evaluate(&q, &st, &PRED, s->planner.safety_margin);
    CU_ASSERT(isinf(q.iteration_time_s));
    CU_ASSERT_EQUAL(q.shares[0].duty_cycle, 1.0);
    CU_ASSERT_EQUAL(q.over_margin, 1); /* cam over its deadline, not a NaN that passes */
    de_plan_free(&q);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_deterministic(void)
{
    de_scenario *s = de_test_generated(200, 100, 7, "resnet50-ft", 128);
    de_state st;
    de_state_init(&st, s, 0);
    de_plan a, b;
    plan(&st, DE_POLICY_DEEP_EDGE, &a);
    plan(&st, DE_POLICY_DEEP_EDGE, &b);
    CU_ASSERT_EQUAL(a.n_shares, b.n_shares);
    for (int i = 0; i < a.n_shares && i < b.n_shares; i++) {
        CU_ASSERT_EQUAL(a.shares[i].device, b.shares[i].device);
        CU_ASSERT_EQUAL(a.shares[i].batch, b.shares[i].batch);
    }
    CU_ASSERT_EQUAL(a.iteration_time_s, b.iteration_time_s);
    check_invariants(&st, &a);
    check_lc_safe(&st, &a);
    de_plan_free(&a);
    de_plan_free(&b);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_exact_limit(void)
{
    de_scenario *s = de_test_generated(de_policy_max_devices(DE_POLICY_EXACT) + 1, 0, 3, NULL, 0);
    de_state st;
    de_state_init(&st, s, 0);
    de_plan p;
    de_plan_init(&p);
    de_err err;
    CU_ASSERT_EQUAL(de_plan_compute(&st, 0, DE_POLICY_EXACT, &s->planner, &PRED, &p, &err), DE_EINVAL);
    DE_ASSERT_CONTAINS(err.msg, "at most");
    CU_ASSERT_EQUAL(de_plan_compute(&st, 5, DE_POLICY_DEEP_EDGE, &s->planner, &PRED, &p, &err), DE_EINVAL);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
}

int main(void)
{
    PRED = de_predictor_model();
    static const de_test_case cases[] = {
        {"invariants over random clusters", test_invariants_random},
        {"exact equals brute force on tiny clusters", test_exact_matches_brute_force},
        {"deep-edge within 2% of exact, exact never beaten", test_gap_to_exact},
        {"caltech case study", test_caltech_story},
        {"re-plan after a failure and a load step", test_replan_after_failure},
        {"infeasible verdict", test_infeasible_verdict},
        {"a device its LC load saturates gets no share", test_saturated_device_left_out},
        {"deterministic", test_deterministic},
        {"exact size limit and bad job", test_exact_limit},
        {NULL, NULL}};
    de_test_suite("planner", cases);
    return de_test_run();
}
