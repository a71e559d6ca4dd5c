#!/bin/sh
# Bad input to uotft finetune: a usage error exits 2; bad data or settings exit 1 with a message
# naming what is wrong; no run folder products (result.tsv, model.ckpt) appear.
# usage: finetune_bad_input.sh UOTFT PYTHON WORLD SUPERVISED_CKPT MOCO_CKPT WORK_DIR
set -u
uotft=$1 python=$2 world=$3 sup=$4 moco=$5 w=$6
rm -rf "$w"
mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
# expect STATUS PATTERN args...: uotft finetune's exit status, a message matching PATTERN, no result
expect() {
  want=$1 pat=$2; shift 2
  rm -rf "$w/run"
  "$uotft" finetune "$@" > "$w/out" 2> "$w/err"
  got=$?
  [ "$got" = "$want" ] || fail "finetune $* exited $got, expected $want: $(cat "$w/err")"
  grep -q -- "$pat" "$w/err" || fail "finetune $*: message '$(cat "$w/err")' lacks '$pat'"
  [ -e "$w/run/result.tsv" ] || [ -e "$w/run/model.ckpt" ] && fail "finetune $*: left a result"
  return 0
}
printf 'rank\tindex\tscore\n1\t3\t1\n2\t9999\t0.5\n' > "$w/far.tsv"
printf 'rank\tindex\tscore\n' > "$w/empty.tsv"
printf 'rank\tindex\tscore\n1\t3\t1\n2\t5\t0.5\n' > "$w/top.tsv"
T="--backbone $sup --target mini-digits --target-root $world --size 28 --epochs 1 --batch 16 --quiet --out $w/run"
S="--source mini-pool --source-root $world"

expect 2 "--recipe is required" $T
expect 2 "not 'fixmatch'" --recipe fixmatch $T
expect 2 "are required" --recipe finetune --target mini-digits --out "$w/run"
expect 1 "names class 9999, but the source has 565 classes" --recipe labelled $T $S --select "$w/far.tsv"
expect 1 "$w/empty.tsv" --recipe labelled $T $S --select "$w/empty.tsv"
expect 1 "needs a selection" --recipe unlabelled $T $S
expect 1 "lambda must be >= 0, not -0.5" --recipe labelled $T $S --select "$w/top.tsv" --lambda -0.5
expect 1 "fractions must be in (0, 1]" --recipe finetune $T --target-fraction 0
expect 1 "fractions must be in (0, 1]" --recipe labelled $T $S --select "$w/top.tsv" --source-fraction 1.5
# Co-Tuning's source head is the backbone's linear classifier: MoCo's checkpoint has an MLP head
expect 1 "Co-Tuning needs the backbone's pre-trained classifier fc" --recipe cotuning $T --backbone "$moco"
# a cluster assignment that does not fit the source
"$python" -c "import numpy as np; np.save('$w/assign.npy', np.zeros(7, dtype=np.int32))"
expect 1 "7 cluster assignments for a source of 33900 images" --recipe unlabelled $T $S --select "$w/top.tsv" \
  --assign "$w/assign.npy"
# a missing or corrupt backbone names the file
expect 1 "$w/none.ckpt" --recipe finetune $T --backbone "$w/none.ckpt"
head -c 5000 "$sup" > "$w/cut.ckpt"
expect 1 "$w/cut.ckpt" --recipe finetune $T --backbone "$w/cut.ckpt"

# a target class with no training image: a mini set whose class 2 has test images only
"$python" - "$w/gap" <<'PY'
import os, struct, sys, zlib
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def mset(path, labels):
    pixels = bytes((7 * i) % 256 for i in range(len(labels) * 32 * 32))
    payload = struct.pack("<%dH" % len(labels), *labels) + pixels
    head = b"UFMSET1\n" + struct.pack("<IHHIIQ", len(labels), 32, 32, 3, zlib.crc32(payload), len(payload))
    open(path, "wb").write(head + payload)
mset(os.path.join(d, "gap-train.mset"), [0, 1] * 20)
mset(os.path.join(d, "gap-test.mset"), [0, 1, 2] * 4)
open(os.path.join(d, "gap-classes.tsv"), "w").write("label\tname\n0\ta\n1\tb\n2\tc\n")
PY
expect 1 "class 2 ('c') has no training image" --recipe finetune $T --target mini-gap --target-root "$w/gap"

# a finished run is not redone with other settings
"$uotft" finetune --recipe finetune $T --stop-after 1 > /dev/null 2>&1 || fail "a one-step run"
"$uotft" finetune --recipe finetune $T --lr 0.5 > "$w/out" 2> "$w/err" && fail "other settings accepted"
grep -q "made with other settings" "$w/err" || fail "other settings: $(cat "$w/err")"
echo "finetune: every bad input refused with its reason"
