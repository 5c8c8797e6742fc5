/* cmd_bench.c — `deepedge bench plan|sim-engine|sim-scale|startup`: planning time and
 * optimality gap, the event engine, a simulated day, start-up cost. `bench train` and
 * `bench exec` run in deepedge-exec (cmd_bench_train.c, cmd_bench_exec.c).
 *
 * Speed goals live here, never in unit tests. Figures are wall-clock medians on
 * this machine, one core, over generated scenarios (de_generate.h). */
#define _DEFAULT_SOURCE /* wait4: a child's own peak memory (bench startup) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "de_generate.h"
#include "de_phold.h"
#include "de_sim.h"
#include "de_planner.h"
#include "de_util.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge bench plan [--reps N] [--gap-instances N] [--seed S] [--batch B]\n"
            "       deepedge bench sim-engine [--remote R] [--config NxP,END] [--seed S]\n"
            "       deepedge bench sim-scale [--devices N] [--lc-tasks M] [--max-rate R] [--hours H]\n"
            "       deepedge bench startup [--reps N]\n"
            "       deepedge bench fidelity [--scenario FILE] [--quick | --only LIST] [--repeat N] [--out DIR]   (sim against run: --help)\n"
            "       deepedge bench train [--net NAME] [--batch 8,32,64] [--threads 1,2] [--steps N] [--device cpu|cuda]\n");
    fprintf(out, "       deepedge bench exec [--ranks 2,3,4] [--batch 32] [--iters N] [--warmup N] [--net NAME]\n"
                 "                           [--bytes LIST] [--reps N]   (deepedge bench exec --help)\n");
    fprintf(out, "\n"
            "train times SGD steps (forward, backward, momentum update) of the network on random data and\n"
            "prints the median over --steps (default 50, after 5 warm-up steps): images/s, ms/step and\n"
            "GFLOP/s counting a training step as 3x the forward's FLOPs (edgenet-s: 120.4 MFLOP/image\n"
            "forward, 361 MFLOP/image per step), then inference latency (forward only) at batch 1 and 8.\n"
            "Figures to beat (PyTorch 1.13 CPU, same network; train/bench/pytorch_edgenet.py measures them\n"
            "side by side): >= 1.0x PyTorch's images/s at batch 32, batch-1 latency <= PyTorch's.\n\n"
            "sim-engine runs the PHOLD model (lookahead 0.1, mean 1.0) on the six standard\n"
            "configurations, each in a child process, and prints events, wall time, events/s and\n"
            "peak memory (max RSS of the child), next to ROSS's sequential scheduler on this kind of\n"
            "machine (remote 0.25). Targets: >= 10 M events/s at 1024x1 and >= 5x ROSS everywhere.\n"
            "startup times whole invocations of deepedge (version, plan --json, scenario check) and of\n"
            "deepedge-exec, which loads MPI, BLAS and CUDA: median wall and peak resident memory.\n"
            "Target: plan --json <= 20 ms and <= 30 MB.\n"
            "sim-scale simulates a generated cluster (default 1,000 devices, 500 LC tasks at <= 20 req/s,\n"
            "ResNet-50 fine-tuning) request by request over 24 simulated hours, in a child process,\n"
            "and prints wall time, requests and events per second, and peak memory. Target: < 1 min.\n\n"
            "Prints (1) deep-edge planning time for 10, 100, 1,000 and 10,000 devices (median of\n"
            "--reps runs, default 5) and exact at 8/10/12 devices; (2) the optimality gap of\n"
            "deep-edge against exact over --gap-instances random clusters (default 200) of 2-12 devices.\n"
            "Targets (issue 2): deep-edge <= 10 ms at 1,000 devices, <= 200 ms at 10,000; exact <= 1 s at 12.\n"
            "exec: the data-parallel executor's overhead per iteration (deepedge bench exec --help).\n");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A generated cluster (de_generate.h) from the built-in catalog. */
static de_scenario *generated(int devices, int lc_tasks, unsigned long seed, const char *network, int batch)
{
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = devices;
    o.lc_tasks = lc_tasks;
    o.seed = seed;
    o.network = network;
    o.global_batch = batch;
    de_scenario *s;
    de_err err;
    if (de_generate_load(DE_DEFAULT_CATALOG, &o, &s, &err)) {
        de_cli_fail("%s", err.msg);
        return NULL;
    }
    return s;
}

static int time_policy(int devices, unsigned long seed, int batch, const char *network, de_policy pol, int reps)
{
    de_scenario *s = generated(devices, devices / 2, seed, network, batch);
    de_err err;
    if (!s)
        return DE_EXIT_ERROR;
    de_state st;
    de_state_init(&st, s, 0);
    de_predictor pred = de_predictor_model();
    double *t = de_calloc((size_t)reps, sizeof(double));
    de_plan p;
    de_plan_init(&p);
    int rc = 0;
    for (int r = 0; r < reps && !rc; r++) {
        if (de_plan_compute(&st, 0, pol, &s->planner, &pred, &p, &err)) {
            rc = de_cli_fail("%s", err.msg);
            break;
        }
        t[r] = p.planning_time_s;
    }
    if (!rc) {
        qsort(t, (size_t)reps, sizeof(double), cmp_d);
        printf("%-10s %-12s %8d %8d %7d %11.3f %11.3f %11.3f %8d %12.4f %9s\n", de_policy_name(pol), network, devices,
               s->n_tasks,
               s->jobs[0].global_batch, t[reps / 2] * 1e3, t[0] * 1e3, t[reps - 1] * 1e3, p.n_shares,
               p.iteration_time_s, p.feasible ? "yes" : "no");
    }
    fflush(stdout);
    free(t);
    de_plan_free(&p);
    de_state_free(&st);
    de_scenario_destroy(s);
    return rc;
}

static int gap_study(int instances, unsigned long seed0)
{
    int within2 = 0, both = 0, worse_count = 0, he_inf = 0, ex_inf = 0;
    double sum_gap = 0, max_gap = 0, sum_he = 0, sum_ex = 0;
    de_predictor pred = de_predictor_model();
    for (int k = 0; k < instances; k++) {
        int n = 2 + k % 11;
        de_scenario *s = generated(n, -1, seed0 + (unsigned long)k, NULL, 0);
        de_err err;
        if (!s)
            return DE_EXIT_ERROR;
        de_state st;
        de_state_init(&st, s, 0);
        de_plan he, ex;
        de_plan_init(&he);
        de_plan_init(&ex);
        de_plan_compute(&st, 0, DE_POLICY_DEEP_EDGE, &s->planner, &pred, &he, &err);
        de_plan_compute(&st, 0, DE_POLICY_EXACT, &s->planner, &pred, &ex, &err);
        sum_he += he.planning_time_s;
        sum_ex += ex.planning_time_s;
        int hf = he.n_shares > 0, ef = ex.n_shares > 0;
        he_inf += !hf;
        ex_inf += !ef;
        if (hf && ef) {
            both++;
            double gap = he.iteration_time_s / ex.iteration_time_s - 1.0;
            if (gap <= 0.02)
                within2++;
            if (gap > 1e-9)
                worse_count++;
            sum_gap += gap;
            if (gap > max_gap)
                max_gap = gap;
        }
        de_plan_free(&he);
        de_plan_free(&ex);
        de_state_free(&st);
        de_scenario_destroy(s);
    }
    printf("\noptimality gap of deep-edge vs exact (iteration time), %d random clusters of 2-12 devices\n", instances);
    printf("  both found a plan        %d (exact found none: %d, deep-edge found none: %d)\n", both, ex_inf, he_inf);
    printf("  within 2%% of exact       %d of %d (%.1f%%)\n", within2, both, both ? 100.0 * within2 / both : 0.0);
    printf("  optimal (gap <= 1e-9)    %d of %d\n", both - worse_count, both);
    printf("  mean gap %.3f%%, max gap %.3f%%\n", both ? 100.0 * sum_gap / both : 0.0, 100.0 * max_gap);
    printf("  mean planning time: deep-edge %.3f ms, exact %.3f ms\n", 1e3 * sum_he / instances, 1e3 * sum_ex / instances);
    return 0;
}

static int bench_plan(int argc, char **argv)
{
    static const struct option opts[] = {{"reps", required_argument, 0, 'r'},
                                         {"gap-instances", required_argument, 0, 'g'},
                                         {"seed", required_argument, 0, 's'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long long reps = 5, gap = 200, seed = 1, batch = 256, v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (de_cli_int("--reps", optarg, 1, 1000, &reps))
                return DE_EXIT_ERROR;
            break;
        case 'g':
            if (de_cli_int("--gap-instances", optarg, 0, 100000, &gap))
                return DE_EXIT_ERROR;
            break;
        case 's':
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &seed))
                return DE_EXIT_ERROR;
            break;
        case 'b':
            if (de_cli_int("--batch", optarg, 1, 1000000, &v))
                return DE_EXIT_ERROR;
            batch = v;
            break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default: help(stderr); return de_cli_fail("bench plan: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    printf("planning time (ms, wall clock, one core; generated clusters, LC tasks = devices/2)\n");
    printf("%-10s %-12s %8s %8s %7s %11s %11s %11s %8s %12s %9s\n", "policy", "network", "devices", "lc_tasks", "batch",
           "median_ms", "min_ms", "max_ms", "used", "iteration_s", "feasible");
    static const int sizes[] = {10, 100, 1000, 10000};
    static const char *nets[] = {"resnet50-ft", "edgenet-s"};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            if (time_policy(sizes[i], (unsigned long)seed, (int)batch, nets[k], DE_POLICY_DEEP_EDGE, (int)reps))
                return DE_EXIT_ERROR;
    static const int ex[] = {8, 10, 12};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++)
            if (time_policy(ex[i], (unsigned long)seed, (int)batch, nets[k], DE_POLICY_EXACT, (int)(reps < 3 ? reps : 3)))
                return DE_EXIT_ERROR;
    if (gap > 0 && gap_study((int)gap, (unsigned long)seed * 1000003UL))
        return DE_EXIT_ERROR;
    return DE_EXIT_OK;
}

/* ---- bench sim-engine: PHOLD ---- */

typedef struct phold_cfg {
    uint32_t n, p;
    double end;
    double ross_meps; /* ROSS sequential, remote 0.25, this kind of machine (issue 4) */
} phold_cfg;

static const phold_cfg phold_cfgs[] = {
    {1024, 1, 20000, 2.1},  {1024, 16, 1250, 1.3}, {16384, 1, 1250, 1.05},
    {16384, 16, 80, 0.39},  {262144, 1, 80, 0.36}, {262144, 16, 5, 0.17},
};

/* Runs fn(arg, out) in a child process and copies its `size`-byte result back, so
 * that the child's peak RSS is the benchmark's own; *maxrss_kb gets it. fn returns
 * 0 on success. */
static int in_child(int (*fn)(const void *arg, void *out), const void *arg, void *out, size_t size, long *maxrss_kb)
{
    int fd[2];
    if (pipe(fd))
        return de_cli_fail("bench: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return de_cli_fail("bench: fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        int rc = fn(arg, out);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        long rss = ru.ru_maxrss;
        int ok = write(fd[1], out, size) == (ssize_t)size && write(fd[1], &rss, sizeof rss) == (ssize_t)sizeof rss;
        _exit(ok && rc == 0 ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, size);
    ssize_t got2 = read(fd[0], maxrss_kb, sizeof *maxrss_kb);
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got != (ssize_t)size || got2 != (ssize_t)sizeof *maxrss_kb || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return de_cli_fail("bench: the measured child failed (status %d)", status);
    return 0;
}

static int phold_fn(const void *arg, void *out)
{
    de_err err;
    int rc = de_phold_run(arg, out, &err);
    if (rc)
        fprintf(stderr, "deepedge: %s\n", err.msg);
    return rc;
}

static int bench_sim_engine(int argc, char **argv)
{
    static const struct option opts[] = {{"remote", required_argument, 0, 'r'},
                                         {"config", required_argument, 0, 'c'},
                                         {"seed", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    double remote = 0.25;
    long long seed = 1;
    const char *only = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (de_cli_float("--remote", optarg, 0, 1, &remote))
                return DE_EXIT_ERROR;
            break;
        case 'c': only = optarg; break;
        case 's':
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &seed))
                return DE_EXIT_ERROR;
            break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default: help(stderr); return de_cli_fail("bench sim-engine: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    phold_cfg custom;
    const phold_cfg *cfgs = phold_cfgs;
    int ncfg = (int)(sizeof phold_cfgs / sizeof phold_cfgs[0]);
    if (only) {
        unsigned n, p;
        double end;
        char tail;
        if (sscanf(only, "%ux%u,%lf%c", &n, &p, &end, &tail) != 3 || n < 1 || p < 1 || !(end > 0))
            return de_cli_fail("--config: '%s' is not NxP,END (e.g. 1024x1,20000)", only);
        custom = (phold_cfg){n, p, end, 0};
        cfgs = &custom;
        ncfg = 1;
    }
    printf("PHOLD on the deepedge engine (lookahead 0.1, mean 1.0, remote %g, seed %lld; one core)\n", remote, seed);
    printf("%-16s %12s %9s %12s %10s %12s %9s %10s\n", "config N x P,end", "events", "wall_s", "events/s", "peak_MB",
           "queue_MB", "ROSS_M/s", "vs_ROSS");
    for (int i = 0; i < ncfg; i++) {
        de_phold_opts o;
        de_phold_defaults(&o);
        o.lps = cfgs[i].n;
        o.events_per_lp = cfgs[i].p;
        o.end = cfgs[i].end;
        o.remote = remote;
        o.seed = (unsigned long)seed;
        de_phold_result r = {0};
        long rss = 0;
        if (in_child(phold_fn, &o, &r, sizeof r, &rss))
            return DE_EXIT_ERROR;
        char name[48], ross[16] = "-", ratio[16] = "-";
        snprintf(name, sizeof name, "%ux%u,%g", cfgs[i].n, cfgs[i].p, cfgs[i].end);
        double rate = (double)r.events / r.wall_s;
        if (cfgs[i].ross_meps > 0 && remote == 0.25) {
            snprintf(ross, sizeof ross, "%.2f", cfgs[i].ross_meps);
            snprintf(ratio, sizeof ratio, "%.1fx", rate / (cfgs[i].ross_meps * 1e6));
        }
        printf("%-16s %12llu %9.3f %12.0f %10.1f %12.1f %9s %10s\n", name, (unsigned long long)r.events, r.wall_s, rate,
               rss / 1024.0, r.queue_bytes / 1048576.0, ross, ratio);
        fflush(stdout);
    }
    return DE_EXIT_OK;
}

/* ---- bench sim-scale: a day of a large cluster ---- */

typedef struct scale_arg {
    long long devices, tasks;
    double max_rate, hours;
} scale_arg;

typedef struct scale_out {
    int n_tasks;
    double wall, end, setup;
    unsigned long long requests, events;
} scale_out;

static int scale_fn(const void *argp, void *outp)
{
    const scale_arg *a = argp;
    scale_out *out = outp;
    memset(out, 0, sizeof *out);
    double t0 = de_now_s();
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = (int)a->devices;
    o.lc_tasks = (int)a->tasks;
    o.seed = 1;
    o.network = "resnet50-ft";
    o.global_batch = 256;
    o.max_rate = a->max_rate;
    de_scenario *s;
    de_err err;
    int rc = de_generate_load(DE_DEFAULT_CATALOG, &o, &s, &err);
    if (!rc) {
        de_sim_opts so;
        de_sim_opts_default(&so);
        so.until_s = a->hours * 3600;
        so.window_s = 600;
        de_sim_result r;
        out->setup = de_now_s() - t0;
        rc = de_sim_run(s, &so, &r, &err);
        if (!rc) {
            out->wall = r.wall_s;
            out->end = r.end_s;
            out->requests = (unsigned long long)r.requests;
            out->events = (unsigned long long)r.events;
            out->n_tasks = s->n_tasks;
        }
        de_sim_result_free(&r);
        de_scenario_destroy(s);
    }
    if (rc)
        fprintf(stderr, "deepedge: %s\n", err.msg);
    return rc;
}

static int bench_sim_scale(int argc, char **argv)
{
    static const struct option opts[] = {{"devices", required_argument, 0, 'd'}, {"lc-tasks", required_argument, 0, 'l'},
                                         {"max-rate", required_argument, 0, 'r'}, {"hours", required_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    long long devices = 1000, tasks = 500;
    double max_rate = 20, hours = 24;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (de_cli_int("--devices", optarg, 1, 1000000, &devices))
                return DE_EXIT_ERROR;
            break;
        case 'l':
            if (de_cli_int("--lc-tasks", optarg, 0, 10000000, &tasks))
                return DE_EXIT_ERROR;
            break;
        case 'r':
            if (de_cli_float("--max-rate", optarg, 1e-3, 1e9, &max_rate))
                return DE_EXIT_ERROR;
            break;
        case 'H':
            if (de_cli_float("--hours", optarg, 1e-3, 1e4, &hours))
                return DE_EXIT_ERROR;
            break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default: help(stderr); return de_cli_fail("bench sim-scale: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    scale_arg in = {devices, tasks, max_rate, hours};
    scale_out out;
    long rss;
    if (in_child(scale_fn, &in, &out, sizeof out, &rss))
        return DE_EXIT_ERROR;
    printf("sim-scale: %lld devices, %d LC tasks (rates <= %g req/s), ResNet-50 fine-tuning, %g simulated hours, one core\n",
           devices, out.n_tasks, max_rate, hours);
    printf("%12s %14s %12s %12s %14s %10s %10s\n", "wall_s", "LC_requests", "requests/s", "engine_ev", "sim_s/wall_s",
           "peak_MB", "setup_s");
    printf("%12.2f %14llu %12.0f %12llu %14.0f %10.1f %10.2f\n", out.wall, out.requests, out.requests / out.wall, out.events,
           out.end / out.wall, rss / 1024.0, out.setup);
    return DE_EXIT_OK;
}

/* Runs argv (stdout and stderr to /dev/null) and returns its wall seconds; *rss_kb: its
 * peak resident memory. */
static double timed_run(char *const argv[], long *rss_kb)
{
    double t0 = de_now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) {
            dup2(nul, 1);
            dup2(nul, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return NAN;
    *rss_kb = ru.ru_maxrss;
    return de_now_s() - t0;
}

/* `deepedge bench startup`: what one invocation costs, for the commands that need neither
 * MPI nor the training engine, against deepedge-exec, which loads them (MPI, OpenBLAS,
 * libjpeg, and CUDA where it was built with it). */
static int bench_startup(int argc, char **argv)
{
    long long reps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            if (de_cli_int("--reps", argv[++i], 1, 10000, &reps))
                return DE_EXIT_ERROR;
        } else {
            return de_cli_fail("bench startup: [--reps N] (default 20)");
        }
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return de_cli_fail("bench startup: cannot find this program (/proc/self/exe)");
    self[n] = '\0';
    char *scen = de_path_join(DE_SOURCE_SCENARIOS, "caltech-testbed.cfg");
    char *exe = de_strdup(de_cli_companion_path());
    char *const cmds[][6] = {{self, "version", NULL},
                             {self, "plan", scen, "--json", NULL},
                             {self, "scenario", "check", scen, NULL},
                             {exe, "bench", "train", "--help", NULL}};
    const char *names[] = {"deepedge version", "deepedge plan caltech-testbed --json", "deepedge scenario check",
                           "deepedge-exec (MPI, BLAS, CUDA loaded)"};
    printf("start-up: median wall and peak resident memory of %lld runs of each command, one after another\n\n"
           "%-40s %10s %10s %10s\n", reps, "command", "median_ms", "max_ms", "peak_MB");
    double *t = de_calloc((size_t)reps, sizeof *t);
    int rc = DE_EXIT_OK;
    for (int c = 0; c < 4 && !rc; c++) {
        long peak = 0;
        for (long long k = 0; k < reps; k++) {
            long rss = 0;
            t[k] = timed_run(cmds[c], &rss);
            if (isnan(t[k])) {
                rc = de_cli_fail("bench startup: cannot run %s", cmds[c][0]);
                break;
            }
            peak = rss > peak ? rss : peak;
        }
        if (rc)
            break;
        qsort(t, (size_t)reps, sizeof *t, cmp_d);
        printf("%-40s %10.2f %10.2f %10.1f\n", names[c], 1e3 * t[reps / 2], 1e3 * t[reps - 1], peak / 1024.0);
    }
    printf("\ntarget: deepedge plan ... --json <= 20 ms and <= 30 MB resident where CUDA and MPI are installed\n");
    free(t);
    free(scen);
    free(exe);
    return rc;
}

int de_cmd_bench(int argc, char **argv)
{
    const char *b = argc >= 2 ? argv[1] : "";
    if (strcmp(b, "plan") == 0)
        return bench_plan(argc - 1, argv + 1);
    if (strcmp(b, "sim-engine") == 0)
        return bench_sim_engine(argc - 1, argv + 1);
    if (strcmp(b, "sim-scale") == 0)
        return bench_sim_scale(argc - 1, argv + 1);
    if (strcmp(b, "startup") == 0)
        return bench_startup(argc - 1, argv + 1);
    if (strcmp(b, "fidelity") == 0)
        return de_bench_fidelity(argc - 1, argv + 1);
    if (strcmp(b, "train") == 0 || strcmp(b, "exec") == 0)
        return de_cli_companion(argc, argv, "bench"); /* the training engine, MPI: deepedge-exec */
    if (strcmp(b, "--help") == 0 || strcmp(b, "-h") == 0) {
        help(stdout);
        return DE_EXIT_OK;
    }
    help(stderr);
    return de_cli_fail("bench: which benchmark? plan, sim-engine, sim-scale, startup, fidelity, train or exec");
}
