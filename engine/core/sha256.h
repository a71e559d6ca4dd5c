/* SHA-256 of files (OpenSSL's libcrypto), and the published sums of the
 * weight files the project reads (shared/paper/DATASETS.md, section 4), so a
 * loader can refuse a corrupt or substituted file by its well-known name. */
#ifndef UF_SHA256_H
#define UF_SHA256_H

#include <stddef.h>

#include "err.h"

/* hex: 64 lowercase hex digits and a NUL. */
int uf_sha256_file(const char *path, char hex[65], uf_err *e);
/* The sum of n bytes in memory; -1 only if libcrypto fails. */
int uf_sha256_mem(const void *data, size_t n, char hex[65]);
/* The sum of several buffers one after the other, as if they were one (no copy to join them). */
int uf_sha256_pieces(const void *const *pieces, const size_t *sizes, int npieces, char hex[65]);
/* The published sum of a file with this base name ("resnet18-f37072fd.pth"), or NULL. */
const char *uf_sha256_known(const char *basename);
/* When path's base name is in the table, checks the file's sum and fails with
 * the file, the expected and the actual sum on a mismatch; otherwise 0. A
 * recipe in $UOTFT_RECIPES that lists the name with a sum replaces the table's
 * (a fixture world's own files under the published names). */
int uf_sha256_check_known(const char *path, uf_err *e);

#endif
