/* File helpers. Every result file is written through uf_out: the bytes go to
 * a temporary name beside the target and only a successful commit renames it
 * into place, so a crash or an error never leaves a partial file that looks
 * complete. */
#ifndef UF_FILEIO_H
#define UF_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

typedef struct uf_out {
    FILE *f;
    char path[4096];
    char tmp[4200];
} uf_out;

/* Creates missing parent folders and opens "<path>.tmp.<pid>". */
int uf_out_open(uf_out *o, const char *path, uf_err *e);
/* Flushes, closes and renames onto the final path; on failure removes the
 * temporary file. */
int uf_out_commit(uf_out *o, uf_err *e);
/* Closes and removes the temporary file (safe to call after a failed commit). */
void uf_out_abort(uf_out *o);

/* mkdir -p */
int uf_mkdirs(const char *dir, uf_err *e);
int uf_is_file(const char *path);
int uf_is_dir(const char *path);
/* Reads a whole file; *buf is NUL-terminated (not counted in *len). */
int uf_read_file(const char *path, char **buf, size_t *len, uf_err *e);

#endif
