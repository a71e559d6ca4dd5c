/* The mini tier's image sets (datasets/mini/): one file per set and split,
 * 8-bit grayscale images with a class label each, checked on read.
 *
 * Layout (little-endian):
 *   0  char[8] magic "UFMSET1\n"
 *   8  u32     count      images
 *  12  u16     height, u16 width
 *  16  u32     classes    every label is < classes
 *  20  u32     crc32      zlib's CRC-32 of the payload
 *  24  u64     payload    bytes after the header: count * (2 + height * width)
 *  32  u16     labels[count]
 *      u8      pixels[count][height][width]   row-major, 0 = background, 255 = ink
 * The class names and concepts live in the set's <set>-classes.tsv beside it. */
#ifndef UF_MINISET_H
#define UF_MINISET_H

#include <stdint.h>

#include "core/err.h"

#define UF_MINISET_HEADER 32

typedef struct uf_miniset {
    int count, height, width, classes;
    uint16_t *labels; /* (count) */
    uint8_t *pixels;  /* (count, height, width) */
} uf_miniset;

/* Allocates labels and pixels (zeroed) for count images of height x width. */
int uf_miniset_alloc(uf_miniset *s, int count, int height, int width, int classes, uf_err *e);
void uf_miniset_free(uf_miniset *s);

/* Rejects a wrong magic, a header that disagrees with the file size, a label
 * outside [0, classes) and a checksum mismatch, naming the file and the reason. */
int uf_miniset_read(const char *path, uf_miniset *s, uf_err *e);
/* Writes through a temporary file renamed into place; rejects bad labels. */
int uf_miniset_write(const char *path, const uf_miniset *s, uf_err *e);

#endif
