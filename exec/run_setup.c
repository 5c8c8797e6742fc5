/* run_setup.c — what `deepedge run` prepares before any process starts: the options
 * checked against the scenario, the plan, the dataset cache, the CPU budgets, the
 * listening port (run_internal.h). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_dataset.h"
#include "de_exec_net.h"
#include "de_net.h"
#include "de_util.h"
#include "de_wire.h"
#include "run_internal.h"

/* The options that go together, every --inject against the scenario, every LC model
 * executable: refused before anything starts. */
int run_check_opts(run *r, de_err *err)
{
    const de_run_opts *o = r->o;
    const de_scenario *s = r->s;
    if (!s->exec.present)
        return de_err_set(err, DE_EMISSING, "%s: `deepedge run` needs an `exec` group (dataset, lr, seed; see "
                                            "scenarios/README.md)", s->path);
    if (strcmp(o->links, "pad") && strcmp(o->links, "none") && strcmp(o->links, "netns"))
        return de_err_set(err, DE_EINVAL, "--links: '%s' is not pad, none or netns", o->links);
    if (strcmp(o->emulate, "auto") && strcmp(o->emulate, "cgroup") && strcmp(o->emulate, "duty") &&
        strcmp(o->emulate, "none"))
        return de_err_set(err, DE_EINVAL, "--emulate: '%s' is not auto, cgroup, duty or none", o->emulate);
    if (o->use_hosts && (o->hostfile || strcmp(o->links, "netns") == 0))
        return de_err_set(err, DE_EINVAL, "--hosts places every device on its devices.[i].host: it goes with neither "
                                          "--hostfile nor --links netns");
    for (int d = 0; o->use_hosts && d < s->n_devices; d++)
        if (!s->devices[d].host)
            return de_err_set(err, DE_EMISSING, "%s: devices.[%d].host: device '%s' has no host (--hosts needs one per "
                                                "device)", s->path, d, s->devices[d].name);
    if (strcmp(o->links, "netns") == 0 && o->hostfile)
        return de_err_set(err, DE_EINVAL, "--links netns emulates the hosts: it does not go with --hostfile");
    for (int i = 0; i < o->n_inject; i++) {
        de_change c;
        int rc = de_change_parse_spec(o->inject[i], s, &c, err);
        if (rc)
            return rc;
        if (c.kind == DE_CHANGE_JOB_ARRIVAL)
            return de_err_set(err, DE_EINVAL, "--inject '%s': `run` executes one job; job arrivals are for sim",
                              o->inject[i]);
    }
    for (int ti = 0; ti < s->n_tasks; ti++) {
        if (s->tasks[ti].svc.kind != DE_LC_SVC_NONE)
            continue; /* an existing service, observed: the engine need not run its model */
        de_net *probe = NULL;
        de_err nerr;
        int bad = de_exec_lc_model(&s->catalog->lc_models[s->tasks[ti].model], 10, &probe, &nerr);
        de_net_destroy(probe);
        if (bad)
            return de_err_set(err, DE_EREF, "%s: lc_tasks.[%d].model: task '%s': deepedge run cannot execute it: %s",
                              s->path, ti, s->tasks[ti].name, nerr.msg);
    }
    if (o->exe) {
        r->exe = de_strdup(o->exe);
    } else {
        char buf[4096];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        r->exe = de_strdup(n > 0 ? buf : "deepedge");
    }
    r->run_id = de_sprintf("run-%ld", (long)getpid());
    return DE_OK;
}

/* The plan file, read and evaluated exactly as sim reads it, or the scenario's policy. */
int run_load_plan(run *r, de_err *err)
{
    const de_run_opts *o = r->o;
    int rc;
    r->job = 0;
    if (o->plan) {
        if ((rc = de_plan_read(o->plan, r->s, &r->plan, err)))
            return rc;
        r->job = r->plan.job;
    }
    de_state_init(&r->st, r->s, r->s->jobs[r->job].arrival_s);
    r->pred = de_predictor_model();
    de_correct_init(&r->cor, r->s);
    if (o->correction >= 0)
        r->cor.enabled = o->correction;
    if (o->plan) {
        de_plan_evaluate(&r->plan, &r->st, &r->pred, r->s->planner.safety_margin);
    } else { /* the job asks to start: the rule's first decision, as in sim */
        de_replan_view v = {r->job, NULL, NULL, 0, 0};
        de_decision d;
        de_decision_init(&d);
        rc = de_replan_decide(&r->st, NULL, &v, r->s->planner.policy, &r->s->planner, &r->pred, &d, err);
        if (!rc) {
            de_plan_copy(&r->plan, &d.plan);
            r->planning_s_sum += d.plan.planning_time_s;
            if (d.action == DE_ACTION_START)
                run_record_decision(r, &d, NULL);
        }
        de_decision_free(&d);
        if (rc)
            return rc;
    }
    if (r->plan.n_shares == 0)
        return de_err_set(err, DE_EINFEASIBLE, "%s: no device can train job '%s'%s%s", r->s->path,
                          r->s->jobs[r->job].name, r->plan.verdict ? ": " : "", r->plan.verdict ? r->plan.verdict : "");
    return DE_OK;
}

int run_write_plan(run *r, int k, de_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "plan-%d.cfg", k);
    free(r->plan_path);
    r->plan_path = de_path_join(r->o->out_dir, name);
    return de_plan_write(&r->plan, &r->st, r->plan_path, err);
}

/* The dataset folder (synthesized on demand) decoded once into a cache every rank maps. */
int run_prepare_dataset(run *r, de_err *err)
{
    const de_exec_spec *e = &r->s->exec;
    struct stat sb;
    if (stat(e->dataset, &sb) != 0) {
        if (!e->synthesize)
            return de_err_set(err, DE_EMISSING,
                              "%s: exec.dataset: '%s' does not exist (set exec.synthesize = true, or create it with "
                              "`deepedge dataset synth`)",
                              r->s->path, e->dataset);
        run_event(r, "dataset", "synthesizing %d classes x %d images in %s", e->synth_classes, e->synth_per_class,
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
    de_net *probe = NULL;
    int rc = de_exec_network(&r->s->catalog->networks[r->s->jobs[r->job].network], 0, &probe, err);
    if (rc)
        return de_err_set(err, rc, "%s: job '%s': deepedge run cannot execute it: %s", r->s->path,
                          r->s->jobs[r->job].name, err->msg);
    int C, H, W;
    de_net_input(probe, &C, &H, &W);
    if (e->weights && (rc = de_exec_load_weights(probe, e->weights, err))) { /* refused here, not in every worker */
        de_net_destroy(probe);
        return de_err_set(err, rc, "%s: %s", r->s->path, err->msg);
    }
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
        run_event(r, "dataset", "cache %s: %d images of %d classes (%d files skipped)", r->cache, rep.images,
                  rep.classes, rep.skipped);
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
        run_event(r, "note", "the dataset has %d training images; job '%s' declares dataset_size = %lld (predictions "
                  "use the scenario's figure)", ntr, j->name, j->dataset_size);
    r->g_total = (long)j->epochs * (ntr / j->global_batch);
    return DE_OK;
}

static void remove_cgroups(run *r)
{
    for (int d = 0; d < r->s->n_devices; d++) {
        de_cgroup_remove(r->devs[d].cgroup);
        free(r->devs[d].cgroup);
        r->devs[d].cgroup = NULL;
    }
}

/* Creating a group is not joining it (delegation, v2's rules on where processes may
 * live): a short-lived child tries first. */
static int can_join(const char *group, de_err *jerr)
{
    pid_t probe = fork();
    if (probe == 0) {
        pause();
        _exit(0);
    }
    if (probe < 0) {
        de_err_set(jerr, DE_EIO, "fork failed: %s", strerror(errno));
        return 0;
    }
    int joined = de_cgroup_join(group, probe, jerr) == DE_OK;
    kill(probe, SIGKILL);
    waitpid(probe, NULL, 0);
    return joined;
}

/* A CPU budget per emulated device: a cgroup quota, or duty-cycle throttling where no
 * cgroup can be created or joined (or the processes run on other hosts). */
int run_setup_budgets(run *r, de_err *err)
{
    const char *m = r->o->emulate;
    const de_scenario *s = r->s;
    r->budget = DE_BUDGET_NONE;
    if (strcmp(m, "none") == 0)
        return DE_OK;
    int any = 0;
    for (int d = 0; d < s->n_devices; d++)
        any |= s->catalog->types[s->devices[d].type].emulation_cpu_cores > 0;
    if (!any)
        return DE_OK; /* physical devices only */
    if (strcmp(m, "duty") == 0 || r->o->use_hosts || r->o->hostfile) {
        /* processes on other hosts cannot join this host's cgroups: they throttle themselves */
        r->budget = DE_BUDGET_DUTY;
        return DE_OK;
    }
    char *first = NULL;
    for (int d = 0; d < s->n_devices; d++) {
        double cores = s->catalog->types[s->devices[d].type].emulation_cpu_cores;
        if (!(cores > 0))
            continue;
        de_budget_mode mode;
        de_err cerr;
        if (de_cgroup_create(r->run_id, s->devices[d].name, cores, &mode, &r->devs[d].cgroup, &cerr)) {
            remove_cgroups(r);
            if (strcmp(m, "cgroup") == 0)
                return de_err_set(err, DE_EIO, "--emulate cgroup: %s", cerr.msg);
            run_event(r, "emulation", "no writable cgroup (%s): duty-cycle throttling instead", cerr.msg);
            r->budget = DE_BUDGET_DUTY;
            return DE_OK;
        }
        r->budget = mode;
        if (!first)
            first = r->devs[d].cgroup;
    }
    de_err jerr;
    if (!can_join(first, &jerr)) {
        remove_cgroups(r);
        if (strcmp(m, "cgroup") == 0)
            return de_err_set(err, DE_EIO, "--emulate cgroup: %s", jerr.msg);
        run_event(r, "emulation", "cgroups cannot be joined here (%s): duty-cycle throttling instead", jerr.msg);
        r->budget = DE_BUDGET_DUTY;
        return DE_OK;
    }
    r->cg_run = de_path_dirname(first);
    return DE_OK;
}

/* The port workers and LC services report to, the Prometheus endpoint, and the
 * environment every child inherits. */
int run_listen(run *r, de_err *err)
{
    const de_run_opts *o = r->o;
    int rc;
    if (strcmp(o->links, "netns") == 0 && (rc = run_netns_up(r, err)))
        return rc;
    char host[256] = "127.0.0.1";
    if (r->netns)
        snprintf(host, sizeof host, "%s.1", r->ns_subnet);
    else if (o->report_host)
        snprintf(host, sizeof host, "%s", o->report_host);
    else if (o->hostfile || o->use_hosts)
        gethostname(host, sizeof host);
    const char *bind = o->listen                                                          ? o->listen
                       : o->hostfile || o->use_hosts || o->report_host || r->netns ? "0.0.0.0"
                                                                                  : "127.0.0.1";
    if ((rc = de_wire_listen(bind, 0, &r->lfd, &r->port, err)))
        return de_err_set(err, rc, "--listen %s: %s", bind, err->msg);
    snprintf(r->report, sizeof r->report, "%s:%d", host, r->port);
    run_event(r, "listen", "workers and LC services report to %s (bound to %s:%d; each proves the run secret)",
              r->report, bind, r->port);
    if (o->metrics_port > 0) {
        int mport;
        const char *maddr = o->metrics_listen ? o->metrics_listen : "127.0.0.1";
        if ((rc = de_wire_listen(maddr, o->metrics_port, &r->mfd, &mport, err)))
            return de_err_set(err, rc, "--metrics-listen %s: %s", maddr, err->msg);
        run_event(r, "metrics", "Prometheus text format on http://%s:%d/metrics", maddr, mport);
    }
    /* Kernel threads, and OpenMPI's consent to run as root (workers and LC services
     * placed on hosts both go through mpiexec). */
    char ts[16];
    snprintf(ts, sizeof ts, "%d", r->s->exec.threads);
    setenv("OMP_NUM_THREADS", ts, 1);
    setenv(DE_RUN_SECRET_ENV, r->secret, 1); /* the children's proof (de_wire.h); never on a command line */
    if (geteuid() == 0) {
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    }
    return DE_OK;
}
