/* test_error.c — the error table (de_strerror) and the message buffer (de_err_set,
 * de_err_clear): every code has its own non-empty text, unknown codes have a fixed
 * text, and the setter returns the code so that `return de_err_set(...)` works. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "de_error.h"
#include "de_test.h"

/* Every (code, text) pair of the table, expanded from the one X-macro. */
static const struct {
    const char *name;
    int code;
    const char *text;
} table[] = {
#define X_ENTRY(name, value, text) {#name, value, text},
    DE_ERROR_TABLE(X_ENTRY)
#undef X_ENTRY
};
#define N_CODES ((int)(sizeof table / sizeof table[0]))

static void test_strerror_every_code(void)
{
    CU_ASSERT_EQUAL(N_CODES, 14);
    for (int i = 0; i < N_CODES; i++) {
        const char *s = de_strerror(table[i].code);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT(strlen(s) > 0);
        CU_ASSERT_STRING_EQUAL(s, table[i].text);
        CU_ASSERT_STRING_NOT_EQUAL(s, "unknown error");
    }
}

static void test_strerror_distinct(void)
{
    for (int i = 0; i < N_CODES; i++)
        for (int j = i + 1; j < N_CODES; j++) {
            CU_ASSERT_NOT_EQUAL(table[i].code, table[j].code);
            if (strcmp(de_strerror(table[i].code), de_strerror(table[j].code)) == 0)
                fprintf(stderr, "\n  %s and %s share the text '%s'\n", table[i].name, table[j].name,
                        de_strerror(table[i].code));
            CU_ASSERT_STRING_NOT_EQUAL(de_strerror(table[i].code), de_strerror(table[j].code));
        }
}

static void test_strerror_codes_are_nonpositive(void)
{
    /* Library convention: DE_OK is 0, every error is negative. */
    CU_ASSERT_EQUAL(DE_OK, 0);
    for (int i = 0; i < N_CODES; i++) {
        if (strcmp(table[i].name, "DE_OK") == 0) {
            CU_ASSERT_EQUAL(table[i].code, 0);
        } else {
            CU_ASSERT(table[i].code < 0);
        }
    }
    CU_ASSERT_STRING_EQUAL(de_strerror(DE_OK), "success");
    CU_ASSERT_STRING_EQUAL(de_strerror(DE_ERANGE), "value out of range");
    CU_ASSERT_STRING_EQUAL(de_strerror(DE_EREF), "reference to something undefined");
}

static void test_strerror_unknown(void)
{
    const int unknown[] = {1, 2, 42, -14, -100, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = de_strerror(unknown[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_STRING_EQUAL(s, "unknown error");
    }
}

static void test_err_set_formats(void)
{
    de_err e;
    memset(&e, 0x55, sizeof e);
    int rc = de_err_set(&e, DE_ERANGE, "%s:%d: %s: %g is out of range", "x.cfg", 12, "devices.[2].rate", -1.5);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    CU_ASSERT_EQUAL(e.code, DE_ERANGE);
    CU_ASSERT_STRING_EQUAL(e.msg, "x.cfg:12: devices.[2].rate: -1.5 is out of range");

    /* A second call replaces the first message entirely. */
    rc = de_err_set(&e, DE_EKEY, "short");
    CU_ASSERT_EQUAL(rc, DE_EKEY);
    CU_ASSERT_EQUAL(e.code, DE_EKEY);
    CU_ASSERT_STRING_EQUAL(e.msg, "short");
}

static void test_err_set_truncates(void)
{
    /* A message longer than the buffer is cut, still NUL-terminated. */
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    de_err e;
    int rc = de_err_set(&e, DE_EIO, "%s", big);
    CU_ASSERT_EQUAL(rc, DE_EIO);
    CU_ASSERT_EQUAL(strlen(e.msg), sizeof e.msg - 1);
    CU_ASSERT_EQUAL(e.msg[0], 'a');
}

static void test_err_set_null(void)
{
    /* NULL err is allowed: the code is still returned. */
    CU_ASSERT_EQUAL(de_err_set(NULL, DE_EMISSING, "%s", "ignored"), DE_EMISSING);
    CU_ASSERT_EQUAL(de_err_set(NULL, DE_OK, "ok"), DE_OK);
    CU_ASSERT_EQUAL(de_err_set(NULL, DE_EVERSION, "v%d", 3), DE_EVERSION);
}

static void test_err_clear(void)
{
    de_err e;
    de_err_set(&e, DE_ESYNTAX, "something went wrong at line %d", 7);
    CU_ASSERT_EQUAL(e.code, DE_ESYNTAX);
    CU_ASSERT(strlen(e.msg) > 0);
    de_err_clear(&e);
    CU_ASSERT_EQUAL(e.code, DE_OK);
    CU_ASSERT_STRING_EQUAL(e.msg, "");
    de_err_clear(NULL); /* no-op, must not crash */
    CU_PASS("de_err_clear(NULL) returned");
}

int main(void)
{
    static const de_test_case strerror_tests[] = {
        {"every code has its text", test_strerror_every_code},
        {"texts are distinct", test_strerror_distinct},
        {"codes are 0 or negative", test_strerror_codes_are_nonpositive},
        {"unknown code", test_strerror_unknown},
        {NULL, NULL},
    };
    static const de_test_case err_tests[] = {
        {"de_err_set formats and returns the code", test_err_set_formats},
        {"de_err_set truncates long messages", test_err_set_truncates},
        {"de_err_set with NULL", test_err_set_null},
        {"de_err_clear", test_err_clear},
        {NULL, NULL},
    };
    de_test_suite("de_strerror", strerror_tests);
    de_test_suite("de_err", err_tests);
    return de_test_run();
}
