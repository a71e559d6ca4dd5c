/* The training/evaluation loader: worker threads decode and transform images into batches ahead of
 * the consumer (prefetch), while batch order and contents depend only on (seed, epoch, row), never
 * on the thread count or timing. Workers are POSIX threads rather than OpenMP so they run beside
 * the model's own OpenMP loops. A corrupt image is skipped (its batch is one row shorter) and
 * counted per epoch; the first such error is kept for the report. */
#ifndef UF_DATA_LOADER_H
#define UF_DATA_LOADER_H

#include <stdint.h>

#include "core/err.h"
#include "dataset.h"

typedef enum uf_view {
    UF_VIEW_EVAL,   /* Resize(size * 256 / 224) + CenterCrop(size) */
    UF_VIEW_WEAK,   /* RandomResizedCrop(size, scale 0.08-1, ratio 3/4-4/3) + horizontal flip (see cfg) */
    UF_VIEW_STRONG, /* weak + RandAugment(2, 10) + gray cutout of half the side */
} uf_view;

typedef struct uf_loader_cfg {
    int batch;    /* rows per batch */
    int size;     /* output side, 224 */
    uf_view view;
    int shuffle;  /* a new permutation each epoch */
    int threads;  /* worker threads (>= 1) */
    int prefetch; /* batches prepared ahead (>= 1) */
    uint64_t seed;
    double scale_min; /* RandomResizedCrop's smallest area fraction; 0: torchvision's 0.08 */
    int no_flip;      /* no horizontal flips (glyphs: a mirrored letter is another class) */
    double jitter;      /* > 0: after the crop, RandomApply(ColorJitter(brightness, contrast = jitter), 0.8)
                           (uf_jitter_sample), as MoCo v2's colour jitter on gray images */
    uint64_t view_seed; /* 0: augmentations drawn from seed; v > 0: from a seed derived from (seed, v),
                           so loaders that differ only here give independent augmentations of the same
                           rows in the same order (MoCo's query and key views) */
    const int *rows;    /* the rows an epoch visits (data/rows.h; copied at open), shuffled as a list;
                           NULL: every row of ds */
    int nrows;
    int parts, part;    /* parts > 1: every batch is only the part-th of `parts` equal contiguous pieces of
                           the batch (of `batch` rows, a multiple of parts) the loader makes without them:
                           an MPI rank's share, the same rows with the same augmentations */
} uf_loader_cfg;

typedef struct uf_batch {
    int n;       /* rows, batch or fewer (the last, partial batch of an epoch, skipped images) */
    float *x;    /* (n, 3, size, size), ImageNet-normalised */
    int *label;  /* n */
    int *row;    /* n: the data set rows */
} uf_batch;

typedef struct uf_loader uf_loader;

/* ds must have its images open (uf_dataset_open_images) and outlive the loader. */
int uf_loader_open(uf_loader **L, const uf_dataset *ds, const uf_loader_cfg *cfg, uf_err *e);
/* Starts epoch `epoch` (the workers begin at once); batches then come from uf_loader_next. */
void uf_loader_start(uf_loader *L, int epoch);
/* The same from batch `first` of the epoch on (a run resumed mid-epoch): the batches are those
 * uf_loader_start's would be from there. */
void uf_loader_start_at(uf_loader *L, int epoch, int first);
/* The next batch of the epoch (valid until the next call), or NULL at the end of the epoch. */
const uf_batch *uf_loader_next(uf_loader *L);
/* Images skipped as corrupt in the current epoch, and the first reason. */
long uf_loader_skipped(const uf_loader *L, const char **first_error);
void uf_loader_close(uf_loader *L);

#endif
