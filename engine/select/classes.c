#include "classes.h"

#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

int uf_classes_read(const char *path, uf_classes *c, uf_err *e)
{
    memset(c, 0, sizeof *c);
    if (uf_tsv_read(path, &c->table, e))
        return -1;
    const uf_tsv *t = &c->table;
    int ci = uf_tsv_col(t, "concept"), ni = uf_tsv_col(t, "name"), ii = uf_tsv_col(t, "index");
    if (ci < 0 || ni < 0) {
        uf_classes_free(c);
        return uf_fail(e, "%s: class table needs the columns 'concept' and 'name'", path);
    }
    c->n = t->nrows;
    c->concept = uf_calloc((size_t)c->n + 1, sizeof *c->concept, e);
    c->name = c->concept ? uf_calloc((size_t)c->n + 1, sizeof *c->name, e) : NULL;
    if (!c->name) {
        uf_classes_free(c);
        return uf_wrap(e, "%s", path);
    }
    for (int r = 0; r < c->n; r++) {
        if (ii >= 0) {
            char *end;
            long v = strtol(uf_tsv_at(t, r, ii), &end, 10);
            if (*end || v != r) {
                uf_fail(e, "%s: data row %d has index '%s', expected %d", path, r + 1,
                        uf_tsv_at(t, r, ii), r);
                uf_classes_free(c);
                return -1;
            }
        }
        c->concept[r] = uf_tsv_at(t, r, ci);
        c->name[r] = uf_tsv_at(t, r, ni);
    }
    return 0;
}

void uf_classes_free(uf_classes *c)
{
    free(c->concept);
    free(c->name);
    uf_tsv_free(&c->table);
    memset(c, 0, sizeof *c);
}

int uf_classes_mask(const uf_classes *c, const char *concept, unsigned char *mask)
{
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        mask[i] = strcmp(c->concept[i], concept) == 0;
        n += mask[i];
    }
    return n;
}
