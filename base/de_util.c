/* de_util.c — allocation, paths, checksums, clocks (see de_util.h). */
#include "de_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "de_error.h"

static void oom(size_t size)
{
    fprintf(stderr, "deepedge: out of memory allocating %zu bytes\n", size);
    abort();
}

void *de_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *de_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        oom(size);
    return q;
}

char *de_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = de_calloc(n, 1);
    memcpy(d, s, n);
    return d;
}

char *de_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = de_calloc((size_t)(n < 0 ? 0 : n) + 1, 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *de_path_join(const char *a, const char *b)
{
    if (b[0] == '/' || a[0] == '\0')
        return de_strdup(b);
    size_t la = strlen(a);
    return de_sprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *de_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return de_strdup(".");
    if (slash == path)
        return de_strdup("/");
    char *d = de_calloc((size_t)(slash - path) + 1, 1);
    memcpy(d, path, (size_t)(slash - path));
    return d;
}

uint64_t de_fnv1a64(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int de_open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
        close(fd);
        errno = e;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

char *de_file_read(const char *path, size_t *len)
{
    int fd = de_open_regular(path);
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size > DE_FILE_MAX_BYTES) {
        close(fd);
        errno = EFBIG;
        return NULL;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = de_calloc(cap, 1);
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n + 1 < cap)
            break;
        if ((long long)n > DE_FILE_MAX_BYTES) { /* it grew while read */
            fclose(f);
            free(buf);
            errno = EFBIG;
            return NULL;
        }
        cap *= 2;
        buf = de_realloc(buf, cap);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

const char *de_file_strerror(int e)
{
    return e == EINVAL ? "not a regular file" : e == EFBIG ? "more than the 4 GiB a file read whole may have" : strerror(e);
}

int de_file_checksum(const char *path, uint64_t *out)
{
    size_t n;
    char *buf = de_file_read(path, &n);
    if (!buf)
        return DE_EIO;
    *out = de_fnv1a64(buf, n, DE_FNV1A64_INIT);
    free(buf);
    return DE_OK;
}

double de_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct de_strmap {
    size_t cap, n; /* cap: power of two */
    const char **keys;
    int *vals;
};

de_strmap *de_strmap_create(size_t expected)
{
    de_strmap *m = de_calloc(1, sizeof *m);
    m->cap = 16;
    while (m->cap < 2 * expected)
        m->cap *= 2;
    m->keys = de_calloc(m->cap, sizeof *m->keys);
    m->vals = de_calloc(m->cap, sizeof *m->vals);
    return m;
}

void de_strmap_destroy(de_strmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    free(m);
}

static size_t slot(const de_strmap *m, const char *key)
{
    size_t i = (size_t)de_fnv1a64(key, strlen(key), DE_FNV1A64_INIT) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

int de_strmap_put(de_strmap *m, const char *key, int value)
{
    if (2 * (m->n + 1) > m->cap) { /* grow: keep the load factor under 1/2 */
        de_strmap old = *m;
        m->cap *= 2;
        m->n = 0;
        m->keys = de_calloc(m->cap, sizeof *m->keys);
        m->vals = de_calloc(m->cap, sizeof *m->vals);
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i])
                de_strmap_put(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    size_t i = slot(m, key);
    if (m->keys[i])
        return m->vals[i];
    m->keys[i] = key;
    m->vals[i] = value;
    m->n++;
    return -1;
}

int de_strmap_get(const de_strmap *m, const char *key)
{
    size_t i = slot(m, key);
    return m->keys[i] ? m->vals[i] : -1;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int de_dir_names(const char *dir, const char *suffix, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    size_t sl = strlen(suffix);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= sl || strcmp(e->d_name + len - sl, suffix) != 0 || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = de_realloc(names, (size_t)cap * sizeof *names);
        }
        names[n++] = de_strdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, cmp_name);
    *out = names;
    return n;
}

int de_mkdir_p(const char *path)
{
    char *p = de_strdup(path);
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *c = '/';
    }
    int rc = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

static const char *name_at(const void *first, size_t stride, int i)
{
    return *(const char *const *)((const char *)first + (size_t)i * stride);
}

int de_names_find(const void *first, size_t stride, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name_at(first, stride, i), name) == 0)
            return i;
    return -1;
}

const char *de_names_join(const void *first, size_t stride, int n, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at + 4 < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", name_at(first, stride, i));
        if (w < 0)
            break;
        at += (size_t)w;
    }
    if (at >= len - 4 && len > 4)
        strcpy(buf + len - 4, "...");
    return buf;
}

int de_pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int de_remove_stale_tmp(const char *path)
{
    char *dir = de_path_dirname(path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char *stem = de_sprintf("%s.tmp.", base);
    size_t sl = strlen(stem);
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end;
        if (strncmp(e->d_name, stem, sl) != 0)
            continue;
        long pid = strtol(e->d_name + sl, &end, 10);
        if (end == e->d_name + sl || *end || de_pid_alive(pid))
            continue;
        char *p = de_path_join(dir, e->d_name);
        n += unlink(p) == 0;
        free(p);
    }
    if (d)
        closedir(d);
    free(stem);
    free(dir);
    return n;
}

int de_file_write_atomic(const char *path, const void *data, size_t n, de_err *err)
{
    char *tmp = de_sprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return de_err_set(err, DE_EIO, "%s: cannot create its temporary file: %s (is the directory writable?)", path,
                          strerror(e));
    }
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return de_err_set(err, DE_EIO, "%s: write failed: %s (disk full?); the previous file is intact", path,
                              strerror(e));
        }
        p += k;
        left -= (size_t)k;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return de_err_set(err, DE_EIO, "%s: fsync failed: %s; the previous file is intact", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return de_err_set(err, DE_EIO, "%s: rename failed: %s; the previous file is intact", path, strerror(e));
    }
    free(tmp);
    de_remove_stale_tmp(path); /* of writers killed mid-write */
    char *dir = de_path_dirname(path);
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}

void de_host_cpu(char *out, size_t n)
{
    snprintf(out, n, "unknown CPU");
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (!ci)
        return;
    char line[512];
    while (fgets(line, sizeof line, ci))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            const char *v = strchr(line, ':') + 1;
            v += strspn(v, " \t");
            snprintf(out, n, "%s", v);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    fclose(ci);
}

int de_host_cores(void)
{
    long k = sysconf(_SC_NPROCESSORS_ONLN);
    return k > 0 && k < 1000000 ? (int)k : 0;
}
