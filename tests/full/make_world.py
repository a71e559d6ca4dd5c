"""A tiny copy of the full tier's world: ImageNet, the eight target data sets and the two published
weight files, in the publishers' formats (tests/oracle/fixture_formats.py), laid out as datasets/fetch
lays out the real downloads, so the engine reads it with only its data root changed.

usage: make_world.py OUT REF
  REF: the shared reference folder (the real ImageNet devkit meta.mat, the real Cars class names)
writes
  OUT/data/<name>/<file>       what `datasets/fetch <name>` would put in data/<name>/
  OUT/recipes/<name>.tsv       datasets/lib.sh recipes of these files (bytes, sha256, no URLs):
                               UOTFT_RECIPES=OUT/recipes datasets/verify --dest OUT/data/<name> <name>
  OUT/expect/<name>.<split>.tsv  the rows `uotft data list` must give (caltech101: "all", undrawn)
Every byte is the same on every run: fixed seeds, fixed archive times, torch's zip format.

Images are 64 x 48 JPEGs whose class shows: a hue per class family (birds, dogs, cats, cars, aircraft,
scenes) and a stripe orientation per class within it, plus noise. Target classes take the hue of the
ImageNet family they resemble (CUB birds, Dogs dogs, Cars cars, ...), so ImageNet classes near a
target are near it in pixels too."""
import collections
import colorsys
import hashlib
import os
import shutil
import sys
import time
import zlib

import numpy as np
import scipy.io as sio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import fixture_formats as ff  # noqa: E402

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
W, H = 64, 48
FAMILY_HUE = {"fish": 0.55, "bird": 0.0, "dog": 0.33, "cat": 0.45, "car": 0.66, "aircraft": 0.8,
              "scene": 0.15, "texture": 0.9, "face": 0.08}

# ImageNet: every one of the 1000 classes, so the paper's settings run unchanged (top 100 classes, ten
# blocks of 100, k-means K = 2000 on 3000 images); the family of a sorted-WNID index: 7-24, 80-100 and
# 127-146 are birds, 151-268 dogs, 281-285 cats (the rest: a few broad looks)
IMAGENET_TRAIN = 3
IMAGENET_VAL_CLASSES = (0, 10, 15, 130, 151, 207, 250, 281, 404, 511, 817, 970)  # one validation image each


def imagenet_family(i):
    if 7 <= i <= 24 or 80 <= i <= 100 or 127 <= i <= 146:
        return "bird"
    if 151 <= i <= 268:
        return "dog"
    if 281 <= i <= 285:
        return "cat"
    if i < 7 or 389 <= i <= 397:
        return "fish"
    if i in (404, 895, 908):
        return "aircraft"
    if i in (407, 436, 468, 511, 609, 627, 656, 661, 717, 751, 817):
        return "car"
    return ("scene", "texture")[i % 2]


# targets: 9 images per class (6 train, 3 test), Caltech-101 34 (30 drawn to train, 4 test)
N = 9
CALTECH = {"accordion": ("texture", 34), "airplanes": ("aircraft", 34), "BACKGROUND_Google": (None, 5),
           "Faces_easy": ("face", 34), "yin_yang": ("texture", 34)}


def pattern_maker(name, look):
    """img(k, ...) for fixture_formats: look(k) -> (family, index in family); k < 0: noise only."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)

    def img(k, w=None, h=None, mode="RGB", fmt="JPEG"):
        if fmt == "PNG" and w and w < 16:  # a thumbnail-sized extra (a trimap): the hinted size
            return ff.encode(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), mode, fmt)
        noise = rng.normal(0, 14, (H, W, 3))
        if k < 0:
            return ff.encode(np.clip(128 + 3 * noise, 0, 255).astype(np.uint8), mode, fmt)
        family, i = look(k)
        th = np.pi * ((i * 0.381966) % 1.0)  # orientations spread by the golden angle, distinct for a few i
        s = np.sin(2 * np.pi / 8 * (xx * np.cos(th) + yy * np.sin(th)) + rng.uniform(0, 2 * np.pi))
        rgb = np.array(colorsys.hsv_to_rgb((FAMILY_HUE[family] + rng.normal(0, 0.015)) % 1.0, 0.75, 0.85)) * 255
        a = rgb * (0.6 + 0.4 * s[..., None]) * rng.uniform(0.85, 1.15) + noise
        return ff.encode(np.clip(a, 0, 255).astype(np.uint8), mode, fmt)
    return img


def by_family(families):
    """look(k) for classes whose families are listed in class order: (family, rank within it)."""
    seen = collections.Counter()
    table = []
    for f in families:
        table.append((f, seen[f]))
        seen[f] += 1
    return lambda k: table[k]


def targets(data, ref):
    out = {}
    d = lambda n: _mk(os.path.join(data, n))
    cls = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross", "004.Groove_billed_Ani"]
    out["cub"] = ff.cub(d("cub"), cls, N, pattern_maker("cub", by_family(["bird"] * 4)))
    cls = ["n02085620-Chihuahua", "n02085782-Japanese_spaniel", "n02085936-Maltese_dog", "n02086079-Pekinese"]
    out["dogs"] = ff.dogs(d("dogs"), cls, N, pattern_maker("dogs", by_family(["dog"] * 4)))
    names = [str(x) for x in sio.loadmat(os.path.join(ref, "dataset-metadata", "stanford-cars-devkit", "cars_meta.mat"),
                                         squeeze_me=True)["class_names"][:4]]  # the real first four
    out["cars"] = ff.cars(d("cars"), names, [1, 2, 3, 4] * (N * 2 // 3), [1, 2, 3, 4] * (N // 3),
                          pattern_maker("cars", by_family(["car"] * 4)))
    # the real class ids 1..4 (one cat breed, three dog breeds), species and breed ids
    breeds = [("Abyssinian", 1, 1), ("american_bulldog", 2, 1), ("american_pit_bull_terrier", 2, 2),
              ("basset_hound", 2, 3)]
    ids = [(f"{b}_{j + 1}", k + 1, sp, br) for k, (b, sp, br) in enumerate(breeds) for j in range(N)]
    out["pets"] = ff.pets(d("pets"), ids, [i for i in ids if int(i[0].rsplit("_", 1)[1]) <= N * 2 // 3],
                          [i for i in ids if int(i[0].rsplit("_", 1)[1]) > N * 2 // 3],
                          pattern_maker("pets", by_family(["cat", "dog", "dog", "dog"])))
    out["sun397"] = ff.sun397(d("sun397"), ["/a/abbey", "/a/airplane_cabin", "/b/bakery/shop", "/b/ballroom"], N,
                              N * 2 // 3, pattern_maker("sun397", by_family(["scene"] * 4)))
    out["aircraft"] = ff.aircraft(d("aircraft"), ["707-320", "727-200", "A300B4", "Cessna 172"],
                                  ["Boeing 707", "Boeing 727", "A300", "Cessna 172"], N,
                                  pattern_maker("aircraft", by_family(["aircraft"] * 4)))
    out["dtd"] = ff.dtd(d("dtd"), ["banded", "blotchy", "braided", "zigzagged"], N,
                        pattern_maker("dtd", by_family(["texture"] * 4)), train=(0, 1, 2), val=(3, 4, 5),
                        test=(6, 7, 8))
    labelled = sorted(c for c in CALTECH if c != "BACKGROUND_Google")
    out["caltech101"] = ff.caltech101(d("caltech101"), {c: n for c, (_, n) in CALTECH.items()},
                                      pattern_maker("caltech101", by_family([CALTECH[c][0] for c in labelled])))
    return out


def imagenet(data, ref):
    meta = os.path.join(ref, "dataset-metadata", "imagenet-devkit", "meta.mat")
    sorted_wnids, wnid_of_id = ff.imagenet_leaves(meta)
    id_of_wnid = {w: i for i, w in wnid_of_id.items()}
    wnids = sorted_wnids[500:] + sorted_wnids[:500]  # the tar's order is not the sorted order
    gt = [id_of_wnid[sorted_wnids[c]] for c in reversed(IMAGENET_VAL_CLASSES)]
    look = by_family([imagenet_family(i) for i in range(1000)])
    # a few grayscale and CMYK JPEGs and a PNG named .JPEG, as in the real train tar
    return ff.imagenet(_mk(os.path.join(data, "imagenet")), meta, wnids, IMAGENET_TRAIN, gt,
                       pattern_maker("imagenet", look), modes=("RGB",) * 5 + ("L", "RGB", "CMYK"))


def weights(data):
    import torch
    import torch.nn as nn
    from torchvision.models import resnet18, resnet50
    torch.set_num_threads(2)
    # torchvision's file is torch.save(state_dict) in the zip format; random init, fixed seed
    torch.manual_seed(18)
    torch.save(resnet18().state_dict(), os.path.join(_mk(os.path.join(data, "resnet18")), "resnet18-f37072fd.pth"))
    # MoCo v2 (main_moco.py): {epoch, arch, state_dict, optimizer}; the DDP-prefixed query encoder with
    # the fc.0/fc.2 MLP head, the key encoder, the queue. The key encoder shares the query's tensors (MoCo
    # starts it as a copy), so torch.save writes them once: half the bytes, the same keys and shapes. The
    # published file predates torch's zip format, but the legacy format's storage keys are addresses,
    # never the same twice: the zip format keeps the bytes reproducible (the legacy reader is tested by
    # tests/oracle/nn_weights.py).
    torch.manual_seed(50)
    q = resnet50()
    q.fc = nn.Sequential(nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 128))
    qsd = q.state_dict()
    sd = collections.OrderedDict(("module.encoder_q." + k, v) for k, v in qsd.items())
    sd.update(("module.encoder_k." + k, v) for k, v in qsd.items())
    sd["module.queue"] = nn.functional.normalize(torch.randn(128, 256), dim=0)  # the real one is (128, 65536)
    sd["module.queue_ptr"] = torch.zeros(1, dtype=torch.long)
    trainable = [k for k, _ in q.named_parameters()]
    ckpt = {"epoch": 800, "arch": "resnet50", "state_dict": sd,
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.0, "momentum": 0.9, "dampening": 0,
                                                         "weight_decay": 0.0001, "nesterov": False,
                                                         "params": list(range(len(trainable)))}]}}
    torch.save(ckpt, os.path.join(_mk(os.path.join(data, "mocov2")), "moco_v2_800ep_pretrain.pth.tar"))


def _mk(d):
    os.makedirs(d, exist_ok=True)
    return d


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def recipes(out, names):
    """OUT/recipes/<name>.tsv for every file written; each must be a file of the real recipe."""
    os.makedirs(os.path.join(out, "recipes"), exist_ok=True)
    total = 0
    for name in names:
        folder = os.path.join(out, "data", name)
        files = sorted(os.listdir(folder))
        real = [l.split("\t")[0] for l in open(os.path.join(SRC, "datasets", "recipes", name + ".tsv"))
                if l.strip() and not l.startswith("#")]
        missing = set(real) - set(files) - {"resnet18-5c106cde.pth"}  # the legacy copy of the same weights
        if missing or set(files) - set(real):
            sys.exit(f"make_world: {name}: files {files} do not match the real recipe's {real}")
        with open(os.path.join(out, "recipes", name + ".tsv"), "w") as f:
            f.write(f"# {name}: the full tier's tiny world, written by tests/full/make_world.py (no download)\n"
                    "# file\tbytes\tsha256\turls\n")
            for fn in files:
                p = os.path.join(folder, fn)
                size = os.path.getsize(p)
                total += size
                f.write(f"{fn}\t{size}\t{sha256(p)}\tmanual:tests/full/make_world.py writes it\n")
                print(f"  data/{name}/{fn}  {size} bytes")
    return total


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    out, ref = sys.argv[1], sys.argv[2]
    t0 = time.time()
    for sub in ("data", "recipes", "expect"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    data = os.path.join(out, "data")
    rows = targets(data, ref)
    rows["imagenet"] = imagenet(data, ref)
    weights(data)
    os.makedirs(os.path.join(out, "expect"))
    for name, splits in rows.items():
        for split, r in splits.items():
            with open(os.path.join(out, "expect", f"{name}.{split}.tsv"), "w") as f:
                f.write("source\tlabel\n" + "".join(f"{s}\t{l}\n" for s, l in r))
            print(f"{name} {split}: {len(r)} images, {len({l for _, l in r})} classes")
    names = sorted(rows) + ["mocov2", "resnet18"]
    total = recipes(out, names)
    print(f"make_world: {len(names)} recipes, {total} bytes in {out}/data, {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
