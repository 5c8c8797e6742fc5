/* cmd_sweep.c — `deepedge sweep SCENARIO --vary KEY=V1,V2,...`: a grid of simulations
 * in parallel processes; its options are parsed with sim's (de_cli_sim_parse). */
#include <errno.h>
#include <math.h>
#include <signal.h>
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
    de_cli_sim_args a;
    memset(&a, 0, sizeof a);
    int i = de_cli_sim_parse(argc, argv, &a, "sweep", 1, sweep_help);
    if (i <= 0) {
        de_cli_sim_args_free(&a);
        return i == 0 ? DE_EXIT_OK : DE_EXIT_ERROR;
    }
    int nvary = a.n_vary;
    long long seeds = a.seeds, jobs = a.jobs;
    const char **vary = de_calloc((size_t)nvary + 1, sizeof *vary);
    for (int k = 0; k < nvary; k++)
        vary[k] = a.vary[k].spec;
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
    de_cli_sim_args_free(&a);
    free(csv_path);
    free(out);
    return rc;
}
