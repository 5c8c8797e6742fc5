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

#include "cli_exec.h"
#include "de_conf.h"
#include "de_emulate.h"
#include "de_lcserve.h"
#include "de_lcwatch.h"
#include "de_exec_net.h"
#include "de_net.h"
#include "de_run.h"
#include "de_prng.h"
#include "de_scenario.h"
#include "de_stage.h"
#include "de_util.h"
#include "de_wire.h"
#include "de_worker.h"

int de_cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 's'}, {"plan", required_argument, 0, 'p'},
        {"cache", required_argument, 0, 'c'},    {"out", required_argument, 0, 'o'},
        {"report", required_argument, 0, 'r'},   {"resume", required_argument, 0, 'R'},
        {"cgroup", required_argument, 0, 'g'},   {"duty", no_argument, 0, 'd'},
        {"pad", required_argument, 0, 'l'},      {"crash", required_argument, 0, 'x'},
        {"stop-after", required_argument, 0, 'S'}, {"stage", required_argument, 0, 'G'},
        {"catalog", required_argument, 0, 'C'}, {0, 0, 0, 0}};
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
        case 'G': o.stage_dir = optarg; break;
        case 'C': o.catalog_dir = optarg; break;
        case 'l':
            if (de_cli_float("--pad", optarg, 0, 1e6, &o.pad_s))
                return DE_EXIT_ERROR;
            break;
        case 'x': { /* DEVICE@ITERATION: that device's rank dies right before that iteration */
            const char *at = strrchr(optarg, '@');
            if (!at || at == optarg || de_cli_int("--crash", at + 1, 0, 1000000000000LL, &v))
                return de_cli_fail("--crash: '%s' is not DEVICE@ITERATION", optarg);
            free(crash_dev);
            crash_dev = de_sprintf("%.*s", (int)(at - optarg), optarg);
            o.crash_device = crash_dev;
            o.crash_iter = (long)v;
            break;
        }
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

/* Reports a failure of the LC process to the coordinator (fd may be -1) and on stderr. */
static int lc_fail(int fd, const char *task, const char *msg)
{
    char m[1024];
    de_wire_text(msg, m, sizeof m);
    de_wire_send(fd, DE_MSG_LCERROR, "task=%s msg=%s", task, m);
    return de_cli_fail("LC task '%s': %s", task, msg);
}

/* An LC task that stands for an existing service (lc_tasks.[i].service): its latencies are
 * observed (exec/de_lcwatch.h) and reported as the synthetic service's are; the service
 * joins its device's cgroup when it names its pid. */
static int observe(const de_scenario *s, const de_lc_task *t, const char *report, const char *cgroup, int duty,
                   double duration, uint64_t seed)
{
    de_err err;
    de_err_clear(&err);
    int fd = -1;
    if (report && de_wire_connect(report, &fd, &err))
        return de_cli_fail("LC task '%s': %s", t->name, err.msg);
    const de_lc_service *v = &t->svc;
    int rc = DE_EXIT_OK;
    if (v->pid_file && (cgroup || duty)) {
        char *text = de_file_read(v->pid_file, NULL);
        char *end = NULL;
        long pid = text ? strtol(text, &end, 10) : 0;
        int ok = text && end != text && pid > 1 && pid <= 4194304 && kill((pid_t)pid, 0) == 0;
        free(text);
        char m[1200];
        if (!ok) {
            snprintf(m, sizeof m, "service.pid_file %s: no running process's pid in it", v->pid_file);
            rc = lc_fail(fd, t->name, m);
            goto out;
        }
        if (!cgroup) {
            snprintf(m, sizeof m,
                     "service pid %ld runs outside its device's CPU budget: duty-cycle emulation throttles only "
                     "deepedge's own processes (use cgroup emulation)",
                     pid);
            de_wire_text(m, m, sizeof m);
            de_wire_send(fd, DE_MSG_LCERROR, "task=%s msg=%s", t->name, m);
        } else if (de_cgroup_join(cgroup, (pid_t)pid, &err)) {
            snprintf(m, sizeof m, "service pid %ld: %s", pid, err.msg);
            rc = lc_fail(fd, t->name, m);
            goto out;
        }
    }
    de_wire_send(fd, DE_MSG_LCHELLO, "task=%s dev=%s pid=%ld", t->name, s->devices[t->device].name, (long)getpid());
    de_lc_watch_opts o;
    memset(&o, 0, sizeof o);
    o.task = t->name;
    o.svc = v;
    o.rate = t->rate;
    o.trace = t->trace;
    o.deadline_s = t->deadline_s;
    o.duration_s = duration;
    o.seed = de_prng_seed(s->exec.seed ^ seed, (uint64_t)(t - s->tasks));
    o.fd = fd;
    o.stop = &lc_stop;
    de_lc_serve_stats st;
    if (de_lc_watch(&o, &st, &err)) {
        rc = lc_fail(fd, t->name, err.msg);
        goto out;
    }
    de_wire_send(fd, DE_MSG_LCBYE, "task=%s n=%ld viol=%ld p50=%.6f p95=%.6f p99=%.6f svc=%.6f", t->name, st.requests,
                 st.violations, st.p50_s, st.p95_s, st.p99_s, st.service_mean_s);
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int de_cmd_lc(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 's'}, {"task", required_argument, 0, 't'},
        {"report", required_argument, 0, 'r'},   {"cgroup", required_argument, 0, 'g'},
        {"duty", no_argument, 0, 'd'},           {"duration", required_argument, 0, 'D'},
        {"seed", required_argument, 0, 'e'},     {"stage", required_argument, 0, 'G'},
        {"catalog", required_argument, 0, 'C'}, {0, 0, 0, 0}};
    const char *scen_path = NULL, *task = NULL, *report = NULL, *cgroup = NULL, *stage = NULL, *catalog = NULL;
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
        case 'G': stage = optarg; break;
        case 'C': catalog = optarg; break;
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
    char *staged[2] = {0};
    if (stage) { /* hosts without shared storage: the coordinator's files, fetched first (de_stage.h) */
        int n;
        long long bytes;
        if (!report)
            return de_cli_fail("_lc: --stage needs --report");
        if (de_stage_sync(report, stage, &n, &bytes, &err))
            return de_cli_fail("LC task '%s': %s", task, err.msg);
        scen_path = staged[0] = de_stage_local(stage, scen_path);
        if (catalog)
            catalog = staged[1] = de_stage_local(stage, catalog);
    }
    int lrc = de_scenario_load(scen_path, catalog, &s, &err);
    if (lrc) {
        free(staged[0]);
        free(staged[1]);
        return de_cli_fail("%s", err.msg);
    }
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
    if (t->svc.kind != DE_LC_SVC_NONE) {
        rc = observe(s, t, report, cgroup, duty, duration, (uint64_t)seed);
        goto done;
    }
    if (de_exec_lc_model(&s->catalog->lc_models[t->model], 10, &net, &err)) {
        rc = de_cli_fail("%s: LC task '%s': %s", scen_path, task, err.msg);
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
        de_wire_send(fd, DE_MSG_LCERROR, "task=%s msg=%s", task, m);
        rc = de_cli_fail("LC task '%s': %s", task, err.msg);
        goto done;
    }
    de_wire_send(fd, DE_MSG_LCHELLO, "task=%s dev=%s pid=%ld", task, s->devices[t->device].name, (long)getpid());
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
        de_wire_send(fd, DE_MSG_LCERROR, "task=%s msg=%s", task, m);
        rc = de_cli_fail("LC task '%s': %s", task, err.msg);
        goto done;
    }
    de_wire_send(fd, DE_MSG_LCBYE, "task=%s n=%ld viol=%ld p50=%.6f p95=%.6f p99=%.6f svc=%.6f", task, st.requests,
                 st.violations, st.p50_s, st.p95_s, st.p99_s, st.service_mean_s);
done:
    if (fd >= 0)
        close(fd);
    de_net_destroy(net);
    de_scenario_destroy(s);
    free(staged[0]);
    free(staged[1]);
    return rc;
}

static void run_help(FILE *out)
{
    fprintf(out,
            "usage: deepedge run SCENARIO|PLAN [--scenario S] [--out DIR] [--json] [--quiet]\n"
            "                    [--hosts | --hostfile F [--ranks-per-host N]] [--report-host ADDR] [--mpi-args \"...\"]\n"
            "                    [--emulate auto|cgroup|duty|none] [--links pad|none] [--resume CKPT]\n"
            "                    [--inject KIND:TARGET[*FACTOR|=RATE]@ITER|@SECONDSs] ...\n"
            "                    [--lc-warmup S] [--window S] [--max-restarts N] [--stall-timeout S] [--no-plot]\n"
            "                    [--listen ADDR] [--auth-timeout S] [--metrics-port P [--metrics-listen ADDR]]\n"
            "                    [--stage DIR] [--correction on|off]\n"
            "       deepedge run --cleanup [--out DIR]\n\n"
            "Executes the scenario's job for real: one MPI rank per device of the plan trains the CNN on\n"
            "its share of every global batch (one all-reduce per iteration), while every LC task of the\n"
            "scenario runs as a real inference service fed by an open-loop load generator at its rate.\n"
            "The argument is a scenario (the plan is computed with its planner policy) or a plan file\n"
            "written by `deepedge plan -o` (its scenario is read from the plan, or given with --scenario).\n"
            "The scenario's `exec` group names the dataset (a Caltech-layout folder, synthesized on demand)\n"
            "and the optimizer settings.\n\n"
            "On one host, emulated device types (catalog key emulation_cpu_cores) get a CPU budget:\n"
            "a cgroup cpu quota where writable, otherwise duty-cycle throttling (--emulate); links are\n"
            "emulated by padding each all-reduce to the link model's time (--links pad), or each device\n"
            "becomes a network namespace with its link shaped by tc (--links netns, root).\n"
            "On a physical cluster, --hosts starts each device's rank and LC services on its\n"
            "devices.[i].host (ssh, or --mpi-args \"--mca plm_rsh_agent ...\"); --hostfile lets mpiexec\n"
            "place the ranks and keeps the LC services on this host. Either way the scenario, the plan,\n"
            "the dataset cache and the output folder must be at the same paths on every host, unless\n"
            "--stage DIR: then every process the run starts on a host first fetches what it reads (the\n"
            "scenario and its traces, the catalog, the plan, the dataset cache, the checkpoint to resume\n"
            "from) from this coordinator into DIR on its host, each file checked by SHA-256, and rank 0\n"
            "sends each checkpoint and the final weights back into --out (exec/DEPLOY.md).\n\n"
            "Changes of the world — the scenario's faults, --inject (crash:dev-b@40, repair:dev-b@80,\n"
            "slowdown:dev-a*0.5@60, link-degrade:lan-1g*0.1@30, lc-rate:cam=30@20; @12.5s for a time\n"
            "since training began), rate traces, and a worker that dies or hangs — go through the same\n"
            "re-plan rule as in `deepedge sim` (ARCHITECTURE.md): a loss restarts from the last\n"
            "checkpoint on a new plan; a voluntary change switches plans (the workers checkpoint at the\n"
            "next iteration) only when the running plan breaks a deadline or the new one is faster by\n"
            "more than planner.switch_gain, costs included. The decisions are logged in events.csv in\n"
            "the simulator's format. A worker that hangs instead of dying (no iteration for\n"
            "--stall-timeout s, default 120) is handled as a crash of the device that reported least\n"
            "recently; at most --max-restarts (default 3) failures are recovered.\n"
            "With --correction on (default: the scenario's planner.correction) the models are corrected\n"
            "from what the run measures (step, all-reduce and LC times, core/de_correct.h) and the plan is\n"
            "reconsidered through the same rule when they move (events: correction, change=model).\n"
            "Ctrl-C checkpoints and stops (twice: kill).\n\n"
            "Outputs in --out (default out/run): summary.json, plan-K.cfg (the plan of each launch),\n"
            "recovery-K.deckpt (the checkpoint each restart resumed from), checkpoint.deckpt,\n"
            "model.weights, iterations.csv, ranks.csv, timeline.csv, lc_windows.csv, lc_cdf.csv,\n"
            "events.csv, logs, and the simulator's figures (timeline, lc_cdf, lc_latency .png/.svg).\n"
            "--metrics-port P serves the live metrics in Prometheus text format on ADDR:P\n"
            "(--metrics-listen, default 127.0.0.1; 0.0.0.0 for a central Prometheus server).\n"
            "The coordinator listens for its workers and LC services on --listen ADDR (default: loopback,\n"
            "or every interface with --hosts, --hostfile or --report-host). Every connection must prove\n"
            "the run's secret (256 random bits the coordinator hands its processes through the\n"
            "environment, never on a command line) before anything else; others are closed and counted\n"
            "(summary.json run.auth_refused), and so is one silent for --auth-timeout s (default 10).\n"
            "What a coordinator that died leaves behind (cgroups, network namespaces, temporary files of\n"
            "interrupted writes) is removed when the next run starts; --cleanup does only that.\n"
            "Exit status: 0 completed, 1 error or interrupted.\n");
}

/* A plan file names its scenario: plan.scenario. */
static char *plan_scenario(const char *plan_path)
{
    config_t cfg;
    de_err err;
    char *out = NULL;
    if (de_conf_read(&cfg, plan_path, &err) == DE_OK) {
        const char *sc;
        if (config_lookup_string(&cfg, "plan.scenario", &sc))
            out = de_strdup(sc);
    }
    config_destroy(&cfg);
    return out;
}

int de_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 's'}, {"out", required_argument, 0, 'o'},
        {"json", no_argument, 0, 'j'},          {"quiet", no_argument, 0, 'q'},
        {"hostfile", required_argument, 0, 'H'}, {"ranks-per-host", required_argument, 0, 'n'},
        {"report-host", required_argument, 0, 'a'}, {"mpi-args", required_argument, 0, 'm'},
        {"emulate", required_argument, 0, 'e'}, {"links", required_argument, 0, 'l'},
        {"resume", required_argument, 0, 'R'},  {"inject", required_argument, 0, 'i'},
        {"lc-warmup", required_argument, 0, 'w'}, {"window", required_argument, 0, 'W'},
        {"max-restarts", required_argument, 0, 'x'}, {"no-plot", no_argument, 0, 'P'},
        {"metrics-port", required_argument, 0, 'M'}, {"hosts", no_argument, 0, 'O'},
        {"listen", required_argument, 0, 'L'},   {"metrics-listen", required_argument, 0, 'A'},
        {"auth-timeout", required_argument, 0, 'U'}, {"stage", required_argument, 0, 'G'},
        {"correction", required_argument, 0, 'k'},
        {"stall-timeout", required_argument, 0, 'T'}, {"cleanup", no_argument, 0, 'K'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    de_run_opts o;
    de_run_opts_default(&o);
    const char *inject[64];
    int json = 0, cleanup = 0, c;
    long long v;
    const char *scen = NULL;
    de_err err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': scen = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case 'j': json = 1; break;
        case 'q': o.quiet = 1; break;
        case 'H': o.hostfile = optarg; break;
        case 'O': o.use_hosts = 1; break;
        case 'T':
            if (de_cli_float("--stall-timeout", optarg, 0, 1e6, &o.stall_timeout_s))
                return DE_EXIT_ERROR;
            break;
        case 'n':
            if (de_cli_int("--ranks-per-host", optarg, 1, 4096, &v))
                return DE_EXIT_ERROR;
            o.ranks_per_host = (int)v;
            break;
        case 'a': o.report_host = optarg; break;
        case 'L': o.listen = optarg; break;
        case 'U':
            if (de_cli_float("--auth-timeout", optarg, 0.1, 3600, &o.auth_timeout_s))
                return DE_EXIT_ERROR;
            break;
        case 'A': o.metrics_listen = optarg; break;
        case 'k':
            if (strcmp(optarg, "on") && strcmp(optarg, "off"))
                return de_cli_fail("--correction: '%s' is not on or off", optarg);
            o.correction = strcmp(optarg, "on") == 0;
            break;
        case 'G':
            if (!optarg[0])
                return de_cli_fail("--stage: a folder is needed (where each host keeps the files it fetches)");
            o.stage_dir = optarg;
            break;
        case 'm': o.mpi_args = optarg; break;
        case 'e': o.emulate = optarg; break;
        case 'l': o.links = optarg; break;
        case 'R': o.resume = optarg; break;
        case 'i':
            if (o.n_inject >= 64)
                return de_cli_fail("--inject: at most 64");
            inject[o.n_inject++] = optarg; /* checked against the scenario by de_run */
            break;
        case 'w':
            if (de_cli_float("--lc-warmup", optarg, 0, 3600, &o.lc_warmup_s))
                return DE_EXIT_ERROR;
            break;
        case 'W':
            if (de_cli_float("--window", optarg, 0.05, 3600, &o.window_s))
                return DE_EXIT_ERROR;
            break;
        case 'x':
            if (de_cli_int("--max-restarts", optarg, 0, 100, &v))
                return DE_EXIT_ERROR;
            o.max_restarts = (int)v;
            break;
        case 'P': o.plots = 0; break;
        case 'M':
            if (de_cli_int("--metrics-port", optarg, 1, 65535, &v))
                return DE_EXIT_ERROR;
            o.metrics_port = (int)v;
            break;
        case 'K': cleanup = 1; break;
        case 'h': run_help(stdout); return DE_EXIT_OK;
        default: run_help(stderr); return DE_EXIT_ERROR;
        }
    }
    if (cleanup) {
        if (optind != argc)
            return de_cli_fail("run --cleanup takes no SCENARIO");
        if (de_run_cleanup(&o, stdout, &err))
            return de_cli_fail("%s", err.msg);
        return DE_EXIT_OK;
    }
    if (optind != argc - 1) {
        run_help(stderr);
        return de_cli_fail("run: one SCENARIO or PLAN file is required");
    }
    o.inject = (const char *const *)inject;
    const char *arg = argv[optind];
    char *from_plan = NULL;
    /* A plan file has a top-level `plan` group; anything else is taken as a scenario. */
    config_t probe;
    int is_plan = 0;
    if (de_conf_read(&probe, arg, &err) == DE_OK)
        is_plan = config_lookup(&probe, "plan") != NULL;
    config_destroy(&probe);
    if (is_plan) {
        o.plan = arg;
        if (!scen) {
            from_plan = plan_scenario(arg);
            if (!from_plan)
                return de_cli_fail("%s: plan.scenario: missing (or give --scenario)", arg);
            scen = from_plan;
        }
    } else {
        if (scen)
            return de_cli_fail("--scenario is for plan files; %s is a scenario", arg);
        scen = arg;
    }
    o.scenario = scen;
    de_scenario *ws = NULL; /* only for the warning: the run loads it itself and reports its errors */
    de_err werr;
    if (de_scenario_load(scen, NULL, &ws, &werr) == DE_OK)
        de_cli_warn_measured_host(ws);
    de_scenario_destroy(ws);
    cJSON *sum = NULL;
    int rc = de_run(&o, json ? NULL : stdout, &sum, &err);
    if (json && sum) {
        char *t = cJSON_Print(sum);
        puts(t);
        free(t);
    }
    cJSON_Delete(sum);
    free(from_plan);
    if (rc)
        return de_cli_fail("%s", err.msg);
    return DE_EXIT_OK;
}
