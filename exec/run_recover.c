/* run_recover.c — changes of the world during `deepedge run`, through core's change table
 * and re-plan rule (core/de_replan.h), exactly as `deepedge sim` handles them; and what
 * carrying a decision out means for real processes: a switch stops the workers at a
 * checkpoint and relaunches them on the new plan, a loss relaunches them from the last
 * checkpoint (run_internal.h). */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_net.h"
#include "de_util.h"
#include "de_wire.h"
#include "de_worker.h"
#include "run_internal.h"

/* ---- the changes of this run ---- */

/* The scenario's changes, then --inject's, then the rows of the LC tasks' rate traces
 * (the services follow their traces themselves; the coordinator's state follows too).
 * Times count from the start of training. */
void run_arm_changes(run *r)
{
    const de_scenario *s = r->s;
    int n = s->n_changes + r->o->n_inject;
    for (int t = 0; t < s->n_tasks; t++)
        n += s->tasks[t].trace ? s->tasks[t].trace->n : 0;
    r->changes = de_calloc((size_t)n + 1, sizeof *r->changes);
    r->fired = de_calloc((size_t)n + 1, 1);
    for (int i = 0; i < s->n_changes; i++)
        r->changes[r->n_changes++] = s->changes[i];
    for (int i = 0; i < r->o->n_inject; i++) {
        de_err err; /* checked by run_check_opts */
        if (de_change_parse_spec(r->o->inject[i], s, &r->changes[r->n_changes], &err) == DE_OK)
            r->n_changes++;
    }
    for (int t = 0; t < s->n_tasks; t++) {
        const de_rate_trace *tr = s->tasks[t].trace;
        for (int row = 0; tr && row < tr->n; row++)
            if (tr->time_s[row] > 0) {
                de_change *c = &r->changes[r->n_changes++];
                de_change_init(c, DE_CHANGE_LC_RATE, t, tr->rate[row], "rate trace");
                c->time_s = tr->time_s[row];
            }
    }
}

/* ---- the operator's inbox ----
 * OUT/inbox: lines in --inject syntax that an operator appends while the run goes on
 * (`deepedge admit DEVICE`, `deepedge inject SPEC`); without `@WHEN` a change is due now.
 * Who may write it is who may write the output folder. Each complete new line is parsed
 * against the scenario, armed like the scenario's changes and goes through the same
 * re-plan rule; a line that does not parse is refused with the reason (events). */
/* A change the run itself learnt of (the operator's, the correction's): armed, fired when due. */
static int arm(run *r, const de_change *c)
{
    r->changes = de_realloc(r->changes, (size_t)(r->n_changes + 1) * sizeof *r->changes);
    r->fired = de_realloc(r->fired, (size_t)(r->n_changes + 1));
    r->changes[r->n_changes] = *c;
    r->fired[r->n_changes] = 0;
    return r->n_changes++;
}

void run_read_inbox(run *r)
{
    if (!r->inbox)
        return;
    FILE *f = fopen(r->inbox, "r");
    if (!f)
        return;
    char line[512];
    if (fseeko(f, (off_t)r->inbox_pos, SEEK_SET) == 0)
        while (fgets(line, sizeof line, f)) {
            size_t len = strlen(line);
            if (line[len - 1] != '\n') {
                if (len < sizeof line - 1)
                    break; /* not complete yet: read again next time */
                run_event(r, "inbox", "refused: a line over %zu bytes", sizeof line - 2);
                int ch;
                while ((ch = fgetc(f)) != EOF && ch != '\n')
                    len++;
                r->inbox_pos += (long long)len + 1;
                continue;
            }
            r->inbox_pos += (long long)len;
            line[len - 1] = '\0';
            if (!line[strspn(line, " \t\r")])
                continue;
            char spec[600];
            snprintf(spec, sizeof spec, "%s%s", line, strchr(line, '@') ? "" : "@0s");
            de_change c;
            de_err err;
            if (de_change_parse_spec(spec, r->s, &c, &err)) {
                run_event(r, "inbox", "refused '%s': %s", line, err.msg);
                continue;
            }
            snprintf(c.origin, sizeof c.origin, "operator");
            arm(r, &c);
            run_event(r, "inbox", "accepted '%s'", line);
        }
    fclose(f);
}

/* ---- relaunching ---- */

static int copy_file(const char *from, const char *to, de_err *err)
{
    size_t n;
    char *data = de_file_read(from, &n);
    if (!data)
        return de_err_set(err, DE_EIO, "%s: cannot read", from);
    int rc = de_file_write_atomic(to, data, n, err);
    free(data);
    return rc;
}

/* Continues the job on r->plan from the last checkpoint (kept as recovery-K.deckpt; none
 * before the first checkpoint: from the start), after a loss, a switch or a wait; rec
 * goes into the summary's recoveries. */
static int relaunch(run *r, cJSON *rec, de_err *err)
{
    const de_job *j = &r->s->jobs[r->job];
    cJSON_AddItemToArray(r->recoveries, rec);
    double t0 = de_now_s();
    r->st.samples_done[r->job] = fmin((double)r->g_ckpt * j->global_batch, (double)j->dataset_size * j->epochs);
    de_plan_evaluate(&r->plan, &r->st, &r->pred, r->s->planner.safety_margin);
    int rc = run_write_plan(r, r->launch + 1, err);
    r->plan_s += de_now_s() - t0;
    if (rc)
        return rc;
    free(r->resume);
    r->resume = NULL;
    if (r->g_ckpt > 0) {
        char *ck = de_path_join(r->o->out_dir, DE_RUN_CKPT);
        r->resume = de_sprintf("%s/recovery-%d.deckpt", r->o->out_dir, r->launch + 1);
        rc = copy_file(ck, r->resume, err);
        free(ck);
        if (rc)
            return rc;
    }
    for (long k = r->g_ckpt; k < r->g_total; k++) /* redone */
        r->it_ranks[k] = 0, r->it_compute[k] = 0, r->it_end[k] = 0;
    r->g_done = r->g_ckpt;
    r->restarts++;
    r->launch++;
    return run_launch(r, err);
}

/* ---- decisions ---- */

/* The rule on change c (NULL: the waiting job asks to start), recorded; returns the
 * decision (the caller frees it). */
static void decide(run *r, const de_change *c, long iteration, de_decision *d)
{
    const de_plan *next = r->has_pending ? &r->pending : r->has_reshare ? &r->reshare : NULL;
    de_replan_view v = {r->job, r->waiting ? NULL : &r->plan, next, iteration, r->g_ckpt};
    de_err err;
    if (de_replan_decide(&r->st, c, &v, r->plan.policy, &r->s->planner, &r->pred, d, &err)) {
        /* as in sim: a policy that cannot plan (an external one that failed) ends the run */
        run_event(r, "plan_error", "%s", err.msg);
        d->action = DE_ACTION_KEEP;
        if (!r->plan_error[0])
            snprintf(r->plan_error, sizeof r->plan_error, "%s", err.msg);
        return;
    }
    r->planning_s_sum += d->plan.planning_time_s;
    run_record_decision(r, d, c);
}

static cJSON *recovery(const char *cause, const char *device, long from, long lost)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "cause", cause);
    if (device)
        cJSON_AddStringToObject(rec, "device", device);
    cJSON_AddNumberToObject(rec, "from_iteration", (double)from);
    cJSON_AddNumberToObject(rec, "lost_iterations", (double)lost);
    return rec;
}

/* A waiting job got a plan (a repair, a load that went down): it starts again from
 * its checkpoint. */
static int start_waiting(run *r, const de_decision *d, const de_change *c, de_err *err)
{
    de_plan_copy(&r->plan, &d->plan);
    r->waiting = 0;
    r->fail_t = run_rel(r);
    r->plan_s = d->plan.planning_time_s;
    return relaunch(r, recovery(c ? de_change_kind_name(c->kind) : "start", NULL, r->g_ckpt, 0), err);
}

/* A voluntary change decided SWITCH: the workers checkpoint at the next iteration and stop;
 * the job then continues on the pending plan (run_after_launch). */
static void request_switch(run *r, const de_decision *d, const de_change *c)
{
    de_plan_copy(&r->pending, &d->plan);
    r->has_pending = 1;
    if (r->stop == RUN_STOP_USER)
        return;
    r->stop = RUN_STOP_SWITCH;
    snprintf(r->stop_cause, sizeof r->stop_cause, "%s", c ? de_change_kind_name(c->kind) : "switch");
}

/* A decision to RESHARE: the new batches to rank 0, which makes every rank take them
 * after the iteration in flight (de_worker.c). Where the workers cannot (no rank 0 yet, a
 * stop on its way, a batch over a worker's capacity), the plan is switched to instead. */
static void request_reshare(run *r, const de_decision *d, const de_change *c)
{
    run_conn *c0 = run_rank_conn(r, 0);
    const char *why = !c0 || r->mpi_pid <= 0 ? "rank 0 is not connected" : r->stop != RUN_STOP_NONE ? "a stop is on its way" : NULL;
    char list[2048];
    size_t len = 0;
    for (int k = 0; !why && k < d->plan.n_shares; k++) {
        const run_dev *D = &r->devs[d->plan.shares[k].device];
        if (D->rank != k || d->plan.shares[k].batch > D->capacity)
            why = "a batch over what its worker allocated";
        else if (len + 16 < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", k ? "," : "", d->plan.shares[k].batch);
    }
    if (why) {
        run_event(r, "reshare", "not in place (%s): the workers checkpoint and restart instead", why);
        request_switch(r, d, c);
        return;
    }
    de_plan_copy(&r->reshare, &d->plan);
    r->has_reshare = 1;
    r->reshare_t = run_rel(r);
    de_wire_send(c0->fd, DE_MSG_RESHARE, "batches=%s", list);
}

/* ---- applying a change to the emulated cluster ---- */

static void send_rank(run *r, int d, de_msg m, double v)
{
    run_conn *c = r->devs[d].rank >= 0 ? run_rank_conn(r, r->devs[d].rank) : NULL;
    if (c)
        de_wire_send(c->fd, m, "%.9g", v);
}

/* A device's CPU budget after a slowdown (or its end): the cgroup's quota, or the
 * duty-cycle throttle of its worker and LC services. */
static void set_speed(run *r, int d)
{
    const de_scenario *s = r->s;
    double cores = s->catalog->types[s->devices[d].type].emulation_cpu_cores * r->st.speed[d];
    de_err e2;
    if (!(cores > 0)) {
        run_event(r, "emulation", "%s: a physical device: its speed is not emulated", s->devices[d].name);
    } else if (r->devs[d].cgroup) {
        if (de_cgroup_set_cores(r->devs[d].cgroup, cores, &e2))
            run_event(r, "emulation", "%s: budget not changed: %s", s->devices[d].name, e2.msg);
    } else if (r->budget == DE_BUDGET_DUTY) {
        send_rank(r, d, DE_MSG_CORES, cores);
        for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++)
            run_send_task(r, s->dev_tasks[k], DE_MSG_CORES, "%.9g", cores);
    } else {
        run_event(r, "emulation", "%s: no CPU budget (--emulate none): its speed is not emulated", s->devices[d].name);
    }
}

/* A link's bandwidth changed: re-shaped with tc, or the workers' padding moves. */
static void set_link(run *r, int l)
{
    de_err e2;
    if (r->netns) {
        if (run_netns_shape(r, &e2))
            run_event(r, "emulation", "link %s not re-shaped: %s", r->s->links[l].name, e2.msg);
    } else if (strcmp(r->o->links, "pad") == 0 && !r->o->hostfile && !r->o->use_hosts) {
        run_send_ranks(r, DE_MSG_PAD, "%.9g", run_pad_seconds(r));
    }
}

static int training_on(const run *r, int d)
{
    return r->mpi_pid > 0 && r->devs[d].rank >= 0;
}

/* One change, at iteration `it` (its trigger, or the progress when it came by time). */
static void apply_change(run *r, int i, long it)
{
    const de_change *c = &r->changes[i];
    const de_scenario *s = r->s;
    r->fired[i] = 1;
    char what[256];
    de_change_describe(c, s, what, sizeof what);
    run_event(r, "change", "%s (%s)", what, c->origin);
    int d = c->target;
    if (c->kind == DE_CHANGE_CRASH && training_on(r, d)) {
        /* A loss: the launch dies with the device; run_after_launch decides. */
        de_change_apply(&r->st, c);
        r->devs[d].down_since = run_rel(r);
        run_stop_device_lc(r, d);
        r->crashed_dev = d;
        r->lost_t = run_rel(r);
        kill(-r->mpi_pid, SIGKILL);
        return;
    }
    if (!de_change_apply(&r->st, c))
        return; /* nothing changed: nothing to decide */
    switch (c->kind) {
    case DE_CHANGE_CRASH:
        r->devs[d].down_since = run_rel(r);
        run_stop_device_lc(r, d);
        break;
    case DE_CHANGE_REPAIR: {
        double now = run_rel(r);
        run_timeline(r, d, r->devs[d].down_since, now, DE_TL_DOWN);
        r->devs[d].down_since = NAN;
        for (int k = s->dev_task_start[d]; k < s->dev_task_start[d + 1]; k++) {
            int ti = s->dev_tasks[k];
            de_err e2;
            run_account_dropped(r, ti, now);
            r->tasks[ti].down = 0;
            if (run_start_lc(r, ti, &e2))
                run_event(r, "lc-error", "%s: %s", s->tasks[ti].name, e2.msg);
        }
        break;
    }
    case DE_CHANGE_SLOWDOWN: set_speed(r, d); break;
    case DE_CHANGE_LINK_DEGRADE: set_link(r, d); break;
    case DE_CHANGE_LC_RATE: run_send_task(r, d, DE_MSG_RATE, "%.9g", c->value); break;
    default: break;
    }
    de_decision dec;
    de_decision_init(&dec);
    decide(r, c, it, &dec);
    if (dec.action == DE_ACTION_SWITCH) {
        request_switch(r, &dec, c);
    } else if (dec.action == DE_ACTION_RESHARE) {
        request_reshare(r, &dec, c);
    } else if (dec.action == DE_ACTION_START) {
        de_err err;
        if (start_waiting(r, &dec, c, &err))
            run_event(r, "error", "the job cannot start again: %s", err.msg);
    }
    de_decision_free(&dec);
}

/* The changes that are due: by time since training began, or by the job's progress.
 * An iteration-triggered crash of a training device is the worker's own to carry out
 * (it dies right before that iteration, run_proc.c): not applied from here. */
void run_apply_due_changes(run *r)
{
    if (isnan(r->train_start_t))
        return;
    double t = run_rel(r) - r->train_start_t;
    for (int i = 0; i < r->n_changes; i++) {
        const de_change *c = &r->changes[i];
        if (r->fired[i])
            continue;
        int by_iter = c->iteration >= 0;
        if (by_iter ? r->g_done < c->iteration || r->waiting : t < c->time_s)
            continue;
        if (by_iter && c->kind == DE_CHANGE_CRASH && training_on(r, c->target) && c->iteration > r->g_launch)
            continue;
        apply_change(r, i, by_iter ? c->iteration : r->g_done);
    }
}

void run_correct(run *r)
{
    if (!r->cor.enabled || r->waiting || isnan(r->train_start_t))
        return;
    const de_scenario *s = r->s;
    int network = s->jobs[r->job].network, warned = 0;
    for (int ti = 0; ti < s->n_tasks; ti++) {
        run_task *T = &r->tasks[ti];
        if (T->cor_n < DE_CORRECT_MIN_REQUESTS)
            continue; /* the percentile of fewer requests is noise */
        warned |= de_correct_window(&r->cor, &r->st, &r->pred, r->mpi_pid > 0 ? &r->plan : NULL, network, ti, T->cor_n,
                                    T->cor_svc / (double)T->cor_n, de_hist_quantile(&T->cor, s->tasks[ti].percentile),
                                    s->planner.safety_margin);
        de_hist_reset(&T->cor);
        T->cor_svc = 0;
        T->cor_n = 0;
    }
    int dev;
    char what[512];
    if (!de_correct_apply(&r->cor, &r->st, &dev, what, sizeof what) && !warned)
        return;
    if (dev < 0)
        dev = r->plan.n_shares ? r->plan.shares[0].device : 0;
    run_event(r, "correction", "%s%s", warned ? "a window crossed deadline x (1 - margin/2); " : "",
              what[0] ? what : "no factor moved");
    de_change c;
    de_change_init(&c, DE_CHANGE_MODEL, dev, 0, "correction");
    c.time_s = run_rel(r) - r->train_start_t;
    apply_change(r, arm(r, &c), r->g_done);
}

/* While no device can take the job: waits for a change that can (a repair, a load that
 * goes down); an error when none is left to come. */
int run_wait_for_plan(run *r, de_err *err)
{
    if (!r->waiting)
        return DE_OK;
    for (int i = 0; i < r->n_changes; i++)
        if (!r->fired[i] && r->changes[i].iteration < 0)
            return DE_OK; /* something may still change */
    return de_err_set(err, DE_EINFEASIBLE,
                      "no device can train job '%s' and no change left in the scenario can help (resume from the last "
                      "checkpoint with `deepedge run PLAN --resume CKPT` once a device is back; while a run goes on, "
                      "`deepedge admit DEVICE` re-admits one)",
                      r->s->jobs[r->job].name);
}

/* ---- the end of a launch ---- */

/* The change behind a failure: the crash that was applied or injected, or the loss of a
 * worker that died or hung on its own. */
static de_change failure_change(run *r, int dev)
{
    for (int i = 0; i < r->n_changes; i++) { /* the worker's own --crash */
        const de_change *c = &r->changes[i];
        if (!r->fired[i] && c->kind == DE_CHANGE_CRASH && c->iteration >= 0 && c->target == dev &&
            r->crashed_dev == dev) {
            r->fired[i] = 1;
            char what[256];
            de_change_describe(c, r->s, what, sizeof what);
            run_event(r, "change", "%s (%s)", what, c->origin);
            de_change_apply(&r->st, c);
            r->devs[dev].down_since = r->fail_t;
            run_stop_device_lc(r, dev); /* an injected crash emulates the device's loss */
            return *c;
        }
    }
    de_change c;
    de_change_init(&c, DE_CHANGE_CRASH, dev, 0, r->crashed_dev == dev ? "faults" : "worker lost");
    if (r->st.up[dev]) { /* a worker that died or hung on its own: its device is taken as down */
        de_change_apply(&r->st, &c);
        r->devs[dev].down_since = r->fail_t;
    }
    return c;
}

/* The workers of a launch ended early without finishing: a failure. */
static int on_failure(run *r, int status, de_err *err)
{
    const de_run_opts *o = r->o;
    const de_scenario *s = r->s;
    int fd = r->crashed_dev >= 0 ? r->crashed_dev : r->fail_dev;
    char mlog[256], tail[600];
    snprintf(mlog, sizeof mlog, "%s/mpiexec-%d.log", o->out_dir, r->launch);
    if (r->rank_up == 0)
        return de_err_set(err, DE_EIO, "the workers did not start (mpiexec exit status %d); %s begins with:\n%s",
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), mlog,
                          run_head_of(mlog, tail, sizeof tail));
    if (fd < 0 || r->failures >= o->max_restarts)
        return de_err_set(err, DE_EIO, "the workers failed at iteration %ld (%s); %s ends with:\n%s", r->g_done,
                          fd < 0 ? "no device identified" : "too many restarts", mlog,
                          run_tail_of(mlog, tail, sizeof tail));
    r->failures++;
    r->fail_t = isnan(r->lost_t) ? run_rel(r) : r->lost_t; /* mpiexec takes a while to notice */
    long lost = r->g_done - (r->g_ckpt > r->g_launch ? r->g_ckpt : r->g_launch);
    double lost_s = 0;
    for (long k = r->g_done - lost; k < r->g_done && k < r->g_total; k++)
        if (r->it_ranks[k])
            lost_s += r->it_end[k] - r->it_start[k];
    r->lost_iters += lost;
    r->lost_s += lost_s;
    run_event(r, "failure", "job=%s device=%s lost_iterations=%ld lost_time_s=%.6f back_to_iteration=%ld",
              s->jobs[r->job].name, s->devices[fd].name, lost, lost_s, r->g_ckpt);
    de_change c = failure_change(r, fd);
    r->has_pending = 0; /* a loss replaces any switch in waiting */
    de_decision d;
    de_decision_init(&d);
    decide(r, &c, r->g_done, &d);
    int rc = DE_OK;
    if (d.action == DE_ACTION_RESTART) {
        de_plan_copy(&r->plan, &d.plan);
        r->plan_s = d.plan.planning_time_s;
        cJSON *rec = recovery("crash", s->devices[fd].name, r->g_ckpt, lost);
        cJSON_AddNumberToObject(rec, "failed_at_iteration", (double)r->g_done);
        cJSON_AddNumberToObject(rec, "lost_work_s", lost_s);
        rc = relaunch(r, rec, err);
    } else {
        r->g_done = r->g_ckpt;
        r->waiting = 1;
        run_event(r, "waiting", "no device can take job %s: it waits for a change", s->jobs[r->job].name);
    }
    de_decision_free(&d);
    return rc;
}

int run_after_launch(run *r, int status, int *completed, de_err *err)
{
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok && r->done) {
        *completed = 1;
        return DE_OK;
    }
    if (ok && r->stopped && r->stop == RUN_STOP_SWITCH && r->has_pending) {
        /* A voluntary switch: the workers checkpointed at r->g_ckpt; nothing is lost. */
        r->fail_t = run_rel(r);
        r->plan_s = r->pending.planning_time_s;
        de_plan_copy(&r->plan, &r->pending);
        r->has_pending = 0;
        r->switches++;
        return relaunch(r, recovery(r->stop_cause, NULL, r->g_ckpt, 0), err);
    }
    return on_failure(r, status, err);
}
