/* run_stage.c — `run --stage DIR`: the coordinator's side of staging files to hosts that
 * share no storage with it (exec/de_stage.h); run_internal.h.
 *
 * Each launch has a manifest of the files its processes read. A process on a host asks
 * for the manifest and the files it lacks, each on a connection of its own (`fetch`);
 * rank 0 sends its checkpoints and final weights back (`put`). Each such connection is
 * handed to a child process, which moves the bytes while the coordinator's loop goes on;
 * a put child answers only once the file is checked and renamed into the output folder. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_util.h"
#include "run_internal.h"

#define XFER_MAX 64 /* transfers at once */

int run_stage_manifest(run *r, de_err *err)
{
    if (!r->o->stage_dir)
        return DE_OK;
    const de_scenario *s = r->s;
    de_stage_begin(&r->stage);
    int rc = DE_OK;
    for (int i = 0; i < s->n_inputs && !rc; i++)
        rc = de_stage_add(&r->stage, s->inputs[i], err);
    for (int i = 0; i < s->catalog->n_files && !rc; i++)
        rc = de_stage_add(&r->stage, s->catalog->files[i], err);
    if (!rc)
        rc = de_stage_add(&r->stage, r->plan_path, err);
    if (!rc && r->cache)
        rc = de_stage_add(&r->stage, r->cache, err);
    if (!rc && r->resume)
        rc = de_stage_add(&r->stage, r->resume, err);
    if (rc)
        return rc;
    char before[65];
    snprintf(before, sizeof before, "%s", r->stage.text_sha);
    de_stage_end(&r->stage);
    if (strcmp(before, r->stage.text_sha) == 0)
        return DE_OK; /* the same files as before */
    long long bytes = 0;
    int n = 0;
    for (int i = 0; i < r->stage.n; i++)
        if (r->stage.e[i].listed) {
            n++;
            bytes += r->stage.e[i].size;
        }
    run_event(r, "stage", "launch %d: %d files, %lld bytes, staged into %s on each host", r->launch, n, bytes,
              r->o->stage_dir);
    return DE_OK;
}

char *run_stage_arg(const run *r, const char *path)
{
    return r->o->stage_dir ? de_stage_abs(path) : de_strdup(path);
}

/* A put is rank 0's, of a step of the running launch: the checks of a `ckpt` line. */
static const char *put_refused(const run *r, const char *line, long *g)
{
    char name[64];
    if (!de_wire_get(line, "name", name, sizeof name) || !de_stage_put_name_ok(name))
        return "put: not a file rank 0 sends (checkpoint.deckpt, model.weights)";
    double v = de_wire_num(line, "g", NAN);
    if (r->mpi_pid <= 0)
        return "put: no launch is running";
    if (!(v >= (double)r->g_launch && v <= (double)r->g_total) || rint(v) != v)
        return "put: a step outside the running launch";
    *g = (long)v;
    return NULL;
}

const char *run_stage_transfer(run *r, run_conn *c, de_msg m, const char *line)
{
    if (!r->o->stage_dir)
        return "a transfer, but this run stages nothing (no --stage)";
    long g = -1;
    const char *why = m == DE_MSG_PUT ? put_refused(r, line, &g) : NULL;
    if (why)
        return why;
    if (r->n_xfers >= XFER_MAX)
        return "too many transfers at once";
    char what[96], sha[80];
    long long bytes = -1;
    if (m == DE_MSG_PUT) {
        de_wire_get(line, "name", what, sizeof what);
        bytes = (long long)de_wire_num(line, "size", -1);
    } else if (de_wire_get(line, "sha", sha, sizeof sha)) {
        const de_stage_entry *e = de_stage_find(&r->stage, sha);
        snprintf(what, sizeof what, "%s", e ? e->path : "a file not in the manifest");
        bytes = e ? e->size : -1;
    } else {
        snprintf(what, sizeof what, "the manifest");
        bytes = r->stage.text ? (long long)strlen(r->stage.text) : 0;
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        run_event(r, "stage", "fork: %s", strerror(errno));
        return "the coordinator cannot fork a transfer";
    }
    if (pid == 0) { /* the child: owns the connection, moves the bytes, exits */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_DFL);
        de_err err;
        int rc = m == DE_MSG_PUT ? de_stage_serve_put(c->fd, &c->rd, line, r->o->out_dir, &err)
                                 : de_stage_serve_fetch(&r->stage, c->fd, line, &err);
        if (rc)
            fprintf(stderr, "deepedge run: transfer %s: %s\n", what, err.msg);
        _exit(rc ? 1 : 0);
    }
    r->xfers = de_realloc(r->xfers, (size_t)(r->n_xfers + 1) * sizeof *r->xfers);
    run_xfer *x = &r->xfers[r->n_xfers++];
    x->pid = pid;
    x->put = m == DE_MSG_PUT;
    x->g = g;
    x->bytes = bytes;
    x->t0 = run_rel(r);
    snprintf(x->what, sizeof x->what, "%s", what);
    close(c->fd); /* the child's now */
    c->fd = -1;
    return NULL;
}

static void xfer_ended(run *r, int i, int status)
{
    run_xfer *x = &r->xfers[i];
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    double s = run_rel(r) - x->t0;
    if (!ok)
        r->staged.failed++;
    else if (x->put) {
        r->staged.received++;
        r->staged.received_bytes += x->bytes;
    } else if (strcmp(x->what, "the manifest") == 0) {
        r->staged.manifests++;
    } else {
        r->staged.sent++;
        r->staged.sent_bytes += x->bytes;
    }
    if (x->put)
        run_event(r, "stage", "%s of step %ld %s rank 0 in %.3f s", x->what, x->g, ok ? "received from" : "NOT received from", s);
    else if (!ok)
        run_event(r, "stage", "sending %s failed after %.3f s (the coordinator's stderr says why)", x->what, s);
    r->xfers[i] = r->xfers[--r->n_xfers];
}

void run_stage_reap(run *r)
{
    for (int i = 0; i < r->n_xfers;) {
        int status;
        if (waitpid(r->xfers[i].pid, &status, WNOHANG) == r->xfers[i].pid)
            xfer_ended(r, i, status);
        else
            i++;
    }
}

void run_stage_stop(run *r)
{
    run_stage_reap(r);
    while (r->n_xfers > 0) { /* the run is over: what is still moving is not needed */
        kill(r->xfers[0].pid, SIGKILL);
        int status;
        while (waitpid(r->xfers[0].pid, &status, 0) < 0 && errno == EINTR)
            ;
        run_event(r, "stage", "%s: stopped with the run", r->xfers[0].what);
        r->xfers[0] = r->xfers[--r->n_xfers];
    }
    free(r->xfers);
    r->xfers = NULL;
    de_stage_free(&r->stage);
}
