#include "pkfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "pickle.h"

/* Loads the whole file as one pickle; trailing bytes after STOP are an error. */
static int load(const char *path, char **buf, uf_pk_doc *doc, const uf_pk **root, uf_err *e)
{
    size_t len, used;
    memset(doc, 0, sizeof *doc);
    if (uf_read_file(path, buf, &len, e))
        return -1;
    uf_pk_opts o = {.name = path};
    if (uf_pk_load(*buf, len, &o, doc, root, &used, e))
        return -1;
    if (used != len)
        return uf_fail(e, "%s: %zu bytes after the end of the pickle", path, len - used);
    return 0;
}

int uf_pickle_read_array(const char *path, uf_array *out, uf_err *e)
{
    char *buf = NULL;
    uf_pk_doc doc;
    const uf_pk *v;
    int rc = load(path, &buf, &doc, &v, e);
    if (rc == 0 && (v->type != UF_PK_NDARRAY || !v->built))
        rc = uf_fail(e, "%s: holds a %s, not a NumPy array", path, uf_pk_type_name(v));
    if (rc == 0) {
        char what[4200];
        snprintf(what, sizeof what, "%s: array", path);
        int64_t count = (int64_t)(v->base->len / uf_pyelem_size(v->elem));
        rc = uf_pyarray_gather(v->base->s, count, v->elem, v->ndim, v->shape, v->stride, 0, out, what, e);
    }
    uf_pk_doc_free(&doc);
    free(buf);
    return rc;
}

void uf_strings_free(char **strs, int n)
{
    for (int i = 0; strs && i < n; i++)
        free(strs[i]);
    free(strs);
}

int uf_pickle_read_strings(const char *path, char ***strs, int *n, uf_err *e)
{
    char *buf = NULL;
    uf_pk_doc doc;
    const uf_pk *v;
    *strs = NULL;
    *n = 0;
    int rc = load(path, &buf, &doc, &v, e);
    if (rc == 0 && v->type != UF_PK_LIST && v->type != UF_PK_TUPLE)
        rc = uf_fail(e, "%s: holds a %s, not a list of strings", path, uf_pk_type_name(v));
    if (rc == 0 && v->n > (size_t)1 << 30)
        rc = uf_fail(e, "%s: list too long", path);
    if (rc == 0 && !(*strs = uf_calloc(v->n, sizeof **strs, e)))
        rc = uf_wrap(e, "%s", path);
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        const uf_pk *s = v->items[i];
        if (s->type != UF_PK_STR || strlen(s->s) != s->len)
            rc = uf_fail(e, "%s: item %zu is a %s, not a string without NUL bytes", path, i,
                         uf_pk_type_name(s));
        else if (!((*strs)[i] = uf_strdup(s->s, e)))
            rc = uf_wrap(e, "%s", path);
        else
            *n = (int)i + 1;
    }
    if (rc) {
        uf_strings_free(*strs, *n);
        *strs = NULL;
        *n = 0;
    }
    uf_pk_doc_free(&doc);
    free(buf);
    return rc;
}
