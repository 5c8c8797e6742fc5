/* test_stage.c — files staged to hosts without shared storage (exec/de_stage.h).
 *
 * Paths: absolute and normalised without following links, and where a host keeps a
 * coordinator's file. SHA-256 of known inputs (FIPS 180-2's examples). The manifest: each
 * file listed with its size and hash, found by hash, unchanged files not hashed again, a
 * changed one hashed again. The coordinator's side of a transfer over a socket pair: a
 * fetch of a listed file sends exactly its bytes, one not listed is refused; a put with
 * the right checksum is stored whole, a put whose bytes do not match its checksum, one
 * cut short and one with a name other than the checkpoint's or the weights' leave
 * nothing behind and are answered with why. The end-to-end path across hosts is
 * tests/stage_test.sh. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_stage.h"
#include "de_test.h"
#include "de_util.h"
#include "de_wire.h"

static void check_abs(const char *in, const char *want)
{
    char *got = de_stage_abs(in);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

static void test_paths(void)
{
    check_abs("/a/b/c", "/a/b/c");
    check_abs("/a//b/./c/", "/a/b/c");
    check_abs("/a/b/../c", "/a/c");
    check_abs("/a/../../c", "/c");
    check_abs("/", "/");
    check_abs("/..", "/");
    char cwd[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    char *want = de_sprintf("%s/x/y", strcmp(cwd, "/") ? cwd : "");
    check_abs("x/./z/../y", want);
    free(want);
    char *l = de_stage_local("/var/stage/", "/home/u/../u/s.cfg");
    CU_ASSERT_STRING_EQUAL(l, "/var/stage/home/u/s.cfg");
    free(l);
    l = de_stage_local("/", "/home/u/s.cfg");
    CU_ASSERT_STRING_EQUAL(l, "/home/u/s.cfg");
    free(l);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/de_stage_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpl));
    return de_strdup(tmpl);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *p = de_path_join(dir, name);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void test_sha256(void)
{
    char *dir = tmpdir(), hex[65];
    long long n;
    de_err err;
    char *a = write_file(dir, "abc", "abc"), *e = write_file(dir, "empty", "");
    CU_ASSERT_EQUAL(de_stage_sha256_file(a, hex, &n, &err), DE_OK);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(de_stage_sha256_file(e, hex, &n, &err), DE_OK);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CU_ASSERT_EQUAL(n, 0);
    char *missing = de_path_join(dir, "missing");
    CU_ASSERT_NOT_EQUAL(de_stage_sha256_file(missing, hex, &n, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing"));
    unlink(a), unlink(e), rmdir(dir);
    free(a), free(e), free(missing), free(dir);
}

static void test_manifest(void)
{
    char *dir = tmpdir();
    char *a = write_file(dir, "a.cfg", "abc"), *b = write_file(dir, "b.bin", "0123456789");
    de_stage m;
    de_stage_init(&m);
    de_err err;
    de_stage_begin(&m);
    CU_ASSERT_EQUAL(de_stage_add(&m, a, &err), DE_OK);
    CU_ASSERT_EQUAL(de_stage_add(&m, b, &err), DE_OK);
    CU_ASSERT_EQUAL(de_stage_add(&m, a, &err), DE_OK); /* twice: one entry */
    de_stage_end(&m);
    CU_ASSERT_EQUAL(m.n, 2);
    char *line = de_sprintf("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3 %s\n", a);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.text, line));
    free(line);
    const de_stage_entry *x = de_stage_find(&m, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_STRING_EQUAL(x->path, a);
    char first[65];
    snprintf(first, sizeof first, "%s", m.text_sha);
    /* A new launch without b: b is not served any more. */
    de_stage_begin(&m);
    CU_ASSERT_EQUAL(de_stage_add(&m, a, &err), DE_OK);
    de_stage_end(&m);
    CU_ASSERT_PTR_NULL(strstr(m.text, b));
    CU_ASSERT_STRING_NOT_EQUAL(m.text_sha, first);
    char bsha[65];
    long long n;
    CU_ASSERT_EQUAL(de_stage_sha256_file(b, bsha, &n, &err), DE_OK);
    CU_ASSERT_PTR_NULL(de_stage_find(&m, bsha));
    /* a changed file is hashed again */
    free(write_file(dir, "a.cfg", "abcd"));
    struct timespec later[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
    utimensat(AT_FDCWD, a, later, 0);
    de_stage_begin(&m);
    CU_ASSERT_EQUAL(de_stage_add(&m, a, &err), DE_OK);
    de_stage_end(&m);
    CU_ASSERT_EQUAL(m.e[0].size, 4);
    CU_ASSERT_STRING_EQUAL(m.e[0].sha, "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
    /* a file that is not there: the error names it */
    char *missing = de_path_join(dir, "gone.csv");
    de_stage_begin(&m);
    CU_ASSERT_NOT_EQUAL(de_stage_add(&m, missing, &err), DE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gone.csv"));
    CU_ASSERT_NOT_EQUAL(de_stage_add(&m, dir, &err), DE_OK); /* a folder */
    de_stage_free(&m);
    unlink(a), unlink(b), rmdir(dir);
    free(a), free(b), free(missing), free(dir);
}

/* Everything the other end of a socket pair received until it closed. */
static char *drain(int fd, size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = de_calloc(cap + 1, 1);
    ssize_t got;
    while ((got = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)got;
        if (len == cap) {
            buf = de_realloc(buf, 2 * cap + 1);
            cap *= 2;
        }
    }
    buf[len] = '\0';
    *n = len;
    return buf;
}

static void test_serve_fetch(void)
{
    char *dir = tmpdir(), *a = write_file(dir, "a.cfg", "abc");
    de_stage m;
    de_stage_init(&m);
    de_err err;
    de_stage_begin(&m);
    CU_ASSERT_EQUAL_FATAL(de_stage_add(&m, a, &err), DE_OK);
    de_stage_end(&m);
    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CU_ASSERT_EQUAL(de_stage_serve_fetch(&m, sv[0], "fetch sha=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &err), DE_OK);
    close(sv[0]);
    size_t n;
    char *got = drain(sv[1], &n);
    CU_ASSERT_STRING_EQUAL(got, "file sha=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad size=3\nabc");
    free(got);
    close(sv[1]);
    /* the manifest itself */
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CU_ASSERT_EQUAL(de_stage_serve_fetch(&m, sv[0], "fetch what=manifest", &err), DE_OK);
    close(sv[0]);
    got = drain(sv[1], &n);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, m.text));
    free(got);
    close(sv[1]);
    /* a hash not listed (a file the coordinator has but did not list, or made up) */
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CU_ASSERT_NOT_EQUAL(de_stage_serve_fetch(&m, sv[0], "fetch sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &err), DE_OK);
    CU_ASSERT_NOT_EQUAL(de_stage_serve_fetch(&m, sv[0], "fetch sha=../../etc/passwd", &err), DE_OK);
    close(sv[0]);
    got = drain(sv[1], &n);
    CU_ASSERT_STRING_EQUAL(got, "file why=no_such_file\nfile why=no_such_file\n");
    free(got);
    close(sv[1]);
    de_stage_free(&m);
    unlink(a), rmdir(dir);
    free(a), free(dir);
}

/* A put of body (n bytes) announced with sha into dir: the answer line. */
static int put(const char *dir, const char *header, const char *body, size_t n, char *answer, size_t an)
{
    int sv[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CU_ASSERT_EQUAL_FATAL(write(sv[1], header, strlen(header)), (ssize_t)strlen(header));
    if (n)
        CU_ASSERT_EQUAL_FATAL(write(sv[1], body, n), (ssize_t)n);
    shutdown(sv[1], SHUT_WR); /* a body cut short ends here */
    de_wire_reader rd;
    de_wire_reader_init(&rd);
    char *line = NULL;
    int k;
    while ((k = de_wire_next(&rd, sv[0], &line)) == DE_WIRE_NONE)
        ;
    CU_ASSERT_EQUAL_FATAL(k, DE_WIRE_LINE);
    de_err err;
    int rc = de_stage_serve_put(sv[0], &rd, line, dir, &err);
    close(sv[0]);
    size_t got;
    char *a = drain(sv[1], &got);
    snprintf(answer, an, "%s", a);
    free(a);
    close(sv[1]);
    return rc;
}

static void test_serve_put(void)
{
    char *dir = tmpdir(), ans[256];
    char *ck = de_path_join(dir, "checkpoint.deckpt");
    const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    char h[256];
    snprintf(h, sizeof h, "put name=checkpoint.deckpt g=5 size=3 sha=%s\n", abc);
    CU_ASSERT_EQUAL(put(dir, h, "abc", 3, ans, sizeof ans), DE_OK);
    char *s = de_sprintf("stored sha=%s\n", abc);
    CU_ASSERT_STRING_EQUAL(ans, s);
    free(s);
    size_t n;
    char *text = de_file_read(ck, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(memcmp(text, "abc", 3), 0);
    free(text);
    /* bytes that do not match the checksum: the stored file is left as it was */
    CU_ASSERT_NOT_EQUAL(put(dir, h, "abd", 3, ans, sizeof ans), DE_OK);
    CU_ASSERT_STRING_EQUAL(ans, "stored why=failed\n");
    text = de_file_read(ck, &n);
    CU_ASSERT(text && n == 3 && memcmp(text, "abc", 3) == 0);
    free(text);
    /* cut short */
    CU_ASSERT_NOT_EQUAL(put(dir, h, "ab", 2, ans, sizeof ans), DE_OK);
    CU_ASSERT_STRING_EQUAL(ans, "stored why=failed\n");
    /* a name other than the checkpoint's or the weights' */
    snprintf(h, sizeof h, "put name=../../etc/x g=5 size=3 sha=%s\n", abc);
    CU_ASSERT_NOT_EQUAL(put(dir, h, "abc", 3, ans, sizeof ans), DE_OK);
    CU_ASSERT_STRING_EQUAL(ans, "stored why=malformed\n");
    snprintf(h, sizeof h, "put name=model.weights g=5 size=-3 sha=%s\n", abc);
    CU_ASSERT_NOT_EQUAL(put(dir, h, "abc", 3, ans, sizeof ans), DE_OK);
    CU_ASSERT_STRING_EQUAL(ans, "stored why=malformed\n");
    /* nothing else in the folder: no temporary file left */
    int files = 0;
    char *cmd = de_sprintf("ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(fscanf(p, "%d", &files), 1);
    pclose(p);
    CU_ASSERT_EQUAL(files, 1);
    free(cmd);
    unlink(ck), rmdir(dir);
    free(ck), free(dir);
}

int main(void)
{
    static const de_test_case cases[] = {
        {"paths: absolute, normalised, under a stage folder", test_paths},
        {"SHA-256 of known inputs", test_sha256},
        {"the manifest: listed, found by hash, re-hashed when changed", test_manifest},
        {"fetch: the bytes of a listed file, nothing else", test_serve_fetch},
        {"put: stored whole when its checksum holds, else nothing", test_serve_put},
        {NULL, NULL}};
    de_test_suite("stage", cases);
    return de_test_run();
}
