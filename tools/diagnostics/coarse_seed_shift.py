#!/usr/bin/env python3
"""Is the seed-follow bar reachable at the networks' 4 mm grid? Runs the numerical solver at the seed-follow
check's hand-picked seeds and their 12 mm moves (tests/invert/test_shipped_surrogate.cpp: the same tissue
maps, seeds, D_w = 0.2 mm²/day, ρ = 0.12 /day, T = 100 days) twice: on the 2 mm tissue, and on the same tissue
averaged over 2×2×2 blocks (4 mm, what the surrogate sees). If the 4 mm solver's tumor moves like the 2 mm
solver's, the anatomy that bends the shift is resolved at 4 mm, and a surrogate that misses it is limited by
what it learned, not by its grid. Prints one line per move and a summary (mm).
Usage: tools/diagnostics/coarse_seed_shift.py [--max-diff-mm MM] [TUMORFORGE [SHARED_DIR]]
(defaults: build/tumorforge, ../shared; needs nibabel and numpy). With --max-diff-mm it is a check (the test
invert.seed_shift_resolved_at_4mm): exit 1 if any move's two shifts differ by more than MM, 77 (skipped) when
SHARED_DIR is absent."""
import os
import subprocess
import sys
import tempfile

import nibabel as nib
import numpy as np

args = sys.argv[1:]
max_diff = None
if args[:1] == ["--max-diff-mm"]:
    try:
        max_diff, args = float(args[1]), args[2:]
    except (IndexError, ValueError):
        sys.exit("--max-diff-mm: expected a number of millimetres")
tf = args[0] if len(args) > 0 else "build/tumorforge"
shared = args[1] if len(args) > 1 else "../shared"
DW, RHO, T = 0.2, 0.12, 100  # the seed-follow check's tumor: μ_D ≈ 4.5 mm, μ_ρ ≈ 3.5
STEP = 6  # 12 mm at 2 mm


def block_mean(a):
    s = [d // 2 * 2 for d in a.shape]
    a = a[: s[0], : s[1], : s[2]]
    return a.reshape(s[0] // 2, 2, s[1] // 2, 2, s[2] // 2, 2).mean(axis=(1, 3, 5))


def com_mm(path):
    """Centre of mass in mm from the 2 mm grid's voxel (0,0,0) centre (a 4 mm voxel 0's centre is at 1 mm)."""
    img = nib.load(path)
    c = np.asarray(img.dataobj, np.float64)
    h = abs(img.affine[0, 0])
    g = np.indices(c.shape).reshape(3, -1) * h
    return (g * c.reshape(-1)).sum(1) / c.sum() + (h - 2.0) / 2


def main():
    ref = f"{shared}/reference/fk/tissue_2mm"
    if not os.path.isdir(ref):
        print(f"{ref}: not found (the shared data beside the checkout); skipped")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        vols = {n: nib.load(f"{ref}/{n}.nii.gz") for n in ("wm", "gm", "csf")}
        data = {n: np.asarray(v.dataobj, np.float32) for n, v in vols.items()}
        for n, v in vols.items():
            a4 = np.ascontiguousarray(block_mean(data[n]), np.float32)
            aff = v.affine.copy()
            aff[:3, :3] *= 2
            nib.save(nib.Nifti1Image(a4, aff), f"{tmp}/{n}4.nii.gz")
            nib.save(nib.Nifti1Image(data[n], v.affine), f"{tmp}/{n}2.nii.gz")

        def run(res, seed_vox2, tag):
            out = f"{tmp}/{tag}_{res}.nii.gz"
            tissue = " ".join(f"--{n} {tmp}/{n}{res}.nii.gz" for n in ("wm", "gm", "csf"))
            # seed in mm from the grid's voxel (0,0,0) centre; the 4 mm grid's is 1 mm past the 2 mm grid's
            seed = ",".join(str(2.0 * v - (1.0 if res == 4 else 0.0)) for v in seed_vox2)
            subprocess.run(f"{tf} --log-level warn simulate {tissue} --seed-mm {seed} --dw {DW} --rho {RHO} "
                           f"--stop-time {T} --out {out}", shell=True, check=True)
            return com_mm(out)

        wm, gm = data["wm"], data["gm"]
        idx = np.argwhere(wm >= 0.5)  # the test's seed: the nearest voxel with WM >= 0.5
        diffs = []
        for name, near in {"atlas right hemisphere": (75, 50, 40), "atlas left hemisphere": (45, 70, 35)}.items():
            s0 = idx[((idx - np.array(near)) ** 2).sum(1).argmin()]
            base = {res: run(res, s0, "base") for res in (2, 4)}
            for axis in range(3):
                for sign in (-1, 1):
                    s1 = s0.copy()
                    s1[axis] += sign * STEP
                    if wm[tuple(s1)] + gm[tuple(s1)] < 0.5:  # the test's rule: moves stay in tissue
                        continue
                    shift = {res: run(res, s1, "moved") - base[res] for res in (2, 4)}
                    d = float(np.linalg.norm(shift[4] - shift[2]))
                    diffs.append(d)
                    print(f"{name} axis {axis}{'+' if sign > 0 else '-'}: 2 mm solver shift {np.round(shift[2], 1)} "
                          f"({np.linalg.norm(shift[2]):.2f} mm), 4 mm solver {np.round(shift[4], 1)} "
                          f"({np.linalg.norm(shift[4]):.2f} mm): differ by {d:.2f} mm", flush=True)
        print(f"{len(diffs)} moves: the 4 mm solver's shift differs from the 2 mm solver's by {np.mean(diffs):.2f} mm "
              f"on average, at most {np.max(diffs):.2f} mm")
        if max_diff is not None and np.max(diffs) > max_diff:
            sys.exit(f"a move's 4 mm and 2 mm solver shifts differ by {np.max(diffs):.2f} mm, more than {max_diff} mm")


if __name__ == "__main__":
    main()
