#define _POSIX_C_SOURCE 200809L
#include "inputs.h"

#include <stdlib.h>
#include <string.h>

#include "../io/npy.h"

int uf_inputs_matrix(uf_inputs *in, const char *path, const uf_matrix **out, uf_err *e)
{
    for (int i = 0; i < in->n; i++)
        if (strcmp(in->mats[i]->path, path) == 0) {
            *out = in->mats[i];
            return 0;
        }
    uf_matrix *mx = calloc(1, sizeof *mx);
    if (!mx || uf_npy_read_matrix(path, &mx->data, &mx->rows, &mx->cols, e)) {
        free(mx);
        return mx ? -1 : uf_fail(e, "out of memory");
    }
    mx->path = strdup(path);
    in->mats = realloc(in->mats, sizeof *in->mats * (size_t)(in->n + 1));
    in->mats[in->n++] = mx;
    *out = mx;
    return 0;
}

int uf_inputs_classes(uf_inputs *in, const char *path, const uf_classes **out, uf_err *e)
{
    for (int i = 0; i < in->nclasses; i++)
        if (strcmp(in->cls[i]->path, path) == 0) {
            *out = &in->cls[i]->classes;
            return 0;
        }
    struct uf_classes_entry *c = calloc(1, sizeof *c);
    if (!c || uf_classes_read(path, &c->classes, e)) {
        free(c);
        return c ? -1 : uf_fail(e, "out of memory");
    }
    c->path = strdup(path);
    in->cls = realloc(in->cls, sizeof *in->cls * (size_t)(in->nclasses + 1));
    in->cls[in->nclasses++] = c;
    *out = &c->classes;
    return 0;
}

void uf_inputs_free(uf_inputs *in)
{
    for (int i = 0; i < in->n; i++) {
        free(in->mats[i]->path);
        free(in->mats[i]->data);
        free(in->mats[i]);
    }
    for (int i = 0; i < in->nclasses; i++) {
        free(in->cls[i]->path);
        uf_classes_free(&in->cls[i]->classes);
        free(in->cls[i]);
    }
    free(in->mats);
    free(in->cls);
    memset(in, 0, sizeof *in);
}
