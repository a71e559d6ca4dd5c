#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "cli.h"
#include "core/parallel.h"
#include "train/probe.h"

static const char *const help =
    "usage: uotft probe --dir DIR [--set SET] [--C C] [--max-iter N] [--tol T] [--threads N]\n"
    "\n"
    "Linear probe of frozen features (the files `uotft features --splits train,test` writes):\n"
    "multinomial logistic regression fitted on DIR/SET-train.features.npy and .labels.npy\n"
    "(SET defaults to pool), each feature standardised with the training mean and standard\n"
    "deviation, evaluated on DIR/SET-test.*. The objective is scikit-learn's\n"
    "LogisticRegression(multi_class='multinomial', C) (sum of the cross-entropies plus\n"
    "|W|^2 / 2C, bias not penalised), minimised by L-BFGS in double precision from zero;\n"
    "defaults C 1, at most 100 iterations, stop when the largest gradient entry falls below\n"
    "--tol (1e-5) times its first value.\n"
    "Prints key<TAB>value lines: train_accuracy, test_accuracy (fractions), classes, dims,\n"
    "iterations, evaluations, converged, objective, seconds.\n";

enum { O_DIR = 256, O_SET, O_C, O_ITER, O_TOL, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"dir", required_argument, 0, O_DIR},       {"set", required_argument, 0, O_SET},
    {"C", required_argument, 0, O_C},           {"max-iter", required_argument, 0, O_ITER},
    {"tol", required_argument, 0, O_TOL},       {"threads", required_argument, 0, O_THREADS},
    {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
};

int cmd_probe(int argc, char **argv)
{
    const char *cmd = "probe", *dir = NULL, *set = "pool";
    long iters, threads = 0;
    uf_probe_params p;
    uf_probe_defaults(&p);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DIR: dir = optarg; break;
        case O_SET: set = optarg; break;
        case O_C:
            if (cli_double(cmd, "--C", optarg, &p.C)) return 2;
            if (!(p.C > 0)) return cli_usage_error(cmd, "--C must be positive");
            break;
        case O_ITER: if (cli_int(cmd, "--max-iter", optarg, 0, 100000, &iters)) return 2; p.max_iter = (int)iters; break;
        case O_TOL: if (cli_double(cmd, "--tol", optarg, &p.tol)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!dir)
        return cli_usage_error(cmd, "--dir DIR is required");
    cli_set_threads(threads);
    uf_err e;
    uf_probe_result r;
    double t0 = uf_now();
    if (uf_probe_files(dir, set, &p, &r, &e))
        return cli_error(cmd, &e);
    printf("train_accuracy\t%.6f\ntest_accuracy\t%.6f\nclasses\t%d\ndims\t%d\niterations\t%d\nevaluations\t%d\n"
           "converged\t%d\nobjective\t%.10g\nseconds\t%.2f\n",
           r.train_acc, r.test_acc, r.k, r.d, r.info.iterations, r.info.evaluations, r.info.converged,
           r.info.objective, uf_now() - t0);
    return 0;
}
