/* cmd_reproduce.c — `deepedge reproduce`: the Deep-Edge case study's evaluation as one
 * command writing one report (Markdown and HTML with figures) into one folder.
 *
 * Four axes, each a grid of simulations of every policy over seeds 1..N, run in-process
 * (de_sim_run) in forked workers that write their numbers into a shared table:
 *   load      every LC task's rate scaled (the case study, its faults as written);
 *   deadline  every LC deadline scaled (the case study);
 *   size      generated clusters of 10 to 1,000 devices (core/de_generate.h), one per seed,
 *             all training the same job;
 *   failure   the case study without its faults, crashes drawn per device as a Poisson
 *             process (per device-hour), each repaired after a fixed time.
 * Per point and policy: mean and 95% confidence interval (Student t, n - 1 degrees of
 * freedom) of the re-training time and of the share of LC requests over their deadline or
 * dropped. Then the case study itself: the plan (`deepedge plan`), one simulated run with
 * its figures. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS: the workers write their numbers into shared memory */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <libconfig.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "de_catalog.h"
#include "de_conf.h"
#include "de_generate.h"
#include "de_planner.h"
#include "de_state.h"
#include "de_plot.h"
#include "de_sim.h"
#include "de_sim_report.h"
#include "de_util.h"

#ifndef DE_SOURCE_SCENARIOS
#define DE_SOURCE_SCENARIOS "scenarios"
#endif

#define REPAIR_S 600.0       /* failure axis: a crashed device is back after this */
#define HORIZON_S (6 * 3600) /* failure axis: crashes are drawn over this span */
#define SIZE_BATCH 256       /* size axis: the job's global batch */
#define MAX_POINTS 8

/* The policies compared: the table's, then the example external policy where it can run. */
static de_policy POLS[DE_POLICY_COUNT + 1];
static int NPOL;
static char EXT_NOTE[512]; /* why the external policy is not compared, or what it is */

static const char *pol_name(int k)
{
    return de_policy_is_external(POLS[k]) ? "ext:example_policy.py" : de_policy_name(POLS[k]);
}

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge reproduce [--out DIR] [--seeds N] [--quick] [-j N] [--scenario FILE] [--catalog DIR]\n\n"
            "The Deep-Edge case study's evaluation as one report: re-training time and LC deadline\n"
            "violations of every policy against LC load (0.5-2x), deadline tightness (0.5-2x), cluster\n"
            "size (generated, 10-1,000 devices) and failure rate (crashes per device-hour), each point\n"
            "simulated with seeds 1..N, means with 95%% confidence intervals; the case study's plan and\n"
            "its simulated timeline. Writes report.md, report.html, the figures (PNG + SVG) and\n"
            "results.csv (every run) into DIR.\n\n"
            "options:\n"
            "  --out DIR        output folder (default out/reproduce)\n"
            "  --seeds N        seeds per point, 2..1000 (default 5; --quick: 3)\n"
            "  --quick          fewer points per axis and clusters up to 100 devices (a check, under a minute)\n"
            "  -j, --jobs N     simulations run at a time, in worker processes (default: this host's cores)\n"
            "  --scenario FILE  the case study (default %s/caltech-testbed.cfg)\n"
            "  --catalog DIR    device catalog directory\n"
            "  -h, --help       this text\n\n"
            "Exit status: 0 the report is written, 1 error.\n",
            DE_SOURCE_SCENARIOS);
}

/* ------------------------------------------------------------------ axes */

enum { AX_LOAD, AX_DEADLINE, AX_SIZE, AX_FAILURE, AX_COUNT };

typedef struct axis_def {
    const char *key;    /* file names: fig-KEY.png, data/KEY.dat */
    const char *title;  /* what varies */
    const char *xlabel;
    int logx;
    double full[MAX_POINTS];
    int n_full;
    double quick[MAX_POINTS];
    int n_quick;
} axis_def;

static const axis_def AXES[AX_COUNT] = {
    {"load", "LC load", "LC load (every task’s request rate × this)", 0, {0.5, 0.75, 1, 1.25, 1.5, 2}, 6, {0.5, 1, 2}, 3},
    {"deadline", "deadline tightness", "deadline scale (every LC deadline × this; below 1 is tighter)", 0,
     {0.5, 0.75, 1, 1.5, 2}, 5, {0.5, 1, 2}, 3},
    {"size", "cluster size", "devices in the cluster (generated; log scale)", 1, {10, 30, 100, 300, 1000}, 5, {10, 30, 100}, 3},
    {"failure", "failure rate", "crashes per device-hour (each repaired after 600 s)", 0, {0, 0.25, 0.5, 1, 2}, 5, {0, 1, 2}, 3},
};

/* One simulation's numbers, written by the worker that ran it into shared memory. */
typedef struct run_out {
    int state; /* 0 not run, 1 done, 2 skipped (the policy does not accept the cluster) */
    int finished;
    double retrain_s, viol_pct, tasks_missed;
} run_out;

typedef struct point {
    double value;
    de_scenario **scen;   /* [seeds]: per seed (size), or the same one for every seed */
    de_change **inject;   /* [seeds] (failure), else NULL */
    int *n_inject;
    int shared;           /* scen[0] is every seed's */
} point;

typedef struct stat_ci {
    int n, of;
    double mean, half; /* half-width of the 95% interval; NAN when n < 2 */
} stat_ci;

static stat_ci ci_of(const double *x, int n, int of)
{
    stat_ci c = {n, of, NAN, NAN};
    if (n < 1)
        return c;
    double m = 0;
    for (int i = 0; i < n; i++)
        m += x[i];
    m /= n;
    c.mean = m;
    if (n >= 2) {
        double v = 0;
        for (int i = 0; i < n; i++)
            v += (x[i] - m) * (x[i] - m);
        v /= n - 1;
        c.half = gsl_cdf_tdist_Pinv(0.975, n - 1) * sqrt(v / n);
    }
    return c;
}

/* ------------------------------------------------------------------ scenario texts */

/* Multiplies a numeric member of a group by f (an integer written in the file becomes a
 * float); DE_EINVAL naming the setting when it is absent or not a number. */
static int scale_member(config_setting_t *g, const char *name, double f, const char *path, de_err *err)
{
    config_setting_t *m = config_setting_get_member(g, name);
    if (!m || (config_setting_type(m) != CONFIG_TYPE_FLOAT && config_setting_type(m) != CONFIG_TYPE_INT &&
               config_setting_type(m) != CONFIG_TYPE_INT64)) {
        char where[256];
        de_conf_path(g, where, sizeof where);
        return de_err_set(err, DE_EINVAL, "%s:%d: %s.%s: reproduce scales this number, and %s", path,
                          config_setting_source_line(g), where, name,
                          m ? "it is not a number" : "it is not in the file (a rate_trace cannot be scaled)");
    }
    double v = config_setting_type(m) == CONFIG_TYPE_FLOAT ? config_setting_get_float(m)
                                                          : (double)config_setting_get_int64(m);
    if (config_setting_type(m) != CONFIG_TYPE_FLOAT) {
        config_setting_remove(g, name);
        m = config_setting_add(g, name, CONFIG_TYPE_FLOAT);
    }
    config_setting_set_float(m, v * f);
    return DE_OK;
}

static char *config_text(config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_write(cfg, f);
    fclose(f);
    return text;
}

/* The case study with every LC rate × load, every deadline × dl, and without its faults
 * when no_faults. */
static int case_text(const char *path, double load, double dl, int no_faults, char **out, de_err *err)
{
    config_t cfg;
    *out = NULL;
    int rc = de_conf_read(&cfg, path, err);
    config_setting_t *tasks = rc ? NULL : config_lookup(&cfg, "lc_tasks");
    for (int i = 0; tasks && !rc && i < config_setting_length(tasks); i++) {
        config_setting_t *t = config_setting_get_elem(tasks, (unsigned)i);
        if (load != 1)
            rc = scale_member(t, "rate", load, path, err);
        if (!rc && dl != 1)
            rc = scale_member(t, "deadline_ms", dl, path, err);
    }
    if (!rc && no_faults) {
        config_setting_t *root = config_root_setting(&cfg);
        if (config_setting_get_member(root, "faults"))
            config_setting_remove(root, "faults");
        if (config_setting_get_member(root, "fault_trace"))
            config_setting_remove(root, "fault_trace");
    }
    if (!rc)
        *out = config_text(&cfg);
    config_destroy(&cfg);
    return rc;
}

/* A generated cluster of n devices (seed), its job set to one epoch of resnet50-ft at the
 * global batch SIZE_BATCH. */
static int size_scenario(const de_catalog *cat, const char *catalog, int n, unsigned long seed, de_scenario **out, de_err *err)
{
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = n;
    o.seed = seed;
    o.network = "resnet50-ft";
    o.global_batch = SIZE_BATCH;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc = de_generate(cat, &o, f, err);
    fclose(f);
    char name[64];
    snprintf(name, sizeof name, "generated-%d-%lu.cfg", n, seed);
    config_t cfg;
    if (!rc && !(rc = de_conf_read_string(&cfg, text, name, err))) {
        config_setting_t *job = config_lookup(&cfg, "jobs.[0]");
        config_setting_t *ep = job ? config_setting_get_member(job, "epochs") : NULL;
        if (!ep)
            rc = de_err_set(err, DE_EINVAL, "%s: the generated scenario has no jobs.[0].epochs", name);
        else
            config_setting_set_int(ep, 1);
        if (!rc) {
            free(text);
            text = config_text(&cfg);
        }
        config_destroy(&cfg);
    }
    if (!rc)
        rc = de_scenario_load_text(text, name, catalog, out, err);
    free(text);
    return rc;
}

/* Crashes of every device as a Poisson process of rate lambda per hour, each repaired after
 * REPAIR_S, over HORIZON_S; drawn from seed. */
static int draw_failures(const de_scenario *s, double lambda, unsigned long seed, de_change **out, int *n, de_err *err)
{
    *out = NULL;
    *n = 0;
    if (lambda <= 0)
        return DE_OK;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7919UL * seed + 17);
    int cap = 0, rc = DE_OK;
    for (int d = 0; d < s->n_devices && !rc; d++) {
        double t = gsl_ran_exponential(r, 3600.0 / lambda);
        while (t < HORIZON_S && !rc) {
            for (int k = 0; k < 2 && !rc; k++) {
                char spec[256];
                snprintf(spec, sizeof spec, "%s:%s@%.3fs", k ? "repair" : "crash", s->devices[d].name, k ? t + REPAIR_S : t);
                if (*n >= cap) {
                    cap = cap ? 2 * cap : 64;
                    *out = de_realloc(*out, (size_t)cap * sizeof **out);
                }
                rc = de_change_parse_spec(spec, s, &(*out)[*n], err);
                if (!rc)
                    (*n)++;
            }
            t += REPAIR_S + gsl_ran_exponential(r, 3600.0 / lambda);
        }
    }
    gsl_rng_free(r);
    return rc;
}

/* ------------------------------------------------------------------ runs */

typedef struct grid {
    int seeds, npts[AX_COUNT];
    point pts[AX_COUNT][MAX_POINTS];
    run_out *out; /* shared: [axis][point][policy][seed] */
} grid;

static size_t run_index(const grid *g, int ax, int p, int pol, int seed)
{
    size_t i = 0;
    for (int a = 0; a < ax; a++)
        i += (size_t)g->npts[a] * (size_t)NPOL * (size_t)g->seeds;
    return i + (((size_t)p * (size_t)NPOL + (size_t)pol) * (size_t)g->seeds + (size_t)seed);
}

static size_t run_count(const grid *g)
{
    return run_index(g, AX_COUNT, 0, 0, 0);
}

/* One simulation, in a worker: its numbers into *o. */
static int run_one(const de_scenario *s, const de_change *inj, int n_inj, int pol, unsigned long seed, run_out *o)
{
    de_sim_opts so;
    de_sim_opts_default(&so);
    so.policy = pol;
    so.seed = seed;
    so.inject = inj;
    so.n_inject = n_inj;
    de_sim_result res;
    de_err err;
    if (de_sim_run(s, &so, &res, &err)) {
        de_cli_fail("reproduce: %s, policy %s, seed %lu: %s", s->name, de_policy_name((de_policy)pol), seed, err.msg);
        de_sim_result_free(&res);
        return 1;
    }
    double rt = 0;
    int fin = 1;
    for (int j = 0; j < res.n_jobs; j++) {
        fin &= res.jobs[j].finished;
        rt += res.jobs[j].end_s - res.jobs[j].arrival_s;
    }
    o->finished = fin;
    o->retrain_s = fin ? rt : NAN;
    o->viol_pct = 100.0 * de_report_violation_rate(&res);
    o->tasks_missed = de_report_tasks_missed(&res);
    o->state = 1;
    de_sim_result_free(&res);
    return 0;
}

/* Runs every (axis, point, policy, seed), `jobs` at a time in forked workers. */
static int run_grid(grid *g, int jobs)
{
    size_t total = run_count(g), next = 0, done = 0;
    pid_t *pids = de_calloc((size_t)jobs, sizeof(pid_t));
    size_t *slot = de_calloc((size_t)jobs, sizeof(size_t));
    int running = 0, rc = 0;
    /* the runs in order: axis, point, policy, seed */
    typedef struct { int ax, p, pol, seed; } job_t;
    job_t *list = de_calloc(total + 1, sizeof *list);
    size_t nl = 0;
    for (int ax = 0; ax < AX_COUNT; ax++)
        for (int p = 0; p < g->npts[ax]; p++)
            for (int pol = 0; pol < NPOL; pol++)
                for (int sd = 0; sd < g->seeds; sd++) {
                    const point *pt = &g->pts[ax][p];
                    const de_scenario *s = pt->scen[pt->shared ? 0 : sd];
                    if (!de_policy_accepts(POLS[pol], s->n_devices)) {
                        g->out[run_index(g, ax, p, pol, sd)].state = 2;
                        continue;
                    }
                    list[nl++] = (job_t){ax, p, pol, sd};
                }
    int tty = isatty(2);
    while (!rc && done < nl) {
        while (running < jobs && next < nl) {
            job_t jb = list[next];
            const point *pt = &g->pts[jb.ax][jb.p];
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                rc = de_cli_fail("reproduce: fork: %s", strerror(errno));
                break;
            }
            if (pid == 0) {
                const de_scenario *s = pt->scen[pt->shared ? 0 : jb.seed];
                int bad = run_one(s, pt->inject ? pt->inject[jb.seed] : NULL, pt->n_inject ? pt->n_inject[jb.seed] : 0, (int)POLS[jb.pol],
                                  (unsigned long)jb.seed + 1, &g->out[run_index(g, jb.ax, jb.p, jb.pol, jb.seed)]);
                _exit(bad);
            }
            int k = 0;
            while (pids[k] > 0)
                k++;
            pids[k] = pid;
            slot[k] = next++;
            running++;
        }
        if (rc)
            break;
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            rc = de_cli_fail("reproduce: wait: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < jobs; k++)
            if (pids[k] == pid) {
                pids[k] = 0;
                running--;
                done++;
                job_t jb = list[slot[k]];
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                    rc = de_cli_fail("reproduce: the simulation of %s = %g, policy %s, seed %d failed (%s %d)",
                                     AXES[jb.ax].key, g->pts[jb.ax][jb.p].value, pol_name(jb.pol), jb.seed + 1,
                                     WIFEXITED(status) ? "exit status" : "signal",
                                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                else if (tty)
                    fprintf(stderr, "\rreproduce: %zu of %zu simulations", done, nl);
            }
    }
    if (tty)
        fputc('\n', stderr);
    for (int k = 0; k < jobs; k++)
        if (pids[k] > 0) {
            kill(pids[k], SIGTERM);
            waitpid(pids[k], NULL, 0);
        }
    free(list);
    free(pids);
    free(slot);
    return rc;
}

/* Mean and interval of one (axis, point, policy); which: 0 re-training time (finished
 * runs), 1 violations (%), 2 LC tasks over their deadline. */
static stat_ci cell(const grid *g, int ax, int p, int pol, int which)
{
    double *x = de_calloc((size_t)g->seeds, sizeof(double));
    int n = 0, of = 0;
    for (int sd = 0; sd < g->seeds; sd++) {
        const run_out *o = &g->out[run_index(g, ax, p, pol, sd)];
        if (o->state != 1)
            continue;
        of++;
        double v = which == 0 ? o->retrain_s : which == 1 ? o->viol_pct : o->tasks_missed;
        if (isfinite(v))
            x[n++] = v;
    }
    stat_ci c = ci_of(x, n, of);
    free(x);
    return c;
}

/* ------------------------------------------------------------------ the report */

/* Markdown and HTML side by side. Text may hold `code` spans (HTML: <code>). */
typedef struct doc {
    FILE *md, *html;
} doc;

static void html_text(FILE *f, const char *s)
{
    int code = 0;
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '`':
            fputs(code ? "</code>" : "<code>", f);
            code = !code;
            break;
        default: fputc(*s, f);
        }
    }
    if (code)
        fputs("</code>", f);
}

static void html_pre(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
}

static void doc_h(doc *d, int level, const char *text)
{
    fprintf(d->md, "\n%.*s %s\n\n", level, "######", text);
    fprintf(d->html, "<h%d>", level);
    html_text(d->html, text);
    fprintf(d->html, "</h%d>\n", level);
}

static void doc_p(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doc_p(doc *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *t = de_calloc((size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(t, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fprintf(d->md, "%s\n\n", t);
    fputs("<p>", d->html);
    html_text(d->html, t);
    fputs("</p>\n", d->html);
    free(t);
}

static void doc_pre(doc *d, const char *text)
{
    fprintf(d->md, "```\n%s%s```\n\n", text, *text && text[strlen(text) - 1] == '\n' ? "" : "\n");
    fputs("<pre>", d->html);
    html_pre(d->html, text);
    fputs("</pre>\n", d->html);
}

/* A table: ncol cells per row, row 0 the header, the first nleft columns text (left-aligned),
 * the others numbers; the cells and their array are freed. */
static void doc_table(doc *d, char **cells, int nrow, int ncol, int nleft)
{
    fputs("<table>\n", d->html);
    for (int r = 0; r < nrow; r++) {
        fputs("|", d->md);
        fputs("<tr>", d->html);
        for (int c = 0; c < ncol; c++) {
            const char *x = cells[r * ncol + c] ? cells[r * ncol + c] : "";
            fprintf(d->md, " %s |", x);
            fputs(r ? (c < nleft ? "<td class=\"t\">" : "<td>") : "<th>", d->html);
            html_text(d->html, x);
            fputs(r ? "</td>" : "</th>", d->html);
            free(cells[r * ncol + c]);
        }
        fputs("\n", d->md);
        fputs("</tr>\n", d->html);
        if (r == 0) {
            fputs("|", d->md);
            for (int c = 0; c < ncol; c++)
                fputs(c >= nleft ? "---:|" : "---|", d->md);
            fputs("\n", d->md);
        }
    }
    fputs("\n", d->md);
    fputs("</table>\n", d->html);
    free(cells);
}

static void doc_fig(doc *d, const char *png, const char *svg, int num, const char *caption)
{
    fprintf(d->md, "![Figure %d](%s)\n\n**Figure %d.** %s ([SVG](%s))\n\n", num, png, num, caption, svg);
    fprintf(d->html, "<figure><a href=\"%s\"><img src=\"%s\" alt=\"Figure %d\" style=\"max-width:100%%\"></a><figcaption><b>Figure %d.</b> ",
            svg, png, num, num);
    html_text(d->html, caption);
    fputs("</figcaption></figure>\n", d->html);
}

static char *fmt_ci(stat_ci c, int prec)
{
    if (c.n == 0)
        return de_strdup(c.of ? "did not finish" : "not run");
    char *s = isfinite(c.half) ? de_sprintf("%.*f ± %.*f", prec, c.mean, prec, c.half) : de_sprintf("%.*f (one run)", prec, c.mean);
    if (c.n < c.of) {
        char *t = de_sprintf("%s (%d of %d finished)", s, c.n, c.of);
        free(s);
        s = t;
    }
    return s;
}

static const char *policy_kind(int k)
{
    if (de_policy_is_external(POLS[k]))
        return "external (a Python program)";
    return de_policy_respects_lc(POLS[k]) ? "keeps LC deadlines" : "LC-oblivious baseline";
}

/* "LC load" -> "LC load", "cluster size" -> "Cluster size" */
static char *capital(const char *s)
{
    char *c = de_strdup(s);
    if (c[0] >= 'a' && c[0] <= 'z')
        c[0] = (char)(c[0] - 'a' + 'A');
    return c;
}

/* The figure of one axis: data/KEY.dat (a block per policy with data: x, mean and interval
 * of re-training time and of violations) and fig-KEY.png/.svg. */
static int axis_figure(const grid *g, int ax, const char *outdir, const char *scen_note, de_err *err)
{
    char *data = de_sprintf("%s/data/%s.dat", outdir, AXES[ax].key);
    FILE *f = fopen(data, "w");
    if (!f) {
        int rc = de_err_set(err, DE_EIO, "%s: cannot write: %s", data, strerror(errno));
        free(data);
        return rc;
    }
    char *names = de_strdup(""), *lts = de_strdup("");
    int k = 0, npol = 0;
    for (int pol = 0; pol < NPOL; pol++)
        for (int p = 0; p < g->npts[ax]; p++)
            if (cell(g, ax, p, pol, 1).n > 0) {
                npol++;
                break;
            }
    double lo = g->pts[ax][0].value, hi = g->pts[ax][g->npts[ax] - 1].value;
    fprintf(f, "# %s: x, re-training time mean, low, high (s), violations mean, low, high (%%), runs; a block per policy\n",
            AXES[ax].title);
    for (int pol = 0; pol < NPOL; pol++) {
        int any = 0;
        for (int p = 0; p < g->npts[ax]; p++)
            any |= cell(g, ax, p, pol, 1).n > 0;
        if (!any)
            continue;
        /* shifted sideways a little, so that the bars of different policies do not hide each other */
        double shift = (k - (npol - 1) / 2.0) * 0.012;
        fprintf(f, "# %s\n", pol_name(pol));
        for (int p = 0; p < g->npts[ax]; p++) {
            stat_ci r = cell(g, ax, p, pol, 0), v = cell(g, ax, p, pol, 1);
            if (v.n == 0)
                continue;
            double x = g->pts[ax][p].value;
            x = AXES[ax].logx ? x * pow(hi / lo, shift) : x + shift * (hi - lo);
            double rh = isfinite(r.half) ? r.half : 0, vh = isfinite(v.half) ? v.half : 0;
            fprintf(f, "%.6g %.6g %.6g %.6g %.6g %.6g %.6g %d\n", x, r.mean, r.mean - rh, r.mean + rh, v.mean,
                    fmax(0, v.mean - vh), v.mean + vh, v.n);
        }
        fprintf(f, "\n\n");
        char *n2 = de_sprintf("%s%s%s", names, k ? " " : "", pol_name(pol));
        char *l2 = de_sprintf("%s%s%d", lts, k ? " " : "", pol + 1);
        free(names);
        free(lts);
        names = n2;
        lts = l2;
        k++;
    }
    int rc = fclose(f) ? de_err_set(err, DE_EIO, "%s: write failed", data) : DE_OK;
    if (!rc) {
        char *head = capital(AXES[ax].title);
        char *title = de_sprintf("%s — %s, seeds 1–%d per point, mean and 95%% CI", head, scen_note, g->seeds);
        free(head);
        char *out = de_sprintf("%s/fig-%s", outdir, AXES[ax].key);
        const de_plot_var v[] = {{"data", data, 0},        {"out", out, 0},       {"title", title, 0},
                                 {"xl", AXES[ax].xlabel, 0}, {"logx", NULL, AXES[ax].logx}, {"names", names, 0},
                                 {"lts", lts, 0},            {"xlo", NULL, lo},             {"xhi", NULL, hi}};
        rc = de_plot_both("repro_axis.gp", v, (int)(sizeof v / sizeof v[0]), 1300, 520, err);
        free(title);
        free(out);
    }
    free(names);
    free(lts);
    free(data);
    return rc;
}

/* The tables under an axis's figure: one row per point, one column per policy. */
static void axis_tables(doc *d, const grid *g, int ax)
{
    for (int which = 0; which < 2; which++) {
        int ncol = 1 + NPOL, nrow = 1 + g->npts[ax];
        char **cells = de_calloc((size_t)(nrow * ncol), sizeof(char *));
        cells[0] = de_strdup(which == 0 ? "re-training time (s)" : "LC violations (%)");
        for (int pol = 0; pol < NPOL; pol++)
            cells[1 + pol] = de_strdup(pol_name(pol));
        for (int p = 0; p < g->npts[ax]; p++) {
            cells[(p + 1) * ncol] = de_sprintf("%g", g->pts[ax][p].value);
            for (int pol = 0; pol < NPOL; pol++)
                cells[(p + 1) * ncol + 1 + pol] = fmt_ci(cell(g, ax, p, pol, which), which == 0 ? 0 : 2);
        }
        doc_table(d, cells, nrow, ncol, 1);
    }
}

/* `deepedge plan SCENARIO` as it prints, captured from a child process. */
static char *plan_output(const char *scen, const char *catalog)
{
    int fd[2];
    if (pipe(fd))
        return de_sprintf("(cannot run deepedge plan: %s)\n", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[1]);
        char *argv[] = {"plan", (char *)scen, catalog ? "--catalog" : NULL, (char *)catalog, NULL};
        int rc = de_cmd_plan(catalog ? 4 : 2, argv);
        fflush(NULL);
        _exit(rc);
    }
    close(fd[1]);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, mem);
    close(fd[0]);
    fclose(mem);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return text;
}

/* Adds the example external policy (policies/example_policy.py, `--policy ext:...`) to the
 * policies compared when it plans the case study in a trial (in a child process, so that
 * this one never starts it: each worker starts its own); EXT_NOTE says what it is or why
 * it is left out. */
static void ext_policy(const char *scen_path, const char *catalog)
{
    char *root = de_path_dirname(DE_SOURCE_SCENARIOS);
    char *script = de_path_join(root, "policies/example_policy.py");
    char *spec = de_sprintf("%spython3 %s", DE_POLICY_EXT_PREFIX, script);
    de_policy p;
    de_err err;
    if (access(script, R_OK) != 0) {
        snprintf(EXT_NOTE, sizeof EXT_NOTE, "The example external policy is not compared: %s is not there", script);
    } else if (strchr(spec, '\'') || de_policy_parse(spec, &p)) {
        snprintf(EXT_NOTE, sizeof EXT_NOTE, "The example external policy is not compared: `%s` is not a policy here", spec);
    } else {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0) {
                dup2(devnull, 1);
                dup2(devnull, 2);
            }
            de_scenario *s;
            de_plan plan;
            de_plan_init(&plan);
            int bad = de_scenario_load(scen_path, catalog, &s, &err);
            if (!bad) {
                de_state st;
                de_state_init(&st, s, s->jobs[0].arrival_s);
                de_predictor pred = de_predictor_model();
                bad = de_plan_compute(&st, 0, p, &s->planner, &pred, &plan, &err) || plan.n_shares <= 0;
            }
            _exit(bad ? 1 : 0);
        }
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            POLS[NPOL++] = p;
            snprintf(EXT_NOTE, sizeof EXT_NOTE,
                     "The example external policy, `%s`, is a Python program speaking deepedge's external-policy "
                     "protocol (policies/README.md) that plans by the rule of `proportional`: its numbers should be "
                     "proportional's",
                     spec);
        } else {
            snprintf(EXT_NOTE, sizeof EXT_NOTE,
                     "The example external policy (`%s`) is not compared: it could not plan the case study here (is "
                     "python3 installed?)",
                     spec);
        }
    }
    free(root);
    free(script);
    free(spec);
}

static char *seeds_text(int n)
{
    return de_sprintf("seeds 1–%d", n);
}


int de_cmd_reproduce(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},      {"seeds", required_argument, 0, 's'},
                                         {"quick", no_argument, 0, 'q'},          {"jobs", required_argument, 0, 'j'},
                                         {"scenario", required_argument, 0, 'S'}, {"catalog", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    const char *outdir = "out/reproduce", *catalog = NULL;
    char *scen_default = de_path_join(DE_SOURCE_SCENARIOS, "caltech-testbed.cfg");
    const char *scen_path = scen_default;
    long long seeds = 0, jobs = de_host_cores();
    int quick = 0, c;
    if (jobs < 1)
        jobs = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': outdir = optarg; break;
        case 's':
            if (de_cli_int("--seeds", optarg, 2, 1000, &seeds)) {
                free(scen_default);
                return DE_EXIT_ERROR;
            }
            break;
        case 'q': quick = 1; break;
        case 'j':
            if (de_cli_int("--jobs", optarg, 1, 256, &jobs)) {
                free(scen_default);
                return DE_EXIT_ERROR;
            }
            break;
        case 'S': scen_path = optarg; break;
        case 'C': catalog = optarg; break;
        case 'h':
            help(stdout);
            free(scen_default);
            return DE_EXIT_OK;
        default:
            help(stderr);
            free(scen_default);
            return de_cli_fail("reproduce: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    if (optind != argc) {
        help(stderr);
        free(scen_default);
        return de_cli_fail("reproduce: unexpected argument '%s' (the case study is --scenario FILE)", argv[optind]);
    }
    if (!seeds)
        seeds = quick ? 3 : 5;
    NPOL = 0;
    for (int k = 0; k < DE_POLICY_COUNT; k++)
        POLS[NPOL++] = (de_policy)k;
    ext_policy(scen_path, catalog);
    double t0 = de_now_s();
    de_err err;
    int rc = DE_EXIT_OK;
    grid g;
    memset(&g, 0, sizeof g);
    g.seeds = (int)seeds;
    de_scenario *base = NULL, *nofault = NULL;
    de_catalog *cat = NULL;
    char *text = NULL;
    /* Every scenario of every point is built and loaded before anything runs. */
    if (de_scenario_load(scen_path, catalog, &base, &err) || de_catalog_load(catalog ? catalog : DE_DEFAULT_CATALOG, &cat, &err)) {
        rc = de_cli_fail("%s", err.msg);
        goto done;
    }
    for (int ax = 0; ax < AX_COUNT && !rc; ax++) {
        g.npts[ax] = quick ? AXES[ax].n_quick : AXES[ax].n_full;
        for (int p = 0; p < g.npts[ax] && !rc; p++) {
            point *pt = &g.pts[ax][p];
            pt->value = quick ? AXES[ax].quick[p] : AXES[ax].full[p];
            pt->scen = de_calloc((size_t)seeds, sizeof(de_scenario *));
            pt->shared = ax != AX_SIZE;
            if (ax == AX_LOAD || ax == AX_DEADLINE) {
                double load = ax == AX_LOAD ? pt->value : 1, dl = ax == AX_DEADLINE ? pt->value : 1;
                if (case_text(scen_path, load, dl, 0, &text, &err) ||
                    de_scenario_load_text(text, scen_path, catalog, &pt->scen[0], &err))
                    rc = de_cli_fail("reproduce: %s × %g: %s", AXES[ax].title, pt->value, err.msg);
                free(text);
                text = NULL;
            } else if (ax == AX_SIZE) {
                for (int sd = 0; sd < seeds && !rc; sd++)
                    if (size_scenario(cat, catalog, (int)pt->value, (unsigned long)sd + 1, &pt->scen[sd], &err))
                        rc = de_cli_fail("reproduce: cluster of %g devices, seed %d: %s", pt->value, sd + 1, err.msg);
            } else {
                if (!nofault) {
                    if (case_text(scen_path, 1, 1, 1, &text, &err) || de_scenario_load_text(text, scen_path, catalog, &nofault, &err))
                        rc = de_cli_fail("reproduce: %s without its faults: %s", scen_path, err.msg);
                    free(text);
                    text = NULL;
                }
                pt->scen[0] = nofault;
                pt->inject = de_calloc((size_t)seeds, sizeof(de_change *));
                pt->n_inject = de_calloc((size_t)seeds, sizeof(int));
                for (int sd = 0; sd < seeds && !rc; sd++)
                    if (draw_failures(nofault, pt->value, (unsigned long)sd + 1, &pt->inject[sd], &pt->n_inject[sd], &err))
                        rc = de_cli_fail("reproduce: failures at %g per device-hour: %s", pt->value, err.msg);
            }
        }
    }
    if (rc)
        goto done;
    char *sub = de_sprintf("%s/data", outdir), *cs = de_sprintf("%s/case-study", outdir);
    if (de_mkdir_p(sub) || de_mkdir_p(cs))
        rc = de_cli_fail("%s: cannot create: %s", outdir, strerror(errno));
    free(sub);
    if (rc) {
        free(cs);
        goto done;
    }
    size_t total = run_count(&g);
    g.out = mmap(NULL, total * sizeof(run_out), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g.out == MAP_FAILED) {
        g.out = NULL;
        free(cs);
        rc = de_cli_fail("reproduce: cannot map %zu results: %s", total, strerror(errno));
        goto done;
    }
    memset(g.out, 0, total * sizeof(run_out));
    fprintf(stderr, "reproduce: %s, %lld seeds per point, %lld at a time\n", base->name, seeds, jobs);
    rc = run_grid(&g, (int)jobs);

    /* every run, one row */
    if (!rc) {
        char *p = de_sprintf("%s/results.csv", outdir);
        FILE *f = fopen(p, "w");
        if (!f)
            rc = de_cli_fail("%s: cannot write: %s", p, strerror(errno));
        for (int ax = 0; f && ax < AX_COUNT; ax++) {
            if (ax == 0)
                fprintf(f, "axis,value,policy,seed,scenario,finished,retraining_s,lc_violation_pct,lc_tasks_missed\n");
            for (int pt = 0; pt < g.npts[ax]; pt++)
                for (int pol = 0; pol < NPOL; pol++)
                    for (int sd = 0; sd < g.seeds; sd++) {
                        const run_out *o = &g.out[run_index(&g, ax, pt, pol, sd)];
                        const point *P = &g.pts[ax][pt];
                        if (o->state == 1)
                            fprintf(f, "%s,%g,%s,%d,%s,%d,%.3f,%.4f,%.0f\n", AXES[ax].key, P->value,
                                    pol_name(pol), sd + 1, P->scen[P->shared ? 0 : sd]->name, o->finished,
                                    o->retrain_s, o->viol_pct, o->tasks_missed);
                    }
        }
        if (f && fclose(f))
            rc = de_cli_fail("%s: write failed", p);
        free(p);
    }

    /* the case study: one simulated run (seed 1, the scenario's policy) with its files and figures */
    de_sim_result cres;
    memset(&cres, 0, sizeof cres);
    char *sim_table = NULL;
    if (!rc) {
        de_sim_opts so;
        de_sim_opts_default(&so);
        so.seed = 1;
        so.out_dir = cs;
        if (de_sim_run(base, &so, &cres, &err))
            rc = de_cli_fail("reproduce: the case study's run: %s", err.msg);
        else {
            size_t len = 0;
            FILE *m = open_memstream(&sim_table, &len);
            de_report_print(&cres, m);
            fclose(m);
            char *label = de_sprintf("%s, %s, seed 1", base->name, de_policy_name((de_policy)cres.policy));
            if (de_plot_run_figures(base, cs, "simulated", label, &err))
                rc = de_cli_fail("reproduce: %s", err.msg);
            free(label);
        }
    }
    /* the axes' figures */
    char scen_note[256];
    for (int ax = 0; ax < AX_COUNT && !rc; ax++) {
        if (ax == AX_SIZE)
            snprintf(scen_note, sizeof scen_note, "generated clusters, resnet50-ft, B=%d, 1 epoch", SIZE_BATCH);
        else if (ax == AX_FAILURE)
            snprintf(scen_note, sizeof scen_note, "%s without its faults, random crashes", base->name);
        else
            snprintf(scen_note, sizeof scen_note, "%s", base->name);
        if (axis_figure(&g, ax, outdir, scen_note, &err))
            rc = de_cli_fail("reproduce: %s", err.msg);
    }
    char *plan_text = rc ? NULL : plan_output(scen_path, catalog);

    if (!rc) {
        char *mdp = de_sprintf("%s/report.md", outdir), *htp = de_sprintf("%s/report.html", outdir);
        doc d = {fopen(mdp, "w"), fopen(htp, "w")};
        if (!d.md || !d.html)
            rc = de_cli_fail("%s: cannot write the report: %s", outdir, strerror(errno));
        if (!rc) {
            char *st = seeds_text(g.seeds);
            const de_job *J = &base->jobs[0];
            fprintf(d.html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Deep-Edge case study: %s</title>\n"
                            "<style>body{font-family:sans-serif;max-width:1350px;margin:auto;padding:1em}"
                            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                            "td.t,th{text-align:left}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}"
                            "figcaption{margin:.3em 0 1.5em 0}</style></head><body>\n",
                    base->name);
            fprintf(d.md, "# Deep-Edge case study: %s\n\n", base->name);
            fprintf(d.html, "<h1>Deep-Edge case study: %s</h1>\n", base->name);
            doc_p(&d,
                  "The evaluation of *Deep-Edge: An Efficient Framework for Deep Learning Model Update on Heterogeneous "
                  "Edge* (ICFEC 2020) on its case study, `%s` (%s): the job `%s` trains `%s` on %lld samples for %d epochs "
                  "at a global batch of %d on %d devices that also serve %d latency-critical (LC) tasks. Every number "
                  "comes from deepedge's discrete-event simulator (`deepedge sim`, ARCHITECTURE.md): every LC request "
                  "is served one by one against the training timeline; faults and re-planning follow the rule "
                  "`deepedge run` uses. A seed draws the LC requests, the step times and, on the cluster-size and "
                  "failure axes, the cluster and the crash times.",
                  base->name, base->description ? base->description : "", J->name,
                  base->catalog->networks[J->network].name, (long long)J->dataset_size, J->epochs, J->global_batch,
                  base->n_devices, base->n_tasks);
            doc_p(&d,
                  "**Re-training time**: the job's end minus its arrival, in simulated seconds (runs that did not finish "
                  "are left out and counted). **LC violations**: the share of all LC requests of the run that were served "
                  "over their task's deadline or dropped (their device was down), in %%. Each point is the mean over %s; "
                  "± is the half-width of the 95%% confidence interval (Student t with n − 1 degrees of freedom).",
                  st);

            doc_h(&d, 2, "Headline: the case study as written");
            doc_p(&d, "`%s` unchanged (LC load × 1, deadlines × 1, its faults), %s, every policy:", base->name, st);
            {
                int ncol = 6, nrow = 1 + NPOL;
                char **cells = de_calloc((size_t)(nrow * ncol), sizeof(char *));
                const char *hdr[] = {"policy", "kind", "re-training time (s)", "LC violations (%)", "LC tasks over deadline",
                                     "runs finished"};
                for (int k = 0; k < ncol; k++)
                    cells[k] = de_strdup(hdr[k]);
                int nominal = -1;
                for (int p = 0; p < g.npts[AX_LOAD]; p++)
                    if (g.pts[AX_LOAD][p].value == 1)
                        nominal = p;
                for (int pol = 0; pol < NPOL; pol++) {
                    char **row = cells + (pol + 1) * ncol;
                    row[0] = de_strdup(pol_name(pol));
                    row[1] = de_strdup(policy_kind(pol));
                    stat_ci r = cell(&g, AX_LOAD, nominal, pol, 0), v = cell(&g, AX_LOAD, nominal, pol, 1),
                            m = cell(&g, AX_LOAD, nominal, pol, 2);
                    row[2] = fmt_ci(r, 0);
                    row[3] = fmt_ci(v, 2);
                    row[4] = fmt_ci(m, 1);
                    row[5] = v.of ? de_sprintf("%d of %d", r.n, v.of) : de_strdup("not run");
                }
                doc_table(&d, cells, nrow, ncol, 2);
            }
            doc_p(&d, "%s.", EXT_NOTE);

            doc_h(&d, 2, "Policies");
            {
                int nrow = 1 + NPOL, ncol = 3;
                char **cells = de_calloc((size_t)(nrow * ncol), sizeof(char *));
                cells[0] = de_strdup("policy");
                cells[1] = de_strdup("kind");
                cells[2] = de_strdup("what it does");
                for (int pol = 0; pol < NPOL; pol++) {
                    cells[(pol + 1) * ncol] = de_strdup(pol_name(pol));
                    cells[(pol + 1) * ncol + 1] = de_strdup(policy_kind(pol));
                    int mx = de_policy_max_devices(POLS[pol]);
                    cells[(pol + 1) * ncol + 2] = mx ? de_sprintf("%s; accepts at most %d devices, so it is run only where "
                                                                  "the cluster is that small",
                                                                  de_policy_help(POLS[pol]), mx)
                                                     : de_policy_is_external(POLS[pol]) ? de_strdup(EXT_NOTE)
                                                                                         : de_strdup(de_policy_help(POLS[pol]));
                }
                doc_table(&d, cells, nrow, ncol, 3);
            }

            doc_h(&d, 2, "Across load, deadlines, cluster size and failures");
            int fig = 0;
            for (int ax = 0; ax < AX_COUNT; ax++) {
                char *png = de_sprintf("fig-%s.png", AXES[ax].key), *svg = de_sprintf("fig-%s.svg", AXES[ax].key);
                char *what;
                if (ax == AX_LOAD)
                    what = de_sprintf("`%s` with every LC task's request rate multiplied by the value (its faults as "
                                      "written)", base->name);
                else if (ax == AX_DEADLINE)
                    what = de_sprintf("`%s` with every LC task's deadline multiplied by the value (below 1: tighter; its "
                                      "faults as written)", base->name);
                else if (ax == AX_SIZE)
                    what = de_sprintf("generated heterogeneous clusters (`deepedge scenario generate --devices N --seed S "
                                      "--network resnet50-ft --batch %d`, one LC task per two devices, the job set to one "
                                      "epoch): seed S is a different cluster of the same size; `exact` only at 20 devices "
                                      "or fewer", SIZE_BATCH);
                else
                    what = de_sprintf("`%s` without its own faults; every device crashes as a Poisson process at the "
                                      "value per device-hour and is repaired %.0f s later; each seed draws other crash "
                                      "times. The requests of an LC task whose device is down are dropped and count as "
                                      "violations under every policy", base->name, REPAIR_S);
                char *cap = de_sprintf("Re-training time (left) and LC violations (right) against %s, every policy. "
                                       "Scenario: %s. Seeds 1–%d per point; marks are means, bars 95%% confidence intervals; "
                                       "the policies' marks are shifted a little sideways so that their bars stay apart.",
                                       AXES[ax].title, what, g.seeds);
                char *head = capital(AXES[ax].title);
                doc_h(&d, 3, head);
                free(head);
                doc_fig(&d, png, svg, ++fig, cap);
                axis_tables(&d, &g, ax);
                free(png);
                free(svg);
                free(what);
                free(cap);
            }

            doc_h(&d, 2, "The case study: plan and simulated run");
            doc_p(&d, "`deepedge plan %s`: the plan of the scenario's policy and every policy compared on the same "
                      "predictions.", scen_path);
            doc_pre(&d, plan_text ? plan_text : "");
            doc_p(&d, "`deepedge sim %s --seed 1` (files in `case-study/`):", scen_path);
            doc_pre(&d, sim_table ? sim_table : "");
            const char *pol_name = de_policy_name((de_policy)cres.policy);
            char *cap = de_sprintf("Device timeline of `%s`, policy %s, seed 1 (simulated): one panel per span where the "
                                   "cluster worked; each device's bar per time bin is stacked from the share of the bin it "
                                   "spent training, in sync / all-reduce, checkpointing, planning, restarting or down; the "
                                   "last panel shows a few iterations as they are, around the first restart.",
                                   base->name, pol_name);
            doc_fig(&d, "case-study/timeline.png", "case-study/timeline.svg", ++fig, cap);
            free(cap);
            cap = de_sprintf("LC latency of `%s`, policy %s, seed 1, per 60 s window, at the percentile each task's "
                             "deadline uses (ms, log scale), with its deadline dashed; a line stops where the task's "
                             "device was down and nothing was served, and a cross marks windows with dropped requests.",
                             base->name, pol_name);
            doc_fig(&d, "case-study/lc_latency.png", "case-study/lc_latency.svg", ++fig, cap);
            free(cap);
            cap = de_sprintf("LC latency tail of `%s`, policy %s, seed 1: for each task the share of its served "
                             "requests slower than x (log-log); a triangle marks its deadline at its percentile, met "
                             "when the curve passes below it.",
                             base->name, pol_name);
            doc_fig(&d, "case-study/lc_cdf.png", "case-study/lc_cdf.svg", ++fig, cap);
            free(cap);

            doc_h(&d, 2, "Simulated against executed");
            doc_p(&d, "The table of simulated against measured runs (variants of a scenario under `deepedge sim` and "
                      "`deepedge run`) is produced by `deepedge bench fidelity` after `deepedge calibrate`: it executes "
                      "every variant for real (about a minute each, `--repeat N` for the runs' spread), so this report, "
                      "which only simulates, does not include it. `deepedge run scenarios/local-testbed.cfg` executes a "
                      "plan for real and writes its own measured files and figures.");

            doc_h(&d, 2, "How this report was made");
            struct rusage ru;
            getrusage(RUSAGE_CHILDREN, &ru);
            double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                         ru.ru_stime.tv_usec / 1e6;
            char host[256];
            de_host_cpu(host, sizeof host);
            size_t nruns = 0;
            for (size_t i = 0; i < total; i++)
                nruns += g.out[i].state == 1;
            doc_p(&d,
                  "`deepedge reproduce%s --seeds %d -j %lld` (deepedge %s): %zu simulations in %.1f s of wall time "
                  "(%.1f s of CPU in its worker processes), %lld at a time, on %s (%d cores). Every run is a row of "
                  "`results.csv`; the figures' numbers are in `data/`.",
                  quick ? " --quick" : "", g.seeds, jobs, DE_VERSION, nruns, de_now_s() - t0, cpu, jobs, host,
                  de_host_cores());
            free(st);
            fputs("</body></html>\n", d.html);
        }
        if (d.md && fclose(d.md))
            rc = de_cli_fail("%s: write failed", mdp);
        if (d.html && fclose(d.html))
            rc = de_cli_fail("%s: write failed", htp);
        if (!rc)
            printf("report: %s (and %s), in %.1f s\n", mdp, htp, de_now_s() - t0);
        free(mdp);
        free(htp);
    }
    free(plan_text);
    free(sim_table);
    de_sim_result_free(&cres);
    free(cs);
done:
    if (g.out)
        munmap(g.out, run_count(&g) * sizeof(run_out));
    for (int ax = 0; ax < AX_COUNT; ax++)
        for (int p = 0; p < g.npts[ax]; p++) {
            point *pt = &g.pts[ax][p];
            if (pt->scen && ax == AX_SIZE)
                for (int sd = 0; sd < seeds; sd++)
                    de_scenario_destroy(pt->scen[sd]);
            else if (pt->scen && ax != AX_FAILURE)
                de_scenario_destroy(pt->scen[0]);
            if (pt->inject)
                for (int sd = 0; sd < seeds; sd++)
                    free(pt->inject[sd]);
            free(pt->inject);
            free(pt->n_inject);
            free(pt->scen);
        }
    de_scenario_destroy(nofault);
    de_scenario_destroy(base);
    de_catalog_destroy(cat);
    free(scen_default);
    return rc;
}
