/* run_intake.c — the coordinator's connections and the lines they carry: one handler
 * per message kind of the wire's table (exec/de_wire.h); run_internal.h.
 *
 * No line is trusted. A connection must first answer the coordinator's challenge with
 * the run secret (de_wire.h): a wrong or missing answer, an over-long first line or 10 s (--auth-timeout)
 * of silence closes it (counted in run.auth_refused). Then it is nobody until its next
 * line, a `hello` (a worker
 * rank of the running launch) or an `lchello` (an LC service); that binds its identity
 * for good, and no other connection may claim it while it lives. From then on it may only
 * send the kinds its sender may send (the table's sender column); every field a handler
 * uses is checked against the run's own state (an iteration within the job and after the
 * launch's start, a checkpoint at or before the last completed iteration, the batch of
 * the plan, finite non-negative times) and the coordinator's own figures are never taken
 * from a peer (the iteration total, a process to signal). A line that fails is refused
 * (counted, the first few logged) and changes nothing; a connection with too many
 * refused lines is closed; an over-long line is dropped up to its newline. */
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

#define REFUSED_MAX 64 /* refused lines before a connection is closed */
#define PID_MAX 4194304 /* Linux's largest pid_max */

/* A handler returns NULL when the line was taken, else why it is refused. */
typedef const char *(*handler)(run *r, run_conn *c, const char *line, double t);

/* A number of the line within [lo, hi]; NAN when absent, malformed or out of range. */
static double field(const char *line, const char *key, double lo, double hi)
{
    double v = de_wire_num(line, key, NAN);
    return v >= lo && v <= hi ? v : NAN;
}

/* An integer of the line within [lo, hi]; def when absent, malformed, fractional or out of
 * range (a number cast to an integer type only once it is known to fit). */
static long count_field(const char *line, const char *key, long lo, long hi, long def)
{
    double v = field(line, key, (double)lo, (double)hi);
    return isnan(v) || rint(v) != v ? def : (long)v;
}

/* The device the connection's rank trains in the running plan, -1 if none. */
static int conn_device(const run *r, const run_conn *c)
{
    return c->rank >= 0 && c->rank < r->plan.n_shares && c->launch == r->launch ? r->plan.shares[c->rank].device : -1;
}

/* A dev= field, when present, must name the connection's own device. */
static int dev_matches(const run *r, const run_conn *c, const char *line)
{
    char name[128];
    int d = conn_device(r, c);
    return d >= 0 && (!de_wire_get(line, "dev", name, sizeof name) || strcmp(name, r->s->devices[d].name) == 0);
}

/* A local process whose command line carries each of the words: how a pid named in a
 * hello is bound to what the coordinator launched (its report address, its role). */
static int pid_runs(long pid, const char *w1, const char *w2, const char *w3)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    FILE *f = pid > 1 ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++) /* arguments are NUL-separated */
        if (!buf[i])
            buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, w1) && strstr(buf, w2) && (!w3 || strstr(buf, w3));
}

/* Processes on this host (no --hosts, no --hostfile): their pids can be checked. */
static int local_peers(const run *r)
{
    return !r->o->use_hosts && !r->o->hostfile;
}

static const char *on_hello(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    long rank = count_field(line, "rank", 0, r->plan.n_shares - 1, -1), pid = count_field(line, "pid", 2, PID_MAX, 0);
    if (r->mpi_pid <= 0 || c->launch != r->launch)
        return "hello: no launch is running, or the connection predates it";
    if (rank < 0)
        return "hello: rank out of the launch";
    if (!pid)
        return "hello: pid missing or out of range";
    if (run_rank_conn(r, (int)rank))
        return "hello: that rank is already connected";
    c->rank = (int)rank;
    int d = conn_device(r, c);
    if (!dev_matches(r, c, line) || de_wire_num(line, "batch", -1) != r->plan.shares[c->rank].batch) {
        c->rank = -1;
        return "hello: device or batch is not the plan's for that rank";
    }
    if (local_peers(r) && !(pid_runs(pid, "_worker", r->report, r->plan_path))) {
        c->rank = -1;
        return "hello: the pid is not a worker this coordinator launched";
    }
    r->rank_up++;
    double cores = r->s->catalog->types[r->s->devices[d].type].emulation_cpu_cores * r->st.speed[d];
    if (r->budget == DE_BUDGET_DUTY && r->st.speed[d] != 1.0 && cores > 0) /* a slowdown in force */
        de_wire_send(c->fd, DE_MSG_CORES, "%.9g", cores);
    /* In a network namespace the worker cannot see the cgroup tree (ip netns exec
     * remounts /sys); the pid is the same, so the coordinator moves it. */
    de_err jerr;
    if (r->netns && r->devs[d].cgroup && de_cgroup_join(r->devs[d].cgroup, (pid_t)pid, &jerr))
        run_event(r, "emulation", "worker of %s not in its CPU budget: %s", r->s->devices[d].name, jerr.msg);
    return NULL;
}

static const char *on_backend(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    char b[8];
    de_wire_get(line, "backend", b, sizeof b);
    if (!dev_matches(r, c, line) || (strcmp(b, "cpu") && strcmp(b, "cuda")))
        return "backend: not cpu or cuda, or not its device";
    memcpy(r->devs[conn_device(r, c)].backend, b, sizeof b);
    return NULL;
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

static const char *on_iter(run *r, run_conn *c, const char *line, double t)
{
    int d = conn_device(r, c);
    double g = field(line, "g", (double)r->g_launch + 1, (double)r->g_total);
    static const char *const times[] = {"compute", "throttle", "sync", "mpi", "pad", "step"};
    double v[6];
    for (int k = 0; k < 6; k++)
        v[k] = field(line, times[k], 0, 1e6);
    if (d < 0 || !dev_matches(r, c, line) || isnan(g) || rint(g) != g)
        return "iter: not its device, or an iteration outside this launch's";
    double b = de_wire_num(line, "batch", -1);
    int before = r->reshare_from > 0 && (long)g < r->reshare_from; /* the shares before a reshare */
    if (!(b == (before ? r->before.shares[c->rank].batch : r->plan.shares[c->rank].batch) ||
          (r->has_reshare && b == r->reshare.shares[c->rank].batch))) /* taken; rank 0's word still on its way */
        return "iter: not the plan's batch";
    for (int k = 0; k < 6; k++)
        if (isnan(v[k]))
            return "iter: a time missing, negative or absurd";
    run_dev *D = &r->devs[d];
    D->batch = (int)b;
    D->compute = v[0];
    D->throttle = v[1];
    D->sync = v[2] + v[4];
    D->step = v[5];
    D->cpu_s = field(line, "cpu_s", 0, 1e12);
    D->rss_kb = count_field(line, "rss_kb", 0, 1L << 40, -1);
    D->sum_compute += D->compute + D->throttle;
    D->sum_sync += D->sync;
    D->sum_step += D->step;
    D->batch_sum += D->batch;
    D->iters++;
    r->last_loss = de_wire_num(line, "loss", NAN);
    D->last_g = (long)g;
    if ((long)g > r->g_done) {
        r->g_done = (long)g;
        r->progress_t = t;
    }
    if (isnan(r->first_iter_t)) {
        r->first_iter_t = t;
        if (!isnan(r->fail_t))
            end_recovery(r, t);
    }
    double start = t - D->step, busy = D->compute + D->throttle;
    de_correct_step(&r->cor, &r->st, &r->pred, r->s->jobs[r->job].network, d, D->batch, busy);
    run_timeline(r, d, start, start + busy, DE_TL_TRAIN);
    run_timeline(r, d, start + busy, t, DE_TL_SYNC);
    if (r->f_ranks)
        fprintf(r->f_ranks, "%.6f,%d,%s,%ld,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%ld\n", t, c->rank,
                r->s->devices[d].name, (long)g, D->batch, v[0], v[1], v[2], v[3], v[4], v[5], r->last_loss, D->cpu_s,
                D->rss_kb);
    long k = (long)g - 1;
    if (!r->it_ranks[k])
        r->iters_run++;
    r->it_start[k] = r->it_ranks[k] ? fmin(r->it_start[k], start) : start;
    r->it_end[k] = fmax(r->it_end[k], t);
    r->it_compute[k] = fmax(r->it_compute[k], busy);
    r->it_allreduce[k] = r->it_ranks[k] ? fmin(r->it_allreduce[k], v[3] + v[4]) : v[3] + v[4];
    if (++r->it_ranks[k] == r->plan.n_shares && r->plan.n_shares > 1) { /* every rank's: the all-reduce */
        int devs[256], n = r->plan.n_shares < 256 ? r->plan.n_shares : 256;
        for (int i = 0; i < n; i++)
            devs[i] = r->plan.shares[i].device;
        de_correct_allreduce(&r->cor, &r->st, &r->pred, devs, n,
                             r->s->catalog->networks[r->s->jobs[r->job].network].gradient_bytes, r->it_allreduce[k]);
    }
    return NULL;
}

static const char *on_ckpt(run *r, run_conn *c, const char *line, double t)
{
    double g = field(line, "g", fmax(1, (double)r->g_launch), (double)r->g_done), sec = field(line, "s", 0, 1e6);
    if (c->rank != 0 || isnan(g) || rint(g) != g || isnan(sec))
        return "ckpt: not rank 0, or not at or before the last completed iteration";
    r->g_ckpt = (long)g;
    r->ckpt_s_sum += sec;
    run_event(r, "checkpoint", "job=%s iteration=%ld (%.0f ms)", r->s->jobs[r->job].name, r->g_ckpt, 1e3 * sec);
    run_timeline(r, conn_device(r, c), t - sec, t, DE_TL_CHECKPOINT); /* rank 0 writes it */
    return NULL;
}

static const char *on_crash(run *r, run_conn *c, const char *line, double t)
{
    double g = field(line, "g", (double)r->g_launch, (double)r->g_total);
    if (!dev_matches(r, c, line) || isnan(g))
        return "crash: not its device, or an iteration outside the job";
    r->crashed_dev = conn_device(r, c);
    if (isnan(r->lost_t))
        r->lost_t = t;
    run_event(r, "crash", "device %s dies before iteration %ld (injected)", r->s->devices[r->crashed_dev].name,
              (long)g);
    return NULL;
}

static const char *on_done(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    double g = field(line, "g", (double)r->g_launch, (double)r->g_total);
    long stopped = count_field(line, "stopped", 0, 1, -1);
    if (c->rank != 0 || r->done_seen || isnan(g) || stopped < 0 || rint(g) != g)
        return "done: not rank 0, a second one, or an iteration outside the job";
    if (!stopped && (long)g != r->g_total)
        return "done: finished before the last iteration";
    r->done_seen = 1;
    r->stopped = (int)stopped;
    r->done = !r->stopped;
    r->g_done = (long)g;
    r->val_acc = field(line, "val_acc", 0, 1);
    r->val_loss = field(line, "val_loss", 0, INFINITY);
    return NULL;
}

static const char *on_bye(run *r, run_conn *c, const char *line, double t)
{
    (void)r;
    (void)line;
    (void)t;
    c->bye = 1;
    return NULL;
}

/* A free-text field (spaces sent as '_'). */
static void text_of(const char *line, const char *key, char *out, size_t n)
{
    de_wire_get(line, key, out, n);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = ' ';
}

static const char *on_error(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    char msg[1024];
    text_of(line, "msg", msg, sizeof msg);
    int d = conn_device(r, c);
    run_event(r, "worker-error", "%s: %s", d >= 0 ? r->s->devices[d].name : "?", msg);
    c->bye = 1;
    return NULL;
}

static const char *on_lchello(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    char name[128], arg[160];
    de_wire_get(line, "task", name, sizeof name);
    int ti = de_strmap_get(r->s->task_ix, name);
    long pid = count_field(line, "pid", 2, PID_MAX, 0);
    if (ti < 0)
        return "lchello: no such LC task";
    if (!pid)
        return "lchello: pid missing or out of range";
    run_task *T = &r->tasks[ti];
    if (T->conn >= 0 && r->conns[T->conn].fd >= 0)
        return "lchello: that LC task is already connected";
    snprintf(arg, sizeof arg, "--task %s ", name);
    if (local_peers(r) && !pid_runs(pid, "_lc", r->report, arg))
        return "lchello: the pid is not an LC service this coordinator launched";
    c->task = ti;
    T->conn = (int)(c - r->conns);
    int d = r->s->tasks[ti].device;
    double cores = r->s->catalog->types[r->s->devices[d].type].emulation_cpu_cores * r->st.speed[d];
    if (r->budget == DE_BUDGET_DUTY && r->st.speed[d] != 1.0 && cores > 0) /* a slowdown in force */
        de_wire_send(c->fd, DE_MSG_CORES, "%.9g", cores);
    if (r->st.rate[ti] != r->s->tasks[ti].rate && !r->s->tasks[ti].trace) /* a rate changed before it (re)started */
        de_wire_send(c->fd, DE_MSG_RATE, "%.9g", r->st.rate[ti]);
    const char *cg = r->devs[d].cgroup;
    de_err jerr;
    if (r->netns && cg && de_cgroup_join(cg, (pid_t)pid, &jerr))
        run_event(r, "emulation", "LC service %s not in its device's CPU budget: %s", name, jerr.msg);
    return NULL;
}

static const char *on_lcreq(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    run_task *T = &r->tasks[c->task];
    double lat = field(line, "lat", 0, 1e6), svc = field(line, "svc", 0, 1e6);
    if (isnan(lat) || isnan(svc))
        return "lcreq: latency or service time missing, negative or absurd";
    if (isnan(r->train_start_t)) {
        de_hist_add(&T->alone, lat); /* warm-up: the service alone */
        T->svc_alone_sum += svc;
        return NULL;
    }
    int late = lat > r->s->tasks[c->task].deadline_s;
    T->failed += count_field(line, "fail", 0, 1, 0); /* an observed service's failed request (de_lcwatch.h) */
    T->svc_sum += svc;
    if (r->cor.enabled) {
        de_hist_add(&T->cor, lat);
        T->cor_svc += svc;
        T->cor_n++;
    }
    de_hist_add(&T->all, lat);
    de_hist_add(&T->win, lat);
    T->win_late += late;
    T->n++;
    T->late += late;
    return NULL;
}

static const char *on_lcstat(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    r->tasks[c->task].cpu_s = field(line, "cpu_s", 0, 1e12);
    r->tasks[c->task].rss_kb = count_field(line, "rss_kb", 0, 1L << 40, -1);
    return NULL;
}

static const char *on_lcbye(run *r, run_conn *c, const char *line, double t)
{
    return on_bye(r, c, line, t);
}

static const char *on_lcerror(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    char msg[1024];
    text_of(line, "msg", msg, sizeof msg);
    run_event(r, "lc-error", "%s: %s", r->s->tasks[c->task].name, msg);
    return NULL;
}

/* Rank 0: every rank took the reshare's batches after iteration g - 1 (de_worker.c). */
static const char *on_reshared(run *r, run_conn *c, const char *line, double t)
{
    double g = field(line, "g", (double)r->g_launch + 1, (double)r->g_total);
    if (c->rank != 0 || !r->has_reshare || isnan(g) || rint(g) != g)
        return "reshared: not rank 0, no reshare asked for, or an iteration outside this launch's";
    if (de_wire_num(line, "batch", -1) != r->reshare.shares[0].batch)
        return "reshared: not the batch asked for";
    de_plan_copy(&r->before, &r->plan);
    de_plan_copy(&r->plan, &r->reshare);
    de_plan_evaluate(&r->plan, &r->st, &r->pred, r->s->planner.safety_margin);
    r->has_reshare = 0;
    r->reshare_from = (long)g;
    r->reshares++;
    r->reshare_s_sum += t - r->reshare_t;
    for (int k = 0; k < r->plan.n_shares; k++)
        r->devs[r->plan.shares[k].device].batch = r->plan.shares[k].batch;
    run_event(r, "reshare", "in place from iteration %ld, %.3f s after the decision, no iteration lost", (long)g,
              t - r->reshare_t);
    return NULL;
}

/* A file transfer of --stage: the connection is handed to a child (run_stage.c). */
static const char *on_fetch(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    return run_stage_transfer(r, c, DE_MSG_FETCH, line);
}

static const char *on_put(run *r, run_conn *c, const char *line, double t)
{
    (void)t;
    return run_stage_transfer(r, c, DE_MSG_PUT, line);
}

/* What the coordinator does with each kind it receives; NULL: a kind it only sends. */
static const handler handlers[DE_MSG_COUNT] = {
    [DE_MSG_HELLO] = on_hello,     [DE_MSG_BACKEND] = on_backend, [DE_MSG_ITER] = on_iter,
    [DE_MSG_CKPT] = on_ckpt,       [DE_MSG_CRASH] = on_crash,     [DE_MSG_DONE] = on_done,
    [DE_MSG_BYE] = on_bye,         [DE_MSG_ERROR] = on_error,     [DE_MSG_LCHELLO] = on_lchello,
    [DE_MSG_LCREQ] = on_lcreq,     [DE_MSG_LCSTAT] = on_lcstat,   [DE_MSG_LCBYE] = on_lcbye,
    [DE_MSG_LCERROR] = on_lcerror, [DE_MSG_FETCH] = on_fetch,     [DE_MSG_PUT] = on_put,
    [DE_MSG_RESHARED] = on_reshared,
};

/* A refused line: counted; the first ones logged; a connection over the bound is closed. */
static void refuse(run *r, run_conn *c, const char *why, const char *line)
{
    c->refused++;
    r->refused++;
    run_event(r, "intake", "refused (%s): %.80s", why, line);
    if (c->refused == REFUSED_MAX) {
        run_event(r, "intake", "connection closed after %d refused lines", REFUSED_MAX);
        shutdown(c->fd, SHUT_RDWR);
    }
}

/* A connection that did not prove the run secret: closed and counted, the first ones logged. */
static void refuse_auth(run *r, run_conn *c, const char *why)
{
    r->auth_refused++;
    run_event(r, "auth", "connection closed: %s", why);
    shutdown(c->fd, SHUT_RDWR);
    c->refused = REFUSED_MAX; /* nothing more from it */
}

static void handle_line(run *r, run_conn *c, const char *line)
{
    if (!c->authed) {
        if (c->refused >= REFUSED_MAX)
            return; /* closing */
        if (de_wire_auth_ok(line, r->secret, c->nonce))
            c->authed = 1;
        else
            refuse_auth(r, c, de_wire_msg(line) == DE_MSG_AUTH ? "wrong run secret" : "its first line is no auth");
        return;
    }
    de_msg m = de_wire_msg(line);
    const char *why = NULL;
    /* a hello binds the connection; a fetch or put is its only line */
    int bound = c->rank >= 0 || c->task >= 0,
        first = m == DE_MSG_HELLO || m == DE_MSG_LCHELLO || m == DE_MSG_FETCH || m == DE_MSG_PUT;
    if (m == DE_MSG_COUNT || !handlers[m])
        why = "not a kind the coordinator receives";
    else if (first && bound)
        why = "a second hello (or a transfer) on a bound connection";
    else if (!first && !bound)
        why = "a connection must say hello first";
    else if (!first && de_msg_sender(m) != (c->rank >= 0 ? DE_FROM_WORKER : DE_FROM_LC))
        why = "not a kind this sender may send";
    else
        why = handlers[m](r, c, line, run_rel(r));
    if (why)
        refuse(r, c, why, line);
}

run_conn *run_adopt(run *r, int fd)
{
    int slot = 0; /* the slot of a closed connection, or a new one */
    while (slot < r->n_conns && r->conns[slot].fd >= 0)
        slot++;
    if (slot >= RUN_MAX_CONN) {
        close(fd);
        return NULL;
    }
    if (slot == r->n_conns)
        r->n_conns++;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    run_conn *c = &r->conns[slot];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    de_wire_reader_init(&c->rd);
    c->rank = -1;
    c->task = -1;
    c->launch = r->launch;
    c->opened_t = run_rel(r);
    de_err err;
    if (de_wire_random_hex(c->nonce, DE_WIRE_NONCE_BYTES, &err) || de_wire_send(fd, DE_MSG_CHALLENGE, "nonce=%s", c->nonce)) {
        close(fd);
        c->fd = -1;
        return NULL;
    }
    return c;
}

static void accept_all(run *r)
{
    int fd;
    while ((fd = accept(r->lfd, NULL, NULL)) >= 0)
        run_adopt(r, fd);
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

static void close_conn(run *r, run_conn *c)
{
    /* The first worker to vanish without saying goodbye is the failed one. */
    if (c->rank >= 0 && c->launch == r->launch && !c->bye && r->fail_dev < 0 && c->rank < r->plan.n_shares) {
        r->fail_dev = r->plan.shares[c->rank].device;
        if (isnan(r->lost_t))
            r->lost_t = run_rel(r);
    }
    if (c->task >= 0 && r->tasks[c->task].conn == (int)(c - r->conns))
        r->tasks[c->task].conn = -1; /* the slot may serve another connection */
    close(c->fd);
    c->fd = -1;
}

/* Reads a connection until it would block (or has sent its share), handling each line. */
static void read_conn(run *r, run_conn *c)
{
    for (;;) {
        char *line;
        int k = de_wire_next(&c->rd, c->fd, &line);
        if (k == DE_WIRE_LINE)
            handle_line(r, c, line);
        else if (k == DE_WIRE_LONG && !c->authed)
            refuse_auth(r, c, "an over-long first line");
        else if (k == DE_WIRE_LONG)
            refuse(r, c, "a line over 8 KiB", "");
        else if (k == DE_WIRE_CLOSED)
            close_conn(r, c);
        if (k == DE_WIRE_NONE || c->fd < 0)
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
    int ready = poll(pf, (nfds_t)n, timeout_ms);
    double now = run_rel(r);
    for (int i = 0; i < r->n_conns; i++) { /* silent strangers do not keep a slot */
        run_conn *c = &r->conns[i];
        if (c->fd >= 0 && !c->authed && c->refused < REFUSED_MAX && now - c->opened_t > r->o->auth_timeout_s)
            refuse_auth(r, c, "no auth in time (--auth-timeout)");
    }
    if (ready <= 0)
        return;
    if (pf[0].revents)
        accept_all(r);
    if (pf[1].revents)
        run_serve_metrics(r);
    for (int k = 2; k < n; k++)
        if (pf[k].revents)
            read_conn(r, &r->conns[map[k]]);
}
