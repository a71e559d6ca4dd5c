#!/bin/sh
# uotft slurm without a Slurm: the scripts it writes (absolute paths, the runs' array sized by the plan's
# distinct runs, the options given written as sbatch wants them, valid shell), the submit commands
# chained by afterok (through a stand-in sbatch that records its arguments), and its usage errors.
# usage: slurm_scripts.sh UOTFT PROJECT_ROOT WORK_DIR
set -u
uotft=$1 root=$2 w=$3
rm -rf "$w" && mkdir -p "$w"
fail() { echo "FAIL: $*"; exit 1; }
exe=$(readlink -f "$uotft")

# the plan sizes the runs' array: table1a and source_half share runs, 72 distinct of 96 jobs; nothing is trained
"$uotft" slurm "$root/experiments/table1a.ini" "$root/experiments/source_half.ini" --tier mini --threads 1 \
  --set runs="$w/runs" --out "$w/a" > "$w/a.out" 2> "$w/a.err" || fail "slurm: $(cat "$w/a.err")"
grep -q '^# total: 1 preparation stages and 72 distinct runs' "$w/a/plan.txt" || fail "no plan.txt with 72 runs"
grep -qx '#SBATCH --array=0-71' "$w/a/runs.sbatch" || fail "runs.sbatch: $(grep array "$w/a/runs.sbatch")"
[ -e "$w/runs" ] && fail "writing the scripts made a runs folder"
for s in prepare prepare-merge runs collect; do
  f=$w/a/$s.sbatch
  bash -n "$f" || fail "$s.sbatch is not valid bash"
  grep -qx "cd $root" "$f" || fail "$s.sbatch: no cd to the project root"
  grep -q "^exec $exe run $root/experiments/table1a.ini $root/experiments/source_half.ini --tier mini --set runs=$w/runs " "$f" ||
    fail "$s.sbatch: $(grep ^exec "$f")"
  grep -q -- '--threads "$SLURM_CPUS_PER_TASK"$' "$f" || fail "$s.sbatch: no --threads from the allocation"
  grep -q "^#SBATCH --output=$w/a/logs/$s-%" "$f" || fail "$s.sbatch: no log file in $w/a/logs"
  grep -qx '#SBATCH --cpus-per-task=8' "$f" && grep -q '^#SBATCH --time=\(1-\)\{0,1\}..:..:..$' "$f" || fail "$s.sbatch: cpus, time"
done
grep -q -- '--shard "$SLURM_ARRAY_TASK_ID/72" --jobs 1 ' "$w/a/runs.sbatch" || fail "runs.sbatch: no --shard I/72"
[ "$(grep -c '=$(sbatch --parsable' "$w/a.out")" = 4 ] || fail "not four sbatch commands printed: $(cat "$w/a.out")"

# the options given: no plan then; relative paths absolute (--out-root the working directory's, --set's the root's)
(cd "$w" && "$uotft" slurm "$root/experiments/table2.ini" --tier full --shards 5 --array-max 3 --time 1-02:03:04 \
  --mem 4G --partition p --cpus 3 --prepare-shards 4 --set store=scratch/x --set scale=tiny --out-root o --out b \
  > b.out 2> b.err) || fail "slurm with options: $(cat "$w/b.err")"
[ -e "$w/b/plan.txt" ] && fail "a plan made though --shards and --time were given"
f=$w/b/runs.sbatch
for l in '--array=0-4%3' '--time=1-02:03:04' '--mem=4G' '--partition=p' '--cpus-per-task=3'; do
  grep -qx -- "#SBATCH $l" "$f" || fail "runs.sbatch: no #SBATCH $l"
done
grep -q -- "--set store=$root/scratch/x --set scale=tiny --out-root $w/o " "$f" || fail "paths: $(grep ^exec "$f")"

# --submit: each job after the one before, through a stand-in sbatch that prints ids 101, 102, ...
mkdir -p "$w/bin" && cat > "$w/bin/sbatch" << EOF
#!/bin/sh
n=\$(( \$(cat "$w/ids" 2> /dev/null || echo 100) + 1 )); echo \$n > "$w/ids"; echo "\$*" >> "$w/sbatch.log"; echo "\$n;cluster"
EOF
chmod +x "$w/bin/sbatch"
PATH=$w/bin:$PATH "$uotft" slurm "$root/experiments/table2.ini" --tier full --shards 2 --time 1:00:00 --out "$w/c" \
  --submit > "$w/c.out" 2> "$w/c.err" || fail "--submit: $(cat "$w/c.err")"
grep -qx 'collect.sbatch: job 104' "$w/c.out" || fail "job ids: $(cat "$w/c.out")"
i=0
for s in prepare prepare-merge runs collect; do
  dep=${i#0}; dep=${dep:+--dependency=afterok:$((100 + i)) }
  grep -qx -- "--parsable $dep$w/c/$s.sbatch" "$w/sbatch.log" || fail "$s: $(cat "$w/sbatch.log")"
  i=$((i + 1))
done

# a refused submission: exit status 1, the failure said
mkdir -p "$w/bin2" && printf '#!/bin/sh\necho "sbatch: error: invalid partition" >&2\nexit 1\n' > "$w/bin2/sbatch"
chmod +x "$w/bin2/sbatch"
PATH=$w/bin2:$PATH "$uotft" slurm "$root/experiments/table2.ini" --tier full --shards 2 --time 1:00:00 --out "$w/e" \
  --submit > /dev/null 2> "$w/e.err"
[ $? = 1 ] && grep -q 'submit.sh failed' "$w/e.err" || fail "a failing sbatch: $(cat "$w/e.err")"
[ "$(grep -c 'invalid partition' "$w/e.err")" = 1 ] || fail "submitted on after a failed sbatch: $(cat "$w/e.err")"

# usage errors
"$uotft" slurm "$root/experiments/table2.ini" > /dev/null 2>&1; [ $? = 2 ] || fail "no --tier: not status 2"
"$uotft" slurm --tier full --time 90 > /dev/null 2>&1; [ $? = 2 ] || fail "bad --time: not status 2"
mkdir -p "$w/p/experiments"  # every manifest of the project has a full tier: one that has not
printf '[experiment]\nname = minionly\ntask = probe\ntiers = mini\n[grid]\nmodel = a\n' > "$w/p/experiments/minionly.ini"
"$uotft" slurm "$w/p/experiments/minionly.ini" --tier full --out "$w/d" > /dev/null 2> "$w/d.err"
[ $? = 1 ] && grep -q "no tier 'full'" "$w/d.err" || fail "a manifest without the tier: $(cat "$w/d.err")"
echo "slurm scripts: absolute paths, 72 runs tasks from the plan, options as given, submitted in order"
