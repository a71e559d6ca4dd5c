"""Writes the generated part of datasets/mini/README.md from a built mini world.

usage: datasheet.py OUT --seed S --pool-train N --pool-test N   (prints Markdown)
"""
import argparse
import csv
import os
import unicodedata

SETS = [
    ("pool", "pre-training pool (ImageNet's role)", "glyphs rendered from the pool faces"),
    ("digits", "overlaps the pool's digit classes (CUB's role)", "opencv-doc examples/data/digits.png"),
    ("fashion", "far from the pool (Cars' role)", "dataset-fashion-mnist, sub-sampled"),
    ("hand", "pool classes, shifted domain (Dogs' role)", "glyphs rendered from the held-out handwriting faces"),
    ("mix", "half pool classes, half classes absent from the pool", "glyphs rendered from the pool faces"),
]


def table(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def count(path):
    with open(path, "rb") as f:
        head = f.read(16)
    return int.from_bytes(head[8:12], "little")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--pool-train", type=int, required=True)
    ap.add_argument("--pool-test", type=int, required=True)
    a = ap.parse_args()
    out = a.out
    p = print

    p("## Build\n")
    p(f"Seed {a.seed}; {a.pool_train} training and {a.pool_test} held-out images per pool class. "
      "Command: `datasets/mini/build` (see the top of this file).\n")
    p("### Packages (the bytes below are for exactly these versions)\n")
    p("| package | version |\n| --- | --- |")
    for r in table(os.path.join(out, "packages.tsv")):
        p(f"| {r['package']} | {r['version']} |")
    faces = table(os.path.join(out, "faces.tsv"))
    p("\n### Faces\n")
    for role in ("pool", "hand"):
        fs = [f for f in faces if f["role"] == role]
        pk = sorted({f["package"] for f in fs})
        p(f"- {role}: {len(fs)} faces from {len(pk)} packages")
    p("\nThe full list, with the number of listed characters each face draws, is `faces.tsv`; "
      "`<set>-<split>-source.npy` gives, per image, its face (glyph sets) or its index in the source file "
      "(digits: cell of digits.png, row-major; fashion: image of the train or t10k IDX file).\n")

    p("## Sets\n")
    p("| set | relation to the pool | source | classes | train | test | train / class | test / class |")
    p("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, rel, src in SETS:
        cl = table(os.path.join(out, f"{name}-classes.tsv"))
        ntr = count(os.path.join(out, f"{name}-train.mset"))
        nte = count(os.path.join(out, f"{name}-test.mset"))
        p(f"| {name} | {rel} | {src} | {len(cl)} | {ntr} | {nte} | {ntr // len(cl)} | {nte // len(cl)} |")

    p("\n## Classes\n")
    pool = table(os.path.join(out, "pool-classes.tsv"))
    p("### pool, by concept\n")
    p("| concept | classes | labels | faces per class (min-max) | characters |")
    p("| --- | ---: | --- | --- | --- |")
    concepts = []
    for r in pool:
        if r["concept"] not in concepts:
            concepts.append(r["concept"])
    for c in concepts:
        rows = [r for r in pool if r["concept"] == c]
        labs = [int(r["label"]) for r in rows]
        nf = [int(r["faces"]) for r in rows]
        chars = " ".join(r["name"] for r in rows).replace("|", "\\|")
        p(f"| {c} | {len(rows)} | {min(labs)}-{max(labs)} | {min(nf)}-{max(nf)} | {chars} |")
    for name, _, _ in SETS[1:]:
        p(f"\n### {name}\n")
        p("| label | class | code point | Unicode name | concept | pool label | faces |")
        p("| ---: | --- | --- | --- | --- | ---: | ---: |")
        for r in table(os.path.join(out, f"{name}-classes.tsv")):
            cp = r["codepoint"]
            uname = unicodedata.name(chr(int(cp[2:], 16)), "?") if cp.startswith("U+") and name != "fashion" else "-"
            faces_n = r["faces"] if r["faces"] != "0" else "-"
            p(f"| {r['label']} | {r['name']} | {cp} | {uname.lower()} | {r['concept']} | {r['pool_label']} | {faces_n} |")

    drops = table(os.path.join(out, "drops.tsv"))
    p("\n## Characters left out by the builder\n")
    if not drops:
        p("None.")
    else:
        p("| set | code point | character | reason |\n| --- | --- | --- | --- |")
        for r in drops:
            p(f"| {r['set']} | {r['codepoint']} | {r['char']} | {r['reason']} |")

    p("\n## sha256 of every output\n")
    p("| file | sha256 |\n| --- | --- |")
    with open(os.path.join(out, "SHA256SUMS"), encoding="utf-8") as f:
        for line in f:
            digest, fname = line.split()
            p(f"| {fname} | `{digest}` |")


if __name__ == "__main__":
    main()
