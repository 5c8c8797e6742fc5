/* test_generate.c — the scenario generator: determinism, validity, what it promises. */
#include <stdlib.h>
#include <string.h>

#include "de_generate.h"
#include "de_plan.h"
#include "de_test.h"

static char *gen(int devices, int tasks, unsigned long seed)
{
    de_catalog *cat;
    de_err err;
    CU_ASSERT_FATAL(de_catalog_load(DE_DEFAULT_CATALOG, &cat, &err) == DE_OK);
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = devices;
    o.lc_tasks = tasks;
    o.seed = seed;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(de_generate(cat, &o, f, &err), DE_OK);
    fclose(f);
    de_catalog_destroy(cat);
    return buf;
}

static void test_deterministic(void)
{
    char *a = gen(30, 12, 5), *b = gen(30, 12, 5), *c = gen(30, 12, 6);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    free(a);
    free(b);
    free(c);
}

static void test_valid_and_as_asked(void)
{
    de_predictor pred = de_predictor_model();
    for (unsigned long seed = 1; seed <= 60; seed++) {
        int n = 1 + (int)(seed * 7 % 50), m = (int)(seed % 3 == 0 ? 0 : seed * 3 % 40);
        char *text = gen(n, m, seed);
        de_scenario *s;
        de_err err;
        int rc = de_test_load_text(text, &s, &err);
        if (rc)
            fprintf(stderr, "\n  seed %lu: %s\n", seed, err.msg);
        CU_ASSERT_FATAL(rc == DE_OK);
        CU_ASSERT_EQUAL(s->n_devices, n);
        CU_ASSERT_EQUAL(s->n_tasks, m);
        CU_ASSERT_EQUAL(s->n_jobs, 1);
        /* Every deadline is met with no training at all (with the margin). */
        de_state st;
        de_state_init(&st, s, 0);
        de_plan p;
        de_plan_init(&p);
        de_plan_evaluate(&p, &st, &pred, s->planner.safety_margin);
        for (int t = 0; t < p.n_tasks; t++)
            CU_ASSERT(p.tasks[t].latency_s <= p.tasks[t].limit_s);
        de_plan_free(&p);
        de_state_free(&st);
        de_scenario_destroy(s);
        free(text);
    }
}

static void test_bad_options(void)
{
    de_catalog *cat;
    de_err err;
    CU_ASSERT_FATAL(de_catalog_load(DE_DEFAULT_CATALOG, &cat, &err) == DE_OK);
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = 0;
    CU_ASSERT_EQUAL(de_generate(cat, &o, stdout, &err), DE_EINVAL);
    o.devices = 3;
    o.network = "no-such-net";
    CU_ASSERT_EQUAL(de_generate(cat, &o, stdout, &err), DE_EINVAL);
    DE_ASSERT_CONTAINS(err.msg, "no-such-net");
    de_catalog_destroy(cat);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"same seed, same bytes", test_deterministic},
        {"valid, sized as asked, deadlines reachable", test_valid_and_as_asked},
        {"bad options", test_bad_options},
        {NULL, NULL}};
    de_test_suite("generate", cases);
    return de_test_run();
}
