#!/bin/sh
# `uotft slurm --submit` against a real Slurm: munged, slurmctld and slurmd started here, as root, on
# this one node (a minimal slurm.conf in a temporary folder: 2 CPUs, no accounting, its own ports and
# munge socket, so a system Slurm or another test is not disturbed), then the full tier of two manifests
# (table4: selection only; table2: 16 fine-tuning runs) at --set scale=tiny on the world of
# tests/full/make_world.py submitted as its four jobs (prepare, prepare-merge, the runs' array, collect).
# Checked: every job succeeded, the runs' array had a task per distinct run and each ran its shard, and
# the CSVs and reports equal those of one unsharded `uotft run` of the same manifests in another folder,
# byte for byte (a report's last line, with its wall time, date and thread count, left out). The daemons
# are stopped, and any job left cancelled, on exit. Exit 77 (skipped) when the daemons cannot start.
# usage: single_node.sh UOTFT PROJECT_ROOT WORLD WORK_DIR
set -u
uotft=$1 root=$2 world=$3 w=$4
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "the daemons run as root here (slurmd starts the jobs' processes)"
for p in munged slurmctld slurmd sbatch scontrol sinfo scancel; do
  command -v "$p" > /dev/null || [ -x "/usr/sbin/$p" ] || skip "$p not installed (ci/apt-packages.txt: slurm-wlm, munge)"
done
PATH=$PATH:/usr/sbin
rm -rf "$w" && mkdir -p "$w"
t=$(mktemp -d /tmp/uotft-slurm.XXXXXX) || skip "no temporary folder"
chmod 755 "$t" && mkdir -p "$t/munge" "$t/state" "$t/spool" "$t/log"
export SLURM_CONF="$t/slurm.conf"

# ---- stopping: jobs cancelled, then the daemons (by their pid files), on any exit ----
stop() {
  if [ -s "$t/slurmctld.pid" ]; then
    scancel --quiet --user=root 2> /dev/null
    i=0; while [ $i -lt 20 ] && [ -n "$(squeue -h 2> /dev/null)" ]; do sleep 1; i=$((i + 1)); done
    scontrol shutdown 2> /dev/null
  fi
  for f in "$t/slurmd.pid" "$t/slurmctld.pid" "$t/munge/pid"; do # munged has no shutdown: SIGTERM
    pid=$(cat "$f" 2> /dev/null) || continue
    i=0; while kill -0 "$pid" 2> /dev/null && [ $i -lt 10 ]; do
      [ "$f" = "$t/munge/pid" ] && kill "$pid"; sleep 1; i=$((i + 1))
    done
    kill -0 "$pid" 2> /dev/null && kill -9 "$pid"
  done
  rm -rf "$t"
}
trap stop EXIT
trap 'exit 1' INT TERM

# ---- munged with its own key and socket ----
dd if=/dev/urandom of="$t/munge/munge.key" bs=1024 count=1 2> /dev/null && chmod 400 "$t/munge/munge.key"
munged --force --socket="$t/munge/sock" --key-file="$t/munge/munge.key" --pid-file="$t/munge/pid" \
  --log-file="$t/munge/log" --seed-file="$t/munge/seed" || skip "munged did not start: $(tail -2 "$t/munge/log")"

# ---- slurm.conf: this node, 2 CPUs, its memory; two free ports ----
host=$(hostname)
mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
ports=$(/usr/bin/python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])') || skip "no free ports"
set -- $ports
cat > "$t/slurm.conf" << EOF
ClusterName=uotft-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$t/munge/sock
StateSaveLocation=$t/state
SlurmdSpoolDir=$t/spool
SlurmctldPidFile=$t/slurmctld.pid
SlurmdPidFile=$t/slurmd.pid
SlurmctldLogFile=$t/log/slurmctld.log
SlurmdLogFile=$t/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -i || skip "slurmctld did not start: $(tail -3 "$t/log/slurmctld.log" 2> /dev/null)"
slurmd || skip "slurmd did not start: $(tail -3 "$t/log/slurmd.log" 2> /dev/null)"
i=0
until [ "$(sinfo -h -n "$host" -o %t 2> /dev/null)" = idle ]; do
  [ $i -ge 60 ] && skip "the node is not idle after 60 s ($(sinfo -h -o %t 2> /dev/null)): $(tail -3 "$t/log/slurmd.log")"
  sleep 1; i=$((i + 1))
done
echo "slurm: $host idle after $i s (ports $1, $2)"

# ---- the tier through uotft slurm --submit ----
set -- "$root/experiments/table4.ini" "$root/experiments/table2.ini" --tier full --set scale=tiny \
  --set downloads="$world/data" --set recipes="$world/recipes"
t0=$(date +%s)
runs=$("$uotft" run "$@" --plan 2> /dev/null | sed -n 's/^# total: .* and \([0-9]*\) distinct runs.*/\1/p')
[ -n "$runs" ] || fail "uotft run --plan counted no runs"
"$uotft" slurm "$@" --set store="$w/slurm-store" --out-root "$w/slurm-out" --out "$w/scripts" --cpus 1 --prepare-shards 2 --submit \
  > "$w/submit.out" 2> "$w/submit.err" || fail "uotft slurm: $(cat "$w/submit.out" "$w/submit.err")"
cat "$w/submit.out"
collect=$(sed -n 's/^collect.sbatch: job \([0-9]*\)$/\1/p' "$w/submit.out")
[ -n "$collect" ] || fail "no job id for collect.sbatch"
logs() { tail -n 5 "$w"/scripts/logs/*.log; }
# the collect job's state, every 2 s (no accounting: scontrol keeps a finished job for MinJobAge)
while :; do
  info=$(scontrol show job -o "$collect" 2> /dev/null)
  state=$(echo "$info" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p') reason=$(echo "$info" | sed -n 's/.*Reason=\([^ ]*\).*/\1/p')
  case $state in
  COMPLETED) break ;;
  PENDING | RUNNING | CONFIGURING | COMPLETING) ;;
  *) logs; fail "collect job $collect: ${state:-gone}" ;;
  esac
  [ "$reason" = DependencyNeverSatisfied ] && { logs; fail "a job before collect failed"; }
  [ $(($(date +%s) - t0)) -gt 1500 ] && { logs; fail "not done after 1500 s ($state, $reason)"; }
  sleep 2
done
slurm_s=$(($(date +%s) - t0))
tasks=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\).*/\1/p' "$w/scripts/runs.sbatch")
[ "$tasks" = $((runs - 1)) ] || fail "runs.sbatch: tasks 0-$tasks, not one per distinct run ($runs)"
for i in $(seq 0 $((runs - 1))); do
  grep -q "shard $i/$runs" "$w"/scripts/logs/runs-*_"$i".log || fail "runs task $i did not run its shard"
done
for i in 0 1; do
  grep -q "shard $i of 2: done" "$w"/scripts/logs/prepare-*_"$i".log || fail "preparation task $i did not extract its rows"
done
grep -q "merging 2 shards" "$w"/scripts/logs/prepare-merge-*.log || fail "prepare-merge did not merge the 2 shards"
echo "slurm: the four jobs (2 + 1 + $runs + 1 tasks) done in $slurm_s s"

# ---- the same manifests in one unsharded uotft run ----
t1=$(date +%s)
# --threads 1 as the jobs' (--cpus 1): the preparation's features and clusters are bit-identical for a
# given thread count, not across thread counts (the runs set their own, threads = 1 at scale tiny)
"$uotft" run "$@" --set store="$w/plain-store" --out-root "$w/plain-out" --jobs 2 --threads 1 2> "$w/plain.log" ||
  fail "unsharded run: $(tail -5 "$w/plain.log")"
echo "unsharded uotft run: $(($(date +%s) - t1)) s"
for name in table4 table2; do
  a=$w/slurm-out/results/full/$name b=$w/plain-out/results/full/$name
  [ -s "$a.csv" ] && [ -s "$a.md" ] || fail "$name: no CSV or report from the Slurm jobs"
  cmp "$a.csv" "$b.csv" || fail "$name.csv differs from the unsharded run's"
  [ ! -e "$b.summary.tsv" ] || cmp "$a.summary.tsv" "$b.summary.tsv" || fail "$name.summary.tsv differs"
  grep -v '^Tier `' "$a.md" > "$w/a.md" && grep -v '^Tier `' "$b.md" > "$w/b.md"
  cmp "$w/a.md" "$w/b.md" || fail "$name.md differs from the unsharded run's"
  echo "$name: CSV and report equal the unsharded run's ($(($(wc -l < "$a.csv") - 1)) rows)"
done
echo "uotft slurm on a single-node Slurm: $slurm_s s for the jobs, the same results as uotft run"
