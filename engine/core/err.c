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

int uf_wrap(uf_err *e, const char *fmt, ...)
{
    if (e) {
        char prefix[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        size_t pl = strlen(prefix) + 2, cap = sizeof e->msg;
        size_t ml = strnlen(e->msg, cap - 1);
        if (ml > cap - 1 - pl)
            ml = cap - 1 - pl;
        memmove(e->msg + pl, e->msg, ml);
        e->msg[pl + ml] = '\0';
        memcpy(e->msg, prefix, pl - 2);
        memcpy(e->msg + pl - 2, ": ", 2);
    }
    return -1;
}
