#!/usr/bin/env python3
"""Solver benchmark: runs the C++ bench (STREAM triad, FK steps on the 1 mm atlas and a 128^3 phantom with 1 and 2
threads), times the numpy reference on the same tissue boxes in the same run, prints a table and writes JSON.

  /usr/bin/python3 tools/bench/solver/run.py [--atlas FILE] [--tgt PATH_TO_TumorGrowthToolkit] [--out FILE]

--tgt times a TumorGrowthToolkit checkout's own FK update (needs scipy) instead of reference_numpy.py."""
import argparse, json, os, pathlib, platform, subprocess, sys, tempfile, time

import numpy as np
import nibabel as nib

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE))
import reference_numpy  # noqa: E402


def matter_box(wm, gm, th):
    idx = np.argwhere(wm + gm >= th)
    lo, hi = np.maximum(idx.min(0) - 1, 0), np.minimum(idx.max(0) + 2, wm.shape)
    return tuple(slice(a, b) for a, b in zip(lo, hi))


def make_stepper(tgt, wm, gm, spacing):
    dw, rho, ratio, th = 0.5, 0.2, 10.0, 0.1
    dt = 10.0 / (10.0 * dw / min(spacing) ** 2 * 8 + 100)
    if tgt:
        sys.path.insert(0, tgt)
        from TumorGrowthToolkit.FK import Solver  # the user's checkout
        solver = Solver({})
        faces = solver.get_D(wm, gm, th, dw, ratio)

        def step(c):
            c = solver.FK_update(c, faces, rho, dt, *spacing)
            return c, float(np.prod(spacing) * np.sum(c))
        return step
    faces = reference_numpy.face_diffusivities(wm, gm, th, dw, ratio)
    return lambda c: reference_numpy.fk_step(c, faces, rho, dt, spacing)


def time_reference(wm, gm, spacing, seed, tgt, steps=5):
    box = matter_box(wm, gm, 0.1)
    wm, gm = wm[box].astype(np.float64), gm[box].astype(np.float64)
    c = np.zeros_like(wm)
    s = [seed[a] - box[a].start for a in range(3)]
    c[s[0] - 2:s[0] + 3, s[1] - 2:s[1] + 3, s[2] - 2:s[2] + 3] = 0.5
    step = make_stepper(tgt, wm, gm, spacing)
    c, _ = step(c)  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        c, _ = step(c)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), int(wm.size)


def load_case(name, args, build, tmp):
    if name == "atlas_1mm":
        labels = np.rint(np.asarray(nib.load(args.atlas).dataobj))
        return (labels == 3).astype(np.float32), (labels == 2).astype(np.float32), (1.0, 1.0, 1.0)
    subprocess.run([str(build / "tumorforge"), "--log-level", "warn", "phantom", "--size", "128", "--spacing", "1.5",
                    "--out", str(tmp / "p128")], check=True)
    wm = np.asarray(nib.load(tmp / "p128" / "wm.nii.gz").dataobj)
    gm = np.asarray(nib.load(tmp / "p128" / "gm.nii.gz").dataobj)
    return wm, gm, (1.5, 1.5, 1.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"), help="build folder with tumorforge and the bench binary")
    ap.add_argument("--atlas", default=str(ROOT.parent / "shared/data/atlas/mni152_sri24_tissue_labels.nii.gz"),
                    help="1 mm label map (0 bg, 1 CSF, 2 GM, 3 WM); skipped if missing")
    ap.add_argument("--tgt", default="", help="path to a TumorGrowthToolkit checkout to time instead of numpy")
    ap.add_argument("--out", default=str(ROOT / "build/bench/solver.json"))
    args = ap.parse_args()
    build = pathlib.Path(args.build)
    exe = build / "tools/bench/solver/tumorforge_bench_solver"
    if not exe.exists():
        sys.exit(f"run.py: {exe} not found; build first (tools/build.sh)")
    atlas = args.atlas if os.path.exists(args.atlas) else ""
    cpp = json.loads(subprocess.run([str(exe), atlas], check=True, capture_output=True, text=True).stdout)

    reference = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted({r["case"] for r in cpp["solver"]}):
            wm, gm, spacing = load_case(name, args, build, pathlib.Path(tmp))
            s, box = time_reference(wm, gm, spacing, cpp["seeds"][name], args.tgt)
            reference[name] = {"seconds_per_step": s, "voxels": box,
                               "implementation": "TumorGrowthToolkit " + args.tgt if args.tgt else "reference_numpy.py (float64)"}

    triad = {t["threads"]: t["gb_per_s"] for t in cpp["triad"]}
    rows = []
    for r in cpp["solver"]:
        ref = reference[r["case"]]
        r["triad_gb_per_s"] = triad[r["threads"]]
        r["fraction_of_triad"] = r["achieved_gb_per_s"] / triad[r["threads"]]
        r["reference_seconds_per_step"] = ref["seconds_per_step"]
        r["speedup_vs_reference"] = ref["seconds_per_step"] / r["seconds_per_step"]
        rows.append(r)
    header = f"{'case':<12} {'thr':>3} {'ms/step':>8} {'steps/s':>8} {'Mvox-upd/s':>11} {'GB/s':>6} {'triad':>6} {'%triad':>7} {'ref ms/step':>12} {'speedup':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['case']:<12} {r['threads']:>3} {1e3 * r['seconds_per_step']:>8.3f} {r['steps_per_s']:>8.0f} "
              f"{r['voxel_updates_per_s'] / 1e6:>11.0f} {r['achieved_gb_per_s']:>6.1f} {r['triad_gb_per_s']:>6.1f} "
              f"{100 * r['fraction_of_triad']:>6.0f}% {1e3 * r['reference_seconds_per_step']:>12.1f} {r['speedup_vs_reference']:>7.0f}x")
    print(f"bytes per voxel update: {cpp['bytes_per_update_model']}; reference: {next(iter(reference.values()))['implementation']}")
    result = {"machine": {"host": platform.node(), "cpus": os.cpu_count(), "processor": platform.processor()},
              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "triad": cpp["triad"], "solver": rows, "reference": reference,
              "bytes_per_update_model": cpp["bytes_per_update_model"]}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(out.name + ".tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n")
    tmp_out.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
