#define _POSIX_C_SOURCE 200809L
#include "miniset.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/fileio.h"

static const char magic[8] = {'U', 'F', 'M', 'S', 'E', 'T', '1', '\n'};

int uf_miniset_alloc(uf_miniset *s, int count, int height, int width, int classes, uf_err *e)
{
    memset(s, 0, sizeof *s);
    if (count < 0 || height <= 0 || width <= 0 || height > 65535 || width > 65535 || classes <= 0 ||
        classes > 65536)
        return uf_fail(e, "miniset: bad shape %d x %d x %d with %d classes", count, height, width, classes);
    s->labels = uf_calloc((size_t)count, sizeof *s->labels, e);
    s->pixels = s->labels ? uf_calloc((size_t)count * height, (size_t)width, e) : NULL;
    if (!s->pixels) {
        uf_miniset_free(s);
        return uf_wrap(e, "miniset: %d images", count);
    }
    s->count = count;
    s->height = height;
    s->width = width;
    s->classes = classes;
    return 0;
}

void uf_miniset_free(uf_miniset *s)
{
    free(s->labels);
    free(s->pixels);
    memset(s, 0, sizeof *s);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* CRC-32 over labels (as little-endian u16) then pixels, in chunks zlib's uInt can hold. */
static uint32_t payload_crc(const unsigned char *labels_le, size_t nl, const uint8_t *px, size_t np)
{
    uLong c = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < nl; off += 1u << 30)
        c = crc32(c, labels_le + off, (uInt)(nl - off < (1u << 30) ? nl - off : 1u << 30));
    for (size_t off = 0; off < np; off += 1u << 30)
        c = crc32(c, px + off, (uInt)(np - off < (1u << 30) ? np - off : 1u << 30));
    return (uint32_t)c;
}

static int check_labels(const char *path, const uf_miniset *s, uf_err *e)
{
    for (int i = 0; i < s->count; i++)
        if (s->labels[i] >= s->classes)
            return uf_fail(e, "%s: image %d has label %u, outside [0, %d)", path, i, s->labels[i], s->classes);
    return 0;
}

int uf_miniset_read(const char *path, uf_miniset *s, uf_err *e)
{
    char *buf;
    size_t len;
    memset(s, 0, sizeof *s);
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    const unsigned char *b = (const unsigned char *)buf;
    int rc = -1;
    if (len < UF_MINISET_HEADER || memcmp(b, magic, sizeof magic) != 0) {
        uf_fail(e, "%s: not a mini-tier image set (bad magic or shorter than its header)", path);
        goto out;
    }
    uint32_t count = get32(b + 8), classes = get32(b + 16), crc = get32(b + 20);
    int h = b[12] | b[13] << 8, w = b[14] | b[15] << 8;
    uint64_t payload = (uint64_t)get32(b + 24) | (uint64_t)get32(b + 28) << 32;
    uint64_t expect = (uint64_t)count * (2 + (uint64_t)h * w);
    if (h == 0 || w == 0 || classes == 0 || classes > 65536 || count > INT32_MAX || payload != expect) {
        uf_fail(e, "%s: inconsistent header (%u images of %d x %d, %u classes, payload %llu bytes)", path, count,
                h, w, classes, (unsigned long long)payload);
        goto out;
    }
    if (len != UF_MINISET_HEADER + payload) {
        uf_fail(e, "%s: %s: the header promises %llu payload bytes, the file has %llu", path,
                len < UF_MINISET_HEADER + payload ? "truncated" : "trailing bytes", (unsigned long long)payload,
                (unsigned long long)(len - UF_MINISET_HEADER));
        goto out;
    }
    const unsigned char *lab = b + UF_MINISET_HEADER, *px = lab + 2 * (size_t)count;
    if (payload_crc(lab, 2 * (size_t)count, px, (size_t)count * h * w) != crc) {
        uf_fail(e, "%s: checksum mismatch: the file is corrupt", path);
        goto out;
    }
    if (uf_miniset_alloc(s, (int)count, h, w, (int)classes, e)) {
        uf_wrap(e, "%s", path);
        goto out;
    }
    for (uint32_t i = 0; i < count; i++)
        s->labels[i] = (uint16_t)(lab[2 * i] | lab[2 * i + 1] << 8);
    memcpy(s->pixels, px, (size_t)count * h * w);
    if (check_labels(path, s, e)) {
        uf_miniset_free(s);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

int uf_miniset_write(const char *path, const uf_miniset *s, uf_err *e)
{
    if (check_labels(path, s, e))
        return -1;
    size_t nl = 2 * (size_t)s->count, np = (size_t)s->count * s->height * s->width;
    unsigned char *lab = uf_alloc(nl, e), hdr[UF_MINISET_HEADER];
    if (!lab)
        return uf_wrap(e, "%s", path);
    for (int i = 0; i < s->count; i++) {
        lab[2 * i] = (unsigned char)(s->labels[i] & 0xff);
        lab[2 * i + 1] = (unsigned char)(s->labels[i] >> 8);
    }
    uint64_t payload = nl + np;
    memcpy(hdr, magic, sizeof magic);
    put32(hdr + 8, (uint32_t)s->count);
    hdr[12] = (unsigned char)(s->height & 0xff);
    hdr[13] = (unsigned char)(s->height >> 8);
    hdr[14] = (unsigned char)(s->width & 0xff);
    hdr[15] = (unsigned char)(s->width >> 8);
    put32(hdr + 16, (uint32_t)s->classes);
    put32(hdr + 20, payload_crc(lab, nl, s->pixels, np));
    put32(hdr + 24, (uint32_t)payload);
    put32(hdr + 28, (uint32_t)(payload >> 32));
    uf_out o;
    int rc = uf_out_open(&o, path, e);
    if (rc == 0) {
        if (fwrite(hdr, 1, sizeof hdr, o.f) != sizeof hdr || fwrite(lab, 1, nl, o.f) != nl ||
            fwrite(s->pixels, 1, np, o.f) != np) {
            uf_out_abort(&o);
            rc = uf_fail(e, "%s: write failed", path);
        } else {
            rc = uf_out_commit(&o, e);
        }
    }
    free(lab);
    return rc;
}
