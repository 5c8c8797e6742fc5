/* de_csv.h — a strict CSV reader for traces: declared columns, typed cells, and
 * errors that name FILE:LINE:COLUMN and the column.
 *
 * Format: UTF-8/ASCII text; lines starting with '#' and blank lines are ignored
 * everywhere; the first other line is the header (column names, units in the names,
 * e.g. `step_time_s`); every later line is one row with exactly as many cells as the
 * header. Cells are separated by ',', surrounding blanks are trimmed, and a cell may
 * be quoted ("a, b" with "" for a quote) to hold commas. A caller declares its
 * columns in a table (name, type, range, default) like the key tables of de_conf.h:
 * the header must name every required column, may omit optional ones (their default
 * applies; so does an empty cell of an optional column), and must not name unknown
 * or repeated columns. Every cell is checked
 * (a number, an integer, within range) and nothing is skipped silently: the first
 * bad cell is an error "FILE:LINE:COLUMN: NAME: what is wrong". */
#ifndef DE_CSV_H
#define DE_CSV_H

#include <stdio.h>

#include "de_error.h"

typedef enum de_csv_type {
    DE_CSV_NUMBER, /* finite double */
    DE_CSV_INT,    /* integral number (stored as double) */
    DE_CSV_STRING  /* any text, may be empty */
} de_csv_type;

typedef struct de_csv_col {
    const char *name;
    de_csv_type type;
    int required;     /* 1: the header must have it; 0: may be absent (def applies) */
    double min, max;  /* inclusive range of NUMBER and INT cells */
    const char *def;  /* value of an absent optional column, as text (NULL: 0 or "") */
    const char *help; /* unit and meaning, for documentation */
} de_csv_col;

/* The header must be exactly the declared columns, in their order (no optional
 * columns, no reordering). */
#define DE_CSV_EXACT 1

/* A loaded table. Rows are in file order; cells are addressed by the index of the
 * column in the caller's table. */
typedef struct de_csv {
    char *path;
    const de_csv_col *cols; /* borrowed: the caller's table, must outlive this */
    int n_cols;
    int *file_col;          /* [n_cols] 1-based column in the file, 0 when absent */
    int n_rows;
    int *line;              /* [n_rows] line number of each row */
    double *num;            /* [n_rows * n_cols] numeric cells (0 for strings) */
    char **str;             /* [n_rows * n_cols] string cells (NULL for numbers) */
} de_csv;

/* Reads path against cols[0..n_cols-1]; flags: 0 or DE_CSV_EXACT. A file without
 * data rows is an error. On success *out is owned by the caller (de_csv_destroy);
 * on failure *out is NULL and err names file, line, column. */
int de_csv_load(const char *path, const de_csv_col *cols, int n_cols, int flags, de_csv **out, de_err *err);
void de_csv_destroy(de_csv *t); /* NULL is a no-op */

double de_csv_num(const de_csv *t, int row, int col);
const char *de_csv_str(const de_csv *t, int row, int col);

/* Index of a declared column by name; -1 if not declared. */
int de_csv_col_index(const de_csv *t, const char *name);

/* Sets err to "FILE:LINE:COLUMN: NAME: <message>" for cell (row, col) and returns
 * code: for checks that depend on several cells or rows. */
int de_csv_err(const de_csv *t, int row, int col, de_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Prints a column table as documentation. */
void de_csv_print_cols(FILE *out, const char *title, const de_csv_col *cols, int n_cols);

/* Creates dir/name for writing and writes the header line. NULL with *rc = DE_EIO and err
 * naming the file when it cannot be written (*rc untouched on success): the time series of
 * sim and run, opened in a row as `if (!rc) f = de_csv_create(...)`. */
FILE *de_csv_create(const char *dir, const char *name, const char *header, de_err *err, int *rc);

#endif
