/* de_policy.h — the planning policies: one table, one row each.
 *
 * A policy chooses the devices that train a job and splits its global batch among
 * them. Each is a row of DE_POLICY_TABLE:
 *     X(ID, fn, "name", respects_lc, max_devices, "one line of help")
 *  ID           the enum constant DE_POLICY_<ID>;
 *  fn           its function, void de_policy_<fn>(const de_policy_call *, de_plan *),
 *               declared from this table in de_planner.h;
 *  respects_lc  1: it sees the LC load and must keep every deadline (its plans are
 *               judged feasible or not); 0: an LC-oblivious baseline, it plans on a
 *               state without LC load and its predicted violations are reported;
 *  max_devices  the largest number of devices up it accepts (0: any); the planner
 *               refuses larger clusters with a message;
 *  help         printed by `deepedge plan --policy list`, `scenario keys` and --help.
 * Adding a policy is one row here and one file with its function (ARCHITECTURE.md,
 * "Adding a policy"; core/policy_lc_free.c is the worked example). */
#ifndef DE_POLICY_H
#define DE_POLICY_H

#include <stdio.h>

#define DE_POLICY_TABLE(X)                                                                                   \
    X(DEEP_EDGE, deep_edge, "deep-edge", 1, 0, "load- and interference-aware selection and split (ours)")    \
    X(ALL_UNIFORM, all_uniform, "all-uniform", 0, 0, "every available device, equal shares (LC-oblivious)") \
    X(PROPORTIONAL, proportional, "proportional", 0, 0,                                                       \
      "every available device, shares by isolated throughput (LC-oblivious)")                                \
    X(FASTEST_K, fastest_k, "fastest-k", 0, 0, "the k fastest devices (k best by predicted time, LC-oblivious)") \
    X(EXACT, exact, "exact", 1, 20, "true optimum by enumeration of device sets (small clusters)")             \
    X(LC_FREE, lc_free, "lc-free", 1, 0, "only devices that serve no LC task, best split over them")           \
    /* new rows above this line */

typedef enum de_policy {
#define DE_X_POL(id, fn, name, lc, maxdev, help) DE_POLICY_##id,
    DE_POLICY_TABLE(DE_X_POL)
#undef DE_X_POL
    DE_POLICY_COUNT
} de_policy;

const char *de_policy_name(de_policy p);
const char *de_policy_help(de_policy p);
/* 1 when the policy keeps LC deadlines (sees the LC load), 0 for an LC-oblivious baseline. */
int de_policy_respects_lc(de_policy p);
/* Largest number of devices up the policy accepts; 0: any. */
int de_policy_max_devices(de_policy p);
/* 1 when the policy accepts a cluster of n devices up. */
int de_policy_accepts(de_policy p, int n_up);
/* 0 and *out on success, DE_EINVAL for an unknown name. */
int de_policy_parse(const char *name, de_policy *out);
/* "deep-edge, all-uniform, ..." (static buffer). */
const char *de_policy_list(void);
/* The table as text: name, LC deadlines kept or not, largest cluster, help. */
void de_policy_print_table(FILE *out);

#endif
