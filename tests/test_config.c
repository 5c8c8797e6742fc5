/* test_config.c — the declared key tables over libconfig (de_conf): reading files
 * and strings, syntax errors with NAME:LINE, unknown keys, and the typed getters
 * (presence, type, range, defaults) with messages that name file:line and key path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_conf.h"
#include <unistd.h>

#include "de_test.h"

/* The table every getter test reads through. */
static const de_key keys[] = {
    {"count", DE_KEY_INT, 1, 1, 100, NULL, "items", "how many", NULL},
    {"limit", DE_KEY_INT, 0, -5, 5, "3", "", "a signed small integer", NULL},
    {"big", DE_KEY_INT, 0, 0, 1e12, NULL, "bytes", "a 64-bit integer", NULL},
    {"ratio", DE_KEY_FLOAT, 0, 0, 1, "0.25", "", "a fraction", NULL},
    {"speed", DE_KEY_FLOAT, 1, 1e-3, 1e3, NULL, "m/s", "a required float", NULL},
    {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "unique name", NULL},
    {"label", DE_KEY_STRING, 0, 0, 0, "dflt", "", "optional label", NULL},
    {"note", DE_KEY_STRING, 0, 0, 0, NULL, "", "optional, no default", NULL},
    {"enabled", DE_KEY_BOOL, 0, 0, 0, "true", "", "on/off, default on", NULL},
    {"verbose", DE_KEY_BOOL, 0, 0, 0, "false", "", "on/off, default off", NULL},
    {"sub", DE_KEY_GROUP, 0, 0, 0, NULL, "", "a nested group", NULL},
    {"items", DE_KEY_LIST, 0, 0, 0, NULL, "", "a list", NULL},
    {"must", DE_KEY_GROUP, 1, 0, 0, NULL, "", "a required group", NULL},
};
#define NK (sizeof keys / sizeof keys[0])
#define K(name) DE_CONF_KEY(keys, name)

/* Reads text into cfg (asserting success) and returns its root. */
static config_setting_t *read_ok(config_t *cfg, const char *text)
{
    de_err err;
    de_err_clear(&err);
    int rc = de_conf_read_string(cfg, text, "test.cfg", &err);
    if (rc)
        fprintf(stderr, "\n  unexpected: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, DE_OK);
    return config_root_setting(cfg);
}

/* ---- reading ---- */

static void test_read_string_ok(void)
{
    config_t cfg;
    de_err err;
    int rc = de_conf_read_string(&cfg, "a = 1;\nb = \"x\";\n", "mem.cfg", &err);
    CU_ASSERT_EQUAL(rc, DE_OK);
    int a = 0;
    const char *b = NULL;
    CU_ASSERT_EQUAL(config_lookup_int(&cfg, "a", &a), CONFIG_TRUE);
    CU_ASSERT_EQUAL(a, 1);
    CU_ASSERT_EQUAL(config_lookup_string(&cfg, "b", &b), CONFIG_TRUE);
    CU_ASSERT_STRING_EQUAL(b, "x");
    /* Integer-to-float autoconversion is on. */
    CU_ASSERT(config_get_options(&cfg) & CONFIG_OPTION_AUTOCONVERT);
    config_destroy(&cfg);
}

static void test_read_string_syntax(void)
{
    config_t cfg;
    de_err err;
    de_err_clear(&err);
    /* Line 3 lacks the '=' . */
    int rc = de_conf_read_string(&cfg, "a = 1;\nb = 2;\nc 3;\nd = 4;\n", "mem.cfg", &err);
    CU_ASSERT_EQUAL(rc, DE_ESYNTAX);
    CU_ASSERT_EQUAL(err.code, DE_ESYNTAX);
    DE_ASSERT_CONTAINS(err.msg, "mem.cfg:3");
    DE_ASSERT_CONTAINS(err.msg, "syntax error");
    config_destroy(&cfg);

    /* An unterminated group: the error is reported, whatever the line. */
    rc = de_conf_read_string(&cfg, "g = {\n a = 1;\n", "other.cfg", &err);
    CU_ASSERT_EQUAL(rc, DE_ESYNTAX);
    DE_ASSERT_CONTAINS(err.msg, "other.cfg:");
    config_destroy(&cfg);
}

static void test_read_file_ok(void)
{
    char *path = de_test_tmpfile("# comment\nx = 2.5;\ny = 7;\n", ".cfg");
    config_t cfg;
    de_err err;
    int rc = de_conf_read(&cfg, path, &err);
    CU_ASSERT_EQUAL(rc, DE_OK);
    double x = 0;
    CU_ASSERT_EQUAL(config_lookup_float(&cfg, "x", &x), CONFIG_TRUE);
    CU_ASSERT_DOUBLE_EQUAL(x, 2.5, 1e-12);
    /* autoconvert: an integer read as a float */
    double y = 0;
    CU_ASSERT_EQUAL(config_lookup_float(&cfg, "y", &y), CONFIG_TRUE);
    CU_ASSERT_DOUBLE_EQUAL(y, 7.0, 1e-12);
    config_destroy(&cfg);
    de_test_unlink(path);
}

static void test_read_file_syntax(void)
{
    char *path = de_test_tmpfile("a = 1;\nb = 2;\nc = 3;\nd = ;\n", ".cfg");
    config_t cfg;
    de_err err;
    de_err_clear(&err);
    int rc = de_conf_read(&cfg, path, &err);
    CU_ASSERT_EQUAL(rc, DE_ESYNTAX);
    CU_ASSERT_EQUAL(err.code, DE_ESYNTAX);
    char want[4200];
    snprintf(want, sizeof want, "%s:4:", path);
    DE_ASSERT_CONTAINS(err.msg, want);
    config_destroy(&cfg);
    de_test_unlink(path);
}

/* A file larger than any configuration (a sparse one: nothing is written) is refused
 * before libconfig reads it. */
static void test_read_file_huge(void)
{
    char *path = de_test_tmpfile("", ".cfg");
    CU_ASSERT_FATAL(truncate(path, (off_t)DE_CONF_MAX_BYTES + 1) == 0);
    config_t cfg;
    de_err err;
    CU_ASSERT_EQUAL(de_conf_read(&cfg, path, &err), DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, path);
    DE_ASSERT_CONTAINS(err.msg, "1024 MiB");
    config_destroy(&cfg);
    de_test_unlink(path);
}

static void test_read_file_missing(void)
{
    config_t cfg;
    de_err err;
    de_err_clear(&err);
    int rc = de_conf_read(&cfg, "/nonexistent/dir/nothing.cfg", &err);
    CU_ASSERT_EQUAL(rc, DE_EIO);
    CU_ASSERT_EQUAL(err.code, DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/dir/nothing.cfg");
    DE_ASSERT_CONTAINS(err.msg, "cannot open");
    config_destroy(&cfg);
}

/* ---- paths and locations ---- */

static void test_path_nested(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg,
                                     "devices = (\n"                              /* 1 */
                                     "  { name = \"a\"; link = \"l0\"; },\n"       /* 2 */
                                     "  { name = \"b\"; link = \"l1\"; },\n"       /* 3 */
                                     "  { name = \"c\";\n"                         /* 4 */
                                     "    link = \"l2\"; }\n"                      /* 5 */
                                     ");\n"                                        /* 6 */
                                     "planner = { inner = { k = 1; }; };\n"        /* 7 */
                                     "arr = [1, 2, 3];\n");                        /* 8 */
    char buf[256];
    config_setting_t *link = config_setting_lookup(root, "devices.[2].link");
    CU_ASSERT_PTR_NOT_NULL_FATAL(link);
    de_conf_path(link, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "devices.[2].link");

    config_setting_t *elem = config_setting_get_elem(config_setting_get_member(root, "devices"), 0);
    de_conf_path(elem, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "devices.[0]");

    de_conf_path(config_setting_get_member(root, "devices"), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "devices");

    config_setting_t *k = config_setting_lookup(root, "planner.inner.k");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    de_conf_path(k, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "planner.inner.k");

    config_setting_t *a1 = config_setting_get_elem(config_setting_get_member(root, "arr"), 1);
    de_conf_path(a1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "arr.[1]");

    de_conf_path(root, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "");

    /* A small buffer is filled without overflow and stays terminated. */
    char small[6];
    memset(small, 'z', sizeof small);
    de_conf_path(link, small, sizeof small);
    CU_ASSERT(memchr(small, '\0', sizeof small) != NULL);
    CU_ASSERT_EQUAL(strncmp(small, "devic", 5), 0);

    /* Lines of settings read from a string: "?:LINE" (no file name). */
    de_conf_where(link, buf, sizeof buf);
    DE_ASSERT_CONTAINS(buf, ":5");
    de_conf_where(config_setting_lookup(root, "devices.[1].name"), buf, sizeof buf);
    DE_ASSERT_CONTAINS(buf, ":3");
    de_conf_where(k, buf, sizeof buf);
    DE_ASSERT_CONTAINS(buf, ":7");
    config_destroy(&cfg);
}

static void test_where_file(void)
{
    char *path = de_test_tmpfile("a = 1;\n\ngroup = {\n  x = 2;\n  y = \"s\";\n};\n", ".cfg");
    config_t cfg;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_conf_read(&cfg, path, &err), DE_OK);
    char buf[4200], want[4200];
    de_conf_where(config_lookup(&cfg, "group.y"), buf, sizeof buf);
    snprintf(want, sizeof want, "%s:5", path);
    CU_ASSERT_STRING_EQUAL(buf, want);
    de_conf_where(config_lookup(&cfg, "a"), buf, sizeof buf);
    snprintf(want, sizeof want, "%s:1", path);
    CU_ASSERT_STRING_EQUAL(buf, want);
    config_destroy(&cfg);
    de_test_unlink(path);
}

/* ---- unknown keys ---- */

static void test_check_keys_ok(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 3;\nname = \"n\";\nspeed = 1.0;\nmust = {};\n");
    de_err err;
    CU_ASSERT_EQUAL(de_conf_check_keys(root, keys, NK, &err), DE_OK);
    /* An empty group has no unknown key. */
    CU_ASSERT_EQUAL(de_conf_check_keys(config_setting_get_member(root, "must"), keys, NK, &err), DE_OK);
    config_destroy(&cfg);
}

static void test_check_keys_unknown_string(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 3;\nname = \"n\";\ncuont = 4;\n");
    de_err err;
    de_err_clear(&err);
    int rc = de_conf_check_keys(root, keys, NK, &err);
    CU_ASSERT_EQUAL(rc, DE_EKEY);
    CU_ASSERT_EQUAL(err.code, DE_EKEY);
    DE_ASSERT_CONTAINS(err.msg, ":3: cuont: unknown key");
    /* The message lists the known keys. */
    DE_ASSERT_CONTAINS(err.msg, "count");
    DE_ASSERT_CONTAINS(err.msg, "enabled");
    config_destroy(&cfg);
}

static void test_check_keys_unknown_file_nested(void)
{
    static const de_key dev_keys[] = {
        {"name", DE_KEY_STRING, 1, 0, 0, NULL, "", "name", NULL},
        {"link", DE_KEY_STRING, 1, 0, 0, NULL, "", "link", NULL},
    };
    char *path = de_test_tmpfile("devices = (\n"
                                 "  { name = \"a\"; link = \"x\"; },\n"
                                 "  { name = \"b\"; link = \"x\"; },\n"
                                 "  { name = \"c\";\n"
                                 "    lnk = \"x\"; }\n"
                                 ");\n",
                                 ".cfg");
    config_t cfg;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_conf_read(&cfg, path, &err), DE_OK);
    config_setting_t *list = config_lookup(&cfg, "devices");
    int bad = -1;
    for (int i = 0; i < config_setting_length(list); i++) {
        de_err_clear(&err);
        int rc = de_conf_check_keys(config_setting_get_elem(list, (unsigned)i), dev_keys, 2, &err);
        if (rc) {
            bad = i;
            CU_ASSERT_EQUAL(rc, DE_EKEY);
            char want[4300];
            snprintf(want, sizeof want, "%s:5: devices.[2].lnk: unknown key", path);
            DE_ASSERT_CONTAINS(err.msg, want);
            DE_ASSERT_CONTAINS(err.msg, "known here: name, link");
        }
    }
    CU_ASSERT_EQUAL(bad, 2);
    config_destroy(&cfg);
    de_test_unlink(path);
}

static void test_check_keys_not_a_group(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "x = 1;\nl = (1, 2);\n");
    de_err err;
    de_err_clear(&err);
    int rc = de_conf_check_keys(config_setting_get_member(root, "l"), keys, NK, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, "l: expected a group");
    DE_ASSERT_CONTAINS(err.msg, "found a list");
    rc = de_conf_check_keys(config_setting_get_member(root, "x"), keys, NK, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, "found an integer");
    config_destroy(&cfg);
}

static void test_key_lookup(void)
{
    const de_key *k = de_conf_key(keys, NK, "ratio");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_EQUAL(k->type, DE_KEY_FLOAT);
    CU_ASSERT_PTR_EQUAL(K("ratio"), k);
    CU_ASSERT_PTR_EQUAL(K("count"), &keys[0]);
    CU_ASSERT_PTR_EQUAL(K("must"), &keys[NK - 1]);
    CU_ASSERT_PTR_NULL(de_conf_key(keys, NK, "nope"));
    CU_ASSERT_PTR_NULL(de_conf_key(keys, NK, "coun"));
    CU_ASSERT_PTR_NULL(de_conf_key(keys, 0, "count"));
}

/* ---- getters: int ---- */

static void test_get_int(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 42;\nlimit = -5;\nbig = 10000000000L;\n");
    de_err err;
    long long v = 0;
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("count"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("limit"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, -5);
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("big"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, 10000000000LL);
    config_destroy(&cfg);
}

static void test_get_int_bounds_inclusive(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 1;\nlimit = 5;\n");
    de_err err;
    long long v = 0;
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("count"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("limit"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, 5);
    config_destroy(&cfg);
}

static void test_get_int_default(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 2;\n");
    de_err err;
    long long v = 99;
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("limit"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, 3); /* def "3" */
    v = 99;
    CU_ASSERT_EQUAL(de_conf_get_int(root, K("big"), &v, &err), DE_OK);
    CU_ASSERT_EQUAL(v, 0); /* no default: 0 */
    config_destroy(&cfg);
}

static void test_get_int_missing(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "x = 1;\nsub = {\n  y = 2;\n};\n");
    de_err err;
    de_err_clear(&err);
    long long v = 77;
    int rc = de_conf_get_int(root, K("count"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_EMISSING);
    CU_ASSERT_EQUAL(err.code, DE_EMISSING);
    DE_ASSERT_CONTAINS(err.msg, "count: missing required key");
    DE_ASSERT_CONTAINS(err.msg, "an integer");
    DE_ASSERT_CONTAINS(err.msg, "items"); /* the unit */
    CU_ASSERT_EQUAL(v, 77);                /* untouched on error */

    /* Missing in a nested group: path and the group's line. */
    rc = de_conf_get_int(config_setting_get_member(root, "sub"), K("count"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_EMISSING);
    DE_ASSERT_CONTAINS(err.msg, ":2: sub.count: missing required key");
    config_destroy(&cfg);
}

static void test_get_int_wrong_type(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "name = \"n\";\ncount = \"seven\";\nlimit = 1.5;\nbig = true;\n");
    de_err err;
    long long v = 77;
    de_err_clear(&err);
    int rc = de_conf_get_int(root, K("count"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    CU_ASSERT_EQUAL(err.code, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":2: count: expected an integer, found a string");
    CU_ASSERT_EQUAL(v, 77);

    rc = de_conf_get_int(root, K("limit"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE); /* a float is not an integer */
    DE_ASSERT_CONTAINS(err.msg, ":3: limit: expected an integer, found a number");

    rc = de_conf_get_int(root, K("big"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":4: big: expected an integer, found a boolean");
    CU_ASSERT_EQUAL(v, 77);
    config_destroy(&cfg);
}

static void test_get_int_range(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 101;\nlimit = -6;\nbig = 1000000000001L;\n");
    de_err err;
    long long v = 77;
    de_err_clear(&err);
    int rc = de_conf_get_int(root, K("count"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    CU_ASSERT_EQUAL(err.code, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, ":1: count: 101 is out of range [1, 100] items");
    CU_ASSERT_EQUAL(v, 77);

    rc = de_conf_get_int(root, K("limit"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, ":2: limit: -6 is out of range [-5, 5]");

    rc = de_conf_get_int(root, K("big"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, "big:");
    DE_ASSERT_CONTAINS(err.msg, "[0, 1e+12]");
    CU_ASSERT_EQUAL(v, 77);
    config_destroy(&cfg);
}

/* ---- getters: float ---- */

static void test_get_float(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "ratio = 0.5;\nspeed = 12;\n");
    de_err err;
    double v = -1;
    CU_ASSERT_EQUAL(de_conf_get_float(root, K("ratio"), &v, &err), DE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 0.5, 1e-15);
    /* An integer literal is accepted for a float key. */
    v = -1;
    CU_ASSERT_EQUAL(de_conf_get_float(root, K("speed"), &v, &err), DE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 12.0, 1e-15);
    config_destroy(&cfg);
}

static void test_get_float_int64_literal(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "ratio = 1;\nspeed = 999L;\n");
    de_err err;
    double v = -1;
    CU_ASSERT_EQUAL(de_conf_get_float(root, K("ratio"), &v, &err), DE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 1.0, 1e-15); /* inclusive upper bound */
    CU_ASSERT_EQUAL(de_conf_get_float(root, K("speed"), &v, &err), DE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 999.0, 1e-12);
    config_destroy(&cfg);
}

static void test_get_float_default(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "count = 1;\n");
    de_err err;
    double v = -1;
    CU_ASSERT_EQUAL(de_conf_get_float(root, K("ratio"), &v, &err), DE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 0.25, 1e-15);
    config_destroy(&cfg);
}

static void test_get_float_errors(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "ratio = 1.5;\nspeed = \"fast\";\nsub = { ratio = -0.1; speed = 0.0; };\n");
    de_err err;
    double v = -1;
    de_err_clear(&err);
    int rc = de_conf_get_float(root, K("ratio"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, ":1: ratio: 1.5 is out of range [0, 1]");
    CU_ASSERT_DOUBLE_EQUAL(v, -1, 0);

    rc = de_conf_get_float(root, K("speed"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":2: speed: expected a number, found a string");

    config_setting_t *sub = config_setting_get_member(root, "sub");
    rc = de_conf_get_float(sub, K("ratio"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, ":3: sub.ratio: -0.1 is out of range [0, 1]");
    rc = de_conf_get_float(sub, K("speed"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, "sub.speed: 0 is out of range [0.001, 1000] m/s");

    /* Missing required float. */
    config_t cfg2;
    config_setting_t *r2 = read_ok(&cfg2, "x = 1;\n");
    rc = de_conf_get_float(r2, K("speed"), &v, &err);
    CU_ASSERT_EQUAL(rc, DE_EMISSING);
    DE_ASSERT_CONTAINS(err.msg, "speed: missing required key");
    DE_ASSERT_CONTAINS(err.msg, "m/s");
    CU_ASSERT_DOUBLE_EQUAL(v, -1, 0);
    config_destroy(&cfg2);
    config_destroy(&cfg);
}

static void test_get_float_bool_is_wrong_type(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "ratio = false;\n");
    de_err err;
    double v = -1;
    CU_ASSERT_EQUAL(de_conf_get_float(root, K("ratio"), &v, &err), DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, "ratio: expected a number, found a boolean");
    config_destroy(&cfg);
}

/* ---- getters: string, bool, setting ---- */

static void test_get_string(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "name = \"alpha\";\nlabel = \"\";\n");
    de_err err;
    const char *s = NULL;
    CU_ASSERT_EQUAL(de_conf_get_string(root, K("name"), &s, &err), DE_OK);
    CU_ASSERT_STRING_EQUAL(s, "alpha");
    /* Optional strings may be empty. */
    CU_ASSERT_EQUAL(de_conf_get_string(root, K("label"), &s, &err), DE_OK);
    CU_ASSERT_STRING_EQUAL(s, "");
    /* Absent optional: the default, or NULL without one. */
    s = "junk";
    CU_ASSERT_EQUAL(de_conf_get_string(root, K("note"), &s, &err), DE_OK);
    CU_ASSERT_PTR_NULL(s);
    config_destroy(&cfg);

    root = read_ok(&cfg, "name = \"x\";\n");
    CU_ASSERT_EQUAL(de_conf_get_string(root, K("label"), &s, &err), DE_OK);
    CU_ASSERT_STRING_EQUAL(s, "dflt");
    config_destroy(&cfg);
}

static void test_get_string_errors(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "name = 5;\nlabel = [\"a\"];\n");
    de_err err;
    const char *s = NULL;
    de_err_clear(&err);
    int rc = de_conf_get_string(root, K("name"), &s, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":1: name: expected a string, found an integer");
    rc = de_conf_get_string(root, K("label"), &s, &err);
    CU_ASSERT_EQUAL(rc, DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, "label: expected a string, found an array");
    config_destroy(&cfg);

    /* Required and empty. */
    root = read_ok(&cfg, "x = 1;\nname = \"\";\n");
    rc = de_conf_get_string(root, K("name"), &s, &err);
    CU_ASSERT_EQUAL(rc, DE_ERANGE);
    DE_ASSERT_CONTAINS(err.msg, ":2: name: must not be empty");
    /* Required and absent. */
    config_destroy(&cfg);
    root = read_ok(&cfg, "x = 1;\n");
    rc = de_conf_get_string(root, K("name"), &s, &err);
    CU_ASSERT_EQUAL(rc, DE_EMISSING);
    DE_ASSERT_CONTAINS(err.msg, "name: missing required key (a string");
    config_destroy(&cfg);
}

static void test_get_bool(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "enabled = false;\nverbose = true;\n");
    de_err err;
    int b = -1;
    CU_ASSERT_EQUAL(de_conf_get_bool(root, K("enabled"), &b, &err), DE_OK);
    CU_ASSERT_EQUAL(b, 0);
    CU_ASSERT_EQUAL(de_conf_get_bool(root, K("verbose"), &b, &err), DE_OK);
    CU_ASSERT_EQUAL(b, 1);
    config_destroy(&cfg);

    /* Defaults: "true" and "false". */
    root = read_ok(&cfg, "x = 1;\n");
    b = -1;
    CU_ASSERT_EQUAL(de_conf_get_bool(root, K("enabled"), &b, &err), DE_OK);
    CU_ASSERT_EQUAL(b, 1);
    b = -1;
    CU_ASSERT_EQUAL(de_conf_get_bool(root, K("verbose"), &b, &err), DE_OK);
    CU_ASSERT_EQUAL(b, 0);
    config_destroy(&cfg);

    /* Wrong types: a string "yes" and an integer 1 are not booleans. */
    root = read_ok(&cfg, "enabled = \"yes\";\nverbose = 1;\n");
    de_err_clear(&err);
    CU_ASSERT_EQUAL(de_conf_get_bool(root, K("enabled"), &b, &err), DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":1: enabled: expected a boolean (true/false), found a string");
    CU_ASSERT_EQUAL(de_conf_get_bool(root, K("verbose"), &b, &err), DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":2: verbose: expected a boolean");
    config_destroy(&cfg);
}

static void test_get_setting(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg,
                                     "sub = { a = 1; };\n"
                                     "items = ( { b = 2; }, { b = 3; } );\n"
                                     "must = { };\n");
    de_err err;
    config_setting_t *s = NULL;
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("sub"), &s, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL(s);
    CU_ASSERT_EQUAL(config_setting_type(s), CONFIG_TYPE_GROUP);
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("items"), &s, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(config_setting_length(s), 2);
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("must"), &s, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL(s);
    config_destroy(&cfg);

    /* An array [ ... ] is a LIST too; absent optional gives NULL. */
    root = read_ok(&cfg, "items = [1, 2, 3];\nmust = {};\n");
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("items"), &s, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(config_setting_length(s), 3);
    s = (config_setting_t *)root;
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("sub"), &s, &err), DE_OK);
    CU_ASSERT_PTR_NULL(s);
    config_destroy(&cfg);
}

static void test_get_setting_errors(void)
{
    config_t cfg;
    config_setting_t *root = read_ok(&cfg, "sub = (1, 2);\nitems = { a = 1; };\nx = 3;\n");
    de_err err;
    config_setting_t *s = NULL;
    de_err_clear(&err);
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("sub"), &s, &err), DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":1: sub: expected a group { ... }, found a list");
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("items"), &s, &err), DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, ":2: items: expected a list ( ... ), found a group");
    /* Required group absent. */
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("must"), &s, &err), DE_EMISSING);
    DE_ASSERT_CONTAINS(err.msg, "must: missing required key (a group");
    config_destroy(&cfg);

    root = read_ok(&cfg, "must = 4;\n");
    CU_ASSERT_EQUAL(de_conf_get_setting(root, K("must"), &s, &err), DE_ETYPE);
    DE_ASSERT_CONTAINS(err.msg, "must: expected a group { ... }, found an integer");
    config_destroy(&cfg);
}

/* ---- a whole table read from a file: messages name file:line ---- */

static void test_file_messages(void)
{
    char *path = de_test_tmpfile("# header\n"            /* 1 */
                                 "name = \"n\";\n"        /* 2 */
                                 "must = {\n"             /* 3 */
                                 "  count = 0;\n"         /* 4 */
                                 "};\n",                  /* 5 */
                                 ".cfg");
    config_t cfg;
    de_err err;
    CU_ASSERT_EQUAL_FATAL(de_conf_read(&cfg, path, &err), DE_OK);
    long long v;
    char want[4300];
    de_err_clear(&err);
    CU_ASSERT_EQUAL(de_conf_get_int(config_lookup(&cfg, "must"), K("count"), &v, &err), DE_ERANGE);
    snprintf(want, sizeof want, "%s:4: must.count: 0 is out of range [1, 100]", path);
    DE_ASSERT_CONTAINS(err.msg, want);
    config_destroy(&cfg);
    de_test_unlink(path);
}

static void test_print_table(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    de_conf_print_table(f, "test section", keys, NK);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    DE_ASSERT_CONTAINS(buf, "test section\n");
    DE_ASSERT_CONTAINS(buf, "count");
    DE_ASSERT_CONTAINS(buf, "[1, 100]");
    DE_ASSERT_CONTAINS(buf, "(required)");
    DE_ASSERT_CONTAINS(buf, "0.25");
    DE_ASSERT_CONTAINS(buf, "how many");
    /* One line per key, plus the section line. */
    int lines = 0;
    for (const char *p = buf; *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, (int)NK + 1);
    free(buf);
}

int main(void)
{
    static const de_test_case read_tests[] = {
        {"read string", test_read_string_ok},
        {"read string: syntax error names NAME:LINE", test_read_string_syntax},
        {"read file", test_read_file_ok},
        {"read file: syntax error names FILE:LINE", test_read_file_syntax},
        {"read file: missing file", test_read_file_missing},
        {"read file: larger than any configuration", test_read_file_huge},
        {NULL, NULL},
    };
    static const de_test_case path_tests[] = {
        {"de_conf_path of nested settings", test_path_nested},
        {"de_conf_where names file and line", test_where_file},
        {NULL, NULL},
    };
    static const de_test_case key_tests[] = {
        {"known keys pass", test_check_keys_ok},
        {"unknown key (string)", test_check_keys_unknown_string},
        {"unknown key in a list element (file)", test_check_keys_unknown_file_nested},
        {"check_keys on a non-group", test_check_keys_not_a_group},
        {"de_conf_key lookup", test_key_lookup},
        {"print table", test_print_table},
        {NULL, NULL},
    };
    static const de_test_case get_tests[] = {
        {"int", test_get_int},
        {"int: bounds are inclusive", test_get_int_bounds_inclusive},
        {"int: default", test_get_int_default},
        {"int: missing", test_get_int_missing},
        {"int: wrong type", test_get_int_wrong_type},
        {"int: out of range", test_get_int_range},
        {"float (integer literal accepted)", test_get_float},
        {"float: int and int64 literals", test_get_float_int64_literal},
        {"float: default", test_get_float_default},
        {"float: range, type, missing", test_get_float_errors},
        {"float: boolean is a wrong type", test_get_float_bool_is_wrong_type},
        {"string", test_get_string},
        {"string: errors", test_get_string_errors},
        {"bool", test_get_bool},
        {"setting", test_get_setting},
        {"setting: errors", test_get_setting_errors},
        {"messages from a file name FILE:LINE", test_file_messages},
        {NULL, NULL},
    };
    de_test_suite("de_conf read", read_tests);
    de_test_suite("de_conf path/where", path_tests);
    de_test_suite("de_conf keys", key_tests);
    de_test_suite("de_conf get", get_tests);
    return de_test_run();
}
