/* de_policy.c — the policy table's columns, by policy (see de_policy.h). */
#include "de_policy.h"

#include <string.h>

#include "de_error.h"
#include "de_util.h"

typedef struct row {
    const char *name, *help;
    int respects_lc, max_devices;
} row;

static const row rows[] = {
#define DE_X_ROW(id, fn, name, lc, maxdev, help) {name, help, lc, maxdev},
    DE_POLICY_TABLE(DE_X_ROW)
#undef DE_X_ROW
};

const char *de_policy_name(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT ? rows[p].name : "?";
}

const char *de_policy_help(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT ? rows[p].help : "?";
}

int de_policy_respects_lc(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT && rows[p].respects_lc;
}

int de_policy_max_devices(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT ? rows[p].max_devices : 0;
}

int de_policy_accepts(de_policy p, int n_up)
{
    int m = de_policy_max_devices(p);
    return (unsigned)p < DE_POLICY_COUNT && (m == 0 || n_up <= m);
}

int de_policy_parse(const char *name, de_policy *out)
{
    int i = DE_NAMES_FIND(rows, DE_POLICY_COUNT, name);
    if (i < 0)
        return DE_EINVAL;
    *out = (de_policy)i;
    return DE_OK;
}

const char *de_policy_list(void)
{
    static char buf[512];
    return DE_NAMES_JOIN(rows, DE_POLICY_COUNT, buf);
}

void de_policy_print_table(FILE *out)
{
    fprintf(out, "%-14s %-12s %-11s %s\n", "policy", "LC deadlines", "max devices", "what it does");
    for (int i = 0; i < DE_POLICY_COUNT; i++) {
        char maxd[16] = "any";
        if (rows[i].max_devices)
            snprintf(maxd, sizeof maxd, "%d", rows[i].max_devices);
        fprintf(out, "%-14s %-12s %-11s %s\n", rows[i].name, rows[i].respects_lc ? "kept" : "ignored", maxd,
                rows[i].help);
    }
}
