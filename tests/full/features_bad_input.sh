#!/bin/sh
# uotft features --dataset / --merge refuse bad input with a message naming the file, a non-zero
# exit and no final output: a corrupt (truncated) weights file, a data set whose archive is missing,
# a checkpoint made from other weights, a corrupt checkpoint, shards with a gap, unaligned rows.
# usage: features_bad_input.sh UOTFT FIXTURES WORK_DIR
set -u
uotft=$1 fx=$2 w=$3
rm -rf "$w" && mkdir -p "$w/empty"
fails=0
expect() { # expect WHAT STATUS PATTERN OUT -- ARGS..: exit status, message, no means in OUT
  what=$1 want=$2 pat=$3 out=$4; shift 5
  msg=$("$uotft" features --out "$out" --threads 2 "$@" 2>&1); rc=$?
  if [ $rc -ne "$want" ] || ! printf '%s' "$msg" | grep -q -- "$pat"; then
    echo "FAIL: $what: exit $rc (want $want), output: $msg"; fails=$((fails + 1))
  fi
  if ls "$out" 2>/dev/null | grep -q '\.means\.npy\|\.counts\.npy\|\.features\.npy\|tmp'; then
    echo "FAIL: $what left an output file: $(ls "$out")"; fails=$((fails + 1))
  fi
}
r18="--arch resnet18 --dataset imagenet --root $fx/imagenet --size 32 --batch 2"
/usr/bin/python3 -c "
import torch, torchvision
torch.save(torchvision.models.resnet18().state_dict(), '$w/r18.pth')
b = open('$w/r18.pth', 'rb').read()
open('$w/cut.pth', 'wb').write(b[:len(b) // 2])
"
expect "truncated weights" 1 "$w/cut.pth" "$w/o1" -- --weights "$w/cut.pth" $r18
expect "missing weights" 1 "$w/none.pth" "$w/o2" -- --weights "$w/none.pth" $r18
expect "missing archive" 1 "ILSVRC2012" "$w/o3" -- --random-init --arch resnet18 --dataset imagenet --root "$w/empty"
expect "unknown data set" 1 "nosuch" "$w/o4" -- --random-init --arch resnet18 --dataset nosuch --root "$w/empty"
# a checkpoint from other weights (another seed), then from the saved file: refused, naming the state
"$uotft" features --random-init --seed 1 $r18 --out "$w/stale" --stop-after-images 2 --threads 2 2>/dev/null ||
  { echo "FAIL: the first, stopped run"; fails=$((fails + 1)); }
expect "stale checkpoint (seed)" 1 "$w/stale/imagenet.partial/state: a checkpoint made from random-init=resnet18 seed=1" \
  "$w/stale" -- --random-init --seed 2 $r18
expect "stale checkpoint (weights)" 1 "remove $w/stale/imagenet.partial to start again" "$w/stale" -- --weights "$w/r18.pth" $r18
printf '\001' | dd of="$w/stale/imagenet.partial/state" bs=1 seek=400 conv=notrunc 2>/dev/null
expect "corrupt checkpoint" 1 "state: checkpoint checksum mismatch" "$w/stale" -- --random-init --seed 1 $r18
# shards: unaligned rows, a gap, another model
expect "unaligned rows" 1 "multiples of the batch" "$w/o5" -- --random-init $r18 --rows 3:10
"$uotft" features --random-init $r18 --out "$w/sh" --rows 0:4 --threads 2 2>/dev/null &&
  "$uotft" features --random-init $r18 --out "$w/sh" --rows 6:10 --threads 2 2>/dev/null &&
  "$uotft" features --random-init --seed 5 $r18 --out "$w/sh" --rows 4:6 --threads 2 2>/dev/null ||
  { echo "FAIL: shards"; fails=$((fails + 1)); }
expect "gap" 1 "imagenet.rows-6-10.part: rows 6-10, but the shards so far end at row 4" "$w/m1" -- \
  --merge "$w/sh/imagenet.rows-0-4.part,$w/sh/imagenet.rows-6-10.part"
expect "other model" 1 "imagenet.rows-4-6.part: made from random-init=resnet18 seed=5" "$w/m2" -- \
  --merge "$w/sh/imagenet.rows-0-4.part,$w/sh/imagenet.rows-4-6.part,$w/sh/imagenet.rows-6-10.part"
expect "not a part" 1 "r18.pth: not a uotft features checkpoint" "$w/m3" -- --merge "$w/r18.pth"
expect "usage" 2 "--rows expects A:B" "$w/o6" -- --random-init $r18 --rows 5:2
[ $fails -eq 0 ] && echo "features bad input: all refused with the file named, no output left"
exit $fails
