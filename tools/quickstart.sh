#!/usr/bin/env bash
# The README's first command: install dependencies, build, then run `tumorforge quickstart` — a held-out test
# set on the built-in phantom, inversion of a few cases with the shipped checkpoints (direct and hybrid), a
# short surrogate training, and runs/quickstart/report.md with figures. Extra arguments go to the quickstart
# (e.g. --no-train, --force, --atlas FILE). Stages are cached: a second run only rewrites the report.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
./build/tumorforge quickstart --out runs/quickstart "$@"
