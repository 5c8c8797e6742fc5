/* cmd_calibrate.c — `deepedge calibrate`: measure this host (the catalog's emulated device
 * types under their CPU budgets, the all-reduce between local ranks) with the profiler
 * (cmd_profile.c), fit every parameter the predictor uses for those types (cmd_fit.c,
 * models/de_fit.h) and write the catalog only when every fit succeeded: the new device
 * files are staged in a hidden folder of the catalog and renamed over the old ones at the
 * end; a failure removes the staging folder and names the device, the model and the cells.
 * Writes the traces (for a later `deepedge fit` by hand), the fits' printouts and a
 * calibration report with the provenance (command, date, CPU model, cores, kernel). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli_calib.h"
#include "cli_exec.h"
#include "de_catalog.h"
#include "de_fit.h"
#include "de_probe.h"
#include "de_profile.h"
#include "de_util.h"
#ifdef DE_HAVE_CUDA
#include "de_layers_cuda.h"
#endif

#define MAXT 16

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge calibrate [--quick] [--types T1,T2,...] [--catalog DIR] [--out DIR]\n"
            "                          [--traces DIR] [--fit-only] [--emulate MODE] [--plot]\n\n"
            "Calibrates the catalog on this host in one command: measures the emulated device types\n"
            "(emulation_cpu_cores > 0; default all of them) under their CPU budgets (deepedge profile),\n"
            "then fits every parameter the predictor uses for them: step time (overhead_s, per_sample_s,\n"
            "train_slowdown, colocation_slowdown from steps measured next to LC requests), LC latency\n"
            "(service_s, scv alone; lc_inflation, blocking_fraction next to training at two batch sizes)\n"
            "and the all-reduce (alpha_s, beta_Bps per rank count and pooled) into the catalog. Parameters\n"
            "are bounded: one that reaches its bound is held there and the fit goes on (the report says\n"
            "so). The catalog is written only when every fit succeeded; a failure leaves it as it was\n"
            "and names the device, the model and the cells.\n\n"
            "options:\n"
            "  --quick             fewer cells (3 batch sizes x 3 steps, LC windows of 2 s at 2 rates,\n"
            "                      4 all-reduce sizes x 5 calls), only the LC trainer's network: about\n"
            "                      a minute on a 2-core host; without it the profiler's defaults and\n"
            "                      every network of the types (several minutes)\n"
            "  --types LIST        emulated types to calibrate (default: every emulated type)\n"
            "  --catalog DIR       the catalog to calibrate, rewritten in place (default: built-in)\n"
            "  --out DIR           report, logs, link cfg, plots (default out/calibrate)\n"
            "  --traces DIR        where the measured traces go (default OUT/traces): host-step.csv,\n"
            "                      host-lc.csv, host-allreduce.csv, host-NET-step.csv\n"
            "  --fit-only          measure nothing: fit the traces already in --traces DIR\n"
            "  --emulate MODE      auto | cgroup | duty (deepedge profile --emulate; default auto)\n"
            "  --plot              a PNG + SVG per fit in OUT/plots (gnuplot)\n"
            "  -h, --help          this text\n\n"
            "Output: OUT/calibration.md (provenance, fit quality: R^2, MAPE, CV MAPE, standard errors,\n"
            "what was held), OUT/profile.log, OUT/fits.log, CATALOG/links/LINK.cfg (all-reduce).\n"
            "Exit status: 0 calibrated, 1 error (the catalog unchanged).\n");
}

/* ---- progress ---- */

typedef struct progress {
    int done, total, tty;
    double t0;
} progress;

static void progress_show(progress *p, const char *what)
{
    p->done++;
    if (p->done > p->total)
        p->total = p->done;
    double el = de_now_s() - p->t0;
    if (p->tty) {
        char bar[31];
        int fill = p->total ? 30 * p->done / p->total : 0;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %d/%d %5.0f s  %.60s\033[K", bar, p->done, p->total, el, what);
    } else {
        fprintf(stderr, "calibrate [%d/%d %.0f s] %s\n", p->done, p->total, el, what);
    }
    fflush(stderr);
}

static void progress_end(progress *p)
{
    if (p->tty)
        fputc('\n', stderr);
}

static void on_profile_progress(void *ud, const char *what)
{
    progress_show(ud, what);
}

/* ---- helpers ---- */

static char *join_argv(int argc, char **argv)
{
    char *s = de_strdup("deepedge calibrate");
    for (int i = 1; i < argc; i++) {
        char *t = de_sprintf("%s %s", s, argv[i]);
        free(s);
        s = t;
    }
    return s;
}

static int copy_file(const char *from, const char *to)
{
    size_t len;
    char *text = de_file_read(from, &len);
    if (!text)
        return -1;
    FILE *f = fopen(to, "w");
    int rc = f && fwrite(text, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    free(text);
    return rc;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *p = de_path_join(dir, e->d_name);
            struct stat sb;
            if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                remove_tree(p);
            else
                remove(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The rows of (group, entry) of a trace: "line N (inputs), ..." (caller frees). */
static char *cells_of(const char *trace, de_profile_kind kind, const char *group, const char *entry)
{
    de_profile *p;
    de_err err;
    if (de_profile_load(trace, kind, &p, &err))
        return de_sprintf("(the trace does not load: %s)", err.msg);
    int *idx = de_calloc((size_t)p->n + 1, sizeof *idx);
    int n = de_profile_select(p, group, kind == DE_PROFILE_ALLREDUCE ? NULL : entry, idx);
    char *s = de_sprintf("%d rows of %s", n, trace);
    for (int i = 0; i < n; i++) {
        const de_profile_row *r = &p->rows[idx[i]];
        char *t;
        if (kind == DE_PROFILE_STEP)
            t = de_sprintf("%s%s line %d (batch %g, lc_util %g)", s, i ? "," : ":", r->line, r->x[0], r->x[1]);
        else if (kind == DE_PROFILE_LC)
            t = de_sprintf("%s%s line %d (p%g at %g req/s, %s)", s, i ? "," : ":", r->line, 100 * r->x[1], r->x[0],
                           r->x[3] > 0 ? "next to training" : "alone");
        else
            t = de_sprintf("%s%s line %d (%g ranks, %g bytes)", s, i ? "," : ":", r->line, r->x[1], r->x[0]);
        free(s);
        s = t;
    }
    free(idx);
    de_profile_destroy(p);
    return s;
}

/* ---- the report ---- */

typedef struct fit_row {
    char *device, *entry, *model, *params, *notes;
    int points, dof, folds, cv_failed;
    double r2, mape, cv_mape;
} fit_row;

static void fit_row_set(fit_row *row, const de_fit_result *r, const char *model)
{
    row->device = de_strdup(r->group);
    row->entry = de_strdup(r->entry[0] ? r->entry : "(link)");
    row->model = de_strdup(model);
    char *ps = de_strdup("");
    for (int j = 0; j < r->par.n; j++) {
        char *t;
        if (r->par.free[j])
            t = de_sprintf("%s%s%s = %.4g ± %.2g", ps, ps[0] ? "; " : "", r->par.names[j], r->par.value[j], r->se[j]);
        else if (r->held[j])
            t = de_sprintf("%s%s%s = %.4g (held)", ps, ps[0] ? "; " : "", r->par.names[j], r->par.value[j]);
        else
            continue;
        free(ps);
        ps = t;
    }
    row->params = ps;
    row->notes = de_strdup(r->notes);
    row->points = r->n;
    row->dof = r->dof;
    row->folds = r->folds;
    row->cv_failed = r->cv_failed;
    row->r2 = r->r2;
    row->mape = r->mape;
    row->cv_mape = r->cv_mape;
}

static void fit_row_free(fit_row *r)
{
    free(r->device);
    free(r->entry);
    free(r->model);
    free(r->params);
    free(r->notes);
}

static void print_table(FILE *f, const fit_row *rows, int n)
{
    fprintf(f, "| device | entry | model | points | R² | MAPE %% | CV MAPE %% (folds) | parameters ± standard error |\n");
    fprintf(f, "|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const fit_row *r = &rows[i];
        fprintf(f, "| %s | %s | %s | %d | %.4f | %.2f | %.2f (%d%s) | %s |\n", r->device, r->entry, r->model, r->points,
                r->r2, r->mape, r->cv_mape, r->folds, r->cv_failed ? ", some failed: see notes" : "", r->params);
    }
    for (int i = 0; i < n; i++)
        if (rows[i].notes[0])
            fprintf(f, "\n* %s / %s (%s): %s", rows[i].device, rows[i].entry, rows[i].model, rows[i].notes);
    fprintf(f, "\n");
}

/* ---- all-reduce: alpha, beta per rank count and pooled ---- */

typedef struct ar_fit {
    int ranks; /* 0: pooled */
    de_fit_result r;
} ar_fit;

/* Fits the rows of link of prof with n_devices == ranks (0: all). */
static int fit_allreduce(const de_profile *prof, const char *link, int ranks, de_fit_result *res, de_err *err)
{
    de_profile sub = *prof;
    sub.rows = de_calloc((size_t)prof->n + 1, sizeof *sub.rows);
    sub.n = 0;
    for (int i = 0; i < prof->n; i++)
        if (!strcmp(prof->rows[i].group, link) && (ranks == 0 || (int)prof->rows[i].x[1] == ranks))
            sub.rows[sub.n++] = prof->rows[i];
    de_fit_params par;
    de_fit_params_init(DE_PROFILE_ALLREDUCE, &par);
    de_fit_opts fo = {5, 1, 1, {0, 0}};
    int rc = de_fit_model(&sub, link, NULL, &par, NULL, NULL, &fo, res, err);
    /* The result borrows the profile: point it at the whole trace's rows. */
    if (!rc) {
        for (int i = 0; i < res->n; i++) {
            const de_profile_row *row = &sub.rows[res->rows[i]];
            for (int k = 0; k < prof->n; k++)
                if (prof->rows[k].line == row->line)
                    res->rows[i] = k;
        }
        res->prof = prof;
        res->group = link;
    }
    free(sub.rows);
    return rc;
}

static void write_ar_record(FILE *f, const de_fit_result *r, const char *indent)
{
    fprintf(f, "%salpha_s = %.6g;\n%sbeta_Bps = %.6g;\n", indent, r->par.value[0], indent, r->par.value[1]);
    fprintf(f, "%sstderr = { ", indent);
    for (int j = 0; j < 2; j++)
        if (r->par.free[j])
            fprintf(f, "%s = %.4g; ", r->par.names[j], r->se[j]);
    fprintf(f, "};\n%sheld = \"%s%s\";\n", indent, r->held[0] ? "alpha_s " : "", r->held[1] ? "beta_Bps" : "");
    fprintf(f, "%spoints = %d;\n%sdof = %d;\n%sr2 = %.6g;\n%smape = %.6g;\n%scv_mape = %.6g;\n%sfolds = %d;\n", indent,
            r->n, indent, r->dof, indent, r->r2, indent, r->mape, indent, r->cv_mape, indent, r->folds);
}

/* CATALOG/links/LINK.cfg: the pooled fit as a scenario's link, and alpha / beta per rank count. */
static int write_link_cfg(const char *path, const char *link, const ar_fit *fits, int n, const char *trace,
                          const char *provenance, const char *date, const char *cpu, int cores)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return de_cli_fail("%s: cannot write: %s", path, strerror(errno));
    const de_fit_result *pool = &fits[0].r;
    fprintf(f,
            "# %s.cfg — ring all-reduce on link class '%s' of this host, fitted by deepedge calibrate to\n"
            "# %s (%s, %s).\n"
            "# A scenario's link uses it with class = \"%s\"; (scenarios/README.md): `link` is the pooled fit\n"
            "# (latency_ms = alpha / 2), and an all-reduce over devices all on links of this class takes\n"
            "# alpha and beta of per_ranks at that rank count (core/de_predictor.c, de_predictor_ring_params;\n"
            "# the ring form A = 2 (n - 1) alpha + 2 (n - 1) / n * bytes / beta). Where they differ from the\n"
            "# pooled fit, the form misses how this transport scales with the ranks.\n\n",
            link, link, trace, provenance, date, link);
    fprintf(f, "measured_cpu = \"%s\";\nmeasured_cores = %d;\n\n", cpu, cores);
    fprintf(f, "link = {\n  name = \"%s\";\n  bandwidth_mbps = %.6g;\n  latency_ms = %.6g;\n};\n\n", link,
            pool->par.value[1] * 8.0 / 1e6, pool->par.value[0] / 2.0 * 1e3);
    fprintf(f, "fit = {\n  trace = \"%s\";\n  checksum = \"fnv1a64:%016llx\";\n  form = \"%s\";\n", trace,
            (unsigned long long)pool->prof->checksum, pool->form);
    write_ar_record(f, pool, "  ");
    fprintf(f, "  date = \"%s\";\n};\n\nper_ranks = (\n", date);
    for (int i = 1; i < n; i++) {
        fprintf(f, "  {\n    ranks = %d;\n", fits[i].ranks);
        write_ar_record(f, &fits[i].r, "    ");
        fprintf(f, "  }%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, ");\n");
    if (fclose(f) != 0)
        return de_cli_fail("%s: write error", path);
    return DE_EXIT_OK;
}

/* ---- the command ---- */

typedef struct cal {
    const char *catalog_dir, *out, *traces, *emulate;
    int quick, fit_only, plot;
    char *types_arg;
    char *cmd, date[16], when[32];
    char cpu[256], kernel[256];
    int cores;
} cal;

static void host_facts(cal *c)
{
    de_host_cpu(c->cpu, sizeof c->cpu);
    c->cores = de_host_cores();
    struct utsname un;
    if (uname(&un) == 0)
        snprintf(c->kernel, sizeof c->kernel, "%s %s %s", un.sysname, un.release, un.machine);
    else
        snprintf(c->kernel, sizeof c->kernel, "unknown (uname: %s)", strerror(errno));
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(c->date, sizeof c->date, "%Y-%m-%d", &tm);
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(c->when, sizeof c->when, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* What a GPU means for this calibration, in one sentence. */
static void gpu_sentence(char *buf, size_t n)
{
#ifdef DE_HAVE_CUDA
    if (de_cuda_device_count() > 0)
        snprintf(buf, n, "GPU found (%s): the profiler measures the CPU engine under emulated budgets only, so GPU "
                 "device types keep their catalog values (not calibrated)", de_cuda_device_name());
    else
        snprintf(buf, n, "no GPU on this host (CUDA backend built, no device): only the emulated CPU types are "
                 "calibrated");
#else
    snprintf(buf, n, "no GPU checked: this build has no CUDA backend; only the emulated CPU types are calibrated");
#endif
}

/* Runs `profile` in this process with its tables in log (stdout redirected). */
static int run_profile(char **args, int n, FILE *log)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(fileno(log), STDOUT_FILENO) < 0)
        return de_cli_fail("calibrate: cannot redirect the profiler's output: %s", strerror(errno));
    args[n] = NULL;
    int rc = de_cmd_profile(n, args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return rc;
}

int de_cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quick", no_argument, 0, 'q'},         {"types", required_argument, 0, 't'},
        {"catalog", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
        {"traces", required_argument, 0, 'T'},  {"fit-only", no_argument, 0, 'F'},
        {"emulate", required_argument, 0, 'e'}, {"plot", no_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    cal c;
    memset(&c, 0, sizeof c);
    c.catalog_dir = DE_DEFAULT_CATALOG;
    c.out = "out/calibrate";
    c.emulate = "auto";
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'q': c.quick = 1; break;
        case 't': c.types_arg = optarg; break;
        case 'c': c.catalog_dir = optarg; break;
        case 'o': c.out = optarg; break;
        case 'T': c.traces = optarg; break;
        case 'F': c.fit_only = 1; break;
        case 'e': c.emulate = optarg; break;
        case 'P': c.plot = 1; break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default:
            help(stderr);
            return de_cli_fail("calibrate: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return de_cli_fail("calibrate: unexpected argument '%s' (see deepedge calibrate --help)", argv[optind]);
    if (strcmp(c.emulate, "auto") && strcmp(c.emulate, "cgroup") && strcmp(c.emulate, "duty"))
        return de_cli_fail("--emulate: '%s' is not auto, cgroup or duty", c.emulate);
    if (c.fit_only && c.quick)
        return de_cli_fail("calibrate: --fit-only measures nothing; --quick does not apply");
    de_catalog *cat = NULL;
    de_err err;
    if (de_catalog_load(c.catalog_dir, &cat, &err))
        return de_cli_fail("%s", err.msg);

    /* The types: emulated ones, named as the profiler names their budget. */
    int types[MAXT], nt = 0, rc = DE_EXIT_OK;
    if (c.types_arg) {
        char *list = de_strdup(c.types_arg), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
            int t = de_catalog_type(cat, tok);
            if (t < 0)
                rc = de_cli_fail("--types: '%s' is not a device type of %s", tok, cat->dir);
            else if (!(cat->types[t].emulation_cpu_cores > 0))
                rc = de_cli_fail("--types: %s is a physical device type (emulation_cpu_cores 0): calibrate measures "
                                 "emulated types on this host", tok);
            else if (nt == MAXT)
                rc = de_cli_fail("--types: more than %d types", MAXT);
            else
                types[nt++] = t;
        }
        free(list);
    } else {
        for (int t = 0; t < cat->n_types && nt < MAXT; t++)
            if (cat->types[t].emulation_cpu_cores > 0)
                types[nt++] = t;
        if (!nt)
            rc = de_cli_fail("%s: no emulated device type (emulation_cpu_cores > 0) to calibrate", cat->dir);
    }
    for (int i = 0; i < nt && !rc; i++) {
        const de_device_type *t = &cat->types[types[i]];
        char want[64];
        de_probe_emu_name(t->emulation_cpu_cores, want, sizeof want);
        if (t->emulation_cpu_cores > 1)
            rc = de_cli_fail("%s: emulation_cpu_cores %g: the profiler's budgets are at most 1 core", t->name,
                             t->emulation_cpu_cores);
        else if (strcmp(want, t->name))
            rc = de_cli_fail("%s: the profiler names a budget of %g core '%s'; calibrate fits types named that way "
                             "(or profile and fit this one by hand: traces/README.md)", t->name,
                             t->emulation_cpu_cores, want);
        else if (t->n_infer < 1)
            rc = de_cli_fail("%s: no infer entry: nothing to measure LC latency with", t->name);
    }
    /* Networks: the trainer of the LC cells (edgenet-s if a type trains it), then the others. */
    const char *nets[16], *lc_model = NULL;
    int nn = 0;
    for (int i = 0; i < nt && !rc; i++) {
        const de_device_type *t = &cat->types[types[i]];
        for (int k = 0; k < t->n_train; k++) {
            const char *name = cat->networks[t->train[k].network].name;
            int seen = 0;
            for (int q = 0; q < nn; q++)
                seen |= !strcmp(nets[q], name);
            if (!seen && nn < 16)
                nets[nn++] = name;
        }
        if (!lc_model)
            lc_model = cat->lc_models[t->infer[0].model].name;
    }
    for (int q = 1; q < nn; q++)
        if (!strcmp(nets[q], "edgenet-s")) {
            nets[q] = nets[0];
            nets[0] = "edgenet-s";
        }
    if (!rc && nn == 0)
        rc = de_cli_fail("calibrate: the types train no network: nothing to measure");
    if (rc) {
        de_catalog_destroy(cat);
        return rc;
    }
    int n_nets_measured = c.quick ? 1 : nn;

    /* Folders, provenance. */
    host_facts(&c);
    c.cmd = join_argv(argc, argv);
    char *traces = c.traces ? de_strdup(c.traces) : de_path_join(c.out, "traces");
    char *prefix = de_path_join(traces, "host");
    if (de_mkdir_p(c.out) || de_mkdir_p(traces)) {
        int e = errno;
        free(traces);
        free(prefix);
        free(c.cmd);
        de_catalog_destroy(cat);
        return de_cli_fail("calibrate: cannot create %s or %s: %s", c.out, c.traces ? c.traces : "OUT/traces",
                           strerror(e));
    }
    char *prov = de_sprintf("%s (on %s, %d cores online, %s)", c.cmd, c.cpu, c.cores, c.kernel);
    char gpu[300];
    gpu_sentence(gpu, sizeof gpu);
    char *log_path = de_path_join(c.out, "profile.log"), *fits_path = de_path_join(c.out, "fits.log");
    FILE *plog = c.fit_only ? NULL : fopen(log_path, "w"), *flog = fopen(fits_path, "w");
    if ((!c.fit_only && !plog) || !flog)
        rc = de_cli_fail("%s: cannot write the logs: %s", c.out, strerror(errno));

    /* Cells. */
    char cpu_list[256] = "";
    for (int i = 0; i < nt; i++) {
        size_t l = strlen(cpu_list);
        snprintf(cpu_list + l, sizeof cpu_list - l, "%s%g", i ? "," : "", cat->types[types[i]].emulation_cpu_cores);
    }
    const char *q_batch = "1,4,16", *q_steps = "3", *q_warm = "1", *q_rates = "20,80", *q_dur = "2",
               *q_lcw = "0.5", *q_bytes = "65536,524288,2097152,8388608", *q_reps = "5";
    int n_rates = c.quick ? 2 : 3, n_tb = 2, n_ranks = 3;
    progress pg = {0, 0, isatty(STDERR_FILENO), de_now_s()};
    if (!c.fit_only)
        pg.total = nt * (1 + n_rates * (1 + n_tb)) + n_ranks + nt * (n_nets_measured - 1);
    pg.total += nt * (n_nets_measured + 1) + 1 + 1;
    fprintf(stderr, "deepedge calibrate: %d type%s (%s) on %s, %d cores, %s; %s mode; %s\n", nt, nt == 1 ? "" : "s",
            cpu_list, c.cpu, c.cores, c.kernel, c.fit_only ? "fit-only" : c.quick ? "quick" : "full", gpu);
    double t_measure = de_now_s();
    if (!rc && !c.fit_only) {
        de_profile_progress = on_profile_progress;
        de_profile_progress_ud = &pg;
        char *a[64];
        int n = 0;
        a[n++] = "profile";
        a[n++] = "--out";
        a[n++] = prefix;
        a[n++] = "--cpu";
        a[n++] = cpu_list;
        a[n++] = "--net";
        a[n++] = (char *)nets[0];
        a[n++] = "--lc-model";
        a[n++] = (char *)lc_model;
        a[n++] = "--emulate";
        a[n++] = (char *)c.emulate;
        a[n++] = "--provenance";
        a[n++] = prov;
        a[n++] = "--duty";
        a[n++] = "0,0.5";
        a[n++] = "--train-batch";
        a[n++] = "4,16";
        a[n++] = "--retry-overloaded"; /* every rate keeps a row alone (service_s, scv identifiable) */
        a[n++] = "2";
        if (c.quick) {
            char *q[] = {"--batch", (char *)q_batch, "--steps", (char *)q_steps, "--warmup", (char *)q_warm,
                         "--rates-per-core", (char *)q_rates, "--duration", (char *)q_dur, "--lc-warmup", (char *)q_lcw,
                         "--bytes", (char *)q_bytes, "--reps", (char *)q_reps};
            for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
                a[n++] = q[i];
        }
        rc = run_profile(a, n, plog);
        for (int k = 1; k < n_nets_measured && !rc; k++) {
            char *pre = de_sprintf("%s-%s", prefix, nets[k]);
            char *b[] = {"profile", "--out", pre, "--what", "step", "--cpu", cpu_list, "--net", (char *)nets[k],
                         "--batch", "1,2,4", "--steps", "3", "--warmup", "1", "--emulate", (char *)c.emulate,
                         "--provenance", prov, NULL};
            rc = run_profile(b, (int)(sizeof b / sizeof b[0]) - 1, plog);
            free(pre);
        }
        de_profile_progress = NULL;
        if (rc)
            fprintf(stderr, "%sdeepedge calibrate: the measurement failed (%s has the profiler's output); the "
                    "catalog is unchanged; the traces measured whole are kept in %s (deepedge calibrate "
                    "--fit-only --traces %s fits them once the rest is there)\n", pg.tty ? "\n" : "", log_path,
                    traces, traces);
    }
    t_measure = de_now_s() - t_measure;

    /* Fits into a staging folder of the catalog, renamed over the device files at the end. */
    double t_fit = de_now_s();
    char *stage = de_sprintf("%s/.calibrate-%ld", cat->dir, (long)getpid());
    char *stage_dev = de_path_join(stage, "devices"), *plot_dir = c.plot ? de_path_join(c.out, "plots") : NULL;
    if (!rc && (de_mkdir_p(stage_dev) != 0))
        rc = de_cli_fail("%s: cannot create the staging folder: %s", stage_dev, strerror(errno));
    fit_row rows[64];
    int nrows = 0;
    char failed[2048] = "";
    for (int i = 0; i < nt && !rc; i++) {
        const de_device_type *t = &cat->types[types[i]];
        char *staged = de_sprintf("%s/%s.cfg", stage_dev, t->name);
        if (copy_file(t->file, staged))
            rc = de_cli_fail("%s: cannot copy to %s: %s", t->file, staged, strerror(errno));
        /* step per network measured, then lc (it uses the step fits: the trainer's step model). */
        for (int k = 0; k <= n_nets_measured && !rc; k++) {
            int is_lc = k == n_nets_measured;
            int has_net = 0;
            for (int q = 0; !is_lc && q < t->n_train; q++)
                has_net |= !strcmp(cat->networks[t->train[q].network].name, nets[k]);
            if (!is_lc && !has_net) {
                progress_show(&pg, "fit: (network not trained by this type)");
                continue;
            }
            char *trace = is_lc ? de_sprintf("%s-lc.csv", prefix)
                          : k == 0 ? de_sprintf("%s-step.csv", prefix)
                                   : de_sprintf("%s-%s-step.csv", prefix, nets[k]);
            const char *entry = is_lc ? lc_model : nets[k];
            char *what = de_sprintf("fit %s %s / %s", is_lc ? "lc" : "step", t->name, entry);
            progress_show(&pg, what);
            de_cli_fit_job job = {trace, trace, is_lc ? "lc" : "step", t->name, entry, NULL, NULL, staged, c.date,
                                  plot_dir, 5, 1, 1, flog};
            fprintf(flog, "== %s (%s)\n", what, trace);
            de_fit_result res;
            de_profile *prof = NULL;
            if (de_cli_fit_job_run(cat, &job, &res, &prof)) {
                char *cells = cells_of(trace, is_lc ? DE_PROFILE_LC : DE_PROFILE_STEP, t->name, entry);
                snprintf(failed, sizeof failed, "%s, model %s, entry %s: the fit failed (the message above); cells: %s",
                         t->name, is_lc ? "lc" : "step", entry, cells);
                free(cells);
                rc = DE_EXIT_ERROR;
            } else if (nrows < 64) {
                fit_row_set(&rows[nrows++], &res, is_lc ? "lc" : "step");
            }
            fprintf(flog, "\n");
            de_fit_result_free(&res);
            de_profile_destroy(prof);
            free(trace);
            free(what);
        }
        free(staged);
    }
    /* All-reduce: pooled (the scenario's link) and per rank count. */
    ar_fit ar[9];
    int nar = 0;
    de_profile *arp = NULL;
    char *ar_trace = de_sprintf("%s-allreduce.csv", prefix);
    const char *link = "host-shm";
    if (!rc) {
        progress_show(&pg, "fit allreduce host-shm (pooled and per rank count)");
        if (de_profile_load(ar_trace, DE_PROFILE_ALLREDUCE, &arp, &err)) {
            rc = de_cli_fail("%s", err.msg);
        } else {
            int ranks[8], nr = 0;
            for (int i = 0; i < arp->n && !strcmp(arp->rows[i].group, link); i++) {
                int r = (int)arp->rows[i].x[1], seen = 0;
                for (int q = 0; q < nr; q++)
                    seen |= ranks[q] == r;
                if (!seen && nr < 8)
                    ranks[nr++] = r;
            }
            for (int q = -1; q < nr && !rc; q++) {
                ar[nar].ranks = q < 0 ? 0 : ranks[q];
                if (fit_allreduce(arp, link, ar[nar].ranks, &ar[nar].r, &err)) {
                    char *cells = cells_of(ar_trace, DE_PROFILE_ALLREDUCE, link, NULL);
                    snprintf(failed, sizeof failed, "%s, model allreduce (%s): %s; cells: %s", link,
                             q < 0 ? "pooled" : "one rank count", err.msg, cells);
                    free(cells);
                    rc = de_cli_fail("%s", err.msg);
                } else {
                    fprintf(flog, "== fit allreduce %s, %s\n", link, q < 0 ? "every rank count" : "one rank count");
                    de_fit_print(&ar[nar].r, flog);
                    fprintf(flog, "\n");
                    if (nrows < 64) {
                        fit_row_set(&rows[nrows], &ar[nar].r, "allreduce");
                        free(rows[nrows].entry);
                        rows[nrows].entry = q < 0 ? de_strdup("all ranks") : de_sprintf("%d ranks", ranks[q]);
                        nrows++;
                    }
                    nar++;
                }
            }
        }
    }
    char *link_dir = de_path_join(stage, "links"), *staged_link = de_sprintf("%s/links/%s.cfg", stage, link);
    if (!rc && de_mkdir_p(link_dir))
        rc = de_cli_fail("%s: cannot create: %s", link_dir, strerror(errno));
    if (!rc)
        rc = write_link_cfg(staged_link, link, ar, nar, ar_trace, prov, c.date, c.cpu, c.cores);
    /* Every staged file loads: rename them over the catalog's. */
    if (!rc) {
        progress_show(&pg, "write the catalog");
        de_catalog *check = NULL;
        for (int i = 0; i < nt && !rc; i++) {
            char *staged = de_sprintf("%s/%s.cfg", stage_dev, cat->types[types[i]].name);
            de_device_type *t;
            if (de_catalog_load_type(cat, staged, &t, &err))
                rc = de_cli_fail("%s", err.msg);
            else
                de_catalog_type_destroy(t);
            free(staged);
        }
        char *final_links = de_path_join(cat->dir, "links");
        if (!rc && de_mkdir_p(final_links))
            rc = de_cli_fail("%s: cannot create: %s", final_links, strerror(errno));
        for (int i = 0; i < nt && !rc; i++) {
            char *staged = de_sprintf("%s/%s.cfg", stage_dev, cat->types[types[i]].name);
            if (rename(staged, cat->types[types[i]].file) != 0)
                rc = de_cli_fail("%s: cannot rename to %s: %s", staged, cat->types[types[i]].file, strerror(errno));
            free(staged);
        }
        char *final_link = de_sprintf("%s/%s.cfg", final_links, link);
        if (!rc && rename(staged_link, final_link) != 0)
            rc = de_cli_fail("%s: cannot rename to %s: %s", staged_link, final_link, strerror(errno));
        if (!rc && de_catalog_load(cat->dir, &check, &err))
            rc = de_cli_fail("the calibrated catalog does not load: %s", err.msg);
        de_catalog_destroy(check);
        free(final_link);
        free(final_links);
    }
    remove_tree(stage);
    t_fit = de_now_s() - t_fit;
    progress_end(&pg);

    /* The report. */
    char *report = de_path_join(c.out, "calibration.md");
    FILE *rf = fopen(report, "w");
    if (rf) {
        fprintf(rf, "# Calibration of %s\n\n", cat->dir);
        fprintf(rf, "* command: `%s`\n* date: %s\n* host: %s, %d cores online, kernel %s\n* %s\n", c.cmd, c.when,
                c.cpu, c.cores, c.kernel, gpu);
        fprintf(rf, "* mode: %s", c.fit_only ? "fit-only (no measurement)" : c.quick ? "quick" : "full");
        if (c.quick)
            fprintf(rf, " (steps at batch %s, %s timed; LC %s s windows at %s req/s per core; all-reduce %s bytes, "
                    "%s calls; network %s only%s%s)", q_batch, q_steps, q_dur, q_rates, q_bytes, q_reps, nets[0],
                    nn > 1 ? ": the step lines of the other networks keep their values, e.g. " : "",
                    nn > 1 ? nets[1] : "");
        fprintf(rf, "\n* types: %s (CPU budgets %s cores); LC model %s; trainer %s\n", c.types_arg ? c.types_arg : "every emulated type",
                cpu_list, lc_model, nets[0]);
        fprintf(rf, "* traces: %s-*.csv; measurement %.0f s, fits %.1f s\n", prefix, t_measure, t_fit);
        fprintf(rf, "* result: %s\n\n", rc ? "FAILED — the catalog is unchanged" : "the catalog was rewritten");
        if (failed[0])
            fprintf(rf, "Failed: %s\n\n", failed);
        print_table(rf, rows, nrows);
        if (fclose(rf) != 0)
            rc = rc ? rc : de_cli_fail("%s: write error", report);
    } else {
        rc = rc ? rc : de_cli_fail("%s: cannot write: %s", report, strerror(errno));
    }
    if (!rc) {
        printf("calibrated %s on %s (%d cores, %s): %d fits, measurement %.0f s, fits %.1f s\n\n", cat->dir, c.cpu,
               c.cores, c.kernel, nrows, t_measure, t_fit);
        print_table(stdout, rows, nrows);
        printf("\nwritten: ");
        for (int i = 0; i < nt; i++)
            printf("%s, ", cat->types[types[i]].file);
        printf("%s/links/%s.cfg\nreport: %s; traces: %s-*.csv; logs: %s, %s\n", cat->dir, link, report, prefix,
               c.fit_only ? "-" : log_path, fits_path);
    } else {
        fprintf(stderr, "deepedge calibrate: the catalog %s is left as it was%s%s; report: %s\n", cat->dir,
                failed[0] ? ": " : "", failed, report);
    }
    for (int i = 0; i < nrows; i++)
        fit_row_free(&rows[i]);
    for (int i = 0; i < nar; i++)
        de_fit_result_free(&ar[i].r);
    de_profile_destroy(arp);
    if (plog)
        fclose(plog);
    if (flog)
        fclose(flog);
    free(report);
    free(ar_trace);
    free(link_dir);
    free(staged_link);
    free(stage);
    free(stage_dev);
    free(plot_dir);
    free(log_path);
    free(fits_path);
    free(prov);
    free(prefix);
    free(traces);
    free(c.cmd);
    de_catalog_destroy(cat);
    return rc ? DE_EXIT_ERROR : DE_EXIT_OK;
}
