/* de_child.h — a child process spoken to in lines: COMMAND (run by /bin/sh -c) with its
 * stdin and stdout on pipes, its stderr deepedge's.
 *
 * What the external planning policies (core/policy_ext.c, `--policy ext:COMMAND`) are
 * built on, and usable by anything else that talks to a helper program line by line:
 *  - the child runs in its own process group (a terminal's signals do not reach it;
 *    de_child_close signals the whole group, so a shell and what it started go
 *    together), with no descriptor of ours but its three standard ones;
 *  - writes never raise SIGPIPE (a child that is gone is an error return) and never
 *    block past their deadline (a child that does not read);
 *  - reads return one line, without its '\n', or fail at a deadline, at end of file
 *    (the child closed its stdout or exited: de_child_status says how) or on a line
 *    longer than DE_CHILD_MAX_LINE.
 * Messages (de_err) name the command. Not thread-safe: one thread per child. */
#ifndef DE_CHILD_H
#define DE_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "de_error.h"

/* The longest line read from a child: 16 MiB. */
#define DE_CHILD_MAX_LINE (16u << 20)

typedef struct de_child {
    char *command;
    pid_t pid;          /* > 0 while started and not reaped */
    pid_t owner;        /* the process that started it (a forked copy of the owner leaves it alone) */
    int to, from;       /* our ends of its stdin and stdout; -1 when closed */
    char *buf;          /* bytes read: buf[skip..len) not returned yet */
    size_t skip, len, cap;
    int status;         /* wait status once reaped, else -1 */
} de_child;

/* Starts command under /bin/sh -c. DE_EIO with a message when it cannot be started
 * (a command that does not exist starts, then exits with status 127: see
 * de_child_read_line). */
int de_child_start(de_child *c, const char *command, de_err *err);

/* Writes len bytes (a whole line, its '\n' included) within timeout_s seconds.
 * DE_EIO when the child is gone or does not take them in time. */
int de_child_write(de_child *c, const char *data, size_t len, double timeout_s, de_err *err);

/* Reads the next line (NUL-terminated, no '\n'; valid until the next call) within
 * timeout_s seconds. DE_EIO at end of file (the message says how the child exited),
 * at the deadline, or for a line over DE_CHILD_MAX_LINE. */
int de_child_read_line(de_child *c, char **line, double timeout_s, de_err *err);

/* "exited with status 3", "killed by signal 9", "still running" (static buffer). */
const char *de_child_status(const de_child *c);

/* Ends it: closes its stdin (a well-behaved child exits at end of input), waits up to
 * grace_s, then SIGTERM to its process group, one more second, then SIGKILL; reaps it
 * and frees what de_child_start allocated. grace_s 0: SIGKILL at once. In a process
 * other than the one that started it (a fork), only closes our copies of the pipes. */
void de_child_close(de_child *c, double grace_s);

#endif
