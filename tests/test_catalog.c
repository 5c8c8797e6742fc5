/* test_catalog.c — the device catalog (de_catalog): the shipped catalog loads and is
 * complete and plausible; small catalogs written into a temporary directory check
 * every validation error, each of which must name the file and the line. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_catalog.h"
#include "de_exec_net.h"
#include "de_test.h"
#include "de_util.h"

static const char *const shipped_types[] = {
    "jetson-nano",     "jetson-tx2",    "jetson-xavier-nx", "jetson-agx-xavier",
    "jetson-agx-orin", "x86-rtx2080ti", "x86-v100",         "x86-cpu-2core",
    "emu-cpu-100",     "emu-cpu-050",   "emu-cpu-025",
};
#define N_SHIPPED ((int)(sizeof shipped_types / sizeof shipped_types[0]))

static de_catalog *load_shipped(void)
{
    de_catalog *cat = NULL;
    de_err err;
    de_err_clear(&err);
    int rc = de_catalog_load(DE_DEFAULT_CATALOG, &cat, &err);
    if (rc)
        fprintf(stderr, "\n  shipped catalog: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
    return cat;
}

/* ---- the shipped catalog ---- */

static void test_shipped_loads(void)
{
    de_catalog *cat = load_shipped();
    CU_ASSERT_STRING_EQUAL(cat->dir, DE_DEFAULT_CATALOG);
    CU_ASSERT_EQUAL(cat->n_types, N_SHIPPED);
    for (int i = 0; i < N_SHIPPED; i++) {
        int t = de_catalog_type(cat, shipped_types[i]);
        if (t < 0)
            fprintf(stderr, "\n  missing device type %s\n", shipped_types[i]);
        CU_ASSERT(t >= 0);
        if (t >= 0)
            CU_ASSERT_STRING_EQUAL(cat->types[t].name, shipped_types[i]);
    }
    /* Sorted by name. */
    for (int i = 1; i < cat->n_types; i++)
        CU_ASSERT(strcmp(cat->types[i - 1].name, cat->types[i].name) < 0);
    /* The networks and LC models the scenarios use. */
    CU_ASSERT(de_catalog_network(cat, "resnet50-ft") >= 0);
    CU_ASSERT(de_catalog_network(cat, "edgenet-s") >= 0);
    CU_ASSERT(de_catalog_lc_model(cat, "resnet50") >= 0);
    CU_ASSERT(de_catalog_lc_model(cat, "mobilenet-v2") >= 0);
    CU_ASSERT(de_catalog_lc_model(cat, "edgenet-s") >= 0);
    CU_ASSERT(cat->n_networks >= 2);
    CU_ASSERT(cat->n_lc_models >= 3);
    de_catalog_destroy(cat);
}

static void test_shipped_lookups(void)
{
    de_catalog *cat = load_shipped();
    CU_ASSERT_EQUAL(de_catalog_type(cat, "jetson-tx3"), -1);
    CU_ASSERT_EQUAL(de_catalog_type(cat, ""), -1);
    CU_ASSERT_EQUAL(de_catalog_network(cat, "resnet50"), -1); /* an LC model, not a network */
    CU_ASSERT_EQUAL(de_catalog_lc_model(cat, "resnet50-ft"), -1);
    CU_ASSERT_EQUAL(de_catalog_lc_model(cat, "nope"), -1);
    int tx2 = de_catalog_type(cat, "jetson-tx2");
    int net = de_catalog_network(cat, "resnet50-ft");
    CU_ASSERT_FATAL(tx2 >= 0 && net >= 0);
    const de_train_params *p = de_catalog_train(cat, tx2, net);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->network, net);
    /* The values of models/devices/jetson-tx2.cfg: the GSL fit (deepedge fit --all) to
     * the case-study logs, which the hand-set 0.149 + 0.0775 b rounded. */
    CU_ASSERT_DOUBLE_EQUAL(p->overhead_s, 0.149, 5e-4);
    CU_ASSERT_DOUBLE_EQUAL(p->per_sample_s, 0.0775, 5e-5);
    CU_ASSERT_EQUAL(p->fit.points, 3);
    CU_ASSERT(p->fit.r2 > 0.999);
    CU_ASSERT(p->fit.cv_mape > 0 && p->fit.cv_mape < 10);
    CU_ASSERT_EQUAL(p->max_batch, 32);
    CU_ASSERT_PTR_NULL(de_catalog_train(cat, tx2, cat->n_networks)); /* no such network index */
    CU_ASSERT_PTR_NULL(de_catalog_infer(cat, tx2, -1));
    CU_ASSERT_STRING_EQUAL(cat->types[tx2].kind, "jetson");
    CU_ASSERT_DOUBLE_EQUAL(cat->types[tx2].memory_gb, 8.0, 1e-12);
    de_catalog_destroy(cat);
}

/* Physical types have every network and LC model; emulated ones (slices of the host
 * running `deepedge run`) have what the executor can run: edgenet-s. */
static void test_shipped_complete(void)
{
    de_catalog *cat = load_shipped();
    int edgenet = de_catalog_network(cat, "edgenet-s"), edgenet_lc = de_catalog_lc_model(cat, "edgenet-s");
    CU_ASSERT_FATAL(edgenet >= 0 && edgenet_lc >= 0);
    for (int t = 0; t < cat->n_types; t++) {
        const de_device_type *ty = &cat->types[t];
        if (ty->emulation_cpu_cores > 0) {
            CU_ASSERT(ty->emulation_cpu_cores <= 1);
            CU_ASSERT_PTR_NOT_NULL(de_catalog_train(cat, t, edgenet));
            CU_ASSERT_PTR_NOT_NULL(de_catalog_infer(cat, t, edgenet_lc));
            continue;
        }
        for (int n = 0; n < cat->n_networks; n++) {
            const de_train_params *p = de_catalog_train(cat, t, n);
            if (!p)
                fprintf(stderr, "\n  %s: no train params for %s\n", ty->name, cat->networks[n].name);
            CU_ASSERT_PTR_NOT_NULL(p);
            if (p) {
                CU_ASSERT(p->per_sample_s > 0);
                CU_ASSERT(p->overhead_s >= 0);
                CU_ASSERT(p->max_batch >= 1);
            }
        }
        for (int m = 0; m < cat->n_lc_models; m++) {
            const de_infer_params *p = de_catalog_infer(cat, t, m);
            if (!p)
                fprintf(stderr, "\n  %s: no infer params for %s\n", ty->name, cat->lc_models[m].name);
            CU_ASSERT_PTR_NOT_NULL(p);
            if (p) {
                CU_ASSERT(p->service_s > 0);
                CU_ASSERT(p->scv >= 0);
            }
        }
        CU_ASSERT_EQUAL(ty->n_train, cat->n_networks);
        CU_ASSERT_EQUAL(ty->n_infer, cat->n_lc_models);
    }
    de_catalog_destroy(cat);
}

static void test_shipped_sources(void)
{
    de_catalog *cat = load_shipped();
    for (int n = 0; n < cat->n_networks; n++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(cat->networks[n].source);
        CU_ASSERT(strlen(cat->networks[n].source) > 0);
        CU_ASSERT(strlen(cat->networks[n].description) > 0);
    }
    for (int m = 0; m < cat->n_lc_models; m++)
        CU_ASSERT(strlen(cat->lc_models[m].description) > 0);
    for (int t = 0; t < cat->n_types; t++) {
        const de_device_type *ty = &cat->types[t];
        CU_ASSERT_PTR_NOT_NULL_FATAL(ty->source);
        CU_ASSERT(strlen(ty->source) > 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ty->interference.source);
        CU_ASSERT(strlen(ty->interference.source) > 0);
        CU_ASSERT(strlen(ty->description) > 0);
        for (int i = 0; i < ty->n_train; i++) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(ty->train[i].source);
            CU_ASSERT(strlen(ty->train[i].source) > 0);
        }
        for (int i = 0; i < ty->n_infer; i++) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(ty->infer[i].source);
            CU_ASSERT(strlen(ty->infer[i].source) > 0);
        }
        /* kind is one of the three; the file is devices/<name>.cfg */
        CU_ASSERT(strcmp(ty->kind, "jetson") == 0 || strcmp(ty->kind, "gpu") == 0 || strcmp(ty->kind, "cpu") == 0);
        CU_ASSERT(ty->memory_gb > 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ty->file);
        char want[256];
        snprintf(want, sizeof want, "devices/%s.cfg", ty->name);
        DE_ASSERT_CONTAINS(ty->file, want);
    }
    de_catalog_destroy(cat);
}

static void test_shipped_sanity(void)
{
    de_catalog *cat = load_shipped();
    int net = de_catalog_network(cat, "resnet50-ft");
    int v100 = de_catalog_type(cat, "x86-v100"), tx2 = de_catalog_type(cat, "jetson-tx2"),
        nano = de_catalog_type(cat, "jetson-nano");
    CU_ASSERT_FATAL(net >= 0 && v100 >= 0 && tx2 >= 0 && nano >= 0);
    double pv = de_catalog_train(cat, v100, net)->per_sample_s;
    double pt = de_catalog_train(cat, tx2, net)->per_sample_s;
    double pn = de_catalog_train(cat, nano, net)->per_sample_s;
    CU_ASSERT(pv < pt);
    CU_ASSERT(pt < pn);
    /* A data-centre GPU is at least several times faster than a TX2. */
    CU_ASSERT(pt / pv > 3.0);

    /* Jetson kinds and GPU kinds as declared. */
    CU_ASSERT_STRING_EQUAL(cat->types[v100].kind, "gpu");
    CU_ASSERT_STRING_EQUAL(cat->types[nano].kind, "jetson");
    CU_ASSERT_STRING_EQUAL(cat->types[de_catalog_type(cat, "x86-cpu-2core")].kind, "cpu");

    for (int n = 0; n < cat->n_networks; n++) {
        const de_network *nw = &cat->networks[n];
        CU_ASSERT_DOUBLE_EQUAL(nw->gradient_bytes, 4.0 * nw->trainable_parameters, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(nw->checkpoint_bytes, 4.0 * (nw->parameters + nw->trainable_parameters), 1e-6);
        CU_ASSERT(nw->trainable_parameters <= nw->parameters);
        CU_ASSERT(nw->trainable_parameters >= 1);
    }
    /* The counts derived in networks.cfg. */
    CU_ASSERT_DOUBLE_EQUAL(cat->networks[net].parameters, 24034625.0, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(cat->networks[de_catalog_network(cat, "edgenet-s")].parameters, 454465.0, 0.5);
    /* The smaller network is cheaper per sample on every device. */
    int small = de_catalog_network(cat, "edgenet-s");
    for (int t = 0; t < cat->n_types; t++)
        if (de_catalog_train(cat, t, net)) /* emulated types have edgenet-s only */
            CU_ASSERT(de_catalog_train(cat, t, small)->per_sample_s < de_catalog_train(cat, t, net)->per_sample_s);
    de_catalog_destroy(cat);
}

static void test_shipped_print(void)
{
    de_catalog *cat = load_shipped();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    de_catalog_print(cat, f);
    fclose(f);
    for (int i = 0; i < N_SHIPPED; i++)
        DE_ASSERT_CONTAINS(buf, shipped_types[i]);
    DE_ASSERT_CONTAINS(buf, "11 device types");
    DE_ASSERT_CONTAINS(buf, "resnet50-ft");
    DE_ASSERT_CONTAINS(buf, "mobilenet-v2");
    free(buf);

    buf = NULL;
    f = open_memstream(&buf, &len);
    de_catalog_print_keys(f);
    fclose(f);
    DE_ASSERT_CONTAINS(buf, "per_sample_s");
    DE_ASSERT_CONTAINS(buf, "max_batch");
    DE_ASSERT_CONTAINS(buf, "lc_inflation");
    DE_ASSERT_CONTAINS(buf, "trainable_parameters");
    free(buf);
    de_catalog_destroy(cat);
    de_catalog_destroy(NULL); /* no-op */
}

/* ---- temporary catalogs for the error cases ---- */

/* networks.cfg: two networks, two LC models. Line numbers matter below. */
static const char good_networks[] =
    "networks = (\n"                                                                                   /* 1 */
    "  { name = \"net-a\"; description = \"A\"; parameters = 1000.0; trainable_parameters = 500.0;\n"    /* 2 */
    "    source = \"test: a\"; },\n"                                                                     /* 3 */
    "  { name = \"net-b\"; description = \"B\"; parameters = 2000; trainable_parameters = 2000;\n"       /* 4 */
    "    source = \"test: b\"; }\n"                                                                      /* 5 */
    ");\n"                                                                                             /* 6 */
    "lc_models = (\n"                                                                                  /* 7 */
    "  { name = \"lc-a\"; description = \"LC A\"; },\n"                                                 /* 8 */
    "  { name = \"lc-b\"; description = \"LC B\"; }\n"                                                  /* 9 */
    ");\n";                                                                                            /* 10 */

/* A device file in parts, so that each error case replaces one line.
 * Line 1 name, 2 description, 3 kind, 4 memory_gb, 5 source, 6 interference,
 * 7 "train = (", 8 first train entry, 9 second, 10 ");", 11 "infer = (", 12 first infer, 13 ");" */
typedef struct dev_text {
    const char *name, *extra, *train0, *train1, *infer0;
} dev_text;

static char *device_cfg(const dev_text *d)
{
    return de_sprintf("name = \"%s\";\n"
                      "description = \"test device\";\n"
                      "kind = \"gpu\";\n"
                      "memory_gb = 8.0;\n"
                      "%s\n"
                      "interference = { lc_inflation = 1.0; blocking_fraction = 0.01; train_slowdown = 0.5; source = \"t\"; };\n"
                      "train = (\n"
                      "%s,\n"
                      "%s\n"
                      ");\n"
                      "infer = (\n"
                      "%s\n"
                      ");\n",
                      d->name, d->extra ? d->extra : "source = \"test hw\";",
                      d->train0 ? d->train0
                                : "  { network = \"net-a\"; overhead_s = 0.1; per_sample_s = 0.01; max_batch = 64; source = \"t\"; }",
                      d->train1 ? d->train1
                                : "  { network = \"net-b\"; overhead_s = 0.2; per_sample_s = 0.02; max_batch = 32; source = \"t\"; }",
                      d->infer0 ? d->infer0 : "  { model = \"lc-a\"; service_s = 0.005; scv = 0.1; source = \"t\"; }");
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *p = de_path_join(dir, rel);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

/* Makes DIR (mkdtemp) with networks.cfg and devices/; returns DIR (caller: rm_catalog). */
static char *make_catalog(const char *networks)
{
    char *dir = de_strdup("/tmp/deepedge-cat-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    if (networks)
        write_file(dir, "networks.cfg", networks);
    char *dd = de_path_join(dir, "devices");
    CU_ASSERT_EQUAL_FATAL(mkdir(dd, 0700), 0);
    free(dd);
    return dir;
}

static void add_device(const char *dir, const char *file, const dev_text *d)
{
    char *text = device_cfg(d);
    char *rel = de_sprintf("devices/%s", file);
    write_file(dir, rel, text);
    free(rel);
    free(text);
}

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = de_path_join(dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
}

static void rm_catalog(char *dir)
{
    char *dd = de_path_join(dir, "devices");
    rm_dir_files(dd);
    rmdir(dd);
    free(dd);
    rm_dir_files(dir);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
    free(dir);
}

/* Loads dir expecting failure with code; returns the message (static). */
static const char *load_fails(const char *dir, int code)
{
    static de_err err;
    static de_catalog sentinel;
    de_catalog *cat = &sentinel; /* must be reset to NULL */
    de_err_clear(&err);
    int rc = de_catalog_load(dir, &cat, &err);
    if (rc != code)
        fprintf(stderr, "\n  expected %s, got %s: %s\n", de_strerror(code), de_strerror(rc), err.msg);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_PTR_NULL(cat);
    if (rc == DE_OK)
        de_catalog_destroy(cat);
    return err.msg;
}

/* Loads dir expecting success (the message on stderr if not); NULL on failure. */
static de_catalog *load_ok(const char *dir)
{
    de_catalog *cat = NULL;
    de_err err;
    int rc = de_catalog_load(dir, &cat, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, DE_OK);
    return rc ? NULL : cat;
}

/* "DIR/devices/FILE:LINE" */
static char *dev_where(const char *dir, const char *file, int line)
{
    return de_sprintf("%s/devices/%s:%d", dir, file, line);
}

static void test_tmp_good(void)
{
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-b"};
    add_device(dir, "dev-b.cfg", &d);
    d.name = "dev-a";
    add_device(dir, "dev-a.cfg", &d);
    write_file(dir, "devices/README.md", "not a device file\n");
    write_file(dir, "devices/.hidden.cfg", "this = is not; valid\n");
    de_catalog *cat = load_ok(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
    CU_ASSERT_EQUAL(cat->n_types, 2);
    CU_ASSERT_EQUAL(cat->n_networks, 2);
    CU_ASSERT_EQUAL(cat->n_lc_models, 2);
    CU_ASSERT_STRING_EQUAL(cat->types[0].name, "dev-a"); /* sorted */
    CU_ASSERT_STRING_EQUAL(cat->types[1].name, "dev-b");
    int a = de_catalog_network(cat, "net-a");
    CU_ASSERT_EQUAL(a, 0);
    CU_ASSERT_DOUBLE_EQUAL(cat->networks[a].gradient_bytes, 2000.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cat->networks[a].checkpoint_bytes, 6000.0, 1e-9);
    /* integer literals accepted for float keys */
    CU_ASSERT_DOUBLE_EQUAL(cat->networks[1].parameters, 2000.0, 1e-9);
    const de_train_params *p = de_catalog_train(cat, 0, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_DOUBLE_EQUAL(p->per_sample_s, 0.02, 1e-15);
    CU_ASSERT_EQUAL(p->max_batch, 32);
    /* lc-b has no infer entry on these types */
    CU_ASSERT_PTR_NOT_NULL(de_catalog_infer(cat, 0, 0));
    CU_ASSERT_PTR_NULL(de_catalog_infer(cat, 0, 1));
    CU_ASSERT_DOUBLE_EQUAL(cat->types[0].interference.train_slowdown, 0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(cat->types[0].interference.colocation_slowdown, 0.0, 0.0); /* absent: 0 */
    de_catalog_destroy(cat);
    rm_catalog(dir);
}

/* links/NAME.cfg: a measured link class loads (per_ranks sorted, each file listed); a bad
 * one is refused with its file, line and key. */
static void test_tmp_link_classes(void)
{
    static const char good[] = "link = { name = \"eth\"; bandwidth_mbps = 800.0; latency_ms = 0.01; };\n"
                               "fit = { trace = \"t\"; r2 = 0.9; };\n"
                               "per_ranks = ( { ranks = 3; alpha_s = 3e-5; beta_Bps = 2e8; },\n"
                               "              { ranks = 2; alpha_s = 2e-5; beta_Bps = 1e8; points = 4; } );\n";
    static const struct {
        const char *text, *code_text;
        int code, line;
    } bad[] = {
        {"link = { name = \"other\"; bandwidth_mbps = 800.0; latency_ms = 0.01; };\n", "must match the file name",
         DE_EINVAL, 1},
        {"link = { name = \"eth\"; latency_ms = 0.01; };\n", "link.bandwidth_mbps: missing", DE_EMISSING, 1},
        {"link = { name = \"eth\"; bandwidth_mbps = 800.0; latency_ms = 0.01; };\n"
         "per_ranks = ( { ranks = 2; alpha_s = 2e-5; beta_Bps = 1e8; },\n"
         "              { ranks = 2; alpha_s = 3e-5; beta_Bps = 1e8; } );\n",
         "ranks: 2 has a fit already", DE_EDUP, 3},
        {"link = { name = \"eth\"; bandwidth_mbps = 800.0; latency_ms = 0.01; };\n"
         "per_ranks = ( { ranks = 2; alpha_s = -1.0; beta_Bps = 1e8; } );\n",
         "per_ranks.[0].alpha_s: -1 is out of range", DE_ERANGE, 2},
        {"link = { name = \"eth\"; bandwidth_mbps = 800.0; latency_ms = 0.01; };\nspeed = 3;\n", "speed: unknown key",
         DE_EKEY, 2},
    };
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a"};
    add_device(dir, "dev-a.cfg", &d);
    char *ld = de_path_join(dir, "links");
    CU_ASSERT_EQUAL_FATAL(mkdir(ld, 0700), 0);
    write_file(dir, "links/eth.cfg", good);
    de_catalog *cat = load_ok(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
    CU_ASSERT_EQUAL_FATAL(cat->n_link_classes, 1);
    int c = de_catalog_link_class(cat, "eth");
    CU_ASSERT_EQUAL_FATAL(c, 0);
    CU_ASSERT_EQUAL(de_catalog_link_class(cat, "wifi"), -1);
    const de_link_class *lc = &cat->link_classes[c];
    CU_ASSERT_DOUBLE_EQUAL(lc->bandwidth_Bps, 1e8, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(lc->latency_s, 1e-5, 1e-15);
    CU_ASSERT_EQUAL(lc->n_per_ranks, 2);
    CU_ASSERT_EQUAL(lc->per_ranks[0].ranks, 2); /* sorted */
    CU_ASSERT_PTR_NOT_NULL(de_link_class_at(lc, 3));
    CU_ASSERT_DOUBLE_EQUAL(de_link_class_at(lc, 3)->alpha_s, 3e-5, 1e-15);
    CU_ASSERT_PTR_NULL(de_link_class_at(lc, 4));
    int listed = 0;
    for (int i = 0; i < cat->n_files; i++)
        listed += strstr(cat->files[i], "links/eth.cfg") != NULL;
    CU_ASSERT_EQUAL(listed, 1);
    char *printed = NULL;
    size_t plen = 0;
    FILE *mem = open_memstream(&printed, &plen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
    de_catalog_print(cat, mem);
    fclose(mem);
    DE_ASSERT_CONTAINS(printed, "link class");
    DE_ASSERT_CONTAINS(printed, "2: 2e-05 s, 1e+08 B/s; 3: 3e-05 s, 2e+08 B/s;");
    free(printed);
    de_catalog_destroy(cat);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(dir, "links/eth.cfg", bad[i].text);
        const char *msg = load_fails(dir, bad[i].code);
        char *w = de_sprintf("%s/links/eth.cfg:%d", dir, bad[i].line);
        DE_ASSERT_CONTAINS(msg, w);
        DE_ASSERT_CONTAINS(msg, bad[i].code_text);
        free(w);
    }
    rm_dir_files(ld);
    rmdir(ld);
    free(ld);
    rm_catalog(dir);
}

static void test_tmp_unknown_key(void)
{
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a", .extra = "colour = \"red\";"}; /* line 5, replaces source */
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EKEY);
    char *w = dev_where(dir, "dev-a.cfg", 5);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "colour");
    DE_ASSERT_CONTAINS(msg, "unknown key");
    free(w);
    rm_catalog(dir);

    /* Unknown key inside a train entry. */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a",
                   .train1 = "  { network = \"net-b\"; overhead_s = 0.2; per_sample_s = 0.02; max_batch = 32; "
                             "source = \"t\"; batch = 3; }"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_EKEY);
    w = dev_where(dir, "dev-a.cfg", 9);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[1].batch");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_unknown_network(void)
{
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a",
                  .train0 = "  { network = \"net-zzz\"; overhead_s = 0.1; per_sample_s = 0.01; max_batch = 64; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EREF);
    char *w = dev_where(dir, "dev-a.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[0].network");
    DE_ASSERT_CONTAINS(msg, "net-zzz");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_unknown_lc_model(void)
{
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a", .infer0 = "  { model = \"yolo\"; service_s = 0.005; scv = 0.1; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EREF);
    char *w = dev_where(dir, "dev-a.cfg", 12);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "infer.[0].model");
    DE_ASSERT_CONTAINS(msg, "yolo");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_name_mismatch(void)
{
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-b"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EINVAL);
    char *w = de_sprintf("%s/devices/dev-a.cfg", dir);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "'dev-b'");
    DE_ASSERT_CONTAINS(msg, "'dev-a'");
    DE_ASSERT_CONTAINS(msg, "dev-a.cfg:1: name"); /* the name key is on line 1 */
    free(w);
    rm_catalog(dir);
}

static void test_tmp_missing_source(void)
{
    /* In a train entry. */
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a",
                  .train0 = "  { network = \"net-a\"; overhead_s = 0.1; per_sample_s = 0.01; max_batch = 64; }"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EMISSING);
    char *w = dev_where(dir, "dev-a.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[0].source");
    free(w);
    rm_catalog(dir);

    /* Empty source string is refused too (required keys must not be empty). */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a",
                   .train1 = "  { network = \"net-b\"; overhead_s = 0.2; per_sample_s = 0.02; max_batch = 32; source = \"\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_ERANGE);
    w = dev_where(dir, "dev-a.cfg", 9);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[1].source");
    DE_ASSERT_CONTAINS(msg, "must not be empty");
    free(w);
    rm_catalog(dir);

    /* The top-level hardware source: the message names the file and the key. */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a", .extra = "# no source here"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_EMISSING);
    w = de_sprintf("%s/devices/dev-a.cfg:", dir);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "source: missing required key");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_max_batch_range(void)
{
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a",
                  .train1 = "  { network = \"net-b\"; overhead_s = 0.2; per_sample_s = 0.02; max_batch = 0; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_ERANGE);
    char *w = dev_where(dir, "dev-a.cfg", 9);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[1].max_batch");
    DE_ASSERT_CONTAINS(msg, "[1, 65536]");
    free(w);
    rm_catalog(dir);

    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a",
                   .train0 = "  { network = \"net-a\"; overhead_s = 0.1; per_sample_s = 0.01; max_batch = 65537; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_ERANGE);
    w = dev_where(dir, "dev-a.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "65537");
    free(w);
    rm_catalog(dir);

    /* Wrong type: a float max_batch. */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a",
                   .train0 = "  { network = \"net-a\"; overhead_s = 0.1; per_sample_s = 0.01; max_batch = 64.0; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_ETYPE);
    w = dev_where(dir, "dev-a.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "max_batch: expected an integer");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_duplicate_network(void)
{
    static const char dup_networks[] =
        "networks = (\n"                                                                                      /* 1 */
        "  { name = \"net-a\"; description = \"A\"; parameters = 10.0; trainable_parameters = 5.0; source = \"s\"; },\n" /* 2 */
        "  { name = \"net-b\"; description = \"B\"; parameters = 10.0; trainable_parameters = 5.0; source = \"s\"; },\n" /* 3 */
        "  { name = \"net-a\"; description = \"A2\"; parameters = 10.0; trainable_parameters = 5.0; source = \"s\"; }\n"  /* 4 */
        ");\n"
        "lc_models = ( { name = \"lc-a\"; description = \"x\"; } );\n";
    char *dir = make_catalog(dup_networks);
    dev_text d = {.name = "dev-a"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EDUP);
    char *w = de_sprintf("%s/networks.cfg:4", dir);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "net-a");
    DE_ASSERT_CONTAINS(msg, "networks.[2]");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_duplicate_entries(void)
{
    /* Two train entries for the same network. */
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a",
                  .train1 = "  { network = \"net-a\"; overhead_s = 0.2; per_sample_s = 0.02; max_batch = 32; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    const char *msg = load_fails(dir, DE_EDUP);
    char *w = dev_where(dir, "dev-a.cfg", 9);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[1]");
    DE_ASSERT_CONTAINS(msg, "net-a");
    free(w);
    rm_catalog(dir);

    /* Duplicate LC model in networks.cfg. */
    static const char dup_lc[] =
        "networks = ( { name = \"net-a\"; description = \"A\"; parameters = 10.0; trainable_parameters = 5.0; source = \"s\"; } );\n"
        "lc_models = (\n"
        "  { name = \"lc-a\"; description = \"x\"; },\n"
        "  { name = \"lc-a\"; description = \"y\"; }\n"
        ");\n";
    dir = make_catalog(dup_lc);
    msg = load_fails(dir, DE_EDUP);
    w = de_sprintf("%s/networks.cfg:4", dir);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "lc-a");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_network_errors(void)
{
    /* trainable_parameters > parameters */
    static const char bad_counts[] =
        "networks = (\n"
        "  { name = \"net-a\"; description = \"A\";\n"
        "    parameters = 10.0; trainable_parameters = 11.0; source = \"s\"; }\n"
        ");\n"
        "lc_models = ( { name = \"lc-a\"; description = \"x\"; } );\n";
    char *dir = make_catalog(bad_counts);
    const char *msg = load_fails(dir, DE_ERANGE);
    char *w = de_sprintf("%s/networks.cfg:2", dir);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "trainable_parameters");
    free(w);
    rm_catalog(dir);

    /* unknown key in networks.cfg */
    static const char bad_key[] =
        "networks = (\n"
        "  { name = \"net-a\"; description = \"A\"; parameters = 10.0; trainable_parameters = 5.0; source = \"s\";\n"
        "    layers = 50; }\n"
        ");\n"
        "lc_models = ( { name = \"lc-a\"; description = \"x\"; } );\n";
    dir = make_catalog(bad_key);
    msg = load_fails(dir, DE_EKEY);
    w = de_sprintf("%s/networks.cfg:3", dir);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "networks.[0].layers");
    free(w);
    rm_catalog(dir);

    /* syntax error */
    dir = make_catalog("networks = (\n  { name = \"x\" }\n  oops\n);\n");
    msg = load_fails(dir, DE_ESYNTAX);
    w = de_sprintf("%s/networks.cfg:", dir);
    DE_ASSERT_CONTAINS(msg, w);
    free(w);
    rm_catalog(dir);
}

static void test_tmp_device_errors(void)
{
    /* bad kind */
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "dev-a"};
    char *text = device_cfg(&d);
    char *bad = de_sprintf("%s", text);
    char *k = strstr(bad, "kind = \"gpu\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    memcpy(k, "kind = \"tpu\"", 12);
    write_file(dir, "devices/dev-a.cfg", bad);
    const char *msg = load_fails(dir, DE_ERANGE);
    char *w = dev_where(dir, "dev-a.cfg", 3);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "kind");
    DE_ASSERT_CONTAINS(msg, "tpu");
    free(w);
    free(bad);
    free(text);
    rm_catalog(dir);

    /* syntax error in a device file, line 8 */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a", .train0 = "  { network = ; overhead_s = 0.1; }"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_ESYNTAX);
    w = dev_where(dir, "dev-a.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    free(w);
    rm_catalog(dir);

    /* per_sample_s out of range (must be > 0) */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a",
                   .train0 = "  { network = \"net-a\"; overhead_s = 0.1; per_sample_s = 0; max_batch = 64; source = \"t\"; }"};
    add_device(dir, "dev-a.cfg", &d);
    msg = load_fails(dir, DE_ERANGE);
    w = dev_where(dir, "dev-a.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "train.[0].per_sample_s");
    free(w);
    rm_catalog(dir);

    /* interference coefficient out of range, line 6 */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a"};
    text = device_cfg(&d);
    bad = de_sprintf("%s", text);
    k = strstr(bad, "blocking_fraction = 0.01");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    memcpy(k, "blocking_fraction = 1.01", 24);
    write_file(dir, "devices/dev-a.cfg", bad);
    msg = load_fails(dir, DE_ERANGE);
    w = dev_where(dir, "dev-a.cfg", 6);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "interference.blocking_fraction");
    free(w);
    free(bad);
    free(text);
    rm_catalog(dir);

    /* colocation_slowdown: optional (0 when absent, above), out of range refused by key */
    dir = make_catalog(good_networks);
    d = (dev_text){.name = "dev-a"};
    text = device_cfg(&d);
    k = strstr(text, "train_slowdown = ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    bad = de_sprintf("%.*scolocation_slowdown = 11.0; %s", (int)(k - text), text, k);
    write_file(dir, "devices/dev-a.cfg", bad);
    msg = load_fails(dir, DE_ERANGE);
    DE_ASSERT_CONTAINS(msg, "interference.colocation_slowdown");
    free(bad);
    bad = de_sprintf("%.*scolocation_slowdown = 0.15; %s", (int)(k - text), text, k);
    write_file(dir, "devices/dev-a.cfg", bad);
    de_catalog *cat = NULL;
    de_err e2;
    CU_ASSERT_EQUAL_FATAL(de_catalog_load(dir, &cat, &e2), DE_OK);
    CU_ASSERT_DOUBLE_EQUAL(cat->types[0].interference.colocation_slowdown, 0.15, 1e-15);
    de_catalog_destroy(cat);
    free(bad);
    free(text);
    rm_catalog(dir);
}

static void test_tmp_directory_errors(void)
{
    /* No networks.cfg */
    char *dir = make_catalog(NULL);
    const char *msg = load_fails(dir, DE_EIO);
    DE_ASSERT_CONTAINS(msg, "networks.cfg");
    rm_catalog(dir);

    /* No devices/ at all */
    dir = make_catalog(good_networks);
    char *dd = de_path_join(dir, "devices");
    CU_ASSERT_EQUAL(rmdir(dd), 0);
    free(dd);
    msg = load_fails(dir, DE_EIO);
    DE_ASSERT_CONTAINS(msg, "devices");
    rm_catalog(dir);

    /* Nonexistent directory */
    msg = load_fails("/nonexistent/deepedge/catalog", DE_EIO);
    DE_ASSERT_CONTAINS(msg, "/nonexistent/deepedge/catalog");
}

static void test_tmp_error_in_second_file(void)
{
    /* The first file (sorted) is fine, the second is bad: the message names the second. */
    char *dir = make_catalog(good_networks);
    dev_text d = {.name = "aaa"};
    add_device(dir, "aaa.cfg", &d);
    d = (dev_text){.name = "zzz",
                   .train0 = "  { network = \"net-a\"; overhead_s = -1; per_sample_s = 0.01; max_batch = 64; source = \"t\"; }"};
    add_device(dir, "zzz.cfg", &d);
    const char *msg = load_fails(dir, DE_ERANGE);
    char *w = dev_where(dir, "zzz.cfg", 8);
    DE_ASSERT_CONTAINS(msg, w);
    DE_ASSERT_CONTAINS(msg, "overhead_s");
    free(w);
    rm_catalog(dir);
}

static void test_tmp_no_device_types(void)
{
    /* devices/ exists but holds no *.cfg (only a file that is not one). */
    char *dir = make_catalog(good_networks);
    write_file(dir, "devices/README.md", "nothing here\n");
    const char *msg = load_fails(dir, DE_EIO);
    DE_ASSERT_CONTAINS(msg, "no device types");
    char *w = de_sprintf("%s/devices", dir);
    DE_ASSERT_CONTAINS(msg, w);
    free(w);
    rm_catalog(dir);
}

/* What the planner believes is what the executor runs: every training network of the
 * shipped catalog is built by the engine with the same parameter count, trainable count
 * (what is all-reduced) and forward FLOPs, and so is every LC model the executor serves. */
static void test_shipped_executable(void)
{
    de_catalog *cat = load_shipped();
    de_err err;
    for (int n = 0; n < cat->n_networks; n++) {
        int rc = de_exec_check_network(&cat->networks[n], &err);
        if (rc)
            fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL(rc, DE_OK);
        CU_ASSERT(cat->networks[n].forward_flops > 0);
    }
    for (int m = 0; m < cat->n_lc_models; m++) {
        int rc = de_exec_check_lc_model(&cat->lc_models[m], &err);
        if (rc)
            fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL(rc, DE_OK);
        CU_ASSERT(cat->lc_models[m].forward_flops > 0);
    }
    de_catalog_destroy(cat);
}

/* The check catches a catalog that disagrees with the engine, naming the figures. */
static void test_executable_mismatch(void)
{
    de_network nw = {.name = "r50-l4", .architecture = "resnet50-ft", .freeze = "upto:l3.5.relu",
                     .parameters = 24034625, .trainable_parameters = 15491329, .forward_flops = 8.1753e9};
    de_err err;
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_OK); /* stage 4 and the head */
    nw.trainable_parameters = 24034625;
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_EMISMATCH);
    DE_ASSERT_CONTAINS(err.msg, "15491329");
    nw.trainable_parameters = 15491329;
    nw.parameters = 25557032; /* torchvision's 1,000-class head */
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_EMISMATCH);
    DE_ASSERT_CONTAINS(err.msg, "24034625");
    nw.parameters = 24034625;
    nw.forward_flops = 4.1e9; /* multiply-adds, not FLOPs */
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_EMISMATCH);
    DE_ASSERT_CONTAINS(err.msg, "GFLOP");
    nw.forward_flops = 0; /* not stated: not checked */
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_OK);
    nw.freeze = "upto:l9.0";
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_EREF);
    DE_ASSERT_CONTAINS(err.msg, "l9.0");
    nw.freeze = "";
    nw.architecture = "vgg16";
    CU_ASSERT_EQUAL(de_exec_check_network(&nw, &err), DE_EREF);
    DE_ASSERT_CONTAINS(err.msg, "vgg16");
    DE_ASSERT_CONTAINS(err.msg, "resnet50");
}

int main(void)
{
    static const de_test_case shipped[] = {
        {"loads, 11 device types", test_shipped_loads},
        {"lookups", test_shipped_lookups},
        {"train/infer params for every pair", test_shipped_complete},
        {"every source is non-empty", test_shipped_sources},
        {"sanity of the numbers", test_shipped_sanity},
        {"print", test_shipped_print},
        {"the executor runs the networks and LC models the planner plans", test_shipped_executable},
        {"a catalog that disagrees with the executor is caught", test_executable_mismatch},
        {NULL, NULL},
    };
    static const de_test_case tmp[] = {
        {"a small valid catalog", test_tmp_good},
        {"unknown key", test_tmp_unknown_key},
        {"measured link classes (links/)", test_tmp_link_classes},
        {"train entry names an unknown network", test_tmp_unknown_network},
        {"infer entry names an unknown LC model", test_tmp_unknown_lc_model},
        {"type name does not match the file name", test_tmp_name_mismatch},
        {"missing source", test_tmp_missing_source},
        {"max_batch out of range / wrong type", test_tmp_max_batch_range},
        {"duplicate network", test_tmp_duplicate_network},
        {"duplicate entries", test_tmp_duplicate_entries},
        {"networks.cfg errors", test_tmp_network_errors},
        {"device file errors", test_tmp_device_errors},
        {"directory errors", test_tmp_directory_errors},
        {"error in the second device file", test_tmp_error_in_second_file},
        {"no device types", test_tmp_no_device_types},
        {NULL, NULL},
    };
    de_test_suite("shipped catalog", shipped);
    de_test_suite("catalog errors", tmp);
    return de_test_run();
}
