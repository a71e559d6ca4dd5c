/* Reading torch.save files: the main pickle names storages by key (zip,
 * legacy) or tensors by key (tar); after it is read, only the storages of the
 * wanted tensors are located (zip records, legacy byte ranges, tar member
 * slices) and each tensor is gathered from its storage into a fresh array.
 * See torchfile.h for the formats. */
#define _POSIX_C_SOURCE 200809L
#include "torchfile.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/sha256.h"
#include "pickle.h"

typedef enum { FMT_ZIP, FMT_LEGACY, FMT_TAR } fmt;

/* One storage as the file names it: key, element type, element count; data once located. */
typedef struct storage_ref {
    char key[64];
    uf_pyelem elem;
    int64_t numel;
    const unsigned char *data;
    int needed;
} storage_ref;

/* A tensor record of the tar format's "tensors" member. */
typedef struct tar_tensor {
    char key[64], storage[64];
    int ndim, has_storage;
    int64_t shape[UF_MAX_DIMS], stride[UF_MAX_DIMS], offset;
} tar_tensor;

typedef struct loader {
    const char *path;
    size_t file_size;
    uf_pk_doc doc; /* the main pickle's values */
    storage_ref *st;
    size_t nst, cap_st;
    int st_sorted;
    tar_tensor *tt;
    size_t ntt;
    char zip_dir[256];           /* zip: the folder holding data.pkl */
    unsigned char *map;          /* legacy: the file, mapped */
    unsigned char **bufs;        /* buffers read from archives */
    size_t nbufs;
} loader;

static int keep_buf(loader *L, unsigned char *b, uf_err *e)
{
    unsigned char **nb = uf_realloc(L->bufs, L->nbufs + 1, sizeof *nb, e);
    if (!nb) {
        free(b);
        return uf_wrap(e, "%s", L->path);
    }
    L->bufs = nb;
    L->bufs[L->nbufs++] = b;
    return 0;
}

/* ---- the storage table ---- */

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const storage_ref *)a)->key, ((const storage_ref *)b)->key);
}

static storage_ref *find_ref(loader *L, const char *key)
{
    storage_ref probe;
    snprintf(probe.key, sizeof probe.key, "%s", key);
    return bsearch(&probe, L->st, L->nst, sizeof *L->st, cmp_ref);
}

/* Appends a storage; duplicates are merged by sort_refs. */
static int add_ref(loader *L, const char *key, uf_pyelem elem, int64_t numel, const unsigned char *data, uf_err *e)
{
    if (strlen(key) >= sizeof L->st->key)
        return uf_fail(e, "storage key too long");
    if (numel < 0 || (uint64_t)numel > L->file_size / uf_pyelem_size(elem))
        return uf_fail(e, "storage '%s' claims %lld elements, more than the file holds (truncated?)", key,
                       (long long)numel);
    if (L->nst == L->cap_st) {
        size_t cap = L->cap_st ? 2 * L->cap_st : 64;
        storage_ref *st = uf_realloc(L->st, cap, sizeof *st, e);
        if (!st)
            return -1;
        L->st = st;
        L->cap_st = cap;
    }
    storage_ref *r = &L->st[L->nst++];
    memset(r, 0, sizeof *r);
    strcpy(r->key, key);
    r->elem = elem;
    r->numel = numel;
    r->data = data;
    L->st_sorted = 0;
    return 0;
}

/* Sorts by key and merges repeats, which must agree on type and size. */
static int sort_refs(loader *L, uf_err *e)
{
    qsort(L->st, L->nst, sizeof *L->st, cmp_ref);
    size_t k = 0;
    for (size_t i = 0; i < L->nst; i++) {
        if (k && strcmp(L->st[k - 1].key, L->st[i].key) == 0) {
            if (L->st[k - 1].elem != L->st[i].elem || L->st[k - 1].numel != L->st[i].numel)
                return uf_fail(e, "%s: storage '%s' is named with two types or sizes", L->path, L->st[i].key);
            continue;
        }
        L->st[k++] = L->st[i];
    }
    L->nst = k;
    L->st_sorted = 1;
    return 0;
}

/* ---- persistent ids: storages (zip, legacy) and tensors (tar) ---- */

static uf_pk *storage_node(uf_pk_doc *doc, const char *key, uf_pyelem elem, int64_t numel, int64_t offset,
                           uf_err *e)
{
    uf_pk *s = uf_pk_new(doc, UF_PK_STORAGE, e);
    char *k = s ? uf_strdup(key, e) : NULL;
    if (!k)
        return NULL;
    s->s = k;
    s->len = strlen(k);
    s->elem = elem;
    s->numel = numel;
    s->offset = offset;
    return s;
}

/* zip: ('storage', torch.FloatStorage, key, location, numel)
 * legacy: the same plus view metadata: None or (view_key, offset, view_numel) */
static uf_pk *storage_persid(void *ctx, uf_pk_doc *doc, const uf_pk *pid, uf_err *e)
{
    loader *L = ctx;
    if (pid->type == UF_PK_TUPLE && pid->n >= 1 && uf_pk_is_str(pid->items[0], "module")) {
        uf_fail(e, "a pickled nn.Module: only state dicts and checkpoints of tensors are read (save "
                   "model.state_dict())");
        return NULL;
    }
    if (pid->type != UF_PK_TUPLE || (pid->n != 5 && pid->n != 6) || !uf_pk_is_str(pid->items[0], "storage") ||
        pid->items[1]->type != UF_PK_GLOBAL || pid->items[1]->g != UF_PKG_STORAGE_TYPE ||
        pid->items[2]->type != UF_PK_STR || pid->items[3]->type != UF_PK_STR ||
        pid->items[4]->type != UF_PK_INT) {
        uf_fail(e, "not a storage reference ('storage', type, key, location, numel[, view])");
        return NULL;
    }
    uf_pyelem elem = pid->items[1]->elem;
    const char *key = pid->items[2]->s;
    int64_t numel = pid->items[4]->i, offset = 0, view_numel = numel;
    if (add_ref(L, key, elem, numel, NULL, e))
        return NULL;
    if (pid->n == 6 && pid->items[5]->type != UF_PK_NONE) {
        const uf_pk *v = pid->items[5];
        if (v->type != UF_PK_TUPLE || v->n != 3 || uf_pk_int(v->items[1], &offset) ||
            uf_pk_int(v->items[2], &view_numel) || offset < 0 || view_numel < 0 || offset > numel ||
            view_numel > numel - offset) {
            uf_fail(e, "storage '%s': bad view (key, offset, size)", key);
            return NULL;
        }
    }
    return storage_node(doc, key, elem, view_numel, offset, e);
}

static int cmp_tt(const void *a, const void *b)
{
    return strcmp(((const tar_tensor *)a)->key, ((const tar_tensor *)b)->key);
}

/* Python 2 wrote ids as str(id(obj)) in the pickle and as ints in the members. */
static int key_text(const uf_pk *v, char *out, size_t cap)
{
    if (v->type == UF_PK_INT)
        return snprintf(out, cap, "%lld", (long long)v->i) < (int)cap ? 0 : -1;
    if (v->type == UF_PK_STR && v->len < cap && strlen(v->s) == v->len) {
        memcpy(out, v->s, v->len + 1);
        return 0;
    }
    return -1;
}

/* tar: the id names a tensor of the "tensors" member */
static uf_pk *tar_persid(void *ctx, uf_pk_doc *doc, const uf_pk *pid, uf_err *e)
{
    loader *L = ctx;
    tar_tensor probe;
    if (key_text(pid, probe.key, sizeof probe.key)) {
        uf_fail(e, "a %s, not a tensor key", uf_pk_type_name(pid));
        return NULL;
    }
    const tar_tensor *t = bsearch(&probe, L->tt, L->ntt, sizeof *L->tt, cmp_tt);
    if (!t) {
        uf_fail(e, "tensor '%s' is not in the tensors member", probe.key);
        return NULL;
    }
    const storage_ref *r = t->has_storage ? find_ref(L, t->storage) : NULL;
    if (t->has_storage && !r) {
        uf_fail(e, "tensor '%s': storage '%s' is not in the storages member", t->key, t->storage);
        return NULL;
    }
    uf_pk *tn = uf_pk_new(doc, UF_PK_TENSOR, e);
    uf_pk *s = tn ? storage_node(doc, r ? r->key : "", r ? r->elem : UF_PYE_F32, r ? r->numel : 0, 0, e) : NULL;
    if (!s || !(tn->shape = uf_pk_alloc_dims(doc, t->ndim, e)) || !(tn->stride = uf_pk_alloc_dims(doc, t->ndim, e)))
        return NULL;
    tn->ndim = t->ndim;
    memcpy(tn->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(tn->stride, t->stride, sizeof(int64_t) * (size_t)t->ndim);
    tn->offset = t->offset;
    tn->elem = s->elem;
    tn->base = s;
    return tn;
}

/* ---- archives (libarchive) ---- */

/* name and size (0 when the header does not say) of the current entry */
typedef int (*entry_fn)(loader *L, void *ctx, struct archive *a, const char *name, size_t size, uf_err *e);

/* Visits every entry of the zip or tar archive at L->path. */
static int each_entry(loader *L, fmt f, entry_fn fn, void *ctx, uf_err *e)
{
    struct archive *a = archive_read_new();
    if (!a)
        return uf_fail(e, "%s: out of memory", L->path);
    /* zip through its central directory, as torch reads it: a cut file is refused, not streamed */
    if (f == FMT_ZIP)
        archive_read_support_format_zip_seekable(a);
    else
        archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open_filename(a, L->path, 1 << 16) != ARCHIVE_OK) {
        rc = uf_fail(e, "%s: damaged or truncated %s archive (%s)", L->path,
                     f == FMT_ZIP ? "zip: no readable central directory;" : "tar", archive_error_string(a));
    } else {
        struct archive_entry *ent;
        int r;
        while (rc == 0 && (r = archive_read_next_header(a, &ent)) != ARCHIVE_EOF) {
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                rc = uf_fail(e, "%s: damaged or truncated archive: %s", L->path, archive_error_string(a));
                break;
            }
            const char *name = archive_entry_pathname(ent);
            la_int64_t size = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : 0;
            rc = fn(L, ctx, a, name ? name : "", size > 0 ? (size_t)size : 0, e);
        }
    }
    archive_read_free(a);
    return rc;
}

/* Reads the current entry whole into a buffer the loader keeps (at most the
 * file's size: torch never compresses its records); hint: the expected size. */
static int read_entry(loader *L, struct archive *a, const char *name, size_t hint, unsigned char **out, size_t *len,
                      uf_err *e)
{
    size_t cap = hint && hint < L->file_size ? hint + 1 : 1 << 16, n = 0;
    unsigned char *buf = uf_alloc(cap, e);
    if (!buf)
        return uf_wrap(e, "%s", L->path);
    for (;;) {
        if (n == cap) {
            unsigned char *nb = cap > L->file_size ? NULL : uf_realloc(buf, cap, 2, e);
            if (!nb) {
                free(buf);
                return cap > L->file_size ? uf_fail(e, "%s: member %s is larger than the file", L->path, name)
                                          : uf_wrap(e, "%s: member %s", L->path, name);
            }
            buf = nb;
            cap *= 2;
        }
        la_ssize_t got = archive_read_data(a, buf + n, cap - n);
        if (got < 0) {
            free(buf);
            return uf_fail(e, "%s: member %s: %s", L->path, name, archive_error_string(a));
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *out = buf;
    *len = n;
    return keep_buf(L, buf, e);
}

/* ---- zip ---- */

typedef struct zip_meta {
    unsigned char *pkl;
    size_t pkl_len;
    int n_pkl;
} zip_meta;

/* Pass 1: "<dir>/data.pkl" (exactly one folder level) and "<dir>/byteorder". */
static int zip_meta_entry(loader *L, void *ctx, struct archive *a, const char *name, size_t size, uf_err *e)
{
    zip_meta *zm = ctx;
    const char *slash = strchr(name, '/');
    if (!slash || (size_t)(slash - name) >= sizeof L->zip_dir)
        return 0;
    if (strcmp(slash + 1, "data.pkl") == 0) {
        if (zm->n_pkl++)
            return uf_fail(e, "%s: more than one data.pkl", L->path);
        memcpy(L->zip_dir, name, (size_t)(slash - name));
        L->zip_dir[slash - name] = '\0';
        return read_entry(L, a, name, size, &zm->pkl, &zm->pkl_len, e);
    }
    if (strcmp(slash + 1, "byteorder") == 0) { /* written by torch >= 2.1 */
        unsigned char *b;
        size_t n;
        if (read_entry(L, a, name, 0, &b, &n, e))
            return -1;
        if (!(n == 6 && memcmp(b, "little", 6) == 0))
            return uf_fail(e, "%s: byte order is not little-endian: not supported", L->path);
    }
    return 0;
}

/* Pass 2: "<dir>/data/<key>" for the storages the wanted tensors use. */
static int zip_data_entry(loader *L, void *ctx, struct archive *a, const char *name, size_t size, uf_err *e)
{
    (void)ctx, (void)size;
    size_t dl = strlen(L->zip_dir);
    if (strncmp(name, L->zip_dir, dl) != 0 || strncmp(name + dl, "/data/", 6) != 0)
        return 0;
    storage_ref *r = find_ref(L, name + dl + 6);
    if (!r || !r->needed || r->data)
        return 0;
    unsigned char *b;
    size_t n, want = (size_t)r->numel * uf_pyelem_size(r->elem);
    if (read_entry(L, a, name, want, &b, &n, e))
        return -1;
    if (n != want)
        return uf_fail(e, "%s: record %s holds %zu bytes; its storage of %lld %s needs %zu", L->path, name, n,
                       (long long)r->numel, uf_pyelem_name(r->elem), want);
    r->data = b;
    return 0;
}

static int zip_read_pickle(loader *L, const uf_pk **root, uf_err *e)
{
    zip_meta zm = {0};
    if (each_entry(L, FMT_ZIP, zip_meta_entry, &zm, e))
        return -1;
    if (!zm.n_pkl)
        return uf_fail(e, "%s: zip archive without <folder>/data.pkl: not a torch.save file", L->path);
    char name[512];
    snprintf(name, sizeof name, "%s: %s/data.pkl", L->path, L->zip_dir);
    uf_pk_opts o = {.name = name, .persid = storage_persid, .ctx = L};
    size_t used;
    return uf_pk_load(zm.pkl, zm.pkl_len, &o, &L->doc, root, &used, e);
}

/* ---- legacy: a stream of pickles, then the storages ---- */

/* The next pickle of a byte stream at *pos, into doc. */
static int next_pickle(loader *L, const unsigned char *buf, size_t len, size_t *pos, const char *what,
                       uf_pk_persid_fn persid, uf_pk_doc *doc, const uf_pk **v, uf_err *e)
{
    char name[512];
    snprintf(name, sizeof name, "%s: %s", L->path, what);
    uf_pk_opts o = {.name = name, .persid = persid, .ctx = L};
    size_t used;
    if (uf_pk_load(buf + *pos, len - *pos, &o, doc, v, &used, e))
        return -1;
    *pos += used;
    return 0;
}

/* An int64 element count and the storage's elements. */
static int raw_storage(loader *L, const unsigned char *buf, size_t len, size_t *pos, storage_ref *r, uf_err *e)
{
    if (len - *pos < 8)
        return uf_fail(e, "%s: truncated at storage '%s'", L->path, r->key);
    int64_t count;
    memcpy(&count, buf + *pos, 8);
    if (count != r->numel)
        return uf_fail(e, "%s: storage '%s' has %lld elements, the pickle says %lld", L->path, r->key,
                       (long long)count, (long long)r->numel);
    size_t bytes = (size_t)count * uf_pyelem_size(r->elem);
    if (bytes > len - *pos - 8)
        return uf_fail(e, "%s: truncated: storage '%s' needs %zu bytes, %zu left", L->path, r->key, bytes,
                       len - *pos - 8);
    r->data = buf + *pos + 8;
    *pos += 8 + bytes;
    return 0;
}

static const unsigned char legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

static int legacy_read(loader *L, const uf_pk **root, uf_err *e)
{
    const unsigned char *buf = L->map;
    size_t len = L->file_size, pos = 0;
    uf_pk_doc head = {0};
    const uf_pk *v;
    int rc = next_pickle(L, buf, len, &pos, "magic number", NULL, &head, &v, e);
    if (rc == 0 && !(v->type == UF_PK_BIGINT && v->len == 10 && memcmp(v->s, legacy_magic, 10) == 0))
        rc = uf_fail(e, "%s: wrong magic number: not a torch.save file", L->path);
    if (rc == 0)
        rc = next_pickle(L, buf, len, &pos, "protocol", NULL, &head, &v, e);
    if (rc == 0 && !(v->type == UF_PK_INT && v->i == 1001))
        rc = uf_fail(e, "%s: torch serialization protocol is not 1001", L->path);
    if (rc == 0)
        rc = next_pickle(L, buf, len, &pos, "system info", NULL, &head, &v, e);
    if (rc == 0) {
        const uf_pk *le = uf_pk_dict_get(v, "little_endian");
        if (v->type != UF_PK_DICT || (le && !(le->type == UF_PK_BOOL && le->i)))
            rc = uf_fail(e, "%s: written on a big-endian machine or bad system info: not supported", L->path);
    }
    if (rc == 0)
        rc = next_pickle(L, buf, len, &pos, "object", storage_persid, &L->doc, root, e);
    if (rc == 0)
        rc = next_pickle(L, buf, len, &pos, "storage keys", NULL, &head, &v, e);
    if (rc == 0 && v->type != UF_PK_LIST)
        rc = uf_fail(e, "%s: storage keys are not a list", L->path);
    if (rc == 0)
        rc = sort_refs(L, e);
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        storage_ref *r = v->items[i]->type == UF_PK_STR ? find_ref(L, v->items[i]->s) : NULL;
        if (!r)
            rc = uf_fail(e, "%s: storage key %zu is not used by the object", L->path, i);
        else
            rc = raw_storage(L, buf, len, &pos, r, e);
    }
    uf_pk_doc_free(&head);
    return rc;
}

/* ---- tar (torch < 0.4) ---- */

enum { TAR_PICKLE, TAR_TENSORS, TAR_STORAGES, TAR_N };
static const char *const tar_names[TAR_N] = {"pickle", "tensors", "storages"};

typedef struct tar_members {
    unsigned char *buf[TAR_N];
    size_t len[TAR_N];
} tar_members;

static int tar_entry(loader *L, void *ctx, struct archive *a, const char *name, size_t size, uf_err *e)
{
    tar_members *tm = ctx;
    for (int i = 0; i < TAR_N; i++)
        if (strcmp(name, tar_names[i]) == 0) {
            if (tm->buf[i])
                return uf_fail(e, "%s: member %s twice", L->path, name);
            return read_entry(L, a, name, size, &tm->buf[i], &tm->len[i], e);
        }
    return 0;
}

/* A pickled int that counts records of at least min_bytes each within len. */
static int record_count(loader *L, const uf_pk *v, size_t len, size_t min_bytes, const char *what, int64_t *n,
                        uf_err *e)
{
    if (uf_pk_int(v, n) || *n < 0 || (uint64_t)*n > len / min_bytes)
        return uf_fail(e, "%s: bad %s count", L->path, what);
    return 0;
}

/* storages: count; per storage (key, location, type) and the raw storage; then the views */
static int tar_storages(loader *L, const unsigned char *buf, size_t len, uf_err *e)
{
    uf_pk_doc doc = {0};
    const uf_pk *v;
    size_t pos = 0;
    int64_t n = 0;
    char key[64];
    int rc = next_pickle(L, buf, len, &pos, "storages", NULL, &doc, &v, e);
    if (rc == 0)
        rc = record_count(L, v, len, 16, "storage", &n, e);
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        rc = next_pickle(L, buf, len, &pos, "storages", NULL, &doc, &v, e);
        if (rc)
            break;
        if (v->type != UF_PK_TUPLE || v->n != 3 || key_text(v->items[0], key, sizeof key) ||
            v->items[2]->type != UF_PK_GLOBAL || v->items[2]->g != UF_PKG_STORAGE_TYPE) {
            rc = uf_fail(e, "%s: storages: record %lld is not (key, location, storage type)", L->path, (long long)i);
            break;
        }
        int64_t count;
        if (len - pos < 8) {
            rc = uf_fail(e, "%s: storages: truncated", L->path);
            break;
        }
        memcpy(&count, buf + pos, 8);
        if ((rc = add_ref(L, key, v->items[2]->elem, count, NULL, e)))
            uf_wrap(e, "%s: storages", L->path);
        else
            rc = raw_storage(L, buf, len, &pos, &L->st[L->nst - 1], e);
    }
    if (rc == 0)
        rc = sort_refs(L, e);
    /* views: (view key, root key, offset, numel) share their root's elements */
    if (rc == 0)
        rc = next_pickle(L, buf, len, &pos, "storage views", NULL, &doc, &v, e);
    if (rc == 0 && v->type != UF_PK_LIST)
        rc = uf_fail(e, "%s: storage views are not a list", L->path);
    size_t roots = L->nst;
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        const uf_pk *w = v->items[i];
        storage_ref probe, *r = NULL;
        int64_t off, cnt;
        if (w->type == UF_PK_TUPLE && w->n == 4 && !key_text(w->items[0], key, sizeof key) &&
            !key_text(w->items[1], probe.key, sizeof probe.key))
            r = bsearch(&probe, L->st, roots, sizeof *L->st, cmp_ref);
        if (!r || uf_pk_int(w->items[2], &off) || uf_pk_int(w->items[3], &cnt) || off < 0 || cnt < 0 ||
            off > r->numel || cnt > r->numel - off) {
            rc = uf_fail(e, "%s: storage view %zu is not (key, root, offset, numel) inside its root", L->path, i);
            break;
        }
        const unsigned char *data = r->data + (size_t)off * uf_pyelem_size(r->elem);
        if ((rc = add_ref(L, key, r->elem, cnt, data, e)))
            uf_wrap(e, "%s: storage views", L->path);
    }
    if (rc == 0 && L->nst != roots)
        rc = sort_refs(L, e);
    uf_pk_doc_free(&doc);
    return rc;
}

/* tensors: count; per tensor (key, storage key, type) and int32 ndim, 4 bytes, sizes, strides, offset */
static int tar_tensors(loader *L, const unsigned char *buf, size_t len, uf_err *e)
{
    uf_pk_doc doc = {0};
    const uf_pk *v;
    size_t pos = 0;
    int64_t n = 0;
    int rc = next_pickle(L, buf, len, &pos, "tensors", NULL, &doc, &v, e);
    if (rc == 0)
        rc = record_count(L, v, len, 16, "tensor", &n, e);
    if (rc == 0 && !(L->tt = uf_calloc((size_t)n + 1, sizeof *L->tt, e)))
        rc = uf_wrap(e, "%s", L->path);
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        tar_tensor *t = &L->tt[i];
        rc = next_pickle(L, buf, len, &pos, "tensors", NULL, &doc, &v, e);
        if (rc)
            break;
        if (v->type != UF_PK_TUPLE || v->n != 3 || key_text(v->items[0], t->key, sizeof t->key) ||
            (v->items[1]->type != UF_PK_NONE && key_text(v->items[1], t->storage, sizeof t->storage)) ||
            v->items[2]->type != UF_PK_GLOBAL || v->items[2]->g != UF_PKG_TENSOR_TYPE) {
            rc = uf_fail(e, "%s: tensors: record %lld is not (key, storage key, tensor type)", L->path, (long long)i);
            break;
        }
        t->has_storage = v->items[1]->type != UF_PK_NONE;
        int32_t nd;
        if (len - pos < 8 || (memcpy(&nd, buf + pos, 4), nd < 0 || nd > UF_MAX_DIMS) ||
            len - pos - 8 < (size_t)(16 * nd + 8)) {
            rc = uf_fail(e, "%s: tensors: record %lld truncated or of bad rank", L->path, (long long)i);
            break;
        }
        pos += 8; /* ndim was written as 8 bytes */
        t->ndim = nd;
        memcpy(t->shape, buf + pos, 8 * (size_t)nd);
        memcpy(t->stride, buf + pos + 8 * (size_t)nd, 8 * (size_t)nd);
        memcpy(&t->offset, buf + pos + 16 * (size_t)nd, 8);
        pos += 16 * (size_t)nd + 8;
        L->ntt++;
    }
    if (rc == 0) {
        qsort(L->tt, L->ntt, sizeof *L->tt, cmp_tt);
        for (size_t i = 1; i < L->ntt; i++)
            if (strcmp(L->tt[i - 1].key, L->tt[i].key) == 0)
                rc = uf_fail(e, "%s: tensor key %s twice", L->path, L->tt[i].key);
    }
    uf_pk_doc_free(&doc);
    return rc;
}

static int tar_read(loader *L, const uf_pk **root, uf_err *e)
{
    tar_members tm = {0};
    if (each_entry(L, FMT_TAR, tar_entry, &tm, e))
        return -1;
    for (int i = 0; i < TAR_N; i++)
        if (!tm.buf[i])
            return uf_fail(e, "%s: tar archive without a '%s' member: not a torch.save file", L->path, tar_names[i]);
    if (tar_storages(L, tm.buf[TAR_STORAGES], tm.len[TAR_STORAGES], e) ||
        tar_tensors(L, tm.buf[TAR_TENSORS], tm.len[TAR_TENSORS], e))
        return -1;
    size_t pos = 0;
    return next_pickle(L, tm.buf[TAR_PICKLE], tm.len[TAR_PICKLE], &pos, "pickle", tar_persid, &L->doc, root, e);
}

/* ---- the object: key path, wanted tensors ---- */

/* A dict entry whose key is key[0..len): a str, or an int in decimal (optimizer states). */
static const uf_pk *dict_get_n(const uf_pk *d, const char *key, size_t len)
{
    for (size_t k = 0; k < d->n; k++) {
        const uf_pk *kv = d->items[2 * k];
        char num[32];
        if (kv->type == UF_PK_INT && !key_text(kv, num, sizeof num) && strlen(num) == len &&
            memcmp(num, key, len) == 0)
            return d->items[2 * k + 1];
        if (kv->type == UF_PK_STR && kv->len == len && memcmp(kv->s, key, len) == 0)
            return d->items[2 * k + 1];
    }
    return NULL;
}

/* Lists up to a dozen str keys of d, for messages. */
static void some_keys(const uf_pk *d, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d->n && i < 12 && k + 1 < cap; i++)
        if (d->items[2 * i]->type == UF_PK_STR)
            k += (size_t)snprintf(out + k, cap - k, "%s'%.60s'", k ? ", " : "", d->items[2 * i]->s);
    if (d->n > 12 && k + 1 < cap)
        snprintf(out + k, cap - k, ", ... (%zu keys)", d->n);
}

/* Follows the dotted key path; at each level the longest key that matches wins. */
static const uf_pk *follow(loader *L, const uf_pk *v, const char *key, uf_err *e)
{
    const char *rest = key;
    while (*rest) {
        if (v->type != UF_PK_DICT) {
            uf_fail(e, "%s: key '%s': '%s' is inside a %s, not a dict", L->path, key, rest, uf_pk_type_name(v));
            return NULL;
        }
        const uf_pk *found = NULL;
        size_t len = strlen(rest);
        for (;;) {
            if ((found = dict_get_n(v, rest, len)))
                break;
            while (len > 0 && rest[len - 1] != '.')
                len--;
            if (len == 0)
                break;
            len--; /* drop the dot and try the shorter key */
        }
        if (!found) {
            char keys[800];
            some_keys(v, keys, sizeof keys);
            uf_fail(e, "%s: no key '%s' (found: %s)", L->path, rest, keys[0] ? keys : "no str keys");
            return NULL;
        }
        v = found;
        rest += len;
        if (*rest == '.')
            rest++;
    }
    return v;
}

typedef struct wanted {
    const char *name; /* inside the pickle's str node */
    const uf_pk *t;
} wanted;

static int cmp_wanted(const void *a, const void *b)
{
    return strcmp(((const wanted *)a)->name, ((const wanted *)b)->name);
}

/* The tensors of dict d whose names start with prefix, in the file's order. */
static int collect(loader *L, const uf_pk *d, const char *key, const char *prefix, wanted **out, size_t *n,
                   uf_err *e)
{
    if (d->type != UF_PK_DICT)
        return uf_fail(e, "%s: %s%s%s is a %s, not a dict of tensors", L->path, *key ? "key '" : "the top-level object",
                       key, *key ? "'" : "", uf_pk_type_name(d));
    size_t pl = prefix ? strlen(prefix) : 0, k = 0;
    wanted *w = uf_calloc(d->n + 1, sizeof *w, e);
    if (!w)
        return uf_wrap(e, "%s", L->path);
    for (size_t i = 0; i < d->n; i++) {
        const uf_pk *name = d->items[2 * i], *t = d->items[2 * i + 1];
        if (name->type != UF_PK_STR || t->type != UF_PK_TENSOR || strlen(name->s) != name->len ||
            strncmp(name->s, prefix ? prefix : "", pl) != 0)
            continue;
        w[k].name = name->s + pl;
        w[k++].t = t;
    }
    if (k == 0) {
        char keys[800];
        some_keys(d, keys, sizeof keys);
        free(w);
        return uf_fail(e, "%s: no tensor%s%s%s in %s%s%s (keys: %s)", L->path, pl ? " under the prefix '" : "",
                       pl ? prefix : "", pl ? "'" : "", *key ? "'" : "the top-level dict", key, *key ? "'" : "",
                       keys[0] ? keys : "none");
    }
    /* a dict pickled by Python never repeats a key: a repeat is a damaged file */
    wanted *sorted = uf_calloc(k, sizeof *sorted, e);
    if (!sorted) {
        free(w);
        return uf_wrap(e, "%s", L->path);
    }
    memcpy(sorted, w, k * sizeof *sorted);
    qsort(sorted, k, sizeof *sorted, cmp_wanted);
    for (size_t i = 1; i < k; i++)
        if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
            uf_fail(e, "%s: tensor '%s%s' appears twice", L->path, prefix ? prefix : "", sorted[i].name);
            free(sorted);
            free(w);
            return -1;
        }
    free(sorted);
    *out = w;
    *n = k;
    return 0;
}

/* The tensor's elements: its storage's located data, the view's slice of it. */
static int gather(loader *L, const wanted *w, const char *prefix, uf_array *out, uf_err *e)
{
    const uf_pk *t = w->t, *s = t->base;
    char what[600];
    snprintf(what, sizeof what, "%s: tensor '%s%.200s'", L->path, prefix ? prefix : "", w->name);
    const storage_ref *r = s->len || L->nst ? find_ref(L, s->s) : NULL;
    const unsigned char *data = r ? r->data : NULL;
    if (r && !data)
        return uf_fail(e, "%s: storage '%s' is missing from the file", what, r->key);
    if (r && (s->offset > r->numel || s->numel > r->numel - s->offset))
        return uf_fail(e, "%s: storage view outside storage '%s'", what, r->key);
    int64_t count = r ? s->numel : 0;
    static const unsigned char none[8];
    return uf_pyarray_gather(data ? data + (size_t)s->offset * uf_pyelem_size(s->elem) : none, count, t->elem,
                             t->ndim, t->shape, t->stride, t->offset, out, what, e);
}

/* ---- the entry point ---- */

static int detect(loader *L, fmt *f, uf_err *e)
{
    unsigned char head[512] = {0};
    FILE *fp = fopen(L->path, "rb");
    if (!fp)
        return uf_fail(e, "%s: cannot open: %s", L->path, strerror(errno));
    size_t n = fread(head, 1, sizeof head, fp);
    struct stat st;
    int ok = fstat(fileno(fp), &st) == 0;
    fclose(fp);
    if (!ok || !S_ISREG(st.st_mode))
        return uf_fail(e, "%s: not a regular file", L->path);
    L->file_size = (size_t)st.st_size;
    if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0)
        *f = FMT_ZIP;
    else if (n == 512 && memcmp(head + 257, "ustar", 5) == 0)
        *f = FMT_TAR;
    else if (n >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 4) /* PROTO of the magic number */
        *f = FMT_LEGACY;
    else
        return uf_fail(e, "%s: not a PyTorch file (neither a zip archive, a tar archive nor a pickle stream)",
                       L->path);
    return 0;
}

static int map_file(loader *L, uf_err *e)
{
    int fd = open(L->path, O_RDONLY);
    if (fd < 0)
        return uf_fail(e, "%s: cannot open: %s", L->path, strerror(errno));
    void *p = mmap(NULL, L->file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return uf_fail(e, "%s: cannot map: %s", L->path, strerror(errno));
    L->map = p;
    return 0;
}

static void loader_free(loader *L)
{
    uf_pk_doc_free(&L->doc);
    for (size_t i = 0; i < L->nbufs; i++)
        free(L->bufs[i]);
    free(L->bufs);
    free(L->st);
    free(L->tt);
    if (L->map)
        munmap(L->map, L->file_size);
}

void uf_tensor_dict_free(uf_tensor_dict *d)
{
    for (int i = 0; d->t && i < d->n; i++) {
        free(d->t[i].name);
        uf_array_free(&d->t[i].a);
    }
    free(d->t);
    d->t = NULL;
    d->n = 0;
}

const uf_tensor *uf_tensor_dict_get(const uf_tensor_dict *d, const char *name)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->t[i].name, name) == 0)
            return &d->t[i];
    return NULL;
}

/* Output bound: the tensors of a real file add up to at most its size (views
 * may overlap, so allow some more); a damaged file cannot ask for more. */
static int within_budget(loader *L, size_t *total, const uf_pk *t, uf_err *e)
{
    size_t n = uf_pyelem_size(t->elem) < 4 ? 4 : uf_pyelem_size(t->elem);
    for (int k = 0; k < t->ndim; k++)
        if (__builtin_mul_overflow(n, (size_t)t->shape[k], &n))
            n = SIZE_MAX;
    size_t cap = ((size_t)1 << 30) + 8 * L->file_size;
    if (n > cap || *total > cap - n)
        return uf_fail(e, "%s: the tensors would need more than %zu MiB: a damaged file", L->path, cap >> 20);
    *total += n;
    return 0;
}

int uf_torch_load(const char *path, const char *key, const char *prefix, uf_tensor_dict *out, uf_err *e)
{
    memset(out, 0, sizeof *out);
    if (!key)
        key = "";
    if (uf_sha256_check_known(path, e))
        return -1;
    loader L = {.path = path};
    const uf_pk *root = NULL, *d;
    wanted *w = NULL;
    size_t nw = 0, total = 0;
    fmt f;
    int rc = detect(&L, &f, e);
    if (rc == 0) {
        switch (f) {
        case FMT_ZIP: rc = zip_read_pickle(&L, &root, e); break;
        case FMT_LEGACY: rc = map_file(&L, e) || legacy_read(&L, &root, e) ? -1 : 0; break;
        case FMT_TAR: rc = tar_read(&L, &root, e); break;
        }
    }
    if (rc == 0 && !L.st_sorted)
        rc = sort_refs(&L, e);
    if (rc == 0)
        rc = (d = follow(&L, root, key, e)) ? collect(&L, d, key, prefix, &w, &nw, e) : -1;
    for (size_t i = 0; rc == 0 && i < nw; i++) {
        storage_ref *r = find_ref(&L, w[i].t->base->s);
        if (r)
            r->needed = 1;
        rc = within_budget(&L, &total, w[i].t, e);
    }
    if (rc == 0 && f == FMT_ZIP)
        rc = each_entry(&L, FMT_ZIP, zip_data_entry, NULL, e);
    if (rc == 0 && !(out->t = uf_calloc(nw, sizeof *out->t, e)))
        rc = uf_wrap(e, "%s", path);
    for (size_t i = 0; rc == 0 && i < nw; i++) {
        uf_tensor *t = &out->t[i];
        if (!(t->name = uf_strdup(w[i].name, e)))
            rc = uf_wrap(e, "%s", path);
        else
            rc = gather(&L, &w[i], prefix, &t->a, e);
        out->n = (int)i + 1;
    }
    free(w);
    loader_free(&L);
    if (rc)
        uf_tensor_dict_free(out);
    return rc;
}
