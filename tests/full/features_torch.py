"""uotft features --dataset against torchvision, on fixtures in the publishers' formats.

usage: features_torch.py UOTFT FIXTURES WORK_DIR
  - ResNet-18 (randomly initialised, random BatchNorm statistics, saved with torch.save as
    torchvision's state dict) on ImageNet's train tar of tars (RGB, grey, CMYK and a PNG named
    .JPEG) and CUB's tgz at 224 px: per-image pooled features equal torchvision's in eval mode on
    PIL Resize(256) + CenterCrop(224), ToTensor, Normalize, within float32 rounding; labels and
    counts exact; the means are numpy's per-class means of torch's features.
  - the MoCo v2 head: a ResNet-50 in MoCo's file layout (state_dict under module.encoder_q., fc an
    MLP 2048 -> 2048 -> 128) with --mlp at 64 px (Resize(73) + CenterCrop(64)): the 128-d output.
"""
import io
import os
import subprocess
import sys
import tarfile

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

uotft, fixtures, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
torch.manual_seed(0)
fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)


def randomise_bn(model):
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def member(archive, path):
    """Bytes of path inside archive; 'a.tar/b' is member b of the inner tar a.tar."""
    with tarfile.open(archive) as t:
        names = t.getnames()
        if path in names:
            return t.extractfile(path).read()
        outer, inner = path.split("/", 1)
        with tarfile.open(fileobj=io.BytesIO(t.extractfile(outer).read())) as u:
            return u.extractfile(inner).read()


def reference(model, archive, expect, size, head):
    rows = [line.rstrip("\n").split("\t") for line in open(expect).readlines()[1:]]
    tf = T.Compose([T.Resize(size * 256 // 224), T.CenterCrop(size), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    x = torch.stack([tf(Image.open(io.BytesIO(member(archive, s))).convert("RGB")) for s, _ in rows])
    with torch.no_grad():
        f = model(x) if head else torch.nn.Sequential(*list(model.children())[:-1])(x).flatten(1)  # pooled
    return f.numpy(), np.array([int(l) for _, l in rows])


def run(*args):
    r = subprocess.run([uotft, "features", "--threads", "2", "--batch", "4"] + list(args),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("uotft features %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))


def compare(tag, out, name, ref, labels, classes):
    X = np.load(os.path.join(out, name + ".features.npy"))
    y = np.load(os.path.join(out, name + ".labels.npy"))
    means = np.load(os.path.join(out, name + ".means.npy"))
    counts = np.load(os.path.join(out, name + ".counts.npy"))
    scale = np.abs(ref).max()
    err = np.abs(X - ref).max() / scale
    check(X.dtype == np.float32 and X.shape == ref.shape and err < 1e-4,
          "%s: features float32 %s, max error %.2e of the largest" % (tag, ref.shape, err))
    check(y.dtype == np.int64 and (y == labels).all(), "%s: labels in the split's order" % tag)
    want_counts = np.bincount(labels, minlength=classes)
    check(counts.dtype == np.int64 and (counts == want_counts).all(), "%s: counts" % tag)
    want = np.zeros((classes, ref.shape[1]))
    np.add.at(want, labels, ref.astype(np.float64))
    want /= np.maximum(want_counts, 1)[:, None]
    err = np.abs(means - want).max() / scale
    check(means.dtype == np.float64 and means.shape == want.shape and err < 1e-4,
          "%s: means float64 %s, max error %.2e" % (tag, want.shape, err))


r18 = randomise_bn(torchvision.models.resnet18())
w18 = os.path.join(work, "resnet18-random.pth")
torch.save(r18.state_dict(), w18)
for ds, archive, classes in (("imagenet", "imagenet/ILSVRC2012_img_train.tar", 1000),
                             ("cub", "cub/CUB_200_2011.tgz", 3)):  # the fixture lists 3 classes
    out = os.path.join(work, "r18-" + ds)
    run("--weights", w18, "--arch", "resnet18", "--dataset", ds, "--root", os.path.join(fixtures, ds),
        "--out", out, "--keep-features")
    ref, labels = reference(r18, os.path.join(fixtures, archive), os.path.join(fixtures, ds + ".train.expect.tsv"),
                            224, False)
    compare("resnet18 " + ds, out, ds, ref, labels, classes)

r50 = torchvision.models.resnet50()
r50.fc = torch.nn.Sequential(torch.nn.Linear(2048, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 128))
randomise_bn(r50)
wm = os.path.join(work, "moco_v2_random.pth.tar")
torch.save({"epoch": 800, "arch": "resnet50",
            "state_dict": {"module.encoder_q." + k: v for k, v in r50.state_dict().items()}}, wm)
out = os.path.join(work, "moco-cub")
run("--weights", wm, "--arch", "resnet50", "--mlp", "--dataset", "cub", "--root", os.path.join(fixtures, "cub"),
    "--out", out, "--keep-features", "--size", "64", "--name", "cub-moco")
ref, labels = reference(r50, os.path.join(fixtures, "cub/CUB_200_2011.tgz"),
                        os.path.join(fixtures, "cub.train.expect.tsv"), 64, True)
compare("moco resnet50 --mlp, 64 px", out, "cub-moco", ref, labels, 3)
sys.exit(1 if fails else 0)
