/* What the mini and full preparations share (prepare.h): stamps that say what a folder was made
 * from, and the clustering stage (k-means of a set's per-image features in place of its classes). */
#ifndef UF_PREPARE_STAGES_H
#define UF_PREPARE_STAGES_H

#include "../core/err.h"

enum { UF_STAMP_MAX_FILES = 32 };

/* 1 when dir/stamp.tsv records `source` and every file it lists still has its sum. */
int uf_stamp_ok(const char *dir, const char *source);
/* dir/stamp.tsv: `source`, then each file of dir with its sha256; written last. */
int uf_stamp_write(const char *dir, const char *source, char files[][128], int n, uf_err *e);
int uf_copy_file(const char *from, const char *to, uf_err *e);

/* Spherical k-means of a set's per-image features into dir: <set>.means.npy and .counts.npy of
 * the clusters (the unnormalised features' means, the released means' layout), <set>-assign.npy
 * (int32, each image's cluster), <set>-classes.tsv (each cluster named by its most frequent class,
 * with that class's share, and given its images' most frequent concept), and each target's
 * means and counts copied from `from`, so selection reads clusters as it reads classes. */
typedef struct uf_cluster_job {
    const char *tag;                 /* "[prepare mini]", for messages */
    const char *from;                /* the features' folder: its stamp.tsv and the targets' means */
    const char *features, *labels;   /* float32 (n, d) and integer (n) .npy */
    const char *classes;             /* the labels' class table, with columns name and concept */
    const char *set;                 /* the outputs' base name */
    const char *dir;
    int k;                           /* > 0: K; else -k times the labels' classes */
    const char *const *targets;
    int ntargets;
} uf_cluster_job;

int uf_prepare_clusters(const uf_cluster_job *j, uf_err *e);

#endif
