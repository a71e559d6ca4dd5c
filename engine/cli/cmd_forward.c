/* uotft forward: a ResNet's logits, pooled features or MoCo head output for
 * a batch of images, in eval mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/alloc.h"
#include "io/npy.h"
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
    uf_model_output what = UF_OUT_LOGITS;
    int c, modes = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_ARCH: arch = optarg; break;
        case O_WEIGHTS: weights = optarg; break;
        case O_INPUT: input = optarg; break;
        case O_OUT: out = optarg; break;
        case O_FEATURES: what = UF_OUT_FEATURES, modes++; break;
        case O_MLP: what = UF_OUT_MLP, modes++; break;
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
    int head, rc = uf_model_from_file(weights, arch, key, prefix, what, &m, &head, &e);
    if (rc == 0) {
        rc = run(&m, head, &x, batch, out, &e);
        uf_model_free(&m);
    }
    uf_array_free(&x);
    return rc ? cli_error(cmd, &e) : 0;
}
