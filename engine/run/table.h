/* A results table in long format (one row per measurement), written as CSV. */
#ifndef UF_TABLE_H
#define UF_TABLE_H

#include "../core/err.h"

typedef struct uf_table {
    int ncols, nrows, cap;
    char **cols;
    char **cells; /* nrows * ncols */
    uf_err err;   /* why init or add failed (the table then stops growing), "" while none has */
} uf_table;

/* init and add need no error check at each call: a failure is kept in err and reported by
 * uf_table_write_csv, so a run still ends with the table's error, not a crash. */
void uf_table_init(uf_table *t, int ncols, const char *const *cols);
/* Appends a row (copies ncols strings; NULL becomes ""). */
void uf_table_add(uf_table *t, const char *const *values);
int uf_table_col(const uf_table *t, const char *name);
static inline const char *uf_table_at(const uf_table *t, int r, int c) { return t->cells[(long)r * t->ncols + c]; }
/* RFC 4180 CSV through a temporary file renamed into place. */
int uf_table_write_csv(const uf_table *t, const char *path, uf_err *e);
void uf_table_free(uf_table *t);

#endif
