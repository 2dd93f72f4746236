"""Checks a `tumorforge simulate` run: the NIfTI opens with nibabel, c is finite and in [0, 1], zero outside
tissue, and the summary holds the documented keys with values consistent with the volume."""
import json, sys
import nibabel as nib
import numpy as np

out, summary_path, wm_path, gm_path = sys.argv[1:5]
c = np.asarray(nib.load(out).dataobj, dtype=np.float64)
s = json.load(open(summary_path))
for key in ["steps", "dt_days", "final_time_days", "final_volume_mm3", "stop_reason", "wall_seconds", "config", "provenance"]:
    assert key in s, f"summary lacks {key}"
assert s["stop_reason"] in ("time", "volume")
assert np.isfinite(c).all() and c.min() >= 0 and c.max() <= 1, "c outside [0, 1]"
matter = np.asarray(nib.load(wm_path).dataobj) + np.asarray(nib.load(gm_path).dataobj) >= s["config"]["solver"]["th_matter"]
assert (c[~matter] == 0).all(), "tumor outside tissue"
vox = float(np.prod(nib.load(out).header.get_zooms()[:3]))
assert abs(c.sum() * vox - s["final_volume_mm3"]) <= 1e-4 * s["final_volume_mm3"], "volume mismatch"
assert all(v.startswith("sha256:") for v in s["provenance"]["inputs"].values()) and len(s["provenance"]["inputs"]) >= 2
print("ok", s["steps"], s["final_time_days"], s["final_volume_mm3"])
