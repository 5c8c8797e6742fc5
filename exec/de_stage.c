/* de_stage.c — files staged without shared storage (see de_stage.h). */
#include "de_stage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "de_util.h"
#include "de_worker.h"

#define IDLE_MS 60000           /* a transfer that moves no byte for this long fails */
#define MANIFEST_MAX (1 << 20)  /* bytes of a manifest a host accepts */
#define STORE_WAIT_S 600.0      /* how long rank 0 waits for the coordinator to store a file */

/* ---- paths ---- */

char *de_stage_abs(const char *path)
{
    char cwd[PATH_MAX] = "/";
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, "/");
    char *full = path[0] == '/' ? de_strdup(path) : de_path_join(cwd, path);
    size_t n = strlen(full);
    char *out = de_calloc(n + 2, 1);
    size_t len = 0;
    for (char *p = full; *p;) {
        char *e = p + strcspn(p, "/");
        size_t k = (size_t)(e - p);
        if (k == 2 && p[0] == '.' && p[1] == '.') { /* up one: drop the last component */
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
        } else if (k > 0 && !(k == 1 && p[0] == '.')) {
            out[len++] = '/';
            memcpy(out + len, p, k);
            len += k;
        }
        p = *e ? e + 1 : e;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    free(full);
    return out;
}

char *de_stage_local(const char *root, const char *path)
{
    char *r = de_stage_abs(root), *p = de_stage_abs(path);
    char *out = strcmp(r, "/") == 0 ? de_strdup(p) : de_sprintf("%s%s", r, p);
    free(r);
    free(p);
    return out;
}

/* ---- SHA-256 ---- */

static void hex_of(const unsigned char *d, unsigned n, char hex[65])
{
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    hex[64] = '\0';
}

static void digest_end(EVP_MD_CTX *ctx, char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx, d, &n);
    hex_of(d, n, hex);
}

int de_stage_sha256_file(const char *path, char hex[65], long long *size, de_err *err)
{
    int fd = de_open_regular(path);
    if (fd < 0)
        return de_err_set(err, DE_EIO, "%s: %s", path, de_file_strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static char buf[1 << 16];
    long long total = 0;
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR))
        if (got > 0) {
            EVP_DigestUpdate(ctx, buf, (size_t)got);
            total += got;
        }
    int e = errno;
    close(fd);
    digest_end(ctx, hex);
    EVP_MD_CTX_free(ctx);
    if (got < 0)
        return de_err_set(err, DE_EIO, "%s: read: %s", path, strerror(e));
    *size = total;
    return DE_OK;
}

static int sha_ok(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* ---- the manifest ---- */

void de_stage_init(de_stage *m)
{
    memset(m, 0, sizeof *m);
}

void de_stage_free(de_stage *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->e[i].path);
    free(m->e);
    free(m->text);
    de_stage_init(m);
}

void de_stage_begin(de_stage *m)
{
    for (int i = 0; i < m->n; i++)
        m->e[i].listed = 0;
}

int de_stage_add(de_stage *m, const char *path, de_err *err)
{
    char *abs = de_stage_abs(path);
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        free(abs);
        return de_err_set(err, DE_EIO, "--stage: %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        free(abs);
        return de_err_set(err, DE_EIO, "--stage: %s: not a regular file", path);
    }
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    de_stage_entry *x = NULL;
    for (int i = 0; i < m->n && !x; i++)
        if (strcmp(m->e[i].path, abs) == 0)
            x = &m->e[i];
    if (!x) {
        m->e = de_realloc(m->e, (size_t)(m->n + 1) * sizeof *m->e);
        x = &m->e[m->n++];
        memset(x, 0, sizeof *x);
        x->path = abs;
        x->mtime_ns = -1;
    } else {
        free(abs);
    }
    x->listed = 1;
    if (x->mtime_ns == mt && x->size == (long long)st.st_size)
        return DE_OK;
    int rc = de_stage_sha256_file(path, x->sha, &x->size, err);
    x->mtime_ns = rc ? -1 : mt;
    return rc;
}

void de_stage_end(de_stage *m)
{
    size_t cap = 1, len = 0;
    for (int i = 0; i < m->n; i++)
        cap += strlen(m->e[i].path) + 96;
    free(m->text);
    m->text = de_calloc(cap, 1);
    for (int i = 0; i < m->n; i++)
        if (m->e[i].listed)
            len += (size_t)snprintf(m->text + len, cap - len, "%s %lld %s\n", m->e[i].sha, m->e[i].size, m->e[i].path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, m->text, len);
    digest_end(ctx, m->text_sha);
    EVP_MD_CTX_free(ctx);
}

const de_stage_entry *de_stage_find(const de_stage *m, const char *sha)
{
    for (int i = 0; i < m->n; i++)
        if (m->e[i].listed && strcmp(m->e[i].sha, sha) == 0)
            return &m->e[i];
    return NULL;
}

int de_stage_put_name_ok(const char *name)
{
    return strcmp(name, DE_RUN_CKPT) == 0 || strcmp(name, DE_RUN_WEIGHTS) == 0;
}

/* ---- moving bytes ---- */

/* Waits until fd is ready for events (POLLIN / POLLOUT), at most IDLE_MS. */
static int ready(int fd, short events)
{
    struct pollfd pf = {fd, events, 0};
    int k;
    while ((k = poll(&pf, 1, IDLE_MS)) < 0 && errno == EINTR)
        ;
    return k > 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (errno != EINTR && !ready(fd, POLLOUT))
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sends n bytes of file descriptor src (from its start) to fd. */
static int send_file_bytes(int fd, int src, long long n)
{
    off_t off = 0;
    while (off < n) {
        ssize_t w = sendfile(fd, src, &off, (size_t)(n - off > (1 << 24) ? (1 << 24) : n - off));
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (errno != EINTR && !ready(fd, POLLOUT))
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
    }
    return 0;
}

/* Reads n bytes of the connection (first those rd holds) into out (a file descriptor, or
 * -1 with mem != NULL: into memory), hashing them. */
static int recv_body(int fd, de_wire_reader *rd, long long n, int out, char *mem, char hex[65], de_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static char buf[1 << 16];
    long long done = 0;
    int rc = DE_OK;
    while (done < n) {
        const char *p;
        size_t k;
        if (rd && rd->next < rd->len) { /* what the reader already holds after the header line */
            p = rd->buf + rd->next;
            k = rd->len - rd->next;
            if ((long long)k > n - done)
                k = (size_t)(n - done);
            rd->next += k;
        } else {
            size_t want = n - done < (long long)sizeof buf ? (size_t)(n - done) : sizeof buf;
            ssize_t got = recv(fd, buf, want, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                if (errno != EINTR && !ready(fd, POLLIN)) {
                    rc = de_err_set(err, DE_EIO, "no byte for %d s after %lld of %lld", IDLE_MS / 1000, done, n);
                    break;
                }
                continue;
            }
            if (got <= 0) {
                rc = de_err_set(err, DE_EIO, "the connection ended after %lld of %lld bytes", done, n);
                break;
            }
            p = buf;
            k = (size_t)got;
        }
        EVP_DigestUpdate(ctx, p, k);
        if (mem)
            memcpy(mem + done, p, k);
        else
            for (size_t off = 0; off < k;) {
                ssize_t w = write(out, p + off, k - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    rc = de_err_set(err, DE_EIO, "write: %s", strerror(errno));
                    goto end;
                }
                off += (size_t)w;
            }
        done += (long long)k;
    }
end:
    digest_end(ctx, hex);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Receives n bytes with checksum sha into path, through path.tmp-PID: whole or absent. */
static int recv_file(int fd, de_wire_reader *rd, long long n, const char *sha, const char *path, de_err *err)
{
    char *dir = de_path_dirname(path);
    int mk = de_mkdir_p(dir);
    free(dir);
    if (mk)
        return de_err_set(err, DE_EIO, "%s: cannot make its folder: %s", path, strerror(errno));
    char *tmp = de_sprintf("%s.tmp-%ld", path, (long)getpid());
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        free(tmp);
        return de_err_set(err, DE_EIO, "%s: %s", path, strerror(e));
    }
    char got[65];
    int rc = recv_body(fd, rd, n, out, NULL, got, err);
    if (!rc && strcmp(got, sha) != 0)
        rc = de_err_set(err, DE_EMISMATCH, "%s: SHA-256 %s of the bytes received, not %s", path, got, sha);
    if (!rc && fsync(out) != 0)
        rc = de_err_set(err, DE_EIO, "%s: fsync: %s", path, strerror(errno));
    if (close(out) != 0 && !rc)
        rc = de_err_set(err, DE_EIO, "%s: close: %s", path, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = de_err_set(err, DE_EIO, "%s: rename: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- the coordinator's side (in a child that owns the connection) ---- */

int de_stage_serve_fetch(const de_stage *m, int fd, const char *line, de_err *err)
{
    char what[32] = "", sha[80] = "";
    if (de_wire_get(line, "what", what, sizeof what) && strcmp(what, "manifest") == 0) {
        size_t n = m->text ? strlen(m->text) : 0;
        if (de_wire_send(fd, DE_MSG_FILE, "sha=%s size=%zu", m->text_sha, n) || send_all(fd, m->text, n))
            return de_err_set(err, DE_EIO, "the manifest: the connection failed");
        return DE_OK;
    }
    const de_stage_entry *e = de_wire_get(line, "sha", sha, sizeof sha) && sha_ok(sha) ? de_stage_find(m, sha) : NULL;
    if (!e) {
        de_wire_send(fd, DE_MSG_FILE, "why=no_such_file");
        return de_err_set(err, DE_EINVAL, "fetch of a file not in the manifest: %.100s", line);
    }
    int src = de_open_regular(e->path);
    struct stat st;
    if (src < 0 || fstat(src, &st) != 0 || (long long)st.st_size != e->size) {
        if (src >= 0)
            close(src);
        de_wire_send(fd, DE_MSG_FILE, "why=changed");
        return de_err_set(err, DE_EIO, "%s: gone or changed since the manifest was made", e->path);
    }
    int rc = de_wire_send(fd, DE_MSG_FILE, "sha=%s size=%lld", e->sha, e->size) || send_file_bytes(fd, src, e->size);
    close(src);
    return rc ? de_err_set(err, DE_EIO, "%s: sending it failed (the host went away?)", e->path) : DE_OK;
}

int de_stage_serve_put(int fd, de_wire_reader *rd, const char *line, const char *dir, de_err *err)
{
    char name[64] = "", sha[80] = "";
    double size = de_wire_num(line, "size", -1);
    if (!de_wire_get(line, "name", name, sizeof name) || !de_stage_put_name_ok(name) ||
        !de_wire_get(line, "sha", sha, sizeof sha) || !sha_ok(sha) || !(size >= 0 && size <= 1e12) ||
        rint(size) != size) {
        de_wire_send(fd, DE_MSG_STORED, "why=malformed");
        return de_err_set(err, DE_EINVAL, "a malformed put: %.100s", line);
    }
    char *path = de_path_join(dir, name);
    int rc = recv_file(fd, rd, (long long)size, sha, path, err);
    free(path);
    if (rc) {
        de_wire_send(fd, DE_MSG_STORED, "why=failed");
        return rc;
    }
    return de_wire_send(fd, DE_MSG_STORED, "sha=%s", sha) ? de_err_set(err, DE_EIO, "%s stored; the host went away", name)
                                                          : DE_OK;
}

/* ---- a host's side ---- */

/* The header line of an answer of kind want, within IDLE_MS (rd keeps what follows). */
static int answer(int fd, de_wire_reader *rd, de_msg want, char *line_out, size_t n, double wait_s, de_err *err)
{
    double end = de_now_s() + wait_s;
    for (;;) {
        char *line;
        int k = de_wire_next(rd, fd, &line);
        if (k == DE_WIRE_LINE) {
            if (de_wire_msg(line) != want)
                return de_err_set(err, DE_EIO, "expected `%s` from the coordinator, got: %.80s", de_msg_name(want), line);
            snprintf(line_out, n, "%s", line);
            return DE_OK;
        }
        if (k == DE_WIRE_LONG || k == DE_WIRE_CLOSED)
            return de_err_set(err, DE_EIO, "the coordinator %s the connection before its `%s`",
                              k == DE_WIRE_CLOSED ? "closed" : "flooded", de_msg_name(want));
        double left = end - de_now_s();
        if (left <= 0)
            return de_err_set(err, DE_EIO, "no `%s` from the coordinator within %.0f s", de_msg_name(want), wait_s);
        struct pollfd pf = {fd, POLLIN, 0};
        poll(&pf, 1, (int)(left * 1000) + 1);
    }
}

/* One fetch: connects, asks, reads the `file` header. */
static int fetch_open(const char *report, const char *ask, int *fd, de_wire_reader *rd, char sha[65], long long *size,
                      de_err *err)
{
    int rc = de_wire_connect(report, fd, err);
    if (rc)
        return rc;
    de_wire_reader_init(rd);
    char line[512], why[64];
    if (de_wire_send(*fd, DE_MSG_FETCH, "%s", ask))
        rc = de_err_set(err, DE_EIO, "fetch %s: the coordinator closed the connection", ask);
    if (!rc)
        rc = answer(*fd, rd, DE_MSG_FILE, line, sizeof line, IDLE_MS / 1000.0, err);
    if (!rc && de_wire_get(line, "why", why, sizeof why))
        rc = de_err_set(err, DE_EIO, "fetch %s: the coordinator refused (%s)", ask, why);
    double n = rc ? -1 : de_wire_num(line, "size", -1);
    if (!rc && (!de_wire_get(line, "sha", sha, 65) || !sha_ok(sha) || !(n >= 0 && n <= 1e13) || rint(n) != n))
        rc = de_err_set(err, DE_EIO, "fetch %s: a malformed answer: %.100s", ask, line);
    if (rc) {
        close(*fd);
        *fd = -1;
        return rc;
    }
    *size = (long long)n;
    return DE_OK;
}

/* Whether local holds a file of that size and checksum. */
static int holds(const char *local, long long size, const char *sha)
{
    struct stat st;
    char got[65];
    long long n;
    de_err e;
    return stat(local, &st) == 0 && (long long)st.st_size == size && !de_stage_sha256_file(local, got, &n, &e) &&
           strcmp(got, sha) == 0;
}

int de_stage_sync(const char *report, const char *root, int *fetched, long long *bytes, de_err *err)
{
    *fetched = 0;
    *bytes = 0;
    int fd;
    de_wire_reader rd;
    char sha[65], got[65];
    long long n;
    int rc = fetch_open(report, "what=manifest", &fd, &rd, sha, &n, err);
    if (rc)
        return rc;
    if (n > MANIFEST_MAX) {
        close(fd);
        return de_err_set(err, DE_EIO, "the coordinator's manifest has %lld bytes (at most %d)", n, MANIFEST_MAX);
    }
    char *text = de_calloc((size_t)n + 1, 1);
    rc = recv_body(fd, &rd, n, -1, text, got, err);
    close(fd);
    if (!rc && strcmp(got, sha) != 0)
        rc = de_err_set(err, DE_EMISMATCH, "the manifest: SHA-256 %s received, %s announced", got, sha);
    int line_no = 0;
    for (char *p = text, *e; !rc && *p; p = e + 1) {
        e = strchr(p, '\n');
        if (!e)
            break;
        *e = '\0';
        line_no++;
        char fsha[80], path[PATH_MAX];
        long long size;
        if (sscanf(p, "%79s %lld %4095[^\n]", fsha, &size, path) != 3 || !sha_ok(fsha) || size < 0 || path[0] != '/') {
            rc = de_err_set(err, DE_EIO, "the manifest's line %d is malformed: %.100s", line_no, p);
            break;
        }
        char *local = de_stage_local(root, path);
        if (!holds(local, size, fsha)) {
            char ask[100];
            snprintf(ask, sizeof ask, "sha=%s", fsha);
            rc = fetch_open(report, ask, &fd, &rd, sha, &n, err);
            if (!rc && (strcmp(sha, fsha) != 0 || n != size))
                rc = de_err_set(err, DE_EIO, "%s: the coordinator sent another file than its manifest lists", path);
            if (!rc)
                rc = recv_file(fd, &rd, n, fsha, local, err);
            if (fd >= 0)
                close(fd);
            if (rc) {
                char why[sizeof err->msg];
                snprintf(why, sizeof why, "%s", err->msg);
                de_err_set(err, rc, "staging %s into %s: %s", path, local, why);
            } else {
                (*fetched)++;
                *bytes += n;
            }
        }
        free(local);
    }
    free(text);
    return rc;
}

int de_stage_put(const char *report, const char *path, const char *name, long g, de_err *err)
{
    char sha[65], line[256], why[64];
    long long size;
    int rc = de_stage_sha256_file(path, sha, &size, err);
    if (rc)
        return rc;
    int fd, src = de_open_regular(path);
    if (src < 0)
        return de_err_set(err, DE_EIO, "%s: %s", path, de_file_strerror(errno));
    rc = de_wire_connect(report, &fd, err);
    if (rc) {
        close(src);
        return rc;
    }
    if (de_wire_send(fd, DE_MSG_PUT, "name=%s g=%ld size=%lld sha=%s", name, g, size, sha) ||
        send_file_bytes(fd, src, size))
        rc = de_err_set(err, DE_EIO, "sending %s to the coordinator failed", path);
    close(src);
    de_wire_reader rd;
    de_wire_reader_init(&rd);
    if (!rc)
        rc = answer(fd, &rd, DE_MSG_STORED, line, sizeof line, STORE_WAIT_S, err);
    if (!rc && de_wire_get(line, "why", why, sizeof why))
        rc = de_err_set(err, DE_EIO, "the coordinator did not store %s (%s)", name, why);
    close(fd);
    return rc;
}
