/* de_plot.c — the one gnuplot runner (see de_plot.h). */
#include "de_plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_csv.h"
#include "de_outputs.h"
#include "de_util.h"

#ifndef DE_PLOTS_DIR
#define DE_PLOTS_DIR "plots"
#endif

const char *de_plot_dir(void)
{
    const char *d = getenv("DEEPEDGE_PLOTS");
    return d && *d ? d : DE_PLOTS_DIR;
}

int de_plot_run(const char *script, const de_plot_var *vars, int n, de_err *err)
{
    char *defs = de_strdup("");
    for (int i = 0; i < n; i++) {
        if (vars[i].text && strchr(vars[i].text, '\'')) {
            free(defs);
            return de_err_set(err, DE_EINVAL, "plot %s: cannot pass %s='%s' to gnuplot (it contains a quote)", script,
                              vars[i].name, vars[i].text);
        }
        char *d2 = vars[i].text ? de_sprintf("%s%s%s='%s'", defs, i ? "; " : "", vars[i].name, vars[i].text)
                                : de_sprintf("%s%s%s=%.17g", defs, i ? "; " : "", vars[i].name, vars[i].num);
        free(defs);
        defs = d2;
    }
    char *path = de_path_join(de_plot_dir(), script);
    int rc = DE_OK;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = de_err_set(err, DE_EIO, "plot %s: cannot start gnuplot: %s", path, strerror(errno));
    } else if (pid == 0) {
        execlp("gnuplot", "gnuplot", "-e", defs, path, (char *)NULL);
        _exit(127);
    } else {
        int status = 0;
        if (waitpid(pid, &status, 0) < 0)
            rc = de_err_set(err, DE_EIO, "plot %s: waitpid: %s", path, strerror(errno));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            rc = de_err_set(err, DE_EIO, "plot %s: cannot run gnuplot: install it (Debian: gnuplot-nox) or turn the "
                                         "figures off", path);
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = de_err_set(err, DE_EIO, "plot %s: gnuplot failed (status %d)", path,
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    free(path);
    free(defs);
    return rc;
}


int de_plot_both(const char *script, const de_plot_var *vars, int n, int width, int height, de_err *err)
{
    de_plot_var *v = de_calloc((size_t)n + 2, sizeof *v);
    if (n > 0)
        memcpy(v, vars, (size_t)n * sizeof *v);
    char term[2][96];
    snprintf(term[0], sizeof term[0], "pngcairo size %d,%d font \",10\"", width, height);
    snprintf(term[1], sizeof term[1], "svg size %d,%d font \",10\"", width, height);
    static const char *const ext[2] = {"png", "svg"};
    int rc = DE_OK;
    for (int k = 0; k < 2 && !rc; k++) {
        v[n] = (de_plot_var){"term", term[k], 0};
        v[n + 1] = (de_plot_var){"ext", ext[k], 0};
        rc = de_plot_run(script, v, n + 2, err);
    }
    free(v);
    return rc;
}

/* ------------------------------------------------------------------ the figures of a run
 * The scripts draw from small data files prepared here from the run's output files, in a
 * temporary folder inside the run's folder (removed afterwards): the timeline as the share
 * of each state per time bin and device over each span where the cluster worked, plus a
 * detail of a few iterations; each LC task's latency per window as its own block, broken
 * where nothing was served; its latency tail; and its deadline point. */

/* Colours of the timeline states (record/de_outputs.h order), as 0xRRGGBB. */
static const int tl_colour[DE_TL_COUNT] = {0x1f77b4, 0xbdbdbd, 0x2ca02c, 0x9467bd, 0xff7f0e, 0xd62728};

#define MAX_SPANS 3   /* active spans drawn, each its own panel */
#define MAX_TASKS 12  /* LC tasks drawn in the latency figures */
#define MAX_YLABELS 40

typedef struct tl_seg {
    double a, b;
    int row, st;
} tl_seg;

static int cmp_seg(const void *x, const void *y)
{
    const tl_seg *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

static char *append(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *append(char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t have = s ? strlen(s) : 0;
    char *r = de_realloc(s, have + (size_t)(n > 0 ? n : 0) + 1);
    r[have] = '\0';
    if (n > 0) {
        va_start(ap, fmt);
        vsnprintf(r + have, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* gnuplot's word() splits at blanks: a name with one would shift every later name. */
static char *word_of(const char *name)
{
    char *w = de_strdup(name && *name ? name : "?");
    for (char *c = w; *c; c++)
        if (*c == ' ' || *c == '\t' || *c == '\'' || *c == '"')
            *c = '_';
    return w;
}

static double cell_num(const de_csv *t, int row, int col)
{
    const char *s = de_csv_str(t, row, col);
    char *end;
    double v = s ? strtod(s, &end) : NAN;
    return s && end != s ? v : NAN;
}

/* 1 when the CSV file at dir/name has a line after its header: a run that ended before
 * its first row (a failed start) has no figure of it, not an error. */
static int has_rows(const char *dir, de_output o)
{
    char *path = de_path_join(dir, de_output_name(o));
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return 1; /* the loader says what is wrong */
    int lines = 0, c, last = '\n';
    while ((c = fgetc(f)) != EOF && lines < 2) {
        if (c == '\n')
            lines++;
        last = c;
    }
    fclose(f);
    return lines >= 2 || (lines == 1 && last != '\n');
}

typedef struct tl_data {
    int nrows;
    char *devs;   /* row names, blank-separated */
    int nspans, spans_more;
    double lo[MAX_SPANS], hi[MAX_SPANS], binw[MAX_SPANS];
    int detail;
    double dlo, dhi;
    char dtitle[160];
} tl_data;

/* The detail window: a few iterations around the first restart, else the first checkpoint,
 * else the first iterations of the first job. */
static void tl_detail(const char *dir, const tl_seg *sg, int n, tl_data *d)
{
    de_csv_col cols[] = {{"job", DE_CSV_STRING, 1, 0, 0, NULL, ""},       {"iteration", DE_CSV_NUMBER, 1, -1, 1e18, NULL, ""},
                         {"start_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""}, {"compute_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                         {"allreduce_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""}, {"end_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                         {"samples_done", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""}};
    char *path = de_path_join(dir, de_output_name(DE_OUT_ITERATIONS));
    de_csv *t = NULL;
    de_err e;
    d->detail = 0;
    if (de_csv_load(path, cols, 7, DE_CSV_EXACT, &t, &e) == DE_OK && t->n_rows >= 2) {
        const char *job = de_csv_str(t, 0, 0);
        double it = 0;
        int k = 0, first = -1;
        for (int r = 0; r < t->n_rows; r++)
            if (strcmp(de_csv_str(t, r, 0), job) == 0) {
                if (first < 0)
                    first = r;
                if (k < 20)
                    it = it > 0 ? fmin(it, de_csv_num(t, r, 5) - de_csv_num(t, r, 2)) : de_csv_num(t, r, 5) - de_csv_num(t, r, 2);
                k++;
            }
        int ev = -1;
        for (int i = 0; i < n && ev < 0; i++)
            if (sg[i].st == DE_TL_RECOVER)
                ev = i;
        for (int i = 0; i < n && ev < 0; i++)
            if (sg[i].st == DE_TL_CHECKPOINT)
                ev = i;
        if (!(it > 0))
            it = 1;
        if (ev >= 0) {
            d->dlo = sg[ev].a - 2.5 * it;
            d->dhi = sg[ev].b + 2.5 * it;
            if (sg[ev].st == DE_TL_RECOVER)
                snprintf(d->dtitle, sizeof d->dtitle, "detail: the first restart (at %.1f s) and the iterations around it",
                         sg[ev].a);
            else
                snprintf(d->dtitle, sizeof d->dtitle, "detail: the first checkpoint (at %.1f s) and the iterations around it",
                         sg[ev].a);
            /* a planning step just before a restart belongs to it */
            for (int i = 0; i < n; i++)
                if (sg[i].st == DE_TL_PLAN && sg[i].b >= sg[ev].a - 1e-9 && sg[i].a < sg[ev].a && sg[i].a - 2.5 * it < d->dlo)
                    d->dlo = sg[i].a - 2.5 * it;
        } else {
            int r1 = first + (k > 2 ? 1 : 0), r2 = r1;
            for (int r = r1, m = 0; r < t->n_rows && m < 5; r++)
                if (strcmp(de_csv_str(t, r, 0), job) == 0) {
                    r2 = r;
                    m++;
                }
            d->dlo = de_csv_num(t, r1, 2);
            d->dhi = de_csv_num(t, r2, 5);
            snprintf(d->dtitle, sizeof d->dtitle, "detail: iterations %.0f to %.0f of %s", de_csv_num(t, r1, 1),
                     de_csv_num(t, r2, 1), job);
        }
        if (d->dlo < 0)
            d->dlo = 0;
        d->detail = d->dhi > d->dlo;
    }
    de_csv_destroy(t);
    free(path);
}

/* Reads timeline.csv and writes tmp/tl_bins.dat (one block per span) and tmp/tl_detail.dat:
 * rectangles x y xlo xhi ylo yhi colour. Rows are the devices that appear, in device order,
 * from the top. */
static int tl_prepare(const char *dir, const char *tmp, const de_scenario *s, tl_data *d, char **idle, de_err *err)
{
    de_csv_col cols[] = {{"device", DE_CSV_STRING, 1, 0, 0, NULL, ""},
                         {"device_index", DE_CSV_INT, 1, 0, 1e9, NULL, ""},
                         {"start_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                         {"end_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                         {"state", DE_CSV_STRING, 1, 0, 0, NULL, ""}};
    memset(d, 0, sizeof *d);
    *idle = NULL;
    if (!has_rows(dir, DE_OUT_TIMELINE))
        return DE_OK;
    char *path = de_path_join(dir, de_output_name(DE_OUT_TIMELINE));
    de_csv *t = NULL;
    int rc = de_csv_load(path, cols, 5, DE_CSV_EXACT, &t, err);
    free(path);
    if (rc)
        return rc;
    int maxidx = 0;
    for (int r = 0; r < t->n_rows; r++)
        if ((int)de_csv_num(t, r, 1) > maxidx)
            maxidx = (int)de_csv_num(t, r, 1);
    int *rowof = de_calloc((size_t)maxidx + 1, sizeof(int));
    const char **name = de_calloc((size_t)maxidx + 1, sizeof(char *));
    for (int i = 0; i <= maxidx; i++)
        rowof[i] = -1;
    tl_seg *sg = de_calloc((size_t)t->n_rows + 1, sizeof *sg);
    int n = 0;
    for (int r = 0; r < t->n_rows && !rc; r++) {
        int idx = (int)de_csv_num(t, r, 1), st = -1;
        for (int k = 0; k < DE_TL_COUNT; k++)
            if (strcmp(de_csv_str(t, r, 4), de_tl_name((de_tl_state)k)) == 0)
                st = k;
        if (st < 0) {
            rc = de_csv_err(t, r, 4, err, DE_EIO, "unknown timeline state '%s'", de_csv_str(t, r, 4));
            break;
        }
        rowof[idx] = 0;
        name[idx] = de_csv_str(t, r, 0);
        if (de_csv_num(t, r, 3) > de_csv_num(t, r, 2))
            sg[n++] = (tl_seg){de_csv_num(t, r, 2), de_csv_num(t, r, 3), idx, st};
    }
    d->devs = de_strdup("");
    for (int i = 0; i <= maxidx && !rc; i++)
        if (rowof[i] == 0) {
            rowof[i] = d->nrows++;
            char *w = word_of(name[i]);
            d->devs = append(d->devs, "%s%s", d->nrows > 1 ? " " : "", w);
            free(w);
        }
    /* the scenario's devices that never appear: not in any plan */
    int n_idle = 0;
    for (int i = 0; i < s->n_devices && !rc; i++)
        if (i > maxidx || rowof[i] < 0) {
            if (n_idle < 8)
                *idle = append(*idle, "%s%s", n_idle ? ", " : "", s->devices[i].name);
            n_idle++;
        }
    if (n_idle > 8)
        *idle = append(*idle, " and %d more", n_idle - 8);
    for (int i = 0; i < n; i++)
        sg[i].row = rowof[sg[i].row];
    qsort(sg, (size_t)n, sizeof *sg, cmp_seg);
    FILE *fb = NULL, *fd = NULL;
    if (!rc && n > 0) {
        char *pb = de_path_join(tmp, "tl_bins.dat"), *pd = de_path_join(tmp, "tl_detail.dat");
        fb = fopen(pb, "w");
        fd = fopen(pd, "w");
        if (!fb || !fd)
            rc = de_err_set(err, DE_EIO, "%s: cannot write the figure's data: %s", tmp, strerror(errno));
        free(pb);
        free(pd);
    }
    if (!rc && n > 0) {
        /* spans: the union of the segments, split where the cluster idles for over a fifth
         * of the whole extent */
        double lo = sg[0].a, hi = sg[0].b, extent = 0;
        for (int i = 0; i < n; i++)
            extent = fmax(extent, sg[i].b);
        extent -= sg[0].a;
        double span_lo[64], span_hi[64];
        int ns = 0;
        for (int i = 1; i <= n; i++) {
            if (i == n || sg[i].a > hi + 0.2 * extent) {
                if (ns < 64) {
                    span_lo[ns] = lo;
                    span_hi[ns] = hi;
                }
                ns++;
                if (i < n) {
                    lo = sg[i].a;
                    hi = sg[i].b;
                }
            } else {
                hi = fmax(hi, sg[i].b);
            }
        }
        d->nspans = ns < MAX_SPANS ? ns : MAX_SPANS;
        d->spans_more = ns - d->nspans;
        int nb = d->nrows > 0 ? 40000 / d->nrows : 300;
        nb = nb < 30 ? 30 : nb > 300 ? 300 : nb;
        double *acc = de_calloc((size_t)d->nrows * (size_t)nb * DE_TL_COUNT, sizeof(double));
        for (int p = 0; p < d->nspans; p++) {
            double a0 = span_lo[p], w = (span_hi[p] - span_lo[p]) / nb;
            if (!(w > 0))
                w = 1e-9;
            d->lo[p] = a0;
            d->hi[p] = a0 + w * nb;
            d->binw[p] = w;
            memset(acc, 0, (size_t)d->nrows * (size_t)nb * DE_TL_COUNT * sizeof(double));
            for (int i = 0; i < n; i++) {
                if (sg[i].b <= a0 || sg[i].a >= d->hi[p])
                    continue;
                int k0 = (int)floor((sg[i].a - a0) / w), k1 = (int)floor((sg[i].b - a0) / w);
                k0 = k0 < 0 ? 0 : k0;
                k1 = k1 >= nb ? nb - 1 : k1;
                for (int k = k0; k <= k1; k++) {
                    double ov = fmin(sg[i].b, a0 + (k + 1) * w) - fmax(sg[i].a, a0 + k * w);
                    if (ov > 0)
                        acc[((size_t)sg[i].row * nb + k) * DE_TL_COUNT + sg[i].st] += ov;
                }
            }
            /* bars: per device and run of bins with the same shares (to 1/40), the states
             * stacked from the bottom of the device's band */
            for (int r = 0; r < d->nrows; r++) {
                int k = 0;
                while (k < nb) {
                    int q[DE_TL_COUNT], any = 0;
                    for (int st = 0; st < DE_TL_COUNT; st++) {
                        q[st] = (int)lround(40.0 * acc[((size_t)r * nb + k) * DE_TL_COUNT + st] / w);
                        any |= q[st] > 0;
                    }
                    int k2 = k + 1;
                    for (; k2 < nb; k2++) {
                        int same = 1;
                        for (int st = 0; st < DE_TL_COUNT && same; st++)
                            same = q[st] == (int)lround(40.0 * acc[((size_t)r * nb + k2) * DE_TL_COUNT + st] / w);
                        if (!same)
                            break;
                    }
                    double y = r + 0.4;
                    for (int st = 0; any && st < DE_TL_COUNT; st++)
                        if (q[st] > 0) {
                            double h = 0.8 * fmin(q[st], 40) / 40.0;
                            fprintf(fb, "%.6f %.4f %.6f %.6f %.4f %.4f %d\n", a0 + (k + k2) * w / 2, y - h / 2, a0 + k * w,
                                    a0 + k2 * w, y - h, y, tl_colour[st]);
                            y -= h;
                        }
                    k = k2;
                }
            }
            fprintf(fb, "%.6f -9 %.6f %.6f -9 -9 0\n\n\n", a0, a0, a0); /* never empty */
        }
        free(acc);
        tl_detail(dir, sg, n, d);
        if (d->detail)
            for (int i = 0; i < n; i++)
                if (sg[i].b > d->dlo && sg[i].a < d->dhi)
                    fprintf(fd, "%.6f %d %.6f %.6f %.4f %.4f %d\n", (sg[i].a + sg[i].b) / 2, sg[i].row, fmax(sg[i].a, d->dlo),
                            fmin(sg[i].b, d->dhi), sg[i].row - 0.35, sg[i].row + 0.35, tl_colour[sg[i].st]);
        fprintf(fd, "0 -9 0 0 -9 -9 0\n");
    }
    if (fb && fclose(fb) && !rc)
        rc = de_err_set(err, DE_EIO, "%s: cannot write the figure's data", tmp);
    if (fd && fclose(fd) && !rc)
        rc = de_err_set(err, DE_EIO, "%s: cannot write the figure's data", tmp);
    free(sg);
    free(rowof);
    free(name);
    de_csv_destroy(t);
    return rc;
}

typedef struct lc_data {
    int n;               /* tasks drawn */
    int of;              /* tasks in the run */
    char *names, *pcts, *dls;
    int ndrop;
    double xmax, window_s;
} lc_data;

/* Reads lc_windows.csv and lc_cdf.csv; writes tmp/lc_time.dat (one block per drawn task,
 * a blank line where a window served nothing), tmp/lc_drop.dat (windows with requests
 * dropped: x, the task's deadline, its line type), tmp/lc_tail.dat (per task: latency in
 * ms, fraction of requests slower) and tmp/lc_req.dat (per task: deadline, the fraction
 * allowed over it, line type). */
static int lc_prepare(const char *dir, const char *tmp, const de_scenario *s, lc_data *d, de_err *err)
{
    memset(d, 0, sizeof *d);
    if (s->n_tasks == 0 || !has_rows(dir, DE_OUT_LC_WINDOWS) || !has_rows(dir, DE_OUT_LC_CDF))
        return DE_OK;
    de_csv_col wc[] = {{"start_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""}, {"end_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                       {"task", DE_CSV_STRING, 1, 0, 0, NULL, ""},            {"requests", DE_CSV_NUMBER, 1, 0, 1e18, NULL, ""},
                       {"dropped", DE_CSV_NUMBER, 1, 0, 1e18, NULL, ""},      {"violations", DE_CSV_NUMBER, 1, 0, 1e18, NULL, ""},
                       {"p50_s", DE_CSV_STRING, 1, 0, 0, NULL, ""},           {"p95_s", DE_CSV_STRING, 1, 0, 0, NULL, ""},
                       {"p99_s", DE_CSV_STRING, 1, 0, 0, NULL, ""},           {"pct_s", DE_CSV_STRING, 1, 0, 0, NULL, ""},
                       {"percentile", DE_CSV_STRING, 1, 0, 0, NULL, ""},      {"deadline_s", DE_CSV_STRING, 1, 0, 0, NULL, ""}};
    de_csv_col cc[] = {{"task", DE_CSV_STRING, 1, 0, 0, NULL, ""},
                       {"latency_s", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                       {"cdf", DE_CSV_NUMBER, 1, -1e18, 1e18, NULL, ""},
                       {"deadline_s", DE_CSV_STRING, 1, 0, 0, NULL, ""},
                       {"percentile", DE_CSV_STRING, 1, 0, 0, NULL, ""}};
    char *wp = de_path_join(dir, de_output_name(DE_OUT_LC_WINDOWS)), *cp = de_path_join(dir, de_output_name(DE_OUT_LC_CDF));
    de_csv *w = NULL, *c = NULL;
    int rc = de_csv_load(wp, wc, 12, DE_CSV_EXACT, &w, err);
    if (!rc)
        rc = de_csv_load(cp, cc, 5, DE_CSV_EXACT, &c, err);
    int nt = s->n_tasks;
    int *wtask = NULL, *ctask = NULL, *sel = de_calloc((size_t)nt, sizeof(int)), *order = de_calloc((size_t)nt, sizeof(int));
    double *req = de_calloc((size_t)nt, sizeof(double)), *vio = de_calloc((size_t)nt, sizeof(double));
    if (!rc) {
        wtask = de_calloc((size_t)w->n_rows + 1, sizeof(int));
        ctask = de_calloc((size_t)c->n_rows + 1, sizeof(int));
        for (int r = 0; r < w->n_rows && !rc; r++) {
            wtask[r] = de_names_find(&s->tasks[0].name, sizeof s->tasks[0], nt, de_csv_str(w, r, 2));
            if (wtask[r] < 0)
                rc = de_csv_err(w, r, 2, err, DE_EIO, "no LC task '%s' in scenario %s", de_csv_str(w, r, 2), s->name);
            else {
                req[wtask[r]] += de_csv_num(w, r, 3);
                vio[wtask[r]] += de_csv_num(w, r, 5);
                d->xmax = fmax(d->xmax, de_csv_num(w, r, 1));
                if (d->window_s <= 0)
                    d->window_s = de_csv_num(w, r, 1) - de_csv_num(w, r, 0);
            }
        }
        for (int r = 0; r < c->n_rows && !rc; r++) {
            ctask[r] = de_names_find(&s->tasks[0].name, sizeof s->tasks[0], nt, de_csv_str(c, r, 0));
            if (ctask[r] < 0)
                rc = de_csv_err(c, r, 0, err, DE_EIO, "no LC task '%s' in scenario %s", de_csv_str(c, r, 0), s->name);
        }
    }
    if (!rc) {
        /* at most MAX_TASKS: those with the largest share of requests over the deadline */
        for (int i = 0; i < nt; i++)
            order[i] = i;
        for (int i = 1; i < nt; i++) /* insertion sort, stable, by violation share */
            for (int j = i; j > 0; j--) {
                double a = req[order[j]] > 0 ? vio[order[j]] / req[order[j]] : 0;
                double b = req[order[j - 1]] > 0 ? vio[order[j - 1]] / req[order[j - 1]] : 0;
                if (a <= b)
                    break;
                int x = order[j];
                order[j] = order[j - 1];
                order[j - 1] = x;
            }
        for (int i = 0; i < nt && i < MAX_TASKS; i++)
            sel[order[i]] = 1;
        d->of = nt;
        d->names = de_strdup("");
        d->pcts = de_strdup("");
        d->dls = de_strdup("");
        char *p1 = de_path_join(tmp, "lc_time.dat"), *p2 = de_path_join(tmp, "lc_drop.dat"),
             *p3 = de_path_join(tmp, "lc_tail.dat"), *p4 = de_path_join(tmp, "lc_req.dat");
        FILE *ft = fopen(p1, "w"), *fdr = fopen(p2, "w"), *fta = fopen(p3, "w"), *frq = fopen(p4, "w");
        if (!ft || !fdr || !fta || !frq)
            rc = de_err_set(err, DE_EIO, "%s: cannot write the figure's data: %s", tmp, strerror(errno));
        for (int i = 0; i < nt && !rc; i++) {
            if (!sel[i])
                continue;
            const de_lc_task *T = &s->tasks[i];
            int lt = ++d->n;
            char *wname = word_of(T->name);
            d->names = append(d->names, "%s%s", lt > 1 ? " " : "", wname);
            d->pcts = append(d->pcts, "%s%g", lt > 1 ? " " : "", T->percentile * 100);
            d->dls = append(d->dls, "%s%.3g", lt > 1 ? " " : "", T->deadline_s * 1e3);
            free(wname);
            int pts = 0, gap = 0;
            for (int r = 0; r < w->n_rows; r++) {
                if (wtask[r] != i)
                    continue;
                double mid = (de_csv_num(w, r, 0) + de_csv_num(w, r, 1)) / 2, pct = cell_num(w, r, 9);
                if (de_csv_num(w, r, 4) > 0) {
                    fprintf(fdr, "%.6f %.6g %d\n", mid, T->deadline_s * 1e3, lt);
                    d->ndrop++;
                }
                if (isfinite(pct)) {
                    fprintf(ft, "%.6f %.6g\n", mid, pct * 1e3);
                    pts++;
                    gap = 0;
                } else if (!gap && pts) {
                    fputc('\n', ft); /* nothing served: the line stops here */
                    gap = 1;
                }
            }
            if (!pts)
                fprintf(ft, "-1e30 1\n");
            fprintf(ft, "\n\n");
            pts = 0;
            for (int r = 0; r < c->n_rows; r++)
                if (ctask[r] == i && 1 - de_csv_num(c, r, 2) > 0) {
                    fprintf(fta, "%.6g %.6g\n", de_csv_num(c, r, 1) * 1e3, 1 - de_csv_num(c, r, 2));
                    pts++;
                }
            if (!pts)
                fprintf(fta, "-1e30 1\n");
            fprintf(fta, "\n\n");
            fprintf(frq, "%.6g %.6g %d\n", T->deadline_s * 1e3, 1 - T->percentile, lt);
        }
        if (!d->ndrop && fdr)
            fprintf(fdr, "-1e30 1 1\n");
        int bad = 0;
        bad |= ft && fclose(ft);
        bad |= fdr && fclose(fdr);
        bad |= fta && fclose(fta);
        bad |= frq && fclose(frq);
        if (bad && !rc)
            rc = de_err_set(err, DE_EIO, "%s: cannot write the figure's data", tmp);
        free(p1);
        free(p2);
        free(p3);
        free(p4);
    }
    if (!(d->window_s > 0))
        d->window_s = 1;
    free(wtask);
    free(ctask);
    free(sel);
    free(order);
    free(req);
    free(vio);
    de_csv_destroy(w);
    de_csv_destroy(c);
    free(wp);
    free(cp);
    return rc;
}

static void remove_tmp(const char *tmp)
{
    static const char *const files[] = {"tl_bins.dat", "tl_detail.dat", "lc_time.dat", "lc_drop.dat", "lc_tail.dat", "lc_req.dat"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = de_path_join(tmp, files[i]);
        unlink(p);
        free(p);
    }
    rmdir(tmp);
}

int de_plot_run_figures(const de_scenario *s, const char *dir, const char *clock, const char *label, de_err *err)
{
    char *tmp = de_path_join(dir, ".plot-XXXXXX");
    if (!mkdtemp(tmp)) {
        int rc = de_err_set(err, DE_EIO, "%s: cannot create a folder for the figures' data: %s", dir, strerror(errno));
        free(tmp);
        return rc;
    }
    tl_data tl;
    lc_data lc;
    char *idle = NULL;
    memset(&lc, 0, sizeof lc);
    int rc = tl_prepare(dir, tmp, s, &tl, &idle, err);
    if (!rc)
        rc = lc_prepare(dir, tmp, s, &lc, err);
    if (!rc && tl.nspans == 0) { /* nothing ran: the figure says so */
        const de_plot_var v[] = {{"dir", dir, 0}, {"tmp", tmp, 0}, {"nspans", NULL, 0}, {"label", label, 0}, {"clock", clock, 0}};
        rc = de_plot_both("sim_timeline.gp", v, (int)(sizeof v / sizeof v[0]), 1200, 500, err);
    }
    if (!rc && tl.nspans > 0) {
        char spans[MAX_SPANS * 80] = "";
        for (int p = 0; p < tl.nspans; p++)
            snprintf(spans + strlen(spans), sizeof spans - strlen(spans), "%s%.9g %.9g %.9g", p ? " " : "", tl.lo[p], tl.hi[p],
                     tl.binw[p]);
        char *more = tl.spans_more > 0 ? de_sprintf("%d later active span%s not drawn", tl.spans_more, tl.spans_more > 1 ? "s" : "")
                                       : de_strdup("");
        char *idle_text = idle ? de_sprintf("not in any plan: %s", idle) : de_strdup("");
        int ystep = (tl.nrows + MAX_YLABELS - 1) / MAX_YLABELS;
        int panels = tl.nspans + (tl.detail ? 1 : 0);
        int rowpx = tl.nrows <= 30 ? 22 : tl.nrows <= 120 ? 6 : 2;
        int height = 110 + panels * (70 + rowpx * tl.nrows);
        height = height < 500 ? 500 : height > 2400 ? 2400 : height;
        const de_plot_var v[] = {{"dir", dir, 0},           {"tmp", tmp, 0},          {"devs", tl.devs, 0},
                                 {"nrows", NULL, tl.nrows}, {"ystep", NULL, ystep},   {"nspans", NULL, tl.nspans},
                                 {"spans", spans, 0},       {"more", more, 0},        {"detail", NULL, tl.detail},
                                 {"dlo", NULL, tl.dlo},     {"dhi", NULL, tl.dhi},    {"dtitle", tl.dtitle, 0},
                                 {"idle", idle_text, 0},    {"clock", clock, 0},      {"label", label, 0},
                                 {"kh", NULL, 18.0 / height}};
        rc = de_plot_both("sim_timeline.gp", v, (int)(sizeof v / sizeof v[0]), 1200, height, err);
        free(more);
        free(idle_text);
    }
    if (!rc && lc.n == 0) { /* no LC task, or no window: the figures say so */
        const de_plot_var v[] = {{"dir", dir, 0}, {"tmp", tmp, 0}, {"names", "", 0}, {"label", label, 0}, {"clock", clock, 0}};
        rc = de_plot_both("sim_lc_time.gp", v, (int)(sizeof v / sizeof v[0]), 1200, 700, err);
        if (!rc)
            rc = de_plot_both("sim_lc_cdf.gp", v, (int)(sizeof v / sizeof v[0]), 1200, 700, err);
    }
    if (!rc && lc.n > 0) {
        char *sel = lc.n < lc.of ? de_sprintf("%d of %d tasks: those with the most requests over their deadline", lc.n, lc.of)
                                 : de_strdup("");
        const de_plot_var v[] = {{"dir", dir, 0},      {"tmp", tmp, 0},           {"names", lc.names, 0},
                                 {"pcts", lc.pcts, 0}, {"dls", lc.dls, 0},        {"ndrop", NULL, lc.ndrop},
                                 {"xmax", NULL, lc.xmax}, {"window", NULL, lc.window_s}, {"sel", sel, 0},
                                 {"clock", clock, 0},  {"label", label, 0}};
        int nv = (int)(sizeof v / sizeof v[0]);
        rc = de_plot_both("sim_lc_time.gp", v, nv, 1200, 700, err);
        if (!rc)
            rc = de_plot_both("sim_lc_cdf.gp", v, nv, 1200, 700, err);
        free(sel);
    }
    remove_tmp(tmp);
    free(tmp);
    free(idle);
    free(tl.devs);
    free(lc.names);
    free(lc.pcts);
    free(lc.dls);
    return rc;
}
