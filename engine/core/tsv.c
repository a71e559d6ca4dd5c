#include "tsv.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "fileio.h"

/* Splits a line in place at tabs into at most max fields; returns the
 * number of fields the line has. */
static int split(char *line, char **out, int max)
{
    int n = 0;
    for (char *p = line;; p++) {
        char *tab = strchr(p, '\t');
        if (n < max)
            out[n] = p;
        n++;
        if (!tab)
            break;
        if (n <= max)
            *tab = '\0';
        p = tab;
    }
    return n;
}

/* The non-blank lines of buf (len bytes), cut in place and without a trailing CR: *rows, *n. */
static int cut_lines(char *buf, size_t len, char ***rows, int *n, uf_err *e)
{
    size_t lines = 1; /* counted first, to size the array */
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    if (!(*rows = uf_calloc(lines, sizeof **rows, e)))
        return -1;
    *n = 0;
    for (char *p = buf; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[--l] = '\0';
        if (l)
            (*rows)[(*n)++] = p;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* The header from rows[0], the cells from the rest, each row checked against the header. */
static int cut_cells(uf_tsv *t, char **rows, int nrows, const char *path, uf_err *e)
{
    t->ncols = 1;
    for (const char *q = rows[0]; *q; q++)
        t->ncols += *q == '\t';
    t->nrows = nrows - 1;
    if (!(t->header = uf_calloc((size_t)t->ncols, sizeof *t->header, e)) ||
        !(t->cell = uf_calloc((size_t)t->nrows * t->ncols + 1, sizeof *t->cell, e)))
        return uf_wrap(e, "%s", path);
    split(rows[0], t->header, t->ncols);
    for (int r = 0; r < t->nrows; r++) {
        int n = split(rows[r + 1], t->cell + (size_t)r * t->ncols, t->ncols);
        if (n != t->ncols)
            return uf_fail(e, "%s: data row %d has %d fields, the header has %d", path, r + 1, n, t->ncols);
    }
    return 0;
}

int uf_tsv_read(const char *path, uf_tsv *t, uf_err *e)
{
    memset(t, 0, sizeof *t);
    size_t len;
    if (uf_read_file(path, &t->buf, &len, e))
        return -1;
    char **rows = NULL;
    int nrows = 0, rc = 0;
    if (memchr(t->buf, '\0', len))
        rc = uf_fail(e, "%s: binary data in a text table", path);
    else if (cut_lines(t->buf, len, &rows, &nrows, e))
        rc = uf_wrap(e, "%s", path);
    else if (nrows == 0)
        rc = uf_fail(e, "%s: empty table (no header row)", path);
    else
        rc = cut_cells(t, rows, nrows, path, e);
    free(rows);
    if (rc)
        uf_tsv_free(t);
    return rc;
}

void uf_tsv_free(uf_tsv *t)
{
    free(t->header);
    free(t->cell);
    free(t->buf);
    memset(t, 0, sizeof *t);
}

int uf_tsv_col(const uf_tsv *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->header[i], name) == 0)
            return i;
    return -1;
}
