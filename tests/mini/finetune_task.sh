#!/bin/sh
# The runner's fine-tuning task (task = finetune): a manifest of 2 recipes x 2 seeds writes one CSV
# row per run and a report of mean +- std over the seeds; a second manifest asking for one of the
# same runs finds it instead of training again; `uotft run` killed while a run trains, then run
# again (five times), ends with the same CSV bytes as an uninterrupted run, never leaving a partial
# file under a finished file's name.
# usage: finetune_task.sh UOTFT WORLD FEATURES BACKBONE WORK_DIR
set -u
uotft=$1 world=$2 feat=$3 backbone=$4 w=$5
rm -rf "$w"
mkdir -p "$w/a" "$w/b" "$w/c"
fail() { echo "FAIL: $*"; exit 1; }
manifest() { # FILE NAME RECIPES SEEDS RUNS
  cat > "$1" <<INI
[experiment]
name = $2
title = fine-tuning task test
task = finetune
tiers = mini
rows = recipe
cols = target

[grid]
recipe = $3
target = mini-digits
seed = $4

[tier.mini]
backbone = $backbone
target_root = $world
source = mini-pool
source_root = $world
runs = $5
size = 28
epochs = 4
batch = 8
source_batch = 16
eval_every = 1
lr = 0.003
no_flip = 1
; the labelled recipe's selection: UOT-cos on the prepared class means, top 10
method.labelled = uot-cos
top.labelled = 10
source_means.labelled = $feat/supervised/pool.means.npy
source_counts.labelled = $feat/supervised/pool.counts.npy
target_means.labelled = $feat/supervised/digits.means.npy
target_counts.labelled = $feat/supervised/digits.counts.npy
INI
}
run() { "$uotft" run "$@" --tier mini --threads 2 --no-plot 2> "$w/log" || fail "uotft run $*: $(tail -3 "$w/log")"; }

manifest "$w/a/ft.ini" ft "finetune, labelled" "0, 1" "$w/a/runs"
run "$w/a/ft.ini" --out-root "$w/a"
csv=$w/a/results/mini/ft.csv
[ "$(head -1 "$csv")" = "tier,recipe,target,seed,final_top1,best_top1,best_epoch,run,recall" ] || fail "CSV header: $(head -1 "$csv")"
[ "$(wc -l < "$csv")" = 5 ] || fail "$csv: $(wc -l < "$csv") lines, expected 4 rows"
[ "$(ls -d "$w"/a/runs/*-mini-digits-*/ | wc -l)" = 4 ] || fail "expected 4 run folders"
ls "$w"/a/runs/select-*.tsv > /dev/null 2>&1 || fail "no selection file written"
grep -q "| labelled | [0-9.]* ± [0-9.]* (best [0-9.]*) |" "$w/a/results/mini/ft.md" ||
  fail "report lacks mean ± std (best): $(cat "$w/a/results/mini/ft.md")"

# another manifest asking for one of the same runs: found, not trained (its folder's files untouched)
run_dir=$(awk -F, '$2 == "labelled" && $4 == "1" {print $8}' "$csv")
touch -d '2000-01-01' "$w/a/runs/$run_dir/model.ckpt"
manifest "$w/b/other.ini" other "labelled" "1" "$w/a/runs"
run "$w/b/other.ini" --out-root "$w/b"
[ "$(awk -F, 'NR == 2 {print $8}' "$w/b/results/mini/other.csv")" = "$run_dir" ] || fail "the shared run was not found"
[ "$(stat -c %Y "$w/a/runs/$run_dir/model.ckpt")" = "$(date -d 2000-01-01 +%s)" ] || fail "the shared run was trained again"
grep "labelled,mini-digits,1," "$csv" | cut -d, -f5- > "$w/one"
grep "labelled,mini-digits,1," "$w/b/results/mini/other.csv" | cut -d, -f5- | cmp -s - "$w/one" || fail "shared run's row differs"

# killed (SIGKILL) five times at random points, then run again: the same CSV; the finished runs are
# not trained again; after every kill, each file that looks finished is whole (partial files only
# exist under temporary names)
manifest "$w/c/ft.ini" ft "finetune, labelled" "0, 1" "$w/c/runs"
kills=0
for k in 1 2 3 4 5; do
  "$uotft" run "$w/c/ft.ini" --out-root "$w/c" --tier mini --threads 2 --no-plot > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s=$k 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.5 }')"
  kill -9 $pid 2> /dev/null && kills=$((kills + 1))
  wait $pid 2> /dev/null
  for r in "$w"/c/runs/*/result.tsv; do
    [ -e "$r" ] || continue
    grep -q '^seconds' "$r" || fail "kill $k: $r is incomplete"
  done
  out=$w/c/results/mini/ft.csv
  [ ! -e "$out" ] || [ "$(wc -l < "$out")" = 5 ] || fail "kill $k: $out is incomplete"
done
[ $kills -ge 3 ] || fail "only $kills of the 5 kills hit a running uotft run (the runs are too short)"
run "$w/c/ft.ini" --out-root "$w/c"
cmp -s "$csv" "$w/c/results/mini/ft.csv" || fail "CSV after $kills kills differs: $(diff "$csv" "$w/c/results/mini/ft.csv")"
echo "finetune task: 4 runs, one shared with a second manifest, CSV identical after $kills kills"
