/* cli_args.c — the option helpers every command uses (cli.h): one error printer, strict
 * number parsing, the backend choice. */
#include <errno.h>
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
        if (!used || !(ty->emulation_cpu_cores > 0) || !ty->measured_cpu)
            continue;
        if (strcmp(ty->measured_cpu, cpu) == 0 && (ty->measured_cores == 0 || ty->measured_cores == cores))
            continue;
        fprintf(stderr,
                "deepedge: warning: emulated device type %s was measured on another host (%s, %d cores; this one: %s, "
                "%d cores): its predictions may not hold here. Measure this host with `deepedge profile` and refit "
                "(traces/README.md).\n",
                ty->name, ty->measured_cpu, ty->measured_cores, cpu, cores);
        warned++;
    }
    return warned;
}
