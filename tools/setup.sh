#!/usr/bin/env bash
# Installs every Debian 12 package tumorforge needs (build, tests, benchmarks, Python interop checks).
# Idempotent: packages already present are skipped, so re-running costs a few seconds.
# Run as root (or with sudo available). Set TUMORFORGE_NO_TORCH=1 on CPU-cluster nodes that only run
# the solver/datagen stages: LibTorch is then not installed. TUMORFORGE_NO_SLURM=1 leaves out SLURM (its test
# is then reported as skipped).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtbb-dev libhdf5-dev libcli11-dev libspdlog-dev libfmt-dev doctest-dev nlohmann-json3-dev
  libblosc-dev libzstd-dev liblz4-dev zlib1g-dev libnifti2-dev libpng-dev
  python3 python3-numpy python3-nibabel python3-zarr python3-h5py python3-cmaes python3-scipy
  clang libclang-rt-14-dev   # tools/fuzz.sh: libFuzzer with ASan/UBSan (a short run is part of the tests)
)
if [[ "${TUMORFORGE_NO_TORCH:-0}" != "1" ]]; then
  # libopenblas0-openmp: without it libtorch falls back to reference BLAS (~40x slower sgemm).
  # libgloo-dev: the headers of c10d's Gloo backend, for data-parallel training (train/distributed.h).
  packages+=(libtorch-dev libopenblas0-openmp libgloo-dev)
fi
if [[ "${TUMORFORGE_NO_SLURM:-0}" != "1" ]]; then
  # SLURM and munge: tests/slurm starts a private one-node cluster to run tools/slurm/*.sbatch for real.
  packages+=(slurm-wlm munge)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ "$(id -u)" != "0" ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo_cmd=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
