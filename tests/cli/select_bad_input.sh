#!/bin/sh
# Bad input to `uotft select`, `uotft uot` and `uotft run`: every case must exit
# non-zero with a message naming the offending file (or setting), must not crash,
# and must leave no output file behind.
# usage: select_bad_input.sh UOTFT REFERENCE_DIR WORK_DIR
set -u
uotft=$1 ref=$2/released-class-means w=$3
rm -rf "$w" && mkdir -p "$w"
fails=0
py=/usr/bin/python3

# expect NAME NEEDLE -- command...: non-zero exit (not a signal), NEEDLE in stderr, no $w/out.*
expect() {
  name=$1 needle=$2
  shift 3
  "$@" >"$w/stdout" 2>"$w/stderr"
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
    echo "FAIL $name: exit status $rc"; fails=$((fails + 1))
  elif ! grep -qF -- "$needle" "$w/stderr"; then
    echo "FAIL $name: stderr lacks '$needle':"; cat "$w/stderr"; fails=$((fails + 1))
  elif ls "$w"/out.* >/dev/null 2>&1; then
    echo "FAIL $name: left $(ls "$w"/out.*)"; fails=$((fails + 1))
  else
    echo "ok   $name: $(head -c 160 "$w/stderr" | head -n 1)"
  fi
}

S=$ref/supervised-resnet18
sel() { "$uotft" select --method uot-cos --out "$w/out.tsv" "$@"; }
good="--source-means $S/imagenet.means.npy --source-counts $S/imagenet.counts.npy"
tgt="--target-means $S/cub.means.npy --target-counts $S/cub.counts.npy"

printf 'not a numpy file at all' > "$w/garbage.npy"
: > "$w/empty.npy"
head -c 4000 "$S/cub.means.npy" > "$w/truncated.npy"
$py - "$w" "$S" <<'PY'
import sys, numpy as np
w, S = sys.argv[1], sys.argv[2]
T = np.load(f"{S}/cub.means.npy")
bad = T.copy(); bad[3, 7] = np.nan
np.save(f"{w}/nan.npy", bad)
np.save(f"{w}/dim.npy", T[:, :100])
np.save(f"{w}/complex.npy", T[:2].astype(np.complex128))
np.save(f"{w}/fortran.npy", np.asfortranarray(T))
np.save(f"{w}/counts3.npy", np.ones(3, dtype=np.int64))
np.save(f"{w}/small_source.npy", np.load(f"{S}/imagenet.means.npy")[:50])
np.save(f"{w}/small_counts.npy", np.ones(50, dtype=np.int64))
PY

expect garbage garbage.npy -- sel $good --target-means "$w/garbage.npy" --target-counts $S/cub.counts.npy
expect empty empty.npy -- sel $good --target-means "$w/empty.npy" --target-counts $S/cub.counts.npy
expect truncated truncated.npy -- sel $good --target-means "$w/truncated.npy" --target-counts $S/cub.counts.npy
expect nan "nan.npy: non-finite value" -- sel $good --target-means "$w/nan.npy" --target-counts $S/cub.counts.npy
expect dim-mismatch "feature dimensions differ" -- sel $good --target-means "$w/dim.npy" --target-counts $S/cub.counts.npy
expect complex "complex.npy: unsupported dtype" -- sel $good --target-means "$w/complex.npy" --target-counts $S/cub.counts.npy
expect fortran "fortran.npy: Fortran-order" -- sel $good --target-means "$w/fortran.npy" --target-counts $S/cub.counts.npy
expect counts-length "counts3.npy" -- sel $good --target-means $S/cub.means.npy --target-counts "$w/counts3.npy"
expect top-too-large "larger than the number of source classes" -- \
  sel --source-means "$w/small_source.npy" --source-counts "$w/small_counts.npy" $tgt
expect missing-file "no-such.npy" -- sel $good --target-means "$w/no-such.npy" --target-counts $S/cub.counts.npy
expect unknown-method "unknown method" -- "$uotft" select --method best $good $tgt --out "$w/out.tsv"
expect missing-args "required" -- "$uotft" select --method uot-cos --out "$w/out.tsv"
expect bad-number "--eps-c expects a number" -- sel $good $tgt --eps-c fast
expect unknown-concept "no class has the concept 'unicorn'" -- \
  sel $good $tgt --classes "$ref/imagenet-classes.tsv" --concept unicorn
expect classes-mismatch "lists 1000 classes" -- \
  sel --source-means "$w/small_source.npy" --source-counts "$w/small_counts.npy" $tgt --top 10 \
      --classes "$ref/imagenet-classes.tsv" --concept bird
expect unwritable "cannot" -- "$uotft" select --method uot-cos $good $tgt --out /proc/out.tsv
expect uot-cost "garbage.npy" -- "$uotft" uot --cost "$w/garbage.npy" --plan "$w/out.npy"
# UOTFT_THREADS is held to --threads' range, checked before the command reads anything
for t in 0 -3 four 99999; do
  expect "threads-env-$t" "UOTFT_THREADS expects an integer in [1, 1024], got '$t'" -- \
    env UOTFT_THREADS=$t "$uotft" uot --cost "$w/garbage.npy" --plan "$w/out.npy"
done

# manifests
printf '[experiment]\nname = broken\ntask = recall\ntiers = features\n[grid\nmodel = x\n' > "$w/broken.ini"
printf '[experiment]\nname = t\ntask = recall\ntiers = mini\n' > "$w/tierless.ini"
printf '[experiment]\nname = t\ntask = dance\ntiers = features\n[grid]\nx = 1\n' > "$w/task.ini"
printf '[experiment]\nname = t\ntask = recall\ntiers = features\n[grid]\nmodel = m\n[tier.features]\nsource_means = nowhere/{model}.npy\n' > "$w/paths.ini"
expect manifest-syntax "broken.ini:5: malformed line" -- "$uotft" run "$w/broken.ini" --out-root "$w/out.d"
expect manifest-tier "no tier 'features'" -- "$uotft" run "$w/tierless.ini" --tier features --out-root "$w/out.d"
expect manifest-task "unknown task 'dance'" -- "$uotft" run "$w/task.ini" --out-root "$w/out.d"
expect manifest-path "source_means: 'nowhere/m.npy' does not exist" -- "$uotft" run "$w/paths.ini" --out-root "$w/out.d"
expect manifest-missing "no such manifest" -- "$uotft" run "$w/none.ini" --out-root "$w/out.d"
# grids too large to run: 10^9 jobs, and 1000^7 (overflows a long); the limit, not a start, must answer
$py - "$w" <<'PY'
import sys
w = sys.argv[1]
values = "\n".join("  " + ", ".join(str(i) for i in range(k, k + 25)) for k in range(0, 1000, 25))
for name, axes in (("billion", 3), ("overflow", 7)):
    with open(f"{w}/{name}.ini", "w") as f:
        f.write("[experiment]\nname = t\ntask = recall\ntiers = features\n[grid]\n")
        for a in range(axes):
            f.write(f"a{a} =\n{values}\n")
PY
expect manifest-jobs "billion.ini: the grid has more than 100000 jobs" -- \
  timeout 60 "$uotft" run "$w/billion.ini" --out-root "$w/out.d"
expect manifest-jobs-overflow "overflow.ini: the grid has more than 100000 jobs" -- \
  timeout 60 "$uotft" run "$w/overflow.ini" --out-root "$w/out.d"

[ $fails -eq 0 ] && echo "all bad inputs rejected cleanly" || echo "$fails case(s) failed"
exit $fails
