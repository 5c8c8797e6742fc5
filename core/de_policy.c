/* de_policy.c — the policy table's columns, by policy, and the external policies'
 * commands (see de_policy.h). */
#include "de_policy.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The external policies registered so far: "ext:COMMAND" each (the command is what
 * follows the prefix), and their file names. They live as long as the process. */
static char *ext_names[DE_POLICY_EXT_MAX];
static char ext_files[DE_POLICY_EXT_MAX][64];
static int n_ext;

int de_policy_is_external(de_policy p)
{
    return (int)p >= DE_POLICY_COUNT && (int)p < DE_POLICY_COUNT + n_ext;
}

int de_policy_valid(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT || de_policy_is_external(p);
}

const char *de_policy_ext_command(de_policy p)
{
    return de_policy_is_external(p) ? ext_names[p - DE_POLICY_COUNT] + strlen(DE_POLICY_EXT_PREFIX) : NULL;
}

const char *de_policy_file_name(de_policy p)
{
    return de_policy_is_external(p) ? ext_files[p - DE_POLICY_COUNT] : de_policy_name(p);
}

const char *de_policy_name(de_policy p)
{
    if (de_policy_is_external(p))
        return ext_names[p - DE_POLICY_COUNT];
    return (unsigned)p < DE_POLICY_COUNT ? rows[p].name : "?";
}

const char *de_policy_help(de_policy p)
{
    if (de_policy_is_external(p))
        return "an external policy: a program spoken to in JSON lines (policies/README.md)";
    return (unsigned)p < DE_POLICY_COUNT ? rows[p].help : "?";
}

int de_policy_respects_lc(de_policy p)
{
    return de_policy_is_external(p) || ((unsigned)p < DE_POLICY_COUNT && rows[p].respects_lc);
}

int de_policy_max_devices(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT ? rows[p].max_devices : 0;
}

int de_policy_accepts(de_policy p, int n_up)
{
    int m = de_policy_max_devices(p);
    return de_policy_valid(p) && (m == 0 || n_up <= m);
}

static de_policy ext_register(const char *name)
{
    int k = n_ext++;
    ext_names[k] = de_strdup(name);
    int len = snprintf(ext_files[k], sizeof ext_files[k], "ext%d-", k + 1);
    for (const char *c = name + strlen(DE_POLICY_EXT_PREFIX); *c && len + 1 < (int)sizeof ext_files[k]; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                 *c == '-' || *c == '_';
        if (ok || ext_files[k][len - 1] != '_')
            ext_files[k][len++] = ok ? *c : '_';
    }
    ext_files[k][len] = '\0';
    return (de_policy)(DE_POLICY_COUNT + k);
}

int de_policy_parse(const char *name, de_policy *out)
{
    size_t pl = strlen(DE_POLICY_EXT_PREFIX);
    if (strncmp(name, DE_POLICY_EXT_PREFIX, pl) == 0) {
        if (name[pl + strspn(name + pl, " \t")] == '\0')
            return DE_EINVAL; /* no command */
        for (int k = 0; k < n_ext; k++)
            if (strcmp(ext_names[k], name) == 0) {
                *out = (de_policy)(DE_POLICY_COUNT + k);
                return DE_OK;
            }
        if (n_ext == DE_POLICY_EXT_MAX)
            return DE_ERANGE;
        *out = ext_register(name);
        return DE_OK;
    }
    int i = DE_NAMES_FIND(rows, DE_POLICY_COUNT, name);
    if (i < 0)
        return DE_EINVAL;
    *out = (de_policy)i;
    return DE_OK;
}

const char *de_policy_list(void)
{
    static char buf[512];
    size_t n = strlen(DE_NAMES_JOIN(rows, DE_POLICY_COUNT, buf));
    snprintf(buf + n, sizeof buf - n, ", %sCOMMAND", DE_POLICY_EXT_PREFIX);
    return buf;
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
    fprintf(out, "%-14s %-12s %-11s %s\n", DE_POLICY_EXT_PREFIX "COMMAND", "kept", "any",
            "a program in any language, spoken to in JSON lines (policies/README.md)");
}
