"""uotft export against torch 1.13 (run with Debian's /usr/bin/python3).

usage: export_torch.py UOTFT FIXTURES MINI_PRETRAIN_DIR

FIXTURES is test_nn_export's output folder: resnet18-init.ckpt (a random-init ResNet-18 with a 10-class fc
and non-trivial BatchNorm values), the library's exports of it and of the mini checkpoints (<name>.pth),
and edge.pth (writer edge cases). For the two committed mini checkpoints (MINI_PRETRAIN_DIR: supervised,
linear head fc; moco-v2, MLP head fc.0/fc.2) and the ResNet-18:
  * `uotft export` writes the same bytes as the library did in test_nn_export;
  * torch.load(weights_only=True) reads it; its keys, in order, dtypes and shapes are those of the
    state_dict of the matching model (torchvision's resnet18; the small ResNets of nn_models.py, with
    MoCo's nn.Sequential(Linear, ReLU, Linear) head), and load_state_dict(strict=True) takes it;
  * eval-mode head outputs (logits, or the MLP's) and pooled features on a fixed batch agree with
    `uotft forward` on the checkpoint to 1e-4 (max abs);
  * torch.save of the loaded dict to a file named archive.pth is byte-identical to the export (the
    layout is torch's own: pickle opcodes and memo, zip records, alignment, end records), and re-loads
    to equal tensors;
  * `uotft export` of the exported .pth (with --arch) gives the same bytes again.
edge.pth must hold t0 (0, 3) float32, t1 0-d -2.5, t2 arange(70000) / 2, t3 int64 (2, 3) values, t4..t1000
[i], and re-save byte-identically.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

from nn_models import arch_of, build

TOL = 1e-4
uotft, fixtures, mini = sys.argv[1:4]
work = os.path.join(fixtures, "oracle")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def run(*args):
    subprocess.run([uotft] + [str(a) for a in args], check=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def model_for(sd, arch):
    """(module taking the state dict, features fn, head fn) with fc linear or MoCo's MLP."""
    mlp = "fc.2.weight" in sd
    out = sd["fc.2.weight" if mlp else "fc.weight"].shape[0]
    m = build(arch, [] if mlp else [("fc", out)])
    if mlp:
        f = sd["fc.0.weight"].shape[1]
        m.fc = nn.Sequential(nn.Linear(f, f), nn.ReLU(), nn.Linear(f, out))
    target = getattr(m, "net", m)  # torchvision's own resnet inside TorchvisionHeads
    return target, m.features, target.fc


def same_file(a, b, what):
    check(read(a) == read(b), "%s: %s and %s differ" % (what, a, b))


def resave(pth, sd, what):
    """torch.save to archive.pth (torch names the zip folder by the file stem) must give the same bytes."""
    again = os.path.join(work, "archive.pth")
    torch.save(sd, again)
    same_file(pth, again, what + ": torch.save of the loaded dict")
    sd2 = torch.load(again, weights_only=True)
    check(list(sd2) == list(sd) and all(torch.equal(sd[k], sd2[k]) for k in sd),
          what + ": the re-saved dict does not re-load to the same tensors")


def compare(ckpt, pth, arch, sd, size, what):
    """torch on the export against uotft forward on the checkpoint; returns the largest difference."""
    target, features, head = model_for(sd, arch)
    want = target.state_dict()
    check(list(sd) == list(want), "%s: keys differ from the model's: %s" % (what, set(sd) ^ set(want)))
    for k, v in want.items():
        if k in sd:
            check(sd[k].dtype == v.dtype and sd[k].shape == v.shape,
                  "%s: %s is %s %s, the model's %s %s" % (what, k, sd[k].dtype, tuple(sd[k].shape), v.dtype,
                                                          tuple(v.shape)))
    target.load_state_dict(sd, strict=True)
    target.eval()
    x = torch.randn(4, 3, size, size, generator=torch.Generator().manual_seed(5))
    xp = os.path.join(work, what + "-x.npy")
    np.save(xp, x.numpy())
    with torch.no_grad():
        f = features(x)
        ref = {"features": f.numpy(), "head": head(f).numpy()}
    worst = 0.0
    for out, flag in (("features", "--features"), ("head", "--mlp" if "fc.2.weight" in sd else None)):
        yp = os.path.join(work, "%s-%s.npy" % (what, out))
        run("forward", "--weights", ckpt, "--input", xp, "--out", yp, *([flag] if flag else []))
        d = float(np.abs(np.load(yp) - ref[out]).max())
        print("%s %s: max |uotft - torch| = %.3g (max |torch| %.3g)" % (what, out, d, np.abs(ref[out]).max()))
        check(d <= TOL, "%s %s: max difference %.3g > %g" % (what, out, d, TOL))
        worst = max(worst, d)
    return worst


def one_model(ckpt, what, size):
    pth = os.path.join(work, what + ".pth")
    run("export", "--ckpt", ckpt, "--out", pth)
    same_file(pth, os.path.join(fixtures, what + ".pth"), what + ": uotft export and the library's export")
    sd = torch.load(pth, weights_only=True)
    arch = arch_of(sd)
    worst = compare(ckpt, pth, arch, sd, size, what)
    resave(pth, sd, what)
    again = os.path.join(work, what + "-from-pth.pth")
    run("export", "--ckpt", pth, "--arch", arch, "--out", again)
    same_file(pth, again, what + ": export of the exported .pth")
    return worst


def edge():
    pth = os.path.join(fixtures, "edge.pth")
    sd = torch.load(pth, weights_only=True)
    want = {"t0": torch.zeros(0, 3), "t1": torch.tensor(-2.5), "t2": torch.arange(70000) * 0.5,
            "t3": torch.tensor([[-1, 0, 1], [255, 65536, 1 << 40]])}
    want.update({"t%d" % i: torch.tensor([float(i)]) for i in range(4, 1001)})
    check(list(sd) == list(want), "edge.pth: keys are not t0 .. t1000 in order")
    for k, v in want.items():
        got = sd.get(k)
        check(got is not None and got.dtype == v.dtype and got.shape == v.shape and torch.equal(got, v),
              "edge.pth: %s is %r, expected %r" % (k, got, v))
    resave(pth, sd, "edge.pth")


worst = 0.0
for ckpt, size in ((os.path.join(mini, "supervised.ckpt"), 32), (os.path.join(mini, "moco-v2.ckpt"), 32),
                   (os.path.join(fixtures, "resnet18-init.ckpt"), 64)):
    what = os.path.basename(ckpt)[:-len(".ckpt")]
    worst = max(worst, one_model(ckpt, what, size))
edge()
print("largest difference: %.3g" % worst)
if failures:
    sys.exit("%d failure(s)" % len(failures))
print("ok")
