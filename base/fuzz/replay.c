/* replay.c — the main of a fuzz target outside libFuzzer (de_fuzz.h): runs every input
 * given (files, or every file of a folder) through LLVMFuzzerTestOneInput once, in name
 * order, and says how many. A crash is the sanitizer's report and a non-zero exit.
 *
 *   fuzz_NAME PATH...                 replay
 *   fuzz_NAME --write-seeds DIR       the target's generated seeds (binary formats) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "de_fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read\n", path);
        return -1;
    }
    size_t cap = 1 << 12, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            de_fuzz_die("out of memory reading %s", path);
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, long *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open the folder\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                de_fuzz_die("out of memory");
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
            rc |= replay_file(p);
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        if (!de_fuzz_write_seeds) {
            fprintf(stderr, "%s: this target makes no seeds (its seeds are text files in the repository)\n", argv[0]);
            return 2;
        }
        if (LLVMFuzzerInitialize)
            LLVMFuzzerInitialize(&argc, &argv);
        return de_fuzz_write_seeds(argv[2]) ? 1 : 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT|FOLDER...  (replays each input once)\n"
                        "       %s --write-seeds FOLDER\n", argv[0], argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    long count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            rc |= replay_dir(argv[i], &count);
        } else {
            rc |= replay_file(argv[i]);
            count++;
        }
    }
    printf("%s: %ld input(s) replayed\n", argv[0], count);
    return rc ? 1 : 0;
}
