#!/bin/sh
# uotft finetune resumes to the bit-identical result: a run stopped twice (--stop-after, mid-epoch)
# and a run killed with SIGKILL at random points, restarted until it finishes, end with the same
# model, step log, evaluation log and result.tsv (less its wall time) as an uninterrupted run; a
# killed run never leaves an incomplete result.tsv behind. Recipes: unlabelled (two source views, the endless
# source stream) and cotuning (its cached relationship).
# usage: finetune_resume.sh UOTFT WORLD BACKBONE WORK_DIR
set -u
uotft=$1 world=$2 backbone=$3 w=$4
rm -rf "$w"
mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
printf 'rank\tindex\tscore\n' > "$w/top.tsv"
for i in 1 2 3 4 5 6 7 8 9 10; do printf '%d\t%d\t1\n' "$i" $((i * 7)) >> "$w/top.tsv"; done

same() { # DIR_A DIR_B: every product equal, result.tsv less its seconds
  for f in model.ckpt model.log.tsv eval.tsv settings.txt; do
    cmp -s "$1/$f" "$2/$f" || fail "$2/$f differs from the uninterrupted run's"
  done
  grep -v '^seconds' "$1/result.tsv" > "$w/ra"; grep -v '^seconds' "$2/result.tsv" > "$w/rb"
  cmp -s "$w/ra" "$w/rb" || fail "$2/result.tsv differs: $(diff "$w/ra" "$w/rb")"
}

for recipe in unlabelled cotuning; do
  set -- --recipe "$recipe" --backbone "$backbone" --target mini-digits --target-root "$world" \
    --source mini-pool --source-root "$world" --select "$w/top.tsv" --size 28 --epochs 4 --batch 8 \
    --source-batch 8 --eval-every 2 --lr 0.01 --no-flip 1 --threads 2 --quiet
  [ "$recipe" = cotuning ] && set -- "$@" --source ""
  "$uotft" finetune "$@" --out "$w/$recipe-a" > /dev/null || fail "$recipe: uninterrupted run"
  # stopped mid-epoch twice (6 steps per epoch), then finished
  for stop in 4 15; do
    "$uotft" finetune "$@" --out "$w/$recipe-b" --stop-after $stop > /dev/null || fail "$recipe: stop at $stop"
    [ -e "$w/$recipe-b/result.tsv" ] && fail "$recipe: a stopped run wrote result.tsv"
  done
  "$uotft" finetune "$@" --out "$w/$recipe-b" > /dev/null || fail "$recipe: resumed run"
  same "$w/$recipe-a" "$w/$recipe-b"
  # killed five times at random points (--ckpt-every 3 makes states between epoch ends too), then
  # run to the end
  kills=0 tries=0
  while [ $tries -lt 5 ] && [ ! -e "$w/$recipe-c/result.tsv" ]; do
    tries=$((tries + 1))
    "$uotft" finetune "$@" --out "$w/$recipe-c" --ckpt-every 3 > /dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v s="$tries" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.2 }')"
    if kill -9 $pid 2> /dev/null; then
      kills=$((kills + 1))
      wait $pid 2> /dev/null
      # result.tsv is renamed into place whole, so it may appear only complete (a run killed just
      # after finishing)
      [ -e "$w/$recipe-c/result.tsv" ] && ! grep -q '^seconds' "$w/$recipe-c/result.tsv" &&
        fail "$recipe: a killed run left an incomplete result.tsv"
    else
      wait $pid || fail "$recipe: a restarted run failed"
    fi
  done
  "$uotft" finetune "$@" --out "$w/$recipe-c" > /dev/null || fail "$recipe: the run after the kills"
  [ -e "$w/$recipe-c/result.tsv" ] || fail "$recipe: not finished after $tries starts"
  same "$w/$recipe-a" "$w/$recipe-c"
  echo "$recipe: stopped twice and killed $kills times, identical to the uninterrupted run"
done

# --keep-model 0: the model goes once the result is written, and the run is found again by its result
# alone (no retraining: its step log is not touched); other settings are a new run
set -- --recipe finetune --backbone "$backbone" --target mini-digits --target-root "$world" --size 28 --epochs 1 \
  --batch 8 --eval-every 1 --lr 0.01 --no-flip 1 --threads 2 --quiet --keep-model 0
"$uotft" finetune "$@" --out "$w/nokeep" > "$w/nokeep.1" || fail "--keep-model 0: run"
[ -e "$w/nokeep/model.ckpt" ] && fail "--keep-model 0 kept model.ckpt"
[ -e "$w/nokeep/result.tsv" ] || fail "--keep-model 0: no result.tsv"
touch -d '2001-01-01' "$w/nokeep/model.log.tsv"
"$uotft" finetune "$@" --out "$w/nokeep" > "$w/nokeep.2" || fail "--keep-model 0: found again"
[ "$(stat -c %Y "$w/nokeep/model.log.tsv")" = "$(date -d 2001-01-01 +%s)" ] || fail "--keep-model 0: the run was trained again"
cmp -s "$w/nokeep.1" "$w/nokeep.2" || fail "--keep-model 0: found again with another result: $(diff "$w/nokeep.1" "$w/nokeep.2")"
"$uotft" finetune "$@" --lr 0.02 --out "$w/nokeep" > /dev/null 2>&1 && fail "--keep-model 0: other settings in the same folder were taken"
echo "keep-model 0: the model removed, the run found again by its result"
