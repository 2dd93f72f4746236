"""zarr-python side of the interop tests (Debian's python3-zarr).

  interop.py read DIR    every array tumorforge wrote under DIR equals the shared pattern (dtype kept)
  interop.py write DIR   writes arrays with zarr-python for tumorforge to read: blosc lz4/zstd, zlib, none,
                         both dimension separators, edge chunks, and a partly written array (fill_value)"""
import os, sys
import numpy as np
import zarr
from numcodecs import Blosc, Zlib

SHAPE, CHUNKS = (7, 10, 13), (3, 4, 5)


def pattern(dtype):
    n = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    if dtype.kind == "u":
        return (n % 250).astype(dtype)
    if dtype.kind == "i":
        return (n % 200 - 100).astype(dtype)
    return ((n % 1000) * 0.25 - 100.0).astype(dtype)


def read(root):
    names = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, ".zarray")))
    assert len(names) == 64, f"expected 64 arrays, found {len(names)}"
    for name in names:
        a = zarr.open_array(os.path.join(root, name), mode="r")
        want = pattern(a.dtype)
        got = a[:]
        assert got.dtype == want.dtype and np.array_equal(got, want), f"{name}: values differ"
    print(f"zarr-python read {len(names)} tumorforge arrays exactly")


def write(root):
    compressors = {"blosc-lz4": Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE),
                   "blosc-zstd": Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE),
                   "zlib": Zlib(level=6), "none": None}
    count = 0
    for dt in ["u1", "i2", "u2", "i4", "i8", "f2", "f4", "f8"]:
        for cname, comp in compressors.items():
            for sep, tag in [(".", "dot"), ("/", "slash")]:
                path = os.path.join(root, f"{dt}_{cname}_{tag}")
                a = zarr.open_array(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype=np.dtype("<" + dt if dt != "u1" else dt),
                                    compressor=comp, dimension_separator=sep, fill_value=0)
                a[:] = pattern(a.dtype)
                count += 1
    # Half the elements written (in flat C order); the rest must read as fill_value, here NaN.
    a = zarr.open_array(os.path.join(root, "f4_partial"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="<f4",
                        compressor=Blosc(cname="lz4"), fill_value=np.nan)
    flat = pattern(np.dtype("<f4")).ravel().copy()
    half = flat.size // 2
    # Write only whole chunks that lie entirely in the first half, element-wise for the rest of the first half.
    full = np.full(flat.size, np.nan, dtype="<f4")
    full[:half] = flat[:half]
    a[:] = full.reshape(SHAPE)
    # Remove the chunks that hold nothing but fill_value so they are really missing on disk.
    for key in list(a.store.keys()):
        if key.startswith(".z"):
            continue
        idx = tuple(int(x) for x in key.split("."))
        sl = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, CHUNKS, SHAPE))
        if np.isnan(a[sl]).all():
            del a.store[key]
    count += 1
    print(f"zarr-python wrote {count} arrays")


if __name__ == "__main__":
    {"read": read, "write": write}[sys.argv[1]](sys.argv[2])
