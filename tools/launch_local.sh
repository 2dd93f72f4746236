#!/usr/bin/env bash
# Runs N ranks of one command on this machine as a data-parallel group, with torchrun's variables (RANK,
# WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT), e.g.
#   tools/launch_local.sh 2 build/tumorforge train --threads 1 --batch 8 --train … --val … --out runs/ddp
# --batch is the global batch (4 per rank here). Each rank's output is prefixed "[rank r]". When a rank fails the
# others are stopped; the exit code is the first failure's. Ctrl-C / SIGTERM reach every rank (each checkpoints).
# MASTER_PORT may be set; otherwise a free port is picked.
set -euo pipefail
if [[ $# -lt 2 || ! "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: tools/launch_local.sh N COMMAND [ARGS...]   (N ranks of COMMAND on this machine)" >&2
  exit 2
fi
n=$1; shift
port=${MASTER_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
pids=()
for ((r = 0; r < n; r++)); do
  RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" > >(sed -u "s/^/[rank $r] /") 2>&1 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true' INT TERM
status=0
left=("${pids[@]}")
while ((${#left[@]})); do
  set +e; wait -n -p who "${left[@]}"; s=$?; set -e
  [[ -z "${who:-}" ]] && continue  # a trapped signal interrupted wait
  rest=(); for p in "${left[@]}"; do [[ $p != "$who" ]] && rest+=("$p"); done; left=("${rest[@]}")
  if ((s != 0 && status == 0)); then
    status=$s
    echo "launch_local: a rank (pid $who) exited with $s; stopping the others" >&2
    ((${#left[@]})) && kill -TERM "${left[@]}" 2>/dev/null || true
  fi
done
exit $status
