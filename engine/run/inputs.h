/* Input files loaded once per run and shared by its jobs (the ImageNet means
 * are read by every job of a manifest). */
#ifndef UF_INPUTS_H
#define UF_INPUTS_H

#include "../core/err.h"
#include "../select/classes.h"

typedef struct uf_matrix {
    char *path;
    double *data;
    int rows, cols;
} uf_matrix;

/* Entries are allocated one by one so the pointers handed out stay valid. */
typedef struct uf_inputs {
    int n, nclasses;
    uf_matrix **mats;
    struct uf_classes_entry {
        char *path;
        uf_classes classes;
    } **cls;
} uf_inputs;

/* A float matrix from .npy (a 1-D array reads as (n, 1)); NaN/Inf rejected. */
int uf_inputs_matrix(uf_inputs *in, const char *path, const uf_matrix **out, uf_err *e);
int uf_inputs_classes(uf_inputs *in, const char *path, const uf_classes **out, uf_err *e);
void uf_inputs_free(uf_inputs *in);

#endif
