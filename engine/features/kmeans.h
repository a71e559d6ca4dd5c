/* Spherical k-means (cosine): rows are normalised to unit length, each
 * centroid is the normalised mean of its points, and a point goes to the
 * centroid of largest dot product. Lloyd's iterations with the assignment as
 * a GEMM over blocks of points (OpenBLAS), and Hamerly's bounds so that a
 * point whose centroid cannot have changed is not recomputed: the result is
 * the one plain Lloyd gives. Deterministic for a given seed and thread count. */
#ifndef UF_KMEANS_H
#define UF_KMEANS_H

#include <stdint.h>

#include "core/err.h"

typedef enum uf_kmeans_init {
    UF_KMEANS_PLUSPLUS, /* k-means++ (D^2 sampling, one candidate per step) */
    UF_KMEANS_RANDOM,   /* k distinct points drawn uniformly (faiss's default) */
} uf_kmeans_init;

typedef struct uf_kmeans_params {
    int k;
    int iters;  /* Lloyd iterations at most; stops early once no point changes centroid */
    int n_init; /* runs from different initialisations; the lowest objective wins */
    uint64_t seed;
    uf_kmeans_init init;
} uf_kmeans_params;

typedef struct uf_kmeans_info {
    double objective; /* sum over points of |x/|x| - c|^2, c the point's (unit) centroid */
    int iterations;    /* Lloyd iterations run (by the winning run, as the fields below) */
    int reseeded;      /* empty clusters given a new centroid */
    double recomputed; /* fraction of point assignments computed by GEMM (the rest pruned) */
} uf_kmeans_info;

void uf_kmeans_defaults(uf_kmeans_params *p); /* iters 20, 1 run, seed 0, k-means++; k must be set */

/* X: (n, d) float32, row-major; rows must be finite and non-zero.
 * centroids: (k, d) out, unit rows; assign: (n) out, in [0, k). */
int uf_kmeans(const float *X, int n, int d, const uf_kmeans_params *p, float *centroids, int32_t *assign,
              uf_kmeans_info *info, uf_err *e);

#endif
