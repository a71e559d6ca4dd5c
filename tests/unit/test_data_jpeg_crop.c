/* Region decoding (uf_image_decode_region) against a full decode cropped, byte for byte: JPEGs
 * written here with libjpeg in every layout the decoder meets (grayscale, 4:4:4, 4:2:2, 4:2:0,
 * 4:4:0, 4:1:1, CMYK with and without the Adobe marker, YCCK, progressive, restart markers, odd
 * and tiny sizes), many random regions each plus the edge cases; a PNG and a raw-pixel data set
 * (cropped after a full decode); a region outside the image, and truncated or corrupt JPEGs fail
 * with the image named whatever the region. usage: test_data_jpeg_crop */
#define _DEFAULT_SOURCE /* mkstemp, mkdtemp */
#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jpeglib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "check.h"
#include "data/dataset.h"
#include "data/image.h"

typedef struct layout {
    const char *name;
    int w, h;
    J_COLOR_SPACE jpeg_cs; /* JCS_GRAYSCALE, JCS_YCbCr, JCS_CMYK or JCS_YCCK */
    int hs, vs;            /* sampling of the first component (the others 1x1, K as Y) */
    int progressive, restart, adobe;
} layout;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 33) % n;
}

/* Colour edges and noise, so that chroma differs from one column to the next. */
static uint8_t sample(int x, int y, int k)
{
    int v = (k == 0 ? 3 * x + y : k == 1 ? 2 * y + (x / 5) * 40 : (x * y) / 7 + 60 * ((x / 3 + y / 4) & 1)) +
            (int)rnd(40);
    return (uint8_t)(v & 255);
}

/* Writes a JPEG of layout L into *buf (malloc'd by libjpeg). */
static void write_jpeg(const layout *L, unsigned char **buf, unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    *buf = NULL;
    *len = 0;
    jpeg_mem_dest(&c, buf, len);
    c.image_width = (JDIMENSION)L->w;
    c.image_height = (JDIMENSION)L->h;
    int four = L->jpeg_cs == JCS_CMYK || L->jpeg_cs == JCS_YCCK;
    c.input_components = L->jpeg_cs == JCS_GRAYSCALE ? 1 : four ? 4 : 3;
    c.in_color_space = L->jpeg_cs == JCS_GRAYSCALE ? JCS_GRAYSCALE : four ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, L->jpeg_cs);
    jpeg_set_quality(&c, 90, TRUE);
    c.comp_info[0].h_samp_factor = L->hs;
    c.comp_info[0].v_samp_factor = L->vs;
    for (int k = 1; k < c.num_components; k++)
        c.comp_info[k].h_samp_factor = c.comp_info[k].v_samp_factor = 1;
    if (four) { /* K sampled as Y */
        c.comp_info[3].h_samp_factor = L->hs;
        c.comp_info[3].v_samp_factor = L->vs;
    }
    c.write_Adobe_marker = L->adobe;
    c.restart_interval = (unsigned)L->restart;
    if (L->progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    JSAMPLE *row = malloc((size_t)L->w * (size_t)c.input_components);
    while (c.next_scanline < c.image_height) {
        for (int x = 0; x < L->w; x++)
            for (int k = 0; k < c.input_components; k++)
                row[x * c.input_components + k] = sample(x, (int)c.next_scanline, k);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
}

typedef struct want {
    uf_region r;
    int W, H; /* the size the callback was shown */
} want;

static void pick(void *ctx, int W, int H, uf_region *r)
{
    want *w = ctx;
    w->W = W;
    w->H = H;
    *r = w->r;
}

/* Decodes region r of buf and compares it with the same region of full. */
static int same_region(const void *buf, size_t len, const char *what, const uf_image *full, uf_region r)
{
    uf_image im;
    uf_err e;
    want w = {r, 0, 0};
    if (uf_image_decode_region(buf, len, what, pick, &w, &im, &e)) {
        fprintf(stderr, "%s: region %dx%d at (%d, %d): %s\n", what, r.cols, r.rows, r.left, r.top, e.msg);
        return 0;
    }
    int ok = w.W == full->w && w.H == full->h && im.w == r.cols && im.h == r.rows;
    for (int y = 0; ok && y < r.rows; y++)
        ok = memcmp(im.px + (size_t)y * (size_t)r.cols * 3,
                    full->px + ((size_t)(r.top + y) * (size_t)full->w + (size_t)r.left) * 3, (size_t)r.cols * 3) == 0;
    if (!ok)
        fprintf(stderr, "%s: region %dx%d at (%d, %d) differs from the full decode\n", what, r.cols, r.rows, r.left,
                r.top);
    uf_image_free(&im);
    return ok;
}

/* Full decode, then the edge regions and n random ones. */
static void check_regions(const void *buf, size_t len, const char *what, int n)
{
    uf_image full;
    uf_err e;
    CHECK_OK(uf_image_decode(buf, len, what, &full, &e), e);
    if (check_failures)
        return;
    int W = full.w, H = full.h;
    uf_region edges[] = {
        {0, H, 0, W},         {0, 1, 0, 1},         {H - 1, 1, W - 1, 1}, {0, H, 0, 1},
        {0, H, W - 1, 1},     {0, H, W / 2, 1},     {H / 3, H / 3, 0, W}, {0, H, 1, W - 1},
        {0, H, 0, W - 1},     {1, H - 2, 1, W - 2}, {0, H, W / 3, W / 3},
    };
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++)
        if (edges[k].rows >= 1 && edges[k].cols >= 1)
            CHECK(same_region(buf, len, what, &full, edges[k]));
    int bad = 0;
    for (int t = 0; t < n; t++) {
        uf_region r;
        r.cols = 1 + (int)rnd((uint32_t)W);
        r.rows = 1 + (int)rnd((uint32_t)H);
        r.left = (int)rnd((uint32_t)(W - r.cols + 1));
        r.top = (int)rnd((uint32_t)(H - r.rows + 1));
        bad += !same_region(buf, len, what, &full, r);
    }
    CHECK(bad == 0);
    uf_image_free(&full);
}

static void fails_named(const void *buf, size_t len, const char *what, uf_region r, const char *reason)
{
    uf_image im;
    uf_err e;
    want w = {r, 0, 0};
    int rc = uf_image_decode_region(buf, len, what, pick, &w, &im, &e);
    CHECK(rc != 0);
    if (rc == 0)
        uf_image_free(&im);
    else if (!(strstr(e.msg, what) == e.msg && strstr(e.msg, reason))) {
        fprintf(stderr, "unexpected message: %s\n", e.msg);
        CHECK(0);
    }
}

int main(void)
{
    static const layout layouts[] = {
        {"gray 333x257", 333, 257, JCS_GRAYSCALE, 1, 1, 0, 0, 0},
        {"444 333x257", 333, 257, JCS_YCbCr, 1, 1, 0, 0, 0},
        {"422 333x257", 333, 257, JCS_YCbCr, 2, 1, 0, 0, 0},
        {"420 333x257", 333, 257, JCS_YCbCr, 2, 2, 0, 0, 0},
        {"420 500x375", 500, 375, JCS_YCbCr, 2, 2, 0, 0, 0},
        {"440 301x199", 301, 199, JCS_YCbCr, 1, 2, 0, 0, 0},
        {"411 333x97", 333, 97, JCS_YCbCr, 4, 1, 0, 0, 0},
        {"420 progressive 333x257", 333, 257, JCS_YCbCr, 2, 2, 1, 0, 0},
        {"422 progressive 257x333", 257, 333, JCS_YCbCr, 2, 1, 1, 0, 0},
        {"gray progressive 123x45", 123, 45, JCS_GRAYSCALE, 1, 1, 1, 0, 0},
        {"420 restart 333x257", 333, 257, JCS_YCbCr, 2, 2, 0, 3, 0},
        {"422 restart 200x150", 200, 150, JCS_YCbCr, 2, 1, 0, 1, 0},
        {"420 tiny 17x9", 17, 9, JCS_YCbCr, 2, 2, 0, 0, 0},
        {"420 33x5", 33, 5, JCS_YCbCr, 2, 2, 0, 0, 0},
        {"420 1x1", 1, 1, JCS_YCbCr, 2, 2, 0, 0, 0},
        {"422 column 3x40", 3, 40, JCS_YCbCr, 2, 1, 0, 0, 0},
        {"cmyk adobe 161x77", 161, 77, JCS_CMYK, 1, 1, 0, 0, 1},
        {"cmyk plain 161x77", 161, 77, JCS_CMYK, 1, 1, 0, 0, 0},
        {"ycck 2x2 adobe 150x101", 150, 101, JCS_YCCK, 2, 2, 0, 0, 1},
    };
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        unsigned char *buf;
        unsigned long len;
        write_jpeg(&layouts[k], &buf, &len);
        check_regions(buf, len, layouts[k].name, 300);
        free(buf);
    }

    /* truncated or corrupt: fails, named, also for a region far above the damage */
    static const layout damaged[] = {
        {"420 500x375", 500, 375, JCS_YCbCr, 2, 2, 0, 0, 0},
        {"420 progressive 500x375", 500, 375, JCS_YCbCr, 2, 2, 1, 0, 0},
    };
    for (size_t k = 0; k < sizeof damaged / sizeof damaged[0]; k++) {
        unsigned char *buf;
        unsigned long len;
        write_jpeg(&damaged[k], &buf, &len);
        uf_region top = {0, 16, 100, 50}, all = {0, 375, 0, 500};
        fails_named(buf, len * 7 / 10, damaged[k].name, top, "corrupt JPEG");
        fails_named(buf, len - 2, damaged[k].name, top, "corrupt JPEG"); /* no EOI */
        fails_named(buf, len * 7 / 10, damaged[k].name, all, "corrupt JPEG");
        fails_named(buf, 300, damaged[k].name, top, "corrupt JPEG");
        fails_named(buf, len, damaged[k].name, (uf_region){370, 10, 0, 10}, "region 10x10 at (0, 370)");
        fails_named(buf, len, damaged[k].name, (uf_region){0, 10, 495, 10}, "of a 500x375 image");
        fails_named(buf, len, damaged[k].name, (uf_region){0, 0, 0, 10}, "region");
        memset(buf + len / 2, 0xff, 64); /* garbage in the entropy-coded data, well below the region */
        if (!damaged[k].progressive) /* a progressive image may still decode: its refinement scans are damaged */
            fails_named(buf, len, damaged[k].name, top, "corrupt JPEG");
        free(buf);
    }

    /* PNG: decoded whole, then cropped */
    uf_image src;
    uf_err e;
    CHECK_OK(uf_image_alloc(&src, 47, 31, &e), e);
    for (int i = 0; i < 47 * 31 * 3; i++)
        src.px[i] = (uint8_t)rnd(256);
    char path[] = "/tmp/uotft-jpeg-crop-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK_OK(uf_image_write_png(path, &src, &e), e);
    FILE *f = fopen(path, "rb");
    unsigned char png[65536];
    size_t plen = f ? fread(png, 1, sizeof png, f) : 0;
    if (f)
        fclose(f);
    remove(path);
    CHECK(plen > 8 && plen < sizeof png);
    check_regions(png, plen, "png 47x31", 200);
    fails_named(png, plen, "png 47x31", (uf_region){0, 1, 40, 8}, "region 8x1 at (40, 0) asked of a 47x31 image");
    uf_image_free(&src);

    /* raw pixels (an IDX data set of two 13x11 images): the full image cropped */
    char dir[] = "/tmp/uotft-jpeg-crop-XXXXXX", file[64];
    CHECK(mkdtemp(dir) != NULL);
    unsigned char idx[16 + 2 * 11 * 13] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 11, 0, 0, 0, 13};
    unsigned char lab[10] = {0, 0, 8, 1, 0, 0, 0, 2, 0, 1};
    for (size_t i = 16; i < sizeof idx; i++)
        idx[i] = (uint8_t)rnd(256);
    snprintf(file, sizeof file, "%s/train-images-idx3-ubyte", dir);
    f = fopen(file, "wb");
    CHECK(f && fwrite(idx, 1, sizeof idx, f) == sizeof idx && fclose(f) == 0);
    snprintf(file, sizeof file, "%s/train-labels-idx1-ubyte", dir);
    f = fopen(file, "wb");
    CHECK(f && fwrite(lab, 1, sizeof lab, f) == sizeof lab && fclose(f) == 0);
    uf_dataset ds;
    CHECK_OK(uf_dataset_list(&ds, "idx", dir, "train", 0, &e), e);
    for (int t = 0; !check_failures && t < 50; t++) {
        uf_image full, im;
        want w = {{(int)rnd(11), 0, (int)rnd(13), 0}, 0, 0};
        w.r.rows = 1 + (int)rnd((uint32_t)(11 - w.r.top));
        w.r.cols = 1 + (int)rnd((uint32_t)(13 - w.r.left));
        CHECK_OK(uf_dataset_image(&ds, t % 2, &full, &e), e);
        CHECK_OK(uf_dataset_image_region(&ds, t % 2, pick, &w, &im, &e), e);
        CHECK(!check_failures && w.W == 13 && w.H == 11 && im.w == w.r.cols && im.h == w.r.rows);
        for (int y = 0; !check_failures && y < im.h; y++)
            CHECK(memcmp(im.px + (size_t)y * (size_t)im.w * 3,
                         full.px + ((size_t)(w.r.top + y) * 13 + (size_t)w.r.left) * 3, (size_t)im.w * 3) == 0);
        uf_image_free(&full);
        uf_image_free(&im);
    }
    uf_image im;
    want w = {{5, 7, 0, 13}, 0, 0};
    CHECK(uf_dataset_image_region(&ds, 1, pick, &w, &im, &e) != 0 && strstr(e.msg, "train-images-idx3-ubyte#1"));
    uf_dataset_free(&ds);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
