/* Element types of NumPy arrays and PyTorch storages, and the copy of a
 * strided view of raw little-endian elements into a contiguous uf_array.
 * float16 and bfloat16 widen to float32 (exactly); int16, int8, uint8 and
 * bool widen to int32; float64, float32, int64 and int32 are kept. */
#ifndef UF_PYARRAY_H
#define UF_PYARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/array.h"

typedef enum uf_pyelem {
    UF_PYE_F64,
    UF_PYE_F32,
    UF_PYE_F16,
    UF_PYE_BF16,
    UF_PYE_I64,
    UF_PYE_I32,
    UF_PYE_I16,
    UF_PYE_I8,
    UF_PYE_U8,
    UF_PYE_BOOL,
} uf_pyelem;

size_t uf_pyelem_size(uf_pyelem t);
/* NumPy's name: "float16", "int64", "bool", ... */
const char *uf_pyelem_name(uf_pyelem t);
/* The uf_array type an element type is converted to. */
uf_dtype uf_pyelem_target(uf_pyelem t);
/* NumPy's dtype string without byte order ("f8", "u1", "b1", ...); -1 if unknown. */
int uf_pyelem_from_numpy(const char *code, uf_pyelem *t);

/* IEEE half (binary16) and bfloat16 bit patterns to float, exactly. */
float uf_half_to_float(uint16_t h);
float uf_bf16_to_float(uint16_t h);

/* A strided view: element (i0, i1, ...) lives at index
 * offset + sum_k i_k * stride[k] of src (elements of type elem, little-endian).
 * Checks that every index lies inside src's count elements, then fills out
 * (allocated here, C order, shape copied) with the converted elements.
 * what names the array in messages ("file: tensor 'fc.weight'"). */
int uf_pyarray_gather(const void *src, int64_t count, uf_pyelem elem, int ndim, const int64_t *shape,
                      const int64_t *stride, int64_t offset, uf_array *out, const char *what, uf_err *e);

/* Converts a to type t into out (a fresh array). Every conversion must be
 * exact, except float64 -> float32, which rounds to nearest (a finite value
 * that overflows is an error): float -> int needs integral values in range,
 * int -> float needs values the float represents exactly, int64 -> int32
 * needs values in range. */
int uf_pyarray_cast(const uf_array *a, uf_dtype t, uf_array *out, const char *what, uf_err *e);

#endif
