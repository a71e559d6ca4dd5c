#!/bin/sh
# Bad input to uotft pretrain, features, probe and the mini tier's preparation: a usage error exits
# 2, bad data exits 1 with a message naming the file and the reason, and no output file appears.
# usage: bad_input.sh UOTFT WORLD WORK_DIR
set -u
uotft=$1 world=$2 w=$3
rm -rf "$w"
mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
# expect STATUS PATTERN command...: the exit status and a message matching PATTERN on stderr
expect() {
  want=$1 pat=$2; shift 2
  "$@" > "$w/out" 2> "$w/err"
  got=$?
  [ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(cat "$w/err")"
  grep -q -- "$pat" "$w/err" || fail "$*: message '$(cat "$w/err")' lacks '$pat'"
}
A="small:4,8:1,1"

# pretrain
expect 2 "method supervised|moco is required" "$uotft" pretrain --out "$w/p"
expect 2 "is supervised or moco, not 'byol'" "$uotft" pretrain --method byol --out "$w/p"
expect 2 "--out DIR is required" "$uotft" pretrain --method moco
expect 2 "--scale-min must be in" "$uotft" pretrain --method moco --out "$w/p" --scale-min 0
expect 1 "$w/none: no such folder" "$uotft" pretrain --method supervised --data "$w/none" --out "$w/p"
expect 1 "unknown architecture 'small:4'" "$uotft" pretrain --method supervised --arch small:4 --data "$world" --out "$w/p"
expect 1 "the batch (48) must split into 4 BatchNorm groups and divide the queue (4096)" \
  "$uotft" pretrain --method moco --batch 48 --data "$world" --out "$w/p"
[ -e "$w/p" ] && fail "a refused pre-training left $w/p"
mkdir -p "$w/bad"
head -c 2000 "$world/pool-train.mset" > "$w/bad/pool-train.mset"
cp "$world/pool-classes.tsv" "$w/bad/"
expect 1 "$w/bad/pool-train.mset" "$uotft" pretrain --method supervised --data "$w/bad" --out "$w/p"
# a finished run is not redone with other settings
"$uotft" pretrain --method supervised --arch $A --data "$world" --out "$w/sup" --batch 32 --epochs 1 \
  --stop-after 1 --quiet || fail "reduced run"
cp "$w/sup/supervised.state.ckpt" "$w/sup/supervised.ckpt"
expect 1 "supervised.ckpt: made with other settings" \
  "$uotft" pretrain --method supervised --arch $A --data "$world" --out "$w/sup" --batch 32 --epochs 2 --quiet

# features
expect 2 "give either --ckpt F or --random-init" "$uotft" features --out "$w/f"
expect 2 "--random-init needs --arch" "$uotft" features --random-init --out "$w/f"
expect 2 "--splits lists train and/or test, not 'val'" "$uotft" features --random-init --arch $A --splits val --out "$w/f"
expect 1 "$w/missing.ckpt" "$uotft" features --ckpt "$w/missing.ckpt" --data "$world" --out "$w/f"
head -c 3000 "$w/sup/supervised.ckpt" > "$w/cut.ckpt"
expect 1 "$w/cut.ckpt: truncated checkpoint" "$uotft" features --ckpt "$w/cut.ckpt" --data "$world" --out "$w/f"
expect 1 "no MLP head" "$uotft" features --ckpt "$w/sup/supervised.ckpt" --mlp --data "$world" --out "$w/f"
expect 1 "$w/bad/pool-train.mset" "$uotft" features --random-init --arch $A --data "$w/bad" --sets pool --out "$w/f"
expect 1 "mini-nothing" "$uotft" features --random-init --arch $A --data "$world" --sets nothing --out "$w/f"
[ -e "$w/f" ] && fail "a refused feature extraction left $w/f"

# probe
mkdir -p "$w/pr"
expect 1 "$w/pr/pool-train.features.npy" "$uotft" probe --dir "$w/pr"
"$uotft" features --random-init --arch $A --data "$world" --sets digits --splits train,test --out "$w/pr" 2>/dev/null ||
  fail "features for the probe"
cp "$w/pr/digits-train.labels.npy" "$w/keep.npy"
/usr/bin/python3 -c "import numpy as np; np.save('$w/pr/digits-train.labels.npy', np.zeros(5))"
expect 1 "digits-train.labels.npy: expected 50 integer labels" "$uotft" probe --dir "$w/pr" --set digits
/usr/bin/python3 -c "import numpy as np; np.save('$w/pr/digits-train.labels.npy', np.load('$w/keep.npy') % 5)"
expect 1 "test label 5 of digits is not among the 5 training classes" "$uotft" probe --dir "$w/pr" --set digits
cp "$w/keep.npy" "$w/pr/digits-train.labels.npy"
/usr/bin/python3 -c "import numpy as np; np.save('$w/pr/digits-test.features.npy', np.zeros((1000, 3), np.float32))"
expect 1 "train features have 8 dimensions, its test features 3" "$uotft" probe --dir "$w/pr" --set digits
expect 2 "--C must be positive" "$uotft" probe --dir "$w/pr" --C 0

# the mini tier's preparation: a corrupt committed checkpoint is named, nothing is trained
r=$w/root
mkdir -p "$r/experiments" "$r/data" "$r/results/mini/pretrain"
ln -s "$world" "$r/data/mini"
printf 'not a checkpoint' > "$r/results/mini/pretrain/supervised.ckpt"
cat > "$r/experiments/probe.ini" <<EOF
[experiment]
name = probe
task = probe
tiers = mini
[grid]
model = supervised
[tier.mini]
prepare = mini
world = data/mini
pretrain = data/pretrain
committed = results/mini/pretrain
features = data/features
probe_dir = {features}/{model}
EOF
expect 1 "results/mini/pretrain/supervised.ckpt: not a uotft checkpoint" "$uotft" run "$r/experiments/probe.ini" --tier mini
[ -e "$r/data/pretrain" ] && fail "training started despite the corrupt committed checkpoint"
sed -i 's/^prepare = mini/prepare = everything/' "$r/experiments/probe.ini"
expect 1 "unknown preparation 'everything'" "$uotft" run "$r/experiments/probe.ini" --tier mini
expect 1 "'world': expected KEY=VALUE" "$uotft" run "$r/experiments/probe.ini" --tier mini --set world
expect 1 "set model=: an axis needs at least one value" "$uotft" run "$r/experiments/probe.ini" --tier mini --set "model= , "
echo "bad input: pretrain, features, probe, the preparation and --set refuse it with the file and the reason"
