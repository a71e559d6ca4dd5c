#!/bin/sh
# uotft pretrain, reduced runs on the mini world's pool (both methods, batch 32, 8 steps):
#  - resumable: a run stopped at step 4 (--stop-after) and continued to 8 writes the same state
#    file, byte for byte, and the same log as a run straight to 8; so does a run killed (SIGKILL)
#    at a random moment and started again (MoCo: the key encoder and the queue are in the state);
#  - deterministic: the loader's worker count changes nothing; the same seed and thread count
#    give the same bytes;
#  - the state is checked on resume: other settings, a corrupt state file and a log that does not
#    reach the state's step are refused with the file named.
# usage: pretrain_resume.sh UOTFT WORLD WORK_DIR
set -u
uotft=$1 world=$2 w=$3
rm -rf "$w"
mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
common="--data $world --batch 32 --epochs 2 --threads 2 --quiet"
moco="--queue 256 --bn-groups 2"
pt() { # pt DIR METHOD [options]: a reduced run into DIR
  d=$1 m=$2; shift 2
  extra=""; [ "$m" = moco ] && extra=$moco
  "$uotft" pretrain --method "$m" --out "$d" $common $extra "$@"
}
for m in supervised moco; do
  n=$([ $m = moco ] && echo moco-v2 || echo supervised)
  pt "$w/$m-straight" $m --stop-after 8 --ckpt-every 3 || fail "$m: straight run"
  pt "$w/$m-resumed" $m --stop-after 4 --ckpt-every 3 || fail "$m: first half"
  [ "$(awk 'END {print $1}' "$w/$m-resumed/$n.log.tsv")" = 4 ] || fail "$m: the first half's log does not end at step 4"
  pt "$w/$m-resumed" $m --stop-after 8 --ckpt-every 3 || fail "$m: second half"
  cmp "$w/$m-straight/$n.state.ckpt" "$w/$m-resumed/$n.state.ckpt" || fail "$m: resumed state differs"
  cmp "$w/$m-straight/$n.log.tsv" "$w/$m-resumed/$n.log.tsv" || fail "$m: resumed log differs"
  # the log has a parameter hash at steps 1, 2, 4, 8
  [ "$(awk -F'\t' 'NR > 1 && $5 != "" {printf "%s ", $1}' "$w/$m-straight/$n.log.tsv")" = "1 2 4 8 " ] ||
    fail "$m: parameter hashes not at steps 1 2 4 8"
  pt "$w/$m-loaders" $m --stop-after 8 --ckpt-every 3 --loader-threads 1 || fail "$m: one loader thread"
  cmp "$w/$m-straight/$n.state.ckpt" "$w/$m-loaders/$n.state.ckpt" || fail "$m: the loader's thread count changed the result"
  echo "$m: straight, resumed at 4 and one loader thread: identical states and logs"
done

# killed (SIGKILL) once its log reaches step 4, wherever it is then (MoCo), and run again: the same end
pt "$w/killed" moco --stop-after 12 --ckpt-every 2 &
pid=$!
step() { awk 'END {print $1 + 0}' "$1" 2>/dev/null || echo 0; }
while kill -0 $pid 2>/dev/null && [ "$(step "$w/killed/moco-v2.log.tsv")" -lt 4 ]; do sleep 0.02; done
kill -9 $pid 2>/dev/null && echo "killed after the checkpoint of step $(step "$w/killed/moco-v2.log.tsv")"
wait $pid 2>/dev/null
pt "$w/killed" moco --stop-after 12 --ckpt-every 2 || fail "resuming the killed run"
pt "$w/every2" moco --stop-after 12 --ckpt-every 2 || fail "uninterrupted run"
cmp "$w/every2/moco-v2.state.ckpt" "$w/killed/moco-v2.state.ckpt" || fail "the killed and resumed run differs"
cmp "$w/every2/moco-v2.log.tsv" "$w/killed/moco-v2.log.tsv" || fail "the killed and resumed log differs"
ls "$w/killed" | grep -q tmp && fail "a killed write's temporary file was not cleaned up"

# refused on resume
out=$(pt "$w/supervised-resumed" supervised --stop-after 8 --lr 0.5 2>&1) && fail "other settings accepted"
echo "$out" | grep -q "supervised.state.ckpt: made with other settings" || fail "other settings: $out"
out=$(pt "$w/supervised-resumed" supervised --stop-after 8 --threads 1 2>&1) && fail "another thread count accepted"
echo "$out" | grep -q "threads=2" || fail "another thread count: $out"
cp "$w/moco-straight/moco-v2.state.ckpt" "$w/corrupt.ckpt"
printf '\001' | dd of="$w/moco-straight/moco-v2.state.ckpt" bs=1 seek=5000 conv=notrunc 2>/dev/null
out=$(pt "$w/moco-straight" moco --stop-after 8 2>&1) && fail "a corrupt state accepted"
echo "$out" | grep -q "moco-v2.state.ckpt: checkpoint checksum mismatch" || fail "corrupt state: $out"
cp "$w/corrupt.ckpt" "$w/moco-straight/moco-v2.state.ckpt"
head -4 "$w/moco-straight/moco-v2.log.tsv" > "$w/short.tsv" && mv "$w/short.tsv" "$w/moco-straight/moco-v2.log.tsv"
out=$(pt "$w/moco-straight" moco --stop-after 9 2>&1) && fail "a log shorter than the state accepted"
echo "$out" | grep -q "moco-v2.log.tsv: has 3 rows" || fail "short log: $out"
echo "refused: other settings, another thread count, a corrupt state, a short log"
