#define _POSIX_C_SOURCE 200809L
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/fileio.h"

/* Copies of n strings (NULL: "") into dst: all of them, or none and -1. */
static int copy_strings(char **dst, const char *const *src, int n, uf_err *e)
{
    for (int c = 0; c < n; c++)
        if (!(dst[c] = uf_strdup(src[c] ? src[c] : "", e))) {
            while (c--)
                free(dst[c]);
            return -1;
        }
    return 0;
}

void uf_table_init(uf_table *t, int ncols, const char *const *cols)
{
    memset(t, 0, sizeof *t);
    char **copy = uf_calloc((size_t)ncols, sizeof *copy, &t->err);
    if (!copy || copy_strings(copy, cols, ncols, &t->err)) {
        free(copy);
        return;
    }
    t->cols = copy;
    t->ncols = ncols;
}

void uf_table_add(uf_table *t, const char *const *values)
{
    if (t->err.msg[0])
        return;
    if (t->nrows == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        char **cells = uf_realloc(t->cells, (size_t)cap * (size_t)t->ncols, sizeof *cells, &t->err);
        if (!cells)
            return;
        t->cells = cells;
        t->cap = cap;
    }
    if (copy_strings(t->cells + (long)t->nrows * t->ncols, values, t->ncols, &t->err) == 0)
        t->nrows++;
}

int uf_table_col(const uf_table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c], name) == 0)
            return c;
    return -1;
}

static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int uf_table_write_csv(const uf_table *t, const char *path, uf_err *e)
{
    if (t->err.msg[0])
        return uf_fail(e, "%s: %s", path, t->err.msg);
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    for (int c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', o.f);
        put_field(o.f, t->cols[c]);
    }
    fputc('\n', o.f);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', o.f);
            put_field(o.f, uf_table_at(t, r, c));
        }
        fputc('\n', o.f);
    }
    return uf_out_commit(&o, e);
}

void uf_table_free(uf_table *t)
{
    for (long i = 0; i < (long)t->nrows * t->ncols; i++)
        free(t->cells[i]);
    for (int c = 0; c < t->ncols; c++)
        free(t->cols[c]);
    free(t->cells);
    free(t->cols);
    memset(t, 0, sizeof *t);
}
