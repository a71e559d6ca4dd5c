#!/usr/bin/python3
"""UOT plans of `uotft uot` against POT 0.8.2 and a numpy transcription.

usage: uot_pot.py UOTFT OUTDIR

Symmetric problems (tau1 = tau2) go to ot.unbalanced.sinkhorn_knopp_unbalanced
(scalar reg_m, exponent reg_m / (reg_m + reg)); the paper's asymmetric form
(tau1 != tau2) to `sinkhorn_asym` below, the same update with one exponent per
side. Every plan entry must agree to 1e-9 relative, with the same number of
iterations, for both of uotft's forms (plain scaling and log domain).
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import ot

RTOL = 1e-9


def sinkhorn_asym(a, b, M, eps, tau1, tau2, max_iter=1000, tol=1e-6):
    """POT's generalised Sinkhorn loop with exponents tau1/(tau1+eps), tau2/(tau2+eps)."""
    K = np.exp(M / -eps)
    fu, fv = tau1 / (tau1 + eps), tau2 / (tau2 + eps)
    u = np.ones(len(a)) / len(a)
    v = np.ones(len(b)) / len(b)
    it = 0
    for it in range(max_iter):
        up, vp = u, v
        u = (a / K.dot(v)) ** fu
        v = (b / K.T.dot(u)) ** fv
        err_u = abs(u - up).max() / max(abs(u).max(), abs(up).max(), 1.0)
        err_v = abs(v - vp).max() / max(abs(v).max(), abs(vp).max(), 1.0)
        if 0.5 * (err_u + err_v) < tol:
            break
    return u[:, None] * K * v[None, :], it + 1


def run_uotft(uotft, d, eps, tau1, tau2, solver):
    out = subprocess.run(
        [uotft, "uot", "--cost", f"{d}/M.npy", "--a", f"{d}/a.npy", "--b", f"{d}/b.npy",
         "--eps", repr(eps), "--tau1", repr(tau1), "--tau2", repr(tau2), "--solver", solver,
         "--plan", f"{d}/P.npy", "--row-mass", f"{d}/r.npy"],
        check=True, capture_output=True, text=True).stdout
    info = dict(line.split("\t", 1) for line in out.strip().splitlines())
    return np.load(f"{d}/P.npy"), np.load(f"{d}/r.npy"), info


def main():
    uotft, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(20221128)
    failures = 0
    cases = []
    for ns, nt in [(5, 3), (60, 20), (300, 100), (1000, 200)]:
        for eps_c in (0.01, 0.1):
            cases.append((ns, nt, eps_c, 1.0, 1.0, 1.0))    # POT, symmetric
            cases.append((ns, nt, eps_c, 1.0, 1.0, 100.0))  # the paper's setting
        cases.append((ns, nt, 0.1, 0.5, 3.0, 3.0))
        cases.append((ns, nt, 0.1, 0.5, 2.0, 7.0))
    for ns, nt, eps_c, eps, tau1, tau2 in cases:
        S = rng.standard_normal((ns, 16))
        T = rng.standard_normal((nt, 16)) + 0.3
        Sn = S / np.linalg.norm(S, axis=1, keepdims=True)
        Tn = T / np.linalg.norm(T, axis=1, keepdims=True)
        M = (1 - Sn @ Tn.T) / eps_c
        a = rng.uniform(0.5, 1.5, ns) if tau1 != 1.0 else np.ones(ns)
        b = rng.uniform(0.5, 1.5, nt) if tau1 != 1.0 else np.ones(nt)
        np.save(f"{d}/M.npy", M)
        np.save(f"{d}/a.npy", a)
        np.save(f"{d}/b.npy", b)
        if tau1 == tau2:
            ref, log = ot.unbalanced.sinkhorn_knopp_unbalanced(a, b, M, eps, tau1, log=True)
            ref_it, oracle = len(log["err"]), "POT"
        else:
            ref, ref_it = sinkhorn_asym(a, b, M, eps, tau1, tau2)
            oracle = "numpy"
        for solver in ("plain", "log"):
            P, r, info = run_uotft(uotft, d, eps, tau1, tau2, solver)
            rel = np.max(np.abs(P - ref) / np.maximum(np.abs(ref), 1e-300))
            rel_r = np.max(np.abs(r - ref.sum(1)) / ref.sum(1))
            it = int(info["iterations"])
            ok = rel <= RTOL and rel_r <= RTOL and it == ref_it and info["solver"] == solver
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {ns}x{nt} eps_c={eps_c} eps={eps} tau=({tau1},{tau2}) "
                  f"{solver:5s} vs {oracle}: max rel diff plan {rel:.2e}, row sums {rel_r:.2e}, "
                  f"iterations {it} vs {ref_it}")
    print(f"{len(cases) * 2 - failures} of {len(cases) * 2} agree to {RTOL:g}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
