/* A dense C-order array with one of the element types the engine exchanges
 * with NumPy and PyTorch. It owns its data. */
#ifndef UF_ARRAY_H
#define UF_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define UF_MAX_DIMS 8

typedef enum uf_dtype { UF_F64, UF_F32, UF_I64, UF_I32 } uf_dtype;

typedef struct uf_array {
    uf_dtype dtype;
    int ndim;
    int64_t shape[UF_MAX_DIMS];
    void *data;
} uf_array;

size_t uf_dtype_size(uf_dtype t);
/* NumPy's descr for the type: "<f8", "<f4", "<i8", "<i4". */
const char *uf_dtype_descr(uf_dtype t);
int uf_dtype_from_descr(const char *descr, uf_dtype *t);

size_t uf_array_count(const uf_array *a);
int uf_array_alloc(uf_array *a, uf_dtype t, int ndim, const int64_t *shape, uf_err *e);
void uf_array_free(uf_array *a);
/* Element i converted to double. */
double uf_array_get(const uf_array *a, size_t i);
/* "(200, 512)" */
void uf_shape_str(const uf_array *a, char *buf, size_t n);

#endif
