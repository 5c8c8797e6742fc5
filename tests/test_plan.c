/* test_plan.c — plan evaluation by hand, the plan file (round trip and errors), JSON. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_model.h"
#include "de_plan.h"
#include "de_planner.h"
#include "de_summary.h"
#include "de_test.h"
#include "de_util.h"

#define NEAR(a, b, rel) CU_ASSERT_DOUBLE_EQUAL((a), (b), (rel) * fabs(b) + 1e-15)

static void test_evaluate_by_hand(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_predictor pred = de_predictor_model();
    de_plan p;
    de_plan_init(&p);
    int devs[2] = {de_scenario_device(s, "s1"), de_scenario_device(s, "f1")}, b[2] = {8, 24};
    de_plan_set_shares(&p, devs, b, 2);
    de_plan_evaluate(&p, &st, &pred, 0.1);
    CU_ASSERT_EQUAL(p.n_shares, 2);
    CU_ASSERT_EQUAL(p.shares[0].device, de_scenario_device(s, "f1")); /* sorted by device */
    double tf = 0.034 * (1 + 0.1 / 0.9), T = 0.052 + 0.404;
    NEAR(p.shares[0].step_time_s, tf, 1e-12);
    NEAR(p.compute_time_s, 0.052, 1e-12);
    NEAR(p.allreduce_time_s, 0.404, 1e-12);
    NEAR(p.iteration_time_s, T, 1e-12);
    NEAR(p.shares[0].duty_cycle, tf / T, 1e-12);
    CU_ASSERT_EQUAL(p.iterations, 10);
    NEAR(p.retraining_time_s, 10 * T + 1 * 1.0, 1e-12); /* a checkpoint after iteration 5 (not after 10) */
    CU_ASSERT_EQUAL(p.n_tasks, 1);
    de_lc_class c = {10.0, 0.01, 1.0, 0.95};
    de_lc_training tr = {tf / T, tf, 1.0, 0.0, {0, 0}};
    double want;
    de_model_lc_latency_train(&c, 1, &tr, &want);
    NEAR(p.tasks[0].latency_s, want, 1e-12);
    NEAR(p.tasks[0].limit_s, 0.09, 1e-12);
    CU_ASSERT_EQUAL(p.violations, 0);
    CU_ASSERT(p.feasible);

    /* Progress: half the samples done leaves 5 iterations (no checkpoint between them
     * counts: the interval restarts from the job's iteration 5). */
    st.samples_done[0] = 160;
    de_plan_evaluate(&p, &st, &pred, 0.1);
    CU_ASSERT_EQUAL(p.iterations, 5);
    NEAR(p.retraining_time_s, 5 * T, 1e-12);

    /* A share that does not cover B is not feasible. */
    int one = 8;
    de_plan_set_shares(&p, devs, &one, 1);
    de_plan_evaluate(&p, &st, &pred, 0.1);
    CU_ASSERT(!p.feasible);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_violation_counted(void)
{
    /* Raise the camera's rate so that heavy training on f1 breaks its deadline. */
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    st.rate[0] = 60.0;
    de_predictor pred = de_predictor_model();
    de_plan p;
    de_plan_init(&p);
    int dev = de_scenario_device(s, "f1"), b = 32;
    de_plan_set_shares(&p, &dev, &b, 1);
    de_plan_evaluate(&p, &st, &pred, 0.1);
    CU_ASSERT_EQUAL(p.shares[0].duty_cycle, 1.0); /* one device: no all-reduce, always busy */
    CU_ASSERT_EQUAL(p.violations, 1);
    CU_ASSERT(p.tasks[0].violated);
    CU_ASSERT(p.tasks[0].slack_s < 0);
    CU_ASSERT(!p.feasible);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_file_round_trip(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_predictor pred = de_predictor_model();
    de_plan p, q;
    de_plan_init(&p);
    de_plan_init(&q);
    de_err err;
    CU_ASSERT_FATAL(de_plan_compute(&st, 0, DE_POLICY_DEEP_EDGE, &s->planner, &pred, &p, &err) == DE_OK);
    char *path = de_test_tmpfile("", ".plan");
    CU_ASSERT_FATAL(de_plan_write(&p, &st, path, &err) == DE_OK);
    int rc = de_plan_read(path, s, &q, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == DE_OK);
    de_plan_evaluate(&q, &st, &pred, s->planner.safety_margin);
    CU_ASSERT_EQUAL(q.policy, p.policy);
    CU_ASSERT_EQUAL(q.n_shares, p.n_shares);
    for (int i = 0; i < p.n_shares && i < q.n_shares; i++) {
        CU_ASSERT_EQUAL(q.shares[i].device, p.shares[i].device);
        CU_ASSERT_EQUAL(q.shares[i].batch, p.shares[i].batch);
    }
    CU_ASSERT_EQUAL(q.iteration_time_s, p.iteration_time_s);
    CU_ASSERT_EQUAL(q.retraining_time_s, p.retraining_time_s);
    CU_ASSERT_EQUAL(q.feasible, p.feasible);
    de_test_unlink(path);
    de_plan_free(&p);
    de_plan_free(&q);
    de_state_free(&st);
    de_scenario_destroy(s);
}

/* A plan file text for caltech-testbed with the given shares body and checksum. */
static char *plan_text(const de_scenario *s, const char *checksum, const char *job, const char *shares, int gb)
{
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)s->checksum);
    return de_sprintf("plan = {\n  version = 1;\n  scenario = \"x.cfg\";\n  scenario_name = \"x\";\n"
                      "  scenario_checksum = \"%s\";\n  job = \"%s\";\n  policy = \"deep-edge\";\n"
                      "  global_batch = %d;\n  shares = ( %s );\n};\n",
                      checksum ? checksum : sum, job, gb, shares);
}

static void expect_plan_error(const de_scenario *s, char *text, int code, const char *needle)
{
    char *path = de_test_tmpfile(text, ".plan");
    de_plan p;
    de_err err;
    de_err_clear(&err);
    int rc = de_plan_read(path, s, &p, &err);
    CU_ASSERT_EQUAL(rc, code);
    if (rc != code)
        fprintf(stderr, "\n  expected %d got %d: %s\n", code, rc, err.msg);
    DE_ASSERT_CONTAINS(err.msg, path);
    DE_ASSERT_CONTAINS(err.msg, needle);
    de_test_unlink(path);
    free(text);
}

static void test_file_errors(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    const char *ok = "{ device = \"gpu-box-1\"; batch = 64; }, { device = \"gpu-box-2\"; batch = 64; }";
    /* sanity: the good one reads */
    char *good = plan_text(s, NULL, "caltech256-ft", ok, 128);
    char *path = de_test_tmpfile(good, ".plan");
    de_plan p;
    de_err err;
    CU_ASSERT_EQUAL(de_plan_read(path, s, &p, &err), DE_OK);
    de_plan_free(&p);
    de_test_unlink(path);
    free(good);

    expect_plan_error(s, plan_text(s, "0000000000000000", "caltech256-ft", ok, 128), DE_EMISMATCH, "scenario_checksum");
    expect_plan_error(s, plan_text(s, NULL, "nope", ok, 128), DE_EMISMATCH, "plan.job");
    expect_plan_error(s, plan_text(s, NULL, "caltech256-ft", ok, 64), DE_EMISMATCH, "global_batch");
    expect_plan_error(s, plan_text(s, NULL, "caltech256-ft", "{ device = \"gpu-box-9\"; batch = 128; }", 128),
                      DE_EMISMATCH, "plan.shares.[0].device");
    expect_plan_error(s,
                      plan_text(s, NULL, "caltech256-ft",
                                "{ device = \"gpu-box-1\"; batch = 64; }, { device = \"gpu-box-1\"; batch = 64; }", 128),
                      DE_EDUP, "appears twice");
    expect_plan_error(s, plan_text(s, NULL, "caltech256-ft", "{ device = \"gpu-box-1\"; batch = 100; }", 128), DE_ERANGE,
                      "sum to 100");
    expect_plan_error(s, plan_text(s, NULL, "caltech256-ft", "{ device = \"gpu-box-1\"; batch = 0; }", 128), DE_ERANGE,
                      "batch");
    expect_plan_error(s, plan_text(s, NULL, "caltech256-ft", "{ device = \"gpu-box-1\"; batch = 128; size = 3; }", 128),
                      DE_EKEY, "size");
    expect_plan_error(s, de_sprintf("plan = { version = 2; };\n"), DE_EVERSION, "version");
    expect_plan_error(s, de_sprintf("plan = { version = 1;\n  job = ;\n};\n"), DE_ESYNTAX, ":2");
    /* a missing file */
    CU_ASSERT_EQUAL(de_plan_read("/nonexistent/plan.cfg", s, &p, &err), DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/plan.cfg");
    de_scenario_destroy(s);
}

/* text with the first `from` replaced by `to` (a copy; the same text when absent). */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (!at)
        return de_strdup(text);
    return de_sprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* Every truncation and every single flipped bit of a plan file written by `plan -o` is
 * refused with a message naming the file, or read as the very same plan: a flip in a
 * comment, in whitespace or in the informational keys changes nothing, and the checksum
 * catches any change to what decides the plan (job, policy, shares) that parses. */
static void test_every_damage(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_predictor pred = de_predictor_model();
    de_plan p, q;
    de_plan_init(&p);
    de_err err;
    CU_ASSERT_FATAL(de_plan_compute(&st, 0, DE_POLICY_DEEP_EDGE, &s->planner, &pred, &p, &err) == DE_OK);
    char *good = de_test_tmpfile("", ".plan"), *bad = de_test_tmpfile("", ".plan");
    CU_ASSERT_FATAL(de_plan_write(&p, &st, good, &err) == DE_OK);
    size_t len;
    char *bytes = de_file_read(good, &len);
    CU_ASSERT_FATAL(bytes != NULL);
    int changed = 0, unnamed = 0, refused = 0, tried = 0;
    for (size_t i = 0; i <= 8 * len; i++) {
        FILE *f = fopen(bad, "wb");
        if (i < len) { /* truncated to i bytes */
            fwrite(bytes, 1, i, f);
        } else { /* one bit flipped */
            size_t k = (i - len) / 8;
            if (k >= len)
                break;
            bytes[k] ^= (char)(1 << ((i - len) % 8));
            fwrite(bytes, 1, len, f);
            bytes[k] ^= (char)(1 << ((i - len) % 8));
        }
        fclose(f);
        tried++;
        if (de_plan_read(bad, s, &q, &err) != DE_OK) {
            refused++;
            unnamed += strstr(err.msg, bad) == NULL;
            continue;
        }
        int same = q.job == p.job && q.policy == p.policy && q.global_batch == p.global_batch && q.n_shares == p.n_shares;
        for (int j = 0; same && j < p.n_shares; j++)
            same = q.shares[j].device == p.shares[j].device && q.shares[j].batch == p.shares[j].batch;
        changed += !same;
        de_plan_free(&q);
    }
    CU_ASSERT(tried > 8 * 500);
    CU_ASSERT(refused > tried / 2);
    CU_ASSERT_EQUAL(changed, 0);
    CU_ASSERT_EQUAL(unnamed, 0);

    /* Changes that parse and pass every other check are caught by the checksum: two batches
     * moved together (the sum kept), a device swapped for one outside the plan, another
     * policy. With the checksum line deleted, an edit is taken as written. */
    CU_ASSERT_FATAL(p.n_shares >= 2);
    char from[64], to[64], *edited;
    int outside = -1;
    for (int d = 0; d < s->n_devices && outside < 0; d++) {
        int used = 0;
        for (int j = 0; j < p.n_shares; j++)
            used |= p.shares[j].device == d;
        outside = used ? -1 : d;
    }
    CU_ASSERT_FATAL(outside >= 0);
    for (int k = 0; k < 3; k++) {
        if (k == 0) {
            snprintf(from, sizeof from, "batch = %d;", p.shares[0].batch);
            snprintf(to, sizeof to, "batch = %d;", p.shares[0].batch + 1);
            char *once = replace_once(bytes, from, to);
            snprintf(from, sizeof from, "batch = %d;", p.shares[1].batch);
            snprintf(to, sizeof to, "batch = %d;", p.shares[1].batch - 1);
            edited = replace_once(once, from, to);
            free(once);
        } else if (k == 1) {
            snprintf(from, sizeof from, "\"%s\"", s->devices[p.shares[p.n_shares - 1].device].name);
            snprintf(to, sizeof to, "\"%s\"", s->devices[outside].name);
            edited = replace_once(bytes, from, to);
        } else {
            edited = replace_once(bytes, "\"deep-edge\"", "\"proportional\"");
        }
        CU_ASSERT_FATAL(strcmp(edited, bytes) != 0);
        FILE *f = fopen(bad, "wb");
        fputs(edited, f);
        fclose(f);
        CU_ASSERT_EQUAL(de_plan_read(bad, s, &q, &err), DE_EIO);
        DE_ASSERT_CONTAINS(err.msg, "plan.checksum");
        DE_ASSERT_CONTAINS(err.msg, "edited by hand");
        if (k == 0) { /* the same edit without the checksum line: taken as written */
            char *line = strstr(edited, "  checksum = "), *end = line ? strchr(line, '\n') : NULL;
            CU_ASSERT_FATAL(end != NULL);
            memmove(line, end + 1, strlen(end + 1) + 1);
            f = fopen(bad, "wb");
            fputs(edited, f);
            fclose(f);
            CU_ASSERT_EQUAL_FATAL(de_plan_read(bad, s, &q, &err), DE_OK);
            CU_ASSERT_EQUAL(q.shares[0].batch, p.shares[0].batch + 1);
            CU_ASSERT_EQUAL(q.shares[1].batch, p.shares[1].batch - 1);
            de_plan_free(&q);
        }
        free(edited);
    }
    free(bytes);
    de_test_unlink(good);
    de_test_unlink(bad);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_json_fields(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_predictor pred = de_predictor_model();
    de_plan p;
    de_plan_init(&p);
    de_err err;
    CU_ASSERT_FATAL(de_plan_compute(&st, 0, DE_POLICY_ALL_UNIFORM, &s->planner, &pred, &p, &err) == DE_OK);
    cJSON *o = de_summary_of_plan(&p, &st);
    const char *keys[] = {"schema_version", "command", "scenario", "policy", "verdict", "jobs", "lc_tasks", "devices",
                          "decisions"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItemCaseSensitive(o, keys[i]));
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "schema_version")->valueint, DE_SUMMARY_VERSION);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "command")->valuestring, "plan");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "policy")->valuestring, "all-uniform");
    cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "jobs"), 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(job, "status")->valuestring, "planned");
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(job, "iterations_done"))); /* a plan measures nothing */
    cJSON *plan = cJSON_GetObjectItem(job, "plan");
    const char *pkeys[] = {"policy", "feasible", "shares", "iteration_time_s", "retraining_time_s",
                           "lc_tasks_over_deadline", "lc_tasks_over_margin", "verdict"};
    for (size_t i = 0; i < sizeof pkeys / sizeof *pkeys; i++)
        CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItemCaseSensitive(plan, pkeys[i]));
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(plan, "lc_tasks_over_deadline")->valueint, p.violations);
    /* LC-oblivious: its violations make the verdict not ok, and say which tasks */
    cJSON *verdict = cJSON_GetObjectItem(o, "verdict");
    CU_ASSERT_EQUAL(cJSON_IsTrue(cJSON_GetObjectItem(verdict, "ok")), p.feasible);
    cJSON *devs = cJSON_GetObjectItem(plan, "shares");
    int sum = 0;
    cJSON *d;
    cJSON_ArrayForEach(d, devs)
    {
        CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(d, "device"));
        CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(d, "step_time_s"));
        CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(d, "duty_cycle"));
        sum += cJSON_GetObjectItem(d, "batch")->valueint;
    }
    CU_ASSERT_EQUAL(sum, cJSON_GetObjectItem(job, "global_batch")->valueint);
    int over = 0; /* the tasks say the same as the plan */
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(o, "lc_tasks"))
        over += !cJSON_IsTrue(cJSON_GetObjectItem(d, "deadline_met"));
    CU_ASSERT_EQUAL(over, p.violations);
    cJSON_Delete(o);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"evaluation by hand", test_evaluate_by_hand},
        {"violations are counted", test_violation_counted},
        {"plan file round trip", test_file_round_trip},
        {"plan file errors", test_file_errors},
        {"every truncation and flipped bit of a plan file: refused or the same plan", test_every_damage},
        {"JSON summary fields", test_json_fields},
        {NULL, NULL}};
    de_test_suite("plan", cases);
    return de_test_run();
}
