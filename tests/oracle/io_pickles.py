"""Writes NumPy pickles for the pickle reader's tests (run with Debian's /usr/bin/python3).

usage: io_pickles.py OUT REF SOURCE

OUT/p{2,3,4}/<upstream path>: every released class-mean pickle re-made from the reference .npy files
  (shared/reference/released-class-means; counts as float64, as upstream pickled them) and the three
  class-list pickles re-made from imagenet-classes.tsv, with pickle protocols 2, 3 and 4. Protocol 3 is
  what upstream used: those files must be byte-identical to the upstream files (sha256 from MANIFEST.tsv
  and from SOURCE/datasets/recipes/released-means.tsv), or this script fails.
OUT/edge/<name>.pkl + <name>.npy: arrays of other types, orders and ranks, with the array the reader must
  return (float16 -> float32, small ints and bool -> int32, C order).
OUT/bad/<name>.pkl: pickles the reader must refuse (code-running globals, object and big-endian arrays...).
"""
import csv
import hashlib
import os
import pickle
import shutil
import sys

import numpy as np

out, ref, source = sys.argv[1:4]
shutil.rmtree(out, ignore_errors=True)
means = os.path.join(ref, "released-class-means")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- the released pickles, re-made ---
manifest = list(csv.DictReader(open(os.path.join(means, "MANIFEST.tsv")), delimiter="\t"))
classes = list(csv.DictReader(open(os.path.join(means, "imagenet-classes.tsv")), delimiter="\t", quoting=csv.QUOTE_NONE))
recipe = {}
for line in open(os.path.join(source, "datasets", "recipes", "released-means.tsv")):
    if line.strip() and not line.startswith("#"):
        f = line.rstrip("\n").split("\t")
        recipe[f[0]] = f[2]

upstream = {}
for row in manifest:
    a = np.load(os.path.join(means, row["file"]))
    if a.dtype == np.int64:
        a = a.astype(np.float64)  # upstream pickled the counts as float64
    upstream[row["upstream_path"]] = (a, row["upstream_sha256"])
for col, name in (("wnid", "class_path"), ("concept", "class_concept"), ("name", "class_names")):
    path = "UOT_selection/%s.pkl" % name
    upstream[path] = ([r[col] for r in classes], recipe[path])

mismatch = 0
for path, (obj, want) in upstream.items():
    for proto in (2, 3, 4):
        data = pickle.dumps(obj, protocol=proto)
        write(os.path.join(out, "p%d" % proto, path), data)
        if proto == 3 and sha(data) != want:
            print("re-made %s differs from upstream (sha256 %s, upstream %s)" % (path, sha(data), want))
            mismatch += 1
if mismatch:
    sys.exit("io_pickles: %d re-made pickles differ from the released ones" % mismatch)

# --- other arrays: (name, array, protocol, what the reader returns) ---
rng = np.random.default_rng(7)
f8 = rng.standard_normal((5, 7))
edge = [
    ("f4", rng.standard_normal((4, 3)).astype(np.float32), 4, None),
    ("i8", rng.integers(-2**62, 2**62, (3, 2)), 2, None),
    ("i4", rng.integers(-2**31, 2**31, (6,)).astype(np.int32), 3, None),
    ("f2", np.array([0, 1, -2, 65504, 6.1e-5, 6e-8, np.inf, -np.inf], np.float16), 4, np.float32),
    ("bool", np.array([[True, False], [False, True]]), 2, np.int32),
    ("u1", np.arange(250, 256).astype(np.uint8), 3, np.int32),
    ("i1", np.array([-128, -1, 0, 127], np.int8), 4, np.int32),
    ("i2", np.array([-32768, 7, 32767], np.int16), 2, np.int32),
    ("fortran", np.asfortranarray(f8), 3, None),
    ("fortran3d", np.asfortranarray(rng.standard_normal((2, 3, 4)).astype(np.float32)), 2, None),
    ("scalar", np.array(3.5), 4, None),
    ("empty", np.zeros((0, 3)), 3, None),
    ("rank5", rng.standard_normal((1, 2, 1, 3, 2)), 4, None),
    ("transposed", f8.T, 2, None),  # pickled as Fortran order
]
for name, a, proto, widen in edge:
    write(os.path.join(out, "edge", name + ".pkl"), pickle.dumps(a, protocol=proto))
    np.save(os.path.join(out, "edge", name + ".npy"), np.array(a, dtype=widen or a.dtype, order="C"))


# --- pickles to refuse ---
class Run:
    """Unpickling calls fn(*args): what a hostile pickle does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


marker = os.path.join(out, "bad", "PWNED")
bad = {
    # pickle names os.system 'posix system' on Linux: write the 'os system' spelling by hand
    "os_system": b"\x80\x03cos\nsystem\nX" + len("touch " + marker).to_bytes(4, "little") +
                 ("touch " + marker).encode() + b"\x85R.",
    "posix_system": pickle.dumps(Run(os.system, "touch " + marker), protocol=2),
    "builtins_eval": pickle.dumps(Run(eval, "open(%r, 'w')" % marker), protocol=4),
    "builtins_eval_p2": pickle.dumps(Run(eval, "open(%r, 'w')" % marker), protocol=2),
    "object_array": pickle.dumps(np.array(["a", None], dtype=object), protocol=3),
    "big_endian": pickle.dumps(np.arange(3, dtype=">f8"), protocol=3),
    "complex": pickle.dumps(np.arange(3, dtype=np.complex128), protocol=3),
    "structured": pickle.dumps(np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]), protocol=3),
    "unicode_array": pickle.dumps(np.array(["abc"]), protocol=3),
    "protocol5": pickle.dumps(f8, protocol=5),
    "a_dict": pickle.dumps({"a": 1}, protocol=3),
}
for name, data in bad.items():
    write(os.path.join(out, "bad", name + ".pkl"), data)
print("io_pickles: %d released pickles x 3 protocols (protocol 3 byte-identical to upstream), %d edge, %d bad"
      % (len(upstream), len(edge), len(bad)))
