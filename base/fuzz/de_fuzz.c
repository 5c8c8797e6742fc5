/* de_fuzz.c — the fuzz targets' scratch folder and small helpers (de_fuzz.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "de_fuzz.h"

#include "de_error.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[256];
static FILE *null_file;

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_scratch(void)
{
    nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void de_fuzz_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz target: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

const char *de_fuzz_dir(void)
{
    if (!scratch[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/de-fuzz-%ld", t && t[0] ? t : "/tmp", (long)getpid());
        if (mkdir(scratch, 0700) != 0)
            de_fuzz_die("cannot create %s", scratch);
        atexit(remove_scratch);
    }
    return scratch;
}

const char *de_fuzz_file(const char *name, const void *data, size_t n)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", de_fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
        de_fuzz_die("cannot write %s", path);
    return path;
}

char *de_fuzz_text(const uint8_t *data, size_t n)
{
    char *t = malloc(n + 1);
    if (!t)
        de_fuzz_die("out of memory");
    if (n)
        memcpy(t, data, n);
    t[n] = '\0';
    return t;
}

void *de_fuzz_null(void)
{
    if (!null_file && !(null_file = fopen("/dev/null", "w")))
        de_fuzz_die("cannot open /dev/null");
    return null_file;
}

int de_fuzz_seed_from(const char *made, int flag, const char *seed)
{
    FILE *in = fopen(made, "rb"), *out = in ? fopen(seed, "wb") : NULL;
    int rc = in && out && fputc(flag, out) != EOF ? 0 : -1;
    for (int c; !rc && (c = fgetc(in)) != EOF;)
        if (fputc(c, out) == EOF)
            rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out))
        rc = -1;
    remove(made);
    if (rc)
        fprintf(stderr, "%s: cannot write the seed from %s\n", seed, made);
    return rc;
}

void de_fuzz_verdict(int rc, const struct de_err *err)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("DE_FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "%s\n", rc ? err->msg : "accepted");
}
