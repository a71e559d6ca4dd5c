#!/bin/sh
# The full tier end to end on the tiny world of tests/full/make_world.py (ImageNet, the eight targets and
# both weight files in their publishers' formats): `uotft run --tier full --set scale=tiny` runs every
# manifest with a full tier from the downloads to the tables, through the code a user with the real data
# runs, and writes every CSV, report and figure under a scratch root. Checked: the preparation's
# products (features, means, clusters) in the released means' layout, every manifest's CSV with one row
# per job and accuracies in [0, 100], the reports, the figures, and a second run that trains nothing and
# writes the same CSVs.
# usage: tier_tiny.sh UOTFT PROJECT_ROOT WORLD RELEASED_MEANS WORK_DIR
set -u
uotft=$1 root=$2 world=$3 released=$4 w=$5
rm -rf "$w" && mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
set -- --tier full --set scale=tiny --set downloads="$world/data" --set recipes="$world/recipes" \
  --set store="$w/store" --out-root "$w/out" --jobs 2 --threads 2
"$uotft" run "$@" 2> "$w/log" || fail "run: $(tail -5 "$w/log")"
grep '^\[prepare full\]' "$w/log" | tail -6

# the preparation: both models' means of ImageNet and the targets in the layout of the released means
# (the same shapes and types for ImageNet, the same width and types for the targets), and the clusters
f=$w/store/features
/usr/bin/python3 - "$f" "$released" <<'PY' || fail "preparation's products"
import sys, numpy as np
f, rel = sys.argv[1], sys.argv[2]
for model in ("supervised-resnet18", "moco-v2-resnet50"):
    for t in ("imagenet", "cub", "dogs", "cars", "pets", "sun397", "aircraft", "dtd", "caltech101"):
        m, c = np.load(f"{f}/{model}/{t}.means.npy"), np.load(f"{f}/{model}/{t}.counts.npy")
        rm, rc = np.load(f"{rel}/{model}/{t}.means.npy"), np.load(f"{rel}/{model}/{t}.counts.npy")
        assert m.dtype == rm.dtype and c.dtype == rc.dtype and m.shape[1] == rm.shape[1], (model, t, m.shape, rm.shape)
        assert m.shape[0] == c.shape[0] == (rm.shape[0] if t == "imagenet" else 4), (model, t, m.shape)
    c = np.load(f"{f}/{model}/imagenet.counts.npy")
    assert c.sum() == 3001 and (c >= 3).all(), (model, c.sum())
for k, K in (("", 2000), ("-1x", 1000)):
    m = np.load(f"{f}/moco-v2-resnet50-kmeans{k}/imagenet.means.npy")
    a = np.load(f"{f}/moco-v2-resnet50-kmeans{k}/imagenet-assign.npy")
    assert m.shape == (K, 128) and a.shape == (3001,) and a.max() == K - 1, (k, m.shape, a.shape)
print("preparation: means (1000 x 512, 1000 x 128), counts, 2000 and 1000 clusters")
PY

# every manifest with a full tier: a CSV with a row per job, its report and (where it has one) its figure
for ini in "$root"/experiments/*.ini; do
  grep -q '^tiers = .*full' "$ini" || continue
  name=$(sed -n 's/^name = //p' "$ini")
  csv=$w/out/results/full/$name.csv
  [ -s "$csv" ] && [ -s "$w/out/results/full/$name.md" ] || fail "$name: no CSV or report"
  rows=$(($(wc -l < "$csv") - 1)) jobs=
  if grep -q '^task = finetune' "$ini"; then  # one row per job, as many as the plan counts
    jobs=$("$uotft" run "$ini" --plan "$@" 2> /dev/null | sed -n 's/^# total: .*(\([0-9]*\) jobs).*/\1/p')
    [ "$jobs" = "$rows" ] || fail "$name: $rows rows for ${jobs:-no} jobs"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "final_top1") c = i; next }
             !($c >= 0 && $c <= 100) { print "bad accuracy: " $0; exit 1 }' "$csv" || fail "$name: accuracies"
  fi
  if grep -q '^plot = ' "$ini"; then
    [ -s "$w/out/plots/full/$name.png" ] && [ -s "$w/out/plots/full/$name.svg" ] || fail "$name: no figure"
  fi
  echo "$name: $rows rows${jobs:+ (the plan's $jobs jobs)}"
done

# again: every run found (nothing trained), the same tables
mkdir -p "$w/first" && cp "$w"/out/results/full/*.csv "$w/first/"
sleep 1 && touch "$w/marker"
"$uotft" run "$@" 2> "$w/log2" || fail "second run: $(tail -5 "$w/log2")"
[ -z "$(find "$w/store" -newer "$w/marker" -name model.log.tsv)" ] || fail "the second run trained again"
for c in "$w"/first/*.csv; do
  cmp -s "$c" "$w/out/results/full/$(basename "$c")" || fail "$(basename "$c") differs on the second run"
done
echo "full tier on the tiny world: every manifest's tables and figures; a second run found every result"
