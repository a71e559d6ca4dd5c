#!/bin/sh
# uotft run --shard I/N and --collect: the shards of a fine-tuning manifest (each a share of its
# distinct runs) and a recall manifest (no runs: computed when collecting), then --collect, write the
# same CSV bytes as one unsharded run in a fresh runs folder; a shard run again trains nothing, and
# --collect with a run missing fails naming it, never training.
# usage: run_shards.sh UOTFT PROJECT_ROOT WORLD PREPARED WORK_DIR
#   WORLD: the mini world; PREPARED: a folder with its preparation (pretrain/, features/), as results.sh
set -u
uotft=$1 root=$2 world=$3 prepared=$4 w=$5
rm -rf "$w" && mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
ft=$root/experiments/table2.ini rc=$root/experiments/table4.ini
set -- --tier mini --set seed=0 --set dataset=digits,mix --set world="$world" --set pretrain="$prepared/pretrain" \
  --set features="$prepared/features" --threads 2
for i in 0 1; do
  "$uotft" run "$ft" "$rc" "$@" --set runs="$w/runs" --shard $i/2 2> "$w/shard$i.log" || fail "shard $i: $(tail -3 "$w/shard$i.log")"
done
[ "$(ls -d "$w"/runs/unlabelled-*/ | wc -l)" = 4 ] || fail "the two shards made $(ls -d "$w"/runs/unlabelled-*/ | wc -l) runs, not 4"
sleep 1 && touch "$w/marker"
"$uotft" run "$ft" "$@" --set runs="$w/runs" --shard 1/2 2> /dev/null || fail "shard 1 again"
[ -z "$(find "$w/runs" -newer "$w/marker" -name model.log.tsv)" ] || fail "a shard run again trained"
"$uotft" run "$ft" "$rc" "$@" --set runs="$w/runs" --collect --out-root "$w/sharded" 2> "$w/collect.log" ||
  fail "collect: $(tail -3 "$w/collect.log")"
"$uotft" run "$ft" "$rc" "$@" --set runs="$w/runs2" --jobs 1 --out-root "$w/whole" 2> "$w/whole.log" ||
  fail "unsharded: $(tail -3 "$w/whole.log")"
for name in table2 table4; do
  cmp "$w/sharded/results/mini/$name.csv" "$w/whole/results/mini/$name.csv" || fail "$name.csv: sharded and collected differs"
done
rm -rf "$(ls -d "$w"/runs/unlabelled-*/ | head -1)"
"$uotft" run "$ft" "$@" --set runs="$w/runs" --collect --out-root "$w/c2" 2> "$w/c2.log" && fail "collect with a run missing passed"
grep -q "not finished" "$w/c2.log" || fail "collect with a run missing: $(tail -2 "$w/c2.log")"
[ -z "$(find "$w/runs" -newer "$w/marker" -name model.log.tsv)" ] || fail "--collect trained a run"
echo "shards: 2 shards of 4 runs and a recall manifest, collected: the same CSVs as one unsharded run"
