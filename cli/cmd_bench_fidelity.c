/* cmd_bench_fidelity.c — `deepedge bench fidelity`: what `sim` predicts against what
 * `run` does, on variants of one scenario (LC load and deadlines, the global batch, the
 * device mix, a crash with its repair), on this host.
 *
 * Each variant is the base scenario changed through libconfig (written to
 * OUT/variants/NAME.cfg, its relative paths made absolute), then simulated (`deepedge sim
 * --json`) and executed (`deepedge run --json`) one after the other, each a process of
 * its own. The table: re-training time predicted and measured, and per LC task the
 * latency at its deadline's percentile predicted and measured, and whether it was kept;
 * against the targets of issue 11 (re-training within 5 %, LC within 15 %, no measured
 * miss where the plan was predicted feasible). fidelity.csv has every row, an LC row with
 * the medians (p50) predicted and measured and the windows over the deadline. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "de_conf.h"
#include "de_util.h"

/* ---- the variants ---- */

#define MAX_REPEAT 9

static void scale_each(config_t *cfg, const char *list, const char *key, double f)
{
    config_setting_t *l = config_lookup(cfg, list);
    for (int i = 0; l && i < config_setting_length(l); i++) {
        config_setting_t *v = config_setting_get_member(config_setting_get_elem(l, (unsigned)i), key);
        if (v)
            config_setting_set_float(v, config_setting_get_float(v) * f);
    }
}

static int v_base(config_t *cfg)
{
    (void)cfg;
    return 0;
}

static int v_lc_light(config_t *cfg)
{
    scale_each(cfg, "lc_tasks", "rate", 0.5);
    return 0;
}

static int v_lc_heavy(config_t *cfg)
{
    scale_each(cfg, "lc_tasks", "rate", 1.6);
    return 0;
}

static int v_tight(config_t *cfg)
{
    scale_each(cfg, "lc_tasks", "deadline_ms", 0.6);
    return 0;
}

static int v_batch(config_t *cfg)
{
    config_setting_t *j = config_setting_get_elem(config_lookup(cfg, "jobs"), 0);
    config_setting_t *b = j ? config_setting_get_member(j, "global_batch") : NULL;
    if (!b)
        return -1;
    config_setting_set_int(b, (int)config_setting_get_int(b) / 2);
    return 0;
}

/* The last device without an LC task leaves the cluster. */
static int v_fewer(config_t *cfg)
{
    config_setting_t *devs = config_lookup(cfg, "devices"), *tasks = config_lookup(cfg, "lc_tasks");
    for (int i = devs ? config_setting_length(devs) - 1 : -1; i >= 0 && config_setting_length(devs) > 1; i--) {
        const char *name = NULL;
        config_setting_lookup_string(config_setting_get_elem(devs, (unsigned)i), "name", &name);
        int used = 0;
        for (int t = 0; tasks && t < config_setting_length(tasks); t++) {
            const char *d = NULL;
            config_setting_lookup_string(config_setting_get_elem(tasks, (unsigned)t), "device", &d);
            used |= d && name && strcmp(d, name) == 0;
        }
        if (!used)
            return config_setting_remove_elem(devs, (unsigned)i) == CONFIG_TRUE ? 0 : -1;
    }
    return -1;
}

/* The variant's one fault in place of the scenario's: kind, at time_s, on the target (key
 * `device` or `task`, its name copied first: it may live in the tree that is changed), with
 * one number (key `repair_s` or `rate`). */
static void one_fault(config_t *cfg, const char *kind, const char *target_key, const char *target, double time_s,
                      const char *value_key, double value)
{
    char *name = de_strdup(target);
    config_setting_t *root = config_root_setting(cfg), *f = config_setting_get_member(root, "faults");
    if (f)
        config_setting_remove(root, "faults");
    f = config_setting_add(root, "faults", CONFIG_TYPE_LIST);
    config_setting_t *g = config_setting_add(f, NULL, CONFIG_TYPE_GROUP);
    config_setting_set_string(config_setting_add(g, "kind", CONFIG_TYPE_STRING), kind);
    config_setting_set_string(config_setting_add(g, target_key, CONFIG_TYPE_STRING), name);
    config_setting_set_float(config_setting_add(g, "time_s", CONFIG_TYPE_FLOAT), time_s);
    config_setting_set_float(config_setting_add(g, value_key, CONFIG_TYPE_FLOAT), value);
    free(name);
}

/* The second device crashes 10 s into the training and is repaired 10 s later. */
static int v_crash(config_t *cfg)
{
    config_setting_t *devs = config_lookup(cfg, "devices");
    const char *name = NULL;
    if (!devs || config_setting_length(devs) < 2 ||
        !config_setting_lookup_string(config_setting_get_elem(devs, 1), "name", &name))
        return -1;
    one_fault(cfg, "crash", "device", name, 10.0, "repair_s", 10.0);
    return 0;
}

/* The first LC task's request rate x 4.8 from 10 s into training: on local-testbed cam-a's
 * 25 -> 120 req/s, the executor's load step of issue 11 (exec/README.md), which the running
 * plan must absorb by re-planning without a window over the deadline. */
static int v_lc_step(config_t *cfg)
{
    config_setting_t *t = config_setting_get_elem(config_lookup(cfg, "lc_tasks"), 0);
    const char *name = NULL;
    double rate = 0;
    if (!t || !config_setting_lookup_string(t, "name", &name) || !config_setting_lookup_float(t, "rate", &rate))
        return -1;
    one_fault(cfg, "lc-rate", "task", name, 10.0, "rate", 4.8 * rate);
    return 0;
}

typedef struct variant {
    const char *name, *what;
    int (*make)(config_t *cfg);
    int quick; /* part of --quick */
} variant;

static const variant variants[] = {
    {"base", "the scenario as it is", v_base, 1},
    {"lc-light", "every LC rate x 0.5", v_lc_light, 0},
    {"lc-heavy", "every LC rate x 1.6 (near the deadlines)", v_lc_heavy, 1},
    {"tight", "every deadline x 0.6", v_tight, 0},
    {"batch-half", "the global batch / 2", v_batch, 0},
    {"fewer-devices", "the last device without LC task left out", v_fewer, 0},
    {"crash-repair", "the second device crashes at 10 s, back at 20 s", v_crash, 1},
    {"lc-step", "the first LC task's rate x 4.8 from 10 s (local-testbed: 25 -> 120 req/s)", v_lc_step, 0},
};
#define N_VARIANTS ((int)(sizeof variants / sizeof variants[0]))

/* Relative paths of the scenario, made absolute against its folder (the variant is
 * written elsewhere). */
static void absolute_paths(config_t *cfg, const char *dir)
{
    static const char *const keys[] = {"exec.dataset", "exec.weights", "catalog", "fault_trace"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        config_setting_t *s = config_lookup(cfg, keys[i]);
        const char *v = s ? config_setting_get_string(s) : NULL;
        if (v && v[0] != '/') {
            char *p = de_path_join(dir, v);
            config_setting_set_string(s, p);
            free(p);
        }
    }
    config_setting_t *tasks = config_lookup(cfg, "lc_tasks");
    for (int t = 0; tasks && t < config_setting_length(tasks); t++) {
        config_setting_t *r = config_setting_get_member(config_setting_get_elem(tasks, (unsigned)t), "rate_trace");
        const char *v = r ? config_setting_get_string(r) : NULL;
        if (v && v[0] != '/') {
            char *p = de_path_join(dir, v);
            config_setting_set_string(r, p);
            free(p);
        }
    }
}

static int write_variant(const char *base, const variant *v, const char *path)
{
    config_t cfg;
    de_err err;
    if (de_conf_read(&cfg, base, &err)) {
        config_destroy(&cfg);
        return de_cli_fail("%s", err.msg);
    }
    char *dir = de_path_dirname(base), cwd[4096] = ".";
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    char *abs = dir[0] == '/' ? de_strdup(dir) : de_path_join(cwd, dir);
    free(dir);
    absolute_paths(&cfg, abs);
    free(abs);
    int rc = DE_EXIT_OK;
    if (v->make(&cfg))
        rc = de_cli_fail("bench fidelity: %s: variant %s (%s) does not apply to this scenario", base, v->name, v->what);
    else if (config_write_file(&cfg, path) != CONFIG_TRUE)
        rc = de_cli_fail("bench fidelity: %s: cannot write", path);
    config_destroy(&cfg);
    return rc;
}

/* ---- running sim and run ---- */

/* self ARGS... with stdout into out_path and stderr into err_path; its exit status. */
static int run_to(char *const argv[], const char *out_path, const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static cJSON *read_json(const char *path)
{
    char *text = de_file_read(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double err_pct(double measured, double predicted)
{
    return 100.0 * (predicted - measured) / measured;
}

/* Median of v[0..n-1] and its spread, (max - min) / median in percent (0 for n = 1). */
static void median_spread(const double *v, int n, double *med, double *spread)
{
    double w[MAX_REPEAT];
    memcpy(w, v, (size_t)n * sizeof *w);
    for (int i = 1; i < n; i++) /* insertion sort: n <= MAX_REPEAT */
        for (int j = i; j > 0 && w[j - 1] > w[j]; j--) {
            double t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
    *med = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
    *spread = n > 1 && *med > 0 ? 100.0 * (w[n - 1] - w[0]) / *med : 0.0;
}

/* A row's verdict against its target; when the runs alone vary by more than the target,
 * that is the reason given. */
static const char *verdict(double e, double spread, double target, char *buf, size_t n)
{
    if (fabs(e) <= target)
        snprintf(buf, n, "within %g %%", target);
    else if (spread > target)
        snprintf(buf, n, "OUTSIDE %g %% (the runs alone vary by %.0f %%)", target, spread);
    else
        snprintf(buf, n, "OUTSIDE %g %%", target);
    return buf;
}

/* Where a variant's sim (k < 0) or its k-th run writes. */
static char *out_dir(const char *out, const variant *v, int repeat, int k)
{
    if (k < 0)
        return de_sprintf("%s/%s-sim", out, v->name);
    return repeat == 1 ? de_sprintf("%s/%s-run", out, v->name) : de_sprintf("%s/%s-run-%d", out, v->name, k + 1);
}

/* The windows of `task` in DIR/lc_windows.csv (de_outputs.h: start_s,end_s,task,requests,
 * dropped,violations,p50_s,p95_s,p99_s,pct_s,percentile,deadline_s) that served a request
 * (*n) and whose latency at the task's percentile exceeded its deadline (*over); -1 in
 * both when the file cannot be read. */
static void windows_over(const char *dir, const char *task, int *over, int *n)
{
    char *path = de_path_join(dir, "lc_windows.csv"), line[512];
    FILE *f = fopen(path, "r");
    free(path);
    *over = *n = f ? 0 : -1;
    for (int ln = 0; f && fgets(line, sizeof line, f); ln++) {
        char *field[12], *save = NULL, *c = strtok_r(line, ",\n", &save);
        int nf = 0;
        for (; c && nf < 12; c = strtok_r(NULL, ",\n", &save))
            field[nf++] = c;
        if (ln == 0 || nf != 12 || strcmp(field[2], task) != 0 || !(strtod(field[3], NULL) > 0))
            continue;
        double pct = strtod(field[9], NULL), dl = strtod(field[11], NULL);
        (*n)++;
        *over += isfinite(pct) && pct > dl;
    }
    if (f)
        fclose(f);
}

/* The rows of one variant: sim's predictions S against the runs R[0..n-1]; their outputs
 * under out (out_dir). */
static void report_variant(const variant *v, const char *out, const cJSON *S, cJSON *const *R, int n, FILE *csv,
                           int *rows, int *outside, int *most_threads)
{
    const cJSON *sj0 = cJSON_GetArrayItem(cJSON_GetObjectItem(S, "jobs"), 0);
    const cJSON *plan = cJSON_GetObjectItem(sj0, "plan");
    int feasible = cJSON_IsTrue(cJSON_GetObjectItem(plan, "feasible"));
    double ms[MAX_REPEAT], m, spread, p = num(sj0, "retraining_time_s");
    for (int k = 0; k < n; k++)
        ms[k] = num(cJSON_GetArrayItem(cJSON_GetObjectItem(R[k], "jobs"), 0), "retraining_time_s");
    median_spread(ms, n, &m, &spread);
    double e = err_pct(m, p);
    int ok = fabs(e) <= 5.0;
    char vb[128], sp[16];
    *outside += !ok;
    (*rows)++;
    if (n > 1)
        snprintf(sp, sizeof sp, "%.0f%%", spread);
    else
        snprintf(sp, sizeof sp, "-");
    printf("%-14s %-22s %10.2f s %10.2f s %+8.1f%% %7s %10s %6s  %s\n", v->name, "re-training", p, m, e, sp, "-", "-",
           verdict(e, spread, 5.0, vb, sizeof vb));
    fprintf(csv, "%s,\"%s\",retraining_s,%.6g,%.6g,%.3f,5,,,%d,%d,%d,%.3f,,,%.6g,,,,\n", v->name, v->what, p, m, e,
            feasible, ok, n, spread, num(plan, "retraining_time_s"));
    /* threads that can run at once in the first run: a trainer per training device, an LC
     * service per task (exec.threads 1 as the bundled scenarios; more only adds to it) */
    int threads = 0;
    const cJSON *dev;
    cJSON_ArrayForEach(dev, cJSON_GetObjectItem(R[0], "devices")) threads += num(dev, "batch") > 0;
    threads += cJSON_GetArraySize(cJSON_GetObjectItem(R[0], "lc_tasks"));
    if (threads > *most_threads)
        *most_threads = threads;
    const cJSON *st = cJSON_GetObjectItem(S, "lc_tasks");
    for (int t = 0; t < cJSON_GetArraySize(st); t++) {
        const cJSON *a = cJSON_GetArrayItem(st, t), *b = NULL;
        int kept = 1, have = 1;
        double m50[MAX_REPEAT];
        for (int k = 0; k < n; k++) {
            const cJSON *bk = cJSON_GetArrayItem(cJSON_GetObjectItem(R[k], "lc_tasks"), t);
            if (!bk) {
                have = 0;
                break;
            }
            b = bk;
            ms[k] = num(bk, "latency_s");
            m50[k] = num(bk, "p50_s");
            kept &= cJSON_IsTrue(cJSON_GetObjectItem(bk, "deadline_met"));
        }
        if (!have)
            break;
        double lp = num(a, "latency_s"), lm, dl = num(b, "deadline_s"), pct = num(b, "percentile");
        double p50 = num(a, "p50_s"), m50m, m50s;
        median_spread(m50, n, &m50m, &m50s);
        median_spread(ms, n, &lm, &spread);
        double le = err_pct(lm, lp);
        int lok = fabs(le) <= 15.0 && (kept || !feasible);
        *outside += !lok;
        (*rows)++;
        char item[64];
        snprintf(item, sizeof item, "%s p%g", cJSON_GetStringValue(cJSON_GetObjectItem(b, "name")), pct);
        if (n > 1)
            snprintf(sp, sizeof sp, "%.0f%%", spread);
        const char *why = !kept && feasible ? "MISSED though predicted feasible" : verdict(le, spread, 15.0, vb, sizeof vb);
        /* Windows over the deadline: sim's, and the most of any run (a miss in one run is one). */
        const char *task = cJSON_GetStringValue(cJSON_GetObjectItem(b, "name"));
        int wo_s, wn_s, wo_m = 0, wn_m = 0;
        char *d = out_dir(out, v, n, -1);
        windows_over(d, task, &wo_s, &wn_s);
        free(d);
        for (int k = 0; k < n; k++) {
            int o, w;
            d = out_dir(out, v, n, k);
            windows_over(d, task, &o, &w);
            free(d);
            if (o > wo_m || (o == wo_m && w > wn_m))
                wo_m = o, wn_m = w;
        }
        char windows[96] = "";
        if (wo_s > 0 || wo_m > 0)
            snprintf(windows, sizeof windows, "; windows over the deadline: %d of %d measured%s, %d of %d predicted",
                     wo_m, wn_m, n > 1 ? " (the most of a run)" : "", wo_s, wn_s);
        double planned = num(a, "predicted_latency_s"); /* what the planner's model said for the first plan */
        char shape[160] = "";
        if (!lok && isfinite(p50) && isfinite(m50m)) /* the level or the tail: the medians say which */
            snprintf(shape, sizeof shape, "; p50 %.2f ms predicted, %.2f measured; the planner's model %.2f ms",
                     1e3 * p50, 1e3 * m50m, 1e3 * planned);
        printf("%-14s %-22s %9.2f ms %9.2f ms %+8.1f%% %7s %7.1f ms %6s  %s%s%s\n", v->name, item, 1e3 * lp, 1e3 * lm,
               le, sp, 1e3 * dl, kept ? "yes" : "NO", why, shape, windows);
        fprintf(csv, "%s,\"%s\",%s,%.6g,%.6g,%.3f,15,%.6g,%d,%d,%d,%d,%.3f,%.6g,%.6g,%.6g,%d,%d,%d,%d\n", v->name, v->what,
                item, lp, lm, le, dl, kept, feasible, lok, n, spread, p50, m50m, planned, wo_s, wn_s, wo_m, wn_m);
    }
}

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge bench fidelity [--scenario FILE] [--quick | --only LIST] [--repeat N] [--out DIR]\n"
            "                               [--keep-going]\n\n"
            "What `sim` predicts against what `run` does on this host: variants of the scenario\n"
            "(default scenarios/local-testbed.cfg: it must have an `exec` group) are simulated and\n"
            "executed one after the other; prints per variant the re-training time predicted and\n"
            "measured, and per LC task its latency at the deadline's percentile, predicted and\n"
            "measured, and whether the deadline was kept. Targets (issue 11): re-training within 5 %%,\n"
            "LC within 15 %%, no measured miss where the plan was predicted feasible; a row that misses\n"
            "one says so. Calibrate the host first (deepedge calibrate). With --repeat N each variant\n"
            "is executed N times: the measured value is the median, and the spread of the runs\n"
            "(max - min over the median) is printed; a row outside its target whose runs alone vary\n"
            "by more than the target says so (the host's noise, not the model, decides it). An LC row\n"
            "outside its target adds the medians (p50) predicted and measured: whether the level or\n"
            "the tail is off; and what the planner's model gave (fidelity.csv: planned, each row). An LC\n"
            "row adds the windows (lc_windows.csv) whose latency at the percentile exceeded the deadline,\n"
            "measured (the most of any run) and predicted, when there are any. When\n"
            "the emulated devices' threads outnumber this host's cores, a note\n"
            "after the table says so: calibrate measures one device at a time.\n\n"
            "variants:\n");
    for (int i = 0; i < N_VARIANTS; i++)
        fprintf(out, "  %-14s %s%s\n", variants[i].name, variants[i].what, variants[i].quick ? " (--quick)" : "");
    fprintf(out, "\n  --quick        the variants marked (quick) only\n"
                 "  --only LIST    these variants only (names, comma-separated)\n"
                 "  --repeat N     execute each variant N times (1..%d, default 1)\n"
                 "  --out DIR      variants, outputs, fidelity.csv (default out/fidelity)\n"
                 "  --keep-going   a variant whose run fails is reported and the others go on\n\n"
                 "Takes about a minute per variant and repeat (each is executed for real). Exit status: 0\n"
                 "every row within the targets, 2 a row outside them, 1 error.\n",
            MAX_REPEAT);
}

int de_bench_fidelity(int argc, char **argv)
{
    static const struct option opts[] = {{"scenario", required_argument, 0, 's'}, {"quick", no_argument, 0, 'q'},
                                         {"out", required_argument, 0, 'o'},      {"keep-going", no_argument, 0, 'k'},
                                         {"repeat", required_argument, 0, 'n'},   {"help", no_argument, 0, 'h'},
                                         {"only", required_argument, 0, 'O'},     {0, 0, 0, 0}};
    const char *base = NULL, *out = "out/fidelity";
    int quick = 0, keep = 0, repeat = 1, c, chosen[N_VARIANTS] = {0}, only = 0;
    long long rep;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': base = optarg; break;
        case 'q': quick = 1; break;
        case 'o': out = optarg; break;
        case 'k': keep = 1; break;
        case 'n':
            if (de_cli_int("--repeat", optarg, 1, MAX_REPEAT, &rep))
                return DE_EXIT_ERROR;
            repeat = (int)rep;
            break;
        case 'O': {
            char *list = de_strdup(optarg), *save = NULL;
            for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
                int i = 0;
                while (i < N_VARIANTS && strcmp(variants[i].name, name) != 0)
                    i++;
                if (i == N_VARIANTS) {
                    int r = de_cli_fail("bench fidelity: --only: no variant '%s' (deepedge bench fidelity --help lists "
                                        "them)", name);
                    free(list);
                    return r;
                }
                chosen[i] = 1;
            }
            free(list);
            only = 1;
            break;
        }
        case 'h': help(stdout); return DE_EXIT_OK;
        default: help(stderr); return de_cli_fail("bench fidelity: unknown option or missing argument: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        help(stderr);
        return de_cli_fail("bench fidelity: unexpected argument '%s'", argv[optind]);
    }
    char *def = de_path_join(DE_SOURCE_SCENARIOS, "local-testbed.cfg");
    if (!base)
        base = def;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        free(def);
        return de_cli_fail("bench fidelity: cannot find this program (/proc/self/exe)");
    }
    self[n] = '\0';
    char *vdir = de_path_join(out, "variants");
    if (de_mkdir_p(vdir) != 0) {
        int r = de_cli_fail("bench fidelity: %s: cannot create it", vdir);
        free(vdir), free(def);
        return r;
    }
    char *csv_path = de_path_join(out, "fidelity.csv");
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        int r = de_cli_fail("bench fidelity: %s: cannot write", csv_path);
        free(vdir), free(def), free(csv_path);
        return r;
    }
    fprintf(csv, "variant,what,item,predicted,measured,error_pct,target_pct,deadline_s,kept,plan_feasible,within,"
                 "repeats,spread_pct,p50_predicted,p50_measured,planned,windows_over_predicted,windows_predicted,"
                 "windows_over_measured,windows_measured\n");
    printf("bench fidelity: %s on this host (sim predicts, run measures%s)\n\n", base,
           repeat > 1 ? "; measured: the median of the runs, spread: their max - min over it" : "");
    printf("%-14s %-22s %12s %12s %9s %7s %10s %6s  %s\n", "variant", "item", "predicted", "measured", "error",
           "spread", "deadline", "kept", "verdict");
    int rc = DE_EXIT_OK, outside = 0, rows = 0, most_threads = 0;
    for (int i = 0; i < N_VARIANTS && rc == DE_EXIT_OK; i++) {
        const variant *v = &variants[i];
        if (only ? !chosen[i] : quick && !v->quick)
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s.cfg", v->name);
        char *cfg = de_path_join(vdir, name), *sdir = out_dir(out, v, repeat, -1),
             *sj = de_sprintf("%s.json", sdir), *se = de_sprintf("%s.err", sdir);
        cJSON *S = NULL, *R[MAX_REPEAT] = {0};
        int failed = 0;
        if ((rc = write_variant(base, v, cfg)) == DE_EXIT_OK) {
            fprintf(stderr, "bench fidelity: %s: sim, then run%s (about a minute each) ...\n", v->name,
                    repeat > 1 ? " N times" : "");
            /* One metrics window for both (run's default; sim's is 60 s): the windows over the
             * deadline are counted alike. */
            char *sim_argv[] = {self, "sim", cfg, "--json", "--no-plots", "--window", "1", "--out", sdir, NULL};
            int s_rc = run_to(sim_argv, sj, se);
            S = read_json(sj);
            if (!S || (s_rc != 0 && s_rc != 2)) {
                fprintf(stderr, "bench fidelity: %s: sim failed (exit %d); see %s\n", v->name, s_rc, se);
                failed = 1;
            }
            for (int k = 0; k < repeat && !failed; k++) {
                char *rdir = out_dir(out, v, repeat, k), *rj = de_sprintf("%s.json", rdir), *re = de_sprintf("%s.err", rdir);
                char *run_argv[] = {self, "run", cfg, "--json", "--no-plot", "--quiet", "--window", "1", "--out", rdir, NULL};
                int r_rc = run_to(run_argv, rj, re);
                R[k] = read_json(rj);
                if (!R[k] || (r_rc != 0 && r_rc != 2)) {
                    fprintf(stderr, "bench fidelity: %s: run failed (exit %d); see %s\n", v->name, r_rc, re);
                    failed = 1;
                }
                free(rdir), free(rj), free(re);
            }
            if (failed) {
                if (!keep)
                    rc = DE_EXIT_ERROR;
                outside++;
            } else {
                report_variant(v, out, S, R, repeat, csv, &rows, &outside, &most_threads);
            }
        }
        cJSON_Delete(S);
        for (int k = 0; k < repeat; k++)
            cJSON_Delete(R[k]);
        free(cfg), free(sdir), free(sj), free(se);
    }
    fclose(csv);
    if (rc == DE_EXIT_OK)
        printf("\n%d rows, %d outside the targets; every row in %s\n", rows, outside, csv_path);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (rc == DE_EXIT_OK && outside && cores > 0 && most_threads > cores)
        printf("note: up to %d threads of the emulated devices (a trainer per training device, an LC service per task)\n"
               "      can run at once on this host's %ld cores. calibrate measures one device at a time, so what the\n"
               "      devices take from each other's cores is in run's latencies and not in the catalog's models:\n"
               "      on a host with at least %d cores each of them has a core of its own.\n",
               most_threads, cores, most_threads);
    free(vdir), free(def), free(csv_path);
    return rc != DE_EXIT_OK ? rc : outside ? 2 : DE_EXIT_OK;
}
