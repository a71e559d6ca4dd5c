#include "uot.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/parallel.h"
#include "../core/vmath.h"

/* Column blocks for the K^T u pass: each block sweeps all rows in order, so
 * sums are the same whatever the thread count. */
#define COL_BLOCK 64
/* Below this many entries one thread is faster than waking the others. */
#define PARALLEL_MIN 20000

void uf_uot_defaults(uf_uot_params *p)
{
    p->eps = 1.0;
    p->tau1 = 1.0;
    p->tau2 = 100.0;
    p->max_iter = 1000;
    p->tol = 1e-6;
    p->solver = UF_UOT_AUTO;
}

static const char *const solver_names[] = {"auto", "log", "plain"};

const char *uf_uot_solver_name(uf_uot_solver s) { return solver_names[s]; }

int uf_uot_solver_parse(const char *name, uf_uot_solver *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, solver_names[i]) == 0) {
            *s = (uf_uot_solver)i;
            return 0;
        }
    return -1;
}

/* The exponent tau/(tau+eps) of a scaling update; 1 for a hard constraint. */
static double exponent(double tau, double eps) { return isinf(tau) ? 1.0 : tau / (tau + eps); }

/* Dot product with a fixed summation order (16 partial sums), so the result
 * does not depend on how the compiler vectorises. */
static double dot(const double *restrict x, const double *restrict y, int n)
{
    double acc[16] = {0};
    int j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += x[j + k] * y[j + k];
    for (int k = 0; k < 8; k++)
        acc[k] += acc[k + 8];
    double s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < n; j++)
        s += x[j] * y[j];
    return s;
}

/* POT's criterion for one scaling vector: max|x - xp| / max(max|x|, max|xp|, 1). */
static double rel_change(const double *x, const double *xp, int n)
{
    double d = 0, mx = 1.0;
    for (int i = 0; i < n; i++) {
        double t = fabs(x[i] - xp[i]);
        d = t > d ? t : d;
        mx = fabs(x[i]) > mx ? fabs(x[i]) : mx;
        mx = fabs(xp[i]) > mx ? fabs(xp[i]) : mx;
    }
    return d / mx;
}

/* The same criterion from log-scalings, without overflow: with
 * s = max(0, max(x, xp)) it equals max|e^(x-s) - e^(xp-s)|. */
static double rel_change_log(const double *x, const double *xp, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        s = x[i] > s ? x[i] : s;
        s = xp[i] > s ? xp[i] : s;
    }
    double d = 0;
    for (int i = 0; i < n; i++) {
        double t = fabs(exp(x[i] - s) - exp(xp[i] - s));
        d = t > d ? t : d;
    }
    return d;
}

static int is_pos_normal(double x) { return isnormal(x) && x > 0; }

/* ---- plain scaling form ------------------------------------------------ */

/* Rows per partial sum of K^T u. Fixed, not per thread, so the sums come out
 * the same whatever the thread count. */
#define ROW_BLOCK 128
/* Rows whose scalings are raised to the power together (one vector). */
#define SUB 8

enum { PLAIN_OK, PLAIN_UNDERFLOW, PLAIN_BROKE };

/* GCC vector extensions keep the 8 accumulators of dot8 in registers (plain
 * arrays were spilled to the stack); they lower to whatever SIMD width the
 * target has. */
typedef double v8d __attribute__((vector_size(64), aligned(8)));
/* Without AVX-512 GCC notes that passing v8d by value has another ABI; these
 * helpers are static and inlined, so no call crosses an ABI boundary. */
#pragma GCC diagnostic ignored "-Wpsabi"

static inline v8d load8(const double *p)
{
    v8d x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* out[q] = K_q . v for the 8 rows starting at K: the rows share each load of
 * v and give 8 independent accumulators. Fixed summation order. */
static void dot8(const double *restrict K, int nt, const double *restrict v, double *restrict out)
{
    v8d acc[SUB] = {{0}};
    int j = 0;
    for (; j + 8 <= nt; j += 8) {
        v8d vj = load8(v + j);
        for (int q = 0; q < SUB; q++)
            acc[q] += load8(K + (size_t)q * nt + j) * vj;
    }
    for (int q = 0; q < SUB; q++) {
        v8d x = acc[q];
        double t = ((x[0] + x[4]) + (x[1] + x[5])) + ((x[2] + x[6]) + (x[3] + x[7]));
        for (int jj = j; jj < nt; jj++)
            t += K[(size_t)q * nt + jj] * v[jj];
        out[q] = t;
    }
}

/* y += sum_q r[q] K_q over the 8 rows starting at K, in row order. */
static void axpy8(const double *restrict K, int nt, const double *restrict r, double *restrict y)
{
    for (int j = 0; j < nt; j++) {
        double t = y[j];
        for (int q = 0; q < SUB; q++)
            t += K[(size_t)q * nt + j] * r[q];
        y[j] = t;
    }
}

/* One pass over K per iteration: for each row, K_i.v gives u_i, and u_i K_i is
 * added at once to its block's partial K^T u while the row is in cache. Rows
 * of K are padded with zeros to ld (a multiple of 8) so that the kernels have
 * no scalar tails. On success u, v hold the last scalings; on PLAIN_BROKE
 * (0, inf or NaN) they hold the previous ones, as POT leaves them.
 * PLAIN_UNDERFLOW: K has entries below DBL_MIN and the caller asked for the
 * log form in that case. */
static int plain_solve(const double *M, int ns, int nt, int ld, const double *a, const double *b,
                       const uf_uot_params *p, double *K, double *u, double *v, uf_uot_info *info, uf_err *e)
{
    double fu = exponent(p->tau1, p->eps), fv = exponent(p->tau2, p->eps), scale = -1.0 / p->eps;
    int nblk = (ns + ROW_BLOCK - 1) / ROW_BLOCK;
    double *part = uf_calloc((size_t)nblk * ld, sizeof(double), e);
    double *blk = uf_calloc(2 * (size_t)nblk, sizeof(double), e); /* per block: max|u' - u|, max(|u'|, |u|) */
    double *u2 = uf_calloc((size_t)ns, sizeof(double), e);
    double *v1 = uf_calloc((size_t)ld, sizeof(double), e), *v2 = uf_calloc((size_t)ld, sizeof(double), e);
    if (!part || !blk || !u2 || !v1 || !v2) {
        free(part);
        free(blk);
        free(u2);
        free(v1);
        free(v2);
        return -1;
    }
    double *uc = u, *un = u2, *vc = v1, *vn = v2; /* current and next scalings, swapped each iteration */
    for (int i = 0; i < ns; i++)
        uc[i] = 1.0 / ns;
    for (int j = 0; j < nt; j++)
        vc[j] = 1.0 / nt;
    int underflow = 0, bad = 0, stop = 0, status = PLAIN_OK;
    info->iterations = 0;
    info->converged = 0;
#pragma omp parallel if ((double)ns * nt >= PARALLEL_MIN)
    {
        // K = exp(-M / eps): (ns, nt) -> (ns, ld), zero padded
#pragma omp for schedule(static) reduction(| : underflow)
        for (int i = 0; i < ns; i++) {
            const double *Mi = M + (size_t)i * nt;
            double *Ki = K + (size_t)i * ld;
            int low = 0; /* two loops and a local flag: each vectorises */
            for (int j = 0; j < nt; j++)
                Ki[j] = uf_exp1(Mi[j] * scale);
            for (int j = 0; j < nt; j++)
                low |= Ki[j] < DBL_MIN;
            for (int j = nt; j < ld; j++)
                Ki[j] = 0;
            underflow |= low;
        }
        if (underflow && p->solver == UF_UOT_AUTO)
            stop = 1, status = PLAIN_UNDERFLOW; /* every thread writes the same values */
        for (int it = 0; it < p->max_iter && !stop; it++) {
            // un = (a / K vc)^fu; part[bk] = K[rows of bk]^T un
#pragma omp for schedule(static) reduction(| : bad)
            for (int bk = 0; bk < nblk; bk++) {
                int i0 = bk * ROW_BLOCK, i1 = i0 + ROW_BLOCK < ns ? i0 + ROW_BLOCK : ns;
                double *pb = part + (size_t)bk * ld, du = 0, mx = 1.0;
                for (int j = 0; j < ld; j++)
                    pb[j] = 0;
                for (int s = i0; s < i1; s += SUB) {
                    int w = i1 - s < SUB ? i1 - s : SUB;
                    const double *Ks = K + (size_t)s * ld;
                    double r[SUB] = {1, 1, 1, 1, 1, 1, 1, 1};
                    if (w == SUB)
                        dot8(Ks, ld, vc, r);
                    else
                        for (int q = 0; q < w; q++)
                            r[q] = dot(Ks + (size_t)q * ld, vc, ld);
                    for (int q = 0; q < w; q++) {
                        r[q] = a[s + q] / r[q];
                        bad |= !is_pos_normal(r[q]); /* then r^fu is positive and finite too */
                    }
                    if (fu != 1.0)
                        for (int q = 0; q < SUB; q++) /* all 8 (padded with 1): one vector op */
                            r[q] = uf_exp1(fu * uf_log1(r[q]));
                    for (int q = 0; q < w; q++) {
                        un[s + q] = r[q];
                        du = fmax(du, fabs(r[q] - uc[s + q]));
                        mx = fmax(mx, fmax(r[q], uc[s + q]));
                    }
                    if (w == SUB)
                        axpy8(Ks, ld, r, pb);
                    else
                        for (int q = 0; q < w; q++)
                            for (int j = 0; j < ld; j++)
                                pb[j] += Ks[(size_t)q * ld + j] * r[q];
                }
                blk[2 * bk] = du;
                blk[2 * bk + 1] = mx;
            }
            // vn = (b / sum_bk part[bk])^fv, then the stopping rule
#pragma omp single
            {
                for (int j = 0; j < nt && !bad; j++) {
                    double ktu = 0;
                    for (int bk = 0; bk < nblk; bk++)
                        ktu += part[(size_t)bk * ld + j];
                    vn[j] = b[j] / ktu;
                    bad |= !is_pos_normal(vn[j]);
                }
                if (bad) {
                    status = PLAIN_BROKE;
                    stop = 1;
                } else {
                    if (fv != 1.0)
                        uf_vpow(vn, fv, vn, (size_t)nt);
                    double du = 0, mx = 1.0;
                    for (int bk = 0; bk < nblk; bk++) {
                        du = fmax(du, blk[2 * bk]);
                        mx = fmax(mx, blk[2 * bk + 1]);
                    }
                    info->iterations = it + 1;
                    info->err = 0.5 * (du / mx + rel_change(vn, vc, nt));
                    double *t = uc;
                    uc = un, un = t, t = vc, vc = vn, vn = t;
                    if (info->err < p->tol)
                        info->converged = stop = 1;
                }
            }
        }
    }
    if (uc != u)
        memcpy(u, uc, sizeof(double) * (size_t)ns);
    memcpy(v, vc, sizeof(double) * (size_t)nt);
    free(part);
    free(blk);
    free(u2);
    free(v1);
    free(v2);
    return status;
}

static void plain_outputs(const double *K, int ns, int nt, int ld, const double *u, const double *v,
                          double *row_mass, double *log_row_mass, double *plan)
{
#pragma omp parallel for schedule(static) if ((double)ns * nt >= PARALLEL_MIN)
    for (int i = 0; i < ns; i++) {
        const double *Ki = K + (size_t)i * ld;
        if (plan)
            for (int j = 0; j < nt; j++)
                plan[(size_t)i * nt + j] = u[i] * Ki[j] * v[j];
        double m = u[i] * dot(Ki, v, nt);
        if (row_mass)
            row_mass[i] = m;
        if (log_row_mass)
            log_row_mass[i] = log(m);
    }
}

/* ---- log domain form --------------------------------------------------- */

/* Sum with a fixed order (16 partial sums). */
static double sum(const double *x, int n)
{
    double acc[16] = {0};
    int j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += x[j + k];
    for (int k = 0; k < 8; k++)
        acc[k] += acc[k + 8];
    double s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < n; j++)
        s += x[j];
    return s;
}

/* lse_i = LSE_j(L_ij + g_j) for rows [0, ns); t: nt scratch. Call inside a
 * parallel region. */
static void log_rows(const double *L, int ns, int nt, const double *g, double *lse, double *t)
{
#pragma omp for schedule(static)
    for (int i = 0; i < ns; i++) {
        const double *Li = L + (size_t)i * nt;
        double m = -INFINITY;
        for (int j = 0; j < nt; j++) {
            t[j] = Li[j] + g[j];
            m = t[j] > m ? t[j] : m;
        }
        for (int j = 0; j < nt; j++)
            t[j] -= m;
        uf_vexp(t, t, (size_t)nt);
        lse[i] = m + log(sum(t, nt));
    }
}

/* lse_j = LSE_i(L_ij + f_i) for columns [0, nt), by column blocks that sweep
 * the rows in order; t: COL_BLOCK scratch. Call inside a parallel region. */
static void log_cols(const double *L, int ns, int nt, const double *f, double *lse, double *t)
{
    int nblocks = (nt + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp for schedule(static)
    for (int bk = 0; bk < nblocks; bk++) {
        int j0 = bk * COL_BLOCK, w = nt - j0 < COL_BLOCK ? nt - j0 : COL_BLOCK;
        double m[COL_BLOCK], s[COL_BLOCK];
        for (int j = 0; j < w; j++) {
            m[j] = -INFINITY;
            s[j] = 0;
        }
        for (int i = 0; i < ns; i++) {
            const double *Li = L + (size_t)i * nt + j0;
            for (int j = 0; j < w; j++) {
                double x = Li[j] + f[i];
                m[j] = x > m[j] ? x : m[j];
            }
        }
        for (int i = 0; i < ns; i++) {
            const double *Li = L + (size_t)i * nt + j0;
            for (int j = 0; j < w; j++)
                t[j] = Li[j] + f[i] - m[j];
            uf_vexp(t, t, (size_t)w);
            for (int j = 0; j < w; j++)
                s[j] += t[j];
        }
        for (int j = 0; j < w; j++)
            lse[j0 + j] = m[j] + log(s[j]);
    }
}

/* f = log u, g = log v; L = -M/eps. */
static int log_iterate(const double *L, int ns, int nt, const double *a, const double *b,
                       const uf_uot_params *p, double *f, double *g, uf_uot_info *info, uf_err *e)
{
    double fu = exponent(p->tau1, p->eps), fv = exponent(p->tau2, p->eps);
    int nth = uf_threads();
    size_t scratch = (size_t)(nt > COL_BLOCK ? nt : COL_BLOCK);
    double *fp = uf_calloc(2 * ((size_t)ns + (size_t)nt), sizeof(double), e); /* and gp, lr, lc */
    double *tmp = fp ? uf_calloc(scratch * (size_t)nth, sizeof(double), e) : NULL;
    if (!tmp) {
        free(fp);
        return -1;
    }
    double *gp = fp + ns, *lr = gp + nt, *lc = lr + ns;
    for (int i = 0; i < ns; i++)
        f[i] = log(1.0 / ns);
    for (int j = 0; j < nt; j++)
        g[j] = log(1.0 / nt);
    info->iterations = 0;
    info->converged = 0;
    int stop = 0;
#pragma omp parallel num_threads(nth) if ((double)ns * nt >= PARALLEL_MIN)
    {
        double *t = tmp + scratch * (size_t)uf_thread_id();
        for (int it = 0; it < p->max_iter && !stop; it++) {
#pragma omp single
            {
                memcpy(fp, f, sizeof(double) * (size_t)ns);
                memcpy(gp, g, sizeof(double) * (size_t)nt);
            }
            log_rows(L, ns, nt, g, lr, t);
#pragma omp for schedule(static)
            for (int i = 0; i < ns; i++)
                f[i] = fu * (log(a[i]) - lr[i]);
            log_cols(L, ns, nt, f, lc, t);
#pragma omp single
            {
                for (int j = 0; j < nt; j++)
                    g[j] = fv * (log(b[j]) - lc[j]);
                info->iterations = it + 1;
                info->err = 0.5 * (rel_change_log(f, fp, ns) + rel_change_log(g, gp, nt));
                if (info->err < p->tol) {
                    info->converged = 1;
                    stop = 1;
                }
            }
        }
    }
    free(fp);
    free(tmp);
    return 0;
}

static int log_outputs(const double *L, int ns, int nt, const double *f, const double *g,
                       double *row_mass, double *log_row_mass, double *plan, uf_err *e)
{
    int nth = uf_threads();
    double *lse = uf_calloc((size_t)ns, sizeof(double), e);
    double *tmp = uf_calloc((size_t)nt * (size_t)nth, sizeof(double), e);
    if (!lse || !tmp) {
        free(lse);
        free(tmp);
        return -1;
    }
#pragma omp parallel num_threads(nth) if ((double)ns * nt >= PARALLEL_MIN)
    {
        log_rows(L, ns, nt, g, lse, tmp + (size_t)nt * (size_t)uf_thread_id());
#pragma omp for schedule(static)
        for (int i = 0; i < ns; i++) {
            if (log_row_mass)
                log_row_mass[i] = f[i] + lse[i];
            if (row_mass)
                row_mass[i] = exp(f[i] + lse[i]);
            if (plan) {
                double *Pi = plan + (size_t)i * nt;
                for (int j = 0; j < nt; j++)
                    Pi[j] = f[i] + L[(size_t)i * nt + j] + g[j];
                uf_vexp(Pi, Pi, (size_t)nt);
            }
        }
    }
    free(lse);
    free(tmp);
    return 0;
}

/* ---- entry point ------------------------------------------------------- */

int uf_uot_solve(const double *M, int ns, int nt, const double *a, const double *b,
                 const uf_uot_params *p, double *row_mass, double *log_row_mass, double *plan,
                 uf_uot_info *info, uf_err *e)
{
    memset(info, 0, sizeof *info);
    if (ns <= 0 || nt <= 0)
        return uf_fail(e, "UOT: empty problem (%d x %d)", ns, nt);
    if (!(p->eps > 0) || !(p->tau1 > 0) || !(p->tau2 > 0) || !isfinite(p->eps))
        return uf_fail(e, "UOT: eps, tau1 and tau2 must be positive (got %g, %g, %g)", p->eps,
                       p->tau1, p->tau2);
    if (p->max_iter < 1 || !(p->tol >= 0))
        return uf_fail(e, "UOT: max_iter must be >= 1 and tol >= 0");
    for (int i = 0; i < ns; i++)
        if (!is_pos_normal(a[i]))
            return uf_fail(e, "UOT: source mass %d is %g; masses must be positive", i, a[i]);
    for (int j = 0; j < nt; j++)
        if (!is_pos_normal(b[j]))
            return uf_fail(e, "UOT: target mass %d is %g; masses must be positive", j, b[j]);
    size_t n = (size_t)ns * nt;
    int finite = 1;
    for (size_t k = 0; k < n; k++)
        finite &= isfinite(M[k]);
    for (size_t k = 0; !finite && k < n; k++)
        if (!isfinite(M[k]))
            return uf_fail(e, "UOT: cost entry (%zu, %zu) is %g", k / nt, k % nt, M[k]);
    int ld = (nt + 7) / 8 * 8; /* the plain form's padded row length */
    double *K = uf_calloc((size_t)ns * ld, sizeof(double), e);
    double *x = uf_calloc((size_t)ns, sizeof(double), e), *y = uf_calloc((size_t)nt, sizeof(double), e);
    int status = K && x && y ? PLAIN_UNDERFLOW : -1;
    if (status == PLAIN_UNDERFLOW && p->solver != UF_UOT_LOG) {
        status = plain_solve(M, ns, nt, ld, a, b, p, K, x, y, info, e);
        if (status == PLAIN_BROKE && p->solver == UF_UOT_AUTO)
            status = PLAIN_UNDERFLOW; /* a scaling left the floating-point range: redo in logs */
    }
    if (status == PLAIN_UNDERFLOW) {
        for (size_t k = 0; k < n; k++)
            K[k] = M[k] / -p->eps;
        info->solver = UF_UOT_LOG;
        if (log_iterate(K, ns, nt, a, b, p, x, y, info, e) ||
            log_outputs(K, ns, nt, x, y, row_mass, log_row_mass, plan, e))
            status = -1;
    } else if (status >= 0) {
        info->solver = UF_UOT_PLAIN;
        info->numerical_error = status == PLAIN_BROKE;
        plain_outputs(K, ns, nt, ld, x, y, row_mass, log_row_mass, plan);
    }
    free(K);
    free(x);
    free(y);
    return status < 0 ? uf_wrap(e, "UOT (%d x %d problem)", ns, nt) : 0;
}
