#define _POSIX_C_SOURCE 200809L
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/fileio.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy code assumes a little-endian host");

/* Header text quoted in a message: control characters escaped, so a malformed header cannot
 * put a raw newline (or a terminal escape) into the one-line error. Returns out. */
static const char *quoted(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && s[i] && k + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r' || c == '\t') {
            out[k++] = '\\';
            out[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    return out;
}

/* Parses the header dict, e.g. {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } */
static int parse_header(const char *path, const char *h, uf_array *a, uf_err *e)
{
    char descr[16] = "";
    int have_descr = 0, have_order = 0, have_shape = 0;
    const char *p = h;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != '{')
        return uf_fail(e, "%s: .npy header is not a dict", path);
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (*p == '}')
            break;
        if (*p != '\'' && *p != '"')
            return uf_fail(e, "%s: malformed .npy header", path);
        char q = *p++;
        const char *k = p;
        while (*p && *p != q)
            p++;
        if (!*p)
            return uf_fail(e, "%s: malformed .npy header", path);
        size_t klen = (size_t)(p - k);
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p++ != ':')
            return uf_fail(e, "%s: malformed .npy header", path);
        while (isspace((unsigned char)*p))
            p++;
        if (klen == 5 && strncmp(k, "descr", 5) == 0) {
            if (*p != '\'' && *p != '"')
                return uf_fail(e, "%s: unsupported dtype (structured arrays are not supported)", path);
            char dq = *p++;
            size_t n = 0;
            while (*p && *p != dq && n < sizeof descr - 1)
                descr[n++] = *p++;
            descr[n] = '\0';
            if (*p++ != dq)
                return uf_fail(e, "%s: malformed dtype in .npy header", path);
            have_descr = 1;
        } else if (klen == 13 && strncmp(k, "fortran_order", 13) == 0) {
            if (strncmp(p, "False", 5) == 0) {
                p += 5;
            } else if (strncmp(p, "True", 4) == 0) {
                return uf_fail(e, "%s: Fortran-order arrays are not supported (save with C order)", path);
            } else {
                return uf_fail(e, "%s: malformed fortran_order in .npy header", path);
            }
            have_order = 1;
        } else if (klen == 5 && strncmp(k, "shape", 5) == 0) {
            if (*p++ != '(')
                return uf_fail(e, "%s: malformed shape in .npy header", path);
            a->ndim = 0;
            for (;;) {
                while (isspace((unsigned char)*p) || *p == ',')
                    p++;
                if (*p == ')') {
                    p++;
                    break;
                }
                if (!isdigit((unsigned char)*p))
                    return uf_fail(e, "%s: malformed shape in .npy header", path);
                if (a->ndim == UF_MAX_DIMS)
                    return uf_fail(e, "%s: more than %d dimensions", path, UF_MAX_DIMS);
                char *end;
                long long v = strtoll(p, &end, 10);
                if (v < 0 || v > (1LL << 40))
                    return uf_fail(e, "%s: implausible dimension %lld in .npy header", path, v);
                a->shape[a->ndim++] = v;
                p = end;
            }
            have_shape = 1;
        } else {
            char q[256];
            return uf_fail(e, "%s: unexpected key '%s' in .npy header", path, quoted(k, klen, q, sizeof q));
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return uf_fail(e, "%s: .npy header lacks descr, fortran_order or shape", path);
    char q[64];
    if (uf_dtype_from_descr(descr, &a->dtype))
        return uf_fail(e, "%s: unsupported dtype '%s' (supported: <f8 <f4 <i8 <i4)", path,
                       quoted(descr, sizeof descr, q, sizeof q));
    return 0;
}

/* The data bytes the header's shape and type need (*need) must be the `have` the file holds. */
static int check_data_size(const char *path, const uf_array *hdr, size_t have, size_t *need, uf_err *e)
{
    char shape[128];
    uf_shape_str(hdr, shape, sizeof shape);
    size_t n = uf_dtype_size(hdr->dtype);
    for (int i = 0; i < hdr->ndim; i++) {
        size_t d = (size_t)hdr->shape[i];
        if (d && n > SIZE_MAX / d)
            return uf_fail(e, "%s: shape %s of %s is too large", path, shape, uf_dtype_descr(hdr->dtype));
        n *= d;
    }
    *need = n;
    if (have != n)
        return uf_fail(e, "%s: %s data: %zu bytes for shape %s of %s, expected %zu", path,
                       have < n ? "truncated" : "trailing bytes after", have, shape, uf_dtype_descr(hdr->dtype), n);
    return 0;
}

/* The header of a whole file held in buf: the type and shape into hdr and the data's offset, after
 * checking that the data bytes match the shape. */
static int parse_file(const char *path, const char *buf, size_t len, uf_array *hdr, size_t *offset, uf_err *e)
{
    const unsigned char *u = (const unsigned char *)buf;
    if (len == 0)
        return uf_fail(e, "%s: empty file", path);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return uf_fail(e, "%s: not a .npy file (bad magic)", path);
    size_t hlen, hstart;
    if (u[6] == 1 && u[7] == 0) {
        hlen = (size_t)u[8] | (size_t)u[9] << 8;
        hstart = 10;
    } else if (u[6] == 2 && u[7] == 0 && len >= 12) {
        hlen = (size_t)u[8] | (size_t)u[9] << 8 | (size_t)u[10] << 16 | (size_t)u[11] << 24;
        hstart = 12;
    } else {
        return uf_fail(e, "%s: unsupported .npy format version %d.%d (supported: 1.0, 2.0)", path, u[6], u[7]);
    }
    if (hstart + hlen > len)
        return uf_fail(e, "%s: truncated .npy header", path);
    char *header = uf_alloc(hlen + 1, e);
    if (!header)
        return uf_wrap(e, "%s", path);
    memcpy(header, buf + hstart, hlen);
    header[hlen] = '\0';
    memset(hdr, 0, sizeof *hdr);
    int rc = parse_header(path, header, hdr, e);
    free(header);
    size_t need = 0; /* the header's shape against the file, before anything that size is allocated */
    if (rc || check_data_size(path, hdr, len - hstart - hlen, &need, e))
        return -1;
    *offset = hstart + hlen;
    return 0;
}

int uf_npy_read(const char *path, uf_array *a, uf_err *e)
{
    char *buf;
    size_t len, offset;
    uf_array hdr;
    memset(a, 0, sizeof *a);
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    int rc = parse_file(path, buf, len, &hdr, &offset, e);
    if (rc == 0 && (rc = uf_array_alloc(a, hdr.dtype, hdr.ndim, hdr.shape, e)) != 0)
        uf_wrap(e, "%s", path);
    if (rc == 0)
        memcpy(a->data, buf + offset, len - offset);
    free(buf);
    return rc;
}

int uf_npy_map(const char *path, uf_array *a, uf_npy_mapping *m, uf_err *e)
{
    memset(a, 0, sizeof *a);
    *m = (uf_npy_mapping){0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return uf_fail(e, "%s: cannot open: %s", path, strerror(err));
    }
    size_t len = (size_t)st.st_size, offset;
    void *base = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    int err = errno;
    close(fd);
    if (len && base == MAP_FAILED)
        return uf_fail(e, "%s: cannot map: %s", path, strerror(err));
    if (parse_file(path, base ? base : "", len, a, &offset, e)) {
        if (base)
            munmap(base, len);
        return -1;
    }
    *m = (uf_npy_mapping){.base = base, .len = len};
    a->data = (char *)base + offset;
    return 0;
}

void uf_npy_unmap(uf_npy_mapping *m)
{
    if (m->base)
        munmap(m->base, m->len);
    *m = (uf_npy_mapping){0};
}

int uf_npy_header(const uf_array *a, char *out, size_t cap)
{
    char dict[512], shape[256];
    uf_shape_str(a, shape, sizeof shape);
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     uf_dtype_descr(a->dtype), shape);
    /* numpy reserves room to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS = 21) */
    if (a->ndim > 0) {
        char d0[32];
        int w = snprintf(d0, sizeof d0, "%lld", (long long)a->shape[0]);
        for (int i = w; i < 21; i++)
            dict[n++] = ' ';
        dict[n] = '\0';
    }
    size_t hlen = (size_t)n + 1; /* + '\n' */
    size_t pad = 64 - ((10 + hlen) % 64);
    hlen += pad;
    if (hlen > 65535 || 10 + hlen > cap)
        return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    memcpy(out, pre, sizeof pre);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', pad);
    out[10 + hlen - 1] = '\n';
    return (int)(10 + hlen);
}

int uf_npy_write(const char *path, const uf_array *a, uf_err *e)
{
    char header[UF_NPY_HEADER_MAX];
    int hlen = uf_npy_header(a, header, sizeof header);
    if (hlen < 0)
        return uf_fail(e, "%s: header too long", path);
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    fwrite(header, 1, (size_t)hlen, o.f);
    fwrite(a->data, uf_dtype_size(a->dtype), uf_array_count(a), o.f);
    return uf_out_commit(&o, e);
}

int uf_npy_read_matrix(const char *path, double **data, int *rows, int *cols, uf_err *e)
{
    uf_array a;
    if (uf_npy_read(path, &a, e))
        return -1;
    int rc = -1;
    if (a.ndim != 1 && a.ndim != 2) {
        uf_fail(e, "%s: expected a matrix (2-D array), got %d dimensions", path, a.ndim);
        goto out;
    }
    size_t r = (size_t)a.shape[0], c = a.ndim == 2 ? (size_t)a.shape[1] : 1;
    if (r == 0 || c == 0) {
        uf_fail(e, "%s: empty array", path);
        goto out;
    }
    if (r > 1u << 30 || c > 1u << 30) {
        uf_fail(e, "%s: matrix too large", path);
        goto out;
    }
    double *d = uf_calloc(r * c, sizeof *d, e);
    if (!d) {
        uf_wrap(e, "%s", path);
        goto out;
    }
    for (size_t i = 0; i < r * c; i++) {
        d[i] = uf_array_get(&a, i);
        if (!isfinite(d[i])) {
            uf_fail(e, "%s: non-finite value (%g) at row %zu, column %zu", path, d[i], i / c, i % c);
            free(d);
            goto out;
        }
    }
    *data = d;
    *rows = (int)r;
    *cols = (int)c;
    rc = 0;
out:
    uf_array_free(&a);
    return rc;
}

int uf_npy_read_vector(const char *path, double **data, int *n, uf_err *e)
{
    int cols;
    if (uf_npy_read_matrix(path, data, n, &cols, e))
        return -1;
    if (cols != 1) {
        free(*data);
        return uf_fail(e, "%s: expected a 1-D array, got shape (%d, %d)", path, *n, cols);
    }
    for (int i = 0; i < *n; i++)
        if ((*data)[i] < 0) {
            double bad = (*data)[i]; /* read before the free: the message quotes it */
            free(*data);
            *data = NULL;
            return uf_fail(e, "%s: negative value %g at index %d", path, bad, i);
        }
    return 0;
}
