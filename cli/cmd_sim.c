/* cmd_sim.c — `deepedge sim SCENARIO` (one policy, or all of them compared); its options
 * are parsed with sweep's (de_cli_sim_parse, cli_args.c); sweep is cmd_sweep.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "de_planner.h"
#include "de_plot.h"
#include "de_sim_report.h"
#include "de_sim.h"
#include "de_util.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge sim SCENARIO [options]\n\n"
            "Simulates the scenario: LC requests one by one, the update jobs iteration by iteration\n"
            "with the planner's plans, checkpoints, faults and re-planning. Prints a summary;\n"
            "writes CSV time series, the event log and figures into the output folder.\n\n"
            "options:\n"
            "  --policy P         %s, or all (compare them on the same seed);\n"
            "                     repeat it to compare several (all --policy ext:CMD: the table's and\n"
            "                     an external one); --policy list prints the policy table\n"
            "  --plan FILE        start the job from this plan file (deepedge plan -o), unchanged;\n"
            "                     the policy re-plans after faults and load changes\n"
            "  --inject CHANGE    a change of the world, as `deepedge run --inject` takes it:\n"
            "                     KIND:TARGET[*FACTOR|=RATE]@ITERATION or @SECONDSs (e.g. crash:gpu-box-2@50,\n"
            "                     lc-rate:traffic-cam=40@120s); --inject list prints the kinds\n"
            "  --seed N           random seed (default 1): same seed, same output bytes\n"
            "  --until T          simulate [0, T) seconds (default: until every job is done, at most\n"
            "                     24 h after the last arrival); refused when the LC rates times T exceed\n"
            "                     1e11 requests (every request is simulated: hours of work)\n"
            "  --out DIR          output folder (default out/SCENARIO-NAME; per policy when comparing)\n"
            "  --json             print a JSON summary on stdout instead of the tables\n"
            "  --window S         metrics window in seconds (default 60)\n"
            "  --step-cv X        step-time coefficient of variation (default 0.05; 0: deterministic)\n"
            "  --replan-cost S    time to re-plan (default: planner.replan_cost_s)\n"
            "  --restart-cost S   time to restart from a checkpoint (default: planner.restart_cost_s)\n"
            "  --switch-gain X    switch plans when predicted this much faster, costs included\n"
            "                     (default: planner.switch_gain); the rule is ARCHITECTURE.md's\n"
            "  --correction on|off  the online correction of the models from what is simulated\n"
            "                     (default: planner.correction); with the scenario's model_error the\n"
            "                     simulated world differs from the catalog the planner believes\n"
            "  --stall-timeout S  a device whose step cannot end (its LC load saturates it) is taken as\n"
            "                     lost after S seconds, as run's --stall-timeout (default 120)\n"
            "  --no-plots         do not run gnuplot\n"
            "  --catalog DIR      device catalog directory\n"
            "  -h, --help         this text\n\n"
            "Exit status: 0 every LC task met its deadline and every job finished, 2 not, 1 error.\n",
            de_policy_list());
}

/* Runs one policy; prints (or not), writes files and figures. */
static int run_one(const de_scenario *s, de_cli_sim_args *a, const char *dir, de_sim_result *r, int print)
{
    de_err err;
    a->o.out_dir = dir;
    a->o.progress = !a->json && isatty(2) ? stderr : NULL;
    if (de_sim_run(s, &a->o, r, &err))
        return de_cli_fail("%s", err.msg);
    if (print && !a->json)
        de_report_print(r, stdout);
    if (dir) {
        cJSON *j = de_report_json(r);
        char *text = cJSON_Print(j);
        char *p = de_path_join(dir, "summary.json"), *line = de_sprintf("%s\n", text);
        int bad = de_file_write_atomic(p, line, strlen(line), &err);
        free(line);
        free(text);
        cJSON_Delete(j);
        free(p);
        if (bad)
            return de_cli_fail("%s", err.msg);
        char *label = de_sprintf("%s, %s", s->name, de_policy_name((de_policy)r->policy));
        int prc = a->plots ? de_plot_run_figures(s, dir, "simulated", label, &err) : DE_OK;
        free(label);
        if (prc)
            return de_cli_fail("%s", err.msg);
    }
    return DE_EXIT_OK;
}

static char *default_out(const de_scenario *s)
{
    mkdir("out", 0777);
    return de_sprintf("out/%s", s->name);
}

int de_cmd_sim(int argc, char **argv)
{
    de_cli_sim_args a;
    memset(&a, 0, sizeof a);
    int i = de_cli_sim_parse(argc, argv, &a, "sim", 0, help);
    if (i <= 0)
        return i == 0 ? DE_EXIT_OK : DE_EXIT_ERROR;
    de_scenario *s;
    de_err err;
    if (de_scenario_load(argv[i], a.catalog, &s, &err))
        return de_cli_fail("%s", err.msg);
    de_cli_warn_measured_host(s);
    de_change inject[64];
    for (int k = 0; k < a.n_inject; k++)
        if (de_change_parse_spec(a.inject[k], s, &inject[k], &err)) {
            de_scenario_destroy(s);
            return de_cli_fail("%s", err.msg);
        }
    a.o.inject = inject;
    a.o.n_inject = a.n_inject;
    de_plan given;
    de_plan_init(&given);
    int compare = a.all || a.n_policies > 1; /* several policies, compared */
    if (a.plan) {
        if (compare) {
            de_scenario_destroy(s);
            return de_cli_fail("--plan runs one plan: not with --policy all or several --policy");
        }
        if (de_plan_read(a.plan, s, &given, &err)) {
            de_scenario_destroy(s);
            return de_cli_fail("%s", err.msg);
        }
        a.o.plan = &given;
        if (a.o.policy < 0)
            a.o.policy = (int)given.policy; /* re-plans with the plan's policy */
    }
    char *out = a.out ? de_strdup(a.out) : default_out(s);
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        de_cli_fail("%s: cannot create the output folder: %s", out, strerror(errno));
        free(out);
        de_plan_free(&given);
        de_scenario_destroy(s);
        return DE_EXIT_ERROR;
    }
    int rc = DE_EXIT_OK;
    if (!compare) {
        de_sim_result r;
        rc = run_one(s, &a, out, &r, 1);
        if (rc == DE_EXIT_OK) {
            if (a.json) {
                cJSON *j = de_report_json(&r);
                char *text = cJSON_Print(j);
                printf("%s\n", text);
                free(text);
                cJSON_Delete(j);
            } else {
                printf("\noutputs in %s/ (events.csv, iterations.csv, timeline.csv, lc_windows.csv, lc_cdf.csv, "
                       "summary.json%s)\n", out, a.plots ? ", figures" : "");
            }
            if (!de_sim_result_ok(&r))
                rc = DE_EXIT_INFEASIBLE;
        }
        de_sim_result_free(&r);
    } else {
        /* Every policy (all: the table's; then those named by --policy), same seed; exact
         * only where it can enumerate. */
        de_policy pols[DE_POLICY_MAX];
        int npol = 0;
        for (int p = 0; a.all && p < DE_POLICY_COUNT; p++)
            pols[npol++] = (de_policy)p;
        for (int k = 0; k < a.n_policies; k++)
            if (!a.all || de_policy_is_external(a.policies[k]))
                pols[npol++] = a.policies[k];
        cJSON *arr = cJSON_CreateArray();
        de_sim_result rs[DE_POLICY_MAX];
        int have[DE_POLICY_MAX] = {0};
        for (int p = 0; p < npol && rc == DE_EXIT_OK; p++) {
            if (!de_policy_accepts(pols[p], s->n_devices))
                continue;
            a.o.policy = (int)pols[p];
            char *dir = de_sprintf("%s/%s", out, de_policy_file_name(pols[p]));
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                rc = de_cli_fail("%s: cannot create: %s", dir, strerror(errno));
            else
                rc = run_one(s, &a, dir, &rs[p], 0);
            have[p] = rc == DE_EXIT_OK;
            if (have[p])
                cJSON_AddItemToArray(arr, de_report_json(&rs[p]));
            free(dir);
        }
        if (rc == DE_EXIT_OK) {
            if (a.json) {
                char *text = cJSON_Print(arr);
                printf("%s\n", text);
                free(text);
            } else {
                printf("policy comparison: scenario %s, seed %lu (same requests and step-time draws for every policy)\n",
                       s->name, a.o.seed);
                de_report_compare_header(stdout);
                for (int p = 0; p < npol; p++)
                    if (have[p])
                        de_report_compare_row(&rs[p], stdout);
                for (int p = 0; p < npol; p++)
                    if (!de_policy_accepts(pols[p], s->n_devices))
                        printf("(%s skipped: it accepts at most %d devices)\n", de_policy_name(pols[p]),
                               de_policy_max_devices(pols[p]));
                for (int p = 0; p < npol; p++)
                    if (de_policy_is_external(pols[p]))
                        printf("(%s: outputs in %s/%s/)\n", de_policy_name(pols[p]), out, de_policy_file_name(pols[p]));
                printf("\nper-policy outputs and figures in %s/<policy>/\n", out);
            }
            for (int p = 0; p < npol; p++)
                if (pols[p] == s->planner.policy && have[p] && !de_sim_result_ok(&rs[p]))
                    rc = DE_EXIT_INFEASIBLE;
        }
        for (int p = 0; p < npol; p++)
            if (have[p])
                de_sim_result_free(&rs[p]);
        cJSON_Delete(arr);
    }
    free(out);
    de_plan_free(&given);
    de_scenario_destroy(s);
    return rc;
}

