"""The tiny full world of make_world.py read by the code that reads the real downloads:
1. `uotft data list` gives every split of the nine data sets exactly the rows derived from their split
   files (Caltech-101: 30 per class drawn to train, the rest test), `uotft data stats` the class counts,
   every class non-empty in both splits (ImageNet: all the devkit's 1000);
2. datasets/verify passes for all 11 recipes of the world, and fails, naming the file and the sums,
   when one byte of a copy changes;
3. `uotft forward` loads both weight files (ResNet-18 logits, MoCo v2's ResNet-50 MLP head) and gives
   what torch gives from the same files. The engine checks resnet18-f37072fd.pth against its published
   sum unless a recipe of UOTFT_RECIPES restates it: with the world's recipes it loads, without it is
   refused.
usage: world_reads.py UOTFT SOURCE_DIR WORLD"""
import collections
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

UOTFT, SRC, WORLD = sys.argv[1:4]
DATA = os.path.join(WORLD, "data")
TARGETS = ("cub", "dogs", "cars", "pets", "sun397", "aircraft", "dtd", "caltech101")
tmp = tempfile.mkdtemp()
env = dict(os.environ, UOTFT_CACHE=os.path.join(tmp, "cache"), UOTFT_RECIPES=os.path.join(WORLD, "recipes"))
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg, file=sys.stderr)


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, env=env)


def rows(path):
    with open(path) as f:
        return [(s, int(l)) for s, l in (x.split("\t") for x in f.read().splitlines()[1:])]


def listed(name, split):
    out = os.path.join(tmp, f"{name}.{split}.tsv")
    r = run(UOTFT, "data", "list", "--dataset", name, "--root", os.path.join(DATA, name), "--split", split,
            "--out", out)
    if r.returncode:
        fail(f"data list {name} {split}: {r.stderr.strip()}")
        return []
    return rows(out)


def stats(name):
    """{label: (train, test)} and the class count of `uotft data stats`."""
    r = run(UOTFT, "data", "stats", "--dataset", name, "--root", os.path.join(DATA, name))
    if r.returncode:
        fail(f"data stats {name}: {r.stderr.strip()}")
        return {}, 0
    per, ncls = {}, 0
    for line in r.stdout.splitlines()[1:]:
        f = line.split("\t")
        if f[0] == "total":
            ncls = int(f[1].split()[0])
        elif len(f) == 4:
            per[int(f[0])] = (int(f[2]), int(f[3]))
    return per, ncls


# 1. the readers
for name in ("imagenet",) + TARGETS:
    if name == "caltech101":
        want_all = rows(os.path.join(WORLD, "expect", "caltech101.all.tsv"))
        tr, te = listed(name, "train"), listed(name, "test")
        if sorted(tr + te) != want_all or set(tr) & set(te):
            fail(f"caltech101: train + test ({len(tr)} + {len(te)}) is not the {len(want_all)} images, once each")
        count = collections.Counter(l for _, l in want_all)
        if collections.Counter(l for _, l in tr) != {k: 30 for k in count}:
            fail(f"caltech101: training split not 30 per class: {collections.Counter(l for _, l in tr)}")
        want = {"train": tr, "test": te}
    else:
        want = {s: rows(os.path.join(WORLD, "expect", f"{name}.{s}.tsv")) for s in ("train", "test")}
        for s in ("train", "test"):
            got = listed(name, s)
            if got != want[s]:
                fail(f"{name} {s}: {len(got)} rows differ from the {len(want[s])} of the split files")
    per, ncls = stats(name)
    classes = {l for s in want.values() for _, l in s}
    expect_ncls = 1000 if name == "imagenet" else 4
    if ncls != expect_ncls or len(classes) != (1000 if name == "imagenet" else 4):
        fail(f"{name}: {ncls} classes ({len(classes)} with images), expected {expect_ncls}")
    for k in classes:  # ImageNet's validation images: one for each of 12 classes (the tier never reads them)
        if min(per.get(k, (0, 0))[: 1 if name == "imagenet" else 2]) < 3:
            fail(f"{name}: class {k} has {per.get(k)} train, test images")
    if name == "imagenet" and any(sum(v) for k, v in per.items() if k not in classes):
        fail("imagenet: images in a class the world does not have")
    print(f"{name}: {ncls} classes, train {sum(v[0] for v in per.values())}, test {sum(v[1] for v in per.values())}")

# 2. datasets/verify with the world's recipes; a changed byte is caught
verify = os.path.join(SRC, "datasets", "verify")
names = sorted(f[:-4] for f in os.listdir(os.path.join(WORLD, "recipes")) if f.endswith(".tsv"))
if names != sorted(TARGETS + ("imagenet", "mocov2", "resnet18")):
    fail(f"recipes {names}")
for name in names:
    r = run(verify, "--dest", os.path.join(DATA, name), name)
    if r.returncode:
        fail(f"verify {name}: {r.stderr.strip()}")
bad = os.path.join(tmp, "cub")
shutil.copytree(os.path.join(DATA, "cub"), bad)
with open(os.path.join(bad, "CUB_200_2011.tgz"), "r+b") as f:
    f.seek(1000)
    b = f.read(1)
    f.seek(1000)
    f.write(bytes([b[0] ^ 1]))
r = run(verify, "--dest", bad, "cub")
msg = r.stdout + r.stderr
for needle in (f"{bad}/CUB_200_2011.tgz: sha256 mismatch", "expected ", "actual ", "cub: verification failed"):
    if r.returncode == 0 or needle not in msg:
        fail(f"verify of a changed byte: exit {r.returncode}, no '{needle}' in {msg!r}")

# 3. the weight files: uotft forward against torch on the same file
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torchvision.models import resnet18, resnet50  # noqa: E402

torch.set_num_threads(2)
rng = np.random.default_rng(3)
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
x = ((rng.random((2, 3, 32, 32)) - mean[:, None, None]) / std[:, None, None]).astype(np.float32)
np.save(os.path.join(tmp, "x.npy"), x)
r18 = os.path.join(DATA, "resnet18", "resnet18-f37072fd.pth")
moco = os.path.join(DATA, "mocov2", "moco_v2_800ep_pretrain.pth.tar")
m18 = resnet18()
m18.load_state_dict(torch.load(r18))
m50 = resnet50()
m50.fc = nn.Sequential(nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 128))
sd = torch.load(moco)["state_dict"]
m50.load_state_dict({k[len("module.encoder_q."):]: v for k, v in sd.items() if k.startswith("module.encoder_q.")})
for what, args, model, shape in (("resnet18", ("--arch", "resnet18", "--weights", r18), m18, (2, 1000)),
                                 ("mocov2", ("--arch", "resnet50", "--mlp", "--weights", moco), m50, (2, 128))):
    out = os.path.join(tmp, what + ".npy")
    r = run(UOTFT, "forward", *args, "--input", os.path.join(tmp, "x.npy"), "--out", out, "--threads", "2")
    if r.returncode:
        fail(f"forward {what}: {r.stderr.strip()}")
        continue
    got = np.load(out)
    with torch.no_grad():
        ref = model.eval().double()(torch.from_numpy(x).double()).numpy()
    err = np.abs(got - ref).max() / np.abs(ref).max()
    if got.shape != shape or not err < 1e-4:
        fail(f"forward {what}: shape {got.shape}, relative difference to torch {err:.2e}")
    print(f"forward {what}: {got.shape}, relative difference to torch {err:.1e}")

# without the world's recipes the engine knows resnet18-f37072fd.pth's published sum, and refuses it
r = subprocess.run([UOTFT, "forward", "--arch", "resnet18", "--weights", r18, "--input", os.path.join(tmp, "x.npy"),
                    "--out", os.path.join(tmp, "no.npy")], capture_output=True, text=True,
                   env={k: v for k, v in env.items() if k != "UOTFT_RECIPES"})
if r.returncode == 0 or "sha256 mismatch for this published file: expected f37072fd" not in r.stderr:
    fail(f"forward without UOTFT_RECIPES took the world's resnet18: exit {r.returncode}, {r.stderr!r}")

shutil.rmtree(tmp)
print(f"world_reads: {failures} failure(s)")
sys.exit(1 if failures else 0)
