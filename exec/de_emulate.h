/* de_emulate.h — device emulation on one host: a CPU budget per emulated device.
 *
 * An emulated device of the scenario gets a fraction of this host's CPU (its catalog
 * type's `emulation_cpu_cores`). Two mechanisms, the first that works wins:
 *   cgroup-v2 / cgroup-v1: a cgroup per device under the cpu controller with
 *     cpu.max / cpu.cfs_quota_us = cores x period (period 10 ms, so that a step of a
 *     few tens of ms is throttled smoothly); the worker and the device's LC services
 *     join it, and the kernel enforces the budget for all of them together;
 *   duty-cycle: where no cgroup is writable (containers, no root), each process
 *     throttles itself: after busy time t it sleeps t x (1/cores - 1) (de_throttle).
 * Links are shaped with tc in network namespaces (scripts/netns-hosts.sh) or, on one
 * host without namespaces, by padding each all-reduce to the link model's time
 * (exec/de_worker.c). */
#ifndef DE_EMULATE_H
#define DE_EMULATE_H

#include <sys/types.h>

#include "de_error.h"

typedef enum de_budget_mode { DE_BUDGET_NONE = 0, DE_BUDGET_CGROUP_V2, DE_BUDGET_CGROUP_V1, DE_BUDGET_DUTY } de_budget_mode;

const char *de_budget_mode_name(de_budget_mode m);

/* A cgroup limited to `cores` CPUs, named run/device under the cpu controller.
 * Returns DE_OK and mode DE_BUDGET_CGROUP_V* with *path (owned) set to the group's
 * directory; DE_EIO when no cgroup can be created here (then use DE_BUDGET_DUTY);
 * err says why. DEEPEDGE_CGROUP_ROOT overrides where groups are created (tests). */
int de_cgroup_create(const char *run, const char *device, double cores, de_budget_mode *mode, char **path,
                     de_err *err);
/* Sets the group's budget to `cores` CPUs (a slowdown fault changes it while it runs). */
int de_cgroup_set_cores(const char *path, double cores, de_err *err);
/* Moves pid into the group at path (cgroup.procs). */
int de_cgroup_join(const char *path, pid_t pid, de_err *err);
/* Moves the group's processes back to the parent group and removes it (and the run
 * directory when it is empty). Quiet: a group that is gone is fine. */
void de_cgroup_remove(const char *path);

/* Removes the groups of runs whose coordinator is gone (run-PID with no process PID), and
 * their processes go back to the root group; returns how many runs were cleaned. */
int de_cgroup_sweep(void);

/* Duty-cycle throttling of one process to `cores` CPUs (cores >= 1 or <= 0: none). */
typedef struct de_throttle {
    double cores;
    double slept_s;     /* total sleep added */
} de_throttle;

/* After `busy_s` seconds of computation, sleeps busy_s x (1/cores - 1). */
void de_throttle_after(de_throttle *t, double busy_s);

/* Sleeps for s seconds (restarting after signals; returns early if *stop becomes non-zero
 * when stop is not NULL). */
void de_sleep_s(double s, volatile const int *stop);

/* This process's CPU seconds (user + system) and resident memory in KiB. */
double de_proc_cpu_s(void);
long de_proc_rss_kb(void);

#endif
