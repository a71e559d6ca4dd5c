/* uotft export's library side: a model's state dict (uf_model_state_dict)
 * written by uf_torch_save and read back by the engine's own reader
 * (uf_torch_state_dict, then uf_model_load_dict into a fresh model) comes
 * back in the same order with the same names, types, shapes and bytes, and
 * the fresh model's parameters and running statistics are bit-identical, for
 * a random-init ResNet-18 and the committed mini checkpoints. A dict of
 * writer edge cases the models lack (an empty and a 0-d tensor, counts past
 * 2^16, negative and 2^40 int64 values, 1001 entries: two SETITEMS batches,
 * memo indices past 255) round-trips through uf_torch_load too.
 * Also writes the fixtures of tests/oracle/export_torch.py: the ResNet-18 as a
 * uotft checkpoint and the edge cases as edge.pth.
 * usage: test_nn_export OUTDIR MINI_PRETRAIN_DIR */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "io/torchsave.h"
#include "nn/ckpt.h"
#include "nn/weights.h"

/* The edge-case dict (tests/oracle/export_torch.py expects the same). */
enum { EDGE_N = 1001, EDGE_LONG = 70000 };

#define TRY(call)                                                                               \
    do {                                                                                        \
        if ((call) != 0) {                                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, e.msg);        \
            check_failures++;                                                                   \
            goto done;                                                                          \
        }                                                                                       \
    } while (0)

/* torchvision's init, then BatchNorm values away from theirs (1, 0, 0, 1),
 * so that a swapped or misnamed statistic changes the outputs. */
static int make_resnet18(uf_model *m, uf_err *e)
{
    uf_arch a;
    uf_head_spec h[1] = {{"fc", 10, UF_HEAD_LINEAR}};
    if (uf_arch_parse("resnet18", &a, e) || uf_model_create(m, &a, h, 1, e))
        return -1;
    uf_model_init_weights(m, 7);
    for (int b = 0; b < m->nbn; b++) {
        const uf_bn_layer *L = &m->bn[b];
        float *v[4] = {m->p.w + m->p.d[L->gamma].offset, m->p.w + m->p.d[L->beta].offset,
                       m->buf.w + m->buf.d[L->rmean].offset, m->buf.w + m->buf.d[L->rvar].offset};
        const float lo[4] = {0.8f, -0.1f, -0.1f, 0.5f}, span[4] = {0.4f, 0.2f, 0.2f, 1.0f};
        for (int j = 0; j < 4; j++)
            for (int c = 0; c < L->bn.c; c++)
                v[j][c] = lo[j] + span[j] * (float)uf_rng_uniform(11, (uint64_t)(4 * b + j), (uint64_t)c);
    }
    return 0;
}

static void same_dicts(const uf_tensor_dict *a, const uf_tensor_dict *b, const char *what)
{
    if (a->n != b->n) {
        fprintf(stderr, "%s: %d tensors written, %d read\n", what, a->n, b->n);
        check_failures++;
        return;
    }
    for (int i = 0; i < a->n; i++) {
        const uf_array *x = &a->t[i].a, *y = &b->t[i].a;
        int same = strcmp(a->t[i].name, b->t[i].name) == 0 && x->dtype == y->dtype && x->ndim == y->ndim;
        for (int k = 0; same && k < x->ndim; k++)
            same = x->shape[k] == y->shape[k];
        if (!same || memcmp(x->data, y->data, uf_array_count(x) * uf_dtype_size(x->dtype)) != 0) {
            fprintf(stderr, "%s: tensor %d ('%s') differs from the one written ('%s')\n", what, i, b->t[i].name,
                    a->t[i].name);
            check_failures++;
        }
    }
}

static void same_table(const uf_params *a, const uf_params *b, const char *what)
{
    for (int i = 0; i < a->n; i++)
        if (memcmp(a->w + a->d[i].offset, b->w + b->d[i].offset, sizeof(float) * a->d[i].count) != 0) {
            fprintf(stderr, "%s: '%s' is not bit-identical after the round trip\n", what, a->d[i].name);
            check_failures++;
        }
}

/* m -> path -> the engine's reader -> a fresh model */
static void round_trip(const uf_model *m, const char *path)
{
    uf_err e;
    uf_tensor_dict want = {0}, got = {0};
    uf_model back;
    int built = 0;
    uf_head_spec heads[UF_MAX_HEADS];
    for (int h = 0; h < m->nhead; h++)
        heads[h] = m->head[h].s;
    TRY(uf_model_state_dict(m, &want, &e));
    CHECK(want.n == m->p.n + m->buf.n + m->nbn);
    TRY(uf_torch_save(path, &want, &e));
    TRY(uf_torch_state_dict(path, NULL, NULL, &got, &e));
    same_dicts(&want, &got, path);
    TRY(uf_model_create(&back, &m->arch, heads, m->nhead, &e));
    built = 1;
    TRY(uf_model_load_dict(&back, &got, path, 1, &e));
    same_table(&m->p, &back.p, path);
    same_table(&m->buf, &back.buf, path);
done:
    if (built)
        uf_model_free(&back);
    uf_tensor_dict_free(&want);
    uf_tensor_dict_free(&got);
}

static int edge_tensor(uf_tensor *t, int i, uf_err *e)
{
    static const int64_t empty[2] = {0, 3}, longv[1] = {EDGE_LONG}, ints[2] = {2, 3}, one[1] = {1};
    static const int64_t ival[6] = {-1, 0, 1, 255, 65536, (int64_t)1 << 40};
    char name[32];
    snprintf(name, sizeof name, "t%d", i);
    if (!(t->name = strdup(name)))
        return uf_fail(e, "out of memory");
    switch (i) {
    case 0: return uf_array_alloc(&t->a, UF_F32, 2, empty, e);
    case 1: return uf_array_alloc(&t->a, UF_F32, 0, NULL, e) || (*(float *)t->a.data = -2.5f, 0);
    case 2:
        if (uf_array_alloc(&t->a, UF_F32, 1, longv, e))
            return -1;
        for (int k = 0; k < EDGE_LONG; k++)
            ((float *)t->a.data)[k] = 0.5f * (float)k;
        return 0;
    case 3: return uf_array_alloc(&t->a, UF_I64, 2, ints, e) || (memcpy(t->a.data, ival, sizeof ival), 0);
    default: return uf_array_alloc(&t->a, UF_F32, 1, one, e) || (*(float *)t->a.data = (float)i, 0);
    }
}

static void edge_cases(const char *path)
{
    uf_err e;
    uf_tensor_dict want = {0}, got = {0};
    if (!(want.t = calloc(EDGE_N, sizeof *want.t))) {
        fprintf(stderr, "out of memory\n");
        check_failures++;
        return;
    }
    for (; want.n < EDGE_N; want.n++)
        TRY(edge_tensor(&want.t[want.n], want.n, &e));
    TRY(uf_torch_save(path, &want, &e));
    TRY(uf_torch_load(path, "", NULL, &got, &e));
    same_dicts(&want, &got, path);
done:
    want.n += want.n < EDGE_N; /* the tensor being made when it failed */
    uf_tensor_dict_free(&want);
    uf_tensor_dict_free(&got);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUTDIR MINI_PRETRAIN_DIR\n", argv[0]);
        return 2;
    }
    const char *out = argv[1], *mini = argv[2];
    uf_err e;
    uf_model m;
    CHECK_OK(uf_mkdirs(out, &e), e);
    if (make_resnet18(&m, &e) == 0) {
        uf_sgd opt = {0};
        uf_train_state ts = {0};
        CHECK_OK(uf_ckpt_save(check_path(out, "resnet18-init.ckpt"), &m, &opt, &ts, &e), e);
        round_trip(&m, check_path(out, "resnet18-init.pth"));
        uf_model_free(&m);
    } else {
        fprintf(stderr, "resnet18: %s\n", e.msg);
        check_failures++;
    }
    static const char *const ckpts[2] = {"supervised", "moco-v2"};
    for (int i = 0; i < 2; i++) {
        char in[4096], pth[4096];
        snprintf(in, sizeof in, "%s/%s.ckpt", mini, ckpts[i]);
        snprintf(pth, sizeof pth, "%s/%s.pth", out, ckpts[i]);
        if (uf_ckpt_load_model(in, &m, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            check_failures++;
            continue;
        }
        round_trip(&m, pth);
        uf_model_free(&m);
    }
    edge_cases(check_path(out, "edge.pth"));
    CHECK_DONE();
}
