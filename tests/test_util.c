/* test_util.c — small utilities: the name index, paths, checksums. */
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    static const de_test_case cases[] = {
        {"name index", test_strmap},
        {"paths and strings", test_paths},
        {"FNV-1a checksums", test_fnv},
        {NULL, NULL}};
    de_test_suite("util", cases);
    return de_test_run();
}
