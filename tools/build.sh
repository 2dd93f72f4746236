#!/usr/bin/env bash
# Configures and builds tumorforge into ./build (Release). Extra arguments go to CMake, e.g.
#   tools/build.sh -DTUMORFORGE_WITH_TORCH=OFF          (CPU-cluster node: solver + datagen only)
#   tools/build.sh -DTorch_DIR=/opt/libtorch/share/cmake/Torch   (official CUDA LibTorch 2.x)
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ -f build/CMakeCache.txt ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}" build/CMakeCache.txt; then
  rm -rf build  # generator changed since the last configure
fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
