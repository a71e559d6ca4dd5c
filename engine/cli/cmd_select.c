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

int cmd_select(int argc, char **argv)
{
    const char *cmd = "select";
    const char *sm = NULL, *sc = NULL, *tm = NULL, *tc = NULL, *classes_path = NULL, *concept = NULL,
               *out = NULL;
    long top = 100, seed = 0, threads = 0, iters;
    int have_method = 0;
    uf_sel_params p;
    uf_sel_defaults(&p);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_SM: sm = optarg; break;
        case O_SC: sc = optarg; break;
        case O_TM: tm = optarg; break;
        case O_TC: tc = optarg; break;
        case O_CLASSES: classes_path = optarg; break;
        case O_CONCEPT: concept = optarg; break;
        case O_OUT: out = optarg; break;
        case O_METHOD:
            if (uf_sel_method_parse(optarg, &p.method))
                return cli_usage_error(cmd, "unknown method '%s' (uot-cos uot-l2 got-cos got-l2 random label)",
                                       optarg);
            have_method = 1;
            break;
        case O_SOLVER:
            if (uf_uot_solver_parse(optarg, &p.uot.solver))
                return cli_usage_error(cmd, "unknown solver '%s' (auto log plain)", optarg);
            break;
        case O_EPSC: if (cli_double(cmd, "--eps-c", optarg, &p.eps_c)) return 2; break;
        case O_EPS: if (cli_double(cmd, "--eps", optarg, &p.uot.eps)) return 2; break;
        case O_TAU1: if (cli_double(cmd, "--tau1", optarg, &p.uot.tau1)) return 2; break;
        case O_TAU2: if (cli_double(cmd, "--tau2", optarg, &p.uot.tau2)) return 2; break;
        case O_TOL: if (cli_double(cmd, "--tol", optarg, &p.uot.tol)) return 2; break;
        case O_TOP: if (cli_int(cmd, "--top", optarg, 1, 1L << 30, &top)) return 2; break;
        case O_SEED: if (cli_int(cmd, "--seed", optarg, 0, 0x7fffffffL, &seed)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_ITER:
            if (cli_int(cmd, "--max-iter", optarg, 1, 100000000, &iters))
                return 2;
            p.uot.max_iter = (int)iters;
            break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!sm || !sc || !tm || !tc || !out || !have_method)
        return cli_usage_error(cmd, "--source-means, --source-counts, --target-means, --target-counts, "
                                    "--method and --out are required");
    if ((classes_path == NULL) != (concept == NULL))
        return cli_usage_error(cmd, "--classes and --concept go together");
    if (p.method == UF_SEL_LABEL && !concept)
        return cli_usage_error(cmd, "--method label needs --classes and --concept");
    cli_set_threads(threads);
    p.seed = (uint64_t)seed;

    uf_err e;
    double *S = NULL, *Sc = NULL, *T = NULL, *Tc = NULL;
    int ns, d, nsc, nt, dt, ntc, rc = 1;
    unsigned char *mask = NULL;
    uf_classes cls = {0};
    uf_selection sel = {0};
    if (uf_npy_read_matrix(sm, &S, &ns, &d, &e) || uf_npy_read_vector(sc, &Sc, &nsc, &e) ||
        uf_npy_read_matrix(tm, &T, &nt, &dt, &e) || uf_npy_read_vector(tc, &Tc, &ntc, &e)) {
        cli_error(cmd, &e);
        goto out;
    }
    if (d != dt) {
        uf_fail(&e, "feature dimensions differ: %s has %d, %s has %d", sm, d, tm, dt);
        cli_error(cmd, &e);
        goto out;
    }
    if (nsc != ns || ntc != nt) {
        uf_fail(&e, "%s has %d entries for %d source classes, %s has %d for %d target classes", sc, nsc,
                ns, tc, ntc, nt);
        cli_error(cmd, &e);
        goto out;
    }
    if (top > ns) {
        uf_fail(&e, "--top %ld is larger than the number of source classes (%d in %s)", top, ns, sm);
        cli_error(cmd, &e);
        goto out;
    }
    int concept_total = 0;
    if (classes_path) {
        if (uf_classes_read(classes_path, &cls, &e)) {
            cli_error(cmd, &e);
            goto out;
        }
        if (cls.n != ns) {
            uf_fail(&e, "%s lists %d classes but %s has %d", classes_path, cls.n, sm, ns);
            cli_error(cmd, &e);
            goto out;
        }
        if (!(mask = uf_alloc((size_t)ns, &e))) {
            cli_error(cmd, &e);
            goto out;
        }
        concept_total = uf_classes_mask(&cls, concept, mask);
        if (concept_total == 0) {
            uf_fail(&e, "%s: no class has the concept '%s'", classes_path, concept);
            cli_error(cmd, &e);
            goto out;
        }
        p.label_mask = mask;
    }
    if (uf_select(S, ns, T, nt, d, Tc, &p, &sel, &e)) {
        cli_error(cmd, &e);
        goto out;
    }
    int k = (int)top;
    if (p.method == UF_SEL_LABEL && concept_total < k)
        k = concept_total; /* label-based selection takes exactly the concept's classes */
    uf_out o;
    if (uf_out_open(&o, out, &e)) {
        cli_error(cmd, &e);
        goto out;
    }
    fprintf(o.f, "rank\tindex\tscore\n");
    for (int r = 0; r < k; r++)
        fprintf(o.f, "%d\t%d\t%.17g\n", r + 1, sel.order[r], sel.score[sel.order[r]]);
    if (uf_out_commit(&o, &e)) {
        cli_error(cmd, &e);
        goto out;
    }
    printf("method\t%s\n", uf_sel_method_name(p.method));
    printf("selected\t%d\n", k);
    if (p.method == UF_SEL_UOT_COS || p.method == UF_SEL_UOT_L2) {
        printf("eps_c\t%g\n", uf_sel_eps_c(&p));
        printf("solver\t%s\n", uf_uot_solver_name(sel.uot.solver));
        printf("iterations\t%d\n", sel.uot.iterations);
        printf("converged\t%s\n", sel.uot.converged ? "yes" : "no");
        if (!sel.uot.converged)
            fprintf(stderr, "uotft select: warning: UOT stopped after %d iterations without converging "
                            "(criterion %.3g > tol %.3g)%s\n",
                    sel.uot.iterations, sel.uot.err, p.uot.tol,
                    sel.uot.numerical_error ? "; the plain form hit 0/inf (use --solver log)" : "");
    }
    if (mask) {
        int hits = 0;
        for (int r = 0; r < k; r++)
            hits += mask[sel.order[r]];
        printf("recall\t%d/%d\t%.2f\n", hits, concept_total, 100.0 * hits / concept_total);
    }
    rc = 0;
out:
    free(S);
    free(Sc);
    free(T);
    free(Tc);
    free(mask);
    uf_classes_free(&cls);
    uf_selection_free(&sel);
    return rc;
}
