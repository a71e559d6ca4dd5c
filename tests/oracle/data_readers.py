"""`uotft data list|show|stats` on the fixtures of data_fixtures.py: every split's rows equal the
ones derived from the split files; the real Cars and ImageNet metadata give 8144 and 50000 rows;
the seeded Caltech-101 split; decoded images equal PIL's (grayscale, CMYK, a PNG named .JPEG,
IDX); corrupt and truncated archives and images fail with a message naming the file and leave no
output. usage: data_readers.py UOTFT FIXTURES"""
import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import scipy.io as sio
from PIL import Image

UOTFT, FX = sys.argv[1], sys.argv[2]
failures = 0
tmp = tempfile.mkdtemp()


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg, file=sys.stderr)


def run(*args):
    return subprocess.run([UOTFT, "data", *args], capture_output=True, text=True)


def rows(path):
    with open(path) as f:
        lines = f.read().splitlines()
    if lines[0] != "source\tlabel":
        fail(f"{path}: header {lines[0]!r}")
    return [(s, int(l)) for s, l in (x.split("\t") for x in lines[1:])]


def listed(ds, root, split, *extra):
    out = os.path.join(tmp, f"{ds}.{split}.tsv")
    r = run("list", "--dataset", ds, "--root", os.path.join(FX, root), "--split", split, "--out", out, *extra)
    if r.returncode != 0:
        fail(f"list {ds} {split}: {r.stderr}")
        return []
    got = rows(out)
    if f"{len(got)} images" not in r.stdout:
        fail(f"list {ds} {split} printed {r.stdout!r}, not the count {len(got)}")
    return got


# 1. every split of every layout, exactly
for ds in ("cub", "dogs", "cars", "pets", "sun397", "aircraft", "dtd", "imagenet", "imagefolder", "idx"):
    for split in ("train", "test"):
        want = rows(os.path.join(FX, f"{ds}.{split}.expect.tsv"))
        got = listed(ds, ds, split)
        if got != want:
            fail(f"{ds} {split}: {len(got)} rows differ from the {len(want)} expected, first {got[:2]} vs {want[:2]}")

# 2. the real metadata: Cars' 8144 training annotations, ImageNet's 50000 validation labels
for ds, root, split, n in (("cars", "cars_real", "train", 8144), ("imagenet", "imagenet_real", "test", 50000)):
    want = rows(os.path.join(FX, f"{root}.{split}.expect.tsv"))
    got = listed(ds, root, split)
    if len(got) != n or got != want:
        fail(f"{root} {split}: {len(got)} rows, expected {n} equal to scipy's")
    if root == "imagenet_real" and got and got[0] != ("ILSVRC2012_val_00000001.JPEG", 65):
        fail(f"val_00000001 should be sorted-WNID class 65 (sea snake), got {got[0]}")

# 3. Caltech-101: 30 per class drawn with the seed, background excluded, the rest for testing
allrows = rows(os.path.join(FX, "caltech101.all.expect.tsv"))
per_class = {}
for s, l in allrows:
    per_class[l] = per_class.get(l, 0) + 1
draws = {}
for seed in ("0", "0", "7"):
    tr = listed("caltech101", "caltech101", "train", "--seed", seed)
    te = listed("caltech101", "caltech101", "test", "--seed", seed)
    if sorted(tr + te) != allrows or set(tr) & set(te):
        fail(f"caltech101 seed {seed}: train and test do not partition the non-background images")
    for l, n in per_class.items():
        k = sum(1 for _, x in tr if x == l)
        if k != min(30, n):
            fail(f"caltech101 seed {seed}: class {l} has {k} training images, expected {min(30, n)}")
    if tr != sorted(tr):
        fail("caltech101 rows not in source order")
    draws.setdefault(seed, []).append(tr)
if draws["0"][0] != draws["0"][1]:
    fail("caltech101: the same seed drew different splits")
if draws["0"][0] == draws["7"][0]:
    fail("caltech101: seeds 0 and 7 drew the same split")

# 4. decoded images equal PIL's on the same bytes
def member(tarpath, name):
    with tarfile.open(tarpath) as t:
        return t.extractfile(name).read()


def show(ds, root, split, index):
    out = os.path.join(tmp, "show.png")
    r = run("show", "--dataset", ds, "--root", os.path.join(FX, root), "--split", split, "--index", str(index),
            "--out", out)
    if r.returncode != 0:
        fail(f"show {ds} {index}: {r.stderr}")
        return None
    return np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)


train = rows(os.path.join(FX, "imagenet.train.expect.tsv"))
trainpath = os.path.join(FX, "imagenet", "ILSVRC2012_img_train.tar")
kinds = set()
for i, (src, _) in enumerate(train):
    outer, inner = src.split("/")
    data = tarfile.open(fileobj=io.BytesIO(member(trainpath, outer))).extractfile(inner).read()
    ref = Image.open(io.BytesIO(data))
    kinds.add(ref.format + "/" + ref.mode)
    ref = np.asarray(ref.convert("RGB"), dtype=np.int16)
    got = show("imagenet", "imagenet", "train", i)
    if got is not None and (got.shape != ref.shape or np.abs(got - ref).max() > 0):
        fail(f"{src} ({kinds}): decoded image differs from PIL's")
for k in ("JPEG/L", "JPEG/CMYK", "JPEG/RGB", "PNG/RGB"):
    if k not in kinds:
        fail(f"fixture lacks a {k} image")
ref = np.load(os.path.join(FX, "idx", "t10k.npy"))[3]
got = show("idx", "idx", "test", 3)
if got is None or not (got == ref[:, :, None]).all():
    fail("idx image 3 differs from the IDX file's bytes")
got = show("cub", "cub", "test", 1)
src = rows(os.path.join(FX, "cub.test.expect.tsv"))[1][0]
ref = np.asarray(Image.open(io.BytesIO(member(os.path.join(FX, "cub", "CUB_200_2011.tgz"), src))).convert("RGB"))
if got is None or not (got == ref).all():
    fail("cub test image 1 differs from PIL's decoding")

# 5. stats: per-class counts of both splits
r = run("stats", "--dataset", "dtd", "--root", os.path.join(FX, "dtd"))
lines = r.stdout.splitlines()
if r.returncode or lines[0] != "label\tclass\ttrain\ttest" or lines[-1] != "total\t3 classes\t9\t6":
    fail(f"stats dtd: {r.stdout!r} {r.stderr!r}")
if lines[1:4] != ["0\tbanded\t3\t2", "1\tblotchy\t3\t2", "2\tzigzagged\t3\t2"]:
    fail(f"stats dtd per class: {lines[1:4]}")

# 6. bad input: a clear message naming the file, a non-zero exit, no output file
def bad(args, needle, what):
    out = os.path.join(tmp, "bad.out")
    if os.path.exists(out):
        os.remove(out)
    r = run(*args, "--out", out)
    if (r.returncode == 0 or needle not in r.stderr or os.path.exists(out) or "Segmentation" in r.stderr
            or ": : " in r.stderr):
        fail(f"{what}: exit {r.returncode}, stderr {r.stderr!r}")


def copy_root(ds):
    d = os.path.join(tmp, ds)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(FX, ds), d)
    shutil.rmtree(os.path.join(d, ".uotft-cache"), ignore_errors=True)
    return d


d = copy_root("cub")
p = os.path.join(d, "CUB_200_2011.tgz")
data = open(p, "rb").read()
open(p, "wb").write(data[: len(data) // 2])
bad(["list", "--dataset", "cub", "--root", d, "--split", "train"], "CUB_200_2011.tgz", "truncated tgz")
d = copy_root("imagenet")
p = os.path.join(d, "ILSVRC2012_img_train.tar")
data = open(p, "rb").read()
open(p, "wb").write(data[:5000])
bad(["list", "--dataset", "imagenet", "--root", d, "--split", "train"], "ILSVRC2012_img_train.tar",
    "truncated nested tar")
if os.path.isdir(os.path.join(d, ".uotft-cache")) and any(f.endswith(".tsv") for f in os.listdir(os.path.join(d, ".uotft-cache"))):
    fail("a failed index build left an index behind")
os.remove(os.path.join(d, "ILSVRC2012_devkit_t12.tar.gz"))
bad(["list", "--dataset", "imagenet", "--root", d, "--split", "test"], "ILSVRC2012_devkit_t12.tar.gz: missing",
    "missing devkit")
d = copy_root("imagefolder")
at = str([s for s, _ in rows(os.path.join(FX, "imagefolder.train.expect.tsv"))].index("cat/img0.jpg"))
open(os.path.join(d, "train", "cat", "img0.jpg"), "r+b").truncate(300)
bad(["show", "--dataset", "imagefolder", "--root", d, "--index", at], "cat/img0.jpg: corrupt JPEG", "truncated JPEG")
open(os.path.join(d, "train", "cat", "img0.jpg"), "wb").write(b"\xff\xd8\xff" + b"\x00" * 50)
bad(["show", "--dataset", "imagefolder", "--root", d, "--index", at], "cat/img0.jpg: corrupt JPEG", "garbage JPEG")
bad(["show", "--dataset", "pets", "--root", os.path.join(FX, "pets"), "--index", "99"], "past the split", "bad index")
bad(["list", "--dataset", "nope", "--root", d, "--split", "train"], "unknown data set", "unknown data set")
d = copy_root("dogs")
open(os.path.join(d, "lists.tar"), "wb").write(b"\0" * 1024 + b"garbage")
bad(["list", "--dataset", "dogs", "--root", d, "--split", "train"], "lists.tar", "corrupt lists.tar")

for value in (float("nan"), 1e12, 0.5):  # a label that is no class number: refused, never cast to int
    d = copy_root("dogs")
    files = np.empty((1, 1), dtype=object)
    files[0, 0] = "n02085620-Chihuahua/n02085620_1000.jpg"
    b = io.BytesIO()
    sio.savemat(b, {"file_list": files, "labels": np.array([[value]])}, do_compression=False)
    with tarfile.open(os.path.join(d, "lists.tar"), "w") as t:
        info = tarfile.TarInfo("train_list.mat")
        info.size = len(b.getvalue())
        t.addfile(info, io.BytesIO(b.getvalue()))
    bad(["list", "--dataset", "dogs", "--root", d, "--split", "train"], "label 1 is", f"dogs label {value}")


def cars_meta_empty_first_name():
    """cars_meta.mat whose class_names{1} is an empty miMATRIX (byte count 0), as a damaged download has it."""
    names = np.empty((1, 2), dtype=object)
    names[0, :] = ["AM General Hummer SUV 2000", "Acura RL Sedan 2012"]
    b = io.BytesIO()
    sio.savemat(b, {"class_names": names}, do_compression=False)
    m = b.getvalue()
    top = 128
    kind, size = struct.unpack_from("<II", m, top)
    assert kind == 14, kind
    off = top + 8
    for _ in range(3):  # array flags, dimensions, name: then the cells
        t, k = struct.unpack_from("<II", m, off)
        off += 8 if t >> 16 else 8 + (k + 7) // 8 * 8
    t, k = struct.unpack_from("<II", m, off)
    assert t == 14, t
    m = m[:off] + struct.pack("<II", 14, 0) + m[off + 8 + k:]
    return m[:top + 4] + struct.pack("<I", size - k) + m[top + 8:]


d = copy_root("cars")
with tarfile.open(os.path.join(d, "car_devkit.tgz"), "w:gz") as t:
    data = cars_meta_empty_first_name()
    info = tarfile.TarInfo("devkit/cars_meta.mat")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
bad(["list", "--dataset", "cars", "--root", d, "--split", "test"], "cars_meta.mat: class_names{1} is not a string",
    "empty class name cell")

shutil.rmtree(tmp)
print(f"data_readers: {failures} failure(s)")
sys.exit(1 if failures else 0)
