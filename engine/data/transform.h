/* Image transforms with torchvision's semantics on PIL images (torchvision 0.14, Pillow 9), so a
 * model sees the pixels it would see under PyTorch: Resize (bilinear with PIL's antialiasing,
 * fixed-point like PIL), CenterCrop, RandomResizedCrop, horizontal flip, ToTensor + Normalize, and
 * FixMatch's RandAugment(n, m) with a gray cutout. Random transforms first sample their parameters
 * from the counter-based RNG keyed by (seed, epoch, sample), then apply them, so they can be checked
 * parameter by parameter and do not depend on the thread count. */
#ifndef UF_DATA_TRANSFORM_H
#define UF_DATA_TRANSFORM_H

#include <stdint.h>

#include "core/err.h"
#include "image.h"

/* PIL's Image.resize(size, BILINEAR). */
int uf_resize(const uf_image *in, int w, int h, uf_image *out, uf_err *e);
/* torchvision Resize(size) with an int: the shorter side becomes size, the longer int(size * long / short). */
int uf_resize_shorter(const uf_image *in, int size, uf_image *out, uf_err *e);
/* PIL's crop((left, top, left + w, top + h)): outside the image is black. */
int uf_crop(const uf_image *in, int top, int left, int h, int w, uf_image *out, uf_err *e);
/* torchvision CenterCrop(size) (pads with black when the image is smaller). */
int uf_center_crop(const uf_image *in, int size, uf_image *out, uf_err *e);
void uf_hflip(uf_image *im);
/* ToTensor then Normalize(mean, std), in float32 like torchvision. */
// im: (H, W, 3) uint8 -> chw: (3, H, W) float
void uf_to_tensor(const uf_image *im, const float mean[3], const float std[3], float *chw);
extern const float uf_imagenet_mean[3], uf_imagenet_std[3];

/* Sampled parameters. Every draw is uf_rng_uniform(seed, stream, (epoch << 32 | sample) * 64 + k)
 * for a fixed k per draw, with stream naming the transform. */
typedef struct uf_draw {
    uint64_t seed, epoch, sample;
} uf_draw;

/* RandomResizedCrop.get_params: scale and ratio ranges, 10 tries, then the central fallback. */
typedef struct uf_rrc {
    int top, left, h, w;
    int tries; /* tries used, 11 for the fallback */
} uf_rrc;
void uf_rrc_sample(int W, int H, double smin, double smax, double rmin, double rmax, uf_draw d, uf_rrc *p);
int uf_flip_sample(uf_draw d);

/* torchvision's RandomApply([ColorJitter(brightness=j, contrast=j)], p), MoCo v2's colour jitter
 * less saturation and hue (no-ops on gray glyphs): factors uniform in [max(0, 1 - j), 1 + j], the
 * two ops in a drawn order, each as PIL's ImageEnhance (a blend with black, with the mean gray). */
typedef struct uf_jitter {
    int apply, contrast_first;
    double brightness, contrast;
} uf_jitter;
void uf_jitter_sample(double j, double p, uf_draw d, uf_jitter *out);
void uf_jitter_apply(uf_image *im, const uf_jitter *j);

/* FixMatch's RandAugmentMC op pool (fixmatch_augment_pool). */
enum { UF_RA_AUTOCONTRAST, UF_RA_BRIGHTNESS, UF_RA_COLOR, UF_RA_CONTRAST, UF_RA_EQUALIZE, UF_RA_IDENTITY,
       UF_RA_POSTERIZE, UF_RA_ROTATE, UF_RA_SHARPNESS, UF_RA_SHEARX, UF_RA_SHEARY, UF_RA_SOLARIZE,
       UF_RA_TRANSLATEX, UF_RA_TRANSLATEY, UF_RA_NOPS };
extern const char *const uf_ra_names[UF_RA_NOPS];

typedef struct uf_ra_op {
    int op, v;   /* op from the pool, magnitude 1 .. m-1 */
    int apply;   /* drawn with probability 1/2 */
    int negate;  /* the sign draw of rotations, shears and translations */
} uf_ra_op;

typedef struct uf_randaug {
    int n;
    uf_ra_op ops[4];
    int cut_x0, cut_y0, cut_x1, cut_y1; /* the cutout rectangle, corners included (PIL's rectangle) */
} uf_randaug;

/* Samples RandAugmentMC(n, m) followed by CutoutAbs(v = cutout side) for a W x H image. */
void uf_randaug_sample(int W, int H, int n, int m, int cutout, uf_draw d, uf_randaug *p);
/* Applies one op with magnitude v (and sign) to im in place, as the PIL op does. */
int uf_ra_apply(uf_image *im, const uf_ra_op *op, uf_err *e);
/* Applies a sampled RandAugment plan (ops then cutout). */
int uf_randaug_apply(uf_image *im, const uf_randaug *p, uf_err *e);

#endif
