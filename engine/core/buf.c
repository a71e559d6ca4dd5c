#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void uf_buf_put(uf_buf *b, const void *x, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap - b->n < n)
            cap *= 2;
        uf_err ignored; /* failure is reported once, through oom (buf.h) */
        unsigned char *p = uf_realloc(b->p, cap, 1, &ignored);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}

void uf_buf_free(uf_buf *b)
{
    free(b->p);
    *b = (uf_buf){0};
}
