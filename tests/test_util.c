/* test_util.c — small utilities: the name index, paths, checksums, stale temporary files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "de_net.h"
#include "de_test.h"
#include "de_util.h"

static void test_strmap(void)
{
    de_strmap *m = de_strmap_create(2);
    char keys[3000][16];
    for (int i = 0; i < 3000; i++) { /* grows many times */
        snprintf(keys[i], sizeof keys[i], "dev-%d", i);
        CU_ASSERT_EQUAL(de_strmap_put(m, keys[i], i), -1);
    }
    for (int i = 0; i < 3000; i++)
        CU_ASSERT_EQUAL(de_strmap_get(m, keys[i]), i);
    CU_ASSERT_EQUAL(de_strmap_put(m, "dev-17", 99), 17); /* present: not replaced */
    CU_ASSERT_EQUAL(de_strmap_get(m, "dev-17"), 17);
    CU_ASSERT_EQUAL(de_strmap_get(m, "dev-3000"), -1);
    CU_ASSERT_EQUAL(de_strmap_get(m, ""), -1);
    de_strmap_destroy(m);
    de_strmap_destroy(NULL);
}

static void test_paths(void)
{
    char *p = de_path_join("a/b", "c.cfg");
    CU_ASSERT_STRING_EQUAL(p, "a/b/c.cfg");
    free(p);
    p = de_path_join("a/b/", "c.cfg");
    CU_ASSERT_STRING_EQUAL(p, "a/b/c.cfg");
    free(p);
    p = de_path_join("a", "/abs/c.cfg");
    CU_ASSERT_STRING_EQUAL(p, "/abs/c.cfg");
    free(p);
    p = de_path_dirname("x/y/z.cfg");
    CU_ASSERT_STRING_EQUAL(p, "x/y");
    free(p);
    p = de_path_dirname("z.cfg");
    CU_ASSERT_STRING_EQUAL(p, ".");
    free(p);
    p = de_path_dirname("/z.cfg");
    CU_ASSERT_STRING_EQUAL(p, "/");
    free(p);
    p = de_sprintf("%d-%s", 7, "x");
    CU_ASSERT_STRING_EQUAL(p, "7-x");
    free(p);
}

static void test_fnv(void)
{
    /* Published FNV-1a 64-bit test vectors. */
    CU_ASSERT_EQUAL(de_fnv1a64("", 0, DE_FNV1A64_INIT), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(de_fnv1a64("a", 1, DE_FNV1A64_INIT), 0xaf63dc4c8601ec8cULL);
    CU_ASSERT_EQUAL(de_fnv1a64("foobar", 6, DE_FNV1A64_INIT), 0x85944171f73967e8ULL);
    char *path = de_test_tmpfile("foobar", ".txt");
    uint64_t h = 0;
    CU_ASSERT_EQUAL(de_file_checksum(path, &h), DE_OK);
    CU_ASSERT_EQUAL(h, 0x85944171f73967e8ULL);
    de_test_unlink(path);
    CU_ASSERT_EQUAL(de_file_checksum("/nonexistent/x", &h), DE_EIO);
}

/* Files read whole are regular files: a device such as /dev/zero would be read forever
 * and opening a FIFO would wait for a writer, so both are refused at once. */
static void test_regular_only(void)
{
    char dir[] = "/tmp/deepedge-fifo-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char *fifo = de_path_join(dir, "trace.csv");
    CU_ASSERT_FATAL(mkfifo(fifo, 0600) == 0);
    size_t len;
    errno = 0;
    CU_ASSERT_PTR_NULL(de_file_read(fifo, &len));
    CU_ASSERT_EQUAL(errno, EINVAL);
    CU_ASSERT_EQUAL(de_open_regular(fifo), -1);
    CU_ASSERT_PTR_NULL(de_file_read("/dev/zero", &len));
    CU_ASSERT_STRING_EQUAL(de_file_strerror(errno), "not a regular file");
    CU_ASSERT_PTR_NULL(de_file_read(dir, &len));
    char *path = de_test_tmpfile("a,b\n", ".csv");
    char *text = de_file_read(path, &len);
    CU_ASSERT(text && len == 4 && strcmp(text, "a,b\n") == 0);
    free(text);
    de_test_unlink(path);
    unlink(fifo);
    rmdir(dir);
    free(fifo);
}

/* A writer killed between creating its temporary file and renaming it leaves
 * PATH.tmp.PID behind: the next successful write removes it (a live writer's stays). */
static void test_stale_tmp(void)
{
    char dir[] = "/tmp/deepedge-tmp-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char *path = de_path_join(dir, "checkpoint.deckpt");
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* a pid that is gone */
    char *dead = de_sprintf("%s.tmp.%ld", path, (long)child), *live = de_sprintf("%s.tmp.%ld", path, (long)getppid());
    char *other = de_sprintf("%s/other.tmp.%ld", dir, (long)child);
    const char *const files[] = {dead, live, other};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(files[i], "w");
        CU_ASSERT_FATAL(f != NULL);
        fclose(f);
    }
    CU_ASSERT(de_pid_alive(getppid())); /* a live writer: not this process, whose own name the write uses */
    CU_ASSERT(!de_pid_alive(child));
    de_err err;
    CU_ASSERT_EQUAL(de_file_write_atomic(path, "x", 1, &err), DE_OK);
    CU_ASSERT(access(dead, F_OK) != 0);  /* removed by the next write */
    CU_ASSERT(access(live, F_OK) == 0);  /* a writer still at work keeps its file */
    CU_ASSERT(access(other, F_OK) == 0); /* another file's is not touched */
    CU_ASSERT(access(path, F_OK) == 0);
    for (int i = 0; i < 3; i++)
        unlink(files[i]);
    unlink(path);
    rmdir(dir);
    free(dead);
    free(live);
    free(other);
    free(path);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"name index", test_strmap},
        {"paths and strings", test_paths},
        {"FNV-1a checksums", test_fnv},
        {"only regular files are read whole (no device, FIFO or folder)", test_regular_only},
        {"stale temporary files of killed writers are removed", test_stale_tmp},
        {NULL, NULL}};
    de_test_suite("util", cases);
    return de_test_run();
}
