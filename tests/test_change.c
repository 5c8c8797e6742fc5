/* test_change.c — core's changes of the world and the re-plan rule (core/de_change.h,
 * core/de_replan.h): the kinds table, the --inject syntax, applying a change to the state,
 * and every branch of the rule on a cluster whose numbers are known (tests/data/tiny*.cfg:
 * f1 fast with an LC task, s1 and s2 slow). The same rule in sim and run is checked end to
 * end by tests/decisions_test.sh. */
#include <math.h>
#include <string.h>

#include "de_planner.h"
#include "de_replan.h"
#include "de_test.h"

static void test_kinds(void)
{
    de_change_kind k;
    for (int i = 0; i < DE_CHANGE_COUNT; i++) { /* every name parses back to its kind */
        CU_ASSERT_EQUAL(de_change_kind_parse(de_change_kind_name((de_change_kind)i), &k), DE_OK);
        CU_ASSERT_EQUAL((int)k, i);
        DE_ASSERT_CONTAINS(de_change_kind_list(), de_change_kind_name((de_change_kind)i));
    }
    CU_ASSERT_EQUAL(de_change_kind_parse("explode", &k), DE_ERANGE);
    CU_ASSERT_EQUAL(de_change_target_kind(DE_CHANGE_LC_RATE), DE_TARGET_TASK);
    CU_ASSERT_EQUAL(de_change_value_kind(DE_CHANGE_SLOWDOWN), DE_VALUE_FACTOR);
    CU_ASSERT(de_change_repairable(DE_CHANGE_CRASH));
    CU_ASSERT(!de_change_repairable(DE_CHANGE_LC_RATE));
}

static void test_spec_ok(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_change c;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("crash:s1@50", s, &c, &err), DE_OK);
    CU_ASSERT_EQUAL(c.kind, DE_CHANGE_CRASH);
    CU_ASSERT_EQUAL(c.target, de_scenario_device(s, "s1"));
    CU_ASSERT_EQUAL(c.iteration, 50);
    CU_ASSERT(isnan(c.time_s));
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("lc-rate:cam=120.5@12.5s", s, &c, &err), DE_OK);
    CU_ASSERT_EQUAL(c.kind, DE_CHANGE_LC_RATE);
    CU_ASSERT_DOUBLE_EQUAL(c.value, 120.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.time_s, 12.5, 1e-12);
    CU_ASSERT_EQUAL(c.iteration, -1);
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("lc-rate:cam=0@0", s, &c, &err), DE_OK); /* silence a task */
    CU_ASSERT_EQUAL(c.value, 0);
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("link:lan*0.05@30", s, &c, &err), DE_OK); /* the old name */
    CU_ASSERT_EQUAL(c.kind, DE_CHANGE_LINK_DEGRADE);
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("slowdown:f1*0.5@3", s, &c, &err), DE_OK);
    CU_ASSERT_EQUAL(c.kind, DE_CHANGE_SLOWDOWN);
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("repair:f1@9", s, &c, &err), DE_OK);
    CU_ASSERT_EQUAL(c.kind, DE_CHANGE_REPAIR);
    CU_ASSERT_EQUAL_FATAL(de_change_parse_spec("job-arrival:j@0s", s, &c, &err), DE_OK);
    CU_ASSERT_EQUAL(c.target, 0);
    de_scenario_destroy(s);
}

static void test_spec_errors(void)
{
    static const struct {
        const char *text, *msg;
        int code;
    } bad[] = {
        {"crash:s1", "KIND:TARGET@ITERATION", DE_EINVAL}, /* no trigger */
        {"s1@3", "KIND:TARGET@ITERATION", DE_EINVAL},     /* no kind */
        {"crash:s1@-1", "not an iteration", DE_EINVAL},
        {"crash:s1@3x", "not an iteration", DE_EINVAL},
        {"crash:s1@-2s", "not a time", DE_EINVAL},
        {"crash:@3", "missing device name", DE_EINVAL},
        {"boom:s1@3", "unknown kind 'boom'", DE_EINVAL},
        {"lc-rate:cam@3", "=RATE", DE_EINVAL},
        {"lc-rate:cam=@3", "missing value", DE_EINVAL},
        {"lc-rate:cam=-2@3", "not a rate >= 0", DE_EINVAL},
        {"link:lan*0@3", "not a factor in [0.001, 1]", DE_EINVAL},
        {"slowdown:f1*1.5@3", "not a factor in [0.001, 1]", DE_EINVAL},
        {"link:lan=0.5@3", "*FACTOR", DE_EINVAL},
        {"crash:nope@3", "device 'nope'", DE_EREF},
        {"lc-rate:f1=3@3", "LC task 'f1'", DE_EREF},
    };
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        de_change c;
        de_err err;
        de_err_clear(&err);
        CU_ASSERT_EQUAL(de_change_parse_spec(bad[i].text, s, &c, &err), bad[i].code);
        DE_ASSERT_CONTAINS(err.msg, bad[i].msg);
        DE_ASSERT_CONTAINS(err.msg, bad[i].text); /* the option's value is quoted */
    }
    de_scenario_destroy(s);
}

static void test_apply(void)
{
    de_scenario *s = de_test_scenario("tests/data/tiny.cfg");
    de_state st;
    de_state_init(&st, s, 0);
    de_change c;
    de_change_init(&c, DE_CHANGE_CRASH, 1, 0, "test");
    CU_ASSERT_EQUAL(de_change_apply(&st, &c), 1);
    CU_ASSERT_EQUAL(st.up[1], 0);
    CU_ASSERT_EQUAL(de_change_apply(&st, &c), 0); /* already down: nothing changes */
    de_change_init(&c, DE_CHANGE_REPAIR, 1, 0, "test");
    CU_ASSERT_EQUAL(de_change_apply(&st, &c), 1);
    CU_ASSERT_EQUAL(st.up[1], 1);
    de_change_init(&c, DE_CHANGE_SLOWDOWN, 0, 0.25, "test");
    de_change_apply(&st, &c);
    CU_ASSERT_EQUAL(st.speed[0], 0.25);
    de_change r = de_change_repair_of(&(de_change){.kind = DE_CHANGE_SLOWDOWN, .target = 0, .value = 0.25,
                                                   .time_s = 3, .iteration = -1},
                                      7, 10);
    CU_ASSERT_EQUAL(r.kind, DE_CHANGE_SLOWDOWN);
    CU_ASSERT_EQUAL(r.value, 1.0); /* a slowdown ends at full speed */
    CU_ASSERT_EQUAL(r.time_s, 13);
    CU_ASSERT_EQUAL(r.ends, 7);
    de_change_init(&c, DE_CHANGE_LINK_DEGRADE, 0, 0.5, "test");
    de_change_apply(&st, &c);
    CU_ASSERT_EQUAL(st.link_factor[0], 0.5);
    de_change_init(&c, DE_CHANGE_LC_RATE, 0, 42, "test");
    de_change_apply(&st, &c);
    CU_ASSERT_EQUAL(st.rate[0], 42);
    de_change_init(&c, DE_CHANGE_JOB_ARRIVAL, 0, 0, "test");
    CU_ASSERT_EQUAL(de_change_apply(&st, &c), 0); /* the driver queues the job */
    de_state_free(&st);
    de_scenario_destroy(s);
}

/* A world to decide in: tiny-crash.cfg (100 iterations of 32, a checkpoint every 20). */
typedef struct world {
    de_scenario *s;
    de_state st;
    de_predictor pred;
    de_plan running;
    de_decision d;
} world;

static void world_init(world *w)
{
    w->s = de_test_scenario("tests/data/tiny-crash.cfg");
    de_state_init(&w->st, w->s, 0);
    w->pred = de_predictor_model();
    de_plan_init(&w->running);
    de_decision_init(&w->d);
}

static void world_free(world *w)
{
    de_decision_free(&w->d);
    de_plan_free(&w->running);
    de_state_free(&w->st);
    de_scenario_destroy(w->s);
}

static de_action decide(world *w, de_change_kind kind, const char *target, double value, long it, long ckpt)
{
    de_change c;
    de_change_init(&c, kind, target ? de_scenario_device(w->s, target) : 0, value, "test");
    if (kind == DE_CHANGE_LC_RATE)
        c.target = 0;
    de_change_apply(&w->st, &c);
    de_replan_view v = {0, w->running.n_shares ? &w->running : NULL, NULL, it, ckpt};
    de_err err;
    CU_ASSERT_EQUAL_FATAL(
        de_replan_decide(&w->st, &c, &v, DE_POLICY_DEEP_EDGE, &w->s->planner, &w->pred, &w->d, &err), DE_OK);
    return w->d.action;
}

static int uses(const de_plan *p, const de_scenario *s, const char *dev)
{
    for (int i = 0; i < p->n_shares; i++)
        if (p->shares[i].device == de_scenario_device(s, dev))
            return 1;
    return 0;
}

static void test_rule(void)
{
    world w;
    world_init(&w);
    de_err err;
    /* a job asking to start gets its first plan: all of B on f1 */
    de_replan_view v0 = {0, NULL, NULL, 0, 0};
    CU_ASSERT_EQUAL_FATAL(de_replan_decide(&w.st, NULL, &v0, DE_POLICY_DEEP_EDGE, &w.s->planner, &w.pred, &w.d, &err),
                          DE_OK);
    CU_ASSERT_EQUAL(w.d.action, DE_ACTION_START);
    CU_ASSERT_FATAL(w.d.plan.n_shares == 1 && uses(&w.d.plan, w.s, "f1"));
    de_plan_copy(&w.running, &w.d.plan);
    /* a device the plan does not use goes: keep */
    CU_ASSERT_EQUAL(decide(&w, DE_CHANGE_CRASH, "s2", 0, 30, 20), DE_ACTION_KEEP);
    CU_ASSERT_EQUAL(w.d.lost, 0);
    CU_ASSERT_EQUAL(decide(&w, DE_CHANGE_REPAIR, "s2", 0, 31, 20), DE_ACTION_KEEP);
    /* f1 crashes at iteration 33: a loss, back to the checkpoint at 20, on s1 + s2 */
    CU_ASSERT_EQUAL(decide(&w, DE_CHANGE_CRASH, "f1", 0, 33, 20), DE_ACTION_RESTART);
    CU_ASSERT(w.d.lost);
    CU_ASSERT_EQUAL(w.d.iteration, 33);
    CU_ASSERT_EQUAL(w.d.from_iteration, 20);
    CU_ASSERT(uses(&w.d.plan, w.s, "s1") && uses(&w.d.plan, w.s, "s2") && !uses(&w.d.plan, w.s, "f1"));
    CU_ASSERT_EQUAL(w.d.plan.iterations, 80); /* what is left from the checkpoint */
    double cost = w.s->planner.replan_cost_s + w.s->jobs[0].checkpoint_cost_s; /* restart_cost_s -1: checkpoint's */
    CU_ASSERT_DOUBLE_EQUAL(w.d.cost_s, cost, 1e-12);
    de_plan_copy(&w.running, &w.d.plan);
    /* f1 back with 60 iterations left: ~10x faster, worth a checkpoint and a restart */
    CU_ASSERT_EQUAL(decide(&w, DE_CHANGE_REPAIR, "f1", 0, 40, 40), DE_ACTION_SWITCH);
    CU_ASSERT(uses(&w.d.plan, w.s, "f1"));
    CU_ASSERT(w.d.new_retraining_s + w.d.cost_s < w.d.now_retraining_s * (1 - w.s->planner.switch_gain));
    /* the same with 2 iterations left: the switch would cost more than it gains */
    CU_ASSERT_EQUAL(decide(&w, DE_CHANGE_REPAIR, "f1", 0, 98, 80), DE_ACTION_KEEP);
    double sw = w.s->jobs[0].checkpoint_cost_s + cost; /* a switch: a checkpoint, then as a restart */
    CU_ASSERT(w.d.new_retraining_s + sw >= w.d.now_retraining_s * (1 - w.s->planner.switch_gain));
    CU_ASSERT_EQUAL(w.d.cost_s, 0); /* keeping costs nothing */
    /* every device down after a loss: the job waits */
    de_plan_copy(&w.running, &w.d.plan);
    decide(&w, DE_CHANGE_CRASH, "f1", 0, 50, 40);
    decide(&w, DE_CHANGE_CRASH, "s2", 0, 50, 40);
    CU_ASSERT_EQUAL(decide(&w, DE_CHANGE_CRASH, "s1", 0, 50, 40), DE_ACTION_WAIT);
    CU_ASSERT(w.d.lost);
    world_free(&w);
}

/* The running plan breaks a deadline after an LC load step: switch, even with no
 * speed to gain (switch_gain 1 forbids switching for speed alone). */
static void test_rule_deadline(void)
{
    world w;
    world_init(&w);
    w.s->planner.switch_gain = 1;
    de_replan_view v0 = {0, NULL, NULL, 0, 0};
    de_err err;
    de_replan_decide(&w.st, NULL, &v0, DE_POLICY_DEEP_EDGE, &w.s->planner, &w.pred, &w.d, &err);
    de_plan_copy(&w.running, &w.d.plan);
    CU_ASSERT_FATAL(uses(&w.running, w.s, "f1"));
    /* find a rate of cam that f1's training breaks while cam alone is fine */
    double rate = 10;
    de_action a = DE_ACTION_KEEP;
    for (; rate < 1000 && a == DE_ACTION_KEEP; rate *= 1.25)
        a = decide(&w, DE_CHANGE_LC_RATE, NULL, rate, 10, 0);
    CU_ASSERT_EQUAL(a, DE_ACTION_SWITCH);
    CU_ASSERT(!w.d.now_feasible);
    CU_ASSERT(w.d.plan.feasible);
    world_free(&w);
}

static void test_describe(void)
{
    world w;
    world_init(&w);
    de_replan_view v0 = {0, NULL, NULL, 0, 0};
    de_err err;
    de_replan_decide(&w.st, NULL, &v0, DE_POLICY_DEEP_EDGE, &w.s->planner, &w.pred, &w.d, &err);
    de_plan_copy(&w.running, &w.d.plan);
    decide(&w, DE_CHANGE_CRASH, "f1", 0, 33, 20);
    de_change c;
    de_change_init(&c, DE_CHANGE_CRASH, de_scenario_device(w.s, "f1"), 0, "test");
    char line[512], what[128];
    de_decision_describe(&w.d, &c, w.s, line, sizeof line);
    DE_ASSERT_CONTAINS(line, "change=crash target=f1 iteration=33 action=restart from=20 plan=s1:16,s2:16");
    de_change_describe(&c, w.s, what, sizeof what);
    CU_ASSERT_STRING_EQUAL(what, "device f1 crashes");
    world_free(&w);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"the change kinds table", test_kinds},
        {"--inject forms", test_spec_ok},
        {"--inject errors name the problem", test_spec_errors},
        {"applying changes to the state", test_apply},
        {"the re-plan rule: start, keep, restart after a loss, switch when it pays, wait", test_rule},
        {"the re-plan rule: a broken deadline switches even without a speed gain", test_rule_deadline},
        {"decisions as one line", test_describe},
        {NULL, NULL}};
    de_test_suite("change", cases);
    return de_test_run();
}
