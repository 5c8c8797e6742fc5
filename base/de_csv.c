/* de_csv.c — the strict CSV reader of traces (see de_csv.h). */
#include "de_csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

/* The cells of one line, unquoted and trimmed, in one buffer. */
typedef struct fields {
    char **cell;
    int n, cap;
} fields;

static void fields_push(fields *f, char *s)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        f->cell = de_realloc(f->cell, (size_t)f->cap * sizeof *f->cell);
    }
    f->cell[f->n++] = s;
}

/* Splits line (modified in place) into f. Returns 0, or the 1-based column of an
 * unterminated quote / text after a closing quote. */
static int split(char *line, fields *f)
{
    f->n = 0;
    char *p = line;
    for (int col = 1;; col++) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *start = p, *end;
        if (*p == '"') {
            char *w = ++p;
            start = w;
            for (;;) {
                if (*p == '\0')
                    return col;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            end = w;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p != '\0')
                return col;
        } else {
            while (*p && *p != ',')
                p++;
            end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        }
        int last = *p == '\0';
        *end = '\0';
        fields_push(f, start);
        if (last)
            return 0;
        p++;
    }
}

static const char *type_text(de_csv_type t)
{
    return t == DE_CSV_STRING ? "text" : t == DE_CSV_INT ? "integer" : "number";
}

/* Strict number: the whole cell, finite. */
static int parse_number(const char *s, double *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static char *header_text(const de_csv_col *cols, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(cols[i].name) + 1;
    char *s = de_calloc(len, 1);
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, cols[i].name);
    }
    return s;
}

/* Matches the header cells against the declared columns. */
static int read_header(de_csv *t, const fields *f, int lineno, int flags, const char *raw, de_err *err)
{
    if (flags & DE_CSV_EXACT) {
        int ok = f->n == t->n_cols;
        for (int i = 0; ok && i < t->n_cols; i++)
            ok = strcmp(f->cell[i], t->cols[i].name) == 0;
        if (!ok) {
            char *want = header_text(t->cols, t->n_cols);
            int rc = de_err_set(err, DE_ESYNTAX, "%s:%d:1: header must be '%s', found '%s'", t->path, lineno, want,
                                raw);
            free(want);
            return rc;
        }
        for (int i = 0; i < t->n_cols; i++)
            t->file_col[i] = i + 1;
        return DE_OK;
    }
    for (int c = 0; c < f->n; c++) {
        int k = -1;
        for (int i = 0; i < t->n_cols && k < 0; i++)
            if (strcmp(f->cell[c], t->cols[i].name) == 0)
                k = i;
        if (k < 0) {
            char *known = header_text(t->cols, t->n_cols);
            int rc = de_err_set(err, DE_EKEY, "%s:%d:%d: unknown column '%s' (known: %s)", t->path, lineno, c + 1,
                                f->cell[c], known);
            free(known);
            return rc;
        }
        if (t->file_col[k])
            return de_err_set(err, DE_EDUP, "%s:%d:%d: column '%s' appears twice (also column %d)", t->path, lineno,
                              c + 1, f->cell[c], t->file_col[k]);
        t->file_col[k] = c + 1;
    }
    for (int i = 0; i < t->n_cols; i++)
        if (t->cols[i].required && !t->file_col[i])
            return de_err_set(err, DE_EMISSING, "%s:%d: missing required column '%s' (%s, %s)", t->path, lineno,
                              t->cols[i].name, type_text(t->cols[i].type), t->cols[i].help ? t->cols[i].help : "");
    return DE_OK;
}

/* Parses one cell of declared column k into row r. */
static int read_cell(de_csv *t, int r, int k, const char *cell, int lineno, int col, de_err *err)
{
    const de_csv_col *c = &t->cols[k];
    size_t at = (size_t)r * (size_t)t->n_cols + (size_t)k;
    if (c->type == DE_CSV_STRING) {
        t->str[at] = de_strdup(cell);
        return DE_OK;
    }
    double v;
    if (!cell[0] && !c->required) { /* an empty cell of an optional column: its default */
        t->num[at] = c->def ? strtod(c->def, NULL) : 0.0;
        return DE_OK;
    }
    if (parse_number(cell, &v))
        return de_err_set(err, DE_ESYNTAX, "%s:%d:%d: %s: not a number%s%s%s", t->path, lineno, col, c->name,
                          cell[0] ? " ('" : "", cell, cell[0] ? "')" : "");
    if (c->type == DE_CSV_INT && v != floor(v))
        return de_err_set(err, DE_ESYNTAX, "%s:%d:%d: %s: %s is not an integer", t->path, lineno, col, c->name, cell);
    if (v < c->min || v > c->max)
        return de_err_set(err, DE_ERANGE, "%s:%d:%d: %s: %g is out of range [%g, %g]", t->path, lineno, col, c->name,
                          v, c->min, c->max);
    t->num[at] = v;
    return DE_OK;
}

/* Default of an absent optional column k into row r. */
static void default_cell(de_csv *t, int r, int k)
{
    const de_csv_col *c = &t->cols[k];
    size_t at = (size_t)r * (size_t)t->n_cols + (size_t)k;
    if (c->type == DE_CSV_STRING)
        t->str[at] = de_strdup(c->def ? c->def : "");
    else
        t->num[at] = c->def ? strtod(c->def, NULL) : 0.0;
}

static void grow(de_csv *t, int *cap)
{
    if (t->n_rows < *cap)
        return;
    int old = *cap;
    *cap = old ? 2 * old : 64;
    size_t nc = (size_t)t->n_cols;
    t->line = de_realloc(t->line, (size_t)*cap * sizeof *t->line);
    t->num = de_realloc(t->num, (size_t)*cap * nc * sizeof *t->num);
    t->str = de_realloc(t->str, (size_t)*cap * nc * sizeof *t->str);
    memset(t->num + (size_t)old * nc, 0, (size_t)(*cap - old) * nc * sizeof *t->num);
    memset(t->str + (size_t)old * nc, 0, (size_t)(*cap - old) * nc * sizeof *t->str);
}

int de_csv_load(const char *path, const de_csv_col *cols, int n_cols, int flags, de_csv **out, de_err *err)
{
    *out = NULL;
    size_t len;
    char *text = de_file_read(path, &len);
    if (!text)
        return de_err_set(err, DE_EIO, "%s: cannot read: %s", path, de_file_strerror(errno));
    de_csv *t = de_calloc(1, sizeof *t);
    t->path = de_strdup(path);
    t->cols = cols;
    t->n_cols = n_cols;
    t->file_col = de_calloc((size_t)n_cols + 1, sizeof *t->file_col);
    fields f = {0};
    int cap = 0, lineno = 0, header = 0, rc = DE_OK;
    for (char *line = text; line && *line && !rc;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        char *next = nl ? nl + 1 : NULL;
        const char *q = line;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\0' || *q == '#') {
            line = next;
            continue;
        }
        char *raw = de_strdup(line);
        int bad = split(line, &f);
        if (bad) {
            rc = de_err_set(err, DE_ESYNTAX, "%s:%d:%d: unterminated quote or text after a closing quote", path, lineno,
                            bad);
        } else if (!header) {
            rc = read_header(t, &f, lineno, flags, raw, err);
            header = 1;
        } else {
            int ncol = 0;
            for (int i = 0; i < n_cols; i++)
                ncol += t->file_col[i] > 0;
            if (f.n != ncol) {
                char *want = header_text(cols, n_cols);
                rc = de_err_set(err, DE_ESYNTAX, "%s:%d: expected %d columns (as in the header%s%s), found %d", path,
                                lineno, ncol, flags & DE_CSV_EXACT ? ": " : "", flags & DE_CSV_EXACT ? want : "", f.n);
                free(want);
            } else {
                grow(t, &cap);
                int r = t->n_rows++;
                t->line[r] = lineno;
                for (int k = 0; k < n_cols && !rc; k++) {
                    if (t->file_col[k])
                        rc = read_cell(t, r, k, f.cell[t->file_col[k] - 1], lineno, t->file_col[k], err);
                    else
                        default_cell(t, r, k);
                }
            }
        }
        free(raw);
        line = next;
    }
    free(f.cell);
    free(text);
    if (!rc && t->n_rows == 0) {
        char *want = header_text(cols, n_cols);
        rc = header ? de_err_set(err, DE_ESYNTAX, "%s: no data rows", path)
                    : de_err_set(err, DE_ESYNTAX, "%s: empty (expected header '%s')", path, want);
        free(want);
    }
    if (rc) {
        de_csv_destroy(t);
        return rc;
    }
    *out = t;
    return DE_OK;
}

void de_csv_destroy(de_csv *t)
{
    if (!t)
        return;
    if (t->str)
        for (size_t i = 0; i < (size_t)t->n_rows * (size_t)t->n_cols; i++)
            free(t->str[i]);
    free(t->str);
    free(t->num);
    free(t->line);
    free(t->file_col);
    free(t->path);
    free(t);
}

double de_csv_num(const de_csv *t, int row, int col)
{
    return t->num[(size_t)row * (size_t)t->n_cols + (size_t)col];
}

const char *de_csv_str(const de_csv *t, int row, int col)
{
    const char *s = t->str[(size_t)row * (size_t)t->n_cols + (size_t)col];
    return s ? s : "";
}

int de_csv_col_index(const de_csv *t, const char *name)
{
    for (int i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

int de_csv_err(const de_csv *t, int row, int col, de_err *err, int code, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return de_err_set(err, code, "%s:%d:%d: %s: %s", t->path, t->line[row], t->file_col[col] ? t->file_col[col] : 1,
                      t->cols[col].name, msg);
}

void de_csv_print_cols(FILE *out, const char *title, const de_csv_col *cols, int n_cols)
{
    fprintf(out, "%s\n", title);
    for (int i = 0; i < n_cols; i++) {
        char range[64] = "";
        if (cols[i].type != DE_CSV_STRING)
            snprintf(range, sizeof range, "[%g, %g]", cols[i].min, cols[i].max);
        fprintf(out, "  %-16s %-8s %-22s %-12s %s\n", cols[i].name, type_text(cols[i].type), range,
                cols[i].required ? "(required)" : (cols[i].def ? cols[i].def : "(empty)"),
                cols[i].help ? cols[i].help : "");
    }
}

FILE *de_csv_create(const char *dir, const char *name, const char *header, de_err *err, int *rc)
{
    char *p = de_path_join(dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        *rc = de_err_set(err, DE_EIO, "%s: cannot write: %s", p, strerror(errno));
    else
        fprintf(f, "%s\n", header);
    free(p);
    return f;
}
