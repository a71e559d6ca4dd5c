"""Writes tiny copies of the nine data sets in their publishers' exact layouts (archive names, member
paths, split and label files, .mat variables; DATASETS.md section 3) with a few real JPEGs, and for
each split the rows a reader must produce, derived here from the split files the way torchvision
and the official code read them. usage: data_fixtures.py OUTDIR REF"""
import gzip
import io
import os
import sys
import tarfile
import zipfile

import numpy as np
import scipy.io as sio
from PIL import Image

OUT, REF = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(4)


def jpeg(w=40, h=30, mode="RGB", fmt="JPEG"):
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a[: h // 2] //= 2  # some structure, not only noise
    im = Image.fromarray(a, "RGB")
    if mode != "RGB":
        im = im.convert(mode)
    b = io.BytesIO()
    im.save(b, fmt, quality=90) if fmt == "JPEG" else im.save(b, fmt)
    return b.getvalue()


def add(tar, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1300000000
    tar.addfile(ti, io.BytesIO(data))


def write_tar(path, members, mode="w"):
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            add(t, name, data)


def tar_bytes(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            add(t, name, data)
    return b.getvalue()


def mat_bytes(d):
    b = io.BytesIO()
    sio.savemat(b, d, do_compression=True)
    return b.getvalue()


def expect(ds, split, rows):
    with open(os.path.join(OUT, f"{ds}.{split}.expect.tsv"), "w") as f:
        f.write("source\tlabel\n")
        for s, l in rows:
            f.write(f"{s}\t{l}\n")


def root(ds):
    d = os.path.join(OUT, ds)
    os.makedirs(d, exist_ok=True)
    return d


def cub():
    d = root("cub")
    classes = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]
    members, images, labels, split = [], [], [], []
    i = 0
    for k, c in enumerate(classes):
        for j in range(4):
            i += 1
            p = f"{c}/{c[4:]}_{j:04d}_{100 + i}.jpg"
            members.append((f"CUB_200_2011/images/{p}", jpeg()))
            images.append(f"{i} {p}")
            labels.append(f"{i} {k + 1}")
            split.append(f"{i} {1 if (i * 7) % 3 else 0}")
    txt = lambda lines: ("\n".join(lines) + "\n").encode()
    members += [("CUB_200_2011/images.txt", txt(images)), ("CUB_200_2011/image_class_labels.txt", txt(labels)),
                ("CUB_200_2011/train_test_split.txt", txt(split)),
                ("CUB_200_2011/classes.txt", txt(f"{k + 1} {c}" for k, c in enumerate(classes))),
                ("CUB_200_2011/bounding_boxes.txt", txt(f"{n + 1} 1.0 2.0 3.0 4.0" for n in range(i))),
                ("CUB_200_2011/README", b"readme\n"), ("attributes.txt", b"1 has_bill_shape::curved\n")]
    write_tar(os.path.join(d, "CUB_200_2011.tgz"), members, "w:gz")
    for name, flag in (("train", "1"), ("test", "0")):
        rows = []
        for im, lab, sp in zip(images, labels, split):
            if sp.split()[1] == flag:
                rows.append(("CUB_200_2011/images/" + im.split(" ", 1)[1], int(lab.split()[1]) - 1))
        expect("cub", name, rows)


def cell(strings):
    a = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        a[i, 0] = s
    return a


def dogs():
    d = root("dogs")
    breeds = ["n02085620-Chihuahua", "n02085782-Japanese_spaniel", "n02116738-African_hunting_dog"]
    files, labels = [], []
    for k, b in enumerate(breeds):
        for j in range(3):
            files.append(f"{b}/{b[:9]}_{1000 + 10 * k + j}.jpg")
            labels.append(k + 1)
    write_tar(os.path.join(d, "images.tar"), [("Images/" + f, jpeg()) for f in files])
    write_tar(os.path.join(d, "annotation.tar"), [("Annotation/" + f[:-4], b"<annotation/>") for f in files])
    train = [i for i in range(len(files)) if i % 3 != 2]
    test = [i for i in range(len(files)) if i % 3 == 2]

    def lst(idx):
        return mat_bytes({"file_list": cell([files[i] for i in idx]),
                          "annotation_list": cell([files[i][:-4] for i in idx]),
                          "labels": np.array([[labels[i]] for i in idx], dtype=np.float64)})
    write_tar(os.path.join(d, "lists.tar"), [("file_list.mat", lst(range(len(files)))), ("train_list.mat", lst(train)),
                                             ("test_list.mat", lst(test))])
    expect("dogs", "train", [("Images/" + files[i], labels[i] - 1) for i in train])
    expect("dogs", "test", [("Images/" + files[i], labels[i] - 1) for i in test])


def annos(fnames, classes):
    dt = [("bbox_x1", object), ("bbox_y1", object), ("bbox_x2", object), ("bbox_y2", object)]
    dt += [("class", object)] if classes is not None else []
    dt += [("fname", object)]
    a = np.zeros((1, len(fnames)), dtype=dt)
    for i, f in enumerate(fnames):
        a[0, i]["bbox_x1"] = np.array([[3]], np.uint8)
        a[0, i]["bbox_y1"] = np.array([[4]], np.uint8)
        a[0, i]["bbox_x2"] = np.array([[30]], np.uint16)
        a[0, i]["bbox_y2"] = np.array([[20]], np.uint16)
        if classes is not None:
            a[0, i]["class"] = np.array([[classes[i]]], np.uint8)
        a[0, i]["fname"] = f
    return a


def cars():
    d = root("cars")
    names = np.empty((1, 3), dtype=object)
    names[0, :] = ["AM General Hummer SUV 2000", "Acura RL Sedan 2012", "smart fortwo Convertible 2012"]
    tr = [f"{i:05d}.jpg" for i in range(1, 6)]
    te = [f"{i:05d}.jpg" for i in range(1, 4)]
    trc, tec = [3, 1, 2, 2, 1], [2, 3, 1]
    write_tar(os.path.join(d, "car_devkit.tgz"), [
        ("devkit/cars_meta.mat", mat_bytes({"class_names": names})),
        ("devkit/cars_train_annos.mat", mat_bytes({"annotations": annos(tr, trc)})),
        ("devkit/cars_test_annos.mat", mat_bytes({"annotations": annos(te, None)})),
        ("devkit/README.txt", b"readme\n"), ("devkit/eval_train.m", b"% m\n")], "w:gz")
    write_tar(os.path.join(d, "cars_train.tgz"), [("cars_train/" + f, jpeg()) for f in tr], "w:gz")
    write_tar(os.path.join(d, "cars_test.tgz"), [("cars_test/" + f, jpeg()) for f in te], "w:gz")
    sio.savemat(os.path.join(d, "cars_test_annos_withlabels.mat"), {"annotations": annos(te, tec)})
    expect("cars", "train", [("cars_train/" + f, c - 1) for f, c in zip(tr, trc)])
    expect("cars", "test", [("cars_test/" + f, c - 1) for f, c in zip(te, tec)])
    # the real devkit files: the full 8144-row training list, labels as scipy reads them
    d = root("cars_real")
    dev = os.path.join(REF, "dataset-metadata", "stanford-cars-devkit")
    write_tar(os.path.join(d, "car_devkit.tgz"),
              [("devkit/" + f, open(os.path.join(dev, f), "rb").read())
               for f in ("cars_meta.mat", "cars_train_annos.mat", "cars_test_annos.mat")], "w:gz")
    write_tar(os.path.join(d, "cars_train.tgz"), [], "w:gz")
    a = sio.loadmat(os.path.join(dev, "cars_train_annos.mat"), squeeze_me=True)["annotations"]
    expect("cars_real", "train", [("cars_train/" + str(x["fname"]), int(x["class"]) - 1) for x in a])


def pets():
    d = root("pets")
    ids = [("Abyssinian_1", 1, 1, 1), ("Abyssinian_10", 1, 1, 1), ("american_bulldog_100", 2, 2, 1),
           ("american_bulldog_101", 2, 2, 1), ("Bengal_1", 3, 1, 2), ("Bengal_2", 3, 1, 2), ("Bengal_3", 3, 1, 2)]
    trainval, test = ids[0::2], ids[1::2]
    members = [("images/" + i[0] + ".jpg", jpeg()) for i in ids]
    members += [("images/Abyssinian_100.mat", b"not an image"), ("images/Egyptian_Mau_14.jpg", b"corrupt")]
    write_tar(os.path.join(d, "images.tar.gz"), members, "w:gz")
    head = "#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n#SPECIES: 1:Cat 2:Dog\n#BREED ID: 1-25:Cat 1:12:Dog\n#All images with 1st letter as captial are cat images\n#images with small first letter are dog images\n"
    lines = lambda rows: "".join(f"{a} {b} {c} {e}\n" for a, b, c, e in rows).encode()
    write_tar(os.path.join(d, "annotations.tar.gz"), [
        ("annotations/list.txt", head.encode() + lines(ids)), ("annotations/trainval.txt", lines(trainval)),
        ("annotations/test.txt", lines(test)), ("annotations/trimaps/Abyssinian_1.png", jpeg(8, 8, fmt="PNG")),
        ("annotations/xmls/Abyssinian_1.xml", b"<annotation/>")], "w:gz")
    expect("pets", "train", [("images/" + i[0] + ".jpg", i[1] - 1) for i in trainval])
    expect("pets", "test", [("images/" + i[0] + ".jpg", i[1] - 1) for i in test])


def sun397():
    d = root("sun397")
    classes = ["/a/abbey", "/b/bakery/shop", "/b/ballroom"]
    files = {c: [f"{c}/sun_{c.replace('/', '')}{j}.jpg" for j in range(4)] for c in classes}
    members = [("SUN397" + f, jpeg()) for c in classes for f in files[c]]
    members += [("SUN397/ClassName.txt", ("\n".join(classes) + "\n").encode()), ("SUN397/README.txt", b"r\n")]
    write_tar(os.path.join(d, "SUN397.tar.gz"), members, "w:gz")
    parts = {"ClassName.txt": classes}
    for p in (1, 2):
        parts[f"Training_{p:02d}.txt"] = [files[c][(j + p) % 4] for c in classes for j in (0, 1)]
        parts[f"Testing_{p:02d}.txt"] = [files[c][(j + p) % 4] for c in classes for j in (2, 3)]
    with zipfile.ZipFile(os.path.join(d, "Partitions.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, lines in parts.items():
            z.writestr(name, "\n".join(lines) + "\n")
    for split, key in (("train", "Training_01.txt"), ("test", "Testing_01.txt")):
        expect("sun397", split, [("SUN397" + f, classes.index(f.rsplit("/", 1)[0])) for f in parts[key]])


def aircraft():
    d = root("aircraft")
    variants = ["707-320", "A300B4", "Cessna 172", "DH-82"]
    ids = [f"{1000000 + 37 * i:07d}" for i in range(12)]
    var = {i: variants[n % 4] for n, i in enumerate(ids)}
    base = "fgvc-aircraft-2013b/data/"
    sets = {"train": ids[0:4], "val": ids[4:8], "test": ids[8:12]}
    sets["trainval"] = sets["train"] + sets["val"]
    members = [(base + "images/" + i + ".jpg", jpeg(40, 50)) for i in ids]
    members += [(base + "variants.txt", ("\n".join(variants) + "\n").encode()),
                (base + "families.txt", b"Boeing 707\nA300\nCessna 172\nDH-82\n"),
                (base + "images_box.txt", "".join(f"{i} 1 2 30 40\n" for i in ids).encode())]
    for s, lst in sets.items():
        members.append((base + f"images_variant_{s}.txt", "".join(f"{i} {var[i]}\n" for i in lst).encode()))
        members.append((base + f"images_{s}.txt", "".join(f"{i}\n" for i in lst).encode()))
    write_tar(os.path.join(d, "fgvc-aircraft-2013b.tar.gz"), members, "w:gz")
    for split, key in (("train", "trainval"), ("test", "test")):
        expect("aircraft", split, [(base + "images/" + i + ".jpg", variants.index(var[i])) for i in sets[key]])


def dtd():
    d = root("dtd")
    classes = ["banded", "blotchy", "zigzagged"]
    files = [f"{c}/{c}_{j:04d}.jpg" for c in classes for j in range(5)]
    members = [("dtd/images/" + f, jpeg()) for f in files]
    split = {"train1": files[0::5] + files[1::5], "val1": files[2::5], "test1": files[3::5] + files[4::5],
             "train2": files[4::5]}
    for k, v in split.items():
        members.append((f"dtd/labels/{k}.txt", ("\n".join(v) + "\n").encode()))
    members += [("dtd/labels/labels_joint_anno.txt", b"banded/banded_0000.jpg banded\n"), ("dtd/imdb/imdb.mat", b"x")]
    write_tar(os.path.join(d, "dtd-r1.0.1.tar.gz"), members, "w:gz")
    label = lambda f: sorted(classes).index(f.split("/")[0])
    expect("dtd", "train", [("dtd/images/" + f, label(f)) for f in split["train1"] + split["val1"]])
    expect("dtd", "test", [("dtd/images/" + f, label(f)) for f in split["test1"]])


def caltech101():
    d = root("caltech101")
    counts = {"accordion": 33, "Faces_easy": 31, "BACKGROUND_Google": 4, "yin_yang": 12}
    inner = [(f"101_ObjectCategories/{c}/image_{j + 1:04d}.jpg", jpeg(8, 8)) for c, n in counts.items() for j in range(n)]
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz") as t:
        for name, data in inner:
            add(t, name, data)
    ann = tar_bytes([("Annotations/Faces_3/annotation_0001.mat", mat_bytes({"box_coord": np.array([[1, 2, 3, 4]])}))])
    with zipfile.ZipFile(os.path.join(d, "caltech-101.zip"), "w") as z:
        z.writestr("caltech-101/101_ObjectCategories.tar.gz", b.getvalue())
        z.writestr("caltech-101/Annotations.tar", ann)
        z.writestr("caltech-101/show_annotation.m", "% m\n")
    # no official split: all non-background images, each class's count (the check draws nothing)
    allrows = sorted((f"caltech-101/101_ObjectCategories.tar.gz/{n}", sorted(c for c in counts if c != "BACKGROUND_Google").index(n.split("/")[1]))
                     for n, _ in inner if "/BACKGROUND_Google/" not in n)
    expect("caltech101", "all", allrows)


def imagenet():
    d = root("imagenet")
    meta = os.path.join(REF, "dataset-metadata", "imagenet-devkit", "meta.mat")
    syn = sio.loadmat(meta, squeeze_me=True)["synsets"]
    leaves = sorted((str(s["WNID"]), int(s["ILSVRC2012_ID"])) for s in syn if int(s["num_children"]) == 0)
    sorted_wnids = [w for w, _ in leaves]
    wnid_of_id = {i: w for w, i in leaves}
    wnids = ["n15075141", "n01440764", "n01443537"]  # tar order is not sorted order
    outer, rows = [], []
    for k, w in enumerate(wnids):
        files = [(f"{w}_{100 + j}.JPEG", jpeg(48 + 8 * j, 36, ["RGB", "L", "CMYK"][(k + j) % 3])) for j in range(3)]
        if k == 0:
            files.append((f"{w}_999.JPEG", jpeg(20, 20, fmt="PNG")))  # ImageNet has a PNG named .JPEG
        outer.append((w + ".tar", tar_bytes(files)))
        rows += [(f"{w}.tar/{f}", sorted_wnids.index(w)) for f, _ in files]
    write_tar(os.path.join(d, "ILSVRC2012_img_train.tar"), outer)
    gt_ids = [490, 1, 1000, 361, 2, 77]
    write_tar(os.path.join(d, "ILSVRC2012_img_val.tar"),
              [(f"ILSVRC2012_val_{k + 1:08d}.JPEG", jpeg(30 + k, 40)) for k in range(len(gt_ids))])
    devkit = [("ILSVRC2012_devkit_t12/data/meta.mat", open(meta, "rb").read()),
              ("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_blacklist.txt", b"36\n"),
              ("ILSVRC2012_devkit_t12/evaluation/demo_eval.m", b"% m\n")]
    write_tar(os.path.join(d, "ILSVRC2012_devkit_t12.tar.gz"), devkit + [
        ("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt",
         "".join(f"{i}\n" for i in gt_ids).encode())], "w:gz")
    expect("imagenet", "train", sorted(rows))
    expect("imagenet", "test", [(f"ILSVRC2012_val_{k + 1:08d}.JPEG", sorted_wnids.index(wnid_of_id[i]))
                                for k, i in enumerate(gt_ids)])
    # the real ground truth: the full 50000-row validation list
    d = root("imagenet_real")
    gt = open(os.path.join(REF, "dataset-metadata", "imagenet-devkit", "ILSVRC2012_validation_ground_truth.txt")).read()
    write_tar(os.path.join(d, "ILSVRC2012_devkit_t12.tar.gz"), devkit + [
        ("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt", gt.encode())], "w:gz")
    write_tar(os.path.join(d, "ILSVRC2012_img_val.tar"), [])
    expect("imagenet_real", "test", [(f"ILSVRC2012_val_{k + 1:08d}.JPEG", sorted_wnids.index(wnid_of_id[int(i)]))
                                     for k, i in enumerate(gt.split())])


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
        expect("imagefolder", split, [(os.path.relpath(p, os.path.join(d, split)), l) for p, l in ds.samples])


def idx():
    d = root("idx")
    for pre, n in (("train", 7), ("t10k", 4)):
        imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labs = rng.integers(0, 10, n, dtype=np.uint8)
        with gzip.open(os.path.join(d, f"{pre}-images-idx3-ubyte.gz"), "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">u4").tobytes() + imgs.tobytes())
        with gzip.open(os.path.join(d, f"{pre}-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes() + labs.tobytes())
        np.save(os.path.join(d, f"{pre}.npy"), imgs)
        expect("idx", "train" if pre == "train" else "test",
               [(f"{pre}-images-idx3-ubyte.gz#{i}", int(l)) for i, l in enumerate(labs)])


os.makedirs(OUT, exist_ok=True)
for f in (cub, dogs, cars, pets, sun397, aircraft, dtd, caltech101, imagenet, imagefolder, idx):
    f()
