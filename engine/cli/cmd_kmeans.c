#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "features/extract.h"
#include "features/kmeans.h"
#include "io/npy.h"

static const char *const help =
    "usage: uotft kmeans --features X.npy --k K --centroids C.npy [--assign A.npy]\n"
    "                    [--means DIR [--name SET]] [--iters N] [--n-init N] [--seed S]\n"
    "                    [--init plusplus|random] [--threads N]\n"
    "\n"
    "Spherical (cosine) k-means on the rows of X (a float or int .npy matrix, points x dims):\n"
    "rows are normalised to unit length, each centroid is the normalised mean of its points,\n"
    "and a point joins the centroid of largest cosine. Lloyd's iterations (--iters, default 20;\n"
    "it stops earlier once no point changes centroid) with the assignment as a GEMM (OpenBLAS)\n"
    "and Hamerly's bounds to skip points whose centroid cannot change. An empty cluster takes\n"
    "the point farthest from its centroid. --init: k-means++ (default) or k distinct random\n"
    "points (faiss's default, much cheaper for large k). --n-init N: the best of N runs from\n"
    "different initialisations (default 1). Same seed: same result, on any thread count.\n"
    "\n"
    "Writes the centroids (K x dims, float32, unit rows) and, with --assign, each point's\n"
    "centroid (int32). Prints key<TAB>value lines: objective (the sum over points of the\n"
    "squared distance between the normalised point and its centroid), iterations, reseeded\n"
    "(empty clusters re-seeded), recomputed (fraction of assignments computed by GEMM), seconds.\n"
    "--means DIR: also each cluster's mean of the points as given (not normalised) and its size,\n"
    "in the released class means' layout: DIR/SET.means.npy float64 (K, dims) and\n"
    "DIR/SET.counts.npy int64 (K); SET defaults to clusters.\n"
    "Memory: a float32 X is mapped, not copied; the heap holds O(K x dims + points).\n";

enum { O_X = 256, O_K, O_C, O_A, O_MEANS, O_NAME, O_ITERS, O_NINIT, O_SEED, O_INIT, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"features", required_argument, 0, O_X}, {"k", required_argument, 0, O_K},
    {"centroids", required_argument, 0, O_C}, {"assign", required_argument, 0, O_A},
    {"means", required_argument, 0, O_MEANS}, {"name", required_argument, 0, O_NAME},
    {"iters", required_argument, 0, O_ITERS}, {"n-init", required_argument, 0, O_NINIT},
    {"seed", required_argument, 0, O_SEED},
    {"init", required_argument, 0, O_INIT},   {"threads", required_argument, 0, O_THREADS},
    {"help", no_argument, 0, O_HELP},         {0, 0, 0, 0},
};

/* The points: a float32 .npy is read through a map (no heap copy: 1.28 M x 128 features stay on
 * disk and in the page cache); another type is converted into *owned. */
static int read_features(const char *path, uf_npy_mapping *map, float **owned, const float **X, int *n, int *d,
                         uf_err *e)
{
    uf_array a;
    *owned = NULL;
    if (uf_npy_map(path, &a, map, e))
        return -1;
    if (a.ndim != 2 || a.shape[0] < 1 || a.shape[1] < 1 || a.shape[0] > 1 << 30 || a.shape[1] > 1 << 20) {
        char s[64];
        uf_shape_str(&a, s, sizeof s);
        uf_npy_unmap(map);
        return uf_fail(e, "%s: expected a non-empty matrix (points x dims), found shape %s", path, s);
    }
    *n = (int)a.shape[0];
    *d = (int)a.shape[1];
    *X = a.data;
    if (a.dtype == UF_F32)
        return 0;
    size_t count = uf_array_count(&a);
    if (!(*owned = uf_calloc(count, sizeof(float), e))) {
        uf_npy_unmap(map);
        return uf_wrap(e, "%s", path);
    }
    for (size_t i = 0; i < count; i++)
        (*owned)[i] = (float)uf_array_get(&a, i);
    *X = *owned;
    uf_npy_unmap(map);
    return 0;
}

/* Centroids, assignment (ap NULL: none) and the clusters' means and counts (means_dir NULL: none). */
static int write_results(const char *cp, const char *ap, const char *means_dir, const char *name, const float *X,
                         const float *C, const int32_t *A, int n, int d, int k, uf_err *e)
{
    uf_array ca = {.dtype = UF_F32, .ndim = 2, .shape = {k, d}, .data = (void *)C};
    uf_array aa = {.dtype = UF_I32, .ndim = 1, .shape = {n}, .data = (void *)A};
    if (uf_npy_write(cp, &ca, e) || (ap && uf_npy_write(ap, &aa, e)))
        return -1;
    if (!means_dir)
        return 0;
    double *means = uf_calloc((size_t)k * d, sizeof *means, e); /* (k, d) */
    int64_t *counts = uf_calloc((size_t)k, sizeof *counts, e);
    int rc = means && counts ? 0 : -1;
    if (rc == 0) { /* int32_t is int on every target the engine builds for */
        uf_group_means(X, A, n, d, k, means, counts);
        rc = uf_write_means(means_dir, name, means, counts, k, d, e);
    }
    free(means);
    free(counts);
    return rc;
}

int cmd_kmeans(int argc, char **argv)
{
    const char *cmd = "kmeans", *xp = NULL, *cp = NULL, *ap = NULL, *means_dir = NULL, *name = "clusters";
    long k = 0, iters = 20, n_init = 1, seed = 0, threads = 0;
    uf_kmeans_params p;
    uf_kmeans_defaults(&p);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_X: xp = optarg; break;
        case O_C: cp = optarg; break;
        case O_A: ap = optarg; break;
        case O_MEANS: means_dir = optarg; break;
        case O_NAME: name = optarg; break;
        case O_K: if (cli_int(cmd, "--k", optarg, 1, 1 << 30, &k)) return 2; break;
        case O_ITERS: if (cli_int(cmd, "--iters", optarg, 0, 1000000, &iters)) return 2; break;
        case O_NINIT: if (cli_int(cmd, "--n-init", optarg, 1, 1000, &n_init)) return 2; break;
        case O_SEED: if (cli_int(cmd, "--seed", optarg, 0, 0x7fffffffffffffffL, &seed)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_INIT:
            if (strcmp(optarg, "plusplus") == 0)
                p.init = UF_KMEANS_PLUSPLUS;
            else if (strcmp(optarg, "random") == 0)
                p.init = UF_KMEANS_RANDOM;
            else
                return cli_usage_error(cmd, "--init expects plusplus or random, got '%s'", optarg);
            break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!xp || !cp || k == 0)
        return cli_usage_error(cmd, "--features, --k and --centroids are required");
    cli_set_threads(threads);
    p.k = (int)k;
    p.iters = (int)iters;
    p.n_init = (int)n_init;
    p.seed = (uint64_t)seed;
    uf_err e;
    uf_npy_mapping map;
    const float *X = NULL;
    float *owned = NULL, *C = NULL;
    int32_t *A = NULL;
    int n = 0, d = 0, rc = 1;
    if (read_features(xp, &map, &owned, &X, &n, &d, &e))
        return cli_error(cmd, &e);
    if (k > n) {
        free(owned);
        uf_npy_unmap(&map);
        return cli_usage_error(cmd, "--k %ld exceeds the %d points of %s", k, n, xp);
    }
    C = uf_calloc((size_t)k * d, sizeof(float), &e);
    A = uf_calloc((size_t)n, sizeof(int32_t), &e);
    uf_kmeans_info info;
    double t0 = uf_now();
    if (!C || !A || uf_kmeans(X, n, d, &p, C, A, &info, &e)) {
        uf_wrap(&e, "%s", xp);
    } else {
        double secs = uf_now() - t0;
        if (write_results(cp, ap, means_dir, name, X, C, A, n, d, (int)k, &e) == 0) {
            printf("objective\t%.10g\niterations\t%d\nreseeded\t%d\nrecomputed\t%.4f\nseconds\t%.3f\n",
                   info.objective, info.iterations, info.reseeded, info.recomputed, secs);
            rc = 0;
        }
    }
    free(owned);
    uf_npy_unmap(&map);
    free(C);
    free(A);
    return rc ? cli_error(cmd, &e) : 0;
}
