"""Writes tiny copies of the nine data sets in their publishers' exact layouts (fixture_formats.py)
with a few random JPEGs, and for each split the rows a reader must produce (<set>.<split>.expect.tsv);
also the real Cars and ImageNet metadata in their archives, an ImageFolder tree and IDX files.
usage: data_fixtures.py OUTDIR REF"""
import gzip
import os
import sys

import numpy as np
import scipy.io as sio

import fixture_formats as ff

OUT, REF = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(4)


def jpeg(w=40, h=30, mode="RGB", fmt="JPEG"):
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a[: h // 2] //= 2  # some structure, not only noise
    return ff.encode(a, mode, fmt)


def img(k, w=None, h=None, mode="RGB", fmt="JPEG"):
    """fixture_formats' image maker: random pixels whatever the class, at the layout's size."""
    return jpeg(w or 40, h or 30, mode, fmt)


def expect(ds, rows_by_split):
    for split, rows in rows_by_split.items():
        with open(os.path.join(OUT, f"{ds}.{split}.expect.tsv"), "w") as f:
            f.write("source\tlabel\n")
            for s, l in rows:
                f.write(f"{s}\t{l}\n")


def root(ds):
    d = os.path.join(OUT, ds)
    os.makedirs(d, exist_ok=True)
    return d


def cub():
    expect("cub", ff.cub(root("cub"), ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"],
                         4, img))


def dogs():
    expect("dogs", ff.dogs(root("dogs"), ["n02085620-Chihuahua", "n02085782-Japanese_spaniel",
                                          "n02116738-African_hunting_dog"], 3, img))


def cars():
    expect("cars", ff.cars(root("cars"), ["AM General Hummer SUV 2000", "Acura RL Sedan 2012",
                                          "smart fortwo Convertible 2012"], [3, 1, 2, 2, 1], [2, 3, 1], img))
    # the real devkit files: the full 8144-row training list, labels as scipy reads them
    d = root("cars_real")
    dev = os.path.join(REF, "dataset-metadata", "stanford-cars-devkit")
    ff.write_tar(os.path.join(d, "car_devkit.tgz"),
                 [("devkit/" + f, open(os.path.join(dev, f), "rb").read())
                  for f in ("cars_meta.mat", "cars_train_annos.mat", "cars_test_annos.mat")], gz=True)
    ff.write_tar(os.path.join(d, "cars_train.tgz"), [], gz=True)
    a = sio.loadmat(os.path.join(dev, "cars_train_annos.mat"), squeeze_me=True)["annotations"]
    expect("cars_real", {"train": [("cars_train/" + str(x["fname"]), int(x["class"]) - 1) for x in a]})


def pets():
    ids = [("Abyssinian_1", 1, 1, 1), ("Abyssinian_10", 1, 1, 1), ("american_bulldog_100", 2, 2, 1),
           ("american_bulldog_101", 2, 2, 1), ("Bengal_1", 3, 1, 2), ("Bengal_2", 3, 1, 2), ("Bengal_3", 3, 1, 2)]
    expect("pets", ff.pets(root("pets"), ids, ids[0::2], ids[1::2], img))


def sun397():
    expect("sun397", ff.sun397(root("sun397"), ["/a/abbey", "/b/bakery/shop", "/b/ballroom"], 4, 2, img))


def aircraft():
    expect("aircraft", ff.aircraft(root("aircraft"), ["707-320", "A300B4", "Cessna 172", "DH-82"],
                                   ["Boeing 707", "A300", "Cessna 172", "DH-82"], 3, img))


def dtd():
    expect("dtd", ff.dtd(root("dtd"), ["banded", "blotchy", "zigzagged"], 5, img))


def caltech101():
    # no official split: all non-background images, each class's count (the check draws nothing)
    expect("caltech101", ff.caltech101(root("caltech101"),
                                       {"accordion": 33, "Faces_easy": 31, "BACKGROUND_Google": 4, "yin_yang": 12}, img))


def imagenet():
    meta = os.path.join(REF, "dataset-metadata", "imagenet-devkit", "meta.mat")
    wnids = ["n15075141", "n01440764", "n01443537"]  # tar order is not sorted order
    expect("imagenet", ff.imagenet(root("imagenet"), meta, wnids, 3, [490, 1, 1000, 361, 2, 77], img))
    # the real ground truth: the full 50000-row validation list
    d = root("imagenet_real")
    sorted_wnids, wnid_of_id = ff.imagenet_leaves(meta)
    gt = open(os.path.join(REF, "dataset-metadata", "imagenet-devkit", "ILSVRC2012_validation_ground_truth.txt")).read()
    ff.imagenet_devkit(os.path.join(d, "ILSVRC2012_devkit_t12.tar.gz"), meta, gt)
    ff.write_tar(os.path.join(d, "ILSVRC2012_img_val.tar"), [])
    expect("imagenet_real", {"test": [(f"ILSVRC2012_val_{k + 1:08d}.JPEG", sorted_wnids.index(wnid_of_id[int(i)]))
                                      for k, i in enumerate(gt.split())]})


def imagefolder():
    import torchvision.datasets as tvd
    d = root("imagefolder")
    for split, n in (("train", 3), ("test", 2)):
        for c in ("cat", "Dog", "zebra"):
            os.makedirs(os.path.join(d, split, c, "sub"), exist_ok=True)
            for j in range(n):
                open(os.path.join(d, split, c, f"img{j}.jpg"), "wb").write(jpeg())
            open(os.path.join(d, split, c, "sub", "deep.PNG"), "wb").write(jpeg(fmt="PNG"))
            open(os.path.join(d, split, c, "notes.txt"), "w").write("not an image")
        ds = tvd.ImageFolder(os.path.join(d, split))
        expect("imagefolder", {split: [(os.path.relpath(p, os.path.join(d, split)), l) for p, l in ds.samples]})


def idx():
    d = root("idx")
    for pre, n in (("train", 7), ("t10k", 4)):
        imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labs = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, data in (("images-idx3", bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">u4").tobytes() + imgs.tobytes()),
                           ("labels-idx1", bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes() + labs.tobytes())):
            path = os.path.join(d, f"{pre}-{kind}-ubyte.gz")
            with gzip.GzipFile(path, "wb", mtime=ff.MTIME) as f:
                f.write(data)
        np.save(os.path.join(d, f"{pre}.npy"), imgs)
        expect("idx", {"train" if pre == "train" else "test":
                       [(f"{pre}-images-idx3-ubyte.gz#{i}", int(l)) for i, l in enumerate(labs)]})


os.makedirs(OUT, exist_ok=True)
for f in (cub, dogs, cars, pets, sun397, aircraft, dtd, caltech101, imagenet, imagefolder, idx):
    f()
