/* run_main.c — the coordinator of `deepedge run` (de_run.h): open, the main loop, close;
 * the concerns live in the run_*.c files listed in run_internal.h. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_replan.h"
#include "de_util.h"
#include "de_worker.h"
#include "run_internal.h"

static volatile int run_signals;

static void on_signal(int sig)
{
    (void)sig;
    run_signals++;
}

void de_run_opts_default(de_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->out_dir = "out/run";
    o->emulate = "auto";
    o->links = "pad";
    o->lc_warmup_s = 2.0;
    o->window_s = 1.0;
    o->max_restarts = 3;
    o->auth_timeout_s = 10;
    o->stall_timeout_s = DE_STALL_TIMEOUT_S;
    o->plots = 1;
    o->correction = -1;
}

void run_init(run *r, const de_run_opts *o, FILE *out)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->out = out;
    r->lfd = r->mfd = -1;
    r->t0 = de_now_s();
    r->fail_t = r->lost_t = r->train_start_t = NAN;
    r->val_acc = r->val_loss = r->last_loss = NAN;
    r->conns = de_calloc(RUN_MAX_CONN, sizeof *r->conns);
    r->events = cJSON_CreateArray();
    r->recoveries = cJSON_CreateArray();
    r->tty = isatty(2);
    de_plan_init(&r->plan);
    de_plan_init(&r->pending);
    de_plan_init(&r->reshare);
    de_plan_init(&r->before);
    run_signals = 0;
}

void run_free(run *r)
{
    free(r->inbox);
    for (int i = 0; i < r->n_conns; i++)
        if (r->conns[i].fd >= 0)
            close(r->conns[i].fd);
    if (r->lfd >= 0)
        close(r->lfd);
    if (r->mfd >= 0)
        close(r->mfd);
    for (int ti = 0; r->s && r->tasks && ti < r->s->n_tasks; ti++) {
        de_hist_free(&r->tasks[ti].all);
        de_hist_free(&r->tasks[ti].alone);
        de_hist_free(&r->tasks[ti].win);
        de_hist_free(&r->tasks[ti].cor);
        free(r->tasks[ti].log);
    }
    if (r->st.scen)
        de_state_free(&r->st);
    run_close_outputs(r);
    for (int i = 0; i < r->n_decisions; i++)
        free(r->decision_line[i]);
    free(r->decision_line);
    free(r->decision_t);
    free(r->conns);
    free(r->changes);
    free(r->fired);
    free(r->tasks);
    free(r->devs);
    free(r->it_start);
    free(r->it_end);
    free(r->it_compute);
    free(r->it_allreduce);
    de_correct_free(&r->cor);
    free(r->it_ranks);
    de_plan_free(&r->plan);
    de_plan_free(&r->pending);
    de_plan_free(&r->reshare);
    de_plan_free(&r->before);
    cJSON_Delete(r->events);
    cJSON_Delete(r->recoveries);
    free(r->exe);
    free(r->cache);
    free(r->run_id);
    free(r->cg_run);
    free(r->ns_args);
    free(r->plan_path);
    free(r->resume);
    free(r->xfers);
    de_stage_free(&r->stage);
    de_scenario_destroy(r->s);
}

/* What coordinators that died (SIGKILL, a power cut) left behind: their cgroups, network
 * namespaces, and temporary files of interrupted writes in this output folder. */
static int run_sweep(run *r)
{
    int cg = de_cgroup_sweep(), ns = run_netns_sweep(r), tmp = 0;
    static const char *const files[] = {DE_RUN_CKPT, DE_RUN_WEIGHTS, "summary.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = de_path_join(r->o->out_dir, files[i]);
        tmp += de_remove_stale_tmp(p);
        free(p);
    }
    if (cg || ns || tmp)
        run_event(r, "cleanup", "left by coordinators that died: %d cgroup run(s), %d namespace set(s) and %d "
                  "temporary file(s) removed", cg, ns, tmp);
    return cg + ns + tmp;
}

int de_run_cleanup(const de_run_opts *o, FILE *out, de_err *err)
{
    run R, *r = &R;
    de_run_opts quiet = *o;
    quiet.quiet = 1; /* the one line below says it */
    run_init(r, &quiet, NULL);
    int rc = DE_OK;
    if (de_mkdir_p(o->out_dir) != 0)
        rc = de_err_set(err, DE_EIO, "%s: cannot create the output folder", o->out_dir);
    int n = rc ? 0 : run_sweep(r);
    if (!rc && out) {
        const cJSON *e = cJSON_GetArrayItem(r->events, 0);
        fprintf(out, "%s\n", n ? cJSON_GetStringValue(cJSON_GetObjectItem(e, "detail"))
                              : "nothing left by coordinators that died");
    }
    run_free(r);
    return rc;
}

/* Everything that starts no process and opens no port: the scenario, the options, the
 * output files, the plan, the dataset cache. */
int run_open(run *r, de_err *err)
{
    const de_run_opts *o = r->o;
    int rc = de_scenario_load(o->scenario, NULL, &r->s, err);
    if (!rc)
        rc = run_check_opts(r, err);
    if (rc)
        return rc;
    if ((rc = de_wire_random_hex(r->secret, DE_WIRE_SECRET_BYTES, err)))
        return rc;
    const de_scenario *s = r->s;
    r->tasks = de_calloc((size_t)s->n_tasks + 1, sizeof *r->tasks);
    r->devs = de_calloc((size_t)s->n_devices + 1, sizeof *r->devs);
    for (int ti = 0; ti < s->n_tasks; ti++) {
        de_hist_init(&r->tasks[ti].all);
        de_hist_init(&r->tasks[ti].alone);
        de_hist_init(&r->tasks[ti].win);
        de_hist_init(&r->tasks[ti].cor);
        r->tasks[ti].conn = -1;
    }
    for (int d = 0; d < s->n_devices; d++) {
        r->devs[d].rank = -1;
        r->devs[d].down_since = NAN;
    }
    if ((rc = run_open_outputs(r, err)) || (rc = run_load_plan(r, err)))
        return rc;
    if (r->out) {
        de_plan_print(&r->plan, &r->st, r->out);
        fflush(r->out);
    }
    if ((rc = run_prepare_dataset(r, err)))
        return rc;
    r->it_start = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_end = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_compute = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_allreduce = de_calloc((size_t)r->g_total + 1, sizeof(double));
    r->it_ranks = de_calloc((size_t)r->g_total + 1, sizeof(int));
    run_arm_changes(r);
    return DE_OK;
}

/* Children from here on: CPU budgets, the first plan file, the LC services and their
 * warm-up alone, then the first launch of the workers. */
static int run_start(run *r, de_err *err)
{
    const de_scenario *s = r->s;
    run_sweep(r);
    int rc = run_setup_budgets(r, err);
    if (!rc)
        rc = run_write_plan(r, 0, err);
    if (rc)
        return rc;
    r->resume = r->o->resume ? de_strdup(r->o->resume) : NULL;
    if ((rc = run_stage_manifest(r, err))) /* the LC services fetch the scenario too */
        return rc;
    run_event(r, "plan", "%s: %d devices, predicted iteration %.0f ms, re-training %.0f s, %s",
              de_policy_name(r->plan.policy), r->plan.n_shares, 1e3 * r->plan.iteration_time_s,
              r->plan.retraining_time_s, r->plan.feasible ? "every deadline kept" : "NOT feasible (see plan-0.cfg)");
    for (int ti = 0; !rc && ti < s->n_tasks; ti++)
        rc = run_start_lc(r, ti, err);
    /* Every LC service up (through mpiexec on a remote host this takes a moment), then the
     * warm-up: the services alone, their latency without training next to them. */
    double up_by = de_now_s() + 30.0;
    for (;;) {
        int waiting = 0;
        for (int ti = 0; ti < s->n_tasks; ti++)
            waiting += r->tasks[ti].conn < 0;
        if (rc || !waiting || run_signals)
            break;
        if (de_now_s() > up_by) {
            run_event(r, "lc-error", "%d LC service(s) not connected after 30 s (see OUT/lc-*.log); training starts anyway",
                      waiting);
            break;
        }
        run_pump(r, 20);
        run_supervise_lc(r);
        run_stage_reap(r);
    }
    double warm_end = de_now_s() + r->o->lc_warmup_s;
    while (!rc && de_now_s() < warm_end && !run_signals)
        run_pump(r, 20);
    r->win_start = r->cor_start = run_rel(r);
    if (rc || run_signals)
        return rc;
    r->train_start_t = run_rel(r);
    return run_launch(r, err);
}

/* A hung worker (a host that vanished without closing its connections, a deadlock)
 * stops the iterations without ending mpiexec: after --stall-timeout without progress
 * the device that reported least recently is taken as lost. */
static void check_stalls(run *r, double now)
{
    const de_run_opts *o = r->o;
    if (!(o->stall_timeout_s > 0) || r->mpi_pid <= 0)
        return;
    if (!isnan(r->first_iter_t) && r->fail_dev < 0 && r->crashed_dev < 0 &&
        now - fmax(r->progress_t, r->first_iter_t) > o->stall_timeout_s) {
        int worst = -1;
        for (int d = 0; d < r->s->n_devices; d++)
            if (r->devs[d].rank >= 0 && (worst < 0 || r->devs[d].last_g < r->devs[worst].last_g))
                worst = d;
        if (worst >= 0) {
            run_event(r, "stall", "no iteration for %.0f s: device %s (last at iteration %ld) taken as lost",
                      o->stall_timeout_s, r->s->devices[worst].name, r->devs[worst].last_g);
            r->fail_dev = worst;
            kill(-r->mpi_pid, SIGKILL);
        }
    }
    if (isnan(r->first_iter_t) && !r->killed_stalled && now - r->launch_t > o->stall_timeout_s) {
        run_event(r, "stall", "the workers did not reach their first iteration in %.0f s (%d of %d connected)",
                  o->stall_timeout_s, r->rank_up, r->plan.n_shares);
        r->killed_stalled = 1;
        kill(-r->mpi_pid, SIGKILL);
    }
}

/* Ctrl-C: the workers checkpoint and stop; twice: they are killed. */
static void handle_signals(run *r, int *interrupted)
{
    if (run_signals && !*interrupted) {
        *interrupted = 1;
        run_event(r, "interrupt", "stopping: the workers checkpoint and exit (again to kill them)");
        if (r->mpi_pid > 0 && !run_rank_conn(r, 0) && !r->stop_delivered)
            kill(-r->mpi_pid, SIGTERM); /* not started yet: nothing to checkpoint */
        r->stop = RUN_STOP_USER;
        r->waiting = 0;
    } else if (run_signals > 1 && r->mpi_pid > 0) {
        kill(-r->mpi_pid, SIGKILL);
    }
    if (r->stop != RUN_STOP_NONE && !r->stop_delivered) {
        run_conn *c = run_rank_conn(r, 0);
        if (c) {
            de_wire_send(c->fd, DE_MSG_STOP, "%s", "");
            r->stop_delivered = 1;
        }
    }
}

/* Until the job completes, is interrupted or fails for good. */
static int run_loop(run *r, int *completed, int *interrupted, de_err *err)
{
    int rc = DE_OK;
    while (!rc && (r->mpi_pid > 0 || r->waiting)) {
        run_pump(r, 50);
        double now = run_rel(r);
        if (now - r->cor_start >= DE_CORRECT_PERIOD_S) { /* as sim does, whatever the window */
            run_correct(r);
            r->cor_start = now;
        }
        if (now - r->win_start >= r->o->window_s)
            run_window_flush(r, now);
        run_read_inbox(r);
        run_apply_due_changes(r);
        run_supervise_lc(r);
        run_stage_reap(r);
        check_stalls(r, now);
        run_draw(r);
        if (r->plan_error[0]) {
            rc = de_err_set(err, DE_EIO, "the policy could not plan after a change: %s", r->plan_error);
            break;
        }
        handle_signals(r, interrupted);
        if (r->waiting) {
            if (*interrupted)
                break;
            rc = run_wait_for_plan(r, err);
            continue;
        }
        int status;
        if (waitpid(r->mpi_pid, &status, WNOHANG) != r->mpi_pid)
            continue;
        r->mpi_pid = 0;
        for (int k = 0; k < 20; k++)
            run_pump(r, 10); /* the last lines in flight */
        if (*interrupted && !(WIFEXITED(status) && WEXITSTATUS(status) == 0 && r->done)) {
            run_event(r, "stopped", "at iteration %ld; checkpoint %s/%s kept (deepedge run ... --resume it)",
                      r->g_done, r->o->out_dir, DE_RUN_CKPT);
            break;
        }
        rc = run_after_launch(r, status, completed, err);
        if (*completed)
            break;
    }
    return rc;
}

int de_run(const de_run_opts *o, FILE *out, cJSON **summary, de_err *err)
{
    *summary = NULL;
    run R, *r = &R;
    run_init(r, o, out);
    int rc = run_open(r, err);
    if (!rc)
        rc = run_listen(r, err);
    /* From here on children may exist: every exit goes through run_stop_children. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (!rc)
        rc = run_start(r, err);
    int completed = 0, interrupted = run_signals > 0;
    if (!rc && !interrupted)
        rc = run_loop(r, &completed, &interrupted, err);
    double train_s = isnan(r->train_start_t) ? 0 : run_rel(r) - r->train_start_t;
    if (r->tty && !o->quiet)
        fputs("\r\033[J", stderr);
    run_stop_children(r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (r->f_events && !isnan(r->train_start_t)) { /* the summary, also of a run that failed */
        de_err ferr;
        int frc = run_finish(r, train_s, completed, interrupted, rc != 0, summary, &ferr);
        if (!rc && frc) {
            rc = frc;
            *err = ferr;
        }
    }
    run_free(r);
    return rc;
}
