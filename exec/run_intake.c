/* run_intake.c — the coordinator's connections and the lines they carry: one handler
 * per message kind of the wire's table (exec/de_wire.h); run_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "de_util.h"
#include "de_wire.h"
#include "run_internal.h"

typedef void (*handler)(run *r, run_conn *c, const char *line, double t);

/* A device named by the line's dev= key, -1 when unknown. */
static int line_device(const run *r, const char *line, char *name, size_t n)
{
    de_wire_get(line, "dev", name, n);
    return de_scenario_device(r->s, name);
}

static void on_hello(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    char name[128];
    c->rank = (int)de_wire_num(line, "rank", -1);
    r->rank_up++;
    int d = line_device(r, line, name, sizeof name);
    long pid = (long)de_wire_num(line, "pid", -1);
    if (d < 0)
        return;
    r->devs[d].pid = pid;
    double cores = r->s->catalog->types[r->s->devices[d].type].emulation_cpu_cores * r->st.speed[d];
    if (r->budget == DE_BUDGET_DUTY && r->st.speed[d] != 1.0 && cores > 0) /* a slowdown in force */
        de_wire_send(c->fd, DE_MSG_CORES, "%.9g", cores);
    /* In a network namespace the worker cannot see the cgroup tree (ip netns exec
     * remounts /sys); the pid is the same, so the coordinator moves it. */
    de_err jerr;
    if (r->netns && r->devs[d].cgroup && pid > 0 && de_cgroup_join(r->devs[d].cgroup, (pid_t)pid, &jerr))
        run_event(r, "emulation", "worker of %s not in its CPU budget: %s", name, jerr.msg);
}

static void on_backend(run *r, run_conn *c, const char *line, double t)
{
    (void)c;
    (void)t;
    char name[128];
    int d = line_device(r, line, name, sizeof name);
    if (d >= 0)
        de_wire_get(line, "backend", r->devs[d].backend, sizeof r->devs[d].backend);
}

/* The first iteration of a launch after a failure or a stop ends its recovery: planning,
 * then the restart, on the timeline of the plan's devices. */
static void end_recovery(run *r, double t)
{
    double rec = t - r->fail_t;
    r->recovery_s_sum += rec;
    cJSON *last = cJSON_GetArrayItem(r->recoveries, cJSON_GetArraySize(r->recoveries) - 1);
    if (last)
        cJSON_AddNumberToObject(last, "recovery_s", rec);
    run_event(r, "resumed", "first iteration of launch %d after %.2f s", r->launch, rec);
    double tp = fmin(r->fail_t + r->plan_s, t);
    for (int k = 0; k < r->plan.n_shares; k++) {
        int d = r->plan.shares[k].device;
        run_timeline(r, d, r->fail_t, tp, DE_TL_PLAN);
        run_timeline(r, d, tp, t, DE_TL_RECOVER);
    }
    r->fail_t = NAN;
}

static void on_iter(run *r, run_conn *c, const char *line, double t)
{
    (void)c;
    char dev[128];
    int d = line_device(r, line, dev, sizeof dev);
    if (d < 0)
        return;
    run_dev *D = &r->devs[d];
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
    D->batch_sum += D->batch;
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
        if (!isnan(r->fail_t))
            end_recovery(r, t);
    }
    double start = t - D->step, busy = D->compute + D->throttle;
    run_timeline(r, d, start, start + busy, DE_TL_TRAIN);
    run_timeline(r, d, start + busy, t, DE_TL_SYNC);
    if (r->f_ranks)
        fprintf(r->f_ranks, "%.6f,%d,%s,%ld,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%ld\n", t,
                (int)de_wire_num(line, "rank", -1), dev, g, D->batch, D->compute, D->throttle,
                de_wire_num(line, "sync", 0), de_wire_num(line, "mpi", 0), de_wire_num(line, "pad", 0), D->step,
                r->last_loss, D->cpu_s, D->rss_kb);
    if (g >= 1 && g <= r->g_total && r->it_start) {
        long k = g - 1;
        if (!r->it_ranks[k])
            r->iters_run++;
        r->it_start[k] = r->it_ranks[k] ? fmin(r->it_start[k], start) : start;
        r->it_end[k] = fmax(r->it_end[k], t);
        r->it_compute[k] = fmax(r->it_compute[k], busy);
        r->it_ranks[k]++;
    }
}

static void on_ckpt(run *r, run_conn *c, const char *line, double t)
{
    (void)c;
    double s = de_wire_num(line, "s", 0);
    r->g_ckpt = (long)de_wire_num(line, "g", 0);
    r->ckpt_s_sum += s;
    run_event(r, "checkpoint", "job=%s iteration=%ld (%.0f ms)", r->s->jobs[r->job].name, r->g_ckpt, 1e3 * s);
    if (r->plan.n_shares) /* rank 0 writes it */
        run_timeline(r, r->plan.shares[0].device, t - s, t, DE_TL_CHECKPOINT);
}

static void on_crash(run *r, run_conn *c, const char *line, double t)
{
    (void)c;
    (void)t;
    char name[128];
    r->crashed_dev = line_device(r, line, name, sizeof name);
    if (isnan(r->lost_t))
        r->lost_t = t;
    run_event(r, "crash", "device %s dies before iteration %ld (injected)", name, (long)de_wire_num(line, "g", 0));
}

static void on_done(run *r, run_conn *c, const char *line, double t)
{
    (void)c;
    (void)t;
    r->stopped = (int)de_wire_num(line, "stopped", 0);
    r->done = !r->stopped;
    r->g_done = (long)de_wire_num(line, "g", (double)r->g_done);
    r->val_acc = de_wire_num(line, "val_acc", NAN);
    r->val_loss = de_wire_num(line, "val_loss", NAN);
}

static void on_bye(run *r, run_conn *c, const char *line, double t)
{
    (void)r;
    (void)line;
    (void)t;
    c->bye = 1;
}

/* A free-text field (spaces sent as '_'). */
static void text_of(const char *line, const char *key, char *out, size_t n)
{
    de_wire_get(line, key, out, n);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = ' ';
}

static void on_error(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    char msg[1024], name[128];
    text_of(line, "msg", msg, sizeof msg);
    de_wire_get(line, "dev", name, sizeof name);
    run_event(r, "worker-error", "%s: %s", name, msg);
    c->bye = 1;
}

static int line_task(const run *r, const char *line)
{
    char name[128];
    de_wire_get(line, "task", name, sizeof name);
    return de_strmap_get(r->s->task_ix, name);
}

static void on_lchello(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    int ti = line_task(r, line);
    long pid = (long)de_wire_num(line, "pid", -1);
    if (ti < 0)
        return;
    c->task = ti;
    r->tasks[ti].conn = (int)(c - r->conns);
    int d = r->s->tasks[ti].device;
    double cores = r->s->catalog->types[r->s->devices[d].type].emulation_cpu_cores * r->st.speed[d];
    if (r->budget == DE_BUDGET_DUTY && r->st.speed[d] != 1.0 && cores > 0) /* a slowdown in force */
        de_wire_send(c->fd, DE_MSG_CORES, "%.9g", cores);
    if (r->st.rate[ti] != r->s->tasks[ti].rate && !r->s->tasks[ti].trace) /* a rate changed before it (re)started */
        de_wire_send(c->fd, DE_MSG_RATE, "%.9g", r->st.rate[ti]);
    const char *cg = r->devs[d].cgroup;
    de_err jerr;
    if (r->netns && cg && pid > 0 && de_cgroup_join(cg, (pid_t)pid, &jerr))
        run_event(r, "emulation", "LC service %s not in its device's CPU budget: %s", r->s->tasks[ti].name, jerr.msg);
}

static void on_lcreq(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    if (c->task < 0)
        return;
    run_task *T = &r->tasks[c->task];
    double lat = de_wire_num(line, "lat", NAN);
    if (!isfinite(lat))
        return;
    double svc = de_wire_num(line, "svc", 0);
    if (isnan(r->train_start_t)) {
        de_hist_add(&T->alone, lat); /* warm-up: the service alone */
        T->svc_alone_sum += svc;
        return;
    }
    int late = lat > r->s->tasks[c->task].deadline_s;
    T->svc_sum += svc;
    de_hist_add(&T->all, lat);
    de_hist_add(&T->win, lat);
    T->win_late += late;
    T->n++;
    T->late += late;
}

static void on_lcstat(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    if (c->task < 0)
        return;
    r->tasks[c->task].cpu_s = de_wire_num(line, "cpu_s", NAN);
    r->tasks[c->task].rss_kb = (long)de_wire_num(line, "rss_kb", -1);
}

static void on_lcbye(run *r, run_conn *c, const char *line, double t)
{
    on_bye(r, c, line, t);
}

static void on_lcerror(run *r, run_conn *c, const char *line, double t)
{
    (void)c;
    (void)t;
    char msg[1024], name[128];
    text_of(line, "msg", msg, sizeof msg);
    de_wire_get(line, "task", name, sizeof name);
    run_event(r, "lc-error", "%s: %s", name, msg);
}

/* What the coordinator does with each kind it receives; NULL: a kind it only sends. */
static const handler handlers[DE_MSG_COUNT] = {
    [DE_MSG_HELLO] = on_hello,     [DE_MSG_BACKEND] = on_backend, [DE_MSG_ITER] = on_iter,
    [DE_MSG_CKPT] = on_ckpt,       [DE_MSG_CRASH] = on_crash,     [DE_MSG_DONE] = on_done,
    [DE_MSG_BYE] = on_bye,         [DE_MSG_ERROR] = on_error,     [DE_MSG_LCHELLO] = on_lchello,
    [DE_MSG_LCREQ] = on_lcreq,     [DE_MSG_LCSTAT] = on_lcstat,   [DE_MSG_LCBYE] = on_lcbye,
    [DE_MSG_LCERROR] = on_lcerror,
};

static void handle_line(run *r, run_conn *c, const char *line)
{
    de_msg m = de_wire_msg(line);
    if (m < DE_MSG_COUNT && handlers[m])
        handlers[m](r, c, line, run_rel(r));
}

static void accept_all(run *r)
{
    for (;;) {
        int fd = accept(r->lfd, NULL, NULL);
        if (fd < 0)
            return;
        if (r->n_conns >= RUN_MAX_CONN) {
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        run_conn *c = &r->conns[r->n_conns++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->rank = -1;
        c->task = -1;
        c->launch = r->launch;
    }
}

run_conn *run_rank_conn(run *r, int rank)
{
    for (int i = 0; i < r->n_conns; i++)
        if (r->conns[i].fd >= 0 && r->conns[i].rank == rank && r->conns[i].launch == r->launch)
            return &r->conns[i];
    return NULL;
}

static void vsend(int fd, de_msg m, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    de_wire_send(fd, m, "%s", buf);
}

void run_send_ranks(run *r, de_msg m, const char *fmt, ...)
{
    for (int i = 0; i < r->n_conns; i++) {
        const run_conn *c = &r->conns[i];
        if (c->fd < 0 || c->rank < 0 || c->launch != r->launch)
            continue;
        va_list ap;
        va_start(ap, fmt);
        vsend(c->fd, m, fmt, ap);
        va_end(ap);
    }
}

void run_send_task(run *r, int ti, de_msg m, const char *fmt, ...)
{
    const run_task *T = &r->tasks[ti];
    if (T->conn < 0 || r->conns[T->conn].fd < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsend(r->conns[T->conn].fd, m, fmt, ap);
    va_end(ap);
}

/* Reads a connection until it would block; complete lines are handled. */
static void read_conn(run *r, run_conn *c)
{
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
                c->rank < r->plan.n_shares) {
                r->fail_dev = r->plan.shares[c->rank].device;
                if (isnan(r->lost_t))
                    r->lost_t = run_rel(r);
            }
            close(c->fd);
            c->fd = -1;
        }
        return;
    }
}

void run_pump(run *r, int timeout_ms)
{
    struct pollfd pf[RUN_MAX_CONN + 2];
    int map[RUN_MAX_CONN + 2], n = 0;
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
        run_serve_metrics(r);
    for (int k = 2; k < n; k++)
        if (pf[k].revents)
            read_conn(r, &r->conns[map[k]]);
}
