#define _POSIX_C_SOURCE 200809L
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "../core/fileio.h"

void uf_table_init(uf_table *t, int ncols, const char *const *cols)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->cols = malloc(sizeof(char *) * (size_t)ncols);
    for (int c = 0; c < ncols; c++)
        t->cols[c] = strdup(cols[c]);
}

void uf_table_add(uf_table *t, const char *const *values)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->cells = realloc(t->cells, sizeof(char *) * (size_t)t->cap * (size_t)t->ncols);
    }
    for (int c = 0; c < t->ncols; c++)
        t->cells[(long)t->nrows * t->ncols + c] = strdup(values[c] ? values[c] : "");
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
