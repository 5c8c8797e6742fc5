/* test_scenario.c — scenario loading and validation (de_scenario) and LC rate traces
 * (de_trace): the shipped scenarios load with the right values in SI units and the
 * declared defaults; every class of input error is refused with its code and a
 * message naming FILE:LINE and the key path (for rate traces: the trace file and
 * its line). */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_scenario.h"
#include "de_test.h"
#include "de_trace.h"
#include "de_util.h"

/* ---- a small scenario template: one line per entry, so that each error case
 * replaces one line and knows the line number the message must name ---- */

#define N_LINES 13
static const char *const base_lines[N_LINES + 1] = {
    NULL,
    /* 1 */ "name = \"t\";",
    /* 2 */ "links = ( { name = \"l1\"; bandwidth_mbps = 1000.0; latency_ms = 0.5; } );",
    /* 3 */ "devices = (",
    /* 4 */ "  { name = \"d1\"; type = \"jetson-tx2\"; link = \"l1\"; },",
    /* 5 */ "  { name = \"d2\"; type = \"x86-v100\"; link = \"l1\"; }",
    /* 6 */ ");",
    /* 7 */ "lc_tasks = (",
    /* 8 */ "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 5.0; deadline_ms = 200.0; }",
    /* 9 */ ");",
    /* 10 */ "jobs = (",
    /* 11 */ "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 1000; epochs = 1; global_batch = 32; }",
    /* 12 */ ");",
    /* 13 */ "",
};

/* The template with some lines replaced: pairs (int line, const char *text), ending with 0. */
static char *scen(int first, ...)
{
    const char *lines[N_LINES + 1];
    for (int i = 0; i <= N_LINES; i++)
        lines[i] = base_lines[i];
    va_list ap;
    va_start(ap, first);
    for (int ln = first; ln; ln = va_arg(ap, int)) {
        const char *text = va_arg(ap, const char *);
        if (ln >= 1 && ln <= N_LINES)
            lines[ln] = text;
    }
    va_end(ap);
    size_t n = 1;
    for (int i = 1; i <= N_LINES; i++)
        n += strlen(lines[i]) + 1;
    char *s = de_calloc(n, 1);
    for (int i = 1; i <= N_LINES; i++) {
        strcat(s, lines[i]);
        strcat(s, "\n");
    }
    return s;
}

/* Loads text expecting success. */
static de_scenario *load_ok(const char *text)
{
    de_scenario *s = NULL;
    de_err err;
    de_err_clear(&err);
    int rc = de_test_load_text(text, &s, &err);
    if (rc)
        fprintf(stderr, "\n  unexpected failure: %s\n  text:\n%s\n", err.msg, text);
    CU_ASSERT_EQUAL(rc, DE_OK);
    return s;
}

/* Loads text (freed here) expecting code; checks that the message contains every
 * needle (NULL-terminated). */
static void expect_fail(char *text, int code, ...)
{
    static de_scenario sentinel;
    de_scenario *s = &sentinel;
    de_err err;
    de_err_clear(&err);
    int rc = de_test_load_text(text, &s, &err);
    if (rc != code)
        fprintf(stderr, "\n  expected %s, got %s: %s\n", de_strerror(code), de_strerror(rc), err.msg);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_PTR_NULL(s);
    if (rc == DE_OK)
        de_scenario_destroy(s);
    /* Every message starts with the scenario file: the temporary .cfg. */
    DE_ASSERT_CONTAINS(err.msg, ".cfg:");
    va_list ap;
    va_start(ap, code);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        DE_ASSERT_CONTAINS(err.msg, needle);
    va_end(ap);
    free(text);
}

/* ---- the shipped scenarios ---- */

static void test_shipped_all_load(void)
{
    const char *dir = de_test_src("scenarios");
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    DIR *d = opendir(dirbuf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int n = 0, have_caltech = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0 || e->d_name[0] == '.')
            continue;
        char *path = de_path_join(dirbuf, e->d_name);
        de_scenario *s = NULL;
        de_err err;
        int rc = de_scenario_load(path, NULL, &s, &err);
        if (rc)
            fprintf(stderr, "\n  %s does not load: %s\n", e->d_name, err.msg);
        CU_ASSERT_EQUAL(rc, DE_OK);
        if (s) {
            CU_ASSERT(s->n_devices >= 1);
            CU_ASSERT(s->n_jobs >= 1);
            CU_ASSERT(s->n_links >= 1);
            CU_ASSERT_PTR_NOT_NULL(s->catalog);
            CU_ASSERT(s->name && s->name[0]);
        }
        de_scenario_destroy(s);
        have_caltech |= strcmp(e->d_name, "caltech-testbed.cfg") == 0;
        n++;
        free(path);
    }
    closedir(d);
    CU_ASSERT(n >= 1);
    CU_ASSERT(have_caltech);
}

static void test_caltech_values(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    CU_ASSERT_STRING_EQUAL(s->name, "caltech-testbed");
    DE_ASSERT_CONTAINS(s->path, "scenarios/caltech-testbed.cfg");
    CU_ASSERT_STRING_EQUAL(s->catalog_dir, DE_DEFAULT_CATALOG);
    CU_ASSERT_EQUAL(s->n_links, 3);
    CU_ASSERT_EQUAL(s->n_devices, 9);
    CU_ASSERT_EQUAL(s->n_tasks, 6);
    CU_ASSERT_EQUAL(s->n_jobs, 1);
    CU_ASSERT_EQUAL(s->n_changes, 4); /* 2 faults, each with its repair */
    CU_ASSERT(s->checksum != 0);

    /* Links: Mbit/s -> bytes/s, ms -> s. */
    CU_ASSERT_STRING_EQUAL(s->links[0].name, "eth-10g");
    CU_ASSERT_DOUBLE_EQUAL(s->links[0].bandwidth_Bps, 10000.0 * 1e6 / 8, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(s->links[0].latency_s, 0.05e-3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->links[1].bandwidth_Bps, 1.25e8, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(s->links[2].bandwidth_Bps, 5e7, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(s->links[2].latency_s, 2e-3, 1e-12);

    /* Devices: types and links resolved. */
    int tx2 = de_scenario_device(s, "tx2-2");
    CU_ASSERT_EQUAL(tx2, 6);
    CU_ASSERT_STRING_EQUAL(s->catalog->types[s->devices[tx2].type].name, "jetson-tx2");
    CU_ASSERT_STRING_EQUAL(s->links[s->devices[tx2].link].name, "wifi-ac");
    CU_ASSERT_STRING_EQUAL(s->devices[0].name, "gpu-box-1");
    CU_ASSERT_STRING_EQUAL(s->catalog->types[s->devices[0].type].name, "x86-rtx2080ti");
    CU_ASSERT_EQUAL(de_scenario_device(s, "cpu-1"), 8);
    CU_ASSERT_EQUAL(de_scenario_device(s, "nope"), -1);

    /* LC tasks: deadline ms -> s, percentile % -> fraction. */
    const de_lc_task *t = &s->tasks[0];
    CU_ASSERT_STRING_EQUAL(t->name, "traffic-cam");
    CU_ASSERT_EQUAL(t->device, 0);
    CU_ASSERT_STRING_EQUAL(s->catalog->lc_models[t->model].name, "resnet50");
    CU_ASSERT_DOUBLE_EQUAL(t->rate, 60.0, 1e-12);
    CU_ASSERT_PTR_NULL(t->trace);
    CU_ASSERT_DOUBLE_EQUAL(t->deadline_s, 0.030, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(t->percentile, 0.95, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->tasks[2].percentile, 0.99, 1e-12); /* face-detect */
    CU_ASSERT_DOUBLE_EQUAL(s->tasks[5].deadline_s, 0.020, 1e-12); /* sensor-fusion */

    /* Per-device task index. */
    CU_ASSERT_EQUAL(s->dev_task_start[0], 0);
    CU_ASSERT_EQUAL(s->dev_task_start[s->n_devices], s->n_tasks);
    for (int d = 0; d < s->n_devices; d++)
        for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++)
            CU_ASSERT_EQUAL(s->tasks[s->dev_tasks[k]].device, d);
    int orin = de_scenario_device(s, "orin-1");
    CU_ASSERT_EQUAL(s->dev_task_start[orin + 1] - s->dev_task_start[orin], 1);
    int nx = de_scenario_device(s, "nx-1");
    CU_ASSERT_EQUAL(s->dev_task_start[nx + 1] - s->dev_task_start[nx], 0);

    /* Job. */
    const de_job *j = &s->jobs[0];
    CU_ASSERT_STRING_EQUAL(j->name, "caltech256-ft");
    CU_ASSERT_STRING_EQUAL(s->catalog->networks[j->network].name, "resnet50-ft");
    CU_ASSERT_EQUAL(j->dataset_size, 30607);
    CU_ASSERT_EQUAL(j->epochs, 5);
    CU_ASSERT_EQUAL(j->global_batch, 128);
    CU_ASSERT_EQUAL(j->checkpoint_interval, 50);
    CU_ASSERT_DOUBLE_EQUAL(j->checkpoint_cost_s, 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(j->arrival_s, 0.0, 0);
    CU_ASSERT_EQUAL(de_scenario_job(s, "caltech256-ft"), 0);
    CU_ASSERT_EQUAL(de_scenario_job(s, "other"), -1);

    /* Planner and faults. */
    CU_ASSERT_EQUAL(s->planner.policy, DE_POLICY_DEEP_EDGE);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.safety_margin, 0.1, 1e-12);
    CU_ASSERT_EQUAL(s->planner.fastest_k, 0);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.switch_gain, 0.05, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.replan_cost_s, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.restart_cost_s, -1, 0);
    const de_change *c = s->changes;
    CU_ASSERT_EQUAL(c[0].kind, DE_CHANGE_CRASH);
    CU_ASSERT_EQUAL(c[0].target, de_scenario_device(s, "gpu-box-2"));
    CU_ASSERT_DOUBLE_EQUAL(c[0].time_s, 900.0, 0);
    CU_ASSERT_EQUAL(c[0].iteration, -1);
    CU_ASSERT_STRING_EQUAL(c[0].origin, "faults.[0]");
    CU_ASSERT_EQUAL(c[1].kind, DE_CHANGE_REPAIR); /* its repair_s */
    CU_ASSERT_EQUAL(c[1].target, c[0].target);
    CU_ASSERT_DOUBLE_EQUAL(c[1].time_s, 1500.0, 0);
    CU_ASSERT_EQUAL(c[1].ends, 0);
    CU_ASSERT_EQUAL(c[2].kind, DE_CHANGE_LINK_DEGRADE);
    CU_ASSERT_EQUAL(c[2].target, s->devices[de_scenario_device(s, "xavier-1")].link); /* the device's link */
    CU_ASSERT_DOUBLE_EQUAL(c[2].value, 0.25, 1e-12);
    CU_ASSERT_EQUAL(c[3].kind, DE_CHANGE_LINK_DEGRADE);
    CU_ASSERT_DOUBLE_EQUAL(c[3].value, 1.0, 0); /* back to full bandwidth */
    CU_ASSERT_DOUBLE_EQUAL(c[3].time_s, 1800.0, 0);
    de_scenario_destroy(s);
}

static void test_caltech_print(void)
{
    de_scenario *s = de_test_scenario("scenarios/caltech-testbed.cfg");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    de_scenario_print(s, f);
    fclose(f);
    DE_ASSERT_CONTAINS(buf, "caltech-testbed");
    DE_ASSERT_CONTAINS(buf, "devices (9)");
    DE_ASSERT_CONTAINS(buf, "LC tasks (6)");
    DE_ASSERT_CONTAINS(buf, "policy=deep-edge");
    DE_ASSERT_CONTAINS(buf, "traffic-cam");
    DE_ASSERT_CONTAINS(buf, "10000.0 Mbit/s");
    DE_ASSERT_CONTAINS(buf, "device gpu-box-2 crashes");
    DE_ASSERT_CONTAINS(buf, "at 0.25 x bandwidth");
    free(buf);

    buf = NULL;
    f = open_memstream(&buf, &len);
    de_scenario_print_keys(f);
    fclose(f);
    DE_ASSERT_CONTAINS(buf, "deadline_ms");
    DE_ASSERT_CONTAINS(buf, "bandwidth_mbps");
    DE_ASSERT_CONTAINS(buf, "checkpoint_interval");
    DE_ASSERT_CONTAINS(buf, "safety_margin");
    free(buf);

    CU_ASSERT_STRING_EQUAL(de_change_kind_name(DE_CHANGE_CRASH), "crash");
    CU_ASSERT_STRING_EQUAL(de_change_kind_name(DE_CHANGE_SLOWDOWN), "slowdown");
    CU_ASSERT_STRING_EQUAL(de_change_kind_name(DE_CHANGE_LINK_DEGRADE), "link-degrade");
    de_scenario_destroy(s);
    de_scenario_destroy(NULL); /* no-op */
}

static void test_explicit_catalog_dir(void)
{
    de_scenario *s = NULL;
    de_err err;
    int rc = de_scenario_load(de_test_src("scenarios/caltech-testbed.cfg"), DE_DEFAULT_CATALOG, &s, &err);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_STRING_EQUAL(s->catalog_dir, DE_DEFAULT_CATALOG);
    CU_ASSERT_EQUAL(s->catalog->n_types, 11);
    de_scenario_destroy(s);

    /* A catalog directory that does not exist: refused, naming it. */
    de_err_clear(&err);
    s = NULL;
    rc = de_scenario_load(de_test_src("scenarios/caltech-testbed.cfg"), "/nonexistent/deepedge-cat", &s, &err);
    CU_ASSERT_EQUAL(rc, DE_EIO);
    CU_ASSERT_PTR_NULL(s);
    DE_ASSERT_CONTAINS(err.msg, "caltech-testbed.cfg");
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/deepedge-cat/networks.cfg");
}

/* ---- defaults ---- */

static void test_defaults(void)
{
    char *text = scen(0);
    de_scenario *s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->n_devices, 2);
    CU_ASSERT_EQUAL(s->n_changes, 0);
    CU_ASSERT_STRING_EQUAL(s->description, "");
    CU_ASSERT_STRING_EQUAL(s->catalog_dir, DE_DEFAULT_CATALOG);
    const de_job *j = &s->jobs[0];
    CU_ASSERT_EQUAL(j->checkpoint_interval, 100);
    CU_ASSERT_DOUBLE_EQUAL(j->checkpoint_cost_s, 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(j->arrival_s, 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(s->tasks[0].percentile, 0.95, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->tasks[0].deadline_s, 0.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->tasks[0].rate, 5.0, 0);
    CU_ASSERT_EQUAL(s->planner.policy, DE_POLICY_DEEP_EDGE);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.safety_margin, 0.1, 1e-12);
    CU_ASSERT_EQUAL(s->planner.fastest_k, 0);
    CU_ASSERT_DOUBLE_EQUAL(s->links[0].bandwidth_Bps, 1.25e8, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(s->links[0].latency_s, 5e-4, 1e-15);
    de_scenario_destroy(s);
}

static void test_defaults_partial_planner(void)
{
    /* A planner group with only some keys: the rest from the table. */
    char *text = scen(13, "planner = { safety_margin = 0.25; }; faults = ( { device = \"d2\"; time_s = 5; kind = \"crash\"; } );", 0);
    de_scenario *s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->planner.policy, DE_POLICY_DEEP_EDGE);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.safety_margin, 0.25, 1e-12);
    CU_ASSERT_EQUAL(s->n_changes, 1); /* never repaired: no repair */
    CU_ASSERT_DOUBLE_EQUAL(s->changes[0].value, 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(s->changes[0].time_s, 5.0, 0); /* integer literal for a float key */
    de_scenario_destroy(s);

    text = scen(13, "planner = { policy = \"fastest-k\"; fastest_k = 2; };", 0);
    s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->planner.policy, DE_POLICY_FASTEST_K);
    CU_ASSERT_EQUAL(s->planner.fastest_k, 2);
    CU_ASSERT_DOUBLE_EQUAL(s->planner.safety_margin, 0.1, 1e-12);
    de_scenario_destroy(s);
}

static void test_no_lc_tasks(void)
{
    /* lc_tasks is optional. */
    char *text = scen(7, "", 8, "", 9, "", 0);
    de_scenario *s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->n_tasks, 0);
    CU_ASSERT_EQUAL(s->dev_task_start[s->n_devices], 0);
    de_scenario_destroy(s);
}

/* ---- error classes ---- */

static void test_err_syntax(void)
{
    expect_fail(scen(5, "  { name = ; type = \"x86-v100\"; link = \"l1\"; }", 0), DE_ESYNTAX, ".cfg:5:", "syntax error",
                NULL);
    expect_fail(scen(13, "planner = { policy = \"deep-edge\" ", 0), DE_ESYNTAX, "syntax error", NULL);
}

static void test_err_unknown_key(void)
{
    expect_fail(scen(13, "colour = \"red\";", 0), DE_EKEY, ":13: colour: unknown key", NULL);
    expect_fail(scen(5, "  { name = \"d2\"; type = \"x86-v100\"; link = \"l1\"; speed = 3; }", 0), DE_EKEY,
                ":5: devices.[1].speed: unknown key", "known here: name, type, link", NULL);
    expect_fail(scen(2, "links = ( { name = \"l1\"; bandwidth_mbps = 1000.0; latency_ms = 0.5; mtu = 1500; } );", 0),
                DE_EKEY, ":2: links.[0].mtu", NULL);
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 5.0; deadline = 200.0; }", 0),
                DE_EKEY, ":8: lc_tasks.[0].deadline: unknown key", NULL);
    expect_fail(scen(11, "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 1000; epochs = 1; batch = 32; }", 0),
                DE_EKEY, ":11: jobs.[0].batch: unknown key", NULL);
    expect_fail(scen(13, "planner = { polcy = \"exact\"; };", 0), DE_EKEY, ":13: planner.polcy: unknown key", NULL);
}

static void test_err_wrong_type(void)
{
    expect_fail(scen(2, "links = ( { name = \"l1\"; bandwidth_mbps = \"fast\"; latency_ms = 0.5; } );", 0), DE_ETYPE,
                ":2: links.[0].bandwidth_mbps: expected a number, found a string", NULL);
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = \"5\"; deadline_ms = 200.0; }", 0),
                DE_ETYPE, ":8: lc_tasks.[0].rate: expected a number", NULL);
    /* A float where an integer is required. */
    expect_fail(scen(11, "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 1000; epochs = 1.5; global_batch = 32; }", 0),
                DE_ETYPE, ":11: jobs.[0].epochs: expected an integer, found a number", NULL);
    /* A number where a name is required. */
    expect_fail(scen(4, "  { name = 1; type = \"jetson-tx2\"; link = \"l1\"; },", 0), DE_ETYPE,
                ":4: devices.[0].name: expected a string, found an integer", NULL);
    /* A group where a list is required. */
    expect_fail(scen(13, "faults = { device = \"d1\"; };", 0), DE_ETYPE, ":13: faults: expected a list", NULL);
}

static void test_err_range(void)
{
    expect_fail(scen(2, "links = ( { name = \"l1\"; bandwidth_mbps = -10.0; latency_ms = 0.5; } );", 0), DE_ERANGE,
                ":2: links.[0].bandwidth_mbps: -10 is out of range", "Mbit/s", NULL);
    expect_fail(scen(8,
                     "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 5.0; deadline_ms = 200.0; "
                     "percentile = 100.0; }",
                     0),
                DE_ERANGE, ":8: lc_tasks.[0].percentile: 100 is out of range [1, 99.999]", NULL);
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = -1; deadline_ms = 200.0; }", 0),
                DE_ERANGE, ":8: lc_tasks.[0].rate: -1 is out of range", NULL);
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 1; deadline_ms = 0; }", 0),
                DE_ERANGE, ":8: lc_tasks.[0].deadline_ms", NULL);
    expect_fail(scen(11, "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 1000; epochs = 0; global_batch = 32; }", 0),
                DE_ERANGE, ":11: jobs.[0].epochs: 0 is out of range", NULL);
    expect_fail(scen(13, "planner = { safety_margin = 0.95; };", 0), DE_ERANGE,
                ":13: planner.safety_margin: 0.95 is out of range [0, 0.9]", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; time_s = 1.0; kind = \"slowdown\"; factor = 1.5; } );", 0),
                DE_ERANGE, ":13: faults.[0].factor: 1.5 is out of range", NULL);
}

static void test_err_missing(void)
{
    expect_fail(scen(5, "  { name = \"d2\"; link = \"l1\"; }", 0), DE_EMISSING,
                ":5: devices.[1].type: missing required key", NULL);
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 5.0; }", 0), DE_EMISSING,
                ":8: lc_tasks.[0].deadline_ms: missing required key", NULL);
    expect_fail(scen(11, "  { name = \"j1\"; network = \"resnet50-ft\"; epochs = 1; global_batch = 32; }", 0), DE_EMISSING,
                ":11: jobs.[0].dataset_size: missing required key", NULL);
    /* Top level: no name (the message names the file and the key). */
    expect_fail(scen(1, "", 0), DE_EMISSING, "name: missing required key", NULL);
    /* Top level: no links. */
    expect_fail(scen(2, "", 0), DE_EMISSING, "links: missing required key", NULL);
    /* A link without a class needs both bandwidth and latency. */
    expect_fail(scen(2, "links = ( { name = \"l1\"; bandwidth_mbps = 1000.0; } );", 0), DE_EMISSING,
                ":2: links.[0].latency_ms: missing required key", "no class", NULL);
    /* A class the catalog does not have (the built-in one has no links/), or one with a bandwidth too. */
    expect_fail(scen(2, "links = ( { name = \"l1\"; class = \"host-shm\"; } );", 0), DE_EREF,
                ":2: links.[0].class: 'host-shm' is not a link class of the catalog", "deepedge calibrate", NULL);
    expect_fail(scen(2, "links = ( { name = \"l1\"; class = \"x\"; bandwidth_mbps = 10.0; } );", 0), DE_EINVAL,
                ":2: links.[0].bandwidth_mbps: link 'l1' has a class ('x')", NULL);
    /* Empty string for a required name. */
    expect_fail(scen(4, "  { name = \"\"; type = \"jetson-tx2\"; link = \"l1\"; },", 0), DE_ERANGE,
                ":4: devices.[0].name: must not be empty", NULL);
}

static void test_err_dangling(void)
{
    expect_fail(scen(8, "  { name = \"t1\"; device = \"dx\"; model = \"resnet50\"; rate = 5.0; deadline_ms = 200.0; }", 0),
                DE_EREF, ":8: lc_tasks.[0].device: unknown device 'dx'", "d1, d2", NULL);
    expect_fail(scen(4, "  { name = \"d1\"; type = \"jetson-tx2\"; link = \"lx\"; },", 0), DE_EREF,
                ":4: devices.[0].link: unknown link 'lx'", "(known: l1)", NULL);
    expect_fail(scen(5, "  { name = \"d2\"; type = \"x86-v200\"; link = \"l1\"; }", 0), DE_EREF,
                ":5: devices.[1].type: unknown device type 'x86-v200'", "jetson-tx2", NULL);
    expect_fail(scen(11, "  { name = \"j1\"; network = \"vgg16\"; dataset_size = 1000; epochs = 1; global_batch = 32; }", 0),
                DE_EREF, ":11: jobs.[0].network: unknown network 'vgg16'", "resnet50-ft", NULL);
    expect_fail(scen(13, "faults = ( { device = \"dx\"; time_s = 1.0; kind = \"crash\"; } );", 0), DE_EREF,
                ":13: faults.[0].device: unknown device 'dx'", NULL);
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"yolo\"; rate = 5.0; deadline_ms = 200.0; }", 0),
                DE_EREF, ":8: lc_tasks.[0].model: unknown LC model 'yolo'", NULL);
}

static void test_err_duplicate(void)
{
    expect_fail(scen(5, "  { name = \"d1\"; type = \"x86-v100\"; link = \"l1\"; }", 0), DE_EDUP,
                ":5: devices.[1].name: device 'd1' is defined twice", NULL);
    expect_fail(scen(2,
                     "links = ( { name = \"l1\"; bandwidth_mbps = 1000.0; latency_ms = 0.5; }, "
                     "{ name = \"l1\"; bandwidth_mbps = 10.0; latency_ms = 1; } );",
                     0),
                DE_EDUP, ":2: links.[1].name: link 'l1' is defined twice", NULL);
    expect_fail(scen(8,
                     "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 5.0; deadline_ms = 200.0; },"
                     " { name = \"t1\"; device = \"d2\"; model = \"resnet50\"; rate = 5.0; deadline_ms = 200.0; }",
                     0),
                DE_EDUP, ":8: lc_tasks.[1].name: LC task 't1' is defined twice", NULL);
    expect_fail(scen(11,
                     "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 1000; epochs = 1; global_batch = 32; },"
                     " { name = \"j1\"; network = \"edgenet-s\"; dataset_size = 1000; epochs = 1; global_batch = 32; }",
                     0),
                DE_EDUP, ":11: jobs.[1].name: job 'j1' is defined twice", NULL);
}

static void test_err_rate_choice(void)
{
    /* Both rate and rate_trace. */
    expect_fail(scen(8,
                     "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate = 5.0; rate_trace = \"x.csv\"; "
                     "deadline_ms = 200.0; }",
                     0),
                DE_EMISSING, ":8: lc_tasks.[0]", "exactly one of 'rate'", NULL);
    /* Neither. */
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; deadline_ms = 200.0; }", 0), DE_EMISSING,
                ":8: lc_tasks.[0]", "exactly one of 'rate'", NULL);
}

/* A scenario whose task t1 reads its rate from the trace file at path. */
static char *scen_trace(const char *path)
{
    static char line[4400];
    snprintf(line, sizeof line,
             "  { name = \"t1\"; device = \"d1\"; model = \"resnet50\"; rate_trace = \"%s\"; deadline_ms = 200.0; }", path);
    return scen(8, line, 0);
}

static void trace_fails(const char *csv, int code, int csv_line, const char *what)
{
    char *trace = de_test_tmpfile(csv, ".csv");
    char want[4400];
    snprintf(want, sizeof want, "%s:%d", trace, csv_line);
    expect_fail(scen_trace(trace), code, ":8: lc_tasks.[0].rate_trace", want, what, NULL);
    de_test_unlink(trace);
}

static void test_err_rate_trace(void)
{
    trace_fails("time,rate\n0,5\n", DE_ESYNTAX, 1, "header must be 'time_s,rate_rps'");
    trace_fails("# a comment\n\ntime_s,rate_rps\n0,5\n10,abc\n", DE_ESYNTAX, 5, "rate_rps: not a number");
    trace_fails("time_s,rate_rps\n0,5\nten,6\n", DE_ESYNTAX, 3, "time_s: not a number");
    trace_fails("time_s,rate_rps\n0,5\n10,6\n10,7\n", DE_ERANGE, 4, "greater than the previous row");
    trace_fails("time_s,rate_rps\n0,5\n10,6\n5,7\n", DE_ERANGE, 4, "time_s");
    trace_fails("time_s,rate_rps\n0,5\n10,-1\n", DE_ERANGE, 3, "rate_rps");
    trace_fails("time_s,rate_rps\n0,5,1\n", DE_ESYNTAX, 2, "2 columns");
    trace_fails("time_s,rate_rps\n-1,5\n", DE_ERANGE, 2, "time_s");
    trace_fails("time_s,rate_rps\n0,\n", DE_ESYNTAX, 2, "rate_rps: not a number");

    /* A trace file that does not exist. */
    expect_fail(scen_trace("/nonexistent/deepedge/rates.csv"), DE_EIO, ":8: lc_tasks.[0].rate_trace",
                "/nonexistent/deepedge/rates.csv", NULL);
    /* Header only / empty. */
    char *trace = de_test_tmpfile("time_s,rate_rps\n", ".csv");
    expect_fail(scen_trace(trace), DE_ESYNTAX, ":8: lc_tasks.[0].rate_trace", trace, "no data rows", NULL);
    de_test_unlink(trace);
    trace = de_test_tmpfile("", ".csv");
    expect_fail(scen_trace(trace), DE_ESYNTAX, ":8: lc_tasks.[0].rate_trace", trace, "empty", NULL);
    de_test_unlink(trace);
}

static void test_err_faults(void)
{
    expect_fail(scen(13, "faults = ( { device = \"d1\"; time_s = 1.0; kind = \"explode\"; } );", 0), DE_ERANGE,
                ":13: faults.[0].kind: unknown kind 'explode'", "lc-rate", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; time_s = 1.0; kind = \"crash\"; factor = 0.5; } );", 0), DE_EINVAL,
                ":13: faults.[0].factor: a crash takes no factor", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; time_s = 1.0; kind = \"slowdown\"; } );", 0), DE_EMISSING,
                ":13: faults.[0].factor", "slowdown", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; time_s = 1.0; kind = \"link-degrade\"; } );", 0), DE_EMISSING,
                ":13: faults.[0].factor", "link-degrade", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; kind = \"crash\"; } );", 0), DE_EMISSING,
                ":13: faults.[0].time_s: missing required key (or iteration)", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; kind = \"crash\"; time_s = 1; iteration = 3; } );", 0),
                DE_EINVAL, ":13: faults.[0].iteration: give time_s or iteration, not both", NULL);
    expect_fail(scen(13, "faults = ( { task = \"t1\"; kind = \"lc-rate\"; iteration = 3; } );", 0), DE_EMISSING,
                ":13: faults.[0].rate", "lc-rate", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; kind = \"lc-rate\"; rate = 5; iteration = 3; } );", 0),
                DE_EMISSING, ":13: faults.[0].task", NULL);
    expect_fail(scen(13, "faults = ( { task = \"nope\"; kind = \"lc-rate\"; rate = 5; iteration = 3; } );", 0),
                DE_EREF, ":13: faults.[0].task: unknown LC task 'nope'", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; kind = \"repair\"; time_s = 1; repair_s = 2; } );", 0),
                DE_EINVAL, ":13: faults.[0].repair_s", "not undone", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; kind = \"crash\"; iteration = 4; repair_s = 2; } );", 0),
                DE_EINVAL, ":13: faults.[0].repair_s", "goes with time_s", NULL);
    expect_fail(scen(13, "faults = ( { device = \"d1\"; task = \"t1\"; kind = \"crash\"; time_s = 1; } );", 0),
                DE_EINVAL, ":13: faults.[0].task: a crash fault takes no task", NULL);
    expect_fail(scen(13, "faults = ( { kind = \"job-arrival\"; time_s = 1; } );", 0), DE_EINVAL,
                ":13: faults.[0].kind", "arrival_s", NULL);
}

static void test_faults_ok(void)
{
    char *text = scen(13,
                      "faults = ( { device = \"d1\"; time_s = 1.0; kind = \"slowdown\"; factor = 0.5; repair_s = 10; },"
                      " { device = \"d2\"; time_s = 2.0; kind = \"link-degrade\"; factor = 0.1; },"
                      " { task = \"t1\"; iteration = 7; kind = \"lc-rate\"; rate = 40; },"
                      " { device = \"d1\"; iteration = 9; kind = \"repair\"; } );",
                      0);
    de_scenario *s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(s->n_changes, 5);
    const de_change *c = s->changes;
    CU_ASSERT_EQUAL(c[0].kind, DE_CHANGE_SLOWDOWN);
    CU_ASSERT_DOUBLE_EQUAL(c[0].value, 0.5, 0);
    CU_ASSERT_EQUAL(c[1].kind, DE_CHANGE_SLOWDOWN); /* its end, repair_s later */
    CU_ASSERT_DOUBLE_EQUAL(c[1].value, 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c[1].time_s, 11.0, 0);
    CU_ASSERT_EQUAL(c[2].kind, DE_CHANGE_LINK_DEGRADE);
    CU_ASSERT_EQUAL(c[2].target, s->devices[1].link);
    CU_ASSERT_EQUAL(c[3].kind, DE_CHANGE_LC_RATE);
    CU_ASSERT_EQUAL(c[3].target, 0);
    CU_ASSERT_DOUBLE_EQUAL(c[3].value, 40, 0);
    CU_ASSERT_EQUAL(c[3].iteration, 7);
    CU_ASSERT(isnan(c[3].time_s));
    CU_ASSERT_EQUAL(c[4].kind, DE_CHANGE_REPAIR);
    CU_ASSERT_EQUAL(c[4].iteration, 9);
    de_scenario_destroy(s);
}

static void test_err_job(void)
{
    expect_fail(scen(11, "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 100; epochs = 1; global_batch = 101; }", 0),
                DE_ERANGE, ":11: jobs.[0].global_batch: 101 exceeds dataset_size 100", NULL);
    /* global_batch == dataset_size is allowed */
    char *text = scen(11, "  { name = \"j1\"; network = \"resnet50-ft\"; dataset_size = 100; epochs = 1; global_batch = 100; }", 0);
    de_scenario *s = load_ok(text);
    free(text);
    if (s)
        CU_ASSERT_EQUAL(s->jobs[0].global_batch, 100);
    de_scenario_destroy(s);
}

static void test_err_policy(void)
{
    expect_fail(scen(13, "planner = { policy = \"nope\"; };", 0), DE_ERANGE, ":13: planner.policy: unknown policy 'nope'",
                "deep-edge", NULL);
}

static void test_err_empty_lists(void)
{
    expect_fail(scen(10, "jobs = ( );", 11, "", 12, "", 0), DE_EMISSING, ":10: jobs", "at least one job", NULL);
    /* No devices (and so no tasks). */
    expect_fail(scen(3, "devices = ( );", 4, "", 5, "", 6, "", 7, "", 8, "", 9, "", 0), DE_EMISSING, ":3: devices",
                "at least one device", NULL);
}

static void test_missing_file(void)
{
    de_scenario *s = NULL;
    de_err err;
    de_err_clear(&err);
    int rc = de_scenario_load("/nonexistent/deepedge/x.cfg", NULL, &s, &err);
    CU_ASSERT_EQUAL(rc, DE_EIO);
    CU_ASSERT_PTR_NULL(s);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/deepedge/x.cfg");
}

static void test_bad_catalog(void)
{
    /* A catalog key pointing nowhere: the message names the key's line and the directory. */
    expect_fail(scen(13, "catalog = \"/nonexistent/deepedge-catalog\";", 0), DE_EIO, ":13: catalog",
                "/nonexistent/deepedge-catalog", NULL);
}

/* ---- rate traces ---- */

static void test_rate_trace_at(void)
{
    char *trace = de_test_tmpfile("# diurnal, test\ntime_s,rate_rps\r\n0,5\r\n10, 20\n\n30,2.5\n", ".csv");
    de_rate_trace *t = NULL;
    de_err err;
    int rc = de_rate_trace_load(trace, &t, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_EQUAL(t->n, 3);
    CU_ASSERT_STRING_EQUAL(t->path, trace);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, -1.0), 5.0, 0);   /* before the first row */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 0.0), 5.0, 0);    /* exactly at a row */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 9.999), 5.0, 0);  /* between rows */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 10.0), 20.0, 0);  /* exactly at a row */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 20.0), 20.0, 0);  /* between rows */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 29.999), 20.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 30.0), 2.5, 0);   /* the last row */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 1e9), 2.5, 0);    /* after the last row */
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_peak(t), 20.0, 0);
    de_rate_trace_destroy(t);
    de_rate_trace_destroy(NULL);
    de_test_unlink(trace);

    /* A trace that starts later than 0 and has one row. */
    trace = de_test_tmpfile("time_s,rate_rps\n100,7\n", ".csv");
    CU_ASSERT_EQUAL_FATAL(de_rate_trace_load(trace, &t, &err), DE_OK);
    CU_ASSERT_EQUAL(t->n, 1);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 0.0), 7.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 100.0), 7.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t, 1000.0), 7.0, 0);
    de_rate_trace_destroy(t);
    de_test_unlink(trace);

    /* Many rows: binary search agrees with a linear scan. */
    char *csv = de_calloc(64 * 1000 + 32, 1);
    strcpy(csv, "time_s,rate_rps\n");
    for (int i = 0; i < 1000; i++) {
        char row[64];
        snprintf(row, sizeof row, "%d,%d\n", 3 * i, i % 17);
        strcat(csv, row);
    }
    trace = de_test_tmpfile(csv, ".csv");
    free(csv);
    CU_ASSERT_EQUAL_FATAL(de_rate_trace_load(trace, &t, &err), DE_OK);
    CU_ASSERT_EQUAL(t->n, 1000);
    int bad = 0;
    for (int k = 0; k < 3100; k++) {
        double x = k - 0.5;
        int row = x < 0 ? 0 : (int)(x / 3); /* last row with time <= x (first row before it) */
        if (row > 999)
            row = 999;
        int want = row % 17;
        if (de_rate_trace_at(t, x) != (double)want)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_peak(t), 16.0, 0);
    de_rate_trace_destroy(t);
    de_test_unlink(trace);
}

static void test_rate_trace_errors_direct(void)
{
    static de_rate_trace sentinel;
    de_rate_trace *t = &sentinel;
    de_err err;
    de_err_clear(&err);
    CU_ASSERT_EQUAL(de_rate_trace_load("/nonexistent/deepedge/r.csv", &t, &err), DE_EIO);
    CU_ASSERT_PTR_NULL(t);
    DE_ASSERT_CONTAINS(err.msg, "/nonexistent/deepedge/r.csv");

    char *trace = de_test_tmpfile("time_s,rate_rps\n0,1\n5,2\n5,3\n", ".csv");
    t = &sentinel;
    CU_ASSERT_EQUAL(de_rate_trace_load(trace, &t, &err), DE_ERANGE);
    CU_ASSERT_PTR_NULL(t);
    char want[4200];
    snprintf(want, sizeof want, "%s:4:1: time_s", trace);
    DE_ASSERT_CONTAINS(err.msg, want);
    de_test_unlink(trace);

    trace = de_test_tmpfile("time_s,rate_rps\n0,1\n5,1e999\n", ".csv");
    CU_ASSERT_EQUAL(de_rate_trace_load(trace, &t, &err), DE_ESYNTAX);
    snprintf(want, sizeof want, "%s:3:2: rate_rps", trace);
    DE_ASSERT_CONTAINS(err.msg, want);
    de_test_unlink(trace);
}

static void test_rate_trace_in_scenario(void)
{
    char *trace = de_test_tmpfile("time_s,rate_rps\n0,5\n10,20\n30,2.5\n", ".csv");
    /* Absolute path: used as is. */
    char *text = scen_trace(trace);
    de_scenario *s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const de_lc_task *t = &s->tasks[0];
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->trace);
    CU_ASSERT_STRING_EQUAL(t->trace->path, trace);
    CU_ASSERT_EQUAL(t->trace->n, 3);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t->trace, -5), 5.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t->trace, 15), 20.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t->trace, 30), 2.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(de_rate_trace_at(t->trace, 99), 2.5, 0);
    de_scenario_destroy(s);

    /* Relative path: joined to the scenario's directory (both are in the same temporary directory). */
    const char *base = strrchr(trace, '/');
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    text = scen_trace(base + 1);
    s = load_ok(text);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->tasks[0].trace);
    CU_ASSERT_STRING_EQUAL(s->tasks[0].trace->path, trace);
    de_scenario_destroy(s);
    de_test_unlink(trace);
}

/* ---- a scenario with its own catalog (catalog key): references the catalog lacks ---- */

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *p = de_path_join(dir, rel);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void test_own_catalog(void)
{
    char *dir = de_strdup("/tmp/deepedge-scat-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char *dd = de_path_join(dir, "devices");
    CU_ASSERT_EQUAL_FATAL(mkdir(dd, 0700), 0);
    write_file(dir, "networks.cfg",
               "networks = ( { name = \"resnet50-ft\"; description = \"r\"; parameters = 100.0; trainable_parameters = 100.0; source = \"s\"; },\n"
               "             { name = \"tiny\"; description = \"t\"; parameters = 10.0; trainable_parameters = 10.0; source = \"s\"; } );\n"
               "lc_models = ( { name = \"resnet50\"; description = \"r\"; }, { name = \"yolo\"; description = \"y\"; } );\n");
    /* One type with train params for resnet50-ft only and infer params for resnet50 only. */
    static const char dev[] =
        "name = \"%s\"; description = \"d\"; kind = \"cpu\"; memory_gb = 4; source = \"s\";\n"
        "interference = { lc_inflation = 0.5; blocking_fraction = 0.1; train_slowdown = 1.0; source = \"s\"; };\n"
        "train = ( { network = \"resnet50-ft\"; overhead_s = 0.1; per_sample_s = 0.01; max_batch = 64; source = \"s\"; } );\n"
        "infer = ( { model = \"resnet50\"; service_s = 0.01; scv = 0.5; source = \"s\"; } );\n";
    char *text = de_sprintf(dev, "jetson-tx2");
    write_file(dir, "devices/jetson-tx2.cfg", text);
    free(text);
    text = de_sprintf(dev, "x86-v100");
    write_file(dir, "devices/x86-v100.cfg", text);
    free(text);

    char line[4400];
    snprintf(line, sizeof line, "catalog = \"%s\";", dir);
    /* The template loads against this catalog. */
    text = scen(13, line, 0);
    de_scenario *s = load_ok(text);
    free(text);
    if (s) {
        CU_ASSERT_STRING_EQUAL(s->catalog_dir, dir);
        CU_ASSERT_EQUAL(s->catalog->n_types, 2);
    }
    de_scenario_destroy(s);

    /* An LC model the catalog knows but the device type has no parameters for. */
    expect_fail(scen(8, "  { name = \"t1\"; device = \"d1\"; model = \"yolo\"; rate = 5.0; deadline_ms = 200.0; }", 13, line, 0),
                DE_EREF, ":8: lc_tasks.[0].model", "no inference model for 'yolo'", "jetson-tx2.cfg", NULL);
    /* A network the catalog knows but a device type cannot train. */
    expect_fail(scen(11, "  { name = \"j1\"; network = \"tiny\"; dataset_size = 1000; epochs = 1; global_batch = 32; }", 13, line, 0),
                DE_EREF, ":11: jobs.[0].network", "no training model for network 'tiny'", NULL);

    /* A broken catalog: the scenario's error names the catalog line and the catalog file. */
    write_file(dir, "devices/x86-v100.cfg", "name = \"x86-v100\";\nbogus = 1;\n");
    char *bad = de_sprintf("%s/devices/x86-v100.cfg:2", dir);
    expect_fail(scen(13, line, 0), DE_EKEY, ":13: catalog", bad, "bogus", NULL);
    free(bad);

    char *p = de_path_join(dd, "jetson-tx2.cfg");
    unlink(p);
    free(p);
    p = de_path_join(dd, "x86-v100.cfg");
    unlink(p);
    free(p);
    rmdir(dd);
    free(dd);
    p = de_path_join(dir, "networks.cfg");
    unlink(p);
    free(p);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
    free(dir);
}

int main(void)
{
    static const de_test_case shipped[] = {
        {"every scenarios/*.cfg loads", test_shipped_all_load},
        {"caltech-testbed values in SI units", test_caltech_values},
        {"caltech-testbed print", test_caltech_print},
        {"explicit catalog directory", test_explicit_catalog_dir},
        {NULL, NULL},
    };
    static const de_test_case defaults[] = {
        {"defaults when absent", test_defaults},
        {"partial planner group, fault defaults", test_defaults_partial_planner},
        {"no LC tasks", test_no_lc_tasks},
        {"faults", test_faults_ok},
        {NULL, NULL},
    };
    static const de_test_case errors[] = {
        {"syntax error", test_err_syntax},
        {"unknown keys", test_err_unknown_key},
        {"wrong types", test_err_wrong_type},
        {"out of range", test_err_range},
        {"missing required keys", test_err_missing},
        {"dangling references", test_err_dangling},
        {"duplicate names", test_err_duplicate},
        {"rate and rate_trace", test_err_rate_choice},
        {"rate trace errors", test_err_rate_trace},
        {"fault errors", test_err_faults},
        {"global_batch > dataset_size", test_err_job},
        {"unknown policy", test_err_policy},
        {"empty lists", test_err_empty_lists},
        {"missing scenario file", test_missing_file},
        {"catalog directory that does not exist", test_bad_catalog},
        {"own catalog: missing model parameters", test_own_catalog},
        {NULL, NULL},
    };
    static const de_test_case traces[] = {
        {"piecewise-constant rate", test_rate_trace_at},
        {"trace errors (direct)", test_rate_trace_errors_direct},
        {"trace in a scenario (absolute and relative)", test_rate_trace_in_scenario},
        {NULL, NULL},
    };
    de_test_suite("shipped scenarios", shipped);
    de_test_suite("scenario defaults", defaults);
    de_test_suite("scenario errors", errors);
    de_test_suite("rate traces", traces);
    return de_test_run();
}
