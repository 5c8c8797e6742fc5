/* cmd_sim.c — `deepedge sim SCENARIO` (one policy, or all of them compared) and
 * `deepedge sweep SCENARIO --vary KEY=V1,V2,...` (a grid of runs in parallel
 * processes). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "de_conf.h"
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
            "                     --policy list prints the policy table\n"
            "  --plan FILE        start the job from this plan file (deepedge plan -o), unchanged;\n"
            "                     the policy re-plans after faults and load changes\n"
            "  --inject CHANGE    a change of the world, as `deepedge run --inject` takes it:\n"
            "                     KIND:TARGET[*FACTOR|=RATE]@ITERATION or @SECONDSs (e.g. crash:gpu-box-2@50,\n"
            "                     lc-rate:traffic-cam=40@120s); --inject list prints the kinds\n"
            "  --seed N           random seed (default 1): same seed, same output bytes\n"
            "  --until T          simulate [0, T) seconds (default: until every job is done, at most\n"
            "                     24 h after the last arrival); refused when the LC rates times T exceed\n"
            "                     1e11 requests (every request is simulated: hours of work)\n"
            "  --out DIR          output folder (default out/SCENARIO-NAME; per policy with all)\n"
            "  --json             print a JSON summary on stdout instead of the tables\n"
            "  --window S         metrics window in seconds (default 60)\n"
            "  --step-cv X        step-time coefficient of variation (default 0.05; 0: deterministic)\n"
            "  --replan-cost S    time to re-plan (default: planner.replan_cost_s)\n"
            "  --restart-cost S   time to restart from a checkpoint (default: planner.restart_cost_s)\n"
            "  --switch-gain X    switch plans when predicted this much faster, costs included\n"
            "                     (default: planner.switch_gain); the rule is ARCHITECTURE.md's\n"
            "  --no-plots         do not run gnuplot\n"
            "  --catalog DIR      device catalog directory\n"
            "  -h, --help         this text\n\n"
            "Exit status: 0 every LC task met its deadline and every job finished, 2 not, 1 error.\n",
            de_policy_list());
}

typedef struct sim_args {
    de_sim_opts o;
    const char *out, *catalog, *plan;
    int json, plots, all;
    const char *inject[64]; /* --inject values, parsed once the scenario is loaded */
    int n_inject;
} sim_args;

/* Parses the options shared by sim and sweep; returns optind or -1. */
static int parse(int argc, char **argv, sim_args *a, const char *cmd, int sweep, char ***vary, int *nvary, long long *seeds,
                 long long *jobs)
{
    static const struct option opts[] = {
        {"policy", required_argument, 0, 'p'},       {"seed", required_argument, 0, 's'},
        {"until", required_argument, 0, 'u'},        {"out", required_argument, 0, 'o'},
        {"json", no_argument, 0, 'J'},               {"window", required_argument, 0, 'w'},
        {"step-cv", required_argument, 0, 'c'},      {"replan-cost", required_argument, 0, 'r'},
        {"restart-cost", required_argument, 0, 'R'}, {"switch-gain", required_argument, 0, 'g'},
        {"no-plots", no_argument, 0, 'N'},           {"catalog", required_argument, 0, 'C'},
        {"vary", required_argument, 0, 'v'},         {"seeds", required_argument, 0, 'S'},
        {"jobs", required_argument, 0, 'j'},         {"plan", required_argument, 0, 'P'},
        {"inject", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    de_sim_opts_default(&a->o);
    a->plots = 1;
    long long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hj:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "list") == 0) {
                de_policy_print_table(stdout);
                return 0;
            }
            if (strcmp(optarg, "all") == 0) {
                a->all = 1;
            } else {
                de_policy p;
                if (de_policy_parse(optarg, &p)) {
                    de_cli_fail("--policy: unknown policy '%s' (known: %s, all)", optarg, de_policy_list());
                    return -1;
                }
                a->o.policy = (int)p;
            }
            break;
        case 's':
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &v))
                return -1;
            a->o.seed = (unsigned long)v;
            break;
        case 'u':
            if (de_cli_float("--until", optarg, 1e-9, 1e12, &a->o.until_s))
                return -1;
            break;
        case 'o': a->out = optarg; break;
        case 'J': a->json = 1; break;
        case 'w':
            if (de_cli_float("--window", optarg, 1e-3, 1e9, &a->o.window_s))
                return -1;
            break;
        case 'c':
            if (de_cli_float("--step-cv", optarg, 0, 10, &a->o.step_cv))
                return -1;
            break;
        case 'r':
            if (de_cli_float("--replan-cost", optarg, 0, 1e6, &a->o.replan_cost_s))
                return -1;
            break;
        case 'R':
            if (de_cli_float("--restart-cost", optarg, 0, 1e6, &a->o.restart_cost_s))
                return -1;
            break;
        case 'g':
            if (de_cli_float("--switch-gain", optarg, 0, 1, &a->o.switch_gain))
                return -1;
            break;
        case 'N': a->plots = 0; break;
        case 'C': a->catalog = optarg; break;
        case 'P':
            if (sweep)
                goto bad;
            a->plan = optarg;
            break;
        case 'i':
            if (strcmp(optarg, "list") == 0) {
                de_change_print_table(stdout);
                return 0;
            }
            if (a->n_inject >= 64) {
                de_cli_fail("--inject: at most 64");
                return -1;
            }
            a->inject[a->n_inject++] = optarg;
            break;
        case 'v':
            if (!sweep)
                goto bad;
            *vary = de_realloc(*vary, (size_t)(*nvary + 1) * sizeof **vary);
            (*vary)[(*nvary)++] = optarg;
            break;
        case 'S':
            if (!sweep || de_cli_int("--seeds", optarg, 1, 100000, seeds))
                goto bad;
            break;
        case 'j':
            if (!sweep || de_cli_int("--jobs", optarg, 1, 1024, jobs))
                goto bad;
            break;
        case 'h': help(stdout); return 0;
        default:
        bad:
            help(stderr);
            de_cli_fail("%s: unknown option or missing argument: %s", cmd, argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1) {
        help(stderr);
        de_cli_fail("%s: expected exactly one SCENARIO argument", cmd);
        return -1;
    }
    return optind;
}

/* Runs one policy; prints (or not), writes files and figures. */
static int run_one(const de_scenario *s, sim_args *a, const char *dir, de_sim_result *r, int print)
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
    sim_args a;
    memset(&a, 0, sizeof a);
    int i = parse(argc, argv, &a, "sim", 0, NULL, NULL, NULL, NULL);
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
    if (a.plan) {
        if (a.all) {
            de_scenario_destroy(s);
            return de_cli_fail("--plan runs one plan: not with --policy all");
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
    if (!a.all) {
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
        /* Every policy, same seed; exact only where it can enumerate. */
        cJSON *arr = cJSON_CreateArray();
        de_sim_result rs[DE_POLICY_COUNT];
        int have[DE_POLICY_COUNT] = {0};
        for (int p = 0; p < DE_POLICY_COUNT && rc == DE_EXIT_OK; p++) {
            if (!de_policy_accepts((de_policy)p, s->n_devices))
                continue;
            a.o.policy = p;
            char *dir = de_sprintf("%s/%s", out, de_policy_name((de_policy)p));
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
                for (int p = 0; p < DE_POLICY_COUNT; p++)
                    if (have[p])
                        de_report_compare_row(&rs[p], stdout);
                for (int p = 0; p < DE_POLICY_COUNT; p++)
                    if (!de_policy_accepts((de_policy)p, s->n_devices))
                        printf("(%s skipped: it accepts at most %d devices)\n", de_policy_name((de_policy)p),
                               de_policy_max_devices((de_policy)p));
                printf("\nper-policy outputs and figures in %s/<policy>/\n", out);
            }
            if (have[s->planner.policy] && !de_sim_result_ok(&rs[s->planner.policy]))
                rc = DE_EXIT_INFEASIBLE;
        }
        for (int p = 0; p < DE_POLICY_COUNT; p++)
            if (have[p])
                de_sim_result_free(&rs[p]);
        cJSON_Delete(arr);
    }
    free(out);
    de_plan_free(&given);
    de_scenario_destroy(s);
    return rc;
}

/* ------------------------------------------------------------------ sweep */

typedef struct axis {
    char *key;
    char **values;
    int n;
} axis;

/* A value's own type when the key is not in the file yet (the scenario's key tables then
 * check it when the point is loaded). */
static int value_type(const char *value)
{
    char *end;
    (void)strtoll(value, &end, 10);
    if (*value && !*end)
        return CONFIG_TYPE_INT64;
    (void)strtod(value, &end);
    if (*value && !*end)
        return CONFIG_TYPE_FLOAT;
    return strcmp(value, "true") == 0 || strcmp(value, "false") == 0 ? CONFIG_TYPE_BOOL : CONFIG_TYPE_STRING;
}

/* The setting at a dotted path of group names (no list index), created with `type` when
 * it is absent, together with the groups above it: a key left at its default. NULL when
 * the path goes through something that is not a group. */
static config_setting_t *create_path(config_t *cfg, const char *key, int type)
{
    if (strchr(key, '['))
        return NULL; /* an element of a list must exist in the file */
    config_setting_t *g = config_root_setting(cfg);
    char *copy = de_strdup(key), *save = NULL, *part = strtok_r(copy, ".", &save);
    config_setting_t *out = NULL;
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        config_setting_t *m = config_setting_get_member(g, part);
        if (!m)
            m = config_setting_add(g, part, next ? CONFIG_TYPE_GROUP : type);
        if (!m || (next && !config_setting_is_group(m)))
            break;
        if (!next)
            out = m;
        g = m;
        part = next;
    }
    free(copy);
    return out;
}

/* Sets one scenario key (libconfig path, e.g. jobs.[0].global_batch) to `value`, with the
 * type the key has in the file; a number with a fraction turns an integer in the file into
 * a float (the key tables say whether the key takes one); an absent key is added. */
static int set_one(config_t *cfg, const char *key, const char *value, const char *path)
{
    config_setting_t *st = config_lookup(cfg, key);
    if (!st && !(st = create_path(cfg, key, value_type(value))))
        return de_cli_fail("--vary: %s has no '%s', and it cannot be added there (an element of a list must be in "
                           "the file)",
                           path, key);
    char *end;
    switch (config_setting_type(st)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: {
        long long v = strtoll(value, &end, 10);
        if (*end == '\0' && end != value) {
            config_setting_set_int64(st, v);
            break;
        }
        double x = strtod(value, &end);
        config_setting_t *parent = config_setting_parent(st);
        const char *name = config_setting_name(st);
        if (*end || end == value || !name || !parent)
            return de_cli_fail("--vary: %s is a number, '%s' is not", key, value);
        char *nm = de_strdup(name);
        config_setting_remove(parent, nm);
        st = config_setting_add(parent, nm, CONFIG_TYPE_FLOAT);
        free(nm);
        config_setting_set_float(st, x);
        break;
    }
    case CONFIG_TYPE_FLOAT: {
        double v = strtod(value, &end);
        if (*end || end == value)
            return de_cli_fail("--vary: %s is a number, '%s' is not", key, value);
        config_setting_set_float(st, v);
        break;
    }
    case CONFIG_TYPE_STRING: config_setting_set_string(st, value); break;
    case CONFIG_TYPE_BOOL:
        if (strcmp(value, "true") && strcmp(value, "false"))
            return de_cli_fail("--vary: %s is true or false, not '%s'", key, value);
        config_setting_set_bool(st, strcmp(value, "true") == 0);
        break;
    default: return de_cli_fail("--vary: %s is a group or list; vary one of its values", key);
    }
    return 0;
}

/* Sets key to value; each `[*]` in key stands for every element of that list (the
 * scenario's lc_tasks.[*].rate: every task's rate), never for the first alone. */
static int set_key(config_t *cfg, const char *key, const char *value, const char *path)
{
    const char *star = strstr(key, "[*]");
    if (!star)
        return set_one(cfg, key, value, path);
    size_t plen = (size_t)(star - key);
    char *prefix = de_sprintf("%.*s", (int)(plen && key[plen - 1] == '.' ? plen - 1 : plen), key);
    config_setting_t *list = config_lookup(cfg, prefix);
    int rc = 0;
    if (!list || !(config_setting_is_list(list) || config_setting_is_array(list)))
        rc = de_cli_fail("--vary: %s has no list '%s' for the [*] of %s", path, prefix, key);
    else if (config_setting_length(list) == 0)
        rc = de_cli_fail("--vary: %s: '%s' is empty, so %s names nothing", path, prefix, key);
    for (int i = 0; !rc && list && i < config_setting_length(list); i++) {
        char *k = de_sprintf("%s.[%d]%s", prefix, i, star + 3);
        rc = set_key(cfg, k, value, path);
        free(k);
    }
    free(prefix);
    return rc;
}

/* The scenario text with the grid point's values set. */
static char *point_text(const char *path, const axis *ax, int nax, const int *idx)
{
    config_t cfg;
    de_err err;
    if (de_conf_read(&cfg, path, &err)) {
        de_cli_fail("%s", err.msg);
        config_destroy(&cfg);
        return NULL;
    }
    for (int k = 0; k < nax; k++)
        if (set_key(&cfg, ax[k].key, ax[k].values[idx[k]], path)) {
            config_destroy(&cfg);
            return NULL;
        }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_write(&cfg, f);
    fclose(f);
    config_destroy(&cfg);
    return text;
}

static void sweep_help(FILE *out)
{
    fprintf(out,
            "usage: deepedge sweep SCENARIO --vary KEY=V1,V2,... [--vary ...] [--seeds N] [-j N]\n"
            "                      [--policy P|all] [--until T] [--out DIR] [sim options]\n\n"
            "Runs the simulation on every point of the grid (every combination of the --vary\n"
            "values) and every seed 1..N, N at a time in parallel processes; writes one CSV row\n"
            "per run (sweep.csv) and, for one numeric key, a plot of re-training time and LC\n"
            "violations against it. KEY is a scenario key path as in `deepedge scenario keys`,\n"
            "with list indices: jobs.[0].global_batch, lc_tasks.[2].rate, planner.safety_margin;\n"
            "[*] is every element of a list (lc_tasks.[*].rate: every task's rate). A key left at its\n"
            "default is added; a fraction for an integer written in the file is taken when the key\n"
            "takes numbers. Every grid point is checked before anything runs: a bad one is refused\n"
            "naming it, and an existing sweep.csv is left as it was.\n");
}

int de_cmd_sweep(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            sweep_help(stdout);
            return DE_EXIT_OK;
        }
    sim_args a;
    memset(&a, 0, sizeof a);
    char **vary = NULL;
    int nvary = 0;
    long long seeds = 1, jobs = 2;
    int i = parse(argc, argv, &a, "sweep", 1, &vary, &nvary, &seeds, &jobs);
    if (i <= 0) {
        free(vary);
        return i == 0 ? DE_EXIT_OK : DE_EXIT_ERROR;
    }
    const char *path = argv[i];
    int rc = DE_EXIT_OK;
    axis *ax = de_calloc((size_t)nvary + 1, sizeof *ax);
    long long npoints = 1;
    if (nvary == 0)
        rc = de_cli_fail("sweep: at least one --vary KEY=V1,V2,... is required");
    for (int k = 0; k < nvary && !rc; k++) {
        char *eq = strchr(vary[k], '=');
        if (!eq || eq == vary[k] || !eq[1]) {
            rc = de_cli_fail("--vary: '%s' is not KEY=V1,V2,...", vary[k]);
            break;
        }
        ax[k].key = de_sprintf("%.*s", (int)(eq - vary[k]), vary[k]);
        char *list = de_strdup(eq + 1), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            ax[k].values = de_realloc(ax[k].values, (size_t)(ax[k].n + 1) * sizeof *ax[k].values);
            ax[k].values[ax[k].n++] = de_strdup(tok);
        }
        free(list);
        npoints *= ax[k].n;
    }
    /* Every grid point is built and loaded before anything runs or sweep.csv is touched: a
     * bad value is refused naming its point, and a previous sweep.csv stays as it was. */
    int *chk = de_calloc((size_t)nvary + 1, sizeof(int));
    for (long long point = 0; !rc && point < npoints; point++) {
        long long q = point;
        for (int k = nvary - 1; k >= 0; k--) {
            chk[k] = (int)(q % ax[k].n);
            q /= ax[k].n;
        }
        char *text = point_text(path, ax, nvary, chk);
        de_scenario *ps = NULL;
        de_err perr;
        if (!text) {
            rc = DE_EXIT_ERROR; /* point_text said why */
        } else if (de_scenario_load_text(text, path, a.catalog, &ps, &perr)) {
            char where[1024] = "";
            for (int k = 0; k < nvary; k++)
                snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s=%s", k ? ", " : "", ax[k].key,
                         ax[k].values[chk[k]]);
            rc = de_cli_fail("--vary: the grid point %s makes an invalid scenario (line numbers are of %s as "
                             "rewritten with that point): %s",
                             where, path, perr.msg);
        }
        de_scenario_destroy(ps);
        free(text);
    }
    free(chk);
    int npol = a.all ? DE_POLICY_COUNT : 1;
    long long nruns = npoints * seeds * npol;
    char *out = NULL;
    FILE *csv = NULL;
    if (!rc) {
        out = a.out ? de_strdup(a.out) : (mkdir("out", 0777), de_sprintf("out/sweep"));
        if (mkdir(out, 0777) != 0 && errno != EEXIST)
            rc = de_cli_fail("%s: cannot create: %s", out, strerror(errno));
    }
    char *csv_path = out ? de_path_join(out, "sweep.csv") : NULL;
    if (!rc && !(csv = fopen(csv_path, "w")))
        rc = de_cli_fail("%s: cannot write", csv_path);
    if (!rc)
        setvbuf(csv, NULL, _IOLBF, 0); /* one row per finished run, whole even if the sweep is killed */
    if (!rc) {
        for (int k = 0; k < nvary; k++)
            fprintf(csv, "%s,", ax[k].key);
        fprintf(csv, "seed,policy,finished,retraining_s,iteration_s,lost_iterations,lc_tasks_missed,lc_violation_rate\n");
    }
    /* Runs: index r -> (point, seed, policy). Children write one CSV row to a pipe. */
    int *idx = de_calloc((size_t)nvary + 1, sizeof(int));
    long long next = 0, done = 0, running = 0;
    int *fds = de_calloc((size_t)jobs, sizeof(int));
    pid_t *pids = de_calloc((size_t)jobs, sizeof(pid_t));
    char **rows = de_calloc((size_t)(nruns > 0 ? nruns : 1), sizeof(char *));
    long long *slot_run = de_calloc((size_t)jobs, sizeof(long long));
    for (int j = 0; j < jobs; j++)
        pids[j] = -1;
    while (!rc && done < nruns) {
        while (running < jobs && next < nruns) {
            long long r = next++, point = r / (seeds * npol), rest = r % (seeds * npol);
            long long seed = 1 + rest / npol;
            int pol = a.all ? (int)(rest % npol) : a.o.policy;
            long long q = point;
            for (int k = nvary - 1; k >= 0; k--) {
                idx[k] = (int)(q % ax[k].n);
                q /= ax[k].n;
            }
            int fd[2];
            if (pipe(fd)) {
                rc = de_cli_fail("sweep: pipe: %s", strerror(errno));
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                rc = de_cli_fail("sweep: fork: %s", strerror(errno));
                break;
            }
            if (pid == 0) {
                close(fd[0]);
                char *text = point_text(path, ax, nvary, idx);
                de_scenario *s;
                de_err err;
                if (!text)
                    _exit(1);
                if (de_scenario_load_text(text, path, a.catalog, &s, &err)) {
                    de_cli_fail("%s", err.msg);
                    _exit(1);
                }
                if (pol < 0)
                    pol = (int)s->planner.policy;
                de_sim_opts o = a.o;
                de_change inject[64];
                for (int k = 0; k < a.n_inject; k++)
                    if (de_change_parse_spec(a.inject[k], s, &inject[k], &err)) {
                        de_cli_fail("%s", err.msg);
                        _exit(1);
                    }
                o.inject = inject;
                o.n_inject = a.n_inject;
                o.seed = (unsigned long)seed;
                o.policy = pol;
                o.out_dir = NULL;
                o.progress = NULL;
                if (!de_policy_accepts((de_policy)pol, s->n_devices))
                    _exit(3); /* skipped: larger than the policy accepts */
                de_sim_result res;
                if (de_sim_run(s, &o, &res, &err)) {
                    de_cli_fail("%s", err.msg);
                    _exit(1);
                }
                double rt = 0, it = 0, lost = 0; /* lost: iterations redone after losses */
                int fin = 1;
                for (int j = 0; j < res.n_jobs; j++) {
                    const de_sim_job *J = &res.jobs[j];
                    fin &= J->finished;
                    rt += J->finished ? J->end_s - J->arrival_s : 0;
                    it += J->iterations ? (J->compute_s + J->allreduce_s) / (double)J->iterations : 0;
                    lost += (double)J->lost_iterations;
                }
                char *line = NULL;
                size_t ll = 0;
                FILE *f = open_memstream(&line, &ll);
                for (int k = 0; k < nvary; k++)
                    fprintf(f, "%s,", ax[k].values[idx[k]]);
                fprintf(f, "%lld,%s,%d,%.6f,%.6f,%.0f,%d,%.6f\n", seed, de_policy_name((de_policy)pol), fin,
                        fin ? rt : NAN, res.n_jobs ? it / res.n_jobs : 0.0, lost, de_report_tasks_missed(&res),
                        de_report_violation_rate(&res));
                fclose(f);
                ssize_t w = write(fd[1], line, ll);
                _exit(w == (ssize_t)ll ? 0 : 1);
            }
            close(fd[1]);
            int j = 0;
            while (pids[j] != -1)
                j++;
            pids[j] = pid;
            fds[j] = fd[0];
            slot_run[j] = r;
            running++;
        }
        if (rc)
            break;
        /* Wait for any child, then read its row. */
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            rc = de_cli_fail("sweep: wait: %s", strerror(errno));
            break;
        }
        for (int j = 0; j < jobs; j++)
            if (pids[j] == pid) {
                char buf[4096];
                ssize_t n = read(fds[j], buf, sizeof buf - 1);
                close(fds[j]);
                pids[j] = -1;
                running--;
                done++;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
                    break; /* a policy on a cluster larger than it accepts: skipped */
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n <= 0) {
                    rc = de_cli_fail("sweep: run %lld failed (status %d)", slot_run[j], status);
                    break;
                }
                buf[n] = '\0';
                rows[slot_run[j]] = de_strdup(buf);
                if (isatty(2))
                    fprintf(stderr, "\rsweep: %lld of %lld runs", done, nruns);
                break;
            }
    }
    if (isatty(2) && nruns)
        fputc('\n', stderr);
    for (int j = 0; j < jobs; j++) /* on an error: reap what is still running */
        if (pids[j] != -1) {
            kill(pids[j], SIGTERM);
            waitpid(pids[j], NULL, 0);
            close(fds[j]);
        }
    if (!rc) {
        for (long long r = 0; r < nruns; r++)
            if (rows[r]) {
                fputs(rows[r], csv);
                fputs(rows[r], stdout);
            }
        if (fclose(csv))
            rc = de_cli_fail("%s: write failed", csv_path);
        csv = NULL;
        printf("\n%lld runs; results in %s\n", nruns, csv_path);
        /* One numeric key: plot re-training time and violations against it. */
        char *end;
        if (!rc && nvary == 1 && (strtod(ax[0].values[0], &end), *end == '\0') && a.plots) {
            for (int k = 0; k < 2 && !rc; k++) {
                const de_plot_var v[] = {{"dir", out, 0},
                                         {"key", ax[0].key, 0},
                                         {"term", k ? "svg size 1000,600" : "pngcairo size 1000,600", 0},
                                         {"ext", k ? "svg" : "png", 0}};
                de_err perr;
                if (de_plot_run("sweep.gp", v, 4, &perr))
                    rc = de_cli_fail("sweep: %s", perr.msg);
            }
            if (!rc)
                printf("plot: %s/sweep.png, %s/sweep.svg\n", out, out);
        }
    }
    if (csv)
        fclose(csv);
    for (long long r = 0; r < nruns; r++)
        free(rows[r]);
    free(rows);
    free(slot_run);
    free(fds);
    free(pids);
    free(idx);
    for (int k = 0; k < nvary; k++) {
        free(ax[k].key);
        for (int v = 0; v < ax[k].n; v++)
            free(ax[k].values[v]);
        free(ax[k].values);
    }
    free(ax);
    free(vary);
    free(csv_path);
    free(out);
    return rc;
}
