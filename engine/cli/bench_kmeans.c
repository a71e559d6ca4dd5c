/* uotft bench kmeans: spherical k-means against scikit-learn's Lloyd on the same data. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "features/kmeans.h"
#include "io/npy.h"

static const char *const help =
    "usage: uotft bench kmeans [--n N] [--d D] [--k K] [--iters N] [--threads N]\n"
    "                          [--no-sklearn] [--python PY] [--sklearn-script F]\n"
    "\n"
    "Times spherical k-means (uotft kmeans --init random) on N = 100000 unit rows of D = 128\n"
    "dims, K = 2000, 20 iterations, and in the same run scikit-learn's KMeans (Lloyd,\n"
    "init='random', n_init=1, tol=0; bench/sklearn_kmeans.py under Debian's /usr/bin/python3)\n"
    "on the same float32 rows with the same thread count. The rows are a mixture: K centres\n"
    "drawn from N(0, I) plus N(0, I) noise, normalised. Prints seconds, the spherical\n"
    "objective (sum of squared distances to the unit centroid), iterations, and the ratio\n"
    "scikit-learn / uotft, in total and per iteration. Both start from random points, not the\n"
    "same ones: the objectives and iteration counts agree only roughly.\n";

enum { O_N = 256, O_D, O_K, O_ITERS, O_THREADS, O_NOSK, O_PY, O_SCRIPT, O_HELP };

static const struct option opts[] = {
    {"n", required_argument, 0, O_N},         {"d", required_argument, 0, O_D},
    {"k", required_argument, 0, O_K},         {"iters", required_argument, 0, O_ITERS},
    {"threads", required_argument, 0, O_THREADS}, {"no-sklearn", no_argument, 0, O_NOSK},
    {"python", required_argument, 0, O_PY},   {"sklearn-script", required_argument, 0, O_SCRIPT},
    {"help", no_argument, 0, O_HELP},         {0, 0, 0, 0},
};

static double gauss(uint64_t stream, uint64_t i)
{
    return sqrt(-2 * log(1 - uf_rng_uniform(7, stream, 2 * i))) * cos(2 * M_PI * uf_rng_uniform(7, stream, 2 * i + 1));
}

// centres: (k, d) ~ N(0, I); X: (n, d) = centre[rand] + N(0, I), rows normalised
static void make_data(float *X, int n, int d, int k)
{
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        uint64_t c = uf_rng_u64(7, 1, (uint64_t)i) % (uint64_t)k;
        double s = 0;
        for (int j = 0; j < d; j++) {
            double v = gauss(2, c * (uint64_t)d + (uint64_t)j) + gauss(3, (uint64_t)i * d + (uint64_t)j);
            X[(size_t)i * d + j] = (float)v;
            s += v * v;
        }
        for (int j = 0; j < d; j++)
            X[(size_t)i * d + j] = (float)(X[(size_t)i * d + j] / sqrt(s));
    }
}

int bench_kmeans(int argc, char **argv)
{
    const char *cmd = "bench kmeans", *python = "/usr/bin/python3",
               *script = UOTFT_SOURCE_DIR "/bench/sklearn_kmeans.py";
    long n = 100000, d = 128, k = 2000, iters = 20, threads = 0;
    int sk = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_N: if (cli_int(cmd, "--n", optarg, 1, 1 << 26, &n)) return 2; break;
        case O_D: if (cli_int(cmd, "--d", optarg, 1, 1 << 16, &d)) return 2; break;
        case O_K: if (cli_int(cmd, "--k", optarg, 1, 1 << 20, &k)) return 2; break;
        case O_ITERS: if (cli_int(cmd, "--iters", optarg, 0, 100000, &iters)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_NOSK: sk = 0; break;
        case O_PY: python = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (k > n)
        return cli_usage_error(cmd, "--k %ld exceeds --n %ld", k, n);
    cli_set_threads(threads);
    uf_err e;
    float *X = uf_calloc((size_t)n * d, sizeof(float), &e), *C = uf_calloc((size_t)k * d, sizeof(float), &e);
    int32_t *A = uf_calloc((size_t)n, sizeof(int32_t), &e);
    if (!X || !C || !A)
        return cli_error(cmd, &e);
    make_data(X, (int)n, (int)d, (int)k);
    uf_kmeans_params p;
    uf_kmeans_defaults(&p);
    p.k = (int)k;
    p.iters = (int)iters;
    p.init = UF_KMEANS_RANDOM;
    uf_kmeans_info info;
    double t0 = uf_now();
    if (uf_kmeans(X, (int)n, (int)d, &p, C, A, &info, &e))
        return cli_error(cmd, &e);
    double ours = uf_now() - t0, theirs = NAN, sk_obj = NAN;
    int sk_it = 0;
    if (sk) {
        char dir[] = "/tmp/uotft-bench-kmeans-XXXXXX", path[64], line[4096], cmdline[4096];
        uf_array xa = {.dtype = UF_F32, .ndim = 2, .shape = {n, d}, .data = X};
        if (!mkdtemp(dir)) {
            fprintf(stderr, "uotft %s: cannot create a temporary folder\n", cmd);
            return 1;
        }
        snprintf(path, sizeof path, "%s/X.npy", dir);
        if (uf_npy_write(path, &xa, &e))
            return cli_error(cmd, &e);
        snprintf(cmdline, sizeof cmdline, "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d '%s' '%s' %s %ld %ld %d 2>&1",
                 uf_threads(), uf_threads(), python, script, path, k, iters, uf_threads());
        FILE *f = popen(cmdline, "r");
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "%lf %lf %d", &theirs, &sk_obj, &sk_it) != 3)
                fprintf(stderr, "sklearn_kmeans.py: %s", line);
        if (f)
            pclose(f);
        unlink(path);
        rmdir(dir);
    }
    printf("# spherical k-means, %ld x %ld, K = %ld, at most %ld iterations, %d threads\n", n, d, k, iters,
           uf_threads());
    printf("%-10s %10s %16s %10s %14s\n", "impl", "seconds", "objective", "iters", "s_per_iter");
    printf("%-10s %10.3f %16.6f %10d %14.4f\n", "uotft", ours, info.objective, info.iterations,
           ours / (info.iterations > 0 ? info.iterations : 1));
    printf("%-10s %10.3f %16.6f %10d %14.4f\n", "sklearn", theirs, sk_obj, sk_it, theirs / (sk_it > 0 ? sk_it : 1));
    printf("speedup\t%.2fx\nspeedup_per_iter\t%.2fx\nrecomputed\t%.4f\n", theirs / ours,
           (theirs / (sk_it > 0 ? sk_it : 1)) / (ours / (info.iterations > 0 ? info.iterations : 1)),
           info.recomputed);
    if (sk && isnan(theirs))
        printf("# scikit-learn did not run: install python3-sklearn (ci/apt-packages.txt) or pass --no-sklearn\n");
    free(X);
    free(C);
    free(A);
    return 0;
}
