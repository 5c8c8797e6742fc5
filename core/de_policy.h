/* de_policy.h — the planning policies, by name. */
#ifndef DE_POLICY_H
#define DE_POLICY_H

#define DE_POLICY_TABLE(X)                                                                         \
    X(DE_POLICY_DEEP_EDGE, "deep-edge", "load- and interference-aware selection and split (ours)") \
    X(DE_POLICY_ALL_UNIFORM, "all-uniform", "every available device, equal shares")               \
    X(DE_POLICY_PROPORTIONAL, "proportional", "every available device, shares by isolated throughput") \
    X(DE_POLICY_FASTEST_K, "fastest-k", "the k fastest devices (k best by predicted time, LC-oblivious)") \
    X(DE_POLICY_EXACT, "exact", "true optimum by enumeration of device sets (small clusters)")

typedef enum de_policy {
#define DE_X_POL(id, name, help) id,
    DE_POLICY_TABLE(DE_X_POL)
#undef DE_X_POL
    DE_POLICY_COUNT
} de_policy;

const char *de_policy_name(de_policy p);
const char *de_policy_help(de_policy p);
/* 0 and *out on success, DE_EINVAL for an unknown name. */
int de_policy_parse(const char *name, de_policy *out);
/* "deep-edge, all-uniform, ..." (static buffer). */
const char *de_policy_list(void);

#endif
