/* cli_args.c — the option helpers every command uses (cli.h): one error printer, strict
 * number parsing, the hand-over to deepedge-exec, and the options sim and sweep share
 * (compiled into both programs: deepedge-exec runs sweep under mpiexec). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "de_scenario.h"
#include "de_util.h"

int de_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("deepedge: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return DE_EXIT_ERROR;
}

int de_cli_int(const char *opt, const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max) {
        de_cli_fail("%s: '%s' is not an integer in [%lld, %lld]", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int de_cli_float(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max) {
        de_cli_fail("%s: '%s' is not a number in [%g, %g]", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

const char *de_cli_companion_path(void)
{
    static char path[4096];
    const char *env = getenv("DEEPEDGE_EXEC");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0)
        return "deepedge-exec"; /* from PATH */
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    strcpy(slash ? slash + 1 : path, "deepedge-exec");
    return path;
}

int de_cli_companion(int argc, char **argv, const char *cmd)
{
    const char *exe = de_cli_companion_path();
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args)
        return de_cli_fail("out of memory");
    args[0] = (char *)exe;
    args[1] = (char *)cmd;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(NULL);
    execvp(exe, args);
    int e = errno;
    free(args);
    return de_cli_fail("%s: cannot start %s (%s); it is built next to deepedge (set DEEPEDGE_EXEC to its path)", cmd,
                       exe, strerror(e));
}

/* One warning when what (a type or a link class) that the scenario uses was measured on a
 * host other than this one (cpu, cores); 1 when it warned. */
static int warn_other_host(const char *what, const char *name, const char *mcpu, int mcores, const char *cpu,
                           int cores, const char *predictions)
{
    if (!mcpu || (strcmp(mcpu, cpu) == 0 && (mcores == 0 || mcores == cores)))
        return 0;
    fprintf(stderr,
            "deepedge: warning: %s %s was measured on another host (%s, %d cores; this one: %s, %d cores): its %s "
            "may not hold here. Measure this host with `deepedge calibrate`.\n",
            what, name, mcpu, mcores, cpu, cores, predictions);
    return 1;
}

int de_cli_warn_measured_host(const de_scenario *s)
{
    char cpu[256];
    de_host_cpu(cpu, sizeof cpu);
    int cores = de_host_cores(), warned = 0;
    const de_catalog *cat = s->catalog;
    for (int t = 0; t < cat->n_types; t++) {
        const de_device_type *ty = &cat->types[t];
        int used = 0;
        for (int d = 0; d < s->n_devices && !used; d++)
            used = s->devices[d].type == t;
        if (used && ty->emulation_cpu_cores > 0)
            warned += warn_other_host("emulated device type", ty->name, ty->measured_cpu, ty->measured_cores, cpu,
                                      cores, "predictions");
    }
    for (int c = 0; c < cat->n_link_classes; c++) {
        const de_link_class *lc = &cat->link_classes[c];
        int used = 0;
        for (int l = 0; l < s->n_links && !used; l++)
            used = s->links[l].cls == c;
        if (used)
            warned += warn_other_host("link class", lc->name, lc->measured_cpu, lc->measured_cores, cpu, cores,
                                      "all-reduce predictions");
    }
    return warned;
}

int de_cli_sim_parse(int argc, char **argv, de_cli_sim_args *a, const char *cmd, int sweep, void (*usage)(FILE *))
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
        {"inject", required_argument, 0, 'i'},       {"link", required_argument, 0, 'l'},
        {"mpi", no_argument, 0, 'M'},                {"help", no_argument, 0, 'h'},
        {"correction", required_argument, 0, 'K'},   {"stall-timeout", required_argument, 0, 'T'},
        {0, 0, 0, 0}};
    de_sim_opts_default(&a->o);
    a->plots = 1;
    a->seeds = 1;
    a->jobs = 2;
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
            if (de_cli_policy_arg(optarg, &a->all, a->policies, &a->n_policies))
                return -1;
            if (sweep && (a->n_policies + a->all > 1)) {
                de_cli_fail("sweep: one --policy (a name, ext:COMMAND or all)");
                return -1;
            }
            if (a->n_policies == 1)
                a->o.policy = (int)a->policies[0];
            break;
        case 's':
            if (sweep) /* sweep's seeds are 1..--seeds */
                goto bad;
            if (de_cli_int("--seed", optarg, 0, 4294967295LL, &v))
                return -1;
            a->o.seed = (unsigned long)v;
            break;
        case 'u':
            if (de_cli_float("--until", optarg, 1e-9, 1e12, &a->o.until_s))
                return -1;
            break;
        case 'o': a->out = optarg; break;
        case 'J':
            if (sweep)
                goto bad;
            a->json = 1;
            break;
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
        case 'K':
            if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
                de_cli_fail("--correction: '%s' is not on or off", optarg);
                return -1;
            }
            a->o.correction = strcmp(optarg, "on") == 0;
            break;
        case 'T':
            if (de_cli_float("--stall-timeout", optarg, 1e-6, 1e9, &a->o.stall_timeout_s))
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
        case 'l':
            if (!sweep)
                goto bad;
            if (c == 'l' && a->n_vary == 0) {
                usage(stderr);
                de_cli_fail("--link %s: a --link moves with the --vary before it; there is none", optarg);
                return -1;
            }
            a->vary = de_realloc(a->vary, (size_t)(a->n_vary + 1) * sizeof *a->vary);
            a->vary[a->n_vary].spec = optarg;
            a->vary[a->n_vary++].link = c == 'l';
            break;
        case 'S':
            if (!sweep)
                goto bad;
            if (de_cli_int("--seeds", optarg, 1, 100000, &a->seeds)) {
                usage(stderr);
                return -1;
            }
            break;
        case 'j':
            if (!sweep)
                goto bad;
            if (de_cli_int("--jobs", optarg, 1, 1024, &a->jobs)) {
                usage(stderr);
                return -1;
            }
            break;
        case 'M':
            if (!sweep)
                goto bad;
            a->mpi = 1;
            break;
        case 'h': usage(stdout); return 0;
        default:
        bad:
            usage(stderr);
            de_cli_fail("%s: unknown option or missing argument: %s", cmd, argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        de_cli_fail("%s: expected exactly one SCENARIO argument", cmd);
        return -1;
    }
    return optind;
}

int de_cli_policy_arg(const char *v, int *all, de_policy *list, int *n)
{
    if (strcmp(v, "all") == 0) {
        *all = 1;
        return 0;
    }
    de_policy p;
    int rc = de_policy_parse(v, &p);
    if (rc == DE_ERANGE) {
        de_cli_fail("--policy %s: more than %d external policies", v, DE_POLICY_EXT_MAX);
        return -1;
    }
    if (rc) {
        de_cli_fail("--policy: unknown policy '%s' (known: %s, all)", v, de_policy_list());
        return -1;
    }
    for (int i = 0; i < *n; i++)
        if (list[i] == p)
            return 0;
    list[(*n)++] = p;
    return 0;
}

void de_cli_sim_args_free(de_cli_sim_args *a)
{
    free(a->vary);
    a->vary = NULL;
    a->n_vary = 0;
}
