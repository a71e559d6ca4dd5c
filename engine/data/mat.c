/* MAT-file Level 5 reader. Layout (MathWorks, "MAT-File Format"): a 128-byte header (text,
 * subsystem offset, version, endian indicator "IM"), then data elements, each an 8-byte tag
 * (type, byte count) or a 4-byte "small element" tag with up to 4 bytes of data, padded to 8 bytes.
 * A miMATRIX element holds array flags, dimensions, a name and the class's data; miCOMPRESSED holds
 * a zlib stream of further elements. */
#define _POSIX_C_SOURCE 200809L
#include "mat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/fileio.h"

enum { MI_INT8 = 1, MI_UINT8, MI_INT16, MI_UINT16, MI_INT32, MI_UINT32, MI_SINGLE, MI_DOUBLE = 9, MI_INT64 = 12,
       MI_UINT64, MI_MATRIX, MI_COMPRESSED, MI_UTF8, MI_UTF16, MI_UTF32 };

enum { MAX_DEPTH = 32 };
static const size_t MAX_INFLATED = (size_t)1 << 32; /* refuses zlib bombs */

typedef struct rd {
    const uint8_t *p;
    size_t len, pos;
    int swap;
    const char *what;
} rd;

typedef struct elem {
    uint32_t type, nbytes;
    const uint8_t *data;
} elem;

static uint64_t load(const uint8_t *q, int size, int swap)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint64_t)q[swap ? size - 1 - i : i] << (8 * i);
    return v;
}

static int next_elem(rd *r, elem *el, uf_err *e)
{
    if (r->len - r->pos < 8)
        return uf_fail(e, "%s: truncated data element at byte %zu", r->what, r->pos);
    const uint8_t *q = r->p + r->pos;
    uint32_t w = (uint32_t)load(q, 4, r->swap);
    if (w >> 16) { /* small element: byte count in the upper half, data in the next 4 bytes */
        el->type = w & 0xffff;
        el->nbytes = w >> 16;
        el->data = q + 4;
        if (el->nbytes > 4)
            return uf_fail(e, "%s: malformed small data element at byte %zu", r->what, r->pos);
        r->pos += 8;
        return 0;
    }
    el->type = w;
    el->nbytes = (uint32_t)load(q + 4, 4, r->swap);
    el->data = q + 8;
    if (el->nbytes > r->len - r->pos - 8)
        return uf_fail(e, "%s: data element at byte %zu claims %u bytes, only %zu remain (truncated file?)", r->what,
                       r->pos, el->nbytes, r->len - r->pos - 8);
    size_t adv = 8 + (size_t)el->nbytes;
    if (el->type != MI_COMPRESSED) /* compressed elements are not padded */
        adv = 8 + (((size_t)el->nbytes + 7) & ~(size_t)7);
    r->pos = adv > r->len - r->pos ? r->len : r->pos + adv;
    return 0;
}

static int mi_size(uint32_t type)
{
    switch (type) {
    case MI_INT8: case MI_UINT8: case MI_UTF8: return 1;
    case MI_INT16: case MI_UINT16: case MI_UTF16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: case MI_UTF32: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    default: return 0;
    }
}

static double mi_value(const elem *el, size_t k, int swap)
{
    int s = mi_size(el->type);
    uint64_t b = load(el->data + k * (size_t)s, s, swap);
    switch (el->type) {
    case MI_INT8: return (int8_t)b;
    case MI_INT16: return (int16_t)b;
    case MI_INT32: return (int32_t)b;
    case MI_INT64: return (double)(int64_t)b;
    case MI_SINGLE: { uint32_t u = (uint32_t)b; float f; memcpy(&f, &u, 4); return f; }
    case MI_DOUBLE: { double d; memcpy(&d, &b, 8); return d; }
    default: return (double)b; /* unsigned types and UTF code units */
    }
}

static void mat_free(uf_mat *v)
{
    if (!v)
        return;
    free(v->num);
    if (v->rows)
        for (int64_t r = 0; r < v->dims[0]; r++)
            free(v->rows[r]);
    free(v->rows);
    if (v->cell)
        for (size_t i = 0; i < v->n; i++)
            mat_free(v->cell[i]);
    free(v->cell);
    if (v->fields)
        for (int f = 0; f < v->nfields; f++)
            free(v->fields[f]);
    free(v->fields);
    if (v->field)
        for (size_t i = 0; i < v->n * (size_t)v->nfields; i++)
            mat_free(v->field[i]);
    free(v->field);
    free(v);
}

static size_t utf8_put(uint32_t c, char *o)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xc0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3f)); o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f)); o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Code points of a char array's data element: UTF-8 is decoded, other types are one unit each. */
static int char_points(const rd *r, const elem *el, uint32_t **out, size_t *n, uf_err *e)
{
    size_t cap = el->nbytes ? el->nbytes : 1, k = 0;
    uint32_t *cp = uf_calloc(cap, sizeof *cp, e);
    if (!cp)
        return uf_wrap(e, "%s", r->what);
    if (el->type == MI_UTF8) {
        for (size_t i = 0; i < el->nbytes;) {
            uint8_t b = el->data[i];
            int extra = b < 0x80 ? 0 : b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : -1;
            if (extra < 0 || i + (size_t)extra >= el->nbytes) {
                free(cp);
                return uf_fail(e, "%s: invalid UTF-8 in a char array", r->what);
            }
            uint32_t c = extra ? b & (0x3f >> extra) : b;
            for (int j = 1; j <= extra; j++)
                c = c << 6 | (el->data[i + j] & 0x3f);
            cp[k++] = c;
            i += 1 + (size_t)extra;
        }
    } else {
        int s = mi_size(el->type);
        if (!s || el->type == MI_SINGLE || el->type == MI_DOUBLE) {
            free(cp);
            return uf_fail(e, "%s: char array stored as data type %u", r->what, el->type);
        }
        for (size_t i = 0; i < el->nbytes / (size_t)s; i++) {
            /* a unit outside Unicode (negative, or too large) is U+FFFD, as a UTF decoder would make it;
             * converting it to uint32_t would be undefined */
            double u = mi_value(el, i, r->swap);
            cp[k++] = u >= 0 && u <= 0x10ffff ? (uint32_t)u : 0xfffd;
        }
    }
    *out = cp;
    *n = k;
    return 0;
}

static int parse_chars(rd *r, uf_mat *v, uf_err *e)
{
    elem el = {MI_UTF8, 0, NULL};
    if (r->pos < r->len && next_elem(r, &el, e))
        return -1;
    uint32_t *cp = NULL;
    size_t n = 0;
    if (char_points(r, &el, &cp, &n, e))
        return -1;
    if (n != v->n) {
        free(cp);
        return uf_fail(e, "%s: char array '%s' has %zu characters for %zu elements", r->what, v->name, n, v->n);
    }
    int64_t nr = v->dims[0], nc = nr ? (int64_t)(n / (size_t)nr) : 0;
    if (nr > (int64_t)(r->len + 64)) { /* an empty array with a huge row count: corrupt */
        free(cp);
        return uf_fail(e, "%s: char array '%s' claims %lld rows", r->what, v->name, (long long)nr);
    }
    v->rows = uf_calloc((size_t)nr, sizeof *v->rows, e);
    int rc = v->rows ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < nr; i++) {
        char *s = uf_alloc((size_t)nc * 4 + 1, e), *o = s;
        if (!s) {
            rc = -1;
            break;
        }
        for (int64_t c = 0; c < nc; c++)
            o += utf8_put(cp[i + c * nr], o);
        *o = '\0';
        v->rows[i] = s;
    }
    free(cp);
    return rc ? uf_wrap(e, "%s", r->what) : 0;
}

static int parse_numeric(rd *r, uf_mat *v, uf_err *e)
{
    elem el;
    if (next_elem(r, &el, e))
        return -1;
    int s = mi_size(el.type);
    if (!s || el.type >= MI_UTF8)
        return uf_fail(e, "%s: numeric array '%s' stored as data type %u", r->what, v->name, el.type);
    if (el.nbytes / (size_t)s != v->n || el.nbytes % s)
        return uf_fail(e, "%s: array '%s' has %u data bytes for %zu elements of %d bytes", r->what, v->name,
                       el.nbytes, v->n, s);
    v->num = uf_calloc(v->n, sizeof *v->num, e);
    if (!v->num)
        return uf_wrap(e, "%s", r->what);
    for (size_t i = 0; i < v->n; i++)
        v->num[i] = mi_value(&el, i, r->swap);
    if (v->complex && next_elem(r, &el, e)) /* the imaginary part: checked, then dropped */
        return -1;
    return 0;
}

static int parse_matrix(rd *r, int depth, uf_mat **out, uf_err *e);

/* The next element must be a miMATRIX; parses it into *out. */
static int child(rd *r, int depth, uf_mat **out, uf_err *e)
{
    elem el;
    if (next_elem(r, &el, e))
        return -1;
    if (el.type != MI_MATRIX)
        return uf_fail(e, "%s: expected a matrix element inside a cell or struct, found type %u", r->what, el.type);
    rd sub = {el.data, el.nbytes, 0, r->swap, r->what};
    return parse_matrix(&sub, depth + 1, out, e);
}

static int parse_struct(rd *r, uf_mat *v, int depth, uf_err *e)
{
    elem len_el, names;
    if (next_elem(r, &len_el, e) || next_elem(r, &names, e))
        return -1;
    if (mi_size(len_el.type) != 4 || len_el.nbytes < 4)
        return uf_fail(e, "%s: struct '%s' has a malformed field name length", r->what, v->name);
    double fl = mi_value(&len_el, 0, r->swap); /* range-checked first: a negative or NaN length */
    size_t flen = fl >= 1 && fl <= UINT32_MAX ? (size_t)fl : 0; /* has no size_t value */
    if (flen == 0 || names.nbytes % flen)
        return uf_fail(e, "%s: struct '%s' has malformed field names", r->what, v->name);
    v->nfields = (int)(names.nbytes / flen);
    if (v->n && (size_t)v->nfields > (r->len - r->pos) / 8 / v->n)
        return uf_fail(e, "%s: struct '%s' claims more fields than its bytes hold (truncated?)", r->what, v->name);
    v->fields = uf_calloc((size_t)v->nfields + 1, sizeof *v->fields, e);
    v->field = v->fields ? uf_calloc(v->n * (size_t)v->nfields + 1, sizeof *v->field, e) : NULL;
    if (!v->field)
        return uf_wrap(e, "%s", r->what);
    for (int f = 0; f < v->nfields; f++)
        if (!(v->fields[f] = uf_strndup((const char *)names.data + (size_t)f * flen, flen, e)))
            return uf_wrap(e, "%s", r->what);
    for (size_t i = 0; i < v->n * (size_t)v->nfields; i++)
        if (child(r, depth, &v->field[i], e))
            return uf_wrap(e, "in %s(%zu).%s", v->name, i / (size_t)v->nfields + 1, v->fields[i % (size_t)v->nfields]);
    return 0;
}

static int parse_matrix(rd *r, int depth, uf_mat **out, uf_err *e)
{
    uf_mat *v = uf_calloc(1, sizeof *v, e);
    *out = v;
    if (!v)
        return uf_wrap(e, "%s", r->what);
    if (depth > MAX_DEPTH)
        return uf_fail(e, "%s: arrays nested deeper than %d levels", r->what, MAX_DEPTH);
    v->kind = UF_MAT_NUM;
    v->mxclass = UF_MX_DOUBLE;
    v->ndim = 2;
    if (r->len == 0) /* an empty matrix element: [] */
        return 0;
    elem flags, dims, name;
    if (next_elem(r, &flags, e) || next_elem(r, &dims, e) || next_elem(r, &name, e))
        return -1;
    if (flags.type != MI_UINT32 || flags.nbytes < 8 || mi_size(dims.type) != 4 || dims.nbytes < 8 ||
        mi_size(name.type) != 1)
        return uf_fail(e, "%s: malformed array header", r->what);
    uint32_t fl = (uint32_t)mi_value(&flags, 0, r->swap);
    v->mxclass = fl & 0xff;
    v->complex = !!(fl & 0x800);
    v->logical = !!(fl & 0x200);
    size_t nl = name.nbytes < sizeof v->name ? name.nbytes : sizeof v->name - 1;
    memcpy(v->name, name.data, nl);
    v->name[nl] = '\0';
    v->ndim = (int)(dims.nbytes / 4);
    if (v->ndim > 8)
        return uf_fail(e, "%s: array '%s' has %d dimensions (at most 8)", r->what, v->name, v->ndim);
    v->n = 1;
    for (int d = 0; d < v->ndim; d++) {
        double x = mi_value(&dims, (size_t)d, r->swap);
        if (!(x >= 0 && x <= 4e9)) /* NaN too (a single-precision dims element) */
            return uf_fail(e, "%s: array '%s' has a bad dimension %g", r->what, v->name, x);
        v->dims[d] = (int64_t)x;
        if (v->dims[d] && v->n > ((size_t)1 << 40) / (size_t)v->dims[d])
            return uf_fail(e, "%s: array '%s' is too large", r->what, v->name);
        v->n *= (size_t)v->dims[d];
    }
    switch (v->mxclass) {
    case UF_MX_CELL:
        v->kind = UF_MAT_CELL;
        if (v->n > (r->len - r->pos) / 8)
            return uf_fail(e, "%s: cell '%s' claims more elements than its bytes hold (truncated?)", r->what, v->name);
        if (!(v->cell = uf_calloc(v->n + 1, sizeof *v->cell, e)))
            return uf_wrap(e, "%s", r->what);
        for (size_t i = 0; i < v->n; i++)
            if (child(r, depth, &v->cell[i], e))
                return uf_wrap(e, "in %s{%zu}", v->name, i + 1);
        return 0;
    case UF_MX_STRUCT:
        v->kind = UF_MAT_STRUCT;
        return parse_struct(r, v, depth, e);
    case UF_MX_CHAR:
        v->kind = UF_MAT_CHAR;
        return parse_chars(r, v, e);
    default:
        if (v->mxclass >= UF_MX_DOUBLE && v->mxclass <= UF_MX_UINT64)
            return parse_numeric(r, v, e);
        return uf_fail(e, "%s: array '%s' is of class %d (sparse, object or function handle), which is not supported",
                       r->what, v->name, v->mxclass);
    }
}

static int inflate_all(const elem *el, const char *what, uint8_t **out, size_t *outlen, uf_err *e)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return uf_fail(e, "%s: zlib initialisation failed", what);
    size_t cap = (size_t)el->nbytes * 4 + 1024, len = 0;
    uint8_t *buf = uf_alloc(cap, e);
    z.next_in = (Bytef *)el->data;
    z.avail_in = el->nbytes;
    int rc = Z_OK;
    while (buf && rc == Z_OK) {
        if (len == cap) {
            uint8_t *nb = cap < MAX_INFLATED ? uf_realloc(buf, cap, 2, e) : NULL;
            if (!nb) {
                if (cap >= MAX_INFLATED)
                    uf_fail(e, "compressed element inflates to more than %zu bytes", (size_t)MAX_INFLATED);
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        z.next_out = buf + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            break;
        if (rc == Z_BUF_ERROR)
            rc = Z_OK;
    }
    inflateEnd(&z);
    if (!buf)
        return uf_wrap(e, "%s", what);
    if (rc != Z_STREAM_END) {
        free(buf);
        return uf_fail(e, "%s: corrupt or truncated compressed element (zlib: %s)", what,
                       rc == Z_BUF_ERROR ? "unexpected end of data" : z.msg ? z.msg : "error");
    }
    *out = buf;
    *outlen = len;
    return 0;
}

static int add_var(uf_mat_file *f, uf_mat *v, const char *what, uf_err *e)
{
    uf_mat **nv = uf_realloc(f->vars, (size_t)f->nvars + 1, sizeof *nv, e);
    if (!nv) {
        mat_free(v);
        return uf_wrap(e, "%s", what);
    }
    f->vars = nv;
    f->vars[f->nvars++] = v;
    return 0;
}

/* Top-level elements: matrices, possibly inside compressed elements; other types are skipped. */
static int parse_elements(rd *r, uf_mat_file *f, int depth, uf_err *e)
{
    while (r->pos < r->len) {
        elem el;
        if (next_elem(r, &el, e))
            return -1;
        if (el.type == MI_COMPRESSED) {
            uint8_t *buf = NULL;
            size_t len = 0;
            if (depth > 0)
                return uf_fail(e, "%s: nested compressed elements", r->what);
            if (inflate_all(&el, r->what, &buf, &len, e))
                return -1;
            rd sub = {buf, len, 0, r->swap, r->what};
            int rc = parse_elements(&sub, f, depth + 1, e);
            free(buf);
            if (rc)
                return -1;
        } else if (el.type == MI_MATRIX) {
            rd sub = {el.data, el.nbytes, 0, r->swap, r->what};
            uf_mat *v;
            int rc = parse_matrix(&sub, 0, &v, e);
            if (add_var(f, v, r->what, e) || rc)
                return -1;
        }
    }
    return 0;
}

int uf_mat_parse(const void *buf, size_t len, const char *what, uf_mat_file *f, uf_err *e)
{
    memset(f, 0, sizeof *f);
    const uint8_t *p = buf;
    if (len < 128)
        return uf_fail(e, "%s: too short for a MAT-file (%zu bytes)", what, len);
    if (memcmp(p, "MATLAB 5.0 MAT-file", 19) != 0) {
        if (len >= 512 && memcmp(p, "MATLAB 7.3 MAT-file", 19) == 0)
            return uf_fail(e, "%s: a MATLAB v7.3 (HDF5) file, which is not supported", what);
        return uf_fail(e, "%s: not a MATLAB 5 MAT-file (no 'MATLAB 5.0 MAT-file' header)", what);
    }
    rd r = {p, len, 128, 0, what};
    if (p[126] == 'M' && p[127] == 'I')
        r.swap = 1;
    else if (!(p[126] == 'I' && p[127] == 'M'))
        return uf_fail(e, "%s: bad endian indicator in the MAT-file header", what);
    memcpy(f->header, p, 116);
    f->header[116] = '\0';
    for (int i = 115; i >= 0 && (f->header[i] == ' ' || f->header[i] == '\0'); i--)
        f->header[i] = '\0';
    if (parse_elements(&r, f, 0, e)) {
        uf_mat_file_free(f);
        return -1;
    }
    return 0;
}

int uf_mat_read(const char *path, uf_mat_file *f, uf_err *e)
{
    char *buf;
    size_t len;
    memset(f, 0, sizeof *f);
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    int rc = uf_mat_parse(buf, len, path, f, e);
    free(buf);
    return rc;
}

void uf_mat_file_free(uf_mat_file *f)
{
    for (int i = 0; i < f->nvars; i++)
        mat_free(f->vars[i]);
    free(f->vars);
    memset(f, 0, sizeof *f);
}

const uf_mat *uf_mat_var(const uf_mat_file *f, const char *name)
{
    for (int i = 0; i < f->nvars; i++)
        if (strcmp(f->vars[i]->name, name) == 0)
            return f->vars[i];
    return NULL;
}

const uf_mat *uf_mat_field(const uf_mat *v, size_t i, const char *name)
{
    if (!v || v->kind != UF_MAT_STRUCT || i >= v->n)
        return NULL;
    for (int f = 0; f < v->nfields; f++)
        if (strcmp(v->fields[f], name) == 0)
            return v->field[i * (size_t)v->nfields + (size_t)f];
    return NULL;
}

const char *uf_mat_str(const uf_mat *v)
{
    if (!v || v->kind != UF_MAT_CHAR)
        return NULL;
    return v->dims[0] >= 1 ? v->rows[0] : "";
}

double uf_mat_scalar(const uf_mat *v)
{
    return v && v->kind == UF_MAT_NUM && v->n ? v->num[0] : NAN;
}
