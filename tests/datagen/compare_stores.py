"""compare_stores.py A B: every array of two dataset stores is identical (wall-clock stats excepted)."""
import os, sys
import numpy as np
import zarr

a, b = zarr.open_group(sys.argv[1], mode="r"), zarr.open_group(sys.argv[2], mode="r")
names = []
a.visit(lambda name: names.append(name) if isinstance(a[name], zarr.Array) else None)
assert names, "no arrays"
for name in sorted(names):
    x, y = a[name][:], b[name][:]
    if name == "stats":  # column 1 is the wall time of each run
        x, y = np.delete(x, 1, axis=1), np.delete(y, 1, axis=1)
    assert x.dtype == y.dtype and x.shape == y.shape, name
    assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"array {name} differs"
assert (a["status"][:] > 0).all(), "pending samples left"
fa, fb = sorted(os.listdir(os.path.join(sys.argv[1], "failures"))), sorted(os.listdir(os.path.join(sys.argv[2], "failures")))
assert fa == fb, "different failed samples"
print(f"{len(names)} arrays identical; {len(a['status'])} samples, {len(fa) - 1 if '.zgroup' in fa else len(fa)} failed")
