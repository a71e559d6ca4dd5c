"""uotft kmeans against scikit-learn's KMeans on the same normalised data.

usage: kmeans_sklearn.py UOTFT WORK_DIR
Three problems (clustered and unclustered). For each: uotft's spherical objective is within 2% of
the same objective evaluated on scikit-learn's best-of-10 k-means++ solution (its labels, its
centroids normalised); uotft's printed objective matches its written centroids and assignment;
both best of 10 runs; every point is assigned to its centroid of largest cosine; at convergence every centroid is the
normalised mean of its points; 1 and 2 threads give identical files.
"""
import os
import subprocess
import sys

import numpy as np
from sklearn.cluster import KMeans

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def spherical_objective(Xn, C, labels):
    C = C / np.linalg.norm(C, axis=1, keepdims=True)
    return float(((Xn - C[labels]) ** 2).sum())


def run(uotft, X, k, work, name, threads, extra=()):
    xp, cp, ap = (os.path.join(work, f"{name}-{s}.npy") for s in ("X", f"C{threads}", f"A{threads}"))
    np.save(xp, X)
    out = subprocess.run([uotft, "kmeans", "--features", xp, "--k", str(k), "--centroids", cp, "--assign", ap,
                          "--threads", str(threads), *extra], capture_output=True, text=True, check=True).stdout
    vals = dict(line.split("\t") for line in out.strip().splitlines())
    return float(vals["objective"]), int(vals["iterations"]), np.load(cp), np.load(ap), cp, ap


def main():
    uotft, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(5)
    problems = []
    centres = rng.standard_normal((12, 16))
    problems.append(("blobs", centres[rng.integers(0, 12, 3000)] + 0.35 * rng.standard_normal((3000, 16)), 12))
    centres = rng.standard_normal((40, 32))
    problems.append(("overlap", centres[rng.integers(0, 40, 4000)] + 1.0 * rng.standard_normal((4000, 32)), 40))
    problems.append(("noise", rng.standard_normal((2000, 8)), 25))
    for name, X, k in problems:
        X = X.astype(np.float32)
        Xn = (X / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)).astype(np.float64)
        ours, iters, C, A, cp1, ap1 = run(uotft, X, k, work, name, 1, ("--iters", "300", "--n-init", "10"))
        _, _, C2, A2, cp2, ap2 = run(uotft, X, k, work, name, 2, ("--iters", "300", "--n-init", "10"))
        check(open(cp1, "rb").read() == open(cp2, "rb").read() and open(ap1, "rb").read() == open(ap2, "rb").read(),
              f"{name}: 1 and 2 threads differ")
        km = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=0, algorithm="lloyd").fit(Xn)
        theirs = spherical_objective(Xn, km.cluster_centers_, km.labels_)
        print(f"{name}: n {len(X)} d {X.shape[1]} k {k}: uotft {ours:.6f} ({iters} iterations), "
              f"scikit-learn {theirs:.6f}, ratio {ours / theirs:.4f}")
        check(abs(ours - theirs) <= 0.02 * theirs, f"{name}: objective {ours} not within 2% of {theirs}")
        check(C.dtype == np.float32 and C.shape == (k, X.shape[1]) and A.dtype == np.int32 and A.shape == (len(X),),
              f"{name}: output types or shapes")
        check(np.allclose(np.linalg.norm(C.astype(np.float64), axis=1), 1, atol=1e-5), f"{name}: centroids not unit")
        mine = spherical_objective(Xn, C.astype(np.float64), A)
        check(abs(mine - ours) <= 1e-6 * max(1, ours), f"{name}: printed objective {ours} != recomputed {mine}")
        S = Xn @ C.astype(np.float64).T
        gap = S.max(axis=1) - S[np.arange(len(X)), A]
        check(gap.max() <= 1e-5, f"{name}: a point is not with its nearest centroid (gap {gap.max():.2e})")
        if iters < 300:  # converged: a fixed point of Lloyd's step
            for j in range(k):
                m = Xn[A == j].sum(axis=0)
                if np.linalg.norm(m) > 0:
                    check(np.abs(m / np.linalg.norm(m) - C[j]).max() < 1e-5, f"{name}: centroid {j} is not its mean")
    if failures:
        print(f"{failures} check(s) failed")
        return 1
    print("kmeans: all checks hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
