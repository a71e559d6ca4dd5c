/* One error path for the whole library: a failing function fills a uf_err
 * with a message that names the file and the reason, and returns -1.
 * Only the CLI prints it and chooses the exit status. */
#ifndef UF_ERR_H
#define UF_ERR_H

typedef struct uf_err {
    char msg[1024];
} uf_err;

/* Formats into e->msg (when e is not NULL) and returns -1, so callers can
 * write `return uf_fail(e, "%s: truncated header", path);`. */
int uf_fail(uf_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends context to an existing message, joined by ": " (written once even when the
 * context ends with it; none when either part is empty); returns -1. */
int uf_wrap(uf_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
