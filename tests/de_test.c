/* de_test.c — shared helpers of the CUnit suites (see de_test.h). */
#define _DEFAULT_SOURCE /* mkstemps */
#include "de_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_catalog.h"
#include "de_generate.h"
#include "de_util.h"

/* DE_TEST_SKIP: SUITE/TEST entries separated by ';' (both names exactly as registered). */
static int skipped(const char *suite, const char *test)
{
    const char *list = getenv("DE_TEST_SKIP");
    size_t ls = strlen(suite), lt = strlen(test);
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ";");
        if (n == ls + 1 + lt && strncmp(p, suite, ls) == 0 && p[ls] == '/' && strncmp(p + ls + 1, test, lt) == 0)
            return 1;
        p += n + (p[n] == ';');
    }
    return 0;
}

int de_test_suite(const char *name, const de_test_case *tests)
{
    if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: cannot initialise the registry\n");
        exit(2);
    }
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) {
        fprintf(stderr, "CUnit: cannot add suite %s\n", name);
        exit(2);
    }
    for (const de_test_case *t = tests; t->name; t++) {
        CU_pTest ct = CU_add_test(s, t->name, t->fn);
        if (!ct) {
            fprintf(stderr, "CUnit: cannot add test %s\n", t->name);
            exit(2);
        }
        if (skipped(name, t->name)) {
            fprintf(stderr, "DE_TEST_SKIP: %s/%s is not run\n", name, t->name);
            CU_set_test_active(ct, CU_FALSE);
        }
    }
    return 0;
}

int de_test_run(void)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_set_fail_on_inactive(CU_FALSE); /* a test left out by DE_TEST_SKIP is counted inactive */
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    unsigned tests_failed = CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    unsigned asserts = CU_get_number_of_asserts();
    CU_cleanup_registry();
    if (run == 0 || asserts == 0) {
        fprintf(stderr, "no test or no assertion ran\n");
        return 1;
    }
    return failures != 0 || tests_failed != 0;
}

const char *de_test_src(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", DE_SOURCE_DIR, rel);
    return buf;
}

char *de_test_tmpfile(const char *text, const char *suffix)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = de_sprintf("%s/deepedge-test-XXXXXX%s", dir, suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    if (fd < 0) {
        perror(path);
        exit(2);
    }
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) {
        perror(path);
        exit(2);
    }
    close(fd);
    return path;
}

void de_test_unlink(char *path)
{
    if (path)
        unlink(path);
    free(path);
}

de_scenario *de_test_scenario(const char *rel)
{
    de_scenario *s;
    de_err err;
    int rc = de_scenario_load(de_test_src(rel), NULL, &s, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == DE_OK);
    return s;
}

int de_test_load_text(const char *text, de_scenario **out, de_err *err)
{
    char *path = de_test_tmpfile(text, ".cfg");
    int rc = de_scenario_load(path, NULL, out, err);
    de_test_unlink(path);
    return rc;
}

de_scenario *de_test_generated(int devices, int lc_tasks, unsigned long seed, const char *network, int global_batch)
{
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = devices;
    o.lc_tasks = lc_tasks;
    o.seed = seed;
    o.network = network;
    o.global_batch = global_batch;
    de_scenario *s;
    de_err err;
    if (de_generate_load(DE_DEFAULT_CATALOG, &o, &s, &err)) {
        fprintf(stderr, "generated scenario does not load: %s\n", err.msg);
        exit(2);
    }
    return s;
}
