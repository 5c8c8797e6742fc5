/* de_emulate.c — CPU budgets for emulated devices (see de_emulate.h). */
#include "de_emulate.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "de_catalog.h"
#include "de_util.h"

#define PERIOD_US ((int)(DE_EMU_PERIOD_S * 1e6 + 0.5)) /* the catalog's period */

const char *de_budget_mode_name(de_budget_mode m)
{
    switch (m) {
    case DE_BUDGET_NONE: return "none";
    case DE_BUDGET_CGROUP_V2: return "cgroup-v2";
    case DE_BUDGET_CGROUP_V1: return "cgroup-v1";
    case DE_BUDGET_DUTY: return "duty-cycle";
    }
    return "?";
}

static int write_file(const char *dir, const char *name, const char *text, de_err *err)
{
    char *p = de_path_join(dir, name);
    FILE *f = fopen(p, "w");
    int rc = DE_OK;
    if (!f || fputs(text, f) < 0 || fflush(f) != 0)
        rc = de_err_set(err, DE_EIO, "%s: cannot write '%s': %s", p, text, strerror(errno));
    if (f && fclose(f) != 0 && !rc)
        rc = de_err_set(err, DE_EIO, "%s: cannot write '%s': %s", p, text, strerror(errno));
    free(p);
    return rc;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int make_dir(const char *p, de_err *err)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return de_err_set(err, DE_EIO, "%s: cannot create cgroup: %s", p, strerror(errno));
    return DE_OK;
}

int de_cgroup_set_cores(const char *path, double cores, de_err *err)
{
    char q[64];
    long quota = lround(cores * PERIOD_US);
    if (quota < 1000)
        quota = 1000; /* the kernel's minimum is 1 ms */
    char *v2 = de_path_join(path, "cpu.max");
    int is_v2 = access(v2, F_OK) == 0;
    free(v2);
    if (is_v2) {
        snprintf(q, sizeof q, "%ld %d", quota, PERIOD_US);
        return write_file(path, "cpu.max", q, err);
    }
    snprintf(q, sizeof q, "%d", PERIOD_US);
    int rc = write_file(path, "cpu.cfs_period_us", q, err);
    snprintf(q, sizeof q, "%ld", quota);
    if (!rc)
        rc = write_file(path, "cpu.cfs_quota_us", q, err);
    return rc;
}

/* The cpu controller's directory (DEEPEDGE_CGROUP_ROOT overrides), NULL if none; *v2: cgroup v2. */
static char *cgroup_base(int *v2)
{
    const char *root = getenv("DEEPEDGE_CGROUP_ROOT");
    char *v2probe = de_path_join(root ? root : "/sys/fs/cgroup", "cgroup.controllers");
    *v2 = access(v2probe, F_OK) == 0;
    free(v2probe);
    if (root)
        return de_strdup(root);
    if (*v2)
        return de_strdup("/sys/fs/cgroup");
    if (is_dir("/sys/fs/cgroup/cpu"))
        return de_strdup("/sys/fs/cgroup/cpu");
    if (is_dir("/sys/fs/cgroup/cpu,cpuacct"))
        return de_strdup("/sys/fs/cgroup/cpu,cpuacct");
    return NULL;
}

int de_cgroup_create(const char *run, const char *device, double cores, de_budget_mode *mode, char **path,
                     de_err *err)
{
    *path = NULL;
    *mode = DE_BUDGET_DUTY;
    if (!(cores > 0))
        return de_err_set(err, DE_EINVAL, "cgroup %s/%s: cores must be > 0 (got %g)", run, device, cores);
    int v2;
    char *base = cgroup_base(&v2);
    if (!base)
        return de_err_set(err, DE_EIO, "no cgroup cpu controller under /sys/fs/cgroup");
    char *top = de_path_join(base, "deepedge");
    char *rund = de_path_join(top, run);
    char *dev = de_path_join(rund, device);
    free(base);
    int rc = make_dir(top, err);
    if (!rc && v2)
        rc = write_file(top, "cgroup.subtree_control", "+cpu", err);
    if (!rc)
        rc = make_dir(rund, err);
    if (!rc && v2)
        rc = write_file(rund, "cgroup.subtree_control", "+cpu", err);
    if (!rc)
        rc = make_dir(dev, err);
    if (!rc)
        rc = de_cgroup_set_cores(dev, cores, err);
    free(top);
    free(rund);
    if (rc) {
        rmdir(dev);
        free(dev);
        return rc;
    }
    *mode = v2 ? DE_BUDGET_CGROUP_V2 : DE_BUDGET_CGROUP_V1;
    *path = dev;
    return DE_OK;
}

int de_cgroup_join(const char *path, pid_t pid, de_err *err)
{
    char t[32];
    snprintf(t, sizeof t, "%ld", (long)pid);
    return write_file(path, "cgroup.procs", t, err);
}

void de_cgroup_remove(const char *path)
{
    if (!path)
        return;
    char *procs = de_path_join(path, "cgroup.procs");
    char *parent = de_path_dirname(path);
    char *top = de_path_dirname(parent);
    char *root = de_path_dirname(top);
    char *root_procs = de_path_join(root, "cgroup.procs");
    /* Leftover processes (there should be none: the caller reaps them) go back to the root. */
    FILE *f = fopen(procs, "r");
    if (f) {
        long pid;
        while (fscanf(f, "%ld", &pid) == 1) {
            FILE *g = fopen(root_procs, "w");
            if (g) {
                fprintf(g, "%ld\n", pid);
                fclose(g);
            }
        }
        fclose(f);
    }
    /* A group with a dying process is busy for a moment: retry briefly. */
    for (int i = 0; i < 50 && rmdir(path) != 0 && errno == EBUSY; i++)
        de_sleep_s(0.01, NULL);
    rmdir(parent); /* fails while other devices' groups are there: fine */
    rmdir(top);    /* and while other runs are there */
    free(procs);
    free(parent);
    free(top);
    free(root);
    free(root_procs);
}

void de_throttle_after(de_throttle *t, double busy_s)
{
    if (!(t->cores > 0) || t->cores >= 1 || !(busy_s > 0))
        return;
    double s = busy_s * (1.0 / t->cores - 1.0);
    de_sleep_s(s, NULL);
    t->slept_s += s;
}

void de_sleep_s(double s, volatile const int *stop)
{
    if (!(s > 0))
        return;
    double end = de_now_s() + s;
    for (;;) {
        if (stop && *stop)
            return;
        double left = end - de_now_s();
        if (left <= 0)
            return;
        if (stop && left > 0.05)
            left = 0.05;
        struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

double de_proc_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

long de_proc_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f)
        return -1;
    int ok = fscanf(f, "%ld %ld", &pages, &rss) == 2;
    fclose(f);
    return ok ? rss * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

int de_cgroup_sweep(void)
{
    int v2, n = 0;
    char *base = cgroup_base(&v2);
    char *top = base ? de_path_join(base, "deepedge") : NULL;
    DIR *d = top ? opendir(top) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end;
        if (strncmp(e->d_name, "run-", 4) != 0)
            continue;
        long pid = strtol(e->d_name + 4, &end, 10);
        if (end == e->d_name + 4 || *end || de_pid_alive(pid))
            continue;
        char *rund = de_path_join(top, e->d_name);
        DIR *rd = opendir(rund);
        for (struct dirent *g; rd && (g = readdir(rd));) {
            char *dev = de_path_join(rund, g->d_name);
            if (g->d_name[0] != '.' && is_dir(dev))
                de_cgroup_remove(dev); /* its processes back to the root, the group away */
            free(dev);
        }
        if (rd)
            closedir(rd);
        n += rmdir(rund) == 0 || errno == ENOENT;
        free(rund);
    }
    if (d)
        closedir(d);
    if (top)
        rmdir(top); /* when no other run is there */
    free(top);
    free(base);
    return n;
}
