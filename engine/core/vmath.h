/* Element-wise exp and log over double arrays, written branch-free so the
 * compiler vectorises them (glibc's scalar exp dominated the UOT solver's
 * time). exp and log are accurate to 2 ulp for normal results, pow to 16 (tests/unit/test_vmath.c). */
#ifndef UF_VMATH_H
#define UF_VMATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The scalar kernels are inline so that callers' loops over them vectorise
 * too (e.g. a fused scale-and-exp pass, or 8 scalings at once). */
static inline double uf_from_bits_(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline uint64_t uf_to_bits_(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

#define UF_LN2_HI 6.93147180369123816490e-01 /* high 32 bits of ln 2 */
#define UF_LN2_LO 1.90821492927058770002e-10
#define UF_LOG2E 1.44269504088896338700e+00
#define UF_SHIFTER 0x1.8p52 /* adding it rounds to an integer held in the low mantissa bits */

/* exp(x) = 2^k * exp(r), r = x - k ln2 in [-ln2/2, ln2/2], exp(r) by its
 * Taylor series to degree 13 (truncation < 1e-17 there). 2^k is applied as
 * two factors so results down to the subnormal range need no branch. */
static inline double uf_exp1(double x)
{
    x = x < -746.0 ? -746.0 : x;
    x = x > 710.0 ? 710.0 : x;
    double t = x * UF_LOG2E + UF_SHIFTER;
    double kd = t - UF_SHIFTER;
    int64_t k = (int64_t)(uf_to_bits_(t) - uf_to_bits_(UF_SHIFTER)); /* same exponent: bit difference is k */
    double r = (x - kd * UF_LN2_HI) - kd * UF_LN2_LO;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t k1 = k >> 1, k2 = k - k1;
    double s1 = uf_from_bits_((uint64_t)(k1 + 1023) << 52);
    double s2 = uf_from_bits_((uint64_t)(k2 + 1023) << 52);
    return p * s1 * s2;
}

/* log(x) = e ln2 + 2 atanh(s), x = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * s = (m-1)/(m+1), |s| < 0.1716; the odd series to s^21 is below 1e-17. */
static inline double uf_log1(double x)
{
    uint64_t u = uf_to_bits_(x);
    /* shift by sqrt(1/2) so that m lands in [sqrt(1/2), sqrt(2)) */
    uint64_t off = u - 0x3fe6a09e667f3bcdULL;
    int64_t e = (int64_t)off >> 52; /* arithmetic shift: negative below sqrt(1/2) */
    double m = uf_from_bits_(u - ((uint64_t)e << 52));
    double s = (m - 1.0) / (m + 1.0);
    double z = s * s;
    double p = 2.0 / 21;
    p = p * z + 2.0 / 19;
    p = p * z + 2.0 / 17;
    p = p * z + 2.0 / 15;
    p = p * z + 2.0 / 13;
    p = p * z + 2.0 / 11;
    p = p * z + 2.0 / 9;
    p = p * z + 2.0 / 7;
    p = p * z + 2.0 / 5;
    p = p * z + 2.0 / 3;
    double ed = (double)e;
    return ed * UF_LN2_HI + (s * z * p + ed * UF_LN2_LO + 2.0 * s);
}

/* y[i] = exp(x[i]); -inf -> 0, +inf -> inf, NaN -> NaN, underflow -> 0 or
 * subnormal. x and y may alias. */
void uf_vexp(const double *x, double *y, size_t n);
/* y[i] = log(x[i]) for positive normal finite x; other inputs give
 * unspecified values (callers check their inputs). x and y may alias. */
void uf_vlog(const double *x, double *y, size_t n);
/* y[i] = x[i]^p for positive normal x, as exp(p * log x). */
void uf_vpow(const double *x, double p, double *y, size_t n);

#endif
