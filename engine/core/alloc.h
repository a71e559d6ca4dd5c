/* Checked allocation, the engine's one idiom: a failed or overflowing request
 * fills the uf_err with the size and the source line and returns NULL, so the
 * caller takes the ordinary error path (core/err.h) instead of dereferencing
 * NULL or allocating a wrapped-around size. A zero size asks for one byte, so
 * NULL always means failure.
 *
 *     double *x = uf_calloc(n, sizeof *x, e);
 *     if (!x)
 *         return -1;
 */
#ifndef UF_ALLOC_H
#define UF_ALLOC_H

#include <stddef.h>

#include "err.h"

/* n bytes, uninitialised */
#define uf_alloc(n, e) uf_alloc_at(1, (n), 0, __FILE__, __LINE__, (e))
/* count * size bytes, zeroed; the product is checked for overflow */
#define uf_calloc(count, size, e) uf_alloc_at((count), (size), 1, __FILE__, __LINE__, (e))
/* p resized to count * size bytes; on failure p is left as it was */
#define uf_realloc(p, count, size, e) uf_realloc_at((p), (count), (size), __FILE__, __LINE__, (e))
/* copies of a string (s must not be NULL) and of its first n bytes at most */
#define uf_strdup(s, e) uf_strndup_at((s), (size_t)-1, __FILE__, __LINE__, (e))
#define uf_strndup(s, n, e) uf_strndup_at((s), (n), __FILE__, __LINE__, (e))
/* count floats, uninitialised, aligned to 64 bytes (a cache line, one AVX-512 vector) for the
 * network's kernels; free() releases them */
#define uf_alloc_floats(count, e) uf_floats_at((count), __FILE__, __LINE__, (e))

void *uf_alloc_at(size_t count, size_t size, int zero, const char *file, int line, uf_err *e);
void *uf_realloc_at(void *p, size_t count, size_t size, const char *file, int line, uf_err *e);
char *uf_strndup_at(const char *s, size_t n, const char *file, int line, uf_err *e);
float *uf_floats_at(size_t count, const char *file, int line, uf_err *e);

#endif
