/* de_child.c — a child process spoken to in lines (see de_child.h). */
#define _GNU_SOURCE /* close_range (glibc 2.34) */
#include "de_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "de_util.h"

extern char **environ;

static void set_flag(int fd, int get, int set, int flag)
{
    int f = fcntl(fd, get);
    if (f >= 0)
        fcntl(fd, set, f | flag);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(int in_r, int out_w, char *const argv[])
{
    setpgid(0, 0);
    if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0)
        _exit(127);
    /* No descriptor of the parent but the standard three: a child holding a socket or a
     * pipe of the parent's would keep it open after the parent closed it. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (close_range(3, ~0u, 0) != 0)
#endif
    {
        struct rlimit rl;
        long n = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
        for (long fd = 3; fd < n && fd < 1048576; fd++)
            close((int)fd);
    }
    /* What the exec would keep of ours: ignored signals and the signal mask. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve("/bin/sh", argv, environ);
    _exit(127);
}

int de_child_start(de_child *c, const char *command, de_err *err)
{
    memset(c, 0, sizeof *c);
    c->to = c->from = -1;
    c->status = -1;
    int in[2], out[2];
    if (pipe(in) != 0)
        return de_err_set(err, DE_EIO, "'%s': cannot create a pipe: %s", command, strerror(errno));
    if (pipe(out) != 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return de_err_set(err, DE_EIO, "'%s': cannot create a pipe: %s", command, strerror(e));
    }
    /* Our ends are not inherited by anything else we start. */
    set_flag(in[1], F_GETFD, F_SETFD, FD_CLOEXEC);
    set_flag(out[0], F_GETFD, F_SETFD, FD_CLOEXEC);
    char *cmd = de_strdup(command);
    char *argv[] = {"sh", "-c", cmd, NULL};
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        free(cmd);
        return de_err_set(err, DE_EIO, "'%s': cannot start: fork: %s", command, strerror(e));
    }
    if (pid == 0)
        child_exec(in[0], out[1], argv);
    setpgid(pid, pid); /* also in the child: whichever runs first */
    close(in[0]);
    close(out[1]);
    set_flag(in[1], F_GETFL, F_SETFL, O_NONBLOCK);
    set_flag(out[0], F_GETFL, F_SETFL, O_NONBLOCK);
    c->command = cmd;
    c->pid = pid;
    c->owner = getpid();
    c->to = in[1];
    c->from = out[0];
    return DE_OK;
}

/* Reaps the child if it has exited, waiting up to wait_s for it. 1 when reaped. */
static int reap(de_child *c, double wait_s)
{
    if (c->pid <= 0)
        return 1;
    double until = de_now_s() + wait_s;
    for (;;) {
        int st;
        pid_t w = waitpid(c->pid, &st, WNOHANG);
        if (w == c->pid) {
            c->status = st;
            c->pid = 0;
            return 1;
        }
        if (w < 0 && errno != EINTR) { /* not ours to wait for (reaped elsewhere) */
            c->pid = 0;
            return 1;
        }
        if (de_now_s() >= until)
            return 0;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

const char *de_child_status(const de_child *c)
{
    static char buf[64];
    if (c->pid > 0)
        snprintf(buf, sizeof buf, "still running");
    else if (c->status < 0)
        snprintf(buf, sizeof buf, "gone");
    else if (WIFEXITED(c->status))
        snprintf(buf, sizeof buf, "exited with status %d%s", WEXITSTATUS(c->status),
                 WEXITSTATUS(c->status) == 127 ? ", command not found?" : "");
    else if (WIFSIGNALED(c->status))
        snprintf(buf, sizeof buf, "killed by signal %d (%s)", WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
    else
        snprintf(buf, sizeof buf, "wait status %d", c->status);
    return buf;
}

/* Milliseconds left until `until` for poll (at least 0). */
static int ms_left(double until)
{
    double left = until - de_now_s();
    if (!(left > 0))
        return 0;
    return left > 1e6 ? 1000000000 : (int)(left * 1e3) + 1;
}

int de_child_write(de_child *c, const char *data, size_t len, double timeout_s, de_err *err)
{
    if (c->to < 0)
        return de_err_set(err, DE_EIO, "'%s': its input is closed", c->command);
    /* A write to a child that is gone raises SIGPIPE: blocked here, and a SIGPIPE that
     * we caused is taken back before the mask is restored. */
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    double until = de_now_s() + timeout_s;
    int rc = DE_OK, e = 0;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(c->to, data + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {c->to, POLLOUT, 0};
            int left = ms_left(until);
            if (left == 0) {
                rc = de_err_set(err, DE_EIO, "'%s' did not read its input within %g s", c->command, timeout_s);
                break;
            }
            if (poll(&p, 1, left) < 0 && errno != EINTR) {
                e = errno;
                rc = de_err_set(err, DE_EIO, "'%s': poll: %s", c->command, strerror(e));
                break;
            }
            continue;
        }
        e = n < 0 ? errno : EIO;
        if (e == EPIPE) {
            reap(c, 1.0);
            rc = de_err_set(err, DE_EIO, "'%s' closed its input (%s)", c->command, de_child_status(c));
        } else {
            rc = de_err_set(err, DE_EIO, "'%s': write: %s", c->command, strerror(e));
        }
        break;
    }
    if (e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int de_child_read_line(de_child *c, char **line, double timeout_s, de_err *err)
{
    *line = NULL;
    if (c->skip) { /* drop the line returned last time */
        memmove(c->buf, c->buf + c->skip, c->len - c->skip);
        c->len -= c->skip;
        c->skip = 0;
    }
    if (c->from < 0)
        return de_err_set(err, DE_EIO, "'%s': its output is closed", c->command);
    double until = de_now_s() + timeout_s;
    size_t scanned = 0;
    for (;;) {
        char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
        if (nl) {
            *nl = '\0';
            c->skip = (size_t)(nl - c->buf) + 1;
            *line = c->buf;
            return DE_OK;
        }
        scanned = c->len;
        if (c->len > DE_CHILD_MAX_LINE)
            return de_err_set(err, DE_EIO, "'%s' wrote a line longer than %u bytes", c->command, DE_CHILD_MAX_LINE);
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? 2 * c->cap : 131072;
            c->buf = de_realloc(c->buf, c->cap + 1);
        }
        ssize_t n = read(c->from, c->buf + c->len, c->cap - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0) {
            reap(c, 2.0);
            return de_err_set(err, DE_EIO, "'%s' closed its output (%s)%s", c->command, de_child_status(c),
                              c->len ? " in the middle of a line" : "");
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return de_err_set(err, DE_EIO, "'%s': read: %s", c->command, strerror(errno));
        int left = ms_left(until);
        if (left == 0)
            return de_err_set(err, DE_EIO, "'%s' wrote no line within %g s%s", c->command, timeout_s,
                              c->len ? " (a line without its end so far)" : "");
        struct pollfd p = {c->from, POLLIN, 0};
        if (poll(&p, 1, left) < 0 && errno != EINTR)
            return de_err_set(err, DE_EIO, "'%s': poll: %s", c->command, strerror(errno));
    }
}

void de_child_close(de_child *c, double grace_s)
{
    if (c->to >= 0)
        close(c->to);
    if (c->from >= 0 && grace_s <= 0)
        close(c->from);
    if (c->pid > 0 && c->owner == getpid()) {
        pid_t group = c->pid; /* its process group: the child's pid (de_child_start) */
        if (grace_s <= 0 || !reap(c, grace_s)) {
            /* Signalled while its leader is not reaped yet, so the group still exists:
             * what the shell started goes with it. */
            kill(-group, grace_s <= 0 ? SIGKILL : SIGTERM);
            if (!reap(c, grace_s <= 0 ? 5.0 : 1.0)) {
                kill(-group, SIGKILL);
                while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
                    ;
                c->pid = 0;
            }
        }
    }
    if (c->from >= 0 && grace_s > 0)
        close(c->from);
    free(c->command);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->to = c->from = -1;
    c->status = -1;
}
