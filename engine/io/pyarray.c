#include "pyarray.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Element bytes are copied as they are: the files are little-endian, and so must the host be. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "uotft reads little-endian data in place");

static const struct {
    const char *name, *numpy;
    size_t size;
    uf_dtype target;
} elems[] = {
    [UF_PYE_F64] = {"float64", "f8", 8, UF_F64}, [UF_PYE_F32] = {"float32", "f4", 4, UF_F32},
    [UF_PYE_F16] = {"float16", "f2", 2, UF_F32}, [UF_PYE_BF16] = {"bfloat16", NULL, 2, UF_F32},
    [UF_PYE_I64] = {"int64", "i8", 8, UF_I64},   [UF_PYE_I32] = {"int32", "i4", 4, UF_I32},
    [UF_PYE_I16] = {"int16", "i2", 2, UF_I32},   [UF_PYE_I8] = {"int8", "i1", 1, UF_I32},
    [UF_PYE_U8] = {"uint8", "u1", 1, UF_I32},    [UF_PYE_BOOL] = {"bool", "b1", 1, UF_I32},
};

size_t uf_pyelem_size(uf_pyelem t) { return elems[t].size; }
const char *uf_pyelem_name(uf_pyelem t) { return elems[t].name; }
uf_dtype uf_pyelem_target(uf_pyelem t) { return elems[t].target; }

int uf_pyelem_from_numpy(const char *code, uf_pyelem *t)
{
    for (int i = 0; i < (int)(sizeof elems / sizeof elems[0]); i++)
        if (elems[i].numpy && strcmp(code, elems[i].numpy) == 0) {
            *t = (uf_pyelem)i;
            return 0;
        }
    return -1;
}

float uf_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) { /* inf, nan */
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp) { /* normal: rebias 15 -> 127 */
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else { /* zero or subnormal: man x 2^-24, exact in float */
        float f = (float)man * 0x1p-24f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float uf_bf16_to_float(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Converts one source element at p into out's type at q. */
static void convert_one(const unsigned char *p, uf_pyelem elem, unsigned char *q)
{
    switch (elem) {
    case UF_PYE_F64: case UF_PYE_F32: case UF_PYE_I64: case UF_PYE_I32:
        memcpy(q, p, elems[elem].size);
        return;
    case UF_PYE_F16: case UF_PYE_BF16: {
        uint16_t h;
        memcpy(&h, p, 2);
        float f = elem == UF_PYE_F16 ? uf_half_to_float(h) : uf_bf16_to_float(h);
        memcpy(q, &f, 4);
        return;
    }
    case UF_PYE_I16: {
        int16_t s;
        memcpy(&s, p, 2);
        int32_t v = s;
        memcpy(q, &v, 4);
        return;
    }
    case UF_PYE_I8: {
        int32_t v = (int8_t)p[0];
        memcpy(q, &v, 4);
        return;
    }
    case UF_PYE_U8: case UF_PYE_BOOL: {
        int32_t v = p[0];
        memcpy(q, &v, 4);
        return;
    }
    }
}

int uf_pyarray_gather(const void *src, int64_t count, uf_pyelem elem, int ndim, const int64_t *shape,
                      const int64_t *stride, int64_t offset, uf_array *out, const char *what, uf_err *e)
{
    memset(out, 0, sizeof *out);
    if (ndim < 0 || ndim > UF_MAX_DIMS)
        return uf_fail(e, "%s: rank %d not supported (at most %d)", what, ndim, UF_MAX_DIMS);
    int empty = 0;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] < 0 || stride[k] < 0)
            return uf_fail(e, "%s: negative size or stride", what);
        empty |= shape[k] == 0;
    }
    if (!empty) { /* the last element reached must lie inside the source */
        int64_t last = offset;
        for (int k = 0; k < ndim; k++) {
            int64_t span;
            if (__builtin_mul_overflow(shape[k] - 1, stride[k], &span) || __builtin_add_overflow(last, span, &last))
                return uf_fail(e, "%s: size and stride overflow", what);
        }
        if (offset < 0 || last >= count)
            return uf_fail(e, "%s: view (offset %lld, last element %lld) outside its storage of %lld elements",
                           what, (long long)offset, (long long)last, (long long)count);
    }
    if (uf_array_alloc(out, elems[elem].target, ndim, shape, e))
        return uf_wrap(e, "%s", what);
    size_t n = uf_array_count(out), isz = elems[elem].size, osz = uf_dtype_size(out->dtype);
    if (n == 0)
        return 0;
    const unsigned char *base = (const unsigned char *)src + (size_t)offset * isz;
    unsigned char *q = out->data;

    int contiguous = 1;
    int64_t expect = 1;
    for (int k = ndim - 1; k >= 0; k--) {
        if (shape[k] != 1 && stride[k] != expect)
            contiguous = 0;
        expect *= shape[k];
    }
    if (contiguous && isz == osz) {
        memcpy(q, base, n * isz);
        return 0;
    }
    if (contiguous) {
        for (size_t i = 0; i < n; i++)
            convert_one(base + i * isz, elem, q + i * osz);
        return 0;
    }
    /* odometer over the outer dimensions; the innermost one is a strided run */
    int64_t idx[UF_MAX_DIMS] = {0};
    int64_t inner = ndim ? shape[ndim - 1] : 1, istride = ndim ? stride[ndim - 1] : 0;
    for (size_t done = 0; done < n; done += (size_t)inner) {
        int64_t at = 0;
        for (int k = 0; k < ndim - 1; k++)
            at += idx[k] * stride[k];
        for (int64_t j = 0; j < inner; j++, q += osz)
            convert_one(base + (size_t)(at + j * istride) * isz, elem, q);
        for (int k = ndim - 2; k >= 0; k--) {
            if (++idx[k] < shape[k])
                break;
            idx[k] = 0;
        }
    }
    return 0;
}

/* Exact conversions only (float64 -> float32 rounds); see the header. */
static int convert_value(double v, int64_t iv, int is_int, uf_dtype t, void *q)
{
    switch (t) {
    case UF_F64: {
        double d = is_int ? (double)iv : v;
        if (is_int && !(d < 0x1p63 && (int64_t)d == iv)) /* not representable */
            return -1;
        *(double *)q = d;
        return 0;
    }
    case UF_F32: {
        float f = is_int ? (float)iv : (float)v;
        if (is_int ? !(f < 0x1p63f && (int64_t)f == iv) : (isfinite(v) && !isfinite(f)))
            return -1;
        *(float *)q = f;
        return 0;
    }
    case UF_I64:
        if (!is_int) {
            if (!(v == floor(v) && v >= -0x1p63 && v < 0x1p63))
                return -1;
            iv = (int64_t)v;
        }
        *(int64_t *)q = iv;
        return 0;
    case UF_I32:
        if (!is_int) {
            if (!(v == floor(v) && v >= -0x1p31 && v < 0x1p31))
                return -1;
            iv = (int64_t)v;
        }
        if (iv < INT32_MIN || iv > INT32_MAX)
            return -1;
        *(int32_t *)q = (int32_t)iv;
        return 0;
    }
    return -1;
}

int uf_pyarray_cast(const uf_array *a, uf_dtype t, uf_array *out, const char *what, uf_err *e)
{
    if (uf_array_alloc(out, t, a->ndim, a->shape, e))
        return uf_wrap(e, "%s", what);
    size_t n = uf_array_count(a), osz = uf_dtype_size(t);
    int is_int = a->dtype == UF_I64 || a->dtype == UF_I32;
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        int64_t iv = 0;
        switch (a->dtype) {
        case UF_F64: v = ((const double *)a->data)[i]; break;
        case UF_F32: v = ((const float *)a->data)[i]; break;
        case UF_I64: iv = ((const int64_t *)a->data)[i]; break;
        case UF_I32: iv = ((const int32_t *)a->data)[i]; break;
        }
        if (convert_value(v, iv, is_int, t, (unsigned char *)out->data + i * osz)) {
            uf_array_free(out);
            char val[64];
            if (is_int)
                snprintf(val, sizeof val, "%lld", (long long)iv);
            else
                snprintf(val, sizeof val, "%.17g", v);
            return uf_fail(e, "%s: element %zu (%s) cannot be converted exactly from %s to %s", what, i, val,
                           uf_dtype_descr(a->dtype), uf_dtype_descr(t));
        }
    }
    return 0;
}
