/* de_conf.c — key tables over libconfig (see de_conf.h). */
#include "de_conf.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(de_key_type t)
{
    switch (t) {
    case DE_KEY_INT: return "an integer";
    case DE_KEY_FLOAT: return "a number";
    case DE_KEY_STRING: return "a string";
    case DE_KEY_BOOL: return "a boolean (true/false)";
    case DE_KEY_GROUP: return "a group { ... }";
    case DE_KEY_LIST: return "a list ( ... )";
    }
    return "?";
}

static const char *cfg_type_name(int t)
{
    switch (t) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_LIST: return "a list";
    case CONFIG_TYPE_ARRAY: return "an array";
    }
    return "nothing";
}

static void init_cfg(config_t *cfg)
{
    config_init(cfg);
    config_set_options(cfg, config_get_options(cfg) | CONFIG_OPTION_AUTOCONVERT);
}

int de_conf_read(config_t *cfg, const char *path, de_err *err)
{
    init_cfg(cfg);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return de_err_set(err, DE_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return de_err_set(err, DE_EIO, "%s: not a regular file", path);
    if (sb.st_size > DE_CONF_MAX_BYTES) /* a generated 10^6-device scenario is 128 MB */
        return de_err_set(err, DE_ERANGE, "%s: %lld bytes, more than the %d MiB a configuration file may have", path,
                          (long long)sb.st_size, DE_CONF_MAX_BYTES >> 20);
    FILE *f = fopen(path, "r");
    if (!f)
        return de_err_set(err, DE_EIO, "%s: cannot open: %s", path, strerror(errno));
    fclose(f);
    /* @include paths are relative to the including file's directory. */
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t n = (size_t)(slash - path);
        char *dir = calloc(n + 2, 1);
        if (dir) {
            memcpy(dir, path, n ? n : 1);
            config_set_include_dir(cfg, dir); /* libconfig copies it */
            free(dir);
        }
    }
    if (config_read_file(cfg, path) != CONFIG_TRUE) {
        const char *file = config_error_file(cfg);
        return de_err_set(err, DE_ESYNTAX, "%s:%d: syntax error: %s", file ? file : path,
                          config_error_line(cfg), config_error_text(cfg));
    }
    return DE_OK;
}

int de_conf_read_string(config_t *cfg, const char *text, const char *name, de_err *err)
{
    init_cfg(cfg);
    if (config_read_string(cfg, text) != CONFIG_TRUE)
        return de_err_set(err, DE_ESYNTAX, "%s:%d: syntax error: %s", name, config_error_line(cfg),
                          config_error_text(cfg));
    /* Settings read from a string have no source file: messages use this name. */
    config_setting_set_hook(config_root_setting(cfg), (void *)name);
    return DE_OK;
}

void de_conf_path(const config_setting_t *s, char *buf, size_t n)
{
    const config_setting_t *chain[64];
    int depth = 0;
    for (const config_setting_t *p = s; p && !config_setting_is_root(p) && depth < 64; p = config_setting_parent(p))
        chain[depth++] = p;
    size_t len = 0;
    buf[0] = '\0';
    for (int i = depth - 1; i >= 0 && len < n; i--) {
        const char *name = config_setting_name(chain[i]);
        int w;
        if (name)
            w = snprintf(buf + len, n - len, "%s%s", len ? "." : "", name);
        else
            w = snprintf(buf + len, n - len, "%s[%d]", len ? "." : "", config_setting_index(chain[i]));
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

void de_conf_where(const config_setting_t *s, char *buf, size_t n)
{
    const char *file = NULL;
    int line = 0;
    for (const config_setting_t *p = s; p; p = config_setting_parent(p)) {
        line = (int)config_setting_source_line(p);
        file = config_setting_source_file(p);
        if (line > 0)
            break;
    }
    if (!file) /* read from a string: the name given to de_conf_read_string */
        file = config_setting_get_hook(config_root_setting(s->config));
    if (line > 0)
        snprintf(buf, n, "%s:%d", file ? file : "?", line);
    else /* the top level has no line of its own */
        snprintf(buf, n, "%s", file ? file : "?");
}

/* "FILE:LINE: PATH[.name]" for messages about setting s (or member name of s). */
static void locate(const config_setting_t *s, const char *member, char *buf, size_t n)
{
    char where[512], path[512];
    de_conf_where(s, where, sizeof where);
    de_conf_path(s, path, sizeof path);
    if (member)
        snprintf(buf, n, "%s: %s%s%s", where, path, path[0] ? "." : "", member);
    else
        snprintf(buf, n, "%s: %s", where, path[0] ? path : "(top level)");
}

const de_key *de_conf_key(const de_key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int de_conf_check_keys(const config_setting_t *group, const de_key *keys, size_t n, de_err *err)
{
    char loc[1024];
    if (!config_setting_is_group(group)) {
        locate(group, NULL, loc, sizeof loc);
        return de_err_set(err, DE_ETYPE, "%s: expected a group { ... }, found %s", loc,
                          cfg_type_name(config_setting_type(group)));
    }
    int count = config_setting_length(group);
    for (int i = 0; i < count; i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(m);
        if (name && !de_conf_key(keys, n, name)) {
            char known[512] = "";
            size_t len = 0;
            for (size_t k = 0; k < n && len < sizeof known; k++) {
                int w = snprintf(known + len, sizeof known - len, "%s%s", k ? ", " : "", keys[k].name);
                if (w < 0)
                    break;
                len += (size_t)w;
            }
            locate(m, NULL, loc, sizeof loc);
            return de_err_set(err, DE_EKEY, "%s: unknown key (known here: %s)", loc, known);
        }
    }
    return DE_OK;
}

/* Finds a member; absent+required is an error; absent+optional returns 0 with *out NULL. */
static int member(const config_setting_t *group, const de_key *key, config_setting_t **out, de_err *err)
{
    *out = config_setting_get_member(group, key->name);
    if (!*out && key->required) {
        char loc[1024];
        locate(group, key->name, loc, sizeof loc);
        return de_err_set(err, DE_EMISSING, "%s: missing required key (%s%s%s: %s)", loc,
                          type_name(key->type), key->unit && key->unit[0] ? ", in " : "",
                          key->unit ? key->unit : "", key->help ? key->help : "");
    }
    return DE_OK;
}

static int type_error(const config_setting_t *s, const de_key *key, de_err *err)
{
    char loc[1024];
    locate(s, NULL, loc, sizeof loc);
    return de_err_set(err, DE_ETYPE, "%s: expected %s, found %s", loc, type_name(key->type),
                      cfg_type_name(config_setting_type(s)));
}

static int range_error(const config_setting_t *s, const de_key *key, double v, de_err *err)
{
    char loc[1024];
    locate(s, NULL, loc, sizeof loc);
    return de_err_set(err, DE_ERANGE, "%s: %g is out of range [%g, %g]%s%s", loc, v, key->min, key->max,
                      key->unit && key->unit[0] ? " " : "", key->unit ? key->unit : "");
}

int de_conf_get_int(const config_setting_t *group, const de_key *key, long long *out, de_err *err)
{
    config_setting_t *s;
    int rc = member(group, key, &s, err);
    if (rc)
        return rc;
    if (!s) {
        *out = key->def ? strtoll(key->def, NULL, 10) : 0;
        return DE_OK;
    }
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
        return type_error(s, key, err);
    long long v = config_setting_get_int64(s);
    if ((double)v < key->min || (double)v > key->max)
        return range_error(s, key, (double)v, err);
    *out = v;
    return DE_OK;
}

int de_conf_get_float(const config_setting_t *group, const de_key *key, double *out, de_err *err)
{
    config_setting_t *s;
    int rc = member(group, key, &s, err);
    if (rc)
        return rc;
    if (!s) {
        *out = key->def ? strtod(key->def, NULL) : 0.0;
        return DE_OK;
    }
    int t = config_setting_type(s);
    double v;
    if (t == CONFIG_TYPE_FLOAT)
        v = config_setting_get_float(s);
    else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        v = (double)config_setting_get_int64(s);
    else
        return type_error(s, key, err);
    if (!isfinite(v) || v < key->min || v > key->max)
        return range_error(s, key, v, err);
    *out = v;
    return DE_OK;
}

int de_conf_get_string(const config_setting_t *group, const de_key *key, const char **out, de_err *err)
{
    config_setting_t *s;
    int rc = member(group, key, &s, err);
    if (rc)
        return rc;
    if (!s) {
        *out = key->def;
        return DE_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return type_error(s, key, err);
    *out = config_setting_get_string(s);
    if (key->required && (*out)[0] == '\0') {
        char loc[1024];
        locate(s, NULL, loc, sizeof loc);
        return de_err_set(err, DE_ERANGE, "%s: must not be empty (%s)", loc, key->help ? key->help : "");
    }
    if (key->choices && !de_conf_is_choice(key, *out)) {
        char loc[1024];
        locate(s, NULL, loc, sizeof loc);
        return de_err_set(err, DE_ERANGE, "%s: unknown %s '%s' (known: %s)", loc, key->name, *out, key->choices());
    }
    return DE_OK;
}

int de_conf_get_bool(const config_setting_t *group, const de_key *key, int *out, de_err *err)
{
    config_setting_t *s;
    int rc = member(group, key, &s, err);
    if (rc)
        return rc;
    if (!s) {
        *out = key->def && strcmp(key->def, "true") == 0;
        return DE_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return type_error(s, key, err);
    *out = config_setting_get_bool(s);
    return DE_OK;
}

int de_conf_get_setting(const config_setting_t *group, const de_key *key, config_setting_t **out, de_err *err)
{
    int rc = member(group, key, out, err);
    if (rc || !*out)
        return rc;
    int t = config_setting_type(*out);
    if (key->type == DE_KEY_GROUP && t != CONFIG_TYPE_GROUP)
        return type_error(*out, key, err);
    if (key->type == DE_KEY_LIST && t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
        return type_error(*out, key, err);
    return DE_OK;
}

int de_conf_is_choice(const de_key *key, const char *value)
{
    const char *list = key->choices ? key->choices() : NULL;
    size_t vl = strlen(value);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == vl && strncmp(p, value, vl) == 0)
            return 1;
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

void de_conf_print_table(FILE *out, const char *section, const de_key *keys, size_t n)
{
    fprintf(out, "%s\n", section);
    for (size_t i = 0; i < n; i++) {
        const de_key *k = &keys[i];
        char range[64] = "";
        if (k->type == DE_KEY_INT || k->type == DE_KEY_FLOAT)
            snprintf(range, sizeof range, "[%g, %g]", k->min, k->max);
        static const char *tn[] = {"int", "float", "string", "bool", "group", "list"};
        fprintf(out, "  %-22s %-6s %-20s %-14s %-8s %s%s%s%s\n", k->name, tn[k->type], range,
                k->required ? "(required)" : (k->def ? k->def : "(none)"), k->unit ? k->unit : "",
                k->help ? k->help : "", k->choices ? " (one of: " : "", k->choices ? k->choices() : "",
                k->choices ? ")" : "");
    }
}

/* ---- writing ---- */

static void write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (*s == '\t')
            fputs("\\t", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void write_float(FILE *out, double v)
{
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
    if (!strpbrk(buf, ".eEin"))
        fputs(".0", out);
}

static void write_value(FILE *out, const config_setting_t *s, int indent);

static void write_members(FILE *out, const config_setting_t *g, int indent)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        int t = config_setting_type(m);
        if (indent == 0 && i > 0 && (t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_LIST))
            fputc('\n', out);
        fprintf(out, "%*s%s = ", indent, "", config_setting_name(m));
        write_value(out, m, indent);
        fputs(";\n", out);
    }
}

static void write_value(FILE *out, const config_setting_t *s, int indent)
{
    int n;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        fputs("{\n", out);
        write_members(out, s, indent + 2);
        fprintf(out, "%*s}", indent, "");
        break;
    case CONFIG_TYPE_LIST:
        n = config_setting_length(s);
        fputs("(\n", out);
        for (int i = 0; i < n; i++) {
            fprintf(out, "%*s", indent + 2, "");
            write_value(out, config_setting_get_elem(s, (unsigned)i), indent + 2);
            fputs(i + 1 < n ? ",\n" : "\n", out);
        }
        fprintf(out, "%*s)", indent, "");
        break;
    case CONFIG_TYPE_ARRAY:
        n = config_setting_length(s);
        fputc('[', out);
        for (int i = 0; i < n; i++) {
            if (i)
                fputs(", ", out);
            write_value(out, config_setting_get_elem(s, (unsigned)i), indent);
        }
        fputc(']', out);
        break;
    case CONFIG_TYPE_INT:
        fprintf(out, "%d", config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        fprintf(out, "%lldL", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT:
        write_float(out, config_setting_get_float(s));
        break;
    case CONFIG_TYPE_STRING:
        write_string(out, config_setting_get_string(s));
        break;
    case CONFIG_TYPE_BOOL:
        fputs(config_setting_get_bool(s) ? "true" : "false", out);
        break;
    default:
        break;
    }
}

int de_conf_write(FILE *out, const config_setting_t *root)
{
    write_members(out, root, 0);
    return ferror(out) ? DE_EIO : DE_OK;
}
