#define _GNU_SOURCE
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fileio.h"

/* One open archive: the outermost file, or a member of its parent read through the parent. */
typedef struct level {
    struct archive *a;
    struct level *parent;
    int64_t base; /* offset of this archive's first byte in the outermost file, -1 if not there unchanged */
    char prefix[4100];
    char buf[1 << 16];
} level;

typedef struct walker {
    const char *path;
    uf_arc_descend_fn descend;
    uf_arc_fn fn;
    void *ctx;
} walker;

static la_ssize_t child_read(struct archive *a, void *ctx, const void **out)
{
    (void)a;
    level *lv = ctx;
    *out = lv->buf;
    return archive_read_data(lv->parent->a, lv->buf, sizeof lv->buf);
}

static struct archive *new_reader(void)
{
    struct archive *a = archive_read_new();
    if (a) {
        archive_read_support_filter_all(a);
        archive_read_support_format_all(a);
    }
    return a;
}

static int arc_fail(const level *lv, const char *path, const char *what, uf_err *e)
{
    const char *msg = archive_error_string(lv->a);
    /* an error inside a nested archive is often the parent's (a truncated outer file) */
    for (const level *p = lv->parent; p && !msg; p = p->parent)
        msg = archive_error_string(p->a);
    return uf_fail(e, "%s: %s%s: %s (corrupt or truncated archive?)", path, lv->prefix, what,
                   msg ? msg : "unreadable");
}

static int walk_level(walker *w, level *lv, uf_err *e);

static int walk_child(walker *w, level *lv, const char *name, int64_t base, uf_err *e)
{
    level *c = uf_calloc(1, sizeof *c, e);
    if (!c)
        return uf_wrap(e, "%s", w->path);
    c->parent = lv;
    c->base = base;
    if (snprintf(c->prefix, sizeof c->prefix, "%s/", name) >= (int)sizeof c->prefix) {
        free(c);
        return uf_fail(e, "%s: member name too long: %s", w->path, name);
    }
    c->a = new_reader();
    int rc;
    if (!c->a || archive_read_open(c->a, c, NULL, child_read, NULL) != ARCHIVE_OK)
        rc = arc_fail(c, w->path, "", e);
    else
        rc = walk_level(w, c, e);
    if (c->a)
        archive_read_free(c->a);
    free(c);
    return rc;
}

static int walk_level(walker *w, level *lv, uf_err *e)
{
    struct archive_entry *ent;
    char name[4096];
    for (;;) {
        int r = archive_read_next_header(lv->a, &ent);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN)
            return arc_fail(lv, w->path, "reading a member header", e);
        if (archive_entry_filetype(ent) != AE_IFREG)
            continue;
        const char *p = archive_entry_pathname(ent);
        if (!p)
            return arc_fail(lv, w->path, "a member without a name", e);
        while (p[0] == '.' && p[1] == '/')
            p += 2;
        if (snprintf(name, sizeof name, "%s%s", lv->prefix, p) >= (int)sizeof name)
            return uf_fail(e, "%s: member name too long: %s%s", w->path, lv->prefix, p);
        /* bytes lie unchanged in the outermost file only for plain tars all the way down */
        int plain = lv->base >= 0 && archive_filter_count(lv->a) == 1 &&
                    (archive_format(lv->a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR &&
                    archive_entry_sparse_count(ent) == 0;
        int64_t off = plain ? lv->base + archive_filter_bytes(lv->a, 0) : -1;
        int rc;
        if (w->descend && w->descend(w->ctx, name))
            rc = walk_child(w, lv, name, off, e);
        else {
            uf_arc_entry en = {name, archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1, off, lv};
            rc = w->fn(w->ctx, &en, e);
        }
        if (rc)
            return rc;
    }
}

int uf_arc_walk(const char *path, uf_arc_descend_fn descend, uf_arc_fn fn, void *ctx, uf_err *e)
{
    if (!uf_is_file(path))
        return uf_fail(e, "%s: no such file", path);
    level *top = uf_calloc(1, sizeof *top, e);
    if (!top)
        return uf_wrap(e, "%s", path);
    walker w = {path, descend, fn, ctx};
    top->a = new_reader();
    int rc;
    if (!top->a || archive_read_open_filename(top->a, path, 1 << 16) != ARCHIVE_OK)
        rc = arc_fail(top, path, "opening", e);
    else
        rc = walk_level(&w, top, e);
    if (top->a)
        archive_read_free(top->a);
    free(top);
    return rc < 0 ? -1 : 0;
}

int uf_arc_entry_read(const uf_arc_entry *en, void *buf, uf_err *e)
{
    level *lv = en->impl;
    int64_t got = 0;
    while (got < en->size) {
        la_ssize_t n = archive_read_data(lv->a, (char *)buf + got, (size_t)(en->size - got));
        if (n < 0)
            return arc_fail(lv, "archive", en->name, e);
        if (n == 0)
            return uf_fail(e, "%s: truncated after %" PRId64 " of %" PRId64 " bytes", en->name, got, en->size);
        got += n;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int uf_arc_descend_archives(void *ctx, const char *name)
{
    (void)ctx;
    return ends_with(name, ".tar") || ends_with(name, ".tar.gz") || ends_with(name, ".tgz") || ends_with(name, ".zip");
}

typedef struct one_ctx {
    const char *member;
    void *buf;
    size_t len;
    int found;
} one_ctx;

static int descend_towards(void *ctx, const char *name)
{
    const one_ctx *c = ctx;
    size_t n = strlen(name);
    return strncmp(c->member, name, n) == 0 && c->member[n] == '/';
}

static int take_one(void *ctx, const uf_arc_entry *en, uf_err *e)
{
    one_ctx *c = ctx;
    if (strcmp(en->name, c->member) != 0)
        return 0;
    if (en->size < 0)
        return uf_fail(e, "%s: member too large", en->name);
    if (!(c->buf = uf_alloc((size_t)en->size + 1, e)))
        return uf_wrap(e, "%s", en->name);
    c->len = (size_t)en->size;
    c->found = 1;
    return uf_arc_entry_read(en, c->buf, e) ? -1 : 1;
}

int uf_arc_read_member(const char *path, const char *member, void **buf, size_t *len, uf_err *e)
{
    one_ctx c = {member, NULL, 0, 0};
    if (uf_arc_walk(path, descend_towards, take_one, &c, e)) {
        free(c.buf);
        return uf_wrap(e, "%s: reading %s: ", path, member);
    }
    if (!c.found)
        return uf_fail(e, "%s: no member %s", path, member);
    *buf = c.buf;
    *len = c.len;
    return 0;
}

/* ---- the member index and random access ---- */

/* "<cache>/<archive name>.<size>.<mtime>": cached files follow the archive they describe. */
static int cache_key(const char *archive, const char *cache_dir, char *key, size_t cap, uf_err *e)
{
    struct stat st;
    if (stat(archive, &st) != 0)
        return uf_fail(e, "%s: %s", archive, strerror(errno));
    char dir[4096];
    const char *slash = strrchr(archive, '/'), *base = slash ? slash + 1 : archive;
    if (!cache_dir)
        cache_dir = getenv("UOTFT_CACHE");
    if (cache_dir && *cache_dir)
        snprintf(dir, sizeof dir, "%s", cache_dir);
    else
        snprintf(dir, sizeof dir, "%.*s.uotft-cache", (int)(base - archive), archive);
    if (uf_mkdirs(dir, e))
        return uf_wrap(e, "cache for %s (set UOTFT_CACHE to a writable folder): ", archive);
    snprintf(key, cap, "%s/%s.%lld.%lld", dir, base, (long long)st.st_size, (long long)st.st_mtime);
    return 0;
}

static int write_member(void *ctx, const uf_arc_entry *en, uf_err *e)
{
    uf_out *o = ctx;
    (void)e;
    fprintf(o->f, "%s\t%" PRId64 "\t%" PRId64 "\n", en->name, en->offset, en->size);
    return 0;
}

/* Parses "name<TAB>offset<TAB>size" lines in place. */
/* The index's three arrays resized to cap entries: 0, or -1 with e set (each array still valid). */
static int index_reserve(uf_arc_index *ix, int cap, uf_err *e)
{
    char **nn = uf_realloc(ix->name, (size_t)cap, sizeof *nn, e);
    if (nn)
        ix->name = nn;
    int64_t *no = nn ? uf_realloc(ix->offset, (size_t)cap, sizeof *no, e) : NULL;
    if (no)
        ix->offset = no;
    int64_t *ns = no ? uf_realloc(ix->size, (size_t)cap, sizeof *ns, e) : NULL;
    if (ns)
        ix->size = ns;
    return ns ? 0 : -1;
}

static int parse_index(char *buf, const char *path, uf_arc_index *ix, uf_err *e)
{
    int cap = 1024;
    memset(ix, 0, sizeof *ix);
    ix->buf = buf;
    if (index_reserve(ix, cap, e))
        return uf_wrap(e, "%s", path);
    for (char *line = buf, *next; *line; line = next) {
        next = strchr(line, '\n');
        if (!next)
            return uf_fail(e, "%s: truncated index (delete it to rebuild)", path);
        *next++ = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            return uf_fail(e, "%s: malformed index line (delete it to rebuild)", path);
        *t1 = '\0';
        if (ix->n == cap && index_reserve(ix, cap *= 2, e))
            return uf_wrap(e, "%s", path);
        ix->name[ix->n] = line;
        ix->offset[ix->n] = strtoll(t1 + 1, NULL, 10);
        ix->size[ix->n++] = strtoll(t2 + 1, NULL, 10);
    }
    return 0;
}

int uf_arc_index_load(const char *archive, const char *cache_dir, uf_arc_index *ix, uf_err *e)
{
    memset(ix, 0, sizeof *ix);
    char key[4400], path[4500];
    if (cache_key(archive, cache_dir, key, sizeof key, e))
        return -1;
    snprintf(path, sizeof path, "%s.members.tsv", key);
    if (!uf_is_file(path)) {
        uf_out o;
        if (uf_out_open(&o, path, e))
            return -1;
        if (uf_arc_walk(archive, uf_arc_descend_archives, write_member, &o, e)) {
            uf_out_abort(&o);
            return -1;
        }
        if (uf_out_commit(&o, e))
            return -1;
    }
    char *buf;
    size_t len;
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    if (parse_index(buf, path, ix, e)) {
        uf_arc_index_free(ix);
        return -1;
    }
    return 0;
}

void uf_arc_index_free(uf_arc_index *ix)
{
    free(ix->name);
    free(ix->offset);
    free(ix->size);
    free(ix->buf);
    memset(ix, 0, sizeof *ix);
}

typedef struct want {
    const char *name;
    int index; /* position in the request */
} want;

static int want_cmp(const void *a, const void *b)
{
    return strcmp(((const want *)a)->name, ((const want *)b)->name);
}

static const want *want_find(const want *w, int n, const char *name)
{
    want key = {name, 0};
    return bsearch(&key, w, (size_t)n, sizeof *w, want_cmp);
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

typedef struct packer {
    uf_arc_store *s;
    const want *w;
    int nw;
    char *done; /* per request: located */
    uf_out pack, idx;
    int64_t pos;
    void *tmp;
    size_t cap;
} packer;

static int pack_visit(void *ctx, const uf_arc_entry *en, uf_err *e)
{
    packer *p = ctx;
    const want *hit = want_find(p->w, p->nw, en->name);
    if (!hit || p->done[hit->index])
        return 0;
    if ((size_t)en->size > p->cap) {
        free(p->tmp);
        p->cap = 0;
        if (!(p->tmp = uf_alloc((size_t)en->size, e)))
            return uf_wrap(e, "%s", en->name);
        p->cap = (size_t)en->size;
    }
    if (uf_arc_entry_read(en, p->tmp, e))
        return -1;
    if (fwrite(p->tmp, 1, (size_t)en->size, p->pack.f) != (size_t)en->size)
        return uf_fail(e, "%s: write error", p->pack.tmp);
    fprintf(p->idx.f, "%s\t%" PRId64 "\t%" PRId64 "\n", en->name, p->pos, en->size);
    p->s->blob[hit->index] = (uf_blob){1, p->pos, en->size};
    p->pos += en->size;
    p->done[hit->index] = 1;
    return 0;
}

/* Locates the requested members listed in an index (file k), when they can be read in place. */
static void locate(const uf_arc_index *ix, int k, packer *p)
{
    for (int j = 0; j < ix->n; j++) {
        const want *hit = want_find(p->w, p->nw, ix->name[j]);
        if (hit && ix->offset[j] >= 0 && !p->done[hit->index]) {
            p->s->blob[hit->index] = (uf_blob){k, ix->offset[j], ix->size[j]};
            p->done[hit->index] = 1;
        }
    }
}

static int missing(const packer *p)
{
    for (int i = 0; i < p->nw; i++)
        if (!p->done[i])
            return 1;
    return 0;
}

/* Copies the members not located yet into the pack, in one pass over the archive. */
static int make_pack(packer *p, const char *archive, const char *pack_idx, uf_err *e)
{
    if (uf_out_open(&p->pack, p->s->path[1], e))
        return -1;
    if (uf_out_open(&p->idx, pack_idx, e)) {
        uf_out_abort(&p->pack);
        return -1;
    }
    if (uf_arc_walk(archive, uf_arc_descend_archives, pack_visit, p, e) || uf_out_commit(&p->pack, e)) {
        uf_out_abort(&p->pack);
        uf_out_abort(&p->idx);
        return -1;
    }
    return uf_out_commit(&p->idx, e);
}

static int open_read(uf_arc_store *s, int k, uf_err *e)
{
    s->fd[k] = open(s->path[k], O_RDONLY | O_CLOEXEC);
    return s->fd[k] < 0 ? uf_fail(e, "%s: cannot open: %s", s->path[k], strerror(errno)) : 0;
}

int uf_arc_store_open(uf_arc_store *s, const char *archive, const char *cache_dir, int n, char *const *members,
                      uf_err *e)
{
    memset(s, 0, sizeof *s);
    s->fd[0] = s->fd[1] = -1;
    uf_arc_index ix;
    char key[4400], pack_idx[4700];
    if (cache_key(archive, cache_dir, key, sizeof key, e) || uf_arc_index_load(archive, cache_dir, &ix, e))
        return -1;
    packer p = {.s = s, .nw = n};
    want *w = uf_calloc((size_t)n, sizeof *w, e);
    p.done = w ? uf_calloc((size_t)n + 1, 1, e) : NULL;
    s->blob = p.done ? uf_calloc((size_t)n + 1, sizeof *s->blob, e) : NULL;
    s->n = n;
    int rc = s->blob ? 0 : uf_wrap(e, "%s", archive);
    uint64_t set_hash = 0;
    for (int i = 0; !rc && i < n; i++) {
        w[i] = (want){members[i], i};
        set_hash += fnv(members[i]); /* order-free: the same set gives the same pack */
    }
    if (!rc) {
        qsort(w, (size_t)n, sizeof *w, want_cmp);
        p.w = w;
        snprintf(s->path[0], sizeof s->path[0], "%s", archive);
        snprintf(s->path[1], sizeof s->path[1], "%s.%016" PRIx64 ".pack", key, set_hash);
        snprintf(pack_idx, sizeof pack_idx, "%s.tsv", s->path[1]);
        locate(&ix, 0, &p);
    }
    if (!rc && missing(&p)) {
        uf_arc_index pk;
        char *buf;
        size_t len;
        if (uf_is_file(pack_idx) && uf_is_file(s->path[1]) && uf_read_file(pack_idx, &buf, &len, e) == 0) {
            if ((rc = parse_index(buf, pack_idx, &pk, e)) == 0)
                locate(&pk, 1, &p);
            uf_arc_index_free(&pk);
        }
        if (!rc && missing(&p))
            rc = make_pack(&p, archive, pack_idx, e);
    }
    for (int i = 0; rc == 0 && i < n; i++)
        if (!p.done[i])
            rc = uf_fail(e, "%s: no member %s", archive, members[i]);
    int use_pack = 0;
    for (int i = 0; !rc && i < n; i++)
        use_pack |= s->blob[i].file == 1;
    free(p.tmp);
    free(w);
    free(p.done);
    uf_arc_index_free(&ix);
    if (!rc)
        rc = open_read(s, 0, e);
    if (!rc && use_pack)
        rc = open_read(s, 1, e);
    if (rc)
        uf_arc_store_close(s);
    return rc;
}

int uf_arc_store_get(const uf_arc_store *s, int i, void **buf, size_t *len, uf_err *e)
{
    const uf_blob *b = &s->blob[i];
    char *p = uf_alloc((size_t)b->size + 1, e);
    if (!p)
        return uf_wrap(e, "%s", s->path[b->file]);
    int64_t got = 0;
    while (got < b->size) {
        ssize_t r = pread(s->fd[b->file], p + got, (size_t)(b->size - got), (off_t)(b->offset + got));
        if (r <= 0) {
            free(p);
            return uf_fail(e, "%s: %s at byte %" PRId64, s->path[b->file], r < 0 ? strerror(errno) : "unexpected end",
                           b->offset + got);
        }
        got += r;
    }
    *buf = p;
    *len = (size_t)b->size;
    return 0;
}

void uf_arc_store_close(uf_arc_store *s)
{
    for (int k = 0; k < 2; k++)
        if (s->fd[k] >= 0)
            close(s->fd[k]);
    s->fd[0] = s->fd[1] = -1;
    free(s->blob);
    s->blob = NULL;
}
