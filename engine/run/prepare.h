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

/* shard_n > 0: only shard shard_i of the preparation's sharded part (uotft run --prepare-only
 * --shard I/N; the full tier's ImageNet features), merged by a later call without shards; a
 * preparation without such a part runs whole in shard 0 and does nothing in the others. */
int uf_prepare(const char *name, const uf_manifest *m, int shard_i, int shard_n, uf_err *e);

/* What the preparation will do, for uotft run --plan: up to cap stages into stages, *n of them. */
struct uf_plan_stage;
int uf_prepare_plan(const char *name, const uf_manifest *m, struct uf_plan_stage *stages, int cap, int *n, uf_err *e);

/* The mini preparation; the folders as described above (absolute or relative to the working directory). */
typedef struct uf_mini_paths {
    const char *root;      /* the project (datasets/mini/build lives there) */
    const char *world, *pretrain, *committed, *features;
} uf_mini_paths;

int uf_prepare_mini(const uf_mini_paths *p, uf_err *e);
/* The same with the folders read from the manifest's tier (world, pretrain, committed, features). */
int uf_prepare_mini_manifest(const uf_manifest *m, int shard_i, int shard_n, uf_err *e);

/* "full" (prepare_full.c): the paper's data and weights, with the settings downloads (datasets/fetch's
 * folders), recipes (what verifies them), features (where the products go), size (the eval view),
 * kmeans and kmeans_1x (cluster counts), imagenet_classes (the class table with concepts):
 *   1. every download verified against its recipe (datasets/verify), once per file: a file's size
 *      and modification time are kept beside the products;
 *   2. features/<model>/: the class means and counts of ImageNet's training images, read from the tar
 *      of tars (resumable), and of every target's training split, in the released means' layout,
 *      with imagenet-classes.tsv; MoCo's per-image features are kept for k-means;
 *   3. features/<model>-kmeans (K = kmeans) and <model>-kmeans-1x (K = kmeans_1x), MoCo only: the
 *      clusters' means and counts, each ImageNet image's cluster (imagenet-assign.npy), a class table
 *      naming each cluster by its majority class, and the targets' means beside them.
 * Each folder is stamped as the mini preparation's are. */
typedef struct uf_full_model {
    const char *name; /* the manifests' model axis value */
    int head;         /* 1: MoCo's MLP head output, not the pooled feature */
    int kmeans;       /* 1: clustered (the models without source labels in the paper) */
} uf_full_model;
enum { UF_FULL_NTARGETS = 8, UF_FULL_NMODELS = 2 };
extern const char *const uf_full_targets[UF_FULL_NTARGETS];
extern const uf_full_model uf_full_models[UF_FULL_NMODELS];

int uf_prepare_full_manifest(const uf_manifest *m, int shard_i, int shard_n, uf_err *e);
int uf_prepare_full_plan(const uf_manifest *m, struct uf_plan_stage *stages, int cap, int *n, uf_err *e);

#endif
