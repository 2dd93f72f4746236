#!/usr/bin/env bash
# The README's first command: install dependencies, build, then run the main job on the built-in default
# anatomy. Today that is a Fisher-Kolmogorov simulation on the phantom brain; results land in runs/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
out=runs/quickstart
mkdir -p "$out"
./build/tumorforge phantom --size 96 --spacing 2 --out "$out/phantom"
./build/tumorforge simulate --wm "$out/phantom/wm.nii.gz" --gm "$out/phantom/gm.nii.gz" --csf "$out/phantom/csf.nii.gz" \
  --seed-voxel 60,56,50 --dw 0.8 --rho 0.15 --stop-time 200 --stop-volume 40000 \
  --out "$out/concentration.nii.gz" --summary "$out/summary.json"
echo "quickstart: tumor concentration in $out/concentration.nii.gz, run summary in $out/summary.json"
