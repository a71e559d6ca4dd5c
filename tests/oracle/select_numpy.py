#!/usr/bin/python3
"""`uotft select` on the released class means against numpy / scipy.

usage: select_numpy.py UOTFT REFERENCE_DIR OUTDIR

For CUB and Dogs, both backbones, every method (and UOT-cos at eps_c = 0.001,
where uotft must switch to the log domain): the top 100 must be the same
classes in the same order and the scores agree to 1e-9 relative. The oracle's
UOT runs in the log domain with scipy's logsumexp; Greedy-OT is its formula.
"""
import subprocess
import sys

import numpy as np
from scipy.special import logsumexp

RTOL = 1e-9


def normed(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def uot_row_mass(M, eps=1.0, tau1=1.0, tau2=100.0, max_iter=1000, tol=1e-6):
    ns, nt = M.shape
    fu, fv = tau1 / (tau1 + eps), tau2 / (tau2 + eps)
    L = M / -eps
    f, g = np.full(ns, -np.log(ns)), np.full(nt, -np.log(nt))

    def rel(x, xp):  # POT's criterion computed without overflow
        s = max(0.0, x.max(), xp.max())
        return np.abs(np.exp(x - s) - np.exp(xp - s)).max()

    for _ in range(max_iter):
        fp, gp = f, g
        f = fu * (0.0 - logsumexp(L + g[None, :], axis=1))
        g = fv * (0.0 - logsumexp(L + f[:, None], axis=0))
        if 0.5 * (rel(f, fp) + rel(g, gp)) < tol:
            break
    return np.exp(f + logsumexp(L + g[None, :], axis=1))


def oracle(method, S, T, counts, eps_c):
    if method in ("uot-cos", "got-cos"):
        D = 1 - normed(S) @ normed(T).T
    else:
        D = np.sqrt(((S[:, None, :] - T[None, :, :]) ** 2).sum(-1))
    if method.startswith("got"):
        return np.exp(-0.01 * (D @ (counts / counts.sum())))
    return uot_row_mass(D / eps_c)


def main():
    uotft, ref, out = sys.argv[1:4]
    failures = total = 0
    for model in ("supervised-resnet18", "moco-v2-resnet50"):
        d = f"{ref}/released-class-means/{model}"
        S = np.load(f"{d}/imagenet.means.npy")
        for target in ("cub", "dogs"):
            T, counts = np.load(f"{d}/{target}.means.npy"), np.load(f"{d}/{target}.counts.npy").astype(float)
            runs = [(m, None) for m in ("got-l2", "got-cos", "uot-l2", "uot-cos")] + [("uot-cos", 0.001)]
            for method, eps_c in runs:
                args = [uotft, "select", "--source-means", f"{d}/imagenet.means.npy",
                        "--source-counts", f"{d}/imagenet.counts.npy", "--target-means", f"{d}/{target}.means.npy",
                        "--target-counts", f"{d}/{target}.counts.npy", "--method", method, "--out", f"{out}.tsv"]
                if eps_c:
                    args += ["--eps-c", str(eps_c)]
                info = subprocess.run(args, check=True, capture_output=True, text=True).stdout
                got = np.loadtxt(f"{out}.tsv", skiprows=1, delimiter="\t")
                want = oracle(method, S, T, counts, eps_c or (0.1 if method == "uot-l2" else 0.01))
                order = np.argsort(-want, kind="stable")[:100]
                same = np.array_equal(got[:, 1].astype(int), order)
                rel = np.max(np.abs(got[:, 2] - want[order]) / want[order])
                ok = same and rel <= RTOL
                total += 1
                failures += not ok
                solver = [l.split("\t")[1] for l in info.splitlines() if l.startswith("solver")]
                print(f"{'ok  ' if ok else 'FAIL'} {model} {target} {method} eps_c={eps_c or 'default'} "
                      f"{'(' + solver[0] + ') ' if solver else ''}same top 100: {same}, max rel diff {rel:.2e}")
    print(f"{total - failures} of {total} agree")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
