#!/usr/bin/env bash
# Training CLI checks: train_checks.sh MODE TUMORFORGE WORKDIR
#   resume    2N steps straight == N steps, SIGKILL, --resume, to 2N (bit for bit: parameter SHA-256 and log)
#   sigterm   SIGTERM mid-run writes a complete checkpoint and exits 0; --resume continues from it
#   badinput  wrong store layout, crop not divisible by 16, unknown device, corrupt checkpoint, existing run dir;
#             --init-from: another network refused, the same one starts from the bundle's weights
#   ddp       2 ranks over Gloo (127.0.0.1) == 1 rank at the same global batch (parameters, loss curve); a killed rank
#             makes the other exit with an error (no hang); resume after the kill == the uninterrupted 2-rank run
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
  # Up to 2 minutes: on a loaded machine (a niced test run beside two trainings) 10 s did not reach step 20.
  for _ in $(seq 1 12000); do [[ -e "$w/killed/checkpoints/step-00000020/COMPLETE" ]] && break; sleep 0.01; done
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
    r = json.loads(l); [r.pop(k, None) for k in ('samples_per_s', 'elapsed_s', 'eta_s', 'comm_s_per_step')]; print(json.dumps(r, sort_keys=True))" "$1"; }
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
  # Fine-tuning from an exported bundle: another network is refused naming the key; the same network starts
  # from the bundle's weights (one step at lr 1e-12 leaves them unchanged to 1e-6) and records the bundle's hash.
  "$tf" --log-level warn export "$w/run" --out "$w/run.h5"
  expect "--init-from $w/run.h5: its network has widths = [8,8,16,16,32], this run's is [8,8,16,16,16]" \
    "$tf" train --train "$w/s.zarr" --val "$w/s.zarr" --widths 8,8,16,16,16 --kernel-size 3 --init-from "$w/run.h5" --out "$w/r4"
  [[ ! -e "$w/r4" ]] || { echo "FAIL: a refused fine-tune left a run directory"; exit 1; }
  train "$w/tuned" --max-steps 1 --val-every 1 --lr 1e-12 --init-from "$w/run.h5"
  "$tf" --log-level warn export "$w/tuned" --out "$w/tuned.h5"
  # seed-spatial feeds the same layers other inputs (the seed only as the channel): a seed-channel bundle starts it.
  train "$w/spatial" --max-steps 1 --val-every 1 --lr 1e-12 --arch seed-spatial --init-from "$w/run.h5"
  "$tf" --log-level warn export "$w/spatial" --out "$w/spatial.h5"
  # The coarse FK prior channel added to a bundle without it: the stem's new input starts at zero weight, every
  # other weight as the bundle's; its physics comes from the store (3 mm grid here).
  train "$w/prior" --max-steps 1 --val-every 1 --lr 1e-12 --fk-prior-steps 8 --init-from "$w/run.h5"
  "$tf" --log-level warn export "$w/prior" --out "$w/prior.h5"
  expect "its network has the FK prior channel (fk_prior.steps = 8); pass --fk-prior-steps" \
    "$tf" train --train "$w/s.zarr" --val "$w/s.zarr" --widths 8,8,16,16,32 --kernel-size 3 --init-from "$w/prior.h5" --out "$w/r7"
  expect "--fk-prior-steps must be within 0..10000" "$tf" train --train "$w/s.zarr" --val "$w/s.zarr" --fk-prior-steps -1 --out "$w/r5"
  expect "--fk-prior-steps: the prior channel is a surrogate input" \
    "$tf" train --train "$w/s.zarr" --val "$w/s.zarr" --model inverse --fk-prior-steps 8 --out "$w/r6"
  "${PYTHON:-/usr/bin/python3}" - "$w" <<'PYEOF'
import hashlib, h5py, json, sys
import numpy as np
w = sys.argv[1]
a, b = h5py.File(w + "/run.h5"), h5py.File(w + "/tuned.h5")
d = max(float(np.abs(a["weights"][k][()] - b["weights"][k][()]).max()) for k in a["weights"])
print(f"fine-tune start vs bundle: max |dw| {d:.2e} over {len(a['weights'])} tensors")
assert d < 1e-6, "the fine-tuned run did not start from the bundle's weights"
c = h5py.File(w + "/spatial.h5")
net = lambda f: json.loads(f.attrs["config"].decode() if isinstance(f.attrs["config"], bytes) else f.attrs["config"])
assert net(a)["seed_global"] is True and net(c)["seed_global"] is False, (net(a), net(c))
assert max(float(np.abs(a["weights"][k][()] - c["weights"][k][()]).max()) for k in a["weights"]) < 1e-6
p = h5py.File(w + "/prior.h5")
assert net(p)["fk_prior"]["steps"] == 8 and net(p)["fk_prior"]["spacing_mm"] == 3.0 and "fk_prior" not in net(a), net(p)
for k in a["weights"]:
    x, y = a["weights"][k][()], p["weights"][k][()]
    if k == "encoder.stem.weight":
        assert y.shape[1] == x.shape[1] + 1 and float(np.abs(y[:, -1]).max()) < 1e-6, y.shape
        y = y[:, :-1]
    assert float(np.abs(x - y).max()) < 1e-6, k
cfg = json.load(open(w + "/tuned/config.json"))
assert cfg["init_from_sha256"] == hashlib.sha256(open(w + "/run.h5", "rb").read()).hexdigest(), cfg.get("init_from_sha256")
PYEOF
  truncate -s 100 "$w/run/checkpoints/step-00000004/model.pt"
  expect "corrupt checkpoint" "$tf" train --resume "$w/run" --max-steps 8
  expect "corrupt checkpoint" "$tf" export "$w/run" --out "$w/x.h5"
  [[ ! -e "$w/x.h5" ]] || { echo "FAIL: half-written export"; exit 1; }
  ;;
ddp)
  store "$w/s.zarr" 16
  here=$(cd "$(dirname "$0")" && pwd); launch="$here/../../tools/launch_local.sh"
  args=(--max-steps 12 --val-every 6 --checkpoint-every 4 --batch 4 --lr 1e-3 --threads 1 --loader-threads 1)
  train "$w/one" "${args[@]}"
  train_cmd "$w/two" "${args[@]}"; cmd[2]=error   # --log-level error: the launcher prefixes every line
  "$launch" 2 "${cmd[@]}"
  # The same run killed: rank 1 is SIGKILLed after the step-4 checkpoint; rank 0 must fail, not hang.
  train_cmd "$w/killed" "${args[@]}"
  port=$("${PYTHON:-/usr/bin/python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  for r in 0 1; do
    RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "${cmd[@]}" --checkpoint-every 1 > "$w/killed_$r.log" 2>&1 &
    eval "pid$r=$!"
  done
  for _ in $(seq 1 3000); do [[ -e "$w/killed/checkpoints/step-00000004/COMPLETE" ]] && break; sleep 0.01; done
  kill -9 "$pid1"; wait "$pid1" || true
  t0=$SECONDS
  if wait "$pid0"; then echo "FAIL: rank 0 finished although rank 1 was killed"; cat "$w/killed_0.log"; exit 1; fi
  grep -q "lost the other ranks" "$w/killed_0.log" || { echo "FAIL: rank 0 did not say it lost its peer"; cat "$w/killed_0.log"; exit 1; }
  echo "rank 0 stopped $((SECONDS - t0)) s after rank 1 was killed: $(grep -m1 -i error "$w/killed_0.log" | cut -c1-200)"
  [[ ! -e "$w/killed/checkpoints/step-00000012" ]] || { echo "FAIL: the run finished before the kill"; exit 1; }
  "$launch" 2 "$tf" --log-level error train --resume "$w/killed"
  a=$(sha "$w/two/checkpoints/step-00000012/state.json"); b=$(sha "$w/killed/checkpoints/step-00000012/state.json")
  echo "2 ranks straight $a"; echo "2 ranks resumed  $b"
  [[ "$a" == "$b" ]] || { echo "FAIL: resume after a killed rank differs from the uninterrupted 2-rank run"; exit 1; }
  for r in one two; do "$tf" --log-level warn export "$w/$r" --out "$w/$r.h5"; done
  "${PYTHON:-/usr/bin/python3}" - "$w" <<'PYEOF'
import json, sys, h5py, numpy as np
w = sys.argv[1]
# Tolerance: the two runs add the same numbers in another order (per-rank partial sums, then the all-reduce), so
# they differ by float32 rounding (~1e-7 relative per operation), amplified a little by Adam's normalization over
# 12 steps. With lr 1e-3 the parameters move by up to ~1e-2, so 1e-5 is a thousandth of the training's own change;
# a loss averaged per rank instead of over the global batch, or gradients not summed, miss it by far.
def params(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, np.array(o)) if isinstance(o, h5py.Dataset) and o.dtype.kind == "f" else None)
    return out
a, b = params(f"{w}/one.h5"), params(f"{w}/two.h5")
assert a.keys() == b.keys() and len(a) > 10, (len(a), len(b))
worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
print(f"1 rank x batch 4 vs 2 ranks x 2: max |parameter difference| {worst:.2e} (tolerance 1e-5) over {len(a)} tensors")
assert worst <= 1e-5, worst
def losses(path):
    return [r["loss"] for r in map(json.loads, open(path)) if r["kind"] == "train"]
la, lb = losses(f"{w}/one/metrics.jsonl"), losses(f"{w}/two/metrics.jsonl")
assert len(la) == len(lb) > 0, (la, lb)
rel = max(abs(x - y) / abs(x) for x, y in zip(la, lb))
print(f"loss curves: {la} vs {lb}, max relative difference {rel:.1e} (tolerance 1e-4)")
assert rel <= 1e-4, rel
PYEOF
  ;;
esac
