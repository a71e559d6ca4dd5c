#include "image.h"

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

enum { MAX_SIDE = 1 << 15 }; /* refuses absurd headers before allocating */

int uf_image_alloc(uf_image *im, int w, int h, uf_err *e)
{
    im->w = w;
    im->h = h;
    im->px = NULL;
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return uf_fail(e, "image size %dx%d out of range", w, h);
    im->px = malloc((size_t)w * (size_t)h * 3);
    return im->px ? 0 : uf_fail(e, "out of memory for a %dx%d image", w, h);
}

void uf_image_free(uf_image *im)
{
    free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

/* ---- JPEG ---- */

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void jpeg_fatal(j_common_ptr c)
{
    jerr *j = (jerr *)c->err;
    c->err->format_message(c, j->msg);
    longjmp(j->jump, 1);
}

/* Warnings pass (ImageNet has JPEGs with stray bytes that PIL reads too), except a premature end:
 * libjpeg would fill the rest with gray where PIL refuses the file. */
static void jpeg_message(j_common_ptr c, int level)
{
    if (level == -1 && c->err->msg_code == JWRN_JPEG_EOF)
        jpeg_fatal(c);
}

/* PIL's cmyk2rgb: R = (255 - K) - C (255 - K) / 255 with its rounding division by 255. */
static uint8_t cmyk_channel(int c, int nk)
{
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int decode_jpeg(const void *buf, size_t len, const char *what, uf_rows_fn choose, void *ctx, uf_image *im,
                       uf_err *e)
{
    struct jpeg_decompress_struct cinfo;
    jerr jr;
    uint8_t *volatile row = NULL; /* volatile: read after longjmp */
    im->px = NULL;
    cinfo.err = jpeg_std_error(&jr.mgr);
    jr.mgr.error_exit = jpeg_fatal;
    jr.mgr.emit_message = jpeg_message;
    if (setjmp(jr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(row);
        uf_image_free(im);
        return uf_fail(e, "%s: corrupt JPEG: %s", what, jr.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    /* libjpeg's inverse DCT and upsampling defaults are the ones PIL uses */
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int top = 0, rows = (int)cinfo.output_height, H = rows;
    if (choose)
        choose(ctx, (int)cinfo.output_width, H, &top, &rows);
    if (top < 0 || rows < 1 || top + rows > H) {
        jpeg_destroy_decompress(&cinfo);
        return uf_fail(e, "%s: rows %d..%d asked of a %d-row image", what, top, top + rows - 1, H);
    }
    if (uf_image_alloc(im, (int)cinfo.output_width, rows, e)) {
        jpeg_destroy_decompress(&cinfo);
        return uf_wrap(e, "%s: ", what);
    }
    int inverted = cmyk && cinfo.saw_Adobe_marker; /* Adobe writes CMYK inverted (PIL's "CMYK;I") */
    if (cmyk && !(row = malloc((size_t)im->w * 4)))
        longjmp(jr.jump, 1);
    if (top)
        jpeg_skip_scanlines(&cinfo, (JDIMENSION)top);
    while (cinfo.output_scanline < (JDIMENSION)(top + rows)) {
        uint8_t *out = im->px + (size_t)(cinfo.output_scanline - (JDIMENSION)top) * (size_t)im->w * 3;
        JSAMPROW r = cmyk ? row : out;
        jpeg_read_scanlines(&cinfo, &r, 1);
        for (int x = 0; cmyk && x < im->w; x++) {
            const uint8_t *q = row + 4 * x;
            int nk = inverted ? q[3] : 255 - q[3];
            for (int k = 0; k < 3; k++)
                out[3 * x + k] = cmyk_channel(inverted ? 255 - q[k] : q[k], nk);
        }
    }
    if (cinfo.output_scanline < cinfo.output_height) /* read the rest: a truncated tail must fail */
        jpeg_skip_scanlines(&cinfo, cinfo.output_height - cinfo.output_scanline);
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return 0;
}

/* ---- PNG ---- */

static int decode_png(const void *buf, size_t len, const char *what, uf_image *im, uf_err *e)
{
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    im->px = NULL;
    if (!png_image_begin_read_from_memory(&p, buf, len))
        return uf_fail(e, "%s: corrupt PNG: %s", what, p.message);
    /* RGBA then drop alpha: PIL's convert("RGB") ignores alpha rather than compositing */
    p.format = PNG_FORMAT_RGBA;
    uint8_t *rgba = malloc(PNG_IMAGE_SIZE(p));
    if (!rgba || uf_image_alloc(im, (int)p.width, (int)p.height, e)) {
        free(rgba);
        png_image_free(&p);
        return rgba ? uf_wrap(e, "%s: ", what) : uf_fail(e, "%s: out of memory", what);
    }
    if (!png_image_finish_read(&p, NULL, rgba, 0, NULL)) {
        free(rgba);
        uf_image_free(im);
        return uf_fail(e, "%s: corrupt PNG: %s", what, p.message);
    }
    for (size_t i = 0; i < (size_t)im->w * (size_t)im->h; i++)
        memcpy(im->px + 3 * i, rgba + 4 * i, 3);
    free(rgba);
    return 0;
}

int uf_image_decode_rows(const void *buf, size_t len, const char *what, uf_rows_fn choose, void *ctx, uf_image *im,
                         uf_err *e)
{
    const uint8_t *b = buf;
    im->px = NULL;
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return decode_jpeg(buf, len, what, choose, ctx, im, e);
    if (!(len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0))
        return uf_fail(e, "%s: neither a JPEG nor a PNG (%zu bytes)", what, len);
    if (decode_png(buf, len, what, im, e))
        return -1;
    int top = 0, rows = im->h;
    if (choose)
        choose(ctx, im->w, im->h, &top, &rows);
    if (top < 0 || rows < 1 || top + rows > im->h) {
        uf_image_free(im);
        return uf_fail(e, "%s: rows %d..%d asked of a %d-row image", what, top, top + rows - 1, im->h);
    }
    memmove(im->px, im->px + (size_t)top * (size_t)im->w * 3, (size_t)rows * (size_t)im->w * 3);
    im->h = rows;
    return 0;
}

int uf_image_decode(const void *buf, size_t len, const char *what, uf_image *im, uf_err *e)
{
    return uf_image_decode_rows(buf, len, what, NULL, NULL, im, e);
}

int uf_image_write_png(const char *path, const uf_image *im, uf_err *e)
{
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    p.width = (png_uint_32)im->w;
    p.height = (png_uint_32)im->h;
    p.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_stdio(&p, o.f, 0, im->px, 0, NULL)) {
        uf_out_abort(&o);
        return uf_fail(e, "%s: PNG write failed: %s", path, p.message);
    }
    return uf_out_commit(&o, e);
}
