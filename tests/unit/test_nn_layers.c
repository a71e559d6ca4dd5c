/* Every layer against torch (tests/oracle/nn_layers.py): outputs to 1e-4 and
 * gradients to 1e-3, relative to each tensor's largest magnitude.
 * Usage: test_nn_layers REFDIR */
#include <stdint.h>

#include "test_nn_util.h"
#include "nn/bnorm.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/pool.h"

#define FWD_TOL 1e-4
#define GRAD_TOL 1e-3

static const char *root;

static void path_of(char *buf, size_t n, const char *c) { snprintf(buf, n, "%s/%s", root, c); }

static void test_conv(const char *c)
{
    char dir[4096];
    path_of(dir, sizeof dir, c);
    float *dims = load_f32(dir, "dims", NULL);
    float *x = load_f32(dir, "x", NULL), *w = load_f32(dir, "w", NULL), *g = load_f32(dir, "g", NULL);
    if (!dims || !x || !w || !g)
        return;
    uf_conv_dims d;
    uf_conv_dims_set(&d, (int)dims[0], (int)dims[1], (int)dims[2], (int)dims[3], (int)dims[4], (int)dims[5],
                     (int)dims[6], (int)dims[7]);
    size_t nx = (size_t)d.n * d.c * d.h * d.w, ny = (size_t)d.n * d.k * d.ho * d.wo, nw = (size_t)d.k * d.c * d.ks * d.ks;
    float *xc = swapped(x, d.n, d.c, (size_t)d.h * d.w), *gc = swapped(g, d.n, d.k, (size_t)d.ho * d.wo);
    float *yc = malloc(sizeof(float) * ny), *dxc = malloc(sizeof(float) * nx), *dw = calloc(nw, sizeof(float));
    uf_ws ws = {0};
    uf_err e;
    CHECK_OK(uf_conv_forward(&d, w, xc, yc, &ws, &e), e);
    float *y = swapped(yc, d.k, d.n, (size_t)d.ho * d.wo);
    check_ref(dir, "y", y, ny, FWD_TOL);
    CHECK_OK(uf_conv_backward(&d, w, xc, gc, dw, dxc, 0, &ws, &e), e);
    float *dx = swapped(dxc, d.c, d.n, (size_t)d.h * d.w);
    check_ref(dir, "dx", dx, nx, GRAD_TOL);
    check_ref(dir, "dw", dw, nw, GRAD_TOL);
    /* a second backward adds to both gradients */
    CHECK_OK(uf_conv_backward(&d, w, xc, gc, dw, dxc, 1, &ws, &e), e);
    float *dx2 = swapped(dxc, d.c, d.n, (size_t)d.h * d.w);
    for (size_t i = 0; i < nx; i++)
        dx2[i] *= 0.5f;
    for (size_t i = 0; i < nw; i++)
        dw[i] *= 0.5f;
    check_ref(dir, "dx", dx2, nx, GRAD_TOL);
    check_ref(dir, "dw", dw, nw, GRAD_TOL);
    uf_ws_free(&ws);
    free(dims), free(x), free(w), free(g), free(xc), free(gc), free(yc), free(dxc), free(dw), free(y), free(dx);
    free(dx2);
}

static void test_bn(const char *c)
{
    char dir[4096];
    path_of(dir, sizeof dir, c);
    float *dims = load_f32(dir, "dims", NULL);
    if (!dims)
        return;
    int n = (int)dims[0], ch = (int)dims[1], train = (int)dims[4], relu = (int)dims[5], has_add = (int)dims[6];
    size_t hw = (size_t)dims[2] * (size_t)dims[3], total = (size_t)n * ch * hw;
    float *x = load_f32(dir, "x", NULL), *g = load_f32(dir, "g", NULL);
    float *gamma = load_f32(dir, "gamma", NULL), *beta = load_f32(dir, "beta", NULL);
    float *rmean = load_f32(dir, "rmean", NULL), *rvar = load_f32(dir, "rvar", NULL);
    float *add = has_add ? load_f32(dir, "add", NULL) : NULL;
    float *xc = swapped(x, n, ch, hw), *gc = swapped(g, n, ch, hw), *addc = add ? swapped(add, n, ch, hw) : NULL;
    float *out = malloc(sizeof(float) * total), *dxc = malloc(sizeof(float) * total);
    float *stats = malloc(sizeof(float) * 2 * (size_t)ch);
    float *dgamma = calloc((size_t)ch, sizeof(float)), *dbeta = calloc((size_t)ch, sizeof(float));
    uf_bn b = {.c = ch, .m = (size_t)n * hw, .train = train, .gamma = gamma, .beta = beta, .rmean = rmean,
               .rvar = rvar, .mean = stats, .invstd = stats + ch};
    uf_bn_forward(&b, xc, addc, relu, out);
    float *y = swapped(out, ch, n, hw);
    check_ref(dir, "y", y, total, FWD_TOL);
    check_ref(dir, "rmean_after", rmean, (size_t)ch, FWD_TOL);
    check_ref(dir, "rvar_after", rvar, (size_t)ch, FWD_TOL);
    if (has_add) { /* the block tail: the ReLU gate first, then the BN (and the identity) see its result */
        memcpy(dxc, gc, sizeof(float) * total);
        uf_relu_backward(dxc, out, total);
        float *dadd = swapped(dxc, ch, n, hw);
        check_ref(dir, "dadd", dadd, total, GRAD_TOL);
        free(dadd);
        uf_bn_backward(&b, xc, NULL, 0, dxc, dxc, dgamma, dbeta);
    } else {
        uf_bn_backward(&b, xc, out, relu, gc, dxc, dgamma, dbeta);
    }
    float *dx = swapped(dxc, ch, n, hw);
    check_ref(dir, "dx", dx, total, GRAD_TOL);
    check_ref(dir, "dgamma", dgamma, (size_t)ch, GRAD_TOL);
    check_ref(dir, "dbeta", dbeta, (size_t)ch, GRAD_TOL);
    free(dims), free(x), free(g), free(gamma), free(beta), free(rmean), free(rvar), free(add), free(xc), free(gc);
    free(addc), free(out), free(dxc), free(stats), free(dgamma), free(dbeta), free(y), free(dx);
}

static void test_maxpool(void)
{
    char dir[4096];
    path_of(dir, sizeof dir, "maxpool");
    float *dims = load_f32(dir, "dims", NULL), *x = load_f32(dir, "x", NULL), *g = load_f32(dir, "g", NULL);
    if (!dims || !x || !g)
        return;
    uf_pool_dims d; /* planes are contiguous in NCHW too, so no layout change */
    uf_pool_dims_set(&d, (int)(dims[0] * dims[1]), (int)dims[2], (int)dims[3], 3, 2, 1);
    size_t nx = (size_t)d.planes * d.h * d.w, ny = (size_t)d.planes * d.ho * d.wo;
    float *y = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny), *dx = malloc(sizeof(float) * nx);
    uint8_t *arg = malloc(ny);
    uf_maxpool_forward(&d, x, y, arg);
    check_ref(dir, "y", y, ny, FWD_TOL);
    uf_maxpool_forward(&d, x, y2, NULL); /* inference: the same values without arg-max */
    CHECK(memcmp(y, y2, sizeof(float) * ny) == 0);
    uf_maxpool_backward(&d, arg, g, dx);
    check_ref(dir, "dx", dx, nx, GRAD_TOL);
    free(dims), free(x), free(g), free(y), free(y2), free(dx), free(arg);
}

static void test_avgpool(void)
{
    char dir[4096];
    path_of(dir, sizeof dir, "avgpool");
    float *dims = load_f32(dir, "dims", NULL), *x = load_f32(dir, "x", NULL), *g = load_f32(dir, "g", NULL);
    if (!dims || !x || !g)
        return;
    int n = (int)dims[0], c = (int)dims[1], hw = (int)(dims[2] * dims[3]);
    float *xc = swapped(x, n, c, (size_t)hw), *y = malloc(sizeof(float) * (size_t)n * c);
    float *dxc = malloc(sizeof(float) * (size_t)n * c * hw);
    uf_avgpool_forward(c, n, hw, xc, y);
    check_ref(dir, "y", y, (size_t)n * c, FWD_TOL);
    uf_avgpool_backward(c, n, hw, g, dxc);
    float *dx = swapped(dxc, c, n, (size_t)hw);
    check_ref(dir, "dx", dx, (size_t)n * c * hw, GRAD_TOL);
    free(dims), free(x), free(g), free(xc), free(y), free(dxc), free(dx);
}

static void test_linear(void)
{
    char dir[4096];
    path_of(dir, sizeof dir, "linear");
    float *dims = load_f32(dir, "dims", NULL), *x = load_f32(dir, "x", NULL), *w = load_f32(dir, "w", NULL);
    float *b = load_f32(dir, "b", NULL), *g = load_f32(dir, "g", NULL);
    if (!dims || !x || !w || !b || !g)
        return;
    int n = (int)dims[0], f = (int)dims[1], k = (int)dims[2];
    float *y = malloc(sizeof(float) * (size_t)n * k), *dx = malloc(sizeof(float) * (size_t)n * f);
    float *dw = calloc((size_t)k * f, sizeof(float)), *db = calloc((size_t)k, sizeof(float));
    uf_linear_forward(n, f, k, x, w, b, y);
    check_ref(dir, "y", y, (size_t)n * k, FWD_TOL);
    uf_linear_backward(n, f, k, x, w, g, dw, db, dx, 0);
    check_ref(dir, "dx", dx, (size_t)n * f, GRAD_TOL);
    check_ref(dir, "dw", dw, (size_t)k * f, GRAD_TOL);
    check_ref(dir, "db", db, (size_t)k, GRAD_TOL);
    free(dims), free(x), free(w), free(b), free(g), free(y), free(dx), free(dw), free(db);
}

static void test_xent(const char *c)
{
    char dir[4096];
    path_of(dir, sizeof dir, c);
    float *dims = load_f32(dir, "dims", NULL), *z = load_f32(dir, "x", NULL);
    if (!dims || !z)
        return;
    int n = (int)dims[0], k = (int)dims[1], soft = (int)dims[2];
    float *dz = malloc(sizeof(float) * (size_t)n * k);
    double loss = 0;
    if (soft) {
        float *t = load_f32(dir, "targets", NULL);
        loss = uf_xent_soft(n, k, z, t, 1.0f, dz);
        free(t);
    } else {
        float *lf = load_f32(dir, "labels", NULL);
        int labels[64];
        for (int i = 0; i < n; i++)
            labels[i] = (int)lf[i];
        uf_err e;
        CHECK_OK(uf_xent_hard(n, k, z, labels, 1.0f, dz, &loss, &e), e);
        labels[0] = k; /* out of range: refused */
        CHECK(uf_xent_hard(n, k, z, labels, 1.0f, dz, &loss, &e) != 0);
        free(lf);
    }
    float lf = (float)loss;
    check_ref(dir, "loss", &lf, 1, FWD_TOL);
    check_ref(dir, "dx", dz, (size_t)n * k, GRAD_TOL);
    free(dims), free(z), free(dz);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_nn_layers REFDIR\n");
        return 2;
    }
    root = argv[1];
    const char *convs[] = {"conv3x3", "conv3x3s2", "conv7x7s2", "conv1x1", "conv1x1s2", "conv3x3tiles",
                           "conv3x3_8px_tiles", "conv3x3_1px", "conv3x3s2_2px"};
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
        test_conv(convs[i]);
    const char *bns[] = {"bn_relu", "bn_add_relu", "bn_plain", "bn_eval_relu"};
    for (size_t i = 0; i < sizeof bns / sizeof bns[0]; i++)
        test_bn(bns[i]);
    test_maxpool();
    test_avgpool();
    test_linear();
    test_xent("xent_hard");
    test_xent("xent_soft");
    CHECK_DONE();
}
