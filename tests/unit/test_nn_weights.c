/* torch.save files of whole models (tests/oracle/nn_weights.py) load by name
 * into the engine's ResNets and give torch's eval-mode outputs to 1e-4
 * (relative to the largest magnitude): ResNet-18 from the zip and the legacy
 * format, ResNet-50 from zip, and a MoCo v2 checkpoint's 2048-d feature and
 * 128-d MLP output, with the state dict found automatically and by explicit
 * key and prefix. A shape mismatch and a missing tensor are refused with the
 * tensor, the shapes and the file named.
 * Usage: test_nn_weights DIR */
#include "test_nn_util.h"
#include "nn/weights.h"

static const char *dir;

static void path_of(char *buf, size_t n, const char *f) { snprintf(buf, n, "%s/%s", dir, f); }

/* file -> arch with one head (kind, out; out 0: none) -> output compared with ref */
static void check_file(const char *file, const char *key, const char *prefix, const char *arch, uf_head_kind kind,
                       int out, const char *ref)
{
    char path[4096];
    uf_err e;
    uf_arch a;
    uf_model m;
    uf_tensor_dict d = {0};
    uf_head_spec h = {"fc", out, kind};
    path_of(path, sizeof path, file);
    if (uf_torch_state_dict(path, key, prefix, &d, &e) || uf_arch_parse(arch, &a, &e) ||
        uf_model_create(&m, &a, &h, out ? 1 : 0, &e)) {
        CHECK_OK(-1, e);
        uf_tensor_dict_free(&d);
        return;
    }
    CHECK_OK(uf_model_load_dict(&m, &d, path, 1, &e), e);
    uf_array xs;
    float *x = load_f32(dir, "x", &xs);
    CHECK_OK(uf_model_forward(&m, x, (int)xs.shape[0], (int)xs.shape[2], (int)xs.shape[3], 0, 0, &e), e);
    check_ref(dir, ref, out ? uf_model_head_out(&m, 0) : uf_model_features(&m),
              (size_t)xs.shape[0] * (out ? (size_t)out : (size_t)m.feat_dim), 1e-4);
    free(x);
    uf_model_free(&m);
    uf_tensor_dict_free(&d);
}

static void check_refused(const char *file, const char *arch, const char *needle)
{
    char path[4096];
    uf_err e = {{0}};
    uf_arch a;
    uf_model m;
    uf_tensor_dict d = {0};
    path_of(path, sizeof path, file);
    uf_head_spec h = {"fc", 1000, UF_HEAD_LINEAR};
    CHECK_OK(uf_torch_state_dict(path, NULL, NULL, &d, &e), e);
    CHECK_OK(uf_arch_parse(arch, &a, &e), e);
    CHECK_OK(uf_model_create(&m, &a, &h, 1, &e), e);
    if (uf_model_load_dict(&m, &d, path, 1, &e) == 0) {
        fprintf(stderr, "%s as %s: loaded, expected an error with '%s'\n", file, arch, needle);
        check_failures++;
    } else if (!strstr(e.msg, needle) || !strstr(e.msg, path)) {
        fprintf(stderr, "%s as %s: '%s' lacks '%s' or the file name\n", file, arch, e.msg, needle);
        check_failures++;
    }
    uf_model_free(&m);
    uf_tensor_dict_free(&d);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_nn_weights DIR\n");
        return 2;
    }
    dir = argv[1];
    check_file("resnet18-zip.pth", NULL, NULL, "resnet18", UF_HEAD_LINEAR, 1000, "resnet18_logits");
    check_file("resnet18-legacy.pth", NULL, NULL, "resnet18", UF_HEAD_LINEAR, 1000, "resnet18_logits");
    check_file("resnet18-legacy.pth", NULL, NULL, "resnet18", UF_HEAD_LINEAR, 0, "resnet18_features");
    check_file("resnet50-zip.pth", NULL, NULL, "resnet50", UF_HEAD_LINEAR, 1000, "resnet50_logits");
    check_file("moco-legacy.pth.tar", NULL, NULL, "resnet50", UF_HEAD_MLP, 128, "moco_mlp");
    check_file("moco-legacy.pth.tar", "state_dict", "module.encoder_q.", "resnet50", UF_HEAD_MLP, 0,
               "moco_features");
    check_refused("bad/shape.pth", "resnet18",
                  "'layer1.0.conv1.weight' has shape (64, 64, 1, 1) in the file but (64, 64, 3, 3) in resnet18");
    check_refused("resnet18-zip.pth", "resnet101", "'layer1.0.conv1.weight' has shape (64, 64, 3, 3) in the file");
    check_refused("resnet18-zip.pth", "resnet34", "no tensor 'layer1.2.conv1.weight', which resnet34 needs");
    CHECK_DONE();
}
