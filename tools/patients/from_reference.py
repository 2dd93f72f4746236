#!/usr/bin/env python3
"""Turns a concentration made by another solver into a patient laid out like real data, to test the patient
path on tumors tumorforge did not make: the segmentation a clinician's tool would give (GliODIL labels by the
thresholds of ../shared/data/patients: 3 edema c >= 0.2, 1 enhancing c >= 0.6, 4 necrotic c >= 0.97) and the
true concentration, both on the same grid in LPS orientation (the first two array axes flipped, the affine
saying so), as real scans often come while the atlas is RAS.
Usage: tools/patients/from_reference.py CASE_DIR OUT_DIR
  CASE_DIR: a folder with concentration.nii.gz (e.g. ../shared/reference/fk/v3_1mm_dw0.5_rho0.2_V30000)
Writes OUT_DIR/segmentation.nii.gz (uint8), OUT_DIR/true_concentration.nii.gz (float32), OUT_DIR/params.json."""
import json
import os
import sys

import nibabel as nib
import numpy as np

if len(sys.argv) != 3:
    sys.exit(__doc__)
case, out = sys.argv[1], sys.argv[2]
src = nib.load(os.path.join(case, "concentration.nii.gz"))
c = np.asarray(src.dataobj, dtype=np.float32)
if c.ndim != 3 or not np.isfinite(c).all() or c.min() < 0 or c.max() > 1:
    sys.exit(f"{case}/concentration.nii.gz: expected a 3-D concentration in [0, 1]")
# RAS -> LPS: flip array axes 0 and 1; the affine maps the flipped indices to the same world points.
flip = np.diag([-1.0, -1.0, 1.0, 1.0])
flip[0, 3], flip[1, 3] = c.shape[0] - 1, c.shape[1] - 1
affine = src.affine @ flip
c = c[::-1, ::-1, :].copy()
seg = np.zeros(c.shape, np.uint8)
seg[c >= 0.2] = 3
seg[c >= 0.6] = 1
seg[c >= 0.97] = 4
os.makedirs(out, exist_ok=True)
for name, img in (("segmentation.nii.gz", nib.Nifti1Image(seg, affine)), ("true_concentration.nii.gz", nib.Nifti1Image(c, affine))):
    tmp = os.path.join(out, ".tmp-" + name)
    img.header.set_xyzt_units("mm")
    nib.save(img, tmp)
    os.replace(tmp, os.path.join(out, name))
info = {"made_from": os.path.abspath(case), "orientation": "LPS (first two array axes flipped)",
        "labels": {"1": "enhancing (c >= 0.6)", "3": "edema (0.2 <= c < 0.6)", "4": "necrotic (c >= 0.97)"},
        "voxels": {"edema": int((seg == 3).sum()), "enhancing": int((seg == 1).sum()), "necrotic": int((seg == 4).sum())}}
with open(os.path.join(out, "params.json"), "w") as f:
    json.dump(info, f, indent=1)
print(f"{out}: {info['voxels']}")
