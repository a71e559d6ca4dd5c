"""scikit-learn's Lloyd k-means on the same data as `uotft bench kmeans`, in the same run.

usage: sklearn_kmeans.py X.npy K ITERS THREADS
X holds unit-norm rows (float32). Runs KMeans(init="random", n_init=1, algorithm="lloyd",
max_iter=ITERS, tol=0) -- the same initialisation family as uotft's --init random -- and prints
"seconds<TAB>objective<TAB>iterations", where objective is the sum over points of the squared distance
between the point and its centroid normalised to unit length (uotft's spherical objective).
"""
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits


def main():
    path, k, iters, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    X = np.load(path)
    with threadpool_limits(limits=threads):
        km = KMeans(n_clusters=k, init="random", n_init=1, algorithm="lloyd", max_iter=iters, tol=0,
                    random_state=0)
        t0 = time.perf_counter()
        km.fit(X)
        seconds = time.perf_counter() - t0
    C = km.cluster_centers_.astype(np.float64)
    C /= np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-300)
    diff = X.astype(np.float64) - C[km.labels_]
    print(f"{seconds:.4f}\t{(diff * diff).sum():.10g}\t{km.n_iter_}")


if __name__ == "__main__":
    main()
