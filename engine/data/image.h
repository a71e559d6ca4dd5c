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
/* Picks the rows to decode once the size is known: rows [*top, *top + *rows) of a W x H image. */
typedef void (*uf_rows_fn)(void *ctx, int W, int H, int *top, int *rows);
/* Decodes only the rows that choose() picks (full width), equal to those rows of a full decode:
 * libjpeg-turbo skips the others without the inverse DCT and colour conversion, but still reads
 * them, so a truncated or corrupt image fails whatever the rows. choose NULL: every row. */
int uf_image_decode_rows(const void *buf, size_t len, const char *what, uf_rows_fn choose, void *ctx, uf_image *im,
                         uf_err *e);
/* Writes an 8-bit RGB PNG (atomically, through uf_out). */
int uf_image_write_png(const char *path, const uf_image *im, uf_err *e);

#endif
