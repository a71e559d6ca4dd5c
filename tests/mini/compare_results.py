"""Compares a regenerated mini result with the committed one where bit equality cannot hold.

Usage: compare_results.py NAME COMMITTED.csv OURS.csv

On another CPU, OpenBLAS's kernels and -march=native change float rounding, so features move in their
last bits: selection scores move a little, near ties may swap, and k-means (which amplifies such
differences over its iterations) may cluster differently. What must still hold, per file:
  table4, fig4a   the same rows; recall within 10 points (one class of 10) for class rows and 20 for
                  k-means rows (*-kmeans); the concept's size equal for class rows
  selection       the same (target, model, method) lists; for class rows at least 80% of the picks
                  shared; k-means rows only that the list is complete
  backbones       the same rows; probe accuracies within 1 point
  fine-tuning     (any file with a final_top1 column) every row of ours has a committed row with the same
                  grid coordinates; its final and best top-1 within 6 points: SGD amplifies last-bit
                  differences over a run, and single runs on these small targets move by a few points
                  between CPUs (the mean of 3 seeds much less); the selection's recall within 10
Exits 1 naming every row that breaks this, committed -> now.
"""
import csv
import sys

name, committed, ours = sys.argv[1], sys.argv[2], sys.argv[3]


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


want, got = rows(committed), rows(ours)
problems = []


def key(r, cols):
    return tuple(r[c] for c in cols)


if got and "final_top1" in got[0]:
    coords = list(got[0])[: list(got[0]).index("final_top1")]
    committed_rows = {key(r, coords): r for r in want}
    for g in got:
        w = committed_rows.get(key(g, coords))
        if w is None:
            problems.append("%s: not in the committed file" % (key(g, coords),))
            continue
        for col, tol in (("final_top1", 6), ("best_top1", 6), ("recall", 10)):
            if (w[col] == "") != (g[col] == "") or (w[col] and abs(float(w[col]) - float(g[col])) > tol):
                problems.append("%s: %s %s -> %s (tolerance %s)" % (key(g, coords), col, w[col], g[col], tol))
elif name in ("table4", "fig4a", "backbones"):
    coords = [c for c in want[0] if c not in ("value", "paper", "diff")] if want else []
    if [key(r, coords) for r in want] != [key(r, coords) for r in got]:
        problems.append("the rows (grid coordinates, metrics) differ")
    else:
        for w, g in zip(want, got):
            metric, kmeans = w["metric"], w.get("model", "").endswith("-kmeans")
            a, b = float(w["value"]), float(g["value"])
            if metric == "recall":
                tol = 20 if kmeans else 10
            elif metric in ("test_accuracy", "train_accuracy"):
                tol = 1
            elif metric == "concept_classes" and not kmeans:
                tol = 0
            else:
                continue
            if abs(a - b) > tol:
                problems.append("%s: %s %s, committed %s (tolerance %s)" % (key(w, coords), metric, b, a, tol))
elif name == "selection":
    group = ["target", "model", "method", "top"]

    def picks(rs):
        out = {}
        for r in rs:
            out.setdefault(key(r, group), []).append(r["index"])
        return out

    pw, pg = picks(want), picks(got)
    if sorted(pw) != sorted(pg):
        problems.append("the (target, model, method, top) lists differ")
    for k, w in pw.items():
        g = pg.get(k, [])
        if len(g) != len(w):
            problems.append("%s: %d picks, committed %d" % (k, len(g), len(w)))
        elif not k[1].endswith("-kmeans") and len(set(w) & set(g)) < 0.8 * len(w):
            problems.append("%s: %d of %d picks shared" % (k, len(set(w) & set(g)), len(w)))
else:
    sys.exit("compare_results.py: no rule for '%s'" % name)

for p in problems[:20]:
    print("FAIL: %s: %s" % (name, p))
if problems:
    sys.exit(1)
print("%s: %d rows within the other-machine tolerances" % (name, len(got)))
