#include "cost.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

static int normalise_rows(const double *X, int n, int d, double *Y, const char *what, uf_err *e)
{
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * d;
        double s = 0;
        for (int k = 0; k < d; k++)
            s += x[k] * x[k];
        if (!(s > 0))
            return uf_fail(e, "cosine distance: %s row %d has zero norm", what, i);
        double inv = 1.0 / sqrt(s);
        for (int k = 0; k < d; k++)
            Y[(size_t)i * d + k] = x[k] * inv;
    }
    return 0;
}

int uf_ground_distance(const double *S, int ns, const double *T, int nt, int d, uf_dist kind,
                       double *D, uf_err *e)
{
    if (kind == UF_DIST_L2) {
        /* Direct differences, not |s|^2 + |t|^2 - 2 s.t: the expansion cancels
         * badly for nearby means and would perturb the UOT ranking. */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < ns; i++)
            for (int j = 0; j < nt; j++) {
                const double *s = S + (size_t)i * d, *t = T + (size_t)j * d;
                double acc = 0;
                for (int k = 0; k < d; k++) {
                    double diff = s[k] - t[k];
                    acc += diff * diff;
                }
                D[(size_t)i * nt + j] = sqrt(acc);
            }
        return 0;
    }
    double *Sn = uf_calloc((size_t)ns * d, sizeof(double), e), *Tn = uf_calloc((size_t)nt * d, sizeof(double), e);
    int rc = -1;
    if (!Sn || !Tn || normalise_rows(S, ns, d, Sn, "source", e) || normalise_rows(T, nt, d, Tn, "target", e))
        goto out;
    /* D = Sn Tn^T, then 1 - D */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ns, nt, d, 1.0, Sn, d, Tn, d, 0.0, D, nt);
    for (size_t k = 0; k < (size_t)ns * nt; k++)
        D[k] = 1.0 - D[k];
    rc = 0;
out:
    free(Sn);
    free(Tn);
    return rc;
}
