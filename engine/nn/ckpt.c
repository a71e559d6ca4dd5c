#include "ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fileio.h"
#include "core/sha256.h"

#define HEADER 88 /* magic 8, version 4, reserved 4, size 8, sha256 hex 64 */

/* ---- writing: the payload is built in memory, hashed, then written ---- */

static void put_u32(uf_buf *b, uint32_t v) { uf_buf_put(b, &v, 4); }
static void put_i64(uf_buf *b, int64_t v) { uf_buf_put(b, &v, 8); }
static void put_f64(uf_buf *b, double v) { uf_buf_put(b, &v, 8); }

static void put_str(uf_buf *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    uf_buf_put(b, s, strlen(s));
}

static void put_table(uf_buf *b, const uf_params *p, const float *values)
{
    put_u32(b, (uint32_t)p->n);
    for (int i = 0; i < p->n; i++) {
        const uf_pdesc *d = &p->d[i];
        put_str(b, d->name);
        put_u32(b, (uint32_t)d->ndim);
        for (int k = 0; k < d->ndim; k++)
            put_i64(b, d->shape[k]);
        put_u32(b, (uint32_t)d->decay);
        put_u32(b, (uint32_t)d->group);
        uf_buf_put(b, values + d->offset, sizeof(float) * d->count);
    }
}

int uf_ckpt_save(const char *path, const uf_model *m, const uf_sgd *opt, const uf_train_state *ts, uf_err *e)
{
    return uf_ckpt_save_ex(path, m, opt, ts, NULL, e);
}

int uf_ckpt_save_ex(const char *path, const uf_model *m, const uf_sgd *opt, const uf_train_state *ts,
                    const uf_ckpt_extra *x, uf_err *e)
{
    uf_buf b = {0};
    put_str(&b, m->arch.name);
    put_u32(&b, (uint32_t)m->nhead);
    for (int h = 0; h < m->nhead; h++) {
        put_str(&b, m->head[h].s.name);
        put_u32(&b, (uint32_t)m->head[h].s.out);
        put_u32(&b, (uint32_t)m->head[h].s.kind);
    }
    put_i64(&b, ts->step);
    put_i64(&b, ts->epoch);
    put_i64(&b, (int64_t)ts->seed);
    for (int k = 0; k < 4; k++)
        put_i64(&b, (int64_t)ts->rng[k]);
    put_f64(&b, opt->momentum);
    put_f64(&b, opt->dampening);
    put_u32(&b, (uint32_t)opt->nesterov);
    put_u32(&b, UF_SGD_GROUPS);
    for (int g = 0; g < UF_SGD_GROUPS; g++) {
        put_f64(&b, opt->lr[g]);
        put_f64(&b, opt->weight_decay[g]);
    }
    put_i64(&b, opt->steps);
    put_table(&b, &m->p, m->p.w);
    put_table(&b, &m->buf, m->buf.w);
    if (opt->steps > 0)
        for (int i = 0; i < m->p.n; i++)
            uf_buf_put(&b, m->p.m + m->p.d[i].offset, sizeof(float) * m->p.d[i].count);
    put_str(&b, x ? x->note : "");
    put_u32(&b, x ? (uint32_t)x->ntables : 0);
    for (int t = 0; x && t < x->ntables; t++)
        put_table(&b, x->tables[t], x->tables[t]->w);
    char hex[65];
    if (b.oom || uf_sha256_mem(b.p, b.n, hex)) {
        const char *why = b.oom ? "out of memory" : "sha256 failed"; /* read before the free empties b */
        uf_buf_free(&b);
        return uf_fail(e, "%s: %s", path, why);
    }
    char head[HEADER];
    uint32_t version = UF_CKPT_VERSION, zero = 0;
    uint64_t size = b.n;
    memcpy(head, UF_CKPT_MAGIC, 8);
    memcpy(head + 8, &version, 4);
    memcpy(head + 12, &zero, 4);
    memcpy(head + 16, &size, 8);
    memcpy(head + 24, hex, 64);
    uf_out o;
    int rc = uf_out_open(&o, path, e);
    if (rc == 0) {
        fwrite(head, 1, HEADER, o.f);
        fwrite(b.p, 1, b.n, o.f);
        rc = uf_out_commit(&o, e);
    }
    uf_buf_free(&b);
    return rc;
}

/* ---- reading ---- */

typedef struct rbuf {
    const char *p;
    size_t n, pos;
    const char *path;
    uf_err *e;
    int bad;
    uint32_t version;
} rbuf;

static int get(rbuf *r, void *x, size_t n)
{
    if (r->bad || n > r->n - r->pos) {
        if (!r->bad)
            uf_fail(r->e, "%s: malformed checkpoint (entry runs past the end)", r->path);
        r->bad = 1;
        memset(x, 0, n);
        return -1;
    }
    memcpy(x, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

static uint32_t get_u32(rbuf *r)
{
    uint32_t v;
    get(r, &v, 4);
    return v;
}

static int64_t get_i64(rbuf *r)
{
    int64_t v;
    get(r, &v, 8);
    return v;
}

static double get_f64(rbuf *r)
{
    double v;
    get(r, &v, 8);
    return v;
}

static void get_str(rbuf *r, char *s, size_t cap)
{
    uint32_t n = get_u32(r);
    if (!r->bad && n >= cap) {
        uf_fail(r->e, "%s: malformed checkpoint (a name of %u bytes)", r->path, n);
        r->bad = 1;
    }
    if (r->bad) {
        s[0] = '\0';
        return;
    }
    get(r, s, n);
    s[n] = '\0';
}

/* Reads the whole file and checks header and checksum; r->p points at the payload. */
static int open_ckpt(const char *path, char **buf, rbuf *r, uf_err *e)
{
    size_t len;
    if (uf_read_file(path, buf, &len, e))
        return -1;
    const char *p = *buf;
    uint32_t version;
    uint64_t size;
    if (len < HEADER || memcmp(p, UF_CKPT_MAGIC, 8) != 0)
        return uf_fail(e, "%s: not a uotft checkpoint (no %s header)", path, UF_CKPT_MAGIC);
    memcpy(&version, p + 8, 4);
    memcpy(&size, p + 16, 8);
    if (version < 1 || version > UF_CKPT_VERSION)
        return uf_fail(e, "%s: checkpoint version %u, this build reads versions 1 to %d", path, version,
                       UF_CKPT_VERSION);
    if (size != len - HEADER)
        return uf_fail(e, "%s: truncated checkpoint (%zu payload bytes, header says %llu)", path, len - HEADER,
                       (unsigned long long)size);
    char hex[65];
    if (uf_sha256_mem(p + HEADER, size, hex) || memcmp(hex, p + 24, 64) != 0)
        return uf_fail(e, "%s: checkpoint checksum mismatch (corrupt file)", path);
    *r = (rbuf){.p = p + HEADER, .n = size, .path = path, .e = e, .version = version};
    return 0;
}

static void read_arch(rbuf *r, uf_arch *a, uf_head_spec *heads, int *nheads)
{
    char name[sizeof a->name];
    get_str(r, name, sizeof name);
    if (!r->bad && uf_arch_parse(name, a, r->e)) {
        uf_wrap(r->e, "%s: ", r->path);
        r->bad = 1;
    }
    uint32_t nh = get_u32(r);
    if (!r->bad && nh > UF_MAX_HEADS) {
        uf_fail(r->e, "%s: malformed checkpoint (%u heads)", r->path, nh);
        r->bad = 1;
    }
    *nheads = r->bad ? 0 : (int)nh;
    for (int h = 0; h < *nheads; h++) {
        get_str(r, heads[h].name, sizeof heads[h].name);
        heads[h].out = (int)get_u32(r);
        heads[h].kind = get_u32(r) ? UF_HEAD_MLP : UF_HEAD_LINEAR;
    }
}

int uf_ckpt_read_arch(const char *path, uf_arch *a, uf_head_spec *heads, int *nheads, uf_err *e)
{
    char *buf = NULL;
    rbuf r;
    int rc = open_ckpt(path, &buf, &r, e);
    if (rc == 0) {
        read_arch(&r, a, heads, nheads);
        rc = r.bad ? -1 : 0;
    }
    free(buf);
    return rc;
}

/* Skips a table whose layout the reader does not know (extras nobody asked for). */
static void skip_table(rbuf *r)
{
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        char name[UF_NAME_MAX];
        get_str(r, name, sizeof name);
        uint32_t ndim = get_u32(r);
        uint64_t count = 1, left = r->n / sizeof(float);
        int big = ndim > UF_PARAM_DIMS;
        for (uint32_t k = 0; k < ndim && !big && !r->bad; k++) {
            int64_t d = get_i64(r);
            big = d < 0 || (d > 0 && count > left / (uint64_t)d);
            count *= big ? 1 : (uint64_t)d;
        }
        get_u32(r);
        get_u32(r);
        if (!r->bad && (big || count > (r->n - r->pos) / sizeof(float))) {
            uf_fail(r->e, "%s: malformed checkpoint (extra tensor '%s')", r->path, name);
            r->bad = 1;
        }
        if (!r->bad)
            r->pos += (size_t)count * sizeof(float);
    }
}

static void read_table(rbuf *r, uf_params *p, const char *arch)
{
    uint32_t n = get_u32(r);
    if (!r->bad && n != (uint32_t)p->n) {
        uf_fail(r->e, "%s: holds %u tensors of a table where %s has %d", r->path, n, arch, p->n);
        r->bad = 1;
    }
    for (int i = 0; i < p->n && !r->bad; i++) {
        const uf_pdesc *d = &p->d[i];
        char name[UF_NAME_MAX];
        int64_t shape[UF_PARAM_DIMS] = {0};
        get_str(r, name, sizeof name);
        uint32_t ndim = get_u32(r);
        int same = !r->bad && ndim == (uint32_t)d->ndim && strcmp(name, d->name) == 0;
        for (uint32_t k = 0; k < ndim && k < UF_PARAM_DIMS; k++)
            shape[k] = get_i64(r);
        for (int k = 0; same && k < d->ndim; k++)
            same = shape[k] == d->shape[k];
        get_u32(r); /* decay and group: the model's own settings stand */
        get_u32(r);
        if (!r->bad && !same) {
            char fs[128], ms[128];
            uf_pdesc f = {.ndim = ndim <= UF_PARAM_DIMS ? (int)ndim : UF_PARAM_DIMS};
            memcpy(f.shape, shape, sizeof shape);
            uf_pdesc_shape_str(&f, fs, sizeof fs);
            uf_pdesc_shape_str(d, ms, sizeof ms);
            uf_fail(r->e, "%s: tensor %d is '%s' %s in the file, but '%s' %s in %s", r->path, i, name, fs,
                    d->name, ms, arch);
            r->bad = 1;
        }
        get(r, p->w + d->offset, sizeof(float) * d->count);
    }
}

int uf_ckpt_load(const char *path, uf_model *m, uf_sgd *opt, uf_train_state *ts, uf_err *e)
{
    return uf_ckpt_load_ex(path, m, opt, ts, NULL, e);
}

/* Version 2's note and extra tables; x NULL skips them. */
static void read_extra(rbuf *r, uf_ckpt_extra *x)
{
    char note[sizeof x->note];
    note[0] = '\0';
    uint32_t n = 0;
    if (r->version >= 2) {
        get_str(r, note, sizeof note);
        n = get_u32(r);
    }
    if (!x) {
        for (uint32_t t = 0; t < n && !r->bad; t++)
            skip_table(r);
        return;
    }
    strcpy(x->note, note);
    if (!r->bad && n != (uint32_t)x->ntables) {
        uf_fail(r->e, "%s: holds %u extra tables, the trainer expects %d", r->path, n, x->ntables);
        r->bad = 1;
    }
    for (int t = 0; t < x->ntables && !r->bad; t++)
        read_table(r, x->tables[t], "the trainer's extra table");
}

int uf_ckpt_load_ex(const char *path, uf_model *m, uf_sgd *opt, uf_train_state *ts, uf_ckpt_extra *x, uf_err *e)
{
    char *buf = NULL;
    rbuf r;
    if (open_ckpt(path, &buf, &r, e)) {
        free(buf);
        return -1;
    }
    uf_arch a;
    uf_head_spec heads[UF_MAX_HEADS];
    int nh;
    read_arch(&r, &a, heads, &nh);
    if (!r.bad && (strcmp(a.name, m->arch.name) != 0 || nh != m->nhead)) {
        uf_fail(e, "%s: a checkpoint of %s with %d heads, but the model is %s with %d", path, a.name, nh,
                m->arch.name, m->nhead);
        r.bad = 1;
    }
    for (int h = 0; h < nh && !r.bad; h++)
        if (strcmp(heads[h].name, m->head[h].s.name) != 0 || heads[h].out != m->head[h].s.out ||
            heads[h].kind != m->head[h].s.kind) {
            uf_fail(e, "%s: head %d is '%s' with %d outputs in the file, but '%s' with %d in the model", path, h,
                    heads[h].name, heads[h].out, m->head[h].s.name, m->head[h].s.out);
            r.bad = 1;
        }
    uf_train_state t;
    t.step = get_i64(&r);
    t.epoch = get_i64(&r);
    t.seed = (uint64_t)get_i64(&r);
    for (int k = 0; k < 4; k++)
        t.rng[k] = (uint64_t)get_i64(&r);
    uf_sgd o = {0};
    o.momentum = get_f64(&r);
    o.dampening = get_f64(&r);
    o.nesterov = (int)get_u32(&r);
    if (!r.bad && get_u32(&r) != UF_SGD_GROUPS) {
        uf_fail(e, "%s: malformed checkpoint (optimiser groups)", path);
        r.bad = 1;
    }
    for (int g = 0; g < UF_SGD_GROUPS; g++) {
        o.lr[g] = get_f64(&r);
        o.weight_decay[g] = get_f64(&r);
    }
    o.steps = get_i64(&r);
    read_table(&r, &m->p, m->arch.name);
    read_table(&r, &m->buf, m->arch.name);
    for (int i = 0; i < m->p.n && o.steps > 0; i++)
        get(&r, m->p.m + m->p.d[i].offset, sizeof(float) * m->p.d[i].count);
    read_extra(&r, x);
    if (!r.bad && r.pos != r.n) {
        uf_fail(e, "%s: malformed checkpoint (%zu bytes after the last entry)", path, r.n - r.pos);
        r.bad = 1;
    }
    free(buf);
    if (r.bad)
        return -1;
    if (opt)
        *opt = o;
    if (ts)
        *ts = t;
    return 0;
}

int uf_ckpt_load_model(const char *path, uf_model *m, uf_err *e)
{
    uf_arch a;
    uf_head_spec heads[UF_MAX_HEADS];
    int nh;
    if (uf_ckpt_read_arch(path, &a, heads, &nh, e) || uf_model_create(m, &a, heads, nh, e))
        return -1;
    if (uf_ckpt_load(path, m, NULL, NULL, e)) {
        uf_model_free(m);
        return -1;
    }
    return 0;
}

int uf_ckpt_is(const char *path)
{
    char magic[8];
    FILE *f = fopen(path, "rb");
    int yes = f && fread(magic, 1, 8, f) == 8 && memcmp(magic, UF_CKPT_MAGIC, 8) == 0;
    if (f)
        fclose(f);
    return yes;
}
