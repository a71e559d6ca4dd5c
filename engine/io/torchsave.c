/* torch.save's zip format written by hand: the pickle is built in memory
 * with Python's opcode and memo choices, then the archive records are
 * streamed to a temporary file. See torchsave.h for the layout. */
#include "torchsave.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/fileio.h"

/* Python's pickler groups dict items in SETITEMS batches of this size. */
#define PK_BATCH 1000
/* torch aligns every record's payload to this many bytes (so it can be mapped). */
#define ZIP_ALIGN 64
#define ZIP_MAX_RECORDS 65535
#define ZIP_NAME_MAX 64

/* ---- the pickle ---- */

/* The pickle's bytes and the pickler's memo: the index of the next memo
 * entry and where the objects torch's pickler shares (one Python object
 * each) were memoised, -1 before their first use. */
typedef struct pkw {
    uf_buf b;
    uint32_t memo;
    int64_t ordered_dict, rebuild, storage_type[2], storage_str, cpu_str;
} pkw;

static void put(pkw *w, const void *p, size_t n)
{
    uf_buf_put(&w->b, p, n);
}

static void op(pkw *w, unsigned char c)
{
    put(w, &c, 1);
}

/* Little-endian bytes of v (bytes <= 8), as pickles and zip headers store integers. */
static unsigned char *le(unsigned char *p, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++)
        p[k] = (unsigned char)(v >> (8 * k));
    return p + bytes;
}

/* An opcode with a 1-byte argument below 256, else the 4-byte form. */
static void op_index(pkw *w, unsigned char op1, unsigned char op4, uint32_t i)
{
    unsigned char b[5] = {op1, (unsigned char)i};
    if (i >= 256) {
        b[0] = op4;
        le(b + 1, i, 4);
    }
    put(w, b, i < 256 ? 2 : 5);
}

/* BINPUT / LONG_BINPUT: Python memoises every str, tuple, global and reduce result. */
static int64_t memo_put(pkw *w)
{
    op_index(w, 'q', 'r', w->memo);
    return w->memo++;
}

/* BININT1 / BININT2 / BININT. Sizes, strides and element counts stay below
 * 2^31 because the file is under 4 GiB, so LONG1 is never needed. */
static void pk_int(pkw *w, int64_t v)
{
    unsigned char b[5];
    if (v >= 0 && v < 256) {
        b[0] = 'K', b[1] = (unsigned char)v;
        put(w, b, 2);
    } else if (v >= 0 && v < 65536) {
        b[0] = 'M';
        put(w, b, (size_t)(le(b + 1, (uint64_t)v, 2) - b));
    } else {
        b[0] = 'J';
        put(w, b, (size_t)(le(b + 1, (uint64_t)v, 4) - b));
    }
}

/* BINUNICODE: a str, memoised */
static void pk_str(pkw *w, const char *s)
{
    unsigned char b[5] = {'X'};
    size_t n = strlen(s);
    put(w, b, (size_t)(le(b + 1, n, 4) - b));
    put(w, s, n);
    memo_put(w);
}

/* A shared object: written and memoised on first use, fetched (BINGET) after. */
static void pk_shared(pkw *w, int64_t *slot, int global, const char *text)
{
    if (*slot >= 0) {
        op_index(w, 'h', 'j', (uint32_t)*slot);
        return;
    }
    if (global) {
        op(w, 'c');
        put(w, text, strlen(text));
        *slot = memo_put(w);
    } else {
        pk_str(w, text);
        *slot = w->memo - 1;
    }
}

/* A tuple of ints as Python writes it: EMPTY_TUPLE (not memoised), TUPLE1-3, or MARK ... TUPLE. */
static void pk_int_tuple(pkw *w, const int64_t *v, int n)
{
    if (n == 0) {
        op(w, ')');
        return;
    }
    if (n > 3)
        op(w, '(');
    for (int k = 0; k < n; k++)
        pk_int(w, v[k]);
    op(w, n > 3 ? 't' : (unsigned char)(0x84 + n)); /* TUPLE1 0x85, TUPLE2 0x86, TUPLE3 0x87 */
    memo_put(w);
}

/* _rebuild_tensor_v2(persistent storage ('storage', type, key, 'cpu', numel),
 * offset 0, size, contiguous stride, requires_grad False, OrderedDict()) */
static void pk_tensor(pkw *w, const uf_array *a, const char *key)
{
    int64_t stride[UF_MAX_DIMS], s = 1;
    for (int k = a->ndim - 1; k >= 0; k--) {
        stride[k] = s;
        s *= a->shape[k];
    }
    pk_shared(w, &w->rebuild, 1, "torch._utils\n_rebuild_tensor_v2\n");
    op(w, '(');
    op(w, '(');
    pk_shared(w, &w->storage_str, 0, "storage");
    if (a->dtype == UF_F32)
        pk_shared(w, &w->storage_type[0], 1, "torch\nFloatStorage\n");
    else
        pk_shared(w, &w->storage_type[1], 1, "torch\nLongStorage\n");
    pk_str(w, key);
    pk_shared(w, &w->cpu_str, 0, "cpu");
    pk_int(w, (int64_t)uf_array_count(a));
    op(w, 't');
    memo_put(w);
    op(w, 'Q'); /* BINPERSID */
    pk_int(w, 0);
    pk_int_tuple(w, a->shape, a->ndim);
    pk_int_tuple(w, stride, a->ndim);
    op(w, 0x89); /* NEWFALSE */
    pk_shared(w, &w->ordered_dict, 1, "collections\nOrderedDict\n");
    op(w, ')');
    op(w, 'R');
    memo_put(w);
    op(w, 't');
    memo_put(w);
    op(w, 'R');
    memo_put(w);
}

/* The whole pickle: OrderedDict() then the items in batches, as OrderedDict.__reduce__ makes Python write it. */
static int build_pickle(const uf_tensor_dict *d, pkw *w, const char *path, uf_err *e)
{
    *w = (pkw){.ordered_dict = -1, .rebuild = -1, .storage_type = {-1, -1}, .storage_str = -1, .cpu_str = -1};
    op(w, 0x80); /* PROTO 2 */
    op(w, 2);
    pk_shared(w, &w->ordered_dict, 1, "collections\nOrderedDict\n");
    op(w, ')');
    op(w, 'R');
    memo_put(w);
    for (int i0 = 0; i0 < d->n; i0 += PK_BATCH) {
        int n = d->n - i0 < PK_BATCH ? d->n - i0 : PK_BATCH;
        if (n > 1)
            op(w, '(');
        for (int i = i0; i < i0 + n; i++) {
            char key[24];
            snprintf(key, sizeof key, "%d", i);
            pk_str(w, d->t[i].name);
            pk_tensor(w, &d->t[i].a, key);
        }
        op(w, n > 1 ? 'u' : 's'); /* SETITEMS / SETITEM */
    }
    op(w, '.');
    if (w->b.oom) {
        uf_buf_free(&w->b);
        return uf_fail(e, "%s: out of memory", path);
    }
    return 0;
}

/* ---- the zip archive ---- */

typedef struct zrec {
    char name[ZIP_NAME_MAX];
    uint32_t crc, size, offset;
} zrec;

typedef struct zipw {
    FILE *f;
    const char *path;
    uint64_t pos;
    zrec *r;
    int n;
} zipw;

static void zput(zipw *z, const void *p, size_t n)
{
    if (n)
        fwrite(p, 1, n, z->f); /* errors surface in uf_out_commit (ferror) */
    z->pos += n;
}

/* Fails when bytes more from here would pass the 4 GiB of 32-bit zip offsets. */
static int room(const zipw *z, uint64_t bytes, uf_err *e)
{
    if (bytes > UINT32_MAX || z->pos > UINT32_MAX - bytes)
        return uf_fail(e, "%s: the file would exceed 4 GiB, beyond this writer (it writes no per-record zip64 fields)",
                       z->path);
    return 0;
}

/* Local header with torch's "FB" alignment field, the payload, and (when not
 * empty) a data descriptor with its CRC and size. */
static int zip_record(zipw *z, const char *name, const void *data, uint64_t size, uf_err *e)
{
    size_t nl = strlen(name);
    if (room(z, 30 + nl + 4 + ZIP_ALIGN + size + 16, e))
        return -1;
    uint64_t start = z->pos + 30 + nl + 4;
    size_t pad = (size_t)((ZIP_ALIGN - start % ZIP_ALIGN) % ZIP_ALIGN);
    zrec *r = &z->r[z->n++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->crc = size ? (uint32_t)crc32(0L, data, (uInt)size) : 0;
    r->size = (uint32_t)size;
    r->offset = (uint32_t)z->pos;
    unsigned char h[30 + 4 + ZIP_ALIGN], *p = h;
    p = le(p, 0x04034b50, 4);
    p = le(p, 0, 2);                     /* version needed: 0, as miniz writes it */
    p = le(p, size ? 0x0808 : 0x0800, 2); /* UTF-8 name; sizes in a data descriptor */
    memset(p, 0, 18); /* stored, time, date; CRC and sizes follow the data */
    p += 18;
    p = le(p, nl, 2);
    p = le(p, 4 + pad, 2);
    zput(z, h, (size_t)(p - h));
    zput(z, name, nl);
    p = le(h, 'F' | 'B' << 8, 2);
    p = le(p, pad, 2);
    memset(p, 'Z', pad);
    zput(z, h, 4 + pad);
    zput(z, data, (size_t)size);
    if (size) {
        p = le(h, 0x08074b50, 4);
        p = le(p, r->crc, 4);
        p = le(p, size, 4);
        p = le(p, size, 4);
        zput(z, h, (size_t)(p - h));
    }
    return 0;
}

/* Central directory, then the zip64 end record and locator (miniz always
 * writes them) and the plain end record. */
static int zip_finish(zipw *z, uf_err *e)
{
    unsigned char h[128], *p;
    uint64_t cd = z->pos;
    for (int i = 0; i < z->n; i++) {
        const zrec *r = &z->r[i];
        size_t nl = strlen(r->name);
        if (room(z, 46 + nl + 98, e))
            return -1;
        p = le(h, 0x02014b50, 4);
        p = le(p, 0, 4); /* version made by, needed */
        p = le(p, r->size ? 0x0808 : 0x0800, 2);
        p = le(p, 0, 6); /* stored, time, date */
        p = le(p, r->crc, 4);
        p = le(p, r->size, 4);
        p = le(p, r->size, 4);
        p = le(p, nl, 2);
        memset(p, 0, 12); /* extra, comment, disk, attributes */
        p += 12;
        p = le(p, r->offset, 4);
        zput(z, h, (size_t)(p - h));
        zput(z, r->name, nl);
    }
    uint64_t cd_size = z->pos - cd, end64 = z->pos;
    p = le(h, 0x06064b50, 4);
    p = le(p, 44, 8);     /* the rest of this record */
    p = le(p, 0x031e, 2); /* made by: Unix, zip 3.0 */
    p = le(p, 45, 2);     /* needed: 4.5, zip64 */
    p = le(p, 0, 8);      /* disks */
    p = le(p, (uint64_t)z->n, 8);
    p = le(p, (uint64_t)z->n, 8);
    p = le(p, cd_size, 8);
    p = le(p, cd, 8);
    p = le(p, 0x07064b50, 4);
    p = le(p, 0, 4);
    p = le(p, end64, 8);
    p = le(p, 1, 4);
    zput(z, h, (size_t)(p - h));
    p = le(h, 0x06054b50, 4);
    p = le(p, 0, 4);
    p = le(p, (uint64_t)z->n, 2);
    p = le(p, (uint64_t)z->n, 2);
    p = le(p, cd_size, 4);
    p = le(p, cd, 4);
    p = le(p, 0, 2);
    zput(z, h, (size_t)(p - h));
    return 0;
}

/* ---- the entry point ---- */

typedef struct skey {
    char key[24];
    int i;
} skey;

static int cmp_skey(const void *a, const void *b)
{
    return strcmp(((const skey *)a)->key, ((const skey *)b)->key);
}

static int check_dict(const char *path, const uf_tensor_dict *d, uf_err *e)
{
    if (d->n > ZIP_MAX_RECORDS - 2)
        return uf_fail(e, "%s: %d tensors: more than a zip without zip64 records holds", path, d->n);
    for (int i = 0; i < d->n; i++)
        if (d->t[i].a.dtype != UF_F32 && d->t[i].a.dtype != UF_I64)
            return uf_fail(e, "%s: tensor '%s' is %s; only float32 and int64 are written", path, d->t[i].name,
                           uf_dtype_descr(d->t[i].a.dtype));
    return 0;
}

/* data.pkl, the storages in torch's order (its keys sorted as strings), version */
static int zip_records(zipw *z, const uf_tensor_dict *d, const pkw *pk, skey *order, uf_err *e)
{
    for (int i = 0; i < d->n; i++) {
        snprintf(order[i].key, sizeof order[i].key, "%d", i);
        order[i].i = i;
    }
    qsort(order, (size_t)d->n, sizeof *order, cmp_skey);
    if (zip_record(z, "archive/data.pkl", pk->b.p, pk->b.n, e))
        return -1;
    for (int k = 0; k < d->n; k++) {
        const uf_array *a = &d->t[order[k].i].a;
        char name[ZIP_NAME_MAX];
        snprintf(name, sizeof name, "archive/data/%s", order[k].key);
        if (zip_record(z, name, a->data, uf_array_count(a) * uf_dtype_size(a->dtype), e))
            return -1;
    }
    if (zip_record(z, "archive/version", "3\n", 2, e))
        return -1;
    return zip_finish(z, e);
}

int uf_torch_save(const char *path, const uf_tensor_dict *d, uf_err *e)
{
    pkw pk;
    if (check_dict(path, d, e) || build_pickle(d, &pk, path, e))
        return -1;
    zipw z = {.path = path, .r = uf_calloc((size_t)d->n + 2, sizeof *z.r, e)};
    skey *order = z.r ? uf_calloc((size_t)d->n + 1, sizeof *order, e) : NULL;
    uf_out o;
    int rc;
    if (!order)
        rc = uf_wrap(e, "%s", path);
    else if ((rc = uf_out_open(&o, path, e)) == 0) {
        z.f = o.f;
        rc = zip_records(&z, d, &pk, order, e);
        if (rc == 0)
            rc = uf_out_commit(&o, e);
        else
            uf_out_abort(&o);
    }
    free(order);
    free(z.r);
    uf_buf_free(&pk.b);
    return rc;
}
