/* test_probe.c — the profiler's pieces (exec/de_probe.h): statistics, option lists,
 * emulated device names, CSV rows that the trace loaders (de_profile) read back
 * exactly, CPU budgets, and two small real measurements in child processes (step
 * times under a duty-cycle budget; an LC cell with a co-located trainer). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_prng.h"
#include "de_probe.h"
#include "de_profile.h"
#include "de_test.h"

static void test_stats(void)
{
    double a[] = {3, 1, 2};
    CU_ASSERT_DOUBLE_EQUAL(de_probe_median(a, 3), 2, 1e-12);
    double b[] = {4, 1, 3, 2};
    CU_ASSERT_DOUBLE_EQUAL(de_probe_median(b, 4), 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_quantile(b, 4, 0.25), 1.75, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_quantile(b, 4, 0.0), 1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_quantile(b, 4, 1.0), 4, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_quantile(b, 4, 0.95), 3.85, 1e-12);
    double c[] = {5, 4, 3, 2, 1};
    CU_ASSERT_DOUBLE_EQUAL(de_probe_robust_sd(c, 5), 2 / 1.349, 1e-12);
    double one[] = {7};
    CU_ASSERT_DOUBLE_EQUAL(de_probe_median(one, 1), 7, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_robust_sd(one, 1), 0, 0);
    CU_ASSERT(isnan(de_probe_median(one, 0)));
    /* The latency trend of an LC window: slope of y over t. */
    double tt[] = {0, 1, 2, 3, 4}, yy[] = {1, 3.1, 4.9, 7, 9}, flat[] = {2, 2, 2, 2, 2}, noisy[] = {1, 9, 2, 8, 3};
    double ts;
    CU_ASSERT_DOUBLE_EQUAL(de_probe_drift(tt, yy, 5, &ts), 1.99, 1e-12);
    CU_ASSERT(ts > 20);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_drift(tt, flat, 5, &ts), 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(ts, 0, 0);
    de_probe_drift(tt, noisy, 5, &ts); /* a slope the noise explains */
    CU_ASSERT(fabs(ts) < 1);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_drift(tt, yy, 2, &ts), 0, 0);
    /* A large normal sample: the robust sd is the sd. */
    int n = 20001;
    double *v = malloc((size_t)n * sizeof(double));
    uint64_t r = de_prng_seed(11, 0);
    for (int i = 0; i < n; i++)
        v[i] = 3.0 + 0.5 * de_prng_normal(&r);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_robust_sd(v, n), 0.5, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_median(v, n), 3.0, 0.02);
    free(v);
}

static void test_names_lists(void)
{
    char buf[32];
    de_probe_emu_name(1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "emu-cpu-100");
    de_probe_emu_name(0.5, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "emu-cpu-050");
    de_probe_emu_name(0.25, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "emu-cpu-025");

    double v[4];
    int n;
    de_err err;
    CU_ASSERT_EQUAL(de_probe_parse_list("--cpu", "1,0.5,0.25", 0.01, 1, 0, v, 4, &n, &err), DE_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_DOUBLE_EQUAL(v[2], 0.25, 0);
    static const struct {
        const char *s, *msg;
        int integer;
    } bad[] = {
        {"", "--x: empty list", 0},          {"1,,2", "empty item", 0},
        {"1,abc", "'abc' is not a number", 0}, {"0", "0 is out of range", 0},
        {"1.5", "'1.5' is not an integer", 1}, {"1,1", "1 is listed twice", 0},
        {"1,2,3,4,5", "more than 4 values", 1}, {"2,", "empty item", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        de_err_clear(&err);
        CU_ASSERT_NOT_EQUAL(de_probe_parse_list("--x", bad[i].s, 0.01, 10, bad[i].integer, v, 4, &n, &err), DE_OK);
        DE_ASSERT_CONTAINS(err.msg, "--x");
        DE_ASSERT_CONTAINS(err.msg, bad[i].msg);
    }
}

/* Rows written by de_probe_*_row load back with de_profile_load, cell for cell. */
static void test_csv_roundtrip(void)
{
    const char *src = "measured: deepedge profile --cpu 1,0.5, 2026-11-27 (a \"quoted\" note)";
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    de_probe_step_header(f);
    de_probe_step_row(f, "emu-cpu-050", "edgenet-s", 4, 0.0612345, 0.0012, src);
    de_probe_step_row(f, "emu-cpu-050", "edgenet-s", 8, 0.121, 0.002, src);
    fclose(f);
    char *path = de_test_tmpfile(buf, ".csv");
    free(buf);
    de_profile *p;
    de_err err;
    int rc = de_profile_load(path, DE_PROFILE_STEP, &p, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(p->n, 2);
    CU_ASSERT_STRING_EQUAL(p->rows[0].group, "emu-cpu-050");
    CU_ASSERT_STRING_EQUAL(p->rows[0].entry, "edgenet-s");
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[0], 4, 0);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].y, 0.0612345, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[1].sd, 0.002, 1e-9);
    CU_ASSERT_STRING_EQUAL(p->rows[1].source, src);
    de_profile_destroy(p);
    de_test_unlink(path);

    f = open_memstream(&buf, &len);
    de_probe_lc_header(f);
    de_probe_lc_row(f, "emu-cpu-025", "edgenet-s", 10, 95, 0.0231, NULL, 0, 0, src);
    de_probe_lc_row(f, "emu-cpu-025", "edgenet-s", 30, 50, 0.0102, "edgenet-s", 16, 0.5, src);
    fclose(f);
    path = de_test_tmpfile(buf, ".csv");
    free(buf);
    rc = de_profile_load(path, DE_PROFILE_LC, &p, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(p->n, 2);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[0], 10, 0);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[1], 0.95, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[3], 0, 0);
    CU_ASSERT_STRING_EQUAL(p->rows[0].train_network, "");
    CU_ASSERT_STRING_EQUAL(p->rows[1].train_network, "edgenet-s");
    CU_ASSERT_DOUBLE_EQUAL(p->rows[1].x[2], 16, 0);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[1].x[3], 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[1].y, 0.0102, 1e-9);
    de_profile_destroy(p);
    de_test_unlink(path);

    f = open_memstream(&buf, &len);
    de_probe_allreduce_header(f);
    de_probe_allreduce_row(f, "host-shm", 3, 8388608, 0.0123, 0.0004, src);
    fclose(f);
    path = de_test_tmpfile(buf, ".csv");
    free(buf);
    rc = de_profile_load(path, DE_PROFILE_ALLREDUCE, &p, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(p->n, 1);
    CU_ASSERT_STRING_EQUAL(p->rows[0].group, "host-shm");
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[0], 8388608, 0);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[1], 3, 0);
    de_profile_destroy(p);
    de_test_unlink(path);
}

static void test_budgets(void)
{
    de_probe_budget b;
    de_err err;
    char note[1200];
    CU_ASSERT_NOT_EQUAL(de_probe_budget_open("t", "emu-cpu-050", 0.5, "magic", &b, note, sizeof note, &err), DE_OK);
    DE_ASSERT_CONTAINS(err.msg, "--emulate: 'magic'");
    CU_ASSERT_EQUAL(de_probe_budget_open("t", "emu-cpu-050", 0.5, "duty", &b, note, sizeof note, &err), DE_OK);
    CU_ASSERT_EQUAL(b.mode, DE_BUDGET_DUTY);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_budget_throttle(&b), 0.5, 0);
    de_probe_budget_close(&b);
    CU_ASSERT_EQUAL(de_probe_budget_open("t", "x", 0, "auto", &b, note, sizeof note, &err), DE_OK);
    CU_ASSERT_EQUAL(b.mode, DE_BUDGET_NONE);
    CU_ASSERT_DOUBLE_EQUAL(de_probe_budget_throttle(&b), 0, 0);
    /* No writable cgroup: auto falls back to duty cycle and says why; cgroup is an error. */
    setenv("DEEPEDGE_CGROUP_ROOT", "/nonexistent/deepedge-test", 1);
    CU_ASSERT_EQUAL(de_probe_budget_open("t", "emu-cpu-025", 0.25, "auto", &b, note, sizeof note, &err), DE_OK);
    CU_ASSERT_EQUAL(b.mode, DE_BUDGET_DUTY);
    CU_ASSERT_PTR_NULL(b.cgroup);
    DE_ASSERT_CONTAINS(note, "duty-cycle throttling instead");
    de_probe_budget_close(&b);
    CU_ASSERT_NOT_EQUAL(de_probe_budget_open("t", "emu-cpu-025", 0.25, "cgroup", &b, note, sizeof note, &err), DE_OK);
    DE_ASSERT_CONTAINS(err.msg, "--emulate cgroup");
    unsetenv("DEEPEDGE_CGROUP_ROOT");
}

/* Step times in a child: positive, and a 0.25-core duty-cycle budget is about 4x slower. */
static void test_steps(void)
{
    int batches[] = {1, 2};
    de_probe_step_opts o = {"edgenet-s", 1, batches, 2, 3, 1, 1};
    de_probe_budget none = {0, DE_BUDGET_NONE, NULL}, quarter = {0.25, DE_BUDGET_DUTY, NULL};
    double m1[2], s1[2], m2[2], s2[2];
    de_err err;
    int rc = de_probe_steps(&o, &none, m1, s1, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT(m1[0] > 0 && m1[1] > 0 && s1[0] >= 0);
    rc = de_probe_steps(&o, &quarter, m2, s2, &err);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    fprintf(stderr, "\n  step batch 1/2: %.2f/%.2f ms alone, %.2f/%.2f ms at 0.25 core (duty cycle)\n", m1[0] * 1e3,
            m1[1] * 1e3, m2[0] * 1e3, m2[1] * 1e3);
    /* about 4x on an idle host; on a loaded one the unthrottled step slows too (2.4x was
     * seen with other test runs going on): 2x still tells a throttled step from a free one */
    CU_ASSERT(m2[1] > 2.0 * m1[1]);
    /* A network that does not exist: the child's error comes back. */
    de_probe_step_opts bad = o;
    bad.network = "no-such-net";
    CU_ASSERT_NOT_EQUAL(de_probe_steps(&bad, &none, m1, s1, &err), DE_OK);
    DE_ASSERT_CONTAINS(err.msg, "no-such-net");
}

/* An LC cell next to a trainer at duty 0.5: requests served, ordered percentiles, the
 * trainer near its duty cycle, and no child left behind. */
static void test_lc_cell(void)
{
    double pct[] = {50, 95};
    de_probe_lc_opts o = {"edgenet-s", 1, 40, 0.6, 0.1, pct, 2, "edgenet-s", 2, 0.5, 3};
    de_probe_budget none = {0, DE_BUDGET_NONE, NULL};
    de_probe_lc_result r;
    de_err err;
    int rc = de_probe_lc(&o, &none, &r, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    fprintf(stderr, "  lc: %ld requests, p50 %.2f ms, p95 %.2f ms, service %.2f ms; trainer duty %.2f, %ld steps\n",
            r.requests, r.latency_s[0] * 1e3, r.latency_s[1] * 1e3, r.service_s * 1e3, r.train_duty, r.train_steps);
    CU_ASSERT(r.requests > 3);
    CU_ASSERT(r.latency_s[0] > 0 && r.latency_s[0] <= r.latency_s[1]);
    CU_ASSERT(r.service_s > 0);
    CU_ASSERT(r.train_steps >= 1);
    CU_ASSERT(r.train_duty > 0.2 && r.train_duty < 0.8);
    /* Bad cells are refused before anything starts. */
    de_probe_lc_opts bad = o;
    bad.rate = 0;
    CU_ASSERT_NOT_EQUAL(de_probe_lc(&bad, &none, &r, &err), DE_OK);
    bad = o;
    bad.train_batch = 0;
    CU_ASSERT_NOT_EQUAL(de_probe_lc(&bad, &none, &r, &err), DE_OK);
}

int main(void)
{
    static const de_test_case tests[] = {
        {"statistics: quantiles, median, robust sd", test_stats},
        {"emulated device names and option lists", test_names_lists},
        {"step / lc / allreduce rows load back with de_profile", test_csv_roundtrip},
        {"CPU budgets: modes, fallback, errors", test_budgets},
        {"step times in a child, duty-cycle budget", test_steps},
        {"LC cell with a co-located trainer", test_lc_cell},
        {NULL, NULL},
    };
    de_test_suite("probe", tests);
    return de_test_run();
}
