#include "array.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static const struct {
    const char *descr;
    size_t size;
} dtypes[] = {
    [UF_F64] = {"<f8", 8},
    [UF_F32] = {"<f4", 4},
    [UF_I64] = {"<i8", 8},
    [UF_I32] = {"<i4", 4},
};

size_t uf_dtype_size(uf_dtype t) { return dtypes[t].size; }
const char *uf_dtype_descr(uf_dtype t) { return dtypes[t].descr; }

int uf_dtype_from_descr(const char *descr, uf_dtype *t)
{
    for (int i = 0; i < (int)(sizeof dtypes / sizeof dtypes[0]); i++)
        if (strcmp(descr, dtypes[i].descr) == 0) {
            *t = (uf_dtype)i;
            return 0;
        }
    return -1;
}

size_t uf_array_count(const uf_array *a)
{
    size_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        n *= (size_t)a->shape[i];
    return n;
}

int uf_array_alloc(uf_array *a, uf_dtype t, int ndim, const int64_t *shape, uf_err *e)
{
    memset(a, 0, sizeof *a);
    if (ndim < 0 || ndim > UF_MAX_DIMS)
        return uf_fail(e, "array rank %d not supported (at most %d)", ndim, UF_MAX_DIMS);
    a->dtype = t;
    a->ndim = ndim;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return uf_fail(e, "negative array dimension");
        a->shape[i] = shape[i];
        if (shape[i] && n > SIZE_MAX / 16 / (size_t)shape[i])
            return uf_fail(e, "array too large");
        n *= (size_t)shape[i];
    }
    a->data = uf_calloc(n ? n : 1, uf_dtype_size(t), e);
    if (!a->data)
        return -1;
    return 0;
}

void uf_array_free(uf_array *a)
{
    free(a->data);
    a->data = NULL;
    a->ndim = 0;
}

double uf_array_get(const uf_array *a, size_t i)
{
    switch (a->dtype) {
    case UF_F64: return ((const double *)a->data)[i];
    case UF_F32: return ((const float *)a->data)[i];
    case UF_I64: return (double)((const int64_t *)a->data)[i];
    case UF_I32: return ((const int32_t *)a->data)[i];
    }
    return 0;
}

void uf_shape_str(const uf_array *a, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < a->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)a->shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, a->ndim == 1 ? ",)" : ")");
}
