/* test_correct.c — the online correction of the models and the model error of a what-if
 * (core/de_correct.h).
 *
 * The estimator: step observations 30 % slower than the catalog give a step factor of
 * 1.3 (and nothing is written while the move is under the threshold); the factor an LC
 * observation implies is the one at which the model predicts the measured percentile;
 * a percentile over deadline x (1 - margin/2) is applied at once. The true world: a
 * scenario's model_error per device, per type and per link, with its drift. The
 * scenario keys: model_error entries name exactly one target, a link's error is its
 * bandwidth only, a `model` change cannot be a fault or an --inject. And the what-if of
 * the issue: with a model 30 % optimistic, a plan that the catalog says keeps its
 * deadlines misses them in sim without the correction, and keeps them with it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_correct.h"
#include "de_replan.h"
#include "de_sim.h"
#include "de_test.h"
#include "de_util.h"

/* Two emulated devices with an LC task each, deadlines that limit the batch; the true
 * world 30 % slower than the catalog in step and LC service (model_error). */
static const char *scenario_text(const char *planner_extra, int with_error)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "name = \"corr\";\n"
             "links = ( { name = \"lan-1g\"; bandwidth_mbps = 1000.0; latency_ms = 0.2; },\n"
             "          { name = \"wifi\"; bandwidth_mbps = 300.0; latency_ms = 2.0; } );\n"
             "devices = ( { name = \"edge-a\"; type = \"emu-cpu-100\"; link = \"lan-1g\"; },\n"
             "            { name = \"edge-b\"; type = \"emu-cpu-050\"; link = \"lan-1g\"; },\n"
             "            { name = \"edge-c\"; type = \"emu-cpu-025\"; link = \"wifi\"; } );\n"
             "lc_tasks = ( { name = \"cam-a\"; device = \"edge-a\"; model = \"edgenet-s\"; rate = 45.0; deadline_ms = 18.0; },\n"
             "             { name = \"cam-b\"; device = \"edge-b\"; model = \"edgenet-s\"; rate = 10.0; deadline_ms = 32.0; } );\n"
             "jobs = ( { name = \"u\"; network = \"edgenet-s\"; dataset_size = 288; epochs = 100; global_batch = 32;\n"
             "           checkpoint_interval = 20; checkpoint_cost_s = 0.02; } );\n"
             "planner = { policy = \"deep-edge\"; safety_margin = 0.1; %s };\n"
             "%s\n",
             planner_extra,
             with_error ? "model_error = ( { type = \"emu-cpu-100\"; step = 1.3; lc = 1.3; },\n"
                          "                { type = \"emu-cpu-050\"; step = 1.3; lc = 1.3; } );"
                        : "");
    return buf;
}

static de_scenario *load(const char *text)
{
    de_scenario *s = NULL;
    de_err err;
    int rc = de_scenario_load_text(text, "corr.cfg", de_test_src("models"), &s, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    return s;
}

static void test_step_factor(void)
{
    de_scenario *s = load(scenario_text("correction = true;", 0));
    de_state st;
    de_state_init(&st, s, 0);
    de_corrector c;
    de_correct_init(&c, s);
    de_predictor pred = de_predictor_model();
    int net = s->jobs[0].network;
    double p = pred.ops->step_time(pred.ctx, &st, 0, net, 16);
    int dev;
    char what[256];
    for (int k = 0; k < 10; k++)
        de_correct_step(&c, &st, &pred, net, 0, 16, 1.3 * p * (k % 2 ? 1.02 : 0.98));
    CU_ASSERT_EQUAL(de_correct_apply(&c, &st, &dev, what, sizeof what), 1);
    CU_ASSERT_DOUBLE_EQUAL(st.step_corr[0], 1.3, 0.01);
    CU_ASSERT_EQUAL(dev, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(what, "edge-a step x1.3"));
    /* the corrected model now predicts what was measured */
    CU_ASSERT_DOUBLE_EQUAL(pred.ops->step_time(pred.ctx, &st, 0, net, 16), 1.3 * p, 0.01 * p);
    /* the same again: under the threshold, nothing written */
    for (int k = 0; k < 5; k++)
        de_correct_step(&c, &st, &pred, net, 0, 16, 1.31 * p);
    CU_ASSERT_EQUAL(de_correct_apply(&c, &st, &dev, what, sizeof what), 0);
    /* disabled: no observation counts */
    de_corrector off;
    de_scenario *s2 = load(scenario_text("correction = false;", 0));
    de_state st2;
    de_state_init(&st2, s2, 0);
    de_correct_init(&off, s2);
    for (int k = 0; k < 10; k++)
        de_correct_step(&off, &st2, &pred, net, 0, 16, 2 * p);
    CU_ASSERT_EQUAL(de_correct_apply(&off, &st2, &dev, what, sizeof what), 0);
    CU_ASSERT_EQUAL(st2.step_corr[0], 1.0);
    de_correct_free(&off);
    de_state_free(&st2);
    de_scenario_destroy(s2);
    de_correct_free(&c);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_lc_factor(void)
{
    de_scenario *s = load(scenario_text("correction = true;", 0));
    de_state st;
    de_state_init(&st, s, 0);
    de_corrector c;
    de_correct_init(&c, s);
    de_predictor pred = de_predictor_model();
    int net = s->jobs[0].network, dev;
    char what[256];
    /* the percentile the model predicts for cam-a (not training) with its service 1.4 x */
    double lat[4];
    st.lc_corr[0] = 1.4;
    pred.ops->lc_latency(pred.ctx, &st, 0, net, 0, 0, lat);
    st.lc_corr[0] = 1.0;
    double measured = lat[0];
    /* three observations under the crossing threshold (margin 0: the deadline) imply 1.4 */
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(de_correct_window(&c, &st, &pred, NULL, net, 0, DE_CORRECT_MIN_REQUESTS, -1, measured, 0.0), 0);
    CU_ASSERT_EQUAL(de_correct_apply(&c, &st, &dev, what, sizeof what), 1);
    CU_ASSERT_DOUBLE_EQUAL(st.lc_corr[0], 1.4, 0.01);
    CU_ASSERT_EQUAL(dev, 0);
    /* too few requests: no observation */
    CU_ASSERT_EQUAL(de_correct_window(&c, &st, &pred, NULL, net, 1, DE_CORRECT_MIN_REQUESTS - 1, -1, 1.0, 0.1), 0);
    /* cam-b over deadline x (1 - margin/2) in one observation: applied at once */
    double dl = s->tasks[1].deadline_s;
    CU_ASSERT_EQUAL(de_correct_window(&c, &st, &pred, NULL, net, 1, DE_CORRECT_MIN_REQUESTS, -1, 0.97 * dl, 0.1), 1);
    CU_ASSERT_EQUAL(de_correct_apply(&c, &st, &dev, what, sizeof what), 1);
    CU_ASSERT_EQUAL(dev, 1);
    pred.ops->lc_latency(pred.ctx, &st, 1, net, 0, 0, lat);
    CU_ASSERT(lat[0] >= 0.97 * dl * 0.999);
    CU_ASSERT_EQUAL(c.warnings, 1);
    de_correct_free(&c);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void test_truth(void)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", scenario_text("", 0),
             "model_error = ( { device = \"edge-b\"; step = 1.5; lc = 2.0; drift_per_h = 1.0; },\n"
             "                { type = \"emu-cpu-100\"; step = 0.8; },\n"
             "                { link = \"wifi\"; bandwidth = 0.5; } );\n");
    de_scenario *s = load(text);
    de_state st;
    de_state_init(&st, s, 0);
    de_correct_truth(s, 0, &st);
    CU_ASSERT_DOUBLE_EQUAL(st.step_corr[0], 0.8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.lc_corr[0], 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.step_corr[1], 1.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.lc_corr[1], 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.step_corr[2], 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.link_corr[1], 0.5, 1e-12);
    de_correct_truth(s, 1800, &st); /* half an hour of a drift of 100 % per hour */
    CU_ASSERT_DOUBLE_EQUAL(st.step_corr[1], 1.5 * 1.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.lc_corr[1], 2.0 * 1.5, 1e-12);
    de_state_free(&st);
    de_scenario_destroy(s);
}

static void expect_error(const char *extra, const char *want)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", scenario_text("", 0), extra);
    de_scenario *s = NULL;
    de_err err;
    CU_ASSERT_NOT_EQUAL(de_scenario_load_text(text, "corr.cfg", de_test_src("models"), &s, &err), DE_OK);
    if (!strstr(err.msg, want))
        fprintf(stderr, "expected '%s' in: %s\n", want, err.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "corr.cfg:"));
}

static void test_keys(void)
{
    expect_error("model_error = ( { device = \"edge-a\"; type = \"emu-cpu-100\"; step = 1.2; } );",
                 "name exactly one of device, type or link");
    expect_error("model_error = ( { device = \"nope\"; step = 1.2; } );", "unknown device 'nope'");
    expect_error("model_error = ( { link = \"wifi\"; step = 1.2; } );", "bandwidth only");
    expect_error("model_error = ( { device = \"edge-a\"; bandwidth = 0.5; } );", "bandwidth is a link's");
    expect_error("model_error = ( { device = \"edge-a\"; step = 0.0; } );", "step");
    expect_error("faults = ( { kind = \"model\"; device = \"edge-a\"; time_s = 1.0; } );", "online correction");
    de_scenario *s = load(scenario_text("", 0));
    de_change c;
    de_err err;
    CU_ASSERT_NOT_EQUAL(de_change_parse_spec("model:edge-a@3", s, &c, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "online correction"));
    de_scenario_destroy(s);
}

/* The what-if: the catalog 30 % optimistic (step and LC service). cam-a serves 45
 * req/s, where queueing makes a 30 % service error a clear miss (p95 1.22 x the deadline
 * uncorrected, 0.89 corrected); at 25 req/s the refitted catalog's plan left cam-a at 0.994
 * of its deadline uncorrected, too near the line to tell a miss from noise. */
static void run_sim(int correction, de_sim_result *r)
{
    de_scenario *s = load(scenario_text("", 1));
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.window_s = 2;
    o.correction = correction;
    de_err err;
    int rc = de_sim_run(s, &o, r, &err);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    r->scen = NULL; /* s goes now */
    for (int t = 0; t < s->n_tasks; t++)
        r->tasks[t].mean_s = r->tasks[t].pct_s / s->tasks[t].deadline_s; /* kept: pct / deadline */
    de_scenario_destroy(s);
}

static void test_what_if(void)
{
    de_sim_result off, on;
    run_sim(0, &off);
    run_sim(1, &on);
    CU_ASSERT(off.jobs[0].finished && on.jobs[0].finished);
    int off_missed = 0, on_missed = 0;
    for (int t = 0; t < off.n_tasks; t++) {
        off_missed += off.tasks[t].mean_s > 1;
        on_missed += on.tasks[t].mean_s > 1;
        fprintf(stderr, "  task %d: percentile / deadline %.3f without the correction, %.3f with it\n", t,
                off.tasks[t].mean_s, on.tasks[t].mean_s);
    }
    CU_ASSERT(off_missed >= 1); /* the catalog's plan misses deadlines in the true world */
    CU_ASSERT_EQUAL(on_missed, 0); /* corrected, none */
    CU_ASSERT_EQUAL(off.corrections, 0);
    CU_ASSERT(on.corrections > 0);
    CU_ASSERT_DOUBLE_EQUAL(on.step_corr[0], 1.3, 0.1); /* what it learnt of the world */
    CU_ASSERT_DOUBLE_EQUAL(on.step_corr[1], 1.3, 0.1);
    de_sim_result_free(&off);
    de_sim_result_free(&on);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"step factor by least squares with forgetting, threshold", test_step_factor},
        {"LC factor from percentiles; a crossing applied at once", test_lc_factor},
        {"the true world of model_error, with drift", test_truth},
        {"model_error keys and the model change kind", test_keys},
        {"30 % optimistic catalog: misses without the correction, none with it", test_what_if},
        {NULL, NULL}};
    de_test_suite("correct", cases);
    return de_test_run();
}
