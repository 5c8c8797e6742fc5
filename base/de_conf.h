/* de_conf.h — declared key tables over libconfig, with validation that names
 * file, line and key.
 *
 * Every configuration file of deepedge (scenarios, device catalog, plans) is read
 * through a table of de_key entries: name, type, range, default, unit and help.
 * A group is first checked for keys not in its table (an error: typos must not
 * become silent defaults), then each value is read with de_conf_get_*, which checks
 * presence, type and range. Messages look like
 *     scenarios/x.cfg:12: devices.[2].link: expected a string, found an integer */
#ifndef DE_CONF_H
#define DE_CONF_H

#include <libconfig.h>
#include <stddef.h>
#include <stdio.h>

#include "de_error.h"

typedef enum de_key_type {
    DE_KEY_INT,     /* integer (64-bit range is checked against min/max) */
    DE_KEY_FLOAT,   /* floating point; an integer literal is accepted */
    DE_KEY_STRING,
    DE_KEY_BOOL,
    DE_KEY_GROUP,   /* { ... } */
    DE_KEY_LIST     /* ( ... ) of groups, or [ ... ] */
} de_key_type;

typedef struct de_key {
    const char *name;
    de_key_type type;
    int required;       /* 1: absence is an error; 0: def applies */
    double min, max;    /* inclusive range for INT and FLOAT (ignored otherwise) */
    const char *def;    /* default as text (documentation and --show); NULL if required or none */
    const char *unit;   /* "s", "ms", "req/s", "" ... */
    const char *help;
    /* STRING keys with a fixed set of names (NULL otherwise): returns them, comma-separated
     * ("deep-edge, exact, ..."), from the table that defines them; printed after the help,
     * and a value not among them is refused with the list. */
    const char *(*choices)(void);
} de_key;

/* The largest configuration file read (scenarios, catalogs, plans): 1 GiB. */
#define DE_CONF_MAX_BYTES (1 << 30)

/* Reads a libconfig file (integer-to-float autoconversion on). On a syntax error,
 * returns DE_ESYNTAX with "FILE:LINE: message"; DE_EIO when it cannot be read.
 * cfg is initialised here and must be destroyed with config_destroy() by the caller
 * in every case. */
int de_conf_read(config_t *cfg, const char *path, de_err *err);

/* Same, from a string; name stands for the file in every message and must outlive cfg. */
int de_conf_read_string(config_t *cfg, const char *text, const char *name, de_err *err);

/* Writes the dotted path of a setting ("devices.[2].link") into buf. */
void de_conf_path(const config_setting_t *s, char *buf, size_t n);

/* "FILE:LINE" of a setting, for messages (line of the setting, or of its parent). */
void de_conf_where(const config_setting_t *s, char *buf, size_t n);

/* Fails with DE_EKEY when group has a member not named in keys[0..n-1]. */
int de_conf_check_keys(const config_setting_t *group, const de_key *keys, size_t n, de_err *err);

/* Looks up keys[name] in the table; NULL if not declared (a programming error). */
const de_key *de_conf_key(const de_key *keys, size_t n, const char *name);

/* Typed getters. When the key is absent: required → DE_EMISSING; otherwise the
 * value is parsed from key->def (NULL def for STRING gives *out = NULL).
 * Present: type and range are checked. Strings are borrowed from cfg. */
int de_conf_get_int(const config_setting_t *group, const de_key *key, long long *out, de_err *err);
int de_conf_get_float(const config_setting_t *group, const de_key *key, double *out, de_err *err);
int de_conf_get_string(const config_setting_t *group, const de_key *key, const char **out, de_err *err);
int de_conf_get_bool(const config_setting_t *group, const de_key *key, int *out, de_err *err);
/* GROUP or LIST member; absent and optional gives *out = NULL. */
int de_conf_get_setting(const config_setting_t *group, const de_key *key, config_setting_t **out, de_err *err);

/* Convenience: look the key up by name in the table, then get it. */
#define DE_CONF_KEY(table, name) de_conf_key((table), sizeof(table) / sizeof((table)[0]), (name))

/* Number of entries of a key table. */
#define DE_NKEYS(table) (sizeof(table) / sizeof((table)[0]))

/* In a loader returning an error code with a `de_err *err` in scope: reads key
 * `name` of `table` from group `grp` into `out` with de_conf_get_<kind>, and
 * returns the error code from the enclosing function if that fails. */
#define DE_CONF_GET(kind, grp, table, name, out)                                         \
    do {                                                                                 \
        int rc_ = de_conf_get_##kind((grp), DE_CONF_KEY(table, name), (out), err);       \
        if (rc_)                                                                         \
            return rc_;                                                                  \
    } while (0)

/* Writes the settings of group `root` in libconfig syntax, one `name = value;` a
 * line, groups and lists indented by two spaces, floats in the shortest form that
 * reads back to the same double (so a file written and read again gives the same
 * numbers). Returns DE_OK or DE_EIO. */
int de_conf_write(FILE *out, const config_setting_t *root);

/* 1 when value is one of key->choices (0 when the key has none). */
int de_conf_is_choice(const de_key *key, const char *value);

/* Prints a key table as documentation (one key a line: name, type, range, default, unit, help). */
void de_conf_print_table(FILE *out, const char *section, const de_key *keys, size_t n);

#endif
