/* test_csv.c — the CSV reader (de_csv) and the trace loaders on top of it: fault
 * traces (de_trace) and the step / lc / allreduce sample traces (de_profile). Good
 * files load with the right cells; every malformed file is an error naming
 * FILE:LINE:COLUMN and the column. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "de_csv.h"
#include "de_profile.h"
#include "de_scenario.h"
#include "de_change.h"
#include "de_test.h"
#include "de_trace.h"

static const de_csv_col COLS[] = {
    {"name", DE_CSV_STRING, 1, 0, 0, NULL, "a label"},
    {"n", DE_CSV_INT, 1, 0, 100, NULL, "a count"},
    {"x_s", DE_CSV_NUMBER, 1, -1, 1, NULL, "a time"},
    {"opt", DE_CSV_NUMBER, 0, 0, 10, "2.5", "optional"},
};

/* Loads text against COLS; returns the code, *out on success. */
static int load(const char *text, int flags, de_csv **out, de_err *err, char **path)
{
    *path = de_test_tmpfile(text, ".csv");
    return de_csv_load(*path, COLS, 4, flags, out, err);
}

static void test_csv_good(void)
{
    de_csv *t;
    de_err err;
    char *path;
    int rc = load("# comment\n\n  # indented comment\nx_s , name,n\r\n0.5,\"a, \"\"quoted\"\" b\",3\n-1, plain ,0\n",
                  0, &t, &err, &path);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(t->n_rows, 2);
    CU_ASSERT_EQUAL(t->line[0], 5);
    CU_ASSERT_EQUAL(t->line[1], 6);
    CU_ASSERT_STRING_EQUAL(de_csv_str(t, 0, 0), "a, \"quoted\" b");
    CU_ASSERT_STRING_EQUAL(de_csv_str(t, 1, 0), "plain");
    CU_ASSERT_EQUAL(de_csv_num(t, 0, 1), 3);
    CU_ASSERT_EQUAL(de_csv_num(t, 1, 2), -1);
    CU_ASSERT_EQUAL(de_csv_num(t, 0, 3), 2.5); /* absent optional column: its default */
    CU_ASSERT_EQUAL(t->file_col[2], 1);
    CU_ASSERT_EQUAL(t->file_col[3], 0);
    CU_ASSERT_EQUAL(de_csv_col_index(t, "n"), 1);
    CU_ASSERT_EQUAL(de_csv_col_index(t, "zz"), -1);
    /* A message about a cell names file, line, column and the column's name. */
    de_csv_err(t, 1, 2, &err, DE_ERANGE, "too small");
    char want[4200];
    snprintf(want, sizeof want, "%s:6:1: x_s: too small", path);
    DE_ASSERT_CONTAINS(err.msg, want);
    de_csv_destroy(t);
    de_csv_destroy(NULL);
    de_test_unlink(path);
}

/* Checks a failed load: code, NULL result, and a message with path+where and what. */
static void load_failed(int rc, int code, const void *result, const de_err *err, const char *path, const char *where,
                        const char *what)
{
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NULL(result);
    char want[4200];
    snprintf(want, sizeof want, "%s%s", path, where);
    DE_ASSERT_CONTAINS(err->msg, want);
    DE_ASSERT_CONTAINS(err->msg, what);
}

/* Expects text to fail with code, the message containing FILE:where and what. */
static void fails(const char *text, int flags, int code, const char *where, const char *what)
{
    de_csv *t = (de_csv *)&t;
    de_err err;
    de_err_clear(&err);
    char *path;
    int rc = load(text, flags, &t, &err, &path);
    load_failed(rc, code, t, &err, path, where, what);
    de_test_unlink(path);
}

static void test_csv_errors(void)
{
    fails("name,n,x_s\na,1,0.5\nb,2\n", 0, DE_ESYNTAX, ":3:", "expected 3 columns");
    fails("name,n,x_s\na,1,0.5,9\n", 0, DE_ESYNTAX, ":2:", "found 4");
    fails("name,n,x_s\na,one,0.5\n", 0, DE_ESYNTAX, ":2:2: n: not a number ('one')", "");
    fails("name,n,x_s\na,1.5,0.5\n", 0, DE_ESYNTAX, ":2:2: n: 1.5 is not an integer", "");
    fails("name,n,x_s\na,1,2\n", 0, DE_ERANGE, ":2:3: x_s: 2 is out of range [-1, 1]", "");
    fails("name,n,x_s\na,1,\n", 0, DE_ESYNTAX, ":2:3: x_s: not a number", "");
    fails("name,n,x_s\na,1,nan\n", 0, DE_ESYNTAX, ":2:3: x_s: not a number", "");
    fails("name,n,x_s\n\"a,1,0.5\n", 0, DE_ESYNTAX, ":2:1:", "unterminated quote");
    fails("name,n,x_s\n\"a\"b,1,0.5\n", 0, DE_ESYNTAX, ":2:1:", "after a closing quote");
    fails("# only a comment\nname,n,x_s,colour\n", 0, DE_EKEY, ":2:4: unknown column 'colour'", "known: name,n,x_s,opt");
    fails("name,n,name,x_s\n", 0, DE_EDUP, ":1:3: column 'name' appears twice", "");
    fails("name,x_s\na,0\n", 0, DE_EMISSING, ":1: missing required column 'n'", "");
    fails("name,n,x_s\n", 0, DE_ESYNTAX, ": no data rows", "");
    fails("", 0, DE_ESYNTAX, ": empty (expected header 'name,n,x_s,opt')", "");
    fails("# nothing\n\n", 0, DE_ESYNTAX, ": empty", "");
    /* EXACT: the header must be the declared columns, in order. */
    fails("n,name,x_s,opt\n1,a,0,1\n", DE_CSV_EXACT, DE_ESYNTAX, ":1:1: header must be 'name,n,x_s,opt'", "");
    /* A file that cannot be read. */
    de_csv *t;
    de_err err;
    CU_ASSERT_EQUAL(de_csv_load("/nonexistent/deepedge/t.csv", COLS, 4, 0, &t, &err), DE_EIO);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/deepedge/t.csv");
}

/* ---- fault traces ---- */

static void test_fault_trace(void)
{
    char *path = de_test_tmpfile("# faults\ntime_s,device,kind,repair_s,factor\n"
                                 "10,gpu-1,crash,600,\n20,tx2-1,slowdown,,0.5\n20,nx-1,link-degrade,inf,0.25\n",
                                 ".csv");
    de_fault_trace *t;
    de_err err;
    int rc = de_fault_trace_load(path, &t, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(t->n, 3);
    CU_ASSERT_STRING_EQUAL(t->events[0].device, "gpu-1");
    CU_ASSERT_EQUAL(t->events[0].kind, DE_CHANGE_CRASH);
    CU_ASSERT_EQUAL(t->events[0].repair_s, 600);
    CU_ASSERT_EQUAL(t->events[0].factor, 0); /* a crash has no factor */
    CU_ASSERT_EQUAL(t->events[1].kind, DE_CHANGE_SLOWDOWN);
    CU_ASSERT(isinf(t->events[1].repair_s));
    CU_ASSERT_EQUAL(t->events[1].factor, 0.5);
    CU_ASSERT_EQUAL(t->events[2].kind, DE_CHANGE_LINK_DEGRADE);
    CU_ASSERT(isinf(t->events[2].repair_s));
    CU_ASSERT_EQUAL(t->events[2].line, 5);
    de_fault_trace_destroy(t);
    de_fault_trace_destroy(NULL);
    de_test_unlink(path);

    static const struct {
        const char *csv, *where, *what;
        int code;
    } bad[] = {
        {"time_s,device,kind\n10,a,explode\n", ":2:3: kind", "unknown fault kind 'explode'", DE_ERANGE},
        {"time_s,device,kind\n10,a,crash\n5,b,crash\n", ":3:1: time_s", "earlier than the previous row", DE_ERANGE},
        {"time_s,device,kind,factor\n10,a,slowdown,\n", ":2:4: factor", "needs a factor", DE_EMISSING},
        {"time_s,device,kind,factor\n10,a,slowdown,2\n", ":2:4: factor", "out of range", DE_ERANGE},
        {"time_s,device,kind,factor\n10,a,crash,0.5\n", ":2:4: factor", "a crash takes no factor", DE_EINVAL},
        {"time_s,device,kind,repair_s\n10,a,crash,soon\n", ":2:4: repair_s", "not a number", DE_ESYNTAX},
        {"time_s,device,kind,repair_s\n10,a,repair,5\n", ":2:4: repair_s", "not undone by a repair_s", DE_EINVAL},
        {"time_s,device,kind\n10,a,lc-rate\n", ":2:3: kind", "unknown fault kind 'lc-rate'", DE_ERANGE},
        {"time_s,device,kind\n10,,crash\n", ":2:2: device", "empty device name", DE_ESYNTAX},
        {"time_s,device,kind\n-1,a,crash\n", ":2:1: time_s", "out of range", DE_ERANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        path = de_test_tmpfile(bad[i].csv, ".csv");
        t = (de_fault_trace *)&t;
        rc = de_fault_trace_load(path, &t, &err);
        load_failed(rc, bad[i].code, t, &err, path, bad[i].where, bad[i].what);
        de_test_unlink(path);
    }
}

/* ---- sample traces ---- */

static void test_profile_good(void)
{
    char *path = de_test_tmpfile("device,model,rate_rps,percentile,latency_s,train_network,train_batch,train_duty,source\n"
                                 "d,m,10,95,0.02,,0,0,\"paper A: table 3\"\n"
                                 "d,m,10,99,0.05,net,16,0.5,paper B\n"
                                 "e,m,5,50,0.01,,,,paper C\n",
                                 ".csv");
    de_profile *p;
    de_err err;
    int rc = de_profile_load(path, DE_PROFILE_LC, &p, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(p->n, 3);
    CU_ASSERT(p->checksum != 0);
    CU_ASSERT_DOUBLE_EQUAL(p->rows[0].x[1], 0.95, 1e-15);
    CU_ASSERT_EQUAL(p->rows[1].x[2], 16);
    CU_ASSERT_EQUAL(p->rows[1].x[3], 0.5);
    CU_ASSERT_STRING_EQUAL(p->rows[1].train_network, "net");
    CU_ASSERT_STRING_EQUAL(p->rows[0].source, "paper A: table 3");
    CU_ASSERT_EQUAL(p->rows[2].line, 4);
    int idx[3];
    CU_ASSERT_EQUAL(de_profile_select(p, "d", "m", idx), 2);
    CU_ASSERT_EQUAL(de_profile_select(p, "e", NULL, idx), 1);
    CU_ASSERT_EQUAL(idx[0], 2);
    const char *g[3], *e[3];
    CU_ASSERT_EQUAL(de_profile_pairs(p, g, e), 2);
    de_profile_destroy(p);
    de_test_unlink(path);
    de_profile_kind k;
    CU_ASSERT_EQUAL(de_profile_kind_parse("allreduce", &k), DE_OK);
    CU_ASSERT_EQUAL(k, DE_PROFILE_ALLREDUCE);
    CU_ASSERT_EQUAL(de_profile_kind_parse("steps", &k), DE_EINVAL);
    CU_ASSERT_STRING_EQUAL(de_profile_kind_name(DE_PROFILE_STEP), "step");
}

static void test_profile_errors(void)
{
    static const struct {
        de_profile_kind kind;
        const char *csv, *where, *what;
    } bad[] = {
        {DE_PROFILE_STEP, "device,network,batch,step_time_s,source\nd,n,8,0.1,\n", ":2:5: source", "must not be empty"},
        {DE_PROFILE_STEP, "device,network,batch,step_time_s,source\nd,n,0,0.1,s\n", ":2:3: batch", "out of range"},
        {DE_PROFILE_STEP, "device,network,batch,step_time_s,source\nd,,8,0.1,s\n", ":2:2: network", "must not be empty"},
        {DE_PROFILE_STEP, "device,network,batch,lc_util,step_time_s,source\nd,n,8,1.0,0.1,s\n", ":2:4: lc_util",
         "out of range"},
        {DE_PROFILE_STEP, "device,network,batch,source\nd,n,8,s\n", ":1:", "missing required column 'step_time_s'"},
        {DE_PROFILE_LC, "device,model,rate_rps,percentile,latency_s,train_duty,source\nd,m,1,95,0.1,0.5,s\n",
         ":2:1: train_batch", "train_duty 0.5 > 0 needs train_network"},
        {DE_PROFILE_LC, "device,model,rate_rps,percentile,latency_s,source\nd,m,1,100,0.1,s\n", ":2:4: percentile",
         "out of range"},
        {DE_PROFILE_ALLREDUCE, "link,n_devices,bytes,time_s,source\nl,1,100,0.1,s\n", ":2:2: n_devices", "out of range"},
        {DE_PROFILE_ALLREDUCE, "link,n_devices,bytes,time_s,source\nl,2,100,-0.1,s\n", ":2:4: time_s", "out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = de_test_tmpfile(bad[i].csv, ".csv");
        de_profile *p = (de_profile *)&p;
        de_err err;
        de_err_clear(&err);
        int rc = de_profile_load(path, bad[i].kind, &p, &err);
        load_failed(rc, rc ? rc : -1, p, &err, path, bad[i].where, bad[i].what);
        de_test_unlink(path);
    }
}

static void test_shipped_traces(void)
{
    /* Every shipped trace loads with its kind. */
    static const struct {
        const char *path;
        de_profile_kind kind;
    } tr[] = {
        {"traces/published/train-step.csv", DE_PROFILE_STEP},
        {"traces/examples/step-synthetic.csv", DE_PROFILE_STEP},
        {"traces/examples/lc-synthetic.csv", DE_PROFILE_LC},
        {"traces/examples/allreduce-synthetic.csv", DE_PROFILE_ALLREDUCE},
    };
    for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
        de_profile *p;
        de_err err;
        int rc = de_profile_load(de_test_src(tr[i].path), tr[i].kind, &p, &err);
        if (rc)
            fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL(rc, DE_OK);
        if (!rc)
            CU_ASSERT(p->n >= 3);
        de_profile_destroy(p);
    }
    de_fault_trace *f;
    de_err err;
    CU_ASSERT_EQUAL(de_fault_trace_load(de_test_src("traces/faults-example.csv"), &f, &err), DE_OK);
    de_fault_trace_destroy(f);
    de_rate_trace *r;
    CU_ASSERT_EQUAL(de_rate_trace_load(de_test_src("traces/lc-rate-diurnal.csv"), &r, &err), DE_OK);
    de_rate_trace_destroy(r);
}

int main(void)
{
    static const de_test_case csv[] = {
        {"good file: comments, quotes, blanks, CRLF, optional column", test_csv_good},
        {"errors name file:line:column", test_csv_errors},
        {NULL, NULL}};
    static const de_test_case traces[] = {
        {"fault traces", test_fault_trace},
        {"sample traces load", test_profile_good},
        {"sample trace errors", test_profile_errors},
        {"shipped traces load", test_shipped_traces},
        {NULL, NULL}};
    de_test_suite("csv", csv);
    de_test_suite("trace loaders", traces);
    return de_test_run();
}
