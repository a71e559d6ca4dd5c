/* One glyph image: a character drawn by a face with a random affine jitter,
 * stroke weight, blur, contrast and noise, on a 32 x 32 canvas.
 * Only integer, +, -, *, / arithmetic (no libm, compiled without FMA
 * contraction), so the bytes depend on the packages, not on the CPU. */
#ifndef MK_GLYPH_H
#define MK_GLYPH_H

#include <stdint.h>

#include "faces.h"

#define MK_SIDE 32

typedef struct mk_jitter {
    double em_px;      /* em size in pixels, before fitting into the box */
    double angle;      /* rotation, radians */
    double shear;      /* x += shear * y */
    double aspect;     /* x scale / y scale */
    double bold_px;    /* stroke weight change (negative: thinner) */
    double dx, dy;     /* offset of the glyph's box centre from the canvas centre, pixels */
    double blur;       /* mix with a [1 2 1]^2 / 16 blur, 0..1 */
    double ink, paper; /* grey levels of strokes and background, 0..255 */
    double noise;      /* noise standard deviation, grey levels */
} mk_jitter;

/* No jitter: em 26 px, upright, centred, black paper, white ink, sharp. */
void mk_jitter_none(mk_jitter *j);
/* The jitter of image `key` (< 2^44) of stream `stream`: parameter k is the
 * draw uf_rng(seed, 2 stream, key * 16 + k); the noise of pixel i is drawn
 * from (seed, 2 stream + 1, key * 1024 + i). */
void mk_jitter_draw(uint64_t seed, uint64_t stream, uint64_t key, mk_jitter *j);

/* Draws glyph gi of face into out (MK_SIDE x MK_SIDE, row 0 at the top). */
int mk_glyph_render(FT_Face face, FT_UInt gi, const mk_jitter *j, uint64_t seed, uint64_t stream, uint64_t key,
                    uint8_t *out, uf_err *e);

#endif
