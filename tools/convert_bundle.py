#!/usr/bin/env python3
"""Converts a model bundle to the current layout, or reseals one after a deliberate edit.
Current layout: fixed-length UTF-8 string attributes (tumorforge reads them without touching HDF5's global heap)
and a seal — a 512-byte HDF5 user block holding the SHA-256 and length of the HDF5 data after it, which
tumorforge checks before libhdf5 reads the file (models/bundle_seal.h). Bundles written before December 2026
lack one or both. Weights and every attribute's text are copied unchanged; the file is written to a temp name
and renamed.
Usage: tools/convert_bundle.py OLD.h5 [NEW.h5]   (without NEW.h5 the file is converted in place)"""
import hashlib
import os
import sys

import h5py
import numpy as np

SEAL_BYTES = 512
SEAL_MAGIC = b"tumorforge.model_bundle.seal/1\n"


def seal(path):
    with open(path, "r+b") as f:
        f.seek(SEAL_BYTES)
        data = f.read()
        text = SEAL_MAGIC + b"sha256 %s\nhdf5_bytes %d\n" % (hashlib.sha256(data).hexdigest().encode(), len(data))
        f.seek(0)
        f.write(text.ljust(SEAL_BYTES, b"\0"))


if len(sys.argv) not in (2, 3):
    sys.exit(__doc__)
src = sys.argv[1]
dst = sys.argv[2] if len(sys.argv) == 3 else src
tmp = os.path.join(os.path.dirname(os.path.abspath(dst)), ".tmp-convert-" + os.path.basename(dst))
with h5py.File(src, "r") as f, h5py.File(tmp, "w", userblock_size=SEAL_BYTES) as g:
    for name, value in f.attrs.items():
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        data = text.encode("utf-8") or b"\0"
        tid = h5py.h5t.C_S1.copy()
        tid.set_size(len(data))
        tid.set_strpad(h5py.h5t.STR_NULLPAD)
        tid.set_cset(h5py.h5t.CSET_UTF8)
        g.attrs.create(name, np.frombuffer(data, dtype=f"S{len(data)}")[0], dtype=h5py.Datatype(tid))
    w = g.create_group("weights")
    for name, ds in f["weights"].items():
        w.create_dataset(name, data=ds[()].astype("<f4"))
seal(tmp)
os.replace(tmp, dst)
print(f"converted {src} -> {dst} (sealed)")
