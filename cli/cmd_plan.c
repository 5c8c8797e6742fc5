/* cmd_plan.c — `deepedge plan SCENARIO`: compute a plan, print it, compare policies. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "de_plan.h"
#include "de_planner.h"
#include "de_state.h"
#include "de_summary.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge plan SCENARIO [options]\n\n"
            "Computes which devices re-train the job and how its global batch is split,\n"
            "so that re-training ends as early as possible and no LC task misses its deadline;\n"
            "prints the plan and a comparison with every other policy.\n\n"
            "options:\n"
            "  --policy P         %s, or all (default: the scenario's planner.policy);\n"
            "                     repeat it to compare several (all --policy ext:CMD: the table's\n"
            "                     and an external one); --policy list prints the policy table\n"
            "  --job NAME         the job to plan (default: the first in the scenario)\n"
            "  --time T           plan at time T seconds: rate traces are read there (default: job arrival)\n"
            "  --margin M         override planner.safety_margin (0..0.9)\n"
            "  -o, --output FILE  write the plan file (loaded unchanged by sim and run)\n"
            "  --json             print a JSON summary on stdout instead of the tables\n"
            "  --show-scenario    print the resolved scenario first\n"
            "  --no-compare       do not print the policy comparison\n"
            "  --catalog DIR      device catalog directory (default: the scenario's, else built-in)\n"
            "  -h, --help         this text\n\n"
            "Exit status: 0 feasible plan, 2 no plan meets every deadline (verdict printed), 1 error.\n",
            de_policy_list());
}

/* One row of the comparison table. */
static void compare_row(const de_plan *p, const de_state *st, const de_plan *ref, FILE *out)
{
    char rt[32], it[32], gap[32] = "";
    snprintf(it, sizeof it, isfinite(p->iteration_time_s) ? "%.3f" : "inf", p->iteration_time_s);
    snprintf(rt, sizeof rt, isfinite(p->retraining_time_s) ? "%.1f" : "inf", p->retraining_time_s);
    if (ref && ref->feasible && isfinite(p->retraining_time_s) && p != ref)
        snprintf(gap, sizeof gap, "%+.1f%%", 100.0 * (p->retraining_time_s / ref->retraining_time_s - 1.0));
    fprintf(out, "%-14s %8d %12s %15s %10s %11d %12d %9s %10.2f\n", de_policy_name(p->policy), p->n_shares, it, rt,
            gap, p->violations, p->over_margin, p->feasible ? "yes" : "NO", p->planning_time_s * 1e3);
    (void)st;
}

int de_cmd_plan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"policy", required_argument, 0, 'p'}, {"job", required_argument, 0, 'j'},
        {"time", required_argument, 0, 't'},   {"margin", required_argument, 0, 'm'},
        {"output", required_argument, 0, 'o'}, {"json", no_argument, 0, 'J'},
        {"show-scenario", no_argument, 0, 'S'}, {"no-compare", no_argument, 0, 'N'},
        {"catalog", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *job_s = NULL, *out_path = NULL, *catalog = NULL;
    double at = -1, margin = -1;
    int json = 0, show = 0, compare = 1, c;
    de_policy sel[DE_POLICY_MAX]; /* the policies named by --policy, in order */
    int nsel = 0, all = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "p:j:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "list") == 0) {
                de_policy_print_table(stdout);
                return DE_EXIT_OK;
            }
            if (de_cli_policy_arg(optarg, &all, sel, &nsel))
                return DE_EXIT_ERROR;
            break;
        case 'j': job_s = optarg; break;
        case 't':
            if (de_cli_float("--time", optarg, 0, 1e12, &at))
                return DE_EXIT_ERROR;
            break;
        case 'm':
            if (de_cli_float("--margin", optarg, 0, 0.9, &margin))
                return DE_EXIT_ERROR;
            break;
        case 'o': out_path = optarg; break;
        case 'J': json = 1; break;
        case 'S': show = 1; break;
        case 'N': compare = 0; break;
        case 'c': catalog = optarg; break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default:
            help(stderr);
            return de_cli_fail("plan: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        help(stderr);
        return de_cli_fail("plan: expected exactly one SCENARIO argument");
    }
    de_scenario *s;
    de_err err;
    if (de_scenario_load(argv[optind], catalog, &s, &err))
        return de_cli_fail("%s", err.msg);
    de_cli_warn_measured_host(s);

    int rc = DE_EXIT_OK;
    de_planner_opts popt = s->planner;
    if (margin >= 0)
        popt.safety_margin = margin;
    /* One policy (the scenario's, or the one named), its plan compared with the table's
     * policies; or several compared (all, or --policy more than once): every plan printed. */
    int several = all || nsel > 1;
    de_policy pol = nsel > 0 ? sel[0] : popt.policy;
    if (all && !(nsel > 0 && de_policy_is_external(sel[0])))
        pol = DE_POLICY_DEEP_EDGE;
    if (several && out_path) {
        rc = de_cli_fail("-o writes one plan: choose one --policy, not all or several");
        goto done;
    }
    unsigned char want[DE_POLICY_MAX] = {0}, named[DE_POLICY_MAX] = {0};
    for (int i = 0; i < nsel; i++)
        want[sel[i]] = named[sel[i]] = 1;
    want[pol] = named[pol] = 1;
    for (int i = 0; i < DE_POLICY_COUNT; i++)
        if (all || (!several && compare))
            want[i] = 1;
    int job = 0;
    if (job_s && (job = de_scenario_job(s, job_s)) < 0) {
        rc = de_cli_fail("--job: no job '%s' in %s", job_s, s->path);
        goto done;
    }
    de_state st;
    de_state_init(&st, s, at >= 0 ? at : s->jobs[job].arrival_s);
    de_predictor pred = de_predictor_model();

    /* Indexed by policy value: the table's, then the external ones. */
    de_plan plans[DE_POLICY_MAX];
    int have[DE_POLICY_MAX] = {0};
    char skipped[DE_POLICY_MAX][256];
    for (int i = 0; i < DE_POLICY_MAX; i++) {
        de_plan_init(&plans[i]);
        skipped[i][0] = '\0';
    }
    /* A policy named (or the scenario's) that fails is an error; one of the table's
     * that is only there for the comparison is listed as skipped. */
    for (int i = 0; i < DE_POLICY_MAX; i++) {
        if (!want[i])
            continue;
        if (de_plan_compute(&st, job, (de_policy)i, &popt, &pred, &plans[i], &err)) {
            if (named[i]) {
                rc = de_cli_fail("%s", err.msg);
                goto free_plans;
            }
            snprintf(skipped[i], sizeof skipped[i], "%s", err.msg);
            continue;
        }
        have[i] = 1;
    }
    const de_plan *chosen = &plans[pol];
    if (!have[pol]) { /* all: deep-edge was skipped */
        rc = de_cli_fail("%s", skipped[pol]);
        goto free_plans;
    }

    if (json) {
        cJSON *o;
        if (several) {
            o = cJSON_CreateArray();
            for (int i = 0; i < DE_POLICY_MAX; i++)
                if (have[i])
                    cJSON_AddItemToArray(o, de_summary_of_plan(&plans[i], &st));
        } else {
            o = de_summary_of_plan(chosen, &st);
        }
        char *text = cJSON_Print(o);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else {
        if (show) {
            de_scenario_print(s, stdout);
            printf("\n");
        }
        if (s->n_jobs > 1)
            printf("(scenario has %d jobs; planning '%s' — choose with --job)\n", s->n_jobs, s->jobs[job].name);
        for (int i = 0; i < DE_POLICY_MAX; i++)
            if (have[i] && (several ? 1 : i == (int)pol)) {
                de_plan_print(&plans[i], &st, stdout);
                printf("\n");
            }
        if (compare || several) {
            printf("policy comparison (same scenario, same predictions; gap vs %s)\n", de_policy_name(chosen->policy));
            printf("%-14s %8s %12s %15s %10s %11s %12s %9s %10s\n", "policy", "devices", "iteration_s", "retraining_s",
                   "vs chosen", "violations", "over_margin", "feasible", "plan_ms");
            for (int i = 0; i < DE_POLICY_MAX; i++) {
                if (have[i])
                    compare_row(&plans[i], &st, chosen, stdout);
                else if (skipped[i][0])
                    printf("%-14s skipped: %s\n", de_policy_name((de_policy)i), skipped[i]);
            }
        }
    }
    if (out_path) {
        if (de_plan_write(chosen, &st, out_path, &err)) {
            rc = de_cli_fail("%s", err.msg);
            goto free_plans;
        }
        if (!json)
            printf("\nplan written to %s\n", out_path);
    }
    if (rc == DE_EXIT_OK && !chosen->feasible)
        rc = DE_EXIT_INFEASIBLE;
free_plans:
    for (int i = 0; i < DE_POLICY_MAX; i++)
        de_plan_free(&plans[i]);
    de_state_free(&st);
done:
    de_scenario_destroy(s);
    return rc;
}
