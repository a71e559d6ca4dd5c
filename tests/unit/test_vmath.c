/* The vectorised exp/log against libm: at most 2 ulp over the whole range
 * (pow, built from both, within 16), and the special values. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "core/rng.h"
#include "core/vmath.h"

static double ulps(double got, double want)
{
    if (got == want)
        return 0;
    return fabs(got - want) / (nextafter(fabs(want), INFINITY) - fabs(want));
}

int main(void)
{
    enum { N = 1 << 20 };
    double *x = malloc(sizeof(double) * N), *y = malloc(sizeof(double) * N);
    double worst = 0;
    for (int i = 0; i < N; i++)
        x[i] = -708.0 + 1417.0 * uf_rng_uniform(1, 0, (uint64_t)i); /* normal results only */
    uf_vexp(x, y, N);
    for (int i = 0; i < N; i++)
        worst = fmax(worst, ulps(y[i], exp(x[i])));
    CHECK(worst <= 2);
    fprintf(stderr, "exp: worst %g ulp\n", worst);

    worst = 0;
    for (int i = 0; i < N; i++)
        x[i] = exp(-700.0 + 1400.0 * uf_rng_uniform(2, 0, (uint64_t)i));
    x[0] = DBL_MIN;
    x[1] = DBL_MAX;
    x[2] = 1.0;
    x[3] = nextafter(1.0, 0);
    uf_vlog(x, y, N);
    for (int i = 0; i < N; i++)
        worst = fmax(worst, ulps(y[i], log(x[i])));
    CHECK(worst <= 2);
    fprintf(stderr, "log: worst %g ulp\n", worst);

    worst = 0;
    for (int i = 0; i < N; i++)
        x[i] = 0.5 + uf_rng_uniform(3, 0, (uint64_t)i) * 100;
    uf_vpow(x, 100.0 / 101.0, y, N);
    for (int i = 0; i < N; i++)
        worst = fmax(worst, ulps(y[i], pow(x[i], 100.0 / 101.0)));
    /* exp(p log x) carries log's error times |p log x| (about 4.6 here) into the result */
    CHECK(worst <= 16);
    fprintf(stderr, "pow: worst %g ulp\n", worst);

    double sp[] = {-INFINITY, INFINITY, NAN, 0.0, -746.0, -745.0, 709.7, 709.8, 1e308, -1e308};
    double out[10];
    uf_vexp(sp, out, 10);
    CHECK(out[0] == 0 && isinf(out[1]) && isnan(out[2]) && out[3] == 1.0 && out[4] == 0.0);
    CHECK(out[5] > 0 && out[5] < DBL_MIN); /* subnormal, as libm */
    CHECK(ulps(out[6], exp(709.7)) <= 2 && isinf(out[7]) && isinf(out[8]) && out[9] == 0.0);
    free(x);
    free(y);
    CHECK_DONE();
}
