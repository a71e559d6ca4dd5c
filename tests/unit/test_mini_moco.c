/* MoCo v2's pieces against torch (tests/oracle/mini_moco.py), in float64
 * there from the same float32 inputs:
 *  - InfoNCE (normalisation, logits, cross-entropy, scale): loss and the
 *    gradient on the head output to 1e-5 (max-relative);
 *  - a small ResNet with the MLP head trained through InfoNCE: head output
 *    and loss to 1e-5, every parameter gradient (MLP head included) to 1e-4
 *    max-relative in eval mode and 1e-3 in norm in train mode (torch's own
 *    float32 gradients are within 1e-6 of float64 here, the oracle checks);
 *  - three uf_moco_step calls (one BatchNorm group) against moco/builder.py's
 *    forward plus torch.optim.SGD: each loss to 1e-5, then every query and key
 *    parameter and running statistic and the queue to 1e-4.
 * Usage: test_mini_moco REFDIR */
#include "test_nn_util.h"
#include "nn/loss.h"
#include "train/moco.h"

static const char *ref;

/* Every tensor of a table from dir/<name>.npy. */
static void load_table(const char *dir, uf_params *p)
{
    for (int i = 0; i < p->n; i++) {
        uf_array s;
        float *v = load_f32(dir, p->d[i].name, &s);
        if (!v)
            continue;
        CHECK(uf_array_count(&s) == p->d[i].count);
        if (uf_array_count(&s) == p->d[i].count)
            memcpy(p->w + p->d[i].offset, v, sizeof(float) * p->d[i].count);
        free(v);
    }
}

/* Every tensor of a table against dir/<name>.npy; gradients when grads. */
static void check_table(const char *dir, const uf_params *p, int grads, double tol, int norm)
{
    for (int i = 0; i < p->n; i++)
        check_ref_as(dir, p->d[i].name, (grads ? p->g : p->w) + p->d[i].offset, p->d[i].count, tol, norm);
}

static void test_infonce(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/infonce", ref);
    float *z = load_f32(dir, "z", NULL), *kp = load_f32(dir, "kpos", NULL), *qu = load_f32(dir, "queue", NULL);
    float dz[6 * 8];
    double loss;
    uf_err e;
    if (!z || !kp || !qu)
        return;
    CHECK_OK(uf_infonce(6, 8, 16, z, kp, qu, 0.2, 0.5f, dz, &loss, &e), e);
    float l = (float)loss;
    check_ref(dir, "loss", &l, 1, 1e-5);
    check_ref(dir, "dz", dz, 6 * 8, 1e-5);
    /* a zero query has no direction: refused */
    memset(z, 0, sizeof(float) * 8);
    CHECK(uf_infonce(6, 8, 16, z, kp, qu, 0.2, 1, dz, &loss, &e) != 0 && strstr(e.msg, "query 0"));
    free(z), free(kp), free(qu);
}

static void test_model(void)
{
    char dir[2048], sub[4096];
    snprintf(dir, sizeof dir, "%s/model", ref);
    uf_arch a;
    uf_model m;
    uf_err e;
    uf_head_spec head = {"fc", 5, UF_HEAD_MLP};
    CHECK_OK(uf_arch_parse("small:4,8:1,1", &a, &e), e);
    CHECK_OK(uf_model_create(&m, &a, &head, 1, &e), e);
    if (check_failures)
        return;
    snprintf(sub, sizeof sub, "%s/params", dir);
    load_table(sub, &m.p);
    load_table(sub, &m.buf);
    float *x = load_f32(dir, "x", NULL), *kp = load_f32(dir, "kpos", NULL), *qu = load_f32(dir, "queue", NULL);
    float dz[4 * 5];
    if (!x || !kp || !qu)
        return;
    for (int train = 0; train <= 1; train++) {
        const char *mode = train ? "train" : "eval";
        double loss;
        const float *dl[1] = {dz};
        uf_params_zero_grad(&m.p);
        CHECK_OK(uf_model_forward(&m, x, 4, 12, 12, train, 1, &e), e);
        CHECK_OK(uf_infonce(4, 5, 8, uf_model_head_out(&m, 0), kp, qu, 0.2, 1, dz, &loss, &e), e);
        CHECK_OK(uf_model_backward(&m, dl, &e), e);
        float l = (float)loss;
        snprintf(sub, sizeof sub, "%s/%s", dir, mode);
        check_ref(sub, "out", uf_model_head_out(&m, 0), 4 * 5, 1e-5);
        check_ref(sub, "loss", &l, 1, 1e-5);
        snprintf(sub, sizeof sub, "%s/%s/grads", dir, mode);
        check_table(sub, &m.p, 1, train ? 1e-3 : 1e-4, train);
    }
    free(x), free(kp), free(qu);
    uf_model_free(&m);
}

static void test_steps(void)
{
    char dir[2048], sub[4096], name[64];
    snprintf(dir, sizeof dir, "%s/steps", ref);
    uf_arch a;
    uf_moco mc;
    uf_err e;
    uf_moco_cfg c = {.dim = 5, .queue = 8, .m = 0.99, .t = 0.2, .groups = 1};
    CHECK_OK(uf_arch_parse("small:4,8:1,1", &a, &e), e);
    CHECK_OK(uf_moco_create(&mc, &a, &c, &e), e);
    if (check_failures)
        return;
    snprintf(sub, sizeof sub, "%s/model/params", ref);
    load_table(sub, &mc.q.p);
    load_table(sub, &mc.q.buf);
    load_table(sub, &mc.k.p);
    load_table(sub, &mc.k.buf);
    uf_array s;
    float *q0 = load_f32(dir, "queue0", &s);
    if (!q0)
        return;
    memcpy(mc.queue.w, q0, sizeof(float) * 8 * 5);
    uf_sgd opt = {.momentum = 0.9};
    for (int g = 0; g < UF_SGD_GROUPS; g++) {
        opt.lr[g] = 0.05;
        opt.weight_decay[g] = 1e-4;
    }
    float losses[3];
    for (int step = 0; step < 3; step++) {
        snprintf(name, sizeof name, "xq%d", step);
        float *xq = load_f32(dir, name, NULL);
        snprintf(name, sizeof name, "xk%d", step);
        float *xk = load_f32(dir, name, NULL);
        double loss = 0;
        if (xq && xk)
            CHECK_OK(uf_moco_step(&mc, &opt, xq, xk, 4, 12, 12, 0, step, &loss, &e), e);
        losses[step] = (float)loss;
        free(xq), free(xk);
    }
    check_ref(dir, "losses", losses, 3, 1e-5);
    snprintf(sub, sizeof sub, "%s/q", dir);
    check_table(sub, &mc.q.p, 0, 1e-4, 0);
    check_table(sub, &mc.q.buf, 0, 1e-4, 0);
    snprintf(sub, sizeof sub, "%s/k", dir);
    check_table(sub, &mc.k.p, 0, 1e-4, 0);
    check_table(sub, &mc.k.buf, 0, 1e-4, 0);
    check_ref(dir, "queue", mc.queue.w, 8 * 5, 1e-4);
    /* a batch that does not divide the queue is refused */
    double loss;
    CHECK(uf_moco_step(&mc, &opt, q0, q0, 3, 12, 12, 0, 3, &loss, &e) != 0 && strstr(e.msg, "divide the queue"));
    free(q0);
    uf_moco_free(&mc);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_mini_moco REFDIR\n");
        return 2;
    }
    ref = argv[1];
    test_infonce();
    test_model();
    test_steps();
    CHECK_DONE();
}
