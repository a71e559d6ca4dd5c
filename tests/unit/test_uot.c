/* UOT solver: known answers, limits, and agreement between its two forms. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "select/uot.h"

static uf_uot_params params(double eps, double tau1, double tau2, uf_uot_solver s)
{
    uf_uot_params p;
    uf_uot_defaults(&p);
    p.eps = eps;
    p.tau1 = tau1;
    p.tau2 = tau2;
    p.solver = s;
    p.max_iter = 100000;
    p.tol = 1e-13;
    return p;
}

static void random_problem(int ns, int nt, double scale, uint64_t seed, double *M, double *a, double *b)
{
    for (int k = 0; k < ns * nt; k++)
        M[k] = scale * uf_rng_uniform(seed, 1, (uint64_t)k);
    for (int i = 0; i < ns; i++)
        a[i] = 0.5 + uf_rng_uniform(seed, 2, (uint64_t)i);
    for (int j = 0; j < nt; j++)
        b[j] = 0.5 + uf_rng_uniform(seed, 3, (uint64_t)j);
}

/* One source, one target: the objective is
 * p m + eps (p log p - p) + tau1 (p log(p/a) - p + a) + tau2 (p log(p/b) - p + b),
 * minimised at log p = (tau1 log a + tau2 log b - m) / (eps + tau1 + tau2). */
static void test_one_by_one(void)
{
    double m = 0.7, a = 2.0, b = 0.5;
    for (int s = UF_UOT_LOG; s <= UF_UOT_PLAIN; s++) {
        uf_uot_params p = params(0.5, 1.5, 3.0, (uf_uot_solver)s);
        double row, plan;
        uf_uot_info info;
        uf_err e;
        CHECK_OK(uf_uot_solve(&m, 1, 1, &a, &b, &p, &row, NULL, &plan, &info, &e), e);
        double want = exp((1.5 * log(a) + 3.0 * log(b) - m) / (0.5 + 1.5 + 3.0));
        CHECK_CLOSE(plan, want, 1e-11, 0);
        CHECK_CLOSE(row, want, 1e-11, 0);
        CHECK(info.converged);
    }
}

/* The example in POT's documentation of sinkhorn_knopp_unbalanced. */
static void test_pot_docstring(void)
{
    double M[4] = {0, 1, 1, 0}, a[2] = {.5, .5}, b[2] = {.5, .5}, P[4];
    uf_uot_params p = params(1.0, 1.0, 1.0, UF_UOT_AUTO);
    p.tol = 1e-6; /* POT's defaults, with which the documented values were printed */
    p.max_iter = 1000;
    uf_uot_info info;
    uf_err e;
    CHECK_OK(uf_uot_solve(M, 2, 2, a, b, &p, NULL, NULL, P, &info, &e), e);
    CHECK_CLOSE(P[0], 0.51122823, 0, 5e-9);
    CHECK_CLOSE(P[1], 0.18807035, 0, 5e-9);
    CHECK_CLOSE(P[2], 0.18807035, 0, 5e-9);
    CHECK_CLOSE(P[3], 0.51122823, 0, 5e-9);
}

/* Marginal violation |P1 - a|_1 + |P^T 1 - b|_1 of a plan. */
static double violation(const double *P, int ns, int nt, const double *a, const double *b)
{
    double v = 0;
    for (int i = 0; i < ns; i++) {
        double s = 0;
        for (int j = 0; j < nt; j++)
            s += P[i * nt + j];
        v += fabs(s - a[i]);
    }
    for (int j = 0; j < nt; j++) {
        double s = 0;
        for (int i = 0; i < ns; i++)
            s += P[i * nt + j];
        v += fabs(s - b[j]);
    }
    return v;
}

/* tau = inf is balanced Sinkhorn: compare with a textbook implementation,
 * and check that large finite tau approaches it with shrinking violations. */
static void test_balanced_limit(void)
{
    enum { NS = 7, NT = 5 };
    double M[NS * NT], a[NS], b[NT], P[NS * NT], Q[NS * NT];
    random_problem(NS, NT, 2.0, 11, M, a, b);
    double sa = 0, sb = 0;
    for (int i = 0; i < NS; i++)
        sa += a[i];
    for (int j = 0; j < NT; j++)
        sb += b[j];
    for (int j = 0; j < NT; j++)
        b[j] *= sa / sb; /* balanced problems need equal total mass */

    /* textbook Sinkhorn: u = a / Kv, v = b / K^T u */
    double K[NS * NT], u[NS], v[NT];
    for (int k = 0; k < NS * NT; k++)
        K[k] = exp(-M[k] / 0.5);
    for (int j = 0; j < NT; j++)
        v[j] = 1;
    for (int it = 0; it < 20000; it++) {
        for (int i = 0; i < NS; i++) {
            double s = 0;
            for (int j = 0; j < NT; j++)
                s += K[i * NT + j] * v[j];
            u[i] = a[i] / s;
        }
        for (int j = 0; j < NT; j++) {
            double s = 0;
            for (int i = 0; i < NS; i++)
                s += K[i * NT + j] * u[i];
            v[j] = b[j] / s;
        }
    }
    for (int k = 0; k < NS * NT; k++)
        Q[k] = u[k / NT] * K[k] * v[k % NT];

    uf_err e;
    uf_uot_info info;
    for (int s = UF_UOT_LOG; s <= UF_UOT_PLAIN; s++) {
        uf_uot_params p = params(0.5, INFINITY, INFINITY, (uf_uot_solver)s);
        CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &p, NULL, NULL, P, &info, &e), e);
        CHECK(info.converged);
        for (int k = 0; k < NS * NT; k++)
            CHECK_CLOSE(P[k], Q[k], 1e-9, 1e-15);
        CHECK(violation(P, NS, NT, a, b) < 1e-10);
    }
    double prev = INFINITY;
    for (double tau = 0.1; tau <= 1e5; tau *= 10) {
        uf_uot_params p = params(0.5, tau, tau, UF_UOT_AUTO);
        CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &p, NULL, NULL, P, &info, &e), e);
        double viol = violation(P, NS, NT, a, b);
        CHECK(viol < prev);
        prev = viol;
    }
    CHECK(prev < 1e-3);
}

/* Where the plain form does not underflow, both forms give the same plan;
 * where it does, auto switches to the log form and stays finite. */
static void test_forms_agree(void)
{
    enum { NS = 300, NT = 70 };
    double *M = malloc(sizeof(double) * NS * NT), a[NS], b[NT];
    double *P1 = malloc(sizeof(double) * NS * NT), *P2 = malloc(sizeof(double) * NS * NT);
    double r1[NS], r2[NS], l1[NS];
    random_problem(NS, NT, 50.0, 5, M, a, b);
    uf_err e;
    uf_uot_info i1, i2;
    uf_uot_params pl = params(1.0, 1.0, 100.0, UF_UOT_PLAIN), lg = params(1.0, 1.0, 100.0, UF_UOT_LOG);
    pl.tol = lg.tol = 1e-6;
    CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &pl, r1, l1, P1, &i1, &e), e);
    CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &lg, r2, NULL, P2, &i2, &e), e);
    CHECK(i1.solver == UF_UOT_PLAIN && i2.solver == UF_UOT_LOG);
    CHECK(i1.iterations == i2.iterations);
    for (int k = 0; k < NS * NT; k++)
        CHECK_CLOSE(P1[k], P2[k], 1e-11, 0);
    for (int i = 0; i < NS; i++) {
        CHECK_CLOSE(r1[i], r2[i], 1e-11, 0);
        CHECK_CLOSE(l1[i], log(r2[i]), 0, 1e-11);
    }

    /* row 0 costs at least 1000: its whole kernel row underflows to 0 */
    for (int j = 0; j < NT; j++)
        M[j] += 1000;
    uf_uot_params au = params(1.0, 1.0, 100.0, UF_UOT_AUTO);
    au.tol = 1e-6;
    CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &au, r1, l1, NULL, &i1, &e), e);
    CHECK(i1.solver == UF_UOT_LOG);
    CHECK(i1.converged);
    for (int i = 0; i < NS; i++)
        CHECK(isfinite(l1[i]));
    CHECK(l1[0] < -400); /* tiny but kept: the plain form would have lost the row */
    CHECK_CLOSE(r1[0], exp(l1[0]), 1e-12, 0);
    uf_uot_params st = au;
    st.solver = UF_UOT_PLAIN;
    CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &st, r2, NULL, NULL, &i2, &e), e);
    CHECK(i2.numerical_error && !i2.converged);
    free(M);
    free(P1);
    free(P2);
}

/* The same problem gives bit-identical results on 1 and 2 threads. */
static void test_thread_invariance(void)
{
    enum { NS = 1000, NT = 90 };
    double *M = malloc(sizeof(double) * NS * NT), a[NS], b[NT], r[2][NS];
    random_problem(NS, NT, 30.0, 9, M, a, b);
    uf_err e;
    uf_uot_info info;
    for (int s = UF_UOT_LOG; s <= UF_UOT_PLAIN; s++) {
        for (int t = 0; t < 2; t++) {
            uf_set_threads(t + 1);
            uf_uot_params p = params(1.0, 1.0, 100.0, (uf_uot_solver)s);
            p.tol = 1e-6;
            CHECK_OK(uf_uot_solve(M, NS, NT, a, b, &p, r[t], NULL, NULL, &info, &e), e);
        }
        CHECK(memcmp(r[0], r[1], sizeof r[0]) == 0);
    }
    uf_set_threads(0);
    free(M);
}

static void test_bad_input(void)
{
    double M[4] = {0, 1, 1, 0}, a[2] = {1, 1}, b[2] = {1, 0}, row[2];
    uf_uot_params p = params(1, 1, 1, UF_UOT_AUTO);
    uf_uot_info info;
    uf_err e;
    CHECK(uf_uot_solve(M, 2, 2, a, b, &p, row, NULL, NULL, &info, &e) != 0);
    CHECK(strstr(e.msg, "target mass 1") != NULL);
    b[1] = 1;
    M[3] = NAN;
    CHECK(uf_uot_solve(M, 2, 2, a, b, &p, row, NULL, NULL, &info, &e) != 0);
    CHECK(strstr(e.msg, "(1, 1)") != NULL);
    M[3] = 0;
    p.eps = 0;
    CHECK(uf_uot_solve(M, 2, 2, a, b, &p, row, NULL, NULL, &info, &e) != 0);
}

int main(void)
{
    test_one_by_one();
    test_pot_docstring();
    test_balanced_limit();
    test_forms_agree();
    test_thread_invariance();
    test_bad_input();
    CHECK_DONE();
}
