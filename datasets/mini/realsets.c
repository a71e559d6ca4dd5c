#include "realsets.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void mk_images_free(mk_images *m)
{
    free(m->pixels);
    free(m->labels);
    memset(m, 0, sizeof *m);
}

enum { CELL = 20, PER_ROW = 100, DIGITS = 5000 };

int mk_read_opencv_digits(const char *path, mk_images *m, uf_err *e)
{
    memset(m, 0, sizeof *m);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return uf_fail(e, "%s: cannot read as PNG: %s", path, img.message);
    if (img.width != CELL * PER_ROW || img.height != CELL * DIGITS / PER_ROW) {
        png_image_free(&img);
        return uf_fail(e, "%s: expected a %d x %d sheet, found %u x %u", path, CELL * PER_ROW,
                       CELL * DIGITS / PER_ROW, img.width, img.height);
    }
    img.format = PNG_FORMAT_GRAY;
    uint8_t *sheet = malloc(PNG_IMAGE_SIZE(img));
    m->pixels = malloc((size_t)DIGITS * CELL * CELL);
    m->labels = malloc(DIGITS);
    if (!sheet || !m->pixels || !m->labels) {
        png_image_free(&img);
        free(sheet);
        mk_images_free(m);
        return uf_fail(e, "%s: out of memory", path);
    }
    if (!png_image_finish_read(&img, NULL, sheet, 0, NULL)) {
        free(sheet);
        mk_images_free(m);
        return uf_fail(e, "%s: cannot decode: %s", path, img.message);
    }
    // sheet: (1000, 2000) -> pixels: (5000, 20, 20)
    for (int i = 0; i < DIGITS; i++) {
        int r = i / PER_ROW, c = i % PER_ROW;
        for (int y = 0; y < CELL; y++)
            memcpy(m->pixels + ((size_t)i * CELL + y) * CELL,
                   sheet + ((size_t)r * CELL + y) * CELL * PER_ROW + (size_t)c * CELL, CELL);
        m->labels[i] = (uint8_t)(i / (DIGITS / 10));
    }
    free(sheet);
    m->count = DIGITS;
    m->height = m->width = CELL;
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads a whole gzip file. */
static int read_gz(const char *path, unsigned char **buf, size_t *len, uf_err *e)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return uf_fail(e, "%s: cannot open", path);
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = malloc(cap);
    int got;
    while (b && (got = gzread(f, b + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap) {
            unsigned char *p = realloc(b, cap *= 2);
            if (!p)
                free(b);
            b = p;
        }
    }
    int bad = !b || got < 0;
    gzclose(f);
    if (bad) {
        free(b);
        return uf_fail(e, "%s: cannot decompress (corrupt or truncated gzip)", path);
    }
    *buf = b;
    *len = n;
    return 0;
}

int mk_read_idx_gz(const char *images, const char *labels, mk_images *m, uf_err *e)
{
    memset(m, 0, sizeof *m);
    unsigned char *ib = NULL, *lb = NULL;
    size_t il, ll;
    int rc = -1;
    if (read_gz(images, &ib, &il, e) || read_gz(labels, &lb, &ll, e))
        goto out;
    if (il < 16 || be32(ib) != 0x803) {
        uf_fail(e, "%s: not an IDX file of unsigned bytes in 3 dimensions", images);
        goto out;
    }
    if (ll < 8 || be32(lb) != 0x801) {
        uf_fail(e, "%s: not an IDX file of unsigned bytes in 1 dimension", labels);
        goto out;
    }
    uint32_t n = be32(ib + 4), h = be32(ib + 8), w = be32(ib + 12);
    if (be32(lb + 4) != n || h == 0 || w == 0 || h > 4096 || w > 4096 || n > 10000000 ||
        il != 16 + (size_t)n * h * w || ll != 8 + (size_t)n) {
        uf_fail(e, "%s, %s: sizes disagree (%u images of %u x %u, %u labels)", images, labels, n, h, w,
                be32(lb + 4));
        goto out;
    }
    m->pixels = malloc((size_t)n * h * w + 1);
    m->labels = malloc((size_t)n + 1);
    if (!m->pixels || !m->labels) {
        mk_images_free(m);
        uf_fail(e, "%s: out of memory", images);
        goto out;
    }
    memcpy(m->pixels, ib + 16, (size_t)n * h * w);
    memcpy(m->labels, lb + 8, n);
    m->count = (int)n;
    m->height = (int)h;
    m->width = (int)w;
    rc = 0;
out:
    free(ib);
    free(lb);
    return rc;
}
