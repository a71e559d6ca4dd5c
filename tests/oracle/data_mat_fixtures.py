"""Writes MAT-file fixtures with scipy.io.savemat and, for each fixture and for the real devkit
files, the canonical dump of what scipy.io.loadmat reads, for test_data_mat to compare with
uotft's reader. usage: data_mat_fixtures.py OUTDIR REF"""
import os
import sys
import warnings

import numpy as np
import scipy.io as sio

MX = {np.float64: 6, np.float32: 7, np.int8: 8, np.uint8: 9, np.int16: 10, np.uint16: 11,
      np.int32: 12, np.uint32: 13, np.int64: 14, np.uint64: 15, np.bool_: 9, np.complex128: 6}


def dims(a):
    return "x".join(str(d) for d in a.shape)


def dump(path, a, out):
    # the same canonical form as dump() in tests/unit/test_data_mat.c
    if a.dtype.names:
        out.append(f"{path} struct {dims(a)} fields={','.join(a.dtype.names)}")
        flat = a.flatten(order="F")
        for i, el in enumerate(flat):
            for f in a.dtype.names:
                dump(f"{path}({i + 1}).{f}", el[f], out)
    elif a.dtype == object:
        out.append(f"{path} cell {dims(a)}")
        for i, el in enumerate(a.flatten(order="F")):
            dump(f"{path}{{{i + 1}}}", el, out)
    elif a.dtype.kind == "U":
        rows = a.reshape(a.shape[0], -1, order="F") if a.size else np.zeros((a.shape[0], 0), "U1")
        out.append((f"{path} char {dims(a)} = " + " ".join('"' + "".join(r) + '"' for r in rows)).rstrip(" ="))
    else:
        vals = " ".join("%.17g" % float(v) for v in np.real(a).flatten(order="F"))
        out.append(f"{path} num c{MX[a.dtype.type]} {dims(a)} = {vals}".rstrip(" ="))


def write_dump(matpath, outpath):
    d = sio.loadmat(matpath, squeeze_me=False, chars_as_strings=False, mat_dtype=True, struct_as_record=True)
    out = []
    for k in sorted(d):
        if not k.startswith("__"):
            dump(k, d[k], out)
    with open(outpath, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def fixture():
    rec = np.zeros((1, 3), dtype=[("id", object), ("name", object), ("sub", object)])
    for i in range(3):
        rec[0, i]["id"] = np.array([[i + 1.5]])
        rec[0, i]["name"] = f"item {i}"
        rec[0, i]["sub"] = {"x": np.arange(i + 1, dtype=np.int32), "tag": "t" * i}
    cell = np.empty((2, 2), dtype=object)
    cell[0, 0] = np.array([[1.0, 2.0]])
    cell[1, 0] = "text"
    cell[0, 1] = np.empty((0, 0))
    inner = np.empty((1, 2), dtype=object)
    inner[0, 0] = np.array([[7]], dtype=np.uint16)
    inner[0, 1] = "deep"
    cell[1, 1] = inner
    return {
        "d": np.arange(6, dtype=np.float64).reshape(2, 3) / 7,
        "s": np.array([[1.25, -3.5e-8]], dtype=np.float32),
        "i8": np.array([[-128, 127, -1]], dtype=np.int8),
        "u8": np.array([[0, 255]], dtype=np.uint8),
        "i16": np.array([[-32768, 12345]], dtype=np.int16),
        "u16": np.array([[65535]], dtype=np.uint16),
        "i32": np.array([[-2147483648, 7]], dtype=np.int32),
        "u32": np.array([[4294967295]], dtype=np.uint32),
        "i64": np.array([[-(2 ** 40), 3]], dtype=np.int64),
        "u64": np.array([[2 ** 50]], dtype=np.uint64),
        "lg": np.array([[True, False, True]]),
        "cx": np.array([[1 + 2j, 3 - 4j]]),
        "nd": np.arange(24, dtype=np.float64).reshape(2, 3, 4),
        "empty": np.empty((0, 0)),
        "str": "hello world",
        "uni": "h\u00e9llo \u20ac",
        "rows": np.array(["abc", "def"]),
        "cl": cell,
        "st": rec,
        "one": {"a": 1.0, "b": "bee", "c": np.array([[1, 2], [3, 4]], dtype=np.int16)},
    }


def main():
    warnings.simplefilter("ignore", np.ComplexWarning)  # the reader drops imaginary parts too
    out, ref = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    data = fixture()
    for name, comp in (("fix_z", True), ("fix_plain", False)):
        p = os.path.join(out, name + ".mat")
        sio.savemat(p, data, do_compression=comp, oned_as="row")
        write_dump(p, os.path.join(out, name + ".expect"))
    meta = os.path.join(ref, "dataset-metadata")
    for rel, name in (("imagenet-devkit/meta.mat", "meta"), ("stanford-cars-devkit/cars_meta.mat", "cars_meta"),
                      ("stanford-cars-devkit/cars_train_annos.mat", "cars_train_annos"),
                      ("stanford-cars-devkit/cars_test_annos.mat", "cars_test_annos")):
        write_dump(os.path.join(meta, rel), os.path.join(out, name + ".expect"))


main()
