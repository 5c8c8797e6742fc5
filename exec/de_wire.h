/* de_wire.h — the executor's metrics and control channel: text lines over TCP.
 *
 * The coordinator (`deepedge run`) listens on a TCP port; every worker rank and every
 * LC service connects to it and sends one line per event:
 *     KIND key=value key=value ...\n
 * (values have no spaces; free text is sent with spaces as '_'). The coordinator
 * stamps each line with its own clock on receipt, so processes on other hosts need no
 * synchronised clocks, and writes control lines back. Every kind of line, in both
 * directions, is a row of DE_MSG_TABLE: senders name it (de_wire_send), the receiver
 * looks it up (de_wire_msg) and dispatches on it; exec/README.md lists every key. */
#ifndef DE_WIRE_H
#define DE_WIRE_H

#include <stddef.h>

#include "de_error.h"

/* Who sends a kind of line (DE_FROM_PEER: a worker or an LC service, before it says who). */
typedef enum de_msg_from { DE_FROM_WORKER, DE_FROM_LC, DE_FROM_COORDINATOR, DE_FROM_PEER } de_msg_from;

/* X(ID, "kind", sender, "to whom: keys") */
#define DE_MSG_TABLE(X)                                                                                          \
    X(CHALLENGE, "challenge", DE_FROM_COORDINATOR, "to every new connection, first: nonce (128 random bits, hex)") \
    X(AUTH, "auth", DE_FROM_PEER, "its first line: mac = HMAC-SHA256(run secret, nonce), hex")                    \
    X(HELLO, "hello", DE_FROM_WORKER, "its first line: rank dev pid host batch")                                 \
    X(BACKEND, "backend", DE_FROM_WORKER, "rank dev backend (cpu | cuda)")                                       \
    X(ITER, "iter", DE_FROM_WORKER, "each iteration: rank dev g total epoch batch compute throttle sync mpi pad " \
                                    "step loss cpu_s rss_kb")                                                     \
    X(CKPT, "ckpt", DE_FROM_WORKER, "rank 0, a checkpoint written: g s")                                          \
    X(CRASH, "crash", DE_FROM_WORKER, "an injected crash (it then dies): rank dev g")                            \
    X(DONE, "done", DE_FROM_WORKER, "rank 0, training over: g total stopped val_loss val_acc")                   \
    X(BYE, "bye", DE_FROM_WORKER, "leaving cleanly: rank dev")                                                   \
    X(ERROR, "error", DE_FROM_WORKER, "failing: rank dev msg")                                                   \
    X(LCHELLO, "lchello", DE_FROM_LC, "its first line: task dev pid")                                            \
    X(LCREQ, "lcreq", DE_FROM_LC, "each request: task lat svc")                                                  \
    X(LCSTAT, "lcstat", DE_FROM_LC, "each second: task n cpu_s rss_kb rate")                                     \
    X(LCBYE, "lcbye", DE_FROM_LC, "leaving cleanly: task n viol p50 p95 p99 svc")                                \
    X(LCERROR, "lcerror", DE_FROM_LC, "failing: task msg")                                                       \
    X(STOP, "stop", DE_FROM_COORDINATOR, "to rank 0 (checkpoint and stop) or to an LC service (stop)")           \
    X(RATE, "rate", DE_FROM_COORDINATOR, "to an LC service: its new request rate (req/s)")                       \
    X(PAD, "pad", DE_FROM_COORDINATOR, "to every rank: pad each all-reduce to this many seconds (links)")        \
    X(CORES, "cores", DE_FROM_COORDINATOR, "to a worker or LC service: its duty-cycle CPU budget (cores)")       \
    X(RESHARE, "reshare", DE_FROM_COORDINATOR, "to rank 0: the local batches to take in place: batches=b0,b1,... (rank order)") \
    X(RESHARED, "reshared", DE_FROM_WORKER, "rank 0: the reshare taken, from iteration g on: g batch (its own)")   \
    X(FETCH, "fetch", DE_FROM_PEER, "--stage, the only line of its connection: what=manifest, or sha (de_stage.h)") \
    X(PUT, "put", DE_FROM_PEER, "--stage, rank 0, the only line of its connection, its bytes after it: name g size sha") \
    X(FILE, "file", DE_FROM_COORDINATOR, "the answer to fetch: sha size, the bytes after it; or why (refused)")  \
    X(STORED, "stored", DE_FROM_COORDINATOR, "the answer to put: sha (stored in the output folder); or why")    \
    /* new kinds above this line */

typedef enum de_msg {
#define DE_X_MSG(id, name, from, help) DE_MSG_##id,
    DE_MSG_TABLE(DE_X_MSG)
#undef DE_X_MSG
    DE_MSG_COUNT /* also: a line of no known kind */
} de_msg;

const char *de_msg_name(de_msg m);
/* Who sends kind m (DE_FROM_COORDINATOR for DE_MSG_COUNT). */
de_msg_from de_msg_sender(de_msg m);
/* The kind of a line (its first word); DE_MSG_COUNT when it is none of the table's. */
de_msg de_wire_msg(const char *line);

/* Sends one line of kind m: the kind, then the formatted fields (fmt may be "") and
 * a '\n'. Returns 0, or -1 when the peer is gone (no SIGPIPE) or fd < 0. */
int de_wire_send(int fd, de_msg m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- authentication ----
 * Every run has a secret of 256 random bits (getrandom), which the coordinator hands to
 * the processes it starts through the environment (DE_RUN_SECRET_ENV; mpiexec forwards
 * it with -x), never on a command line. On every connection the coordinator first sends
 * `challenge nonce=N` (128 fresh random bits); the peer's first line must be
 * `auth mac=M` with M = HMAC-SHA256(secret, N): the secret never travels, and a captured
 * reply is worth nothing on another connection. Anything else closes the connection. */
#define DE_RUN_SECRET_ENV "DEEPEDGE_RUN_SECRET"
#define DE_WIRE_SECRET_BYTES 32
#define DE_WIRE_NONCE_BYTES 16
/* n random bytes (getrandom) as 2n lowercase hex digits and a NUL in out. */
int de_wire_random_hex(char *out, size_t n, de_err *err);
/* HMAC-SHA256(secret, nonce) as 64 hex digits and a NUL. */
void de_wire_mac(const char *secret, const char *nonce, char out[65]);
/* 1 when line is `auth mac=M` with the right M for secret and nonce (constant time). */
int de_wire_auth_ok(const char *line, const char *secret, const char *nonce);

/* Connects to "HOST:PORT" (numeric or resolvable host) and answers the coordinator's
 * challenge with the run secret of the environment (DE_EINVAL without one: only the
 * processes `deepedge run` starts can report to it). *fd: the socket. */
int de_wire_connect(const char *hostport, int *fd, de_err *err);
/* Lines read from a connection without blocking, by the coordinator (every worker and
 * LC service) and by its processes (the control lines). A line has at most
 * DE_WIRE_LINE_MAX - 1 bytes before its newline; a longer one is dropped whole, up to
 * its newline, and reported once. */
#define DE_WIRE_LINE_MAX 8192
typedef struct de_wire_reader {
    char buf[DE_WIRE_LINE_MAX];
    size_t len, next;  /* bytes held; the start of the next line among them */
    int discarding;    /* inside an over-long line */
    int closed;        /* the peer closed or the connection failed: no more bytes come */
} de_wire_reader;

enum { DE_WIRE_NONE, DE_WIRE_LINE, DE_WIRE_LONG, DE_WIRE_CLOSED };

void de_wire_reader_init(de_wire_reader *rd);
/* The next line of fd: DE_WIRE_LINE (*line, without its newline, is valid until the next
 * call), DE_WIRE_LONG (an over-long line is being dropped), DE_WIRE_NONE (no complete
 * line yet: call again when fd is readable) or DE_WIRE_CLOSED (the peer closed, after
 * its last complete line; an unfinished one is dropped). Reads at most 256 KiB a call,
 * so that one sender cannot hold the reader. */
int de_wire_next(de_wire_reader *rd, int fd, char **line);

/* A control line from the coordinator (a kind of DE_FROM_COORDINATOR): its kind and its
 * value (0 for stop; rate: req/s, pad: s, cores: cores, a finite number in [0, 1e6]).
 * Returns 0, or -1 for any other line, which its receiver ignores. */
int de_wire_control(const char *line, de_msg *m, double *v);

/* Splits "HOST:PORT" (the last ':') into host (n bytes) and port (pn bytes); -1 when it
 * is not of that form or does not fit. */
int de_wire_split_hostport(const char *hp, char *host, size_t n, char *port, size_t pn);
/* The addresses of "HOST:PORT" for a TCP connection (getaddrinfo; free with freeaddrinfo). */
struct addrinfo;
int de_wire_resolve(const char *hostport, struct addrinfo **res, de_err *err);

/* Listens on addr ("HOST:PORT"; port 0 picks a free one). *port gets the bound port. */
int de_wire_listen(const char *host, int want_port, int *fd, int *port, de_err *err);

/* A line's fields: de_wire_get copies the value of key (up to n-1 bytes) and returns 1,
 * or 0 when absent; de_wire_num returns the value as a number or def. */
int de_wire_get(const char *line, const char *key, char *out, size_t n);
double de_wire_num(const char *line, const char *key, double def);
/* Copies text to out with spaces and '=' replaced by '_' (for free-text values). */
void de_wire_text(const char *text, char *out, size_t n);

#endif
