/* Archives read in place with libarchive: tar, tar.gz, zip, and archives nested inside them (the
 * ImageNet train tar holds 1000 tars; caltech-101.zip holds a tar.gz). Nothing is extracted to disk.
 * Member names of nested archives are joined with '/': "n01440764.tar/n01440764_10026.JPEG". */
#ifndef UF_DATA_ARCHIVE_H
#define UF_DATA_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct uf_arc_entry {
    const char *name; /* full path, nested archives joined with '/' */
    int64_t size;
    int64_t offset;   /* where the bytes lie, unchanged, in the outermost file (uncompressed tars,
                         nested or not), else -1 */
    void *impl;
} uf_arc_entry;

/* Called for every regular member; returns 0 to go on, 1 to stop the walk, -1 on error (with e set). */
typedef int (*uf_arc_fn)(void *ctx, const uf_arc_entry *en, uf_err *e);
/* Whether a member is itself an archive to walk into. */
typedef int (*uf_arc_descend_fn)(void *ctx, const char *name);

/* Walks the archive at path. Members that descend() accepts are opened as archives and walked in
 * place instead of being reported; descend NULL walks into none. */
int uf_arc_walk(const char *path, uf_arc_descend_fn descend, uf_arc_fn fn, void *ctx, uf_err *e);
/* Inside fn: reads the current member's bytes (en->size of them) into buf. */
int uf_arc_entry_read(const uf_arc_entry *en, void *buf, uf_err *e);
/* descend() that accepts names ending in .tar, .tar.gz, .tgz or .zip. */
int uf_arc_descend_archives(void *ctx, const char *name);

/* Reads one member (full nested name) into a malloc'ed buffer. */
int uf_arc_read_member(const char *path, const char *member, void **buf, size_t *len, uf_err *e);

/* Every regular member of an archive (nested archives walked into): name, offset (-1 when not
 * stored unchanged) and size. Cached as "<archive>.<size>.<mtime>.members.tsv" in cache_dir (NULL:
 * $UOTFT_CACHE, else .uotft-cache beside the archive), so a large archive is walked once. */
typedef struct uf_arc_index {
    int n;
    char **name;
    int64_t *offset, *size;
    char *buf;
} uf_arc_index;

int uf_arc_index_load(const char *archive, const char *cache_dir, uf_arc_index *ix, uf_err *e);
void uf_arc_index_free(uf_arc_index *ix);

/* Where one member's bytes can be read at random: (file, offset, size). */
typedef struct uf_blob {
    int file; /* 0: the archive itself, 1: the pack */
    int64_t offset, size;
} uf_blob;

/* Random access to a chosen set of members. Members stored unchanged in the archive (uncompressed
 * tars, nested too) are read where they lie; the others are copied once, in one pass, into a pack
 * file, cached beside the member index and keyed by the set of members. */
typedef struct uf_arc_store {
    int fd[2];
    char path[2][4608];
    int n;
    uf_blob *blob; /* one per requested member, in request order */
} uf_arc_store;

int uf_arc_store_open(uf_arc_store *s, const char *archive, const char *cache_dir, int n, char *const *members,
                      uf_err *e);
/* Reads member i (thread-safe: pread). *buf is malloc'ed. */
int uf_arc_store_get(const uf_arc_store *s, int i, void **buf, size_t *len, uf_err *e);
void uf_arc_store_close(uf_arc_store *s);

#endif
