/* de_policy.c — policy names (see de_policy.h). */
#include "de_policy.h"

#include <stdio.h>
#include <string.h>

#include "de_error.h"

static const char *const names[] = {
#define DE_X_NAME(id, name, help) name,
    DE_POLICY_TABLE(DE_X_NAME)
#undef DE_X_NAME
};
static const char *const helps[] = {
#define DE_X_HELP(id, name, help) help,
    DE_POLICY_TABLE(DE_X_HELP)
#undef DE_X_HELP
};

const char *de_policy_name(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT ? names[p] : "?";
}

const char *de_policy_help(de_policy p)
{
    return (unsigned)p < DE_POLICY_COUNT ? helps[p] : "?";
}

int de_policy_parse(const char *name, de_policy *out)
{
    for (int i = 0; i < DE_POLICY_COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (de_policy)i;
            return DE_OK;
        }
    return DE_EINVAL;
}

const char *de_policy_list(void)
{
    static char buf[256];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < DE_POLICY_COUNT; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "", names[i]);
    return buf;
}
