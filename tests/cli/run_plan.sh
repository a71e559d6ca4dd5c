#!/bin/sh
# uotft run --plan: every job listed once per distinct run (table1a and source_half share their
# fine-tuning and UOT runs: 60 + 36 jobs, 72 runs), with core-hours from rates measured in the same
# invocation, and nothing trained (the runs folder stays as it was).
# usage: run_plan.sh UOTFT PROJECT_ROOT WORK_DIR
set -u
uotft=$1 root=$2 w=$3
rm -rf "$w" && mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
"$uotft" run "$root/experiments/table1a.ini" "$root/experiments/source_half.ini" --tier mini --plan --threads 1 \
  --set runs="$w/runs" > "$w/plan.txt" 2> "$w/log" || fail "plan: $(cat "$w/log")"
cat "$w/plan.txt" | tail -4
grep -q '^# total: 1 preparation stages and 72 distinct runs (96 jobs): [0-9.]* core-hours' "$w/plan.txt" ||
  fail "expected 72 distinct runs of 96 jobs: $(grep '^# total' "$w/plan.txt")"
[ "$(grep -c '^table1a ' "$w/plan.txt")" = 60 ] || fail "table1a's 60 runs not all listed"
[ "$(grep -c '^source_half ' "$w/plan.txt")" = 12 ] || fail "source_half's 12 runs of its own (half the source) not listed"
grep -q '^#   train small:.* 28 px .*images/s' "$w/plan.txt" || fail "no measured training rate"
[ -e "$w/runs" ] && fail "the plan made a runs folder"
echo "plan: 72 distinct runs of 96 jobs, rates measured, nothing run"
