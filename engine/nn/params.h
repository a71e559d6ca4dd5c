/* A model's tensors live in one contiguous float buffer described by a table
 * (name, shape, offset, weight-decay flag, learning-rate group), llm.c's
 * pattern: gradients and momentum use the same offsets, so zeroing, the
 * optimiser step and checkpointing are flat loops over `total` floats.
 * Names follow torchvision's state_dict ("layer1.0.conv1.weight"), so files
 * map onto a model by name. */
#ifndef UF_NN_PARAMS_H
#define UF_NN_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define UF_NAME_MAX 96
#define UF_PARAM_DIMS 4

typedef struct uf_pdesc {
    char name[UF_NAME_MAX];
    int ndim;
    int64_t shape[UF_PARAM_DIMS];
    size_t offset, count; /* in floats; offsets are 16-float aligned */
    int decay;            /* 1: weight decay applies */
    int group;            /* learning-rate group (0 backbone, 1 heads) */
} uf_pdesc;

typedef struct uf_params {
    int n, cap;
    uf_pdesc *d;
    size_t total;       /* floats, including alignment padding */
    float *w, *g, *m;   /* values, gradients, momentum (g and m NULL for buffers) */
} uf_params;

/* Appends a descriptor (before uf_params_alloc); returns its index or -1. */
int uf_params_add(uf_params *p, const char *name, int ndim, const int64_t *shape, int decay, int group,
                  uf_err *e);
/* Allocates the zeroed value buffer and, with grads, gradient and momentum. */
int uf_params_alloc(uf_params *p, int grads, uf_err *e);
void uf_params_free(uf_params *p);
int uf_params_find(const uf_params *p, const char *name);
void uf_params_zero_grad(uf_params *p);
/* Number of real elements (no padding). */
size_t uf_params_count(const uf_params *p);
/* "(64, 3, 7, 7)" */
void uf_pdesc_shape_str(const uf_pdesc *d, char *buf, size_t n);

#endif
