/* de_wire.h — the executor's metrics and control channel: text lines over TCP.
 *
 * The coordinator (`deepedge run`) listens on a TCP port; every worker rank and every
 * LC service connects to it and sends one line per event:
 *     KIND key=value key=value ...\n
 * (values have no spaces; free text is sent with spaces as '_'). The coordinator
 * stamps each line with its own clock on receipt, so processes on other hosts need no
 * synchronised clocks. The coordinator writes control lines back ("stop", "rate R").
 * Kinds: hello, iter, ckpt, crash, done, error (workers); lcreq, lcstat, lcbye (LC
 * services). exec/README.md lists every key. */
#ifndef DE_WIRE_H
#define DE_WIRE_H

#include <stddef.h>

#include "de_error.h"

/* Connects to "HOST:PORT" (numeric or resolvable host). *fd: the socket. */
int de_wire_connect(const char *hostport, int *fd, de_err *err);
/* Sends one formatted line (a '\n' is appended). Returns 0, or -1 when the peer is
 * gone (no SIGPIPE). */
int de_wire_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads one complete control line if one is waiting (non-blocking), into buf without
 * the newline: 1 a line, 0 nothing yet, -1 the peer closed the connection. */
int de_wire_poll_line(int fd, char *buf, size_t n);

/* Listens on addr ("HOST:PORT"; port 0 picks a free one). *port gets the bound port. */
int de_wire_listen(const char *host, int want_port, int *fd, int *port, de_err *err);

/* A line's fields: de_wire_get copies the value of key (up to n-1 bytes) and returns 1,
 * or 0 when absent; de_wire_num returns the value as a number or def. */
int de_wire_get(const char *line, const char *key, char *out, size_t n);
double de_wire_num(const char *line, const char *key, double def);
/* The line's kind (first word) into out. */
void de_wire_kind(const char *line, char *out, size_t n);
/* Copies text to out with spaces and '=' replaced by '_' (for free-text values). */
void de_wire_text(const char *text, char *out, size_t n);

#endif
