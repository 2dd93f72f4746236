#!/usr/bin/env bash
# Store-level integration checks: store_checks.sh MODE TUMORFORGE WORKDIR PYTHON SRCDIR
#   python    zarr-python reads a generated store; values and metadata are consistent
#   crash     SIGKILL in the middle of a run, resume: arrays equal an uninterrupted run
#   shards    two shard processes at once: arrays equal one process
#   truncate  verify names a chunk truncated by hand (exit 1)
#   badinput  bad configs / foreign stores: one line, exit 2, the existing store unchanged
set -euo pipefail
mode=$1; tf=$2; w=$3; py=$4; src=$5
rm -rf "$w"; mkdir -p "$w"
source "$(dirname "$0")/../expect.sh"
init() {  # a store small enough for CI: 3 mm phantom, 16^3 crops
  "$tf" --log-level warn datagen init --preset dev --n-samples "$2" --phantom 40 --phantom-spacing 3 --sim-spacing 3 \
    --crop 16 --stop-volume-max 20000 --dw-max 2 --rng-seed 11 --out "$1"
}
done_count() { find "$1/status" -maxdepth 1 -type f ! -name '.*' | wc -l; }

case $mode in
python)
  init "$w/s.zarr" 12
  "$tf" --log-level warn datagen run "$w/s.zarr" --threads 2
  "$py" "$src/check_store.py" "$w/s.zarr"
  "$tf" datagen info "$w/s.zarr" | tee "$w/info.txt"
  grep -q "done 12, failed 0, pending 0" "$w/info.txt"
  grep -q "D_w (mm^2/day) (n = 12)" "$w/info.txt"
  ;;
crash)
  init "$w/a.zarr" 150; init "$w/b.zarr" 150
  "$tf" --log-level warn datagen run "$w/a.zarr" --threads 1 &
  pid=$!
  for _ in $(seq 1 600); do [[ $(done_count "$w/a.zarr") -ge 8 ]] && break; sleep 0.02; done
  kill -9 "$pid"; wait "$pid" || true
  n=$(done_count "$w/a.zarr")
  [[ $n -lt 150 ]] || { echo "run finished before the kill; make it longer"; exit 1; }
  echo "killed after $n samples"
  "$tf" --log-level warn datagen run "$w/a.zarr" --threads 2
  "$tf" --log-level warn datagen run "$w/b.zarr" --threads 2
  "$tf" datagen verify "$w/a.zarr"
  "$py" "$src/compare_stores.py" "$w/a.zarr" "$w/b.zarr"
  ;;
shards)
  init "$w/a.zarr" 24; init "$w/b.zarr" 24
  "$tf" --log-level warn datagen run "$w/a.zarr" --shard 0/2 --threads 1 &
  p0=$!
  SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 "$tf" --log-level warn datagen run "$w/a.zarr" --threads 1 &
  p1=$!
  wait $p0; wait $p1
  "$tf" --log-level warn datagen run "$w/b.zarr" --threads 2
  "$py" "$src/compare_stores.py" "$w/a.zarr" "$w/b.zarr"
  ;;
truncate)
  init "$w/s.zarr" 4
  "$tf" --log-level warn datagen run "$w/s.zarr"
  chunk="$w/s.zarr/concentration/2.0.0.0"
  truncate -s 20 "$chunk"
  set +e; out=$("$tf" datagen verify "$w/s.zarr"); code=$?; set -e
  echo "$out"
  [[ $code -eq 1 ]] || { echo "verify exit code $code, expected 1"; exit 1; }
  grep -q "concentration/2.0.0.0: corrupt chunk" <<<"$out" || { echo "verify did not name the chunk"; exit 1; }
  ;;
badinput)
  init "$w/s.zarr" 4
  # Every file but .zattrs (which this test edits itself below, to fake another layout version).
  before=$(find "$w/s.zarr" -type f ! -name .zattrs -exec sha256sum {} + | sort | sha256sum)
  printf 'n-samples = 4\ndw-maximum = 3\n' > "$w/bad.toml"
  expect "dw-maximum" "$tf" datagen init --config "$w/bad.toml" --out "$w/new.zarr"
  expect "dw range" "$tf" datagen init --preset dev --dw-min 5 --dw-max 1 --out "$w/new.zarr"
  expect "exceeds the stored grid" "$tf" datagen init --preset dev --crop 128 --out "$w/new.zarr"
  expect "impossible" "$tf" datagen init --preset dev --stop-volume-max 1e9 --out "$w/new.zarr"
  expect "dtype" "$tf" datagen init --preset dev --dtype int8 --out "$w/new.zarr"
  expect "exists already" "$tf" datagen init --preset dev --out "$w/s.zarr"
  expect "not a tumorforge dataset" "$tf" datagen run "$w/s.zarr/atlas"
  expect "no such store" "$tf" datagen run "$w/missing.zarr"
  "$py" -c "import json,sys; p=sys.argv[1]; a=json.load(open(p)); a['layout_version']=99; json.dump(a, open(p,'w'))" "$w/s.zarr/.zattrs"
  expect "layout version 99" "$tf" datagen run "$w/s.zarr"
  "$py" -c "import json,sys; p=sys.argv[1]; a=json.load(open(p)); a['layout_version']=1; json.dump(a, open(p,'w'), indent=2)" "$w/s.zarr/.zattrs"
  expect "--shard" "$tf" datagen run "$w/s.zarr" --shard 5/2
  [[ ! -e "$w/new.zarr" ]] || { echo "FAIL: a store was created"; exit 1; }
  after=$(find "$w/s.zarr" -type f ! -name .zattrs -exec sha256sum {} + | sort | sha256sum)
  [[ "$before" == "$after" ]] || { echo "FAIL: the existing store changed"; exit 1; }
  if ls -A "$w" | grep -q '^\.tmp-'; then echo "FAIL: temp files left"; exit 1; fi
  echo "store files unchanged: ${after:0:12}"
  ;;
esac
