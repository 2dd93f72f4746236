#!/usr/bin/env python3
"""Data-parallel training benchmark: steps/s and samples/s of `tumorforge train` with 1 rank and with 2 ranks over
Gloo on this machine (one LibTorch thread per rank, the same global batch), and the seconds per step each rank
spends in collectives (the loss count, the gradient all-reduce, the loss/stop message; waiting for a slower rank
included). Both runs in one invocation, so the ratio is what to read on a noisy machine. Prints a table, writes
JSON.

  /usr/bin/python3 tools/bench/train/run.py [--steps 60] [--batch 4] [--widths 8,16,32,64,128] [--out FILE]"""
import argparse, json, os, pathlib, subprocess, sys, tempfile

ROOT = pathlib.Path(__file__).resolve().parents[3]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tumorforge", default=str(ROOT / "build" / "tumorforge"))
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=4, help="global batch (a multiple of 2)")
    ap.add_argument("--widths", default="8,16,32,64,128", help="the shipped surrogate's widths")
    ap.add_argument("--out", default="bench_train.json")
    a = ap.parse_args()
    tf = a.tumorforge
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "s.zarr")
        subprocess.run([tf, "--log-level", "warn", "datagen", "init", "--preset", "dev", "--n-samples", "32", "--phantom", "64",
                        "--phantom-spacing", "2", "--sim-spacing", "2", "--spacing", "4", "--crop", "32",
                        "--stop-volume-max", "40000", "--out", store], check=True)
        subprocess.run([tf, "--log-level", "warn", "datagen", "run", store], check=True)
        rows = []
        for ranks in (1, 2):
            run = os.path.join(tmp, f"r{ranks}")
            cmd = [tf, "--log-level", "warn", "train", "--model", "surrogate", "--widths", a.widths, "--train", store,
                   "--val", store, "--val-limit", "4", "--val-every", str(10 * a.steps), "--log-every", str(a.steps // 3),
                   "--batch", str(a.batch), "--max-steps", str(a.steps), "--threads", "1", "--loader-threads", "1",
                   "--device", "cpu", "--out", run]
            if ranks > 1:
                cmd = [str(ROOT / "tools" / "launch_local.sh"), str(ranks)] + cmd
            subprocess.run(cmd, check=True)
            recs = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
            recs = [r for r in recs if r["kind"] == "train"][1:]  # the first interval includes start-up
            sps = sum(r["samples_per_s"] for r in recs) / len(recs)
            comm = sum(r["comm_s_per_step"] for r in recs) / len(recs)
            rows.append({"ranks": ranks, "threads_per_rank": 1, "global_batch": a.batch, "samples_per_s": sps,
                         "steps_per_s": sps / a.batch, "comm_s_per_step": comm})
    rows[1]["speedup_vs_1_rank"] = rows[1]["samples_per_s"] / rows[0]["samples_per_s"]
    print(f"{'ranks':>5} {'samples/s':>10} {'steps/s':>8} {'collectives s/step':>19}")
    for r in rows:
        print(f"{r['ranks']:>5} {r['samples_per_s']:>10.2f} {r['steps_per_s']:>8.3f} {r['comm_s_per_step']:>19.4f}")
    print(f"2 ranks / 1 rank: {rows[1]['speedup_vs_1_rank']:.2f}x (widths {a.widths}, 32^3 crops, one thread per rank)")
    json.dump({"rows": rows, "widths": a.widths, "steps": a.steps, "cores": os.cpu_count()}, open(a.out, "w"), indent=2)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    sys.exit(main())
