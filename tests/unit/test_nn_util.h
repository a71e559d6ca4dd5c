/* Helpers shared by the network tests: reading reference .npy files as
 * float32, layout changes, and the relative comparison they all use:
 * max |a - b| <= tol * max |b| over a tensor (tolerances are relative to
 * the tensor's scale, so near-zero entries do not dominate). */
#ifndef UF_TEST_NN_UTIL_H
#define UF_TEST_NN_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/npy.h"
#include "nn/eltwise.h"

/* dir/name.npy converted to float32 (NULL with a message if missing). */
static inline float *load_f32(const char *dir, const char *name, uf_array *shape)
{
    char path[8192];
    if (snprintf(path, sizeof path, "%s/%s.npy", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        check_failures++;
        return NULL;
    }
    uf_array a;
    uf_err e;
    if (uf_npy_read(path, &a, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        check_failures++;
        return NULL;
    }
    size_t n = uf_array_count(&a);
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        f[i] = (float)uf_array_get(&a, i);
    if (shape) {
        *shape = a;
        shape->data = NULL;
    }
    uf_array_free(&a);
    return f;
}

static inline double max_rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        num = d > num || isnan(d) ? d : num;
        den = fabs(b[i]) > den ? fabs(b[i]) : den;
    }
    return den > 0 ? num / den : num;
}

/* ||a - b|| / ||b|| in the 2-norm */
static inline double norm_rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Compares a (n floats) with the reference dir/name.npy: max-relative error,
 * or with `norm` the 2-norm relative error. */
static inline void check_ref_as(const char *dir, const char *name, const float *a, size_t n, double tol, int norm)
{
    uf_array s;
    float *b = load_f32(dir, name, &s);
    if (!b)
        return;
    if (uf_array_count(&s) != n) {
        fprintf(stderr, "%s/%s: %zu values, expected %zu\n", dir, name, uf_array_count(&s), n);
        check_failures++;
    } else {
        double err = norm ? norm_rel_err(a, b, n) : max_rel_err(a, b, n);
        if (!(err <= tol)) {
            fprintf(stderr, "%s/%s: relative error%s %.3g > %.3g\n", dir, name, norm ? " in norm" : "", err, tol);
            check_failures++;
        }
    }
    free(b);
}

static inline void check_ref(const char *dir, const char *name, const float *a, size_t n, double tol)
{
    check_ref_as(dir, name, a, n, tol, 0);
}

/* (A, B, S) -> (B, A, S) into a new buffer. */
static inline float *swapped(const float *x, int a, int b, size_t s)
{
    float *y = malloc(sizeof(float) * (size_t)a * b * s);
    uf_swap01(a, b, s, x, y);
    return y;
}

#endif
