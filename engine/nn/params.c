#include "params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/array.h"

#define ALIGN 16 /* floats: 64 bytes, one cache line */

int uf_params_add(uf_params *p, const char *name, int ndim, const int64_t *shape, int decay, int group,
                  uf_err *e)
{
    if (strlen(name) >= UF_NAME_MAX)
        return uf_fail(e, "parameter name too long: %s", name);
    if (ndim < 1 || ndim > UF_PARAM_DIMS)
        return uf_fail(e, "%s: rank %d not supported", name, ndim);
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        uf_pdesc *d = uf_realloc(p->d, (size_t)cap, sizeof *d, e);
        if (!d)
            return -1;
        p->d = d;
        p->cap = cap;
    }
    uf_pdesc *d = &p->d[p->n];
    memset(d, 0, sizeof *d);
    strcpy(d->name, name);
    d->ndim = ndim;
    d->count = 1;
    for (int i = 0; i < ndim; i++) {
        d->shape[i] = shape[i];
        d->count *= (size_t)shape[i];
    }
    d->offset = p->total;
    d->decay = decay;
    d->group = group;
    p->total += (d->count + ALIGN - 1) / ALIGN * ALIGN;
    return p->n++;
}

/* n zeroed floats, 64-byte aligned */
static float *zeroed_floats(size_t n, uf_err *e)
{
    float *x = uf_alloc_floats(n, e);
    if (x)
        memset(x, 0, n * sizeof(float));
    return x;
}

int uf_params_alloc(uf_params *p, int grads, uf_err *e)
{
    if (!(p->w = zeroed_floats(p->total, e)) ||
        (grads && (!(p->g = zeroed_floats(p->total, e)) || !(p->m = zeroed_floats(p->total, e)))))
        return uf_wrap(e, "%zu parameters: ", p->total);
    return 0;
}

void uf_params_free(uf_params *p)
{
    free(p->d);
    free(p->w);
    free(p->g);
    free(p->m);
    memset(p, 0, sizeof *p);
}

int uf_params_find(const uf_params *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->d[i].name, name) == 0)
            return i;
    return -1;
}

void uf_params_zero_grad(uf_params *p)
{
    if (p->g)
        memset(p->g, 0, sizeof(float) * p->total);
}

size_t uf_params_count(const uf_params *p)
{
    size_t n = 0;
    for (int i = 0; i < p->n; i++)
        n += p->d[i].count;
    return n;
}

void uf_pdesc_shape_str(const uf_pdesc *d, char *buf, size_t n)
{
    uf_array a = {.dtype = UF_F32, .ndim = d->ndim};
    memcpy(a.shape, d->shape, sizeof(int64_t) * (size_t)d->ndim);
    uf_shape_str(&a, buf, n);
}
