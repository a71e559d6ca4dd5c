/* Features of a whole data set split (ImageNet's 1.28 M training images, any target set),
 * streamed through a backbone into per-class sums and counts, so memory does not grow with the
 * number of images; resumable and shardable.
 *
 * Exact sums: each feature value is rounded to a multiple of 2^-28 (an error below 2e-9, under
 * float32's own rounding of values above 0.03) before it is added in double. Sums of such values
 * stay exact doubles while below 2^25, so no addition rounds: the sums do not depend on the order
 * of the rows, and shards over any row ranges merge to the bits of one whole run. A sum that
 * reaches 2^25 (or a non-finite feature) is an error, not a silent rounding.
 *
 * Files, for base B = <name> (whole split) or <name>.rows-<begin>-<end> (a shard), in dir:
 *   B.partial/state          the checkpoint: what it was made from, rows done, sums, counts
 *   B.partial/features.npy   with keep_features: the rows done so far (header for all of them)
 * and when done (each written under a temporary name and renamed; B.partial/ then removed):
 *   whole split: <name>.means.npy float64 (classes, d), <name>.counts.npy int64 (classes)
 *   shard:       B.part, the state file of the finished range (uf_features_merge reads it)
 *   keep_features: B.features.npy float32 (rows, d), B.labels.npy int64 (rows), in row order */
#ifndef UF_FEATURES_DATASET_FEATURES_H
#define UF_FEATURES_DATASET_FEATURES_H

#include "extract.h"

typedef struct uf_dsfeat_cfg {
    uf_extract_cfg ex;     /* size, batch, loader threads, head; ex.rows is not used */
    const char *dir, *name;
    const char *made_from; /* the weights and data set, as text: a checkpoint from others is refused */
    int begin, end;        /* rows [begin, end) of the split: multiples of ex.batch (end: or the split's end),
                              so every image is in the batch a whole run puts it in */
    int shard;             /* write B.part (sums and counts) instead of the means */
    int keep_features;
    long ckpt_every;       /* images between checkpoints (at the next whole batch); 0: none */
    long stop_after;       /* > 0: stop with a checkpoint after this many images in this call */
    int progress;          /* a line with the rate and ETA on stderr every 10 s */
} uf_dsfeat_cfg;

/* Runs (or resumes) the extraction. 0 when done, 1 when stopped by stop_after, -1 on error
 * (e names the file). Same thread count and batch: the same bytes, however often resumed. */
int uf_dataset_features(uf_model *m, const uf_dataset *ds, const uf_dsfeat_cfg *c, uf_err *e);

/* Merges shard files (B.part) made from the same weights and data set, whose ranges together
 * cover the split exactly once, into dir/<name>.means.npy and .counts.npy. */
int uf_features_merge(const char *const *parts, int nparts, const char *dir, const char *name, uf_err *e);

#endif
