/* The real image sources of the mini world's targets, read from the files
 * Debian installs: OpenCV's handwritten digits and Fashion-MNIST. */
#ifndef MK_REALSETS_H
#define MK_REALSETS_H

#include <stdint.h>

#include "core/err.h"

typedef struct mk_images {
    int count, height, width;
    uint8_t *pixels; /* (count, height, width) */
    uint8_t *labels; /* (count) */
} mk_images;

void mk_images_free(mk_images *m);

/* opencv-doc's examples/data/digits.png: a 2000 x 1000 grey sheet of 5000
 * digits, 20 x 20 each, 100 per row, 500 of each digit in order (rows 0-4 are
 * zeros, ...). Image i is the cell at row i / 100, column i % 100. */
int mk_read_opencv_digits(const char *path, mk_images *m, uf_err *e);

/* An IDX image file and its label file, gzip-compressed (Fashion-MNIST). */
int mk_read_idx_gz(const char *images, const char *labels, mk_images *m, uf_err *e);

#endif
