/* de_error.h — the one table of error codes, and a message buffer that says where.
 *
 * Library code (core, models, sim) never exits: it returns DE_OK (0) or a negative
 * code from this table, and where the caller passed a de_err it also fills a
 * human-readable message of the form "FILE:LINE: KEY: what is wrong (allowed ...)".
 * Drivers (cli/) decide what to do with it. */
#ifndef DE_ERROR_H
#define DE_ERROR_H

#define DE_ERROR_TABLE(X)                                        \
    X(DE_OK,          0,   "success")                            \
    X(DE_ENOMEM,     -1,   "out of memory")                      \
    X(DE_EIO,        -2,   "input/output error")                 \
    X(DE_ESYNTAX,    -3,   "syntax error")                       \
    X(DE_EKEY,       -4,   "unknown key")                        \
    X(DE_EMISSING,   -5,   "missing required key")               \
    X(DE_ETYPE,      -6,   "wrong type")                         \
    X(DE_ERANGE,     -7,   "value out of range")                 \
    X(DE_EREF,       -8,   "reference to something undefined")   \
    X(DE_EDUP,       -9,   "duplicate name")                     \
    X(DE_EINVAL,     -10,  "invalid argument")                   \
    X(DE_EINFEASIBLE,-11,  "no plan meets every deadline")       \
    X(DE_EMISMATCH,  -12,  "plan does not match the scenario")   \
    X(DE_EVERSION,   -13,  "unsupported file version")

enum de_error_code {
#define DE_X_ENUM(name, value, text) name = value,
    DE_ERROR_TABLE(DE_X_ENUM)
#undef DE_X_ENUM
};

/* Text of a code from the table; "unknown error" for anything else. Never NULL. */
const char *de_strerror(int code);

/* A caller-allocated message buffer. code mirrors the returned code. */
typedef struct de_err {
    int code;
    char msg[1024];
} de_err;

/* Sets e->code and e->msg (printf-style) when e is not NULL; returns code,
 * so that `return de_err_set(err, DE_ERANGE, "...", ...);` reads naturally. */
int de_err_set(de_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears a buffer (code DE_OK, empty message). NULL is a no-op. */
void de_err_clear(de_err *e);

#endif
