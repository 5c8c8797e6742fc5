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
 * "Adding a policy"; core/policy_lc_free.c is the worked example).
 *
 * External policies. A policy may also be a program in any language: `ext:COMMAND`
 * (policies/README.md: the protocol). de_policy_parse gives each distinct command a
 * value of its own after the table's, DE_POLICY_COUNT + k, so that the command travels
 * with the policy value wherever a de_policy goes (plans, plan files, sim's and run's
 * re-plans); its name is "ext:COMMAND", it keeps LC deadlines (it sees the LC load and
 * its plans are judged feasible or not) and accepts any cluster. Loops over the table
 * (`i < DE_POLICY_COUNT`) do not see them. */
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

/* At most this many distinct external commands per process. */
#define DE_POLICY_EXT_MAX 16
/* Every value a policy can have: the table's and the external ones. */
#define DE_POLICY_MAX (DE_POLICY_COUNT + DE_POLICY_EXT_MAX)
/* The prefix of an external policy's name. */
#define DE_POLICY_EXT_PREFIX "ext:"

/* 1 for a row of the table or an external policy registered by de_policy_parse. */
int de_policy_valid(de_policy p);
/* 1 for an external policy (ext:COMMAND). */
int de_policy_is_external(de_policy p);
/* Its COMMAND; NULL for a row of the table. */
const char *de_policy_ext_command(de_policy p);
/* A name for files and folders (letters, digits, '.', '_', '-'): the table's name, or
 * "ext1-python3_policies_example_policy.py" for an external one (static buffer per policy). */
const char *de_policy_file_name(de_policy p);

const char *de_policy_name(de_policy p);
const char *de_policy_help(de_policy p);
/* 1 when the policy keeps LC deadlines (sees the LC load), 0 for an LC-oblivious baseline. */
int de_policy_respects_lc(de_policy p);
/* Largest number of devices up the policy accepts; 0: any. */
int de_policy_max_devices(de_policy p);
/* 1 when the policy accepts a cluster of n devices up. */
int de_policy_accepts(de_policy p, int n_up);
/* 0 and *out on success, DE_EINVAL for an unknown name. "ext:COMMAND" (COMMAND not
 * empty) registers an external policy, or finds the one registered for the same
 * command; DE_ERANGE when DE_POLICY_EXT_MAX are registered already. */
int de_policy_parse(const char *name, de_policy *out);
/* "deep-edge, all-uniform, ..., lc-free, ext:COMMAND" (static buffer). */
const char *de_policy_list(void);
/* The table as text: name, LC deadlines kept or not, largest cluster, help. */
void de_policy_print_table(FILE *out);

#endif
