/* uf_sgd_step and uf_multistep_lr against torch.optim.SGD and MultiStepLR
 * (tests/oracle/nn_sgd.py): Nesterov, dampening and plain SGD, weight decay
 * with a tensor exempt from it, a head group at 10x the learning rate; every
 * tensor after each of six steps to 1e-6 relative (both sides in float32).
 * Usage: test_nn_sgd REFDIR */
#include "test_nn_util.h"
#include "nn/params.h"
#include "nn/sgd.h"

static void run(const char *root, const char *config, double momentum, double dampening, int nesterov)
{
    char dir[4096], name[64];
    snprintf(dir, sizeof dir, "%s/%s", root, config);
    uf_params p = {0};
    uf_err e;
    static const int64_t shapes[3][2] = {{4, 3}, {7, 0}, {2, 5}};
    static const int ndims[3] = {2, 1, 2}, decay[3] = {1, 0, 1}, group[3] = {0, 0, 1};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "t%d", i);
        CHECK(uf_params_add(&p, name, ndims[i], shapes[i], decay[i], group[i], &e) == i);
    }
    CHECK_OK(uf_params_alloc(&p, 1, &e), e);
    for (int i = 0; i < 3; i++) {
        float *t = load_f32(dir, p.d[i].name, NULL);
        if (t)
            memcpy(p.w + p.d[i].offset, t, sizeof(float) * p.d[i].count);
        free(t);
    }
    const int milestones[2] = {2, 4};
    uf_sgd opt = {.momentum = momentum, .dampening = dampening, .nesterov = nesterov,
                  .weight_decay = {0.01, 0.01}};
    for (int s = 0; s < 6; s++) {
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "g%d_%d", s, i);
            float *g = load_f32(dir, name, NULL);
            if (g)
                memcpy(p.g + p.d[i].offset, g, sizeof(float) * p.d[i].count);
            free(g);
        }
        opt.lr[0] = uf_multistep_lr(0.05, s, milestones, 2, 0.1);
        opt.lr[1] = uf_multistep_lr(0.5, s, milestones, 2, 0.1);
        uf_sgd_step(&opt, &p);
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "w%d_%d", s, i);
            check_ref(dir, name, p.w + p.d[i].offset, p.d[i].count, 1e-6);
        }
    }
    uf_params_free(&p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_nn_sgd REFDIR\n");
        return 2;
    }
    run(argv[1], "nesterov", 0.9, 0, 1);
    run(argv[1], "dampening", 0.9, 0.3, 0);
    run(argv[1], "plain", 0, 0, 0);
    CHECK(uf_multistep_lr(1, 0, (const int[]){3, 6}, 2, 0.5) == 1);
    CHECK(uf_multistep_lr(1, 3, (const int[]){3, 6}, 2, 0.5) == 0.5);
    CHECK(uf_multistep_lr(1, 7, (const int[]){3, 6}, 2, 0.5) == 0.25);
    CHECK_DONE();
}
