#!/bin/sh
# The full tier sharded as `uotft slurm` shards it, on the tiny world: the preparation's ImageNet
# features in 3 row ranges (--prepare-only --shard I/3, both backbones), merged by --prepare-only;
# then a fine-tuning manifest's runs in 2 shards and --collect. Every product (the merged means and
# counts, the MoCo per-image features, the clusters) and every CSV equals, byte for byte, those of the
# unsharded tier in WHOLE (the store full.tier_tiny made, at the same thread count).
# usage: shards.sh UOTFT PROJECT_ROOT WORLD WHOLE WORK_DIR
set -u
uotft=$1 root=$2 world=$3 whole=$4 w=$5
rm -rf "$w" && mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
set -- "$root/experiments/table2.ini" "$root/experiments/table4.ini" --tier full --set scale=tiny \
  --set downloads="$world/data" --set recipes="$world/recipes" --threads 2
for i in 0 1 2; do
  "$uotft" run "$@" --set store="$w/sharded" --prepare-only --shard $i/3 2> "$w/prep$i.log" ||
    fail "preparation shard $i: $(tail -3 "$w/prep$i.log")"
done
[ "$(ls "$w"/sharded/features/moco-v2-resnet50/imagenet.rows-*.part | wc -l)" = 3 ] || fail "not 3 MoCo shards"
"$uotft" run "$@" --set store="$w/sharded" --prepare-only 2> "$w/merge.log" || fail "merge: $(tail -3 "$w/merge.log")"
grep -q "merging 3 shards" "$w/merge.log" || fail "the shards were not merged"
for f in supervised-resnet18/imagenet.means.npy supervised-resnet18/imagenet.counts.npy \
  moco-v2-resnet50/imagenet.means.npy moco-v2-resnet50/imagenet.features.npy moco-v2-resnet50/imagenet.labels.npy \
  moco-v2-resnet50-kmeans/imagenet.means.npy moco-v2-resnet50-kmeans/imagenet-assign.npy \
  moco-v2-resnet50-kmeans-1x/imagenet-classes.tsv; do
  cmp "$w/sharded/features/$f" "$whole/features/$f" || fail "$f: sharded preparation differs"
done
for i in 0 1; do
  "$uotft" run "$@" --set store="$w/sharded" --shard $i/2 2> "$w/runs$i.log" || fail "runs shard $i: $(tail -3 "$w/runs$i.log")"
done
"$uotft" run "$@" --set store="$w/sharded" --collect --out-root "$w/out-sharded" 2> "$w/collect.log" ||
  fail "collect: $(tail -3 "$w/collect.log")"
"$uotft" run "$@" --set store="$whole" --collect --out-root "$w/out-whole" 2> "$w/run.log" ||
  fail "the unsharded tier's runs: $(tail -3 "$w/run.log")"
for name in table2 table4; do
  cmp "$w/out-sharded/results/full/$name.csv" "$w/out-whole/results/full/$name.csv" || fail "$name.csv differs"
done
echo "full tier: 3 preparation shards merged and 2 run shards collected equal the unsharded products and CSVs"
