#!/usr/bin/env python3
"""Scores an inversion of a patient whose true concentration is known (../shared/data/patients/*, or one made by
tools/patients/from_reference.py): Dice of the final run against the visible tumor (c >= 0.2) and the core
(c >= 0.6) of the truth, NCC against the true concentration (which invert never sees), and the distance in mm
between the centres of mass of the two visible tumors. Prints one JSON line.
Usage: tools/patients/score.py PATIENT_DIR INVERT_OUT_DIR"""
import json
import sys

import nibabel as nib
import numpy as np

if len(sys.argv) != 3:
    sys.exit(__doc__)
patient, inv = sys.argv[1], sys.argv[2]
t_img = nib.load(f"{patient}/true_concentration.nii.gz")
c_img = nib.load(f"{inv}/concentration.nii.gz")
if t_img.shape != c_img.shape or not np.allclose(t_img.affine, c_img.affine):
    sys.exit(f"{inv}/concentration.nii.gz: not on the patient's grid")
t = np.asarray(t_img.dataobj, np.float64)
c = np.asarray(c_img.dataobj, np.float64)


def dice(a, b):
    s = a.sum() + b.sum()
    return float(2 * (a & b).sum() / s) if s else 1.0


def com_mm(m):
    idx = np.argwhere(m).mean(axis=0)
    return t_img.affine[:3, :3] @ idx + t_img.affine[:3, 3]


r = json.load(open(f"{inv}/result.json"))
print(json.dumps({"patient": patient, "method": r.get("method"), "kept": r.get("chosen_stage"),
                  "dice_visible": round(dice(c >= 0.2, t >= 0.2), 3), "dice_core": round(dice(c >= 0.6, t >= 0.6), 3),
                  "ncc_true": round(float(np.corrcoef(c.ravel(), t.ravel())[0, 1]), 3),
                  "com_distance_mm": round(float(np.linalg.norm(com_mm(c >= 0.2) - com_mm(t >= 0.2))), 1)}))
