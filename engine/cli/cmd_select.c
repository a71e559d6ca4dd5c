#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "core/fileio.h"
#include "io/npy.h"
#include "select/classes.h"
#include "select/select.h"

static const char *const help =
    "usage: uotft select --source-means S.npy --source-counts Sc.npy\n"
    "                    --target-means T.npy --target-counts Tc.npy --method M --out FILE.tsv\n"
    "                    [--eps-c X] [--top K] [--seed N] [--classes CLASSES.tsv --concept C]\n"
    "                    [--eps E] [--tau1 T] [--tau2 T] [--max-iter N] [--tol X]\n"
    "                    [--solver auto|log|plain] [--threads N]\n"
    "\n"
    "Ranks the source classes (rows of S) for a target set (rows of T) and writes the\n"
    "top K as a TSV with the header 'rank<TAB>index<TAB>score', ranks 1..K by descending\n"
    "score. Means are float or int .npy matrices (classes x feature dim); counts are 1-D.\n"
    "\n"
    "methods:\n"
    "  uot-cos   UOT on 1 - cos(S_i, T_j) / eps_c (the paper's method; eps_c 0.01)\n"
    "  uot-l2    UOT on ||S_i - T_j|| / eps_c on the raw means (eps_c 0.1)\n"
    "  got-cos   Greedy-OT (Cui et al. 2018): exp(-gamma EMD({s}, T)), cosine ground distance\n"
    "  got-l2    Greedy-OT with Euclidean ground distance\n"
    "  random    uniform random order (--seed)\n"
    "  label     the source classes whose concept is --concept (needs --classes)\n"
    "score: UOT: the row sum of the transport plan P1; Greedy-OT: the similarity\n"
    "exp(-gamma EMD) (gamma 0.01); random: the uniform draw; label: 1 or 0.\n"
    "\n"
    "UOT settings (defaults are the paper's): --eps 1 (entropy), --tau1 1 (source\n"
    "marginal), --tau2 100 (target marginal), --max-iter 1000, --tol 1e-6; --solver auto\n"
    "uses the plain scaling form when it cannot underflow and the log domain otherwise.\n"
    "\n"
    "With --classes (TSV with 'concept' and 'name' columns, one row per source class)\n"
    "and --concept, prints recall<TAB>N/M<TAB>percent: N selected classes of the concept\n"
    "among its M classes. Solver facts are printed as key<TAB>value lines.\n";

enum { O_SM = 256, O_SC, O_TM, O_TC, O_METHOD, O_EPSC, O_TOP, O_SEED, O_CLASSES, O_CONCEPT, O_OUT,
       O_EPS, O_TAU1, O_TAU2, O_ITER, O_TOL, O_SOLVER, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"source-means", required_argument, 0, O_SM}, {"source-counts", required_argument, 0, O_SC},
    {"target-means", required_argument, 0, O_TM}, {"target-counts", required_argument, 0, O_TC},
    {"method", required_argument, 0, O_METHOD},   {"eps-c", required_argument, 0, O_EPSC},
    {"top", required_argument, 0, O_TOP},         {"seed", required_argument, 0, O_SEED},
    {"classes", required_argument, 0, O_CLASSES}, {"concept", required_argument, 0, O_CONCEPT},
    {"out", required_argument, 0, O_OUT},         {"eps", required_argument, 0, O_EPS},
    {"tau1", required_argument, 0, O_TAU1},       {"tau2", required_argument, 0, O_TAU2},
    {"max-iter", required_argument, 0, O_ITER},   {"tol", required_argument, 0, O_TOL},
    {"solver", required_argument, 0, O_SOLVER},   {"threads", required_argument, 0, O_THREADS},
    {"help", no_argument, 0, O_HELP},             {0, 0, 0, 0},
};

/* What the command line asks for. */
typedef struct select_args {
    const char *source_means, *source_counts, *target_means, *target_counts, *classes_path, *concept, *out;
    long top, threads;
    uf_sel_params sel;
} select_args;

/* The inputs, read and checked against each other. */
typedef struct select_inputs {
    double *source_means;  /* (n_source, dim) */
    double *target_means;  /* (n_target, dim) */
    double *target_counts; /* (n_target) images per target class */
    int n_source, n_target, dim;
    uf_classes classes;
    unsigned char *concept_mask; /* (n_source) 1 for the --concept's classes; NULL without --classes */
    int concept_total;           /* the concept's classes */
} select_inputs;

/* 0: parsed; otherwise the exit status (--help printed: -1, reported as 0 by the caller). */
static int parse_args(int argc, char **argv, select_args *a)
{
    const char *cmd = "select";
    long iters;
    int have_method = 0, c;
    *a = (select_args){.top = 100};
    uf_sel_defaults(&a->sel);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_SM: a->source_means = optarg; break;
        case O_SC: a->source_counts = optarg; break;
        case O_TM: a->target_means = optarg; break;
        case O_TC: a->target_counts = optarg; break;
        case O_CLASSES: a->classes_path = optarg; break;
        case O_CONCEPT: a->concept = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_METHOD:
            if (uf_sel_method_parse(optarg, &a->sel.method))
                return cli_usage_error(cmd, "unknown method '%s' (uot-cos uot-l2 got-cos got-l2 random label)",
                                       optarg);
            have_method = 1;
            break;
        case O_SOLVER:
            if (uf_uot_solver_parse(optarg, &a->sel.uot.solver))
                return cli_usage_error(cmd, "unknown solver '%s' (auto log plain)", optarg);
            break;
        case O_EPSC: if (cli_double(cmd, "--eps-c", optarg, &a->sel.eps_c)) return 2; break;
        case O_EPS: if (cli_double(cmd, "--eps", optarg, &a->sel.uot.eps)) return 2; break;
        case O_TAU1: if (cli_double(cmd, "--tau1", optarg, &a->sel.uot.tau1)) return 2; break;
        case O_TAU2: if (cli_double(cmd, "--tau2", optarg, &a->sel.uot.tau2)) return 2; break;
        case O_TOL: if (cli_double(cmd, "--tol", optarg, &a->sel.uot.tol)) return 2; break;
        case O_TOP: if (cli_int(cmd, "--top", optarg, 1, 1L << 30, &a->top)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &a->threads)) return 2; break;
        case O_SEED: {
            long seed;
            if (cli_int(cmd, "--seed", optarg, 0, 0x7fffffffL, &seed))
                return 2;
            a->sel.seed = (uint64_t)seed;
            break;
        }
        case O_ITER:
            if (cli_int(cmd, "--max-iter", optarg, 1, 100000000, &iters))
                return 2;
            a->sel.uot.max_iter = (int)iters;
            break;
        case O_HELP: fputs(help, stdout); return -1;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->source_means || !a->source_counts || !a->target_means || !a->target_counts || !a->out || !have_method)
        return cli_usage_error(cmd, "--source-means, --source-counts, --target-means, --target-counts, "
                                    "--method and --out are required");
    if ((a->classes_path == NULL) != (a->concept == NULL))
        return cli_usage_error(cmd, "--classes and --concept go together");
    if (a->sel.method == UF_SEL_LABEL && !a->concept)
        return cli_usage_error(cmd, "--method label needs --classes and --concept");
    return 0;
}

/* The class table of --classes and the --concept's mask over the source classes. */
static int read_concept(const select_args *a, select_inputs *in, uf_err *e)
{
    if (uf_classes_read(a->classes_path, &in->classes, e))
        return -1;
    if (in->classes.n != in->n_source)
        return uf_fail(e, "%s lists %d classes but %s has %d", a->classes_path, in->classes.n, a->source_means,
                       in->n_source);
    if (!(in->concept_mask = uf_alloc((size_t)in->n_source, e)))
        return -1;
    in->concept_total = uf_classes_mask(&in->classes, a->concept, in->concept_mask);
    if (in->concept_total == 0)
        return uf_fail(e, "%s: no class has the concept '%s'", a->classes_path, a->concept);
    return 0;
}

static int read_inputs(const select_args *a, select_inputs *in, uf_err *e)
{
    double *source_counts = NULL; /* read to check its length: the selection weighs target classes only */
    int n_source_counts, n_target_counts, target_dim;
    int rc = uf_npy_read_matrix(a->source_means, &in->source_means, &in->n_source, &in->dim, e) ||
             uf_npy_read_vector(a->source_counts, &source_counts, &n_source_counts, e) ||
             uf_npy_read_matrix(a->target_means, &in->target_means, &in->n_target, &target_dim, e) ||
             uf_npy_read_vector(a->target_counts, &in->target_counts, &n_target_counts, e);
    free(source_counts);
    if (rc)
        return -1;
    if (in->dim != target_dim)
        return uf_fail(e, "feature dimensions differ: %s has %d, %s has %d", a->source_means, in->dim,
                       a->target_means, target_dim);
    if (n_source_counts != in->n_source || n_target_counts != in->n_target)
        return uf_fail(e, "%s has %d entries for %d source classes, %s has %d for %d target classes",
                       a->source_counts, n_source_counts, in->n_source, a->target_counts, n_target_counts,
                       in->n_target);
    if (a->top > in->n_source)
        return uf_fail(e, "--top %ld is larger than the number of source classes (%d in %s)", a->top,
                       in->n_source, a->source_means);
    return a->classes_path ? read_concept(a, in, e) : 0;
}

static void free_inputs(select_inputs *in)
{
    free(in->source_means);
    free(in->target_means);
    free(in->target_counts);
    free(in->concept_mask);
    uf_classes_free(&in->classes);
}

/* The top k as a TSV: rank, source index, score. */
static int write_ranking(const char *path, const uf_selection *sel, int k, uf_err *e)
{
    uf_out o;
    if (uf_out_open(&o, path, e))
        return -1;
    fprintf(o.f, "rank\tindex\tscore\n");
    for (int r = 0; r < k; r++)
        fprintf(o.f, "%d\t%d\t%.17g\n", r + 1, sel->order[r], sel->score[sel->order[r]]);
    return uf_out_commit(&o, e);
}

/* The key<TAB>value facts on stdout; a warning on stderr when UOT did not converge. */
static void print_facts(const select_args *a, const select_inputs *in, const uf_selection *sel, int k)
{
    const uf_sel_params *p = &a->sel;
    printf("method\t%s\n", uf_sel_method_name(p->method));
    printf("selected\t%d\n", k);
    if (p->method == UF_SEL_UOT_COS || p->method == UF_SEL_UOT_L2) {
        printf("eps_c\t%g\n", uf_sel_eps_c(p));
        printf("solver\t%s\n", uf_uot_solver_name(sel->uot.solver));
        printf("iterations\t%d\n", sel->uot.iterations);
        printf("converged\t%s\n", sel->uot.converged ? "yes" : "no");
        if (!sel->uot.converged)
            fprintf(stderr, "uotft select: warning: UOT stopped after %d iterations without converging "
                            "(criterion %.3g > tol %.3g)%s\n",
                    sel->uot.iterations, sel->uot.err, p->uot.tol,
                    sel->uot.numerical_error ? "; the plain form hit 0/inf (use --solver log)" : "");
    }
    if (in->concept_mask) {
        int hits = 0;
        for (int r = 0; r < k; r++)
            hits += in->concept_mask[sel->order[r]];
        printf("recall\t%d/%d\t%.2f\n", hits, in->concept_total, 100.0 * hits / in->concept_total);
    }
}

int cmd_select(int argc, char **argv)
{
    select_args a;
    int status = parse_args(argc, argv, &a);
    if (status)
        return status < 0 ? 0 : status;
    cli_set_threads(a.threads);
    uf_err e;
    select_inputs in = {0};
    uf_selection sel = {0};
    int rc = read_inputs(&a, &in, &e);
    a.sel.label_mask = in.concept_mask;
    int k = (int)a.top;
    if (a.sel.method == UF_SEL_LABEL && in.concept_total < k)
        k = in.concept_total; /* label-based selection takes exactly the concept's classes */
    rc = rc || uf_select(in.source_means, in.n_source, in.target_means, in.n_target, in.dim, in.target_counts,
                         &a.sel, &sel, &e) ||
         write_ranking(a.out, &sel, k, &e);
    if (rc)
        cli_error("select", &e);
    else
        print_facts(&a, &in, &sel, k);
    free_inputs(&in);
    uf_selection_free(&sel);
    return rc ? 1 : 0;
}
