/* de_run.c — the coordinator of `deepedge run` (see de_run.h). */
#include "de_run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_csv.h"
#include "de_dataset.h"
#include "de_emulate.h"
#include "de_hist.h"
#include "de_net.h"
#include "de_plan.h"
#include "de_planner.h"
#include "de_plot.h"
#include "de_scenario.h"
#include "de_state.h"
#include "de_util.h"
#include "de_wire.h"
#include "de_worker.h"

#ifndef DE_MPIEXEC
#define DE_MPIEXEC "mpiexec"
#endif

#define MAX_CONN 1024

void de_run_opts_default(de_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out_dir = "out/run";
    o->emulate = "auto";
    o->links = "pad";
    o->lc_warmup_s = 2.0;
    o->window_s = 1.0;
    o->max_restarts = 3;
    o->stall_timeout_s = 120;
    o->plots = 1;
}

/* The "TARGET<sep>NUMBER" before '@' in s (tg: its start, *tl: its length, shortened to the
 * target's): the number must be in (lo, hi], or [lo, hi] when lo_ok. */
static int split_value(const char *s, const char *tg, size_t *tl, char sep, const char *what, double lo, double hi,
                       int lo_ok, double *value, de_err *err)
{
    const char *at = tg + *tl, *mark = memchr(tg, sep, *tl);
    if (!mark)
        return de_err_set(err, DE_EINVAL, "--inject '%s': expected NAME%cVALUE before '@'", s, sep);
    char num[64], *end;
    size_t nl = (size_t)(at - mark - 1);
    if (nl == 0 || nl >= sizeof num)
        return de_err_set(err, DE_EINVAL, "--inject '%s': missing value after '%c'", s, sep);
    memcpy(num, mark + 1, nl);
    num[nl] = '\0';
    double v = strtod(num, &end);
    if (end == num || *end || !isfinite(v) || v > hi || v < lo || (!lo_ok && v == lo))
        return de_err_set(err, DE_EINVAL, "--inject '%s': '%s' is not %s", s, num, what);
    *value = v;
    *tl = (size_t)(mark - tg);
    return DE_OK;
}

int de_run_inject_parse(const char *s, de_run_inject *out, de_err *err)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(s, ':'), *at = strrchr(s, '@');
    char *end;
    if (!colon || !at || at < colon)
        return de_err_set(err, DE_EINVAL,
                          "--inject '%s': expected crash:DEVICE@ITER, lc-rate:TASK=RATE@ITER or link:LINK*FACTOR@ITER", s);
    long it = strtol(at + 1, &end, 10);
    if (end == at + 1 || *end || it < 0)
        return de_err_set(err, DE_EINVAL, "--inject '%s': '%s' is not an iteration (integer >= 0)", s, at + 1);
    out->iter = it;
    size_t kl = (size_t)(colon - s);
    const char *tg = colon + 1;
    size_t tl = (size_t)(at - tg);
    if (kl == 5 && strncmp(s, "crash", 5) == 0) {
        out->kind = DE_INJECT_CRASH;
    } else if (kl == 7 && strncmp(s, "lc-rate", 7) == 0) {
        out->kind = DE_INJECT_LC_RATE;
        int rc = split_value(s, tg, &tl, '=', "a rate >= 0 (req/s)", 0, INFINITY, 1, &out->value, err);
        if (rc)
            return rc;
    } else if (kl == 4 && strncmp(s, "link", 4) == 0) {
        out->kind = DE_INJECT_LINK;
        int rc = split_value(s, tg, &tl, '*', "a bandwidth factor in (0, 1]", 0, 1, 0, &out->value, err);
        if (rc)
            return rc;
    } else {
        return de_err_set(err, DE_EINVAL, "--inject '%s': unknown kind '%.*s' (crash, lc-rate, link)", s, (int)kl, s);
    }
    if (tl == 0 || tl >= sizeof out->target)
        return de_err_set(err, DE_EINVAL, "--inject '%s': missing device or task name", s);
    memcpy(out->target, tg, tl);
    out->target[tl] = '\0';
    return DE_OK;
}

/* ---- run-time state ---- */

typedef struct conn {
    int fd;
    char buf[8192];
    size_t len;
    int rank;          /* worker rank of the current launch, -1 otherwise */
    int task;          /* LC task, -1 otherwise */
    int launch;        /* launch the worker belongs to */
    int bye;
} conn;

typedef struct task_rt {
    pid_t pid;
    int conn;          /* connection index, -1 */
    int down;          /* its device crashed: stopped */
    int restarts;      /* times the coordinator restarted it after it died */
    double rate;
    de_hist all, alone, win;
    long n, viol, win_viol;
    double svc_sum, svc_alone_sum;     /* forward-pass time alone, next to training */
    char *log;
} task_rt;

typedef struct dev_rt {
    char *cgroup;          /* cgroup directory, NULL */
    int rank;              /* rank in the current launch, -1 */
    int batch;
    double compute, throttle, sync, step, cpu_s;
    long rss_kb;
    double sum_compute, sum_sync, sum_step;
    long iters;
    long last_g;           /* last iteration it reported in the current launch */
    double down_since;     /* NAN: up */
    long pid;              /* its worker in the current launch (from hello), 0 */
    char backend[8];       /* cpu | cuda, as the worker chose */
} dev_rt;

typedef struct run {
    const de_run_opts *o;
    FILE *out;
    de_scenario *s;
    int job;
    de_state st;
    de_predictor pred;
    de_plan plan;
    char *exe, *cache, *run_id, *cg_run;
    de_budget_mode budget;
    double t0;                     /* de_now_s at start */
    int lfd, port;
    int mfd;                       /* Prometheus endpoint (-1: none) */
    char report[300];
    conn *conns;               /* [MAX_CONN] */
    int n_conns;
    task_rt *tasks;
    dev_rt *devs;
    /* the current launch */
    pid_t mpi_pid;
    int launch;
    int rank_up;                   /* ranks connected */
    double launch_t, first_iter_t;
    double progress_t;             /* when the job last completed an iteration */
    int killed_stalled;            /* this launch was killed for not starting */
    long g_done, g_total, g_ckpt, g_launch;
    int done, stopped, crashed_dev, fail_dev;
    double fail_t;
    int stop_sent, stop_reason;    /* 1 user, 2 re-plan */
    int stop_delivered;            /* "stop" written to rank 0 (it may connect after the request) */
    char replan_why[256], replan_cause[32];
    double last_loss, val_acc, val_loss;
    double train_start_t;
    /* outcome */
    int restarts;
    long lost_iters;
    double lost_s, recovery_s_sum;
    cJSON *events, *recoveries;
    /* per-iteration aggregates for iterations.csv */
    double *it_start, *it_end, *it_compute;
    int *it_ranks;
    FILE *f_ranks, *f_timeline, *f_windows, *f_events;
    double win_start;
    int inject_done[64];
    unsigned char *fault_state;    /* scenario faults: 0 pending, 1 active, 2 over */
    double next_draw;
    int tty;
    /* --links netns */
    int netns;
    char ns_prefix[16], ns_subnet[32];
    char *ns_args;                 /* mpiexec arguments from netns-hosts.sh, without --hostfile */
} run;

static volatile sig_atomic_t g_signals;
static void on_signal(int sig)
{
    (void)sig;
    g_signals++;
}

static double rel(const run *r)
{
    return de_now_s() - r->t0;
}

static void event(run *r, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void event(run *r, const char *kind, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    double t = rel(r);
    if (r->f_events) {
        fprintf(r->f_events, "%.3f,%s,\"", t, kind);
        for (const char *p = detail; *p; p++)
            fputs(*p == '"' ? "\"\"" : (char[]){*p, 0}, r->f_events);
        fputs("\"\n", r->f_events);
        fflush(r->f_events);
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "time_s", t);
    cJSON_AddStringToObject(e, "event", kind);
    cJSON_AddStringToObject(e, "detail", detail);
    cJSON_AddItemToArray(r->events, e);
    if (!r->o->quiet) {
        if (r->tty)
            fputs("\r\033[J", stderr);
        fprintf(stderr, "[%7.1f s] %s: %s\n", t, kind, detail);
        r->next_draw = 0;
    }
}

/* ---- children ---- */

/* Starts argv as a child in its own process group (terminal signals reach only the
 * coordinator, which stops the children in order), output to log. */
static pid_t spawn(char *const argv[], const char *log, de_err *err)
{
    pid_t pid = fork();
    if (pid < 0) {
        de_err_set(err, DE_EIO, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execvp(argv[0], argv);
        fprintf(stderr, "deepedge run: cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

/* Signals the child's process group, then waits up to grace seconds before SIGKILL. */
static void stop_child(pid_t pid, int sig, double grace)
{
    if (pid <= 0)
        return;
    kill(-pid, sig);
    double end = de_now_s() + grace;
    int status;
    while (de_now_s() < end) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno == ECHILD))
            goto group;
        de_sleep_s(0.02, NULL);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
group:
    kill(-pid, SIGKILL); /* anything left in the group (mpiexec's ranks) */
}

static const char *tail_of(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long from = sz > (long)n - 1 ? sz - ((long)n - 1) : 0;
    fseek(f, from, SEEK_SET);
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
    return buf;
}

/* The first lines of a log (mpiexec says what went wrong first, then generic advice). */
static const char *head_of(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
    /* up to 8 lines */
    char *p = buf;
    for (int i = 0; i < 8 && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (p)
        *p = '\0';
    return buf;
}

/* ---- connections ---- */

static void accept_all(run *r)
{
    for (;;) {
        int fd = accept(r->lfd, NULL, NULL);
        if (fd < 0)
            return;
        if (r->n_conns >= MAX_CONN) {
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        conn *c = &r->conns[r->n_conns++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->rank = -1;
        c->task = -1;
        c->launch = r->launch;
    }
}

static conn *rank_conn(run *r, int rank)
{
    for (int i = 0; i < r->n_conns; i++)
        if (r->conns[i].fd >= 0 && r->conns[i].rank == rank && r->conns[i].launch == r->launch)
            return &r->conns[i];
    return NULL;
}

static void window_flush(run *r, double now)
{
    const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < r->s->n_tasks; t++) {
        task_rt *T = &r->tasks[t];
        double q[3] = {NAN, NAN, NAN};
        if (T->win.n)
            de_hist_quantiles(&T->win, ps, 3, q);
        if (r->f_windows && (T->win.n || !T->down))
            fprintf(r->f_windows, "%.3f,%.3f,%s,%llu,0,%ld,%.6g,%.6g,%.6g,%.6g\n", r->win_start, now,
                    r->s->tasks[t].name, (unsigned long long)T->win.n, T->win_viol, q[0], q[1], q[2],
                    r->s->tasks[t].deadline_s);
        de_hist_reset(&T->win);
        T->win_viol = 0;
    }
    if (r->f_windows)
        fflush(r->f_windows);
    r->win_start = now;
}

static void on_iter(run *r, const char *line, double t)
{
    char dev[128];
    de_wire_get(line, "dev", dev, sizeof dev);
    int d = de_scenario_device(r->s, dev);
    if (d < 0)
        return;
    dev_rt *D = &r->devs[d];
    long g = (long)de_wire_num(line, "g", 0);
    D->batch = (int)de_wire_num(line, "batch", 0);
    D->compute = de_wire_num(line, "compute", 0);
    D->throttle = de_wire_num(line, "throttle", 0);
    D->sync = de_wire_num(line, "sync", 0) + de_wire_num(line, "pad", 0);
    D->step = de_wire_num(line, "step", 0);
    D->cpu_s = de_wire_num(line, "cpu_s", NAN);
    D->rss_kb = (long)de_wire_num(line, "rss_kb", -1);
    D->sum_compute += D->compute + D->throttle;
    D->sum_sync += D->sync;
    D->sum_step += D->step;
    D->iters++;
    r->last_loss = de_wire_num(line, "loss", NAN);
    r->g_total = (long)de_wire_num(line, "total", (double)r->g_total);
    D->last_g = g;
    if (g > r->g_done) {
        r->g_done = g;
        r->progress_t = t;
    }
    if (isnan(r->first_iter_t)) {
        r->first_iter_t = t;
        if (!isnan(r->fail_t)) {
            double rec = t - r->fail_t;
            r->recovery_s_sum += rec;
            cJSON *last = cJSON_GetArrayItem(r->recoveries, cJSON_GetArraySize(r->recoveries) - 1);
            if (last)
                cJSON_AddNumberToObject(last, "recovery_s", rec);
            event(r, "resumed", "first iteration of launch %d after %.2f s", r->launch, rec);
            /* the timeline's recovery segment: failure (or stop) to the first new iteration */
            for (int k = 0; r->f_timeline && k < r->plan.n_shares; k++) {
                int dd = r->plan.shares[k].device;
                fprintf(r->f_timeline, "%s,%d,%.4f,%.4f,recover\n", r->s->devices[dd].name, dd, r->fail_t, t);
            }
            r->fail_t = NAN;
        }
    }
    double start = t - D->step;
    if (r->f_timeline) {
        fprintf(r->f_timeline, "%s,%d,%.4f,%.4f,train\n", dev, d, start, start + D->compute + D->throttle);
        fprintf(r->f_timeline, "%s,%d,%.4f,%.4f,sync\n", dev, d, start + D->compute + D->throttle, t);
    }
    if (r->f_ranks)
        fprintf(r->f_ranks, "%.4f,%d,%s,%ld,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%ld\n", t,
                (int)de_wire_num(line, "rank", -1), dev, g, D->batch, D->compute, D->throttle,
                de_wire_num(line, "sync", 0), de_wire_num(line, "mpi", 0), de_wire_num(line, "pad", 0), D->step,
                r->last_loss, D->cpu_s, D->rss_kb);
    if (g >= 1 && g <= r->g_total && r->it_start) {
        long k = g - 1;
        r->it_start[k] = r->it_ranks[k] ? fmin(r->it_start[k], start) : start;
        r->it_end[k] = fmax(r->it_end[k], t);
        r->it_compute[k] = fmax(r->it_compute[k], D->compute + D->throttle);
        r->it_ranks[k]++;
    }
}

static void on_lcreq(run *r, int ti, const char *line)
{
    task_rt *T = &r->tasks[ti];
    double lat = de_wire_num(line, "lat", NAN);
    if (!isfinite(lat))
        return;
    int viol = lat > r->s->tasks[ti].deadline_s;
    double svc = de_wire_num(line, "svc", 0);
    if (isnan(r->train_start_t)) {
        de_hist_add(&T->alone, lat); /* warm-up: the service alone */
        T->svc_alone_sum += svc;
        return;
    }
    T->svc_sum += svc;
    de_hist_add(&T->all, lat);
    de_hist_add(&T->win, lat);
    T->win_viol += viol;
    T->n++;
    T->viol += viol;
}

static void handle_line(run *r, conn *c, const char *line)
{
    char kind[32], name[128];
    de_wire_kind(line, kind, sizeof kind);
    double t = rel(r);
    if (strcmp(kind, "hello") == 0) {
        c->rank = (int)de_wire_num(line, "rank", -1);
        r->rank_up++;
        de_wire_get(line, "dev", name, sizeof name);
        int d = de_scenario_device(r->s, name);
        long pid = (long)de_wire_num(line, "pid", -1);
        if (d >= 0)
            r->devs[d].pid = pid;
        /* In a network namespace the worker cannot see the cgroup tree (ip netns exec
         * remounts /sys); the pid is the same, so the coordinator moves it. */
        if (r->netns && d >= 0 && r->devs[d].cgroup && pid > 0) {
            de_err jerr;
            if (de_cgroup_join(r->devs[d].cgroup, (pid_t)pid, &jerr))
                event(r, "emulation", "worker of %s not in its CPU budget: %s", name, jerr.msg);
        }
    } else if (strcmp(kind, "backend") == 0) {
        de_wire_get(line, "dev", name, sizeof name);
        int d = de_scenario_device(r->s, name);
        if (d >= 0)
            de_wire_get(line, "backend", r->devs[d].backend, sizeof r->devs[d].backend);
    } else if (strcmp(kind, "iter") == 0) {
        on_iter(r, line, t);
    } else if (strcmp(kind, "ckpt") == 0) {
        r->g_ckpt = (long)de_wire_num(line, "g", 0);
        event(r, "checkpoint", "iteration %ld (%.0f ms)", r->g_ckpt, 1e3 * de_wire_num(line, "s", 0));
    } else if (strcmp(kind, "crash") == 0) {
        de_wire_get(line, "dev", name, sizeof name);
        r->crashed_dev = de_scenario_device(r->s, name);
        event(r, "crash", "device %s dies before iteration %ld (injected)", name, (long)de_wire_num(line, "g", 0));
    } else if (strcmp(kind, "done") == 0) {
        r->stopped = (int)de_wire_num(line, "stopped", 0);
        r->done = !r->stopped;
        r->g_done = (long)de_wire_num(line, "g", (double)r->g_done);
        r->val_acc = de_wire_num(line, "val_acc", NAN);
        r->val_loss = de_wire_num(line, "val_loss", NAN);
    } else if (strcmp(kind, "bye") == 0) {
        c->bye = 1;
    } else if (strcmp(kind, "error") == 0) {
        char msg[1024];
        de_wire_get(line, "msg", msg, sizeof msg);
        for (char *p = msg; *p; p++)
            if (*p == '_')
                *p = ' ';
        de_wire_get(line, "dev", name, sizeof name);
        event(r, "worker-error", "%s: %s", name, msg);
        c->bye = 1;
    } else if (strcmp(kind, "lchello") == 0) {
        de_wire_get(line, "task", name, sizeof name);
        long pid = (long)de_wire_num(line, "pid", -1);
        for (int i = 0; i < r->s->n_tasks; i++)
            if (strcmp(r->s->tasks[i].name, name) == 0) {
                c->task = i;
                r->tasks[i].conn = (int)(c - r->conns);
                const char *cg = r->devs[r->s->tasks[i].device].cgroup;
                de_err jerr;
                if (r->netns && cg && pid > 0 && de_cgroup_join(cg, (pid_t)pid, &jerr))
                    event(r, "emulation", "LC service %s not in its device's CPU budget: %s", name, jerr.msg);
            }
    } else if (strcmp(kind, "lcreq") == 0 && c->task >= 0) {
        on_lcreq(r, c->task, line);
    } else if (strcmp(kind, "lcerror") == 0) {
        char msg[1024];
        de_wire_get(line, "msg", msg, sizeof msg);
        de_wire_get(line, "task", name, sizeof name);
        event(r, "lc-error", "%s: %s", name, msg);
    }
}

/* Answers one scrape of the Prometheus endpoint: the current metrics in the text
 * exposition format (version 0.0.4), whatever the request path. */
static void serve_metrics(run *r)
{
    int fd = accept(r->mfd, NULL, NULL);
    if (fd < 0)
        return;
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[2048];
    ssize_t got = recv(fd, req, sizeof req - 1, 0); /* the request line is enough */
    (void)got;
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        close(fd);
        return;
    }
    const de_scenario *s = r->s;
    fprintf(f, "# HELP deepedge_iterations Global iterations done and in total.\n# TYPE deepedge_iterations gauge\n");
    fprintf(f, "deepedge_iterations{state=\"done\"} %ld\ndeepedge_iterations{state=\"total\"} %ld\n", r->g_done,
            r->g_total);
    fprintf(f, "# TYPE deepedge_restarts_total counter\ndeepedge_restarts_total %d\n", r->restarts);
    fprintf(f, "# TYPE deepedge_loss gauge\ndeepedge_loss %.6g\n", r->last_loss);
    fprintf(f, "# TYPE deepedge_device_batch gauge\n# TYPE deepedge_device_compute_seconds gauge\n"
               "# TYPE deepedge_device_sync_seconds gauge\n# TYPE deepedge_device_cpu_seconds_total counter\n"
               "# TYPE deepedge_device_resident_bytes gauge\n# TYPE deepedge_device_up gauge\n");
    for (int d = 0; d < s->n_devices; d++) {
        const dev_rt *D = &r->devs[d];
        const char *n = s->devices[d].name;
        fprintf(f, "deepedge_device_up{device=\"%s\"} %d\n", n, isnan(D->down_since));
        if (D->rank < 0 || !D->iters)
            continue;
        fprintf(f, "deepedge_device_batch{device=\"%s\"} %d\n", n, D->batch);
        fprintf(f, "deepedge_device_compute_seconds{device=\"%s\"} %.6g\n", n, D->compute + D->throttle);
        fprintf(f, "deepedge_device_sync_seconds{device=\"%s\"} %.6g\n", n, D->sync);
        fprintf(f, "deepedge_device_cpu_seconds_total{device=\"%s\"} %.3f\n", n, D->cpu_s);
        fprintf(f, "deepedge_device_resident_bytes{device=\"%s\"} %ld\n", n, D->rss_kb * 1024);
    }
    fprintf(f, "# HELP deepedge_lc_latency_seconds LC request latency (arrival to completion) since training began.\n"
               "# TYPE deepedge_lc_latency_seconds summary\n");
    const double ps[3] = {0.5, 0.95, 0.99};
    for (int t = 0; t < s->n_tasks; t++) {
        const task_rt *T = &r->tasks[t];
        double q[3] = {NAN, NAN, NAN};
        if (T->all.n)
            de_hist_quantiles(&T->all, ps, 3, q);
        for (int k = 0; k < 3; k++)
            fprintf(f, "deepedge_lc_latency_seconds{task=\"%s\",quantile=\"%g\"} %.6g\n", s->tasks[t].name, ps[k], q[k]);
        fprintf(f, "deepedge_lc_latency_seconds_sum{task=\"%s\"} %.6g\n", s->tasks[t].name, T->all.sum);
        fprintf(f, "deepedge_lc_latency_seconds_count{task=\"%s\"} %llu\n", s->tasks[t].name,
                (unsigned long long)T->all.n);
    }
    fprintf(f, "# TYPE deepedge_lc_deadline_seconds gauge\n# TYPE deepedge_lc_over_deadline_total counter\n");
    for (int t = 0; t < s->n_tasks; t++) {
        fprintf(f, "deepedge_lc_deadline_seconds{task=\"%s\"} %.6g\n", s->tasks[t].name, s->tasks[t].deadline_s);
        fprintf(f, "deepedge_lc_over_deadline_total{task=\"%s\"} %ld\n", s->tasks[t].name, r->tasks[t].viol);
    }
    fclose(f);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      len);
    if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl)
        send(fd, body, len, MSG_NOSIGNAL);
    free(body);
    close(fd);
}

/* Reads every connection; lines are handled as they complete. */
static void pump(run *r, int timeout_ms)
{
    struct pollfd pf[MAX_CONN + 2];
    int map[MAX_CONN + 2], n = 0;
    pf[n].fd = r->lfd;
    pf[n].events = POLLIN;
    map[n++] = -1;
    pf[n].fd = r->mfd; /* -1 is ignored by poll */
    pf[n].events = POLLIN;
    map[n++] = -1;
    for (int i = 0; i < r->n_conns; i++)
        if (r->conns[i].fd >= 0) {
            pf[n].fd = r->conns[i].fd;
            pf[n].events = POLLIN;
            map[n++] = i;
        }
    if (poll(pf, (nfds_t)n, timeout_ms) <= 0)
        return;
    if (pf[0].revents)
        accept_all(r);
    if (pf[1].revents)
        serve_metrics(r);
    for (int k = 2; k < n; k++) {
        if (!pf[k].revents)
            continue;
        conn *c = &r->conns[map[k]];
        for (;;) {
            ssize_t got = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
            if (got > 0) {
                c->len += (size_t)got;
                c->buf[c->len] = '\0';
                char *start = c->buf, *nl;
                while ((nl = strchr(start, '\n'))) {
                    *nl = '\0';
                    handle_line(r, c, start);
                    start = nl + 1;
                }
                c->len -= (size_t)(start - c->buf);
                memmove(c->buf, start, c->len);
                if (c->len >= sizeof c->buf - 1)
                    c->len = 0; /* an over-long line: dropped */
                continue;
            }
            if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                /* The first worker to vanish without saying goodbye is the failed one. */
                if (c->rank >= 0 && c->launch == r->launch && !c->bye && r->fail_dev < 0 && r->plan.shares &&
                    c->rank < r->plan.n_shares)
                    r->fail_dev = r->plan.shares[c->rank].device;
                close(c->fd);
                c->fd = -1;
            }
            break;
        }
    }
}

/* ---- progress ---- */

static void draw(run *r)
{
    if (r->o->quiet)
        return;
    double now = rel(r);
    if (now < r->next_draw)
        return;
    r->next_draw = now + (r->tty ? 0.5 : 5.0);
    long total = r->g_total > 0 ? r->g_total : 1;
    double frac = (double)r->g_done / (double)total;
    char bar[31];
    int fill = (int)lround(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[30] = '\0';
    double el = isnan(r->train_start_t) ? 0 : now - r->train_start_t;
    double eta = r->g_done > r->g_launch && frac > 0 ? el / frac - el : NAN;
    if (r->tty)
        fputs("\r\033[J", stderr);
    fprintf(stderr, "[%s] %5.1f%%  it %ld/%ld  %.0f s  ETA %s%.0f s  loss %.3f  restarts %d\n", bar, 100 * frac,
            r->g_done, r->g_total, el, isnan(eta) ? "?" : "", isnan(eta) ? 0.0 : eta, r->last_loss, r->restarts);
    int lines = 1;
    const double ps[1] = {0.95};
    for (int d = 0; d < r->s->n_devices; d++) {
        const dev_rt *D = &r->devs[d];
        fprintf(stderr, "  %-12s", r->s->devices[d].name);
        if (!isnan(D->down_since))
            fprintf(stderr, " down                                       ");
        else if (D->rank >= 0)
            fprintf(stderr, " b=%-4d compute %6.1f ms sync %6.1f ms duty %.2f", D->batch,
                    1e3 * (D->compute + D->throttle), 1e3 * D->sync, D->step > 0 ? (D->compute + D->throttle) / D->step : 0);
        else
            fprintf(stderr, " not training                               ");
        for (int k = r->s->dev_task_start[d]; k < r->s->dev_task_start[d + 1]; k++) {
            int ti = r->s->dev_tasks[k];
            const task_rt *T = &r->tasks[ti];
            double q = NAN;
            if (T->all.n)
                de_hist_quantiles(&T->all, ps, 1, &q);
            fprintf(stderr, " | %s p95 %.1f/%.0f ms n=%ld viol %ld", r->s->tasks[ti].name, 1e3 * q,
                    1e3 * r->s->tasks[ti].deadline_s, T->n, T->viol);
        }
        fputc('\n', stderr);
        lines++;
    }
    if (r->tty)
        fprintf(stderr, "\033[%dA", lines);
    fflush(stderr);
}

/* ---- setup ---- */

static int prepare_dataset(run *r, de_err *err)
{
    const de_exec_spec *e = &r->s->exec;
    struct stat sb;
    if (stat(e->dataset, &sb) != 0) {
        if (!e->synthesize)
            return de_err_set(err, DE_EMISSING,
                              "%s: exec.dataset: '%s' does not exist (set exec.synthesize = true, or create it with "
                              "`deepedge dataset synth`)",
                              r->s->path, e->dataset);
        event(r, "dataset", "synthesizing %d classes x %d images in %s", e->synth_classes, e->synth_per_class,
              e->dataset);
        char *parent = de_path_dirname(e->dataset);
        de_mkdir_p(parent);
        free(parent);
        int rc = de_dataset_synth_dir(e->dataset, e->synth_classes, e->synth_per_class, e->seed, err);
        if (rc)
            return rc;
    } else if (!S_ISDIR(sb.st_mode)) {
        return de_err_set(err, DE_EINVAL, "%s: exec.dataset: '%s' is not a folder", r->s->path, e->dataset);
    }
    const char *netname = r->s->catalog->networks[r->s->jobs[r->job].network].name;
    de_net *probe = NULL;
    int rc = de_net_builtin(netname, 0, &probe, err);
    if (rc)
        return de_err_set(err, rc, "%s: job '%s': network '%s' cannot be executed: %s", r->s->path,
                          r->s->jobs[r->job].name, netname, err->msg);
    int C, H, W;
    de_net_input(probe, &C, &H, &W);
    de_net_destroy(probe);
    int size = e->image_size > 0 ? e->image_size : H + H / 8;
    if (size < H)
        return de_err_set(err, DE_ERANGE, "%s: exec.image_size %d is smaller than the network input %d", r->s->path,
                          size, H);
    r->cache = de_sprintf("%s.%d.decache", e->dataset, size);
    de_dataset *ds = NULL;
    de_err oerr;
    if (de_dataset_open(r->cache, &ds, &oerr) != DE_OK) {
        de_dataset_report rep;
        if ((rc = de_dataset_build_cache(e->dataset, r->cache, size, NULL, NULL, &rep, err)))
            return rc;
        event(r, "dataset", "cache %s: %d images of %d classes (%d files skipped)", r->cache, rep.images, rep.classes,
              rep.skipped);
        if ((rc = de_dataset_open(r->cache, &ds, err)))
            return rc;
    }
    int n = de_dataset_count(ds);
    int *tr = de_calloc((size_t)n, sizeof(int)), *va = de_calloc((size_t)n, sizeof(int)), ntr, nva;
    de_dataset_split(ds, e->val_frac, e->seed, tr, &ntr, va, &nva);
    free(tr);
    free(va);
    de_dataset_destroy(ds);
    const de_job *j = &r->s->jobs[r->job];
    if (ntr < j->global_batch)
        return de_err_set(err, DE_ERANGE, "%s: %d training images, fewer than the global batch %d of job '%s'",
                          r->cache, ntr, j->global_batch, j->name);
    if (ntr != j->dataset_size)
        event(r, "note", "the dataset has %d training images; job '%s' declares dataset_size = %lld (predictions use "
              "the scenario's figure)", ntr, j->name, j->dataset_size);
    r->g_total = (long)j->epochs * (ntr / j->global_batch);
    return DE_OK;
}

static int setup_budgets(run *r, de_err *err)
{
    const char *m = r->o->emulate;
    r->budget = DE_BUDGET_NONE;
    if (strcmp(m, "none") == 0)
        return DE_OK;
    if (strcmp(m, "auto") && strcmp(m, "cgroup") && strcmp(m, "duty"))
        return de_err_set(err, DE_EINVAL, "--emulate: '%s' is not auto, cgroup, duty or none", m);
    int any = 0;
    for (int d = 0; d < r->s->n_devices; d++)
        any |= r->s->catalog->types[r->s->devices[d].type].emulation_cpu_cores > 0;
    if (!any)
        return DE_OK; /* physical devices only */
    if (strcmp(m, "duty") == 0 || r->o->use_hosts || r->o->hostfile) {
        /* processes on other hosts cannot join this host's cgroups: they throttle themselves */
        r->budget = DE_BUDGET_DUTY;
        return DE_OK;
    }
    for (int d = 0; d < r->s->n_devices; d++) {
        double cores = r->s->catalog->types[r->s->devices[d].type].emulation_cpu_cores;
        if (!(cores > 0))
            continue;
        de_budget_mode mode;
        de_err cerr;
        if (de_cgroup_create(r->run_id, r->s->devices[d].name, cores, &mode, &r->devs[d].cgroup, &cerr)) {
            if (strcmp(m, "cgroup") == 0)
                return de_err_set(err, DE_EIO, "--emulate cgroup: %s", cerr.msg);
            for (int k = 0; k < d; k++) {
                de_cgroup_remove(r->devs[k].cgroup);
                free(r->devs[k].cgroup);
                r->devs[k].cgroup = NULL;
            }
            event(r, "emulation", "no writable cgroup (%s): duty-cycle throttling instead", cerr.msg);
            r->budget = DE_BUDGET_DUTY;
            return DE_OK;
        }
        r->budget = mode;
    }
    char *first = NULL;
    for (int d = 0; d < r->s->n_devices && !first; d++)
        first = r->devs[d].cgroup;
    /* Creating a group is not joining it (delegation, v2's rules on where processes may
     * live): a short-lived child tries first, and a refusal means duty-cycle throttling. */
    pid_t probe = fork();
    if (probe == 0) {
        pause();
        _exit(0);
    }
    de_err jerr;
    int joined = probe > 0 && de_cgroup_join(first, probe, &jerr) == DE_OK;
    if (probe > 0) {
        kill(probe, SIGKILL);
        waitpid(probe, NULL, 0);
    }
    if (!joined) {
        for (int d = 0; d < r->s->n_devices; d++) {
            de_cgroup_remove(r->devs[d].cgroup);
            free(r->devs[d].cgroup);
            r->devs[d].cgroup = NULL;
        }
        if (strcmp(m, "cgroup") == 0)
            return de_err_set(err, DE_EIO, "--emulate cgroup: %s", probe > 0 ? jerr.msg : "fork failed");
        event(r, "emulation", "cgroups cannot be joined here (%s): duty-cycle throttling instead",
              probe > 0 ? jerr.msg : "fork failed");
        r->budget = DE_BUDGET_DUTY;
        return DE_OK;
    }
    r->cg_run = de_path_dirname(first);
    return DE_OK;
}

/* ---- command lines ---- */

typedef struct argl {
    char **v;
    int n, cap;
} argl;

static void arg(argl *l, const char *s)
{
    if (l->n + 2 > l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->v = de_realloc(l->v, (size_t)l->cap * sizeof *l->v);
    }
    l->v[l->n++] = de_strdup(s);
    l->v[l->n] = NULL;
}

/* Appends the space-separated words of s (NULL: none). */
static void arg_words(argl *l, const char *s)
{
    while (s && *s) {
        size_t k = strcspn(s, " ");
        if (k) {
            char *w = de_calloc(k + 1, 1);
            memcpy(w, s, k);
            arg(l, w);
            free(w);
        }
        s += k;
        s += strspn(s, " ");
    }
}

static void argl_free(argl *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static char *argl_join(const argl *l)
{
    char *cmd = de_strdup("");
    for (int i = 0; i < l->n; i++) {
        char *c2 = de_sprintf("%s%s%s", cmd, i ? " " : "", l->v[i]);
        free(cmd);
        cmd = c2;
    }
    return cmd;
}

/* Processes are placed on their device's host: a network namespace (--links netns) or the
 * scenario's devices.[i].host (--hosts); otherwise ranks go where mpiexec puts them and the
 * LC services run on this host. */
static int placed(const run *r)
{
    return r->netns || r->o->use_hosts;
}

static void host_of(const run *r, int d, char *buf, size_t n)
{
    if (r->netns)
        snprintf(buf, n, "%s%d", r->ns_prefix, d);
    else
        snprintf(buf, n, "%s", r->s->devices[d].host ? r->s->devices[d].host : "?");
}

static const char *mpiexec_path(void)
{
    return getenv("DEEPEDGE_MPIEXEC") ? getenv("DEEPEDGE_MPIEXEC") : DE_MPIEXEC;
}

/* mpiexec's global options for placed processes (the agent, interfaces of the namespaces). */
static void mpiexec_globals(const run *r, argl *l)
{
    arg(l, mpiexec_path());
    if (r->netns)
        arg_words(l, r->ns_args);
    arg(l, "--bind-to");
    arg(l, "none");
    arg(l, "-x");
    arg(l, "OMP_NUM_THREADS");
    arg_words(l, r->o->mpi_args);
}

static int start_lc(run *r, int ti, de_err *err)
{
    const de_lc_task *t = &r->s->tasks[ti];
    task_rt *T = &r->tasks[ti];
    char seed[32], host[256];
    snprintf(seed, sizeof seed, "%d", r->launch + 1);
    argl l = {0};
    if (placed(r)) {
        /* on its device's host, through mpiexec (the rsh agent reaches the host) */
        host_of(r, t->device, host, sizeof host);
        mpiexec_globals(r, &l);
        arg(&l, "-n");
        arg(&l, "1");
        arg(&l, "--host");
        arg(&l, host);
    }
    arg(&l, r->exe);
    arg(&l, "_lc");
    arg(&l, "--scenario");
    arg(&l, r->s->path);
    arg(&l, "--task");
    arg(&l, t->name);
    arg(&l, "--report");
    arg(&l, r->report);
    arg(&l, "--seed");
    arg(&l, seed);
    if (r->devs[t->device].cgroup && !placed(r)) {
        arg(&l, "--cgroup");
        arg(&l, r->devs[t->device].cgroup);
    } else if (r->budget == DE_BUDGET_DUTY) {
        arg(&l, "--duty");
    }
    free(T->log);
    char *name = de_sprintf("lc-%s.log", t->name);
    T->log = de_path_join(r->o->out_dir, name);
    free(name);
    T->pid = spawn(l.v, T->log, err);
    argl_free(&l);
    return T->pid < 0 ? DE_EIO : DE_OK;
}

/* Runs `netns-hosts.sh ARGS`, stdout into *out (may be NULL); 0 on success. */
static int netns_script(run *r, const char *args, char **out, de_err *err)
{
    const char *dir = getenv("DEEPEDGE_SCRIPTS") ? getenv("DEEPEDGE_SCRIPTS") : DE_SCRIPTS_DIR;
    char *log = de_path_join(r->o->out_dir, "netns.log");
    char *cmd = de_sprintf("'%s/netns-hosts.sh' %s 2>>'%s'", dir, args, log);
    FILE *p = popen(cmd, "r");
    char buf[4096] = "";
    size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
    buf[n] = '\0';
    int st = p ? pclose(p) : -1;
    int rc = DE_OK;
    if (st != 0) {
        char tail[600];
        rc = de_err_set(err, DE_EIO, "--links netns: %s/netns-hosts.sh failed (needs root, ip netns and tc); %s ends with:\n%s",
                        dir, log, tail_of(log, tail, sizeof tail));
    } else if (out) {
        buf[strcspn(buf, "\n")] = '\0';
        *out = de_strdup(buf);
    }
    free(cmd);
    free(log);
    return rc;
}

/* `netns-hosts.sh up` for every device with its link's current bandwidth (times the
 * state's link factor); re-running it re-shapes the links (the script converges). */
static int netns_up_args(run *r, char **out, de_err *err)
{
    const de_scenario *s = r->s;
    char *args = de_sprintf("up --prefix %s --hosts %d --subnet %s --hostfile '%s/netns.hosts'", r->ns_prefix,
                            s->n_devices, r->ns_subnet, r->o->out_dir);
    for (int d = 0; d < s->n_devices; d++) {
        int li = s->devices[d].link;
        const de_link *l = &s->links[li];
        char *a2 = de_sprintf("%s --link %d:%g:%g", args, d, l->bandwidth_Bps * 8e-6 * r->st.link_factor[li],
                              l->latency_s * 1e3);
        free(args);
        args = a2;
    }
    int rc = netns_script(r, args, out, err);
    free(args);
    return rc;
}

static int netns_shape(run *r, de_err *err)
{
    char *out = NULL;
    int rc = netns_up_args(r, &out, err);
    free(out);
    return rc;
}

/* One namespace per scenario device ("<prefix><index>"), its link shaped as the scenario
 * says (bandwidth; delay where the kernel has netem); the coordinator listens on the bridge. */
static int netns_up(run *r, de_err *err)
{
    const de_scenario *s = r->s;
    snprintf(r->ns_prefix, sizeof r->ns_prefix, "dr%ldx", (long)getpid() % 100000);
    snprintf(r->ns_subnet, sizeof r->ns_subnet, "10.%d.%d", 80 + (int)(getpid() % 40), (int)(getpid() / 40 % 250));
    char *out = NULL;
    int rc = netns_up_args(r, &out, err);
    if (rc)
        return rc;
    /* drop the script's own --hostfile: each launch writes one in rank order */
    char *clean = de_strdup("");
    int skip = 0;
    for (char *tok = strtok(out, " "); tok; tok = strtok(NULL, " ")) {
        if (skip) {
            skip = 0;
            continue;
        }
        if (strcmp(tok, "--hostfile") == 0) {
            skip = 1;
            continue;
        }
        char *c2 = de_sprintf("%s%s%s", clean, clean[0] ? " " : "", tok);
        free(clean);
        clean = c2;
    }
    free(out);
    r->ns_args = clean;
    r->netns = 1;
    event(r, "emulation", "%d network namespaces %s0..%d on %s.0/24, links shaped with tc", s->n_devices,
          r->ns_prefix, s->n_devices - 1, r->ns_subnet);
    return DE_OK;
}

static int write_plan(run *r, int k, char **path, de_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "plan-%d.cfg", k);
    *path = de_path_join(r->o->out_dir, name);
    return de_plan_write(&r->plan, &r->st, *path, err);
}

static int launch(run *r, const char *plan_path, const char *resume, de_err *err)
{
    const de_run_opts *o = r->o;
    char buf[256];
    /* the worker's own command line, the same for every rank */
    argl w = {0};
    arg(&w, r->exe);
    arg(&w, "_worker");
    arg(&w, "--scenario");
    arg(&w, r->s->path);
    arg(&w, "--plan");
    arg(&w, plan_path);
    arg(&w, "--cache");
    arg(&w, r->cache);
    arg(&w, "--out");
    arg(&w, o->out_dir);
    arg(&w, "--report");
    arg(&w, r->report);
    if (resume) {
        arg(&w, "--resume");
        arg(&w, resume);
    }
    if (r->cg_run && !placed(r)) {
        arg(&w, "--cgroup");
        arg(&w, r->cg_run);
    } else if (r->budget == DE_BUDGET_DUTY) {
        arg(&w, "--duty");
    }
    if (strcmp(o->links, "pad") == 0 && !o->hostfile && !placed(r)) {
        arg(&w, "--pad-links");
        char factors[1024] = "";
        for (int l = 0; l < r->s->n_links; l++)
            if (r->st.link_factor[l] != 1.0) {
                size_t len = strlen(factors);
                snprintf(factors + len, sizeof factors - len, "%s%s=%.17g", len ? "," : "", r->s->links[l].name,
                         r->st.link_factor[l]);
            }
        if (factors[0]) {
            arg(&w, "--link-factors");
            arg(&w, factors);
        }
    }
    for (int i = 0; i < o->n_inject && i < 64; i++)
        if (o->inject[i].kind == DE_INJECT_CRASH && !r->inject_done[i] &&
            de_scenario_device(r->s, o->inject[i].target) >= 0) {
            snprintf(buf, sizeof buf, "%s@%ld", o->inject[i].target, o->inject[i].iter);
            arg(&w, "--crash");
            arg(&w, buf);
            break;
        }
    argl l = {0};
    if (placed(r)) {
        /* MPMD: rank k runs on the host of the plan's k-th device */
        mpiexec_globals(r, &l);
        for (int k = 0; k < r->plan.n_shares; k++) {
            if (k)
                arg(&l, ":");
            arg(&l, "-n");
            arg(&l, "1");
            arg(&l, "--host");
            host_of(r, r->plan.shares[k].device, buf, sizeof buf);
            arg(&l, buf);
            for (int i = 0; i < w.n; i++)
                arg(&l, w.v[i]);
        }
    } else {
        arg(&l, mpiexec_path());
        arg(&l, "-n");
        snprintf(buf, sizeof buf, "%d", r->plan.n_shares);
        arg(&l, buf);
        if (o->hostfile) {
            arg(&l, "--hostfile");
            arg(&l, o->hostfile);
        } else {
            arg(&l, "--oversubscribe");
        }
        if (o->ranks_per_host > 0) {
            snprintf(buf, sizeof buf, "ppr:%d:node", o->ranks_per_host);
            arg(&l, "--map-by");
            arg(&l, buf);
        }
        arg(&l, "--bind-to");
        arg(&l, "none");
        arg(&l, "-x");
        arg(&l, "OMP_NUM_THREADS");
        arg_words(&l, o->mpi_args);
        for (int i = 0; i < w.n; i++)
            arg(&l, w.v[i]);
    }
    argl_free(&w);
    char name[64];
    snprintf(name, sizeof name, "mpiexec-%d.log", r->launch);
    char *log = de_path_join(o->out_dir, name);
    /* The launch's command line, for the record (and to rerun a rank by hand). */
    char *cmd = argl_join(&l);
    event(r, "launch", "%d: %s", r->launch, cmd);
    free(cmd);
    for (int d = 0; d < r->s->n_devices; d++) {
        r->devs[d].rank = -1;
        r->devs[d].last_g = -1;
    }
    for (int k = 0; k < r->plan.n_shares; k++)
        r->devs[r->plan.shares[k].device].rank = k;
    r->rank_up = 0;
    r->killed_stalled = 0;
    r->done = r->stopped = 0;
    r->crashed_dev = r->fail_dev = -1;
    r->stop_sent = r->stop_reason = r->stop_delivered = 0;
    r->launch_t = rel(r);
    r->first_iter_t = NAN;
    r->g_launch = r->g_done;
    r->mpi_pid = spawn(l.v, log, err);
    free(log);
    argl_free(&l);
    return r->mpi_pid < 0 ? DE_EIO : DE_OK;
}

/* Re-plans on r->st (after a state change) for the samples left; writes plan-k.cfg. */
static int replan(run *r, const char *why, char **plan_path, de_err *err)
{
    const de_job *j = &r->s->jobs[r->job];
    r->st.samples_done[r->job] = (double)r->g_ckpt * j->global_batch;
    r->st.time_s = rel(r);
    de_plan np;
    de_plan_init(&np);
    double t0 = de_now_s();
    int rc = de_plan_compute(&r->st, r->job, r->plan.policy, &r->s->planner, &r->pred, &np, err);
    if (rc) {
        de_plan_free(&np);
        return rc;
    }
    if (np.n_shares == 0) {
        de_plan_free(&np);
        return de_err_set(err, DE_EINFEASIBLE, "re-planning (%s): no device left to train", why);
    }
    de_plan_free(&r->plan);
    r->plan = np;
    char shares[512] = "";
    for (int k = 0; k < np.n_shares; k++) {
        size_t l = strlen(shares);
        snprintf(shares + l, sizeof shares - l, "%s%s:%d", k ? " " : "", r->s->devices[np.shares[k].device].name,
                 np.shares[k].batch);
    }
    event(r, "replan", "%s -> %s (%d devices: %s; predicted iteration %.0f ms, %s, planned in %.1f ms)", why,
          de_policy_name(np.policy), np.n_shares, shares, 1e3 * np.iteration_time_s,
          np.feasible ? "every deadline kept" : "NOT feasible", 1e3 * (de_now_s() - t0));
    return write_plan(r, r->launch + 1, plan_path, err);
}

static int copy_file(const char *from, const char *to, de_err *err)
{
    size_t n;
    char *data = de_file_read(from, &n);
    if (!data)
        return de_err_set(err, DE_EIO, "%s: cannot read", from);
    int rc = de_net_write_atomic(to, data, n, err);
    free(data);
    return rc;
}

/* A device is lost: its LC services stop with it (through mpiexec when placed on a host). */
static void stop_device_lc(run *r, int d)
{
    const de_scenario *s = r->s;
    for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++) {
        task_rt *T = &r->tasks[s->dev_tasks[k]];
        stop_child(T->pid, SIGTERM, 0.5);
        T->pid = 0;
        T->down = 1;
    }
}

/* Continues the job after a launch ended early (a failure or a voluntary stop): re-plans on
 * the current state, keeps the checkpoint it resumes from as recovery-K.deckpt (none before
 * the first checkpoint: from the start), records rec among the recoveries, forgets the
 * iterations that will be redone and launches again. *plan_path and *resume are replaced. */
static int restart(run *r, const char *why, cJSON *rec, char **plan_path, char **resume, de_err *err)
{
    const de_run_opts *o = r->o;
    cJSON_AddItemToArray(r->recoveries, rec);
    free(*plan_path);
    *plan_path = NULL;
    int rc = replan(r, why, plan_path, err);
    if (rc)
        return rc;
    free(*resume);
    *resume = NULL;
    if (r->g_ckpt > 0) {
        char *ck = de_path_join(o->out_dir, DE_RUN_CKPT);
        *resume = de_sprintf("%s/recovery-%d.deckpt", o->out_dir, r->launch + 1);
        rc = copy_file(ck, *resume, err);
        free(ck);
        if (rc)
            return rc;
    }
    for (long k = r->g_ckpt; k < r->g_total; k++)
        r->it_ranks[k] = 0, r->it_compute[k] = 0, r->it_end[k] = 0; /* redone */
    r->g_done = r->g_ckpt;
    r->restarts++;
    r->launch++;
    return launch(r, *plan_path, *resume, err);
}

/* ---- results ---- */

static void write_iterations(run *r)
{
    int rc = DE_OK;
    de_err err;
    FILE *f = de_csv_create(r->o->out_dir, "iterations.csv", "job,iteration,start_s,compute_s,allreduce_s,end_s,samples_done", &err,
                       &rc);
    if (!f)
        return;
    int B = r->s->jobs[r->job].global_batch;
    for (long k = 0; k < r->g_total; k++)
        if (r->it_ranks[k])
            fprintf(f, "%s,%ld,%.4f,%.6f,%.6f,%.4f,%ld\n", r->s->jobs[r->job].name, k + 1, r->it_start[k],
                    r->it_compute[k], r->it_end[k] - r->it_start[k] - r->it_compute[k], r->it_end[k], (k + 1) * B);
    fclose(f);
}

static void write_cdf(run *r)
{
    int rc = DE_OK;
    de_err err;
    FILE *f = de_csv_create(r->o->out_dir, "lc_cdf.csv", "task,latency_s,cdf,deadline_s,percentile", &err, &rc);
    if (!f)
        return;
    for (int ti = 0; ti < r->s->n_tasks; ti++)
        de_hist_write_cdf(f, r->s->tasks[ti].name, &r->tasks[ti].all, r->s->tasks[ti].deadline_s,
                          r->s->tasks[ti].percentile * 100);
    fclose(f);
}

static cJSON *summarize(run *r, double train_s, int completed)
{
    const de_scenario *s = r->s;
    const de_job *j = &s->jobs[r->job];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "scenario", s->path);
    cJSON_AddStringToObject(o, "job", j->name);
    cJSON_AddStringToObject(o, "status", completed ? "completed" : r->stopped ? "stopped" : "failed");
    cJSON_AddStringToObject(o, "cpu_budget", de_budget_mode_name(r->budget));
    cJSON_AddStringToObject(o, "links", r->o->hostfile || r->o->use_hosts ? "hosts" : r->o->links);
    if (r->ns_prefix[0])
        cJSON_AddStringToObject(o, "netns_prefix", r->ns_prefix);
    cJSON_AddNumberToObject(o, "iterations", (double)r->g_done);
    cJSON_AddNumberToObject(o, "iterations_total", (double)r->g_total);
    cJSON_AddNumberToObject(o, "retraining_time_s", train_s);
    double iters_run = 0;
    for (long k = 0; k < r->g_total; k++)
        iters_run += r->it_ranks[k] > 0;
    double it_sum = 0, comp_sum = 0;
    for (long k = 0; k < r->g_total; k++)
        if (r->it_ranks[k]) {
            it_sum += r->it_end[k] - r->it_start[k];
            comp_sum += r->it_compute[k];
        }
    cJSON_AddNumberToObject(o, "iteration_time_mean_s", iters_run ? it_sum / iters_run : NAN);
    cJSON_AddNumberToObject(o, "compute_time_mean_s", iters_run ? comp_sum / iters_run : NAN);
    cJSON_AddNumberToObject(o, "predicted_iteration_time_s", r->plan.iteration_time_s);
    cJSON_AddNumberToObject(o, "final_loss", r->last_loss);
    cJSON_AddNumberToObject(o, "val_accuracy", r->val_acc);
    cJSON_AddNumberToObject(o, "restarts", r->restarts);
    cJSON_AddNumberToObject(o, "lost_iterations", (double)r->lost_iters);
    cJSON_AddNumberToObject(o, "lost_work_s", r->lost_s);
    cJSON_AddNumberToObject(o, "recovery_time_s", r->recovery_s_sum);
    cJSON_AddItemToObject(o, "recoveries", cJSON_Duplicate(r->recoveries, 1));
    cJSON *plan = de_plan_json(&r->plan, &r->st);
    cJSON_AddItemToObject(o, "final_plan", plan);
    cJSON *devs = cJSON_AddArrayToObject(o, "devices");
    for (int d = 0; d < s->n_devices; d++) {
        const dev_rt *D = &r->devs[d];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->devices[d].name);
        cJSON_AddStringToObject(x, "type", s->catalog->types[s->devices[d].type].name);
        cJSON_AddNumberToObject(x, "cpu_budget_cores", s->catalog->types[s->devices[d].type].emulation_cpu_cores);
        cJSON_AddStringToObject(x, "backend", D->backend[0] ? D->backend : "-");
        cJSON_AddNumberToObject(x, "iterations", (double)D->iters);
        cJSON_AddNumberToObject(x, "compute_mean_s", D->iters ? D->sum_compute / D->iters : NAN);
        cJSON_AddNumberToObject(x, "sync_mean_s", D->iters ? D->sum_sync / D->iters : NAN);
        cJSON_AddNumberToObject(x, "duty_cycle", D->sum_step > 0 ? D->sum_compute / D->sum_step : 0);
        cJSON_AddNumberToObject(x, "cpu_s", D->cpu_s);
        cJSON_AddNumberToObject(x, "rss_kb", (double)D->rss_kb);
        cJSON_AddBoolToObject(x, "down", !isnan(D->down_since));
        cJSON_AddItemToArray(devs, x);
    }
    cJSON *tasks = cJSON_AddArrayToObject(o, "lc_tasks");
    const double ps[4] = {0.5, 0.95, 0.99, 0};
    for (int ti = 0; ti < s->n_tasks; ti++) {
        const de_lc_task *t = &s->tasks[ti];
        const task_rt *T = &r->tasks[ti];
        double q[3] = {NAN, NAN, NAN}, qa = NAN, qt = NAN;
        if (T->all.n) {
            de_hist_quantiles(&T->all, ps, 3, q);
            qt = de_hist_quantile(&T->all, t->percentile);
        }
        if (T->alone.n)
            qa = de_hist_quantile(&T->alone, t->percentile);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", t->name);
        cJSON_AddStringToObject(x, "device", s->devices[t->device].name);
        cJSON_AddNumberToObject(x, "requests", (double)T->n);
        cJSON_AddNumberToObject(x, "p50_s", q[0]);
        cJSON_AddNumberToObject(x, "p95_s", q[1]);
        cJSON_AddNumberToObject(x, "p99_s", q[2]);
        cJSON_AddNumberToObject(x, "percentile", t->percentile * 100);
        cJSON_AddNumberToObject(x, "latency_at_percentile_s", qt);
        cJSON_AddNumberToObject(x, "alone_latency_at_percentile_s", qa);
        cJSON_AddNumberToObject(x, "alone_requests", (double)T->alone.n);
        cJSON_AddNumberToObject(x, "service_mean_s", T->n ? T->svc_sum / (double)T->n : NAN);
        cJSON_AddNumberToObject(x, "alone_service_mean_s", T->alone.n ? T->svc_alone_sum / (double)T->alone.n : NAN);
        cJSON_AddNumberToObject(x, "deadline_s", t->deadline_s);
        cJSON_AddBoolToObject(x, "deadline_met", T->all.n ? qt <= t->deadline_s : 1);
        cJSON_AddNumberToObject(x, "requests_over_deadline", (double)T->viol);
        double pred = NAN;
        for (int k = 0; k < r->plan.n_tasks; k++)
            if (r->plan.tasks[k].task == ti)
                pred = r->plan.tasks[k].latency_s;
        cJSON_AddNumberToObject(x, "predicted_latency_s", pred);
        cJSON_AddBoolToObject(x, "stopped_with_device", T->down);
        cJSON_AddNumberToObject(x, "restarts", T->restarts);
        cJSON_AddItemToArray(tasks, x);
    }
    cJSON_AddItemToObject(o, "events", cJSON_Duplicate(r->events, 1));
    return o;
}

static void print_summary(run *r, const cJSON *sum, FILE *out)
{
    if (!out)
        return;
    const de_scenario *s = r->s;
    cJSON *it;
#define NUM(o, k) cJSON_GetNumberValue(cJSON_GetObjectItem((o), (k)))
    fprintf(out, "\nrun %s: job %s %s — %ld of %ld iterations, re-training %.1f s (%d restart%s)\n", s->name,
            s->jobs[r->job].name, cJSON_GetStringValue(cJSON_GetObjectItem(sum, "status")), r->g_done, r->g_total,
            NUM(sum, "retraining_time_s"), r->restarts, r->restarts == 1 ? "" : "s");
    fprintf(out, "  iteration %.1f ms measured (compute %.1f ms) vs %.1f ms predicted; final loss %.4f, val accuracy "
            "%.1f%%\n",
            1e3 * NUM(sum, "iteration_time_mean_s"), 1e3 * NUM(sum, "compute_time_mean_s"),
            1e3 * r->plan.iteration_time_s, r->last_loss, 100 * r->val_acc);
    fprintf(out, "  CPU budgets: %s; links: %s\n", de_budget_mode_name(r->budget),
            cJSON_GetStringValue(cJSON_GetObjectItem(sum, "links")));
    if (r->restarts)
        fprintf(out, "  lost work: %ld iterations (%.1f s); recovery %.1f s in total\n", r->lost_iters, r->lost_s,
                r->recovery_s_sum);
    fprintf(out, "\n  %-14s %-12s %6s %9s %9s %6s\n", "device", "type", "iters", "compute", "sync", "duty");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "devices"))
    {
        if (NUM(it, "iterations") == 0) {
            fprintf(out, "  %-14s %-12s %6d %10s %10s %6s%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")),
                    cJSON_GetStringValue(cJSON_GetObjectItem(it, "type")), 0, "-", "-", "-",
                    cJSON_IsTrue(cJSON_GetObjectItem(it, "down")) ? "  down" : "  not in the plan");
            continue;
        }
        fprintf(out, "  %-14s %-12s %6.0f %7.1f ms %7.1f ms %6.2f%s\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")),
                cJSON_GetStringValue(cJSON_GetObjectItem(it, "type")), NUM(it, "iterations"),
                1e3 * NUM(it, "compute_mean_s"), 1e3 * NUM(it, "sync_mean_s"), NUM(it, "duty_cycle"),
                cJSON_IsTrue(cJSON_GetObjectItem(it, "down")) ? "  down" : "");
    }
    fprintf(out, "\n  %-12s %-12s %7s %9s %9s %9s %12s %9s %9s %9s %6s\n", "LC task", "device", "reqs", "p50", "p95",
            "p99", "at pct", "alone", "predicted", "deadline", "met");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sum, "lc_tasks"))
    {
        char pct[32];
        snprintf(pct, sizeof pct, "p%g %.1f", NUM(it, "percentile"), 1e3 * NUM(it, "latency_at_percentile_s"));
        fprintf(out, "  %-12s %-12s %7.0f %6.1f ms %6.1f ms %6.1f ms %9s ms %6.1f ms %6.1f ms %6.1f ms %6s\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(it, "name")),
                cJSON_GetStringValue(cJSON_GetObjectItem(it, "device")), NUM(it, "requests"), 1e3 * NUM(it, "p50_s"),
                1e3 * NUM(it, "p95_s"), 1e3 * NUM(it, "p99_s"), pct,
                1e3 * NUM(it, "alone_latency_at_percentile_s"), 1e3 * NUM(it, "predicted_latency_s"),
                1e3 * NUM(it, "deadline_s"), cJSON_IsTrue(cJSON_GetObjectItem(it, "deadline_met")) ? "yes" : "NO");
    }
#undef NUM
    fprintf(out, "\n  outputs in %s: summary.json, plan-*.cfg, iterations.csv, ranks.csv, timeline.csv, "
                 "lc_windows.csv, lc_cdf.csv, events.csv, figures\n",
            r->o->out_dir);
}

/* ---- the run ---- */

/* Asks the workers to checkpoint and stop, so that the job continues with a new plan. */
static void request_replan(run *r, const char *cause, const char *why)
{
    if (r->stop_sent)
        return;
    r->stop_sent = 1; /* delivered to rank 0 by the main loop, once it is connected */
    r->stop_reason = 2;
    snprintf(r->replan_cause, sizeof r->replan_cause, "%s", cause);
    snprintf(r->replan_why, sizeof r->replan_why, "%s", why);
}

static void apply_injections(run *r)
{
    const de_run_opts *o = r->o;
    for (int i = 0; i < o->n_inject && i < 64; i++) {
        const de_run_inject *in = &o->inject[i];
        if (r->inject_done[i] || in->kind == DE_INJECT_CRASH || r->g_done < in->iter)
            continue;
        r->inject_done[i] = 1;
        char why[256];
        if (in->kind == DE_INJECT_LINK) {
            int l = -1;
            for (int k = 0; k < r->s->n_links; k++)
                if (strcmp(r->s->links[k].name, in->target) == 0)
                    l = k;
            r->st.link_factor[l] = in->value;
            de_err nerr;
            if (r->netns && netns_shape(r, &nerr))
                event(r, "emulation", "link %s not re-shaped: %s", in->target, nerr.msg);
            event(r, "link", "link %s at %g x its bandwidth (injected at iteration %ld): re-plan", in->target,
                  in->value, r->g_done);
            snprintf(why, sizeof why, "link %s at %g x bandwidth", in->target, in->value);
            request_replan(r, "link-degrade", why);
            continue;
        }
        int ti = -1;
        for (int k = 0; k < r->s->n_tasks; k++)
            if (strcmp(r->s->tasks[k].name, in->target) == 0)
                ti = k;
        task_rt *T = &r->tasks[ti];
        T->rate = in->value;
        r->st.rate[ti] = in->value;
        if (T->conn >= 0 && r->conns[T->conn].fd >= 0)
            de_wire_send(r->conns[T->conn].fd, "rate %g", in->value);
        /* Does the running plan still keep every deadline under the new load? */
        de_plan_evaluate(&r->plan, &r->st, &r->pred, r->s->planner.safety_margin);
        event(r, "lc-load", "task %s now at %g req/s (injected at iteration %ld): the plan predicts %s", in->target,
              in->value, r->g_done, r->plan.feasible ? "every deadline kept, no re-plan" : "a deadline missed: re-plan");
        snprintf(why, sizeof why, "LC task %s at %g req/s", in->target, in->value);
        if (!r->plan.feasible)
            request_replan(r, "lc-load", why);
    }
}

/* The scenario's faults, at their times counted from the start of training, with the
 * simulator's meaning: crash (the device and its LC services stop; the coordinator kills
 * its worker), slowdown (its CPU budget times the factor), link-degrade (its link's
 * bandwidth times the factor); each repaired after repair_s. Every change re-plans. */
static void apply_faults(run *r)
{
    const de_scenario *s = r->s;
    double t = isnan(r->train_start_t) ? -1 : rel(r) - r->train_start_t;
    for (int i = 0; i < s->n_faults && t >= 0; i++) {
        const de_fault *f = &s->faults[i];
        int d = f->device, begin = r->fault_state[i] == 0 && t >= f->time_s;
        int end = r->fault_state[i] == 1 && t >= f->time_s + f->repair_s;
        if (!begin && !end)
            continue;
        r->fault_state[i] = begin ? 1 : 2;
        dev_rt *D = &r->devs[d];
        const char *dn = s->devices[d].name;
        char why[256];
        de_err e2;
        if (f->kind == DE_FAULT_CRASH && begin) {
            r->st.up[d] = 0;
            D->down_since = rel(r);
            stop_device_lc(r, d);
            if (D->rank >= 0 && D->pid > 0 && !r->o->hostfile && !r->o->use_hosts) {
                event(r, "crash", "device %s crashes (scenario fault %d at %.1f s)", dn, i, f->time_s);
                r->crashed_dev = d;
                kill((pid_t)D->pid, SIGKILL);
            } else {
                event(r, "crash", "device %s crashes (scenario fault %d at %.1f s)%s", dn, i, f->time_s,
                      D->rank >= 0 ? ": a remote worker cannot be killed from here" : "; it was not training");
            }
            continue;
        }
        if (f->kind == DE_FAULT_CRASH) {
            r->st.up[d] = 1;
            if (r->f_timeline)
                fprintf(r->f_timeline, "%s,%d,%.4f,%.4f,down\n", dn, d, D->down_since, rel(r));
            D->down_since = NAN;
            for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++) {
                int ti = s->dev_tasks[k];
                r->tasks[ti].down = 0;
                if (start_lc(r, ti, &e2))
                    event(r, "lc-error", "%s: %s", s->tasks[ti].name, e2.msg);
            }
            snprintf(why, sizeof why, "device %s repaired", dn);
        } else if (f->kind == DE_FAULT_SLOWDOWN) {
            double factor = begin ? f->factor : 1.0;
            r->st.speed[d] = factor;
            double cores = s->catalog->types[s->devices[d].type].emulation_cpu_cores;
            if (D->cgroup && cores > 0 && de_cgroup_set_cores(D->cgroup, cores * factor, &e2))
                event(r, "emulation", "%s: budget not changed: %s", dn, e2.msg);
            snprintf(why, sizeof why, "device %s at %g x speed%s", dn, factor,
                     D->cgroup ? "" : " (not emulated: no cgroup)");
        } else {
            int l = s->devices[d].link;
            r->st.link_factor[l] = begin ? f->factor : 1.0;
            if (r->netns && netns_shape(r, &e2))
                event(r, "emulation", "link %s not re-shaped: %s", s->links[l].name, e2.msg);
            snprintf(why, sizeof why, "link %s of %s at %g x bandwidth", s->links[l].name, dn, r->st.link_factor[l]);
        }
        event(r, "fault", "%s (scenario fault %d, %s)", why, i, begin ? "begins" : "repaired");
        request_replan(r, begin ? de_fault_kind_name(f->kind) : "repair", why);
    }
}

/* LC services are supervised: one that dies on its own (not with its device) is reported
 * with the end of its log and restarted, at most 3 times. */
static void supervise_lc(run *r)
{
    for (int ti = 0; ti < r->s->n_tasks; ti++) {
        task_rt *T = &r->tasks[ti];
        int status;
        if (T->pid <= 0 || waitpid(T->pid, &status, WNOHANG) != T->pid)
            continue;
        T->pid = 0;
        char tail[400];
        tail_of(T->log, tail, sizeof tail);
        for (char *p = tail; *p; p++)
            if (*p == '\n')
                *p = ' ';
        const char *name = r->s->tasks[ti].name;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (T->restarts >= 3) {
            event(r, "lc-exit", "%s exited (status %d), not restarted again: %s", name, code, tail);
            continue;
        }
        T->restarts++;
        de_err e2;
        event(r, "lc-exit", "%s exited (status %d): %s; restarting it (%d of 3)", name, code, tail, T->restarts);
        if (start_lc(r, ti, &e2))
            event(r, "lc-error", "%s: %s", name, e2.msg);
    }
}

static void cleanup(run *r)
{
    if (r->mpi_pid > 0)
        stop_child(r->mpi_pid, SIGTERM, 3.0);
    r->mpi_pid = 0;
    /* LC services: a polite stop, then SIGTERM, then SIGKILL. */
    for (int ti = 0; ti < r->s->n_tasks; ti++) {
        task_rt *T = &r->tasks[ti];
        if (T->pid > 0 && T->conn >= 0 && r->conns[T->conn].fd >= 0)
            de_wire_send(r->conns[T->conn].fd, "stop");
    }
    double end = de_now_s() + 2.0;
    for (;;) {
        int alive = 0;
        for (int ti = 0; ti < r->s->n_tasks; ti++) {
            task_rt *T = &r->tasks[ti];
            if (T->pid > 0 && waitpid(T->pid, NULL, WNOHANG) == 0)
                alive++;
            else
                T->pid = 0;
        }
        if (!alive || de_now_s() > end)
            break;
        pump(r, 20);
    }
    for (int ti = 0; ti < r->s->n_tasks; ti++)
        if (r->tasks[ti].pid > 0) {
            stop_child(r->tasks[ti].pid, SIGTERM, 1.0);
            r->tasks[ti].pid = 0;
        }
    if (r->netns) {
        char *args = de_sprintf("down --prefix %s --kill", r->ns_prefix);
        de_err nerr;
        netns_script(r, args, NULL, &nerr);
        free(args);
        r->netns = 0;
    }
    for (int d = 0; d < r->s->n_devices; d++)
        if (r->devs[d].cgroup) {
            de_cgroup_remove(r->devs[d].cgroup);
            free(r->devs[d].cgroup);
            r->devs[d].cgroup = NULL;
        }
}

static void free_run(run *r)
{
    for (int i = 0; i < r->n_conns; i++)
        if (r->conns[i].fd >= 0)
            close(r->conns[i].fd);
    if (r->lfd >= 0)
        close(r->lfd);
    if (r->mfd >= 0)
        close(r->mfd);
    if (r->s && r->tasks) {
        for (int ti = 0; ti < r->s->n_tasks; ti++) {
            de_hist_free(&r->tasks[ti].all);
            de_hist_free(&r->tasks[ti].alone);
            de_hist_free(&r->tasks[ti].win);
            free(r->tasks[ti].log);
        }
    }
    if (r->st.scen)
        de_state_free(&r->st);
    FILE **fs[] = {&r->f_ranks, &r->f_timeline, &r->f_windows, &r->f_events};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        if (*fs[i])
            fclose(*fs[i]);
    free(r->conns);
    free(r->fault_state);
    free(r->tasks);
    free(r->devs);
    free(r->it_start);
    free(r->it_end);
    free(r->it_compute);
    free(r->it_ranks);
    de_plan_free(&r->plan);
    cJSON_Delete(r->events);
    cJSON_Delete(r->recoveries);
    free(r->exe);
    free(r->cache);
    free(r->run_id);
    free(r->cg_run);
    free(r->ns_args);
    de_scenario_destroy(r->s);
}

static int load_plan(run *r, de_err *err)
{
    const de_run_opts *o = r->o;
    int rc;
    if (o->plan) {
        if ((rc = de_plan_read(o->plan, r->s, &r->plan, err)))
            return rc;
        r->job = r->plan.job;
    } else {
        r->job = 0;
    }
    de_state_init(&r->st, r->s, r->s->jobs[r->job].arrival_s);
    r->pred = de_predictor_model();
    if (o->plan) {
        de_plan_evaluate(&r->plan, &r->st, &r->pred, r->s->planner.safety_margin);
    } else if ((rc = de_plan_compute(&r->st, r->job, r->s->planner.policy, &r->s->planner, &r->pred, &r->plan, err))) {
        return rc;
    }
    if (r->plan.n_shares == 0)
        return de_err_set(err, DE_EINFEASIBLE, "%s: no device can train job '%s'%s%s", r->s->path,
                          r->s->jobs[r->job].name, r->plan.verdict ? ": " : "", r->plan.verdict ? r->plan.verdict : "");
    return DE_OK;
}

int de_run(const de_run_opts *o, FILE *out, cJSON **summary, de_err *err)
{
    *summary = NULL;
    run R, *r = &R;
    memset(r, 0, sizeof R);
    r->o = o;
    r->out = out;
    r->lfd = r->mfd = -1;
    r->t0 = de_now_s();
    r->fail_t = r->train_start_t = NAN;
    r->val_acc = r->val_loss = r->last_loss = NAN;
    r->conns = de_calloc(MAX_CONN, sizeof *r->conns);
    r->events = cJSON_CreateArray();
    r->recoveries = cJSON_CreateArray();
    r->tty = isatty(2);
    de_plan_init(&r->plan);
    g_signals = 0;
    int rc = de_scenario_load(o->scenario, NULL, &r->s, err);
    if (rc) {
        free_run(r);
        return rc;
    }
    const de_scenario *s = r->s;
    if (!s->exec.present) {
        rc = de_err_set(err, DE_EMISSING, "%s: `deepedge run` needs an `exec` group (dataset, lr, seed; see "
                                          "scenarios/README.md)", s->path);
        free_run(r);
        return rc;
    }
    if (strcmp(o->links, "pad") && strcmp(o->links, "none") && strcmp(o->links, "netns")) {
        free_run(r);
        return de_err_set(err, DE_EINVAL, "--links: '%s' is not pad, none or netns", o->links);
    }
    if (o->use_hosts && (o->hostfile || strcmp(o->links, "netns") == 0)) {
        free_run(r);
        return de_err_set(err, DE_EINVAL, "--hosts places every device on its devices.[i].host: it goes with neither "
                                          "--hostfile nor --links netns");
    }
    for (int d = 0; o->use_hosts && d < s->n_devices; d++)
        if (!s->devices[d].host) {
            rc = de_err_set(err, DE_EMISSING, "%s: devices.[%d].host: device '%s' has no host (--hosts needs one per "
                                              "device)", s->path, d, s->devices[d].name);
            free_run(r);
            return rc;
        }
    if (strcmp(o->links, "netns") == 0 && o->hostfile) {
        free_run(r);
        return de_err_set(err, DE_EINVAL, "--links netns emulates the hosts: it does not go with --hostfile");
    }
    for (int i = 0; i < o->n_inject; i++) {
        const de_run_inject *in = &o->inject[i];
        int ok = in->kind == DE_INJECT_CRASH ? de_scenario_device(s, in->target) >= 0 : 0;
        for (int k = 0; in->kind == DE_INJECT_LC_RATE && k < s->n_tasks; k++)
            ok |= strcmp(s->tasks[k].name, in->target) == 0;
        for (int k = 0; in->kind == DE_INJECT_LINK && k < s->n_links; k++)
            ok |= strcmp(s->links[k].name, in->target) == 0;
        if (!ok) {
            rc = de_err_set(err, DE_EREF, "--inject: %s '%s' is not in %s",
                            in->kind == DE_INJECT_CRASH ? "device" : in->kind == DE_INJECT_LINK ? "link" : "LC task",
                            in->target, s->path);
            free_run(r);
            return rc;
        }
    }
    r->fault_state = de_calloc((size_t)s->n_faults + 1, 1);
    r->tasks = de_calloc((size_t)s->n_tasks + 1, sizeof *r->tasks);
    r->devs = de_calloc((size_t)s->n_devices + 1, sizeof *r->devs);
    for (int ti = 0; ti < s->n_tasks; ti++) {
        de_hist_init(&r->tasks[ti].all);
        de_hist_init(&r->tasks[ti].alone);
        de_hist_init(&r->tasks[ti].win);
        r->tasks[ti].conn = -1;
    }
    for (int d = 0; d < s->n_devices; d++) {
        r->devs[d].rank = -1;
        r->devs[d].down_since = NAN;
    }
    if (de_mkdir_p(o->out_dir) != 0) {
        rc = de_err_set(err, DE_EIO, "%s: cannot create the output folder: %s", o->out_dir, strerror(errno));
        free_run(r);
        return rc;
    }
    r->f_events = de_csv_create(r->o->out_dir, "events.csv", "time_s,event,detail", err, &rc);
    if (!rc)
        r->f_ranks = de_csv_create(r->o->out_dir, "ranks.csv",
                              "time_s,rank,device,iteration,batch,compute_s,throttle_s,sync_s,mpi_s,pad_s,step_s,"
                              "loss,cpu_s,rss_kb",
                              err, &rc);
    if (r->f_ranks)
        setvbuf(r->f_ranks, NULL, _IOLBF, 0); /* followed live (tail -f, tests) */
    if (!rc)
        r->f_timeline = de_csv_create(r->o->out_dir, "timeline.csv", "device,device_index,start_s,end_s,state", err, &rc);
    if (!rc)
        r->f_windows = de_csv_create(r->o->out_dir, "lc_windows.csv",
                                "start_s,end_s,task,requests,dropped,violations,p50_s,p95_s,p99_s,deadline_s", err, &rc);
    /* Every LC model must be a network the executor can run: refused before anything starts. */
    for (int ti = 0; !rc && ti < s->n_tasks; ti++) {
        const char *model = s->catalog->lc_models[s->tasks[ti].model].name;
        de_net *probe = NULL;
        de_err nerr;
        if (de_net_builtin(model, 10, &probe, &nerr))
            rc = de_err_set(err, DE_EREF, "%s: lc_tasks.[%d].model: task '%s' serves '%s', which deepedge run cannot "
                                          "execute: %s", s->path, ti, s->tasks[ti].name, model, nerr.msg);
        de_net_destroy(probe);
    }
    if (!rc)
        rc = load_plan(r, err);
    if (!rc && out) {
        de_plan_print(&r->plan, &r->st, out);
        fflush(out);
    }
    if (!rc)
        rc = prepare_dataset(r, err);
    if (rc) {
        free_run(r);
        return rc;
    }
    r->it_start = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_end = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_compute = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_ranks = de_calloc((size_t)r->g_total + 1, sizeof(int));
    if (o->exe) {
        r->exe = de_strdup(o->exe);
    } else {
        char buf[4096];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        r->exe = de_strdup(n > 0 ? buf : "deepedge");
    }
    r->run_id = de_sprintf("run-%ld", (long)getpid());
    if (strcmp(o->links, "netns") == 0 && (rc = netns_up(r, err))) {
        free_run(r);
        return rc;
    }
    char host[256] = "127.0.0.1";
    if (r->netns)
        snprintf(host, sizeof host, "%s.1", r->ns_subnet);
    else if (o->report_host)
        snprintf(host, sizeof host, "%s", o->report_host);
    else if (o->hostfile || o->use_hosts)
        gethostname(host, sizeof host);
    rc = de_wire_listen(o->hostfile || o->use_hosts || o->report_host || r->netns ? "0.0.0.0" : "127.0.0.1", 0,
                        &r->lfd, &r->port, err);
    snprintf(r->report, sizeof r->report, "%s:%d", host, r->port);
    if (!rc && o->metrics_port > 0) {
        int mport;
        rc = de_wire_listen("127.0.0.1", o->metrics_port, &r->mfd, &mport, err);
        if (!rc)
            event(r, "metrics", "Prometheus text format on http://127.0.0.1:%d/metrics", mport);
    }
    /* The environment every child inherits: kernel threads, and OpenMPI's consent to run as
     * root (workers and LC services placed on hosts both go through mpiexec). */
    char ts[16];
    snprintf(ts, sizeof ts, "%d", s->exec.threads);
    setenv("OMP_NUM_THREADS", ts, 1);
    if (geteuid() == 0) {
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    }
    /* From here on, children exist: every exit path goes through cleanup. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (!rc)
        rc = setup_budgets(r, err);
    char *plan_path = NULL, *resume = o->resume ? de_strdup(o->resume) : NULL;
    if (!rc)
        rc = write_plan(r, 0, &plan_path, err);
    if (!rc)
        event(r, "plan", "%s: %d devices, predicted iteration %.0f ms, re-training %.0f s, %s", de_policy_name(r->plan.policy),
              r->plan.n_shares, 1e3 * r->plan.iteration_time_s, r->plan.retraining_time_s,
              r->plan.feasible ? "every deadline kept" : "NOT feasible (see plan-0.cfg)");
    for (int ti = 0; !rc && ti < s->n_tasks; ti++)
        rc = start_lc(r, ti, err);
    /* Every LC service up (through mpiexec on a remote host this takes a moment), then the
     * warm-up: the services alone, their latency without training next to them. */
    double up_by = de_now_s() + 30.0;
    for (;;) {
        int waiting = 0;
        for (int ti = 0; ti < s->n_tasks; ti++)
            waiting += r->tasks[ti].conn < 0;
        if (rc || !waiting || g_signals)
            break;
        if (de_now_s() > up_by) {
            event(r, "lc-error", "%d LC service(s) not connected after 30 s (see OUT/lc-*.log); training starts anyway",
                  waiting);
            break;
        }
        pump(r, 20);
        supervise_lc(r);
    }
    double warm_end = de_now_s() + o->lc_warmup_s;
    while (!rc && de_now_s() < warm_end && !g_signals)
        pump(r, 20);
    r->win_start = rel(r);
    if (!rc && !g_signals) {
        r->train_start_t = rel(r);
        rc = launch(r, plan_path, resume, err);
    }
    int completed = 0, interrupted = 0;
    while (!rc && r->mpi_pid > 0) {
        pump(r, 50);
        double now = rel(r);
        if (now - r->win_start >= o->window_s)
            window_flush(r, now);
        apply_injections(r);
        apply_faults(r);
        supervise_lc(r);
        /* A hung worker (a host that vanished without closing its connections, a deadlock)
         * stops the iterations without ending mpiexec: after --stall-timeout without
         * progress the device that reported least recently is taken as lost. */
        if (o->stall_timeout_s > 0 && !isnan(r->first_iter_t) && r->fail_dev < 0 && r->crashed_dev < 0 &&
            now - fmax(r->progress_t, r->first_iter_t) > o->stall_timeout_s) {
            int worst = -1;
            for (int d = 0; d < s->n_devices; d++)
                if (r->devs[d].rank >= 0 && (worst < 0 || r->devs[d].last_g < r->devs[worst].last_g))
                    worst = d;
            if (worst >= 0) {
                event(r, "stall", "no iteration for %.0f s: device %s (last at iteration %ld) taken as lost",
                      o->stall_timeout_s, s->devices[worst].name, r->devs[worst].last_g);
                r->fail_dev = worst;
                kill(-r->mpi_pid, SIGKILL);
            }
        }
        if (o->stall_timeout_s > 0 && isnan(r->first_iter_t) && !r->killed_stalled &&
            now - r->launch_t > o->stall_timeout_s) {
            event(r, "stall", "the workers did not reach their first iteration in %.0f s (%d of %d connected)",
                  o->stall_timeout_s, r->rank_up, r->plan.n_shares);
            r->killed_stalled = 1;
            kill(-r->mpi_pid, SIGKILL);
        }
        draw(r);
        if (g_signals && !interrupted) {
            interrupted = 1;
            event(r, "interrupt", "stopping: the workers checkpoint and exit (again to kill them)");
            if (!rank_conn(r, 0) && !r->stop_delivered)
                kill(-r->mpi_pid, SIGTERM); /* not started yet: nothing to checkpoint */
            r->stop_sent = 1;
            r->stop_reason = 1;
        } else if (g_signals > 1) {
            kill(-r->mpi_pid, SIGKILL);
        }
        if (r->stop_sent && !r->stop_delivered) {
            conn *c = rank_conn(r, 0);
            if (c) {
                de_wire_send(c->fd, "stop");
                r->stop_delivered = 1;
            }
        }
        int status;
        pid_t w = waitpid(r->mpi_pid, &status, WNOHANG);
        if (w != r->mpi_pid)
            continue;
        r->mpi_pid = 0;
        for (int k = 0; k < 20; k++)
            pump(r, 10); /* the last lines in flight */
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok && r->done) {
            completed = 1;
            break;
        }
        if (ok && r->stopped && r->stop_reason == 2) {
            /* A voluntary re-plan: the workers checkpointed at r->g_ckpt; nothing is lost. */
            r->fail_t = rel(r);
            cJSON *rec = cJSON_CreateObject();
            cJSON_AddStringToObject(rec, "cause", r->replan_cause);
            cJSON_AddNumberToObject(rec, "from_iteration", (double)r->g_ckpt);
            cJSON_AddNumberToObject(rec, "lost_iterations", 0);
            rc = restart(r, r->replan_why, rec, &plan_path, &resume, err);
            continue;
        }
        if (interrupted) {
            event(r, "stopped", "at iteration %ld; checkpoint %s/%s kept (deepedge run ... --resume it)", r->g_done,
                  o->out_dir, DE_RUN_CKPT);
            break;
        }
        /* A failure: which device? */
        int fd = r->crashed_dev >= 0 ? r->crashed_dev : r->fail_dev;
        char mlog[256], tail[600];
        snprintf(mlog, sizeof mlog, "%s/mpiexec-%d.log", o->out_dir, r->launch);
        if (r->rank_up == 0) {
            rc = de_err_set(err, DE_EIO, "the workers did not start (mpiexec exit status %d); %s begins with:\n%s",
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), mlog,
                            head_of(mlog, tail, sizeof tail));
            break;
        }
        if (fd < 0 || r->restarts >= o->max_restarts) {
            rc = de_err_set(err, DE_EIO, "the workers failed at iteration %ld (%s); %s ends with:\n%s", r->g_done,
                            fd < 0 ? "no device identified" : "too many restarts", mlog,
                            tail_of(mlog, tail, sizeof tail));
            break;
        }
        double tf = rel(r);
        r->fail_t = tf;
        for (int i = 0; i < o->n_inject && i < 64; i++)
            if (o->inject[i].kind == DE_INJECT_CRASH && de_scenario_device(s, o->inject[i].target) == fd)
                r->inject_done[i] = 1;
        long lost = r->g_done - (r->g_ckpt > r->g_launch ? r->g_ckpt : r->g_launch);
        double lost_s = 0;
        for (long k = r->g_done - lost; k < r->g_done && k < r->g_total; k++)
            if (r->it_ranks[k])
                lost_s += r->it_end[k] - r->it_start[k];
        r->lost_iters += lost;
        r->lost_s += lost_s;
        event(r, "failure", "device %s lost at iteration %ld; last checkpoint at iteration %ld: %ld iterations "
              "(%.1f s) of work lost", s->devices[fd].name, r->g_done, r->g_ckpt, lost, lost_s);
        r->st.up[fd] = 0;
        r->devs[fd].down_since = tf;
        if (r->crashed_dev == fd) {
            /* An injected crash emulates the device's loss: its LC services stop too. */
            stop_device_lc(r, fd);
        }
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "cause", "crash");
        cJSON_AddStringToObject(rec, "device", s->devices[fd].name);
        cJSON_AddNumberToObject(rec, "failed_at_iteration", (double)r->g_done);
        cJSON_AddNumberToObject(rec, "from_iteration", (double)r->g_ckpt);
        cJSON_AddNumberToObject(rec, "lost_iterations", (double)lost);
        cJSON_AddNumberToObject(rec, "lost_work_s", lost_s);
        char *why = de_sprintf("device %s down", s->devices[fd].name);
        rc = restart(r, why, rec, &plan_path, &resume, err);
        free(why);
    }
    double train_s = isnan(r->train_start_t) ? 0 : rel(r) - r->train_start_t;
    if (r->tty && !o->quiet)
        fputs("\r\033[J", stderr);
    window_flush(r, rel(r));
    for (int d = 0; d < s->n_devices && r->f_timeline; d++)
        if (!isnan(r->devs[d].down_since))
            fprintf(r->f_timeline, "%s,%d,%.4f,%.4f,down\n", s->devices[d].name, d, r->devs[d].down_since, rel(r));
    cleanup(r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (!rc && r->f_events) {
        write_iterations(r);
        write_cdf(r);
        FILE **fs[] = {&r->f_ranks, &r->f_timeline, &r->f_windows};
        for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
            fclose(*fs[i]);
            *fs[i] = NULL;
        }
        cJSON *sum = summarize(r, train_s, completed);
        char *txt = cJSON_Print(sum);
        char *p = de_path_join(o->out_dir, "summary.json");
        de_net_write_atomic(p, txt, strlen(txt), err);
        free(p);
        free(txt);
        print_summary(r, sum, out);
        if (o->plots) {
            de_err perr;
            char *label = de_sprintf("%s, %s", s->name, de_policy_name(r->plan.policy));
            int prc = de_plot_run_figures(s, o->out_dir, "wall-clock", label, &perr);
            free(label);
            if (prc)
                event(r, "plots", "not rendered: %s", perr.msg);
        }
        *summary = sum;
        if (!completed)
            rc = de_err_set(err, DE_EIO, "run %s at iteration %ld of %ld", interrupted ? "interrupted" : "stopped",
                            r->g_done, r->g_total);
    }
    free(plan_path);
    free(resume);
    free_run(r);
    return rc;
}
