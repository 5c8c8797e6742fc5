/* test_inject.c — the parts of `deepedge run` that are plain functions: the --inject syntax
 * (crash:DEVICE@ITER, lc-rate:TASK=RATE@ITER, link:LINK*FACTOR@ITER) and its errors. The
 * coordinator itself runs end to end in tests/run_test.sh. */
#include <string.h>

#include "de_run.h"
#include "de_test.h"

static void test_inject_ok(void)
{
    de_run_inject in;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_run_inject_parse("crash:edge-b@50", &in, &err), DE_OK);
    CU_ASSERT_EQUAL(in.kind, DE_INJECT_CRASH);
    CU_ASSERT_STRING_EQUAL(in.target, "edge-b");
    CU_ASSERT_EQUAL(in.iter, 50);
    CU_ASSERT_EQUAL_FATAL(de_run_inject_parse("lc-rate:cam-a=120.5@40", &in, &err), DE_OK);
    CU_ASSERT_EQUAL(in.kind, DE_INJECT_LC_RATE);
    CU_ASSERT_STRING_EQUAL(in.target, "cam-a");
    CU_ASSERT_DOUBLE_EQUAL(in.value, 120.5, 1e-12);
    CU_ASSERT_EQUAL(in.iter, 40);
    CU_ASSERT_EQUAL_FATAL(de_run_inject_parse("lc-rate:cam=0@0", &in, &err), DE_OK); /* silence a task */
    CU_ASSERT_EQUAL(in.value, 0);
    CU_ASSERT_EQUAL_FATAL(de_run_inject_parse("link:lan-1g*0.05@30", &in, &err), DE_OK);
    CU_ASSERT_EQUAL(in.kind, DE_INJECT_LINK);
    CU_ASSERT_STRING_EQUAL(in.target, "lan-1g");
    CU_ASSERT_DOUBLE_EQUAL(in.value, 0.05, 1e-12);
    /* a device name with '@' or ':' inside: the last '@' ends it, the first ':' starts it */
    CU_ASSERT_EQUAL_FATAL(de_run_inject_parse("crash:rack:1@7", &in, &err), DE_OK);
    CU_ASSERT_STRING_EQUAL(in.target, "rack:1");
}

static void test_inject_errors(void)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"crash:edge-b", "crash:DEVICE@ITER"},        /* no iteration */
        {"edge-b@3", "crash:DEVICE@ITER"},            /* no kind */
        {"crash:edge-b@-1", "not an iteration"},
        {"crash:edge-b@3x", "not an iteration"},
        {"crash:@3", "missing device or task name"},
        {"boom:edge-b@3", "unknown kind 'boom'"},
        {"lc-rate:cam@3", "NAME=VALUE"},
        {"lc-rate:cam=@3", "missing value"},
        {"lc-rate:cam=-2@3", "not a rate >= 0"},
        {"lc-rate:cam=fast@3", "not a rate >= 0"},
        {"link:lan*0@3", "not a bandwidth factor in (0, 1]"},
        {"link:lan*1.5@3", "not a bandwidth factor in (0, 1]"},
        {"link:lan=0.5@3", "NAME*VALUE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        de_run_inject in;
        de_err err;
        de_err_clear(&err);
        int rc = de_run_inject_parse(bad[i].text, &in, &err);
        CU_ASSERT_EQUAL(rc, DE_EINVAL);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "\n  %s: message '%s' lacks '%s'\n", bad[i].text, err.msg, bad[i].msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].msg));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].text)); /* the option's value is quoted */
    }
}

int main(void)
{
    static const de_test_case cases[] = {
        {"--inject forms", test_inject_ok},
        {"--inject errors name the problem", test_inject_errors},
        {NULL, NULL}};
    de_test_suite("inject", cases);
    return de_test_run();
}
