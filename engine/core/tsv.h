/* Tab-separated tables with a header row, read whole into memory. */
#ifndef UF_TSV_H
#define UF_TSV_H

#include "err.h"

typedef struct uf_tsv {
    int ncols, nrows;
    char **header; /* ncols */
    char **cell;   /* nrows * ncols, row-major; pointers into buf */
    char *buf;
} uf_tsv;

/* Every row must have as many fields as the header; blank lines and a
 * trailing CR are ignored. */
int uf_tsv_read(const char *path, uf_tsv *t, uf_err *e);
void uf_tsv_free(uf_tsv *t);
/* Index of the named column, or -1. */
int uf_tsv_col(const uf_tsv *t, const char *name);
static inline const char *uf_tsv_at(const uf_tsv *t, int row, int col)
{
    return t->cell[(long)row * t->ncols + col];
}

#endif
