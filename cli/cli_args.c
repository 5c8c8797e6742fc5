/* cli_args.c — the option helpers every command uses (cli.h): one error printer, strict
 * number parsing, the backend choice. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int de_cli_backend(const char *s, de_backend *out)
{
    if (strcmp(s, "cpu") == 0)
        *out = DE_BACKEND_CPU;
    else if (strcmp(s, "cuda") == 0)
        *out = DE_BACKEND_CUDA;
    else {
        de_cli_fail("--device: '%s' is not cpu or cuda", s);
        return -1;
    }
    return 0;
}
