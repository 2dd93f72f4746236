#!/usr/bin/env bash
# Training CLI checks: train_checks.sh MODE TUMORFORGE WORKDIR
#   resume    2N steps straight == N steps, SIGKILL, --resume, to 2N (bit for bit: parameter SHA-256 and log)
#   sigterm   SIGTERM mid-run writes a complete checkpoint and exits 0; --resume continues from it
#   badinput  wrong store layout, crop not divisible by 16, unknown device, corrupt checkpoint, existing run dir
set -euo pipefail
mode=$1; tf=$2; w=$3
rm -rf "$w"; mkdir -p "$w"
source "$(dirname "$0")/../expect.sh"
store() {  # store PATH CROP
  "$tf" --log-level warn datagen init --preset dev --n-samples 24 --phantom 40 --phantom-spacing 3 --sim-spacing 3 \
    --crop "$2" --stop-volume-max 20000 --dw-max 2 --out "$1"
  "$tf" --log-level warn datagen run "$1"
}
train_cmd() {  # train_cmd RUN extra...: the command line, for "${cmd[@]}" (run in the background without a subshell,
  # so that $! is tumorforge itself and signals reach it)
  local run=$1; shift
  cmd=("$tf" --log-level warn train --model surrogate --widths 8,8,16,16,32 --kernel-size 3 --train "$w/s.zarr"
       --val "$w/s.zarr" --val-limit 6 --device cpu --threads 2 --loader-threads 2 --out "$run" "$@")
}
train() { train_cmd "$@"; "${cmd[@]}"; }
sha() { "${PYTHON:-/usr/bin/python3}" -c "import json,sys; print(json.load(open(sys.argv[1]))['param_sha256'])" "$1"; }

case $mode in
resume)
  store "$w/s.zarr" 16
  train "$w/straight" --max-steps 80 --val-every 40 --checkpoint-every 10
  train_cmd "$w/killed" --max-steps 80 --val-every 40 --checkpoint-every 10
  "${cmd[@]}" &
  pid=$!
  for _ in $(seq 1 1000); do [[ -e "$w/killed/checkpoints/step-00000020/COMPLETE" ]] && break; sleep 0.01; done
  kill -9 "$pid"; wait "$pid" || true
  [[ ! -e "$w/killed/checkpoints/step-00000080" ]] || { echo "the run finished before the kill"; exit 1; }
  echo "killed after $(ls "$w/killed/checkpoints" | tail -1)"
  "$tf" --log-level warn train --resume "$w/killed"
  a=$(sha "$w/straight/checkpoints/step-00000080/state.json"); b=$(sha "$w/killed/checkpoints/step-00000080/state.json")
  echo "straight $a"; echo "resumed  $b"
  [[ "$a" == "$b" ]] || { echo "FAIL: parameters differ"; exit 1; }
  strip() { "${PYTHON:-/usr/bin/python3}" -c "
import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); [r.pop(k, None) for k in ('samples_per_s', 'elapsed_s', 'eta_s')]; print(json.dumps(r, sort_keys=True))" "$1"; }
  diff <(strip "$w/straight/metrics.jsonl") <(strip "$w/killed/metrics.jsonl") || { echo "FAIL: logs differ"; exit 1; }
  ;;
sigterm)
  store "$w/s.zarr" 16
  train_cmd "$w/run" --max-steps 100000 --val-every 1000 --checkpoint-minutes 60
  "${cmd[@]}" > "$w/log.txt" 2>&1 &
  pid=$!
  for _ in $(seq 1 1000); do grep -q '"step":' "$w/run/metrics.jsonl" 2>/dev/null && break; sleep 0.02; done
  sleep 0.5
  kill -TERM "$pid"
  wait "$pid"  # exit code 0: a clean stop
  ck=$(ls "$w/run/checkpoints" | tail -1)
  [[ -e "$w/run/checkpoints/$ck/COMPLETE" ]] || { echo "FAIL: no complete checkpoint after SIGTERM"; exit 1; }
  echo "SIGTERM checkpoint: $ck"
  n=$((10#${ck#step-}))
  "$tf" --log-level warn train --resume "$w/run" --max-steps $((n + 5))
  [[ -e "$w/run/checkpoints/$(printf 'step-%08d' $((n + 5)))/COMPLETE" ]] || { echo "FAIL: resume did not continue"; exit 1; }
  ;;
badinput)
  store "$w/s.zarr" 16
  store "$w/s20.zarr" 20
  expect "not a tumorforge dataset" "$tf" train --train "$w/s.zarr/atlas" --val "$w/s.zarr" --out "$w/r1"
  expect "multiple of 16" "$tf" train --train "$w/s20.zarr" --val "$w/s20.zarr" --out "$w/r2"
  expect "--device 'gpu'" "$tf" train --train "$w/s.zarr" --val "$w/s.zarr" --device gpu --out "$w/r3"
  train "$w/run" --max-steps 4 --val-every 2
  expect "exists already" "$tf" train --train "$w/s.zarr" --val "$w/s.zarr" --out "$w/run"
  [[ -e "$w/run/checkpoints/step-00000004/COMPLETE" ]] || { echo "FAIL: existing run damaged"; exit 1; }
  truncate -s 100 "$w/run/checkpoints/step-00000004/model.pt"
  expect "corrupt checkpoint" "$tf" train --resume "$w/run" --max-steps 8
  expect "corrupt checkpoint" "$tf" export "$w/run" --out "$w/x.h5"
  [[ ! -e "$w/x.h5" ]] || { echo "FAIL: half-written export"; exit 1; }
  ;;
esac
