"""uotft features and uotft probe, checked with numpy and scikit-learn.

Usage: mini_features.py UOTFT WORLD WORKDIR

Features (reduced backbones, so it is quick: small:8,16:1,1 randomly initialised; a one-step MoCo
checkpoint of the same shape for --mlp), read back with numpy:
  - the released means' layout: <set>.means.npy float64 (classes, d), <set>.counts.npy int64
    (classes); per image <set>-<split>.features.npy float32 (n, d), .labels.npy int64 (n)
  - labels in the order of the .mset file (read here from its bytes), counts per class as the
    datasheet says (pool 60, digits 5)
  - the means equal numpy's per-class means of the per-image features (1e-12 relative)
  - --mlp gives the MoCo head's 128-d output; `uotft select` ranks pool classes from the files
The probe against scikit-learn's LogisticRegression(multinomial, lbfgs) with the same C on the same
standardised features (100 pool classes, 6000 training and 2000 held-out images): held-out and
training accuracy within 1.5 points, the objective within 1e-3 (relative).
"""
import os
import subprocess
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

uotft, world, work = sys.argv[1:4]
ARCH = "small:8,16:1,1"
fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)


def run(*args):
    r = subprocess.run([uotft] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("uotft %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
    return r.stdout


def mset_labels(path):
    raw = open(path, "rb").read()
    count = int.from_bytes(raw[8:12], "little")
    return np.frombuffer(raw, dtype="<u2", count=count, offset=32).astype(np.int64)


rnd = os.path.join(work, "random")
run("features", "--arch", ARCH, "--random-init", "--seed", "3", "--out", rnd, "--data", world,
    "--sets", "pool,digits", "--splits", "train,test", "--threads", "2")
for s, k, per in (("pool", 565, 60), ("digits", 10, 5)):
    means = np.load(os.path.join(rnd, s + ".means.npy"))
    counts = np.load(os.path.join(rnd, s + ".counts.npy"))
    X = np.load(os.path.join(rnd, s + "-train.features.npy"))
    y = np.load(os.path.join(rnd, s + "-train.labels.npy"))
    check(means.dtype == np.float64 and means.shape == (k, 16), "%s.means.npy: float64 (%d, 16)" % (s, k))
    check(counts.dtype == np.int64 and counts.shape == (k,) and (counts == per).all(),
          "%s.counts.npy: int64 (%d,), %d per class" % (s, k, per))
    check(X.dtype == np.float32 and X.shape == (k * per, 16) and np.isfinite(X).all(),
          "%s-train.features.npy: float32 (%d, 16), finite" % (s, k * per))
    check(y.dtype == np.int64 and (y == mset_labels(os.path.join(world, s + "-train.mset"))).all(),
          "%s-train.labels.npy: int64, the .mset's labels in its order" % s)
    ref = np.stack([X[y == c].astype(np.float64).mean(0) for c in range(k)])
    check(np.abs(means - ref).max() <= 1e-12 * np.abs(ref).max(), "%s means = numpy's per-class means" % s)
yt = np.load(os.path.join(rnd, "pool-test.labels.npy"))
check((yt == mset_labels(os.path.join(world, "pool-test.mset"))).all() and
      np.load(os.path.join(rnd, "pool-test.features.npy")).shape == (11300, 16), "pool-test: 11300 rows in order")
check(not os.path.exists(os.path.join(rnd, "pool-test.means.npy")), "no means for a test split")

# --mlp: a MoCo state checkpoint after one step (its extras are skipped by the reader)
pt = os.path.join(work, "moco")
run("pretrain", "--method", "moco", "--arch", ARCH, "--data", world, "--out", pt, "--batch", "32", "--queue", "64",
    "--bn-groups", "2", "--stop-after", "1", "--threads", "2", "--quiet")
mlp = os.path.join(work, "mlp")
run("features", "--ckpt", os.path.join(pt, "moco-v2.state.ckpt"), "--mlp", "--out", mlp, "--data", world,
    "--sets", "digits", "--threads", "2")
m = np.load(os.path.join(mlp, "digits.means.npy"))
check(m.shape == (10, 128) and m.dtype == np.float64, "--mlp: the MoCo head's 128-d output")
out = run("select", "--source-means", os.path.join(rnd, "pool.means.npy"), "--source-counts",
          os.path.join(rnd, "pool.counts.npy"), "--target-means", os.path.join(rnd, "digits.means.npy"),
          "--target-counts", os.path.join(rnd, "digits.counts.npy"), "--method", "uot-cos", "--top", "20",
          "--out", os.path.join(work, "selected.tsv"))
sel = open(os.path.join(work, "selected.tsv")).read().splitlines()
check(len(sel) == 21 and sel[0] == "rank\tindex\tscore", "uotft select ranks the pool from these files")

# the probe against scikit-learn on 100 classes of the random features
sub = os.path.join(work, "probe")
os.makedirs(sub, exist_ok=True)
data = {}
for split in ("train", "test"):
    X = np.load(os.path.join(rnd, "pool-%s.features.npy" % split))
    y = np.load(os.path.join(rnd, "pool-%s.labels.npy" % split))
    keep = y < 100
    data[split] = (X[keep], y[keep])
    np.save(os.path.join(sub, "pool-%s.features.npy" % split), X[keep])
    np.save(os.path.join(sub, "pool-%s.labels.npy" % split), y[keep])
C = 0.1
res = dict(line.split("\t") for line in run("probe", "--dir", sub, "--C", str(C), "--max-iter", "500",
                                              "--threads", "2").splitlines())
scaler = StandardScaler().fit(data["train"][0].astype(np.float64))
Xtr, Xte = scaler.transform(data["train"][0].astype(np.float64)), scaler.transform(data["test"][0].astype(np.float64))
lr = LogisticRegression(C=C, max_iter=500, multi_class="multinomial", solver="lbfgs").fit(Xtr, data["train"][1])
acc_tr, acc_te = lr.score(Xtr, data["train"][1]), lr.score(Xte, data["test"][1])
Z = Xtr @ lr.coef_.T + lr.intercept_
Z -= Z.max(1, keepdims=True)
ce = -(Z[np.arange(len(Z)), data["train"][1]] - np.log(np.exp(Z).sum(1))).sum()
obj = ce + (lr.coef_ ** 2).sum() / (2 * C)
ours_tr, ours_te, ours_obj = float(res["train_accuracy"]), float(res["test_accuracy"]), float(res["objective"])
print("probe: ours train %.4f test %.4f objective %.6g; scikit-learn train %.4f test %.4f objective %.6g"
      % (ours_tr, ours_te, ours_obj, acc_tr, acc_te, obj))
check(abs(ours_te - acc_te) <= 0.015 and abs(ours_tr - acc_tr) <= 0.015, "probe accuracies within 1.5 points")
check(abs(ours_obj - obj) <= 1e-3 * obj, "probe objective within 1e-3 of scikit-learn's")
check(acc_te > 0.05, "the features carry information (above the 1% chance of 100 classes)")
sys.exit(1 if fails else 0)
