#define _GNU_SOURCE
/* Checkpoints: a run stopped after 5 SGD steps and resumed from its
 * checkpoint in a fresh model ends bit-identical to an uninterrupted 10-step
 * run (weights, running statistics, momentum, train state); a save of a
 * loaded checkpoint reproduces the file byte for byte; a flipped byte, a
 * truncation, a foreign file and a different architecture are refused with
 * the file named, and a failed save leaves no file. */
#include <unistd.h>

#include "test_nn_util.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "nn/ckpt.h"
#include "nn/loss.h"

enum { N = 6, H = 12, K = 5 };

static const char *ARCH = "small:4,8:1,1";

static void make_model(uf_model *m, const char *arch)
{
    uf_arch a;
    uf_err e;
    uf_head_spec heads[1] = {{"fc", K, UF_HEAD_LINEAR}};
    CHECK_OK(uf_arch_parse(arch, &a, &e), e);
    CHECK_OK(uf_model_create(m, &a, heads, 1, &e), e);
}

/* Steps [from, to): the batch of step s is a function of (seed, s), as a trainer's would be. */
static void train(uf_model *m, uf_sgd *opt, uf_train_state *ts, int to)
{
    static float x[N * 3 * H * H], d[N * K];
    int labels[N];
    const int milestones[1] = {7};
    uf_err e;
    for (int s = (int)ts->step; s < to; s++) {
        for (int i = 0; i < N * 3 * H * H; i++)
            x[i] = (float)(uf_rng_uniform(ts->seed, 100 + (uint64_t)s, (uint64_t)i) - 0.5);
        for (int i = 0; i < N; i++)
            labels[i] = (int)(uf_rng_u64(ts->seed, 200 + (uint64_t)s, (uint64_t)i) % K);
        double loss;
        CHECK_OK(uf_model_forward(m, x, N, H, H, 1, 1, &e), e);
        CHECK_OK(uf_xent_hard(N, K, uf_model_head_out(m, 0), labels, 1, d, &loss, &e), e);
        const float *dl[1] = {d};
        uf_params_zero_grad(&m->p);
        CHECK_OK(uf_model_backward(m, dl, &e), e);
        opt->lr[0] = uf_multistep_lr(0.05, s, milestones, 1, 0.1);
        opt->lr[1] = 10 * opt->lr[0];
        uf_sgd_step(opt, &m->p);
        ts->step = s + 1;
        ts->rng[0] = (uint64_t)s + 1; /* the data stream position */
    }
}

/* A run from seed 9's weights for `steps` steps. */
static void fresh_run(uf_model *m, uf_sgd *opt, uf_train_state *ts, int steps)
{
    make_model(m, ARCH);
    uf_model_init_weights(m, 9);
    *opt = (uf_sgd){.momentum = 0.9, .nesterov = 1, .weight_decay = {1e-3, 1e-3}};
    *ts = (uf_train_state){.seed = 42};
    train(m, opt, ts, steps);
}

static void expect_fail(const char *path, uf_model *m, const char *needle)
{
    uf_err e = {{0}};
    if (uf_ckpt_load(path, m, NULL, NULL, &e) == 0) {
        fprintf(stderr, "loading %s succeeded, expected '%s'\n", path, needle);
        check_failures++;
    } else if (!strstr(e.msg, needle) || !strstr(e.msg, path)) {
        fprintf(stderr, "loading %s: '%s' lacks '%s' or the file name\n", path, e.msg, needle);
        check_failures++;
    }
}

int main(void)
{
    char dir[] = "/tmp/uotft-ckpt-XXXXXX", path[256], path2[256], bad[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    snprintf(path2, sizeof path2, "%s/again.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    uf_err e;

    /* uninterrupted */
    uf_model a;
    uf_sgd oa;
    uf_train_state ta;
    fresh_run(&a, &oa, &ta, 10);

    /* 5 steps, checkpoint, a fresh process's view: a new model built from the file */
    uf_model b;
    uf_sgd ob;
    uf_train_state tb;
    fresh_run(&b, &ob, &tb, 5);
    CHECK_OK(uf_ckpt_save(path, &b, &ob, &tb, &e), e);
    uf_model_free(&b);

    uf_arch arch;
    uf_head_spec heads[UF_MAX_HEADS];
    int nh = 0;
    CHECK_OK(uf_ckpt_read_arch(path, &arch, heads, &nh, &e), e);
    CHECK(strcmp(arch.name, ARCH) == 0 && nh == 1 && heads[0].out == K && strcmp(heads[0].name, "fc") == 0);
    uf_model c;
    CHECK_OK(uf_model_create(&c, &arch, heads, nh, &e), e);
    uf_sgd oc;
    uf_train_state tc;
    CHECK_OK(uf_ckpt_load(path, &c, &oc, &tc, &e), e);
    CHECK(tc.step == 5 && tc.seed == 42 && tc.rng[0] == 5 && oc.steps == 5 && oc.nesterov == 1);
    CHECK_OK(uf_ckpt_save(path2, &c, &oc, &tc, &e), e);
    char *f1, *f2;
    size_t n1, n2;
    CHECK_OK(uf_read_file(path, &f1, &n1, &e), e);
    CHECK_OK(uf_read_file(path2, &f2, &n2, &e), e);
    CHECK(n1 == n2 && memcmp(f1, f2, n1) == 0);
    train(&c, &oc, &tc, 10);
    CHECK(tc.step == ta.step && oc.steps == oa.steps);
    CHECK(memcmp(a.p.w, c.p.w, sizeof(float) * a.p.total) == 0);
    CHECK(memcmp(a.p.m, c.p.m, sizeof(float) * a.p.total) == 0);
    CHECK(memcmp(a.buf.w, c.buf.w, sizeof(float) * a.buf.total) == 0);

    /* bad input */
    FILE *f = fopen(bad, "wb");
    f1[n1 - 100] ^= 1;
    fwrite(f1, 1, n1, f);
    fclose(f);
    expect_fail(bad, &c, "checksum");
    f1[n1 - 100] ^= 1;
    f = fopen(bad, "wb");
    fwrite(f1, 1, n1 / 2, f);
    fclose(f);
    expect_fail(bad, &c, "truncated");
    f = fopen(bad, "wb");
    fputs("PK\003\004 not ours", f);
    fclose(f);
    expect_fail(bad, &c, "not a uotft checkpoint");
    CHECK(!uf_ckpt_is(bad) && uf_ckpt_is(path));
    uf_model other;
    make_model(&other, "small:4,8:1,2");
    expect_fail(path, &other, "small:4,8:1,1");
    uf_model_free(&other);
    make_model(&other, "small:4,6:1,1"); /* same tensor names, other widths */
    strcpy(other.arch.name, ARCH);         /* past the name check, to the shape check */
    expect_fail(path, &other,
                "'layer2.0.conv1.weight' (8, 4, 3, 3) in the file, but 'layer2.0.conv1.weight' (6, 4, 3, 3)");
    uf_model_free(&other);
    CHECK(uf_ckpt_save("/proc/uotft-no-such/x.ckpt", &c, &oc, &tc, &e) != 0);
    CHECK(!uf_is_file("/proc/uotft-no-such/x.ckpt"));

    free(f1), free(f2);
    uf_model_free(&a);
    uf_model_free(&c);
    unlink(path);
    unlink(path2);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    unlink(bad);
    rmdir(dir);
    CHECK_DONE();
}
