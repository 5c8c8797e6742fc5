/* de_wire.c — text lines over TCP between the coordinator and its processes (de_wire.h). */
#include "de_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "de_util.h"

int de_wire_split_hostport(const char *hp, char *host, size_t n, char *port, size_t pn)
{
    const char *c = strrchr(hp, ':');
    if (!c || c == hp || !c[1] || (size_t)(c - hp) >= n || strlen(c + 1) >= pn)
        return -1;
    memcpy(host, hp, (size_t)(c - hp));
    host[c - hp] = '\0';
    strcpy(port, c + 1);
    return 0;
}

int de_wire_random_hex(char *out, size_t n, de_err *err)
{
    unsigned char buf[64];
    if (n > sizeof buf)
        return de_err_set(err, DE_EINVAL, "de_wire_random_hex: %zu bytes asked, at most %zu", n, sizeof buf);
    size_t got = 0;
    while (got < n) {
        ssize_t k = getrandom(buf + got, n - got, 0);
        if (k < 0 && errno != EINTR)
            return de_err_set(err, DE_EIO, "getrandom: %s", strerror(errno));
        got += k > 0 ? (size_t)k : 0;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", buf[i]);
    OPENSSL_cleanse(buf, sizeof buf);
    return DE_OK;
}

void de_wire_mac(const char *secret, const char *nonce, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)nonce, strlen(nonce), mac, &len);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    out[64] = '\0';
}

int de_wire_auth_ok(const char *line, const char *secret, const char *nonce)
{
    char got[80], want[65];
    if (de_wire_msg(line) != DE_MSG_AUTH || !de_wire_get(line, "mac", got, sizeof got) || strlen(got) != 64)
        return 0;
    de_wire_mac(secret, nonce, want);
    return CRYPTO_memcmp(got, want, 64) == 0;
}

/* The coordinator's challenge on a fresh connection, answered: at most 10 s. */
static int answer_challenge(int s, const char *hostport, de_err *err)
{
    const char *secret = getenv(DE_RUN_SECRET_ENV);
    if (!secret || strlen(secret) != 2 * DE_WIRE_SECRET_BYTES)
        return de_err_set(err, DE_EINVAL,
                          "no run secret in the environment (%s): only the processes deepedge run starts can report "
                          "to it",
                          DE_RUN_SECRET_ENV);
    de_wire_reader rd;
    de_wire_reader_init(&rd);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char *line;
        int k = de_wire_next(&rd, s, &line);
        if (k == DE_WIRE_LINE) {
            char nonce[2 * DE_WIRE_NONCE_BYTES + 8], mac[65];
            if (de_wire_msg(line) != DE_MSG_CHALLENGE || !de_wire_get(line, "nonce", nonce, sizeof nonce) ||
                strlen(nonce) != 2 * DE_WIRE_NONCE_BYTES)
                return de_err_set(err, DE_EIO, "%s: expected the coordinator's challenge, got another line",
                                  hostport);
            de_wire_mac(secret, nonce, mac);
            if (de_wire_send(s, DE_MSG_AUTH, "mac=%s", mac))
                return de_err_set(err, DE_EIO, "%s: the coordinator closed the connection", hostport);
            return DE_OK;
        }
        if (k == DE_WIRE_LONG || k == DE_WIRE_CLOSED)
            return de_err_set(err, DE_EIO, "%s: no challenge from the coordinator (connection %s)", hostport,
                              k == DE_WIRE_CLOSED ? "closed" : "flooded");
        clock_gettime(CLOCK_MONOTONIC, &t);
        double left = 10.0 - ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec));
        if (left <= 0)
            return de_err_set(err, DE_EIO, "%s: no challenge from the coordinator within 10 s", hostport);
        struct pollfd pf = {s, POLLIN, 0};
        poll(&pf, 1, (int)(left * 1000) + 1);
    }
}

int de_wire_resolve(const char *hostport, struct addrinfo **res, de_err *err)
{
    char host[256], port[16];
    *res = NULL;
    if (de_wire_split_hostport(hostport, host, sizeof host, port, sizeof port))
        return de_err_set(err, DE_EINVAL, "'%s' is not HOST:PORT", hostport);
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(host, port, &hints, res);
    if (g)
        return de_err_set(err, DE_EIO, "%s: %s", hostport, gai_strerror(g));
    return DE_OK;
}

int de_wire_connect(const char *hostport, int *fd, de_err *err)
{
    *fd = -1;
    struct addrinfo *res = NULL;
    int rc = de_wire_resolve(hostport, &res, err);
    if (rc)
        return rc;
    int s = -1, e = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s < 0)
            continue;
        if (connect(s, a->ai_addr, a->ai_addrlen) == 0)
            break;
        e = errno;
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    if (s < 0)
        return de_err_set(err, DE_EIO, "cannot connect to the coordinator at %s: %s", hostport, strerror(e));
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rc = answer_challenge(s, hostport, err);
    if (rc) {
        close(s);
        return rc;
    }
    *fd = s;
    return DE_OK;
}

static const char *const msg_names[] = {
#define DE_X_NAME(id, name, from, help) name,
    DE_MSG_TABLE(DE_X_NAME)
#undef DE_X_NAME
};
static const de_msg_from msg_from[] = {
#define DE_X_FROM(id, name, from, help) from,
    DE_MSG_TABLE(DE_X_FROM)
#undef DE_X_FROM
};

de_msg_from de_msg_sender(de_msg m)
{
    return (unsigned)m < DE_MSG_COUNT ? msg_from[m] : DE_FROM_COORDINATOR;
}

const char *de_msg_name(de_msg m)
{
    return (unsigned)m < DE_MSG_COUNT ? msg_names[m] : "?";
}

de_msg de_wire_msg(const char *line)
{
    char kind[16];
    size_t len = strcspn(line, " ");
    if (len >= sizeof kind)
        return DE_MSG_COUNT;
    memcpy(kind, line, len);
    kind[len] = '\0';
    int i = de_names_find(msg_names, sizeof msg_names[0], DE_MSG_COUNT, kind);
    return i < 0 ? DE_MSG_COUNT : (de_msg)i;
}

int de_wire_send(int fd, de_msg m, const char *fmt, ...)
{
    if (fd < 0 || (unsigned)m >= DE_MSG_COUNT)
        return -1;
    char buf[2048];
    int n = snprintf(buf, sizeof buf - 1, "%s%s", msg_names[m], fmt[0] ? " " : "");
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + n, sizeof buf - 1 - (size_t)n, fmt, ap);
    va_end(ap);
    if (k < 0)
        return -1;
    n += k;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (int)w;
    }
    return 0;
}

void de_wire_reader_init(de_wire_reader *rd)
{
    memset(rd, 0, sizeof *rd);
}

int de_wire_next(de_wire_reader *rd, int fd, char **line)
{
    for (int reads = 0;;) {
        char *start = rd->buf + rd->next, *nl = memchr(start, '\n', rd->len - rd->next);
        if (nl) {
            *nl = '\0';
            rd->next = (size_t)(nl + 1 - rd->buf);
            if (rd->discarding) { /* the end of an over-long line */
                rd->discarding = 0;
                continue;
            }
            *line = start;
            return DE_WIRE_LINE;
        }
        rd->len -= rd->next; /* an unfinished line to the front */
        memmove(rd->buf, start, rd->len);
        rd->next = 0;
        if (rd->len == sizeof rd->buf) { /* full, and no newline */
            rd->len = 0;
            if (!rd->discarding) {
                rd->discarding = 1;
                return DE_WIRE_LONG;
            }
        }
        if (rd->closed)
            return DE_WIRE_CLOSED;
        if (reads++ == 32)
            return DE_WIRE_NONE; /* the rest on the next call: others are waiting too */
        ssize_t got = recv(fd, rd->buf + rd->len, sizeof rd->buf - rd->len, MSG_DONTWAIT);
        if (got > 0)
            rd->len += (size_t)got;
        else if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return DE_WIRE_NONE;
        else
            rd->closed = 1;
    }
}

int de_wire_control(const char *line, de_msg *m, double *v)
{
    de_msg k = de_wire_msg(line);
    if (k == DE_MSG_COUNT || k == DE_MSG_CHALLENGE || de_msg_sender(k) != DE_FROM_COORDINATOR)
        return -1;
    const char *arg = line + strcspn(line, " ");
    arg += strspn(arg, " ");
    if (k == DE_MSG_STOP) {
        if (*arg)
            return -1;
        *m = k;
        *v = 0;
        return 0;
    }
    char *end;
    double x = strtod(arg, &end);
    if (end == arg || *end || !isfinite(x) || x < 0 || x > 1e6)
        return -1;
    *m = k;
    *v = x;
    return 0;
}

int de_wire_listen(const char *host, int want_port, int *fd, int *port, de_err *err)
{
    *fd = -1;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", want_port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int g = getaddrinfo(host, ps, &hints, &res);
    if (g)
        return de_err_set(err, DE_EIO, "listen on %s:%d: %s", host, want_port, gai_strerror(g));
    int s = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (s >= 0)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s < 0 || bind(s, res->ai_addr, res->ai_addrlen) != 0 || listen(s, 128) != 0) {
        int e = errno;
        if (s >= 0)
            close(s);
        freeaddrinfo(res);
        return de_err_set(err, DE_EIO, "listen on %s:%d: %s", host, want_port, strerror(e));
    }
    freeaddrinfo(res);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    *fd = s;
    return DE_OK;
}

int de_wire_get(const char *line, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = strchr(line, ' '); p; p = strchr(p + 1, ' ')) {
        const char *k = p + 1;
        if (strncmp(k, key, kl) == 0 && k[kl] == '=') {
            const char *v = k + kl + 1;
            size_t len = strcspn(v, " ");
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 1;
        }
    }
    if (n)
        out[0] = '\0';
    return 0;
}

double de_wire_num(const char *line, const char *key, double def)
{
    char v[64], *end;
    if (!de_wire_get(line, key, v, sizeof v))
        return def;
    double x = strtod(v, &end);
    return end == v ? def : x;
}

void de_wire_text(const char *text, char *out, size_t n)
{
    size_t i = 0;
    for (; text[i] && i + 1 < n; i++)
        out[i] = (text[i] == ' ' || text[i] == '=' || text[i] == '\n') ? '_' : text[i];
    out[i] = '\0';
}
