/* de_test.h — shared helpers of the CUnit suites.
 *
 * Each test binary builds its suites and calls de_test_main, which runs them with
 * the basic runner and returns non-zero when any assertion or test failed
 * (CUnit's CU_basic_run_tests alone returns 0 even then). */
#ifndef DE_TEST_H
#define DE_TEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "de_scenario.h"

typedef struct de_test_case {
    const char *name;
    CU_TestFunc fn;
} de_test_case;

/* Registers one suite of tests (NULL-terminated array); returns 0 or aborts the run.
 * A test named in the environment variable DE_TEST_SKIP ("SUITE/TEST;SUITE/TEST...") is
 * registered but not run (CUnit reports it as inactive), and a line on stderr says so: only
 * for a case that cannot hold where it runs, e.g. a real-time window under qemu-user
 * (scripts/cross-aarch64.sh). Nothing is skipped without it. */
int de_test_suite(const char *name, const de_test_case *tests);

/* Runs every registered suite; returns the process exit status (0 only if all passed). */
int de_test_run(void);

/* Path of a file in the source tree (DE_SOURCE_DIR/rel), static buffer. */
const char *de_test_src(const char *rel);

/* Writes text to a fresh temporary file and returns its path (caller frees and
 * unlinks: de_test_unlink). suffix like ".cfg". */
char *de_test_tmpfile(const char *text, const char *suffix);
void de_test_unlink(char *path);

/* Loads a scenario of the source tree (path relative to it); a failed load is a
 * fatal assertion (its message printed). */
de_scenario *de_test_scenario(const char *rel);

/* Loads a scenario from text (written to a temporary file); returns the error code
 * and fills err; *out NULL on failure. The file is removed again. */
int de_test_load_text(const char *text, de_scenario **out, de_err *err);

/* Generates a random scenario (de_generate) with these options and loads it. */
de_scenario *de_test_generated(int devices, int lc_tasks, unsigned long seed, const char *network, int global_batch);

/* Asserts that msg contains needle, printing both when it does not. */
#define DE_ASSERT_CONTAINS(msg, needle)                                                          \
    do {                                                                                         \
        const char *m_ = (msg), *n_ = (needle);                                                  \
        int ok_ = m_ && strstr(m_, n_) != NULL;                                                  \
        if (!ok_)                                                                                \
            fprintf(stderr, "\n  %s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, n_, m_ ? m_ : "(null)"); \
        CU_ASSERT(ok_);                                                                          \
    } while (0)

#endif
