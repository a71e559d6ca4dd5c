/* Decoded images: 8-bit RGB, interleaved, rows top to bottom. JPEG through libjpeg-turbo and PNG
 * through libpng, chosen by the file's magic bytes, not its name (ImageNet has a PNG named .JPEG).
 * Grayscale and CMYK/YCCK JPEGs become RGB the way PIL's convert("RGB") does it. */
#ifndef UF_DATA_IMAGE_H
#define UF_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct uf_image {
    int w, h;
    uint8_t *px; /* h * w * 3 */
} uf_image;

int uf_image_alloc(uf_image *im, int w, int h, uf_err *e);
void uf_image_free(uf_image *im);
/* Decodes a JPEG or PNG held in memory; `what` names it in errors. A truncated or corrupt image is
 * an error, never a partial picture. */
int uf_image_decode(const void *buf, size_t len, const char *what, uf_image *im, uf_err *e);
/* A rectangle of a W x H image: rows [top, top + rows), columns [left, left + cols). */
typedef struct uf_region {
    int top, rows, left, cols;
} uf_region;
/* Picks the region to decode once the size is known (*r starts as the whole image). */
typedef void (*uf_region_fn)(void *ctx, int W, int H, uf_region *r);
/* Decodes only the region that choose() picks: im is that region (cols x rows), byte for byte the
 * same as a full decode cropped. JPEG: libjpeg-turbo skips the rows above and below without the
 * inverse DCT and colour conversion (jpeg_skip_scanlines) and does those only for the iMCU columns
 * around the region (jpeg_crop_scanline, widened by one iMCU each side so that chroma upsampling
 * at the region's edges sees its real neighbours); every row is still entropy-decoded, so a
 * truncated or corrupt image fails whatever the region. PNG and raw pixels are decoded whole, then
 * cropped. choose NULL: the whole image. */
int uf_image_decode_region(const void *buf, size_t len, const char *what, uf_region_fn choose, void *ctx,
                           uf_image *im, uf_err *e);
/* Crops im in place to the region choose() picks (for pixels that come whole); `what` names the
 * image if the region does not fit. */
int uf_image_crop_to(uf_image *im, const char *what, uf_region_fn choose, void *ctx, uf_err *e);
/* Writes an 8-bit RGB PNG (atomically, through uf_out). */
int uf_image_write_png(const char *path, const uf_image *im, uf_err *e);

#endif
