#define _POSIX_C_SOURCE 200809L
#include "inputs.h"

#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../io/npy.h"

int uf_inputs_matrix(uf_inputs *in, const char *path, const uf_matrix **out, uf_err *e)
{
    for (int i = 0; i < in->n; i++)
        if (strcmp(in->mats[i]->path, path) == 0) {
            *out = in->mats[i];
            return 0;
        }
    uf_matrix *mx = uf_calloc(1, sizeof *mx, e);
    if (!mx || uf_npy_read_matrix(path, &mx->data, &mx->rows, &mx->cols, e)) {
        free(mx);
        return -1;
    }
    uf_matrix **grown = (mx->path = uf_strdup(path, e)) ? uf_realloc(in->mats, (size_t)in->n + 1, sizeof *grown, e) : NULL;
    if (!grown) {
        free(mx->path);
        free(mx->data);
        free(mx);
        return -1;
    }
    in->mats = grown;
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
    struct uf_classes_entry *c = uf_calloc(1, sizeof *c, e);
    if (!c || uf_classes_read(path, &c->classes, e)) {
        free(c);
        return -1;
    }
    struct uf_classes_entry **grown =
        (c->path = uf_strdup(path, e)) ? uf_realloc(in->cls, (size_t)in->nclasses + 1, sizeof *grown, e) : NULL;
    if (!grown) {
        free(c->path);
        uf_classes_free(&c->classes);
        free(c);
        return -1;
    }
    in->cls = grown;
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
