/* run_proc.c — the processes `deepedge run` starts: the workers through mpiexec (one
 * launch per plan), the LC services and their supervision, and stopping them all
 * (run_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_util.h"
#include "de_wire.h"
#include "de_worker.h"
#include "run_internal.h"

#ifndef DE_MPIEXEC
#define DE_MPIEXEC "mpiexec"
#endif

/* Starts argv as a child in its own process group (terminal signals reach only the
 * coordinator, which stops the children in order), output to log. */
pid_t run_spawn(char *const argv[], const char *log, de_err *err)
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
void run_stop_child(pid_t pid, int sig, double grace)
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

/* An option naming a file of the coordinator's (absolute under --stage: run_stage_arg). */
static void arg_file(const run *r, argl *l, const char *opt, const char *path)
{
    char *p = run_stage_arg(r, path);
    arg(l, opt);
    arg(l, p);
    free(p);
}

/* Under --stage: where the process keeps the files it fetches, and the catalog it reads. */
static void arg_stage(const run *r, argl *l)
{
    if (!r->o->stage_dir)
        return;
    arg(l, "--stage");
    arg(l, r->o->stage_dir);
    arg_file(r, l, "--catalog", r->s->catalog_dir);
}

/* Appends the space-separated words of s (NULL: none). */
static void arg_words(argl *l, const char *s)
{
    while (s && *s) {
        size_t k = strcspn(s, " ");
        if (k) {
            char *w = de_sprintf("%.*s", (int)k, s);
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
    arg(l, "-x");
    arg(l, DE_RUN_SECRET_ENV); /* the value travels in mpiexec's environment, not on a command line */
    arg_words(l, r->o->mpi_args);
}

/* ---- LC services ---- */

int run_start_lc(run *r, int ti, de_err *err)
{
    const de_lc_task *t = &r->s->tasks[ti];
    run_task *T = &r->tasks[ti];
    char seed[32], host[256];
    snprintf(seed, sizeof seed, "%d", r->launch + 1);
    argl l = {0};
    if (placed(r)) { /* on its device's host, through mpiexec (the rsh agent reaches the host) */
        host_of(r, t->device, host, sizeof host);
        mpiexec_globals(r, &l);
        arg(&l, "-n");
        arg(&l, "1");
        arg(&l, "--host");
        arg(&l, host);
    }
    arg(&l, r->exe);
    arg(&l, "_lc");
    arg_file(r, &l, "--scenario", r->s->path);
    arg_stage(r, &l);
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
    T->conn = -1;
    T->pid = run_spawn(l.v, T->log, err);
    argl_free(&l);
    return T->pid < 0 ? DE_EIO : DE_OK;
}

/* LC services are supervised: one that dies on its own (not with its device) is reported
 * with the end of its log and restarted, at most 3 times. */
void run_supervise_lc(run *r)
{
    for (int ti = 0; ti < r->s->n_tasks; ti++) {
        run_task *T = &r->tasks[ti];
        int status;
        if (T->pid <= 0 || waitpid(T->pid, &status, WNOHANG) != T->pid)
            continue;
        T->pid = 0;
        char tail[400];
        run_tail_of(T->log, tail, sizeof tail);
        for (char *p = tail; *p; p++)
            if (*p == '\n')
                *p = ' ';
        const char *name = r->s->tasks[ti].name;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (T->restarts >= 3) {
            run_event(r, "lc-exit", "%s exited (status %d), not restarted again: %s", name, code, tail);
            continue;
        }
        T->restarts++;
        de_err e2;
        run_event(r, "lc-exit", "%s exited (status %d): %s; restarting it (%d of 3)", name, code, tail, T->restarts);
        if (run_start_lc(r, ti, &e2))
            run_event(r, "lc-error", "%s: %s", name, e2.msg);
    }
}

/* A device is lost: its LC services stop with it (through mpiexec when placed on a host). */
void run_stop_device_lc(run *r, int d)
{
    const de_scenario *s = r->s;
    double now = run_rel(r);
    for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++) {
        int ti = s->dev_tasks[k];
        run_task *T = &r->tasks[ti];
        run_stop_child(T->pid, SIGTERM, 0.5);
        T->pid = 0;
        T->down = 1;
        T->dropped_until = now;
    }
}

/* ---- the workers ---- */

/* The all-reduce time the link model predicts for the running plan: what `--links pad`
 * pads each all-reduce to. */
double run_pad_seconds(const run *r)
{
    if (r->plan.n_shares < 2)
        return 0;
    int *devs = de_calloc((size_t)r->plan.n_shares, sizeof(int));
    for (int k = 0; k < r->plan.n_shares; k++)
        devs[k] = r->plan.shares[k].device;
    double bytes = r->s->catalog->networks[r->s->jobs[r->job].network].gradient_bytes;
    double t = r->pred.ops->allreduce_time(r->pred.ctx, &r->st, devs, r->plan.n_shares, bytes);
    free(devs);
    return t;
}


/* The earliest iteration-triggered crash of a device of the plan not yet fired: the
 * worker of that device kills itself right before that iteration (exactly there, as
 * sim applies it), so the loss is the same in both. -1: none. */
static int pending_crash(const run *r)
{
    int best = -1;
    for (int i = 0; i < r->n_changes; i++) {
        const de_change *c = &r->changes[i];
        if (r->fired[i] || c->kind != DE_CHANGE_CRASH || c->iteration <= r->g_done || r->devs[c->target].rank < 0)
            continue;
        if (best < 0 || c->iteration < r->changes[best].iteration)
            best = i;
    }
    return best;
}

/* The worker's own command line, the same for every rank. */
static void worker_args(run *r, argl *w)
{
    const de_run_opts *o = r->o;
    arg(w, r->exe);
    arg(w, "_worker");
    arg_file(r, w, "--scenario", r->s->path);
    arg_file(r, w, "--plan", r->plan_path);
    arg_file(r, w, "--cache", r->cache);
    arg_file(r, w, "--out", o->out_dir);
    arg(w, "--report");
    arg(w, r->report);
    if (r->resume)
        arg_file(r, w, "--resume", r->resume);
    arg_stage(r, w);
    if (r->cg_run && !placed(r)) {
        arg(w, "--cgroup");
        arg(w, r->cg_run);
    } else if (r->budget == DE_BUDGET_DUTY) {
        arg(w, "--duty");
    }
    if (strcmp(o->links, "pad") == 0 && !o->hostfile && !placed(r)) {
        char pad[64];
        snprintf(pad, sizeof pad, "%.9g", run_pad_seconds(r));
        arg(w, "--pad");
        arg(w, pad);
    }
    int c = pending_crash(r);
    if (c >= 0) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s@%ld", r->s->devices[r->changes[c].target].name, r->changes[c].iteration);
        arg(w, "--crash");
        arg(w, buf);
    }
}

/* Starts the workers of r->plan (plan file r->plan_path, from checkpoint r->resume). */
int run_launch(run *r, de_err *err)
{
    const de_run_opts *o = r->o;
    char buf[256];
    for (int d = 0; d < r->s->n_devices; d++) {
        r->devs[d].rank = -1;
        r->devs[d].last_g = -1;
    }
    for (int k = 0; k < r->plan.n_shares; k++) {
        r->devs[r->plan.shares[k].device].rank = k;
        r->devs[r->plan.shares[k].device].capacity = DE_WORKER_CAPACITY(r->plan.shares[k].batch);
    }
    r->has_reshare = 0; /* a reshare not taken by the last launch's workers: the new plan replaces it */
    r->reshare_from = 0;
    int rc = run_stage_manifest(r, err);
    if (rc)
        return rc;
    argl w = {0}, l = {0};
    worker_args(r, &w);
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
    snprintf(buf, sizeof buf, "mpiexec-%d.log", r->launch);
    char *log = de_path_join(o->out_dir, buf);
    char *cmd = argl_join(&l); /* for the record (and to rerun a rank by hand) */
    run_event(r, "launch", "%d: %s", r->launch, cmd);
    free(cmd);
    r->rank_up = 0;
    r->killed_stalled = 0;
    r->done = r->stopped = r->done_seen = 0;
    r->crashed_dev = r->fail_dev = -1;
    r->stop = RUN_STOP_NONE;
    r->stop_delivered = 0;
    r->launch_t = run_rel(r);
    r->first_iter_t = NAN;
    r->lost_t = NAN;
    r->g_launch = r->g_done;
    r->mpi_pid = run_spawn(l.v, log, err);
    free(log);
    argl_free(&l);
    return r->mpi_pid < 0 ? DE_EIO : DE_OK;
}

/* Stops every child in order: the workers, then the LC services (a polite stop, then
 * SIGTERM, then SIGKILL); removes the namespaces and the cgroups. */
void run_stop_children(run *r)
{
    if (!r->s || !r->tasks)
        return;
    if (r->mpi_pid > 0)
        run_stop_child(r->mpi_pid, SIGTERM, 3.0);
    run_stage_stop(r);
    r->mpi_pid = 0;
    for (int ti = 0; ti < r->s->n_tasks; ti++)
        if (r->tasks[ti].pid > 0)
            run_send_task(r, ti, DE_MSG_STOP, "%s", "");
    double end = de_now_s() + 2.0;
    for (;;) {
        int alive = 0;
        for (int ti = 0; ti < r->s->n_tasks; ti++) {
            run_task *T = &r->tasks[ti];
            if (T->pid > 0 && waitpid(T->pid, NULL, WNOHANG) == 0)
                alive++;
            else
                T->pid = 0;
        }
        if (!alive || de_now_s() > end)
            break;
        run_pump(r, 20);
    }
    for (int ti = 0; ti < r->s->n_tasks; ti++)
        if (r->tasks[ti].pid > 0) {
            run_stop_child(r->tasks[ti].pid, SIGTERM, 1.0);
            r->tasks[ti].pid = 0;
        }
    run_netns_down(r);
    for (int d = 0; d < r->s->n_devices; d++)
        if (r->devs[d].cgroup) {
            de_cgroup_remove(r->devs[d].cgroup);
            free(r->devs[d].cgroup);
            r->devs[d].cgroup = NULL;
        }
}
