#!/usr/bin/env python3
"""Datagen benchmark: samples/hour at the dev preset and at the paper's setting (1 mm atlas, crop 128^3), how the
time splits between solving, cropping and writing, bytes per sample on disk, and chunk-write throughput of
tumorforge against zarr-python on the same arrays with the same compressor, all in one run. Prints a table,
writes JSON.

  /usr/bin/python3 tools/bench/datagen/run.py [--atlas FILE] [--dev-samples 128] [--paper-samples 32] [--out FILE]"""
import argparse, glob, json, os, pathlib, shutil, subprocess, sys, tempfile, time

import numpy as np
import zarr
from numcodecs import Blosc

ROOT = pathlib.Path(__file__).resolve().parents[3]


def dir_bytes(path):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(path, "**", "*"), recursive=True) if os.path.isfile(p))


def run_case(tf, name, init_args, tmp, threads):
    store = os.path.join(tmp, name + ".zarr")
    subprocess.run([tf, "--log-level", "warn", "datagen", "init", *init_args, "--out", store], check=True)
    t0 = time.perf_counter()
    subprocess.run([tf, "--log-level", "warn", "datagen", "run", store, "--threads", str(threads)], check=True)
    wall = time.perf_counter() - t0
    summary = json.load(open(sorted(glob.glob(os.path.join(store, "runs", "*.json")))[-1]))["summary"]
    n = summary["done"] + summary["failed"]
    work = summary["solve_seconds"] + summary["crop_seconds"] + summary["write_seconds"]
    return store, {
        "case": name, "samples": n, "failed": summary["failed"], "threads": threads, "wall_seconds": wall,
        "samples_per_hour": 3600 * n / wall,
        "core_seconds_per_sample": work / n,
        "solve_fraction": summary["solve_seconds"] / work, "crop_fraction": summary["crop_seconds"] / work,
        "write_fraction": summary["write_seconds"] / work,
        "bytes_per_sample": dir_bytes(os.path.join(store, "concentration")) / n,
        "projected_hours_30000_on_64_cores": 30000 * work / n / 64 / 3600,
    }


def write_throughput(build, store, tmp):
    cpp = json.loads(subprocess.run([str(build / "tools/bench/datagen/tumorforge_bench_datagen_write"), store,
                                     os.path.join(tmp, "copy_tf")], check=True, capture_output=True, text=True).stdout)
    src = zarr.open_array(os.path.join(store, "concentration"), mode="r")
    data = src[:]
    dst = zarr.open_array(os.path.join(tmp, "copy_py"), mode="w", shape=src.shape, chunks=src.chunks, dtype=src.dtype,
                          compressor=src.compressor, fill_value=0)
    t0 = time.perf_counter()
    for i in range(src.shape[0]):  # one sample (= one chunk) at a time, as a generator would write
        dst[i] = data[i]
    py = time.perf_counter() - t0
    raw = data.nbytes
    return {"compressor": src.compressor.get_config(), "tumorforge_mb_per_s": cpp["mb_per_s"],
            "zarr_python_mb_per_s": raw / py / 1e6, "ratio": cpp["mb_per_s"] / (raw / py / 1e6)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--atlas", default=str(ROOT.parent / "shared/data/atlas/mni152_sri24_tissue_labels.nii.gz"))
    ap.add_argument("--dev-samples", type=int, default=128)
    ap.add_argument("--paper-samples", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=str(ROOT / "build/bench/datagen.json"))
    args = ap.parse_args()
    build = pathlib.Path(args.build)
    tf = str(build / "tumorforge")
    anatomy = ["--tissue-labels", args.atlas] if os.path.exists(args.atlas) else []
    rows, throughput = [], None
    with tempfile.TemporaryDirectory() as tmp:
        store, row = run_case(tf, "dev", ["--preset", "dev", "--n-samples", str(args.dev_samples)], tmp, args.threads)
        rows.append(row)
        throughput = write_throughput(build, store, tmp)
        _, row = run_case(tf, "paper_1mm_atlas" if anatomy else "paper_1mm_phantom",
                          ["--preset", "paper", "--n-samples", str(args.paper_samples), *anatomy], tmp, args.threads)
        rows.append(row)
    hdr = f"{'case':<18} {'n':>4} {'samples/h':>10} {'core-s/sample':>14} {'solve':>6} {'crop':>6} {'write':>6} {'kB/sample':>10} {'h for 30k on 64 cores':>22}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['case']:<18} {r['samples']:>4} {r['samples_per_hour']:>10.0f} {r['core_seconds_per_sample']:>14.2f} "
              f"{100 * r['solve_fraction']:>5.1f}% {100 * r['crop_fraction']:>5.1f}% {100 * r['write_fraction']:>5.1f}% "
              f"{r['bytes_per_sample'] / 1e3:>10.1f} {r['projected_hours_30000_on_64_cores']:>22.2f}")
    t = throughput
    print(f"chunk writes ({t['compressor']['cname'] if 'cname' in t['compressor'] else t['compressor']['id']}, dev arrays): "
          f"tumorforge {t['tumorforge_mb_per_s']:.0f} MB/s, zarr-python {t['zarr_python_mb_per_s']:.0f} MB/s "
          f"(ratio {t['ratio']:.1f}x)")
    print("projection: core-seconds per sample x 30000 / 64 cores; assumes linear scaling over cores (the solver is "
          "memory-bound, so a real node may fall short)")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_name(out.name + ".tmp").write_text(json.dumps({"cases": rows, "write_throughput": throughput,
                                                            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                            "cpus": os.cpu_count()}, indent=2) + "\n")
    out.with_name(out.name + ".tmp").replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
