/* cmd_fit.c — `deepedge fit`: fit a performance model to a trace and merge it into
 * a device-type file; `deepedge fit --all` rebuilds the catalog from traces/. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_calib.h"
#include "de_plot.h"
#include "de_catalog.h"
#include "de_conf.h"
#include "de_fit.h"
#include "de_profile.h"
#include "de_util.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge fit TRACE --model KIND [options]\n"
            "       deepedge fit --all [--traces DIR] [--catalog DIR] [--out DIR]\n\n"
            "Fits a performance model (models/README.md) to a trace (traces/README.md) by weighted\n"
            "nonlinear least squares (GSL trust region); prints the parameters with standard errors,\n"
            "R^2, MAPE and the k-fold cross-validated MAPE; plots the fit; with -o merges the fitted\n"
            "entry into a device-type file (or, for allreduce, writes the link parameters).\n"
            "A fitted value outside the catalog's range is held at its bound and the others are fitted\n"
            "again; a parameter the points cannot identify (singular Jacobian) is held at its start\n"
            "value unless it is the only free one; CV folds that fail are reported and left out (all\n"
            "of it is said in the output and in the entry's source). Degenerate fits (too few points,\n"
            "non-finite values, nothing left to fit) are refused and nothing is written.\n\n"
            "kinds: step (overhead_s, per_sample_s; train_slowdown from rows with lc_util > 0,\n"
            "       colocation_slowdown from such rows at two or more LC loads),\n"
            "       lc (service_s, scv; lc_inflation, blocking_fraction from rows with training),\n"
            "       allreduce (alpha_s, beta_Bps of the ring)\n\n"
            "options:\n"
            "  --model KIND        step | lc | allreduce (required without --all)\n"
            "  --device TYPE       device type (allreduce: link class) to fit (default: the only one in TRACE)\n"
            "  --entry NAME        network (step) or LC model (lc) (default: the only one for TYPE)\n"
            "  -o, --output FILE   merge into this device-type file (models/devices/TYPE.cfg; created from\n"
            "                      the catalog's TYPE.cfg if absent); allreduce: write a link cfg\n"
            "  --catalog DIR       catalog: networks, starting and fixed values (default: built-in)\n"
            "  --fix NAME=VALUE    hold a parameter at VALUE (repeatable)\n"
            "  --free NAME,...     fit exactly these parameters; the others keep the catalog's values\n"
            "  --folds K           k of the cross-validation (default 5; leave-one-out when few points)\n"
            "  --seed S            fold assignment seed (default 1)\n"
            "  --out DIR           plot folder (default out/fit); PNG + SVG per fit\n"
            "  --no-plot           do not call gnuplot\n"
            "  --start-defaults    free parameters start from fixed neutral values, not the device file's\n"
            "  --all               fit every entry of TRACES/fits.cfg and rewrite the catalog in place\n"
            "  --traces DIR        traces folder for --all (default: the catalog's ../traces)\n"
            "  --formats           print the columns of the trace formats\n"
            "  -h, --help          this text\n\n"
            "The fit's date is today (UTC), or SOURCE_DATE_EPOCH when set (reproducible files).\n"
            "Exit status: 0 success, 1 error or degenerate fit (message on stderr).\n");
}

typedef struct fit_opts {
    const char *catalog, *out_dir, *model, *device, *entry, *output, *traces, *free_list;
    const char *fix_name[DE_FIT_MAXP * 2];
    double fix_value[DE_FIT_MAXP * 2];
    int n_fix, plot, folds, start_defaults;
    unsigned long seed;
    char date[16];
    FILE *log; /* the fit's table (stdout) */
} fit_opts;

/* ---- helpers ---- */

static void fit_date(char *buf, size_t n)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

static int mkdirs(const char *path)
{
    char *p = de_strdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    int rc = mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
    free(p);
    return rc;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Runs plots/fit.gp for the data of one fit. */
static int run_gnuplot(const char *data, const char *curve, const char *out, const char *title, const char *xl,
                       const char *yl, int n)
{
    const de_plot_var v[] = {{"data", data, 0}, {"curve", curve, 0}, {"out", out, 0},
                             {"title", title, 0}, {"xl", xl, 0},     {"yl", yl, 0}, {"n", NULL, n}};
    de_err err;
    if (de_plot_run("fit.gp", v, (int)(sizeof v / sizeof v[0]), &err))
        return de_cli_fail("%s (or pass --no-plot)", err.msg);
    return DE_EXIT_OK;
}

/* Writes the plot of a fit into out_dir as <stem>.png / .svg. */
static int plot_fit(const de_fit_result *r, const char *out_dir, FILE *log)
{
    if (mkdirs(out_dir))
        return de_cli_fail("%s: cannot create the plot folder: %s", out_dir, strerror(errno));
    char *stem = de_sprintf("%s/%s%s%s-%s", out_dir, r->group, r->entry[0] ? "-" : "", r->entry,
                            de_profile_kind_name(r->prof->kind));
    char *data = de_sprintf("%s.dat", stem), *curve = de_sprintf("%s.curve", stem);
    char *title = de_sprintf("%s %s%s%s: R^2 %.4f, MAPE %.2f%%, CV MAPE %.2f%% (%d points)",
                             de_profile_kind_name(r->prof->kind), r->group, r->entry[0] ? " / " : "", r->entry, r->r2,
                             r->mape, r->cv_mape, r->n);
    const char *xl, *yl;
    int ns, rc;
    de_err err;
    if (de_fit_plot_data(r, data, curve, &ns, &xl, &yl, &err))
        rc = de_cli_fail("%s", err.msg);
    else
        rc = run_gnuplot(data, curve, stem, title, xl, yl, ns);
    if (rc == DE_EXIT_OK)
        fprintf(log, "  plot: %s.png, %s.svg\n", stem, stem);
    free(stem);
    free(data);
    free(curve);
    free(title);
    return rc;
}

/* The step model of (device, network) from the device-type file being fitted. */
typedef struct ps_ctx {
    const de_catalog *cat;
    const de_device_type *type;
} ps_ctx;

static int lookup_per_sample(void *ctx, const char *device, const char *network, de_fit_train *out)
{
    const ps_ctx *c = ctx;
    if (!c->type || strcmp(c->type->name, device) != 0)
        return -1;
    int net = de_catalog_network(c->cat, network);
    for (int i = 0; net >= 0 && i < c->type->n_train; i++)
        if (c->type->train[i].network == net) {
            out->overhead_s = c->type->train[i].overhead_s;
            out->per_sample_s = c->type->train[i].per_sample_s;
            out->train_slowdown = c->type->interference.train_slowdown;
            out->colocation_slowdown = c->type->interference.colocation_slowdown;
            return 0;
        }
    return -1;
}

/* Starting / fixed values from the device-type file, then the options. */
static int start_values(const de_catalog *cat, const de_device_type *t, de_profile_kind kind, const char *entry,
                        const fit_opts *o, de_fit_params *par)
{
    de_fit_params_init(kind, par);
    if (t && kind == DE_PROFILE_STEP) {
        int net = de_catalog_network(cat, entry);
        for (int i = 0; i < t->n_train; i++)
            if (t->train[i].network == net) {
                par->value[0] = t->train[i].overhead_s;
                par->value[1] = t->train[i].per_sample_s;
            }
        par->value[2] = t->interference.train_slowdown;
        par->value[3] = t->interference.colocation_slowdown;
    } else if (t && kind == DE_PROFILE_LC) {
        int m = de_catalog_lc_model(cat, entry);
        for (int i = 0; i < t->n_infer; i++)
            if (t->infer[i].model == m) {
                par->value[0] = t->infer[i].service_s;
                par->value[1] = t->infer[i].scv > 0 ? t->infer[i].scv : 0.1;
            }
        par->value[2] = t->interference.lc_inflation > 0 ? t->interference.lc_inflation : 0.5;
        par->value[3] = t->interference.blocking_fraction > 0 ? t->interference.blocking_fraction : 0.01;
    }
    if (o->free_list) {
        for (int j = 0; j < par->n; j++)
            par->free[j] = 0;
        char *list = de_strdup(o->free_list), *save = NULL;
        for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
            int j = de_fit_params_index(par, tok);
            if (j < 0) {
                free(list);
                return de_cli_fail("--free: the %s model has no parameter '%s'", de_profile_kind_name(kind), tok);
            }
            par->free[j] = 1;
        }
        free(list);
        /* A held parameter keeps the device file's value, 0 included (the substitutes above
         * are starting points for free ones only). */
        if (t && kind == DE_PROFILE_LC) {
            int m = de_catalog_lc_model(cat, entry);
            for (int i = 0; i < t->n_infer; i++)
                if (t->infer[i].model == m && !par->free[1])
                    par->value[1] = t->infer[i].scv;
            if (!par->free[2])
                par->value[2] = t->interference.lc_inflation;
            if (!par->free[3])
                par->value[3] = t->interference.blocking_fraction;
        }
    }
    for (int i = 0; i < o->n_fix; i++) {
        int j = de_fit_params_index(par, o->fix_name[i]);
        if (j < 0)
            return de_cli_fail("--fix: the %s model has no parameter '%s'", de_profile_kind_name(kind), o->fix_name[i]);
        par->value[j] = o->fix_value[i];
        par->free[j] = 0;
    }
    return DE_EXIT_OK;
}

/* "; "-joined distinct sources of the rows of a fit (caller frees); refs_only: only
 * the reference of each, the text before its first ": ". */
static char *row_sources(const de_fit_result *r, int refs_only)
{
    size_t cap = 1;
    for (int i = 0; i < r->n; i++)
        cap += strlen(r->prof->rows[r->rows[i]].source) + 2;
    char *s = de_calloc(cap, 1);
    for (int i = 0; i < r->n; i++) {
        const char *src = r->prof->rows[r->rows[i]].source, *colon = strstr(src, ": ");
        size_t len = refs_only && colon ? (size_t)(colon - src) : strlen(src);
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = strncmp(r->prof->rows[r->rows[k]].source, src, len) == 0 &&
                   (!refs_only || strncmp(r->prof->rows[r->rows[k]].source + len, ": ", 2) == 0 ||
                    r->prof->rows[r->rows[k]].source[len] == '\0');
        if (!seen) {
            if (s[0])
                strcat(s, "; ");
            strncat(s, src, len);
        }
    }
    return s;
}

/* Writes the link parameters of an allreduce fit. */
static int write_link(const de_fit_result *r, const char *path, const char *trace_name, const char *date)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return de_cli_fail("%s: cannot write: %s", path, strerror(errno));
    double alpha = r->par.value[0], beta = r->par.value[1];
    fprintf(f,
            "# %s — ring all-reduce parameters of link class '%s', fitted by deepedge fit.\n"
            "# Paste bandwidth_mbps and latency_ms into a scenario's links entry, or put this file in\n"
            "# CATALOG/links/ and name it with class: the predictor uses alpha = the sum of the two\n"
            "# largest link latencies of a device set (a message crosses two links through the switch),\n"
            "# so latency_ms = alpha / 2, and beta = the smallest bandwidth.\n\n",
            path, r->group);
    fprintf(f, "link = {\n  name = \"%s\";\n  bandwidth_mbps = %.6g;\n  latency_ms = %.6g;\n};\n\n", r->group,
            beta * 8.0 / 1e6, alpha / 2.0 * 1e3);
    fprintf(f,
            "fit = {\n  trace = \"%s\";\n  checksum = \"fnv1a64:%016llx\";\n  kind = \"allreduce\";\n  form = \"%s\";\n"
            "  points = %d;\n  dof = %d;\n  alpha_s = %.6g;\n  beta_Bps = %.6g;\n  stderr = { alpha_s = %.4g; "
            "beta_Bps = %.4g; };\n  r2 = %.6g;\n  mape = %.6g;\n  cv_mape = %.6g;\n  folds = %d;\n  date = \"%s\";\n};\n",
            trace_name, (unsigned long long)r->prof->checksum, r->form, r->n, r->dof, alpha, beta, r->se[0], r->se[1],
            r->r2, r->mape, r->cv_mape, r->folds, date);
    if (fclose(f) != 0)
        return de_cli_fail("%s: write error", path);
    return DE_EXIT_OK;
}

/* Merges a step / lc fit into out (from base) and checks that the result loads. fixed[j]:
 * set by --fix; its value is written too (the fit's R^2 and predictions are at that value:
 * leaving the file's would make the entry disagree with its own fit record). */
static int merge_into(const de_catalog *cat, const de_fit_result *r, const int *fixed, const char *base,
                      const char *out, const char *trace_name, const char *date)
{
    char *rows = row_sources(r, 0), fix[256] = "";
    size_t fl = 0;
    for (int j = 0; j < r->par.n && fl < sizeof fix; j++)
        if (fixed[j] && !r->par.free[j]) {
            int w = snprintf(fix + fl, sizeof fix - fl, "%s%s fixed at %g (--fix)", fl || r->notes[0] ? "; " : "",
                             r->par.names[j], r->par.value[j]);
            if (w > 0)
                fl += (size_t)w;
        }
    char *data = r->notes[0] || fix[0] ? de_sprintf("%s [fit notes: %s%s]", rows, r->notes, fix) : de_strdup(rows);
    free(rows);
    int max_batch = 1;
    for (int i = 0; i < r->n; i++)
        if (r->prof->kind == DE_PROFILE_STEP && r->prof->rows[r->rows[i]].x[0] > max_batch)
            max_batch = (int)r->prof->rows[r->rows[i]].x[0];
    int free_[DE_FIT_MAXP];
    for (int j = 0; j < r->par.n; j++)
        free_[j] = r->par.free[j] ? 1 : r->held[j] || fixed[j] ? 2 : 0; /* written, not recorded as fitted */
    de_catalog_fit f = {de_profile_kind_name(r->prof->kind), r->entry, r->par.n, r->par.names, r->par.value, r->se,
                        free_, trace_name, (unsigned long long)r->prof->checksum, r->form, r->n, r->dof, r->folds,
                        r->r2, r->mape, r->cv_mape, date, data, max_batch, r->prof->host_cpu, r->prof->host_cores};
    size_t old_len = 0;
    char *old = file_exists(out) ? de_file_read(out, &old_len) : NULL;
    de_err err;
    int rc = de_catalog_merge_fit(base, out, &f, &err);
    free(data);
    if (rc) {
        free(old);
        return de_cli_fail("%s", err.msg);
    }
    de_device_type *t;
    if (de_catalog_load_type(cat, out, &t, &err)) {
        /* Never leave an invalid file behind. */
        if (old) {
            FILE *fo = fopen(out, "w");
            if (fo) {
                fwrite(old, 1, old_len, fo);
                fclose(fo);
            }
        } else {
            remove(out);
        }
        free(old);
        return de_cli_fail("the merged file does not load, not written: %s", err.msg);
    }
    de_catalog_type_destroy(t);
    free(old);
    return DE_EXIT_OK;
}

/* One fit: trace, kind, (device, entry) -> print, plot, optional write. */
static int fit_one(const de_catalog *cat, const char *trace, const char *trace_name, const fit_opts *o,
                   const char *base_cfg, const char *out_cfg, de_fit_result *res, de_profile **prof_out)
{
    de_profile_kind kind;
    de_err err;
    *prof_out = NULL;
    if (de_profile_kind_parse(o->model, &kind))
        return de_cli_fail("--model: unknown kind '%s' (known: step, lc, allreduce)", o->model);
    de_profile *prof;
    if (de_profile_load(trace, kind, &prof, &err))
        return de_cli_fail("%s", err.msg);
    *prof_out = prof;
    const char **groups = de_calloc((size_t)prof->n, sizeof *groups), **entries = de_calloc((size_t)prof->n, sizeof *entries);
    int np = de_profile_pairs(prof, groups, entries), pick = -1, count = 0;
    for (int i = 0; i < np; i++)
        if ((!o->device || strcmp(groups[i], o->device) == 0) &&
            (kind == DE_PROFILE_ALLREDUCE || !o->entry || strcmp(entries[i], o->entry) == 0)) {
            if (pick < 0)
                pick = i;
            count++;
        }
    int rc = DE_EXIT_OK;
    if (count != 1) {
        char list[1024] = "";
        size_t len = 0;
        for (int i = 0; i < np && len < sizeof list; i++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s%s%s", i ? ", " : "", groups[i],
                             entries[i][0] ? "/" : "", entries[i]);
            if (w > 0)
                len += (size_t)w;
        }
        rc = de_cli_fail("%s: %s: choose one with --device%s (present: %s)", trace,
                         count ? "several series match" : "no rows match",
                         kind == DE_PROFILE_ALLREDUCE ? "" : " and --entry", list);
    }
    const char *group = pick >= 0 ? groups[pick] : NULL, *entry = pick >= 0 ? entries[pick] : NULL;
    free(groups);
    free(entries);
    if (rc)
        return rc;
    if (out_cfg && kind != DE_PROFILE_ALLREDUCE) {
        const char *slash = strrchr(out_cfg, '/'), *file = slash ? slash + 1 : out_cfg;
        char *want = de_sprintf("%s.cfg", group);
        int ok = strcmp(file, want) == 0;
        free(want);
        if (!ok)
            return de_cli_fail("-o %s: a device-type file is named after its type: .../%s.cfg", out_cfg, group);
    }
    /* The device-type file the fit starts from and merges into. */
    de_device_type *type = NULL;
    char *base = NULL;
    if (kind != DE_PROFILE_ALLREDUCE) {
        if (base_cfg)
            base = de_strdup(base_cfg);
        else if (out_cfg && file_exists(out_cfg))
            base = de_strdup(out_cfg);
        else if (de_catalog_type(cat, group) >= 0)
            base = de_strdup(cat->types[de_catalog_type(cat, group)].file);
        if (!base && out_cfg)
            return de_cli_fail("%s: no device-type file for '%s' to merge into: copy a similar type's file (e.g. "
                               "%s/devices/x86-v100.cfg) to %s, set its name and description, then fit again",
                               trace, group, cat->dir, out_cfg);
        if (base && de_catalog_load_type(cat, base, &type, &err)) {
            free(base);
            return de_cli_fail("%s", err.msg);
        }
        if (kind == DE_PROFILE_STEP && de_catalog_network(cat, entry) < 0)
            rc = de_cli_fail("%s: unknown network '%s' (not in %s/networks.cfg)", trace, entry, cat->dir);
        if (kind == DE_PROFILE_LC && de_catalog_lc_model(cat, entry) < 0)
            rc = de_cli_fail("%s: unknown LC model '%s' (not in %s/networks.cfg)", trace, entry, cat->dir);
    }
    de_fit_params start;
    if (!rc)
        rc = start_values(cat, type, kind, entry, o, &start);
    ps_ctx pc = {cat, type};
    de_fit_opts fo = {o->folds, o->seed, o->start_defaults, {0, 0}};
    if (type && type->emulation_cpu_cores > 0) { /* the quota the type's LC rows were measured under */
        fo.budget.cores = type->emulation_cpu_cores;
        fo.budget.period_s = DE_EMU_PERIOD_S;
    }
    if (!rc && de_fit_model(prof, group, entry, &start, lookup_per_sample, &pc, &fo, res, &err))
        rc = de_cli_fail("%s", err.msg);
    de_catalog_type_destroy(type);
    FILE *log = o->log ? o->log : stdout;
    if (!rc)
        de_fit_print(res, log);
    if (!rc && out_cfg) {
        int fixed[DE_FIT_MAXP] = {0};
        for (int i = 0; i < o->n_fix; i++) {
            int j = de_fit_params_index(&res->par, o->fix_name[i]);
            if (j >= 0)
                fixed[j] = 1;
        }
        rc = kind == DE_PROFILE_ALLREDUCE ? write_link(res, out_cfg, trace_name, o->date)
                                          : merge_into(cat, res, fixed, base, out_cfg, trace_name, o->date);
        if (!rc)
            fprintf(log, "  written: %s\n", out_cfg);
    }
    if (!rc && o->plot)
        rc = plot_fit(res, o->out_dir, log);
    free(base);
    return rc;
}

/* ---- --all ---- */

static const de_key k_manifest[] = {
    {"fits", DE_KEY_LIST, 1, 0, 0, NULL, "", "one entry per fit, applied in order", NULL},
};
static const de_key k_manifest_fit[] = {
    {"trace", DE_KEY_STRING, 1, 0, 0, NULL, "path", "trace, relative to the traces folder", NULL},
    {"model", DE_KEY_STRING, 1, 0, 0, NULL, "", "step | lc | allreduce", NULL},
    {"device", DE_KEY_STRING, 1, 0, 0, NULL, "", "device type (allreduce: link class)", NULL},
    {"entry", DE_KEY_STRING, 0, 0, 0, NULL, "", "network (step) or LC model (lc)", NULL},
    {"free", DE_KEY_STRING, 0, 0, 0, NULL, "", "parameters to fit, comma-separated (default: decided by the data)", NULL},
    {"note", DE_KEY_STRING, 0, 0, 0, NULL, "", "why this fit, caveats", NULL},
    {"start", DE_KEY_STRING, 0, 0, 0, NULL, "", "catalog (default): free parameters start from the device file's "
     "values; defaults: from fixed neutral values (a refit does not depend on the previous result)", NULL},
};

typedef struct summary_row {
    char *device, *entry, *kind, *sources;
    int points;
    double r2, cv_mape, mape;
} summary_row;

static int fit_all(const fit_opts *o)
{
    char *traces = o->traces ? de_strdup(o->traces) : de_sprintf("%s/../traces", o->catalog);
    char *manifest = de_path_join(traces, "fits.cfg");
    de_catalog *cat = NULL;
    de_err err;
    config_t cfg;
    int rc = de_conf_read(&cfg, manifest, &err);
    config_setting_t *root = config_root_setting(&cfg), *fits = NULL;
    if (!rc)
        rc = de_conf_check_keys(root, k_manifest, DE_NKEYS(k_manifest), &err);
    if (!rc)
        rc = de_conf_get_setting(root, DE_CONF_KEY(k_manifest, "fits"), &fits, &err);
    if (rc) {
        config_destroy(&cfg);
        free(manifest);
        free(traces);
        return de_cli_fail("%s", err.msg);
    }
    int n = config_setting_length(fits), ex = DE_EXIT_OK;
    summary_row *sum = de_calloc((size_t)n + 1, sizeof *sum);
    const char *slash = strrchr(traces, '/');
    const char *tdir = slash && slash[1] ? slash + 1 : "traces";
    for (int i = 0; i < n && !ex; i++) {
        config_setting_t *g = config_setting_get_elem(fits, (unsigned)i);
        const char *trace, *model, *device, *entry, *free_list, *note, *start;
        if ((rc = de_conf_check_keys(g, k_manifest_fit, DE_NKEYS(k_manifest_fit), &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[0], &trace, &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[1], &model, &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[2], &device, &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[3], &entry, &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[4], &free_list, &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[5], &note, &err)) ||
            (rc = de_conf_get_string(g, &k_manifest_fit[6], &start, &err))) {
            ex = de_cli_fail("%s", err.msg);
            break;
        }
        if (start && strcmp(start, "catalog") && strcmp(start, "defaults")) {
            config_setting_t *st = config_setting_get_member(g, "start");
            ex = de_cli_fail("%s:%d: fits.[%d].start: '%s' is not catalog or defaults", manifest,
                             st ? config_setting_source_line(st) : 0, i, start);
            break;
        }
        /* The catalog is reloaded before every fit: an lc fit sees the step fits before it. */
        de_catalog_destroy(cat);
        if (de_catalog_load(o->catalog, &cat, &err)) {
            ex = de_cli_fail("%s", err.msg);
            break;
        }
        fit_opts one = *o;
        one.model = model;
        one.device = device;
        one.entry = entry;
        one.free_list = free_list;
        one.n_fix = 0;
        one.start_defaults = start && strcmp(start, "defaults") == 0;
        char *path = de_path_join(traces, trace), *name = de_sprintf("%s/%s", tdir, trace);
        char *dev_dir = de_path_join(o->catalog, "devices"), *file = de_sprintf("%s.cfg", device);
        char *out_cfg = strcmp(model, "allreduce") == 0 ? de_sprintf("%s/%s-link.cfg", o->out_dir, device)
                                                        : de_path_join(dev_dir, file);
        if (strcmp(model, "allreduce") == 0)
            mkdirs(o->out_dir);
        de_fit_result res;
        de_profile *prof = NULL;
        memset(&res, 0, sizeof res);
        printf("[%d/%d] %s\n", i + 1, n, name);
        ex = fit_one(cat, path, name, &one, NULL, out_cfg, &res, &prof);
        if (!ex) {
            sum[i].device = de_strdup(res.group);
            sum[i].entry = de_strdup(res.entry[0] ? res.entry : "(link)");
            sum[i].kind = de_strdup(model);
            sum[i].sources = row_sources(&res, 1);
            sum[i].points = res.n;
            sum[i].r2 = res.r2;
            sum[i].mape = res.mape;
            sum[i].cv_mape = res.cv_mape;
        }
        printf("\n");
        de_fit_result_free(&res);
        de_profile_destroy(prof);
        free(path);
        free(name);
        free(dev_dir);
        free(file);
        free(out_cfg);
    }
    de_catalog_destroy(cat);
    cat = NULL;
    if (!ex && de_catalog_load(o->catalog, &cat, &err))
        ex = de_cli_fail("the rebuilt catalog does not load: %s", err.msg);
    if (!ex) {
        printf("catalog %s rebuilt from %s (%d fits); every other entry keeps its hand-set value and source\n\n",
               o->catalog, manifest, n);
        printf("| device type | entry | model | points | R² | MAPE %% | CV MAPE %% | source of the data |\n");
        printf("|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < n; i++)
            printf("| %s | %s | %s | %d | %.4f | %.2f | %.2f | %s |\n", sum[i].device, sum[i].entry, sum[i].kind,
                   sum[i].points, sum[i].r2, sum[i].mape, sum[i].cv_mape, sum[i].sources);
    }
    for (int i = 0; i < n; i++) {
        free(sum[i].device);
        free(sum[i].entry);
        free(sum[i].kind);
        free(sum[i].sources);
    }
    free(sum);
    de_catalog_destroy(cat);
    config_destroy(&cfg);
    free(manifest);
    free(traces);
    return ex;
}

int de_cmd_fit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"device", required_argument, 0, 'd'},
        {"entry", required_argument, 0, 'e'},   {"output", required_argument, 0, 'o'},
        {"catalog", required_argument, 0, 'c'}, {"fix", required_argument, 0, 'x'},
        {"free", required_argument, 0, 'f'},    {"folds", required_argument, 0, 'k'},
        {"seed", required_argument, 0, 's'},    {"out", required_argument, 0, 'O'},
        {"no-plot", no_argument, 0, 'P'},       {"all", no_argument, 0, 'A'},
        {"traces", required_argument, 0, 'T'},  {"formats", no_argument, 0, 'F'},
        {"start-defaults", no_argument, 0, 'Z'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    fit_opts o;
    memset(&o, 0, sizeof o);
    o.catalog = DE_DEFAULT_CATALOG;
    o.out_dir = "out/fit";
    o.plot = 1;
    o.folds = 5;
    o.seed = 1;
    fit_date(o.date, sizeof o.date);
    int all = 0, c;
    long long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.model = optarg; break;
        case 'd': o.device = optarg; break;
        case 'e': o.entry = optarg; break;
        case 'o': o.output = optarg; break;
        case 'c': o.catalog = optarg; break;
        case 'f': o.free_list = optarg; break;
        case 'O': o.out_dir = optarg; break;
        case 'P': o.plot = 0; break;
        case 'A': all = 1; break;
        case 'T': o.traces = optarg; break;
        case 'Z': o.start_defaults = 1; break;
        case 'x': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || o.n_fix == DE_FIT_MAXP * 2)
                return de_cli_fail("--fix: expected NAME=VALUE, got '%s'", optarg);
            double val;
            if (de_cli_float("--fix", eq + 1, -1e300, 1e300, &val))
                return DE_EXIT_ERROR;
            optarg[eq - optarg] = '\0'; /* the name stays in argv */
            o.fix_name[o.n_fix] = optarg;
            o.fix_value[o.n_fix++] = val;
            break;
        }
        case 'k':
            if (de_cli_int("--folds", optarg, 2, 1000, &v))
                return DE_EXIT_ERROR;
            o.folds = (int)v;
            break;
        case 's':
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &v))
                return DE_EXIT_ERROR;
            o.seed = (unsigned long)v;
            break;
        case 'F': de_profile_print_formats(stdout); return DE_EXIT_OK;
        case 'h': help(stdout); return DE_EXIT_OK;
        default:
            help(stderr);
            return de_cli_fail("fit: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    if (all) {
        if (optind != argc || o.model || o.output || o.device || o.entry)
            return de_cli_fail("fit --all takes no TRACE, --model, --device, --entry or -o (traces/fits.cfg says "
                               "what to fit)");
        return fit_all(&o);
    }
    if (optind != argc - 1) {
        help(stderr);
        return de_cli_fail("fit: expected exactly one TRACE argument (or --all)");
    }
    if (!o.model)
        return de_cli_fail("fit: --model KIND is required (step, lc or allreduce)");
    de_catalog *cat = NULL;
    de_err err;
    if (de_catalog_load(o.catalog, &cat, &err))
        return de_cli_fail("%s", err.msg);
    de_fit_result res;
    memset(&res, 0, sizeof res);
    de_profile *prof = NULL;
    int rc = fit_one(cat, argv[optind], argv[optind], &o, NULL, o.output, &res, &prof);
    de_fit_result_free(&res);
    de_profile_destroy(prof);
    de_catalog_destroy(cat);
    return rc;
}

/* ---- for deepedge calibrate (cli_calib.h) ---- */

int de_cli_fit_job_run(const de_catalog *cat, const de_cli_fit_job *job, de_fit_result *res, de_profile **prof)
{
    fit_opts o;
    memset(&o, 0, sizeof o);
    o.catalog = cat->dir;
    o.model = job->model;
    o.device = job->device;
    o.entry = job->entry;
    o.free_list = job->free_list;
    o.out_dir = job->plot_dir ? job->plot_dir : "out/fit";
    o.plot = job->plot_dir != NULL;
    o.folds = job->folds ? job->folds : 5;
    o.seed = job->seed ? job->seed : 1;
    o.start_defaults = job->start_defaults;
    o.log = job->log;
    snprintf(o.date, sizeof o.date, "%s", job->date);
    memset(res, 0, sizeof *res);
    return fit_one(cat, job->trace, job->trace_name, &o, job->base_cfg, job->out_cfg, res, prof);
}
