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
#include "io/npy.h"
#include "select/cost.h"
#include "select/uot.h"

static const char *const help =
    "usage: uotft bench select [--reps N] [--threads N] [--no-pot] [--python PY] [--pot-script F]\n"
    "\n"
    "select: times UOT (generalised Sinkhorn, plan included) on random cosine problems\n"
    "of 1000 x 200, 2000 x 100 and 10000 x 2000 (d = 64, eps_c 0.01, eps 1, tau1 = tau2 = 1,\n"
    "the symmetric form POT supports) and, in the same run, POT 0.8.2's\n"
    "ot.unbalanced.sinkhorn_knopp_unbalanced on the same matrices with the same thread\n"
    "count (bench/pot_uot.py under Debian's /usr/bin/python3). Prints medians, the ratio\n"
    "POT/uotft, both iteration counts, and uotft on the paper's asymmetric setting\n"
    "(tau2 = 100), which POT cannot run.\n"
    "\n"
    "data: the data loader against torchvision's DataLoader ('uotft bench data --help').\n"
    "kmeans: spherical k-means against scikit-learn's Lloyd ('uotft bench kmeans --help').\n"
    "train, infer: ResNet training steps and inference against PyTorch ('uotft bench train --help').\n"
    "finetune: one labelled fine-tuning step against PyTorch ('uotft bench finetune --help').\n";

enum { O_REPS = 256, O_THREADS, O_NOPOT, O_PY, O_SCRIPT, O_HELP };

static const struct option opts[] = {
    {"reps", required_argument, 0, O_REPS}, {"threads", required_argument, 0, O_THREADS},
    {"no-pot", no_argument, 0, O_NOPOT},    {"python", required_argument, 0, O_PY},
    {"pot-script", required_argument, 0, O_SCRIPT}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Random unit-variance features, cosine cost / 0.01; NULL with e set on failure. */
static double *make_cost(int ns, int nt, int d, uint64_t seed, uf_err *e)
{
    double *S = uf_calloc((size_t)ns * d, sizeof *S, e), *T = S ? uf_calloc((size_t)nt * d, sizeof *T, e) : NULL;
    double *M = T ? uf_calloc((size_t)ns * nt, sizeof *M, e) : NULL;
    if (!M) {
        free(S);
        free(T);
        return NULL;
    }
    for (size_t i = 0; i < (size_t)ns * d; i++) /* Box-Muller */
        S[i] = sqrt(-2 * log(1 - uf_rng_uniform(seed, 1, 2 * i))) * cos(2 * M_PI * uf_rng_uniform(seed, 1, 2 * i + 1));
    for (size_t i = 0; i < (size_t)nt * d; i++)
        T[i] = sqrt(-2 * log(1 - uf_rng_uniform(seed, 2, 2 * i))) * cos(2 * M_PI * uf_rng_uniform(seed, 2, 2 * i + 1)) + 0.3;
    if (uf_ground_distance(S, ns, T, nt, d, UF_DIST_COS, M, e)) {
        free(M);
        M = NULL;
    } else {
        for (size_t k = 0; k < (size_t)ns * nt; k++)
            M[k] /= 0.01;
    }
    free(S);
    free(T);
    return M;
}

/* The median time of reps solves in *ms; -1 with e set when the buffers cannot be had. */
static int time_uot(const double *M, int ns, int nt, const uf_uot_params *p, int reps, double *plan,
                    uf_uot_info *info, double *ms, uf_err *e)
{
    double *a = uf_calloc((size_t)ns, sizeof *a, e), *b = a ? uf_calloc((size_t)nt, sizeof *b, e) : NULL;
    double *t = b ? uf_calloc((size_t)reps, sizeof *t, e) : NULL;
    if (!t) {
        free(a);
        free(b);
        return -1;
    }
    for (int i = 0; i < ns; i++)
        a[i] = 1;
    for (int j = 0; j < nt; j++)
        b[j] = 1;
    uf_err ignored; /* only the time is measured here; the solver's outcome is checked elsewhere */
    for (int r = 0; r < reps; r++) {
        double t0 = uf_now();
        uf_uot_solve(M, ns, nt, a, b, p, NULL, NULL, plan, info, &ignored);
        t[r] = uf_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    *ms = t[reps / 2] * 1e3;
    free(a);
    free(b);
    free(t);
    return 0;
}

static int bench_select(int reps, int pot, const char *python, const char *script)
{
    static const int sizes[][2] = {{1000, 200}, {2000, 100}, {10000, 2000}};
    enum { NP = 3 };
    char dir[] = "/tmp/uotft-bench-XXXXXX", paths[NP][64];
    double ours[NP], paper[NP], potms[NP];
    int our_it[NP], pot_it[NP];
    uf_err e;
    if (!mkdtemp(dir)) {
        fprintf(stderr, "uotft bench: cannot create a temporary folder\n");
        return 1;
    }
    printf("# UOT speed, %d threads, median of %d runs (10000 x 2000: %d)\n", uf_threads(), reps,
           reps < 3 ? reps : 3);
    for (int k = 0; k < NP; k++) {
        int ns = sizes[k][0], nt = sizes[k][1], r = k == 2 && reps > 3 ? 3 : reps;
        double *M = make_cost(ns, nt, 64, 7 + k, &e);
        double *plan = M ? uf_calloc((size_t)ns * nt, sizeof *plan, &e) : NULL;
        uf_uot_params p;
        uf_uot_defaults(&p);
        uf_uot_info info;
        int rc = plan ? time_uot(M, ns, nt, &p, r, plan, &info, &paper[k], &e) : -1;
        p.tau2 = 1.0;
        if (rc || time_uot(M, ns, nt, &p, r, plan, &info, &ours[k], &e)) {
            fprintf(stderr, "uotft bench: %s\n", e.msg);
            return 1;
        }
        our_it[k] = info.iterations;
        snprintf(paths[k], sizeof paths[k], "%s/M%d.npy", dir, k);
        uf_array A = {.dtype = UF_F64, .ndim = 2, .shape = {ns, nt}, .data = M};
        if (pot && uf_npy_write(paths[k], &A, &e)) {
            fprintf(stderr, "uotft bench: %s\n", e.msg);
            return 1;
        }
        potms[k] = NAN;
        pot_it[k] = 0;
        free(M);
        free(plan);
    }
    if (pot) {
        char cmdline[2048];
        snprintf(cmdline, sizeof cmdline,
                 "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d '%s' '%s' %d 1 1 %s %s 2>&1", uf_threads(),
                 uf_threads(), python, script, reps, paths[0], paths[1]);
        /* the large problem gets fewer repetitions, as above */
        FILE *f = popen(cmdline, "r");
        char line[4096];
        int k = 0;
        while (f && fgets(line, sizeof line, f)) {
            char path[1024];
            double ms;
            int it;
            if (sscanf(line, "%1023s %lf %d", path, &ms, &it) == 3 && k < 2) {
                potms[k] = ms;
                pot_it[k++] = it;
            } else {
                fprintf(stderr, "pot_uot.py: %s", line);
            }
        }
        if (f)
            pclose(f);
        snprintf(cmdline, sizeof cmdline, "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d '%s' '%s' %d 1 1 %s 2>&1",
                 uf_threads(), uf_threads(), python, script, reps < 3 ? reps : 3, paths[2]);
        f = popen(cmdline, "r");
        while (f && fgets(line, sizeof line, f)) {
            char path[1024];
            double ms;
            int it;
            if (sscanf(line, "%1023s %lf %d", path, &ms, &it) == 3) {
                potms[2] = ms;
                pot_it[2] = it;
            } else {
                fprintf(stderr, "pot_uot.py: %s", line);
            }
        }
        if (f)
            pclose(f);
        for (int k = 0; k < NP; k++)
            unlink(paths[k]);
    }
    rmdir(dir);
    printf("%-12s %12s %12s %9s %10s %10s %16s\n", "problem", "uotft_ms", "pot_ms", "speedup", "it_uotft",
           "it_pot", "uotft_tau2=100_ms");
    for (int k = 0; k < NP; k++) {
        char name[32];
        snprintf(name, sizeof name, "%dx%d", sizes[k][0], sizes[k][1]);
        printf("%-12s %12.3f %12.3f %8.1fx %10d %10d %16.3f\n", name, ours[k], potms[k], potms[k] / ours[k],
               our_it[k], pot_it[k], paper[k]);
    }
    if (pot && isnan(potms[0]))
        printf("# POT did not run: install python3-pot (ci/apt-packages.txt) or pass --no-pot\n");
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    const char *cmd = "bench";
    long reps = 20, threads = 0;
    int pot = 1;
    const char *python = "/usr/bin/python3", *script = UOTFT_SOURCE_DIR "/bench/pot_uot.py";
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1];
    if (strcmp(what, "kmeans") == 0)
        return bench_kmeans(argc - 1, argv + 1);
    if (strcmp(what, "train") == 0 || strcmp(what, "infer") == 0)
        return bench_nn(argc - 1, argv + 1);
    if (strcmp(what, "data") == 0)
        return bench_data(argc - 1, argv + 1);
    if (strcmp(what, "finetune") == 0)
        return bench_finetune(argc - 1, argv + 1);
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_REPS: if (cli_int(cmd, "--reps", optarg, 1, 100000, &reps)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_NOPOT: pot = 0; break;
        case O_PY: python = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    cli_set_threads(threads);
    if (strcmp(what, "select") == 0)
        return bench_select((int)reps, pot, python, script);
    return cli_usage_error(cmd, "unknown benchmark '%s' (select, data, kmeans, train, infer, finetune)", what);
}
