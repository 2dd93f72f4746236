#!/usr/bin/env bash
# Inversion CLI checks: invert_checks.sh MODE TUMORFORGE WORKDIR [SHARED_DIR]
#   badinput    bad targets, grids, labels and bundles: one line, exit 2, no output directory
#   atlas       the independent solver's reference runs on the real 2 mm atlas as targets, `invert` at its
#               defaults: outputs on the input grid, final-run NCC >= 0.90 on each (exit 77 = skipped without
#               ../shared; a failure when CI=true, where ../shared is there by contract)
#   atlas1mm    the same on the 1 mm reference case
#   atlas_v1    the same on case v1 (271 cm³ after 100 days, wider than the networks' 128 mm cube)
#   patient     the LPS example patient with GliODIL labels and the RAS atlas: invert + plan, coverage in [0, 1],
#               plans equal to scipy/numpy and the same for an RAS copy of the patient
#   refpatients tumors of the independent solver (reference cases v2, v3) turned into LPS patients with GliODIL
#               labels (tools/patients/from_reference.py), `invert --segmentation` at its defaults with the RAS
#               atlas: Dice against the true visible tumor >= 0.75 and core >= 0.6 (issue 11's bars), COM < 5 mm
#   evaluate    evaluate on a tiny store: cases.csv and both tables written, figures finite, a damaged sample
#               reported and left out, hybrid's final run never further from the target than direct's, NCC floor
#   quickstart  `tumorforge quickstart` at a tiny size: report, PNGs, finite JSON figures; a re-run is cached
set -euo pipefail
mode=$1; tf=$2; w=$3; shared=${4:-}
PY=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$w"; mkdir -p "$w"
source "$here/../expect.sh"
# ../shared is beside the checkout in CI (CI=true): missing there is a failure; elsewhere the test is skipped (77).
need_shared() {
  [[ -e "$1" ]] && return 0
  [[ "${CI:-}" == "true" ]] && { echo "FAIL: $1 not found, and CI must have ../shared beside the checkout"; exit 1; }
  echo "skipped: $1 not found"; exit 77
}

case $mode in
badinput)
  "$tf" --log-level warn phantom --size 96 --spacing 2 --out "$w/ph"
  "$tf" --log-level warn phantom --size 64 --spacing 3 --out "$w/ph3"
  "$tf" --log-level warn simulate --phantom 96 --seed-voxel 60,40,48 --dw 0.3 --rho 0.15 --out "$w/c.nii.gz"
  "$tf" --log-level warn simulate --phantom 64 --phantom-spacing 3 --seed-voxel 40,30,32 --dw 0.3 --rho 0.15 --out "$w/c3.nii.gz"
  "$PY" - "$w" <<'PYEOF'
import sys, numpy as np, nibabel as nib
w = sys.argv[1]
img = nib.load(f"{w}/c.nii.gz"); c = np.asarray(img.dataobj, dtype=np.float32)
def save(name, data, affine=img.affine):
    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), f"{w}/{name}")
save("over.nii.gz", c * 1.5)
nan = c.copy(); nan[48, 48, 48] = np.nan; save("nan.nii.gz", nan)
save("empty.nii.gz", np.zeros_like(c))
far = img.affine.copy(); far[0, 3] += 10000.0; save("far.nii.gz", c, far)
seg = np.zeros(c.shape, np.float32); seg[c > 0.6] = 1; seg[(c > 0.2) & (c <= 0.6)] = 2; seg[50, 40, 48] = 7
save("badseg.nii.gz", seg)
PYEOF
  inv=("$tf" invert --phantom 96 --out "$w/out" --threads 2)
  expect "outside [0, 1]" "${inv[@]}" --target "$w/over.nii.gz" --resample
  expect "value nan at voxel (48, 48, 48) is outside [0, 1]" "${inv[@]}" --target "$w/nan.nii.gz" --resample
  expect "empty" "${inv[@]}" --target "$w/empty.nii.gz" --resample
  expect "does not overlap the target image" "${inv[@]}" --target "$w/far.nii.gz" --resample
  expect "label(s) 7 not defined by brats2021" "${inv[@]}" --segmentation "$w/badseg.nii.gz" --labels brats2021 --resample
  expect "needs its label convention" "${inv[@]}" --segmentation "$w/badseg.nii.gz" --resample
  expect "pass --resample" "${inv[@]}" --target "$w/c.nii.gz"
  expect "whole multiple" "$tf" invert --phantom 64 --phantom-spacing 3 --target "$w/c3.nii.gz" --resample --out "$w/out"
  expect "not a surrogate bundle" "${inv[@]}" --target "$w/c.nii.gz" --resample --surrogate "$(dirname "$here")/../checkpoints/inverse_dev.h5"
  expect "needs --inverse" "${inv[@]}" --target "$w/c.nii.gz" --resample --inverse ""
  expect "--method 'newton'" "${inv[@]}" --target "$w/c.nii.gz" --resample --method newton
  expect "exactly one of --target or --segmentation" "${inv[@]}"
  [[ ! -e "$w/out" ]] || { echo "FAIL: an output directory was created"; exit 1; }
  ls -a "$w" | grep -q '^\.tmp-' && { echo "FAIL: a staging directory was left behind"; exit 1; }
  echo "no output written"
  ;;
atlas|atlas1mm|atlas_v1)
  # The reference FK runs of an independent solver on the real atlas, inverted with the defaults a user gets
  # (no options beyond the inputs, --resample and --out): the final run must reach NCC >= 0.90 on each.
  ref="$shared/reference/fk"
  need_shared "$ref"
  if [[ $mode == atlas || $mode == atlas_v1 ]]; then
    cases=(v2_2mm_dw2_rho0.5_V50000); [[ $mode == atlas_v1 ]] && cases=(v1_2mm_dw0.5_rho0.2_T100)
    tissue=(--wm "$ref/tissue_2mm/wm.nii.gz" --gm "$ref/tissue_2mm/gm.nii.gz" --csf "$ref/tissue_2mm/csf.nii.gz")
  else
    cases=(v3_1mm_dw0.5_rho0.2_V30000); tissue=(--tissue-labels "$ref/tissue_1mm/labels.nii.gz")
  fi
  for c in "${cases[@]}"; do
    "$tf" --log-level warn invert --target "$ref/$c/concentration.nii.gz" "${tissue[@]}" --resample --out "$w/$c"
    "$PY" - "$w/$c" "$ref/$c" <<'PYEOF'
import json, math, sys, numpy as np, nibabel as nib
out, case = sys.argv[1], sys.argv[2]
r = json.load(open(f"{out}/result.json"))
t = nib.load(f"{case}/concentration.nii.gz")
for name in ["concentration.nii.gz", "surrogate.nii.gz"]:
    img = nib.load(f"{out}/{name}")
    assert img.shape == t.shape, (name, img.shape, t.shape)
    assert np.allclose(img.affine, t.affine, atol=1e-3), name
    c = np.asarray(img.dataobj)
    assert np.isfinite(c).all() and c.min() >= 0 and c.max() <= 1, name
ncc = r["final_run_vs_target"]["ncc"]
truth = json.load(open(f"{case}/params.json"))
T = r["parameters"]["stop_time_days"]
true_seed = np.array(truth["seed_voxel"]) * np.array(truth["spacing_mm"])
print(f"{case.split('/')[-1]} (independent solver, real atlas), defaults: final-run NCC {ncc:.3f}, kept {r['chosen_stage']}, "
      f"seed {r['parameters']['seed_voxel']} (true {truth['seed_voxel']}), "
      f"mu_D {r['parameters']['mu_d_mm']:.2f}, mu_rho {r['parameters']['mu_rho']:.2f}, {r['wall_seconds_total']:.1f} s")
assert math.isfinite(ncc)
assert ncc >= 0.9, ncc
assert open(f"{out}/slices.png", "rb").read(4) == b"\x89PNG"
PYEOF
  done
  ;;
evaluate)
  "$tf" --log-level warn datagen init --preset dev --n-samples 4 --rng-seed 9 --crop 32 --spacing 4 --phantom 64 \
    --stop-volume-max 100000 --out "$w/t.zarr"
  "$tf" --log-level warn datagen run "$w/t.zarr"
  # A sample whose chunk is damaged after the run: that case is reported and left out, the others are evaluated.
  echo junk > "$w/t.zarr/concentration/3.0.0.0"
  "$tf" --log-level warn evaluate --test "$w/t.zarr" --methods direct,hybrid,cmaes-surrogate --max-evaluations 6 \
    --cmaes-max-evaluations 16 --out "$w/eval" >/dev/null
  "$PY" - "$w/eval" <<'PYEOF'
import csv, json, math, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/cases.csv")))
assert len(rows) == 9, len(rows)
ev = json.load(open(f"{out}/evaluation.json"))
assert ev["cases"] == 3 and [f["case"] for f in ev["failed_cases"]] == [3], ev["failed_cases"]
assert "3.0.0.0" in ev["failed_cases"][0]["error"] or "concentration" in ev["failed_cases"][0]["error"], ev["failed_cases"]
assert "left out" in open(f"{out}/tables.md").read()
for r in rows:
    for k in ["ncc", "mse", "dice_033", "err_origin_mm", "seconds"]:
        assert math.isfinite(float(r[k])), (k, r)
t = json.load(open(f"{out}/tables.json"))
for table in ["table1", "table2"]:
    for m in ["direct", "hybrid", "cmaes-surrogate"]:
        for k, s in t[table]["rows"][m].items():
            assert s["mean"] is not None and math.isfinite(s["mean"]), (table, m, k)
md = open(f"{out}/tables.md").read()
assert "Table 1" in md and "Table 2" in md and "Wilcoxon" in md
# Quality floors a broken inversion fails: hybrid keeps the better of its candidates by a solver run, so its
# final run is never further from the target than direct's; and the shipped networks find these tumors.
by = {(r["case"], r["method"]): r for r in rows}
for c in {r["case"] for r in rows}:
    assert float(by[(c, "hybrid")]["mse"]) <= float(by[(c, "direct")]["mse"]) + 1e-7, c
ncc = {m: sum(float(r["ncc"]) for r in rows if r["method"] == m) / 3 for m in ["direct", "hybrid"]}
assert ncc["direct"] >= 0.6 and ncc["hybrid"] >= 0.6, ncc
print(f"evaluate: 3 cases x 3 methods (1 damaged case left out and reported), tables finite, mean NCC {ncc}")
PYEOF
  ;;
quickstart)
  q=("$tf" quickstart --out "$w/qs" --phantom-size 64 --test-samples 2 --cases 1 --max-evaluations 6 --train-samples 8 \
     --train-steps 3 --threads 2)
  "${q[@]}"
  "$PY" - "$w/qs" <<'PYEOF'
import json, math, os, sys
out = sys.argv[1]
report = open(f"{out}/report.md").read()
for needle in ["Wall time per stage", "Mean NCC", "Table 1", "training curve"]:
    assert needle in report, needle
figs = [f for f in os.listdir(f"{out}/figures") if f.endswith(".png")]
assert "training_curve.png" in figs and any(f.startswith("case") for f in figs), figs
for f in figs:
    assert open(f"{out}/figures/{f}", "rb").read(8) == b"\x89PNG\r\n\x1a\n", f
inv = json.load(open(f"{out}/stages/invert.json"))
for c in inv["cases"]:
    for m in ["direct", "hybrid"]:
        for k in ["ncc", "mse", "dice_033", "seconds"]:
            v = c[m][k]
            assert v is not None and math.isfinite(v), (m, k, v)
for name in ["testset", "invert", "train", "report"]:
    assert math.isfinite(json.load(open(f"{out}/stages/{name}.json"))["seconds"]), name
print("quickstart: report, figures and stage records present and finite")
PYEOF
  log=$("${q[@]}" 2>&1)
  for s in testset invert train; do
    grep -q "$s: cached" <<<"$log" || { echo "FAIL: stage $s ran again"; echo "$log"; exit 1; }
  done
  echo "re-run: cached stages skipped"
  ;;
refpatients)
  atlas="$shared/data/atlas/mni152_sri24_tissue_labels.nii.gz"
  need_shared "$atlas"
  for v in v2_2mm_dw2_rho0.5_V50000 v3_1mm_dw0.5_rho0.2_V30000; do
    "$PY" "$here/../../tools/patients/from_reference.py" "$shared/reference/fk/$v" "$w/$v" >/dev/null
    "$tf" --log-level warn invert --segmentation "$w/$v/segmentation.nii.gz" --labels gliodil --tissue-labels "$atlas" \
      --resample --out "$w/$v/inv"
    score=$("$PY" "$here/../../tools/patients/score.py" "$w/$v" "$w/$v/inv")
    echo "$score"
    "$PY" -c "import json, sys; s = json.loads(sys.argv[1])
assert s['dice_visible'] >= 0.75 and s['dice_core'] >= 0.6 and s['com_distance_mm'] < 5, s" "$score"
  done
  ;;
patient)
  # The example patient as real data comes (LPS 1 mm grid, GliODIL labels, recurrence) with the RAS atlas as
  # anatomy: invert the segmentation, then plan. Checks the orientation handling, the labels and the plan files.
  p="$shared/data/patients/synthetic_lps_001"; atlas="$shared/data/atlas/mni152_sri24_tissue_labels.nii.gz"
  need_shared "$p"
  "$tf" --log-level warn invert --segmentation "$p/segmentation.nii.gz" --labels gliodil --tissue-labels "$atlas" \
    --resample --out "$w/inv"
  "$tf" --log-level warn plan --concentration "$w/inv/concentration.nii.gz" --segmentation "$p/segmentation.nii.gz" \
    --labels gliodil --brain-mask "$p/brain_mask.nii.gz" --recurrence "$p/recurrence.nii.gz" --out "$w/plan"
  # The plan from the true concentration, for reference: what a perfect inversion would reach.
  "$tf" --log-level warn plan --concentration "$p/true_concentration.nii.gz" --segmentation "$p/segmentation.nii.gz" \
    --labels gliodil --brain-mask "$p/brain_mask.nii.gz" --recurrence "$p/recurrence.nii.gz" --out "$w/plan_true"
  pl=("$tf" plan --concentration "$w/inv/concentration.nii.gz" --segmentation "$p/segmentation.nii.gz" --out "$w/bad")
  expect "label(s) 4 not defined by brats2023" "${pl[@]}" --labels brats2023 --brain-mask "$p/brain_mask.nii.gz"
  expect "--margin-mm must be a positive" "${pl[@]}" --labels gliodil --brain-mask "$p/brain_mask.nii.gz" --margin-mm 0
  "$PY" -c "import nibabel as nib, numpy as np, sys; i = nib.load(sys.argv[1]); c = np.asarray(i.dataobj, np.float32).copy()
c[10, 20, 30] = 1.5; nib.save(nib.Nifti1Image(c, i.affine), sys.argv[2])" "$w/inv/concentration.nii.gz" "$w/conc_over.nii.gz"
  expect "at voxel (10, 20, 30) is outside [0, 1]" "$tf" plan --concentration "$w/conc_over.nii.gz" \
    --segmentation "$p/segmentation.nii.gz" --labels gliodil --brain-mask "$p/brain_mask.nii.gz" --out "$w/bad"
  "$PY" -c "import nibabel as nib, numpy as np, sys; i = nib.load(sys.argv[1]); a = i.affine.copy(); a[0, 3] += 5
nib.save(nib.Nifti1Image(np.asarray(i.dataobj), a), sys.argv[2])" "$p/recurrence.nii.gz" "$w/rec_moved.nii.gz"
  expect "register it to the segmentation first" "${pl[@]}" --labels gliodil --brain-mask "$p/brain_mask.nii.gz" \
    --recurrence "$w/rec_moved.nii.gz"
  [[ ! -e "$w/bad" ]] || { echo "FAIL: plan wrote an output directory for bad input"; exit 1; }
  # NCC against the true concentration and the COM distance: tools/patients/score.py (also checks the grid).
  score=$("$PY" "$here/../../tools/patients/score.py" "$p" "$w/inv")
  "$PY" - "$w" "$p" "$score" <<'PYEOF'
import json, sys, numpy as np, nibabel as nib
w, p, score = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
seg = nib.load(f"{p}/segmentation.nii.gz"); s = np.asarray(seg.dataobj)
r = json.load(open(f"{w}/inv/result.json"))
params = json.load(open(f"{p}/params.json"))
print(f"patient: kept {r['chosen_stage']}, Dice core {r['final_run_vs_target']['dice_core']:.3f}, visible "
      f"{r['final_run_vs_target']['dice_visible_tumor']:.3f}; NCC vs true concentration {score['ncc_true']:.3f}; "
      f"COM(c>0.2) {score['com_distance_mm']:.1f} mm from the truth's; seed voxel {r['parameters']['seed_voxel']} (true {params['seed_voxel_this_grid']})")
# The tumor must be where the segmentation is (the wrong-hemisphere failure put it ~100 mm away).
assert score["com_distance_mm"] < 10, score
assert r["final_run_vs_target"]["dice_visible_tumor"] > 0.6, r["final_run_vs_target"]
for d in ["plan", "plan_true"]:
    j = json.load(open(f"{w}/{d}/plan.json"))
    std = np.asarray(nib.load(f"{w}/{d}/standard_plan.nii.gz").dataobj); mod = np.asarray(nib.load(f"{w}/{d}/model_plan.nii.gz").dataobj)
    assert std.dtype == np.uint8 and mod.dtype == np.uint8 and std.shape == seg.shape
    assert j["standard_plan_voxels"] == int(std.sum()) == j["model_plan_voxels"] == int(mod.sum()), j
    assert j["margin_mm"] == 15 and abs(j["standard_plan_cm3"] - std.sum() / 1000) < 1e-6
    cov = j["coverage"]
    assert cov["standard"]["enhancing"] is None and cov["model"]["enhancing"] is None  # binary recurrence
    for k in ["standard", "model"]:
        assert 0 <= cov[k]["any"] <= 1
    print(f"{d}: {j['standard_plan_cm3']:.1f} cm3; recurrence covered: standard {cov['standard']['any']:.3f}, model {cov['model']['any']:.3f}")
    assert open(f"{w}/{d}/plan.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # An independent computation (scipy's exact EDT, numpy's sort with the documented tie rule) must agree exactly.
    from scipy.ndimage import distance_transform_edt
    core = np.isin(s, [1, 4]); brain = np.asarray(nib.load(f"{p}/brain_mask.nii.gz").dataobj) > 0.5
    dist = distance_transform_edt(~core, sampling=seg.header.get_zooms()[:3])
    ref_std = brain & (dist <= 15)
    assert (ref_std == (std > 0)).all(), "standard plan differs from scipy's"
    conc = np.asarray(nib.load(f"{w}/inv/concentration.nii.gz" if d == "plan" else f"{p}/true_concentration.nii.gz").dataobj)
    idx = np.flatnonzero(brain.ravel(order="F"))  # x-fastest voxel index
    cf, df = conc.ravel(order="F")[idx], (dist ** 2).ravel(order="F")[idx]
    # Last tie rule: world position in µm, x then y then z.
    ijk = np.array(np.unravel_index(idx, s.shape, order="F"), dtype=float)
    wld = np.rint((seg.affine[:3, :3] @ ijk + seg.affine[:3, 3:4]) * 1000).astype(np.int64)
    order = np.lexsort((wld[2], wld[1], wld[0], df, -cf))[: int(ref_std.sum())]
    ref_mod = np.zeros(s.size, bool); ref_mod[idx[order]] = True
    ref_mod = ref_mod.reshape(s.shape, order="F")
    assert (ref_mod == (mod > 0)).all(), f"model plan differs from numpy's in {(ref_mod != (mod > 0)).sum()} voxels"
    rec = np.asarray(nib.load(f"{p}/recurrence.nii.gz").dataobj) > 0
    assert cov["standard"]["any"] == (rec & ref_std).sum() / rec.sum() and cov["model"]["any"] == (rec & ref_mod).sum() / rec.sum()
print("plans equal scipy/numpy's exactly")
# The same patient in RAS voxel order (x and y reversed, the affine adjusted) must get the same plans.
def to_ras(src, dst):
    i = nib.load(src); a = i.affine.copy(); d = np.asarray(i.dataobj)[::-1, ::-1, :]
    a[:3, 3] += a[:3, 0] * (d.shape[0] - 1) + a[:3, 1] * (d.shape[1] - 1); a[:3, 0] *= -1; a[:3, 1] *= -1
    nib.save(nib.Nifti1Image(np.ascontiguousarray(d), a), dst)
for n in ["segmentation", "brain_mask", "recurrence", "true_concentration"]:
    to_ras(f"{p}/{n}.nii.gz", f"{w}/ras_{n}.nii.gz")
PYEOF
  "$tf" --log-level warn plan --concentration "$w/ras_true_concentration.nii.gz" --segmentation "$w/ras_segmentation.nii.gz" \
    --labels gliodil --brain-mask "$w/ras_brain_mask.nii.gz" --recurrence "$w/ras_recurrence.nii.gz" --out "$w/plan_ras"
  "$PY" - "$w" <<'PYEOF'
import json, sys, numpy as np, nibabel as nib
w = sys.argv[1]
for f in ["standard_plan", "model_plan"]:
    lps, ras = nib.load(f"{w}/plan_true/{f}.nii.gz"), nib.load(f"{w}/plan_ras/{f}.nii.gz")
    assert nib.aff2axcodes(ras.affine) != nib.aff2axcodes(lps.affine)
    differ = int((np.asarray(lps.dataobj) != np.asarray(ras.dataobj)[::-1, ::-1, :]).sum())
    assert differ == 0, f"{f}: {differ} voxels differ between the LPS and RAS copies"
a, b = json.load(open(f"{w}/plan_true/plan.json")), json.load(open(f"{w}/plan_ras/plan.json"))
assert a["coverage"] == b["coverage"] and a["standard_plan_voxels"] == b["standard_plan_voxels"], (a["coverage"], b["coverage"])
print("LPS and RAS copies of the patient: the same plans, voxel for voxel")
PYEOF
  ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
