/* The pickle machine: a stack of value nodes, a mark stack and a memo, driven
 * by one opcode at a time (see pickle.h for what is accepted). Opcode meanings
 * follow CPython's Lib/pickle.py and pickletools.py. */
#include "pickle.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

/* ---- nodes and the budget ---- */

static int charge(uf_pk_doc *doc, size_t n, uf_err *e)
{
    if (n > doc->max_bytes || doc->bytes > doc->max_bytes - n)
        return uf_fail(e, "more than %zu MiB of values: not a file of arrays or tensors", doc->max_bytes >> 20);
    doc->bytes += n;
    return 0;
}

uf_pk *uf_pk_new(uf_pk_doc *doc, uf_pk_type t, uf_err *e)
{
    if (charge(doc, sizeof(uf_pk) + sizeof(uf_pk *), e))
        return NULL;
    if (doc->n_nodes == doc->cap_nodes) {
        size_t cap = doc->cap_nodes ? 2 * doc->cap_nodes : 256;
        uf_pk **nodes = uf_realloc(doc->nodes, cap, sizeof *nodes, e);
        if (!nodes)
            return NULL;
        doc->nodes = nodes;
        doc->cap_nodes = cap;
    }
    uf_pk *v = uf_calloc(1, sizeof *v, e);
    if (!v)
        return NULL;
    v->type = t;
    doc->nodes[doc->n_nodes++] = v;
    return v;
}

int64_t *uf_pk_alloc_dims(uf_pk_doc *doc, int n, uf_err *e)
{
    /* kept as a BYTES node so the doc frees it */
    uf_pk *holder = uf_pk_new(doc, UF_PK_BYTES, e);
    if (!holder || charge(doc, (size_t)n * 8 + 8, e))
        return NULL;
    holder->s = uf_calloc((size_t)n + 1, 8, e);
    return (int64_t *)holder->s;
}

void uf_pk_doc_free(uf_pk_doc *doc)
{
    for (size_t i = 0; i < doc->n_nodes; i++) {
        free(doc->nodes[i]->s);
        free(doc->nodes[i]->items);
        free(doc->nodes[i]);
    }
    free(doc->nodes);
    memset(doc, 0, sizeof *doc);
}

/* ---- the machine ---- */

typedef struct vm {
    const unsigned char *start, *p, *end;
    const uf_pk_opts *o;
    uf_pk_doc *doc;
    uf_err *e;
    uf_pk **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    uf_pk **memo;
    size_t memo_cap, memo_len, memo_max;
    size_t op_at; /* offset of the opcode being run */
    int op;
} vm;

static const char *name_of(const vm *m) { return m->o && m->o->name ? m->o->name : "pickle"; }

static int bad(vm *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(vm *m, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return uf_fail(m->e, "%s: pickle opcode 0x%02x at byte %zu: %s", name_of(m), m->op, m->op_at, why);
}

/* Wraps a budget or allocation failure with the position. */
static int fail_here(vm *m) { return uf_wrap(m->e, "%s: pickle opcode 0x%02x at byte %zu", name_of(m), m->op, m->op_at); }

static uf_pk *node(vm *m, uf_pk_type t)
{
    uf_pk *v = uf_pk_new(m->doc, t, m->e);
    if (!v)
        fail_here(m);
    return v;
}

static int grow(vm *m, void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    if (charge(m->doc, (ncap - *cap) * elem, m->e))
        return fail_here(m);
    void *p = uf_realloc(*arr, ncap, elem, m->e);
    if (!p)
        return fail_here(m);
    *arr = p;
    *cap = ncap;
    return 0;
}

static int push(vm *m, uf_pk *v)
{
    if (!v || grow(m, (void **)&m->stack, &m->scap, m->sp + 1, sizeof *m->stack))
        return -1;
    m->stack[m->sp++] = v;
    return 0;
}

static size_t floor_of(const vm *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static uf_pk *pop(vm *m)
{
    if (m->sp <= floor_of(m)) {
        bad(m, "stack underflow");
        return NULL;
    }
    return m->stack[--m->sp];
}

static uf_pk *top(vm *m)
{
    if (m->sp <= floor_of(m)) {
        bad(m, "stack underflow");
        return NULL;
    }
    return m->stack[m->sp - 1];
}

/* The items pushed since the last MARK: *items, *n; the mark is removed and
 * the items stay on the stack above sp until the next push (callers copy them
 * first). */
static int pop_mark(vm *m, uf_pk ***items, size_t *n)
{
    if (!m->nmarks)
        return bad(m, "no MARK on the stack");
    size_t at = m->marks[--m->nmarks];
    /* a MARK before the first push leaves no stack array yet, and NULL + 0 is undefined in C */
    *items = m->stack ? m->stack + at : NULL;
    *n = m->sp - at;
    m->sp = at;
    return 0;
}

static int need(vm *m, size_t n)
{
    if ((size_t)(m->end - m->p) < n)
        return bad(m, "truncated: %zu bytes needed, %zu left", n, (size_t)(m->end - m->p));
    return 0;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads an n-byte little-endian length and checks it against what is left. */
static int read_len(vm *m, int n, size_t *len)
{
    if (need(m, (size_t)n))
        return -1;
    uint64_t v = le(m->p, n);
    m->p += n;
    if (v > (uint64_t)(m->end - m->p))
        return bad(m, "length %llu runs past the end (%zu bytes left)", (unsigned long long)v,
                   (size_t)(m->end - m->p));
    *len = (size_t)v;
    return 0;
}

static int set_bytes(vm *m, uf_pk *v, const void *src, size_t len)
{
    if (charge(m->doc, len + 1, m->e))
        return fail_here(m);
    v->s = uf_alloc(len + 1, m->e);
    if (!v->s)
        return fail_here(m);
    if (len)
        memcpy(v->s, src, len);
    v->s[len] = '\0';
    v->len = len;
    return 0;
}

/* A STR or BYTES node from the next len bytes. */
static int push_bytes(vm *m, uf_pk_type t, size_t len)
{
    uf_pk *v = node(m, t);
    if (!v || set_bytes(m, v, m->p, len))
        return -1;
    m->p += len;
    return push(m, v);
}

static int push_int(vm *m, int64_t i)
{
    uf_pk *v = node(m, UF_PK_INT);
    if (!v)
        return -1;
    v->i = i;
    return push(m, v);
}

static int push_bool(vm *m, int b)
{
    uf_pk *v = node(m, UF_PK_BOOL);
    if (!v)
        return -1;
    v->i = b;
    return push(m, v);
}

static int add_item(vm *m, uf_pk *c, uf_pk *item)
{
    if (grow(m, (void **)&c->items, &c->cap, c->n + 1, sizeof *c->items))
        return -1;
    c->items[c->n++] = item;
    return 0;
}

static uf_pk *make_seq(vm *m, uf_pk_type t, uf_pk **items, size_t n)
{
    uf_pk *v = node(m, t);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (add_item(m, v, items[i]))
            return NULL;
    return v;
}

static int hashable(const uf_pk *k)
{
    return k->type != UF_PK_LIST && k->type != UF_PK_DICT && k->type != UF_PK_NDARRAY &&
           k->type != UF_PK_TENSOR && k->type != UF_PK_STORAGE;
}

/* Inserts (k, v) into dict d: entries keep insertion order. */
static int dict_set(vm *m, uf_pk *d, uf_pk *k, uf_pk *v)
{
    if (d->type != UF_PK_DICT)
        return bad(m, "setting an item on a %s", uf_pk_type_name(d));
    if (!hashable(k))
        return bad(m, "a %s cannot be a dict key", uf_pk_type_name(k));
    if (grow(m, (void **)&d->items, &d->cap, 2 * d->n + 2, sizeof *d->items))
        return -1;
    d->items[2 * d->n] = k;
    d->items[2 * d->n + 1] = v;
    d->n++;
    return 0;
}

static int memo_put(vm *m, size_t idx)
{
    uf_pk *v = top(m);
    if (!v)
        return -1;
    /* Python numbers memo entries 0, 1, 2, ...: an index beyond the input size is not a real pickle */
    if (idx >= m->memo_max)
        return bad(m, "memo index %zu out of range", idx);
    size_t old = m->memo_cap;
    if (grow(m, (void **)&m->memo, &m->memo_cap, idx + 1, sizeof *m->memo))
        return -1;
    memset(m->memo + old, 0, (m->memo_cap - old) * sizeof *m->memo);
    if (!m->memo[idx])
        m->memo_len++;
    m->memo[idx] = v;
    return 0;
}

static int memo_get(vm *m, size_t idx)
{
    if (idx >= m->memo_cap || !m->memo[idx])
        return bad(m, "memo entry %zu was never stored", idx);
    return push(m, m->memo[idx]);
}

/* ---- globals ---- */

static const struct {
    const char *module, *name;
    uf_pk_global g;
} allowed[] = {
    {"numpy.core.multiarray", "_reconstruct", UF_PKG_NP_RECONSTRUCT},
    {"numpy._core.multiarray", "_reconstruct", UF_PKG_NP_RECONSTRUCT},
    {"numpy", "ndarray", UF_PKG_NP_NDARRAY},
    {"numpy", "dtype", UF_PKG_NP_DTYPE},
    {"collections", "OrderedDict", UF_PKG_ORDERED_DICT},
    {"_codecs", "encode", UF_PKG_CODECS_ENCODE},
    {"torch._utils", "_rebuild_tensor", UF_PKG_REBUILD_TENSOR},
    {"torch._utils", "_rebuild_tensor_v2", UF_PKG_REBUILD_TENSOR_V2},
    {"torch._utils", "_rebuild_parameter", UF_PKG_REBUILD_PARAMETER},
};

static const struct {
    const char *prefix;
    uf_pyelem elem;
} torch_types[] = {
    {"Double", UF_PYE_F64}, {"Float", UF_PYE_F32}, {"Half", UF_PYE_F16}, {"BFloat16", UF_PYE_BF16},
    {"Long", UF_PYE_I64},   {"Int", UF_PYE_I32},   {"Short", UF_PYE_I16}, {"Char", UF_PYE_I8},
    {"Byte", UF_PYE_U8},    {"Bool", UF_PYE_BOOL},
};

/* torch.FloatStorage, torch.cuda.HalfTensor, ... */
static int torch_type(const char *module, const char *name, uf_pk_global *g, uf_pyelem *elem)
{
    if (strcmp(module, "torch") != 0 && strcmp(module, "torch.cuda") != 0)
        return -1;
    for (size_t i = 0; i < sizeof torch_types / sizeof torch_types[0]; i++) {
        size_t pl = strlen(torch_types[i].prefix);
        if (strncmp(name, torch_types[i].prefix, pl) != 0)
            continue;
        *elem = torch_types[i].elem;
        if (strcmp(name + pl, "Storage") == 0)
            *g = UF_PKG_STORAGE_TYPE;
        else if (strcmp(name + pl, "Tensor") == 0)
            *g = UF_PKG_TENSOR_TYPE;
        else
            continue;
        return 0;
    }
    return -1;
}

/* Copies s into out with anything unprintable shown as '?'. */
static void printable(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
    out[n] = '\0';
}

static int push_global(vm *m, const char *module, size_t ml, const char *name, size_t nl)
{
    uf_pk *v = node(m, UF_PK_GLOBAL);
    if (!v)
        return -1;
    int found = strlen(module) == ml && strlen(name) == nl &&
                torch_type(module, name, &v->g, &v->elem) == 0;
    for (size_t i = 0; !found && i < sizeof allowed / sizeof allowed[0]; i++)
        if (strlen(module) == ml && strlen(name) == nl && strcmp(module, allowed[i].module) == 0 &&
            strcmp(name, allowed[i].name) == 0) {
            v->g = allowed[i].g;
            found = 1;
        }
    if (!found) {
        char pm[128], pn[128];
        printable(module, ml, pm, sizeof pm);
        printable(name, nl, pn, sizeof pn);
        return bad(m, "refusing global '%s.%s': only NumPy arrays, torch tensors and dicts of them are "
                      "read, and unpickling anything else could run code", pm, pn);
    }
    if (set_bytes(m, v, name, nl))
        return -1;
    return push(m, v);
}

/* GLOBAL: "module\nname\n" */
static int op_global(vm *m)
{
    const char *parts[2];
    size_t lens[2];
    for (int k = 0; k < 2; k++) {
        const unsigned char *nl = memchr(m->p, '\n', (size_t)(m->end - m->p));
        if (!nl)
            return bad(m, "truncated GLOBAL name");
        parts[k] = (const char *)m->p;
        lens[k] = (size_t)(nl - m->p);
        if (lens[k] > 200)
            return bad(m, "GLOBAL name too long");
        m->p = nl + 1;
    }
    char module[201], name[201];
    memcpy(module, parts[0], lens[0]);
    module[lens[0]] = '\0';
    memcpy(name, parts[1], lens[1]);
    name[lens[1]] = '\0';
    return push_global(m, module, lens[0], name, lens[1]);
}

static int op_stack_global(vm *m)
{
    uf_pk *name = pop(m), *module = name ? pop(m) : NULL;
    if (!module)
        return -1;
    if (module->type != UF_PK_STR || name->type != UF_PK_STR)
        return bad(m, "STACK_GLOBAL needs two strings");
    return push_global(m, module->s, module->len, name->s, name->len);
}

/* ---- calling allow-listed globals (REDUCE) and BUILD ---- */

static int is_int(const uf_pk *v) { return v->type == UF_PK_INT || v->type == UF_PK_BOOL; }

/* A tuple of non-negative ints of at most UF_MAX_DIMS entries into dims. */
static int int_tuple(vm *m, const uf_pk *t, int64_t *dims, int *n, const char *what)
{
    if (t->type != UF_PK_TUPLE && t->type != UF_PK_LIST)
        return bad(m, "%s is a %s, not a tuple", what, uf_pk_type_name(t));
    if (t->n > UF_MAX_DIMS)
        return bad(m, "%s has %zu entries (at most %d dimensions)", what, t->n, UF_MAX_DIMS);
    for (size_t i = 0; i < t->n; i++) {
        if (!is_int(t->items[i]) || t->items[i]->i < 0)
            return bad(m, "%s holds something other than a non-negative int", what);
        dims[i] = t->items[i]->i;
    }
    *n = (int)t->n;
    return 0;
}

static int set_dims(vm *m, uf_pk *v, int n, const int64_t *shape, const int64_t *stride)
{
    v->ndim = n;
    v->shape = uf_pk_alloc_dims(m->doc, n, m->e);
    v->stride = v->shape ? uf_pk_alloc_dims(m->doc, n, m->e) : NULL;
    if (!v->stride)
        return fail_here(m);
    memcpy(v->shape, shape, (size_t)n * 8);
    memcpy(v->stride, stride, (size_t)n * 8);
    return 0;
}

static uf_pk *call_ordered_dict(vm *m, uf_pk **a, size_t n)
{
    uf_pk *d = node(m, UF_PK_DICT);
    if (!d)
        return NULL;
    d->i = 1; /* an OrderedDict: BUILD may set attributes (torch's _metadata) */
    if (n == 0)
        return d;
    /* Python 2 reduces an OrderedDict to (OrderedDict, ([[k, v], ...],)) */
    if (n != 1 || (a[0]->type != UF_PK_LIST && a[0]->type != UF_PK_TUPLE)) {
        bad(m, "OrderedDict takes a list of pairs");
        return NULL;
    }
    for (size_t i = 0; i < a[0]->n; i++) {
        uf_pk *pair = a[0]->items[i];
        if ((pair->type != UF_PK_LIST && pair->type != UF_PK_TUPLE) || pair->n != 2) {
            bad(m, "OrderedDict item %zu is not a pair", i);
            return NULL;
        }
        if (dict_set(m, d, pair->items[0], pair->items[1]))
            return NULL;
    }
    return d;
}

static uf_pk *call_reconstruct(vm *m, uf_pk **a, size_t n)
{
    if (n != 3 || a[0]->type != UF_PK_GLOBAL || a[0]->g != UF_PKG_NP_NDARRAY) {
        bad(m, "numpy _reconstruct is only read for numpy.ndarray");
        return NULL;
    }
    return node(m, UF_PK_NDARRAY);
}

/* numpy.dtype('f8', False, True): the byte order comes with BUILD */
static uf_pk *call_dtype(vm *m, uf_pk **a, size_t n)
{
    if (n < 1 || a[0]->type != UF_PK_STR) {
        bad(m, "numpy.dtype needs a type string");
        return NULL;
    }
    const char *code = a[0]->s;
    char order = '=';
    if (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')
        order = *code++;
    uf_pk *v = node(m, UF_PK_DTYPE);
    if (!v)
        return NULL;
    if (uf_pyelem_from_numpy(code, &v->elem)) {
        char pc[64];
        printable(a[0]->s, a[0]->len, pc, sizeof pc);
        bad(m, "numpy dtype '%s' is not supported (numbers only: f8 f4 f2 i8 i4 i2 i1 u1 b1)", pc);
        return NULL;
    }
    v->i = order;
    return v;
}

/* _codecs.encode(text, 'latin1'): how protocol 2 stores bytes. */
static uf_pk *call_encode(vm *m, uf_pk **a, size_t n)
{
    if (n != 2 || a[0]->type != UF_PK_STR || a[1]->type != UF_PK_STR ||
        (strcmp(a[1]->s, "latin1") != 0 && strcmp(a[1]->s, "latin-1") != 0)) {
        bad(m, "_codecs.encode is only read as encode(str, 'latin1')");
        return NULL;
    }
    uf_pk *v = node(m, UF_PK_BYTES);
    if (!v || set_bytes(m, v, a[0]->s, a[0]->len)) /* decoded in place below: never longer */
        return NULL;
    const unsigned char *s = (const unsigned char *)a[0]->s, *end = s + a[0]->len;
    size_t k = 0;
    while (s < end) {
        if (*s < 0x80) {
            v->s[k++] = (char)*s++;
        } else if ((*s == 0xc2 || *s == 0xc3) && s + 1 < end && (s[1] & 0xc0) == 0x80) {
            v->s[k++] = (char)(((s[0] & 0x1f) << 6) | (s[1] & 0x3f));
            s += 2;
        } else {
            bad(m, "_codecs.encode: text is not latin-1");
            return NULL;
        }
    }
    v->len = k;
    v->s[k] = '\0';
    return v;
}

/* _rebuild_tensor(storage, offset, size, stride) and _rebuild_tensor_v2(..., requires_grad, hooks[, meta]) */
static uf_pk *call_rebuild_tensor(vm *m, uf_pk **a, size_t n, int v2)
{
    if (v2 ? (n != 6 && n != 7) : n != 4) {
        bad(m, "tensor rebuild with %zu arguments", n);
        return NULL;
    }
    if (a[0]->type != UF_PK_STORAGE || !is_int(a[1]) || a[1]->i < 0) {
        bad(m, "tensor rebuild needs a storage and a non-negative offset");
        return NULL;
    }
    int64_t shape[UF_MAX_DIMS], stride[UF_MAX_DIMS];
    int ns, nt;
    if (int_tuple(m, a[2], shape, &ns, "tensor size") || int_tuple(m, a[3], stride, &nt, "tensor stride"))
        return NULL;
    if (ns != nt) {
        bad(m, "tensor size and stride differ in length");
        return NULL;
    }
    if (v2 && (a[4]->type != UF_PK_BOOL || a[5]->type != UF_PK_DICT)) {
        bad(m, "tensor rebuild: requires_grad and hooks have the wrong types");
        return NULL;
    }
    uf_pk *t = node(m, UF_PK_TENSOR);
    if (!t || set_dims(m, t, ns, shape, stride))
        return NULL;
    t->offset = a[1]->i;
    t->elem = a[0]->elem;
    t->base = a[0];
    return t;
}

static uf_pk *call(vm *m, uf_pk *f, uf_pk *args)
{
    if (f->type != UF_PK_GLOBAL) {
        bad(m, "REDUCE on a %s", uf_pk_type_name(f));
        return NULL;
    }
    if (args->type != UF_PK_TUPLE) {
        bad(m, "REDUCE arguments are a %s, not a tuple", uf_pk_type_name(args));
        return NULL;
    }
    uf_pk **a = args->items;
    size_t n = args->n;
    switch (f->g) {
    case UF_PKG_ORDERED_DICT: return call_ordered_dict(m, a, n);
    case UF_PKG_NP_RECONSTRUCT: return call_reconstruct(m, a, n);
    case UF_PKG_NP_DTYPE: return call_dtype(m, a, n);
    case UF_PKG_CODECS_ENCODE: return call_encode(m, a, n);
    case UF_PKG_REBUILD_TENSOR: return call_rebuild_tensor(m, a, n, 0);
    case UF_PKG_REBUILD_TENSOR_V2: return call_rebuild_tensor(m, a, n, 1);
    case UF_PKG_REBUILD_PARAMETER:
        if (n != 3 || a[0]->type != UF_PK_TENSOR) {
            bad(m, "_rebuild_parameter needs a tensor");
            return NULL;
        }
        return a[0];
    case UF_PKG_NP_NDARRAY: case UF_PKG_STORAGE_TYPE: case UF_PKG_TENSOR_TYPE: break;
    }
    bad(m, "'%s' cannot be called", f->s);
    return NULL;
}

/* ndarray state: (version, shape, dtype, is_fortran, data) */
static int build_ndarray(vm *m, uf_pk *obj, uf_pk *st)
{
    if (obj->built)
        return bad(m, "numpy array built twice");
    if (st->type != UF_PK_TUPLE || (st->n != 5 && st->n != 4))
        return bad(m, "numpy array state is not a 4- or 5-tuple");
    uf_pk **s = st->items + (st->n == 5);
    int64_t shape[UF_MAX_DIMS], stride[UF_MAX_DIMS];
    int nd;
    if (int_tuple(m, s[0], shape, &nd, "array shape"))
        return -1;
    if (s[1]->type != UF_PK_DTYPE || !is_int(s[2]))
        return bad(m, "numpy array state: bad dtype or order");
    if (s[1]->i == '>')
        return bad(m, "big-endian numpy arrays are not supported");
    if (s[3]->type != UF_PK_BYTES)
        return bad(m, "numpy array data is a %s (object arrays are not supported)", uf_pk_type_name(s[3]));
    size_t esz = uf_pyelem_size(s[1]->elem), count = 1;
    for (int k = 0; k < nd; k++)
        if (__builtin_mul_overflow(count, (size_t)shape[k], &count))
            return bad(m, "numpy array too large");
    if (__builtin_mul_overflow(count, esz, &count) || count != s[3]->len)
        return bad(m, "numpy array data holds %zu bytes, the shape needs %zu", s[3]->len, count);
    int64_t acc = 1; /* element strides for C or Fortran order */
    for (int j = 0; j < nd; j++) {
        int k = s[2]->i ? j : nd - 1 - j;
        stride[k] = acc;
        acc *= shape[k] ? shape[k] : 1;
    }
    if (set_dims(m, obj, nd, shape, stride))
        return -1;
    obj->elem = s[1]->elem;
    obj->base = s[3];
    obj->built = 1;
    return 0;
}

/* dtype state: (version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata]) */
static int build_dtype(vm *m, uf_pk *obj, uf_pk *st)
{
    if (st->type != UF_PK_TUPLE || (st->n != 8 && st->n != 9) || st->items[1]->type != UF_PK_STR ||
        st->items[1]->len != 1 || !strchr("<>|=", st->items[1]->s[0]))
        return bad(m, "numpy dtype state not understood");
    for (int k = 2; k <= 4; k++)
        if (st->items[k]->type != UF_PK_NONE)
            return bad(m, "structured or sub-array numpy dtypes are not supported");
    obj->i = st->items[1]->s[0];
    if (obj->i == '>' && uf_pyelem_size(obj->elem) == 1)
        obj->i = '|';
    return 0;
}

static int op_build(vm *m)
{
    uf_pk *st = pop(m), *obj = st ? top(m) : NULL;
    if (!obj)
        return -1;
    switch (obj->type) {
    case UF_PK_NDARRAY: return build_ndarray(m, obj, st);
    case UF_PK_DTYPE: return build_dtype(m, obj, st);
    case UF_PK_DICT:
        /* an OrderedDict's attributes (torch keeps _metadata there): not needed, dropped */
        if (obj->i && st->type == UF_PK_DICT)
            return 0;
        break;
    default: break;
    }
    return bad(m, "BUILD on a %s is not supported", uf_pk_type_name(obj));
}

/* ---- integers ---- */

/* INT: a decimal line; "01"/"00" are True/False (Python 2 wrote large ints this way). */
static int op_int_text(vm *m)
{
    const unsigned char *nl = memchr(m->p, '\n', (size_t)(m->end - m->p));
    if (!nl || nl - m->p > 40 || nl == m->p)
        return bad(m, "bad INT line");
    char buf[48];
    memcpy(buf, m->p, (size_t)(nl - m->p));
    buf[nl - m->p] = '\0';
    m->p = nl + 1;
    if (strcmp(buf, "01") == 0 || strcmp(buf, "00") == 0)
        return push_bool(m, buf[1] == '1');
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return bad(m, "bad INT value '%s'", buf);
    return push_int(m, v);
}

/* LONG1 / LONG4: little-endian two's complement of n bytes */
static int op_long(vm *m, int lenbytes)
{
    size_t n = 0;
    if (read_len(m, lenbytes, &n))
        return -1;
    if (n > 1024)
        return bad(m, "integer of %zu bytes", n);
    if (n > 8) {
        uf_pk *v = node(m, UF_PK_BIGINT);
        if (!v || set_bytes(m, v, m->p, n))
            return -1;
        m->p += n;
        return push(m, v);
    }
    uint64_t u = le(m->p, (int)n);
    if (n && n < 8 && (m->p[n - 1] & 0x80))
        u |= ~0ULL << (8 * n);
    m->p += n;
    return push_int(m, (int64_t)u);
}

static int op_binfloat(vm *m)
{
    if (need(m, 8))
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | m->p[i];
    m->p += 8;
    uf_pk *v = node(m, UF_PK_FLOAT);
    if (!v)
        return -1;
    memcpy(&v->f, &u, 8);
    return push(m, v);
}

/* ---- the loop ---- */

static int op_containers(vm *m, int op)
{
    uf_pk **items = NULL, *v, *c;
    size_t n = 0;
    switch (op) {
    case ')': return push(m, make_seq(m, UF_PK_TUPLE, NULL, 0));
    case ']': return push(m, make_seq(m, UF_PK_LIST, NULL, 0));
    case '}': return push(m, node(m, UF_PK_DICT));
    case 't':
        if (pop_mark(m, &items, &n))
            return -1;
        return push(m, make_seq(m, UF_PK_TUPLE, items, n));
    case 'l':
        if (pop_mark(m, &items, &n))
            return -1;
        return push(m, make_seq(m, UF_PK_LIST, items, n));
    case 0x85: case 0x86: case 0x87: {
        n = (size_t)(op - 0x84);
        if (m->sp < floor_of(m) + n)
            return bad(m, "stack underflow");
        m->sp -= n;
        return push(m, make_seq(m, UF_PK_TUPLE, m->stack + m->sp, n));
    }
    case 'a':
        if (!(v = pop(m)) || !(c = top(m)))
            return -1;
        if (c->type != UF_PK_LIST)
            return bad(m, "APPEND to a %s", uf_pk_type_name(c));
        return add_item(m, c, v);
    case 'e':
        if (pop_mark(m, &items, &n) || !(c = top(m)))
            return -1;
        if (c->type != UF_PK_LIST)
            return bad(m, "APPENDS to a %s", uf_pk_type_name(c));
        for (size_t i = 0; i < n; i++)
            if (add_item(m, c, items[i]))
                return -1;
        return 0;
    case 'd': case 'u':
        if (pop_mark(m, &items, &n))
            return -1;
        if (n % 2)
            return bad(m, "odd number of dict items");
        if (op == 'd') {
            /* the items sit just above sp: copy before the new node is pushed */
            if (!(c = node(m, UF_PK_DICT)))
                return -1;
            for (size_t i = 0; i < n; i += 2)
                if (dict_set(m, c, m->stack[m->sp + i], m->stack[m->sp + i + 1]))
                    return -1;
            return push(m, c);
        }
        if (!(c = top(m)))
            return -1;
        for (size_t i = 0; i < n; i += 2)
            if (dict_set(m, c, items[i], items[i + 1]))
                return -1;
        return 0;
    case 's': {
        uf_pk *val = pop(m), *key = val ? pop(m) : NULL;
        if (!key || !(c = top(m)))
            return -1;
        return dict_set(m, c, key, val);
    }
    }
    return -1;
}

static const char *refused_name(int op)
{
    switch (op) {
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 0x81: return "NEWOBJ";
    case 0x92: return "NEWOBJ_EX";
    case 0x82: case 0x83: case 0x84: return "EXT";
    case 'P': return "PERSID (text)";
    case 'g': case 'p': return "GET/PUT (text, protocol 0)";
    case 'S': case 'V': case 'F': case 'L': return "a protocol 0 text value";
    case 0x8f: case 0x90: case 0x91: return "a set";
    case 0x96: case 0x97: case 0x98: return "a protocol 5 buffer";
    }
    return "an unknown opcode";
}

static int step(vm *m, int op)
{
    size_t n = 0;
    uf_pk *a, *b;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(m, 1))
            return -1;
        if (*m->p < 2 || *m->p > 4)
            return bad(m, "pickle protocol %d is not supported (2 to 4 are)", *m->p);
        m->p++;
        return 0;
    case 0x95: /* FRAME: only a length hint */
        return read_len(m, 8, &n);
    case '(': /* MARK */
        if (grow(m, (void **)&m->marks, &m->mcap, m->nmarks + 1, sizeof *m->marks))
            return -1;
        m->marks[m->nmarks++] = m->sp;
        return 0;
    case '0': /* POP: an item, or a MARK with nothing above it */
        if (m->sp > floor_of(m)) {
            m->sp--;
            return 0;
        }
        if (!m->nmarks)
            return bad(m, "stack underflow");
        m->nmarks--;
        return 0;
    case '1': { /* POP_MARK */
        uf_pk **items;
        return pop_mark(m, &items, &n);
    }
    case '2': /* DUP */
        return (a = top(m)) ? push(m, a) : -1;
    case 'N': return push(m, node(m, UF_PK_NONE));
    case 0x88: return push_bool(m, 1);
    case 0x89: return push_bool(m, 0);
    case 'K': return need(m, 1) ? -1 : (m->p += 1, push_int(m, m->p[-1]));
    case 'M': return need(m, 2) ? -1 : (m->p += 2, push_int(m, (int64_t)le(m->p - 2, 2)));
    case 'J': return need(m, 4) ? -1 : (m->p += 4, push_int(m, (int32_t)(uint32_t)le(m->p - 4, 4)));
    case 'I': return op_int_text(m);
    case 0x8a: return op_long(m, 1);
    case 0x8b: return op_long(m, 4);
    case 'G': return op_binfloat(m);
    case 'X': return read_len(m, 4, &n) ? -1 : push_bytes(m, UF_PK_STR, n);
    case 0x8c: return read_len(m, 1, &n) ? -1 : push_bytes(m, UF_PK_STR, n);
    case 0x8d: return read_len(m, 8, &n) ? -1 : push_bytes(m, UF_PK_STR, n);
    case 'U': return read_len(m, 1, &n) ? -1 : push_bytes(m, UF_PK_STR, n);
    case 'T':
        if (need(m, 4))
            return -1;
        if (m->p[3] & 0x80)
            return bad(m, "negative string length");
        return read_len(m, 4, &n) ? -1 : push_bytes(m, UF_PK_STR, n);
    case 'B': return read_len(m, 4, &n) ? -1 : push_bytes(m, UF_PK_BYTES, n);
    case 'C': return read_len(m, 1, &n) ? -1 : push_bytes(m, UF_PK_BYTES, n);
    case 0x8e: return read_len(m, 8, &n) ? -1 : push_bytes(m, UF_PK_BYTES, n);
    case ')': case ']': case '}': case 't': case 'l': case 0x85: case 0x86: case 0x87:
    case 'a': case 'e': case 'd': case 'u': case 's':
        return op_containers(m, op);
    case 'q': return need(m, 1) ? -1 : (m->p += 1, memo_put(m, m->p[-1]));
    case 'r': return need(m, 4) ? -1 : (m->p += 4, memo_put(m, (size_t)le(m->p - 4, 4)));
    case 0x94: return memo_put(m, m->memo_len);
    case 'h': return need(m, 1) ? -1 : (m->p += 1, memo_get(m, m->p[-1]));
    case 'j': return need(m, 4) ? -1 : (m->p += 4, memo_get(m, (size_t)le(m->p - 4, 4)));
    case 'c': return op_global(m);
    case 0x93: return op_stack_global(m);
    case 'R':
        if (!(b = pop(m)) || !(a = pop(m)))
            return -1;
        return push(m, call(m, a, b));
    case 'b': return op_build(m);
    case 'Q': /* BINPERSID */
        if (!(a = pop(m)))
            return -1;
        if (!m->o || !m->o->persid)
            return bad(m, "persistent ids are only read in torch files");
        if (!(b = m->o->persid(m->o->ctx, m->doc, a, m->e)))
            return uf_wrap(m->e, "%s: persistent id at byte %zu", name_of(m), m->op_at);
        return push(m, b);
    }
    return bad(m, "%s is not accepted", refused_name(op));
}

int uf_pk_load(const void *buf, size_t len, const uf_pk_opts *o, uf_pk_doc *doc, const uf_pk **root,
               size_t *used, uf_err *e)
{
    vm m = {.start = buf, .p = buf, .end = (const unsigned char *)buf + len, .o = o, .doc = doc, .e = e};
    m.memo_max = len + 16;
    if (!doc->max_bytes) /* generous for real files, bounded for hostile ones */
        doc->max_bytes = ((size_t)256 << 20) + 16 * len;
    size_t charged = doc->bytes;
    int rc = -1;
    *root = NULL;
    for (;;) {
        m.op_at = (size_t)(m.p - m.start);
        if (m.p >= m.end) {
            uf_fail(e, "%s: pickle truncated after %zu bytes (no STOP)", name_of(&m), len);
            break;
        }
        m.op = *m.p++;
        if (m.op == '.') { /* STOP */
            uf_pk *r = pop(&m);
            if (r) {
                *root = r;
                if (used)
                    *used = (size_t)(m.p - m.start);
                rc = 0;
            }
            break;
        }
        if (step(&m, m.op))
            break;
    }
    /* the machine's own arrays leave with it; only nodes stay charged */
    size_t transient = (m.scap * sizeof *m.stack) + (m.mcap * sizeof *m.marks) + (m.memo_cap * sizeof *m.memo);
    if (doc->bytes >= charged + transient)
        doc->bytes -= transient;
    free(m.stack);
    free(m.marks);
    free(m.memo);
    return rc;
}

/* ---- reading the tree ---- */

const char *uf_pk_type_name(const uf_pk *v)
{
    static const char *names[] = {
        [UF_PK_NONE] = "None",   [UF_PK_BOOL] = "bool",         [UF_PK_INT] = "int",
        [UF_PK_BIGINT] = "int",  [UF_PK_FLOAT] = "float",       [UF_PK_STR] = "str",
        [UF_PK_BYTES] = "bytes", [UF_PK_TUPLE] = "tuple",       [UF_PK_LIST] = "list",
        [UF_PK_DICT] = "dict",   [UF_PK_GLOBAL] = "class",      [UF_PK_NDARRAY] = "numpy.ndarray",
        [UF_PK_DTYPE] = "numpy.dtype", [UF_PK_STORAGE] = "torch storage", [UF_PK_TENSOR] = "torch tensor",
    };
    return names[v->type];
}

int uf_pk_is_str(const uf_pk *v, const char *s)
{
    return v && v->type == UF_PK_STR && strlen(s) == v->len && memcmp(v->s, s, v->len) == 0;
}

const uf_pk *uf_pk_dict_get(const uf_pk *dict, const char *key)
{
    if (!dict || dict->type != UF_PK_DICT)
        return NULL;
    for (size_t k = 0; k < dict->n; k++)
        if (uf_pk_is_str(dict->items[2 * k], key))
            return dict->items[2 * k + 1];
    return NULL;
}

int uf_pk_int(const uf_pk *v, int64_t *out)
{
    if (!v || !is_int(v))
        return -1;
    *out = v->i;
    return 0;
}
