/* de_probe.c — the profiler's measurements (see de_probe.h). */
#include "de_probe.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_lcserve.h"
#include "de_net.h"
#include "de_prng.h"
#include "de_train.h"
#include "de_util.h"

#ifndef DE_MPIEXEC
#define DE_MPIEXEC "mpiexec"
#endif

volatile int de_probe_interrupted;

/* ---- statistics ---- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double de_probe_quantile(double *v, int n, double p)
{
    if (n < 1)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    if (p <= 0)
        return v[0];
    if (p >= 1)
        return v[n - 1];
    double h = (n - 1) * p;
    int i = (int)floor(h);
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}

double de_probe_median(double *v, int n)
{
    return de_probe_quantile(v, n, 0.5);
}

double de_probe_robust_sd(double *v, int n)
{
    if (n < 2)
        return 0;
    double q1 = de_probe_quantile(v, n, 0.25), q3 = de_probe_quantile(v, n, 0.75);
    return (q3 - q1) / 1.349;
}

double de_probe_drift(const double *t, const double *y, int n, double *t_stat)
{
    if (t_stat)
        *t_stat = 0;
    if (n < 3)
        return 0;
    double mt = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mt += t[i];
        my += y[i];
    }
    mt /= n;
    my /= n;
    double sty = 0, stt = 0;
    for (int i = 0; i < n; i++) {
        sty += (t[i] - mt) * (y[i] - my);
        stt += (t[i] - mt) * (t[i] - mt);
    }
    if (!(stt > 0))
        return 0;
    double b = sty / stt, rss = 0;
    for (int i = 0; i < n; i++) {
        double r = y[i] - my - b * (t[i] - mt);
        rss += r * r;
    }
    double se = sqrt(rss / (n - 2) / stt);
    if (t_stat)
        *t_stat = se > 0 ? b / se : (b > 0 ? INFINITY : 0);
    return b;
}

/* ---- names, lists, CSV ---- */

void de_probe_emu_name(double cores, char *buf, size_t n)
{
    snprintf(buf, n, "emu-cpu-%03ld", lround(cores * 100.0));
}

int de_probe_parse_list(const char *opt, const char *s, double lo, double hi, int integer, double *v, int cap,
                        int *n, de_err *err)
{
    *n = 0;
    const char *p = s;
    if (!*s)
        return de_err_set(err, DE_EINVAL, "%s: empty list", opt);
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (len == 0)
            return de_err_set(err, DE_EINVAL, "%s: '%s' has an empty item", opt, s);
        if (len >= sizeof item)
            return de_err_set(err, DE_EINVAL, "%s: item '%.*s...' is too long", opt, 20, p);
        memcpy(item, p, len);
        item[len] = '\0';
        char *end;
        errno = 0;
        double x = strtod(item, &end);
        if (errno || end == item || *end != '\0' || !isfinite(x))
            return de_err_set(err, DE_EINVAL, "%s: '%s' is not a number", opt, item);
        if (integer && x != floor(x))
            return de_err_set(err, DE_EINVAL, "%s: '%s' is not an integer", opt, item);
        if (x < lo || x > hi)
            return de_err_set(err, DE_ERANGE, "%s: %s is out of range [%g, %g]", opt, item, lo, hi);
        for (int i = 0; i < *n; i++)
            if (v[i] == x)
                return de_err_set(err, DE_EINVAL, "%s: %s is listed twice", opt, item);
        if (*n == cap)
            return de_err_set(err, DE_ERANGE, "%s: more than %d values", opt, cap);
        v[(*n)++] = x;
        if (!comma)
            break;
        p = comma + 1;
    }
    return DE_OK;
}

void de_probe_csv_cell(FILE *f, const char *s)
{
    size_t len = strlen(s);
    int quote = strpbrk(s, ",\"\r\n") != NULL || (len && (s[0] == ' ' || s[len - 1] == ' '));
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    fputc('"', f);
}

void de_probe_step_header(FILE *f)
{
    fputs("device,network,batch,lc_util,step_time_s,sd_s,source\n", f);
}

void de_probe_step_row(FILE *f, const char *device, const char *network, int batch, double step_s, double sd_s,
                       const char *source)
{
    de_probe_step_row_lc(f, device, network, batch, 0, step_s, sd_s, source);
}

void de_probe_step_row_lc(FILE *f, const char *device, const char *network, int batch, double lc_util, double step_s,
                          double sd_s, const char *source)
{
    de_probe_csv_cell(f, device);
    fputc(',', f);
    de_probe_csv_cell(f, network);
    if (lc_util > 0)
        fprintf(f, ",%d,%.4g,%.6g,%.3g,", batch, lc_util, step_s, sd_s);
    else
        fprintf(f, ",%d,0,%.6g,%.3g,", batch, step_s, sd_s);
    de_probe_csv_cell(f, source);
    fputc('\n', f);
}

void de_probe_lc_header(FILE *f)
{
    fputs("device,model,rate_rps,percentile,latency_s,train_network,train_batch,train_duty,source\n", f);
}

void de_probe_lc_row(FILE *f, const char *device, const char *model, double rate, double percentile,
                     double latency_s, const char *train_network, int train_batch, double train_duty,
                     const char *source)
{
    int alone = !train_network || !*train_network || !(train_duty > 0);
    de_probe_csv_cell(f, device);
    fputc(',', f);
    de_probe_csv_cell(f, model);
    fprintf(f, ",%.6g,%g,%.6g,", rate, percentile, latency_s);
    if (!alone)
        de_probe_csv_cell(f, train_network);
    fprintf(f, ",%d,%g,", alone ? 0 : train_batch, alone ? 0.0 : train_duty);
    de_probe_csv_cell(f, source);
    fputc('\n', f);
}

void de_probe_allreduce_header(FILE *f)
{
    fputs("link,n_devices,bytes,time_s,sd_s,source\n", f);
}

void de_probe_allreduce_row(FILE *f, const char *link, int n_devices, double bytes, double time_s, double sd_s,
                            const char *source)
{
    de_probe_csv_cell(f, link);
    fprintf(f, ",%d,%.0f,%.6g,%.3g,", n_devices, bytes, time_s, sd_s);
    de_probe_csv_cell(f, source);
    fputc('\n', f);
}

/* ---- CPU budgets ---- */

int de_probe_budget_open(const char *run, const char *device, double cores, const char *emulate,
                         de_probe_budget *b, char *note, size_t note_n, de_err *err)
{
    memset(b, 0, sizeof *b);
    b->cores = cores;
    b->mode = DE_BUDGET_NONE;
    if (note && note_n)
        note[0] = '\0';
    if (strcmp(emulate, "auto") && strcmp(emulate, "cgroup") && strcmp(emulate, "duty") && strcmp(emulate, "none"))
        return de_err_set(err, DE_EINVAL, "--emulate: '%s' is not auto, cgroup, duty or none", emulate);
    if (!(cores > 0) || strcmp(emulate, "none") == 0)
        return DE_OK;
    if (strcmp(emulate, "duty") == 0) {
        b->mode = DE_BUDGET_DUTY;
        return DE_OK;
    }
    de_err cerr;
    de_err_clear(&cerr);
    if (de_cgroup_create(run, device, cores, &b->mode, &b->cgroup, &cerr)) {
        if (strcmp(emulate, "cgroup") == 0)
            return de_err_set(err, DE_EIO, "--emulate cgroup: %s", cerr.msg);
        b->mode = DE_BUDGET_DUTY;
        b->cgroup = NULL;
        if (note && note_n)
            snprintf(note, note_n, "no writable cgroup (%s): duty-cycle throttling instead", cerr.msg);
    }
    return DE_OK;
}

void de_probe_budget_close(de_probe_budget *b)
{
    if (!b)
        return;
    if (b->cgroup)
        de_cgroup_remove(b->cgroup);
    free(b->cgroup);
    b->cgroup = NULL;
}

double de_probe_budget_throttle(const de_probe_budget *b)
{
    return b->mode == DE_BUDGET_DUTY && b->cores > 0 && b->cores < 1 ? b->cores : 0;
}

/* ---- child processes ---- */

/* A child reports: optionally 'R' (ready), then 'D', a status record and the payload. */
typedef struct child_status {
    int rc;
    char msg[1024];
} child_status;

typedef int (*child_fn)(void *arg, int fd, void *out, de_err *err);

static int write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads n bytes; returns the count read (< n at EOF), or -1 when interrupted. */
static ssize_t read_full(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0 && errno == EINTR) {
            if (de_probe_interrupted)
                return -1;
            continue;
        }
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Forks a child that joins budget b and runs fn; *rfd reads its reports. */
static int spawn_child(const de_probe_budget *b, child_fn fn, void *arg, size_t out_size, pid_t *pid, int *rfd,
                       de_err *err)
{
    int fd[2];
    if (pipe(fd))
        return de_err_set(err, DE_EIO, "profile: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t p = fork();
    if (p < 0) {
        close(fd[0]);
        close(fd[1]);
        return de_err_set(err, DE_EIO, "profile: fork: %s", strerror(errno));
    }
    if (p == 0) {
        close(fd[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGINT, SIG_IGN); /* the parent decides when a measurement stops */
        signal(SIGTERM, SIG_DFL);
        child_status st;
        memset(&st, 0, sizeof st);
        void *out = de_calloc(out_size ? out_size : 1, 1);
        de_err e;
        de_err_clear(&e);
        st.rc = b->cgroup ? de_cgroup_join(b->cgroup, getpid(), &e) : DE_OK;
        if (!st.rc)
            st.rc = fn(arg, fd[1], out, &e);
        if (st.rc)
            snprintf(st.msg, sizeof st.msg, "%s", e.msg);
        char tag = 'D';
        int ok = write_full(fd[1], &tag, 1) == 0 && write_full(fd[1], &st, sizeof st) == 0 &&
                 write_full(fd[1], out, out_size) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fd[1]);
    *pid = p;
    *rfd = fd[0];
    return DE_OK;
}

static void kill_child(pid_t pid, int fd)
{
    if (fd >= 0)
        close(fd);
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
}

/* Reads the child's final record (after an optional 'R') into out, reaps it. */
static int collect_child(pid_t pid, int fd, void *out, size_t out_size, const char *what, de_err *err)
{
    char tag = 0;
    ssize_t r;
    do
        r = read_full(fd, &tag, 1);
    while (r == 1 && tag == 'R');
    child_status st;
    memset(&st, 0, sizeof st);
    int rc = DE_OK;
    if (r < 0)
        rc = de_err_set(err, DE_EIO, "%s: interrupted", what);
    else if (r != 1 || tag != 'D' || read_full(fd, &st, sizeof st) != (ssize_t)sizeof st)
        rc = de_err_set(err, DE_EIO, "%s: the measuring process died without a result", what);
    else if (st.rc)
        rc = de_err_set(err, st.rc, "%s", st.msg);
    else if (read_full(fd, out, out_size) != (ssize_t)out_size)
        rc = de_err_set(err, DE_EIO, "%s: short result from the measuring process", what);
    if (rc) {
        kill_child(pid, fd);
        return rc;
    }
    close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return DE_OK;
}

/* Random inputs and labels for n samples of net. */
static void synth_batch(const de_net *net, int n, uint64_t seed, float **x, int **y)
{
    int C, H, W;
    de_net_input(net, &C, &H, &W);
    size_t px = (size_t)C * H * W;
    *x = de_calloc((size_t)n * px, sizeof(float));
    *y = de_calloc((size_t)n, sizeof(int));
    uint64_t r = de_prng_seed(seed, 0x9b0be);
    for (size_t i = 0; i < (size_t)n * px; i++)
        (*x)[i] = (float)de_prng_normal(&r);
    for (int i = 0; i < n; i++)
        (*y)[i] = (int)de_prng_below(&r, (uint32_t)de_net_classes(net));
}

/* ---- step times ---- */

typedef struct step_arg {
    const de_probe_step_opts *o;
    double throttle;
} step_arg;

static int step_child(void *argp, int fd, void *outp, de_err *err)
{
    (void)fd;
    const step_arg *a = argp;
    const de_probe_step_opts *o = a->o;
    double *out = outp; /* median[n], sd[n] */
    de_net *net;
    int rc = de_net_builtin(o->network, 0, &net, err);
    if (rc)
        return rc;
    de_net_init(net, o->seed);
    double *t = de_calloc((size_t)o->steps, sizeof(double));
    de_throttle thr = {a->throttle, 0};
    for (int bi = 0; bi < o->n_batches && !rc; bi++) {
        int b = o->batches[bi];
        de_train_opts to;
        de_train_opts_default(&to);
        to.max_batch = b;
        to.threads = o->threads;
        de_trainer *tr;
        if ((rc = de_train_create(net, &to, &tr, err)))
            break;
        float *x;
        int *y;
        synth_batch(net, b, o->seed + (uint64_t)b, &x, &y);
        for (int s = -o->warmup; s < o->steps && !rc; s++) {
            double t0 = de_now_s();
            rc = de_train_grad(tr, x, y, b, NULL, NULL, err);
            if (!rc)
                rc = de_train_step(tr, NULL, 1e-4, err);
            de_throttle_after(&thr, de_now_s() - t0);
            if (s >= 0)
                t[s] = de_now_s() - t0;
        }
        if (!rc) {
            out[o->n_batches + bi] = de_probe_robust_sd(t, o->steps);
            out[bi] = de_probe_median(t, o->steps);
        }
        free(x);
        free(y);
        de_train_destroy(tr);
    }
    free(t);
    de_net_destroy(net);
    return rc;
}

int de_probe_steps(const de_probe_step_opts *o, const de_probe_budget *b, double *median_s, double *sd_s,
                   de_err *err)
{
    if (o->n_batches < 1 || o->steps < 1 || o->warmup < 0)
        return de_err_set(err, DE_EINVAL, "profile step: need batches, steps >= 1, warm-up >= 0");
    step_arg a = {o, de_probe_budget_throttle(b)};
    size_t size = 2 * (size_t)o->n_batches * sizeof(double);
    double *out = de_calloc(2 * (size_t)o->n_batches, sizeof(double));
    pid_t pid;
    int fd;
    int rc = spawn_child(b, step_child, &a, size, &pid, &fd, err);
    if (!rc)
        rc = collect_child(pid, fd, out, size, "profile step", err);
    if (!rc) {
        memcpy(median_s, out, (size_t)o->n_batches * sizeof(double));
        memcpy(sd_s, out + o->n_batches, (size_t)o->n_batches * sizeof(double));
    }
    free(out);
    return rc;
}

/* ---- LC latency with co-located training ---- */

#define TRAIN_LOG 4096 /* steps whose start and length the trainer reports */

typedef struct train_report {
    long steps;
    double busy_s, elapsed_s;
    int logged;
    double t0[TRAIN_LOG], tau[TRAIN_LOG]; /* start (de_now_s, CLOCK_MONOTONIC: one clock for every process) */
} train_report;

static volatile int train_stop;
static void on_train_term(int sig)
{
    (void)sig;
    train_stop = 1;
}

typedef struct lc_arg {
    const de_probe_lc_opts *o;
    double throttle;
} lc_arg;

/* The co-located trainer: one step (busy tau, throttled in DUTY mode), then a gap of
 * tau (1 - d) / d, so that it computes a fraction d of the time; 'R' after warm-up. */
static int train_child(void *argp, int fd, void *outp, de_err *err)
{
    const lc_arg *a = argp;
    const de_probe_lc_opts *o = a->o;
    train_report *rep = outp;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_train_term;
    sigaction(SIGTERM, &sa, NULL);
    de_net *net;
    int rc = de_net_builtin(o->train_network, 0, &net, err);
    if (rc)
        return rc;
    de_net_init(net, o->seed);
    de_train_opts to;
    de_train_opts_default(&to);
    to.max_batch = o->train_batch;
    to.threads = o->threads;
    de_trainer *tr = NULL;
    float *x = NULL;
    int *y = NULL;
    if (!(rc = de_train_create(net, &to, &tr, err))) {
        synth_batch(net, o->train_batch, o->seed, &x, &y);
        rc = de_train_grad(tr, x, y, o->train_batch, NULL, NULL, err); /* warm-up */
    }
    char ready = 'R';
    if (!rc && write_full(fd, &ready, 1))
        rc = de_err_set(err, DE_EIO, "profile: the trainer cannot report");
    de_throttle thr = {a->throttle, 0};
    double start = de_now_s();
    while (!rc && !train_stop) {
        double t0 = de_now_s();
        rc = de_train_grad(tr, x, y, o->train_batch, NULL, NULL, err);
        if (!rc)
            rc = de_train_step(tr, NULL, 1e-4, err);
        de_throttle_after(&thr, de_now_s() - t0);
        double tau = de_now_s() - t0;
        rep->steps++;
        rep->busy_s += tau;
        if (rep->logged < TRAIN_LOG) {
            rep->t0[rep->logged] = t0;
            rep->tau[rep->logged++] = tau;
        }
        if (o->duty < 1)
            de_sleep_s(tau * (1 - o->duty) / o->duty, &train_stop);
    }
    rep->elapsed_s = de_now_s() - start;
    free(x);
    free(y);
    de_train_destroy(tr);
    de_net_destroy(net);
    return rc;
}

typedef struct lat_buf {
    double warmup_s;
    double *v, *t;  /* latency, arrival */
    int n, cap;
} lat_buf;

static void on_request(void *ud, double arrival_s, double latency_s)
{
    lat_buf *b = ud;
    if (arrival_s < b->warmup_s)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1024;
        b->v = de_realloc(b->v, (size_t)b->cap * sizeof(double));
        b->t = de_realloc(b->t, (size_t)b->cap * sizeof(double));
    }
    b->t[b->n] = arrival_s;
    b->v[b->n++] = latency_s;
}

static int lc_child(void *argp, int fd, void *outp, de_err *err)
{
    (void)fd;
    const lc_arg *a = argp;
    const de_probe_lc_opts *o = a->o;
    de_probe_lc_result *r = outp;
    de_net *net;
    int rc = de_net_builtin(o->model, 0, &net, err);
    if (rc)
        return rc;
    de_net_init(net, o->seed);
    lat_buf lb = {o->warmup_s, NULL, NULL, 0, 0};
    de_lc_serve_opts so;
    de_lc_serve_opts_default(&so);
    so.task = "profile";
    so.net = net;
    so.threads = o->threads;
    so.rate = o->rate;
    so.duration_s = o->warmup_s + o->duration_s;
    so.seed = o->seed;
    so.cpu_cores = a->throttle;
    so.on_request = on_request;
    so.ud = &lb;
    de_lc_serve_stats st;
    rc = de_lc_serve(&so, &st, err);
    if (!rc && lb.n < 1)
        rc = de_err_set(err, DE_ERANGE, "profile lc: no request in the %g s window at %g req/s", o->duration_s,
                        o->rate);
    if (!rc) {
        double sum = 0;
        for (int i = 0; i < lb.n; i++)
            sum += lb.v[i];
        r->mean_s = sum / lb.n;
        r->requests = lb.n;
        r->service_s = st.service_mean_s;
        r->drift_s = de_probe_drift(lb.t, lb.v, lb.n, &r->drift_t) * o->duration_s;
        r->overloaded = r->drift_s > r->mean_s && r->drift_t > 5;
        for (int k = 0; k < o->n_percentiles; k++)
            r->latency_s[k] = de_probe_quantile(lb.v, lb.n, o->percentiles[k] / 100.0);
    }
    free(lb.v);
    free(lb.t);
    de_net_destroy(net);
    return rc;
}

int de_probe_lc(const de_probe_lc_opts *o, const de_probe_budget *b, de_probe_lc_result *r, de_err *err)
{
    memset(r, 0, sizeof *r);
    if (!(o->rate > 0) || !(o->duration_s > 0) || o->n_percentiles < 1 || o->n_percentiles > DE_PROBE_MAX_PCT ||
        o->duty < 0 || o->duty > 1 || (o->duty > 0 && (!o->train_network || o->train_batch < 1)))
        return de_err_set(err, DE_EINVAL, "profile lc: bad cell (rate %g, duration %g, duty %g)", o->rate,
                          o->duration_s, o->duty);
    lc_arg a = {o, de_probe_budget_throttle(b)};
    pid_t tpid = -1, lpid = -1;
    int tfd = -1, lfd = -1, rc = DE_OK;
    if (o->duty > 0) {
        rc = spawn_child(b, train_child, &a, sizeof(train_report), &tpid, &tfd, err);
        char tag = 0;
        ssize_t got = rc ? 0 : read_full(tfd, &tag, 1);
        if (!rc && (got != 1 || tag != 'R')) {
            /* It failed before it was ready: its record says why. */
            if (got == 1 && tag == 'D') {
                child_status st;
                if (read_full(tfd, &st, sizeof st) == (ssize_t)sizeof st && st.rc)
                    rc = de_err_set(err, st.rc, "profile lc: the training process: %s", st.msg);
            }
            if (!rc)
                rc = de_err_set(err, DE_EIO, got < 0 ? "profile lc: interrupted"
                                                     : "profile lc: the training process died before warming up");
            kill_child(tpid, tfd);
            return rc;
        }
    }
    double window0 = de_now_s() + o->warmup_s; /* the trainer's steps under the LC load start here */
    rc = spawn_child(b, lc_child, &a, sizeof *r, &lpid, &lfd, err);
    if (!rc)
        rc = collect_child(lpid, lfd, r, sizeof *r, "profile lc", err);
    double window1 = de_now_s();
    if (tpid > 0) {
        train_report *rq = de_calloc(1, sizeof *rq), *rp = rq;
        kill(tpid, SIGTERM);
        de_err terr;
        int trc = collect_child(tpid, tfd, rq, sizeof *rq, "profile lc: the training process", &terr);
        if (!rc && trc)
            rc = de_err_set(err, trc, "%s", terr.msg);
        r->train_steps = rq->steps;
        r->train_duty = rq->elapsed_s > 0 ? rq->busy_s / rq->elapsed_s : 0;
        r->train_step_s = rq->steps ? rq->busy_s / rq->steps : 0;
        /* Steps wholly inside the LC window: the step time under the LC load. */
        double *v = de_calloc((size_t)rq->logged + 1, sizeof *v);
        int m = 0;
        for (int i = 0; i < rq->logged && i < TRAIN_LOG; i++)
            if (rq->t0[i] >= window0 && rq->t0[i] + rq->tau[i] <= window1)
                v[m++] = rq->tau[i];
        r->train_window_steps = m;
        r->train_step_med_s = m ? de_probe_median(v, m) : 0;
        r->train_step_sd_s = de_probe_robust_sd(v, m);
        free(v);
        free(rp);
    }
    return rc;
}

/* ---- all-reduce ---- */

int de_probe_allreduce(MPI_Comm comm, size_t count, int reps, int warmup, double *median_s, double *sd_s,
                       de_err *err)
{
    if (count < 1 || count > (size_t)0x7fffffff || reps < 1 || warmup < 0)
        return de_err_set(err, DE_EINVAL, "allreduce: bad size %zu or repetitions %d", count, reps);
    float *buf = de_calloc(count, sizeof(float)); /* zeros: sums stay finite and normal */
    double *t = de_calloc((size_t)reps, sizeof(double));
    int rc = DE_OK;
    for (int r = -warmup; r < reps && !rc; r++) {
        double dt, mx;
        if (MPI_Barrier(comm) != MPI_SUCCESS) {
            rc = de_err_set(err, DE_EIO, "allreduce: MPI_Barrier failed");
            break;
        }
        double t0 = MPI_Wtime();
        int m = MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, MPI_FLOAT, MPI_SUM, comm);
        dt = MPI_Wtime() - t0;
        if (m != MPI_SUCCESS || MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS) {
            rc = de_err_set(err, DE_EIO, "allreduce: MPI_Allreduce of %zu floats failed", count);
            break;
        }
        if (r >= 0)
            t[r] = mx;
    }
    if (!rc) {
        *sd_s = de_probe_robust_sd(t, reps);
        *median_s = de_probe_median(t, reps);
    }
    free(t);
    free(buf);
    return rc;
}

/* ---- local MPI jobs ---- */

const char *de_probe_mpiexec(void)
{
    const char *e = getenv("DEEPEDGE_MPIEXEC");
    return e && *e ? e : DE_MPIEXEC;
}

char *de_probe_self_exe(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return de_strdup("deepedge");
    buf[n] = '\0';
    return de_strdup(buf);
}

int de_probe_mpirun(int ranks, char *const args[], char **out, de_err *err)
{
    *out = NULL;
    int nargs = 0;
    while (args[nargs])
        nargs++;
    char np[16];
    snprintf(np, sizeof np, "%d", ranks);
    char *exe = de_probe_self_exe();
    const char *mpiexec = de_probe_mpiexec();
    char **argv = de_calloc((size_t)nargs + 12, sizeof(char *));
    int a = 0;
    argv[a++] = (char *)mpiexec;
    argv[a++] = "-n";
    argv[a++] = np;
    argv[a++] = "--oversubscribe";
    argv[a++] = "--bind-to";
    argv[a++] = "none";
    argv[a++] = "-x";
    argv[a++] = "OMP_NUM_THREADS";
    argv[a++] = exe;
    for (int i = 0; i < nargs; i++)
        argv[a++] = args[i];
    argv[a] = NULL;
    int fd[2];
    if (pipe(fd)) {
        free(argv);
        free(exe);
        return de_err_set(err, DE_EIO, "mpirun: pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        free(argv);
        free(exe);
        return de_err_set(err, DE_EIO, "mpirun: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 1);
        close(fd[1]);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        setenv("OMP_NUM_THREADS", "1", 1);
        if (geteuid() == 0) {
            setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
            setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "deepedge: cannot execute %s: %s (set DEEPEDGE_MPIEXEC)\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0, cap = 4096;
    char *buf = de_calloc(cap, 1);
    int rc = DE_OK;
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = de_realloc(buf, cap);
        }
        ssize_t r = read(fd[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR) {
            if (de_probe_interrupted) {
                kill(pid, SIGTERM);
                rc = de_err_set(err, DE_EIO, "mpirun: interrupted");
                break;
            }
            continue;
        }
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = de_err_set(err, DE_EIO, "%s -n %d %s %s ... failed (%s %d)", mpiexec, ranks, exe, nargs ? args[0] : "",
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    free(argv);
    free(exe);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    return DE_OK;
}
