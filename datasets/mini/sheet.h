/* Contact sheets: a grid of images as a PNG so a person can see a set. */
#ifndef MK_SHEET_H
#define MK_SHEET_H

#include <stdint.h>

#include "core/err.h"

/* Writes rows x cols tiles of side x side grey images, index[r * cols + c]
 * into pixels (-1: an empty tile), with 2-pixel mid-grey gutters. */
int mk_sheet_write(const char *path, const uint8_t *pixels, int side, const int *index, int rows, int cols,
                   uf_err *e);

#endif
