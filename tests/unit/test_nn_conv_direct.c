/* The direct conv path (the default on AVX-512F; engine/nn/conv_direct.c) against
 * the im2col + sgemm path (UOTFT_CONV=im2col) on the same-size and stride-2 3x3 convs of the
 * small ResNets and ResNet-18, its 7x7 stride-2 stem, and odd shapes (channel counts off the
 * register blocks, non-square and odd maps, 1 x 1 maps with dead taps):
 * output, weight gradient and input gradient (overwritten and accumulated)
 * to 1e-5 of the tensor's largest magnitude; two runs of the direct path are
 * bit-identical. Reported skipped on a CPU without AVX-512F, where the
 * direct path never runs. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "nn/conv.h"
#include "nn/conv_direct.h"

#define TOL 1e-5

typedef struct out {
    float *y, *dw, *dx, *dxa; /* forward; weight gradient; input gradient overwritten and added onto ones */
} out;

static float *random_floats(size_t n, uint64_t stream)
{
    float *p = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(uf_rng_uniform(7, stream, i) * 2 - 1);
    return p;
}

static void run(const uf_conv_dims *d, const float *w, const float *x, const float *dy, out *o)
{
    size_t nx = (size_t)d->c * d->n * d->h * d->w, ny = (size_t)d->k * d->n * d->ho * d->wo;
    size_t nw = (size_t)d->k * d->c * d->ks * d->ks;
    o->y = malloc(sizeof(float) * ny);
    o->dw = calloc(nw, sizeof(float));
    o->dx = malloc(sizeof(float) * nx);
    o->dxa = malloc(sizeof(float) * nx);
    for (size_t i = 0; i < nx; i++)
        o->dxa[i] = 1;
    uf_ws ws = {0};
    uf_err e;
    CHECK_OK(uf_conv_forward(d, w, x, o->y, &ws, &e), e);
    CHECK_OK(uf_conv_backward(d, w, x, dy, o->dw, o->dx, 0, &ws, &e), e);
    CHECK_OK(uf_conv_backward(d, w, x, dy, o->dw, o->dxa, 1, &ws, &e), e); /* dw accumulates twice */
    uf_ws_free(&ws);
}

static void free_out(out *o) { free(o->y), free(o->dw), free(o->dx), free(o->dxa); }

static void close_to(const char *what, const float *a, const float *b, size_t n)
{
    double big = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        big = fabs(b[i]) > big ? fabs(b[i]) : big;
        err = fabs(a[i] - b[i]) > err ? fabs(a[i] - b[i]) : err;
    }
    if (!(err <= TOL * big)) {
        fprintf(stderr, "%s: max error %.3g, largest magnitude %.3g\n", what, err, big);
        check_failures++;
    }
}

static void same_bits(const char *what, const float *a, const float *b, size_t n)
{
    if (memcmp(a, b, sizeof(float) * n) != 0) {
        fprintf(stderr, "%s: two direct runs differ\n", what);
        check_failures++;
    }
}

static void test_conv(int n, int c, int h, int w, int k, int ks, int stride, int pad)
{
    uf_conv_dims d;
    uf_conv_dims_set(&d, n, c, h, w, k, ks, stride, pad);
    size_t nx = (size_t)c * n * h * w, ny = (size_t)k * n * d.ho * d.wo, nw = (size_t)k * c * ks * ks;
    float *x = random_floats(nx, 1), *wt = random_floats(nw, 2), *dy = random_floats(ny, 3);
    out ref, a, b;
    setenv("UOTFT_CONV", "im2col", 1);
    CHECK(!uf_conv_direct_ok(&d));
    run(&d, wt, x, dy, &ref);
    unsetenv("UOTFT_CONV"); /* the default */
    CHECK(uf_conv_direct_ok(&d));
    run(&d, wt, x, dy, &a);
    run(&d, wt, x, dy, &b);
    char name[128];
    snprintf(name, sizeof name, "n %d, c %d, %d x %d, k %d, %d x %d, stride %d", n, c, h, w, k, ks, ks, stride);
    fprintf(stderr, "%s\n", name);
    close_to(name, a.y, ref.y, ny);
    close_to(name, a.dw, ref.dw, nw);
    close_to(name, a.dx, ref.dx, nx);
    close_to(name, a.dxa, ref.dxa, nx);
    same_bits(name, a.y, b.y, ny);
    same_bits(name, a.dw, b.dw, nw);
    same_bits(name, a.dx, b.dx, nx);
    same_bits(name, a.dxa, b.dxa, nx);
    free_out(&ref), free_out(&a), free_out(&b);
    free(x), free(wt), free(dy);
}

static void test_shape(int n, int c, int h, int w, int k, int stride) { test_conv(n, c, h, w, k, 3, stride, 1); }

int main(void)
{
    uf_conv_dims probe;
    uf_conv_dims_set(&probe, 1, 1, 4, 4, 1, 3, 1, 1);
    if (!uf_conv_direct_ok(&probe)) {
        fprintf(stderr, "no AVX-512F here: the direct path is off, nothing to compare\n");
        return 77; /* CTest's skip code (tests/nn.cmake) */
    }
    /* small:16,32,64,128 at 28 x 28 (stem, stages 1-4 and their stride-2 first convs), batch 4 */
    test_shape(4, 3, 28, 28, 16, 1);
    test_shape(4, 16, 28, 28, 16, 1);
    test_shape(4, 16, 28, 28, 32, 2);
    test_shape(4, 32, 14, 14, 32, 1);
    test_shape(4, 32, 14, 14, 64, 2);
    test_shape(4, 64, 7, 7, 64, 1);
    test_shape(4, 64, 7, 7, 128, 2);
    test_shape(4, 128, 4, 4, 128, 1);
    /* ResNet-18: stages 1-4 at 56, 28, 14, 7 and the stride-2 convs into them; at 32 x 32 input
     * stage 4 has 1 x 1 maps (one live tap) */
    test_shape(1, 64, 56, 56, 64, 1);
    test_shape(1, 64, 56, 56, 128, 2);
    test_shape(2, 128, 28, 28, 128, 1);
    test_shape(2, 128, 28, 28, 256, 2);
    test_shape(2, 256, 14, 14, 256, 1);
    test_shape(2, 256, 14, 14, 512, 2);
    test_shape(2, 512, 7, 7, 512, 1);
    test_shape(4, 256, 2, 2, 512, 2);
    test_shape(4, 512, 1, 1, 512, 1);
    /* off the register blocks: channels, non-square and odd maps, one image */
    test_shape(1, 5, 9, 11, 13, 1);
    test_shape(1, 5, 9, 11, 13, 2);
    test_shape(3, 7, 2, 3, 9, 1);
    test_shape(3, 7, 3, 2, 9, 2);
    test_shape(2, 4, 1, 1, 3, 2);
    /* ResNet-18's 7x7 stride-2 stem at 64 and at odd sizes */
    test_conv(2, 3, 64, 64, 64, 7, 2, 3);
    test_conv(2, 3, 13, 10, 16, 7, 2, 3);
    CHECK_DONE();
}
