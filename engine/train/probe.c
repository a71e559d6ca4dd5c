#include "probe.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "io/npy.h"

#define HISTORY 10 /* L-BFGS correction pairs */
#define BLOCK 2048 /* rows per GEMM block: the scores stay a few MB */

void uf_probe_defaults(uf_probe_params *p) { *p = (uf_probe_params){.C = 1.0, .max_iter = 100, .tol = 1e-5}; }

void uf_standardise(float *Xtr, int n, float *Xte, int m, int d)
{
    for (int j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++)
            s += Xtr[(size_t)i * d + j];
        double mean = s / n;
        for (int i = 0; i < n; i++) {
            double v = Xtr[(size_t)i * d + j] - mean;
            ss += v * v;
        }
        double sd = sqrt(ss / n), inv = sd > 0 ? 1 / sd : 1;
        for (int i = 0; i < n; i++)
            Xtr[(size_t)i * d + j] = (float)((Xtr[(size_t)i * d + j] - mean) * inv);
        for (int i = 0; i < m; i++)
            Xte[(size_t)i * d + j] = (float)((Xte[(size_t)i * d + j] - mean) * inv);
    }
}

typedef struct problem {
    const double *X; /* (n, D): the features and a column of ones, D = d + 1 */
    const int *y;
    int n, D, k;
    double C;
    double *Z, *rowloss; /* (BLOCK, k) scores, (n) per-row losses */
} problem;

/* f and its gradient G (k, D) at W (k, D). */
static double objective(const problem *p, const double *W, double *G)
{
    const int D = p->D, k = p->k;
    double f = 0;
    for (int c = 0; c < k; c++)
        for (int j = 0; j < D; j++) {
            double w = W[(size_t)c * D + j];
            f += j < D - 1 ? w * w / (2 * p->C) : 0;
            G[(size_t)c * D + j] = j < D - 1 ? w / p->C : 0;
        }
    for (int r0 = 0; r0 < p->n; r0 += BLOCK) {
        const int nb = p->n - r0 < BLOCK ? p->n - r0 : BLOCK;
        const double *Xb = p->X + (size_t)r0 * D;
        // Xb: (nb, D), W: (k, D) -> Z: (nb, k) scores, then Z <- softmax - onehot
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, D, 1, Xb, D, W, D, 0, p->Z, k);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < nb; i++) {
            double *z = p->Z + (size_t)i * k, mx = z[0], s = 0;
            for (int c = 1; c < k; c++)
                mx = z[c] > mx ? z[c] : mx;
            for (int c = 0; c < k; c++)
                s += exp(z[c] - mx);
            const int yi = p->y[r0 + i];
            p->rowloss[r0 + i] = log(s) + mx - z[yi];
            for (int c = 0; c < k; c++)
                z[c] = exp(z[c] - mx) / s;
            z[yi] -= 1;
        }
        // G += Z^T Xb: (k, D)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, D, nb, 1, p->Z, k, Xb, D, 1, G, D);
    }
    for (int i = 0; i < p->n; i++) /* in row order: the same sum on any thread count */
        f += p->rowloss[i];
    return f;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* L-BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search. */
static int lbfgs(const problem *p, double *W, const uf_probe_params *prm, uf_probe_info *info, uf_err *e)
{
    const size_t N = (size_t)p->k * p->D;
    double *G = uf_calloc(N, sizeof(double), e), *Gn = uf_calloc(N, sizeof(double), e);
    double *Wn = uf_calloc(N, sizeof(double), e), *dir = uf_calloc(N, sizeof(double), e);
    double *S = uf_calloc(N * HISTORY, sizeof(double), e), *Y = uf_calloc(N * HISTORY, sizeof(double), e);
    double rho[HISTORY], alpha[HISTORY];
    if (!G || !Gn || !Wn || !dir || !S || !Y) {
        free(G), free(Gn), free(Wn), free(dir), free(S), free(Y);
        return -1;
    }
    memset(info, 0, sizeof *info);
    double f = objective(p, W, G), g0 = max_abs(G, N);
    info->evaluations = 1;
    int have = 0, next = 0;
    for (int it = 0; it < prm->max_iter; it++) {
        if (max_abs(G, N) <= prm->tol * g0) {
            info->converged = 1;
            break;
        }
        /* two-loop recursion: dir = -H G */
        for (size_t i = 0; i < N; i++)
            dir[i] = -G[i];
        for (int h = 0; h < have; h++) {
            int j = (next - 1 - h + HISTORY) % HISTORY;
            alpha[j] = rho[j] * dot(S + (size_t)j * N, dir, N);
            for (size_t i = 0; i < N; i++)
                dir[i] -= alpha[j] * Y[(size_t)j * N + i];
        }
        if (have) {
            int j = (next - 1 + HISTORY) % HISTORY;
            double gamma = dot(S + (size_t)j * N, Y + (size_t)j * N, N) / dot(Y + (size_t)j * N, Y + (size_t)j * N, N);
            for (size_t i = 0; i < N; i++)
                dir[i] *= gamma;
        }
        for (int h = have - 1; h >= 0; h--) {
            int j = (next - 1 - h + HISTORY) % HISTORY;
            double beta = rho[j] * dot(Y + (size_t)j * N, dir, N);
            for (size_t i = 0; i < N; i++)
                dir[i] += (alpha[j] - beta) * S[(size_t)j * N + i];
        }
        double slope = dot(G, dir, N), step = have ? 1 : 1 / sqrt(dot(G, G, N)), fn = f;
        if (!(slope < 0))
            break;
        int ok = 0;
        for (int tries = 0; tries < 40 && !ok; tries++, step /= 2) {
            for (size_t i = 0; i < N; i++)
                Wn[i] = W[i] + step * dir[i];
            fn = objective(p, Wn, Gn);
            info->evaluations++;
            ok = fn <= f + 1e-4 * step * slope;
        }
        if (!ok)
            break;
        /* the new pair, kept when the curvature is positive */
        double *s = S + (size_t)next * N, *yv = Y + (size_t)next * N;
        for (size_t i = 0; i < N; i++) {
            s[i] = Wn[i] - W[i];
            yv[i] = Gn[i] - G[i];
        }
        double sy = dot(s, yv, N);
        if (sy > 1e-12 * dot(yv, yv, N)) {
            rho[next] = 1 / sy;
            next = (next + 1) % HISTORY;
            have = have < HISTORY ? have + 1 : HISTORY;
        }
        memcpy(W, Wn, sizeof(double) * N);
        memcpy(G, Gn, sizeof(double) * N);
        int flat = f - fn <= 1e-12 * fabs(f);
        f = fn;
        info->iterations = it + 1;
        if (flat) {
            info->converged = 1;
            break;
        }
    }
    info->objective = f;
    free(G), free(Gn), free(Wn), free(dir), free(S), free(Y);
    return 0;
}

int uf_probe_fit(const float *X, const int *y, int n, int d, int k, const uf_probe_params *prm, double *W,
                 uf_probe_info *info, uf_err *e)
{
    if (n < 1 || d < 1 || k < 2 || !(prm->C > 0))
        return uf_fail(e, "probe: needs rows, features, at least 2 classes and C > 0");
    for (int i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= k)
            return uf_fail(e, "probe: label %d of row %d outside [0, %d)", y[i], i, k);
    problem p = {.y = y, .n = n, .D = d + 1, .k = k, .C = prm->C};
    double *Xd = uf_calloc((size_t)n * p.D, sizeof(double), e);
    p.Z = uf_calloc((size_t)BLOCK * k, sizeof(double), e);
    p.rowloss = uf_calloc((size_t)n, sizeof(double), e);
    int rc = 0;
    if (!Xd || !p.Z || !p.rowloss) {
        rc = -1;
    } else {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++)
                Xd[(size_t)i * p.D + j] = X[(size_t)i * d + j];
            Xd[(size_t)i * p.D + d] = 1;
        }
        p.X = Xd;
        memset(W, 0, sizeof(double) * (size_t)k * p.D);
        rc = lbfgs(&p, W, prm, info, e);
    }
    free(Xd);
    free(p.Z);
    free(p.rowloss);
    return rc;
}

double uf_probe_accuracy(const float *X, const int *y, int n, int d, int k, const double *W)
{
    long right = 0;
#pragma omp parallel for schedule(static) reduction(+ : right)
    for (int i = 0; i < n; i++) {
        int best = 0;
        double top = -INFINITY;
        for (int c = 0; c < k; c++) {
            const double *w = W + (size_t)c * (d + 1);
            double s = w[d];
            for (int j = 0; j < d; j++)
                s += w[j] * X[(size_t)i * d + j];
            if (s > top) {
                top = s;
                best = c;
            }
        }
        right += best == y[i];
    }
    return (double)right / n;
}

/* dir/<set>-<split>.features.npy (rows, d) and .labels.npy (rows) */
static int read_split(const char *dir, const char *set, const char *split, float **X, int **y, int *n, int *d,
                      uf_err *e)
{
    char fp[4200], lp[4200], s[64];
    uf_array f, l;
    snprintf(fp, sizeof fp, "%s/%s-%s.features.npy", dir, set, split);
    snprintf(lp, sizeof lp, "%s/%s-%s.labels.npy", dir, set, split);
    if (uf_npy_read(fp, &f, e))
        return -1;
    if (uf_npy_read(lp, &l, e)) {
        uf_array_free(&f);
        return -1;
    }
    int rc = 0;
    if (f.ndim != 2 || f.shape[0] < 1 || f.shape[1] < 1 || f.shape[0] > 1 << 30 || f.shape[1] > 1 << 20) {
        uf_shape_str(&f, s, sizeof s);
        rc = uf_fail(e, "%s: expected features (images, d), found shape %s", fp, s);
    } else if (l.ndim != 1 || l.shape[0] != f.shape[0] || l.dtype == UF_F32 || l.dtype == UF_F64) {
        uf_shape_str(&l, s, sizeof s);
        rc = uf_fail(e, "%s: expected %lld integer labels, found %s %s", lp, (long long)f.shape[0],
                     uf_dtype_descr(l.dtype), s);
    }
    *n = rc ? 0 : (int)f.shape[0];
    *d = rc ? 0 : (int)f.shape[1];
    *X = rc ? NULL : uf_calloc((size_t)*n * *d, sizeof(float), e);
    *y = rc ? NULL : uf_calloc((size_t)*n, sizeof(int), e);
    if (!rc && (!*X || !*y))
        rc = -1;
    for (size_t i = 0; !rc && i < (size_t)*n * *d; i++) {
        (*X)[i] = (float)uf_array_get(&f, i);
        if (!isfinite((*X)[i]))
            rc = uf_fail(e, "%s: a value that is not finite (row %zu)", fp, i / (size_t)*d);
    }
    for (int i = 0; !rc && i < *n; i++) {
        double v = uf_array_get(&l, (size_t)i);
        if (v < 0 || v > 1 << 20)
            rc = uf_fail(e, "%s: label %g of row %d is out of range", lp, v, i);
        (*y)[i] = (int)v;
    }
    uf_array_free(&f);
    uf_array_free(&l);
    return rc;
}

int uf_probe_files(const char *dir, const char *set, const uf_probe_params *p, uf_probe_result *r, uf_err *e)
{
    float *Xtr = NULL, *Xte = NULL;
    int *ytr = NULL, *yte = NULL, dte = 0;
    double *W = NULL;
    memset(r, 0, sizeof *r);
    int rc = read_split(dir, set, "train", &Xtr, &ytr, &r->n_train, &r->d, e) ||
             read_split(dir, set, "test", &Xte, &yte, &r->n_test, &dte, e);
    if (!rc && dte != r->d)
        rc = uf_fail(e, "%s: %s's train features have %d dimensions, its test features %d", dir, set, r->d, dte);
    for (int i = 0; !rc && i < r->n_train; i++)
        r->k = ytr[i] + 1 > r->k ? ytr[i] + 1 : r->k;
    for (int i = 0; !rc && i < r->n_test; i++)
        if (yte[i] >= r->k)
            rc = uf_fail(e, "%s: test label %d of %s is not among the %d training classes", dir, yte[i], set, r->k);
    if (!rc && !(W = uf_calloc((size_t)r->k * (r->d + 1), sizeof(double), e)))
        rc = -1;
    if (!rc) {
        uf_standardise(Xtr, r->n_train, Xte, r->n_test, r->d);
        rc = uf_probe_fit(Xtr, ytr, r->n_train, r->d, r->k, p, W, &r->info, e);
    }
    if (!rc) {
        r->train_acc = uf_probe_accuracy(Xtr, ytr, r->n_train, r->d, r->k, W);
        r->test_acc = uf_probe_accuracy(Xte, yte, r->n_test, r->d, r->k, W);
    }
    free(Xtr), free(Xte), free(ytr), free(yte), free(W);
    return rc ? -1 : 0;
}
