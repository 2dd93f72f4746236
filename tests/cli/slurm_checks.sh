#!/usr/bin/env bash
# tools/slurm/*.sbatch under a real SLURM: slurm_checks.sh TUMORFORGE WORKDIR PYTHON SRCDIR (= tests/cli)
# Starts a private one-node cluster (munged, slurmctld, slurmd with their own config, state, sockets and free ports
# under WORKDIR), then:
#   1. tools/slurm/datagen.sbatch as a 4-task array fills a store that verifies and equals one `datagen run`;
#   2. a second array is cancelled mid-run (scancel) and resubmitted: it resumes to the same store;
#   3. tools/slurm/train.sbatch with --ntasks 2 trains 2 data-parallel ranks (srun) and checkpoints.
# The daemons are stopped by the PIDs this script started, however it ends. Exit 77 (skipped) without SLURM.
set -euo pipefail
tf=$(realpath "$1"); w=$2; py=$3; src=$(cd "$4" && pwd)
root=$(cd "$src/../.." && pwd)
for b in slurmctld slurmd munged sbatch srun squeue scancel; do
  command -v "$b" >/dev/null || { echo "skipped: $b not installed (tools/setup.sh installs it unless TUMORFORGE_NO_SLURM=1)"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "skipped: a private SLURM cluster needs root (slurmd runs jobs as their users)"; exit 77; }
rm -rf "$w"; mkdir -p "$w"/{state,spool,munge,logs}
w=$(cd "$w" && pwd)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)

# munge with its own key and socket (the system's munged, if any, is left alone).
dd if=/dev/urandom of="$w/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$w/munge/munge.key"
chown -R root "$w/munge"; chmod 700 "$w/munge"
munged --force --key-file="$w/munge/munge.key" --socket="$w/munge/munge.sock" --pid-file="$w/munge/munged.pid" \
  --log-file="$w/logs/munged.log" --seed-file="$w/munge/seed"
for _ in $(seq 1 50); do [[ -s "$w/munge/munged.pid" ]] && break; sleep 0.1; done
pids+=("$(cat "$w/munge/munged.pid")")

cat > "$w/slurm.conf" <<CONF
ClusterName=tftest
SlurmctldHost=$host
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$w/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$w/state
SlurmdSpoolDir=$w/spool
SlurmctldPidFile=$w/slurmctld.pid
SlurmdPidFile=$w/slurmd.pid
SlurmctldLogFile=$w/logs/slurmctld.log
SlurmdLogFile=$w/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$w/slurm.conf
slurmctld -D -f "$SLURM_CONF" > "$w/logs/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$w/logs/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do sinfo -h -o %T 2>/dev/null | grep -qE "^idle" && break; sleep 0.2; done
sinfo -h -o %T | grep -qE "^idle" || { echo "FAIL: the private cluster did not come up"; tail -20 "$w"/logs/*.log; exit 1; }
echo "cluster up: $host, $cpus CPUs"

init() {  # a store small enough for CI: 3 mm phantom, 16^3 crops
  "$tf" --log-level warn datagen init --preset dev --n-samples "$2" --phantom 40 --phantom-spacing 3 --sim-spacing 3 \
    --crop 16 --stop-volume-max 20000 --dw-max 2 --rng-seed 11 --out "$1"
}
done_count() { find "$1/status" -maxdepth 1 -type f ! -name '.*' | wc -l; }
cd "$w"  # the scripts' logs go to the submit directory

# 1. A 4-task array equals one process.
init "$w/array.zarr" 24; init "$w/single.zarr" 24
TUMORFORGE=$tf sbatch --wait --array=0-3 --cpus-per-task=1 --mem=1G --time=10 "$root/tools/slurm/datagen.sbatch" "$w/array.zarr"
"$tf" --log-level warn datagen run "$w/single.zarr" --threads 2
"$tf" datagen verify "$w/array.zarr"
"$py" "$root/tests/datagen/compare_stores.py" "$w/array.zarr" "$w/single.zarr"
ls tf-datagen-*.out >/dev/null || { echo "FAIL: the array wrote no logs"; exit 1; }
echo "array of 4 tasks == one datagen run"

# 2. Cancelled mid-run, resubmitted: resumes to the same store.
init "$w/cancel.zarr" 150; init "$w/cancel_ref.zarr" 150
job=$(TUMORFORGE=$tf sbatch --parsable --array=0-1 --cpus-per-task=1 --mem=1G --time=10 "$root/tools/slurm/datagen.sbatch" "$w/cancel.zarr")
for _ in $(seq 1 600); do [[ $(done_count "$w/cancel.zarr") -ge 8 ]] && break; sleep 0.05; done
scancel "$job"
for _ in $(seq 1 100); do [[ -z $(squeue -h -j "$job" 2>/dev/null) ]] && break; sleep 0.2; done
n=$(done_count "$w/cancel.zarr")
[[ $n -lt 150 ]] || { echo "FAIL: the array finished before the cancel; make it longer"; exit 1; }
echo "cancelled after $n samples; resubmitting"
TUMORFORGE=$tf sbatch --wait --array=0-1 --cpus-per-task=1 --mem=1G --time=10 "$root/tools/slurm/datagen.sbatch" "$w/cancel.zarr"
"$tf" --log-level warn datagen run "$w/cancel_ref.zarr" --threads 2
"$tf" datagen verify "$w/cancel.zarr"
"$py" "$root/tests/datagen/compare_stores.py" "$w/cancel.zarr" "$w/cancel_ref.zarr"
echo "cancel + resubmit == one datagen run"

# 3. Two data-parallel ranks under srun.
TUMORFORGE=$tf sbatch --wait --ntasks=2 --ntasks-per-node=2 --cpus-per-task=1 --mem=2G --time=10 "$root/tools/slurm/train.sbatch" \
  --model surrogate --widths 8,8,16,16,32 --kernel-size 3 --train "$w/single.zarr" --val "$w/single.zarr" --val-limit 4 \
  --val-every 6 --max-steps 6 --batch 4 --threads 1 --loader-threads 1 --device cpu --out "$w/run"
[[ -e "$w/run/checkpoints/step-00000006/COMPLETE" ]] || { echo "FAIL: no checkpoint from the srun job"; cat tf-train-*.out; exit 1; }
grep -q '"world_size": 2' "$w/run/checkpoints/step-00000006/state.json" || { echo "FAIL: the job did not run 2 ranks"; cat tf-train-*.out; exit 1; }
echo "srun -n 2 training: checkpoint at step 6 from 2 ranks"
