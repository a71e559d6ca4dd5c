#define _GNU_SOURCE
/* Spherical k-means: exact answers on separated clusters, empty clusters
 * re-seeded, results independent of the thread count, bad input refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "features/kmeans.h"

/* Three directions 120 degrees apart in the plane, 20 points each, spread by
 * +-0.1 rad and scaled: the centroids are the three directions. */
static void test_three_directions(void)
{
    enum { N = 60 };
    float X[N * 2], C[3 * 2];
    int32_t A[N];
    for (int i = 0; i < N; i++) {
        double t = 2 * M_PI / 3 * (i % 3) + 0.1 * ((i / 3) % 5 - 2) / 2, r = 1 + i % 7;
        X[2 * i] = (float)(r * cos(t));
        X[2 * i + 1] = (float)(r * sin(t));
    }
    for (int init = 0; init < 2; init++) {
        uf_kmeans_params p;
        uf_kmeans_defaults(&p);
        p.k = 3;
        p.n_init = 5;
        p.init = init ? UF_KMEANS_RANDOM : UF_KMEANS_PLUSPLUS;
        uf_kmeans_info info;
        uf_err e;
        CHECK_OK(uf_kmeans(X, N, 2, &p, C, A, &info, &e), e);
        for (int i = 0; i < N; i++) { /* same direction, same cluster; the cluster's centroid is that direction */
            CHECK(A[i] == A[i % 3]);
            double t = 2 * M_PI / 3 * (i % 3);
            CHECK_CLOSE(C[2 * A[i]], cos(t), 0, 1e-6);
            CHECK_CLOSE(C[2 * A[i] + 1], sin(t), 0, 1e-6);
        }
        CHECK(A[0] != A[1] && A[1] != A[2] && A[0] != A[2]);
        /* objective: sum of 2 - 2 cos(offset), offsets 0, +-0.05, +-0.1 rad */
        double want = 0;
        for (int i = 0; i < N; i++)
            want += 2 - 2 * cos(0.1 * ((i / 3) % 5 - 2) / 2);
        CHECK_CLOSE(info.objective, want, 1e-5, 1e-9);
    }
}

/* Nine copies of one point and one other point, k = 3: random starts that
 * pick three copies leave clusters empty, which take the far point. */
static void test_empty_clusters(void)
{
    float X[10 * 2], C[3 * 2];
    int32_t A[10];
    for (int i = 0; i < 9; i++) {
        X[2 * i] = 1;
        X[2 * i + 1] = 0;
    }
    X[18] = 0;
    X[19] = 2;
    int reseeded = 0;
    for (uint64_t seed = 0; seed < 10; seed++) {
        uf_kmeans_params p;
        uf_kmeans_defaults(&p);
        p.k = 3;
        p.seed = seed;
        p.init = UF_KMEANS_RANDOM;
        uf_kmeans_info info;
        uf_err e;
        CHECK_OK(uf_kmeans(X, 10, 2, &p, C, A, &info, &e), e);
        reseeded += info.reseeded;
        CHECK_CLOSE(info.objective, 0, 0, 1e-9);
        for (int i = 1; i < 9; i++)
            CHECK(A[i] == A[0]);
        CHECK(A[9] != A[0]);
        CHECK_CLOSE(C[2 * A[9] + 1], 1, 0, 1e-7);
    }
    CHECK(reseeded > 0);
}

/* Random data: 1 and 2 threads give the same bytes; seeds give other results. */
static void test_threads(void)
{
    enum { N = 3000, D = 24, K = 40 };
    float *X = malloc(sizeof(float) * N * D), *C1 = malloc(sizeof(float) * K * D), *C2 = malloc(sizeof(float) * K * D);
    int32_t *A1 = malloc(sizeof(int32_t) * N), *A2 = malloc(sizeof(int32_t) * N);
    for (int i = 0; i < N * D; i++)
        X[i] = (float)(uf_rng_uniform(3, 0, (uint64_t)i) - 0.5 + (i % D == (i / D) % 7) * 0.8);
    for (int init = 0; init < 2; init++) {
        uf_kmeans_params p;
        uf_kmeans_defaults(&p);
        p.k = K;
        p.init = init ? UF_KMEANS_RANDOM : UF_KMEANS_PLUSPLUS;
        uf_kmeans_info i1, i2;
        uf_err e;
        uf_set_threads(1);
        CHECK_OK(uf_kmeans(X, N, D, &p, C1, A1, &i1, &e), e);
        uf_set_threads(2);
        CHECK_OK(uf_kmeans(X, N, D, &p, C2, A2, &i2, &e), e);
        CHECK(memcmp(C1, C2, sizeof(float) * K * D) == 0 && memcmp(A1, A2, sizeof(int32_t) * N) == 0);
        CHECK(i1.objective == i2.objective && i1.iterations == i2.iterations);
        CHECK(i1.recomputed < 1); /* the bounds pruned something */
        p.seed = 1;
        CHECK_OK(uf_kmeans(X, N, D, &p, C2, A2, &i2, &e), e);
        CHECK(memcmp(C1, C2, sizeof(float) * K * D) != 0);
    }
    free(X);
    free(C1);
    free(C2);
    free(A1);
    free(A2);
}

static void test_rejects(void)
{
    float X[4 * 2] = {1, 0, 0, 1, 0, 0, 1, 1}, C[4 * 2];
    int32_t A[4];
    uf_kmeans_params p;
    uf_kmeans_defaults(&p);
    uf_kmeans_info info;
    uf_err e;
    p.k = 2;
    CHECK(uf_kmeans(X, 4, 2, &p, C, A, &info, &e) != 0 && strstr(e.msg, "row 2") != NULL);
    X[4] = NAN;
    CHECK(uf_kmeans(X, 4, 2, &p, C, A, &info, &e) != 0 && strstr(e.msg, "row 2") != NULL);
    X[4] = 1;
    p.k = 5;
    CHECK(uf_kmeans(X, 4, 2, &p, C, A, &info, &e) != 0 && strstr(e.msg, "k = 5") != NULL);
    p.k = 4;
    CHECK_OK(uf_kmeans(X, 4, 2, &p, C, A, &info, &e), e);
    CHECK_CLOSE(info.objective, 0, 0, 1e-12);
}

int main(void)
{
    test_three_directions();
    test_empty_clusters();
    test_threads();
    test_rejects();
    CHECK_DONE();
}
