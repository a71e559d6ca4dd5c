/* Finite-difference checks of every layer's backward and of whole small
 * ResNets: for L = sum(out * g) (or the cross-entropy itself), central
 * differences at sampled entries match the analytic gradient to 2% of the
 * tensor's largest gradient (float32 forward passes, step h); for the models,
 * the derivative along a direction per tensor matches to 2%. The models use
 * BN shifts of 0.5 so that few pre-activations sit at the ReLU's kink; the
 * bottleneck runs in eval mode, since with batch statistics in a net this
 * narrow the kinks that a step crosses move the quotient by a few percent
 * (its train-mode gradients agree with torch's float64 to 1e-6 in
 * tests/unit/test_nn_resnet.c). */
#include <stdint.h>

#include "test_nn_util.h"
#include "core/rng.h"
#include "nn/bnorm.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/params.h"
#include "nn/pool.h"
#include "nn/resnet.h"

#define TOL 2e-2

static float *randn(size_t n, uint64_t stream, float scale)
{
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        double u1 = uf_rng_uniform(11, stream, 2 * i), u2 = uf_rng_uniform(11, stream, 2 * i + 1);
        x[i] = (float)(scale * sqrt(-2 * log(1 - u1)) * cos(6.283185307179586 * u2));
    }
    return x;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* Perturbs `samples` entries of v (n floats) by +-h and compares the
 * difference quotient of f with analytic. */
static void fd_check(const char *what, float *v, size_t n, const float *analytic, loss_fn f, void *ctx, int samples,
                     float h)
{
    double gmax = 0, worst = 0;
    for (size_t i = 0; i < n; i++)
        gmax = fabs(analytic[i]) > gmax ? fabs(analytic[i]) : gmax;
    for (int s = 0; s < samples; s++) {
        size_t i = (size_t)(uf_rng_u64(5, (uint64_t)n, (uint64_t)s) % n);
        float v0 = v[i], up = v0 + h, dn = v0 - h;
        v[i] = up;
        double lp = f(ctx);
        v[i] = dn;
        double lm = f(ctx);
        v[i] = v0;
        double num = (lp - lm) / ((double)up - dn), err = fabs(num - analytic[i]);
        worst = err > worst ? err : worst;
    }
    if (!(worst <= TOL * gmax)) {
        fprintf(stderr, "%s: finite-difference error %.3g > %.3g (max |grad| %.3g)\n", what, worst, TOL * gmax, gmax);
        check_failures++;
    }
}

/* Directional version for a whole tensor, robust to float32 noise and ReLU
 * kinks in a deep model: along u = g / rms(g) + noise/2, the difference
 * quotient of f must match g . u (central differences, step h). */
static void fd_check_dir(const char *what, float *v, size_t n, const float *analytic, loss_fn f, void *ctx, float h)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)analytic[i] * analytic[i];
    double rms = sqrt(ss / (double)n), want = 0;
    if (rms == 0) {
        fprintf(stderr, "%s: zero gradient\n", what);
        check_failures++;
        return;
    }
    float *v0 = malloc(sizeof(float) * n), *u = randn(n, 77, 0.5f);
    memcpy(v0, v, sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        u[i] += (float)(analytic[i] / rms);
        want += (double)analytic[i] * u[i];
    }
    for (size_t i = 0; i < n; i++)
        v[i] = v0[i] + h * u[i];
    double lp = f(ctx);
    for (size_t i = 0; i < n; i++)
        v[i] = v0[i] - h * u[i];
    double lm = f(ctx);
    memcpy(v, v0, sizeof(float) * n);
    double num = (lp - lm) / (2 * h);
    if (!(fabs(num - want) <= TOL * fabs(want))) {
        fprintf(stderr, "%s: directional derivative %.6g, gradient says %.6g\n", what, num, want);
        check_failures++;
    }
    free(v0);
    free(u);
}

/* ---- conv ---- */
typedef struct { uf_conv_dims d; float *x, *w, *y, *g; uf_ws ws; } conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    uf_err e;
    uf_conv_forward(&c->d, c->w, c->x, c->y, &c->ws, &e);
    return dot(c->y, c->g, (size_t)c->d.k * c->d.n * c->d.ho * c->d.wo);
}

static void test_conv(int n, int cin, int h, int w, int k, int ks, int stride, int pad)
{
    conv_ctx c = {0};
    uf_conv_dims_set(&c.d, n, cin, h, w, k, ks, stride, pad);
    size_t nx = (size_t)n * cin * h * w, nw = (size_t)k * cin * ks * ks, ny = (size_t)k * n * c.d.ho * c.d.wo;
    c.x = randn(nx, 1, 1);
    c.w = randn(nw, 2, 0.3f);
    c.g = randn(ny, 3, 1);
    c.y = malloc(sizeof(float) * ny);
    float *dx = malloc(sizeof(float) * nx), *dw = calloc(nw, sizeof(float));
    uf_err e;
    CHECK_OK(uf_conv_backward(&c.d, c.w, c.x, c.g, dw, dx, 0, &c.ws, &e), e);
    fd_check("conv dx", c.x, nx, dx, conv_loss, &c, 30, 1e-2f);
    fd_check("conv dw", c.w, nw, dw, conv_loss, &c, 30, 1e-2f);
    uf_ws_free(&c.ws);
    free(c.x), free(c.w), free(c.g), free(c.y), free(dx), free(dw);
}

/* ---- batch norm (train: batch statistics, with a residual add; eval) ---- */
typedef struct { uf_bn b; float *y, *add, *out, *g, *gamma, *beta; size_t total; } bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *c = p;
    uf_bn_forward(&c->b, c->y, c->add, 0, c->out);
    return dot(c->out, c->g, c->total);
}

static void test_bn(int train)
{
    enum { C = 3, M = 40 };
    bn_ctx c = {0};
    float stats[2 * C], rm[C] = {0.1f, -0.2f, 0.3f}, rv[C] = {1.5f, 0.7f, 1.1f};
    c.total = (size_t)C * M;
    c.y = randn(c.total, 4, 2);
    c.add = randn(c.total, 5, 1);
    c.g = randn(c.total, 6, 1);
    c.gamma = randn(C, 7, 1);
    c.beta = randn(C, 8, 1);
    c.out = malloc(sizeof(float) * c.total);
    c.b = (uf_bn){.c = C, .m = M, .train = train, .gamma = c.gamma, .beta = c.beta, .rmean = rm, .rvar = rv,
                  .mean = stats, .invstd = stats + C};
    float *dy = malloc(sizeof(float) * c.total), dgamma[C] = {0}, dbeta[C] = {0};
    bn_loss(&c);
    uf_bn_backward(&c.b, c.y, NULL, 0, c.g, dy, dgamma, dbeta);
    fd_check(train ? "bn train dx" : "bn eval dx", c.y, c.total, dy, bn_loss, &c, 30, 1e-2f);
    fd_check("bn dgamma", c.gamma, C, dgamma, bn_loss, &c, C, 1e-2f);
    fd_check("bn dbeta", c.beta, C, dbeta, bn_loss, &c, C, 1e-2f);
    free(c.y), free(c.add), free(c.g), free(c.gamma), free(c.beta), free(c.out), free(dy);
}

/* ---- pools (distinct values 0.05 apart, so a step never changes the arg-max) ---- */
typedef struct { uf_pool_dims d; float *x, *y, *g; int avg, c, n, hw; } pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    if (c->avg) {
        uf_avgpool_forward(c->c, c->n, c->hw, c->x, c->y);
        return dot(c->y, c->g, (size_t)c->c * c->n);
    }
    uf_maxpool_forward(&c->d, c->x, c->y, NULL);
    return dot(c->y, c->g, (size_t)c->d.planes * c->d.ho * c->d.wo);
}

static void test_pools(void)
{
    pool_ctx c = {0};
    uf_pool_dims_set(&c.d, 4, 9, 8, 3, 2, 1);
    size_t nx = (size_t)4 * 9 * 8, ny = (size_t)4 * c.d.ho * c.d.wo;
    c.x = malloc(sizeof(float) * nx);
    for (size_t i = 0; i < nx; i++)
        c.x[i] = 0.05f * (float)((i * 37) % nx) - 5;
    c.y = malloc(sizeof(float) * nx);
    c.g = randn(nx, 9, 1);
    float *dx = malloc(sizeof(float) * nx);
    uint8_t *arg = malloc(ny);
    uf_maxpool_forward(&c.d, c.x, c.y, arg);
    uf_maxpool_backward(&c.d, arg, c.g, dx);
    free(arg);
    fd_check("maxpool dx", c.x, nx, dx, pool_loss, &c, 40, 1e-2f);
    c.avg = 1;
    c.c = 3;
    c.n = 4;
    c.hw = 6;
    uf_avgpool_backward(3, 4, 6, c.g, dx);
    fd_check("avgpool dx", c.x, 72, dx, pool_loss, &c, 20, 1e-2f);
    free(c.x), free(c.y), free(c.g), free(dx);
}

/* ---- linear ---- */
typedef struct { int n, f, k; float *x, *w, *b, *y, *g; } lin_ctx;

static double lin_loss(void *p)
{
    lin_ctx *c = p;
    uf_linear_forward(c->n, c->f, c->k, c->x, c->w, c->b, c->y);
    return dot(c->y, c->g, (size_t)c->n * c->k);
}

static void test_linear(void)
{
    lin_ctx c = {.n = 5, .f = 7, .k = 4};
    c.x = randn(35, 10, 1);
    c.w = randn(28, 11, 0.5f);
    c.b = randn(4, 12, 1);
    c.g = randn(20, 13, 1);
    c.y = malloc(sizeof(float) * 20);
    float dx[35], dw[28] = {0}, db[4] = {0};
    uf_linear_backward(5, 7, 4, c.x, c.w, c.g, dw, db, dx, 0);
    fd_check("linear dx", c.x, 35, dx, lin_loss, &c, 20, 1e-2f);
    fd_check("linear dw", c.w, 28, dw, lin_loss, &c, 20, 1e-2f);
    fd_check("linear db", c.b, 4, db, lin_loss, &c, 4, 1e-2f);
    free(c.x), free(c.w), free(c.b), free(c.g), free(c.y);
}

/* ---- cross-entropy ---- */
typedef struct { int n, k, soft; float *z, *t; int *labels; } xent_ctx;

static double xent_loss(void *p)
{
    xent_ctx *c = p;
    double l;
    uf_err e;
    if (c->soft)
        return uf_xent_soft(c->n, c->k, c->z, c->t, 1, NULL);
    uf_xent_hard(c->n, c->k, c->z, c->labels, 1, NULL, &l, &e);
    return l;
}

static void test_xent(void)
{
    int labels[4] = {2, 0, 4, 4};
    xent_ctx c = {.n = 4, .k = 5, .labels = labels};
    c.z = randn(20, 14, 2);
    c.t = malloc(sizeof(float) * 20);
    for (int i = 0; i < 20; i++) /* rows that do not sum to one, as in torch's general soft target */
        c.t[i] = 0.1f + (float)uf_rng_uniform(3, 3, (uint64_t)i);
    float dz[20];
    double l;
    uf_err e;
    uf_xent_hard(4, 5, c.z, labels, 1, dz, &l, &e);
    fd_check("xent hard", c.z, 20, dz, xent_loss, &c, 20, 1e-2f);
    c.soft = 1;
    uf_xent_soft(4, 5, c.z, c.t, 1, dz);
    fd_check("xent soft", c.z, 20, dz, xent_loss, &c, 20, 1e-2f);
    free(c.z), free(c.t);
}

/* ---- a whole small ResNet with two heads ---- */
typedef struct { uf_model m; float *x; int train; int labels[2][6]; } model_ctx;

static double model_loss(void *p)
{
    model_ctx *c = p;
    uf_err e;
    double l0, l1;
    uf_model_forward(&c->m, c->x, 6, 12, 12, c->train, 1, &e);
    uf_xent_hard(6, 5, uf_model_head_out(&c->m, 0), c->labels[0], 1, NULL, &l0, &e);
    uf_xent_hard(6, 3, uf_model_head_out(&c->m, 1), c->labels[1], 1, NULL, &l1, &e);
    return l0 + 0.5 * l1;
}

static void test_model(const char *arch_name, int train)
{
    model_ctx c = {.train = train};
    uf_arch a;
    uf_err e;
    uf_head_spec heads[2] = {{"fc", 5, UF_HEAD_LINEAR}, {"aux", 3, UF_HEAD_LINEAR}};
    CHECK_OK(uf_arch_parse(arch_name, &a, &e), e);
    CHECK_OK(uf_model_create(&c.m, &a, heads, 2, &e), e);
    uf_model_init_weights(&c.m, 3);
    for (int i = 0; i < c.m.buf.n; i++) /* non-trivial running statistics for eval mode */
        for (size_t k = 0; k < c.m.buf.d[i].count; k++)
            c.m.buf.w[c.m.buf.d[i].offset + k] += (float)(0.2 * uf_rng_uniform(4, (uint64_t)i, k));
    for (int b = 0; b < c.m.nbn; b++) /* BN shifts of 0.5 keep most pre-activations away from the ReLU's kink */
        for (int k = 0; k < c.m.bn[b].bn.c; k++)
            c.m.p.w[c.m.p.d[c.m.bn[b].beta].offset + k] = 0.5f;
    c.x = randn((size_t)6 * 3 * 12 * 12, 15, 1);
    for (int i = 0; i < 6; i++) {
        c.labels[0][i] = i % 5;
        c.labels[1][i] = (i * 2) % 3;
    }
    float d0[30], d1[18];
    double l;
    CHECK_OK(uf_model_forward(&c.m, c.x, 6, 12, 12, train, 1, &e), e);
    uf_xent_hard(6, 5, uf_model_head_out(&c.m, 0), c.labels[0], 1, d0, &l, &e);
    uf_xent_hard(6, 3, uf_model_head_out(&c.m, 1), c.labels[1], 0.5f, d1, &l, &e);
    const float *dl[2] = {d0, d1};
    uf_params_zero_grad(&c.m.p);
    CHECK_OK(uf_model_backward(&c.m, dl, &e), e);
    float *g = malloc(sizeof(float) * c.m.p.total);
    memcpy(g, c.m.p.g, sizeof(float) * c.m.p.total);
    for (int i = 0; i < c.m.p.n; i++) {
        const uf_pdesc *d = &c.m.p.d[i];
        char what[160];
        snprintf(what, sizeof what, "%s %s %s", arch_name, train ? "train" : "eval", d->name);
        fd_check_dir(what, c.m.p.w + d->offset, d->count, g + d->offset, model_loss, &c, 2e-4f);
    }
    free(g);
    free(c.x);
    uf_model_free(&c.m);
}

int main(void)
{
    test_conv(2, 3, 7, 6, 4, 3, 2, 1);
    test_conv(2, 4, 5, 5, 3, 1, 1, 0);
    test_conv(1, 2, 9, 9, 3, 7, 2, 3);
    test_conv(3, 4, 2, 2, 3, 3, 2, 1); /* taps that see only padding are skipped */
    test_bn(1);
    test_bn(0);
    test_pools();
    test_linear();
    test_xent();
    test_model("small:4,6:1,1", 1);
    test_model("small:4,6:1,1", 0);
    test_model("small:4,6:1,1:bottleneck", 0);
    CHECK_DONE();
}
