/* main.c — the `deepedge` command: one program, subcommands (see README.md). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "de_catalog.h"
#include "de_generate.h"
#include "de_util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "deepedge %s — plans and runs DNN re-training on a heterogeneous edge cluster\n"
            "next to latency-critical applications.\n\n"
            "usage: deepedge COMMAND [ARGS]   (deepedge COMMAND --help for details)\n\n"
            "commands:\n"
            "  plan SCENARIO       compute a plan (which devices, which local batches) and print it\n"
            "  scenario ...        generate random scenarios, show one resolved, print the key tables\n"
            "  bench plan          planning-time and optimality-gap benchmark\n"
            "  help                this text\n"
            "  version             the version\n\n"
            "Exit status: 0 success, 1 error (message on stderr), 2 no plan meets every deadline.\n",
            DE_VERSION);
}

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

int de_cli_generated_scenario(int devices, int lc_tasks, unsigned long seed, const char *network, int global_batch,
                              de_scenario **out, char **path_out, de_err *err)
{
    *out = NULL;
    *path_out = NULL;
    de_catalog *cat;
    int rc = de_catalog_load(DE_DEFAULT_CATALOG, &cat, err);
    if (rc)
        return rc;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = de_sprintf("%s/deepedge-gen-XXXXXX", tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        de_catalog_destroy(cat);
        rc = de_err_set(err, DE_EIO, "%s: cannot create temporary file", path);
        free(path);
        return rc;
    }
    FILE *f = fdopen(fd, "w");
    de_gen_opts o;
    de_gen_opts_default(&o);
    o.devices = devices;
    o.lc_tasks = lc_tasks;
    o.seed = seed;
    o.network = network;
    o.global_batch = global_batch;
    rc = de_generate(cat, &o, f, err);
    fclose(f);
    de_catalog_destroy(cat);
    if (!rc)
        rc = de_scenario_load(path, NULL, out, err);
    if (rc) {
        unlink(path);
        free(path);
        return rc;
    }
    *path_out = path;
    return DE_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DE_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "plan") == 0)
        return de_cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "scenario") == 0)
        return de_cmd_scenario(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return de_cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return DE_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("deepedge %s\n", DE_VERSION);
        return DE_EXIT_OK;
    }
    de_cli_fail("unknown command '%s'", cmd);
    usage(stderr);
    return DE_EXIT_ERROR;
}
