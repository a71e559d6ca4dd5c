/* uotft export: a model as a PyTorch state dict (torch.save's zip format),
 * for torch.load(weights_only=True) and load_state_dict(strict=True). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/fileio.h"
#include "io/torchsave.h"
#include "nn/ckpt.h"
#include "nn/weights.h"

static const char *const help =
    "usage: uotft export --ckpt C --out M.pth [--arch A]\n"
    "\n"
    "Writes the model in C as a state dict with torchvision's names and order, in the\n"
    "zip format of torch.save (torch >= 1.6), so that in Python\n"
    "  sd = torch.load(\"M.pth\", weights_only=True)\n"
    "  torchvision.models.resnet18(num_classes=N).load_state_dict(sd)   # strict\n"
    "works for a model of that architecture (small:... ResNets: the transcription in\n"
    "tests/oracle/nn_models.py). Every parameter and BatchNorm running statistic is\n"
    "float32; each BatchNorm also gets num_batches_tracked, int64 0 (torch uses it only\n"
    "with momentum=None). Heads keep their names: a linear head fc is fc.weight/fc.bias,\n"
    "MoCo v2's MLP head is fc.0.* and fc.2.* (nn.Sequential(Linear, ReLU, Linear)).\n"
    "The optimiser state and MoCo's key encoder and queue are not exported.\n"
    "\n"
    "--ckpt: a uotft checkpoint (uotft pretrain's NAME.ckpt), or a torch.save file the\n"
    "engine reads (torchvision's or MoCo's weights, state dict found as uotft forward\n"
    "finds it) with --arch naming its architecture; a head fc (linear, or MLP when\n"
    "fc.2.weight is there) is kept when the file has one.\n"
    "--out: written under a temporary name and renamed: a failure leaves no file.\n";

enum { O_CKPT = 256, O_OUT, O_ARCH, O_HELP };

static const struct option opts[] = {
    {"ckpt", required_argument, 0, O_CKPT}, {"out", required_argument, 0, O_OUT},
    {"arch", required_argument, 0, O_ARCH}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* A torch.save file through the model, so names and shapes are checked
 * against the architecture and the BatchNorm counters are added. */
static int load_pth(const char *path, const char *arch, uf_model *m, uf_err *e)
{
    uf_tensor_dict d = {0};
    if (uf_torch_state_dict(path, NULL, NULL, &d, e))
        return uf_wrap(e, "%s: neither a uotft checkpoint nor a readable torch.save file", path);
    uf_arch a;
    uf_head_spec h = {.name = "fc", .kind = UF_HEAD_MLP};
    const uf_tensor *t = uf_tensor_dict_get(&d, "fc.2.weight");
    if (!t && (t = uf_tensor_dict_get(&d, "fc.weight")))
        h.kind = UF_HEAD_LINEAR;
    int rc = arch ? uf_arch_parse(arch, &a, e) : uf_fail(e, "%s: a torch.save file: --arch is needed", path);
    if (rc == 0 && t && t->a.ndim != 2)
        rc = uf_fail(e, "%s: head tensor has %d dimensions, not 2", path, t->a.ndim);
    if (t)
        h.out = (int)t->a.shape[0];
    if (rc == 0)
        rc = uf_model_create(m, &a, &h, t ? 1 : 0, e);
    if (rc == 0 && (rc = uf_model_load_dict(m, &d, path, 1, e)) != 0)
        uf_model_free(m);
    uf_tensor_dict_free(&d);
    return rc;
}

static int load(const char *path, const char *arch, uf_model *m, uf_err *e)
{
    if (!uf_is_file(path))
        return uf_fail(e, "%s: no such file", path);
    if (!uf_ckpt_is(path))
        return load_pth(path, arch, m, e);
    if (uf_ckpt_load_model(path, m, e))
        return -1;
    if (arch && strcmp(arch, m->arch.name) != 0) {
        uf_fail(e, "%s: a checkpoint of %s, not %s", path, m->arch.name, arch);
        uf_model_free(m);
        return -1;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *cmd = "export", *ckpt = NULL, *out = NULL, *arch = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CKPT: ckpt = optarg; break;
        case O_OUT: out = optarg; break;
        case O_ARCH: arch = optarg; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unrecognised option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!ckpt || !out)
        return cli_usage_error(cmd, "--ckpt and --out are required");
    uf_err e;
    uf_model m;
    if (load(ckpt, arch, &m, &e))
        return cli_error(cmd, &e);
    uf_tensor_dict d;
    int rc = uf_model_state_dict(&m, &d, &e);
    if (rc == 0) {
        rc = uf_torch_save(out, &d, &e);
        uf_tensor_dict_free(&d);
    }
    uf_model_free(&m);
    return rc ? cli_error(cmd, &e) : 0;
}
