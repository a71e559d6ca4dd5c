#!/bin/sh
# MPI data-parallel fine-tuning (engine/core/dist.h) against its single-process reference:
#   * `mpirun -np 2 uotft finetune --threads 1` (10 steps on mini-digits, batch 10 + 10: each rank 5 + 5)
#     ends with the model of one process with --bn-groups 2 (ghost BatchNorm cut as the ranks cut the
#     batch) to 1e-5 in every parameter and running statistic (max abs difference of the exported state
#     dicts, torch), for the labelled, unlabelled (two source views) and Co-Tuning (relationship
#     broadcast) recipes; their step logs and evaluations agree too;
#   * an MPI run stopped twice (--stop-after) and resumed under mpirun ends byte-identical to the
#     uninterrupted MPI run;
#   * --bn-groups 1 is today's run, byte for byte;
#   * a batch that does not split over the ranks, --bn-groups under mpirun, and a command that does not
#     split its work (export) under mpirun are refused.
# usage: finetune_mpi.sh UOTFT PYTHON MPIEXEC WORLD BACKBONE WORK_DIR
set -u
uotft=$1 py=$2 mpiexec=$3 world=$4 backbone=$5 w=$6
rm -rf "$w"
mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
mpi() { "$mpiexec" --allow-run-as-root --oversubscribe -np 2 "$@"; }
printf 'rank\tindex\tscore\n' > "$w/top.tsv"
for i in 1 2 3 4 5 6 7 8 9 10; do printf '%d\t%d\t1\n' "$i" $((i * 7)) >> "$w/top.tsv"; done

# DIR_A DIR_B TOL: the exported models' largest absolute difference, printed, at most TOL
close() {
  "$uotft" export --ckpt "$1/model.ckpt" --out "$1/model.pth" > /dev/null || fail "export $1"
  "$uotft" export --ckpt "$2/model.ckpt" --out "$2/model.pth" > /dev/null || fail "export $2"
  "$py" - "$1/model.pth" "$2/model.pth" "$3" <<'PY' || fail "$2 differs from $1"
import sys, torch
a, b = (torch.load(p, weights_only=True) for p in sys.argv[1:3])
assert a.keys() == b.keys(), "different tensors"
d = max(float((a[k].double() - b[k].double()).abs().max()) if a[k].numel() else 0.0 for k in a)
print("  max |difference| over %d tensors: %.3g" % (len(a), d))
sys.exit(0 if d <= float(sys.argv[3]) else 1)
PY
}
same() { # DIR_A DIR_B: byte-identical products
  for f in model.ckpt model.log.tsv eval.tsv settings.txt; do
    cmp -s "$1/$f" "$2/$f" || fail "$2/$f differs from $1/$f"
  done
}

for recipe in labelled unlabelled cotuning; do
  set -- --recipe "$recipe" --backbone "$backbone" --target mini-digits --target-root "$world" \
    --source mini-pool --source-root "$world" --select "$w/top.tsv" --size 28 --epochs 2 --batch 10 \
    --source-batch 10 --eval-every 1 --lr 0.01 --no-flip 1 --threads 1 --quiet
  [ "$recipe" = cotuning ] && set -- "$@" --source ""
  mpi "$uotft" finetune "$@" --out "$w/$recipe-mpi" > "$w/$recipe-mpi.out" || fail "$recipe: mpirun -np 2"
  "$uotft" finetune "$@" --bn-groups 2 --out "$w/$recipe-ghost" > /dev/null || fail "$recipe: --bn-groups 2"
  [ "$(grep -c . "$w/$recipe-mpi.out")" = 1 ] || fail "$recipe: not one result line (rank 0's): $(cat "$w/$recipe-mpi.out")"
  steps=$(awk '$1 == "steps" { print $2 }' "$w/$recipe-mpi/result.tsv")
  [ "$steps" = 10 ] || fail "$recipe: $steps steps, not 10"
  echo "$recipe: mpirun -np 2 against one process with --bn-groups 2, 10 steps"
  close "$w/$recipe-ghost" "$w/$recipe-mpi" 1e-5
  cmp -s "$w/$recipe-ghost/eval.tsv" "$w/$recipe-mpi/eval.tsv" || fail "$recipe: the evaluations differ"
  cmp -s "$w/$recipe-ghost/settings.txt" "$w/$recipe-mpi/settings.txt" || fail "$recipe: the settings differ"
  # the loss columns of the step log (the parameter hashes may differ in the last bit)
  cut -f1-6 "$w/$recipe-ghost/model.log.tsv" > "$w/la"; cut -f1-6 "$w/$recipe-mpi/model.log.tsv" > "$w/lb"
  cmp -s "$w/la" "$w/lb" && echo "  step losses identical" || echo "  step losses differ in the last digits"
  cmp -s "$w/$recipe-ghost/model.ckpt" "$w/$recipe-mpi/model.ckpt" && echo "  model.ckpt byte-identical"
done

# resumed under mpirun: stopped twice (5 steps per epoch), then finished
set -- --recipe unlabelled --backbone "$backbone" --target mini-digits --target-root "$world" --source mini-pool \
  --source-root "$world" --select "$w/top.tsv" --size 28 --epochs 2 --batch 10 --source-batch 10 --eval-every 1 \
  --lr 0.01 --no-flip 1 --threads 1 --quiet
for stop in 3 7; do
  mpi "$uotft" finetune "$@" --out "$w/resumed" --stop-after $stop > /dev/null || fail "stop at $stop under mpirun"
  [ -e "$w/resumed/result.tsv" ] && fail "a stopped MPI run wrote result.tsv"
done
mpi "$uotft" finetune "$@" --out "$w/resumed" > /dev/null || fail "resumed under mpirun"
same "$w/unlabelled-mpi" "$w/resumed"
echo "unlabelled: stopped at steps 3 and 7 and resumed under mpirun, byte-identical to the uninterrupted MPI run"
# a finished MPI run is found again (nothing trained, one result line)
mpi "$uotft" finetune "$@" --out "$w/resumed" > "$w/again.out" || fail "finished MPI run found again"
grep -q "final top-1" "$w/again.out" || fail "the finished run was not reported: $(cat "$w/again.out")"

# --bn-groups 1 is the run without it, byte for byte
"$uotft" finetune "$@" --out "$w/plain" > /dev/null || fail "plain run"
"$uotft" finetune "$@" --bn-groups 1 --out "$w/groups1" > /dev/null || fail "--bn-groups 1"
same "$w/plain" "$w/groups1"
echo "--bn-groups 1: byte-identical to the run without it"
# and two groups are another computation (BatchNorm over 5 + 5 + 5 rows, not 30): the losses move
cut -f4 "$w/plain/model.log.tsv" > "$w/la"; cut -f4 "$w/unlabelled-ghost/model.log.tsv" > "$w/lb"
cmp -s "$w/la" "$w/lb" && fail "--bn-groups 2 trained as one group"

# refused: a batch that does not split over the ranks, --bn-groups under mpirun
mpi "$uotft" finetune "$@" --batch 9 --out "$w/odd" > "$w/odd.out" 2>&1 && fail "batch 9 over 2 ranks was taken"
grep -q "rank [01]: --batch 9 does not divide into 2 equal shares" "$w/odd.out" || fail "batch 9: no clear error: $(cat "$w/odd.out")"
mpi "$uotft" finetune "$@" --bn-groups 2 --out "$w/both" > "$w/both.out" 2>&1 && fail "--bn-groups under mpirun was taken"
grep -q "not under mpirun" "$w/both.out" || fail "--bn-groups under mpirun: no clear error: $(cat "$w/both.out")"
# other commands would run twice over the same files: refused before they start
mpi "$uotft" export --ckpt "$w/plain/model.ckpt" --out "$w/twice.pth" > "$w/twice.out" 2>&1 && fail "export under mpirun was taken"
grep -q "only .finetune. and .bench finetune. run data-parallel" "$w/twice.out" || fail "export under mpirun: $(cat "$w/twice.out")"
[ -e "$w/twice.pth" ] && fail "export under mpirun wrote its output"
echo "refused: batch 9 over 2 ranks, --bn-groups under mpirun, export under mpirun"
