#include "image.h"

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"

enum { MAX_SIDE = 1 << 15 }; /* refuses absurd headers before allocating */

int uf_image_alloc(uf_image *im, int w, int h, uf_err *e)
{
    im->w = w;
    im->h = h;
    im->px = NULL;
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return uf_fail(e, "image size %dx%d out of range", w, h);
    im->px = uf_alloc((size_t)w * (size_t)h * 3, e); /* uninitialised: the decoder fills every pixel */
    return im->px ? 0 : uf_wrap(e, "a %dx%d image", w, h);
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

/* PIL refuses images of more than twice Image.MAX_IMAGE_PIXELS (DecompressionBombError), and so do we: a JPEG
 * of a few hundred bytes can declare 32768 x 16384 pixels, which libjpeg then decodes as gray when a marker cuts
 * the data short, for seconds and gigabytes. Checked on the header's size, before anything is allocated. */
static int check_pixels(const char *what, int W, int H, uf_err *e)
{
    const int64_t max = 2 * (int64_t)89478485;
    if ((int64_t)W * H > max)
        return uf_fail(e, "%s: %dx%d is more than %lld pixels (a decompression bomb to PIL too)", what, W, H,
                       (long long)max);
    return 0;
}

/* The region choose() picks of a W x H image, checked. */
static int pick_region(const char *what, uf_region_fn choose, void *ctx, int W, int H, uf_region *r, uf_err *e)
{
    if (check_pixels(what, W, H, e))
        return -1;
    *r = (uf_region){.top = 0, .rows = H, .left = 0, .cols = W};
    if (choose)
        choose(ctx, W, H, r);
    if (r->top < 0 || r->rows < 1 || r->rows > H - r->top || r->left < 0 || r->cols < 1 || r->cols > W - r->left)
        return uf_fail(e, "%s: region %dx%d at (%d, %d) asked of a %dx%d image", what, r->cols, r->rows, r->left,
                       r->top, W, H);
    return 0;
}

static int decode_jpeg(const void *buf, size_t len, const char *what, uf_region_fn choose, void *ctx, uf_image *im,
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
    int W = (int)cinfo.output_width, H = (int)cinfo.output_height;
    uf_region r;
    if (pick_region(what, choose, ctx, W, H, &r, e)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    if (uf_image_alloc(im, r.cols, r.rows, e)) {
        jpeg_destroy_decompress(&cinfo);
        return uf_wrap(e, "%s: ", what);
    }
    /* Columns [x0, x0 + cw) are decoded: the region and one iMCU (8 * max_h_samp_factor columns, no
     * DCT scaling) each side, so fancy upsampling of subsampled chroma at the region's edges reads
     * the same neighbours as in a full decode; jpeg_crop_scanline moves x0 left to an iMCU edge. */
    int pad = 8 * cinfo.max_h_samp_factor;
    JDIMENSION x0 = (JDIMENSION)(r.left > pad ? r.left - pad : 0);
    JDIMENSION cw = (JDIMENSION)(r.left + r.cols + pad < W ? r.left + r.cols + pad : W) - x0;
    jpeg_crop_scanline(&cinfo, &x0, &cw);
    int nc = cmyk ? 4 : 3, dx = r.left - (int)x0;
    int direct = !cmyk && (int)cw == r.cols; /* rows decoded straight into im */
    int inverted = cmyk && cinfo.saw_Adobe_marker; /* Adobe writes CMYK inverted (PIL's "CMYK;I") */
    if (!(row = uf_alloc((size_t)cw * (size_t)nc, e))) {
        jpeg_destroy_decompress(&cinfo);
        uf_image_free(im);
        return uf_wrap(e, "%s", what);
    }
    JSAMPROW rp = row;
    if (r.top)
        jpeg_skip_scanlines(&cinfo, (JDIMENSION)r.top);
    for (int y = 0; y < r.rows; y++) {
        uint8_t *out = im->px + (size_t)y * (size_t)r.cols * 3;
        JSAMPROW to = direct ? out : row;
        jpeg_read_scanlines(&cinfo, &to, 1);
        const uint8_t *in = row + (size_t)dx * (size_t)nc;
        if (!cmyk && !direct)
            memcpy(out, in, (size_t)r.cols * 3);
        for (int x = 0; cmyk && x < r.cols; x++) {
            const uint8_t *q = in + 4 * x;
            int nk = inverted ? q[3] : 255 - q[3];
            for (int k = 0; k < 3; k++)
                out[3 * x + k] = cmyk_channel(inverted ? 255 - q[k] : q[k], nk);
        }
    }
    /* Entropy-decode the rest, so that a truncated tail fails: a skip to the very end would stop
     * without reading, so skip to the last row and read that. */
    if (cinfo.output_scanline + 1 < cinfo.output_height)
        jpeg_skip_scanlines(&cinfo, cinfo.output_height - 1 - cinfo.output_scanline);
    if (cinfo.output_scanline < cinfo.output_height)
        jpeg_read_scanlines(&cinfo, &rp, 1);
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
    /* the size is checked (uf_image_alloc) before the RGBA buffer is sized, in size_t: PNG_IMAGE_SIZE
     * computes in 32 bits and wraps for the largest images */
    uint8_t *rgba = NULL;
    if (check_pixels(what, (int)p.width, (int)p.height, e)) { /* libpng caps each side at 1000000 */
        png_image_free(&p);
        return -1;
    }
    if (uf_image_alloc(im, (int)p.width, (int)p.height, e) ||
        !(rgba = uf_alloc((size_t)p.width * p.height * 4, e))) {
        uf_image_free(im);
        png_image_free(&p);
        return uf_wrap(e, "%s: ", what);
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

int uf_image_crop_to(uf_image *im, const char *what, uf_region_fn choose, void *ctx, uf_err *e)
{
    uf_region r;
    if (pick_region(what, choose, ctx, im->w, im->h, &r, e)) {
        uf_image_free(im);
        return -1;
    }
    /* row y moves from offset ((top + y) W + left) 3 down to y cols 3: never past rows still to move */
    for (int y = 0; y < r.rows; y++)
        memmove(im->px + (size_t)y * (size_t)r.cols * 3,
                im->px + ((size_t)(r.top + y) * (size_t)im->w + (size_t)r.left) * 3, (size_t)r.cols * 3);
    im->w = r.cols;
    im->h = r.rows;
    return 0;
}

int uf_image_decode_region(const void *buf, size_t len, const char *what, uf_region_fn choose, void *ctx,
                           uf_image *im, uf_err *e)
{
    const uint8_t *b = buf;
    im->px = NULL;
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return decode_jpeg(buf, len, what, choose, ctx, im, e);
    if (!(len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0))
        return uf_fail(e, "%s: neither a JPEG nor a PNG (%zu bytes)", what, len);
    return decode_png(buf, len, what, im, e) || uf_image_crop_to(im, what, choose, ctx, e) ? -1 : 0;
}

int uf_image_decode(const void *buf, size_t len, const char *what, uf_image *im, uf_err *e)
{
    return uf_image_decode_region(buf, len, what, NULL, NULL, im, e);
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
