#define _POSIX_C_SOURCE 200809L
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* count * size in *bytes (at least 1), or -1 with the error filled when it overflows */
static int product(size_t count, size_t size, size_t *bytes, const char *file, int line, uf_err *e)
{
    if (size && count > SIZE_MAX / size)
        return uf_fail(e, "allocation of %zu x %zu bytes overflows at %s:%d", count, size, file, line);
    *bytes = count && size ? count * size : 1;
    return 0;
}

void *uf_alloc_at(size_t count, size_t size, int zero, const char *file, int line, uf_err *e)
{
    size_t bytes;
    if (product(count, size, &bytes, file, line, e))
        return NULL;
    void *p = zero ? calloc(bytes, 1) : malloc(bytes);
    if (!p)
        uf_fail(e, "out of memory (%zu bytes) at %s:%d", bytes, file, line);
    return p;
}

void *uf_realloc_at(void *p, size_t count, size_t size, const char *file, int line, uf_err *e)
{
    size_t bytes;
    if (product(count, size, &bytes, file, line, e))
        return NULL;
    void *q = realloc(p, bytes);
    if (!q)
        uf_fail(e, "out of memory (%zu bytes) at %s:%d", bytes, file, line);
    return q;
}

char *uf_strndup_at(const char *s, size_t n, const char *file, int line, uf_err *e)
{
    size_t len = strnlen(s, n);
    char *c = uf_alloc_at(1, len + 1, 0, file, line, e);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

float *uf_floats_at(size_t count, const char *file, int line, uf_err *e)
{
    size_t bytes = 0;
    if (product(count, sizeof(float), &bytes, file, line, e))
        return NULL;
    if (bytes > SIZE_MAX - 63) {
        uf_fail(e, "allocation of %zu floats overflows at %s:%d", count, file, line);
        return NULL;
    }
    /* aligned_alloc wants a multiple of the alignment */
    float *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p)
        uf_fail(e, "out of memory (%zu bytes) at %s:%d", bytes, file, line);
    return p;
}
