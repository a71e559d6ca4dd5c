#!/usr/bin/python3
"""Times POT's unbalanced Sinkhorn on cost matrices written by `uotft bench select`.

usage: pot_uot.py REPS EPS REG_M M1.npy [M2.npy ...]
Prints one line per matrix: path<TAB>median_ms<TAB>iterations. Run with Debian's
/usr/bin/python3 (python3-pot 0.8.2); uotft starts it, numpy pinned to the
same thread count through OMP_NUM_THREADS / OPENBLAS_NUM_THREADS.
"""
import sys
import time
import warnings

import numpy as np
import ot


def main():
    reps, eps, reg_m = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    warnings.simplefilter("ignore")
    for path in sys.argv[4:]:
        M = np.load(path)
        a, b = np.ones(M.shape[0]), np.ones(M.shape[1])
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            _, log = ot.unbalanced.sinkhorn_knopp_unbalanced(a, b, M, eps, reg_m, log=True)
            times.append(time.perf_counter() - t)
        print(f"{path}\t{1e3 * float(np.median(times)):.4f}\t{len(log['err'])}", flush=True)


if __name__ == "__main__":
    main()
