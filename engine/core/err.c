#define _POSIX_C_SOURCE 200809L
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int uf_fail(uf_err *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Joins prefix and message with one ": ". Callers often end a prefix with ": " themselves,
 * and a part may be empty; either gave messages like "x split: : in y: : z". */
int uf_wrap(uf_err *e, const char *fmt, ...)
{
    if (e) {
        char prefix[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        size_t plen = strlen(prefix);
        while (plen && (prefix[plen - 1] == ' ' || prefix[plen - 1] == ':'))
            prefix[--plen] = '\0';
        size_t cap = sizeof e->msg, ml = strnlen(e->msg, cap - 1);
        const char *sep = plen && ml ? ": " : "";
        size_t pl = plen + strlen(sep);
        if (ml > cap - 1 - pl)
            ml = cap - 1 - pl;
        memmove(e->msg + pl, e->msg, ml);
        e->msg[pl + ml] = '\0';
        memcpy(e->msg, prefix, plen);
        memcpy(e->msg + plen, sep, strlen(sep));
    }
    return -1;
}
