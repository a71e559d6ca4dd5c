/* Unbalanced optimal transport by generalised Sinkhorn (Chizat et al. 2016),
 * in double precision:
 *
 *   min_P <P,M> + eps sum P(log P - 1) + tau1 KL(P1 | a) + tau2 KL(P^T 1 | b)
 *
 * u = (a / K v)^(tau1/(tau1+eps)),  v = (b / K^T u)^(tau2/(tau2+eps)),
 * K = exp(-M/eps), P = diag(u) K diag(v), starting from u = 1/ns, v = 1/nt,
 * stopping as POT does: when the mean of the relative max-changes of u and v
 * falls below tol. tau = INFINITY makes that side a hard constraint.
 *
 * Two forms compute the same iterates: the plain scaling form (fast, and what
 * POT does) and the log domain form (log-sum-exp updates), which stays exact
 * when K underflows, e.g. cosine cost at eps_c = 0.001. UF_UOT_AUTO runs the
 * plain form when every entry of K is a normal number and the scalings stay
 * finite, and the log form otherwise. */
#ifndef UF_UOT_H
#define UF_UOT_H

#include "../core/err.h"

typedef enum uf_uot_solver { UF_UOT_AUTO, UF_UOT_LOG, UF_UOT_PLAIN } uf_uot_solver;

typedef struct uf_uot_params {
    double eps;  /* entropic regularisation, > 0 */
    double tau1; /* source-side marginal relaxation, > 0 (INFINITY: balanced) */
    double tau2; /* target side */
    int max_iter;
    double tol;
    uf_uot_solver solver;
} uf_uot_params;

typedef struct uf_uot_info {
    int iterations;
    int converged;        /* the stopping criterion was met within max_iter */
    int numerical_error;  /* plain form only: stopped on 0/inf/NaN, as POT does */
    double err;           /* last value of the stopping criterion */
    uf_uot_solver solver; /* the form that produced the result */
} uf_uot_info;

/* The paper's setting: eps 1, tau1 1, tau2 100, 1000 iterations, tol 1e-6, auto. */
void uf_uot_defaults(uf_uot_params *p);
const char *uf_uot_solver_name(uf_uot_solver s);
int uf_uot_solver_parse(const char *name, uf_uot_solver *s);

/* M: (ns, nt) cost, row-major; a: (ns) and b: (nt) positive masses.
 * Outputs, each optional (NULL): row_mass (ns) = P 1, its logarithm
 * log_row_mass (exact where P 1 underflows; rank by it), plan (ns, nt) = P.
 * Results do not depend on the number of threads. */
int uf_uot_solve(const double *M, int ns, int nt, const double *a, const double *b,
                 const uf_uot_params *p, double *row_mass, double *log_row_mass, double *plan,
                 uf_uot_info *info, uf_err *e);

#endif
