#include "tsv.h"

#include <stdlib.h>
#include <string.h>

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

int uf_tsv_read(const char *path, uf_tsv *t, uf_err *e)
{
    memset(t, 0, sizeof *t);
    size_t len;
    if (uf_read_file(path, &t->buf, &len, e))
        return -1;
    if (memchr(t->buf, '\0', len)) {
        uf_tsv_free(t);
        return uf_fail(e, "%s: binary data in a text table", path);
    }
    /* count lines to size the arrays */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += t->buf[i] == '\n';
    char **rows = calloc(lines, sizeof *rows);
    int nrows = 0;
    for (char *p = t->buf; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[--l] = '\0';
        if (l)
            rows[nrows++] = p;
        p = nl ? nl + 1 : NULL;
    }
    if (nrows == 0) {
        free(rows);
        uf_tsv_free(t);
        return uf_fail(e, "%s: empty table (no header row)", path);
    }
    t->ncols = 1;
    for (const char *q = rows[0]; *q; q++)
        t->ncols += *q == '\t';
    t->header = calloc((size_t)t->ncols, sizeof *t->header);
    split(rows[0], t->header, t->ncols);
    t->nrows = nrows - 1;
    t->cell = calloc((size_t)t->nrows * t->ncols + 1, sizeof *t->cell);
    for (int r = 0; r < t->nrows; r++) {
        int n = split(rows[r + 1], t->cell + (size_t)r * t->ncols, t->ncols);
        if (n != t->ncols) {
            free(rows);
            uf_tsv_free(t);
            return uf_fail(e, "%s: data row %d has %d fields, the header has %d", path, r + 1, n,
                           t->ncols);
        }
    }
    free(rows);
    return 0;
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
