#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "io/npy.h"
#include "select/uot.h"

static const char *const help =
    "usage: uotft uot --cost M.npy [--a A.npy] [--b B.npy] [--eps E] [--tau1 T] [--tau2 T]\n"
    "                 [--max-iter N] [--tol X] [--solver auto|log|plain]\n"
    "                 [--plan P.npy] [--row-mass R.npy] [--threads N]\n"
    "\n"
    "Solves min_P <P,M> + eps sum P(log P - 1) + tau1 KL(P1|a) + tau2 KL(P^T 1|b) by\n"
    "generalised Sinkhorn in double precision and writes the plan and/or its row sums.\n"
    "M is an (ns, nt) matrix; a and b default to vectors of ones. Defaults: eps 1,\n"
    "tau1 1, tau2 100, 1000 iterations, tol 1e-6 (POT's stopping rule); 'inf' makes a\n"
    "side a hard constraint. Prints solver, iterations, converged and err lines.\n";

enum { O_COST = 256, O_A, O_B, O_EPS, O_TAU1, O_TAU2, O_ITER, O_TOL, O_SOLVER, O_PLAN, O_ROW,
       O_THREADS, O_HELP };

static const struct option opts[] = {
    {"cost", required_argument, 0, O_COST},     {"a", required_argument, 0, O_A},
    {"b", required_argument, 0, O_B},           {"eps", required_argument, 0, O_EPS},
    {"tau1", required_argument, 0, O_TAU1},     {"tau2", required_argument, 0, O_TAU2},
    {"max-iter", required_argument, 0, O_ITER}, {"tol", required_argument, 0, O_TOL},
    {"solver", required_argument, 0, O_SOLVER}, {"plan", required_argument, 0, O_PLAN},
    {"row-mass", required_argument, 0, O_ROW},  {"threads", required_argument, 0, O_THREADS},
    {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
};

static int read_masses(const char *path, int n, double **out, uf_err *e)
{
    if (!path) {
        if (!(*out = uf_calloc((size_t)n, sizeof **out, e)))
            return -1;
        for (int i = 0; i < n; i++)
            (*out)[i] = 1.0;
        return 0;
    }
    int m;
    if (uf_npy_read_vector(path, out, &m, e))
        return -1;
    if (m != n) {
        free(*out);
        return uf_fail(e, "%s has %d entries, the cost matrix needs %d", path, m, n);
    }
    return 0;
}

static int write_f64(const char *path, double *data, int ndim, int64_t d0, int64_t d1, uf_err *e)
{
    uf_array a = {.dtype = UF_F64, .ndim = ndim, .shape = {d0, d1}, .data = data};
    return uf_npy_write(path, &a, e);
}

int cmd_uot(int argc, char **argv)
{
    const char *cmd = "uot";
    const char *cost = NULL, *apath = NULL, *bpath = NULL, *plan_path = NULL, *row_path = NULL;
    long threads = 0, iters;
    uf_uot_params p;
    uf_uot_defaults(&p);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_COST: cost = optarg; break;
        case O_A: apath = optarg; break;
        case O_B: bpath = optarg; break;
        case O_PLAN: plan_path = optarg; break;
        case O_ROW: row_path = optarg; break;
        case O_EPS: if (cli_double(cmd, "--eps", optarg, &p.eps)) return 2; break;
        case O_TAU1: if (cli_double(cmd, "--tau1", optarg, &p.tau1)) return 2; break;
        case O_TAU2: if (cli_double(cmd, "--tau2", optarg, &p.tau2)) return 2; break;
        case O_TOL: if (cli_double(cmd, "--tol", optarg, &p.tol)) return 2; break;
        case O_ITER:
            if (cli_int(cmd, "--max-iter", optarg, 1, 100000000, &iters))
                return 2;
            p.max_iter = (int)iters;
            break;
        case O_SOLVER:
            if (uf_uot_solver_parse(optarg, &p.solver))
                return cli_usage_error(cmd, "unknown solver '%s' (auto log plain)", optarg);
            break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!cost)
        return cli_usage_error(cmd, "--cost is required");
    if (!plan_path && !row_path)
        return cli_usage_error(cmd, "nothing to write: give --plan and/or --row-mass");
    cli_set_threads(threads);

    uf_err e;
    double *M = NULL, *a = NULL, *b = NULL, *plan = NULL, *row = NULL;
    int ns, nt, rc = 1;
    uf_uot_info info;
    if (uf_npy_read_matrix(cost, &M, &ns, &nt, &e) || read_masses(apath, ns, &a, &e) ||
        read_masses(bpath, nt, &b, &e)) {
        cli_error(cmd, &e);
        goto out;
    }
    if ((plan_path && !(plan = uf_calloc((size_t)ns * nt, sizeof *plan, &e))) ||
        !(row = uf_calloc((size_t)ns, sizeof *row, &e)) ||
        uf_uot_solve(M, ns, nt, a, b, &p, row, NULL, plan, &info, &e) ||
        (plan_path && write_f64(plan_path, plan, 2, ns, nt, &e)) ||
        (row_path && write_f64(row_path, row, 1, ns, 0, &e))) {
        cli_error(cmd, &e);
        goto out;
    }
    printf("solver\t%s\niterations\t%d\nconverged\t%s\nerr\t%.6g\n", uf_uot_solver_name(info.solver),
           info.iterations, info.converged ? "yes" : "no", info.err);
    if (info.numerical_error)
        printf("numerical_error\tyes\n");
    rc = 0;
out:
    free(M);
    free(a);
    free(b);
    free(plan);
    free(row);
    return rc;
}
