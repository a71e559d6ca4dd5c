/* A growing byte buffer for building a file's image in memory. Appends do
 * not report failure one by one: an allocation failure sets oom, later
 * appends do nothing, and the builder checks oom once before using the bytes. */
#ifndef UF_BUF_H
#define UF_BUF_H

#include <stddef.h>

typedef struct uf_buf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} uf_buf;

void uf_buf_put(uf_buf *b, const void *x, size_t n);
/* Frees the bytes and empties the buffer. */
void uf_buf_free(uf_buf *b);

#endif
