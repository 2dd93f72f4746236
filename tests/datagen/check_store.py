"""check_store.py STORE: zarr-python reads a tumorforge dataset; the arrays agree with each other and the
documented layout (a loader's view: tissue crops cut from the atlas by crop_origin)."""
import sys
import numpy as np
import zarr

g = zarr.open_group(sys.argv[1], mode="r")
attrs = g.attrs.asdict()
assert attrs["layout"] == "tumorforge.fk_dataset" and attrs["layout_version"] == 1
n, e = g["concentration"].shape[0], g["concentration"].shape[1]
c = g["concentration"][:]
assert c.dtype == np.float16 and c.shape == (n, e, e, e)
status = g["status"][:]
assert (status > 0).all(), "pending samples"
done = status == 1
assert done.sum() >= n - 1
assert np.isfinite(c[done]).all() and c.min() >= 0 and c.max() <= 1
params, theta, origin, stats = g["params"][:], g["theta"][:], g["crop_origin"][:], g["stats"][:]
assert np.allclose(theta[done, 3], np.sqrt(params[done, 3] * params[done, 5]), rtol=1e-5)
assert np.allclose(theta[done, 4], np.sqrt(params[done, 4] * params[done, 5]), rtol=1e-5)
lo, hi = np.array(attrs["theta_range"]["lo"]), np.array(attrs["theta_range"]["hi"])
assert ((theta[done] >= lo) & (theta[done] <= hi)).all(), "theta outside its normalization range"
vox = np.prod(attrs["store_grid"]["spacing_mm"])
wm, gm = g["atlas/wm"][0], g["atlas/gm"][0]
th = attrs["config"]["th_matter"]
for i in np.flatnonzero(done):
    o = origin[i]
    pad = [(max(0, -o[a]), max(0, o[a] + e - wm.shape[a])) for a in range(3)]
    sl = tuple(slice(max(0, o[a]), min(wm.shape[a], o[a] + e)) for a in range(3))
    matter = np.pad(wm[sl] + gm[sl], pad) >= th
    assert (c[i][~matter] == 0).all(), f"sample {i}: tumor outside tissue (crop_origin inconsistent)"
    com = np.array(np.nonzero(c[i] > 0)).mean(axis=1)
    assert np.abs(com - (e - 1) / 2).max() < e / 4, f"sample {i}: crop not centred on the tumor"
    # volume in the crop can only be below the full tumor's (the crop may cut it)
    assert c[i].astype(np.float64).sum() * vox <= stats[i, 2] * 1.01
print(f"zarr-python read {n} samples ({done.sum()} done): float16 {e}^3 crops, consistent theta/params/crop_origin")
