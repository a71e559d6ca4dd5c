#include "sheet.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

enum { GUTTER = 2, GUTTER_GREY = 128 };

int mk_sheet_write(const char *path, const uint8_t *pixels, int side, const int *index, int rows, int cols,
                   uf_err *e)
{
    int W = cols * (side + GUTTER) + GUTTER, H = rows * (side + GUTTER) + GUTTER;
    uint8_t *img = malloc((size_t)W * H);
    if (!img)
        return uf_fail(e, "%s: out of memory", path);
    memset(img, GUTTER_GREY, (size_t)W * H);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int k = index[r * cols + c];
            uint8_t *dst = img + (size_t)(GUTTER + r * (side + GUTTER)) * W + GUTTER + c * (side + GUTTER);
            for (int y = 0; y < side; y++) {
                if (k >= 0)
                    memcpy(dst + (size_t)y * W, pixels + ((size_t)k * side + y) * side, (size_t)side);
                else
                    memset(dst + (size_t)y * W, 0, (size_t)side);
            }
        }
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)W;
    pi.height = (png_uint_32)H;
    pi.format = PNG_FORMAT_GRAY;
    uf_out o;
    int rc = uf_out_open(&o, path, e);
    if (rc == 0) {
        if (!png_image_write_to_stdio(&pi, o.f, 0, img, W, NULL)) {
            uf_out_abort(&o);
            rc = uf_fail(e, "%s: cannot write PNG: %s", path, pi.message);
        } else {
            rc = uf_out_commit(&o, e);
        }
    }
    free(img);
    return rc;
}
