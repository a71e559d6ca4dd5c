"""Checks a built mini world (datasets/mini/build) against its design, with
readers of its own: the .mset files through numpy and zlib, and every glyph
image's face through fontTools (an independent reading of the fonts' cmaps).

usage: check_world.py WORLD [--pool-train N --pool-test N]
Exit status 0 when every check holds; each failure is printed.
"""
import argparse
import csv
import logging
import os
import struct
import sys
import zlib

import numpy as np
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

# The design (datasets/mini/README.md): images per class and split of each target.
TARGETS = {"digits": (10, 5, 100), "fashion": (10, 20, 100), "hand": (26, 5, 50), "mix": (20, 3, 50)}
GLYPH_SETS = ("pool", "hand", "mix")
MIN_POOL_CLASSES = 500

failures = []
logging.getLogger("fontTools").setLevel(logging.ERROR)


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def read_mset(path):
    b = open(path, "rb").read()
    assert b[:8] == b"UFMSET1\n", path
    n, h, w, classes, crc, payload = struct.unpack("<IHHIIQ", b[8:32])
    assert payload == n * (2 + h * w) == len(b) - 32, path
    assert zlib.crc32(b[32:]) == crc, path
    labels = np.frombuffer(b, "<u2", n, 32).astype(np.int64)
    pixels = np.frombuffer(b, np.uint8, n * h * w, 32 + 2 * n).reshape(n, h, w)
    assert labels.max() < classes, path
    return labels, pixels, classes


def table(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def draws(font, cmap, cp, cache={}):
    """fontTools' verdict: the face maps cp to a glyph other than .notdef that has an outline."""
    name = cmap.get(cp)
    if name is None or name == ".notdef":
        return False
    gs = font.getGlyphSet()
    pen = BoundsPen(gs)
    gs[name].draw(pen)
    return pen.bounds is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("world")
    ap.add_argument("--pool-train", type=int, default=60)
    ap.add_argument("--pool-test", type=int, default=20)
    a = ap.parse_args()
    W = a.world
    faces = table(os.path.join(W, "faces.tsv"))
    expect = dict(TARGETS, pool=(None, a.pool_train, a.pool_test))
    sets = {}
    for name, (nclasses, ntr, nte) in expect.items():
        classes = table(os.path.join(W, f"{name}-classes.tsv"))
        tr_l, tr_x, tr_c = read_mset(os.path.join(W, f"{name}-train.mset"))
        te_l, te_x, te_c = read_mset(os.path.join(W, f"{name}-test.mset"))
        tr_s = np.load(os.path.join(W, f"{name}-train-source.npy"))
        te_s = np.load(os.path.join(W, f"{name}-test-source.npy"))
        k = len(classes)
        sets[name] = (classes, tr_l, tr_x, tr_s, te_l, te_x, te_s)
        if nclasses is not None:
            check(k == nclasses, f"{name}: {k} classes, expected {nclasses}")
        check(tr_c == te_c == k, f"{name}: class count in the files ({tr_c}, {te_c}) != classes.tsv ({k})")
        check(tr_x.shape[1:] == te_x.shape[1:] == (32, 32), f"{name}: images are not 32 x 32")
        check(np.array_equal(np.bincount(tr_l, minlength=k), np.full(k, ntr)), f"{name}: not {ntr} train per class")
        check(np.array_equal(np.bincount(te_l, minlength=k), np.full(k, nte)), f"{name}: not {nte} test per class")
        check(len(tr_s) == len(tr_l) and len(te_s) == len(te_l), f"{name}: source arrays do not match the images")
        for split, x in (("train", tr_x), ("test", te_x)):
            flat = x.reshape(len(x), -1).astype(np.int64)
            # ink: at least 8 pixels clearly brighter than the paper, the image's median (fashion's
            # objects, some of them dark, can cover most of a black background)
            if name == "fashion":
                bright = (flat > 20).sum(axis=1)
            else:
                bright = (flat > np.median(flat, axis=1, keepdims=True) + 50).sum(axis=1)
            check(bright.min() >= 8, f"{name}-{split}: image {int(bright.argmin())} has no ink")
            check(len({r.tobytes() for r in flat.astype(np.uint8)}) == len(flat), f"{name}-{split}: duplicate images")

    classes, tr_l, tr_x, *_ = sets["pool"]
    check(len(classes) >= MIN_POOL_CLASSES, f"pool: {len(classes)} classes, at least {MIN_POOL_CLASSES} needed")
    concepts = {r["concept"] for r in classes}
    check({"digit", "latin", "greek", "cyrillic", "hangul", "han"} <= concepts, f"pool: concepts {sorted(concepts)}")
    check([r["name"] for r in classes if r["concept"] == "digit"] == list("0123456789"), "pool: digit classes")
    # classes differ: no two class means are nearly the same image
    means = np.stack([tr_x[tr_l == c].reshape(-1, 1024).mean(0) for c in range(len(classes))])
    sq = (means ** 2).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * means @ means.T, 0))
    iu = np.triu_indices(len(classes), 1)
    check(d[iu].min() > 0.15 * np.median(d[iu]),
          f"pool: class means {np.unravel_index(np.argmin(d + np.eye(len(d)) * 1e9), d.shape)} are nearly equal")

    # every glyph image: its face draws the class's character (no .notdef, no blank) with the right role
    pool_cps = {r["codepoint"] for r in classes}
    checked = 0
    by_face = {}
    for name in GLYPH_SETS:
        cls, tr_l, _, tr_s, te_l, _, te_s = sets[name]
        for labels, src in ((tr_l, tr_s), (te_l, te_s)):
            for lab, f in zip(labels, src):
                by_face.setdefault(int(f), set()).add(int(cls[lab]["codepoint"][2:], 16))
        roles = {faces[int(f)]["role"] for f in np.concatenate([tr_s, te_s])}
        check(roles == ({"hand"} if name == "hand" else {"pool"}), f"{name}: drawn by faces of roles {roles}")
        for r in cls:
            in_pool = r["codepoint"] in pool_cps
            check((int(r["pool_label"]) >= 0) == in_pool, f"{name}: pool_label of {r['codepoint']}")
    for f, cps in sorted(by_face.items()):
        row = faces[f]
        font = TTFont(row["file"], fontNumber=int(row["index"]), lazy=True)
        cmap = font.getBestCmap() or {}
        for cp in sorted(cps):
            check(draws(font, cmap, cp), f"face {f} ({row['family']} {row['style']}) does not draw U+{cp:04X}")
            checked += 1
        font.close()
    print(f"fontTools: {checked} (face, character) pairs of {len(by_face)} faces draw their class")
    hand = sets["hand"][0]
    check(all(int(r["pool_label"]) >= 0 for r in hand), "hand: a class that is not in the pool")
    mix = sets["mix"][0]
    inside = sum(int(r["pool_label"]) >= 0 for r in mix)
    check(0 < inside < len(mix), f"mix: {inside} of {len(mix)} classes in the pool, expected a part")

    # real targets: digits in the pool's digit classes, distinct source images, train and test disjoint
    dig = sets["digits"][0]
    check([classes[int(r["pool_label"])]["name"] for r in dig] == list("0123456789"), "digits: pool labels")
    for name, total in (("digits", 5000), ("fashion", None)):
        _, tr_l, _, tr_s, te_l, _, te_s = sets[name]
        check(len(set(tr_s)) == len(tr_s) and len(set(te_s)) == len(te_s), f"{name}: a source image used twice")
        if total:  # one source file: the splits must not share an image
            check(not set(tr_s) & set(te_s), f"{name}: train and test share images")
            check(tr_s.max() < total and tr_s.min() >= 0, f"{name}: source index out of range")
            check(all(s // 500 == l for s, l in zip(tr_s, tr_l)), f"{name}: a label disagrees with digits.png's layout")

    for name in list(expect) + ["pool-classes"]:
        png = open(os.path.join(W, f"{name}.png"), "rb").read(24)
        check(png[:8] == b"\x89PNG\r\n\x1a\n", f"{name}.png is not a PNG")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("world: all checks hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
