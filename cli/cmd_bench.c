/* cmd_bench.c — `deepedge bench plan`: planning time and optimality gap.
 *
 * Speed goals live here, never in unit tests. Figures are wall-clock medians on
 * this machine, one core, over generated scenarios (de_generate.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "de_generate.h"
#include "de_planner.h"
#include "de_util.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge bench plan [--reps N] [--gap-instances N] [--seed S] [--batch B]\n\n"
            "Prints (1) deep-edge planning time for 10, 100, 1,000 and 10,000 devices (median of\n"
            "--reps runs, default 5) and exact at 8/10/12 devices; (2) the optimality gap of\n"
            "deep-edge against exact over --gap-instances random clusters (default 200) of 2-12 devices.\n"
            "Targets (issue 2): deep-edge <= 10 ms at 1,000 devices, <= 200 ms at 10,000; exact <= 1 s at 12.\n");
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

int de_cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "plan") != 0) {
        help(argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout : stderr);
        return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                   ? DE_EXIT_OK
                   : de_cli_fail("bench: the benchmark to run is required: plan");
    }
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
    argc--;
    argv++;
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
