"""The nine data sets' published layouts (archive names, member paths, split and label files, .mat
variables; DATASETS.md section 3) as functions of the class names, the image counts and an image
maker, shared by data_fixtures.py (the readers' fixtures) and tests/full/make_world.py (the full
tier's tiny world). Each writer puts the data set's files in folder d and returns its splits' rows,
{split: [(source, label)]}, derived from the split files the way torchvision and the official code
read them.

img(k, w=None, h=None, mode="RGB", fmt="JPEG") -> bytes is an image of class k (0-based, the label
the reader must give it), called in member order; w, h, mode and fmt are the layout's hints (an
aircraft image is taller, ImageNet has grayscale, CMYK and a PNG named .JPEG) that a maker may follow.

Every byte is a function of the arguments: tar members, gzip and zip headers and MAT-file headers
carry the fixed time MTIME, never the clock, so a world is the same file for file on every run."""
import gzip
import io
import os
import tarfile
import time
import zipfile

import numpy as np
import scipy.io as sio
from PIL import Image

MTIME = 1300000000  # 2011-03-13 07:06:40 UTC
GNU, PAX = tarfile.GNU_FORMAT, tarfile.PAX_FORMAT


def add(tar, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = MTIME
    tar.addfile(ti, io.BytesIO(data))


def _tar_into(fileobj, members, gz, fmt, name=""):
    # gzip's header holds a time and the file's name: the time fixed, the name as tarfile's "w:gz" writes it
    g = gzip.GzipFile(name, "wb", 9, fileobj, mtime=MTIME) if gz else None
    with tarfile.open(fileobj=g or fileobj, mode="w", format=fmt) as t:
        for n, data in members:
            add(t, n, data)
    if g:
        g.close()


def write_tar(path, members, gz=False, fmt=GNU):
    with open(path, "wb") as f:
        _tar_into(f, members, gz, fmt, path)


def tar_bytes(members, gz=False, fmt=GNU):
    b = io.BytesIO()
    _tar_into(b, members, gz, fmt)
    return b.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """members: (name, bytes or str); entries as ZipFile.writestr makes them, dated MTIME (UTC)."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, time.gmtime(MTIME)[:6])
            zi.compress_type = compression
            zi.external_attr = 0o600 << 16
            z.writestr(zi, data)


def mat_bytes(d, compress=True):
    """A MAT-file (v5) as scipy writes it, its 116-byte header text dated MTIME instead of now."""
    b = io.BytesIO()
    sio.savemat(b, d, do_compression=compress)
    text = f"MATLAB 5.0 MAT-file Platform: {os.name}, Created on: {time.asctime(time.gmtime(MTIME))}"
    return text.encode().ljust(116, b"\0") + b.getvalue()[116:]


def encode(a, mode="RGB", fmt="JPEG"):
    """An (h, w, 3) uint8 array as a JPEG (quality 90) or PNG, converted to mode first (L, CMYK)."""
    im = Image.fromarray(a, "RGB")
    if mode != "RGB":
        im = im.convert(mode)
    b = io.BytesIO()
    im.save(b, fmt, quality=90) if fmt == "JPEG" else im.save(b, fmt)
    return b.getvalue()


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def cell(strings):
    a = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        a[i, 0] = s
    return a


def lines(items):
    return "".join(f"{x}\n" for x in items).encode()


# ---- CUB-200-2011 ----

def cub(d, classes, n, img):
    """classes: the 'NNN.Name' folders; n images each; image i (1-based, over all) is a test image when
    i is a multiple of 3 (n = 9: 6 train, 3 test per class)."""
    members, images, labels, split = [], [], [], []
    i = 0
    for k, c in enumerate(classes):
        for j in range(n):
            i += 1
            p = f"{c}/{c[4:]}_{j:04d}_{100 + i}.jpg"
            members.append((f"CUB_200_2011/images/{p}", img(k)))
            images.append(f"{i} {p}")
            labels.append(f"{i} {k + 1}")
            split.append(f"{i} {1 if i % 3 else 0}")
    members += [("CUB_200_2011/images.txt", lines(images)), ("CUB_200_2011/image_class_labels.txt", lines(labels)),
                ("CUB_200_2011/train_test_split.txt", lines(split)),
                ("CUB_200_2011/classes.txt", lines(f"{k + 1} {c}" for k, c in enumerate(classes))),
                ("CUB_200_2011/bounding_boxes.txt", lines(f"{m + 1} 1.0 2.0 3.0 4.0" for m in range(i))),
                ("CUB_200_2011/README", b"readme\n"), ("attributes.txt", b"1 has_bill_shape::curved\n")]
    write_tar(os.path.join(d, "CUB_200_2011.tgz"), members, gz=True)
    out = {"train": [], "test": []}
    for im, lab, sp in zip(images, labels, split):
        out["train" if sp.split()[1] == "1" else "test"].append(
            ("CUB_200_2011/images/" + im.split(" ", 1)[1], int(lab.split()[1]) - 1))
    return out


# ---- Stanford Dogs ----

def dogs(d, breeds, n, img):
    """breeds: 'nXXXXXXXX-Name' folders; n images each; image i (0-based, over all) is a test image when
    i % 3 == 2 (n = 9: 6 train, 3 test per class)."""
    stride = max(10, n)
    files, labels = [], []
    for k, b in enumerate(breeds):
        for j in range(n):
            files.append(f"{b}/{b[:9]}_{1000 + stride * k + j}.jpg")
            labels.append(k + 1)
    write_tar(os.path.join(d, "images.tar"), [("Images/" + f, img(labels[i] - 1)) for i, f in enumerate(files)])
    write_tar(os.path.join(d, "annotation.tar"), [("Annotation/" + f[:-4], b"<annotation/>") for f in files])
    train = [i for i in range(len(files)) if i % 3 != 2]
    test = [i for i in range(len(files)) if i % 3 == 2]

    def lst(idx):
        return mat_bytes({"file_list": cell([files[i] for i in idx]),
                          "annotation_list": cell([files[i][:-4] for i in idx]),
                          "labels": np.array([[labels[i]] for i in idx], dtype=np.float64)})
    write_tar(os.path.join(d, "lists.tar"), [("file_list.mat", lst(range(len(files)))), ("train_list.mat", lst(train)),
                                             ("test_list.mat", lst(test))])
    return {"train": [("Images/" + files[i], labels[i] - 1) for i in train],
            "test": [("Images/" + files[i], labels[i] - 1) for i in test]}


# ---- Stanford Cars ----

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


def cars(d, names, train_classes, test_classes, img):
    """names: the class names; train_classes, test_classes: each image's class (1-based), in file order
    (00001.jpg, ...); test labels only in cars_test_annos_withlabels.mat, as published."""
    cn = np.empty((1, len(names)), dtype=object)
    cn[0, :] = names
    tr = [f"{i:05d}.jpg" for i in range(1, len(train_classes) + 1)]
    te = [f"{i:05d}.jpg" for i in range(1, len(test_classes) + 1)]
    write_tar(os.path.join(d, "car_devkit.tgz"), [
        ("devkit/cars_meta.mat", mat_bytes({"class_names": cn})),
        ("devkit/cars_train_annos.mat", mat_bytes({"annotations": annos(tr, train_classes)})),
        ("devkit/cars_test_annos.mat", mat_bytes({"annotations": annos(te, None)})),
        ("devkit/README.txt", b"readme\n"), ("devkit/eval_train.m", b"% m\n")], gz=True)
    write_tar(os.path.join(d, "cars_train.tgz"), [("cars_train/" + f, img(c - 1)) for f, c in zip(tr, train_classes)],
              gz=True)
    write_tar(os.path.join(d, "cars_test.tgz"), [("cars_test/" + f, img(c - 1)) for f, c in zip(te, test_classes)],
              gz=True)
    write_file(os.path.join(d, "cars_test_annos_withlabels.mat"),
               mat_bytes({"annotations": annos(te, test_classes)}, compress=False))
    return {"train": [("cars_train/" + f, c - 1) for f, c in zip(tr, train_classes)],
            "test": [("cars_test/" + f, c - 1) for f, c in zip(te, test_classes)]}


# ---- Oxford-IIIT Pet ----

def pets(d, ids, trainval, test, img):
    """ids: (image, class 1..37, species 1 cat / 2 dog, breed id) in list.txt order; trainval, test:
    subsets of ids. The images tar also holds a .mat file and a corrupt .jpg in no split, as the real
    one does."""
    members = [("images/" + i[0] + ".jpg", img(i[1] - 1)) for i in ids]
    members += [("images/Abyssinian_100.mat", b"not an image"), ("images/Egyptian_Mau_14.jpg", b"corrupt")]
    write_tar(os.path.join(d, "images.tar.gz"), members, gz=True)
    head = "#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n#SPECIES: 1:Cat 2:Dog\n#BREED ID: 1-25:Cat 1:12:Dog\n#All images with 1st letter as captial are cat images\n#images with small first letter are dog images\n"
    rows = lambda r: "".join(f"{a} {b} {c} {e}\n" for a, b, c, e in r).encode()
    write_tar(os.path.join(d, "annotations.tar.gz"), [
        ("annotations/list.txt", head.encode() + rows(ids)), ("annotations/trainval.txt", rows(trainval)),
        ("annotations/test.txt", rows(test)), ("annotations/trimaps/Abyssinian_1.png", img(0, 8, 8, fmt="PNG")),
        ("annotations/xmls/Abyssinian_1.xml", b"<annotation/>")], gz=True)
    return {"train": [("images/" + i[0] + ".jpg", i[1] - 1) for i in trainval],
            "test": [("images/" + i[0] + ".jpg", i[1] - 1) for i in test]}


# ---- SUN397 ----

def sun397(d, classes, n, ntrain, img):
    """classes: '/a/abbey' paths; n images each; partition p (1, 2) trains on ntrain of each class's
    images, starting at image p, and tests on the rest."""
    files = {c: [f"{c}/sun_{c.replace('/', '')}{j}.jpg" for j in range(n)] for c in classes}
    members = [("SUN397" + f, img(k)) for k, c in enumerate(classes) for f in files[c]]
    members += [("SUN397/ClassName.txt", lines(classes)), ("SUN397/README.txt", b"r\n")]
    write_tar(os.path.join(d, "SUN397.tar.gz"), members, gz=True)
    parts = {"ClassName.txt": classes}
    for p in (1, 2):
        parts[f"Training_{p:02d}.txt"] = [files[c][(j + p) % n] for c in classes for j in range(ntrain)]
        parts[f"Testing_{p:02d}.txt"] = [files[c][(j + p) % n] for c in classes for j in range(ntrain, n)]
    write_zip(os.path.join(d, "Partitions.zip"), [(k, "\n".join(v) + "\n") for k, v in parts.items()],
              zipfile.ZIP_DEFLATED)
    return {split: [("SUN397" + f, classes.index(f.rsplit("/", 1)[0])) for f in parts[key]]
            for split, key in (("train", "Training_01.txt"), ("test", "Testing_01.txt"))}


# ---- FGVC-Aircraft 2013b ----

def aircraft(d, variants, families, n, img):
    """variants: the variant names; families: families.txt's lines; n images each (image m has variant
    m mod V); the first third of the images is train, the second val, the last test (n = 9: trainval 6,
    test 3 per variant)."""
    total = len(variants) * n
    ids = [f"{1000000 + 37 * i:07d}" for i in range(total)]
    var = {i: variants[m % len(variants)] for m, i in enumerate(ids)}
    base = "fgvc-aircraft-2013b/data/"
    t = total // 3
    sets = {"train": ids[0:t], "val": ids[t:2 * t], "test": ids[2 * t:]}
    sets["trainval"] = sets["train"] + sets["val"]
    members = [(base + "images/" + i + ".jpg", img(variants.index(var[i]), 40, 50)) for i in ids]
    members += [(base + "variants.txt", lines(variants)),
                (base + "families.txt", lines(families)),
                (base + "images_box.txt", "".join(f"{i} 1 2 30 40\n" for i in ids).encode())]
    for s, lst in sets.items():
        members.append((base + f"images_variant_{s}.txt", "".join(f"{i} {var[i]}\n" for i in lst).encode()))
        members.append((base + f"images_{s}.txt", lines(lst)))
    write_tar(os.path.join(d, "fgvc-aircraft-2013b.tar.gz"), members, gz=True)
    return {split: [(base + "images/" + i + ".jpg", variants.index(var[i])) for i in sets[key]]
            for split, key in (("train", "trainval"), ("test", "test"))}


# ---- DTD r1.0.1 ----

def dtd(d, classes, n, img, train=(0, 1), val=(2,), test=(3, 4)):
    """classes: texture names; n images each; train, val, test: which image numbers of every class
    go to train1, val1, test1 (listed number by number, as in the published files)."""
    files = [f"{c}/{c}_{j:04d}.jpg" for c in classes for j in range(n)]
    label = lambda f: sorted(classes).index(f.split("/")[0])
    members = [("dtd/images/" + f, img(label(f))) for f in files]
    pick = lambda js: [f for j in js for f in files[j::n]]
    split = {"train1": pick(train), "val1": pick(val), "test1": pick(test), "train2": pick((n - 1,))}
    for k, v in split.items():
        members.append((f"dtd/labels/{k}.txt", ("\n".join(v) + "\n").encode()))
    members += [("dtd/labels/labels_joint_anno.txt", f"{files[0]} {classes[0]}\n".encode()),
                ("dtd/imdb/imdb.mat", b"x")]
    write_tar(os.path.join(d, "dtd-r1.0.1.tar.gz"), members, gz=True)
    return {"train": [("dtd/images/" + f, label(f)) for f in split["train1"] + split["val1"]],
            "test": [("dtd/images/" + f, label(f)) for f in split["test1"]]}


# ---- Caltech-101 ----

def caltech101(d, counts, img):
    """counts: {class: images}, BACKGROUND_Google among them (the reader excludes it). No official
    split: returns {"all": rows}, every non-background image; the reader draws 30 per class to train."""
    names = sorted(c for c in counts if c != "BACKGROUND_Google")
    inner = [(f"101_ObjectCategories/{c}/image_{j + 1:04d}.jpg", img(names.index(c) if c in names else -1, 8, 8))
             for c, n in counts.items() for j in range(n)]
    ann = tar_bytes([("Annotations/Faces_3/annotation_0001.mat", mat_bytes({"box_coord": np.array([[1, 2, 3, 4]])}))])
    write_zip(os.path.join(d, "caltech-101.zip"), [
        ("caltech-101/101_ObjectCategories.tar.gz", tar_bytes(inner, gz=True, fmt=PAX)),
        ("caltech-101/Annotations.tar", ann), ("caltech-101/show_annotation.m", "% m\n")])
    return {"all": sorted((f"caltech-101/101_ObjectCategories.tar.gz/{m}", names.index(m.split("/")[1]))
                          for m, _ in inner if "/BACKGROUND_Google/" not in m)}


# ---- ImageNet ILSVRC-2012 ----

def imagenet_leaves(meta):
    """The devkit's 1000 leaf synsets: (WNIDs in sorted order, {ILSVRC2012_ID: WNID})."""
    syn = sio.loadmat(meta, squeeze_me=True)["synsets"]
    leaves = sorted((str(s["WNID"]), int(s["ILSVRC2012_ID"])) for s in syn if int(s["num_children"]) == 0)
    return [w for w, _ in leaves], {i: w for w, i in leaves}


def imagenet_devkit(path, meta, ground_truth):
    """ILSVRC2012_devkit_t12.tar.gz with the real meta.mat and the given ground truth text."""
    with open(meta, "rb") as f:
        m = f.read()
    write_tar(path, [("ILSVRC2012_devkit_t12/data/meta.mat", m),
                     ("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_blacklist.txt", b"36\n"),
                     ("ILSVRC2012_devkit_t12/evaluation/demo_eval.m", b"% m\n"),
                     ("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt", ground_truth.encode())],
              gz=True)


def imagenet(d, meta, wnids, n, gt_ids, img, modes=("RGB", "L", "CMYK")):
    """meta: the real devkit meta.mat; wnids: the classes in the train tar, in tar order (not sorted,
    as the real tar); n images each, image j of class k in mode modes[(k + j) % len(modes)], plus a PNG
    named .JPEG in the first class (the real tar has one); gt_ids: the validation images' ILSVRC2012_IDs."""
    sorted_wnids, wnid_of_id = imagenet_leaves(meta)
    outer, rows = [], []
    for k, w in enumerate(wnids):
        lab = sorted_wnids.index(w)
        files = [(f"{w}_{100 + j}.JPEG", img(lab, 48 + 8 * j, 36, modes[(k + j) % len(modes)])) for j in range(n)]
        if k == 0:
            files.append((f"{w}_999.JPEG", img(lab, 20, 20, fmt="PNG")))
        outer.append((w + ".tar", tar_bytes(files)))
        rows += [(f"{w}.tar/{f}", lab) for f, _ in files]
    write_tar(os.path.join(d, "ILSVRC2012_img_train.tar"), outer)
    test = [(f"ILSVRC2012_val_{k + 1:08d}.JPEG", sorted_wnids.index(wnid_of_id[i])) for k, i in enumerate(gt_ids)]
    write_tar(os.path.join(d, "ILSVRC2012_img_val.tar"),
              [(s, img(lab, 30 + k, 40)) for k, (s, lab) in enumerate(test)])
    imagenet_devkit(os.path.join(d, "ILSVRC2012_devkit_t12.tar.gz"), meta, lines(gt_ids).decode())
    return {"train": sorted(rows), "test": test}
