/* test_sim.c — the simulator against analytic results: M/M/1 latency, closed-form
 * re-training time, the work a crash loses; a golden event log; determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_generate.h"
#include "de_planner.h"
#include "de_sim.h"
#include "de_test.h"
#include "de_util.h"

static void run(const de_scenario *s, const de_sim_opts *o, de_sim_result *r)
{
    de_err err;
    int rc = de_sim_run(s, o, r, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == DE_OK);
}

/* The plan of job 0 that `policy` makes at time 0 (what the run starts with). */
static void plan_of(const de_scenario *s, de_policy policy, de_plan *p)
{
    de_state st;
    de_state_init(&st, s, 0);
    de_plan_init(p);
    de_predictor pred = de_predictor_model();
    de_err err;
    int rc = de_plan_compute(&st, 0, policy, &s->planner, &pred, p, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == DE_OK);
    de_state_free(&st);
}

static void test_mm1(void)
{
    /* rho = 50 x 0.01 = 0.5: mean sojourn s / (1 - rho) = 20 ms, p95 = -ln(0.05) x 20 ms. */
    de_scenario *s = de_test_scenario("tests/data/mm1.cfg");
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.until_s = 40000; /* ~2 M requests */
    o.window_s = 1000;
    de_sim_result r;
    run(s, &o, &r);
    const de_sim_task *t = &r.tasks[0];
    CU_ASSERT(t->requests > 1900000);
    double mean = 0.01 / 0.5, p95 = -log(0.05) * mean, p50 = -log(0.5) * mean;
    fprintf(stderr, "\n  M/M/1: mean %.5f (%.5f), p50 %.5f (%.5f), p95 %.5f (%.5f)\n", t->mean_s, mean, t->p50_s, p50,
            t->p95_s, p95);
    CU_ASSERT(fabs(t->mean_s / mean - 1) < 0.02);
    CU_ASSERT(fabs(t->p95_s / p95 - 1) < 0.02);
    CU_ASSERT(fabs(t->p50_s / p50 - 1) < 0.02);
    CU_ASSERT_EQUAL(r.jobs[0].iterations, 0); /* the job never arrived */
    de_sim_result_free(&r);
    de_scenario_destroy(s);
}

static void test_closed_form(void)
{
    /* Deterministic steps: the run ends at replan cost + n T + checkpoints x C, the
     * plan's own prediction plus the initial re-plan. */
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.step_cv = 0;
    de_sim_result r;
    run(s, &o, &r);
    de_plan p;
    plan_of(s, s->planner.policy, &p);
    const de_sim_job *J = &r.jobs[0];
    CU_ASSERT(J->finished);
    CU_ASSERT_EQUAL(J->iterations, p.iterations);
    CU_ASSERT_DOUBLE_EQUAL(J->end_s, s->planner.replan_cost_s + p.retraining_time_s, 1e-9 * J->end_s);
    CU_ASSERT_DOUBLE_EQUAL((J->compute_s + J->allreduce_s) / J->iterations, p.iteration_time_s, 1e-12);
    CU_ASSERT_EQUAL(J->lost_iterations, 0);
    de_plan_free(&p);
    de_sim_result_free(&r);
    de_scenario_destroy(s);
}

static void test_crash_loses_since_checkpoint(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny-crash.cfg");
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.step_cv = 0;
    /* Where will the crash at t = 3 s fall? The first plan's iterations, deterministic. */
    de_plan p;
    plan_of(s, s->planner.policy, &p);
    CU_ASSERT_FATAL(p.n_shares == 1 && p.shares[0].device == de_scenario_device(s, "f1"));
    const de_job *j = &s->jobs[0];
    double T = p.iteration_time_s, t = s->planner.replan_cost_s, crash = s->changes[0].time_s;
    long long done = 0, ckpt = 0;
    while (t + T <= crash) { /* iterations completed before the crash, checkpoints between */
        t += T;
        done++;
        if (done % j->checkpoint_interval == 0) {
            ckpt = done;
            t += j->checkpoint_cost_s;
        }
    }
    de_sim_result r;
    run(s, &o, &r);
    const de_sim_job *J = &r.jobs[0];
    CU_ASSERT(J->finished);
    CU_ASSERT_EQUAL(J->failures, 1);
    CU_ASSERT(done > ckpt); /* the crash does lose something here */
    CU_ASSERT_EQUAL(J->lost_iterations, done - ckpt);
    CU_ASSERT_EQUAL(J->samples_done, (double)j->dataset_size * j->epochs);
    /* redone iterations are counted: all of them plus the lost ones */
    CU_ASSERT_EQUAL(J->iterations, (long long)(j->dataset_size / j->global_batch) + (done - ckpt));
    CU_ASSERT(r.tasks[0].dropped > 0); /* the LC task of the crashed device lost requests */
    de_plan_free(&p);
    de_sim_result_free(&r);
    de_scenario_destroy(s);
}

static char *run_to_dir(const char *rel, unsigned long seed)
{
    de_scenario *s = de_test_scenario(rel);
    char tmpl[] = "/tmp/deepedge-sim-XXXXXX";
    char *dir = de_strdup(mkdtemp(tmpl));
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.seed = seed;
    o.out_dir = dir;
    o.window_s = 5;
    de_sim_result r;
    run(s, &o, &r);
    de_sim_result_free(&r);
    de_scenario_destroy(s);
    return dir;
}

static char *slurp(const char *dir, const char *name)
{
    char *p = de_path_join(dir, name);
    char *t = de_file_read(p, NULL);
    free(p);
    return t ? t : de_strdup("");
}

static void rmdir_all(char *dir)
{
    static const char *const files[] = {"events.csv", "iterations.csv", "timeline.csv", "lc_windows.csv", "lc_cdf.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = de_path_join(dir, files[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    free(dir);
}

/* A device whose step cannot end (its true LC load saturates it; the planner does not
 * know) is taken as lost after the stall timeout, as run does, and the job finishes
 * without it instead of waiting forever. */
static void test_stall_taken_as_lost(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny-stall.cfg");
    de_plan p;
    plan_of(s, s->planner.policy, &p);
    int f1 = de_scenario_device(s, "f1"), uses_f1 = 0;
    for (int i = 0; i < p.n_shares; i++)
        uses_f1 |= p.shares[i].device == f1;
    CU_ASSERT_FATAL(uses_f1); /* the believed world: f1 trains */
    de_plan_free(&p);
    char tmpl[] = "/tmp/deepedge-sim-XXXXXX";
    char *dir = de_strdup(mkdtemp(tmpl));
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.step_cv = 0;
    o.stall_timeout_s = 5;
    o.out_dir = dir;
    de_sim_result r;
    run(s, &o, &r);
    const de_sim_job *J = &r.jobs[0];
    CU_ASSERT(J->finished);
    CU_ASSERT_EQUAL(J->failures, 1);
    CU_ASSERT(J->start_s < 1.0 && J->end_s > 5.0); /* the stall cost the timeout */
    char *ev = slurp(dir, "events.csv");
    DE_ASSERT_CONTAINS(ev, ",stall,\"device=f1 cannot train next to its LC load");
    DE_ASSERT_CONTAINS(ev, "5.500000,change,\"device f1 crashes (stall)\"");
    DE_ASSERT_CONTAINS(ev, "action=restart from=0 plan=s1:16,s2:16");
    free(ev);
    de_sim_result_free(&r);
    de_scenario_destroy(s);
    rmdir_all(dir);
}

static void test_golden_log(void)
{
    char *dir = run_to_dir("tests/data/tiny-crash.cfg", 1);
    char *got = slurp(dir, "events.csv");
    char *want = de_file_read(de_test_src("tests/data/golden/tiny-crash-events.csv"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    int same = strcmp(got, want) == 0;
    if (!same) {
        fprintf(stderr, "\n  event log differs from tests/data/golden/tiny-crash-events.csv; got:\n%s\n", got);
    }
    CU_ASSERT(same);
    free(got);
    free(want);
    rmdir_all(dir);
}

static void test_determinism(void)
{
    static const char *const files[] = {"events.csv", "iterations.csv", "timeline.csv", "lc_windows.csv", "lc_cdf.csv"};
    char *a = run_to_dir("tests/data/tiny-crash.cfg", 7), *b = run_to_dir("tests/data/tiny-crash.cfg", 7),
         *c = run_to_dir("tests/data/tiny-crash.cfg", 8);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *x = slurp(a, files[i]), *y = slurp(b, files[i]);
        CU_ASSERT(strlen(x) > 20);
        CU_ASSERT_STRING_EQUAL(x, y);
        free(x);
        free(y);
    }
    char *x = slurp(a, "lc_windows.csv"), *z = slurp(c, "lc_windows.csv");
    CU_ASSERT_STRING_NOT_EQUAL(x, z); /* another seed draws other requests */
    free(x);
    free(z);
    rmdir_all(a);
    rmdir_all(b);
    rmdir_all(c);
}

static void test_job_queue(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny-queue.cfg");
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.step_cv = 0;
    de_sim_result r;
    run(s, &o, &r);
    const de_sim_job *a = &r.jobs[0], *b = &r.jobs[1];
    CU_ASSERT(a->finished && b->finished);
    CU_ASSERT(b->arrival_s < a->end_s);   /* it arrived while the first ran */
    CU_ASSERT(b->start_s >= a->end_s);    /* and waited for it */
    CU_ASSERT_EQUAL(a->iterations, 20);   /* 640 / 32 */
    CU_ASSERT_EQUAL(b->iterations, 20);   /* 320 / 16 */
    CU_ASSERT_DOUBLE_EQUAL(r.end_s, b->end_s, 1e-12); /* the run ends with the last job */
    de_sim_result_free(&r);
    de_scenario_destroy(s);
}

/* The planner's promise, checked by simulation: on random clusters, every LC task on
 * a device that deep-edge trains on stays within its deadline when every request is
 * simulated against the actual step timeline (the planner keeps a 10% margin). */
static void test_plans_hold_in_simulation(void)
{
    int checked = 0, over = 0;
    double worst = 0;
    for (unsigned long seed = 1; seed <= 40; seed++) {
        de_gen_opts g;
        de_gen_opts_default(&g);
        g.devices = 3 + (int)(seed % 8);
        g.lc_tasks = g.devices;
        g.seed = seed;
        de_scenario *s;
        de_err err;
        CU_ASSERT_FATAL(de_generate_load(DE_DEFAULT_CATALOG, &g, &s, &err) == DE_OK);
        de_plan p;
        plan_of(s, DE_POLICY_DEEP_EDGE, &p);
        de_sim_opts o;
        de_sim_opts_default(&o);
        o.until_s = 900;
        de_sim_result r;
        run(s, &o, &r);
        for (int t = 0; t < s->n_tasks; t++) {
            int training = 0;
            for (int i = 0; i < p.n_shares; i++)
                training |= p.shares[i].device == s->tasks[t].device;
            if (!training || r.tasks[t].requests < 1000)
                continue;
            double ratio = r.tasks[t].pct_s / s->tasks[t].deadline_s;
            checked++;
            over += ratio > 1;
            worst = fmax(worst, ratio);
        }
        de_sim_result_free(&r);
        de_plan_free(&p);
        de_scenario_destroy(s);
    }
    fprintf(stderr, "\n  %d LC tasks next to deep-edge training, %d over their deadline in simulation; worst %.2f of it\n",
            checked, over, worst);
    CU_ASSERT(checked >= 20);
    CU_ASSERT_EQUAL(over, 0);
}

static void test_bad_options(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_sim_opts o;
    de_sim_opts_default(&o);
    o.window_s = 0;
    de_sim_result r;
    de_err err;
    CU_ASSERT_EQUAL(de_sim_run(s, &o, &r, &err), DE_EINVAL);
    de_sim_opts_default(&o);
    o.out_dir = "/nonexistent/dir/x";
    CU_ASSERT_EQUAL(de_sim_run(s, &o, &r, &err), DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/dir/x");
    de_sim_result_free(&r);
    de_scenario_destroy(s);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) { /* regenerate after a reviewed change */
        de_scenario *s;
        de_err err;
        if (de_scenario_load(de_test_src("tests/data/tiny-crash.cfg"), NULL, &s, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        char tmpl[] = "/tmp/deepedge-sim-XXXXXX";
        char *dir = de_strdup(mkdtemp(tmpl));
        de_sim_opts o;
        de_sim_opts_default(&o);
        o.out_dir = dir;
        o.window_s = 5;
        de_sim_result r;
        int ok = de_sim_run(s, &o, &r, &err) == DE_OK;
        de_sim_result_free(&r);
        de_scenario_destroy(s);
        char *got = slurp(dir, "events.csv");
        FILE *f = fopen(argv[2], "w");
        ok = ok && f && fputs(got, f) >= 0 && fclose(f) == 0;
        free(got);
        rmdir_all(dir);
        return ok ? 0 : 1;
    }
    static const de_test_case cases[] = {
        {"M/M/1 latency within 2% of the formula", test_mm1},
        {"deterministic steps: closed-form re-training time", test_closed_form},
        {"a crash loses exactly the work since the last checkpoint", test_crash_loses_since_checkpoint},
        {"golden event log", test_golden_log},
        {"a step that cannot end is a loss after the stall timeout", test_stall_taken_as_lost},
        {"same seed same bytes, other seed other samples", test_determinism},
        {"jobs queue first come, first served", test_job_queue},
        {"deep-edge plans hold in simulation (random clusters)", test_plans_hold_in_simulation},
        {"bad options", test_bad_options},
        {NULL, NULL}};
    de_test_suite("sim", cases);
    return de_test_run();
}
