/* What a tier needs before its manifests' jobs can run, named by the tier's
 * `prepare` setting and run by uf_run_manifest first. A preparation skips
 * every stage whose outputs are present and verified, so each manifest of a
 * tier may ask for it and only the first one does the work; a killed
 * preparation continues where it stopped.
 *
 * "mini" (prepare_mini.c), with the settings world, pretrain, committed and
 * features (folders relative to the project root):
 *   1. the mini world in `world`: verified against its SHA256SUMS, else built
 *      by datasets/mini/build with the uotft-mkmini beside this executable;
 *   2. the supervised and MoCo v2 backbones: `committed`/<name>.ckpt when that
 *      exists (checkpoints kept in the repository), else trained into
 *      `pretrain` with uotft pretrain's defaults (resumable);
 *   3. features in `features`/<folder>: supervised (pooled), moco-v2 (the
 *      128-d MLP output, as the released MoCo means), moco-v2-backbone and
 *      random (pooled, for the linear probes); class means and counts of the
 *      pool and of every target's training split, pool-classes.tsv;
 *   4. spherical k-means of the pool's supervised and MoCo features into
 *      `features`/<model>-kmeans: cluster means and counts in place of class
 *      means, a class table naming each cluster by its majority class, and the
 *      targets' means beside them.
 * A stage's folder holds stamp.tsv, written last: what it was made from and
 * the sha256 of every output; it is redone when either differs. */
#ifndef UF_PREPARE_H
#define UF_PREPARE_H

#include "manifest.h"

int uf_prepare(const char *name, const uf_manifest *m, uf_err *e);

/* The mini preparation; the folders as described above (absolute or relative to the working directory). */
typedef struct uf_mini_paths {
    const char *root;      /* the project (datasets/mini/build lives there) */
    const char *world, *pretrain, *committed, *features;
} uf_mini_paths;

int uf_prepare_mini(const uf_mini_paths *p, uf_err *e);

#endif
