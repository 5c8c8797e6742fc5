/* test_child.c — base/de_child.h: a child process spoken to in lines (what external
 * planning policies run on): lines both ways, how it ended, deadlines, a child that
 * is gone (no SIGPIPE), its descriptors, and how it is stopped. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "de_child.h"
#include "de_emulate.h"
#include "de_test.h"

/* 1 when a process of process group g is alive (not a zombie waiting for its reaper). */
static int group_alive(pid_t g)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int alive = 0;
    while (d && !alive && (de = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        FILE *f = de->d_name[0] >= '1' && de->d_name[0] <= '9' ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')'); /* pid (comm) state ppid pgrp ... */
        char state;
        long ppid, pgrp;
        if (rp && sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == (long)g && state != 'Z')
            alive = 1;
    }
    if (d)
        closedir(d);
    return alive;
}

static void test_lines_both_ways(void)
{
    de_child c;
    de_err e;
    char *line;
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "cat", &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_write(&c, "hello\n", 6, 5, &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_OK);
    CU_ASSERT_STRING_EQUAL(line, "hello");
    /* two lines in one write, and an empty one */
    CU_ASSERT_EQUAL(de_child_write(&c, "a b\n\nc\n", 7, 5, &e), DE_OK);
    const char *want[] = {"a b", "", "c"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_OK);
        CU_ASSERT_STRING_EQUAL(line, want[i]);
    }
    de_child_close(&c, 5); /* cat exits at end of input */
}

static void test_exit_status(void)
{
    de_child c;
    de_err e;
    char *line;
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "echo one; exit 3", &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_OK);
    CU_ASSERT_STRING_EQUAL(line, "one");
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_EIO);
    DE_ASSERT_CONTAINS(e.msg, "'echo one; exit 3' closed its output (exited with status 3)");
    de_child_close(&c, 0);

    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "/no/such/program", &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_EIO);
    DE_ASSERT_CONTAINS(e.msg, "exited with status 127, command not found?");
    de_child_close(&c, 0);

    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "printf 'no end'", &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_EIO);
    DE_ASSERT_CONTAINS(e.msg, "in the middle of a line");
    de_child_close(&c, 0);
}

/* SIGKILL is delivered asynchronously: on a loaded host (or under ASan) the group may take
 * a moment to go; gone within 2 s. */
static int group_gone(pid_t g)
{
    for (int k = 0; k < 100 && group_alive(g); k++)
        de_sleep_s(0.02, NULL);
    return !group_alive(g);
}

static void test_deadline(void)
{
    de_child c;
    de_err e;
    char *line;
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "sleep 30", &e), DE_OK);
    pid_t pid = c.pid;
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 0.2, &e), DE_EIO);
    DE_ASSERT_CONTAINS(e.msg, "'sleep 30' wrote no line within 0.2 s");
    CU_ASSERT(group_alive(pid));
    de_child_close(&c, 0); /* killed at once, with its process group */
    CU_ASSERT(group_gone(pid));
}

static void test_gone_no_sigpipe(void)
{
    de_child c;
    de_err e;
    /* exec: no shell keeps its stdin open; the child exits without reading */
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "exec true", &e), DE_OK);
    size_t n = 1 << 20;
    char *big = malloc(n);
    memset(big, 'x', n);
    big[n - 1] = '\n';
    CU_ASSERT_EQUAL(de_child_write(&c, big, n, 10, &e), DE_EIO); /* and we are still here */
    DE_ASSERT_CONTAINS(e.msg, "closed its input (exited with status 0)");
    free(big);
    de_child_close(&c, 0);
}

static void test_stubborn_child_killed(void)
{
    de_child c;
    de_err e;
    /* ignores end of input and SIGTERM: SIGKILL after the grace and one more second */
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "trap '' TERM; sleep 30; sleep 30", &e), DE_OK);
    pid_t pid = c.pid;
    CU_ASSERT(group_alive(pid));
    de_child_close(&c, 0.2);
    CU_ASSERT(group_gone(pid));
}

static void test_only_standard_descriptors(void)
{
    de_child c;
    de_err e;
    char *line;
    int extra = dup(2); /* inheritable: must not reach the child anyway */
    /* one line without a pipe (a pipe's ends could be listed before the shell closes them) */
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "ls -m /proc/$$/fd", &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 5, &e), DE_OK);
    CU_ASSERT_STRING_EQUAL(line, "0, 1, 2");
    de_child_close(&c, 5);
    close(extra);
}

static void test_line_too_long(void)
{
    de_child c;
    de_err e;
    char *line;
    CU_ASSERT_EQUAL_FATAL(de_child_start(&c, "head -c 17000000 /dev/zero | tr '\\000' a; echo", &e), DE_OK);
    CU_ASSERT_EQUAL(de_child_read_line(&c, &line, 30, &e), DE_EIO);
    DE_ASSERT_CONTAINS(e.msg, "wrote a line longer than 16777216 bytes");
    de_child_close(&c, 0);
}

int main(void)
{
    static const de_test_case tests[] = {
        {"lines both ways", test_lines_both_ways},
        {"exit status, command not found, a last line without its end", test_exit_status},
        {"no line before the deadline: an error, the child killed", test_deadline},
        {"writing to a child that is gone: an error, no SIGPIPE", test_gone_no_sigpipe},
        {"a child ignoring end of input and SIGTERM is killed", test_stubborn_child_killed},
        {"the child has only stdin, stdout and stderr", test_only_standard_descriptors},
        {"a line over DE_CHILD_MAX_LINE", test_line_too_long},
        {NULL, NULL},
    };
    de_test_suite("de_child", tests);
    return de_test_run();
}
