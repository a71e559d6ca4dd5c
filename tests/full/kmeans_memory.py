"""uotft kmeans on ImageNet-scale input keeps one copy of the points at most: 200000 x 128 float32
features (102 MB, a sixth of ImageNet's 1.28 M MoCo features) are mapped, not read into the heap, so
the process's peak resident size stays well below the points plus a second copy of them; and
--means writes each cluster's mean of the raw (unnormalised) points and its size, as numpy computes
them from the written assignment.

usage: kmeans_memory.py UOTFT WORK_DIR
"""
import os
import subprocess
import sys

uotft, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)
X = os.path.join(work, "points.npy")
N, D, K = 200000, 128, 100
# generated in a child process: this one stays small, so nothing of it is counted below
subprocess.run([sys.executable, "-c", "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(5)"
                ".standard_normal((%d, %d)).astype(np.float32) + 0.5)" % (N, D), X], check=True)
args = [uotft, "kmeans", "--features", X, "--k", str(K), "--iters", "4", "--init", "random", "--threads", "2",
        "--centroids", os.path.join(work, "C.npy"), "--assign", os.path.join(work, "A.npy"),
        "--means", work, "--name", "clusters"]
p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = p.stdout.read().decode()
_, status, usage = os.wait4(p.pid, 0)  # this child's own peak, not the generator's
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("uotft kmeans failed:\n" + out)
points_mb = N * D * 4 / 2**20
peak_mb = usage.ru_maxrss / 1024  # kB on Linux
limit_mb = 1.5 * points_mb
print("points %.1f MB, peak resident %.1f MB, limit %.1f MB (a second copy would need %.1f MB)"
      % (points_mb, peak_mb, limit_mb, 2 * points_mb))
fails = []
if peak_mb > limit_mb:
    fails.append("peak resident size %.1f MB above %.1f MB: the points are copied" % (peak_mb, limit_mb))

import numpy as np  # noqa: E402  (only after the measured run)
x = np.load(X)
a = np.load(os.path.join(work, "A.npy"))
means = np.load(os.path.join(work, "clusters.means.npy"))
counts = np.load(os.path.join(work, "clusters.counts.npy"))
want_counts = np.bincount(a, minlength=K)
want = np.zeros((K, D))
np.add.at(want, a, x.astype(np.float64))
want /= np.maximum(want_counts, 1)[:, None]
if means.dtype != np.float64 or means.shape != (K, D) or counts.dtype != np.int64 or counts.shape != (K,):
    fails.append("--means: not float64 (K, d) and int64 (K)")
elif not (counts == want_counts).all() or np.abs(means - want).max() > 1e-12 * np.abs(want).max():
    fails.append("--means: not numpy's per-cluster means of the raw points")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
