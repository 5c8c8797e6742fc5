/* cmd_run.c — `deepedge run` (the coordinator, exec/de_run.h) and the two kinds of
 * process it starts: `deepedge _worker` (one MPI rank, exec/de_worker.h) and
 * `deepedge _lc` (one LC service, exec/de_lcserve.h). */
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "de_emulate.h"
#include "de_lcserve.h"
#include "de_net.h"
#include "de_prng.h"
#include "de_scenario.h"
#include "de_util.h"
#include "de_wire.h"
#include "de_worker.h"

/* "DEVICE@ITER" */
static int parse_crash(const char *s, char **dev, long *iter)
{
    const char *at = strrchr(s, '@');
    long long it;
    if (!at || at == s || de_cli_int("--crash", at + 1, 0, 1000000000, &it))
        return -1;
    *dev = de_strdup(s);
    (*dev)[at - s] = '\0';
    *iter = (long)it;
    return 0;
}

int de_cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 's'}, {"plan", required_argument, 0, 'p'},
        {"cache", required_argument, 0, 'c'},    {"out", required_argument, 0, 'o'},
        {"report", required_argument, 0, 'r'},   {"resume", required_argument, 0, 'R'},
        {"cgroup", required_argument, 0, 'g'},   {"duty", no_argument, 0, 'd'},
        {"pad-links", no_argument, 0, 'l'},      {"crash", required_argument, 0, 'x'},
        {"stop-after", required_argument, 0, 'S'}, {0, 0, 0, 0}};
    de_worker_opts o;
    de_worker_opts_default(&o);
    char *crash_dev = NULL;
    int c;
    long long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': o.scenario = optarg; break;
        case 'p': o.plan = optarg; break;
        case 'c': o.cache = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'r': o.report = optarg; break;
        case 'R': o.resume = optarg; break;
        case 'g': o.cgroup_dir = optarg; break;
        case 'd': o.duty_throttle = 1; break;
        case 'l': o.pad_links = 1; break;
        case 'x':
            if (parse_crash(optarg, &crash_dev, &o.crash_iter))
                return de_cli_fail("--crash: '%s' is not DEVICE@ITERATION", optarg);
            o.crash_device = crash_dev;
            break;
        case 'S':
            if (de_cli_int("--stop-after", optarg, 1, 1000000000, &v))
                return DE_EXIT_ERROR;
            o.stop_after = (long)v;
            break;
        default: return de_cli_fail("_worker: bad arguments (it is started by `deepedge run`)");
        }
    }
    if (!o.scenario || !o.plan || !o.cache || !o.out_dir)
        return de_cli_fail("_worker: --scenario, --plan, --cache and --out are required");
    MPI_Init(&argc, &argv);
    de_err err;
    de_err_clear(&err);
    int rc = de_worker_run(&o, MPI_COMM_WORLD, &err);
    free(crash_dev);
    if (rc) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        fprintf(stderr, "deepedge worker (rank %d): %s\n", rank, err.msg);
        MPI_Abort(MPI_COMM_WORLD, DE_EXIT_ERROR);
        return DE_EXIT_ERROR;
    }
    MPI_Finalize();
    return DE_EXIT_OK;
}

static volatile int lc_stop;
static void on_term(int sig)
{
    (void)sig;
    lc_stop = 1;
}

int de_cmd_lc(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 's'}, {"task", required_argument, 0, 't'},
        {"report", required_argument, 0, 'r'},   {"cgroup", required_argument, 0, 'g'},
        {"duty", no_argument, 0, 'd'},           {"duration", required_argument, 0, 'D'},
        {"seed", required_argument, 0, 'e'},     {0, 0, 0, 0}};
    const char *scen_path = NULL, *task = NULL, *report = NULL, *cgroup = NULL;
    int duty = 0, c;
    double duration = 0;
    long long seed = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': scen_path = optarg; break;
        case 't': task = optarg; break;
        case 'r': report = optarg; break;
        case 'g': cgroup = optarg; break;
        case 'd': duty = 1; break;
        case 'D':
            if (de_cli_float("--duration", optarg, 0, 1e9, &duration))
                return DE_EXIT_ERROR;
            break;
        case 'e':
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &seed))
                return DE_EXIT_ERROR;
            break;
        default: return de_cli_fail("_lc: bad arguments (it is started by `deepedge run`)");
        }
    }
    if (!scen_path || !task)
        return de_cli_fail("_lc: --scenario and --task are required");
    signal(SIGTERM, on_term);
    signal(SIGINT, SIG_IGN); /* the coordinator decides when services stop */
    de_err err;
    de_err_clear(&err);
    de_scenario *s = NULL;
    if (de_scenario_load(scen_path, NULL, &s, &err))
        return de_cli_fail("%s", err.msg);
    int ti = -1;
    for (int i = 0; i < s->n_tasks; i++)
        if (strcmp(s->tasks[i].name, task) == 0)
            ti = i;
    int rc = DE_EXIT_OK, fd = -1;
    de_net *net = NULL;
    if (ti < 0) {
        rc = de_cli_fail("%s: no LC task '%s'", scen_path, task);
        goto done;
    }
    const de_lc_task *t = &s->tasks[ti];
    const de_device_type *type = &s->catalog->types[s->devices[t->device].type];
    const char *model = s->catalog->lc_models[t->model].name;
    if (de_net_builtin(model, 10, &net, &err)) {
        rc = de_cli_fail("%s: LC task '%s': model '%s' cannot be executed: %s", scen_path, task, model, err.msg);
        goto done;
    }
    de_net_init(net, (uint64_t)seed);
    if (report && de_wire_connect(report, &fd, &err)) {
        rc = de_cli_fail("LC task '%s': %s", task, err.msg);
        goto done;
    }
    if (cgroup && de_cgroup_join(cgroup, getpid(), &err)) {
        char m[1024];
        de_wire_text(err.msg, m, sizeof m);
        de_wire_send(fd, "lcerror task=%s msg=%s", task, m);
        rc = de_cli_fail("LC task '%s': %s", task, err.msg);
        goto done;
    }
    de_wire_send(fd, "lchello task=%s dev=%s pid=%ld", task, s->devices[t->device].name, (long)getpid());
    de_lc_serve_opts o;
    de_lc_serve_opts_default(&o);
    o.task = task;
    o.net = net;
    o.threads = s->exec.present ? s->exec.threads : 1;
    o.rate = t->rate;
    o.trace = t->trace;
    o.deadline_s = t->deadline_s;
    o.duration_s = duration;
    o.seed = de_prng_seed(s->exec.seed ^ (uint64_t)seed, (uint64_t)ti);
    o.cpu_cores = duty ? type->emulation_cpu_cores : 0;
    o.fd = fd;
    o.stop = &lc_stop;
    de_lc_serve_stats st;
    if (de_lc_serve(&o, &st, &err)) {
        char m[1024];
        de_wire_text(err.msg, m, sizeof m);
        de_wire_send(fd, "lcerror task=%s msg=%s", task, m);
        rc = de_cli_fail("LC task '%s': %s", task, err.msg);
        goto done;
    }
    de_wire_send(fd, "lcbye task=%s n=%ld viol=%ld p50=%.6f p95=%.6f p99=%.6f svc=%.6f", task, st.requests,
                 st.violations, st.p50_s, st.p95_s, st.p99_s, st.service_mean_s);
done:
    if (fd >= 0)
        close(fd);
    de_net_destroy(net);
    de_scenario_destroy(s);
    return rc;
}
