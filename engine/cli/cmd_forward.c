/* uotft forward: a ResNet's logits, pooled features or MoCo head output for
 * a batch of images, in eval mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "io/npy.h"
#include "nn/ckpt.h"
#include "nn/weights.h"

static const char *const help =
    "usage: uotft forward --arch A --weights W --input X.npy --out Y.npy [--features | --mlp]\n"
    "                     [--key K] [--prefix P] [--batch B] [--threads N]\n"
    "\n"
    "Runs the network in eval mode (BatchNorm running statistics) on X, an (N, 3, H, W)\n"
    "float .npy of normalised images, and writes Y, (N, D) float32:\n"
    "  default      the logits of head fc (D = its rows, 1000 for torchvision's files)\n"
    "  --features   the pooled feature after the last block (512 / 2048)\n"
    "  --mlp        MoCo v2's projection head fc.0 -> ReLU -> fc.2 (128)\n"
    "\n"
    "--arch: resnet18, resnet34, resnet50, resnet101, or small:W1,W2,..:B1,B2,..[:bottleneck]\n"
    "(3x3 stem for 32 x 32 inputs). It may be left out with a uotft checkpoint, which names\n"
    "its own.\n"
    "--weights: a uotft checkpoint, or a torch.save file in any of its formats (torchvision's\n"
    "resnet18-f37072fd.pth, resnet18-5c106cde.pth, resnet50-0676ba61.pth; MoCo's\n"
    "moco_v2_800ep_pretrain.pth.tar). The state dict is found at the top level or under\n"
    "state_dict with prefix module.encoder_q., module. or none; --key and --prefix choose\n"
    "it explicitly. Every tensor the architecture needs must be there with its shape.\n"
    "--batch: images per forward pass (default 32); it changes the output only by float32\n"
    "rounding (the GEMMs' shapes change).\n";

enum { O_ARCH = 256, O_WEIGHTS, O_INPUT, O_OUT, O_FEATURES, O_MLP, O_KEY, O_PREFIX, O_BATCH, O_THREADS, O_HELP };

static const struct option opts[] = {
    {"arch", required_argument, 0, O_ARCH},     {"weights", required_argument, 0, O_WEIGHTS},
    {"input", required_argument, 0, O_INPUT},   {"out", required_argument, 0, O_OUT},
    {"features", no_argument, 0, O_FEATURES},   {"mlp", no_argument, 0, O_MLP},
    {"key", required_argument, 0, O_KEY},       {"prefix", required_argument, 0, O_PREFIX},
    {"batch", required_argument, 0, O_BATCH},   {"threads", required_argument, 0, O_THREADS},
    {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
};

enum output { OUT_LOGITS, OUT_FEATURES, OUT_MLP };

/* The head to build for a torch state dict, its size read from the file. */
static int torch_head(const uf_tensor_dict *d, enum output what, const char *path, uf_head_spec *h, uf_err *e)
{
    const char *name = what == OUT_MLP ? "fc.2.weight" : "fc.weight";
    const uf_tensor *t = uf_tensor_dict_get(d, name);
    if (!t || t->a.ndim != 2)
        return uf_fail(e, "%s: no 2-d tensor '%s' for %s", path, name,
                       what == OUT_MLP ? "--mlp (MoCo v2's fc.0/fc.2 head)"
                                       : "the logits (a backbone without classifier: use --features or --mlp)");
    *h = (uf_head_spec){.out = (int)t->a.shape[0], .kind = what == OUT_MLP ? UF_HEAD_MLP : UF_HEAD_LINEAR};
    strcpy(h->name, "fc");
    return 0;
}

/* Builds and fills the model from W; *head: the head whose output is wanted (-1: features). */
static int load_model(const char *arch_name, const char *weights, const char *key, const char *prefix,
                      enum output what, uf_model *m, int *head, uf_err *e)
{
    uf_arch a;
    uf_head_spec heads[UF_MAX_HEADS];
    int nh = 0;
    *head = -1;
    if (uf_ckpt_is(weights)) {
        if (uf_ckpt_read_arch(weights, &a, heads, &nh, e))
            return -1;
        if (arch_name && strcmp(arch_name, a.name) != 0)
            return uf_fail(e, "%s: a checkpoint of %s, not %s", weights, a.name, arch_name);
        if (uf_model_create(m, &a, heads, nh, e) || uf_ckpt_load(weights, m, NULL, NULL, e))
            return -1;
        for (int h = 0; h < nh && what != OUT_FEATURES; h++)
            if ((what == OUT_MLP) == (heads[h].kind == UF_HEAD_MLP) && (*head < 0 || !strcmp(heads[h].name, "fc")))
                *head = h;
        if (what != OUT_FEATURES && *head < 0)
            return uf_fail(e, "%s: no %s head in this checkpoint", weights, what == OUT_MLP ? "MLP" : "linear");
        return 0;
    }
    if (!arch_name)
        return uf_fail(e, "%s: --arch is needed with a torch.save file", weights);
    if (uf_arch_parse(arch_name, &a, e))
        return -1;
    uf_tensor_dict d = {0};
    if (uf_torch_state_dict(weights, key, prefix, &d, e))
        return -1;
    int rc = what != OUT_FEATURES ? torch_head(&d, what, weights, &heads[nh++], e) : 0;
    if (rc == 0)
        rc = uf_model_create(m, &a, heads, nh, e);
    if (rc == 0 && (rc = uf_model_load_dict(m, &d, weights, 1, e)) != 0)
        uf_model_free(m);
    uf_tensor_dict_free(&d);
    *head = nh ? 0 : -1;
    return rc;
}

/* x: (N, 3, H, W) -> y: (N, D), in batches */
static int run(uf_model *m, int head, const uf_array *x, long batch, const char *out, uf_err *e)
{
    const int n = (int)x->shape[0], h = (int)x->shape[2], w = (int)x->shape[3];
    const int dim = head < 0 ? m->feat_dim : m->head[head].s.out;
    const size_t per = (size_t)3 * h * w;
    int64_t shape[2] = {n, dim};
    uf_array y;
    float *xf = uf_calloc(per * (size_t)(batch < n ? batch : n), sizeof(float), e);
    if (!xf || uf_array_alloc(&y, UF_F32, 2, shape, e)) {
        free(xf);
        return -1;
    }
    int rc = 0;
    for (int i0 = 0; i0 < n && rc == 0; i0 += (int)batch) {
        int b = n - i0 < batch ? n - i0 : (int)batch;
        for (size_t k = 0; k < per * (size_t)b; k++)
            xf[k] = (float)uf_array_get(x, per * (size_t)i0 + k);
        if ((rc = uf_model_forward(m, xf, b, h, w, 0, 0, e)) == 0)
            memcpy((float *)y.data + (size_t)i0 * dim, head < 0 ? uf_model_features(m) : uf_model_head_out(m, head),
                   sizeof(float) * (size_t)b * dim);
    }
    if (rc == 0)
        rc = uf_npy_write(out, &y, e);
    free(xf);
    uf_array_free(&y);
    return rc;
}

int cmd_forward(int argc, char **argv)
{
    const char *cmd = "forward";
    const char *arch = NULL, *weights = NULL, *input = NULL, *out = NULL, *key = NULL, *prefix = NULL;
    long batch = 32, threads = 0;
    enum output what = OUT_LOGITS;
    int c, modes = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_ARCH: arch = optarg; break;
        case O_WEIGHTS: weights = optarg; break;
        case O_INPUT: input = optarg; break;
        case O_OUT: out = optarg; break;
        case O_FEATURES: what = OUT_FEATURES, modes++; break;
        case O_MLP: what = OUT_MLP, modes++; break;
        case O_KEY: key = optarg; break;
        case O_PREFIX: prefix = optarg; break;
        case O_BATCH: if (cli_int(cmd, "--batch", optarg, 1, 1 << 16, &batch)) return 2; break;
        case O_THREADS: if (cli_int(cmd, "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!weights || !input || !out)
        return cli_usage_error(cmd, "--weights, --input and --out are required");
    if (modes > 1)
        return cli_usage_error(cmd, "--features and --mlp exclude each other");
    if (prefix && !key)
        return cli_usage_error(cmd, "--prefix goes with --key");
    cli_set_threads(threads);

    uf_err e;
    uf_array x;
    if (uf_npy_read(input, &x, &e))
        return cli_error(cmd, &e);
    if (x.ndim != 4 || x.shape[1] != 3 || x.shape[0] < 1 || (x.dtype != UF_F32 && x.dtype != UF_F64)) {
        char s[128];
        uf_shape_str(&x, s, sizeof s);
        uf_fail(&e, "%s: expected float images (N, 3, H, W), got %s %s", input, uf_dtype_descr(x.dtype), s);
        uf_array_free(&x);
        return cli_error(cmd, &e);
    }
    uf_model m;
    int head, rc = load_model(arch, weights, key, prefix, what, &m, &head, &e);
    if (rc == 0) {
        rc = run(&m, head, &x, batch, out, &e);
        uf_model_free(&m);
    }
    uf_array_free(&x);
    return rc ? cli_error(cmd, &e) : 0;
}
