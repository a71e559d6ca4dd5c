#!/bin/sh
# uotft features --dataset, resumable and sharded (ImageNet's train tar of tars fixture, 10 images
# of 3 classes; ResNet-18 randomly initialised, 32 px, batches of 2):
#  - stopped after 4 images (--stop-after-images) and run again: means, counts, features and labels
#    byte-identical to an uninterrupted run, the partial folder gone;
#  - a kill after the checkpoint that left extra feature rows behind (simulated by appending
#    rows to the partial features file): cut back on resume, the same bytes;
#  - shards --rows 0:4 and 4:10 (a class split between them), and 0:4, 4:8, 8:10 merged in a
#    shuffled order: means and counts byte-identical to the whole run (the sums are exact).
# usage: features_resume.sh UOTFT FIXTURES WORK_DIR
set -u
uotft=$1 fx=$2/imagenet w=$3
rm -rf "$w" && mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
f() { "$uotft" features --arch resnet18 --random-init --seed 1 --dataset imagenet --root "$fx" --size 32 \
      --batch 2 --threads 2 "$@" 2>>"$w/stderr.log"; }
same() { # same DIR_A DIR_B NAME FILES..: the named outputs byte-identical
  a=$1 b=$2 n=$3; shift 3
  for x in "$@"; do cmp "$a/$n.$x.npy" "$b/$n.$x.npy" || fail "$b/$n.$x.npy differs from $a"; done
}
f --out "$w/straight" --keep-features --ckpt-every 2 || fail "uninterrupted run"
[ -d "$w/straight/imagenet.partial" ] && fail "the partial folder is left after the run"

f --out "$w/stopped" --keep-features --ckpt-every 2 --stop-after-images 4 || fail "stopped run"
[ -f "$w/stopped/imagenet.partial/state" ] || fail "no checkpoint after --stop-after-images"
[ -e "$w/stopped/imagenet.means.npy" ] && fail "means written by a stopped run"
f --out "$w/stopped" --keep-features --ckpt-every 2 || fail "resuming"
same "$w/straight" "$w/stopped" imagenet means counts features labels
echo "stopped at 4 and resumed: identical means, counts, features, labels"

f --out "$w/killed" --keep-features --ckpt-every 2 --stop-after-images 6 || fail "run to be 'killed'"
head -c 4096 /dev/urandom >> "$w/killed/imagenet.partial/features.npy" # rows written after the checkpoint
f --out "$w/killed" --keep-features --ckpt-every 2 || fail "resuming the killed run"
same "$w/straight" "$w/killed" imagenet means counts features labels
echo "killed after the checkpoint of 6 (extra rows on disk) and resumed: identical"

f --out "$w/plain" || fail "run without features"
same "$w/straight" "$w/plain" imagenet means counts
f --out "$w/shards" --rows 0:4 && f --out "$w/shards" --rows 4:10 --stop-after-images 2 &&
  f --out "$w/shards" --rows 4:10 || fail "shards 0:4, 4:10"
"$uotft" features --out "$w/merged2" --name imagenet \
  --merge "$w/shards/imagenet.rows-4-10.part,$w/shards/imagenet.rows-0-4.part" || fail "merging two shards"
same "$w/straight" "$w/merged2" imagenet means counts
for r in 0:4 4:8 8:10; do f --out "$w/shards3" --rows $r || fail "shard $r"; done
"$uotft" features --out "$w/merged3" --name imagenet --merge "$w/shards3/imagenet.rows-4-8.part,$w/shards3/imagenet.rows-8-10.part,$w/shards3/imagenet.rows-0-4.part" ||
  fail "merging three shards"
same "$w/straight" "$w/merged3" imagenet means counts
echo "shards 0:4 + 4:10 and 0:4 + 4:8 + 8:10 merged: identical means and counts"
grep -q "ETA" "$w/stderr.log" || fail "no progress line with an ETA on stderr"
