/* cmd_profile.c — `deepedge profile`: measures this host under emulated CPU budgets into
 * the step / lc / allreduce traces that `deepedge fit` turns into catalog entries, and
 * `deepedge _allreduce`, the MPI program it starts for the all-reduce timings. The
 * measurements themselves are exec/de_probe.h; this file is options, orchestration,
 * tables and CSV files. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli_calib.h"
#include "cli_exec.h"
#include "de_net.h"
#include "de_probe.h"
#include "de_util.h"

#define MAXV 32

void (*de_profile_progress)(void *ud, const char *what);
void *de_profile_progress_ud;

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
    if (!de_profile_progress)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    de_profile_progress(de_profile_progress_ud, buf);
}

static void help(FILE *out)
{
    fprintf(out,
            "usage: deepedge profile --out PREFIX [--what step,lc,allreduce] [--cpu 1,0.5,0.25 | --device NAME]\n"
            "                        [options]\n\n"
            "Measures this host into the trace formats of traces/README.md, for `deepedge fit`:\n"
            "  PREFIX-step.csv       training step time vs local batch, per CPU budget (format step)\n"
            "  PREFIX-lc.csv         LC latency percentiles vs request rate, alone and next to a training\n"
            "                        process at a duty cycle in the same CPU budget (format lc)\n"
            "  PREFIX-allreduce.csv  MPI_Allreduce time vs bytes and ranks (format allreduce)\n"
            "Each CPU budget is an emulated device (emu-cpu-100/050/025 = 1, 1/2, 1/4 of one core): a cgroup\n"
            "cpu quota (period 10 ms) where one can be created, else duty-cycle throttling (--emulate);\n"
            "every measurement runs in a child process inside it. Rows cite the command and the date.\n\n"
            "options:\n"
            "  --out PREFIX          output prefix, e.g. traces/measured/host (required)\n"
            "  --what LIST           measurements: step, lc, allreduce (default: all three)\n"
            "  --cpu LIST            CPU budgets in cores, (0, 1] (default 1,0.5,0.25); device column emu-cpu-NNN\n"
            "  --device NAME         instead of --cpu: a physical device, no budget; rows name it NAME\n"
            "  --emulate MODE        auto | cgroup | duty (default auto: cgroup, else duty cycle)\n"
            "  --net NAME            training network (default edgenet-s)\n"
            "  --lc-model NAME       LC model served at batch 1 (default edgenet-s)\n"
            "  --threads N           kernel threads of every process (default 1)\n"
            "  --seed S              data, arrivals (default 1)\n"
            " step:\n"
            "  --batch LIST          local batches (default 1,2,4,8,16,32)\n"
            "  --steps N             timed steps per batch, median reported (default 10)\n"
            "  --warmup N            untimed steps first (default 2)\n"
            " lc:\n"
            "  --rates LIST          Poisson request rates, req/s, at every budget (default 30,80,150 x the\n"
            "                        budget's cores: the same utilisations on every budget). A cell whose\n"
            "                        latency keeps growing through the window (its trend over the window\n"
            "                        exceeds the mean latency with t > 5: an unstable queue) is reported as\n"
            "                        overloaded and written as a comment, not a row\n"
            "  --rates-per-core LIST the same per core of the budget (x the budget's cores)\n"
            "  --duty LIST           training duty cycles in [0, 1]; 0 = LC alone (default 0,0.5): the trainer\n"
            "                        runs a step of tau seconds, then sleeps tau (1-d)/d (d = 1: continuously).\n"
            "                        With step measured too, the trainer's steps inside each LC window are\n"
            "                        step rows under LC load (lc_util = rate x the service time alone of\n"
            "                        the budget's duty-0 cells): train_slowdown becomes identifiable\n"
            "  --train-batch LIST    local batches of the co-located trainer (default 4,16)\n"
            "  --duration S          measured window per cell (default 8)\n"
            "  --lc-warmup S         served but not recorded before the window (default 1)\n"
            "  --retry-overloaded N  an overloaded cell alone is measured again at half the rate (with\n"
            "                        the cells next to training at that rate), at most N times (default 0)\n"
            "  --percentiles LIST    latency percentiles written, in %% (default 50,95)\n"
            " allreduce:\n"
            "  --ranks LIST          MPI ranks, 2..64 (default 2,3,4; mpiexec --oversubscribe --bind-to none)\n"
            "  --bytes LIST          buffer sizes in bytes, multiples of 4 (default 4096, 8192, ... 8388608)\n"
            "  --reps N              timed all-reduces per size, median reported (default 20, 3 warm-up)\n"
            "  --link NAME           link class label of the rows (default host-shm)\n"
            "  --provenance TEXT     the command the rows cite instead of this command line\n"
            "  -h, --help            this text\n\n"
            "Then: deepedge fit PREFIX-step.csv --model step --device emu-cpu-050 (or list the traces in\n"
            "traces/fits.cfg and run deepedge fit --all).\n");
}

static void on_signal(int sig)
{
    (void)sig;
    de_probe_interrupted = 1;
}

/* "--what step,lc" -> bits 1 step, 2 lc, 4 allreduce. */
static int parse_what(const char *s, int *what)
{
    *what = 0;
    char *copy = de_strdup(s), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "step") == 0)
            *what |= 1;
        else if (strcmp(t, "lc") == 0)
            *what |= 2;
        else if (strcmp(t, "allreduce") == 0)
            *what |= 4;
        else
            rc = de_cli_fail("--what: unknown measurement '%s' (known: step, lc, allreduce)", t);
    }
    free(copy);
    if (!rc && !*what)
        rc = de_cli_fail("--what: empty list (known: step, lc, allreduce)");
    return rc;
}

static int list_opt(const char *opt, const char *s, double lo, double hi, int integer, double *v, int *n)
{
    de_err err;
    if (de_probe_parse_list(opt, s, lo, hi, integer, v, MAXV, n, &err))
        return de_cli_fail("%s", err.msg);
    return 0;
}

static int check_net(const char *opt, const char *name)
{
    de_net *net;
    de_err err;
    if (de_net_builtin(name, 0, &net, &err))
        return de_cli_fail("%s: %s", opt, err.msg);
    de_net_destroy(net);
    return 0;
}

/* Opens PREFIX-kind.csv.tmp; the comment block says what and how. */
static FILE *open_trace(const char *prefix, const char *kind, const char *cmd, const char *date, const char *what,
                        char **tmp, char **final)
{
    *final = de_sprintf("%s-%s.csv", prefix, kind);
    *tmp = de_sprintf("%s.tmp", *final);
    FILE *f = fopen(*tmp, "w");
    if (!f) {
        de_cli_fail("--out %s: cannot write %s: %s", prefix, *tmp, strerror(errno));
        return NULL;
    }
    char cpu[256];
    de_host_cpu(cpu, sizeof cpu);
    const char *slash = strrchr(*final, '/');
    struct utsname un;
    int have_un = uname(&un) == 0;
    fprintf(f, "# %s — %s, measured on this host (%s, %d cores online) by\n#   %s\n# on %s (UTC). Format: %s "
               "(traces/README.md).\n",
            slash ? slash + 1 : *final, what, cpu, de_host_cores(), cmd, date, kind);
    if (have_un)
        fprintf(f, "# kernel: %s %s %s\n", un.sysname, un.release, un.machine);
    return f;
}

static int close_trace(FILE *f, char *tmp, char *final, int ok)
{
    int rc = 0;
    if (f && fclose(f) != 0 && ok)
        rc = de_cli_fail("%s: write error", tmp);
    if (ok && !rc && rename(tmp, final) != 0)
        rc = de_cli_fail("%s: cannot rename to %s: %s", tmp, final, strerror(errno));
    if (!ok || rc)
        remove(tmp);
    else
        printf("written: %s\n", final);
    free(tmp);
    free(final);
    return rc;
}

typedef struct prof {
    int what;
    const char *out, *device, *emulate, *net, *lc_model, *link;
    double cpu[MAXV], batch[MAXV], rates[MAXV], duty[MAXV], tbatch[MAXV], pct[MAXV], ranks[MAXV], bytes[MAXV];
    int n_cpu, n_batch, n_rates, n_duty, n_tbatch, n_pct, n_ranks, n_bytes;
    int rates_given, n_overloaded, n_loaded_steps;
    int retry_overloaded; /* an overloaded cell alone: again at half the rate, at most this often */
    long long threads, steps, warmup, reps, seed;
    double duration, lc_warmup;
    char *cmd, date[32];
    FILE *fstep, *flc;
} prof;

static int measure_step(prof *p, const char *dev, const de_probe_budget *b, const char *mode_text)
{
    int batches[MAXV];
    for (int i = 0; i < p->n_batch; i++)
        batches[i] = (int)p->batch[i];
    de_probe_step_opts so = {p->net, (int)p->threads, batches, p->n_batch, (int)p->steps, (int)p->warmup,
                             (uint64_t)p->seed};
    double med[MAXV], sd[MAXV];
    de_err err;
    double t0 = de_now_s();
    progress("step %s %s, %d batch sizes", dev, p->net, p->n_batch);
    if (de_probe_steps(&so, b, med, sd, &err))
        return de_cli_fail("profile step on %s: %s", dev, err.msg);
    char *src = de_sprintf("measured: %s, %s (%s: %s; %s, %lld thread%s, gradient + SGD update on random data, "
                           "median of %lld steps after %lld warm-up)",
                           p->cmd, p->date, dev, mode_text, p->net, p->threads, p->threads == 1 ? "" : "s", p->steps,
                           p->warmup);
    printf("\nstep: %s (%s), %s, %lld thread(s), median of %lld steps (%.1f s)\n", dev, mode_text, p->net, p->threads,
           p->steps, de_now_s() - t0);
    printf("%-12s %6s %12s %10s %10s\n", "device", "batch", "step_ms", "sd_ms", "images/s");
    for (int i = 0; i < p->n_batch; i++) {
        printf("%-12s %6d %12.2f %10.2f %10.1f\n", dev, batches[i], med[i] * 1e3, sd[i] * 1e3, batches[i] / med[i]);
        de_probe_step_row(p->fstep, dev, p->net, batches[i], med[i], sd[i], src);
    }
    fflush(stdout);
    fflush(p->fstep);
    free(src);
    return 0;
}

static int measure_lc(prof *p, const char *dev, const de_probe_budget *b, const char *mode_text)
{
    double cores = b->cores > 0 ? b->cores : 1.0;
    double rates[MAXV];
    for (int i = 0; i < p->n_rates; i++)
        rates[i] = p->rates_given ? p->rates[i] : p->rates[i] * cores;
    char *src = de_sprintf("measured: %s, %s (%s: %s, shared by the LC service and the co-located trainer; "
                           "%s served at batch 1, Poisson arrivals, %g s window after %g s warm-up; trainer %s, "
                           "%lld thread%s)",
                           p->cmd, p->date, dev, mode_text, p->lc_model, p->duration, p->lc_warmup, p->net,
                           p->threads, p->threads == 1 ? "" : "s");
    printf("\nlc: %s (%s), model %s at batch 1, %g s per cell\n", dev, mode_text, p->lc_model, p->duration);
    printf("%-12s %8s %5s %6s %8s %8s %8s", "device", "rate", "duty", "tbatch", "requests", "svc_ms", "mean_ms");
    for (int k = 0; k < p->n_pct; k++) {
        char h[16];
        snprintf(h, sizeof h, "p%g_ms", p->pct[k]);
        printf(" %9s", h);
    }
    printf(" %9s %9s %9s\n", "got_duty", "step_ms", "drift_ms");
    int cell = 0, rc = 0, n_alone = 0, tries = 0;
    double svc_alone = 0; /* mean service time of the cells without training: lc_util = rate x this */
    for (int di = 0; di < p->n_duty && !rc; di++) {
        double d = p->duty[di];
        int nb = d > 0 ? p->n_tbatch : 1;
        for (int bi = 0; bi < nb && !rc; bi++)
            for (int ri = 0; ri < p->n_rates && !rc; ri++, cell++) {
                de_probe_lc_opts o = {p->lc_model, (int)p->threads, rates[ri], p->duration, p->lc_warmup, p->pct,
                                      p->n_pct, p->net, d > 0 ? (int)p->tbatch[bi] : 0, d,
                                      (uint64_t)p->seed * 1000003ull + (uint64_t)cell};
                de_probe_lc_result r;
                de_err err;
                if (d > 0)
                    progress("lc %s at %g req/s next to training (batch %d, duty %g)", dev, rates[ri], o.train_batch,
                             d);
                else
                    progress("lc %s at %g req/s alone", dev, rates[ri]);
                if (de_probe_lc(&o, b, &r, &err)) {
                    rc = de_cli_fail("profile lc on %s at %g req/s, duty %g: %s", dev, rates[ri], d, err.msg);
                    break;
                }
                printf("%-12s %8.4g %5g %6d %8ld %8.2f %8.2f", dev, rates[ri], d, o.train_batch, r.requests,
                       r.service_s * 1e3, r.mean_s * 1e3);
                for (int k = 0; k < p->n_pct; k++)
                    printf(" %9.2f", r.latency_s[k] * 1e3);
                if (d > 0)
                    printf(" %9.3f %9.1f", r.train_duty, r.train_step_s * 1e3);
                else
                    printf(" %9s %9s", "-", "-");
                printf(" %9.2f%s\n", r.drift_s * 1e3, r.overloaded ? "  overloaded: not written" : "");
                fflush(stdout);
                if (r.overloaded) {
                    /* Recorded as a comment: the measurement happened, but it is no stationary point. */
                    fprintf(p->flc, "# overloaded, not a row: %s at %g req/s, duty %g, train batch %d: mean latency "
                                    "%.4g s grows by %.4g s (t = %.1f) over the %g s window (%ld requests; p%g %.4g s)\n",
                            dev, rates[ri], d, o.train_batch, r.mean_s, r.drift_s, r.drift_t, p->duration, r.requests,
                            p->pct[p->n_pct - 1], r.latency_s[p->n_pct - 1]);
                    p->n_overloaded++;
                } else {
                    for (int k = 0; k < p->n_pct; k++)
                        de_probe_lc_row(p->flc, dev, p->lc_model, rates[ri], p->pct[k], r.latency_s[k],
                                        d > 0 ? p->net : NULL, o.train_batch, d, src);
                }
                fflush(p->flc);
                if (r.overloaded && d == 0 && tries < p->retry_overloaded) {
                    /* The same cell at half the rate (and the cells next to training with it):
                     * every rate of the grid then has a row alone. */
                    rates[ri] *= 0.5;
                    tries++;
                    ri--, cell--;
                    continue;
                }
                tries = 0;
                if (d == 0) {
                    svc_alone = (svc_alone * n_alone + r.service_s) / (n_alone + 1);
                    n_alone++;
                }
                double util = rates[ri] * svc_alone;
                if (d > 0 && p->fstep && n_alone > 0 && util < 0.95 && r.train_window_steps >= 3) {
                    /* The trainer's steps inside the LC window: the step time under LC load
                     * (train_slowdown). sd at least 1% of the median: a robust sd of a few
                     * equal steps can be 0, and a zero weight is undefined. */
                    double sd = fmax(r.train_step_sd_s, 0.01 * r.train_step_med_s);
                    char *s2 = de_sprintf("measured: %s, %s (%s: %s; %s, %lld thread%s, trainer at duty %g next to "
                                          "%s served at %g req/s: lc_util = rate x the service time alone %.4g ms; "
                                          "median of the %d steps inside the %g s LC window)",
                                          p->cmd, p->date, dev, mode_text, p->net, p->threads,
                                          p->threads == 1 ? "" : "s", d, p->lc_model, rates[ri], svc_alone * 1e3,
                                          r.train_window_steps, p->duration);
                    de_probe_step_row_lc(p->fstep, dev, p->net, o.train_batch, util, r.train_step_med_s, sd, s2);
                    fflush(p->fstep);
                    free(s2);
                    p->n_loaded_steps++;
                }
            }
    }
    free(src);
    return rc;
}

static int measure_allreduce(prof *p, FILE *f)
{
    char *bytes = de_strdup("");
    for (int i = 0; i < p->n_bytes; i++) {
        char *b2 = de_sprintf("%s%s%.0f", bytes, i ? "," : "", p->bytes[i]);
        free(bytes);
        bytes = b2;
    }
    char reps[32];
    snprintf(reps, sizeof reps, "%lld", p->reps);
    char *src = de_sprintf("measured: %s, %s (MPI_Allreduce of floats, MPI_SUM, in place; ranks on this one host, "
                           "%s --oversubscribe --bind-to none; slowest rank per call, median of %lld after 3 "
                           "warm-up)",
                           p->cmd, p->date, de_probe_mpiexec(), p->reps);
    printf("\nallreduce: link %s, %s -n K (ranks on this host), median of %lld calls\n", p->link, de_probe_mpiexec(),
           p->reps);
    printf("%-10s %6s %12s %12s %12s %10s\n", "link", "ranks", "bytes", "time_ms", "sd_ms", "MB/s");
    int rc = 0;
    for (int k = 0; k < p->n_ranks && !rc; k++) {
        progress("allreduce %d ranks, %d sizes", (int)p->ranks[k], p->n_bytes);
        char *args[] = {"_allreduce", "--bytes", bytes, "--reps", reps, "--warmup", "3", NULL};
        char *out = NULL;
        de_err err;
        if (de_probe_mpirun((int)p->ranks[k], args, &out, &err)) {
            rc = de_cli_fail("profile allreduce with %d ranks: %s", (int)p->ranks[k], err.msg);
            break;
        }
        int rows = 0;
        char *save = NULL;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            double by, med, sd;
            if (sscanf(line, "allreduce %lf %lf %lf", &by, &med, &sd) != 3)
                continue;
            printf("%-10s %6d %12.0f %12.4f %12.4f %10.1f\n", p->link, (int)p->ranks[k], by, med * 1e3, sd * 1e3,
                   by / med / 1e6);
            de_probe_allreduce_row(f, p->link, (int)p->ranks[k], by, med, sd, src);
            rows++;
        }
        fflush(stdout);
        free(out);
        if (rows != p->n_bytes)
            rc = de_cli_fail("profile allreduce with %d ranks: %d of %d sizes reported", (int)p->ranks[k], rows,
                             p->n_bytes);
    }
    free(src);
    free(bytes);
    return rc;
}

int de_cmd_profile(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"what", required_argument, 0, 'W'},
        {"cpu", required_argument, 0, 'c'},        {"device", required_argument, 0, 'd'},
        {"emulate", required_argument, 0, 'e'},    {"net", required_argument, 0, 'n'},
        {"lc-model", required_argument, 0, 'm'},   {"threads", required_argument, 0, 't'},
        {"seed", required_argument, 0, 'S'},       {"batch", required_argument, 0, 'b'},
        {"steps", required_argument, 0, 's'},      {"warmup", required_argument, 0, 'w'},
        {"rates", required_argument, 0, 'r'},      {"duty", required_argument, 0, 'u'},
        {"train-batch", required_argument, 0, 'B'}, {"duration", required_argument, 0, 'D'},
        {"retry-overloaded", required_argument, 0, 'O'}, {"lc-warmup", required_argument, 0, 'L'},  {"percentiles", required_argument, 0, 'P'},
        {"ranks", required_argument, 0, 'k'},      {"bytes", required_argument, 0, 'y'},
        {"reps", required_argument, 0, 'R'},       {"link", required_argument, 0, 'l'},
        {"provenance", required_argument, 0, 'V'}, {"rates-per-core", required_argument, 0, 'Q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *provenance = NULL;
    prof p;
    memset(&p, 0, sizeof p);
    p.what = 7;
    p.emulate = "auto";
    p.net = "edgenet-s";
    p.lc_model = "edgenet-s";
    p.link = "host-shm";
    p.threads = 1;
    p.steps = 10;
    p.warmup = 2;
    p.reps = 20;
    p.seed = 1;
    p.duration = 8;
    p.lc_warmup = 1;
    const double d_cpu[] = {1, 0.5, 0.25}, d_batch[] = {1, 2, 4, 8, 16, 32}, d_rates[] = {30, 80, 150},
                 d_duty[] = {0, 0.5}, d_tb[] = {4, 16}, d_pct[] = {50, 95}, d_ranks[] = {2, 3, 4};
#define DEF(arr, n, src)                                                                                       \
    do {                                                                                                       \
        n = (int)(sizeof src / sizeof src[0]);                                                                 \
        memcpy(arr, src, sizeof src);                                                                          \
    } while (0)
    DEF(p.cpu, p.n_cpu, d_cpu);
    DEF(p.batch, p.n_batch, d_batch);
    DEF(p.rates, p.n_rates, d_rates);
    DEF(p.duty, p.n_duty, d_duty);
    DEF(p.tbatch, p.n_tbatch, d_tb);
    DEF(p.pct, p.n_pct, d_pct);
    DEF(p.ranks, p.n_ranks, d_ranks);
#undef DEF
    for (double b = 4096; b <= 8388608; b *= 2)
        p.bytes[p.n_bytes++] = b;
    int cpu_given = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': p.out = optarg; break;
        case 'W': bad = parse_what(optarg, &p.what); break;
        case 'c':
            bad = list_opt("--cpu", optarg, 0.01, 1, 0, p.cpu, &p.n_cpu);
            cpu_given = 1;
            break;
        case 'd': p.device = optarg; break;
        case 'e': p.emulate = optarg; break;
        case 'n': p.net = optarg; break;
        case 'm': p.lc_model = optarg; break;
        case 't': bad = de_cli_int("--threads", optarg, 1, 256, &p.threads); break;
        case 'S': bad = de_cli_int("--seed", optarg, 0, 4294967295LL, &p.seed); break;
        case 'b': bad = list_opt("--batch", optarg, 1, 1024, 1, p.batch, &p.n_batch); break;
        case 's': bad = de_cli_int("--steps", optarg, 1, 100000, &p.steps); break;
        case 'w': bad = de_cli_int("--warmup", optarg, 0, 1000, &p.warmup); break;
        case 'r':
            bad = list_opt("--rates", optarg, 0.01, 1e5, 0, p.rates, &p.n_rates);
            p.rates_given = 1;
            break;
        case 'Q':
            bad = list_opt("--rates-per-core", optarg, 0.01, 1e5, 0, p.rates, &p.n_rates);
            p.rates_given = 0;
            break;
        case 'u': bad = list_opt("--duty", optarg, 0, 1, 0, p.duty, &p.n_duty); break;
        case 'B': bad = list_opt("--train-batch", optarg, 1, 1024, 1, p.tbatch, &p.n_tbatch); break;
        case 'D': bad = de_cli_float("--duration", optarg, 0.1, 3600, &p.duration); break;
        case 'L': bad = de_cli_float("--lc-warmup", optarg, 0, 600, &p.lc_warmup); break;
        case 'O': {
            double v;
            bad = de_cli_float("--retry-overloaded", optarg, 0, 10, &v);
            if (!bad && v != floor(v))
                bad = de_cli_fail("--retry-overloaded: '%s' is not a whole number", optarg);
            p.retry_overloaded = (int)v;
            break;
        }
        case 'P': bad = list_opt("--percentiles", optarg, 1, 99.999, 0, p.pct, &p.n_pct); break;
        case 'k': bad = list_opt("--ranks", optarg, 2, 64, 1, p.ranks, &p.n_ranks); break;
        case 'y': bad = list_opt("--bytes", optarg, 4, 1073741824.0, 1, p.bytes, &p.n_bytes); break;
        case 'R': bad = de_cli_int("--reps", optarg, 1, 100000, &p.reps); break;
        case 'l': p.link = optarg; break;
        case 'V': provenance = optarg; break;
        case 'h': help(stdout); return DE_EXIT_OK;
        default:
            help(stderr);
            return de_cli_fail("profile: unknown option or missing argument: %s", argv[optind - 1]);
        }
        if (bad)
            return DE_EXIT_ERROR;
    }
    if (optind != argc)
        return de_cli_fail("profile: unexpected argument '%s' (see deepedge profile --help)", argv[optind]);
    if (!p.out)
        return de_cli_fail("profile: --out PREFIX is required (e.g. --out traces/measured/host)");
    if (p.device && cpu_given)
        return de_cli_fail("profile: --device NAME (a physical device, no budget) and --cpu exclude each other");
    if (p.device && (!*p.device || strpbrk(p.device, ",\"\n")))
        return de_cli_fail("--device: '%s' is not a device type name", p.device);
    if (!*p.link || strpbrk(p.link, ",\"\n"))
        return de_cli_fail("--link: '%s' is not a link class name", p.link);
    if (strcmp(p.emulate, "auto") && strcmp(p.emulate, "cgroup") && strcmp(p.emulate, "duty"))
        return de_cli_fail("--emulate: '%s' is not auto, cgroup or duty", p.emulate);
    if (p.n_pct > DE_PROBE_MAX_PCT)
        return de_cli_fail("--percentiles: at most %d", DE_PROBE_MAX_PCT);
    for (int i = 0; i < p.n_bytes; i++)
        if (fmod(p.bytes[i], 4) != 0)
            return de_cli_fail("--bytes: %.0f is not a multiple of 4 (float buffers)", p.bytes[i]);
    if ((p.what & 3) && (check_net("--net", p.net) || check_net("--lc-model", p.lc_model)))
        return DE_EXIT_ERROR;
    /* The output folder must exist (or be creatable). */
    char *dir = de_path_dirname(p.out);
    if (dir && *dir && strcmp(dir, ".") && de_mkdir_p(dir) != 0) {
        int e = errno;
        free(dir);
        return de_cli_fail("--out %s: cannot create the folder: %s", p.out, strerror(e));
    }
    free(dir);

    /* The command line, for the rows' source. */
    p.cmd = de_strdup(provenance ? provenance : "deepedge profile");
    for (int i = 1; i < argc && !provenance; i++) {
        char *c2 = de_sprintf("%s %s", p.cmd, argv[i]);
        free(p.cmd);
        p.cmd = c2;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(p.date, sizeof p.date, "%Y-%m-%d", &tm);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: blocking reads return and the children are reaped */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char *tstep = NULL, *fstep = NULL, *tlc = NULL, *flc = NULL, *tar = NULL, *far = NULL;
    FILE *far_f = NULL;
    int rc = 0;
    if (p.what & 1)
        rc = !(p.fstep = open_trace(p.out, "step", p.cmd, p.date, "training step time vs local batch", &tstep, &fstep));
    if (!rc && (p.what & 1))
        de_probe_step_header(p.fstep);
    if (!rc && (p.what & 2))
        rc = !(p.flc = open_trace(p.out, "lc", p.cmd, p.date, "LC latency percentiles vs request rate and co-located "
                                  "training duty cycle", &tlc, &flc));
    if (!rc && (p.what & 2))
        de_probe_lc_header(p.flc);
    if (!rc && (p.what & 4))
        rc = !(far_f = open_trace(p.out, "allreduce", p.cmd, p.date, "MPI_Allreduce time vs bytes and ranks", &tar,
                                  &far));
    if (!rc && (p.what & 4))
        de_probe_allreduce_header(far_f);
    rc = rc ? DE_EXIT_ERROR : 0;

    double t_all = de_now_s();
    int nb = p.device ? 1 : p.n_cpu;
    char run[64];
    snprintf(run, sizeof run, "profile-%ld", (long)getpid());
    for (int i = 0; i < nb && !rc && (p.what & 3); i++) {
        char dev[64], note[1200], mode_text[160];
        de_probe_budget b;
        de_err err;
        if (p.device)
            snprintf(dev, sizeof dev, "%s", p.device);
        else
            de_probe_emu_name(p.cpu[i], dev, sizeof dev);
        if (de_probe_budget_open(run, dev, p.device ? 0 : p.cpu[i], p.device ? "none" : p.emulate, &b, note,
                                 sizeof note, &err)) {
            rc = de_cli_fail("%s", err.msg);
            break;
        }
        if (note[0])
            fprintf(stderr, "deepedge profile: %s: %s\n", dev, note);
        if (b.mode == DE_BUDGET_NONE)
            snprintf(mode_text, sizeof mode_text, "no CPU budget (the whole host)");
        else if (b.mode == DE_BUDGET_DUTY)
            snprintf(mode_text, sizeof mode_text, "duty-cycle throttling to %g core", b.cores);
        else
            snprintf(mode_text, sizeof mode_text, "%s quota %g core per 10 ms", de_budget_mode_name(b.mode), b.cores);
        if (p.what & 1)
            rc = measure_step(&p, dev, &b, mode_text);
        if (!rc && (p.what & 2))
            rc = measure_lc(&p, dev, &b, mode_text);
        de_probe_budget_close(&b);
    }
    /* The step and lc traces are whole once every device is measured: a later failure of
     * the all-reduce measurement does not throw them away. */
    int ok_dev = rc == 0;
    if (!rc && (p.what & 4))
        rc = measure_allreduce(&p, far_f);
    if (rc && de_probe_interrupted)
        fprintf(stderr, "deepedge profile: interrupted; %s\n",
                ok_dev && (p.what & 3) ? "the step and lc traces are written, the all-reduce one is not"
                                       : "nothing written");
    else if (rc && ok_dev && (p.what & 3))
        fprintf(stderr, "deepedge profile: the all-reduce measurement failed; the step and lc traces are written\n");
    int ok = rc == 0;
    if (p.what & 1)
        rc |= close_trace(p.fstep, tstep, fstep, ok_dev);
    if (p.what & 2)
        rc |= close_trace(p.flc, tlc, flc, ok_dev);
    if (p.what & 4)
        rc |= close_trace(far_f, tar, far, ok);
    if (ok && !rc)
        printf("profile took %.1f s%s%s\n", de_now_s() - t_all,
               p.n_overloaded ? " (overloaded lc cells are comments in the lc trace, not rows)" : "",
               p.n_loaded_steps ? " (step rows under LC load come from the trainer of the lc cells)" : "");
    free(p.cmd);
    return rc ? DE_EXIT_ERROR : DE_EXIT_OK;
}

/* ---- deepedge _allreduce: one rank of the all-reduce timing ---- */

int de_cmd_allreduce(int argc, char **argv)
{
    static const struct option opts[] = {{"bytes", required_argument, 0, 'y'},
                                         {"reps", required_argument, 0, 'R'},
                                         {"warmup", required_argument, 0, 'w'},
                                         {0, 0, 0, 0}};
    double bytes[MAXV];
    int nb = 0, c;
    long long reps = 20, warmup = 3;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'y': bad = list_opt("--bytes", optarg, 4, 1073741824.0, 1, bytes, &nb); break;
        case 'R': bad = de_cli_int("--reps", optarg, 1, 100000, &reps); break;
        case 'w': bad = de_cli_int("--warmup", optarg, 0, 1000, &warmup); break;
        default: return de_cli_fail("_allreduce: bad arguments (it is started by `deepedge profile`)");
        }
        if (bad)
            return DE_EXIT_ERROR;
    }
    if (nb < 1)
        return de_cli_fail("_allreduce: --bytes LIST is required (started by `deepedge profile`)");
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int i = 0; i < nb; i++) {
        double med, sd;
        de_err err;
        if (de_probe_allreduce(MPI_COMM_WORLD, (size_t)(bytes[i] / 4), (int)reps, (int)warmup, &med, &sd, &err)) {
            fprintf(stderr, "deepedge _allreduce (rank %d): %s\n", rank, err.msg);
            MPI_Abort(MPI_COMM_WORLD, DE_EXIT_ERROR);
            return DE_EXIT_ERROR;
        }
        if (rank == 0) {
            printf("allreduce %.0f %.9g %.9g\n", bytes[i], med, sd);
            fflush(stdout);
        }
    }
    MPI_Finalize();
    return DE_EXIT_OK;
}
